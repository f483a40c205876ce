"""Execution contexts against a real JVM: Java serialization both ways, byte for byte.

Three properties over random contexts (:func:`tests.compat.strategies.contexts`), each checked by
the harness of compat/java through one long-running JVM per command, all three on every
generated context (generating a context costs far more than checking it):

* Python -> Java: what springbatch-py writes, ``ObjectInputStream`` reads back as the same Java
  values (same classes, same bits);
* byte identity: for the same map, ``ObjectOutputStream`` and springbatch-py write the same
  bytes, so a Java node cannot tell which runtime wrote a context;
* Java -> Python: what ``ObjectOutputStream`` writes, springbatch-py reads as the same values.

The spot tests below run the same three checks on hand-picked edge values, so that a regression
names the value that broke.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
)
from springbatch_py.repository.serialization.base import EntryOrder
from springbatch_py.repository.serialization.java import JavaSerializationContextSerializer
from tests.compat.jvm import LineService
from tests.compat.strategies import COLOR, contexts, distinct_objects
from tests.compat.typed import from_typed, java_equal, to_typed

EXAMPLES = 2000
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

JAVA_ORDER = JavaSerializationContextSerializer(entry_order="java")
#: Up to 32 entries: enough for every HashMap capacity a context normally has (16, 32 and, above
#: 24 entries, 64) while keeping 2000 examples, each checked three ways, within about half a
#: minute; the spot test "many keys" covers larger tables.
CONTEXTS = contexts(max_size=32)


def _answer(service: LineService, request: dict[str, Any]) -> dict[str, Any]:
    answer = service.ask(request)
    assert "error" not in answer, f"the JVM refused {request!r}: {answer['error']}"
    return answer


def java_reads(service: LineService, base64: str) -> dict[str, Any]:
    """The context the JVM reads from ``base64``, as Python values."""
    answer = _answer(service, {"id": 0, "base64": base64})
    value: dict[str, Any] = from_typed(answer["value"])
    return value


def java_writes(service: LineService, context: dict[str, Any]) -> str:
    """The Base64 the JVM writes for ``context`` (a ``HashMap`` built in the dict's order)."""
    answer = _answer(service, {"id": 0, "value": to_typed(context)})
    base64: str = answer["base64"]
    return base64


def check_python_to_java(
    service: LineService, context: dict[str, Any], order: EntryOrder = "java"
) -> None:
    written = JavaSerializationContextSerializer(entry_order=order).serialize(context)
    read = java_reads(service, written)
    assert java_equal(read, context), f"Java read {read!r}\nPython wrote {context!r}"


def check_same_bytes(service: LineService, context: dict[str, Any]) -> None:
    # Both runtimes share an object only when it is the *same* object (Java handles), and the
    # harness makes its objects differently from the way springbatch-py assumes Java code makes
    # them: it shares every empty string (its JSON parser returns the one "" literal) and never
    # shares BigInteger/BigDecimal (it builds them with `new`), while springbatch-py never shares
    # strings and shares valueOf's cached BigInteger/BigDecimal constants. Both streams are valid
    # Java and read back equal (the Java -> Python test covers the harness's sharing); only a
    # value repeated within one context writes a reference on one side and an object on the
    # other. distinct_objects() replaces such repeats, and nothing else is excluded.
    # (Not reachable with random keys, hence not excluded: a HashMap bucket of more than 8 keys
    # in a table of 64 buckets or more becomes a tree whose order springbatch-py does not model.)
    context = distinct_objects(context)
    java = java_writes(service, context)
    python = JAVA_ORDER.serialize(context)
    assert python == java, f"bytes differ for {context!r}"


def check_java_to_python(service: LineService, context: dict[str, Any]) -> None:
    written = java_writes(service, context)
    read = JAVA_ORDER.deserialize(written)
    assert java_equal(read, context), f"Python read {read!r}\nJava wrote {context!r}"


# -- properties ---------------------------------------------------------------------------------


@SETTINGS
@given(context=CONTEXTS, order=st.sampled_from(["java", "insertion"]))
def test_contexts_cross_between_python_and_java(
    contexts_read: LineService,
    contexts_write: LineService,
    context: dict[str, Any],
    order: EntryOrder,
) -> None:
    # Python -> Java: "java" is what a Java node would write; "insertion" (springbatch-py's
    # default) must read back the same in Java too, whatever the order of the entries.
    check_python_to_java(contexts_read, context, order)
    # Byte identity, then Java -> Python, on the same context: each check fails with its own
    # message, and Hypothesis reports (and shrinks) each distinct failure separately.
    check_same_bytes(contexts_write, context)
    check_java_to_python(contexts_write, context)


# -- spot tests ---------------------------------------------------------------------------------


def _date(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


SPOTS: dict[str, dict[str, Any]] = {
    "empty": {},
    "doubles": {
        "nan": Double(math.nan),
        "negative zero": Double(-0.0),
        "zero": 0.0,
        "infinity": math.inf,
        "minus infinity": -math.inf,
        "smallest subnormal": 5e-324,
        "largest": 1.7976931348623157e308,
        "one tenth": 0.1,
    },
    "floats": {
        "nan": Float(math.nan),
        "negative zero": Float(-0.0),
        "smallest subnormal": Float(1.4e-45),
        "largest": Float(3.4028234663852886e38),
        "one tenth": Float(0.1),
    },
    "strings": {
        "empty": "",
        "nul": "a\x00b",
        "lone high surrogate": "\ud800",
        "lone low surrogate": "\udfff",
        "surrogate between letters": "x\ud83dy",
        "non-BMP": "\U0001f600 \U00010000 \U0010ffff",
        "two and three byte": "\u07ff\u0080\u0800\uffff",
        "\ud800 key with a lone surrogate": "v",
        "\U0001f600 non-BMP key": "v",
        "controls": "\r\n\t\x1b\x7f\u2028\u2029",
    },
    "long string": {"long": "\u20ac" * 30_000},  # 90,000 bytes: TC_LONGSTRING
    "integers": {
        "long": Long(-(2**63)),
        "plain int is a Long": 2**63 - 1,
        "cached long": Long(127),
        "uncached long": Long(128),
        "integer": Integer(-(2**31)),
        "short": Short(32767),
        "byte": Byte(-128),
        "big integer": BigInteger(-(2**200)),
        "small big integer": BigInteger(16),
        "booleans": [True, False, True],
    },
    "big decimals": {
        "scale max": Decimal((0, (1, 2, 3), -(2**31 - 1))),
        "scale min": Decimal((1, (9,) * 40, 2**31)),
        "negative scale": Decimal("1E+5"),
        "keeps scale": Decimal("1.50"),
        "zero with scale": Decimal("0.000"),
        "huge unscaled": Decimal((1, tuple(int(d) for d in str(10**100 + 1)), -50)),
        "long min unscaled": Decimal(-(2**63)),
    },
    "dates": {
        "before 1900": _date(1850, 6, 1, 12, 30, 15, 250000),
        "one millisecond before the epoch": _date(1969, 12, 31, 23, 59, 59, 999000),
        "year 1": _date(1, 1, 1),
        "gregorian cutover": _date(1582, 10, 15),
        "last": _date(9999, 12, 31, 23, 59, 59, 999000),
        "local date": date(1, 1, 1),
        "local date max": date(9999, 12, 31),
        "local time": time(23, 59, 59, 999999),
        "local time on the hour": time(10),
        "local time on the hour again": time(10),
        "local date time": datetime(1969, 7, 20, 20, 17, 40, 1),
        "instant": Instant(-(10**12), 999_999_999),
        "instant epoch": Instant(0),
        "duration": timedelta(days=-1, microseconds=1),
        "duration zero": timedelta(0),
    },
    "enums": {
        "transferable": JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES"),
        "transferable again": JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES"),
        "not transferable": JavaEnum(PARTITION_TRANSFERABLE_PROP, "NO"),
        "color": JavaEnum(COLOR, "GREEN"),
        "in a list": [JavaEnum(COLOR, "RED"), JavaEnum(PARTITION_TRANSFERABLE_PROP, "NO")],
    },
    "nested": {
        "list": [None, Long(1), [None, [Integer(2), {"deep": [None]}]], {}],
        "map": {"a": None, "b": {"c": [Float(1.5), "x"], "d": {}}, "": []},
        "empty list": [],
        "empty map": {},
    },
    "cluster partition": {
        "start": Long(0),
        "end": Long(10),
        "delay_ms": Long(20),
        "AppUse_Cluster-Node-Identifier": "java-0f0e0d0c",
        "AppUse_Is-Transferable-Identifier": JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES"),
        "SimpleStepExecutionSplitter.GRID_SIZE": Long(12),
        "batch.version": "5.2.6",
    },
    "many keys": {f"key.{i}": Integer(i) for i in range(200)},
}


@pytest.mark.parametrize("name", list(SPOTS))
def test_spot_python_to_java(contexts_read: LineService, name: str) -> None:
    check_python_to_java(contexts_read, SPOTS[name])
    check_python_to_java(contexts_read, SPOTS[name], "insertion")


@pytest.mark.parametrize("name", list(SPOTS))
def test_spot_same_bytes(contexts_write: LineService, name: str) -> None:
    check_same_bytes(contexts_write, SPOTS[name])


@pytest.mark.parametrize("name", list(SPOTS))
def test_spot_java_to_python(contexts_write: LineService, name: str) -> None:
    check_java_to_python(contexts_write, SPOTS[name])


def test_python_reads_java_references(contexts_write: LineService) -> None:
    # The harness shares the "" literal, so the second empty string is a back-reference.
    context = {"": "", "a": [""], "b": {"": ""}}
    assert JAVA_ORDER.deserialize(java_writes(contexts_write, context)) == context


def test_java_nanoseconds_are_kept(contexts_write: LineService) -> None:
    # Java's java.time values hold nanoseconds, Python's microseconds: springbatch-py keeps
    # LocalTime, LocalDateTime, Duration and Instant exact (its own value types where Python's
    # cannot hold them) and writes them back byte for byte.
    typed = {
        "t": "Map",
        "v": {
            "time": {"t": "LocalTime", "v": "10:00:00.123456789"},
            "date time": {"t": "LocalDateTime", "v": "2024-01-31T10:00:00.000000999"},
            "duration": {"t": "Duration", "s": "-1", "n": 999},
            "long duration": {"t": "Duration", "s": str(2**63 - 1), "n": 0},
            "instant": {"t": "Instant", "s": "0", "n": 1},
        },
    }
    answer = _answer(contexts_write, {"id": 0, "value": typed})
    read = JAVA_ORDER.deserialize(answer["base64"])
    assert java_equal(read, from_typed(typed)), read
    assert read["time"] == LocalTime(10, 0, 0, 123456789)
    assert read["date time"] == LocalDateTime(date(2024, 1, 31), LocalTime(10, 0, 0, 999))
    assert read["duration"] == Duration(-1, 999)
    assert read["long duration"] == Duration(2**63 - 1)
    assert read["instant"] == Instant(0, 1)
    answer = _answer(contexts_write, {"id": 1, "value": to_typed(read)})
    assert JAVA_ORDER.serialize(read) == answer["base64"]
