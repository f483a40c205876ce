"""``springbatch-py node | launch | restart | stop | abandon | recover``: run and steer jobs.

Jobs and worker steps are the user's Python objects, named ``module:attribute`` (the current
directory is importable). The attribute may be a job or step, a list of them, a registry, or a
function without arguments that returns one of those.

Exit codes of ``launch`` and ``restart`` follow Spring Batch's ``SimpleJvmExitCodeMapper``:
0 when the execution COMPLETED, 1 when it ended otherwise; bad input exits 2. SIGINT (Ctrl-C) or
SIGTERM stops the job: it ends STOPPED (restartable) and the command exits 1; a second signal
quits at once. ``recover`` exits 1 when it refuses (a live master owns the execution).
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from types import FrameType
from typing import Any

from springbatch_py.cli.common import (
    add_cluster_config,
    add_json,
    add_url,
    cluster_settings,
    database_settings,
    load_object,
    open_database,
    print_json,
)
from springbatch_py.cli.views import (
    execution_dict,
    explorer_for_views,
    print_execution,
    require_execution,
)
from springbatch_py.cluster.master import PartitionStep
from springbatch_py.cluster.node import Node
from springbatch_py.cluster.recovery import recover_job_execution
from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.cluster.worker import StepRegistry
from springbatch_py.core.domain import JobExecution
from springbatch_py.core.errors import (
    JobExecutionAlreadyRunningError,
    JobExecutionNotRunningError,
    JobParametersInvalidError,
    JobRestartError,
    OptimisticLockingFailureError,
)
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher, JobOperator, JobRegistry
from springbatch_py.core.parameters import JobParameter, JobParameters, parse_parameter_argument
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import Step
from springbatch_py.db.database import Database
from springbatch_py.db.schema import require_cluster_schema
from springbatch_py.errors import ConfigurationError, SchemaError
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.repository.serialization import ContextSerializationError

log = logging.getLogger(__name__)


def register(commands: Any) -> None:
    """Add the commands that run and steer jobs."""
    node = commands.add_parser(
        "node",
        help="run a cluster node that works on the partitions assigned to it",
        description="Register in BATCH_NODES, heartbeat, and run the partitions assigned to this "
        "node until SIGTERM or SIGINT; then stop claiming, let running partitions finish and "
        "leave the cluster.",
    )
    add_url(node)
    node.add_argument(
        "--steps",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="worker steps this node runs (a step, list, mapping of names to steps or "
        "factories, a StepRegistry, or a function returning one); repeatable",
    )
    node.add_argument(
        "--jobs",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="jobs whose partitioned steps' worker steps this node runs; repeatable",
    )
    node.add_argument("--node-id-prefix", help="prefix of the node id (default: the host name)")
    node.add_argument(
        "--serve-port",
        type=int,
        metavar="PORT",
        help="also serve this node's health, the cluster views and /metrics on PORT (see 'serve')",
    )
    node.add_argument(
        "--serve-host", default="127.0.0.1", help="address for --serve-port (default: 127.0.0.1)"
    )
    add_cluster_config(node)
    node.set_defaults(handler=_node)

    launch = commands.add_parser(
        "launch",
        help="launch a job and wait for it to end",
        description="Start a job instance (or restart the last execution of the instance with "
        "these identifying parameters). A job with cluster-partitioned steps runs as a node of "
        "the cluster: this process is the job's master and may work on partitions too.",
    )
    launch.add_argument("job", metavar="JOB", help="job name")
    _jobs_option(launch)
    launch.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="NAME=VALUE[(TYPE)]",
        help="a job parameter: TYPE is string (default), long, int, double, boolean, date, "
        "localdate, localdatetime, localtime... or a Java class name; a leading '-' on NAME "
        "makes it non-identifying; repeatable",
    )
    launch.add_argument(
        "--next",
        action="store_true",
        help="a new instance with the parameters the job's incrementer computes",
    )
    _launch_options(launch)
    launch.set_defaults(handler=_launch)

    restart = commands.add_parser(
        "restart", help="restart a FAILED or STOPPED job execution from its last checkpoint"
    )
    restart.add_argument("execution_id", metavar="EXECUTION_ID", type=int)
    _jobs_option(restart)
    _launch_options(restart)
    restart.set_defaults(handler=_restart)

    stop = commands.add_parser(
        "stop",
        help="ask a running job execution to stop",
        description="Mark the execution STOPPING; the processes running its steps (any node, Java "
        "or Python) stop at their next chunk boundary and the execution ends STOPPED.",
    )
    stop.add_argument("execution_id", metavar="EXECUTION_ID", type=int)
    add_url(stop)
    add_json(stop)
    stop.set_defaults(handler=_stop)

    abandon = commands.add_parser(
        "abandon",
        help="mark a FAILED, STOPPED or STOPPING job execution ABANDONED (never restarted)",
    )
    abandon.add_argument("execution_id", metavar="EXECUTION_ID", type=int)
    add_url(abandon)
    add_json(abandon)
    abandon.set_defaults(handler=_abandon)

    recover = commands.add_parser(
        "recover",
        help="mark a dead job execution and its running steps FAILED so it can be restarted",
        description="For an execution left STARTING, STARTED or STOPPING by a process that died "
        "(Spring Batch 6's JobOperator.recover). A cluster-coordinated execution is refused "
        "while its master node still heartbeats (younger than node-cleanup-threshold); "
        "otherwise its open partitions are fenced, it and its running steps end FAILED and its "
        "coordination ABANDONED. Any other running execution needs --force: nothing tells "
        "whether its process still runs it.",
    )
    recover.add_argument("execution_id", metavar="EXECUTION_ID", type=int)
    recover.add_argument(
        "--force",
        action="store_true",
        help="recover a running execution that no cluster coordinates (its process is gone)",
    )
    add_url(recover)
    add_cluster_config(recover)
    add_json(recover)
    recover.set_defaults(handler=_recover)


def _jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        action="append",
        required=True,
        metavar="MODULE:ATTR",
        help="where the job is defined (a job, list, JobRegistry, or a function returning one); "
        "repeatable",
    )


def _launch_options(parser: argparse.ArgumentParser) -> None:
    add_url(parser)
    parser.add_argument(
        "--steps",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="extra worker steps this process runs while the job runs (partitioned jobs)",
    )
    add_cluster_config(parser)
    add_json(parser)


# -- loading user objects ----------------------------------------------------------------------


def load_jobs(references: Iterable[str]) -> JobRegistry:
    """The jobs the ``--jobs`` references name, in one registry."""
    registry = JobRegistry()
    for reference in references:
        found = load_object(reference, "--jobs")
        items: Iterable[Any]
        if isinstance(found, JobRegistry):
            items = [found.get(name) for name in found.names()]
        elif isinstance(found, Job):
            items = [found]
        elif isinstance(found, Mapping):
            items = list(found.values())
        elif isinstance(found, Iterable) and not isinstance(found, str | bytes):
            items = list(found)
        else:
            raise ConfigurationError(f"--jobs {reference}: not a job or jobs: {found!r}")
        for job in items:
            if not isinstance(job, Job):
                raise ConfigurationError(f"--jobs {reference}: not a job: {job!r}")
            try:
                registry.register(job)
            except ValueError as exc:
                raise ConfigurationError(f"--jobs {reference}: {exc}") from None
    return registry


def load_steps(references: Iterable[str]) -> StepRegistry:
    """The worker steps the ``--steps`` references name, in one registry."""
    registry = StepRegistry()
    for reference in references:
        found = load_object(reference, "--steps")
        if isinstance(found, StepRegistry):
            for name in found.names():
                _copy_entry(found, registry, name)
        elif isinstance(found, Step):
            registry.register(found)
        elif isinstance(found, Mapping):
            for name, step in found.items():
                if not (isinstance(step, Step) or callable(step)):
                    raise ConfigurationError(f"--steps {reference}: {name!r} is not a step")
                registry.register(step, name=name)
        elif isinstance(found, Iterable) and not isinstance(found, str | bytes):
            for step in found:
                if not isinstance(step, Step):
                    raise ConfigurationError(f"--steps {reference}: not a step: {step!r}")
                registry.register(step)
        else:
            raise ConfigurationError(f"--steps {reference}: not a step or steps: {found!r}")
    return registry


def _copy_entry(source: StepRegistry, target: StepRegistry, name: str) -> None:
    target.register(source.entry(name), name=name)


def is_clustered(job: Job) -> bool:
    """Whether a job has a cluster-partitioned step (it then runs on a node)."""
    return any(isinstance(job.get_step(name), PartitionStep) for name in job.step_names)


#: A value that ends in ``(word`` without the closing parenthesis: a type left unclosed.
_UNCLOSED_TYPE = re.compile(r"\((?P<type>[A-Za-z_][\w.$]*)$")


def parse_parameters(arguments: Iterable[str]) -> JobParameters:
    """``-p`` arguments as job parameters; a name given twice, or a type left unclosed
    (``run=1(long``), is refused."""
    values: dict[str, JobParameter] = {}
    for text in arguments:
        unclosed = _UNCLOSED_TYPE.search(text.partition("=")[2])
        if unclosed is not None:
            raise JobParametersInvalidError(
                f"bad job parameter {text!r}: unclosed type '({unclosed['type']}'; write "
                f"'{text})', or append '(string)' to a String value that contains '('"
            )
        name, parameter = parse_parameter_argument(text)
        if name in values:
            raise ConfigurationError(f"job parameter {name!r} is given twice")
        values[name] = parameter
    return JobParameters(values)


# -- handlers ------------------------------------------------------------------------------------


def _node(args: argparse.Namespace) -> int:
    if not args.steps and not args.jobs:
        raise ConfigurationError("a node needs worker steps: pass --steps and/or --jobs")
    steps = load_steps(args.steps)
    jobs = load_jobs(args.jobs)
    overrides = {"node_id_prefix": args.node_id_prefix} if args.node_id_prefix else {}
    settings = cluster_settings(args, **overrides)
    if not args.url:
        open_database(args)  # raises the missing-URL error
    if args.serve_port is not None:
        from springbatch_py.observe import prometheus

        prometheus.require()  # before the node registers: no row left behind on this error
    node = Node(
        args.url,
        steps=steps,
        jobs=[jobs.get(n) for n in jobs.names()],
        settings=settings,
        database_settings=database_settings(args),
    )
    print(f"node {node.node_id}: working on {', '.join(node.registry.names())}", flush=True)
    server = None
    if args.serve_port is not None:
        from springbatch_py.observe.server import ObservabilityServer

        node.start()
        server = ObservabilityServer(node.db, args.serve_host, args.serve_port, node=node).start()
        print(f"node {node.node_id}: serving {server.url}", flush=True)
    try:
        node.run_forever()
    finally:
        if server is not None:
            server.stop()
    print(f"node {node.node_id}: left the cluster", flush=True)
    return 0


def _launch(args: argparse.Namespace) -> int:
    registry = load_jobs(args.jobs)
    job = registry.get(args.job)
    if args.next and args.parameters:
        raise ConfigurationError("--next computes the parameters: do not pass -p with it")
    parameters = parse_parameters(args.parameters)
    return _run(args, registry, job, lambda op: _start(op, job, parameters, args.next))


def _start(operator: JobOperator, job: Job, parameters: JobParameters, next_: bool) -> JobExecution:
    if next_:
        return operator.start_next_instance(job.name)
    return operator.start(job.name, parameters)


def _restart(args: argparse.Namespace) -> int:
    registry = load_jobs(args.jobs)
    with open_database(args) as db:
        execution = require_execution(explorer_for_views(db), args.execution_id)
    job = registry.get(execution.job_name)
    return _run(args, registry, job, lambda op: _restart_execution(op, args.execution_id))


def _restart_execution(operator: JobOperator, execution_id: int) -> JobExecution:
    """Restart; a restart that needs a context it cannot read refuses, naming it."""
    try:
        return operator.restart(execution_id)
    except ContextSerializationError as exc:
        raise JobRestartError(
            f"cannot restart job execution {execution_id}: {' '.join(str(exc).split())}"
        ) from None


class StopOnSignal:
    """SIGINT or SIGTERM while ``launch`` or ``restart`` runs: stop the job, then leave.

    The handler (main thread) only records the request; the ``stop-on-signal`` thread stops
    the execution as ``springbatch-py stop`` does (STOPPING in the database, so steps on every
    node stop at their next chunk boundary) and tells the master in this process, which then
    lets the job end STOPPED, restartable. A second signal interrupts the process at once
    (its execution is left to lost-master recovery or ``springbatch-py recover``).

    Threads: ``execution`` is set once by the main thread (the launcher's ``on_created``) and
    read by the stop thread; ``_requested`` and ``_done`` are events.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, repository: JobRepository) -> None:
        self.repository = repository
        self.execution: JobExecution | None = None
        self._requested = threading.Event()
        self._done = threading.Event()
        self._signals = 0
        self._previous: dict[int, Any] = {}
        self._thread = threading.Thread(target=self._stop, name="stop-on-signal", daemon=True)

    def created(self, execution: JobExecution) -> None:
        """The launcher saved the execution to stop on a signal."""
        self.execution = execution

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._on_signal) for sig in self.SIGNALS}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._thread.join(5)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        print(
            f"{name}: stopping the job at its next chunk boundary (again to quit at once)",
            file=sys.stderr,
            flush=True,
        )
        self._requested.set()

    def _stop(self) -> None:
        while not self._done.is_set():
            if not self._requested.wait(0.2):
                continue
            execution = self.execution
            if execution is None:
                continue  # not saved yet: stop it as soon as it is
            self._stop_execution(execution)
            return

    def _stop_execution(self, execution: JobExecution) -> None:
        assert execution.id is not None
        operator = JobOperator(self.repository, JobRegistry())
        for attempt in range(20):
            try:
                operator.stop(execution.id)
                break
            except JobExecutionNotRunningError:
                return  # it is ending anyway
            except OptimisticLockingFailureError:
                time.sleep(0.05 * (attempt + 1))  # the job saved itself meanwhile: again
            except Exception:
                log.exception("could not stop job execution %s", execution.id)
                time.sleep(0.5)
        # The master of a partitioned step waits in this process: tell it without a read.
        if execution.status in (BatchStatus.STARTING, BatchStatus.STARTED):
            execution.status = BatchStatus.STOPPING
        log.info("job execution %s: stop requested", execution.id)


def _run(args: argparse.Namespace, registry: JobRegistry, job: Job, action: Any) -> int:
    if is_clustered(job):
        steps = load_steps(args.steps)
        if not args.url:
            open_database(args)  # raises the missing-URL error
        node = Node(
            args.url,
            steps=steps,
            jobs=[registry.get(n) for n in registry.names()],
            settings=cluster_settings(args),
            database_settings=database_settings(args),
        )
        with node, StopOnSignal(node.repository) as stopper:
            log.info("running %s on node %s", job.name, node.node_id)
            launcher = node.launcher(on_created=stopper.created)
            execution: JobExecution = action(JobOperator(node.repository, registry, launcher))
    else:
        with open_database(args) as db:
            repository = JobRepository(db)
            with StopOnSignal(repository) as stopper:
                launcher = JobLauncher(repository, on_created=stopper.created)
                execution = action(JobOperator(repository, registry, launcher))
    if args.json:
        print_json(execution_dict(execution))
    else:
        print_execution(execution)
    return 0 if execution.status is BatchStatus.COMPLETED else 1


def _steering_repository(db: Database, execution_id: int) -> JobRepository:
    """A repository for stop and abandon, which change the execution row only: an execution
    context that cannot be read does not stop them. An unknown id is refused first."""
    repository = JobRepository(db)
    repository.unreadable_contexts = "mark"
    require_execution(repository, execution_id)
    return repository


def _stop(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        operator = JobOperator(_steering_repository(db, args.execution_id), JobRegistry())
        operator.stop(args.execution_id)
        execution = operator.repository.get_job_execution(args.execution_id)
    assert execution is not None
    if args.json:
        print_json(execution_dict(execution, steps=False))
    else:
        print(f"execution {execution.id} of {execution.job_name}: {execution.status.name}")
    return 0


def _abandon(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        repository = _steering_repository(db, args.execution_id)
        execution = JobOperator(repository, JobRegistry()).abandon(args.execution_id)
    if args.json:
        print_json(execution_dict(execution, steps=False))
    else:
        print(f"execution {execution.id} of {execution.job_name}: {execution.status.name}")
    return 0


def _recover(args: argparse.Namespace) -> int:
    settings = cluster_settings(args)
    with open_database(args) as db:
        repository = JobRepository(db)
        execution = repository.get_job_execution(args.execution_id)
        if execution is None:
            from springbatch_py.core.errors import NoSuchJobExecutionError

            raise NoSuchJobExecutionError(f"no job execution with id {args.execution_id}")
        _check_recoverable(execution)
        recovered = None
        if _has_cluster_tables(db):
            recovered = recover_job_execution(
                SqlClusterStore(db), repository, args.execution_id, settings.node_cleanup_threshold
            )
        if recovered is None:
            # Not coordinated by a cluster: nothing tells whether its process still runs it.
            if execution.status.is_running and not args.force:
                raise JobExecutionAlreadyRunningError(
                    f"job execution {execution.id} is {execution.status.name} and was not run "
                    "by a cluster, so nothing tells whether its process still runs it; make "
                    "sure it does not, then pass --force"
                )
            recovered = JobOperator(repository, JobRegistry()).recover(args.execution_id)
        _check_recoverable(recovered)  # (it may have ended meanwhile)
    if args.json:
        print_json(execution_dict(recovered))
    else:
        print(f"execution {recovered.id} of {recovered.job_name}: {recovered.status.name}")
    return 0


def _check_recoverable(execution: JobExecution) -> None:
    if execution.status in (BatchStatus.COMPLETED, BatchStatus.ABANDONED, BatchStatus.UNKNOWN):
        raise JobRestartError(
            f"execution {execution.id} is {execution.status.name}: there is nothing to "
            "recover (Spring Batch recovers neither a COMPLETED, an ABANDONED nor an "
            "UNKNOWN execution)"
        )


def _has_cluster_tables(db: Database) -> bool:
    try:
        require_cluster_schema(db)
    except SchemaError:
        return False
    return True
