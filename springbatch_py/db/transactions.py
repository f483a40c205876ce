"""Transaction propagation, as Spring's transaction manager does it for Spring Batch.

A chunk runs in one transaction; the repository's step update and every writer that uses the
same database join it, so they commit or roll back together (propagation REQUIRED). Creating job
and step executions runs in a transaction of its own at SERIALIZABLE isolation (REQUIRES_NEW).

The current transaction is kept per database in a context variable, so each thread (and each
asyncio task) has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, Engine

from springbatch_py.db.database import Database

_current: ContextVar[dict[Engine, Connection] | None] = ContextVar("springbatch_tx", default=None)


def current(db: Database) -> Connection | None:
    """The connection of the transaction in progress on ``db`` in this context, if any."""
    active = _current.get()
    return None if active is None else active.get(db.engine)


@contextmanager
def new_transaction(db: Database, *, serializable: bool = False) -> Iterator[Connection]:
    """Begin a transaction of its own (REQUIRES_NEW); it becomes the current one inside.

    ``serializable`` asks for SERIALIZABLE isolation. The dialect chooses how a transaction
    that may write begins (:meth:`~springbatch_py.db.dialect.Dialect.write_options`: on SQLite,
    ``BEGIN IMMEDIATE``).
    """
    connection = db.engine.connect()
    options = db.dialect.write_options(serializable=serializable)
    if options:
        connection = connection.execution_options(**options)
    previous = _current.get()
    token = _current.set({**(previous or {}), db.engine: connection})
    try:
        with connection.begin():
            yield connection
    finally:
        _current.reset(token)
        connection.close()


@contextmanager
def transaction(db: Database) -> Iterator[Connection]:
    """Join the current transaction on ``db`` or begin one (REQUIRED)."""
    joined = current(db)
    if joined is not None:
        yield joined
        return
    with new_transaction(db) as connection:
        yield connection


@contextmanager
def single_statements(db: Database) -> Iterator[Connection]:
    """A connection whose statements each commit on their own, where the dialect makes that
    cheap (:attr:`~springbatch_py.db.dialect.Dialect.cheap_autocommit`: no ``BEGIN``, no
    ``COMMIT``, one round trip per statement); elsewhere a plain connection, whose caller
    commits."""
    with db.engine.connect() as connection:
        if db.dialect.cheap_autocommit:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            yield connection


@contextmanager
def reading(db: Database, *, one_snapshot: bool = False) -> Iterator[Connection]:
    """A connection for reads: the current transaction's, or a fresh one (rolled back after)
    with the dialect's :meth:`~springbatch_py.db.dialect.Dialect.read_options`; ``one_snapshot``
    asks that all its statements see one snapshot. Without it, where the dialect makes it cheap,
    each read runs on its own, as in autocommit (under READ COMMITTED every statement of a
    transaction sees a snapshot of its own anyway)."""
    joined = current(db)
    if joined is not None:
        yield joined
        return
    if not one_snapshot and db.dialect.cheap_autocommit:
        with single_statements(db) as connection:
            yield connection
        return
    with db.engine.connect() as connection:
        options = db.dialect.read_options(one_snapshot=one_snapshot)
        yield connection.execution_options(**options) if options else connection
