"""Flat-file, JSON-lines and composite items: formats, and jobs that fail mid-way then restart
with the same parameters and must leave every item in the output exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import sqlalchemy as sa

from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.item import (
    ClassifierCompositeItemWriter,
    CompositeItemWriter,
    DelimitedLineAggregator,
    DelimitedLineTokenizer,
    FixedLengthTokenizer,
    FixedWidthLineAggregator,
    FlatFileFormatError,
    FlatFileItemReader,
    FlatFileItemWriter,
    FlatFileParseError,
    FormatterLineAggregator,
    IncorrectLineLengthError,
    IncorrectTokenCountError,
    IterableItemReader,
    JsonLinesItemReader,
    JsonLinesItemWriter,
    SqlItemWriter,
)
from springbatch_py.java.types import Integer, Long
from springbatch_py.repository.jobs import JobRepository

# -- formats ---------------------------------------------------------------------------------


def test_delimited_fields_are_quoted_only_when_needed_and_read_back() -> None:
    aggregator = DelimitedLineAggregator(["id", "text"])
    tricky = ["plain", "a,b", 'say "hi"', "two\nlines", "", None]
    lines = [aggregator.aggregate({"id": i, "text": t}) for i, t in enumerate(tricky)]
    assert lines[:4] == ["0,plain", '1,"a,b"', '2,"say ""hi"""', '3,"two\nlines"']
    assert lines[4:] == ["4,", "5,"]
    tokenizer = DelimitedLineTokenizer(["id", "text"])
    tokens = [tokenizer.tokenize(line) for line in lines]
    assert [t["text"] for t in tokens if isinstance(t, dict)] == [
        "plain",
        "a,b",
        'say "hi"',
        "two\nlines",
        "",
        "",
    ]
    assert DelimitedLineAggregator(quote_all=True, delimiter=";").aggregate((1, "x")) == '"1";"x"'
    assert DelimitedLineTokenizer().tokenize('x;"y;z"') == ['x;"y;z"']
    assert DelimitedLineTokenizer(delimiter=";").tokenize('x;"y;z"') == ["x", "y;z"]


def test_delimited_tokenizer_counts_tokens_strictly_unless_told() -> None:
    with pytest.raises(IncorrectTokenCountError, match="expected 3 actual 2"):
        DelimitedLineTokenizer(["a", "b", "c"]).tokenize("1,2")
    lenient = DelimitedLineTokenizer(["a", "b"], strict=False)
    assert lenient.tokenize("1") == {"a": "1", "b": ""}
    assert lenient.tokenize("1,2,3") == {"a": "1", "b": "2"}


def test_fixed_width_overflow_is_an_error_never_a_cut() -> None:
    aggregator = FixedWidthLineAggregator(["id", "name"], [4, 6], align=[">", "<"], fill=" ")
    assert aggregator.aggregate({"id": 7, "name": "ab"}) == "   7ab    "
    with pytest.raises(FlatFileFormatError, match=r"field name overflows .* 6 .*\[abcdefg\]"):
        aggregator.aggregate({"id": 7, "name": "abcdefg"})
    with pytest.raises(FlatFileFormatError, match="3 fields for 2 columns"):
        FixedWidthLineAggregator(None, [1, 1]).aggregate((1, 2, 3))
    formatter = FormatterLineAggregator("{:<5}{:>5}", ["a", "b"], maximum_length=10)
    assert formatter.aggregate({"a": "x", "b": 1}) == "x        1"
    with pytest.raises(FlatFileFormatError, match="longer than 10 characters"):
        formatter.aggregate({"a": "toolong", "b": 1})
    with pytest.raises(FlatFileFormatError, match="shorter than 3"):
        FormatterLineAggregator("{}", minimum_length=3).aggregate("x")


def test_fixed_length_tokenizer_ranges_and_line_length() -> None:
    tokenizer = FixedLengthTokenizer("1-4, 5-10", ["id", "name"])
    assert tokenizer.tokenize("   7ab    ") == {"id": "7", "name": "ab"}
    with pytest.raises(IncorrectLineLengthError, match="longer than max range 10"):
        tokenizer.tokenize("   7ab     x")
    with pytest.raises(IncorrectLineLengthError, match="shorter than max range 10"):
        tokenizer.tokenize("   7ab")
    loose = FixedLengthTokenizer([(1, 2), (3, None)], strict=False, strip=False)
    assert loose.tokenize("ab cdef ") == ["ab", " cdef "]
    with pytest.raises(ValueError, match="not a range"):
        FixedLengthTokenizer("1-x")


def test_reader_comments_blank_lines_header_and_parse_errors(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('id,name\n# a comment\n1,a\n\n2,"b\nc"\n3\n', encoding="utf-8")
    headers: list[str] = []
    reader = FlatFileItemReader(
        path,
        tokenizer=DelimitedLineTokenizer(["id", "name"]),
        lines_to_skip=1,
        skipped_lines_callback=headers.append,
    )
    reader.open(ExecutionContext())
    assert headers == ["id,name"]
    assert reader.read() == {"id": "1", "name": "a"}
    assert reader.read() == {"id": "2", "name": "b\nc"}
    with pytest.raises(FlatFileParseError, match=r"line: 7 .*input=\[3\]") as caught:
        reader.read()
    assert caught.value.line_number == 7 and caught.value.record == "3"
    assert reader.read() is None
    reader.close()
    missing = FlatFileItemReader(tmp_path / "missing.csv")
    with pytest.raises(Exception, match="does not exist"):
        missing.open(ExecutionContext())
    lenient = FlatFileItemReader(tmp_path / "missing.csv", strict=False)
    lenient.open(ExecutionContext())
    assert lenient.read() is None


def test_restarted_reader_passes_committed_records_without_mapping_them(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("".join(f"{i}\n" for i in range(10)), encoding="utf-8")
    mapped: list[str] = []

    def mapper(line: str) -> int:
        mapped.append(line)
        return int(line)

    context = ExecutionContext({"flatFileItemReader.read.count": Integer(6)})
    reader = FlatFileItemReader(path, mapper=mapper)
    reader.open(context)
    assert [reader.read() for _ in range(5)] == [6, 7, 8, 9, None]
    reader.close()
    assert mapped == ["6", "7", "8", "9"]


def test_restarted_writer_cuts_off_lines_written_after_the_last_commit(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    context = ExecutionContext()
    writer = FlatFileItemWriter(path, header="head", footer="foot")
    writer.open(context)
    writer.update(context)
    writer.before_chunk(None)
    writer.write([1, 2])
    writer.update(context)  # committed
    assert context["flatFileItemWriter.written"] == 2
    assert isinstance(context["flatFileItemWriter.current.count"], Long)
    writer.before_chunk(None)
    writer.write([3])
    writer.update(context.copy())  # on disk, but the process dies before the commit
    assert path.read_text(encoding="utf-8") == "head\n1\n2\n3\n"
    restarted = FlatFileItemWriter(path, header="head", footer="foot")
    restarted.open(context)
    assert path.read_text(encoding="utf-8") == "head\n1\n2\n"
    restarted.write([3, 4])
    restarted.update(context)
    restarted.close()
    assert path.read_text(encoding="utf-8") == "head\n1\n2\n3\n4\nfoot\n"
    assert context.get_long("flatFileItemWriter.written") == 4
    path.write_text("head\n", encoding="utf-8")  # the file was replaced since
    with pytest.raises(Exception, match="shorter"):
        FlatFileItemWriter(path).open(context)


def test_writer_appends_and_deletes_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old\n", encoding="utf-8")
    writer = FlatFileItemWriter(path, header="never on append", append=True)
    writer.open(ExecutionContext())
    writer.write(["new"])
    writer.update(ExecutionContext())
    writer.close()
    assert path.read_text(encoding="utf-8") == "old\nnew\n"
    empty = FlatFileItemWriter(path, header="h", should_delete_if_empty=True)
    empty.open(ExecutionContext())
    empty.close()
    assert not path.exists()


def test_json_lines_encode_dataclasses_dates_and_decimals(tmp_path: Path) -> None:
    from datetime import date
    from decimal import Decimal

    @dataclass
    class Row:
        id: int
        day: date
        amount: Decimal
        note: str

    path = tmp_path / "out.jsonl"
    writer = JsonLinesItemWriter(path)
    writer.open(ExecutionContext())
    writer.write([Row(1, date(2024, 2, 29), Decimal("0.10"), "two\nlines")])
    writer.update(ExecutionContext())
    writer.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ['{"id":1,"day":"2024-02-29","amount":"0.10","note":"two\\nlines"}']
    path.write_text('{"a": 1}\n\nnot json\n', encoding="utf-8")
    reader = JsonLinesItemReader(path, mapper=lambda v: v["a"])
    reader.open(ExecutionContext())
    assert reader.read() == 1
    with pytest.raises(FlatFileParseError, match="line: 3"):
        reader.read()
    reader.close()


# -- fail and restart through the launcher ---------------------------------------------------


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobRepository]:
    """A job repository on an SQLite file of its own."""
    db = Database.open(f"sqlite:///{tmp_path / 'jobs.db'}")
    create_schema(db, major=6, cluster=False)
    try:
        yield JobRepository(db)
    finally:
        db.close()


class Failing:
    """A processor that fails at one item while ``on``; maps items with ``then``."""

    def __init__(self, at: Any, key: Callable[[Any], Any] = lambda i: i) -> None:
        self.at, self.key, self.on = at, key, True

    def process(self, item: Any) -> Any:
        if self.on and self.key(item) == self.at:
            raise RuntimeError(f"item {self.at} is bad today")
        return item


def _fail_then_restart(
    repository: JobRepository, make_job: Callable[[], Job], failing: Failing
) -> tuple[JobExecution, JobExecution]:
    launcher = JobLauncher(repository)
    first = launcher.run(make_job(), {"run": "1"})
    assert first.status is BatchStatus.FAILED
    failing.on = False
    second = launcher.run(make_job(), {"run": "1"})
    assert second.status is BatchStatus.COMPLETED
    assert second.job_instance.id == first.job_instance.id
    return first, second


def _step(repository: JobRepository, execution: JobExecution) -> StepExecution:
    loaded = repository.get_job_execution(execution.id)  # type: ignore[arg-type]
    assert loaded is not None
    return loaded.step_executions[0]


PEOPLE = [
    {"id": i, "name": f'name {i}, "the {i}th"' if i % 7 else f"multi\nline {i}"}
    for i in range(1, 101)
]


def test_delimited_file_to_file_fails_and_restarts_exactly_once(
    jobs: JobRepository, tmp_path: Path
) -> None:
    source, output = tmp_path / "people.csv", tmp_path / "out.csv"
    aggregator = DelimitedLineAggregator(["id", "name"])
    source.write_text(
        "id,name\n" + "".join(aggregator.aggregate(p) + "\n" for p in PEOPLE), encoding="utf-8"
    )
    failing = Failing(57, key=lambda p: p["id"])
    headers: list[str] = []

    def footer(out: IO[str]) -> None:
        out.write("end of people")

    def make_job() -> Job:
        reader = FlatFileItemReader(
            source,
            name="people",
            tokenizer=DelimitedLineTokenizer(["id", "name"]),
            mapper=lambda f: {"id": int(f["id"]), "name": f["name"]},
            lines_to_skip=1,
            skipped_lines_callback=headers.append,
        )
        writer = FlatFileItemWriter(
            output, name="out", line_aggregator=aggregator, header="id,name", footer=footer
        )
        step = ChunkStep(
            "copy", reader=reader, processor=failing, writer=writer, commit_interval=10
        )
        return Job("csv-copy", [step])

    first, second = _fail_then_restart(jobs, make_job, failing)
    failed = _step(jobs, first).execution_context
    assert failed["people.read.count"] == 50 and isinstance(failed["people.read.count"], Integer)
    assert failed["out.written"] == 50 and isinstance(failed["out.current.count"], Long)
    assert headers == ["id,name", "id,name"]
    text = output.read_text(encoding="utf-8")
    assert text.startswith("id,name\n") and text.endswith("\nend of people\n")
    assert text.count("end of people") == 1
    lenient = DelimitedLineTokenizer(["id", "name"], strict=False)  # the footer has one field
    check = FlatFileItemReader(output, tokenizer=lenient, lines_to_skip=1)
    check.open(ExecutionContext())
    rows = []
    while (row := check.read()) is not None:
        rows.append(row)
    check.close()
    assert rows[-1] == {"id": "end of people", "name": ""}
    assert [{"id": int(r["id"]), "name": r["name"]} for r in rows[:-1]] == PEOPLE
    completed = _step(jobs, second).execution_context
    assert completed.get_long("out.written") == 100


def test_fixed_width_file_fails_and_restarts_exactly_once(
    jobs: JobRepository, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text(
        "".join(f"{i:>5}{'x' * (i % 9):<9}\n" for i in range(1, 61)), encoding="utf-8"
    )
    failing = Failing(33, key=lambda r: r["id"])

    def make_job() -> Job:
        reader = FlatFileItemReader(
            source,
            name="fixed",
            tokenizer=FixedLengthTokenizer("1-5,6-14", ["id", "tag"]),
            mapper=lambda f: {"id": int(f["id"]), "tag": f["tag"]},
        )
        writer = FlatFileItemWriter(
            output,
            name="fixedOut",
            line_aggregator=FixedWidthLineAggregator(["id", "tag"], [6, 9], align=[">", "<"]),
            header=lambda out: out.write("    ID TAG"),
        )
        return Job(
            "fixed",
            [ChunkStep("copy", reader=reader, processor=failing, writer=writer, commit_interval=4)],
        )

    _fail_then_restart(jobs, make_job, failing)
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "    ID TAG"
    assert [int(line[:6]) for line in lines[1:]] == list(range(1, 61))
    assert all(len(line) == 15 for line in lines[1:])


def test_json_lines_fail_and_restart_exactly_once(jobs: JobRepository, tmp_path: Path) -> None:
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(45)), encoding="utf-8")
    failing = Failing(38, key=lambda v: v["n"])

    def make_job() -> Job:
        reader = JsonLinesItemReader(source, name="in")
        writer = JsonLinesItemWriter(
            output, name="out", mapper=lambda v: {"n": v["n"], "sq": v["n"] ** 2}
        )
        return Job(
            "jsonl",
            [ChunkStep("copy", reader=reader, processor=failing, writer=writer, commit_interval=5)],
        )

    first, _ = _fail_then_restart(jobs, make_job, failing)
    assert _step(jobs, first).execution_context["in.read.count"] == 35
    values = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert values == [{"n": i, "sq": i * i} for i in range(45)]


class BrokenUpdate:
    """A stream whose ``update`` fails once, at a given chunk: after the file writer has put
    the chunk's lines on disk and before the chunk commits."""

    def __init__(self, at_call: int) -> None:
        self.calls, self.at_call = 0, at_call

    def write(self, items: list[Any]) -> None:
        """Writes nothing."""

    def update(self, _context: ExecutionContext) -> None:
        self.calls += 1
        if self.calls == self.at_call:
            raise OSError("disk full, once")


def test_lines_on_disk_of_a_chunk_that_does_not_commit_are_cut_off(
    jobs: JobRepository, tmp_path: Path
) -> None:
    output = tmp_path / "out.txt"
    broken = BrokenUpdate(at_call=4)  # the first call is the one before the first chunk

    def make_job() -> Job:
        writer = CompositeItemWriter([FlatFileItemWriter(output, name="out"), broken])
        reader = IterableItemReader(range(30), name="numbers")
        return Job("cut", [ChunkStep("copy", reader=reader, writer=writer, commit_interval=5)])

    launcher = JobLauncher(jobs)
    first = launcher.run(make_job(), {"run": "1"})
    assert first.status is BatchStatus.FAILED
    assert output.read_text(encoding="utf-8").split() == [str(i) for i in range(10)]
    assert launcher.run(make_job(), {"run": "1"}).status is BatchStatus.COMPLETED
    assert output.read_text(encoding="utf-8").split() == [str(i) for i in range(30)]


def test_composite_and_classifier_writers_fail_and_restart_exactly_once(
    jobs: JobRepository, tmp_path: Path
) -> None:
    metadata = sa.MetaData()
    table = sa.Table("copies", metadata, sa.Column("id", sa.Integer, primary_key=True))
    with jobs.db.begin() as connection:
        metadata.create_all(connection)
    failing = Failing(42)
    even, odd, everything = tmp_path / "even.txt", tmp_path / "odd.txt", tmp_path / "all.txt"

    def make_job() -> Job:
        routed = ClassifierCompositeItemWriter.routing(
            lambda n: n % 2,
            {0: FlatFileItemWriter(even, name="even"), 1: FlatFileItemWriter(odd, name="odd")},
        )
        writer = CompositeItemWriter(
            [
                FlatFileItemWriter(everything, name="all", footer="done"),
                routed,
                SqlItemWriter(jobs.db, table.insert(), mapper=lambda n: {"id": n}),
            ]
        )
        reader = IterableItemReader(range(1, 61), name="numbers")
        return Job(
            "fan-out",
            [ChunkStep("copy", reader=reader, processor=failing, writer=writer, commit_interval=8)],
        )

    first, _ = _fail_then_restart(jobs, make_job, failing)
    context = _step(jobs, first).execution_context
    assert (context["even.written"], context["odd.written"], context["all.written"]) == (20, 20, 40)
    assert even.read_text(encoding="utf-8").split() == [str(n) for n in range(2, 61, 2)]
    assert odd.read_text(encoding="utf-8").split() == [str(n) for n in range(1, 61, 2)]
    assert everything.read_text(encoding="utf-8").split() == [*map(str, range(1, 61)), "done"]
    with jobs.db.connect() as connection:
        ids = connection.execute(sa.select(table.c.id).order_by(table.c.id)).scalars().all()
    assert ids == list(range(1, 61))


def test_classifier_without_a_writer_for_an_item_fails() -> None:
    writer = ClassifierCompositeItemWriter.routing(lambda n: n, {1: lambda items: None})
    with pytest.raises(KeyError, match="no writer for key 2"):
        writer.write([1, 2])
    with pytest.raises(ValueError, match="at least one"):
        CompositeItemWriter([])


def test_an_item_that_overflows_its_column_is_skipped_and_the_rest_written_once(
    jobs: JobRepository, tmp_path: Path
) -> None:
    output = tmp_path / "out.txt"
    failing = Failing(23)

    def make_job() -> Job:
        writer = FlatFileItemWriter(
            output, name="out", line_aggregator=FixedWidthLineAggregator(None, [3])
        )
        numbers = [*range(1, 13), 1234, *range(13, 31)]
        step = ChunkStep(
            "copy",
            reader=IterableItemReader(numbers, name="numbers"),
            processor=failing,
            writer=writer,
            commit_interval=4,
            skip=[FlatFileFormatError],
            skip_limit=3,
        )
        return Job("overflow", [step])

    first, _ = _fail_then_restart(jobs, make_job, failing)
    assert output.read_text(encoding="utf-8").split() == [str(n) for n in range(1, 31)]
    assert _step(jobs, first).write_skip_count == 1


def test_a_skipped_unreadable_line_counts_as_read_for_the_restart(
    jobs: JobRepository, tmp_path: Path
) -> None:
    source, output = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join("bad\n" if i == 5 else f"{i}\n" for i in range(30)), "utf-8")
    failing = Failing(27)

    def make_job() -> Job:
        reader = FlatFileItemReader(source, name="in", mapper=int)
        step = ChunkStep(
            "copy",
            reader=reader,
            processor=failing,
            writer=FlatFileItemWriter(output, name="out"),
            commit_interval=4,
            skip=[FlatFileParseError],
            skip_limit=3,
        )
        return Job("read-skip", [step])

    _fail_then_restart(jobs, make_job, failing)
    assert output.read_text(encoding="utf-8").split() == [str(i) for i in range(30) if i != 5]
