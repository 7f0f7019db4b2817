"""Binance COIN-M: signing vectors, request building, reply parsing (docs samples, codes).

What every venue shares (facts, batch bounds, chunking, naming bad input, junk replies, signing accepted by
the fake) is tests/venues/test_contract.py; this file keeps the venue's documented vectors and quirks.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from safecancel.errors import InputError
from safecancel.model import Credentials, Failure, FailureKind, HttpResponse, OrderRef, Outcome, Verdict
from safecancel.venues.base import hmac_hex
from safecancel.venues.binance_coinm import BinanceCoinM

SHARED = Path(__file__).resolve().parents[3] / "shared"
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
B = BinanceCoinM()
SYM = "BTCUSD_PERP"


def vectors():
    path = SHARED / "vectors" / "signature_examples.json"
    if not path.exists():
        pytest.skip("shared/vectors not present beside the repository")
    return [v for v in json.loads(path.read_text()) if v["venue"].startswith("binance") and v["match"] is True]


def test_official_vectors_reproduce():
    found = vectors()
    assert found
    for v in found:
        assert hmac_hex(v["secret"], v["prehash"]) == v["expected"], v["id"]


def test_documented_coinm_example_is_erratum():
    # venues.md §2.3: the COIN-M page's signature is HMAC of the *empty* string; never assert it.
    s = (
        "symbol=BTCUSD_200925&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    assert hmac_hex(DOC_SECRET, s) == "04c8b9fbd55285a38fd6a3fc40ba3a7d114f22564dab61611bf24f2d2efb890f"
    assert hmac_hex(DOC_SECRET, "") == "21fd819734bf0e5c68740eed892909414d693635c5f7fffab1313925ae13556a"


@pytest.mark.parametrize(
    ("refs", "expected_query", "sig"),
    [
        (
            [OrderRef(SYM, "1234567"), OrderRef(SYM, "2345678")],
            "symbol=BTCUSD_PERP&orderIdList=%5B1234567%2C2345678%5D&recvWindow=5000&timestamp=1591702613943",
            "c213087c757afd0d403f6069acdc1eb9e0116ea3df682a1aa5bf1d2f3b518fad",
        ),
        (
            [OrderRef(SYM, client_order_id="my_id_1"), OrderRef(SYM, client_order_id="my_id_2")],
            "symbol=BTCUSD_PERP&origClientOrderIdList=%5B%22my_id_1%22%2C%22my_id_2%22%5D&recvWindow=5000&timestamp=1591702613943",
            "63d40345846d29636ebb78fe327f51cd345417ec0d34327eb3319b704c963fcd",
        ),
    ],
)
def test_batch_request_matches_self_computed_vectors(refs, expected_query, sig):
    req = B.build_cancel(refs, Credentials("k", DOC_SECRET), 1591702613943)
    assert req.method == "DELETE" and req.path == "/dapi/v1/batchOrders" and req.body is None
    assert req.query == f"{expected_query}&signature={sig}"
    assert req.headers == {"X-MBX-APIKEY": "k"}


def test_order_ids_are_sent_as_numbers():
    req = B.build_cancel([OrderRef(SYM, "159856286502")], Credentials("k", "s"), 1)
    assert parse_qs(req.query)["orderIdList"] == ["[159856286502]"]


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        (OrderRef("BTCUSD", "1"), "malformed symbol"),
        (OrderRef("btcusd_perp", "1"), "malformed symbol"),
        (OrderRef(SYM, "12ab"), "must be numeric"),
        (OrderRef(SYM, client_order_id="has space"), "malformed origClientOrderId"),
    ],
)
def test_validate_names_the_bad_item(ref, needle):
    with pytest.raises(InputError, match=needle):
        B.validate([ref])


def resp(status: int, body, headers=None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, raw, {k.lower(): v for k, v in (headers or {}).items()})


def seed_sample() -> list:
    text = (SHARED / "seeds").glob("001_*")
    body = next(iter(text)).read_text()
    block = body.split("```json", 1)[1].split("```", 1)[0]
    block = "\n".join(line.split("//", 1)[0] for line in block.splitlines())  # the docs annotate with // comments
    return json.loads(block)


def test_docs_sample_reply_is_mapped_by_id_not_position():
    if not (SHARED / "seeds").exists():
        pytest.skip("shared/seeds not present")
    sample = seed_sample()  # [order 283194212 CANCELED, {-2011}]
    refs = [OrderRef("BTCUSD_200925", "999"), OrderRef("BTCUSD_200925", "283194212")]  # reversed on purpose
    out = B.parse_cancel(refs, resp(200, sample))
    assert out[refs[1]] == Outcome(Verdict.CANCELLED)
    assert out[refs[0]].verdict is Verdict.UNKNOWN and out[refs[0]].code == "-2011"


def test_client_id_reply_matched_by_client_id():
    refs = [OrderRef(SYM, client_order_id="a"), OrderRef(SYM, client_order_id="b")]
    out = B.parse_cancel(refs, resp(200, [{"orderId": 5, "clientOrderId": "b", "status": "CANCELED"}]))
    assert out[refs[1]].verdict is Verdict.CANCELLED
    assert out[refs[0]].verdict is Verdict.UNKNOWN and out[refs[0]].reason == "omitted"


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "retry_after"),
    [
        (
            400,
            {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
            {},
            FailureKind.CLOCK,
            None,
        ),
        (400, {"code": -1022, "msg": "Signature for this request is not valid."}, {}, FailureKind.AUTH, None),
        (401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, {}, FailureKind.AUTH, None),
        (429, {"code": -1003, "msg": "Too many requests"}, {"Retry-After": "7"}, FailureKind.RATE_LIMITED, 7.0),
        (418, {"code": -1003, "msg": "IP banned"}, {}, FailureKind.RATE_LIMITED, None),
        (503, {"code": -1001, "msg": "Service Unavailable."}, {}, FailureKind.NOT_PROCESSED, None),
        (
            503,
            {"code": -1000, "msg": "Unknown error, please check your request or try again later."},
            {},
            FailureKind.UNKNOWN_OUTCOME,
            None,
        ),
        (
            500,
            {"code": -1007, "msg": "Timeout waiting for response from backend server."},
            {},
            FailureKind.UNKNOWN_OUTCOME,
            None,
        ),
        (502, b"<html>Bad Gateway</html>", {}, FailureKind.UNKNOWN_OUTCOME, None),
        (400, {"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent"}, {}, FailureKind.REJECTED, None),
        (200, b'[{"orderId": 1, "sta', {}, FailureKind.UNKNOWN_OUTCOME, None),
    ],
)
def test_whole_request_failures_are_classified(status, body, headers, kind, retry_after):
    out = B.parse_cancel([OrderRef(SYM, "1")], resp(status, body, headers))
    assert isinstance(out, Failure) and out.kind is kind and out.retry_after == retry_after


@pytest.mark.parametrize(
    ("body", "verdict", "reason"),
    [
        ({"status": "NEW"}, Verdict.OPEN, None),
        ({"status": "PARTIALLY_FILLED"}, Verdict.OPEN, None),
        ({"status": "FILLED"}, Verdict.FAILED, "filled"),
        ({"status": "CANCELED"}, Verdict.CANCELLED, None),
        ({"status": "EXPIRED"}, Verdict.FAILED, "expired"),
        ({"status": "SOMETHING_NEW"}, Verdict.UNKNOWN, "ambiguous"),
    ],
)
def test_query_status_mapping(body, verdict, reason):
    out = B.parse_query(OrderRef(SYM, "1"), resp(200, body))
    assert isinstance(out, Outcome) and out.verdict is verdict and out.reason == reason


def test_query_not_found():
    out = B.parse_query(OrderRef(SYM, "1"), resp(400, {"code": -2013, "msg": "Order does not exist."}))
    assert out == Outcome(Verdict.FAILED, "not_found", "-2013", "Order does not exist.")


@pytest.mark.parametrize("code", [-2011, -2013])
def test_a_whole_request_unknown_order_leaves_every_order_to_the_query(code):
    # A per-order answer given to the whole batch (an object, not the array): it does not say which
    # order it is about, and -2011 also means "already cancelled/filled", so each order is queried.
    refs = [OrderRef(SYM, "1"), OrderRef(SYM, "2")]
    out = B.parse_cancel(refs, resp(400, {"code": code, "msg": "Unknown order sent."}))
    assert out == {r: Outcome(Verdict.UNKNOWN, "ambiguous", str(code), "Unknown order sent.") for r in refs}


@pytest.mark.parametrize(
    "body",
    [
        {"code": -2013},  # no msg: not Binance's error shape
        {"code": -2013.0, "msg": "Order does not exist."},  # a float is not Binance's integer code
        {"code": "-2013", "msg": "Order does not exist."},
        b"<html>Order does not exist.</html>",
    ],
)
def test_query_not_found_needs_binances_own_error_shape(body):
    out = B.parse_query(OrderRef(SYM, "1"), resp(400, body))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


def test_a_503_page_saying_service_unavailable_is_still_not_processed():
    out = B.parse_cancel([OrderRef(SYM, "1")], resp(503, b"Service Unavailable."))
    assert isinstance(out, Failure) and out.kind is FailureKind.NOT_PROCESSED
