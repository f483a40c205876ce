"""Value formats without a database: the Prometheus text format and the Java value formats."""

from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from springbatch_py.observe.metrics import MetricFamily, render
from springbatch_py.observe.views import (
    Health,
    HealthReport,
    jackson_date,
    java_date_string,
    java_hash_map_order,
    java_string_hash,
)

# -- a tiny strict parser of the text format (independent of prometheus_client) ----------------

_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})?'
    r" (?P<value>\S+)$"
)
_LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\\n]|\\[\\"n])*)"')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], text)


def parse(text: str) -> dict[str, dict[str, object]]:
    """Families by name: help, type and samples ``(name, labels, value)``; asserts the rules of
    format 0.0.4 that matter here (HELP then TYPE before samples, samples of a family together,
    one trailing newline)."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    families: dict[str, dict[str, object]] = {}
    current: str | None = None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in families, f"{name} declared twice"
            families[name] = {"help": _unescape(help_text), "type": None, "samples": []}
            current = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name == current and kind in ("gauge", "counter", "histogram"), line
            families[name]["type"] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            assert current is not None and match["name"].startswith(current), line
            labels = {k: _unescape(v) for k, v in _LABEL.findall(match["labels"] or "")}
            value = float(match["value"].replace("+Inf", "inf"))
            families[current]["samples"].append((match["name"], labels, value))  # type: ignore[attr-defined]
    return families


def _family() -> list[MetricFamily]:
    gauge = MetricFamily("demo_nodes", "gauge", 'Nodes with "quotes", a \\ and a\nnewline.')
    gauge.add(2, status="ACTIVE").add(0, status='odd "value"\\\n')
    histogram = MetricFamily("demo_latency_seconds", "histogram", "Latency.")
    histogram.observe_all([0.1, 1, 10], [0.05, 0.1, 0.5, 3, 100], job="a")
    histogram.observe_all([0.1, 1, 10], [], job="b")
    return [gauge, histogram]


def test_text_format_parses_with_our_parser() -> None:
    families = parse(render(_family()))
    gauge = families["demo_nodes"]
    assert gauge["type"] == "gauge"
    assert gauge["help"] == 'Nodes with "quotes", a \\ and a\nnewline.'
    assert gauge["samples"] == [
        ("demo_nodes", {"status": "ACTIVE"}, 2.0),
        ("demo_nodes", {"status": 'odd "value"\\\n'}, 0.0),
    ]
    histogram = families["demo_latency_seconds"]
    assert histogram["type"] == "histogram"
    a = [(n, labels, v) for n, labels, v in histogram["samples"] if labels["job"] == "a"]  # type: ignore[attr-defined]
    buckets = [(labels["le"], v) for n, labels, v in a if n.endswith("_bucket")]
    assert buckets == [("0.1", 2.0), ("1", 3.0), ("10", 4.0), ("+Inf", 5.0)]  # cumulative
    sums = {n: v for n, labels, v in a if not n.endswith("_bucket")}
    assert sums == {"demo_latency_seconds_sum": 103.65, "demo_latency_seconds_count": 5.0}
    b = [v for n, labels, v in histogram["samples"] if labels["job"] == "b"]  # type: ignore[attr-defined]
    assert b == [0.0] * 6


def test_text_format_parses_with_prometheus_client() -> None:
    parsed = {f.name: f for f in text_string_to_metric_families(render(_family()))}
    assert parsed["demo_nodes"].type == "gauge"
    assert parsed["demo_nodes"].documentation == 'Nodes with "quotes", a \\ and a\nnewline.'
    odd = next(s for s in parsed["demo_nodes"].samples if s.value == 0)
    assert odd.labels == {"status": 'odd "value"\\\n'}
    histogram = parsed["demo_latency_seconds"]
    assert histogram.type == "histogram"
    inf = [s for s in histogram.samples if s.labels.get("le") == "+Inf" and s.labels["job"] == "a"]
    count = [s for s in histogram.samples if s.name.endswith("_count") and s.labels["job"] == "a"]
    assert inf[0].value == count[0].value == 5
    assert math.isclose(
        next(
            s.value for s in histogram.samples if s.name.endswith("_sum") and s.labels["job"] == "a"
        ),
        103.65,
    )


def test_invalid_names_are_refused() -> None:
    with pytest.raises(ValueError, match="metric name"):
        MetricFamily("2bad", "gauge", "x")
    with pytest.raises(ValueError, match="label name"):
        MetricFamily("ok", "gauge", "x").add(1, **{"__reserved": "x"})
    with pytest.raises(ValueError, match="bucket label"):
        MetricFamily("ok", "histogram", "x").observe_all([1], [0.5], le="1")
    with pytest.raises(ValueError, match="not a histogram"):
        MetricFamily("ok", "gauge", "x").observe_all([1], [0.5])


# -- Java value formats ------------------------------------------------------------------------


def test_java_string_hash_matches_java() -> None:
    # Values printed by Java's "...".hashCode().
    assert java_string_hash("") == 0
    assert java_string_hash("a") == 97
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -(2**31)  # a known Integer.MIN_VALUE


def test_hash_map_order_is_bucket_then_insertion_order() -> None:
    # "Aa" and "BB" collide in Java (both 2112): same bucket, insertion order kept.
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112
    assert list(java_hash_map_order({"BB": 1, "Aa": 2})) == ["BB", "Aa"]
    assert list(java_hash_map_order({"Aa": 2, "BB": 1})) == ["Aa", "BB"]
    # 'a' (97) is bucket 1, 'b' (98) bucket 2, 'q' (113) bucket 1 of 16.
    assert list(java_hash_map_order({"b": 0, "q": 0, "a": 0})) == ["q", "a", "b"]


def test_dates_as_the_actuator_writes_them() -> None:
    new_york = ZoneInfo("America/New_York")
    naive = datetime(2026, 7, 10, 11, 46, 19, 954321)  # a wall-clock time of New York
    assert jackson_date(naive, new_york) == "2026-07-10T15:46:19.954Z"
    assert java_date_string(naive, new_york) == "Fri Jul 10 11:46:19 EDT 2026"
    assert java_date_string(datetime(2026, 1, 5, 8, 0, 1), ZoneInfo("UTC")) == (
        "Mon Jan 05 08:00:01 UTC 2026"
    )


def test_health_aggregates_like_spring_boot() -> None:
    up = HealthReport({"b": Health("UP"), "a": Health("UNKNOWN", {"x": "1"})})
    assert up.status == "UP" and up.http_status == 200
    assert list(up.to_json()["components"]) == ["a", "b"]
    assert up.to_json()["components"]["b"] == {"status": "UP"}
    down = HealthReport({"a": Health("UP"), "b": Health("OUT_OF_SERVICE"), "c": Health("DOWN")})
    assert down.status == "DOWN" and down.http_status == 503
    assert HealthReport({"a": Health("OUT_OF_SERVICE")}).http_status == 503
