"""Bulk confirmation: many ``unknown`` orders settled per request from the venue's listings.

Asynchronous venues (HTX, Bitget) only accept a cancel, and a crash leaves every written-ahead order
``unknown``: both used to cost one query per order. Now the recent-history and open-order listings
settle every order they show -- each on the venue's word about that order, with the listing page as
its evidence -- and only what no page showed is queried one by one.
"""

from __future__ import annotations

import time
import uuid

import pytest

from safecancel import RetryPolicy
from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from tests.conftest import FAST, SYMBOLS, VENUES

ASYNC = [v for v in VENUES if venue_class(v).asynchronous_cancel]
BN = "binance_coinm"


def endpoint_counts(fake: FakeVenue, venue: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in fake.requests(venue):
        out[r["endpoint"]] = out.get(r["endpoint"], 0) + 1
    return out


def crashed_job(client, fake: FakeVenue, venue: str, symbol: str, ids: list[str]) -> str:
    """A job whose every order was written ahead as ``sent`` by a runner that then vanished."""
    journal = client._journal  # the write-ahead as the engine does it, then nothing: a crash
    job, _ = journal.create_job(
        job_id=uuid.uuid4().hex,
        key=f"crash-{uuid.uuid4().hex}",
        venue=venue,
        account="default",
        refs=client._refs(venue, symbol, ids, None, None),
        now=time.time(),
        base_url=fake.url,
        key_fp=None,
    )
    crash_write_ahead(journal, job.id, journal.orders(job.id, ("pending",)))
    return job.id


def crash_write_ahead(journal, job_id: str, rows) -> None:
    """What a runner does before its requests leave -- take the lease, mark every order ``sent`` -- and
    then nothing: the process is gone, its lease (1 ms) long expired when the resume comes."""
    then = time.time() - 10
    journal.acquire(job_id, "dead-host:1:dead", int(then * 1000), 1, then)
    journal.mark_sent(job_id, "dead-host:1:dead", rows, then, int(then * 1000), 1)


def reads(counts: dict[str, int]) -> int:
    return counts.get("query", 0) + sum(n for ep, n in counts.items() if ep.startswith("list_"))


@pytest.mark.parametrize("venue", ASYNC)
def test_accepted_cancels_are_confirmed_from_listings(make_client, fake, venue) -> None:
    n = 500
    ids = [o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{} for _ in range(n)])]
    result = make_client().cancel(venue, SYMBOLS[venue], order_ids=ids)
    assert result.counts == {"cancelled": n}, result.attention
    assert set(fake.order_status(venue).values()) == {"cancelled"}
    counts = endpoint_counts(fake, venue)
    assert reads(counts) <= 25, counts  # one query per order was 500
    job = make_client().job(result.job_id)
    confirms = [e for e in job.events if e.trigger == "confirm"]
    assert len(confirms) == n and {e.provenance for e in confirms} == {"venue_query"}
    assert all(e.evidence_id is not None for e in confirms)


@pytest.mark.parametrize("venue", VENUES)
def test_a_resume_after_a_crash_after_the_write_ahead_settles_from_listings(make_client, fake, venue) -> None:
    """Every order written ahead as ``sent``, the process gone: half the requests had reached the venue."""
    n = 300
    sym = SYMBOLS[venue]
    ids = [o["order_id"] for o in fake.seed(venue, sym, [{} for _ in range(n)])]
    job_id = crashed_job(make_client(), fake, venue, sym, ids)
    for oid in ids[: n // 2]:  # these requests had gone out before the crash
        order = fake.ledger.find(venue, order_id=oid)
        assert order is not None
        order.status = "cancelled"
    before = endpoint_counts(fake, venue)
    result = make_client().resume(job_id=job_id)[0]
    assert result.counts == {"cancelled": n}, result.attention
    after = endpoint_counts(fake, venue)
    queries = after.get("query", 0) - before.get("query", 0)
    listings = sum(after.get(ep, 0) - before.get(ep, 0) for ep in after if ep.startswith("list_"))
    assert queries <= 5, (queries, after)
    assert listings <= 15, after
    # The half that had gone out is settled from the history listing, without a second cancel.
    cancels = {o["order_id"]: o["cancel_requests"] for o in fake.orders(venue)}
    assert all(cancels[oid] == 0 for oid in ids[: n // 2])


@pytest.mark.parametrize("venue", ASYNC)
def test_failing_listings_fall_back_to_single_queries(make_client, fake, venue) -> None:
    n = 20
    ids = [o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{} for _ in range(n)])]
    for ep in ("list_open", "list_history", "list_conditional"):
        fake.fault(venue, ep, "status", status=503, times=10_000)
    result = make_client().cancel(venue, SYMBOLS[venue], order_ids=ids)
    assert result.counts == {"cancelled": n}
    assert endpoint_counts(fake, venue).get("query", 0) >= n


@pytest.mark.parametrize("venue", ASYNC)
def test_bulk_confirmation_can_be_turned_off(make_client, fake, venue) -> None:
    n = 20
    ids = [o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{} for _ in range(n)])]
    policy = RetryPolicy(**{**FAST.__dict__, "bulk_confirm": 0})
    result = make_client(retry=policy).cancel(venue, SYMBOLS[venue], order_ids=ids)
    assert result.counts == {"cancelled": n}
    counts = endpoint_counts(fake, venue)
    assert not [ep for ep in counts if ep.startswith("list_")]
    assert counts.get("query", 0) >= n


def test_a_filled_order_is_settled_failed_from_history(make_client, fake) -> None:
    """After a crash, an order that filled meanwhile is ``failed``/``filled`` on the history's word."""
    venue = BN
    sym = SYMBOLS[venue]
    ids = [o["order_id"] for o in fake.seed(venue, sym, [{} for _ in range(12)])]
    job_id = crashed_job(make_client(), fake, venue, sym, ids)
    filled = fake.ledger.find(venue, order_id=ids[0])
    assert filled is not None
    filled.status = "filled"
    result = make_client().resume(job_id=job_id)[0]
    by_id = {o.order_id: o for o in result.orders}
    assert (by_id[ids[0]].state, by_id[ids[0]].reason) == ("failed", "filled")
    assert all(by_id[i].state == "cancelled" for i in ids[1:])
    assert endpoint_counts(fake, venue).get("query", 0) == 0
