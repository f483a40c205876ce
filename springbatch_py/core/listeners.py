"""Listeners, as Spring Batch's listener interfaces.

A listener is any object with some of these methods; the step or job calls the ones it has:

=============================  =========================================================
job                            ``before_job(job_execution)``, ``after_job(job_execution)``
step                           ``before_step(step_execution)``,
                               ``after_step(step_execution) -> ExitStatus | None``
chunk                          ``before_chunk(context)``, ``after_chunk(context)``,
                               ``after_chunk_error(context)``
read                           ``before_read()``, ``after_read(item)``, ``on_read_error(exc)``
process                        ``before_process(item)``, ``after_process(item, result)``,
                               ``on_process_error(item, exc)``
write                          ``before_write(items)``, ``after_write(items)``,
                               ``on_write_error(exc, items)``
skip                           ``on_skip_in_read(exc)``, ``on_skip_in_process(item, exc)``,
                               ``on_skip_in_write(item, exc)``
=============================  =========================================================

Before-methods run in registration order, after-methods in reverse order, as Java's composite
listeners do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from springbatch_py.core.status import ExitStatus

log = logging.getLogger(__name__)

_REVERSED = {
    "after_job",
    "after_step",
    "after_chunk",
    "after_chunk_error",
    "after_read",
    "after_process",
    "after_write",
}


class Listeners:
    """Calls a method on every listener that has it."""

    def __init__(self, listeners: Iterable[object] = ()) -> None:
        self._listeners = list(listeners)

    def add(self, listener: object) -> None:
        """Register another listener."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def call(self, method: str, *args: Any) -> None:
        """Call ``method`` on each listener that has it (errors propagate)."""
        ordered = reversed(self._listeners) if method in _REVERSED else iter(self._listeners)
        for listener in ordered:
            function = getattr(listener, method, None)
            if function is not None:
                function(*args)

    def after_step(self, step_execution: Any) -> ExitStatus | None:
        """Call ``after_step``; combine the exit statuses the listeners return (Java's ``and``)."""
        result: ExitStatus | None = None
        for listener in reversed(self._listeners):
            function = getattr(listener, "after_step", None)
            if function is None:
                continue
            status = function(step_execution)
            if isinstance(status, ExitStatus):
                result = status if result is None else result.and_(status)
        return result

    def listening_to(self, *methods: str) -> bool:
        """Whether any listener has one of ``methods``."""
        return any(getattr(lst, m, None) is not None for lst in self._listeners for m in methods)
