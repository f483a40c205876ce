"""Running and steering jobs from the command line, in subprocesses, on every engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.explorer import JobExplorer

ROOT = Path(__file__).resolve().parents[2]
JOBS = "tests.cli.sample_jobs:jobs"
STEPS = "tests.cli.sample_jobs:worker_steps"
FAST = ["--set", "heartbeat-interval=200", "--set", "task-polling-interval=100"]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env=env(),
    )


def start(*args: str, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "springbatch_py", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env(),
        )


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("springbatch-py: error: ") and text in lines[0], lines[0]


@pytest.fixture
def url(database_url: str) -> str:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db)
    return database_url


def test_launch_fail_restart_and_list(url: str, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    flag.touch()
    failed = run(
        "launch", "numbers", "--url", url, "--jobs", JOBS, "--json",
        "-p", "count=23(long)", "-p", "fail_at=13(long)", "-p", f"flag={flag}",
        "-p", "-note=first try",
    )  # fmt: skip
    assert failed.returncode == 1, failed.stderr
    first = json.loads(failed.stdout)
    assert first["status"] == "FAILED"
    assert first["parameters"]["count"] == {
        "value": "23",
        "type": "java.lang.Long",
        "identifying": True,
    }
    assert first["parameters"]["note"]["identifying"] is False
    (step,) = first["steps"]
    assert (step["read_count"], step["write_count"], step["commit_count"]) == (15, 10, 2)

    flag.unlink()
    restarted = run("restart", str(first["id"]), "--url", url, "--jobs", JOBS)
    assert restarted.returncode == 0, restarted.stderr
    assert "COMPLETED" in restarted.stdout
    with Database.open(url) as db:
        explorer = JobExplorer(db)
        executions = explorer.get_job_executions(explorer.get_job_instances("numbers")[0])
        second = max(executions, key=lambda e: e.id or 0)
        # Restarted from the last commit: items 10..22.
        assert second.step_executions[0].read_count == 13
        assert second.job_instance.id == first["instance_id"]

    again = run("restart", str(second.id), "--url", url, "--jobs", JOBS)
    assert again.returncode == 1
    assert "already complete" in again.stderr

    jobs = run("jobs", "--url", url, "--json")
    assert json.loads(jobs.stdout) == [
        {
            "name": "numbers",
            "instances": 1,
            "last_execution_id": second.id,
            "last_status": "COMPLETED",
            "last_start_time": second.start_time.isoformat() if second.start_time else None,
        }
    ]
    listed = run("executions", "numbers", "--url", url)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["EXECUTION", "INSTANCE", "STATUS"]
    assert [line.split()[2] for line in lines[1:]] == ["COMPLETED", "FAILED"]
    assert "count=23(Long)" in listed.stdout and "-note=first try(String)" in listed.stdout


def test_bad_input_is_one_line_and_exit_two(url: str) -> None:
    one_line_error(run("launch", "nope", "--url", url, "--jobs", JOBS), 2, "[nope]")
    one_line_error(
        run("launch", "numbers", "--url", url, "--jobs", JOBS, "-p", "count=x(long)"),
        2,
        "'x' is not a valid java.lang.Long",
    )
    one_line_error(
        run("launch", "numbers", "--url", url, "--jobs", JOBS, "-p", "count=1(weird)"),
        2,
        "unknown type 'weird'",
    )
    one_line_error(
        run("launch", "numbers", "--url", url, "--jobs", "tests.cli.sample_jobs:missing"),
        2,
        "no attribute 'missing'",
    )
    one_line_error(run("launch", "numbers", "--url", url, "--jobs", "nomodule"), 2, "module:attr")
    one_line_error(run("restart", "4242", "--url", url, "--jobs", JOBS), 2, "4242")
    one_line_error(run("stop", "4242", "--url", url), 2, "4242")
    one_line_error(run("abandon", "4242", "--url", url), 2, "4242")
    one_line_error(run("partitions", "4242", "--url", url), 2, "4242")
    one_line_error(run("executions", "never-ran", "--url", url), 2, "never-ran")
    one_line_error(
        run("node", "--url", url, "--steps", STEPS, "--set", "heartbeat-interval=soon"),
        2,
        "must be an integer",
    )
    one_line_error(run("node", "--url", url), 2, "--steps")
    # Nothing was written by any of them.
    assert json.loads(run("jobs", "--url", url, "--json").stdout) == []


def test_stop_then_abandon(url: str, tmp_path: Path) -> None:
    launch = start(
        "launch", "slow", "--url", url, "--jobs", JOBS, "-p", "count=400(long)",
        log=tmp_path / "launch.log",
    )  # fmt: skip
    try:
        with Database.open(url) as db:
            explorer = JobExplorer(db)

            def running() -> int | None:
                instances = explorer.get_job_instances("slow")
                if not instances:
                    return None
                last = explorer.get_last_job_execution(instances[0])
                if last is None or not last.step_executions:
                    return None
                return last.id if last.step_executions[0].commit_count >= 1 else None

            execution_id = wait_for(running, 60, "the slow job to commit a chunk")
            one_line_error(run("abandon", str(execution_id), "--url", url), 1, "running")
            stopped = run("stop", str(execution_id), "--url", url)
            assert stopped.returncode == 0, stopped.stderr
            assert f"execution {execution_id} of slow: STOPPING" in stopped.stdout
            assert launch.wait(60) == 1, (tmp_path / "launch.log").read_text()
            execution = explorer.get_job_execution(execution_id)
            assert execution is not None
            assert execution.status.name == "STOPPED"
            read = execution.step_executions[0].read_count
            assert 5 <= read < 400
            abandoned = run("abandon", str(execution_id), "--url", url, "--json")
            assert abandoned.returncode == 0, abandoned.stderr
            assert json.loads(abandoned.stdout)["status"] == "ABANDONED"
            refused = run("restart", str(execution_id), "--url", url, "--jobs", JOBS)
            # Java's rule: an ABANDONED instance counts as complete.
            assert refused.returncode == 1 and "already complete" in refused.stderr, refused.stderr
    finally:
        if launch.poll() is None:
            launch.kill()
            launch.wait()


def test_partitioned_job_on_a_node_process(url: str, tmp_path: Path) -> None:
    node = start(
        "node", "--url", url, "--steps", STEPS, "--node-id-prefix", "cli-worker", *FAST,
        log=tmp_path / "node.log",
    )  # fmt: skip
    try:
        with Database.open(url, must_exist=True) as db:
            from springbatch_py.cluster.store import SqlClusterStore

            store = SqlClusterStore(db)
            wait_for(lambda: store.all_nodes(), 60, "the node to register")
        nodes = json.loads(run("nodes", "--url", url, "--json").stdout)
        assert [n["status"] for n in nodes] == ["ACTIVE"]
        worker_id = nodes[0]["node_id"]
        assert worker_id.startswith("cli-worker-")

        # Round robin over the two live nodes: the launcher works on half the partitions.
        launched = run(
            "launch", "squares", "--url", url, "--jobs", JOBS, "--steps", STEPS, "-p", "run=1",
            "--json", *FAST, "--set", "node-id-prefix=cli-master",
        )  # fmt: skip
        assert launched.returncode == 0, launched.stderr
        result = json.loads(launched.stdout)
        assert result["status"] == "COMPLETED"
        partitions = json.loads(run("partitions", str(result["id"]), "--url", url, "--json").stdout)
        assert sorted(p["partition_key"] for p in partitions) == [
            f"sumSquares:{i}" for i in range(6)
        ]
        by_node = Counter(p["assigned_node"] for p in partitions)
        assert by_node[worker_id] == 3, by_node
        (launcher_id,) = set(by_node) - {worker_id}
        assert launcher_id.startswith("cli-master-") and by_node[launcher_id] == 3
        assert {(p["status"], p["step_status"], p["read_count"]) for p in partitions} == {
            ("COMPLETED", "COMPLETED", 10)
        }
        with Database.open(url) as db:
            execution = JobExplorer(db).get_job_execution(result["id"])
            assert execution is not None
            sums = [
                s.execution_context.get_long("sum")
                for s in execution.step_executions
                if s.step_name.startswith("sumSquares:")
            ]
        assert sum(sums) == sum(n * n for n in range(60))
        table = run("partitions", str(result["id"]), "--url", url)
        assert table.stdout.splitlines()[0].split()[:2] == ["PARTITION", "STEP"]

        node.send_signal(signal.SIGTERM)
        assert node.wait(60) == 0
        log = (tmp_path / "node.log").read_text()
        assert "left the cluster" in log
        assert json.loads(run("nodes", "--url", url, "--json").stdout) == []
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
