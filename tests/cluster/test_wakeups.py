"""Wake-ups: announced partitions start without waiting for a poll, and a partition's end wakes
its master; PostgreSQL's notifications reach a listener, which survives a lost connection.

Every test here would take minutes without its wake-up (the polls are set minutes apart), and
ends in seconds with it; the bounds are generous, for a loaded machine.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from springbatch_py.cluster import Node
from springbatch_py.cluster.store import NOTIFY_ENV, SqlClusterStore
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.notifications import Listener
from tests.cluster.app import JobSpec, make_job, make_registry, settings_for
from tests.cluster.test_cluster import Cluster, assert_exactly_once, wait_for

#: Polls this far apart never happen within a test.
MINUTES_MS = 600_000


def slow_polling_node(cluster: Cluster, prefix: str, *, steps: bool) -> Node:
    """An in-process node whose worker and master poll minutes apart (unless woken)."""
    holder = [""]
    settings = settings_for(cluster.db.dialect).replace(
        node_id_prefix=prefix,
        task_polling_interval=MINUTES_MS,
        master_task_status_check_interval=MINUTES_MS,
        orphaned_tasks_polling_interval=MINUTES_MS,
    )
    registry = make_registry(cluster.db, holder) if steps else ()
    node = Node(cluster.db, steps=registry, settings=settings)
    holder[0] = node.node_id
    node.worker.fast_poll_s = node.worker.hot_window_s = MINUTES_MS / 1000
    node.start()
    cluster.nodes.append(node)
    return node


def test_announced_partitions_run_and_their_ends_wake_the_master(cluster: Cluster) -> None:
    worker = slow_polling_node(cluster, "a-worker", steps=True)
    master = slow_polling_node(cluster, "z-master", steps=False)
    time.sleep(0.5)  # both loops now wait minutes for their next poll
    spec = JobSpec(partitions=4, items=3)
    execution = master.launch_async(make_job(spec), spec.parameters()).result(timeout=60)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    assert {node for _, _, node in assert_exactly_once(cluster, spec)} == {worker.node_id}


@pytest.mark.requires("listen_notify")
def test_a_listener_hears_notifications_and_listens_again_after_losing_its_connection(
    cluster: Cluster,
) -> None:
    db: Database = cluster.db
    heard: list[str] = []
    listener = Listener(db, "springbatch_test", heard.append)
    listener.start()
    try:
        assert listener.wait_live(30)
        with db.connect() as c:
            db.dialect.notify(c, "springbatch_test", "first")
            c.commit()
        wait_for(lambda: heard == ["first"], 30, "the first notification")
        with db.connect() as c:  # the server ends the listening session, as a restart would
            c.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                )
            )
            c.commit()
        wait_for(lambda: not listener.live, 30, "the listener to notice")
        assert listener.wait_live(30)

        def second_heard() -> bool:
            with db.connect() as c:
                db.dialect.notify(c, "springbatch_test", "second")
                c.commit()
            return "second" in heard

        wait_for(second_heard, 30, "a notification after listening again")
    finally:
        listener.stop()


@pytest.mark.requires("listen_notify")
def test_notifications_can_be_turned_off_for_a_pooler_that_cannot_listen(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlClusterStore(cluster.db)
    monkeypatch.setenv(NOTIFY_ENV, "0")
    store.open_signals()
    try:
        assert not store.notifications_live  # the polls keep the task-polling-interval
    finally:
        store.close_signals()
    monkeypatch.setenv(NOTIFY_ENV, "1")
    store.open_signals()
    try:
        wait_for(lambda: store.notifications_live, 30, "the listener")
    finally:
        store.close_signals()
