"""The contracts of a chunk step's parts, as Spring Batch's item interfaces.

========================  =======================================================
:class:`ItemReader`       ``read() -> T | None``: the next item; ``None`` ends the input
:class:`ItemProcessor`    ``process(item: T) -> U | None``: the output; ``None`` filters
                          the item (it is counted in ``filter_count`` and not written)
:class:`ItemWriter`       ``write(items: list[U])``: one chunk's outputs, in the chunk's
                          transaction
:class:`ItemStream`       ``open(context)``, ``update(context)``, ``close()``: keep a
                          part's position in the step's execution context, so a
                          restarted step resumes after the last committed chunk
========================  =======================================================

They are protocols: any object with the method fits, no base class is needed, and mypy checks
that a reader, a processor and a writer given to one
:class:`~springbatch_py.core.chunk.ChunkStep` agree on their item types. A processor may also
be a plain function of one item, and a writer a function of the chunk's list.

A part that is a stream is opened before the step's first chunk, updated just before each chunk
commits and closed when the step ends; one that has only some of the three methods gets only
those calls. The readers and writers of :mod:`springbatch_py.item` implement these contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from springbatch_py.core.context import ExecutionContext

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)
U_co = TypeVar("U_co", covariant=True)


class ItemReader(Protocol[T_co]):
    """Provides the items of a chunk step, one at a time (Java's ``ItemReader<T>``)."""

    def read(self) -> T_co | None:
        """The next item, or ``None`` when there is none left."""
        ...


class ItemProcessor(Protocol[T_contra, U_co]):
    """Turns an input item into an output item (Java's ``ItemProcessor<I, O>``)."""

    def process(self, item: T_contra) -> U_co | None:
        """The output for ``item``, or ``None`` to filter it out."""
        ...


class ItemWriter(Protocol[T]):
    """Writes the outputs of one chunk (Java's ``ItemWriter<T>``)."""

    def write(self, items: list[T]) -> None:
        """Write the chunk's items; raising rolls the chunk back."""
        ...


class ItemStream(Protocol):
    """A part that keeps its state in the step's execution context (Java's ``ItemStream``)."""

    def open(self, context: ExecutionContext) -> None:
        """Open resources; on restart, ``context`` holds the state of the last commit."""
        ...

    def update(self, context: ExecutionContext) -> None:
        """Save the current state into ``context`` (just before each chunk commits)."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


#: What a chunk step accepts as its processor: an :class:`ItemProcessor` or a function.
ProcessorLike = ItemProcessor[T_contra, U_co] | Callable[[T_contra], U_co | None]
#: What a chunk step accepts as its writer: an :class:`ItemWriter` or a function of the chunk.
WriterLike = ItemWriter[T] | Callable[[list[T]], object]
