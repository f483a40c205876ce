"""Writes an execution context as OpenJDK 17's ObjectOutputStream writes a ``java.util.HashMap``.

Besides the byte layout of each class, exact output needs Java's sharing rules: an object written
twice is written once and then referenced by handle. Which values are the *same object* in Java
depends on how they were made; we emulate the common way (autoboxing and ``valueOf``), where
these are shared:

* ``Boolean.TRUE``/``FALSE``, every ``Byte``, ``Short``/``Integer``/``Long`` in -128..127;
* enum constants (singletons);
* ``BigInteger.valueOf`` constants -16..16, also inside a ``BigDecimal`` (its writeObject fills
  the unscaled value with ``BigInteger.valueOf``); ``BigDecimal.valueOf`` constants (0..10 at
  scale 0, zero at scales 0..15); the one ``BigInteger`` Java keeps for ``Long.MIN_VALUE``
  unscaled values;
* ``java.time`` constants reached through their factories: ``LocalTime`` on the hour,
  ``Duration.ZERO`` and ``Instant.EPOCH`` (java.time values are written through a replacement
  object, and Java remembers the replacement per original object);
* a ``list`` or ``dict`` that appears twice (the same Python object, like the same Java object).

Strings are never shared: Java shares only the identical String object, which we cannot know.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from springbatch_py.java import stream as js
from springbatch_py.java.hashmap import EntryOrder, hashmap_layout, ordered_keys
from springbatch_py.java.kinds import Kind, UnwritableValueError, describe_path, value_kind
from springbatch_py.java.stream import JavaStreamError
from springbatch_py.java.types import (
    Duration,
    Float,
    JavaEnum,
    LocalDateTime,
    LocalTime,
    date_part,
    time_fields,
)

#: Deepest nesting of lists and maps the writer accepts (the reader's limit too).
MAX_DEPTH = 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BOXED_RANGES = {
    "java.lang.Long": (64, 127),
    "java.lang.Integer": (32, 127),
    "java.lang.Short": (16, 127),
    "java.lang.Byte": (8, 127),
}
_BOXED_FORMATS = {
    "java.lang.Long": ">q",
    "java.lang.Integer": ">i",
    "java.lang.Short": ">h",
    "java.lang.Byte": ">b",
}
_LONG_MIN = -(1 << 63)
_INT_MAX = (1 << 31) - 1

Path = tuple[str | int, ...]


class JavaStreamWriter:
    """Serializes one context; use a new writer per stream (handles are per stream)."""

    def __init__(self, entry_order: EntryOrder = "insertion") -> None:
        self._entry_order = entry_order
        self._out = bytearray()
        self._next_handle = 0
        self._classes: dict[str, int] = {}
        self._type_strings: dict[str, int] = {}
        self._shared: dict[tuple[Any, ...], int] = {}
        self._containers: dict[int, int] = {}
        self._open: set[int] = set()

    def write_context(self, values: Mapping[str, Any]) -> bytes:
        """The serialization stream of ``new HashMap<>(values)`` written by ``writeObject``."""
        for key, value in values.items():
            if value is None:
                raise JavaStreamError(f"the value of {key!r} is None; Java contexts hold no nulls")
        self._out += js.MAGIC
        self._map(values, (), 0)
        return bytes(self._out)

    # -- stream pieces ------------------------------------------------------------------------

    def _handle(self) -> int:
        handle = self._next_handle
        self._next_handle += 1
        return handle

    def _reference(self, handle: int) -> None:
        self._out.append(js.TC_REFERENCE)
        self._out += struct.pack(">i", js.BASE_HANDLE + handle)

    def _utf(self, text: str) -> None:
        data = js.encode_modified_utf8(text)
        if len(data) > 0xFFFF:
            raise JavaStreamError(f"class or field name longer than 65535 bytes: {text[:40]!r}...")
        self._out += struct.pack(">H", len(data)) + data

    def _string(self, text: str) -> None:
        data = js.encode_modified_utf8(text)
        # Above 65535 bytes of modified UTF-8 the two-byte length cannot hold it.
        if len(data) <= 0xFFFF:
            self._out.append(js.TC_STRING)
            self._handle()
            self._out += struct.pack(">H", len(data))
        else:
            self._out.append(js.TC_LONGSTRING)
            self._handle()
            self._out += struct.pack(">q", len(data))
        self._out += data

    def _block(self, data: bytes) -> None:
        for start in range(0, len(data), js.MAX_BLOCK):
            chunk = data[start : start + js.MAX_BLOCK]
            if len(chunk) <= 0xFF:
                self._out += bytes((js.TC_BLOCKDATA, len(chunk)))
            else:
                self._out.append(js.TC_BLOCKDATALONG)
                self._out += struct.pack(">i", len(chunk))
            self._out += chunk

    def _class_desc(self, spec: js.JavaClass) -> None:
        handle = self._classes.get(spec.name)
        if handle is not None:
            self._reference(handle)
            return
        self._out.append(js.TC_CLASSDESC)
        # The descriptor's handle is taken before its name and fields are written.
        self._classes[spec.name] = self._handle()
        self._utf(spec.name)
        self._out += struct.pack(">qBH", spec.suid, spec.flags, len(spec.fields))
        for field in spec.fields:
            self._out.append(ord(field.code))
            self._utf(field.name)
            if field.signature is not None:
                self._type_string(field.signature)
        self._out.append(js.TC_ENDBLOCKDATA)
        if spec.superclass is None:
            self._out.append(js.TC_NULL)
        else:
            self._class_desc(js.CLASSES[spec.superclass])

    def _type_string(self, signature: str) -> None:
        # Java interns field type signatures, so a repeated one is a back-reference.
        handle = self._type_strings.get(signature)
        if handle is not None:
            self._reference(handle)
            return
        self._out.append(js.TC_STRING)
        self._type_strings[signature] = self._handle()
        self._utf(signature)

    def _new_object(self, class_name: str, share: tuple[Any, ...] | None = None) -> bool:
        """Start an object, or write a back-reference and return False if it is shared."""
        if share is not None and (handle := self._shared.get(share)) is not None:
            self._reference(handle)
            return False
        self._out.append(js.TC_OBJECT)
        self._class_desc(js.CLASSES[class_name])
        handle = self._handle()
        if share is not None:
            self._shared[share] = handle
        return True

    # -- values -------------------------------------------------------------------------------

    def _value(self, value: Any, path: Path, depth: int) -> None:
        if value is None:
            self._out.append(js.TC_NULL)
            return
        try:
            kind = value_kind(value, path)
        except UnwritableValueError as exc:
            raise JavaStreamError(str(exc)) from None
        match kind:
            case Kind.STRING:
                self._string(value)
            case Kind.BOOLEAN:
                if self._new_object(kind.value, ("Z", value)):
                    self._out.append(int(value))
            case Kind.LONG | Kind.INTEGER | Kind.SHORT | Kind.BYTE:
                self._boxed(kind.value, int(value), path)
            case Kind.DOUBLE:
                self._new_object(kind.value)
                # Java writes every NaN as the one canonical bit pattern.
                self._out += struct.pack(">d", math.nan if math.isnan(value) else value)
            case Kind.FLOAT:
                self._new_object(kind.value)
                self._out += struct.pack(">f", math.nan if math.isnan(value) else Float(value))
            case Kind.BIG_INTEGER:
                number = int(value)
                self._big_integer(number, ("BigInteger", number) if -16 <= number <= 16 else None)
            case Kind.BIG_DECIMAL:
                self._big_decimal(value, path)
            case Kind.ENUM:
                self._enum(value, path)
            case Kind.OPAQUE:
                raise JavaStreamError(
                    f"{describe_path(path)} is a {value.class_name} known only by its text, which"
                    " has no serialized form",
                    value.class_name,
                )
            case Kind.LIST:
                self._list(value, path, depth)
            case Kind.MAP:
                self._map(value, path, depth)
            case _:
                self._temporal(kind, value)

    def _boxed(self, java_class: str, number: int, path: Path) -> None:
        bits, cached = _BOXED_RANGES[java_class]
        if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
            raise JavaStreamError(
                f"{describe_path(path)} = {number} does not fit a {java_class}", java_class
            )
        # Byte.valueOf caches all 256 values; the others cache -128..127.
        if self._new_object(java_class, (java_class, number) if -128 <= number <= cached else None):
            self._out += struct.pack(_BOXED_FORMATS[java_class], number)

    def _big_integer(self, number: int, share: tuple[Any, ...] | None) -> None:
        if not self._new_object("java.math.BigInteger", share):
            return
        signum = (number > 0) - (number < 0)
        # The four cached-value fields always hold these markers in the serial form.
        self._out += struct.pack(">iiiii", -1, -1, -2, -2, signum)
        magnitude = abs(number).to_bytes((abs(number).bit_length() + 7) // 8, "big")
        self._out.append(js.TC_ARRAY)
        self._class_desc(js.CLASSES["[B"])
        self._handle()
        self._out += struct.pack(">i", len(magnitude)) + magnitude
        self._out.append(js.TC_ENDBLOCKDATA)

    def _big_decimal(self, value: Decimal, path: Path) -> None:
        sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):
            raise JavaStreamError(f"{describe_path(path)} = {value} has no BigDecimal form")
        unscaled = int(Decimal((sign, digits, 0)))
        scale = -exponent
        if not -_INT_MAX - 1 <= scale <= _INT_MAX:
            raise JavaStreamError(f"{describe_path(path)} = {value}: scale does not fit an int")
        cached = (scale == 0 and 0 <= unscaled <= 10) or (unscaled == 0 and 0 <= scale <= 15)
        share = ("BigDecimal", unscaled, scale) if cached else None
        if not self._new_object("java.math.BigDecimal", share):
            return
        self._out += struct.pack(">i", scale)
        if -16 <= unscaled <= 16:
            unscaled_share: tuple[Any, ...] | None = ("BigInteger", unscaled)
        elif unscaled == _LONG_MIN:
            unscaled_share = ("BigInteger.INFLATED",)
        else:
            unscaled_share = None
        self._big_integer(unscaled, unscaled_share)
        self._out.append(js.TC_ENDBLOCKDATA)

    def _enum(self, value: JavaEnum, path: Path) -> None:
        if not value.class_name or value.class_name in js.CLASSES:
            raise JavaStreamError(
                f"{describe_path(path)}: {value.class_name!r} is not an enum class"
            )
        share = ("enum", value.class_name, value.name)
        if (handle := self._shared.get(share)) is not None:
            self._reference(handle)
            return
        self._out.append(js.TC_ENUM)
        self._class_desc(js.enum_class(value.class_name))
        self._shared[share] = self._handle()
        self._string(value.name)

    def _enter(self, container: Any, path: Path, depth: int) -> bool:
        """Check nesting; write a back-reference and return False for a container seen before."""
        if depth > MAX_DEPTH:
            raise JavaStreamError(f"{describe_path(path)} is nested deeper than {MAX_DEPTH} levels")
        ident = id(container)
        if ident in self._open:
            raise JavaStreamError(f"{describe_path(path)} contains itself")
        if (handle := self._containers.get(ident)) is not None:
            self._reference(handle)
            return False
        return True

    def _list(self, values: list[Any], path: Path, depth: int) -> None:
        if not self._enter(values, path, depth + 1):
            return
        self._new_object("java.util.ArrayList")
        self._containers[id(values)] = self._next_handle - 1
        self._open.add(id(values))
        self._out += struct.pack(">i", len(values))
        # ArrayList writes its size again as the capacity.
        self._block(struct.pack(">i", len(values)))
        for index, item in enumerate(values):
            self._value(item, (*path, index), depth + 1)
        self._out.append(js.TC_ENDBLOCKDATA)
        self._open.discard(id(values))

    def _map(self, values: Mapping[str, Any], path: Path, depth: int) -> None:
        if not self._enter(values, path, depth + 1):
            return
        for key in values:
            if not isinstance(key, str):
                raise JavaStreamError(
                    f"{describe_path(path)} has a key of type {type(key).__name__}; "
                    "keys must be strings"
                )
        self._new_object("java.util.HashMap")
        self._containers[id(values)] = self._next_handle - 1
        self._open.add(id(values))
        layout = hashmap_layout(values)
        self._out += struct.pack(">fi", 0.75, layout.threshold)
        self._block(struct.pack(">ii", layout.capacity, len(values)))
        for key in ordered_keys(values, self._entry_order):
            self._string(key)
            self._value(values[key], (*path, key), depth + 1)
        self._out.append(js.TC_ENDBLOCKDATA)
        self._open.discard(id(values))

    def _temporal(self, kind: Kind, value: Any) -> None:
        share: tuple[Any, ...] | None = None
        if kind is Kind.DATE:
            # java.util.Date holds milliseconds; finer digits are cut like Date.from(Instant).
            delta = value - _EPOCH
            micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
            self._new_object(kind.value)
            self._block(struct.pack(">q", micros // 1000))
            self._out.append(js.TC_ENDBLOCKDATA)
            return
        if kind is Kind.LOCAL_DATE_TIME:
            ser = js.SER_LOCAL_DATE_TIME
            payload = _date_bytes(date_part(value)) + _time_bytes(value)
        elif kind is Kind.LOCAL_DATE:
            ser, payload = js.SER_LOCAL_DATE, _date_bytes(value)
        elif kind is Kind.LOCAL_TIME:
            ser, payload = js.SER_LOCAL_TIME, _time_bytes(value)
            hour, minute, second, nano = time_fields(value)
            if minute == second == nano == 0:
                share = ("LocalTime", hour)
        elif kind is Kind.DURATION:
            duration = value if isinstance(value, Duration) else Duration.of(value)
            ser, payload = js.SER_DURATION, struct.pack(">qi", duration.seconds, duration.nanos)
            if duration.seconds == duration.nanos == 0:
                share = ("Duration.ZERO",)
        else:
            ser, payload = js.SER_INSTANT, struct.pack(">qi", value.seconds, value.nanos)
            if value.seconds == value.nanos == 0:
                share = ("Instant.EPOCH",)
        if self._new_object(js.TIME_SER, share):
            self._block(bytes((ser,)) + payload)
            self._out.append(js.TC_ENDBLOCKDATA)


def _date_bytes(value: date) -> bytes:
    return struct.pack(">ibb", value.year, value.month, value.day)


def _time_bytes(value: time | datetime | LocalTime | LocalDateTime) -> bytes:
    # LocalTime's compact form: stop at the last non-zero part and store its complement.
    hour, minute, second, nanos = time_fields(value)
    if nanos:
        return struct.pack(">bbbi", hour, minute, second, nanos)
    if second:
        return struct.pack(">bbb", hour, minute, ~second)
    if minute:
        return struct.pack(">bb", hour, ~minute)
    return struct.pack(">b", ~hour)
