"""The master side of liveness: a lost master's job is recovered even while its workers keep
committing, and an evicted master that wakes up ends instead of waiting for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest

from springbatch_py.cluster import Node
from springbatch_py.cluster.recovery import recover_orphaned_masters
from springbatch_py.cluster.runtime import ClusterRuntime
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.status import BatchStatus
from springbatch_py.repository.jobs import JobRepository
from tests.cluster.app import JobSpec, make_job, make_registry, settings_for
from tests.cluster.test_cluster import (
    ROOT,
    Cluster,
    Process,
    assert_exactly_once,
    wait_for,
)

#: Nodes that never scan for lost masters by themselves: the test runs recovery.
NO_SCAN = 600_000


class _Contended:
    """The recoverer's repository, with a writer that commits just before each of its saves:
    a chunk of a worker step (through the worker's fence, as a real chunk commits) and, while
    ``master_writes``, a save of the manager step by a master that is not fenced."""

    def __init__(self, repository: JobRepository, worker: Node, manager_id: int) -> None:
        self._repository = repository
        self._worker = worker
        self.manager_id = manager_id
        self.master_writes = False
        self.worker_commits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repository, name)

    def update(self, execution: JobExecution | StepExecution) -> None:
        if isinstance(execution, StepExecution) and execution.id is not None:
            self._commit_before(execution)
        self._repository.update(execution)

    def _commit_before(self, execution: StepExecution) -> None:
        from springbatch_py.cluster.errors import PartitionLostError
        from springbatch_py.cluster.worker import PartitionFence

        assert execution.job_execution.id is not None and execution.id is not None
        fresh = self._repository.get_step_execution(execution.job_execution.id, execution.id)
        assert fresh is not None
        if execution.id == self.manager_id:
            if self.master_writes:
                self._repository.update(fresh)
            return
        task = next(
            (
                t
                for t in self._worker.store.list_partitions(self.manager_id)
                if t.step_execution_id == execution.id
            ),
            None,
        )
        if task is None or task.assigned_node != self._worker.node_id:
            return
        try:
            runtime = self._worker.runtime
            runtime.repository.guarded(PartitionFence(runtime, task)).update(fresh)
            self.worker_commits += 1
        except PartitionLostError:
            pass  # fenced: the worker commits nothing more


@pytest.mark.timeout(600)
def test_recovery_converges_while_workers_commit_and_restart_runs_the_rest(
    cluster: Cluster,
) -> None:
    settings = settings_for(cluster.db.dialect).replace(orphaned_master_scan_interval=NO_SCAN)
    # Each partition lasts about four cleanup thresholds, so the worker still runs partitions
    # when the killed master's row is removed, however slowly the machine goes.
    items = 300
    delay_ms = max(20, 4 * settings.node_cleanup_threshold // items)
    spec = JobSpec(partitions=6, items=items, delay_ms=delay_ms, transferable=True)
    holder = [""]
    hurry = threading.Event()
    worker = Node(cluster.db, steps=make_registry(cluster.db, holder, hurry), settings=settings)
    holder[0] = worker.node_id
    worker.start()
    cluster.nodes.append(worker)
    master = cluster.spawn(spec, orphaned_master_scan_interval=str(NO_SCAN))
    wait_for(
        lambda: any(node == worker.node_id for _, _, node in cluster.audit()),
        60,
        "the worker to commit a chunk",
    )
    master.popen.send_signal(signal.SIGKILL)
    master.popen.wait(10)
    (orphan,) = wait_for(cluster.store.find_orphaned_masters, 60, "the master's row to go")
    assert worker.worker.load > 0, "the worker should still be running partitions"

    contended = _Contended(worker.repository, worker, orphan.master_step_execution_id)
    runtime = ClusterRuntime(
        worker.node_id,
        settings,
        worker.store,
        contended,  # type: ignore[arg-type]
    )
    # A master that is not fenced keeps saving: recovery may not finish, and then it must leave
    # the job for the next scan instead of abandoning it unfailed.
    contended.master_writes = True
    assert recover_orphaned_masters(runtime) == 0
    assert contended.worker_commits == 0  # fenced first: no chunk commits after the fence
    coordination = cluster.store.get_coordination(orphan.job_execution_id)
    assert coordination is not None
    assert (coordination.status, coordination.master_node_id) == ("RECOVERING", worker.node_id)
    execution = worker.repository.get_job_execution(orphan.job_execution_id)
    assert execution is not None and execution.status is BatchStatus.STARTED

    # The next scan, without that writer: the worker keeps trying to commit, and recovery ends.
    contended.master_writes = False
    assert recover_orphaned_masters(runtime) == 1
    coordination = cluster.store.get_coordination(orphan.job_execution_id)
    assert coordination is not None and coordination.status == "ABANDONED"
    execution = worker.repository.get_job_execution(orphan.job_execution_id)
    assert execution is not None and execution.status is BatchStatus.FAILED
    assert not [s for s in execution.step_executions if s.status.is_running]
    assert {p["status"] for p in cluster.partitions(orphan.job_execution_id)} <= {
        "COMPLETED",
        "FAILED",
    }
    wait_for(lambda: worker.worker.load == 0, 30, "the fenced partitions to stop")
    done_before = {
        s.step_name
        for s in execution.step_executions
        if s.status is BatchStatus.COMPLETED and s.step_name.startswith("rangeSum:")
    }
    # The pace was for the fault; the restart runs what was left at full speed.
    hurry.set()
    restarted = worker.restart(make_job(spec), orphan.job_execution_id)
    assert restarted.status is BatchStatus.COMPLETED, restarted.exit_status
    rerun = {s.step_name for s in restarted.step_executions if s.step_name.startswith("rangeSum:")}
    assert rerun and not (rerun & done_before)
    assert rerun | done_before == {f"rangeSum:{i}" for i in range(spec.partitions)}
    assert_exactly_once(cluster, spec)


# -- an evicted master that wakes up --------------------------------------------------------------

JOBS = "tests.cli.liveness_jobs:jobs"
STEPS = "tests.cli.liveness_jobs:steps"


def fast_settings(cluster: Cluster) -> list[str]:
    s = settings_for(cluster.db.dialect)
    values = {
        "heartbeat-interval": s.heartbeat_interval,
        "unreachable-node-threshold": s.unreachable_node_threshold,
        "node-cleanup-threshold": s.node_cleanup_threshold,
        "unreachable-node-thread-interval": s.unreachable_node_thread_interval,
        "node-cleanup-thread-interval": s.node_cleanup_thread_interval,
        "task-polling-interval": s.task_polling_interval,
        "orphaned-tasks-polling-interval": s.orphaned_tasks_polling_interval,
        "master-task-status-check-interval": s.master_task_status_check_interval,
        "orphaned-master-scan-interval": s.orphaned_master_scan_interval,
    }
    return [arg for k, v in values.items() for arg in ("--set", f"{k}={v}")]


def cli(cluster: Cluster, name: str, *args: str) -> subprocess.Popen[str]:
    with (cluster.folder / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "springbatch_py", "-v", *args, "--url", cluster.url],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )


def test_an_evicted_master_that_wakes_up_fails_its_step_and_returns(cluster: Cluster) -> None:
    settings = fast_settings(cluster)
    survivor = cli(cluster, "survivor", "node", "--steps", STEPS, *settings)
    launch = cli(
        cluster,
        "launch",
        "launch",
        "slowSquares",
        "--jobs",
        JOBS,
        "--steps",
        STEPS,
        "-p",
        "run=frozen",
        "-p",
        "delay_ms=40",
        *settings,
    )
    processes = [survivor, launch]
    try:
        explorer = JobRepository(cluster.db)

        def committed() -> int | None:
            coordinations = cluster.store.list_coordinations()
            if not coordinations:
                return None
            execution = explorer.get_job_execution(coordinations[0].job_execution_id)
            assert execution is not None
            chunks = sum(s.commit_count for s in execution.step_executions)
            return execution.id if chunks >= 4 else None

        execution_id = wait_for(committed, 60, "chunks to commit")
        cluster.freeze(Process(launch, "launch", cluster.folder / "launch.log"))
        # The survivor evicts the frozen master and recovers its job.
        wait_for(
            lambda: (c := cluster.store.get_coordination(execution_id)) and c.status == "ABANDONED",
            60,
            "the survivor to recover the job",
        )
        failed = explorer.get_job_execution(execution_id)
        assert failed is not None and failed.status is BatchStatus.FAILED
        launch.send_signal(signal.SIGCONT)
        try:
            code = launch.wait(60)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                "launch did not return after it woke up: "
                + (cluster.folder / "launch.log").read_text()[-3000:]
            ) from None
        output = (cluster.folder / "launch.log").read_text()
        assert code == 1, output[-3000:]
        assert "no longer coordinated by node" in output
        execution = explorer.get_job_execution(execution_id)
        assert execution is not None and execution.status is BatchStatus.FAILED, execution
        assert not [s for s in execution.step_executions if s.status.is_running]
        # Restartable: the survivor runs what was left.
        restart = cli(
            cluster,
            "restart",
            "restart",
            str(execution_id),
            "--jobs",
            JOBS,
            "--steps",
            STEPS,
            *settings,
        )
        processes.append(restart)
        assert restart.wait(120) == 0, (cluster.folder / "restart.log").read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
            process.wait(30)
