"""What the parts of a running node share: its id, settings, store, repository and status."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from springbatch_py.cluster.partitioner import ClusterError
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.store import ClusterStore
from springbatch_py.repository.jobs import JobRepository


class NodeStatus(enum.Enum):
    """A node's own view of itself (Java's ``NodeStatus``)."""

    ACTIVE = "ACTIVE"
    UNREACHABLE = "UNREACHABLE"


@dataclass
class ClusterRuntime:
    """A running node, as its master, worker and recovery parts see it."""

    node_id: str
    settings: ClusterSettings
    store: ClusterStore
    repository: JobRepository
    wake_worker: Callable[[], None] = lambda: None
    load: Callable[[], int] = lambda: 0
    #: Whether this node has a worker step of that name (a master that lacks it takes no share).
    can_run: Callable[[str], bool] = lambda step_name: True
    status: NodeStatus = NodeStatus.ACTIVE
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def active(self) -> bool:
        """Whether the node's last heartbeat succeeded."""
        return self.status is NodeStatus.ACTIVE

    def seconds(self, milliseconds: int) -> float:
        """A setting in milliseconds, as seconds."""
        return milliseconds / 1000.0


_current: ContextVar[ClusterRuntime | None] = ContextVar("springbatch_cluster", default=None)


@contextmanager
def running_on(runtime: ClusterRuntime) -> Iterator[ClusterRuntime]:
    """Make ``runtime`` the node that partitioned steps in this context run on."""
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)


def current_runtime() -> ClusterRuntime:
    """The node this context runs on (a partitioned step needs one)."""
    runtime = _current.get()
    if runtime is None:
        raise ClusterError(
            "a cluster-partitioned step runs on a node: launch its job with node.launch(...)"
        )
    return runtime
