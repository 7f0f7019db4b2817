"""The hash chain's pure parts: which prefix a prune may cut, the report ``verify`` returns, and the audit's
quick ways of computing the journal's hashes (they must agree with the journal's own)."""

from __future__ import annotations

import pytest

from safecancel.model import OrderRef
from safecancel.store.audit import order_identities, orders_hash
from safecancel.store.chain import ChainReport, PrunePlan, digest_matches, event_hash, event_row, plan_prune
from safecancel.store.rows import _digest, fingerprint

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


# Text a venue may send back, as the chain must hash it: quotes, backslashes, control characters (short
# and \u escapes), non-ASCII, the JSON-only line separators, an emoji, and integers / NULL beside them.
AWKWARD = [
    'say "no"',
    "back\\slash",
    "tab\tnew\nline\r\x00\x01\x1f\x7f",
    "Umlaut ü, 中文, \u2028\u2029, 🚀",
    "",
]


def test_the_quick_digest_is_the_journals_digest():
    values = [*AWKWARD, 0, -1, 2**53, None, ["nested", 1, None]]
    for v in [values, tuple(values), [["BTCUSD_PERP", "order_id", "7"]], []]:
        assert digest_matches(v, _digest(v))
        assert not digest_matches(v, _digest([*v, "x"]))


def test_order_identities_are_what_the_fingerprint_and_names_use():
    refs = [
        OrderRef("BTCUSD_PERP", "17"),
        OrderRef("BTC-USDT", None, "my-id-ü"),
        OrderRef("btcusdt", "99", None, True),
        OrderRef("X", None, "c", True),
    ]
    # Order rows as the audit reads them: id, position, symbol, order_id, client_order_id, conditional, ...
    rows = [(i, i, r.symbol, r.order_id, r.client_order_id, int(r.conditional)) for i, r in enumerate(refs)]
    keys, names = order_identities(rows)
    assert names == [str(r) for r in refs]
    assert _digest(sorted(keys)) == fingerprint(refs) and _digest(names) == orders_hash(refs)


def test_an_order_change_builds_the_same_event_as_event_row() -> None:
    # apply_groups builds each order's event as a list of the chain's EVENT_CONTENT values (no dict per
    # event); it must hold what event_row would, column for column, or the hashes would cover other values.
    from safecancel.store.chain import EVENT_CONTENT
    from safecancel.store.changes import _Current, _order_event
    from safecancel.store.rows import Change, OrderRow

    row = OrderRow(7, "job", 0, "BTCUSD_PERP", "42", None, "sent", None, None, 1, 0, 0)
    ch = Change(row, "confirm", provenance="venue_response", code="c" * 80, message="m" * 900, note="n")
    new = _Current(7, "cancelled", None, "venue_response", 1, 0, 0, "c", "m", 0, 0)
    built = _order_event("job", "2026-11-28T00:00:00.000000Z", ch, new, 200, 3, "h" * 64)
    expected = event_row(
        "job",
        "2026-11-28T00:00:00.000000Z",
        "confirm",
        order_pk=7,
        from_state="sent",
        to_state="cancelled",
        attempt=1,
        http_status=200,
        venue_code="c" * 64,
        venue_message="m" * 900,
        provenance="venue_response",
        reason=None,
        evidence_id=3,
        evidence_hash="h" * 64,
        note="n",
    )
    assert built == [expected[k] for k in EVENT_CONTENT]
