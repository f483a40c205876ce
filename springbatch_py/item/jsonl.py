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
from typing import Any

from springbatch_py.item.files import FlatFileItemReader, FlatFileItemWriter


def json_default(value: Any) -> Any:
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


class JsonLinesItemReader(FlatFileItemReader):
    """Items of a JSON lines file: each non-blank line is parsed, then given to ``mapper``.

    A line that is not JSON raises :class:`~springbatch_py.item.formats.FlatFileParseError`
    with its line number (skippable like any read error).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "jsonLinesItemReader",
        mapper: Callable[[Any], Any] | None = None,
        encoding: str = "utf-8",
        **kwargs: Any,
    ) -> None:
        self.json_mapper = mapper
        super().__init__(
            path, name=name, line_mapper=self._parse, comments=(), encoding=encoding, **kwargs
        )

    def _parse(self, line: str, _line_number: int) -> Any:
        value = json.loads(line)
        return self.json_mapper(value) if self.json_mapper else value


class JsonLinesItemWriter(FlatFileItemWriter):
    """Writes each item as one line of compact JSON (``mapper`` first turns it into a JSON
    value; ``default`` encodes other objects, see :func:`json_default`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str = "jsonLinesItemWriter",
        mapper: Callable[[Any], Any] | None = None,
        default: Callable[[Any], Any] = json_default,
        ensure_ascii: bool = False,
        **kwargs: Any,
    ) -> None:
        self.json_mapper = mapper
        self.default = default
        self.ensure_ascii = ensure_ascii
        super().__init__(path, name=name, line_aggregator=self._dump, **kwargs)

    def _dump(self, item: Any) -> str:
        value = self.json_mapper(item) if self.json_mapper else item
        # json.dumps escapes line breaks inside strings, so one item stays one line.
        return json.dumps(
            value, default=self.default, ensure_ascii=self.ensure_ascii, separators=(",", ":")
        )
