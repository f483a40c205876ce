"""Many idle nodes on one PostgreSQL at 1 s heartbeats: false evictions, connections, sweep cost.

    python bench/scale.py [--nodes 50] [--processes 4] [--seconds 60] [--runs 3]
    python bench/scale.py --nodes 200                 # the issue's target
    python bench/scale.py --shared                    # on the shared server (fills 100 slots fast)

``--nodes`` worker nodes, spread as evenly as possible over ``--processes`` OS processes
(``_nodes.WorkerProcesses`` with several nodes per process), heartbeat-interval=1000 and every
other setting at its default, run idle for ``--seconds``. By default they run on a private
PostgreSQL server that this script starts (``tests/faults/servers.py``: fsync off, a temporary
folder, ``--max-connections`` slots, default 1000) so that a few hundred connections never
exhaust the shared server's 100; ``--shared`` uses a scratch database on the shared server
instead. Each run gets a fresh database with the schema. While the nodes run, the bench reads
``BATCH_NODES`` every 0.5 s through the library's ``node_list_all`` read (heartbeat ages on the
database clock, as the sweeps see them) and counts ``pg_stat_activity`` rows of the database.

Printed per run (min / median / max over ``--runs``, load average beside):

* nodes registered;
* false evictions: nodes whose row was seen UNREACHABLE, or missing, while their process ran
  (each node counted once);
* heartbeat age p99 and max (ms): over every row of every poll;
* connections: peak ``pg_stat_activity`` sessions on the database (the bench's own excluded),
  and that peak per node;
* ``BATCH_NODES`` rows read per sweep interval across the cluster, measured: the growth of
  ``seq_tup_read + idx_tup_fetch`` of the table in ``pg_stat_user_tables`` over the run, less the
  bench's own polls, scaled to one unreachable-node-thread-interval (the sweep cadence);
* the same, estimated as nodes x nodes: every node reading every node row once per sweep.

Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from _common import Series, load_average, percentile, print_table, scratch
from _nodes import WorkerProcesses

from springbatch_py.cluster import ClusterSettings
from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema

POLL_S = 0.5
HEARTBEAT_MS = 1000


@dataclass
class RunResult:
    """What one run saw."""

    nodes: int = 0
    evicted: set[str] = field(default_factory=set)
    ages_ms: list[float] = field(default_factory=list)
    peak_connections: int = 0
    rows_read: int = 0
    seconds: float = 0.0


def spread(nodes: int, processes: int) -> list[tuple[int, int]]:
    """``(process count, nodes per process)`` groups that put ``nodes`` on ``processes``
    processes as evenly as possible."""
    processes = max(1, min(processes, nodes))
    low, extra = divmod(nodes, processes)
    groups = [(extra, low + 1), (processes - extra, low)]
    return [(count, per) for count, per in groups if count and per]


@contextlib.contextmanager
def shared_scratch() -> Iterator[str]:
    """A scratch database on the shared PostgreSQL, dropped afterwards."""
    with scratch("postgresql") as url:
        if url is None:
            raise SystemExit("scale: needs the local PostgreSQL")
        yield url


@contextlib.contextmanager
def private_server(max_connections: int) -> Iterator[Any]:
    """A private PostgreSQL server, stopped (by its PID) and deleted on exit."""
    from tests.faults.servers import PrivatePostgres

    server = PrivatePostgres(max_connections=max_connections)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def table_reads(connection: sa.Connection) -> int:
    """Rows PostgreSQL has read from BATCH_NODES so far (sequential and index scans)."""
    connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    value = connection.execute(
        sa.text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
            " FROM pg_stat_user_tables WHERE relname = 'batch_nodes'"
        )
    ).scalar()
    return int(value or 0)


def one_run(url: str, nodes: int, processes: int, seconds: float) -> RunResult:
    """Start the nodes on ``url`` (schema created here), watch them for ``seconds``."""
    with Database.open(url) as db:
        create_schema(db)
    result = RunResult()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    settings = [f"heartbeat-interval={HEARTBEAT_MS}"]
    try:
        with ExitStack() as stack, engine.connect() as watch, Database.open(url) as reader:
            groups = [
                stack.enter_context(
                    WorkerProcesses(url, count, nodes=per, settings=settings, timeout=300)
                )
                for count, per in spread(nodes, processes)
            ]
            owner = {
                node: proc
                for group in groups
                for proc, ids in zip(group.procs, _ids_by_process(group), strict=True)
                for node in ids
            }
            result.nodes = len(owner)
            store = SqlClusterStore(reader)
            own_reads = 0
            reads_before = table_reads(watch)
            begin = time.monotonic()
            while time.monotonic() - begin < seconds:
                tick = time.monotonic()
                rows = store.all_nodes()
                own_reads += len(rows)
                seen = {row.node_id: row for row in rows}
                for node, proc in owner.items():
                    if proc.poll() is not None:
                        continue
                    row = seen.get(node)
                    if row is None or row.status != "ACTIVE":
                        result.evicted.add(node)
                    else:
                        result.ages_ms.append(row.heartbeat_age_ms)
                sessions = watch.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
                # less the bench's reader (the watcher's own session is excluded above)
                result.peak_connections = max(result.peak_connections, int(sessions or 0) - 1)
                time.sleep(max(0.0, POLL_S - (time.monotonic() - tick)))
            result.seconds = time.monotonic() - begin
            time.sleep(1.0)  # statistics reach pg_stat_user_tables within a second
            result.rows_read = max(0, table_reads(watch) - reads_before - own_reads)
    finally:
        engine.dispose()
    return result


def _ids_by_process(group: WorkerProcesses) -> list[list[str]]:
    """The node ids of each process of ``group`` (READY lines arrive in process order)."""
    per = group.nodes
    return [group.node_ids[i * per : (i + 1) * per] for i in range(len(group.procs))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50, help="nodes (default 50; target 200)")
    parser.add_argument("--processes", type=int, default=4, help="OS processes (default 4)")
    parser.add_argument("--seconds", type=float, default=60, help="watch time (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--shared", action="store_true", help="use the shared PostgreSQL, not a private server"
    )
    parser.add_argument(
        "--max-connections", type=int, default=1000, help="the private server's slots"
    )
    args = parser.parse_args()

    sweep_ms = ClusterSettings().unreachable_node_thread_interval
    figures = {
        "nodes registered": Series("nodes"),
        "false evictions": Series("nodes"),
        "heartbeat age p99": Series("heartbeat age p99", "ms"),
        "heartbeat age max": Series("heartbeat age max", "ms"),
        "connections, peak": Series("connections"),
        "connections per node, peak": Series("per node"),
        f"BATCH_NODES rows read per {sweep_ms} ms, measured": Series("rows"),
        f"BATCH_NODES rows read per {sweep_ms} ms, estimated N x N": Series("rows"),
    }
    values = list(figures.values())
    with ExitStack() as stack:
        server = None if args.shared else stack.enter_context(private_server(args.max_connections))
        for run in range(args.runs):
            with ExitStack() as per_run:
                if server is None:
                    url = per_run.enter_context(shared_scratch())
                else:
                    url = server.create_database(f"scale_{secrets.token_hex(4)}")
                result = one_run(url, args.nodes, args.processes, args.seconds)
            load = load_average()
            n = result.nodes
            values[0].add(n, load)
            values[1].add(len(result.evicted), load)
            values[2].add(percentile(result.ages_ms, 0.99) if result.ages_ms else math.nan, load)
            values[3].add(max(result.ages_ms, default=math.nan), load)
            values[4].add(result.peak_connections, load)
            values[5].add(result.peak_connections / n if n else math.nan, load)
            values[6].add(result.rows_read * sweep_ms / 1000 / result.seconds, load)
            values[7].add(n * n, load)
            print(
                f"run {run + 1}/{args.runs}: {n} nodes, {len(result.evicted)} evicted, "
                f"peak {result.peak_connections} connections, load {load:.2f}",
                file=sys.stderr,
            )
    where = "shared server" if args.shared else f"private server, {args.max_connections} slots"
    print_table(
        f"PostgreSQL ({where}), {args.nodes} nodes over {args.processes} processes, "
        f"heartbeat-interval={HEARTBEAT_MS}, {args.seconds:.0f} s per run, {args.runs} runs "
        "(min / median / max)",
        ["figure", "value", "load"],
        [
            [name, series.cell(0 if "per node" not in name else 1), series.load_cell()]
            for name, series in figures.items()
        ],
    )


if __name__ == "__main__":
    main()
