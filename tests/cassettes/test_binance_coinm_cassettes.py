"""Binance COIN-M cassettes: success, ``-2011`` elements, whole-request errors, replayed through the Client.

The three scenarios of the ``rig`` fixture cancel by client order id, so they can also be recorded
against the Binance testnet: the ids are fixed here, the test places the orders itself when it
records live (see :func:`place_live_orders`), and the replay sends the same ids again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from safecancel import AuthError
from safecancel.testing import FakeVenue

from .conftest import SETUP_HEADER, Rig, by_ref, reply_json, statuses

VENUE = "binance_coinm"
SYMBOL = "BTCUSD_PERP"
pytestmark = pytest.mark.vcr


def elements(rig: Rig) -> list[Any]:
    """Every element of every batch-cancel reply in the cassette."""
    out: list[Any] = []
    for _, resp in rig.exchanges("/dapi/v1/batchOrders"):
        out.extend(reply_json(resp))
    return out


def test_success(rig: Rig) -> None:
    ids = ["sc-rec-ok-1", "sc-rec-ok-2", "sc-rec-ok-3"]
    rig.seed(SYMBOL, [{"order_id": str(9101 + i), "client_order_id": c} for i, c in enumerate(ids)])
    r = rig.client().cancel(VENUE, SYMBOL, client_order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 3}
    assert {(o.provenance, o.attempts) for o in r.orders} == {("venue_response", 1)}
    # One server-time request (the clock offset), then one batch for all three: nothing else.
    assert [rq.path for rq, _ in rig.exchanges()] == ["/dapi/v1/time", "/dapi/v1/batchOrders"]
    assert {e["clientOrderId"] for e in elements(rig)} == set(ids)
    ledger = rig.ledger()
    if ledger is not None:
        assert all(ledger[c]["status"] == "cancelled" for c in ids)


def test_partial_failure(rig: Rig) -> None:
    """One open order and one the venue never had: a ``-2011`` element without any id comes back."""
    rig.seed(SYMBOL, [{"order_id": "9201", "client_order_id": "sc-rec-part-1"}])
    r = rig.client().cancel(VENUE, SYMBOL, client_order_ids=["sc-rec-part-1", "sc-rec-never-1"])
    got = by_ref(r)
    assert r.status == "done"
    assert (got["sc-rec-part-1"].state, got["sc-rec-part-1"].provenance) == ("cancelled", "venue_response")
    never = got["sc-rec-never-1"]
    assert (never.state, never.reason, never.provenance) == ("failed", "not_found", "venue_query")
    assert [e.get("code") for e in elements(rig)].count(-2011) == 1
    # The -2011 element names no order, so the unmatched id is queried (and answered -2013).
    queries = rig.exchanges("/dapi/v1/order")
    assert len(queries) == 1 and reply_json(queries[0][1])["code"] == -2013


def test_whole_request_error(rig: Rig) -> None:
    """A signature the venue cannot verify: ``-1022`` for the whole request, nothing cancelled."""
    rig.seed(SYMBOL, [{"order_id": "9301", "client_order_id": "sc-rec-auth-1"}])
    client = rig.client(creds=rig.wrong_secret())
    with pytest.raises(AuthError) as err:
        client.cancel(VENUE, SYMBOL, client_order_ids=["sc-rec-auth-1"])
    assert err.value.venue_code == "-1022"
    job = client.history()[0]
    assert job.status == "open" and dict(job.counts) == {"pending": 1}
    ledger = rig.ledger()
    if ledger is not None:
        assert ledger["sc-rec-auth-1"]["status"] == "open" and ledger["sc-rec-auth-1"]["cancel_requests"] == 0
    # The job stayed open: with the right secret, resume() finishes it (and leaves nothing resting).
    [done] = rig.client().resume()
    assert done.status == "done" and done.orders[0].state == "cancelled"
    # (Checked at the end: a replay's cassette holds every exchange from the start.)
    assert statuses(rig.exchanges("/dapi/v1/batchOrders")) == [400, 200]


def test_partial_failure_by_order_id(fake_rig: Rig) -> None:
    """The classic mix: open, filled, already cancelled, never existed; every miss is a ``-2011``."""
    fake_rig.seed(SYMBOL, [{"order_id": "9401"}, {"order_id": "9402"}])
    fake_rig.seed(SYMBOL, [{"order_id": "9403", "status": "filled"}, {"order_id": "9404", "status": "cancelled"}])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["9401", "9402", "9403", "9404", "9405"])
    got = by_ref(r)
    assert r.status == "done"
    assert [(got[i].state, got[i].provenance) for i in ("9401", "9402")] == [("cancelled", "venue_response")] * 2
    assert (got["9403"].state, got["9403"].reason, got["9403"].provenance) == ("failed", "filled", "venue_query")
    assert (got["9404"].state, got["9404"].provenance) == ("cancelled", "venue_query")
    assert (got["9405"].state, got["9405"].reason) == ("failed", "not_found")
    assert [e.get("code") for e in elements(fake_rig)].count(-2011) == 3


def test_server_error_then_query(fake_rig: Rig) -> None:
    """A 500 may have been applied: every order of the chunk is queried, none is sent twice."""
    fake_rig.seed(SYMBOL, [{"order_id": "9501"}, {"order_id": "9502"}])
    fake_rig.fault("cancel", "status", status=500)
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["9501", "9502"])
    assert r.status == "done"
    got = by_ref(r)
    # Nothing was applied (a status fault changes nothing), so the query finds both open and they are sent again.
    assert [(got[i].state, got[i].attempts) for i in ("9501", "9502")] == [("cancelled", 2)] * 2
    sent = statuses(fake_rig.exchanges("/dapi/v1/batchOrders"))
    # Each requeued order gets its own jittered delay, so they may go out again one by one.
    assert sent[0] == 500 and sent[1:] in ([200], [200, 200])
    assert len(fake_rig.exchanges("/dapi/v1/order")) == 2


def test_not_processed_is_resent(fake_rig: Rig) -> None:
    """``-1001`` (503) means the venue did not process it: resent at once, no query needed."""
    fake_rig.seed(SYMBOL, [{"order_id": "9601"}])
    fake_rig.fault("cancel", "status", status=503)
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["9601"])
    assert r.status == "done" and r.orders[0].state == "cancelled" and r.orders[0].attempts == 2
    assert statuses(fake_rig.exchanges("/dapi/v1/batchOrders")) == [503, 200]
    assert fake_rig.exchanges("/dapi/v1/order") == []


# -- recording against the testnet ------------------------------------------------------------------

# BUY this far below the mark price: it rests (Binance refuses limit prices outside its percent-price
# band, about 5% for BTCUSD_PERP, so it cannot go much lower) and fills only on a crash mid-recording.
LIVE_PRICE_FACTOR = 0.97


def signed_order_query(symbol: str, client_id: str, price: str, secret: str, now_ms: int) -> str:
    """The query of ``POST /dapi/v1/order`` for one resting limit order, signed as Binance documents."""
    query = urlencode(
        [
            ("symbol", symbol),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", price),
            ("newClientOrderId", client_id),
            ("recvWindow", "5000"),
            ("timestamp", str(now_ms)),
        ]
    )
    return query + "&signature=" + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def place_live_orders(rig: Rig, symbol: str, orders: list[dict[str, Any]]) -> None:
    """Place the scenario's open orders on the live venue (the testnet), by their client ids.

    Sent with :data:`SETUP_HEADER`, which the cassette scrubber drops: placing is set-up, not part of
    what is replayed. Each order is one contract (BTCUSD_PERP: 100 USD) bought below the market.
    """
    headers = {"X-MBX-APIKEY": rig.creds.api_key, SETUP_HEADER: "1"}
    with requests.Session() as s:
        server_ms = s.get(rig.base_url + "/dapi/v1/time", headers=headers, timeout=10).json()["serverTime"]
        offset = server_ms - int(time.time() * 1000)
        index = s.get(rig.base_url + "/dapi/v1/premiumIndex", params={"symbol": symbol}, headers=headers, timeout=10).json()
        mark = float((index[0] if isinstance(index, list) else index)["markPrice"])
        price = str(math.floor(mark * LIVE_PRICE_FACTOR))  # a whole number is on the 0.1 tick grid
        for o in orders:
            cid = o.get("client_order_id")
            assert cid, "live scenarios cancel by client order id: the venue assigns the order ids"
            query = signed_order_query(symbol, cid, price, rig.creds.api_secret, int(time.time() * 1000) + offset)
            resp = s.post(f"{rig.base_url}/dapi/v1/order?{query}", headers=headers, timeout=10)
            if resp.status_code != 200:
                # The message never carries the key or the query: the venue's own words only.
                raise RuntimeError(f"placing {cid} on {rig.base_url} failed: HTTP {resp.status_code} {resp.text[:200]}")


def test_live_order_signing_is_what_the_fake_verifies() -> None:
    """The placement helper cannot be run here (no testnet); its signing is checked by the fake's own code."""
    from safecancel.testing.dialects.binance_coinm import BinanceCoinMDialect
    from safecancel.testing.wire import Context, FakeRequest

    fake = FakeVenue()  # never started: only its clock and credentials are used
    now = fake.venue_now_ms(VENUE)
    query = signed_order_query(SYMBOL, "sc-rec-ok-1", "50000", "test-secret", now)
    req = FakeRequest("POST", "/dapi/v1/order", query, {"x-mbx-apikey": "test-key"}, b"", "127.0.0.1")
    params, denied = BinanceCoinMDialect()._authenticate(req, Context(fake, VENUE, []))
    assert denied is None and params["newclientorderid"] == "sc-rec-ok-1"
    bad = signed_order_query(SYMBOL, "sc-rec-ok-1", "50000", "other-secret", now)
    _, denied = BinanceCoinMDialect()._authenticate(FakeRequest("POST", "/dapi/v1/order", bad, {"x-mbx-apikey": "test-key"}, b"", ""), Context(fake, VENUE, []))
    assert denied is not None and json.loads(denied.body)["code"] == -1022

