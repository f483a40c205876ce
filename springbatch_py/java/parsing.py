"""Read text the way Spring's conversion service does when Java loads job parameters.

Spring Batch reads ``BATCH_JOB_EXECUTION_PARAMS.PARAMETER_VALUE`` with a Spring
``DefaultConversionService`` plus its own ``java.time``/``Date`` converters. A Python node must
accept everything Java accepts (another node may have written it), so these parsers re-state
those rules: Spring's ``NumberUtils.parseNumber`` for numbers, ``StringToBooleanConverter`` for
booleans and the ``DateTimeFormatter.ISO_*`` grammars for dates and times. Every function raises
``ValueError`` on text Java would refuse.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from springbatch_py.java import types as javatypes

__all__ = [
    "parse_big_decimal",
    "parse_boolean",
    "parse_floating",
    "parse_integral",
    "parse_iso_instant",
    "parse_iso_local_date",
    "parse_iso_local_date_time",
    "parse_iso_local_time",
    "parser_for",
    "round_to_float32",
]

_INTEGRAL: dict[str, tuple[type[int], int | None]] = {
    "java.lang.Long": (javatypes.Long, 64),
    "java.lang.Integer": (javatypes.Integer, 32),
    "java.lang.Short": (javatypes.Short, 16),
    "java.lang.Byte": (javatypes.Byte, 8),
    "java.math.BigInteger": (javatypes.BigInteger, None),
}

# Character.isWhitespace is Python's isspace() minus the non-breaking spaces and NEL.
_NOT_JAVA_WHITESPACE = frozenset("\u00a0\u2007\u202f\u0085")


def _trim_all_whitespace(text: str) -> str:
    # Spring's NumberUtils removes whitespace anywhere in the text, not only at the ends.
    return "".join(ch for ch in text if not ch.isspace() or ch in _NOT_JAVA_WHITESPACE)


def _java_trim(text: str) -> str:
    # String.trim() strips every char <= U+0020 at both ends (control chars too, no Unicode spaces).
    start, end = 0, len(text)
    while start < end and text[start] <= " ":
        start += 1
    while end > start and text[end - 1] <= " ":
        end -= 1
    return text[start:end]


# ---------------------------------------------------------------------------------------------
# Numbers (Spring NumberUtils.parseNumber)
# ---------------------------------------------------------------------------------------------

# \d in a str pattern is any Unicode decimal digit, like Character.digit(c, 10).
_DECIMAL_INTEGER = re.compile(r"[+-]?\d+")
_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]+")


def parse_integral(text: str, java_class: str) -> int:
    """``NumberUtils.parseNumber(text, Long.class)`` and its Integer/Short/Byte/BigInteger siblings.

    Returns the matching :mod:`~springbatch_py.java.types` value (``Long``, ``Integer`` ...).
    Whitespace anywhere is removed; ``0x``/``0X``/``#`` after an optional ``-`` means hex (Spring
    only recognises a ``-`` there, so ``+0x10`` is refused); otherwise an optional sign and decimal
    digits. A leading ``0`` does not mean octal. Out-of-range values are refused.
    """
    wrapper, bits = _INTEGRAL[java_class]
    s = _trim_all_whitespace(text)
    start = 1 if s.startswith("-") else 0
    if s.startswith(("0x", "0X", "#"), start):
        body = s[start + (1 if s[start] == "#" else 2) :]
        if not _HEX_DIGITS.fullmatch(body):
            raise ValueError(f"not a hexadecimal number: {text!r}")
        number = int(body, 16)
        if start:
            number = -number
    elif _DECIMAL_INTEGER.fullmatch(s):
        number = int(s)
    else:
        raise ValueError(f"not an integer: {text!r}")
    if bits is not None and not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
        raise ValueError(f"{number} is out of range for {java_class}")
    return wrapper(number)


# Java's Double.valueOf grammar (FloatingDecimal): ASCII digits only, optional f/F/d/D suffix,
# case-sensitive NaN and Infinity, hexadecimal significands with a binary exponent.
_JAVA_FLOATING = re.compile(
    r"""(?P<sign>[+-]?)(?:
        (?P<nan>NaN) | (?P<inf>Infinity)
      | (?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?
      | 0[xX](?P<hex>[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP](?P<exp>[+-]?[0-9]+)[fFdD]?
    )""",
    re.VERBOSE,
)


def parse_floating(text: str, java_class: str) -> float:
    """``NumberUtils.parseNumber`` for ``Double`` or ``Float`` (``valueOf`` of either class).

    A ``Float`` is rounded once, directly from the decimal text to 32 bits, as Java does (going
    through a 64-bit double first could round twice).
    """
    is_float = java_class == "java.lang.Float"
    m = _JAVA_FLOATING.fullmatch(_trim_all_whitespace(text))
    if m is None:
        raise ValueError(f"not a Java floating-point number: {text!r}")
    negative = m["sign"] == "-"
    if m["nan"]:
        value = math.nan
    elif m["inf"]:
        value = math.inf
    elif m["dec"] is not None:
        value = _decimal_to_float32(m["dec"]) if is_float else float(m["dec"])
    else:
        value = _hex_to_binary(m["hex"], int(m["exp"]), is_float)
    value = -value if negative else value
    return javatypes.Float(value) if is_float else javatypes.Double(value)


def parse_java_float(text: str) -> float:
    """``Float.parseFloat(text)``: rounded once, directly from the text, to 32 bits."""
    return float(parse_floating(text, "java.lang.Float"))


def _decimal_to_float32(text: str) -> float:
    exact = Decimal(text)
    if exact.is_zero():
        return 0.0
    # Skip exact arithmetic on absurd exponents: far beyond Float's range either way.
    if exact.adjusted() > 40:
        return math.inf
    if exact.adjusted() < -50:
        return 0.0
    return round_to_float32(Fraction(exact))


def _hex_to_binary(digits: str, exponent: int, is_float: bool) -> float:
    whole, _, fraction = digits.partition(".")
    significand = int(whole + fraction or "0", 16)
    if significand == 0:
        return 0.0
    exponent -= 4 * len(fraction)
    magnitude = significand.bit_length() + exponent
    if magnitude > 1100:
        return math.inf
    if magnitude < -1100:
        return 0.0
    exact = Fraction(significand) * Fraction(2) ** exponent
    return round_to_float32(exact) if is_float else _round_to_double(exact)


def _round_to_double(exact: Fraction) -> float:
    try:
        return float(exact)  # Fraction.__float__ rounds correctly (int true division)
    except OverflowError:
        return math.inf


def round_to_float32(exact: Fraction) -> float:
    """The 32-bit float nearest to a non-negative rational, ties to even (``inf`` on overflow)."""
    if exact == 0:
        return 0.0
    e = exact.numerator.bit_length() - exact.denominator.bit_length()
    if Fraction(2) ** e > exact:
        e -= 1  # now 2**e <= exact < 2**(e+1)
    ulp = Fraction(2) ** (max(e, -126) - 23)  # 24-bit significand; subnormals below 2**-126
    rounded = round(exact / ulp) * ulp  # round() on a Fraction breaks ties to even
    if rounded >= 2**128:
        return math.inf
    return float(rounded)


# Java BigDecimal(String): Unicode digits (Character.isDigit), optional sign and exponent.
_BIG_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_big_decimal(text: str) -> Decimal:
    """``new BigDecimal(text)`` after Spring removed all whitespace; the scale must fit an int."""
    s = _trim_all_whitespace(text)
    if not _BIG_DECIMAL.fullmatch(s):
        raise ValueError(f"not a BigDecimal: {text!r}")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:
        raise ValueError(f"not a BigDecimal: {text!r}") from exc
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if not -(2**31) <= -exponent < 2**31:
        raise ValueError(f"BigDecimal scale out of range: {text!r}")
    return value.copy_abs() if value.is_zero() else value  # BigDecimal has no negative zero


# ---------------------------------------------------------------------------------------------
# Boolean (Spring StringToBooleanConverter)
# ---------------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "on", "yes", "1"})
_FALSE = frozenset({"false", "off", "no", "0"})


def parse_boolean(text: str) -> bool:
    """``true``/``on``/``yes``/``1`` or ``false``/``off``/``no``/``0``, any case, trimmed."""
    word = _java_trim(text).lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


# ---------------------------------------------------------------------------------------------
# Dates and times (DateTimeFormatter.ISO_INSTANT / ISO_LOCAL_DATE / ISO_LOCAL_TIME / ..._DATE_TIME)
# ---------------------------------------------------------------------------------------------

# java.time parses ASCII digits only. Years beyond 0001..9999 are valid in Java ("+10000",
# "0000", "-0001") but cannot be held by a Python date; they fail as out of range.
_DATE = r"(?P<year>[+-]?\d{4,10})-(?P<month>\d{2})-(?P<day>\d{2})"
# ISO_LOCAL_TIME: seconds optional, then an optional fraction of 0-9 digits ("10:00:00." is valid).
_TIME = r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{0,9}))?)?"
_LOCAL_DATE = re.compile(_DATE, re.ASCII)
_LOCAL_TIME = re.compile(_TIME, re.ASCII)
# ISO_LOCAL_DATE_TIME and ISO_INSTANT parse case-insensitively ("t", "z" are accepted).
_LOCAL_DATE_TIME = re.compile(_DATE + "T" + _TIME, re.ASCII | re.IGNORECASE)
# ISO_INSTANT needs the seconds; since JDK 12 it also accepts an offset instead of "Z".
_INSTANT = re.compile(
    _DATE
    + r"T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.(?P<fraction>\d{0,9}))?"
    + r"(?:Z|(?P<osign>[+-])(?P<ohour>\d{2}):(?P<ominute>\d{2})(?::(?P<osecond>\d{2}))?)",
    re.ASCII | re.IGNORECASE,
)


def _date_of(m: re.Match[str]) -> date:
    year = m["year"]
    digits = len(year.lstrip("+-"))
    # ISO_LOCAL_DATE prints a sign only when needed: four digits unsigned, "+" only with more
    # than four, "-" with four or more.
    if (year[0] == "+" and digits <= 4) or (year[0].isdigit() and digits > 4):
        raise ValueError(f"invalid year {year!r}")
    return date(int(year), int(m["month"]), int(m["day"]))


def _nanos(fraction: str | None) -> int:
    return int((fraction or "").ljust(9, "0"))


def _time_of(m: re.Match[str]) -> time | javatypes.LocalTime:
    nano = _nanos(m["fraction"])
    return javatypes.time_of(int(m["hour"]), int(m["minute"]), int(m["second"] or 0), nano)


def parse_iso_local_date(text: str) -> date:
    """``LocalDate.parse(text)``: ``yyyy-MM-dd``, strict calendar."""
    m = _LOCAL_DATE.fullmatch(text)
    if m is None:
        raise ValueError(f"not an ISO local date: {text!r}")
    return _date_of(m)


def parse_iso_local_time(text: str) -> time | javatypes.LocalTime:
    """``LocalTime.parse(text)``: ``HH:mm[:ss[.fffffffff]]``.

    A plain ``time`` when it holds the value, a :class:`~springbatch_py.java.types.LocalTime`
    when the fraction has digits beyond the microsecond.
    """
    m = _LOCAL_TIME.fullmatch(text)
    if m is None:
        raise ValueError(f"not an ISO local time: {text!r}")
    return _time_of(m)


def parse_iso_local_date_time(text: str) -> datetime | javatypes.LocalDateTime:
    """``LocalDateTime.parse(text)``: date, ``T`` (required, any case), time.

    A naive ``datetime`` when it holds the value, a
    :class:`~springbatch_py.java.types.LocalDateTime` when the fraction has digits beyond the
    microsecond.
    """
    m = _LOCAL_DATE_TIME.fullmatch(text)
    if m is None:
        raise ValueError(f"not an ISO local date-time: {text!r}")
    return javatypes.date_time_of(_date_of(m), _time_of(m))


def parse_iso_instant(text: str) -> datetime:
    """``Date.from(ISO_INSTANT.parse(text, Instant::from))`` as an aware UTC datetime.

    Accepts ``Z`` or an offset up to +-18:00 (JDK 12+), ``24:00:00`` as the next midnight and the
    leap second ``23:59:60`` as ``23:59:59``, as ``ISO_INSTANT`` does. A ``java.util.Date`` holds
    milliseconds, so finer digits are dropped.
    """
    m = _INSTANT.fullmatch(text)
    if m is None:
        raise ValueError(f"not an ISO instant: {text!r}")
    hour, minute, second = int(m["hour"]), int(m["minute"]), int(m["second"])
    # Date.from(Instant) keeps whole milliseconds (toEpochMilli floors), as Java does.
    millis = _nanos(m["fraction"]) // 1_000_000
    extra = timedelta(0)
    nanos_zero = not (m["fraction"] or "").strip("0")
    if hour == 24 and minute == 0 and second == 0 and nanos_zero:
        hour, extra = 0, timedelta(days=1)
    elif hour == 23 and minute == 59 and second == 60:
        second = 59
    local = datetime.combine(_date_of(m), time(hour, minute, second, millis * 1000)) + extra
    offset = timedelta(0)
    if m["osign"]:
        parts = int(m["ohour"]), int(m["ominute"]), int(m["osecond"] or 0)
        if parts[1] > 59 or parts[2] > 59:
            raise ValueError(f"invalid offset in {text!r}")
        offset = timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
        if offset > timedelta(hours=18):
            raise ValueError(f"offset beyond 18 hours in {text!r}")
        if m["osign"] == "-":
            offset = -offset
    return (local - offset).replace(tzinfo=UTC)


def parser_for(java_class: str) -> Callable[[str], Any] | None:
    """The parser Spring uses for a job-parameter Java class, or ``None`` if there is none."""
    if java_class in _INTEGRAL:
        return functools.partial(parse_integral, java_class=java_class)
    if java_class in ("java.lang.Double", "java.lang.Float"):
        return functools.partial(parse_floating, java_class=java_class)
    return _PARSERS.get(java_class)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "java.lang.String": str,
    "java.lang.Boolean": parse_boolean,
    "java.math.BigDecimal": parse_big_decimal,
    "java.util.Date": parse_iso_instant,
    "java.time.LocalDate": parse_iso_local_date,
    "java.time.LocalTime": parse_iso_local_time,
    "java.time.LocalDateTime": parse_iso_local_date_time,
}
