"""The worker side: claim the partitions assigned to this node and run them.

* The poll loop claims as many PENDING partitions of STARTED jobs as it has free slots: in one
  statement where the database skips locked rows (:meth:`ClusterStore.claim_assigned`), else
  by fetching them and claiming each with a compare-and-set; a claim that matches no row (the
  partition moved or ended meanwhile) is not run. After a claim that failed (it may have
  committed unseen), the next poll first puts back to PENDING the partitions this node holds
  CLAIMED but does not run. It polls at once when woken (a master of this process, or the
  database's notification, announced partitions for this node; a slot freed while more may
  wait), every :data:`FAST_POLL_S` for :data:`HOT_WINDOW_S` after a claim or a wake-up, then
  ever less often, up to the ``task-polling-interval`` (or :data:`IDLE_FACTOR_NOTIFIED` times
  it while notifications reach the node: only a Java master's partitions come unannounced).
* The worker step is found by ``MASTER_STEP_NAME`` in a :class:`StepRegistry`. A transferable
  partition whose step this node lacks is handed back to another ACTIVE node (PENDING there,
  compare-and-set from this node's claim), each other node tried once; a non-transferable one,
  or one no other node is left to try, fails with a message naming the step.
* Each partition's step runs on a pool of ``concurrency-limit-per-node`` threads, with the
  node's job repository guarded by the partition's :class:`PartitionFence`: every write
  transaction of the step (each chunk commit, the final saves) first checks, in that
  transaction, that the partition is still this node's CLAIMED partition. The repository runs
  the check itself before its first write in each transaction, so no repository method can
  bypass it. A node that was frozen, evicted and replaced therefore commits nothing for a
  partition that was given to another node. Item writers that must commit in the chunk's
  transaction reach the job database with :func:`job_database`.
* A partition ends COMPLETED, or FAILED when its step failed. When the node loses its heartbeat
  it stops claiming and asks its running steps to stop at their next chunk boundary; their
  partitions stay CLAIMED for the master's recovery (or for this node once it is back).
* The writes that end a partition (the step's final saves outside a chunk, the partition's
  final status) are retried with a growing backoff across errors the dialect calls transient
  (:meth:`ClusterRuntime.until_landed`): a database restart delays a partition's end, it does
  not strand it CLAIMED on a live node. They give up only when the node stops, saying so; the
  partition is then left to the master's recovery once the node's row is gone. A partition
  whose step could not even be read (the database was away when it was claimed) goes back to
  PENDING for this node.

Threads: each partition runs on a pool thread that owns its :class:`_Running` entry's step; the
poll loop adds entries, the pool thread removes its own, and the node's upkeep thread reads them
(:meth:`Worker.refresh`, :meth:`Worker.fence`) and sets their ``interrupted`` flag and their
step's ``terminate_only``. ``_running`` and ``_left_claimed`` are guarded by ``_lock``;
``_maybe_more`` is a flag the poll loop writes and the pool threads read.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from springbatch_py.cluster.errors import ClusterError, GaveUpError, PartitionLostError
from springbatch_py.cluster.runtime import ClusterRuntime
from springbatch_py.cluster.states import PartitionStatus
from springbatch_py.cluster.store import PartitionTask
from springbatch_py.core import metrics, tracing
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.errors import OptimisticLockingFailureError
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.core.step import Step, StepRepository
from springbatch_py.db.database import Database
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.util import one_line

log = logging.getLogger(__name__)

#: The quickest poll, right after a partition was claimed or announced.
FAST_POLL_S = 0.05
#: How long polls stay that quick after the last claim or wake-up.
HOT_WINDOW_S = 2.0
#: While the database's notifications reach the node, an idle poll slows to this many
#: task-polling-intervals.
IDLE_FACTOR_NOTIFIED = 5

StepFactory = Callable[[StepExecution], Step]


class StepRegistry:
    """Worker steps by name, or factories that build a step per partition (step scope).

    A step object runs one partition at a time: when partitions of the same step run at once on
    a node, register a factory so that each gets its own reader and writer.
    """

    def __init__(self, steps: Iterable[Step] | Mapping[str, Step | StepFactory] = ()) -> None:
        self._steps: dict[str, Step | StepFactory] = {}
        if isinstance(steps, Mapping):
            for name, step in steps.items():
                self.register(step, name=name)
        else:
            for step in steps:
                self.register(step)

    def register(self, step: Step | StepFactory, *, name: str | None = None) -> None:
        """Add a step (under its name) or a factory (under ``name``)."""
        if name is None:
            if not isinstance(step, Step):
                raise ValueError("a step factory needs a name")
            name = step.name
        self._steps[name] = step

    def resolve(self, name: str, execution: StepExecution) -> Step | None:
        """The step for one partition's execution, or None."""
        entry = self._steps.get(name)
        if entry is None or isinstance(entry, Step):
            return entry
        return entry(execution)

    def names(self) -> list[str]:
        """Registered step names, sorted."""
        return sorted(self._steps)

    def entry(self, name: str) -> Step | StepFactory:
        """The step or factory registered under ``name`` (raises ``KeyError``)."""
        return self._steps[name]


class Landing:
    """A :class:`~springbatch_py.repository.jobs.WriteGuard` that checks nothing and lands
    every update outside a transaction: it is retried across errors the dialect calls
    transient (:meth:`ClusterRuntime.until_landed`), so that a database restart delays the
    update instead of failing it. A node's launches write through it (the job's and the
    manager step's saves)."""

    def __init__(self, runtime: ClusterRuntime) -> None:
        self._runtime = runtime

    def before_write(self, connection: Connection) -> None:
        """Nothing to check."""

    def land(
        self, what: str, execution: JobExecution | StepExecution, write: Callable[[], None]
    ) -> None:
        """Run ``write`` until it lands; an attempt whose answer was lost but that committed
        is recognised by the version it wrote."""
        version = execution.version
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                # A failed attempt may have counted a version its rollback undid.
                execution.version = version
            try:
                write()
            except OptimisticLockingFailureError:
                if attempts > 1 and self._landed_before(execution, version):
                    return
                raise

        self._runtime.until_landed(what, attempt)

    def _landed_before(self, execution: JobExecution | StepExecution, version: int | None) -> bool:
        """Whether an attempt whose connection broke had committed after all (the row's
        version is the one that attempt wrote)."""
        if version is None or execution.id is None:
            return False
        repository = self._runtime.repository
        if isinstance(execution, StepExecution):
            job_id = execution.job_execution.id
            stored: JobExecution | StepExecution | None = (
                None if job_id is None else repository.get_step_execution(job_id, execution.id)
            )
        else:
            stored = repository.get_job_execution(execution.id)
        if stored is None or stored.version != version + 1:
            return False
        execution.version = version + 1
        return True


class PartitionFence(Landing):
    """The fence of one partition, as a :class:`~springbatch_py.repository.jobs.WriteGuard`:
    the partition's step commits only while this node holds its claim.

    Each write transaction of the step first refreshes the partition row, in that transaction;
    0 rows raises :class:`PartitionLostError` (the transaction, chunk included, rolls back) and
    marks the fence :attr:`lost`. Updates outside a chunk (the step's first and final saves)
    are retried until they land (:meth:`ClusterRuntime.until_landed`).
    """

    def __init__(self, runtime: ClusterRuntime, task: PartitionTask) -> None:
        super().__init__(runtime)
        self._task = task
        #: Set once a write found the partition no longer this node's.
        self.lost = False

    def before_write(self, connection: Connection) -> None:
        """Refresh the partition row in the writing transaction; refuse it when 0 rows."""
        if not self._runtime.store.refresh_partition(
            self._task.step_execution_id, self._runtime.node_id, connection=connection
        ):
            self.lost = True
            raise PartitionLostError(
                f"partition {self._task.partition_key} (step execution "
                f"{self._task.step_execution_id}) is no longer claimed by node "
                f"{self._runtime.node_id}: nothing more is committed"
            )


def job_database(repository: StepRepository) -> Database:
    """The job database behind the repository a worker step runs with: item writers that must
    commit in the chunk's transaction (Spring Batch's shared transaction manager) write through
    it. Raises ``TypeError`` for a repository that is not over SQL."""
    if isinstance(repository, JobRepository):
        return repository.db
    raise TypeError(f"no job database behind {repository!r}")


@dataclass
class _Running:
    task: PartitionTask
    execution: StepExecution | None = None
    fence: PartitionFence | None = None
    #: the node's repository behind the fence: what the partition's step writes with
    repository: JobRepository | None = None
    #: stopped by this node because it lost its heartbeat (not by its job or its step)
    interrupted: bool = False
    #: its step has ended (the partition row is about to leave CLAIMED)
    done: bool = False


class Worker:
    """Runs this node's partitions."""

    def __init__(self, runtime: ClusterRuntime, registry: StepRegistry) -> None:
        self.runtime = runtime
        self.registry = registry
        self.limit = runtime.settings.concurrency_limit_per_node
        self._pool = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix="partition")
        self._running: dict[int, _Running] = {}
        self._left_claimed: dict[int, PartitionTask] = {}
        #: item counts as of the last commit of partitions resumed in place (by step execution)
        self._resume_counts: dict[int, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._claiming = True
        #: The last poll filled every free slot (or found none): more may wait.
        self._maybe_more = False
        #: A claim failed: it may have committed unseen (see :meth:`_release_unrun_claims`).
        self._claims_uncertain = False
        #: The quickest pause between polls, and how long it lasts after activity.
        self.fast_poll_s = FAST_POLL_S
        self.hot_window_s = HOT_WINDOW_S
        self._thread: threading.Thread | None = None
        self.completed = 0
        self.failed = 0
        #: Where claims, partition ends and the partitions' chunks are counted (set by the node).
        self.metrics: metrics.Metrics = metrics.NO_METRICS

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def load(self) -> int:
        """Partitions running now (the node's CURRENT_LOAD)."""
        with self._lock:
            return len(self._running)

    def start(self) -> None:
        """Start the poll loop; partitions announced for this node wake it."""
        self.runtime.store.signals.subscribe_worker(self.runtime.node_id, self.wake)
        self._thread = threading.Thread(target=self._loop, name="partition-poller", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Poll now instead of at the next interval."""
        self._wake.set()

    def stop_claiming(self) -> None:
        """Claim nothing more (graceful shutdown)."""
        self._claiming = False

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until no partition runs; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def close(self) -> None:
        """Stop the loop and the pool (after :meth:`drain`)."""
        self._claiming = False
        self.runtime.store.signals.unsubscribe_worker(self.runtime.node_id)
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        interval, last_activity = self.fast_poll_s, -math.inf
        first = True
        while not self.runtime.stopping.is_set():
            woken = self._wake.wait(interval)
            self._wake.clear()
            if self.runtime.stopping.is_set():
                break
            started = 0
            try:
                started = self.poll_once()
            except Exception:
                log.exception("polling for partitions failed")
            now = time.monotonic()
            if started or (woken and not first):  # (the node's start wakes the first poll)
                last_activity = now
            first = False
            interval = self._next_interval(interval, now - last_activity)

    def _next_interval(self, interval: float, idle_for: float) -> float:
        """The pause before the next poll: :data:`FAST_POLL_S` for :data:`HOT_WINDOW_S`
        after the last claim or wake-up, then doubling up to the task-polling-interval (times
        :data:`IDLE_FACTOR_NOTIFIED` while the database's notifications reach this process:
        only a Java master's partitions come unannounced)."""
        if idle_for < self.hot_window_s:
            return self.fast_poll_s
        cap = self.runtime.seconds(self.runtime.settings.task_polling_interval)
        if self.runtime.store.notifications_live:
            cap *= IDLE_FACTOR_NOTIFIED
        return max(self.fast_poll_s, min(interval * 2, cap))

    # -- claiming ------------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Claim and start as many assigned partitions as there are free slots."""
        if not self._claiming or not self.runtime.active:
            return 0
        free = self.limit - self.load
        if free <= 0:
            self._maybe_more = True  # look again as soon as a slot frees
            return 0
        store, node_id = self.runtime.store, self.runtime.node_id
        if self._claims_uncertain:
            self._release_unrun_claims()
        claiming = time.monotonic()
        try:
            claimed_now = store.claim_assigned(node_id, free)
        except Exception:
            # The claim may have committed though its answer was lost: partitions CLAIMED by
            # this node that nothing runs would wait for ever. Look before the next claim.
            self._claims_uncertain = True
            raise
        if claimed_now is not None:
            # Claimed in one statement: start them all.
            self._maybe_more = len(claimed_now) >= free
            for task in claimed_now:
                self.metrics.partition_claimed((time.monotonic() - claiming) / len(claimed_now))
                self._start(task)
            return len(claimed_now)
        started = 0
        tasks = store.fetch_assigned(node_id, free)
        # A full answer may have left partitions behind: the next free slot polls at once.
        self._maybe_more = len(tasks) >= free
        for task in tasks:
            claiming = time.monotonic()
            try:
                claimed = store.claim_partition(task, node_id)
            except Exception as exc:
                self._claims_uncertain = True  # (as above)
                if not (isinstance(exc, DBAPIError) and store.is_transient(exc)):
                    raise
                # A deadlock with another node's transaction: the partition is still PENDING
                # for this node and is claimed at a later poll.
                log.info("claiming partition %s failed for now: %s", task.partition_key, exc.orig)
                continue
            if not claimed:
                log.info(
                    "partition %s not claimed: it moved, or its row is locked for now",
                    task.partition_key,
                )
                continue
            self.metrics.partition_claimed(time.monotonic() - claiming)
            self._start(task)
            started += 1
        return started

    def _release_unrun_claims(self) -> None:
        """After a claim whose answer was lost: the partitions CLAIMED by this node that it does
        not run (nor left claimed while fenced) go back to PENDING for it, by compare-and-set.
        Runs on the poll loop, the only thread that claims, so none is between its claim and
        its start."""
        store, node_id = self.runtime.store, self.runtime.node_id
        with self._lock:
            known = set(self._running) | set(self._left_claimed)
        released = 0
        for task in store.list_claimed(node_id):
            if task.step_execution_id in known:
                continue
            if store.transition_partition(
                task, node_id, PartitionStatus.CLAIMED, PartitionStatus.PENDING
            ):
                released += 1
        self._claims_uncertain = False
        if released:
            log.warning(
                "node %s: %d partition(s) claimed by a statement whose answer was lost are "
                "PENDING again",
                node_id,
                released,
            )

    def _start(self, task: PartitionTask) -> None:
        with self._lock:
            self._running[task.step_execution_id] = _Running(task)
        self._pool.submit(self._run, task)

    # -- running -------------------------------------------------------------------------------

    def _run(self, task: PartitionTask) -> None:
        with self._lock:
            running = self._running[task.step_execution_id]
        try:
            try:
                self._execute(task, running)
            except Exception as exc:
                if running.execution is None and self.runtime.store.is_transient(exc):
                    # Its step could not even be read: run it again rather than fail it.
                    log.warning(
                        "partition %s could not start (%s): back to PENDING",
                        task.partition_key,
                        one_line(exc),
                    )
                    self._end(task, running, PartitionStatus.PENDING)
                else:
                    log.exception("partition %s failed outside its step", task.partition_key)
                    self._finish(task, running, failed=True)
        except Exception:
            # Never silently: the pool would drop it, and the partition would stay CLAIMED.
            log.exception("partition %s: recording its end failed", task.partition_key)
        finally:
            with self._idle:
                self._running.pop(task.step_execution_id, None)
                self._idle.notify_all()
            if self._maybe_more:
                self.wake()  # a slot is free, and partitions may wait for it

    def _execute(self, task: PartitionTask, running: _Running) -> None:
        repository = self.runtime.repository
        execution = repository.get_step_execution(task.job_execution_id, task.step_execution_id)
        if execution is None:
            raise ClusterError(
                f"no step execution {task.step_execution_id} for {task.partition_key}"
            )
        with self._lock:
            counts = self._resume_counts.pop(task.step_execution_id, None)
        if counts is not None:
            # Resumed in place after a chunk failed while the database was away: its saved
            # counts include the rolled-back chunk's reads, which this run reads again.
            for name, value in counts.items():
                setattr(execution, name, value)
        running.execution = execution
        running.fence = fence = PartitionFence(self.runtime, task)
        running.repository = fenced = self.runtime.repository.guarded(fence)
        with tracing.partition_span(
            execution,
            partition_key=task.partition_key,
            node_id=self.runtime.node_id,
            master_step_execution_id=task.master_step_execution_id,
        ):
            self._run_partition(task, running, execution, fenced)

    def _run_partition(
        self,
        task: PartitionTask,
        running: _Running,
        execution: StepExecution,
        fenced: JobRepository,
    ) -> None:
        step = self.registry.resolve(task.master_step_name or "", execution)
        if step is None:
            self._reject(task, running, execution)
            return
        with metrics.using(self.metrics):
            step.execute(execution, fenced)
        failed = execution.status in (
            BatchStatus.FAILED,
            BatchStatus.UNKNOWN,
            BatchStatus.ABANDONED,
        )
        self._finish(task, running, failed=failed)

    def _reject(self, task: PartitionTask, running: _Running, execution: StepExecution) -> None:
        message = (
            f"no step named '{task.master_step_name}' is registered on node "
            f"{self.runtime.node_id} (registered: {', '.join(self.registry.names()) or 'none'})"
        )
        if task.transferable:
            target = self._hand_back_target(task)
            if target is not None:
                self._hand_back(task, running, target, message)
                return
            message += "; no other live node is left to try"
            self._hand_backs().pop(task.step_execution_id, None)
        log.error("partition %s: %s", task.partition_key, message)
        execution.status = BatchStatus.FAILED
        execution.exit_status = ExitStatus("FAILED", message)
        execution.start_time = execution.start_time or self.runtime.repository.now()
        execution.end_time = self.runtime.repository.now()
        assert running.repository is not None
        running.repository.update(execution)
        self._finish(task, running, failed=True)

    #: How often one node hands the same partition back before it fails it (a bound for
    #: clusters whose membership keeps changing; otherwise each other node is tried once).
    MAX_HAND_BACKS = 8

    def _hand_back_target(self, task: PartitionTask) -> str | None:
        """Another ACTIVE node for a transferable partition this node cannot run: round robin
        over the nodes this node has not yet handed it to; None when every one was tried (no
        node may have the step: the partition must not travel forever)."""
        ledger = self._hand_backs()
        tried = ledger.setdefault(task.step_execution_id, [])
        if len(tried) >= self.MAX_HAND_BACKS:
            return None
        others = [
            n.node_id
            for n in self.runtime.store.active_nodes()
            if n.node_id != self.runtime.node_id and n.node_id not in tried
        ]
        if not others:
            return None
        others.sort()
        target = others[len(ledger) % len(others)]  # rotates as more partitions come back
        tried.append(target)
        return target

    def _hand_back(self, task: PartitionTask, running: _Running, target: str, reason: str) -> None:
        """Give a claimed partition to ``target`` (PENDING there), compare-and-set from this
        node's claim; its step execution is untouched, for the node that runs it."""
        running.done = True
        claimed = replace(task, assigned_node=self.runtime.node_id, status=PartitionStatus.CLAIMED)
        if self.runtime.store.reassign(claimed, target):
            self.runtime.store.announce_assigned([target])
            log.warning(
                "partition %s: %s; handed back to node %s", task.partition_key, reason, target
            )
        else:
            log.warning(
                "partition %s: %s, and it is no longer this node's claim",
                task.partition_key,
                reason,
            )

    def _hand_backs(self) -> dict[int, list[str]]:
        """To which nodes this node handed each partition (by step execution id)."""
        with self._lock:
            ledger: dict[int, list[str]] | None = getattr(self, "_hand_back_ledger", None)
            if ledger is None:
                ledger = {}
                self._hand_back_ledger = ledger
            return ledger

    def _finish(self, task: PartitionTask, running: _Running, *, failed: bool) -> None:
        running.done = True
        if running.fence is not None and running.fence.lost:
            # Another node owns the partition now; this node committed nothing since.
            log.warning("partition %s left to its new owner", task.partition_key)
            return
        if running.interrupted or (failed and not self.runtime.active):
            # Stopped because this node lost its heartbeat, or failed while the database did not
            # hear from it: back to PENDING for this node once it is ACTIVE again (now, if it
            # already is), unless the master moved it meanwhile. (A step that ended normally
            # has its result: it is recorded whatever this node's status.)
            with self._lock:
                self._left_claimed[task.step_execution_id] = task
                if running.execution is not None and running.execution.committed_counts:
                    self._resume_counts[task.step_execution_id] = running.execution.committed_counts
            log.warning("partition %s left CLAIMED while this node is fenced", task.partition_key)
            if self.runtime.active:
                self.release_left_claimed()
            return
        status = PartitionStatus.FAILED if failed else PartitionStatus.COMPLETED
        if self._end(task, running, status):
            self.metrics.partition_ended(status)
            if failed:
                self.failed += 1
            else:
                self.completed += 1

    def _end(self, task: PartitionTask, running: _Running, status: PartitionStatus) -> bool:
        """Move this node's CLAIMED partition to ``status``, retrying until it lands; False
        when the row had moved, or when the node gave the partition up (logged)."""
        running.done = True
        store, node_id = self.runtime.store, self.runtime.node_id
        ending = status != PartitionStatus.PENDING

        def write() -> bool:
            if ending:  # and its master woken
                return store.end_partition(task, node_id, status)
            return store.transition_partition(task, node_id, PartitionStatus.CLAIMED, status)

        try:
            moved = self.runtime.until_landed(
                f"recording partition {task.partition_key} as {status}", write
            )
        except GaveUpError as exc:
            log.error(
                "partition %s: %s; it stays CLAIMED, for the master to recover once this "
                "node's row is gone",
                task.partition_key,
                exc,
            )
            return False
        if not moved:
            log.warning(
                "partition %s was no longer CLAIMED by this node at its end (moved by another "
                "node, or an earlier attempt landed)",
                task.partition_key,
            )
        elif not ending:
            self.wake()
        return moved

    # -- liveness ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """P4 for every running partition; a partition no longer ours is asked to stop."""
        with self._lock:
            running = [r for r in self._running.values() if not r.done]
        for entry in running:
            ours = self.runtime.store.refresh_partition(
                entry.task.step_execution_id, self.runtime.node_id
            )
            if not ours and not entry.done:  # (a partition that just ended is not ours either)
                self._interrupt(entry, fenced=False)

    def fence(self) -> None:
        """The node lost its heartbeat: ask every running partition to stop at its next chunk."""
        with self._lock:
            running = list(self._running.values())
        for entry in running:
            self._interrupt(entry, fenced=True)

    def _interrupt(self, entry: _Running, *, fenced: bool) -> None:
        entry.interrupted = entry.interrupted or fenced
        if entry.execution is not None and not entry.execution.terminate_only:
            log.warning("stopping partition %s", entry.task.partition_key)
            entry.execution.terminate_only = True

    def has_left_claimed(self) -> bool:
        """Whether partitions wait in :meth:`release_left_claimed`."""
        with self._lock:
            return bool(self._left_claimed)

    def release_left_claimed(self) -> int:
        """Back from a lost heartbeat: partitions this node left CLAIMED go back to PENDING for
        it (unless the master moved them meanwhile), so they are not stranded."""
        with self._lock:
            tasks = list(self._left_claimed.values())
            self._left_claimed.clear()
        released = 0
        for index, task in enumerate(tasks):
            try:
                if self.runtime.store.transition_partition(
                    task, self.runtime.node_id, PartitionStatus.CLAIMED, PartitionStatus.PENDING
                ):
                    released += 1
                else:  # moved meanwhile: its new owner resumes from the stored counts
                    with self._lock:
                        self._resume_counts.pop(task.step_execution_id, None)
            except Exception:
                with self._lock:  # tried again at the next heartbeat that succeeds
                    for left in tasks[index:]:
                        self._left_claimed.setdefault(left.step_execution_id, left)
                raise
        if released:
            self.wake()
        return released
