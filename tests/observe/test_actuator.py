"""Spring Boot's actuator paths and the per-node metrics, over HTTP against running nodes: a
node process serving its own endpoints (``node --serve-port``), and in-process nodes with a
server each."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.core.status import BatchStatus
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.observe.prometheus import NodeMetrics
from springbatch_py.observe.server import ObservabilityServer
from springbatch_py.testing.plugin import provider
from tests.cli.test_ops import FAST, JOBS, ROOT, STEPS, env, run
from tests.cluster.app import JobSpec, make_job
from tests.cluster.test_cluster import Cluster, wait_for
from tests.observe.test_server import fetch, fetch_json

NODE_COUNTERS = (
    "springbatch_node_items_read_total",
    "springbatch_node_items_written_total",
    "springbatch_node_chunks_total",
    "springbatch_node_partitions_claimed_total",
    "springbatch_node_partitions_completed_total",
    "springbatch_node_partitions_failed_total",
)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus endpoint, by series."""
    status, content_type, body = fetch(url)
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4"), body
    return {
        (s.name, tuple(sorted(s.labels.items()))): float(s.value)
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def assert_never_fell(
    before: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    after: dict[tuple[str, tuple[tuple[str, str], ...]], float],
) -> None:
    """Counters and histogram counts of the node, and the process CPU, only go up."""
    for (name, labels), value in before.items():
        monotonic = name.startswith("springbatch_node_") and not name.endswith("_created")
        if monotonic or name == "process_cpu_seconds_total":
            assert after.get((name, labels), -1.0) >= value, (name, labels, value, after)


@pytest.fixture
def url(database_url: str) -> str:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db)
    return database_url


def _start_node(url: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "springbatch_py", "node", "--url", url, "--steps", STEPS,
            "--node-id-prefix", "scraped", "--serve-port", "0", *FAST,
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env(),
    )  # fmt: skip
    assert process.stdout is not None
    for _ in range(20):
        line = process.stdout.readline()
        found = re.search(r"serving (http://127\.0\.0\.1:\d+)", line)
        if found:
            return process, found.group(1)
        if not line:
            break
    process.kill()
    raise AssertionError(f"no address printed: {process.communicate(timeout=30)[0]}")


def test_a_node_process_counts_its_work_and_answers_spring_boot_paths(url: str) -> None:
    node, http = _start_node(url)
    try:
        # Probes: liveness while it serves, readiness once the database answers and it is ACTIVE.
        assert fetch_json(f"{http}/actuator/health/liveness") == (200, {"status": "UP"})
        assert fetch_json(f"{http}/actuator/health/readiness") == (200, {"status": "UP"})
        status, info = fetch_json(f"{http}/actuator/info")
        assert status == 200 and info["build"]["name"] == "springbatch-py"

        # The index: Spring Boot's _links, each an href and whether it is templated.
        status, index = fetch_json(f"{http}/actuator")
        assert status == 200 and set(index) == {"_links"}
        links = index["_links"]
        for name in ("self", "health", "info", "prometheus", "metrics"):
            assert links[name] == {"href": f"{http}/actuator/{name}".replace("/self", ""),
                                   "templated": False}, (name, links)  # fmt: skip
        assert links["metrics-requiredMetricName"] == {
            "href": f"{http}/actuator/metrics/{{requiredMetricName}}",
            "templated": True,
        }
        for link in links.values():
            if not link["templated"]:
                assert fetch(link["href"])[0] == 200, link

        first = scrape(f"{http}/actuator/prometheus")
        for name in NODE_COUNTERS:
            assert total(first, name) == 0, name
        assert ("process_cpu_seconds_total", ()) in first
        assert any(name == "python_info" for name, _ in first)
        assert total(first, "springbatch_cluster_nodes") == 1  # the database's gauges stay

        # A partitioned job: round robin over the launcher and the node, 3 partitions of 10 each.
        for run_id, claimed in (("1", 3), ("2", 6)):
            launched = run(
                "launch", "squares", "--url", url, "--jobs", JOBS, "--steps", STEPS,
                "-p", f"run={run_id}", "--json", *FAST, "--set", "node-id-prefix=launcher",
            )  # fmt: skip
            assert launched.returncode == 0, launched.stderr
            assert json.loads(launched.stdout)["status"] == "COMPLETED"
            scraped = scrape(f"{http}/metrics")
            assert_never_fell(first, scraped)
            first = scraped
            series = ("springbatch_node_items_read_total", (("step", "sumSquares"),))
            assert scraped[series] == claimed * 10, scraped
            assert total(scraped, "springbatch_node_items_written_total") == claimed * 10
            assert total(scraped, "springbatch_node_partitions_claimed_total") == claimed
            assert total(scraped, "springbatch_node_partitions_completed_total") == claimed
            assert total(scraped, "springbatch_node_partitions_failed_total") == 0
            # 10 items in chunks of 5: two chunks (and Java's final empty one) per partition.
            assert total(scraped, "springbatch_node_chunks_total") >= claimed * 2
            assert total(scraped, "springbatch_node_partition_claim_seconds_count") == claimed
        wait_for(
            lambda: total(scrape(f"{http}/actuator/prometheus"),
                          "springbatch_node_heartbeat_round_trip_seconds_count") > 0,
            30, "a heartbeat to be timed",
        )  # fmt: skip
        last = scrape(f"{http}/actuator/prometheus")
        assert_never_fell(first, last)
        assert total(last, "springbatch_node_heartbeat_lag_seconds_count") > 0

        # Spring Boot's metrics JSON.
        status, names = fetch_json(f"{http}/actuator/metrics")
        assert status == 200 and list(names) == ["names"]
        assert names["names"] == sorted(names["names"])
        for expected in (
            "springbatch_node_items_read", "springbatch_node_partitions_claimed",
            "springbatch_node_heartbeat_lag_seconds", "springbatch_cluster_nodes",
            "process_cpu_seconds",
        ):  # fmt: skip
            assert expected in names["names"], expected
        status, claimed_metric = fetch_json(
            f"{http}/actuator/metrics/springbatch_node_partitions_claimed"
        )
        assert status == 200
        assert claimed_metric == {
            "name": "springbatch_node_partitions_claimed",
            "description": "Partitions this node claimed.",
            "baseUnit": None,
            "measurements": [{"statistic": "COUNT", "value": 6.0}],
            "availableTags": [],
        }
        status, read = fetch_json(f"{http}/actuator/metrics/springbatch_node_items_read_total")
        assert status == 200 and read["measurements"] == [{"statistic": "COUNT", "value": 60.0}]
        assert read["availableTags"] == [{"tag": "step", "values": ["sumSquares"]}]
        status, lag = fetch_json(f"{http}/actuator/metrics/springbatch_node_heartbeat_lag_seconds")
        assert status == 200 and lag["baseUnit"] == "seconds"
        assert [m["statistic"] for m in lag["measurements"]] == ["COUNT", "TOTAL_TIME"]
        status, nodes = fetch_json(
            f"{http}/actuator/metrics/springbatch_cluster_nodes?tag=status:ACTIVE"
        )
        assert status == 200 and nodes["measurements"] == [{"statistic": "VALUE", "value": 1.0}]
        assert fetch_json(f"{http}/actuator/metrics/no_such_metric")[0] == 404
        assert fetch_json(f"{http}/actuator/metrics/springbatch_cluster_nodes?tag=nope")[0] == 400
    finally:
        node.send_signal(signal.SIGTERM)
        try:
            assert node.wait(60) == 0
        finally:
            if node.poll() is None:
                node.kill()
            if node.stdout is not None:
                node.stdout.close()


def test_two_nodes_in_one_process_count_apart(cluster: Cluster) -> None:
    first, second = cluster.node("first"), cluster.node("second")
    with (
        ObservabilityServer(cluster.db, node=first) as one,
        ObservabilityServer(cluster.db, node=second) as two,
        ObservabilityServer(cluster.db, node=first) as again,
    ):
        # One sink per node, kept on the node: a second server of it shows the same counts.
        assert isinstance(first.metrics, NodeMetrics) and first.metrics is not second.metrics
        wait_for(lambda: len(cluster.store.active_nodes()) == 2, 30, "two active nodes")
        spec = JobSpec(partitions=6, items=7)
        done = first.launch(make_job(spec), spec.parameters())
        assert done.status is BatchStatus.COMPLETED, done.exit_status
        assert done.id is not None
        partitions = cluster.partitions(done.id)
        for node, server in ((first, one), (second, two), (first, again)):
            mine = [p for p in partitions if p["assigned_node"] == node.node_id]
            samples = scrape(f"{server.url}/actuator/prometheus")
            assert total(samples, "springbatch_node_partitions_claimed_total") == len(mine)
            assert total(samples, "springbatch_node_partitions_completed_total") == len(mine)
            assert total(samples, "springbatch_node_items_read_total") == 7 * len(mine)
            assert total(samples, "springbatch_node_items_written_total") == 7 * len(mine)
        # A node that left is not ready any more; the process still serves (liveness).
        second.stop()
        assert fetch_json(f"{two.url}/actuator/health/readiness") == (503, {"status": "DOWN"})
        assert fetch_json(f"{two.url}/actuator/health/liveness") == (200, {"status": "UP"})
        assert fetch_json(f"{one.url}/actuator/health/readiness") == (200, {"status": "UP"})


def test_readiness_is_down_without_the_database(engine: str) -> None:
    scratch = provider(engine).create()
    dropped = False
    try:
        with Database.open(scratch.url) as db:
            create_schema(db, major=6)
            SqlClusterStore(db).register_node("probed-node", "somewhere")
        with ObservabilityServer(scratch.url) as server:
            assert fetch_json(f"{server.url}/actuator/health/readiness") == (200, {"status": "UP"})
            scratch.drop()
            dropped = True
            assert fetch_json(f"{server.url}/actuator/health/readiness") == (
                503,
                {"status": "DOWN"},
            )
            assert fetch_json(f"{server.url}/actuator/health/liveness") == (200, {"status": "UP"})
            assert fetch(f"{server.url}/actuator/prometheus")[0] == 503
    finally:
        if not dropped:
            scratch.drop()


def test_a_missing_prometheus_client_names_the_extra(tmp_path: Path) -> None:
    # A module finder that hides prometheus_client, then the command that serves the metrics.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'prometheus_client':\n"
        "            raise ImportError('hidden')\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    environment = {**env(), "PYTHONPATH": f"{tmp_path}:{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-m", "springbatch_py", "serve", "--url",
         f"sqlite:///{tmp_path}/x.db", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT, env=environment,
    )  # fmt: skip
    assert result.returncode != 0 and not result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "springbatch-py[metrics]" in lines[0], result.stderr
