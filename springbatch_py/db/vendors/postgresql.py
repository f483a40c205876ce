"""PostgreSQL: what differs from the portable dialect."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, OperationalError

from springbatch_py.db.dialect import Dialect
from springbatch_py.db.model import ColumnType, Family, Kind


class PostgreSQLDialect(Dialect):
    """PostgreSQL 12 and later, through psycopg 3."""

    name: ClassVar[str] = "postgresql"
    product: ClassVar[str] = "PostgreSQL"
    sequences = True
    skip_locked = True
    listen_notify = True
    update_returning = True
    # DDL runs inside the transaction: a failed schema create leaves nothing behind.
    transactional_ddl = True
    # CURRENT_TIMESTAMP - a TIMESTAMP column converts the column with the session TimeZone.
    zone_sensitive_clock = True

    @classmethod
    def session_setup_sql(cls, time_zone: ZoneInfo) -> list[str]:
        # pgjdbc sets the session TimeZone from the JVM's user.timezone; CURRENT_TIMESTAMP minus a
        # TIMESTAMP column (the cluster's age expression) depends on it, so match the JVMs.
        return [f"SET TIME ZONE '{time_zone.key}'"]

    def is_connection_error(self, error: BaseException) -> bool:
        # Class 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown, cannot
        # connect now (starting up). psycopg reports a refused or broken connection as an
        # OperationalError without a SQLSTATE.
        state = _sqlstate(error)
        if state is None:
            return super().is_connection_error(error) or isinstance(error, OperationalError)
        return state.startswith("08") or state in ("57P01", "57P02", "57P03")

    def is_lock_timeout(self, error: BaseException) -> bool:
        # 55P03 lock_not_available: lock_timeout expired (or NOWAIT).
        return _sqlstate(error) == "55P03"

    def lock_timeout_sql(self, milliseconds: int) -> tuple[list[str], list[str]]:
        # SET LOCAL ends with the transaction: nothing to restore.
        return [f"SET LOCAL lock_timeout = '{int(milliseconds)}ms'"], []

    def column_type(self, column_type: ColumnType, family: Family) -> str:
        if column_type.kind is Kind.CLOB:
            return "TEXT"
        return super().column_type(column_type, family)

    def normalize_type(self, type_text: str) -> str:
        text = super().normalize_type(type_text)
        # Reflection spells the catalogue names; the DDL uses the short ones. TIMESTAMP means
        # TIMESTAMP(6) WITHOUT TIME ZONE.
        text = text.replace(" WITHOUT TIME ZONE", "").replace("CHARACTER VARYING", "VARCHAR")
        text = text.replace("CHARACTER(", "CHAR(").replace("TIMESTAMP(6)", "TIMESTAMP")
        return {"INT8": "BIGINT", "INT2": "SMALLINT", "INT4": "INTEGER"}.get(text, text)


def _sqlstate(error: BaseException) -> str | None:
    orig = error.orig if isinstance(error, DBAPIError) else error
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) else None
