"""A cluster node as an OS process, for the cluster tests.

    python -m tests.cluster.node_main URL READY_FILE [JOB_SPEC_JSON]

Writes the node id to READY_FILE once registered. With a job spec it launches the job as its
master and exits with 0 when the job COMPLETED, 1 otherwise; without one it works until SIGTERM.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from springbatch_py.cluster import ClusterSettings, Node
from springbatch_py.db.database import Database
from tests.cluster.app import JobSpec, make_job, make_registry, settings_for


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s",
    )
    url, ready = argv[0], Path(argv[1])
    spec = JobSpec.from_json(argv[2]) if len(argv) > 2 else None
    node_id: list[str] = [""]
    db = Database.open(url, pool_size=12, max_overflow=12)
    # SPRING_BATCH_CLUSTER_* variables adjust the test settings per process.
    settings = ClusterSettings.load(base=settings_for(db.dialect))
    node = Node(db, steps=make_registry(db, node_id), settings=settings)
    node_id[0] = node.node_id
    node.start()
    ready.write_text(node.node_id)
    if spec is None:
        node.run_forever()
        return 0
    execution = node.launch(make_job(spec), spec.parameters())
    print(f"{execution.id} {execution.status.name}", flush=True)
    node.stop()
    return 0 if execution.status.name == "COMPLETED" else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
