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
``datetime`` without a time zone,      ``java.time.LocalDateTime``
or :class:`LocalDateTime`
``date``                               ``java.time.LocalDate``
``time`` or :class:`LocalTime`         ``java.time.LocalTime``
:class:`Instant`                       ``java.time.Instant``
``timedelta`` or :class:`Duration`     ``java.time.Duration``
:class:`JavaEnum`                      the enum's class
:class:`JavaValue`                     any other class (job parameters only)
``list``                               ``java.util.ArrayList``
``dict`` (``str`` keys)                ``java.util.HashMap``
=====================================  ==========================================

Java's ``java.time`` values hold nanoseconds, Python's ``time`` and ``datetime`` microseconds.
Values that need the finer digits are a :class:`LocalTime`, :class:`LocalDateTime` or
:class:`Duration`; everything that reads Java text or bytes returns those only when the
nanoseconds are not a whole number of microseconds (:func:`time_of`, :func:`date_time_of`,
:func:`duration_of`) and the plain Python value otherwise, and each equals the Python value of
the same value. Nothing is ever rounded or cut.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar


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


_NANOS_PER_SECOND = 1_000_000_000


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in [{low}, {high}], not {value!r}")


K = TypeVar("K", bound=tuple[object, ...])


@functools.total_ordering
class _NanoValue(Generic[K]):
    """A ``java.time`` value to the nanosecond that equals, orders with and hashes like the
    Python value of the same value (``time``, ``datetime``, ``timedelta``).

    A subclass says what it compares by (:meth:`_key`), what key a Python value of its kind has
    (:meth:`_other_key`, ``None`` for values of another kind) and which Python value it is when
    one holds it exactly (:meth:`_python_value`).
    """

    __slots__ = ()

    def _key(self) -> K:
        raise NotImplementedError

    def _other_key(self, other: object) -> K | None:
        raise NotImplementedError

    def _python_value(self) -> object:
        raise NotImplementedError

    def fits_python(self) -> bool:
        """Whether the Python value of the same kind holds this value exactly."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else self._key() == key

    def __lt__(self, other: object) -> bool:
        key = self._other_key(other)
        return NotImplemented if key is None else self._key() < key

    def __hash__(self) -> int:
        # Equal values hash alike: through the Python value when one holds this value.
        return hash(self._python_value()) if self.fits_python() else hash(self._key())


@dataclass(frozen=True, eq=False)
class LocalTime(_NanoValue[tuple[int, int, int, int]]):
    """A ``java.time.LocalTime`` to the nanosecond.

    It equals (and hashes like) the naive ``time`` of the same value, so ``LocalTime(10, 0, 0,
    500_000_000) == time(10, 0, 0, 500000)``; :func:`time_of` gives the plain ``time`` whenever
    it holds the value exactly. ``str()`` is Java's ``toString()``.
    """

    hour: int
    minute: int = 0
    second: int = 0
    nano: int = 0

    java_class: ClassVar[str] = "java.time.LocalTime"

    def __post_init__(self) -> None:
        _check_int("hour", self.hour, 0, 23)
        _check_int("minute", self.minute, 0, 59)
        _check_int("second", self.second, 0, 59)
        _check_int("nano", self.nano, 0, _NANOS_PER_SECOND - 1)

    @classmethod
    def of(cls, value: time, nano: int | None = None) -> LocalTime:
        """The value of a naive ``time``; ``nano``, when given, replaces its fraction."""
        if value.tzinfo is not None:
            raise ValueError(f"a LocalTime has no time zone: {value!r}")
        fraction = value.microsecond * 1000 if nano is None else nano
        return cls(value.hour, value.minute, value.second, fraction)

    @classmethod
    def parse(cls, text: str) -> LocalTime:
        """``LocalTime.parse(text)``: ``HH:mm[:ss[.fffffffff]]``."""
        from springbatch_py.java import parsing

        return cls.of_value(parsing.parse_iso_local_time(text))

    @classmethod
    def of_value(cls, value: time | LocalTime) -> LocalTime:
        """``value`` as a :class:`LocalTime` (a plain ``time`` is converted)."""
        return value if isinstance(value, LocalTime) else cls.of(value)

    def fits_python(self) -> bool:
        """Whether a Python ``time`` holds this value exactly (whole microseconds)."""
        return self.nano % 1000 == 0

    def to_time(self) -> time:
        """The Python ``time``; ``ValueError`` if that would lose nanoseconds."""
        if not self.fits_python():
            raise ValueError(f"{self} has nanoseconds, which a Python time cannot hold")
        return time(self.hour, self.minute, self.second, self.nano // 1000)

    def _key(self) -> tuple[int, int, int, int]:
        return self.hour, self.minute, self.second, self.nano

    def _other_key(self, other: object) -> tuple[int, int, int, int] | None:
        if isinstance(other, LocalTime):
            return other._key()
        if isinstance(other, time) and other.tzinfo is None:
            return other.hour, other.minute, other.second, other.microsecond * 1000
        return None

    def _python_value(self) -> time:
        return self.to_time()

    def __str__(self) -> str:
        from springbatch_py.java import tostring

        return tostring.java_local_time_to_string(self)


@dataclass(frozen=True, eq=False)
class LocalDateTime(_NanoValue[tuple[int, tuple[int, int, int, int]]]):
    """A ``java.time.LocalDateTime`` to the nanosecond: a ``date`` and a :class:`LocalTime`.

    It equals (and hashes like) the naive ``datetime`` of the same value; :func:`date_time_of`
    gives the plain ``datetime`` whenever it holds the value exactly. ``str()`` is Java's
    ``toString()``, e.g. ``2024-01-31T10:15:30.123456789``.
    """

    local_date: date
    local_time: LocalTime

    java_class: ClassVar[str] = "java.time.LocalDateTime"

    def __post_init__(self) -> None:
        if not isinstance(self.local_date, date) or isinstance(self.local_date, datetime):
            raise ValueError(f"local_date must be a date, not {self.local_date!r}")
        if not isinstance(self.local_time, LocalTime):
            raise ValueError(f"local_time must be a LocalTime, not {self.local_time!r}")

    @classmethod
    def of(cls, value: datetime, nano: int | None = None) -> LocalDateTime:
        """The value of a naive ``datetime``; ``nano``, when given, replaces its fraction."""
        if value.tzinfo is not None:
            raise ValueError(f"a LocalDateTime has no time zone: {value!r}")
        return cls(value.date(), LocalTime.of(value.time(), nano))

    @classmethod
    def parse(cls, text: str) -> LocalDateTime:
        """``LocalDateTime.parse(text)``, e.g. ``2024-01-31T10:15:30.123456789``."""
        from springbatch_py.java import parsing

        return cls.of_value(parsing.parse_iso_local_date_time(text))

    @classmethod
    def of_value(cls, value: datetime | LocalDateTime) -> LocalDateTime:
        """``value`` as a :class:`LocalDateTime` (a plain naive ``datetime`` is converted)."""
        return value if isinstance(value, LocalDateTime) else cls.of(value)

    @property
    def nano(self) -> int:
        """The nano-of-second."""
        return self.local_time.nano

    def fits_python(self) -> bool:
        """Whether a Python ``datetime`` holds this value exactly (whole microseconds)."""
        return self.local_time.fits_python()

    def to_datetime(self) -> datetime:
        """The naive Python ``datetime``; ``ValueError`` if that would lose nanoseconds."""
        return datetime.combine(self.local_date, self.local_time.to_time())

    def _key(self) -> tuple[int, tuple[int, int, int, int]]:
        return self.local_date.toordinal(), self.local_time._key()

    def _other_key(self, other: object) -> tuple[int, tuple[int, int, int, int]] | None:
        if isinstance(other, LocalDateTime):
            return other._key()
        if isinstance(other, datetime) and other.tzinfo is None:
            return other.toordinal(), LocalTime.of(other.time())._key()
        return None

    def _python_value(self) -> datetime:
        return self.to_datetime()

    def __str__(self) -> str:
        from springbatch_py.java import tostring

        return tostring.java_local_date_time_to_string(self)


_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


@dataclass(frozen=True, eq=False)
class Duration(_NanoValue[tuple[int, int]]):
    """A ``java.time.Duration`` to the nanosecond: ``seconds`` (a Java long, any sign) plus
    ``nanos`` in ``[0, 999999999]``, as Java stores it.

    It equals (and hashes like) the ``timedelta`` of the same value; :func:`duration_of` gives the
    plain ``timedelta`` whenever it holds the value exactly (whole microseconds, within
    ``timedelta``'s range).
    """

    seconds: int
    nanos: int = 0

    java_class: ClassVar[str] = "java.time.Duration"

    def __post_init__(self) -> None:
        _check_int("seconds", self.seconds, _LONG_MIN, _LONG_MAX)
        _check_int("nanos", self.nanos, 0, _NANOS_PER_SECOND - 1)

    @classmethod
    def of(cls, value: timedelta) -> Duration:
        """The value of a ``timedelta``."""
        return cls(value.days * 86400 + value.seconds, value.microseconds * 1000)

    def fits_python(self) -> bool:
        """Whether a ``timedelta`` holds this value exactly."""
        if self.nanos % 1000:
            return False
        try:
            self._as_timedelta()
        except OverflowError:
            return False
        return True

    def _as_timedelta(self) -> timedelta:
        return timedelta(seconds=self.seconds, microseconds=self.nanos // 1000)

    def to_timedelta(self) -> timedelta:
        """The ``timedelta``; ``ValueError`` if that would lose nanoseconds or overflow."""
        if not self.fits_python():
            raise ValueError(f"{self!r} does not fit a timedelta exactly")
        return self._as_timedelta()

    def _key(self) -> tuple[int, int]:
        return self.seconds, self.nanos

    def _other_key(self, other: object) -> tuple[int, int] | None:
        if isinstance(other, Duration):
            return other._key()
        if isinstance(other, timedelta):
            return Duration.of(other)._key()
        return None

    def _python_value(self) -> timedelta:
        return self._as_timedelta()


def duration_of(seconds: int, nanos: int) -> timedelta | Duration:
    """``Duration.ofSeconds(seconds, nanos)`` (``nanos`` may be any int, it is carried into the
    seconds): a plain ``timedelta`` when it holds the value exactly, else a :class:`Duration`."""
    whole, fraction = divmod(seconds * _NANOS_PER_SECOND + nanos, _NANOS_PER_SECOND)
    value = Duration(whole, fraction)
    return value._as_timedelta() if value.fits_python() else value


def time_of(hour: int, minute: int, second: int, nano: int) -> time | LocalTime:
    """A plain ``time`` when it holds the value exactly, else a :class:`LocalTime`."""
    if nano % 1000 == 0:
        _check_int("nano", nano, 0, _NANOS_PER_SECOND - 1)
        return time(hour, minute, second, nano // 1000)
    return LocalTime(hour, minute, second, nano)


def date_time_of(day: date, clock: time | LocalTime) -> datetime | LocalDateTime:
    """A plain naive ``datetime`` when it holds the value exactly, else a :class:`LocalDateTime`."""
    if isinstance(clock, LocalTime):
        if not clock.fits_python():
            return LocalDateTime(day, clock)
        clock = clock.to_time()
    return datetime.combine(day, clock)


def time_fields(value: time | datetime | LocalTime | LocalDateTime) -> tuple[int, int, int, int]:
    """``(hour, minute, second, nano)`` of any of the local time types."""
    if isinstance(value, LocalDateTime):
        return value.local_time._key()
    if isinstance(value, LocalTime):
        return value._key()
    return value.hour, value.minute, value.second, value.microsecond * 1000


def date_part(value: datetime | LocalDateTime) -> date:
    """The date of a local date-time of either kind."""
    return value.local_date if isinstance(value, LocalDateTime) else value.date()


# A binary class name as ``Class.getName()`` returns it: dotted Java identifiers, ``$`` for
# nested classes. At least one dot: springbatch-py does not expect classes of the unnamed package.
_CLASS_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+", re.ASCII)


def is_class_name(text: str) -> bool:
    """Whether ``text`` looks like a Java binary class name in a package (``com.example.Color``)."""
    return bool(_CLASS_NAME.fullmatch(text))


@dataclass(frozen=True, eq=False)
class JavaEnum:
    """A constant of a Java enum, kept by class name and constant name.

    As a job parameter it is stored as Spring does (``PARAMETER_TYPE`` the class name,
    ``PARAMETER_VALUE`` its ``name()``) and enters the job key as its ``toString()``, which for
    an enum that does not override it is the name. It equals the :class:`JavaValue` of the same
    class and text, which is how a parameter of a class springbatch-py does not know reads back.
    """

    class_name: str
    name: str

    @property
    def text(self) -> str:
        """The stored text: the constant's name."""
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JavaEnum | JavaValue):
            return (self.class_name, self.text) == (other.class_name, other.text)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.class_name, self.text))

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class JavaValue:
    """A job-parameter value of a Java class springbatch-py does not model.

    Spring's conversion service writes any object (``toString()``, an enum's ``name()``), so a
    ``BATCH_JOB_EXECUTION_PARAMS`` row may hold any class: it is read as its class name and text,
    written back unchanged, and enters the job key as the text (Java's ``toString()`` of the
    value, as the converter wrote it). It has no serialized form, so contexts refuse it.
    """

    class_name: str
    text: str

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JavaEnum | JavaValue):
            return (self.class_name, self.text) == (other.class_name, other.text)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.class_name, self.text))

    def __str__(self) -> str:
        return self.text


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
    if isinstance(value, JavaEnum | JavaValue):
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
