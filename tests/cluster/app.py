"""The job the cluster tests run, in the test process and in node processes alike.

Each partition reads a range of integers; its chunk step writes one audit row per item in the
chunk's transaction, with the node that wrote it. The audit table has no unique key on purpose:
an item written twice shows up as a duplicate instead of being refused.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from springbatch_py.cluster import (
    ClusterSettings,
    FunctionPartitioner,
    PartitionStep,
    StepRegistry,
    strategy_for,
)
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.job import Job
from springbatch_py.db.database import Database
from springbatch_py.db.dialect import Dialect
from springbatch_py.item import IterableItemReader, SqlItemWriter
from springbatch_py.java.types import Long

METADATA = sa.MetaData()
AUDIT = sa.Table(
    "audit_items",
    METADATA,
    sa.Column("partition_key", sa.String(100), nullable=False),
    sa.Column("item", sa.BigInteger, nullable=False),
    sa.Column("node_id", sa.String(200), nullable=False),
)

#: Scaled-down timings. The thresholds are 15 and 30 heartbeats: the suite runs in parallel on a
#: busy two-core machine, where a heartbeat can be a few seconds late (a starved thread, a wait
#: for SQLite's write lock) and a live node must not be evicted for it.
SETTINGS = ClusterSettings(
    node_id_prefix="test",
    heartbeat_interval=200,
    unreachable_node_threshold=3000,
    node_cleanup_threshold=6000,
    unreachable_node_thread_interval=200,
    node_cleanup_thread_interval=200,
    task_polling_interval=100,
    orphaned_tasks_polling_interval=200,
    master_task_status_check_interval=100,
    orphaned_master_scan_interval=300,
    concurrency_limit_per_node=4,
)


def settings_for(dialect: Dialect) -> ClusterSettings:
    """The test timings for an engine: a clock of whole seconds reads a fresh heartbeat as up
    to a second old, so its thresholds must be several seconds. That is Oracle's clock, and the
    cluster library's on MySQL and MariaDB (its sweeps truncate even on this project's
    TIMESTAMP(3) columns): the mixed-cluster tests share these timings with the Java nodes."""
    if dialect.millisecond_clock and dialect.library_millisecond_clock:
        return SETTINGS
    return SETTINGS.replace(unreachable_node_threshold=4000, node_cleanup_threshold=8000)


@dataclass(frozen=True)
class JobSpec:
    """What the range job looks like (passed to node processes as JSON)."""

    partitions: int = 30
    items: int = 10
    mode: str = "ROUND_ROBIN"
    fixed_node_count: int = 0
    transferable: bool = True
    delay_ms: int = 0
    worker: str = "rangeSum"
    run: str = "1"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        return cls(**json.loads(text))

    def parameters(self) -> dict[str, Any]:
        return {"run": self.run}


def make_job(spec: JobSpec) -> Job:
    """The partitioned range job."""

    def create(node_count: int) -> list[dict[str, Any]]:
        size = spec.items
        return [
            {"start": Long(i * size), "end": Long((i + 1) * size), "delay_ms": Long(spec.delay_ms)}
            for i in range(spec.partitions)
        ]

    partitioner = FunctionPartitioner(
        create,
        strategy=strategy_for(spec.mode, spec.fixed_node_count),
        transferable=spec.transferable,
    )
    return Job(
        "rangeJob", [PartitionStep("rangeJob.manager", worker=spec.worker, partitioner=partitioner)]
    )


def make_registry(
    db: Database, node_id: list[str], hurry: threading.Event | None = None
) -> StepRegistry:
    """Worker steps built per partition (each gets its own reader). Once ``hurry`` is set, items
    no longer wait their partition's ``delay_ms``: a test whose partitions must be slow only
    until its fault sets it before the restart, which then runs at full speed."""

    def build(execution: StepExecution) -> ChunkStep:
        context = execution.execution_context
        delay = context.get_long("delay_ms", 0) / 1000.0
        key = execution.step_name

        def process(item: int) -> dict[str, Any]:
            if delay and not (hurry is not None and hurry.is_set()):
                time.sleep(delay)
            return {"partition_key": key, "item": item, "node_id": node_id[0]}

        return ChunkStep(
            "rangeSum",
            reader=IterableItemReader(
                range(context.get_long("start"), context.get_long("end")), name="range"
            ),
            processor=process,
            writer=SqlItemWriter(db, AUDIT.insert()),
            commit_interval=5,
        )

    return StepRegistry({"rangeSum": build})
