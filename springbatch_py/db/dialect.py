"""The dialect protocol: capability flags, SQL fragment builders and type binding.

:class:`Dialect` holds the portable defaults. Each vendor module under
:mod:`springbatch_py.db.vendors` overrides only what its database does differently and says why.
A :class:`Dialect` is detected once per engine (see :mod:`springbatch_py.db.detect`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DBAPIError, IntegrityError

from springbatch_py.db.model import ColumnType, Family, Kind

#: Capability names a test or the conformance suite can ask for.
CAPABILITIES: tuple[str, ...] = (
    "sequences",
    "skip_locked",
    "listen_notify",
    "update_returning",
    "transactional_ddl",
    "empty_string_is_null",
    "millisecond_clock",
    "zone_sensitive_clock",
    "row_locks",
)


class Dialect:
    """Portable SQL; vendors override what differs.

    Parameters
    ----------
    server_version:
        The server's version as a tuple of integers.
    time_zone:
        The zone in which stored Spring Batch times are naive wall-clock times, and the session
        zone of every connection.
    """

    #: Folder name under ``schema/`` and ``dialects/``.
    name: ClassVar[str] = "portable"
    #: Human name for messages.
    product: ClassVar[str] = "SQL"

    # -- capability flags (class defaults; a vendor may refine them per server version) --------
    sequences: bool = False
    skip_locked: bool = False
    listen_notify: bool = False
    update_returning: bool = False
    transactional_ddl: bool = False
    empty_string_is_null: bool = False
    #: The age expression resolves milliseconds (not whole seconds).
    millisecond_clock: bool = True
    #: The cluster library's own age expression (its Java nodes' sweeps) resolves milliseconds
    #: too; in a mixed cluster the coarser of the two sets the safe thresholds.
    library_millisecond_clock: bool = True
    #: Heartbeat ages depend on the session time zone, so nodes must share one.
    zone_sensitive_clock: bool = False
    #: A write locks the rows it changes, not the whole database: an open transaction of one
    #: node leaves the other rows to the other nodes.
    row_locks: bool = True
    #: Table names compare case-sensitively (MySQL/MariaDB with lower_case_table_names=0).
    case_sensitive_table_names: bool = False
    #: Spelling of the cluster table names in this dialect's DDL and statements.
    cluster_tables_lower_case: ClassVar[bool] = False

    def __init__(self, server_version: tuple[int, ...], time_zone: ZoneInfo) -> None:
        self.server_version = server_version
        self.time_zone = time_zone

    def __repr__(self) -> str:
        version = ".".join(str(p) for p in self.server_version)
        return f"<{type(self).__name__} {self.product} {version} zone={self.time_zone.key}>"

    # -- capabilities ------------------------------------------------------------------------

    def supports(self, capability: str) -> bool:
        """Whether this dialect has ``capability`` (one of :data:`CAPABILITIES`)."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}")
        return bool(getattr(self, capability))

    def capabilities(self) -> dict[str, bool]:
        """Every capability and whether this dialect has it."""
        return {c: self.supports(c) for c in CAPABILITIES}

    # -- session -----------------------------------------------------------------------------

    @classmethod
    def session_setup_sql(cls, time_zone: ZoneInfo) -> list[str]:
        """Statements run on every new connection to set the session time zone."""
        return []

    # -- names -------------------------------------------------------------------------------

    @classmethod
    def table_name(cls, name: str, family: Family) -> str:
        """How the DDL and the statements of this dialect spell the table ``name`` (the
        statement fragment ``{{table(NAME)}}``)."""
        if family == "cluster" and cls.cluster_tables_lower_case:
            return name.lower()
        return name

    def same_name(self, a: str, b: str) -> bool:
        """Whether two table names denote the same table."""
        return a == b if self.case_sensitive_table_names else a.upper() == b.upper()

    # -- SQL fragments -----------------------------------------------------------------------
    # The named statements are written once (dialects/common/) with fragments that these hooks
    # fill when a dialect's catalogue is loaded; they depend on the dialect alone, not on the
    # server version, because a catalogue is loaded once per dialect.

    @classmethod
    def statement_folders(cls) -> tuple[str, ...]:
        """Folders under ``dialects/`` whose statements replace the common ones, most specific
        first: this dialect's own, then those of the vendors it derives from (MariaDB: mysql)."""
        return tuple(
            dict.fromkeys(
                c.name for c in cls.__mro__ if issubclass(c, Dialect) and c is not Dialect
            )
        )

    @classmethod
    def now_sql(cls) -> str:
        """The database clock, as the cluster library writes it into liveness columns (the
        statement fragment ``{{now}}``)."""
        # PostgreSQL: the transaction's start; each cluster statement runs in its own short
        # transaction, and the session TimeZone is the configured zone (pgjdbc sets the JVM's).
        return "CURRENT_TIMESTAMP"

    @classmethod
    def age_ms_sql(cls, column: str) -> str:
        """Milliseconds elapsed since the timestamp in ``column``, on the database clock (the
        statement fragment ``{{age_ms(COLUMN)}}``)."""
        return f"(EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP - {column})) * 1000)"

    @classmethod
    def keyed_table_sql(cls, table: str) -> str:
        """The table of a write that names one row by its primary key, as the statement must
        spell it so that the write locks that row only (the fragment ``{{keyed(NAME)}}``)."""
        return table

    @classmethod
    def row_limit_sql(cls, count: str) -> str:
        """The clause that ends a query to return at most ``count`` rows (a bind parameter or a
        number; the statement fragment ``{{limit(:n)}}``)."""
        return f"LIMIT {count}"

    # -- types -------------------------------------------------------------------------------

    def column_type(self, column_type: ColumnType, family: Family) -> str:
        """The physical type of a model column, as :meth:`normalize_type` spells it."""
        kind, length = column_type.kind, column_type.length
        if kind is Kind.INT64:
            return "BIGINT"
        if kind is Kind.VARCHAR:
            return f"VARCHAR({length})"
        if kind is Kind.CHAR:
            return f"CHAR({length})"
        if kind is Kind.TIMESTAMP:
            return "TIMESTAMP"
        if kind is Kind.CLOB:
            return "CLOB"
        return "SMALLINT"

    def coarse_column_type(self, column_type: ColumnType, family: Family) -> str | None:
        """A type that other DDL (the cluster library's) declares for a model column where this
        project declares a finer one: it works, less precisely, so ``schema verify`` warns
        about it instead of failing. None when there is no such type."""
        return None

    def normalize_type(self, type_text: str) -> str:
        """Canonical spelling of a type, from DDL text or a reflected type's compiled text."""
        text = re.sub(r"\s+", " ", type_text.strip().upper())
        return re.sub(r"\s*,\s*", ",", re.sub(r"\s*\(\s*", "(", text)).replace(" )", ")")

    # -- errors ------------------------------------------------------------------------------

    def is_transient_error(self, error: BaseException) -> bool:
        """Whether retrying the transaction may succeed: a serialization failure, a deadlock,
        or a unique-key race (a retry then sees the row the other transaction made)."""
        if isinstance(error, IntegrityError):
            return True
        orig = error.orig if isinstance(error, DBAPIError) else error
        return getattr(orig, "sqlstate", None) in ("40001", "40P01")

    def is_transient(self, error: BaseException) -> bool:
        """Whether the database could not run the statement now but may later, so that a write
        which must land (a partition's end, a heartbeat) is retried: the connection was lost or
        refused, the server is shutting down, a deadlock or serialization failure, a lock wait
        that timed out, a busy file. A unique-key race is not transient here: retrying the same
        write cannot succeed."""
        if isinstance(error, IntegrityError):
            return False
        return (
            self.is_connection_error(error)
            or self.is_lock_timeout(error)
            or self.is_transient_error(error)
        )

    def is_connection_error(self, error: BaseException) -> bool:
        """Whether ``error`` says the connection to the server was lost or could not be made
        (SQLAlchemy marks such errors ``connection_invalidated``; vendors add their codes)."""
        return isinstance(error, DBAPIError) and bool(error.connection_invalidated)

    def is_lock_timeout(self, error: BaseException) -> bool:
        """Whether ``error`` is a lock wait that ran out (see :meth:`lock_timeout_sql`)."""
        return False

    def lock_timeout_sql(self, milliseconds: int) -> tuple[list[str], list[str]]:
        """Statements that bound the lock waits of one transaction to about ``milliseconds``:
        those to run first inside it, and those to run on its connection afterwards (to restore
        a session setting). Empty where the bound lives in the statements themselves or is the
        engine's own (SQLite's busy timeout)."""
        return [], []

    def bind_timestamp(self, value: datetime | None) -> Any:
        """Convert a naive wall-clock time of the configured zone to what the column stores."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(self.time_zone).replace(tzinfo=None)
        return value

    def read_timestamp(self, value: Any) -> datetime | None:
        """Convert a stored timestamp to a naive wall-clock time of the configured zone."""
        if value is None or isinstance(value, datetime):
            return value
        raise TypeError(f"unexpected timestamp value {value!r} from {self.product}")
