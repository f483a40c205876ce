"""``springbatch-py jobs | executions | nodes | partitions``: what the database holds, as tables
or JSON.

Every command reads through the job explorer and the cluster store, never SQL of its own.
An execution context that cannot be read does not stop a view: the view shows everything else
and names the unreadable context with the reason (``context_error`` in JSON).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from springbatch_py.cli.common import add_json, add_url, open_database, print_json, print_table
from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.core.domain import JobExecution, StepExecution
from springbatch_py.core.errors import NoSuchJobError, NoSuchJobExecutionError
from springbatch_py.core.parameters import JobParameters, encode_parameter
from springbatch_py.db.database import Database
from springbatch_py.db.schema import require_cluster_schema
from springbatch_py.errors import ConfigurationError
from springbatch_py.repository.contexts import unreadable_reason
from springbatch_py.repository.explorer import JobExplorer


def register(commands: Any) -> None:
    """Add the read-only commands."""
    jobs = commands.add_parser(
        "jobs", help="list job names with their instance count and last execution"
    )
    add_url(jobs)
    add_json(jobs)
    jobs.set_defaults(handler=_jobs)

    executions = commands.add_parser("executions", help="list the executions of a job")
    executions.add_argument("job", metavar="JOB", help="job name")
    executions.add_argument(
        "--limit", type=int, default=20, help="most recent instances to show (default: 20)"
    )
    add_url(executions)
    add_json(executions)
    executions.set_defaults(handler=_executions)

    execution = commands.add_parser(
        "execution", help="show one job execution with its step executions"
    )
    execution.add_argument("execution_id", metavar="EXECUTION_ID", type=int)
    add_url(execution)
    add_json(execution)
    execution.set_defaults(handler=_execution)

    nodes = commands.add_parser("nodes", help="list the cluster's nodes (BATCH_NODES)")
    add_url(nodes)
    add_json(nodes)
    nodes.set_defaults(handler=_nodes)

    partitions = commands.add_parser(
        "partitions", help="list the partitions of a job execution and their worker steps"
    )
    partitions.add_argument("execution_id", metavar="EXECUTION_ID", type=int)
    add_url(partitions)
    add_json(partitions)
    partitions.set_defaults(handler=_partitions)


# -- shapes shared with launch/restart ---------------------------------------------------------


def parameters_dict(parameters: JobParameters) -> dict[str, dict[str, Any]]:
    """Parameters as their ``BATCH_JOB_EXECUTION_PARAMS`` text."""
    out: dict[str, dict[str, Any]] = {}
    for name, parameter in parameters.items():
        java_class, text, identifying = encode_parameter(parameter)
        out[name] = {"value": text, "type": java_class, "identifying": identifying == "Y"}
    return out


def parameters_text(parameters: JobParameters) -> str:
    """Parameters on one line: ``name=value(type)``, non-identifying ones with a leading ``-``."""
    parts = []
    for name, p in parameters_dict(parameters).items():
        short = p["type"].rsplit(".", 1)[-1]
        lead = "" if p["identifying"] else "-"
        parts.append(f"{lead}{name}={p['value']}({short})")
    return " ".join(parts)


def duration_seconds(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds between two stored times, or None."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def step_dict(step: StepExecution) -> dict[str, Any]:
    """A step execution as JSON."""
    return {
        "id": step.id,
        "name": step.step_name,
        "status": step.status.name,
        "exit_code": step.exit_status.exit_code,
        "exit_description": step.exit_status.exit_description,
        "read_count": step.read_count,
        "write_count": step.write_count,
        "filter_count": step.filter_count,
        "skip_count": step.skip_count,
        "commit_count": step.commit_count,
        "rollback_count": step.rollback_count,
        "start_time": step.start_time,
        "end_time": step.end_time,
        "duration_s": duration_seconds(step.start_time, step.end_time),
        "context_error": unreadable_reason(step.execution_context),
    }


def execution_dict(execution: JobExecution, *, steps: bool = True) -> dict[str, Any]:
    """A job execution as JSON."""
    out: dict[str, Any] = {
        "id": execution.id,
        "job_name": execution.job_name,
        "instance_id": execution.job_instance.id,
        "status": execution.status.name,
        "exit_code": execution.exit_status.exit_code,
        "exit_description": execution.exit_status.exit_description,
        "parameters": parameters_dict(execution.job_parameters),
        "create_time": execution.create_time,
        "start_time": execution.start_time,
        "end_time": execution.end_time,
        "duration_s": duration_seconds(execution.start_time, execution.end_time),
        "context_error": unreadable_reason(execution.execution_context),
    }
    if steps:
        out["steps"] = [step_dict(s) for s in execution.step_executions]
    return out


def print_execution(execution: JobExecution) -> None:
    """A job execution and its steps as text."""
    took = duration_seconds(execution.start_time, execution.end_time)
    timing = f" in {took:.1f}s" if took is not None else ""
    print(
        f"job {execution.job_name}, execution {execution.id} (instance "
        f"{execution.job_instance.id}): {execution.status.name} "
        f"(exit {execution.exit_status.exit_code}){timing}"
    )
    params = parameters_text(execution.job_parameters)
    if params:
        print(f"parameters: {params}")
    description = execution.exit_status.exit_description.strip()
    if description and execution.status.name != "COMPLETED":
        # The description is Java-style: a stack trace ending in the exception's message.
        lines = [line for line in description.splitlines() if line.strip()]
        print(f"failure: {lines[-1].strip()}")
    print_table(
        ("STEP", "ID", "STATUS", "EXIT", "READ", "WRITE", "SKIP", "COMMITS", "DURATION"),
        (
            (
                s.step_name,
                s.id,
                s.status.name,
                s.exit_status.exit_code,
                s.read_count,
                s.write_count,
                s.skip_count,
                s.commit_count,
                _seconds(duration_seconds(s.start_time, s.end_time)),
            )
            for s in execution.step_executions
        ),
        empty="(no step executions)",
    )
    print_unreadable([execution])


def unreadable_contexts(executions: Iterable[JobExecution]) -> list[str]:
    """Why each context of these executions (and their steps) that could not be read failed."""
    reasons = []
    for execution in executions:
        for context in (
            execution.execution_context,
            *(s.execution_context for s in execution.step_executions),
        ):
            reason = unreadable_reason(context)
            if reason is not None:
                reasons.append(reason)
    return reasons


def print_unreadable(executions: Iterable[JobExecution]) -> None:
    """One line per unreadable context, under a table."""
    for reason in unreadable_contexts(executions):
        print(f"unreadable context: {reason}")


def explorer_for_views(db: Database) -> JobExplorer:
    """An explorer that shows executions whose contexts cannot be read (marked as such)."""
    return JobExplorer(db, unreadable_contexts="mark")


def no_such_execution(execution_id: int) -> NoSuchJobExecutionError:
    """The one wording of the command line for an unknown execution id."""
    return NoSuchJobExecutionError(f"no job execution with id {execution_id}")


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:.1f}s"


# -- handlers ------------------------------------------------------------------------------------


def _jobs(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        explorer = explorer_for_views(db)
        rows = []
        for name in explorer.get_job_names():
            last_instance = explorer.get_last_job_instance(name)
            last = explorer.get_last_job_execution(last_instance) if last_instance else None
            rows.append(
                {
                    "name": name,
                    "instances": explorer.get_job_instance_count(name),
                    "last_execution_id": last.id if last else None,
                    "last_status": last.status.name if last else None,
                    "last_start_time": last.start_time if last else None,
                }
            )
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ("JOB", "INSTANCES", "LAST EXECUTION", "STATUS", "STARTED"),
        (
            (
                r["name"],
                r["instances"],
                r["last_execution_id"],
                r["last_status"],
                r["last_start_time"],
            )
            for r in rows
        ),
        empty="(no jobs)",
    )
    return 0


def _executions(args: argparse.Namespace) -> int:
    if args.limit <= 0:
        raise ConfigurationError("--limit must be positive")
    with open_database(args) as db:
        explorer = explorer_for_views(db)
        if explorer.get_job_instance_count(args.job) == 0:
            raise NoSuchJobError(f"no job named {args.job!r} has run in this database")
        executions: list[JobExecution] = []
        for instance in explorer.get_job_instances(args.job, 0, args.limit):
            executions.extend(explorer.get_job_executions(instance))
    executions.sort(key=lambda e: e.id or 0, reverse=True)
    if args.json:
        print_json([execution_dict(e, steps=False) for e in executions])
        return 0
    print_table(
        ("EXECUTION", "INSTANCE", "STATUS", "EXIT", "STARTED", "DURATION", "PARAMETERS"),
        (
            (
                e.id,
                e.job_instance.id,
                e.status.name,
                e.exit_status.exit_code,
                e.start_time,
                _seconds(duration_seconds(e.start_time, e.end_time)),
                parameters_text(e.job_parameters),
            )
            for e in executions
        ),
    )
    print_unreadable(executions)
    return 0


def _execution(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        execution = require_execution(explorer_for_views(db), args.execution_id)
    if args.json:
        print_json(execution_dict(execution))
    else:
        print_execution(execution)
    return 0


def _nodes(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        require_cluster_schema(db)
        nodes = SqlClusterStore(db).all_nodes()
    nodes.sort(key=lambda n: n.node_id)
    if args.json:
        print_json(
            [
                {
                    "node_id": n.node_id,
                    "status": n.status,
                    "host_identifier": n.host_identifier,
                    "current_load": n.current_load,
                    "created_time": n.created_time,
                    "last_updated_time": n.last_updated_time,
                    "heartbeat_age_ms": round(n.heartbeat_age_ms),
                }
                for n in nodes
            ]
        )
        return 0
    print_table(
        ("NODE", "STATUS", "HOST", "LOAD", "HEARTBEAT AGE", "REGISTERED"),
        (
            (
                n.node_id,
                n.status,
                n.host_identifier,
                n.current_load,
                f"{n.heartbeat_age_ms / 1000:.1f}s",
                n.created_time,
            )
            for n in nodes
        ),
        empty="(no nodes)",
    )
    return 0


def _partitions(args: argparse.Namespace) -> int:
    with open_database(args) as db:
        require_cluster_schema(db)
        execution = require_execution(explorer_for_views(db), args.execution_id)
        store = SqlClusterStore(db)
        steps = {s.id: s for s in execution.step_executions}
        rows: list[dict[str, Any]] = []
        for manager in execution.step_executions:
            assert manager.id is not None
            for task in store.list_partitions(manager.id):
                worker = steps.get(task.step_execution_id)
                rows.append(
                    {
                        "step_execution_id": task.step_execution_id,
                        "partition_key": task.partition_key,
                        "manager_step": manager.step_name,
                        "assigned_node": task.assigned_node,
                        "status": task.status,
                        "transferable": task.transferable,
                        "step_status": worker.status.name if worker else None,
                        "read_count": worker.read_count if worker else None,
                        "write_count": worker.write_count if worker else None,
                        "duration_s": (
                            duration_seconds(worker.start_time, worker.end_time) if worker else None
                        ),
                        "context_error": (
                            unreadable_reason(worker.execution_context) if worker else None
                        ),
                    }
                )
    rows.sort(key=lambda r: r["step_execution_id"])
    if args.json:
        print_json(rows)
        return 0
    print_table(
        ("PARTITION", "STEP EXECUTION", "NODE", "STATUS", "STEP STATUS", "READ", "WRITE", "TIME"),
        (
            (
                r["partition_key"],
                r["step_execution_id"],
                r["assigned_node"],
                r["status"],
                r["step_status"],
                r["read_count"],
                r["write_count"],
                _seconds(r["duration_s"]),
            )
            for r in rows
        ),
        empty=f"(execution {args.execution_id} has no cluster partitions)",
    )
    print_unreadable([execution])
    return 0


def require_execution(explorer: JobExplorer, execution_id: int) -> JobExecution:
    """The execution with this id, or the command line's error for an unknown one."""
    execution = explorer.get_job_execution(execution_id)
    if execution is None:
        raise no_such_execution(execution_id)
    return execution
