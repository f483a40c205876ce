"""The restart rule a job's steps and a partitioned step's partitions share, without a database."""

from __future__ import annotations

import pytest

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import JobExecution, JobInstance, StepExecution
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobRestartError,
    StartLimitExceededError,
)
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.restart import plan_start
from springbatch_py.core.status import BatchStatus

INSTANCE = JobInstance(1, "job")


def _execution(execution_id: int) -> JobExecution:
    return JobExecution(INSTANCE, JobParameters.empty(), id=execution_id)


def _last(status: BatchStatus, *, execution_id: int = 1) -> StepExecution:
    last = StepExecution("step", _execution(execution_id), id=10, status=status)
    last.execution_context = ExecutionContext({"read": 5, "batch.executed": True})
    return last


NOW = _execution(2)


def test_a_step_without_an_earlier_execution_starts_fresh() -> None:
    start = plan_start("step", None, NOW, allow_start_if_complete=False)
    assert start is not None and start.resumed is None
    fresh = ExecutionContext({"fresh": 1})
    assert start.context(fresh) is fresh


def test_an_execution_of_the_same_job_execution_is_run_again_fresh() -> None:
    last = _last(BatchStatus.COMPLETED, execution_id=2)
    start = plan_start("step", last, NOW, allow_start_if_complete=False, refuse_unfinished=True)
    assert start is not None and start.resumed is None


@pytest.mark.parametrize("status", [BatchStatus.FAILED, BatchStatus.STOPPED])
def test_a_failed_or_stopped_step_resumes_from_its_context(status: BatchStatus) -> None:
    last = _last(status)
    start = plan_start("step", last, NOW, allow_start_if_complete=False)
    assert start is not None and start.resumed is last
    context = start.context(ExecutionContext({"fresh": 1}))
    assert context.to_dict() == {"read": 5}  # without batch.executed
    assert context is not last.execution_context


def test_a_completed_step_is_skipped_unless_it_allows_a_start() -> None:
    last = _last(BatchStatus.COMPLETED)
    assert plan_start("step", last, NOW, allow_start_if_complete=False) is None
    start = plan_start("step", last, NOW, allow_start_if_complete=True)
    assert start is not None and start.resumed is None


def test_unknown_is_refused() -> None:
    with pytest.raises(JobRestartError, match="UNKNOWN"):
        plan_start("step", _last(BatchStatus.UNKNOWN), NOW, allow_start_if_complete=True)


def test_the_start_limit_counts_only_when_asked() -> None:
    last = _last(BatchStatus.FAILED)
    with pytest.raises(StartLimitExceededError, match="step StartMax: 2"):
        plan_start(
            "step", last, NOW, allow_start_if_complete=False, start_limit=2, count_starts=lambda: 2
        )
    start = plan_start(
        "step", last, NOW, allow_start_if_complete=False, start_limit=2, count_starts=lambda: 1
    )
    assert start is not None
    assert plan_start("step", last, NOW, allow_start_if_complete=False, start_limit=0) is not None


def test_a_skipped_step_does_not_count_its_starts() -> None:
    def never() -> int:
        raise AssertionError("counted")

    last = _last(BatchStatus.COMPLETED)
    assert plan_start("step", last, NOW, allow_start_if_complete=False, count_starts=never) is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (BatchStatus.STARTED, JobExecutionAlreadyRunningError),
        (BatchStatus.STOPPING, JobExecutionAlreadyRunningError),
        (BatchStatus.ABANDONED, JobRestartError),
    ],
)
def test_partitions_refuse_what_may_still_run_or_was_abandoned(
    status: BatchStatus, error: type[Exception]
) -> None:
    last = _last(status)
    with pytest.raises(error):
        plan_start("step", last, NOW, allow_start_if_complete=False, refuse_unfinished=True)
    start = plan_start("step", last, NOW, allow_start_if_complete=False)
    assert start is not None and start.resumed is last  # a job's step runs it again
