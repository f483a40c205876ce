"""Noticing nodes whose session time zone disagrees with this node's.

Liveness is "the database clock minus a heartbeat time". On PostgreSQL (and in Oracle's column
defaults) both sides follow the session's time zone, so a node whose session zone differs from
the others' writes heartbeats hours "off": ahead of ours they look like they come from the
future; behind ours they look like a dead node's, and a sweep would evict a healthy node.

Time zones differ by whole quarter hours (every zone offset in use is a multiple of 15 minutes).
:class:`ClockCheck` compares successive reads of ``BATCH_NODES``: a heartbeat age within a
tolerance of a non-zero multiple of 15 minutes is a *suspect*, and the node holds its sweeps
while any node is one (so a healthy node is not evicted before the check is sure). A suspect
whose offset stays on the same multiple for :data:`PERSISTENCE` reads in a row, and that comes
from the future or whose heartbeat advanced meanwhile (it is alive), is a mismatch: the node logs
a clear error naming the node and the offset, and does not sweep while it lasts. A heartbeat
that is merely late (an age near zero quarter hours, however late) is lateness, for the sweeps
to judge, never a zone difference.

:meth:`ClockCheck.observe` is called by both sweeper threads; a lock guards its state.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.store import NodeRow

log = logging.getLogger(__name__)

#: A quarter hour: the unit of every time-zone offset in use.
QUARTER_HOUR_MS = 15 * 60 * 1000
#: Reads in a row on the same offset before a suspect is called a mismatch.
PERSISTENCE = 3
#: The least tolerance around a multiple of a quarter hour (clock noise, a late heartbeat).
MIN_TOLERANCE_MS = 60_000
#: The most: well under half a quarter hour, so that neighbouring multiples stay apart.
MAX_TOLERANCE_MS = 5 * 60_000


@dataclass(frozen=True)
class ClockMismatch:
    """A node whose heartbeats disagree with this node's clock by ``offset_hours``."""

    node_id: str
    offset_hours: float

    def describe(self, own_zone: str) -> str:
        direction = "ahead of" if self.offset_hours < 0 else "behind"
        return (
            f"node {self.node_id} writes heartbeats about {abs(self.offset_hours):g} h "
            f"{direction} this node's database session clock (time zone {own_zone}): the nodes' "
            "time zones differ. Every node, Java or Python, must use the same zone "
            "(JVM -Duser.timezone, SPRINGBATCH_TIME_ZONE); sweeps are suspended meanwhile"
        )


@dataclass
class _Suspect:
    quarters: int
    reads: int = 1
    advanced: bool = False


def zone_quarters(age_ms: float, tolerance_ms: float) -> int:
    """The non-zero number of quarter hours ``age_ms`` is within ``tolerance_ms`` of, or 0
    when it is near none (or near zero: a late heartbeat, not a time zone)."""
    quarters = round(age_ms / QUARTER_HOUR_MS)
    if quarters == 0 or abs(age_ms - quarters * QUARTER_HOUR_MS) > tolerance_ms:
        return 0
    return quarters


class ClockCheck:
    """Finds time-zone mismatches in successive snapshots of the node rows."""

    def __init__(self, own_node_id: str, settings: ClusterSettings, own_zone: str) -> None:
        self.own_node_id = own_node_id
        self.settings = settings
        self.own_zone = own_zone
        self.tolerance_ms = min(
            MAX_TOLERANCE_MS, max(MIN_TOLERANCE_MS, 3 * settings.heartbeat_interval)
        )
        self._lock = threading.Lock()
        self._last_seen: dict[str, datetime | None] = {}
        self._suspects: dict[str, _Suspect] = {}
        self._reported: set[str] = set()
        self.mismatches: dict[str, ClockMismatch] = {}

    @property
    def holds_sweeps(self) -> bool:
        """Whether a node looks a time zone away (confirmed or not): sweeping could evict it."""
        with self._lock:
            return bool(self._suspects)

    def observe(self, rows: list[NodeRow]) -> dict[str, ClockMismatch]:
        """Update from a fresh read of ``BATCH_NODES``; return the current mismatches."""
        with self._lock:
            return self._observe(rows)

    def _observe(self, rows: list[NodeRow]) -> dict[str, ClockMismatch]:
        suspects: dict[str, _Suspect] = {}
        current: dict[str, ClockMismatch] = {}
        for row in rows:
            if row.node_id == self.own_node_id:
                continue
            quarters = zone_quarters(row.heartbeat_age_ms, self.tolerance_ms)
            if not quarters:
                continue
            previous = self._last_seen.get(row.node_id)
            advanced = row.node_id in self._last_seen and row.last_updated_time != previous
            suspect = self._suspects.get(row.node_id)
            if suspect is not None and suspect.quarters == quarters:
                suspect.reads += 1
                suspect.advanced = suspect.advanced or advanced
            else:
                suspect = _Suspect(quarters, advanced=advanced)
            suspects[row.node_id] = suspect
            alive = quarters < 0 or suspect.advanced
            if suspect.reads >= PERSISTENCE and alive:
                mismatch = ClockMismatch(row.node_id, quarters / 4)
                current[row.node_id] = mismatch
                if row.node_id not in self._reported:
                    self._reported.add(row.node_id)
                    log.error(mismatch.describe(self.own_zone))
        self._reported &= set(current)
        self._suspects = suspects
        self._last_seen = {row.node_id: row.last_updated_time for row in rows}
        self.mismatches = current
        return current
