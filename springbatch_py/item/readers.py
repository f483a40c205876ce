"""Restartable item readers.

Every reader here counts its reads the way Java's ``AbstractItemCountingItemStreamItemReader``
does and keeps the count in the step context under ``<name>.read.count`` (a
``java.lang.Integer``); on restart it skips that many items. Like Java's, the count goes up
*before* each read of the source, so it also counts a read that failed (and was skipped) and the
final read that found the end: a step that reads 100 items to the end stores 101. Only reads
within a committed chunk are saved, so a restart skips exactly the items (and the failed reads)
that were committed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Generic, cast

import sqlalchemy as sa
from typing_extensions import TypeVar

from springbatch_py.core.context import ExecutionContext
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.java.types import Integer

#: The item type of a reader (a bare annotation means ``Any``).
T = TypeVar("T", default=Any)


class CountingItemReader(Generic[T]):
    """Base of readers that restart by count (an :class:`~springbatch_py.core.items.ItemReader`
    and :class:`~springbatch_py.core.items.ItemStream`).

    Parameters
    ----------
    name:
        Prefix of the context keys; unique within the step.
    max_item_count:
        Stop after this many items.
    save_state:
        Keep the count in the step context (turn off for readers that cannot restart).
    """

    def __init__(
        self, name: str, *, max_item_count: int | None = None, save_state: bool = True
    ) -> None:
        self.name = name
        self.max_item_count = max_item_count
        self.save_state = save_state
        self.count = 0
        self._opened = False

    @property
    def count_key(self) -> str:
        """Context key of the read count."""
        return f"{self.name}.read.count"

    def open(self, context: ExecutionContext) -> None:
        """Open the source and, on restart, move past the reads already committed."""
        self.count = 0
        self.do_open()
        self._opened = True
        if self.save_state and self.count_key in context:
            start = context.get_int(self.count_key)
            limit = self.max_item_count
            if start > 0 and (limit is None or start < limit):
                self.jump_to_item(start)
            self.count = start

    def read(self) -> T | None:
        """The next item, or ``None`` at the end.

        Counts the read before making it (Java's order): a read that raises or finds the end
        counts too, and a restart does not repeat it.
        """
        if not self._opened:
            raise RuntimeError(f"reader {self.name!r} was not opened")
        if self.max_item_count is not None and self.count >= self.max_item_count:
            return None
        self.count += 1
        return self.do_read()

    def update(self, context: ExecutionContext) -> None:
        """Save the count (called before each chunk commits)."""
        if self.save_state:
            context[self.count_key] = Integer(self.count)
            if self.max_item_count is not None:
                context[f"{self.name}.read.count.max"] = Integer(self.max_item_count)

    def close(self) -> None:
        """Release the source."""
        self._opened = False
        self.do_close()

    def do_open(self) -> None:
        """Open the underlying source."""

    def do_read(self) -> T | None:
        """The next item of the source, or ``None``."""
        raise NotImplementedError

    def jump_to_item(self, count: int) -> None:
        """Move past the first ``count`` reads of the source (on restart). Readers whose
        source can skip without reading (or without mapping) override it."""
        for _ in range(count):
            if self.do_read() is None:
                return

    def do_close(self) -> None:
        """Close the underlying source."""


class IterableItemReader(CountingItemReader[T]):
    """Items of an iterable, or of the iterator a factory returns (generators included).

    Pass a factory (``lambda: generate()``) when the source can only be iterated once: a
    restart calls it again and skips the items already read.
    """

    def __init__(
        self,
        source: Iterable[T] | Callable[[], Iterable[T]],
        *,
        name: str = "iterableItemReader",
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        super().__init__(name, max_item_count=max_item_count, save_state=save_state)
        self._source = source
        self._iterator: Iterator[T] | None = None

    def do_open(self) -> None:
        source = self._source() if callable(self._source) else self._source
        self._iterator = iter(source)

    def do_read(self) -> T | None:
        assert self._iterator is not None
        return next(self._iterator, None)

    def do_close(self) -> None:
        self._iterator = None


class CsvItemReader(CountingItemReader[T]):
    """Rows of a CSV file as dicts (or whatever ``mapper`` makes of them).

    ``fieldnames`` names the columns; without it the first line is the header.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "csvItemReader",
        fieldnames: list[str] | None = None,
        mapper: Callable[[dict[str, str]], T] | None = None,
        delimiter: str = ",",
        encoding: str = "utf-8",
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        super().__init__(name, max_item_count=max_item_count, save_state=save_state)
        self.path = Path(path)
        self.fieldnames = fieldnames
        self.mapper = mapper
        self.delimiter = delimiter
        self.encoding = encoding
        self._file: IO[str] | None = None
        self._rows: csv.DictReader[str] | None = None

    def do_open(self) -> None:
        self._file = self.path.open(newline="", encoding=self.encoding)
        self._rows = csv.DictReader(
            self._file, fieldnames=self.fieldnames, delimiter=self.delimiter
        )

    def do_read(self) -> T | None:
        assert self._rows is not None
        row = next(self._rows, None)
        if row is None:
            return None
        # Without a mapper the items are the rows (T is dict[str, str], or Any).
        return self.mapper(row) if self.mapper else cast(T, row)

    def jump_to_item(self, count: int) -> None:
        # Skip rows without mapping them, as Java's flat file reader skips lines: a row whose
        # mapping failed (and was skipped) is passed over again, not failed again.
        assert self._rows is not None
        for _ in range(count):
            if next(self._rows, None) is None:
                return

    def do_close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._rows = None


class SqlItemReader(CountingItemReader[T]):
    """Rows of a query, read page by page (Java's paging reader).

    The query must have a deterministic ORDER BY. Each page is a short query on the current
    chunk's transaction when it runs on the same database (so SQLite never waits on its own
    read lock), else on a connection of its own. Rows come as dicts, or through ``mapper``.
    """

    def __init__(
        self,
        db: Database,
        query: sa.Select[Any],
        *,
        name: str = "sqlItemReader",
        page_size: int = 100,
        mapper: Callable[[Mapping[str, Any]], T] | None = None,
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        super().__init__(name, max_item_count=max_item_count, save_state=save_state)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.db = db
        self.query = query
        self.page_size = page_size
        self.mapper = mapper
        self._page: list[dict[str, Any]] = []
        self._offset = 0
        self._exhausted = False

    def do_open(self) -> None:
        self._page, self._offset, self._exhausted = [], 0, False

    def jump_to_item(self, count: int) -> None:
        # Paging by offset: start at the row after the committed reads, without fetching them.
        self._page, self._offset, self._exhausted = [], count, False

    def do_read(self) -> T | None:
        if not self._page and not self._exhausted:
            with transactions.reading(self.db) as connection:
                rows = (
                    connection.execute(self.query.offset(self._offset).limit(self.page_size))
                    .mappings()
                    .all()
                )
            self._offset += len(rows)
            self._exhausted = len(rows) < self.page_size
            self._page = [dict(r) for r in rows]
        if not self._page:
            return None
        row = self._page.pop(0)
        return self.mapper(row) if self.mapper else cast(T, row)
