"""Spring Batch's default execution-context format: Java serialization in Base64.

``DefaultExecutionContextSerializer`` (5.x and 6.0) writes the context as a ``java.util.HashMap``
with one ``ObjectOutputStream.writeObject`` and encodes the bytes with the standard Base64
alphabet, ``=`` padding and no line breaks (facts §5.4).

Python values map to Java classes as in :mod:`springbatch_py.java.types`. A top-level value
may not be None (Spring Batch refuses null context values); a list or nested map may hold None,
as a Java ``ArrayList`` or ``HashMap`` may hold null. Precision limits:
``java.util.Date`` keeps milliseconds (finer digits of an aware ``datetime`` are cut, as
``Date.from(Instant)`` does); ``LocalTime``, ``LocalDateTime`` and ``Duration`` values that
Python's types cannot hold exactly (nanoseconds, or a duration beyond ``timedelta``) read as
:class:`~springbatch_py.java.types.LocalTime` / ``LocalDateTime`` / ``Duration`` and are
written back exactly, and ``Instant`` keeps nanoseconds.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from springbatch_py.java.hashmap import EntryOrder
from springbatch_py.java.stream import JavaStreamError
from springbatch_py.java.stream_reader import JavaStreamReader
from springbatch_py.java.stream_writer import JavaStreamWriter
from springbatch_py.repository.serialization.base import read_error, write_error


class JavaSerializationContextSerializer:
    """Reads and writes contexts byte-compatibly with ``DefaultExecutionContextSerializer``.

    Reading is allow-listed: only the JDK classes Spring Batch contexts normally hold (boxed
    numbers, String, BigDecimal/BigInteger, Date, the java.time types of ``javatypes``,
    ArrayList, HashMap/LinkedHashMap) and any enum are understood; nothing is ever loaded or run.

    Parameters
    ----------
    entry_order:
        The order map entries are written in (see :data:`EntryOrder`); capacity and threshold
        are always what Java's ``HashMap`` holds for that many entries.
    """

    def __init__(self, entry_order: EntryOrder = "insertion") -> None:
        self.entry_order = entry_order

    def serialize(self, values: Mapping[str, Any]) -> str:
        """Base64 of the Java serialization of ``new HashMap<>(values)``."""
        try:
            stream = JavaStreamWriter(self.entry_order).write_context(values)
        except JavaStreamError as exc:
            raise write_error(exc.detail, exc.java_class) from None
        return base64.b64encode(stream).decode("ascii")

    def deserialize(self, text: str, *, where: str = "") -> dict[str, Any]:
        """The context stored as ``text``; errors name ``where`` and any offending class."""
        if not isinstance(text, str) or not text.isascii():
            raise read_error(where, "the stored text is not Base64")
        # Java's Base64 decoder accepts missing padding at the end, so we do too.
        padded = text + "=" * (-len(text) % 4) if len(text) % 4 != 1 else text
        try:
            data = binascii.a2b_base64(padded, strict_mode=True)
        except binascii.Error as exc:
            raise read_error(where, f"the stored text is not valid Base64 ({exc})") from None
        try:
            return JavaStreamReader(data).read_context()
        except JavaStreamError as exc:
            raise read_error(where, exc.detail, exc.java_class) from None
        except RecursionError:  # pragma: no cover - depth is bounded well below the limit
            raise read_error(where, "the stream is nested too deeply") from None
