"""Offline checks of every dialect's DDL and named statements (no server needed).

These run for Oracle and MySQL too, which have no server on a developer machine: each script
parses under its dialect's grammar, declares exactly the model, and sqlglot parses each
statement it can for that dialect.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from springbatch_py.db import ddl, model, resources
from springbatch_py.db.detect import VENDORS
from springbatch_py.db.dialect import Dialect
from springbatch_py.db.model import Table
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.db.statements import load_catalog

DIALECTS = resources.DIALECT_FOLDERS
# sqlglot's reader for each folder; None where sqlglot cannot read the dialect's statements.
SQLGLOT = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "oracle": "oracle",
    "sqlite": "sqlite",
    "mariadb": None,
}


def dialect_for(name: str) -> Dialect:
    return VENDORS[name]((99,), DatabaseSettings().zone)


def test_same_script_names_in_every_dialect() -> None:
    for name in DIALECTS:
        assert resources.list_files("schema", name) == sorted(ddl.SCRIPTS), name


@pytest.mark.parametrize("dialect_name", DIALECTS)
@pytest.mark.parametrize("script", ddl.SCRIPTS)
def test_every_script_parses(dialect_name: str, script: str) -> None:
    statements = ddl.load_script(dialect_name, script)
    assert statements, f"{dialect_name}/{script} is empty"


def _creates(dialect_name: str, script: str) -> dict[str, ddl.DdlStatement]:
    return {
        s.name.upper(): s for s in ddl.load_script(dialect_name, script) if s.action == "create"
    }


def _assert_table_matches(dialect: Dialect, table: Table, parsed: ddl.ParsedTable) -> None:
    assert parsed.name == dialect.table_name(table.name, table.family)
    assert [c.name.upper() for c in parsed.columns] == [c.name.upper() for c in table.columns]
    for column, found in zip(table.columns, parsed.columns, strict=True):
        expected = dialect.column_type(column.type_for(dialect.name), table.family)
        assert dialect.normalize_type(found.type_text) == expected, (table.name, column.name)
        assert found.nullable == column.nullable or found.primary_key, (table.name, column.name)
    assert tuple(c.upper() for c in parsed.primary_key) == tuple(
        c.upper() for c in table.primary_key
    )
    assert {k.upper(): tuple(c.upper() for c in v) for k, v in parsed.unique.items()} == {
        k: tuple(c.upper() for c in v) for k, v in table.unique.items()
    }
    assert [
        (f.name, [c.upper() for c in f.columns], f.referred_table.upper(), f.on_delete)
        for f in parsed.foreign_keys
    ] == [
        (f.name, [c.upper() for c in f.columns], f.referred_table.upper(), f.on_delete)
        for f in table.foreign_keys
    ]


@pytest.mark.parametrize("dialect_name", DIALECTS)
@pytest.mark.parametrize("major", [5, 6])
def test_spring_batch_ddl_declares_the_model(dialect_name: str, major: int) -> None:
    dialect = dialect_for(dialect_name)
    creates = _creates(dialect_name, f"spring-batch-{major}.sql")
    for table in model.BATCH_TABLES:
        statement = creates.pop(table.name)
        assert statement.table is not None
        _assert_table_matches(dialect, table, statement.table)
    indexes = {name for name, s in creates.items() if s.kind == "index"}
    expected_indexes = {
        i.name for t in model.BATCH_TABLES for i in t.indexes_for(dialect_name, major)
    }
    assert indexes == expected_indexes
    generators = {name for name, s in creates.items() if s.kind != "index"}
    assert generators == set(model.generator_names(major))
    kinds = {creates[g].kind for g in generators}
    sequence_dialects = {"postgresql", "oracle", "mariadb"}
    assert kinds == ({"sequence"} if dialect_name in sequence_dialects else {"table"})


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_cluster_ddl_declares_the_model(dialect_name: str) -> None:
    dialect = dialect_for(dialect_name)
    creates = _creates(dialect_name, "cluster.sql")
    for table in model.CLUSTER_TABLES:
        statement = creates.pop(table.name)
        assert statement.table is not None
        _assert_table_matches(dialect, table, statement.table)
        for index in table.indexes:
            assert creates.pop(index.name).on_table == dialect.table_name(table.name, "cluster")
    assert not creates


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_drop_scripts_drop_everything_the_create_scripts_create(dialect_name: str) -> None:
    for create, drop in [
        ("spring-batch-5.sql", "drop-spring-batch-5.sql"),
        ("spring-batch-6.sql", "drop-spring-batch-6.sql"),
        ("cluster.sql", "drop-cluster.sql"),
    ]:
        created = {
            (s.kind, s.name)
            for s in ddl.load_script(dialect_name, create)
            if s.action == "create" and s.kind != "index"
        }
        dropped = {(s.kind, s.name) for s in ddl.load_script(dialect_name, drop)}
        assert created == dropped, (dialect_name, create)


@pytest.mark.parametrize("dialect_name", [d for d in DIALECTS if SQLGLOT[d]])
def test_sqlglot_parses_sequences_indexes_drops_and_seeds(dialect_name: str) -> None:
    # sqlglot falls back to a bare Command for CREATE TABLE with some dialect options; the strict
    # parser above covers tables, sqlglot the rest.
    read = SQLGLOT[dialect_name]
    for script in ddl.SCRIPTS:
        for statement in ddl.load_script(dialect_name, script):
            if statement.action == "create" and statement.kind == "table":
                continue
            parsed = sqlglot.parse_one(statement.sql, read=read)
            assert not isinstance(parsed, exp.Command), statement.sql


@pytest.mark.parametrize("dialect_name", [d for d in DIALECTS if SQLGLOT[d]])
def test_sqlglot_parses_every_named_statement(dialect_name: str) -> None:
    catalog = load_catalog(dialect_name)
    for statement in catalog.statements.values():
        if not statement.supported:
            continue
        identifiers = {p: "BATCH_JOB_SEQ" for p in statement.placeholders}
        for sql in statement.render(**identifiers):
            parsed = sqlglot.parse_one(sql, read=SQLGLOT[dialect_name])
            assert not isinstance(parsed, exp.Command), sql


@pytest.mark.parametrize(
    ("dialect_name", "sql", "message"),
    [
        (
            "oracle",
            "CREATE TABLE T (A BIGINT NOT NULL) SEGMENT CREATION IMMEDIATE;",
            "type BIGINT is not used in oracle",
        ),
        (
            "oracle",
            "CREATE TABLE T (A NUMBER(19) NOT NULL DEFAULT 0) SEGMENT CREATION IMMEDIATE;",
            "DEFAULT before NOT NULL",
        ),
        ("oracle", "DROP TABLE IF EXISTS T;", "no DROP ... IF EXISTS"),
        ("mysql", "CREATE TABLE T (A VARCHAR2(10)) ENGINE=InnoDB;", "VARCHAR2 is not used"),
        ("mysql", "CREATE TABLE T (A BIGINT);", "expected ENGINE"),
        ("mysql", "CREATE SEQUENCE S;", "mysql has no sequences"),
        ("mariadb", "CREATE SEQUENCE S MAXVALUE 9223372036854775807;", "MAXVALUE above"),
        ("postgresql", "CREATE TABLE T (A BIGINT,, B BIGINT);", "expected a name"),
        ("postgresql", "CREATE TABLE T (A BIGINT AUTOINCREMENT);", "AUTOINCREMENT is SQLite"),
        ("sqlite", "CREATE TABLE T (A INTEGER)", "without a closing ';'"),
        ("sqlite", "GRANT ALL ON T TO U;", "unsupported statement"),
    ],
)
def test_strict_parser_rejects_foreign_syntax(dialect_name: str, sql: str, message: str) -> None:
    with pytest.raises(ddl.DdlError, match=message):
        ddl.parse_script(sql, dialect=dialect_name, filename="test.sql")
