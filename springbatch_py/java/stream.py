"""Constants of the Java Object Serialization stream and the classes we accept in it.

Everything here is taken from the format description (facts §5.4 and the JDK's published
serialization specification), checked against OpenJDK 17 output; no JDK code is reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass


class JavaStreamError(ValueError):
    """A stream that cannot be read, or a value that cannot be written; the context serializer
    reports it as a :class:`~springbatch_py.errors.SpringBatchError` naming the context.

    Attributes
    ----------
    detail:
        What is wrong, and where in the stream or the value.
    java_class:
        The Java class that caused the problem, when there is one.
    """

    def __init__(self, detail: str, java_class: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.java_class = java_class


MAGIC = b"\xac\xed\x00\x05"

TC_NULL = 0x70
TC_REFERENCE = 0x71
TC_CLASSDESC = 0x72
TC_OBJECT = 0x73
TC_STRING = 0x74
TC_ARRAY = 0x75
TC_CLASS = 0x76
TC_BLOCKDATA = 0x77
TC_ENDBLOCKDATA = 0x78
TC_RESET = 0x79
TC_BLOCKDATALONG = 0x7A
TC_EXCEPTION = 0x7B
TC_LONGSTRING = 0x7C
TC_PROXYCLASSDESC = 0x7D
TC_ENUM = 0x7E

#: Handles (for back-references) are numbered from here in write order.
BASE_HANDLE = 0x7E0000

SC_WRITE_METHOD = 0x01
SC_SERIALIZABLE = 0x02
SC_EXTERNALIZABLE = 0x04
SC_BLOCK_DATA = 0x08
SC_ENUM = 0x10

#: Flags of every enum descriptor; enums always have serialVersionUID 0 and no fields.
ENUM_FLAGS = SC_SERIALIZABLE | SC_ENUM
ENUM_BASE = "java.lang.Enum"

#: ``java.time`` values travel as this Externalizable proxy; the first data byte says which type.
TIME_SER = "java.time.Ser"
SER_DURATION = 1
SER_INSTANT = 2
SER_LOCAL_DATE = 3
SER_LOCAL_TIME = 4
SER_LOCAL_DATE_TIME = 5
SER_TYPE_NAMES = {
    6: "java.time.ZonedDateTime",
    7: "java.time.ZoneRegion",
    8: "java.time.ZoneOffset",
    9: "java.time.OffsetTime",
    10: "java.time.OffsetDateTime",
    11: "java.time.Year",
    12: "java.time.YearMonth",
    13: "java.time.MonthDay",
    14: "java.time.Period",
}

#: ``java.time.Instant`` accepts only epoch seconds in this range.
INSTANT_MIN_SECONDS = -31557014167219200
INSTANT_MAX_SECONDS = 31556889864403199

#: Blocks of custom data are at most this long; Java starts a new block after it.
MAX_BLOCK = 1024


@dataclass(frozen=True)
class Field:
    """One serializable field: type code (``J``, ``I``, ``L``, ``[`` ...), name, and for object
    fields the JVM type signature, e.g. ``Ljava/math/BigInteger;``."""

    code: str
    name: str
    signature: str | None = None


@dataclass(frozen=True)
class JavaClass:
    """A class descriptor exactly as Java writes it."""

    name: str
    suid: int
    flags: int
    fields: tuple[Field, ...] = ()
    superclass: str | None = None


_NUMBER = "java.lang.Number"
_PLAIN = SC_SERIALIZABLE
# writeObject-classes end their data with TC_ENDBLOCKDATA and may add block data.
_CUSTOM = SC_SERIALIZABLE | SC_WRITE_METHOD


def _boxed(name: str, suid: int, code: str, superclass: str | None = _NUMBER) -> JavaClass:
    return JavaClass(name, suid, _PLAIN, (Field(code, "value"),), superclass)


#: Every non-enum class the reader accepts and the writer writes. Java lists primitive fields
#: first, then object fields, each group sorted by name; the tuples follow that order.
CLASSES: dict[str, JavaClass] = {
    c.name: c
    for c in (
        JavaClass(
            "java.util.HashMap",
            362498820763181265,
            _CUSTOM,
            (Field("F", "loadFactor"), Field("I", "threshold")),
        ),
        JavaClass(
            "java.util.LinkedHashMap",
            3801124242820219131,
            _PLAIN,
            (Field("Z", "accessOrder"),),
            "java.util.HashMap",
        ),
        JavaClass("java.util.ArrayList", 8683452581122892189, _CUSTOM, (Field("I", "size"),)),
        JavaClass(_NUMBER, -8742448824652078965, _PLAIN),
        _boxed("java.lang.Long", 4290774380558885855, "J"),
        _boxed("java.lang.Integer", 1360826667806852920, "I"),
        _boxed("java.lang.Short", 7515723908773894738, "S"),
        _boxed("java.lang.Byte", -7183698231559129828, "B"),
        _boxed("java.lang.Double", -9172774392245257468, "D"),
        _boxed("java.lang.Float", -2671257302660747028, "F"),
        _boxed("java.lang.Boolean", -3665804199014368530, "Z", None),
        JavaClass(
            "java.math.BigDecimal",
            6108874887143696463,
            _CUSTOM,
            (Field("I", "scale"), Field("L", "intVal", "Ljava/math/BigInteger;")),
            _NUMBER,
        ),
        # BigInteger writes these through putFields: the four cached-value fields are always
        # -1, -1, -2, -2 (readers ignore them) and the magnitude is the big-endian byte array.
        JavaClass(
            "java.math.BigInteger",
            -8287574255936472291,
            _CUSTOM,
            (
                Field("I", "bitCount"),
                Field("I", "bitLength"),
                Field("I", "firstNonzeroByteNum"),
                Field("I", "lowestSetBit"),
                Field("I", "signum"),
                Field("[", "magnitude", "[B"),
            ),
            _NUMBER,
        ),
        JavaClass("java.util.Date", 7523967970034938905, _CUSTOM),
        JavaClass(TIME_SER, -7683839454370182990, SC_EXTERNALIZABLE | SC_BLOCK_DATA),
        JavaClass("[B", -5984413125824719648, _PLAIN),
        JavaClass(ENUM_BASE, 0, ENUM_FLAGS),
    )
}

#: Size in bytes of each primitive type code.
PRIMITIVE_SIZES = {"B": 1, "C": 2, "D": 8, "F": 4, "I": 4, "J": 8, "S": 2, "Z": 1}


def enum_class(name: str) -> JavaClass:
    """The descriptor Java writes for an enum class (the declaring class, never a constant body)."""
    return JavaClass(name, 0, ENUM_FLAGS, (), ENUM_BASE)


def encode_modified_utf8(text: str) -> bytes:
    """Java's modified UTF-8: UTF-16 code units, NUL as ``C0 80``, no 4-byte forms (a non-BMP
    character becomes two 3-byte surrogates)."""
    if text.isascii() and "\x00" not in text:
        return text.encode("ascii")
    data = text.encode("utf-16-be", "surrogatepass")
    out = bytearray()
    for i in range(0, len(data), 2):
        unit = data[i] << 8 | data[i + 1]
        if 0 < unit < 0x80:
            out.append(unit)
        elif unit < 0x800:
            out += bytes((0xC0 | unit >> 6, 0x80 | unit & 0x3F))
        else:
            out += bytes((0xE0 | unit >> 12, 0x80 | unit >> 6 & 0x3F, 0x80 | unit & 0x3F))
    return bytes(out)


def decode_modified_utf8(data: bytes) -> str:
    """Inverse of :func:`encode_modified_utf8`, as lenient as Java's ``readUTF`` (which also
    takes a raw 0 byte and over-long forms). Raises ValueError on what Java rejects."""
    if data.isascii():
        return data.decode("ascii")
    units = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            unit, i = b, i + 1
        elif b >> 5 == 0b110:
            if i + 1 >= n or data[i + 1] >> 6 != 0b10:
                raise ValueError(f"malformed modified UTF-8 at byte {i}")
            unit, i = (b & 0x1F) << 6 | data[i + 1] & 0x3F, i + 2
        elif b >> 4 == 0b1110:
            if i + 2 >= n or data[i + 1] >> 6 != 0b10 or data[i + 2] >> 6 != 0b10:
                raise ValueError(f"malformed modified UTF-8 at byte {i}")
            unit = (b & 0x0F) << 12 | (data[i + 1] & 0x3F) << 6 | data[i + 2] & 0x3F
            i += 3
        else:
            raise ValueError(f"malformed modified UTF-8 at byte {i}")
        units += bytes((unit >> 8, unit & 0xFF))
    # surrogatepass joins valid surrogate pairs and keeps lone surrogates, as Java strings can.
    return units.decode("utf-16-be", "surrogatepass")
