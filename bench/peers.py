"""springbatch-py beside Procrastinate on the same PostgreSQL, in the same runs.

    python bench/peers.py [--runs 3] [--launches 20] [--jobs 300]
    python bench/peers.py --jobs 1000            # the issue's 1,000-unit figure

Procrastinate (``pip install -e .[bench]``, PyPI ``procrastinate`` 3.x) is the obvious
PostgreSQL job queue a Python user would compare with: LISTEN/NOTIFY wake-ups, polling as a
fallback. Each run creates two scratch databases on the local PostgreSQL, one for Procrastinate
(its schema applied through its Python API) and one for springbatch-py, and measures, in this
order:

1. Procrastinate dispatch latency: 4 worker processes (``App.run_worker()`` with its default
   settings: concurrency 1, LISTEN/NOTIFY on, 5 s polling fallback), idle when each job is
   deferred. The latency of one job runs from just before the bench calls ``defer()`` (so it
   includes the INSERT and its commit) to the ``time.time()`` the async task function reads as
   its first statement; the worker prints that to its stdout, which the bench reads. After each
   job the bench waits until it started, then pauses 0.2-1.5 s (uniformly random) so the
   workers are idle again. p50 and p99 of ``--launches`` jobs.
2. Procrastinate no-op jobs/s: the same 4 idle workers; the bench defers ``--jobs`` no-op jobs
   (an async task with an empty body) in one statement (``batch_defer``: one INSERT, one
   commit). The clock starts just before that statement and stops when the bench sees all of
   them ``succeeded`` in ``procrastinate_jobs`` (it polls a ``count(*)`` every 10 ms); jobs/s is
   ``--jobs`` divided by that time.
3. springbatch-py's figures on scratch databases of its own, through ``dispatch.measure``
   (``--launches`` launches of a one-partition no-op job on 4 idle worker processes; a latency
   runs from the master's commit that makes the partition claimable to the worker step's
   START_TIME, see bench/dispatch.py) and ``throughput.measure_partitions`` (one job of
   ``--jobs`` no-op partitions on 4 worker processes, see bench/throughput.py).

p99 is the nearest rank: with the default 20 dispatches per run it is the slowest of them.

Printed: one table, a row per figure, with min / median / max over the runs of Procrastinate's
value, springbatch-py's, the ratio taken within each run (springbatch-py over Procrastinate for
latencies, Procrastinate over springbatch-py for throughput: above 1 means Procrastinate is ahead)
and the 1-minute load average at the end of each run. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import queue
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Series, close_providers, load_average, percentile, print_table, scratch
from _nodes import stop_processes

HERE = Path(__file__).resolve()
NOOP_TASK = "bench_noop"
STAMP_TASK = "bench_stamp"


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy PostgreSQL URL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def _noop() -> None:
    """The no-op job."""


async def _stamp(tag: int) -> None:
    """The dispatch probe: reports when it started, on this process's stdout."""
    now = time.time()
    sys.stdout.write(f"STAMP {tag} {now:.6f}\n")
    sys.stdout.flush()


def make_app(info: str) -> Any:
    """A Procrastinate app on ``info`` with the two bench tasks."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=info))
    app.task(name=NOOP_TASK)(_noop)
    app.task(name=STAMP_TASK)(_stamp)
    return app


def run_worker(info: str) -> None:
    """A Procrastinate worker with its default settings, until SIGTERM."""
    make_app(info).run_worker()


class ProcrastinateWorkers:
    """``count`` worker processes; entered, waits until each LISTENs; exited, SIGTERM."""

    def __init__(self, info: str, count: int = 4, timeout: float = 60.0) -> None:
        self.info = info
        self.count = count
        self.timeout = timeout
        self.procs: list[subprocess.Popen[str]] = []
        self.stamps: queue.Queue[tuple[int, float]] = queue.Queue()

    def __enter__(self) -> ProcrastinateWorkers:
        import psycopg

        # Imported rather than run as __main__: Procrastinate wants its app in a module.
        script = (
            "import sys; sys.path.insert(0, sys.argv[1]); import peers; "
            "peers.run_worker(sys.argv[2])"
        )
        command = [sys.executable, "-c", script, str(HERE.parent), self.info]
        for _ in range(self.count):
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            self.procs.append(proc)
            threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        deadline = time.monotonic() + self.timeout
        with psycopg.connect(self.info, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query ILIKE 'LISTEN%%'"
                ).fetchone()
                if row is not None and row[0] >= self.count:
                    break
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                    self.__exit__(None, None, None)
                    raise RuntimeError("Procrastinate workers did not start listening")
                time.sleep(0.05)
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "STAMP":
                self.stamps.put((int(parts[1]), float(parts[2])))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        stop_processes(self.procs, 30)


def procrastinate_run(
    url: str, launches: int, jobs: int, workers: int = 4, seed: int | None = None
) -> tuple[list[float], float]:
    """One Procrastinate run on a fresh scratch database ``url``: the dispatch latencies (s) of
    ``launches`` jobs, then no-op jobs/s over ``jobs`` jobs (see the module docstring)."""
    import psycopg

    info = conninfo(url)
    app = make_app(info)
    rng = random.Random(seed)
    with app.open():
        app.schema_manager.apply_schema()
        stamp = app.tasks[STAMP_TASK]
        noop = app.tasks[NOOP_TASK]
        with ProcrastinateWorkers(info, workers) as pool:
            app.check_connection()  # the bench's own connection is open before the clock runs
            latencies: list[float] = []
            for tag in range(launches):
                time.sleep(rng.uniform(0.2, 1.5))
                before = time.time()
                stamp.defer(tag=tag)
                seen, started = pool.stamps.get(timeout=30)
                if seen != tag:
                    raise RuntimeError(f"job {seen} started while waiting for {tag}")
                latencies.append(started - before)
            time.sleep(0.5)
            with psycopg.connect(info, autocommit=True) as conn:
                count = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
                row = conn.execute(count).fetchone()
                done_before = row[0] if row else 0
                begin = time.perf_counter()
                noop.batch_defer(*({} for _ in range(jobs)))
                deadline = begin + 600
                while True:
                    row = conn.execute(count).fetchone()
                    if row is not None and row[0] - done_before >= jobs:
                        break
                    if time.perf_counter() > deadline:
                        raise RuntimeError("Procrastinate did not finish the jobs in 600 s")
                    time.sleep(0.01)
                elapsed = time.perf_counter() - begin
    return latencies, jobs / elapsed


def springbatch_run(
    url_dispatch: str, url_throughput: str, launches: int, jobs: int
) -> tuple[list[float], float]:
    """springbatch-py's dispatch latencies (s) and partitions/s, through the bench-wide
    measures."""
    import dispatch
    import throughput

    latencies = dispatch.measure(url_dispatch, launches, workers=4)
    rate = throughput.measure_partitions(url_throughput, jobs, workers=4)
    return latencies, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--launches", type=int, default=20, help="jobs per run for dispatch latency (default 20)"
    )
    parser.add_argument(
        "--jobs", type=int, default=300, help="no-op jobs/partitions per run (default 300)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of Procrastinate's random pauses"
    )
    args = parser.parse_args()
    try:
        compare(args)
    finally:
        close_providers()


def compare(args: argparse.Namespace) -> None:
    """The runs, then the table."""
    figures = {
        name: (Series(name, "ms"), Series(name, "ms"), Series(name))
        for name in ("dispatch p50", "dispatch p99")
    }
    rates = (Series("no-op units/s", "/s"), Series("no-op units/s", "/s"), Series("ratio"))
    for run in range(args.runs):
        seed = None if args.seed is None else args.seed + run
        with scratch("postgresql") as url:
            if url is None:
                raise SystemExit("peers: needs the local PostgreSQL")
            peer_latencies, peer_rate = procrastinate_run(url, args.launches, args.jobs, seed=seed)
        with scratch("postgresql") as url_a, scratch("postgresql") as url_b:
            assert url_a is not None and url_b is not None
            ours_latencies, ours_rate = springbatch_run(url_a, url_b, args.launches, args.jobs)
        load = load_average()
        for name, share in (("dispatch p50", 0.5), ("dispatch p99", 0.99)):
            peer = percentile(peer_latencies, share) * 1000
            ours = percentile(ours_latencies, share) * 1000
            figures[name][0].add(peer, load)
            figures[name][1].add(ours, load)
            figures[name][2].add(ours / peer, load)
        rates[0].add(peer_rate, load)
        rates[1].add(ours_rate, load)
        rates[2].add(peer_rate / ours_rate, load)
        print(
            f"run {run + 1}/{args.runs}: Procrastinate p50 "
            f"{percentile(peer_latencies, 0.5) * 1000:.1f} ms, {peer_rate:.0f}/s; "
            f"springbatch-py p50 {percentile(ours_latencies, 0.5) * 1000:.1f} ms, "
            f"{ours_rate:.1f}/s; load {load:.2f}",
            file=sys.stderr,
        )

    rows = []
    for name, (peer, ours, ratio) in figures.items():
        rows.append(
            [
                name,
                peer.cell(1),
                ours.cell(1),
                f"{ratio.cell(1)} x",
                "springbatch-py / Procrastinate",
                ratio.load_cell(),
            ]
        )
    peer, ours, ratio = rates
    rows.append(
        [
            "no-op units/s",
            peer.cell(0),
            ours.cell(1),
            f"{ratio.cell(1)} x",
            "Procrastinate / springbatch-py",
            peer.load_cell(),
        ]
    )
    print_table(
        f"PostgreSQL, 4 worker processes, {args.runs} runs (min / median / max), "
        f"{args.launches} dispatches and {args.jobs} no-op units per run; "
        f"ratios within each run",
        ["figure", "Procrastinate", "springbatch-py", "ratio", "ratio is", "load"],
        rows,
    )


if __name__ == "__main__":
    # Run as the module ``peers``, not ``__main__``: Procrastinate warns about an app made in
    # the main module (its workers import the tasks by module name).
    import peers

    peers.main()
