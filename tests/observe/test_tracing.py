"""OpenTelemetry spans of jobs, steps and partitions, with the SDK's in-memory exporter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from springbatch_py.core import tracing
from springbatch_py.core.domain import JobExecution, JobInstance
from springbatch_py.core.job import Job
from springbatch_py.core.launch import JobLauncher
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.status import BatchStatus
from springbatch_py.core.step import TaskletStep
from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository
from tests.cluster.app import JobSpec, make_job
from tests.cluster.test_cluster import Cluster, wait_for

ROOT = Path(__file__).resolve().parents[2]
_exporter = InMemorySpanExporter()


@pytest.fixture(scope="session")
def sdk() -> InMemorySpanExporter:
    """An SDK tracer provider as the global one (set once per process, as OpenTelemetry
    allows), exporting to memory."""
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        current = trace.get_tracer_provider()
    assert isinstance(current, TracerProvider), "another tracer provider is already global"
    current.add_span_processor(SimpleSpanProcessor(_exporter))
    return _exporter


@pytest.fixture
def spans(sdk: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    sdk.clear()
    yield sdk
    sdk.clear()


def _by_name(finished: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    named = {span.name: span for span in finished}
    assert len(named) == len(finished), [s.name for s in finished]
    return named


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _launch(database: Database, job: Job) -> JobExecution:
    create_schema(database, major=6)
    return JobLauncher(JobRepository(database)).run(job, {"run": "1"})


def test_job_and_step_spans(database: Database, spans: InMemorySpanExporter) -> None:
    assert tracing.enabled()
    job = Job(
        "tracedJob",
        [TaskletStep("first", lambda c, cc: None), TaskletStep("second", lambda c, cc: None)],
    )
    execution = _launch(database, job)
    assert execution.status is BatchStatus.COMPLETED
    named = _by_name(spans.get_finished_spans())
    assert set(named) == {"job tracedJob", "step first", "step second"}
    job_span = named["job tracedJob"]
    assert _parent_id(job_span) is None
    assert _attributes(job_span) == {
        "springbatch.job.name": "tracedJob",
        "springbatch.job.instance.id": execution.job_instance.id,
        "springbatch.job.execution.id": execution.id,
        "springbatch.status": "COMPLETED",
        "springbatch.exit_code": "COMPLETED",
    }
    assert job_span.status.status_code is StatusCode.UNSET
    steps = {s.step_name: s for s in execution.step_executions}
    for name in ("first", "second"):
        span = named[f"step {name}"]
        assert _parent_id(span) == job_span.context.span_id
        assert span.context.trace_id == job_span.context.trace_id
        attributes = _attributes(span)
        assert attributes["springbatch.step.name"] == name
        assert attributes["springbatch.step.execution.id"] == steps[name].id
        assert attributes["springbatch.job.execution.id"] == execution.id
        assert attributes["springbatch.status"] == "COMPLETED"
        assert attributes["springbatch.commit_count"] == 1
        assert span.start_time is not None and job_span.start_time is not None
        assert job_span.start_time <= span.start_time


def test_failed_step_marks_its_span_and_the_job_span_as_errors(
    database: Database, spans: InMemorySpanExporter
) -> None:
    def explode(contribution: Any, context: Any) -> None:
        raise RuntimeError("disk on fire")

    execution = _launch(database, Job("failingJob", [TaskletStep("boom", explode)]))
    assert execution.status is BatchStatus.FAILED
    named = _by_name(spans.get_finished_spans())
    step_span, job_span = named["step boom"], named["job failingJob"]
    assert step_span.status.status_code is StatusCode.ERROR
    assert "disk on fire" in (step_span.status.description or "")
    assert _attributes(step_span)["springbatch.exit_code"] == "FAILED"
    events = [dict(e.attributes or {}) for e in step_span.events if e.name == "exception"]
    assert [e["exception.message"] for e in events] == ["disk on fire"]
    assert job_span.status.status_code is StatusCode.ERROR
    assert _attributes(job_span)["springbatch.status"] == "FAILED"


def test_partition_spans_on_a_cluster_node(
    database_url: str, tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    cluster = Cluster(database_url, tmp_path)
    try:
        node = cluster.node()
        spec = JobSpec(partitions=3, items=2)
        execution = node.launch(make_job(spec), spec.parameters())
        assert execution.status is BatchStatus.COMPLETED
        # A worker ends its partition's span just after marking the partition COMPLETED.
        wait_for(
            lambda: sum(s.name.startswith("partition ") for s in spans.get_finished_spans()) == 3,
            10,
            "the partition spans to end",
        )
        named = _by_name(spans.get_finished_spans())
        partitions = {p["partition_key"]: p for p in cluster.partitions(execution.id)}  # type: ignore[arg-type]
    finally:
        cluster.close()
    job_span, manager = named["job rangeJob"], named["step rangeJob.manager"]
    assert _parent_id(manager) == job_span.context.span_id
    assert set(partitions) == {"rangeSum:0", "rangeSum:1", "rangeSum:2"}
    for key, row in partitions.items():
        span = named[f"partition {key}"]
        assert _attributes(span) == {
            "springbatch.partition.key": key,
            "springbatch.cluster.node.id": node.node_id,
            "springbatch.step.execution.id": row["step_execution_id"],
            "springbatch.job.execution.id": execution.id,
            "springbatch.partition.master_step_execution.id": row["master_step_execution_id"],
            "springbatch.status": "COMPLETED",
            "springbatch.exit_code": "COMPLETED",
        }
        worker_step = named[f"step {key}"]
        assert _parent_id(worker_step) == span.context.span_id
        assert _attributes(worker_step)["springbatch.write_count"] == spec.items


def test_no_spans_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_trace", None)
    assert not tracing.enabled()
    execution = JobExecution(JobInstance(1, "j"), JobParameters({}), id=1)
    with tracing.job_span(execution) as span:
        assert span is None


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("import sys; sys.modules['opentelemetry'] = None", "False"),  # not installed
        ("", "False"),  # installed, no provider configured (the default proxy)
        (
            "from opentelemetry import trace; from opentelemetry.sdk.trace import TracerProvider;"
            " trace.set_tracer_provider(TracerProvider())",
            "True",
        ),
    ],
    ids=["absent", "unconfigured", "configured"],
)
def test_tracing_is_on_only_with_a_configured_provider(setup: str, expected: str) -> None:
    code = textwrap.dedent(
        f"""
        {setup}
        from springbatch_py.core.domain import JobExecution, JobInstance
        from springbatch_py.core.parameters import JobParameters
        from springbatch_py.core import tracing
        execution = JobExecution(JobInstance(1, "j"), JobParameters({{}}), id=1)
        with tracing.job_span(execution) as span:
            assert (span is not None) == tracing.enabled()
        print(tracing.enabled())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
