"""Recovering jobs whose master node was lost (the Java library's 3.x behaviour), converging.

A coordination row that is STARTED (or RECOVERING, when an earlier recoverer died too) whose
master's node row is gone belongs to a lost master. A surviving node claims it by
compare-and-set (exactly one node wins: the row becomes RECOVERING, owned by it), then

1. fences the job: its PENDING and CLAIMED partitions end FAILED, so no worker claims them or
   commits another chunk of them (every chunk's fence requires its partition CLAIMED, and a
   chunk committing now holds the row until it is done);
2. fails the job execution and its unfinished step executions, re-reading and retrying whenever
   a version moved under it (a chunk that committed before the fence, an evicted master that
   woke up);
3. only then marks the coordination ABANDONED. A restart runs only what did not complete.

When step 2 does not converge, or the database fails, the row stays RECOVERING owned by the
recoverer: the recoverer's next scans retry it, and once the recoverer is gone too, any node
claims it again. ABANDONED is never written before the execution is FAILED.

:func:`recover_job_execution` is the same recovery for one execution on an operator's request
(``springbatch-py recover``), refused while a live master owns the execution.

Threads: the recovery functions run on the node's recover-masters ticker (or the command's
main thread) and share no state with other threads; the cluster store (the database, or the
memory store of unit tests) is their only meeting point.
"""

from __future__ import annotations

import logging
import time
import uuid

from springbatch_py.cluster.errors import RecoveryIncompleteError
from springbatch_py.cluster.runtime import ClusterRuntime
from springbatch_py.cluster.states import CoordinationStatus
from springbatch_py.cluster.store import ClusterStore, Coordination
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    NoSuchJobExecutionError,
    OptimisticLockingFailureError,
)
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.repository.jobs import JobRepository

log = logging.getLogger(__name__)

_UNFINISHED = (BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING, BatchStatus.UNKNOWN)

#: Re-reads per recovery attempt before the row is left RECOVERING for the next scan.
ATTEMPTS = 10


def recover_orphaned_masters(runtime: ClusterRuntime) -> int:
    """Claim the jobs of lost masters and finish recovering them (and any this node claimed
    earlier without finishing); return how many this node completed."""
    store = runtime.store
    claimed: dict[int, Coordination] = {}
    if runtime.recovery_pending:  # only this node's own claims can be left RECOVERING by it
        claimed = {c.job_execution_id: c for c in store.find_recovering(runtime.node_id)}
    reasons: dict[int, str] = {}
    for orphan in store.find_orphaned_masters():
        if not store.claim_orphaned_master(orphan, runtime.node_id):
            continue  # another node won the claim
        log.warning(
            "master node %s of job execution %s is gone: failing the execution so it "
            "can be restarted",
            orphan.master_node_id,
            orphan.job_execution_id,
        )
        runtime.recovery_pending = True
        claimed[orphan.job_execution_id] = Coordination(
            orphan.job_execution_id,
            runtime.node_id,
            orphan.master_step_execution_id,
            orphan.master_step_name,
            CoordinationStatus.RECOVERING,
        )
        reasons[orphan.job_execution_id] = f"master node '{orphan.master_node_id}' was lost"
    recovered = 0
    for job_execution_id, coordination in claimed.items():
        reason = reasons.get(job_execution_id, "its master node was lost")
        if finish_recovery(store, runtime.repository, coordination, reason):
            recovered += 1
    if recovered == len(claimed):
        runtime.recovery_pending = False
    return recovered


def finish_recovery(
    store: ClusterStore,
    repository: JobRepository,
    coordination: Coordination,
    reason: str,
    *,
    attempts: int = ATTEMPTS,
) -> bool:
    """Fence, fail and abandon a coordination this recoverer holds RECOVERING.

    True once the coordination is ABANDONED; False leaves it RECOVERING for a later attempt.
    """
    job_execution_id = coordination.job_execution_id
    try:
        fenced = store.fail_open_partitions(coordination.master_step_execution_id)
        if fenced:
            log.warning("job execution %s: %d open partition(s) FAILED", job_execution_id, fenced)
        fail_execution(
            repository,
            job_execution_id,
            f"Abandoned by cluster recovery: {reason}",
            attempts=attempts,
        )
        if not store.transition_coordination(
            coordination,
            coordination.master_node_id,
            CoordinationStatus.RECOVERING,
            CoordinationStatus.ABANDONED,
        ):
            log.warning("job execution %s: coordination changed during recovery", job_execution_id)
            return False
    except Exception as exc:
        # The row stays RECOVERING, owned by this node: its next scan tries again.
        log.warning("recovery of job execution %s is retried later: %s", job_execution_id, exc)
        return False
    log.warning("job execution %s recovered: FAILED and restartable", job_execution_id)
    return True


def fail_execution(
    repository: JobRepository,
    job_execution_id: int,
    reason: str,
    *,
    attempts: int = ATTEMPTS,
) -> JobExecution | None:
    """Fail a job execution's unfinished step executions, then the execution itself (unless it
    already ended), re-reading after every version conflict; the execution as saved.

    Raises :class:`RecoveryIncompleteError` when it kept changing for ``attempts`` rounds.
    """
    for attempt in range(attempts):
        execution = repository.get_job_execution(job_execution_id)
        if execution is None:
            log.warning("no job execution %s to fail", job_execution_id)
            return None
        now = repository.now()
        conflicts = 0
        for step in execution.step_executions:
            if step.status not in _UNFINISHED:
                continue
            step.status = BatchStatus.FAILED
            step.exit_status = ExitStatus("FAILED", reason)
            step.end_time = step.end_time or now
            try:
                repository.update(step)
            except OptimisticLockingFailureError:
                conflicts += 1
        if not conflicts:
            if execution.status not in _UNFINISHED:
                return execution
            execution.status = BatchStatus.FAILED
            execution.exit_status = ExitStatus(
                "FAILED", f"{reason}; the execution is now restartable"
            )
            execution.end_time = execution.end_time or now
            try:
                repository.update(execution)
                return execution
            except OptimisticLockingFailureError:
                conflicts += 1
        log.info(
            "job execution %s changed while being failed (attempt %d): reading it again",
            job_execution_id,
            attempt + 1,
        )
        time.sleep(min(0.05 * (attempt + 1), 0.5))
    raise RecoveryIncompleteError(
        f"job execution {job_execution_id} kept changing while being failed ({attempts} rounds)"
    )


def recover_job_execution(
    store: ClusterStore, repository: JobRepository, job_execution_id: int, live_ms: int
) -> JobExecution | None:
    """Recover one coordinated execution on request; None when it has no coordination row.

    Refused (:class:`JobExecutionAlreadyRunningError`) while its coordination is not ABANDONED
    and the node it names still heartbeats (its row exists with a heartbeat younger than
    ``live_ms``, the cluster's node-cleanup-threshold): that master, or recoverer, is alive.
    Otherwise the job is fenced and failed as a lost master's is, and its coordination ends
    ABANDONED.
    """
    coordination = store.get_coordination(job_execution_id)
    if coordination is None:
        return None
    execution = repository.get_job_execution(job_execution_id)
    if execution is None:
        raise NoSuchJobExecutionError(f"No JobExecution found for id: [{job_execution_id}]")
    if execution.status in (BatchStatus.COMPLETED, BatchStatus.ABANDONED, BatchStatus.UNKNOWN):
        log.info("job execution %s is %s: not recovered", job_execution_id, execution.status.name)
        return execution  # as Spring Batch 6's recover: nothing to do
    if coordination.status != CoordinationStatus.ABANDONED:
        owner = next(
            (n for n in store.all_nodes() if n.node_id == coordination.master_node_id), None
        )
        if owner is not None and owner.heartbeat_age_ms < live_ms:
            role = (
                "being recovered by"
                if coordination.status == CoordinationStatus.RECOVERING
                else "owned by"
            )
            raise JobExecutionAlreadyRunningError(
                f"job execution {job_execution_id} is {role} live node {owner.node_id} "
                f"({owner.status}, heartbeat {owner.heartbeat_age_ms / 1000:.1f} s ago, "
                f"coordination {coordination.status}); stop it with 'springbatch-py stop "
                f"{job_execution_id}' instead"
            )
    reason = f"recovered on request: master node '{coordination.master_node_id}' was gone"
    if coordination.status in (CoordinationStatus.STARTED, CoordinationStatus.RECOVERING):
        recoverer = f"recover-{uuid.uuid4()}"  # no node row: a recoverer that dies is retried
        if not store.claim_orphaned_master(coordination, recoverer):
            raise RecoveryIncompleteError(
                f"job execution {job_execution_id}: its coordination changed meanwhile; try again"
            )
        claimed = Coordination(
            job_execution_id,
            recoverer,
            coordination.master_step_execution_id,
            coordination.master_step_name,
            CoordinationStatus.RECOVERING,
        )
        finish_recovery(store, repository, claimed, reason)
    else:
        store.fail_open_partitions(coordination.master_step_execution_id)
        fail_execution(repository, job_execution_id, f"Recovered: {reason}")
    execution = repository.get_job_execution(job_execution_id)
    if execution is not None and (
        execution.status in _UNFINISHED
        or any(s.status in _UNFINISHED for s in execution.step_executions)
    ):
        raise RecoveryIncompleteError(
            f"job execution {job_execution_id} could not be failed yet; any node's next scan "
            "retries it, or run recover again"
        )
    return execution
