"""``same_java_value``: Java class and value equality, nulls inside collections included."""

from __future__ import annotations

import math

from springbatch_py.core.context import ExecutionContext
from springbatch_py.core.javatypes import Integer, Long, same_java_value


def test_nulls_inside_lists_and_maps_compare() -> None:
    assert same_java_value([None, Long(1)], [None, Long(1)])
    assert same_java_value({"a": None, "b": [None]}, {"a": None, "b": [None]})
    assert not same_java_value([None], [Long(1)])
    assert not same_java_value([Long(1)], [None])
    assert not same_java_value({"a": None}, {"a": "x"})
    assert same_java_value(None, None)
    assert not same_java_value(None, [])


def test_classes_still_count() -> None:
    assert not same_java_value([Long(1)], [Integer(1)])
    assert same_java_value([math.nan], [math.nan])


def test_context_accepts_a_collection_with_nulls_twice() -> None:
    context = ExecutionContext({"items": [None, "a"], "map": {"k": None}})
    context.clear_dirty()
    context["items"] = [None, "a"]
    context["map"] = {"k": None}
    assert not context.dirty
    context["items"] = [None, "b"]
    assert context.dirty
