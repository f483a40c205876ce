"""A guarded job repository (a cluster partition's fence) checks every write transaction once,
before its first write, and hands updates outside a chunk to the guard."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.parameters import JobParameters
from springbatch_py.repository import jobs
from springbatch_py.repository.jobs import JobRepository


class Refused(Exception):
    pass


class Guard:
    """Records what it checks; refuses every write while ``refusing``."""

    def __init__(self, *, refusing: bool = False) -> None:
        self.refusing = refusing
        self.checked: list[Connection] = []
        self.landed: list[str] = []

    def before_write(self, connection: Connection) -> None:
        self.checked.append(connection)
        if self.refusing:
            raise Refused

    def land(
        self, what: str, execution: JobExecution | StepExecution, write: Callable[[], None]
    ) -> None:
        self.landed.append(what)
        write()


def test_every_write_of_the_repository_begins_in_the_guarded_transaction() -> None:
    # A new write method cannot bypass the guard by beginning a transaction of its own: only
    # the guarded one and the chunk's transaction (whose writes join the guarded one) begin any.
    tree = ast.parse(inspect.getsource(jobs))
    beginners: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "transactions"
                and node.attr in ("transaction", "new_transaction")
            ):
                beginners.add(function.name)
    assert beginners == {"_writing", "transaction"}


def _saved(repository: JobRepository) -> tuple[JobExecution, StepExecution]:
    execution = repository.create_job_execution("guarded", JobParameters({"run": "1"}))
    step = execution.create_step_execution("step")
    repository.add(step)
    return execution, step


def test_a_refusing_guard_refuses_every_write(repository: JobRepository) -> None:
    execution, step = _saved(repository)
    guard = Guard(refusing=True)
    guarded = repository.guarded(guard)
    writes: list[Callable[[], object]] = [
        lambda: guarded.create_job_execution("other", JobParameters({"run": "2"})),
        lambda: guarded.add(execution.create_step_execution("more")),
        lambda: guarded.add_all([execution.create_step_execution("most")]),
        lambda: guarded.update(step),
        lambda: guarded.update(execution),
        lambda: guarded.update_execution_context(step),
        lambda: guarded.update_execution_context(execution),
    ]
    for write in writes:
        with pytest.raises(Refused):
            write()
    assert len(guard.checked) == len(writes)
    assert repository.get_job_names() == ["guarded"]
    stored = repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert stored is not None and stored.version == 0
    assert [(s.step_name, s.version) for s in stored.step_executions] == [("step", 0)]


def test_updates_outside_a_chunk_go_through_the_guard(repository: JobRepository) -> None:
    execution, step = _saved(repository)
    guard = Guard()
    guarded = repository.guarded(guard)
    guarded.update(step)
    guarded.update_execution_context(step)
    guarded.update(execution)
    assert guard.landed == [
        f"saving step execution {step.id}",
        f"saving the context of step execution {step.id}",
        f"saving job execution {execution.id}",
    ]
    assert len(guard.checked) == 3  # a transaction each
    assert step.version == 1
    repository.update(step)  # the unguarded repository it came from is unchanged
    assert len(guard.checked) == 3


def test_a_chunk_is_checked_once_and_rolls_back_with_its_items(
    repository: JobRepository, target: sa.Table
) -> None:
    _, step = _saved(repository)
    guard = Guard()
    guarded = repository.guarded(guard)
    with guarded.transaction() as connection:
        connection.execute(target.insert().values(id=1, doubled=2))
        guarded.update_execution_context(step)
        guarded.update(step)
    assert len(guard.checked) == 1 and guard.landed == []
    guard.refusing = True
    with pytest.raises(Refused), guarded.transaction() as connection:
        connection.execute(target.insert().values(id=2, doubled=4))
        step.execution_context["read"] = 2
        guarded.update_execution_context(step)
    assert len(guard.checked) == 2
    with repository.db.connect() as connection:
        assert list(connection.execute(sa.select(target.c.id)).scalars()) == [1]
