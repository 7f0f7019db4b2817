"""A deadline is a promise: ``cancel``/``resume`` give control back at it, with the job open for ``resume``.

The deadline is checked before every request (cancel and query), bounds every wait for the venue's
rate or its Retry-After, and caps the timeout of a request in flight. What could not be done in time
stays exactly as it is: orders whose requests never left go back to ``pending`` (not ``sent``, which
would cost a query), orders waiting for a query stay ``unknown``; nothing is called cancelled or
failed for want of time, and the job says why it stopped.

The time bounds asserted here are generous (seconds, against runs that would take ten times longer
without the deadline): they show the call returned at the deadline, not that it is fast.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from safecancel import Rate, VenueConfig
from tests.conftest import FAST, seed_open
from tests.integration._harness import CREDS, SYMBOLS

BN = "binance_coinm"


@pytest.fixture
def slow_rate(make_client):
    """A client whose Binance pacing lets out 4 requests a second: 300 orders (30 chunks) need ~7 s."""

    def factory(**kw):
        return make_client(venues=[VenueConfig(BN, credentials=CREDS, base_url=kw.pop("url"), rate=Rate(4, 1.0))], **kw)

    return factory


def test_cancel_returns_at_its_deadline_with_the_rest_pending_and_resume_finishes(fake, slow_rate, make_client) -> None:
    ids = seed_open(fake, BN, 300, start=61_000)
    client = slow_rate(url=fake.url)
    started = time.monotonic()
    first = client.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=1.0)
    took = time.monotonic() - started
    assert took < 3.0, took  # ~7 s of paced sends were due: the call stopped at its deadline
    assert first.status == "open"
    states = first.counts
    assert states.get("pending", 0) > 0 and "sent" not in states, states
    assert set(states) <= {"cancelled", "pending"}, states
    assert "deadline passed" in (first.attention or "") and "resume" in (first.attention or "")
    # Every `pending` order is still open at the venue: nothing was said about it that it did not say.
    venue_says = fake.order_status(BN)
    assert all(venue_says[o.order_id] == "open" for o in first.orders if o.state == "pending")
    assert client.audit().ok
    done = make_client().resume(first.job_id, deadline=30)[0]  # the documented pacing: no need to wait
    assert done.status == "done" and done.counts == {"cancelled": 300}
    assert {fake.order_status(BN)[i] for i in ids} == {"cancelled"}
    assert client.audit().ok


def test_resume_of_unknown_orders_stops_querying_at_its_deadline(fake, slow_rate, make_client) -> None:
    ids = seed_open(fake, BN, 40, start=62_000)
    # Bulk confirmation off: the unknown orders are asked one query each (the listings would settle
    # all 40 in one page; the deadline between queries is what this test is about).
    client = slow_rate(url=fake.url, retry=replace(FAST, bulk_confirm=0))
    # Every cancel is applied but its reply is lost: all 40 orders are `unknown`, to be queried one by one.
    fake.fault(BN, "cancel", "drop_after_apply", times=4)
    first = client.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=0.8)
    assert first.status == "open"
    unknown = first.counts.get("unknown", 0) + first.counts.get("pending", 0)
    assert unknown > 0, first.counts
    started = time.monotonic()
    second = client.resume(first.job_id, deadline=1.0)[0]
    took = time.monotonic() - started
    assert took < 3.0, took  # 40 queries at 4/s are ~10 s of work
    assert second.status == "open" and "deadline passed" in (second.attention or "")
    assert set(second.counts) <= {"cancelled", "unknown", "pending"}, second.counts
    assert client.audit().ok
    done = make_client(retry=replace(FAST, bulk_confirm=0)).resume(first.job_id, deadline=60)[0]
    assert done.status == "done" and done.counts == {"cancelled": 40}


def test_a_slow_reply_is_cut_at_the_deadline_and_its_orders_are_queried_later(fake, make_client) -> None:
    ids = seed_open(fake, BN, 5, start=63_000)
    client = make_client()
    client.open_orders(BN, SYMBOLS[BN])  # the server clock is measured: the cancel is the first request
    fake.fault(BN, "cancel", "delay", delay_ms=4000, times=1)  # this cancel takes 4 s: past a 1 s deadline
    started = time.monotonic()
    first = client.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=1.0)
    took = time.monotonic() - started
    assert took < 3.0, took
    # The request may have arrived: a timeout proves nothing, so the orders are `unknown`, never failed.
    assert first.status == "open" and first.counts == {"unknown": 5}, first.counts
    done = client.resume(first.job_id, deadline=30)[0]
    assert done.status == "done" and done.counts == {"cancelled": 5}
    assert client.audit().ok


def test_the_clock_measurement_is_bounded_by_the_deadline_too(fake, make_client) -> None:
    ids = seed_open(fake, BN, 5, start=64_000)
    fake.latency_ms = 4000  # every request, the server-time one first, takes 4 s
    try:
        started = time.monotonic()
        first = make_client().cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=1.0)
        took = time.monotonic() - started
    finally:
        fake.latency_ms = 0
    assert took < 3.0, took
    # Nothing is settled for want of time: `pending` if the clock's measurement (made once per venue key
    # in a process: another test may have made it) used up the time, `unknown` if the cancel was cut.
    assert first.status == "open" and set(first.counts) <= {"pending", "unknown"}, first.counts
    assert "deadline passed" in (first.attention or "")
    venue_says = fake.order_status(BN)
    assert all(venue_says[o.order_id] == "open" for o in first.orders if o.state == "pending")
