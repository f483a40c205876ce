"""Partitioned steps: what runs their partitions (Spring Batch's ``PartitionHandler``).

A manager step splits its work into partitions, one worker step execution each, and leaves
running them to a :class:`PartitionHandler`, which reports how they ended; the manager then adds
their counts and statuses to its own. The handler is not part of the step's definition: whoever
launches the job hands it down with the launch (``JobLauncher(..., partition_handler=...)``, then
the job, then each step), so one job definition runs wherever it is launched. A cluster node
launches with its own (:meth:`springbatch_py.cluster.Node.launch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from springbatch_py.core.domain import StepExecution
from springbatch_py.core.step import Step


@dataclass(frozen=True)
class PartitionResult:
    """How a manager step's partitions ended."""

    #: The worker step executions, as they ended (none when nothing was partitioned).
    executions: list[StepExecution]
    #: Partitions that failed by the handler's own account (a partition lost with its node may
    #: have no failed step execution to show for it).
    failed: int = 0
    #: A stop of the job was requested while they ran: the manager ends STOPPED.
    stop_requested: bool = False


class PartitionHandler(Protocol):
    """Runs the partitions of a manager step and waits for them."""

    def handle(self, step: Step, manager: StepExecution) -> PartitionResult:
        """Split ``step``'s work for the ``manager`` execution, run the partitions and return
        how they ended. Raises when the handler cannot run this kind of step, or when waiting
        for the partitions fails."""
        ...
