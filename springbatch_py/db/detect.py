"""Pick the dialect from a live connection: product, server version, MariaDB vs MySQL."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from springbatch_py.db.dialect import Dialect
from springbatch_py.db.vendors.mysql import MariaDBDialect, MySQLDialect
from springbatch_py.db.vendors.oracle import OracleDialect
from springbatch_py.db.vendors.postgresql import PostgreSQLDialect
from springbatch_py.db.vendors.sqlite import SQLiteDialect
from springbatch_py.errors import ConfigurationError

log = logging.getLogger(__name__)

#: Dialect class by SQLAlchemy backend name (MariaDB is told apart after connecting).
VENDORS: dict[str, type[Dialect]] = {
    "postgresql": PostgreSQLDialect,
    "mysql": MySQLDialect,
    "mariadb": MariaDBDialect,
    "oracle": OracleDialect,
    "sqlite": SQLiteDialect,
}


def vendor_for_backend(backend: str) -> type[Dialect]:
    """The dialect class for a SQLAlchemy backend name, before any connection."""
    try:
        return VENDORS[backend]
    except KeyError:
        raise ConfigurationError(
            f"unsupported database {backend!r}; supported: {', '.join(VENDORS)}"
        ) from None


def detect(connection: Connection, time_zone: ZoneInfo) -> Dialect:
    """Detect the dialect of ``connection``'s server and log the choice."""
    sa_dialect = connection.dialect
    # SQLAlchemy reads MariaDB from the version string (MySQL Connector/J reports it as MySQL).
    backend = "mariadb" if getattr(sa_dialect, "is_mariadb", False) else sa_dialect.name
    cls = vendor_for_backend(backend)
    version = cls.server_version_of(connection)
    dialect = cls(version, time_zone)
    dialect.inspect_server(connection)
    log.info(
        "database dialect: %s %s (%s), time zone %s",
        dialect.product,
        ".".join(map(str, version)),
        type(dialect).__name__,
        time_zone.key,
    )
    return dialect
