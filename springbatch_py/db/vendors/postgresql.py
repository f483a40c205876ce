"""PostgreSQL: what differs from the portable dialect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from springbatch_py.db.dialect import Dialect, GeneratorStyle
from springbatch_py.db.model import ColumnType, Family, Kind


class PostgreSQLDialect(Dialect):
    """PostgreSQL 12 and later, through psycopg 3."""

    name: ClassVar[str] = "postgresql"
    product: ClassVar[str] = "PostgreSQL"
    sequences = True
    natural_generator_style: ClassVar[GeneratorStyle] = "sequence"
    ddl_types: ClassVar[Mapping[str, tuple[int, ...]]] = {
        "BIGINT": (0,),
        "SMALLINT": (0,),
        "VARCHAR": (1,),
        "CHAR": (1,),
        "TIMESTAMP": (0,),
        "TEXT": (0,),
    }
    ddl_sequence_options: ClassVar[tuple[str, ...]] = (
        "START WITH N",
        "MINVALUE N",
        "MAXVALUE N",
        "INCREMENT BY N",
        "NO CYCLE",
    )
    # DDL runs inside the transaction: a failed schema create leaves nothing behind.
    transactional_ddl = True
    # CURRENT_TIMESTAMP - a TIMESTAMP column converts the column with the session TimeZone.
    zone_sensitive_clock = True

    driver: ClassVar[str] = "psycopg"
    driver_extra: ClassVar[str | None] = "postgresql"

    @classmethod
    def connect_args(cls, url: URL, *, must_exist: bool) -> dict[str, Any]:
        return {"connect_timeout": 10}

    @classmethod
    def missing_driver_hint(cls, error: ImportError) -> str:
        hint = super().missing_driver_hint(error)
        if not isinstance(error, ModuleNotFoundError):
            # psycopg is there but finds no libpq: the application chooses how to get one.
            hint += " and give psycopg a libpq: the system's, or pip install 'psycopg[binary]'"
        return hint

    @classmethod
    def session_setup_sql(cls, time_zone: ZoneInfo) -> list[str]:
        # pgjdbc sets the session TimeZone from the JVM's user.timezone; CURRENT_TIMESTAMP minus a
        # TIMESTAMP column (the cluster's age expression) depends on it, so match the JVMs.
        return [f"SET TIME ZONE '{time_zone.key}'"]

    # LISTEN/NOTIFY: notifications reach listening sessions of the same database at commit.
    listen_notify = True
    # FOR UPDATE SKIP LOCKED (9.5) and UPDATE ... RETURNING.
    skip_locked = True

    def notify(self, connection: Connection, channel: str, payload: str) -> None:
        connection.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {
                "channel": channel,
                "payload": payload,
            },
        )

    @classmethod
    def open_listener(cls, engine: Engine, channel: str) -> Any:
        import psycopg

        _, params = engine.dialect.create_connect_args(engine.url)
        listener = psycopg.connect(**{"connect_timeout": 10, **params}, autocommit=True)
        try:
            listener.execute(f'LISTEN "{channel}"')
        except BaseException:
            listener.close()
            raise
        return listener

    @classmethod
    def wait_notifications(cls, listener: Any, timeout: float) -> list[str]:
        # notifies(timeout=, stop_after=) needs psycopg 3.2 (the postgresql extra's floor).
        payloads = []
        for notification in listener.notifies(timeout=timeout, stop_after=1):
            payloads.append(notification.payload)
        return payloads

    # psycopg's autocommit is a client-side flag, and each statement then commits on its own.
    cheap_autocommit: ClassVar[bool] = True

    @classmethod
    def sends_begin(cls, dbapi_connection: Any) -> bool:
        # psycopg sends BEGIN before the first statement of a transaction.
        return not dbapi_connection.autocommit and _idle(dbapi_connection)

    @classmethod
    def sends_end(cls, dbapi_connection: Any) -> bool:
        # psycopg sends nothing for commit() or rollback() outside a transaction.
        return not _idle(dbapi_connection)

    def read_options(self, *, one_snapshot: bool = False) -> dict[str, Any]:
        # READ COMMITTED takes a snapshot per statement: ask for one for all.
        return {"isolation_level": "REPEATABLE READ"} if one_snapshot else {}

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


def _idle(dbapi_connection: Any) -> bool:
    from psycopg.pq import TransactionStatus

    return bool(dbapi_connection.info.transaction_status == TransactionStatus.IDLE)


def _sqlstate(error: BaseException) -> str | None:
    orig = error.orig if isinstance(error, DBAPIError) else error
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) else None
