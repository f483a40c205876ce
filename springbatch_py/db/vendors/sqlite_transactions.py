"""SQLite transactions for several processes on one file: slower under contention, never failing
at once and never stuck.

SQLite has one write lock for the whole file. In WAL mode a transaction that has already read
and then writes cannot wait for that lock: SQLite answers ``SQLITE_BUSY`` at once, without
calling the busy handler (waiting could deadlock, and its snapshot may be stale anyway:
``SQLITE_BUSY_SNAPSHOT``). So every transaction that may write begins with ``BEGIN IMMEDIATE``,
which takes the write lock before anything is read:

* ``sqlite_begin="IMMEDIATE"`` (every transaction of :func:`~springbatch_py.db.transactions.
  new_transaction`: the repository's and the cluster store's writes);
* ``sqlite_begin="DEFERRED"``: a read-only transaction (one snapshot for several reads);
* no option (``Database.begin()``, a plain connection): the transaction's first statement
  decides; a write begins ``IMMEDIATE``, a read ``DEFERRED``.

The ``BEGIN`` is sent just before the transaction's first statement, not when it opens: a chunk's
transaction opens before its items are read and processed, and holding the file's only write
lock through that work would starve every other process (heartbeats included).

Waiting for the write lock is done here, not by SQLite's busy handler: that handler sleeps in
steps growing to 100 ms, so with a few dozen writers in five processes a waiter keeps arriving
after the lock was taken again and starves (seen: 20 s and more for one heartbeat). Here
``BEGIN IMMEDIATE`` is retried without the busy handler, after short randomized pauses (at most
:data:`MAX_PAUSE_S`), until the engine's busy timeout has passed; only then does it fail, with
SQLite's "database is locked", which :meth:`SQLiteDialect.is_transient_error` classes as
transient. A failed ``BEGIN`` has done nothing, so retrying it is always safe.

State: the pending ``BEGIN`` is kept in the DBAPI connection's ``info``; a connection belongs to
one thread at a time (the pool's checkout), so no lock is needed.
"""

from __future__ import annotations

import logging
import random
import re
import sqlite3
import time
from typing import Any

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)

_PENDING_BEGIN = "springbatch_pending_begin"

#: A wait for the write lock longer than this is logged (it delays heartbeats as much).
SLOW_WAIT_S = 2.0

#: The longest pause between two tries of ``BEGIN IMMEDIATE``.
MAX_PAUSE_S = 0.02
_FIRST_PAUSE_S = 0.001

#: Statements that only read: anything else may write and takes the write lock first.
_READ_ONLY = re.compile(r"^\s*(\(\s*)*(SELECT|PRAGMA|EXPLAIN|VALUES)\b", re.IGNORECASE)

_MODES = ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE")


def is_read_only(statement: str) -> bool:
    """Whether ``statement`` only reads (a ``SELECT``, ``PRAGMA``, ``EXPLAIN`` or ``VALUES``)."""
    return _READ_ONLY.match(statement) is not None


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error)


def begin(cursor: Any, mode: str, timeout_s: float) -> None:
    """Send ``BEGIN <mode>`` on ``cursor``; for a write lock, wait up to ``timeout_s`` for it
    (see the module docstring). Raises SQLite's "database is locked" once the time is up."""
    if mode not in ("IMMEDIATE", "EXCLUSIVE"):
        cursor.execute(f"BEGIN {mode}".strip())
        return
    started = time.monotonic()
    deadline = started + timeout_s
    pause = _FIRST_PAUSE_S
    tries = 0
    cursor.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            tries += 1
            try:
                cursor.execute(f"BEGIN {mode}")
                break
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, MAX_PAUSE_S)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    waited = time.monotonic() - started
    if waited > SLOW_WAIT_S:
        log.warning("waited %.1f s (%d tries) for the SQLite write lock", waited, tries)


def install(engine: Engine, timeout_s: float) -> None:
    """Let ``engine``'s transactions begin as the module docstring says.

    The sqlite3 module's own implicit transactions must be off (``isolation_level = None`` on
    each connection), so that these ``BEGIN`` statements delimit every transaction.
    """

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = str(connection.get_execution_options().get("sqlite_begin", "")).upper()
        if mode not in _MODES:
            raise ValueError(f"sqlite_begin={mode!r}; one of {', '.join(m for m in _MODES if m)}")
        connection.info[_PENDING_BEGIN] = mode or None

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(
        connection: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if _PENDING_BEGIN not in connection.info:
            return
        mode = connection.info.pop(_PENDING_BEGIN)
        if mode is None:
            mode = "DEFERRED" if is_read_only(statement) else "IMMEDIATE"
        begin(cursor, mode, timeout_s)

    def _forget(connection: Connection) -> None:
        # A transaction that ran no statement never began on the server.
        connection.info.pop(_PENDING_BEGIN, None)

    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _forget)
