"""Cluster logic on the in-memory store and a manual clock: sweeps, orphans, lost-master
recovery and the fence, with the faults of the liveness work replayed step by step.

Nothing here sleeps: time moves when :meth:`Cluster.beat` or the clock says so, and each node's
threads are played by calling what they call (``_heartbeat``, ``_mark_unreachable``, ...) in the
order a fault would. Job and step executions live in a SQLite file, the cluster tables in a
:class:`MemoryClusterStore`; a fault at an exact statement is a one-shot action run before it
(:meth:`Cluster.before`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from springbatch_py.cluster.errors import CoordinationLostError
from springbatch_py.cluster.master import PartitionStep, _ManagerRun
from springbatch_py.cluster.memory import ManualClock, MemoryClusterStore, StoreUnavailableError
from springbatch_py.cluster.node import Node
from springbatch_py.cluster.partitioner import FunctionPartitioner
from springbatch_py.cluster.recovery import recover_orphaned_masters
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.states import CoordinationStatus, NodeStatus, PartitionStatus
from springbatch_py.cluster.store import ClusterStore, Coordination, PartitionTask
from springbatch_py.core.domain import JobExecution, StepContribution
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import ChunkContext, RepeatStatus, TaskletStep
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository

#: The thresholds the tests count with (the Java library's defaults, spelled out).
SETTINGS = ClusterSettings(
    node_id_prefix="unit",
    heartbeat_interval=1_000,
    unreachable_node_threshold=10_000,
    node_cleanup_threshold=30_000,
)
UNREACHABLE, CLEANUP = SETTINGS.unreachable_node_threshold, SETTINGS.node_cleanup_threshold
#: A bound on waiting for a partition's thread (never reached: it only guards a hang).
THREAD_TIMEOUT_S = 20


class Cluster:
    """Nodes on one memory store and one manual clock, their jobs in one SQLite file."""

    def __init__(self, folder: Path) -> None:
        self.clock = ManualClock()
        self._faults: dict[str, list[Callable[[], object]]] = {}
        self.store = MemoryClusterStore(self.clock, before=self._before)
        self.db = Database.open(f"sqlite:///{folder / 'jobs.db'}")
        create_schema(self.db)
        self.repository = JobRepository(self.db)
        self.nodes: list[Node] = []

    def _before(self, statement: str) -> None:
        faults = self._faults.get(statement)
        if faults:
            faults.pop(0)()

    def before(self, statement: str, fault: Callable[[], object], *, times: int = 1) -> None:
        """Run ``fault`` just before each of the next ``times`` runs of ``statement``."""
        self._faults.setdefault(statement, []).extend([fault] * times)

    def node(self, *steps: TaskletStep) -> Node:
        """A registered node whose threads the test plays."""
        node = Node(
            self.db, steps=steps, settings=SETTINGS, store=self.store, clock=self.clock.seconds
        )
        self.store.register_node(node.node_id, "unit")
        self.nodes.append(node)
        return node

    def beat(self, *nodes: Node, ms: int) -> None:
        """Let ``ms`` pass, ``nodes`` heartbeating every heartbeat interval (the others are
        silent: dead, frozen, or cut off)."""
        interval = SETTINGS.heartbeat_interval
        for _ in range(ms // interval):
            self.clock.advance(interval)
            for node in nodes:
                node._heartbeat()

    def statuses(self) -> dict[str, str]:
        """Each node row's status."""
        return {n.node_id: n.status for n in self.store.all_nodes()}

    def close(self) -> None:
        for node in self.nodes:
            node.worker.close()
        self.db.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()


def unavailable() -> None:
    raise StoreUnavailableError("the database does not answer")


def status(node: Node) -> NodeStatus:
    """The node's own view of itself (read anew each time)."""
    return node.status


# -- jobs ----------------------------------------------------------------------------------------


class Job:
    """A running partitioned job: its execution, manager step and partitions."""

    def __init__(
        self, cluster: Cluster, master: str, nodes: list[str | None], pinned: tuple[int, ...] = ()
    ) -> None:
        repository = cluster.repository
        self.store: ClusterStore = cluster.store
        self.execution = repository.create_job_execution("clustered", {"run": "1"})
        self.execution.status = BatchStatus.STARTED
        repository.update(self.execution)
        self.manager = self.execution.create_step_execution("clustered.manager")
        self.manager.status = BatchStatus.STARTED
        repository.add(self.manager)
        workers = [self.execution.create_step_execution(f"worker:{i}") for i in range(len(nodes))]
        repository.add_all(workers)
        assert self.execution.id is not None and self.manager.id is not None
        self.tasks = [
            PartitionTask(
                w.id or 0,
                self.execution.id,
                w.step_name,
                self.manager.id,
                i not in pinned,
                "worker",
                node,
                PartitionStatus.PENDING,
            )
            for i, (w, node) in enumerate(zip(workers, nodes, strict=True))
        ]
        self.coordination = Coordination(
            self.execution.id, master, self.manager.id, "worker", CoordinationStatus.STARTED
        )
        self.store.insert_coordination(self.execution.id, master, self.manager.id, "worker")
        self.store.insert_partitions(self.tasks)
        assert self.store.transition_coordination(
            self.coordination, master, CoordinationStatus.CREATED, CoordinationStatus.STARTED
        )
        self.step = PartitionStep(
            "clustered.manager", worker="worker", partitioner=FunctionPartitioner(lambda n: [])
        )

    @property
    def id(self) -> int:
        assert self.execution.id is not None
        return self.execution.id

    def partitions(self) -> dict[str, tuple[str | None, str | None]]:
        """Each partition's node and status."""
        return {
            t.partition_key: (t.assigned_node, t.status)
            for t in self.store.list_partitions(self.coordination.master_step_execution_id)
        }

    def _run(self, master: Node) -> _ManagerRun:
        return _ManagerRun(self.step, self.manager, master.runtime, master.worker)

    def scan_orphans(self, master: Node) -> None:
        """One orphan scan of the master's wait loop."""
        self._run(master)._recover_orphans(self.coordination.master_step_execution_id)

    def wait(self, master: Node) -> None:
        """The master's wait for its partitions (returns or raises at its first check here)."""
        self._run(master)._wait(self.coordination)


def claim(store: ClusterStore, task: PartitionTask, node: Node) -> None:
    assert store.transition_partition(
        task, node.node_id, PartitionStatus.PENDING, PartitionStatus.CLAIMED
    )


def stored(cluster: Cluster, job: Job) -> JobExecution:
    execution = cluster.repository.get_job_execution(job.id)
    assert execution is not None
    return execution


# -- sweeps --------------------------------------------------------------------------------------


def test_a_silent_node_is_marked_unreachable_then_removed_at_its_thresholds(
    cluster: Cluster,
) -> None:
    sweeper = cluster.node()
    cluster.store.register_node("dead", "h")
    cluster.beat(sweeper, ms=UNREACHABLE - 1_000)
    sweeper._mark_unreachable()
    assert cluster.statuses()["dead"] == NodeStatus.ACTIVE  # silent 9 s of 10
    cluster.beat(sweeper, ms=1_000)
    sweeper._mark_unreachable()
    sweeper._remove_unreachable()
    assert cluster.statuses() == {"dead": "UNREACHABLE", sweeper.node_id: "ACTIVE"}
    cluster.beat(sweeper, ms=CLEANUP - UNREACHABLE - 1_000)
    sweeper._remove_unreachable()
    assert "dead" in cluster.statuses()  # silent 29 s of 30
    cluster.beat(sweeper, ms=1_000)
    sweeper._remove_unreachable()
    assert cluster.statuses() == {sweeper.node_id: "ACTIVE"}
    assert cluster.store.heartbeat("dead", 0) is False  # it would learn it is gone


def test_a_database_stall_longer_than_the_cleanup_threshold_evicts_nobody(
    cluster: Cluster,
) -> None:
    """Liveness defect 7: after a stall every row is old; a sweeper whose own row is as old,
    or whose heartbeats just resumed, judges nobody until the others had a threshold to beat."""
    first, second = cluster.node(), cluster.node()
    cluster.store.register_node("ghost", "h")  # a node that really dies in the stall
    cluster.beat(first, second, ms=5_000)
    cluster.clock.advance(CLEANUP + 2 * UNREACHABLE)  # no statement answers meanwhile
    for node in (first, second):  # the sweepers' turn comes before any heartbeat
        node._mark_unreachable()
        node._remove_unreachable()
    assert set(cluster.statuses().values()) == {"ACTIVE"}
    cluster.beat(first, second, ms=1_000)  # the heartbeats land again
    first._mark_unreachable()
    assert set(cluster.statuses().values()) == {"ACTIVE"}  # they resumed a moment ago
    cluster.beat(first, second, ms=UNREACHABLE)
    first._mark_unreachable()
    cluster.beat(first, second, ms=1_000)
    second._remove_unreachable()
    assert cluster.statuses() == {first.node_id: "ACTIVE", second.node_id: "ACTIVE"}
    assert cluster.store.counts["node_register"] == 3  # nobody had to register again
    assert status(first) is status(second) is NodeStatus.ACTIVE


def test_a_sweep_whose_verdict_lands_after_a_stall_is_rolled_back(cluster: Cluster) -> None:
    """The sweeper read fresh rows, then the database froze before its UPDATE ran: on the
    later clock every node looks dead, and the verdict must not be kept."""
    first, second, third = cluster.node(), cluster.node(), cluster.node()
    cluster.beat(first, second, third, ms=5_000)
    cluster.beat(first, second, ms=UNREACHABLE)  # the third is silent: there is a verdict to take
    cluster.before("node_mark_unreachable", lambda: cluster.clock.advance(CLEANUP + UNREACHABLE))
    first._mark_unreachable()
    assert set(cluster.statuses().values()) == {"ACTIVE"}
    assert cluster.store.counts["node_mark_unreachable"] == 1  # it ran, and was rolled back


def test_a_sweep_with_nobody_to_judge_writes_nothing(cluster: Cluster) -> None:
    first, second = cluster.node(), cluster.node()
    cluster.beat(first, second, ms=UNREACHABLE + 5_000)
    first._mark_unreachable()
    first._remove_unreachable()
    assert cluster.store.counts["node_list_sweep"] == 2
    assert cluster.store.counts["node_mark_unreachable"] == 0
    assert cluster.store.counts["node_delete_unreachable"] == 0
    cluster.beat(first, ms=UNREACHABLE)
    first._mark_unreachable()
    assert cluster.statuses()[second.node_id] == "UNREACHABLE"


def test_a_node_whose_heartbeats_fail_claims_nothing_until_one_lands(cluster: Cluster) -> None:
    node, _silent = cluster.node(), cluster.node()  # the other one never beats
    job = Job(cluster, node.node_id, [node.node_id])
    cluster.before("node_heartbeat", unavailable, times=6)
    cluster.beat(node, ms=6_000)
    assert status(node) is NodeStatus.UNREACHABLE
    assert node.worker.poll_once() == 0
    assert job.partitions()["worker:0"] == (node.node_id, "PENDING")
    cluster.beat(node, ms=1_000)
    assert status(node) is NodeStatus.ACTIVE
    # Its own silence of 7 s just ended: the others get a threshold to beat before it sweeps.
    node._mark_unreachable()
    assert cluster.store.counts["node_mark_unreachable"] == 0
    cluster.beat(node, ms=UNREACHABLE)
    node._mark_unreachable()
    assert cluster.store.counts["node_mark_unreachable"] == 1


def test_a_claim_whose_answer_was_lost_is_not_stranded(cluster: Cluster) -> None:
    """The claim committed, then the connection broke before its answer: the partition is
    CLAIMED by a live node that does not run it. The next poll puts it back and runs it."""
    node = cluster.node()
    job = Job(cluster, node.node_id, [node.node_id])
    claim = cluster.store.claim_partition

    def lost_answer(task: PartitionTask, node_id: str) -> bool:
        claim(task, node_id)
        raise StoreUnavailableError("the answer was lost")

    cluster.store.claim_partition = lost_answer  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailableError):
        node.worker.poll_once()
    assert job.partitions()["worker:0"] == (node.node_id, "CLAIMED")  # and nothing runs it
    cluster.store.claim_partition = claim  # type: ignore[method-assign]
    assert node.worker.poll_once() == 1  # released, then claimed again: it runs now
    assert node.worker.drain(10)
    assert job.partitions()["worker:0"][1] in ("COMPLETED", "FAILED")  # it ran, and ended


# -- the master's orphan scan ---------------------------------------------------------------------


def test_orphans_are_reassigned_once_and_pinned_ones_fail(cluster: Cluster) -> None:
    master, other = cluster.node(), cluster.node()
    job = Job(cluster, master.node_id, ["dead", "dead", "dead", other.node_id], pinned=(2,))
    moved: list[str] = []
    reassign = cluster.store.reassign

    def counted(task: PartitionTask, new_node_id: str) -> bool:
        won = reassign(task, new_node_id)
        if won:
            moved.append(task.partition_key)
        return won

    cluster.store.reassign = counted  # type: ignore[method-assign]
    cluster.clock.advance(CLEANUP - 1_000)
    job.scan_orphans(master)
    assert moved == [] and job.partitions()["worker:2"] == ("dead", "PENDING")
    cluster.clock.advance(1_000)
    # A second scan (a master that lags behind its own view) runs between the first one's
    # read of the orphans and its updates: every orphan still moves once.
    cluster.before("partition_reassign", lambda: job.scan_orphans(master))
    job.scan_orphans(master)
    assert sorted(moved) == ["worker:0", "worker:1"]
    assert cluster.store.counts["partition_reassign"] == 4  # two won, two found it moved
    partitions = job.partitions()
    assert {partitions["worker:0"][0], partitions["worker:1"][0]} == {
        master.node_id,
        other.node_id,
    }
    assert partitions["worker:2"] == ("dead", "FAILED")
    assert partitions["worker:3"] == (other.node_id, "PENDING")
    steps = {s.step_name: s.status for s in stored(cluster, job).step_executions}
    assert steps["worker:2"] is BatchStatus.FAILED  # the pinned partition's step fails too
    assert steps["worker:0"] is BatchStatus.STARTING
    job.scan_orphans(master)  # their new nodes are alive: nothing moves again
    assert len(moved) == 2


# -- lost masters ---------------------------------------------------------------------------------


def test_a_lost_master_is_recovered_by_exactly_one_node_which_fences_its_workers(
    cluster: Cluster,
) -> None:
    """Liveness defects 1 and 3: the master freezes past its eviction; of two survivors that
    both see its job orphaned, one recovers it; the workers' claims are gone; the master wakes
    up, learns it was evicted, and its wait ends at once."""
    master, first, second = cluster.node(), cluster.node(), cluster.node()
    job = Job(cluster, master.node_id, [first.node_id, second.node_id])
    claim(cluster.store, job.tasks[0], first)
    cluster.beat(first, second, ms=UNREACHABLE)  # the master is frozen
    first._mark_unreachable()
    cluster.beat(first, second, ms=CLEANUP)
    second._remove_unreachable()
    assert master.node_id not in cluster.statuses()
    recovered: dict[str, int] = {}
    # Both find the orphan; the second claims and recovers it before the first's claim lands.
    cluster.before(
        "coordination_claim_orphaned",
        lambda: recovered.setdefault("second", recover_orphaned_masters(second.runtime)),
    )
    recovered["first"] = recover_orphaned_masters(first.runtime)
    assert recovered == {"second": 1, "first": 0}
    coordination = cluster.store.get_coordination(job.id)
    assert coordination is not None
    assert (coordination.status, coordination.master_node_id) == ("ABANDONED", second.node_id)
    assert {status for _, status in job.partitions().values()} == {"FAILED"}
    execution = stored(cluster, job)
    assert execution.status is BatchStatus.FAILED
    assert all(s.status is BatchStatus.FAILED for s in execution.step_executions)
    # The worker that held a claim finds the fence: nothing more of it commits or ends.
    assert not cluster.store.refresh_partition(job.tasks[0].step_execution_id, first.node_id)
    assert not cluster.store.transition_partition(
        job.tasks[0], first.node_id, PartitionStatus.CLAIMED, PartitionStatus.COMPLETED
    )
    master._heartbeat()  # the frozen master resumes
    assert status(master) is NodeStatus.UNREACHABLE
    with pytest.raises(CoordinationLostError, match="ABANDONED"):
        job.wait(master)
    assert recover_orphaned_masters(first.runtime) == 0  # nothing left to recover


def test_a_recovery_that_fails_midway_is_finished_by_another_node_once_its_owner_is_gone(
    cluster: Cluster,
) -> None:
    first, second = cluster.node(), cluster.node()
    job = Job(cluster, "lost-master", [first.node_id])
    cluster.before("partition_fail_open_of_master", unavailable)
    assert recover_orphaned_masters(first.runtime) == 0
    coordination = cluster.store.get_coordination(job.id)
    assert coordination is not None
    assert (coordination.status, coordination.master_node_id) == ("RECOVERING", first.node_id)
    assert stored(cluster, job).status is BatchStatus.STARTED  # never ABANDONED before FAILED
    assert recover_orphaned_masters(second.runtime) == 0  # its recoverer is alive: not taken
    cluster.store.deregister(first.node_id)  # the recoverer dies too
    assert recover_orphaned_masters(second.runtime) == 1
    coordination = cluster.store.get_coordination(job.id)
    assert coordination is not None
    assert (coordination.status, coordination.master_node_id) == ("ABANDONED", second.node_id)
    assert stored(cluster, job).status is BatchStatus.FAILED


# -- a frozen worker -------------------------------------------------------------------------------


class Blocking:
    """A tasklet that stops until released, then writes its context (one chunk)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, contribution: StepContribution, chunk: ChunkContext) -> RepeatStatus:
        self.entered.set()
        assert self.released.wait(THREAD_TIMEOUT_S)
        chunk.step_execution.execution_context["written"] = "by the frozen node"
        return RepeatStatus.FINISHED


def test_a_frozen_worker_resumes_to_find_its_claim_gone_and_commits_nothing(
    cluster: Cluster,
) -> None:
    tasklet = Blocking()
    worker = cluster.node(TaskletStep("worker", tasklet))
    master = cluster.node()
    job = Job(cluster, master.node_id, [worker.node_id])
    assert worker.worker.poll_once() == 1
    assert tasklet.entered.wait(THREAD_TIMEOUT_S)  # its chunk runs, then the node freezes
    cluster.beat(master, ms=UNREACHABLE)
    master._mark_unreachable()
    cluster.beat(master, ms=CLEANUP)
    master._remove_unreachable()
    job.scan_orphans(master)
    assert job.partitions() == {"worker:0": (master.node_id, "PENDING")}
    tasklet.released.set()  # the node resumes: its chunk commits, or tries to
    worker._heartbeat()
    assert status(worker) is NodeStatus.UNREACHABLE  # it learns it was evicted
    worker._maintain()  # fences, waits for its partition, registers again
    assert status(worker) is NodeStatus.ACTIVE
    assert cluster.store.counts["node_register"] == 3  # the two nodes, then the worker again
    assert job.partitions() == {"worker:0": (master.node_id, "PENDING")}
    step = cluster.repository.get_step_execution(job.id, job.tasks[0].step_execution_id)
    assert step is not None and "written" not in step.execution_context
    assert worker.worker.completed == worker.worker.failed == 0
    assert worker.worker.load == 0
