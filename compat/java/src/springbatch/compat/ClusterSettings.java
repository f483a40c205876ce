package springbatch.compat;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The cluster library's settings ({@code spring.batch.cluster.*}) with its defaults; durations in
 * milliseconds. Sources, later winning: defaults, {@code SPRING_BATCH_CLUSTER_*} environment
 * variables (Spring Boot's relaxed form), {@code --set name=value} arguments.
 */
final class ClusterSettings {

    static final String PREFIX = "spring.batch.cluster.";
    private static final String ENV_PREFIX = "SPRING_BATCH_CLUSTER_";

    private final Map<String, String> values = new LinkedHashMap<>();

    ClusterSettings() {
        values.put("heartbeat-interval", "3000");
        values.put("unreachable-node-threshold", "10000");
        values.put("node-cleanup-threshold", "30000");
        values.put("task-polling-interval", "1000");
        values.put("unreachable-node-thread-interval", "5000");
        values.put("node-cleanup-thread-interval", "5000");
        values.put("orphaned-tasks-polling-interval", "1000");
        values.put("master-task-status-check-interval", "500");
        values.put("orphaned-master-scan-interval", "10000");
        values.put("concurrency-limit-per-node", "10");
        values.put("completed-tasks-cleanup-polling-interval", "5000");
        values.put("node-id-prefix", "java");
        values.put("host-identifier", "HOST_NAME");
        values.put("capture-phase-timings", "false");
        values.put("tracing-enabled", "false");
        values.put("enabled", "true");
    }

    /** Applies SPRING_BATCH_CLUSTER_* variables of the environment. */
    void loadEnvironment(Map<String, String> env) {
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith(ENV_PREFIX)) {
                String name = e.getKey().substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '-');
                if (values.containsKey(name)) {
                    values.put(name, e.getValue().trim());
                }
            }
        }
    }

    /** Applies one {@code name=value} (the name with or without the spring.batch.cluster. prefix). */
    void set(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("--set expects name=value: " + assignment);
        }
        String name = assignment.substring(0, eq).trim();
        if (name.startsWith(PREFIX)) {
            name = name.substring(PREFIX.length());
        }
        if (!values.containsKey(name)) {
            throw new IllegalArgumentException("unknown cluster setting '" + name + "' (known: "
                    + String.join(", ", values.keySet()) + ")");
        }
        String value = assignment.substring(eq + 1).trim();
        values.put(name, value);
        if (isNumeric(name)) {
            millis(name); // validate now
        }
    }

    private static boolean isNumeric(String name) {
        return name.endsWith("-interval") || name.endsWith("-threshold") || name.equals("concurrency-limit-per-node");
    }

    long millis(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("unknown cluster setting " + name);
        }
        String text = v.endsWith("ms") ? v.substring(0, v.length() - 2).trim() : v;
        long n;
        try {
            n = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PREFIX + name + " must be an integer: " + v);
        }
        if (n <= 0) {
            throw new IllegalArgumentException(PREFIX + name + " must be positive: " + v);
        }
        return n;
    }

    String text(String name) {
        return values.get(name);
    }

    long heartbeatInterval() {
        return millis("heartbeat-interval");
    }

    long unreachableNodeThreshold() {
        return millis("unreachable-node-threshold");
    }

    long nodeCleanupThreshold() {
        return millis("node-cleanup-threshold");
    }

    long taskPollingInterval() {
        return millis("task-polling-interval");
    }

    long unreachableNodeThreadInterval() {
        return millis("unreachable-node-thread-interval");
    }

    long nodeCleanupThreadInterval() {
        return millis("node-cleanup-thread-interval");
    }

    long orphanedTasksPollingInterval() {
        return millis("orphaned-tasks-polling-interval");
    }

    long masterTaskStatusCheckInterval() {
        return millis("master-task-status-check-interval");
    }

    long orphanedMasterScanInterval() {
        return millis("orphaned-master-scan-interval");
    }

    int concurrencyLimitPerNode() {
        return Math.toIntExact(millis("concurrency-limit-per-node"));
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
