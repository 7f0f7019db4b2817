"""BingX spot: signing vectors, request building, reply parsing, and the adapter against the fake venue.

What every venue shares (facts, batch bounds, chunking, naming bad input, junk replies, signing accepted by
the fake) is tests/venues/test_contract.py; this file keeps the venue's documented vectors and quirks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
import requests

from safecancel.errors import InputError
from safecancel.model import (
    REASON_AMBIGUOUS,
    REASON_EXPIRED,
    REASON_FILLED,
    REASON_NOT_FOUND,
    REASON_OMITTED,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    ListedOrder,
    ListKind,
    ListPage,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.bingx import BingXDialect
from safecancel.venues.base import Rate, decimal_id_ok, hmac_hex
from safecancel.venues.bingx import DEFAULT_MAX_BATCH, ORDER_ID_RE, BingX

VECTORS = Path("/work/shared/vectors/signature_examples.json")
CREDS = Credentials("test-key", "test-secret")
SYMBOL = "BTC-USDT"
# The docs' example key pair (venues.md §3.3); the documented signature for it is wrong, so only
# re-computed values are used.
DOC_SECRET = "mheO6dR8ovSsxZQCOYEFCtelpuxcWGTfHw7te326y6jOwq5WpvFQ9JNljoTwBXZGv5It07m9RXSPpDQEK2w"
DOC_TS = 1696751141337


def oid(*ids: str, symbol: str = SYMBOL) -> list[OrderRef]:
    return [OrderRef(symbol, order_id=i) for i in ids]


def cid(*ids: str, symbol: str = SYMBOL) -> list[OrderRef]:
    return [OrderRef(symbol, client_order_id=i) for i in ids]


def reply(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return HttpResponse(status, body, {k.lower(): v for k, v in (headers or {}).items()})


def envelope(data: object, code: object = 0, msg: str = "") -> dict:
    return {"code": code, "msg": msg, "debugMsg": "", "data": data}


def err(code: object, msg: str, **extra: object) -> dict:
    return {"code": code, "msg": msg, "debugMsg": "", "data": {}, **extra}


@pytest.fixture
def bx() -> BingX:
    return BingX()


# -- signature vectors -------------------------------------------------------------------------


# Registry, dialect, batch bounds, chunking, junk replies, time endpoint: tests/venues/test_contract.py.


def test_production_base_url() -> None:
    assert BingX.default_base_url == "https://open-api.bingx.com"  # §3.1


def _official_vectors() -> list[dict]:
    return [v for v in json.loads(VECTORS.read_text()) if v["venue"] == "bingx" and v.get("match") is True]


@pytest.mark.parametrize("vector", _official_vectors(), ids=lambda v: v["id"])
def test_official_signature_vectors(vector: dict) -> None:
    assert hmac_hex(vector["secret"], vector["prehash"]) == vector["expected"]


def test_official_vectors_are_present() -> None:
    assert len(_official_vectors()) >= 2


def test_recomputed_doc_examples() -> None:
    # venues.md §3.3: the docs' own strings, re-computed (the published value is wrong for both).
    assert hmac_hex(DOC_SECRET, "recvWindow=0&symbol=BTC-USDT&timestamp=1696751141337") == (
        "f8d883609dfd31c824feb4de865b071008dedb1d461451fa70847875c8e7a7a2"
    )
    assert hmac_hex(DOC_SECRET, "recvWindow=0&subAccountString=abc12345&timestamp=1696751141337") == (
        "8d0d3ea9b592be3678c33332ab13e9102e093e67255921e15a581146c87c272f"
    )


def test_self_computed_batch_vector_through_build_cancel(bx: BingX) -> None:
    req = bx.build_cancel(oid("1885778991827025920", "1885778991827025921"), Credentials("k", DOC_SECRET), DOC_TS)
    sig = "849d1f0466290d8b8204be4a79426c7234c840584062e8bcbfc4ff6846deedc6"  # venues.md §3.3
    assert req.query == (
        "orderIds=1885778991827025920%2C1885778991827025921&process=1&recvWindow=5000"
        f"&symbol=BTC-USDT&timestamp={DOC_TS}&signature={sig}"
    )


def test_signature_is_over_the_raw_string_and_the_url_is_encoded(bx: BingX) -> None:
    req = bx.build_cancel(cid("a:1", "b.2"), CREDS, DOC_TS)
    raw = f"clientOrderIDs=a:1,b.2&process=1&recvWindow=5000&symbol=BTC-USDT&timestamp={DOC_TS}"
    sent, _, sig = req.query.rpartition("&signature=")
    assert sent == "clientOrderIDs=a%3A1%2Cb.2&process=1&recvWindow=5000&symbol=BTC-USDT&timestamp=" + str(DOC_TS)
    assert sig == hmac_hex("test-secret", raw)
    assert sig != hmac_hex("test-secret", sent)


# -- request building --------------------------------------------------------------------------


def test_cancel_request_shape(bx: BingX) -> None:
    req = bx.build_cancel(oid("11", "12"), CREDS, DOC_TS)
    assert (req.method, req.path, req.body, req.endpoint) == (
        "POST",
        "/openApi/spot/v1/trade/cancelOrders",
        None,
        "cancel",
    )
    assert req.headers == {"X-BX-APIKEY": "test-key"}
    keys = [k for k, _ in parse_qsl(req.query)]
    assert keys[-1] == "signature" and keys[:-1] == sorted(keys[:-1])
    params = dict(parse_qsl(req.query))
    assert params["process"] == "1" and params["orderIds"] == "11,12" and "clientOrderIDs" not in params


def test_client_ids_never_travel_with_order_ids(bx: BingX) -> None:
    params = dict(parse_qsl(bx.build_cancel(cid("x1", "x2"), CREDS, DOC_TS).query))
    assert params["clientOrderIDs"] == "x1,x2" and "orderIds" not in params and params["process"] == "1"


def test_build_cancel_refuses_mixed_or_oversized_chunks(bx: BingX) -> None:
    with pytest.raises(InputError):
        bx.build_cancel(oid("1") + cid("a"), CREDS, DOC_TS)
    with pytest.raises(InputError):
        bx.build_cancel(oid("1") + oid("2", symbol="ETH-USDT"), CREDS, DOC_TS)
    with pytest.raises(InputError):
        bx.build_cancel(oid(*[str(i) for i in range(1, DEFAULT_MAX_BATCH + 2)]), CREDS, DOC_TS)
    with pytest.raises(InputError):
        bx.build_cancel([], CREDS, DOC_TS)


def test_query_and_time_requests(bx: BingX) -> None:
    q = bx.build_query(OrderRef(SYMBOL, order_id="42"), CREDS, DOC_TS)
    assert (q.method, q.path, q.endpoint, q.body) == ("GET", "/openApi/spot/v1/trade/query", "query", None)
    assert dict(parse_qsl(q.query))["orderId"] == "42"
    q = bx.build_query(OrderRef(SYMBOL, client_order_id="my-1"), CREDS, DOC_TS)
    params = dict(parse_qsl(q.query))
    assert params["clientOrderID"] == "my-1" and "orderId" not in params
    t = bx.build_time()
    assert (t.method, t.path, t.endpoint, t.query, t.headers) == ("GET", "/openApi/spot/v1/server/time", "time", "", {})


@pytest.mark.parametrize(
    "ref, needle",
    [
        (OrderRef("BTCUSDT", order_id="1"), "BTCUSDT"),
        (OrderRef("btc-usdt", order_id="1"), "btc-usdt"),
        (OrderRef("BTC_USDT", order_id="1"), "BTC_USDT"),
        (OrderRef(SYMBOL, order_id="abc"), "abc"),
        (OrderRef(SYMBOL, order_id="0123"), "0123"),
        (OrderRef(SYMBOL, order_id="1" * 20), "1" * 20),
        (OrderRef(SYMBOL, order_id=""), "''"),
        (OrderRef(SYMBOL, client_order_id="a,b"), "a,b"),
        (OrderRef(SYMBOL, client_order_id="x" * 41), "malformed clientOrderID '" + "x" * 40 + "'…"),
        (OrderRef(SYMBOL, client_order_id="a b"), "a b"),
        (OrderRef(SYMBOL, client_order_id="a&b=c"), "a&b=c"),
    ],
)
def test_validate_names_the_bad_item(bx: BingX, ref: OrderRef, needle: str) -> None:
    with pytest.raises(InputError, match=needle.replace("[", r"\[")):
        bx.validate([OrderRef(SYMBOL, order_id="7"), ref])


def test_validate_accepts_good_input(bx: BingX) -> None:
    bx.validate(oid("1885778991827025920") + cid("my_order-1.a:b", "x" * 40) + oid("5", symbol="1000PEPE-USDT"))


# -- the docs' own replies ---------------------------------------------------------------------


def test_ccxt_success_sample(bx: BingX) -> None:
    refs = oid("1885778991827025920")
    body = envelope(
        {
            "orders": [
                {
                    "symbol": "BTC-USDT",
                    "orderId": 1885778991827025920,
                    "transactTime": 1696751141337,
                    "price": "20000",
                    "stopPrice": "0",
                    "origQty": "0.001",
                    "executedQty": "0",
                    "cummulativeQuoteQty": "0",
                    "status": "CANCELED",
                    "type": "LIMIT",
                    "side": "BUY",
                    "clientOrderID": "",
                }
            ]
        }
    )
    assert bx.parse_cancel(refs, reply(body)) == {refs[0]: Outcome(Verdict.CANCELLED)}


def test_partial_failure_capture_jk25(bx: BingX) -> None:
    # The real `process=1` reply from JKorf/BingX.Net#25 (venues.md §3.5).
    refs = oid("1885778991827025920", "1885778991827025921", symbol="BARS-USDT")
    error = "can not find order for orderId:1885778991827025921 for symbol: BARS-USDT, please verify and retry later"
    body = envelope(
        {
            "orders": [
                {
                    "symbol": "BARS-USDT",
                    "orderId": 1885778991827025920,
                    "status": "CANCELED",
                    "origClientOrderId": "",
                    "clientOrderID": "",
                }
            ],
            "fails": [{"orderId": "1885778991827025921", "error": error}],
        }
    )
    out = bx.parse_cancel(refs, reply(body))
    assert out[refs[0]] == Outcome(Verdict.CANCELLED)
    assert out[refs[1]] == Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, error)


def test_cancel_reply_edge_cases(bx: BingX) -> None:
    refs = oid("1", "2", "3", "4")
    body = envelope(
        {
            "orders": [
                {"orderId": 1, "status": "CANCELLED", "symbol": SYMBOL},  # ccxt's other spelling
                {"orderId": 2, "status": "FILLED"},  # not a cancel confirmation
                {"orderId": 3, "status": "CANCELED"},
                {"orderId": 4, "status": "CANCELED", "symbol": "ETH-USDT"},  # wrong symbol
            ],
            "fails": [{"orderId": "3", "error": "something"}],  # contradicts orders[]
        },
        code="0",  # code as a string, as BingX sometimes sends it
    )
    out = bx.parse_cancel(refs, reply(body))
    assert out[refs[0]].verdict is Verdict.CANCELLED
    assert [out[r].verdict for r in refs[1:]] == [Verdict.UNKNOWN] * 3
    assert out[refs[2]].message.startswith("listed in both")


def test_omitted_and_float_ids_are_unknown(bx: BingX) -> None:
    refs = oid("1885778991827025920", "5")
    body = envelope({"orders": [{"orderId": 1.885778991827025920e18, "status": "CANCELED"}]})
    out = bx.parse_cancel(refs, reply(body))
    assert out == {r: Outcome(Verdict.UNKNOWN, REASON_OMITTED) for r in refs}


def test_client_id_replies_match_any_client_id_field(bx: BingX) -> None:
    refs = cid("a1", "a2", "a3")
    body = envelope(
        {
            "orders": [
                {"orderId": 10, "clientOrderID": "a1", "status": "CANCELED"},
                {"orderId": 11, "origClientOrderId": "a2", "status": "CANCELED"},
                # one element naming two of our orders settles neither
                {"orderId": 12, "clientOrderID": "a3", "origClientOrderId": "a1", "status": "CANCELED"},
            ]
        }
    )
    out = bx.parse_cancel(refs, reply(body))
    assert out[refs[1]].verdict is Verdict.CANCELLED
    assert out[refs[0]].verdict is Verdict.UNKNOWN and out[refs[2]].verdict is Verdict.UNKNOWN


def test_whole_request_not_found_makes_every_order_unknown(bx: BingX) -> None:
    refs = oid("1", "2")
    msg = "the order you want to cancel is FILLED or CANCELLED already, or is not a valid order id ,please verify"
    out = bx.parse_cancel(refs, reply(err(100404, msg)))
    assert out == {r: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, "100404", msg) for r in refs}


QUERY_DOC_ORDER = {
    "symbol": "BTC-USDT",
    "orderId": 1885778991827025920,
    "price": "20000",
    "origQty": "0.001",
    "executedQty": "0",
    "cummulativeQuoteQty": "0",
    "type": "LIMIT",
    "side": "BUY",
    "time": 1696751141337,
    "updateTime": 1696751141337,
    "origQuoteOrderQty": "0",
    "fee": "0",
    "feeAsset": "USDT",
    "clientOrderID": "mine-1",
    "stopPrice": "0",
    "avgPrice": "0",
}


# BingX's status words and what a query (and a listing) reads in them; the outcome carries BingX's own
# word as its message (the journal shows it).
STATUS_CASES = [
    ("NEW", Outcome(Verdict.OPEN, None, None, "NEW")),
    ("PENDING", Outcome(Verdict.OPEN, None, None, "PENDING")),
    ("PARTIALLY_FILLED", Outcome(Verdict.OPEN, None, None, "PARTIALLY_FILLED")),
    ("RUNNING", Outcome(Verdict.OPEN, None, None, "RUNNING")),
    ("FILLED", Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED")),
    ("CANCELED", Outcome(Verdict.CANCELLED, None, None, "CANCELED")),
    ("CANCELLED", Outcome(Verdict.CANCELLED, None, None, "CANCELLED")),
    ("FAILED", Outcome(Verdict.FAILED, REASON_EXPIRED, None, "FAILED")),
]


@pytest.mark.parametrize("status, expected", STATUS_CASES)
def test_query_statuses(bx: BingX, status: str, expected: Outcome) -> None:
    body = envelope({**QUERY_DOC_ORDER, "status": status})
    assert bx.parse_query(OrderRef(SYMBOL, order_id="1885778991827025920"), reply(body)) == expected
    assert bx.parse_query(OrderRef(SYMBOL, client_order_id="mine-1"), reply(body)) == expected


def test_query_reply_about_another_order_settles_nothing(bx: BingX) -> None:
    body = envelope({**QUERY_DOC_ORDER, "status": "CANCELED"})
    assert bx.parse_query(OrderRef(SYMBOL, order_id="7"), reply(body)).verdict is Verdict.UNKNOWN
    assert bx.parse_query(OrderRef(SYMBOL, client_order_id="other"), reply(body)).verdict is Verdict.UNKNOWN
    assert bx.parse_query(OrderRef("ETH-USDT", order_id="1885778991827025920"), reply(body)).verdict is Verdict.UNKNOWN
    weird = envelope({**QUERY_DOC_ORDER, "status": "EXPIRED_SOMEHOW"})
    assert bx.parse_query(OrderRef(SYMBOL, order_id="1885778991827025920"), reply(weird)).verdict is Verdict.UNKNOWN


def test_query_not_found(bx: BingX) -> None:
    # Seen live (OctoBot's BingX connector): {"code":100404,"msg":" order not exist","debugMsg":""}
    body = {"code": 100404, "msg": " order not exist", "debugMsg": ""}
    by_id = bx.parse_query(OrderRef(SYMBOL, order_id="5"), reply(body))
    assert by_id == Outcome(Verdict.FAILED, REASON_NOT_FOUND, "100404", " order not exist")
    by_client = bx.parse_query(OrderRef(SYMBOL, client_order_id="c"), reply(body))
    assert (by_client.verdict, by_client.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)
    assert (
        bx.parse_query(OrderRef(SYMBOL, order_id="5"), reply(err(80016, "Order does not exist"))).reason
        == REASON_NOT_FOUND
    )
    empty = bx.parse_query(OrderRef(SYMBOL, order_id="5"), reply(envelope({})))
    assert empty.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"code": 0, "msg": "", "data": {"serverTime": 1675319535362}}, 1675319535362),  # swap's documented shape
        ({"serverTime": 1675319535362}, 1675319535362),
        ({"code": 0, "data": {"serverTime": "1675319535362"}}, 1675319535362),
        ({"code": 0, "data": {"serverTime": True}}, None),
        ({"code": 0, "data": {}}, None),
        ([], None),
        (b"{", None),
    ],
)
def test_parse_time(bx: BingX, body: object, expected: int | None) -> None:
    assert bx.parse_time(reply(body)) == expected


def test_parse_time_ignores_error_statuses(bx: BingX) -> None:
    assert bx.parse_time(reply({"serverTime": 1}, status=503)) is None


# -- error codes -------------------------------------------------------------------------------

DOC_ERRORS = [  # the cancel page's Errors table, common error codes, and captured bodies
    (err(80014, "timestamp is invalid"), 200, FailureKind.CLOCK),
    (err(80014, "Invalid parameters, err:Key: 'GetTickerRequest.Symbol'"), 200, FailureKind.REJECTED),
    (
        {
            "code": 100421,
            "msg": "Null timestamp or timestamp mismatch, try to run our sample code from the link "
            "https://bingx-api.github.io/docs/#/en-us/spot/account-api.html#Query%20Assets",
            "timestamp": 1730380897367,
        },
        200,
        FailureKind.CLOCK,
    ),  # ccxt#24131
    (
        err(100419, "IP does not match IP whitelist , please go to https://bingx.com/en/account/api/"),
        200,
        FailureKind.AUTH,
    ),
    (err(100413, "Incorrect apiKey"), 200, FailureKind.AUTH),
    ({"code": "100413", "msg": "Incorrect apiKey", "timestamp": "1725195218082"}, 200, FailureKind.AUTH),  # OctoBot
    (err(100001, "signature verification failed"), 200, FailureKind.AUTH),
    (err(100412, "Null signature"), 200, FailureKind.AUTH),
    (err(100410, "rate limited"), 200, FailureKind.RATE_LIMITED),
    (err(100503, "Server busy"), 200, FailureKind.NOT_PROCESSED),
    (err(100500, "We had a problem with our server"), 200, FailureKind.UNKNOWN_OUTCOME),
    (err(100400, "invalid symbol, send symbol like BTC-USDT"), 200, FailureKind.REJECTED),
    (err(100400, "The current system is busy, please try again later"), 200, FailureKind.NOT_PROCESSED),
    (err(100400, "The same order can only be submitted once per second."), 200, FailureKind.NOT_PROCESSED),
    (err(109999, "something new"), 200, FailureKind.UNKNOWN_OUTCOME),
    (b"<html>502 Bad Gateway</html>", 502, FailureKind.UNKNOWN_OUTCOME),
    (b"", 500, FailureKind.UNKNOWN_OUTCOME),
    (err(100503, "Server busy"), 503, FailureKind.NOT_PROCESSED),
    (b"", 429, FailureKind.RATE_LIMITED),
    (b"<html>forbidden</html>", 403, FailureKind.AUTH),
    (b"not json", 200, FailureKind.UNKNOWN_OUTCOME),
    ({"weird": True}, 200, FailureKind.UNKNOWN_OUTCOME),
    ({"weird": True}, 400, FailureKind.REJECTED),
]


@pytest.mark.parametrize("body, status, kind", DOC_ERRORS)
def test_error_codes(bx: BingX, body: object, status: int, kind: FailureKind) -> None:
    cancel = bx.parse_cancel(oid("1"), reply(body, status))
    assert isinstance(cancel, Failure) and cancel.kind is kind and cancel.http_status == status
    query = bx.parse_query(OrderRef(SYMBOL, order_id="1"), reply(body, status))
    assert isinstance(query, Failure) and query.kind is kind


def test_rate_limit_retry_after_from_the_unblock_time(bx: BingX) -> None:
    msg = (
        "code:100410:The endpoint trigger frequency limit rule is currently in the disabled period "
        "and will be unblocked after 1727193814249"
    )
    f = bx.parse_cancel(oid("1"), reply(err(100410, msg, timestamp=1727193811249)))
    assert isinstance(f, Failure) and f.kind is FailureKind.RATE_LIMITED and f.retry_after == 3.0
    assert "1727193814249" in (f.message or "")
    other = (
        "over 20 error code:100202 requests within 480000 ms for this api, please verify and fix it "
        ",can retry after time: 1727193970155"
    )
    f = bx.parse_cancel(oid("1"), reply(err(100410, other, timestamp="1727193960155")))
    assert isinstance(f, Failure) and f.retry_after == 10.0
    # No time in the body: the Date header is the venue's clock (1 s resolution).
    date = formatdate(1727193810, usegmt=True)
    f = bx.parse_cancel(oid("1"), reply(err(100410, msg), headers={"Date": date}))
    assert isinstance(f, Failure) and f.retry_after == pytest.approx(4.249)
    # No reference time at all: the unblock instant stays in the message, retry_after is unknown.
    f = bx.parse_cancel(oid("1"), reply(err(100410, msg)))
    assert isinstance(f, Failure) and f.retry_after is None and "1727193814249" in (f.message or "")
    # Retry-After wins; a past unblock time means "now".
    f = bx.parse_cancel(oid("1"), reply(err(100410, msg, timestamp=1), 429, {"Retry-After": "7"}))
    assert isinstance(f, Failure) and f.retry_after == 7.0
    f = bx.parse_cancel(oid("1"), reply(err(100410, msg, timestamp=1827193814249)))
    assert isinstance(f, Failure) and f.retry_after == 0.0


# -- garbage never raises and never says "cancelled" -------------------------------------------

GARBAGE = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"x"',
    b"\xff\xfe\x00",
    b'{"code":0}',
    b'{"code":true,"data":{"orders":[{"orderId":1,"status":"CANCELED"}]}}',
    b'{"code":null}',
    b'{"code":"abc"}',
    b'{"code":0,"data":[]}',
    b'{"code":0,"data":null}',
    b'{"code":0,"data":{"orders":"x","fails":5}}',
    b'{"code":0,"data":{"orders":[1,null,"a",[],{"orderId":{}}],"fails":[null,{"orderId":[1]}]}}',
    b'{"code":0,"data":{"orders":[{"orderId":true,"status":"CANCELED"}]}}',
    b'{"code":0,"data":{"orders":[{"orderId":2,"status":"CANCELED"}]}}',
    b'{"code":0,"data":{"orders":[{"orderId":1,"status":["CANCELED"]}]}}',
    b'{"code":0,"data":{"orders":[{"orderId":1,"status":{"a":1}}]}}',
    b'{"code":0,"data":{"status":["CANCELED"],"orderId":1}}',
    b'{"code":0,"data":{"status":null}}',
    b'{"code":1e400}',
    b'{"code":0,"data":{"serverTime":1e400}}',
    b"[" * 5000,
    b'{"code":100410,"msg":"after 99999999999999","timestamp":{}}',
    b'{"code":100410,"msg":123}',
]


@pytest.mark.parametrize("status", [200, 400, 429, 500, 0])
@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_never_raises_and_never_cancels(bx: BingX, body: bytes, status: int) -> None:
    refs = oid("1")
    resp = HttpResponse(status, body, {"date": "garbage", "retry-after": "soon"})
    out = bx.parse_cancel(refs, resp)
    if not isinstance(out, Failure):
        assert set(out) == set(refs)
        assert all(o.verdict is not Verdict.CANCELLED for o in out.values())
    q = bx.parse_query(OrderRef(SYMBOL, order_id="1"), resp)
    assert isinstance(q, Failure) or q.verdict is not Verdict.CANCELLED
    bx.parse_time(resp)


def test_random_mutations_never_raise() -> None:
    bx = BingX()
    rng = random.Random(7)
    refs = oid("1885778991827025920", "1885778991827025921")
    good = json.dumps(
        envelope(
            {
                "orders": [{"orderId": 1885778991827025920, "status": "CANCELED", "symbol": SYMBOL}],
                "fails": [{"orderId": "1885778991827025921", "error": "can not find order"}],
            }
        )
    ).encode()
    for _ in range(400):
        body = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            pos = rng.randrange(len(body) or 1)
            if op < 0.4 and body:
                del body[pos : pos + rng.randint(1, 8)]
            elif op < 0.8:
                body[pos:pos] = bytes([rng.randrange(256)])
            else:
                body = body[:pos]
        resp = HttpResponse(rng.choice([200, 200, 429, 503]), bytes(body))
        out = bx.parse_cancel(refs, resp)
        if not isinstance(out, Failure):
            assert set(out) == set(refs)
            # Only the order the (still-parseable) reply confirms can ever be cancelled.
            assert out[refs[1]].verdict is not Verdict.CANCELLED
        bx.parse_query(refs[0], resp)
        bx.parse_time(resp)


# -- listings: requests ------------------------------------------------------------------------


def _params(req: HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(req.query))


def _raw_signed(req: HttpRequest, secret: str = "test-secret") -> bool:
    """Whether the request carries hex(HMAC-SHA256) over its own parameters, unencoded, as sent (a-z)."""
    sent, _, sig = req.query.rpartition("&signature=")
    raw = "&".join(f"{k}={v}" for k, v in parse_qsl(sent, keep_blank_values=True))
    return sig == hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()


def test_open_listing_request(bx: BingX) -> None:
    req = bx.build_list(ListKind.OPEN, SYMBOL, CREDS, DOC_TS)
    assert (req.method, req.path, req.body, req.endpoint, dict(req.headers)) == (
        "GET",
        "/openApi/spot/v1/trade/openOrders",
        None,
        "list_open",
        {"X-BX-APIKEY": "test-key"},
    )
    sig = hmac_hex("test-secret", f"recvWindow=5000&symbol=BTC-USDT&timestamp={DOC_TS}")
    assert req.query == f"recvWindow=5000&symbol=BTC-USDT&timestamp={DOC_TS}&signature={sig}"
    # No symbol: "Query all pending orders when left blank".
    assert "symbol" not in _params(bx.build_list(ListKind.OPEN, None, CREDS, DOC_TS))
    with pytest.raises(InputError, match="not a cursor"):
        bx.build_list(ListKind.OPEN, SYMBOL, CREDS, DOC_TS, cursor="history:2")  # the open list has no pages


def test_oco_listing_request_pages_and_takes_no_symbol(bx: BingX) -> None:
    req = bx.build_list(ListKind.CONDITIONAL, SYMBOL, CREDS, DOC_TS)
    assert (req.method, req.path, req.endpoint) == ("GET", "/openApi/spot/v1/oco/openOrderList", "list_conditional")
    assert _params(req) == {
        "pageIndex": "1",
        "pageSize": "100",
        "recvWindow": "5000",
        "timestamp": str(DOC_TS),
        "signature": _params(req)["signature"],
    }
    assert _raw_signed(req)
    assert _params(bx.build_list(ListKind.CONDITIONAL, None, CREDS, DOC_TS, cursor="oco:3"))["pageIndex"] == "3"
    for bad in ("history:2", "oco:0", "oco:", "oco:02", "3", "oco:3 ", "oco:1234567"):
        with pytest.raises(InputError, match="not a cursor"):
            bx.build_list(ListKind.CONDITIONAL, None, CREDS, DOC_TS, cursor=bad)


def test_history_listing_request_window(bx: BingX) -> None:
    hour = 3600 * 1000
    req = bx.build_list(ListKind.HISTORY, SYMBOL, CREDS, DOC_TS, since_ms=DOC_TS - 60_000)
    assert (req.method, req.path, req.endpoint) == ("GET", "/openApi/spot/v1/trade/historyOrders", "list_history")
    p = _params(req)
    assert {k: p[k] for k in ("symbol", "startTime", "endTime", "pageIndex", "pageSize")} == {
        "symbol": SYMBOL,
        "startTime": str(DOC_TS - 60_000),
        "endTime": str(DOC_TS),
        "pageIndex": "1",
        "pageSize": "100",
    }
    assert "status" not in p  # every state comes back, final ones included
    assert _raw_signed(req)
    # Page 1 reaches back at most history_window_s (1 h), whatever since_ms asks.
    assert BingX.history_window_s == 3600.0
    old = _params(bx.build_list(ListKind.HISTORY, None, CREDS, DOC_TS, since_ms=DOC_TS - 5 * hour))
    assert (old["startTime"], "symbol" in old) == (str(DOC_TS - hour), False)
    assert _params(bx.build_list(ListKind.HISTORY, None, CREDS, DOC_TS))["startTime"] == str(DOC_TS - hour)
    # A later page, built later, may widen to 2 h so that it still covers page 1's window.
    later = DOC_TS + 30 * 60_000
    p2 = _params(bx.build_list(ListKind.HISTORY, None, CREDS, later, cursor="history:2", since_ms=DOC_TS - 5 * hour))
    assert (p2["startTime"], p2["endTime"], p2["pageIndex"]) == (str(later - 2 * hour), str(later), "2")
    assert int(p2["startTime"]) <= DOC_TS - hour
    p2 = _params(bx.build_list(ListKind.HISTORY, None, CREDS, later, cursor="history:2", since_ms=DOC_TS - 60_000))
    assert p2["startTime"] == str(DOC_TS - 60_000)
    # A since_ms in the future is an empty window, not an inverted one.
    future = _params(bx.build_list(ListKind.HISTORY, None, CREDS, DOC_TS, since_ms=DOC_TS + 60_000))
    assert future["startTime"] == future["endTime"] == str(DOC_TS)


def test_listing_facts() -> None:
    assert BingX.list_kinds == {ListKind.OPEN, ListKind.CONDITIONAL, ListKind.HISTORY}
    assert BingX.list_needs_symbol == frozenset()
    assert BingX.list_rate == Rate(5, 1.0)  # oco/openOrderList 5/s, the slowest of the three
    assert BingXDialect.rates["list_open"] == BingXDialect.rates["list_history"] == (10, 1.0)
    assert BingXDialect.rates["list_conditional"] == (5, 1.0)


@pytest.mark.parametrize("kind", list(ListKind))
@pytest.mark.parametrize("symbol", ["BTCUSDT", "btc-usdt", "BTC-USDT\x00", ""])
def test_listing_refuses_a_symbol_validate_refuses(bx: BingX, kind: ListKind, symbol: str) -> None:
    with pytest.raises(InputError, match="malformed symbol"):
        bx.build_list(kind, symbol, CREDS, DOC_TS)


# -- listings: the docs' and captured replies --------------------------------------------------------

# JKorf BingX.Net UnitTests/Endpoints/Spot/Trading/GetOpenOrders.txt (the id is as that capture has it).
OPEN_CAPTURE = {
    "code": 0,
    "msg": "",
    "debugMsg": "",
    "data": {
        "orders": [
            {
                "symbol": "BNB-USDC",
                "orderId": 1735930294290081300,
                "price": "255.27",
                "StopPrice": "0",
                "origQty": "0.16261",
                "executedQty": "0",
                "cummulativeQuoteQty": "0",
                "status": "PENDING",
                "type": "LIMIT",
                "side": "SELL",
                "time": 1702713008841,
                "updateTime": 1702713008841,
                "origQuoteOrderQty": "0",
                "fee": 0,
            }
        ]
    },
}
# JKorf .../GetOpenOcoOrders.txt: data is the list of legs, string ids, JSON-number prices.
OCO_LEGS: list[dict[str, object]] = [
    {
        "transactionTime": 1724656554890,
        "orderId": "1827968197060460545",
        "clientOrderId": "",
        "symbol": "BTC-USDT",
        "orderType": "ocoTps",
        "side": "BUY",
        "triggerPrice": 87000,
        "price": 88000,
        "quantity": 0.001,
        "orderListId": "1827968196914479104",
        "status": "NEW",
    },
    {
        "transactionTime": 1724656554890,
        "orderId": "1827968197060460544",
        "clientOrderId": "",
        "symbol": "BTC-USDT",
        "orderType": "ocoLimit",
        "side": "BUY",
        "triggerPrice": 0,
        "price": 48000,
        "quantity": 0.001,
        "orderListId": "1827968196914479104",
        "status": "PENDING",
    },
]
OCO_CAPTURE = {"code": 0, "msg": "", "debugMsg": "", "data": OCO_LEGS}


def _entry(**fields: object) -> dict:
    base = {"symbol": SYMBOL, "orderId": 1885778991827025920, "status": "NEW", "type": "LIMIT", "side": "BUY"}
    return {k: v for k, v in {**base, **fields}.items() if v is not _DROP}


_DROP = object()


def listing(*entries: object) -> HttpResponse:
    return reply(envelope({"orders": list(entries)}))


def page_of(out: object) -> ListPage:
    assert isinstance(out, ListPage), out
    return out


def test_open_orders_capture(bx: BingX) -> None:
    page = bx.parse_list(ListKind.OPEN, None, reply(OPEN_CAPTURE))
    assert page == ListPage(
        (
            ListedOrder(
                symbol="BNB-USDC",
                order_id="1735930294290081300",
                client_order_id=None,
                status=Outcome(Verdict.OPEN, None, None, "PENDING"),
                conditional=False,
                side="SELL",
                order_type="LIMIT",
                price="255.27",
                quantity="0.16261",
                filled="0",
                created_ms=1702713008841,
                updated_ms=1702713008841,
            ),
        ),
        None,
    )
    assert not page.capped


def test_history_capture_and_ccxt_sample(bx: BingX) -> None:
    # JKorf .../GetOrders.txt (historyOrders): a partly filled order, then cancelled.
    entry = {
        "symbol": "SWCH-USDT",
        "orderId": 1735966927102231300,
        "price": "0.8548",
        "StopPrice": "0",
        "origQty": "5.9",
        "executedQty": "1.1",
        "cummulativeQuoteQty": "0.9402800000000001",
        "status": "CANCELED",
        "type": "LIMIT",
        "side": "SELL",
        "time": 1702721743000,
        "updateTime": 1702721743000,
        "origQuoteOrderQty": "0",
        "fee": 0,
    }
    page = bx.parse_list(ListKind.HISTORY, None, listing(entry))
    assert isinstance(page, ListPage) and page.cursor is None
    (o,) = page.orders
    assert (o.symbol, o.order_id, o.status, o.filled, o.quantity) == (
        "SWCH-USDT",
        "1735966927102231300",
        Outcome(Verdict.CANCELLED, None, None, "CANCELED"),
        "1.1",
        "5.9",
    )
    # ccxt's sample (fetch_open_orders / fetch_canceled_and_closed_orders): an id past 2**53, read exactly.
    ccxt_entry = {**entry, "symbol": "XRP-USDT", "orderId": 1514073325788200960, "status": "PENDING"}
    (o,) = page_of(bx.parse_list(ListKind.HISTORY, None, listing(ccxt_entry))).orders
    assert (o.order_id, o.status.verdict) == ("1514073325788200960", Verdict.OPEN)


def test_oco_capture_and_the_documented_shape(bx: BingX) -> None:
    page = bx.parse_list(ListKind.CONDITIONAL, None, reply(OCO_CAPTURE))
    assert isinstance(page, ListPage) and page.cursor is None
    assert [(o.order_id, o.conditional, o.order_type, o.status, o.price, o.quantity) for o in page.orders] == [
        ("1827968197060460545", True, "ocoTps", Outcome(Verdict.OPEN, None, None, "NEW"), "88000", "0.001"),
        ("1827968197060460544", True, "ocoLimit", Outcome(Verdict.OPEN, None, None, "PENDING"), "48000", "0.001"),
    ]
    assert all(o.client_order_id is None and o.created_ms == 1724656554890 for o in page.orders)
    # The docs' field table has no status, and BingX's AI-skills reference wraps the list as data.ocoOrders:
    # a leg on the list of open OCO orders is open.
    legs = [{k: v for k, v in leg.items() if k != "status"} for leg in OCO_LEGS]
    legs[0]["clientOrderId"] = "123456"
    page = bx.parse_list(ListKind.CONDITIONAL, None, reply(envelope({"ocoOrders": legs})))
    assert isinstance(page, ListPage)
    assert [(o.status.verdict, o.client_order_id) for o in page.orders] == [
        (Verdict.OPEN, "123456"),
        (Verdict.OPEN, None),
    ]


def test_trigger_orders_on_the_open_list_are_conditional(bx: BingX) -> None:
    types = ["LIMIT", "MARKET", "TAKE_STOP_LIMIT", "TAKE_STOP_MARKET", "TRIGGER_LIMIT", "TRIGGER_MARKET"]
    page = bx.parse_list(ListKind.OPEN, None, listing(*[_entry(orderId=10 + n, type=t) for n, t in enumerate(types)]))
    assert isinstance(page, ListPage)
    assert [o.conditional for o in page.orders] == [False, False, True, True, True, True]


@pytest.mark.parametrize(
    "status, expected",
    [
        *STATUS_CASES,
        ("EXPIRED", Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "EXPIRED")),
        ("canceled", Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "canceled")),
        (7, Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "7")),
        (_DROP, Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, None)),
    ],
)
def test_listed_states_read_like_queries(bx: BingX, status: object, expected: Outcome) -> None:
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        page = bx.parse_list(kind, None, listing(_entry(status=status)))
        assert isinstance(page, ListPage) and page.orders[0].status == expected


def test_listed_ids_symbols_and_client_ids(bx: BingX) -> None:
    entries = [
        _entry(orderId=2**63 - 1, symbol="btc_usdt", clientOrderID="bot-1"),
        _entry(orderId="1885778991827025921", clientOrderId="bot-2"),
        _entry(orderId=5, origClientOrderId="bot-3", clientOrderID=""),
        _entry(orderId=6, clientOrderID="", time=0, updateTime=None),
    ]
    page = bx.parse_list(ListKind.OPEN, SYMBOL, listing(*entries))
    assert isinstance(page, ListPage)
    assert [(o.symbol, o.order_id, o.client_order_id) for o in page.orders] == [
        (SYMBOL, str(2**63 - 1), "bot-1"),
        (SYMBOL, "1885778991827025921", "bot-2"),
        (SYMBOL, "5", "bot-3"),
        (SYMBOL, "6", None),
    ]
    assert (page.orders[3].created_ms, page.orders[3].updated_ms) == (None, None)
    assert page.orders[0].ref(separate_conditional=True) == OrderRef(SYMBOL, order_id=str(2**63 - 1))


@pytest.mark.parametrize(
    "entries, needle",
    [
        ([_entry(orderId=_DROP)], "no usable orderId"),
        ([_entry(orderId=None)], "no usable orderId"),
        ([_entry(orderId=1.8857789918270259e18)], "no usable orderId"),  # a float has lost digits
        ([_entry(orderId=True)], "no usable orderId"),
        ([_entry(orderId=2**63)], "malformed orderId"),
        ([_entry(orderId="0123")], "malformed orderId"),
        ([_entry(orderId=0)], "malformed orderId"),
        ([_entry(orderId="abc")], "malformed orderId"),
        ([_entry(symbol=_DROP)], "no usable symbol"),
        ([_entry(symbol="BTCUSDT")], "no usable symbol"),
        ([_entry(symbol=7)], "no usable symbol"),
        ([_entry(orderId=1), "not an order"], "order 2 of 2 is not an object"),
        ([_entry(orderId=1), None], "order 2 of 2 is not an object"),
    ],
)
def test_an_unreadable_entry_fails_the_whole_page(bx: BingX, entries: list, needle: str) -> None:
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        out = bx.parse_list(kind, None, listing(*entries))
        assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME, out
        assert needle in (out.message or "")
    out = bx.parse_list(ListKind.CONDITIONAL, None, reply(envelope(list(entries))))  # the OCO list is read alike
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME and needle in (out.message or "")


@pytest.mark.parametrize(
    "kind, data",
    [
        (ListKind.OPEN, None),
        (ListKind.OPEN, {}),
        (ListKind.OPEN, {"orders": None}),
        (ListKind.OPEN, {"orders": {"orderId": 1}}),
        (ListKind.OPEN, []),
        (ListKind.HISTORY, {"list": []}),
        (ListKind.HISTORY, "orders"),
        (ListKind.CONDITIONAL, None),
        (ListKind.CONDITIONAL, {}),
        (ListKind.CONDITIONAL, {"ocoOrders": None}),
        (ListKind.CONDITIONAL, {"orderId": "1"}),
    ],
)
def test_no_list_where_one_belongs_fails_the_page(bx: BingX, kind: ListKind, data: object) -> None:
    out = bx.parse_list(kind, None, reply(envelope(data)))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    assert "no list of orders" in (out.message or "")


def test_empty_listings_are_complete(bx: BingX) -> None:
    assert bx.parse_list(ListKind.OPEN, None, listing()) == ListPage((), None)
    assert bx.parse_list(ListKind.HISTORY, SYMBOL, listing(), cursor="history:7") == ListPage((), None)
    assert bx.parse_list(ListKind.CONDITIONAL, None, reply(envelope([]))) == ListPage((), None)


def test_listing_cursors(bx: BingX) -> None:
    full = [_entry(orderId=100 + n) for n in range(100)]
    assert page_of(bx.parse_list(ListKind.HISTORY, None, listing(*full))).cursor == "history:2"
    assert page_of(bx.parse_list(ListKind.HISTORY, None, listing(*full), cursor="history:2")).cursor == "history:3"
    assert page_of(bx.parse_list(ListKind.HISTORY, None, listing(*full[:99]), cursor="history:2")).cursor is None
    assert page_of(bx.parse_list(ListKind.HISTORY, None, listing(*full), cursor="history:99")).cursor == "history:100"
    # pageIndex * pageSize <= 10000: a full 100th page cannot be followed, and must not pass for complete.
    out = bx.parse_list(ListKind.HISTORY, None, listing(*full), cursor="history:100")
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME and "10000" in (out.message or "")
    assert page_of(bx.parse_list(ListKind.HISTORY, None, listing(*full[:5]), cursor="history:100")).cursor is None
    legs = [{**OCO_LEGS[0], "orderId": str(100 + n)} for n in range(100)]
    assert page_of(bx.parse_list(ListKind.CONDITIONAL, None, reply(envelope(legs)))).cursor == "oco:2"
    assert page_of(bx.parse_list(ListKind.CONDITIONAL, None, reply(envelope(legs[:99])), cursor="oco:2")).cursor is None
    # The open list has no pages: 2000 orders (the cap) come back cursor-less, flagged as possibly short.
    capped = bx.parse_list(ListKind.OPEN, None, listing(*[_entry(orderId=100 + n) for n in range(2000)]))
    assert isinstance(capped, ListPage) and capped.cursor is None and len(capped.orders) == 2000
    assert capped.capped
    short = bx.parse_list(ListKind.OPEN, None, listing(*[_entry(orderId=100 + n) for n in range(1999)]))
    assert isinstance(short, ListPage) and not short.capped


def test_foreign_cursor_never_raises(bx: BingX) -> None:
    for kind, cursor in [(ListKind.OPEN, "history:2"), (ListKind.HISTORY, "oco:2"), (ListKind.CONDITIONAL, "x")]:
        out = bx.parse_list(kind, None, listing(), cursor=cursor)
        assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


def test_oco_listing_for_a_symbol_is_filtered_here(bx: BingX) -> None:
    legs = [{**OCO_LEGS[0], "orderId": str(100 + n), "symbol": s} for n, s in enumerate(["BTC-USDT", "ETH-USDT"] * 50)]
    page = bx.parse_list(ListKind.CONDITIONAL, SYMBOL, reply(envelope(legs)))
    assert isinstance(page, ListPage)
    assert len(page.orders) == 50 and {o.symbol for o in page.orders} == {SYMBOL}
    assert page.cursor == "oco:2"  # the venue's page was full, whatever the filter kept


@pytest.mark.parametrize(
    "body, status, kind",
    [
        (err(100001, "Signature verification failed"), 200, FailureKind.AUTH),
        (err(100413, "Incorrect apiKey"), 200, FailureKind.AUTH),
        (err(100421, "Null timestamp or timestamp mismatch"), 200, FailureKind.CLOCK),
        (err(80014, "timestamp is invalid"), 200, FailureKind.CLOCK),
        (err(100410, "rate limited"), 200, FailureKind.RATE_LIMITED),
        (err(100400, "Invalid parameter pageSize"), 200, FailureKind.REJECTED),
        (err(100503, "Server busy"), 200, FailureKind.NOT_PROCESSED),
        (err(100500, "We had a problem with our server"), 200, FailureKind.UNKNOWN_OUTCOME),
        (err(100204, "No data"), 200, FailureKind.UNKNOWN_OUTCOME),
        (b"<html><body>502 Bad Gateway</body></html>", 502, FailureKind.UNKNOWN_OUTCOME),
        (b"<html>Forbidden</html>", 403, FailureKind.AUTH),
        (b"", 200, FailureKind.UNKNOWN_OUTCOME),
        ({"code": 404, "message": "Not Found"}, 404, FailureKind.REJECTED),
    ],
)
def test_listing_errors_classified_like_queries(bx: BingX, body: object, status: int, kind: FailureKind) -> None:
    for k in ListKind:
        out = bx.parse_list(k, None, reply(body, status))
        assert isinstance(out, Failure) and out.kind is kind, (k, out)


def test_random_listing_mutations_never_raise() -> None:
    bx = BingX()
    rng = random.Random(11)
    goods = [
        (ListKind.OPEN, json.dumps(OPEN_CAPTURE).encode()),
        (ListKind.HISTORY, json.dumps(OPEN_CAPTURE).encode()),
        (ListKind.CONDITIONAL, json.dumps(OCO_CAPTURE).encode()),
    ]
    for _ in range(600):
        kind, good = rng.choice(goods)
        body = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(body) or 1)
            op = rng.random()
            if op < 0.4 and body:
                del body[pos : pos + rng.randint(1, 8)]
            elif op < 0.8:
                body[pos:pos] = bytes([rng.randrange(256)])
            else:
                body = body[:pos]
        out = bx.parse_list(
            kind, rng.choice([None, SYMBOL]), HttpResponse(rng.choice([200, 200, 429, 503]), bytes(body))
        )
        assert isinstance(out, Failure | ListPage)
        if isinstance(out, ListPage):
            assert all(decimal_id_ok(o.order_id, ORDER_ID_RE) for o in out.orders)


# -- end to end against the fake venue ---------------------------------------------------------


@pytest.fixture(scope="module")
def fake():
    with FakeVenue(dialects=[BingXDialect()]) as venue:
        yield venue


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(autouse=True)
def _clean(request):
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").reset()


def now_ms() -> int:
    return int(time.time() * 1000)


def send(http: requests.Session, fake: FakeVenue, req: HttpRequest) -> HttpResponse:
    r = http.request(req.method, fake.url + req.target, data=req.body, headers=dict(req.headers), timeout=5)
    return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


def seed(fake: FakeVenue, *specs: tuple[str, str | None, str], symbol: str = SYMBOL) -> None:
    fake.seed("bingx", symbol, [{"order_id": o, "client_order_id": c, "status": s} for o, c, s in specs])


def cancel(http, fake, refs, creds=CREDS, at=None):
    bx = BingX(fake.url)
    return bx.parse_cancel(refs, send(http, fake, bx.build_cancel(refs, creds, at if at is not None else now_ms())))


def query(http, fake, ref, at=None):
    bx = BingX(fake.url)
    return bx.parse_query(ref, send(http, fake, bx.build_query(ref, CREDS, at if at is not None else now_ms())))


def test_e2e_all_cancelled(http, fake) -> None:
    seed(fake, *[(str(100 + i), f"c{i}", "open") for i in range(10)])
    refs = oid(*[str(100 + i) for i in range(10)])
    assert cancel(http, fake, refs) == {r: Outcome(Verdict.CANCELLED) for r in refs}
    assert set(fake.order_status("bingx").values()) == {"cancelled"}
    assert all(query(http, fake, r) == Outcome(Verdict.CANCELLED, None, None, "CANCELED") for r in refs[:2])


def test_e2e_mixed_batch_then_queries(http, fake) -> None:
    seed(fake, ("201", "m1", "open"), ("202", "m2", "filled"), ("204", "m4", "cancelled"))
    refs = oid("201", "202", "203", "204")  # 203 never existed
    out = cancel(http, fake, refs)
    assert out[refs[0]] == Outcome(Verdict.CANCELLED)
    for ref in refs[1:]:
        assert (out[ref].verdict, out[ref].reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)
        assert "can not find order" in (out[ref].message or "")
    assert query(http, fake, refs[1]) == Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED")
    q = query(http, fake, refs[2])
    assert (q.verdict, q.reason, q.code) == (Verdict.FAILED, REASON_NOT_FOUND, "100404")
    assert query(http, fake, refs[3]) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")


def test_e2e_client_ids(http, fake) -> None:
    seed(fake, ("301", "cl:1", "open"), ("302", "cl.2", "open"))
    refs = cid("cl:1", "cl.2", "cl-3")
    out = cancel(http, fake, refs)
    assert out[refs[0]].verdict is Verdict.CANCELLED and out[refs[1]].verdict is Verdict.CANCELLED
    assert out[refs[2]].verdict is Verdict.UNKNOWN
    assert query(http, fake, refs[0]) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")
    assert query(http, fake, refs[2]).verdict is Verdict.UNKNOWN  # not found by client id: not final


def test_e2e_client_id_query_window(http, fake) -> None:
    seed(fake, ("311", "old-1", "open"))
    fake.fault("bingx", "query", "clock_skew", offset_ms=3 * 3600 * 1000)
    venue_now = BingX().parse_time(send(http, fake, BingX().build_time()))
    assert venue_now is not None and venue_now > now_ms() + 3 * 3600 * 1000 - 60_000
    q = query(http, fake, OrderRef(SYMBOL, client_order_id="old-1"), at=venue_now)
    assert (q.verdict, q.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)  # still open, yet "not exist"
    assert query(http, fake, OrderRef(SYMBOL, order_id="311"), at=venue_now) == Outcome(Verdict.OPEN, None, None, "NEW")


def test_e2e_wrong_secret_is_auth_and_changes_nothing(http, fake) -> None:
    seed(fake, ("401", None, "open"))
    out = cancel(http, fake, oid("401"), creds=Credentials("test-key", "wrong-secret"))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.code == "100001"
    out = cancel(http, fake, oid("401"), creds=Credentials("wrong-key", "test-secret"))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.code == "100413"
    assert fake.orders("bingx") == [
        {
            "venue": "bingx",
            "symbol": SYMBOL,
            "order_id": "401",
            "client_order_id": None,
            "status": "open",
            "cancel_requests": 0,
            "conditional": False,
        }
    ]


def test_e2e_stale_timestamp_is_clock_then_resync(http, fake) -> None:
    seed(fake, ("501", None, "open"))
    out = cancel(http, fake, oid("501"), at=now_ms() - 60_000)
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK and out.code == "100421"
    assert fake.order_status("bingx") == {"501": "open"}
    fake.fault("bingx", "cancel", "clock_skew", offset_ms=30_000)
    out = cancel(http, fake, oid("501"))
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK
    server = BingX().parse_time(send(http, fake, BingX().build_time()))
    assert server is not None
    offset = server - now_ms()
    assert cancel(http, fake, oid("501"), at=now_ms() + offset) == {oid("501")[0]: Outcome(Verdict.CANCELLED)}


def test_e2e_omit_fault(http, fake) -> None:
    seed(fake, ("601", None, "open"), ("602", None, "open"))
    fake.fault("bingx", "cancel", "omit")
    refs = oid("601", "602")
    out = cancel(http, fake, refs)
    assert sorted(o.verdict for o in out.values()) == sorted([Verdict.CANCELLED, Verdict.UNKNOWN])
    missing = next(r for r, o in out.items() if o.verdict is Verdict.UNKNOWN)
    assert out[missing].reason == REASON_OMITTED
    assert query(http, fake, missing) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")  # it was applied


def test_e2e_fill_before_cancel(http, fake) -> None:
    seed(fake, ("651", None, "open"))
    fake.fault("bingx", "cancel", "fill_before_cancel")
    out = cancel(http, fake, oid("651"))
    assert out[oid("651")[0]].verdict is Verdict.UNKNOWN
    assert query(http, fake, oid("651")[0]) == Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED")


def test_e2e_status_faults(http, fake) -> None:
    seed(fake, ("701", None, "open"))
    fake.fault("bingx", "cancel", "status", status=429, retry_after=2)
    out = cancel(http, fake, oid("701"))
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.http_status == 429
    assert out.retry_after == 2.0 and out.code == "100410"
    fake.fault("bingx", "cancel", "status", status=503)
    out = cancel(http, fake, oid("701"))
    assert isinstance(out, Failure) and out.kind is FailureKind.NOT_PROCESSED and out.http_status == 503
    fake.fault("bingx", "cancel", "status", status=502)
    out = cancel(http, fake, oid("701"))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME and out.http_status == 502
    assert fake.order_status("bingx") == {"701": "open"}
    fake.fault("bingx", "query", "status", status=500)
    q = query(http, fake, oid("701")[0])
    assert isinstance(q, Failure) and q.kind is FailureKind.UNKNOWN_OUTCOME


def test_e2e_rate_limit_message_gives_retry_after(http, fake) -> None:
    fake.fault("bingx", "cancel", "status", status=429, retry_after=3)
    resp = send(http, fake, BingX(fake.url).build_cancel(oid("1"), CREDS, now_ms()))
    del_header = HttpResponse(resp.status, resp.body, {k: v for k, v in resp.headers.items() if k != "retry-after"})
    out = BingX().parse_cancel(oid("1"), del_header)  # from the body's unblock time alone
    assert isinstance(out, Failure) and out.retry_after == pytest.approx(3.0, abs=0.01)


def test_e2e_malformed_reply_after_applying(http, fake) -> None:
    seed(fake, ("801", None, "open"))
    fake.fault("bingx", "cancel", "malformed")
    out = cancel(http, fake, oid("801"))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    assert query(http, fake, oid("801")[0]) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")


def test_e2e_drop_after_apply_then_query(http, fake) -> None:
    seed(fake, ("851", None, "open"))
    fake.fault("bingx", "cancel", "drop_after_apply")
    with pytest.raises(requests.ConnectionError):
        send(http, fake, BingX(fake.url).build_cancel(oid("851"), CREDS, now_ms()))
    assert query(http, fake, oid("851")[0]) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")


# -- the fake accepts what the real venue evidently accepts, and nothing else ------------------


def _raw_sign(params: list[tuple[str, str]], secret: str = "test-secret") -> str:
    text = "&".join(f"{k}={v}" for k, v in params)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _post(http, fake, path: str, query: str = "", body: bytes | None = None, ctype: str | None = None) -> dict:
    headers = {"X-BX-APIKEY": "test-key"}
    if ctype:
        headers["Content-Type"] = ctype
    r = http.post(fake.url + path + ("?" + query if query else ""), data=body, headers=headers, timeout=5)
    assert r.status_code == 200
    return r.json()


CANCEL_PATH = "/openApi/spot/v1/trade/cancelOrders"


def test_fake_accepts_ccxt_style(http, fake) -> None:
    # ccxt: keys sorted, the raw string signed, the urlencoded string sent; no `process`.
    seed(fake, ("901", None, "open"), ("902", None, "open"))
    params = sorted({"symbol": SYMBOL, "orderIds": "901,902", "timestamp": str(now_ms())}.items())
    body = _post(http, fake, CANCEL_PATH, urlencode(params) + "&signature=" + _raw_sign(params))
    assert body["code"] == 0 and len(body["data"]["orders"]) == 2
    assert fake.order_status("bingx") == {"901": "cancelled", "902": "cancelled"}


def test_fake_accepts_official_demo_style(http, fake) -> None:
    # Official demo: its own (unsorted) order, the same unencoded string signed and sent.
    seed(fake, ("911", None, "open"), ("912", None, "open"))
    params = [("timestamp", str(now_ms())), ("symbol", SYMBOL), ("orderIds", "911,912"), ("process", "1")]
    raw = "&".join(f"{k}={v}" for k, v in params)
    body = _post(http, fake, CANCEL_PATH, raw + "&signature=" + _raw_sign(params))
    assert body["code"] == 0 and len(body["data"]["orders"]) == 2


def test_fake_accepts_json_body_mode(http, fake) -> None:
    seed(fake, ("921", None, "open"))
    params = {"symbol": SYMBOL, "orderIds": "921", "process": 1, "timestamp": now_ms()}
    sig = _raw_sign([(k, str(params[k])) for k in sorted(params)])
    body = _post(
        http, fake, CANCEL_PATH, body=json.dumps({**params, "signature": sig}).encode(), ctype="application/json"
    )
    assert body["code"] == 0 and body["data"]["orders"][0]["orderId"] == 921


def test_fake_rejects_signature_over_the_encoded_text(http, fake) -> None:
    seed(fake, ("931", None, "open"), ("932", None, "open"))
    params = sorted({"symbol": SYMBOL, "orderIds": "931,932", "timestamp": str(now_ms())}.items())
    encoded = urlencode(params)
    sig = hmac.new(b"test-secret", encoded.encode(), hashlib.sha256).hexdigest()
    body = _post(http, fake, CANCEL_PATH, encoded + "&signature=" + sig)
    assert body["code"] == 100001 and body["data"] == {} and body["debugMsg"] == ""
    assert fake.order_status("bingx") == {"931": "open", "932": "open"}


def test_fake_rejects_both_id_kinds_and_missing_signature(http, fake) -> None:
    seed(fake, ("941", "k1", "open"))
    params = sorted({"symbol": SYMBOL, "orderIds": "941", "clientOrderIDs": "k1", "timestamp": str(now_ms())}.items())
    assert _post(http, fake, CANCEL_PATH, urlencode(params) + "&signature=" + _raw_sign(params))["code"] == 100400
    assert _post(http, fake, CANCEL_PATH, urlencode(params))["code"] == 100412
    assert fake.order_status("bingx") == {"941": "open"}


def test_fake_process_zero_fails_the_whole_batch(http, fake) -> None:
    seed(fake, ("951", None, "open"))
    params = sorted({"symbol": SYMBOL, "orderIds": "951,952", "timestamp": str(now_ms())}.items())
    resp = _post(http, fake, CANCEL_PATH, urlencode(params) + "&signature=" + _raw_sign(params))
    assert resp["code"] == 100404
    assert fake.order_status("bingx") == {"951": "open"}
    refs = oid("951", "952")
    out = BingX().parse_cancel(refs, reply(resp))
    assert all(o.verdict is Verdict.UNKNOWN for o in out.values())


def test_fake_cancel_all(http, fake) -> None:
    seed(fake, ("961", None, "open"), ("962", None, "filled"))
    seed(fake, ("963", None, "open"), symbol="ETH-USDT")
    params = [("symbol", SYMBOL), ("timestamp", str(now_ms()))]
    body = _post(
        http, fake, "/openApi/spot/v1/trade/cancelOpenOrders", urlencode(params) + "&signature=" + _raw_sign(params)
    )
    assert body["code"] == 0 and [o["orderId"] for o in body["data"]["orders"]] == [961]
    assert fake.order_status("bingx") == {"961": "cancelled", "962": "filled", "963": "open"}
    params = [("timestamp", str(now_ms()))]
    _post(http, fake, "/openApi/spot/v1/trade/cancelOpenOrders", urlencode(params) + "&signature=" + _raw_sign(params))
    assert fake.order_status("bingx")["963"] == "cancelled"


def test_fake_decodes_percent_encoded_client_ids(http, fake) -> None:
    seed(fake, ("971", "a:b", "open"))
    params = sorted({"symbol": SYMBOL, "clientOrderIDs": "a:b", "process": "1", "timestamp": str(now_ms())}.items())
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params) + "&signature=" + _raw_sign(params)
    assert "a%3Ab" in query
    body = _post(http, fake, CANCEL_PATH, query)
    assert body["code"] == 0 and body["data"]["orders"][0]["clientOrderID"] == "a:b"


# -- listings against the fake venue -----------------------------------------------------------------

LIST_PATHS = {
    ListKind.OPEN: "/openApi/spot/v1/trade/openOrders",
    ListKind.CONDITIONAL: "/openApi/spot/v1/oco/openOrderList",
    ListKind.HISTORY: "/openApi/spot/v1/trade/historyOrders",
}


def list_all(http, fake, kind: ListKind, symbol: str | None, *, since_ms: int | None = None, creds=CREDS):
    """Every page of a listing, as a caller pages it: (orders, pages), or the first failure."""
    bx = BingX(fake.url)
    orders: list[ListedOrder] = []
    cursor, pages = None, 0
    for _ in range(200):
        req = bx.build_list(kind, symbol, creds, now_ms(), cursor=cursor, since_ms=since_ms)
        page = bx.parse_list(kind, symbol, send(http, fake, req), cursor=cursor)
        if isinstance(page, Failure):
            return page, pages
        pages += 1
        orders.extend(page.orders)
        if page.cursor is None:
            return orders, pages
        cursor = page.cursor
    raise AssertionError("the listing never ended")


def seed_book(fake: FakeVenue) -> dict[str, list[str]]:
    """250 open BTC-USDT orders (230 ours, 20 someone else's), 10 OCO legs, 20 ETH-USDT orders,
    and some finished ones; ids grow with creation."""
    made = {
        "ours": fake.seed("bingx", SYMBOL, [{"client_order_id": f"bot-{n}"} for n in range(230)]),
        "theirs": fake.seed("bingx", SYMBOL, [{"client_order_id": f"other-{n}"} for n in range(20)]),
        "oco": fake.seed(
            "bingx", SYMBOL, [{"client_order_id": f"bot-oco-{n}", "conditional": True} for n in range(10)]
        ),
        "eth": fake.seed("bingx", "ETH-USDT", [{"client_order_id": f"bot-eth-{n}"} for n in range(20)]),
        "filled": fake.seed("bingx", SYMBOL, [{"status": "filled"} for _ in range(3)]),
        "cancelled": fake.seed("bingx", SYMBOL, [{"status": "cancelled"} for _ in range(4)]),
    }
    return {k: [o["order_id"] for o in v] for k, v in made.items()}


def test_e2e_open_listing_of_a_big_book(http, fake) -> None:
    book = seed_book(fake)
    orders, pages = list_all(http, fake, ListKind.OPEN, SYMBOL)
    assert pages == 1  # BingX has no paging for open orders
    assert [o.order_id for o in orders] == book["ours"] + book["theirs"]  # no OCO leg, no other symbol
    assert all(o.status == Outcome(Verdict.OPEN, None, None, "PENDING") and not o.conditional for o in orders)
    assert [o.client_order_id for o in orders[:2]] == ["bot-0", "bot-1"]
    assert all(o.symbol == SYMBOL and o.side == "BUY" and o.quantity == "1" for o in orders)
    everything, _ = list_all(http, fake, ListKind.OPEN, None)
    assert sorted(o.order_id for o in everything) == sorted(book["ours"] + book["theirs"] + book["eth"])
    assert [r["endpoint"] for r in fake.requests("bingx")] == ["list_open", "list_open"]


def test_e2e_conditional_split(http, fake) -> None:
    book = seed_book(fake)
    legs, pages = list_all(http, fake, ListKind.CONDITIONAL, SYMBOL)
    assert pages == 1 and [o.order_id for o in legs] == book["oco"]
    assert all(o.conditional and o.status.verdict is Verdict.OPEN and o.symbol == SYMBOL for o in legs)
    assert {o.order_type for o in legs} == {"ocoLimit", "ocoTps"}
    assert list_all(http, fake, ListKind.CONDITIONAL, "ETH-USDT") == ([], 1)
    # Kept apart: neither the ordinary lists nor cancelOrders / trade/query / cancelOpenOrders reach them.
    history, _ = list_all(http, fake, ListKind.HISTORY, SYMBOL)
    assert not set(book["oco"]) & {o.order_id for o in history}
    leg = OrderRef(SYMBOL, order_id=book["oco"][0])
    assert cancel(http, fake, [leg])[leg].verdict is Verdict.UNKNOWN
    assert query(http, fake, leg).reason == REASON_NOT_FOUND
    params = [("symbol", SYMBOL), ("timestamp", str(now_ms()))]
    _post(http, fake, "/openApi/spot/v1/trade/cancelOpenOrders", urlencode(params) + "&signature=" + _raw_sign(params))
    status = fake.order_status("bingx")
    assert {status[i] for i in book["oco"]} == {"open"} and {status[i] for i in book["ours"]} == {"cancelled"}
    assert [o.order_id for o in list_all(http, fake, ListKind.CONDITIONAL, None)[0]] == book["oco"]
    assert list_all(http, fake, ListKind.OPEN, SYMBOL) == ([], 1)


def test_e2e_oco_list_pages(http, fake) -> None:
    ids = [o["order_id"] for o in fake.seed("bingx", SYMBOL, [{"conditional": True} for _ in range(205)])]
    fake.seed("bingx", "ETH-USDT", [{"conditional": True} for _ in range(3)])
    legs, pages = list_all(http, fake, ListKind.CONDITIONAL, SYMBOL)
    assert pages == 3 and [o.order_id for o in legs] == ids
    assert [r["endpoint"] for r in fake.requests("bingx")] == ["list_conditional"] * 3


def test_e2e_history_pages_through_every_state(http, fake) -> None:
    book = seed_book(fake)
    since = now_ms() - 60_000
    done = oid(*book["ours"][:5])
    assert cancel(http, fake, done) == {r: Outcome(Verdict.CANCELLED) for r in done}
    orders, pages = list_all(http, fake, ListKind.HISTORY, SYMBOL, since_ms=since)
    ordinary = book["ours"] + book["theirs"] + book["filled"] + book["cancelled"]
    assert pages == 3  # 257 orders, 100 a page
    assert sorted(o.order_id for o in orders) == sorted(ordinary) and len(orders) == len(ordinary)
    state = {o.order_id: o.status for o in orders}
    assert {state[i] for i in book["filled"]} == {Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED")}
    assert {state[i] for i in book["cancelled"] + book["ours"][:5]} == {
        Outcome(Verdict.CANCELLED, None, None, "CANCELED")
    }
    assert {state[i].verdict for i in book["ours"][5:] + book["theirs"]} == {Verdict.OPEN}
    history = [r for r in fake.requests("bingx") if r["endpoint"] == "list_history"]
    assert len(history) == 3
    # Orders created before the window are not in it.
    old = fake.seed("bingx", SYMBOL, [{"created_ms": now_ms() - 30 * 60_000, "status": "cancelled"}])[0]["order_id"]
    recent, _ = list_all(http, fake, ListKind.HISTORY, SYMBOL, since_ms=since)
    assert old not in {o.order_id for o in recent}
    older, _ = list_all(http, fake, ListKind.HISTORY, SYMBOL, since_ms=now_ms() - 45 * 60_000)
    assert old in {o.order_id for o in older}


def test_e2e_history_for_every_symbol(http, fake) -> None:
    book = seed_book(fake)
    orders, pages = list_all(http, fake, ListKind.HISTORY, None)
    assert pages == 3 and {o.symbol for o in orders} == {SYMBOL, "ETH-USDT"}
    assert sorted(o.order_id for o in orders) == sorted(
        book["ours"] + book["theirs"] + book["eth"] + book["filled"] + book["cancelled"]
    )


def test_e2e_a_malformed_entry_fails_the_page(http, fake) -> None:
    fake.seed("bingx", SYMBOL, [{"order_id": "1001"}, {"order_id": "12ab"}, {"order_id": "1003"}])
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        out, _ = list_all(http, fake, kind, SYMBOL)
        assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
        assert "order 2 of 3" in (out.message or "") and "12ab" in (out.message or "")


def test_e2e_open_list_is_capped_at_2000(http, fake) -> None:
    ids = [o["order_id"] for o in fake.seed("bingx", SYMBOL, [{} for _ in range(2001)])]
    bx = BingX(fake.url)
    page = bx.parse_list(ListKind.OPEN, None, send(http, fake, bx.build_list(ListKind.OPEN, None, CREDS, now_ms())))
    assert isinstance(page, ListPage) and page.cursor is None
    assert [o.order_id for o in page.orders] == ids[:2000]  # the newest order is not on it
    assert page.capped


def _get(http, fake, path: str, params: list[tuple[str, str]]) -> dict:
    query = urlencode(params) + "&signature=" + _raw_sign(params)
    r = http.get(fake.url + path + "?" + query, headers={"X-BX-APIKEY": "test-key"}, timeout=5)
    assert r.status_code == 200
    return r.json()


@pytest.mark.parametrize(
    "path, params",
    [
        (LIST_PATHS[ListKind.HISTORY], [("pageSize", "101")]),
        (LIST_PATHS[ListKind.HISTORY], [("pageSize", "0")]),
        (LIST_PATHS[ListKind.HISTORY], [("pageIndex", "0")]),
        (LIST_PATHS[ListKind.HISTORY], [("pageIndex", "101"), ("pageSize", "100")]),  # 10100 > 10000
        (LIST_PATHS[ListKind.HISTORY], [("pageIndex", "-1")]),
        (LIST_PATHS[ListKind.HISTORY], [("startTime", "1000"), ("endTime", str(1000 + 2 * 3600 * 1000 + 1))]),
        (LIST_PATHS[ListKind.HISTORY], [("startTime", "2000"), ("endTime", "1000")]),
        (LIST_PATHS[ListKind.HISTORY], [("status", "NEW")]),
        (LIST_PATHS[ListKind.HISTORY], [("symbol", "BTCUSDT")]),
        (LIST_PATHS[ListKind.CONDITIONAL], [("pageIndex", "1"), ("pageSize", "101")]),
        (LIST_PATHS[ListKind.CONDITIONAL], [("pageIndex", "1"), ("pageSize", "0")]),
        (LIST_PATHS[ListKind.CONDITIONAL], [("pageIndex", "0"), ("pageSize", "10")]),
        (LIST_PATHS[ListKind.CONDITIONAL], [("pageSize", "10")]),  # pageIndex is required
        (LIST_PATHS[ListKind.CONDITIONAL], [("pageIndex", "1")]),  # so is pageSize
        (LIST_PATHS[ListKind.OPEN], [("symbol", "btc_usdt")]),
    ],
)
def test_fake_refuses_out_of_range_listing_parameters(http, fake, path: str, params: list) -> None:
    fake.seed("bingx", SYMBOL, [{}])
    body = _get(http, fake, path, sorted([*params, ("timestamp", str(now_ms()))]))
    assert body["code"] == 100400 and body["data"] == {}, body
    kind = next(k for k, p in LIST_PATHS.items() if p == path)
    out = BingX().parse_list(kind, None, reply(body))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


def test_fake_accepts_the_documented_limits(http, fake) -> None:
    ids = [o["order_id"] for o in fake.seed("bingx", SYMBOL, [{} for _ in range(3)])]
    now = now_ms()
    body = _get(
        http,
        fake,
        LIST_PATHS[ListKind.HISTORY],
        sorted(
            [
                ("pageIndex", "100"),
                ("pageSize", "100"),
                ("startTime", str(now - 2 * 3600 * 1000)),
                ("endTime", str(now)),
                ("timestamp", str(now)),
            ]
        ),
    )
    assert body == {**body, "code": 0, "data": {"orders": []}}  # page 100 exists (and is empty)
    body = _get(http, fake, LIST_PATHS[ListKind.HISTORY], [("timestamp", str(now_ms()))])  # all defaults
    assert [o["orderId"] for o in body["data"]["orders"]] == [int(i) for i in reversed(ids)]  # newest first
    body = _get(http, fake, LIST_PATHS[ListKind.HISTORY], sorted([("orderId", ids[1]), ("timestamp", str(now_ms()))]))
    assert [str(o["orderId"]) for o in body["data"]["orders"]] == [ids[2], ids[1]]  # orders >= orderId


def test_fake_listing_checks_the_signature(http, fake) -> None:
    fake.seed("bingx", SYMBOL, [{}])
    for kind in ListKind:
        out, _ = list_all(http, fake, kind, SYMBOL, creds=Credentials("test-key", "wrong-secret"))
        assert isinstance(out, Failure) and (out.kind, out.code) == (FailureKind.AUTH, "100001")
        out, _ = list_all(http, fake, kind, SYMBOL, creds=Credentials("wrong-key", "test-secret"))
        assert isinstance(out, Failure) and (out.kind, out.code) == (FailureKind.AUTH, "100413")
    bx = BingX(fake.url)
    req = bx.build_list(ListKind.OPEN, SYMBOL, CREDS, now_ms() - 60_000)
    out = bx.parse_list(ListKind.OPEN, SYMBOL, send(http, fake, req))
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK


def test_fake_listing_faults(http, fake) -> None:
    fake.seed("bingx", SYMBOL, [{}])
    fake.fault("bingx", "list_history", "status", status=429, retry_after=2)
    out, _ = list_all(http, fake, ListKind.HISTORY, SYMBOL)
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.retry_after == 2.0
    fake.fault("bingx", "list_open", "malformed")
    out, _ = list_all(http, fake, ListKind.OPEN, SYMBOL)
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    fake.fault("bingx", "list_conditional", "status", status=502)
    out, _ = list_all(http, fake, ListKind.CONDITIONAL, SYMBOL)
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME and out.http_status == 502


def test_fake_cancel_all_is_synchronous_with_a_status_per_order(http, fake) -> None:
    book = seed_book(fake)
    params = [("symbol", SYMBOL), ("timestamp", str(now_ms()))]
    body = _post(
        http, fake, "/openApi/spot/v1/trade/cancelOpenOrders", urlencode(params) + "&signature=" + _raw_sign(params)
    )
    listed = body["data"]["orders"]
    assert [str(o["orderId"]) for o in listed] == book["ours"] + book["theirs"]
    assert {o["status"] for o in listed} == {"CANCELED"} and {o["symbol"] for o in listed} == {SYMBOL}
    # Applied before the reply: the open list is empty at once, the history says cancelled.
    assert list_all(http, fake, ListKind.OPEN, SYMBOL) == ([], 1)
    history, _ = list_all(http, fake, ListKind.HISTORY, SYMBOL)
    assert {o.status.verdict for o in history if o.order_id in book["ours"]} == {Verdict.CANCELLED}
    assert len(list_all(http, fake, ListKind.OPEN, "ETH-USDT")[0]) == 20


def test_fake_without_client_ids_on_listings(http) -> None:
    with FakeVenue(dialects=[BingXDialect(listing_client_ids=False)]) as bare:
        bare.seed("bingx", SYMBOL, [{"client_order_id": "bot-1"}])
        orders, _ = list_all(http, bare, ListKind.OPEN, SYMBOL)
        assert [o.client_order_id for o in orders] == [None]


# -- kill switch: OCO orders (the conditional list) and the venue's own cancel-all -------------------

OCO_CANCEL_PATH = "/openApi/spot/v1/oco/cancel"
OCO_HISTORY_PATH = "/openApi/spot/v1/oco/historyOrderList"
CANCEL_ALL_PATH = "/openApi/spot/v1/trade/cancelOpenOrders"
# JKorf BingX.Net CancelOcoOrder capture: an echo of ids, no state.
OCO_CANCEL_CAPTURE = envelope({"orderId": "1827980248763858944", "clientOrderId": "123456789"})


def leg(value: str = "1827968197060460545", *, client: bool = False, symbol: str = SYMBOL) -> OrderRef:
    if client:
        return OrderRef(symbol, client_order_id=value, conditional=True)
    return OrderRef(symbol, order_id=value, conditional=True)


def oco_entry(order_id: str = "1827968197060460545", **fields: object) -> dict:
    """One OCO leg as the OCO lists carry it (JKorf GetOpenOcoOrders / GetOcoOrder captures)."""
    base: dict = {
        "transactionTime": 1724656554890,
        "orderId": order_id,
        "clientOrderId": "",
        "symbol": SYMBOL,
        "orderType": "ocoTps",
        "side": "BUY",
        "triggerPrice": 87000,
        "price": 88000,
        "quantity": 0.001,
        "orderListId": "1827968196914479104",
    }
    return {**base, **fields}


def test_kill_switch_facts() -> None:
    assert BingX.cancel_all_rate == Rate(2, 1.0)  # cancelOpenOrders: 2/s per UID
    assert BingX.cancel_all_needs_symbol is False  # "If not filled out, cancel all orders"
    assert BingX.cancel_rate == Rate(2, 1.0)  # cancelOrders and oco/cancel alike
    assert BingX.query_rate == Rate(5, 1.0)  # the slower of trade/query (10/s) and oco/historyOrderList (5/s)
    assert ListKind.CONDITIONAL in BingX.list_kinds  # OCO orders are kept apart: conditional refs are accepted


def test_validate_accepts_oco_legs_by_either_id(bx: BingX) -> None:
    bx.validate([leg(), leg(str(2**63 - 1)), leg("123456789", client=True), leg("9" * 40, client=True)])
    bx.validate([OrderRef(SYMBOL, client_order_id="bot-1")])  # only an OCO leg's client id must be numeric


@pytest.mark.parametrize(
    "ref, words",
    [
        (leg("bot-1", client=True), "'bot-1' on 'BTC-USDT' (conditional)"),  # OCO client ids are numeric
        (leg("12a", client=True), "numeric"),
        (leg("٣", client=True), "malformed clientOrderID"),
        (leg("9" * 41, client=True), "malformed clientOrderID"),
        (leg("0123"), "leading zero"),
        (leg("x1"), "orderId must be"),
        (leg(str(2**63)), "exceeds"),
        (leg(symbol="BTCUSDT"), "malformed symbol"),
    ],
)
def test_validate_names_a_bad_oco_ref(bx: BingX, ref: OrderRef, words: str) -> None:
    with pytest.raises(InputError, match="^bingx: ") as info:
        bx.validate([OrderRef(SYMBOL, order_id="1"), ref])
    assert words in str(info.value)


def test_plan_chunks_never_mixes_oco_legs_with_ordinary_orders(bx: BingX) -> None:
    plain = oid(*[str(10 + i) for i in range(25)])
    legs = [leg(str(500 + i)) for i in range(3)] + [leg("777", client=True)]
    mixed = [r for pair in zip(plain, legs + [None] * 30, strict=False) for r in pair if r is not None] + plain[4:]
    mixed = list(dict.fromkeys(mixed))
    chunks = bx.plan_chunks(mixed)
    assert sorted(map(str, (r for c in chunks for r in c))) == sorted(map(str, mixed))  # each exactly once
    for chunk in chunks:
        assert len({r.conditional for r in chunk}) == 1
        if chunk[0].conditional:
            assert len(chunk) == 1  # oco/cancel takes one id: one pair per request
        else:
            assert 1 <= len(chunk) <= DEFAULT_MAX_BATCH and len({(r.symbol, r.kind) for r in chunk}) == 1
    assert sum(1 for c in chunks if c[0].conditional) == 4
    assert sum(len(c) for c in chunks if not c[0].conditional) == 25
    # Ordinary orders are chunked exactly as before.
    assert bx.plan_chunks(plain) == [plain[:10], plain[10:20], plain[20:]]


def test_oco_cancel_request(bx: BingX) -> None:
    req = bx.build_cancel([leg()], CREDS, DOC_TS)
    assert (req.method, req.path, req.body, req.endpoint, dict(req.headers)) == (
        "POST",
        OCO_CANCEL_PATH,
        None,
        "cancel",
        {"X-BX-APIKEY": "test-key"},
    )
    assert _params(req) == {
        "orderId": "1827968197060460545",
        "recvWindow": "5000",
        "timestamp": str(DOC_TS),
        "signature": _params(req)["signature"],
    }  # either leg's id; no symbol: oco/cancel takes none
    assert req.query.startswith("orderId=1827968197060460545&recvWindow=5000&timestamp=") and _raw_signed(req)
    by_client = bx.build_cancel([leg("123456789", client=True)], CREDS, DOC_TS)
    assert by_client.path == OCO_CANCEL_PATH and _raw_signed(by_client)
    assert by_client.query.startswith(f"clientOrderId=123456789&recvWindow=5000&timestamp={DOC_TS}&signature=")


@pytest.mark.parametrize(
    "refs",
    [
        [leg("1"), leg("2")],
        [leg("1"), OrderRef(SYMBOL, order_id="2")],
        [OrderRef(SYMBOL, order_id="2"), leg("1")],
    ],
)
def test_oco_cancel_request_carries_one_leg_alone(bx: BingX, refs: list[OrderRef]) -> None:
    with pytest.raises(InputError, match="alone"):
        bx.build_cancel(refs, CREDS, DOC_TS)


def test_oco_query_request_reads_the_first_page_of_the_oco_history(bx: BingX) -> None:
    for ref in (leg(), leg("123", client=True)):
        req = bx.build_query(ref, CREDS, DOC_TS)
        assert (req.method, req.path, req.body, req.endpoint) == ("GET", OCO_HISTORY_PATH, None, "query")
        params = _params(req)
        del params["signature"]
        assert params == {"pageIndex": "1", "pageSize": "100", "recvWindow": "5000", "timestamp": str(DOC_TS)}
        assert _raw_signed(req) and req.headers == {"X-BX-APIKEY": "test-key"}
    # An ordinary ref is queried as before.
    plain = bx.build_query(OrderRef(SYMBOL, order_id="1827968197060460545"), CREDS, DOC_TS)
    assert plain.path == "/openApi/spot/v1/trade/query" and "orderId=1827968197060460545" in plain.query


def test_oco_cancel_echo_is_accepted_not_cancelled(bx: BingX) -> None:
    # The docs' reply table and the JKorf capture: ids, no state. BingX has not said the legs are cancelled.
    ref = leg("1827980248763858944")
    out = bx.parse_cancel([ref], reply(OCO_CANCEL_CAPTURE))
    assert not isinstance(out, Failure)
    assert (out[ref].verdict, out[ref].reason) == (Verdict.UNKNOWN, "accepted")
    by_client = leg("123456789", client=True)
    out = bx.parse_cancel([by_client], reply(OCO_CANCEL_CAPTURE))
    assert not isinstance(out, Failure) and out[by_client].reason == "accepted"


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"orderId": "1827980248763858945", "clientOrderId": ""}, REASON_AMBIGUOUS),  # another order named
        ({"orderId": 1827980248763858944.0, "clientOrderId": ""}, REASON_AMBIGUOUS),  # a float id lost digits
        ({}, REASON_OMITTED),
        ({"orderId": "", "clientOrderId": ""}, REASON_OMITTED),
        # The AI-skills reference's Binance-like shape (unverified): still no word about this leg's state.
        (
            {
                "orderListId": 1,
                "listOrderStatus": "ALL_DONE",
                "orders": [{"orderId": "1827980248763858944", "status": "CANCELED"}],
            },
            REASON_OMITTED,
        ),
    ],
)
def test_oco_cancel_replies_that_settle_nothing(bx: BingX, data: dict, reason: str) -> None:
    ref = leg("1827980248763858944")
    out = bx.parse_cancel([ref], reply(envelope(data)))
    assert not isinstance(out, Failure) and (out[ref].verdict, out[ref].reason) == (Verdict.UNKNOWN, reason)


@pytest.mark.parametrize("code, msg", [(100404, " order not exist"), (80016, "Order does not exist")])
def test_oco_cancel_of_a_finished_pair_is_for_the_query_to_decide(bx: BingX, code: int, msg: str) -> None:
    # The pair may be gone through its other leg's cancel, or have filled: never final from the cancel.
    ref = leg()
    out = bx.parse_cancel([ref], reply(err(code, msg)))
    assert out == {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(code), msg)}


@pytest.mark.parametrize("body, status, kind", DOC_ERRORS)
def test_oco_errors_are_classified_like_the_rest(bx: BingX, body: object, status: int, kind: FailureKind) -> None:
    out = bx.parse_cancel([leg()], reply(body, status))
    assert isinstance(out, Failure) and out.kind is kind and out.http_status == status
    q = bx.parse_query(leg(), reply(body, status))
    assert isinstance(q, Failure) and q.kind is kind
    assert bx.parse_cancel_all(SYMBOL, reply(body, status)) == out


def test_oco_cancel_success_without_data_is_an_unknown_outcome(bx: BingX) -> None:
    out = bx.parse_cancel([leg()], reply(envelope(None)))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME


def outcome(answer: Failure | Outcome) -> Outcome:
    assert isinstance(answer, Outcome), answer
    return answer


def history_reply(*entries: object) -> HttpResponse:
    return reply(envelope(list(entries)))


@pytest.mark.parametrize(
    "status, expected",
    [
        ("CANCELED", Outcome(Verdict.CANCELLED, None, None, "CANCELED")),
        ("CANCELLED", Outcome(Verdict.CANCELLED, None, None, "CANCELLED")),
        ("FILLED", Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED")),
        ("FAILED", Outcome(Verdict.FAILED, REASON_EXPIRED, None, "FAILED")),
        ("NEW", Outcome(Verdict.OPEN, None, None, "NEW")),
        ("PENDING", Outcome(Verdict.OPEN, None, None, "PENDING")),
        ("PARTIALLY_FILLED", Outcome(Verdict.OPEN, None, None, "PARTIALLY_FILLED")),
        ("EXPIRED", Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "status 'EXPIRED'")),
        (None, Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "OCO history entry without a status")),
        ("", Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "OCO history entry without a status")),
        (["CANCELED"], Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "status \"['CANCELED']\"")),
    ],
)
def test_oco_query_reads_the_legs_status_like_trade_query(bx: BingX, status: object, expected: Outcome) -> None:
    entry = oco_entry() if status is None else oco_entry(status=status)
    others = [oco_entry("1827968197060460544", orderType="ocoLimit", status="FILLED"), oco_entry("5", status="NEW")]
    assert bx.parse_query(leg(), history_reply(others[0], entry, others[1])) == expected
    # The same words as a plain query of an ordinary order (where the word is one trade/query uses).
    if isinstance(status, str) and status and status != "EXPIRED":
        plain = bx.parse_query(OrderRef(SYMBOL, order_id="7"), reply(envelope({"orderId": 7, "status": status})))
        assert plain == expected


def test_oco_query_by_client_id_and_wrapped_lists(bx: BingX) -> None:
    mine = oco_entry("11", clientOrderId="123456789", status="CANCELED")
    assert outcome(bx.parse_query(leg("123456789", client=True), history_reply(oco_entry("10"), mine))).verdict is (
        Verdict.CANCELLED
    )
    for wrapped in ({"ocoOrders": [mine]}, {"orders": [mine]}):
        assert outcome(bx.parse_query(leg("11"), reply(envelope(wrapped)))).verdict is Verdict.CANCELLED


def test_oco_query_of_a_leg_not_on_the_page_is_never_final(bx: BingX) -> None:
    # Absence from the history: still open, or past the first page. Never failed/not_found.
    for body in (history_reply(), history_reply(oco_entry("99", status="CANCELED"))):
        out = bx.parse_query(leg(), body)
        assert isinstance(out, Outcome) and (out.verdict, out.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)
        assert "still open" in (out.message or "")
    # "order not exist" on the history names no order: a failure of the query, not a verdict about the leg.
    out = bx.parse_query(leg(), reply(err(100404, " order not exist")))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    # The JKorf GetOcoOrder capture has no status at all: it settles nothing.
    capture = [oco_entry(), oco_entry("1827968197060460544", orderType="ocoLimit", triggerPrice=0, price=48000)]
    assert outcome(bx.parse_query(leg(), history_reply(*capture))).verdict is Verdict.UNKNOWN


@pytest.mark.parametrize(
    "entries, words",
    [
        ([oco_entry(status="CANCELED", symbol="ETH-USDT")], "symbol"),
        ([oco_entry(status="CANCELED"), oco_entry(status="NEW")], "more than once"),
    ],
)
def test_oco_query_replies_that_settle_nothing(bx: BingX, entries: list, words: str) -> None:
    out = bx.parse_query(leg(), history_reply(*entries))
    assert isinstance(out, Outcome) and (out.verdict, out.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)
    assert words in (out.message or "")


def test_oco_query_by_client_id_naming_two_legs_settles_nothing(bx: BingX) -> None:
    body = history_reply(
        oco_entry("1", clientOrderId="42", status="CANCELED"), oco_entry("2", clientOrderId="42", status="NEW")
    )
    assert outcome(bx.parse_query(leg("42", client=True), body)).verdict is Verdict.UNKNOWN
    # The same leg listed twice alike is one word.
    same = history_reply(oco_entry(status="CANCELED"), oco_entry(status="CANCELED", symbol="btc_usdt"))
    assert bx.parse_query(leg(), same) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")


@pytest.mark.parametrize("status", [200, 400, 429, 500, 0])
@pytest.mark.parametrize("body", GARBAGE)
def test_oco_garbage_never_raises_and_never_cancels(bx: BingX, body: bytes, status: int) -> None:
    resp = HttpResponse(status, body, {"date": "garbage", "retry-after": "soon"})
    for ref in (leg("1"), leg("1", client=True)):
        out = bx.parse_cancel([ref], resp)
        assert isinstance(out, Failure) or (set(out) == {ref} and out[ref].verdict is not Verdict.CANCELLED)
        q = bx.parse_query(ref, resp)
        assert isinstance(q, Failure) or q.verdict is not Verdict.CANCELLED
    assert bx.parse_cancel_all(None, resp) in (False,) or isinstance(bx.parse_cancel_all(None, resp), Failure)


def test_oco_random_mutations_never_raise() -> None:
    bx = BingX()
    rng = random.Random(11)
    ref = leg()
    good = json.dumps(envelope([oco_entry(status="NEW"), oco_entry("1", status="CANCELED")])).encode()
    for _ in range(400):
        body = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(body) or 1)
            if rng.random() < 0.5 and body:
                del body[pos : pos + rng.randint(1, 8)]
            else:
                body[pos:pos] = bytes([rng.randrange(256)])
        resp = HttpResponse(rng.choice([200, 200, 429, 503]), bytes(body))
        q = bx.parse_query(ref, resp)
        assert isinstance(q, Failure | Outcome)
        out = bx.parse_cancel([ref], resp)
        assert isinstance(out, Failure) or out[ref].verdict is not Verdict.CANCELLED
        bx.parse_cancel_all(None, resp)


def test_cancel_all_request(bx: BingX) -> None:
    req = bx.build_cancel_all(SYMBOL, CREDS, DOC_TS)
    assert (req.method, req.path, req.body, req.endpoint, dict(req.headers)) == (
        "POST",
        CANCEL_ALL_PATH,
        None,
        "cancel_all",
        {"X-BX-APIKEY": "test-key"},
    )
    raw = f"recvWindow=5000&symbol=BTC-USDT&timestamp={DOC_TS}"
    assert req.query == raw + "&signature=" + hmac_hex("test-secret", raw)
    everything = bx.build_cancel_all(None, CREDS, DOC_TS, account="ignored")
    raw = f"recvWindow=5000&timestamp={DOC_TS}"
    assert everything.query == raw + "&signature=" + hmac_hex("test-secret", raw)  # no symbol: every symbol


@pytest.mark.parametrize("symbol", ["BTCUSDT", "btc-usdt", "BTC-USDT\x00", "", 5])
def test_cancel_all_refuses_a_symbol_validate_refuses(bx: BingX, symbol: object) -> None:
    with pytest.raises(InputError) as info:
        bx.validate([OrderRef(symbol, order_id="1")])  # type: ignore[arg-type]
    with pytest.raises(InputError) as same:
        bx.build_cancel_all(symbol, CREDS, DOC_TS)  # type: ignore[arg-type]
    assert str(same.value) == str(info.value)


def test_cancel_all_reply_never_asks_for_more(bx: BingX) -> None:
    # JKorf CancelAllOrders capture: every order cancelled, with its status. No "more remain" exists.
    capture = envelope(
        {
            "orders": [
                {"symbol": "GM-USDT", "orderId": 1735964997957275600, "status": "CANCELED", "type": "LIMIT"},
                {"symbol": "GM-USDT", "orderId": 1735965127519326200, "status": "CANCELED", "type": "LIMIT"},
            ]
        }
    )
    assert bx.parse_cancel_all("GM-USDT", reply(capture)) is False
    assert bx.parse_cancel_all(None, reply(envelope({"orders": []}))) is False
    assert bx.parse_cancel_all(None, reply(envelope({"orders": [{"orderId": 1, "status": "NEW"}]}))) is False
    out = bx.parse_cancel_all(SYMBOL, reply(err(100404, " order not exist")))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME


# -- OCO orders and cancel-all against the fake ------------------------------------------------------


def oco_legs(fake: FakeVenue, n: int, symbol: str = SYMBOL, **spec: object) -> list[str]:
    return [o["order_id"] for o in fake.seed("bingx", symbol, [{"conditional": True, **spec} for _ in range(n)])]


def pair(fake: FakeVenue, first: str, second: str) -> str:
    dialect = fake.dialects["bingx"]
    assert isinstance(dialect, BingXDialect)
    found = [fake.ledger.find("bingx", order_id=i) for i in (first, second)]
    assert found[0] is not None and found[1] is not None
    return dialect.pair_oco(found[0], found[1])


def test_e2e_oco_leg_cancelled_then_confirmed_by_query(http, fake) -> None:
    legs = oco_legs(fake, 2)
    seed(fake, ("1701", None, "open"))
    ref = leg(legs[0])
    out = cancel(http, fake, [ref])
    assert not isinstance(out, Failure) and out[ref].reason == "accepted"
    status = fake.order_status("bingx")
    assert (status[legs[0]], status[legs[1]], status["1701"]) == ("cancelled", "open", "open")  # lone legs
    assert query(http, fake, ref) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")
    assert query(http, fake, leg(legs[1])).verdict is Verdict.UNKNOWN  # still open: not in the history
    calls = [(r["method"], r["path"], r["endpoint"]) for r in fake.requests("bingx")]
    assert calls == [
        ("POST", OCO_CANCEL_PATH, "cancel"),
        ("GET", OCO_HISTORY_PATH, "query"),
        ("GET", OCO_HISTORY_PATH, "query"),
    ]
    # Cancelled again: the pair is done, and the query (not the cancel) says how.
    again = cancel(http, fake, [ref])
    assert not isinstance(again, Failure) and (again[ref].verdict, again[ref].code) == (Verdict.UNKNOWN, "100404")
    assert query(http, fake, ref).verdict is Verdict.CANCELLED


def test_e2e_oco_leg_by_client_id(http, fake) -> None:
    legs = oco_legs(fake, 1, client_order_id="880001")
    ref = leg("880001", client=True)
    assert cancel(http, fake, [ref])[ref].reason == "accepted"
    assert fake.order_status("bingx")[legs[0]] == "cancelled"
    assert query(http, fake, ref) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")


def test_e2e_cancelling_one_leg_cancels_its_sibling_and_each_reads_cancelled(http, fake) -> None:
    a, b, lone = oco_legs(fake, 3)
    list_id = pair(fake, a, b)
    listed, _ = list_all(http, fake, ListKind.CONDITIONAL, SYMBOL)
    assert [(o.order_id, o.order_type) for o in listed] == [(a, "ocoLimit"), (b, "ocoTps"), (lone, "ocoTps")]
    out = cancel(http, fake, [leg(a)])
    assert not isinstance(out, Failure) and out[leg(a)].reason == "accepted"
    status = fake.order_status("bingx")
    assert (status[a], status[b], status[lone]) == ("cancelled", "cancelled", "open")
    # The sibling's own cancel finds the pair done: unknown (never an error of the job, never a second "cancelled").
    out = cancel(http, fake, [leg(b)])
    assert not isinstance(out, Failure) and (out[leg(b)].verdict, out[leg(b)].reason) == (
        Verdict.UNKNOWN,
        REASON_AMBIGUOUS,
    )
    for ref in (leg(a), leg(b)):
        assert query(http, fake, ref) == Outcome(Verdict.CANCELLED, None, None, "CANCELED")
    body = _get(
        http, fake, OCO_HISTORY_PATH, sorted([("pageIndex", "1"), ("pageSize", "10"), ("timestamp", str(now_ms()))])
    )
    assert {e["orderId"]: e["orderListId"] for e in body["data"]} == {a: list_id, b: list_id}
    assert [o.order_id for o in list_all(http, fake, ListKind.CONDITIONAL, SYMBOL)[0]] == [lone]


def test_e2e_a_job_with_both_legs_ends_with_each_cancelled_once(make_client, fake) -> None:
    a, b = oco_legs(fake, 2)
    pair(fake, a, b)
    c, d = oco_legs(fake, 2)
    seed(fake, ("1801", None, "open"), ("1802", None, "open"))
    refs = [leg(a), leg(b), leg(c), OrderRef(SYMBOL, order_id="1801"), OrderRef(SYMBOL, order_id="1802")]
    result = make_client().cancel("bingx", orders=refs)
    assert result.status == "done" and result.counts == {"cancelled": 5}
    assert {o.order_id: o.state for o in result.orders} == dict.fromkeys([a, b, c, "1801", "1802"], "cancelled")
    status = fake.order_status("bingx")
    assert {status[i] for i in (a, b, c, "1801", "1802")} == {"cancelled"} and status[d] == "open"
    endpoints = [(r["path"], r["endpoint"]) for r in fake.requests("bingx")]
    assert endpoints.count((OCO_CANCEL_PATH, "cancel")) == 3  # one per leg in the job
    assert endpoints.count(("/openApi/spot/v1/trade/cancelOrders", "cancel")) == 1  # the ordinary pair together
    assert not [p for p, _ in endpoints if p == "/openApi/spot/v1/trade/query"]  # legs never reach trade/query


def test_e2e_oco_faults(http, fake) -> None:
    legs = oco_legs(fake, 4)
    ref = leg(legs[0])
    fake.fault("bingx", "cancel", "omit")
    out = cancel(http, fake, [ref])
    assert not isinstance(out, Failure) and out[ref].reason == REASON_OMITTED
    assert query(http, fake, ref).verdict is Verdict.CANCELLED
    fake.fault("bingx", "cancel", "fill_before_cancel")
    ref = leg(legs[1])
    out = cancel(http, fake, [ref])
    assert not isinstance(out, Failure) and out[ref].verdict is Verdict.UNKNOWN
    assert query(http, fake, ref) == Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED")
    fake.fault("bingx", "cancel", "status", status=502)
    out = cancel(http, fake, [leg(legs[2])])
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    fake.fault("bingx", "query", "status", status=429, retry_after=1)
    q = query(http, fake, leg(legs[3]))
    assert isinstance(q, Failure) and q.kind is FailureKind.RATE_LIMITED
    out = cancel(http, fake, [leg(legs[3])], creds=Credentials("test-key", "wrong"))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and fake.order_status("bingx")[legs[3]] == "open"


def test_e2e_oco_endpoints_reach_no_ordinary_order(http, fake) -> None:
    seed(fake, ("1901", "555", "open"))
    for ref in (leg("1901"), leg("555", client=True)):
        out = cancel(http, fake, [ref])
        assert not isinstance(out, Failure) and (out[ref].verdict, out[ref].code) == (Verdict.UNKNOWN, "100404")
        assert query(http, fake, ref).verdict is Verdict.UNKNOWN  # never failed/not_found
    assert fake.order_status("bingx")["1901"] == "open"


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("orderId", "1"), ("clientOrderId", "1")],
        [("orderId", "x1")],
    ],
)
def test_fake_oco_cancel_refuses_what_the_docs_do_not_allow(http, fake, params: list) -> None:
    oco_legs(fake, 1)
    params = sorted([*params, ("timestamp", str(now_ms()))])
    body = _post(http, fake, OCO_CANCEL_PATH, urlencode(params) + "&signature=" + _raw_sign(params))
    assert body["code"] == 100400 and body["data"] == {}


@pytest.mark.parametrize(
    "params",
    [
        [("pageSize", "10")],
        [("pageIndex", "1")],
        [("pageIndex", "0"), ("pageSize", "10")],
        [("pageIndex", "1"), ("pageSize", "101")],
        [("pageIndex", "1"), ("pageSize", "10"), ("startTime", "2000"), ("endTime", "1000")],
        [("pageIndex", "1"), ("pageSize", "10"), ("startTime", "x")],
    ],
)
def test_fake_oco_history_refuses_out_of_range_parameters(http, fake, params: list) -> None:
    body = _get(http, fake, OCO_HISTORY_PATH, sorted([*params, ("timestamp", str(now_ms()))]))
    assert body["code"] == 100400 and body["data"] == {}


def test_fake_oco_history_pages_newest_first(http, fake) -> None:
    # Seeded finished legs: their finishing time is their creation time (no clock races in this test).
    now = now_ms()
    a, b, c = (oco_legs(fake, 1, status="cancelled", created_ms=now - age)[0] for age in (3000, 1000, 2000))
    filled = oco_legs(fake, 1, status="filled", created_ms=now - 500)[0]
    still_open = oco_legs(fake, 1)[0]
    pages = []
    for index in ("1", "2", "3"):
        params = sorted([("pageIndex", index), ("pageSize", "2"), ("timestamp", str(now_ms()))])
        pages.append([(e["orderId"], e["status"]) for e in _get(http, fake, OCO_HISTORY_PATH, params)["data"]])
    assert pages == [[(filled, "FILLED"), (b, "CANCELED")], [(c, "CANCELED"), (a, "CANCELED")], []]
    assert still_open not in str(pages)  # finished legs only
    # startTime / endTime filter by creation time.
    params = sorted(
        [
            ("pageIndex", "1"),
            ("pageSize", "10"),
            ("startTime", str(now - 2500)),
            ("endTime", str(now - 900)),
            ("timestamp", str(now_ms())),
        ]
    )
    assert [e["orderId"] for e in _get(http, fake, OCO_HISTORY_PATH, params)["data"]] == [b, c]


def test_fake_pair_oco_refuses_what_is_not_an_oco_list(fake) -> None:
    legs = oco_legs(fake, 3)
    seed(fake, ("1991", None, "open"))
    other = oco_legs(fake, 1, symbol="ETH-USDT")
    dialect = fake.dialects["bingx"]
    find = lambda i: fake.ledger.find("bingx", order_id=i)  # noqa: E731
    for first, second in ((legs[0], "1991"), (legs[0], legs[0]), (legs[0], other[0])):
        with pytest.raises(ValueError):
            dialect.pair_oco(find(first), find(second))
    dialect.pair_oco(find(legs[0]), find(legs[1]))
    with pytest.raises(ValueError, match="already"):
        dialect.pair_oco(find(legs[1]), find(legs[2]))


def test_e2e_native_cancel_all_leaves_other_symbols_and_oco_legs_alone(http, fake) -> None:
    book = seed_book(fake)
    bx = BingX(fake.url)
    resp = send(http, fake, bx.build_cancel_all(SYMBOL, CREDS, now_ms()))
    assert bx.parse_cancel_all(SYMBOL, resp) is False
    status = fake.order_status("bingx")
    assert {status[i] for i in book["ours"] + book["theirs"]} == {"cancelled"}
    assert {status[i] for i in book["eth"] + book["oco"]} == {"open"}  # another symbol; OCO legs (UNCONFIRMED)
    assert [r["endpoint"] for r in fake.requests("bingx")] == ["cancel_all"]
    # Without a symbol: every symbol's ordinary orders; still no OCO leg.
    assert bx.parse_cancel_all(None, send(http, fake, bx.build_cancel_all(None, CREDS, now_ms()))) is False
    status = fake.order_status("bingx")
    assert {status[i] for i in book["eth"]} == {"cancelled"} and {status[i] for i in book["oco"]} == {"open"}
    # What it did is learnt from the listings: the ordinary lists are empty, the OCO list is not.
    assert list_all(http, fake, ListKind.OPEN, None) == ([], 1)
    assert len(list_all(http, fake, ListKind.CONDITIONAL, None)[0]) == len(book["oco"])


def test_e2e_native_cancel_all_failures(http, fake) -> None:
    seed(fake, ("1951", None, "open"))
    bx = BingX(fake.url)
    out = bx.parse_cancel_all(None, send(http, fake, bx.build_cancel_all(None, Credentials("test-key", "x"), now_ms())))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH
    out = bx.parse_cancel_all(None, send(http, fake, bx.build_cancel_all(None, CREDS, now_ms() - 60_000)))
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK
    fake.fault("bingx", "cancel_all", "status", status=503)
    out = bx.parse_cancel_all(None, send(http, fake, bx.build_cancel_all(None, CREDS, now_ms())))
    assert isinstance(out, Failure) and out.kind is FailureKind.NOT_PROCESSED
    assert fake.order_status("bingx")["1951"] == "open"
