"""What the schema is: Spring Batch's six tables and three generators, and the cluster tables.

This is the logical model, written once. Each dialect renders the physical type of a column
(:meth:`springbatch_py.db.dialect.Dialect.column_type`); ``schema verify`` compares a database with
this model, and the tests prove that the DDL under ``schema/`` creates exactly this model.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

SpringBatchMajor = Literal[5, 6]
Family = Literal["batch", "cluster"]


class Kind(enum.Enum):
    """Logical column kinds."""

    INT64 = "int64"
    VARCHAR = "varchar"
    CHAR = "char"
    TIMESTAMP = "timestamp"
    CLOB = "clob"
    FLAG = "flag"  # a 0/1 small integer


@dataclass(frozen=True)
class ColumnType:
    """A logical column type; ``length`` for character kinds."""

    kind: Kind
    length: int | None = None

    def __str__(self) -> str:
        return f"{self.kind.value}({self.length})" if self.length else self.kind.value


INT64 = ColumnType(Kind.INT64)
TIMESTAMP = ColumnType(Kind.TIMESTAMP)
CLOB = ColumnType(Kind.CLOB)
FLAG = ColumnType(Kind.FLAG)


def varchar(length: int) -> ColumnType:
    """A variable-length character column."""
    return ColumnType(Kind.VARCHAR, length)


def char(length: int) -> ColumnType:
    """A fixed-length character column."""
    return ColumnType(Kind.CHAR, length)


@dataclass(frozen=True)
class Column:
    """A column: name as Java's DDL spells it, type, nullability.

    ``overrides`` maps a dialect name to the type that dialect's Java DDL uses instead.
    """

    name: str
    type: ColumnType
    nullable: bool = True
    overrides: Mapping[str, ColumnType] = field(default_factory=dict)

    def type_for(self, dialect: str) -> ColumnType:
        """The logical type of this column in ``dialect``."""
        return self.overrides.get(dialect, self.type)


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key; ``name`` is None where Java's DDL leaves it unnamed."""

    name: str | None
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    on_delete: str | None = None


@dataclass(frozen=True)
class Index:
    """A secondary index; ``dialects`` limits it to some dialects (None: all)."""

    name: str
    columns: tuple[str, ...]
    dialects: frozenset[str] | None = None
    majors: frozenset[int] | None = None


@dataclass(frozen=True)
class Table:
    """A table of the model."""

    name: str
    family: Family
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    #: the cluster protocol that introduced the table (cluster tables only)
    since_cluster: int | None = None

    def column(self, name: str) -> Column:
        """The column called ``name`` (case-insensitive)."""
        for col in self.columns:
            if col.name.upper() == name.upper():
                return col
        raise KeyError(name)

    def indexes_for(self, dialect: str, major: int) -> tuple[Index, ...]:
        """Indexes that exist in ``dialect`` for Spring Batch ``major``."""
        return tuple(
            i
            for i in self.indexes
            if (i.dialects is None or dialect in i.dialects)
            and (i.majors is None or major in i.majors)
        )


def _executions_tail() -> tuple[Column, ...]:
    return (
        Column("EXIT_CODE", varchar(2500), overrides={"sqlite": varchar(100)}),
        Column("EXIT_MESSAGE", varchar(2500)),
        Column("LAST_UPDATED", TIMESTAMP),
    )


# -- Spring Batch (identical in 5.2 and 6.0 but for the job-instance generator) ------------------

JOB_INSTANCE = Table(
    "BATCH_JOB_INSTANCE",
    "batch",
    (
        Column("JOB_INSTANCE_ID", INT64, nullable=False),
        Column("VERSION", INT64),
        Column("JOB_NAME", varchar(100), nullable=False),
        Column("JOB_KEY", varchar(32), nullable=False),
    ),
    primary_key=("JOB_INSTANCE_ID",),
    unique={"JOB_INST_UN": ("JOB_NAME", "JOB_KEY")},
)

JOB_EXECUTION = Table(
    "BATCH_JOB_EXECUTION",
    "batch",
    (
        Column("JOB_EXECUTION_ID", INT64, nullable=False),
        Column("VERSION", INT64),
        Column("JOB_INSTANCE_ID", INT64, nullable=False),
        Column("CREATE_TIME", TIMESTAMP, nullable=False),
        Column("START_TIME", TIMESTAMP),
        Column("END_TIME", TIMESTAMP),
        Column("STATUS", varchar(10)),
        *_executions_tail(),
    ),
    primary_key=("JOB_EXECUTION_ID",),
    foreign_keys=(
        ForeignKey(
            "JOB_INST_EXEC_FK", ("JOB_INSTANCE_ID",), "BATCH_JOB_INSTANCE", ("JOB_INSTANCE_ID",)
        ),
    ),
)

JOB_EXECUTION_PARAMS = Table(
    "BATCH_JOB_EXECUTION_PARAMS",
    "batch",
    (
        Column("JOB_EXECUTION_ID", INT64, nullable=False),
        Column("PARAMETER_NAME", varchar(100), nullable=False),
        Column("PARAMETER_TYPE", varchar(100), nullable=False),
        Column("PARAMETER_VALUE", varchar(2500)),
        Column("IDENTIFYING", char(1), nullable=False),
    ),
    foreign_keys=(
        ForeignKey(
            "JOB_EXEC_PARAMS_FK",
            ("JOB_EXECUTION_ID",),
            "BATCH_JOB_EXECUTION",
            ("JOB_EXECUTION_ID",),
        ),
    ),
    # Spring Batch 6.0 added this index on Oracle only.
    indexes=(
        Index(
            "BATCH_JOB_EXEC_PARAMS_IDX",
            ("JOB_EXECUTION_ID",),
            dialects=frozenset({"oracle"}),
            majors=frozenset({6}),
        ),
    ),
)

_COUNTERS = (
    "COMMIT_COUNT",
    "READ_COUNT",
    "FILTER_COUNT",
    "WRITE_COUNT",
    "READ_SKIP_COUNT",
    "WRITE_SKIP_COUNT",
    "PROCESS_SKIP_COUNT",
    "ROLLBACK_COUNT",
)

STEP_EXECUTION = Table(
    "BATCH_STEP_EXECUTION",
    "batch",
    (
        Column("STEP_EXECUTION_ID", INT64, nullable=False),
        Column("VERSION", INT64, nullable=False),
        Column("STEP_NAME", varchar(100), nullable=False),
        Column("JOB_EXECUTION_ID", INT64, nullable=False),
        Column("CREATE_TIME", TIMESTAMP, nullable=False),
        Column("START_TIME", TIMESTAMP),
        Column("END_TIME", TIMESTAMP),
        Column("STATUS", varchar(10)),
        *(Column(name, INT64) for name in _COUNTERS),
        *_executions_tail(),
    ),
    primary_key=("STEP_EXECUTION_ID",),
    foreign_keys=(
        ForeignKey(
            "JOB_EXEC_STEP_FK", ("JOB_EXECUTION_ID",), "BATCH_JOB_EXECUTION", ("JOB_EXECUTION_ID",)
        ),
    ),
)


def _context_table(name: str, id_column: str, fk: str, parent: str) -> Table:
    return Table(
        name,
        "batch",
        (
            Column(id_column, INT64, nullable=False),
            Column("SHORT_CONTEXT", varchar(2500), nullable=False),
            Column("SERIALIZED_CONTEXT", CLOB),
        ),
        primary_key=(id_column,),
        foreign_keys=(ForeignKey(fk, (id_column,), parent, (id_column,)),),
    )


STEP_EXECUTION_CONTEXT = _context_table(
    "BATCH_STEP_EXECUTION_CONTEXT", "STEP_EXECUTION_ID", "STEP_EXEC_CTX_FK", "BATCH_STEP_EXECUTION"
)
JOB_EXECUTION_CONTEXT = _context_table(
    "BATCH_JOB_EXECUTION_CONTEXT", "JOB_EXECUTION_ID", "JOB_EXEC_CTX_FK", "BATCH_JOB_EXECUTION"
)

BATCH_TABLES: tuple[Table, ...] = (
    JOB_INSTANCE,
    JOB_EXECUTION,
    JOB_EXECUTION_PARAMS,
    STEP_EXECUTION,
    STEP_EXECUTION_CONTEXT,
    JOB_EXECUTION_CONTEXT,
)

# -- Id generators -----------------------------------------------------------------------------

#: Generator names by role and Spring Batch major (Java's incrementer defaults).
GENERATORS: Mapping[int, Mapping[str, str]] = {
    5: {
        "job_instance": "BATCH_JOB_SEQ",
        "job_execution": "BATCH_JOB_EXECUTION_SEQ",
        "step_execution": "BATCH_STEP_EXECUTION_SEQ",
    },
    6: {
        "job_instance": "BATCH_JOB_INSTANCE_SEQ",
        "job_execution": "BATCH_JOB_EXECUTION_SEQ",
        "step_execution": "BATCH_STEP_EXECUTION_SEQ",
    },
}

#: The job-instance generator tells the majors apart (facts section 9).
MAJOR_MARKERS: Mapping[str, SpringBatchMajor] = {"BATCH_JOB_SEQ": 5, "BATCH_JOB_INSTANCE_SEQ": 6}


def generator_names(major: int) -> tuple[str, ...]:
    """The three generator names of a Spring Batch major."""
    return tuple(GENERATORS[major].values())


#: Shape of a MySQL-style generator table (one row, bumped through LAST_INSERT_ID).
def mysql_generator_table(name: str) -> Table:
    """The single-row generator table Java's MySQL incrementer expects."""
    return Table(
        name,
        "batch",
        (Column("ID", INT64, nullable=False), Column("UNIQUE_KEY", char(1), nullable=False)),
        unique={"UNIQUE_KEY_UN": ("UNIQUE_KEY",)},
    )


def sqlite_generator_table(name: str) -> Table:
    """The AUTOINCREMENT generator table Java's SQLite incrementer expects."""
    # SQLite reports a bare INTEGER PRIMARY KEY (the rowid) as nullable; it never holds NULL.
    return Table(name, "batch", (Column("ID", INT64, nullable=True),), primary_key=("ID",))


# -- Cluster tables (spring-batch-db-cluster-partitioning, 3.x layout) -------------------------

NODES = Table(
    "BATCH_NODES",
    "cluster",
    (
        Column("NODE_ID", varchar(200), nullable=False),
        Column("CREATED_TIME", TIMESTAMP, nullable=False),
        Column("LAST_UPDATED_TIME", TIMESTAMP, nullable=False),
        Column("STATUS", varchar(20), nullable=False),
        Column("HOST_IDENTIFIER", varchar(200)),
        Column("CURRENT_LOAD", INT64, nullable=False),
    ),
    primary_key=("NODE_ID",),
    since_cluster=2,
)

JOB_COORDINATION = Table(
    "BATCH_JOB_COORDINATION",
    "cluster",
    (
        Column("JOB_EXECUTION_ID", INT64, nullable=False),
        Column("MASTER_NODE_ID", varchar(200), nullable=False),
        Column("MASTER_STEP_EXECUTION_ID", INT64, nullable=False),
        Column("MASTER_STEP_NAME", varchar(100), nullable=False),
        Column("STATUS", varchar(20), nullable=False),
        Column("CREATED_TIME", TIMESTAMP, nullable=False),
        Column("LAST_UPDATED", TIMESTAMP, nullable=False),
    ),
    primary_key=("JOB_EXECUTION_ID",),
    foreign_keys=(
        ForeignKey(
            "JOB_COORD_FK", ("JOB_EXECUTION_ID",), "BATCH_JOB_EXECUTION", ("JOB_EXECUTION_ID",)
        ),
    ),
    since_cluster=2,
)

PARTITIONS = Table(
    "BATCH_PARTITIONS",
    "cluster",
    (
        Column("step_execution_id", INT64, nullable=False),
        Column("job_execution_id", INT64, nullable=False),
        Column("partition_key", varchar(100), nullable=False),
        Column("assigned_node", varchar(100)),
        Column("status", varchar(20), nullable=False),
        Column("last_updated", TIMESTAMP),
        Column("master_step_execution_id", INT64, nullable=False),
        Column("is_transferable", FLAG),
    ),
    primary_key=("step_execution_id",),
    foreign_keys=(
        ForeignKey(
            "BAT_PART_FK",
            ("step_execution_id",),
            "BATCH_STEP_EXECUTION",
            ("STEP_EXECUTION_ID",),
            on_delete="CASCADE",
        ),
    ),
    indexes=(
        Index("IDX_BATCH_PART_NODE_STATUS", ("assigned_node", "status")),
        Index("IDX_BATCH_PART_MASTER_STATUS", ("master_step_execution_id", "status")),
    ),
    since_cluster=2,
)

JOB_PHASE_EVENTS = Table(
    "BATCH_JOB_PHASE_EVENTS",
    "cluster",
    (
        Column("JOB_EXECUTION_ID", INT64, nullable=False),
        Column("NODE_ID", varchar(200), nullable=False),
        Column("PHASE", varchar(40), nullable=False),
        Column("EVENT_TIME", TIMESTAMP, nullable=False),
    ),
    indexes=(Index("IDX_BATCH_PHASE_EVENTS_JOB", ("JOB_EXECUTION_ID",)),),
    since_cluster=3,
)

CLUSTER_TABLES: tuple[Table, ...] = (NODES, JOB_COORDINATION, PARTITIONS, JOB_PHASE_EVENTS)

#: Indexes that only the 3.x cluster layout has (2.0.x created none).
CLUSTER_3_INDEXES: frozenset[str] = frozenset(i.name for t in CLUSTER_TABLES for i in t.indexes)

ALL_TABLES: tuple[Table, ...] = BATCH_TABLES + CLUSTER_TABLES


def table(name: str) -> Table:
    """The model table called ``name`` (case-insensitive)."""
    for t in ALL_TABLES:
        if t.name.upper() == name.upper():
            return t
    raise KeyError(name)
