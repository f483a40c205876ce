"""The faults, and :func:`run_scenario`, which runs one of them end to end.

Every scenario injects its fault once part of the job's items is committed (a share drawn from
the run's seed), then the run waits, bounded, for the job to end and judges the database
(:mod:`tests.faults.checker`). Fault times and victims come from the seed, so a run repeats.

=====================  ======================================================================
``worker-kill``        ``kill -9`` of one or two random workers, replacements started at once
``worker-freeze``      ``SIGSTOP`` of a random worker until it was evicted, then ``SIGCONT``
``worker-fence``       a worker frozen inside the fence window (partition row updated and
                       locked, chunk not committed) and another killed: every partition
                       but the locked one must end while it is frozen; then ``SIGCONT``
``master-kill``        ``kill -9`` of the ``launch`` process (the job's master)
``master-freeze``      ``SIGSTOP`` of ``launch`` until it was evicted, then ``SIGCONT``
``launch-sigint``      Ctrl-C (``SIGINT``) to ``launch``
``launch-sigterm``     ``SIGTERM`` to ``launch``
``db-restart``         the database server stopped (fast shutdown) and started again
``db-stall-short``     every server process ``SIGSTOP``-ed for half the unreachable threshold
``db-stall-long``      the same for longer than the cleanup threshold
``cpu-load``           busy-loop processes (twice the CPUs) for 20 s, with tight thresholds
=====================  ======================================================================

On SQLite there is no server: a stall is another connection holding the write lock
(``BEGIN EXCLUSIVE``) for as long, and ``db-restart`` does not apply.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.faults.checker import RunResult, judge
from tests.faults.harness import (
    Harness,
    JobSize,
    Proc,
    Timings,
    busy_loops,
    timings_for,
    wait_for,
)
from tests.faults.servers import Server

#: After the job is terminal, how long ``launch`` may take to exit.
EXIT_GRACE = 30.0


@dataclass(frozen=True)
class Scenario:
    """A fault: what it does, where it applies, which thresholds it runs with."""

    name: str
    inject: Callable[[Harness], float]
    description: str
    tight: bool = False
    sqlite: bool = True
    #: the launch process is expected to be dead after the fault
    kills_master: bool = False
    #: statuses the first execution may end with (empty: any terminal one, then a restart)
    expect: tuple[str, ...] = ()


# -- helpers ---------------------------------------------------------------------------------


def _node_gone(h: Harness, proc: Proc) -> bool:
    return not any(n.startswith(f"{proc.label}-") for n in h.live_nodes())


def _hold_until_evicted(h: Harness, proc: Proc) -> None:
    """Keep ``proc`` stopped until its node row is removed (bounded), a little longer, then
    let it go on."""
    limit = (h.timings.cleanup + 2 * h.timings.unreachable) / 1000 + 20
    with contextlib.suppress(AssertionError):
        wait_for(lambda: _node_gone(h, proc), limit, f"{proc.label} to be evicted", 0.2)
    time.sleep(h.timings.heartbeat / 1000 * 2)
    proc.signal(signal.SIGCONT)


def _stall(h: Harness, seconds: float) -> None:
    if h.server.engine == "sqlite":
        # One writer at a time: holding the write lock stalls every other writer.
        path = h.url.split("sqlite:///", 1)[1]
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            connection.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    h.server.freeze()
    try:
        time.sleep(seconds)
    finally:
        h.server.thaw()


# -- the faults (each returns the monotonic time of the fault) -------------------------------


def worker_kill(h: Harness) -> float:
    victims = h.rng.sample(h.workers, h.rng.choice([1, 2]))
    at = time.monotonic()
    for victim in victims:
        victim.signal(signal.SIGKILL)
    for victim in victims:
        victim.popen.wait(10)
    for _ in victims:
        h.spawn_worker(wait=False)
    return at


def worker_freeze(h: Harness) -> float:
    victim = h.rng.choice(h.workers)
    at = time.monotonic()
    victim.signal(signal.SIGSTOP)
    _hold_until_evicted(h, victim)
    return at


def worker_fence(h: Harness) -> float:
    """Freeze a worker inside the fence window; on servers with row locks, also kill another
    worker: its partitions must move while the frozen one's row stays locked."""
    alive = [w for w in h.workers if w.alive()]
    victim = h.rng.choice(alive)
    inside = h.signals / f"fence-in-{victim.label}"
    (h.signals / f"fence-arm-{victim.label}").write_text("")
    try:
        wait_for(inside.exists, 30, f"{victim.label} to enter the fence window", 0.01)
    except AssertionError:
        # The worker ran out of chunks: freeze it anyway (a plain freeze).
        h.notes.append(f"{victim.label} never entered the fence window: frozen outside it")
    at = time.monotonic()
    victim.signal(signal.SIGSTOP)
    if h.server.engine == "sqlite":
        # The frozen chunk holds the database's only write lock: nobody can evict the node,
        # every writer waits. A stall of a known length, then.
        time.sleep((h.timings.cleanup + h.timings.unreachable) / 1000 + 1.0)
        victim.signal(signal.SIGCONT)
        return at
    # Every partition the victim held CLAIMED may be row-locked by a chunk frozen between its
    # fence and its commit (its partitions run in step, so often more than one); all the
    # others must end meanwhile.
    locked = h.claimed_by(victim.label)
    others = [w for w in alive if w is not victim]
    if others:
        other = h.rng.choice(others)
        other.signal(signal.SIGKILL)
        other.popen.wait(10)
        h.spawn_worker(wait=False)
    # Shorter than MariaDB's default lock wait (50 s): a reassign that waits on a locked row
    # until then holds up the others.
    limit = (h.timings.cleanup + 2 * h.timings.unreachable) / 1000 + 20
    try:
        wait_for(
            lambda: h.open_partition_ids() <= locked, limit, "the partitions not locked to end", 0.2
        )
    except AssertionError:
        h.stuck.append(
            f"{len(h.open_partition_ids() - locked)} partition(s) not held by {victim.label} "
            f"still open {limit:.0f}s after it froze inside the fence window (a locked row "
            "blocks the others)"
        )
    victim.signal(signal.SIGCONT)
    return at


def master_kill(h: Harness) -> float:
    assert h.master is not None
    at = time.monotonic()
    h.master.signal(signal.SIGKILL)
    h.master.popen.wait(10)
    return at


def master_freeze(h: Harness) -> float:
    assert h.master is not None
    at = time.monotonic()
    h.master.signal(signal.SIGSTOP)
    _hold_until_evicted(h, h.master)
    return at


def launch_sigint(h: Harness) -> float:
    assert h.master is not None
    at = time.monotonic()
    h.master.signal(signal.SIGINT)
    return at


def launch_sigterm(h: Harness) -> float:
    assert h.master is not None
    at = time.monotonic()
    h.master.signal(signal.SIGTERM)
    return at


def db_restart(h: Harness) -> float:
    at = time.monotonic()
    h.server.restart(pause=1.0)
    return at


def db_stall_short(h: Harness) -> float:
    at = time.monotonic()
    _stall(h, h.timings.unreachable / 1000 / 2)
    return at


def db_stall_long(h: Harness) -> float:
    at = time.monotonic()
    _stall(h, (h.timings.cleanup + h.timings.unreachable) / 1000 + 1.0)
    return at


def cpu_load(h: Harness) -> float:
    at = time.monotonic()
    h.load_processes = busy_loops(2 * (os.cpu_count() or 2), 20.0)
    return at


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("worker-kill", worker_kill, "kill -9 of 1-2 random workers, replaced"),
        Scenario("worker-freeze", worker_freeze, "SIGSTOP of a worker past eviction, SIGCONT"),
        Scenario("worker-fence", worker_fence, "a worker frozen between fence and commit"),
        Scenario("master-kill", master_kill, "kill -9 of launch", kills_master=True),
        Scenario("master-freeze", master_freeze, "SIGSTOP of launch past eviction, SIGCONT"),
        # A master asked to stop stops its job (restartable) before it leaves.
        Scenario(
            "launch-sigint", launch_sigint, "Ctrl-C of launch", expect=("STOPPED", "COMPLETED")
        ),
        Scenario(
            "launch-sigterm", launch_sigterm, "SIGTERM of launch", expect=("STOPPED", "COMPLETED")
        ),
        Scenario("db-restart", db_restart, "database restart mid-job", sqlite=False),
        Scenario("db-stall-short", db_stall_short, "database stalled < unreachable threshold"),
        Scenario("db-stall-long", db_stall_long, "database stalled > cleanup threshold"),
        Scenario("cpu-load", cpu_load, "busy loops on every CPU, tight thresholds", tight=True),
    )
}


def not_applicable(scenario: Scenario, engine: str) -> str | None:
    """Why ``scenario`` does not apply to ``engine``, or None."""
    if engine == "sqlite" and not scenario.sqlite:
        return "SQLite has no server to restart"
    return None


# -- one run ---------------------------------------------------------------------------------


def run_scenario(
    server: Server,
    scenario: Scenario,
    *,
    seed: int,
    size: JobSize | None = None,
    bound: float = 120.0,
    workers: int = 3,
    folder: Path | None = None,
) -> RunResult:
    """Run ``scenario`` once on a fresh database of ``server`` and judge it.

    ``bound`` is the promise under test: the job execution is terminal at most ``bound``
    seconds after the fault, and so is a restart after it is launched.
    """
    rng = random.Random(f"{scenario.name}:{server.engine}:{seed}")
    size = size or JobSize()
    timings: Timings = timings_for(server.engine, tight=scenario.tight)
    own_folder = folder is None
    folder = folder or Path(tempfile.mkdtemp(prefix=f"faults-{scenario.name}-"))
    started = time.monotonic()
    h = Harness(
        server,
        folder,
        size=size,
        timings=timings,
        workers=workers,
        rng=rng,
        extra_env={"FAULTS_FENCE_PAUSE_MS": "3000"},
    )
    result = RunResult(scenario.name, server.engine, seed, size.total)
    try:
        h.start()
        share = rng.uniform(0.15, 0.4)
        try:
            h.wait_committed(int(size.total * share), bound)
        except AssertionError:
            result.notes.append(f"before the fault: {h.master.tail(800) if h.master else ''}")
            raise
        fault_at = scenario.inject(h)
        _wait_for_the_job(h, scenario, result, fault_at, bound)
    except Exception as exc:
        result.hung.append(f"harness: {type(exc).__name__}: {exc}")
    finally:
        try:
            judge(h, result)
        except Exception as exc:
            result.notes.append(f"judging failed: {type(exc).__name__}: {exc}")
        h.close()
        result.notes += h.notes
        result.hung += h.stuck
        result.elapsed = time.monotonic() - started
        result.load = os.getloadavg()[0]
        result.folder = str(folder)
    if own_folder and result.ok:
        shutil.rmtree(folder, ignore_errors=True)  # the logs are kept for broken promises only
    return result


def _wait_for_the_job(
    h: Harness, scenario: Scenario, result: RunResult, fault_at: float, bound: float
) -> None:
    execution_id = wait_for(h.first_execution, 30, "the job execution")
    result.execution_id = execution_id
    remaining = max(5.0, fault_at + bound - time.monotonic())
    status = h.wait_terminal(execution_id, remaining)
    if status is None:
        result.restart = "not attempted: the job never ended"
        result.hung.append(
            f"job execution {execution_id} not terminal {bound:.0f}s after the fault"
        )
        return
    result.status = status
    if scenario.expect and status not in scenario.expect:
        result.unexpected = f"job {status}, expected {' or '.join(scenario.expect)}"
    result.recovery_s = h.monitor.terminal_at.get(execution_id, time.monotonic()) - fault_at
    master = h.master
    assert master is not None
    if not scenario.kills_master:
        try:
            master.popen.wait(EXIT_GRACE)
        except subprocess.TimeoutExpired:
            result.hung.append(
                f"launch still running {EXIT_GRACE:.0f}s after the job became {status}"
            )
            master.signal(signal.SIGCONT)
            master.signal(signal.SIGKILL)
            master.popen.wait(10)
    if status == "COMPLETED":
        return
    if not h.wait_steps_settled(execution_id, bound):
        result.hung.append(f"steps of the {status} job execution still running after {bound:.0f}s")
    if status not in ("FAILED", "STOPPED"):
        result.restart = f"not restartable: {status}"
        return
    code, proc = h.restart(execution_id, bound)
    if code is None:
        result.hung.append(f"restart did not end in {bound:.0f}s")
        result.restart = "hung"
        return
    executions = h.job_executions()
    restarted = [(i, s) for i, s in executions if i > execution_id]
    if code != 0 or not restarted or restarted[-1][1] != "COMPLETED":
        result.restart = f"failed (exit {code}, executions {executions}): " + proc.tail(
            400
        ).strip().replace("\n", " | ")
        return
    result.restart_execution_id = restarted[-1][0]
    result.restart = "ok"
