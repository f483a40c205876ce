package springbatch.compat;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster tables ({@code batch_nodes}, {@code batch_job_coordination}, {@code batch_partitions},
 * lower case) through the statements of the Java library at 3.x (facts 8.3/8.4): database-clock
 * times for nodes and partitions, JVM times for coordination rows, and its guards (including its
 * weaknesses: a claim's row count is not looked at). Every statement runs on its own in auto-commit
 * mode. Statement ids (N1, P3, ...) follow the facts document.
 */
final class ClusterStore {

    /** A node row of N5. */
    static final class ActiveNode {
        final String nodeId;
        final long currentLoad;

        ActiveNode(String nodeId, long currentLoad) {
            this.nodeId = nodeId;
            this.currentLoad = currentLoad;
        }
    }

    /** A partition row as P2/P7 return it. */
    static final class Partition {
        long stepExecutionId;
        long jobExecutionId;
        String partitionKey;
        long masterStepExecutionId;
        boolean transferable;
        String masterStepName;
        String assignedNode;

        @Override
        public String toString() {
            return partitionKey + " (step execution " + stepExecutionId + ")";
        }
    }

    /** A coordination row of C3. */
    static final class Coordination {
        long jobExecutionId;
        String masterNodeId;
        long masterStepExecutionId;
        String masterStepName;
        String status;
    }

    private final Db db;

    ClusterStore(Db db) {
        this.db = db;
    }

    private static Timestamp jvmNow() {
        return Timestamp.valueOf(LocalDateTime.now());
    }

    // -- nodes ---------------------------------------------------------------------------------------

    /** N1. */
    void registerNode(String nodeId, String hostIdentifier) throws SQLException {
        db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_nodes (node_id, created_time, "
                    + "last_updated_time, status, host_identifier) VALUES (?, " + db.clock() + ", " + db.clock()
                    + ", 'ACTIVE', ?)")) {
                ps.setString(1, nodeId);
                ps.setString(2, hostIdentifier);
                return ps.executeUpdate();
            }
        });
    }

    /** N2: rows updated (0 = the row is gone). */
    int heartbeat(String nodeId, long currentLoad) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batch_nodes SET last_updated_time = "
                    + db.clock() + ", status = 'ACTIVE', current_load = ? WHERE node_id = ?")) {
                ps.setLong(1, currentLoad);
                ps.setString(2, nodeId);
                return ps.executeUpdate();
            }
        });
    }

    /** N3. */
    int markUnreachable(long thresholdMillis) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batch_nodes SET status = ? WHERE status = ? AND "
                    + db.age("last_updated_time") + " >= ?")) {
                ps.setString(1, "UNREACHABLE");
                ps.setString(2, "ACTIVE");
                ps.setLong(3, thresholdMillis);
                return ps.executeUpdate();
            }
        });
    }

    /** N4. */
    int deleteUnreachable(long thresholdMillis) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM batch_nodes WHERE status = ? AND "
                    + db.age("last_updated_time") + " >= ?")) {
                ps.setString(1, "UNREACHABLE");
                ps.setLong(2, thresholdMillis);
                return ps.executeUpdate();
            }
        });
    }

    /** N5: ACTIVE nodes, least loaded first. */
    List<ActiveNode> activeNodes() throws SQLException {
        return db.call(c -> {
            List<ActiveNode> nodes = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT node_id, current_load FROM batch_nodes WHERE status = ? ORDER BY current_load ASC")) {
                ps.setString(1, "ACTIVE");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        nodes.add(new ActiveNode(rs.getString(1), rs.getLong(2)));
                    }
                }
            }
            return nodes;
        });
    }

    /** N6: every node row (the health view); returns how many rows there are. */
    int listNodes() throws SQLException {
        return db.call(c -> {
            int n = 0;
            try (PreparedStatement ps = c.prepareStatement("SELECT node_id, created_time, last_updated_time, "
                    + "status, host_identifier, current_load FROM batch_nodes");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String status = rs.getString("status");
                    if (!"ACTIVE".equals(status) && !"UNREACHABLE".equals(status)) {
                        throw new IllegalStateException("No enum constant NodeStatus." + status);
                    }
                    n++;
                }
            }
            return n;
        });
    }

    // -- coordination -------------------------------------------------------------------------------

    /** C1: status CREATED, times from the JVM clock. */
    void insertCoordination(long jobExecutionId, String masterNodeId, long masterStepExecutionId,
            String masterStepName) throws SQLException {
        db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_job_coordination (job_execution_id, "
                    + "master_node_id, master_step_execution_id, master_step_name, status, created_time, last_updated) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                Timestamp now = jvmNow();
                ps.setLong(1, jobExecutionId);
                ps.setString(2, masterNodeId);
                ps.setLong(3, masterStepExecutionId);
                ps.setString(4, masterStepName);
                ps.setString(5, "CREATED");
                ps.setTimestamp(6, now);
                ps.setTimestamp(7, now);
                return ps.executeUpdate();
            }
        });
    }

    /** C2: no status guard. */
    int updateCoordination(long jobExecutionId, long masterStepExecutionId, String status) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batch_job_coordination SET status = ?, "
                    + "last_updated = ? WHERE job_execution_id = ? AND master_step_execution_id = ?")) {
                ps.setString(1, status);
                ps.setTimestamp(2, jvmNow());
                ps.setLong(3, jobExecutionId);
                ps.setLong(4, masterStepExecutionId);
                return ps.executeUpdate();
            }
        });
    }

    /** C3: STARTED or RECOVERING jobs whose master node row is gone. */
    List<Coordination> orphanedMasters() throws SQLException {
        return db.call(c -> {
            List<Coordination> found = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT bc.job_execution_id, bc.master_node_id, "
                    + "bc.master_step_execution_id, bc.master_step_name, bc.status FROM batch_job_coordination bc "
                    + "WHERE bc.status IN ('STARTED', 'RECOVERING') AND NOT EXISTS "
                    + "(SELECT 1 FROM batch_nodes bn WHERE bn.node_id = bc.master_node_id)");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Coordination co = new Coordination();
                    co.jobExecutionId = rs.getLong(1);
                    co.masterNodeId = rs.getString(2);
                    co.masterStepExecutionId = rs.getLong(3);
                    co.masterStepName = rs.getString(4);
                    co.status = rs.getString(5);
                    found.add(co);
                }
            }
            return found;
        });
    }

    /** C4: take over a lost master's job; 1 row = this node won. */
    int claimOrphanedMaster(Coordination orphan, String nodeId) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batch_job_coordination SET status = 'RECOVERING', "
                    + "master_node_id = ?, last_updated = ? WHERE job_execution_id = ? AND master_node_id = ? "
                    + "AND status IN ('STARTED', 'RECOVERING')")) {
                ps.setString(1, nodeId);
                ps.setTimestamp(2, jvmNow());
                ps.setLong(3, orphan.jobExecutionId);
                ps.setString(4, orphan.masterNodeId);
                return ps.executeUpdate();
            }
        });
    }

    // -- partitions ----------------------------------------------------------------------------------

    /** P1: all partitions PENDING, one JDBC batch; last_updated takes the column default. */
    void insertPartitions(List<Partition> partitions) throws SQLException {
        db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO batch_partitions (step_execution_id, "
                    + "job_execution_id, partition_key, assigned_node, status, master_step_execution_id, "
                    + "is_transferable) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (Partition p : partitions) {
                    ps.setLong(1, p.stepExecutionId);
                    ps.setLong(2, p.jobExecutionId);
                    ps.setString(3, p.partitionKey);
                    Db.setText(ps, 4, p.assignedNode);
                    ps.setString(5, "PENDING");
                    ps.setLong(6, p.masterStepExecutionId);
                    ps.setInt(7, p.transferable ? 1 : 0);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** P2: PENDING partitions assigned to this node whose job is STARTED (master row must exist). */
    List<Partition> fetchAssigned(String nodeId) throws SQLException {
        return db.call(c -> {
            List<Partition> found = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT bp.status, bp.job_execution_id, bp.partition_key, "
                    + "bp.step_execution_id, bp.master_step_execution_id, bp.is_transferable, bc.master_step_name "
                    + "FROM batch_partitions bp JOIN batch_job_coordination bc "
                    + "ON bp.master_step_execution_id = bc.master_step_execution_id "
                    + "JOIN batch_nodes bn ON bc.master_node_id = bn.node_id "
                    + "WHERE bp.assigned_node = ? AND bp.status = ? AND bc.status = ?")) {
                ps.setString(1, nodeId);
                ps.setString(2, "PENDING");
                ps.setString(3, "STARTED");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Partition p = new Partition();
                        p.jobExecutionId = rs.getLong("job_execution_id");
                        p.partitionKey = rs.getString("partition_key");
                        p.stepExecutionId = rs.getLong("step_execution_id");
                        p.masterStepExecutionId = rs.getLong("master_step_execution_id");
                        p.transferable = rs.getInt("is_transferable") == 1;
                        p.masterStepName = rs.getString("master_step_name");
                        p.assignedNode = nodeId;
                        found.add(p);
                    }
                }
            }
            return found;
        });
    }

    /** P3 for several partitions of one node in one batch (row counts ignored: the claim). */
    void updatePartitionStatus(List<Partition> partitions, String nodeId, String status) throws SQLException {
        db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement(p3())) {
                for (Partition p : partitions) {
                    bindP3(ps, p, nodeId, status);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** P3 for one partition: COMPLETED/FAILED by its worker, FAILED by a master for an orphan. */
    int updatePartitionStatus(Partition p, String assignedNode, String status) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement(p3())) {
                bindP3(ps, p, assignedNode, status);
                return ps.executeUpdate();
            }
        });
    }

    private String p3() {
        return "UPDATE batch_partitions SET status = ?, last_updated = " + db.clock() + " WHERE step_execution_id = ? "
                + "AND job_execution_id = ? AND master_step_execution_id = ? AND assigned_node = ? "
                + "AND status IN ('PENDING', 'CLAIMED')";
    }

    private static void bindP3(PreparedStatement ps, Partition p, String node, String status) throws SQLException {
        ps.setString(1, status);
        ps.setLong(2, p.stepExecutionId);
        ps.setLong(3, p.jobExecutionId);
        ps.setLong(4, p.masterStepExecutionId);
        Db.setText(ps, 5, node);
    }

    /** P4: refresh the partitions this node is running (no status guard). */
    void refreshPartitions(List<Partition> partitions, String nodeId) throws SQLException {
        if (partitions.isEmpty()) {
            return;
        }
        db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batch_partitions SET last_updated = " + db.clock()
                    + " WHERE step_execution_id = ? AND job_execution_id = ? AND master_step_execution_id = ? "
                    + "AND assigned_node = ?")) {
                for (Partition p : partitions) {
                    ps.setLong(1, p.stepExecutionId);
                    ps.setLong(2, p.jobExecutionId);
                    ps.setLong(3, p.masterStepExecutionId);
                    ps.setString(4, nodeId);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** P5 (PENDING or CLAIMED) and P6 (FAILED) counts of a master step. */
    long countPartitions(long masterStepExecutionId, boolean failed) throws SQLException {
        return db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM batch_partitions WHERE "
                    + "master_step_execution_id = ? AND " + (failed ? "status = 'FAILED'" : "status IN ('PENDING', 'CLAIMED')"))) {
                ps.setLong(1, masterStepExecutionId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** P7: open partitions of a master step, silent for the threshold, whose node row is gone. */
    List<Partition> orphanedPartitions(long masterStepExecutionId, long thresholdMillis) throws SQLException {
        return db.call(c -> {
            List<Partition> found = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT bp.step_execution_id, bp.job_execution_id, "
                    + "bp.partition_key, bp.master_step_execution_id, bp.is_transferable, bp.assigned_node, "
                    + "bc.master_step_name FROM batch_partitions bp JOIN batch_job_coordination bc "
                    + "ON bp.master_step_execution_id = bc.master_step_execution_id "
                    + "WHERE bp.master_step_execution_id = ? AND bp.status IN ('PENDING', 'CLAIMED') AND "
                    + db.age("bp.last_updated") + " >= ? AND NOT EXISTS "
                    + "(SELECT 1 FROM batch_nodes bn WHERE bn.node_id = bp.assigned_node)")) {
                ps.setLong(1, masterStepExecutionId);
                ps.setLong(2, thresholdMillis);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Partition p = new Partition();
                        p.stepExecutionId = rs.getLong(1);
                        p.jobExecutionId = rs.getLong(2);
                        p.partitionKey = rs.getString(3);
                        p.masterStepExecutionId = rs.getLong(4);
                        p.transferable = rs.getInt(5) == 1;
                        p.assignedNode = rs.getString(6);
                        p.masterStepName = rs.getString(7);
                        found.add(p);
                    }
                }
            }
            return found;
        });
    }

    /** P8: reassign orphans (each to its node), back to PENDING; guard: still PENDING or CLAIMED. */
    void reassign(List<Partition> orphans, List<String> newNodes) throws SQLException {
        db.call(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE batch_partitions SET assigned_node = ?, "
                    + "last_updated = " + db.clock() + ", status = 'PENDING' WHERE job_execution_id = ? AND "
                    + "master_step_execution_id = ? AND step_execution_id = ? AND status IN ('PENDING', 'CLAIMED')")) {
                for (int i = 0; i < orphans.size(); i++) {
                    Partition p = orphans.get(i);
                    ps.setString(1, newNodes.get(i));
                    ps.setLong(2, p.jobExecutionId);
                    ps.setLong(3, p.masterStepExecutionId);
                    ps.setLong(4, p.stepExecutionId);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }
}
