"""Item readers, processors and writers for chunk steps.

A reader has ``read() -> item | None``; a writer ``write(items)``; a processor ``process(item)``
(or is a callable). Readers and writers that are *item streams* (``open(context)``,
``update(context)``, ``close()``) keep their state in the step's execution context, so a
restarted step resumes after the last committed chunk.
"""

from springbatch_py.item.readers import (
    CountingItemReader,
    CsvItemReader,
    IterableItemReader,
    SqlItemReader,
)
from springbatch_py.item.writers import CsvItemWriter, ListItemWriter, SqlItemWriter

__all__ = [
    "CountingItemReader",
    "CsvItemReader",
    "CsvItemWriter",
    "IterableItemReader",
    "ListItemWriter",
    "SqlItemReader",
    "SqlItemWriter",
]
