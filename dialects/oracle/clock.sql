-- The database clock and the session's time zone.

-- name: clock_now
-- The database clock as a naive timestamp of the session time zone.
SELECT LOCALTIMESTAMP FROM DUAL;

-- name: clock_session_zone
-- The session time zone, as the server names it.
SELECT SESSIONTIMEZONE FROM DUAL;
