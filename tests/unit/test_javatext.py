"""``Float.parseFloat`` emulation at the ends of the 32-bit range."""

from __future__ import annotations

import math

import pytest

from springbatch_py.java.parsing import parse_java_float
from springbatch_py.java.types import Float
from springbatch_py.repository.serialization.jackson import Jackson2ContextSerializer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Below half the smallest subnormal (0.7006e-45) Java rounds to zero, keeping the sign.
        ("1e-50", 0.0),
        ("-1e-50", -0.0),
        ("7e-46", 0.0),
        ("7.1e-46", 1.401298464324817e-45),
        ("1.4e-45", 1.401298464324817e-45),
        ("3.4028235e38", 3.4028234663852886e38),
        ("3.5e38", math.inf),
        ("0", 0.0),
    ],
)
def test_parse_java_float_extremes(text: str, expected: float) -> None:
    value = parse_java_float(text)
    assert value == expected
    assert math.copysign(1.0, value) == math.copysign(1.0, expected)


def test_jackson_reads_a_float_that_underflows() -> None:
    text = '{"@class":"java.util.HashMap","f":["java.lang.Float",1.0E-50]}'
    value = Jackson2ContextSerializer().deserialize(text)["f"]
    assert isinstance(value, Float) and value == 0.0
