"""Print what a partition costs in cluster statements, and how long a clustered job takes.

    python bench/cluster_statements.py [URL] [--partitions N] [--items N] [--nodes N]

Runs a partitioned job on N in-process nodes sharing the database (default: a temporary SQLite
file) and prints, per statement name, how many the nodes ran and how many per partition; then
the wall time and partitions per second. Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from springbatch_py.cluster import (
    ClusterSettings,
    FunctionPartitioner,
    Node,
    PartitionStep,
    StepRegistry,
)
from springbatch_py.core.chunk import ChunkStep
from springbatch_py.core.job import Job
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema, drop_schema
from springbatch_py.item import IterableItemReader
from springbatch_py.java.types import Long


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--partitions", type=int, default=60)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="sbpy-bench-")
    url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
    with Database.open(url) as db:
        drop_schema(db)
        create_schema(db)

    def build(execution):  # type: ignore[no-untyped-def]
        context = execution.execution_context
        numbers = range(context.get_long("start"), context.get_long("end"))
        return ChunkStep(
            "work",
            reader=IterableItemReader(numbers, name="n"),
            processor=lambda n: n * n,
            writer=lambda items: None,
            commit_interval=50,
        )

    size = args.items
    partitioner = FunctionPartitioner(
        lambda nodes: [
            {"start": Long(i * size), "end": Long((i + 1) * size)} for i in range(args.partitions)
        ]
    )
    job = Job("bench", [PartitionStep("bench.manager", worker="work", partitioner=partitioner)])
    settings = ClusterSettings(
        node_id_prefix="bench",
        heartbeat_interval=500,
        task_polling_interval=100,
        master_task_status_check_interval=50,
    )
    with ExitStack() as stack:
        nodes = [
            stack.enter_context(Node(url, steps=StepRegistry({"work": build}), settings=settings))
            for _ in range(args.nodes)
        ]
        before = sum((Counter(n.statement_counts()) for n in nodes), Counter())
        started = time.perf_counter()
        execution = nodes[0].launch(job, {"run": str(time.time())})
        elapsed = time.perf_counter() - started
        after = sum((Counter(n.statement_counts()) for n in nodes), Counter())
    used = after - before
    print(
        f"{execution.status.name}: {args.partitions} partitions x {args.items} items on "
        f"{args.nodes} nodes, {url.split('://')[0]}"
    )
    print(f"{'statement':<28} {'total':>7} {'per partition':>14}")
    for name, count in sorted(used.items()):
        print(f"{name:<28} {count:>7} {count / args.partitions:>14.2f}")
    total = sum(used.values())
    print(f"{'all cluster statements':<28} {total:>7} {total / args.partitions:>14.2f}")
    print(
        f"wall time {elapsed:.2f} s, {args.partitions / elapsed:.1f} partitions/s, "
        f"{args.partitions * args.items / elapsed:.0f} items/s"
    )


if __name__ == "__main__":
    main()
