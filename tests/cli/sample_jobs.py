"""Jobs the command-line tests launch by reference (``tests.cli.sample_jobs:jobs``).

* ``numbers``: reads ``0..count-1`` in chunks of 5 and fails on item ``fail_at`` while the file
  named by ``flag`` exists (restart tests delete it);
* ``slow``: like ``numbers`` with a pause per item (stop tests);
* ``squares``: a cluster-partitioned job whose ``sumSquares`` partitions keep their sum.
"""

from __future__ import annotations

import os
import time
from typing import Any

from springbatch_py.cluster import FunctionPartitioner, PartitionStep, StepRegistry
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.job import Job
from springbatch_py.core.step import ScopedStep
from springbatch_py.item import IterableItemReader, ListItemWriter
from springbatch_py.java.types import Long


def _numbers(execution: StepExecution, delay: float = 0.0) -> ChunkStep:
    parameters = execution.job_execution.job_parameters
    count = int(parameters.get_value("count", 20))
    fail_at = parameters.get_value("fail_at")
    flag = parameters.get_value("flag")
    pause = delay or int(parameters.get_value("delay_ms", 0)) / 1000.0

    def process(item: int) -> int:
        if pause:
            time.sleep(pause)
        if fail_at is not None and item == int(fail_at) and flag and os.path.exists(flag):
            raise ValueError(f"item {item} is bad")
        return item * 2

    return ChunkStep(
        execution.step_name,
        reader=IterableItemReader(range(count), name="numbers"),
        processor=process,
        writer=ListItemWriter(),
        commit_interval=5,
    )


def _sum_squares(execution: StepExecution) -> ChunkStep:
    context = execution.execution_context

    def writer(items: list[int]) -> None:
        context["sum"] = Long(context.get_long("sum", 0) + sum(items))

    return ChunkStep(
        "sumSquares",
        reader=IterableItemReader(
            range(context.get_long("start"), context.get_long("end")), name="range"
        ),
        processor=lambda n: n * n,
        writer=writer,
        commit_interval=5,
    )


def _partitions(node_count: int) -> list[dict[str, Any]]:
    return [{"start": Long(i * 10), "end": Long(i * 10 + 10)} for i in range(6)]


def jobs() -> list[Job]:
    """Every sample job."""
    return [
        Job("numbers", [ScopedStep("numbers.step", _numbers)]),
        Job("slow", [ScopedStep("slow.step", lambda e: _numbers(e, delay=0.05))]),
        Job(
            "squares",
            [
                PartitionStep(
                    "squares.manager",
                    worker="sumSquares",
                    partitioner=FunctionPartitioner(_partitions),
                )
            ],
        ),
    ]


def worker_steps() -> StepRegistry:
    """The worker steps of ``squares``."""
    return StepRegistry({"sumSquares": _sum_squares})
