"""Java's text forms of numbers, as Jackson writes them into JSON.

``Double.toString`` / ``Float.toString`` follow the JDK 19+ specification (shortest decimal that
reads back to the same value, at least two digits for the smallest subnormals, plain notation for
magnitudes in [1e-3, 1e7), else ``d.dddE±n``); JDK 17 prints a few values with more digits, which
every reader parses to the same number. ``BigDecimal.toString`` is the same scientific-string
algorithm as Python's ``str(Decimal)``.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext


def _to_float32(value: float) -> float:
    try:
        result: float = struct.unpack(">f", struct.pack(">f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return result


def _float32_bits(value: float) -> int:
    bits: int = struct.unpack(">I", struct.pack(">f", value))[0]
    return bits


def _decimal_to_float32(number: Decimal) -> float:
    """The 32-bit float nearest to a positive decimal (ties to even), rounded once, as Java's
    ``Float.parseFloat`` does; going through a double first could round twice."""
    guess = _to_float32(float(number))
    if math.isinf(guess):
        return guess
    bits = _float32_bits(guess)
    # Below the smallest subnormal the guess is 0.0, whose lower neighbour does not exist.
    options: list[float] = [
        struct.unpack(">f", struct.pack(">I", b))[0] for b in (bits - 1, bits, bits + 1) if b >= 0
    ]
    finite = [o for o in options if not math.isinf(o) and o >= 0]
    return min(finite, key=lambda o: (abs(Decimal(o) - number), _float32_bits(o) % 2))


def _format(negative: bool, digits: str, point: int) -> str:
    """Java's layout of ``0.<digits> x 10**point`` (digits without leading/trailing zeros)."""
    sign = "-" if negative else ""
    if -2 <= point <= 7:  # 1e-3 <= |x| < 1e7
        if point > 0:
            return f"{sign}{digits[:point].ljust(point, '0')}.{digits[point:] or '0'}"
        return f"{sign}0.{'0' * -point}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _reads_back(candidate: Decimal, value: float, single: bool) -> bool:
    return (_decimal_to_float32(candidate) if single else float(candidate)) == value


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
    """Significant digits and point position of Java's choice for a positive finite value: the
    shortest decimals that read back, at least two digits long, and of those the closest."""
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


def java_double(value: float) -> str:
    """``Double.toString(value)``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    digits, point = _shortest(abs(value), single=False)
    return _format(value < 0, digits, point)


def java_float(value: float) -> str:
    """``Float.toString(value)`` for a value that is exactly a 32-bit float."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return java_double(value)
    digits, point = _shortest(abs(value), single=True)
    return _format(value < 0, digits, point)


def parse_java_float(text: str) -> float:
    """``Float.parseFloat(text)`` for a JSON number: rounded once to 32 bits."""
    number = Decimal(text)
    magnitude = _decimal_to_float32(abs(number)) if number else 0.0
    return math.copysign(magnitude, -1.0 if number.is_signed() else 1.0)


def java_big_decimal(value: Decimal) -> str:
    """``BigDecimal.toString()``; Java has no negative zero."""
    if value.is_zero():
        value = value.copy_abs()
    return str(value)
