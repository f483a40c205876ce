"""Five node processes on one SQLite file: contention makes the cluster slower, never wrong.

SQLite has one write lock for the whole file. Every transaction that may write must wait for it
(the busy timeout) instead of failing at once; a failure here shows up as failed partitions,
evicted nodes (a heartbeat that waited past the thresholds) or a job that never ends. The test
counts them and prints them. Before SQLite's write lock was waited for as
:mod:`springbatch_py.db.vendors.sqlite_transactions` does, heartbeats waited up to 20 s for it.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections import Counter

import pytest

from tests.cluster.app import JobSpec
from tests.cluster.test_cluster import Cluster, assert_exactly_once

pytestmark = [pytest.mark.engines("sqlite"), pytest.mark.timeout(600)]

#: How long the job may take on a loaded two-core machine (under a minute even at load 15).
JOB_BOUND_S = 300

#: Heartbeats must get the write lock within seconds, even with every node's threads wanting it
#: on a busy machine (waits of 5 s are seen at load 15; they were 20 s and more when SQLite's
#: busy handler did the waiting); slower than the thresholds and live nodes are evicted.
RELAXED = {"unreachable_node_threshold": "10000", "node_cleanup_threshold": "20000"}

_WAITED = re.compile(r"waited ([0-9.]+) s \(\d+ tries\) for the SQLite write lock")
_LOCKED = re.compile(r"database is locked|database table is locked|SQLITE_BUSY", re.IGNORECASE)


def test_five_sqlite_node_processes_finish_every_partition(cluster: Cluster) -> None:
    spec = JobSpec(partitions=120, items=100, delay_ms=0, mode="ROUND_ROBIN")
    for _ in range(4):
        cluster.spawn(**RELAXED)
    master = cluster.spawn(spec, **RELAXED)
    try:
        out, _ = master.popen.communicate(timeout=JOB_BOUND_S)
    except subprocess.TimeoutExpired:
        master.popen.send_signal(signal.SIGKILL)
        master.popen.wait(10)
        raise AssertionError(
            f"the job did not end within {JOB_BOUND_S} s; the master's log:\n"
            + cluster.log_tail(master)
        ) from None
    logs = {p.node_id: p.log.read_text() for p in cluster.processes}
    locked = {node: len(_LOCKED.findall(text)) for node, text in logs.items()}
    evicted = {node: text.count("was evicted") for node, text in logs.items()}
    waits = [float(w) for text in logs.values() for w in _WAITED.findall(text)]
    execution_id = int(out.split()[0]) if out.strip() else None
    statuses: Counter[str] = Counter()
    if execution_id is not None:
        statuses.update(p["status"] for p in cluster.partitions(execution_id))
    print(
        f"\nsqlite contention: master exit {master.popen.returncode}, output {out.strip()!r}, "
        f"partitions {dict(statuses)}, 'database is locked' {sum(locked.values())}, "
        f"evictions {sum(evicted.values())}, lock waits over 2 s {len(waits)} "
        f"(longest {max(waits, default=0):.1f} s)"
    )
    assert master.popen.returncode == 0, cluster.log_tail(master)
    assert statuses == {"COMPLETED": spec.partitions}
    assert sum(locked.values()) == 0, {n: t[-3000:] for n, t in logs.items() if locked[n]}
    assert sum(evicted.values()) == 0, {n: t[-3000:] for n, t in logs.items() if evicted[n]}
    assert_exactly_once(cluster, spec)
