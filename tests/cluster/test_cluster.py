"""Clusters of real OS processes on every engine: distribution, exactly-once, failover, fencing.

Timings are scaled down (heartbeat 200 ms, eviction after 6 s; see ``app.SETTINGS``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from springbatch_py.cluster import Node, NodeStatus, strategy_for
from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.db.settings import DatabaseSettings
from tests.cluster.app import AUDIT, METADATA, JobSpec, make_job, make_registry, settings_for

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Process:
    popen: subprocess.Popen[str]
    node_id: str
    log: Path


class Cluster:
    """Node processes on one scratch database, plus in-process nodes."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.db = Database.open(url)
        create_schema(self.db, major=6)
        with self.db.begin() as connection:
            METADATA.create_all(connection)
        self.store = SqlClusterStore(self.db)
        self.processes: list[Process] = []
        self.nodes: list[Node] = []
        self._logs: list[TextIO] = []

    def spawn(self, spec: JobSpec | None = None, **settings: str) -> Process:
        index = len(self.processes)
        ready = self.folder / f"node{index}.ready"
        log = self.folder / f"node{index}.log"
        handle = log.open("w")
        self._logs.append(handle)
        args = [sys.executable, "-m", "tests.cluster.node_main", self.url, str(ready)]
        if spec is not None:
            args.append(spec.to_json())
        env = {
            **os.environ,
            **{f"SPRING_BATCH_CLUSTER_{k.upper()}": v for k, v in settings.items()},
        }
        popen = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=handle, text=True, env=env
        )

        def registered() -> bool:
            if popen.poll() is not None:
                raise AssertionError(f"node process exited: {log.read_text()[-3000:]}")
            return ready.exists() and bool(ready.read_text())

        wait_for(registered, 60, "a node process to register")
        process = Process(popen, ready.read_text(), log)
        self.processes.append(process)
        return process

    def nothing_locked(self) -> bool:
        """Whether another process holds a lock a writer of the cluster would wait for."""
        if self.db.dialect.name == "sqlite":
            # One lock for the whole file: try to take it, briefly.
            probe = sa.create_engine(self.db.engine.url, connect_args={"timeout": 0.3})
            try:
                raw = probe.raw_connection()
                try:
                    raw.driver_connection.isolation_level = None  # type: ignore[union-attr]
                    raw.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
                    raw.driver_connection.execute("ROLLBACK")  # type: ignore[union-attr]
                    return True
                except sa.exc.OperationalError:
                    return False
                except Exception as exc:  # sqlite3.OperationalError is not wrapped here
                    if "locked" in str(exc):
                        return False
                    raise
                finally:
                    raw.close()
            finally:
                probe.dispose()
        tables = [
            self.db.dialect.table_name(n, "cluster") for n in ("BATCH_NODES", "BATCH_PARTITIONS")
        ]
        tables += ["BATCH_STEP_EXECUTION", "BATCH_JOB_EXECUTION", "audit_items"]
        with self.db.connect() as c:
            try:
                for name in tables:
                    exact = self.db.dialect.case_sensitive_table_names
                    table = sa.table(name if exact else name.lower())
                    c.execute(
                        sa.select(sa.literal(1)).select_from(table).with_for_update(nowait=True)
                    ).all()
                return True
            except sa.exc.DBAPIError:
                return False
            finally:
                c.rollback()

    def freeze(self, process: Process) -> None:
        """SIGSTOP ``process`` at a moment it holds no database lock (a process frozen inside a
        transaction keeps its locks, and writers of those rows wait for it)."""
        for _ in range(50):
            process.popen.send_signal(signal.SIGSTOP)
            time.sleep(0.02)
            if self.nothing_locked():
                return
            process.popen.send_signal(signal.SIGCONT)
            time.sleep(0.03)
        raise AssertionError("could not freeze the node outside a transaction")

    def log_tail(self, process: Process) -> str:
        return process.log.read_text()[-4000:]

    def node(self, prefix: str = "test") -> Node:
        holder = [""]
        settings = settings_for(self.db.dialect).replace(node_id_prefix=prefix)
        node = Node(self.db, steps=make_registry(self.db, holder), settings=settings)
        holder[0] = node.node_id
        node.start()
        self.nodes.append(node)
        return node

    def audit(self) -> list[tuple[str, int, str]]:
        with self.db.connect() as c:
            return [tuple(r) for r in c.execute(sa.select(AUDIT))]  # type: ignore[misc]

    def partitions(self, job_execution_id: int) -> list[dict[str, Any]]:
        coordination = self.store.get_coordination(job_execution_id)
        assert coordination is not None
        return [vars(p) for p in self.store.list_partitions(coordination.master_step_execution_id)]

    def close(self) -> None:
        for node in self.nodes:
            node.stop(drain=False)
        for process in self.processes:
            if process.popen.poll() is None:
                os.kill(process.popen.pid, signal.SIGCONT)
                process.popen.kill()
            process.popen.wait(30)
            if process.popen.stdout is not None:
                process.popen.stdout.close()
        for handle in self._logs:
            handle.close()
        self.db.close()


def assert_exactly_once(cluster: Cluster, spec: JobSpec) -> list[tuple[str, int, str]]:
    rows = cluster.audit()
    items = Counter(item for _, item, _ in rows)
    assert sorted(items) == list(range(spec.partitions * spec.items))
    duplicates = {item: n for item, n in items.items() if n > 1}
    assert not duplicates, f"written more than once: {duplicates}"
    return rows


def _launch(node: Node, spec: JobSpec) -> Future[JobExecution]:
    return node.launch_async(make_job(spec), spec.parameters())


# -- distribution and exactly-once -------------------------------------------------------------


def test_three_nodes_run_every_partition_once_with_each_strategy(cluster: Cluster) -> None:
    cluster.spawn()
    cluster.spawn()
    master = cluster.node()
    for run, (mode, fixed) in enumerate(
        [("ROUND_ROBIN", 0), ("FIXED_NODE_COUNT", 2), ("LEAST_LOADED", 0)], start=1
    ):
        wait_for(
            lambda: (
                all(n.current_load == 0 for n in cluster.store.active_nodes())
                and len(cluster.store.active_nodes()) == 3
            ),
            20,
            "three idle nodes",
        )
        nodes = cluster.store.active_nodes()
        spec = JobSpec(partitions=30, items=4, mode=mode, fixed_node_count=fixed, run=str(run))
        job = make_job(spec)
        succeeded: list[list[Any]] = []
        job.steps[0].on_success = succeeded.append  # type: ignore[attr-defined]
        execution = master.launch(job, spec.parameters())
        assert execution.status is BatchStatus.COMPLETED, execution.exit_status
        assert [len(executions) for executions in succeeded] == [30]
        partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
        assert len(partitions) == 30 and {p["status"] for p in partitions} == {"COMPLETED"}
        expected = strategy_for(mode, fixed).assign(30, nodes)
        by_key = {p["partition_key"]: p["assigned_node"] for p in partitions}
        assert [by_key[f"rangeSum:{i}"] for i in range(30)] == expected
        written_by = {(key, node) for key, _, node in cluster.audit()}
        assert written_by == set(by_key.items())  # each partition ran on its assigned node
        used = Counter(expected)
        assert len(used) == (2 if mode == "FIXED_NODE_COUNT" else 3)
        with cluster.db.begin() as c:
            all_rows = cluster.audit()
            assert len(all_rows) == 120
            c.execute(AUDIT.delete())
        manager = next(s for s in execution.step_executions if s.step_name == "rangeJob.manager")
        assert (manager.read_count, manager.write_count) == (120, 120)


# -- failover ----------------------------------------------------------------------------------


def _kill_worker_mid_partition(cluster: Cluster, spec: JobSpec) -> tuple[JobExecution, str]:
    victim = cluster.spawn()
    cluster.spawn()
    master = cluster.node()
    future = _launch(master, spec)
    try:
        wait_for(
            lambda: any(node == victim.node_id for _, _, node in cluster.audit()),
            60,
            "the victim to commit a chunk",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the victim's log:\n{cluster.log_tail(victim)}") from None
    victim.popen.send_signal(signal.SIGKILL)
    victim.popen.wait(10)
    execution = future.result(timeout=120)
    return execution, victim.node_id


def test_killed_worker_transferable_partitions_finish_elsewhere(cluster: Cluster) -> None:
    spec = JobSpec(partitions=9, items=20, delay_ms=40, transferable=True)
    execution, victim = _kill_worker_mid_partition(cluster, spec)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    assert {p["status"] for p in partitions} == {"COMPLETED"}
    assert victim not in {p["assigned_node"] for p in partitions}  # its work moved
    assert_exactly_once(cluster, spec)


def test_killed_worker_non_transferable_partitions_fail_the_job(cluster: Cluster) -> None:
    spec = JobSpec(partitions=9, items=20, delay_ms=40, transferable=False)
    execution, victim = _kill_worker_mid_partition(cluster, spec)
    assert execution.status is BatchStatus.FAILED
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    lost = [p for p in partitions if p["assigned_node"] == victim]
    assert lost and {p["status"] for p in lost} == {"FAILED"}
    assert {p["status"] for p in partitions if p["assigned_node"] != victim} == {"COMPLETED"}
    steps = {s.id: s for s in execution.step_executions}
    assert {steps[p["step_execution_id"]].status for p in lost} == {BatchStatus.FAILED}
    rows = cluster.audit()
    assert len(rows) == len({item for _, item, _ in rows})  # nothing written twice


def test_killed_master_fails_the_job_and_a_restart_runs_only_what_was_left(
    cluster: Cluster,
) -> None:
    spec = JobSpec(partitions=12, items=20, delay_ms=40, transferable=True)
    survivor = cluster.node()
    cluster.spawn()
    master = cluster.spawn(spec)
    wait_for(lambda: len(cluster.audit()) >= 40, 60, "some chunks to commit")
    master.popen.send_signal(signal.SIGKILL)
    master.popen.wait(10)
    execution_id = wait_for(
        lambda: next(
            (
                c.job_execution_id
                for c in cluster.store.list_coordinations()
                if c.status == "ABANDONED"
            ),
            None,
        ),
        60,
        "recovery to abandon the job",
    )
    explorer = survivor.repository
    failed = wait_for(
        lambda: (
            (e := explorer.get_job_execution(execution_id)) is not None
            and e.status is BatchStatus.FAILED
            and e
        ),
        30,
        "the job to be FAILED",
    )
    assert "master node" in failed.exit_status.exit_description
    # Running partitions stop at their next chunk (their rows moved under them); let them.
    wait_for(
        lambda: all(n.current_load == 0 for n in cluster.store.active_nodes()),
        30,
        "the workers to stop",
    )
    done_before = {
        s.step_name
        for s in explorer.get_job_execution(execution_id).step_executions  # type: ignore[union-attr]
        if s.status is BatchStatus.COMPLETED and s.step_name.startswith("rangeSum:")
    }
    restarted = survivor.restart(make_job(spec), execution_id)
    assert restarted.status is BatchStatus.COMPLETED, restarted.exit_status
    rerun = {s.step_name for s in restarted.step_executions if s.step_name.startswith("rangeSum:")}
    assert rerun and not (rerun & done_before)  # only what was left ran again
    assert rerun | done_before == {f"rangeSum:{i}" for i in range(spec.partitions)}
    assert_exactly_once(cluster, spec)


def test_frozen_worker_commits_nothing_for_reassigned_partitions(cluster: Cluster) -> None:
    spec = JobSpec(partitions=6, items=30, delay_ms=50, transferable=True)
    frozen = cluster.spawn()
    cluster.spawn()
    master = cluster.node()
    future = _launch(master, spec)
    wait_for(
        lambda: any(node == frozen.node_id for _, _, node in cluster.audit()),
        60,
        "the worker to commit a chunk",
    )
    cluster.freeze(frozen)
    stopped_at = len([r for r in cluster.audit() if r[2] == frozen.node_id])
    execution = future.result(timeout=120)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    assert frozen.node_id not in {p["assigned_node"] for p in cluster.partitions(execution.id)}  # type: ignore[arg-type]
    frozen.popen.send_signal(signal.SIGCONT)
    # Back: it learns it was evicted, is fenced, registers again.
    wait_for(
        lambda: frozen.node_id in {n.node_id for n in cluster.store.active_nodes()},
        30,
        "the frozen node to register again",
    )
    time.sleep(1.0)  # time for any in-flight chunk to try to commit
    rows = assert_exactly_once(cluster, spec)
    assert len([r for r in rows if r[2] == frozen.node_id]) <= stopped_at + 5
    log = frozen.log.read_text()
    assert "evicted" in log


def test_unknown_worker_step_fails_its_partitions_without_hanging(cluster: Cluster) -> None:
    node = cluster.node()
    spec = JobSpec(partitions=3, items=2, worker="ghost")
    heard: dict[str, list[str]] = {}
    job = make_job(spec)
    manager = job.steps[0]
    manager.on_failure = lambda executions: heard.setdefault(  # type: ignore[attr-defined]
        "failure", [e.status.name for e in executions]
    )
    execution = node.launch_async(job, spec.parameters()).result(timeout=30)
    assert execution.status is BatchStatus.FAILED
    assert heard == {"failure": ["FAILED", "FAILED", "FAILED"]}
    counts = node.statement_counts()
    assert counts["partition_insert"] == 3
    # claimed one by one (or in one statement for all where SKIP LOCKED exists), then failed
    assert counts.get("partition_transition", 0) == (0 if node.db.dialect.skip_locked else 3)
    assert counts["partition_end"] == 3
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    assert {p["status"] for p in partitions} == {"FAILED"}
    workers = [s for s in execution.step_executions if s.step_name.startswith("ghost:")]
    assert len(workers) == 3
    assert all(s.status is BatchStatus.FAILED for s in workers)
    assert all("no step named 'ghost'" in s.exit_status.exit_description for s in workers)


def test_sigterm_drains_running_partitions_then_leaves(cluster: Cluster) -> None:
    spec = JobSpec(partitions=4, items=10, delay_ms=50, mode="FIXED_NODE_COUNT", fixed_node_count=1)
    worker = cluster.spawn()
    # Only the first node in the least-loaded order (all idle: by id) gets work; the process's
    # "test-..." id sorts before the master's "zz-...".
    master = cluster.node(prefix="zz")
    future = _launch(master, spec)
    wait_for(
        lambda: any(node == worker.node_id for _, _, node in cluster.audit()),
        60,
        "the worker to start",
    )
    worker.popen.send_signal(signal.SIGTERM)
    assert worker.popen.wait(60) == 0
    assert worker.node_id not in {n.node_id for n in cluster.store.all_nodes()}
    execution = future.result(timeout=60)
    assert execution.status is BatchStatus.COMPLETED
    assert_exactly_once(cluster, spec)


def test_node_lifecycle_and_statuses(cluster: Cluster) -> None:
    node = cluster.node()
    assert node.status is NodeStatus.ACTIVE
    rows = {n.node_id: n for n in cluster.store.all_nodes()}
    assert rows[node.node_id].status == "ACTIVE" and node.node_id.startswith("test-")
    assert len(node.node_id) <= 100
    with cluster.db.begin() as c:  # evicted behind its back
        c.execute(sa.text(f"DELETE FROM {_nodes(cluster)} WHERE NODE_ID = :n"), {"n": node.node_id})
    wait_for(
        lambda: (
            node.status is NodeStatus.ACTIVE
            and node.node_id in {n.node_id for n in cluster.store.all_nodes()}
        ),
        10,
        "the node to register again",
    )
    node.stop()
    assert node.node_id not in {n.node_id for n in cluster.store.all_nodes()}


def _nodes(cluster: Cluster) -> str:
    return cluster.db.dialect.table_name("BATCH_NODES", "cluster")


def test_nodes_in_different_time_zones_are_noticed_not_evicted(cluster: Cluster) -> None:
    utc = cluster.node()
    tokyo_db = Database.open(cluster.url, DatabaseSettings(time_zone="Asia/Tokyo"))
    try:
        tokyo = Node(
            tokyo_db, steps=make_registry(tokyo_db, [""]), settings=settings_for(tokyo_db.dialect)
        ).start()
        cluster.nodes.append(tokyo)
        if not cluster.db.dialect.zone_sensitive_clock:
            # The database converts or stores instants: the zones cannot disagree.
            time.sleep(3 * utc.settings.unreachable_node_thread_interval / 1000)
            assert not utc.clock_check.mismatches and not tokyo.clock_check.mismatches
        else:
            found = wait_for(lambda: utc.clock_check.mismatches, 10, "the mismatch to be noticed")
            assert set(found) == {tokyo.node_id} and found[tokyo.node_id].offset_hours == -9.0
            wait_for(lambda: tokyo.clock_check.mismatches, 30, "the other side to notice")
            time.sleep(2 * utc.settings.node_cleanup_threshold / 1000)
        ids = {n.node_id for n in cluster.store.active_nodes()}
        assert {utc.node_id, tokyo.node_id} <= ids  # nobody was evicted
    finally:
        tokyo.stop(drain=False)
        tokyo_db.close()
