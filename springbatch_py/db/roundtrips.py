"""Client round trips: what an engine asked of its database server, by kind.

Every statement costs one round trip; so do the transaction ends and beginnings a driver sends
of its own accord (psycopg sends ``BEGIN`` before the first statement of a transaction, PyMySQL
sends ``COMMIT``/``ROLLBACK`` whether or not anything is open), the pings that check a pooled
connection before use, and each new connection's handshake. :class:`RoundTrips` counts them
where SQLAlchemy hands work to the driver, asking the dialect what the driver sends
(:meth:`~springbatch_py.db.dialect.Dialect.sends_begin`,
:meth:`~springbatch_py.db.dialect.Dialect.sends_end`). Benchmarks compare the count with a
proxy that counts on the wire (``bench/wire.py``).

Pooled connections are checked before use only after they sat idle for
:data:`PING_AFTER_IDLE_S` (a connection in steady use proves itself with each statement, as
HikariCP lets a connection used within its bypass window skip validation); a dead one found so
is replaced. A connection that died while in use fails its statement once: the callers retry
what must land, and SQLAlchemy then renews the whole pool.

Threads: the counters are shared by every thread of the engine and guarded by a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger(__name__)

#: A pooled connection idle this long is pinged before it is handed out.
PING_AFTER_IDLE_S = 5.0
_CHECKED_IN = "springbatch_checked_in"


class DriverTraits(Protocol):
    """What the counter asks of a dialect (class methods, usable before detection)."""

    @classmethod
    def sends_begin(cls, dbapi_connection: Any) -> bool: ...

    @classmethod
    def sends_end(cls, dbapi_connection: Any) -> bool: ...


class RoundTrips:
    """Round trips of one engine, by kind: the first word of each statement (``SELECT``,
    ``UPDATE``, ...), ``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``PING`` and ``CONNECT``."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str, count: int = 1) -> None:
        """Count ``count`` round trips of ``kind``."""
        with self._lock:
            self._counts[kind] += count

    def snapshot(self) -> Counter[str]:
        """The counts so far, by kind (a copy)."""
        with self._lock:
            return Counter(self._counts)

    def total(self) -> int:
        """All round trips so far."""
        with self._lock:
            return sum(self._counts.values())


_engines: WeakKeyDictionary[Engine, RoundTrips] = WeakKeyDictionary()


def of(engine: Engine) -> RoundTrips:
    """The counter of ``engine`` (an empty one for an engine created elsewhere)."""
    counter = _engines.get(engine)
    if counter is None:
        counter = _engines[engine] = RoundTrips()
    return counter


def _first_word(statement: str) -> str:
    for word in statement.split(None, 2)[:2]:
        if word.startswith(("/*", "--")):
            continue
        return word.strip("(").upper() or "?"
    return "?"


def _dbapi(conn: Any) -> Any:
    """The DBAPI connection under a SQLAlchemy connection, or None when it was invalidated
    (its transaction is ending after a lost connection: nothing goes to the server)."""
    if conn.invalidated or conn.closed:
        return None
    try:
        return conn.connection.dbapi_connection
    except Exception:
        return None


def install(engine: Engine, driver: type[DriverTraits], *, pool_resets: bool = True) -> RoundTrips:
    """Count ``engine``'s round trips, and ping its pooled connections after an idle spell
    (``pool_resets``: the pool rolls back connections returned without a rollback)."""
    counter = of(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        dbapi = _dbapi(conn)
        if dbapi is not None and driver.sends_begin(dbapi):
            counter.add("BEGIN")
        counter.add(_first_word(statement))

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        dbapi = _dbapi(conn)
        if dbapi is not None and driver.sends_end(dbapi):
            counter.add("COMMIT")

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        dbapi = _dbapi(conn)
        if dbapi is not None and driver.sends_end(dbapi):
            counter.add("ROLLBACK")

    @event.listens_for(engine, "reset")
    def _reset(dbapi: Any, record: Any, state: Any) -> None:
        # The pool rolls back a connection returned with its transaction open.
        if (
            pool_resets
            and dbapi is not None
            and not state.transaction_was_reset
            and driver.sends_end(dbapi)
        ):
            counter.add("ROLLBACK")

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, record: Any) -> None:
        counter.add("CONNECT")
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi: Any, record: Any, proxy: Any) -> None:
        idle = time.monotonic() - record.info.get(_CHECKED_IN, 0.0)
        if idle < PING_AFTER_IDLE_S:
            return
        counter.add("PING")
        try:
            # SQLAlchemy's ping for the driver: one round trip (psycopg's in autocommit,
            # PyMySQL's COM_PING).
            engine.dialect.do_ping(dbapi)
        except Exception as exc:
            log.info("a pooled connection idle for %.0f s is gone (%s): replaced", idle, exc)
            # The pool discards this connection and hands out a new one.
            raise DisconnectionError(str(exc)) from exc

    return counter
