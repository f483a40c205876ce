"""The kinds of value a context holds, and the one dispatch both context writers follow.

The Java serialization writer (:mod:`.stream_writer`) and the Jackson JSON writer
(:mod:`springbatch_py.repository.serialization.jackson`) turn the same Python values into two
formats. Which Java class a value stands for, and what no format can hold (a value with no Java
counterpart, a ``time`` with a zone, an ``Instant`` beyond Java's range), is decided here once:
each writer asks :func:`value_kind` and then writes the kind in its own format.
"""

from __future__ import annotations

import enum
from datetime import time

from springbatch_py.java.stream import INSTANT_MAX_SECONDS, INSTANT_MIN_SECONDS
from springbatch_py.java.types import Instant, JavaEnum, JavaValue, java_class_of


class Kind(enum.Enum):
    """A kind of context value, named after what Java holds."""

    STRING = "java.lang.String"
    BOOLEAN = "java.lang.Boolean"
    LONG = "java.lang.Long"
    INTEGER = "java.lang.Integer"
    SHORT = "java.lang.Short"
    BYTE = "java.lang.Byte"
    BIG_INTEGER = "java.math.BigInteger"
    DOUBLE = "java.lang.Double"
    FLOAT = "java.lang.Float"
    BIG_DECIMAL = "java.math.BigDecimal"
    DATE = "java.util.Date"
    LOCAL_DATE_TIME = "java.time.LocalDateTime"
    LOCAL_DATE = "java.time.LocalDate"
    LOCAL_TIME = "java.time.LocalTime"
    DURATION = "java.time.Duration"
    INSTANT = "java.time.Instant"
    LIST = "java.util.ArrayList"
    MAP = "java.util.HashMap"
    #: A :class:`~springbatch_py.java.types.JavaEnum` constant (its class is its own).
    ENUM = "enum"
    #: A :class:`~springbatch_py.java.types.JavaValue`: a class known only by its text.
    OPAQUE = "opaque"


_BY_CLASS = {kind.value: kind for kind in Kind}


class UnwritableValueError(ValueError):
    """A value no context format can hold; the message says where it sits."""


def value_kind(value: object, path: tuple[str | int, ...] = ()) -> Kind:
    """The kind of a (non-None) context value at ``path``.

    Raises :class:`UnwritableValueError` for a value without a Java counterpart, a ``time`` with
    a zone (a ``LocalTime`` has none) and an ``Instant`` outside ``java.time.Instant``'s range.
    """
    if isinstance(value, JavaEnum):
        return Kind.ENUM
    if isinstance(value, JavaValue):
        return Kind.OPAQUE
    try:
        kind = _BY_CLASS[java_class_of(value)]
    except (TypeError, KeyError):
        raise UnwritableValueError(
            f"{describe_path(path)} is a {type(value).__name__}, which has no Java counterpart"
        ) from None
    if isinstance(value, time) and value.tzinfo is not None:
        raise UnwritableValueError(
            f"{describe_path(path)} is a time with a zone; LocalTime has none"
        )
    if isinstance(value, Instant) and not (
        INSTANT_MIN_SECONDS <= value.seconds <= INSTANT_MAX_SECONDS
    ):
        raise UnwritableValueError(f"{describe_path(path)} = {value} is outside java.time.Instant")
    return kind


def describe_path(path: tuple[str | int, ...]) -> str:
    """``('a', 2, 'b')`` -> ``"'a'[2]['b']"``, to say where in a nested context a value sits."""
    if not path:
        return "the context"
    text = repr(path[0])
    for step in path[1:]:
        text += f"[{step!r}]"
    return text
