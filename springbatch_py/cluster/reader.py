"""Read-only queries for observing a cluster, all on one connection.

:class:`ClusterReader` serves the observability views and metrics
(:mod:`springbatch_py.observe`): the cluster tables through the store's named statements, and
the durations of job and worker step executions through SQLAlchemy Core on the Spring Batch
tables. Every method takes the connection of one short read transaction (:meth:`reading`), so a
page or a scrape sees one state of the database and holds a pooled connection briefly.

Ages (heartbeats) come from the database clock. Durations are differences of two timestamps
that Spring Batch wrote, never "now" on this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from springbatch_py.cluster.store import (
    Coordination,
    NodeRow,
    PartitionCount,
    PartitionTask,
    SqlClusterStore,
)
from springbatch_py.db import transactions
from springbatch_py.db.database import Database, database_now
from springbatch_py.repository.tables import Tables


@dataclass(frozen=True)
class JobDuration:
    """How long an ended job execution ran."""

    job_execution_id: int
    job_name: str
    status: str
    seconds: float


@dataclass(frozen=True)
class PartitionTiming:
    """When a partition's worker step execution was created, started and ended."""

    step_execution_id: int
    status: str
    create_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None

    @property
    def claim_latency(self) -> float | None:
        """Seconds from the partition's creation (its worker step execution's CREATE_TIME,
        written by the master) to its start on a worker (START_TIME, the worker's clock)."""
        if self.create_time is None or self.start_time is None:
            return None
        return max(0.0, (self.start_time - self.create_time).total_seconds())

    @property
    def duration(self) -> float | None:
        """Seconds the worker step ran (None while it runs)."""
        if self.start_time is None or self.end_time is None:
            return None
        return max(0.0, (self.end_time - self.start_time).total_seconds())


class ClusterReader:
    """Read-only access to the cluster and job tables of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.store = SqlClusterStore(db)
        self.tables = Tables(db.dialect)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for one short read transaction (rolled back when done); the current
        transaction's when there is one."""
        # The database must still be the one the cluster shares (a SQLite file may be gone).
        self.db.dialect.require_database(self.db.engine.url)
        # MySQL and MariaDB read from one snapshot (REPEATABLE READ), as does SQLite's read
        # transaction; PostgreSQL is asked for one; Oracle reads each statement's own snapshot.
        with transactions.reading(self.db, one_snapshot=True) as connection:
            yield connection

    def now(self, connection: Connection) -> datetime:
        """The database clock (a naive time of the configured zone); also proves the
        connection works."""
        return database_now(self.db, connection)

    # -- cluster tables ----------------------------------------------------------------------

    def nodes(self, connection: Connection) -> list[NodeRow]:
        """Every node row, with its heartbeat age on the database clock."""
        return self.store.all_nodes(connection=connection)

    def coordinations(self, connection: Connection) -> list[Coordination]:
        """Every coordination row, newest first."""
        return self.store.list_coordinations(connection=connection)

    def coordination(self, connection: Connection, job_execution_id: int) -> Coordination | None:
        """The coordination row of a job execution."""
        return self.store.get_coordination(job_execution_id, connection=connection)

    def partitions(
        self, connection: Connection, master_step_execution_id: int
    ) -> list[PartitionTask]:
        """The partitions of a manager step execution, by step execution id."""
        return self.store.list_partitions(master_step_execution_id, connection=connection)

    def partition_counts(self, connection: Connection) -> list[PartitionCount]:
        """Partitions per job execution and status."""
        return self.store.count_partitions_by_status(connection=connection)

    # -- Spring Batch tables -----------------------------------------------------------------

    def partition_timings(self, connection: Connection, limit: int) -> list[PartitionTiming]:
        """The newest ``limit`` partitions' worker step executions that have started."""
        s, p = self.tables.step_execution, self.tables.partitions
        query = (
            sa.select(
                s.c.step_execution_id, s.c.status, s.c.create_time, s.c.start_time, s.c.end_time
            )
            .join_from(s, p, p.c.step_execution_id == s.c.step_execution_id)
            .where(s.c.start_time.is_not(None))
            .order_by(s.c.step_execution_id.desc())
            .limit(limit)
        )
        return [
            PartitionTiming(
                row.step_execution_id, row.status, row.create_time, row.start_time, row.end_time
            )
            for row in connection.execute(query)
        ]

    def job_durations(self, connection: Connection, limit: int) -> list[JobDuration]:
        """The newest ``limit`` job executions that have ended, with how long they ran."""
        e, i = self.tables.job_execution, self.tables.job_instance
        query = (
            sa.select(e.c.job_execution_id, i.c.job_name, e.c.status, e.c.start_time, e.c.end_time)
            .join_from(e, i, i.c.job_instance_id == e.c.job_instance_id)
            .where(e.c.start_time.is_not(None), e.c.end_time.is_not(None))
            .order_by(e.c.job_execution_id.desc())
            .limit(limit)
        )
        return [
            JobDuration(
                row.job_execution_id,
                row.job_name,
                row.status,
                max(0.0, (row.end_time - row.start_time).total_seconds()),
            )
            for row in connection.execute(query)
        ]
