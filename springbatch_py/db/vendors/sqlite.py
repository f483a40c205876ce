"""SQLite: what differs from the portable dialect."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL

from springbatch_py.db.dialect import Dialect
from springbatch_py.db.model import ColumnType, Family, Kind
from springbatch_py.db.vendors import sqlite_transactions
from springbatch_py.errors import DatabaseUnavailableError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: How long a statement or ``BEGIN IMMEDIATE`` waits for another process's lock.
BUSY_TIMEOUT_S = 30.0

#: Epoch milliseconds of the database clock, to the millisecond.
NOW_MS = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)"


class SQLiteDialect(Dialect):
    """SQLite 3.35 and later, through the standard library's sqlite3."""

    name: ClassVar[str] = "sqlite"
    product: ClassVar[str] = "SQLite"
    driver: ClassVar[str] = "pysqlite"
    transactional_ddl = True
    # One writer at a time: a transaction that wrote holds the whole database until it ends.
    row_locks = False
    # Every timestamp is INTEGER epoch milliseconds, as Java's xerial driver stores them.
    epoch_ms_timestamps: ClassVar[bool] = True
    # Generator tables are AUTOINCREMENT tables: an id is a row inserted on the caller's
    # connection (a second connection would wait for the caller's write lock); no counter row.
    generator_tables_hold_one_row: ClassVar[bool] = False
    ddl_types: ClassVar[Mapping[str, tuple[int, ...]]] = {
        "INTEGER": (0,),  # an INTEGER PRIMARY KEY is the rowid
        "VARCHAR": (1,),
        "CHAR": (1,),
        "TIMESTAMP": (0,),
        "CLOB": (0,),
    }
    ddl_autoincrement: ClassVar[bool] = True

    @classmethod
    def server_version_of(cls, connection: Connection) -> tuple[int, ...]:
        # The library linked into this process is the "server".
        return tuple(sqlite3.sqlite_version_info)

    # -- a file shared by several processes ----------------------------------------------------

    @classmethod
    def connect_args(cls, url: URL, *, must_exist: bool) -> dict[str, Any]:
        path = _file(url)
        if path is not None and must_exist:
            cls.require_database(url)
        if path is not None and not path.parent.is_dir():
            raise DatabaseUnavailableError(
                f"folder {path.parent} for the SQLite file does not exist"
            )
        # Several node processes share one file: wait for locks rather than fail at once.
        return {"timeout": BUSY_TIMEOUT_S}

    @classmethod
    def require_database(cls, url: URL) -> None:
        # Connecting to a missing file creates an empty one; a pooled connection keeps reading
        # a file that was deleted while every other process would open a new one.
        path = _file(url)
        if path is not None and not path.is_file():
            raise DatabaseUnavailableError(f"SQLite database file {path} does not exist")

    @classmethod
    def prepare_connection(cls, dbapi_connection: Any) -> None:
        # Let SQLAlchemy's BEGIN (see install) delimit transactions instead of the sqlite3
        # module's implicit ones, so that DDL is transactional too; enforce foreign keys.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @classmethod
    def sends_end(cls, dbapi_connection: Any) -> bool:
        # The sqlite3 module commits or rolls back only an open transaction.
        return bool(dbapi_connection.in_transaction)

    @classmethod
    def install(cls, engine: Engine, connect_args: dict[str, Any]) -> None:
        # Transactions that may write begin IMMEDIATE, waiting for the write lock fairly.
        sqlite_transactions.install(engine, float(connect_args.get("timeout", BUSY_TIMEOUT_S)))

    def prepare_shared_use(self, engine: Engine) -> None:
        # Readers must not block the writer's commit: WAL, which the file keeps once set. (A
        # pragma outside any transaction: the raw connection is in autocommit mode.) Switching
        # needs the file to itself, and SQLite may answer "database is locked" at once rather
        # than wait out the busy timeout: a node starting beside busy ones on a loaded machine
        # failed so. The switch is retried, with growing pauses, until that timeout has passed.
        raw = engine.raw_connection()
        try:
            connection = raw.driver_connection
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            pause = 0.01
            while True:
                try:
                    connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[union-attr]
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                        raise
                time.sleep(pause)
                pause = min(2 * pause, 0.5)
        finally:
            raw.close()

    def write_options(self, *, serializable: bool) -> dict[str, Any]:
        # Its transactions are serializable anyway. One that may write takes the write lock
        # first: having read, it could not wait for it (see sqlite_transactions).
        return {"sqlite_begin": "IMMEDIATE"}

    def read_options(self, *, one_snapshot: bool = False) -> dict[str, Any]:
        # A read transaction is one snapshot, and takes no write lock.
        return {"sqlite_begin": "DEFERRED"}

    # Every timestamp is INTEGER epoch milliseconds, as Java's xerial driver stores them; so the
    # clock is epoch milliseconds too, and ages are a subtraction, exact to the millisecond.
    @classmethod
    def now_sql(cls) -> str:
        return NOW_MS

    @classmethod
    def age_ms_sql(cls, column: str) -> str:
        return f"({NOW_MS} - {column})"

    def is_transient_error(self, error: BaseException) -> bool:
        # Another process held the write lock past the busy timeout.
        text = str(getattr(error, "orig", error))
        return super().is_transient_error(error) or "database is locked" in text

    def column_type(self, column_type: ColumnType, family: Family) -> str:
        if column_type.kind in (Kind.INT64, Kind.FLAG):
            return "INTEGER"
        return super().column_type(column_type, family)

    def normalize_type(self, type_text: str) -> str:
        text = super().normalize_type(type_text)
        # SQLAlchemy compiles a reflected CLOB as TEXT; in SQLite both are TEXT affinity.
        return "CLOB" if text == "TEXT" else text

    def bind_timestamp(self, value: datetime | None) -> Any:
        # xerial stores Timestamp.getTime(): the instant of the JVM-local wall clock.
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=self.time_zone)
        delta = aware - _EPOCH
        return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000

    def read_timestamp(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            instant = _EPOCH + timedelta(milliseconds=int(value))
            return instant.astimezone(self.time_zone).replace(tzinfo=None)
        if isinstance(value, str):
            # Text written by another tool: read it as a wall clock of the configured zone.
            return datetime.fromisoformat(value.replace("T", " "))
        return super().read_timestamp(value)


def _file(url: URL) -> Path | None:
    """The database file of ``url`` (None in memory or for a ``file:`` URI)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)
