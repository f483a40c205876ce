"""Writers that hand a chunk to other writers: Spring Batch's ``CompositeItemWriter`` and
``ClassifierCompositeItemWriter``.

Both pass the stream calls (``open``, ``update``, ``close``) and the chunk callbacks
(``before_chunk``, ``after_chunk_error``, with which file writers drop a rolled-back chunk) on to
their delegates, so delegates need not be registered as streams of the step. (Java's classifier
writer is no stream; here it is, for the writers it is given.) They run on the step's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from springbatch_py.core.context import ExecutionContext


def _write(writer: Any, items: list[Any]) -> None:
    method = getattr(writer, "write", None)
    if method is not None:
        method(items)
    else:
        writer(items)


class _Delegating:
    """Forwards stream calls and chunk callbacks to each delegate that has them."""

    def __init__(self, delegates: Iterable[Any]) -> None:
        unique: dict[int, Any] = {}
        for delegate in delegates:
            unique.setdefault(id(delegate), delegate)
        self.delegates: list[Any] = list(unique.values())

    def _each(self, method: str, *args: Any) -> None:
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

    def before_chunk(self, context: Any) -> None:
        """Tell the delegates a chunk begins."""
        self._each("before_chunk", context)

    def after_chunk_error(self, context: Any) -> None:
        """Tell the delegates the chunk rolled back."""
        self._each("after_chunk_error", context)


class CompositeItemWriter(_Delegating):
    """Writes every chunk to each delegate in turn (a delegate is an object with
    ``write(items)`` or a callable). A failing delegate fails the chunk, which rolls back."""

    def __init__(self, delegates: Iterable[Any]) -> None:
        delegates = list(delegates)
        if not delegates:
            raise ValueError("a composite writer needs at least one delegate")
        super().__init__(delegates)
        self.writers = delegates

    def write(self, items: Iterable[Any]) -> None:
        """Write the chunk to every delegate."""
        chunk = list(items)
        for writer in self.writers:
            _write(writer, chunk)


class ClassifierCompositeItemWriter(_Delegating):
    """Writes each item to the writer ``classifier(item)`` returns; each writer receives its
    items of the chunk at once, in chunk order, writers in order of first use.

    ``delegates`` lists the writers the classifier may return, so that they are opened, updated
    and closed with the step; :meth:`routing` builds both from a key function and a mapping.
    """

    def __init__(self, classifier: Callable[[Any], Any], *, delegates: Iterable[Any] = ()) -> None:
        super().__init__(delegates)
        self.classifier = classifier

    @classmethod
    def routing(
        cls,
        key: Callable[[Any], Hashable],
        writers: Mapping[Hashable, Any],
        *,
        default: Any = None,
    ) -> ClassifierCompositeItemWriter:
        """A writer that sends an item to ``writers[key(item)]`` (or ``default``; an item with
        no writer is an error)."""

        def classify(item: Any) -> Any:
            found = writers.get(key(item), default)
            if found is None:
                raise KeyError(f"no writer for key {key(item)!r} of item {item!r}")
            return found

        delegates = [*writers.values(), *([default] if default is not None else [])]
        return cls(classify, delegates=delegates)

    def write(self, items: Iterable[Any]) -> None:
        """Group the chunk by writer and write each group."""
        groups: dict[int, tuple[Any, list[Any]]] = {}
        for item in items:
            writer = self.classifier(item)
            groups.setdefault(id(writer), (writer, []))[1].append(item)
        for writer, group in groups.values():
            _write(writer, group)
