"""Spring Batch's opt-in JSON format: ``Jackson2ExecutionContextStringSerializer`` (facts §5.5).

Java's mapper uses default typing ``NON_FINAL`` with the class name as type id, "as property"
``@class`` for objects and, for scalars and arrays, the wrapper-array fallback
``["<class>", value]``. So a context looks like::

    {"@class":"java.util.HashMap","n":["java.lang.Long",5],"name":"x","flag":true}

String, Boolean, Integer and Double are Jackson's natural types and carry no type id; everything
else is wrapped. The ``JavaTimeModule`` writes dates as numbers and arrays (its default
``WRITE_DATES_AS_TIMESTAMPS``). Reading is allow-listed like Java's: the JDK classes Spring Batch
trusts, plus the names given to the constructor (an enum must be trusted to be read). As with
the Java format, top-level values may not be None but lists and nested maps may hold it.

Two deliberate differences from Java's output: a ``NaN`` or infinite Double/Float is refused
(Jackson writes it as a string and reads it back as one), and a negative ``Duration`` with a
fraction of a second is written as ``<seconds>.<nanos>`` like an ``Instant``, the form Jackson's
reader turns back into the same duration (Jackson writes the plain decimal, which its own reader
misreads: -1.5 s comes back as -0.5 s).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, NoReturn

from springbatch_py.java.hashmap import EntryOrder, ordered_keys
from springbatch_py.java.kinds import Kind, UnwritableValueError, describe_path, value_kind
from springbatch_py.java.parsing import parse_java_float
from springbatch_py.java.stream import (
    INSTANT_MAX_SECONDS,
    INSTANT_MIN_SECONDS,
)
from springbatch_py.java.tostring import (
    java_big_decimal_to_string,
    java_double_to_string,
    java_float_to_string,
)
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
    date_part,
    date_time_of,
    duration_of,
    time_fields,
    time_of,
)
from springbatch_py.repository.serialization.base import read_error, write_error

#: Deepest nesting of maps and lists accepted in either direction.
MAX_DEPTH = 64
#: Jackson (2.15+) refuses numbers longer than this (``StreamReadConstraints``).
MAX_NUMBER_LENGTH = 1000

_TYPE_KEY = "@class"
_MAP = "java.util.HashMap"
_LIST = "java.util.ArrayList"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Type ids read as a Python dict / list.
_MAP_CLASSES = frozenset(
    (
        _MAP,
        "java.util.LinkedHashMap",
        "java.util.TreeMap",
        "java.util.concurrent.ConcurrentHashMap",
        "java.util.Collections$EmptyMap",
        "java.util.Collections$SingletonMap",
        "java.util.Collections$UnmodifiableMap",
    )
)
_LIST_CLASSES = frozenset(
    (
        _LIST,
        "java.util.LinkedList",
        "java.util.Arrays$ArrayList",
        "java.util.Collections$EmptyList",
        "java.util.Collections$SingletonList",
        "java.util.Collections$UnmodifiableList",
        "java.util.Collections$UnmodifiableRandomAccessList",
    )
)
#: Classes Spring Batch 5.2 always trusts but this library has no Python value for.
_TRUSTED_UNSUPPORTED = frozenset(
    (
        "javax.xml.namespace.QName",
        "java.util.UUID",
        "java.util.Collections$EmptySet",
        "java.util.Collections$SingletonSet",
        "java.util.Collections$UnmodifiableSet",
        "java.sql.Timestamp",
        "java.sql.Date",
        "java.net.URL",
        "java.util.TreeSet",
        "java.util.HashSet",
        "java.util.LinkedHashSet",
        "java.lang.Character",
        "java.lang.CharSequence",
        "java.util.Properties",
        "[Ljava.util.Properties;",
        "org.springframework.batch.core.JobParameter",
        "org.springframework.batch.core.JobParameters",
    )
)

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_TO_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_SURROGATE = re.compile("[\ud800-\udfff]")

Path = tuple[str | int, ...]


class Jackson2ContextSerializer:
    """Reads and writes contexts as Spring Batch's ``Jackson2ExecutionContextStringSerializer``.

    Parameters
    ----------
    trusted_classes:
        Extra class names to accept on read, like the Java constructor's ``trustedClassNames``;
        an enum (e.g. the cluster's ``PartitionTransferableProp``) is read only if listed.
    entry_order:
        The order map entries are written in (see :data:`~.base.EntryOrder`).
    """

    def __init__(
        self, trusted_classes: Iterable[str] = (), *, entry_order: EntryOrder = "insertion"
    ) -> None:
        self.trusted_classes = frozenset(trusted_classes)
        self.entry_order = entry_order

    def serialize(self, values: Mapping[str, Any]) -> str:
        """The compact JSON Java writes for ``new HashMap<>(values)``."""
        for key, value in values.items():
            if value is None:
                raise write_error(f"the value of {key!r} is None; Java contexts hold no nulls")
        parts: list[str] = []
        _JsonWriter(parts, self.entry_order).map(values, (), 1)
        return "".join(parts)

    def deserialize(self, text: str, *, where: str = "") -> dict[str, Any]:
        """The context stored as ``text``; errors name ``where`` and any offending class."""
        if not isinstance(text, str):
            raise read_error(where, "the stored value is not text")
        try:
            root = json.loads(
                text,
                object_pairs_hook=_JsonObject,
                parse_int=_integral,
                parse_float=_fractional,
                parse_constant=_no_constant,
            )
        except (ValueError, RecursionError) as exc:
            raise read_error(where, f"not valid JSON ({exc})") from None
        reader = _JsonReader(where, self.trusted_classes)
        if not isinstance(root, _JsonObject):
            reader.fail("the JSON is not an object")
        result = reader.object(root, 1)
        if not isinstance(result, dict):  # pragma: no cover - object() returns maps only
            reader.fail("the JSON is not a map")
        return result


# -- writing ----------------------------------------------------------------------------------


def _string(text: str) -> str:
    if _SURROGATE.search(text):
        # Two surrogate code points that form a pair are one character to Java; join them.
        text = text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")
        if _SURROGATE.search(text):
            raise write_error(f"{text[:40]!r} holds a lone surrogate, which UTF-8 cannot carry")
    # Jackson escapes control characters with upper-case hex and leaves all else as is.
    escaped = _TO_ESCAPE.sub(lambda m: _ESCAPES.get(m[0]) or f"\\u{ord(m[0]):04X}", text)
    return f'"{escaped}"'


def _whole(number: int, path: Path) -> str:
    if number.bit_length() > 4 * MAX_NUMBER_LENGTH:  # cheap bound before str()
        raise write_error(f"{describe_path(path)} has more digits than Jackson reads")
    text = str(number)
    if len(text) > MAX_NUMBER_LENGTH:
        raise write_error(f"{describe_path(path)} has more digits than Jackson reads")
    return text


def _seconds_and_nanos(seconds: int, nanos: int) -> str:
    # Jackson's java.time number: "<epoch seconds>.<9-digit nanos>" as a BigDecimal, and 0.0.
    if seconds == nanos == 0:
        return "0.0"
    return java_big_decimal_to_string(Decimal(f"{seconds}.{nanos:09d}"))


class _JsonWriter:
    def __init__(self, parts: list[str], entry_order: EntryOrder) -> None:
        self._parts = parts
        self._entry_order = entry_order
        self._open: set[int] = set()

    def _wrapped(self, java_class: str, text: str) -> None:
        self._parts.append(f"[{_string(java_class)},{text}]")

    def map(self, values: Mapping[str, Any], path: Path, depth: int) -> None:
        self._enter(values, path, depth)
        for key in values:
            if not isinstance(key, str):
                raise write_error(
                    f"{describe_path(path)} has a key of type {type(key).__name__}; "
                    "keys must be strings"
                )
        self._parts.append(f'{{"{_TYPE_KEY}":"{_MAP}"')
        for key in ordered_keys(values, self._entry_order):
            self._parts.append(f",{_string(key)}:")
            self.value(values[key], (*path, key), depth)
        self._parts.append("}")
        self._open.discard(id(values))

    def _enter(self, container: Any, path: Path, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise write_error(f"{describe_path(path)} is nested deeper than {MAX_DEPTH} levels")
        if id(container) in self._open:
            raise write_error(f"{describe_path(path)} contains itself")
        self._open.add(id(container))

    def value(self, value: Any, path: Path, depth: int) -> None:
        if value is None:
            self._parts.append("null")
            return
        try:
            kind = value_kind(value, path)
        except UnwritableValueError as exc:
            raise write_error(str(exc)) from None
        match kind:
            case Kind.STRING:
                self._parts.append(_string(value))
            case Kind.BOOLEAN:
                self._parts.append("true" if value else "false")
            case Kind.INTEGER:
                self._parts.append(str(int(value)))
            case Kind.LONG | Kind.SHORT | Kind.BYTE:
                self._bounded(kind.value, int(value), path)
            case Kind.BIG_INTEGER:
                self._wrapped(kind.value, _whole(int(value), path))
            case Kind.DOUBLE | Kind.FLOAT:
                self._floating(kind.value, float(value), path)
            case Kind.BIG_DECIMAL:
                if not value.is_finite():
                    raise write_error(f"{describe_path(path)} = {value} has no BigDecimal form")
                text = java_big_decimal_to_string(value)
                if len(text) > MAX_NUMBER_LENGTH:
                    raise write_error(f"{describe_path(path)} has more digits than Jackson reads")
                self._wrapped(kind.value, text)
            case Kind.ENUM:
                self._wrapped(value.class_name, _string(value.name))
            case Kind.OPAQUE:
                raise write_error(
                    f"{describe_path(path)} is a {value.class_name} known only by its text, which"
                    " has no JSON form"
                )
            case Kind.LIST:
                self._enter(value, path, depth + 1)
                self._parts.append(f'["{_LIST}",[')
                for index, item in enumerate(value):
                    if index:
                        self._parts.append(",")
                    self.value(item, (*path, index), depth + 1)
                self._parts.append("]]")
                self._open.discard(id(value))
            case Kind.MAP:
                self.map(value, path, depth + 1)
            case _:
                self._wrapped(kind.value, _temporal(kind, value))

    def _bounded(self, java_class: str, number: int, path: Path) -> None:
        bits = {"java.lang.Long": 64, "java.lang.Short": 16, "java.lang.Byte": 8}[java_class]
        if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
            raise write_error(f"{describe_path(path)} = {number} does not fit a {java_class}")
        # Only Integer is natural: an unwrapped whole number reads back as Integer (or Long
        # when it does not fit 32 bits), never as Short or Byte.
        self._wrapped(java_class, str(number))

    def _floating(self, java_class: str, number: float, path: Path) -> None:
        if number != number or number in (float("inf"), float("-inf")):
            raise write_error(
                f"{describe_path(path)} = {number}: Jackson stores it as a string, not a number"
            )
        if java_class == "java.lang.Double":
            self._parts.append(java_double_to_string(number))
        else:
            self._wrapped(java_class, java_float_to_string(number))


def _temporal(kind: Kind, value: Any) -> str:
    if kind is Kind.DATE:
        delta = value - _EPOCH
        micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
        return str(micros // 1000)
    if kind is Kind.LOCAL_DATE_TIME:
        day = date_part(value)
        return _fields(day.year, day.month, day.day, *_time_fields(value))
    if kind is Kind.LOCAL_DATE:
        return _fields(value.year, value.month, value.day)
    if kind is Kind.LOCAL_TIME:
        return _fields(*_time_fields(value))
    if kind is Kind.DURATION:
        duration = value if isinstance(value, Duration) else Duration.of(value)
        return _seconds_and_nanos(duration.seconds, duration.nanos)
    return _seconds_and_nanos(value.seconds, value.nanos)  # an Instant


def _time_fields(value: time | datetime | LocalTime | LocalDateTime) -> list[int]:
    # JavaTimeModule leaves out a zero second-and-nano, and a zero nano.
    hour, minute, second, nano = time_fields(value)
    fields = [hour, minute]
    if second or nano:
        fields.append(second)
        if nano:
            fields.append(nano)
    return fields


def _fields(*numbers: int) -> str:
    return "[" + ",".join(map(str, numbers)) + "]"


# -- reading ----------------------------------------------------------------------------------


class _JsonObject(list[tuple[str, Any]]):
    """A JSON object as its (key, value) pairs, so the ``@class`` entry can be told apart."""


class _Number:
    """A JSON number as written, so BigDecimal keeps its scale and big integers stay exact."""

    __slots__ = ("integral", "text")

    def __init__(self, text: str, integral: bool) -> None:
        if len(text) > MAX_NUMBER_LENGTH:
            raise ValueError(f"number longer than {MAX_NUMBER_LENGTH} characters")
        self.text = text
        self.integral = integral


def _integral(text: str) -> _Number:
    return _Number(text, True)


def _fractional(text: str) -> _Number:
    return _Number(text, False)


def _no_constant(text: str) -> NoReturn:
    raise ValueError(f"{text} is not JSON")


class _JsonReader:
    def __init__(self, where: str, trusted: frozenset[str]) -> None:
        self._where = where
        self._trusted = trusted

    def fail(self, detail: str, java_class: str | None = None) -> NoReturn:
        raise read_error(self._where, detail, java_class)

    def value(self, node: Any, depth: int) -> Any:
        if node is None or isinstance(node, bool | str):
            return node
        if isinstance(node, _Number):
            if not node.integral:
                return Double(float(node.text))
            number = int(node.text)
            if -(1 << 31) <= number < 1 << 31:
                return Integer(number)
            return Long(number) if -(1 << 63) <= number < 1 << 63 else BigInteger(number)
        if isinstance(node, _JsonObject):
            return self.object(node, depth + 1)
        if len(node) != 2 or not isinstance(node[0], str):
            self.fail('an array without a type; Jackson writes ["<class>", value]')
        return self.typed(node[0], node[1], depth)

    def _reject(self, java_class: str) -> NoReturn:
        if java_class in _MAP_CLASSES or java_class in _LIST_CLASSES:
            self.fail(f"{java_class} in a form Jackson does not write", java_class)
        if java_class not in self._trusted and java_class not in _TRUSTED_UNSUPPORTED:
            self.fail(
                f"class {java_class} is not trusted (Java would refuse it too unless the "
                "serializer is built with it)",
                java_class,
            )
        self.fail(f"unsupported class {java_class}", java_class)

    def object(self, node: _JsonObject, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            self.fail(f"maps and lists nested deeper than {MAX_DEPTH} levels")
        type_at = next((i for i, (key, _) in enumerate(node) if key == _TYPE_KEY), None)
        if type_at is None:
            self.fail(f"a JSON object without {_TYPE_KEY}")
        java_class = node[type_at][1]
        if not isinstance(java_class, str):
            self.fail(f"{_TYPE_KEY} is not a class name")
        if java_class not in _MAP_CLASSES:
            self._reject(java_class)
        return {key: self.value(item, depth) for i, (key, item) in enumerate(node) if i != type_at}

    def typed(self, java_class: str, node: Any, depth: int) -> Any:
        convert = _SCALARS.get(java_class)
        if convert is not None:
            try:
                return convert(node)
            except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
                self.fail(f"bad {java_class} value: {exc}", java_class)
        if java_class in _LIST_CLASSES and isinstance(node, list) and type(node) is list:
            if depth + 1 > MAX_DEPTH:
                self.fail(f"maps and lists nested deeper than {MAX_DEPTH} levels")
            return [self.value(item, depth + 1) for item in node]
        if java_class in self._trusted and isinstance(node, str):
            return JavaEnum(java_class, node)
        self._reject(java_class)


def _need_number(node: Any, integral: bool = False) -> _Number:
    if not isinstance(node, _Number) or (integral and not node.integral):
        raise TypeError(f"expected a {'whole ' if integral else ''}number")
    return node


def _ranged(wrap: Callable[[int], Any], bits: int) -> Callable[[Any], Any]:
    def convert(node: Any) -> Any:
        number = int(_need_number(node, integral=True).text)
        if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
            raise ValueError(f"{number} out of range")
        return wrap(number)

    return convert


def _of_type(kind: type) -> Callable[[Any], Any]:
    def convert(node: Any) -> Any:
        if not isinstance(node, kind):
            raise TypeError(f"expected a {kind.__name__}")
        return node

    return convert


def _ints(node: Any, low: int, high: int) -> list[int]:
    if not isinstance(node, list) or not low <= len(node) <= high:
        raise TypeError(f"expected an array of {low} to {high} numbers")
    return [int(_need_number(item, integral=True).text) for item in node]


def _local_time(parts: list[int]) -> time | LocalTime:
    hour, minute, second, nanos = (*parts, 0, 0)[:4]
    if not 0 <= nanos < 10**9:
        raise ValueError("nano-of-second out of range")
    # Whole microseconds give a plain time; finer values keep their nanoseconds.
    return time_of(hour, minute, second, nanos)


def _local_date_time(node: Any) -> datetime | LocalDateTime:
    parts = _ints(node, 5, 7)
    return date_time_of(date(*parts[:3]), _local_time(parts[3:]))


def _epoch_parts(node: Any) -> tuple[int, int]:
    """Seconds and nanos as Jackson's reader takes them from ``s.fffffffff``: the whole part,
    then the fraction in nanoseconds, whose sign is dropped when the whole part is negative."""
    with localcontext() as context:
        context.prec = MAX_NUMBER_LENGTH + 20
        number = Decimal(_need_number(node).text)
        if number.adjusted() > 30:
            raise ValueError("out of range")
        seconds = int(number)
        nanos = int((number - seconds).scaleb(9))
    if seconds < 0:
        nanos = abs(nanos)
    return seconds, nanos


def _instant(node: Any) -> Instant:
    seconds, nanos = _epoch_parts(node)
    seconds, nanos = seconds + nanos // 10**9, nanos % 10**9
    if not INSTANT_MIN_SECONDS <= seconds <= INSTANT_MAX_SECONDS:
        raise ValueError("outside java.time.Instant")
    return Instant(seconds, nanos)


def _duration(node: Any) -> timedelta | Duration:
    seconds, nanos = _epoch_parts(node)
    return duration_of(seconds, nanos)


def _decimal(node: Any) -> Decimal:
    try:
        return Decimal(_need_number(node).text)
    except InvalidOperation as exc:  # pragma: no cover - JSON numbers are valid decimals
        raise ValueError(str(exc)) from None


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "java.lang.String": _of_type(str),
    "java.lang.Boolean": _of_type(bool),
    "java.lang.Long": _ranged(Long, 64),
    "java.lang.Integer": _ranged(Integer, 32),
    "java.lang.Short": _ranged(Short, 16),
    "java.lang.Byte": _ranged(Byte, 8),
    "java.lang.Double": lambda node: Double(float(_need_number(node).text)),
    "java.lang.Float": lambda node: Float(parse_java_float(_need_number(node).text)),
    "java.math.BigInteger": lambda node: BigInteger(int(_need_number(node, True).text)),
    "java.math.BigDecimal": _decimal,
    "java.util.Date": lambda node: (
        _EPOCH + timedelta(milliseconds=int(_need_number(node, True).text))
    ),
    "java.time.LocalDate": lambda node: date(*_ints(node, 3, 3)),
    "java.time.LocalTime": lambda node: _local_time(_ints(node, 2, 4)),
    "java.time.LocalDateTime": _local_date_time,
    "java.time.Instant": _instant,
    "java.time.Duration": _duration,
}
