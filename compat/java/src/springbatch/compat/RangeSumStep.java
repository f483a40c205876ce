package springbatch.compat;

import java.sql.PreparedStatement;
import java.util.HashMap;

/**
 * The worker step of the cluster tests' "range job" (tests/cluster/app.py), as a Spring Batch
 * chunk-oriented TaskletStep would run it:
 *
 * <ul>
 *   <li>partition context: Long "start", Long "end", optional Long "delay_ms" (read strictly, like
 *       {@code ExecutionContext.getLong});</li>
 *   <li>a counting reader over [start, end) named "range": its position is the Integer
 *       "range.read.count" of the step context, and a restart resumes after it;</li>
 *   <li>the processor sleeps delay_ms per item; commit interval 5;</li>
 *   <li>each chunk is one transaction: one audit_items row per item, then the step context, then
 *       COMMIT_COUNT + 1 and the versioned step update (0 rows rolls the chunk back and fails the
 *       step);</li>
 *   <li>between chunks: a thread interrupt (fencing) or a STOPPING job ends the step STOPPED.</li>
 * </ul>
 *
 * {@link #execute} never throws, like Spring's {@code AbstractStep.execute}.
 */
final class RangeSumStep {

    static final String NAME = "rangeSum";
    static final int COMMIT_INTERVAL = 5;
    static final String READ_COUNT_KEY = "range.read.count";

    /** Spring Batch's JobInterruptedException, for the STOPPED path. */
    static final class JobInterruptedException extends Exception {
        private static final long serialVersionUID = 1L;

        JobInterruptedException(String message) {
            super(message);
        }
    }

    private final JobRepository repository;
    private final String nodeId;

    RangeSumStep(JobRepository repository, String nodeId) {
        this.repository = repository;
        this.nodeId = nodeId;
    }

    void execute(StepExecution se) {
        ExitStatus exit = ExitStatus.EXECUTING;
        se.startTime = Db.now();
        se.status = BatchStatus.STARTED;
        try {
            repository.updateStep(se);
        } catch (Exception e) {
            Log.error(e, "step %s: could not save its start", se.stepName);
            se.status = BatchStatus.UNKNOWN;
            se.exitStatus = ExitStatus.UNKNOWN.addDescription(describe(e));
            return;
        }
        try {
            HashMap<String, Object> context = se.context;
            context.put("batch.version", repository.batchVersion());
            context.put("batch.stepType", "org.springframework.batch.core.step.tasklet.TaskletStep");
            context.put("batch.taskletType", "org.springframework.batch.core.step.item.ChunkOrientedTasklet");
            long start = getLong(context, "start");
            long end = getLong(context, "end");
            long delay = context.containsKey("delay_ms") ? getLong(context, "delay_ms") : 0L;
            int position = 0;
            if (context.containsKey(READ_COUNT_KEY)) {
                Object count = context.get(READ_COUNT_KEY);
                if (!(count instanceof Integer)) {
                    throw new ClassCastException("Value for key=[" + READ_COUNT_KEY + "] is not of type: "
                            + "[class java.lang.Integer], it is [" + count + "]");
                }
                position = (Integer) count;
            }
            repository.updateStepContext(se); // the TaskletStep saves its context once before the first chunk
            boolean more = true;
            while (more) {
                checkInterrupted(se);
                more = chunk(se, start, end, delay, position);
                position = (Integer) se.context.get(READ_COUNT_KEY);
            }
            exit = ExitStatus.COMPLETED.and(se.exitStatus);
            checkInterrupted(se);
            se.upgradeStatus(BatchStatus.COMPLETED);
        } catch (JobInterruptedException e) {
            Log.warn("step %s (execution %d) stopped: %s", se.stepName, se.id, e.getMessage());
            se.upgradeStatus(BatchStatus.STOPPED);
            exit = exit.and(ExitStatus.STOPPED.addDescription(JobInterruptedException.class.getName()));
        } catch (Throwable e) {
            Log.error(e, "step %s (execution %d) failed", se.stepName, se.id);
            se.upgradeStatus(BatchStatus.FAILED);
            exit = exit.and(ExitStatus.FAILED.addDescription(describe(e)));
        } finally {
            exit = exit.and(se.exitStatus);
            se.exitStatus = exit;
            try {
                repository.updateStepContext(se);
            } catch (Exception e) {
                Log.error(e, "step %s: could not save its context at the end", se.stepName);
                se.status = BatchStatus.UNKNOWN;
                se.exitStatus = se.exitStatus.and(ExitStatus.UNKNOWN);
            }
            se.endTime = Db.now();
            try {
                repository.updateStep(se);
            } catch (Exception e) {
                Log.error(e, "step %s: could not save its end", se.stepName);
                se.status = BatchStatus.UNKNOWN;
                se.exitStatus = se.exitStatus.and(ExitStatus.UNKNOWN);
            }
        }
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getName() : m;
    }

    private static long getLong(HashMap<String, Object> context, String key) {
        Object v = context.get(key);
        if (!(v instanceof Long)) {
            throw new ClassCastException("Value for key=[" + key + "] is not of type: [class java.lang.Long], it is ["
                    + v + "]");
        }
        return (Long) v;
    }

    private static void checkInterrupted(StepExecution se) throws JobInterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            throw new JobInterruptedException("Job interrupted status detected.");
        }
        if (se.terminateOnly) {
            throw new JobInterruptedException("JobExecution interrupted.");
        }
    }

    /**
     * One chunk in one transaction; returns whether the reader may have more items. On failure the
     * in-memory step is restored to its state before the chunk and the rollback is counted.
     */
    private boolean chunk(StepExecution se, long start, long end, long delay, int position) throws Exception {
        long first = start + position;
        long last = Math.min(end, first + COMMIT_INTERVAL); // exclusive
        int count = (int) Math.max(0, last - first);
        boolean exhausted = count < COMMIT_INTERVAL;
        // What a rollback restores.
        int version = se.version;
        long commits = se.commitCount;
        long reads = se.readCount;
        long writes = se.writeCount;
        HashMap<String, Object> context = new HashMap<>(se.context);
        try {
            // Read and process first: they touch no table, so the chunk's transaction (on SQLite:
            // the database's write lock) starts with its first write, as with a deferred transaction.
            for (int i = 0; i < count; i++) {
                if (delay > 0) {
                    try {
                        Thread.sleep(delay);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(new JobInterruptedException(
                                "interrupted while processing an item"));
                    }
                }
            }
            repository.db.tx(c -> {
                if (count > 0) {
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO audit_items (partition_key, item, node_id) VALUES (?, ?, ?)")) {
                        for (long item = first; item < last; item++) {
                            ps.setString(1, se.stepName);
                            ps.setLong(2, item);
                            ps.setString(3, nodeId);
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                }
                se.readCount += count;
                se.writeCount += count;
                se.context.put(READ_COUNT_KEY, Integer.valueOf(position + count));
                repository.updateStepContext(c, se);
                se.commitCount++;
                repository.updateStep(c, se);
                return null;
            });
        } catch (Exception e) {
            se.version = version;
            se.commitCount = commits;
            se.readCount = reads;
            se.writeCount = writes;
            se.context.clear();
            se.context.putAll(context);
            se.rollbackCount++;
            if (e.getCause() instanceof JobInterruptedException) {
                throw (JobInterruptedException) e.getCause();
            }
            throw e;
        }
        return !exhausted;
    }
}
