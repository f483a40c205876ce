"""SQLite transactions that may write take the write lock first, wait for it, and give up only
after the busy timeout, with an error the cluster retries."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.db.vendors.sqlite_transactions import is_read_only

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "locks.db"
    with sqlite3.connect(file) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (v INTEGER)")
    return file


def _open(path: Path, timeout_s: float) -> Database:
    return Database.open(f"sqlite:///{path}", connect_args={"timeout": timeout_s})


@pytest.fixture
def holder(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection, in effect: it takes the write lock and keeps it."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def test_statements_that_only_read() -> None:
    assert is_read_only("SELECT 1") and is_read_only("  (select 1)") and is_read_only("PRAGMA x")
    assert not is_read_only("UPDATE t SET v = 1") and not is_read_only("INSERT INTO t VALUES (1)")
    assert not is_read_only("WITH x AS (SELECT 1) DELETE FROM t")


def test_a_write_waits_for_the_lock_then_commits(path: Path, holder: sqlite3.Connection) -> None:
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    with _open(path, 20) as db:
        started = time.monotonic()
        with transactions.new_transaction(db) as c:
            c.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert time.monotonic() - started >= 0.3
        with transactions.reading(db) as c:
            assert c.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1


def test_a_write_gives_up_after_the_busy_timeout_as_a_transient_error(
    path: Path, holder: sqlite3.Connection
) -> None:
    with _open(path, 0.5) as db:
        started = time.monotonic()
        with (
            pytest.raises(sa.exc.OperationalError, match="locked") as raised,
            transactions.new_transaction(db) as c,
        ):
            c.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert 0.4 <= time.monotonic() - started < 20
        assert db.dialect.is_transient_error(raised.value)
        holder.execute("COMMIT")
        with transactions.new_transaction(db) as c:  # the connection is usable again
            c.execute(sa.text("INSERT INTO t VALUES (2)"))


def test_a_read_then_write_transaction_takes_the_write_lock_before_reading(path: Path) -> None:
    """The case SQLite cannot wait for: a transaction that read, then writes while another
    connection has written since. Begun IMMEDIATE, it holds the lock from its first read."""
    with _open(path, 20) as db, transactions.new_transaction(db) as c:
        assert c.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()
        c.execute(sa.text("INSERT INTO t VALUES (1)"))


def test_a_plain_transaction_that_writes_first_begins_immediate(path: Path) -> None:
    with _open(path, 20) as db, db.begin() as c:
        c.execute(sa.text("INSERT INTO t VALUES (1)"))
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                probe.execute("BEGIN IMMEDIATE")
        finally:
            probe.close()


def test_reads_do_not_take_the_write_lock(path: Path, holder: sqlite3.Connection) -> None:
    with _open(path, 0.2) as db, transactions.reading(db) as c:
        assert c.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0


class _LockedAtFirst:
    """A sqlite3 connection whose first ``refusals`` journal-mode switches answer "database is
    locked" at once, as SQLite may while other processes hold the file."""

    def __init__(self, connection: sqlite3.Connection, refusals: int) -> None:
        self._connection = connection
        self.refusals = refusals
        self.attempts = 0

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("PRAGMA journal_mode="):
            self.attempts += 1
            if self.attempts <= self.refusals:
                raise sqlite3.OperationalError("database is locked")
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)


def _engine_over(path: Path, refusals: int) -> tuple[sa.Engine, list[_LockedAtFirst]]:
    made: list[_LockedAtFirst] = []

    def creator() -> _LockedAtFirst:
        made.append(_LockedAtFirst(sqlite3.connect(path, isolation_level=None), refusals))
        return made[-1]

    return sa.create_engine("sqlite://", creator=creator, poolclass=sa.pool.NullPool), made


def test_switching_to_wal_is_retried_while_the_file_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    sqlite3.connect(path).close()
    engine, made = _engine_over(path, refusals=3)
    with Database.open(f"sqlite:///{path}") as db:
        db.dialect.prepare_shared_use(engine)
    assert made[0].attempts == 4
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_locked_past_the_busy_timeout_fails_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from springbatch_py.db.vendors import sqlite as vendor

    monkeypatch.setattr(vendor, "BUSY_TIMEOUT_S", 0.3)
    path = tmp_path / "fresh.db"
    sqlite3.connect(path).close()
    engine, made = _engine_over(path, refusals=10**6)
    with Database.open(f"sqlite:///{path}") as db, pytest.raises(sqlite3.OperationalError):
        db.dialect.prepare_shared_use(engine)
    assert 3 <= made[0].attempts < 20
