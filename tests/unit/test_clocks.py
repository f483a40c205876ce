"""The clock check: a time-zone difference is a persistent offset of whole quarter hours from a
live node; a late heartbeat is lateness."""

from __future__ import annotations

from datetime import datetime

import pytest

from springbatch_py.cluster.clocks import PERSISTENCE, ClockCheck, zone_quarters
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.store import NodeRow

HOUR = 3600_000
SETTINGS = ClusterSettings(
    node_id_prefix="t",
    heartbeat_interval=200,
    unreachable_node_threshold=1000,
    node_cleanup_threshold=2000,
)


def row(node: str, beat: int, age_ms: float) -> NodeRow:
    """A node row whose heartbeat number ``beat`` is ``age_ms`` old."""
    return NodeRow(node, None, datetime(2024, 1, 1, 0, 0, beat % 60), "ACTIVE", "h", 0, age_ms)


@pytest.mark.parametrize(
    ("age_ms", "quarters"),
    [
        (0, 0),
        (1_500, 0),  # late
        (45_000, 0),  # very late: still lateness
        (7 * 60_000, 0),  # between two quarter hours
        (15 * 60_000 + 2_000, 1),
        (-9 * HOUR, -36),
        (5 * HOUR + 45 * 60_000 + 800, 23),  # Nepal
        (-(5 * HOUR + 30 * 60_000), -22),  # India
    ],
)
def test_zone_quarters(age_ms: float, quarters: int) -> None:
    assert zone_quarters(age_ms, 60_000) == quarters


def test_a_late_heartbeat_is_not_a_time_zone() -> None:
    """The defect: a node that heartbeats late (advancing, older than the unreachable threshold)
    was reported "about 0.0 h behind" and the sweeps were suspended."""
    check = ClockCheck("me", SETTINGS, "UTC")
    for beat in range(2 * PERSISTENCE):
        found = check.observe([row("me", beat, 0), row("slow", beat, 1_500 + 300 * beat)])
        assert found == {}
        assert not check.holds_sweeps
    assert check.mismatches == {}


def test_zones_ahead_and_behind_are_mismatches_once_they_persist() -> None:
    check = ClockCheck("me", SETTINGS, "UTC")

    def snapshot(beat: int) -> list[NodeRow]:
        return [
            row("me", beat, 0),
            row("tokyo", beat, -9 * HOUR + 150),
            row("newyork", beat, 5 * HOUR + 120),
            row("kathmandu", beat, -(5 * HOUR + 45 * 60_000)),
            row("late", beat, 2_000),
        ]

    for beat in range(PERSISTENCE - 1):
        assert check.observe(snapshot(beat)) == {}
        assert check.holds_sweeps  # not sure yet: hold the sweeps meanwhile
    found = check.observe(snapshot(PERSISTENCE))
    assert set(found) == {"tokyo", "newyork", "kathmandu"}
    assert found["tokyo"].offset_hours == -9.0 and found["newyork"].offset_hours == 5.0
    assert found["kathmandu"].offset_hours == -5.75
    assert "ahead of" in found["tokyo"].describe("UTC")
    assert "about 5 h behind" in found["newyork"].describe("UTC")
    # Fixed: they leave the cluster or change zone.
    assert check.observe([row("me", 9, 0), row("late", 9, 100)]) == {}
    assert not check.holds_sweeps


def test_a_behind_offset_needs_an_advancing_heartbeat() -> None:
    """A row frozen five hours old is a dead node whose age happens to be round, not a zone."""
    check = ClockCheck("me", SETTINGS, "UTC")
    for step in range(2 * PERSISTENCE):
        assert check.observe([row("me", step, 0), row("dead", 0, 5 * HOUR + step * 1000)]) == {}


def test_an_offset_must_stay_on_one_multiple() -> None:
    check = ClockCheck("me", SETTINGS, "UTC")
    ages = [1 * HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 5 * HOUR]  # jumps: never the same twice
    for beat, age in enumerate(ages):
        assert check.observe([row("me", beat, 0), row("odd", beat, age)]) == {}


def test_the_error_is_logged_once_per_episode(caplog: pytest.LogCaptureFixture) -> None:
    check = ClockCheck("me", SETTINGS, "UTC")
    for beat in range(2 * PERSISTENCE):
        check.observe([row("me", beat, 0), row("tokyo", beat, -9 * HOUR)])
    assert len([r for r in caplog.records if "time zones differ" in r.getMessage()]) == 1
