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
