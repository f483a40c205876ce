"""Writers that hand a chunk to other writers: Spring Batch's ``CompositeItemWriter`` and
``ClassifierCompositeItemWriter``.

Both pass the stream calls (``open``, ``update``, ``close``) and the chunk callbacks
(``before_chunk``, ``after_chunk_error``, with which file writers drop a rolled-back chunk) on to
their delegates, so delegates need not be registered as streams of the step. (Java's classifier
writer is no stream; here it is, for the writers it is given.) They run on the step's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Generic

from typing_extensions import TypeVar

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.items import WriterLike

#: The item type of a writer (a bare annotation means ``Any``).
T = TypeVar("T", default=Any)


def _write(writer: WriterLike[T], items: list[T]) -> None:
    method = getattr(writer, "write", None)
    if method is not None:
        method(items)
    else:
        assert callable(writer)
        writer(items)


class _Delegating:
    """Forwards stream calls and chunk callbacks to each delegate that has them."""

    def __init__(self, delegates: Iterable[object]) -> None:
        unique: dict[int, object] = {}
        for delegate in delegates:
            unique.setdefault(id(delegate), delegate)
        self.delegates: list[object] = list(unique.values())

    def _each(self, method: str, *args: object) -> None:
        for delegate in self.delegates:
            function = getattr(delegate, method, None)
            if callable(function):
                function(*args)

    def open(self, context: ExecutionContext) -> None:
        """Open every delegate that is a stream."""
        self._each("open", context)

    def update(self, context: ExecutionContext) -> None:
        """Let every delegate save its state (before the chunk commits)."""
        self._each("update", context)

    def close(self) -> None:
        """Close every delegate, even when one fails (the first error is raised)."""
        errors: list[Exception] = []
        for delegate in self.delegates:
            closer = getattr(delegate, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception as exc:
                    errors.append(exc)
        if errors:
            raise errors[0]

    def before_chunk(self, context: object) -> None:
        """Tell the delegates a chunk begins."""
        self._each("before_chunk", context)

    def after_chunk_error(self, context: object) -> None:
        """Tell the delegates the chunk rolled back."""
        self._each("after_chunk_error", context)


class CompositeItemWriter(_Delegating, Generic[T]):
    """Writes every chunk to each delegate in turn (a delegate is an object with
    ``write(items)`` or a callable). A failing delegate fails the chunk, which rolls back."""

    def __init__(self, delegates: Iterable[WriterLike[T]]) -> None:
        writers = list(delegates)
        if not writers:
            raise ValueError("a composite writer needs at least one delegate")
        super().__init__(writers)
        self.writers = writers

    def write(self, items: Iterable[T]) -> None:
        """Write the chunk to every delegate."""
        chunk = list(items)
        for writer in self.writers:
            _write(writer, chunk)


class ClassifierCompositeItemWriter(_Delegating, Generic[T]):
    """Writes each item to the writer ``classifier(item)`` returns; each writer receives its
    items of the chunk at once, in chunk order, writers in order of first use.

    ``delegates`` lists the writers the classifier may return, so that they are opened, updated
    and closed with the step; :meth:`routing` builds both from a key function and a mapping.
    """

    def __init__(
        self,
        classifier: Callable[[T], WriterLike[T]],
        *,
        delegates: Iterable[WriterLike[T]] = (),
    ) -> None:
        super().__init__(delegates)
        self.classifier = classifier

    @classmethod
    def routing(
        cls,
        key: Callable[[T], Hashable],
        writers: Mapping[Hashable, WriterLike[T]],
        *,
        default: WriterLike[T] | None = None,
    ) -> ClassifierCompositeItemWriter[T]:
        """A writer that sends an item to ``writers[key(item)]`` (or ``default``; an item with
        no writer is an error)."""

        def classify(item: T) -> WriterLike[T]:
            found = writers.get(key(item), default)
            if found is None:
                raise KeyError(f"no writer for key {key(item)!r} of item {item!r}")
            return found

        delegates = [*writers.values(), *([default] if default is not None else [])]
        return cls(classify, delegates=delegates)

    def write(self, items: Iterable[T]) -> None:
        """Group the chunk by writer and write each group."""
        groups: dict[int, tuple[WriterLike[T], list[T]]] = {}
        for item in items:
            writer = self.classifier(item)
            groups.setdefault(id(writer), (writer, []))[1].append(item)
        for writer, group in groups.values():
            _write(writer, group)
