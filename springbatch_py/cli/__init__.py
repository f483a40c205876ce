"""The ``springbatch-py`` command line.

Exit codes: 0 success; 1 the operation failed (database unreachable, schema differences, a
statement refused); 2 refused or bad input (usage, bad URL, a database without the schema or of
the other major, a ``--jobs``/``--steps`` reference that cannot be loaded); 141 (128 + SIGPIPE,
what a Unix tool killed by SIGPIPE reports) when stdout was closed early, as by
``springbatch-py executions JOB | head -1``: the command stops quietly, without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.exc import DBAPIError

from springbatch_py import __version__
from springbatch_py.cli import conformance as conformance_cli
from springbatch_py.cli import demo as demo_cli
from springbatch_py.cli import ops as ops_cli
from springbatch_py.cli import schema as schema_cli
from springbatch_py.cli import serve as serve_cli
from springbatch_py.cli import statements as statements_cli
from springbatch_py.cli import views as views_cli
from springbatch_py.cli.common import apply_datasource
from springbatch_py.core.errors import (
    JobParametersInvalidError,
    NoSuchJobError,
    NoSuchJobExecutionError,
)
from springbatch_py.errors import (
    ConfigurationError,
    MissingSchemaError,
    MixedSchemaError,
    SpringBatchError,
)
from springbatch_py.util import one_line

PROG = "springbatch-py"

#: Errors that mean the command was given something wrong: exit 2 (a database without the
#: schema or the cluster tables, or of the other major, included; a failed DDL statement is not).
BAD_INPUT: tuple[type[Exception], ...] = (
    ConfigurationError,
    MissingSchemaError,
    MixedSchemaError,
    NoSuchJobError,
    NoSuchJobExecutionError,
    JobParametersInvalidError,
)

#: Exit code of a command whose stdout was closed by its reader (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


class ArgumentParser(argparse.ArgumentParser):
    """argparse with usage errors on one line (``springbatch-py: error: ...``), exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print the error on one line, pointing at ``--help``, and exit 2."""
        text = " ".join(message.split())
        self.exit(2, f"{PROG}: error: {text} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = ArgumentParser(
        prog=PROG,
        description="Spring Batch's job repository and cluster partitioning, in Python.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    schema_cli.register(commands)
    statements_cli.register(commands)
    demo_cli.register(commands)
    conformance_cli.register(commands)
    ops_cli.register(commands)
    views_cli.register(commands)
    serve_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        return _main(argv)
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        # The reader went away (``| head``): say nothing more, and keep the interpreter's final
        # flush of the unwritten rest from failing too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


def _stdout_closed() -> bool:
    """Whether stdout is a pipe (or socket) whose reader has gone away."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        sys.stdout.flush()  # --help and --version print: a closed stdout shows here
        raise
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        apply_datasource(args)
        code: int = args.handler(args)
        sys.stdout.flush()  # a closed stdout shows here, not in the interpreter's last flush
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
