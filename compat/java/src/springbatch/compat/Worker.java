package springbatch.compat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker side of a node, as the library's worker runner at 3.x behaves (facts 8.7):
 *
 * <ol>
 *   <li>every task-polling-interval, while the node is ACTIVE: P2, then P3 CLAIMED for all fetched
 *       partitions in one batch (row counts ignored), then each is submitted (submission blocks
 *       while concurrency-limit-per-node partitions run);</li>
 *   <li>per partition: load the step execution (with its job execution and both contexts), set
 *       START_TIME and STARTED, look the step up by master_step_name, stop here if the node is no
 *       longer ACTIVE (the row stays CLAIMED), versioned update, run the step, P3 COMPLETED;</li>
 *   <li>an exception from the step: left CLAIMED when the node is not ACTIVE, else the step
 *       execution FAILED and P3 FAILED; finally END_TIME and another versioned update;</li>
 *   <li>any other exception (load, lookup, the final update): P3 FAILED;</li>
 *   <li>every heartbeat-interval: P4 for the running partitions; fencing interrupts them.</li>
 * </ol>
 */
final class Worker {

    private final ClusterNode node;
    private final Semaphore slots;
    private final ExecutorService pool;
    private final Set<Running> running = ConcurrentHashMap.newKeySet();
    private final AtomicInteger load = new AtomicInteger();
    private final AtomicInteger threads = new AtomicInteger();

    /** A partition this node runs. */
    private static final class Running {
        final ClusterStore.Partition partition;
        /** The thread running it, once started. */
        Thread thread;
        /** Cancelled (fencing) before or while running. */
        boolean cancelled;

        Running(ClusterStore.Partition partition) {
            this.partition = partition;
        }

        /** Like Future.cancel(true): true if it had not ended; interrupts it if it runs. */
        synchronized boolean cancel() {
            if (cancelled) {
                return false;
            }
            cancelled = true;
            if (thread != null) {
                thread.interrupt();
            }
            return true;
        }

        /** Called by its thread before it runs; false when cancelled already. */
        synchronized boolean begin() {
            if (cancelled) {
                return false;
            }
            thread = Thread.currentThread();
            return true;
        }

        /** Called by its thread when it is done. */
        synchronized void end() {
            thread = null;
            cancelled = true;
            Thread.interrupted(); // a late cancel must not leak into the pool thread's next task
        }
    }

    Worker(ClusterNode node, int concurrencyLimit) {
        this.node = node;
        this.slots = new Semaphore(concurrencyLimit);
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "partition-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Partition steps executing now (the node's current_load). */
    int load() {
        return load.get();
    }

    /** One poll: fetch, claim, submit. */
    void poll() throws Exception {
        if (!node.isActive()) {
            return;
        }
        List<ClusterStore.Partition> assigned = node.store.fetchAssigned(node.nodeId);
        if (assigned.isEmpty()) {
            return;
        }
        node.store.updatePartitionStatus(assigned, node.nodeId, "CLAIMED");
        for (ClusterStore.Partition p : assigned) {
            Log.info("claimed partition %s of job execution %d (worker step %s)", p, p.jobExecutionId,
                    p.masterStepName);
            slots.acquireUninterruptibly();
            Running r = new Running(p);
            Runnable task = () -> {
                try {
                    if (r.begin()) {
                        run(r);
                    } else {
                        Log.warn("partition %s cancelled before it started (left CLAIMED)", p);
                    }
                } finally {
                    r.end();
                    running.remove(r);
                    slots.release();
                }
            };
            running.add(r);
            try {
                pool.execute(task);
            } catch (RuntimeException e) {
                running.remove(r);
                slots.release();
                throw e;
            }
        }
    }

    private void run(Running r) {
        ClusterStore.Partition p = r.partition;
        try {
            StepExecution se = node.repository.loadStep(p.jobExecutionId, p.stepExecutionId);
            if (se == null) {
                throw new IllegalStateException("No step execution " + p.stepExecutionId + " of job execution "
                        + p.jobExecutionId);
            }
            se.startTime = Db.now();
            se.status = BatchStatus.STARTED;
            RangeSumStep step = lookup(p.masterStepName);
            if (!node.isActive()) {
                Log.warn("partition %s not started: this node is not ACTIVE (left CLAIMED)", p);
                return;
            }
            node.repository.updateStep(se);
            load.incrementAndGet();
            Log.info("partition %s started on this node", p);
            try {
                step.execute(se);
                node.store.updatePartitionStatus(p, node.nodeId, "COMPLETED");
                Log.info("partition %s ended: step %s (%s), partition COMPLETED; read %d, written %d", p,
                        se.status, se.exitStatus.code, se.readCount, se.writeCount);
            } catch (Exception e) {
                if (!node.isActive()) {
                    Log.error(e, "partition %s interrupted while this node is not ACTIVE (left CLAIMED)", p);
                    Thread.currentThread().interrupt();
                } else {
                    Log.error(e, "partition %s failed", p);
                    se.status = BatchStatus.FAILED;
                    se.exitStatus = ExitStatus.FAILED.addDescription(RangeSumStep.describe(e));
                    node.store.updatePartitionStatus(p, node.nodeId, "FAILED");
                }
            } finally {
                load.decrementAndGet();
                se.endTime = Db.now();
                node.repository.updateStep(se);
            }
        } catch (Throwable e) {
            Log.error(e, "partition %s: failure around its step, marking it FAILED", p);
            try {
                node.store.updatePartitionStatus(p, node.nodeId, "FAILED");
            } catch (Exception e2) {
                Log.error(e2, "partition %s: could not mark it FAILED", p);
            }
        }
    }

    /** The step bean by name: this node knows exactly one step. */
    private RangeSumStep lookup(String name) {
        if (!RangeSumStep.NAME.equals(name)) {
            throw new IllegalStateException("No bean named '" + name + "' available");
        }
        return new RangeSumStep(node.repository, node.nodeId);
    }

    /** P4 for every running partition. */
    void refresh() throws Exception {
        List<ClusterStore.Partition> partitions = new ArrayList<>();
        for (Running r : running) {
            partitions.add(r.partition);
        }
        node.store.refreshPartitions(partitions, node.nodeId);
    }

    /** Fencing: interrupt every running partition. */
    void fence() {
        for (Running r : running) {
            if (r.cancel()) {
                Log.warn("fencing: interrupted partition %s", r.partition);
            }
        }
    }

    void shutdown() {
        pool.shutdownNow();
    }
}
