"""Prometheus metrics through prometheus-client: per-node counters and histograms over the
process lifetime, process and runtime metrics, and the cluster gauges read at scrape time.

prometheus-client is the optional extra ``springbatch-py[metrics]``: this module imports it
only inside its functions, and :func:`require` names the extra when it is missing.

Each :class:`ObservabilityServer <springbatch_py.observe.server.ObservabilityServer>` builds its
own :class:`~prometheus_client.CollectorRegistry` (never the library's global default registry,
so several nodes and servers in one process do not clash) holding:

* the process and platform collectors and the garbage collector's (``process_*``,
  ``python_info``, ``python_gc_*``);
* :class:`ClusterCollector`: the cluster as the database says at each scrape
  (:func:`springbatch_py.observe.metrics.collect`);
* inside a node, its :class:`NodeMetrics` (kept on the node, so counts survive a server's
  restart in the same process and several servers of one node agree):

================================================  =========  =======  =========================
metric                                            type       labels   counts
================================================  =========  =======  =========================
``springbatch_node_items_read_total``             counter    step     items read by committed
                                                                      chunks of this node's
                                                                      partitions
``springbatch_node_items_written_total``          counter    step     items they wrote
``springbatch_node_chunks_total``                 counter    step     their committed chunks
``springbatch_node_partitions_claimed_total``     counter             partitions claimed
``springbatch_node_partitions_completed_total``   counter             partitions ended COMPLETED
``springbatch_node_partitions_failed_total``      counter             partitions ended FAILED
``springbatch_node_partition_claim_seconds``      histogram           each claim's
                                                                      compare-and-set, timed here
``springbatch_node_heartbeat_lag_seconds``        histogram           how long after its due time
                                                                      each heartbeat ran
``springbatch_node_heartbeat_round_trip_seconds`` histogram           each heartbeat's statement
================================================  =========  =======  =========================

The sink's methods are called from the worker's poll and pool threads and the heartbeat
thread; prometheus-client's metrics are thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from springbatch_py.cluster.reader import ClusterReader
from springbatch_py.core.metrics import Metrics
from springbatch_py.errors import ConfigurationError
from springbatch_py.observe import metrics

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

#: What to install when prometheus-client is missing.
EXTRA = "springbatch-py[metrics]"
#: Bucket bounds (seconds) of claims and heartbeats: single statements, normally milliseconds.
STATEMENT_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip


def require() -> None:
    """Raise :class:`ConfigurationError` (one line naming the extra) without prometheus-client."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            f"the metrics endpoints need prometheus-client: pip install '{EXTRA}'"
        ) from exc


class ClusterCollector:
    """The cluster gauges and windowed histograms, read from the database at each scrape."""

    def __init__(self, reader: ClusterReader, window: int = metrics.DEFAULT_WINDOW) -> None:
        self.reader = reader
        self.window = window

    def describe(self) -> list[Metric]:
        """Nothing: registering must not read the database."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The families of :func:`springbatch_py.observe.metrics.collect`."""
        from prometheus_client.metrics_core import Metric

        for family in metrics.collect(self.reader, self.window):
            metric = Metric(family.name, family.help, family.kind)
            for sample in family.samples:
                metric.add_sample(sample.name, dict(sample.labels), sample.value)
            yield metric


class NodeMetrics(Metrics):
    """One node's counters and histograms, in a registry of their own."""

    def __init__(self) -> None:
        require()
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        registry = self.registry
        self.items_read = Counter(
            "springbatch_node_items_read",
            "Items read by the committed chunks of the partitions this node ran, by step.",
            ["step"],
            registry=registry,
        )
        self.items_written = Counter(
            "springbatch_node_items_written",
            "Items written by the committed chunks of the partitions this node ran, by step.",
            ["step"],
            registry=registry,
        )
        self.chunks = Counter(
            "springbatch_node_chunks",
            "Committed chunks of the partitions this node ran, by step.",
            ["step"],
            registry=registry,
        )
        self.claimed = Counter(
            "springbatch_node_partitions_claimed",
            "Partitions this node claimed.",
            registry=registry,
        )
        self.completed = Counter(
            "springbatch_node_partitions_completed",
            "Partitions this node ran and recorded COMPLETED.",
            registry=registry,
        )
        self.failed = Counter(
            "springbatch_node_partitions_failed",
            "Partitions this node ran and recorded FAILED.",
            registry=registry,
        )
        self.claim_seconds = Histogram(
            "springbatch_node_partition_claim_seconds",
            "Seconds each claim (the PENDING to CLAIMED compare-and-set) took on this node.",
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        self.heartbeat_lag = Histogram(
            "springbatch_node_heartbeat_lag_seconds",
            "Seconds each heartbeat of this node ran after its due time.",
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        self.heartbeat_round_trip = Histogram(
            "springbatch_node_heartbeat_round_trip_seconds",
            "Seconds each heartbeat statement of this node took.",
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )

    def chunk_committed(self, step_name: str, read: int, written: int) -> None:
        self.chunks.labels(step_name).inc()
        self.items_read.labels(step_name).inc(read)
        self.items_written.labels(step_name).inc(written)

    def partition_claimed(self, seconds: float) -> None:
        self.claimed.inc()
        self.claim_seconds.observe(max(0.0, seconds))

    def partition_ended(self, status: str) -> None:
        if status == "COMPLETED":
            self.completed.inc()
        elif status == "FAILED":
            self.failed.inc()

    def heartbeat(self, lag: float, round_trip: float) -> None:
        self.heartbeat_lag.observe(max(0.0, lag))
        self.heartbeat_round_trip.observe(max(0.0, round_trip))


class _Registered:
    """Another registry's metrics, collected into a server's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def registry_for(
    reader: ClusterReader, window: int, node_metrics: NodeMetrics | None
) -> CollectorRegistry:
    """A server's registry: process, platform and GC collectors, the cluster, the node."""
    require()
    from prometheus_client import (
        CollectorRegistry,
        GCCollector,
        PlatformCollector,
        ProcessCollector,
    )

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    if node_metrics is not None:
        registry.register(_Registered(node_metrics.registry))
    registry.register(ClusterCollector(reader, window))
    return registry


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in the Prometheus text format 0.0.4 (what Prometheus 2 and 3 and Spring
    Boot's endpoint speak; every name here is a classic one), and its Content-Type."""
    from prometheus_client import generate_latest

    return generate_latest(registry), metrics.CONTENT_TYPE


# -- Spring Boot's /actuator/metrics ------------------------------------------------------------


def _families(registry: CollectorRegistry) -> list[Metric]:
    return list(registry.collect())


def metric_names(registry: CollectorRegistry) -> list[str]:
    """``/actuator/metrics``'s names: every family's name, sorted."""
    return sorted({family.name for family in _families(registry)})


def metric_detail(
    registry: CollectorRegistry, name: str, tags: dict[str, str]
) -> dict[str, Any] | None:
    """``/actuator/metrics/{name}`` in Spring Boot's shape, over the samples whose labels match
    ``tags``; None when there is no such metric or no sample matches (Spring answers 404)."""
    wanted = name.removesuffix("_total")
    family = next((f for f in _families(registry) if f.name in (name, wanted)), None)
    if family is None:
        return None
    samples = [s for s in family.samples if all(s.labels.get(k) == v for k, v in tags.items())]
    if not samples:
        return None

    def total(suffix: str) -> float:
        return float(sum(s.value for s in samples if s.name == family.name + suffix))

    unit = family.unit or _unit_of(family.name)
    if family.type == "counter":
        measurements = [("COUNT", total("_total"))]
    elif family.type in ("histogram", "summary"):
        sum_statistic = "TOTAL_TIME" if unit == "seconds" else "TOTAL"
        measurements = [("COUNT", total("_count")), (sum_statistic, total("_sum"))]
    else:
        measurements = [("VALUE", total(""))]
    available: dict[str, set[str]] = {}
    for sample in samples:
        for key, value in sample.labels.items():
            if key != "le" and key not in tags:
                available.setdefault(key, set()).add(value)
    return {
        "name": family.name,
        "description": family.documentation or None,
        "baseUnit": unit or None,
        "measurements": [{"statistic": s, "value": v} for s, v in measurements],
        "availableTags": [
            {"tag": key, "values": sorted(values)} for key, values in sorted(available.items())
        ],
    }


def _unit_of(name: str) -> str:
    for unit in ("seconds", "bytes"):
        if name.endswith(f"_{unit}") or f"_{unit}_" in name:
            return unit
    return ""
