"""Python values <-> the Java harness's typed JSON (compat/java/README.md, "Typed values").

The codec is exact both ways: a value comes back with the same Java class and the same bits.
Doubles and floats travel as their raw IEEE bits, ``BigDecimal`` as unscaled value and scale,
``java.util.Date`` as epoch milliseconds, ``LocalTime`` and ``LocalDateTime`` with nanoseconds as
springbatch-py's ``LocalTime`` / ``LocalDateTime`` (a plain ``time`` / ``datetime`` when whole
microseconds), ``Duration`` as a ``timedelta`` or springbatch-py's ``Duration``. Where Java
holds more than Python can (years outside 1..9999), :func:`from_typed` raises ``ValueError``
instead of rounding.

:func:`java_equal` is the strict comparison the tests use: same Java class, ``-0.0`` distinct
from ``0.0``, every NaN equal to every NaN, ``BigDecimal`` scale significant, dates compared as
instants.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from springbatch_py.core.parameters import JobParameters
from springbatch_py.java.types import (
    BigInteger,
    Byte,
    Double,
    Duration,
    Float,
    Instant,
    Integer,
    JavaEnum,
    LocalDateTime,
    LocalTime,
    Long,
    Short,
    date_time_of,
    duration_of,
    java_class_of,
    time_fields,
    time_of,
)

__all__ = ["from_typed", "java_equal", "to_typed", "typed_parameters"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Java class -> the harness's type tag, for classes carried as a decimal string.
_INTEGRAL_TAGS = {
    "java.lang.Long": "Long",
    "java.lang.Integer": "Integer",
    "java.lang.Short": "Short",
    "java.lang.Byte": "Byte",
    "java.math.BigInteger": "BigInteger",
}
_INTEGRAL_TYPES: dict[str, type[int]] = {
    "Long": Long,
    "Integer": Integer,
    "Short": Short,
    "Byte": Byte,
    "BigInteger": BigInteger,
}
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})\.(\d{9})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


# -- Python -> typed JSON -----------------------------------------------------------------------


def to_typed(value: Any) -> dict[str, Any]:
    """The typed JSON object describing ``value`` (see :mod:`springbatch_py.java.types`).

    Raises ``ValueError`` for a value the harness cannot receive exactly (an aware datetime
    with sub-millisecond digits, a time with a zone, a non-finite ``Decimal``) and ``TypeError``
    for a value without a Java class.
    """
    if value is None:
        return {"t": "Null"}
    java_class = java_class_of(value)
    if isinstance(value, JavaEnum):
        return {"t": "Enum", "c": value.class_name, "v": value.name}
    if isinstance(value, str):
        return {"t": "String", "v": str.__str__(value)}
    if isinstance(value, bool):
        return {"t": "Boolean", "v": value}
    if java_class in _INTEGRAL_TAGS:
        return {"t": _INTEGRAL_TAGS[java_class], "v": str(int(value))}
    if java_class == "java.lang.Double":
        return {"t": "Double", "v": struct.pack(">d", value).hex()}
    if java_class == "java.lang.Float":
        return {"t": "Float", "v": _float32_bits(value)}
    if isinstance(value, Decimal):
        return _big_decimal(value)
    if isinstance(value, LocalDateTime):
        return {"t": "LocalDateTime", "v": f"{_iso_date(value.local_date)}T{_iso_time(value)}"}
    if isinstance(value, LocalTime):
        return {"t": "LocalTime", "v": _iso_time(value)}
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return {"t": "Date", "v": str(_epoch_millis(value))}
        return {"t": "LocalDateTime", "v": f"{_iso_date(value)}T{_iso_time(value.time())}"}
    if isinstance(value, date):
        return {"t": "LocalDate", "v": _iso_date(value)}
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"a LocalTime has no zone: {value!r}")
        return {"t": "LocalTime", "v": _iso_time(value)}
    if isinstance(value, timedelta | Duration):
        duration = value if isinstance(value, Duration) else Duration.of(value)
        return {"t": "Duration", "s": str(duration.seconds), "n": duration.nanos}
    if isinstance(value, Instant):
        return {"t": "Instant", "s": str(value.seconds), "n": value.nanos}
    if isinstance(value, list):
        return {"t": "List", "v": [to_typed(item) for item in value]}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"map keys must be strings, not {type(key).__name__}: {key!r}")
        return {"t": "Map", "v": {key: to_typed(item) for key, item in value.items()}}
    raise TypeError(f"no typed JSON for {java_class}: {value!r}")  # pragma: no cover


def typed_parameters(parameters: JobParameters) -> list[dict[str, Any]]:
    """The harness's ``parameters`` member (``job-keys``, ``parameter-rows``), in order."""
    return [
        {"name": name, "value": to_typed(p.value), "identifying": p.identifying}
        for name, p in parameters.items()
    ]


def _float32_bits(value: float) -> str:
    try:
        return struct.pack(">f", value).hex()
    except OverflowError:  # pragma: no cover - a Float is always representable
        raise ValueError(f"{value!r} is not a 32-bit float") from None


def _big_decimal(value: Decimal) -> dict[str, Any]:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"java.math.BigDecimal cannot hold {value}")
    unscaled = int("".join(map(str, digits)) or "0")
    return {"t": "BigDecimal", "unscaled": str(-unscaled if sign else unscaled), "scale": -exponent}


def _epoch_millis(value: datetime) -> int:
    delta = value - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if micros % 1000:
        raise ValueError(f"a java.util.Date holds milliseconds, not {value.isoformat()}")
    return micros // 1000


def _iso_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _iso_time(value: time | LocalTime | LocalDateTime) -> str:
    hour, minute, second, nano = time_fields(value)
    return f"{hour:02d}:{minute:02d}:{second:02d}.{nano:09d}"


# -- typed JSON -> Python -----------------------------------------------------------------------


def from_typed(obj: Mapping[str, Any]) -> Any:
    """The Python value a typed JSON object describes.

    Raises ``ValueError`` for malformed input and for values Python cannot hold exactly.
    """
    tag = obj.get("t")
    v = obj.get("v")
    if tag == "Null":
        return None
    if tag == "String":
        return _expect(v, str, tag)
    if tag in _INTEGRAL_TYPES:
        return _INTEGRAL_TYPES[tag](_integer(v, tag))
    if tag == "Double":
        return Double(struct.unpack(">d", _hex_bits(v, 16))[0])
    if tag == "Float":
        return Float(struct.unpack(">f", _hex_bits(v, 8))[0])
    if tag == "Boolean":
        return _expect(v, bool, tag)
    if tag == "BigDecimal":
        unscaled = _integer(obj.get("unscaled"), "BigDecimal unscaled")
        scale = _integer(obj.get("scale"), "BigDecimal scale")
        digits = tuple(int(d) for d in str(abs(unscaled)))
        return Decimal((int(unscaled < 0), digits, -scale))
    if tag == "Date":
        try:
            return _EPOCH + timedelta(milliseconds=_integer(v, tag))
        except OverflowError:
            raise ValueError(f"java.util.Date {v} ms is outside Python's years 1..9999") from None
    if tag == "LocalDate":
        return _parse_date(_expect(v, str, tag))
    if tag == "LocalTime":
        return _parse_time(_expect(v, str, tag))
    if tag == "LocalDateTime":
        text = _expect(v, str, tag)
        day, sep, clock = text.partition("T")
        if not sep:
            raise ValueError(f"malformed LocalDateTime {text!r}")
        return date_time_of(_parse_date(day), _parse_time(clock))
    if tag == "Instant":
        return Instant(_integer(obj.get("s"), "Instant s"), _integer(obj.get("n"), "Instant n"))
    if tag == "Duration":
        return duration_of(
            _integer(obj.get("s"), "Duration s"), _integer(obj.get("n"), "Duration n")
        )
    if tag == "Enum":
        return JavaEnum(_expect(obj.get("c"), str, "Enum c"), _expect(v, str, tag))
    if tag == "List":
        return [from_typed(item) for item in _expect(v, list, tag)]
    if tag == "Map":
        members = _expect(v, dict, tag)
        return {k: from_typed(item) for k, item in members.items()}
    raise ValueError(f"unknown typed value {obj!r}")


def _expect(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"{what}: expected a {kind.__name__}, got {value!r}")
    return value


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{what}: expected an integer, got {value!r}")
    return int(value)


def _hex_bits(value: Any, digits: int) -> bytes:
    text = _expect(value, str, "IEEE bits")
    if len(text) != digits:
        raise ValueError(f"expected {digits} hex digits, got {text!r}")
    return bytes.fromhex(text)


def _parse_date(text: str) -> date:
    match = _DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"LocalDate {text!r} is outside Python's years 1..9999 or malformed")
    return date(*map(int, match.groups()))


def _parse_time(text: str) -> time | LocalTime:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"malformed LocalTime {text!r}")
    hour, minute, second, nanos = map(int, match.groups())
    return time_of(hour, minute, second, nanos)


# -- strict comparison --------------------------------------------------------------------------


def java_equal(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same Java value of the same Java class.

    Like Java's ``equals`` except that every NaN equals every NaN: ``Double`` and ``Float``
    compare bits (``-0.0 != 0.0``), ``BigDecimal`` compares the scale too (``1.5 != 1.50``),
    ``Date`` compares instants, lists compare in order, maps ignore order; None only equals None.
    """
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(java_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(java_equal(a[k], b[k]) for k in a)
    java_class = java_class_of(a)
    if java_class != java_class_of(b):
        return False
    if java_class in ("java.lang.Double", "java.lang.Float"):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        fmt = ">d" if java_class == "java.lang.Double" else ">f"
        return struct.pack(fmt, a) == struct.pack(fmt, b)
    if isinstance(a, Decimal):
        return bool(a == b) and a.as_tuple().exponent == b.as_tuple().exponent
    if isinstance(a, str):
        return str.__eq__(a, b) is True
    if isinstance(a, int):
        return int(a) == int(b)
    return bool(a == b)
