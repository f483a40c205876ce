"""What a fault run must show, judged from the database after every process was stopped.

* **lost**: once the job (or its restart) COMPLETED, every item is in ``audit_items``; a job
  that never completed has no count (it shows as hung or as a failed restart instead);
* **duplicated**: no item is there twice (an item's row commits in its chunk's transaction, so
  a second row means a chunk was committed twice);
* **hung**: the job execution is terminal within the scenario's bound after the fault, ``launch``
  exits soon after, the steps of a FAILED or STOPPED job end, and the restart ends in its bound;
* **restart**: a FAILED or STOPPED job restarts to COMPLETED and runs only the partitions whose
  worker steps had not completed;
* **counters**: the worker steps' WRITE_COUNT, summed over every execution, equals the committed
  rows, a COMPLETED worker step's READ_COUNT equals its WRITE_COUNT plus FILTER_COUNT, and a
  COMPLETED manager step's counts are the sums of its own execution's worker steps;
* **status**: a ``launch`` asked to stop (Ctrl-C, SIGTERM) leaves its job STOPPED (or
  COMPLETED, when it was done anyway), not FAILED by another node;
* **regressions**: no partition the monitor saw COMPLETED or FAILED was seen in another status
  later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.faults.harness import Harness


@dataclass
class RunResult:
    """The outcome of one run of one scenario on one engine."""

    scenario: str
    engine: str
    seed: int
    items: int
    status: str = "?"
    execution_id: int | None = None
    restart_execution_id: int | None = None
    committed: int = 0
    lost: int | None = None
    duplicated: int = 0
    hung: list[str] = field(default_factory=list)
    counter_errors: list[str] = field(default_factory=list)
    restart: str = "not needed"
    #: the first execution ended in a status the scenario does not allow
    unexpected: str = ""
    recovery_s: float | None = None
    regressions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    load: float = 0.0
    folder: str = ""

    @property
    def restart_ok(self) -> bool:
        return self.restart in ("not needed", "ok")

    @property
    def ok(self) -> bool:
        """Whether the run kept every promise."""
        return (
            not self.hung
            and self.lost == 0
            and self.duplicated == 0
            and not self.counter_errors
            and self.restart_ok
            and not self.regressions
            and not self.unexpected
        )

    def problems(self) -> list[str]:
        """Each broken promise, in one line."""
        found = [f"hung: {h}" for h in self.hung]
        if self.lost is None:
            found.append(f"never COMPLETED (first execution {self.status})")
        elif self.lost:
            found.append(f"{self.lost} item(s) lost")
        if self.duplicated:
            found.append(f"{self.duplicated} item(s) committed twice")
        found += [f"counters: {c}" for c in self.counter_errors]
        if not self.restart_ok:
            found.append(f"restart: {self.restart}")
        found += [f"regression: {r}" for r in self.regressions]
        if self.unexpected:
            found.append(self.unexpected)
        return found

    def summary(self) -> str:
        head = (
            f"{self.scenario} on {self.engine} (seed {self.seed}): job {self.status}, "
            f"restart {self.restart.split(':')[0]}, {self.committed}/{self.items} rows"
        )
        problems = self.problems()
        if not problems:
            return head + ": ok"
        return head + "\n  " + "\n  ".join([*problems, f"logs: {self.folder}"])


def judge(h: Harness, result: RunResult) -> None:
    """Fill in the checks of ``result`` from the run's database (processes stopped first)."""
    h.stop_processes()
    h.monitor.stop()
    rows = h.audit()
    result.committed = len(rows)
    counts = Counter(item for _, item, _ in rows)
    result.duplicated = sum(n - 1 for n in counts.values() if n > 1)
    completed = result.status == "COMPLETED" or result.restart == "ok"
    missing = set(range(result.items)) - set(counts)
    strays = set(counts) - set(range(result.items))
    if strays:
        result.notes.append(f"{len(strays)} unexpected item(s)")
    result.lost = len(missing) if completed else None
    result.regressions = list(h.monitor.regressions)
    _check_counters(h, result, len(rows))
    if result.restart == "ok":
        _check_only_the_rest(h, result)


def _check_counters(h: Harness, result: RunResult, rows: int) -> None:
    workers = h.worker_steps()
    written = sum(int(s["WRITE_COUNT"]) for s in workers)
    if written != rows:
        result.counter_errors.append(f"WRITE_COUNT {written} for {rows} committed rows")
    for step in workers:
        # A failed step keeps the reads of the chunk it failed in (as Spring Batch does); a
        # completed one wrote or filtered every item it read.
        if step["STATUS"] == "COMPLETED" and int(step["READ_COUNT"]) != int(
            step["WRITE_COUNT"]
        ) + int(step["FILTER_COUNT"]):
            result.counter_errors.append(
                f"{step['STEP_NAME']} (execution {step['STEP_EXECUTION_ID']}): READ_COUNT "
                f"{step['READ_COUNT']} != WRITE_COUNT {step['WRITE_COUNT']} + FILTER_COUNT "
                f"{step['FILTER_COUNT']}"
            )
    for manager in h.manager_steps():
        if manager["STATUS"] != "COMPLETED":
            continue
        own = [s for s in workers if s["JOB_EXECUTION_ID"] == manager["JOB_EXECUTION_ID"]]
        expected = sum(int(s["WRITE_COUNT"]) for s in own)
        if int(manager["WRITE_COUNT"]) != expected:
            result.counter_errors.append(
                f"manager of execution {manager['JOB_EXECUTION_ID']}: WRITE_COUNT "
                f"{manager['WRITE_COUNT']}, its workers wrote {expected}"
            )


def _check_only_the_rest(h: Harness, result: RunResult) -> None:
    workers = h.worker_steps()
    done_before = {
        s["STEP_NAME"]
        for s in workers
        if s["JOB_EXECUTION_ID"] == result.execution_id and s["STATUS"] == "COMPLETED"
    }
    rerun = {
        s["STEP_NAME"] for s in workers if s["JOB_EXECUTION_ID"] == result.restart_execution_id
    }
    partitions = {s["STEP_NAME"] for s in workers if s["JOB_EXECUTION_ID"] == result.execution_id}
    again = rerun & done_before
    if again:
        result.restart = f"re-ran {len(again)} completed partition(s): {sorted(again)[:3]}"
    elif rerun | done_before != partitions:
        left = partitions - rerun - done_before
        result.restart = f"left {len(left)} partition(s) out: {sorted(left)[:3]}"
