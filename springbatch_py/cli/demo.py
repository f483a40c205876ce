"""``springbatch-py demo``: see a cluster work, in one command."""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from springbatch_py.errors import ConfigurationError


def register(commands: Any) -> None:
    """Add the ``demo`` command."""
    demo = commands.add_parser(
        "demo",
        help="run a partitioned job on a three-node cluster and show it live",
        description="Create the schema (SQLite in a temporary folder unless --url is given), "
        "start worker node processes, launch a partitioned job that totals generated sales by "
        "region, show nodes and partitions live, then a summary. Exit 0 when the job completed "
        "and its totals match a direct computation.",
    )
    demo.add_argument("--url", help="database URL (default: SQLite in a temporary folder)")
    demo.add_argument("--nodes", type=int, default=3, help="worker node processes (default: 3)")
    demo.add_argument("--rows", type=int, default=60_000, help="CSV rows (default: 60000)")
    demo.add_argument("--partitions", type=int, default=12, help="partitions (default: 12)")
    demo.add_argument(
        "--pace-ms",
        type=int,
        default=100,
        help="pause after each chunk, to watch progress (default: 100; 0 for full speed)",
    )
    demo.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop the job if it has not ended after this long (default: no limit)",
    )
    demo.add_argument("--keep", action="store_true", help="keep the temporary folder")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("rich") is None:
        raise ConfigurationError(
            "the demo draws its live view with rich: pip install 'springbatch-py[demo]'"
        )
    from springbatch_py.demo.runner import main_options, run_demo

    return run_demo(main_options(args))
