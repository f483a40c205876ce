"""The cluster tables in memory, on a clock tests can move: a :class:`ClusterStore` for unit tests.

:class:`MemoryClusterStore` keeps the three cluster tables (and the phase events) in dicts and
answers as :class:`~springbatch_py.cluster.store.SqlClusterStore` does: each method does what
its statement in ``dialects/common/cluster.sql`` does (the same WHERE clauses, the same rows
counted, the same order of result lists), checks the same transitions first
(:mod:`springbatch_py.cluster.states`), and a compare-and-set that would move more than one row
raises :class:`~springbatch_py.cluster.errors.CompareAndSetError`. It passes the store
conformance suite (``springbatch_py/testing/suite/test_cluster_store.py``, engine ``memory``),
so node, master, worker and recovery logic can be unit-tested on it in milliseconds.

Time is a parameter: ``clock`` returns the current time in milliseconds, the store's "database
clock". Ages (the sweeps', the orphan scan's) are differences of its readings, and a sweep's
``deadline`` is an instant of ``clock() / 1000`` (seconds, as :func:`time.monotonic` for the SQL
store). The default reads :func:`time.monotonic`; tests pass a :class:`ManualClock` and
:meth:`~ManualClock.advance` it instead of sleeping (and give its :meth:`~ManualClock.seconds`
to the node as its monotonic clock, so that both sides see one time). Timestamps (``created_time``
and the like) are naive UTC times, counted from the wall clock when the store was made.

What has no meaning in memory:

* transactions: each method is atomic under the store's lock, and ``connection`` (the chunk
  transaction of the partition fence) is ignored, so a fence's refresh is not undone when its
  chunk rolls back (it only moves ``last_updated``);
* row locks and lock timeouts: nothing waits, and :meth:`MemoryClusterStore.
  fail_open_partitions` never raises :class:`~springbatch_py.cluster.errors.RowLockedError`;
* foreign keys: coordination and partition rows name job and step executions the store does not
  know; deleting a step execution removes nothing here;
* a sweep's deadline is kept: a verdict asked for after it is not taken (0 rows).

A duplicate key raises SQLAlchemy's :class:`~sqlalchemy.exc.IntegrityError`, as the SQL store's
does, so callers handle both alike. ``before`` (a callable given the statement's name, run before
each method, outside the lock) is where a test plays a fault at an exact point: it advances the
clock (a database stall), raises :class:`StoreUnavailableError` (a database that does not
answer; the only error :meth:`MemoryClusterStore.is_transient` calls transient), or runs another
node's step first (an interleaving).

Threads: every table and :attr:`MemoryClusterStore.counts` are guarded by one lock, held for
the whole of each method (as a statement's own transaction) but never while ``before`` runs;
any thread may call any method. :class:`ManualClock` guards its time with a lock of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from springbatch_py.cluster.signals import Signals
from springbatch_py.cluster.states import (
    COORDINATION,
    NODE,
    PARTITION,
    CoordinationStatus,
    NodeStatus,
    PartitionStatus,
)
from springbatch_py.cluster.store import (
    NO_NODE,
    ActiveNode,
    Coordination,
    NodeRow,
    PartitionCount,
    PartitionTask,
    SweepView,
    one_row,
)
from springbatch_py.errors import SpringBatchError

log = logging.getLogger(__name__)

#: The statuses a partition is open in (P5, P7, the recovery fence).
_OPEN = (PartitionStatus.PENDING, PartitionStatus.CLAIMED)
#: The coordination statuses a lost master's job can be taken over from (C3, C4).
_RECOVERABLE = (CoordinationStatus.STARTED, CoordinationStatus.RECOVERING)


def monotonic_ms() -> float:
    """:func:`time.monotonic` in milliseconds: the default clock of a memory store."""
    return time.monotonic() * 1000.0


class ManualClock:
    """A clock that moves only when told: a callable returning milliseconds.

    Parameters
    ----------
    start_ms:
        The first reading (any value: only differences count).
    """

    def __init__(self, start_ms: float = 1_000_000.0) -> None:
        self._now = float(start_ms)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def seconds(self) -> float:
        """The time in seconds: a node's monotonic clock on this time."""
        return self() / 1000.0

    def advance(self, milliseconds: float) -> None:
        """Move the time forward by ``milliseconds``."""
        if milliseconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += milliseconds


class StoreUnavailableError(SpringBatchError):
    """A test's stand-in for a database that does not answer (raise it from ``before``); the
    memory store calls it transient, as the SQL store calls a lost connection."""


class _DuplicateKey(Exception):
    """The driver error inside the :class:`IntegrityError` of a duplicate key."""


@dataclass
class _Node:
    node_id: str
    created_ms: float
    updated_ms: float
    status: str
    host_identifier: str
    current_load: int


@dataclass
class _Coordination:
    job_execution_id: int
    master_node_id: str
    master_step_execution_id: int
    master_step_name: str
    status: str
    created_ms: float
    updated_ms: float


@dataclass
class _Partition:
    step_execution_id: int
    job_execution_id: int
    partition_key: str
    assigned_node: str | None
    status: str
    master_step_execution_id: int
    transferable: bool
    updated_ms: float

    def task(self, *, step_name: str | None = None, age_ms: float | None = None) -> PartitionTask:
        """This row as the store hands it out."""
        return PartitionTask(
            self.step_execution_id,
            self.job_execution_id,
            self.partition_key,
            self.master_step_execution_id,
            self.transferable,
            step_name,
            self.assigned_node,
            self.status,
            age_ms,
        )


@dataclass(frozen=True)
class PhaseEvent:
    """A row of ``BATCH_JOB_PHASE_EVENTS``."""

    job_execution_id: int
    node_id: str
    phase: str
    event_time: datetime


class MemoryClusterStore:
    """The cluster tables in memory (a :class:`~springbatch_py.cluster.store.ClusterStore`).

    Parameters
    ----------
    clock:
        The store's clock, in milliseconds (default: :func:`monotonic_ms`).
    before:
        Called with each statement's name before it runs, outside the lock (fault injection).
    """

    #: The dialect capabilities this store has, for the conformance suite's ``requires`` marker:
    #: ages in milliseconds, and none of SQL's (row locks, statements of one's own).
    CAPABILITIES: ClassVar[frozenset[str]] = frozenset({"millisecond_clock"})

    def __init__(
        self,
        clock: Callable[[], float] = monotonic_ms,
        *,
        before: Callable[[str], None] | None = None,
    ) -> None:
        self.clock = clock
        self.before = before
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._nodes: dict[str, _Node] = {}
        self._coordinations: dict[int, _Coordination] = {}
        self._partitions: dict[int, _Partition] = {}
        self._phases: list[PhaseEvent] = []
        self._epoch = datetime.now(UTC).replace(tzinfo=None)
        self._epoch_ms = clock()
        self._signals = Signals()

    # -- plumbing ----------------------------------------------------------------------------

    def _enter(self, name: str, times: int = 1) -> None:
        """Count a statement and run the ``before`` hook (outside the lock)."""
        with self._lock:
            self.counts[name] += times
        if self.before is not None:
            self.before(name)

    def _stamp(self, ms: float) -> datetime:
        return self._epoch + timedelta(milliseconds=ms - self._epoch_ms)

    def _late(self, name: str, deadline: float | None) -> bool:
        """Whether a sweep's verdict comes after its ``deadline`` (then it is not kept)."""
        late = 0.0 if deadline is None else self.clock() / 1000.0 - deadline
        if late > 0:
            log.warning(
                "%s answered %.1f s after its deadline: the store stalled, its verdict is "
                "rolled back",
                name,
                late,
            )
            return True
        return False

    @staticmethod
    def _duplicate(name: str, key: object) -> IntegrityError:
        return IntegrityError(name, {"key": key}, _DuplicateKey(f"duplicate key {key!r}"))

    def statement_count(self) -> int:
        """All statements run so far."""
        with self._lock:
            return sum(self.counts.values())

    def is_transient(self, error: BaseException) -> bool:
        """Only :class:`StoreUnavailableError` (a test's outage) is transient here."""
        return isinstance(error, StoreUnavailableError)

    # -- wake-ups: between the nodes sharing this store; no notifications ----------------------

    @property
    def signals(self) -> Signals:
        """The wake-ups of the nodes sharing this store."""
        return self._signals

    def open_signals(self) -> None:
        """Nothing to listen to in memory."""

    def close_signals(self) -> None:
        """Nothing to stop."""

    @property
    def notifications_live(self) -> bool:
        """Never: there is no database to notify (the nodes sharing the store are woken)."""
        return False

    def announce_assigned(self, node_ids: Iterable[str]) -> None:
        """Wake the workers of ``node_ids`` that share this store."""
        self._signals.assigned(node_ids)

    def announce_ended(self, master_step_execution_id: int) -> None:
        """Wake the master of ``master_step_execution_id`` if it shares this store."""
        self._signals.ended(master_step_execution_id)

    @property
    def phase_events(self) -> list[PhaseEvent]:
        """The phase events recorded so far, oldest first."""
        with self._lock:
            return list(self._phases)

    # -- nodes -------------------------------------------------------------------------------

    def register_node(self, node_id: str, host_identifier: str) -> None:
        """N1: insert this node's row (raises ``IntegrityError`` if the id exists)."""
        NODE.check([None], NodeStatus.ACTIVE)
        self._enter("node_register")
        with self._lock:
            if node_id in self._nodes:
                raise self._duplicate("node_register", node_id)
            now = self.clock()
            self._nodes[node_id] = _Node(
                node_id, now, now, NodeStatus.ACTIVE.value, host_identifier, 0
            )

    def heartbeat(self, node_id: str, current_load: int) -> bool:
        """N2: refresh this node's row; False when the row is gone (the node was evicted)."""
        self._enter("node_heartbeat")
        with self._lock:
            node = self._nodes.get(node_id)
            if node is not None:
                node.updated_ms = self.clock()
                node.status = NodeStatus.ACTIVE.value
                node.current_load = current_load
            return one_row("node_heartbeat", int(node is not None), f"node {node_id}")

    def mark_unreachable(self, threshold_ms: int, *, deadline: float | None = None) -> int:
        """N3: how many ACTIVE nodes silent for ``threshold_ms`` became UNREACHABLE (0 when
        asked after ``deadline``)."""
        NODE.check([NodeStatus.ACTIVE], NodeStatus.UNREACHABLE)
        self._enter("node_mark_unreachable")
        with self._lock:
            if self._late("node_mark_unreachable", deadline):
                return 0
            now = self.clock()
            silent = [
                n
                for n in self._nodes.values()
                if n.status == NodeStatus.ACTIVE and now - n.updated_ms >= threshold_ms
            ]
            for node in silent:
                node.status = NodeStatus.UNREACHABLE.value
            return len(silent)

    def delete_unreachable(self, threshold_ms: int, *, deadline: float | None = None) -> int:
        """N4: how many UNREACHABLE nodes silent for ``threshold_ms`` were removed (0 when
        asked after ``deadline``)."""
        NODE.check([NodeStatus.UNREACHABLE], None)
        self._enter("node_delete_unreachable")
        with self._lock:
            if self._late("node_delete_unreachable", deadline):
                return 0
            now = self.clock()
            gone = [
                n.node_id
                for n in self._nodes.values()
                if n.status == NodeStatus.UNREACHABLE and now - n.updated_ms >= threshold_ms
            ]
            for node_id in gone:
                del self._nodes[node_id]
            return len(gone)

    def deregister(self, node_id: str) -> None:
        """Remove this node's row (graceful shutdown)."""
        self._enter("node_deregister")
        with self._lock:
            self._nodes.pop(node_id, None)

    def active_nodes(self) -> list[ActiveNode]:
        """N5: ACTIVE nodes, least loaded first (ties by id)."""
        self._enter("node_list_active")
        with self._lock:
            active = [n for n in self._nodes.values() if n.status == NodeStatus.ACTIVE]
            active.sort(key=lambda n: (n.current_load, n.node_id))
            return [ActiveNode(n.node_id, n.current_load) for n in active]

    def all_nodes(self, *, connection: Connection | None = None) -> list[NodeRow]:
        """N6: every node row with the age of its heartbeat, by node id (``connection`` is
        ignored)."""
        self._enter("node_list_all")
        with self._lock:
            now = self.clock()
            return [
                self._node_row(n, now)
                for n in sorted(self._nodes.values(), key=lambda n: n.node_id)
            ]

    def _node_row(self, n: _Node, now: float) -> NodeRow:
        return NodeRow(
            n.node_id,
            self._stamp(n.created_ms),
            self._stamp(n.updated_ms),
            n.status,
            n.host_identifier,
            n.current_load,
            now - n.updated_ms,
        )

    def sweep_view(self, node_id: str, threshold_ms: int, future_ms: int) -> SweepView:
        """N6 for a sweep: ``node_id``'s row, the silent rows and those from the future, and
        how many rows there are."""
        self._enter("node_list_sweep")
        with self._lock:
            now = self.clock()
            rows = [
                self._node_row(n, now)
                for n in sorted(self._nodes.values(), key=lambda n: n.node_id)
                if n.node_id == node_id
                or now - n.updated_ms >= threshold_ms
                or now - n.updated_ms <= -future_ms
            ]
            return SweepView(rows, len(self._nodes))

    # -- coordination ------------------------------------------------------------------------

    def insert_coordination(
        self,
        job_execution_id: int,
        master_node_id: str,
        master_step_execution_id: int,
        master_step_name: str,
    ) -> None:
        """C1: the coordination row, CREATED (raises ``IntegrityError`` if it exists)."""
        COORDINATION.check([None], CoordinationStatus.CREATED)
        self._enter("coordination_insert")
        with self._lock:
            if job_execution_id in self._coordinations:
                raise self._duplicate("coordination_insert", job_execution_id)
            now = self.clock()
            self._coordinations[job_execution_id] = _Coordination(
                job_execution_id,
                master_node_id,
                master_step_execution_id,
                master_step_name,
                CoordinationStatus.CREATED.value,
                now,
                now,
            )

    def transition_coordination(
        self,
        coordination: Coordination,
        master_node_id: str,
        expected: CoordinationStatus | str,
        status: CoordinationStatus | str,
    ) -> bool:
        """C2 as compare-and-set; False when the row was not in ``expected`` for this master."""
        COORDINATION.check([expected], status)
        self._enter("coordination_transition")
        with self._lock:
            row = self._coordinations.get(coordination.job_execution_id)
            matched = (
                row is not None
                and row.master_step_execution_id == coordination.master_step_execution_id
                and row.master_node_id == master_node_id
                and row.status == expected
            )
            if row is not None and matched:
                row.status = str(status)
                row.updated_ms = self.clock()
            return one_row(
                "coordination_transition",
                int(matched),
                f"job execution {coordination.job_execution_id}",
            )

    def find_orphaned_masters(self) -> list[Coordination]:
        """C3: STARTED or RECOVERING jobs whose master's node row is gone."""
        self._enter("coordination_find_orphaned")
        with self._lock:
            return [
                Coordination(
                    c.job_execution_id,
                    c.master_node_id,
                    c.master_step_execution_id,
                    c.master_step_name,
                    "",
                )
                for c in self._coordinations.values()
                if c.status in _RECOVERABLE and c.master_node_id not in self._nodes
            ]

    def claim_orphaned_master(self, orphan: Coordination, node_id: str) -> bool:
        """C4: take over a lost master's job; True for the one node that wins."""
        COORDINATION.check(_RECOVERABLE, CoordinationStatus.RECOVERING)
        self._enter("coordination_claim_orphaned")
        with self._lock:
            row = self._coordinations.get(orphan.job_execution_id)
            matched = (
                row is not None
                and row.master_node_id == orphan.master_node_id
                and row.status in _RECOVERABLE
            )
            if row is not None and matched:
                row.status = CoordinationStatus.RECOVERING.value
                row.master_node_id = node_id
                row.updated_ms = self.clock()
            return one_row(
                "coordination_claim_orphaned",
                int(matched),
                f"job execution {orphan.job_execution_id}",
            )

    def get_coordination(
        self, job_execution_id: int, *, connection: Connection | None = None
    ) -> Coordination | None:
        """The coordination row of a job execution (``connection`` is ignored)."""
        self._enter("coordination_get")
        with self._lock:
            row = self._coordinations.get(job_execution_id)
            return None if row is None else self._coordination(row)

    def list_coordinations(self, *, connection: Connection | None = None) -> list[Coordination]:
        """Every coordination row, newest first (``connection`` is ignored)."""
        self._enter("coordination_list")
        with self._lock:
            rows = sorted(
                self._coordinations.values(),
                key=lambda c: (c.created_ms, c.job_execution_id),
                reverse=True,
            )
            return [self._coordination(c) for c in rows]

    def delete_coordination(self, job_execution_id: int) -> None:
        """Delete a coordination row."""
        self._enter("coordination_delete")
        with self._lock:
            self._coordinations.pop(job_execution_id, None)

    def find_recovering(self, node_id: str) -> list[Coordination]:
        """RECOVERING jobs that ``node_id`` claimed and has not finished recovering."""
        self._enter("coordination_find_recovering")
        with self._lock:
            return [
                Coordination(
                    c.job_execution_id,
                    c.master_node_id,
                    c.master_step_execution_id,
                    c.master_step_name,
                    CoordinationStatus.RECOVERING,
                )
                for c in self._coordinations.values()
                if c.status == CoordinationStatus.RECOVERING and c.master_node_id == node_id
            ]

    def _coordination(self, c: _Coordination) -> Coordination:
        return Coordination(
            c.job_execution_id,
            c.master_node_id,
            c.master_step_execution_id,
            c.master_step_name,
            c.status,
            self._stamp(c.created_ms),
            self._stamp(c.updated_ms),
        )

    # -- partitions --------------------------------------------------------------------------

    def insert_partitions(self, tasks: Iterable[PartitionTask]) -> None:
        """P1: the partitions of a master step, PENDING, all or none (a duplicate step
        execution id raises ``IntegrityError`` and inserts nothing)."""
        PARTITION.check([None], PartitionStatus.PENDING)
        tasks = list(tasks)
        self._enter("partition_insert", len(tasks))
        with self._lock:
            now = self.clock()
            rows: dict[int, _Partition] = {}
            for task in tasks:
                key = task.step_execution_id
                if key in self._partitions or key in rows:
                    raise self._duplicate("partition_insert", key)
                rows[key] = _Partition(
                    key,
                    task.job_execution_id,
                    task.partition_key,
                    task.assigned_node,
                    PartitionStatus.PENDING.value,
                    task.master_step_execution_id,
                    task.transferable,
                    now,
                )
            self._partitions.update(rows)

    def fetch_assigned(self, node_id: str, limit: int) -> list[PartitionTask]:
        """P2: up to ``limit`` PENDING partitions assigned to ``node_id`` of STARTED jobs whose
        master's node row exists, by step execution id."""
        self._enter("partition_fetch_assigned")
        with self._lock:
            found = [
                p.task(step_name=c.master_step_name)
                for p in sorted(self._partitions.values(), key=lambda p: p.step_execution_id)
                if p.assigned_node == node_id and p.status == PartitionStatus.PENDING
                # the join: every coordination of its master step (one, as the keys go)
                for c in self._coordinations.values()
                if c.master_step_execution_id == p.master_step_execution_id
                and c.status == CoordinationStatus.STARTED
                and c.master_node_id in self._nodes
            ]
            return found[: max(limit, 0)]

    def _move(
        self,
        name: str,
        key: int,
        where: Callable[[_Partition], bool],
        change: Callable[[_Partition], None],
    ) -> bool:
        """A compare-and-set on the partition ``key`` (under the lock)."""
        row = self._partitions.get(key)
        matched = row is not None and where(row)
        if row is not None and matched:
            change(row)
            row.updated_ms = self.clock()
        return one_row(name, int(matched), f"partition {key}")

    def list_claimed(self, node_id: str) -> list[PartitionTask]:
        """The partitions CLAIMED by ``node_id``, by step execution id."""
        self._enter("partition_list_claimed")
        with self._lock:
            return [
                p.task()
                for p in sorted(self._partitions.values(), key=lambda p: p.step_execution_id)
                if p.assigned_node == node_id and p.status == PartitionStatus.CLAIMED
            ]

    def end_partition(self, task: PartitionTask, node_id: str, status: PartitionStatus) -> bool:
        """P3 from CLAIMED to ``status`` for this node, and its master woken."""
        PARTITION.check([PartitionStatus.CLAIMED], status)
        self._enter("partition_end")
        with self._lock:
            moved = self._transition(task, node_id, PartitionStatus.CLAIMED, status)
        if moved:
            self._signals.ended(task.master_step_execution_id)
        return moved

    def claim_assigned(self, node_id: str, limit: int) -> list[PartitionTask] | None:
        """None: the memory store claims one partition at a time, as SQL without SKIP LOCKED."""
        return None

    def transition_partition(
        self,
        task: PartitionTask,
        node_id: str,
        expected: PartitionStatus | str,
        status: PartitionStatus | str,
    ) -> bool:
        """P3 as compare-and-set for this node's partition; True when exactly one row moved."""
        PARTITION.check([expected], status)
        self._enter("partition_transition")
        with self._lock:
            return self._transition(task, node_id, expected, status)

    def _transition(
        self,
        task: PartitionTask,
        node_id: str,
        expected: PartitionStatus | str,
        status: PartitionStatus | str,
    ) -> bool:
        def where(p: _Partition) -> bool:
            return (
                p.job_execution_id == task.job_execution_id
                and p.master_step_execution_id == task.master_step_execution_id
                and p.assigned_node == node_id
                and p.status == expected
            )

        def change(p: _Partition) -> None:
            p.status = str(status)

        return self._move("partition_transition", task.step_execution_id, where, change)

    def claim_partition(self, task: PartitionTask, node_id: str) -> bool:
        """P3 from PENDING to CLAIMED for this node (no row is ever locked here)."""
        PARTITION.check([PartitionStatus.PENDING], PartitionStatus.CLAIMED)
        self._enter("partition_transition")
        with self._lock:
            return self._transition(task, node_id, PartitionStatus.PENDING, PartitionStatus.CLAIMED)

    def refresh_partition(
        self, step_execution_id: int, node_id: str, *, connection: Connection | None = None
    ) -> bool:
        """P4: True while the partition is still this node's CLAIMED partition (``connection``
        is ignored: the refresh stays when the chunk's transaction rolls back)."""
        self._enter("partition_refresh")
        with self._lock:
            return self._move(
                "partition_refresh",
                step_execution_id,
                lambda p: p.assigned_node == node_id and p.status == PartitionStatus.CLAIMED,
                lambda p: None,
            )

    def count_open(self, master_step_execution_id: int) -> int:
        """P5: PENDING or CLAIMED partitions of a master step."""
        self._enter("partition_count_open")
        with self._lock:
            return sum(
                1
                for p in self._partitions.values()
                if p.master_step_execution_id == master_step_execution_id and p.status in _OPEN
            )

    def count_failed(self, master_step_execution_id: int) -> int:
        """P6: FAILED partitions of a master step."""
        self._enter("partition_count_failed")
        with self._lock:
            return sum(
                1
                for p in self._partitions.values()
                if p.master_step_execution_id == master_step_execution_id
                and p.status == PartitionStatus.FAILED
            )

    def find_orphaned_partitions(
        self, master_step_execution_id: int, threshold_ms: int
    ) -> list[PartitionTask]:
        """P7: open partitions silent for the threshold whose node row is gone (or that have
        no node), by step execution id."""
        self._enter("partition_find_orphaned")
        with self._lock:
            now = self.clock()
            return [
                p.task()
                for p in sorted(self._partitions.values(), key=lambda p: p.step_execution_id)
                if p.master_step_execution_id == master_step_execution_id
                and p.status in _OPEN
                and now - p.updated_ms >= threshold_ms
                and (p.assigned_node is None or p.assigned_node not in self._nodes)
            ]

    def _seen_as(self, task: PartitionTask) -> Callable[[_Partition], bool]:
        """The orphan's compare-and-set: the status and node it was seen with (``~`` for none,
        as the statements' ``COALESCE``)."""
        old_node = task.assigned_node or NO_NODE

        def where(p: _Partition) -> bool:
            return (
                p.master_step_execution_id == task.master_step_execution_id
                and p.status == task.status
                and (p.assigned_node if p.assigned_node is not None else NO_NODE) == old_node
            )

        return where

    def reassign(self, task: PartitionTask, new_node_id: str) -> bool:
        """P8 as compare-and-set: only from the node and status the orphan was seen with."""
        PARTITION.check([task.status], PartitionStatus.PENDING)
        self._enter("partition_reassign")
        seen = self._seen_as(task)

        def change(p: _Partition) -> None:
            p.assigned_node = new_node_id
            p.status = PartitionStatus.PENDING.value

        with self._lock:
            return self._move(
                "partition_reassign",
                task.step_execution_id,
                lambda p: p.job_execution_id == task.job_execution_id and seen(p),
                change,
            )

    def fail_orphan(self, task: PartitionTask) -> bool:
        """An orphan ends FAILED, only from how it was seen."""
        PARTITION.check([task.status], PartitionStatus.FAILED)
        self._enter("partition_fail_orphan")

        def change(p: _Partition) -> None:
            p.status = PartitionStatus.FAILED.value

        with self._lock:
            return self._move(
                "partition_fail_orphan", task.step_execution_id, self._seen_as(task), change
            )

    def list_partitions(
        self, master_step_execution_id: int, *, connection: Connection | None = None
    ) -> list[PartitionTask]:
        """The partitions of a master step with their node, status and age, by step execution
        id (``connection`` is ignored)."""
        self._enter("partition_list")
        with self._lock:
            now = self.clock()
            return [
                p.task(age_ms=now - p.updated_ms)
                for p in sorted(self._partitions.values(), key=lambda p: p.step_execution_id)
                if p.master_step_execution_id == master_step_execution_id
            ]

    def count_partitions_by_status(
        self, *, connection: Connection | None = None
    ) -> list[PartitionCount]:
        """How many partitions each job execution has in each status (``connection`` is
        ignored)."""
        self._enter("partition_count_by_status")
        with self._lock:
            counted = Counter((p.job_execution_id, p.status) for p in self._partitions.values())
            return [PartitionCount(job, status, n) for (job, status), n in sorted(counted.items())]

    def record_phase(self, job_execution_id: int, node_id: str, phase: str) -> None:
        """E1: a phase-timing event."""
        self._enter("phase_event_insert")
        with self._lock:
            self._phases.append(
                PhaseEvent(job_execution_id, node_id, phase, self._stamp(self.clock()))
            )

    # -- recovery of lost masters ------------------------------------------------------------

    def fail_open_partitions(self, master_step_execution_id: int) -> int:
        """Fence a recovered job: its PENDING and CLAIMED partitions end FAILED; how many."""
        PARTITION.check(_OPEN, PartitionStatus.FAILED)
        self._enter("partition_fail_open_of_master")
        with self._lock:
            now = self.clock()
            fenced = [
                p
                for p in self._partitions.values()
                if p.master_step_execution_id == master_step_execution_id and p.status in _OPEN
            ]
            for p in fenced:
                p.status = PartitionStatus.FAILED.value
                p.updated_ms = now
            return len(fenced)
