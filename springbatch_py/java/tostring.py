"""Java ``toString()`` of the values a job key contains, and the ISO text Spring stores.

Spring Batch builds ``JOB_KEY`` from ``String.valueOf(value)`` of every identifying parameter, so a
Python node must print values exactly like the JVM does: ``0.5`` and ``1.0E7`` for doubles,
``10:00`` or ``10:15:30.123456789`` for a ``LocalTime``, ``Wed Jan 31 10:00:00 UTC 2024`` for a
``java.util.Date``. The database rows, on the other hand, hold the ISO forms that Spring's
conversion service writes (:func:`iso_instant`, :func:`iso_local_time`,
:func:`iso_local_date_time`).

Floating-point digits follow JDK 19 and later (Raffaello Giulietti's specification of
``Double.toString``): the shortest decimal that rounds back to the value. JDK 17 and 18 print
more digits for about 0.4 % of random doubles and about 10 % of random floats (checked against
OpenJDK 17 and Temurin 25), so keys that contain a ``Double`` or ``Float`` may differ between a
JDK 17 node and a newer one whatever Python does.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from springbatch_py.java import types as javatypes

__all__ = [
    "iso_instant",
    "iso_local_date_time",
    "iso_local_time",
    "java_big_decimal_to_string",
    "java_date_to_string",
    "java_double_to_string",
    "java_float_to_string",
    "java_local_date_time_to_string",
    "java_local_time_to_string",
    "java_to_string",
    "to_float32",
]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# tzdata has no letters for many zones and writes "+03" or "-0330" instead.
_NUMERIC_ABBREVIATION = re.compile(r"[+-]\d{2}(?:\d{2})?")


def java_to_string(value: Any, *, zone: ZoneInfo) -> str:
    """``String.valueOf(value)`` as a JVM whose default time zone is ``zone`` prints it.

    ``zone`` only matters for ``java.util.Date`` (an aware ``datetime``). Raises ``TypeError``
    for values that are not job-parameter types.
    """
    java_class = javatypes.java_class_of(value)
    if java_class == "java.lang.String":
        return str.__str__(value)
    if java_class == "java.lang.Boolean":
        return "true" if value else "false"
    if java_class in _INTEGRAL:
        # int(...) because int subclasses print through their __repr__ ("Long(1)").
        return str(int(value))
    if java_class == "java.lang.Double":
        return java_double_to_string(float(value))
    if java_class == "java.lang.Float":
        return java_float_to_string(float(value))
    if java_class == "java.math.BigDecimal":
        return java_big_decimal_to_string(value)
    if java_class == "java.util.Date":
        return java_date_to_string(value, zone)
    if java_class == "java.time.LocalDateTime":
        return java_local_date_time_to_string(value)
    if java_class == "java.time.LocalDate":
        return _iso_date(value)
    if java_class == "java.time.LocalTime":
        return java_local_time_to_string(value)
    if isinstance(value, javatypes.JavaEnum | javatypes.JavaValue):
        # An enum prints its name; any other class the text its converter wrote (toString()).
        return value.text
    raise TypeError(f"no job-parameter toString() for {java_class}")


_INTEGRAL = frozenset(
    {
        "java.lang.Long",
        "java.lang.Integer",
        "java.lang.Short",
        "java.lang.Byte",
        "java.math.BigInteger",
    }
)


# ---------------------------------------------------------------------------------------------
# Double and Float
# ---------------------------------------------------------------------------------------------


def java_double_to_string(x: float) -> str:
    """``Double.toString(x)`` with JDK >= 19 digits (``4.9E-324``, ``0.5``, ``1.0E7``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    digits, point = _shortest(abs(x), single=False)
    return _layout(x < 0, digits, point)


def java_float_to_string(x: float) -> str:
    """``Float.toString(x)`` with JDK >= 19 digits; ``x`` is first rounded to 32 bits."""
    x = to_float32(x)
    if math.isnan(x) or math.isinf(x) or x == 0:
        return java_double_to_string(x)
    digits, point = _shortest(abs(x), single=True)
    return _layout(x < 0, digits, point)


def to_float32(x: float) -> float:
    """``(float) x`` in Java: the nearest 32-bit float, ties to even, as a Python float."""
    try:
        return float(struct.unpack(">f", struct.pack(">f", x))[0])
    except OverflowError:
        # struct refuses doubles that round beyond Float.MAX_VALUE; Java's cast gives infinity.
        return math.copysign(math.inf, x)


def _layout(negative: bool, digits: str, point: int) -> str:
    """Java's layout of ``0.<digits> x 10**point`` (digits without leading/trailing zeros):
    plain notation with at least one fractional digit for magnitudes in [1e-3, 1e7), else
    "computerized scientific notation" (``d.dddE-n``, no ``+``, no leading zeros)."""
    sign = "-" if negative else ""
    if -2 <= point <= 7:
        if point > 0:
            return f"{sign}{digits[:point].ljust(point, '0')}.{digits[point:] or '0'}"
        return f"{sign}0.{'0' * -point}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _nearest_float32(number: Decimal) -> float:
    """The 32-bit float nearest to a positive decimal (ties to even), rounded once as Java's
    ``Float.parseFloat`` does (going through a double first could round twice). Faster than
    :func:`~springbatch_py.java.parsing.round_to_float32` for the candidates tried here: only
    the float nearest the double and its two neighbours can be it."""
    guess = to_float32(float(number))
    if math.isinf(guess):
        return guess
    bits = _float32_bits(guess)
    # Below the smallest subnormal the guess is 0.0, whose lower neighbour does not exist.
    options: list[float] = [
        struct.unpack(">f", struct.pack(">I", b))[0] for b in (bits - 1, bits, bits + 1) if b >= 0
    ]
    finite = [o for o in options if not math.isinf(o) and o >= 0]
    return min(finite, key=lambda o: (abs(Decimal(o) - number), _float32_bits(o) % 2))


def _float32_bits(value: float) -> int:
    bits: int = struct.unpack(">I", struct.pack(">f", value))[0]
    return bits


def _reads_back(candidate: Decimal, value: float, single: bool) -> bool:
    return (_nearest_float32(candidate) if single else float(candidate)) == value


def _candidates(value: float, count: int, single: bool) -> list[Decimal]:
    """The ``count``-digit decimals next to ``value`` that read back as ``value``."""
    rounded = Decimal(f"{value:.{count - 1}e}")
    step = Decimal(1).scaleb(rounded.adjusted() - count + 1)
    # Near a power of two the rounding interval is lopsided, so a neighbour of the correctly
    # rounded decimal may read back when the rounded one does not.
    return [
        c
        for c in (rounded, rounded - step, rounded + step)
        if c > 0 and _reads_back(c, value, single)
    ]


def _shortest(value: float, single: bool) -> tuple[str, int]:
    """Significant digits and point position of Java's choice for a positive finite value.

    Java's rule: among the decimals that round back to the value take those of minimal length
    (but lengths 1 *and* 2 when the minimum is 1, which is why ``Double.MIN_VALUE`` prints as
    ``4.9E-324`` and not ``5.0E-324``), then the one closest to the value, ties to an even last
    digit. Exact decimal arithmetic keeps this independent of Python's own ``repr``.
    """
    with localcontext() as context:
        context.prec = 1200  # enough for the exact value of any double
        count = 1
        while not _candidates(value, count, single):
            count += 1
        exact = Decimal(value)
        best = min(
            _candidates(value, max(count, 2), single),
            key=lambda c: (abs(c - exact), c.as_tuple().digits[-1] % 2),
        )
    _, digits, exponent = best.normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    return text, exponent + len(text)


# ---------------------------------------------------------------------------------------------
# BigDecimal
# ---------------------------------------------------------------------------------------------


def java_big_decimal_to_string(value: Decimal) -> str:
    """``BigDecimal.toString()``: scientific notation by the same rule as ``str(Decimal)``.

    Both implement the General Decimal Arithmetic to-scientific-string (``1E+3``, ``1.50``,
    ``1E-7``, ``0.000001``). Java has no negative zero, NaN or infinity.
    """
    if not value.is_finite():
        raise ValueError(f"java.math.BigDecimal cannot hold {value}")
    if value.is_zero():
        value = value.copy_abs()  # new BigDecimal("-0.00") prints "0.00"
    return str(value)


# ---------------------------------------------------------------------------------------------
# java.time and java.util.Date
# ---------------------------------------------------------------------------------------------


def _iso_date(d: date) -> str:
    # Python years are 1..9999, which Java prints zero-padded to four digits without a sign.
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def java_local_time_to_string(t: time | javatypes.LocalTime) -> str:
    """``LocalTime.toString()``: ``HH:mm``, seconds only when non-zero, fraction in 3/6/9 digits."""
    hour, minute, second, nano = javatypes.time_fields(t)
    text = f"{hour:02d}:{minute:02d}"
    if second or nano:
        text += f":{second:02d}"
    if nano:
        # Java prints the nanos in groups of three digits: millis, micros, nanos.
        if nano % 1_000_000 == 0:
            text += f".{nano // 1_000_000:03d}"
        elif nano % 1000 == 0:
            text += f".{nano // 1000:06d}"
        else:
            text += f".{nano:09d}"
    return text


def java_local_date_time_to_string(dt: datetime | javatypes.LocalDateTime) -> str:
    """``LocalDateTime.toString()``: the date, ``T``, then the ``LocalTime`` rule."""
    return f"{_iso_date(javatypes.date_part(dt))}T{java_local_time_to_string(_clock(dt))}"


def _clock(dt: datetime | javatypes.LocalDateTime) -> time | javatypes.LocalTime:
    return dt.local_time if isinstance(dt, javatypes.LocalDateTime) else dt.time()


def java_date_to_string(dt: datetime, zone: ZoneInfo) -> str:
    """``java.util.Date.toString()`` on a JVM whose default zone is ``zone``.

    Format ``EEE MMM dd HH:mm:ss zzz yyyy`` in English, e.g. ``Wed Jan 31 11:00:00 CET 2024``.
    The wall clock is the zone's offset at that instant, but the zone *name* is not the
    historical tzdata abbreviation: Java names a zone once (its standard and its daylight name)
    and picks one by whether daylight time is in effect, so Berlin in 1945 is ``CEST``, not
    ``CEMT``. The names are taken from the zone's current rules here, which matches Java for the
    zones whose tzdata abbreviations are letters (UTC, GMT/BST, CET/CEST, EST/EDT, IST, JST,
    AEST/AEDT, MSK). Where tzdata has only digits (``+03``) recent JDKs (checked: 25) print
    ``GMT+03:00`` (raw offset, plus the daylight saving when in effect), as this function does,
    while JDK 17 prints legacy names such as ``TRT`` or ``BRT`` (and ``MSD``, ``IDT`` for some
    historical daylight periods). Before 1900 Java ignores local mean time and uses the zone's
    raw offset; this function does the same. Dates before the Gregorian cutover (1582-10-15,
    local) are shown in the Julian calendar, like Java.
    """
    if dt.tzinfo is None:
        raise ValueError("a java.util.Date needs an aware datetime")
    names = _zone_names(zone)
    delta = dt - _EPOCH
    seconds = delta.days * 86400 + delta.seconds  # floor: Date.toString drops the millis
    if seconds < _JAVA_FIRST_TRANSITION:
        offset, daylight = names.raw_offset, False
    else:
        offset, dst = _offset_and_dst(dt, zone)
        # Python reads tzdata in "main" form, where Europe/Dublin has a negative saving in winter
        # and Irish Standard Time in summer; Java uses the "rearguard" form (GMT standard, IST
        # daylight), so for such zones an offset above the raw one counts as daylight time.
        daylight = dst > 0 or (dst == 0 and names.negative_dst and offset > names.raw_offset)
    name = (names.daylight if daylight else None) or names.standard
    if _NUMERIC_ABBREVIATION.fullmatch(name):
        shown = names.raw_offset + (names.savings if daylight else 0)
        name = "GMT" + _offset_text(shown)
    local = seconds + offset
    days, second_of_day = divmod(local, 86400)
    year, month, day = _civil_from_jdn(days + _JDN_OF_EPOCH)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    weekday = _DAYS[(days + 3) % 7]  # 1970-01-01 was a Thursday
    return (
        f"{weekday} {_MONTHS[month - 1]} {day:02d} "
        f"{hour:02d}:{minute:02d}:{second:02d} {name} {year}"
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Java's zone data starts at 1900-01-01T00:00Z; earlier instants use the zone's raw offset.
_JAVA_FIRST_TRANSITION = -2208988800
_JDN_OF_EPOCH = 2440588
_JDN_OF_GREGORIAN_CUTOVER = 2299161  # 1582-10-15


@dataclass(frozen=True)
class _ZoneNames:
    raw_offset: int  # seconds
    savings: int  # seconds
    standard: str
    daylight: str | None
    negative_dst: bool


@functools.lru_cache(maxsize=64)
def _zone_names(zone: ZoneInfo) -> _ZoneNames:
    """The zone's standard and daylight names and raw offset, from this year's rules."""
    year = datetime.now(UTC).year
    samples = [datetime(year, month, 15, 12, tzinfo=UTC).astimezone(zone) for month in range(1, 13)]
    info = [(_seconds(s.utcoffset()), _seconds(s.dst()), s.tzname() or "GMT") for s in samples]
    negative = any(dst < 0 for _, dst, _ in info)
    raw = min(offset for offset, _, _ in info)
    standard = [name for offset, _, name in info if offset == raw]
    daylight = [(offset, name) for offset, _, name in info if offset != raw]
    return _ZoneNames(
        raw_offset=raw,
        savings=(daylight[0][0] - raw) if daylight else 3600,
        standard=standard[0],
        daylight=daylight[0][1] if daylight else None,
        negative_dst=negative,
    )


def _seconds(delta: timedelta | None) -> int:
    return int((delta or timedelta(0)).total_seconds())


def _offset_and_dst(dt: datetime, zone: ZoneInfo) -> tuple[int, int]:
    try:
        local = dt.astimezone(zone)
    except OverflowError:
        # Within a day of datetime.max the local wall clock does not fit a Python datetime;
        # the offset two days earlier is the same for any real zone.
        local = (dt - timedelta(days=2)).astimezone(zone)
    return _seconds(local.utcoffset()), _seconds(local.dst())


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _civil_from_jdn(jdn: int) -> tuple[int, int, int]:
    """(year, month, day) of a Julian day number: Gregorian from 1582-10-15, Julian before."""
    # The classic Richards algorithm; the Gregorian branch adds the century corrections.
    if jdn >= _JDN_OF_GREGORIAN_CUTOVER:
        a = jdn + 32044
        b = (4 * a + 3) // 146097
        c = a - 146097 * b // 4
    else:
        b = 0
        c = jdn + 32082
    d = (4 * c + 3) // 1461
    e = c - 1461 * d // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = 100 * b + d - 4800 + m // 10
    return year, month, day


# ---------------------------------------------------------------------------------------------
# ISO forms written by Spring's conversion service (BATCH_JOB_EXECUTION_PARAMS)
# ---------------------------------------------------------------------------------------------


def iso_local_time(t: time | javatypes.LocalTime) -> str:
    """``DateTimeFormatter.ISO_LOCAL_TIME``: seconds always, fraction (up to nine digits)
    without trailing zeros."""
    hour, minute, second, nano = javatypes.time_fields(t)
    text = f"{hour:02d}:{minute:02d}:{second:02d}"
    if nano:
        text += "." + f"{nano:09d}".rstrip("0")
    return text


def iso_local_date_time(dt: datetime | javatypes.LocalDateTime) -> str:
    """``DateTimeFormatter.ISO_LOCAL_DATE_TIME`` of a naive datetime or a LocalDateTime."""
    return f"{_iso_date(javatypes.date_part(dt))}T{iso_local_time(_clock(dt))}"


def iso_instant(dt: datetime) -> str:
    """``DateTimeFormatter.ISO_INSTANT`` of an aware datetime: UTC, ``Z``, seconds always,
    fraction only when non-zero and then in groups of three digits."""
    if dt.tzinfo is None:
        raise ValueError("ISO_INSTANT needs an aware datetime")
    utc = dt.astimezone(UTC)
    text = f"{_iso_date(utc)}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond % 1000:
        text += f".{utc.microsecond:06d}"
    elif utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"
