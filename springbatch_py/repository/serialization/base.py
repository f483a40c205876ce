"""What every execution-context serializer shares: the error type and the protocol.

A serializer turns the map of an execution context into the text stored in
``BATCH_*_EXECUTION_CONTEXT`` and back. Both directions must be exactly what a Java node with the
same serializer configured would write and accept (facts §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from springbatch_py.errors import SpringBatchError
from springbatch_py.java.hashmap import EntryOrder

__all__ = [
    "ContextSerializationError",
    "ContextSerializer",
    "EntryOrder",
    "read_error",
    "write_error",
]


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
