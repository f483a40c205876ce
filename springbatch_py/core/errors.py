"""Errors of the core model (job parameters, executions, contexts).

Each derives from :class:`springbatch_py.errors.SpringBatchError`, so the command line reports it
on one line.
"""

from __future__ import annotations

from springbatch_py.core.status import BatchStatus
from springbatch_py.errors import SpringBatchError


class JobParametersInvalidError(SpringBatchError):
    """A job parameter has an unsupported type, a malformed value or an invalid name."""


class JobExecutionAlreadyRunningError(SpringBatchError):
    """An execution of the job instance is STARTING, STARTED or STOPPING."""


class JobInstanceAlreadyCompleteError(SpringBatchError):
    """The job instance COMPLETED (or was ABANDONED); change the identifying parameters."""


class JobRestartError(SpringBatchError):
    """The job instance cannot be restarted (not restartable, or left UNKNOWN)."""


class StartLimitExceededError(JobRestartError):
    """A step was started as often as its start limit allows."""


class JobParametersNotFoundError(SpringBatchError):
    """The job has no incrementer to compute its next parameters."""


class OptimisticLockingFailureError(SpringBatchError):
    """An execution row changed since it was read: its versioned update matched no row."""


class NoSuchJobError(SpringBatchError):
    """No job of that name is registered."""


class NoSuchJobExecutionError(SpringBatchError):
    """No job execution has that id."""


class JobExecutionNotRunningError(SpringBatchError):
    """Only a running execution can be stopped."""


class JobInterruptedError(SpringBatchError):
    """A stop was requested: the step or job ends STOPPED."""

    def __init__(self, message: str, *, status: BatchStatus | None = None) -> None:
        super().__init__(message)
        self.status = status or BatchStatus.STOPPED


class SkipLimitExceededError(SpringBatchError):
    """A chunk step skipped as many items as its skip limit allows."""

    def __init__(self, message: str, *, skip_limit: int, cause: BaseException) -> None:
        super().__init__(message)
        self.skip_limit = skip_limit
        self.__cause__ = cause


class SkipOverflowError(SpringBatchError):
    """Too many read skips within one chunk."""


class NonSkippableReadError(SpringBatchError):
    """A read failed with an exception that may not be skipped."""


class NonSkippableProcessError(SpringBatchError):
    """Processing failed, may not be retried again, and may not be skipped."""


class NonSkippableWriteError(SpringBatchError):
    """Writing an item failed with an exception that may not be skipped."""


class RetryExhaustedError(SpringBatchError):
    """A chunk write failed on its last attempt with an exception that may not be skipped."""
