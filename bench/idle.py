"""What one node costs the database when idle, and the connections it holds idle and busy.

    python bench/idle.py [--engines sqlite,postgresql,mariadb] [--seconds 30] [--runs 3]
    python bench/idle.py --engines postgresql --seconds 120 --concurrency 20

Per engine and run, on a fresh scratch database with the schema:

1. idle: one worker node in its own process (``_nodes.WorkerProcesses(wire.url, 1)``), every
   setting at its default, connected through ``wire.WireCounter``. Counting starts 15 s after
   the node registered (its polls have slowed to their idle pace by then) and lasts
   ``--seconds``: round trips per second (every client request that waits for an answer, pings,
   BEGIN, COMMIT and ROLLBACK included), split by kind (the statement's first word; ``ping`` is a
   pool ping, an empty query on psycopg or
   COM_PING on MySQL/MariaDB); connections open through the proxy at the end, and the peak
   over the node's whole life (start included).
2. busy: a fresh node the same way (``--concurrency``, default 10, the library's default
   limit) and a master in this process (connected directly, so not counted) that launches one
   job of 2 x concurrency partitions, all assigned to the worker node, each sleeping
   ``--busy-sleep`` seconds (default 2): the peak connections of the worker node while it runs
   as many partitions at once as its limit allows.

SQLite has no wire to count: its round trips print ``-``; its connections are counted as the
worker process's open file descriptors on the database file (``/proc/PID/fd``), sampled every
0.1 s. Each table also carries, as a reference, the Java library's idle figure quoted in
issue 13 (not measured here). Figures: min / median / max over ``--runs``, load beside.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    Series,
    close_providers,
    engine_list,
    engines_argument,
    load_average,
    print_table,
    scratch,
)
from _nodes import WORKER_STEP, WorkerProcesses
from wire import WireCounter

from springbatch_py.cluster import ClusterSettings, FunctionPartitioner, Node, PartitionStep
from springbatch_py.cluster.store import ActiveNode
from springbatch_py.core.job import Job
from springbatch_py.db.database import Database, parse_url
from springbatch_py.db.schema import create_schema

#: Issue 13's figure for the Java library: idle statements per second per node at its defaults.
JAVA_IDLE_PER_S = 5.1
SETTLE_S = 15.0


def kind_name(wire_kind: str) -> str:
    """``Q BEGIN`` / ``S SELECT`` / ``COM_QUERY COMMIT`` -> ``BEGIN`` / ``SELECT`` / ``COMMIT``;
    the pre-pings (``Q ;``, ``COM_PING``) -> ``ping``."""
    if wire_kind == "COM_PING":
        return "ping"
    word = wire_kind.split(" ", 1)[1] if " " in wire_kind else wire_kind
    return "ping" if word == ";" else word


class OnlyNodes:
    """Assigns every partition to the given nodes, round robin (the busy worker only)."""

    def __init__(self, node_ids: Sequence[str]) -> None:
        self.node_ids = list(node_ids)

    def assign(self, count: int, nodes: Sequence[ActiveNode]) -> list[str]:
        """The given nodes in turn."""
        return [self.node_ids[i % len(self.node_ids)] for i in range(count)]


class FileHandles:
    """Samples, every 0.1 s, how many descriptors process ``pid`` holds on ``path``."""

    def __init__(self, pid: int, path: str) -> None:
        self.pid = pid
        self.path = os.path.realpath(path)
        self.peak = 0
        self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        """Descriptors on the database file now."""
        folder = f"/proc/{self.pid}/fd"
        found = 0
        try:
            names = os.listdir(folder)
        except OSError:
            return 0
        for name in names:
            try:
                if os.readlink(f"{folder}/{name}") == self.path:
                    found += 1
            except OSError:
                continue
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last = self.count()
            self.peak = max(self.peak, self.last)
            self._stop.wait(0.1)

    def __enter__(self) -> FileHandles:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def idle_run(url: str, seconds: float) -> dict[str, float]:
    """One idle node for ``seconds``: figures by name (rates per second, connections)."""
    figures: dict[str, float] = {}
    if not WireCounter.supports(url):
        path = parse_url(url).database or ""
        with WorkerProcesses(url, 1) as node, FileHandles(node.pids[0], path) as handles:
            time.sleep(SETTLE_S + seconds)
            figures["connections at end"] = handles.count()
            figures["connections peak"] = handles.peak
        return figures
    with WireCounter(url) as wire:
        with WorkerProcesses(wire.url, 1):
            time.sleep(SETTLE_S)
            startup_peak = wire.peak_connections
            wire.reset()
            time.sleep(seconds)
            shot = wire.snapshot()
        figures["round trips/s"] = shot.round_trips / seconds
        kinds: Counter[str] = Counter()
        for kind, count in shot.kinds.items():
            kinds[kind_name(kind)] += count
        for kind, count in kinds.items():
            figures[f"  {kind}/s"] = count / seconds
        figures["connections at end"] = shot.open_connections
        figures["connections peak"] = max(startup_peak, shot.peak_connections)
    return figures


def busy_run(url: str, concurrency: int, sleep: float) -> float:
    """Peak connections of one worker node running 2 x ``concurrency`` sleeping partitions."""
    partitions = 2 * concurrency
    wired = WireCounter.supports(url)
    with ExitStack() as stack:
        wire = stack.enter_context(WireCounter(url)) if wired else None
        worker_url = wire.url if wire is not None else url
        node = stack.enter_context(
            WorkerProcesses(worker_url, 1, concurrency=concurrency, sleep=sleep)
        )
        handles = (
            None
            if wired
            else stack.enter_context(FileHandles(node.pids[0], parse_url(url).database or ""))
        )
        master = stack.enter_context(
            Node(url, settings=ClusterSettings(node_id_prefix="bench-master"))
        )
        partitioner = FunctionPartitioner(
            lambda count: [{} for _ in range(partitions)], strategy=OnlyNodes(node.node_ids)
        )
        job = Job(
            "busy", [PartitionStep("busy.manager", worker=WORKER_STEP, partitioner=partitioner)]
        )
        execution = master.launch(job, {"run": str(time.time())})
        if execution.status.name != "COMPLETED":
            raise RuntimeError(f"the busy job ended {execution.status.name}")
        if wire is not None:
            return float(wire.peak_connections)
        assert handles is not None
        return float(handles.peak)


def fresh(url: str) -> str:
    """``url`` with the schema created."""
    with Database.open(url) as db:
        create_schema(db)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    engines_argument(parser)
    parser.add_argument("--seconds", type=float, default=30, help="idle time counted (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--concurrency", type=int, default=10, help="the busy node's limit (default 10)"
    )
    parser.add_argument(
        "--busy-sleep", type=float, default=2.0, help="seconds per busy partition (default 2)"
    )
    args = parser.parse_args()
    try:
        for engine in engine_list(args.engines):
            series: dict[str, Series] = {}
            busy = Series("busy peak")
            skipped = False
            for run in range(args.runs):
                with scratch(engine) as url:
                    if url is None:
                        skipped = True
                        break
                    figures = idle_run(fresh(url), args.seconds)
                load = load_average()
                for name in set(series) | set(figures):
                    series.setdefault(name, Series(name)).add(figures.get(name, 0.0), load)
                with scratch(engine) as url:
                    assert url is not None
                    busy.add(busy_run(fresh(url), args.concurrency, args.busy_sleep))
                print(f"{engine}: run {run + 1}/{args.runs} done, load {load:.2f}", file=sys.stderr)
            if skipped:
                continue
            print_table(
                f"{engine}: one idle node, default settings, {args.seconds:.0f} s counted per run, "
                f"{args.runs} runs (min / median / max)",
                ["figure", "value", "load"],
                _rows(series, busy, args),
            )
    finally:
        close_providers()


def _rows(series: dict[str, Series], busy: Series, args: Any) -> list[list[str]]:
    def row(name: str, digits: int) -> list[str]:
        found = series.get(name)
        return [name, found.cell(digits) if found else "-", found.load_cell() if found else "-"]

    kinds = sorted((n for n in series if n.startswith("  ")), key=lambda n: -series[n].values[-1])
    rows = [row("round trips/s", 2)]
    rows += [row(name, 2) for name in kinds]
    rows += [row("connections at end", 0), row("connections peak", 0)]
    rows.append(
        [
            f"busy: connections peak ({2 * args.concurrency} partitions of {args.busy_sleep:g} s, "
            f"concurrency {args.concurrency})",
            busy.cell(0),
            busy.load_cell(),
        ]
    )
    rows.append(
        ["Java library, idle statements/s (quoted from issue 13)", f"{JAVA_IDLE_PER_S}", "-"]
    )
    return rows


if __name__ == "__main__":
    main()
