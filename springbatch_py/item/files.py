"""Flat files: Spring Batch's ``FlatFileItemReader`` and ``FlatFileItemWriter``.

The reader keeps ``<name>.read.count`` (a ``java.lang.Integer``) in the step context and, on
restart, moves past that many records without mapping them. The writer keeps
``<name>.current.count`` (the byte position of the last committed chunk, a ``Long``) and
``<name>.written`` (lines written, a ``Long``): its lines are buffered during a chunk and reach the
file just before the chunk commits; a rolled-back chunk's lines are cut off again, and a
restarted writer cuts the file back to the last committed position, as Java's does.

Both run on the step's thread only.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Generic, cast

from springbatch_py.core.context import ExecutionContext
from springbatch_py.errors import SpringBatchError
from springbatch_py.item.formats import FlatFileParseError, LineAggregator, LineTokenizer
from springbatch_py.item.readers import CountingItemReader, T
from springbatch_py.java.types import Long

#: Writes a header or footer: a fixed text, or a callable writing to a text stream.
HeaderFooter = str | Callable[[IO[str]], None]


class FlatFileItemReader(CountingItemReader[T]):
    """Records of a text file, one per line (a quoted delimited field may span lines).

    Parameters
    ----------
    path:
        The file.
    tokenizer:
        Splits a record into fields (:class:`~springbatch_py.item.formats.DelimitedLineTokenizer`,
        :class:`~springbatch_py.item.formats.FixedLengthTokenizer`); without one the item is the
        line itself.
    mapper:
        Turns the fields (or the line) into the item (Java's ``FieldSetMapper``).
    line_mapper:
        Instead of ``tokenizer`` and ``mapper``: ``line_mapper(line, line_number)`` makes the item.
    lines_to_skip, skipped_lines_callback:
        Header lines to skip at the start, each handed to the callback (to read a header).
    comments:
        Prefixes of lines to ignore.
    skip_blank_lines:
        Ignore empty lines (Java maps them like any other line).
    strict:
        A missing file is an error at ``open`` (else the reader has no items).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "flatFileItemReader",
        tokenizer: LineTokenizer | None = None,
        mapper: Callable[[Any], T] | None = None,
        line_mapper: Callable[[str, int], T] | None = None,
        lines_to_skip: int = 0,
        skipped_lines_callback: Callable[[str], None] | None = None,
        comments: Sequence[str] = ("#",),
        skip_blank_lines: bool = True,
        strict: bool = True,
        encoding: str = "utf-8",
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        super().__init__(name, max_item_count=max_item_count, save_state=save_state)
        if line_mapper is not None and (tokenizer is not None or mapper is not None):
            raise ValueError("give either line_mapper or tokenizer/mapper")
        self.path = Path(path)
        self.tokenizer = tokenizer
        self.mapper = mapper
        self.line_mapper = line_mapper
        self.lines_to_skip = lines_to_skip
        self.skipped_lines_callback = skipped_lines_callback
        self.comments = tuple(comments)
        self.skip_blank_lines = skip_blank_lines
        self.strict = strict
        self.encoding = encoding
        self.line_count = 0
        self._file: IO[str] | None = None
        self._jumping = False

    def open(self, context: ExecutionContext) -> None:
        """Open the file, skip the header lines and, on restart, the records already read."""
        self._jumping = True  # the records passed on restart are not mapped (as in Java)
        try:
            super().open(context)
        finally:
            self._jumping = False

    def do_open(self) -> None:
        self.line_count = 0
        if not self.path.exists():
            if self.strict:
                raise SpringBatchError(f"input file {self.path} does not exist")
            self._file = None
            return
        self._file = self.path.open(encoding=self.encoding)
        for _ in range(self.lines_to_skip):
            line = self._read_line()
            if line is None:
                break
            if self.skipped_lines_callback is not None:
                self.skipped_lines_callback(line)

    def _read_line(self) -> str | None:
        """The next line that is not a comment (nor blank, when so asked), or ``None``."""
        assert self._file is not None
        while True:
            line = self._file.readline()
            if not line:
                return None
            self.line_count += 1
            line = line.rstrip("\n")
            if self.comments and line.startswith(self.comments):
                continue
            if self.skip_blank_lines and not line.strip():
                continue
            return line

    def _read_record(self) -> str | None:
        record = self._read_line()
        complete = getattr(self.tokenizer, "is_complete", None)
        while record is not None and complete is not None and not complete(record):
            assert self._file is not None
            more = self._file.readline()
            if not more:
                raise FlatFileParseError(
                    f"Unexpected end of file in a quoted field at line: {self.line_count} in "
                    f"resource=[{self.path}], input=[{record}]",
                    record=record,
                    line_number=self.line_count,
                )
            self.line_count += 1
            record = record + "\n" + more.rstrip("\n")
        return record

    def do_read(self) -> T | None:
        if self._file is None:
            return None
        record = self._read_record()
        if record is None or self._jumping:
            return cast(T | None, record)  # while jumping, a stand-in: records are not mapped
        try:
            if self.line_mapper is not None:
                return self.line_mapper(record, self.line_count)
            fields: Any = self.tokenizer.tokenize(record) if self.tokenizer else record
            return self.mapper(fields) if self.mapper else cast(T, fields)
        except Exception as exc:
            raise FlatFileParseError(
                f"Parsing error at line: {self.line_count} in resource=[{self.path}], "
                f"input=[{record}]: {exc}",
                record=record,
                line_number=self.line_count,
            ) from exc

    def do_close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None


def _render(part: HeaderFooter) -> str:
    if isinstance(part, str):
        return part
    text = io.StringIO()
    part(text)
    return text.getvalue()


class FlatFileItemWriter(Generic[T]):
    """Writes each item as one line; restartable, and never writes a committed item twice.

    Parameters
    ----------
    path:
        The file.
    line_aggregator:
        Makes a line of an item: an object with ``aggregate(item)``
        (:class:`~springbatch_py.item.formats.DelimitedLineAggregator`,
        :class:`~springbatch_py.item.formats.FixedWidthLineAggregator`,
        :class:`~springbatch_py.item.formats.FormatterLineAggregator`) or a callable; default
        ``str``.
    header, footer:
        Text, or a callable writing to a text stream (Java's header and footer callbacks); each
        is followed by the line separator. The header is written when the file is started; the
        footer when the writer closes (a restart cuts it off again with what was not
        committed).
    append:
        Add to an existing file instead of replacing it (no header then).
    should_delete_if_empty:
        Remove the file at close when no line was written.

    Lines are buffered during a chunk and written just before it commits, so the writer must be
    the step's writer (or a delegate of a composite writer) to hear of rolled-back chunks.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "flatFileItemWriter",
        line_aggregator: LineAggregator[T] | Callable[[T], str] = str,
        header: HeaderFooter | None = None,
        footer: HeaderFooter | None = None,
        append: bool = False,
        should_delete_if_empty: bool = False,
        save_state: bool = True,
        line_separator: str = "\n",
        encoding: str = "utf-8",
    ) -> None:
        self.path = Path(path)
        self.name = name
        aggregate: Callable[[T], str] | None = getattr(line_aggregator, "aggregate", None)
        self._aggregate: Callable[[T], str] = aggregate or cast(Callable[[T], str], line_aggregator)
        self.header = header
        self.footer = footer
        self.append = append
        self.should_delete_if_empty = should_delete_if_empty
        self.save_state = save_state
        self.line_separator = line_separator
        self.encoding = encoding
        self.lines_written = 0
        self._buffer: list[str] = []
        self._chunk_start = 0
        self._chunk_lines = 0
        self._open = False

    @property
    def position_key(self) -> str:
        """Context key of the committed byte position (Java's ``current.count``)."""
        return f"{self.name}.current.count"

    @property
    def written_key(self) -> str:
        """Context key of the number of lines written."""
        return f"{self.name}.written"

    def _size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def _append(self, text: str) -> None:
        with self.path.open("ab") as handle:
            handle.write(text.encode(self.encoding))
            handle.flush()
            os.fsync(handle.fileno())

    def open(self, context: ExecutionContext) -> None:
        """Start the file, or cut it back to the last committed position on restart."""
        self._buffer = []
        if self.save_state and self.position_key in context:
            position = context.get_long(self.position_key)
            if self._size() < position:
                raise SpringBatchError(
                    f"{self.path} is shorter ({self._size()} bytes) than at the last commit "
                    f"({position} bytes): it was changed since, refusing to restart"
                )
            with self.path.open("r+b") as handle:
                handle.truncate(position)
            self.lines_written = context.get_long(self.written_key, 0)
        else:
            self.lines_written = 0
            appending = self.append and self._size() > 0
            if not appending:
                self.path.write_bytes(b"")
                if self.header is not None:
                    self._append(_render(self.header) + self.line_separator)
        self._chunk_start, self._chunk_lines = self._size(), self.lines_written
        self._open = True

    def aggregate(self, item: T) -> str:
        """The line of one item (without the separator)."""
        return self._aggregate(item)

    def write(self, items: Iterable[T]) -> None:
        """Format the chunk's items; they reach the file when the chunk commits."""
        if not self._open:
            raise RuntimeError(f"writer {self.name!r} was not opened")
        self._buffer.extend(self.aggregate(item) + self.line_separator for item in items)

    def before_chunk(self, _context: object) -> None:
        """Remember where this chunk starts."""
        self._chunk_start, self._chunk_lines = self._size(), self.lines_written

    def after_chunk_error(self, _context: object) -> None:
        """Drop the rolled-back chunk's lines, from the buffer and (if written) the file."""
        self._buffer = []
        if self._open and self._size() > self._chunk_start:
            with self.path.open("r+b") as handle:
                handle.truncate(self._chunk_start)
        self.lines_written = self._chunk_lines

    def update(self, context: ExecutionContext) -> None:
        """Write the buffered lines and save the position (just before the chunk commits)."""
        if not self._open:
            raise RuntimeError(f"writer {self.name!r} was not opened")
        if self._buffer:
            self._append("".join(self._buffer))
            self.lines_written += len(self._buffer)
            self._buffer = []
        if self.save_state:
            context[self.position_key] = Long(self._size())
            context[self.written_key] = Long(self.lines_written)

    def close(self) -> None:
        """Write the footer (lines of an uncommitted chunk are dropped)."""
        if not self._open:
            return
        self._open = False
        self._buffer = []
        if self.should_delete_if_empty and self.lines_written == 0:
            self.path.unlink(missing_ok=True)
            return
        if self.footer is not None:
            self._append(_render(self.footer) + self.line_separator)
