"""Private database servers for fault tests: started in a temporary folder on a free port, and
restarted, frozen (SIGSTOP of every process of the server) and thawed at will.

Never the shared servers: every process here was started by this module and is stopped by its
PID. ::

    server = Server("postgresql")
    url = server.start()          # an admin URL (scratch databases may be created there)
    server.restart()              # same port, same data
    server.freeze(); server.thaw()
    server.stop()

PostgreSQL needs ``initdb`` and ``postgres`` (run as the ``postgres`` user when this process is
root); MariaDB needs ``mariadb-install-db`` and ``mariadbd``. :func:`available` says whether an
engine can be started here, and why not.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ENGINES = ("postgresql", "mariadb")
START_TIMEOUT_S = 60.0
#: The database :attr:`Server.url` names on MariaDB (created at the first start).
DATABASE = "batch"


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (folder / name).exists():
                return str(folder / name)
    return found


def available(engine: str) -> str | None:
    """None when ``engine`` can be started here, else the reason it cannot."""
    needed = {"postgresql": ("initdb", "postgres"), "mariadb": ("mariadb-install-db", "mariadbd")}
    if engine not in needed:
        return f"no private {engine} server: only {', '.join(ENGINES)}"
    missing = [b for b in needed[engine] if _binary(b) is None]
    if missing:
        return f"{', '.join(missing)} not found"
    if engine == "postgresql" and os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server"
    return None


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One private server of ``engine`` (see the module docstring)."""

    def __init__(self, engine: str) -> None:
        reason = available(engine)
        if reason is not None:
            raise RuntimeError(reason)
        self.engine = engine
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix=f"sbpy-{engine}-"))
        self.data = self.folder / "data"
        self._process: subprocess.Popen[bytes] | None = None
        self._frozen: list[int] = []
        self._user: str | None = None
        if engine == "postgresql" and os.geteuid() == 0:
            self._user = "postgres"  # initdb and postgres refuse to run as root
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._initialized = False

    @property
    def url(self) -> str:
        """The URL of a database to use (``postgres``; on MariaDB ``batch``), as its admin."""
        if self.engine == "postgresql":
            return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        return f"mariadb+pymysql://root@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def _server_url(self) -> str:
        if self.engine == "postgresql":
            return self.url
        return f"mariadb+pymysql://root@127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int | None:
        """The server's main process, while it runs."""
        return None if self._process is None else self._process.pid

    def start(self) -> str:
        """Start the server (initializing its data the first time); its admin URL."""
        if self._process is not None:
            return self.url
        if not self._initialized:
            self._initialize()
        log = (self.folder / "server.log").open("ab")
        self._process = subprocess.Popen(
            self._command(), stdout=log, stderr=subprocess.STDOUT, user=self._user
        )
        log.close()
        self._wait_ready()
        return self.url

    def stop(self) -> None:
        """Stop the server (a fast shutdown; SIGKILL after a bound)."""
        if self._process is None:
            return
        self.thaw()
        process, self._process = self._process, None
        process.send_signal(signal.SIGINT if self.engine == "postgresql" else signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)

    def restart(self) -> None:
        """Stop, then start on the same port with the same data (connections are lost)."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP every process of the server: it accepts connections and answers nothing."""
        if self._process is None:
            raise RuntimeError("the server is not running")
        self._frozen = [self._process.pid, *self._children(self._process.pid)]
        for pid in self._frozen:
            _signal(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT what :meth:`freeze` stopped."""
        for pid in self._frozen:
            _signal(pid, signal.SIGCONT)
        self._frozen = []

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- engines ---------------------------------------------------------------------------------

    def _initialize(self) -> None:
        if self.engine == "postgresql":
            command = [
                str(_binary("initdb")),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        else:
            command = [
                str(_binary("mariadb-install-db")),
                "--no-defaults",
                f"--datadir={self.data}",
                "--user=" + pwd.getpwuid(os.geteuid()).pw_name,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=120, user=self._user
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {result.stderr[-2000:]}")
        self._initialized = True

    def _command(self) -> list[str]:
        if self.engine == "postgresql":
            return [
                str(_binary("postgres")),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.folder),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ]
        return [
            str(_binary("mariadbd")),
            "--no-defaults",
            f"--datadir={self.data}",
            f"--port={self.port}",
            f"--socket={self.folder / 'mariadb.sock'}",
            "--bind-address=127.0.0.1",
            "--user=" + pwd.getpwuid(os.geteuid()).pw_name,
            "--skip-name-resolve=0",
            "--innodb-flush-log-at-trx-commit=0",
            "--max-connections=300",
        ]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        engine = sa.create_engine(self._server_url, poolclass=sa.pool.NullPool)
        try:
            while True:
                assert self._process is not None
                if self._process.poll() is not None:
                    log = (self.folder / "server.log").read_text(errors="replace")
                    raise RuntimeError(f"{self.engine} exited at start: {log[-2000:]}")
                try:
                    with engine.connect() as c:
                        c.execute(sa.text("SELECT 1"))
                        if self.engine == "mariadb":
                            c.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {DATABASE}"))
                    return
                except sa.exc.DBAPIError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            engine.dispose()

    @staticmethod
    def _children(parent: int) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(stat.parent.name))
        return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signum)
