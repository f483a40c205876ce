"""Execution-context rows: SHORT_CONTEXT / SERIALIZED_CONTEXT, as Spring Batch writes them.

The serializer's text goes whole into SHORT_CONTEXT when it has at most 2500 UTF-16 code units;
otherwise SHORT_CONTEXT gets the first 2492 units and " ..." and SERIALIZED_CONTEXT the whole
text. Readers use SERIALIZED_CONTEXT when it is not NULL (a truncated short form is never read).

A stored context that cannot be read (corrupt text, a class the reader refuses) is, for readers
that ask for it, an :class:`UnreadableContext`: it stands in for the context so that the rest of
the execution can be shown, and raises the read error as soon as anything uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal, NoReturn

import sqlalchemy as sa
from sqlalchemy import Connection

from springbatch_py.core.context import ExecutionContext
from springbatch_py.db.dialect import Dialect
from springbatch_py.repository.serialization import ContextSerializationError, ContextSerializer

#: Spring Batch's short-context length (``maxVarCharLength``), in UTF-16 code units.
SHORT_CONTEXT_LENGTH = 2500


def utf16_length(text: str) -> int:
    """Java's ``String.length()``: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_prefix(text: str, units: int) -> str:
    """The first ``units`` UTF-16 code units of ``text`` (never half a surrogate pair)."""
    count = 0
    for index, ch in enumerate(text):
        width = 2 if ord(ch) > 0xFFFF else 1
        if count + width > units:
            return text[:index]
        count += width
    return text


def split_context(serialized: str) -> tuple[str, str | None]:
    """SHORT_CONTEXT and SERIALIZED_CONTEXT for a serialized context."""
    if utf16_length(serialized) > SHORT_CONTEXT_LENGTH:
        return utf16_prefix(serialized, SHORT_CONTEXT_LENGTH - 8) + " ...", serialized
    return serialized, None


#: What a reader does with a context it cannot read: raise at once, or stand in an
#: :class:`UnreadableContext` that raises when used.
UnreadablePolicy = Literal["raise", "mark"]


class UnreadableContext(ExecutionContext):
    """A stored execution context that could not be read.

    Views show the execution with :attr:`reason` in place of the context; any operation that
    needs the context (reading or changing a value, iterating, saving it) raises the original
    :class:`ContextSerializationError`, so nothing runs on, or overwrites, a context it could not
    read.
    """

    def __init__(self, error: ContextSerializationError) -> None:
        super().__init__()
        self.error = error

    @property
    def reason(self) -> str:
        """Why the context could not be read, on one line."""
        return re.sub(r"\s+", " ", str(self.error)).strip()

    def _refuse(self) -> NoReturn:
        raise ContextSerializationError(
            str(self.error), where=self.error.where, java_class=self.error.java_class
        )

    def __getitem__(self, key: str) -> Any:
        self._refuse()

    def __setitem__(self, key: str, value: Any) -> None:
        self._refuse()

    def __delitem__(self, key: str) -> None:
        self._refuse()

    def __iter__(self) -> Iterator[str]:
        self._refuse()

    def __len__(self) -> int:
        self._refuse()

    def __contains__(self, key: object) -> bool:
        self._refuse()

    def __repr__(self) -> str:
        return f"UnreadableContext({self.reason!r})"

    def _typed(self, key: str, java_class: str, default: Any) -> Any:
        self._refuse()

    def copy(self) -> ExecutionContext:
        self._refuse()

    def to_dict(self) -> dict[str, Any]:
        self._refuse()


def unreadable_reason(context: ExecutionContext) -> str | None:
    """Why ``context`` could not be read, or None for a readable one."""
    return context.reason if isinstance(context, UnreadableContext) else None


class ContextRows:
    """Reads and writes the context rows of job and step executions."""

    def __init__(self, dialect: Dialect, serializer: ContextSerializer) -> None:
        self.dialect = dialect
        self.serializer = serializer

    def _values(self, context: ExecutionContext, where: str) -> dict[str, Any]:
        text = self.serializer.serialize(context.to_dict())
        short, long = split_context(text)
        limit = self.dialect.serialized_context_max_bytes
        if long is not None and limit is not None and len(long.encode("utf-8")) > limit:
            raise ContextSerializationError(
                f"the execution context of {where} serializes to {len(long.encode())} bytes; "
                f"{self.dialect.product}'s TEXT column holds {limit}"
            )
        return {"short_context": short, "serialized_context": long}

    def insert(
        self,
        connection: Connection,
        table: sa.Table,
        key: str,
        id_: int,
        context: ExecutionContext,
        where: str,
    ) -> None:
        """Insert the context row of a new execution."""
        connection.execute(table.insert().values({key: id_, **self._values(context, where)}))
        context.clear_dirty()

    def update(
        self,
        connection: Connection,
        table: sa.Table,
        key: str,
        id_: int,
        context: ExecutionContext,
        where: str,
    ) -> None:
        """Rewrite the context row of an execution."""
        result = connection.execute(
            table.update().where(table.c[key] == id_).values(self._values(context, where))
        )
        if result.rowcount != 1:
            # Java ignores the count; a missing row means its later reads would lose data.
            raise ContextSerializationError(f"no execution-context row for {where}")
        context.clear_dirty()

    def load(
        self,
        connection: Connection,
        table: sa.Table,
        key: str,
        id_: int,
        where: str,
        *,
        unreadable: UnreadablePolicy = "raise",
    ) -> ExecutionContext:
        """Read and deserialize the context of an execution (empty when there is no row).

        A context that cannot be read raises :class:`ContextSerializationError`, or with
        ``unreadable="mark"`` comes back as an :class:`UnreadableContext`.
        """
        try:
            return self._load(connection, table, key, id_, where)
        except ContextSerializationError as exc:
            if unreadable == "mark":
                return UnreadableContext(exc)
            raise

    def _load(
        self, connection: Connection, table: sa.Table, key: str, id_: int, where: str
    ) -> ExecutionContext:
        row = connection.execute(
            sa.select(table.c.short_context, table.c.serialized_context).where(table.c[key] == id_)
        ).first()
        if row is None:
            return ExecutionContext()
        text = row.serialized_context if row.serialized_context is not None else row.short_context
        values = self.serializer.deserialize(text or "", where=where)
        try:
            return ExecutionContext(values)
        except TypeError as exc:
            raise ContextSerializationError(
                f"cannot read the execution context of {where}: {exc}"
            ) from None
