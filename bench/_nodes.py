"""Cluster nodes for the benchmarks: worker processes, a master in this process, a no-op job.

    python bench/_nodes.py URL --nodes K [--concurrency C] [--sleep S]
                           [--set heartbeat-interval=3000 ...]

run as a script, starts K worker nodes in one process, each with the no-op worker step
``noop`` (which sleeps ``--sleep`` seconds, default none), prints ``READY`` and the node ids on
one line once all are registered, and runs until SIGTERM (then the nodes drain and leave).
:class:`WorkerProcesses` starts such processes from a benchmark and waits for them;
:func:`noop_job` is a job of one partitioned step whose partitions run ``noop``;
:class:`MasterProbe` records, in the master's process, when the master made the partitions
claimable and when it saw the last one end.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from springbatch_py.cluster import ClusterSettings, FunctionPartitioner, Node, PartitionStep
from springbatch_py.cluster.settings import parse_setting
from springbatch_py.core.job import Job
from springbatch_py.core.step import RepeatStatus, TaskletStep

WORKER_STEP = "noop"
HERE = Path(__file__).resolve()


def noop_tasklet(contribution: Any, chunk_context: Any) -> RepeatStatus:
    """Does nothing, once."""
    return RepeatStatus.FINISHED


def noop_step(sleep: float = 0.0) -> TaskletStep:
    """The worker step every benchmark node registers: no-op, or a sleep of ``sleep`` seconds
    (a busy node that holds its partitions without using the database)."""
    if sleep <= 0:
        return TaskletStep(WORKER_STEP, noop_tasklet)

    def sleeping_tasklet(contribution: Any, chunk_context: Any) -> RepeatStatus:
        time.sleep(sleep)
        return RepeatStatus.FINISHED

    return TaskletStep(WORKER_STEP, sleeping_tasklet)


def noop_job(partitions: int, name: str = "bench") -> Job:
    """A job of one partitioned step: ``partitions`` no-op partitions, round robin over the
    live nodes that have the worker step."""
    partitioner = FunctionPartitioner(lambda nodes: [{} for _ in range(partitions)])
    manager = PartitionStep(f"{name}.manager", worker=WORKER_STEP, partitioner=partitioner)
    return Job(name, [manager])


def settings_from(pairs: list[str], **base: Any) -> ClusterSettings:
    """Cluster settings from ``name=value`` pairs (Java property names), over ``base``."""
    values = dict(base)
    for pair in pairs:
        name, _, value = pair.partition("=")
        field, parsed = parse_setting(name, value)
        values[field] = parsed
    return ClusterSettings(**values)


class WorkerProcesses:
    """``processes`` OS processes of ``nodes`` worker nodes each, on ``url``; entered, it waits
    until every node registered (or raises after ``timeout`` seconds); exited, it sends SIGTERM
    and waits for them to leave (SIGKILL after ``timeout``). ``sleep``: seconds each partition
    of the worker step sleeps (default 0: no-op)."""

    def __init__(
        self,
        url: str,
        processes: int,
        *,
        nodes: int = 1,
        concurrency: int = 10,
        settings: list[str] = (),  # type: ignore[assignment]
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
        sleep: float = 0.0,
    ) -> None:
        self.url = url
        self.sleep = sleep
        self.count = processes
        self.nodes = nodes
        self.concurrency = concurrency
        self.settings = list(settings)
        self.timeout = timeout
        self.env = env
        self.procs: list[subprocess.Popen[str]] = []
        self.node_ids: list[str] = []

    def __enter__(self) -> WorkerProcesses:
        command = [sys.executable, str(HERE), self.url, "--nodes", str(self.nodes)]
        command += ["--concurrency", str(self.concurrency)]
        if self.sleep > 0:
            command += ["--sleep", str(self.sleep)]
        for pair in self.settings:
            command += ["--set", pair]
        env = {**os.environ, **(self.env or {})}
        env["PYTHONPATH"] = str(HERE.parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
        for _ in range(self.count):
            self.procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env))
        deadline = time.monotonic() + self.timeout
        for proc in self.procs:
            line = _read_line(proc, deadline)
            if not line.startswith("READY"):
                self.__exit__(None, None, None)
                raise RuntimeError(f"a worker process did not start: {line!r}")
            self.node_ids += line.split()[1:]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        stop_processes(self.procs, self.timeout)

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids."""
        return [p.pid for p in self.procs]


def stop_processes(procs: list[subprocess.Popen[str]], timeout: float) -> None:
    """SIGTERM each process still running, wait for all within ``timeout`` seconds, then
    SIGKILL those left."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class MasterRig:
    """``workers`` worker processes and a master node in this process on ``url`` (whose
    tables exist), entered once for several launches; with ``probe``, the master is wrapped
    by a :class:`MasterProbe`."""

    def __init__(self, url: str, workers: int = 4, *, probe: bool = False) -> None:
        self.url = url
        self.workers = WorkerProcesses(url, workers)
        self.master: Node | None = None
        self.probe: MasterProbe | None = None
        self._probed = probe

    def __enter__(self) -> Self:
        self.workers.__enter__()
        try:
            self.master = Node(self.url, settings=ClusterSettings(node_id_prefix="bench-master"))
            if self._probed:
                self.probe = MasterProbe(self.master)
            self.master.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.master is not None:
            self.master.stop(drain=True, timeout=30)
        self.workers.__exit__(kind, error, trace)


def _read_line(proc: subprocess.Popen[str], deadline: float) -> str:
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(proc.stdout.readline() if proc.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(max(0.1, deadline - time.monotonic()))
    return result[0].strip() if result else "(no answer in time)"


class MasterProbe:
    """Wraps a master node's cluster store to record, on :func:`time.time`, when the master
    made a job's partitions claimable (its coordination committed STARTED) and when it began
    to complete the coordination (it saw no open partition left)."""

    def __init__(self, node: Node) -> None:
        self.started_at: dict[int, float] = {}
        self.completing_at: dict[int, float] = {}
        store = node.store
        original: Callable[..., bool] = store.transition_coordination

        def transition(coordination: Any, master: str, expected: Any, status: Any) -> bool:
            if str(status) == "COMPLETED":
                self.completing_at[coordination.job_execution_id] = time.time()
            moved = original(coordination, master, expected, status)
            if str(status) == "STARTED":
                self.started_at[coordination.job_execution_id] = time.time()
            return moved

        store.transition_coordination = transition  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark worker nodes, until SIGTERM")
    parser.add_argument("url")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds per partition")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings = settings_from(
        args.set, node_id_prefix="bench", concurrency_limit_per_node=args.concurrency
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    nodes = [
        Node(args.url, steps=[noop_step(args.sleep)], settings=settings) for _ in range(args.nodes)
    ]
    for node in nodes:
        node.start()
    print("READY", *(n.node_id for n in nodes), flush=True)
    stop.wait()
    for node in nodes:
        node.stop(drain=True, timeout=30)


if __name__ == "__main__":
    main()
