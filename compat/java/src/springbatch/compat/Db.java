package springbatch.compat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDateTime;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;

/**
 * The database: dialect, a small blocking connection pool, transactions, clock expressions and
 * Spring Batch's id generators.
 *
 * <p>Statements outside {@link #tx} run in auto-commit mode (each is visible at once, like the
 * cluster library's short service calls). On SQLite a transaction is {@code BEGIN IMMEDIATE} ...
 * {@code COMMIT} sent on an auto-commit connection, so it takes the write lock with its first
 * statement (waiting up to busy_timeout) instead of failing on a lock upgrade.
 */
final class Db implements AutoCloseable {

    enum Kind { POSTGRESQL, MARIADB, SQLITE }

    /** A unit of JDBC work. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Thrown by a versioned update that matched no row. */
    static final class OptimisticLockingFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OptimisticLockingFailure(String message) {
            super(message);
        }
    }

    final String url;
    final Kind kind;
    private final int maxSize;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private int open;
    private boolean closed;

    Db(String url, int maxSize) {
        this.url = url;
        this.kind = kindOf(url);
        this.maxSize = maxSize;
    }

    static Kind kindOf(String url) {
        String u = url.toLowerCase(java.util.Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return Kind.POSTGRESQL;
        }
        if (u.startsWith("jdbc:mariadb:") || u.startsWith("jdbc:mysql:")) {
            return Kind.MARIADB;
        }
        if (u.startsWith("jdbc:sqlite:")) {
            return Kind.SQLITE;
        }
        throw new IllegalArgumentException("unsupported JDBC URL (PostgreSQL, MariaDB or SQLite): " + url);
    }

    // -- pool --------------------------------------------------------------------------------------

    private Connection create() throws SQLException {
        Properties props = new Properties();
        if (kind == Kind.SQLITE) {
            // Several processes share the file: wait for locks, readers never block the writer.
            props.setProperty("busy_timeout", "30000");
            props.setProperty("journal_mode", "WAL");
        }
        Connection c = DriverManager.getConnection(url, props);
        if (kind == Kind.SQLITE) {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 30000");
            }
        }
        return c;
    }

    /** A connection of the pool (blocks while all are in use; interrupts are deferred). */
    Connection borrow() throws SQLException {
        boolean interrupted = false;
        try {
            synchronized (this) {
                while (true) {
                    if (closed) {
                        throw new SQLException("the connection pool is closed");
                    }
                    if (!idle.isEmpty()) {
                        return idle.pop();
                    }
                    if (open < maxSize) {
                        open++;
                        break;
                    }
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            try {
                return create();
            } catch (SQLException | RuntimeException e) {
                synchronized (this) {
                    open--;
                    notifyAll();
                }
                throw e;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Returns a connection; a broken one is closed instead. */
    void release(Connection c, boolean suspect) {
        boolean keep = true;
        if (suspect) {
            try {
                keep = !c.isClosed() && c.isValid(2);
            } catch (SQLException e) {
                keep = false;
            }
        }
        if (!keep) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
        synchronized (this) {
            if (keep && !closed) {
                idle.push(c);
            } else {
                open--;
                if (keep) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // closing anyway
                    }
                }
            }
            notifyAll();
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (Connection c : idle) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // shutting down
                }
            }
            open -= idle.size();
            idle.clear();
            notifyAll();
        }
    }

    /** Runs {@code work} in auto-commit mode. */
    <T> T call(Work<T> work) throws SQLException {
        Connection c = borrow();
        boolean suspect = false;
        try {
            return work.run(c);
        } catch (SQLException | RuntimeException e) {
            suspect = true;
            throw e;
        } finally {
            release(c, suspect);
        }
    }

    /** Runs {@code work} in one transaction (committed when it returns, rolled back when it throws). */
    <T> T tx(Work<T> work) throws SQLException {
        return tx(false, work);
    }

    <T> T tx(boolean serializable, Work<T> work) throws SQLException {
        Connection c = borrow();
        boolean suspect = false;
        int isolation = -1;
        try {
            if (kind == Kind.SQLITE) {
                exec(c, "BEGIN IMMEDIATE");
            } else {
                if (serializable) {
                    isolation = c.getTransactionIsolation();
                    c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                }
                c.setAutoCommit(false);
            }
            T result;
            try {
                result = work.run(c);
            } catch (SQLException | RuntimeException | Error e) {
                suspect = true;
                rollback(c);
                throw e;
            }
            if (kind == Kind.SQLITE) {
                exec(c, "COMMIT");
            } else {
                c.commit();
            }
            return result;
        } catch (SQLException | RuntimeException e) {
            if (!suspect) {
                suspect = true;
                rollback(c);
            }
            throw e;
        } finally {
            try {
                if (kind != Kind.SQLITE && !c.isClosed()) {
                    c.setAutoCommit(true);
                    if (isolation >= 0) {
                        c.setTransactionIsolation(isolation);
                    }
                }
            } catch (SQLException e) {
                suspect = true;
            }
            release(c, suspect);
        }
    }

    private void rollback(Connection c) {
        try {
            if (kind == Kind.SQLITE) {
                exec(c, "ROLLBACK");
            } else {
                c.rollback();
            }
        } catch (SQLException ignored) {
            // no transaction left to roll back, or the connection is gone
        }
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Whether an error is worth retrying a create transaction for. */
    static boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException) {
                SQLException s = (SQLException) t;
                String state = s.getSQLState();
                if (state != null && (state.startsWith("40") || state.equals("23505") || state.equals("23000"))) {
                    return true;
                }
                int code = s.getErrorCode();
                if (code == 1213 || code == 1205 || code == 5 || code == 6) { // deadlock, lock wait, SQLITE_BUSY/LOCKED
                    return true;
                }
            }
        }
        return false;
    }

    // -- SQL pieces per dialect ---------------------------------------------------------------------

    /** The database clock, as written into cluster timestamps (N1, N2, P3, P4, P8). */
    String clock() {
        switch (kind) {
            case SQLITE:
                return "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
            default:
                return "CURRENT_TIMESTAMP";
        }
    }

    /** The age of a cluster timestamp column in milliseconds, on the database clock. */
    String age(String column) {
        switch (kind) {
            case POSTGRESQL:
                return "(EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP - " + column + ")) * 1000)";
            case MARIADB:
                return "(TIMESTAMPDIFF(SECOND, " + column + ", NOW()) * 1000)";
            default:
                return "(" + clock() + " - " + column + ")";
        }
    }

    /** The next id of a Spring Batch generator, as Java's incrementer for the dialect draws it. */
    long nextId(Connection c, String generator) throws SQLException {
        switch (kind) {
            case POSTGRESQL:
                return scalarLong(c, "select nextval('" + generator + "')");
            case MARIADB:
                return scalarLong(c, "select next value for " + generator);
            default: {
                exec(c, "insert into " + generator + " values(null)");
                long id = scalarLong(c, "select max(rowid) from " + generator);
                try (PreparedStatement ps = c.prepareStatement("delete from " + generator + " where ID < ?")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                return id;
            }
        }
    }

    static long scalarLong(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row from: " + sql);
            }
            return rs.getLong(1);
        }
    }

    // -- values ---------------------------------------------------------------------------------------

    /** Spring Batch's clock: the JVM's local wall-clock time. */
    static LocalDateTime now() {
        return LocalDateTime.now();
    }

    static void setTimestamp(PreparedStatement ps, int index, LocalDateTime t) throws SQLException {
        if (t == null) {
            ps.setNull(index, Types.TIMESTAMP);
        } else {
            ps.setTimestamp(index, Timestamp.valueOf(t));
        }
    }

    static LocalDateTime getTimestamp(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toLocalDateTime();
    }

    static void setText(PreparedStatement ps, int index, String text) throws SQLException {
        if (text == null) {
            ps.setNull(index, Types.VARCHAR);
        } else {
            ps.setString(index, text);
        }
    }
}
