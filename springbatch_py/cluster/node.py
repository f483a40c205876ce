"""A cluster node: registration, heartbeat, sweeps, recovery, the worker, and job launches.

::

    with Node("postgresql://batch@db/batch", steps=[sum_step]) as node:
        execution = node.launch(job, {"day": date.today()})

    Node(url, steps=registry).run_forever()   # a worker process; SIGTERM drains, then leaves

``node.launch`` (or the launcher of :meth:`Node.launcher`) hands the job's partitioned steps the
node's :class:`~springbatch_py.cluster.master.ClusterPartitionHandler`: the node is their master.

A node registers as ``<prefix>-<uuid4>`` and heartbeats on the database clock with its real load.
Every node sweeps, each about once in as many intervals as there are live nodes (so that
the cluster reads O(N) node rows per interval, not N times N): silent nodes become UNREACHABLE,
then are removed, with the cluster's thresholds. When a heartbeat finds the node's row gone
(it was evicted) or fails, the node first stops its running partitions at their next chunk
boundary (fencing; their writes are refused by the database anyway once their partition
moved), then registers again and takes back the partitions it left claimed.

A sweeper judges others only for a silence it witnessed while it could hear the database
itself: it skips a sweep while its own heartbeats fail or its own row looks as old as the
threshold, and for one unreachable threshold after its heartbeats resume from a silence. A
database stall longer than the cleanup threshold therefore evicts nobody: every node was as
silent as the sweeper. A sweep's verdict must also reach the database within half the
unreachable threshold of its start, or it is rolled back: a sweep sent just before the server
froze would otherwise run after it resumes, on the later clock, before anyone could heartbeat.

Threads and the state each owns:

* ``heartbeat``: only the heartbeat, at a fixed rate (late beats are not made up in a burst).
  It writes ``_last_heartbeat``, ``_resumed_at`` and ``_evicted`` (under ``_beat_lock``) and
  the runtime's status; on a long silence it fences the running partitions (memory only).
  It alone reads and writes ``_beat_started`` (for the heartbeat lag it reports to ``metrics``).
* ``node-upkeep``: every heartbeat interval, or at once when the heartbeat asks: refreshes the
  running partitions (P4), takes back the partitions left claimed, and after an eviction fences,
  drains and registers again (then bumps ``_generation``, so that a heartbeat answer from
  before the new registration is ignored); once idle for :data:`IDLE_RELEASE_S`, closes the
  pooled connections but one. It alone reads and writes ``_busy_until``.
* ``sweeper`` (marks silent nodes UNREACHABLE, removes those silent for the cleanup threshold:
  one read for both, a write only when a row qualifies) and ``recover-masters``: each every
  interval times about the number of live nodes (:meth:`Node._sweep_pace`), so that the
  cluster as a whole sweeps about once an interval. They read the heartbeat state under
  ``_beat_lock``; the sweeper owns the :class:`ClockCheck`.
* The worker's poll loop and pool threads: see :mod:`springbatch_py.cluster.worker`.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType
from typing import Any

from sqlalchemy.exc import IntegrityError

from springbatch_py.cluster.clocks import QUARTER_HOUR_MS, ClockCheck
from springbatch_py.cluster.master import ClusterPartitionHandler, PartitionStep
from springbatch_py.cluster.recovery import recover_orphaned_masters
from springbatch_py.cluster.runtime import ClusterRuntime
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.states import NodeStatus
from springbatch_py.cluster.store import ClusterStore, NodeRow, SqlClusterStore, SweepView
from springbatch_py.cluster.worker import Landing, StepFactory, StepRegistry, Worker
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.metrics import Metrics
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.step import Step
from springbatch_py.db.database import Database
from springbatch_py.db.schema import require_cluster_schema
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.repository.serialization import ContextSerializer

log = logging.getLogger(__name__)

#: An idle node closes its pooled connections but one after this long without a partition.
IDLE_RELEASE_S = 30.0


class _Ticker:
    """Runs a function every ``interval`` seconds on a thread of its own until stopped.

    With ``fixed_rate`` the runs start at regular times whatever each one lasts (a run that
    overran its slot is followed by the next one at once, not by a burst); otherwise the
    interval is the pause between the end of a run and the next, times ``pace()`` when given.
    :meth:`wake` runs it now.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        function: Callable[[], None],
        stopping: threading.Event,
        *,
        fixed_rate: bool = False,
        pace: Callable[[], float] | None = None,
    ) -> None:
        self.interval = interval
        self._pace = pace
        self._function = function
        self._stopping = stopping
        self._fixed_rate = fixed_rate
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def join(self, timeout: float) -> None:
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        next_run = time.monotonic() + self.interval
        while not self._stopping.is_set():
            self._wake.wait(max(0.0, next_run - time.monotonic()))
            self._wake.clear()
            if self._stopping.is_set():
                break
            started = time.monotonic()
            try:
                self._function()
            except Exception:
                log.exception("%s failed", self._thread.name)
            now = time.monotonic()
            if self._fixed_rate:
                next_run = max(started + self.interval, now)
            else:
                next_run = now + self.interval * (self._pace() if self._pace else 1.0)


class Node:
    """A node of a database-coordinated Spring Batch cluster.

    Parameters
    ----------
    database:
        A URL or an open :class:`Database`.
    steps:
        Worker steps this node can run, by name (steps, a mapping of names to steps or per-
        partition factories, or a :class:`StepRegistry`).
    jobs:
        Jobs whose partitioned steps' worker steps are registered too.
    settings:
        Cluster settings (default: :meth:`ClusterSettings.load` from the environment).
    store:
        The cluster tables (default: the database's, :class:`SqlClusterStore`); unit tests pass
        a :class:`~springbatch_py.cluster.memory.MemoryClusterStore`.
    clock:
        The node's monotonic clock in seconds (default :func:`time.monotonic`); unit tests pass
        the memory store's :class:`~springbatch_py.cluster.memory.ManualClock` ``seconds``.
    """

    def __init__(
        self,
        database: str | Database,
        *,
        steps: StepRegistry | Iterable[Step] | Mapping[str, Step | StepFactory] = (),
        jobs: Iterable[Job] = (),
        settings: ClusterSettings | None = None,
        database_settings: DatabaseSettings | None = None,
        serializer: ContextSerializer | None = None,
        store: ClusterStore | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings or ClusterSettings.load()
        if isinstance(database, Database):
            self.db, self._owns_db = database, False
        else:
            # A connection for each partition running and one for the timers and the master's
            # wait (statements of a few milliseconds, one at a time mostly: the pool hands out
            # its most recent connection first); one more in a burst, closed when returned.
            # (PostgreSQL: and the listening connection.) An idle node holds one.
            size = self.settings.concurrency_limit_per_node + 1
            self.db = Database.open(database, database_settings, pool_size=size, max_overflow=1)
            self._owns_db = True
        self.registry = steps if isinstance(steps, StepRegistry) else StepRegistry(steps)
        for job in jobs:
            for name in job.step_names:
                step = job.get_step(name)
                if isinstance(step, PartitionStep) and step.worker_step is not None:
                    self.registry.register(step.worker_step)
        prefix = self.settings.node_id_prefix.strip()
        self.node_id = f"{prefix}-{uuid.uuid4()}"
        self.repository = JobRepository(self.db, serializer=serializer)
        self.store: ClusterStore = store if store is not None else SqlClusterStore(self.db)
        self.runtime = ClusterRuntime(
            self.node_id, self.settings, self.store, self.repository, clock=clock or time.monotonic
        )
        self.worker = Worker(self.runtime, self.registry)
        #: Runs the partitioned steps of the jobs this node launches, with this node as master.
        self.partition_handler = ClusterPartitionHandler(self.runtime, self.worker)
        self.clock_check = ClockCheck(self.node_id, self.settings, self.db.settings.time_zone)
        self._tickers: list[_Ticker] = []
        self._launches = ThreadPoolExecutor(thread_name_prefix="job")
        self._started = False
        self._stopped = threading.Event()
        self._upkeep: _Ticker | None = None
        # Heartbeat state: see the module docstring for who writes what.
        self._beat_lock = threading.Lock()
        self._last_heartbeat = self.runtime.clock()
        self._resumed_at = -math.inf
        self._evicted = False
        self._generation = 0
        self._sweeps_held = False
        self._live_nodes = 1
        self._busy_until = -math.inf
        self._beat_started: float | None = None

    def __repr__(self) -> str:
        return f"<Node {self.node_id} {self.runtime.status.value}>"

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def status(self) -> NodeStatus:
        """ACTIVE while heartbeats succeed."""
        return self.runtime.status

    @property
    def metrics(self) -> Metrics:
        """Where this node counts its claims, partitions, chunks and heartbeats (a no-op sink
        until one is set, as :class:`~springbatch_py.observe.server.ObservabilityServer` does)."""
        return self.worker.metrics

    @metrics.setter
    def metrics(self, sink: Metrics) -> None:
        self.worker.metrics = sink

    def start(self) -> Node:
        """Register, then start heartbeats, sweeps, recovery and the worker."""
        if self._started:
            return self
        require_cluster_schema(self.db)
        # Several node processes share the database (SQLite: readers must not block a commit).
        self.db.dialect.prepare_shared_use(self.db.engine)
        if (
            not self.db.dialect.millisecond_clock
            and self.settings.unreachable_node_threshold < 3000
        ):
            log.warning(
                "%s measures heartbeat ages in whole seconds: an unreachable-node-threshold of "
                "%d ms can mark live nodes UNREACHABLE; use several seconds",
                self.db.dialect.product,
                self.settings.unreachable_node_threshold,
            )
        self.store.register_node(self.node_id, self._host_identifier())
        with self._beat_lock:
            self._last_heartbeat = self.runtime.clock()
        log.info("node %s registered", self.node_id)
        stopping = self.runtime.stopping
        s, seconds = self.settings, self.runtime.seconds
        self._upkeep = _Ticker(
            "node-upkeep", seconds(s.heartbeat_interval), self._maintain, stopping
        )
        self._tickers = [
            _Ticker(
                "heartbeat",
                seconds(s.heartbeat_interval),
                self._heartbeat,
                stopping,
                fixed_rate=True,
            ),
            self._upkeep,
            _Ticker(
                "sweeper",
                seconds(min(s.unreachable_node_thread_interval, s.node_cleanup_thread_interval)),
                self._sweep,
                stopping,
                pace=self._sweep_pace,
            ),
            _Ticker(
                "recover-masters",
                seconds(s.orphaned_master_scan_interval),
                self._recover,
                stopping,
                pace=self._sweep_pace,
            ),
        ]
        for ticker in self._tickers:
            ticker.start()
        self.store.open_signals()
        self.worker.start()
        self.worker.wake()
        self._started = True
        return self

    def stop(self, *, drain: bool = True, timeout: float | None = None) -> None:
        """Leave the cluster: stop claiming, let running partitions finish (``drain``), stop the
        timers and remove this node's row."""
        if not self._started or self._stopped.is_set():
            return
        self.runtime.leaving.set()
        self.worker.stop_claiming()
        if drain and not self.worker.drain(timeout):
            log.warning("node %s: partitions still running at shutdown", self.node_id)
        self._launches.shutdown(wait=drain)
        self.runtime.stopping.set()
        for ticker in self._tickers:
            ticker.join(5)
        self.worker.close()
        self.store.close_signals()
        try:
            self.store.deregister(self.node_id)
        except Exception:
            log.exception("node %s could not remove its row", self.node_id)
        if self._owns_db:
            self.db.close()
        self._stopped.set()
        log.info("node %s stopped", self.node_id)

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then drain and leave."""
        self.start()
        stop_requested = threading.Event()

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("node %s: signal %d, draining", self.node_id, signum)
            stop_requested.set()

        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not stop_requested.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop(drain=True)

    # -- jobs ------------------------------------------------------------------------------------

    def launcher(self, on_created: Callable[[JobExecution], None] | None = None) -> JobLauncher:
        """A launcher whose jobs run with this node as their master: it hands their partitioned
        steps this node's :attr:`partition_handler` (``on_created`` as for
        :class:`~springbatch_py.core.launch.JobLauncher`). The node must be started."""
        # The job's and the manager step's saves are retried across a database restart, as
        # the workers' are: a job must not end UNKNOWN because its last write met the restart.
        landed = self.repository.guarded(Landing(self.runtime))
        return JobLauncher(landed, on_created=on_created, partition_handler=self.partition_handler)

    def launch(
        self, job: Job, parameters: JobParameters | Mapping[str, Any] | None = None
    ) -> JobExecution:
        """Run ``job`` with this node as its master, in the calling thread."""
        self.start()
        return self.launcher().run(job, parameters)

    def launch_async(
        self, job: Job, parameters: JobParameters | Mapping[str, Any] | None = None
    ) -> Future[JobExecution]:
        """Run ``job`` with this node as its master, on a thread of its own."""
        self.start()
        return self._launches.submit(self.launch, job, parameters)

    def restart(self, job: Job, execution_id: int) -> JobExecution:
        """Restart a FAILED or STOPPED execution of ``job`` with this node as its master."""
        execution = self.repository.get_job_execution(execution_id)
        if execution is None:
            from springbatch_py.core.errors import NoSuchJobExecutionError

            raise NoSuchJobExecutionError(f"No JobExecution found for id: [{execution_id}]")
        return self.launch(job, execution.job_parameters)

    # -- timers ----------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        """The heartbeat thread's one job: N2, and noting what it says."""
        with self._beat_lock:
            generation = self._generation
        started, due = self.runtime.clock(), self._beat_started
        self._beat_started = started
        try:
            alive = self.store.heartbeat(self.node_id, self.worker.load)
        except Exception as exc:
            self._heartbeat_failed(exc)
            return
        now = self.runtime.clock()
        if due is not None:
            due += self.runtime.seconds(self.settings.heartbeat_interval)
            self.metrics.heartbeat(max(0.0, started - due), now - started)
        with self._beat_lock:
            if generation != self._generation:
                return  # an answer from before this node registered again
            if not alive:
                if not self._evicted:
                    self._evicted = True
                    self.runtime.status = NodeStatus.UNREACHABLE
                    log.error(
                        "node %s was evicted: fencing running partitions, then registering again",
                        self.node_id,
                    )
                    self._wake_upkeep()
                return
            silence = now - self._last_heartbeat
            self._last_heartbeat = now
            if silence * 1000 >= self.settings.unreachable_node_threshold / 2:
                self._resumed_at = now
            if not self._evicted and self.runtime.change_status(
                NodeStatus.UNREACHABLE, NodeStatus.ACTIVE
            ):
                log.info("node %s is ACTIVE again after %.1f s of silence", self.node_id, silence)
                self._wake_upkeep()

    def _heartbeat_failed(self, exc: Exception) -> None:
        # Claim nothing while the database does not hear from this node. Running partitions
        # stop once the silence lasts half the unreachable threshold, well before any node may
        # act on it; a passing error does not cost their work. (Their writes are safe either
        # way: each commit checks the partition is still this node's.)
        if self.runtime.change_status(NodeStatus.ACTIVE, NodeStatus.UNREACHABLE):
            log.error("node %s: heartbeat failed (%s)", self.node_id, exc)
        self._fence_if_silent()

    def _fence_if_silent(self) -> None:
        with self._beat_lock:
            silent = self.runtime.clock() - self._last_heartbeat
        if silent * 1000 >= self.settings.unreachable_node_threshold / 2:
            self.worker.fence()

    def _wake_upkeep(self) -> None:
        if self._upkeep is not None:
            self._upkeep.wake()

    def _maintain(self) -> None:
        """The upkeep thread: rejoin after an eviction, take partitions back, refresh (P4)."""
        with self._beat_lock:
            evicted = self._evicted
        if evicted:
            self._rejoin()
            return
        if not self.runtime.active:
            # The heartbeat thread may be blocked in a stalled database: fence from here too.
            self._fence_if_silent()
            return
        if self.worker.has_left_claimed():
            released = self.worker.release_left_claimed()
            if released:
                log.info("node %s took back %d partition(s)", self.node_id, released)
        self.worker.refresh()
        self._release_idle_connections()

    def _release_idle_connections(self) -> None:
        """An idle node keeps one pooled connection: after a busy spell (or two timers that
        met), the others are closed once no partition has run for :data:`IDLE_RELEASE_S`."""
        now = self.runtime.clock()
        if self.worker.load:
            self._busy_until = now
            return
        idle = now - self._busy_until >= IDLE_RELEASE_S
        if self._owns_db and idle and self.db.release_idle(keep=1):
            log.debug("node %s closed its idle connections", self.node_id)

    def _rejoin(self) -> None:
        self.worker.fence()
        self.worker.drain(self.runtime.seconds(self.settings.node_cleanup_threshold))
        try:
            self.store.register_node(self.node_id, self._host_identifier())
        except IntegrityError:
            pass  # an earlier attempt landed though its answer was lost
        except Exception:
            log.exception("node %s could not register again", self.node_id)
            return
        with self._beat_lock:
            self._generation += 1
            self._evicted = False
            self._last_heartbeat = self._resumed_at = self.runtime.clock()
            self.runtime.status = NodeStatus.ACTIVE
        released = self.worker.release_left_claimed()
        log.info("node %s is ACTIVE again (%d partition(s) taken back)", self.node_id, released)

    def _sweep(self) -> None:
        """One read of the rows worth judging serves both sweeps (a write only when a row
        qualifies for it)."""
        deadline = self._sweep_deadline()
        view = self._sweep_view()
        if view is not None:
            self._mark_unreachable(view, deadline)
            self._remove_unreachable(view, deadline)

    def _mark_unreachable(
        self, view: SweepView | None = None, deadline: float | None = None
    ) -> None:
        threshold = self.settings.unreachable_node_threshold
        if view is None:
            deadline = self._sweep_deadline()
            view = self._sweep_view()
        if view is None or not any(
            r.node_id != self.node_id
            and r.status == NodeStatus.ACTIVE
            and r.heartbeat_age_ms >= threshold
            for r in view.rows
        ):
            return  # nobody to judge: no write
        count = self.store.mark_unreachable(threshold, deadline=deadline)
        if count:
            log.info("node %s: %d node(s) marked UNREACHABLE", self.node_id, count)

    def _remove_unreachable(
        self, view: SweepView | None = None, deadline: float | None = None
    ) -> None:
        threshold = self.settings.node_cleanup_threshold
        if view is None:
            deadline = self._sweep_deadline()
            view = self._sweep_view()
        if view is None or not any(
            r.status == NodeStatus.UNREACHABLE and r.heartbeat_age_ms >= threshold
            for r in view.rows
        ):
            return
        count = self.store.delete_unreachable(threshold, deadline=deadline)
        if count:
            log.info("node %s: %d node(s) removed", self.node_id, count)

    def _sweep_deadline(self) -> float:
        """When a sweep begun now must have its verdict, or roll it back: a sweep whose read
        and write took longer may have waited out a database stall, and its write would then
        judge every node by a clock that jumped while nobody could heartbeat. Half the
        unreachable threshold, the silence :meth:`_why_not_sweep` tolerates in its own
        heartbeats."""
        return self.runtime.clock() + self.settings.unreachable_node_threshold / 2000

    def _sweep_pace(self) -> float:
        """How many sweep intervals this node waits between its sweeps: about as many as
        there are live nodes (at random, within half of it either way), so that the cluster
        as a whole sweeps about once an interval and reads O(N) rows, not N times N."""
        with self._beat_lock:
            live = self._live_nodes
        return max(1.0, live * random.uniform(0.5, 1.5))

    def _sweep_view(self) -> SweepView | None:
        """The rows worth judging, or None when this node must not sweep now: only when no
        node's heartbeats betray another time zone (see clocks.py), and only for a silence
        this node witnessed while it could hear the database itself."""
        threshold = self.settings.unreachable_node_threshold
        future_ms = QUARTER_HOUR_MS - int(self.clock_check.tolerance_ms)
        view = self.store.sweep_view(self.node_id, min(threshold, future_ms), future_ms)
        silent = sum(
            1 for r in view.rows if r.node_id != self.node_id and r.heartbeat_age_ms >= threshold
        )
        with self._beat_lock:
            self._live_nodes = max(1, view.node_count - silent)
        self.clock_check.observe(view.rows)
        if self.clock_check.holds_sweeps:
            return None
        reason = self._why_not_sweep(view.rows, threshold)
        with self._beat_lock:
            held, self._sweeps_held = self._sweeps_held, reason is not None
        if reason is not None and not held:
            log.warning("node %s does not sweep: %s", self.node_id, reason)
        elif reason is None and held:
            log.info("node %s sweeps again", self.node_id)
        return view if reason is None else None

    def _why_not_sweep(self, rows: list[NodeRow], threshold_ms: int) -> str | None:
        own = next((r for r in rows if r.node_id == self.node_id), None)
        if own is None:
            return "its own row is gone"
        if own.heartbeat_age_ms >= threshold_ms:
            return (
                f"its own heartbeat is {own.heartbeat_age_ms:.0f} ms old: the others' silence "
                "was the database's"
            )
        unreachable = self.settings.unreachable_node_threshold
        with self._beat_lock:
            now = self.runtime.clock()
            silent, resumed = now - self._last_heartbeat, now - self._resumed_at
        if silent * 1000 >= unreachable / 2:
            return f"its own heartbeats have failed for {silent:.1f} s"
        if resumed * 1000 < unreachable:
            return "its heartbeats resumed after a silence: the others get a threshold to resume"
        return None

    def _recover(self) -> None:
        if self.runtime.active:
            recover_orphaned_masters(self.runtime)

    def _host_identifier(self) -> str:
        host = socket.gethostname()
        if self.settings.host_identifier == "IP_ADDRESS":
            try:
                return socket.gethostbyname(host)
            except OSError:
                return "127.0.0.1"
        return host

    # -- observing -------------------------------------------------------------------------------

    def statement_counts(self) -> dict[str, int]:
        """Cluster statements run by this node, by name."""
        return dict(self.store.counts)

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float, interval: float = 0.05
    ) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()
