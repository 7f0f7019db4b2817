"""The hash chain's pure parts: which prefix a prune may cut, and the report ``verify`` returns."""

from __future__ import annotations

import pytest

from safecancel.store.chain import ChainReport, PrunePlan, event_hash, event_row, plan_prune

# (head seq, candidates, job -> (first, last) event seq, the plan) -- jobs A, C are finished and
# old enough to go; B stays.
PRUNE_CASES = [
    pytest.param(9, set(), {"B": (1, 9)}, None, id="nothing-asked"),
    pytest.param(9, {"A"}, {"A": (1, 3), "B": (4, 9)}, PrunePlan(3, frozenset({"A"})), id="a-whole-prefix"),
    pytest.param(9, {"A"}, {"A": (1, 5), "B": (2, 9)}, None, id="interleaved-with-a-job-that-stays"),
    # C reaches past B's first event, so C stays; the cut moves before C, and A still goes.
    pytest.param(
        9, {"A", "C"}, {"A": (1, 2), "C": (3, 7), "B": (5, 6)}, PrunePlan(2, frozenset({"A"})), id="cut-moves-earlier"
    ),
    pytest.param(6, {"A", "C"}, {"A": (1, 2), "C": (3, 6)}, PrunePlan(6, frozenset({"A", "C"})), id="no-job-stays"),
    # A job without events (absent from the spans) goes with the prefix.
    pytest.param(
        9, {"A", "E"}, {"A": (1, 3), "B": (4, 9)}, PrunePlan(3, frozenset({"A", "E"})), id="job-without-events"
    ),
    pytest.param(9, {"E"}, {"B": (1, 9)}, None, id="nothing-before-the-first-kept-event"),
]


@pytest.mark.parametrize(("head", "candidates", "spans", "plan"), PRUNE_CASES)
def test_plan_prune(head, candidates, spans, plan):
    assert plan_prune(head, candidates, spans) == plan


def test_plan_prune_keeps_every_event_of_a_job_that_stays():
    spans = {"A": (1, 2), "B": (3, 4), "C": (5, 8), "D": (6, 7), "E": (9, 12)}
    plan = plan_prune(12, {"A", "B", "C", "E"}, spans)
    assert plan == PrunePlan(4, frozenset({"A", "B"}))
    for job, (lo, hi) in spans.items():
        assert (hi <= plan.cut) if job in plan.jobs else (lo > plan.cut), job


def test_chain_report_unpacks_as_the_tuple_verify_always_returned():
    report = ChainReport(False, 3, "event 3 is missing")
    ok, n, problem = report
    assert (ok, n, problem) == (False, 3, "event 3 is missing") and report == (False, 3, "event 3 is missing")
    assert report.problem == problem and report[0] is False


def test_an_event_hash_covers_its_content_and_its_predecessor():
    row = event_row("job", "2026-01-01T00:00:00.000000Z", "send", order_pk=1, venue_message="x" * 900)
    assert len(row["venue_message"]) == 500  # clipped before it is hashed
    row |= {"seq": 1, "prev_hash": "0" * 64}
    h = event_hash(row)
    assert event_hash(row | {"note": "forged"}) != h
    assert event_hash(row | {"prev_hash": "1" * 64}) != h
    assert event_hash(dict(row)) == h
