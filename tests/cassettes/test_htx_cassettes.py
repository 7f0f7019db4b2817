"""HTX spot cassettes: accepted-then-queried success, ``failed[]`` with ``order-state``, whole-request errors.

HTX cancels asynchronously: ``success`` only means the cancel was accepted, so every cassette holds the
queries that confirm it. The signature covers the host (with the fake's port), which the replay's
host does not match: the matcher ignores ``AccessKeyId``, ``Signature`` and ``Timestamp``.
"""

from __future__ import annotations

import json

import pytest

from safecancel import AuthError
from safecancel.venues.htx import HTX

from .conftest import FILTERED, Rig, by_ref, reply_json, statuses

VENUE = "htx"
SYMBOL = "btcusdt"
CANCEL = "/v1/order/orders/batchcancel"
pytestmark = pytest.mark.vcr


def test_success(fake_rig: Rig) -> None:
    """By client order id: accepted, then each confirmed by ``getClientOrder``."""
    cids = ["h-ok-1", "h-ok-2"]
    fake_rig.seed(SYMBOL, [{"order_id": str(8101 + i), "client_order_id": c} for i, c in enumerate(cids)])
    r = fake_rig.client().cancel(VENUE, SYMBOL, client_order_ids=cids)
    assert r.status == "done" and r.counts == {"cancelled": 2}
    assert {o.provenance for o in r.orders} == {"venue_query"}  # "accepted" is never taken as cancelled
    [(req, resp)] = fake_rig.exchanges(CANCEL)
    assert json.loads(req.body) == {"client-order-ids": cids}
    assert reply_json(resp)["data"] == {"success": cids, "failed": []}
    queries = fake_rig.exchanges("/v1/order/orders/getClientOrder")
    assert len(queries) == 2 and {reply_json(rs)["data"]["state"] for _, rs in queries} == {"canceled"}
    # What the cassette keeps of the signed query: the key, signature and time are masked in place.
    assert f"AccessKeyId={FILTERED}" in req.uri and f"Signature={FILTERED}" in req.uri and f"Timestamp={FILTERED}" in req.uri


def test_partial_failure(fake_rig: Rig) -> None:
    """``failed[]`` names filled (order-state 6), cancelled (7) and unknown ids; all are queried."""
    fake_rig.seed(SYMBOL, [{"order_id": "8201"}, {"order_id": "8202", "status": "filled"}])
    fake_rig.seed(SYMBOL, [{"order_id": "8203", "status": "cancelled"}])
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["8201", "8202", "8203", "8204"])
    got = by_ref(r)
    assert r.status == "done"
    assert (got["8201"].state, got["8201"].provenance) == ("cancelled", "venue_query")
    assert (got["8202"].state, got["8202"].reason, got["8202"].provenance) == ("failed", "filled", "venue_query")
    assert (got["8203"].state, got["8203"].provenance) == ("cancelled", "venue_query")
    assert (got["8204"].state, got["8204"].reason, got["8204"].provenance) == ("failed", "not_found", "venue_query")
    [(_, resp)] = fake_rig.exchanges(CANCEL)
    failed = {f["order-id"]: f for f in reply_json(resp)["data"]["failed"]}
    assert {k: (f["err-code"], f.get("order-state")) for k, f in failed.items()} == {
        "8202": ("order-orderstate-error", "6"),
        "8203": ("order-orderstate-error", "7"),
        "8204": ("base-record-invalid", None),
    }
    # base-record-invalid is also what HTX says for a fresh order: "not found" needs repeated answers.
    assert len(fake_rig.exchanges("/v1/order/orders/8204")) == HTX.not_found_confirmations > 1


def test_whole_request_error(fake_rig: Rig) -> None:
    """A bad signature: HTTP 200, ``status: error``, ``api-signature-not-valid``; nothing applied."""
    fake_rig.seed(SYMBOL, [{"order_id": "8301"}])
    client = fake_rig.client(creds=fake_rig.wrong_secret())
    with pytest.raises(AuthError) as err:
        client.cancel(VENUE, SYMBOL, order_ids=["8301"])
    assert err.value.venue_code == "api-signature-not-valid"
    assert dict(client.history()[0].counts) == {"pending": 1}
    ledger = fake_rig.ledger()
    if ledger is not None:
        assert ledger["8301"]["status"] == "open" and ledger["8301"]["cancel_requests"] == 0
    # The job stayed open: with the right secret, resume() finishes it (and leaves nothing resting).
    [done] = fake_rig.client().resume()
    assert done.status == "done" and done.orders[0].state == "cancelled"
    # (Checked at the end: a replay's cassette holds every exchange from the start.)
    (_, resp), (_, retried) = fake_rig.exchanges(CANCEL)
    assert resp["status"]["code"] == 200 and reply_json(resp)["status"] == "error"
    assert retried["status"]["code"] == 200


def test_server_error_then_query(fake_rig: Rig) -> None:
    """A 500 (``base-system-error``) may have been applied: queried; found open, sent again."""
    fake_rig.seed(SYMBOL, [{"order_id": "8401"}, {"order_id": "8402"}])
    fake_rig.fault("cancel", "status", status=500)
    r = fake_rig.client().cancel(VENUE, SYMBOL, order_ids=["8401", "8402"])
    assert r.status == "done" and r.counts == {"cancelled": 2}
    assert {o.attempts for o in r.orders} == {2}
    sent = statuses(fake_rig.exchanges(CANCEL))
    assert sent[0] == 500 and sent[1:] in ([200], [200, 200])
