"""The engine's round-trip counter: statements, the transaction ends a driver sends, pings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.db import roundtrips, transactions
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema


def test_a_lone_cluster_read_costs_one_round_trip_where_autocommit_is_free(
    database: Database,
) -> None:
    create_schema(database)
    store = SqlClusterStore(database)
    store.active_nodes()  # the pool's connection exists now
    before = database.round_trips.snapshot()
    store.active_nodes()
    spent = database.round_trips.snapshot() - before
    assert spent["SELECT"] == 1
    if database.dialect.cheap_autocommit:
        assert sum(spent.values()) == 1, spent  # no BEGIN, no COMMIT, no ROLLBACK
    else:
        assert sum(spent.values()) <= 2, spent  # at most the driver's ROLLBACK on return


def test_a_write_transaction_counts_its_statements_and_its_commit(database: Database) -> None:
    create_schema(database)
    store = SqlClusterStore(database)
    store.register_node("node-a", "host")
    with transactions.new_transaction(database) as c:
        c.execute(sa.text("SELECT 1"))  # the pool's connection exists now
    before = database.round_trips.snapshot()
    nodes = database.dialect.table_name("BATCH_NODES", "cluster")
    with transactions.new_transaction(database) as c:
        c.execute(sa.text(f"UPDATE {nodes} SET CURRENT_LOAD = 1"))
    spent = database.round_trips.snapshot() - before
    assert spent["UPDATE"] == 1 and spent["COMMIT"] == 1, spent
    assert set(spent) <= {"BEGIN", "UPDATE", "COMMIT"}, spent


def test_a_connection_idle_long_enough_is_pinged_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.connect() as c:
        c.execute(sa.text("SELECT 1"))
    monkeypatch.setattr(roundtrips, "PING_AFTER_IDLE_S", 0.0)
    before = database.round_trips.snapshot()
    with database.connect() as c:
        c.execute(sa.text("SELECT 1"))
    spent = database.round_trips.snapshot() - before
    assert spent["PING"] == 1, spent
