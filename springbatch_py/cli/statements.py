"""``springbatch-py statements print``: every named statement of a dialect, in full."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from springbatch_py.db import resources
from springbatch_py.db import statements as statement_ops


def register(commands: Any) -> None:
    """Add the ``statements`` command and its subcommand."""
    statements = commands.add_parser("statements", help="print the named SQL of a dialect")
    sub = statements.add_subparsers(dest="statements_command", metavar="SUBCOMMAND", required=True)
    show = sub.add_parser(
        "print",
        help="print every named statement of a dialect, as it runs",
        description="Print every named statement springbatch-py runs on a dialect (the cluster's "
        "claims, heartbeats and sweeps, the clock, the id generators), with the dialect's "
        "fragments filled in and the file each comes from, sorted by name.",
    )
    show.add_argument("--dialect", required=True, choices=resources.DIALECT_FOLDERS)
    show.set_defaults(handler=_print)


def _print(args: argparse.Namespace) -> int:
    sys.stdout.write(statement_ops.catalog_text(args.dialect))
    return 0
