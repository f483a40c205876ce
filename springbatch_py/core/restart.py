"""Which steps a launch runs again: one rule for the steps of a job and for partitions.

Spring Batch decides it in two places, alike: its step handler for the steps of a job, its step
execution splitter for the partitions of a manager step. Given the last execution of a step (or
partition) in the job instance:

* none, or one of this very job execution: it starts, from a fresh context;
* UNKNOWN: refused (:class:`JobRestartError`): it may have committed work it did not record;
* COMPLETED: not run again, unless the step allows a start when complete (then from a fresh
  context);
* FAILED, STOPPED (or anything else): it runs again, resuming from that execution's context.

A job's steps also count their starts against the step's ``start_limit``; partitions do not.
Partitions run on other nodes, so a partition whose last execution may still be running, or was
ABANDONED, is refused too (a job's steps are guarded by the launcher's own checks instead).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobRestartError,
    StartLimitExceededError,
)
from springbatch_py.core.status import BatchStatus

#: The context key a job marks its finished steps with (not carried into a restart).
EXECUTED_KEY = "batch.executed"


@dataclass(frozen=True)
class Start:
    """A step (or partition) that runs: from a fresh context, or resuming ``resumed``'s."""

    #: The last execution, FAILED or STOPPED, whose context the new one resumes from.
    resumed: StepExecution | None = None

    def context(self, fresh: ExecutionContext) -> ExecutionContext:
        """The new execution's context: a copy of the resumed one's, or ``fresh``."""
        if self.resumed is None:
            return fresh
        context = self.resumed.execution_context.copy()
        context.pop(EXECUTED_KEY, None)
        return context


def plan_start(
    name: str,
    last: StepExecution | None,
    execution: JobExecution,
    *,
    allow_start_if_complete: bool,
    start_limit: int = sys.maxsize,
    count_starts: Callable[[], int] | None = None,
    refuse_unfinished: bool = False,
) -> Start | None:
    """Whether the step (or partition) ``name`` runs in ``execution``, and from which context;
    None when its last execution COMPLETED and it stays so.

    Parameters
    ----------
    last:
        The step's last execution in the job instance, if any.
    allow_start_if_complete:
        Run again even when the last execution COMPLETED.
    start_limit, count_starts:
        With ``count_starts`` (how many times the step started in the instance), a step that
        already started ``start_limit`` times is refused (:class:`StartLimitExceededError`).
    refuse_unfinished:
        Refuse a last execution that may still be running (:class:`JobExecutionAlreadyRunningError`)
        or that was ABANDONED (:class:`JobRestartError`).
    """
    if last is None or last.job_execution.id == execution.id:
        # None, or run again within the same job execution: intentional (e.g. a loop).
        return Start()
    if last.status is BatchStatus.UNKNOWN:
        raise JobRestartError(
            "Cannot restart step from UNKNOWN status. The last execution ended with a failure "
            "that could not be rolled back, so it may be dangerous to proceed. Manual "
            "intervention is probably necessary."
        )
    if refuse_unfinished:
        if last.status.is_running:
            raise JobExecutionAlreadyRunningError(
                f"step [{last.step_name}] may still be executing (status {last.status.name})"
            )
        if last.status is BatchStatus.ABANDONED:
            raise JobRestartError(f"step [{last.step_name}] was ABANDONED and cannot be restarted")
    complete = last.status is BatchStatus.COMPLETED
    if complete and not allow_start_if_complete:
        return None
    if count_starts is not None and count_starts() >= start_limit:
        raise StartLimitExceededError(
            f"Maximum start limit exceeded for step: {name} StartMax: {start_limit}"
        )
    return Start(None if complete else last)
