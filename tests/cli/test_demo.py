"""``springbatch-py demo``, end to end: worker processes, the job, the summary, the exit code."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time

import sqlalchemy as sa

from springbatch_py.cluster.store import NodeRow, PartitionTask
from springbatch_py.db.database import Database
from springbatch_py.demo import runner


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
    assert re.search(
        rf"progress {partitions} of {partitions} partitions done; ([\d,]+) of \1 rows", out
    )
    assert "Traceback" not in out + result.stderr


def test_demo_without_arguments_runs_on_sqlite() -> None:
    check_output(demo("--pace-ms", "0"), partitions=12)


def test_demo_on_the_engine(database_url: str) -> None:
    check_output(demo("--url", database_url, "--rows", "6000", "--partitions", "6"), 6)
    with Database.open(database_url) as db, db.connect() as c:
        # The workers left the cluster; the job's rows stay (lower case: the cluster DDL's).
        assert c.execute(sa.text("SELECT COUNT(*) FROM batch_nodes")).scalar() == 0
        assert c.execute(sa.text("SELECT COUNT(*) FROM batch_partitions")).scalar() == 6


def test_demo_generates_with_progress_and_stops_the_job_at_the_timeout() -> None:
    # 10,000 rows per partition at 0.2 s per chunk of 250: no partition can end within 3 s.
    result = demo("--rows", "60000", "--partitions", "6", "--pace-ms", "200", "--timeout", "3")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    generated = re.findall(r"input generating: ([\d,]+) of 60,000 rows", out)
    assert generated[-1] == "60,000" and len(generated) == len(set(generated)) >= 2, generated
    assert re.search(r"timeout stopping execution \d+", out), out
    assert "stopped after --timeout 3 s" in out
    assert re.search(r"execution \d+: STOPPED in", out), out
    # Stopped at a chunk boundary: none done, and the last progress line says how far they got.
    final = re.findall(r"progress 0 of 6 partitions done(.*); ([\d,]+) of 60,000 rows read", out)
    assert final and "stopped" in final[-1][0], out
    assert "Traceback" not in out + result.stderr
    assert "workers 3 of 3 drained and left" in out


def test_the_live_view_keeps_the_progress_line_on_a_short_terminal() -> None:
    tasks = [
        PartitionTask(
            step_execution_id=10 + i,
            job_execution_id=1,
            partition_key=f"aggregateSales:{i}",
            master_step_execution_id=1,
            transferable=True,
            assigned_node=f"demo-worker-{i % 3 + 1}-{i:08d}-0000-0000-0000-000000000000",
            status="COMPLETED" if i < 50 else "CLAIMED" if i < 56 else "PENDING",
        )
        for i in range(80)
    ]
    nodes = [NodeRow(f"demo-worker-{n}-x", None, None, "ACTIVE", "h", 2, 100.0) for n in (1, 2, 3)]
    snapshot = runner.Snapshot(nodes=nodes, partitions=tasks)
    height = 30
    console = runner.Console(
        file=io.StringIO(), width=120, height=height, force_terminal=True, record=True
    )
    console.print(runner._live_view(snapshot, time.monotonic(), 60_000, height))
    lines = console.export_text().rstrip("\n").splitlines()
    assert len(lines) <= height, "\n".join(lines)
    assert "50 of 80 partitions done, 6 running; 0 of 60,000 rows read" in lines[0]
    shown = [line for line in lines if "aggregateSales:" in line]
    assert all(f"aggregateSales:{i} " in "\n".join(shown) for i in range(50, 56))  # running
    assert any("more" in line for line in lines[-4:]), "\n".join(lines)
