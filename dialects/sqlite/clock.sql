-- The database clock. SQLite stores every timestamp as INTEGER epoch milliseconds.

-- name: clock_now
-- The database clock in epoch milliseconds.
SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER);

-- name: clock_session_zone
-- The session time zone, as the server names it.
-- not supported: SQLite has no session time zone; springbatch-py converts times in Python.
