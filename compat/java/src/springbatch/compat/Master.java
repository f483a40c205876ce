package springbatch.compat;

import io.github.jchejarla.springbatch.clustering.partition.PartitionTransferableProp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Launching the range job with this node as its master: the job and its one partitioned
 * manager step as Spring Batch runs them (SimpleJob, PartitionStep, SimpleStepExecutionSplitter),
 * with the cluster library's partitioner and partition handler at 3.x (facts 8.6, 8.10), and a
 * ClusterAwareAggregator-style aggregation of the reloaded worker executions.
 */
final class Master {

    static final String NODE_KEY = "AppUse_Cluster-Node-Identifier";
    static final String TRANSFERABLE_KEY = "AppUse_Is-Transferable-Identifier";
    static final String GRID_SIZE_KEY = "SimpleStepExecutionSplitter.GRID_SIZE";

    /** The job to launch (the JSON of --launch; Python's JobSpec JSON is accepted too). */
    static final class Spec {
        String job = "rangeJob";
        String worker = RangeSumStep.NAME;
        int partitions = 30;
        long items = 10;
        long delayMs;
        boolean transferable = true;
        String mode = "ROUND_ROBIN";
        int fixedNodeCount;
        List<JobKeys.Param> parameters = new ArrayList<>();

        static Spec parse(String json) {
            Map<String, Object> m = Json.asObject(Json.parse(json), "the job spec");
            Spec s = new Spec();
            if (m.containsKey("job")) {
                s.job = Json.asString(m.get("job"), "\"job\"");
            }
            if (m.containsKey("worker")) {
                s.worker = Json.asString(m.get("worker"), "\"worker\"");
            }
            if (m.containsKey("partitions")) {
                s.partitions = Math.toIntExact(Json.asLong(m.get("partitions"), "\"partitions\""));
            }
            if (m.containsKey("items")) {
                s.items = Json.asLong(m.get("items"), "\"items\"");
            }
            if (m.containsKey("delay_ms")) {
                s.delayMs = Json.asLong(m.get("delay_ms"), "\"delay_ms\"");
            }
            if (m.containsKey("transferable")) {
                s.transferable = Json.asBoolean(m.get("transferable"), "\"transferable\"");
            }
            if (m.containsKey("mode")) {
                s.mode = Json.asString(m.get("mode"), "\"mode\"");
            }
            if (m.containsKey("fixed_node_count")) {
                s.fixedNodeCount = Math.toIntExact(Json.asLong(m.get("fixed_node_count"), "\"fixed_node_count\""));
            }
            if (m.containsKey("parameters")) {
                for (Map.Entry<String, Object> e : Json.asObject(m.get("parameters"), "\"parameters\"").entrySet()) {
                    Object v = e.getValue() instanceof Map ? TypedValues.toJava(e.getValue())
                            : Json.asString(e.getValue(), "parameter " + e.getKey());
                    s.parameters.add(new JobKeys.Param(e.getKey(), v, true));
                }
            } else {
                // Python's JobSpec: parameters {"run": <run>}
                String run = m.containsKey("run") ? Json.asText(m.get("run"), "\"run\"") : "1";
                s.parameters.add(new JobKeys.Param("run", run, true));
            }
            return s;
        }
    }

    private final ClusterNode node;
    private final JobRepository repository;
    private final Spec spec;

    Master(ClusterNode node, Spec spec) {
        this.node = node;
        this.repository = node.repository;
        this.spec = spec;
    }

    String managerStepName() {
        return spec.job + ".manager";
    }

    /** Runs the job; returns the finished job execution. */
    JobExecution run() throws Exception {
        JobExecution je = repository.createJobExecution(spec.job, spec.parameters);
        Log.info("job %s: execution %d created (instance %d)", spec.job, je.id, je.instanceId);
        je.startTime = Db.now();
        je.status = BatchStatus.STARTED;
        repository.updateJob(je);
        je.context.put("batch.version", repository.batchVersion());
        repository.updateJobContext(je);
        StepExecution manager;
        try {
            manager = runManager(je);
            je.upgradeStatus(manager.status);
            je.exitStatus = manager.exitStatus;
        } catch (Exception e) {
            Log.error(e, "job execution %d failed", je.id);
            je.upgradeStatus(BatchStatus.FAILED);
            je.exitStatus = je.exitStatus.and(ExitStatus.FAILED.addDescription(RangeSumStep.describe(e)));
        }
        repository.updateJobContext(je);
        je.endTime = Db.now();
        repository.updateJob(je);
        Log.info("job execution %d ended %s (%s)", je.id, je.status, je.exitStatus);
        return je;
    }

    /** The manager step, like AbstractStep.execute around PartitionStep.doExecute. */
    private StepExecution runManager(JobExecution je) throws Exception {
        StepExecution last = repository.lastStepExecution(je.instanceId, managerStepName());
        StepExecution m = new StepExecution(managerStepName(), je.id);
        if (last != null && last.jobExecutionId != je.id) {
            m.context = new HashMap<>(last.context); // a restart resumes from the last manager context
            m.context.remove("batch.executed");
        }
        repository.addStep(m);
        m.startTime = Db.now();
        m.status = BatchStatus.STARTED;
        repository.updateStep(m);
        ExitStatus exit = ExitStatus.EXECUTING;
        try {
            m.context.put("batch.version", repository.batchVersion());
            m.context.put("batch.stepType", repository.major >= 6
                    ? "org.springframework.batch.core.partition.PartitionStep"
                    : "org.springframework.batch.core.partition.support.PartitionStep");
            List<StepExecution> workers = split(je, m);
            handle(je, m, workers);
            m.upgradeStatus(BatchStatus.COMPLETED);
            aggregate(m, workers);
            if (m.status.isUnsuccessful()) {
                throw new IllegalStateException("Partition handler returned an unsuccessful step");
            }
            exit = ExitStatus.COMPLETED.and(m.exitStatus);
            m.upgradeStatus(BatchStatus.COMPLETED);
        } catch (Throwable e) {
            Log.error(e, "manager step %s failed", m.stepName);
            m.upgradeStatus(BatchStatus.FAILED);
            exit = exit.and(ExitStatus.FAILED.addDescription(RangeSumStep.describe(e)));
        } finally {
            exit = exit.and(m.exitStatus);
            m.exitStatus = exit;
            try {
                repository.updateStepContext(m);
            } catch (Exception e) {
                Log.error(e, "manager step: could not save its context");
                m.status = BatchStatus.UNKNOWN;
                m.exitStatus = m.exitStatus.and(ExitStatus.UNKNOWN);
            }
            m.endTime = Db.now();
            try {
                repository.updateStep(m);
            } catch (Exception e) {
                Log.error(e, "manager step: could not save its end");
                m.status = BatchStatus.UNKNOWN;
                m.exitStatus = m.exitStatus.and(ExitStatus.UNKNOWN);
            }
        }
        return m;
    }

    // -- split -----------------------------------------------------------------------------------

    /** SimpleStepExecutionSplitter with grid size 0 and the cluster partitioner. */
    private List<StepExecution> split(JobExecution je, StepExecution m) throws Exception {
        Object grid = m.context.get(GRID_SIZE_KEY);
        if (!(grid instanceof Long) || (Long) grid != 0L) {
            m.context.put(GRID_SIZE_KEY, 0L);
            repository.updateStepContext(m);
        }
        Map<String, HashMap<String, Object>> contexts = partition();
        List<StepExecution> startable = new ArrayList<>();
        for (Map.Entry<String, HashMap<String, Object>> e : contexts.entrySet()) {
            String name = spec.worker + ":" + e.getKey();
            StepExecution last = repository.lastStepExecution(je.instanceId, name);
            StepExecution w = new StepExecution(name, je.id);
            if (last == null || last.jobExecutionId == je.id) {
                w.context = e.getValue();
            } else if (last.status == BatchStatus.COMPLETED) {
                continue;
            } else if (last.status == BatchStatus.FAILED || last.status == BatchStatus.STOPPED) {
                w.context = new HashMap<>(last.context);
                w.context.remove("batch.executed");
            } else if (last.status == BatchStatus.UNKNOWN) {
                throw new IllegalStateException("Cannot restart step from UNKNOWN status: " + name);
            } else if (last.status == BatchStatus.ABANDONED) {
                throw new IllegalStateException("Cannot restart step [" + name + "]: it was ABANDONED");
            } else {
                throw new IllegalStateException("Cannot restart step [" + name + "]: its last execution may still be "
                        + "executing (" + last.status + ")");
            }
            startable.add(w);
        }
        repository.addSteps(startable);
        Log.info("job execution %d: %d worker step execution(s) created", je.id, startable.size());
        return startable;
    }

    /** The cluster partitioner: N5, the user's contexts, the assignment strategy, the two keys. */
    private Map<String, HashMap<String, Object>> partition() throws Exception {
        List<ClusterStore.ActiveNode> nodes = node.store.activeNodes();
        if (nodes.isEmpty()) {
            throw new IllegalStateException("No active nodes available for partitioning");
        }
        List<String> assigned = assign(spec.partitions, nodes);
        Map<String, HashMap<String, Object>> result = new LinkedHashMap<>();
        for (int i = 0; i < spec.partitions; i++) {
            HashMap<String, Object> ctx = new HashMap<>();
            ctx.put("start", Long.valueOf(i * spec.items));
            ctx.put("end", Long.valueOf((i + 1) * spec.items));
            ctx.put("delay_ms", Long.valueOf(spec.delayMs));
            ctx.put(NODE_KEY, assigned.get(i));
            ctx.put(TRANSFERABLE_KEY, spec.transferable ? PartitionTransferableProp.YES : PartitionTransferableProp.NO);
            result.put(Integer.toString(i), ctx);
        }
        return result;
    }

    private List<String> assign(int count, List<ClusterStore.ActiveNode> nodes) {
        List<String> out = new ArrayList<>();
        switch (spec.mode) {
            case "FIXED_NODE_COUNT": {
                int k = Math.min(Math.max(1, spec.fixedNodeCount), nodes.size());
                for (int i = 0; i < count; i++) {
                    out.add(nodes.get(i % k).nodeId);
                }
                return out;
            }
            case "LEAST_LOADED": {
                long[] loads = new long[nodes.size()];
                for (int i = 0; i < loads.length; i++) {
                    loads[i] = nodes.get(i).currentLoad;
                }
                for (int i = 0; i < count; i++) {
                    int best = 0;
                    for (int j = 1; j < loads.length; j++) {
                        if (loads[j] < loads[best]) {
                            best = j;
                        }
                    }
                    loads[best]++;
                    out.add(nodes.get(best).nodeId);
                }
                return out;
            }
            case "ROUND_ROBIN":
            case "SCALE_UP":
                for (int i = 0; i < count; i++) {
                    out.add(nodes.get(i % nodes.size()).nodeId);
                }
                return out;
            default:
                throw new IllegalArgumentException("unknown partitioning mode " + spec.mode);
        }
    }

    // -- handle ----------------------------------------------------------------------------------

    /** ClusterAwarePartitionHandler.handle after the split: C1, P1, C2 STARTED, wait, C2 COMPLETED, P6. */
    private void handle(JobExecution je, StepExecution m, List<StepExecution> workers) throws Exception {
        if (workers.isEmpty()) {
            return;
        }
        List<ClusterStore.Partition> partitions = new ArrayList<>();
        for (StepExecution w : workers) {
            Object nodeId = w.context.get(NODE_KEY);
            if (!(nodeId instanceof String)) {
                throw new ClassCastException("Value for key=[" + NODE_KEY + "] is not of type: [class java.lang.String]");
            }
            Object flag = w.context.get(TRANSFERABLE_KEY);
            if (flag != null && !(flag instanceof PartitionTransferableProp)) {
                throw new ClassCastException("Value for key=[" + TRANSFERABLE_KEY + "] is not a PartitionTransferableProp");
            }
            ClusterStore.Partition p = new ClusterStore.Partition();
            p.stepExecutionId = w.id;
            p.jobExecutionId = je.id;
            p.partitionKey = w.stepName;
            p.masterStepExecutionId = m.id;
            p.transferable = flag == PartitionTransferableProp.YES;
            p.assignedNode = (String) nodeId;
            partitions.add(p);
        }
        ClusterStore store = node.store;
        store.insertCoordination(je.id, node.nodeId, m.id, spec.worker);
        store.insertPartitions(partitions);
        store.updateCoordination(je.id, m.id, "STARTED");
        Log.info("job execution %d: %d partition(s) PENDING, coordination STARTED", je.id, partitions.size());
        OrphanMonitor monitor = new OrphanMonitor(m.id);
        Thread monitorThread = new Thread(monitor, "orphan-monitor-" + je.id);
        monitorThread.setDaemon(true);
        monitorThread.start();
        try {
            while (store.countPartitions(m.id, false) > 0) {
                if (monitor.failure != null) {
                    throw monitor.failure;
                }
                Thread.sleep(node.settings.masterTaskStatusCheckInterval());
            }
        } finally {
            monitor.done = true;
            monitorThread.interrupt();
        }
        store.updateCoordination(je.id, m.id, "COMPLETED");
        long failed = store.countPartitions(m.id, true);
        Log.info("job execution %d: no partition open, coordination COMPLETED, %d FAILED", je.id, failed);
        if (failed > 0) {
            throw new IllegalStateException(failed + " of " + workers.size() + " partition(s) FAILED for step '"
                    + m.stepName + "'");
        }
    }

    /** P7 every orphaned-tasks-polling-interval: non-transferable orphans FAILED, others round robin. */
    private final class OrphanMonitor implements Runnable {
        private final long masterStepExecutionId;
        volatile boolean done;
        volatile Exception failure;

        OrphanMonitor(long masterStepExecutionId) {
            this.masterStepExecutionId = masterStepExecutionId;
        }

        @Override
        public void run() {
            long interval = node.settings.orphanedTasksPollingInterval();
            while (!done) {
                try {
                    scan();
                } catch (Exception e) {
                    if (done) {
                        return;
                    }
                    Log.error(e, "orphan monitor failed");
                    failure = e;
                    return;
                }
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void scan() throws Exception {
            ClusterStore store = node.store;
            List<ClusterStore.Partition> orphans =
                    store.orphanedPartitions(masterStepExecutionId, node.settings.nodeCleanupThreshold());
            if (orphans.isEmpty()) {
                return;
            }
            List<ClusterStore.Partition> movable = new ArrayList<>();
            for (ClusterStore.Partition p : orphans) {
                if (p.transferable) {
                    movable.add(p);
                } else {
                    store.updatePartitionStatus(p, p.assignedNode, "FAILED");
                    Log.warn("orphaned partition %s (node %s gone) may not move: FAILED", p, p.assignedNode);
                }
            }
            if (movable.isEmpty()) {
                return;
            }
            List<ClusterStore.ActiveNode> nodes = store.activeNodes();
            if (nodes.isEmpty()) {
                throw new IllegalStateException("No active nodes to reassign " + movable.size()
                        + " orphaned partition(s) to");
            }
            List<String> targets = new ArrayList<>();
            for (int i = 0; i < movable.size(); i++) {
                targets.add(nodes.get(i % nodes.size()).nodeId);
            }
            store.reassign(movable, targets);
            for (int i = 0; i < movable.size(); i++) {
                Log.warn("orphaned partition %s (node %s gone) reassigned to %s", movable.get(i),
                        movable.get(i).assignedNode, targets.get(i));
            }
        }
    }

    // -- aggregate -------------------------------------------------------------------------------

    /** ClusterAwareAggregator: reload the workers, status = max, exit statuses and'ed, counts summed. */
    private void aggregate(StepExecution m, List<StepExecution> workers) throws Exception {
        if (workers.isEmpty()) {
            return;
        }
        Map<Long, StepExecution> fresh = new HashMap<>();
        for (StepExecution s : repository.loadSteps(m.jobExecutionId)) {
            fresh.put(s.id, s);
        }
        for (StepExecution w : workers) {
            StepExecution s = fresh.get(w.id);
            if (s == null) {
                continue;
            }
            m.status = BatchStatus.max(m.status, s.status);
            m.exitStatus = m.exitStatus.and(s.exitStatus);
            m.commitCount += s.commitCount;
            m.readCount += s.readCount;
            m.filterCount += s.filterCount;
            m.writeCount += s.writeCount;
            m.readSkipCount += s.readSkipCount;
            m.writeSkipCount += s.writeSkipCount;
            m.processSkipCount += s.processSkipCount;
            m.rollbackCount += s.rollbackCount;
        }
    }
}
