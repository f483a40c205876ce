"""``springbatch-py demo``, end to end: worker processes, the job, the summary, the exit code."""

from __future__ import annotations

import re
import subprocess
import sys

import sqlalchemy as sa

from springbatch_py.db.database import Database


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", "demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def check_output(result: subprocess.CompletedProcess[str], partitions: int) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "workers started 3 node processes" in out
    rows = re.findall(r"│ (aggregateSales:\d+) +│ (demo-worker-\d)~\w+ +│ (\w+) +│ ([\d,]+) │", out)
    assert sorted(r[0] for r in rows) == sorted(f"aggregateSales:{i}" for i in range(partitions))
    assert {r[2] for r in rows} == {"COMPLETED"}
    assert {r[1] for r in rows} == {"demo-worker-1", "demo-worker-2", "demo-worker-3"}
    ending = rf"COMPLETED in [\d.]+s, {partitions} partitions on 3 nodes; totals match"
    assert re.search(ending, out), out
    assert "workers 3 of 3 drained and left" in out


def test_demo_without_arguments_runs_on_sqlite() -> None:
    check_output(demo("--pace-ms", "0"), partitions=12)


def test_demo_on_the_engine(database_url: str) -> None:
    check_output(demo("--url", database_url, "--rows", "6000", "--partitions", "6"), 6)
    with Database.open(database_url) as db, db.connect() as c:
        # The workers left the cluster; the job's rows stay (lower case: the cluster DDL's).
        assert c.execute(sa.text("SELECT COUNT(*) FROM batch_nodes")).scalar() == 0
        assert c.execute(sa.text("SELECT COUNT(*) FROM batch_partitions")).scalar() == 6
