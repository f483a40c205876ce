"""SQL readers: Spring Batch's ``JdbcPagingItemReader`` (keyset paging) and
``JdbcCursorItemReader`` (one streamed query).

These run the *user's* query (a SQLAlchemy Core ``Select`` or the user's SQL text), on the job
database (a :class:`~springbatch_py.db.database.Database`) or on any SQLAlchemy ``Engine``.

Restart state, under Java's keys:

* paging: ``<name>.read.count`` and ``<name>.start.after`` (a map of sort key to the value that
  the page in progress starts after). A restart reads that page only and passes the
  ``read.count % page_size`` rows of it already read: nothing committed before is read again.
* cursor: ``<name>.read.count``; a restart runs the query again and passes that many rows.

Both run on the step's thread only; the cursor reader holds its own connection from ``open`` to
``close``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, cast

import sqlalchemy as sa

from springbatch_py.core.context import ExecutionContext
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.item.readers import CountingItemReader, T

Order = Literal["asc", "desc"]
Source = Database | sa.Engine


@contextmanager
def _reading(source: Source) -> Iterator[sa.Connection]:
    """The chunk's own transaction on the job database, else a short connection."""
    if isinstance(source, Database):
        with transactions.reading(source) as connection:
            yield connection
    else:
        with source.connect() as connection:
            yield connection


def _plain(value: Any) -> Any:
    """A context value as the plain Python value drivers bind (a ``Long`` is an ``int``
    subclass that some drivers would bind as text)."""
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _engine(source: Source) -> sa.Engine:
    return source.engine if isinstance(source, Database) else source


class SqlPagingItemReader(CountingItemReader[T]):
    """Rows of a query, a page at a time, each page starting after the last row's sort key
    (keyset paging, Java's ``JdbcPagingItemReader``).

    Parameters
    ----------
    source:
        The job database or any SQLAlchemy engine. On the job database each page is read in the
        chunk's transaction.
    query:
        A Core ``Select`` without ORDER BY or LIMIT (they are added), selecting the sort keys.
    sort_keys:
        Names of selected columns that together identify a row, in sort order; a mapping gives
        each an order (``"asc"``/``"desc"``).
    page_size:
        Rows per page.
    mapper:
        Makes the item of a row (a dict by default).
    """

    def __init__(
        self,
        source: Source,
        query: sa.Select[Any],
        sort_keys: Sequence[str] | Mapping[str, Order],
        *,
        name: str = "sqlPagingItemReader",
        page_size: int = 100,
        mapper: Callable[[dict[str, Any]], T] | None = None,
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        super().__init__(name, max_item_count=max_item_count, save_state=save_state)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        keys: dict[str, Order] = (
            dict(sort_keys) if isinstance(sort_keys, Mapping) else dict.fromkeys(sort_keys, "asc")
        )
        if not keys:
            raise ValueError("a paging reader needs at least one sort key")
        for key, order in keys.items():
            if order not in ("asc", "desc"):
                raise ValueError(f"sort key {key!r}: order is 'asc' or 'desc', not {order!r}")
            if key not in query.selected_columns:
                raise ValueError(f"sort key {key!r} is not a column the query selects")
        self.source = source
        self.query = query
        self.sort_keys = keys
        self.page_size = page_size
        self.mapper = mapper
        self._start_after: dict[str, Any] | None = None
        self._previous_start_after: dict[str, Any] | None = None
        self._results: list[dict[str, Any]] | None = None
        self._page = 0
        self._current = 0
        self._jump = 0
        self._jumping = False

    @property
    def start_after_key(self) -> str:
        """Context key of the sort key values the current page starts after."""
        return f"{self.name}.start.after"

    def open(self, context: ExecutionContext) -> None:
        """Open; on restart, resume in the page recorded in the context."""
        self._start_after = None
        if self.save_state:
            saved = context.get(self.start_after_key)
            self._start_after = {k: _plain(v) for k, v in (saved or {}).items()}
        self._previous_start_after = None
        self._results, self._page, self._current, self._jump = None, 0, 0, 0
        self._jumping = True
        try:
            super().open(context)
        finally:
            self._jumping = False
        # Java's jumpToItem: the page and the index in it, read from the start-after values.
        self._page, self._current = divmod(self._jump, self.page_size)

    def update(self, context: ExecutionContext) -> None:
        """Save the count and where the page in progress starts (before each commit)."""
        super().update(context)
        if not self.save_state:
            return
        if self.count % self.page_size == 0 and self._start_after is not None:
            context[self.start_after_key] = dict(self._start_after)  # restart on the next page
        elif self._previous_start_after is not None:
            context[self.start_after_key] = dict(self._previous_start_after)

    def page_query(self, after: Mapping[str, Any] | None) -> sa.Select[Any]:
        """The query of the page that starts after ``after`` (the first page without it)."""
        names = list(self.sort_keys)
        columns = {n: self.query.selected_columns[n] for n in names}
        query = self.query.order_by(None)
        if after:
            alternatives = []
            for index, name in enumerate(names):
                same = [columns[n] == after[n] for n in names[:index]]
                column, value = columns[name], after[name]
                beyond = column > value if self.sort_keys[name] == "asc" else column < value
                alternatives.append(sa.and_(*same, beyond))
            query = query.where(sa.or_(*alternatives))
        ordering = [
            columns[n].asc() if self.sort_keys[n] == "asc" else columns[n].desc() for n in names
        ]
        return query.order_by(*ordering).limit(self.page_size)

    def _read_page(self) -> None:
        if self._page > 0:
            self._previous_start_after = self._start_after
        after = self._start_after if self._page > 0 else None
        with _reading(self.source) as connection:
            rows = [dict(r) for r in connection.execute(self.page_query(after)).mappings()]
        if rows:
            self._start_after = {k: rows[-1][k] for k in self.sort_keys}
        self._results = rows

    def do_read(self) -> T | None:
        if self._jumping:
            self._jump += 1
            return cast(T, self._jump)  # a stand-in: the rows passed are not read
        if self._results is None or self._current >= self.page_size:
            self._read_page()
            self._page += 1
            if self._current >= self.page_size:
                self._current = 0
        assert self._results is not None
        index = self._current
        self._current += 1
        if index >= len(self._results):
            return None
        row = self._results[index]
        return self.mapper(row) if self.mapper else cast(T, row)

    def do_close(self) -> None:
        self._results = None


class SqlCursorItemReader(CountingItemReader[T]):
    """Rows of one query, streamed from a cursor held open for the whole step (Java's
    ``JdbcCursorItemReader``).

    The query is a Core selectable or the user's SQL text (with ``parameters``). It runs on a
    connection of its own, outside the chunks' transactions: on SQLite (rollback journal), an
    open cursor on the file the job writes to would block those writes, so read another
    database there, or use :class:`SqlPagingItemReader`.
    """

    def __init__(
        self,
        source: Source,
        query: sa.Executable | str,
        *,
        name: str = "sqlCursorItemReader",
        parameters: Mapping[str, Any] | None = None,
        fetch_size: int = 100,
        mapper: Callable[[dict[str, Any]], T] | None = None,
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        super().__init__(name, max_item_count=max_item_count, save_state=save_state)
        if fetch_size < 1:
            raise ValueError("fetch_size must be at least 1")
        self.source = source
        self.query: sa.Executable = sa.text(query) if isinstance(query, str) else query
        self.parameters = dict(parameters or {})
        self.fetch_size = fetch_size
        self.mapper = mapper
        self._connection: sa.Connection | None = None
        self._result: sa.MappingResult | None = None
        self._jumping = False

    def open(self, context: ExecutionContext) -> None:
        """Run the query; on restart, pass the rows already read."""
        self._jumping = True
        try:
            super().open(context)
        finally:
            self._jumping = False

    def do_open(self) -> None:
        connection = _engine(self.source).connect()
        try:
            streaming = connection.execution_options(stream_results=True, yield_per=self.fetch_size)
            self._result = streaming.execute(self.query, self.parameters).mappings()
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def do_read(self) -> T | None:
        if self._result is None:
            raise RuntimeError(f"reader {self.name!r} has no open cursor")
        row = self._result.fetchone()
        if row is None or self._jumping:
            return cast(T | None, row)  # while jumping, a stand-in: the rows passed are not mapped
        values = dict(row)
        return self.mapper(values) if self.mapper else cast(T, values)

    def do_close(self) -> None:
        try:
            if self._result is not None:
                self._result.close()
        finally:
            self._result = None
            if self._connection is not None:
                self._connection.close()
            self._connection = None
