"""MySQL and MariaDB: what differs from the portable dialect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from springbatch_py.db.dialect import Dialect, GeneratorStyle
from springbatch_py.db.model import ColumnType, Family, Kind

_CONNECTION_ERRORS = frozenset((1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031))


def _code(error: BaseException) -> int | None:
    """The server's error number of a PyMySQL error."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


class MySQLDialect(Dialect):
    """MySQL 8, through PyMySQL."""

    name: ClassVar[str] = "mysql"
    product: ClassVar[str] = "MySQL"
    driver: ClassVar[str] = "pymysql"
    driver_extra: ClassVar[str | None] = "mysql"
    # Named session zones need the server's time-zone tables.
    session_setup_hint: ClassVar[str] = (
        " (load the server's time-zone tables with mysql_tzinfo_to_sql, or use UTC)"
    )
    # Java's DDL declares SERIALIZED_CONTEXT as TEXT, which holds 65,535 bytes; a longer
    # context would be cut or refused depending on the server's SQL mode.
    serialized_context_max_bytes: ClassVar[int | None] = 65_535
    # The cluster DDL and every coordination statement spell these tables in lower case, and
    # MySQL compares table names case-sensitively on Linux.
    cluster_tables_lower_case: ClassVar[bool] = True
    # Ages are TIMESTAMPDIFF(MICROSECOND, ...) / 1000 against NOW(3): milliseconds on this
    # project's TIMESTAMP(3) cluster columns. The cluster library's DDL declares TIMESTAMP (whole
    # seconds): there the ages are whole seconds too, and schema verify warns.
    millisecond_clock = True
    # The library's TIMESTAMPDIFF(SECOND, ..., NOW()) truncates, whatever the columns hold.
    library_millisecond_clock = False
    case_sensitive_table_names = True
    ddl_types: ClassVar[Mapping[str, tuple[int, ...]]] = {
        "BIGINT": (0,),
        "SMALLINT": (0,),
        "VARCHAR": (1,),
        "CHAR": (1,),
        "DATETIME": (1,),
        "TIMESTAMP": (0, 1),  # TIMESTAMP(3): the cluster times, to the millisecond
        "TEXT": (0,),
    }
    ddl_table_options: ClassVar[tuple[str, ...]] = ("ENGINE = InnoDB",)
    # Java's MySQL incrementer updates one counter row, which the DDL inserts.
    ddl_seed_rows: ClassVar[bool] = True

    @classmethod
    def connect_args(cls, url: URL, *, must_exist: bool) -> dict[str, Any]:
        return {"connect_timeout": 10}

    @classmethod
    def engine_options(cls) -> dict[str, Any]:
        # PyMySQL sends ROLLBACK whether or not a transaction is open, and SQLAlchemy's pool
        # rolls back every connection returned after a commit: a round trip per transaction
        # for nothing. A connection closed inside a transaction is rolled back by SQLAlchemy's
        # Connection itself, so the pool need not.
        return {"pool_reset_on_return": None}

    def inspect_server(self, connection: Connection) -> None:
        # With lower_case_table_names=0 (the Linux default) table names are case-sensitive.
        lower = connection.exec_driver_sql("SELECT @@lower_case_table_names").scalar()
        self.case_sensitive_table_names = int(lower or 0) == 0

    @classmethod
    def session_setup_sql(cls, time_zone: ZoneInfo) -> list[str]:
        # An offset needs no time-zone tables on the server; named zones do.
        zone = "+00:00" if time_zone.key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT") else time_zone.key
        return [f"SET time_zone = '{zone}'"]

    @classmethod
    def now_sql(cls) -> str:
        # CURRENT_TIMESTAMP alone has whole seconds; (3) keeps the milliseconds that this
        # project's TIMESTAMP(3) cluster columns hold.
        return "CURRENT_TIMESTAMP(3)"

    @classmethod
    def keyed_table_sql(cls, table: str) -> str:
        # InnoDB's optimizer may run an UPDATE that names the primary key through a secondary
        # index that the WHERE clause also matches (BATCH_PARTITIONS' node/status and
        # master/status indexes), and at REPEATABLE READ it then locks every index entry it
        # scanned and the gaps between them until commit. A chunk's fence holding such locks
        # while its node is frozen blocked other nodes' claims, completions and reassignments;
        # through the primary key it locks its own row only.
        return f"{table} FORCE INDEX (PRIMARY)"

    @classmethod
    def age_ms_sql(cls, column: str) -> str:
        # MySQL cannot subtract timestamps: TIMESTAMPDIFF in microseconds keeps the milliseconds
        # (the library's TIMESTAMPDIFF(SECOND, ...) would truncate them).
        return f"(TIMESTAMPDIFF(MICROSECOND, {column}, NOW(3)) / 1000)"

    def is_transient_error(self, error: BaseException) -> bool:
        # 1213: deadlock (SERIALIZABLE reads take shared locks); 1205: lock wait timeout.
        return super().is_transient_error(error) or _code(error) in (1213, 1205)

    def is_connection_error(self, error: BaseException) -> bool:
        # 2002/2003: cannot connect; 2006: server has gone away; 2013: lost connection during a
        # query; 2055: lost connection (system error); 1053: server shutdown in progress;
        # 1927: connection killed (MariaDB); 4031: disconnected by the server for inactivity.
        return super().is_connection_error(error) or _code(error) in _CONNECTION_ERRORS

    def is_lock_timeout(self, error: BaseException) -> bool:
        return _code(error) == 1205

    def lock_timeout_sql(self, milliseconds: int) -> tuple[list[str], list[str]]:
        # innodb_lock_wait_timeout counts whole seconds and is a session variable: set it for
        # this transaction, then give the pooled connection its default back.
        seconds = max(1, -(-int(milliseconds) // 1000))
        return (
            [f"SET SESSION innodb_lock_wait_timeout = {seconds}"],
            ["SET SESSION innodb_lock_wait_timeout = DEFAULT"],
        )

    def column_type(self, column_type: ColumnType, family: Family) -> str:
        if column_type.kind is Kind.TIMESTAMP:
            # Spring Batch uses DATETIME(6) (a wall clock, microseconds); the cluster tables use
            # TIMESTAMP (UTC-stored, converted by the session zone), to the millisecond here
            # where the cluster library's DDL keeps whole seconds (see coarse_column_type).
            return "DATETIME(6)" if family == "batch" else "TIMESTAMP(3)"
        if column_type.kind is Kind.CLOB:
            return "TEXT"
        return super().column_type(column_type, family)

    def coarse_column_type(self, column_type: ColumnType, family: Family) -> str | None:
        if column_type.kind is Kind.TIMESTAMP and family == "cluster":
            return "TIMESTAMP"  # the cluster library's DDL: whole seconds
        return None

    def normalize_type(self, type_text: str) -> str:
        text = super().normalize_type(type_text)
        # Integer display widths (BIGINT(20)) are cosmetic and deprecated.
        return re.sub(r"^(BIGINT|SMALLINT|INT|INTEGER|TINYINT)\(\d+\)", r"\1", text)


class MariaDBDialect(MySQLDialect):
    """MariaDB 10.6 and later, through PyMySQL."""

    name: ClassVar[str] = "mariadb"
    product: ClassVar[str] = "MariaDB"
    # MariaDB's own driver makes Java use sequences; through MySQL Connector/J it uses MySQL's
    # generator tables, whose scripts MariaDB accepts as they are.
    natural_generator_style: ClassVar[GeneratorStyle] = "sequence"
    other_generator_style_folder: ClassVar[str | None] = "mysql"
    ddl_sequence_options: ClassVar[tuple[str, ...]] = (
        "START WITH N",
        "MINVALUE N",
        "MAXVALUE N",
        "INCREMENT BY N",
        "NOCACHE",
        "NOCYCLE",
        "ENGINE = InnoDB",
    )
    ddl_sequence_max: ClassVar[int] = 2**63 - 2  # MariaDB reserves the top value

    def __init__(self, server_version: tuple[int, ...], time_zone: ZoneInfo) -> None:
        super().__init__(server_version, time_zone)
        # Sequences arrived in 10.3.
        self.sequences = server_version >= (10, 3)
