"""Ctrl-C and SIGTERM on ``launch`` stop the job (STOPPED, restartable); ``recover`` fails a dead
execution so it can be restarted, and refuses one a live master owns. Subprocesses throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository
from tests.cli.liveness_jobs import DELAY_ENV

ROOT = Path(__file__).resolve().parents[2]
JOBS = "tests.cli.liveness_jobs:jobs"
STEPS = "tests.cli.liveness_jobs:steps"
#: Short thresholds that whole-second database clocks tolerate too.
FAST = [
    *("--set", "heartbeat-interval=200", "--set", "task-polling-interval=100"),
    *("--set", "unreachable-node-threshold=3000", "--set", "node-cleanup-threshold=5000"),
    *("--set", "master-task-status-check-interval=100"),
    *("--set", "orphaned-tasks-polling-interval=300"),
]


def env(*, fast: bool = False) -> dict[str, str]:
    """The environment of a command; ``fast``: its items do not pause (a restart that only has
    to finish what was left, see ``tests.cli.liveness_jobs``)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **({DELAY_ENV: "0"} if fast else {})}


def run(*args: str, timeout: float = 120, fast: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env=env(fast=fast),
    )


def start(log: Path, *args: str, fast: bool = False) -> subprocess.Popen[str]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "springbatch_py", "-v", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env(fast=fast),
        )


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    with Database.open(database_url, must_exist=False) as created:
        create_schema(created)
        yield created


def _running(db: Database, job: str, chunks: int = 3) -> Callable[[], JobExecution | None]:
    repository = JobRepository(db)

    def probe() -> JobExecution | None:
        for execution in repository.find_running_job_executions(job):
            if sum(s.commit_count for s in execution.step_executions) >= chunks:
                return execution
        return None

    return probe


def _ended(process: subprocess.Popen[str], log: Path, timeout: float = 90) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        raise AssertionError(f"the process did not end: {log.read_text()[-3000:]}") from None


@pytest.mark.parametrize(
    ("job", "sig"),
    [
        ("slowSquares", signal.SIGINT),
        ("slowSquares", signal.SIGTERM),
        ("slowPlain", signal.SIGINT),
    ],
    ids=["partitioned-sigint", "partitioned-sigterm", "plain-sigint"],
)
def test_a_signal_stops_the_job_and_a_restart_completes_it(
    db: Database, database_url: str, tmp_path: Path, job: str, sig: signal.Signals
) -> None:
    url = database_url
    log = tmp_path / "launch.log"
    launch = start(
        log, "launch", job, "--jobs", JOBS, "--steps", STEPS, "-p", "run=1", "--url", url, *FAST
    )
    try:
        execution = wait_for(_running(db, job), 60, "chunks to commit")
        launch.send_signal(sig)
        code = _ended(launch, log)
    finally:
        if launch.poll() is None:
            launch.kill()
            launch.wait(30)
    output = log.read_text()
    assert code == 1, output[-3000:]
    stopped = JobRepository(db).get_job_execution(execution.id)
    assert stopped is not None
    assert stopped.status is BatchStatus.STOPPED, output[-3000:]
    assert not [s for s in stopped.step_executions if s.status.is_running], stopped
    if job == "slowSquares":
        coordination = SqlClusterStore(db).get_coordination(execution.id)
        assert coordination is not None and coordination.status == "COMPLETED"
    done = {s.step_name for s in stopped.step_executions if s.status is BatchStatus.COMPLETED}
    restarted = run(
        "restart", str(execution.id), "--jobs", JOBS, "--steps", STEPS, "--url", url, fast=True
    )
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    last = JobRepository(db).get_job_execution(execution.id + 1)
    assert last is not None and last.status is BatchStatus.COMPLETED
    assert not done & {s.step_name for s in last.step_executions}  # only the rest ran


def test_recover_refuses_a_live_master_then_fails_a_dead_one(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    url = database_url
    log = tmp_path / "launch.log"
    launch = start(
        log,
        "launch",
        "slowSquares",
        "--jobs",
        JOBS,
        "--steps",
        STEPS,
        "-p",
        "run=2",
        "-p",
        "delay_ms=400",
        "--url",
        url,
        *FAST,
    )
    try:
        execution = wait_for(_running(db, "slowSquares"), 60, "chunks to commit")
        refused = run("recover", str(execution.id), "--url", url, *FAST)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "live node" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        launch.send_signal(signal.SIGKILL)
        launch.wait(30)
    finally:
        if launch.poll() is None:
            launch.kill()
            launch.wait(30)
    # Nobody sweeps: the dead master's row stays, but its heartbeat ages past the threshold.
    recovered = wait_for(
        lambda: (r := run("recover", str(execution.id), "--url", url, *FAST)).returncode == 0 and r,
        60,
        "recover to accept the dead master's execution",
    )
    assert "FAILED" in recovered.stdout
    failed = JobRepository(db).get_job_execution(execution.id)
    assert failed is not None and failed.status is BatchStatus.FAILED
    assert not [s for s in failed.step_executions if s.status.is_running]
    coordination = SqlClusterStore(db).get_coordination(execution.id)
    assert coordination is not None and coordination.status == "ABANDONED"
    rest = ("restart", str(execution.id), "--jobs", JOBS, "--steps", STEPS, "--url", url)
    restarted = run(*rest, *FAST, fast=True)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr


def test_recover_needs_force_for_an_execution_no_cluster_ran(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    url = database_url
    log = tmp_path / "launch.log"
    launch = start(log, "launch", "slowPlain", "--jobs", JOBS, "-p", "run=3", "--url", url)
    try:
        execution = wait_for(_running(db, "slowPlain"), 60, "chunks to commit")
    finally:
        launch.kill()
        launch.wait(30)
    refused = run("recover", str(execution.id), "--url", url)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "--force" in refused.stderr
    before = run("restart", str(execution.id), "--jobs", JOBS, "--url", url)
    assert before.returncode == 1 and "already running" in before.stderr, before.stderr
    forced = run("recover", str(execution.id), "--force", "--url", url)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    failed = JobRepository(db).get_job_execution(execution.id)
    assert failed is not None and failed.status is BatchStatus.FAILED
    assert all(s.status is BatchStatus.FAILED for s in failed.step_executions)
    again = run("recover", str(execution.id), "--url", url)  # FAILED: nothing left running
    assert again.returncode == 0, again.stdout + again.stderr
    restarted = run("restart", str(execution.id), "--jobs", JOBS, "--url", url, fast=True)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    last = JobRepository(db).get_last_job_execution(failed.job_instance)
    assert last is not None and last.status is BatchStatus.COMPLETED
    done = run("recover", str(last.id), "--url", url)  # COMPLETED: refused, one line
    assert done.returncode == 1 and "nothing to recover" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_signal_stops_a_job_whose_partitions_no_node_claims(
    database_url: str, tmp_path: Path
) -> None:
    from tests.cluster.test_cluster import Cluster, Process

    cluster = Cluster(database_url, tmp_path)
    # A node that is registered but frozen gets partitions it never claims; it is not evicted
    # for minutes, so before the fix the stopped job waited for it.
    slow = [
        *("--set", "heartbeat-interval=200", "--set", "task-polling-interval=100"),
        *("--set", "unreachable-node-threshold=120000", "--set", "node-cleanup-threshold=240000"),
        *("--set", "master-task-status-check-interval=100"),
    ]
    processes: list[subprocess.Popen[str]] = []
    try:
        # Frozen until the restart, which it then helps to finish at full speed.
        idle = start(
            tmp_path / "idle.log", "node", "--steps", STEPS, "--url", database_url, *slow, fast=True
        )
        processes.append(idle)
        wait_for(lambda: len(cluster.store.active_nodes()) == 1, 60, "the node to register")
        cluster.freeze(Process(idle, "idle", tmp_path / "idle.log"))
        log = tmp_path / "launch.log"
        launch = start(
            log,
            "launch",
            "slowSquares",
            "--jobs",
            JOBS,
            "--steps",
            STEPS,
            "-p",
            "run=4",
            "-p",
            "delay_ms=100",
            "--url",
            database_url,
            *slow,
        )
        processes.append(launch)
        execution = wait_for(_running(cluster.db, "slowSquares", chunks=1), 60, "a chunk")
        launch.send_signal(signal.SIGINT)
        code = _ended(launch, log, timeout=60)
        output = log.read_text()
        assert code == 1, output[-3000:]
        repository = JobRepository(cluster.db)
        stopped = repository.get_job_execution(execution.id)
        assert stopped is not None and stopped.status is BatchStatus.STOPPED, output[-3000:]
        assert not [s for s in stopped.step_executions if s.status.is_running], stopped
        never = [s for s in stopped.step_executions if s.start_time is None]
        assert never and all(s.status is BatchStatus.STOPPED for s in never)
        idle.send_signal(signal.SIGCONT)
        restarted = run(
            "restart",
            str(execution.id),
            "--jobs",
            JOBS,
            "--steps",
            STEPS,
            "--url",
            database_url,
            *slow,
            fast=True,
        )
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
            process.wait(30)
        cluster.close()
