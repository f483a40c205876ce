"""``springbatch-py serve`` and ``node --serve-port`` as processes, queried over HTTP."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from tests.cli.test_ops import ROOT, STEPS, env

FAST = ["--set", "heartbeat-interval=200", "--set", "task-polling-interval=100"]


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "springbatch_py", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env(),
    )
    assert process.stdout is not None
    for _ in range(20):
        line = process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if found:
            return process, found.group(1)
        if not line:
            break
    process.kill()
    raise AssertionError(f"no address printed: {process.communicate()[0]}")


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            body = answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(body)
    except json.JSONDecodeError:
        return status, body


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(60)
    finally:
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def url(database_url: str) -> str:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db)
    return database_url


def test_serve_and_a_node_serving_its_own_health(url: str, tmp_path: Path) -> None:
    node, node_http = _start(
        "node", "--url", url, "--steps", STEPS, "--node-id-prefix", "served", "--serve-port",
        "0", *FAST,
    )  # fmt: skip
    serve, http = _start("serve", "--url", url, "--port", "0")
    try:
        status, health = _get(f"{http}/health")
        assert status == 200 and health["status"] == "UP", health
        assert health["components"]["batchCluster"]["details"]["Total Active Nodes"] == "1"
        status, own = _get(f"{node_http}/actuator/health")
        assert status == 200
        node_health = own["components"]["batchClusterNode"]
        assert node_health["details"]["Node Status"] == "ACTIVE"
        node_id = node_health["details"]["Node Id"]
        assert node_id.startswith("served-")
        status, cluster = _get(f"{http}/batch-cluster")
        assert status == 200 and cluster["totalNodes"] == 1
        assert cluster["nodes"][0]["Node Id"] == node_id
        assert _get(f"{http}/batch-cluster/{node_id}")[1]["nodeStatus"] == "ACTIVE"
        assert _get(f"{http}/batch-cluster/nobody")[0] == 404
        assert _get(f"{http}/batch-cluster-jobs")[1] == []
        assert _get(f"{http}/batch-cluster-jobs/12")[0] == 404
        assert _get(f"{http}/batch-cluster-jobs/twelve")[0] == 400
        status, text = _get(f"{http}/metrics")
        assert status == 200
        assert 'springbatch_cluster_nodes{status="ACTIVE"} 1' in text
    finally:
        assert _stop(node) == 0
        assert _stop(serve) == 0
    # The node left: the cluster health is DOWN now, and says so with 503.
    serve, http = _start("serve", "--url", url, "--port", "0")
    try:
        status, health = _get(f"{http}/health")
        assert status == 503 and health["components"]["batchCluster"]["status"] == "DOWN"
    finally:
        assert _stop(serve) == 0


def test_serve_refuses_a_bad_port_and_a_missing_url() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "springbatch_py", "serve", "--url", "sqlite:///x.db",
         "--port", "70000"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "--port" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "springbatch_py", "serve"],
        capture_output=True, text=True, timeout=60, check=False,
        env={k: v for k, v in env().items() if k != "SPRINGBATCH_URL"},
    )  # fmt: skip
    assert missing.returncode == 2 and "no database URL" in missing.stderr
