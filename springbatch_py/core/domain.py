"""Job instances, job executions, step executions and step contributions.

Plain objects with Java's fields and rules; the repository persists them. Ids are ``None``
until saved (0 is a real id: Oracle's sequences start there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.status import BatchStatus, ExitStatus

#: The eight counters of a step execution, as named in BATCH_STEP_EXECUTION.
COUNTERS: tuple[str, ...] = (
    "commit_count",
    "read_count",
    "filter_count",
    "write_count",
    "read_skip_count",
    "write_skip_count",
    "process_skip_count",
    "rollback_count",
)


@dataclass(eq=False)
class JobInstance:
    """A job name with one set of identifying parameters."""

    id: int
    job_name: str
    job_key: str = ""
    version: int = 0

    def __repr__(self) -> str:
        return f"JobInstance(id={self.id}, job_name={self.job_name!r})"


@dataclass(eq=False)
class JobExecution:
    """One run of a job instance."""

    job_instance: JobInstance
    job_parameters: JobParameters
    id: int | None = None
    status: BatchStatus = BatchStatus.STARTING
    exit_status: ExitStatus = ExitStatus.UNKNOWN
    create_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    last_updated: datetime | None = None
    version: int | None = None
    execution_context: ExecutionContext = field(default_factory=ExecutionContext)
    step_executions: list[StepExecution] = field(default_factory=list)
    failure_exceptions: list[BaseException] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"JobExecution(id={self.id}, job={self.job_name!r}, status={self.status.name}, "
            f"exit={self.exit_status.exit_code})"
        )

    @property
    def job_name(self) -> str:
        """The job's name."""
        return self.job_instance.job_name

    @property
    def is_running(self) -> bool:
        """STARTING, STARTED or STOPPING."""
        return self.status.is_running

    @property
    def is_stopping(self) -> bool:
        """A stop was requested."""
        return self.status is BatchStatus.STOPPING

    def upgrade_status(self, status: BatchStatus) -> None:
        """Java's ``upgradeStatus``."""
        self.status = self.status.upgrade_to(status)

    def stop(self) -> None:
        """Request a stop of the execution and its steps."""
        for step in self.step_executions:
            step.status = BatchStatus.STOPPING
        self.status = BatchStatus.STOPPING

    def create_step_execution(self, step_name: str) -> StepExecution:
        """A new step execution belonging to this job execution."""
        step = StepExecution(step_name, self)
        self.step_executions.append(step)
        return step

    def add_failure_exception(self, exc: BaseException) -> None:
        """Record a failure of the job itself."""
        self.failure_exceptions.append(exc)

    def all_failure_exceptions(self) -> list[BaseException]:
        """Failures of the job and of its steps."""
        result = list(self.failure_exceptions)
        for step in self.step_executions:
            result.extend(e for e in step.failure_exceptions if e not in result)
        return result


@dataclass(eq=False)
class StepExecution:
    """One run of a step within a job execution."""

    step_name: str
    job_execution: JobExecution
    id: int | None = None
    status: BatchStatus = BatchStatus.STARTING
    exit_status: ExitStatus = ExitStatus.EXECUTING
    read_count: int = 0
    write_count: int = 0
    commit_count: int = 0
    rollback_count: int = 0
    read_skip_count: int = 0
    process_skip_count: int = 0
    write_skip_count: int = 0
    filter_count: int = 0
    create_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    last_updated: datetime | None = None
    version: int | None = None
    execution_context: ExecutionContext = field(default_factory=ExecutionContext)
    failure_exceptions: list[BaseException] = field(default_factory=list)
    terminate_only: bool = False
    #: The item counts as of the last committed chunk, set when a chunk's failure ended the step
    #: (its saved counts include that chunk's reads, as Java's do); not stored. A partition
    #: resumed in the same execution starts again from these.
    committed_counts: dict[str, int] | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return (
            f"StepExecution(id={self.id}, step={self.step_name!r}, status={self.status.name}, "
            f"read={self.read_count}, write={self.write_count}, commits={self.commit_count})"
        )

    @property
    def job_execution_id(self) -> int | None:
        """The id of the owning job execution."""
        return self.job_execution.id

    @property
    def skip_count(self) -> int:
        """All skips."""
        return self.read_skip_count + self.process_skip_count + self.write_skip_count

    def upgrade_status(self, status: BatchStatus) -> None:
        """Java's ``upgradeStatus``."""
        self.status = self.status.upgrade_to(status)

    def add_failure_exception(self, exc: BaseException) -> None:
        """Record a failure."""
        self.failure_exceptions.append(exc)

    def create_contribution(self) -> StepContribution:
        """A contribution that collects one chunk's counts."""
        return StepContribution(self)

    def apply(self, contribution: StepContribution) -> None:
        """Add a committed contribution's counts (Java's ``apply``)."""
        self.read_skip_count += contribution.read_skip_count
        self.write_skip_count += contribution.write_skip_count
        self.process_skip_count += contribution.process_skip_count
        self.filter_count += contribution.filter_count
        self.read_count += contribution.read_count
        self.write_count += contribution.write_count
        self.exit_status = self.exit_status.and_(contribution.exit_status)


@dataclass(eq=False)
class StepContribution:
    """The counts one chunk adds to its step execution once committed."""

    step_execution: StepExecution
    read_count: int = 0
    write_count: int = 0
    filter_count: int = 0
    read_skip_count: int = 0
    write_skip_count: int = 0
    process_skip_count: int = 0
    exit_status: ExitStatus = ExitStatus.EXECUTING

    @property
    def skip_count(self) -> int:
        """All skips in this contribution."""
        return self.read_skip_count + self.process_skip_count + self.write_skip_count
