"""Java and Python nodes in one cluster, on every live engine.

The Java nodes are the harness of compat/java (real JVM, real JDBC driver, Java serialization,
the cluster library's statements and semantics); the Python nodes are springbatch-py's, in this
process and as OS processes. Every node runs the same range job (tests/cluster/app.py): each
item leaves one audit row with the node that wrote it, so "exactly once" is checked row by row.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from springbatch_py.cluster import Node
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.repository.jobs import JobRepository
from tests.cluster.app import JobSpec, make_job, make_registry, settings_for
from tests.cluster.test_cluster import Cluster, Process, assert_exactly_once, wait_for
from tests.compat.jvm import Harness

#: The cluster settings every node of a test gets, Java or Python, by their Java names.
TIMINGS = (
    "heartbeat-interval",
    "unreachable-node-threshold",
    "node-cleanup-threshold",
    "unreachable-node-thread-interval",
    "node-cleanup-thread-interval",
    "task-polling-interval",
    "orphaned-tasks-polling-interval",
    "master-task-status-check-interval",
    "orphaned-master-scan-interval",
    "concurrency-limit-per-node",
)


def jdbc_url(url: str) -> str:
    """The JDBC URL of a SQLAlchemy URL (what the Java node is given)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"jdbc:sqlite:{parsed.database}"
    scheme = {"postgresql": "postgresql", "mariadb": "mariadb", "mysql": "mariadb"}[backend]
    query = f"?user={parsed.username}"
    if parsed.password:
        query += f"&password={parsed.password}"
    return f"jdbc:{scheme}://{parsed.host}:{parsed.port}/{parsed.database}{query}"


class MixedCluster(Cluster):
    """A :class:`Cluster` that also starts Java nodes."""

    def __init__(self, url: str, folder: Path, harness: Harness) -> None:
        super().__init__(url, folder)
        self.harness = harness
        settings = settings_for(self.db.dialect).to_properties()
        names = {k: k.removeprefix("spring.batch.cluster.") for k in settings}
        self.properties = [f"{names[k]}={v}" for k, v in settings.items() if names[k] in TIMINGS]

    def spawn_java(
        self,
        prefix: str = "java",
        *,
        launch: JobSpec | None = None,
        zone: str = "UTC",
    ) -> Process:
        index = len(self.processes)
        ready = self.folder / f"java{index}.ready"
        log = self.folder / f"java{index}.log"
        handle = log.open("w")
        self._logs.append(handle)
        args = ["node", "--url", jdbc_url(self.url), "--ready", str(ready), "--prefix", prefix]
        args += ["--zone", zone, "--deregister-on-exit"]
        for prop in self.properties:
            args += ["--set", prop]
        if launch is not None:
            args += ["--launch", launch.to_json()]
        popen = subprocess.Popen(
            self.harness.command(*args), stdout=subprocess.PIPE, stderr=handle, text=True
        )

        def registered() -> bool:
            if popen.poll() is not None:
                raise AssertionError(f"Java node exited: {log.read_text()[-3000:]}")
            return ready.exists() and bool(ready.read_text())

        wait_for(registered, 60, "a Java node to register")
        process = Process(popen, ready.read_text().strip(), log)
        self.processes.append(process)
        return process

    def java_result(self, process: Process, timeout: float = 180) -> dict[str, Any]:
        """The launch result a Java master prints, once it exits."""
        try:
            out, _ = process.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            raise AssertionError(f"Java master did not finish: {self.log_tail(process)}") from None
        lines = [line for line in out.splitlines() if line.startswith("{")]
        assert lines, f"no result line: {out!r} {self.log_tail(process)}"
        result: dict[str, Any] = json.loads(lines[-1])
        return result


@pytest.fixture
def mixed(database_url: str, tmp_path: Path, harness: Harness) -> Iterator[MixedCluster]:
    created = MixedCluster(database_url, tmp_path, harness)
    try:
        yield created
    finally:
        created.close()


def _by_node(rows: list[tuple[str, int, str]]) -> Counter[str]:
    return Counter(node for _, _, node in rows)


def _partition_nodes(rows: list[tuple[str, int, str]]) -> dict[str, set[str]]:
    nodes: dict[str, set[str]] = {}
    for key, _, node in rows:
        nodes.setdefault(key, set()).add(node)
    return nodes


def test_python_master_with_java_workers(mixed: MixedCluster) -> None:
    java = [mixed.spawn_java(f"java{i}") for i in range(2)]
    master = mixed.node("py-master")
    spec = JobSpec(partitions=12, items=10, delay_ms=5)
    execution = master.launch(make_job(spec), spec.parameters())
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    rows = assert_exactly_once(mixed, spec)
    counts = _by_node(rows)
    # Round robin over three live nodes: four partitions (40 items) each.
    assert {counts[p.node_id] for p in java} == {40}, counts
    assert counts[master.node_id] == 40
    manager = next(s for s in execution.step_executions if s.step_name == "rangeJob.manager")
    assert (manager.read_count, manager.write_count) == (120, 120)
    # The Java workers' step executions and contexts read back through Python.
    assert execution.id is not None
    loaded = master.repository.get_job_execution(execution.id)
    assert loaded is not None
    java_ids = {p.node_id for p in java}
    by_key = _partition_nodes(rows)
    java_steps = [s for s in loaded.step_executions if by_key.get(s.step_name, set()) & java_ids]
    assert len(java_steps) == 8
    for step in java_steps:
        assert step.status is BatchStatus.COMPLETED and step.commit_count == 3
        assert step.execution_context.get_int("range.read.count") == 10
        assert step.execution_context["AppUse_Cluster-Node-Identifier"] in java_ids


def test_java_master_with_python_workers(mixed: MixedCluster) -> None:
    python = [mixed.spawn() for _ in range(2)]
    spec = JobSpec(partitions=12, items=10, delay_ms=5, run="java-master")
    master = mixed.spawn_java("java-master", launch=spec)
    result = mixed.java_result(master)
    assert result["status"] == "COMPLETED", (result, mixed.log_tail(master))
    assert master.popen.returncode == 0
    rows = assert_exactly_once(mixed, spec)
    counts = _by_node(rows)
    assert {counts[p.node_id] for p in python} == {40}, counts
    assert counts[master.node_id] == 40
    # The job, as the Java master left it, read through Python.
    with Database.open(mixed.url) as db:
        execution = JobRepository(db).get_job_execution(result["job_execution_id"])
        assert execution is not None
        assert execution.status is BatchStatus.COMPLETED
        assert execution.job_parameters.get_value("run") == "java-master"
        manager = next(s for s in execution.step_executions if s.step_name == "rangeJob.manager")
        assert (manager.read_count, manager.write_count) == (120, 120)
        workers = [s for s in execution.step_executions if s.step_name.startswith("rangeSum:")]
        assert len(workers) == 12 and {s.status for s in workers} == {BatchStatus.COMPLETED}
    coordination = mixed.store.get_coordination(result["job_execution_id"])
    assert coordination is not None and coordination.status == "COMPLETED"
    assert coordination.master_node_id == master.node_id
    # Same parameters again: the instance is complete for Java and for Python alike.
    again = make_job(spec)
    with pytest.raises(Exception, match="already"):
        mixed.node("py-late").launch(again, spec.parameters())


def test_kill_9_of_a_java_and_a_python_worker(mixed: MixedCluster) -> None:
    java = [mixed.spawn_java(f"java{i}") for i in range(2)]
    python = [mixed.spawn() for _ in range(2)]
    master = mixed.node("py-master")
    spec = JobSpec(partitions=15, items=10, delay_ms=60, run="kills")
    future = master.launch_async(make_job(spec), spec.parameters())
    victims = [java[0], python[0]]

    def working() -> bool:
        counts = _by_node(mixed.audit())
        return all(counts[v.node_id] >= 5 for v in victims)

    wait_for(working, 60, "both victims to commit chunks")
    for victim in victims:
        victim.popen.send_signal(signal.SIGKILL)
    execution = future.result(timeout=180)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    rows = assert_exactly_once(mixed, spec)
    assert execution.id is not None
    partitions = mixed.partitions(execution.id)
    assert {p["status"] for p in partitions} == {"COMPLETED"}
    victim_ids = {v.node_id for v in victims}
    by_key = _partition_nodes(rows)
    # A partition still assigned to a killed node is one it finished before it died: every
    # item of it was written there. The others it held were finished elsewhere.
    for partition in partitions:
        if partition["assigned_node"] in victim_ids:
            assert by_key[partition["partition_key"]] == {partition["assigned_node"]}, partition
    moved = [k for k, nodes in by_key.items() if nodes & victim_ids and nodes - victim_ids]
    assert moved, "a victim's partition should have been finished by another node"
    survivors = {java[1].node_id, python[1].node_id, master.node_id}
    assert set(_by_node(rows)) <= survivors | victim_ids


def test_matching_non_utc_zones(mixed: MixedCluster) -> None:
    zone = "Asia/Tokyo"
    java = mixed.spawn_java("java-tokyo", zone=zone)
    tokyo_db = Database.open(mixed.url, DatabaseSettings(time_zone=zone))
    master = Node(
        tokyo_db,
        steps=make_registry(tokyo_db, [""]),
        settings=settings_for(tokyo_db.dialect).replace(node_id_prefix="py-tokyo"),
    )
    mixed.nodes.append(master)
    try:
        spec = JobSpec(partitions=6, items=10, run="tokyo")
        execution = master.launch(make_job(spec), spec.parameters())
        assert execution.status is BatchStatus.COMPLETED
        rows = assert_exactly_once(mixed, spec)
        assert _by_node(rows)[java.node_id] == 30
        assert not master.clock_check.mismatches
        assert {n.node_id for n in mixed.store.active_nodes()} >= {java.node_id, master.node_id}
        # Every stored Spring Batch time is Tokyo's wall clock, whoever wrote it.
        assert execution.id is not None
        loaded = master.repository.get_job_execution(execution.id)
        assert loaded is not None
        tokyo_now = master.repository.now()
        for step in loaded.step_executions:
            assert step.start_time is not None
            assert abs((tokyo_now - step.start_time).total_seconds()) < 120, step
    finally:
        master.stop(drain=False)
        tokyo_db.close()


@pytest.mark.requires("zone_sensitive_clock")
def test_mismatched_zones_are_reported_clearly(
    mixed: MixedCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="springbatch_py.cluster")
    java = mixed.spawn_java("java-tokyo", zone="Asia/Tokyo")
    python = mixed.node("py-utc")
    found = wait_for(lambda: python.clock_check.mismatches, 20, "the mismatch to be noticed")
    assert set(found) == {java.node_id}
    assert found[java.node_id].offset_hours == -9.0
    messages = [r.getMessage() for r in caplog.records]
    assert any(java.node_id in m and "time zones differ" in m for m in messages), messages
    # This node never evicts the Java node while the zones disagree...
    time.sleep(python.settings.node_cleanup_threshold / 1000 + 1)
    rows = {n.node_id: n.status for n in mixed.store.all_nodes()}
    assert rows.get(java.node_id) == "ACTIVE", rows

    # ...but the Java library has no such check: its sweeps see this node's heartbeats nine
    # hours old and keep marking it UNREACHABLE (each heartbeat sets it ACTIVE again), so a
    # Java master may leave it out of its partitioning, or remove its row. This is why every
    # node must run in the same zone.
    def python_marked() -> bool:
        statuses = {n.node_id: n.status for n in mixed.store.all_nodes()}
        return statuses.get(python.node_id, "GONE") != "ACTIVE"

    wait_for(python_marked, 20, "the Java node to mark the Python node", interval=0.01)


def test_java_master_fails_the_job_when_a_python_worker_dies_with_pinned_partitions(
    mixed: MixedCluster,
) -> None:
    python = [mixed.spawn() for _ in range(2)]
    spec = JobSpec(partitions=9, items=10, delay_ms=60, transferable=False, run="pinned")
    master = mixed.spawn_java("java-master", launch=spec)
    victim = python[0]
    wait_for(lambda: _by_node(mixed.audit())[victim.node_id] >= 5, 60, "the victim to commit")
    victim.popen.send_signal(signal.SIGKILL)
    result = mixed.java_result(master)
    # The Java library fails partitions that may not move, and the job with them.
    assert result["status"] == "FAILED", (result, mixed.log_tail(master))
    assert master.popen.returncode == 1
    rows = mixed.audit()
    assert not [item for item, n in Counter(i for _, i, _ in rows).items() if n > 1]
    partitions = mixed.partitions(result["job_execution_id"])
    failed = {p["partition_key"] for p in partitions if p["status"] == "FAILED"}
    victims = {p["partition_key"] for p in partitions if p["assigned_node"] == victim.node_id}
    assert failed and failed == victims - {
        p["partition_key"] for p in partitions if p["status"] == "COMPLETED"
    }
    with Database.open(mixed.url) as db:
        execution = JobRepository(db).get_job_execution(result["job_execution_id"])
        assert execution is not None and execution.status is BatchStatus.FAILED
