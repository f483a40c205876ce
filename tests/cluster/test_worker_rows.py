"""A partition's worker step writes its rows as the schema's Spring Batch major does, as a step
run by the job itself would (issue 11, item 7): the fenced repository a worker step writes
through reports the major and ``batch.version`` of the node's repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from springbatch_py.cluster import ClusterSettings, FunctionPartitioner, Node, PartitionStep
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.job import Job
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.item import IterableItemReader
from springbatch_py.java.types import Long
from springbatch_py.repository.jobs import JobRepository

SETTINGS = ClusterSettings(
    node_id_prefix="rows",
    heartbeat_interval=500,
    unreachable_node_threshold=30000,
    node_cleanup_threshold=60000,
    task_polling_interval=100,
    master_task_status_check_interval=100,
    concurrency_limit_per_node=2,
)


def _worker(execution: StepExecution) -> ChunkStep:
    context = execution.execution_context
    numbers = range(context.get_long("start"), context.get_long("end"))
    return ChunkStep(
        "count",
        reader=IterableItemReader(numbers, name="numbers"),
        writer=lambda items: None,
        commit_interval=10,
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("major", [5, 6])
def test_worker_steps_write_the_majors_rows(tmp_path: Path, major: int) -> None:
    url = f"sqlite:///{tmp_path / 'rows.db'}"
    with Database.open(url) as db:
        create_schema(db, major=major)
    partitioner = FunctionPartitioner(
        lambda nodes: [{"start": Long(i * 50), "end": Long((i + 1) * 50)} for i in range(2)]
    )
    job = Job("rows", [PartitionStep("rows.manager", worker="count", partitioner=partitioner)])
    with Node(url, steps={"count": _worker}, settings=SETTINGS) as node:
        node.repository.batch_version = "6.0.4"
        execution = node.launch(job, {"run": "1"})
        assert execution.status is BatchStatus.COMPLETED
        assert execution.id is not None
        stored = JobRepository(node.db).get_job_execution(execution.id)
        assert stored is not None
        workers = [s for s in stored.step_executions if s.step_name.startswith("count:")]
    assert len(workers) == 2
    for step in workers:
        context = step.execution_context
        assert context["batch.version"] == "6.0.4"
        if major >= 6:
            assert context["batch.stepType"] == (
                "org.springframework.batch.core.step.item.ChunkOrientedStep"
            )
            assert "batch.taskletType" not in context
            assert step.commit_count == 5  # 50 items at 10: the final empty read is not counted
        else:
            assert context["batch.stepType"] == (
                "org.springframework.batch.core.step.tasklet.TaskletStep"
            )
            assert context["batch.taskletType"] == (
                "org.springframework.batch.core.step.item.ChunkOrientedTasklet"
            )
            assert step.commit_count == 6
