"""Jobs: ordered steps, or a flow of steps with transitions on exit codes.

:meth:`Job.execute` follows Spring Batch's ``AbstractJob.execute`` and its step handler: a step
whose last execution in this job instance COMPLETED is not run again on restart (unless it allows
it), a restarted step starts from its last execution's context, a stop request ends the job
STOPPED between steps, and a job that ran no step ends with exit code NOOP. With a Spring Batch 6
repository the finished execution is saved before ``after_job`` as well as after it, as 6.0 does.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from springbatch_py.core import tracing
from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.errors import (
    JobInterruptedError,
    JobParametersInvalidError,
)
from springbatch_py.core.listeners import Listeners
from springbatch_py.core.parameters import JobParameter, JobParameters
from springbatch_py.core.partition import PartitionHandler
from springbatch_py.core.restart import EXECUTED_KEY, plan_start
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.core.step import Repository, Step
from springbatch_py.java.types import Long

log = logging.getLogger(__name__)


class JobParametersIncrementer(Protocol):
    """Computes the parameters of the next instance from the last one's (or None)."""

    def get_next(self, parameters: JobParameters | None) -> JobParameters: ...


class RunIdIncrementer:
    """Adds ``run.id`` (a Long) one higher than the last instance's."""

    def __init__(self, key: str = "run.id") -> None:
        self.key = key

    def get_next(self, parameters: JobParameters | None) -> JobParameters:
        """The given parameters with ``run.id`` incremented (1 when absent)."""
        parameters = parameters or JobParameters.empty()
        previous = parameters.get(self.key)
        current = int(previous.value) if previous is not None else 0
        return parameters.with_parameter(self.key, JobParameter(Long(current + 1)))


# -- flows -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndState:
    """Where a flow ends: the job's status and exit code."""

    status: BatchStatus
    exit_code: str


END = EndState(BatchStatus.COMPLETED, "COMPLETED")
FAIL = EndState(BatchStatus.FAILED, "FAILED")
STOP = EndState(BatchStatus.STOPPED, "STOPPED")

Target = Step | EndState


def _specificity(pattern: str) -> tuple[int, int, int]:
    # Exact codes first, then fewer wildcards, then longer patterns (Java sorts likewise).
    return (pattern.count("*"), pattern.count("?"), -len(pattern))


class Flow:
    """Steps and the transitions between them on exit codes (``*`` and ``?`` wildcards)."""

    def __init__(self, start: Step, transitions: dict[str, list[tuple[str, Target]]]) -> None:
        self.start = start
        self.transitions = {
            name: sorted(items, key=lambda item: _specificity(item[0]))
            for name, items in transitions.items()
        }
        self.steps: dict[str, Step] = {start.name: start}
        for items in transitions.values():
            for _, target in items:
                if isinstance(target, Step):
                    self.steps.setdefault(target.name, target)

    def next_target(self, step: Step, exit_code: str) -> Target:
        """Where the flow goes after ``step`` ended with ``exit_code``."""
        items = self.transitions.get(step.name, [])
        for pattern, target in items:
            if fnmatch.fnmatchcase(exit_code, pattern):
                return target
        if not items:
            # A step without transitions ends the flow: completed, or failed for anything else.
            return END if exit_code == "COMPLETED" else FAIL
        return FAIL if exit_code.startswith("FAILED") else END


class FlowBuilder:
    """Builds a :class:`Flow`::

    flow = (FlowBuilder(load)
            .on("FAILED").to(cleanup)
            .from_(load).on("*").to(report)
            .build())
    """

    def __init__(self, start: Step) -> None:
        self._start = start
        self._current = start
        self._transitions: dict[str, list[tuple[str, Target]]] = {}

    def on(self, pattern: str) -> _On:
        """Transitions for exit codes matching ``pattern`` from the current step."""
        return _On(self, pattern)

    def next(self, step: Step) -> FlowBuilder:
        """Go on to ``step`` when the current step's exit code is COMPLETED."""
        self._add(self._current, "COMPLETED", step)
        self._current = step
        return self

    def from_(self, step: Step) -> FlowBuilder:
        """Continue declaring transitions from ``step``."""
        self._current = step
        return self

    def _add(self, source: Step, pattern: str, target: Target) -> None:
        self._transitions.setdefault(source.name, []).append((pattern, target))

    def build(self) -> Flow:
        """The flow."""
        return Flow(self._start, self._transitions)


class _On:
    def __init__(self, builder: FlowBuilder, pattern: str) -> None:
        self._builder = builder
        self._pattern = pattern

    def to(self, step: Step) -> FlowBuilder:
        self._builder._add(self._builder._current, self._pattern, step)
        self._builder._current = step
        return self._builder

    def end(self, exit_code: str = "COMPLETED") -> FlowBuilder:
        end = EndState(BatchStatus.COMPLETED, exit_code)
        self._builder._add(self._builder._current, self._pattern, end)
        return self._builder

    def fail(self) -> FlowBuilder:
        self._builder._add(self._builder._current, self._pattern, FAIL)
        return self._builder

    def stop(self) -> FlowBuilder:
        self._builder._add(self._builder._current, self._pattern, STOP)
        return self._builder


# -- jobs --------------------------------------------------------------------------------------


class Job:
    """A named job: steps in order, or a :class:`Flow`.

    Parameters
    ----------
    name:
        The job name (``JOB_NAME``).
    steps:
        Steps run in order; the job stops at the first step that does not complete.
    flow:
        A flow instead of ``steps``.
    restartable:
        Whether a FAILED or STOPPED instance may be started again.
    incrementer:
        Computes the next instance's parameters (see :class:`RunIdIncrementer`).
    validator:
        Called with the parameters before a launch; raises to refuse them.
    listeners:
        Job listeners (``before_job``, ``after_job``).
    """

    def __init__(
        self,
        name: str,
        steps: Sequence[Step] = (),
        *,
        flow: Flow | None = None,
        restartable: bool = True,
        incrementer: JobParametersIncrementer | None = None,
        validator: Callable[[JobParameters], None] | None = None,
        listeners: Iterable[Any] = (),
    ) -> None:
        if not name:
            raise ValueError("a job needs a name")
        if bool(steps) == (flow is not None):
            raise ValueError("a job needs either steps or a flow")
        self.name = name
        self.steps = list(steps)
        self.flow = flow
        self.restartable = restartable
        self.incrementer = incrementer
        self.validator = validator
        self.listeners = Listeners(listeners)

    def __repr__(self) -> str:
        return f"<Job {self.name!r}>"

    @property
    def step_names(self) -> list[str]:
        """Names of every step of the job."""
        return list(self.flow.steps) if self.flow is not None else [s.name for s in self.steps]

    def get_step(self, name: str) -> Step | None:
        """The step called ``name``."""
        if self.flow is not None:
            return self.flow.steps.get(name)
        return next((s for s in self.steps if s.name == name), None)

    def validate(self, parameters: JobParameters) -> None:
        """Refuse invalid parameters (raises :class:`JobParametersInvalidError`)."""
        if self.validator is None:
            return
        try:
            self.validator(parameters)
        except JobParametersInvalidError:
            raise
        except Exception as exc:
            raise JobParametersInvalidError(str(exc)) from exc

    def execute(
        self,
        execution: JobExecution,
        repository: Repository,
        *,
        partition_handler: PartitionHandler | None = None,
    ) -> None:
        """Run the job for a created execution and record the outcome; ``partition_handler``
        runs the partitions of its partitioned steps (see :mod:`springbatch_py.core.partition`)."""
        with tracing.job_span(execution):
            self._execute_job(execution, repository, partition_handler)

    def _execute_job(
        self,
        execution: JobExecution,
        repository: Repository,
        partition_handler: PartitionHandler | None,
    ) -> None:
        try:
            self.validate(execution.job_parameters)
            if execution.status is not BatchStatus.STOPPING:
                execution.start_time = repository.now()
                execution.status = BatchStatus.STARTED
                execution.execution_context["batch.version"] = repository.batch_version
                repository.update(execution)
                self.listeners.call("before_job", execution)
                self._run(execution, repository, partition_handler)
            else:
                # Stopped before it began: handled like any other interruption.
                execution.status = BatchStatus.STOPPED
                execution.exit_status = ExitStatus.COMPLETED
        except JobInterruptedError as exc:
            execution.exit_status = ExitStatus.STOPPED.add_exit_description(type(exc).__name__)
            execution.status = BatchStatus.max(BatchStatus.STOPPED, exc.status)
            execution.add_failure_exception(exc)
        except Exception as exc:
            log.error("job %s failed", self.name, exc_info=exc)
            execution.exit_status = ExitStatus.FAILED.add_exit_description(exc)
            execution.status = BatchStatus.FAILED
            execution.add_failure_exception(exc)
        finally:
            if execution.status <= BatchStatus.STOPPED and not execution.step_executions:
                execution.exit_status = execution.exit_status.and_(
                    ExitStatus.NOOP.add_exit_description(
                        "All steps already completed or no steps configured for this job."
                    )
                )
            execution.end_time = repository.now()
            if repository.major >= 6:
                # 6.0 saves the finished execution before the listeners too.
                repository.update(execution)
            try:
                self.listeners.call("after_job", execution)
            except Exception:
                log.exception("exception in after_job of job %s", self.name)
            repository.update(execution)

    def _run(
        self,
        execution: JobExecution,
        repository: Repository,
        partition_handler: PartitionHandler | None,
    ) -> None:
        if self.flow is None:
            last: StepExecution | None = None
            for each in self.steps:
                last = handle_step(each, execution, repository, partition_handler)
                if last.status is not BatchStatus.COMPLETED:
                    break
            if last is not None:
                execution.upgrade_status(last.status)
                execution.exit_status = last.exit_status
            return
        step: Step = self.flow.start
        while True:
            result = handle_step(step, execution, repository, partition_handler)
            target = self.flow.next_target(step, result.exit_status.exit_code)
            if isinstance(target, EndState):
                if target.status is BatchStatus.STOPPED:
                    execution.status = BatchStatus.STOPPING  # so the job ends STOPPED
                    raise JobInterruptedError("Flow stopped", status=BatchStatus.STOPPED)
                execution.upgrade_status(target.status)
                failed = target.status is BatchStatus.FAILED
                description = result.exit_status.exit_description if failed else ""
                execution.exit_status = ExitStatus(target.exit_code, description)
                return
            step = target


def handle_step(
    step: Step,
    execution: JobExecution,
    repository: Repository,
    partition_handler: PartitionHandler | None = None,
) -> StepExecution:
    """Run ``step`` within ``execution`` unless its last execution already completed (see
    :func:`~springbatch_py.core.restart.plan_start`).

    Returns the new step execution, or the completed one of an earlier job execution.
    """
    if execution.is_stopping:
        raise JobInterruptedError("JobExecution interrupted.")
    instance = execution.job_instance
    last = repository.get_last_step_execution(instance, step.name)
    start = plan_start(
        step.name,
        last,
        execution,
        allow_start_if_complete=step.allow_start_if_complete,
        start_limit=step.start_limit,
        count_starts=lambda: repository.get_step_execution_count(instance, step.name),
    )
    if start is None:
        assert last is not None
        return last
    current = execution.create_step_execution(step.name)
    current.execution_context = start.context(ExecutionContext())
    repository.add(current)
    step.execute(current, repository, partition_handler=partition_handler)
    current.execution_context[EXECUTED_KEY] = True
    repository.update_execution_context(execution)
    if current.status in (BatchStatus.STOPPING, BatchStatus.STOPPED):
        execution.status = BatchStatus.STOPPING
        raise JobInterruptedError("Job interrupted by step execution")
    return current
