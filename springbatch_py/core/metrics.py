"""The sink the core and the cluster layer report their work to, with a no-op default.

The core never imports a metrics library: a step reports each committed chunk to
:func:`current`, which is :data:`NO_METRICS` unless the code running the step installed a sink
with :func:`using` (the cluster worker installs its node's sink around each partition it runs).
:mod:`springbatch_py.observe.metrics` provides the Prometheus implementation.

The sink in effect is a context variable, so each thread (each partition's pool thread) sees the
sink its own runner installed; implementations must be safe to call from any thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Metrics:
    """Receives the counts of a node's work; every method does nothing here (the default)."""

    def chunk_committed(self, step_name: str, read: int, written: int) -> None:
        """A chunk of ``step_name`` committed, having read and written that many items."""

    def partition_claimed(self, seconds: float) -> None:
        """This node claimed a partition; the claim's compare-and-set took ``seconds``."""

    def partition_ended(self, status: str) -> None:
        """A partition this node ran was recorded as ``status`` (COMPLETED or FAILED)."""

    def heartbeat(self, lag: float, round_trip: float) -> None:
        """A heartbeat ran ``lag`` seconds after it was due and took ``round_trip`` seconds."""


#: The sink that records nothing.
NO_METRICS = Metrics()

_current: ContextVar[Metrics] = ContextVar("springbatch_metrics", default=NO_METRICS)


def current() -> Metrics:
    """The sink in effect in this context."""
    return _current.get()


@contextmanager
def using(sink: Metrics) -> Iterator[Metrics]:
    """Make ``sink`` the one in effect for the code run inside the block."""
    token = _current.set(sink)
    try:
        yield sink
    finally:
        _current.reset(token)
