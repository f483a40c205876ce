"""Java-typed values: ``same_java_value``, nanosecond times, enums and other classes."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

import pytest

from springbatch_py.core.context import ExecutionContext
from springbatch_py.java.types import (
    PARTITION_TRANSFERABLE_PROP,
    Duration,
    Integer,
    JavaEnum,
    JavaValue,
    LocalDateTime,
    LocalTime,
    Long,
    date_time_of,
    duration_of,
    is_class_name,
    java_class_of,
    same_java_value,
    time_of,
)


def test_nulls_inside_lists_and_maps_compare() -> None:
    assert same_java_value([None, Long(1)], [None, Long(1)])
    assert same_java_value({"a": None, "b": [None]}, {"a": None, "b": [None]})
    assert not same_java_value([None], [Long(1)])
    assert not same_java_value([Long(1)], [None])
    assert not same_java_value({"a": None}, {"a": "x"})
    assert same_java_value(None, None)
    assert not same_java_value(None, [])


def test_classes_still_count() -> None:
    assert not same_java_value([Long(1)], [Integer(1)])
    assert same_java_value([math.nan], [math.nan])


def test_context_accepts_a_collection_with_nulls_twice() -> None:
    context = ExecutionContext({"items": [None, "a"], "map": {"k": None}})
    context.clear_dirty()
    context["items"] = [None, "a"]
    context["map"] = {"k": None}
    assert not context.dirty
    context["items"] = [None, "b"]
    assert context.dirty


# -- nanoseconds ---------------------------------------------------------------------------------


def test_local_time_keeps_nanoseconds_and_equals_the_python_time() -> None:
    nanos = LocalTime(10, 15, 30, 123456789)
    assert (nanos.hour, nanos.minute, nanos.second, nanos.nano) == (10, 15, 30, 123456789)
    assert nanos != time(10, 15, 30, 123456)  # never equal to a cut value
    assert time(10, 15, 30, 123456) != nanos
    whole = LocalTime(10, 15, 30, 123456000)
    assert whole == time(10, 15, 30, 123456) and time(10, 15, 30, 123456) == whole
    assert hash(whole) == hash(time(10, 15, 30, 123456))
    assert whole.to_time() == time(10, 15, 30, 123456)
    assert LocalTime.of(time(10), nano=5) == LocalTime(10, 0, 0, 5)
    assert time(10) < LocalTime(10, 0, 0, 1) < time(10, 0, 0, 1)
    assert java_class_of(nanos) == "java.time.LocalTime"


def test_local_date_time_keeps_nanoseconds_and_equals_the_python_datetime() -> None:
    value = LocalDateTime.of(datetime(2024, 1, 31, 10, 15, 30), nano=123456789)
    assert value.nano == 123456789 and value.local_date == date(2024, 1, 31)
    assert value != datetime(2024, 1, 31, 10, 15, 30, 123456)
    whole = LocalDateTime.of(datetime(2024, 1, 31, 10, 15, 30, 5))
    assert whole == datetime(2024, 1, 31, 10, 15, 30, 5)
    assert hash(whole) == hash(datetime(2024, 1, 31, 10, 15, 30, 5))
    assert whole.to_datetime() == datetime(2024, 1, 31, 10, 15, 30, 5)
    assert datetime(2024, 1, 31, 10, 15, 30, 123456) < value < datetime(2024, 1, 31, 10, 15, 31)
    assert java_class_of(value) == "java.time.LocalDateTime"
    # An aware datetime is a java.util.Date, never equal to a LocalDateTime.
    assert value != datetime(2024, 1, 31, 10, 15, 30, 123456, tzinfo=UTC)


def test_to_python_refuses_to_cut_nanoseconds() -> None:
    with pytest.raises(ValueError, match="nanoseconds"):
        LocalTime(10, 0, 0, 1).to_time()
    with pytest.raises(ValueError, match="nanoseconds"):
        LocalDateTime(date(2024, 1, 31), LocalTime(10, 0, 0, 999)).to_datetime()


@pytest.mark.parametrize(
    "fields", [(24, 0, 0, 0), (0, 60, 0, 0), (0, 0, 60, 0), (0, 0, 0, 10**9), (0, 0, 0, -1)]
)
def test_local_time_ranges(fields: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        LocalTime(*fields)


def test_local_date_time_needs_a_date_and_a_local_time() -> None:
    with pytest.raises(ValueError):
        LocalDateTime(datetime(2024, 1, 31), LocalTime(0))
    with pytest.raises(ValueError):
        LocalDateTime(date(2024, 1, 31), time(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="zone"):
        LocalDateTime.of(datetime(2024, 1, 31, tzinfo=UTC))


def test_python_values_where_they_fit() -> None:
    assert type(time_of(10, 0, 0, 123456000)) is time
    assert time_of(10, 0, 0, 123456789) == LocalTime(10, 0, 0, 123456789)
    assert type(date_time_of(date(2024, 1, 31), LocalTime(10, 0, 0, 1000))) is datetime
    assert isinstance(date_time_of(date(2024, 1, 31), LocalTime(10, 0, 0, 1)), LocalDateTime)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # LocalTime.toString() / LocalDateTime.toString() of OpenJDK 17 (compat harness).
        (LocalTime(10, 15, 30, 123456780), "10:15:30.123456780"),
        (LocalTime(0, 0, 0, 1), "00:00:00.000000001"),
        (LocalTime(23, 59, 59, 999999000), "23:59:59.999999"),
        (LocalTime(12, 0, 0, 100000000), "12:00:00.100"),
        (LocalTime(12), "12:00"),
        (LocalDateTime.parse("2024-01-31T10:15:30.123456789"), "2024-01-31T10:15:30.123456789"),
    ],
)
def test_str_is_javas_to_string(value: LocalTime | LocalDateTime, text: str) -> None:
    assert str(value) == text


def test_parse_reads_nanoseconds() -> None:
    assert LocalTime.parse("10:15:30.123456789") == LocalTime(10, 15, 30, 123456789)
    assert LocalTime.parse("10:15") == LocalTime(10, 15)
    assert LocalDateTime.parse("2024-01-31T10:15:30.1") == datetime(2024, 1, 31, 10, 15, 30, 100000)


# -- classes springbatch-py does not model -------------------------------------------------------


def test_enum_and_other_values_keep_class_and_text() -> None:
    enum = JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES")
    other = JavaValue(PARTITION_TRANSFERABLE_PROP, "YES")
    assert enum == other and other == enum and hash(enum) == hash(other)
    assert enum != JavaEnum(PARTITION_TRANSFERABLE_PROP, "NO")
    assert other != JavaValue("com.example.Other", "YES")
    assert java_class_of(other) == PARTITION_TRANSFERABLE_PROP
    assert str(other) == "YES" and enum.text == "YES"
    assert same_java_value(enum, other)
    assert not same_java_value(other, "YES")


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("com.example.Color", True),
        ("com.example.Outer$Inner", True),
        ("io.github.x_y.E1", True),
        ("Color", False),
        ("", False),
        ("com..Color", False),
        ("com.example.", False),
        ("1com.Color", False),
        ("com.exa mple.Color", False),
    ],
)
def test_is_class_name(text: str, valid: bool) -> None:
    assert is_class_name(text) is valid


def test_duration_keeps_nanoseconds_and_javas_range() -> None:
    assert Duration(-1, 999) != timedelta(seconds=-1)
    assert Duration.of(timedelta(microseconds=-1)) == Duration(-1, 999_999_000)
    assert Duration(-1, 999_999_000) == timedelta(microseconds=-1)
    assert hash(Duration(5, 1000)) == hash(timedelta(seconds=5, microseconds=1))
    assert duration_of(0, -1) == Duration(-1, 999_999_999)  # nanos carry into the seconds
    assert type(duration_of(5, 1000)) is timedelta
    assert type(duration_of(2**63 - 1, 0)) is Duration  # beyond timedelta
    assert java_class_of(Duration(1)) == "java.time.Duration"
    assert timedelta(0) < Duration(0, 1) < timedelta(microseconds=1)
    with pytest.raises(ValueError):
        Duration(0, 1).to_timedelta()
    with pytest.raises(ValueError):
        Duration(2**63)
    with pytest.raises(ValueError):
        Duration(0, 10**9)
