"""Launch and steer jobs: ``JobRegistry``, ``JobLauncher`` and ``JobOperator``.

The checks and errors are Java's: an instance whose execution is running cannot start again
(:class:`JobExecutionAlreadyRunningError`), a completed one cannot either
(:class:`JobInstanceAlreadyCompleteError`), a non-restartable job or an execution left UNKNOWN
cannot be restarted (:class:`JobRestartError`). A stop sets the execution STOPPING through the
versioned update, from any process; the running job notices at its next chunk boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from springbatch_py.core.domain import JobExecution, JobInstance
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobExecutionNotRunningError,
    JobInstanceAlreadyCompleteError,
    JobParametersNotFoundError,
    JobRestartError,
    NoSuchJobError,
    NoSuchJobExecutionError,
)
from springbatch_py.core.job import Job
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.partition import PartitionHandler
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.core.step import Repository

log = logging.getLogger(__name__)

#: The context key Spring Batch 6's ``recover`` puts on what it recovered (not saved there).
RECOVERED_KEY = "recovered"


class OperatorRepository(Repository, Protocol):
    """The repository reads an operator needs besides :class:`Repository`."""

    def get_job_execution(self, execution_id: int) -> JobExecution | None: ...
    def get_job_instances(
        self, job_name: str, start: int = 0, count: int = 20
    ) -> list[JobInstance]: ...
    def get_last_job_execution(self, instance: JobInstance) -> JobExecution | None: ...
    def find_running_job_executions(self, job_name: str) -> list[JobExecution]: ...


class JobRegistry:
    """Jobs by name."""

    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            self.register(job)

    def register(self, job: Job) -> None:
        """Add a job; names are unique."""
        if job.name in self._jobs and self._jobs[job.name] is not job:
            raise ValueError(f"a job named {job.name!r} is already registered")
        self._jobs[job.name] = job

    def get(self, name: str) -> Job:
        """The job called ``name`` (raises :class:`NoSuchJobError`)."""
        try:
            return self._jobs[name]
        except KeyError:
            raise NoSuchJobError(
                f"No job configuration with the name [{name}] was registered"
            ) from None

    def names(self) -> list[str]:
        """Registered job names, sorted."""
        return sorted(self._jobs)


class JobLauncher:
    """Runs a job with parameters, in the calling thread.

    ``on_created``, when given, is called with each execution as soon as it is saved, before it
    runs (e.g. so that a signal handler can stop it). ``partition_handler`` runs the partitions
    of the jobs' partitioned steps (a cluster node's launcher has its node's).
    """

    def __init__(
        self,
        repository: Repository,
        on_created: Callable[[JobExecution], None] | None = None,
        *,
        partition_handler: PartitionHandler | None = None,
    ) -> None:
        self.repository = repository
        self.on_created = on_created
        self.partition_handler = partition_handler

    def run(
        self, job: Job, parameters: JobParameters | Mapping[str, Any] | None = None
    ) -> JobExecution:
        """Start a new instance, or restart the last execution of an existing one."""
        if not isinstance(parameters, JobParameters):
            parameters = JobParameters(parameters or {})
        last = self.repository.get_last_job_execution_by(job.name, parameters)
        if last is not None:
            if not job.restartable:
                raise JobRestartError("JobInstance already exists and is not restartable")
            for step in last.step_executions:
                if step.status.is_running:
                    raise JobExecutionAlreadyRunningError(
                        f"A job execution for this job is already running: {last}"
                    )
                if step.status is BatchStatus.UNKNOWN:
                    raise JobRestartError(
                        f"Cannot restart step [{step.step_name}] from UNKNOWN status. The last "
                        "execution ended with a failure that could not be rolled back, so it may "
                        "be dangerous to proceed. Manual intervention is probably necessary."
                    )
        job.validate(parameters)
        execution = self.repository.create_job_execution(job.name, parameters)
        if self.on_created is not None:
            self.on_created(execution)
        log.info("job %s launched with %r (execution %s)", job.name, parameters, execution.id)
        job.execute(execution, self.repository, partition_handler=self.partition_handler)
        log.info("job %s execution %s ended %s", job.name, execution.id, execution.status.name)
        return execution


class JobOperator:
    """Start, restart, stop, abandon and recover jobs by name and execution id."""

    def __init__(
        self,
        repository: OperatorRepository,
        registry: JobRegistry,
        launcher: JobLauncher | None = None,
    ) -> None:
        self.repository = repository
        self.registry = registry
        self.launcher = launcher or JobLauncher(repository)

    def start(
        self, job_name: str, parameters: JobParameters | Mapping[str, Any] | None = None
    ) -> JobExecution:
        """Launch ``job_name`` with ``parameters``."""
        return self.launcher.run(self.registry.get(job_name), parameters)

    def start_next_instance(self, job_name: str) -> JobExecution:
        """Launch a new instance with the parameters the job's incrementer computes."""
        job = self.registry.get(job_name)
        if job.incrementer is None:
            raise JobParametersNotFoundError(
                f"No job parameters incrementer found for job={job_name}"
            )
        instances = self.repository.get_job_instances(job_name, 0, 1)
        previous = None
        if instances:
            last = self.repository.get_last_job_execution(instances[0])
            previous = last.job_parameters if last is not None else None
        return self.launcher.run(job, job.incrementer.get_next(previous))

    def restart(self, execution_id: int) -> JobExecution:
        """Restart the instance of a FAILED or STOPPED execution with the same parameters."""
        execution = self._execution(execution_id)
        job = self.registry.get(execution.job_name)
        try:
            return self.launcher.run(job, execution.job_parameters)
        except JobInstanceAlreadyCompleteError as exc:
            raise JobInstanceAlreadyCompleteError(
                f"Job instance with id={execution.job_instance.id} already complete"
            ) from exc

    def stop(self, execution_id: int) -> bool:
        """Ask a running execution to stop (it ends STOPPED at its next chunk boundary)."""
        execution = self._execution(execution_id)
        if execution.status not in (BatchStatus.STARTED, BatchStatus.STARTING):
            raise JobExecutionNotRunningError(
                f"JobExecution must be running so that it can be stopped: {execution}"
            )
        execution.status = BatchStatus.STOPPING
        self.repository.update(execution)
        return True

    def abandon(self, execution_id: int) -> JobExecution:
        """Mark a FAILED, STOPPED or STOPPING execution ABANDONED: it is never restarted."""
        execution = self._execution(execution_id)
        if execution.status < BatchStatus.STOPPING:
            raise JobExecutionAlreadyRunningError(
                "JobExecution is running or complete and therefore cannot be aborted"
            )
        execution.upgrade_status(BatchStatus.ABANDONED)
        execution.end_time = self.repository.now()
        self.repository.update(execution)
        return execution

    def recover(self, execution_id: int) -> JobExecution:
        """Mark a dead execution and its running steps FAILED so that it can be restarted
        (Spring Batch 6's ``JobOperator.recover``).

        For an execution whose process died (killed, lost with its machine) and that stays
        STARTING, STARTED or STOPPING for ever. The caller vouches that nothing runs it any
        more: the repository cannot tell (a cluster can; see ``springbatch-py recover``). As in
        Java, a COMPLETED, ABANDONED or UNKNOWN execution is returned unchanged with a warning,
        and any other (STOPPED and FAILED included) ends FAILED. Unlike Java, the exit status
        says it was recovered (Java leaves the last exit code, e.g. ``EXECUTING``).
        """
        execution = self._execution(execution_id)
        if RECOVERED_KEY in execution.execution_context:
            log.warning("Job execution already recovered: %s", execution)
            return execution
        if execution.status in (BatchStatus.COMPLETED, BatchStatus.ABANDONED, BatchStatus.UNKNOWN):
            log.warning(
                "JobExecution is already complete or abandoned or in an unknown state, and "
                "therefore cannot be recovered: %s",
                execution,
            )
            return execution
        log.info("Recovering job execution: %s", execution)
        message = "Recovered: the execution was marked FAILED by JobOperator.recover"
        for step in execution.step_executions:
            if step.status.is_running:
                step.status = BatchStatus.FAILED
                step.exit_status = ExitStatus("FAILED", message)
                step.end_time = self.repository.now()
                step.execution_context[RECOVERED_KEY] = True  # in memory, as in Java
                self.repository.update(step)
        execution.status = BatchStatus.FAILED
        execution.exit_status = ExitStatus("FAILED", message)
        execution.end_time = self.repository.now()
        execution.execution_context[RECOVERED_KEY] = True
        self.repository.update(execution)
        return execution

    def running_executions(self, job_name: str) -> list[JobExecution]:
        """Executions of ``job_name`` that are running."""
        self.registry.get(job_name)
        return self.repository.find_running_job_executions(job_name)

    def _execution(self, execution_id: int) -> JobExecution:
        execution = self.repository.get_job_execution(execution_id)
        if execution is None:
            raise NoSuchJobExecutionError(f"No JobExecution found for id: [{execution_id}]")
        return execution
