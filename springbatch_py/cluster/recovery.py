"""Recovering jobs whose master node was lost (the Java library's 3.x behaviour).

A coordination row that is STARTED (or RECOVERING, when an earlier recoverer died too) whose
master's node row is gone belongs to a lost master. A surviving node claims it by
compare-and-set (exactly one node wins), fails the job execution and its unfinished step
executions so the job can be restarted, and marks the coordination ABANDONED. A restart then
runs only what did not complete.
"""

from __future__ import annotations

import logging

from springbatch_py.cluster.runtime import ClusterRuntime
from springbatch_py.cluster.store import Coordination
from springbatch_py.core.errors import OptimisticLockingFailureError
from springbatch_py.core.status import BatchStatus, ExitStatus

log = logging.getLogger(__name__)

_UNFINISHED = (BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING, BatchStatus.UNKNOWN)


def recover_orphaned_masters(runtime: ClusterRuntime) -> int:
    """Claim and abandon the jobs of lost masters; return how many this node recovered."""
    store = runtime.store
    recovered = 0
    for orphan in store.find_orphaned_masters():
        if not store.claim_orphaned_master(orphan, runtime.node_id):
            continue  # another node won the claim
        log.warning(
            "master node %s of job execution %s is gone: failing the execution so it "
            "can be restarted",
            orphan.master_node_id,
            orphan.job_execution_id,
        )
        _fail_stranded(runtime, orphan)
        claimed = Coordination(
            orphan.job_execution_id,
            runtime.node_id,
            orphan.master_step_execution_id,
            orphan.master_step_name,
            "RECOVERING",
        )
        store.transition_coordination(claimed, runtime.node_id, "RECOVERING", "ABANDONED")
        recovered += 1
    return recovered


def _fail_stranded(runtime: ClusterRuntime, orphan: Coordination, attempts: int = 3) -> None:
    repository = runtime.repository
    reason = f"Abandoned by cluster recovery: master node '{orphan.master_node_id}' was lost"
    for attempt in range(attempts):
        execution = repository.get_job_execution(orphan.job_execution_id)
        if execution is None:
            log.warning("no job execution %s to abandon", orphan.job_execution_id)
            return
        now = repository.now()
        try:
            for step in execution.step_executions:
                if step.status in _UNFINISHED:
                    step.status = BatchStatus.FAILED
                    step.exit_status = ExitStatus("FAILED", reason)
                    step.end_time = step.end_time or now
                    repository.update(step)
            if execution.status in _UNFINISHED:
                execution.status = BatchStatus.FAILED
                execution.exit_status = ExitStatus(
                    "FAILED", f"{reason}; the execution is now restartable"
                )
                execution.end_time = execution.end_time or now
                repository.update(execution)
            return
        except OptimisticLockingFailureError:
            # A worker of the job committed meanwhile: read again and retry.
            log.info(
                "job execution %s changed while being abandoned (attempt %d)",
                orphan.job_execution_id,
                attempt + 1,
            )
    log.error(
        "could not abandon job execution %s after %d attempts", orphan.job_execution_id, attempts
    )
