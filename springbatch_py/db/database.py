"""Open a database: URL, engine, session settings, dialect detection."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from springbatch_py.db import detect, roundtrips
from springbatch_py.db.dialect import Dialect
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.db.statements import StatementCatalog, load_catalog
from springbatch_py.errors import ConfigurationError, DatabaseUnavailableError
from springbatch_py.util import one_line

_EXAMPLE = "for example sqlite:///springbatch.db or postgresql+psycopg://user@host:5432/db"

log = logging.getLogger(__name__)

#: JDBC subprotocols and the backend each means.
_JDBC_BACKENDS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mariadb"}
_JDBC_SERVER = re.compile(
    r"jdbc:(?P<kind>postgresql|mysql|mariadb)://(?P<host>\[[^\]]+\]|[^/:?;,]*)"
    r"(?::(?P<port>\d+))?(?:/(?P<database>[^?;]*))?(?P<query>[?;].*)?",
    re.I,
)
#: ``jdbc:oracle:thin:@//host:port/service`` and ``jdbc:oracle:thin:@host:port:SID`` (or
#: ``@host:port/service``), with optional ``user/password`` before the ``@``.
_JDBC_ORACLE = re.compile(
    r"jdbc:oracle:thin:(?:(?P<user>[^/@]+)/(?P<password>[^@]*))?@(?://)?(?P<host>[^:/?]+)"
    r"(?::(?P<port>\d+))?(?:(?P<sep>[:/])(?P<name>[^?]+))?(?P<query>\?.*)?",
    re.I,
)


def jdbc_to_url(jdbc: str, username: str | None = None, password: str | None = None) -> URL:
    """The SQLAlchemy URL for a JDBC URL, as a Spring ``spring.datasource.url`` holds it.

    ``jdbc:postgresql://h:p/db`` becomes ``postgresql://h:p/db``, ``jdbc:mysql:``/``jdbc:mariadb:``
    ``mysql://``/``mariadb://``, ``jdbc:oracle:thin:@//h:p/svc`` ``oracle://h:p/?service_name=svc``
    (``@h:p:SID`` a SID), ``jdbc:sqlite:path`` ``sqlite:///path``. ``user`` and ``password``
    properties of the URL are kept; ``username``/``password`` (``spring.datasource.username``...)
    win over them. Other JDBC properties have no SQLAlchemy meaning and are left out (logged).
    """
    text = jdbc.strip()
    lower = text.lower()
    if lower.startswith("jdbc:sqlite:"):
        path = text[len("jdbc:sqlite:") :]
        if path in ("", ":memory:"):
            return make_url("sqlite://")
        return make_url(f"sqlite:///{path}")
    query: dict[str, str] = {}
    server = _JDBC_SERVER.fullmatch(text)
    oracle = _JDBC_ORACLE.fullmatch(text) if server is None else None
    if server is not None:
        backend = _JDBC_BACKENDS[server["kind"].lower()]
        host, port, database = server["host"], server["port"], server["database"] or None
        properties = _jdbc_properties(server["query"])
    elif oracle is not None:
        backend, host, port = "oracle", oracle["host"], oracle["port"]
        database = None
        if oracle["name"] and oracle["sep"] == ":":
            database = oracle["name"]  # a SID
        elif oracle["name"]:
            query["service_name"] = oracle["name"]
        properties = _jdbc_properties(oracle["query"])
        properties.setdefault("user", oracle["user"] or "")
        properties.setdefault("password", oracle["password"] or "")
    else:
        raise ConfigurationError(
            f"unsupported JDBC URL {redact(text)!r}: springbatch-py reads jdbc:postgresql:, "
            "jdbc:mysql:, jdbc:mariadb:, jdbc:oracle:thin: and jdbc:sqlite: URLs"
        )
    user = username or properties.pop("user", "") or None
    secret = password or properties.pop("password", "") or None
    properties.pop("user", None)
    properties.pop("password", None)
    if properties:
        log.warning(
            "JDBC properties %s of %s are not used", ", ".join(sorted(properties)), redact(text)
        )
    return URL.create(
        backend,
        username=user,
        password=secret,
        host=host or None,
        port=int(port) if port else None,
        database=database,
        query=query,
    )


def _jdbc_properties(query: str | None) -> dict[str, str]:
    if not query:
        return {}
    properties = {}
    for part in re.split(r"[&;]", query[1:]):
        key, _, value = part.partition("=")
        if key:
            properties[key] = value
    return properties


def _translate(url: str | URL) -> str | URL:
    """A JDBC URL as SQLAlchemy's; ``postgres://`` (Heroku's, libpq's) as ``postgresql://``."""
    if not isinstance(url, str):
        return url
    if url.strip().lower().startswith("jdbc:"):
        return jdbc_to_url(url)
    return re.sub(r"^postgres(?=[+:])", "postgresql", url.strip())


def redact(url: str) -> str:
    """Hide the password of a URL for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def parse_url(url: str | URL) -> URL:
    """Parse ``url`` and pin springbatch-py's driver for its backend.

    ``postgresql://`` becomes ``postgresql+psycopg://``, ``mysql://`` becomes
    ``mysql+pymysql://`` and so on; another explicit driver is refused. A JDBC URL
    (``jdbc:postgresql://host/db``) is translated (:func:`jdbc_to_url`), and ``postgres://``
    read as ``postgresql://``.
    """
    try:
        parsed = make_url(_translate(url))
    except ArgumentError:
        raise ConfigurationError(f"invalid database URL {redact(str(url))!r}; {_EXAMPLE}") from None
    backend = parsed.get_backend_name()
    wanted = detect.vendor_for_backend(backend).driver
    if "+" not in parsed.drivername:
        return parsed.set(drivername=f"{backend}+{wanted}")
    if parsed.get_driver_name() != wanted:
        raise ConfigurationError(
            f"driver {parsed.get_driver_name()!r} is not supported for {backend}; "
            f"use {backend}+{wanted}://"
        )
    return parsed


def create_engine(
    url: str | URL, settings: DatabaseSettings, *, must_exist: bool = False, **kwargs: Any
) -> Engine:
    """Create an engine whose connections use the settings' session time zone.

    ``must_exist`` refuses a database that connecting would create (a SQLite file).
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    vendor = detect.vendor_for_backend(backend)
    connect_args: dict[str, Any] = {
        **vendor.connect_args(parsed, must_exist=must_exist),
        **kwargs.pop("connect_args", {}),
    }
    try:
        # No ping before every checkout: roundtrips.install pings a connection only after an
        # idle spell. LIFO keeps the few connections in use warm and lets the rest idle.
        kwargs.setdefault("pool_use_lifo", True)
        for option, value in vendor.engine_options().items():
            kwargs.setdefault(option, value)
        engine = sa.create_engine(parsed, connect_args=connect_args, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigurationError(f"cannot use {redact(str(url))}: {exc}") from None
    except ImportError as exc:
        raise ConfigurationError(
            f"the {backend} driver ({vendor.driver}) cannot be loaded ({one_line(exc)}): "
            + vendor.missing_driver_hint(exc)
        ) from None
    install_session_settings(engine, settings)
    vendor.install(engine, connect_args)
    resets = kwargs.get("pool_reset_on_return", "rollback") not in (None, False, "none")
    roundtrips.install(engine, vendor, pool_resets=resets)
    return engine


def install_session_settings(engine: Engine, settings: DatabaseSettings) -> None:
    """Prepare every new connection of ``engine`` and set its session time zone."""
    vendor = detect.vendor_for_backend(engine.dialect.name)
    setup = vendor.session_setup_sql(settings.zone)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        vendor.prepare_connection(dbapi_connection)
        if not setup:
            return
        cursor = dbapi_connection.cursor()
        try:
            for statement in setup:
                cursor.execute(statement)
        except Exception as exc:
            raise ConfigurationError(
                f"cannot set the session time zone {settings.time_zone!r}: {one_line(exc)}"
                + vendor.session_setup_hint
            ) from None
        finally:
            cursor.close()
        # SET inside an open transaction would be undone by the pool's reset-on-return rollback.
        dbapi_connection.commit()


class Database:
    """An engine with springbatch-py's settings and its detected dialect.

    Open one with :meth:`open`; everything that touches SQL receives a :class:`Database`.
    """

    def __init__(self, engine: Engine, dialect: Dialect, settings: DatabaseSettings) -> None:
        self.engine = engine
        self.dialect = dialect
        self.settings = settings

    @classmethod
    def open(
        cls,
        url: str | URL,
        settings: DatabaseSettings | None = None,
        *,
        must_exist: bool = False,
        **engine_kwargs: Any,
    ) -> Database:
        """Create the engine, connect once and detect the dialect."""
        settings = settings or DatabaseSettings()
        engine = create_engine(url, settings, must_exist=must_exist, **engine_kwargs)
        try:
            with engine.connect() as connection:
                dialect = detect.detect(connection, settings.zone)
        except DBAPIError as exc:
            engine.dispose()
            raise DatabaseUnavailableError(
                f"cannot connect to {redact(engine.url.render_as_string(hide_password=True))}: "
                f"{one_line(exc)}"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, dialect, settings)

    @property
    def url(self) -> str:
        """The URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def round_trips(self) -> roundtrips.RoundTrips:
        """The client round trips this database's engine has made, by kind."""
        return roundtrips.of(self.engine)

    @property
    def statements(self) -> StatementCatalog:
        """The named statements of this dialect."""
        return load_catalog(self.dialect.name)

    def release_idle(self, keep: int = 1) -> bool:
        """Close the pool's connections when more than ``keep`` sit idle and none is in use
        (a new pool opens connections again as they are needed); whether it closed any."""
        pool = self.engine.pool
        checked_in = getattr(pool, "checkedin", None)
        checked_out = getattr(pool, "checkedout", None)
        if checked_in is None or checked_out is None:
            return False
        if checked_in() <= keep or checked_out() > 0:
            return False
        self.engine.dispose()
        return True

    def describe(self) -> str:
        """One line: product, version and URL."""
        version = ".".join(map(str, self.dialect.server_version))
        return f"{self.dialect.product} {version} at {self.url}"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction, committed on success."""
        with self.engine.begin() as connection:
            yield connection

    def connect(self) -> Connection:
        """A plain connection (the caller manages transactions)."""
        return self.engine.connect()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def database_now(db: Database, connection: Connection) -> datetime:
    """The database clock, as a naive wall-clock time of the configured zone."""
    value = db.dialect.read_timestamp(db.statements["clock_now"].run(connection).scalar())
    if value is None:
        raise DatabaseUnavailableError(f"{db.dialect.product} returned no clock value")
    return value
