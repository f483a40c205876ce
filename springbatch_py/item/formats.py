"""Line formats of flat files: tokenizers that split a record, aggregators that build a line.

Spring Batch's ``DelimitedLineTokenizer``, ``FixedLengthTokenizer``, ``DelimitedLineAggregator``
and ``FormatterLineAggregator``, plus a fixed-width aggregator that pads each column and refuses
a value wider than its column. Fields are taken from an item by name (a mapping key or an
attribute, Java's ``BeanWrapperFieldExtractor``) or by position (a tuple or list).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from springbatch_py.errors import SpringBatchError

T_contra = TypeVar("T_contra", contravariant=True)


class FlatFileFormatError(SpringBatchError, ValueError):
    """An item cannot be written in the file's format (for example it overflows its column)."""


class FlatFileParseError(SpringBatchError, ValueError):
    """A record of a flat file cannot be read; says the line number and the input."""

    def __init__(self, message: str, *, record: str = "", line_number: int = 0) -> None:
        super().__init__(message)
        self.record = record
        self.line_number = line_number


class IncorrectTokenCountError(FlatFileParseError):
    """A delimited record has more or fewer fields than names."""


class IncorrectLineLengthError(FlatFileParseError):
    """A fixed-length record is shorter or longer than its columns."""


class LineTokenizer(Protocol):
    """Splits a record into fields: a dict when the fields have names, else a list."""

    def tokenize(self, record: str) -> dict[str, str] | list[str]: ...


class LineAggregator(Protocol[T_contra]):
    """Makes the line of an item (Java's ``LineAggregator``); a plain function of the item
    does too."""

    def aggregate(self, item: T_contra) -> str: ...


def extract_fields(item: object, fields: Sequence[str] | None) -> list[object]:
    """The values of ``fields`` (mapping keys or attributes), or the item's own values.

    Without field names a tuple or list gives its elements, a mapping its values and anything
    else is one field.
    """
    if fields is None:
        if isinstance(item, (list, tuple)):
            return list(item)
        if isinstance(item, Mapping):
            return list(item.values())
        return [item]
    if isinstance(item, Mapping):
        return [item[name] for name in fields]
    return [getattr(item, name) for name in fields]


def _text(value: object) -> str:
    return "" if value is None else str(value)


class DelimitedLineTokenizer:
    """Splits a delimited record; quoted fields may hold the delimiter, quotes (doubled) and
    line breaks.

    ``strict`` (Java's default) refuses a record whose field count differs from ``names``;
    otherwise missing fields are empty and extra ones dropped.
    """

    def __init__(
        self,
        names: Sequence[str] | None = None,
        *,
        delimiter: str = ",",
        quote_character: str = '"',
        strict: bool = True,
    ) -> None:
        if len(delimiter) != 1 or len(quote_character) != 1:
            raise ValueError("delimiter and quote_character must be one character each")
        self.names = list(names) if names is not None else None
        self.delimiter = delimiter
        self.quote_character = quote_character
        self.strict = strict

    def is_complete(self, record: str) -> bool:
        """Whether ``record`` ends outside quotes (else the next line continues it)."""
        return record.count(self.quote_character) % 2 == 0

    def tokenize(self, record: str) -> dict[str, str] | list[str]:
        """The record's fields."""
        reader = csv.reader(
            io.StringIO(record, newline=""),
            delimiter=self.delimiter,
            quotechar=self.quote_character,
            doublequote=True,
            strict=True,
        )
        try:
            tokens = [t for row in reader for t in row] if record else [""]
        except csv.Error as exc:
            raise FlatFileParseError(str(exc), record=record) from exc
        if self.names is None:
            return tokens
        if len(tokens) != len(self.names):
            if self.strict:
                raise IncorrectTokenCountError(
                    f"Incorrect number of tokens found in record: expected {len(self.names)} "
                    f"actual {len(tokens)}",
                    record=record,
                )
            tokens = (tokens + [""] * len(self.names))[: len(self.names)]
        return dict(zip(self.names, tokens, strict=True))


def parse_ranges(text: str) -> list[tuple[int, int | None]]:
    """Java's range notation ``"1-4, 5-10, 11"`` (1-based, inclusive; a lone start runs to the
    end of the line) as ``(start, end)`` pairs."""
    ranges: list[tuple[int, int | None]] = []
    for part in (p.strip() for p in text.split(",")):
        start, _, end = part.partition("-")
        try:
            ranges.append((int(start), int(end) if end.strip() else None))
        except ValueError:
            raise ValueError(f"not a range: {part!r}") from None
    return ranges


class FixedLengthTokenizer:
    """Cuts a record into columns given as 1-based inclusive ranges (``"1-4,5-10"`` or pairs).

    ``strict`` (Java's default) refuses a line whose length is not the last column's end;
    values are stripped of surrounding blanks unless ``strip`` is off.
    """

    def __init__(
        self,
        columns: str | Sequence[tuple[int, int | None]],
        names: Sequence[str] | None = None,
        *,
        strict: bool = True,
        strip: bool = True,
    ) -> None:
        self.columns = parse_ranges(columns) if isinstance(columns, str) else list(columns)
        if not self.columns:
            raise ValueError("a fixed-length tokenizer needs columns")
        for start, end in self.columns:
            if start < 1 or (end is not None and end < start):
                raise ValueError(f"bad column range {start}-{end}")
        if names is not None and len(names) != len(self.columns):
            raise ValueError("as many names as columns are needed")
        self.names = list(names) if names is not None else None
        self.strict = strict
        self.strip = strip
        ends = [end for _, end in self.columns]
        self.max_range = 0 if None in ends else max(e for e in ends if e is not None)

    def tokenize(self, record: str) -> dict[str, str] | list[str]:
        """The record's columns."""
        if self.strict and self.max_range:
            if len(record) > self.max_range:
                raise IncorrectLineLengthError(
                    f"Line is longer than max range {self.max_range}", record=record
                )
            if len(record) < self.max_range:
                raise IncorrectLineLengthError(
                    f"Line is shorter than max range {self.max_range}", record=record
                )
        tokens = [record[start - 1 : end] for start, end in self.columns]
        if self.strip:
            tokens = [t.strip() for t in tokens]
        if self.names is None:
            return tokens
        return dict(zip(self.names, tokens, strict=True))


class DelimitedLineAggregator:
    """Joins an item's fields with a delimiter, quoting (RFC 4180) a field that holds the
    delimiter, the quote character or a line break; ``quote_all`` quotes every field."""

    def __init__(
        self,
        fields: Sequence[str] | None = None,
        *,
        delimiter: str = ",",
        quote_character: str = '"',
        quote_all: bool = False,
    ) -> None:
        if not delimiter:
            raise ValueError("the delimiter must not be empty")
        self.fields = list(fields) if fields is not None else None
        self.delimiter = delimiter
        self.quote_character = quote_character
        self.quote_all = quote_all

    def _quote(self, value: str) -> str:
        q = self.quote_character
        special = self.delimiter in value or q in value or "\n" in value or "\r" in value
        if self.quote_all or special:
            return q + value.replace(q, q + q) + q
        return value

    def aggregate(self, item: object) -> str:
        """The item as one delimited line (without the line separator)."""
        values = extract_fields(item, self.fields)
        return self.delimiter.join(self._quote(_text(v)) for v in values)


class FormatterLineAggregator:
    """Formats an item's fields with a :meth:`str.format` pattern (``"{:<10}{:>6.2f}"``), Java's
    ``FormatterLineAggregator``; a line longer than ``maximum_length`` or shorter than
    ``minimum_length`` (when set) is refused."""

    def __init__(
        self,
        pattern: str,
        fields: Sequence[str] | None = None,
        *,
        minimum_length: int = 0,
        maximum_length: int = 0,
    ) -> None:
        self.pattern = pattern
        self.fields = list(fields) if fields is not None else None
        self.minimum_length = minimum_length
        self.maximum_length = maximum_length

    def aggregate(self, item: object) -> str:
        """The formatted line."""
        line = self.pattern.format(*extract_fields(item, self.fields))
        if self.maximum_length and len(line) > self.maximum_length:
            raise FlatFileFormatError(
                f"String overflowed in formatter -- longer than {self.maximum_length} "
                f"characters: [{line}]"
            )
        if self.minimum_length and len(line) < self.minimum_length:
            raise FlatFileFormatError(
                f"String underflowed in formatter -- shorter than {self.minimum_length} "
                f"characters: [{line}]"
            )
        return line


class FixedWidthLineAggregator:
    """Pads each field to its column's width; a value wider than its column is an error
    (never cut, so no data is lost silently).

    ``align`` is ``"<"`` (left, the default), ``">"`` or ``"^"``, for all columns or one per
    column; ``fill`` is the padding character.
    """

    def __init__(
        self,
        fields: Sequence[str] | None,
        widths: Sequence[int],
        *,
        align: str | Sequence[str] = "<",
        fill: str = " ",
    ) -> None:
        if fields is not None and len(fields) != len(widths):
            raise ValueError("as many widths as fields are needed")
        aligns = [align] * len(widths) if isinstance(align, str) else list(align)
        if len(aligns) != len(widths) or any(a not in "<>^" or len(a) != 1 for a in aligns):
            raise ValueError("align is one of '<', '>', '^' (once, or once per column)")
        if len(fill) != 1:
            raise ValueError("fill is one character")
        self.fields = list(fields) if fields is not None else None
        self.widths = list(widths)
        self.aligns = aligns
        self.fill = fill

    def aggregate(self, item: object) -> str:
        """The item as one fixed-width line."""
        values = extract_fields(item, self.fields)
        if len(values) != len(self.widths):
            raise FlatFileFormatError(f"{len(values)} fields for {len(self.widths)} columns")
        parts = []
        for index, (value, width, align) in enumerate(
            zip(values, self.widths, self.aligns, strict=True)
        ):
            text = _text(value)
            if len(text) > width:
                name = self.fields[index] if self.fields else f"#{index + 1}"
                raise FlatFileFormatError(
                    f"field {name} overflows its column of {width} characters: [{text}]"
                )
            parts.append(f"{text:{self.fill}{align}{width}}")
        return "".join(parts)
