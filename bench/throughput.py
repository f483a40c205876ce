"""How many no-op partitions and trivial launches per second, and their client round trips.

    python bench/throughput.py [--engines sqlite,postgresql,mariadb] [--runs 3]
                               [--partitions 300] [--workers 4] [--launches 100] [--breakdown]

Per engine, on a scratch database:

(a) one job of ``--partitions`` no-op partitions on ``--workers`` worker processes (one node
    each, default cluster settings) with a master node in this process that has no worker step;
    partitions/s = partitions / wall time of the launch (from the call to its return);
(b) ``--launches`` launches of a trivial job of one no-op tasklet step, without cluster (a
    JobLauncher on a JobRepository in this process); launches/s = launches / their wall time.

The rates come from runs where every process connects straight to the database. On
PostgreSQL and MariaDB the same runs are then repeated with every process connected through
:class:`wire.WireCounter`, which counts the client round trips (pings, BEGIN, COMMIT and ROLLBACK
included) of everything during the launches, heartbeats and polls too: round trips per partition
and per launch, the most connections open at once, the connections opened, and the rates
through the proxy (lower: the proxy is Python in this process, on the same cores). SQLite has
no wire (``-``). With
``--breakdown`` a second table gives the ten commonest kinds of round trip per partition and
per launch (``Q BEGIN``, ``S SELECT``, ``COM_QUERY COMMIT``, ``COM_PING``...).

Each figure is min / median / max over ``--runs`` runs, with the load average.
:func:`measure_partitions` gives another script the partitions/s alone, without the proxy.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Series,
    close_providers,
    create_tables,
    engine_list,
    engines_argument,
    load_average,
    print_table,
    scratch,
)
from _nodes import MasterRig, noop_job, noop_tasklet
from wire import WireCounter

from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import TaskletStep
from springbatch_py.db.database import Database
from springbatch_py.repository.jobs import JobRepository

TOP_KINDS = 10


class PartitionRig(MasterRig):
    """Worker processes and a master node on ``url`` (whose tables exist), entered once for
    several launches of a job of many no-op partitions."""

    def launch(self, partitions: int) -> float:
        """One job of ``partitions`` no-op partitions: the launch's wall time in seconds."""
        assert self.master is not None
        job = noop_job(partitions, name="throughput")
        started = time.perf_counter()
        execution = self.master.launch(job, {"launch": uuid.uuid4().hex})
        elapsed = time.perf_counter() - started
        if execution.status is not BatchStatus.COMPLETED:
            raise RuntimeError(f"the launch did not complete: {execution}")
        return elapsed


def measure_partitions(url: str, partitions: int, workers: int = 4) -> float:
    """No-op partitions per second of one job of ``partitions`` partitions on ``workers`` worker
    processes (default settings), with a master in this process; no proxy. Creates the tables
    in the database of ``url`` if they are missing."""
    create_tables(url)
    with PartitionRig(url, workers) as rig:
        return partitions / rig.launch(partitions)


def trivial_launches(url: str, launches: int) -> float:
    """``launches`` launches of a one-tasklet job without cluster: their wall time in seconds
    (the repository's database opened before, closed after)."""
    job = Job("trivial", [TaskletStep("tasklet", noop_tasklet)])
    with Database.open(url) as db:
        launcher = JobLauncher(JobRepository(db))
        started = time.perf_counter()
        for index in range(launches):
            execution = launcher.run(job, {"launch": f"{uuid.uuid4().hex}-{index}"})
            if execution.status is not BatchStatus.COMPLETED:
                raise RuntimeError(f"the launch did not complete: {execution}")
        return time.perf_counter() - started


class _Figures:
    """What one engine's runs gave."""

    def __init__(self) -> None:
        self.partition_rate = Series("(a) partitions/s", "/s")
        self.counted_partition_rate = Series("(a) partitions/s through the proxy", "/s")
        self.partition_trips = Series("(a) round trips per partition")
        self.partition_connections = Series("(a) connections at most, all processes")
        self.partition_connects = Series("(a) connections opened per partition")
        self.launch_rate = Series("(b) trivial launches/s", "/s")
        self.counted_launch_rate = Series("(b) trivial launches/s through the proxy", "/s")
        self.launch_trips = Series("(b) round trips per launch")
        self.launch_connects = Series("(b) connections opened per launch")
        self.partition_kinds: Counter[str] = Counter()
        self.launch_kinds: Counter[str] = Counter()
        self.partitions = 0
        self.launches = 0

    def rows(self) -> list[list[str]]:
        """The table's rows, in order."""
        return [
            [
                s.name,
                s.cell(0 if "at most" in s.name else 2 if "opened" in s.name else 1),
                s.load_cell(),
            ]
            for s in (
                self.partition_rate,
                self.counted_partition_rate,
                self.partition_trips,
                self.partition_connections,
                self.partition_connects,
                self.launch_rate,
                self.counted_launch_rate,
                self.launch_trips,
                self.launch_connects,
            )
        ]


def _direct_runs(
    url: str, figures: _Figures, runs: int, partitions: int, workers: int, launches: int
) -> None:
    """The rates, every process connected straight to the database."""
    with PartitionRig(url, workers) as rig:
        for _ in range(runs):
            figures.partition_rate.add(partitions / rig.launch(partitions))
    for _ in range(runs):
        figures.launch_rate.add(launches / trivial_launches(url, launches))


def _counted_runs(
    url: str, figures: _Figures, runs: int, partitions: int, workers: int, launches: int
) -> None:
    """The round trips, every process connected through the counting proxy."""
    with WireCounter(url) as wire:
        with PartitionRig(wire.url, workers) as rig:
            for _ in range(runs):
                wire.reset()
                elapsed = rig.launch(partitions)
                counted = wire.snapshot()
                load = load_average()
                figures.counted_partition_rate.add(partitions / elapsed, load)
                figures.partition_trips.add(counted.round_trips / partitions, load)
                figures.partition_connections.add(counted.peak_connections, load)
                figures.partition_connects.add(counted.connects / partitions, load)
                figures.partition_kinds += counted.kinds
                figures.partitions += partitions
        for _ in range(runs):
            wire.reset()
            elapsed = trivial_launches(wire.url, launches)
            wire.wait_closed()
            counted = wire.snapshot()
            load = load_average()
            figures.counted_launch_rate.add(launches / elapsed, load)
            figures.launch_trips.add(counted.round_trips / launches, load)
            figures.launch_connects.add(counted.connects / launches, load)
            figures.launch_kinds += counted.kinds
            figures.launches += launches


def run_engine(
    engine: str, runs: int, partitions: int, workers: int, launches: int, breakdown: bool
) -> None:
    """Measure one engine and print its table(s)."""
    figures = _Figures()
    with scratch(engine) as url:
        if url is None:
            return
        create_tables(url)
        _direct_runs(url, figures, runs, partitions, workers, launches)
        if WireCounter.supports(url):
            _counted_runs(url, figures, runs, partitions, workers, launches)
    print_table(
        f"{engine}: (a) one job of {partitions} no-op partitions on {workers} worker processes, "
        f"(b) {launches} launches of a one-tasklet job without cluster; {runs} runs of each "
        "(min / median / max over runs)",
        ["figure", "value", "load"],
        figures.rows(),
    )
    if breakdown and figures.partitions:
        _print_breakdown(engine, figures)


def _print_breakdown(engine: str, figures: _Figures) -> None:
    def per(kinds: Counter[str], count: int) -> dict[str, float]:
        return {kind: n / count for kind, n in kinds.items()} if count else {}

    partition = per(figures.partition_kinds, figures.partitions)
    launch = per(figures.launch_kinds, figures.launches)
    top = [kind for kind, _ in (Counter(partition) + Counter(launch)).most_common(TOP_KINDS)]
    rows = [
        [kind, f"{partition.get(kind, 0.0):.2f}", f"{launch.get(kind, 0.0):.2f}"] for kind in top
    ]
    rows.append(["(all kinds)", f"{sum(partition.values()):.2f}", f"{sum(launch.values()):.2f}"])
    print_table(
        f"{engine}: the {TOP_KINDS} commonest round trips, per partition (a) and per trivial "
        "launch (b), over all runs",
        ["round trip", "per partition", "per launch"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    engines_argument(parser)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (default 3)")
    parser.add_argument(
        "--partitions", type=int, default=300, help="partitions of the job (default 300)"
    )
    parser.add_argument("--workers", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument(
        "--launches", type=int, default=100, help="trivial launches per run (default 100)"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also print the commonest round trips"
    )
    args = parser.parse_args()
    started = time.monotonic()
    try:
        for engine in engine_list(args.engines):
            run_engine(
                engine, args.runs, args.partitions, args.workers, args.launches, args.breakdown
            )
    finally:
        close_providers()
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
