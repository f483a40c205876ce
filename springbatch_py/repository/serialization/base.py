"""What every execution-context serializer shares: the error type and the protocol.

A serializer turns the map of an execution context into the text stored in
``BATCH_*_EXECUTION_CONTEXT`` and back. Both directions must be exactly what a Java node with the
same serializer configured would write and accept (facts §5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from springbatch_py.errors import SpringBatchError

#: The order a serializer writes a map's entries in. ``"insertion"``: the map's own order, so a
#: context read from a Java node is written back byte for byte (reading keeps the stream's
#: order). ``"java"``: the order Java's ``HashMap`` iterates in, so a map built in Python comes
#: out exactly as a Java node would write it. Java reads either.
EntryOrder = Literal["insertion", "java"]


def ordered_keys(values: Mapping[str, Any], order: EntryOrder) -> Sequence[str]:
    """The keys of ``values`` in the order a serializer writes them."""
    from springbatch_py.repository.serialization._hashmap import hashmap_layout

    return hashmap_layout(values).keys if order == "java" else tuple(values)


class ContextSerializationError(SpringBatchError):
    """An execution context cannot be written, or stored text cannot be read back.

    Attributes
    ----------
    where:
        What the context belongs to, e.g. ``"step execution 42"`` (empty when unknown).
    java_class:
        The Java class that caused the problem, when there is one.
    """

    def __init__(self, message: str, *, where: str = "", java_class: str | None = None) -> None:
        super().__init__(message)
        self.where = where
        self.java_class = java_class


def read_error(where: str, detail: str, java_class: str | None = None) -> ContextSerializationError:
    """The error for stored text that cannot be read; the message names ``where``."""
    owner = f" of {where}" if where else ""
    return ContextSerializationError(
        f"cannot read the execution context{owner}: {detail}", where=where, java_class=java_class
    )


def write_error(detail: str, java_class: str | None = None) -> ContextSerializationError:
    """The error for a context that cannot be written."""
    return ContextSerializationError(
        f"cannot write the execution context: {detail}", java_class=java_class
    )


def describe_path(path: tuple[str | int, ...]) -> str:
    """``('a', 2, 'b')`` -> ``"'a'[2]['b']"``, to say where in a nested context a value sits."""
    if not path:
        return "the context"
    text = repr(path[0])
    for step in path[1:]:
        text += f"[{step!r}]"
    return text


class ContextSerializer(Protocol):
    """Converts an execution context to its stored text and back."""

    def serialize(self, values: Mapping[str, Any]) -> str:
        """The stored text for ``values`` (keys are strings, values of the supported types).

        Raises :class:`ContextSerializationError` for a value the format cannot hold.
        """
        ...

    def deserialize(self, text: str, *, where: str = "") -> dict[str, Any]:
        """The context stored as ``text``.

        ``where`` describes the owner (``"step execution 42"``) and appears in every error.
        Raises :class:`ContextSerializationError` for anything it cannot read, and nothing else.
        """
        ...
