"""Schema create / verify / drop on every live engine, for both Spring Batch majors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from springbatch_py.db import ddl, model
from springbatch_py.db.database import Database
from springbatch_py.db.inventory import reflect
from springbatch_py.db.model import SpringBatchMajor
from springbatch_py.db.schema import (
    create_schema,
    detect_major,
    drop_schema,
    natural_style,
    require_schema,
    script_folder,
    verify_schema,
)
from springbatch_py.errors import MixedSchemaError, SchemaError


@pytest.mark.parametrize("major", [5, 6])
def test_create_then_verify(database: Database, major: SpringBatchMajor) -> None:
    report = create_schema(database, major=major)
    assert report.count("created") == len([a for a in report.actions if a.status == "created"])
    assert report.count("exists") == 0
    result = verify_schema(database)
    assert result.ok, result.findings
    assert result.major == major
    assert result.cluster == "3.x layout"
    assert result.checked > 70


def test_create_without_cluster_tables(database: Database) -> None:
    create_schema(database, major=6, cluster=False)
    with database.connect() as connection:
        inventory = reflect(connection, database.dialect)
    assert not any(inventory.find_table_any_case(t.name) for t in model.CLUSTER_TABLES)
    assert verify_schema(database).ok
    # asking for the cluster tables lists each as missing
    missing = verify_schema(database, cluster=True).findings
    assert {(f.problem, f.kind) for f in missing} == {("missing", "table")}
    assert len(missing) == len(model.CLUSTER_TABLES)


def test_names_only_reflection_lists_every_table_and_details_the_asked_ones(
    database: Database,
) -> None:
    create_schema(database, major=5)
    with database.connect() as connection:
        full = reflect(connection, database.dialect)
        names = reflect(connection, database.dialect, details=())
        some = reflect(connection, database.dialect, details=["batch_partitions"])
    assert list(names.tables) == list(full.tables) and names.sequences == full.sequences
    assert not any(t.detailed or t.columns for t in names.tables.values())
    assert detect_major(names) == detect_major(full) == 5
    partitions = some.find_table_any_case("BATCH_PARTITIONS")
    assert partitions is not None and partitions.detailed
    assert partitions == full.find_table_any_case("BATCH_PARTITIONS")
    assert [n for n, t in some.tables.items() if t.detailed] == [partitions.name]


def test_create_is_idempotent(database: Database) -> None:
    first = create_schema(database, major=5)
    second = create_schema(database)
    assert second.major == 5  # the major present wins when none is asked for
    assert second.count("created") == 0
    assert second.count("exists") == first.count("created")
    assert verify_schema(database).ok


def test_create_completes_a_partial_schema(database: Database) -> None:
    create_schema(database, major=6, cluster=False)
    with database.begin() as connection:
        connection.exec_driver_sql(_drop_sql(database, "BATCH_STEP_EXECUTION_CONTEXT"))
    report = create_schema(database, major=6, cluster=False)
    assert [(a.kind, a.name) for a in report.actions if a.status == "created"] == [
        ("table", "BATCH_STEP_EXECUTION_CONTEXT")
    ]
    assert verify_schema(database).ok


def test_other_major_is_refused_and_nothing_is_written(database: Database) -> None:
    create_schema(database, major=5, cluster=False)
    with database.connect() as connection:
        before = reflect(connection, database.dialect)
    with pytest.raises(MixedSchemaError, match="holds a Spring Batch 5 schema"):
        create_schema(database, major=6)
    with database.connect() as connection:
        after = reflect(connection, database.dialect)
    assert sorted(after.tables) == sorted(before.tables)
    assert sorted(after.sequences) == sorted(before.sequences)


def test_both_majors_present_is_refused(database: Database) -> None:
    create_schema(database, major=5, cluster=False)
    _run_generator_ddl(database, major=6, name="BATCH_JOB_INSTANCE_SEQ")
    with database.connect() as connection:
        inventory = reflect(connection, database.dialect)
    with pytest.raises(MixedSchemaError, match="both Spring Batch 5"):
        detect_major(inventory)
    with pytest.raises(MixedSchemaError):
        require_schema(database)
    result = verify_schema(database)
    assert not result.ok and "both Spring Batch majors" in result.findings[0].detail
    checked = verify_schema(database, major=5)
    assert [(f.problem, f.name) for f in checked.findings] == [("extra", "BATCH_JOB_INSTANCE_SEQ")]


def test_no_schema_is_refused_where_one_is_expected(database: Database) -> None:
    with pytest.raises(SchemaError, match="no Spring Batch schema"):
        require_schema(database)
    result = verify_schema(database)
    assert [(f.problem, f.kind) for f in result.findings] == [("missing", "schema")]


def test_verify_catches_a_dropped_column(database: Database) -> None:
    create_schema(database, major=6)
    with database.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE BATCH_STEP_EXECUTION DROP COLUMN READ_COUNT")
    findings = verify_schema(database).findings
    assert [(f.problem, f.kind, f.name.upper()) for f in findings] == [
        ("missing", "column", "BATCH_STEP_EXECUTION.READ_COUNT")
    ]


def test_verify_catches_a_wrong_type_and_nullability(database: Database) -> None:
    create_schema(database, major=6, cluster=False)
    dialect = database.dialect
    int64 = dialect.column_type(model.INT64, "batch")
    clob = dialect.column_type(model.CLOB, "batch")
    with database.begin() as connection:
        connection.exec_driver_sql(_drop_sql(database, "BATCH_JOB_EXECUTION_CONTEXT"))
        connection.exec_driver_sql(
            "CREATE TABLE BATCH_JOB_EXECUTION_CONTEXT ("
            f" JOB_EXECUTION_ID {int64} NOT NULL PRIMARY KEY,"
            " SHORT_CONTEXT VARCHAR(100),"
            f" SERIALIZED_CONTEXT {clob})"
        )
    findings = {(f.problem, f.kind, f.name.upper()) for f in verify_schema(database).findings}
    assert ("mismatch", "type", "BATCH_JOB_EXECUTION_CONTEXT.SHORT_CONTEXT") in findings
    assert ("mismatch", "nullability", "BATCH_JOB_EXECUTION_CONTEXT.SHORT_CONTEXT") in findings
    assert ("missing", "foreign key", "BATCH_JOB_EXECUTION_CONTEXT.JOB_EXEC_CTX_FK") in findings
    assert len(findings) == 3, findings


def test_verify_catches_a_missing_generator(database: Database) -> None:
    create_schema(database, major=5, cluster=False)
    info = require_schema(database)
    folder = script_folder(database.dialect.name, info.generator_style)
    drop = next(
        s
        for s in ddl.load_script(folder, "drop-spring-batch-5.sql")
        if s.name == "BATCH_STEP_EXECUTION_SEQ"
    )
    with database.begin() as connection:
        connection.exec_driver_sql(drop.sql)
    findings = verify_schema(database).findings
    assert [(f.problem, f.kind, f.name) for f in findings] == [
        ("missing", "generator", "BATCH_STEP_EXECUTION_SEQ")
    ]


def test_verify_reports_extra_columns_and_tables(database: Database) -> None:
    create_schema(database, major=6, cluster=False)
    int64 = database.dialect.column_type(model.INT64, "batch")
    with database.begin() as connection:
        connection.exec_driver_sql(f"ALTER TABLE BATCH_JOB_INSTANCE ADD EXTRA_COL {int64}")
        connection.exec_driver_sql(f"CREATE TABLE BATCH_SOMETHING_ELSE (ID {int64})")
        connection.exec_driver_sql(f"CREATE TABLE NOT_OURS (ID {int64})")
    findings = {(f.problem, f.kind, f.name.upper()) for f in verify_schema(database).findings}
    assert findings == {
        ("extra", "column", "BATCH_JOB_INSTANCE.EXTRA_COL"),
        ("extra", "table", "BATCH_SOMETHING_ELSE"),
    }


def test_drop_removes_everything_and_only_ours(database: Database) -> None:
    create_schema(database, major=6)
    int64 = database.dialect.column_type(model.INT64, "batch")
    with database.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE USER_TABLE (ID {int64})")
    report = drop_schema(database)
    assert report.count("dropped") == 6 + 3 + len(model.CLUSTER_TABLES)
    with database.connect() as connection:
        inventory = reflect(connection, database.dialect)
        others = sa.inspect(connection).get_table_names()
    assert inventory.is_empty()
    assert [t.upper() for t in others] == ["USER_TABLE"]
    assert drop_schema(database).actions == []


@pytest.mark.parametrize("major", [5, 6])
def test_generators_draw_ids_like_java(database: Database, major: SpringBatchMajor) -> None:
    from springbatch_py.repository.ids import id_generators

    create_schema(database, major=major, cluster=False)
    info = require_schema(database)
    assert info.major == major
    generators = id_generators(database, info.major, info.generator_style)
    # Oracle's Java DDL starts its sequences at 0 (a real id); everywhere else at 1.
    first = database.dialect.first_generated_id
    with database.begin() as connection:
        drawn = {role: [g.next_id(connection) for _ in range(3)] for role, g in generators.items()}
    assert drawn == {role: [first, first + 1, first + 2] for role in generators}
    # A rolled-back transaction does not give an id back twice.
    with database.connect() as connection:
        connection.begin()
        generators["job_execution"].next_id(connection)
        connection.rollback()
    with database.begin() as connection:
        assert generators["job_execution"].next_id(connection) > first + 2


@pytest.mark.engines("mariadb", "mysql")
def test_mysql_generator_tables_need_their_row(database: Database) -> None:
    from springbatch_py.repository.ids import IdGenerator

    create_schema(database, major=6, cluster=False, id_generators="table")
    info = require_schema(database)
    assert info.generator_style == "table"
    assert verify_schema(database).ok
    with database.begin() as connection:
        connection.exec_driver_sql("DELETE FROM BATCH_JOB_EXECUTION_SEQ")
    findings = verify_schema(database).findings
    assert [(f.kind, f.name) for f in findings] == [("generator row", "BATCH_JOB_EXECUTION_SEQ")]
    generator = IdGenerator(database, "BATCH_JOB_EXECUTION_SEQ", "table")
    with database.begin() as connection, pytest.raises(SchemaError, match="holds no row"):
        generator.next_id(connection)


def _drop_sql(database: Database, table: str) -> str:
    """The DROP of ``table`` in the dialect's own drop script."""
    info = require_schema(database)
    folder = script_folder(database.dialect.name, info.generator_style)
    script = ddl.load_script(folder, f"drop-spring-batch-{info.major}.sql")
    return next(s.sql for s in script if s.kind == "table" and s.name == table)


def _run_generator_ddl(database: Database, *, major: int, name: str) -> None:
    folder = script_folder(database.dialect.name, natural_style(database.dialect.name))
    with database.begin() as connection:
        for statement in ddl.load_script(folder, f"spring-batch-{major}.sql"):
            if statement.name == name or statement.on_table == name:
                connection.exec_driver_sql(statement.sql)
