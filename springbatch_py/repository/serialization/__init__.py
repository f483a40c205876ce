"""Execution-context serializers, byte-compatible with Spring Batch's Java nodes.

* :class:`JavaSerializationContextSerializer`: the default format (Java serialization, Base64).
* :class:`Jackson2ContextSerializer`: the opt-in ``Jackson2ExecutionContextStringSerializer``.

Both build on the Java emulation of :mod:`springbatch_py.java` (value types, object streams,
``HashMap`` order, number texts) and walk a context with its one value-kind dispatch.
"""

from __future__ import annotations

from springbatch_py.repository.serialization.base import (
    ContextSerializationError,
    ContextSerializer,
    EntryOrder,
)
from springbatch_py.repository.serialization.jackson import Jackson2ContextSerializer
from springbatch_py.repository.serialization.java import JavaSerializationContextSerializer

__all__ = [
    "ContextSerializationError",
    "ContextSerializer",
    "EntryOrder",
    "Jackson2ContextSerializer",
    "JavaSerializationContextSerializer",
]
