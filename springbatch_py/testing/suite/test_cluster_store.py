"""The cluster statements on every engine: what each one does, its compare-and-set row counts,
and racing claims from several connections.

The same tests run on the in-memory cluster store (engine ``memory``): what they ask of the
store, it must answer as the SQL does. There the rows age on a manual clock instead of by
sleeping, and a test that runs SQL of its own (``requires("sql")``) or needs row locks is
skipped, saying so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from springbatch_py.cluster.memory import ManualClock, MemoryClusterStore
from springbatch_py.cluster.states import PartitionStatus
from springbatch_py.cluster.store import Coordination, PartitionTask, SqlClusterStore
from springbatch_py.core.domain import JobExecution, JobInstance, StepExecution
from springbatch_py.core.parameters import JobParameters
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.testing.plugin import MEMORY

pytestmark = pytest.mark.memory_store

THREADS = 8


@dataclass
class Setup:
    store: SqlClusterStore | MemoryClusterStore
    execution: JobExecution
    manager: StepExecution
    workers: list[StepExecution]
    #: the database of the SQL store; None in memory
    db: Database | None = None
    #: the clock of the memory store; None on a database
    clock: ManualClock | None = None

    @property
    def sql(self) -> Database:
        """The database (only tests that require ``sql`` ask)."""
        assert self.db is not None, "this test runs SQL of its own: mark it requires('sql')"
        return self.db

    @property
    def millisecond_clock(self) -> bool:
        """Whether ages are measured in milliseconds (not whole seconds)."""
        return self.db is None or self.db.dialect.millisecond_clock

    def age_past(self, threshold_ms: int) -> None:
        """Until rows written now are older than ``threshold_ms``: the database's clock is
        waited for (a clock of whole seconds needs a second more), the memory store's moved."""
        if self.clock is not None:
            self.clock.advance(threshold_ms + 200)
            return
        extra = 0.2 if self.millisecond_clock else 1.2
        time.sleep(threshold_ms / 1000 + extra)

    def passed_deadline(self) -> float:
        """A sweep deadline that has passed by the time the statement answers."""
        if self.clock is not None:
            return self.clock.seconds() - 0.001
        return time.monotonic()

    def deadline_in(self, seconds: float) -> float:
        """A sweep deadline ``seconds`` from now, on the store's clock."""
        now = self.clock.seconds() if self.clock is not None else time.monotonic()
        return now + seconds

    def phase_event_count(self) -> int:
        """Rows of ``BATCH_JOB_PHASE_EVENTS``."""
        if isinstance(self.store, MemoryClusterStore):
            return len(self.store.phase_events)
        with self.sql.connect() as c:
            count = c.execute(sa.text("SELECT COUNT(*) FROM batch_job_phase_events")).scalar()
        return int(count or 0)

    def coordination(self, master: str = "master-1") -> Coordination:
        assert self.execution.id is not None and self.manager.id is not None
        return Coordination(self.execution.id, master, self.manager.id, "worker", "CREATED")

    def task(self, index: int, node: str | None, transferable: bool = True) -> PartitionTask:
        worker = self.workers[index]
        assert worker.id is not None and self.execution.id is not None
        assert self.manager.id is not None
        return PartitionTask(
            worker.id,
            self.execution.id,
            worker.step_name,
            self.manager.id,
            transferable,
            assigned_node=node,
            status="PENDING",
        )


@pytest.fixture
def setup(engine: str, request: pytest.FixtureRequest) -> Setup:
    if engine == MEMORY:
        return _in_memory()
    database: Database = request.getfixturevalue("database")
    create_schema(database)
    repository = JobRepository(database)
    execution = repository.create_job_execution("clustered", {"run": "1"})
    manager = execution.create_step_execution("clustered.manager")
    repository.add(manager)
    workers = [execution.create_step_execution(f"worker:{i}") for i in range(4)]
    repository.add_all(workers)
    return Setup(SqlClusterStore(database), execution, manager, workers, db=database)


def _in_memory() -> Setup:
    """The same job execution and steps, with the ids a repository would give them (the
    memory store knows no job tables)."""
    execution = JobExecution(JobInstance(1, "clustered"), JobParameters({"run": "1"}), id=1)
    manager = execution.create_step_execution("clustered.manager")
    manager.id = 1
    workers = [execution.create_step_execution(f"worker:{i}") for i in range(4)]
    for step_id, worker in enumerate(workers, start=2):
        worker.id = step_id
    clock = ManualClock()
    return Setup(MemoryClusterStore(clock), execution, manager, workers, clock=clock)


def _threshold(setup: Setup) -> int:
    """A silence threshold a fresh row never reaches: a clock of whole seconds reads a row
    written a moment ago as up to a second old."""
    return 1000 if setup.millisecond_clock else 3000


def _age_past(setup: Setup, threshold_ms: int) -> None:
    setup.age_past(threshold_ms)


def _race(calls: list[Callable[[], bool]]) -> list[bool]:
    """Run the calls at once from separate threads (and connections); their results."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except DBAPIError as exc:  # a deadlock victim or lock timeout lost the race
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [r is True for r in results]


# -- nodes ---------------------------------------------------------------------------------------


def test_node_rows_register_heartbeat_and_leave(setup: Setup) -> None:
    store = setup.store
    store.register_node("node-a", "host-a")
    store.register_node("node-b", "host-b")
    with pytest.raises(DBAPIError):
        store.register_node("node-a", "host-a")  # the primary key refuses a second row
    assert store.heartbeat("node-a", 5) is True
    assert store.heartbeat("node-b", 1) is True
    assert store.heartbeat("node-gone", 0) is False
    assert [(n.node_id, n.current_load) for n in store.active_nodes()] == [
        ("node-b", 1),
        ("node-a", 5),
    ]
    rows = {n.node_id: n for n in store.all_nodes()}
    assert set(rows) == {"node-a", "node-b"}
    assert rows["node-a"].status == "ACTIVE" and rows["node-a"].host_identifier == "host-a"
    for row in rows.values():
        # A fresh heartbeat is young on the database clock (whole-second clocks round).
        assert -1000 < row.heartbeat_age_ms < 5000, row
        assert row.created_time is not None and row.last_updated_time is not None
    store.deregister("node-a")
    assert [n.node_id for n in store.all_nodes()] == ["node-b"]


@pytest.mark.requires("sql")
def test_an_update_that_changes_nothing_still_counts_its_row(setup: Setup) -> None:
    """The heartbeat reads 0 rows as "this node's row is gone" (SqlClusterStore.heartbeat): two
    heartbeats within one tick of the column (whole seconds on the cluster library's MySQL DDL)
    with the same load write the values the row already holds, and must still count it. MySQL
    and MariaDB count matched rows, not changed ones, only for a client that asks
    (CLIENT_FOUND_ROWS), as SQLAlchemy's MySQL drivers do on every connection."""
    setup.store.register_node("node-a", "host-a")
    assert setup.store.heartbeat("node-a", 7) is True
    nodes = setup.sql.dialect.table_name("BATCH_NODES", "cluster")
    same = sa.text(
        f"UPDATE {nodes} SET STATUS = 'ACTIVE', CURRENT_LOAD = :load, "
        "LAST_UPDATED_TIME = LAST_UPDATED_TIME WHERE NODE_ID = :node"
    )
    with setup.sql.begin() as c:
        assert c.execute(same, {"load": 7, "node": "node-a"}).rowcount == 1
        assert c.execute(same, {"load": 7, "node": "node-gone"}).rowcount == 0


def test_silent_nodes_are_marked_then_removed_once(setup: Setup) -> None:
    store = setup.store
    store.register_node("silent", "h")
    threshold = _threshold(setup)
    assert store.mark_unreachable(60_000) == 0  # young rows stay ACTIVE
    _age_past(setup, threshold)
    store.register_node("fresh", "h")
    assert (
        _race([lambda: store.mark_unreachable(threshold) == 1 for _ in range(THREADS)]).count(True)
        == 1
    )
    statuses = {n.node_id: n.status for n in store.all_nodes()}
    assert statuses == {"silent": "UNREACHABLE", "fresh": "ACTIVE"}
    assert [n.node_id for n in store.active_nodes()] == ["fresh"]
    assert store.delete_unreachable(threshold) == 1
    assert store.delete_unreachable(threshold) == 0
    assert store.heartbeat("silent", 0) is False  # the evicted node learns it is gone
    assert [n.node_id for n in store.all_nodes()] == ["fresh"]


def test_a_sweep_answering_past_its_deadline_is_rolled_back(setup: Setup) -> None:
    """A sweep that waited out a stall must not keep a verdict taken on the later clock."""
    store = setup.store
    store.register_node("silent", "h")
    threshold = _threshold(setup)
    _age_past(setup, threshold)
    passed = setup.passed_deadline()  # as if the statement waited past the deadline
    assert store.mark_unreachable(threshold, deadline=passed) == 0
    assert {n.node_id: n.status for n in store.all_nodes()} == {"silent": "ACTIVE"}
    assert store.mark_unreachable(threshold, deadline=setup.deadline_in(60)) == 1
    assert store.delete_unreachable(threshold, deadline=passed) == 0
    assert [n.node_id for n in store.all_nodes()] == ["silent"]
    assert store.delete_unreachable(threshold, deadline=setup.deadline_in(60)) == 1
    assert store.all_nodes() == []


# -- coordination --------------------------------------------------------------------------------


def test_coordination_moves_only_from_the_expected_status(setup: Setup) -> None:
    store = setup.store
    coordination = setup.coordination()
    store.insert_coordination(
        coordination.job_execution_id,
        coordination.master_node_id,
        coordination.master_step_execution_id,
        coordination.master_step_name,
    )
    with pytest.raises(DBAPIError):
        store.insert_coordination(
            coordination.job_execution_id, "other", coordination.master_step_execution_id, "w"
        )
    assert store.transition_coordination(coordination, "master-1", "CREATED", "STARTED")
    assert not store.transition_coordination(coordination, "master-1", "CREATED", "STARTED")
    assert not store.transition_coordination(coordination, "master-2", "STARTED", "COMPLETED")
    row = store.get_coordination(coordination.job_execution_id)
    assert row is not None and (row.status, row.master_node_id) == ("STARTED", "master-1")
    assert [c.job_execution_id for c in store.list_coordinations()] == [
        coordination.job_execution_id
    ]


def test_a_lost_master_is_taken_over_by_exactly_one_node(setup: Setup) -> None:
    store = setup.store
    coordination = setup.coordination("lost-master")
    store.insert_coordination(
        coordination.job_execution_id, "lost-master", coordination.master_step_execution_id, "w"
    )
    assert store.find_orphaned_masters() == []  # CREATED is not recoverable
    store.transition_coordination(coordination, "lost-master", "CREATED", "STARTED")
    (orphan,) = store.find_orphaned_masters()  # no node row for lost-master
    assert orphan.master_node_id == "lost-master"
    wins = _race(
        [partial(store.claim_orphaned_master, orphan, f"rescuer-{i}") for i in range(THREADS)]
    )
    assert wins.count(True) == 1
    row = store.get_coordination(coordination.job_execution_id)
    assert row is not None and row.status == "RECOVERING"
    assert row.master_node_id == f"rescuer-{wins.index(True)}"
    # A registered master is not an orphan.
    store.register_node(row.master_node_id, "h")
    assert store.find_orphaned_masters() == []


# -- partitions ----------------------------------------------------------------------------------


def _started(setup: Setup, tasks: list[PartitionTask]) -> None:
    coordination = setup.coordination()
    setup.store.insert_coordination(
        coordination.job_execution_id, "master-1", coordination.master_step_execution_id, "worker"
    )
    setup.store.insert_partitions(tasks)
    setup.store.transition_coordination(coordination, "master-1", "CREATED", "STARTED")


def test_partitions_are_claimed_refreshed_and_finished_by_their_node_only(setup: Setup) -> None:
    store = setup.store
    store.register_node("master-1", "h")
    tasks = [setup.task(i, "node-a" if i < 3 else "node-b") for i in range(4)]
    coordination = setup.coordination()
    store.insert_coordination(
        coordination.job_execution_id, "master-1", coordination.master_step_execution_id, "worker"
    )
    store.insert_partitions(tasks)
    assert store.fetch_assigned("node-a", 10) == []  # the job is not STARTED yet
    store.transition_coordination(coordination, "master-1", "CREATED", "STARTED")
    fetched = store.fetch_assigned("node-a", 2)
    assert len(fetched) == 2
    assert {t.partition_key for t in store.fetch_assigned("node-a", 10)} == {
        "worker:0",
        "worker:1",
        "worker:2",
    }
    assert all(t.master_step_name == "worker" and t.transferable for t in fetched)
    task = fetched[0]
    assert store.count_open(coordination.master_step_execution_id) == 4
    assert not store.transition_partition(task, "node-b", "PENDING", "CLAIMED")  # not its own
    assert store.transition_partition(task, "node-a", "PENDING", "CLAIMED")
    assert not store.transition_partition(task, "node-a", "PENDING", "CLAIMED")
    assert store.refresh_partition(task.step_execution_id, "node-a")
    assert not store.refresh_partition(task.step_execution_id, "node-b")
    assert task.partition_key not in {t.partition_key for t in store.fetch_assigned("node-a", 9)}
    assert store.transition_partition(task, "node-a", "CLAIMED", "COMPLETED")
    assert not store.refresh_partition(task.step_execution_id, "node-a")  # finished: no fence
    assert not store.transition_partition(task, "node-a", "CLAIMED", "FAILED")
    assert store.count_open(coordination.master_step_execution_id) == 3
    other = store.fetch_assigned("node-b", 10)[0]
    assert store.transition_partition(other, "node-b", "PENDING", "FAILED")
    assert store.count_failed(coordination.master_step_execution_id) == 1
    statuses = {t.partition_key: t.status for t in store.list_partitions(manager_id(task))}
    assert statuses[task.partition_key] == "COMPLETED"
    assert statuses[other.partition_key] == "FAILED"
    assert sorted(str(s) for s in statuses.values()) == [
        "COMPLETED",
        "FAILED",
        "PENDING",
        "PENDING",
    ]


@pytest.mark.requires("row_locks")
def test_a_partition_write_left_open_locks_no_other_partition(setup: Setup) -> None:
    """A node frozen between a partition write and its commit (a chunk's fence, a completion)
    holds that partition's row, and only it: claims and reassignments of the others go on."""
    store = setup.store
    fenced, completing, pending, orphan = (
        setup.task(0, "node-a"),
        setup.task(1, "node-a"),
        setup.task(2, "node-b"),
        setup.task(3, "node-gone"),
    )
    _started(setup, [fenced, completing, pending, orphan])
    for task in (fenced, completing, orphan):
        assert store.transition_partition(task, task.assigned_node or "", "PENDING", "CLAIMED")
    with setup.sql.engine.connect() as frozen, frozen.begin():
        assert store.refresh_partition(fenced.step_execution_id, "node-a", connection=frozen)
        moved = setup.sql.statements["partition_transition"].run(
            frozen,
            {
                "step_execution_id": completing.step_execution_id,
                "job_execution_id": completing.job_execution_id,
                "master_step_execution_id": completing.master_step_execution_id,
                "node_id": "node-a",
                "expected_status": "CLAIMED",
                "status": "COMPLETED",
            },
        )
        assert moved.rowcounts[0] == 1
        # Each of these waits for a lock at most the store's lock timeout, then answers False.
        assert store.claim_partition(pending, "node-b")
        assert store.reassign(replace(orphan, status="CLAIMED"), "node-b")
        assert not store.reassign(replace(fenced, status="CLAIMED"), "node-b")  # its row is held
    statuses = {t.partition_key: t.status for t in store.list_partitions(manager_id(fenced))}
    assert statuses == {
        "worker:0": "CLAIMED",
        "worker:1": "COMPLETED",
        "worker:2": "CLAIMED",
        "worker:3": "PENDING",
    }


def test_ending_a_partition_moves_only_its_claim_and_wakes_its_master(setup: Setup) -> None:
    store = setup.store
    task = setup.task(0, "node-a")
    store.register_node("master-1", "h")
    _started(setup, [task])
    ended = store.signals.watch(task.master_step_execution_id)
    try:
        assert not store.end_partition(task, "node-a", PartitionStatus.COMPLETED)  # PENDING
        assert not ended.is_set()
        assert store.transition_partition(task, "node-a", "PENDING", "CLAIMED")
        assert not store.end_partition(task, "node-b", PartitionStatus.COMPLETED)  # not its own
        assert store.end_partition(task, "node-a", PartitionStatus.COMPLETED)
        assert ended.wait(10)
        assert not store.end_partition(task, "node-a", PartitionStatus.FAILED)  # ended already
    finally:
        store.signals.unwatch(task.master_step_execution_id, ended)
    (listed,) = store.list_partitions(task.master_step_execution_id)
    assert listed.status == "COMPLETED"


@pytest.mark.requires("skip_locked")
def test_a_batch_claim_takes_only_free_pending_partitions_of_its_node(setup: Setup) -> None:
    """One statement claims up to its limit of the node's PENDING partitions of STARTED jobs,
    skipping a row another transaction holds instead of waiting for it."""
    store = setup.store
    assert isinstance(store, SqlClusterStore)
    tasks = [setup.task(i, "node-a" if i < 3 else "node-b") for i in range(4)]
    store.register_node("master-1", "h")
    coordination = setup.coordination()
    store.insert_coordination(
        coordination.job_execution_id, "master-1", coordination.master_step_execution_id, "worker"
    )
    store.insert_partitions(tasks)
    assert store.claim_assigned("node-a", 10) == []  # the job is not STARTED yet
    store.transition_coordination(coordination, "master-1", "CREATED", "STARTED")
    with setup.sql.engine.connect() as other, other.begin():
        other.execute(
            sa.text("SELECT status FROM batch_partitions WHERE step_execution_id = :id FOR UPDATE"),
            {"id": tasks[0].step_execution_id},
        )
        started = time.monotonic()
        first = store.claim_assigned("node-a", 1)
        waited = time.monotonic() - started
    assert [t.partition_key for t in first or []] == ["worker:1"], waited
    assert all(t.status == "CLAIMED" and t.master_step_name == "worker" for t in first or [])
    rest = store.claim_assigned("node-a", 10)
    assert [t.partition_key for t in rest or []] == ["worker:0", "worker:2"]
    assert store.claim_assigned("node-a", 10) == []
    statuses = {t.partition_key: t.status for t in store.list_partitions(manager_id(tasks[0]))}
    assert statuses == {
        "worker:0": "CLAIMED",
        "worker:1": "CLAIMED",
        "worker:2": "CLAIMED",
        "worker:3": "PENDING",
    }


@pytest.mark.requires("skip_locked")
def test_racing_batch_claims_claim_each_partition_once(setup: Setup) -> None:
    store = setup.store
    assert isinstance(store, SqlClusterStore)
    tasks = [setup.task(i, "node-a") for i in range(4)]
    store.register_node("master-1", "h")
    _started(setup, tasks)
    barrier = threading.Barrier(THREADS)
    claims: list[list[PartitionTask]] = []

    def claim() -> None:
        barrier.wait()
        claims.append(store.claim_assigned("node-a", 2) or [])

    threads = [threading.Thread(target=claim) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    keys = [t.partition_key for claimed in claims for t in claimed]
    assert sorted(keys) == [t.partition_key for t in tasks]


def manager_id(task: PartitionTask) -> int:
    return task.master_step_execution_id


def test_racing_claims_of_one_partition_have_one_winner(setup: Setup) -> None:
    store = setup.store
    task = setup.task(0, "node-a")
    _started(setup, [task])
    wins = _race(
        [lambda: store.transition_partition(task, "node-a", "PENDING", "CLAIMED")] * THREADS
    )
    assert wins.count(True) == 1
    (listed,) = store.list_partitions(task.master_step_execution_id)
    assert listed.status == "CLAIMED"


def test_orphans_of_a_removed_node_are_reassigned_once_or_failed(setup: Setup) -> None:
    store = setup.store
    store.register_node("master-1", "h")
    store.register_node("alive", "h")
    movable, pinned, kept = (
        setup.task(0, "dead"),
        setup.task(1, "dead", False),
        setup.task(2, "alive"),
    )
    _started(setup, [movable, pinned, kept])
    manager = movable.master_step_execution_id
    threshold = _threshold(setup)
    assert store.find_orphaned_partitions(manager, 60_000) == []  # not silent long enough
    _age_past(setup, threshold)
    orphans = {t.partition_key: t for t in store.find_orphaned_partitions(manager, threshold)}
    assert set(orphans) == {"worker:0", "worker:1"}  # the live node's partition is no orphan
    seen = orphans["worker:0"]
    assert (seen.assigned_node, seen.status, seen.transferable) == ("dead", "PENDING", True)
    assert not orphans["worker:1"].transferable
    wins = _race([partial(store.reassign, seen, f"new-{i}") for i in range(THREADS)])
    assert wins.count(True) == 1
    assert not store.reassign(seen, "late")  # it moved: the old view no longer matches
    assert store.fail_orphan(orphans["worker:1"])
    assert not store.fail_orphan(orphans["worker:1"])
    by_key = {t.partition_key: t for t in store.list_partitions(manager)}
    assert by_key["worker:0"].assigned_node == f"new-{wins.index(True)}"
    assert by_key["worker:0"].status == "PENDING"
    assert by_key["worker:1"].status == "FAILED"
    assert by_key["worker:2"].assigned_node == "alive"


def test_a_claimed_partition_cannot_be_reassigned_from_a_stale_view(setup: Setup) -> None:
    store = setup.store
    task = setup.task(0, "gone")
    _started(setup, [task])
    _age_past(setup, _threshold(setup))
    (orphan,) = store.find_orphaned_partitions(task.master_step_execution_id, _threshold(setup))
    # Between the master's scan and its update the partition moves on: the update must miss.
    assert store.transition_partition(task, "gone", "PENDING", "CLAIMED")
    assert not store.reassign(orphan, "new")
    assert not store.reassign(replace(orphan, assigned_node="other"), "new")


@pytest.mark.requires("sql")
def test_partition_rows_are_removed_with_their_step_execution(setup: Setup) -> None:
    task = setup.task(0, "node-a")
    _started(setup, [task])
    with setup.sql.begin() as c:
        c.execute(
            sa.text("DELETE FROM BATCH_STEP_EXECUTION_CONTEXT WHERE STEP_EXECUTION_ID = :id"),
            {"id": task.step_execution_id},
        )
        c.execute(
            sa.text("DELETE FROM BATCH_STEP_EXECUTION WHERE STEP_EXECUTION_ID = :id"),
            {"id": task.step_execution_id},
        )
    # BAT_PART_FK ... ON DELETE CASCADE (SQLite enforces it with foreign_keys on).
    assert setup.store.list_partitions(task.master_step_execution_id) == []


def test_phase_events_are_recorded(setup: Setup) -> None:
    assert setup.execution.id is not None
    setup.store.record_phase(setup.execution.id, "master-1", "RECEIVED")
    assert setup.phase_event_count() == 1
