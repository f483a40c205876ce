"""What a user meets at the command line: a closed stdout, unreadable contexts, bad input.

Each command runs as a subprocess, as a user or a script would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from springbatch_py.core.launch import JobLauncher
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository
from tests.cli import sample_jobs

ROOT = Path(__file__).resolve().parents[2]
JOBS = "tests.cli.sample_jobs:jobs"


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
        env=env(),
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("springbatch-py: error: ") and text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    with Database.open(url) as db:
        create_schema(db)
    return url


def _launch(url: str, *runs: dict[str, object]) -> list[int]:
    """Run the sample job ``numbers`` once per parameter set; the execution ids."""
    jobs = {job.name: job for job in sample_jobs.jobs()}
    ids = []
    with Database.open(url) as db:
        launcher = JobLauncher(JobRepository(db))
        for parameters in runs:
            execution = launcher.run(jobs["numbers"], parameters)
            assert execution.id is not None
            ids.append(execution.id)
    return ids


# -- 1. a closed stdout ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("executions", "numbers"), ("executions", "numbers", "--json"), ("--help",)],
    ids=["table", "json", "help"],
)
def test_a_closed_stdout_ends_the_command_quietly(sqlite_url: str, args: tuple[str, ...]) -> None:
    _launch(sqlite_url, *({"run": str(i)} for i in range(3)))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes: `| head -0`
    try:
        command = [*args, "--url", sqlite_url] if args[0] != "--help" else list(args)
        process = subprocess.Popen(
            [sys.executable, "-m", "springbatch_py", *command],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env(),
        )
    finally:
        os.close(write_end)
    _, err = process.communicate(timeout=120)
    assert err == ""
    # 128 + SIGPIPE, as a Unix tool killed by SIGPIPE reports (--help writes one buffer, which
    # the pipe may or may not take before the reader is seen gone: 0 is fine there).
    assert process.returncode == 141 or (args == ("--help",) and process.returncode == 0)


# -- 2. an unreadable execution context ----------------------------------------------------------


def _corrupt_step_context(url: str, execution_id: int) -> int:
    with Database.open(url) as db:
        repository = JobRepository(db)
        execution = repository.get_job_execution(execution_id)
        assert execution is not None
        step_id = execution.step_executions[0].id
        t = repository.tables.step_execution_context
        with db.begin() as c:
            c.execute(
                t.update()
                .where(t.c.step_execution_id == step_id)
                .values(short_context="not base64 at all!", serialized_context=None)
            )
    assert step_id is not None
    return step_id


def test_one_unreadable_context_leaves_the_views_working(database_url: str, tmp_path: Path) -> None:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db)
    flag = tmp_path / "flag"
    flag.touch()
    failing = {"fail_at": 7, "flag": str(flag)}
    done, broken, other = _launch(
        database_url, {"run": "done"}, {"run": "broken", **failing}, {"run": "other", **failing}
    )
    flag.unlink()
    bad_step = _corrupt_step_context(database_url, broken)
    _corrupt_step_context(database_url, done)
    url = database_url

    jobs = run("jobs", "--url", url, "--json")
    assert jobs.returncode == 0, jobs.stderr
    assert [(j["name"], j["instances"]) for j in json.loads(jobs.stdout)] == [("numbers", 3)]

    listed = run("executions", "numbers", "--url", url)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:4]] == [
        str(other), str(broken), str(done)
    ]  # fmt: skip
    assert (
        f"unreadable context: cannot read the execution context of step execution {bad_step}"
        in (listed.stdout)
    )

    shown = run("execution", str(broken), "--url", url)
    assert shown.returncode == 0, shown.stderr
    assert "FAILED" in shown.stdout and "numbers.step" in shown.stdout
    notes = [line for line in shown.stdout.splitlines() if line.startswith("unreadable context")]
    assert len(notes) == 1 and f"step execution {bad_step}" in notes[0], shown.stdout
    as_json = json.loads(run("execution", str(broken), "--url", url, "--json").stdout)
    assert as_json["context_error"] is None
    assert f"step execution {bad_step}" in as_json["steps"][0]["context_error"]

    partitions = run("partitions", str(broken), "--url", url)
    assert partitions.returncode == 0, partitions.stderr
    assert "no cluster partitions" in partitions.stdout

    # Another instance restarts; the one whose context is unreadable refuses, naming it.
    restarted = run("restart", str(other), "--url", url, "--jobs", JOBS, "--json")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["status"] == "COMPLETED"
    line = one_line_error(
        run("restart", str(broken), "--url", url, "--jobs", JOBS), 1, "cannot restart"
    )
    assert f"step execution {bad_step}" in line
    # Abandoning does not need the context.
    abandoned = run("abandon", str(broken), "--url", url, "--json")
    assert abandoned.returncode == 0, abandoned.stderr
    assert json.loads(abandoned.stdout)["status"] == "ABANDONED"
    # Nothing overwrote the corrupt row.
    with Database.open(url) as db:
        t = JobRepository(db).tables.step_execution_context
        with db.connect() as c:
            stored = c.execute(
                sa.select(t.c.short_context).where(t.c.step_execution_id == bad_step)
            ).scalar_one()
    assert stored == "not base64 at all!"


# -- 3. bad input: one line, exit 2 --------------------------------------------------------------


def test_a_database_without_the_schema_is_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    with Database.open(f"sqlite:///{empty}") as db, db.begin() as c:
        c.execute(sa.text("CREATE TABLE unrelated (id INTEGER)"))
    for command in (("jobs",), ("executions", "numbers"), ("execution", "1"), ("stop", "1")):
        one_line_error(run(*command, "--url", f"sqlite:///{empty}"), 2, "no Spring Batch schema")
    no_cluster = tmp_path / "no-cluster.db"
    assert (
        run("schema", "create", "--no-cluster", "--url", f"sqlite:///{no_cluster}").returncode == 0
    )
    one_line_error(run("nodes", "--url", f"sqlite:///{no_cluster}"), 2, "no cluster tables")


def test_references_that_cannot_be_loaded_are_one_line(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text("raise RuntimeError('no config here')\n")
    (tmp_path / "picky.py").write_text(
        "def jobs():\n    raise ValueError('jobs are not ready')\n\n"
        "def steps(name):\n    return []\n"
    )
    (tmp_path / "syntax.py").write_text("job = (\n")
    url = ("--url", sqlite_url)
    one_line_error(
        run("launch", "numbers", *url, "--jobs", "boom:job", cwd=tmp_path),
        2,
        "importing 'boom' raised RuntimeError: no config here",
    )
    one_line_error(
        run("node", *url, "--steps", "boom:steps", cwd=tmp_path), 2, "raised RuntimeError"
    )
    one_line_error(
        run("launch", "numbers", *url, "--jobs", "syntax:job", cwd=tmp_path), 2, "SyntaxError"
    )
    one_line_error(
        run("launch", "numbers", *url, "--jobs", "picky:jobs", cwd=tmp_path),
        2,
        "calling it raised ValueError: jobs are not ready",
    )
    one_line_error(
        run("node", *url, "--steps", "picky:steps", cwd=tmp_path), 2, "needs arguments (name)"
    )
    one_line_error(
        run("launch", "numbers", *url, "--jobs", "tests.cli.sample_jobs:_numbers"),
        2,
        "needs arguments (execution)",
    )


def test_parameters_and_usage_errors_are_one_line(sqlite_url: str) -> None:
    url = ("--url", sqlite_url)
    one_line_error(
        run("launch", "numbers", *url, "--jobs", JOBS, "-p", "run=1(long"), 2, "unclosed type"
    )
    # A String that contains '(' says so with an explicit type.
    ok = run("launch", "numbers", *url, "--jobs", JOBS, "-p", "note=a(b(string)", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["parameters"]["note"]["value"] == "a(b"
    for command in (
        ("execution", "4242"),
        ("partitions", "4242"),
        ("stop", "4242"),
        ("abandon", "4242"),
        ("restart", "4242", "--jobs", JOBS),
    ):
        line = one_line_error(run(*command, *url), 2, "4242")
        assert line == "springbatch-py: error: no job execution with id 4242", command
    one_line_error(run("launch", *url), 2, "required: JOB, --jobs")
    one_line_error(run("execution", "x", *url), 2, "invalid int value: 'x'")
    one_line_error(run("no-such-command"), 2, "invalid choice")
