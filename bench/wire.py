"""A counting TCP proxy for the PostgreSQL and MySQL/MariaDB wire protocols, in this process.

::

    with WireCounter(url) as wire:
        run_something(wire.url)          # every client connects through the proxy
        print(wire.round_trips, wire.connects, wire.peak_connections, wire.snapshot().kinds)

It counts what the database driver really sends, whatever the library's own counters say:

* a *round trip* is a client request that waits for an answer: on PostgreSQL a Query ``Q`` or a
  Sync ``S`` message after the startup packet (a Parse/Bind/Execute batch ends with one Sync);
  on MySQL/MariaDB a command packet (sequence id 0) after the handshake, except those the server
  does not answer (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA);
* ``kinds`` splits the round trips by what they carry: ``Q BEGIN``, ``S SELECT``,
  ``COM_QUERY COMMIT``, ``COM_PING``... (the first word of the SQL; for a Sync, of the statement
  its Bind or Parse named), so that ``sum(kinds.values()) == round_trips``;
* ``messages`` counts every client message by type (``Query``, ``Parse``, ``Bind``, ``Sync``...;
  ``COM_QUERY``, ``COM_PING``...), round trips or not;
* ``connects`` counts connections opened; ``open_connections`` and ``peak_connections`` say how
  many are open now and at most (since the start or the last :meth:`WireCounter.reset`).

On PostgreSQL the proxy answers an SSL or GSS encryption request itself with "no" (the URL it
gives also says ``sslmode=disable``); on MySQL it hides the server's SSL capability: the bytes
must stay readable.

    python bench/wire.py --selftest [--engines postgresql,mariadb]

runs a few statements through psycopg and pymysql (and one through the library's
:class:`~springbatch_py.db.database.Database`) on scratch databases and prints the counts, with
what each should be.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import URL

from springbatch_py.db.database import parse_url

#: PostgreSQL's client message types (after startup), by type byte.
PG_MESSAGES: dict[int, str] = {
    ord("Q"): "Query",
    ord("S"): "Sync",
    ord("P"): "Parse",
    ord("B"): "Bind",
    ord("D"): "Describe",
    ord("E"): "Execute",
    ord("H"): "Flush",
    ord("C"): "Close",
    ord("X"): "Terminate",
    ord("p"): "Password",
    ord("F"): "FunctionCall",
    ord("d"): "CopyData",
    ord("c"): "CopyDone",
    ord("f"): "CopyFail",
}
_PG_SSL_REQUEST = 80877103
_PG_GSSENC_REQUEST = 80877104
_PG_CANCEL_REQUEST = 80877102

#: MySQL/MariaDB command bytes.
MYSQL_COMMANDS: dict[int, str] = {
    0x01: "COM_QUIT",
    0x02: "COM_INIT_DB",
    0x03: "COM_QUERY",
    0x04: "COM_FIELD_LIST",
    0x08: "COM_SHUTDOWN",
    0x09: "COM_STATISTICS",
    0x0E: "COM_PING",
    0x11: "COM_CHANGE_USER",
    0x16: "COM_STMT_PREPARE",
    0x17: "COM_STMT_EXECUTE",
    0x18: "COM_STMT_SEND_LONG_DATA",
    0x19: "COM_STMT_CLOSE",
    0x1A: "COM_STMT_RESET",
    0x1B: "COM_SET_OPTION",
    0x1C: "COM_STMT_FETCH",
    0x1F: "COM_RESET_CONNECTION",
}
#: Commands the server does not answer: not round trips.
_MYSQL_UNANSWERED = {0x01, 0x18, 0x19}
_MYSQL_CLIENT_SSL = 0x0800

_WORD = re.compile(r"\s*(?:(?:/\*.*?\*/|--[^\n]*\n?|\()\s*)*([A-Za-z_]+)", re.DOTALL)


def first_word(sql: str) -> str:
    """The first keyword of ``sql``, upper case, past blanks, comments and parentheses;
    ``;`` for an empty statement (SQLAlchemy's psycopg pre-ping), ``?`` for anything else."""
    found = _WORD.match(sql)
    if found:
        return found.group(1).upper()
    return ";" if not sql.strip(" \t\r\n;") else "?"


@dataclass(frozen=True)
class WireSnapshot:
    """The counts at one moment. ``later - earlier`` gives the counts between two snapshots
    (open and peak connections are then the later one's)."""

    round_trips: int = 0
    connects: int = 0
    open_connections: int = 0
    peak_connections: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)

    def __sub__(self, earlier: WireSnapshot) -> WireSnapshot:
        return WireSnapshot(
            self.round_trips - earlier.round_trips,
            self.connects - earlier.connects,
            self.open_connections,
            self.peak_connections,
            self.kinds - earlier.kinds,
            self.messages - earlier.messages,
        )


class _Counts:
    """The counters, shared by every connection's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.round_trips = 0
        self.connects = 0
        self.open = 0
        self.peak = 0
        self.kinds: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()

    def message(self, name: str, kind: str | None) -> None:
        with self.lock:
            self.messages[name] += 1
            if kind is not None:
                self.round_trips += 1
                self.kinds[kind] += 1

    def opened(self) -> None:
        with self.lock:
            self.connects += 1
            self.open += 1
            self.peak = max(self.peak, self.open)

    def closed(self) -> None:
        with self.lock:
            self.open -= 1


class _PgClientParser:
    """Reads the client's side of one PostgreSQL connection (after the startup packet)."""

    def __init__(self, counts: _Counts) -> None:
        self.counts = counts
        self.buffer = bytearray()
        self.statements: dict[bytes, str] = {}
        self.pending: str | None = None

    def feed(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= 5:
            length = int.from_bytes(buffer[start + 1 : start + 5], "big")
            end = start + 1 + length
            if len(buffer) < end:
                break
            self._message(buffer[start], bytes(buffer[start + 5 : end]))
            start = end
        del buffer[:start]

    def _message(self, kind: int, body: bytes) -> None:
        name = PG_MESSAGES.get(kind, f"'{chr(kind)}'")
        if kind == ord("Q"):
            self.counts.message(
                name, "Q " + first_word(body.rstrip(b"\0").decode(errors="replace"))
            )
            return
        if kind == ord("S"):
            self.counts.message(name, f"S {self.pending or '-'}")
            self.pending = None
            return
        if kind == ord("P"):
            statement, _, rest = body.partition(b"\0")
            query = rest.partition(b"\0")[0].decode(errors="replace")
            self.statements[statement] = self.pending = first_word(query)
        elif kind == ord("B"):
            _portal, _, rest = body.partition(b"\0")
            statement = rest.partition(b"\0")[0]
            self.pending = self.statements.get(statement, "?")
        self.counts.message(name, None)


class _MySqlClientParser:
    """Reads the client's side of one MySQL/MariaDB connection."""

    def __init__(self, counts: _Counts) -> None:
        self.counts = counts
        self.buffer = bytearray()
        self.handshake_seen = False

    def feed(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= 4:
            length = int.from_bytes(buffer[start : start + 3], "little")
            sequence = buffer[start + 3]
            end = start + 4 + length
            if len(buffer) < end:
                break
            if sequence == 0 and self.handshake_seen and length > 0:
                self._command(bytes(buffer[start + 4 : min(end, start + 4 + 200)]))
            elif sequence == 1:
                self.handshake_seen = True
            start = end
        del buffer[:start]

    def _command(self, payload: bytes) -> None:
        command = payload[0]
        name = MYSQL_COMMANDS.get(command, f"COM_0x{command:02X}")
        if command in _MYSQL_UNANSWERED:
            self.counts.message(name, None)
        elif command == 0x03:
            self.counts.message(name, f"{name} {first_word(payload[1:].decode(errors='replace'))}")
        else:
            self.counts.message(name, name)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed during startup")
        data += chunk
    return bytes(data)


class _Link:
    """One client connection and its upstream connection, with a thread per direction."""

    def __init__(self, proxy: WireCounter, client: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server: socket.socket | None = None
        self.lock = threading.Lock()
        self.ended = 0

    def start(self) -> None:
        threading.Thread(target=self._run_client_side, name="wire-client", daemon=True).start()

    def _run_client_side(self) -> None:
        try:
            self.server = socket.create_connection(self.proxy.upstream, timeout=10)
            self.server.settimeout(None)
            self.server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self.client.close()
            self.proxy._forget(self)
            self.proxy._counts.closed()
            return
        threading.Thread(target=self._run_server_side, name="wire-server", daemon=True).start()
        try:
            if self.proxy.protocol == "postgresql":
                self._pg_client()
            else:
                self._pump(self.client, self.server, _MySqlClientParser(self.proxy._counts).feed)
        except OSError:
            pass
        self._end()

    def _pg_client(self) -> None:
        assert self.server is not None
        while True:
            head = _recv_exactly(self.client, 8)
            length = int.from_bytes(head[:4], "big")
            code = int.from_bytes(head[4:], "big")
            rest = _recv_exactly(self.client, length - 8) if length > 8 else b""
            if code in (_PG_SSL_REQUEST, _PG_GSSENC_REQUEST):
                self.client.sendall(b"N")  # no encryption: the bytes must stay readable
                continue
            self.server.sendall(head + rest)
            break
        if code == _PG_CANCEL_REQUEST:
            self._pump(self.client, self.server, None)
        else:
            self._pump(self.client, self.server, _PgClientParser(self.proxy._counts).feed)

    def _run_server_side(self) -> None:
        assert self.server is not None
        try:
            if self.proxy.protocol == "mysql":
                self._mysql_greeting()
            self._pump(self.server, self.client, None)
        except OSError:
            pass
        self._end()

    def _mysql_greeting(self) -> None:
        """Forward the server's first packet without the SSL capability."""
        assert self.server is not None
        head = _recv_exactly(self.server, 4)
        payload = bytearray(_recv_exactly(self.server, int.from_bytes(head[:3], "little")))
        if payload and payload[0] == 10:  # protocol 10: version\0, id(4), scramble(8), 0, caps
            at = payload.index(0, 1) + 1 + 4 + 8 + 1
            if len(payload) >= at + 2:
                caps = int.from_bytes(payload[at : at + 2], "little") & ~_MYSQL_CLIENT_SSL
                payload[at : at + 2] = caps.to_bytes(2, "little")
        self.client.sendall(head + bytes(payload))

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, parse: object) -> None:
        while True:
            data = source.recv(65536)
            if not data:
                return
            target.sendall(data)
            if parse is not None:
                parse(data)  # type: ignore[operator]

    def _end(self) -> None:
        with self.lock:
            self.ended += 1
            last = self.ended == 2
        self.close()
        if last:
            self.proxy._forget(self)
            self.proxy._counts.closed()

    def close(self) -> None:
        """Close both sockets (the other direction's thread then ends too)."""
        for sock in (self.client, self.server):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


class WireCounter:
    """A counting proxy in front of the server of ``url`` (PostgreSQL, MySQL or MariaDB).

    Entered, it listens on a free port of 127.0.0.1; :attr:`url` is ``url`` pointed there.
    Exited, it stops listening and closes the connections still open through it.
    """

    def __init__(self, url: str | URL) -> None:
        parsed = parse_url(url)
        backend = parsed.get_backend_name()
        if backend == "postgresql":
            self.protocol, default_port = "postgresql", 5432
        elif backend in ("mysql", "mariadb"):
            self.protocol, default_port = "mysql", 3306
        else:
            raise ValueError(f"no wire protocol to count for {backend}")
        self.target_url = parsed
        self.upstream = (parsed.host or "localhost", parsed.port or default_port)
        self._counts = _Counts()
        self._links: set[_Link] = set()
        self._links_lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.url = ""

    @staticmethod
    def supports(url: str | URL) -> bool:
        """Whether ``url``'s engine talks over a wire this proxy reads."""
        return parse_url(url).get_backend_name() in ("postgresql", "mysql", "mariadb")

    def __enter__(self) -> WireCounter:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(256)
        listener.settimeout(0.2)
        self._listener = listener
        port = listener.getsockname()[1]
        proxied = self.target_url.set(host="127.0.0.1", port=port)
        if self.protocol == "postgresql":
            proxied = proxied.update_query_dict({"sslmode": "disable"})
        self.url = proxied.render_as_string(hide_password=False)
        self._thread = threading.Thread(target=self._accept, name="wire-accept", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._listener is not None:
            self._listener.close()
        with self._links_lock:
            links = list(self._links)
        for link in links:
            link.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(self, client)
            with self._links_lock:
                self._links.add(link)
            self._counts.opened()
            link.start()

    def _forget(self, link: _Link) -> None:
        with self._links_lock:
            self._links.discard(link)

    # -- the counts ------------------------------------------------------------------------------

    @property
    def round_trips(self) -> int:
        """Client requests that waited for an answer."""
        return self._counts.round_trips

    @property
    def connects(self) -> int:
        """Connections opened through the proxy."""
        return self._counts.connects

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        return self._counts.open

    @property
    def peak_connections(self) -> int:
        """The most connections open at once."""
        return self._counts.peak

    def snapshot(self) -> WireSnapshot:
        """Every count now."""
        counts = self._counts
        with counts.lock:
            return WireSnapshot(
                counts.round_trips,
                counts.connects,
                counts.open,
                counts.peak,
                Counter(counts.kinds),
                Counter(counts.messages),
            )

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """Wait until no connection is open through the proxy (the clients closed theirs and
        the proxy saw it); False when some still are after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self._counts.open > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._counts.open == 0

    def reset(self) -> None:
        """Start counting again from zero (the peak from the connections open now)."""
        counts = self._counts
        with counts.lock:
            counts.round_trips = counts.connects = 0
            counts.peak = counts.open
            counts.kinds.clear()
            counts.messages.clear()


# -- self-test -----------------------------------------------------------------------------------


def _print_counts(title: str, wire: WireCounter, expected: str, closed: bool = False) -> None:
    if closed:
        wire.wait_closed()
    shot = wire.snapshot()
    print(f"  {title}")
    print(f"    expected: {expected}")
    print(
        f"    counted:  round_trips={shot.round_trips} connects={shot.connects} "
        f"open={shot.open_connections} peak={shot.peak_connections}"
    )
    print(f"    kinds:    {dict(sorted(shot.kinds.items()))}")
    print(f"    messages: {dict(sorted(shot.messages.items()))}")
    wire.reset()


def _selftest_postgresql(url: str) -> None:
    import psycopg

    with WireCounter(url) as wire:
        conninfo = parse_url(wire.url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as conn:
            _print_counts(
                "psycopg connect",
                wire,
                "connects=1 open=1, no round trip (the startup exchange is not one)",
            )
            conn.execute("SELECT 1").fetchall()
            conn.commit()
            _print_counts(
                "SELECT 1; commit",
                wire,
                "3: Q BEGIN, Q SELECT, Q COMMIT (psycopg sends a statement without parameters "
                "as a Query)",
            )
            conn.execute("CREATE TABLE t (n int)")
            for n in range(7):
                conn.execute("INSERT INTO t VALUES (%s)", (n,))
            conn.rollback()
            _print_counts(
                "CREATE, 7 x INSERT with a parameter, rollback",
                wire,
                "12: Q BEGIN, Q CREATE, 8 x S INSERT (the 6th execution prepares the statement "
                "in a Sync of its own: 6 Parse, 7 Bind), Q ROLLBACK, Q DEALLOCATE (psycopg "
                "drops its prepared statements after any ROLLBACK)",
            )
            conn.autocommit = True
            conn.execute("/* hint */ (SELECT 2)")
            _print_counts("autocommit, a commented parenthesised SELECT", wire, "1: Q SELECT")
        _print_counts(
            "close", wire, "0 round trips, open=0 peak=1, messages Terminate=1", closed=True
        )
        _library(
            wire,
            "connects=1 and Terminate=1; SQLAlchemy's first-connect queries (version, schema, "
            "isolation, types), the session time zone (Q SET between BEGIN and COMMIT), the "
            "pre-ping (Q ;), then Q BEGIN, S or Q SELECT, Q ROLLBACK",
        )


def _selftest_mysql(url: str) -> None:
    import pymysql

    with WireCounter(url) as wire:
        parsed = parse_url(wire.url)
        conn = pymysql.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
        )
        _print_counts(
            "pymysql connect",
            wire,
            "connects=1 open=1; pymysql's own SET statements (autocommit, ...)",
        )
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            conn.commit()
            _print_counts("SELECT 1; commit", wire, "2: COM_QUERY SELECT, COM_QUERY COMMIT")
            cursor.execute("CREATE TABLE t (n int)")
            conn.begin()
            for n in range(3):
                cursor.execute("INSERT INTO t VALUES (%s)", (n,))
            conn.rollback()
            _print_counts(
                "CREATE, BEGIN, 3 x INSERT, rollback",
                wire,
                "6: COM_QUERY CREATE, BEGIN, 3 x INSERT, ROLLBACK",
            )
            conn.ping(reconnect=False)
            _print_counts("ping", wire, "1: COM_PING")
        conn.close()
        _print_counts(
            "close", wire, "0 round trips (COM_QUIT is not answered), open=0", closed=True
        )
        _library(
            wire,
            "connects=1 and COM_QUIT=1; SQLAlchemy's first-connect queries, the session time "
            "zone (COM_QUERY SET), one COM_PING (the pre-ping), then SELECT 1 and ROLLBACK",
        )


def _library(wire: WireCounter, expected: str) -> None:
    from sqlalchemy import text

    from springbatch_py.db.database import Database

    with Database.open(wire.url) as db, db.engine.connect() as connection:
        connection.execute(text("SELECT 1")).all()
    _print_counts("the library's Database: connect, SELECT 1, close", wire, expected, closed=True)


def selftest(engines: list[str]) -> None:
    """Run statements through each engine's driver via the proxy and print the counts."""
    from _common import close_providers, scratch

    try:
        for engine in engines:
            with scratch(engine) as url:
                if url is None:
                    continue
                print(f"\n{engine} ({url.split('@')[-1]})")
                if engine == "postgresql":
                    _selftest_postgresql(url)
                else:
                    _selftest_mysql(url)
    finally:
        close_providers()


def main() -> None:
    parser = argparse.ArgumentParser(description="a counting wire proxy (self-test)")
    parser.add_argument("--selftest", action="store_true", help="run the self-test")
    parser.add_argument("--engines", default="postgresql,mariadb")
    args = parser.parse_args()
    if not args.selftest:
        parser.print_help()
        return
    selftest([e.strip() for e in args.engines.split(",") if e.strip()])


if __name__ == "__main__":
    main()
