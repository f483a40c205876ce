"""The job the fault suite runs, loaded by ``springbatch-py node`` and ``launch`` processes.

    springbatch-py node   --steps tests.faults.app:steps
    springbatch-py launch faultJob --jobs tests.faults.app:jobs --steps tests.faults.app:steps

``faultJob`` has one partitioned step (``faultJob.manager``) whose partitions each read a range
of integers; the worker step ``faultSum`` writes one row per item into ``audit_items`` (the
table of ``tests/cluster/app.py``: no unique key, so an item committed twice shows) with its
partition and the process's label, in the chunk's own transaction.

The environment shapes it (the harness sets it for every process):

``FAULTS_PARTITIONS``, ``FAULTS_ITEMS``, ``FAULTS_DELAY_MS``, ``FAULTS_COMMIT_INTERVAL``
    partitions, items per partition, a sleep per item, items per chunk.
``FAULTS_LABEL``
    the process's name in the audit rows (``worker-2``, ``master``).
``FAULTS_SIGNALS``
    a folder for the fence-window hook: when the file ``fence-arm-<label>`` exists, the next
    chunk of this process that passed its fence (the partition row is updated and locked, the
    transaction is open) removes it, writes ``fence-in-<label>`` (its PID) and sleeps
    ``FAULTS_FENCE_PAUSE_MS`` before it commits, so the harness can freeze the process inside
    the fence window.
"""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from springbatch_py.cluster import (
    FunctionPartitioner,
    PartitionStep,
    StepRegistry,
    job_database,
    strategy_for,
)
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.domain import StepExecution
from springbatch_py.core.job import Job
from springbatch_py.core.partition import PartitionHandler
from springbatch_py.core.step import Step, StepRepository
from springbatch_py.db import transactions
from springbatch_py.db.database import Database
from springbatch_py.item import IterableItemReader, SqlItemWriter
from springbatch_py.java.types import Long
from tests.cluster.app import AUDIT, METADATA

__all__ = ["AUDIT", "JOB_NAME", "MANAGER", "METADATA", "WORKER", "jobs", "steps"]

JOB_NAME = "faultJob"
MANAGER = "faultJob.manager"
WORKER = "faultSum"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def jobs() -> list[Job]:
    """The partitioned job, sized by the environment."""
    partitions = _int("FAULTS_PARTITIONS", 12)
    items = _int("FAULTS_ITEMS", 40)

    def create(node_count: int) -> list[dict[str, Any]]:
        return [{"start": Long(i * items), "end": Long((i + 1) * items)} for i in range(partitions)]

    partitioner = FunctionPartitioner(create, strategy=strategy_for("ROUND_ROBIN", 0))
    return [Job(JOB_NAME, [PartitionStep(MANAGER, worker=WORKER, partitioner=partitioner)])]


def steps() -> StepRegistry:
    """The worker step, one instance per partition."""
    return StepRegistry({WORKER: lambda execution: AuditedStep(WORKER)})


class _FenceWindow:
    """The repository a chunk step sees: the worker's, plus the fence-window pause after the
    chunk's context is saved (its partition's fence passed in that transaction)."""

    def __init__(self, repository: StepRepository, db: Database) -> None:
        self._repository = repository
        self._db = db
        folder = os.environ.get("FAULTS_SIGNALS")
        label = os.environ.get("FAULTS_LABEL", "node")
        self._arm = Path(folder) / f"fence-arm-{label}" if folder else None
        self._inside = Path(folder) / f"fence-in-{label}" if folder else None
        self._pause = _int("FAULTS_FENCE_PAUSE_MS", 2000) / 1000.0

    @property
    def major(self) -> int:
        return self._repository.major

    @property
    def batch_version(self) -> str:
        return self._repository.batch_version

    def now(self) -> datetime:
        return self._repository.now()

    def transaction(self) -> AbstractContextManager[object]:
        return self._repository.transaction()

    def update(self, execution: StepExecution) -> None:
        self._repository.update(execution)

    def update_execution_context(self, execution: StepExecution) -> None:
        self._repository.update_execution_context(execution)
        if self._arm is None or self._inside is None or transactions.current(self._db) is None:
            return
        try:
            self._arm.unlink()  # exactly one chunk takes the pause
        except FileNotFoundError:
            return
        self._inside.write_text(str(os.getpid()))
        time.sleep(self._pause)


class AuditedStep(Step):
    """``faultSum``: the range of its partition, one audit row per item, in the chunk."""

    def execute(
        self,
        step_execution: StepExecution,
        repository: StepRepository,
        *,
        partition_handler: PartitionHandler | None = None,
    ) -> None:
        # The audit rows go through the job database, to join the chunk's transaction.
        db = job_database(repository)
        context = step_execution.execution_context
        delay = _int("FAULTS_DELAY_MS", 20) / 1000.0
        label = os.environ.get("FAULTS_LABEL", "node")
        key = step_execution.step_name

        def process(item: int) -> dict[str, Any]:
            if delay:
                time.sleep(delay)
            return {"partition_key": key, "item": item, "node_id": label}

        chunk = ChunkStep(
            WORKER,
            reader=IterableItemReader(
                range(context.get_long("start"), context.get_long("end")), name="range"
            ),
            processor=process,
            writer=SqlItemWriter(db, AUDIT.insert()),
            commit_interval=_int("FAULTS_COMMIT_INTERVAL", 5),
        )
        chunk.execute(step_execution, _FenceWindow(repository, db))

    def do_execute(self, step_execution: StepExecution, repository: StepRepository) -> None:
        raise NotImplementedError("execute builds and runs the chunk step")
