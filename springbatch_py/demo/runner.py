"""``springbatch-py demo``: a three-node cluster on one database, working on a real job.

The demo creates the schema (SQLite in a temporary folder unless ``--url`` names another
database), generates a CSV file of sales, starts worker node processes (``springbatch-py node``),
and launches ``salesReport`` from this process, which is the job's master. While the job runs it
shows every node and partition as the database sees them; at the end, a summary per partition
and the totals by region, checked against a direct computation.

Everything runs on the calling thread, except the job itself (the master node's launch thread)
and the node's own threads; the views only read the database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from springbatch_py.cluster import ClusterSettings, Node
from springbatch_py.cluster.store import NodeRow, PartitionTask, SqlClusterStore
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.errors import JobExecutionNotRunningError
from springbatch_py.core.launch import JobOperator, JobRegistry
from springbatch_py.core.parameters import JobParameters
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.demo import workload
from springbatch_py.errors import SpringBatchError
from springbatch_py.java.types import Long
from springbatch_py.repository.explorer import JobExplorer

#: Cluster timings of the demo: quick to notice, easy on the database.
DEMO_SETTINGS = {
    "heartbeat-interval": 1000,
    "task-polling-interval": 200,
    "master-task-status-check-interval": 200,
    "orphaned-tasks-polling-interval": 1000,
    # Two partitions at a time per node, so that the partitions come in waves one can watch.
    "concurrency-limit-per-node": 2,
}
STATUS_STYLE = {
    "COMPLETED": "green",
    "FAILED": "bold red",
    "CLAIMED": "cyan",
    "PENDING": "yellow",
    "STARTED": "cyan",
    "ACTIVE": "green",
    "UNREACHABLE": "bold red",
}


@dataclass(frozen=True)
class DemoOptions:
    """What the demo runs."""

    url: str | None = None
    nodes: int = 3
    rows: int = 60_000
    partitions: int = 12
    pace_ms: int = 100
    keep: bool = False
    #: Seconds after which the job is stopped (None: no limit).
    timeout: float | None = None


#: How long a stopped job may take to end (its partitions stop at their next chunk boundary).
STOP_GRACE_S = 300.0
#: Lines of the live view besides the partition rows (header, summary, nodes table, frames).
_VIEW_CHROME = 12


@dataclass
class Snapshot:
    """The cluster and the job as the database shows them at one moment."""

    nodes: list[NodeRow] = field(default_factory=list)
    execution: JobExecution | None = None
    partitions: list[PartitionTask] = field(default_factory=list)
    workers: dict[int, StepExecution] = field(default_factory=dict)

    def items_of(self, task: PartitionTask) -> tuple[int, int]:
        """Items read so far and in all, for one partition."""
        worker = self.workers.get(task.step_execution_id)
        if worker is None:
            return 0, 0
        context = worker.execution_context
        total = context.get_long("end", 0) - context.get_long("start", 0)
        return worker.read_count, total

    def progress_line(self, rows: int) -> str:
        """Partitions done of N and rows read of M, on one line."""
        states = [self._state(task) for task in self.partitions]
        read = sum(w.read_count for w in self.workers.values())
        parts = [f"{states.count('COMPLETED')} of {len(states)} partitions done"]
        running = sum(1 for state in states if state in ("CLAIMED", "STARTED", "STARTING"))
        for label, count in (
            ("running", running),
            ("stopped", states.count("STOPPED")),
            ("failed", states.count("FAILED")),
        ):
            if count:
                parts.append(f"{count} {label}")
        return f"{', '.join(parts)}; {read:,} of {rows:,} rows read"

    def _state(self, task: PartitionTask) -> str:
        """A partition's state: its worker step's when that ended, else the partition row's."""
        worker = self.workers.get(task.step_execution_id)
        if worker is not None and worker.status.name in ("COMPLETED", "STOPPED", "FAILED"):
            return worker.status.name
        return task.status or "PENDING"


class DemoError(SpringBatchError):
    """The demo could not set up its cluster."""


def run_demo(options: DemoOptions, console: Console | None = None) -> int:
    """Run the demo; 0 when the job completed and its totals are right."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=120)
    folder = Path(tempfile.mkdtemp(prefix="springbatch-demo-"))
    try:
        return _run(options, console, folder)
    finally:
        if options.keep:
            console.print(f"[dim]files kept in {folder}[/dim]")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _run(options: DemoOptions, console: Console, folder: Path) -> int:
    if options.nodes < 1 or options.partitions < 1 or options.rows < 1:
        raise DemoError("--nodes, --partitions and --rows must be positive")
    url = options.url or f"sqlite:///{folder / 'demo.db'}"
    with Database.open(url, must_exist=False) as db:
        report = create_schema(db)
        console.print(
            f"[bold]database[/bold] {db.describe()}: Spring Batch {report.major} schema "
            f"({report.count('created')} objects created, {report.count('exists')} present)"
        )
    csv_path = _generate(folder / "sales.csv", options.rows, console)
    console.print(f"[bold]input[/bold] {options.rows:,} sales rows in {csv_path}")
    job = workload.make_job(csv_path, options.rows, options.partitions, options.pace_ms)
    settings = ClusterSettings.load(
        node_id_prefix="demo-master",
        heartbeat_interval=DEMO_SETTINGS["heartbeat-interval"],
        task_polling_interval=DEMO_SETTINGS["task-polling-interval"],
        master_task_status_check_interval=DEMO_SETTINGS["master-task-status-check-interval"],
        orphaned_tasks_polling_interval=DEMO_SETTINGS["orphaned-tasks-polling-interval"],
        concurrency_limit_per_node=DEMO_SETTINGS["concurrency-limit-per-node"],
    )
    with _workers(url, options.nodes, folder, console) as processes, Database.open(url) as db:
        store, explorer = SqlClusterStore(db), JobExplorer(db)
        _wait_for_workers(store, options.nodes, processes, folder)
        node = Node(url, jobs=[job], settings=settings)
        parameters = JobParameters({"run.id": Long(time.time_ns() // 1000)})
        try:
            future = node.launch_async(job, parameters)
            console.print(
                f"[bold]master[/bold] {node.node_id} launched {workload.JOB_NAME} with "
                f"{options.partitions} partitions over {options.nodes} worker nodes"
            )
            operator = JobOperator(node.repository, JobRegistry([job]))
            watch = _Watch(future, parameters, explorer, store, console, options)
            execution = watch.run(lambda: _stop_job(operator, explorer, parameters, console))
        finally:
            node.stop()
        final = _snapshot(explorer, store, parameters)
    console.print(_summary(final))
    console.print(f"[bold]progress[/bold] {final.progress_line(options.rows)}")
    if watch.stopped and execution.status.name != "COMPLETED":
        console.print(f"[bold red]stopped[/bold red] after --timeout {options.timeout:g} s")
    return _verdict(execution, final, csv_path, console)


def _generate(path: Path, rows: int, console: Console) -> Path:
    """The input file, with progress (a bar on a terminal, a line per tenth otherwise)."""
    if console.is_terminal:
        with Progress(
            TextColumn("[bold]input[/bold] generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("rows", total=rows)
            return workload.generate_csv(
                path, rows, progress=lambda n: bar.update(task, completed=n)
            )
    last = [0]  # rows written at the last line

    def report(written: int) -> None:
        if written == last[0] or (written < rows and written * 10 // rows == last[0] * 10 // rows):
            return
        last[0] = written
        console.print(f"[bold]input[/bold] generating: {written:,} of {rows:,} rows")

    return workload.generate_csv(path, rows, progress=report)


def _stop_job(
    operator: JobOperator, explorer: JobExplorer, parameters: JobParameters, console: Console
) -> bool:
    """Ask the running job to stop (it ends STOPPED when its partitions reach a chunk end);
    False when its execution does not exist yet (the caller asks again)."""
    instance = explorer.find_job_instance(workload.JOB_NAME, parameters)
    execution = explorer.get_last_job_execution(instance) if instance else None
    if execution is None or execution.id is None:
        return False
    console.print(f"[bold]timeout[/bold] stopping execution {execution.id}")
    with contextlib.suppress(JobExecutionNotRunningError):  # it ended meanwhile: nothing to stop
        operator.stop(execution.id)
    return True


@contextlib.contextmanager
def _workers(
    url: str, count: int, folder: Path, console: Console
) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    settings = [arg for k, v in DEMO_SETTINGS.items() for arg in ("--set", f"{k}={v}")]
    try:
        for i in range(1, count + 1):
            log = (folder / f"worker-{i}.log").open("wb")
            command = [
                sys.executable, "-m", "springbatch_py", "node", "--url", url,
                "--steps", "springbatch_py.demo.workload:worker_steps",
                "--node-id-prefix", f"{workload.WORKER_PREFIX}-{i}", *settings,
            ]  # fmt: skip
            processes.append(
                subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            )
            log.close()
        console.print(f"[bold]workers[/bold] started {count} node processes")
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        left = sum(1 for p in processes if p.returncode == 0)
        console.print(f"[bold]workers[/bold] {left} of {len(processes)} drained and left")


def _wait_for_workers(
    store: SqlClusterStore, count: int, processes: list[subprocess.Popen[bytes]], folder: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [
            n
            for n in store.all_nodes()
            if n.node_id.startswith(workload.WORKER_PREFIX) and n.status == "ACTIVE"
        ]
        if len(workers) >= count:
            return
        for i, process in enumerate(processes, start=1):
            if process.poll() is not None:
                log = (folder / f"worker-{i}.log").read_text(errors="replace").strip()
                raise DemoError(f"worker {i} exited with code {process.returncode}: {log[-500:]}")
        time.sleep(0.1)
    raise DemoError(f"the {count} worker nodes did not register within 60 s")


def _snapshot(explorer: JobExplorer, store: SqlClusterStore, parameters: JobParameters) -> Snapshot:
    snapshot = Snapshot(nodes=sorted(store.all_nodes(), key=lambda n: n.node_id))
    instance = explorer.find_job_instance(workload.JOB_NAME, parameters)
    execution = explorer.get_last_job_execution(instance) if instance else None
    if execution is None:
        return snapshot
    snapshot.execution = execution
    for step in execution.step_executions:
        if step.step_name == workload.MANAGER_STEP and step.id is not None:
            snapshot.partitions = sorted(
                store.list_partitions(step.id), key=lambda t: t.step_execution_id
            )
        elif step.id is not None:
            snapshot.workers[step.id] = step
    return snapshot


class _Watch:
    """Shows the job until it ends; past the timeout, stops it and waits (bounded) for the end.

    A job that ended is reported with its own status, whatever the clock says: the timeout only
    ever stops a job that is still running.
    """

    def __init__(
        self,
        future: Future[JobExecution],
        parameters: JobParameters,
        explorer: JobExplorer,
        store: SqlClusterStore,
        console: Console,
        options: DemoOptions,
    ) -> None:
        self.future = future
        self.parameters = parameters
        self.explorer = explorer
        self.store = store
        self.console = console
        self.options = options
        self.started = time.monotonic()
        self.stopped = False

    def snapshot(self) -> Snapshot:
        return _snapshot(self.explorer, self.store, self.parameters)

    def run(self, stop: Callable[[], bool]) -> JobExecution:
        """Watch until the job ends; ``stop()`` asks it to stop when the timeout passes."""
        if self.console.is_terminal:
            with Live(console=self.console, refresh_per_second=8, transient=False) as live:
                while not self.future.done():
                    live.update(self._view())
                    self._pause(stop)
                live.update(self._view())
        else:
            seen: dict[str, str] = {}
            line = [""]
            while not self.future.done():
                _print_changes(self.snapshot(), seen, self.console, line, self.options.rows)
                self._pause(stop)
            _print_changes(self.snapshot(), seen, self.console, line, self.options.rows)
        return self.future.result()

    def _view(self) -> Group:
        height = self.console.size.height if self.console.is_terminal else None
        return _live_view(self.snapshot(), self.started, self.options.rows, height)

    def _pause(self, stop: Callable[[], bool]) -> None:
        with contextlib.suppress(Exception):
            self.future.result(timeout=0.25)
        if self.future.done():
            return
        elapsed = time.monotonic() - self.started
        timeout = self.options.timeout
        if timeout is not None and not self.stopped and elapsed > timeout:
            self.stopped = stop()
        if self.stopped and timeout is not None and elapsed > timeout + STOP_GRACE_S:
            raise DemoError(
                f"the job did not end within {STOP_GRACE_S:.0f} s of being stopped "
                f"(--timeout {timeout:g} s)"
            )


def _print_changes(
    snapshot: Snapshot, seen: dict[str, str], console: Console, line: list[str], rows: int
) -> None:
    changed = False
    for task in snapshot.partitions:
        state = f"{task.status} on {_short(task.assigned_node)}"
        if seen.get(task.partition_key) != state:
            seen[task.partition_key] = state
            changed = True
            read, total = snapshot.items_of(task)
            console.print(f"  partition {task.partition_key:<18} {state:<40} {read}/{total} items")
    progress = snapshot.progress_line(rows)
    if changed and progress != line[0]:
        line[0] = progress
        console.print(f"[bold]progress[/bold] {progress}")


def _short(node_id: str | None) -> str:
    """A node id as ``<prefix>~<first 8 digits of its UUID>``."""
    if not node_id:
        return "-"
    prefix, uuid = node_id[:-36], node_id[-36:]
    if len(node_id) > 37 and prefix.endswith("-") and uuid.count("-") == 4:
        return f"{prefix[:-1]}~{uuid[:8]}"
    return node_id


def _styled(status: str | None) -> Text:
    return Text(status or "-", style=STATUS_STYLE.get(status or "", ""))


def _live_view(
    snapshot: Snapshot, started: float, rows: int = 0, height: int | None = None
) -> Group:
    """The live view: the job and its progress on top, then the nodes and the partitions, the
    partition table cut to ``height`` lines (running ones first) so the top stays on screen."""
    execution = snapshot.execution
    status = execution.status.name if execution else "STARTING"
    header = Text.assemble(
        ("job ", "bold"),
        f"{workload.JOB_NAME} ",
        _styled(status),
        f"   {time.monotonic() - started:5.1f}s   ",
        snapshot.progress_line(rows),
    )
    nodes = Table(title="nodes", title_justify="left", expand=False)
    for column in ("node", "status", "load", "heartbeat age", "partitions done"):
        nodes.add_column(column)
    for node in snapshot.nodes:
        done = sum(
            1
            for t in snapshot.partitions
            if t.assigned_node == node.node_id and t.status == "COMPLETED"
        )
        nodes.add_row(
            _short(node.node_id),
            _styled(node.status),
            str(node.current_load),
            f"{node.heartbeat_age_ms / 1000:.1f}s",
            str(done),
        )
    partitions = Table(title="partitions", title_justify="left")
    for column in ("partition", "node", "status", "progress", "items"):
        partitions.add_column(column)
    shown, hidden = _fit(snapshot.partitions, height, len(snapshot.nodes))
    for task in shown:
        read, total = snapshot.items_of(task)
        partitions.add_row(
            task.partition_key,
            _short(task.assigned_node),
            _styled(task.status),
            ProgressBar(total=max(total, 1), completed=read, width=30),
            f"{read:,}/{total:,}",
        )
    if hidden:
        done = sum(1 for t in hidden if t.status == "COMPLETED")
        partitions.add_row(
            f"... {len(hidden)} more", "", f"{done} completed", "", f"{len(hidden) - done} other"
        )
    return Group(header, nodes, partitions)


_ORDER = {"CLAIMED": 0, "STARTED": 0, "RUNNING": 0, "FAILED": 1, "PENDING": 2, "COMPLETED": 3}


def _fit(
    tasks: list[PartitionTask], height: int | None, node_count: int
) -> tuple[list[PartitionTask], list[PartitionTask]]:
    """The partitions that fit in ``height`` terminal lines (running, failed, pending, then
    completed ones, each in key order) and those left out."""
    if height is None:
        return tasks, []
    room = max(height - _VIEW_CHROME - node_count, 3)
    if len(tasks) <= room:
        return tasks, []
    ranked = sorted(tasks, key=lambda t: (_ORDER.get(t.status or "", 2), t.step_execution_id))
    kept = {id(t) for t in ranked[: room - 1]}
    return [t for t in tasks if id(t) in kept], [t for t in tasks if id(t) not in kept]


def _summary(snapshot: Snapshot) -> Table:
    table = Table(title="summary", title_justify="left")
    for column in ("partition", "node", "status", "items", "duration"):
        table.add_column(column, justify="right" if column in ("items", "duration") else "left")
    for task in snapshot.partitions:
        worker = snapshot.workers.get(task.step_execution_id)
        took = "-"
        if worker and worker.start_time and worker.end_time:
            took = f"{(worker.end_time - worker.start_time).total_seconds():.2f}s"
        table.add_row(
            task.partition_key,
            _short(task.assigned_node),
            _styled(task.status),
            f"{worker.write_count:,}" if worker else "-",
            took,
        )
    return table


def _verdict(execution: JobExecution, snapshot: Snapshot, csv_path: Path, console: Console) -> int:
    job_totals: dict[str, Decimal] = {}
    for worker in snapshot.workers.values():
        totals: dict[str, Decimal] = worker.execution_context.get(workload.RegionTotals.KEY, {})
        for region, amount in totals.items():
            job_totals[region] = job_totals.get(region, Decimal(0)) + amount
    expected = workload.direct_totals(csv_path)
    table = Table(title="sales by region", title_justify="left")
    table.add_column("region")
    table.add_column("total from the job", justify="right")
    table.add_column("direct sum", justify="right")
    for region in sorted(expected):
        got = job_totals.get(region)
        table.add_row(
            region,
            Text(
                "-" if got is None else f"{got:,}", style="" if got == expected[region] else "red"
            ),
            f"{expected[region]:,}",
        )
    console.print(table)
    took = ""
    if execution.start_time and execution.end_time:
        took = f" in {(execution.end_time - execution.start_time).total_seconds():.1f}s"
    match = job_totals == expected
    nodes_used = len({t.assigned_node for t in snapshot.partitions})
    console.print(
        Text.assemble(
            ("job ", "bold"),
            f"{execution.job_name} execution {execution.id}: ",
            _styled(execution.status.name),
            f"{took}, {len(snapshot.partitions)} partitions on {nodes_used} nodes; totals ",
            ("match" if match else "DO NOT match", "green" if match else "bold red"),
        )
    )
    return 0 if execution.status.name == "COMPLETED" and match else 1


def main_options(args: Any) -> DemoOptions:
    """Options from parsed command-line arguments."""
    return DemoOptions(
        url=args.url,
        nodes=args.nodes,
        rows=args.rows,
        partitions=args.partitions,
        pace_ms=args.pace_ms,
        keep=args.keep,
        timeout=args.timeout,
    )
