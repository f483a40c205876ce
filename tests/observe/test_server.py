"""The observability server on every engine: a real two-node cluster (a node process and an
in-process master), a partitioned job, then every endpoint over HTTP."""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.observe.server import ObservabilityServer
from springbatch_py.observe.views import jackson_date
from springbatch_py.testing.plugin import provider
from tests.cluster.app import JobSpec, make_job
from tests.cluster.test_cluster import Cluster, wait_for

ROOT = Path(__file__).resolve().parents[2]
ISO_MILLIS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
JAVA_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}$")


def fetch(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    """Status, content type and body of a request (error statuses included)."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read()


def fetch_json(url: str, method: str = "GET") -> tuple[int, Any]:
    status, content_type, body = fetch(url, method)
    assert content_type == "application/json", (status, content_type, body)
    return status, json.loads(body)


def assert_error(url: str, status: int, method: str = "GET") -> dict[str, Any]:
    got, body = fetch_json(url, method)
    assert got == status, body
    assert body["status"] == status and body["error"] and body["message"]
    assert body["path"] == urlsplit(url).path
    return dict(body)


def metric_samples(text: str) -> dict[str, list[Any]]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(samples: list[Any], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return float(found[0])


def test_endpoints_show_a_two_node_cluster_and_its_jobs(cluster: Cluster) -> None:
    worker = cluster.spawn()
    master = cluster.node()
    node_ids = {worker.node_id, master.node_id}
    wait_for(lambda: len(cluster.store.active_nodes()) == 2, 30, "two active nodes")
    spec = JobSpec(partitions=6, items=4)
    done = master.launch(make_job(spec), spec.parameters())
    assert done.status is BatchStatus.COMPLETED, done.exit_status
    ghost = JobSpec(partitions=2, items=1, worker="ghost", run="2")
    failed = master.launch(make_job(ghost), ghost.parameters())
    assert failed.status is BatchStatus.FAILED
    assert done.id is not None and failed.id is not None

    with (
        ObservabilityServer(cluster.url) as server,
        ObservabilityServer(cluster.db, node=master) as embedded,
    ):
        base = server.url
        rows = {row.node_id: row for row in cluster.store.all_nodes()}
        zone = cluster.db.settings.zone

        # /batch-cluster: every node row, with the Java keys and formats.
        status, nodes = fetch_json(f"{base}/batch-cluster")
        assert status == 200 and nodes["totalNodes"] == 2
        assert {n["Node Id"] for n in nodes["nodes"]} == node_ids
        for entry in nodes["nodes"]:
            row = rows[entry["Node Id"]]
            assert set(entry) == {
                "Node Id", "Host", "Started At", "Status", "Last Heartbeat",
                "Current Load (# of tasks)",
            }  # fmt: skip
            assert entry["Status"] == "ACTIVE" and entry["Host"] == row.host_identifier
            assert ISO_MILLIS_UTC.match(entry["Started At"])
            assert entry["Started At"] == jackson_date(row.created_time, zone)  # type: ignore[arg-type]
            assert ISO_MILLIS_UTC.match(entry["Last Heartbeat"])
            assert isinstance(entry["Current Load (# of tasks)"], int)

        # /batch-cluster/{nodeId}: the ClusterNodeInfo bean.
        for node_id in node_ids:
            status, info = fetch_json(f"{base}/batch-cluster/{node_id}")
            assert status == 200
            assert list(info) == [
                "nodeId", "currentLoad", "hostIdentifier", "lastHeartbeatTime", "nodeStatus",
                "startTime",
            ]  # fmt: skip
            assert info["nodeId"] == node_id and info["nodeStatus"] == "ACTIVE"
            assert info["startTime"] == jackson_date(rows[node_id].created_time, zone)  # type: ignore[arg-type]
        assert_error(f"{base}/batch-cluster/no-such-node", 404)
        assert_error(f"{base}/actuator/batch-cluster/no-such-node", 404)

        # /batch-cluster-jobs: newest first.
        status, jobs = fetch_json(f"{base}/batch-cluster-jobs")
        assert status == 200
        assert [j["jobExecutionId"] for j in jobs] == [failed.id, done.id]
        assert jobs[1] == {
            "jobExecutionId": done.id,
            "masterNode": master.node_id,
            "masterStepName": "rangeSum",
            "coordinationStatus": "COMPLETED",
        }

        # /batch-cluster-jobs/{id}: placement and histogram, as in the database.
        status, job = fetch_json(f"{base}/batch-cluster-jobs/{done.id}")
        assert status == 200
        assert list(job) == [
            "jobExecutionId", "masterNode", "coordinationStatus", "partitionCount",
            "statusCounts", "partitions",
        ]  # fmt: skip
        expected = cluster.partitions(done.id)
        assert job["partitionCount"] == 6 and job["statusCounts"] == {"COMPLETED": 6}
        assert job["partitions"] == [
            {
                "stepExecutionId": p["step_execution_id"],
                "partitionKey": p["partition_key"],
                "assignedNode": p["assigned_node"],
                "status": p["status"],
            }
            for p in expected
        ]
        assert {p["assignedNode"] for p in job["partitions"]} == node_ids
        status, ghost_job = fetch_json(f"{base}/actuator/batch-cluster-jobs/{failed.id}")
        assert status == 200 and ghost_job["statusCounts"] == {"FAILED": 2}
        assert_error(f"{base}/batch-cluster-jobs/abc", 400)
        assert_error(f"{base}/batch-cluster-jobs/99999999", 404)
        assert_error(f"{base}/no-such-endpoint", 404)
        assert_error(f"{base}/health/noSuchComponent", 404)
        assert_error(f"{base}/batch-cluster", 405, method="POST")
        assert_error(f"{base}/metrics", 405, method="DELETE")

        # /health: the cluster indicator; the embedded server adds the node's own.
        status, health = fetch_json(f"{base}/health")
        assert status == 200 and health["status"] == "UP"
        assert list(health["components"]) == ["batchCluster", "db"]
        assert health["components"]["batchCluster"] == {
            "status": "UP",
            "details": {"Total Active Nodes": "2", "Total Nodes in Cluster": "2"},
        }
        assert health["components"]["db"]["status"] == "UP"
        status, health = fetch_json(f"{embedded.url}/actuator/health")
        assert status == 200 and health["status"] == "UP"
        mine = health["components"]["batchClusterNode"]
        assert mine["status"] == "UP"
        assert mine["details"]["Node Id"] == master.node_id
        assert mine["details"]["Node Status"] == "ACTIVE"
        assert JAVA_DATE.match(mine["details"]["Start Time"])
        assert JAVA_DATE.match(mine["details"]["Last Heartbeat Update Time"])
        status, component = fetch_json(f"{embedded.url}/health/batchClusterNode")
        assert status == 200 and component["details"]["Node Id"] == master.node_id

        # /metrics: parses, and its figures are the database's.
        status, content_type, body = fetch(f"{base}/metrics")
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        text = body.decode()
        assert "# HELP springbatch_cluster_partition_claim_latency_seconds" in text
        assert "# TYPE springbatch_cluster_partition_claim_latency_seconds histogram" in text
        m = metric_samples(text)
        nodes_metric = m["springbatch_cluster_nodes"]
        assert value(nodes_metric, "springbatch_cluster_nodes", status="ACTIVE") == 2
        assert value(nodes_metric, "springbatch_cluster_nodes", status="UNREACHABLE") == 0
        threshold = master.settings.unreachable_node_threshold / 1000
        for node_id in node_ids:
            age = value(
                m["springbatch_cluster_node_heartbeat_age_seconds"],
                "springbatch_cluster_node_heartbeat_age_seconds",
                node_id=node_id,
                host=rows[node_id].host_identifier or "",
            )
            assert 0 <= age < threshold + 1  # alive: heartbeats within the threshold
        every = cluster.partitions(done.id) + cluster.partitions(failed.id)
        by_status = Counter(p["status"] for p in every)
        partitions = m["springbatch_cluster_partitions"]
        for partition_status in ("PENDING", "CLAIMED", "COMPLETED", "FAILED"):
            got = value(partitions, "springbatch_cluster_partitions", status=partition_status)
            assert got == by_status[partition_status]
        assert (
            value(
                m["springbatch_cluster_coordinated_jobs"],
                "springbatch_cluster_coordinated_jobs",
                status="COMPLETED",
            )
            == 2
        )  # the FAILED job's coordination completed too

        steps = {
            s.id: s
            for execution in (done, failed)
            for s in master.repository.get_job_execution(execution.id).step_executions  # type: ignore[union-attr]
        }
        latencies = [
            (
                steps[p["step_execution_id"]].start_time - steps[p["step_execution_id"]].create_time
            ).total_seconds()
            for p in every
        ]
        claim = m["springbatch_cluster_partition_claim_latency_seconds"]
        name = "springbatch_cluster_partition_claim_latency_seconds"
        assert value(claim, f"{name}_count") == 8
        assert value(claim, f"{name}_bucket", le="+Inf") == 8
        assert math.isclose(value(claim, f"{name}_sum"), math.fsum(latencies), abs_tol=0.01)
        buckets = [s.value for s in claim if s.name == f"{name}_bucket"]
        assert buckets == sorted(buckets)  # cumulative

        durations = m["springbatch_job_execution_duration_seconds"]
        name = "springbatch_job_execution_duration_seconds"
        for execution, job_status in ((done, "COMPLETED"), (failed, "FAILED")):
            stored = master.repository.get_job_execution(execution.id)  # type: ignore[arg-type]
            assert stored is not None and stored.end_time and stored.start_time
            ran = (stored.end_time - stored.start_time).total_seconds()
            labels = {"job_name": "rangeJob", "status": job_status}
            assert value(durations, f"{name}_count", **labels) == 1
            assert math.isclose(value(durations, f"{name}_sum", **labels), ran, abs_tol=0.001)
        partition_durations = m["springbatch_cluster_partition_duration_seconds"]
        name = "springbatch_cluster_partition_duration_seconds"
        assert value(partition_durations, f"{name}_count", status="COMPLETED") == 6
        assert value(partition_durations, f"{name}_count", status="FAILED") == 2

        # Every node gone: the cluster indicator is DOWN, and so is the health (503).
        worker.popen.send_signal(signal.SIGTERM)
        assert worker.popen.wait(60) == 0
        master.stop()
        status, health = fetch_json(f"{base}/health")
        assert status == 503 and health["status"] == "DOWN"
        assert health["components"]["batchCluster"] == {
            "status": "DOWN",
            "details": {"Total Active Nodes": "0", "Total Nodes in Cluster": "0"},
        }
        assert health["components"]["db"]["status"] == "UP"
        status, nodes = fetch_json(f"{base}/batch-cluster")
        assert status == 200 and nodes == {"totalNodes": 0, "nodes": []}


def test_health_is_503_when_the_database_is_gone(engine: str) -> None:
    scratch = provider(engine).create()
    dropped = False
    try:
        with Database.open(scratch.url) as db:
            create_schema(db, major=6)
            SqlClusterStore(db).register_node("observed-node", "somewhere")
        with ObservabilityServer(scratch.url) as server:
            status, health = fetch_json(f"{server.url}/health")
            assert status == 200 and health["status"] == "UP"
            scratch.drop()
            dropped = True
            status, health = fetch_json(f"{server.url}/health")
            assert status == 503 and health["status"] == "DOWN"
            assert health["components"]["db"]["status"] == "DOWN"
            assert health["components"]["db"]["details"]["error"]
            assert health["components"]["batchCluster"]["status"] == "DOWN"
            status, database_health = fetch_json(f"{server.url}/health/db")
            assert status == 503 and database_health["status"] == "DOWN"
            for path in ("/batch-cluster", "/batch-cluster-jobs", "/batch-cluster-jobs/1"):
                body = assert_error(f"{server.url}{path}", 503)
                assert "database" in body["message"]
            status, _, _ = fetch(f"{server.url}/metrics")
            assert status == 503
    finally:
        if not dropped:
            scratch.drop()


def test_serve_forever_prints_its_address_and_stops_on_sigterm(database_url: str) -> None:
    with Database.open(database_url) as db:
        create_schema(db, major=6)
        SqlClusterStore(db).register_node("served-node", "somewhere")
    code = (
        "import sys; from springbatch_py.observe.server import serve_forever; "
        "sys.exit(serve_forever(sys.argv[1], '127.0.0.1', 0))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, database_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+) ", line)
        assert found, (line, process.stderr.read() if process.poll() is not None else "")
        status, nodes = fetch_json(f"{found[1]}/batch-cluster")
        assert status == 200 and [n["Node Id"] for n in nodes["nodes"]] == ["served-node"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_forever_reports_an_unreachable_database(tmp_path: Path) -> None:
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from springbatch_py.observe.server import serve_forever; "
            "sys.exit(serve_forever(sys.argv[1], '127.0.0.1', 0))",
            f"sqlite:///{tmp_path}/missing/folder/x.db",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert "does not exist" in process.stderr and not process.stdout
