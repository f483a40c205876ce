"""Clusters whose nodes register different worker steps (as mixed Java/Python clusters do).

A launcher without the worker step takes no share of the partitions; a worker that receives a
transferable partition whose step it lacks hands it back to another node; a non-transferable one
fails with a message naming the step.
"""

from __future__ import annotations

import logging

import pytest

from springbatch_py.cluster import Node
from springbatch_py.core.status import BatchStatus
from tests.cluster.app import JobSpec, make_job, settings_for
from tests.cluster.test_cluster import Cluster, assert_exactly_once, wait_for

JOB_TIMEOUT = 120


def stepless_node(cluster: Cluster, prefix: str) -> Node:
    """An in-process node that registers no worker step (a launcher without ``--steps``)."""
    settings = settings_for(cluster.db.dialect).replace(node_id_prefix=prefix)
    node = Node(cluster.db, steps=(), settings=settings)
    node.start()
    cluster.nodes.append(node)
    return node


def wait_for_nodes(cluster: Cluster, count: int) -> None:
    wait_for(lambda: len(cluster.store.active_nodes()) == count, 30, f"{count} ACTIVE nodes")


def test_a_master_without_the_worker_step_takes_no_partition(cluster: Cluster) -> None:
    workers = {cluster.spawn().node_id, cluster.spawn().node_id}
    master = stepless_node(cluster, "launcher")
    wait_for_nodes(cluster, 3)
    spec = JobSpec(partitions=6, items=5)
    execution = master.launch_async(make_job(spec), spec.parameters()).result(JOB_TIMEOUT)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    assert len(partitions) == 6 and {p["status"] for p in partitions} == {"COMPLETED"}
    assert {p["assigned_node"] for p in partitions} == workers  # none on the master
    assert_exactly_once(cluster, spec)


def test_a_worker_without_the_step_hands_transferable_partitions_back(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="springbatch_py.cluster.worker")
    able = cluster.spawn().node_id
    master = stepless_node(cluster, "launcher")
    lacking = stepless_node(cluster, "lacking")
    wait_for_nodes(cluster, 3)
    spec = JobSpec(partitions=6, items=5, transferable=True)
    execution = master.launch_async(make_job(spec), spec.parameters()).result(JOB_TIMEOUT)
    assert execution.status is BatchStatus.COMPLETED, execution.exit_status
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    assert {p["status"] for p in partitions} == {"COMPLETED"}
    assert {p["assigned_node"] for p in partitions} == {able}  # every one ended where it ran
    assert {node for _, _, node in assert_exactly_once(cluster, spec)} == {able}
    handed = [r for r in caplog.records if "handed back to node" in r.getMessage()]
    # The master split between the two workers, round robin: half went to the one that lacks
    # the step, which handed each back (to the master, which lacks it too, or to the able one).
    assert handed and any(lacking.node_id in r.getMessage() for r in handed)
    assert all("no step named 'rangeSum'" in r.getMessage() for r in handed)
    assert lacking.worker.failed == 0 and master.worker.failed == 0


def test_a_worker_without_the_step_fails_non_transferable_partitions(cluster: Cluster) -> None:
    able = cluster.spawn().node_id
    master = stepless_node(cluster, "launcher")
    lacking = stepless_node(cluster, "lacking")
    wait_for_nodes(cluster, 3)
    spec = JobSpec(partitions=4, items=5, transferable=False)
    execution = master.launch_async(make_job(spec), spec.parameters()).result(JOB_TIMEOUT)
    assert execution.status is BatchStatus.FAILED
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    by_node = {p["assigned_node"] for p in partitions}
    assert by_node == {able, lacking.node_id}  # the master took none
    steps = {s.id: s for s in execution.step_executions}
    for partition in partitions:
        step = steps[partition["step_execution_id"]]
        if partition["assigned_node"] == able:
            assert partition["status"] == "COMPLETED" and step.status is BatchStatus.COMPLETED
        else:
            assert partition["status"] == "FAILED" and step.status is BatchStatus.FAILED
            assert "no step named 'rangeSum'" in step.exit_status.exit_description
    assert lacking.worker.failed == 2


def test_a_partition_no_node_can_run_fails_after_each_node_was_tried(cluster: Cluster) -> None:
    master = stepless_node(cluster, "launcher")
    lacking = stepless_node(cluster, "lacking")
    wait_for_nodes(cluster, 2)
    spec = JobSpec(partitions=2, items=5, transferable=True)
    execution = master.launch_async(make_job(spec), spec.parameters()).result(JOB_TIMEOUT)
    assert execution.status is BatchStatus.FAILED
    partitions = cluster.partitions(execution.id)  # type: ignore[arg-type]
    assert {p["status"] for p in partitions} == {"FAILED"}
    workers = [s for s in execution.step_executions if s.step_name.startswith("rangeSum:")]
    assert len(workers) == 2 and {s.status for s in workers} == {BatchStatus.FAILED}
    for step in workers:
        assert "no step named 'rangeSum'" in step.exit_status.exit_description
        assert "no other live node is left to try" in step.exit_status.exit_description
    assert master.worker.failed + lacking.worker.failed == 2
