"""The dialect protocol: capability flags, engine and session hooks, transaction options, SQL
fragment builders, the grammar of the DDL scripts, and type binding.

:class:`Dialect` holds the portable defaults. Each vendor module under
:mod:`springbatch_py.db.vendors` overrides only what its database does differently and says why.
A :class:`Dialect` is detected once per engine (see :mod:`springbatch_py.db.detect`); the hooks
that run before (engine set-up, connect arguments, each new connection) are class methods. Code
outside :mod:`springbatch_py.db` asks the dialect, never its name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError

from springbatch_py.db.model import ColumnType, Family, Kind

#: Capability names a test or the conformance suite can ask for.
CAPABILITIES: tuple[str, ...] = (
    "sequences",
    "transactional_ddl",
    "empty_string_is_null",
    "millisecond_clock",
    "zone_sensitive_clock",
    "row_locks",
    "listen_notify",
    "skip_locked",
)

#: How Java's incrementers draw ids: database sequences, or generator tables.
GeneratorStyle = Literal["sequence", "table"]


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
    #: The server pushes notifications to listening connections (LISTEN/NOTIFY): workers and
    #: masters are woken at once instead of at their next poll.
    listen_notify: bool = False
    #: Row locks can be skipped (FOR UPDATE SKIP LOCKED), and an UPDATE returns the rows it
    #: changed: a worker claims several partitions in one statement without waiting for rows
    #: another node holds.
    skip_locked: bool = False
    #: Table names compare case-sensitively (MySQL/MariaDB with lower_case_table_names=0).
    case_sensitive_table_names: bool = False
    #: Spelling of the cluster table names in this dialect's DDL and statements.
    cluster_tables_lower_case: ClassVar[bool] = False
    #: Stored times are INTEGER epoch milliseconds, not TIMESTAMP values.
    epoch_ms_timestamps: ClassVar[bool] = False
    #: The largest serialized context, in bytes, that SERIALIZED_CONTEXT holds (None: no limit
    #: springbatch-py needs to check before the database does).
    serialized_context_max_bytes: ClassVar[int | None] = None

    # -- id generators -----------------------------------------------------------------------
    #: The generators Java's incrementer uses with this database's own JDBC driver.
    natural_generator_style: ClassVar[GeneratorStyle] = "table"
    #: The ``schema/`` folder whose scripts create the other style of generators, when this
    #: database can have both.
    other_generator_style_folder: ClassVar[str | None] = None
    #: A generator table holds one counter row, updated on a connection of its own that commits
    #: at once (Java's MySQL incrementer), so an UPDATE that matched no row means a broken table.
    generator_tables_hold_one_row: ClassVar[bool] = True
    #: The first id a new generator hands out.
    first_generated_id: ClassVar[int] = 1

    # -- the grammar of the DDL scripts in schema/<name>/ (checked without a server) ---------
    #: Types the DDL may use: name -> how many parenthesised arguments it takes.
    ddl_types: ClassVar[Mapping[str, tuple[int, ...]]] = {
        "BIGINT": (0,),
        "SMALLINT": (0,),
        "VARCHAR": (1,),
        "CHAR": (1,),
        "TIMESTAMP": (0,),
        "CLOB": (0,),
    }
    #: Table options after the closing parenthesis of CREATE TABLE, all of them, in order.
    ddl_table_options: ClassVar[tuple[str, ...]] = ()
    #: Options CREATE SEQUENCE accepts (keyword phrases, N marks a number); none: no sequences.
    ddl_sequence_options: ClassVar[tuple[str, ...]] = ()
    #: The largest MAXVALUE a sequence accepts.
    ddl_sequence_max: ClassVar[int] = 2**63 - 1
    #: Generator tables are seeded with their counter row (INSERT ... SELECT ... NOT EXISTS).
    ddl_seed_rows: ClassVar[bool] = False
    #: DROP TABLE/SEQUENCE ... IF EXISTS.
    ddl_drop_if_exists: ClassVar[bool] = True
    #: DROP TABLE ... CASCADE CONSTRAINTS.
    ddl_cascade_constraints: ClassVar[bool] = False
    #: A column's DEFAULT must come before NOT NULL and its other constraints.
    ddl_default_first: ClassVar[bool] = False
    #: AUTOINCREMENT columns.
    ddl_autoincrement: ClassVar[bool] = False
    #: Length semantics after a type's length: VARCHAR2(100 CHAR), VARCHAR2(100 BYTE).
    ddl_length_semantics: ClassVar[bool] = False

    def __init__(self, server_version: tuple[int, ...], time_zone: ZoneInfo) -> None:
        self.server_version = server_version
        self.time_zone = time_zone

    @classmethod
    def server_version_of(cls, connection: Connection) -> tuple[int, ...]:
        """The server's version, read from a live connection."""
        info = connection.dialect.server_version_info or ()
        return tuple(int(p) for p in info if isinstance(p, int))

    def inspect_server(self, connection: Connection) -> None:
        """Refine, once after detection, what depends on the server's configuration."""

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

    # -- engine and session (class level: they run before the dialect is detected) ----------

    #: The DBAPI driver springbatch-py uses, as SQLAlchemy names it.
    driver: ClassVar[str] = ""
    #: The package extra that installs the driver (None: the standard library has it).
    driver_extra: ClassVar[str | None] = None
    #: Added to the error when the session set-up fails.
    session_setup_hint: ClassVar[str] = ""

    @classmethod
    def connect_args(cls, url: URL, *, must_exist: bool) -> dict[str, Any]:
        """The driver's connect arguments springbatch-py sets unless the caller does (a bound on
        connecting). ``must_exist`` refuses a database that connecting would create."""
        return {}

    @classmethod
    def engine_options(cls) -> dict[str, Any]:
        """SQLAlchemy engine options springbatch-py sets unless the caller does."""
        return {}

    @classmethod
    def require_database(cls, url: URL) -> None:
        """Raise :class:`~springbatch_py.errors.DatabaseUnavailableError` when the database of
        ``url`` is not there, where connecting would not tell (it would create one)."""

    @classmethod
    def missing_driver_hint(cls, error: ImportError) -> str:
        """How to install the driver that could not be imported."""
        return f"pip install 'springbatch-py[{cls.driver_extra or 'all'}]'"

    @classmethod
    def prepare_connection(cls, dbapi_connection: Any) -> None:
        """Run on every new DBAPI connection, before :meth:`session_setup_sql`."""

    @classmethod
    def session_setup_sql(cls, time_zone: ZoneInfo) -> list[str]:
        """Statements run on every new connection to set the session time zone."""
        return []

    @classmethod
    def sends_begin(cls, dbapi_connection: Any) -> bool:
        """Whether the driver sends a ``BEGIN`` of its own before the next statement on
        ``dbapi_connection`` (a round trip; most servers begin a transaction implicitly)."""
        return False

    @classmethod
    def sends_end(cls, dbapi_connection: Any) -> bool:
        """Whether ``commit()``/``rollback()`` on ``dbapi_connection`` goes to the server now
        (the portable assumption: always)."""
        return True

    def notify(self, connection: Connection, channel: str, payload: str) -> None:
        """Send a notification on ``channel`` (only where :attr:`listen_notify`)."""
        raise NotImplementedError(f"{self.product} has no notifications")

    @classmethod
    def open_listener(cls, engine: Engine, channel: str) -> Any:
        """A new connection outside the pool, listening on ``channel`` (only where
        :attr:`listen_notify`); :meth:`wait_notifications` reads it, ``close()`` ends it."""
        raise NotImplementedError(f"{cls.product} has no notifications")

    @classmethod
    def wait_notifications(cls, listener: Any, timeout: float) -> list[str]:
        """The payloads that arrive on a listening connection within ``timeout`` seconds
        (returns at the first batch)."""
        raise NotImplementedError(f"{cls.product} has no notifications")

    #: Statements on a connection in autocommit mode cost no client round trip beyond their
    #: own, and switching a pooled connection to it and back costs none either: single
    #: statements then run without BEGIN and COMMIT.
    cheap_autocommit: ClassVar[bool] = False

    @classmethod
    def install(cls, engine: Engine, connect_args: dict[str, Any]) -> None:
        """Add what this database needs to ``engine``'s events (its transactions' begin)."""

    def prepare_shared_use(self, engine: Engine) -> None:
        """Let several node processes use the database at once; a node runs it at start-up."""

    # -- transactions --------------------------------------------------------------------------

    def write_options(self, *, serializable: bool) -> dict[str, Any]:
        """Execution options of a transaction of its own that may write; ``serializable``
        asks for SERIALIZABLE isolation."""
        return {"isolation_level": "SERIALIZABLE"} if serializable else {}

    def read_options(self, *, one_snapshot: bool = False) -> dict[str, Any]:
        """Execution options of a connection that only reads; ``one_snapshot`` asks that all
        its statements see one snapshot."""
        return {}

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
