package springbatch.compat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spring Batch's job identity and parameter rows.
 *
 * <ul>
 *   <li>JOB_KEY 5.x: identifying parameters sorted by name ({@code String.compareTo}), each as
 *       {@code name={value=V, type=T, identifying=true};}, MD5 of the UTF-8 text, lower-case hex;</li>
 *   <li>JOB_KEY 6.0: the same with {@code JobParameter{name='n', value=V, type=T, identifying=true}}
 *       and no separator;</li>
 *   <li>V is the value's {@code toString()}, T its {@code Class.toString()};</li>
 *   <li>PARAMETER_VALUE: ISO formats for the four date types, an enum's {@code name()},
 *       {@code toString()} otherwise.</li>
 * </ul>
 */
final class JobKeys {

    /** One job parameter. */
    static final class Param {
        final String name;
        final Object value;
        final boolean identifying;

        Param(String name, Object value, boolean identifying) {
            if (value == null) {
                throw new IllegalArgumentException("parameter '" + name + "' has a null value");
            }
            this.name = name;
            this.value = value;
            this.identifying = identifying;
        }
    }

    private JobKeys() {
    }

    /** Parameters by name (a later duplicate replaces the earlier one, keeping its place). */
    static Collection<Param> byName(List<Param> params) {
        Map<String, Param> map = new LinkedHashMap<>();
        for (Param p : params) {
            map.put(p.name, p);
        }
        return map.values();
    }

    private static List<Param> identifyingSorted(List<Param> params) {
        List<Param> list = new ArrayList<>();
        for (Param p : byName(params)) {
            if (p.identifying) {
                list.add(p);
            }
        }
        list.sort((a, b) -> a.name.compareTo(b.name));
        return list;
    }

    /** The pre-hash text of the 5.x key. */
    static String text5(List<Param> params) {
        StringBuilder b = new StringBuilder();
        for (Param p : identifyingSorted(params)) {
            b.append(p.name).append('=').append("{value=").append(p.value.toString())
                    .append(", type=").append(type(p.value).toString())
                    .append(", identifying=true}").append(';');
        }
        return b.toString();
    }

    /** The pre-hash text of the 6.0 key. */
    static String text6(List<Param> params) {
        StringBuilder b = new StringBuilder();
        for (Param p : identifyingSorted(params)) {
            b.append("JobParameter{name='").append(p.name).append("', value=").append(p.value.toString())
                    .append(", type=").append(type(p.value).toString())
                    .append(", identifying=true}");
        }
        return b.toString();
    }

    static String key(List<Param> params, int major) {
        return md5(major >= 6 ? text6(params) : text5(params));
    }

    static String md5(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder();
            for (byte x : digest) {
                b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
            }
            return b.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The parameter's declared type: the value's class, or for an enum constant its enum class (a
     * constant with a body is an instance of an anonymous subclass).
     */
    static Class<?> type(Object value) {
        return value instanceof Enum ? ((Enum<?>) value).getDeclaringClass() : value.getClass();
    }

    /** PARAMETER_VALUE as Spring Batch's DAO conversion writes it. */
    static String databaseValue(Object value) {
        if (value instanceof Enum) {
            // Spring's EnumToStringConverter writes name(), whatever toString() returns.
            return ((Enum<?>) value).name();
        }
        if (value instanceof Date) {
            return DateTimeFormatter.ISO_INSTANT.format(((Date) value).toInstant());
        }
        if (value instanceof LocalDate) {
            return DateTimeFormatter.ISO_LOCAL_DATE.format((LocalDate) value);
        }
        if (value instanceof LocalTime) {
            return DateTimeFormatter.ISO_LOCAL_TIME.format((LocalTime) value);
        }
        if (value instanceof LocalDateTime) {
            return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format((LocalDateTime) value);
        }
        return value.toString();
    }

    /** Parses the "parameters" array of the job-keys / parameter-rows commands. */
    static List<Param> parse(Object json) {
        List<Param> params = new ArrayList<>();
        for (Object item : Json.asArray(json, "\"parameters\"")) {
            Map<String, Object> p = Json.asObject(item, "a parameter");
            String name = Json.asString(p.get("name"), "parameter \"name\"");
            Object value = TypedValues.toJava(p.get("value"));
            boolean identifying = !p.containsKey("identifying")
                    || Json.asBoolean(p.get("identifying"), "\"identifying\"");
            params.add(new Param(name, value, identifying));
        }
        return params;
    }
}
