"""Hypothesis strategies for values shared with Java nodes: context values and job parameters.

Every value carries its Java class the way :mod:`springbatch_py.java.types` says (``Long``,
``Integer``, ``Float``, aware ``datetime`` = ``java.util.Date``, ...). The strategies reach the
edges both runtimes share: strings with NUL, control characters, non-BMP characters and lone
surrogates; NaN, ``-0.0``, infinities and subnormals; ``BigDecimal`` scales from ``-2**31`` to
``2**31 - 1`` and unscaled values far beyond 64 bits; dates and times over the years 1..9999
(Python's range, inside Java's); both enums of the harness's class path.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from springbatch_py.core.parameters import JobParameter, JobParameters
from springbatch_py.java import tostring
from springbatch_py.java.parsing import parse_java_float
from springbatch_py.java.stream import (
    INSTANT_MAX_SECONDS,
    INSTANT_MIN_SECONDS,
)
from springbatch_py.java.types import (
    PARTITION_TRANSFERABLE_PROP,
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
    time_of,
)

__all__ = [
    "COLOR",
    "DATE_MILLIS",
    "ENUMS",
    "JDK17_DATE_NAMES",
    "JDK17_SAFE_DOUBLE_DIGITS",
    "JDK17_SAFE_DOUBLE_EXPONENTS",
    "JDK17_SAFE_FLOAT_DIGITS",
    "JDK17_SAFE_FLOAT_EXPONENTS",
    "MODERN_MILLIS",
    "SPECIAL_STRINGS",
    "ZONES",
    "contexts",
    "distinct_objects",
    "java_string",
    "java_strings",
    "java_values",
    "jdk17_date_text",
    "job_parameters",
    "parameter_values",
    "short_decimal",
]

#: The harness's second enum (compat/java/src/springbatch/compat/Color.java).
COLOR = "springbatch.compat.Color"
ENUMS = (
    JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES"),
    JavaEnum(PARTITION_TRANSFERABLE_PROP, "NO"),
    JavaEnum(COLOR, "RED"),
    JavaEnum(COLOR, "GREEN"),
    JavaEnum(COLOR, "BLUE"),
)
#: JVM default zones for job keys: no DST, DST north and south, and a 30-minute DST shift.
ZONES = ("UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Australia/Lord_Howe")

#: Zone names JDK 17's ``Date.toString()`` prints where springbatch-py knowingly prints others.
#: Australia/Lord_Howe: tzdata has no letters for it ("+1030"/"+11"); JDK 17 prints its legacy
#: names, JDK 19+ (and springbatch-py, see ``tostring.java_date_to_string``) ``GMT+10:30`` and
#: ``GMT+11:00`` - a JDK-version difference like the double digits. Asia/Tokyo: JDK 17 names the
#: daylight time of 1948-1951 ``JDT``; springbatch-py prints ``JST``, taking the names from the
#: zone's current rules (no daylight time) as JDK 25 does for such zones (Moscow 2001 ``MSK``,
#: Kolkata 1945 ``IST``: tests/unit/java_vectors.py ``DATES_25``).
JDK17_DATE_NAMES: dict[str, dict[str, str]] = {
    "Australia/Lord_Howe": {"GMT+10:30": "LHST", "GMT+11:00": "LHDT"},
    "Asia/Tokyo": {"JST+daylight": "JDT"},
}


def jdk17_date_text(value: datetime, zone: str) -> str:
    """``Date.toString()`` as the JDK 17 harness prints it: springbatch-py's text with the zone
    name replaced where :data:`JDK17_DATE_NAMES` knows the two differ."""
    text = tostring.java_date_to_string(value, ZoneInfo(zone))
    names = JDK17_DATE_NAMES.get(zone)
    if not names:
        return text
    parts = text.split(" ")  # EEE MMM dd HH:mm:ss zzz yyyy
    name = parts[4]
    if name + "+daylight" in names and _daylight(value, zone):
        name += "+daylight"
    parts[4] = names.get(name, parts[4])
    return " ".join(parts)


def _daylight(value: datetime, zone: str) -> bool:
    if value < datetime(1900, 1, 1, tzinfo=UTC):  # Java's zone data starts in 1900
        return False
    try:
        dst = value.astimezone(ZoneInfo(zone)).dst()
    except OverflowError:
        return False
    return bool(dst)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MILLIS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_MAX_MILLIS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - _EPOCH) // timedelta(
    milliseconds=1
)
#: ``java.util.Date`` epoch milliseconds over Python's years 1..9999.
DATE_MILLIS = (_MIN_MILLIS, _MAX_MILLIS)
#: Epoch milliseconds of 1890..2110, where zone rules (and their names) change most.
MODERN_MILLIS = (
    (datetime(1890, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1),
    (datetime(2110, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1),
)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN = -(2**63)


# -- strings ------------------------------------------------------------------------------------


def java_string(text: str) -> str:
    """``text`` as Java holds it: Java strings are UTF-16, so adjacent high and low surrogates
    *are* the supplementary character, and Python's two-code-point spelling cannot survive a
    trip through Java."""
    return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


#: Strings at the edges of both runtimes: empty, NUL, lone surrogates, a surrogate pair split by
#: another character, the largest BMP character, the modified UTF-8 boundaries, line breaks
#: Java and JSON treat specially, JSON's escapes and the keys Spring Batch and the cluster
#: library put in contexts. compat/generate_vectors.py draws from it too (keep its order: the
#: vectors are generated from a seeded choice over it).
SPECIAL_STRINGS = (
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "x\ud83dy",
    "\U0001f600",
    "\uffff",
    "\u07ff\u0080\u0800",
    "\r\n\t\x1b\x7f",
    "\u2028\u2029",
    '"\\/',
    "AppUse_Cluster-Node-Identifier",
    "AppUse_Is-Transferable-Identifier",
    "SimpleStepExecutionSplitter.GRID_SIZE",
    "batch.version",
)


def java_strings(min_size: int = 0, max_size: int = 24) -> st.SearchStrategy[str]:
    """Any string Java can hold: every code point, NUL, controls, lone surrogates (as UTF-16)."""
    return st.one_of(
        st.text(st.characters(), min_size=min_size, max_size=max_size),
        st.sampled_from([s for s in SPECIAL_STRINGS if len(s) >= min_size]),
    ).map(java_string)


# -- numbers ------------------------------------------------------------------------------------


def _bounded(cls: Callable[[int], Any], bits: int) -> st.SearchStrategy[Any]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    # -128..127 are the boxes Java's valueOf caches (and writes once, then by handle).
    edges = sorted({v for v in (low, high, -129, -128, -1, 0, 1, 127, 128) if low <= v <= high})
    return st.one_of(st.integers(low, high), st.sampled_from(edges)).map(cls)


def _double_from_bits(bits: int) -> Double:
    return Double(struct.unpack(">d", struct.pack(">Q", bits))[0])


def _float_from_bits(bits: int) -> Float:
    return Float(struct.unpack(">f", struct.pack(">I", bits))[0])


_DOUBLE_EDGES = (0.0, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324, -5e-324,
                 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
                 1e-3, 9.999999999999998e-4, 1e7, 9999999.999999998, 0.1, 1e23)  # fmt: skip


def doubles() -> st.SearchStrategy[float]:
    """``java.lang.Double`` values (as ``Double`` or plain ``float``), NaN payloads included."""
    return st.one_of(
        st.floats().map(Double),
        st.floats(),
        st.integers(0, 2**64 - 1).map(_double_from_bits),
        st.sampled_from(_DOUBLE_EDGES).map(Double),
    )


def floats32() -> st.SearchStrategy[Float]:
    """``java.lang.Float`` values: every 32-bit float including NaN, infinities, subnormals."""
    return st.one_of(
        st.floats(width=32).map(Float),
        st.integers(0, 2**32 - 1).map(_float_from_bits),
        st.sampled_from((0.0, -0.0, 1.4e-45, 3.4028234663852886e38, 1.1754942e-38)).map(Float),
    )


def _big_integers() -> st.SearchStrategy[int]:
    edges = (0, 1, -1, 16, -16, 17, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64, 10**40)
    return st.one_of(
        st.integers(-64, 64),
        st.integers(-(2**64), 2**64),
        st.integers(-(2**300), 2**300),
        st.sampled_from(edges),
    )


def big_decimals() -> st.SearchStrategy[Decimal]:
    """``java.math.BigDecimal`` values: negative scales, extreme scales, huge unscaled values.

    Built from (unscaled, scale) as Java's ``new BigDecimal(BigInteger, int)`` is, so no
    decimal context ever rounds; Java has no negative zero, so neither do these.
    """
    scales = st.one_of(
        st.integers(-20, 20),
        st.integers(_INT_MIN, _INT_MAX),
        st.sampled_from((_INT_MIN, _INT_MAX, 0, 1, 2, 15, 16, -1)),
    )
    return st.builds(_decimal, _big_integers(), scales)


def _decimal(unscaled: int, scale: int) -> Decimal:
    digits = tuple(int(d) for d in str(abs(unscaled)))
    return Decimal((int(unscaled < 0), digits, -scale))


# -- dates and times ----------------------------------------------------------------------------


def _from_millis(millis: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=millis)


def java_dates() -> st.SearchStrategy[datetime]:
    """``java.util.Date`` values: aware datetimes on whole milliseconds, years 1..9999.

    Half of them fall in 1890..2110, where zone rules (and their names) change most.
    """
    return st.one_of(
        st.integers(_MIN_MILLIS, _MAX_MILLIS),
        st.integers(*MODERN_MILLIS),
        st.sampled_from((_MIN_MILLIS, _MAX_MILLIS, 0, -1, 1)),
    ).map(_from_millis)


def local_times() -> st.SearchStrategy[time | LocalTime]:
    """``java.time.LocalTime`` values; whole hours are Java's shared ``LocalTime`` constants,
    and nanoseconds give a :class:`LocalTime` (whole microseconds a plain ``time``)."""
    return st.one_of(
        st.times(),
        st.integers(0, 23).map(time),
        st.builds(time, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
        st.builds(
            time_of,
            st.integers(0, 23),
            st.integers(0, 59),
            st.integers(0, 59),
            st.integers(0, 999_999_999),
        ),
    )


def local_date_times() -> st.SearchStrategy[datetime | LocalDateTime]:
    """``java.time.LocalDateTime`` values, years 1..9999, nanoseconds included."""
    return st.one_of(
        st.datetimes(),
        st.builds(date_time_of, st.dates(), local_times()),
    )


def durations() -> st.SearchStrategy[timedelta | Duration]:
    """``java.time.Duration`` values: the whole ``timedelta`` range, negative ones included, and
    nanoseconds or Java's whole long range of seconds (springbatch-py's ``Duration``)."""
    return st.one_of(
        st.timedeltas(),
        st.builds(timedelta, seconds=st.integers(-(10**6), 10**6)),
        st.sampled_from((timedelta(0), timedelta.min, timedelta.max, timedelta(microseconds=-1))),
        st.builds(duration_of, st.integers(-(2**63), 2**63 - 1), st.integers(0, 999_999_999)),
    )


def instants() -> st.SearchStrategy[Instant]:
    """``java.time.Instant`` values over Java's whole range, nanoseconds included."""
    return st.one_of(
        st.builds(
            Instant,
            st.integers(INSTANT_MIN_SECONDS, INSTANT_MAX_SECONDS),
            st.integers(0, 999_999_999),
        ),
        st.builds(Instant, st.integers(-(10**10), 10**10), st.integers(0, 999_999_999)),
        st.sampled_from(
            (Instant(0), Instant(INSTANT_MIN_SECONDS), Instant(INSTANT_MAX_SECONDS, 999_999_999))
        ),
    )


# -- context values -----------------------------------------------------------------------------


def scalars() -> st.SearchStrategy[Any]:
    """One non-container value of every type a context holds."""
    return st.one_of(
        java_strings(),
        st.booleans(),
        _bounded(Long, 64),
        st.integers(-(2**63), 2**63 - 1),  # a plain int is a Long
        _bounded(Integer, 32),
        _bounded(Short, 16),
        _bounded(Byte, 8),
        _big_integers().map(BigInteger),
        doubles(),
        floats32(),
        big_decimals(),
        java_dates(),
        st.dates(),
        local_times(),
        local_date_times(),
        instants(),
        durations(),
        st.sampled_from(ENUMS),
    )


def java_values(max_depth: int = 2) -> st.SearchStrategy[Any]:
    """A context value: a scalar, or an ``ArrayList``/``HashMap`` nested up to ``max_depth``
    levels whose elements may be None (Java collections hold null; context values do not)."""
    if max_depth <= 0:
        return scalars()
    # one_of flattens nested one_ofs into one list of equally likely branches and merges
    # equal ones, so without separate single-branch wrappers containers and nulls would be
    # rare (or far too common). Here: a sixth of the values are lists, a sixth maps, and a
    # quarter of their elements null.
    scalar = scalars()
    nested = java_values(max_depth - 1)
    inner = st.one_of(*(_single_branch(nested) for _ in range(3)), st.none())
    return st.one_of(
        *(_single_branch(scalar) for _ in range(4)),
        st.lists(inner, max_size=5),
        st.dictionaries(java_strings(max_size=8), inner, max_size=5),
    )


def _single_branch(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.tuples(strategy).map(operator.itemgetter(0))


def contexts(max_depth: int = 2, max_size: int = 40) -> st.SearchStrategy[dict[str, Any]]:
    """An execution context: 0..``max_size`` string keys, values never None at the top."""
    keys, values = java_strings(), java_values(max_depth)
    return st.one_of(
        st.dictionaries(keys, values, max_size=max_size),
        st.dictionaries(keys, values, min_size=max_size // 2, max_size=max_size),
    )


def distinct_objects(context: dict[str, Any]) -> dict[str, Any]:
    """``context`` with every value that Python's writer and the harness *share* differently
    made to occur at most once, so both write the same handles.

    Java back-references only the identical object. springbatch-py's writer assumes numbers made
    by ``valueOf`` (``BigInteger`` -16..16, also as a ``BigDecimal``'s unscaled value, the
    ``Long.MIN_VALUE`` unscaled value, ``BigDecimal`` 0..10 and zeros) and never shares strings;
    the harness builds ``new BigInteger(text)`` / ``new BigDecimal(BigInteger, scale)`` (never
    shared) and its JSON parser returns the one ``""`` literal for every empty string (always
    shared). Both are valid Java; they only differ when such a value occurs twice, so a repeat
    is replaced by a value of the same class that neither side shares. Everything else (boxed
    integers, booleans, enums, java.time constants) is shared the same way by both.
    """
    seen: set[tuple[Any, ...]] = set()

    def fresh(keys: list[tuple[Any, ...]]) -> bool:
        if any(k in seen for k in keys):
            return False
        seen.update(keys)
        return True

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key == "" and not fresh([("str", "")]):
                    key = "\ue000"  # a private-use character: never produced as a whole key
                    while key in value or key in out:
                        key += "\ue000"
                out[key] = walk(item)
            return out
        if isinstance(value, str):
            return value if value or fresh([("str", "")]) else "\ue001"
        if isinstance(value, BigInteger):
            return value if fresh(_shared_keys(value)) else BigInteger(value + 10**6)
        if isinstance(value, Decimal):
            if fresh(_shared_keys(value)):
                return value
            sign, digits, exponent = value.as_tuple()
            assert isinstance(exponent, int)
            return Decimal((sign, (1, 0, 0, 0, 0, 0, 0, *digits), exponent))
        return value

    result: dict[str, Any] = walk(context)
    return result


def _shared_keys(value: BigInteger | Decimal) -> list[tuple[Any, ...]]:
    if isinstance(value, BigInteger):
        return [("BigInteger", int(value))] if -16 <= value <= 16 else []
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    unscaled = int("".join(map(str, digits))) * (-1 if sign else 1)
    scale = -exponent
    keys: list[tuple[Any, ...]] = []
    if (scale == 0 and 0 <= unscaled <= 10) or (unscaled == 0 and 0 <= scale <= 15):
        keys.append(("BigDecimal", unscaled, scale))
    if -16 <= unscaled <= 16:
        keys.append(("BigInteger", unscaled))
    if unscaled == _LONG_MIN:
        keys.append(("INFLATED",))
    return keys


# -- job parameters -----------------------------------------------------------------------------


#: Decimal exponents (of the leading digit) where JDK 17 prints short decimals the way JDK 19+
#: and Python do. Measured against OpenJDK 17.0.21 with up to 12 (double) / 6 (float)
#: significant digits: JDK 17's ``FloatingDecimal`` prints extra digits for doubles from about
#: 1e17 to 1e25 (``2.0E23`` -> ``1.9999999999999998E23``, ``4.68838177061E18`` ->
#: ``4.6883817706099999E18``) and below 1e-321 (``9.9E-324`` -> ``1.0E-323``), and for floats from
#: about 2**24 up (``8.92E13`` -> ``8.9200003E13``, 10 to 20 % of them) and below 1e-42
#: (``9.9E-44`` -> ``1.0E-43``). Few digits alone are therefore not enough; the magnitude matters.
JDK17_SAFE_DOUBLE_EXPONENTS = ((-320, 15), (25, 308))
JDK17_SAFE_FLOAT_EXPONENTS = ((-37, 6),)
#: Most significant digits of the doubles and floats compared with JDK 17's ``toString``.
JDK17_SAFE_DOUBLE_DIGITS = 12
JDK17_SAFE_FLOAT_DIGITS = 6


def short_decimal(negative: bool, digits: int, leading_exponent: int) -> str:
    """The decimal text ``[-]d.ddd x 10**leading_exponent`` with the digits of ``digits``."""
    count = len(str(digits))
    return f"{'-' if negative else ''}{digits}e{leading_exponent - count + 1}"


def _short_double(negative: bool, digits: int, leading_exponent: int) -> Double:
    return Double(float(short_decimal(negative, digits, leading_exponent)))


def _short_float(negative: bool, digits: int, leading_exponent: int) -> Float:
    return Float(parse_java_float(short_decimal(negative, digits, leading_exponent)))


def _exponents(ranges: tuple[tuple[int, int], ...]) -> st.SearchStrategy[int]:
    return st.one_of(*(st.integers(low, high) for low, high in ranges))


def parameter_values() -> st.SearchStrategy[Any]:
    """A value of every class Python's ``JobParameter`` accepts.

    ``Double`` and ``Float`` values are read from decimal strings of at most 12 and 6
    significant digits, in the magnitudes of :data:`JDK17_SAFE_DOUBLE_EXPONENTS` and
    :data:`JDK17_SAFE_FLOAT_EXPONENTS`. The reason is the JDK, not Python: ``JOB_KEY`` and the
    parameter rows contain ``Double.toString``/``Float.toString``, and JDK 17/18 print
    non-shortest digits for some values where JDK 19+ and Python print the shortest ones
    (java-wire-facts §3.3). springbatch-py follows JDK 19+, so the tests compare it with the
    JDK 17 harness only where both JDK generations print the same text.
    """
    short_doubles = st.one_of(
        st.builds(
            _short_double,
            st.booleans(),
            st.integers(1, 10**JDK17_SAFE_DOUBLE_DIGITS - 1),
            _exponents(JDK17_SAFE_DOUBLE_EXPONENTS),
        ),
        st.builds(_short_double, st.booleans(), st.integers(1, 999), st.integers(-10, 10)),
        st.sampled_from((0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1e-3, 1e7)).map(
            Double
        ),
    )
    short_floats = st.one_of(
        st.builds(
            _short_float,
            st.booleans(),
            st.integers(1, 10**JDK17_SAFE_FLOAT_DIGITS - 1),
            _exponents(JDK17_SAFE_FLOAT_EXPONENTS),
        ),
        st.sampled_from((0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1e-3)).map(Float),
    )
    return st.one_of(
        java_strings(),
        st.booleans(),
        _bounded(Long, 64),
        st.integers(-(2**63), 2**63 - 1),
        _bounded(Integer, 32),
        _bounded(Short, 16),
        _bounded(Byte, 8),
        _big_integers().map(BigInteger),
        short_doubles,
        short_floats,
        big_decimals(),
        java_dates(),
        st.dates(),
        local_times(),
        local_date_times(),
        st.sampled_from(ENUMS),
    )


def job_parameters(max_size: int = 8) -> st.SearchStrategy[JobParameters]:
    """0..``max_size`` parameters, identifying or not, of every supported type."""
    parameter = st.builds(JobParameter, parameter_values(), st.booleans())
    return st.dictionaries(java_strings(min_size=1, max_size=12), parameter, max_size=max_size).map(
        JobParameters
    )
