"""An HTTP server for the cluster views and metrics (the standard library's HTTP server, and
prometheus-client, the extra ``springbatch-py[metrics]``, for the metrics).

==================================  ==============================================================
``GET /health``                     composite health (503 when DOWN), as Spring Boot's
                                    ``/actuator/health`` with details shown
``GET /health/{component}``         one component (``batchCluster``, ``batchClusterNode``, ``db``)
``GET /batch-cluster``              every node (``/actuator/batch-cluster``)
``GET /batch-cluster/{nodeId}``     one node, 404 when unknown
``GET /batch-cluster-jobs``         coordinated job executions, newest first
``GET /batch-cluster-jobs/{id}``    one job's partitions; 400 for a non-numeric id, 404 unknown
``GET /metrics``                    Prometheus text format (see :mod:`.prometheus`)
``GET /actuator``                   Spring Boot's index of the endpoints (``_links``)
``GET /actuator/prometheus``        Prometheus text format, as Spring Boot's endpoint
``GET /actuator/metrics``           Spring Boot's JSON: ``{"names": [...]}``
``GET /actuator/metrics/{name}``    one metric (``?tag=key:value`` narrows it); 404 when unknown
``GET /actuator/info``              ``{"build": {...}}``
``GET /actuator/health/liveness``   ``{"status": "UP"}`` while the process serves
``GET /actuator/health/readiness``  UP when the database answers and, inside a node, the node is
                                    ACTIVE; DOWN (503) otherwise
==================================  ==============================================================

The other paths answer under ``/actuator/`` too, so tools written for the Java endpoints and
a Spring Boot application's scrape and probe configuration work unchanged (``/metrics`` is the
Prometheus text; ``/actuator/metrics`` is Spring's JSON). JSON is ``application/json``; errors
have Spring Boot's error body (``timestamp``, ``status``, ``error``, ``message``, ``path``). A
method other than GET gets 405. When the database cannot be read the health is DOWN (503) and
the other endpoints answer 503.

::

    with ObservabilityServer("postgresql://batch@db/batch", port=8080) as server:
        print(server.url)           # http://127.0.0.1:8080

    ObservabilityServer(node.db, node=node).start()   # inside a node: health shows the node too
"""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.exc import SQLAlchemyError

from springbatch_py import __version__
from springbatch_py.db.database import Database
from springbatch_py.errors import DatabaseUnavailableError, SpringBatchError
from springbatch_py.observe import metrics, prometheus
from springbatch_py.observe.views import ClusterViews, http_status_of
from springbatch_py.util import one_line

if TYPE_CHECKING:
    from springbatch_py.cluster.node import Node

log = logging.getLogger(__name__)

JSON = "application/json"
_LONG = re.compile(r"^[+-]?\d{1,19}$")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Response:
    """What the server answers: status, body and content type."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, **headers: str) -> Response:
        """A JSON answer."""
        return cls(status, json.dumps(value).encode("utf-8"), JSON, dict(headers))

    @property
    def data(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


def error(status: int, path: str, message: str, **headers: str) -> Response:
    """Spring Boot's error body."""
    now = datetime.now(UTC)
    return Response.json(
        status,
        {
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "status": status,
            "error": HTTPStatus(status).phrase,
            "message": message,
            "path": path,
        },
        **headers,
    )


class ObservabilityServer:
    """Serves the views of :mod:`springbatch_py.observe.views` and the metrics over HTTP.

    Parameters
    ----------
    database:
        A URL (opened here, closed by :meth:`stop`) or an open :class:`Database`.
    host, port:
        Where to listen; port 0 picks a free port (see :attr:`port`).
    node:
        A running :class:`~springbatch_py.cluster.node.Node` of this process; the health then
        includes its own status (``batchClusterNode``), and the metrics its counters (a
        :class:`~springbatch_py.observe.prometheus.NodeMetrics` set on the node, or the one it
        already has).
    window:
        How many of the newest executions the metrics' histograms describe.
    """

    def __init__(
        self,
        database: Database | str,
        host: str = "127.0.0.1",
        port: int = 0,
        node: Node | None = None,
        *,
        window: int = metrics.DEFAULT_WINDOW,
    ) -> None:
        prometheus.require()
        node_metrics: prometheus.NodeMetrics | None = None
        if node is not None:
            if not isinstance(node.metrics, prometheus.NodeMetrics):
                node.metrics = prometheus.NodeMetrics()
            node_metrics = node.metrics
        if isinstance(database, Database):
            self.db, self._owns_db = database, False
        else:
            self.db, self._owns_db = Database.open(database, pool_size=4, max_overflow=8), True
        self.views = ClusterViews(self.db, node)
        self.window = window
        self.registry = prometheus.registry_for(self.views.reader, window, node_metrics)
        self.host = host
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ObservabilityServer:
        """Bind and serve on a background thread (raises ``OSError`` when the port is taken)."""
        if self._httpd is not None:
            return self
        try:
            httpd = _HTTPServer((self.host, self._requested_port), _Handler, self.handle)
        except OSError:
            self._close_db()
            raise
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="observe-http",
            daemon=True,
        )
        self._thread.start()
        log.info("observability server listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, release the port, and close the database if it was opened here."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._close_db()

    def _close_db(self) -> None:
        if self._owns_db:
            self.db.close()
            self._owns_db = False

    def __enter__(self) -> ObservabilityServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port listened on (the one picked when 0 was asked for)."""
        if self._httpd is None:
            return self._requested_port
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- requests ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, host: str | None = None) -> Response:
        """Answer one request (``target`` is the request path with any query string, ``host``
        the Host header, for the links of ``/actuator``)."""
        split = urlsplit(target)
        path = split.path or "/"
        if method != "GET":
            return error(405, path, f"Request method '{method}' is not supported", Allow="GET")
        route = path.removeprefix("/actuator") if path.startswith("/actuator/") else path
        parts = [unquote(p) for p in route.strip("/").split("/")]
        try:
            if path.rstrip("/") == "/actuator":
                return Response.json(200, self._index(host))
            if path.startswith("/actuator/"):
                answer = self._actuator(path, parts, parse_qs(split.query).get("tag", []))
                if answer is not None:
                    return answer
            return self._route(path, parts)
        except (SQLAlchemyError, DatabaseUnavailableError, TimeoutError) as exc:
            log.warning("%s: cannot read the database: %s", path, one_line(exc))
            return error(503, path, f"cannot read the database: {one_line(exc)}")
        except Exception as exc:
            log.exception("%s failed", path)
            return error(500, path, f"{type(exc).__name__}: {exc}")

    def _index(self, host: str | None) -> dict[str, Any]:
        """Spring Boot's ``/actuator`` links."""
        base = f"http://{host}/actuator" if host else f"{self.url}/actuator"
        links = {
            "self": "",
            "health": "/health",
            "health-path": "/health/{*path}",
            "info": "/info",
            "prometheus": "/prometheus",
            "metrics": "/metrics",
            "metrics-requiredMetricName": "/metrics/{requiredMetricName}",
            "batch-cluster": "/batch-cluster",
            "batch-cluster-nodeId": "/batch-cluster/{nodeId}",
            "batch-cluster-jobs": "/batch-cluster-jobs",
            "batch-cluster-jobs-jobExecutionId": "/batch-cluster-jobs/{jobExecutionId}",
        }
        return {
            "_links": {
                name: {"href": base + tail, "templated": "{" in tail}
                for name, tail in links.items()
            }
        }

    def _actuator(self, path: str, parts: list[str], tags: list[str]) -> Response | None:
        """The endpoints only Spring Boot's paths have; None for the shared ones."""
        match parts:
            case ["prometheus"]:
                body, content_type = prometheus.exposition(self.registry)
                return Response(200, body, content_type)
            case ["metrics"]:
                return Response.json(200, {"names": prometheus.metric_names(self.registry)})
            case ["metrics", name]:
                wanted: dict[str, str] = {}
                for tag in tags:
                    key, colon, value = tag.partition(":")
                    if not colon or not key:
                        return error(400, path, f"tag {tag!r} is not key:value")
                    wanted[key] = value
                detail = prometheus.metric_detail(self.registry, name, wanted)
                if detail is None:
                    return error(404, path, f"no metric {name!r} with tags {wanted}")
                return Response.json(200, detail)
            case ["info"]:
                return Response.json(
                    200,
                    {
                        "build": {
                            "artifact": "springbatch-py",
                            "name": "springbatch-py",
                            "version": __version__,
                        }
                    },
                )
            case ["health", "liveness"]:
                return Response.json(200, {"status": "UP"})
            case ["health", "readiness"]:
                # The database answers and, inside a node, the node is ACTIVE and not leaving.
                components = self.views.health().components
                ready = all(
                    c.status == "UP"
                    for name, c in components.items()
                    if name in ("db", "batchClusterNode")
                )
                node = self.views.local_node
                if node is not None and node.runtime.leaving.is_set():
                    ready = False
                status = "UP" if ready else "DOWN"
                return Response.json(200 if ready else 503, {"status": status})
        return None

    def _route(self, path: str, parts: list[str]) -> Response:
        match parts:
            case ["health"]:
                report = self.views.health()
                return Response.json(report.http_status, report.to_json())
            case ["health", name]:
                component = self.views.health().components.get(name)
                if component is None:
                    return error(404, path, f"no health component {name!r}")
                return Response.json(http_status_of(component.status), component.to_json())
            case ["batch-cluster"]:
                return Response.json(200, self.views.nodes())
            case ["batch-cluster", node_id]:
                node = self.views.node(node_id)
                if node is None:
                    return error(404, path, f"no node {node_id!r} in the cluster")
                return Response.json(200, node)
            case ["batch-cluster-jobs"]:
                return Response.json(200, self.views.jobs())
            case ["batch-cluster-jobs", text]:
                if not _LONG.match(text) or not _LONG_MIN <= int(text) <= _LONG_MAX:
                    return error(400, path, f"job execution id {text!r} is not a number")
                job = self.views.job(int(text))
                if job is None:
                    return error(404, path, f"job execution {int(text)} is not coordinated")
                return Response.json(200, job)
            case ["metrics"]:
                body, content_type = prometheus.exposition(self.registry)
                return Response(200, body, content_type)
        return error(404, path, "No endpoint here")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        answer: Callable[[str, str, str | None], Response],
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.answer = answer
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "springbatch-py"

    def _respond(self) -> None:
        response = self.server.answer(self.command, self.path, self.headers.get("Host"))
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = _respond
    do_HEAD = _respond
    do_POST = _respond
    do_PUT = _respond
    do_DELETE = _respond
    do_PATCH = _respond
    do_OPTIONS = _respond

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def serve_forever(url: str, host: str = "127.0.0.1", port: int = 8080) -> int:
    """Serve the cluster in the database at ``url`` until SIGINT or SIGTERM.

    Prints one line with the address once listening. Returns the exit code: 0 after a signal,
    1 when the database cannot be opened or the address cannot be bound.
    """
    try:
        server = ObservabilityServer(url, host, port).start()
    except SpringBatchError as exc:
        print(f"springbatch-py serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"springbatch-py serve: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    print(f"springbatch-py serve: listening on {server.url} ({server.db.describe()})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    return 0
