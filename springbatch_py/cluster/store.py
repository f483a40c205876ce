"""The cluster tables: what the cluster layer asks of them (:class:`ClusterStore`), and the
store that runs the named statements of ``dialects/common/cluster.sql``
(:class:`SqlClusterStore`).

Node, master, worker and recovery see the tables only through :class:`ClusterStore`, which
:class:`SqlClusterStore` implements over SQL and :class:`~springbatch_py.cluster.memory.
MemoryClusterStore` in memory, for unit tests of the cluster logic (both pass the store
conformance suite, ``springbatch_py/testing/suite/test_cluster_store.py``).

With its read-only companion :mod:`springbatch_py.cluster.reader`, this is the only module of
the cluster layer that touches SQL. Each statement runs in a short transaction of its own (the
Java library's writes are visible to other nodes at once, and PostgreSQL's ``CURRENT_TIMESTAMP``
is the transaction's start), unless a connection is given: the partition fence runs inside a
chunk's transaction, and the observability reads share one read transaction. Transitions are
compare-and-set: they name the status a row must still have and return whether exactly one row
moved. Each is first checked against the state machines of :mod:`springbatch_py.cluster.states`
(an illegal one raises :class:`~springbatch_py.cluster.states.IllegalTransitionError` before any
SQL runs), and one that moved more than one row raises :class:`CompareAndSetError`: a row
count is 0 (lost), 1 (won) or a broken table.

Every statement run is counted in :attr:`SqlClusterStore.counts`, so tests and benchmarks can see
how many statements a partition costs.

Statements that touch rows another node may hold locked (reassigning or failing an orphan,
the sweeps) wait for a lock at most :attr:`SqlClusterStore.lock_timeout_ms` (the dialect's
:meth:`~springbatch_py.db.dialect.Dialect.lock_timeout_sql`, or a ``WAIT`` in the statement):
a node frozen between its fence and its commit holds its partition's row, and the master must
not wait on it. Such a statement that runs out of time moves nothing and is tried again at the
next scan.

Threads: a node's threads share its store; each statement takes a connection of the pool for
itself (or runs on the one it is given), and :attr:`SqlClusterStore.counts` is guarded by a
lock. The database is where the nodes' threads meet.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from springbatch_py.cluster.errors import CompareAndSetError, RowLockedError
from springbatch_py.cluster.signals import Signals, assigned_payload, ended_payload
from springbatch_py.cluster.states import (
    COORDINATION,
    NODE,
    PARTITION,
    CoordinationStatus,
    NodeStatus,
    PartitionStatus,
)
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.db.notifications import Listener
from springbatch_py.db.statements import StatementResult

log = logging.getLogger(__name__)

#: How long a cluster statement waits for a row lock another node holds before giving up.
LOCK_TIMEOUT_MS = 1000

#: The notification channel of the cluster's wake-ups.
CHANNEL = "springbatch_cluster"


#: Set to ``0`` where LISTEN cannot work (a pooler in transaction mode, such as PgBouncer's):
#: nodes then poll at the task-polling-interval instead of trusting notifications.
NOTIFY_ENV = "SPRINGBATCH_NOTIFY"


def notifications_wanted() -> bool:
    """Whether nodes listen for the database's notifications (``$SPRINGBATCH_NOTIFY``)."""
    return os.environ.get(NOTIFY_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass
class _Hub:
    """The wake-ups of one database in this process, and its listener."""

    signals: Signals
    listener: Listener | None = None
    users: int = 0


_hubs: dict[str, _Hub] = {}
_hubs_lock = threading.Lock()


def one_row(name: str, count: int, key: object) -> bool:
    """Whether the compare-and-set ``name`` on ``key`` won: 0 rows lost, 1 row won, more
    raises :class:`CompareAndSetError`."""
    if count in (0, 1):
        return count == 1
    raise CompareAndSetError(
        f"{name} for {key} moved {count} rows; a compare-and-set moves at most one "
        "(check the table's primary key: springbatch-py schema verify)"
    )


#: Stands for "no node" in the compare-and-set of orphans (a NULL can't be compared).
NO_NODE = "~"


@dataclass(frozen=True)
class ActiveNode:
    """An ACTIVE node and its load (N5)."""

    node_id: str
    current_load: int


@dataclass(frozen=True)
class NodeRow:
    """A row of ``BATCH_NODES`` with the age of its heartbeat."""

    node_id: str
    created_time: datetime | None
    last_updated_time: datetime | None
    status: str
    host_identifier: str | None
    current_load: int
    heartbeat_age_ms: float


@dataclass(frozen=True)
class SweepView:
    """What a sweeper reads: the rows worth judging (its own, the silent, the ones from the
    future) and how many node rows there are in all."""

    rows: list[NodeRow]
    node_count: int


@dataclass(frozen=True)
class PartitionTask:
    """A partition as the worker and the master see it."""

    step_execution_id: int
    job_execution_id: int
    partition_key: str
    master_step_execution_id: int
    transferable: bool
    master_step_name: str | None = None
    assigned_node: str | None = None
    status: str | None = None
    age_ms: float | None = None


@dataclass(frozen=True)
class Coordination:
    """A row of ``BATCH_JOB_COORDINATION``."""

    job_execution_id: int
    master_node_id: str
    master_step_execution_id: int
    master_step_name: str
    status: str
    created_time: datetime | None = None
    last_updated: datetime | None = None


@dataclass(frozen=True)
class PartitionCount:
    """How many partitions of one job execution are in one status."""

    job_execution_id: int
    status: str
    count: int


class ClusterStore(Protocol):
    """What the cluster layer (node, master, worker, recovery) asks of the cluster tables.

    Every transition is a compare-and-set checked against :mod:`springbatch_py.cluster.states`
    first (:class:`~springbatch_py.cluster.states.IllegalTransitionError`); one that moves more
    than one row raises :class:`CompareAndSetError`. Ages are milliseconds on the store's clock
    (the database's, for :class:`SqlClusterStore`). Implemented by :class:`SqlClusterStore` and
    :class:`~springbatch_py.cluster.memory.MemoryClusterStore`; the letters and numbers are the
    statements' in ``dialects/common/cluster.sql``.
    """

    #: Statements run so far, by name.
    counts: Counter[str]

    def is_transient(self, error: BaseException) -> bool:
        """Whether ``error`` says the store could not run a statement now but may later."""
        ...

    # -- nodes

    def register_node(self, node_id: str, host_identifier: str) -> None:
        """N1: insert this node's row, ACTIVE (a duplicate id raises ``IntegrityError``)."""
        ...

    def heartbeat(self, node_id: str, current_load: int) -> bool:
        """N2: refresh this node's row; False when the row is gone."""
        ...

    def mark_unreachable(self, threshold_ms: int, *, deadline: float | None = None) -> int:
        """N3: ACTIVE nodes silent for ``threshold_ms`` become UNREACHABLE; how many (0 when
        the verdict came after ``deadline``)."""
        ...

    def delete_unreachable(self, threshold_ms: int, *, deadline: float | None = None) -> int:
        """N4: UNREACHABLE nodes silent for ``threshold_ms`` are removed; how many."""
        ...

    def deregister(self, node_id: str) -> None:
        """Remove this node's row (graceful shutdown)."""
        ...

    def active_nodes(self) -> list[ActiveNode]:
        """N5: ACTIVE nodes, least loaded first."""
        ...

    def all_nodes(self) -> list[NodeRow]:
        """N6: every node row with the age of its heartbeat, by node id."""
        ...

    def sweep_view(self, node_id: str, threshold_ms: int, future_ms: int) -> SweepView:
        """N6 for a sweep: ``node_id``'s row, the rows silent for ``threshold_ms`` or more or
        ``future_ms`` or more ahead of the clock, and how many rows there are."""
        ...

    # -- coordination

    def insert_coordination(
        self,
        job_execution_id: int,
        master_node_id: str,
        master_step_execution_id: int,
        master_step_name: str,
    ) -> None:
        """C1: the coordination row of a job execution, CREATED."""
        ...

    def transition_coordination(
        self,
        coordination: Coordination,
        master_node_id: str,
        expected: CoordinationStatus | str,
        status: CoordinationStatus | str,
    ) -> bool:
        """C2: from ``expected`` to ``status``, for this master only."""
        ...

    def find_orphaned_masters(self) -> list[Coordination]:
        """C3: STARTED or RECOVERING jobs whose master's node row is gone."""
        ...

    def claim_orphaned_master(self, orphan: Coordination, node_id: str) -> bool:
        """C4: take over a lost master's job; True for the one node that wins."""
        ...

    def get_coordination(self, job_execution_id: int) -> Coordination | None:
        """The coordination row of a job execution."""
        ...

    def find_recovering(self, node_id: str) -> list[Coordination]:
        """RECOVERING jobs that ``node_id`` claimed and has not finished recovering."""
        ...

    # -- partitions

    def insert_partitions(self, tasks: Iterable[PartitionTask]) -> None:
        """P1: partitions of a master step, PENDING, all or none."""
        ...

    def fetch_assigned(self, node_id: str, limit: int) -> list[PartitionTask]:
        """P2: up to ``limit`` PENDING partitions of ``node_id`` whose job is STARTED."""
        ...

    def claim_assigned(self, node_id: str, limit: int) -> list[PartitionTask] | None:
        """P2 and P3 at once: claim up to ``limit`` of ``node_id``'s PENDING partitions of
        STARTED jobs, skipping rows others hold; the claimed ones (CLAIMED), or None where the
        store cannot (then :meth:`fetch_assigned` and :meth:`claim_partition` each)."""
        ...

    def list_claimed(self, node_id: str) -> list[PartitionTask]:
        """The partitions CLAIMED by ``node_id``, by step execution id."""
        ...

    def transition_partition(
        self,
        task: PartitionTask,
        node_id: str,
        expected: PartitionStatus | str,
        status: PartitionStatus | str,
    ) -> bool:
        """P3: this node's partition from ``expected`` to ``status``."""
        ...

    def claim_partition(self, task: PartitionTask, node_id: str) -> bool:
        """P3 from PENDING to CLAIMED; False too when its row stayed locked."""
        ...

    def end_partition(self, task: PartitionTask, node_id: str, status: PartitionStatus) -> bool:
        """P3 from CLAIMED to ``status`` (COMPLETED or FAILED) for this node, and its master
        woken (:meth:`announce_ended`); True when the row moved."""
        ...

    def refresh_partition(
        self, step_execution_id: int, node_id: str, *, connection: Connection | None = None
    ) -> bool:
        """P4: True while the partition is this node's CLAIMED partition (the fence, inside a
        chunk's transaction when ``connection`` is given)."""
        ...

    def count_open(self, master_step_execution_id: int) -> int:
        """P5: PENDING or CLAIMED partitions of a master step."""
        ...

    def count_failed(self, master_step_execution_id: int) -> int:
        """P6: FAILED partitions of a master step."""
        ...

    def find_orphaned_partitions(
        self, master_step_execution_id: int, threshold_ms: int
    ) -> list[PartitionTask]:
        """P7: open partitions silent for ``threshold_ms`` whose node row is gone."""
        ...

    def reassign(self, task: PartitionTask, new_node_id: str) -> bool:
        """P8: an orphan back to PENDING on ``new_node_id``, only as it was seen."""
        ...

    def fail_orphan(self, task: PartitionTask) -> bool:
        """An orphan (or an unclaimed partition of a stopping job) FAILED, only as it was seen."""
        ...

    def list_partitions(self, master_step_execution_id: int) -> list[PartitionTask]:
        """The partitions of a master step, by step execution id."""
        ...

    def record_phase(self, job_execution_id: int, node_id: str, phase: str) -> None:
        """E1: a phase-timing event."""
        ...

    def fail_open_partitions(self, master_step_execution_id: int) -> int:
        """Fence a recovered job: its PENDING and CLAIMED partitions end FAILED; how many."""
        ...

    # -- wake-ups (see springbatch_py.cluster.signals)

    @property
    def signals(self) -> Signals:
        """The wake-ups of the nodes of this process on this store."""
        ...

    def open_signals(self) -> None:
        """A node starts using :attr:`signals`: listen for the database's notifications where
        it has them (once per process and database)."""
        ...

    def close_signals(self) -> None:
        """A node stops using :attr:`signals` (the last one stops the listening)."""
        ...

    @property
    def notifications_live(self) -> bool:
        """Whether the database's notifications reach this process now (polls may slow)."""
        ...

    def announce_assigned(self, node_ids: Iterable[str]) -> None:
        """Partitions wait for ``node_ids``: wake their workers, here and, where the database
        notifies, in other processes. Never raises: a lost wake-up costs a poll."""
        ...

    def announce_ended(self, master_step_execution_id: int) -> None:
        """A partition of this manager step execution ended: wake its master."""
        ...


def _rows(result: StatementResult) -> list[dict[str, Any]]:
    # Drivers report column names in different cases (PostgreSQL folds, MySQL keeps them).
    return [{k.lower(): v for k, v in row._mapping.items()} for row in result.rows]


def _task(
    r: Mapping[str, Any], *, assigned_node: str | None = None, status: str | None = None
) -> PartitionTask:
    """A partition from a row of P2, P7 or the partition list (the columns each has)."""
    age = r.get("age_ms")
    return PartitionTask(
        r["step_execution_id"],
        r["job_execution_id"],
        r["partition_key"],
        r["master_step_execution_id"],
        bool(r["is_transferable"]),
        r.get("master_step_name"),
        r.get("assigned_node", assigned_node),
        r.get("status", status),
        None if age is None else float(age),
    )


class _LateVerdict(Exception):
    """Rolls back a sweep whose statement answered after its deadline."""


class SqlClusterStore:
    """Reads and writes the cluster tables of one database (a :class:`ClusterStore`)."""

    def __init__(self, db: Database, *, lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
        self.db = db
        self.dialect = db.dialect
        self.lock_timeout_ms = lock_timeout_ms
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------

    def _run(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        write: bool,
        connection: Connection | None = None,
    ) -> StatementResult:
        with self._lock:
            self.counts[name] += 1
        statement = self.db.statements[name]
        if connection is not None:
            return statement.run(connection, params)
        if self.dialect.cheap_autocommit:
            # One statement, one round trip: it commits on its own.
            with transactions.single_statements(self.db) as c:
                return statement.run(c, params)
        if write:
            with transactions.new_transaction(self.db) as c:
                return statement.run(c, params)
        with self.db.engine.connect() as c:
            return statement.run(c, params)

    def _run_bounded(
        self, name: str, params: Mapping[str, Any], *, deadline: float | None = None
    ) -> StatementResult | None:
        """Run a write whose lock waits are bounded; None when a lock wait ran out.

        With ``deadline`` (a :func:`time.monotonic` instant), the write is rolled back, and None
        returned, when the statement has not answered by then: a verdict taken on the database
        clock after a stall is not kept (the stall, not the rows, made the rows look old).
        """
        before, after = self.dialect.lock_timeout_sql(self.lock_timeout_ms)
        statement = self.db.statements[name]
        with self._lock:
            self.counts[name] += 1
        try:
            if not before and not after:
                with transactions.new_transaction(self.db) as c:
                    return self._within(deadline, name, statement.run(c, params))
            with self.db.engine.connect() as c:
                try:
                    with c.begin():
                        for sql in before:
                            c.execute(text(sql))
                        return self._within(deadline, name, statement.run(c, params))
                finally:
                    self._restore(c, after)
        except _LateVerdict:
            return None
        except DBAPIError as exc:
            if not self.dialect.is_lock_timeout(exc):
                raise
            log.info(
                "%s: a row is locked by another transaction; tried again later (%s)",
                name,
                ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k.endswith("_id")),
            )
            return None

    @staticmethod
    def _within(deadline: float | None, name: str, result: StatementResult) -> StatementResult:
        """``result``, or :class:`_LateVerdict` (rolling the transaction back) past ``deadline``."""
        late = 0.0 if deadline is None else time.monotonic() - deadline
        if late > 0:
            log.warning(
                "%s answered %.1f s after its deadline: the database stalled, its verdict is "
                "rolled back",
                name,
                late,
            )
            raise _LateVerdict(name)
        return result

    @staticmethod
    def _restore(connection: Connection, statements: list[str]) -> None:
        if not statements:
            return
        try:
            for sql in statements:
                connection.execute(text(sql))
            connection.commit()
        except DBAPIError:
            # A connection whose session setting could not be restored is not pooled again.
            connection.invalidate()

    @contextmanager
    def _batch(self) -> Iterator[Connection]:
        with transactions.new_transaction(self.db) as c:
            yield c

    def _now(self) -> Any:
        return self.dialect.bind_timestamp(datetime.now(self.db.settings.zone).replace(tzinfo=None))

    def statement_count(self) -> int:
        """All statements run so far."""
        with self._lock:
            return sum(self.counts.values())

    # -- wake-ups ----------------------------------------------------------------------------

    def _hub_key(self) -> str:
        return self.db.engine.url.render_as_string(hide_password=False)

    def _hub(self) -> _Hub:
        with _hubs_lock:
            hub = _hubs.get(self._hub_key())
            if hub is None:
                hub = _hubs[self._hub_key()] = _Hub(Signals())
            return hub

    @property
    def signals(self) -> Signals:
        """The wake-ups of this process's nodes on this database."""
        return self._hub().signals

    def open_signals(self) -> None:
        """Count a node in; the first one starts listening where the dialect notifies."""
        hub = self._hub()
        with _hubs_lock:
            hub.users += 1
            if hub.listener is None and self.dialect.listen_notify and notifications_wanted():
                hub.listener = Listener(self.db, CHANNEL, hub.signals.deliver)
                hub.listener.start()
            listener = hub.listener
        if listener is not None and not listener.wait_live(5.0):
            log.warning("not listening for cluster notifications yet: polling meanwhile")

    def close_signals(self) -> None:
        """Count a node out; the last one stops the listener."""
        key = self._hub_key()
        with _hubs_lock:
            hub = _hubs.get(key)
            if hub is None:
                return
            hub.users -= 1
            if hub.users > 0:
                return
            del _hubs[key]
            listener = hub.listener
        if listener is not None:
            listener.stop()

    @property
    def notifications_live(self) -> bool:
        """Whether this process hears the database's notifications now."""
        with _hubs_lock:
            hub = _hubs.get(self._hub_key())
        return hub is not None and hub.listener is not None and hub.listener.live

    def announce_assigned(self, node_ids: Iterable[str]) -> None:
        """Wake the workers of ``node_ids``: here at once, elsewhere by notification."""
        ids = sorted(set(node_ids))
        self.signals.assigned(ids)
        self._notify(assigned_payload(ids))

    def announce_ended(self, master_step_execution_id: int) -> None:
        """Wake the master of ``master_step_execution_id``."""
        self.signals.ended(master_step_execution_id)
        self._notify(ended_payload(master_step_execution_id))

    def _notify(self, payload: str) -> None:
        if not self.dialect.listen_notify:
            return
        with self._lock:
            self.counts["cluster_notify"] += 1
        try:
            with transactions.single_statements(self.db) as c:
                self.dialect.notify(c, CHANNEL, payload)
                if not self.dialect.cheap_autocommit:
                    c.commit()
        except Exception as exc:
            log.info("notification %r not sent (the poll will do): %s", payload, exc)

    def is_transient(self, error: BaseException) -> bool:
        """Whether the database could not run a statement now but may later (the dialect's
        :meth:`~springbatch_py.db.dialect.Dialect.is_transient`)."""
        return self.dialect.is_transient(error)

    # -- nodes -------------------------------------------------------------------------------

    def register_node(self, node_id: str, host_identifier: str) -> None:
        """N1: insert this node's row (raises if the id exists)."""
        NODE.check([None], NodeStatus.ACTIVE)
        self._run(
            "node_register", {"node_id": node_id, "host_identifier": host_identifier}, write=True
        )

    def heartbeat(self, node_id: str, current_load: int) -> bool:
        """N2: refresh this node's row; False when the row is gone (the node was evicted)."""
        # 0 rows must mean "row gone", never "nothing changed": two heartbeats within one tick
        # of the column (whole seconds on the cluster library's MySQL DDL) with the same load
        # change no value. MySQL then reports 0 affected rows unless the client asks for
        # matched rows (CLIENT_FOUND_ROWS), which SQLAlchemy's MySQL drivers do on every
        # connection; the conformance suite pins it (test_cluster_store.py:
        # test_an_update_that_changes_nothing_still_counts_its_row).
        result = self._run(
            "node_heartbeat", {"node_id": node_id, "current_load": current_load}, write=True
        )
        return one_row("node_heartbeat", result.rowcounts[0], f"node {node_id}")

    def mark_unreachable(self, threshold_ms: int, *, deadline: float | None = None) -> int:
        """N3: how many nodes became UNREACHABLE (0 when a node row stayed locked, or when the
        statement answered after ``deadline``: see :meth:`_run_bounded`)."""
        NODE.check([NodeStatus.ACTIVE], NodeStatus.UNREACHABLE)
        result = self._run_bounded(
            "node_mark_unreachable", {"threshold_ms": threshold_ms}, deadline=deadline
        )
        return 0 if result is None else result.rowcounts[-1]

    def delete_unreachable(self, threshold_ms: int, *, deadline: float | None = None) -> int:
        """N4: how many UNREACHABLE nodes were removed (0 when a node row stayed locked, or
        when the statement answered after ``deadline``)."""
        NODE.check([NodeStatus.UNREACHABLE], None)
        result = self._run_bounded(
            "node_delete_unreachable", {"threshold_ms": threshold_ms}, deadline=deadline
        )
        return 0 if result is None else result.rowcounts[-1]

    def deregister(self, node_id: str) -> None:
        """Remove this node's row (graceful shutdown)."""
        self._run("node_deregister", {"node_id": node_id}, write=True)

    def active_nodes(self) -> list[ActiveNode]:
        """N5: ACTIVE nodes, least loaded first."""
        return [
            ActiveNode(r["node_id"], int(r["current_load"] or 0))
            for r in _rows(self._run("node_list_active", write=False))
        ]

    def all_nodes(self, *, connection: Connection | None = None) -> list[NodeRow]:
        """N6: every node row (on ``connection`` when given, e.g. a read transaction)."""
        return [
            self._node_row(r)
            for r in _rows(self._run("node_list_all", write=False, connection=connection))
        ]

    def sweep_view(self, node_id: str, threshold_ms: int, future_ms: int) -> SweepView:
        """N6 for a sweep: the rows worth judging and the number of rows, in one read that
        transfers O(1) rows while every node is alive."""
        rows = _rows(
            self._run(
                "node_list_sweep",
                {"node_id": node_id, "threshold_ms": threshold_ms, "future_age_ms": -future_ms},
                write=False,
            )
        )
        count = int(rows[0]["node_count"] or 0) if rows else 0
        return SweepView([self._node_row(r) for r in rows], count)

    def _node_row(self, r: Mapping[str, Any]) -> NodeRow:
        return NodeRow(
            r["node_id"],
            self.dialect.read_timestamp(r["created_time"]),
            self.dialect.read_timestamp(r["last_updated_time"]),
            r["status"],
            r["host_identifier"],
            int(r["current_load"] or 0),
            float(r["heartbeat_age_ms"] or 0),
        )

    # -- coordination ------------------------------------------------------------------------

    def insert_coordination(
        self,
        job_execution_id: int,
        master_node_id: str,
        master_step_execution_id: int,
        master_step_name: str,
    ) -> None:
        """C1: the coordination row, CREATED (its times from this node's clock, as Java's)."""
        COORDINATION.check([None], CoordinationStatus.CREATED)
        self._run(
            "coordination_insert",
            {
                "job_execution_id": job_execution_id,
                "master_node_id": master_node_id,
                "master_step_execution_id": master_step_execution_id,
                "master_step_name": master_step_name,
                "now": self._now(),
            },
            write=True,
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
        result = self._run(
            "coordination_transition",
            {
                "job_execution_id": coordination.job_execution_id,
                "master_step_execution_id": coordination.master_step_execution_id,
                "master_node_id": master_node_id,
                "expected_status": expected,
                "status": status,
                "now": self._now(),
            },
            write=True,
        )
        return one_row(
            "coordination_transition",
            result.rowcounts[0],
            f"job execution {coordination.job_execution_id}",
        )

    def find_orphaned_masters(self) -> list[Coordination]:
        """C3: STARTED or RECOVERING jobs whose master's node row is gone."""
        return [
            Coordination(
                r["job_execution_id"],
                r["master_node_id"],
                r["master_step_execution_id"],
                r["master_step_name"],
                "",
            )
            for r in _rows(self._run("coordination_find_orphaned", write=False))
        ]

    def claim_orphaned_master(self, orphan: Coordination, node_id: str) -> bool:
        """C4: take over a lost master's job; True for the one node that wins."""
        COORDINATION.check(
            [CoordinationStatus.STARTED, CoordinationStatus.RECOVERING],
            CoordinationStatus.RECOVERING,
        )
        result = self._run(
            "coordination_claim_orphaned",
            {
                "job_execution_id": orphan.job_execution_id,
                "lost_node_id": orphan.master_node_id,
                "node_id": node_id,
                "now": self._now(),
            },
            write=True,
        )
        return one_row(
            "coordination_claim_orphaned",
            result.rowcounts[0],
            f"job execution {orphan.job_execution_id}",
        )

    def get_coordination(
        self, job_execution_id: int, *, connection: Connection | None = None
    ) -> Coordination | None:
        """The coordination row of a job execution."""
        rows = _rows(
            self._run(
                "coordination_get",
                {"job_execution_id": job_execution_id},
                write=False,
                connection=connection,
            )
        )
        return self._coordination(rows[0]) if rows else None

    def list_coordinations(self, *, connection: Connection | None = None) -> list[Coordination]:
        """Every coordination row, newest first."""
        rows = _rows(self._run("coordination_list", write=False, connection=connection))
        return [self._coordination(r) for r in rows]

    def delete_coordination(self, job_execution_id: int) -> None:
        """Delete a coordination row (before deleting its job execution)."""
        self._run("coordination_delete", {"job_execution_id": job_execution_id}, write=True)

    def _coordination(self, r: Mapping[str, Any]) -> Coordination:
        return Coordination(
            r["job_execution_id"],
            r["master_node_id"],
            r["master_step_execution_id"],
            r["master_step_name"],
            r["status"],
            self.dialect.read_timestamp(r["created_time"]),
            self.dialect.read_timestamp(r["last_updated"]),
        )

    # -- partitions --------------------------------------------------------------------------

    def insert_partitions(self, tasks: Iterable[PartitionTask]) -> None:
        """P1: the partitions of a master step, PENDING, in one transaction (one batch)."""
        PARTITION.check([None], PartitionStatus.PENDING)
        rows = [
            {
                "step_execution_id": task.step_execution_id,
                "job_execution_id": task.job_execution_id,
                "partition_key": task.partition_key,
                "assigned_node": task.assigned_node,
                "master_step_execution_id": task.master_step_execution_id,
                "is_transferable": 1 if task.transferable else 0,
            }
            for task in tasks
        ]
        with self._lock:
            self.counts["partition_insert"] += len(rows)
        with self._batch() as c:
            self.db.statements["partition_insert"].run_many(c, rows)

    def fetch_assigned(self, node_id: str, limit: int) -> list[PartitionTask]:
        """P2: up to ``limit`` PENDING partitions assigned to ``node_id`` of STARTED jobs."""
        rows = _rows(
            self._run("partition_fetch_assigned", {"node_id": node_id, "limit": limit}, write=False)
        )
        return [_task(r, assigned_node=node_id, status=PartitionStatus.PENDING) for r in rows]

    def claim_assigned(self, node_id: str, limit: int) -> list[PartitionTask] | None:
        """P2 and P3 in one statement where the dialect has SKIP LOCKED and RETURNING (one
        round trip for up to ``limit`` partitions; a row another transaction holds is left for
        a later poll); None elsewhere."""
        if not self.dialect.skip_locked:
            return None
        PARTITION.check([PartitionStatus.PENDING], PartitionStatus.CLAIMED)
        rows = _rows(
            self._run("partition_claim_assigned", {"node_id": node_id, "limit": limit}, write=True)
        )
        return [_task(r, assigned_node=node_id, status=PartitionStatus.CLAIMED) for r in rows]

    def list_claimed(self, node_id: str) -> list[PartitionTask]:
        """The partitions CLAIMED by ``node_id``."""
        rows = _rows(self._run("partition_list_claimed", {"node_id": node_id}, write=False))
        return [_task(r, assigned_node=node_id, status=PartitionStatus.CLAIMED) for r in rows]

    def transition_partition(
        self,
        task: PartitionTask,
        node_id: str,
        expected: PartitionStatus | str,
        status: PartitionStatus | str,
    ) -> bool:
        """P3 as compare-and-set for this node's partition; True when exactly one row moved."""
        PARTITION.check([expected], status)
        result = self._run(
            "partition_transition",
            {
                "step_execution_id": task.step_execution_id,
                "job_execution_id": task.job_execution_id,
                "master_step_execution_id": task.master_step_execution_id,
                "node_id": node_id,
                "expected_status": expected,
                "status": status,
            },
            write=True,
        )
        return one_row(
            "partition_transition", result.rowcounts[0], f"partition {task.step_execution_id}"
        )

    def claim_partition(self, task: PartitionTask, node_id: str) -> bool:
        """P3 from PENDING to CLAIMED for this node, with a bounded lock wait: False when the
        partition moved or ended meanwhile, or when its row stayed locked by a frozen node's
        transaction for :attr:`lock_timeout_ms`; a
        partition still PENDING for this node is claimed at a later poll."""
        PARTITION.check([PartitionStatus.PENDING], PartitionStatus.CLAIMED)
        result = self._run_bounded(
            "partition_transition",
            {
                "step_execution_id": task.step_execution_id,
                "job_execution_id": task.job_execution_id,
                "master_step_execution_id": task.master_step_execution_id,
                "node_id": node_id,
                "expected_status": PartitionStatus.PENDING,
                "status": PartitionStatus.CLAIMED,
            },
        )
        return result is not None and one_row(
            "partition_transition", result.rowcounts[-1], f"partition {task.step_execution_id}"
        )

    def end_partition(self, task: PartitionTask, node_id: str, status: PartitionStatus) -> bool:
        """P3 that ends this node's partition, and wakes its master: where the database
        notifies, the notification goes in the same statement (one round trip)."""
        PARTITION.check([PartitionStatus.CLAIMED], status)
        result = self._run(
            "partition_end",
            {
                "step_execution_id": task.step_execution_id,
                "job_execution_id": task.job_execution_id,
                "master_step_execution_id": task.master_step_execution_id,
                "node_id": node_id,
                "status": status,
                "channel": CHANNEL,
                "payload": ended_payload(task.master_step_execution_id),
            },
            write=True,
        )
        count = len(result.rows) if result.rowcounts[-1] == -1 else result.rowcounts[-1]
        moved = one_row("partition_end", count, f"partition {task.step_execution_id}")
        if moved:
            self.signals.ended(task.master_step_execution_id)
        return moved

    def refresh_partition(
        self, step_execution_id: int, node_id: str, *, connection: Connection | None = None
    ) -> bool:
        """P4: True while the partition is still this node's CLAIMED partition.

        Run inside a chunk's transaction, it is the fence: it also locks the row until the
        chunk commits, so a reassignment waits for the commit or wins before it.
        """
        # A refresh within one tick of the column changes nothing: matched rows (see heartbeat).
        result = self._run(
            "partition_refresh",
            {"step_execution_id": step_execution_id, "node_id": node_id},
            write=True,
            connection=connection,
        )
        return one_row("partition_refresh", result.rowcounts[0], f"partition {step_execution_id}")

    def count_open(self, master_step_execution_id: int) -> int:
        """P5: PENDING or CLAIMED partitions of a master step."""
        return int(
            self._run(
                "partition_count_open",
                {"master_step_execution_id": master_step_execution_id},
                write=False,
            ).scalar()
            or 0
        )

    def count_failed(self, master_step_execution_id: int) -> int:
        """P6: FAILED partitions of a master step."""
        return int(
            self._run(
                "partition_count_failed",
                {"master_step_execution_id": master_step_execution_id},
                write=False,
            ).scalar()
            or 0
        )

    def find_orphaned_partitions(
        self, master_step_execution_id: int, threshold_ms: int
    ) -> list[PartitionTask]:
        """P7: open partitions silent for the threshold whose node is gone."""
        rows = _rows(
            self._run(
                "partition_find_orphaned",
                {
                    "master_step_execution_id": master_step_execution_id,
                    "threshold_ms": threshold_ms,
                },
                write=False,
            )
        )
        return [_task(r) for r in rows]

    def reassign(self, task: PartitionTask, new_node_id: str) -> bool:
        """P8 as compare-and-set: only from the node and status the orphan was seen with.

        False too when the row stayed locked (its node froze inside a chunk's transaction) for
        :attr:`lock_timeout_ms`: try again later.
        """
        PARTITION.check([task.status], PartitionStatus.PENDING)
        result = self._run_bounded(
            "partition_reassign",
            {
                "new_node_id": new_node_id,
                "job_execution_id": task.job_execution_id,
                "master_step_execution_id": task.master_step_execution_id,
                "step_execution_id": task.step_execution_id,
                "expected_status": task.status,
                "old_node_id": task.assigned_node or NO_NODE,
            },
        )
        return result is not None and one_row(
            "partition_reassign", result.rowcounts[-1], f"partition {task.step_execution_id}"
        )

    def fail_orphan(self, task: PartitionTask) -> bool:
        """A non-transferable orphan ends FAILED, only from how it was seen (False too when its
        row stayed locked: try again later)."""
        PARTITION.check([task.status], PartitionStatus.FAILED)
        result = self._run_bounded(
            "partition_fail_orphan",
            {
                "step_execution_id": task.step_execution_id,
                "master_step_execution_id": task.master_step_execution_id,
                "expected_status": task.status,
                "old_node_id": task.assigned_node or NO_NODE,
            },
        )
        return result is not None and one_row(
            "partition_fail_orphan", result.rowcounts[-1], f"partition {task.step_execution_id}"
        )

    def list_partitions(
        self, master_step_execution_id: int, *, connection: Connection | None = None
    ) -> list[PartitionTask]:
        """The partitions of a master step."""
        rows = _rows(
            self._run(
                "partition_list",
                {"master_step_execution_id": master_step_execution_id},
                write=False,
                connection=connection,
            )
        )
        return [_task(r) for r in rows]

    def count_partitions_by_status(
        self, *, connection: Connection | None = None
    ) -> list[PartitionCount]:
        """How many partitions each job execution has in each status."""
        rows = _rows(self._run("partition_count_by_status", write=False, connection=connection))
        return [
            PartitionCount(r["job_execution_id"], r["status"], int(r["partition_count"]))
            for r in rows
        ]

    def record_phase(self, job_execution_id: int, node_id: str, phase: str) -> None:
        """E1: a phase-timing event."""
        self._run(
            "phase_event_insert",
            {"job_execution_id": job_execution_id, "node_id": node_id, "phase": phase},
            write=True,
        )

    # -- recovery of lost masters ------------------------------------------------------------

    def fail_open_partitions(self, master_step_execution_id: int) -> int:
        """Fence a recovered job: its PENDING and CLAIMED partitions end FAILED; how many.

        A chunk that is committing holds its partition's row (the fence), so this waits for
        it; after it, no worker commits anything more for these partitions. A row that stays
        locked for :attr:`lock_timeout_ms` (its node froze inside a chunk's transaction) raises
        :class:`RowLockedError` and changes nothing: the recovery is tried again later.
        """
        PARTITION.check([PartitionStatus.PENDING, PartitionStatus.CLAIMED], PartitionStatus.FAILED)
        result = self._run_bounded(
            "partition_fail_open_of_master",
            {"master_step_execution_id": master_step_execution_id},
        )
        if result is None:
            raise RowLockedError(
                f"a partition of master step execution {master_step_execution_id} is locked by "
                "a node frozen inside a chunk's transaction"
            )
        return result.rowcounts[-1]

    def find_recovering(self, node_id: str) -> list[Coordination]:
        """RECOVERING jobs that ``node_id`` claimed and has not finished recovering."""
        return [
            Coordination(
                r["job_execution_id"],
                r["master_node_id"],
                r["master_step_execution_id"],
                r["master_step_name"],
                CoordinationStatus.RECOVERING,
            )
            for r in _rows(
                self._run("coordination_find_recovering", {"node_id": node_id}, write=False)
            )
        ]
