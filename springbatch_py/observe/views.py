"""Read-only views of a cluster, in the JSON shapes of the Java library's actuator endpoints.

spring-batch-db-cluster-partitioning contributes two health indicators and two actuator
endpoints; :class:`ClusterViews` answers the same questions from the database, with the same
field names, nesting and value formats:

``health()`` -- ``/actuator/health``
    Spring Boot's composite health with ``show-details: always``: ``{"status", "components"}``.
    ``batchCluster`` (``BatchClusterHealthIndicator``) is UP while at least one node row exists;
    its details are strings (``"Total Nodes in Cluster": "2"``). ``batchClusterNode``
    (``BatchClusterNodeHealthIndicator``) is present when the views run inside a node: UP while
    that node's own status is ACTIVE. ``db`` is Spring Boot's DataSource indicator (details:
    ``database``; ``error`` when DOWN). The overall status is the most severe one (DOWN,
    OUT_OF_SERVICE, UP, UNKNOWN), and components are sorted by name, as Spring Boot does.
``nodes()`` -- ``/actuator/batch-cluster``
    ``{"totalNodes": n, "nodes": [{"Node Id", "Host", "Started At", "Status", "Last Heartbeat",
    "Current Load (# of tasks)"}]}``.
``node(id)`` -- ``/actuator/batch-cluster/{nodeId}``
    the node's ``ClusterNodeInfo`` bean: ``nodeId, currentLoad, hostIdentifier,
    lastHeartbeatTime, nodeStatus, startTime``; None (HTTP 404) for an unknown id.
``jobs()`` -- ``/actuator/batch-cluster-jobs``
    ``[{"jobExecutionId", "masterNode", "masterStepName", "coordinationStatus"}]``, newest first.
``job(id)`` -- ``/actuator/batch-cluster-jobs/{jobExecutionId}``
    ``{"jobExecutionId", "masterNode", "coordinationStatus", "partitionCount", "statusCounts",
    "partitions": [{"stepExecutionId", "partitionKey", "assignedNode", "status"}]}``; None for a
    job execution without a coordination row.

Where the Java output depends on Spring Boot's Jackson defaults, these choices were made:

* Actuator endpoints serialize with an isolated mapper that leaves out null values
  (``Include.NON_NULL``, also for map values); so do these views.
* ``java.util.Date`` values (node start and heartbeat times) are written as Jackson writes them
  without timestamps: ISO-8601 in UTC with milliseconds, ``2026-07-10T15:46:19.954Z``, as the
  library's 3.x documentation shows (Spring Boot 4, Jackson 3; Jackson 2 under Spring Boot 3
  writes the same instant as ``...954+00:00``). Stored times are wall-clock times of the
  configured zone (the JVM's zone for Java nodes), converted to the instant they denote.
* The health details use ``Date.toString()``: ``Fri Jul 10 11:46:19 EDT 2026`` in the
  configured zone.
* Records serialize their components in declaration order. ``ClusterNodeInfo`` is a Lombok bean:
  Jackson 3 sorts bean properties alphabetically after creator properties, so ``nodeId`` (its
  constructor argument) comes first, then the others alphabetically.
* Maps built as ``HashMap`` (health details, ``statusCounts``) keep Java's iteration order, which
  follows the keys' ``String.hashCode``; ``/batch-cluster`` entries use ``Map.of``, whose order
  changes with every JVM, and follow the source's order here.
* The Java node list is a cache refreshed every heartbeat interval; these views read the
  database on every call, in one short read transaction.

Differences on purpose: the Java ``batchClusterNode`` reports ``"Current Load": "0"`` always (its
bean's load is never set); here it is the load of the node's row, the figure the cluster sees,
beside the live ``"Current Load (number of live tasks)"``. Start and heartbeat times in that
indicator are those of the node's row (the database clock), and left out while the database
cannot be read. With the database unreachable the Java ``batchCluster`` keeps reporting its
last cached list; here it is DOWN with an ``error`` detail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from springbatch_py.cluster.reader import ClusterReader
from springbatch_py.cluster.store import NodeRow
from springbatch_py.db.database import Database
from springbatch_py.util import one_line

if TYPE_CHECKING:
    from springbatch_py.cluster.node import Node

log = logging.getLogger(__name__)

#: Spring Boot's default status order, most severe first.
STATUS_ORDER: tuple[str, ...] = ("DOWN", "OUT_OF_SERVICE", "UP", "UNKNOWN")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- Java value formats ------------------------------------------------------------------------


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def jackson_date(value: datetime, zone: ZoneInfo) -> str:
    """A ``java.util.Date`` as the actuator's Jackson writes it: ISO-8601, UTC, milliseconds.

    A naive ``value`` is a wall-clock time of ``zone``.
    """
    utc = _aware(value, zone).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def java_date_string(value: datetime, zone: ZoneInfo) -> str:
    """``java.util.Date.toString()`` in ``zone``: ``EEE MMM dd HH:mm:ss zzz yyyy``.

    The zone's abbreviation is Python's (``EDT``, ``CET``, ``UTC``); Java prints ``GMT+03:00``
    where Python prints ``+03`` for zones without one.
    """
    local = _aware(value, zone).astimezone(zone)
    return (
        f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
        f"{local:%H:%M:%S} {local.tzname() or zone.key} {local.year}"
    )


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode()`` (over UTF-16 code units, 32-bit overflow)."""
    h = 0
    for unit in _utf16_units(text):
        h = (31 * h + unit) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def _utf16_units(text: str) -> Iterable[int]:
    data = text.encode("utf-16-be")
    return (int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


def java_hash_map_order(entries: Mapping[str, Any]) -> dict[str, Any]:
    """``entries`` (in insertion order) reordered as a ``java.util.HashMap`` iterates them.

    A HashMap walks its buckets in index order (the spread hash modulo the table size, 16 until
    more than 12 entries) and each bucket in insertion order.
    """
    capacity = 16
    while len(entries) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = java_string_hash(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    order = sorted(enumerate(entries), key=lambda item: (bucket(item[1]), item[0]))
    return {key: entries[key] for _, key in order}


def _without_nulls(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def error_text(exc: BaseException) -> str:
    """An error as Spring Boot's ``Health.down(exception)`` shows it: ``class: message``."""
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}: {one_line(exc)}"


# -- health ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """One health indicator's answer."""

    status: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"status": ..., "details": {...}}`` (no details key when there are none)."""
        body: dict[str, Any] = {"status": self.status}
        if self.details:
            body["details"] = dict(self.details)
        return body


@dataclass(frozen=True)
class HealthReport:
    """The composite health: every component and the aggregated status."""

    components: dict[str, Health]

    @property
    def status(self) -> str:
        """The most severe status of the components (UNKNOWN when there are none)."""
        found = {health.status for health in self.components.values()}
        return next((s for s in STATUS_ORDER if s in found), "UNKNOWN")

    @property
    def http_status(self) -> int:
        """503 for DOWN and OUT_OF_SERVICE, 200 otherwise (Spring Boot's mapping)."""
        return http_status_of(self.status)

    def to_json(self) -> dict[str, Any]:
        """``{"status": ..., "components": {name: {...}}}``, components sorted by name."""
        return {
            "status": self.status,
            "components": {
                name: self.components[name].to_json() for name in sorted(self.components)
            },
        }


def http_status_of(status: str) -> int:
    """The HTTP status Spring Boot answers a health status with."""
    return 503 if status in ("DOWN", "OUT_OF_SERVICE") else 200


# -- the views ---------------------------------------------------------------------------------


class ClusterViews:
    """The actuator views of the cluster in one database.

    Parameters
    ----------
    db:
        The database.
    node:
        A running node of this process; its own status then shows in the health as
        ``batchClusterNode``.
    """

    def __init__(self, db: Database, node: Node | None = None) -> None:
        self.db = db
        self.local_node = node
        self.reader = ClusterReader(db)
        self.zone = db.settings.zone

    def health(self) -> HealthReport:
        """The composite health (never raises: an unreadable database is DOWN)."""
        product = self.db.dialect.product
        rows: list[NodeRow] | None = None
        try:
            with self.reader.reading() as connection:
                self.reader.now(connection)
                rows = self.reader.nodes(connection)
        except Exception as exc:
            log.warning("health: cannot read the cluster: %s", one_line(exc))
            error = error_text(exc)
            components = {
                "db": Health("DOWN", {"database": product, "error": error}),
                "batchCluster": Health("DOWN", {"error": error}),
            }
        else:
            active = sum(1 for row in rows if row.status == "ACTIVE")
            details = java_hash_map_order(
                {"Total Nodes in Cluster": str(len(rows)), "Total Active Nodes": str(active)}
            )
            components = {
                "db": Health("UP", {"database": product}),
                "batchCluster": Health("UP" if rows else "DOWN", details),
            }
        if self.local_node is not None:
            components["batchClusterNode"] = self._node_health(rows)
        return HealthReport(components)

    def _node_health(self, rows: list[NodeRow] | None) -> Health:
        node = self.local_node
        assert node is not None
        row = next((r for r in rows or () if r.node_id == node.node_id), None)
        live = node.worker.load
        details: dict[str, Any] = {
            "Node Id": node.node_id,
            "Current Load (number of live tasks)": str(live),
            "Start Time": self._date_string(row.created_time if row else None),
            "Last Heartbeat Update Time": self._date_string(row.last_updated_time if row else None),
            "Node Status": node.status.value,
            "Current Load": str(row.current_load if row else live),
        }
        status = "UP" if node.status.value == "ACTIVE" else "DOWN"
        return Health(status, java_hash_map_order(_without_nulls(details)))

    def nodes(self) -> dict[str, Any]:
        """``/batch-cluster``: every node row."""
        with self.reader.reading() as connection:
            rows = self.reader.nodes(connection)
        return {
            "totalNodes": len(rows),
            "nodes": [
                _without_nulls(
                    {
                        "Node Id": row.node_id,
                        "Host": row.host_identifier,
                        "Started At": self._date(row.created_time),
                        "Status": row.status,
                        "Last Heartbeat": self._date(row.last_updated_time),
                        "Current Load (# of tasks)": row.current_load,
                    }
                )
                for row in rows
            ],
        }

    def node(self, node_id: str) -> dict[str, Any] | None:
        """``/batch-cluster/{nodeId}``: one node's ``ClusterNodeInfo``, or None."""
        with self.reader.reading() as connection:
            rows = self.reader.nodes(connection)
        row = next((r for r in rows if r.node_id == node_id), None)
        if row is None:
            return None
        return _without_nulls(
            {
                "nodeId": row.node_id,
                "currentLoad": row.current_load,
                "hostIdentifier": row.host_identifier,
                "lastHeartbeatTime": self._date(row.last_updated_time),
                "nodeStatus": row.status,
                "startTime": self._date(row.created_time),
            }
        )

    def jobs(self) -> list[dict[str, Any]]:
        """``/batch-cluster-jobs``: every coordinated job execution, newest first."""
        with self.reader.reading() as connection:
            rows = self.reader.coordinations(connection)
        return [
            _without_nulls(
                {
                    "jobExecutionId": row.job_execution_id,
                    "masterNode": row.master_node_id,
                    "masterStepName": row.master_step_name,
                    "coordinationStatus": row.status,
                }
            )
            for row in rows
        ]

    def job(self, job_execution_id: int) -> dict[str, Any] | None:
        """``/batch-cluster-jobs/{id}``: where a job's partitions are, or None."""
        with self.reader.reading() as connection:
            coordination = self.reader.coordination(connection, job_execution_id)
            if coordination is None:
                return None
            partitions = self.reader.partitions(connection, coordination.master_step_execution_id)
        counts: dict[str, int] = {}
        for partition in partitions:
            status = partition.status or ""
            counts[status] = counts.get(status, 0) + 1
        return _without_nulls(
            {
                "jobExecutionId": job_execution_id,
                "masterNode": coordination.master_node_id,
                "coordinationStatus": coordination.status,
                "partitionCount": len(partitions),
                "statusCounts": java_hash_map_order(counts),
                "partitions": [
                    _without_nulls(
                        {
                            "stepExecutionId": p.step_execution_id,
                            "partitionKey": p.partition_key,
                            "assignedNode": p.assigned_node,
                            "status": p.status,
                        }
                    )
                    for p in partitions
                ],
            }
        )

    def _date(self, value: datetime | None) -> str | None:
        return None if value is None else jackson_date(value, self.zone)

    def _date_string(self, value: datetime | None) -> str | None:
        return None if value is None else java_date_string(value, self.zone)
