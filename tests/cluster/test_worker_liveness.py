"""Liveness of a node under database faults: the writes that end a partition land across
transient errors, a row lock held by a frozen node does not stall the master, a database stall
evicts nobody, and the heartbeat keeps its rate while the node is busy.

Timings are the cluster tests' (heartbeat 200 ms, eviction after 2 s; see ``app.SETTINGS``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pymysql
import pytest
import sqlalchemy as sa

from springbatch_py.cluster import Node
from springbatch_py.cluster.errors import RowLockedError
from springbatch_py.cluster.states import PartitionStatus
from springbatch_py.cluster.store import PartitionTask, SqlClusterStore
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.detect import VENDORS
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository
from tests.cluster.app import JobSpec, make_job, make_registry, settings_for
from tests.cluster.test_cluster import Cluster, assert_exactly_once, wait_for
from tests.faults.servers import Server, ServerUnavailable, make_server


def lost_connection() -> sa.exc.OperationalError:
    """What a driver raises when the server restarts under a statement."""
    return sa.exc.OperationalError(
        "UPDATE ...",
        None,
        Exception("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


# -- which errors are transient: one place, the dialect --------------------------------------


def _wrapped(orig: Exception, *, invalidated: bool = False) -> sa.exc.DBAPIError:
    return sa.exc.OperationalError("SQL", None, orig, connection_invalidated=invalidated)


def _pg(state: str | None) -> Exception:
    error = psycopg.OperationalError("message")
    return psycopg.errors.lookup(state)("message") if state else error


@pytest.mark.parametrize(
    ("vendor", "orig", "transient", "lock_timeout"),
    [
        ("postgresql", "57P01", True, False),  # admin shutdown: the server restarts
        ("postgresql", "08006", True, False),  # connection failure
        ("postgresql", None, True, False),  # refused: psycopg gives no SQLSTATE
        ("postgresql", "40001", True, False),
        ("postgresql", "40P01", True, False),
        ("postgresql", "55P03", True, True),  # lock_timeout
        ("postgresql", "42P01", False, False),  # undefined table
        ("mariadb", 2013, True, False),  # lost connection during query
        ("mariadb", 1053, True, False),  # server shutdown in progress
        ("mariadb", 1213, True, False),
        ("mariadb", 1205, True, True),
        ("mariadb", 1146, False, False),  # no such table
        ("mysql", 2006, True, False),
    ],
)
def test_the_dialect_says_which_errors_are_transient(
    vendor: str, orig: str | int | None, transient: bool, lock_timeout: bool
) -> None:
    dialect = VENDORS[vendor]((99,), ZoneInfo("UTC"))
    if vendor == "postgresql":
        error = _wrapped(_pg(orig if isinstance(orig, str) else None))
    else:
        error = _wrapped(pymysql.err.OperationalError(orig, "message"))
    assert dialect.is_transient(error) is transient
    assert dialect.is_lock_timeout(error) is lock_timeout


def test_every_dialect_retries_a_lost_connection_but_not_a_unique_key_race() -> None:
    for cls in VENDORS.values():
        dialect = cls((99,), ZoneInfo("UTC"))
        assert dialect.is_transient(lost_connection())
        assert not dialect.is_transient(sa.exc.IntegrityError("INSERT", None, Exception("dup")))
    sqlite = VENDORS["sqlite"]((3, 40), ZoneInfo("UTC"))
    assert sqlite.is_transient(_wrapped(Exception("database is locked")))


# -- defect 2: the writes that end a partition are retried -------------------------------------


def test_a_partitions_final_writes_land_across_transient_errors(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = cluster.node()
    failures: Counter[str] = Counter()
    lock = threading.Lock()

    def fails(kind: str, times: int) -> bool:
        with lock:
            if failures[kind] >= times:
                return False
            failures[kind] += 1
            return True

    end = node.store.end_partition

    def flaky_end(task: PartitionTask, node_id: str, status: PartitionStatus) -> bool:
        if fails("partition end", 3):
            raise lost_connection()
        return end(task, node_id, status)

    update = JobRepository.update_step_execution

    def flaky_update(self: JobRepository, step: StepExecution) -> None:
        final = step.status is BatchStatus.COMPLETED and step.step_name.startswith("rangeSum:")
        if final and fails("step end", 2):
            raise lost_connection()
        update(self, step)

    monkeypatch.setattr(node.store, "end_partition", flaky_end)
    # On the class: the worker's steps write through a fenced copy of the node's repository.
    monkeypatch.setattr(JobRepository, "update_step_execution", flaky_update)
    spec = JobSpec(partitions=3, items=10)
    execution = node.launch_async(make_job(spec), spec.parameters()).result(timeout=90)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    assert failures == {"partition end": 3, "step end": 2}
    assert {p["status"] for p in cluster.partitions(execution.id)} == {"COMPLETED"}  # type: ignore[arg-type]
    workers = [s for s in execution.step_executions if s.step_name.startswith("rangeSum:")]
    assert len(workers) == 3 and all(s.status is BatchStatus.COMPLETED for s in workers)
    assert all(s.write_count == spec.items for s in workers)
    assert_exactly_once(cluster, spec)


# -- defect 4: a row lock held by a frozen node does not stall the master ----------------------


def _orphans(database: Database, count: int) -> tuple[SqlClusterStore, list[PartitionTask]]:
    """``count`` partitions CLAIMED by a node whose row is gone, silent long enough."""
    create_schema(database)
    repository = JobRepository(database)
    execution = repository.create_job_execution("clustered", {"run": "1"})
    manager = execution.create_step_execution("clustered.manager")
    repository.add(manager)
    workers = [execution.create_step_execution(f"worker:{i}") for i in range(count)]
    repository.add_all(workers)
    store = SqlClusterStore(database)
    assert execution.id is not None and manager.id is not None
    tasks = [
        PartitionTask(
            w.id or 0, execution.id, w.step_name, manager.id, True, assigned_node="frozen"
        )
        for w in workers
    ]
    store.insert_coordination(execution.id, "master", manager.id, "worker")
    store.insert_partitions(tasks)
    for task in tasks:
        assert store.transition_partition(task, "frozen", "PENDING", "CLAIMED")
    threshold = 1000 if database.dialect.millisecond_clock else 3000
    time.sleep(threshold / 1000 + (0.2 if database.dialect.millisecond_clock else 1.2))
    orphans = store.find_orphaned_partitions(manager.id, threshold)
    assert len(orphans) == count
    return store, orphans


def _bounded(call: Callable[[], Any], timeout: float) -> Any:
    """``call``'s result (or its exception), or AssertionError when it has not returned within
    ``timeout``."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except Exception as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert outcome, f"still waiting after {timeout} s"
    returned, value = outcome[0]
    if not returned:
        raise value
    return value


@pytest.mark.engines("postgresql", "mariadb", "mysql", "oracle")
def test_a_partition_row_locked_by_a_frozen_node_does_not_stall_recovery(
    database: Database,
) -> None:
    store, orphans = _orphans(database, 3)
    locked, *others = orphans
    holder = database.engine.connect()
    transaction = holder.begin()
    try:
        # The frozen node ran its fence (P4) inside a chunk's transaction and never committed.
        assert store.refresh_partition(locked.step_execution_id, "frozen", connection=holder)
        assert _bounded(partial(store.reassign, locked, "alive"), 20) is False
        assert _bounded(partial(store.fail_orphan, locked), 20) is False
        assert store.reassign(others[0], "alive")  # the other orphans still move
        assert store.fail_orphan(others[1])
    finally:
        transaction.rollback()
        holder.close()
    assert store.reassign(locked, "alive")  # the lock is gone: next scan moves it
    by_key = {t.partition_key: t for t in store.list_partitions(locked.master_step_execution_id)}
    assert (by_key["worker:0"].assigned_node, by_key["worker:0"].status) == ("alive", "PENDING")
    assert by_key["worker:1"].status == "PENDING" and by_key["worker:2"].status == "FAILED"
    # The pooled connections got their default lock wait back.
    if database.dialect.name in ("mariadb", "mysql"):
        with database.engine.connect() as c:
            session = c.execute(sa.text("SELECT @@SESSION.innodb_lock_wait_timeout")).scalar()
            default = c.execute(sa.text("SELECT @@GLOBAL.innodb_lock_wait_timeout")).scalar()
        assert session == default


@pytest.mark.engines("postgresql", "mariadb", "mysql", "oracle")
def test_a_row_locked_by_a_frozen_node_does_not_stall_lost_master_recovery(
    database: Database,
) -> None:
    store, orphans = _orphans(database, 2)
    locked = orphans[0]
    holder = database.engine.connect()
    transaction = holder.begin()
    try:
        assert store.refresh_partition(locked.step_execution_id, "frozen", connection=holder)
        with pytest.raises(RowLockedError):
            _bounded(partial(store.fail_open_partitions, locked.master_step_execution_id), 20)
    finally:
        transaction.rollback()
        holder.close()
    # Nothing changed meanwhile; once the lock is gone the fence takes every open partition.
    assert store.fail_open_partitions(locked.master_step_execution_id) == 2


# -- defect 7: a database stall evicts nobody ---------------------------------------------------


def test_a_database_stall_longer_than_the_cleanup_threshold_evicts_nobody(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = threading.Event()
    running.set()
    beat = SqlClusterStore.heartbeat

    def stalled(self: SqlClusterStore, node_id: str, current_load: int) -> bool:
        running.wait(60)  # the database does not answer the heartbeats meanwhile
        return beat(self, node_id, current_load)

    monkeypatch.setattr(SqlClusterStore, "heartbeat", stalled)
    first, second = cluster.node("a"), cluster.node("b")
    cleanup_s = first.settings.node_cleanup_threshold / 1000
    cluster.store.register_node("ghost", "h")  # a node that really dies meanwhile
    running.clear()
    try:
        time.sleep(cleanup_s + 2 * first.settings.unreachable_node_threshold / 1000 + 1)
    finally:
        running.set()
    wait_for(lambda: "ghost" not in ids(cluster), 30, "the dead node to be removed")
    for node in (first, second):
        assert node.statement_counts()["node_register"] == 1, f"{node.node_id} was evicted"
        assert node.node_id in ids(cluster)


def ids(cluster: Cluster) -> set[str]:
    return {n.node_id for n in cluster.store.all_nodes()}


# -- defect 9: the heartbeat keeps its rate while the node is busy ------------------------------


def test_the_heartbeat_keeps_its_rate_while_other_upkeep_is_slow(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    node: Node = cluster.node()
    refreshes = Counter[str]()

    def slow_refresh() -> None:
        refreshes["calls"] += 1
        time.sleep(1.0)

    monkeypatch.setattr(node.worker, "refresh", slow_refresh)
    wait_for(lambda: refreshes["calls"] >= 1, 10, "the slow refresh to start")
    # (the upkeep's first run may come before the first heartbeat was counted)
    before = node.statement_counts().get("node_heartbeat", 0)
    window = 4.0
    time.sleep(window)
    beats = node.statement_counts().get("node_heartbeat", 0) - before
    expected = window / (node.settings.heartbeat_interval / 1000)  # 20
    # A heartbeat stuck behind the refresh beats once a second or so (about 4 here).
    assert beats >= expected * 0.4, f"{beats} heartbeats in {window} s, {expected:.0f} due"


# -- defect 2 for real: a private PostgreSQL restarts mid-job -----------------------------------

#: Engines with a server of their own to restart or freeze (the fault suite's private servers).
PRIVATE = ("postgresql", "mariadb")


@contextlib.contextmanager
def private_database(engine: str) -> Iterator[tuple[Server, str]]:
    """A started private server of ``engine`` and the URL of a fresh database on it (skips,
    saying why, where the engine's binaries are missing); stopped by its PID afterwards."""
    server = make_server(engine)
    try:
        server.start()
    except ServerUnavailable as exc:
        server.stop()
        pytest.skip(f"no private {engine} server: {exc}")
    try:
        yield server, server.create_database("liveness")
    finally:
        server.stop()


@pytest.mark.parametrize("private", PRIVATE)
def test_a_database_restart_mid_job_strands_no_partition(private: str, tmp_path: Path) -> None:
    with private_database(private) as (server, url):
        cluster = Cluster(url, tmp_path)
        try:
            # Heartbeats far apart (as by default): partitions end while the database is away
            # before the node notices it through its heartbeat.
            settings = settings_for(cluster.db.dialect).replace(
                heartbeat_interval=5000,
                unreachable_node_threshold=20000,
                node_cleanup_threshold=40000,
            )
            holder = [""]
            node = Node(cluster.db, steps=make_registry(cluster.db, holder), settings=settings)
            holder[0] = node.node_id
            cluster.nodes.append(node.start())
            spec = JobSpec(partitions=24, items=10, delay_ms=20)
            job = make_job(spec)
            future = node.launch_async(job, spec.parameters())
            wait_for(lambda: len(cluster.audit()) >= 30, 60, "the partitions to commit chunks")
            server.restart(pause=1.5)
            execution = future.result(timeout=180)  # the job ends: nothing waits for ever
            partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
            assert {p["status"] for p in partitions} <= {"COMPLETED", "FAILED"}, partitions
            if execution.status is not BatchStatus.COMPLETED:
                # A chunk that lost its connection fails its partition: the job restarts.
                assert execution.status is BatchStatus.FAILED, execution.exit_status
                assert execution.id is not None
                execution = node.restart(job, execution.id)
            assert execution.status is BatchStatus.COMPLETED, execution.exit_status
            assert_exactly_once(cluster, spec)
        finally:
            cluster.close()


@pytest.mark.parametrize("private", PRIVATE)
def test_a_frozen_database_server_evicts_nobody_when_it_resumes(
    private: str, tmp_path: Path
) -> None:
    with private_database(private) as (server, url):
        cluster = Cluster(url, tmp_path)
        try:
            nodes = [cluster.node("a"), cluster.node("b")]
            settings = nodes[0].settings
            time.sleep(2 * settings.heartbeat_interval / 1000)
            server.freeze()
            try:  # every statement of every node waits meanwhile
                time.sleep(settings.node_cleanup_threshold / 1000 * 2)
            finally:
                server.thaw()
            time.sleep(2 * settings.node_cleanup_threshold / 1000)  # the sweeps run again
            for node in nodes:
                assert node.statement_counts()["node_register"] == 1, f"{node.node_id} evicted"
                assert node.node_id in ids(cluster)
        finally:
            cluster.close()
