"""PostgreSQL: what differs from the portable dialect."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

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
