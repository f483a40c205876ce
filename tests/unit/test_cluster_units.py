"""Cluster pieces without a database: settings, strategies, partition contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from springbatch_py.cluster import (
    NODE_KEY,
    TRANSFERABLE_KEY,
    ClusterError,
    ClusterSettings,
    FunctionPartitioner,
    strategy_for,
)
from springbatch_py.cluster.store import ActiveNode
from springbatch_py.errors import ConfigurationError
from springbatch_py.java.types import PARTITION_TRANSFERABLE_PROP, JavaEnum, Long

NODES = [ActiveNode("a", 5), ActiveNode("b", 0), ActiveNode("c", 2)]


def test_defaults_are_the_java_librarys() -> None:
    settings = ClusterSettings(node_id_prefix="h")
    assert settings.to_properties() == {
        "spring.batch.cluster.node-id-prefix": "h",
        "spring.batch.cluster.host-identifier": "HOST_NAME",
        "spring.batch.cluster.capture-phase-timings": "false",
        "spring.batch.cluster.concurrency-limit-per-node": "10",
        "spring.batch.cluster.heartbeat-interval": "3000",
        "spring.batch.cluster.unreachable-node-thread-interval": "5000",
        "spring.batch.cluster.node-cleanup-thread-interval": "5000",
        "spring.batch.cluster.unreachable-node-threshold": "10000",
        "spring.batch.cluster.node-cleanup-threshold": "30000",
        "spring.batch.cluster.task-polling-interval": "1000",
        "spring.batch.cluster.orphaned-tasks-polling-interval": "1000",
        "spring.batch.cluster.master-task-status-check-interval": "500",
        "spring.batch.cluster.orphaned-master-scan-interval": "10000",
        "spring.batch.cluster.tracing-enabled": "false",
    }


def test_settings_from_a_properties_file_then_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "application.properties"
    path.write_text(
        "# shared with the Java nodes\n"
        "spring.batch.cluster.enabled=true\n"
        "spring.batch.cluster.heartbeat-interval=1500\n"
        "spring.batch.cluster.unreachable-node-threshold: 6000\n"
        "spring.datasource.url=jdbc:postgresql://db/batch\n",
        encoding="utf-8",
    )
    environ = {
        "SPRING_BATCH_CLUSTER_HEARTBEAT_INTERVAL": "2000",
        "SPRING_BATCH_CLUSTER_TRACING_ENABLED": "true",
        "OTHER": "x",
    }
    settings = ClusterSettings.load(path, environ=environ, concurrency_limit_per_node=3)
    assert settings.heartbeat_interval == 2000  # the environment wins over the file
    assert settings.unreachable_node_threshold == 6000
    assert settings.tracing_enabled is True
    assert settings.concurrency_limit_per_node == 3  # code wins over both


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cluster.json", '{"spring": {"batch": {"cluster": {"heartbeat-interval": 700}}}}'),
        ("cluster.toml", "[spring.batch.cluster]\nheartbeat-interval = 700\n"),
    ],
)
def test_settings_from_json_and_toml(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert ClusterSettings.load(path, environ={}).heartbeat_interval == 700


def test_settings_build_on_a_base() -> None:
    base = ClusterSettings(node_id_prefix="t", heartbeat_interval=200)
    settings = ClusterSettings.load(environ={"SPRING_BATCH_CLUSTER_NODE_ID_PREFIX": "w"}, base=base)
    assert (settings.heartbeat_interval, settings.node_id_prefix) == (200, "w")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"heartbeat_interval": 0}, "heartbeat-interval must be positive"),
        ({"heartbeat_interval": "fast"}, "heartbeat-interval must be an integer"),
        ({"host_identifier": "MAC"}, "HOST_NAME or IP_ADDRESS"),
        ({"node_id_prefix": "x" * 64}, "at most 63 characters"),
        ({"node_cleanup_threshold": 5000}, "must not be below unreachable-node-threshold"),
    ],
)
def test_invalid_settings_are_clear_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ClusterSettings(**changes)  # type: ignore[arg-type]


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown cluster setting 'heartbeat-intervall'"):
        ClusterSettings.load(environ={"SPRING_BATCH_CLUSTER_HEARTBEAT_INTERVALL": "1"})
    path = tmp_path / "bad.properties"
    path.write_text("spring.batch.cluster.heartbeat-interval=soon\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"bad\.properties:1"):
        ClusterSettings.load(path, environ={})


def test_strategies_assign_as_the_java_library() -> None:
    assert strategy_for("ROUND_ROBIN").assign(4, NODES) == ["a", "b", "c", "a"]
    assert strategy_for("SCALE_UP").assign(4, NODES) == ["a", "b", "c", "a"]
    assert strategy_for("FIXED_NODE_COUNT", 2).assign(5, NODES) == ["a", "b", "a", "b", "a"]
    assert strategy_for("FIXED_NODE_COUNT", 0).assign(3, NODES) == ["a", "a", "a"]
    # greedy on running load, ties to the earlier node: b, b, b (b ties c at 2), c, b, c
    assert strategy_for("LEAST_LOADED").assign(6, NODES) == ["b", "b", "b", "c", "b", "c"]
    with pytest.raises(ValueError):
        strategy_for("RANDOM")


def test_partition_contexts_carry_the_java_keys_and_types() -> None:
    partitioner = FunctionPartitioner(
        lambda n: [{"start": Long(i)} for i in range(n * 2)], transferable=False
    )
    contexts = partitioner.partition(NODES)
    assert list(contexts) == ["0", "1", "2", "3", "4", "5"]
    first = contexts["0"]
    assert first[NODE_KEY] == "a" and isinstance(first[NODE_KEY], str)
    assert first[TRANSFERABLE_KEY] == JavaEnum(PARTITION_TRANSFERABLE_PROP, "NO")
    assert first.get_long("start") == 0
    with pytest.raises(ClusterError, match="no ACTIVE node"):
        partitioner.partition([])


def test_a_custom_strategy_is_checked() -> None:
    class Everything:
        def assign(self, count: int, nodes: list[ActiveNode]) -> list[str]:
            return ["nowhere"] * count

    partitioner = FunctionPartitioner(lambda n: [{}], strategy=Everything())
    with pytest.raises(ClusterError, match="unknown node 'nowhere'"):
        partitioner.partition(NODES)
