"""lib.reuse: inside ``shared_work`` an identical call is computed once; nothing else is."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lib import metrics, workflow
from lib.reuse import reuse, shared_work


def counter():
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    return calls, compute


def test_outside_a_block_every_call_computes():
    frame = pd.DataFrame({"a": [1]})
    calls, compute = counter()
    reuse("x", (frame,), 1, compute)
    reuse("x", (frame,), 1, compute)
    assert len(calls) == 2


def test_inside_a_block_the_same_call_is_computed_once():
    frame = pd.DataFrame({"a": [1]})
    calls, compute = counter()
    with shared_work():
        first = reuse("x", (frame,), 1, compute)
        assert reuse("x", (frame,), 1, compute) is first
        with shared_work():  # a nested block joins the outer one
            assert reuse("x", (frame,), 1, compute) is first
    assert len(calls) == 1
    with shared_work():  # a new block starts afresh
        assert reuse("x", (frame,), 1, compute) is not first
    assert len(calls) == 2


def test_other_objects_names_or_parameters_are_other_calls():
    frame = pd.DataFrame({"a": [1]})
    equal = frame.copy()  # equal content, another object: not the same call
    calls, compute = counter()
    with shared_work():
        reuse("x", (frame,), 1, compute)
        reuse("x", (equal,), 1, compute)
        reuse("x", (frame,), 2, compute)
        reuse("y", (frame,), 1, compute)
    assert len(calls) == 4


def test_an_id_reused_by_a_new_object_is_not_a_hit():
    calls, compute = counter()
    with shared_work():
        for _ in range(50):  # objects freed at once would hand their ids on
            reuse("x", (pd.DataFrame({"a": [1]}),), 1, compute)
    assert len(calls) == 50


def test_shared_measures_equal_fresh_ones():
    cases = pd.DataFrame(
        {
            "case_id": ["A", "B"],
            "received_at": pd.to_datetime(["2026-03-02", "2026-03-03"]),
            "unit": ["市住建局", ""],
            "assigned_at": pd.to_datetime(["2026-03-02", None]),
            "accepted_at": pd.to_datetime([None, None]),
            "rejected_at": pd.to_datetime([None, None]),
            "concluded_at": pd.to_datetime([None, None]),
            "evaluated_at": pd.to_datetime([None, None]),
            "evaluation": ["", ""],
            "repeat_of": ["", ""],
        }
    )
    rules = workflow.Rules()
    day = dt.date(2026, 3, 20)
    fresh = metrics.case_measures(cases, rules, day)
    with shared_work():
        once = metrics.case_measures(cases, rules, day)
        assert metrics.case_measures(cases, rules, day) is once
        assert metrics.case_measures(cases, rules, dt.date(2026, 3, 3)) is not once
        assert workflow.derive_frame(cases, rules, day) is workflow.derive_frame(cases, rules, day)
    pd.testing.assert_frame_equal(once, fresh)
