"""JSON lines (newline-delimited JSON): the analogues of Java's ``JsonItemReader`` and
``JsonFileItemWriter``, one JSON value per line so that a restart can resume mid-file.

They restart exactly as the flat-file reader and writer do (``<name>.read.count``;
``<name>.current.count`` and ``<name>.written``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from springbatch_py.item.files import FlatFileItemReader, FlatFileItemWriter, HeaderFooter
from springbatch_py.item.readers import T


def json_default(value: object) -> object:
    """Encodes what :mod:`json` does not: dataclasses, dates and times (ISO 8601), decimals
    (as strings, so no digit is lost) and sets (as lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class JsonLinesItemReader(FlatFileItemReader[T]):
    """Items of a JSON lines file: each non-blank line is parsed, then given to ``mapper``.

    A line that is not JSON raises :class:`~springbatch_py.item.formats.FlatFileParseError`
    with its line number (skippable like any read error).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "jsonLinesItemReader",
        mapper: Callable[[Any], T] | None = None,
        encoding: str = "utf-8",
        lines_to_skip: int = 0,
        skipped_lines_callback: Callable[[str], None] | None = None,
        skip_blank_lines: bool = True,
        strict: bool = True,
        max_item_count: int | None = None,
        save_state: bool = True,
    ) -> None:
        self.json_mapper = mapper
        super().__init__(
            path,
            name=name,
            line_mapper=self._parse,
            comments=(),
            encoding=encoding,
            lines_to_skip=lines_to_skip,
            skipped_lines_callback=skipped_lines_callback,
            skip_blank_lines=skip_blank_lines,
            strict=strict,
            max_item_count=max_item_count,
            save_state=save_state,
        )

    def _parse(self, line: str, _line_number: int) -> T:
        value = json.loads(line)
        # Without a mapper the items are the parsed JSON values (T is Any).
        return self.json_mapper(value) if self.json_mapper else cast(T, value)


class JsonLinesItemWriter(FlatFileItemWriter[T]):
    """Writes each item as one line of compact JSON (``mapper`` first turns it into a JSON
    value; ``default`` encodes other objects, see :func:`json_default`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "jsonLinesItemWriter",
        mapper: Callable[[T], object] | None = None,
        default: Callable[[Any], object] = json_default,
        ensure_ascii: bool = False,
        header: HeaderFooter | None = None,
        footer: HeaderFooter | None = None,
        append: bool = False,
        should_delete_if_empty: bool = False,
        save_state: bool = True,
        line_separator: str = "\n",
        encoding: str = "utf-8",
    ) -> None:
        self.json_mapper = mapper
        self.default = default
        self.ensure_ascii = ensure_ascii
        super().__init__(
            path,
            name=name,
            line_aggregator=self._dump,
            header=header,
            footer=footer,
            append=append,
            should_delete_if_empty=should_delete_if_empty,
            save_state=save_state,
            line_separator=line_separator,
            encoding=encoding,
        )

    def _dump(self, item: T) -> str:
        value = self.json_mapper(item) if self.json_mapper else item
        # json.dumps escapes line breaks inside strings, so one item stays one line.
        return json.dumps(
            value, default=self.default, ensure_ascii=self.ensure_ascii, separators=(",", ":")
        )
