"""The three state machines of the cluster tables, as springbatch-py runs them.

The protocol is spring-batch-db-cluster-partitioning's; "CAS" marks a transition that
springbatch-py makes as a compare-and-set (the statement names the state the row must still be
in, and the caller checks that exactly one row moved) where the Java library may not.

The tables are :data:`NODE`, :data:`COORDINATION` and :data:`PARTITION`, rendered here (a unit
test keeps them in step). Each :class:`~springbatch_py.cluster.store.ClusterStore` checks each
transition it is asked for against them before any SQL runs (:class:`IllegalTransitionError`),
and a compare-and-set that moves more than one row raises instead of counting as won.

Node (``BATCH_NODES.STATUS``; a missing row is the third state)
----------------------------------------------------------------

===========  ===========  ===============  =========================================================
from         to           by               when
===========  ===========  ===============  =========================================================
(none)       ACTIVE       the node         start-up; again after it finds its row gone
ACTIVE       UNREACHABLE  any node, sweep  heartbeat older than unreachable-node-threshold
UNREACHABLE  ACTIVE       the node         its next heartbeat (every heartbeat-interval)
UNREACHABLE  (none)       any node, sweep  heartbeat older than node-cleanup-threshold
ACTIVE       (none)       the node         graceful shutdown, after draining
===========  ===========  ===============  =========================================================

A node's own view: ACTIVE after a successful heartbeat; UNREACHABLE after a failed one (it
claims nothing then) or when it finds its row gone (it stops its running partitions, waits for
them, registers again, and takes back the partitions it left CLAIMED).

Coordination (``BATCH_JOB_COORDINATION.STATUS``, one row per job execution)
---------------------------------------------------------------------------

==================  ==========  ======================  ============================================
from                to          by                      when
==================  ==========  ======================  ============================================
(none)              CREATED     the master              after splitting the step
CREATED             STARTED     the master (CAS)        after inserting the partitions
STARTED             COMPLETED   the master (CAS)        no partition PENDING or CLAIMED; a master
                                                        whose job was taken over finds 0 rows and
                                                        fails instead of overwriting (Java: no
                                                        guard)
STARTED/RECOVERING  RECOVERING  a surviving node (CAS)  the master's node row is gone; the row's
                                                        master becomes the survivor
RECOVERING          ABANDONED   that survivor (CAS)     after failing the job execution and its
                                                        unfinished steps (restartable); until then
                                                        the row stays RECOVERING and the survivor's
                                                        next scans retry
==================  ==========  ======================  ============================================

Workers only pick up partitions of STARTED rows. A row left CREATED (the master died before
starting) is never recovered, as in Java; its job execution stays as it was.

Partition (``BATCH_PARTITIONS.status``, one row per worker step execution)
--------------------------------------------------------------------------

===============  ==========  =========================  ============================================
from             to          by                         when
===============  ==========  =========================  ============================================
(none)           PENDING     the master                 with its assigned node
PENDING          CLAIMED     the assigned node (CAS)    it has a free slot; a claim that moves no
                                                        row is not run (Java runs it)
CLAIMED          COMPLETED   the assigned node (CAS)    its step ended and did not fail
CLAIMED          FAILED      the assigned node (CAS)    its step FAILED (or ended UNKNOWN), or its
                                                        step is not registered there
CLAIMED          PENDING     the assigned node (CAS)    it stopped the partition when it lost its
                                                        heartbeat and is back
CLAIMED          PENDING     the assigned node (CAS)    its step is not registered there and the
                 + new node                             partition is transferable: to another ACTIVE
                                                        node it has not tried
PENDING/CLAIMED  PENDING     the master (CAS)           orphan (node row gone, silent for
                 + new node                             node-cleanup-threshold), transferable
PENDING/CLAIMED  FAILED      the master (CAS)           orphan, not transferable; its step execution
                                                        is failed too
PENDING/CLAIMED  FAILED      a lost master's recoverer  before it fails the job: fences the workers
                                                        (no chunk commits after it)
PENDING          FAILED      the master (CAS)           its job is stopping: never claimed, its step
                                                        execution ends STOPPED
===============  ==========  =========================  ============================================

A running partition refreshes ``last_updated`` every heartbeat-interval, and every write of its
step (each chunk commit, the final saves) first refreshes the row in the same transaction as a
compare-and-set on (node, CLAIMED). So a node that was frozen, evicted and replaced commits
nothing for a partition that moved, and a reassignment waits for a chunk that is committing.
"""

from __future__ import annotations

import enum
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from springbatch_py.errors import SpringBatchError


class NodeStatus(enum.StrEnum):
    """A node's status: its row's ``BATCH_NODES.STATUS``, and its own view of itself (Java's
    ``NodeStatus``)."""

    ACTIVE = "ACTIVE"
    UNREACHABLE = "UNREACHABLE"


class CoordinationStatus(enum.StrEnum):
    """``BATCH_JOB_COORDINATION.STATUS`` (Java's ``CoordinationStatus``)."""

    CREATED = "CREATED"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    RECOVERING = "RECOVERING"
    ABANDONED = "ABANDONED"


class PartitionStatus(enum.StrEnum):
    """``BATCH_PARTITIONS.status`` (Java's ``PartitionStatus``; the DDL's CHECK lists them)."""

    PENDING = "PENDING"
    CLAIMED = "CLAIMED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


S = TypeVar("S", NodeStatus, CoordinationStatus, PartitionStatus)

#: How the tables spell "no row" (before an insert, after a delete).
NO_ROW = "(none)"


class IllegalTransitionError(SpringBatchError):
    """A status change that the state machine does not have was asked for (raised before any
    SQL runs)."""


@dataclass(frozen=True)
class Transition(Generic[S]):
    """One row of a state machine's table."""

    #: The statuses the row may be in; None: there is no row yet.
    sources: tuple[S | None, ...]
    #: The status it moves to; None: the row is deleted.
    target: S | None
    #: Who makes the transition.
    by: str
    #: When, and what else holds.
    when: str
    #: Made as a compare-and-set by springbatch-py (where the Java library may not).
    cas: bool = False
    #: What else the transition changes, shown under the target.
    also: str = ""


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """The statuses of one cluster table's rows and the transitions between them."""

    title: str
    statuses: type[S]
    transitions: tuple[Transition[S], ...]

    def status(self, value: str | S) -> S:
        """``value`` as a status of this machine; raises for any other string."""
        try:
            return self.statuses(value)
        except ValueError:
            raise IllegalTransitionError(
                f"{value!r} is no {self.title.lower()} status; one of "
                + ", ".join(s.value for s in self.statuses)
            ) from None

    def allows(self, source: str | S | None, target: str | S | None) -> bool:
        """Whether the table has a transition from ``source`` to ``target`` (None: no row)."""
        frm = None if source is None else self.status(source)
        to = None if target is None else self.status(target)
        return any(frm in t.sources and to == t.target for t in self.transitions)

    def check(self, sources: Iterable[str | S | None], target: str | S | None) -> None:
        """Raise :class:`IllegalTransitionError` unless every one of ``sources`` may move to
        ``target``."""
        for source in sources:
            if not self.allows(source, target):
                raise IllegalTransitionError(
                    f"{self.title.lower()} status cannot move from {_name(source)} to "
                    f"{_name(target)}: see springbatch_py.cluster.states"
                )


def _name(status: str | None) -> str:
    return NO_ROW if status is None else str(status)


N, C, P = NodeStatus, CoordinationStatus, PartitionStatus

NODE: StateMachine[NodeStatus] = StateMachine(
    "Node",
    NodeStatus,
    (
        Transition((None,), N.ACTIVE, "the node", "start-up; again after it finds its row gone"),
        Transition(
            (N.ACTIVE,),
            N.UNREACHABLE,
            "any node, sweep",
            "heartbeat older than unreachable-node-threshold",
        ),
        Transition(
            (N.UNREACHABLE,),
            N.ACTIVE,
            "the node",
            "its next heartbeat (every heartbeat-interval)",
        ),
        Transition(
            (N.UNREACHABLE,), None, "any node, sweep", "heartbeat older than node-cleanup-threshold"
        ),
        Transition((N.ACTIVE,), None, "the node", "graceful shutdown, after draining"),
    ),
)

COORDINATION: StateMachine[CoordinationStatus] = StateMachine(
    "Coordination",
    CoordinationStatus,
    (
        Transition((None,), C.CREATED, "the master", "after splitting the step"),
        Transition((C.CREATED,), C.STARTED, "the master", "after inserting the partitions", True),
        Transition(
            (C.STARTED,),
            C.COMPLETED,
            "the master",
            "no partition PENDING or CLAIMED; a master whose job was taken over finds 0 rows and "
            "fails instead of overwriting (Java: no guard)",
            True,
        ),
        Transition(
            (C.STARTED, C.RECOVERING),
            C.RECOVERING,
            "a surviving node",
            "the master's node row is gone; the row's master becomes the survivor",
            True,
        ),
        Transition(
            (C.RECOVERING,),
            C.ABANDONED,
            "that survivor",
            "after failing the job execution and its unfinished steps (restartable); until then "
            "the row stays RECOVERING and the survivor's next scans retry",
            True,
        ),
    ),
)

PARTITION: StateMachine[PartitionStatus] = StateMachine(
    "Partition",
    PartitionStatus,
    (
        Transition((None,), P.PENDING, "the master", "with its assigned node"),
        Transition(
            (P.PENDING,),
            P.CLAIMED,
            "the assigned node",
            "it has a free slot; a claim that moves no row is not run (Java runs it)",
            True,
        ),
        Transition(
            (P.CLAIMED,), P.COMPLETED, "the assigned node", "its step ended and did not fail", True
        ),
        Transition(
            (P.CLAIMED,),
            P.FAILED,
            "the assigned node",
            "its step FAILED (or ended UNKNOWN), or its step is not registered there",
            True,
        ),
        Transition(
            (P.CLAIMED,),
            P.PENDING,
            "the assigned node",
            "it stopped the partition when it lost its heartbeat and is back",
            True,
        ),
        Transition(
            (P.CLAIMED,),
            P.PENDING,
            "the assigned node",
            "its step is not registered there and the partition is transferable: to another "
            "ACTIVE node it has not tried",
            True,
            also="+ new node",
        ),
        Transition(
            (P.PENDING, P.CLAIMED),
            P.PENDING,
            "the master",
            "orphan (node row gone, silent for node-cleanup-threshold), transferable",
            True,
            also="+ new node",
        ),
        Transition(
            (P.PENDING, P.CLAIMED),
            P.FAILED,
            "the master",
            "orphan, not transferable; its step execution is failed too",
            True,
        ),
        Transition(
            (P.PENDING, P.CLAIMED),
            P.FAILED,
            "a lost master's recoverer",
            "before it fails the job: fences the workers (no chunk commits after it)",
        ),
        Transition(
            (P.PENDING,),
            P.FAILED,
            "the master",
            "its job is stopping: never claimed, its step execution ends STOPPED",
            True,
        ),
    ),
)

#: The three machines, in the order the module docstring shows them.
MACHINES: tuple[StateMachine[Any], ...] = (NODE, COORDINATION, PARTITION)

#: The widest line of a rendered table (the project's line length).
TABLE_WIDTH = 100


def render_table(machine: StateMachine[S]) -> str:
    """``machine``'s transitions as the reStructuredText table of the module docstring."""
    rows = []
    for t in machine.transitions:
        frm = "/".join(_name(s) for s in t.sources)
        to = [_name(t.target)] + ([t.also] if t.also else [])
        rows.append((frm, to, t.by + (" (CAS)" if t.cas else ""), t.when))
    widths = [
        max(len("from"), *(len(r[0]) for r in rows)),
        max(len("to"), *(len(line) for r in rows for line in r[1])),
        max(len("by"), *(len(r[2]) for r in rows)),
    ]
    when_width = TABLE_WIDTH - sum(widths) - 2 * len(widths)
    widths.append(when_width)
    rule = "  ".join("=" * w for w in widths)

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [rule, line(["from", "to", "by", "when"]), rule]
    for frm, to, by, when in rows:
        wrapped = textwrap.wrap(when, when_width, break_on_hyphens=False)
        for i in range(max(len(to), len(wrapped))):
            out.append(
                line(
                    [
                        frm if i == 0 else "",
                        to[i] if i < len(to) else "",
                        by if i == 0 else "",
                        wrapped[i] if i < len(wrapped) else "",
                    ]
                )
            )
    out.append(rule)
    return "\n".join(out)


_RULE = r"=+(?:  =+)*"
#: A table: top rule, heading, rule, rows, bottom rule.
_TABLE = re.compile(rf"^{_RULE}\n.*\n{_RULE}\n(?:.*\n)*?{_RULE}$", re.MULTILINE)


def render_docstring(doc: str) -> str:
    """``doc`` with its tables replaced, in order, by the rendered tables of :data:`MACHINES`."""
    tables = iter(MACHINES)

    def table(_match: re.Match[str]) -> str:
        return render_table(next(tables))

    return _TABLE.sub(table, doc, count=len(MACHINES))
