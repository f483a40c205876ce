"""The partition handler travels with the launch (launcher, job, step), without a database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from springbatch_py.cluster import FunctionPartitioner, PartitionStep
from springbatch_py.core.domain import JobExecution, JobInstance, StepExecution
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.partition import PartitionResult
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import Repository, ScopedStep, Step


class MemoryRepository:
    """Just what a job and its steps call (:class:`Repository`), in memory."""

    major = 5
    batch_version = "test"

    def __init__(self) -> None:
        self.executions: list[JobExecution] = []
        self.steps: list[StepExecution] = []

    def now(self) -> datetime:
        return datetime(2024, 1, 31, 12, 0)

    def update(self, execution: JobExecution | StepExecution) -> None:
        execution.version = (execution.version or 0) + 1

    def update_execution_context(self, execution: JobExecution | StepExecution) -> None:
        pass

    def transaction(self) -> AbstractContextManager[object]:
        @contextmanager
        def nothing() -> Iterator[None]:
            yield None

        return nothing()

    def create_job_execution(self, job_name: str, parameters: JobParameters) -> JobExecution:
        execution = JobExecution(
            JobInstance(1, job_name), parameters, id=len(self.executions) + 1, version=0
        )
        self.executions.append(execution)
        return execution

    def get_last_job_execution_by(
        self, job_name: str, parameters: JobParameters
    ) -> JobExecution | None:
        return None

    def get_last_step_execution(
        self, instance: JobInstance, step_name: str
    ) -> StepExecution | None:
        return None

    def get_step_execution_count(self, instance: JobInstance, step_name: str) -> int:
        return 0

    def add(self, step: StepExecution) -> None:
        self.steps.append(step)
        step.id, step.version = len(self.steps), 0


class OnePartition:
    """A handler that runs one partition of 7 items in memory."""

    def __init__(self, *, failed: int = 0) -> None:
        self.failed = failed
        self.handled: list[tuple[Step, StepExecution]] = []

    def handle(self, step: Step, manager: StepExecution) -> PartitionResult:
        self.handled.append((step, manager))
        worker = StepExecution("sum:0", manager.job_execution, id=99, status=BatchStatus.COMPLETED)
        worker.read_count = worker.write_count = 7
        return PartitionResult([worker], failed=self.failed)


def _partitioned(name: str = "job.manager") -> PartitionStep:
    return PartitionStep(name, worker="sum", partitioner=FunctionPartitioner(lambda nodes: []))


def _repository() -> Repository:
    return MemoryRepository()


def test_the_launch_hands_the_handler_to_the_partitioned_step() -> None:
    handler = OnePartition()
    step = _partitioned()
    launcher = JobLauncher(_repository(), partition_handler=handler)
    execution = launcher.run(Job("job", [step]), {"run": "1"})
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    ((handled, manager),) = handler.handled
    assert handled is step
    assert (manager.read_count, manager.write_count) == (7, 7)


def test_a_scoped_step_passes_the_handler_on() -> None:
    handler = OnePartition()
    built = _partitioned("scoped")
    execution = JobLauncher(_repository(), partition_handler=handler).run(
        Job("job", [ScopedStep("scoped", lambda _: built)]), {"run": "1"}
    )
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    assert [step for step, _ in handler.handled] == [built]


def test_failed_partitions_fail_the_manager() -> None:
    execution = JobLauncher(_repository(), partition_handler=OnePartition(failed=1)).run(
        Job("job", [_partitioned()]), {"run": "1"}
    )
    (manager,) = execution.step_executions
    assert manager.status is BatchStatus.FAILED
    assert "1 of 1 partition(s) FAILED" in manager.exit_status.exit_description


def test_without_a_handler_the_partitioned_step_fails_saying_it_runs_on_a_node() -> None:
    execution = JobLauncher(_repository()).run(Job("job", [_partitioned()]), {"run": "1"})
    assert execution.status is BatchStatus.FAILED
    (manager,) = execution.step_executions
    assert manager.status is BatchStatus.FAILED
    assert "runs on a node: launch its job with node.launch" in manager.exit_status.exit_description
