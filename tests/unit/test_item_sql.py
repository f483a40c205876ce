"""SQL readers on every engine: a job fails mid-way, restarts with the same parameters, and the
target table (whose primary key refuses a second copy) holds every row exactly once, in order.
The keyset reader must resume in the page in progress, not read the committed rows again."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.item import (
    CompositeItemWriter,
    ListItemWriter,
    SqlCursorItemReader,
    SqlItemWriter,
    SqlPagingItemReader,
)
from springbatch_py.repository.jobs import JobRepository

metadata = sa.MetaData()
SOURCE = sa.Table(
    "item_source",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("grp", sa.Integer, nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
)
TARGET = sa.Table(
    "item_target", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)
)
ROWS: list[dict[str, Any]] = [{"id": i, "grp": i % 4, "name": f"row {i}"} for i in range(1, 101)]


@pytest.fixture
def jobs(database: Database) -> JobRepository:
    """A job repository on the engine's scratch database, with the source and target tables."""
    create_schema(database, major=6, cluster=False)
    with database.begin() as connection:
        metadata.create_all(connection)
        connection.execute(SOURCE.insert(), ROWS)
    return JobRepository(database)


class Failing:
    """Fails at one id while ``on``."""

    def __init__(self, at: int) -> None:
        self.at, self.on = at, True

    def process(self, row: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.on and row["id"] == self.at:
            raise RuntimeError(f"row {self.at} is bad today")
        return row


def _run_twice(jobs: JobRepository, make_job: Any, failing: Failing) -> list[JobExecution]:
    launcher = JobLauncher(jobs)
    first = launcher.run(make_job(), {"run": "1"})
    assert first.status is BatchStatus.FAILED
    failing.on = False
    second = launcher.run(make_job(), {"run": "1"})
    assert second.status is BatchStatus.COMPLETED
    return [first, second]


def _target_ids(db: Database) -> list[int]:
    with db.connect() as connection:
        return list(connection.execute(sa.select(TARGET.c.id).order_by(TARGET.c.id)).scalars())


def _context(jobs: JobRepository, execution: JobExecution) -> ExecutionContext:
    loaded = jobs.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert loaded is not None
    return loaded.step_executions[0].execution_context


class Recording(SqlPagingItemReader):
    """Remembers the start-after values of each page it reads."""

    afters: list[dict[str, Any] | None]

    def page_query(self, after: Mapping[str, Any] | None) -> sa.Select[Any]:
        self.afters.append(dict(after) if after else None)
        return super().page_query(after)


def test_keyset_paging_reader_restarts_in_the_page_in_progress(jobs: JobRepository) -> None:
    failing = Failing(57)
    order: list[int] = []
    readers: list[Recording] = []

    def make_job() -> Job:
        query = sa.select(SOURCE.c.id, SOURCE.c.name)
        reader = Recording(jobs.db, query, ["id"], name="source", page_size=7)
        reader.afters = []
        readers.append(reader)
        writer = CompositeItemWriter(
            [
                SqlItemWriter(jobs.db, TARGET.insert(), mapper=lambda r: {"id": r["id"]}),
                lambda items: order.extend(r["id"] for r in items),
            ]
        )
        step = ChunkStep(
            "copy", reader=reader, processor=failing, writer=writer, commit_interval=10
        )
        return Job("keyset", [step])

    first, _ = _run_twice(jobs, make_job, failing)
    context = _context(jobs, first)
    # Java's state: 50 read, the page in progress (rows 50..56) starts after id 49.
    assert context["source.read.count"] == 50
    assert dict(context["source.start.after"]) == {"id": 49}
    assert readers[1].afters[0] == {"id": 49}  # the restart reads from there, not from row 1
    assert readers[1].afters[1] == {"id": 56}
    assert order == list(range(1, 101))
    assert _target_ids(jobs.db) == list(range(1, 101))


def test_keyset_on_two_keys_with_a_descending_one(jobs: JobRepository) -> None:
    failing = Failing(61)
    order: list[int] = []

    def make_job() -> Job:
        reader = SqlPagingItemReader(
            jobs.db,
            sa.select(SOURCE.c.grp, SOURCE.c.id).where(SOURCE.c.id > 10),
            {"grp": "asc", "id": "desc"},
            name="twoKeys",
            page_size=6,
        )
        writer = CompositeItemWriter(
            [
                SqlItemWriter(jobs.db, TARGET.insert(), mapper=lambda r: {"id": r["id"]}),
                lambda items: order.extend(r["id"] for r in items),
            ]
        )
        return Job(
            "keys2",
            [ChunkStep("copy", reader=reader, processor=failing, writer=writer, commit_interval=5)],
        )

    _run_twice(jobs, make_job, failing)
    expected = sorted((r for r in ROWS if r["id"] > 10), key=lambda r: (r["grp"], -r["id"]))
    assert order == [r["id"] for r in expected]
    assert _target_ids(jobs.db) == list(range(11, 101))


def test_paging_reader_on_any_engine_and_its_checks(jobs: JobRepository, tmp_path: Path) -> None:
    other = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with other.begin() as connection:
            metadata.create_all(connection, tables=[SOURCE])
            connection.execute(SOURCE.insert(), ROWS[:23])
        failing = Failing(17)

        def make_job() -> Job:
            reader = SqlPagingItemReader(
                other, sa.select(SOURCE), ["id"], name="elsewhere", page_size=4
            )
            writer = SqlItemWriter(jobs.db, TARGET.insert(), mapper=lambda r: {"id": r["id"]})
            return Job(
                "other",
                [
                    ChunkStep(
                        "copy", reader=reader, processor=failing, writer=writer, commit_interval=3
                    )
                ],
            )

        _run_twice(jobs, make_job, failing)
        assert _target_ids(jobs.db) == list(range(1, 24))
    finally:
        other.dispose()
    with pytest.raises(ValueError, match="not a column the query selects"):
        SqlPagingItemReader(jobs.db, sa.select(SOURCE.c.id), ["name"])
    with pytest.raises(ValueError, match="'asc' or 'desc'"):
        SqlPagingItemReader(jobs.db, sa.select(SOURCE.c.id), {"id": "up"})  # type: ignore[dict-item]


@pytest.fixture
def side_jobs(tmp_path: Path) -> Iterator[JobRepository]:
    """A job repository on an SQLite file of its own (the cursor reads the engine's database)."""
    db = Database.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    create_schema(db, major=6, cluster=False)
    try:
        yield JobRepository(db)
    finally:
        db.close()


def test_cursor_reader_restarts_by_passing_the_rows_read(
    database: Database, side_jobs: JobRepository
) -> None:
    with database.begin() as connection:
        metadata.create_all(connection)
        connection.execute(SOURCE.insert(), ROWS)
    failing = Failing(44)
    written = ListItemWriter()
    mapped: list[int] = []

    def mapper(row: dict[str, Any]) -> dict[str, Any]:
        mapped.append(row["id"])
        return row

    def make_job() -> Job:
        reader = SqlCursorItemReader(
            database,
            "SELECT id, name FROM item_source WHERE id <= :last ORDER BY id",
            parameters={"last": 90},
            name="cursor",
            fetch_size=8,
            mapper=mapper,
        )
        return Job(
            "cursor",
            [
                ChunkStep(
                    "copy", reader=reader, processor=failing, writer=written, commit_interval=10
                )
            ],
        )

    first, _ = _run_twice(side_jobs, make_job, failing)
    assert _context(side_jobs, first)["cursor.read.count"] == 40
    assert [r["id"] for r in written.items] == list(range(1, 91))
    assert mapped.count(1) == 1 and mapped.count(41) == 2  # rows passed on restart are not mapped


@pytest.mark.engines("postgresql", "mariadb", "mysql", "oracle")
def test_cursor_reader_on_the_job_database_while_chunks_commit(jobs: JobRepository) -> None:
    failing = Failing(23)

    def make_job() -> Job:
        reader = SqlCursorItemReader(
            jobs.db, sa.select(SOURCE.c.id).order_by(SOURCE.c.id), name="cursor", fetch_size=5
        )
        writer = SqlItemWriter(jobs.db, TARGET.insert(), mapper=lambda r: {"id": r["id"]})
        return Job(
            "cursor-same",
            [ChunkStep("copy", reader=reader, processor=failing, writer=writer, commit_interval=7)],
        )

    _run_twice(jobs, make_job, failing)
    assert _target_ids(jobs.db) == list(range(1, 101))
