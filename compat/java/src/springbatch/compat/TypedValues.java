package springbatch.compat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed JSON values: one JSON object describes one Java value exactly, class included.
 *
 * <pre>
 * {"t":"String","v":"..."}            {"t":"Long"|"Integer"|"Short"|"Byte"|"BigInteger","v":"42"}
 * {"t":"Double","v":"3fe0000000000000"} (raw bits, 16 hex digits)
 * {"t":"Float","v":"3f000000"}         (raw bits, 8 hex digits)
 * {"t":"Boolean","v":true}            {"t":"BigDecimal","unscaled":"150","scale":2}
 * {"t":"Date","v":"1706695200000"}    {"t":"LocalDate","v":"2024-01-31"}
 * {"t":"LocalTime","v":"10:00:00.000000000"}
 * {"t":"LocalDateTime","v":"2024-01-31T10:00:00.000000000"}
 * {"t":"Instant","s":"1706695200","n":0} {"t":"Duration","s":"5","n":0}
 * {"t":"Enum","c":"pkg.Class","v":"CONSTANT"}
 * {"t":"List","v":[...]} (ArrayList)  {"t":"Map","v":{...}} (HashMap, String keys)  {"t":"Null"}
 * </pre>
 */
final class TypedValues {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSSSSS");
    private static final DateTimeFormatter DATE_TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS");

    private TypedValues() {
    }

    /** The Java value a typed JSON value describes. */
    static Object toJava(Object json) {
        Map<String, Object> m = Json.asObject(json, "a typed value");
        String t = Json.asString(m.get("t"), "\"t\"");
        Object v = m.get("v");
        switch (t) {
            case "String":
                return Json.asString(v, "String \"v\"");
            case "Long":
                return Long.valueOf(Json.asText(v, "Long \"v\"").trim());
            case "Integer":
                return Integer.valueOf(Json.asText(v, "Integer \"v\"").trim());
            case "Short":
                return Short.valueOf(Json.asText(v, "Short \"v\"").trim());
            case "Byte":
                return Byte.valueOf(Json.asText(v, "Byte \"v\"").trim());
            case "BigInteger":
                return new BigInteger(Json.asText(v, "BigInteger \"v\"").trim());
            case "Double":
                return Double.longBitsToDouble(hexBits(Json.asString(v, "Double \"v\""), 16));
            case "Float":
                return Float.intBitsToFloat((int) hexBits(Json.asString(v, "Float \"v\""), 8));
            case "Boolean":
                return Json.asBoolean(v, "Boolean \"v\"");
            case "BigDecimal":
                return new BigDecimal(
                        new BigInteger(Json.asText(m.get("unscaled"), "\"unscaled\"").trim()),
                        Math.toIntExact(Json.asLong(m.get("scale"), "\"scale\"")));
            case "Date":
                return new Date(Long.parseLong(Json.asText(v, "Date \"v\"").trim()));
            case "LocalDate":
                return LocalDate.parse(Json.asString(v, "LocalDate \"v\""));
            case "LocalTime":
                return LocalTime.parse(Json.asString(v, "LocalTime \"v\""));
            case "LocalDateTime":
                return LocalDateTime.parse(Json.asString(v, "LocalDateTime \"v\""));
            case "Instant":
                return Instant.ofEpochSecond(
                        Long.parseLong(Json.asText(m.get("s"), "Instant \"s\"").trim()),
                        Json.asLong(m.get("n"), "Instant \"n\""));
            case "Duration":
                return Duration.ofSeconds(
                        Long.parseLong(Json.asText(m.get("s"), "Duration \"s\"").trim()),
                        Json.asLong(m.get("n"), "Duration \"n\""));
            case "Enum":
                return enumConstant(Json.asString(m.get("c"), "Enum \"c\""), Json.asString(v, "Enum \"v\""));
            case "List": {
                ArrayList<Object> list = new ArrayList<>();
                for (Object item : Json.asArray(v, "List \"v\"")) {
                    list.add(toJava(item));
                }
                return list;
            }
            case "Map":
                return toJavaMap(v);
            case "Null":
                return null;
            default:
                throw new IllegalArgumentException("unknown type \"" + t + "\"");
        }
    }

    /** A typed Map's "v" object as a HashMap, put in the JSON member order. */
    static HashMap<String, Object> toJavaMap(Object jsonObject) {
        HashMap<String, Object> map = new HashMap<>();
        for (Map.Entry<String, Object> e : Json.asObject(jsonObject, "Map \"v\"").entrySet()) {
            map.put(e.getKey(), toJava(e.getValue()));
        }
        return map;
    }

    private static long hexBits(String hex, int digits) {
        if (hex.length() != digits) {
            throw new IllegalArgumentException("expected " + digits + " hex digits: \"" + hex + "\"");
        }
        return Long.parseUnsignedLong(hex, 16);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumConstant(String className, String name) {
        Class<?> c;
        try {
            c = Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no enum class " + className);
        }
        if (!c.isEnum()) {
            throw new IllegalArgumentException(className + " is not an enum");
        }
        return Enum.valueOf((Class) c, name);
    }

    /** The typed JSON value of a Java value (its exact class must be one of the listed ones). */
    static Map<String, Object> toJson(Object value) {
        if (value == null) {
            return Json.obj("t", "Null");
        }
        Class<?> c = value.getClass();
        if (c == String.class) {
            return Json.obj("t", "String", "v", value);
        }
        if (c == Long.class || c == Integer.class || c == Short.class || c == Byte.class
                || c == BigInteger.class) {
            return Json.obj("t", c.getSimpleName(), "v", value.toString());
        }
        if (c == Double.class) {
            return Json.obj("t", "Double", "v", hex(Double.doubleToRawLongBits((Double) value), 16));
        }
        if (c == Float.class) {
            return Json.obj("t", "Float", "v",
                    hex(Float.floatToRawIntBits((Float) value) & 0xffffffffL, 8));
        }
        if (c == Boolean.class) {
            return Json.obj("t", "Boolean", "v", value);
        }
        if (c == BigDecimal.class) {
            BigDecimal d = (BigDecimal) value;
            return Json.obj("t", "BigDecimal", "unscaled", d.unscaledValue().toString(), "scale",
                    new Json.Num(Integer.toString(d.scale())));
        }
        if (c == Date.class) {
            return Json.obj("t", "Date", "v", Long.toString(((Date) value).getTime()));
        }
        if (c == LocalDate.class) {
            return Json.obj("t", "LocalDate", "v", value.toString());
        }
        if (c == LocalTime.class) {
            return Json.obj("t", "LocalTime", "v", TIME.format((LocalTime) value));
        }
        if (c == LocalDateTime.class) {
            return Json.obj("t", "LocalDateTime", "v", DATE_TIME.format((LocalDateTime) value));
        }
        if (c == Instant.class) {
            Instant i = (Instant) value;
            return Json.obj("t", "Instant", "s", Long.toString(i.getEpochSecond()), "n",
                    new Json.Num(Integer.toString(i.getNano())));
        }
        if (c == Duration.class) {
            Duration d = (Duration) value;
            return Json.obj("t", "Duration", "s", Long.toString(d.getSeconds()), "n",
                    new Json.Num(Integer.toString(d.getNano())));
        }
        if (value instanceof Enum) {
            Enum<?> e = (Enum<?>) value;
            return Json.obj("t", "Enum", "c", e.getDeclaringClass().getName(), "v", e.name());
        }
        if (c == ArrayList.class) {
            List<Object> items = new ArrayList<>();
            for (Object o : (List<?>) value) {
                items.add(toJson(o));
            }
            return Json.obj("t", "List", "v", items);
        }
        if (c == HashMap.class) {
            return Json.obj("t", "Map", "v", toJsonMembers((Map<?, ?>) value));
        }
        throw new IllegalArgumentException("unsupported Java class " + c.getName());
    }

    /** The members of a typed Map: each key with its typed value, in the map's iteration order. */
    static Map<String, Object> toJsonMembers(Map<?, ?> map) {
        Map<String, Object> members = new java.util.LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new IllegalArgumentException("map key of class "
                        + (e.getKey() == null ? "null" : e.getKey().getClass().getName())
                        + " (only String keys are supported)");
            }
            members.put((String) e.getKey(), toJson(e.getValue()));
        }
        return members;
    }

    private static String hex(long bits, int digits) {
        String h = Long.toHexString(bits);
        StringBuilder b = new StringBuilder();
        for (int i = h.length(); i < digits; i++) {
            b.append('0');
        }
        return b.append(h).toString();
    }
}
