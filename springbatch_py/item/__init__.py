"""Item readers, processors and writers for chunk steps.

A reader has ``read() -> item | None``; a writer ``write(items)``; a processor ``process(item)``
(or is a callable). Readers and writers that are *item streams* (``open(context)``,
``update(context)``, ``close()``) keep their state in the step's execution context, so a
restarted step resumes after the last committed chunk.
"""

from springbatch_py.item.composite import ClassifierCompositeItemWriter, CompositeItemWriter
from springbatch_py.item.database import SqlCursorItemReader, SqlPagingItemReader
from springbatch_py.item.files import FlatFileItemReader, FlatFileItemWriter
from springbatch_py.item.formats import (
    DelimitedLineAggregator,
    DelimitedLineTokenizer,
    FixedLengthTokenizer,
    FixedWidthLineAggregator,
    FlatFileFormatError,
    FlatFileParseError,
    FormatterLineAggregator,
    IncorrectLineLengthError,
    IncorrectTokenCountError,
)
from springbatch_py.item.jsonl import JsonLinesItemReader, JsonLinesItemWriter
from springbatch_py.item.readers import (
    CountingItemReader,
    CsvItemReader,
    IterableItemReader,
    SqlItemReader,
)
from springbatch_py.item.writers import CsvItemWriter, ListItemWriter, SqlItemWriter

__all__ = [
    "ClassifierCompositeItemWriter",
    "CompositeItemWriter",
    "CountingItemReader",
    "CsvItemReader",
    "CsvItemWriter",
    "DelimitedLineAggregator",
    "DelimitedLineTokenizer",
    "FixedLengthTokenizer",
    "FixedWidthLineAggregator",
    "FlatFileFormatError",
    "FlatFileItemReader",
    "FlatFileItemWriter",
    "FlatFileParseError",
    "FormatterLineAggregator",
    "IncorrectLineLengthError",
    "IncorrectTokenCountError",
    "IterableItemReader",
    "JsonLinesItemReader",
    "JsonLinesItemWriter",
    "ListItemWriter",
    "SqlCursorItemReader",
    "SqlItemReader",
    "SqlItemWriter",
    "SqlPagingItemReader",
]
