"""An allow-list reader for Java-serialized execution contexts.

It never loads, imports or runs anything named in the stream: it knows the exact serialized form
of a fixed set of JDK classes (``stream.CLASSES``) plus any enum, and rejects everything else,
naming the class. Every length is checked against the bytes that remain before anything is
allocated, nesting is bounded, and every failure is a
:class:`~springbatch_py.java.stream.JavaStreamError`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NoReturn

from springbatch_py.java import stream as js
from springbatch_py.java.stream import JavaStreamError
from springbatch_py.java.types import (
    BigInteger,
    Byte,
    Double,
    Float,
    Instant,
    Integer,
    JavaEnum,
    LocalTime,
    Long,
    Short,
    date_time_of,
    duration_of,
    time_of,
)

#: Deepest nesting of objects (maps in lists in maps ...) the reader follows.
MAX_DEPTH = 64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONTAINERS = frozenset(("java.util.HashMap", "java.util.LinkedHashMap", "java.util.ArrayList"))


class _Desc:
    """A class descriptor read from the stream (already checked against the allow-list)."""

    __slots__ = ("spec",)

    def __init__(self, spec: js.JavaClass) -> None:
        self.spec = spec


class _ByteArray:
    """A ``byte[]`` read from the stream; only BigInteger magnitudes may use one."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class _Pending:
    """The handle of an object whose data is still being read; a reference to it is a cycle."""


_PENDING = _Pending()


class _Custom:
    """What a class's own writeObject/writeExternal wrote: block data (merged into bytearrays)
    and objects, in order."""

    def __init__(self, reader: JavaStreamReader, items: list[Any]) -> None:
        self._reader = reader
        self._items = items
        self._index = 0
        self._offset = 0

    def take(self, size: int) -> bytes:
        if self._index < len(self._items) and isinstance(self._items[self._index], bytearray):
            block: bytearray = self._items[self._index]
            if self._offset + size <= len(block):
                chunk = bytes(block[self._offset : self._offset + size])
                self._offset += size
                if self._offset == len(block):
                    self._index, self._offset = self._index + 1, 0
                return chunk
        self._reader.fail("custom data ends early")

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def next_object(self) -> Any:
        if self._offset or self._index >= len(self._items):
            self._reader.fail("custom data does not hold the objects it announces")
        item = self._items[self._index]
        if isinstance(item, bytearray):
            self._reader.fail("custom data holds bytes where an object belongs")
        self._index += 1
        return item

    def finish(self) -> None:
        if self._index != len(self._items):
            self._reader.fail("custom data holds more than its class writes")


class JavaStreamReader:
    """Reads one ``java.util.HashMap`` (or ``LinkedHashMap``) from a serialization stream."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self._handles: list[Any] = []

    def fail(self, detail: str, java_class: str | None = None) -> NoReturn:
        """Raise the read error for this stream."""
        raise JavaStreamError(detail, java_class)

    def read_context(self) -> dict[str, Any]:
        """The map the stream holds, with Java values mapped per ``javatypes``."""
        if self._data[:4] != js.MAGIC:
            self.fail("not a Java serialization stream (bad stream header)")
        self._pos = 4
        value = self._value(0)
        if not isinstance(value, dict):
            self.fail("the stream does not hold a java.util.HashMap")
        if self._pos != len(self._data):
            self.fail(f"{len(self._data) - self._pos} unexpected bytes after the map")
        return value

    # -- primitives ---------------------------------------------------------------------------

    def _take(self, size: int) -> bytes:
        if size < 0 or size > len(self._data) - self._pos:
            self.fail(f"the stream is truncated at byte {self._pos}")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def _unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _u8(self) -> int:
        return self._take(1)[0]

    def _peek(self) -> int:
        if self._pos >= len(self._data):
            self.fail(f"the stream is truncated at byte {self._pos}")
        return self._data[self._pos]

    def _utf(self, size: int) -> str:
        try:
            return js.decode_modified_utf8(self._take(size))
        except ValueError as exc:
            self.fail(str(exc))

    def _assign(self, value: Any) -> int:
        self._handles.append(value)
        return len(self._handles) - 1

    def _lookup(self) -> Any:
        handle = self._unpack(">i")
        index = handle - js.BASE_HANDLE
        if not 0 <= index < len(self._handles):
            self.fail(f"reference to unknown handle 0x{handle & 0xFFFFFFFF:08x}")
        return self._handles[index]

    # -- contents -----------------------------------------------------------------------------

    def _value(self, depth: int) -> Any:
        code = self._u8()
        if code == js.TC_NULL:
            return None
        if code == js.TC_REFERENCE:
            entry = self._lookup()
            if entry is _PENDING:
                self.fail("cyclic reference to an object still being read")
            if isinstance(entry, _Desc | _ByteArray):
                self.fail("reference to something that is not a value")
            return entry
        if code in (js.TC_STRING, js.TC_LONGSTRING):
            return self._new_string(code)
        if code == js.TC_OBJECT:
            return self._object(depth + 1)
        if code == js.TC_ENUM:
            return self._enum()
        if code == js.TC_ARRAY:
            name = self._class_desc().spec.name
            self.fail(f"unsupported class {name} (arrays are not context values)", name)
        names = {
            js.TC_CLASS: "a class object",
            js.TC_CLASSDESC: "a class descriptor",
            js.TC_PROXYCLASSDESC: "a proxy class descriptor",
            js.TC_EXCEPTION: "an exception the writer hit",
            js.TC_RESET: "a stream reset",
            js.TC_BLOCKDATA: "block data",
            js.TC_BLOCKDATALONG: "block data",
            js.TC_ENDBLOCKDATA: "an end of block data",
        }
        what = names.get(code, f"unknown type code 0x{code:02x}")
        self.fail(f"{what} where a value belongs (byte {self._pos - 1})")

    def _new_string(self, code: int) -> str:
        size = self._unpack(">H") if code == js.TC_STRING else self._unpack(">q")
        text = self._utf(size)
        self._assign(text)
        return text

    def _string_object(self) -> str:
        code = self._u8()
        if code in (js.TC_STRING, js.TC_LONGSTRING):
            return self._new_string(code)
        if code == js.TC_REFERENCE:
            entry = self._lookup()
            if isinstance(entry, str):
                return entry
        self.fail(f"expected a string at byte {self._pos - 1}")

    def _class_desc(self, expect: str | None = None) -> _Desc:
        code = self._u8()
        if code == js.TC_REFERENCE:
            entry = self._lookup()
            if not isinstance(entry, _Desc):
                self.fail("reference to something that is not a class descriptor")
        elif code == js.TC_CLASSDESC:
            entry = self._new_class_desc(expect)
        elif code == js.TC_PROXYCLASSDESC:
            self.fail("proxy classes are not allowed in an execution context")
        else:
            self.fail(f"expected a class descriptor at byte {self._pos - 1}")
        if expect is not None and entry.spec.name != expect:
            self.fail(f"class {entry.spec.name} where {expect} belongs", entry.spec.name)
        return entry

    def _new_class_desc(self, expect: str | None) -> _Desc:
        index = self._assign(_PENDING)
        name = self._utf(self._unpack(">H"))
        # Checked before anything else is read, so a hostile superclass chain cannot recurse.
        if expect is not None and name != expect:
            self.fail(f"class {name} where {expect} belongs", name)
        suid, flags = self._unpack(">q"), self._u8()
        if flags & js.SC_ENUM:
            spec = js.CLASSES[js.ENUM_BASE] if name == js.ENUM_BASE else js.enum_class(name)
        elif name in js.CLASSES:
            spec = js.CLASSES[name]
        else:
            self.fail(f"unknown class {name}", name)
        if suid != spec.suid:
            self.fail(f"class {name} has serialVersionUID {suid}, expected {spec.suid}", name)
        if flags != spec.flags:
            self.fail(f"class {name} has flags 0x{flags:02x}, expected 0x{spec.flags:02x}", name)
        if self._unpack(">H") != len(spec.fields):
            self.fail(f"class {name} does not have the fields Java writes for it", name)
        for expected in spec.fields:
            code = chr(self._u8())
            field_name = self._utf(self._unpack(">H"))
            signature = self._string_object() if code in "L[" else None
            if js.Field(code, field_name, signature) != expected:
                self.fail(f"class {name} does not have the fields Java writes for it", name)
        if self._u8() != js.TC_ENDBLOCKDATA:
            self.fail(f"class {name} carries annotations, which Java's writer never adds", name)
        if spec.superclass is None:
            if self._u8() != js.TC_NULL:
                self.fail(f"class {name} declares a superclass it does not have", name)
        else:
            self._class_desc(spec.superclass)
        desc = _Desc(spec)
        self._handles[index] = desc
        return desc

    def _enum(self) -> JavaEnum:
        spec = self._class_desc().spec
        if not spec.flags & js.SC_ENUM or spec.name == js.ENUM_BASE:
            self.fail(f"class {spec.name} is written as an enum but is not one", spec.name)
        index = self._assign(_PENDING)
        value = JavaEnum(spec.name, self._string_object())
        self._handles[index] = value
        return value

    def _custom(self, depth: int) -> _Custom:
        items: list[Any] = []
        while True:
            code = self._peek()
            if code == js.TC_ENDBLOCKDATA:
                self._pos += 1
                return _Custom(self, items)
            if code in (js.TC_BLOCKDATA, js.TC_BLOCKDATALONG):
                self._pos += 1
                size = self._u8() if code == js.TC_BLOCKDATA else self._unpack(">i")
                block = self._take(size)
                # Java reads across block boundaries as one byte stream. (Values are never
                # bytearrays, so the type tells block data from objects.)
                if items and isinstance(items[-1], bytearray):
                    items[-1] += block
                else:
                    items.append(bytearray(block))
            else:
                items.append(self._value(depth))

    # -- objects ------------------------------------------------------------------------------

    def _object(self, depth: int) -> Any:
        # A map or list may sit MAX_DEPTH levels deep; the values in it need at most two more
        # levels (BigDecimal -> BigInteger). Checked before any data, so hostile chains stop.
        if depth > MAX_DEPTH + 2:
            self.fail(f"objects nested deeper than {MAX_DEPTH} levels")
        spec = self._class_desc().spec
        if depth > MAX_DEPTH and spec.name in _CONTAINERS:
            self.fail(f"maps and lists nested deeper than {MAX_DEPTH} levels")
        read = _OBJECT_READERS.get(spec.name)
        if read is None or spec.flags & js.SC_ENUM:
            self.fail(f"class {spec.name} cannot be read as an object", spec.name)
        index = self._assign(_PENDING)
        value = read(self, depth)
        self._handles[index] = value
        return value

    def _hash_map(self, depth: int) -> dict[str, Any]:
        load_factor, _threshold = self._unpack(">f"), self._unpack(">i")
        custom = self._custom(depth)
        if not load_factor > 0:
            self.fail("java.util.HashMap with an invalid load factor", "java.util.HashMap")
        _capacity, size = custom.unpack(">i"), custom.unpack(">i")
        if size < 0:
            self.fail("java.util.HashMap with a negative size", "java.util.HashMap")
        result: dict[str, Any] = {}
        for _ in range(size):
            key, value = custom.next_object(), custom.next_object()
            if not isinstance(key, str):
                self.fail(f"map key of type {type(key).__name__}; context keys are strings")
            result[key] = value
        custom.finish()
        return result

    def _linked_hash_map(self, depth: int) -> dict[str, Any]:
        result = self._hash_map(depth)
        self._u8()  # accessOrder: iteration order is not part of the Python value
        return result

    def _array_list(self, depth: int) -> list[Any]:
        size = self._unpack(">i")
        custom = self._custom(depth)
        custom.unpack(">i")  # capacity, which Java ignores too
        if size < 0:
            self.fail("java.util.ArrayList with a negative size", "java.util.ArrayList")
        result = [custom.next_object() for _ in range(size)]
        custom.finish()
        return result

    def _big_decimal(self, depth: int) -> Decimal:
        scale = self._unpack(">i")
        unscaled = self._value(depth)
        self._custom(depth).finish()
        if not isinstance(unscaled, BigInteger):
            self.fail("java.math.BigDecimal without a BigInteger intVal", "java.math.BigDecimal")
        # Built from a tuple so no decimal context rounds the digits.
        digits = Decimal(abs(unscaled)).as_tuple().digits
        return Decimal((int(unscaled < 0), digits, -scale))

    def _big_integer(self, depth: int) -> BigInteger:
        # bitCount, bitLength, firstNonzeroByteNum, lowestSetBit: caches Java ignores on read.
        signum = struct.unpack(">16xi", self._take(20))[0]
        code = self._u8()
        if code == js.TC_ARRAY:
            self._class_desc("[B")
            index = self._assign(_PENDING)
            magnitude = _ByteArray(self._take(self._unpack(">i")))
            self._handles[index] = magnitude
        elif code == js.TC_REFERENCE and isinstance(entry := self._lookup(), _ByteArray):
            magnitude = entry
        else:
            self.fail("java.math.BigInteger without a magnitude", "java.math.BigInteger")
        self._custom(depth).finish()
        value = int.from_bytes(magnitude.data, "big")
        if signum not in (-1, 0, 1) or (signum == 0) != (value == 0):
            self.fail("java.math.BigInteger with a bad sign", "java.math.BigInteger")
        return BigInteger(signum * value)

    def _date(self, depth: int) -> datetime:
        custom = self._custom(depth)
        millis = custom.unpack(">q")
        custom.finish()
        try:
            return _EPOCH + timedelta(milliseconds=millis)
        except OverflowError:
            self.fail(f"java.util.Date {millis} ms is outside Python's years 1-9999")

    def _time_ser(self, depth: int) -> Any:
        custom = self._custom(depth)
        kind = struct.unpack(">b", custom.take(1))[0]
        value = self._time_value(kind, custom)
        custom.finish()
        return value

    def _time_value(self, kind: int, custom: _Custom) -> Any:
        try:
            if kind in (js.SER_DURATION, js.SER_INSTANT):
                seconds, nanos = custom.unpack(">q"), custom.unpack(">i")
                if kind == js.SER_INSTANT:
                    seconds, nanos = seconds + nanos // 10**9, nanos % 10**9
                    if not js.INSTANT_MIN_SECONDS <= seconds <= js.INSTANT_MAX_SECONDS:
                        self.fail("java.time.Instant out of range", "java.time.Instant")
                    return Instant(seconds, nanos)
                # A timedelta where it holds the value, else a Duration with the nanoseconds.
                return duration_of(seconds, nanos)
            if kind == js.SER_LOCAL_DATE:
                return self._local_date(custom)
            if kind == js.SER_LOCAL_TIME:
                return self._local_time(custom)
            if kind == js.SER_LOCAL_DATE_TIME:
                return date_time_of(self._local_date(custom), self._local_time(custom))
        except (ValueError, OverflowError) as exc:
            self.fail(f"invalid java.time value: {exc}")
        name = js.SER_TYPE_NAMES.get(kind)
        if name is not None:
            self.fail(f"unsupported class {name}", name)
        self.fail(f"unknown java.time.Ser type {kind}", js.TIME_SER)

    @staticmethod
    def _local_date(custom: _Custom) -> date:
        year, month, day = struct.unpack(">ibb", custom.take(6))
        return date(year, month, day)

    @staticmethod
    def _local_time(custom: _Custom) -> time | LocalTime:
        # Java's compact form: the first negative byte is the bitwise complement of the last
        # non-zero part, and everything after it is zero.
        parts = [0, 0, 0]
        for i in range(3):
            part = struct.unpack(">b", custom.take(1))[0]
            if part < 0:
                parts[i] = ~part
                return time(parts[0], parts[1], parts[2])
            parts[i] = part
        nanos = custom.unpack(">i")
        if not 0 <= nanos < 10**9:
            raise ValueError("nano-of-second out of range")
        # Whole microseconds give a plain time; finer values keep their nanoseconds.
        return time_of(parts[0], parts[1], parts[2], nanos)


def _boxed(fmt: str, wrap: Callable[[Any], Any]) -> Callable[[JavaStreamReader, int], Any]:
    def read(reader: JavaStreamReader, depth: int) -> Any:
        return wrap(reader._unpack(fmt))

    return read


_OBJECT_READERS: dict[str, Callable[[JavaStreamReader, int], Any]] = {
    "java.util.HashMap": JavaStreamReader._hash_map,
    "java.util.LinkedHashMap": JavaStreamReader._linked_hash_map,
    "java.util.ArrayList": JavaStreamReader._array_list,
    "java.lang.Long": _boxed(">q", Long),
    "java.lang.Integer": _boxed(">i", Integer),
    "java.lang.Short": _boxed(">h", Short),
    "java.lang.Byte": _boxed(">b", Byte),
    "java.lang.Double": _boxed(">d", Double),
    "java.lang.Float": _boxed(">f", Float),
    "java.lang.Boolean": _boxed(">B", bool),
    "java.math.BigDecimal": JavaStreamReader._big_decimal,
    "java.math.BigInteger": JavaStreamReader._big_integer,
    "java.util.Date": JavaStreamReader._date,
    js.TIME_SER: JavaStreamReader._time_ser,
}
