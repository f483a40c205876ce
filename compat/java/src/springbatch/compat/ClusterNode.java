package springbatch.compat;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A node of the cluster, as the Java library's 3.x node behaves:
 *
 * <ul>
 *   <li>id {@code <prefix>-<random UUID>}; N1 with database-clock times at start;</li>
 *   <li>heartbeat (N2, database clock, current_load = running partitions) every heartbeat-interval;
 *       0 rows: register again with the same id; an exception (or a failed re-registration): local
 *       status UNREACHABLE and fencing (running partitions interrupted); the health view (N6) and
 *       the partition refresh (P4) at the same cadence;</li>
 *   <li>sweeps N3 / N4 with the thresholds; the worker poll; orphaned-master recovery (C3/C4).</li>
 * </ul>
 */
final class ClusterNode {

    final String nodeId;
    final ClusterSettings settings;
    final Db db;
    final ClusterStore store;
    final JobRepository repository;
    final Worker worker;
    private volatile boolean active;
    private final List<ScheduledExecutorService> timers = new ArrayList<>();

    ClusterNode(Db db, JobRepository repository, ClusterSettings settings, String prefix) {
        this.db = db;
        this.repository = repository;
        this.settings = settings;
        this.store = new ClusterStore(db);
        String p = prefix == null ? settings.text("node-id-prefix").trim() : prefix.trim();
        if (p.isEmpty()) {
            p = "node";
        }
        this.nodeId = p + "-" + UUID.randomUUID();
        this.worker = new Worker(this, settings.concurrencyLimitPerNode());
    }

    boolean isActive() {
        return active;
    }

    /** N1, the ready file, then the timers. */
    void start(Path ready) throws Exception {
        store.registerNode(nodeId, hostIdentifier());
        active = true;
        Log.info("node %s registered (%s, settings %s)", nodeId, db.kind, settings);
        if (ready != null) {
            Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
            Files.write(tmp, nodeId.getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, ready, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        long heartbeat = settings.heartbeatInterval();
        every("heartbeat", heartbeat, this::heartbeat);
        every("node-health", heartbeat, store::listNodes);
        every("partition-refresh", heartbeat, worker::refresh);
        every("mark-unreachable", settings.unreachableNodeThreadInterval(), () -> {
            int n = store.markUnreachable(settings.unreachableNodeThreshold());
            if (n > 0) {
                Log.warn("marked %d node(s) UNREACHABLE", n);
            }
        });
        every("remove-unreachable", settings.nodeCleanupThreadInterval(), () -> {
            int n = store.deleteUnreachable(settings.nodeCleanupThreshold());
            if (n > 0) {
                Log.warn("evicted %d UNREACHABLE node(s)", n);
            }
        });
        every("recover-masters", settings.orphanedMasterScanInterval(), this::recoverOrphanedMasters);
        every("partition-poller", settings.taskPollingInterval(), worker::poll);
    }

    interface Task {
        void run() throws Exception;
    }

    private void every(String name, long millis, Task task) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        timers.add(timer);
        boolean[] failing = {false}; // only its timer thread touches it
        timer.scheduleWithFixedDelay(() -> {
            try {
                task.run();
                if (failing[0]) {
                    Log.info("%s works again", name);
                }
                failing[0] = false;
            } catch (Throwable e) {
                if (!failing[0]) {
                    Log.error(e, "%s failed (repeated failures are not logged until it works again)", name);
                }
                failing[0] = true;
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Stops the timers and the worker threads (the node row stays, as with a JVM that exits). */
    void stop(boolean deregister) {
        for (ScheduledExecutorService t : timers) {
            t.shutdownNow();
        }
        worker.shutdown();
        if (deregister) {
            try {
                db.call(c -> {
                    try (java.sql.PreparedStatement ps = c.prepareStatement("DELETE FROM batch_nodes WHERE node_id = ?")) {
                        ps.setString(1, nodeId);
                        return ps.executeUpdate();
                    }
                });
                Log.info("node %s removed its row", nodeId);
            } catch (Exception e) {
                Log.error(e, "node %s could not remove its row", nodeId);
            }
        }
    }

    private void heartbeat() {
        try {
            int rows = store.heartbeat(nodeId, worker.load());
            if (rows == 0) {
                Log.warn("node %s: heartbeat found no row (evicted): registering again with the same id", nodeId);
                store.registerNode(nodeId, hostIdentifier());
            }
            if (!active) {
                Log.info("node %s is ACTIVE again", nodeId);
            }
            active = true;
        } catch (Exception e) {
            if (active) {
                Log.error(e, "node %s: heartbeat failed: local status UNREACHABLE, fencing running partitions", nodeId);
            }
            active = false;
            worker.fence();
        }
    }

    private String hostIdentifier() {
        try {
            InetAddress local = InetAddress.getLocalHost();
            return "IP_ADDRESS".equals(settings.text("host-identifier")) ? local.getHostAddress() : local.getHostName();
        } catch (Exception e) {
            return "localhost";
        }
    }

    // -- orphaned masters (C3/C4) ------------------------------------------------------------------

    private static final EnumSet<BatchStatus> UNFINISHED =
            EnumSet.of(BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING, BatchStatus.UNKNOWN);

    private void recoverOrphanedMasters() throws Exception {
        if (!active) {
            return;
        }
        for (ClusterStore.Coordination orphan : store.orphanedMasters()) {
            if (store.claimOrphanedMaster(orphan, nodeId) != 1) {
                continue;
            }
            Log.warn("master node %s of job execution %d is gone: this node recovers the job", orphan.masterNodeId,
                    orphan.jobExecutionId);
            String reason = "Abandoned by cluster recovery: master node '" + orphan.masterNodeId + "' was lost";
            try {
                for (StepExecution s : repository.loadSteps(orphan.jobExecutionId)) {
                    if (!UNFINISHED.contains(s.status)) {
                        continue;
                    }
                    s.status = BatchStatus.FAILED;
                    s.exitStatus = new ExitStatus("FAILED", reason);
                    s.endTime = Db.now();
                    try {
                        repository.updateStep(s);
                        Log.info("recovery: step execution %d (%s) FAILED", s.id, s.stepName);
                    } catch (Exception e) {
                        Log.error(e, "recovery: could not fail step execution %d", s.id);
                    }
                }
                JobExecution je = repository.loadJob(orphan.jobExecutionId);
                if (je != null && UNFINISHED.contains(je.status)) {
                    je.status = BatchStatus.FAILED;
                    je.exitStatus = new ExitStatus("FAILED", reason + "; the execution is now restartable");
                    je.endTime = Db.now();
                    repository.updateJob(je);
                    Log.info("recovery: job execution %d FAILED", je.id);
                }
            } catch (Exception e) {
                Log.error(e, "recovery of job execution %d failed", orphan.jobExecutionId);
            }
            store.updateCoordination(orphan.jobExecutionId, orphan.masterStepExecutionId, "ABANDONED");
            Log.warn("recovery: job execution %d ABANDONED", orphan.jobExecutionId);
        }
    }
}
