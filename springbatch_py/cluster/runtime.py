"""What the parts of a running node share: its id, settings, store, repository and status.

Threads: ``status`` is written by the node's heartbeat thread (UNREACHABLE when a heartbeat
fails or finds the row gone, ACTIVE when one succeeds again) and by its upkeep thread (ACTIVE
after registering again); everyone else only reads it. It is guarded by a lock, and
:meth:`ClusterRuntime.change_status` is a compare-and-set, so that two threads cannot both act
on one transition. ``stopping`` and ``leaving`` are set once, by :meth:`Node.stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from springbatch_py.cluster.errors import GaveUpError
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.states import NodeStatus
from springbatch_py.cluster.store import ClusterStore
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.util import one_line

log = logging.getLogger(__name__)

T = TypeVar("T")

#: First pause between two attempts of a write that must land; it doubles up to the cap.
FIRST_BACKOFF_S = 0.05
BACKOFF_CAP_S = 2.0


@dataclass
class ClusterRuntime:
    """A running node, as its master, worker and recovery parts see it."""

    node_id: str
    settings: ClusterSettings
    store: ClusterStore
    repository: JobRepository
    #: set when the node's threads stop (after its partitions drained)
    stopping: threading.Event = field(default_factory=threading.Event)
    #: set when the node begins to leave the cluster (before draining)
    leaving: threading.Event = field(default_factory=threading.Event)
    #: This node claimed a lost master's job and may not have finished recovering it (read
    #: and written by the recover-masters thread only: it looks for such jobs only then).
    recovery_pending: bool = False
    _status: NodeStatus = field(default=NodeStatus.ACTIVE, init=False)
    _status_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: The node's monotonic clock, in seconds: its heartbeat silences and sweep deadlines are
    #: measured on it (unit tests on the memory store pass a manual clock's ``seconds``).
    clock: Callable[[], float] = time.monotonic

    @property
    def status(self) -> NodeStatus:
        """ACTIVE while the node's heartbeats succeed."""
        with self._status_lock:
            return self._status

    @status.setter
    def status(self, value: NodeStatus) -> None:
        with self._status_lock:
            self._status = value

    def change_status(self, expected: NodeStatus, status: NodeStatus) -> bool:
        """Move from ``expected`` to ``status``; False (and no change) from another status."""
        with self._status_lock:
            if self._status is not expected:
                return False
            self._status = status
            return True

    @property
    def active(self) -> bool:
        """Whether the node's last heartbeat succeeded."""
        return self.status is NodeStatus.ACTIVE

    def seconds(self, milliseconds: int) -> float:
        """A setting in milliseconds, as seconds."""
        return milliseconds / 1000.0

    def until_landed(self, what: str, write: Callable[[], T]) -> T:
        """Run ``write`` until it succeeds, pausing with a growing backoff after each error the
        store calls transient (connection lost, server restarting, deadlock, lock timeout,
        busy). Another error is raised at once. Gives up with :class:`GaveUpError` when the
        node stops, or when it is leaving and has tried for the node-cleanup threshold (by then
        the node's row is gone and the master recovers what it left)."""
        delay, started, attempts = FIRST_BACKOFF_S, time.monotonic(), 0
        patience = self.seconds(self.settings.node_cleanup_threshold)
        while True:
            attempts += 1
            try:
                return write()
            except Exception as exc:
                if not self.store.is_transient(exc):
                    raise
                if attempts == 1:
                    log.warning("%s failed, retrying until it lands: %s", what, one_line(exc))
                else:
                    log.debug("%s failed again (attempt %d): %s", what, attempts, one_line(exc))
                leaving_too_long = self.leaving.is_set() and time.monotonic() - started >= patience
                if self.stopping.is_set() or leaving_too_long or self.stopping.wait(delay):
                    raise GaveUpError(
                        f"{what}: gave up after {attempts} attempt(s), the node is stopping"
                    ) from exc
                delay = min(delay * 2, BACKOFF_CAP_S)
