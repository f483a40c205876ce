"""The created schema equals the one the wire facts describe (sections 1.1, 1.2, 2 and 8.2).

This restates the facts on its own, independently of springbatch_py.db.model, and compares them
with SQLAlchemy's raw reflection of a database springbatch-py created: names, types, lengths,
nullability, primary keys and generators.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from springbatch_py.db.database import Database
from springbatch_py.db.model import SpringBatchMajor
from springbatch_py.db.schema import create_schema

# name -> [(column, nullable, logical type)] ; logical: i=int64, vN=varchar(N), cN=char(N),
# t=timestamp, x=large text, f=0/1 flag
SPRING_BATCH = {
    "BATCH_JOB_INSTANCE": "JOB_INSTANCE_ID -i VERSION i JOB_NAME -v100 JOB_KEY -v32",
    "BATCH_JOB_EXECUTION": "JOB_EXECUTION_ID -i VERSION i JOB_INSTANCE_ID -i CREATE_TIME -t "
    "START_TIME t END_TIME t STATUS v10 EXIT_CODE v2500 EXIT_MESSAGE v2500 LAST_UPDATED t",
    "BATCH_JOB_EXECUTION_PARAMS": "JOB_EXECUTION_ID -i PARAMETER_NAME -v100 PARAMETER_TYPE -v100 "
    "PARAMETER_VALUE v2500 IDENTIFYING -c1",
    "BATCH_STEP_EXECUTION": "STEP_EXECUTION_ID -i VERSION -i STEP_NAME -v100 JOB_EXECUTION_ID -i "
    "CREATE_TIME -t START_TIME t END_TIME t STATUS v10 COMMIT_COUNT i READ_COUNT i FILTER_COUNT i "
    "WRITE_COUNT i READ_SKIP_COUNT i WRITE_SKIP_COUNT i PROCESS_SKIP_COUNT i ROLLBACK_COUNT i "
    "EXIT_CODE v2500 EXIT_MESSAGE v2500 LAST_UPDATED t",
    "BATCH_STEP_EXECUTION_CONTEXT": "STEP_EXECUTION_ID -i SHORT_CONTEXT -v2500 "
    "SERIALIZED_CONTEXT x",
    "BATCH_JOB_EXECUTION_CONTEXT": "JOB_EXECUTION_ID -i SHORT_CONTEXT -v2500 SERIALIZED_CONTEXT x",
}
PRIMARY_KEYS = {
    "BATCH_JOB_INSTANCE": ["JOB_INSTANCE_ID"],
    "BATCH_JOB_EXECUTION": ["JOB_EXECUTION_ID"],
    "BATCH_JOB_EXECUTION_PARAMS": [],
    "BATCH_STEP_EXECUTION": ["STEP_EXECUTION_ID"],
    "BATCH_STEP_EXECUTION_CONTEXT": ["STEP_EXECUTION_ID"],
    "BATCH_JOB_EXECUTION_CONTEXT": ["JOB_EXECUTION_ID"],
    "BATCH_NODES": ["NODE_ID"],
    "BATCH_JOB_COORDINATION": ["JOB_EXECUTION_ID"],
    "BATCH_PARTITIONS": ["STEP_EXECUTION_ID"],
    "BATCH_JOB_PHASE_EVENTS": [],
}
CLUSTER = {
    "BATCH_NODES": "NODE_ID -v200 CREATED_TIME -T LAST_UPDATED_TIME -T STATUS -v20 "
    "HOST_IDENTIFIER v200 CURRENT_LOAD -i",
    "BATCH_JOB_COORDINATION": "JOB_EXECUTION_ID -i MASTER_NODE_ID -v200 "
    "MASTER_STEP_EXECUTION_ID -i MASTER_STEP_NAME -v100 STATUS -v20 CREATED_TIME -T "
    "LAST_UPDATED -T",
    "BATCH_PARTITIONS": "step_execution_id -i job_execution_id -i partition_key -v100 "
    "assigned_node v100 status -v20 last_updated T master_step_execution_id -i is_transferable f",
    "BATCH_JOB_PHASE_EVENTS": "JOB_EXECUTION_ID -i NODE_ID -v200 PHASE -v40 EVENT_TIME -T",
}
# Section 1.2 and 8.2: physical types as SQLAlchemy compiles the reflected type. "t" is Spring
# Batch's timestamp, "T" the cluster's.
PHYSICAL = {
    "postgresql": {
        "i": "BIGINT",
        "v": "VARCHAR({n})",
        "c": "CHAR({n})",
        "t": "TIMESTAMP",
        "T": "TIMESTAMP",
        "x": "TEXT",
        "f": "SMALLINT",
    },
    "mysql": {
        "i": "BIGINT",
        "v": "VARCHAR({n})",
        "c": "CHAR({n})",
        "t": "DATETIME(6)",
        # The facts' TIMESTAMP holds whole seconds; springbatch-py declares milliseconds, so
        # heartbeat ages resolve them (the library's statements work unchanged on it).
        "T": "TIMESTAMP(3)",
        "x": "TEXT",
        "f": "SMALLINT",
    },
    "oracle": {
        "i": "NUMBER(19,0)",
        "v": "VARCHAR2({n})",
        "c": "CHAR({n})",
        "t": "TIMESTAMP(9)",
        "T": "TIMESTAMP",
        "x": "CLOB",
        "f": "NUMBER(1,0)",
    },
    "sqlite": {
        "i": "INTEGER",
        "v": "VARCHAR({n})",
        "c": "CHAR({n})",
        "t": "TIMESTAMP",
        "T": "TIMESTAMP",
        "x": "TEXT",
        "f": "INTEGER",
    },
}
PHYSICAL["mariadb"] = PHYSICAL["mysql"]
# SQLite's Java DDL narrows the exit codes (section 1.1).
SQLITE_EXIT_CODE = "VARCHAR(100)"
GENERATORS = {
    5: ["BATCH_JOB_SEQ", "BATCH_JOB_EXECUTION_SEQ", "BATCH_STEP_EXECUTION_SEQ"],
    6: ["BATCH_JOB_INSTANCE_SEQ", "BATCH_JOB_EXECUTION_SEQ", "BATCH_STEP_EXECUTION_SEQ"],
}


def _columns(spec: str) -> list[tuple[str, bool, str]]:
    words = spec.split()
    return [
        (name, not t.startswith("-"), t.lstrip("-"))
        for name, t in zip(words[::2], words[1::2], strict=True)
    ]


def _physical(dialect: str, logical: str, table: str, column: str) -> str:
    if dialect == "sqlite" and column == "EXIT_CODE":
        return SQLITE_EXIT_CODE
    kind, length = logical[0], logical[1:]
    return PHYSICAL[dialect][kind].format(n=length)


def _reflected_type(text: str) -> str:
    text = text.upper().replace(" WITHOUT TIME ZONE", "").replace(", ", ",")
    text = re.sub(r"^(BIGINT|SMALLINT)\(\d+\)$", r"\1", text)  # MySQL display widths
    return re.sub(r" (CHAR|BYTE)\)$", ")", text)


@pytest.mark.parametrize("major", [5, 6])
def test_created_schema_equals_the_facts(database: Database, major: SpringBatchMajor) -> None:
    create_schema(database, major=major)
    dialect = database.dialect.name
    expected = {**SPRING_BATCH, **CLUSTER}
    with database.connect() as connection:
        inspector = sa.inspect(connection)
        actual_names = {n.upper(): n for n in inspector.get_table_names()}
        for table, spec in expected.items():
            physical_name = (
                table.lower() if dialect in ("mysql", "mariadb") and table in CLUSTER else table
            )
            assert physical_name.upper() in actual_names, table
            actual = actual_names[physical_name.upper()]
            if dialect in ("mysql", "mariadb"):
                assert actual == physical_name, f"table name case: {actual} != {physical_name}"
            columns = inspector.get_columns(actual)
            got = [
                (
                    c["name"].upper(),
                    bool(c["nullable"]),
                    _reflected_type(c["type"].compile(dialect=connection.dialect)),
                )
                for c in columns
            ]
            want = [
                (name.upper(), nullable, _physical(dialect, logical, table, name))
                for name, nullable, logical in _columns(spec)
            ]
            assert got == want, table
            pk = [c.upper() for c in inspector.get_pk_constraint(actual)["constrained_columns"]]
            assert pk == PRIMARY_KEYS[table], table
        unique = inspector.get_unique_constraints(actual_names["BATCH_JOB_INSTANCE"])
        assert [[c.upper() for c in u["column_names"]] for u in unique] == [["JOB_NAME", "JOB_KEY"]]
        sequences = (
            {s.upper() for s in inspector.get_sequence_names()}
            if (database.dialect.sequences)
            else set()
        )
        for name in GENERATORS[major]:
            assert name in sequences or name in actual_names, name
        other = GENERATORS[5 if major == 6 else 6][0]
        assert other not in sequences and other not in actual_names
