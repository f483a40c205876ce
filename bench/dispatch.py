"""How long a partition waits for a worker, and the master for the partition's end.

    python bench/dispatch.py [--engines sqlite,postgresql,mariadb] [--runs 3] [--launches 20]
                             [--workers 4]

Per engine, on a scratch database: ``--workers`` idle worker processes (one node each, default
cluster settings) and a master node in this process that has no worker step, so that every
partition goes to a worker. Each launch runs a job of one no-op partition with a parameter of
its own, after a random pause of 0.2-1.5 s (so that it lands at any phase of the workers' and
the master's polls). Per launch:

* *dispatch* = the worker step execution's START_TIME minus the moment the master committed the
  partitions claimable (its coordination STARTED);
* *master notices* = the moment the master saw no open partition left (and began to complete
  the coordination) minus the worker step execution's END_TIME.

Prints per engine a table of the p50 and p99 of both over each run's launches, as min / median /
max over the runs in milliseconds, with the load average. The step times are the library's
(naive, in the database settings' zone, UTC by default) on this machine's clock, as are the
master's; a figure is therefore as fine as the column keeps (microseconds on PostgreSQL, MariaDB
DATETIME(6) and SQLite). :func:`measure` gives another script the dispatch latencies alone.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import datetime, tzinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Series,
    close_providers,
    create_tables,
    engine_list,
    engines_argument,
    load_average,
    percentile,
    print_table,
    scratch,
)
from _nodes import WORKER_STEP, MasterRig, noop_job

from springbatch_py.core.status import BatchStatus
from springbatch_py.repository.explorer import JobExplorer

PAUSE_S = (0.2, 1.5)


def _epoch(moment: datetime, zone: tzinfo) -> float:
    """Seconds since the epoch of a naive time the library stored in ``zone``."""
    return moment.replace(tzinfo=zone).timestamp()


class DispatchRig(MasterRig):
    """Worker processes and a probed master node on ``url`` (whose tables exist), entered once
    for several launches."""

    def __init__(self, url: str, workers: int = 4) -> None:
        super().__init__(url, workers, probe=True)
        self.job = noop_job(1, name="dispatch")

    def launch(self, pause: tuple[float, float] = PAUSE_S) -> tuple[float, float]:
        """One launch after a random pause: (dispatch, master notices), in seconds."""
        assert self.master is not None and self.probe is not None
        time.sleep(random.uniform(*pause))
        execution = self.master.launch(self.job, {"launch": uuid.uuid4().hex})
        if execution.id is None or execution.status is not BatchStatus.COMPLETED:
            raise RuntimeError(f"the launch did not complete: {execution}")
        loaded = JobExplorer(self.master.db).get_job_execution(execution.id)
        assert loaded is not None
        steps = [s for s in loaded.step_executions if s.step_name.startswith(WORKER_STEP + ":")]
        if len(steps) != 1 or steps[0].start_time is None or steps[0].end_time is None:
            raise RuntimeError(f"expected one ended worker step, found {steps}")
        zone = self.master.db.settings.zone
        started = _epoch(steps[0].start_time, zone)
        ended = _epoch(steps[0].end_time, zone)
        dispatch = started - self.probe.started_at[execution.id]
        notices = self.probe.completing_at[execution.id] - ended
        return dispatch, notices

    def launches(self, count: int) -> tuple[list[float], list[float]]:
        """``count`` launches: their dispatch latencies and master-notice delays, in seconds."""
        dispatches: list[float] = []
        notices: list[float] = []
        for _ in range(count):
            dispatch, notice = self.launch()
            dispatches.append(dispatch)
            notices.append(notice)
        return dispatches, notices


def measure(url: str, launches: int, workers: int = 4) -> list[float]:
    """Dispatch latencies in seconds of ``launches`` launches of a one-partition no-op job on
    ``workers`` idle worker processes (default settings), with a master in this process. Creates
    the tables in the database of ``url`` if they are missing."""
    create_tables(url)
    with DispatchRig(url, workers) as rig:
        return rig.launches(launches)[0]


def run_engine(engine: str, runs: int, launches: int, workers: int) -> None:
    """Measure one engine and print its table."""
    series = {
        name: Series(name, "ms")
        for name in ("dispatch p50", "dispatch p99", "master notices p50", "master notices p99")
    }
    with scratch(engine) as url:
        if url is None:
            return
        create_tables(url)
        with DispatchRig(url, workers) as rig:
            for _ in range(runs):
                dispatches, notices = rig.launches(launches)
                load = load_average()
                for values, name in ((dispatches, "dispatch"), (notices, "master notices")):
                    series[f"{name} p50"].add(percentile(values, 0.5) * 1000, load)
                    series[f"{name} p99"].add(percentile(values, 0.99) * 1000, load)
    print_table(
        f"{engine}: {workers} idle worker processes, default settings, {runs} runs x "
        f"{launches} launches of one no-op partition (min / median / max over runs)",
        ["figure", "value", "load"],
        [[s.name, s.cell(), s.load_cell()] for s in series.values()],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    engines_argument(parser)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (default 3)")
    parser.add_argument("--launches", type=int, default=20, help="launches per run (default 20)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes (default 4)")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        for engine in engine_list(args.engines):
            run_engine(engine, args.runs, args.launches, args.workers)
    finally:
        close_providers()
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
