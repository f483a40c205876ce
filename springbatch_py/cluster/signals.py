"""Wake-ups: a master's new partitions wake their workers, a partition's end wakes its master.

Polling stays the protocol (Java nodes poll, and every wait here still has its poll as a bound);
signals only make the next poll come now. A :class:`Signals` hub serves every node of a process
that shares one cluster database: a worker subscribes under its node id, a master's wait
watches its manager step execution. What a node of the process announces reaches the others at
once; what the database announces (PostgreSQL's ``LISTEN``/``NOTIFY``, through the store's
listener) arrives through :meth:`Signals.deliver`, in the compact form :func:`assigned_payload`
and :func:`ended_payload` write. A lost or doubled signal costs nothing but a poll: every
receiver re-reads the tables before it acts.

Threads: any thread announces or delivers; the hub's maps are guarded by its lock, and the
callbacks it calls (a worker's ``wake``, an event's ``set``) only set events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

_ASSIGNED = "a"
_ENDED = "e"


def assigned_payload(node_ids: Iterable[str]) -> str:
    """The notification that partitions wait for ``node_ids``."""
    return " ".join([_ASSIGNED, *sorted(set(node_ids))])


def ended_payload(master_step_execution_id: int) -> str:
    """The notification that a partition of a manager step execution ended."""
    return f"{_ENDED} {master_step_execution_id}"


class Signals:
    """Wake-ups between the nodes of one process on one cluster database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: dict[str, Callable[[], None]] = {}
        self._masters: dict[int, list[threading.Event]] = {}

    def subscribe_worker(self, node_id: str, wake: Callable[[], None]) -> None:
        """Call ``wake`` when partitions are announced for ``node_id``."""
        with self._lock:
            self._workers[node_id] = wake

    def unsubscribe_worker(self, node_id: str) -> None:
        """Stop waking ``node_id``'s worker."""
        with self._lock:
            self._workers.pop(node_id, None)

    def watch(self, master_step_execution_id: int) -> threading.Event:
        """An event set whenever a partition of this manager step execution is announced
        ended (the caller clears it); :meth:`unwatch` it when done."""
        event = threading.Event()
        with self._lock:
            self._masters.setdefault(master_step_execution_id, []).append(event)
        return event

    def unwatch(self, master_step_execution_id: int, event: threading.Event) -> None:
        """Forget an event of :meth:`watch`."""
        with self._lock:
            events = self._masters.get(master_step_execution_id, [])
            if event in events:
                events.remove(event)
            if not events:
                self._masters.pop(master_step_execution_id, None)

    def assigned(self, node_ids: Iterable[str]) -> None:
        """Partitions wait for ``node_ids``: wake those of this process."""
        with self._lock:
            wakes = [self._workers[n] for n in set(node_ids) if n in self._workers]
        for wake in wakes:
            wake()

    def ended(self, master_step_execution_id: int) -> None:
        """A partition of this manager step execution ended: wake its master's wait."""
        with self._lock:
            events = list(self._masters.get(master_step_execution_id, ()))
        for event in events:
            event.set()

    def deliver(self, payload: str) -> None:
        """A notification from the database (one of this module's payloads; others ignored)."""
        kind, _, rest = payload.partition(" ")
        if kind == _ASSIGNED:
            self.assigned(rest.split())
        elif kind == _ENDED:
            try:
                self.ended(int(rest))
            except ValueError:
                log.debug("ignored notification %r", payload)
