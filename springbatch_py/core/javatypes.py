"""Python values that keep their Java type.

Java tells ``Long`` from ``Integer`` (``ExecutionContext.getLong`` throws on an ``Integer``),
and job keys print the Java class name, so a value shared with Java nodes must know its Java
class. The mapping:

=====================================  ==========================================
Python value                           Java class
=====================================  ==========================================
``str``                                ``java.lang.String``
``bool``                               ``java.lang.Boolean``
``int`` (plain) or :class:`Long`       ``java.lang.Long``
:class:`Integer`, :class:`Short`,      ``java.lang.Integer``, ``Short``, ``Byte``
:class:`Byte`
:class:`BigInteger`                    ``java.math.BigInteger``
``float`` (plain) or :class:`Double`   ``java.lang.Double``
:class:`Float`                         ``java.lang.Float`` (a 32-bit float)
``decimal.Decimal``                    ``java.math.BigDecimal``
``datetime`` with a time zone          ``java.util.Date`` (an instant, milliseconds)
``datetime`` without a time zone       ``java.time.LocalDateTime``
``date``                               ``java.time.LocalDate``
``time``                               ``java.time.LocalTime``
:class:`Instant`                       ``java.time.Instant``
``timedelta``                          ``java.time.Duration``
:class:`JavaEnum`                      the enum's class
``list``                               ``java.util.ArrayList``
``dict`` (``str`` keys)                ``java.util.HashMap``
=====================================  ==========================================
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar


class _BoundedInt(int):
    java_class: ClassVar[str]
    bits: ClassVar[int]

    def __new__(cls, value: Any = 0) -> Any:
        number = int(value)
        limit = 1 << (cls.bits - 1)
        if not -limit <= number < limit:
            raise OverflowError(f"{number} does not fit a {cls.java_class}")
        return super().__new__(cls, number)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"


class Long(_BoundedInt):
    """A ``java.lang.Long`` (64-bit)."""

    java_class = "java.lang.Long"
    bits = 64


class Integer(_BoundedInt):
    """A ``java.lang.Integer`` (32-bit)."""

    java_class = "java.lang.Integer"
    bits = 32


class Short(_BoundedInt):
    """A ``java.lang.Short`` (16-bit)."""

    java_class = "java.lang.Short"
    bits = 16


class Byte(_BoundedInt):
    """A ``java.lang.Byte`` (8-bit)."""

    java_class = "java.lang.Byte"
    bits = 8


class BigInteger(int):
    """A ``java.math.BigInteger``."""

    java_class: ClassVar[str] = "java.math.BigInteger"

    def __repr__(self) -> str:
        return f"BigInteger({int(self)})"


class Double(float):
    """A ``java.lang.Double``."""

    java_class: ClassVar[str] = "java.lang.Double"

    def __repr__(self) -> str:
        return f"Double({float(self)!r})"


class Float(float):
    """A ``java.lang.Float``: the value is rounded to 32 bits on creation."""

    java_class: ClassVar[str] = "java.lang.Float"

    def __new__(cls, value: Any = 0.0) -> Float:
        rounded = struct.unpack(">f", struct.pack(">f", float(value)))[0]
        return super().__new__(cls, rounded)

    def __repr__(self) -> str:
        return f"Float({float(self)!r})"


@dataclass(frozen=True, order=True)
class Instant:
    """A ``java.time.Instant``: seconds since the epoch and nanoseconds."""

    seconds: int
    nanos: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.nanos < 1_000_000_000:
            raise ValueError("nanos must be in [0, 999999999]")


@dataclass(frozen=True)
class JavaEnum:
    """A constant of a Java enum, kept by class name and constant name."""

    class_name: str
    name: str

    def __str__(self) -> str:
        return self.name


#: The enum the cluster library stores in partition contexts.
PARTITION_TRANSFERABLE_PROP = (
    "io.github.jchejarla.springbatch.clustering.partition.PartitionTransferableProp"
)


def java_class_of(value: Any) -> str:
    """The Java class a Python value stands for (see the module table)."""
    explicit = getattr(type(value), "java_class", None)
    if explicit is not None:
        return str(explicit)
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, Decimal):
        return "java.math.BigDecimal"
    if isinstance(value, datetime):
        return "java.util.Date" if value.tzinfo is not None else "java.time.LocalDateTime"
    if isinstance(value, date):
        return "java.time.LocalDate"
    if isinstance(value, time):
        return "java.time.LocalTime"
    if isinstance(value, timedelta):
        return "java.time.Duration"
    if isinstance(value, Instant):
        return "java.time.Instant"
    if isinstance(value, JavaEnum):
        return value.class_name
    if isinstance(value, list):
        return "java.util.ArrayList"
    if isinstance(value, dict):
        return "java.util.HashMap"
    raise TypeError(f"{type(value).__name__} has no Java counterpart: {value!r}")


def same_java_value(a: Any, b: Any) -> bool:
    """Equality that also requires the same Java class (``Long(1)`` is not ``Integer(1)``).

    Lists and maps may hold None (a Java null), which only equals None.
    """
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_java_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_java_value(a[k], b[k]) for k in a)
    if java_class_of(a) != java_class_of(b):
        return False
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return bool(a == b)
