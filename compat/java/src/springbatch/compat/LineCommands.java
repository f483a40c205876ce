package springbatch.compat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;

/**
 * The JSON-lines commands: one JSON object per input line, one JSON line out per input line,
 * in order. A line that fails gives {@code {"id":..,"error":"<message>"}} and the loop goes on.
 */
final class LineCommands {

    interface Handler {
        Map<String, Object> handle(Map<String, Object> request) throws Exception;
    }

    private LineCommands() {
    }

    static Handler handler(String command) {
        switch (command) {
            case "contexts-read":
                return LineCommands::contextsRead;
            case "contexts-write":
                return LineCommands::contextsWrite;
            case "job-keys":
                return LineCommands::jobKeys;
            case "parameter-rows":
                return LineCommands::parameterRows;
            default:
                return null;
        }
    }

    static int run(Handler handler) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            Object id = null;
            Map<String, Object> response;
            try {
                Map<String, Object> request = Json.asObject(Json.parse(line), "a request line");
                id = request.get("id");
                response = handler.handle(request);
            } catch (Exception | StackOverflowError e) {
                response = Json.obj("id", id, "error", message(e));
            }
            String text;
            try {
                text = Json.write(response);
            } catch (RuntimeException e) {
                text = Json.write(Json.obj("id", id, "error", message(e)));
            }
            out.print(text);
            out.print('\n');
            out.flush();
        }
        return 0;
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getName() : e.getClass().getSimpleName() + ": " + m;
    }

    private static Map<String, Object> contextsRead(Map<String, Object> request) {
        String base64 = Json.asString(request.get("base64"), "\"base64\"");
        HashMap<String, Object> map = Contexts.deserialize(base64);
        return Json.obj("id", request.get("id"), "value",
                Json.obj("t", "Map", "v", TypedValues.toJsonMembers(map)));
    }

    private static Map<String, Object> contextsWrite(Map<String, Object> request) {
        Object value = TypedValues.toJava(request.get("value"));
        if (!(value instanceof HashMap)) {
            throw new IllegalArgumentException("\"value\" must be a typed Map");
        }
        @SuppressWarnings("unchecked")
        HashMap<String, Object> map = (HashMap<String, Object>) value;
        return Json.obj("id", request.get("id"), "base64", Contexts.serialize(map));
    }

    private static List<JobKeys.Param> parametersInZone(Map<String, Object> request) {
        Object zone = request.get("zone");
        String zoneId = zone == null ? "UTC" : Json.asString(zone, "\"zone\"");
        TimeZone tz = TimeZone.getTimeZone(java.time.ZoneId.of(zoneId));
        TimeZone.setDefault(tz);
        return JobKeys.parse(request.get("parameters"));
    }

    private static Map<String, Object> jobKeys(Map<String, Object> request) {
        List<JobKeys.Param> params = parametersInZone(request);
        String text5 = JobKeys.text5(params);
        String text6 = JobKeys.text6(params);
        return Json.obj("id", request.get("id"), "key5", JobKeys.md5(text5), "key6", JobKeys.md5(text6),
                "text5", text5, "text6", text6);
    }

    private static Map<String, Object> parameterRows(Map<String, Object> request) {
        List<JobKeys.Param> params = parametersInZone(request);
        List<Object> rows = new ArrayList<>();
        for (JobKeys.Param p : JobKeys.byName(params)) {
            rows.add(Json.obj("name", p.name, "type", JobKeys.type(p.value).getName(), "value",
                    JobKeys.databaseValue(p.value), "identifying", p.identifying ? "Y" : "N"));
        }
        return Json.obj("id", request.get("id"), "rows", rows);
    }
}
