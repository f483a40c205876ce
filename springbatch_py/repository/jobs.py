"""``JobRepository``: create and update job and step executions, as Spring Batch's JDBC DAOs do.

* A job instance, its execution, the parameter rows and the job context are created in one
  SERIALIZABLE transaction with Spring Batch's launch checks; concurrent launches of one instance
  retry on serialization failures and unique-key races, so exactly one wins and the others get
  the error Java gives.
* Every update of an execution row is ``VERSION = VERSION + 1 ... WHERE id AND VERSION = ?``;
  0 rows raises :class:`OptimisticLockingFailureError`. Job-execution updates first adopt a newer
  version and status written by another node (Java's ``synchronizeStatus``), so a stop request
  from any node is merged rather than overwritten.
* Times are naive wall-clock times of the configured zone.
* Every write runs in :meth:`JobRepository._writing`'s transaction, where an optional
  :class:`WriteGuard` checks it before the first write (a cluster partition's fence: see
  :meth:`JobRepository.guarded`), so no write of the repository can bypass the guard.
"""

from __future__ import annotations

import copy
import logging
import random
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import JobExecution, JobInstance, StepExecution
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobInstanceAlreadyCompleteError,
    JobParametersInvalidError,
    JobRestartError,
    OptimisticLockingFailureError,
)
from springbatch_py.core.parameters import JobParameters, encode_parameter, unstable_key_parameters
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import BATCH_VERSION
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.db.schema import SchemaInfo
from springbatch_py.repository.contexts import utf16_prefix
from springbatch_py.repository.explorer import JobExplorer
from springbatch_py.repository.ids import id_generators
from springbatch_py.repository.serialization import ContextSerializer

log = logging.getLogger(__name__)

#: Java truncates exit messages to this many UTF-16 code units.
EXIT_MESSAGE_LENGTH = 2500


def _message(text: str) -> str:
    return utf16_prefix(text or "", EXIT_MESSAGE_LENGTH)


class WriteGuard(Protocol):
    """Guards the writes of a repository (see :meth:`JobRepository.guarded`)."""

    def before_write(self, connection: Connection) -> None:
        """Check a transaction, on its connection, before the repository's first write in it
        (once per transaction: a chunk saves its context and its step in one). Raising refuses
        the transaction: it rolls back, a chunk's item writes included."""
        ...

    def land(
        self, what: str, execution: JobExecution | StepExecution, write: Callable[[], None]
    ) -> None:
        """Run ``write``, an update of ``execution`` in a transaction of its own (not inside a
        chunk's), described by ``what``; the guard may run it again until it lands."""
        ...


class JobRepository(JobExplorer):
    """Creates and updates executions; reads like :class:`JobExplorer`.

    Parameters
    ----------
    db, serializer, schema:
        As for :class:`JobExplorer`.
    create_attempts:
        How often a create transaction is tried when the database reports a serialization
        failure, a deadlock or a unique-key race.
    batch_version:
        What jobs and steps write under ``batch.version`` in their contexts. By default the
        writer names itself (``springbatch-py <version>``); Java writes its Spring Batch version
        (e.g. ``5.2.2``), which users whose tools expect that form may pass here.
    """

    def __init__(
        self,
        db: Database,
        *,
        serializer: ContextSerializer | None = None,
        schema: SchemaInfo | None = None,
        create_attempts: int = 8,
        batch_version: str | None = None,
    ) -> None:
        super().__init__(db, serializer=serializer, schema=schema)
        self.ids = id_generators(db, self.schema.major, self.schema.generator_style)
        self.create_attempts = create_attempts
        if batch_version is not None and not batch_version.strip():
            raise ValueError("batch_version must not be blank")
        self.batch_version: str = batch_version or BATCH_VERSION
        self._guard: WriteGuard | None = None
        #: Transactions the guard has checked (a connection per transaction).
        self._checked: weakref.WeakSet[Connection] = weakref.WeakSet()

    def guarded(self, guard: WriteGuard) -> JobRepository:
        """This repository with every write checked by ``guard``: in each transaction, before
        the repository's first write, ``guard.before_write`` runs on the transaction's
        connection; an update that begins a transaction of its own runs through
        ``guard.land``. Shares the database, schema, serializer and id generators."""
        guarded = copy.copy(self)
        guarded._guard = guard
        guarded._checked = weakref.WeakSet()
        return guarded

    def transaction(self) -> AbstractContextManager[Connection]:
        """A transaction of its own that repository writes and database item writers join
        (one chunk)."""
        return transactions.new_transaction(self.db)

    @contextmanager
    def _writing(self, *, serializable: bool = False) -> Iterator[Connection]:
        """The transaction every write of the repository runs in: the current one on its
        database, or one of its own (always, with ``serializable``); the guard checks it before
        the first write."""
        if serializable:
            begun = transactions.new_transaction(self.db, serializable=True)
        else:
            begun = transactions.transaction(self.db)
        with begun as c:
            if self._guard is not None and c not in self._checked:
                self._guard.before_write(c)
                self._checked.add(c)
            yield c

    def _land(
        self, what: str, execution: JobExecution | StepExecution, write: Callable[[], None]
    ) -> None:
        """Run an update: through the guard when it begins a transaction of its own; inside a
        chunk's, at once (the chunk's transaction fails and rolls back as a whole)."""
        if self._guard is None or transactions.current(self.db) is not None:
            write()
        else:
            self._guard.land(what, execution, write)

    def now(self) -> datetime:
        """The current wall-clock time of the configured zone (Java's LocalDateTime.now())."""
        return datetime.now(self.db.settings.zone).replace(tzinfo=None)

    # -- create ----------------------------------------------------------------------------

    def is_job_instance_exists(self, job_name: str, parameters: JobParameters) -> bool:
        """Whether an instance of ``job_name`` with these identifying parameters exists."""
        return self.find_job_instance(job_name, parameters) is not None

    def create_job_execution(
        self, job_name: str, parameters: JobParameters | Mapping[str, Any]
    ) -> JobExecution:
        """Create (or reuse) the job instance and a new execution of it, atomically.

        Raises :class:`JobExecutionAlreadyRunningError` when an execution of the instance is
        running, :class:`JobRestartError` when one ended UNKNOWN, and
        :class:`JobInstanceAlreadyCompleteError` when one COMPLETED or was ABANDONED (in 5.x only
        for instances with identifying parameters, as Java does). A restart starts from the last
        execution's job context.
        """
        if not job_name:
            raise JobParametersInvalidError("a job needs a name")
        if not isinstance(parameters, JobParameters):
            parameters = JobParameters(parameters)
        self._check_parameters(parameters)
        key = self.key_of(parameters)
        for attempt in range(1, self.create_attempts + 1):
            try:
                with self._writing(serializable=True) as c:
                    return self._create_execution(c, job_name, key, parameters)
            except DBAPIError as exc:
                if attempt == self.create_attempts or not self.db.dialect.is_transient_error(exc):
                    raise
                log.debug("create_job_execution attempt %d failed, retrying: %s", attempt, exc)
                time.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")

    def _check_parameters(self, parameters: JobParameters) -> None:
        if self.db.dialect.empty_string_is_null:
            for name, parameter in parameters.items():
                if parameter.value == "" and isinstance(parameter.value, str):
                    raise JobParametersInvalidError(
                        f"parameter {name!r} is an empty string, which "
                        f"{self.db.dialect.product} stores as NULL: Java could not read it back"
                    )
        unstable = unstable_key_parameters(parameters)
        if unstable:
            log.warning(
                "identifying parameter(s) %s: their job key depends on the JVM (time zone or "
                "JDK version); Java nodes may compute another key",
                ", ".join(unstable),
            )

    def _create_execution(
        self, c: Connection, job_name: str, key: str, parameters: JobParameters
    ) -> JobExecution:
        instance = self._find_instance(c, job_name, key)
        context = ExecutionContext()
        if instance is None:
            instance = JobInstance(self.ids["job_instance"].next_id(c), job_name, key, 0)
            t = self.tables.job_instance
            c.execute(
                t.insert().values(
                    job_instance_id=instance.id, job_name=job_name, job_key=key, version=0
                )
            )
        else:
            e = self.tables.job_execution
            rows = c.execute(
                sa.select(e.c.job_execution_id, e.c.status)
                .where(e.c.job_instance_id == instance.id)
                .order_by(e.c.job_execution_id.desc())
            ).all()
            self._check_restartable(instance, parameters, [r.status for r in rows])
            if rows:
                t = self.tables.job_execution_context
                last = rows[0].job_execution_id
                context = self.contexts.load(
                    c, t, "job_execution_id", last, f"job execution {last}"
                )
        return self._insert_execution(c, instance, parameters, context)

    def _check_restartable(
        self, instance: JobInstance, parameters: JobParameters, statuses: Iterable[str]
    ) -> None:
        identifying = parameters.identifying()
        for text in statuses:
            status = BatchStatus.parse(text)
            if status is not None and status.is_running:
                raise JobExecutionAlreadyRunningError(
                    f"A job execution for this job is already running: {instance}"
                )
            if status is BatchStatus.UNKNOWN:
                raise JobRestartError(
                    "Cannot restart job from UNKNOWN status. The last execution ended with a "
                    "failure that could not be rolled back, so it may be dangerous to proceed. "
                    "Manual intervention is probably necessary."
                )
            complete = status in (BatchStatus.COMPLETED, BatchStatus.ABANDONED)
            # 5.x lets a job without identifying parameters run again on the same instance.
            if complete and (self.major >= 6 or len(identifying) > 0):
                raise JobInstanceAlreadyCompleteError(
                    "A job instance already exists and is complete for identifying "
                    f"parameters={identifying!r}. If you want to run this job again, change "
                    "the parameters."
                )

    def _insert_execution(
        self,
        c: Connection,
        instance: JobInstance,
        parameters: JobParameters,
        context: ExecutionContext,
    ) -> JobExecution:
        now = self.now()
        execution = JobExecution(
            instance,
            parameters,
            id=self.ids["job_execution"].next_id(c),
            create_time=now,
            # 6.0 leaves LAST_UPDATED empty on insert; 5.2 writes the creation time.
            last_updated=now if self.major == 5 else None,
            version=0,
            execution_context=context,
        )
        e = self.tables.job_execution
        c.execute(
            e.insert().values(
                job_execution_id=execution.id,
                job_instance_id=instance.id,
                start_time=None,
                end_time=None,
                status=execution.status.value,
                exit_code=execution.exit_status.exit_code,
                exit_message=execution.exit_status.exit_description,
                version=0,
                create_time=now,
                last_updated=execution.last_updated,
            )
        )
        rows = []
        for name, parameter in parameters.items():
            type_name, value, identifying = encode_parameter(parameter)
            rows.append(
                {
                    "job_execution_id": execution.id,
                    "parameter_name": name,
                    "parameter_type": type_name,
                    "parameter_value": value,
                    "identifying": identifying,
                }
            )
        if rows:
            c.execute(self.tables.job_execution_params.insert(), rows)
        assert execution.id is not None
        self.contexts.insert(
            c,
            self.tables.job_execution_context,
            "job_execution_id",
            execution.id,
            context,
            f"job execution {execution.id}",
        )
        return execution

    # -- job execution updates -------------------------------------------------------------

    def update_job_execution(self, execution: JobExecution) -> None:
        """Write the execution's status, times and exit status (versioned)."""
        if execution.id is None or execution.version is None:
            raise ValueError(f"{execution!r} was never saved")
        execution.last_updated = self.now()
        e = self.tables.job_execution
        with self._writing() as c:
            self._synchronize(c, execution)
            if execution.status is BatchStatus.STOPPING and execution.end_time is not None:
                execution.upgrade_status(BatchStatus.STOPPED)
            result = c.execute(
                e.update()
                .where(e.c.job_execution_id == execution.id, e.c.version == execution.version)
                .values(
                    start_time=execution.start_time,
                    end_time=execution.end_time,
                    status=execution.status.value,
                    exit_code=execution.exit_status.exit_code,
                    exit_message=_message(execution.exit_status.exit_description),
                    version=e.c.version + 1,
                    create_time=execution.create_time,
                    last_updated=execution.last_updated,
                )
            )
            self._check_updated(c, result.rowcount, e, "job", execution.id, execution.version)
        execution.version += 1

    def _job_row(self, c: Connection, execution: JobExecution) -> sa.Row[Any, Any] | None:
        """The job execution's stored version and status."""
        e = self.tables.job_execution
        return c.execute(
            sa.select(e.c.version, e.c.status).where(e.c.job_execution_id == execution.id)
        ).first()

    def _synchronize(
        self, c: Connection, execution: JobExecution, row: sa.Row[Any, Any] | None = None
    ) -> None:
        """Adopt a newer version and merge its status (Java's ``synchronizeStatus``), from
        ``row`` when it was read already."""
        if row is None:
            row = self._job_row(c, execution)
        if row is not None and row.version is not None and row.version != execution.version:
            status = BatchStatus.parse(row.status)
            if status is not None:
                execution.upgrade_status(status)
            execution.version = int(row.version)

    def _check_updated(
        self, c: Connection, rowcount: int, table: sa.Table, what: str, id_: int, version: int
    ) -> None:
        if rowcount == 1:
            return
        key = table.c[f"{what}_execution_id"]
        current = c.execute(sa.select(table.c.version).where(key == id_)).scalar()
        if current is None:
            raise OptimisticLockingFailureError(f"{what} execution {id_} does not exist")
        raise OptimisticLockingFailureError(
            f"Attempt to update {what} execution id={id_} with wrong version ({version}), "
            f"where current version is {current}"
        )

    # -- step executions -------------------------------------------------------------------

    def add(self, step: StepExecution) -> None:
        """Save a new step execution and its context."""
        self.add_all([step])

    def add_all(self, steps: Iterable[StepExecution]) -> None:
        """Save new step executions and their contexts in one transaction."""
        s = self.tables.step_execution
        with self._writing() as c:
            for step in steps:
                if step.job_execution.id is None:
                    raise ValueError(f"{step!r} belongs to an unsaved job execution")
                now = self.now()
                step.create_time = step.create_time or now
                step.last_updated = now if self.major == 5 else None
                step.id = self.ids["step_execution"].next_id(c)
                step.version = 0
                c.execute(s.insert().values(self._step_values(step, insert=True)))
                self.contexts.insert(
                    c,
                    self.tables.step_execution_context,
                    "step_execution_id",
                    step.id,
                    step.execution_context,
                    f"step execution {step.id}",
                )

    def _step_values(self, step: StepExecution, *, insert: bool) -> dict[str, Any]:
        s = self.tables.step_execution
        values: dict[str, Any] = {
            "start_time": step.start_time,
            "end_time": step.end_time,
            "status": step.status.value,
            "commit_count": step.commit_count,
            "read_count": step.read_count,
            "filter_count": step.filter_count,
            "write_count": step.write_count,
            "exit_code": step.exit_status.exit_code,
            "exit_message": _message(step.exit_status.exit_description),
            "version": 0 if insert else s.c.version + 1,
            "read_skip_count": step.read_skip_count,
            "process_skip_count": step.process_skip_count,
            "write_skip_count": step.write_skip_count,
            "rollback_count": step.rollback_count,
            "last_updated": step.last_updated,
        }
        if insert:
            values |= {
                "step_execution_id": step.id,
                "step_name": step.step_name,
                "job_execution_id": step.job_execution.id,
                "create_time": step.create_time,
            }
        return values

    def update_step_execution(self, step: StepExecution) -> None:
        """Write the step's status, counters and exit status (versioned); then notice a stop
        requested on its job execution (``terminate_only``)."""
        if step.id is None or step.version is None:
            raise ValueError(f"{step!r} was never saved")
        step.last_updated = self.now()
        s = self.tables.step_execution
        with self._writing() as c:
            job_row = None
            if self.major >= 6:
                # One read of the job's row serves both checks: the stop adopted before the
                # update, and the status synchronized after it (a stop that lands in between
                # is seen at the next update, a chunk later).
                job_row = self._job_row(c, step.job_execution)
                self._adopt_stopped_step(c, step, job_row)
            result = c.execute(
                s.update()
                .where(s.c.step_execution_id == step.id, s.c.version == step.version)
                .values(self._step_values(step, insert=False))
            )
            self._check_updated(c, result.rowcount, s, "step", step.id, step.version)
            step.version += 1
            self._synchronize(c, step.job_execution, job_row)
        if step.job_execution.is_stopping:
            step.terminate_only = True

    def _adopt_stopped_step(
        self, c: Connection, step: StepExecution, job_row: sa.Row[Any, Any] | None
    ) -> None:
        # 6.0: when the job was stopped from outside, the step's row may carry a newer version.
        s = self.tables.step_execution
        job_status = None if job_row is None else job_row.status
        if job_status not in ("STOPPING", "STOPPED"):
            return
        row = c.execute(
            sa.select(s.c.version, s.c.status).where(s.c.step_execution_id == step.id)
        ).first()
        if row is not None and row.version != step.version:
            step.version = int(row.version)
            status = BatchStatus.parse(row.status)
            if status is not None and status > step.status:
                step.status = status

    # -- contexts and dispatch ---------------------------------------------------------------

    def update_execution_context(self, execution: JobExecution | StepExecution) -> None:
        """Write the execution context of a job or step execution."""
        kind = "step" if isinstance(execution, StepExecution) else "job"
        self._land(
            f"saving the context of {kind} execution {execution.id}",
            execution,
            lambda: self._update_context(execution),
        )

    def _update_context(self, execution: JobExecution | StepExecution) -> None:
        with self._writing() as c:
            if isinstance(execution, StepExecution):
                assert execution.id is not None
                self.contexts.update(
                    c,
                    self.tables.step_execution_context,
                    "step_execution_id",
                    execution.id,
                    execution.execution_context,
                    f"step execution {execution.id}",
                )
            else:
                assert execution.id is not None
                self.contexts.update(
                    c,
                    self.tables.job_execution_context,
                    "job_execution_id",
                    execution.id,
                    execution.execution_context,
                    f"job execution {execution.id}",
                )

    def update_with_context(self, step: StepExecution) -> None:
        """Save a step execution, then its context, in one transaction (one write to land:
        a finished step's save, which Spring Batch 6 makes as two)."""

        def write() -> None:
            with self._writing():  # both join it; the guard checks it once
                self.update_step_execution(step)
                self._update_context(step)

        self._land(f"saving step execution {step.id}", step, write)

    def update(self, execution: JobExecution | StepExecution) -> None:
        """Update a job or a step execution (Java's overloaded ``update``)."""
        if isinstance(execution, StepExecution):
            step = execution
            self._land(
                f"saving step execution {step.id}", step, lambda: self.update_step_execution(step)
            )
        else:
            job = execution
            self._land(
                f"saving job execution {job.id}", job, lambda: self.update_job_execution(job)
            )

    def get_last_job_execution_by(
        self, job_name: str, parameters: JobParameters
    ) -> JobExecution | None:
        """The last execution of the instance of ``job_name`` with these parameters."""
        instance = self.find_job_instance(job_name, parameters)
        return None if instance is None else self.get_last_job_execution(instance)
