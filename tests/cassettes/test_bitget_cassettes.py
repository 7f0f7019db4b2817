"""Bitget spot v2 cassettes: ``successList`` confirmed by query, ``failureList`` by code, whole-request errors."""

from __future__ import annotations

import json

import pytest

from safecancel import AuthError

from .conftest import Rig, by_ref, reply_json, statuses

VENUE = "bitget"
SYMBOL = "BTCUSDT"
CANCEL = "/api/v2/spot/trade/batch-cancel-order"
QUERY = "/api/v2/spot/trade/orderInfo"
pytestmark = pytest.mark.vcr


def test_success(fake_rig: Rig) -> None:
    """``successList`` is not proof the cancel took effect: each order is confirmed by ``orderInfo``."""
    ids = ["6101", "6102", "6103"]
    fake_rig.seed(SYMBOL, [{"order_id": i} for i in ids])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 3}
    assert {o.provenance for o in r.orders} == {"venue_query"}
    [(req, resp)] = fake_rig.exchanges(CANCEL)
    assert json.loads(req.body)["orderList"] == [{"orderId": i} for i in ids]
    assert [s["orderId"] for s in reply_json(resp)["data"]["successList"]] == ids
    assert len(fake_rig.exchanges(QUERY)) == 3


def test_success_trusting_the_success_list(fake_rig: Rig) -> None:
    """With ``trust_success_list`` the reply settles it: one request after the clock, no queries."""
    fake_rig.seed(SYMBOL, [{"order_id": "6151", "client_order_id": "bg-ok-1"}])
    client = fake_rig.client(options={"trust_success_list": True})
    r = client.cancel(VENUE, SYMBOL, client_order_ids=["bg-ok-1"])
    assert r.status == "done" and (r.orders[0].state, r.orders[0].provenance) == ("cancelled", "venue_response")
    assert [rq.path for rq, _ in fake_rig.exchanges()] == ["/api/v2/public/time", CANCEL]


def test_partial_failure(fake_rig: Rig) -> None:
    """``failureList`` codes (45055 filled, 50062 closed, 43001 unknown) are ambiguous: queried."""
    fake_rig.seed(SYMBOL, [{"order_id": "6201"}, {"order_id": "6202", "status": "filled"}])
    fake_rig.seed(SYMBOL, [{"order_id": "6203", "status": "cancelled"}])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["6201", "6202", "6203", "6204"])
    got = by_ref(r)
    assert r.status == "done"
    assert (got["6201"].state, got["6201"].provenance) == ("cancelled", "venue_query")
    assert (got["6202"].state, got["6202"].reason, got["6202"].provenance) == ("failed", "filled", "venue_query")
    assert (got["6203"].state, got["6203"].provenance) == ("cancelled", "venue_query")
    assert (got["6204"].state, got["6204"].reason, got["6204"].provenance) == ("failed", "not_found", "venue_query")
    [(_, resp)] = fake_rig.exchanges(CANCEL)
    failures = {f["orderId"]: f["errorCode"] for f in reply_json(resp)["data"]["failureList"]}
    assert failures == {"6202": "45055", "6203": "50062", "6204": "43001"}


def test_whole_request_error(fake_rig: Rig) -> None:
    """A bad signature: HTTP 400 ``40009``; auth, nothing applied."""
    fake_rig.seed(SYMBOL, [{"order_id": "6301"}])
    client = fake_rig.client(creds=fake_rig.wrong_secret())
    with pytest.raises(AuthError) as err:
        client.cancel(VENUE, SYMBOL, order_ids=["6301"])
    assert err.value.venue_code == "40009"
    assert dict(client.history()[0].counts) == {"pending": 1}
    ledger = fake_rig.ledger()
    if ledger is not None:
        assert ledger["6301"]["status"] == "open" and ledger["6301"]["cancel_requests"] == 0
    # The job stayed open: with the right secret, resume() finishes it (and leaves nothing resting).
    [done] = fake_rig.client().resume()
    assert done.status == "done" and done.orders[0].state == "cancelled"
    # (Checked at the end: a replay's cassette holds every exchange from the start.)
    assert statuses(fake_rig.exchanges(CANCEL)) == [400, 200]


def test_server_error_then_query(fake_rig: Rig) -> None:
    """A 500 (``40015``) may have been applied: queried; found open, sent again."""
    fake_rig.seed(SYMBOL, [{"order_id": "6401"}, {"order_id": "6402"}])
    fake_rig.fault("cancel", "status", status=500)
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["6401", "6402"])
    assert r.status == "done" and r.counts == {"cancelled": 2}
    assert {o.attempts for o in r.orders} == {2}
    sent = statuses(fake_rig.exchanges(CANCEL))
    assert sent[0] == 500 and sent[1:] in ([200], [200, 200])
