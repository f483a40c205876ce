"""``springbatch-py schema ...``: create, verify, print and drop the schema."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from springbatch_py.db import resources
from springbatch_py.db import schema as schema_ops
from springbatch_py.db.database import Database
from springbatch_py.errors import ConfigurationError

URL_ENV = "SPRINGBATCH_URL"


def register(commands: Any) -> None:
    """Add the ``schema`` command and its subcommands."""
    schema = commands.add_parser("schema", help="create, verify, print or drop the schema")
    sub = schema.add_subparsers(dest="schema_command", metavar="SUBCOMMAND", required=True)

    create = sub.add_parser(
        "create",
        help="create what is missing of the Spring Batch and cluster schema",
        description="Create whatever is missing; report what already exists. Refuses (exit 2, "
        "nothing written) a database that holds the other Spring Batch major.",
    )
    _url(create)
    _major(create, "Spring Batch major to create (default: the one present, else 6)")
    create.add_argument("--no-cluster", action="store_true", help="skip the cluster tables")
    _generators(create)
    _json(create)
    create.set_defaults(handler=_create)

    verify = sub.add_parser(
        "verify",
        help="compare the database with the expected schema",
        description="List every missing, extra or mismatched table, column, type, nullability, "
        "constraint and generator. Exit 0 only when everything matches.",
    )
    _url(verify)
    _major(verify, "Spring Batch major to expect (default: detected from the generators)")
    cluster = verify.add_mutually_exclusive_group()
    cluster.add_argument(
        "--cluster",
        dest="cluster",
        action="store_true",
        default=None,
        help="require the cluster tables (default: check them if any exists)",
    )
    cluster.add_argument(
        "--no-cluster", dest="cluster", action="store_false", help="do not check the cluster tables"
    )
    verify.add_argument(
        "--cluster-layout",
        type=int,
        choices=(2, 3),
        default=3,
        help="cluster layout to expect: 3 (default) or 2 (2.0.x DDL)",
    )
    _json(verify)
    verify.set_defaults(handler=_verify)

    show = sub.add_parser("print", help="print the DDL for a dialect (for migration tools)")
    show.add_argument("--dialect", required=True, choices=resources.DIALECT_FOLDERS)
    _major(show, "Spring Batch major (default: 6)")
    show.add_argument("--no-cluster", action="store_true", help="leave out the cluster tables")
    _generators(show)
    show.set_defaults(handler=_print)

    drop = sub.add_parser("drop", help="drop every Spring Batch and cluster table and generator")
    _url(drop)
    drop.add_argument("--yes", action="store_true", help="confirm: every job's history is deleted")
    _json(drop)
    drop.set_defaults(handler=_drop)


def _url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV),
        help=f"database URL, e.g. sqlite:///springbatch.db (default: ${URL_ENV})",
    )


def _major(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--spring-batch", dest="major", type=int, choices=(5, 6), help=text)


def _generators(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--id-generators",
        choices=("sequence", "table"),
        help="MariaDB only: 'table' when the Java nodes use MySQL Connector/J",
    )


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _open(args: argparse.Namespace, *, must_exist: bool) -> Database:
    if not args.url:
        raise ConfigurationError(f"no database URL: pass --url or set {URL_ENV}")
    return Database.open(args.url, must_exist=must_exist)


def _create(args: argparse.Namespace) -> int:
    with _open(args, must_exist=False) as db:
        report = schema_ops.create_schema(
            db, major=args.major, cluster=not args.no_cluster, id_generators=args.id_generators
        )
        if args.json:
            print(json.dumps(report.to_dict(), indent=2))
            return 0
        cluster = "" if args.no_cluster else " and the cluster tables"
        print(f"{db.describe()}: Spring Batch {report.major} schema{cluster}")
        for action in report.actions:
            print(f"  {action.status:<8} {action.kind:<14} {action.name}")
        print(f"{report.count('created')} created, {report.count('exists')} already present")
    return 0


def _verify(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as db:
        report = schema_ops.verify_schema(
            db, major=args.major, cluster=args.cluster, cluster_layout=args.cluster_layout
        )
        if args.json:
            print(json.dumps(report.to_dict(), indent=2))
            return 0 if report.ok else 1
        major = f"Spring Batch {report.major}" if report.major else "Spring Batch (major unknown)"
        generators = f", {report.generator_style} generators" if report.generator_style else ""
        print(f"{db.describe()}: {major}{generators}, cluster tables {report.cluster}")
        for f in [*report.findings, *report.warnings]:
            detail = f"  {f.detail}" if f.detail else ""
            print(f"{f.problem.upper():<9} {f.kind:<17} {f.name}{detail}")
        if report.ok:
            warned = f" ({len(report.warnings)} warning(s))" if report.warnings else ""
            print(f"OK: {report.checked} objects checked, the schema matches{warned}")
            return 0
        print(f"FAILED: {len(report.findings)} difference(s), {report.checked} objects checked")
        return 1


def _print(args: argparse.Namespace) -> int:
    sys.stdout.write(
        schema_ops.ddl_text(
            args.dialect,
            major=args.major or schema_ops.DEFAULT_MAJOR,
            cluster=not args.no_cluster,
            id_generators=args.id_generators,
        )
    )
    return 0


def _drop(args: argparse.Namespace) -> int:
    if not args.yes:
        raise ConfigurationError(
            "schema drop deletes every job's history and the cluster state; pass --yes to confirm"
        )
    with _open(args, must_exist=True) as db:
        report = schema_ops.drop_schema(db)
        if args.json:
            print(json.dumps(report.to_dict(), indent=2))
            return 0
        print(f"{db.describe()}:")
        for action in report.actions:
            print(f"  {action.status:<8} {action.kind:<14} {action.name}")
        print(f"{report.count('dropped')} dropped")
    return 0
