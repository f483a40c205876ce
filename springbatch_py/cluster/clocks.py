"""Noticing nodes whose clock or session time zone disagrees with this node's.

Liveness is "the database clock minus a heartbeat time". On PostgreSQL (and in Oracle's column
defaults) both sides follow the session's time zone, so a node whose session zone differs from
the others' writes heartbeats hours "off": ahead of ours they look like they come from the
future; behind ours they look like a dead node's, and a sweep would evict a healthy node.

:class:`ClockCheck` compares successive reads of ``BATCH_NODES``: a heartbeat more than a few
seconds in the future, or one that keeps advancing while it already looks older than the
unreachable threshold, betrays a mismatch. The node then logs a clear error naming the node and
the offset, and does not sweep while the mismatch lasts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.store import NodeRow

log = logging.getLogger(__name__)

#: A heartbeat this far in the future is not clock noise.
FUTURE_TOLERANCE_MS = 3000


@dataclass(frozen=True)
class ClockMismatch:
    """A node whose heartbeats disagree with this node's clock by ``offset_hours``."""

    node_id: str
    offset_hours: float

    def describe(self, own_zone: str) -> str:
        direction = "ahead of" if self.offset_hours < 0 else "behind"
        return (
            f"node {self.node_id} writes heartbeats about {abs(self.offset_hours):.1f} h "
            f"{direction} this node's database session clock (time zone {own_zone}): the nodes' "
            "time zones differ. Every node, Java or Python, must use the same zone "
            "(JVM -Duser.timezone, SPRINGBATCH_TIME_ZONE); sweeps are suspended meanwhile"
        )


class ClockCheck:
    """Finds clock mismatches in successive snapshots of the node rows."""

    def __init__(self, own_node_id: str, settings: ClusterSettings, own_zone: str) -> None:
        self.own_node_id = own_node_id
        self.settings = settings
        self.own_zone = own_zone
        self._last_seen: dict[str, datetime | None] = {}
        self._reported: set[str] = set()
        self.mismatches: dict[str, ClockMismatch] = {}

    def observe(self, rows: list[NodeRow]) -> dict[str, ClockMismatch]:
        """Update from a fresh read of ``BATCH_NODES``; return the current mismatches."""
        current: dict[str, ClockMismatch] = {}
        for row in rows:
            if row.node_id == self.own_node_id:
                continue
            previous = self._last_seen.get(row.node_id)
            advancing = previous is not None and row.last_updated_time != previous
            future = row.heartbeat_age_ms < -FUTURE_TOLERANCE_MS
            stale_but_alive = advancing and (
                row.heartbeat_age_ms >= self.settings.unreachable_node_threshold
            )
            if future or stale_but_alive:
                mismatch = ClockMismatch(row.node_id, round(row.heartbeat_age_ms / 3_600_000, 1))
                current[row.node_id] = mismatch
                if row.node_id not in self._reported:
                    self._reported.add(row.node_id)
                    log.error(mismatch.describe(self.own_zone))
        for node_id in set(self._reported) - set(current):
            self._reported.discard(node_id)
        self._last_seen = {row.node_id: row.last_updated_time for row in rows}
        self.mismatches = current
        return current
