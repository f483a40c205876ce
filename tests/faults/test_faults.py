"""The fault suite's fixed-seed set: every scenario once on SQLite, PostgreSQL and MariaDB.

Each run starts worker node processes and a ``springbatch-py launch`` on a fresh database of a
private server, injects its fault and checks (see :mod:`tests.faults.checker`): no item lost or
committed twice, the job terminal within 45 s of the fault and ``launch`` gone 30 s later, a
FAILED or STOPPED job restarted to COMPLETED running only the rest, counters equal to the
committed rows, no terminal partition reopened. ``python bench/faults.py`` runs more rounds.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import JobSize
from tests.faults.scenarios import SCENARIOS, not_applicable, run_scenario
from tests.faults.servers import Server

SEED = 7
SIZE = JobSize(partitions=8, items=30, delay_ms=20)
BOUND = 45.0


# One fault at a time: a busy-loop or a frozen server must not starve another scenario's nodes
# (under xdist every scenario runs on the same worker, in turn).
@pytest.mark.xdist_group("faults")
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fault(server: Server, name: str) -> None:
    scenario = SCENARIOS[name]
    reason = not_applicable(scenario, server.engine)
    if reason:
        pytest.skip(reason)
    result = run_scenario(server, scenario, seed=SEED, size=SIZE, bound=BOUND)
    assert result.ok, result.summary()
