"""The core model without a database: statuses, contexts, policies, flows."""

from __future__ import annotations

import pytest

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.errors import SkipLimitExceededError
from springbatch_py.core.job import END, FAIL, FlowBuilder, RunIdIncrementer
from springbatch_py.core.parameters import JobParameters
from springbatch_py.core.policies import RetryPolicy, SkipPolicy, classifier
from springbatch_py.core.status import BatchStatus, ExitStatus
from springbatch_py.core.step import TaskletStep
from springbatch_py.java.types import Double, Integer, Long

S = BatchStatus


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (S.STARTED, S.COMPLETED, S.COMPLETED),
        (S.STARTING, S.STARTED, S.STARTED),
        (S.COMPLETED, S.FAILED, S.FAILED),
        (S.STOPPING, S.COMPLETED, S.STOPPING),
        (S.FAILED, S.STOPPED, S.FAILED),
        (S.ABANDONED, S.UNKNOWN, S.UNKNOWN),
    ],
)
def test_upgrade_to_follows_java(a: BatchStatus, b: BatchStatus, expected: BatchStatus) -> None:
    assert a.upgrade_to(b) is expected
    assert b.upgrade_to(a) is expected


def test_status_order_and_predicates() -> None:
    assert list(S) == [
        S.COMPLETED,
        S.STARTING,
        S.STARTED,
        S.STOPPING,
        S.STOPPED,
        S.FAILED,
        S.ABANDONED,
        S.UNKNOWN,
    ]
    assert [s.name for s in S if s.is_running] == ["STARTING", "STARTED", "STOPPING"]
    assert [s.name for s in S if s.is_unsuccessful] == ["FAILED", "ABANDONED", "UNKNOWN"]
    with pytest.raises(ValueError, match="not a BatchStatus"):
        BatchStatus.parse("DONE")


def test_exit_status_combination() -> None:
    failed = ExitStatus("FAILED", "boom")
    assert ExitStatus.COMPLETED.and_(failed) == ExitStatus("FAILED", "boom")
    assert failed.and_(ExitStatus.COMPLETED) == ExitStatus("FAILED", "boom")
    assert ExitStatus("CUSTOM").and_(ExitStatus.FAILED).exit_code == "CUSTOM"  # severity 7
    assert (
        ExitStatus("COMPLETED", "a").and_(ExitStatus("COMPLETED", "b")).exit_description == "a; b"
    )
    assert ExitStatus("COMPLETED", "a").and_(ExitStatus("COMPLETED", "a")).exit_description == "a"
    assert ExitStatus("NOOP").and_(ExitStatus("EXECUTING")).exit_code == "NOOP"
    described = ExitStatus.FAILED.add_exit_description(ValueError("bad value"))
    assert "ValueError: bad value" in described.exit_description


def test_context_typed_getters_are_strict() -> None:
    context = ExecutionContext()
    context.put_long("l", 5)
    context.put_int("i", 5)
    context["plain"] = 7
    context.put_double("d", 0.5)
    assert context.get_long("l") == 5 and context.get_long("plain") == 7
    assert context.get_int("i") == 5
    with pytest.raises(TypeError, match=r"java\.lang\.Integer, not a java\.lang\.Long"):
        context.get_long("i")
    with pytest.raises(TypeError, match=r"java\.lang\.Long, not a java\.lang\.Integer"):
        context.get_int("l")
    assert context.get_double("d") == 0.5 and isinstance(context["d"], Double)
    assert context.get_long("missing", 3) == 3
    with pytest.raises(KeyError):
        context.get_string("missing")
    with pytest.raises(TypeError, match="forbids nulls"):
        context["none"] = None
    with pytest.raises(TypeError, match="no Java counterpart"):
        context["object"] = object()


def test_context_tracks_changes() -> None:
    context = ExecutionContext({"a": Long(1)})
    assert not context.dirty
    context["a"] = Long(1)
    assert not context.dirty
    context["a"] = Integer(1)
    assert context.dirty
    context.clear_dirty()
    del context["a"]
    assert context.dirty


def test_skip_policy_limits_and_classifies_most_specific_first() -> None:
    policy = SkipPolicy(classifier([ValueError], [UnicodeError]), skip_limit=2)
    assert policy.should_skip(ValueError("x"), 0)
    assert not policy.should_skip(UnicodeError("x"), 0)  # a ValueError, but excluded
    assert not policy.should_skip(KeyError("x"), 0)
    assert policy.should_skip(ValueError("x"), -1)
    with pytest.raises(SkipLimitExceededError, match="Skip limit of '2' exceeded"):
        policy.should_skip(ValueError("x"), 2)


def test_retry_policy_counts_attempts() -> None:
    policy = RetryPolicy(classifier([TimeoutError]), limit=3)
    assert policy.can_retry(0, None)
    assert policy.can_retry(2, TimeoutError())
    assert not policy.can_retry(3, TimeoutError())
    assert not policy.can_retry(1, ValueError())
    assert not RetryPolicy().can_retry(1, TimeoutError())


def test_flow_matches_most_specific_transition_first() -> None:
    a, b, c = (TaskletStep(n, lambda *_: None) for n in "abc")
    flow = (
        FlowBuilder(a)
        .on("*")
        .to(b)
        .from_(a)
        .on("COMPLETED WITH SKIPS")
        .to(c)
        .from_(a)
        .on("FAIL?D")
        .fail()
        .build()
    )
    assert flow.next_target(a, "COMPLETED WITH SKIPS") is c
    assert flow.next_target(a, "COMPLETED") is b
    assert flow.next_target(a, "FAILED") is FAIL
    assert flow.next_target(b, "COMPLETED") is END  # no transitions: completed ends the flow
    assert flow.next_target(b, "ODD") is FAIL
    assert set(flow.steps) == {"a", "b", "c"}


def test_run_id_incrementer() -> None:
    incrementer = RunIdIncrementer()
    first = incrementer.get_next(None)
    assert first.get_value("run.id") == 1 and isinstance(first.get_value("run.id"), Long)
    second = incrementer.get_next(JobParameters({"run.id": Long(41), "x": "y"}))
    assert second.get_value("run.id") == 42 and second.get_value("x") == "y"
