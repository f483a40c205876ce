"""Item writers: in memory, CSV files and SQL tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, cast

import sqlalchemy as sa
from typing_extensions import TypeVar

from springbatch_py.core.context import ExecutionContext
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.java.types import Long

#: The item type of a writer (a bare annotation means ``Any``).
T = TypeVar("T", default=Any)


class ListItemWriter(Generic[T]):
    """Appends items to a list (not transactional; for tests and small jobs)."""

    def __init__(self) -> None:
        self.items: list[T] = []

    def write(self, items: Iterable[T]) -> None:
        """Append the chunk's items."""
        self.items.extend(items)


class SqlItemWriter(Generic[T]):
    """Executes a statement once per item in the chunk's transaction.

    On the same database as the job repository the rows commit or roll back with the chunk and
    its step-execution update. ``statement`` is a Core insert/update (or ``text``) with bound
    parameters; ``mapper`` turns an item into its parameters (default: the item, a mapping).
    """

    def __init__(
        self,
        db: Database,
        statement: sa.Executable,
        *,
        mapper: Callable[[T], Mapping[str, Any]] | None = None,
        assert_updates: bool = True,
    ) -> None:
        self.db = db
        self.statement = statement
        self.mapper = mapper
        self.assert_updates = assert_updates

    def write(self, items: Iterable[T]) -> None:
        """Write the chunk."""
        rows = [dict(self.mapper(item) if self.mapper else _mapping(item)) for item in items]
        if not rows:
            return
        with transactions.transaction(self.db) as connection:
            result = connection.execute(self.statement, rows)
        if self.assert_updates and result.rowcount not in (-1, len(rows)):
            # Java's JdbcBatchItemWriter refuses an item that updated no row.
            raise RuntimeError(f"{len(rows)} items written but {result.rowcount} rows affected")


class CsvItemWriter(Generic[T]):
    """Writes items as CSV rows; restartable.

    Rows are buffered during the chunk and written when the chunk is about to commit; the file
    position is saved in the step context under ``<name>.current.count`` (a Long). A rolled-back
    chunk's rows are dropped (and the file cut back if they were already written), and a restart
    cuts the file back to the last committed position.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fieldnames: list[str],
        name: str = "csvItemWriter",
        header: bool = True,
        mapper: Callable[[T], Mapping[str, Any]] | None = None,
        delimiter: str = ",",
        encoding: str = "utf-8",
    ) -> None:
        self.path = Path(path)
        self.fieldnames = fieldnames
        self.name = name
        self.header = header
        self.mapper = mapper
        self.delimiter = delimiter
        self.encoding = encoding
        self._buffer: list[Mapping[str, Any]] = []
        self._chunk_start = 0

    @property
    def position_key(self) -> str:
        """Context key of the committed file position."""
        return f"{self.name}.current.count"

    def open(self, context: ExecutionContext) -> None:
        """Create the file, or cut it back to the last committed position on restart."""
        if self.position_key in context and self.path.exists():
            with self.path.open("r+b") as handle:
                handle.truncate(context.get_long(self.position_key))
        else:
            with self.path.open("w", newline="", encoding=self.encoding) as handle:
                if self.header:
                    csv.writer(handle, delimiter=self.delimiter).writerow(self.fieldnames)
        self._chunk_start = self.path.stat().st_size
        self._buffer = []

    def write(self, items: Iterable[T]) -> None:
        """Buffer the chunk's rows."""
        self._buffer.extend(self.mapper(i) if self.mapper else _mapping(i) for i in items)

    def before_chunk(self, _context: object) -> None:
        """Remember where this chunk starts in the file."""
        self._chunk_start = self.path.stat().st_size

    def after_chunk_error(self, _context: object) -> None:
        """Drop the rolled-back chunk's rows."""
        self._buffer = []
        with self.path.open("r+b") as handle:
            handle.truncate(self._chunk_start)

    def update(self, context: ExecutionContext) -> None:
        """Write the buffered rows and save the position (before the chunk commits)."""
        if self._buffer:
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=self.fieldnames, delimiter=self.delimiter)
            writer.writerows(self._buffer)
            with self.path.open("a", newline="", encoding=self.encoding) as handle:
                handle.write(text.getvalue())
            self._buffer = []
        context[self.position_key] = Long(self.path.stat().st_size)

    def close(self) -> None:
        """Nothing stays open between chunks."""


def _mapping(item: object) -> Mapping[str, Any]:
    # Without a mapper the items are the rows (a mapping of column to value).
    return cast("Mapping[str, Any]", item)
