"""Item readers, processors and writers for chunk steps.

A reader has ``read() -> item | None``; a writer ``write(items)``; a processor ``process(item)``
(or is a callable): the protocols :class:`ItemReader`, :class:`ItemWriter` and
:class:`ItemProcessor` of :mod:`springbatch_py.core.items`, re-exported here. Readers and writers
that are *item streams* (:class:`ItemStream`: ``open(context)``, ``update(context)``,
``close()``) keep their state in the step's execution context, so a restarted step resumes after
the last committed chunk. Every reader and writer here is generic in its item type
(``IterableItemReader[int]``, ``ListItemWriter[str]``); one with a ``mapper`` takes its item
type from it.
"""

from springbatch_py.core.items import ItemProcessor, ItemReader, ItemStream, ItemWriter
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
    "ItemProcessor",
    "ItemReader",
    "ItemStream",
    "ItemWriter",
    "IterableItemReader",
    "JsonLinesItemReader",
    "JsonLinesItemWriter",
    "ListItemWriter",
    "SqlCursorItemReader",
    "SqlItemReader",
    "SqlItemWriter",
    "SqlPagingItemReader",
]
