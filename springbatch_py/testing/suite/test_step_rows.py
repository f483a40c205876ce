"""The rows a job writes follow the schema's Spring Batch major, as Java's own jobs' rows do.

The expected figures were measured against real Spring Batch 5.2 and 6.0.4 on the same job
(issue 11, items 4 and 7):

* VERSION: 6.0 saves a finished job and a finished step once more (before the listeners as well
  as after them), so every finished row is one higher than in 5.x: job executions 2 vs 3, a
  tasklet step 3 vs 4, a failed chunk step 7 vs 8, a restarted chunk step 8 vs 9;
* COMMIT_COUNT: 5.x's ``TaskletStep`` counts the transaction of the final empty read, 6.0's
  ``ChunkOrientedStep`` does not (50 items at a commit interval of 10: 6 vs 5);
* the step context: a 5.x chunk step names ``TaskletStep`` and ``ChunkOrientedTasklet``, a 6.0
  one ``ChunkOrientedStep`` and no tasklet; ``batch.version`` is the writer's own by default.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import BATCH_VERSION, RepeatStatus, TaskletStep
from springbatch_py.item import IterableItemReader, SqlItemWriter
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.testing.suite.test_jobs import _ids, _reload

TASKLET_STEP = "org.springframework.batch.core.step.tasklet.TaskletStep"
CHUNK_ORIENTED_TASKLET = "org.springframework.batch.core.step.item.ChunkOrientedTasklet"
CHUNK_ORIENTED_STEP = "org.springframework.batch.core.step.item.ChunkOrientedStep"


def prepare(contribution: Any, context: Any) -> RepeatStatus:
    """A tasklet that does nothing once."""
    return RepeatStatus.FINISHED


def test_versions_commit_counts_and_step_types_follow_the_major(
    repository: JobRepository, target: sa.Table
) -> None:
    six = repository.major >= 6
    failing = {"on": True}

    def process(item: int) -> dict[str, int]:
        if item == 57 and failing["on"]:
            raise RuntimeError("item 57 is bad today")
        return {"id": item, "doubled": 2 * item}

    job = Job(
        "rows",
        [
            TaskletStep("prepare", prepare),
            ChunkStep(
                "items",
                reader=IterableItemReader(range(1, 101), name="numbers"),
                processor=process,
                writer=SqlItemWriter(repository.db, target.insert()),
                commit_interval=10,
            ),
        ],
    )
    launcher = JobLauncher(repository)
    first = launcher.run(job, {"run": "rows"})
    assert first.status is BatchStatus.FAILED
    assert first.id is not None
    stored = repository.get_job_execution(first.id)
    assert stored is not None and stored.version == (3 if six else 2)

    tasklet = _reload(repository, first, "prepare")
    assert tasklet.version == (4 if six else 3)
    assert tasklet.commit_count == 1
    assert tasklet.execution_context["batch.stepType"] == TASKLET_STEP
    assert tasklet.execution_context["batch.taskletType"].endswith(".prepare")

    failed = _reload(repository, first, "items")
    assert failed.version == (8 if six else 7)
    assert (failed.commit_count, failed.rollback_count, failed.write_count) == (5, 1, 50)
    context = failed.execution_context
    assert context["batch.version"] == BATCH_VERSION
    if six:
        assert context["batch.stepType"] == CHUNK_ORIENTED_STEP
        assert "batch.taskletType" not in context
    else:
        assert context["batch.stepType"] == TASKLET_STEP
        assert context["batch.taskletType"] == CHUNK_ORIENTED_TASKLET

    failing["on"] = False
    second = launcher.run(job, {"run": "rows"})
    assert second.status is BatchStatus.COMPLETED
    assert second.id is not None
    stored = repository.get_job_execution(second.id)
    assert stored is not None and stored.version == (3 if six else 2)
    resumed = _reload(repository, second, "items")
    assert resumed.version == (9 if six else 8)
    assert (resumed.read_count, resumed.write_count) == (50, 50)
    assert resumed.commit_count == (5 if six else 6)
    # Both majors' counting readers count the final empty read (issue 11, item 3).
    assert resumed.execution_context.get_int("numbers.read.count") == 101
    assert _ids(repository, target) == list(range(1, 101))


def test_a_partial_last_chunk_commits_alike_in_both_majors(repository: JobRepository) -> None:
    # The end found inside a chunk that read items ends the step in both majors: no empty
    # transaction follows, and COMMIT_COUNT is the same.
    step = ChunkStep(
        "items",
        reader=IterableItemReader(range(45), name="numbers"),
        writer=lambda items: None,
        commit_interval=10,
    )
    execution = JobLauncher(repository).run(Job("partial", [step]), {"run": "p"})
    stored = _reload(repository, execution, "items")
    assert (stored.commit_count, stored.read_count) == (5, 45)


def test_batch_version_is_configurable(repository: JobRepository) -> None:
    # Java writes its Spring Batch version; users whose tools expect that form may say so.
    javas = JobRepository(repository.db, batch_version="5.2.2")
    execution = JobLauncher(javas).run(Job("versioned", [TaskletStep("t", prepare)]), {})
    assert execution.id is not None
    stored = javas.get_job_execution(execution.id)
    assert stored is not None
    assert stored.execution_context["batch.version"] == "5.2.2"
    assert _reload(javas, execution, "t").execution_context["batch.version"] == "5.2.2"
    default = JobLauncher(repository).run(Job("plain", [TaskletStep("t", prepare)]), {})
    assert _reload(repository, default, "t").execution_context["batch.version"] == BATCH_VERSION
