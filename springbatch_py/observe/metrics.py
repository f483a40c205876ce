"""The cluster's metrics as the database says at scrape time.

:func:`collect` reads the database once (one short read transaction) and returns metric
families. The server exposes them through prometheus-client, next to the per-node counters
(:class:`springbatch_py.observe.prometheus.ClusterCollector`); :func:`render` writes them in
the text format 0.0.4 without prometheus-client, for callers that have only this module. Nothing
is kept between scrapes: every figure is what the database says at scrape time, so any number of
servers may expose the same cluster.

=================================================  =========  ==================================
metric                                             type       labels
=================================================  =========  ==================================
``springbatch_cluster_nodes``                      gauge      ``status``
``springbatch_cluster_node_heartbeat_age_seconds`` gauge      ``node_id``, ``host``
``springbatch_cluster_node_load``                  gauge      ``node_id``
``springbatch_cluster_coordinated_jobs``           gauge      ``status``
``springbatch_cluster_partitions``                 gauge      ``status``
``springbatch_cluster_job_partitions``             gauge      ``job_execution_id``, ``status``
``springbatch_cluster_partition_claim_latency_seconds``  histogram  (none)
``springbatch_cluster_partition_duration_seconds`` histogram  ``status``
``springbatch_job_execution_duration_seconds``     histogram  ``job_name``, ``status``
=================================================  =========  ==================================

Heartbeat ages are computed by the database (its clock against the stored heartbeat), never
with this machine's clock. ``springbatch_cluster_job_partitions`` covers only job executions
whose coordination is still open (CREATED, STARTED, RECOVERING), to keep its label set small.

The histograms are built at each scrape from the newest executions (``window``, 1000 by
default): they describe recent work, and their counts may drop when old executions leave the
window, so read them with ``histogram_quantile`` over the current values rather than ``rate``.
The claim latency is a partition's worker step execution START_TIME minus its CREATE_TIME (the
master creates the worker step executions when it splits the step, then inserts the partitions;
the worker sets the start time when it runs the claimed partition), so it spans the wait for a
poll, the claim and the loading of the execution, and it includes any clock difference between
the master's and the worker's machines (negative differences count as 0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from springbatch_py.cluster.reader import ClusterReader
from springbatch_py.cluster.states import CoordinationStatus, NodeStatus, PartitionStatus

#: The Content-Type of the text format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: How many of the newest executions the histograms describe.
DEFAULT_WINDOW = 1000
#: Bucket bounds (seconds) of the claim latency.
LATENCY_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
#: Bucket bounds (seconds) of job and partition durations.
DURATION_BUCKETS: tuple[float, ...] = (
    0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400,
)  # fmt: skip

NODE_STATUSES = tuple(s.value for s in NodeStatus)
COORDINATION_STATUSES = tuple(s.value for s in CoordinationStatus)
PARTITION_STATUSES = tuple(s.value for s in PartitionStatus)
_OPEN_COORDINATIONS = tuple(
    s.value
    for s in (CoordinationStatus.CREATED, CoordinationStatus.STARTED, CoordinationStatus.RECOVERING)
)

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_KINDS = ("counter", "gauge", "histogram", "summary", "untyped")

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    """One line of a family: a series name (the family's, or with a histogram suffix), its
    labels and its value."""

    name: str
    labels: Labels
    value: float


@dataclass
class MetricFamily:
    """A metric: its name, type, help text and samples."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _METRIC_NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        if self.kind not in _KINDS:
            raise ValueError(f"invalid metric type {self.kind!r}")

    def add(self, value: float, **labels: str) -> MetricFamily:
        """Add a sample of the family's own name (gauges, counters)."""
        self.samples.append(Sample(self.name, _labels(labels), float(value)))
        return self

    def observe_all(
        self, buckets: Sequence[float], values: Iterable[float], **labels: str
    ) -> MetricFamily:
        """Add one histogram series: cumulative ``_bucket`` samples, ``_sum`` and ``_count``."""
        if self.kind != "histogram":
            raise ValueError(f"{self.name} is a {self.kind}, not a histogram")
        bounds = sorted(float(b) for b in buckets)
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
        if "le" in labels:
            raise ValueError("'le' is the bucket label of histograms")
        observed = sorted(values)
        base = _labels(labels)
        position = 0
        for bound in bounds:
            while position < len(observed) and observed[position] <= bound:
                position += 1
            le = (*base, ("le", _number(bound)))
            self.samples.append(Sample(f"{self.name}_bucket", le, float(position)))
        self.samples.append(Sample(f"{self.name}_sum", base, float(math.fsum(observed))))
        self.samples.append(Sample(f"{self.name}_count", base, float(len(observed))))
        return self


def _labels(labels: Mapping[str, str]) -> Labels:
    for name in labels:
        if not _LABEL_NAME.match(name) or name.startswith("__"):
            raise ValueError(f"invalid label name {name!r}")
    return tuple((name, str(value)) for name, value in labels.items())


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(families: Iterable[MetricFamily]) -> str:
    """The families in the text format: ``# HELP`` and ``# TYPE`` lines, then the samples."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
            series = f"{sample.name}{{{labels}}}" if labels else sample.name
            lines.append(f"{series} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def collect(reader: ClusterReader, window: int = DEFAULT_WINDOW) -> list[MetricFamily]:
    """Read the cluster's figures in one read transaction."""
    with reader.reading() as connection:
        nodes = reader.nodes(connection)
        coordinations = reader.coordinations(connection)
        counts = reader.partition_counts(connection)
        timings = reader.partition_timings(connection, window)
        jobs = reader.job_durations(connection, window)

    by_status = _tally(NODE_STATUSES, ((n.status, 1) for n in nodes))
    node_family = MetricFamily(
        "springbatch_cluster_nodes", "gauge", "Rows of BATCH_NODES, by status."
    )
    for status, count in by_status.items():
        node_family.add(count, status=status)

    age = MetricFamily(
        "springbatch_cluster_node_heartbeat_age_seconds",
        "gauge",
        "Seconds since each node's last heartbeat, on the database clock (Oracle, and MySQL "
        "or MariaDB on the cluster library's TIMESTAMP columns, count whole seconds).",
    )
    load = MetricFamily(
        "springbatch_cluster_node_load",
        "gauge",
        "Partitions each node was running at its last heartbeat (CURRENT_LOAD).",
    )
    for node in nodes:
        seconds = max(0.0, node.heartbeat_age_ms / 1000.0)
        age.add(seconds, node_id=node.node_id, host=node.host_identifier or "")
        load.add(node.current_load, node_id=node.node_id)

    jobs_family = MetricFamily(
        "springbatch_cluster_coordinated_jobs",
        "gauge",
        "Rows of BATCH_JOB_COORDINATION (one per partitioned job execution), by status.",
    )
    for status, count in _tally(
        COORDINATION_STATUSES, ((c.status, 1) for c in coordinations)
    ).items():
        jobs_family.add(count, status=status)

    partitions = MetricFamily(
        "springbatch_cluster_partitions", "gauge", "Rows of BATCH_PARTITIONS, by status."
    )
    for status, count in _tally(PARTITION_STATUSES, ((c.status, c.count) for c in counts)).items():
        partitions.add(count, status=status)

    open_jobs = {c.job_execution_id for c in coordinations if c.status in _OPEN_COORDINATIONS}
    per_job = MetricFamily(
        "springbatch_cluster_job_partitions",
        "gauge",
        "Partitions of each job execution whose coordination is open (CREATED, STARTED, "
        "RECOVERING), by status.",
    )
    for job_execution_id in sorted(open_jobs):
        mine = ((c.status, c.count) for c in counts if c.job_execution_id == job_execution_id)
        for status, count in _tally(PARTITION_STATUSES, mine).items():
            per_job.add(count, job_execution_id=str(job_execution_id), status=status)

    latency = MetricFamily(
        "springbatch_cluster_partition_claim_latency_seconds",
        "histogram",
        f"Seconds from a partition's creation to its start on a worker: the worker step "
        f"execution's START_TIME minus its CREATE_TIME, over the {window} newest started "
        f"partitions (includes clock differences between master and worker).",
    )
    latency.observe_all(
        LATENCY_BUCKETS, (t.claim_latency for t in timings if t.claim_latency is not None)
    )

    partition_durations = MetricFamily(
        "springbatch_cluster_partition_duration_seconds",
        "histogram",
        f"Seconds each partition's worker step execution ran (END_TIME minus START_TIME), over "
        f"the {window} newest started partitions that have ended, by step status.",
    )
    ended: dict[str, list[float]] = {}
    for timing in timings:
        if timing.duration is not None:
            ended.setdefault(timing.status, []).append(timing.duration)
    for status in sorted(ended):
        partition_durations.observe_all(DURATION_BUCKETS, ended[status], status=status)

    job_durations = MetricFamily(
        "springbatch_job_execution_duration_seconds",
        "histogram",
        f"Seconds each job execution ran (END_TIME minus START_TIME), over the {window} newest "
        f"job executions that have ended, by job name and status.",
    )
    grouped: dict[tuple[str, str], list[float]] = {}
    for job in jobs:
        grouped.setdefault((job.job_name, job.status), []).append(job.seconds)
    for (job_name, status), ran in sorted(grouped.items()):
        job_durations.observe_all(DURATION_BUCKETS, ran, job_name=job_name, status=status)

    return [
        node_family,
        age,
        load,
        jobs_family,
        partitions,
        per_job,
        latency,
        partition_durations,
        job_durations,
    ]


def _tally(known: Sequence[str], items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Counts per status: every known status (0 when absent), then any other seen."""
    totals = dict.fromkeys(known, 0)
    for status, count in items:
        totals[status] = totals.get(status, 0) + count
    return totals


def metrics_text(reader: ClusterReader, window: int = DEFAULT_WINDOW) -> str:
    """The cluster's metrics, rendered."""
    return render(collect(reader, window))
