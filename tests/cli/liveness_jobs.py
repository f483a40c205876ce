"""A slow partitioned job and a slow plain job for the stop, freeze and recover tests.

* ``slowSquares``: 4 partitions of 60 items in chunks of 5, ``delay_ms`` per item (a job
  parameter), on the ``slowSum`` worker step;
* ``slowPlain``: one chunk step over 200 items with the same pause per item.

A process whose environment sets ``SPRINGBATCH_TEST_DELAY_MS`` pauses that long instead, whatever
the job parameter says: a restart that only has to finish what was left need not be slow.
"""

from __future__ import annotations

import os
import time

from springbatch_py.cluster import FunctionPartitioner, PartitionStep, StepRegistry
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.job import Job
from springbatch_py.core.step import ScopedStep
from springbatch_py.item import IterableItemReader, ListItemWriter
from springbatch_py.java.types import Long

PARTITIONS = 4
ITEMS = 60
#: The environment variable that replaces the ``delay_ms`` parameter in one process.
DELAY_ENV = "SPRINGBATCH_TEST_DELAY_MS"


def _pause(execution: StepExecution) -> float:
    override = os.environ.get(DELAY_ENV)
    if override is not None:
        return int(override) / 1000.0
    return int(execution.job_execution.job_parameters.get_value("delay_ms", 20)) / 1000.0


def _slow_sum(execution: StepExecution) -> ChunkStep:
    context = execution.execution_context
    pause = _pause(execution)

    def process(item: int) -> int:
        time.sleep(pause)
        return item

    return ChunkStep(
        "slowSum",
        reader=IterableItemReader(
            range(context.get_long("start"), context.get_long("end")), name="range"
        ),
        processor=process,
        writer=ListItemWriter(),
        commit_interval=5,
    )


def _plain(execution: StepExecution) -> ChunkStep:
    pause = _pause(execution)

    def process(item: int) -> int:
        time.sleep(pause)
        return item

    return ChunkStep(
        execution.step_name,
        reader=IterableItemReader(range(200), name="numbers"),
        processor=process,
        writer=ListItemWriter(),
        commit_interval=5,
    )


def jobs() -> list[Job]:
    """Both jobs."""
    partitioner = FunctionPartitioner(
        lambda nodes: [
            {"start": Long(i * ITEMS), "end": Long((i + 1) * ITEMS)} for i in range(PARTITIONS)
        ]
    )
    return [
        Job(
            "slowSquares",
            [PartitionStep("slowSquares.manager", worker="slowSum", partitioner=partitioner)],
        ),
        Job("slowPlain", [ScopedStep("slowPlain.step", _plain)]),
    ]


steps = StepRegistry({"slowSum": _slow_sum})
