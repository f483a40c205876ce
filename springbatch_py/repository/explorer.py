"""``JobExplorer``: read job instances, job executions and step executions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from springbatch_py.core.domain import COUNTERS, JobExecution, JobInstance, StepExecution
from springbatch_py.core.parameters import JobParameters, decode_parameter, job_key
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.db.schema import SchemaInfo, require_schema
from springbatch_py.repository.contexts import ContextRows, UnreadablePolicy
from springbatch_py.repository.serialization import (
    ContextSerializer,
    JavaSerializationContextSerializer,
)
from springbatch_py.repository.tables import Tables

_RUNNING = ("STARTING", "STARTED", "STOPPING")


class JobExplorer:
    """Reads what Spring Batch stored, for the database's Spring Batch major.

    Parameters
    ----------
    db:
        The database.
    serializer:
        The execution-context serializer the Java nodes use (default: Java serialization, as
        Spring Batch's ``DefaultExecutionContextSerializer``).
    schema:
        The schema's major and generator style; detected when omitted (a database without a
        Spring Batch schema, or with both majors, is refused).
    unreadable_contexts:
        What a read does with an execution context it cannot deserialize: ``"raise"`` (the
        default) raises :class:`~springbatch_py.repository.serialization.ContextSerializationError`;
        ``"mark"`` returns the execution with an
        :class:`~springbatch_py.repository.contexts.UnreadableContext` in its place, which gives
        the reason and raises only when the context is used (what views want: one corrupt row
        does not hide the rest). Also an attribute, which may be changed.
    """

    def __init__(
        self,
        db: Database,
        *,
        serializer: ContextSerializer | None = None,
        schema: SchemaInfo | None = None,
        unreadable_contexts: UnreadablePolicy = "raise",
    ) -> None:
        self.db = db
        self.unreadable_contexts: UnreadablePolicy = unreadable_contexts
        self.schema = schema or require_schema(db)
        self.tables = Tables(db.dialect)
        self.contexts = ContextRows(db.dialect, serializer or JavaSerializationContextSerializer())

    @property
    def major(self) -> int:
        """The Spring Batch major of the schema (5 or 6)."""
        return self.schema.major

    def key_of(self, parameters: JobParameters) -> str:
        """The JOB_KEY of ``parameters`` for this schema's major."""
        return job_key(parameters, self.major, zone=self.db.settings.zone)

    # -- job instances ---------------------------------------------------------------------

    def get_job_names(self) -> list[str]:
        """Every job name, sorted."""
        t = self.tables.job_instance
        with transactions.reading(self.db) as c:
            return list(
                c.execute(sa.select(t.c.job_name).distinct().order_by(t.c.job_name)).scalars()
            )

    def get_job_instance(self, instance_id: int) -> JobInstance | None:
        """The instance with this id."""
        t = self.tables.job_instance
        with transactions.reading(self.db) as c:
            row = c.execute(sa.select(t).where(t.c.job_instance_id == instance_id)).first()
        return None if row is None else _instance(row)

    def get_job_instances(
        self, job_name: str, start: int = 0, count: int = 20
    ) -> list[JobInstance]:
        """Instances of a job, newest first."""
        t = self.tables.job_instance
        query = (
            sa.select(t)
            .where(t.c.job_name == job_name)
            .order_by(t.c.job_instance_id.desc())
            .offset(start)
            .limit(count)
        )
        with transactions.reading(self.db) as c:
            return [_instance(row) for row in c.execute(query)]

    def get_job_instance_count(self, job_name: str) -> int:
        """How many instances a job has."""
        t = self.tables.job_instance
        with transactions.reading(self.db) as c:
            query = sa.select(sa.func.count()).select_from(t).where(t.c.job_name == job_name)
            return int(c.execute(query).scalar_one())

    def get_last_job_instance(self, job_name: str) -> JobInstance | None:
        """The newest instance of a job."""
        found = self.get_job_instances(job_name, 0, 1)
        return found[0] if found else None

    def find_job_instance(self, job_name: str, parameters: JobParameters) -> JobInstance | None:
        """The instance of ``job_name`` with these identifying parameters."""
        with transactions.reading(self.db) as c:
            return self._find_instance(c, job_name, self.key_of(parameters))

    def _find_instance(self, c: Connection, job_name: str, key: str) -> JobInstance | None:
        t = self.tables.job_instance
        rows = c.execute(sa.select(t).where(t.c.job_name == job_name, t.c.job_key == key)).all()
        if len(rows) > 1:
            raise RuntimeError(f"{len(rows)} job instances for job {job_name!r} and key {key}")
        return _instance(rows[0]) if rows else None

    # -- job executions --------------------------------------------------------------------

    def get_job_execution(self, execution_id: int) -> JobExecution | None:
        """A job execution with its parameters, context and step executions."""
        with transactions.reading(self.db) as c:
            found = self._execution_and_instance(c, execution_id)
            if found is None:
                return None
            row, instance = found
            return self._job_execution(c, row, instance, with_steps=True)

    def get_job_executions(self, instance: JobInstance) -> list[JobExecution]:
        """Executions of an instance, newest first, with their step executions."""
        e = self.tables.job_execution
        query = (
            sa.select(e)
            .where(e.c.job_instance_id == instance.id)
            .order_by(e.c.job_execution_id.desc())
        )
        with transactions.reading(self.db) as c:
            rows = c.execute(query).all()
            return [self._job_execution(c, row, instance, with_steps=True) for row in rows]

    def get_last_job_execution(self, instance: JobInstance) -> JobExecution | None:
        """The execution of ``instance`` with the largest id."""
        with transactions.reading(self.db) as c:
            return self._last_execution(c, instance)

    def _last_execution(self, c: Connection, instance: JobInstance) -> JobExecution | None:
        e = self.tables.job_execution
        newest = (
            sa.select(sa.func.max(e.c.job_execution_id))
            .where(e.c.job_instance_id == instance.id)
            .scalar_subquery()
        )
        row = c.execute(sa.select(e).where(e.c.job_execution_id == newest)).first()
        return None if row is None else self._job_execution(c, row, instance, with_steps=True)

    def find_running_job_executions(self, job_name: str) -> list[JobExecution]:
        """Executions of a job that are STARTING, STARTED or STOPPING."""
        e, i = self.tables.job_execution, self.tables.job_instance
        query = (
            sa.select(e)
            .join(i, i.c.job_instance_id == e.c.job_instance_id)
            .where(i.c.job_name == job_name, e.c.status.in_(_RUNNING))
            .order_by(e.c.job_execution_id.desc())
        )
        with transactions.reading(self.db) as c:
            result = []
            for row in c.execute(query).all():
                instance = self._instance_by_id(c, row.job_instance_id)
                result.append(self._job_execution(c, row, instance, with_steps=True))
            return result

    # -- step executions -------------------------------------------------------------------

    def get_step_execution(
        self, job_execution_id: int, step_execution_id: int
    ) -> StepExecution | None:
        """A step execution with its job execution and both contexts (the job execution's other
        steps are not loaded)."""
        with transactions.reading(self.db) as c:
            found = self._execution_and_instance(c, job_execution_id)
            if found is None:
                return None
            row, instance = found
            execution = self._job_execution(c, row, instance, with_steps=False)
            self._load_steps(c, execution, only=step_execution_id)
        return execution.step_executions[0] if execution.step_executions else None

    def get_last_step_execution(
        self, instance: JobInstance, step_name: str
    ) -> StepExecution | None:
        """The newest execution of ``step_name`` in any execution of ``instance``.

        Newest by CREATE_TIME, then by id, as Java orders them.
        """
        s, e = self.tables.step_execution, self.tables.job_execution
        query = (
            sa.select(s.c.step_execution_id, s.c.job_execution_id)
            .join(e, e.c.job_execution_id == s.c.job_execution_id)
            .where(e.c.job_instance_id == instance.id, s.c.step_name == step_name)
            .order_by(s.c.create_time.desc(), s.c.step_execution_id.desc())
            .limit(1)
        )
        with transactions.reading(self.db) as c:
            row = c.execute(query).first()
        if row is None:
            return None
        return self.get_step_execution(row.job_execution_id, row.step_execution_id)

    def get_step_execution_count(self, instance: JobInstance, step_name: str) -> int:
        """How many times ``step_name`` ran in executions of ``instance``."""
        s, e = self.tables.step_execution, self.tables.job_execution
        query = (
            sa.select(sa.func.count())
            .select_from(s.join(e, e.c.job_execution_id == s.c.job_execution_id))
            .where(e.c.job_instance_id == instance.id, s.c.step_name == step_name)
        )
        with transactions.reading(self.db) as c:
            return int(c.execute(query).scalar_one())

    # -- mapping ---------------------------------------------------------------------------

    def _execution_and_instance(
        self, c: Connection, execution_id: int
    ) -> tuple[Row[Any], JobInstance] | None:
        """A job execution's row and its instance, in one read."""
        e, i = self.tables.job_execution, self.tables.job_instance
        row = c.execute(
            sa.select(e, i.c.job_name, i.c.job_key, i.c.version.label("instance_version"))
            .join(i, i.c.job_instance_id == e.c.job_instance_id)
            .where(e.c.job_execution_id == execution_id)
        ).first()
        if row is None:
            return None
        instance = JobInstance(
            row.job_instance_id, row.job_name, row.job_key, row.instance_version or 0
        )
        return row, instance

    def _instance_by_id(self, c: Connection, instance_id: int) -> JobInstance:
        t = self.tables.job_instance
        return _instance(c.execute(sa.select(t).where(t.c.job_instance_id == instance_id)).one())

    def _parameters(self, c: Connection, execution_id: int) -> JobParameters:
        p = self.tables.job_execution_params
        rows = c.execute(sa.select(p).where(p.c.job_execution_id == execution_id)).all()
        return JobParameters(
            {
                r.parameter_name: decode_parameter(
                    r.parameter_name, r.parameter_type, r.parameter_value, r.identifying
                )
                for r in rows
            }
        )

    def _job_execution(
        self, c: Connection, row: Row[Any], instance: JobInstance, *, with_steps: bool
    ) -> JobExecution:
        execution = JobExecution(
            instance,
            self._parameters(c, row.job_execution_id),
            id=row.job_execution_id,
            status=BatchStatus.parse(row.status) or BatchStatus.UNKNOWN,
            exit_status=ExitStatus(row.exit_code or "UNKNOWN", row.exit_message or ""),
            create_time=row.create_time,
            start_time=row.start_time,
            end_time=row.end_time,
            last_updated=row.last_updated,
            version=row.version,
        )
        t = self.tables.job_execution_context
        execution.execution_context = self.contexts.load(
            c,
            t,
            "job_execution_id",
            row.job_execution_id,
            f"job execution {row.job_execution_id}",
            unreadable=self.unreadable_contexts,
        )
        if with_steps:
            self._load_steps(c, execution)
        return execution

    def _load_steps(self, c: Connection, execution: JobExecution, only: int | None = None) -> None:
        s = self.tables.step_execution
        query = sa.select(s).where(s.c.job_execution_id == execution.id)
        if only is not None:
            query = query.where(s.c.step_execution_id == only)
        rows = c.execute(query.order_by(s.c.step_execution_id)).all()
        t = self.tables.step_execution_context
        execution.step_executions = []
        for row in rows:
            step = StepExecution(
                row.step_name,
                execution,
                id=row.step_execution_id,
                status=BatchStatus.parse(row.status) or BatchStatus.UNKNOWN,
                exit_status=ExitStatus(row.exit_code or "UNKNOWN", row.exit_message or ""),
                create_time=row.create_time,
                start_time=row.start_time,
                end_time=row.end_time,
                last_updated=row.last_updated,
                version=row.version,
            )
            for counter in COUNTERS:
                setattr(step, counter, int(getattr(row, counter) or 0))
            step.execution_context = self.contexts.load(
                c,
                t,
                "step_execution_id",
                row.step_execution_id,
                f"step execution {row.step_execution_id}",
                unreadable=self.unreadable_contexts,
            )
            execution.step_executions.append(step)


def _instance(row: Row[Any]) -> JobInstance:
    return JobInstance(row.job_instance_id, row.job_name, row.job_key, row.version or 0)
