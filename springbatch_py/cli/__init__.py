"""The ``springbatch-py`` command line.

Exit codes: 0 success; 1 the operation failed (database unreachable, schema differences, a
statement refused); 2 refused or bad input (usage, bad URL, a database of the other major).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from springbatch_py import __version__
from springbatch_py.cli import conformance as conformance_cli
from springbatch_py.cli import demo as demo_cli
from springbatch_py.cli import ops as ops_cli
from springbatch_py.cli import schema as schema_cli
from springbatch_py.cli import serve as serve_cli
from springbatch_py.cli import views as views_cli
from springbatch_py.core.errors import (
    JobParametersInvalidError,
    NoSuchJobError,
    NoSuchJobExecutionError,
)
from springbatch_py.db.database import one_line
from springbatch_py.errors import ConfigurationError, MixedSchemaError, SpringBatchError

PROG = "springbatch-py"

#: Errors that mean the command was given something wrong: exit 2.
BAD_INPUT: tuple[type[Exception], ...] = (
    ConfigurationError,
    MixedSchemaError,
    NoSuchJobError,
    NoSuchJobExecutionError,
    JobParametersInvalidError,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Spring Batch's job repository and cluster partitioning, in Python.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    schema_cli.register(commands)
    demo_cli.register(commands)
    conformance_cli.register(commands)
    ops_cli.register(commands)
    views_cli.register(commands)
    serve_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code: int = args.handler(args)
        return code
    except BAD_INPUT as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SpringBatchError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
