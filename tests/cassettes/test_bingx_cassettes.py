"""BingX spot cassettes: success, ``fails[]`` (``process=1``), HTTP-200 error bodies, replayed through the Client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from safecancel import AuthError

from .conftest import Rig, by_ref, reply_json, statuses

VENUE = "bingx"
SYMBOL = "BTC-USDT"
CANCEL = "/openApi/spot/v1/trade/cancelOrders"
QUERY = "/openApi/spot/v1/trade/query"
pytestmark = pytest.mark.vcr


def test_success(fake_rig: Rig) -> None:
    ids = ["7101", "7102", "7103"]
    fake_rig.seed(SYMBOL, [{"order_id": i} for i in ids])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 3}
    assert {o.provenance for o in r.orders} == {"venue_response"}
    [(req, resp)] = fake_rig.exchanges(CANCEL)
    sent = parse_qs(urlsplit(req.uri).query)
    # process=1, so one bad id cannot fail the batch; the ids travel comma-separated.
    assert sent["process"] == ["1"] and sent["orderIds"] == [",".join(ids)]
    body = reply_json(resp)
    assert body["code"] == 0 and body["data"]["fails"] == [] and len(body["data"]["orders"]) == 3


def test_partial_failure(fake_rig: Rig) -> None:
    """Filled, already cancelled and unknown ids come back in ``fails[]`` with free text and no code."""
    fake_rig.seed(SYMBOL, [{"order_id": "7201"}, {"order_id": "7202", "status": "filled"}])
    fake_rig.seed(SYMBOL, [{"order_id": "7203", "status": "cancelled"}])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["7201", "7202", "7203", "7204"])
    got = by_ref(r)
    assert r.status == "done"
    assert (got["7201"].state, got["7201"].provenance) == ("cancelled", "venue_response")
    # fails[] says the same for all three, so each is settled by a query, never by the text.
    assert (got["7202"].state, got["7202"].reason, got["7202"].provenance) == ("failed", "filled", "venue_query")
    assert (got["7203"].state, got["7203"].provenance) == ("cancelled", "venue_query")
    assert (got["7204"].state, got["7204"].reason, got["7204"].provenance) == ("failed", "not_found", "venue_query")
    [(_, resp)] = fake_rig.exchanges(CANCEL)
    assert sorted(f["orderId"] for f in reply_json(resp)["data"]["fails"]) == ["7202", "7203", "7204"]
    assert len(fake_rig.exchanges(QUERY)) == 3


def test_whole_request_error(fake_rig: Rig) -> None:
    """A bad signature is an HTTP 200 whose body says ``100001``: auth, nothing applied."""
    fake_rig.seed(SYMBOL, [{"order_id": "7301"}])
    client = fake_rig.client(creds=fake_rig.wrong_secret())
    with pytest.raises(AuthError) as err:
        client.cancel(VENUE, SYMBOL, order_ids=["7301"])
    assert err.value.venue_code == "100001"
    assert dict(client.history()[0].counts) == {"pending": 1}
    ledger = fake_rig.ledger()
    if ledger is not None:
        assert ledger["7301"]["status"] == "open" and ledger["7301"]["cancel_requests"] == 0
    # The job stayed open: with the right secret, resume() finishes it (and leaves nothing resting).
    [done] = fake_rig.client().resume()
    assert done.status == "done" and done.orders[0].state == "cancelled"
    # (Checked at the end: a replay's cassette holds every exchange from the start.)
    (_, resp), (_, retried) = fake_rig.exchanges(CANCEL)
    assert resp["status"]["code"] == 200 and reply_json(resp)["code"] == 100001
    assert retried["status"]["code"] == 200


def test_server_error_then_query(fake_rig: Rig) -> None:
    """A 500 may have been applied: queried first; found open (nothing was applied), sent again."""
    fake_rig.seed(SYMBOL, [{"order_id": "7401"}, {"order_id": "7402"}])
    fake_rig.fault("cancel", "status", status=500)
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["7401", "7402"])
    assert r.status == "done" and r.counts == {"cancelled": 2}
    assert {o.attempts for o in r.orders} == {2}
    sent = statuses(fake_rig.exchanges(CANCEL))
    # Each requeued order gets its own jittered delay, so they may go out again one by one.
    assert sent[0] == 500 and sent[1:] in ([200], [200, 200])
    assert len(fake_rig.exchanges(QUERY)) == 2
