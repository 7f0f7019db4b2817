"""Every fault the fake venue can inject, on every venue, judged against the venue's ledger.

The matrix runs once per module (one thread and one fake per venue, so it takes about as long as the
slowest venue's column); each (fault, venue) pair is then its own test. ``tests/trials/fault_table.py``
prints the same runs as a markdown table.

What must hold everywhere: no order is lost, nothing is reported ``cancelled`` that the venue has open
or filled, ``failed``/``filled`` only for orders the venue filled, no (order, attempt) is sent twice,
every cancel that reached an order was journaled first, and the job ends ``done`` -- after ``resume``
where the fault outlasted the caller's deadline. Where the number of cancels that reach an order is
deterministic, it is asserted exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration._harness import (
    CANCEL_ONCE_VENUES,
    CLOCK_CODES,
    FAULT_NAMES,
    FAULT_ORDERS,
    FAULT_VENUES,
    SYNC_VENUES,
    TIME_ENDPOINT_VENUES,
    VENUES,
    FaultOutcome,
    fault_table,
    run_matrix,
)

PAIRS = [(case, venue) for case in FAULT_NAMES for venue in FAULT_VENUES.get(case, VENUES)]
# Faults after which each order is reached by exactly one cancel on a venue that settles in the reply,
# and on one whose query shows an accepted cancel as pending (HTX's `canceling`), so it is never re-sent
# (CANCEL_ONCE_VENUES). Bitget's query shows an accepted cancel as `live` until it takes effect
# (pending_cancel_reads_open), so a second cancel is allowed there.
APPLIED_ONCE = frozenset(FAULT_NAMES) - {"read_timeout"}
NOT_APPLIED_THEN_RESENT = frozenset(
    {"status_500", "status_502", "status_503", "429_retry_after", "429_no_retry_after", "418"}
)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], FaultOutcome]:
    outcomes = run_matrix(Path(tmp_path_factory.mktemp("faults")))
    return {(o.case, o.venue): o for o in outcomes}


def test_the_matrix_covers_every_fault_on_every_venue(matrix: dict[tuple[str, str], FaultOutcome]) -> None:
    assert sorted(matrix) == sorted(PAIRS)
    assert len(matrix) == 16 * len(VENUES) + 1  # 418 is Binance's alone
    print("\n" + fault_table(list(matrix.values())))


@pytest.mark.parametrize(("case", "venue"), PAIRS, ids=[f"{c}-{v}" for c, v in PAIRS])
def test_fault(matrix: dict[tuple[str, str], FaultOutcome], case: str, venue: str) -> None:
    out = matrix[(case, venue)]
    final = out.final
    # The invariants, on every fault and venue.
    assert out.check.problems == [], out.check.problems
    assert final.status == "done", (final.status, final.counts)
    assert out.check.orders == FAULT_ORDERS

    if case == "fill_before_cancel":
        assert final.counts == {"cancelled": FAULT_ORDERS - 1, "failed": 1}
        (filled,) = [o for o in final.orders if o.state == "failed"]
        assert (filled.reason, filled.provenance) == ("filled", "venue_query")
    else:
        assert final.counts == {"cancelled": FAULT_ORDERS}

    applied = list(out.applied.values())
    if case in APPLIED_ONCE and venue in CANCEL_ONCE_VENUES:
        assert applied == [1] * FAULT_ORDERS, out.applied
    elif case == "read_timeout":
        # The slow request still lands after the client gave up on it, so one or two cancels reach
        # each order -- each of them journaled (checked above); never more.
        assert all(1 <= n <= 2 for n in applied), out.applied
    else:
        assert all(1 <= n <= 3 for n in applied), out.applied

    if case in NOT_APPLIED_THEN_RESENT:
        # Refused without being applied, then sent again; the resend is what cancelled them.
        assert len(out.cancel_requests) >= 2
    if case == "429_retry_after":
        first, second = out.cancel_requests[:2]
        assert second["time"] - first["time"] >= 0.95  # never sooner than Retry-After asked
    if case == "drop_after_apply" and venue in SYNC_VENUES:
        # The reply was lost: only a query could say "cancelled", and it did.
        assert out.provenance == {"venue_query": FAULT_ORDERS}
        assert len(out.cancel_requests) == 1
    if case == "drop_before_apply" and venue in SYNC_VENUES:
        # Nothing came back, the query found the orders open, so they were sent a second time.
        assert all(o.attempts == 2 for o in final.orders)
    if case in ("malformed", "query_malformed") and venue in SYNC_VENUES:
        assert out.provenance == {"venue_query": FAULT_ORDERS}
    if case == "omit" and venue in SYNC_VENUES:
        assert out.provenance == {"venue_query": 1, "venue_response": FAULT_ORDERS - 1}
    if case in ("query_malformed", "query_429"):
        assert out.query_requests >= FAULT_ORDERS + 1  # the spoiled answer was asked again
    if case == "clock_skew":
        rejected = [
            e for e in final.events if e.venue_code in CLOCK_CODES or (venue == "bitopro" and e.http_status == 409)
        ]
        assert rejected, "the skewed clock was never noticed"
        if venue in TIME_ENDPOINT_VENUES:
            assert out.time_requests >= 1  # re-measured (the first measure came before the skew)
    if case == "read_timeout":
        first_order = final.orders[0]
        name = f"{first_order.symbol}:order_id={first_order.order_id}"
        triggers = [e.trigger for e in final.events if e.order == name]
        assert triggers[:2] == ["send", "lose"]  # a timeout is "may have arrived", never a guess
    if case == "connection_refused":
        # Provably never reached the venue: back to pending, never forced terminal.
        assert (out.first_status, out.first_counts) == ("open", {"pending": FAULT_ORDERS})
        assert out.resumed
    if case == "down_past_deadline":
        # The cancels may have landed: unknown, and the job stays open until a query can tell.
        assert (out.first_status, out.first_counts) == ("open", {"unknown": FAULT_ORDERS})
        assert out.resumed and out.provenance == {"venue_query": FAULT_ORDERS}
