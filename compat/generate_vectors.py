"""Write compat/vectors/*.json: what a real JVM writes and computes for fixed inputs.

Run from the repository root with a JDK 17 (the JDBC drivers are not needed):

    python compat/generate_vectors.py

The inputs come from ``random.Random(SEED)`` only, so a run on the same JDK writes the same files
byte for byte. The harness of compat/java (built with ``tests/compat/jvm.py``) answers them:

* ``contexts.json``: typed maps (compat/java/README.md, "Typed values") and the Base64 of Java's
  ``ObjectOutputStream`` of each, as Spring Batch's default serializer writes it;
* ``job_keys.json``: typed parameters, the JVM's default zone, ``JOB_KEY`` for 5.x and 6.0 and
  the texts they hash;
* ``parameter_rows.json``: the same parameters and the ``BATCH_JOB_EXECUTION_PARAMS`` values.

``tests/compat/test_vectors.py`` checks springbatch-py against these files without a JVM.
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from springbatch_py.core.parameters import JobParameter, JobParameters  # noqa: E402
from springbatch_py.java import tostring  # noqa: E402
from springbatch_py.java.parsing import parse_java_float  # noqa: E402
from springbatch_py.java.stream import (  # noqa: E402
    INSTANT_MAX_SECONDS,
    INSTANT_MIN_SECONDS,
)
from springbatch_py.java.types import (  # noqa: E402
    BigInteger,
    Byte,
    Double,
    Duration,
    Float,
    Instant,
    Integer,
    LocalDateTime,
    LocalTime,
    Long,
    Short,
    date_time_of,
    duration_of,
    time_of,
)
from tests.compat import jvm  # noqa: E402
from tests.compat.strategies import (  # noqa: E402
    DATE_MILLIS,
    ENUMS,
    JDK17_SAFE_DOUBLE_DIGITS,
    JDK17_SAFE_DOUBLE_EXPONENTS,
    JDK17_SAFE_FLOAT_DIGITS,
    JDK17_SAFE_FLOAT_EXPONENTS,
    MODERN_MILLIS,
    SPECIAL_STRINGS,
    ZONES,
    distinct_objects,
    java_string,
    jdk17_date_text,
    short_decimal,
)
from tests.compat.typed import to_typed, typed_parameters  # noqa: E402

SEED = 20261123
VECTORS = ROOT / "compat" / "vectors"
FORMAT = 1
CONTEXTS = 300
SHARED_CONTEXTS = 20
PARAMETER_SETS = 300

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOUBLE_EDGES = (0.0, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324, -5e-324,
                 2.2250738585072014e-308, 1.7976931348623157e308, 1e-3, 1e7, 0.1, 1e23)  # fmt: skip


class Values:
    """Random Java-typed values from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # -- strings ----------------------------------------------------------------------------

    def char(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return chr(self.rng.randint(0x20, 0x7E))
        if r < 0.6:
            return chr(self.rng.randint(0, 0x1F))
        if r < 0.85:
            code = self.rng.randint(0x80, 0xFFFF)
            return chr(code if not 0xD800 <= code <= 0xDFFF else code - 0x800)
        if r < 0.95:
            return chr(self.rng.randint(0x10000, 0x10FFFF))
        return chr(self.rng.randint(0xD800, 0xDFFF))  # a lone surrogate

    def string(self, min_size: int = 0, max_size: int = 16) -> str:
        if self.rng.random() < 0.15:
            text = self.rng.choice([s for s in SPECIAL_STRINGS if len(s) >= min_size])
        else:
            text = "".join(self.char() for _ in range(self.rng.randint(min_size, max_size)))
        return java_string(text)

    # -- numbers ----------------------------------------------------------------------------

    def bounded(self, bits: int) -> int:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        r = self.rng.random()
        if r < 0.25:
            edges = [v for v in (low, high, -129, -128, -1, 0, 1, 127, 128) if low <= v <= high]
            return self.rng.choice(edges)
        if r < 0.5:
            return self.rng.randint(max(low, -200), min(high, 200))
        return self.rng.randint(low, high)

    def big_integer(self) -> int:
        r = self.rng.random()
        if r < 0.2:
            return self.rng.choice((0, 1, -1, 16, -16, 17, 2**63 - 1, -(2**63), 2**63, 10**40))
        if r < 0.4:
            return self.rng.randint(-64, 64)
        bits = self.rng.choice((64, 65, 128, 300))
        return self.rng.randint(-(2**bits), 2**bits)

    def double(self) -> Double:
        if self.rng.random() < 0.2:
            return Double(self.rng.choice(_DOUBLE_EDGES))
        bits = self.rng.getrandbits(64)
        return Double(struct.unpack(">d", struct.pack(">Q", bits))[0])

    def float32(self) -> Float:
        if self.rng.random() < 0.2:
            return Float(self.rng.choice((0.0, -0.0, float("nan"), 1.4e-45, 3.4028234663852886e38)))
        bits = self.rng.getrandbits(32)
        return Float(struct.unpack(">f", struct.pack(">I", bits))[0])

    def big_decimal(self) -> Decimal:
        unscaled = self.big_integer()
        r = self.rng.random()
        if r < 0.6:
            scale = self.rng.randint(-20, 20)
        elif r < 0.8:
            scale = self.rng.choice((-(2**31), 2**31 - 1, 0, 1, 2, 15, 16, -1))
        else:
            scale = self.rng.randint(-(2**31), 2**31 - 1)
        digits = tuple(int(d) for d in str(abs(unscaled)))
        return Decimal((int(unscaled < 0), digits, -scale))

    def short_double(self) -> Double:
        if self.rng.random() < 0.1:
            return Double(self.rng.choice((0.0, -0.0, float("nan"), float("inf"), 1e-3, 1e7)))
        low, high = self.rng.choice(JDK17_SAFE_DOUBLE_EXPONENTS)
        count = self.rng.randint(1, JDK17_SAFE_DOUBLE_DIGITS)
        digits = self.rng.randint(10 ** (count - 1), 10**count - 1)
        text = short_decimal(self.rng.random() < 0.5, digits, self.rng.randint(low, high))
        return Double(float(text))

    def short_float(self) -> Float:
        if self.rng.random() < 0.1:
            return Float(self.rng.choice((0.0, -0.0, float("nan"), float("-inf"), 1e-3)))
        low, high = self.rng.choice(JDK17_SAFE_FLOAT_EXPONENTS)
        count = self.rng.randint(1, JDK17_SAFE_FLOAT_DIGITS)
        digits = self.rng.randint(10 ** (count - 1), 10**count - 1)
        text = short_decimal(self.rng.random() < 0.5, digits, self.rng.randint(low, high))
        return Float(parse_java_float(text))

    # -- dates and times --------------------------------------------------------------------

    def java_date(self) -> datetime:
        r = self.rng.random()
        if r < 0.1:
            millis = self.rng.choice((*DATE_MILLIS, 0, -1, 1))
        elif r < 0.6:
            millis = self.rng.randint(*MODERN_MILLIS)
        else:
            millis = self.rng.randint(*DATE_MILLIS)
        return _EPOCH + timedelta(milliseconds=millis)

    def local_date(self) -> date:
        return date.fromordinal(self.rng.randint(1, date(9999, 12, 31).toordinal()))

    def local_time(self) -> time | LocalTime:
        r = self.rng.random()
        hour = self.rng.randint(0, 23)
        if r < 0.2:
            return time(hour)  # Java's shared LocalTime constants
        if r < 0.4:
            return time(hour, self.rng.randint(0, 59), self.rng.randint(0, 59))
        if r < 0.7:
            return time(
                hour,
                self.rng.randint(0, 59),
                self.rng.randint(0, 59),
                self.rng.choice((0, 1, 500000, self.rng.randint(0, 999999))),
            )
        # Nanoseconds: plain times where they are whole microseconds, else a LocalTime.
        nano = self.rng.choice(
            (1, 999_999_999, 123_456_789, 100_000_010, self.rng.randint(0, 999_999_999))
        )
        return time_of(hour, self.rng.randint(0, 59), self.rng.randint(0, 59), nano)

    def local_date_time(self) -> datetime | LocalDateTime:
        return date_time_of(self.local_date(), self.local_time())

    def instant(self) -> Instant:
        if self.rng.random() < 0.1:
            return self.rng.choice(
                (Instant(0), Instant(INSTANT_MIN_SECONDS), Instant(INSTANT_MAX_SECONDS, 999999999))
            )
        seconds = self.rng.choice(
            (
                self.rng.randint(INSTANT_MIN_SECONDS, INSTANT_MAX_SECONDS),
                self.rng.randint(-(10**10), 10**10),
            )
        )
        return Instant(seconds, self.rng.randint(0, 999_999_999))

    def duration(self) -> timedelta | Duration:
        r = self.rng.random()
        if r < 0.15:
            return self.rng.choice(
                (timedelta(0), timedelta.min, timedelta.max, timedelta(microseconds=-1))
            )
        if r < 0.45:
            return timedelta(seconds=self.rng.randint(-(10**6), 10**6))
        if r < 0.7:
            # Nanoseconds, or seconds beyond timedelta: springbatch-py's Duration.
            seconds = self.rng.choice(
                (self.rng.randint(-(10**6), 10**6), self.rng.randint(-(2**63), 2**63 - 1))
            )
            return duration_of(seconds, self.rng.randint(0, 999_999_999))
        return timedelta(
            days=self.rng.randint(-999999999, 999999999),
            microseconds=self.rng.randint(0, 86400 * 10**6 - 1),
        )

    # -- context values ---------------------------------------------------------------------

    def scalar(self) -> Any:
        kinds: list[Callable[[], Any]] = [
            self.string,
            lambda: self.rng.random() < 0.5,
            lambda: Long(self.bounded(64)),
            lambda: self.bounded(64),  # a plain int is a Long
            lambda: Integer(self.bounded(32)),
            lambda: Short(self.bounded(16)),
            lambda: Byte(self.bounded(8)),
            lambda: BigInteger(self.big_integer()),
            self.double,
            self.float32,
            self.big_decimal,
            self.java_date,
            self.local_date,
            self.local_time,
            self.local_date_time,
            self.instant,
            self.duration,
            lambda: self.rng.choice(ENUMS),
        ]
        return self.rng.choice(kinds)()

    def value(self, depth: int) -> Any:
        r = self.rng.random()
        if depth > 0 and r < 0.12:
            return [self.element(depth - 1) for _ in range(self.rng.randint(0, 5))]
        if depth > 0 and r < 0.24:
            return {
                self.string(0, 8): self.element(depth - 1) for _ in range(self.rng.randint(0, 5))
            }
        return self.scalar()

    def element(self, depth: int) -> Any:
        return None if self.rng.random() < 0.25 else self.value(depth)

    def context(self) -> dict[str, Any]:
        size = self.rng.choice((0, 1, 2, 3, 5, 8, 12, 13, 20, 24, 25, 30, 40))
        return {self.string(): self.value(2) for _ in range(size)}

    def shared_context(self) -> dict[str, Any]:
        """A context repeating values the harness and springbatch-py share differently."""
        repeated: list[Any] = ["", BigInteger(self.rng.randint(-16, 16)), Decimal(5), ""]
        context = {self.string(1): self.rng.choice(repeated) for _ in range(self.rng.randint(2, 8))}
        context[""] = ""
        context["list"] = [self.rng.choice(repeated) for _ in range(4)]
        return context

    # -- job parameters ---------------------------------------------------------------------

    def parameter_value(self) -> Any:
        kinds: list[Callable[[], Any]] = [
            self.string,
            lambda: self.rng.random() < 0.5,
            lambda: Long(self.bounded(64)),
            lambda: self.bounded(64),
            lambda: Integer(self.bounded(32)),
            lambda: Short(self.bounded(16)),
            lambda: Byte(self.bounded(8)),
            lambda: BigInteger(self.big_integer()),
            self.short_double,
            self.short_float,
            self.big_decimal,
            self.java_date,
            self.local_date,
            self.local_time,
            self.local_date_time,
            lambda: self.rng.choice(ENUMS),
        ]
        return self.rng.choice(kinds)()

    def parameters(self, zone: str) -> JobParameters:
        values: dict[str, JobParameter] = {}
        for _ in range(self.rng.randint(0, 8)):
            value = self.parameter_value()
            identifying = self.rng.random() < 0.7
            if (
                identifying
                and isinstance(value, datetime)
                and value.tzinfo is not None
                and jdk17_date_text(value, zone)
                != tostring.java_date_to_string(value, ZoneInfo(zone))
            ):
                # JDK 17 names this zone differently from springbatch-py (JDK 19+ names, or a
                # known gap): keep the value, out of the key (strategies.JDK17_DATE_NAMES).
                identifying = False
            values[self.string(1, 12)] = JobParameter(value, identifying)
        return JobParameters(values)


# -- the harness --------------------------------------------------------------------------------


def jdk_version(harness: jvm.Harness) -> str:
    done = subprocess.run(
        [harness.java, "-XshowSettings:properties", "-version"],
        capture_output=True,
        text=True,
        check=True,
    )
    props = {}
    for line in done.stderr.splitlines():
        name, sep, value = line.strip().partition(" = ")
        if sep:
            props[name] = value
    return f"{props.get('java.vm.vendor', '?')} {props.get('java.runtime.version', '?')}"


def ask(harness: jvm.Harness, command: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = harness.ask_all(command, requests)
    for req, answer in zip(requests, answers, strict=True):
        if "error" in answer:
            raise RuntimeError(f"{command} refused {req!r}: {answer['error']}")
    return answers


def write(path: Path, header: dict[str, Any], vectors: list[dict[str, Any]]) -> None:
    """One vector per line (readable diffs), ASCII only (lone surrogates as escapes)."""
    lines = [json.dumps(v, ensure_ascii=True, separators=(",", ":")) for v in vectors]
    head = json.dumps({**header, "count": len(vectors)}, ensure_ascii=True)
    path.write_text(
        '{"header":' + head + ',\n"vectors":[\n' + ",\n".join(lines) + "\n]}\n", encoding="ascii"
    )


def main() -> None:
    rng = random.Random(SEED)
    values = Values(rng)
    with tempfile.TemporaryDirectory() as tmp:
        harness = jvm.build(Path(tmp), drivers=False)
        header = {
            "format": FORMAT,
            "generator": "compat/generate_vectors.py",
            "seed": SEED,
            "jdk": jdk_version(harness),
        }

        # Contexts: distinct_objects() makes Python's bytes comparable with the harness's (see
        # tests/compat/test_contexts.py); the "shared" ones keep the repeats, to be read only.
        contexts = [(distinct_objects(values.context()), True) for _ in range(CONTEXTS)]
        contexts += [(values.shared_context(), False) for _ in range(SHARED_CONTEXTS)]
        typed = [to_typed(c) for c, _ in contexts]
        answers = ask(
            harness, "contexts-write", [{"id": i, "value": t} for i, t in enumerate(typed)]
        )
        write(
            VECTORS / "contexts.json",
            header,
            [
                {"value": t, "base64": a["base64"], "same_bytes": same}
                for t, a, (_, same) in zip(typed, answers, contexts, strict=True)
            ],
        )

        sets = [
            (ZONES[i % len(ZONES)], values.parameters(ZONES[i % len(ZONES)]))
            for i in range(PARAMETER_SETS)
        ]
        requests = [
            {"id": i, "zone": zone, "parameters": typed_parameters(p)}
            for i, (zone, p) in enumerate(sets)
        ]
        keys = ask(harness, "job-keys", requests)
        write(
            VECTORS / "job_keys.json",
            header,
            [
                {
                    "zone": r["zone"],
                    "parameters": r["parameters"],
                    **{k: a[k] for k in ("key5", "key6", "text5", "text6")},
                }
                for r, a in zip(requests, keys, strict=True)
            ],
        )
        rows = ask(harness, "parameter-rows", requests)
        write(
            VECTORS / "parameter_rows.json",
            header,
            [
                {"zone": r["zone"], "parameters": r["parameters"], "rows": a["rows"]}
                for r, a in zip(requests, rows, strict=True)
            ],
        )
    for name in ("contexts.json", "job_keys.json", "parameter_rows.json"):
        print(f"{VECTORS / name}: {(VECTORS / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
