"""Fault-injection runs: N rounds of each scenario on each engine, and a table of the outcome.

    python bench/faults.py --engines sqlite,postgresql,mariadb --rounds 20 --seed 1
    python bench/faults.py --scenarios master-kill,db-restart --engines postgresql -v

Each engine gets a private server (see tests/faults/servers.py; never the shared ones). Each run
is one scenario on a fresh database (see tests/faults/scenarios.py for the faults and
tests/faults/checker.py for what is checked). Columns: runs; items the runs had to write; lost
(items missing once the job or its restart COMPLETED; a run that never completed counts under
hung or restarts); duplicated (items committed twice); hung (runs with a job, a launch, a step
or a restart that did not end within the bound); wrong counters (runs whose step counters differ
from the committed rows); restarts ok (of the runs that needed one); bad status (a stopped
launch whose job was not STOPPED); reopened (runs where a terminal partition became
non-terminal); recovery p50/p99 (seconds from the fault to the job's terminal status); load
(the 1-minute load average at the end of the runs, mean). Exit 0 when every run kept every
promise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.checker import RunResult
from tests.faults.harness import JobSize
from tests.faults.scenarios import SCENARIOS, not_applicable, run_scenario
from tests.faults.servers import ENGINES, ServerUnavailable, make_server


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def row(scenario: str, engine: str, runs: list[RunResult]) -> list[str]:
    """One line of the table."""
    recoveries = [r.recovery_s for r in runs if r.recovery_s is not None]
    needed = [r for r in runs if r.restart != "not needed"]
    unknown = sum(1 for r in runs if r.lost is None)
    lost = sum(r.lost or 0 for r in runs)
    return [
        scenario,
        engine,
        str(len(runs)),
        str(sum(r.items for r in runs)),
        f"{lost}" + (f" ({unknown} unfinished)" if unknown else ""),
        str(sum(r.duplicated for r in runs)),
        str(sum(1 for r in runs if r.hung)),
        str(sum(1 for r in runs if r.counter_errors)),
        f"{sum(1 for r in needed if r.restart == 'ok')}/{len(needed)}",
        str(sum(1 for r in runs if r.unexpected)),
        str(sum(1 for r in runs if r.regressions)),
        _seconds(percentile(recoveries, 0.5)),
        _seconds(percentile(recoveries, 0.99)),
        f"{statistics.mean(r.load for r in runs):.1f}",
    ]


HEADER = [
    "scenario", "engine", "runs", "items", "lost", "duplicated", "hung", "wrong counters",
    "restarts ok", "bad status", "reopened", "recovery p50 s", "p99 s", "load",
]  # fmt: skip


def markdown(rows: list[list[str]]) -> str:
    """The table as Markdown."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bound", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--delay-ms", type=int, default=20)
    parser.add_argument("--json", metavar="FILE", help="also write every run's result here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each run")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCENARIOS] + [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}; scenarios: {', '.join(SCENARIOS)}")
    size = JobSize(args.partitions, args.items, args.delay_ms)
    results: dict[tuple[str, str], list[RunResult]] = {}
    started = time.monotonic()
    for engine in engines:
        try:
            server = make_server(engine)
        except ServerUnavailable as exc:
            print(f"{engine}: skipped, {exc}", flush=True)
            continue
        try:
            server.start()
            for name in names:
                scenario = SCENARIOS[name]
                reason = not_applicable(scenario, engine)
                if reason:
                    print(f"{name} on {engine}: skipped, {reason}", flush=True)
                    continue
                for round_ in range(args.rounds):
                    result = run_scenario(
                        server, scenario, seed=args.seed + round_, size=size, bound=args.bound
                    )
                    results.setdefault((name, engine), []).append(result)
                    if args.verbose or not result.ok:
                        print(result.summary(), flush=True)
        finally:
            server.stop()
    rows = [row(n, e, runs) for (n, e), runs in results.items()]
    print()
    print(
        f"{args.rounds} round(s), seed {args.seed}, job {size.partitions}x{size.items} items, "
        f"bound {args.bound:.0f}s, {os.cpu_count()} CPUs, "
        f"{(time.monotonic() - started) / 60:.1f} min"
    )
    print(markdown(rows))
    if args.json:
        everything = [asdict(r) for runs in results.values() for r in runs]
        Path(args.json).write_text(json.dumps(everything, indent=1))
    return 0 if all(r.ok for runs in results.values() for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
