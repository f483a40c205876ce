"""The demo's job: sales totals by region from a generated CSV file, split into row ranges.

``salesReport`` has one cluster-partitioned step. Each partition reads its range of rows,
adds up the amounts per region in exact decimals, and keeps the running totals in its step
execution context (a ``HashMap<String, BigDecimal>``, readable by Java), so a restarted
partition resumes from its last chunk. Worker nodes run ``aggregateSales`` from
:func:`worker_steps`; only nodes whose id starts with :data:`WORKER_PREFIX` take partitions,
so the process that launches the job stays the master only.
"""

from __future__ import annotations

import csv
import itertools
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from springbatch_py.cluster import FunctionPartitioner, PartitionStep, StepRegistry
from springbatch_py.cluster.store import ActiveNode
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.job import Job
from springbatch_py.item import IterableItemReader
from springbatch_py.java.types import Integer, Long

JOB_NAME = "salesReport"
MANAGER_STEP = "salesReport.manager"
WORKER_STEP = "aggregateSales"
WORKER_PREFIX = "demo-worker"
REGIONS = ("north", "south", "east", "west", "central")
PRODUCTS = ("widget", "gadget", "gizmo", "doohickey", "sprocket", "thingamajig")
COMMIT_INTERVAL = 250


#: How many rows :func:`generate_csv` writes between two progress calls.
PROGRESS_EVERY = 10_000


def generate_csv(
    path: Path,
    rows: int,
    *,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write ``rows`` sales lines (``id,day,region,product,quantity,amount``) with a header;
    ``progress(rows_written)`` is called every :data:`PROGRESS_EVERY` rows and at the end."""
    rng = random.Random(seed)
    start = date(2026, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("id", "day", "region", "product", "quantity", "amount"))
        for i in range(rows):
            quantity = rng.randint(1, 20)
            cents = quantity * rng.randint(99, 25_000)
            writer.writerow(
                (
                    i + 1,
                    (start + timedelta(days=rng.randrange(365))).isoformat(),
                    rng.choice(REGIONS),
                    rng.choice(PRODUCTS),
                    quantity,
                    f"{cents // 100}.{cents % 100:02d}",
                )
            )
            if progress is not None and (i + 1) % PROGRESS_EVERY == 0:
                progress(i + 1)
    if progress is not None:
        progress(rows)
    return path


def direct_totals(path: Path) -> dict[str, Decimal]:
    """Totals by region computed in one pass, without the job (the demo's check)."""
    totals: dict[str, Decimal] = {}
    with path.open(newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            totals[row["region"]] = totals.get(row["region"], Decimal(0)) + Decimal(row["amount"])
    return totals


class WorkerNodesOnly:
    """Round robin over the nodes whose id starts with a prefix (the demo's workers)."""

    def __init__(self, prefix: str = WORKER_PREFIX) -> None:
        self.prefix = prefix

    def assign(self, count: int, nodes: Sequence[ActiveNode]) -> list[str]:
        """Node ids, one per partition."""
        workers = [n for n in nodes if n.node_id.startswith(self.prefix)]
        if not workers:
            raise RuntimeError(f"no ACTIVE node whose id starts with {self.prefix!r}")
        return [workers[i % len(workers)].node_id for i in range(count)]


def make_job(csv_path: Path, rows: int, partitions: int, pace_ms: int = 0) -> Job:
    """The partitioned job over ``rows`` rows of ``csv_path``."""

    def split(node_count: int) -> list[dict[str, Any]]:
        size = -(-rows // partitions)
        return [
            {
                "file": str(csv_path),
                "start": Long(i * size),
                "end": Long(min(rows, (i + 1) * size)),
                "pace_ms": Integer(pace_ms),
            }
            for i in range(partitions)
            if i * size < rows
        ]

    return Job(
        JOB_NAME,
        [
            PartitionStep(
                MANAGER_STEP,
                worker=WORKER_STEP,
                partitioner=FunctionPartitioner(split, strategy=WorkerNodesOnly()),
            )
        ],
    )


class RegionTotals:
    """Adds up amounts per region; its totals live in the step context, chunk by chunk."""

    KEY = "totals"

    def __init__(self, pace_s: float) -> None:
        self.totals: dict[str, Decimal] = {}
        self.pace_s = pace_s

    def open(self, context: ExecutionContext) -> None:
        saved: Mapping[str, Decimal] = context.get(self.KEY, {})
        self.totals = dict(saved)

    def write(self, items: list[tuple[str, Decimal]]) -> None:
        for region, amount in items:
            self.totals[region] = self.totals.get(region, Decimal(0)) + amount
        if self.pace_s:
            time.sleep(self.pace_s)  # a slower chunk, so that progress can be watched

    def update(self, context: ExecutionContext) -> None:
        context[self.KEY] = dict(self.totals)

    def close(self) -> None:
        """Nothing to release."""


def _rows(path: str, start: int, end: int) -> Iterator[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as source:
        yield from itertools.islice(csv.DictReader(source), start, end)


def _aggregate(execution: StepExecution) -> ChunkStep:
    context = execution.execution_context
    path = context.get_string("file")
    start, end = context.get_long("start"), context.get_long("end")
    return ChunkStep(
        WORKER_STEP,
        reader=IterableItemReader(lambda: _rows(path, start, end), name="sales"),
        processor=lambda row: (row["region"], Decimal(row["amount"])),
        writer=RegionTotals(context.get_int("pace_ms", 0) / 1000.0),
        commit_interval=COMMIT_INTERVAL,
    )


def worker_steps() -> StepRegistry:
    """The demo's worker step, built per partition."""
    return StepRegistry({WORKER_STEP: _aggregate})
