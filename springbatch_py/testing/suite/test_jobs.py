"""Jobs and steps on every engine and both majors: restart, skip, retry, stop, abandon.

Expected counts are Spring Batch's (fault-tolerant chunk semantics): a chunk that rolls back is
processed again from its buffered items, a skip or a retry costs a rollback, a scanned chunk
commits item by item, and the last (empty) read commits once more (counted in COMMIT_COUNT by
5.x's ``TaskletStep`` only: 6.0's ``ChunkOrientedStep`` does not count it, see
:func:`_empty_read_commit`). The fault-tolerant counts are 5.x's on both majors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobExecutionNotRunningError,
    JobInstanceAlreadyCompleteError,
    JobRestartError,
    NonSkippableProcessError,
    SkipLimitExceededError,
)
from springbatch_py.core.job import FlowBuilder, Job, RunIdIncrementer
from springbatch_py.core.launch import JobLauncher, JobOperator, JobRegistry
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.core.step import RepeatStatus, ScopedStep, TaskletStep
from springbatch_py.item import IterableItemReader, ListItemWriter, SqlItemReader, SqlItemWriter
from springbatch_py.repository.jobs import JobRepository


class Boom(Exception):
    """A skippable failure."""


class Transient(Exception):
    """A retryable failure."""


def _reload(repository: JobRepository, execution: JobExecution, step: str) -> StepExecution:
    loaded = repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert loaded is not None
    return next(s for s in loaded.step_executions if s.step_name == step)


def _counts(step: StepExecution) -> dict[str, int]:
    return {
        "read": step.read_count,
        "write": step.write_count,
        "filter": step.filter_count,
        "read_skip": step.read_skip_count,
        "process_skip": step.process_skip_count,
        "write_skip": step.write_skip_count,
        "commit": step.commit_count,
        "rollback": step.rollback_count,
    }


def _empty_read_commit(repository: JobRepository) -> int:
    """What the transaction of a final chunk that read nothing adds to COMMIT_COUNT: 1 in 5.x,
    0 in 6.0 (measured on real Spring Batch 6.0.4: 50 items at a commit interval of 10 store
    COMMIT_COUNT 5, where 5.x stores 6)."""
    return 1 if repository.major < 6 else 0


def _run(repository: JobRepository, step: ChunkStep, **parameters: Any) -> StepExecution:
    execution = JobLauncher(repository).run(Job("chunky", [step]), parameters or {"run": "1"})
    return _reload(repository, execution, step.name)


# -- restart from the checkpoint -------------------------------------------------------------


def test_failed_chunk_job_restarts_after_last_commit_and_writes_each_item_once(
    repository: JobRepository, target: sa.Table
) -> None:
    failing = {"on": True}
    tasklet_runs: list[int] = []

    def process(item: int) -> dict[str, int]:
        if item == 57 and failing["on"]:
            raise RuntimeError("item 57 is bad today")
        return {"id": item, "doubled": item * 2}

    def prepare(contribution: Any, context: Any) -> RepeatStatus:
        tasklet_runs.append(1)
        return RepeatStatus.FINISHED

    writer = SqlItemWriter(repository.db, target.insert())
    job = Job(
        "load",
        [
            TaskletStep("prepare", prepare),
            ChunkStep(
                "items",
                reader=IterableItemReader(range(1, 101), name="numbers"),
                processor=process,
                writer=writer,
                commit_interval=10,
            ),
        ],
    )
    launcher = JobLauncher(repository)
    first = launcher.run(job, {"file": "in.csv"})
    assert first.status is BatchStatus.FAILED and first.exit_status.exit_code == "FAILED"
    failed = _reload(repository, first, "items")
    assert failed.status is BatchStatus.FAILED
    assert "item 57 is bad today" in failed.exit_status.exit_description
    assert (failed.read_count, failed.write_count, failed.commit_count, failed.rollback_count) == (
        60,
        50,
        5,
        1,
    )
    assert _ids(repository, target) == list(range(1, 51))

    failing["on"] = False
    second = launcher.run(job, {"file": "in.csv"})
    assert second.status is BatchStatus.COMPLETED
    assert [s.step_name for s in second.step_executions] == ["items"]  # prepare completed before
    assert len(tasklet_runs) == 1
    resumed = _reload(repository, second, "items")
    assert (resumed.read_count, resumed.write_count) == (50, 50)
    assert _ids(repository, target) == list(range(1, 101))
    assert second.job_instance.id == first.job_instance.id
    with pytest.raises(JobInstanceAlreadyCompleteError):
        launcher.run(job, {"file": "in.csv"})


def test_writer_rows_and_step_update_commit_together(
    repository: JobRepository, target: sa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = repository.update_step_execution
    failing = {"on": True}

    def flaky_update(step: StepExecution) -> None:
        if failing["on"] and step.commit_count == 3:
            # The third chunk's own update fails after its rows were written (as when another
            # node changed the row): its rows must roll back, and so must its reader position.
            raise RuntimeError("repository unavailable")
        original(step)

    monkeypatch.setattr(repository, "update_step_execution", flaky_update)

    def make_job() -> Job:
        step = ChunkStep(
            "items",
            reader=IterableItemReader(range(1, 51), name="numbers"),
            processor=lambda i: {"id": i, "doubled": 2 * i},
            writer=SqlItemWriter(repository.db, target.insert()),
            commit_interval=10,
        )
        return Job("atomic", [step])

    first = JobLauncher(repository).run(make_job(), {"run": "x"})
    assert first.status is BatchStatus.FAILED
    assert _ids(repository, target) == list(range(1, 21))
    saved = _reload(repository, first, "items").execution_context
    assert saved.get_int("numbers.read.count") == 20  # the last commit, not the rolled-back chunk
    failing["on"] = False
    second = JobLauncher(repository).run(make_job(), {"run": "x"})
    assert second.status is BatchStatus.COMPLETED
    assert _ids(repository, target) == list(range(1, 51))


class FenceLost(Exception):
    """What a partition's fence raises when its claim is gone: the chunk must not commit."""


@pytest.mark.parametrize("where", ["step update", "commit"])
def test_a_chunk_whose_commit_fails_takes_its_counts_back(
    repository: JobRepository,
    target: sa.Table,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    # The third chunk succeeds, then its transaction fails: in the step's own update (as the
    # fence does inside the chunk's transaction) or at the commit. Its rows roll back, so its
    # counts must not stay in the step execution that is saved FAILED, and after the restart the
    # counters of all executions add up to the rows committed (the fault suite once saw
    # WRITE_COUNT 2050 for 2000 rows).
    failing = {"on": True, "transactions": 0}
    if where == "step update":
        original_update = repository.update_step_execution

        def fenced_update(step: StepExecution) -> None:
            if failing["on"] and step.commit_count == 3:
                raise FenceLost("partition no longer claimed")
            original_update(step)

        monkeypatch.setattr(repository, "update_step_execution", fenced_update)
    else:
        original_transaction = repository.transaction

        @contextmanager
        def failing_commit() -> Iterator[Any]:
            with original_transaction() as connection:
                yield connection
                failing["transactions"] += 1
                if failing["on"] and failing["transactions"] == 3:
                    raise FenceLost("commit refused")  # rolls the transaction back

        monkeypatch.setattr(repository, "transaction", failing_commit)

    def make_job() -> Job:
        step = ChunkStep(
            "items",
            reader=IterableItemReader(range(1, 51), name="numbers"),
            processor=lambda i: {"id": i, "doubled": 2 * i},
            writer=SqlItemWriter(repository.db, target.insert()),
            commit_interval=10,
        )
        return Job("fenced", [step])

    first = JobLauncher(repository).run(make_job(), {"run": where})
    assert first.status is BatchStatus.FAILED
    failed = _reload(repository, first, "items")
    assert _ids(repository, target) == list(range(1, 21))
    assert (failed.read_count, failed.write_count, failed.commit_count) == (20, 20, 2)
    assert failed.rollback_count == 1
    assert failed.execution_context.get_int("numbers.read.count") == 20

    failing["on"] = False
    second = JobLauncher(repository).run(make_job(), {"run": where})
    assert second.status is BatchStatus.COMPLETED
    resumed = _reload(repository, second, "items")
    assert _ids(repository, target) == list(range(1, 51))
    assert failed.write_count + resumed.write_count == 50
    assert failed.read_count + resumed.read_count == 50


def test_a_stop_noticed_inside_a_chunk_lets_the_chunk_commit(
    repository: JobRepository, target: sa.Table
) -> None:
    # Spring Batch checks for interruption before and after a chunk's transaction, never inside
    # it: a stop asked for while a chunk runs (as a node's heartbeat thread asks a partition it
    # lost to stop) ends the step after that chunk commits, with counters equal to its rows.
    class StopWhileWriting:
        def __init__(self) -> None:
            self.context: Any = None

        def before_chunk(self, context: Any) -> None:
            self.context = context

        def after_write(self, items: list[dict[str, int]]) -> None:
            if any(i["id"] == 35 for i in items):
                self.context.step_execution.terminate_only = True

    def make_job(*listeners: Any) -> Job:
        step = ChunkStep(
            "items",
            reader=IterableItemReader(range(1, 51), name="numbers"),
            processor=lambda i: {"id": i, "doubled": 2 * i},
            writer=SqlItemWriter(repository.db, target.insert()),
            commit_interval=10,
            listeners=listeners,
        )
        return Job("interrupted", [step])

    first = JobLauncher(repository).run(make_job(StopWhileWriting()), {"run": "1"})
    assert first.status is BatchStatus.STOPPED
    stopped = _reload(repository, first, "items")
    assert stopped.status is BatchStatus.STOPPED
    assert _ids(repository, target) == list(range(1, 41))
    assert (stopped.write_count, stopped.commit_count, stopped.rollback_count) == (40, 4, 0)
    second = JobLauncher(repository).run(make_job(), {"run": "1"})
    assert second.status is BatchStatus.COMPLETED
    resumed = _reload(repository, second, "items")
    assert _ids(repository, target) == list(range(1, 51))
    assert stopped.write_count + resumed.write_count == 50


# -- skip and retry counts -------------------------------------------------------------------


def _fails_on(*bad: int, exc: type[Exception] = Boom, times: int | None = None) -> Any:
    seen: dict[int, int] = {}

    def process(item: int) -> int:
        if item in bad:
            seen[item] = seen.get(item, 0) + 1
            if times is None or seen[item] <= times:
                raise exc(f"item {item}")
        return item

    return process


class _SkippingReader:
    def __init__(self, items: range, bad: set[int]) -> None:
        self._items: Iterator[int] = iter(items)
        self._bad = bad

    def read(self) -> int | None:
        item = next(self._items, None)
        if item in self._bad:
            raise Boom(f"cannot read item {item}")
        return item


class _WriterFailingOn:
    def __init__(self, bad: int) -> None:
        self.bad = bad
        self.written: list[int] = []

    def write(self, items: list[int]) -> None:
        if self.bad in items:
            raise Boom(f"cannot write {self.bad}")
        self.written.extend(items)


def test_process_skips_cost_one_rollback_each(repository: JobRepository) -> None:
    writer = ListItemWriter()
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 21)),
        processor=_fails_on(3, 12),
        writer=writer,
        commit_interval=5,
        skip=[Boom],
        skip_limit=5,
    )
    result = _run(repository, step)
    assert result.status is BatchStatus.COMPLETED
    assert _counts(result) == {
        "read": 20,
        "write": 18,
        "filter": 0,
        "read_skip": 0,
        "process_skip": 2,
        "write_skip": 0,
        "commit": 4 + _empty_read_commit(repository),
        "rollback": 2,
    }
    assert writer.items == [i for i in range(1, 21) if i not in (3, 12)]


def test_read_skips_do_not_fill_the_chunk(repository: JobRepository) -> None:
    step = ChunkStep(
        "s",
        reader=_SkippingReader(range(1, 21), {4, 9}),
        writer=ListItemWriter(),
        commit_interval=5,
        skip=[Boom],
    )
    assert _counts(_run(repository, step)) == {
        "read": 18,
        "write": 18,
        "filter": 0,
        "read_skip": 2,
        "process_skip": 0,
        "write_skip": 0,
        "commit": 4,
        "rollback": 0,
    }


def test_write_skip_scans_the_chunk_item_by_item(repository: JobRepository) -> None:
    writer = _WriterFailingOn(7)
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 11)),
        processor=lambda i: i,
        writer=writer,
        commit_interval=5,
        skip=[Boom],
    )
    result = _run(repository, step)
    assert result.status is BatchStatus.COMPLETED
    assert _counts(result) == {
        "read": 10,
        "write": 9,
        "filter": 0,
        "read_skip": 0,
        "process_skip": 0,
        "write_skip": 1,
        "commit": 5 + _empty_read_commit(repository),
        "rollback": 2,
    }
    assert writer.written == [1, 2, 3, 4, 5, 6, 8, 9, 10]


def test_transient_failure_is_retried(repository: JobRepository) -> None:
    writer = ListItemWriter()
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 11)),
        processor=_fails_on(4, exc=Transient, times=2),
        writer=writer,
        commit_interval=5,
        retry=[Transient],
        retry_limit=3,
    )
    assert _counts(_run(repository, step)) == {
        "read": 10,
        "write": 10,
        "filter": 0,
        "read_skip": 0,
        "process_skip": 0,
        "write_skip": 0,
        "commit": 2 + _empty_read_commit(repository),
        "rollback": 2,
    }
    assert writer.items == list(range(1, 11))


def test_exhausted_retry_then_skip(repository: JobRepository) -> None:
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 11)),
        processor=_fails_on(4, exc=Transient),
        writer=ListItemWriter(),
        commit_interval=5,
        retry=[Transient],
        retry_limit=3,
        skip=[Transient],
    )
    assert _counts(_run(repository, step)) == {
        "read": 10,
        "write": 9,
        "filter": 0,
        "read_skip": 0,
        "process_skip": 1,
        "write_skip": 0,
        "commit": 2 + _empty_read_commit(repository),
        "rollback": 3,
    }


def test_exhausted_retry_without_skip_fails_the_step(repository: JobRepository) -> None:
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 11)),
        processor=_fails_on(4, exc=Transient),
        writer=ListItemWriter(),
        commit_interval=5,
        retry=[Transient],
        retry_limit=3,
    )
    result = _run(repository, step)
    assert result.status is BatchStatus.FAILED
    assert _counts(result)["rollback"] == 4 and _counts(result)["write"] == 0
    assert NonSkippableProcessError.__name__ in result.exit_status.exit_description


def test_skip_limit_fails_the_step(repository: JobRepository) -> None:
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 11)),
        processor=_fails_on(3, 8),
        writer=ListItemWriter(),
        commit_interval=5,
        skip=[Boom],
        skip_limit=1,
    )
    result = _run(repository, step)
    assert result.status is BatchStatus.FAILED
    assert SkipLimitExceededError.__name__ in result.exit_status.exit_description
    assert (result.process_skip_count, result.rollback_count, result.write_count) == (1, 3, 4)


def test_filtered_items_are_counted(repository: JobRepository) -> None:
    writer = ListItemWriter()
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 21)),
        processor=lambda i: None if i % 2 == 0 else i,
        writer=writer,
        commit_interval=5,
    )
    counts = _counts(_run(repository, step))
    assert (counts["read"], counts["filter"], counts["write"]) == (20, 10, 10)
    assert counts["commit"] == 4 + _empty_read_commit(repository)
    assert writer.items == list(range(1, 21, 2))


def test_without_fault_tolerance_a_failure_fails_the_step(repository: JobRepository) -> None:
    step = ChunkStep(
        "s",
        reader=IterableItemReader(range(1, 21)),
        processor=_fails_on(7),
        writer=ListItemWriter(),
        commit_interval=5,
    )
    result = _run(repository, step)
    assert result.status is BatchStatus.FAILED
    assert _counts(result) == {
        "read": 10,
        "write": 5,
        "filter": 0,
        "read_skip": 0,
        "process_skip": 0,
        "write_skip": 0,
        "commit": 1,
        "rollback": 1,
    }


def test_skip_listeners_hear_every_skip(repository: JobRepository) -> None:
    heard: list[tuple[str, object]] = []

    class Listener:
        def on_skip_in_read(self, exc: BaseException) -> None:
            heard.append(("read", str(exc)))

        def on_skip_in_process(self, item: object, exc: BaseException) -> None:
            heard.append(("process", item))

        def on_skip_in_write(self, item: object, exc: BaseException) -> None:
            heard.append(("write", item))

    step = ChunkStep(
        "s",
        reader=_SkippingReader(range(1, 11), {2}),
        processor=_fails_on(5),
        writer=_WriterFailingOn(8),
        commit_interval=5,
        skip=[Boom],
        listeners=[Listener()],
    )
    _run(repository, step)
    assert sorted(heard, key=str) == sorted(
        [("read", "cannot read item 2"), ("process", 5), ("write", 8)], key=str
    )


# -- stop, restart, abandon ------------------------------------------------------------------


def test_stop_is_honoured_between_chunks_then_restart_completes(
    repository: JobRepository, target: sa.Table
) -> None:
    other_node = JobRepository(repository.db)  # the stop arrives through the database
    registry = JobRegistry()
    operator = JobOperator(other_node, registry)
    state: dict[str, Any] = {"execution": None}

    class StopAfterItem35:
        def after_write(self, items: list[dict[str, int]]) -> None:
            state["stop"] = state.get("stop") or any(i["id"] == 35 for i in items)

        def after_chunk(self, context: Any) -> None:
            if state.pop("stop", False):
                operator.stop(context.step_execution.job_execution.id)

    step = ChunkStep(
        "items",
        reader=IterableItemReader(range(1, 101), name="n"),
        processor=lambda i: {"id": i, "doubled": 2 * i},
        writer=SqlItemWriter(repository.db, target.insert()),
        commit_interval=10,
        listeners=[StopAfterItem35()],
    )
    job = Job("stoppable", [step])
    registry.register(job)
    first = JobLauncher(repository).run(job, {"run": "1"})
    assert first.status is BatchStatus.STOPPED
    assert first.exit_status.exit_code == "STOPPED"
    stopped = _reload(repository, first, "items")
    assert stopped.status is BatchStatus.STOPPED
    assert _ids(repository, target) == list(range(1, 51))
    restarted = operator.restart(first.id)  # type: ignore[arg-type]
    assert restarted.status is BatchStatus.COMPLETED
    assert _ids(repository, target) == list(range(1, 101))


def test_stop_of_a_finished_execution_is_refused_and_abandon_blocks_restart(
    repository: JobRepository,
) -> None:
    registry = JobRegistry()
    operator = JobOperator(repository, registry)
    job = Job("fragile", [TaskletStep("t", _raise)])
    registry.register(job)
    failed = operator.start("fragile", {"run": "1"})
    assert failed.status is BatchStatus.FAILED
    with pytest.raises(JobExecutionNotRunningError):
        operator.stop(failed.id)  # type: ignore[arg-type]
    abandoned = operator.abandon(failed.id)  # type: ignore[arg-type]
    assert abandoned.status is BatchStatus.ABANDONED and abandoned.end_time is not None
    assert repository.get_job_execution(failed.id).status is BatchStatus.ABANDONED  # type: ignore[arg-type,union-attr]
    with pytest.raises(JobInstanceAlreadyCompleteError):
        operator.restart(failed.id)  # type: ignore[arg-type]


def test_running_execution_cannot_be_abandoned_or_relaunched(repository: JobRepository) -> None:
    registry = JobRegistry([Job("busy", [TaskletStep("t", lambda c, x: None)])])
    operator = JobOperator(repository, registry)
    execution = repository.create_job_execution("busy", JobParameters({"run": "1"}))
    execution.status = BatchStatus.STARTED
    repository.update(execution)
    with pytest.raises(JobExecutionAlreadyRunningError):
        operator.abandon(execution.id)  # type: ignore[arg-type]
    with pytest.raises(JobExecutionAlreadyRunningError):
        operator.start("busy", {"run": "1"})


def test_not_restartable_job(repository: JobRepository) -> None:
    job = Job("once", [TaskletStep("t", _raise)], restartable=False)
    launcher = JobLauncher(repository)
    assert launcher.run(job, {"run": "1"}).status is BatchStatus.FAILED
    with pytest.raises(JobRestartError, match="not restartable"):
        launcher.run(job, {"run": "1"})


def test_incrementer_starts_next_instances(repository: JobRepository) -> None:
    registry = JobRegistry(
        [Job("daily", [TaskletStep("t", lambda c, x: None)], incrementer=RunIdIncrementer())]
    )
    operator = JobOperator(repository, registry)
    first = operator.start_next_instance("daily")
    second = operator.start_next_instance("daily")
    assert first.job_parameters.get_value("run.id") == 1
    assert second.job_parameters.get_value("run.id") == 2
    assert first.job_instance.id != second.job_instance.id


# -- flows and listeners ---------------------------------------------------------------------


def test_flow_routes_on_exit_codes(repository: JobRepository) -> None:
    ran: list[str] = []

    def named(name: str, fail: bool = False) -> TaskletStep:
        def tasklet(contribution: Any, context: Any) -> None:
            ran.append(name)
            if fail:
                raise RuntimeError(name)

        return TaskletStep(name, tasklet)

    load, cleanup, report = named("load", fail=True), named("cleanup"), named("report")
    flow = FlowBuilder(load).on("FAILED").to(cleanup).from_(load).on("*").to(report).build()
    execution = JobLauncher(repository).run(Job("flowing", flow=flow), {"run": "1"})
    assert ran == ["load", "cleanup"]
    assert execution.status is BatchStatus.COMPLETED
    statuses = {s.step_name: s.status for s in execution.step_executions}
    assert statuses == {"load": BatchStatus.FAILED, "cleanup": BatchStatus.COMPLETED}


def test_listeners_are_called_in_javas_order(repository: JobRepository) -> None:
    calls: list[str] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name

        def before_job(self, execution: JobExecution) -> None:
            calls.append(f"{self.name}.before_job")

        def after_job(self, execution: JobExecution) -> None:
            calls.append(f"{self.name}.after_job:{execution.status.name}")

        def before_step(self, execution: StepExecution) -> None:
            calls.append(f"{self.name}.before_step")

        def after_step(self, execution: StepExecution) -> ExitStatus | None:
            calls.append(f"{self.name}.after_step")
            return ExitStatus("COMPLETED WITH NOTES") if self.name == "a" else None

        def before_chunk(self, context: Any) -> None:
            calls.append(f"{self.name}.before_chunk")

        def after_chunk(self, context: Any) -> None:
            calls.append(f"{self.name}.after_chunk")

    a, b = Recorder("a"), Recorder("b")
    step = ChunkStep(
        "s",
        reader=IterableItemReader([1, 2]),
        writer=ListItemWriter(),
        commit_interval=5,
        listeners=[a, b],
    )
    execution = JobLauncher(repository).run(Job("heard", [step], listeners=[a, b]), {"run": "1"})
    assert calls == [
        "a.before_job",
        "b.before_job",
        "a.before_step",
        "b.before_step",
        "a.before_chunk",
        "b.before_chunk",
        "b.after_chunk",
        "a.after_chunk",
        "b.after_step",
        "a.after_step",
        "b.after_job:COMPLETED",
        "a.after_job:COMPLETED",
    ]
    stored = _reload(repository, execution, "s")
    assert stored.exit_status.exit_code == "COMPLETED WITH NOTES"


# -- helpers ---------------------------------------------------------------------------------


def _raise(contribution: Any, context: Any) -> None:
    raise RuntimeError("tasklet failed")


def _ids(repository: JobRepository, target: sa.Table) -> list[int]:
    with repository.db.connect() as c:
        return [int(v) for v in c.execute(sa.select(target.c.id).order_by(target.c.id)).scalars()]


def test_sql_reader_and_writer_on_the_job_database_restart_exactly_once(
    repository: JobRepository, target: sa.Table
) -> None:
    metadata = sa.MetaData()
    source = sa.Table(
        "source_items",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    with repository.db.begin() as c:
        metadata.create_all(c)
        c.execute(source.insert(), [{"id": i} for i in range(1, 46)])
    failing = {"on": True}

    def process(row: dict[str, int]) -> dict[str, int]:
        if row["id"] == 33 and failing["on"]:
            raise RuntimeError("33")
        return {"id": row["id"], "doubled": row["id"] * 2}

    def make_job() -> Job:
        reader = SqlItemReader(
            repository.db, sa.select(source.c.id).order_by(source.c.id), name="source", page_size=7
        )
        return Job(
            "sql",
            [
                ChunkStep(
                    "copy",
                    reader=reader,
                    processor=process,
                    writer=SqlItemWriter(repository.db, target.insert()),
                    commit_interval=10,
                )
            ],
        )

    launcher = JobLauncher(repository)
    assert launcher.run(make_job(), {"run": "1"}).status is BatchStatus.FAILED
    assert _ids(repository, target) == list(range(1, 31))
    failing["on"] = False
    second = launcher.run(make_job(), {"run": "1"})
    assert second.status is BatchStatus.COMPLETED
    assert _ids(repository, target) == list(range(1, 46))
    assert _reload(repository, second, "copy").read_count == 15


# -- step scope ------------------------------------------------------------------------------


def test_scoped_step_is_built_per_execution_from_job_parameters(
    repository: JobRepository,
) -> None:
    built: list[int] = []
    writers: list[ListItemWriter] = []

    def build(step_execution: StepExecution) -> ChunkStep:
        count = step_execution.job_execution.job_parameters.get_value("count")
        built.append(count)
        writers.append(ListItemWriter())
        return ChunkStep(
            "scoped",
            reader=IterableItemReader(range(count), name="numbers"),
            writer=writers[-1],
            commit_interval=4,
        )

    job = Job("scoped", [ScopedStep("scoped", build)])
    launcher = JobLauncher(repository)
    first = launcher.run(job, {"count": 7})
    second = launcher.run(job, {"count": 3})
    assert (first.status, second.status) == (BatchStatus.COMPLETED, BatchStatus.COMPLETED)
    assert built == [7, 3]
    assert [w.items for w in writers] == [list(range(7)), list(range(3))]
    assert _reload(repository, first, "scoped").read_count == 7


def test_scoped_step_whose_builder_raises_fails_the_step(repository: JobRepository) -> None:
    def build(step_execution: StepExecution) -> ChunkStep:
        raise LookupError("no input file for this run")

    execution = JobLauncher(repository).run(Job("broken", [ScopedStep("load", build)]), {})
    step = _reload(repository, execution, "load")
    assert (execution.status, step.status) == (BatchStatus.FAILED, BatchStatus.FAILED)
    assert "no input file for this run" in step.exit_status.exit_description
