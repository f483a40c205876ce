"""The job repository on every engine and both majors: keys, rows, launch checks, versions."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobInstanceAlreadyCompleteError,
    JobRestartError,
    OptimisticLockingFailureError,
)
from springbatch_py.core.parameters import JobParameter, JobParameters
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.java.types import (
    PARTITION_TRANSFERABLE_PROP,
    BigInteger,
    Byte,
    Double,
    Float,
    Integer,
    JavaEnum,
    Long,
    Short,
    same_java_value,
)
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.repository.serialization import ContextSerializationError

EXAMPLE_1 = JobParameters({"name": "a", "run.id": Long(1)})
KEYS_1 = {5: "fd507213e5b091f53bbd9982305aaa64", 6: "d4f327e537973e0c3038c4502577256c"}
EXAMPLE_2 = JobParameters(
    {
        "input.file": "/data/in.csv",
        "rate": Double(0.5),
        "day": date(2024, 1, 31),
        "note": JobParameter("ignored", identifying=False),
    }
)
KEYS_2 = {5: "d6d764cf6642b4d086e725e55c99b82b", 6: "ff5afe14424e785ebae01d83377a55d7"}


def _finish(repository: JobRepository, execution, status: BatchStatus) -> None:  # type: ignore[no-untyped-def]
    execution.start_time = repository.now()
    execution.status = status
    execution.end_time = repository.now()
    execution.exit_status = ExitStatus(status.value)
    repository.update(execution)


@pytest.mark.parametrize(("parameters", "keys"), [(EXAMPLE_1, KEYS_1), (EXAMPLE_2, KEYS_2)])
def test_job_key_is_javas(
    repository: JobRepository, parameters: JobParameters, keys: dict[int, str]
) -> None:
    execution = repository.create_job_execution("job", parameters)
    t = repository.tables.job_instance
    with repository.db.connect() as c:
        stored = c.execute(sa.select(t.c.job_key, t.c.version)).one()
    assert stored.job_key == keys[repository.major]
    assert stored.version == 0
    assert execution.job_instance.job_key == keys[repository.major]


def test_every_parameter_type_round_trips(repository: JobRepository) -> None:
    values = {
        "s": "text",
        "l": Long(-(2**63)),
        "i": Integer(42),
        "sh": Short(-7),
        "b": Byte(3),
        "d": Double(0.1),
        "f": Float(1.5),
        "bd": Decimal("1.50"),
        "bi": BigInteger(2**70),
        "bool": True,
        "date": datetime(2024, 1, 31, 10, 0, 0, 123000, tzinfo=UTC),
        "ld": date(2024, 1, 31),
        "lt": time(10, 0, 0, 500000),
        "ldt": datetime(2024, 1, 31, 10, 0),
        "ni": JobParameter(Long(7), identifying=False),
    }
    parameters = JobParameters(values)
    created = repository.create_job_execution("types", parameters)
    loaded = repository.get_job_execution(created.id)  # type: ignore[arg-type]
    assert loaded is not None
    assert loaded.job_parameters == parameters
    for name, parameter in parameters.items():
        assert same_java_value(loaded.job_parameters[name].value, parameter.value), name
    p = repository.tables.job_execution_params
    with repository.db.connect() as c:
        rows = {r.parameter_name: r for r in c.execute(sa.select(p))}
    assert rows["lt"].parameter_value == "10:00:00.5"
    assert rows["date"].parameter_value == "2024-01-31T10:00:00.123Z"
    assert rows["ldt"].parameter_type == "java.time.LocalDateTime"
    assert rows["ni"].identifying == "N" and rows["l"].identifying == "Y"


def test_execution_rows_are_what_java_writes(repository: JobRepository) -> None:
    execution = repository.create_job_execution("rows", EXAMPLE_1)
    e = repository.tables.job_execution
    with repository.db.connect() as c:
        row = c.execute(sa.select(e)).one()
    assert (row.status, row.exit_code, row.version) == ("STARTING", "UNKNOWN", 0)
    assert row.start_time is None and row.end_time is None
    assert (row.last_updated is None) == (repository.major == 6)  # 6.0 leaves it empty
    assert abs(row.create_time - repository.now()).total_seconds() < 60
    step = execution.create_step_execution("step")
    repository.add(step)
    s = repository.tables.step_execution
    with repository.db.connect() as c:
        srow = c.execute(sa.select(s)).one()
    assert (srow.status, srow.exit_code, srow.version, srow.read_count) == (
        "STARTING",
        "EXECUTING",
        0,
        0,
    )
    assert srow.step_name == "step" and srow.job_execution_id == execution.id


def test_instance_reused_and_launch_checks(repository: JobRepository) -> None:
    first = repository.create_job_execution("job", EXAMPLE_1)
    with pytest.raises(JobExecutionAlreadyRunningError):
        repository.create_job_execution("job", EXAMPLE_1)
    first.execution_context["carried"] = Long(5)
    repository.update_execution_context(first)
    _finish(repository, first, BatchStatus.FAILED)
    second = repository.create_job_execution("job", EXAMPLE_1)
    assert second.job_instance.id == first.job_instance.id
    assert second.id != first.id
    # a restart starts from the last execution's job context
    assert second.execution_context.get_long("carried") == 5
    _finish(repository, second, BatchStatus.COMPLETED)
    with pytest.raises(JobInstanceAlreadyCompleteError):
        repository.create_job_execution("job", EXAMPLE_1)
    other = repository.create_job_execution("job", EXAMPLE_1.with_parameter("run.id", Long(2)))
    assert other.job_instance.id != first.job_instance.id


def test_unknown_status_blocks_restart(repository: JobRepository) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    _finish(repository, execution, BatchStatus.UNKNOWN)
    with pytest.raises(JobRestartError, match="UNKNOWN"):
        repository.create_job_execution("job", EXAMPLE_1)


def test_parameterless_rerun_differs_between_majors(repository: JobRepository) -> None:
    execution = repository.create_job_execution("plain", JobParameters.empty())
    _finish(repository, execution, BatchStatus.COMPLETED)
    if repository.major == 5:
        again = repository.create_job_execution("plain", JobParameters.empty())
        assert again.job_instance.id == execution.job_instance.id
    else:
        with pytest.raises(JobInstanceAlreadyCompleteError):
            repository.create_job_execution("plain", JobParameters.empty())


def test_concurrent_launches_of_one_instance_create_one_execution(
    repository: JobRepository,
) -> None:
    threads, barrier = 6, threading.Barrier(6)
    results: list[object] = []
    lock = threading.Lock()

    def launch() -> None:
        barrier.wait()
        try:
            outcome: object = repository.create_job_execution("race", EXAMPLE_1)
        except Exception as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=launch) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(e, JobExecutionAlreadyRunningError) for e in losers), losers
    e, i = repository.tables.job_execution, repository.tables.job_instance
    with repository.db.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(e)).scalar_one() == 1
        assert c.execute(sa.select(sa.func.count()).select_from(i)).scalar_one() == 1


def test_step_updates_are_versioned(repository: JobRepository) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    step = execution.create_step_execution("s")
    repository.add(step)
    stale = repository.get_step_execution(execution.id, step.id)  # type: ignore[arg-type]
    assert stale is not None
    step.read_count = 5
    repository.update(step)
    assert step.version == 1
    stale.read_count = 99
    with pytest.raises(OptimisticLockingFailureError, match="wrong version"):
        repository.update(stale)
    fresh = repository.get_step_execution(execution.id, step.id)  # type: ignore[arg-type]
    assert fresh is not None and fresh.read_count == 5 and fresh.version == 1


def test_job_update_merges_a_stop_from_elsewhere(repository: JobRepository) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    execution.status = BatchStatus.STARTED
    repository.update(execution)
    other = repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert other is not None
    other.status = BatchStatus.STOPPING
    repository.update(other)
    execution.status = BatchStatus.STARTED  # stale view, as a running job has it
    repository.update(execution)  # adopts the newer version and keeps STOPPING
    assert execution.status is BatchStatus.STOPPING
    assert execution.id is not None
    reloaded = repository.get_job_execution(execution.id)
    assert reloaded is not None and reloaded.status is BatchStatus.STOPPING


def test_job_update_that_loses_a_race_raises(
    repository: JobRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    other = repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert other is not None
    repository.update(other)
    # Another node updates between our version check and our UPDATE: never overwrite it.
    monkeypatch.setattr(repository, "_synchronize", lambda c, e: None)
    with pytest.raises(OptimisticLockingFailureError):
        repository.update(execution)


def test_large_context_goes_to_serialized_context(repository: JobRepository) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    execution.execution_context["big"] = "x" * 5000
    execution.execution_context["enum"] = JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES")
    repository.update_execution_context(execution)
    t = repository.tables.job_execution_context
    with repository.db.connect() as c:
        row = c.execute(sa.select(t)).one()
    assert len(row.short_context) == 2496 and row.short_context.endswith(" ...")
    assert len(row.serialized_context) > 2500
    loaded = repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert loaded is not None
    assert same_java_value(
        loaded.execution_context.to_dict(), execution.execution_context.to_dict()
    )


def test_hostile_context_is_a_typed_error_and_changes_nothing(repository: JobRepository) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    step = execution.create_step_execution("s")
    step.execution_context = ExecutionContext({"ok": Long(1)})
    repository.add(step)
    t = repository.tables.step_execution_context
    hostile = "rO0ABXNyAA9jb20uZXZpbC5HYWRnZXQAAAAAAAAAAQIAAHhw"  # a serialized com.evil.Gadget
    with repository.db.begin() as c:
        c.execute(t.update().values(short_context=hostile))
    before = _dump(repository)
    with pytest.raises(ContextSerializationError, match=rf"step execution {step.id}") as info:
        repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert "com.evil.Gadget" in str(info.value)
    with repository.db.begin() as c:
        c.execute(t.update().values(short_context="not base64 at all!"))
    with pytest.raises(ContextSerializationError, match=rf"step execution {step.id}"):
        repository.get_step_execution(execution.id, step.id)  # type: ignore[arg-type]
    with repository.db.begin() as c:
        c.execute(t.update().values(short_context=hostile))
    assert _dump(repository) == before


def test_timestamps_are_the_configured_zones_wall_clock(repository: JobRepository) -> None:
    execution = repository.create_job_execution("job", EXAMPLE_1)
    e = repository.tables.job_execution
    with repository.db.connect() as c:
        # An untyped column: the driver's own value, not SpringTimestamp's.
        raw = c.execute(sa.select(sa.literal_column("CREATE_TIME")).select_from(e)).scalar()
    if repository.db.dialect.epoch_ms_timestamps:
        assert isinstance(raw, int)  # epoch milliseconds, as Java's xerial driver stores them
    else:
        assert isinstance(raw, datetime) and raw.tzinfo is None
    assert execution.create_time is not None
    assert (
        abs((execution.create_time - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) < 60
    )


def _dump(repository: JobRepository) -> dict[str, list[tuple[object, ...]]]:
    tables = repository.tables
    result: dict[str, list[tuple[object, ...]]] = {}
    with repository.db.connect() as c:
        for table in (
            tables.job_instance,
            tables.job_execution,
            tables.job_execution_params,
            tables.step_execution,
            tables.job_execution_context,
            tables.step_execution_context,
        ):
            rows = c.execute(sa.select(table)).all()
            result[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return result


def test_zero_is_a_real_id(repository: JobRepository) -> None:
    """Oracle's sequences start at 0 (a real id): shift every generator so ids start there."""
    from springbatch_py.core.chunk import ChunkStep
    from springbatch_py.core.job import Job
    from springbatch_py.core.launch import JobLauncher
    from springbatch_py.item import IterableItemReader, ListItemWriter

    class FromZero:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def next_id(self, connection: object) -> int:
            return self.inner.next_id(connection) - 1  # type: ignore[attr-defined,no-any-return]

    repository.ids = {role: FromZero(g) for role, g in repository.ids.items()}  # type: ignore[misc]
    failing = {"on": True}

    def process(item: int) -> int:
        if item == 3 and failing["on"]:
            raise RuntimeError("3")
        return item

    job = Job(
        "zero",
        [
            ChunkStep(
                "s",
                reader=IterableItemReader(range(1, 6), name="r"),
                processor=process,
                writer=ListItemWriter(),
                commit_interval=2,
            )
        ],
    )
    first = JobLauncher(repository).run(job, {"run": "0"})
    assert (first.job_instance.id, first.id, first.step_executions[0].id) == (0, 0, 0)
    loaded = repository.get_job_execution(0)
    assert loaded is not None and loaded.status is BatchStatus.FAILED
    assert loaded.step_executions[0].id == 0 and loaded.step_executions[0].write_count == 2
    failing["on"] = False
    second = JobLauncher(repository).run(job, {"run": "0"})
    assert second.status is BatchStatus.COMPLETED and second.job_instance.id == 0
    assert repository.get_step_execution(second.id, second.step_executions[0].id).read_count == 3  # type: ignore[arg-type,union-attr]
