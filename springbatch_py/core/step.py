"""Steps: the execution template every step shares, and the tasklet step.

:meth:`Step.execute` follows Spring Batch's ``AbstractStep.execute``: mark the execution STARTED
and save it, call ``before_step`` and open the streams, do the work, decide the status (COMPLETED,
STOPPED when interrupted, FAILED otherwise), call ``after_step``, save the context and the
execution (a save that fails turns the step UNKNOWN: it must not be restarted blindly), close.

What differs between the Spring Batch majors follows the repository's ``major``: Spring Batch 6
saves a finished step once more, before ``after_step`` (its ``AbstractStep`` saves the execution
and its context both before and after the listeners).

A step sees its repository as a :class:`StepRepository`: the few calls steps make, nothing more.
Jobs and the launcher need a :class:`Repository`, which adds what they read and create.
"""

from __future__ import annotations

import enum
import logging
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from springbatch_py import __version__
from springbatch_py.core import metrics, tracing
from springbatch_py.core.domain import JobExecution, JobInstance, StepContribution, StepExecution
from springbatch_py.core.errors import JobInterruptedError
from springbatch_py.core.listeners import Listeners
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.status import BatchStatus, ExitStatus

if TYPE_CHECKING:
    from springbatch_py.core.partition import PartitionHandler

log = logging.getLogger(__name__)

#: What springbatch-py writes under ``batch.version`` by default (Java writes its jar version;
#: a repository may be given another).
BATCH_VERSION = f"springbatch-py {__version__}"


class StepRepository(Protocol):
    """What steps call on a job repository (implemented over SQL by
    :class:`springbatch_py.repository.jobs.JobRepository`)."""

    @property
    def major(self) -> int:
        """The Spring Batch major whose behaviour steps follow (5 or 6)."""
        ...

    @property
    def batch_version(self) -> str:
        """What goes under ``batch.version`` in job and step contexts (Java writes its jar
        version; springbatch-py :data:`BATCH_VERSION` by default)."""
        ...

    def now(self) -> datetime:
        """The repository's clock (wall-clock time of its zone, naive)."""
        ...

    def update(self, execution: StepExecution) -> None:
        """Save the step execution (versioned)."""
        ...

    def update_execution_context(self, execution: StepExecution) -> None:
        """Save the step execution's context."""
        ...

    def transaction(self) -> AbstractContextManager[object]:
        """A transaction of its own, which the repository's writes and the item writers on the
        same database join (one chunk)."""
        ...


class Repository(StepRepository, Protocol):
    """What jobs and the launcher need besides: saving job executions, finding the last
    execution of a step, creating executions."""

    def update(self, execution: JobExecution | StepExecution) -> None: ...
    def update_execution_context(self, execution: JobExecution | StepExecution) -> None: ...
    def create_job_execution(self, job_name: str, parameters: JobParameters) -> JobExecution: ...
    def get_last_job_execution_by(
        self, job_name: str, parameters: JobParameters
    ) -> JobExecution | None: ...
    def get_last_step_execution(
        self, instance: JobInstance, step_name: str
    ) -> StepExecution | None: ...
    def get_step_execution_count(self, instance: JobInstance, step_name: str) -> int: ...
    def add(self, step: StepExecution) -> None: ...


class RepeatStatus(enum.Enum):
    """What a tasklet returns: call me again, or I am done."""

    CONTINUABLE = "CONTINUABLE"
    FINISHED = "FINISHED"


@dataclass
class ChunkContext:
    """What a tasklet or a chunk sees: its step execution and scratch attributes."""

    step_execution: StepExecution
    attributes: dict[str, Any] = field(default_factory=dict)
    complete: bool = False

    @property
    def job_parameters(self) -> JobParameters:
        """The parameters of the running job."""
        return self.step_execution.job_execution.job_parameters


class Step(ABC):
    """A step of a job.

    Parameters
    ----------
    name:
        The step name (``STEP_NAME``).
    allow_start_if_complete:
        Run again on restart even when the last execution COMPLETED.
    start_limit:
        How many times the step may be started within one job instance.
    listeners:
        Step (and, for chunk steps, chunk/item/skip) listeners.
    """

    #: Java class written under ``batch.stepType``, for Java tools reading the context.
    step_type: str = "org.springframework.batch.core.step.AbstractStep"

    def __init__(
        self,
        name: str,
        *,
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None:
        if not name:
            raise ValueError("a step needs a name")
        self.name = name
        self.allow_start_if_complete = allow_start_if_complete
        self.start_limit = start_limit
        self.listeners = Listeners(listeners)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def execute(
        self,
        step_execution: StepExecution,
        repository: StepRepository,
        *,
        partition_handler: PartitionHandler | None = None,
    ) -> None:
        """Run the step for ``step_execution`` (already saved), recording the outcome.

        ``partition_handler`` runs the partitions of a partitioned step: the launch hands it
        down (see :mod:`springbatch_py.core.partition`); other steps do not use it.
        """
        with tracing.step_span(step_execution):
            self._execute_step(step_execution, repository, partition_handler)

    def _execute_step(
        self,
        step_execution: StepExecution,
        repository: StepRepository,
        partition_handler: PartitionHandler | None,
    ) -> None:
        context = step_execution.execution_context
        context["batch.version"] = repository.batch_version
        context["batch.stepType"] = self.batch_step_type(repository)
        step_execution.start_time = repository.now()
        step_execution.status = BatchStatus.STARTED
        repository.update(step_execution)
        exit_status = ExitStatus.EXECUTING
        try:
            self.listeners.call("before_step", step_execution)
            self.open(step_execution)
            self._work(step_execution, repository, partition_handler)
            exit_status = ExitStatus.COMPLETED.and_(step_execution.exit_status)
            if step_execution.terminate_only:
                raise JobInterruptedError("JobExecution interrupted.")
            step_execution.upgrade_status(BatchStatus.COMPLETED)
        except Exception as exc:  # Java catches Throwable; KeyboardInterrupt still propagates
            interrupted = isinstance(exc, JobInterruptedError)
            step_execution.upgrade_status(
                BatchStatus.STOPPED if interrupted else BatchStatus.FAILED
            )
            exit_status = exit_status.and_(_failure_exit_status(exc))
            step_execution.add_failure_exception(exc)
            if not interrupted:
                log.error("step %s failed", self.name, exc_info=exc)
        finally:
            if repository.major >= 6:
                # 6.0 saves the finished execution before the listeners too (its issue 4362).
                step_execution.end_time = repository.now()
                exit_status = exit_status.and_(step_execution.exit_status)
                step_execution.exit_status = exit_status
                self._save_finished(step_execution, repository, exit_status)
                exit_status = self._after_step(step_execution, exit_status)
                step_execution.exit_status = exit_status
                self._save_finished(step_execution, repository, exit_status)
            else:
                exit_status = exit_status.and_(step_execution.exit_status)
                step_execution.exit_status = exit_status
                exit_status = self._after_step(step_execution, exit_status)
                try:
                    repository.update_execution_context(step_execution)
                except Exception as exc:
                    step_execution.status = BatchStatus.UNKNOWN
                    exit_status = exit_status.and_(ExitStatus.UNKNOWN)
                    step_execution.add_failure_exception(exc)
                    log.error("saving the context of step %s failed", self.name, exc_info=exc)
                step_execution.end_time = repository.now()
                step_execution.exit_status = exit_status
                try:
                    repository.update(step_execution)
                except Exception as exc:
                    step_execution.status = BatchStatus.UNKNOWN
                    step_execution.exit_status = exit_status.and_(ExitStatus.UNKNOWN)
                    step_execution.add_failure_exception(exc)
                    log.error("saving step execution %s failed", step_execution.id, exc_info=exc)
            try:
                self.close(step_execution)
            except Exception as exc:
                step_execution.add_failure_exception(exc)

    def _after_step(self, step_execution: StepExecution, exit_status: ExitStatus) -> ExitStatus:
        try:
            return exit_status.and_(self.listeners.after_step(step_execution))
        except Exception:
            log.exception("exception in after_step of step %s", self.name)
            return exit_status

    @staticmethod
    def _save_finished(
        step_execution: StepExecution, repository: StepRepository, exit_status: ExitStatus
    ) -> None:
        """Spring Batch 6's save of a finished step: the execution, then its context (in one
        transaction where the repository offers ``update_with_context``)."""
        try:
            together = getattr(repository, "update_with_context", None)
            if together is not None:
                together(step_execution)
            else:
                repository.update(step_execution)
                repository.update_execution_context(step_execution)
        except Exception as exc:
            step_execution.status = BatchStatus.UNKNOWN
            step_execution.exit_status = exit_status.and_(ExitStatus.UNKNOWN)
            step_execution.add_failure_exception(exc)
            log.error("saving step execution %s failed", step_execution.id, exc_info=exc)

    def _work(
        self,
        step_execution: StepExecution,
        repository: StepRepository,
        partition_handler: PartitionHandler | None,
    ) -> None:
        """The step's work inside the template: :meth:`do_execute` (a partitioned step runs its
        partitions with the launch's ``partition_handler`` instead)."""
        self.do_execute(step_execution, repository)

    def batch_step_type(self, repository: StepRepository) -> str:
        """The Java class name written under ``batch.stepType``."""
        return self.step_type

    def open(self, step_execution: StepExecution) -> None:  # noqa: B027 - optional hook
        """Open resources (item streams) from the step's context."""

    def close(self, step_execution: StepExecution) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    @abstractmethod
    def do_execute(self, step_execution: StepExecution, repository: StepRepository) -> None:
        """Do the step's work; raise to fail it."""


def _failure_exit_status(exc: BaseException) -> ExitStatus:
    if isinstance(exc, JobInterruptedError) or isinstance(exc.__cause__, JobInterruptedError):
        return ExitStatus.STOPPED.add_exit_description(type(exc).__name__)
    return ExitStatus.FAILED.add_exit_description(exc)


Tasklet = Callable[[StepContribution, ChunkContext], "RepeatStatus | None"]


class ChunkLoopStep(Step):
    """A step whose work is a loop of transactions (Java's ``TaskletStep``).

    Each iteration runs :meth:`run_chunk` in a transaction of the repository. After it returns,
    the contribution is applied, the commit count incremented, the streams' state and the step
    execution saved, all in that transaction. A failure rolls it all back and counts a rollback;
    a failure inside :meth:`run_chunk` keeps the chunk's counts (Java applies the contribution
    even then: a fault-tolerant chunk that is processed again is not read again), while a failure
    after it (saving the step, a lost partition's fence, the commit itself) restores every count
    to the last commit, so the counters always match what was committed. (Java's ``TaskletStep``
    then restores the write, filter and commit counts only; the read and skip counts are
    restored here too, since the restart reads those items again.) A stop requested on the job
    is honoured between iterations, never inside one: a finished chunk commits first.
    """

    step_type = "org.springframework.batch.core.step.tasklet.TaskletStep"

    def __init__(
        self,
        name: str,
        *,
        streams: Iterable[object] = (),
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None:
        super().__init__(
            name,
            allow_start_if_complete=allow_start_if_complete,
            start_limit=start_limit,
            listeners=listeners,
        )
        self.streams = list(streams)

    def open(self, step_execution: StepExecution) -> None:
        for stream in self.streams:
            opener = getattr(stream, "open", None)
            if opener is not None:
                opener(step_execution.execution_context)

    def close(self, step_execution: StepExecution) -> None:
        errors = []
        for stream in self.streams:
            closer = getattr(stream, "close", None)
            if closer is not None:
                try:
                    closer()
                except Exception as exc:
                    errors.append(exc)
        if errors:
            raise errors[0]

    def update_streams(self, step_execution: StepExecution) -> None:
        """Let every stream save its state into the step context."""
        for stream in self.streams:
            updater = getattr(stream, "update", None)
            if updater is not None:
                updater(step_execution.execution_context)

    def tasklet_type(self, repository: StepRepository) -> str | None:
        """The class name written under ``batch.taskletType`` (None writes none)."""
        return None

    def counts_commit(self, chunk_context: ChunkContext, repository: StepRepository) -> bool:
        """Whether the iteration that just ran adds one to ``COMMIT_COUNT``."""
        return True

    def do_execute(self, step_execution: StepExecution, repository: StepRepository) -> None:
        tasklet_type = self.tasklet_type(repository)
        if tasklet_type is not None:
            step_execution.execution_context["batch.taskletType"] = tasklet_type
        self.update_streams(step_execution)
        repository.update_execution_context(step_execution)
        chunk_context = ChunkContext(step_execution)
        for _ in _forever():
            # Java checks before and after each chunk's transaction, never inside it.
            _check_interrupted(step_execution)
            contribution = step_execution.create_contribution()
            committed = _Committed.of(step_execution)
            applied = False
            self.listeners.call("before_chunk", chunk_context)
            try:
                with repository.transaction():
                    try:
                        status = self.run_chunk(contribution, chunk_context)
                    finally:
                        # Java applies the contribution even when the chunk fails.
                        step_execution.apply(contribution)
                    applied = True
                    self.update_streams(step_execution)
                    repository.update_execution_context(step_execution)
                    if self.counts_commit(chunk_context, repository):
                        step_execution.commit_count += 1
                    repository.update(step_execution)
            except Exception as exc:
                # What was rolled back must not be saved later (the step's final save writes the
                # context): back to the state of the last commit, counts included once the
                # chunk itself had succeeded.
                committed.restore(step_execution, counts=applied)
                step_execution.rollback_count += 1
                self.listeners.call("after_chunk_error", chunk_context)
                if not self.continue_after(exc, step_execution):
                    # The saved counts keep the failed chunk's reads (Java's), but whoever
                    # resumes this very execution must start from the last commit.
                    step_execution.committed_counts = committed.item_counts()
                    raise
                continue
            metrics.current().chunk_committed(
                self.name, contribution.read_count, contribution.write_count
            )
            self.listeners.call("after_chunk", chunk_context)
            _check_interrupted(step_execution)
            if status is RepeatStatus.FINISHED:
                return

    def continue_after(self, exc: Exception, step_execution: StepExecution) -> bool:
        """Whether the loop goes on after a rolled-back iteration (fault tolerance)."""
        return False

    @abstractmethod
    def run_chunk(
        self, contribution: StepContribution, chunk_context: ChunkContext
    ) -> RepeatStatus:
        """One iteration, inside the transaction."""


class TaskletStep(ChunkLoopStep):
    """A step that calls a tasklet until it returns FINISHED (or None)."""

    def __init__(
        self,
        name: str,
        tasklet: Tasklet,
        *,
        streams: Iterable[object] = (),
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None:
        super().__init__(
            name,
            streams=streams,
            allow_start_if_complete=allow_start_if_complete,
            start_limit=start_limit,
            listeners=listeners,
        )
        self.tasklet = tasklet
        if hasattr(tasklet, "open") or hasattr(tasklet, "update"):
            self.streams.append(tasklet)

    def tasklet_type(self, repository: StepRepository) -> str | None:
        """The tasklet's Python class (or function) name, as Java writes its tasklet's class."""
        kind = type(self.tasklet)
        name = getattr(self.tasklet, "__qualname__", kind.__qualname__)
        return f"{kind.__module__}.{name}"

    def run_chunk(
        self, contribution: StepContribution, chunk_context: ChunkContext
    ) -> RepeatStatus:
        result = self.tasklet(contribution, chunk_context)
        return RepeatStatus.FINISHED if result is None else result


class ScopedStep(Step):
    """A step built anew for each execution, like a Java ``@StepScope`` bean.

    ``build`` receives the step execution (its job parameters are
    ``step_execution.job_execution.job_parameters``, its restart state
    ``step_execution.execution_context``) and returns the step that runs it, with readers and
    writers made for that execution::

        ScopedStep("load", lambda se: ChunkStep("load", reader=CsvItemReader(
            se.job_execution.job_parameters.get_value("input")), writer=..., commit_interval=100))

    Restart rules (``allow_start_if_complete``, ``start_limit``) are the scoped step's own.
    """

    def __init__(
        self,
        name: str,
        build: Callable[[StepExecution], Step],
        *,
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None:
        super().__init__(
            name,
            allow_start_if_complete=allow_start_if_complete,
            start_limit=start_limit,
            listeners=listeners,
        )
        self.build = build

    def execute(
        self,
        step_execution: StepExecution,
        repository: StepRepository,
        *,
        partition_handler: PartitionHandler | None = None,
    ) -> None:
        """Build the step for this execution, then run it."""
        try:
            step = self.build(step_execution)
            if not isinstance(step, Step):
                raise TypeError(f"the builder of step {self.name!r} returned {step!r}")
        except Exception as exc:
            _FailedBuild(self.name, exc).execute(step_execution, repository)
            return
        step.execute(step_execution, repository, partition_handler=partition_handler)

    def do_execute(self, step_execution: StepExecution, repository: StepRepository) -> None:
        raise NotImplementedError("a scoped step runs the step its builder returns")


class _FailedBuild(Step):
    """Records a step whose builder raised as a FAILED step execution."""

    def __init__(self, name: str, error: Exception) -> None:
        super().__init__(name)
        self.error = error

    def do_execute(self, step_execution: StepExecution, repository: StepRepository) -> None:
        raise self.error


#: The item counts a chunk's contribution adds to its step execution.
_ITEM_COUNTS = (
    "read_count",
    "write_count",
    "filter_count",
    "read_skip_count",
    "process_skip_count",
    "write_skip_count",
)


@dataclass(frozen=True)
class _Committed:
    """A step execution's state as of its last committed chunk."""

    context: dict[str, Any]
    version: int | None
    commit_count: int
    counts: tuple[int, ...]

    @classmethod
    def of(cls, step_execution: StepExecution) -> _Committed:
        return cls(
            step_execution.execution_context.to_dict(),
            step_execution.version,
            step_execution.commit_count,
            tuple(getattr(step_execution, name) for name in _ITEM_COUNTS),
        )

    def item_counts(self) -> dict[str, int]:
        """The item counts, by attribute name."""
        return dict(zip(_ITEM_COUNTS, self.counts, strict=True))

    def restore(self, step_execution: StepExecution, *, counts: bool) -> None:
        """Back to this state; with ``counts``, the item counts too (a chunk whose commit
        failed after its contribution was applied)."""
        context = step_execution.execution_context  # the same object: streams may hold it
        context.clear()
        context.update(self.context)
        step_execution.version = self.version
        step_execution.commit_count = self.commit_count
        if counts:
            for name, value in zip(_ITEM_COUNTS, self.counts, strict=True):
                setattr(step_execution, name, value)


def _check_interrupted(step_execution: StepExecution) -> None:
    if step_execution.terminate_only:
        raise JobInterruptedError("Job interrupted status detected.")


def _forever() -> Iterator[int]:
    count = 0
    while True:
        yield count
        count += 1
