"""The cluster state machines: the tables in code, the module docstring rendered from them, and the
statuses Java stores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from springbatch_py.cluster import states
from springbatch_py.cluster.states import (
    COORDINATION,
    NODE,
    PARTITION,
    CoordinationStatus,
    IllegalTransitionError,
    NodeStatus,
    PartitionStatus,
)
from springbatch_py.cluster.store import (
    CompareAndSetError,
    Coordination,
    PartitionTask,
    SqlClusterStore,
)
from springbatch_py.db.database import Database

REGENERATE = "SPRINGBATCH_REGENERATE_STATES"


def test_the_docstring_shows_the_tables_in_code() -> None:
    doc = states.__doc__ or ""
    fresh = states.render_docstring(doc)
    if fresh != doc and os.environ.get(REGENERATE) == "1":
        source = Path(states.__file__)
        text = source.read_text(encoding="utf-8")
        source.write_text(text.replace(doc, fresh, 1), encoding="utf-8")
        pytest.skip(f"rewrote the tables of {source}")
    assert fresh == doc, (
        "the transition tables in springbatch_py/cluster/states.py's docstring are stale; "
        f"regenerate them with: {REGENERATE}=1 python -m pytest {__file__}"
    )
    for machine in states.MACHINES:
        assert states.render_table(machine) in doc


def test_statuses_are_the_strings_java_stores() -> None:
    assert [s.value for s in NodeStatus] == ["ACTIVE", "UNREACHABLE"]
    assert [s.value for s in CoordinationStatus] == [
        "CREATED",
        "STARTED",
        "COMPLETED",
        "RECOVERING",
        "ABANDONED",
    ]
    assert [s.value for s in PartitionStatus] == ["PENDING", "CLAIMED", "COMPLETED", "FAILED"]
    assert PartitionStatus.CLAIMED == "CLAIMED" and f"{NodeStatus.ACTIVE}" == "ACTIVE"


def test_every_status_is_reachable() -> None:
    for machine in states.MACHINES:
        reached = {t.target for t in machine.transitions}
        assert set(machine.statuses) <= reached, machine.title


def test_the_tables_allow_what_the_cluster_does() -> None:
    assert PARTITION.allows("PENDING", "CLAIMED")
    assert PARTITION.allows(PartitionStatus.CLAIMED, PartitionStatus.PENDING)
    assert COORDINATION.allows("RECOVERING", "RECOVERING")
    assert NODE.allows(None, "ACTIVE") and NODE.allows("UNREACHABLE", None)
    assert not PARTITION.allows("COMPLETED", "PENDING")
    assert not COORDINATION.allows("COMPLETED", "STARTED")


def test_an_illegal_transition_says_which() -> None:
    with pytest.raises(IllegalTransitionError, match="from FAILED to CLAIMED"):
        PARTITION.check(["FAILED"], "CLAIMED")
    with pytest.raises(IllegalTransitionError, match="from STARTED to CREATED"):
        COORDINATION.check(["STARTED", "RECOVERING"], "CREATED")
    with pytest.raises(IllegalTransitionError, match="'RUNNING' is no partition status"):
        PARTITION.check(["RUNNING"], "FAILED")


# -- the store checks the tables -----------------------------------------------------------------

TASK = PartitionTask(11, 1, "worker:0", 10, True, "worker", "node-a", PartitionStatus.CLAIMED)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlClusterStore]:
    with Database.open(f"sqlite:///{tmp_path / 'cluster.db'}") as db:
        yield SqlClusterStore(db)


def test_the_store_refuses_an_illegal_transition_before_any_sql(store: SqlClusterStore) -> None:
    with pytest.raises(IllegalTransitionError, match="from COMPLETED to PENDING"):
        store.transition_partition(
            TASK, "node-a", PartitionStatus.COMPLETED, PartitionStatus.PENDING
        )
    coordination = Coordination(1, "m", 10, "worker", CoordinationStatus.CREATED)
    with pytest.raises(IllegalTransitionError, match="from CREATED to COMPLETED"):
        store.transition_coordination(coordination, "m", "CREATED", "COMPLETED")
    with pytest.raises(IllegalTransitionError, match="from FAILED to PENDING"):
        store.reassign(replace(TASK, status=PartitionStatus.FAILED), "node-b")
    with pytest.raises(IllegalTransitionError, match="from COMPLETED to FAILED"):
        store.fail_orphan(replace(TASK, status=PartitionStatus.COMPLETED))
    assert store.statement_count() == 0


@pytest.mark.parametrize(("rows", "won"), [(0, False), (1, True)])
def test_a_compare_and_set_wins_with_one_row(
    store: SqlClusterStore, monkeypatch: pytest.MonkeyPatch, rows: int, won: bool
) -> None:
    monkeypatch.setattr(store, "_run", lambda *a, **k: SimpleNamespace(rowcounts=[rows]))
    assert store.transition_partition(TASK, "node-a", "CLAIMED", "COMPLETED") is won
    assert store.heartbeat("node-a", 0) is won


def test_a_compare_and_set_that_moves_more_rows_raises(
    store: SqlClusterStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "_run", lambda *a, **k: SimpleNamespace(rowcounts=[2]))
    with pytest.raises(CompareAndSetError, match="partition_transition for partition 11 moved 2"):
        store.transition_partition(TASK, "node-a", "CLAIMED", "COMPLETED")
    with pytest.raises(CompareAndSetError, match="node_heartbeat for node node-a moved 2"):
        store.heartbeat("node-a", 0)
    with pytest.raises(CompareAndSetError, match="coordination_claim_orphaned"):
        store.claim_orphaned_master(Coordination(1, "gone", 10, "worker", ""), "node-a")
