"""A cluster node: registration, heartbeat, sweeps, recovery, the worker, and job launches.

::

    with Node("postgresql://batch@db/batch", steps=[sum_step]) as node:
        execution = node.launch(job, {"day": date.today()})

    Node(url, steps=registry).run_forever()   # a worker process; SIGTERM drains, then leaves

A node registers as ``<prefix>-<uuid4>`` and heartbeats on the database clock with its real load.
Every node sweeps: silent nodes become UNREACHABLE, then are removed, with the cluster's
thresholds. When a heartbeat finds the node's row gone (it was evicted) or fails, the node first
stops its running partitions at their next chunk boundary (fencing; their writes are refused by
the database anyway once their partition moved), then registers again and takes back the
partitions it left claimed.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType
from typing import Any

from springbatch_py.cluster.clocks import ClockCheck
from springbatch_py.cluster.recovery import recover_orphaned_masters
from springbatch_py.cluster.runtime import ClusterRuntime, NodeStatus, running_on
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.store import ClusterStore
from springbatch_py.cluster.worker import StepFactory, StepRegistry, Worker
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.step import Step
from springbatch_py.db.database import Database
from springbatch_py.db.schema import require_cluster_schema
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.repository.serialization import ContextSerializer

log = logging.getLogger(__name__)


class _Ticker:
    """Runs a function every ``interval`` seconds on a thread of its own until stopped."""

    def __init__(
        self, name: str, interval: float, function: Callable[[], None], stopping: threading.Event
    ) -> None:
        self.interval = interval
        self._function = function
        self._stopping = stopping
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self._function()
            except Exception:
                log.exception("%s failed", self._thread.name)


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
    ) -> None:
        self.settings = settings or ClusterSettings.load()
        if isinstance(database, Database):
            self.db, self._owns_db = database, False
        else:
            # Every worker thread, the master's monitor and the timers need a connection.
            size = self.settings.concurrency_limit_per_node + 6
            self.db = Database.open(database, database_settings, pool_size=size, max_overflow=size)
            self._owns_db = True
        self.registry = steps if isinstance(steps, StepRegistry) else StepRegistry(steps)
        for job in jobs:
            for name in job.step_names:
                worker = getattr(job.get_step(name), "worker_step", None)
                if worker is not None:
                    self.registry.register(worker)
        prefix = self.settings.node_id_prefix.strip()
        self.node_id = f"{prefix}-{uuid.uuid4()}"
        self.repository = JobRepository(self.db, serializer=serializer)
        self.store = ClusterStore(self.db)
        self.runtime = ClusterRuntime(self.node_id, self.settings, self.store, self.repository)
        self.worker = Worker(self.runtime, self.registry)
        self.clock_check = ClockCheck(self.node_id, self.settings, self.db.settings.time_zone)
        self.runtime.wake_worker = self.worker.wake
        self.runtime.load = lambda: self.worker.load
        self.runtime.can_run = lambda step_name: step_name in self.registry.names()
        self._tickers: list[_Ticker] = []
        self._launches = ThreadPoolExecutor(thread_name_prefix="job")
        self._started = False
        self._stopped = threading.Event()
        self._last_heartbeat = time.monotonic()

    def __repr__(self) -> str:
        return f"<Node {self.node_id} {self.runtime.status.value}>"

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def status(self) -> NodeStatus:
        """ACTIVE while heartbeats succeed."""
        return self.runtime.status

    def start(self) -> Node:
        """Register, then start heartbeats, sweeps, recovery and the worker."""
        if self._started:
            return self
        require_cluster_schema(self.db)
        if self.db.dialect.name == "sqlite":
            # Several processes share the file: readers must not block the writer's commit.
            # (A pragma outside any transaction: the raw connection is in autocommit mode.)
            raw = self.db.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[union-attr]
            finally:
                raw.close()
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
        self._last_heartbeat = time.monotonic()
        log.info("node %s registered", self.node_id)
        stopping = self.runtime.stopping
        s, seconds = self.settings, self.runtime.seconds
        self._tickers = [
            _Ticker("heartbeat", seconds(s.heartbeat_interval), self._heartbeat, stopping),
            _Ticker(
                "mark-unreachable",
                seconds(s.unreachable_node_thread_interval),
                self._mark_unreachable,
                stopping,
            ),
            _Ticker(
                "remove-unreachable",
                seconds(s.node_cleanup_thread_interval),
                self._remove_unreachable,
                stopping,
            ),
            _Ticker(
                "recover-masters", seconds(s.orphaned_master_scan_interval), self._recover, stopping
            ),
        ]
        for ticker in self._tickers:
            ticker.start()
        self.worker.start()
        self.worker.wake()
        self._started = True
        return self

    def stop(self, *, drain: bool = True, timeout: float | None = None) -> None:
        """Leave the cluster: stop claiming, let running partitions finish (``drain``), stop the
        timers and remove this node's row."""
        if not self._started or self._stopped.is_set():
            return
        self.worker.stop_claiming()
        if drain and not self.worker.drain(timeout):
            log.warning("node %s: partitions still running at shutdown", self.node_id)
        self._launches.shutdown(wait=drain)
        self.runtime.stopping.set()
        for ticker in self._tickers:
            ticker.join(5)
        self.worker.close()
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

    def launch(
        self, job: Job, parameters: JobParameters | Mapping[str, Any] | None = None
    ) -> JobExecution:
        """Run ``job`` with this node as its master, in the calling thread."""
        self.start()
        with running_on(self.runtime):
            return JobLauncher(self.repository).run(job, parameters)

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
        try:
            alive = self.store.heartbeat(self.node_id, self.worker.load)
        except Exception as exc:
            self._heartbeat_failed(exc)
            return
        if not alive:
            log.error(
                "node %s was evicted: fencing running partitions, then registering again",
                self.node_id,
            )
            self.runtime.status = NodeStatus.UNREACHABLE
            self.worker.fence()
            self.worker.drain(self.runtime.seconds(self.settings.node_cleanup_threshold))
            try:
                self.store.register_node(self.node_id, self._host_identifier())
            except Exception:
                log.exception("node %s could not register again", self.node_id)
                return
        self._last_heartbeat = time.monotonic()
        if self.runtime.status is not NodeStatus.ACTIVE:
            self.runtime.status = NodeStatus.ACTIVE
            released = self.worker.release_left_claimed()
            log.info("node %s is ACTIVE again (%d partition(s) taken back)", self.node_id, released)
        self.worker.refresh()

    def _heartbeat_failed(self, exc: Exception) -> None:
        # Claim nothing while the database does not hear from this node. Running partitions
        # stop once the silence lasts half the unreachable threshold, well before any node may
        # act on it; a passing error does not cost their work. (Their writes are safe either
        # way: each commit checks the partition is still this node's.)
        if self.runtime.status is NodeStatus.ACTIVE:
            log.error("node %s: heartbeat failed (%s)", self.node_id, exc)
        self.runtime.status = NodeStatus.UNREACHABLE
        silent = time.monotonic() - self._last_heartbeat
        if silent * 1000 >= self.settings.unreachable_node_threshold / 2:
            self.worker.fence()

    def _mark_unreachable(self) -> None:
        if self._clocks_agree():
            count = self.store.mark_unreachable(self.settings.unreachable_node_threshold)
            if count:
                log.info("node %s: %d node(s) marked UNREACHABLE", self.node_id, count)

    def _remove_unreachable(self) -> None:
        if self._clocks_agree():
            count = self.store.delete_unreachable(self.settings.node_cleanup_threshold)
            if count:
                log.info("node %s: %d node(s) removed", self.node_id, count)

    def _clocks_agree(self) -> bool:
        """Sweep only when no node's heartbeats betray another time zone (see clocks.py)."""
        return not self.clock_check.observe(self.store.all_nodes())

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
