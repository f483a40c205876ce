"""``springbatch-py conformance --url URL``: check a database server against the dialect suite."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from springbatch_py.cli.common import add_json, print_json, print_table
from springbatch_py.errors import ConfigurationError

RESULT = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}


def register(commands: Any) -> None:
    """Add the ``conformance`` command."""
    parser = commands.add_parser(
        "conformance",
        help="run the dialect conformance suite against your database server",
        description="Run springbatch-py's dialect conformance suite on the server of --url, in "
        "scratch databases (Oracle: users) it creates and drops; the database the URL names is "
        "only read, and its Spring Batch schema, if any, is verified. Prints the dialect's "
        "capabilities and a table of checks; exit 0 when none failed, 1 when any failed, 2 "
        "when the suite cannot run there (e.g. no right to create a scratch database).",
    )
    parser.add_argument("--url", required=True, help="database URL (its user creates scratch DBs)")
    parser.add_argument(
        "-k",
        dest="select",
        metavar="EXPRESSION",
        help="run only the suite checks matching this pytest -k expression (e.g. 'cluster')",
    )
    parser.add_argument(
        "--scratch-prefix",
        default="sbpy_t_",
        metavar="PREFIX",
        help="start of the scratch database (Oracle: user) names (default: sbpy_t_)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="first drop scratch databases of this prefix older than 6 h (left by crashed "
        "runs); without it, nothing the run did not create is ever dropped",
    )
    add_json(parser)
    parser.set_defaults(handler=_conformance)


def _conformance(args: argparse.Namespace) -> int:
    from springbatch_py.testing.conformance import ConformanceRefused, run_conformance

    try:
        report = run_conformance(
            args.url, select=args.select, prefix=args.scratch_prefix, sweep=args.sweep
        )
    except ConformanceRefused as exc:
        raise ConfigurationError(str(exc)) from None
    if args.json:
        print_json(report.to_dict())
        return 0 if report.ok and report.suite_ran else 1
    print(f"springbatch-py conformance: {report.server}")
    print(f"scratch: {report.scratch}")
    print()
    print_table(
        ("CAPABILITY", "SUPPORTED"),
        ((name, "yes" if value else "no") for name, value in report.capabilities.items()),
    )
    print()
    print_table(
        ("AREA", "CHECK", "RESULT", "RUNS", "DETAIL"),
        (
            (
                c.area,
                c.name,
                RESULT[c.outcome],
                f"{c.passed}/{c.runs}" if c.outcome != "skipped" else f"0/{c.runs}",
                c.detail,
            )
            for c in report.checks
        ),
    )
    print()
    summary = (
        f"{len(report.checks)} checks: {report.count('passed')} passed, "
        f"{report.count('failed')} failed, {report.count('skipped')} skipped"
    )
    if not report.suite_ran:
        print(f"FAILED: no suite check ran (does -k {args.select!r} match any?)")
        return 1
    print(summary if report.ok else f"FAILED: {summary}")
    sys.stdout.flush()
    return 0 if report.ok else 1
