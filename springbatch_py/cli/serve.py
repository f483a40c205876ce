"""``springbatch-py serve``: the cluster's health, views and metrics over HTTP."""

from __future__ import annotations

import argparse
from typing import Any

from springbatch_py.cli.common import add_url
from springbatch_py.errors import ConfigurationError


def register(commands: Any) -> None:
    """Add the ``serve`` command."""
    serve = commands.add_parser(
        "serve",
        help="serve /health, /batch-cluster, /batch-cluster-jobs and /metrics over HTTP",
        description="Answer the Java library's actuator endpoints (/health, /batch-cluster, "
        "/batch-cluster/{nodeId}, /batch-cluster-jobs, /batch-cluster-jobs/{id}, also under "
        "/actuator/) and /metrics in Prometheus text format, from the database alone, until "
        "SIGINT or SIGTERM.",
    )
    add_url(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from springbatch_py.observe.server import serve_forever

    if not args.url:
        raise ConfigurationError("no database URL: pass --url or set SPRINGBATCH_URL")
    if not 0 <= args.port <= 65535:
        raise ConfigurationError(f"--port must be between 0 and 65535: {args.port}")
    return serve_forever(args.url, args.host, args.port)
