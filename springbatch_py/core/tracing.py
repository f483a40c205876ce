"""OpenTelemetry spans for job, step and partition executions.

Spans are made only when OpenTelemetry is configured: ``opentelemetry-api`` is importable and
the global tracer provider is a real one (an SDK's ``TracerProvider`` set with
``opentelemetry.trace.set_tracer_provider``, or one named by ``OTEL_PYTHON_TRACER_PROVIDER``),
not the default proxy or the no-op provider. Otherwise every context manager here does nothing
but one check, and nothing fails when OpenTelemetry is not installed (``pip install
springbatch-py[otel]`` brings it).

================  ===========================  ============================================
span              made by                      attributes (``springbatch.`` prefix)
================  ===========================  ============================================
``job <name>``    ``Job.execute``              ``job.name``, ``job.instance.id``,
                                               ``job.execution.id``, ``status``, ``exit_code``
``step <name>``   ``Step.execute``             ``step.name``, ``step.execution.id``,
                                               ``job.name``, ``job.execution.id``,
                                               ``read_count``, ``write_count``,
                                               ``commit_count``, ``rollback_count``,
                                               ``status``, ``exit_code``
``partition       a worker running a           ``partition.key``, ``cluster.node.id``,
<key>``           partition                    ``step.execution.id``, ``job.execution.id``,
                                               ``partition.master_step_execution.id``,
                                               ``status``, ``exit_code``
================  ===========================  ============================================

A step's span is the child of its job's span; a partition's step span is the child of the
partition's span on the worker (the master's manager step span is in another trace when the
worker is another process: no context travels through the database; the job execution id
relates them). A span whose execution ends FAILED, UNKNOWN or ABANDONED, or whose body raises,
has an ERROR status with the exit description (or the exception, recorded as an event).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from springbatch_py import __version__
from springbatch_py.core.domain import JobExecution, StepExecution

try:
    _trace: Any = importlib.import_module("opentelemetry.trace")
except ImportError:  # OpenTelemetry is optional
    _trace = None

PREFIX = "springbatch."
_FAILED = ("FAILED", "UNKNOWN", "ABANDONED")
_cache: tuple[object, Any] | None = None


def _tracer() -> Any | None:
    """The tracer of the configured provider, or None when tracing is off."""
    global _cache
    if _trace is None:
        return None
    provider = _trace.get_tracer_provider()
    if isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider):
        return None
    cached = _cache
    if cached is not None and cached[0] is provider:
        return cached[1]
    tracer = provider.get_tracer("springbatch_py", __version__)
    _cache = (provider, tracer)
    return tracer


def enabled() -> bool:
    """Whether spans are being made (OpenTelemetry importable and a provider configured)."""
    return _tracer() is not None


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {PREFIX + key: value for key, value in values.items() if value is not None}


@contextmanager
def _span(
    tracer: Any,
    name: str,
    attributes: dict[str, Any],
    execution: JobExecution | StepExecution,
    *,
    record_failures: bool = True,
) -> Iterator[Any]:
    """A span that ends with the execution's status, read when the body is done."""
    with tracer.start_as_current_span(
        name,
        attributes=_attributes(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        raised: BaseException | None = None
        try:
            yield span
        except BaseException as exc:
            raised = exc
            raise
        finally:
            _end(span, execution, raised, record_failures)


def _end(
    span: Any,
    execution: JobExecution | StepExecution,
    raised: BaseException | None,
    record_failures: bool,
) -> None:
    status, exit_status = execution.status.name, execution.exit_status
    span.set_attributes(_attributes({"status": status, "exit_code": exit_status.exit_code}))
    # Steps and jobs keep their failures instead of raising them.
    own = [*execution.failure_exceptions, *([raised] if raised is not None else [])]
    for error in own if record_failures else own[len(execution.failure_exceptions) :]:
        span.record_exception(error)
    if not own and status not in _FAILED:
        return
    causes = own
    if not causes and isinstance(execution, JobExecution):
        causes = execution.all_failure_exceptions()  # a job fails through its step's failure
    if causes:
        message = f"{type(causes[-1]).__name__}: {causes[-1]}"
    else:
        lines = [line for line in exit_status.exit_description.splitlines() if line.strip()]
        message = lines[-1].strip() if lines else status
    span.set_status(_trace.Status(_trace.StatusCode.ERROR, message[:500]))


@contextmanager
def job_span(execution: JobExecution) -> Iterator[Any]:
    """A span around a job execution (yields the span, or None when tracing is off)."""
    tracer = _tracer()
    if tracer is None:
        yield None
        return
    attributes = {
        "job.name": execution.job_name,
        "job.instance.id": execution.job_instance.id,
        "job.execution.id": execution.id,
    }
    with _span(tracer, f"job {execution.job_name}", attributes, execution) as span:
        yield span


@contextmanager
def step_span(execution: StepExecution) -> Iterator[Any]:
    """A span around a step execution."""
    tracer = _tracer()
    if tracer is None:
        yield None
        return
    job = execution.job_execution
    attributes = {
        "step.name": execution.step_name,
        "step.execution.id": execution.id,
        "job.name": job.job_name,
        "job.execution.id": job.id,
    }
    with _span(tracer, f"step {execution.step_name}", attributes, execution) as span:
        try:
            yield span
        finally:
            counts = {
                "read_count": execution.read_count,
                "write_count": execution.write_count,
                "commit_count": execution.commit_count,
                "rollback_count": execution.rollback_count,
            }
            span.set_attributes(_attributes(counts))


@contextmanager
def partition_span(
    execution: StepExecution,
    *,
    partition_key: str,
    node_id: str,
    master_step_execution_id: int | None = None,
) -> Iterator[Any]:
    """A span around a worker running one partition (its step span is a child)."""
    tracer = _tracer()
    if tracer is None:
        yield None
        return
    attributes = {
        "partition.key": partition_key,
        "cluster.node.id": node_id,
        "step.execution.id": execution.id,
        "job.execution.id": execution.job_execution.id,
        "partition.master_step_execution.id": master_step_execution_id,
    }
    # The step's failures are recorded on the step's span; this span only takes their status.
    name = f"partition {partition_key}"
    with _span(tracer, name, attributes, execution, record_failures=False) as span:
        yield span
