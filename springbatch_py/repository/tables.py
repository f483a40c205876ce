"""SQLAlchemy Core tables for the model, spelled so they match Java's unquoted names.

Java's DDL and SQL use unquoted upper-case names. SQLAlchemy treats lower-case names as
case-insensitive and leaves them unquoted, so lower case here matches PostgreSQL (which folds to
lower case), Oracle (upper case) and SQLite. MySQL compares table names by their exact case, and
SQLAlchemy quotes names that are not all lower case, so there the table names keep the DDL's case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from springbatch_py.db import model
from springbatch_py.db.dialect import Dialect
from springbatch_py.db.model import Kind


class SpringTimestamp(TypeDecorator[datetime]):
    """A naive wall-clock time of the configured zone, stored the way the dialect wants it
    (a TIMESTAMP/DATETIME value, or epoch milliseconds on SQLite)."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self, dialect: Dialect) -> None:
        super().__init__()
        self.dialect = dialect

    def load_dialect_impl(self, dialect: SADialect) -> TypeEngine[Any]:
        if self.dialect.epoch_ms_timestamps:
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: SADialect) -> Any:
        return self.dialect.bind_timestamp(value)

    def process_result_value(self, value: Any, dialect: SADialect) -> datetime | None:
        return self.dialect.read_timestamp(value)


def _column_type(column: model.Column, dialect: Dialect) -> TypeEngine[Any]:
    kind = column.type_for(dialect.name)
    if kind.kind is Kind.INT64 or kind.kind is Kind.FLAG:
        return sa.BigInteger() if kind.kind is Kind.INT64 else sa.SmallInteger()
    if kind.kind is Kind.VARCHAR:
        return sa.String(kind.length)
    if kind.kind is Kind.CHAR:
        return sa.CHAR(kind.length)
    if kind.kind is Kind.CLOB:
        return sa.Text()
    return SpringTimestamp(dialect)


class Tables:
    """The Core tables of one database (Spring Batch's and the cluster's)."""

    def __init__(self, dialect: Dialect) -> None:
        self.metadata = sa.MetaData()
        self._tables: dict[str, sa.Table] = {}
        for spec in model.ALL_TABLES:
            name = dialect.table_name(spec.name, spec.family)
            if not dialect.case_sensitive_table_names:
                name = name.lower()
            self._tables[spec.name] = sa.Table(
                name,
                self.metadata,
                *(sa.Column(c.name.lower(), _column_type(c, dialect)) for c in spec.columns),
            )
        self.job_instance = self._tables["BATCH_JOB_INSTANCE"]
        self.job_execution = self._tables["BATCH_JOB_EXECUTION"]
        self.job_execution_params = self._tables["BATCH_JOB_EXECUTION_PARAMS"]
        self.step_execution = self._tables["BATCH_STEP_EXECUTION"]
        self.job_execution_context = self._tables["BATCH_JOB_EXECUTION_CONTEXT"]
        self.step_execution_context = self._tables["BATCH_STEP_EXECUTION_CONTEXT"]
        self.nodes = self._tables["BATCH_NODES"]
        self.job_coordination = self._tables["BATCH_JOB_COORDINATION"]
        self.partitions = self._tables["BATCH_PARTITIONS"]
        self.job_phase_events = self._tables["BATCH_JOB_PHASE_EVENTS"]

    def __getitem__(self, name: str) -> sa.Table:
        return self._tables[name]
