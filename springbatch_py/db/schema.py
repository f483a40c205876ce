"""Create, verify, drop and print the schema: Spring Batch's tables and the cluster tables.

Spring Batch 5.x and 6.0 differ in the job-instance generator (``BATCH_JOB_SEQ`` vs
``BATCH_JOB_INSTANCE_SEQ``) and compute different job keys, so one database holds one major:
:func:`detect_major` tells which from the generator objects present and refuses a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from springbatch_py.db import ddl, detect, model
from springbatch_py.db.database import Database
from springbatch_py.db.dialect import Dialect, GeneratorStyle
from springbatch_py.db.inventory import Inventory, ReflectedTable, reflect
from springbatch_py.db.model import SpringBatchMajor, Table
from springbatch_py.errors import (
    ConfigurationError,
    MissingSchemaError,
    MixedSchemaError,
    SchemaError,
)
from springbatch_py.util import one_line

log = logging.getLogger(__name__)


#: The major ``schema create`` uses on an empty database.
DEFAULT_MAJOR: SpringBatchMajor = 6


# -- what the database holds -------------------------------------------------------------------


def detect_major(inventory: Inventory) -> SpringBatchMajor | None:
    """The Spring Batch major whose job-instance generator exists; None if neither does.

    Raises :class:`MixedSchemaError` when both generators exist.
    """
    found = [
        (name, major)
        for name, major in model.MAJOR_MARKERS.items()
        if inventory.has_generator(name)
    ]
    if len(found) > 1:
        raise MixedSchemaError(
            "the database holds both Spring Batch 5 (BATCH_JOB_SEQ) and Spring Batch 6 "
            "(BATCH_JOB_INSTANCE_SEQ) job-instance generators; 5.x and 6.0 compute different job "
            "keys and must not share a database: drop the one that is not in use"
        )
    return found[0][1] if found else None


def detect_generator_style(inventory: Inventory, dialect: Dialect) -> GeneratorStyle | None:
    """Whether the generators present are sequences or tables (None: no generator yet)."""
    names = {n for m in model.GENERATORS.values() for n in m.values()}
    if any(inventory.has_sequence(n) for n in names):
        return "sequence"
    if any(inventory.find_table(n) is not None for n in names):
        return "table"
    return None


def natural_style(dialect_name: str) -> GeneratorStyle:
    """The generator style Java's incrementer uses with the dialect's own JDBC driver."""
    return detect.vendor_for_backend(dialect_name).natural_generator_style


def script_folder(dialect_name: str, style: GeneratorStyle) -> str:
    """The ``schema/`` folder whose scripts create ``style`` generators for the dialect.

    A MariaDB server used through MySQL Connector/J needs MySQL's generator tables, so its
    scripts are MySQL's (the dialect's ``other_generator_style_folder``).
    """
    vendor = detect.vendor_for_backend(dialect_name)
    if style == vendor.natural_generator_style:
        return dialect_name
    if vendor.other_generator_style_folder is not None:
        return vendor.other_generator_style_folder
    raise ConfigurationError(
        f"{dialect_name} generators can only be {vendor.natural_generator_style}s"
    )


@dataclass(frozen=True)
class SchemaInfo:
    """The Spring Batch major and generator style a database holds."""

    major: SpringBatchMajor
    generator_style: GeneratorStyle


def require_schema(db: Database) -> SchemaInfo:
    """The major and generator style of ``db``; refuse a database without a single major."""
    with db.connect() as connection:
        # Names tell both: every repository and command line starts here.
        inventory = reflect(connection, db.dialect, details=())
    major = detect_major(inventory)
    if major is None:
        raise MissingSchemaError(
            f"no Spring Batch schema in {db.url}: neither BATCH_JOB_SEQ (5.x) nor "
            "BATCH_JOB_INSTANCE_SEQ (6.0) exists; create it with: springbatch-py schema create"
        )
    style = detect_generator_style(inventory, db.dialect) or natural_style(db.dialect.name)
    return SchemaInfo(major, style)


#: The cluster tables a node needs (the phase-event table is optional, as in 2.0.x).
CLUSTER_TABLES = ("BATCH_NODES", "BATCH_JOB_COORDINATION", "BATCH_PARTITIONS")


#: Liveness thresholds that held on whole-second cluster columns under load (3 s / 5 s did not).
WHOLE_SECOND_THRESHOLDS_MS = (8000, 12000)


def require_cluster_schema(db: Database) -> None:
    """Refuse a database without the cluster tables, naming what is missing; warn when their
    times are whole seconds (the cluster library's DDL on MySQL/MariaDB)."""
    with db.connect() as connection:
        inventory = reflect(connection, db.dialect, details=[t.name for t in model.CLUSTER_TABLES])
    missing = [n for n in CLUSTER_TABLES if inventory.find_table_any_case(n) is None]
    if missing:
        raise MissingSchemaError(
            f"no cluster tables in {db.url} (missing {', '.join(missing)}); "
            "create them with: springbatch-py schema create"
        )
    coarse = coarse_cluster_columns(inventory, db.dialect)
    if coarse:
        log.warning(
            "%s: %s %s whole seconds; %s",
            db.url,
            ", ".join(coarse),
            "holds" if len(coarse) == 1 else "hold",
            WHOLE_SECONDS_ADVICE,
        )


#: What to do about cluster columns of whole seconds.
WHOLE_SECONDS_ADVICE = (
    "heartbeat ages read up to a second too old, so keep unreachable-node-threshold >= "
    f"{WHOLE_SECOND_THRESHOLDS_MS[0]} ms and node-cleanup-threshold >= "
    f"{WHOLE_SECOND_THRESHOLDS_MS[1]} ms, or recreate the cluster tables with "
    "springbatch-py schema create (fractional seconds, which the Java nodes use unchanged)"
)


def coarse_cluster_columns(inventory: Inventory, dialect: Dialect) -> list[str]:
    """Cluster columns declared with a coarser type than this project's DDL (whole seconds)."""
    found: list[str] = []
    for table in model.CLUSTER_TABLES:
        actual = inventory.find_table_any_case(dialect.table_name(table.name, table.family))
        if actual is None:
            continue
        for column in table.columns:
            coarse = dialect.coarse_column_type(column.type_for(dialect.name), table.family)
            reflected = actual.columns.get(column.name.upper())
            if coarse is not None and reflected is not None and reflected.type_text == coarse:
                found.append(f"{actual.name}.{column.name}")
    return found


# -- reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One object ``schema create`` or ``schema drop`` looked at."""

    status: Literal["created", "exists", "seeded", "dropped"]
    kind: str
    name: str


@dataclass
class ChangeReport:
    """What ``schema create`` or ``schema drop`` did."""

    database: str
    major: SpringBatchMajor | None
    actions: list[Action] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many objects had ``status``."""
        return sum(1 for a in self.actions if a.status == status)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One difference between the database and the expected schema."""

    problem: Literal["missing", "extra", "mismatch", "warning"]
    kind: str
    name: str
    detail: str = ""


@dataclass
class VerifyReport:
    """What ``schema verify`` found."""

    database: str
    major: SpringBatchMajor | None
    generator_style: GeneratorStyle | None
    cluster: str
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: What works but is worth knowing (e.g. cluster times of whole seconds); not a failure.
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the database matches."""
        return not self.findings

    def add(
        self,
        problem: Literal["missing", "extra", "mismatch"],
        kind: str,
        name: str,
        detail: str = "",
    ) -> None:
        """Record a finding."""
        self.findings.append(Finding(problem, kind, name, detail))

    def warn(self, kind: str, name: str, detail: str) -> None:
        """Record a warning (the schema still matches)."""
        self.warnings.append(Finding("warning", kind, name, detail))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {**asdict(self), "ok": self.ok}


# -- create ------------------------------------------------------------------------------------


@contextmanager
def _ddl_connection(db: Database) -> Iterator[Connection]:
    """One transaction for all DDL where DDL is transactional; elsewhere each statement
    commits on its own (MySQL and Oracle commit DDL implicitly anyway)."""
    if db.dialect.transactional_ddl:
        with db.begin() as connection:
            yield connection
    else:
        with db.connect() as connection:
            yield connection


def _apply(
    connection: Connection,
    db: Database,
    statement: ddl.DdlStatement,
    report: ChangeReport,
    status: Literal["created", "dropped", "seeded"],
) -> sa.CursorResult[Any]:
    """Run one DDL statement and record it; a failure names the object and what was done."""
    try:
        if db.dialect.transactional_ddl:
            result = connection.exec_driver_sql(statement.sql)
        else:
            with connection.begin():
                result = connection.exec_driver_sql(statement.sql)
    except DBAPIError as exc:
        verb = {"created": "creating", "dropped": "dropping", "seeded": "seeding"}[status]
        done = len([a for a in report.actions if a.status == status])
        kept = (
            f" ({done} object(s) were {status} before; run the command again once fixed)"
            if done and not db.dialect.transactional_ddl
            else ""
        )
        raise SchemaError(
            f"{verb} {statement.kind} {statement.name} failed: {one_line(exc)}{kept}"
        ) from None
    if status != "seeded" or (result.rowcount or 0) > 0:
        kind = "generator row" if status == "seeded" else statement.kind
        report.actions.append(Action(status, kind, statement.name))
    return result


def _exists(inventory: Inventory, statement: ddl.DdlStatement) -> bool:
    if statement.kind == "table":
        return inventory.find_table(statement.name) is not None
    if statement.kind == "sequence":
        return inventory.has_sequence(statement.name)
    table = inventory.find_table(statement.on_table or "")
    return table is not None and statement.name.upper() in table.indexes


def create_schema(
    db: Database,
    *,
    major: SpringBatchMajor | None = None,
    cluster: bool = True,
    id_generators: GeneratorStyle | None = None,
) -> ChangeReport:
    """Create whatever is missing of the Spring Batch schema (and the cluster tables).

    Existing objects are left as they are and reported. Refuses, before writing anything, a
    database that holds the other Spring Batch major or another generator style.
    """
    with db.connect() as connection:
        inventory = reflect(connection, db.dialect)
    existing = detect_major(inventory)
    if major is not None and existing is not None and major != existing:
        raise MixedSchemaError(
            f"refusing to create Spring Batch {major} objects: {db.url} holds a Spring Batch "
            f"{existing} schema ({_marker(existing)}); 5.x and 6.0 must not share a database"
        )
    chosen: SpringBatchMajor = major or existing or DEFAULT_MAJOR
    present_style = detect_generator_style(inventory, db.dialect)
    if id_generators and present_style and id_generators != present_style:
        raise MixedSchemaError(
            f"refusing to create {id_generators} generators: the database already has "
            f"{present_style} generators"
        )
    style = id_generators or present_style or natural_style(db.dialect.name)
    folder = script_folder(db.dialect.name, style)
    scripts = [f"spring-batch-{chosen}.sql"] + (["cluster.sql"] if cluster else [])

    report = ChangeReport(db.url, chosen)
    with _ddl_connection(db) as connection:
        for script in scripts:
            for statement in ddl.load_script(folder, script):
                if statement.action == "seed":
                    _apply(connection, db, statement, report, "seeded")
                elif _exists(inventory, statement):
                    report.actions.append(Action("exists", statement.kind, statement.name))
                else:
                    _apply(connection, db, statement, report, "created")
    return report


def _marker(major: int) -> str:
    return next(name for name, m in model.MAJOR_MARKERS.items() if m == major)


# -- drop --------------------------------------------------------------------------------------


def drop_schema(db: Database) -> ChangeReport:
    """Drop the cluster tables and Spring Batch's tables and generators (either major)."""
    with db.connect() as connection:
        inventory = reflect(connection, db.dialect)
    other = db.dialect.other_generator_style_folder
    folders = [db.dialect.name] + ([other] if other is not None else [])
    statements: list[ddl.DdlStatement] = []
    seen: set[tuple[str, str]] = set()
    for script in ("drop-cluster.sql", "drop-spring-batch-5.sql", "drop-spring-batch-6.sql"):
        for folder in folders:
            for statement in ddl.load_script(folder, script):
                key = (statement.kind, statement.name.upper())
                if key not in seen and _exists(inventory, statement):
                    seen.add(key)
                    statements.append(statement)
    report = ChangeReport(db.url, detect_major_quietly(inventory))
    with _ddl_connection(db) as connection:
        for statement in statements:
            _apply(connection, db, statement, report, "dropped")
    return report


def detect_major_quietly(inventory: Inventory) -> SpringBatchMajor | None:
    """Like :func:`detect_major`, but None for a mixed database."""
    try:
        return detect_major(inventory)
    except MixedSchemaError:
        return None


# -- print -------------------------------------------------------------------------------------


def ddl_text(
    dialect_name: str,
    *,
    major: SpringBatchMajor = DEFAULT_MAJOR,
    cluster: bool = True,
    id_generators: GeneratorStyle | None = None,
) -> str:
    """The DDL ``schema create`` would run on an empty database, as one script."""
    from springbatch_py.db import resources

    folder = script_folder(dialect_name, id_generators or natural_style(dialect_name))
    parts = []
    for script in [f"spring-batch-{major}.sql"] + (["cluster.sql"] if cluster else []):
        parts.append(
            f"-- schema/{folder}/{script}\n" + resources.read_text("schema", folder, script)
        )
    return "\n".join(parts)


# -- verify ------------------------------------------------------------------------------------


def verify_schema(
    db: Database,
    *,
    major: SpringBatchMajor | None = None,
    cluster: bool | None = None,
    cluster_layout: Literal[2, 3] = 3,
) -> VerifyReport:
    """Compare the database with the expected schema and list every difference.

    ``cluster=None`` checks the cluster tables when any of them exists. ``cluster_layout=2``
    accepts a database created by the 2.0.x DDL (no phase-events table, no indexes).
    """
    dialect = db.dialect
    with db.connect() as connection:
        inventory = reflect(connection, dialect)
        found = [m for name, m in model.MAJOR_MARKERS.items() if inventory.has_generator(name)]
        if major is None and len(found) > 1:
            report = VerifyReport(db.url, None, None, "not checked")
            report.add(
                "mismatch",
                "generator",
                "BATCH_JOB_SEQ + BATCH_JOB_INSTANCE_SEQ",
                "both Spring Batch majors are present; pass --spring-batch to check one",
            )
            return report
        chosen = major or (found[0] if found else None)
        style = detect_generator_style(inventory, dialect) or natural_style(dialect.name)
        if cluster is None:
            cluster = any(inventory.find_table_any_case(t.name) for t in model.CLUSTER_TABLES)
        layout = "3.x layout" if cluster_layout == 3 else "2.0.x layout"
        report = VerifyReport(db.url, chosen, style, layout if cluster else "not checked")
        if inventory.is_empty():
            report.add(
                "missing",
                "schema",
                "Spring Batch",
                "no BATCH_ table or generator; run: springbatch-py schema create",
            )
            return report
        expected: list[Table] = list(model.BATCH_TABLES)
        if cluster:
            expected += [
                t for t in model.CLUSTER_TABLES if (t.since_cluster or 0) <= cluster_layout
            ]
        for table in expected:
            _verify_table(report, inventory, dialect, table, chosen, cluster_layout)
        generator_tables = _verify_generators(report, connection, inventory, dialect, chosen, style)
    # Case variants of expected names are explained by a "mismatch table" finding; cluster tables
    # that were not asked for are not extra.
    allowed = {dialect.table_name(t.name, t.family).upper() for t in expected}
    allowed |= {n.upper() for n in generator_tables}
    if not cluster or cluster_layout == 2:
        allowed |= {t.name.upper() for t in model.CLUSTER_TABLES}
    for name in inventory.tables:
        if name.upper() not in allowed:
            report.add("extra", "table", name, "not part of the Spring Batch or cluster schema")
    return report


def _upper(columns: Iterable[str]) -> tuple[str, ...]:
    return tuple(c.upper() for c in columns)


def _column_text(dialect: Dialect, table: Table, column: model.Column) -> str:
    type_text = dialect.column_type(column.type_for(dialect.name), table.family)
    return f"{type_text} {'NULL' if column.nullable else 'NOT NULL'}"


def _verify_table(
    report: VerifyReport,
    inventory: Inventory,
    dialect: Dialect,
    table: Table,
    major: SpringBatchMajor | None,
    cluster_layout: int,
) -> None:
    name = dialect.table_name(table.name, table.family)
    report.checked += 1
    actual = inventory.find_table(name)
    if actual is None:
        other = inventory.find_table_any_case(name)
        if other is not None:
            report.add(
                "mismatch",
                "table",
                name,
                f"found {other.name}; {dialect.product} compares table names "
                f"case-sensitively on this server and the statements use {name}",
            )
        else:
            report.add("missing", "table", name)
        return
    _verify_columns(report, dialect, table, actual, name)
    _verify_constraints(report, inventory, dialect, table, actual, name, major, cluster_layout)


def _verify_columns(
    report: VerifyReport, dialect: Dialect, table: Table, actual: ReflectedTable, name: str
) -> None:
    for column in table.columns:
        report.checked += 1
        where = f"{name}.{column.name}"
        found = actual.columns.get(column.name.upper())
        if found is None:
            report.add(
                "missing", "column", where, f"expected {_column_text(dialect, table, column)}"
            )
            continue
        expected_type = dialect.column_type(column.type_for(dialect.name), table.family)
        coarse = dialect.coarse_column_type(column.type_for(dialect.name), table.family)
        if found.type_text != expected_type and found.type_text == coarse:
            report.warn(
                "type",
                where,
                f"{found.type_text} holds whole seconds ({expected_type} in this project's "
                f"DDL): {WHOLE_SECONDS_ADVICE}",
            )
        elif found.type_text != expected_type:
            report.add(
                "mismatch", "type", where, f"expected {expected_type}, found {found.type_text}"
            )
        if found.nullable != column.nullable:
            expected_null = "NULL" if column.nullable else "NOT NULL"
            found_null = "NULL" if found.nullable else "NOT NULL"
            report.add(
                "mismatch", "nullability", where, f"expected {expected_null}, found {found_null}"
            )
        if found.default and "ON UPDATE" in found.default.upper():
            # MySQL/MariaDB with explicit_defaults_for_timestamp=OFF add this to the first
            # TIMESTAMP NOT NULL column; every UPDATE of the row would then rewrite it.
            report.add(
                "mismatch",
                "default",
                where,
                f"{found.default}: the server rewrites this column on every update "
                "(explicit_defaults_for_timestamp=OFF when the table was created)",
            )
    expected_columns = {c.name.upper() for c in table.columns}
    for key, found in actual.columns.items():
        if key not in expected_columns:
            report.add("extra", "column", f"{name}.{found.name}", found.type_text)


def _verify_constraints(
    report: VerifyReport,
    inventory: Inventory,
    dialect: Dialect,
    table: Table,
    actual: ReflectedTable,
    name: str,
    major: SpringBatchMajor | None,
    cluster_layout: int,
) -> None:
    if table.primary_key and actual.primary_key != _upper(table.primary_key):
        report.add(
            "mismatch" if actual.primary_key else "missing",
            "primary key",
            name,
            f"expected ({', '.join(table.primary_key)})"
            + (f", found ({', '.join(actual.primary_key)})" if actual.primary_key else ""),
        )
    for constraint, columns in table.unique.items():
        if _upper(columns) not in actual.unique:
            report.add(
                "missing", "unique constraint", f"{name}.{constraint}", f"({', '.join(columns)})"
            )
    for fk in table.foreign_keys:
        match = [
            f
            for f in actual.foreign_keys
            if f.columns == _upper(fk.columns)
            and dialect.same_name(f.referred_table, fk.referred_table)
        ]
        label = f"{name}.{fk.name or '(' + ', '.join(fk.columns) + ')'}"
        if not match:
            report.add(
                "missing", "foreign key", label, f"({', '.join(fk.columns)}) -> {fk.referred_table}"
            )
        elif (match[0].on_delete or "").upper() != (fk.on_delete or ""):
            report.add(
                "mismatch",
                "foreign key",
                label,
                f"expected ON DELETE {fk.on_delete or 'NO ACTION'}, "
                f"found {match[0].on_delete or 'NO ACTION'}",
            )
    if major is None:
        return
    for index in table.indexes_for(dialect.name, major):
        if cluster_layout == 2 and index.name in model.CLUSTER_3_INDEXES:
            continue
        if _upper(index.columns) not in actual.indexes.values():
            report.add("missing", "index", f"{name}.{index.name}", f"({', '.join(index.columns)})")


def _verify_generators(
    report: VerifyReport,
    connection: Connection,
    inventory: Inventory,
    dialect: Dialect,
    major: SpringBatchMajor | None,
    style: GeneratorStyle,
) -> list[str]:
    """Check the generators; return the table names they account for (not extra tables)."""
    tables: list[str] = []
    if major is None:
        report.add(
            "missing",
            "generator",
            "BATCH_JOB_SEQ or BATCH_JOB_INSTANCE_SEQ",
            "no job-instance generator, so the Spring Batch major is unknown; "
            "pass --spring-batch 5 or 6",
        )
        names = ["BATCH_JOB_EXECUTION_SEQ", "BATCH_STEP_EXECUTION_SEQ"]
    else:
        names = list(model.generator_names(major))
        other_major = 6 if major == 5 else 5
        other = _marker(other_major)
        if inventory.has_generator(other):
            report.add(
                "extra",
                "generator",
                other,
                f"belongs to Spring Batch {other_major}; the schema is {major}",
            )
            tables.append(other)
    for name in names:
        report.checked += 1
        if style == "sequence":
            if not inventory.has_sequence(name):
                found_as_table = inventory.find_table(name) is not None
                report.add(
                    "mismatch" if found_as_table else "missing",
                    "generator",
                    name,
                    "expected a sequence" + (", found a table" if found_as_table else ""),
                )
            continue
        tables.append(name)
        actual = inventory.find_table(name)
        if actual is None:
            report.add("missing", "generator", name, "expected a generator table")
            continue
        spec = (
            model.mysql_generator_table(name)
            if dialect.generator_tables_hold_one_row
            else model.sqlite_generator_table(name)
        )
        _verify_columns(report, dialect, spec, actual, name)
        _verify_constraints(report, inventory, dialect, spec, actual, name, major, 3)
        if dialect.generator_tables_hold_one_row:
            rows = connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(actual.name))
            ).scalar_one()
            if rows != 1:
                report.add(
                    "mismatch",
                    "generator row",
                    name,
                    f"holds {rows} rows; Java's incrementer needs exactly one",
                )
    return tables
