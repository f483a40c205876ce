"""Runs one fault scenario: a database, worker node processes, a ``launch`` process, a fault.

A run (:func:`run_scenario`) is

1. a fresh database on a private server (:mod:`tests.faults.servers`) with the Spring Batch 6
   and cluster schemas and the audit table;
2. ``workers`` processes ``springbatch-py node --steps tests.faults.app:steps`` and one
   ``springbatch-py launch faultJob ...`` (the master, a worker too);
3. once part of the items is committed, the scenario's fault (:mod:`tests.faults.scenarios`);
4. a wait, bounded by ``bound`` seconds from the fault, for the job execution to reach a
   terminal status in the database and for ``launch`` to exit;
5. when the job ended FAILED or STOPPED: a wait for its worker steps to end, then
   ``springbatch-py restart`` (bounded), which must COMPLETE running only the partitions that
   had not completed;
6. every process stopped by its PID; then :mod:`tests.faults.checker` judges the database.

A :class:`Monitor` thread polls ``BATCH_PARTITIONS`` and ``BATCH_JOB_EXECUTION`` during the whole
run (a terminal partition must never become non-terminal again); it is the only thread besides
the caller's and it owns :attr:`Monitor.partitions`, :attr:`Monitor.regressions` and
:attr:`Monitor.jobs` (read them after :meth:`Monitor.stop`, or under :attr:`Monitor.lock`).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from tests.faults.app import JOB_NAME, MANAGER, METADATA, WORKER
from tests.faults.servers import Server

ROOT = Path(__file__).resolve().parents[2]
TERMINAL_JOB = ("COMPLETED", "FAILED", "STOPPED", "ABANDONED")
RUNNING_STEP = ("STARTING", "STARTED", "STOPPING")
TERMINAL_PARTITION = ("COMPLETED", "FAILED")


@dataclass(frozen=True)
class Timings:
    """Cluster thresholds (ms) given to every process of a run."""

    heartbeat: int
    unreachable: int
    cleanup: int

    def environment(self) -> dict[str, str]:
        """As ``SPRING_BATCH_CLUSTER_*`` variables."""
        values = {
            "HEARTBEAT_INTERVAL": self.heartbeat,
            "UNREACHABLE_NODE_THRESHOLD": self.unreachable,
            "NODE_CLEANUP_THRESHOLD": self.cleanup,
            "UNREACHABLE_NODE_THREAD_INTERVAL": max(100, self.heartbeat),
            "NODE_CLEANUP_THREAD_INTERVAL": max(100, self.heartbeat),
            "TASK_POLLING_INTERVAL": 200,
            "ORPHANED_TASKS_POLLING_INTERVAL": 300,
            "MASTER_TASK_STATUS_CHECK_INTERVAL": 200,
            "ORPHANED_MASTER_SCAN_INTERVAL": 500,
            "CONCURRENCY_LIMIT_PER_NODE": 3,
        }
        return {f"SPRING_BATCH_CLUSTER_{k}": str(v) for k, v in values.items()}


def timings_for(engine: str, *, tight: bool = False) -> Timings:
    """Short thresholds; MariaDB's clock has whole seconds, so its thresholds are seconds."""
    if engine == "mariadb":
        return Timings(300, 3000, 4000) if tight else Timings(400, 3000, 5000)
    return Timings(100, 600, 1200) if tight else Timings(250, 1200, 2500)


@dataclass(frozen=True)
class JobSize:
    """The job's shape (see :mod:`tests.faults.app`)."""

    partitions: int = 12
    items: int = 40
    delay_ms: int = 20
    commit_interval: int = 5

    @property
    def total(self) -> int:
        return self.partitions * self.items


@dataclass
class Proc:
    """A process of the run, known by its PID."""

    label: str
    popen: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signum)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Monitor(threading.Thread):
    """Polls partitions and job executions; records every status it sees and regressions."""

    def __init__(self, url: str, partitions_table: str, interval: float = 0.25) -> None:
        super().__init__(name="fault-monitor", daemon=True)
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.interval = interval
        self.lock = threading.Lock()
        self.partitions: dict[int, str] = {}
        self.regressions: list[str] = []
        self.jobs: dict[int, str] = {}
        self.terminal_at: dict[int, float] = {}
        self.errors = 0
        self._stop_event = threading.Event()
        self._partitions_sql = sa.text(f"SELECT step_execution_id, status FROM {partitions_table}")
        self._jobs_sql = sa.text("SELECT JOB_EXECUTION_ID, STATUS FROM BATCH_JOB_EXECUTION")

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poll()
            except Exception:
                self.errors += 1  # the database is restarting or frozen: poll again later
            self._stop_event.wait(self.interval)

    def poll(self) -> None:
        with self.engine.connect() as connection:
            partitions = connection.execute(self._partitions_sql).all()
            jobs = connection.execute(self._jobs_sql).all()
        now = time.monotonic()
        with self.lock:
            for step_id, status in partitions:
                before = self.partitions.get(int(step_id))
                if before in TERMINAL_PARTITION and status != before:
                    self.regressions.append(f"partition {step_id}: {before} -> {status}")
                self.partitions[int(step_id)] = status
            for job_id, status in jobs:
                self.jobs[int(job_id)] = status
                if status in TERMINAL_JOB:
                    self.terminal_at.setdefault(int(job_id), now)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(30)
        self.engine.dispose()


class Harness:
    """The processes and database of one run. Use :meth:`close` in a ``finally``."""

    def __init__(
        self,
        server: Server,
        folder: Path,
        *,
        size: JobSize,
        timings: Timings,
        workers: int = 3,
        rng: random.Random | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.server = server
        self.folder = folder
        self.size = size
        self.timings = timings
        self.worker_count = workers
        self.rng = rng or random.Random(0)
        self.extra_env = dict(extra_env or {})
        self.signals = folder / "signals"
        self.signals.mkdir(parents=True, exist_ok=True)
        name = f"faults_{uuid.uuid4().hex[:10]}"
        self.url = server.create_database(name)
        self.db = Database.open(self.url)
        create_schema(self.db, major=6)
        with self.db.begin() as connection:
            METADATA.create_all(connection)
        self.partitions_table = self.db.dialect.table_name("BATCH_PARTITIONS", "cluster")
        self.nodes_table = self.db.dialect.table_name("BATCH_NODES", "cluster")
        self.workers: list[Proc] = []
        self.master: Proc | None = None
        self.others: list[Proc] = []
        self.load_processes: list[subprocess.Popen[bytes]] = []
        self.notes: list[str] = []
        #: promises a scenario saw broken while it injected its fault
        self.stuck: list[str] = []
        self.monitor = Monitor(self.url, self.partitions_table)
        self._spawned = 0

    # -- processes -------------------------------------------------------------------------------

    def environment(self, label: str) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "FAULTS_PARTITIONS": str(self.size.partitions),
            "FAULTS_ITEMS": str(self.size.items),
            "FAULTS_DELAY_MS": str(self.size.delay_ms),
            "FAULTS_COMMIT_INTERVAL": str(self.size.commit_interval),
            "FAULTS_LABEL": label,
            "FAULTS_SIGNALS": str(self.signals),
            **self.timings.environment(),
            **self.extra_env,
        }
        env.pop("SPRINGBATCH_URL", None)
        return env

    def _spawn(self, label: str, args: list[str], env: dict[str, str] | None = None) -> Proc:
        self._spawned += 1
        log = self.folder / f"{self._spawned:02d}-{label}.log"
        with log.open("wb") as handle:
            popen = subprocess.Popen(
                [sys.executable, "-m", "springbatch_py", "-v", *args],
                cwd=ROOT,
                env=env or self.environment(label),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return Proc(label, popen, log)

    def spawn_worker(self, wait: bool = True) -> Proc:
        label = f"w{len(self.workers) + 1}"
        proc = self._spawn(
            label,
            ["node", "--url", self.url, "--steps", "tests.faults.app:steps",
             "--node-id-prefix", label],
        )  # fmt: skip
        self.workers.append(proc)
        if wait:
            self.wait_registered(proc)
        return proc

    def wait_registered(self, proc: Proc, timeout: float = 90.0) -> None:
        sql = sa.text(f"SELECT COUNT(*) FROM {self.nodes_table} WHERE NODE_ID LIKE :p")

        def registered() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.label} exited: {proc.tail()}")
            with self.db.connect() as c:
                return bool(c.execute(sql, {"p": f"{proc.label}-%"}).scalar())

        wait_for(registered, timeout, f"{proc.label} to register")

    def launch(self) -> Proc:
        env = self.environment("master")
        env["SPRING_BATCH_CLUSTER_NODE_ID_PREFIX"] = "master"
        self.master = self._spawn(
            "master",
            ["launch", JOB_NAME, "--url", self.url, "--jobs", "tests.faults.app:jobs",
             "--steps", "tests.faults.app:steps", "-p", "run=1"],
            env,
        )  # fmt: skip
        return self.master

    def restart(self, execution_id: int, timeout: float) -> tuple[int | None, Proc]:
        env = self.environment("restart")
        env["SPRING_BATCH_CLUSTER_NODE_ID_PREFIX"] = "restart"
        proc = self._spawn(
            "restart",
            ["restart", str(execution_id), "--url", self.url, "--jobs", "tests.faults.app:jobs",
             "--steps", "tests.faults.app:steps"],
            env,
        )  # fmt: skip
        self.others.append(proc)
        try:
            return proc.popen.wait(timeout), proc
        except subprocess.TimeoutExpired:
            return None, proc

    def start(self) -> None:
        """Workers, the monitor and the job."""
        for _ in range(self.worker_count):
            self.spawn_worker(wait=False)
        for proc in self.workers:
            self.wait_registered(proc)
        self.monitor.start()
        self.launch()

    def stop_processes(self) -> None:
        """Kill every process of the run by its PID (frozen ones are continued first)."""
        procs = [*self.workers, *([self.master] if self.master else []), *self.others]
        for proc in procs:
            proc.signal(signal.SIGCONT)
            proc.signal(signal.SIGKILL)
        for load in self.load_processes:
            load.kill()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(30)
        for load in self.load_processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                load.wait(30)

    def close(self) -> None:
        """Stop the processes, the monitor, the database handle."""
        self.stop_processes()
        if self.monitor.is_alive():
            self.monitor.stop()
        self.db.close()

    # -- reading the database --------------------------------------------------------------------

    def committed(self) -> int:
        with self.db.connect() as c:
            return int(c.execute(sa.text("SELECT COUNT(*) FROM audit_items")).scalar() or 0)

    def job_executions(self) -> list[tuple[int, str]]:
        with self.db.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT JOB_EXECUTION_ID, STATUS FROM BATCH_JOB_EXECUTION "
                    "ORDER BY JOB_EXECUTION_ID"
                )
            ).all()
        return [(int(i), str(s)) for i, s in rows]

    def first_execution(self) -> int | None:
        executions = self.job_executions()
        return executions[0][0] if executions else None

    def steps(self) -> list[dict[str, Any]]:
        with self.db.connect() as c:
            rows = c.execute(
                sa.text(
                    "SELECT STEP_EXECUTION_ID, JOB_EXECUTION_ID, STEP_NAME, STATUS, READ_COUNT, "
                    "WRITE_COUNT, FILTER_COUNT, READ_SKIP_COUNT, WRITE_SKIP_COUNT, "
                    "PROCESS_SKIP_COUNT, COMMIT_COUNT, ROLLBACK_COUNT FROM BATCH_STEP_EXECUTION "
                    "ORDER BY STEP_EXECUTION_ID"
                )
            ).mappings()
            return [{k.upper(): v for k, v in r.items()} for r in rows]

    def worker_steps(self) -> list[dict[str, Any]]:
        return [s for s in self.steps() if str(s["STEP_NAME"]).startswith(f"{WORKER}:")]

    def manager_steps(self) -> list[dict[str, Any]]:
        return [s for s in self.steps() if s["STEP_NAME"] == MANAGER]

    def audit(self) -> list[tuple[str, int, str]]:
        with self.db.connect() as c:
            rows = c.execute(sa.text("SELECT partition_key, item, node_id FROM audit_items")).all()
        return [(str(k), int(i), str(n)) for k, i, n in rows]

    def open_partitions(self) -> int:
        with self.db.connect() as c:
            sql = (
                f"SELECT COUNT(*) FROM {self.partitions_table} "
                "WHERE status IN ('PENDING', 'CLAIMED')"
            )
            return int(c.execute(sa.text(sql)).scalar() or 0)

    def open_partition_ids(self) -> set[int]:
        """Step execution ids of the partitions still PENDING or CLAIMED."""
        return {p for p, _ in self._partitions_of("status IN ('PENDING', 'CLAIMED')")}

    def claimed_by(self, label: str) -> set[int]:
        """Step execution ids of the partitions the worker ``label`` holds CLAIMED."""
        return {
            p
            for p, node in self._partitions_of("status = 'CLAIMED'")
            if node.startswith(f"{label}-")
        }

    def _partitions_of(self, where: str) -> list[tuple[int, str]]:
        with self.db.connect() as c:
            sql = (
                f"SELECT step_execution_id, assigned_node FROM {self.partitions_table} "
                f"WHERE {where}"
            )
            return [(int(p), str(n or "")) for p, n in c.execute(sa.text(sql)).all()]

    def live_nodes(self) -> list[str]:
        with self.db.connect() as c:
            rows = c.execute(sa.text(f"SELECT NODE_ID FROM {self.nodes_table}")).all()
        return [str(r[0]) for r in rows]

    # -- waiting ---------------------------------------------------------------------------------

    def wait_committed(self, count: int, timeout: float) -> None:
        wait_for(lambda: self.committed() >= count, timeout, f"{count} items committed")

    def wait_terminal(self, execution_id: int, timeout: float) -> str | None:
        """The job execution's terminal status, or None when it is not terminal in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.monitor.lock:
                status = self.monitor.jobs.get(execution_id)
            if status in TERMINAL_JOB:
                return status
            time.sleep(0.1)
        return None

    def wait_steps_settled(self, execution_id: int, timeout: float) -> bool:
        """Whether every step of the execution left STARTING/STARTED/STOPPING in time."""

        def settled() -> bool:
            return not [
                s
                for s in self.steps()
                if int(s["JOB_EXECUTION_ID"]) == execution_id and s["STATUS"] in RUNNING_STEP
            ]

        try:
            wait_for(settled, timeout, "the job's steps to end", interval=0.25)
            return True
        except AssertionError:
            return False


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it is truthy; AssertionError after ``timeout`` seconds.
    Database errors while polling (a restart, a stall) count as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except sa.exc.DBAPIError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def busy_loops(count: int, seconds: float) -> list[subprocess.Popen[bytes]]:
    """``count`` processes that spin for ``seconds`` and then exit by themselves."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    return [
        subprocess.Popen([sys.executable, "-c", code], start_new_session=True) for _ in range(count)
    ]
