"""Private database servers for the fault suite: restarted, frozen and stopped at will.

The shared servers (5432, 3306) are never touched: each server here lives in a temporary
folder, listens on a free port of 127.0.0.1 and is known by the PID this module started.

* :class:`PrivatePostgres`: ``initdb`` and ``postgres`` run as the unprivileged ``postgres``
  user (PostgreSQL refuses to run as root); the postmaster leads its own process group, so
  :meth:`freeze` stops it and every backend at once.
* :class:`PrivateMariaDB`: ``mariadb-install-db`` and ``mariadbd`` (one process) as ``root``.
* :class:`SqliteFile`: a file in a temporary folder (restart and freeze do not apply).

Every server registers an ``atexit`` stop; :func:`open_server` is the context manager to use.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ENGINES = ("sqlite", "postgresql", "mariadb")

#: Bound on a server start (initdb and install-db included) on a loaded machine.
START_TIMEOUT = 120.0


class ServerUnavailable(RuntimeError):
    """The binaries or the user a private server needs are missing (the reason is the text)."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _which(*names: str, extra: tuple[str, ...] = ()) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for folder in extra:
            candidate = Path(folder) / name
            if candidate.exists():
                return str(candidate)
    raise ServerUnavailable(f"none of {', '.join(names)} is installed")


def _wait_connectable(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {process.returncode}: {log.read_text()[-2000:]}"
                )
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                return
            except sa.exc.DBAPIError:
                time.sleep(0.2)
        raise RuntimeError(
            f"server not reachable after {START_TIMEOUT}s: {log.read_text()[-2000:]}"
        )
    finally:
        engine.dispose()


class Server:
    """A database for one scenario run; subclasses start real servers."""

    engine = ""
    restartable = False
    #: How :meth:`stop` asks the server to end (it is killed if it has not within a minute).
    stop_signal = signal.SIGTERM

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"faults-{self.engine}-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        """The server's main process, while it runs."""
        return self.process.pid if self.process and self.process.poll() is None else None

    def start(self) -> None:
        """Start the server (create it on first start)."""

    def url(self, database: str) -> str:
        """The URL of one database on this server."""
        raise NotImplementedError

    def create_database(self, name: str) -> str:
        """Create a database and return its URL."""
        raise NotImplementedError

    def restart(self, pause: float = 0.0) -> None:
        """Stop the server cleanly, wait ``pause`` seconds, start it again."""
        raise ServerUnavailable(f"{self.engine} cannot be restarted")

    def freeze(self) -> None:
        """SIGSTOP every process of the server: connections stay open, nothing answers."""
        raise ServerUnavailable(f"{self.engine} cannot be frozen")

    def thaw(self) -> None:
        """SIGCONT what :meth:`freeze` stopped."""

    def _signal(self, signum: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The server leads its own session and process group (start_new_session).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def _terminate(self, signum: int, timeout: float = 60.0) -> None:
        if self.process is None:
            return
        if self.frozen:
            self.thaw()  # a frozen child would hold up the shutdown
        self._signal(signal.SIGCONT)
        self.frozen = False
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(30)
        # Backends left behind by a killed postmaster exit once they notice; make sure.
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server (by its PID) and delete its folder."""
        try:
            self._terminate(self.stop_signal)
        finally:
            self.process = None
            shutil.rmtree(self.folder, ignore_errors=True)


class SqliteFile(Server):
    """An SQLite file in a temporary folder."""

    engine = "sqlite"

    def url(self, database: str) -> str:
        return f"sqlite:///{self.folder / (database + '.db')}"

    def create_database(self, name: str) -> str:
        return self.url(name)


_PG_DIRS = tuple(sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")))


class PrivatePostgres(Server):
    """A PostgreSQL server of its own, run by the ``postgres`` user."""

    engine = "postgresql"
    restartable = True
    # SIGTERM is PostgreSQL's smart shutdown: it waits for every session to end, and after a
    # freeze one lingered for most of a minute (the frozen-server liveness test took 74 s, 26 s
    # with SIGINT). SIGINT, the fast shutdown, ends the sessions: the server is thrown away.
    stop_signal = signal.SIGINT

    def __init__(self, user: str = "postgres", max_connections: int = 300) -> None:
        self.max_connections = max_connections
        self.initdb = _which("initdb", extra=_PG_DIRS)
        self.postgres = _which("postgres", extra=_PG_DIRS)
        try:
            self.account = pwd.getpwnam(user) if os.geteuid() == 0 else None
        except KeyError:
            raise ServerUnavailable(f"running as root and there is no {user!r} user") from None
        super().__init__()
        self.port = free_port()
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        # PostgreSQL refuses to run as root: initdb and the server run as the account.
        self.uid = self.account.pw_uid if self.account else None
        self.gid = self.account.pw_gid if self.account else None
        self.groups: list[int] | None = [] if self.account else None
        if self.account is not None:
            os.chmod(self.folder, 0o755)
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)

    def start(self) -> None:
        if not self.data.exists():
            subprocess.run(
                [self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                check=True,
                capture_output=True,
                timeout=START_TIMEOUT,
                cwd=self.folder,
                user=self.uid,
                group=self.gid,
                extra_groups=self.groups,
            )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.postgres,
                    "-D", str(self.data),
                    "-p", str(self.port),
                    "-k", str(self.folder),
                    "-c", "listen_addresses=127.0.0.1",
                    "-c", f"max_connections={self.max_connections}",
                    "-c", "fsync=off",
                    "-c", "shared_buffers=32MB",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
                user=self.uid,
                group=self.gid,
                extra_groups=self.groups,
            )  # fmt: skip
        _wait_connectable(self.url("postgres"), self.process, self.log)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def restart(self, pause: float = 0.0) -> None:
        # SIGINT: PostgreSQL's fast shutdown (sessions are ended, nothing is lost).
        self._terminate(signal.SIGINT)
        time.sleep(pause)
        self.start()

    def freeze(self) -> None:
        # Every backend leads a session of its own (PostgreSQL's children call setsid()), so
        # the postmaster's process group is the postmaster alone: stop it first (it forks no
        # more backends), then each of its children, until no running child is left.
        self._signal(signal.SIGSTOP)
        self.frozen = True
        if self.process is None:
            return
        stopped: set[int] = set()
        while True:
            children = set(_children(self.process.pid)) - stopped
            if not children:
                return
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            stopped |= children

    def thaw(self) -> None:
        if self.process is not None:
            for pid in _children(self.process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
        self._signal(signal.SIGCONT)
        self.frozen = False


def _children(pid: int) -> list[int]:
    """The PIDs of ``pid``'s child processes (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class PrivateMariaDB(Server):
    """A MariaDB server of its own (``mariadbd --user=root``), one process."""

    engine = "mariadb"
    restartable = True

    def __init__(self) -> None:
        self.install = _which("mariadb-install-db", "mysql_install_db")
        self.server = _which("mariadbd", "mysqld", extra=("/usr/sbin",))
        super().__init__()
        self.port = free_port()
        self.data = self.folder / "data"
        self.socket = self.folder / "mariadb.sock"
        self.log = self.folder / "server.log"

    def _options(self) -> list[str]:
        return [
            "--no-defaults",
            f"--datadir={self.data}",
            "--user=root",
        ]

    def start(self) -> None:
        if not self.data.exists():
            self._install()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.server,
                    *self._options(),
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={self.socket}",
                    f"--pid-file={self.folder / 'mariadb.pid'}",
                    "--skip-grant-tables",
                    "--skip-name-resolve",
                    "--innodb-buffer-pool-size=64M",
                    "--innodb-log-file-size=48M",
                    "--innodb-flush-log-at-trx-commit=2",
                    "--max-connections=400",
                    "--log-error=" + str(self.log),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        _wait_connectable(self.url("mysql"), self.process, self.log)

    def _install(self) -> None:
        """Create the data folder; tried twice (its bootstrap server has failed at once on a
        machine at load 10), and a second failure raises with what it printed."""
        command = [self.install, *self._options(), "--auth-root-authentication-method=normal",
                   "--skip-test-db"]  # fmt: skip
        for attempt in (1, 2):
            done = subprocess.run(
                command, capture_output=True, timeout=START_TIMEOUT, cwd=self.folder
            )
            if done.returncode == 0:
                return
            output = (done.stdout + done.stderr).decode(errors="replace").strip()
            if attempt == 2:
                raise RuntimeError(f"{self.install} exited {done.returncode}: {output[-2000:]}")
            print(f"{self.install} exited {done.returncode}, trying again: {output[-2000:]}")
            shutil.rmtree(self.data, ignore_errors=True)
            time.sleep(1.0)

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url("mysql"))
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(f"CREATE DATABASE `{name}`"))
        finally:
            engine.dispose()
        return self.url(name)

    def restart(self, pause: float = 0.0) -> None:
        self._terminate(signal.SIGTERM)
        time.sleep(pause)
        self.start()

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)
        self.frozen = False


def make_server(engine: str) -> Server:
    """A stopped private server (or SQLite folder) for ``engine``."""
    if engine == "sqlite":
        return SqliteFile()
    if engine == "postgresql":
        return PrivatePostgres()
    if engine == "mariadb":
        return PrivateMariaDB()
    raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")


@contextlib.contextmanager
def open_server(engine: str) -> Iterator[Server]:
    """A started private server, stopped (by PID) and deleted on exit."""
    server = make_server(engine)
    try:
        server.start()
        yield server
    finally:
        server.stop()
