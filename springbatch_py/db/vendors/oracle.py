"""Oracle: what differs from the portable dialect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import URL

from springbatch_py.db.dialect import Dialect, GeneratorStyle
from springbatch_py.db.model import ColumnType, Family, Kind

_CONNECTION = (
    "ORA-03113",
    "ORA-03114",
    "ORA-03135",
    "ORA-01089",
    "ORA-01033",
    "ORA-01034",
    "ORA-12514",
    "ORA-12541",
    "DPY-4011",
)


class OracleDialect(Dialect):
    """Oracle Database 19c and later, through python-oracledb."""

    name: ClassVar[str] = "oracle"
    product: ClassVar[str] = "Oracle"
    driver: ClassVar[str] = "oracledb"
    driver_extra: ClassVar[str | None] = "oracle"
    sequences = True
    natural_generator_style: ClassVar[GeneratorStyle] = "sequence"
    # Java's Oracle DDL starts its sequences at 0: 0 is a real id.
    first_generated_id: ClassVar[int] = 0
    ddl_types: ClassVar[Mapping[str, tuple[int, ...]]] = {
        "NUMBER": (1, 2),
        "VARCHAR2": (1,),
        "VARCHAR": (1,),
        "CHAR": (1,),
        "TIMESTAMP": (0, 1),
        "CLOB": (0,),
    }
    ddl_table_options: ClassVar[tuple[str, ...]] = ("SEGMENT CREATION IMMEDIATE",)
    ddl_sequence_options: ClassVar[tuple[str, ...]] = (
        "START WITH N",
        "MINVALUE N",
        "MAXVALUE N",
        "INCREMENT BY N",
        "ORDER",
        "NOCYCLE",
    )
    ddl_sequence_max: ClassVar[int] = 10**28 - 1
    # Before 23ai there is no DROP ... IF EXISTS; dropping a referenced table needs CASCADE
    # CONSTRAINTS; a DEFAULT after NOT NULL is a syntax error.
    ddl_drop_if_exists: ClassVar[bool] = False
    ddl_cascade_constraints: ClassVar[bool] = True
    ddl_default_first: ClassVar[bool] = True
    ddl_length_semantics: ClassVar[bool] = True
    # '' is NULL in Oracle: an empty exit message reads back as NULL.
    empty_string_is_null = True
    # The cluster's age expression casts to DATE, which drops fractions of a second.
    millisecond_clock = False
    library_millisecond_clock = False
    # A partition's last_updated defaults to the session-zone CURRENT_TIMESTAMP.
    zone_sensitive_clock = True

    @classmethod
    def connect_args(cls, url: URL, *, must_exist: bool) -> dict[str, Any]:
        # python-oracledb names its bound on connecting so.
        return {"tcp_connect_timeout": 10}

    @classmethod
    def session_setup_sql(cls, time_zone: ZoneInfo) -> list[str]:
        return [f"ALTER SESSION SET TIME_ZONE = '{time_zone.key}'"]

    @classmethod
    def now_sql(cls) -> str:
        # The cluster library (3.x) writes SYSTIMESTAMP (server OS zone), not the session-zone
        # clock, and measures ages against it too.
        return "SYSTIMESTAMP"

    @classmethod
    def age_ms_sql(cls, column: str) -> str:
        # The library's expression: DATE arithmetic counts days; the DATE casts drop fractions,
        # so the ages are whole seconds.
        return f"((CAST(SYSTIMESTAMP AS DATE) - CAST({column} AS DATE)) * 24 * 60 * 60 * 1000)"

    @classmethod
    def row_limit_sql(cls, count: str) -> str:
        # Oracle has no LIMIT; 12c brought the standard row-limiting clause.
        return f"FETCH FIRST {count} ROWS ONLY"

    def is_transient_error(self, error: BaseException) -> bool:
        # ORA-08177: can't serialize access; ORA-00060: deadlock.
        text = str(getattr(error, "orig", error))
        return super().is_transient_error(error) or "ORA-08177" in text or "ORA-00060" in text

    def is_connection_error(self, error: BaseException) -> bool:
        # ORA-03113/03114: end of file on / not connected to the channel; ORA-03135: connection
        # lost contact; ORA-01089/01033/01034: shutting down, starting up, not available;
        # ORA-12514/12541: no listener or service; DPY-4011: the connection was closed.
        text = str(getattr(error, "orig", error))
        return super().is_connection_error(error) or any(code in text for code in _CONNECTION)

    def is_lock_timeout(self, error: BaseException) -> bool:
        # ORA-30006: resource busy, WAIT timeout expired; ORA-00054: resource busy (NOWAIT).
        text = str(getattr(error, "orig", error))
        return "ORA-30006" in text or "ORA-00054" in text

    def column_type(self, column_type: ColumnType, family: Family) -> str:
        kind, length = column_type.kind, column_type.length
        if kind is Kind.INT64:
            return "NUMBER(19,0)"
        if kind is Kind.VARCHAR:
            return f"VARCHAR2({length})"
        if kind is Kind.TIMESTAMP:
            # Spring Batch declares nanoseconds; the cluster DDL takes the default precision.
            return "TIMESTAMP(9)" if family == "batch" else "TIMESTAMP(6)"
        if kind is Kind.FLAG:
            return "NUMBER(1,0)"
        return super().column_type(column_type, family)

    def normalize_type(self, type_text: str) -> str:
        text = super().normalize_type(type_text)
        # VARCHAR is VARCHAR2; length semantics (CHAR or BYTE) are not compared.
        text = re.sub(r"^N?VARCHAR2?\((\d+)(?: (?:CHAR|BYTE))?\)$", r"VARCHAR2(\1)", text)
        text = re.sub(r"^NUMBER\((\d+)\)$", r"NUMBER(\1,0)", text)
        return "TIMESTAMP(6)" if text == "TIMESTAMP" else text
