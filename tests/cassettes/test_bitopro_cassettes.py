"""BitoPro spot cassettes: success, omitted ids (its only partial shape), whole-request errors.

BitoPro signs a base64 payload sent in ``X-BITOPRO-PAYLOAD``; on a GET it carries the account e-mail
(``identity``), so the whole header is masked in the cassette, and so is the signature. The PUT body
(``{PAIR: [ids]}``) is the payload's content and is kept: it is what the matcher compares.
"""

from __future__ import annotations

import json

import pytest

from safecancel import AuthError

from .conftest import FILTERED, Rig, by_ref, reply_json, statuses

VENUE = "bitopro"
SYMBOL = "BTC_USDT"
CANCEL = "/v3/orders"
pytestmark = pytest.mark.vcr


def test_success(fake_rig: Rig) -> None:
    """No server-time endpoint: the batch is the first request, and its reply names every id."""
    ids = ["5101", "5102", "5103"]
    fake_rig.seed(SYMBOL, [{"order_id": i} for i in ids])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 3}
    assert {o.provenance for o in r.orders} == {"venue_response"}
    assert [(rq.method, rq.path) for rq, _ in fake_rig.exchanges()] == [("PUT", CANCEL)]
    [(req, resp)] = fake_rig.exchanges(CANCEL)
    assert json.loads(req.body) == {"BTC_USDT": ids}
    assert reply_json(resp) == {"data": {"BTC_USDT": ids}}
    assert {req.headers[h] for h in ("X-BITOPRO-APIKEY", "X-BITOPRO-PAYLOAD", "X-BITOPRO-SIGNATURE")} == {FILTERED}


def test_partial_failure(fake_rig: Rig) -> None:
    """Ids the venue did not cancel are simply missing from the reply: each one is queried."""
    fake_rig.seed(SYMBOL, [{"order_id": "5201"}, {"order_id": "5202", "status": "filled"}])
    fake_rig.seed(SYMBOL, [{"order_id": "5203", "status": "cancelled"}])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["5201", "5202", "5203", "5204"])
    got = by_ref(r)
    assert r.status == "done"
    assert (got["5201"].state, got["5201"].provenance) == ("cancelled", "venue_response")
    assert (got["5202"].state, got["5202"].reason, got["5202"].provenance) == ("failed", "filled", "venue_query")
    assert (got["5203"].state, got["5203"].provenance) == ("cancelled", "venue_query")
    assert (got["5204"].state, got["5204"].reason, got["5204"].provenance) == ("failed", "not_found", "venue_query")
    [(_, resp)] = fake_rig.exchanges(CANCEL)
    assert reply_json(resp) == {"data": {"BTC_USDT": ["5201"]}}
    queried = sorted(rq.path.rsplit("/", 1)[1] for rq, _ in fake_rig.exchanges() if rq.method == "GET")
    assert queried == ["5202", "5203", "5204"]


def test_whole_request_error(fake_rig: Rig) -> None:
    """A bad signature: HTTP 401 ``{"error": "Invalid Signature"}``; auth, nothing applied."""
    fake_rig.seed(SYMBOL, [{"order_id": "5301"}])
    client = fake_rig.client(creds=fake_rig.wrong_secret())
    with pytest.raises(AuthError):
        client.cancel(VENUE, SYMBOL, order_ids=["5301"])
    assert dict(client.history()[0].counts) == {"pending": 1}
    ledger = fake_rig.ledger()
    if ledger is not None:
        assert ledger["5301"]["status"] == "open" and ledger["5301"]["cancel_requests"] == 0
    # The job stayed open: with the right secret, resume() finishes it (and leaves nothing resting).
    [done] = fake_rig.client().resume()
    assert done.status == "done" and done.orders[0].state == "cancelled"
    # (Checked at the end: a replay's cassette holds every exchange from the start.)
    (_, resp), (_, retried) = fake_rig.exchanges(CANCEL)
    assert resp["status"]["code"] == 401 and reply_json(resp) == {"error": "Invalid Signature"}
    assert retried["status"]["code"] == 200


def test_server_error_then_query(fake_rig: Rig) -> None:
    """A 500 may have been applied: queried; found open, sent again."""
    fake_rig.seed(SYMBOL, [{"order_id": "5401"}, {"order_id": "5402"}])
    fake_rig.fault("cancel", "status", status=500)
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["5401", "5402"])
    assert r.status == "done" and r.counts == {"cancelled": 2}
    assert {o.attempts for o in r.orders} == {2}
    sent = statuses(fake_rig.exchanges(CANCEL))
    assert sent[0] == 500 and sent[1:] in ([200], [200, 200])
