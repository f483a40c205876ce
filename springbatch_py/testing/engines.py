"""Scratch databases on every engine springbatch-py supports, for tests and the conformance suite.

Each engine finds a server in this order:

1. ``SPRINGBATCH_TEST_<ENGINE>_URL`` (``POSTGRESQL``, ``MARIADB``, ``MYSQL``, ``ORACLE``): an admin
   URL on a server where scratch databases (Oracle: users) may be created;
2. the local server of a developer machine (PostgreSQL on 127.0.0.1:5432 as ``postgres``, MariaDB
   on 127.0.0.1:3306 as ``root``) when it answers;
3. a container started through testcontainers when a Docker engine is reachable (PostgreSQL,
   MySQL 8, Oracle Free).

SQLite needs no server. Each scratch database has a unique name (``<prefix><epoch>_<random>``, the
prefix ``sbpy_t_`` unless ``SPRINGBATCH_TEST_SCRATCH_PREFIX`` names another) and is dropped after
use. Where creating one is slow (PostgreSQL copies a template), the pytest plugin has the next one
created in the background while a test runs (:meth:`ServerProvider.keep_one_ahead`). Scratch
databases a crashed run left behind (the prefix's, six hours old or more) are swept when a
provider starts, but only on a server of its own: the developer machine's local default
server or a container it started. A server named by ``SPRINGBATCH_TEST_<ENGINE>_URL`` (a user's,
a CI's; the ``conformance`` command's) is never swept unless ``SPRINGBATCH_TEST_SWEEP=1``;
``SPRINGBATCH_TEST_SWEEP=0`` turns sweeping off everywhere.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from springbatch_py.db.database import parse_url
from springbatch_py.util import one_line

#: Engine names, in the order the matrix shows them.
ENGINES: tuple[str, ...] = ("sqlite", "postgresql", "mariadb", "mysql", "oracle")

#: The default prefix of scratch database (Oracle: user) names.
PREFIX = "sbpy_t_"
#: Environment variable naming another prefix (lower-case letters, digits, ``_``).
PREFIX_ENV = "SPRINGBATCH_TEST_SCRATCH_PREFIX"
#: Environment variable: ``1`` sweeps every server, ``0`` none; unset, only servers of our own.
SWEEP_ENV = "SPRINGBATCH_TEST_SWEEP"
STALE_AFTER_S = 6 * 3600
_PREFIX_FORM = re.compile(r"[a-z][a-z0-9_]{0,29}")

LOCAL_DEFAULTS: dict[str, str] = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mariadb+pymysql://root@127.0.0.1:3306/",
}


def env_var(engine: str) -> str:
    """The environment variable naming an engine's admin URL."""
    return f"SPRINGBATCH_TEST_{engine.upper()}_URL"


def scratch_prefix() -> str:
    """The prefix of scratch names: ``$SPRINGBATCH_TEST_SCRATCH_PREFIX``, else ``sbpy_t_``."""
    prefix = os.environ.get(PREFIX_ENV) or PREFIX
    if not _PREFIX_FORM.fullmatch(prefix):
        raise ValueError(
            f"{PREFIX_ENV}={prefix!r}: a scratch prefix is a lower-case letter then up to 29 "
            "lower-case letters, digits or '_'"
        )
    return prefix


def sweep_wanted(own_server: bool) -> bool:
    """Whether to drop stale scratch databases on a server: ``$SPRINGBATCH_TEST_SWEEP`` when set
    (``1``/``0``), else only on a server of our own (local default server or our container)."""
    value = os.environ.get(SWEEP_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return own_server


def scratch_name() -> str:
    """A unique scratch database name that records its creation time."""
    return f"{scratch_prefix()}{int(time.time())}_{secrets.token_hex(4)}"


def _is_stale(name: str) -> bool:
    prefix = scratch_prefix()
    if not name.startswith(prefix):
        return False
    try:
        created = int(name[len(prefix) :].split("_")[0])
    except ValueError:
        return False
    return time.time() - created > STALE_AFTER_S


@dataclass
class ScratchDatabase:
    """A database created for one test; :meth:`drop` removes it."""

    url: str
    name: str
    _drop: Callable[[], None]

    def drop(self) -> None:
        """Remove the database."""
        self._drop()


class Provider(ABC):
    """Finds a server for one engine and creates scratch databases on it."""

    name: str

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probed = False
        self.available = False
        self.reason = ""
        self.source = ""
        self.created = 0

    def probe(self) -> bool:
        """Find a server (once); return whether the engine is available."""
        with self._lock:
            if not self._probed:
                self._probed = True
                try:
                    self.source = self._find()
                    self.available = True
                except Unavailable as exc:
                    self.reason = str(exc)
        return self.available

    @abstractmethod
    def _find(self) -> str:
        """Locate a server; return a description of it or raise :class:`Unavailable`."""

    @abstractmethod
    def create(self) -> ScratchDatabase:
        """Create a scratch database."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the provider started."""


class Unavailable(Exception):
    """An engine has no reachable server; the message says why."""


# -- SQLite ------------------------------------------------------------------------------------


class SQLiteProvider(Provider):
    """Database files in a temporary folder."""

    name = "sqlite"

    def _find(self) -> str:
        import sqlite3

        self._folder = Path(tempfile.mkdtemp(prefix="sbpy-sqlite-"))
        return f"embedded SQLite {sqlite3.sqlite_version}"

    def create(self) -> ScratchDatabase:
        name = scratch_name()
        path = self._folder / f"{name}.db"
        self.created += 1

        def drop() -> None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()

        return ScratchDatabase(f"sqlite:///{path}", name, drop)

    def close(self) -> None:
        if getattr(self, "_folder", None):
            shutil.rmtree(self._folder, ignore_errors=True)


# -- server engines ----------------------------------------------------------------------------


def docker_reachable() -> tuple[bool, str]:
    """Whether a Docker engine answers (testcontainers needs one)."""
    host = os.environ.get("DOCKER_HOST")
    if not host and not Path("/var/run/docker.sock").exists():
        return (
            False,
            "no Docker engine for testcontainers (no DOCKER_HOST, no /var/run/docker.sock)",
        )
    try:
        import docker
    except ImportError:
        return False, "the docker package is not installed"
    with warnings.catch_warnings():
        # A client that fails half-way leaves its socket to the garbage collector.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:  # docker raises several unrelated types
            return False, f"no Docker engine reachable for testcontainers ({one_line(exc)[:100]})"
        finally:
            gc.collect()
    return True, ""


class ServerProvider(Provider):
    """An engine reached through an admin URL."""

    product: str = ""
    image: str | None = None
    #: Statements that create and drop a scratch database ``{name}``.
    create_sql: str = ""
    drop_sql: str = ""
    #: Whether :meth:`keep_one_ahead` pays: creating a database takes long on this engine.
    slow_create: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.admin_url: URL | None = None
        self._container: Any = None
        self._admin: sa.Engine | None = None
        self._keep_ahead = False
        self._background: ThreadPoolExecutor | None = None
        self._ahead: Future[str] | None = None

    def keep_one_ahead(self) -> None:
        """From now on, create the next scratch database in the background while the caller
        uses the last one (where creating one is slow), so that the next :meth:`create` need not
        wait for it. The database made ahead and not taken is dropped by :meth:`close`."""
        self._keep_ahead = self.slow_create

    def _find(self) -> str:
        reasons = []
        explicit = os.environ.get(env_var(self.name))
        if explicit:
            try:
                return self._use(explicit, env_var(self.name), own_server=False)
            except Unavailable as exc:
                raise Unavailable(f"{env_var(self.name)}: {exc}") from None
        reasons.append(f"{env_var(self.name)} is not set")
        local = LOCAL_DEFAULTS.get(self.name)
        if local:
            try:
                return self._use(local, "local server", own_server=True)
            except Unavailable as exc:
                reasons.append(f"local server: {exc}")
        if self.image:
            ok, why = docker_reachable()
            if ok:
                return self._use(
                    self._start_container(), f"container {self.image}", own_server=True
                )
            reasons.append(why)
        raise Unavailable("; ".join(reasons))

    def _use(self, url: str, source: str, *, own_server: bool) -> str:
        admin_url = parse_url(url)
        engine = sa.create_engine(
            admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True, **self._engine_kwargs()
        )
        try:
            with engine.connect() as connection:
                self._check_product(connection)
                if sweep_wanted(own_server):
                    self._sweep(connection)
        except Unavailable:
            engine.dispose()
            raise
        except Exception as exc:
            engine.dispose()
            raise Unavailable(f"{admin_url.render_as_string()}: {one_line(exc)}") from None
        self.admin_url = admin_url
        self._admin = engine
        return f"{source} {admin_url.render_as_string(hide_password=True)}"

    def _engine_kwargs(self) -> dict[str, Any]:
        return {"connect_args": {"connect_timeout": 3}}

    def _check_product(self, connection: sa.Connection) -> None:
        """Raise :class:`Unavailable` when the server is not this engine's product."""

    @abstractmethod
    def _sweep(self, connection: sa.Connection) -> None:
        """Drop scratch databases of crashed runs."""

    @abstractmethod
    def _start_container(self) -> str:
        """Start a container; return its admin URL."""

    @contextlib.contextmanager
    def admin(self) -> Iterator[sa.Connection]:
        """An autocommit connection with admin rights."""
        assert self._admin is not None
        with self._admin.connect() as connection:
            yield connection

    def create(self) -> ScratchDatabase:
        assert self.admin_url is not None
        name = self._take_ahead() or self._create_database()
        if self._keep_ahead:
            if self._background is None:
                self._background = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-ahead")
            self._ahead = self._background.submit(self._create_database)
        self.created += 1

        def drop() -> None:
            self._drop_database(name)

        url = self.admin_url.set(database=name).render_as_string(hide_password=False)
        return ScratchDatabase(url, name, drop)

    def _create_database(self) -> str:
        name = scratch_name()
        with self.admin() as connection:
            connection.exec_driver_sql(self.create_sql.format(name=name))
        return name

    def _drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.exec_driver_sql(self.drop_sql.format(name=name))

    def _take_ahead(self) -> str | None:
        """The database made ahead, or None (none was, or making it failed: the caller then
        creates one itself and meets the error, if it lasts, in its own call)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        try:
            return ahead.result()
        except Exception:
            return None

    def close(self) -> None:
        name = self._take_ahead()
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None
        if name is not None:
            with contextlib.suppress(Exception):
                self._drop_database(name)
        if self._admin is not None:
            self._admin.dispose()
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.stop()


class PostgreSQLProvider(ServerProvider):
    """Scratch databases on a PostgreSQL server."""

    name = "postgresql"
    image = "postgres:16-alpine"
    create_sql = 'CREATE DATABASE "{name}"'
    # CREATE DATABASE copies the template (about 8 MB): a tenth of a second on an idle server,
    # several tenths on a busy one, where MySQL and MariaDB take milliseconds.
    slow_create = True
    drop_sql = 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'

    def _sweep(self, connection: sa.Connection) -> None:
        names = connection.execute(
            sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
            {"p": scratch_prefix() + "%"},
        ).scalars()
        for name in list(names):
            if _is_stale(name):
                connection.exec_driver_sql(self.drop_sql.format(name=name))

    def _start_container(self) -> str:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer(self.image, driver="psycopg")
        container.start()
        self._container = container
        return str(container.get_connection_url())


class MySQLFamilyProvider(ServerProvider):
    """Scratch databases on a MySQL or MariaDB server."""

    want_mariadb = False
    create_sql = "CREATE DATABASE `{name}`"
    drop_sql = "DROP DATABASE IF EXISTS `{name}`"

    def _check_product(self, connection: sa.Connection) -> None:
        version = str(connection.exec_driver_sql("SELECT VERSION()").scalar())
        if ("mariadb" in version.lower()) != self.want_mariadb:
            raise Unavailable(f"the server is {version}, not {self.product}")

    def _sweep(self, connection: sa.Connection) -> None:
        names = connection.exec_driver_sql("SHOW DATABASES").scalars()
        for name in list(names):
            if _is_stale(name):
                connection.exec_driver_sql(self.drop_sql.format(name=name))


class MariaDBProvider(MySQLFamilyProvider):
    """MariaDB (local server or a URL; no container)."""

    name = "mariadb"
    product = "MariaDB"
    want_mariadb = True

    def _start_container(self) -> str:  # pragma: no cover - image is None
        raise Unavailable("no MariaDB container configured")


class MySQLProvider(MySQLFamilyProvider):
    """MySQL 8 (a URL or a container)."""

    name = "mysql"
    product = "MySQL"
    image = "mysql:8.0"

    def _start_container(self) -> str:
        from testcontainers.mysql import MySqlContainer

        container = MySqlContainer(self.image, username="root", password="test", dialect="pymysql")
        container.start()
        self._container = container
        return str(container.get_connection_url())


class OracleProvider(ServerProvider):
    """Scratch users (schemas) on an Oracle server (a URL or an Oracle Free container)."""

    name = "oracle"
    product = "Oracle"
    image = "gvenzl/oracle-free:slim-faststart"

    def _engine_kwargs(self) -> dict[str, Any]:
        return {"connect_args": {"tcp_connect_timeout": 3}}

    def _sweep(self, connection: sa.Connection) -> None:
        names = connection.execute(
            sa.text("SELECT username FROM all_users WHERE username LIKE :p"),
            {"p": scratch_prefix().upper() + "%"},
        ).scalars()
        for name in list(names):
            if _is_stale(name.lower()):
                connection.exec_driver_sql(f"DROP USER {name} CASCADE")

    def _start_container(self) -> str:
        from testcontainers.oracle import OracleDbContainer

        container = OracleDbContainer(self.image)
        container.start()
        self._container = container
        return str(container.get_connection_url())

    def create(self) -> ScratchDatabase:
        assert self.admin_url is not None
        name = scratch_name()
        password = "P" + secrets.token_hex(8)
        with self.admin() as connection:
            connection.exec_driver_sql(
                f'CREATE USER {name} IDENTIFIED BY "{password}" QUOTA UNLIMITED ON USERS'
            )
            connection.exec_driver_sql(
                f"GRANT CREATE SESSION, CREATE TABLE, CREATE SEQUENCE TO {name}"
            )
        self.created += 1

        def drop() -> None:
            with self.admin() as connection:
                connection.exec_driver_sql(f"DROP USER {name} CASCADE")

        url = self.admin_url.set(username=name, password=password)
        return ScratchDatabase(url.render_as_string(hide_password=False), name, drop)


PROVIDERS: dict[str, Callable[[], Provider]] = {
    "sqlite": SQLiteProvider,
    "postgresql": PostgreSQLProvider,
    "mariadb": MariaDBProvider,
    "mysql": MySQLProvider,
    "oracle": OracleProvider,
}
