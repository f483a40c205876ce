package springbatch.compat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Execution contexts as Spring Batch's default serializer stores them: Java serialization of a
 * {@code java.util.HashMap<String,Object>} (one {@code writeObject}), Base64 (standard alphabet,
 * no line breaks), decoded as a UTF-8 string; in the database, the SHORT/SERIALIZED column rule.
 */
final class Contexts {

    /** Spring Batch's default short-context length (UTF-16 units). */
    static final int SHORT_CONTEXT_LENGTH = 2500;

    private Contexts() {
    }

    /** Base64 of the Java serialization of a HashMap copy of {@code context} (put in its order). */
    static String serialize(Map<String, Object> context) {
        HashMap<String, Object> copy = new HashMap<>();
        for (Map.Entry<String, Object> e : context.entrySet()) {
            Object v = e.getValue();
            if (v != null && !(v instanceof Serializable)) {
                throw new IllegalArgumentException("value of '" + e.getKey() + "' ("
                        + v.getClass().getName() + ") is not Serializable");
            }
            copy.put(e.getKey(), v);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(copy);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize the context: " + e, e);
        }
        byte[] base64 = Base64.getEncoder().encode(bytes.toByteArray());
        return new String(base64, StandardCharsets.UTF_8);
    }

    /** The HashMap in a Base64 text (it must be exactly a java.util.HashMap). */
    @SuppressWarnings("unchecked")
    static HashMap<String, Object> deserialize(String base64) {
        byte[] raw = Base64.getDecoder().decode(base64.replaceAll("\\s+", ""));
        Object value;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(raw))) {
            value = in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalArgumentException("cannot deserialize the context: " + e, e);
        }
        if (value == null || value.getClass() != HashMap.class) {
            throw new IllegalArgumentException("the stream holds a "
                    + (value == null ? "null" : value.getClass().getName()) + ", not a java.util.HashMap");
        }
        return (HashMap<String, Object>) value;
    }

    /** {SHORT_CONTEXT, SERIALIZED_CONTEXT} for a serialized context. */
    static String[] columns(String serialized) {
        if (serialized.length() > SHORT_CONTEXT_LENGTH) {
            return new String[] {serialized.substring(0, SHORT_CONTEXT_LENGTH - 8) + " ...", serialized};
        }
        return new String[] {serialized, null};
    }

    /** The context of a row: SERIALIZED_CONTEXT when not null, else SHORT_CONTEXT. */
    static HashMap<String, Object> fromColumns(String shortContext, String serializedContext) {
        String text = serializedContext != null ? serializedContext : shortContext;
        if (text == null || text.isEmpty()) {
            return new HashMap<>();
        }
        return deserialize(text);
    }
}
