"""Pacing against the fake venue enforcing Binance COIN-M's documented accounting (its own reading, written
from the docs in its dialect): one REQUEST_WEIGHT budget per IP, and -- where the fake is told cancels count
there -- the per-account ORDERS limit.

Each scenario first spends the fake's budget with requests of its own (another process on the same address)
and lets it refill a few seconds, so that this, refilled at the documented rate, is all the run has: a client
pacing faster than the docs allow is answered 429 within seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from safecancel import Client, VenueConfig
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.binance_coinm import BinanceCoinMDialect
from tests.conftest import CREDS, FAST, SYMBOLS

BN = "binance_coinm"


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def drain(http: requests.Session, fake: FakeVenue, method: str, path: str, refill_s: float) -> None:
    """Spend the budget ``path`` draws on to nothing with unsigned requests (refused, but counted on arrival,
    as the venue counts them), then let it refill for ``refill_s``: what the run starts with."""
    for _ in range(5000):
        if http.request(method, fake.url + path, timeout=5).status_code == 429:
            break
    else:
        pytest.fail(f"{method} {path} was never rate limited: is the fake enforcing its budget?")
    time.sleep(refill_s)


def seed(fake: FakeVenue, n: int) -> list[str]:
    ids = [str(5000 + i) for i in range(n)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    return ids


def cancel(fake: FakeVenue, db: Path, ids: list[str], **config: object) -> tuple[object, list[dict]]:
    before = len(fake.requests(BN))
    venue = VenueConfig(BN, credentials=CREDS, base_url=fake.url, **config)  # type: ignore[arg-type]
    with Client(str(db), venues=[venue], retry=FAST, environ={}, deadline=60.0) as client:
        result = client.cancel(BN, SYMBOLS[BN], order_ids=ids)
    return result, fake.requests(BN)[before:]


def test_3000_orders_under_the_weight_reading_get_no_429_from_what_is_left_of_the_ip_budget(
    tmp_path: Path, http: requests.Session
) -> None:
    with FakeVenue(enforce_rate_limits=True, dialects=[BinanceCoinMDialect()]) as fake:
        ids = seed(fake, 3000)  # 300 batch cancels of 10: past the client's burst, for ~5 s at the paced rate
        # Weight 40 a request until none is left; then 4 s at 40/s: 160, above the client's burst of 120.
        drain(http, fake, "GET", "/dapi/v1/openOrders", refill_s=4.0)
        result, sent = cancel(fake, tmp_path / "j.db", ids, pacing="weight")
        assert result.status == "done" and result.counts == {"cancelled": 3000}  # type: ignore[attr-defined]
        cancels = [r for r in sent if r["endpoint"] == "cancel"]
        assert len(cancels) == 300
        assert not [r for r in sent if r["rate_limited"]]


def test_where_cancels_count_as_orders_the_default_reading_stays_inside_and_the_weight_one_meets_the_net(
    tmp_path: Path, http: requests.Session
) -> None:
    # The conservative reading is the default because the docs do not say cancels spare the ORDERS limit:
    # against a venue that counts them, it gets no 429, where the faster reading is answered 429 and still
    # finishes (a 429 pauses the budgets and the cancels go again).
    for pacing, orders, limited in ((None, 800, False), ("weight", 1400, True)):
        dialect = BinanceCoinMDialect(cancels_count_as_orders=True)
        with FakeVenue(enforce_rate_limits=True, dialects=[dialect]) as fake:
            ids = seed(fake, orders)  # 80 / 140 batch cancels: past either burst and what the drain left
            # ORDERS to nothing, then 3.2 s at 20/s: ~64, above the default's burst (60), below the other's (120).
            drain(http, fake, "DELETE", "/dapi/v1/batchOrders", refill_s=3.2)
            result, sent = cancel(fake, tmp_path / f"{pacing}.db", ids, pacing=pacing)
            assert result.status == "done" and result.counts == {"cancelled": orders}, pacing  # type: ignore[attr-defined]
            assert any(r["rate_limited"] for r in sent) is limited, pacing
