"""The master side: a partitioned step whose partitions run on the cluster's nodes.

:class:`PartitionStep` is the manager step of a job: its definition (worker step, partitioner,
callbacks) and the aggregation of its partitions. Running them is the work of the
:class:`ClusterPartitionHandler` of the node that launches the job (Spring Batch's
``PartitionHandler``), which the node hands down with the launch; a partitioned step launched
without one fails, saying that it runs on a node. The handler uses its node's repository for
every read and write. On that node it

1. splits the work as Spring Batch's ``SimpleStepExecutionSplitter`` does: worker step executions
   named ``<worker step>:<key>``, a partition whose last execution COMPLETED is not run again, a
   FAILED or STOPPED one restarts from its last context (re-homed when its node is gone and it may
   move), ``SimpleStepExecutionSplitter.GRID_SIZE`` kept in the manager's context (the restart
   rule is :func:`springbatch_py.core.restart.plan_start`, as for a job's steps);
2. records the coordination row (CREATED), the partitions (PENDING on their nodes) and starts the
   job (STARTED) so workers pick them up;
3. announces the partitions to their nodes (see :mod:`springbatch_py.cluster.signals`) and waits
   until no partition is PENDING or CLAIMED, counting them whenever a worker announces a
   partition's end and at least every ``master-task-status-check-interval``
   (:data:`UNNOTIFIED_CHECK_S` while the database does not notify), meanwhile recovering
   orphans (partitions whose node was removed): a transferable one goes to another live node,
   round robin; any other ends FAILED, and so does its step execution. The coordination row is
   read every status-check interval: when it is no longer STARTED and this node's (the node
   was evicted and a survivor recovered the job), the manager step ends FAILED at once. A stop
   of the job (in this process, or in the database, read at the orphan scans' pace) lets the
   partitions stop at their chunk boundaries, cancels those nobody claimed yet and ends the
   manager STOPPED;
4. marks the coordination COMPLETED (only from STARTED: a job another node took over is not
   overwritten; a wait that raised leaves it STARTED for lost-master recovery) and reloads the
   worker step executions from the database.

The step then aggregates their counts and statuses into the manager; any FAILED partition or
worker step fails the manager.

Threads: a handler serves every job its node launches, each on the launching thread; what one
partitioned step needs while it runs lives in a :class:`_ManagerRun` of its own.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import NoReturn

from sqlalchemy.exc import DBAPIError

from springbatch_py.cluster.errors import ClusterError, CoordinationLostError, PartitionsFailedError
from springbatch_py.cluster.partitioner import (
    NODE_KEY,
    ClusterPartitioner,
    is_transferable,
)
from springbatch_py.cluster.runtime import ClusterRuntime
from springbatch_py.cluster.states import CoordinationStatus, PartitionStatus
from springbatch_py.cluster.store import ActiveNode, Coordination, PartitionTask
from springbatch_py.cluster.worker import Worker
from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.domain import COUNTERS, StepExecution
from springbatch_py.core.partition import PartitionHandler, PartitionResult
from springbatch_py.core.restart import plan_start
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.core.step import Step, StepRepository
from springbatch_py.java.types import Long
from springbatch_py.util import one_line

log = logging.getLogger(__name__)

#: How often a master counts its open partitions while the database does not notify it of
#: their ends (at most; the master-task-status-check-interval when it is shorter).
UNNOTIFIED_CHECK_S = 0.1

#: Where Spring Batch's splitter keeps the grid size in the manager's context (a Long).
GRID_SIZE_KEY = "SimpleStepExecutionSplitter.GRID_SIZE"


class PartitionStep(Step):
    """A manager step whose partitions run on the cluster.

    Parameters
    ----------
    name:
        The manager step's name.
    worker:
        The worker step's name (Java's ``MASTER_STEP_NAME``: workers find their step by it), or
        the worker step itself.
    partitioner:
        Splits the work and assigns the partitions to nodes.
    on_success, on_failure:
        Called with the worker step executions, as reloaded from the database, once they are
        aggregated (Java's ``ClusterAwareAggregatorCallback``).
    allow_start_if_complete, start_limit, listeners:
        As for any :class:`~springbatch_py.core.step.Step`; ``allow_start_if_complete`` also
        runs the partitions that completed again on restart.
    """

    def __init__(
        self,
        name: str,
        *,
        worker: str | Step,
        partitioner: ClusterPartitioner,
        on_success: Callable[[list[StepExecution]], None] | None = None,
        on_failure: Callable[[list[StepExecution]], None] | None = None,
        allow_start_if_complete: bool = False,
        start_limit: int = sys.maxsize,
        listeners: Iterable[object] = (),
    ) -> None:
        super().__init__(
            name,
            allow_start_if_complete=allow_start_if_complete,
            start_limit=start_limit,
            listeners=listeners,
        )
        self.worker_step = worker if isinstance(worker, Step) else None
        self.worker_name = worker.name if isinstance(worker, Step) else worker
        self.partitioner = partitioner
        self.on_success = on_success
        self.on_failure = on_failure

    def batch_step_type(self, repository: StepRepository) -> str:
        # The manager's class moved between the majors.
        if repository.major >= 6:
            return "org.springframework.batch.core.partition.PartitionStep"
        return "org.springframework.batch.core.partition.support.PartitionStep"

    def _work(
        self,
        step_execution: StepExecution,
        repository: StepRepository,
        partition_handler: PartitionHandler | None,
    ) -> None:
        if partition_handler is None:
            raise ClusterError(
                "a cluster-partitioned step runs on a node: launch its job with node.launch(...)"
            )
        result = partition_handler.handle(self, step_execution)
        if not result.executions and not result.failed:
            return  # nothing was partitioned
        self._aggregate(step_execution, result)
        if result.stop_requested:
            # The partitions stopped (or ended) at their chunk boundaries; so does the manager,
            # and the job ends STOPPED, restartable.
            step_execution.terminate_only = True

    def do_execute(self, step_execution: StepExecution, repository: StepRepository) -> None:
        """Launched without a partition handler: fails, saying that it runs on a node."""
        self._work(step_execution, repository, None)

    def _aggregate(self, manager: StepExecution, result: PartitionResult) -> None:
        executions, failed_partitions = result.executions, result.failed
        manager.upgrade_status(BatchStatus.COMPLETED)
        for worker in executions:
            manager.status = BatchStatus.max(manager.status, worker.status)
            manager.exit_status = manager.exit_status.and_(worker.exit_status)
            for counter in COUNTERS:
                setattr(manager, counter, getattr(manager, counter) + getattr(worker, counter))
        unsuccessful = [w for w in executions if w.status.is_unsuccessful]
        callback = self.on_failure if failed_partitions or unsuccessful else self.on_success
        if callback is not None:
            callback(executions)
        if failed_partitions or unsuccessful:
            raise PartitionsFailedError(
                f"{max(failed_partitions, len(unsuccessful))} of {len(executions)} partition(s) "
                f"FAILED for step '{self.name}'"
            )


class ClusterPartitionHandler:
    """Runs the partitions of a :class:`PartitionStep` on the cluster, with its node as the
    master: what a :class:`~springbatch_py.cluster.node.Node` hands down to the jobs it
    launches (a :class:`~springbatch_py.core.partition.PartitionHandler`).

    Parameters
    ----------
    runtime:
        The node: its id, settings, cluster store and job repository.
    worker:
        The node's worker: woken when partitions are assigned, asked for its load and for the
        steps it can run (a node without the worker step takes no share).
    """

    def __init__(self, runtime: ClusterRuntime, worker: Worker) -> None:
        self.runtime = runtime
        self.worker = worker

    def handle(self, step: Step, manager: StepExecution) -> PartitionResult:
        """Split, distribute and wait for the partitions of ``step`` (a :class:`PartitionStep`),
        then reload their step executions."""
        if not isinstance(step, PartitionStep):
            raise TypeError(f"a cluster partition handler runs a PartitionStep, not {step!r}")
        return _ManagerRun(step, manager, self.runtime, self.worker).run()


class _ManagerRun:
    """One execution of a manager step, on the node that launched its job."""

    def __init__(
        self, step: PartitionStep, manager: StepExecution, runtime: ClusterRuntime, worker: Worker
    ) -> None:
        self.step = step
        self.name = step.name
        self.worker_name = step.worker_name
        self.manager = manager
        self.runtime = runtime
        self.worker = worker
        self.repository = runtime.repository

    def run(self) -> PartitionResult:
        step_execution, runtime = self.manager, self.runtime
        workers = self._split()
        if not workers:
            log.warning("step %s: the partitioner made no partition to run", self.name)
            return PartitionResult([])
        job_execution_id = step_execution.job_execution.id
        assert job_execution_id is not None and step_execution.id is not None
        store, node_id = runtime.store, runtime.node_id
        self._phase(job_execution_id, "PARTITIONED")
        store.insert_coordination(job_execution_id, node_id, step_execution.id, self.worker_name)
        coordination = Coordination(
            job_execution_id,
            node_id,
            step_execution.id,
            self.worker_name,
            CoordinationStatus.CREATED,
        )
        tasks = [
            PartitionTask(
                _saved_id(w),
                job_execution_id,
                w.step_name,
                step_execution.id,
                is_transferable(w.execution_context),
                self.worker_name,
                w.execution_context.get(NODE_KEY),
            )
            for w in workers
        ]
        store.insert_partitions(tasks)
        self._phase(job_execution_id, "DISTRIBUTED")
        if not store.transition_coordination(
            coordination, node_id, CoordinationStatus.CREATED, CoordinationStatus.STARTED
        ):
            raise ClusterError(f"job execution {job_execution_id}: coordination row vanished")
        store.announce_assigned(t.assigned_node for t in tasks if t.assigned_node)
        # Only a wait that ends normally completes the coordination: a master that lost its job
        # leaves the row to its recoverer, one interrupted (an error, a second Ctrl-C) leaves it
        # STARTED for lost-master recovery once its node row is gone.
        stop_requested, cancelled = self._wait(coordination)
        self._phase(job_execution_id, "COMPLETION_DETECTED")
        # What follows the wait is retried across a database restart (until_landed).
        if not runtime.until_landed(
            f"completing the coordination of job execution {job_execution_id}",
            lambda: self._complete(coordination),
        ):
            self._lost(coordination)
        manager_id = step_execution.id
        failed = runtime.until_landed(
            "counting failed partitions", lambda: store.count_failed(manager_id)
        )
        executions = runtime.until_landed("reloading the partitions", lambda: self._reload(workers))
        return PartitionResult(executions, failed - cancelled, stop_requested)

    def _complete(self, coordination: Coordination) -> bool:
        """STARTED to COMPLETED for this master; True too when an earlier attempt, whose
        answer was lost, had moved it."""
        store, node_id = self.runtime.store, self.runtime.node_id
        if store.transition_coordination(
            coordination, node_id, CoordinationStatus.STARTED, CoordinationStatus.COMPLETED
        ):
            return True
        current = store.get_coordination(coordination.job_execution_id)
        return (
            current is not None
            and current.status == CoordinationStatus.COMPLETED
            and current.master_node_id == node_id
        )

    # -- split -------------------------------------------------------------------------------

    def _split(self) -> list[StepExecution]:
        manager, runtime, repository = self.manager, self.runtime, self.repository
        context = manager.execution_context
        if GRID_SIZE_KEY not in context:
            # The cluster library passes grid size 0; Spring Batch keeps it as a Long.
            context[GRID_SIZE_KEY] = Long(0)
            repository.update_execution_context(manager)
        nodes = runtime.store.active_nodes()
        if self.worker_name in self.worker.registry.names():
            if runtime.active and runtime.node_id not in {n.node_id for n in nodes}:
                # This node heartbeats, but a sweep on a clock of whole seconds may have marked
                # it UNREACHABLE for a moment; it is alive, so it takes its share.
                nodes.append(ActiveNode(runtime.node_id, self.worker.load))
        elif others := [n for n in nodes if n.node_id != runtime.node_id]:
            # This node has no such worker step (a launcher without steps): no share for it.
            nodes = others
        else:
            # Alone, it keeps the partitions, which then fail naming the missing step.
            log.warning(
                "step %s: no other ACTIVE node for worker step '%s', which this node lacks",
                self.name,
                self.worker_name,
            )
            nodes = [ActiveNode(runtime.node_id, self.worker.load)]
        contexts = self.step.partitioner.partition(nodes)
        self._phase(manager.job_execution.id, "RECEIVED")
        job_execution = manager.job_execution
        instance = job_execution.job_instance
        live = {n.node_id for n in nodes}
        startable: list[StepExecution] = []
        for key, fresh in contexts.items():
            name = f"{self.worker_name}:{key}"
            start = plan_start(
                name,
                repository.get_last_step_execution(instance, name),
                job_execution,
                allow_start_if_complete=self.step.allow_start_if_complete,
                refuse_unfinished=True,
            )
            if start is None:
                continue
            execution = StepExecution(name, job_execution)
            execution.execution_context = start.context(fresh)
            if start.resumed is not None:
                self._rehome(execution, fresh, live)
            startable.append(execution)
        repository.add_all(startable)
        job_execution.step_executions.extend(startable)
        return startable

    def _rehome(self, execution: StepExecution, fresh: ExecutionContext, live: set[str]) -> None:
        # A restarted partition keeps its old context, with its old node; node ids change on
        # every start, so a transferable partition whose node is gone takes its new assignment.
        context = execution.execution_context
        if context.get(NODE_KEY) in live:
            return
        if is_transferable(context):
            log.info(
                "partition %s: node %s is gone, now on %s",
                execution.step_name,
                context.get(NODE_KEY),
                fresh.get(NODE_KEY),
            )
            context[NODE_KEY] = fresh[NODE_KEY]
        else:
            log.warning(
                "partition %s may not move and its node %s is gone: it will fail as an orphan",
                execution.step_name,
                context.get(NODE_KEY),
            )

    # -- wait --------------------------------------------------------------------------------

    def _wait(self, coordination: Coordination) -> tuple[bool, int]:
        """Wait until no partition is open; whether a stop of the job was requested meanwhile,
        and how many partitions that were never claimed it cancelled then.

        Every iteration first reads the coordination row: a master whose job was recovered by
        another node (this one was evicted while it was frozen, starved or cut off) ends its
        step instead of waiting for partitions nobody will run.
        """
        manager, store = self.manager, self.runtime.store
        assert manager.id is not None
        ended = store.signals.watch(manager.id)
        try:
            return self._wait_for(coordination, ended)
        finally:
            store.signals.unwatch(manager.id, ended)

    def _wait_for(self, coordination: Coordination, ended: threading.Event) -> tuple[bool, int]:
        manager, runtime = self.manager, self.runtime
        settings, store = runtime.settings, runtime.store
        assert manager.id is not None
        check = runtime.seconds(settings.master_task_status_check_interval)
        orphan_interval = runtime.seconds(settings.orphaned_tasks_polling_interval)
        # A database error (a lock held by a frozen node, a dropped connection) is retried for
        # as long as the cluster itself waits before it gives up on a node.
        patience = runtime.seconds(settings.node_cleanup_threshold)
        next_orphan_scan = time.monotonic() + orphan_interval
        next_coordination_check = 0.0
        failing_since: float | None = None
        stop_requested = False
        cancelled = 0
        while True:
            try:
                if time.monotonic() >= next_coordination_check:
                    current = store.get_coordination(coordination.job_execution_id)
                    if (
                        current is None
                        or current.status != CoordinationStatus.STARTED
                        or current.master_node_id != runtime.node_id
                    ):
                        self._lost(coordination)
                    next_coordination_check = time.monotonic() + check
                if store.count_open(manager.id) == 0:
                    return stop_requested, cancelled
                if not stop_requested and manager.job_execution.is_stopping:
                    stop_requested = self._stopping()
                    cancelled += self._cancel_pending()
                if time.monotonic() >= next_orphan_scan:
                    self._recover_orphans(manager.id)
                    if not stop_requested and self._stop_requested_in_database():
                        stop_requested = self._stopping()
                    if stop_requested:  # (again: an orphan may have gone back to PENDING)
                        cancelled += self._cancel_pending()
                    next_orphan_scan = time.monotonic() + orphan_interval
                failing_since = None
            except DBAPIError as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - failing_since > patience:
                    raise
                log.warning(
                    "step %s: waiting for partitions failed, retrying: %s", self.name, one_line(exc)
                )
            # A partition's end, announced by its worker, ends the pause at once; without
            # notifications, workers in other processes are only seen by counting.
            pause = check if store.notifications_live else min(check, UNNOTIFIED_CHECK_S)
            if ended.wait(min(pause, max(0.0, next_orphan_scan - time.monotonic()))):
                ended.clear()

    def _stopping(self) -> bool:
        log.warning(
            "step %s: job execution %s is stopping; waiting for its partitions to stop at "
            "their next chunk boundary",
            self.name,
            self.manager.job_execution.id,
        )
        return True

    def _cancel_pending(self) -> int:
        """A stopping job does not wait for partitions nobody claimed (no node may have a free
        slot, or none may be left): each still PENDING ends FAILED by compare-and-set (a node
        that claims it meanwhile wins, and its step stops at its first chunk), and its step
        execution, never started, ends STOPPED so that a restart runs it."""
        manager, store, repository = self.manager, self.runtime.store, self.repository
        assert manager.id is not None
        cancelled = 0
        for task in store.list_partitions(manager.id):
            if task.status != PartitionStatus.PENDING or not store.fail_orphan(task):
                continue
            cancelled += 1
            execution = repository.get_step_execution(task.job_execution_id, task.step_execution_id)
            if execution is None or execution.status is not BatchStatus.STARTING:
                continue
            execution.status = BatchStatus.STOPPED
            execution.exit_status = ExitStatus.STOPPED.add_exit_description(
                "the job was stopped before any node claimed this partition"
            )
            execution.end_time = repository.now()
            repository.update(execution)
        if cancelled:
            log.warning("step %s: %d unclaimed partition(s) will not run", self.name, cancelled)
        return cancelled

    def _stop_requested_in_database(self) -> bool:
        # A stop from another process (springbatch-py stop, JobOperator.stop) is only in the
        # database; read it at the orphan scans' pace, not every check.
        manager = self.manager
        assert manager.job_execution.id is not None and manager.id is not None
        fresh = self.repository.get_step_execution(manager.job_execution.id, manager.id)
        return fresh is not None and fresh.job_execution.status in (
            BatchStatus.STOPPING,
            BatchStatus.STOPPED,
        )

    def _lost(self, coordination: Coordination) -> NoReturn:
        """The job is no longer this master's: end the manager step FAILED (raises)."""
        manager, runtime = self.manager, self.runtime
        store, job_execution_id = runtime.store, coordination.job_execution_id
        check = runtime.seconds(runtime.settings.master_task_status_check_interval)
        deadline = time.monotonic() + runtime.seconds(runtime.settings.node_cleanup_threshold)
        current = store.get_coordination(job_execution_id)
        # Let the recoverer finish failing the execution (bounded), then save over its version:
        # the manager step ends FAILED and the job with it, restartable, never UNKNOWN.
        while (
            current is not None
            and current.status == CoordinationStatus.RECOVERING
            and time.monotonic() < deadline
        ):
            time.sleep(check)
            current = store.get_coordination(job_execution_id)
        assert job_execution_id is not None and manager.id is not None
        fresh = self.repository.get_step_execution(job_execution_id, manager.id)
        if fresh is not None and fresh.version is not None:
            manager.version = fresh.version
        owner = current.master_node_id if current is not None else "?"
        status = current.status if current is not None else "deleted"
        raise CoordinationLostError(
            f"job execution {job_execution_id} is no longer coordinated by node "
            f"{runtime.node_id}: its coordination is {status} (node {owner}); this node was "
            "probably evicted while it did not heartbeat, and the job was recovered. "
            "Restart the execution"
        )

    def _recover_orphans(self, master_step_execution_id: int) -> None:
        runtime = self.runtime
        store = runtime.store
        orphans = store.find_orphaned_partitions(
            master_step_execution_id, runtime.settings.node_cleanup_threshold
        )
        if not orphans:
            return
        movable = [o for o in orphans if o.transferable]
        for orphan in orphans:
            if not orphan.transferable and store.fail_orphan(orphan):
                log.error(
                    "partition %s may not move and its node %s is gone: FAILED",
                    orphan.partition_key,
                    orphan.assigned_node,
                )
                self._fail_worker_execution(orphan)
        if not movable:
            return
        nodes = store.active_nodes()
        if not nodes:
            log.error("%d orphaned partition(s) wait for a live node", len(movable))
            return
        targets = []
        for index, orphan in enumerate(movable):
            target = nodes[index % len(nodes)].node_id
            if store.reassign(orphan, target):
                targets.append(target)
                log.warning(
                    "partition %s: node %s is gone, reassigned to %s",
                    orphan.partition_key,
                    orphan.assigned_node,
                    target,
                )
        store.announce_assigned(targets)

    def _fail_worker_execution(self, orphan: PartitionTask) -> None:
        repository = self.repository
        execution = repository.get_step_execution(orphan.job_execution_id, orphan.step_execution_id)
        if execution is None or not (
            execution.status.is_running or execution.status is BatchStatus.UNKNOWN
        ):
            return
        execution.status = BatchStatus.FAILED
        execution.exit_status = ExitStatus(
            "FAILED", f"partition lost with its node '{orphan.assigned_node}'; it may not move"
        )
        execution.end_time = execution.end_time or repository.now()
        try:
            repository.update(execution)
        except Exception:
            log.exception("could not mark step execution %s FAILED", execution.id)

    # -- reload ------------------------------------------------------------------------------

    def _reload(self, workers: Iterable[StepExecution]) -> list[StepExecution]:
        """The worker step executions as they ended, read back from the database."""
        manager = self.manager
        ids = {w.id for w in workers}
        assert manager.job_execution.id is not None
        reloaded = self.repository.get_job_execution(manager.job_execution.id)
        if reloaded is None:
            raise ClusterError(f"job execution {manager.job_execution.id} vanished")
        executions = [s for s in reloaded.step_executions if s.id in ids]
        # The caller's job execution shows the workers as they ended, not as they were split.
        fresh = {s.id: s for s in executions}
        steps = manager.job_execution.step_executions
        for index, step in enumerate(steps):
            if step.id in fresh:
                fresh[step.id].job_execution = manager.job_execution
                steps[index] = fresh[step.id]
        return executions

    def _phase(self, job_execution_id: int | None, phase: str) -> None:
        runtime = self.runtime
        if not runtime.settings.capture_phase_timings or job_execution_id is None:
            return
        try:
            runtime.store.record_phase(job_execution_id, runtime.node_id, phase)
        except Exception:
            log.warning("could not record phase %s of job execution %s", phase, job_execution_id)


def _saved_id(execution: StepExecution) -> int:
    if execution.id is None:
        raise ClusterError(f"{execution!r} was not saved")
    return execution.id
