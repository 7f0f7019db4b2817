"""Pacing from each venue's documented accounting: weighted buckets, the shared budget, the readings a
venue's docs leave open, and the bound a benchmark holds a run against. Time is a FakeClock throughout."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from safecancel import Client, Credentials, VenueConfig
from safecancel.clock import FakeClock
from safecancel.errors import InputError
from safecancel.pacing import PACING_MARGIN, endpoint_rates, rate_bound, shared_bucket, shared_pacing
from safecancel.testing.dialects.binance_coinm import ORDERS, BinanceCoinMDialect
from safecancel.testing.wire import FakeRequest
from safecancel.transport import TokenBucket
from safecancel.venues import VENUE_NAMES, venue_class
from safecancel.venues.base import PACED_KINDS, Budget, Rate

BN = venue_class("binance_coinm")
CREDS = Credentials("k", "s", "p", "i")


def elapsed(clock: FakeClock, run) -> float:
    start = clock.monotonic()
    run()
    return clock.monotonic() - start


# -- the weighted bucket ------------------------------------------------------------------------


def test_a_drawing_bucket_spends_its_cost_from_the_shared_budget() -> None:
    clock = FakeClock()
    budget = TokenBucket(100.0, 1.0, clock, label="budget")  # 100 units/s, no burst to speak of
    light = TokenBucket.drawing(((budget, 1.0),), label="light")
    heavy = TokenBucket.drawing(((budget, 10.0),), label="heavy")
    assert light.rate == pytest.approx(100.0) and heavy.rate == pytest.approx(10.0)

    def run() -> None:
        for _ in range(20):
            light.acquire()
            heavy.acquire()

    # 20 * (1 + 10) units at 100/s, less the one unit the full bucket held at the start, and less the last
    # heavy request's debt beyond its first unit (nobody waits that out here).
    assert elapsed(clock, run) == pytest.approx((20 * 11 - 1 - 9) / 100.0, abs=0.01)


def test_a_request_spends_from_every_budget_it_draws_on_and_waits_for_the_slowest() -> None:
    clock = FakeClock()
    own = TokenBucket(5.0, 1.0, clock, label="own")  # the endpoint's own rate
    shared = TokenBucket(100.0, 1.0, clock, label="shared")  # a budget it shares with others
    bucket = TokenBucket.drawing(((own, 1.0), (shared, 1.0)), label="both")
    assert bucket.rate == pytest.approx(5.0)
    assert elapsed(clock, lambda: [bucket.acquire() for _ in range(11)]) == pytest.approx(2.0, abs=0.01)
    # ...and what it spent is gone from the shared budget for everyone else.
    other = TokenBucket.drawing(((shared, 1.0),), label="other")
    assert elapsed(clock, lambda: [other.acquire() for _ in range(100)]) == pytest.approx(99 / 100.0, abs=0.01)


def test_a_request_heavier_than_the_burst_waits_for_a_full_bucket_then_runs_into_debt() -> None:
    clock = FakeClock()
    budget = TokenBucket(10.0, 5.0, clock, label="budget")  # burst 5, a request of 40
    heavy = TokenBucket.drawing(((budget, 40.0),), label="heavy")
    # First at once (5 units there), then 40 units of debt + the next 5 per request: 4.0 s each.
    assert elapsed(clock, lambda: [heavy.acquire() for _ in range(4)]) == pytest.approx(3 * 4.0, abs=0.01)


def test_a_pause_holds_back_every_bucket_drawing_on_the_paused_budgets() -> None:
    clock = FakeClock()
    shared = TokenBucket(1000.0, 10.0, clock)
    cancel = TokenBucket.drawing(((TokenBucket(1000.0, 10.0, clock), 1.0), (shared, 1.0)), label="cancel")
    query = TokenBucket.drawing(((TokenBucket(1000.0, 10.0, clock), 1.0), (shared, 1.0)), label="query")
    cancel.pause(3.0)  # the venue's 429 on a cancel: it does not say which limit
    assert elapsed(clock, query.acquire) >= 3.0


def test_acquire_with_max_wait_gives_up_without_spending() -> None:
    clock = FakeClock()
    own = TokenBucket(1.0, 1.0, clock)
    shared = TokenBucket(1.0, 1.0, clock)
    bucket = TokenBucket.drawing(((own, 1.0), (shared, 1.0)), label="b")
    assert bucket.acquire()
    assert not bucket.acquire(max_wait=0.5)  # neither has a token for another 0.5 s
    other = TokenBucket.drawing(((shared, 1.0),), label="other")
    # Half a token has come back by now; had the give-up spent one, the wait would be 1.5 s, not 0.5 s.
    assert elapsed(clock, other.acquire) == pytest.approx(0.5, abs=0.01)


def test_a_drawing_bucket_refuses_bad_parts() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError):
        TokenBucket.drawing((), label="none")
    with pytest.raises(ValueError):
        TokenBucket.drawing(((TokenBucket(1.0, 1.0, clock), 0.0),), label="free")
    with pytest.raises(ValueError):
        TokenBucket.drawing(((TokenBucket(1.0, 1.0, clock), 1.0), (TokenBucket(1.0, 1.0, FakeClock()), 1.0)), label="x")


def test_threads_drawing_on_shared_budgets_in_opposite_orders_do_not_deadlock() -> None:
    clock = FakeClock()
    a, b = TokenBucket(1e6, 100.0, clock), TokenBucket(1e6, 100.0, clock)
    ab = TokenBucket.drawing(((a, 1.0), (b, 1.0)), label="ab")
    ba = TokenBucket.drawing(((b, 1.0), (a, 1.0)), label="ba")
    done: list[int] = []

    def worker(bucket: TokenBucket) -> None:
        for _ in range(2000):
            bucket.acquire()
        done.append(1)

    threads = [threading.Thread(target=worker, args=(x,)) for x in (ab, ba, ab, ba)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(done) == 4


# -- the venues' accounting -------------------------------------------------------------------


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_accounting_facts_are_well_formed(venue: str) -> None:
    cls = venue_class(venue)
    for kind in PACED_KINDS:
        rate = getattr(cls, f"{kind}_rate")
        assert isinstance(rate, Rate) and rate.per_second > 0
    budget = cls.shared_budget
    assert budget is None or (isinstance(budget, Budget) and budget.weights.get("cancel", 0) >= 1)
    options = cls.pacing_options
    assert (cls.default_pacing is None) is (not options)
    if options:
        assert cls.default_pacing in options and not options[cls.default_pacing]  # the *_rate attributes
        for changes in options.values():
            assert set(changes) <= set(PACED_KINDS)


def test_binance_budget_weights_are_the_documented_ones() -> None:
    budget = BN.shared_budget
    assert budget is not None and budget.per == "ip" and budget.limit == Rate(2400, 60.0)
    assert dict(budget.weights) == {"cancel": 1, "query": 1, "list": 40, "cancel_all": 1, "countdown": 10}
    # The conservative reading paces batch cancels at the per-account ORDERS limit, as the fake's does.
    assert (BN.cancel_rate.requests, BN.cancel_rate.per_seconds) == ORDERS
    assert BN.default_pacing == "orders" and dict(BN.pacing_options["weight"])["cancel"] == Rate(2400, 60.0)


def test_the_fake_spends_binance_weights_per_route_from_its_own_reading() -> None:
    dialect = BinanceCoinMDialect()

    def spent(endpoint: str, query: str = "") -> dict[str, int]:
        return dialect.spend(endpoint, FakeRequest("GET", "/", query, {}, b"", "127.0.0.1"))

    assert spent("cancel", "symbol=BTCUSD_PERP") == {"REQUEST_WEIGHT": 1}
    assert spent("list_open", "symbol=BTCUSD_PERP") == {"REQUEST_WEIGHT": 1}
    assert spent("list_open") == {"REQUEST_WEIGHT": 40}
    assert spent("list_history", "symbol=BTCUSD_PERP") == {"REQUEST_WEIGHT": 20}
    assert spent("countdown", "symbol=BTCUSD_PERP") == {"REQUEST_WEIGHT": 10}
    counting = BinanceCoinMDialect(cancels_count_as_orders=True)
    assert counting.spend("cancel", FakeRequest("DELETE", "/", "", {}, b"", "h")) == {"REQUEST_WEIGHT": 1, "ORDERS": 1}
    assert "ORDERS" not in counting.spend("query", FakeRequest("GET", "/", "", {}, b"", "h"))


def test_binance_cancels_and_queries_share_one_weight_budget() -> None:
    clock = FakeClock()
    paced = shared_pacing(BN, "key-a", "http://127.0.0.1:1/shared", clock, pacing="weight")
    weight_per_s = 2400 / 60 * PACING_MARGIN  # 38/s
    burst = 2400 * (1 - PACING_MARGIN)  # 120

    def run() -> None:
        for _ in range(400):
            paced.cancel.acquire()
            paced.query.acquire()

    # 800 requests of weight 1 from one budget: (800 - burst) / 38 s, not the 400 / 38 s two budgets would take.
    assert elapsed(clock, run) == pytest.approx((800 - burst) / weight_per_s, rel=0.02)


def test_two_keys_on_one_address_share_the_per_ip_budget() -> None:
    clock = FakeClock()
    url = "http://127.0.0.1:1/two-keys"
    a = shared_bucket("query", BN, "key-a", url, clock)
    b = shared_bucket("query", BN, "key-b", url, clock)

    def run() -> None:
        for _ in range(300):
            a.acquire()
            b.acquire()

    assert elapsed(clock, run) == pytest.approx((600 - 120) / 38.0, rel=0.02)


def test_listings_spend_forty_and_leave_less_for_cancels() -> None:
    clock = FakeClock()
    paced = shared_pacing(BN, "key-a", "http://127.0.0.1:1/lists", clock, pacing="weight")

    def run() -> None:
        for _ in range(10):
            paced.list.acquire()  # 40 each
            for _ in range(40):
                paced.cancel.acquire()  # 1 each

    assert elapsed(clock, run) == pytest.approx((10 * 80 - 120) / 38.0, rel=0.03)


def test_the_pacing_option_switches_the_accounting() -> None:
    clock = FakeClock()
    url = "http://127.0.0.1:1/option"
    default = shared_pacing(BN, "key-a", url, clock)
    orders = shared_pacing(BN, "key-a", url, clock, pacing="orders")
    weight = shared_pacing(BN, "key-a", url, clock, pacing="weight")
    assert default.cancel.rate == pytest.approx(orders.cancel.rate) == pytest.approx(1200 / 60 * PACING_MARGIN)
    assert weight.cancel.rate == pytest.approx(2400 / 60 * PACING_MARGIN)
    assert default.query.rate == weight.query.rate == pytest.approx(2400 / 60 * PACING_MARGIN)
    assert endpoint_rates(BN, pacing="weight")["cancel_all"] == Rate(2400, 60.0)
    assert endpoint_rates(BN)["cancel_all"] == Rate(1200, 60.0)
    # 200 cancels: ORDERS (19/s after a burst of 60) against REQUEST_WEIGHT alone (38/s after 120).
    clock2 = FakeClock()
    conservative = shared_bucket("cancel", BN, "key-a", url, clock2)
    assert elapsed(clock2, lambda: [conservative.acquire() for _ in range(200)]) == pytest.approx(140 / 19.0, rel=0.02)
    clock3 = FakeClock()
    fast = shared_bucket("cancel", BN, "key-a", url, clock3, pacing="weight")
    assert elapsed(clock3, lambda: [fast.acquire() for _ in range(200)]) == pytest.approx(80 / 38.0, rel=0.02)


def test_bitopro_cancels_and_queries_stay_inside_its_600_per_minute_together() -> None:
    clock = FakeClock()
    paced = shared_pacing(venue_class("bitopro"), "key-a", "http://127.0.0.1:1/bitopro", clock)

    def run() -> None:
        for _ in range(100):
            paced.cancel.acquire()  # 2/s of its own
            for _ in range(5):
                paced.query.acquire()  # 10/s of its own

    # 600 requests: the cancels alone would take ~52 s and the queries ~50 s side by side; together they
    # are held to 600/min (9.5/s): ~62 s.
    assert elapsed(clock, run) == pytest.approx((600 - 30) / 9.5, rel=0.03)


def test_a_rate_override_keeps_cancels_and_queries_to_that_rate_alone() -> None:
    clock = FakeClock()
    paced = shared_pacing(BN, "key-a", "http://127.0.0.1:1/override", clock, rate=Rate(6000, 60.0))
    assert paced.cancel.rate == paced.query.rate == pytest.approx(100 * PACING_MARGIN)
    assert paced.list.rate == pytest.approx(1.0 * PACING_MARGIN)  # still the documented 60/min, weight 40


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_other_venues_keep_their_per_endpoint_rates(venue: str) -> None:
    cls = venue_class(venue)
    paced = shared_pacing(cls, "key-a", f"http://127.0.0.1:1/{venue}", FakeClock())
    for kind in PACED_KINDS:
        own = getattr(cls, f"{kind}_rate").per_second
        assert getattr(paced, kind).rate == pytest.approx(own * PACING_MARGIN)


# -- the bound --------------------------------------------------------------------------------


def test_rate_bound_of_binance_under_each_reading() -> None:
    assert rate_bound(BN, 2000, 0) == pytest.approx(100.0)  # 20,000 orders at 1200/min
    assert rate_bound(BN, 2000, 0, pacing="weight") == pytest.approx(50.0)  # at 2400/min
    assert rate_bound(BN, 0, 1000) == pytest.approx(25.0)  # queries: weight 1 of 2400/min
    assert rate_bound(BN, 1000, 1000, pacing="weight") == pytest.approx(50.0)  # one budget for both
    assert rate_bound(BN, 0, 0, lists=3) == pytest.approx(3.0)  # 40 each of 2400/min


def test_rate_bound_of_the_per_endpoint_venues() -> None:
    htx = venue_class("htx")  # 50 / 2 s each, counted apart: cancels then the queries confirming them
    assert rate_bound(htx, 400, 20_000) == pytest.approx(400 / 25 + 20_000 / 25)
    bitopro = venue_class("bitopro")  # cancels 2/s, queries within 600/min; together within 600/min
    assert rate_bound(bitopro, 100, 1000) == pytest.approx(100 / 2 + 1000 / 10)
    assert rate_bound(bitopro, 600, 0) == pytest.approx(300.0)
    assert rate_bound(venue_class("bingx"), 50, 0) == pytest.approx(25.0)


def test_rate_bound_refuses_what_it_cannot_answer() -> None:
    with pytest.raises(InputError, match="binance_coinm: pacing must be one of 'orders', 'weight'"):
        rate_bound(BN, 1, 0, pacing="fast")
    with pytest.raises(ValueError):
        rate_bound(BN, -1, 0)


# -- the option, as a user sets it ---------------------------------------------------------------


def test_venue_config_takes_a_documented_reading_and_names_the_choices_otherwise() -> None:
    assert VenueConfig("binance_coinm", pacing="weight").pacing == "weight"
    with pytest.raises(InputError, match=r"^binance_coinm: pacing must be one of 'orders', 'weight'.*'fast'"):
        VenueConfig("binance_coinm", pacing="fast")
    with pytest.raises(InputError, match=r"^htx: pacing does not apply"):
        VenueConfig("htx", pacing="weight")


def test_the_client_paces_by_the_configured_reading(tmp_path: Path) -> None:
    url = "http://127.0.0.1:1/client-option"
    configs = [VenueConfig("binance_coinm", credentials=CREDS, base_url=url, pacing="weight")]
    with Client(str(tmp_path / "j.db"), venues=configs, environ={}) as client:
        link = client._link("binance_coinm")
        assert link.cancel_bucket.rate == pytest.approx(2400 / 60 * PACING_MARGIN)
    with Client(str(tmp_path / "k.db"), venues=[VenueConfig("binance_coinm", credentials=CREDS, base_url=url)]) as c:
        assert c._link("binance_coinm").cancel_bucket.rate == pytest.approx(1200 / 60 * PACING_MARGIN)


def test_a_wait_on_the_shared_budget_is_logged_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    paced = shared_pacing(BN, "key-a", "http://127.0.0.1:1/log", clock)
    with caplog.at_level("DEBUG", logger="safecancel.pacing"):
        for _ in range(3):
            paced.list.acquire()  # 120 of REQUEST_WEIGHT: the burst
        paced.query.acquire()  # its own rate has room; the shared budget has none
    assert "binance_coinm query: waiting" in caplog.text
    assert "(binance_coinm REQUEST_WEIGHT, 38.00/s)" in caplog.text
