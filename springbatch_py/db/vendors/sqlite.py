"""SQLite: what differs from the portable dialect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from springbatch_py.db.dialect import Dialect
from springbatch_py.db.model import ColumnType, Family, Kind

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Epoch milliseconds of the database clock, to the millisecond.
NOW_MS = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)"


class SQLiteDialect(Dialect):
    """SQLite 3.35 and later, through the standard library's sqlite3."""

    name: ClassVar[str] = "sqlite"
    product: ClassVar[str] = "SQLite"
    transactional_ddl = True
    # One writer at a time: a transaction that wrote holds the whole database until it ends.
    row_locks = False

    def __init__(self, server_version: tuple[int, ...], time_zone: ZoneInfo) -> None:
        super().__init__(server_version, time_zone)
        self.update_returning = server_version >= (3, 35)

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
