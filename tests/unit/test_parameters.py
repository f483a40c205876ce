"""Job parameters: Java ``toString()``, ``JOB_KEY`` of 5.x and 6.0, and the parameter rows.

JDK outputs come from ``tests/unit/java_vectors.py`` (OpenJDK 17 and Temurin 25); the worked key
examples are those of the wire-facts document, section 3.4.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from springbatch_py.core.errors import JobParametersInvalidError
from springbatch_py.core.parameters import (
    SUPPORTED_TYPES,
    JobParameter,
    JobParameters,
    decode_parameter,
    encode_parameter,
    job_key,
    parse_parameter_argument,
    unstable_key_parameters,
)
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.errors import SpringBatchError
from springbatch_py.java import parsing, tostring
from springbatch_py.java.types import (
    PARTITION_TRANSFERABLE_PROP,
    BigInteger,
    Byte,
    Double,
    Float,
    Instant,
    Integer,
    JavaEnum,
    JavaValue,
    LocalDateTime,
    LocalTime,
    Long,
    Short,
    java_class_of,
)
from springbatch_py.repository.jobs import JobRepository
from tests.unit import java_vectors

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def _lines(block: str) -> list[str]:
    return [line for line in block.splitlines() if line]


def _from_millis(millis: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)


# ---------------------------------------------------------------------------------------------
# JOB_KEY: the worked examples (facts 3.4) and JDK-computed keys
# ---------------------------------------------------------------------------------------------

EXAMPLES = [
    (
        {"name": "a", "run.id": 1},
        "fd507213e5b091f53bbd9982305aaa64",
        "d4f327e537973e0c3038c4502577256c",
    ),
    (
        {
            "input.file": "/data/in.csv",
            "rate": 0.5,
            "day": date(2024, 1, 31),
            "note": JobParameter("ignored", identifying=False),
        },
        "d6d764cf6642b4d086e725e55c99b82b",
        "ff5afe14424e785ebae01d83377a55d7",
    ),
    (
        {
            "count": Integer(42),
            "date": datetime(2024, 1, 31, 10, tzinfo=UTC),
            "ldt": datetime(2024, 1, 31, 10, 0),
            "lt": time(10, 0),
        },
        "eccf08191e0485318a7cd38c66640b9e",
        "ff7961b0a90301af431c71321df5b177",
    ),
    (
        {"only": JobParameter("x", identifying=False)},
        "d41d8cd98f00b204e9800998ecf8427e",
        "d41d8cd98f00b204e9800998ecf8427e",
    ),
    ({}, "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"),
]


@pytest.mark.parametrize(("values", "key5", "key6"), EXAMPLES)
def test_worked_examples(values: dict[str, Any], key5: str, key6: str) -> None:
    parameters = JobParameters(values)
    assert job_key(parameters, 5, zone=UTC_ZONE) == key5
    assert job_key(parameters, 6, zone=UTC_ZONE) == key6


def test_example_1_pre_hash_texts() -> None:
    text5 = (
        "name={value=a, type=class java.lang.String, identifying=true};"
        "run.id={value=1, type=class java.lang.Long, identifying=true};"
    )
    text6 = (
        "JobParameter{name='name', value=a, type=class java.lang.String, identifying=true}"
        "JobParameter{name='run.id', value=1, type=class java.lang.Long, identifying=true}"
    )
    parameters = JobParameters({"run.id": Long(1), "name": "a"})
    assert job_key(parameters, 5, zone=UTC_ZONE) == hashlib.md5(text5.encode()).hexdigest()
    assert job_key(parameters, 6, zone=UTC_ZONE) == hashlib.md5(text6.encode()).hexdigest()


# Keys computed on OpenJDK 17 and Temurin 25 (same result) by a throwaway Java program that
# applies the 5.x/6.0 layouts to real Java values (Java toString, Collections.sort, MD5).
JDK_KEYS = {
    "UTC": ("e66373358b219626102761895d9fc2c9", "9256704cd4d592a09df98b41255b2c30"),
    "Europe/Berlin": ("3c7bc3d6086f0d87f02a075c98f900f0", "9804e4d092dac671f26af4121d8dc155"),
    "America/New_York": ("53f334ec26203ce9b675c1429c135779", "fed15c65707b34ad934b3dcb8ae36245"),
}


@pytest.mark.parametrize("zone", sorted(JDK_KEYS))
def test_every_type_against_jdk_keys(zone: str) -> None:
    parameters = JobParameters(
        {
            "run.id": 7,
            "i": Integer(42),
            "s": Short(-3),
            "b": Byte(127),
            "d": 0.1,
            "d2": 1.0e7,
            "f": Float(0.1),
            "f2": Float(1e-10),
            "bd": Decimal("1.50"),
            "bd2": Decimal("1E+3"),
            "bi": BigInteger(123456789012345678901234567890),
            "flag": True,
            "when": _from_millis(1706695200123),
            "summer": _from_millis(1719831845000),
            "day": date(2024, 1, 31),
            "lt": time(10, 0, 0, 500000),
            "lt2": time(23, 59, 59, 123400),
            "ldt": datetime(2024, 1, 31, 10, 0, 0, 1),
            "\ue000x": "private-use",
            "\U0001f600y": "emoji",
            "ü": "umlaut é ; = } '",
            "note": JobParameter("ignored", identifying=False),
        }
    )
    assert (
        job_key(parameters, 5, zone=ZoneInfo(zone)),
        job_key(parameters, 6, zone=ZoneInfo(zone)),
    ) == JDK_KEYS[zone]


def test_names_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so Java puts it before U+E000; code points say otherwise.
    parameters = JobParameters({"\ue000": "a", "\U0001f600": "b"})
    java = "\U0001f600={value=b, type=class java.lang.String, identifying=true};"
    java += "\ue000={value=a, type=class java.lang.String, identifying=true};"
    assert job_key(parameters, 5, zone=UTC_ZONE) == hashlib.md5(java.encode()).hexdigest()


def test_lone_surrogate_is_hashed_as_question_mark_like_java() -> None:
    lone = JobParameters({"s": "a\ud800b"})
    replaced = JobParameters({"s": "a?b"})
    assert job_key(lone, 6, zone=UTC_ZONE) == job_key(replaced, 6, zone=UTC_ZONE)


def test_key_ignores_insertion_order_and_non_identifying() -> None:
    a = JobParameters({"x": 1, "y": "2", "z": JobParameter(3, identifying=False)})
    b = JobParameters({"y": "2", "x": 1, "z": JobParameter(4, identifying=False)})
    for major in (5, 6):
        assert job_key(a, major, zone=UTC_ZONE) == job_key(b, major, zone=UTC_ZONE)


def test_key_distinguishes_java_classes() -> None:
    assert job_key(JobParameters({"x": 1}), 5, zone=UTC_ZONE) != job_key(
        JobParameters({"x": Integer(1)}), 5, zone=UTC_ZONE
    )


@pytest.mark.parametrize("major", [4, 7, "5"])
def test_job_key_rejects_other_majors(major: Any) -> None:
    with pytest.raises(ValueError, match="5 or 6"):
        job_key(JobParameters(), major, zone=UTC_ZONE)


# An independent re-statement of facts 3.1/3.2 for String/Long/Integer/Boolean/LocalDate.
def _reference_key(parameters: dict[str, tuple[Any, bool]], major: int) -> str:
    def render(value: Any) -> tuple[str, str]:
        if isinstance(value, bool):
            return ("true" if value else "false"), "java.lang.Boolean"
        if isinstance(value, Integer):
            return f"{int(value)}", "java.lang.Integer"
        if isinstance(value, int):
            return f"{value}", "java.lang.Long"
        if isinstance(value, date):
            return f"{value.year:04}-{value.month:02}-{value.day:02}", "java.time.LocalDate"
        return value, "java.lang.String"

    text = ""
    for name in sorted(parameters, key=lambda n: n.encode("utf-16-be")):
        value, identifying = parameters[name]
        if not identifying:
            continue
        v, t = render(value)
        if major == 5:
            text += f"{name}={{value={v}, type=class {t}, identifying=true}};"
        else:
            text += f"JobParameter{{name='{name}', value={v}, type=class {t}, identifying=true}}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


_NAME_CHARS = st.one_of(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF, exclude_categories=("Cs",)),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
_NAMES = st.text(_NAME_CHARS, min_size=1, max_size=6)
_SIMPLE_VALUES = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**31), 2**31 - 1).map(Integer),
    st.booleans(),
    st.dates(),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_NAMES, st.tuples(_SIMPLE_VALUES, st.booleans()), max_size=8))
def test_job_key_matches_reference_statement(parameters: dict[str, tuple[Any, bool]]) -> None:
    built = JobParameters({n: JobParameter(v, identifying=i) for n, (v, i) in parameters.items()})
    for major in (5, 6):
        assert job_key(built, major, zone=UTC_ZONE) == _reference_key(parameters, major)


def _float32(x: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", x))[0])


_ANY_VALUES = st.one_of(
    _SIMPLE_VALUES,
    st.integers(-(2**15), 2**15 - 1).map(Short),
    st.integers(-128, 127).map(Byte),
    st.integers(-(2**100), 2**100).map(BigInteger),
    st.floats(allow_nan=True),
    st.floats(width=32).map(Float),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    st.datetimes(),
    st.times(),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_NAMES, _ANY_VALUES, st.booleans()), max_size=8, unique_by=lambda t: t[0])
)
def test_key_and_rows_for_every_type(items: list[tuple[str, Any, bool]]) -> None:
    parameters = JobParameters({n: JobParameter(v, identifying=i) for n, v, i in items})
    reordered = JobParameters(dict(reversed(list(parameters.items()))))
    for major in (5, 6):
        key = job_key(parameters, major, zone=BERLIN)
        assert len(key) == 32
        assert key == job_key(reordered, major, zone=BERLIN)
    # Every row reads back as the same parameter with the same Java class.
    for name, parameter in parameters.items():
        assert decode_parameter(name, *encode_parameter(parameter)) == parameter


# ---------------------------------------------------------------------------------------------
# Java toString of values (facts 3.3)
# ---------------------------------------------------------------------------------------------

INSTANT = datetime(2024, 1, 31, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        (UTC_ZONE, "Wed Jan 31 10:00:00 UTC 2024"),
        (BERLIN, "Wed Jan 31 11:00:00 CET 2024"),
        (NEW_YORK, "Wed Jan 31 05:00:00 EST 2024"),
    ],
)
def test_date_to_string_examples(zone: ZoneInfo, text: str) -> None:
    assert tostring.java_to_string(INSTANT, zone=zone) == text
    # The instant matters, not the datetime's own zone.
    assert tostring.java_to_string(
        INSTANT.astimezone(timezone(timedelta(hours=-3))), zone=zone
    ) == (text)


@pytest.mark.parametrize("line", _lines(java_vectors.DATES))
def test_date_to_string_matches_jdk(line: str) -> None:
    zone, millis, text = line.split("|")
    assert tostring.java_date_to_string(_from_millis(int(millis)), ZoneInfo(zone)) == text


@pytest.mark.parametrize("line", _lines(java_vectors.DATES_25))
def test_date_to_string_follows_jdk_25_names(line: str) -> None:
    zone, millis, text25, _text17 = line.split("|")
    assert tostring.java_date_to_string(_from_millis(int(millis)), ZoneInfo(zone)) == text25


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1583, 1, 1), timezones=st.just(UTC)))
def test_date_to_string_in_utc_shows_the_gregorian_fields(dt: datetime) -> None:
    expected = (
        f"{_WEEKDAYS[dt.weekday()]} {_MONTH_NAMES[dt.month - 1]} {dt.day:02d}"
        f" {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} UTC {dt.year}"
    )
    assert tostring.java_date_to_string(dt, UTC_ZONE) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("a", "a"),
        ("", ""),
        (1, "1"),
        (Long(-9223372036854775808), "-9223372036854775808"),
        (Integer(42), "42"),
        (Short(-7), "-7"),
        (Byte(5), "5"),
        (BigInteger(10**30), "1000000000000000000000000000000"),
        (True, "true"),
        (False, "false"),
        (0.5, "0.5"),
        (Double(100.0), "100.0"),
        (Float(0.1), "0.1"),
        (Decimal("1.50"), "1.50"),
        (Decimal("1E+3"), "1E+3"),
        (Decimal("-0.00"), "0.00"),
        (date(2024, 1, 31), "2024-01-31"),
        (date(5, 3, 4), "0005-03-04"),
        (time(10, 0), "10:00"),
        (time(10, 0, 5), "10:00:05"),
        (time(10, 0, 0, 500000), "10:00:00.500"),
        (time(10, 0, 0, 123400), "10:00:00.123400"),
        (datetime(2024, 1, 31, 10, 0), "2024-01-31T10:00"),
        (datetime(2024, 1, 31, 10, 0, 0, 1), "2024-01-31T10:00:00.000001"),
    ],
)
def test_java_to_string(value: Any, text: str) -> None:
    assert tostring.java_to_string(value, zone=UTC_ZONE) == text


@pytest.mark.parametrize("line", _lines(java_vectors.LOCAL_TIMES))
def test_local_time_formats_match_jdk(line: str) -> None:
    fields, to_string, iso, ldt_to_string, ldt_iso = line.split("|")
    hour, minute, second, micros = (int(f) for f in fields.split(","))
    t = time(hour, minute, second, micros)
    dt = datetime.combine(date(2024, 1, 31), t)
    assert tostring.java_local_time_to_string(t) == to_string
    assert tostring.iso_local_time(t) == iso
    assert tostring.java_local_date_time_to_string(dt) == ldt_to_string
    assert tostring.iso_local_date_time(dt) == ldt_iso


@pytest.mark.parametrize("line", _lines(java_vectors.BIG_DECIMALS))
def test_big_decimal_to_string_matches_jdk(line: str) -> None:
    text, expected = line.split("|")
    assert tostring.java_big_decimal_to_string(Decimal(text)) == expected
    assert tostring.java_big_decimal_to_string(parsing.parse_big_decimal(text)) == expected


@pytest.mark.parametrize("line", _lines(java_vectors.ISO_INSTANTS))
def test_iso_instant_matches_jdk(line: str) -> None:
    millis, text = line.split("|")
    assert tostring.iso_instant(_from_millis(int(millis))) == text


# --- Double / Float -------------------------------------------------------------------------


# Facts A.4 and 3.3, plus the JDK 17/25 example of 3.3 (bits c3c29b3529ace642).
@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.5, "0.5"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (1e7, "1.0E7"),
        (1e-4, "1.0E-4"),
        (1.23456789e8, "1.23456789E8"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (5e-324, "4.9E-324"),
        (-5e-324, "-4.9E-324"),
        (9999999.0, "9999999.0"),
        (2.5, "2.5"),
        (struct.unpack(">d", bytes.fromhex("c3c29b3529ace642"))[0], "-2.681447534367114E18"),
    ],
)
def test_double_to_string_examples(x: float, text: str) -> None:
    assert tostring.java_double_to_string(x) == text


def _double(bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(bits))[0])


def _float(bits: str) -> float:
    return float(struct.unpack(">f", bytes.fromhex(bits))[0])


def test_double_to_string_matches_jdk_table() -> None:
    mismatches = [
        (bits, tostring.java_double_to_string(_double(bits)), text)
        for bits, text in (line.split(" ") for line in _lines(java_vectors.DOUBLES))
        if tostring.java_double_to_string(_double(bits)) != text
    ]
    assert not mismatches


def test_double_to_string_follows_jdk_19_where_jdk_17_differs() -> None:
    for bits, text17, text25 in (line.split(" ") for line in _lines(java_vectors.DOUBLES_17_VS_25)):
        ours = tostring.java_double_to_string(_double(bits))
        assert ours == text25, bits
        assert ours != text17
        assert float(text17) == float(text25)  # both round-trip; 17 just prints more digits


def test_float_to_string_matches_jdk_table() -> None:
    mismatches = [
        (bits, tostring.java_float_to_string(_float(bits)), text)
        for bits, text in (line.split(" ") for line in _lines(java_vectors.FLOATS))
        if tostring.java_float_to_string(_float(bits)) != text
    ]
    assert not mismatches


def test_float_to_string_follows_jdk_19_where_jdk_17_differs() -> None:
    for bits, _text17, text25 in (line.split(" ") for line in _lines(java_vectors.FLOATS_17_VS_25)):
        assert tostring.java_float_to_string(_float(bits)) == text25, bits


def test_float_to_string_rounds_a_double_to_32_bits_first() -> None:
    assert tostring.java_float_to_string(0.1) == "0.1"
    assert tostring.java_float_to_string(1e39) == "Infinity"
    # Float.MAX_VALUE + half an ulp is a tie that rounds to even, i.e. infinity, as in Java.
    halfway = 2.0**128 - 2.0**103
    assert tostring.to_float32(halfway) == math.inf
    assert tostring.to_float32(math.nextafter(halfway, 0)) == _float("7f7fffff")


_JAVA_SHAPE = r"-?(\d+\.\d+|\d\.\d+E-?\d+|NaN|Infinity)"


@settings(max_examples=500, deadline=None)
@given(st.floats())
def test_double_to_string_round_trips_and_is_shortest(x: float) -> None:
    text = tostring.java_double_to_string(x)
    assert _matches(_JAVA_SHAPE, text)
    parsed = float(text)
    assert parsed == x or (math.isnan(x) and math.isnan(parsed))
    if math.isfinite(x) and x != 0 and abs(x) > 1e-320:
        # Same significant digits as Python's shortest repr (Java adds ".0" / pads only).
        assert _digits(text) == _digits(repr(x))


@settings(max_examples=500, deadline=None)
@given(st.floats(width=32))
def test_float_to_string_round_trips(x: float) -> None:
    text = tostring.java_float_to_string(x)
    assert _matches(_JAVA_SHAPE, text)
    parsed = parsing.parse_floating(text, "java.lang.Float")
    if math.isnan(x):
        assert math.isnan(parsed)
    else:
        assert parsed == x and math.copysign(1, parsed) == math.copysign(1, x)


def _matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def _digits(text: str) -> str:
    mantissa = text.lower().split("e")[0].lstrip("-").replace(".", "")
    return mantissa.strip("0")


# ---------------------------------------------------------------------------------------------
# Rows: encode (facts 4) and decode
# ---------------------------------------------------------------------------------------------

ROWS = [
    ("a", ("java.lang.String", "a", "Y")),
    (1, ("java.lang.Long", "1", "Y")),
    (Integer(42), ("java.lang.Integer", "42", "Y")),
    (Short(-3), ("java.lang.Short", "-3", "Y")),
    (Byte(-128), ("java.lang.Byte", "-128", "Y")),
    (BigInteger(-(10**25)), ("java.math.BigInteger", "-10000000000000000000000000", "Y")),
    (0.5, ("java.lang.Double", "0.5", "Y")),
    (1e7, ("java.lang.Double", "1.0E7", "Y")),
    (1e-4, ("java.lang.Double", "1.0E-4", "Y")),
    (Float(2.5), ("java.lang.Float", "2.5", "Y")),
    (Decimal("1.50"), ("java.math.BigDecimal", "1.50", "Y")),
    (True, ("java.lang.Boolean", "true", "Y")),
    (False, ("java.lang.Boolean", "false", "Y")),
    (datetime(2024, 1, 31, 10, tzinfo=UTC), ("java.util.Date", "2024-01-31T10:00:00Z", "Y")),
    (
        datetime(2024, 1, 31, 11, 0, 0, 123000, tzinfo=ZoneInfo("Europe/Berlin")),
        ("java.util.Date", "2024-01-31T10:00:00.123Z", "Y"),
    ),
    (
        datetime(2024, 1, 31, 10, 0, 0, 100999, tzinfo=UTC),  # cut to millis like a Date
        ("java.util.Date", "2024-01-31T10:00:00.100Z", "Y"),
    ),
    (date(2024, 1, 31), ("java.time.LocalDate", "2024-01-31", "Y")),
    (time(10, 0), ("java.time.LocalTime", "10:00:00", "Y")),
    (time(10, 0, 0, 500000), ("java.time.LocalTime", "10:00:00.5", "Y")),
    (time(10, 0, 0, 123400), ("java.time.LocalTime", "10:00:00.1234", "Y")),
    (datetime(2024, 1, 31, 10, 0), ("java.time.LocalDateTime", "2024-01-31T10:00:00", "Y")),
    (
        datetime(2024, 1, 31, 10, 0, 0, 500000),
        ("java.time.LocalDateTime", "2024-01-31T10:00:00.5", "Y"),
    ),
]


@pytest.mark.parametrize(("value", "row"), ROWS)
def test_encode_and_decode_every_type(value: Any, row: tuple[str, str, str]) -> None:
    parameter = JobParameter(value)
    assert encode_parameter(parameter) == row
    decoded = decode_parameter("p", *row)
    assert decoded == parameter
    assert decoded.java_class == java_class_of(value)
    non_identifying = JobParameter(value, identifying=False)
    assert encode_parameter(non_identifying)[2] == "N"
    assert decode_parameter("p", *encode_parameter(non_identifying)) == non_identifying


@pytest.mark.parametrize(
    ("type_name", "text", "expected"),
    [
        ("java.lang.Long", "0x10", Long(16)),
        ("java.lang.Long", "0X7fffffffffffffff", Long(2**63 - 1)),
        ("java.lang.Long", "-0x8000000000000000", Long(-(2**63))),
        ("java.lang.Long", "#1F", Long(31)),
        ("java.lang.Long", "-0x10", Long(-16)),
        ("java.lang.Long", "+5", Long(5)),
        ("java.lang.Long", "010", Long(10)),  # not octal: Spring only decodes hex
        ("java.lang.Long", " 4 2\t", Long(42)),  # NumberUtils removes all whitespace
        ("java.lang.Long", "\u0661\u0662", Long(12)),  # Java digits include other scripts
        ("java.lang.Integer", "-0x80000000", Integer(-(2**31))),
        ("java.lang.Short", "#7fff", Short(32767)),
        ("java.lang.Byte", "-0x80", Byte(-128)),
        ("java.lang.Byte", "127", Byte(127)),
        ("java.math.BigInteger", "-0xFFFFFFFFFFFFFFFFFFFF", BigInteger(-(2**80 - 1))),
        ("java.math.BigInteger", "+12", BigInteger(12)),
        ("java.lang.Double", "1.5f", Double(1.5)),
        ("java.lang.Double", "1.5d", Double(1.5)),
        ("java.lang.Double", "0x1.8p1", Double(3.0)),
        ("java.lang.Double", ".5", Double(0.5)),
        ("java.lang.Double", "5.", Double(5.0)),
        ("java.lang.Double", "1e400", Double(math.inf)),
        ("java.lang.Double", "-Infinity", Double(-math.inf)),
        ("java.lang.Double", "+1.0E-3", Double(0.001)),
        ("java.lang.Float", "1e-400", Float(0.0)),
        ("java.lang.Float", "3.4028236e38", Float(math.inf)),
        # JDK 17/25: rounded once from the decimal (via a double it would round to 1.0).
        ("java.lang.Float", "1.0000000596046447753906251", Float(_float("3f800001"))),
        ("java.lang.Float", "1.000000059604644775390625", Float(1.0)),
        ("java.lang.Float", "7.006492321624086e-46", Float(_float("00000001"))),
        ("java.lang.Float", "0x1.0000010000000001p0", Float(_float("3f800001"))),
        ("java.math.BigDecimal", "1e3", Decimal("1E+3")),
        ("java.math.BigDecimal", "-0", Decimal("0")),
        ("java.math.BigDecimal", ".5", Decimal("0.5")),
        ("java.lang.Boolean", "On", True),
        ("java.lang.Boolean", " YES ", True),
        ("java.lang.Boolean", "1", True),
        ("java.lang.Boolean", "False", False),
        ("java.lang.Boolean", "off", False),
        ("java.lang.Boolean", "no", False),
        ("java.lang.Boolean", "0", False),
        ("java.util.Date", "2024-01-31T10:00:00+01:00", datetime(2024, 1, 31, 9, tzinfo=UTC)),
        ("java.util.Date", "2024-01-31t10:00:00z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("java.util.Date", "2024-01-31T10:00:00-00:00", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        (
            "java.util.Date",
            "2024-01-31T10:00:00+01:00:30",
            datetime(2024, 1, 31, 8, 59, 30, tzinfo=UTC),
        ),
        ("java.util.Date", "2024-01-31T24:00:00Z", datetime(2024, 2, 1, tzinfo=UTC)),
        (
            "java.util.Date",
            "2024-01-31T23:59:60.5Z",
            datetime(2024, 1, 31, 23, 59, 59, 500000, tzinfo=UTC),
        ),
        ("java.util.Date", "2024-01-31T10:00:00.Z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        (
            "java.util.Date",
            "2024-01-31T10:00:00.123456789Z",
            datetime(2024, 1, 31, 10, 0, 0, 123000, tzinfo=UTC),
        ),
        ("java.time.LocalDate", "2024-02-29", date(2024, 2, 29)),
        ("java.time.LocalTime", "10:00", time(10)),
        ("java.time.LocalTime", "10:00:00.", time(10)),
        ("java.time.LocalTime", "10:00:00.123456789", LocalTime(10, 0, 0, 123456789)),
        ("java.time.LocalDateTime", "2024-01-31t10:00", datetime(2024, 1, 31, 10)),
        ("java.lang.String", "", ""),
        ("java.lang.String", " keep  spaces ", " keep  spaces "),
    ],
)
def test_decode_is_as_tolerant_as_java(type_name: str, text: str, expected: Any) -> None:
    parameter = decode_parameter("p", type_name, text, "Y")
    assert parameter == JobParameter(expected)


@pytest.mark.parametrize(
    ("type_name", "text"),
    [
        ("java.lang.Long", "+0x10"),  # Spring only looks for hex after '-'
        ("java.lang.Long", "1_000"),
        ("java.lang.Long", "0x8000000000000000"),
        ("java.lang.Long", "9223372036854775808"),
        ("java.lang.Long", ""),
        ("java.lang.Long", "0x"),
        ("java.lang.Long", "1.0"),
        ("java.lang.Byte", "0x80"),
        ("java.lang.Byte", "128"),
        ("java.lang.Integer", "2147483648"),
        ("java.lang.Double", "inf"),
        ("java.lang.Double", "nan"),
        ("java.lang.Double", "1_0"),
        ("java.lang.Double", ""),
        ("java.math.BigDecimal", "1,000"),
        ("java.math.BigDecimal", "1.2.3"),
        ("java.math.BigDecimal", "NaN"),
        ("java.lang.Boolean", "maybe"),
        ("java.lang.Boolean", ""),
        ("java.util.Date", "2024-01-31T10:00Z"),  # ISO_INSTANT needs the seconds
        ("java.util.Date", "2024-01-31T10:00:00"),
        ("java.util.Date", "2024-01-31 10:00:00Z"),
        ("java.util.Date", "2024-01-31T10:00:00+0100"),
        ("java.util.Date", "2024-01-31T10:00:00+01"),
        ("java.util.Date", "2024-01-31T10:00:00+19:00"),
        ("java.util.Date", "2024-01-31T24:00:01Z"),
        ("java.util.Date", "2024-01-31T10:00:60Z"),
        ("java.util.Date", "2024-02-30T10:00:00Z"),
        ("java.util.Date", "+2024-01-31T10:00:00Z"),
        ("java.util.Date", "2024-01-31T10:00:00.1234567891Z"),
        ("java.time.LocalDate", "2024-1-31"),
        ("java.time.LocalDate", "20240131"),
        ("java.time.LocalDate", "2024-W05-3"),
        ("java.time.LocalDate", "2023-02-29"),
        ("java.time.LocalTime", "24:00"),
        ("java.time.LocalTime", "1:00"),
        ("java.time.LocalTime", "10"),
        ("java.time.LocalTime", "10:00:60"),
        ("java.time.LocalTime", "10:00:00Z"),
        ("java.time.LocalDateTime", "2024-01-31 10:00:00"),  # the T is required
        ("java.time.LocalDateTime", "2024-01-31"),
    ],
)
def test_decode_refuses_what_java_refuses(type_name: str, text: str) -> None:
    with pytest.raises(JobParametersInvalidError) as info:
        decode_parameter("p", type_name, text, "Y")
    assert f"cannot read parameter 'p': invalid {type_name} value {text!r}" in str(info.value)


@pytest.mark.parametrize(
    ("flag", "identifying"),
    [
        ("Y", True),
        ("y", True),
        ("N", False),
        ("n", False),
        ("", False),
        (None, False),
        ("T", False),
    ],
)
def test_decode_identifying_flag(flag: str | None, identifying: bool) -> None:
    assert decode_parameter("p", "java.lang.String", "v", flag).identifying is identifying


@pytest.mark.parametrize("type_name", ["", " ", "no spaces.allowed here", "com.example.E\n"])
def test_decode_refuses_a_type_that_is_no_class_name(type_name: str) -> None:
    with pytest.raises(JobParametersInvalidError) as info:
        decode_parameter("x", type_name, "1", "Y")
    assert str(info.value) == f"cannot read parameter 'x': unsupported type {type_name}"


@pytest.mark.parametrize(
    ("type_name", "text"),
    [
        ("io.github.jchejarla.springbatch.clustering.partition.PartitionTransferableProp", "YES"),
        ("com.example.Foo", "1"),
        ("builtins.int", "1"),
        ("Unnamed", "x"),  # a class of the unnamed package
        ("com.exämple.Farbe", "ROT"),
        # Java writes these with toString() and cannot read them back; Python keeps the text.
        ("java.time.Instant", "2024-01-31T10:15:30.123456789Z"),
        ("java.time.OffsetDateTime", "2024-01-31T10:15:30.123456789+01:00"),
        ("com.example.Outer$Inner", ""),
    ],
)
def test_decode_any_other_class_keeps_class_and_text(type_name: str, text: str) -> None:
    parameter = decode_parameter("x", type_name, text, "N")
    assert parameter.value == JavaValue(type_name, text)
    assert parameter.java_class == type_name
    assert not parameter.identifying
    # Written back unchanged, and the key holds the text (Java's toString()).
    assert encode_parameter(parameter) == (type_name, text, "N")
    assert decode_parameter("x", *encode_parameter(parameter)) == parameter
    key_text = job_key(JobParameters({"x": JobParameter(parameter.value)}), 5, zone=UTC_ZONE)
    expected = f"x={{value={text}, type=class {type_name}, identifying=true}};"
    assert key_text == hashlib.md5(expected.encode(), usedforsecurity=False).hexdigest()


def test_decode_null_value() -> None:
    with pytest.raises(JobParametersInvalidError, match=r"cannot read parameter 'x'.*NULL.*Oracle"):
        decode_parameter("x", "java.lang.String", None, "Y")


def test_error_is_a_spring_batch_error() -> None:
    assert issubclass(JobParametersInvalidError, SpringBatchError)


# ---------------------------------------------------------------------------------------------
# JobParameter / JobParameters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        [1],
        {"a": 1},
        JavaEnum("", "A"),  # no class name
        JavaEnum("com.example Color", "A"),
        JavaEnum("java.lang.Long", "A"),  # a modelled class
        JavaValue("java.lang.Long", "1"),
        JavaValue("com.example.E", None),  # type: ignore[arg-type]
        Instant(0),
        timedelta(1),
        object(),
        2**63,
        -(2**63) - 1,
        Decimal("NaN"),
        Decimal("Infinity"),
        time(10, tzinfo=UTC),
        b"bytes",
    ],
)
def test_unsupported_values_are_refused(value: Any) -> None:
    with pytest.raises(JobParametersInvalidError):
        JobParameter(value)


def test_supported_types_cover_the_facts_table() -> None:
    assert len(SUPPORTED_TYPES) == 14
    samples = [v for v, _ in ROWS]
    assert {java_class_of(v) for v in samples} == SUPPORTED_TYPES


def test_identifying_must_be_bool() -> None:
    with pytest.raises(JobParametersInvalidError, match="identifying"):
        JobParameter("a", identifying="N")  # type: ignore[arg-type]


def test_parameter_equality_follows_java_equals() -> None:
    assert JobParameter(1) == JobParameter(Long(1))
    assert JobParameter(1) != JobParameter(Integer(1))
    assert JobParameter(1) != JobParameter(1, identifying=False)
    assert JobParameter(Decimal("1.5")) != JobParameter(Decimal("1.50"))
    assert JobParameter(0.0) != JobParameter(-0.0)
    assert JobParameter(math.nan) == JobParameter(math.nan)
    assert hash(JobParameter(math.nan)) == hash(JobParameter(float("nan")))
    assert JobParameter(True) != JobParameter(1)
    berlin = datetime(2024, 1, 31, 11, tzinfo=BERLIN)
    assert JobParameter(berlin) == JobParameter(INSTANT)
    assert hash(JobParameter(berlin)) == hash(JobParameter(INSTANT))
    assert JobParameter(datetime(2024, 1, 31, 10)) != JobParameter(INSTANT)


def test_parameter_normalises_java_limits() -> None:
    assert (
        JobParameter(datetime(2024, 1, 1, 0, 0, 0, 123999, tzinfo=UTC)).value.microsecond == 123000
    )
    assert str(JobParameter(Decimal("-0.00")).value) == "0.00"
    assert JobParameter(1).java_class == "java.lang.Long"
    assert "java.lang.Long" in repr(JobParameter(1))


def test_job_parameters_mapping_behaviour() -> None:
    parameters = JobParameters({"b": 1, "a": JobParameter("x", identifying=False), "c": 2.5})
    assert list(parameters) == ["b", "a", "c"]
    assert len(parameters) == 3
    assert parameters["b"] == JobParameter(1)
    assert parameters.get_value("c") == 2.5
    assert parameters.get_value("zz", "default") == "default"
    assert list(parameters.identifying()) == ["b", "c"]
    assert list(parameters.non_identifying()) == ["a"]
    assert JobParameters.empty() == JobParameters() and len(JobParameters.empty()) == 0
    assert "JobParameters({'b': JobParameter(value=1, type=java.lang.Long" in repr(parameters)
    with pytest.raises(TypeError):
        parameters["d"] = JobParameter(1)  # type: ignore[index]
    with pytest.raises(AttributeError):
        parameters.extra = 1  # type: ignore[attr-defined]


def test_job_parameters_copies() -> None:
    base = JobParameters({"a": 1, "b": 2})
    changed = base.with_parameter("a", JobParameter(Integer(5), identifying=False))
    assert base.get_value("a") == 1
    assert changed["a"] == JobParameter(Integer(5), identifying=False)
    assert list(changed) == ["a", "b"]
    added = base.with_parameter("c", "x")
    assert list(added) == ["a", "b", "c"] and added["c"] == JobParameter("x")
    merged = base.merge({"b": "two", "d": True})
    assert list(merged) == ["a", "b", "d"]
    assert merged.get_value("b") == "two"
    assert base.merge(JobParameters({"a": 3})).get_value("a") == 3


def test_job_parameters_equality() -> None:
    a = JobParameters({"x": 1, "y": "s"})
    b = JobParameters({"y": "s", "x": 1})
    assert a == b and hash(a) == hash(b)
    assert a != JobParameters({"x": Integer(1), "y": "s"})
    assert a != JobParameters({"x": JobParameter(1, identifying=False), "y": "s"})
    assert a != JobParameters({"x": 1})
    assert a != {"x": 1, "y": "s"}
    assert {a: 1}[b] == 1


@pytest.mark.parametrize("name", ["", 1, None])
def test_job_parameters_names_must_be_non_empty_strings(name: Any) -> None:
    with pytest.raises(JobParametersInvalidError, match="name"):
        JobParameters({name: "v"})


def test_unstable_key_parameters() -> None:
    parameters = JobParameters(
        {
            "when": INSTANT,
            "rate": 0.5,
            "ratio": Float(0.5),
            "local": datetime(2024, 1, 31),
            "n": 1,
            "quiet": JobParameter(1.5, identifying=False),
        }
    )
    assert unstable_key_parameters(parameters) == ["when", "rate", "ratio"]


# ---------------------------------------------------------------------------------------------
# Command-line arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "parameter"),
    [
        ("name=value", "name", JobParameter("value")),
        ("name=", "name", JobParameter("")),
        ("a=b=c", "a", JobParameter("b=c")),
        ("run.id=1(long)", "run.id", JobParameter(Long(1))),
        ("n=0x10(LONG)", "n", JobParameter(Long(16))),
        ("n=42(int)", "n", JobParameter(Integer(42))),
        ("n=42(java.lang.Integer)", "n", JobParameter(Integer(42))),
        ("s=7(short)", "s", JobParameter(Short(7))),
        ("b=7(byte)", "b", JobParameter(Byte(7))),
        ("r=0.5(double)", "r", JobParameter(0.5)),
        ("r=0.1(float)", "r", JobParameter(Float(0.1))),
        ("f=yes(boolean)", "f", JobParameter(True)),
        ("d=2024-01-31T10:00:00Z(date)", "d", JobParameter(INSTANT)),
        ("d=2024-01-31T11:00:00+01:00(date)", "d", JobParameter(INSTANT)),
        ("d=2024-01-31(localdate)", "d", JobParameter(date(2024, 1, 31))),
        ("t=10:00(localtime)", "t", JobParameter(time(10))),
        ("t=2024-01-31T10:00(localdatetime)", "t", JobParameter(datetime(2024, 1, 31, 10))),
        ("x=1.50(bigdecimal)", "x", JobParameter(Decimal("1.50"))),
        ("x=12345678901234567890(biginteger)", "x", JobParameter(BigInteger(12345678901234567890))),
        ("-note=hello", "note", JobParameter("hello", identifying=False)),
        ("-n=1(long)", "n", JobParameter(Long(1), identifying=False)),
        ("f=max(a)(string)", "f", JobParameter("max(a)")),
        ("f=(x y)", "f", JobParameter("(x y)")),
    ],
)
def test_parse_parameter_argument(text: str, name: str, parameter: JobParameter) -> None:
    assert parse_parameter_argument(text) == (name, parameter)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("novalue", "expected name=value"),
        ("=x", "the name is empty"),
        ("-=x", "the name is empty"),
        ("x=1(nosuchtype)", "unknown type 'nosuchtype'"),
        ("f=max(a)", "unknown type 'a'"),
        ("x=1(java.time.Instant)", "unknown type 'java.time.Instant'"),
        ("x=abc(long)", "'abc' is not a valid java.lang.Long"),
        ("x=2024-01-31(date)", "is not a valid java.util.Date"),
        ("x=maybe(boolean)", "is not a valid java.lang.Boolean"),
    ],
)
def test_parse_parameter_argument_errors(text: str, message: str) -> None:
    with pytest.raises(JobParametersInvalidError, match="bad job parameter") as info:
        parse_parameter_argument(text)
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------
# Nanoseconds and classes springbatch-py does not model (values from OpenJDK 17, compat harness)
# ---------------------------------------------------------------------------------------------

PROP = PARTITION_TRANSFERABLE_PROP
#: PARAMETER_TYPE, PARAMETER_VALUE, IDENTIFYING of these parameters as Java writes them.
JAVA_ROWS = {
    "ldt": ("java.time.LocalDateTime", "2024-01-31T10:15:30.123456789", "Y"),
    "lt": ("java.time.LocalTime", "10:15:30.12345678", "Y"),
    "prop": (PROP, "YES", "Y"),
    "note": ("springbatch.compat.Color", "BLUE", "N"),
}
JAVA_KEYS = {5: "09c62cf9402c16cbc968c22cd268a65e", 6: "36d62e9206fed5a9171c242478d1b610"}
JAVA_TEXT_5 = (
    "ldt={value=2024-01-31T10:15:30.123456789, type=class java.time.LocalDateTime, "
    "identifying=true};lt={value=10:15:30.123456780, type=class java.time.LocalTime, "
    f"identifying=true}};prop={{value=YES, type=class {PROP}, identifying=true}};"
)


def _java_parameters() -> JobParameters:
    return JobParameters({n: decode_parameter(n, *row) for n, row in JAVA_ROWS.items()})


def test_java_rows_with_nanoseconds_and_enums_read_exactly() -> None:
    parameters = _java_parameters()
    assert parameters["ldt"].value == LocalDateTime.parse("2024-01-31T10:15:30.123456789")
    assert parameters["lt"].value == LocalTime(10, 15, 30, 123456780)
    assert parameters["prop"].value == JavaEnum(PROP, "YES")
    assert not parameters["note"].identifying
    # Written back unchanged, and the key is the JVM's (it printed all nine digits).
    assert {n: encode_parameter(p) for n, p in parameters.items()} == JAVA_ROWS
    assert hashlib.md5(JAVA_TEXT_5.encode()).hexdigest() == JAVA_KEYS[5]
    for major in (5, 6):
        assert job_key(parameters, major, zone=UTC_ZONE) == JAVA_KEYS[major]


@pytest.mark.parametrize(
    ("value", "key_text", "row_text"),
    [
        # toString() / ISO_LOCAL_TIME of OpenJDK 17 (compat harness, job-keys and parameter-rows).
        (LocalTime(0, 0, 0, 1), "00:00:00.000000001", "00:00:00.000000001"),
        (LocalTime(23, 59, 59, 999999000), "23:59:59.999999", "23:59:59.999999"),
        (LocalTime(12, 0, 0, 100000000), "12:00:00.100", "12:00:00.1"),
        (
            LocalDateTime.parse("2024-01-31T10:15:30.123456789"),
            "2024-01-31T10:15:30.123456789",
            "2024-01-31T10:15:30.123456789",
        ),
    ],
)
def test_nanosecond_texts(value: Any, key_text: str, row_text: str) -> None:
    parameter = JobParameter(value)
    assert encode_parameter(parameter)[1] == row_text
    assert decode_parameter("p", *encode_parameter(parameter)) == parameter
    expected = f"p={{value={key_text}, type=class {parameter.java_class}, identifying=true}};"
    assert (
        job_key(JobParameters({"p": parameter}), 5, zone=UTC_ZONE)
        == hashlib.md5(expected.encode()).hexdigest()
    )


def test_a_built_enum_parameter_equals_the_one_read_back() -> None:
    built = JobParameter(JavaEnum(PROP, "NO"))
    read = decode_parameter("p", *encode_parameter(built))
    assert encode_parameter(built) == (PROP, "NO", "Y")
    assert read == built and hash(read) == hash(built)
    assert JobParameters({"p": read}) == JobParameters({"p": built})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("color=RED(com.example.Color)", JobParameter(JavaEnum("com.example.Color", "RED"))),
        ("-c=BLUE(com.example.Color)", JobParameter(JavaEnum("com.example.Color", "BLUE"), False)),
        (f"p=YES({PROP})", JobParameter(JavaEnum(PROP, "YES"))),
        ("u=a b(com.example.Thing)", JobParameter(JavaValue("com.example.Thing", "a b"))),
        (
            "t=2024-01-31T10:15:30.123456789(localdatetime)",
            JobParameter(LocalDateTime.parse("2024-01-31T10:15:30.123456789")),
        ),
    ],
)
def test_parse_argument_of_other_classes_and_nanoseconds(text: str, expected: JobParameter) -> None:
    assert parse_parameter_argument(text)[1] == expected


def _java_written_failed_execution(repository: Any) -> int:
    """Rows as a Java node writes a FAILED execution with these parameters; the instance id."""
    t = repository.tables
    now = datetime(2024, 1, 31, 10, 0)
    with repository.db.begin() as c:
        c.execute(
            t.job_instance.insert().values(
                job_instance_id=100, version=0, job_name="nanos", job_key=JAVA_KEYS[5]
            )
        )
        c.execute(
            t.job_execution.insert().values(
                job_execution_id=200, version=2, job_instance_id=100, create_time=now,
                start_time=now, end_time=now, status="FAILED", exit_code="FAILED",
                exit_message="", last_updated=now,
            )
        )  # fmt: skip
        c.execute(
            t.job_execution_params.insert(),
            [
                {
                    "job_execution_id": 200,
                    "parameter_name": name,
                    "parameter_type": row[0],
                    "parameter_value": row[1],
                    "identifying": row[2],
                }
                for name, row in JAVA_ROWS.items()
            ],
        )
        c.execute(
            t.job_execution_context.insert().values(
                job_execution_id=200, short_context=EMPTY_JAVA_CONTEXT, serialized_context=None
            )
        )
    return 100


EMPTY_JAVA_CONTEXT = (
    "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AA"
    "AAAAAAB3CAAAABAAAAAAeA=="
)


def test_java_written_execution_with_nanos_and_an_enum_lists_and_restarts(
    tmp_path: Path,
) -> None:
    database = Database.open(f"sqlite:///{tmp_path / 'repo.db'}")
    try:
        create_schema(database, major=5, cluster=False)
        repository = JobRepository(database)
        instance_id = _java_written_failed_execution(repository)
        instance = repository.get_job_instance(instance_id)
        assert instance is not None
        # Reading the instance's executions used to raise on the enum parameter.
        [execution] = repository.get_job_executions(instance)
        assert execution.job_parameters == _java_parameters()
        # Restarting with the parameters read back finds Java's instance (the key matches).
        restarted = repository.create_job_execution("nanos", execution.job_parameters)
        assert restarted.job_instance.id == instance_id
        p = repository.tables.job_execution_params
        with database.connect() as c:
            rows = c.execute(sa.select(p).where(p.c.job_execution_id == restarted.id)).all()
        assert {r.parameter_name: (r.parameter_type, r.parameter_value, r.identifying)
                for r in rows} == JAVA_ROWS  # fmt: skip
    finally:
        database.close()
