package springbatch.compat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * A minimal JDBC job repository writing what Spring Batch's JDBC DAOs write: ids from the
 * generators, JOB_KEY per major, parameter rows, Java-serialized contexts with the SHORT/SERIALIZED
 * rule, and versioned updates ({@code VERSION = VERSION + 1 ... AND VERSION = ?}, 0 rows is an
 * optimistic locking failure). Spring Batch tables are named in upper case.
 */
final class JobRepository {

    /** A launch refused by Spring Batch's checks. */
    static final class LaunchException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LaunchException(String message) {
            super(message);
        }
    }

    private static final int MESSAGE_LENGTH = 2500;

    private static final String STEP_COLUMNS = "STEP_EXECUTION_ID, STEP_NAME, JOB_EXECUTION_ID, START_TIME, END_TIME, "
            + "STATUS, COMMIT_COUNT, READ_COUNT, FILTER_COUNT, WRITE_COUNT, EXIT_CODE, EXIT_MESSAGE, READ_SKIP_COUNT, "
            + "WRITE_SKIP_COUNT, PROCESS_SKIP_COUNT, ROLLBACK_COUNT, LAST_UPDATED, VERSION, CREATE_TIME";

    final Db db;
    final int major;

    JobRepository(Db db, int major) {
        this.db = db;
        this.major = major;
    }

    String instanceGenerator() {
        return major >= 6 ? "BATCH_JOB_INSTANCE_SEQ" : "BATCH_JOB_SEQ";
    }

    /** What Java writes under batch.version (the Spring Batch jar version). */
    String batchVersion() {
        return major >= 6 ? "6.0.4" : "5.2.6";
    }

    private static String truncate(String message) {
        return message.length() > MESSAGE_LENGTH ? message.substring(0, MESSAGE_LENGTH) : message;
    }

    // -- job executions -------------------------------------------------------------------------

    /**
     * Looks up or creates the job instance and creates a new execution with its parameter rows and
     * job context, in one SERIALIZABLE transaction (retried on serialization failures).
     */
    JobExecution createJobExecution(String jobName, List<JobKeys.Param> params) throws SQLException {
        String key = JobKeys.key(params, major);
        for (int attempt = 1;; attempt++) {
            try {
                return db.tx(true, c -> create(c, jobName, key, params));
            } catch (SQLException e) {
                if (attempt >= 8 || !Db.isTransient(e)) {
                    throw e;
                }
                Log.warn("creating the job execution failed (attempt %d), retrying: %s", attempt, e);
                try {
                    Thread.sleep(10L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private JobExecution create(Connection c, String jobName, String key, List<JobKeys.Param> params)
            throws SQLException {
        Long instanceId = null;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT JOB_INSTANCE_ID, JOB_NAME FROM BATCH_JOB_INSTANCE WHERE JOB_NAME = ? AND JOB_KEY = ?")) {
            ps.setString(1, jobName);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    instanceId = rs.getLong(1);
                }
            }
        }
        HashMap<String, Object> context = new HashMap<>();
        if (instanceId == null) {
            instanceId = db.nextId(c, instanceGenerator());
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO BATCH_JOB_INSTANCE (JOB_INSTANCE_ID, JOB_NAME, JOB_KEY, VERSION) VALUES (?, ?, ?, ?)")) {
                ps.setLong(1, instanceId);
                ps.setString(2, jobName);
                ps.setString(3, key);
                ps.setInt(4, 0);
                ps.executeUpdate();
            }
        } else {
            long last = checkRestartable(c, instanceId, params);
            context = loadContext(c, "BATCH_JOB_EXECUTION_CONTEXT", "JOB_EXECUTION_ID", last);
        }
        JobExecution je = new JobExecution();
        je.id = db.nextId(c, "BATCH_JOB_EXECUTION_SEQ");
        je.instanceId = instanceId;
        je.jobName = jobName;
        je.createTime = Db.now();
        je.lastUpdated = major >= 6 ? null : je.createTime;
        je.version = 0;
        je.context = context;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO BATCH_JOB_EXECUTION (JOB_EXECUTION_ID, "
                + "JOB_INSTANCE_ID, START_TIME, END_TIME, STATUS, EXIT_CODE, EXIT_MESSAGE, VERSION, CREATE_TIME, "
                + "LAST_UPDATED) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, je.id);
            ps.setLong(2, je.instanceId);
            Db.setTimestamp(ps, 3, null);
            Db.setTimestamp(ps, 4, null);
            ps.setString(5, je.status.name());
            ps.setString(6, je.exitStatus.code);
            ps.setString(7, je.exitStatus.description);
            ps.setInt(8, 0);
            Db.setTimestamp(ps, 9, je.createTime);
            Db.setTimestamp(ps, 10, je.lastUpdated);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO BATCH_JOB_EXECUTION_PARAMS (JOB_EXECUTION_ID, "
                + "PARAMETER_NAME, PARAMETER_TYPE, PARAMETER_VALUE, IDENTIFYING) VALUES (?, ?, ?, ?, ?)")) {
            int rows = 0;
            for (JobKeys.Param p : JobKeys.byName(params)) {
                ps.setLong(1, je.id);
                ps.setString(2, p.name);
                ps.setString(3, JobKeys.type(p.value).getName());
                ps.setString(4, JobKeys.databaseValue(p.value));
                ps.setString(5, p.identifying ? "Y" : "N");
                ps.addBatch();
                rows++;
            }
            if (rows > 0) {
                ps.executeBatch();
            }
        }
        insertContext(c, "BATCH_JOB_EXECUTION_CONTEXT", "JOB_EXECUTION_ID", je.id, je.context);
        return je;
    }

    /** Spring Batch's launch checks over all executions of an instance; the last execution's id. */
    private long checkRestartable(Connection c, long instanceId, List<JobKeys.Param> params) throws SQLException {
        boolean identifying = false;
        for (JobKeys.Param p : JobKeys.byName(params)) {
            identifying |= p.identifying;
        }
        long last = -1;
        try (PreparedStatement ps = c.prepareStatement("SELECT JOB_EXECUTION_ID, STATUS FROM BATCH_JOB_EXECUTION "
                + "WHERE JOB_INSTANCE_ID = ? ORDER BY JOB_EXECUTION_ID DESC")) {
            ps.setLong(1, instanceId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (last < 0) {
                        last = rs.getLong(1);
                    }
                    BatchStatus status = BatchStatus.parse(rs.getString(2));
                    if (status.isRunning()) {
                        throw new LaunchException("A job execution for this job is already running: instance "
                                + instanceId);
                    }
                    if (status == BatchStatus.UNKNOWN) {
                        throw new LaunchException("Cannot restart job from UNKNOWN status. The last execution "
                                + "ended with a failure that could not be rolled back, so it may be dangerous to "
                                + "proceed. Manual intervention is probably necessary.");
                    }
                    if ((status == BatchStatus.COMPLETED || status == BatchStatus.ABANDONED)
                            && (major >= 6 || identifying)) {
                        throw new LaunchException("A job instance already exists and is complete for identifying "
                                + "parameters. If you want to run this job again, change the parameters.");
                    }
                }
            }
        }
        if (last < 0) {
            throw new LaunchException("Cannot find any job execution for job instance: id=" + instanceId);
        }
        return last;
    }

    /** Spring's job update: adopt a newer version (merging its status), then the versioned UPDATE. */
    void updateJob(JobExecution je) throws SQLException {
        je.lastUpdated = Db.now();
        db.tx(c -> {
            int dbVersion;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT VERSION, STATUS FROM BATCH_JOB_EXECUTION WHERE JOB_EXECUTION_ID = ?")) {
                ps.setLong(1, je.id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new Db.OptimisticLockingFailure("job execution " + je.id + " does not exist");
                    }
                    dbVersion = rs.getInt(1);
                    if (dbVersion != je.version) {
                        je.upgradeStatus(BatchStatus.parse(rs.getString(2)));
                        je.version = dbVersion;
                    }
                }
            }
            if (je.status == BatchStatus.STOPPING && je.endTime != null) {
                je.upgradeStatus(BatchStatus.STOPPED);
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE BATCH_JOB_EXECUTION SET START_TIME = ?, "
                    + "END_TIME = ?, STATUS = ?, EXIT_CODE = ?, EXIT_MESSAGE = ?, VERSION = VERSION + 1, "
                    + "CREATE_TIME = ?, LAST_UPDATED = ? WHERE JOB_EXECUTION_ID = ? AND VERSION = ?")) {
                Db.setTimestamp(ps, 1, je.startTime);
                Db.setTimestamp(ps, 2, je.endTime);
                ps.setString(3, je.status.name());
                ps.setString(4, je.exitStatus.code);
                ps.setString(5, truncate(je.exitStatus.description));
                Db.setTimestamp(ps, 6, je.createTime);
                Db.setTimestamp(ps, 7, je.lastUpdated);
                ps.setLong(8, je.id);
                ps.setInt(9, je.version);
                if (ps.executeUpdate() == 0) {
                    throw new Db.OptimisticLockingFailure("Attempt to update job execution id=" + je.id
                            + " with wrong version (" + je.version + ")");
                }
            }
            return null;
        });
        je.version++;
    }

    void updateJobContext(JobExecution je) throws SQLException {
        db.tx(c -> {
            updateContext(c, "BATCH_JOB_EXECUTION_CONTEXT", "JOB_EXECUTION_ID", je.id, je.context);
            return null;
        });
    }

    JobExecution loadJob(long jobExecutionId) throws SQLException {
        return db.call(c -> loadJob(c, jobExecutionId));
    }

    JobExecution loadJob(Connection c, long jobExecutionId) throws SQLException {
        JobExecution je = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT E.JOB_EXECUTION_ID, E.JOB_INSTANCE_ID, "
                + "E.START_TIME, E.END_TIME, E.STATUS, E.EXIT_CODE, E.EXIT_MESSAGE, E.CREATE_TIME, E.LAST_UPDATED, "
                + "E.VERSION, I.JOB_NAME FROM BATCH_JOB_EXECUTION E JOIN BATCH_JOB_INSTANCE I "
                + "ON E.JOB_INSTANCE_ID = I.JOB_INSTANCE_ID WHERE E.JOB_EXECUTION_ID = ?")) {
            ps.setLong(1, jobExecutionId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    je = new JobExecution();
                    je.id = rs.getLong("JOB_EXECUTION_ID");
                    je.instanceId = rs.getLong("JOB_INSTANCE_ID");
                    je.startTime = Db.getTimestamp(rs, "START_TIME");
                    je.endTime = Db.getTimestamp(rs, "END_TIME");
                    je.status = BatchStatus.parse(rs.getString("STATUS"));
                    je.exitStatus = new ExitStatus(rs.getString("EXIT_CODE"), rs.getString("EXIT_MESSAGE"));
                    je.createTime = Db.getTimestamp(rs, "CREATE_TIME");
                    je.lastUpdated = Db.getTimestamp(rs, "LAST_UPDATED");
                    je.version = rs.getInt("VERSION");
                    je.jobName = rs.getString("JOB_NAME");
                }
            }
        }
        if (je != null) {
            je.context = loadContext(c, "BATCH_JOB_EXECUTION_CONTEXT", "JOB_EXECUTION_ID", je.id);
        }
        return je;
    }

    /** The STATUS of a job execution. */
    static BatchStatus jobStatus(Connection c, long jobExecutionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT STATUS FROM BATCH_JOB_EXECUTION WHERE JOB_EXECUTION_ID = ?")) {
            ps.setLong(1, jobExecutionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? BatchStatus.parse(rs.getString(1)) : BatchStatus.UNKNOWN;
            }
        }
    }

    // -- step executions ------------------------------------------------------------------------

    /** Saves a new step execution: 5.x with its context, 6.0 with an empty context row. */
    void addStep(StepExecution s) throws SQLException {
        db.tx(c -> {
            insertStep(c, s);
            insertContext(c, "BATCH_STEP_EXECUTION_CONTEXT", "STEP_EXECUTION_ID", s.id,
                    major >= 6 ? new HashMap<>() : s.context);
            return null;
        });
    }

    /**
     * Saves partition step executions: 5.x inserts all rows, then all contexts, in one transaction;
     * 6.0 creates each (row and empty context) and then updates its context.
     */
    void addSteps(List<StepExecution> steps) throws SQLException {
        if (major >= 6) {
            for (StepExecution s : steps) {
                addStep(s);
                updateStepContext(s);
            }
            return;
        }
        db.tx(c -> {
            for (StepExecution s : steps) {
                insertStep(c, s);
            }
            for (StepExecution s : steps) {
                insertContext(c, "BATCH_STEP_EXECUTION_CONTEXT", "STEP_EXECUTION_ID", s.id, s.context);
            }
            return null;
        });
    }

    private void insertStep(Connection c, StepExecution s) throws SQLException {
        s.id = db.nextId(c, "BATCH_STEP_EXECUTION_SEQ");
        s.version = 0;
        s.createTime = Db.now();
        s.lastUpdated = major >= 6 ? null : s.createTime;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO BATCH_STEP_EXECUTION (STEP_EXECUTION_ID, "
                + "VERSION, STEP_NAME, JOB_EXECUTION_ID, START_TIME, END_TIME, STATUS, COMMIT_COUNT, READ_COUNT, "
                + "FILTER_COUNT, WRITE_COUNT, EXIT_CODE, EXIT_MESSAGE, READ_SKIP_COUNT, WRITE_SKIP_COUNT, "
                + "PROCESS_SKIP_COUNT, ROLLBACK_COUNT, LAST_UPDATED, CREATE_TIME) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, s.id);
            ps.setInt(2, 0);
            ps.setString(3, s.stepName);
            ps.setLong(4, s.jobExecutionId);
            Db.setTimestamp(ps, 5, s.startTime);
            Db.setTimestamp(ps, 6, s.endTime);
            ps.setString(7, s.status.name());
            ps.setLong(8, s.commitCount);
            ps.setLong(9, s.readCount);
            ps.setLong(10, s.filterCount);
            ps.setLong(11, s.writeCount);
            ps.setString(12, s.exitStatus.code);
            ps.setString(13, truncate(s.exitStatus.description));
            ps.setLong(14, s.readSkipCount);
            ps.setLong(15, s.writeSkipCount);
            ps.setLong(16, s.processSkipCount);
            ps.setLong(17, s.rollbackCount);
            Db.setTimestamp(ps, 18, s.lastUpdated);
            Db.setTimestamp(ps, 19, s.createTime);
            ps.executeUpdate();
        }
    }

    void updateStep(StepExecution s) throws SQLException {
        db.tx(c -> {
            updateStep(c, s);
            return null;
        });
    }

    /**
     * Spring's step update inside the caller's transaction: the versioned UPDATE (6.0 first adopts
     * the row's version when the job is being stopped), then a stop request on the job marks the
     * step terminate-only.
     */
    void updateStep(Connection c, StepExecution s) throws SQLException {
        s.lastUpdated = Db.now();
        BatchStatus jobStatus = jobStatus(c, s.jobExecutionId);
        if (major >= 6 && (jobStatus == BatchStatus.STOPPING || jobStatus == BatchStatus.STOPPED)) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT VERSION, STATUS FROM BATCH_STEP_EXECUTION WHERE STEP_EXECUTION_ID = ?")) {
                ps.setLong(1, s.id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getInt(1) != s.version) {
                        s.version = rs.getInt(1);
                        BatchStatus stored = BatchStatus.parse(rs.getString(2));
                        if (stored.compareTo(s.status) > 0) {
                            s.status = stored;
                        }
                    }
                }
            }
            s.terminateOnly = true;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE BATCH_STEP_EXECUTION SET START_TIME = ?, "
                + "END_TIME = ?, STATUS = ?, COMMIT_COUNT = ?, READ_COUNT = ?, FILTER_COUNT = ?, WRITE_COUNT = ?, "
                + "EXIT_CODE = ?, EXIT_MESSAGE = ?, VERSION = VERSION + 1, READ_SKIP_COUNT = ?, "
                + "PROCESS_SKIP_COUNT = ?, WRITE_SKIP_COUNT = ?, ROLLBACK_COUNT = ?, LAST_UPDATED = ? "
                + "WHERE STEP_EXECUTION_ID = ? AND VERSION = ?")) {
            Db.setTimestamp(ps, 1, s.startTime);
            Db.setTimestamp(ps, 2, s.endTime);
            ps.setString(3, s.status.name());
            ps.setLong(4, s.commitCount);
            ps.setLong(5, s.readCount);
            ps.setLong(6, s.filterCount);
            ps.setLong(7, s.writeCount);
            ps.setString(8, s.exitStatus.code);
            ps.setString(9, truncate(s.exitStatus.description));
            ps.setLong(10, s.readSkipCount);
            ps.setLong(11, s.processSkipCount);
            ps.setLong(12, s.writeSkipCount);
            ps.setLong(13, s.rollbackCount);
            Db.setTimestamp(ps, 14, s.lastUpdated);
            ps.setLong(15, s.id);
            ps.setInt(16, s.version);
            if (ps.executeUpdate() == 0) {
                throw new Db.OptimisticLockingFailure("Attempt to update step execution id=" + s.id
                        + " with wrong version (" + s.version + "), where current version is "
                        + currentStepVersion(c, s.id));
            }
        }
        s.version++;
        if (jobStatus == BatchStatus.STOPPING) {
            s.terminateOnly = true;
        }
    }

    private static String currentStepVersion(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT VERSION FROM BATCH_STEP_EXECUTION WHERE STEP_EXECUTION_ID = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Integer.toString(rs.getInt(1)) : "(none: the row is gone)";
            }
        }
    }

    void updateStepContext(StepExecution s) throws SQLException {
        db.tx(c -> {
            updateStepContext(c, s);
            return null;
        });
    }

    void updateStepContext(Connection c, StepExecution s) throws SQLException {
        updateContext(c, "BATCH_STEP_EXECUTION_CONTEXT", "STEP_EXECUTION_ID", s.id, s.context);
    }

    /** A step execution of a job execution with its context and its job execution (or null). */
    StepExecution loadStep(long jobExecutionId, long stepExecutionId) throws SQLException {
        return db.call(c -> {
            List<StepExecution> found = querySteps(c, "JOB_EXECUTION_ID = ? AND STEP_EXECUTION_ID = ?",
                    jobExecutionId, stepExecutionId);
            if (found.isEmpty()) {
                return null;
            }
            StepExecution s = found.get(0);
            s.jobExecution = loadJob(c, jobExecutionId);
            return s;
        });
    }

    /** All step executions of a job execution, with their contexts, by id. */
    List<StepExecution> loadSteps(long jobExecutionId) throws SQLException {
        return db.call(c -> querySteps(c, "JOB_EXECUTION_ID = ?", jobExecutionId));
    }

    /** The last execution of a step in a job instance (CREATE_TIME, then id, descending), or null. */
    StepExecution lastStepExecution(long instanceId, String stepName) throws SQLException {
        return db.call(c -> {
            List<StepExecution> found = querySteps(c, "STEP_NAME = ? AND JOB_EXECUTION_ID IN (SELECT "
                    + "JOB_EXECUTION_ID FROM BATCH_JOB_EXECUTION WHERE JOB_INSTANCE_ID = ?)", stepName, instanceId);
            StepExecution last = null;
            for (StepExecution s : found) {
                if (last == null || s.createTime.compareTo(last.createTime) > 0
                        || (s.createTime.equals(last.createTime) && s.id > last.id)) {
                    last = s;
                }
            }
            return last;
        });
    }

    private List<StepExecution> querySteps(Connection c, String where, Object... args) throws SQLException {
        List<StepExecution> steps = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + STEP_COLUMNS
                + " FROM BATCH_STEP_EXECUTION WHERE " + where + " ORDER BY STEP_EXECUTION_ID")) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StepExecution s = new StepExecution();
                    s.id = rs.getLong("STEP_EXECUTION_ID");
                    s.stepName = rs.getString("STEP_NAME");
                    s.jobExecutionId = rs.getLong("JOB_EXECUTION_ID");
                    s.startTime = Db.getTimestamp(rs, "START_TIME");
                    s.endTime = Db.getTimestamp(rs, "END_TIME");
                    s.status = BatchStatus.parse(rs.getString("STATUS"));
                    s.commitCount = rs.getLong("COMMIT_COUNT");
                    s.readCount = rs.getLong("READ_COUNT");
                    s.filterCount = rs.getLong("FILTER_COUNT");
                    s.writeCount = rs.getLong("WRITE_COUNT");
                    s.exitStatus = new ExitStatus(rs.getString("EXIT_CODE"), rs.getString("EXIT_MESSAGE"));
                    s.readSkipCount = rs.getLong("READ_SKIP_COUNT");
                    s.writeSkipCount = rs.getLong("WRITE_SKIP_COUNT");
                    s.processSkipCount = rs.getLong("PROCESS_SKIP_COUNT");
                    s.rollbackCount = rs.getLong("ROLLBACK_COUNT");
                    s.lastUpdated = Db.getTimestamp(rs, "LAST_UPDATED");
                    s.version = rs.getInt("VERSION");
                    s.createTime = Db.getTimestamp(rs, "CREATE_TIME");
                    steps.add(s);
                }
            }
        }
        for (StepExecution s : steps) {
            s.context = loadContext(c, "BATCH_STEP_EXECUTION_CONTEXT", "STEP_EXECUTION_ID", s.id);
        }
        return steps;
    }

    // -- contexts ------------------------------------------------------------------------------------

    private static void insertContext(Connection c, String table, String idColumn, long id,
            HashMap<String, Object> context) throws SQLException {
        String[] columns = Contexts.columns(Contexts.serialize(context));
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (SHORT_CONTEXT, SERIALIZED_CONTEXT, " + idColumn + ") VALUES (?, ?, ?)")) {
            ps.setString(1, columns[0]);
            Db.setText(ps, 2, columns[1]);
            ps.setLong(3, id);
            ps.executeUpdate();
        }
    }

    private static void updateContext(Connection c, String table, String idColumn, long id,
            HashMap<String, Object> context) throws SQLException {
        String[] columns = Contexts.columns(Contexts.serialize(context));
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table
                + " SET SHORT_CONTEXT = ?, SERIALIZED_CONTEXT = ? WHERE " + idColumn + " = ?")) {
            ps.setString(1, columns[0]);
            Db.setText(ps, 2, columns[1]);
            ps.setLong(3, id);
            ps.executeUpdate(); // row count not checked, like Java
        }
    }

    private static HashMap<String, Object> loadContext(Connection c, String table, String idColumn, long id)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT SHORT_CONTEXT, SERIALIZED_CONTEXT FROM " + table + " WHERE " + idColumn + " = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new HashMap<>();
                }
                return Contexts.fromColumns(rs.getString(1), rs.getString(2));
            }
        }
    }
}
