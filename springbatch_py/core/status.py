"""``BatchStatus`` and ``ExitStatus``, with Java's ordering and combination rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar


class BatchStatus(enum.Enum):
    """The status of a job or step execution, stored by name in ``STATUS``.

    Declared in Java's ordinal order, which :meth:`max` and :meth:`upgrade_to` use.
    """

    COMPLETED = "COMPLETED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"
    UNKNOWN = "UNKNOWN"

    @property
    def ordinal(self) -> int:
        """Java's ordinal."""
        return _ORDER.index(self)

    def __lt__(self, other: BatchStatus) -> bool:
        return self.ordinal < other.ordinal

    def __le__(self, other: BatchStatus) -> bool:
        return self.ordinal <= other.ordinal

    def __gt__(self, other: BatchStatus) -> bool:
        return self.ordinal > other.ordinal

    def __ge__(self, other: BatchStatus) -> bool:
        return self.ordinal >= other.ordinal

    @property
    def is_running(self) -> bool:
        """STARTING, STARTED or STOPPING."""
        return self in (BatchStatus.STARTING, BatchStatus.STARTED, BatchStatus.STOPPING)

    @property
    def is_unsuccessful(self) -> bool:
        """FAILED or worse."""
        return self >= BatchStatus.FAILED

    @staticmethod
    def max(a: BatchStatus, b: BatchStatus) -> BatchStatus:
        """The greater of two statuses in Java's order."""
        return a if a >= b else b

    def upgrade_to(self, other: BatchStatus) -> BatchStatus:
        """Java's ``upgradeTo``: past STARTED the greater wins; below it COMPLETED wins."""
        if self > BatchStatus.STARTED or other > BatchStatus.STARTED:
            return BatchStatus.max(self, other)
        if BatchStatus.COMPLETED in (self, other):
            return BatchStatus.COMPLETED
        return BatchStatus.max(self, other)

    @classmethod
    def parse(cls, text: str | None) -> BatchStatus | None:
        """Read a stored status; anything but a constant name is an error (as Java's valueOf)."""
        if text is None:
            return None
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"not a BatchStatus: {text!r}") from None


_ORDER = list(BatchStatus)

_SEVERITY = {"EXECUTING": 1, "COMPLETED": 2, "NOOP": 3, "STOPPED": 4, "FAILED": 5, "UNKNOWN": 6}


@dataclass(frozen=True)
class ExitStatus:
    """An exit code and description, stored in ``EXIT_CODE`` and ``EXIT_MESSAGE``."""

    exit_code: str
    exit_description: str = ""

    UNKNOWN: ClassVar[ExitStatus]
    EXECUTING: ClassVar[ExitStatus]
    COMPLETED: ClassVar[ExitStatus]
    NOOP: ClassVar[ExitStatus]
    FAILED: ClassVar[ExitStatus]
    STOPPED: ClassVar[ExitStatus]

    @property
    def severity(self) -> int:
        """Java's severity: by code prefix; 7 for custom codes."""
        for code, level in _SEVERITY.items():
            if self.exit_code.startswith(code):
                return level
        return 7

    def and_(self, other: ExitStatus | None) -> ExitStatus:
        """Java's ``and``: the more severe code wins (ties by string order); descriptions join."""
        if other is None:
            return self
        mine, theirs = (self.severity, self.exit_code), (other.severity, other.exit_code)
        code = self.exit_code if mine > theirs else other.exit_code
        return ExitStatus(code, _join(self.exit_description, other.exit_description))

    def add_exit_description(self, description: str | BaseException) -> ExitStatus:
        """A copy with ``description`` appended (an exception becomes its traceback)."""
        if isinstance(description, BaseException):
            import traceback

            description = "".join(traceback.format_exception(description)).rstrip()
        return ExitStatus(self.exit_code, _join(self.exit_description, description))

    def replace_exit_code(self, code: str) -> ExitStatus:
        """A copy with another code."""
        return ExitStatus(code, self.exit_description)

    @property
    def is_running(self) -> bool:
        """EXECUTING or UNKNOWN (Java's isRunning)."""
        return self.exit_code in ("EXECUTING", "UNKNOWN")

    def __str__(self) -> str:
        return f"exitCode={self.exit_code};exitDescription={self.exit_description}"


def _join(old: str, new: str) -> str:
    old, new = old or "", new or ""
    if not old.strip():
        return new
    if not new.strip() or new == old:
        return old
    return f"{old}; {new}"


ExitStatus.UNKNOWN = ExitStatus("UNKNOWN")
ExitStatus.EXECUTING = ExitStatus("EXECUTING")
ExitStatus.COMPLETED = ExitStatus("COMPLETED")
ExitStatus.NOOP = ExitStatus("NOOP")
ExitStatus.FAILED = ExitStatus("FAILED")
ExitStatus.STOPPED = ExitStatus("STOPPED")
