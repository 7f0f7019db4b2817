"""Bitget spot v2: the adapter (pure) and the fake venue's Bitget dialect, separately and end to end.

The fake verifies signatures with its own code, so every end-to-end pass below is also a check of the
adapter's signing against an independent reading of Bitget's signature page.

What every venue shares (facts, batch bounds, chunking, naming bad input, junk replies, signing accepted by
the fake) is tests/venues/test_contract.py; this file keeps the venue's documented vectors and quirks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safecancel.errors import InputError
from safecancel.model import (
    REASON_ACCEPTED,
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
    IdKind,
    ListedOrder,
    ListKind,
    ListPage,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.bitget import BitgetDialect
from safecancel.venues.base import Rate
from safecancel.venues.bitget import (
    CANCEL_ALL_PATH,
    CANCEL_PATH,
    PLAN_CANCEL_PATH,
    PLAN_QUERY_PATH,
    QUERY_PATH,
    Bitget,
)

VENUE = "bitget"
CREDS = Credentials("test-key", "test-secret", passphrase="test-pass")

# §5.3: Bitget publishes pre-hash strings only, no signature vector (the two bitget entries in
# shared/vectors/signature_examples.json are match:null), so these self-computed vectors are the unit tests.
DOC_SECRET = "bitget-doc-free-secret"
DOC_TS = 1659076670000
DOC_CANCEL_BODY = '{"symbol":"BTCUSDT","orderList":[{"orderId":"121211212122"},{"orderId":"121211212123"}]}'
DOC_CANCEL_SIGN = "0xGn7rxBr9UE75eC4u1Sw5z3xR7eNkd/R9g4e+W2D4A="
DOC_QUERY_SIGN = "oQ6uxsPeFptpNBwRp3IJVi/WlQjGzpMU8rc2Woqx5JU="

# The docs' own samples (seed 004, §5.5-5.7).
DOC_CANCEL_REPLY = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1695808949356,
    "data": {
        "successList": [{"orderId": "121211212122", "clientOid": "121211212122"}],
        "failureList": [{"orderId": "121211212122", "clientOid": "xxx001", "errorMsg": "duplicate clientOrderId"}],
    },
}
DOC_ORDER_INFO = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1695865476577,
    "data": [
        {
            "userId": "**********",
            "symbol": "BTCUSDT",
            "orderId": "121211212122",
            "clientOid": "121211212122",
            "price": "0",
            "size": "10.0000000000000000",
            "orderType": "market",
            "side": "buy",
            "status": "filled",
            "priceAvg": "13000.0000000000000000",
            "baseVolume": "0.0007000000000000",
            "quoteVolume": "9.1000000000000000",
            "enterPointSource": "API",
            "orderSource": "market",
            "cancelReason": "",
            "cTime": "1695865232127",
            "uTime": "1695865233051",
        }
    ],
}
DOC_TIME = {"code": "00000", "msg": "success", "requestTime": 1688008631614, "data": {"serverTime": "1688008631614"}}
# ccxt#24559: a Chinese message when `locale` is missing.
DOC_NOT_FOUND = {"code": "43001", "msg": "订单不存在", "requestTime": 1700000000000, "data": None}


def resp(body, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, raw, {k.lower(): v for k, v in (headers or {}).items()})


def oid(i: str, symbol: str = "BTCUSDT") -> OrderRef:
    return OrderRef(symbol, order_id=i)


def cid(i: str, symbol: str = "BTCUSDT") -> OrderRef:
    return OrderRef(symbol, client_order_id=i)


def b64_sign(secret: str, text: str) -> str:
    """Our own signing for hand-built requests (the adapter's is what is under test)."""
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


# -- fixtures ------------------------------------------------------------------------------------


# ``fake`` (tests/conftest.py): the session's loopback FakeVenue with every dialect, reset per test.


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def adapter(fake):
    return Bitget(fake.url)


def send(http: requests.Session, base_url: str, req: HttpRequest) -> HttpResponse:
    r = http.request(req.method, base_url + req.target, data=req.body, headers=dict(req.headers), timeout=5)
    return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


def now_ms() -> int:
    return int(time.time() * 1000)


def cancel(http, fake, adapter, refs, creds=CREDS, ts=None):
    """Build, send and parse one batch cancel against the fake."""
    req = adapter.build_cancel(refs, creds, now_ms() if ts is None else ts)
    return adapter.parse_cancel(refs, send(http, fake.url, req))


def query(http, fake, adapter, ref, creds=CREDS):
    """Build, send and parse one order query against the fake."""
    return adapter.parse_query(ref, send(http, fake.url, adapter.build_query(ref, creds, now_ms())))


def settle(fake: FakeVenue) -> None:
    """Wait until cancels the fake accepted asynchronously have taken effect."""
    time.sleep(fake.async_delay_ms / 1000 + 0.05)


def seed(fake: FakeVenue, symbol: str, orders: list[dict]) -> None:
    fake.seed(VENUE, symbol, orders)


def ledger(fake: FakeVenue) -> dict[str, dict]:
    return {o["order_id"]: o for o in fake.orders(VENUE)}


# -- adapter basics ------------------------------------------------------------------------------


# Registry, dialect rates, batch bounds, chunking, junk replies, time endpoint: tests/venues/test_contract.py;
# the id kinds, batch size and rate: the README's venue table (tests/test_readme.py).


def test_bitgets_own_facts():
    a = Bitget()
    assert a.base_url == "https://api.bitget.com"
    assert a.requires == ("api_key", "api_secret", "passphrase")
    assert a.secret_headers == {"access-key", "access-sign", "access-passphrase"}
    assert a.not_found_confirmations == 2 and a.forget_after_s == 90 * 24 * 3600.0
    # Accepted, not applied: orderInfo shows an accepted cancel as `live` until it takes effect.
    assert a.asynchronous_cancel and a.pending_cancel_reads_open and a.one_symbol_per_request


def test_signature_vector_batch_cancel():
    a = Bitget()
    req = a.build_cancel([oid("121211212122"), oid("121211212123")], Credentials("k", DOC_SECRET, "p"), DOC_TS)
    assert (req.method, req.path, req.query, req.endpoint) == ("POST", CANCEL_PATH, "", "cancel")
    assert req.body == DOC_CANCEL_BODY.encode()
    assert req.headers["ACCESS-SIGN"] == DOC_CANCEL_SIGN
    assert req.headers["ACCESS-TIMESTAMP"] == str(DOC_TS)
    assert req.headers["ACCESS-KEY"] == "k" and req.headers["ACCESS-PASSPHRASE"] == "p"
    assert req.headers["Content-Type"] == "application/json" and req.headers["locale"] == "en-US"


def test_signature_vector_order_info():
    req = Bitget().build_query(oid("121211212122"), Credentials("k", DOC_SECRET, "p"), DOC_TS)
    assert (req.method, req.path, req.query, req.body) == ("GET", QUERY_PATH, "orderId=121211212122", None)
    assert req.endpoint == "query"
    assert req.headers["ACCESS-SIGN"] == DOC_QUERY_SIGN


def test_client_oid_requests_are_signed_over_what_is_sent():
    a = Bitget()
    req = a.build_cancel([cid("my-id_1.a"), cid("B2")], CREDS, 1_700_000_000_000)
    assert json.loads(req.body) == {"symbol": "BTCUSDT", "orderList": [{"clientOid": "my-id_1.a"}, {"clientOid": "B2"}]}
    assert b"batchMode" not in req.body  # like ccxt; the documented default is "single"
    assert req.headers["ACCESS-SIGN"] == b64_sign("test-secret", "1700000000000POST" + CANCEL_PATH + req.body.decode())
    q = a.build_query(cid("my-id_1.a"), CREDS, 1_700_000_000_000)
    assert q.query == "clientOid=my-id_1.a"
    assert q.headers["ACCESS-SIGN"] == b64_sign("test-secret", "1700000000000GET" + QUERY_PATH + "?clientOid=my-id_1.a")


def test_build_time_is_unsigned():
    req = Bitget().build_time()
    assert (req.method, req.path, req.endpoint, dict(req.headers)) == ("GET", "/api/v2/public/time", "time", {})


def test_build_cancel_refuses_what_the_venue_would_refuse():
    a = Bitget()
    with pytest.raises(InputError):
        a.build_cancel([oid("1"), cid("a")], CREDS, 1)  # never both id kinds in one request
    with pytest.raises(InputError):
        a.build_cancel([oid("1"), oid("2", "ETHUSDT")], CREDS, 1)
    with pytest.raises(InputError):
        a.build_cancel([oid(str(i)) for i in range(1, 52)], CREDS, 1)
    with pytest.raises(InputError):
        a.build_cancel([], CREDS, 1)
    with pytest.raises(InputError, match="passphrase"):
        a.build_cancel([oid("1")], Credentials("k", "s"), 1)
    with pytest.raises(InputError, match="passphrase"):
        a.build_query(oid("1"), Credentials("k", "s"), 1)


@pytest.mark.parametrize(
    "ref, needle",
    [
        (oid("1", "BTC-USDT"), "BTC-USDT"),
        (oid("1", "btcusdt"), "btcusdt"),
        (oid("1", ""), "''"),
        (oid("1", "BTC USDT"), "BTC USDT"),
        (oid("12a"), "12a"),
        (oid(""), "''"),
        (oid("1" * 33), "1" * 33),
        (cid("a#b"), "a#b"),
        (cid("a:b"), "a:b"),
        (cid("x" * 51), "'" + "x" * 40 + "'… (51 characters)"),
        (cid(""), "''"),
        (cid("a b"), "a b"),
    ],
)
def test_validate_names_the_bad_item(ref, needle):
    with pytest.raises(InputError) as err:
        Bitget().validate([oid("1"), ref])
    assert needle in str(err.value)


def test_validate_accepts_good_refs():
    Bitget().validate([oid("1098394041342885888"), cid("my_order-1.a"), oid("7", "ETHBTC"), cid("x" * 50)])


# -- the docs' own samples -----------------------------------------------------------------------


def test_doc_cancel_sample_default_is_never_cancelled():
    refs = [oid("121211212122"), cid("xxx001"), cid("121211212122"), oid("999")]
    out = Bitget().parse_cancel(refs, resp(DOC_CANCEL_REPLY))
    assert out[refs[0]].verdict is Verdict.UNKNOWN and out[refs[0]].reason == REASON_AMBIGUOUS  # in both lists
    assert out[refs[1]] == Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "duplicate clientOrderId")
    assert out[refs[2]].verdict is Verdict.UNKNOWN and out[refs[2]].reason == REASON_ACCEPTED
    assert out[refs[3]].verdict is Verdict.UNKNOWN and out[refs[3]].reason == REASON_OMITTED


def test_doc_cancel_sample_trusting_success_list():
    refs = [oid("121211212122"), cid("121211212122"), cid("xxx001")]
    out = Bitget(trust_success_list=True).parse_cancel(refs, resp(DOC_CANCEL_REPLY))
    assert out[refs[0]].verdict is Verdict.UNKNOWN  # also in failureList: a contradiction is never trusted
    assert out[refs[1]].verdict is Verdict.CANCELLED
    assert out[refs[2]].verdict is Verdict.UNKNOWN


def test_doc_order_info_sample():
    a = Bitget()
    assert a.parse_query(oid("121211212122"), resp(DOC_ORDER_INFO)) == Outcome(
        Verdict.FAILED, REASON_FILLED, None, "filled"
    )
    assert a.parse_query(cid("121211212122"), resp(DOC_ORDER_INFO)) == Outcome(
        Verdict.FAILED, REASON_FILLED, None, "filled"
    )


@pytest.mark.parametrize(
    "status, verdict, reason",
    [
        ("live", Verdict.OPEN, None),
        ("partially_filled", Verdict.OPEN, None),
        ("filled", Verdict.FAILED, REASON_FILLED),
        ("cancelled", Verdict.CANCELLED, None),
        ("init", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (None, Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (3, Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_query_status_table(status, verdict, reason):
    body = json.loads(json.dumps(DOC_ORDER_INFO))
    body["data"][0]["status"] = status
    out = Bitget().parse_query(oid("121211212122"), resp(body))
    assert (out.verdict, out.reason) == (verdict, reason)


def test_query_unknown_order_both_readings():
    a = Bitget()
    empty = {"code": "00000", "msg": "success", "requestTime": 1, "data": []}
    assert a.parse_query(oid("5"), resp(empty)).reason == REASON_NOT_FOUND
    out = a.parse_query(oid("5"), resp(DOC_NOT_FOUND, 400))
    assert out == Outcome(Verdict.FAILED, REASON_NOT_FOUND, "43001", "订单不存在")


def test_query_edge_shapes():
    a = Bitget()
    other_symbol = json.loads(json.dumps(DOC_ORDER_INFO))
    other_symbol["data"][0]["status"] = "live"
    out = a.parse_query(oid("121211212122", "ETHUSDT"), resp(other_symbol))
    assert (out.verdict, out.reason) == (Verdict.FAILED, REASON_NOT_FOUND) and "BTCUSDT" in out.message
    # Someone else's order in the reply says nothing about ours.
    assert a.parse_query(oid("5"), resp(DOC_ORDER_INFO)).verdict is Verdict.UNKNOWN
    # Two entries for the id that disagree.
    twice = json.loads(json.dumps(DOC_ORDER_INFO))
    twice["data"].append({**twice["data"][0], "status": "cancelled"})
    assert a.parse_query(oid("121211212122"), resp(twice)).verdict is Verdict.UNKNOWN
    # A bare object instead of an array reads the same.
    bare = {**DOC_ORDER_INFO, "data": DOC_ORDER_INFO["data"][0]}
    assert a.parse_query(oid("121211212122"), resp(bare)).reason == REASON_FILLED
    assert a.parse_query(oid("1"), resp({"code": "00000", "data": None})).verdict is Verdict.UNKNOWN


def test_doc_time_sample():
    a = Bitget()
    assert a.parse_time(resp(DOC_TIME)) == 1688008631614
    assert a.parse_time(resp({"code": "00000", "data": {"serverTime": 1688008631614}})) == 1688008631614
    # Error replies still carry the server's requestTime (useful after 40008).
    stale = {"code": "40008", "msg": "x", "requestTime": 1700000000001, "data": None}
    assert a.parse_time(resp(stale, 400)) == 1700000000001
    junk_bodies = (b"", b"{", b"[]", b'{"data":{"serverTime":"12x"}}', b'{"data":{"serverTime":"\xc2\xb2"}}')
    for junk in (*junk_bodies, b'{"requestTime":true}'):
        assert Bitget().parse_time(resp(junk)) is None


def test_whole_request_not_found_leaves_every_order_to_the_query():
    refs = [oid("1"), oid("2")]
    out = Bitget().parse_cancel(refs, resp(DOC_NOT_FOUND, 400))
    assert {o.verdict for o in out.values()} == {Verdict.UNKNOWN} and set(out) == set(refs)
    assert {o.code for o in out.values()} == {"43001"}


# -- error codes -> FailureKind ------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, code, kind",
    [
        (429, "429", FailureKind.RATE_LIMITED),
        (429, None, FailureKind.RATE_LIMITED),
        (200, "429", FailureKind.RATE_LIMITED),
        (400, "40008", FailureKind.CLOCK),
        (400, "40005", FailureKind.CLOCK),
        (400, "40001", FailureKind.AUTH),
        (400, "40002", FailureKind.AUTH),
        (400, "40006", FailureKind.AUTH),
        (400, "40009", FailureKind.AUTH),
        (400, "40011", FailureKind.AUTH),
        (400, "40012", FailureKind.AUTH),
        (400, "40014", FailureKind.AUTH),
        (400, "40018", FailureKind.AUTH),
        (400, "40037", FailureKind.AUTH),
        (401, None, FailureKind.AUTH),
        (400, "40010", FailureKind.UNKNOWN_OUTCOME),
        (400, "40015", FailureKind.UNKNOWN_OUTCOME),
        (500, "40015", FailureKind.UNKNOWN_OUTCOME),
        (400, "40912", FailureKind.REJECTED),
        (400, "40913", FailureKind.REJECTED),
        (400, "40017", FailureKind.REJECTED),
        (400, "40019", FailureKind.REJECTED),
        (400, "40007", FailureKind.REJECTED),
        (404, None, FailureKind.REJECTED),
        (400, "99999", FailureKind.UNKNOWN_OUTCOME),  # a code we do not know may have been applied
        (502, None, FailureKind.UNKNOWN_OUTCOME),
        (503, None, FailureKind.UNKNOWN_OUTCOME),
        (504, "00000", FailureKind.UNKNOWN_OUTCOME),
    ],
)
def test_error_code_table(status, code, kind):
    body = {"code": code, "msg": "m", "requestTime": 1, "data": None} if code is not None else b"<html>gateway</html>"
    headers = {"Retry-After": "3"}
    reply_ = resp(body, status, headers)
    for reply in (Bitget().parse_cancel([oid("1")], reply_), Bitget().parse_query(oid("1"), reply_)):
        assert isinstance(reply, Failure)
        assert reply.kind is kind and reply.code == code and reply.http_status == status
        if kind is FailureKind.RATE_LIMITED:
            assert reply.retry_after == 3.0


@pytest.mark.parametrize("code", ["43001", "43004", "45055", "45057", "50062", "45129"])
def test_failure_list_codes_are_ambiguous(code):
    failed = {"orderId": "1", "clientOid": None, "errorCode": code, "errorMsg": "m"}
    body = {"code": "00000", "msg": "success", "data": {"successList": [], "failureList": [failed]}}
    for trust in (False, True):
        out = Bitget(trust_success_list=trust).parse_cancel([oid("1")], resp(body))
        assert out[oid("1")] == Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "m")


def test_success_matched_by_id_never_by_position():
    body = {"code": "00000", "data": {"successList": [{"orderId": 2, "clientOid": None}], "failureList": []}}
    out = Bitget(trust_success_list=True).parse_cancel([oid("1"), oid("2")], resp(body))
    assert out[oid("1")].reason == REASON_OMITTED and out[oid("2")].verdict is Verdict.CANCELLED
    # A client-id request is matched on clientOid only: an orderId match is not ours.
    body = {"code": "00000", "data": {"successList": [{"orderId": "c1", "clientOid": "zz"}], "failureList": []}}
    assert Bitget(trust_success_list=True).parse_cancel([cid("c1")], resp(body))[cid("c1")].reason == REASON_OMITTED


# -- garbage never raises and never says cancelled -----------------------------------------------

GARBAGE = [
    b"",
    b"not json",
    b'{"code":"00000","data":{"successList":[{"orderId":"1"',
    b"\xff\xfe\x00",
    b"[]",
    b"null",
    b"42",
    b'"00000"',
    b'{"code":"00000"}',
    b'{"code":"00000","data":[]}',
    b'{"code":"00000","data":null}',
    b'{"code":"00000","data":{"successList":"1","failureList":7}}',
    b'{"code":"00000","data":{"successList":[1,null,"1",["1"],{"orderId":null},{"orderId":true}]}}',
    b'{"code":"00000","data":{"failureList":[{"orderId":"1","errorCode":{"a":1},"errorMsg":[1]}]}}',
    b'{"code":{"x":1},"msg":null}',
    b'{"code":null,"data":{"successList":[{"orderId":"1"}]}}',
    b'{"code":0,"data":{"successList":[{"orderId":"1"}]}}',
    b'{"code":"00000","data":[{"orderId":"1","status":"CANCELLED"}]}',
    b'{"code":"00000","data":[{"orderId":"1","symbol":7,"status":"canceled"}]}',
    b'{"code":"00000","data":[{"orderId":1e400}]}',
    b'{"code":true}',
    b'{"code":"00000","data":{"successList":[{"orderId":"1"}]}}',  # HTTP 500 with a success body
]


@pytest.mark.parametrize("body", GARBAGE)
@pytest.mark.parametrize("status", [200, 400, 500])
def test_garbage_never_raises_never_cancelled(body, status):
    a = Bitget()
    refs = [oid("1"), cid("c1")]
    reply = a.parse_cancel(refs, HttpResponse(status, body))
    if not isinstance(reply, Failure):
        assert set(reply) == set(refs)
        assert all(o.verdict is Verdict.UNKNOWN for o in reply.values())
    for ref in refs:
        q = a.parse_query(ref, HttpResponse(status, body))
        assert isinstance(q, (Failure, Outcome))
        assert not (isinstance(q, Outcome) and q.verdict is Verdict.CANCELLED)
    a.parse_time(HttpResponse(status, body))


FUZZ_WORDS = ["00000", "1", "c1", "43001", "live", "cancelled"]
FUZZ_KEYS = ["code", "msg", "data", "successList", "failureList", "orderId", "clientOid", "status", "symbol",
             "errorCode", "serverTime", "requestTime"]  # fmt: skip
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars | st.sampled_from(FUZZ_WORDS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FUZZ_KEYS), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values, status=st.sampled_from([200, 400, 429, 500]), trust=st.booleans())
def test_fuzzed_replies(body, status, trust):
    a = Bitget(trust_success_list=trust)
    refs = [oid("1"), cid("c1")]
    raw = HttpResponse(status, json.dumps(body).encode())
    reply = a.parse_cancel(refs, raw)
    if not isinstance(reply, Failure):
        assert set(reply) == set(refs)
        for ref, outcome in reply.items():
            if outcome.verdict is Verdict.CANCELLED:
                # Only ever from a trusted successList entry of a 200 "00000" reply naming this order.
                assert trust and status == 200 and body["code"] == "00000"
                key = "orderId" if ref.kind is IdKind.ORDER_ID else "clientOid"
                assert any(isinstance(e, dict) and str(e.get(key)) == ref.value for e in body["data"]["successList"])
            else:
                assert outcome.verdict is Verdict.UNKNOWN
    for ref in refs:
        assert isinstance(a.parse_query(ref, raw), (Failure, Outcome))
    a.parse_time(raw)


# -- end to end: adapter <-> fake ----------------------------------------------------------------


def test_all_cancelled_by_order_id(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "101"}, {"order_id": "102"}, {"order_id": "103"}])
    refs = [oid("101"), oid("102"), oid("103")]
    out = cancel(http, fake, adapter, refs)
    assert {o.reason for o in out.values()} == {REASON_ACCEPTED}
    assert all(o.verdict is Verdict.UNKNOWN for o in out.values())
    settle(fake)
    for ref in refs:
        assert query(http, fake, adapter, ref) == Outcome(Verdict.CANCELLED, None, None, "cancelled")
    assert {o["status"] for o in ledger(fake).values()} == {"cancelled"}


def test_all_cancelled_by_client_oid_trusting_success(fake, http):
    a = Bitget(fake.url, trust_success_list=True)
    seed(fake, "ETHUSDT", [{"order_id": "201", "client_order_id": "b-1"}])
    seed(fake, "ETHUSDT", [{"order_id": "202", "client_order_id": "b-2"}])
    refs = [cid("b-1", "ETHUSDT"), cid("b-2", "ETHUSDT")]
    out = cancel(http, fake, a, refs)
    assert all(o.verdict is Verdict.CANCELLED for o in out.values())
    settle(fake)
    for ref in refs:
        assert query(http, fake, a, ref) == Outcome(Verdict.CANCELLED, None, None, "cancelled")


def test_mixed_batch_then_queries(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "301"}, {"order_id": "302", "status": "filled"}])
    seed(fake, "BTCUSDT", [{"order_id": "304", "status": "cancelled"}])
    refs = [oid("301"), oid("302"), oid("303"), oid("304")]
    out = cancel(http, fake, adapter, refs)
    assert out[oid("301")].reason == REASON_ACCEPTED
    assert [(out[r].verdict, out[r].reason, out[r].code) for r in refs[1:]] == [
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "45055"),
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43001"),
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "50062"),
    ]
    settle(fake)
    verdicts = {r.value: query(http, fake, adapter, r) for r in refs}
    assert verdicts["301"] == Outcome(Verdict.CANCELLED, None, None, "cancelled")
    assert (verdicts["302"].verdict, verdicts["302"].reason) == (Verdict.FAILED, REASON_FILLED)
    assert (verdicts["303"].verdict, verdicts["303"].reason) == (Verdict.FAILED, REASON_NOT_FOUND)
    assert verdicts["304"] == Outcome(Verdict.CANCELLED, None, None, "cancelled")


@pytest.fixture
def slow_cancels(fake):
    """Accepted cancels take 300 ms here, so the in-progress window cannot close under a loaded CI."""
    before = fake.async_delay_ms
    fake.async_delay_ms = 300
    yield fake
    fake.async_delay_ms = before


def test_accepted_cancel_shows_live_then_cancelled(slow_cancels, http):
    fake = slow_cancels
    adapter = Bitget(fake.url)
    seed(fake, "BTCUSDT", [{"order_id": "401"}])
    ref = oid("401")
    cancel(http, fake, adapter, [ref])
    # Bitget has no "cancelling" status: the accepted order still reads live.
    assert query(http, fake, adapter, ref) == Outcome(Verdict.OPEN, None, None, "live")
    # A second cancel within the second: 45129, queried rather than guessed.
    again = cancel(http, fake, adapter, [ref])
    assert (again[ref].verdict, again[ref].code) == (Verdict.UNKNOWN, "45129")
    assert ledger(fake)["401"]["cancel_requests"] == 2
    settle(fake)
    assert query(http, fake, adapter, ref) == Outcome(Verdict.CANCELLED, None, None, "cancelled")


@pytest.mark.parametrize(
    "creds, code",
    [
        (Credentials("test-key", "wrong-secret", "test-pass"), "40009"),
        (Credentials("other-key", "test-secret", "test-pass"), "40006"),
        (Credentials("test-key", "test-secret", "wrong-pass"), "40012"),
    ],
)
def test_auth_errors_change_nothing(fake, http, adapter, creds, code):
    seed(fake, "BTCUSDT", [{"order_id": "501"}])
    reply = cancel(http, fake, adapter, [oid("501")], creds)
    assert isinstance(reply, Failure) and (reply.kind, reply.code) == (FailureKind.AUTH, code)
    q = query(http, fake, adapter, oid("501"), creds)
    assert isinstance(q, Failure) and q.kind is FailureKind.AUTH
    assert ledger(fake)["501"]["status"] == "open" and ledger(fake)["501"]["cancel_requests"] == 0


def test_stale_timestamp_is_clock_and_changes_nothing(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "601"}])
    r = send(http, fake.url, adapter.build_cancel([oid("601")], CREDS, now_ms() - 60_000))
    reply = adapter.parse_cancel([oid("601")], r)
    assert isinstance(reply, Failure) and (reply.kind, reply.code) == (FailureKind.CLOCK, "40008")
    assert abs(adapter.parse_time(r) - now_ms()) < 5_000  # the error reply's requestTime re-measures
    assert ledger(fake)["601"]["cancel_requests"] == 0


def test_clock_skew_then_remeasure(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "602"}])
    fake.fault(VENUE, "cancel", "clock_skew", offset_ms=120_000)
    r = send(http, fake.url, adapter.build_cancel([oid("602")], CREDS, now_ms()))
    reply = adapter.parse_cancel([oid("602")], r)
    assert isinstance(reply, Failure) and reply.kind is FailureKind.CLOCK
    assert 110_000 < adapter.parse_time(r) - now_ms() < 130_000  # the error reply already tells the venue's time
    offset = adapter.parse_time(send(http, fake.url, adapter.build_time())) - now_ms()
    assert 110_000 < offset < 130_000
    out = cancel(http, fake, adapter, [oid("602")], ts=now_ms() + offset)
    assert out[oid("602")].reason == REASON_ACCEPTED


def test_omit_fault(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "701"}, {"order_id": "702"}])
    fake.fault(VENUE, "cancel", "omit")
    refs = [oid("701"), oid("702")]
    out = cancel(http, fake, adapter, refs)
    assert sorted(o.reason for o in out.values()) == [REASON_ACCEPTED, REASON_OMITTED]
    settle(fake)
    assert {o["status"] for o in ledger(fake).values()} == {"cancelled"}  # the omitted one was applied too


def test_rate_limited_with_retry_after_changes_nothing(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "801"}])
    fake.fault(VENUE, "cancel", "status", status=429, retry_after=2)
    reply = cancel(http, fake, adapter, [oid("801")])
    assert isinstance(reply, Failure)
    assert (reply.kind, reply.code, reply.retry_after, reply.http_status) == (FailureKind.RATE_LIMITED, "429", 2.0, 429)
    assert ledger(fake)["801"]["cancel_requests"] == 0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_unknown_outcome(fake, http, adapter, status):
    seed(fake, "BTCUSDT", [{"order_id": "802"}])
    fake.fault(VENUE, "cancel", "status", status=status)
    fake.fault(VENUE, "query", "status", status=status)
    reply = cancel(http, fake, adapter, [oid("802")])
    assert isinstance(reply, Failure) and reply.kind is FailureKind.UNKNOWN_OUTCOME and reply.http_status == status
    q = query(http, fake, adapter, oid("802"))
    assert isinstance(q, Failure) and q.kind is FailureKind.UNKNOWN_OUTCOME


def test_malformed_reply_after_apply(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "803"}])
    fake.fault(VENUE, "cancel", "malformed")
    reply = cancel(http, fake, adapter, [oid("803")])
    assert isinstance(reply, Failure) and reply.kind is FailureKind.UNKNOWN_OUTCOME
    assert ledger(fake)["803"]["cancel_requests"] == 1


def test_fill_before_cancel(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "804"}])
    fake.fault(VENUE, "cancel", "fill_before_cancel")
    out = cancel(http, fake, adapter, [oid("804")])
    assert (out[oid("804")].verdict, out[oid("804")].code) == (Verdict.UNKNOWN, "45055")
    q = query(http, fake, adapter, oid("804"))
    assert (q.verdict, q.reason) == (Verdict.FAILED, REASON_FILLED)


@pytest.fixture(scope="module")
def strict_fake():
    """A second fake: orderInfo answers unknown ids with 43001, and the rate limit is enforced."""
    with FakeVenue(enforce_rate_limits=True, dialects=[BitgetDialect(unknown_order="43001")]) as venue:
        yield venue


def test_unknown_order_as_43001(strict_fake, http):
    strict_fake.reset()
    a = Bitget(strict_fake.url)
    q = query(http, strict_fake, a, oid("9"))
    assert (q.verdict, q.reason, q.code) == (Verdict.FAILED, REASON_NOT_FOUND, "43001")


def test_rate_limit_enforced_like_bitget(strict_fake, http):
    strict_fake.reset()
    a = Bitget(strict_fake.url)
    strict_fake.seed(VENUE, "BTCUSDT", [{"order_id": "1"}])
    # orderInfo has its own 20/s budget (venues.md §5.6), separate from batch-cancel's 10/s
    replies = [query(http, strict_fake, a, oid("1")) for _ in range(25)]
    assert replies[0] == Outcome(Verdict.OPEN, None, None, "live")
    limited = [r for r in replies if isinstance(r, Failure)]
    assert limited and all((r.kind, r.code, r.http_status) == (FailureKind.RATE_LIMITED, "429", 429) for r in limited)


# -- the fake accepts what Bitget evidently accepts (ccxt's way and the docs' way) ---------------


def signed(
    method: str, path: str, *, query: str = "", body: str = "", sign_query: str | None = None, extra: dict | None = None
) -> tuple[str, dict[str, str]]:
    """A request target and headers signed by hand (``sign_query`` signs a different form of the query)."""
    ts = now_ms()
    signed_query = query if sign_query is None else sign_query
    prehash = f"{ts}{method}{path}" + (f"?{signed_query}" if signed_query else "") + body
    headers = {
        "ACCESS-KEY": "test-key",
        "ACCESS-SIGN": b64_sign("test-secret", prehash),
        "ACCESS-TIMESTAMP": str(ts),
        "ACCESS-PASSPHRASE": "test-pass",
        **(extra or {}),
    }
    return path + (f"?{query}" if query else ""), headers


def post(http, fake, path: str, payload: dict, extra: dict | None = None) -> dict:
    body = json.dumps(payload, separators=(",", ":"))
    target, headers = signed("POST", path, body=body, extra={"Content-Type": "application/json", **(extra or {})})
    r = http.post(fake.url + target, data=body.encode(), headers=headers, timeout=5)
    return {"status": r.status_code, **r.json()}


def test_ccxt_style_batch_without_batch_mode_or_locale(fake, http):
    seed(fake, "BTCUSDT", [{"order_id": "901"}])
    payload = {"symbol": "BTCUSDT", "orderList": [{"orderId": "901"}]}
    reply = post(http, fake, CANCEL_PATH, payload, {"X-CHANNEL-API-CODE": "ccxt"})
    assert reply["code"] == "00000" and reply["data"]["successList"] == [{"orderId": "901", "clientOid": None}]


def test_batch_mode_single_and_multiple(fake, http):
    seed(fake, "BTCUSDT", [{"order_id": "902"}])
    seed(fake, "ETHUSDT", [{"order_id": "903"}])
    payload = {"symbol": "BTCUSDT", "batchMode": "single", "orderList": [{"orderId": "902", "symbol": "IGNORED"}]}
    single = post(http, fake, CANCEL_PATH, payload)
    assert [e["orderId"] for e in single["data"]["successList"]] == ["902"]
    payload = {"symbol": "", "batchMode": "multiple", "orderList": [{"orderId": "903", "symbol": "ETHUSDT"}]}
    multi = post(http, fake, CANCEL_PATH, payload)
    assert [e["orderId"] for e in multi["data"]["successList"]] == ["903"]
    missing = post(http, fake, CANCEL_PATH, {"batchMode": "multiple", "orderList": [{"orderId": "903"}]})
    assert (missing["status"], missing["code"]) == (400, "40019")


def test_mixing_id_kinds_fails_the_client_oid_items(fake, http):
    seed(fake, "BTCUSDT", [{"order_id": "904"}, {"order_id": "905", "client_order_id": "cl-905"}])
    payload = {"symbol": "BTCUSDT", "orderList": [{"orderId": "904"}, {"clientOid": "cl-905"}]}
    reply = post(http, fake, CANCEL_PATH, payload)
    assert [e["orderId"] for e in reply["data"]["successList"]] == ["904"]
    assert [(e["clientOid"], e["errorCode"]) for e in reply["data"]["failureList"]] == [("cl-905", "43001")]
    assert ledger(fake)["905"]["cancel_requests"] == 0


def test_more_than_50_is_40912_and_rejected(fake, http):
    payload = {"symbol": "BTCUSDT", "orderList": [{"orderId": str(i)} for i in range(1, 52)]}
    reply = post(http, fake, CANCEL_PATH, payload)
    assert (reply["status"], reply["code"]) == (400, "40912")
    parsed = Bitget().parse_cancel([oid("1")], resp({k: v for k, v in reply.items() if k != "status"}, 400))
    assert isinstance(parsed, Failure) and parsed.kind is FailureKind.REJECTED


def test_post_without_json_content_type_is_refused(fake, http):
    seed(fake, "BTCUSDT", [{"order_id": "906"}])
    body = '{"symbol":"BTCUSDT","orderList":[{"orderId":"906"}]}'
    target, headers = signed("POST", CANCEL_PATH, body=body)
    r = http.post(fake.url + target, data=body.encode(), headers={**headers, "Content-Type": "text/plain"}, timeout=5)
    assert r.json()["code"] == "40007" and ledger(fake)["906"]["cancel_requests"] == 0


@pytest.mark.parametrize("signed_form", ["encoded", "decoded"])
def test_query_signature_over_encoded_or_decoded_query(fake, http, signed_form):
    seed(fake, "BTCUSDT", [{"order_id": "907", "client_order_id": "a:b#c"}])
    encoded = "clientOid=" + quote("a:b#c", safe="")
    sign_query = encoded if signed_form == "encoded" else "clientOid=a:b#c"
    target, headers = signed("GET", QUERY_PATH, query=encoded, sign_query=sign_query)
    reply = http.get(fake.url + target, headers=headers, timeout=5).json()
    assert reply["code"] == "00000" and reply["data"][0]["orderId"] == "907" and reply["data"][0]["status"] == "live"


def test_wrong_query_signature(fake, http):
    target, headers = signed("GET", QUERY_PATH, query="orderId=1", sign_query="orderId=2")
    r = http.get(fake.url + target, headers=headers, timeout=5)
    assert (r.status_code, r.json()["code"]) == (400, "40009")


def test_missing_passphrase_header(fake, http):
    target, headers = signed("GET", QUERY_PATH, query="orderId=1")
    del headers["ACCESS-PASSPHRASE"]
    assert http.get(fake.url + target, headers=headers, timeout=5).json()["code"] == "40011"


def test_cancel_symbol_order_is_asynchronous(fake, http):
    seed(fake, "BTCUSDT", [{"order_id": "908"}, {"order_id": "909", "status": "filled"}])
    seed(fake, "ETHUSDT", [{"order_id": "910"}])
    reply = post(http, fake, "/api/v2/spot/trade/cancel-symbol-order", {"symbol": "BTCUSDT"})
    assert reply["code"] == "00000" and reply["data"] == {"symbol": "BTCUSDT"}
    settle(fake)
    assert {k: v["status"] for k, v in ledger(fake).items()} == {"908": "cancelled", "909": "filled", "910": "open"}


# -- listings: unfilled-orders, current-plan-order, history-orders ------------------------------

# The docs' own samples (Get-Unfilled-Orders, Get-Current-Plan-Order, Get-History-Orders), and ccxt's
# samples (bitget.py fetch_open_orders / fetch_canceled_and_closed_orders, from real replies).
DOC_UNFILLED = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1695808949356,
    "data": [
        {
            "userId": "**********",
            "symbol": "btcusdt",
            "orderId": "2222222",
            "clientOid": "xxxxxxx",
            "priceAvg": "34829.12",
            "size": "1",
            "orderType": "limit",
            "side": "buy",
            "status": "new",
            "basePrice": "0",
            "baseVolume": "0",
            "quoteVolume": "0",
            "enterPointSource": "WEB",
            "presetTakeProfitPrice": "70000",
            "executeTakeProfitPrice": "",
            "presetStopLossPrice": "10000",
            "executeStopLossPrice": "",
            "cTime": "1622697148",
            "tpslType": "normal",
            "triggerPrice": None,
        }
    ],
}
CCXT_UNFILLED_ENTRY = {
    "userId": "7264631750",
    "symbol": "BTCUSDT",
    "orderId": "1111499608327360513",
    "clientOid": "d0d4dad5-18d0-4869-a074-ec40bb47cba6",
    "priceAvg": "25000.0000000000000000",
    "size": "0.0002000000000000",
    "orderType": "limit",
    "side": "buy",
    "status": "live",
    "basePrice": "0",
    "baseVolume": "0.0000000000000000",
    "quoteVolume": "0.0000000000000000",
    "enterPointSource": "WEB",
    "orderSource": "normal",
    "cTime": "1700728077966",
    "uTime": "1700728077966",
}
DOC_PLAN = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1668134581005,
    "data": {
        "nextFlag": False,
        "idLessThan": "1",
        "orderList": [
            {
                "orderId": "121211212122",
                "clientOid": "121211212122",
                "symbol": "TRXUSDT",
                "size": "151",
                "executePrice": "0.041572",
                "triggerPrice": "0.041572",
                "status": "not_trigger",
                "orderType": "limit",
                "side": "buy",
                "planType": "amount",
                "triggerType": "fill_price",
                "enterPointSource": "API",
                "uTime": "1668134576563",
                "cTime": "1668134576563",
            }
        ],
    },
}
CCXT_HISTORY_ENTRY = {
    "userId": "7264631750",
    "symbol": "BTCUSDT",
    "orderId": "1111499608327360513",
    "clientOid": "d0d4dad5-18d0-4869-a074-ec40bb47cba6",
    "price": "25000.0000000000000000",
    "size": "0.0002000000000000",
    "orderType": "limit",
    "side": "buy",
    "status": "cancelled",
    "priceAvg": "0",
    "baseVolume": "0.0000000000000000",
    "quoteVolume": "0.0000000000000000",
    "enterPointSource": "WEB",
    "feeDetail": "",
    "orderSource": "normal",
    "cTime": "1700728077966",
    "uTime": "1700728911471",
}
# The history doc sample masks its ids ("*****"): an entry we cannot cancel or match by id.
DOC_HISTORY_MASKED = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1695808949356,
    "data": [{**CCXT_HISTORY_ENTRY, "orderId": "*****************************", "status": "filled"}],
}
WINDOW_MS = int(Bitget.history_window_s * 1000)


def envelope(data) -> dict:
    return {"code": "00000", "msg": "success", "requestTime": 1700000000000, "data": data}


def entries(n: int, top: int = 5_000, **fields) -> list[dict]:
    """``n`` unfilled-orders entries, newest (highest id) first, ids top, top-1, ..."""
    return [{**CCXT_UNFILLED_ENTRY, "orderId": str(top - i), **fields} for i in range(n)]


def test_listing_facts():
    a = Bitget()
    assert a.list_rate == Rate(20, 1.0)  # the three endpoints: 20 times/1s (UID)
    assert a.list_kinds == {ListKind.OPEN, ListKind.CONDITIONAL, ListKind.HISTORY}
    assert a.list_needs_symbol == frozenset()
    assert 89 * 86_400 < a.history_window_s < 90 * 86_400  # 90 days, an hour kept in hand


@pytest.mark.parametrize(
    "kind, path, endpoint",
    [
        (ListKind.OPEN, "/api/v2/spot/trade/unfilled-orders", "list_open"),
        (ListKind.CONDITIONAL, "/api/v2/spot/trade/current-plan-order", "list_conditional"),
        (ListKind.HISTORY, "/api/v2/spot/trade/history-orders", "list_history"),
    ],
)
def test_build_list_vectors(kind, path, endpoint):
    a = Bitget()
    ts = 1_700_000_000_000
    since = ts - 3_600_000
    req = a.build_list(kind, "BTCUSDT", CREDS, ts, since_ms=since)
    start = f"&startTime={since}" if kind is ListKind.HISTORY else ""
    assert (req.method, req.path, req.body, req.endpoint) == ("GET", path, None, endpoint)
    assert req.query == f"symbol=BTCUSDT{start}&limit=100"
    assert req.headers["ACCESS-SIGN"] == b64_sign("test-secret", f"{ts}GET{path}?{req.query}")
    assert req.headers["ACCESS-PASSPHRASE"] == "test-pass" and req.headers["locale"] == "en-US"
    nxt = a.build_list(kind, None, CREDS, ts, cursor="1111499608327360513", since_ms=since)
    assert nxt.query == f"{start.lstrip('&')}{'&' if start else ''}idLessThan=1111499608327360513&limit=100"
    assert nxt.headers["ACCESS-SIGN"] == b64_sign("test-secret", f"{ts}GET{path}?{nxt.query}")


def test_build_list_history_start_is_clipped():
    a = Bitget()
    ts = 1_700_000_000_000

    def start(since):
        return dict(parse_qsl(a.build_list(ListKind.HISTORY, None, CREDS, ts, since_ms=since).query))["startTime"]

    assert start(ts - 5_000) == str(ts - 5_000)
    assert start(ts - 200 * 86_400_000) == str(ts - WINDOW_MS)  # older than the window reaches
    assert start(None) == str(ts - WINDOW_MS)  # the whole window, asked for explicitly
    assert start(ts + 60_000) == str(ts)  # ahead of the venue's clock: now
    assert "startTime" not in a.build_list(ListKind.OPEN, None, CREDS, ts, since_ms=ts - 5_000).query


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"symbol": "btcusdt"}, "btcusdt"),
        ({"symbol": "BTC-USDT"}, "BTC-USDT"),
        ({"symbol": ""}, "''"),
        ({"cursor": "abc"}, "'abc'"),
        ({"cursor": "0"}, "'0'"),
        ({"cursor": "1" * 20}, "1" * 20),
        ({"since_ms": "1700000000000", "kind": ListKind.HISTORY}, "since_ms"),
        ({"since_ms": True, "kind": ListKind.HISTORY}, "since_ms"),
        ({"creds": Credentials("k", "s")}, "passphrase"),
    ],
)
def test_build_list_refuses_what_the_venue_would_refuse(kwargs, needle):
    kw = {"kind": ListKind.OPEN, "symbol": "BTCUSDT", "creds": CREDS, **kwargs}
    with pytest.raises(InputError) as err:
        Bitget().build_list(kw.pop("kind"), kw.pop("symbol"), kw.pop("creds"), 1_700_000_000_000, **kw)
    assert needle in str(err.value)


def test_doc_unfilled_sample():
    page = Bitget().parse_list(ListKind.OPEN, None, resp(DOC_UNFILLED))
    assert page == ListPage(
        (
            ListedOrder(
                symbol="BTCUSDT",  # the sample's "btcusdt", spelled the way validate accepts it
                order_id="2222222",
                client_order_id="xxxxxxx",
                status=Outcome(Verdict.OPEN, None, None, "new"),
                conditional=False,
                side="buy",
                order_type="limit",
                price="34829.12",  # unfilled-orders' priceAvg is the order price
                quantity="1",
                filled="0",
                created_ms=1622697148,
                updated_ms=None,
            ),
        ),
        None,
    )
    Bitget().validate([page.orders[0].ref(separate_conditional=ListKind.CONDITIONAL in Bitget.list_kinds)])


def test_ccxt_unfilled_sample_with_a_json_number_id():
    entry = {**CCXT_UNFILLED_ENTRY, "orderId": 1111499608327360513, "clientOid": ""}
    raw = b'{"code":"00000","msg":"success","requestTime":1,"data":[' + json.dumps(entry).encode() + b"]}"
    (order,) = Bitget().parse_list(ListKind.OPEN, "BTCUSDT", resp(raw)).orders
    assert order.order_id == "1111499608327360513"  # every digit kept (a float would lose the last ones)
    assert order.client_order_id is None and order.status.verdict is Verdict.OPEN
    assert (order.price, order.quantity, order.created_ms) == (
        "25000.0000000000000000",
        "0.0002000000000000",
        1700728077966,
    )


def test_doc_plan_sample():
    (order,) = Bitget().parse_list(ListKind.CONDITIONAL, None, resp(DOC_PLAN)).orders
    assert (order.symbol, order.order_id, order.client_order_id) == ("TRXUSDT", "121211212122", "121211212122")
    assert order.conditional and order.status == Outcome(Verdict.OPEN, None, None, "not_trigger")
    assert (order.price, order.quantity, order.filled) == ("0.041572", "151", None)
    assert Bitget().parse_list(ListKind.CONDITIONAL, None, resp(DOC_PLAN)).cursor is None  # nextFlag false


@pytest.mark.parametrize(
    "status, verdict, reason",
    [
        ("live", Verdict.OPEN, None),
        ("not_trigger", Verdict.OPEN, None),
        ("executing", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        ("cancelled", Verdict.CANCELLED, None),
        ("executed", Verdict.FAILED, REASON_FILLED),
        ("fail_execute", Verdict.FAILED, REASON_EXPIRED),
        ("triggered", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (None, Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_plan_status_table(status, verdict, reason):
    body = json.loads(json.dumps(DOC_PLAN))
    body["data"]["orderList"][0]["status"] = status
    (order,) = Bitget().parse_list(ListKind.CONDITIONAL, None, resp(body)).orders
    assert (order.status.verdict, order.status.reason) == (verdict, reason)


@pytest.mark.parametrize(
    "status, verdict, reason",
    [
        ("live", Verdict.OPEN, None),
        ("partially_filled", Verdict.OPEN, None),
        ("filled", Verdict.FAILED, REASON_FILLED),
        ("cancelled", Verdict.CANCELLED, None),
        ("init", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (7, Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_history_states_read_like_the_query(status, verdict, reason):
    body = envelope([{**CCXT_HISTORY_ENTRY, "status": status}])
    (order,) = Bitget().parse_list(ListKind.HISTORY, "BTCUSDT", resp(body)).orders
    assert (order.status.verdict, order.status.reason) == (verdict, reason)
    # The same word read by the query gives the same outcome.
    info = json.loads(json.dumps(DOC_ORDER_INFO))
    info["data"][0].update(orderId=order.order_id, status=status)
    assert Bitget().parse_query(oid(order.order_id), resp(info)) == order.status
    # history's price is the order price; priceAvg there is the average fill price.
    assert order.price == "25000.0000000000000000" and order.updated_ms == 1700728911471


def test_masked_doc_history_sample_fails_the_page():
    out = Bitget().parse_list(ListKind.HISTORY, None, resp(DOC_HISTORY_MASKED))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    assert "orderId" in out.message and "missing orders" in out.message


def test_a_tpsl_entry_on_the_ordinary_list_is_conditional():
    (order,) = Bitget().parse_list(ListKind.OPEN, None, resp(envelope(entries(1, tpslType="tpsl")))).orders
    assert order.conditional


@pytest.mark.parametrize(
    "kind, n, extra, cursor",
    [
        (ListKind.OPEN, 100, {}, "4901"),  # a full page: the smallest id on it
        (ListKind.OPEN, 99, {}, None),  # a short page is the last
        (ListKind.HISTORY, 100, {}, "4901"),
        (ListKind.CONDITIONAL, 3, {"nextFlag": True}, "4998"),  # the venue says more
        (ListKind.CONDITIONAL, 3, {"nextFlag": False}, None),
        (ListKind.CONDITIONAL, 100, {"nextFlag": False}, "4901"),  # full: one request more, never a miss
        (ListKind.CONDITIONAL, 0, {"nextFlag": True, "idLessThan": "777"}, "777"),
    ],
)
def test_list_cursor_rules(kind, n, extra, cursor):
    rows = entries(n)
    rows.reverse()  # the order within a page does not matter: the smallest id is the cursor
    data = {"orderList": rows, **extra} if kind is ListKind.CONDITIONAL else rows
    page = Bitget().parse_list(kind, None, resp(envelope(data)))
    assert isinstance(page, ListPage) and len(page.orders) == n and page.cursor == cursor


def test_a_page_that_does_not_move_back_is_a_failure():
    a = Bitget()
    full = resp(envelope(entries(100, top=5_000)))
    assert a.parse_list(ListKind.OPEN, None, full, cursor="5001").cursor == "4901"
    stuck = a.parse_list(ListKind.OPEN, None, full, cursor="4901")
    assert isinstance(stuck, Failure) and stuck.kind is FailureKind.UNKNOWN_OUTCOME and "4901" in stuck.message
    more_no_cursor = a.parse_list(ListKind.CONDITIONAL, None, resp(envelope({"nextFlag": True, "orderList": []})))
    assert isinstance(more_no_cursor, Failure) and more_no_cursor.kind is FailureKind.UNKNOWN_OUTCOME


@pytest.mark.parametrize(
    "kind, data",
    [
        (ListKind.OPEN, None),
        (ListKind.OPEN, {"orderList": []}),
        (ListKind.OPEN, [*entries(2), {**CCXT_UNFILLED_ENTRY, "orderId": None}]),
        (ListKind.OPEN, [*entries(2), {**CCXT_UNFILLED_ENTRY, "orderId": 1.1114996083273605e18}]),
        (ListKind.OPEN, [*entries(2), {**CCXT_UNFILLED_ENTRY, "orderId": "0012"}]),
        (ListKind.OPEN, [*entries(2), {**CCXT_UNFILLED_ENTRY, "symbol": None}]),
        (ListKind.OPEN, [*entries(2), {**CCXT_UNFILLED_ENTRY, "symbol": "BTCUSDT_SPBL"}]),
        (ListKind.OPEN, [*entries(2), "1111499608327360513"]),
        (ListKind.HISTORY, [{k: v for k, v in CCXT_HISTORY_ENTRY.items() if k != "symbol"}]),
        (ListKind.CONDITIONAL, [DOC_PLAN["data"]["orderList"][0]]),  # the bare array where an object belongs
        (ListKind.CONDITIONAL, {"nextFlag": True, "orderList": None}),
        (ListKind.CONDITIONAL, {"nextFlag": False, "orderList": {"orderId": "1"}}),
    ],
)
def test_a_malformed_entry_or_shape_fails_the_whole_page(kind, data):
    out = Bitget().parse_list(kind, None, resp(envelope(data)))
    assert isinstance(out, Failure), out
    assert out.kind is FailureKind.UNKNOWN_OUTCOME and out.code == "00000" and "missing orders" in out.message


def test_an_empty_plan_list_may_come_as_null_only_with_no_more():
    out = Bitget().parse_list(ListKind.CONDITIONAL, None, resp(envelope({"nextFlag": False, "orderList": None})))
    assert out == ListPage((), None)
    assert Bitget().parse_list(ListKind.OPEN, None, resp(envelope([]))) == ListPage((), None)


@pytest.mark.parametrize(
    "status, code, kind",
    [
        (429, "429", FailureKind.RATE_LIMITED),
        (400, "40008", FailureKind.CLOCK),
        (400, "40009", FailureKind.AUTH),
        (400, "40020", FailureKind.REJECTED),  # what the fake answers to limit=101
        (400, "00001", FailureKind.REJECTED),  # startTime..endTime over 90 days
        (400, "20001", FailureKind.REJECTED),
        (400, "43111", FailureKind.UNKNOWN_OUTCOME),  # also "address not in address book": not ours to read
        (500, "40015", FailureKind.UNKNOWN_OUTCOME),
        (502, None, FailureKind.UNKNOWN_OUTCOME),
        (404, None, FailureKind.REJECTED),
        (200, None, FailureKind.UNKNOWN_OUTCOME),
    ],
)
def test_listing_errors_are_classified_like_queries(status, code, kind):
    body = {"code": code, "msg": "m", "requestTime": 1, "data": None} if code is not None else b"<html>proxy</html>"
    for list_kind in (ListKind.OPEN, ListKind.CONDITIONAL, ListKind.HISTORY):
        out = Bitget().parse_list(list_kind, None, resp(body, status, {"Retry-After": "2"}))
        assert isinstance(out, Failure) and (out.kind, out.code, out.http_status) == (kind, code, status)
        if code is None:
            assert "HTTP" in out.message  # plain words about what came back


@pytest.mark.parametrize("body", GARBAGE)
@pytest.mark.parametrize("status", [200, 400, 500])
def test_garbage_listings_never_raise(body, status):
    for kind in (ListKind.OPEN, ListKind.CONDITIONAL, ListKind.HISTORY):
        out = Bitget().parse_list(kind, None, HttpResponse(status, body))
        assert isinstance(out, (Failure, ListPage))


# -- listings end to end: adapter <-> fake -------------------------------------------------------


def list_all(http, fake, a, kind, symbol, *, since_ms=None, creds=CREDS):
    """Every page of one listing; returns the orders and the number of requests it took."""
    cursor, out, pages = None, [], 0
    while True:
        req = a.build_list(kind, symbol, creds, now_ms(), cursor=cursor, since_ms=since_ms)
        page = a.parse_list(kind, symbol, send(http, fake.url, req), cursor=cursor)
        assert isinstance(page, ListPage), page
        out.extend(page.orders)
        pages += 1
        if page.cursor is None:
            return out, pages
        assert pages < 20, "paging does not end"
        cursor = page.cursor


def test_paging_250_open_orders_apart_from_plan_orders_and_other_symbols(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"client_order_id": f"bot-{i}", "price": "101.5"} for i in range(250)])
    seed(fake, "BTCUSDT", [{"conditional": True, "client_order_id": f"plan-{i}"} for i in range(10)])
    seed(fake, "ETHUSDT", [{"client_order_id": f"other-{i}"} for i in range(20)])
    seed(fake, "BTCUSDT", [{"status": "filled"}, {"status": "cancelled"}])
    rows = {o["order_id"]: o for o in fake.orders(VENUE)}
    btc_open = {
        k for k, o in rows.items() if o["symbol"] == "BTCUSDT" and o["status"] == "open" and not o["conditional"]
    }
    plans = {k for k, o in rows.items() if o["conditional"]}

    found, pages = list_all(http, fake, adapter, ListKind.OPEN, "BTCUSDT")
    assert pages == 3  # 100 + 100 + 50
    assert [o.order_id for o in found] == sorted(btc_open, key=int, reverse=True)  # newest first, none twice
    assert all(o.status == Outcome(Verdict.OPEN, None, None, "live") and not o.conditional for o in found)
    assert {o.client_order_id for o in found} == {f"bot-{i}" for i in range(250)}
    assert {o.price for o in found} == {"101.5"} and {o.symbol for o in found} == {"BTCUSDT"}

    everything, pages = list_all(http, fake, adapter, ListKind.OPEN, None)
    assert pages == 3 and len(everything) == 270 and {o.symbol for o in everything} == {"BTCUSDT", "ETHUSDT"}

    conditional, pages = list_all(http, fake, adapter, ListKind.CONDITIONAL, "BTCUSDT")
    assert pages == 1 and {o.order_id for o in conditional} == plans
    assert all(o.conditional and o.status.verdict is Verdict.OPEN for o in conditional)
    assert not plans & {o.order_id for o in everything}
    requests_ = [r["path"] for r in fake.requests(VENUE)]
    assert requests_.count("/api/v2/spot/trade/unfilled-orders") == 6
    assert requests_.count("/api/v2/spot/trade/current-plan-order") == 1


def test_plan_orders_page_by_next_flag(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"conditional": True} for _ in range(205)])
    found, pages = list_all(http, fake, adapter, ListKind.CONDITIONAL, None)
    assert pages == 3 and len({o.order_id for o in found}) == 205


def test_pending_cancels_read_live_then_land_in_history(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": str(3000 + i)} for i in range(5)])
    since = now_ms() - 1_000
    out = cancel(http, fake, adapter, [oid("3000"), oid("3001")])
    assert {o.reason for o in out.values()} == {REASON_ACCEPTED}
    still, _ = list_all(http, fake, adapter, ListKind.OPEN, "BTCUSDT")
    # Accepted, not yet applied: Bitget still shows them live (pending_cancel_reads_open).
    assert {o.order_id for o in still} == {str(3000 + i) for i in range(5)}
    assert {o.status.message for o in still} == {"live"}
    assert list_all(http, fake, adapter, ListKind.HISTORY, "BTCUSDT", since_ms=since)[0] == []
    settle(fake)
    left, _ = list_all(http, fake, adapter, ListKind.OPEN, "BTCUSDT")
    assert {o.order_id for o in left} == {"3002", "3003", "3004"}
    done, _ = list_all(http, fake, adapter, ListKind.HISTORY, "BTCUSDT", since_ms=since)
    assert {o.order_id: o.status for o in done} == {
        "3000": Outcome(Verdict.CANCELLED, None, None, "cancelled"),
        "3001": Outcome(Verdict.CANCELLED, None, None, "cancelled"),
    }


def test_history_states_window_and_paging(fake, http, adapter):
    now = now_ms()
    old = now - 95 * 86_400_000  # beyond the venue's 90 days
    seed(
        fake,
        "BTCUSDT",
        [{"status": "cancelled", "created_ms": old}, {"status": "filled", "created_ms": now - 7_200_000}],
    )
    seed(fake, "BTCUSDT", [{"status": "cancelled"} for _ in range(120)])
    seed(fake, "BTCUSDT", [{"status": "filled"}, {"status": "open"}, {"status": "open", "conditional": True}])
    seed(fake, "ETHUSDT", [{"status": "cancelled"}])
    recent, pages = list_all(http, fake, adapter, ListKind.HISTORY, "BTCUSDT", since_ms=now - 60_000)
    assert pages == 2 and len(recent) == 121
    assert Counter(o.status.verdict for o in recent) == {Verdict.CANCELLED: 120, Verdict.FAILED: 1}
    assert {o.status.reason for o in recent if o.status.verdict is Verdict.FAILED} == {REASON_FILLED}
    # The whole window: the order created two hours ago too, never the one older than 90 days.
    window, _ = list_all(http, fake, adapter, ListKind.HISTORY, "BTCUSDT", since_ms=old)
    assert len(window) == 122 and min(o.created_ms for o in window) == now - 7_200_000
    every, _ = list_all(http, fake, adapter, ListKind.HISTORY, None)
    assert len(every) == 123 and {o.symbol for o in every} == {"BTCUSDT", "ETHUSDT"}
    for path in {r["path"] for r in fake.requests(VENUE)}:
        assert path == "/api/v2/spot/trade/history-orders"


def test_plan_orders_are_not_seen_by_the_ordinary_endpoints(fake, http, adapter):
    seed(
        fake, "BTCUSDT", [{"order_id": "4100", "client_order_id": "plan-1", "conditional": True}, {"order_id": "4101"}]
    )
    out = cancel(http, fake, adapter, [oid("4100"), oid("4101")])
    assert out[oid("4100")] == Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, "43001", "The order does not exist")
    assert out[oid("4101")].reason == REASON_ACCEPTED
    assert query(http, fake, adapter, oid("4100")).reason == REASON_NOT_FOUND
    assert query(http, fake, adapter, cid("plan-1")).reason == REASON_NOT_FOUND
    reply = post(http, fake, "/api/v2/spot/trade/cancel-symbol-order", {"symbol": "BTCUSDT"})
    assert reply["data"] == {"symbol": "BTCUSDT"}
    settle(fake)
    assert {k: (v["status"], v["cancel_requests"]) for k, v in ledger(fake).items()} == {
        "4100": ("open", 0),
        "4101": ("cancelled", 1),
    }


def get(http, fake, path: str, query: str) -> dict:
    target, headers = signed("GET", path, query=query)
    r = http.get(fake.url + target, headers=headers, timeout=5)
    return {"status": r.status_code, **r.json()}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/spot/trade/unfilled-orders",
        "/api/v2/spot/trade/current-plan-order",
        "/api/v2/spot/trade/history-orders",
    ],
)
def test_the_fake_refuses_an_out_of_range_page_size(fake, http, path):
    for bad in ("101", "0", "-1", "ten"):
        reply = get(http, fake, path, f"limit={bad}")
        assert (reply["status"], reply["code"]) == (400, "40020"), bad
        parsed = Bitget().parse_list(ListKind.OPEN, None, resp({k: v for k, v in reply.items() if k != "status"}, 400))
        assert isinstance(parsed, Failure) and parsed.kind is FailureKind.REJECTED
    assert get(http, fake, path, "limit=100")["code"] == "00000"
    assert get(http, fake, path, "idLessThan=abc")["code"] == "40020"


def test_plan_list_default_page_is_20_and_the_others_100(fake, http):
    seed(fake, "BTCUSDT", [{"conditional": True} for _ in range(25)] + [{} for _ in range(105)])
    plan = get(http, fake, "/api/v2/spot/trade/current-plan-order", "symbol=BTCUSDT")["data"]
    assert len(plan["orderList"]) == 20 and plan["nextFlag"] is True
    assert plan["idLessThan"] == plan["orderList"][-1]["orderId"]
    assert len(get(http, fake, "/api/v2/spot/trade/unfilled-orders", "symbol=BTCUSDT")["data"]) == 100


def test_the_fake_keeps_the_history_window(fake, http):
    now = now_ms()
    path = "/api/v2/spot/trade/history-orders"
    too_old = get(http, fake, path, f"startTime={now - 91 * 86_400_000}")
    assert (too_old["status"], too_old["code"]) == (400, "43111")
    too_long = get(http, fake, path, f"startTime={now - 86_400_000}&endTime={now + 90 * 86_400_000}")
    assert too_long["code"] == "00001"
    backwards = get(http, fake, path, f"startTime={now}&endTime={now - 1}")
    assert backwards["code"] == "20001"
    plan_span = f"startTime={now - 91 * 86_400_000}&endTime={now}"
    assert get(http, fake, "/api/v2/spot/trade/current-plan-order", plan_span)["code"] == "00001"
    # The adapter's widest request is inside the window, even with the venue's clock ahead of ours (20 s,
    # inside the fake's 30 s timestamp tolerance).
    req = Bitget(fake.url).build_list(ListKind.HISTORY, None, CREDS, now - 20_000, since_ms=0)
    assert Bitget().parse_list(ListKind.HISTORY, None, send(http, fake.url, req)) == ListPage((), None)


def test_listing_with_wrong_credentials_is_auth(fake, http, adapter):
    bad = Credentials("test-key", "wrong-secret", "test-pass")
    for kind in (ListKind.OPEN, ListKind.CONDITIONAL, ListKind.HISTORY):
        out = adapter.parse_list(kind, None, send(http, fake.url, adapter.build_list(kind, None, bad, now_ms())))
        assert isinstance(out, Failure) and (out.kind, out.code) == (FailureKind.AUTH, "40009")


def test_a_truncated_listing_is_unknown_outcome(fake, http, adapter):
    seed(fake, "BTCUSDT", [{} for _ in range(3)])
    fake.fault(VENUE, "list_open", "malformed")
    out = adapter.parse_list(
        ListKind.OPEN, None, send(http, fake.url, adapter.build_list(ListKind.OPEN, None, CREDS, now_ms()))
    )
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME


def test_listing_rate_limits_enforced_like_bitget(strict_fake, http):
    strict_fake.reset()
    a = Bitget(strict_fake.url)
    replies = [
        a.parse_list(
            ListKind.OPEN, None, send(http, strict_fake.url, a.build_list(ListKind.OPEN, None, CREDS, now_ms()))
        )
        for _ in range(25)
    ]
    assert replies[0] == ListPage((), None)
    limited = [r for r in replies if isinstance(r, Failure)]
    assert limited and all((r.kind, r.code) == (FailureKind.RATE_LIMITED, "429") for r in limited)
    # Each listing has its own 20/s budget.
    plan = a.build_list(ListKind.CONDITIONAL, None, CREDS, now_ms())
    assert a.parse_list(ListKind.CONDITIONAL, None, send(http, strict_fake.url, plan)) == ListPage((), None)


# -- conditional (plan) orders and the venue's cancel-all (the kill switch's pieces) -------------

# The docs' samples: Cancel-Plan-Order, Get-History-Plan-Order (its sample copies the current list's
# "not_trigger"), Cancel-Symbol-Orders; ccxt's real samples (bitget.py cancel_order "spot trigger",
# fetch_canceled_and_closed_orders "spot stop").
DOC_PLAN_CANCEL = {"code": "00000", "msg": "success", "requestTime": 1668134497496, "data": {"result": "success"}}
CCXT_PLAN_CANCEL = {"code": "00000", "msg": "success", "requestTime": 1700711728063, "data": {"result": "success"}}
DOC_PLAN_HISTORY = DOC_PLAN  # the same reply, word for word (status "not_trigger" included)
CCXT_PLAN_ENTRY = {
    "orderId": "1111503385931620352",
    "clientOid": "1111503385910648832",
    "symbol": "BTCUSDT",
    "size": "0.0002",
    "planType": "AMOUNT",
    "executePrice": "25000",
    "triggerPrice": "26000",
    "status": "cancelled",
    "orderType": "limit",
    "side": "buy",
    "triggerType": "fill_price",
    "enterPointSource": "API",
    "cTime": "1700728978617",
    "uTime": "1700729666868",
}
CCXT_PLAN_HISTORY = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1700792099146,
    "data": {"nextFlag": False, "idLessThan": "1098757597417775104", "orderList": [CCXT_PLAN_ENTRY]},
}
DOC_CANCEL_ALL = {"code": "00000", "msg": "success", "requestTime": 1698313139948, "data": {"symbol": "BGBUSDT"}}
DOC_CREDS = Credentials("doc-key", DOC_SECRET, passphrase="doc-pass")
SEPARATE = ListKind.CONDITIONAL in Bitget.list_kinds  # what ListedOrder.ref is told on Bitget


def poid(i: str, symbol: str = "BTCUSDT") -> OrderRef:
    """A plan (conditional) order by orderId."""
    return OrderRef(symbol, order_id=i, conditional=True)


def plan_history(*entries: dict, next_flag: bool = False) -> dict:
    return envelope({"nextFlag": next_flag, "idLessThan": None, "orderList": list(entries)})


def plan_entry(order_id: str = "121211212122", status: object = "cancelled", symbol: str = "BTCUSDT") -> dict:
    return {**CCXT_PLAN_ENTRY, "orderId": order_id, "status": status, "symbol": symbol}


def q_of(reply: Failure | Outcome) -> Outcome:
    """A query's answer about the order (not a failure of the request)."""
    assert isinstance(reply, Outcome), reply
    return reply


def per_order(reply: Failure | Mapping[OrderRef, Outcome]) -> Mapping[OrderRef, Outcome]:
    """A cancel reply's answers per order (not a failure of the request)."""
    assert not isinstance(reply, Failure), reply
    return reply


def test_kill_switch_facts():
    assert Bitget.cancel_all_rate == Rate(5, 1.0)  # Cancel-Symbol-Orders: "Frequency limit: 5 times/1s (UID)"
    assert Bitget.cancel_all_needs_symbol is True  # symbol: Required "Yes"
    assert ListKind.CONDITIONAL in Bitget.list_kinds and SEPARATE


def test_signature_vector_plan_cancel():
    req = Bitget().build_cancel([poid("121211212122")], DOC_CREDS, DOC_TS)
    assert (req.method, req.path, req.query, req.endpoint) == ("POST", PLAN_CANCEL_PATH, "", "cancel")
    assert req.body == b'{"orderId":"121211212122"}'  # no symbol: the endpoint takes none
    assert b64_sign(DOC_SECRET, f"{DOC_TS}POST{PLAN_CANCEL_PATH}" + req.body.decode()) == req.headers["ACCESS-SIGN"]
    assert req.headers["ACCESS-SIGN"] == "fs0ONPo4hQ5gHRdig7icc0S6v78KII3RawileL5Qnvg="
    assert req.headers["ACCESS-PASSPHRASE"] == "doc-pass" and req.headers["Content-Type"] == "application/json"


def test_signature_vector_plan_query():
    req = Bitget().build_query(poid("121211212122"), DOC_CREDS, DOC_TS)
    assert (req.method, req.path, req.body, req.endpoint) == ("GET", PLAN_QUERY_PATH, None, "query")
    # startTime: the same reach as the HISTORY listing (90 days less an hour); the page starts at this order.
    start = DOC_TS - int(Bitget.history_window_s * 1000)
    assert start == 1651304270000
    assert req.query == f"symbol=BTCUSDT&startTime={start}&idLessThan=121211212123&limit=100"
    assert req.headers["ACCESS-SIGN"] == b64_sign(DOC_SECRET, f"{DOC_TS}GET{PLAN_QUERY_PATH}?{req.query}")
    assert req.headers["ACCESS-SIGN"] == "2ZN+IsokXu7DW4nRPzgr1HXOtpGpNE61/9kbH1lSui4="


def test_plan_query_for_the_largest_id_sends_no_bound():
    top = str(2**63 - 1)
    req = Bitget().build_query(poid(top), CREDS, DOC_TS)
    assert "idLessThan" not in dict(parse_qsl(req.query)) and dict(parse_qsl(req.query))["limit"] == "100"


def test_ordinary_refs_keep_their_endpoints():
    a = Bitget()
    assert a.build_cancel([oid("1")], CREDS, DOC_TS).path == CANCEL_PATH
    assert a.build_query(oid("1"), CREDS, DOC_TS).path == QUERY_PATH
    assert a.build_query(cid("c-1"), CREDS, DOC_TS).path == QUERY_PATH


def test_signature_vector_cancel_all():
    req = Bitget().build_cancel_all("BTCUSDT", DOC_CREDS, DOC_TS)
    assert (req.method, req.path, req.query, req.endpoint) == ("POST", CANCEL_ALL_PATH, "", "cancel_all")
    assert req.body == b'{"symbol":"BTCUSDT"}'
    assert req.headers["ACCESS-SIGN"] == b64_sign(DOC_SECRET, f'{DOC_TS}POST{CANCEL_ALL_PATH}{{"symbol":"BTCUSDT"}}')
    assert req.headers["ACCESS-SIGN"] == "tvha+S7UL9f+qoT9NzQoNfQcXt1G18pQCW5w4R+kdP8="
    assert Bitget().build_cancel_all("ETHUSDT", CREDS, DOC_TS, account="ignored").body == b'{"symbol":"ETHUSDT"}'


@pytest.mark.parametrize(
    "symbol, needle",
    [
        (None, "needs a symbol"),
        ("btc-usdt", "malformed symbol 'btc-usdt'"),
        ("BTC\x00USDT", "control character"),
        ("", "malformed symbol ''"),
        (5, "malformed symbol 5"),
    ],
)
def test_build_cancel_all_refuses_what_the_venue_would_refuse(symbol, needle):
    with pytest.raises(InputError, match="bitget") as e:
        Bitget().build_cancel_all(symbol, CREDS, DOC_TS)
    assert needle in str(e.value)


def test_validate_accepts_plan_orders_by_order_id():
    Bitget().validate([oid("1"), poid("2"), cid("c-1"), poid("3", "ETHUSDT")])


@pytest.mark.parametrize(
    "refs, needle",
    [
        # A plan order named by clientOid: cancel-plan-order would take it, its query could never find it.
        ([oid("1"), OrderRef("BTCUSDT", client_order_id="p-1", conditional=True)], "clientOid 'p-1' on 'BTCUSDT'"),
        # The first bad ref is named, whichever rule it breaks.
        ([oid("01"), OrderRef("BTCUSDT", client_order_id="p-1", conditional=True)], "'01'"),
        ([OrderRef("BTCUSDT", client_order_id="p-1", conditional=True), oid("01")], "clientOid 'p-1'"),
        ([poid("12x")], "orderId must be numeric"),
        ([poid("1", "btc/usdt")], "malformed symbol 'btc/usdt'"),
    ],
)
def test_validate_names_a_bad_conditional_ref(refs, needle):
    with pytest.raises(InputError) as e:
        Bitget().validate(refs)
    assert needle in str(e.value)


def test_a_plan_order_by_client_id_is_refused_everywhere():
    ref = OrderRef("BTCUSDT", client_order_id="p-1", conditional=True)
    with pytest.raises(InputError, match="orderId"):
        Bitget().build_cancel([ref], CREDS, DOC_TS)
    with pytest.raises(InputError, match="orderId"):
        Bitget().build_query(ref, CREDS, DOC_TS)


@pytest.mark.parametrize(
    "refs",
    [
        [poid("1"), oid("2")],  # plan and ordinary
        [oid("2"), poid("1")],
        [poid("1"), poid("2")],  # one plan order per request
        [],
    ],
)
def test_build_cancel_never_mixes_or_batches_plan_orders(refs):
    if not refs:
        with pytest.raises(InputError):
            Bitget().build_cancel(refs, CREDS, DOC_TS)
        return
    with pytest.raises(InputError, match="plan_chunks"):
        Bitget().build_cancel(refs, CREDS, DOC_TS)


def test_plan_chunks_never_mix_and_give_each_plan_order_its_own():
    refs = (
        [oid(str(100 + i)) for i in range(70)]
        + [poid(str(500 + i)) for i in range(7)]
        + [cid(f"c-{i}") for i in range(3)]
        + [poid(str(600 + i), "ETHUSDT") for i in range(2)]
        + [oid(str(700 + i), "ETHUSDT") for i in range(4)]
    )
    chunks = Bitget().plan_chunks(refs)
    assert Counter(r for c in chunks for r in c) == Counter(refs)  # every order exactly once
    plan = [c for c in chunks if any(r.conditional for r in c)]
    assert len(plan) == 9 and all(len(c) == 1 for c in plan)
    ordinary = [c for c in chunks if c not in plan]
    assert [len(c) for c in ordinary] == [50, 20, 3, 4]
    assert all(len({(r.symbol, r.kind, r.conditional) for r in c}) == 1 for c in chunks)
    for chunk in chunks:  # each chunk is a request the adapter builds
        Bitget().build_cancel(chunk, CREDS, DOC_TS)


@settings(max_examples=200, deadline=None)
@given(
    spec=st.lists(
        st.tuples(st.sampled_from(["BTCUSDT", "ETHUSDT"]), st.booleans(), st.booleans()), max_size=130, unique=False
    ),
    size=st.integers(1, 50),
)
def test_plan_chunks_property(spec, size):
    refs = []
    for i, (symbol, conditional, by_client) in enumerate(spec):
        if conditional:
            refs.append(OrderRef(symbol, order_id=str(10_000 + i), conditional=True))
        elif by_client:
            refs.append(OrderRef(symbol, client_order_id=f"c-{i}"))
        else:
            refs.append(OrderRef(symbol, order_id=str(10_000 + i)))
    chunks = Bitget(max_batch=size).plan_chunks(refs)
    assert Counter(r for c in chunks for r in c) == Counter(refs)
    for chunk in chunks:
        assert 1 <= len(chunk) <= size
        assert len({r.conditional for r in chunk}) == 1
        if chunk[0].conditional:
            assert len(chunk) == 1
        assert len({(r.symbol, r.kind) for r in chunk}) == 1


@pytest.mark.parametrize("body", [DOC_PLAN_CANCEL, CCXT_PLAN_CANCEL])
@pytest.mark.parametrize("trust", [False, True])
def test_plan_cancel_success_is_accepted_never_cancelled(body, trust):
    ref = poid("121211212122")
    out = Bitget(trust_success_list=trust).parse_cancel([ref], resp(body))
    assert out == {ref: Outcome(Verdict.UNKNOWN, REASON_ACCEPTED, "00000", "result: success")}


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (200, envelope({"result": "failure"}), (Verdict.UNKNOWN, REASON_AMBIGUOUS, "00000")),
        (200, envelope({}), (Verdict.UNKNOWN, REASON_OMITTED, "00000")),
        (200, envelope(None), (Verdict.UNKNOWN, REASON_OMITTED, "00000")),
        (200, envelope([{"result": "success"}]), (Verdict.UNKNOWN, REASON_OMITTED, "00000")),
        (
            400,
            {"code": "43025", "msg": "Plan order does not exist", "data": None},
            (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43025"),
        ),
        (
            400,
            {"code": "43026", "msg": "The planned order has been closed", "data": None},
            (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43026"),
        ),
        (
            400,
            {"code": "43001", "msg": "The order does not exist", "data": None},
            (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43001"),
        ),
        (400, {"code": "45129", "msg": "too frequent", "data": None}, (Verdict.UNKNOWN, REASON_AMBIGUOUS, "45129")),
    ],
)
def test_plan_cancel_per_order_answers(status, body, expected):
    ref = poid("5")
    out = Bitget().parse_cancel([ref], resp(body, status))
    assert isinstance(out, dict) and list(out) == [ref]
    assert (out[ref].verdict, out[ref].reason, out[ref].code) == expected


@pytest.mark.parametrize(
    "status, code, kind",
    [
        (400, "40009", FailureKind.AUTH),
        (400, "40008", FailureKind.CLOCK),
        (429, "429", FailureKind.RATE_LIMITED),
        (400, "40019", FailureKind.REJECTED),
        (400, "40913", FailureKind.REJECTED),
        (500, "40015", FailureKind.UNKNOWN_OUTCOME),
        (400, "99999", FailureKind.UNKNOWN_OUTCOME),
    ],
)
def test_plan_cancel_and_query_errors_are_classified_like_the_ordinary_ones(status, code, kind):
    body = {"code": code, "msg": "x", "requestTime": 1, "data": None}
    for out in (
        Bitget().parse_cancel([poid("5")], resp(body, status)),
        Bitget().parse_query(poid("5"), resp(body, status)),
    ):
        assert isinstance(out, Failure) and (out.kind, out.code, out.http_status) == (kind, code, status)


def test_a_plan_reply_read_for_the_wrong_chunk_settles_nothing():
    refs = [poid("1"), poid("2")]
    out = per_order(Bitget().parse_cancel(refs, resp(DOC_PLAN_CANCEL)))
    assert set(out) == set(refs) and {o.reason for o in out.values()} == {REASON_AMBIGUOUS}
    mixed = [poid("1"), oid("2")]
    out = per_order(Bitget().parse_cancel(mixed, resp(DOC_PLAN_CANCEL)))
    assert {o.verdict for o in out.values()} == {Verdict.UNKNOWN}


def test_plan_query_reads_the_doc_and_ccxt_samples():
    # The doc sample's entry is on TRXUSDT and reads "not_trigger": a live plan.
    q = Bitget().parse_query(poid("121211212122", "TRXUSDT"), resp(DOC_PLAN_HISTORY))
    assert q == Outcome(Verdict.OPEN, None, None, "not_trigger")
    # The same id asked for on another symbol: the venue's word is about some other listing; unknown.
    q = q_of(Bitget().parse_query(poid("121211212122", "BTCUSDT"), resp(DOC_PLAN_HISTORY)))
    assert (q.verdict, q.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS) and "TRXUSDT" in str(q.message)
    q = Bitget().parse_query(poid("1111503385931620352"), resp(CCXT_PLAN_HISTORY))
    assert q == Outcome(Verdict.CANCELLED, None, None, "cancelled")


@pytest.mark.parametrize(
    "status, verdict, reason",
    [
        ("cancelled", Verdict.CANCELLED, None),
        ("executed", Verdict.FAILED, REASON_FILLED),  # the trigger fired first: its order is an ordinary one
        ("fail_execute", Verdict.FAILED, REASON_EXPIRED),
        ("live", Verdict.OPEN, None),
        ("executing", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        ("cancelling", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (7, Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_plan_query_status_table(status, verdict, reason):
    q = q_of(Bitget().parse_query(poid("77"), resp(plan_history(plan_entry("78"), plan_entry("77", status)))))
    assert (q.verdict, q.reason) == (verdict, reason)


@pytest.mark.parametrize(
    "data",
    [
        {"nextFlag": False, "idLessThan": None, "orderList": []},
        {"nextFlag": False, "orderList": None},
        {"nextFlag": True, "idLessThan": "70", "orderList": [plan_entry("76"), plan_entry("75")]},
        {"nextFlag": False, "orderList": [plan_entry("770"), plan_entry("7")]},  # near misses
    ],
)
def test_a_plan_missing_from_the_history_is_unknown_never_not_found_nor_open(data):
    q = q_of(Bitget().parse_query(poid("77"), resp(envelope(data))))
    assert (q.verdict, q.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)
    assert "not in history-plan-order" in str(q.message)


@pytest.mark.parametrize(
    "data",
    [None, [], "x", {"nextFlag": True, "orderList": None}, {"orderList": {"orderId": "77"}}],
)
def test_a_plan_history_without_a_list_is_unknown(data):
    q = q_of(Bitget().parse_query(poid("77"), resp(envelope(data))))
    assert (q.verdict, q.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)


def test_plan_query_edge_entries():
    a, ref, oid_ = Bitget(), poid("1111503385931620352"), "1111503385931620352"
    entry = b'{"orderId":1111503385931620352,"symbol":"btcusdt","status":"cancelled"}'
    as_number = (
        b'{"code":"00000","msg":"success","requestTime":1,"data":{"nextFlag":false,"orderList":[' + entry + b"]}}"
    )
    assert q_of(a.parse_query(ref, resp(as_number))).verdict is Verdict.CANCELLED  # a JSON number keeps its digits
    twice = plan_history(plan_entry(oid_, "cancelled"), plan_entry(oid_, "executed"))
    assert q_of(a.parse_query(ref, resp(twice))).reason == REASON_AMBIGUOUS
    same_twice = plan_history(plan_entry(oid_), plan_entry(oid_))
    assert q_of(a.parse_query(ref, resp(same_twice))).verdict is Verdict.CANCELLED
    no_symbol = plan_history({**plan_entry(oid_), "symbol": None})
    assert q_of(a.parse_query(ref, resp(no_symbol))).reason == REASON_AMBIGUOUS


@pytest.mark.parametrize("body", GARBAGE)
@pytest.mark.parametrize("status", [200, 400, 500])
def test_garbage_plan_and_cancel_all_replies_never_raise(body, status):
    a = Bitget()
    out = a.parse_cancel([poid("1")], HttpResponse(status, body))
    assert isinstance(out, Failure) or all(o.verdict is Verdict.UNKNOWN for o in out.values())
    q = a.parse_query(poid("1"), HttpResponse(status, body))
    assert isinstance(q, Failure) or q.verdict is not Verdict.CANCELLED
    assert isinstance(a.parse_cancel_all("BTCUSDT", HttpResponse(status, body)), (Failure, bool))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values, status=st.sampled_from([200, 400, 429, 500]))
def test_fuzzed_plan_and_cancel_all_replies(body, status):
    raw = json.dumps(body).encode()
    a = Bitget()
    out = a.parse_cancel([poid("1")], HttpResponse(status, raw))
    assert isinstance(out, Failure) or (set(out) == {poid("1")} and out[poid("1")].verdict is Verdict.UNKNOWN)
    assert isinstance(a.parse_query(poid("1"), HttpResponse(status, raw)), (Failure, Outcome))
    assert isinstance(a.parse_cancel_all("BTCUSDT", HttpResponse(status, raw)), (Failure, bool))


def test_cancel_all_doc_sample_is_done():
    assert Bitget().parse_cancel_all("BGBUSDT", resp(DOC_CANCEL_ALL)) is False
    lower = {**DOC_CANCEL_ALL, "data": {"symbol": "bgbusdt"}}
    assert Bitget().parse_cancel_all("BGBUSDT", resp(lower)) is False


@pytest.mark.parametrize(
    "status, body, kind",
    [
        (200, {**DOC_CANCEL_ALL, "data": {"symbol": "ETHUSDT"}}, FailureKind.UNKNOWN_OUTCOME),  # another symbol
        (200, {**DOC_CANCEL_ALL, "data": None}, FailureKind.UNKNOWN_OUTCOME),
        (200, {**DOC_CANCEL_ALL, "data": {}}, FailureKind.UNKNOWN_OUTCOME),
        (400, {"code": "40019", "msg": "Parameter symbol cannot be empty", "data": None}, FailureKind.REJECTED),
        (400, {"code": "40009", "msg": "sign signature error", "data": None}, FailureKind.AUTH),
        (400, {"code": "40008", "msg": "Request timestamp expired", "data": None}, FailureKind.CLOCK),
        (429, {"code": "429", "msg": "Too Many Requests", "data": None}, FailureKind.RATE_LIMITED),
        (500, {"code": "40015", "msg": "System is abnormal", "data": None}, FailureKind.UNKNOWN_OUTCOME),
        (502, b"<html>bad gateway</html>", FailureKind.UNKNOWN_OUTCOME),
        (404, b"Not Found", FailureKind.REJECTED),
    ],
)
def test_cancel_all_failures_are_classified(status, body, kind):
    out = Bitget().parse_cancel_all("BTCUSDT", resp(body, status))
    assert isinstance(out, Failure) and out.kind is kind


@pytest.mark.parametrize("code", ["43004", "22001", "31054"])
def test_cancel_all_with_nothing_to_cancel_is_done(code):
    body = {"code": code, "msg": "No order to cancel", "requestTime": 1, "data": None}
    assert Bitget().parse_cancel_all("BTCUSDT", resp(body, 400)) is False


# -- plan orders and cancel-all end to end: adapter <-> fake --------------------------------------


@pytest.fixture
def held_cancels(fake):
    """Accepted cancels land only when a test says so (:func:`land`): the pending window cannot close
    under a loaded machine, and no test sleeps for it."""
    before = fake.async_delay_ms
    fake.async_delay_ms = 600_000
    yield fake
    fake.async_delay_ms = before


def land(fake: FakeVenue) -> None:
    """Let every accepted cancel take effect now."""
    fake.ledger.settle(now_ms() + 3_600_000)


def send_chunks(http, fake, a: Bitget, refs: list[OrderRef]) -> dict[OrderRef, Outcome]:
    """Every chunk of ``refs`` as the adapter plans, builds and parses it."""
    a.validate(refs)
    out: dict[OrderRef, Outcome] = {}
    for chunk in a.plan_chunks(refs):
        reply = a.parse_cancel(chunk, send(http, fake.url, a.build_cancel(chunk, CREDS, now_ms())))
        assert not isinstance(reply, Failure), reply
        out.update(reply)
    return out


def test_plan_orders_cancelled_by_the_adapters_own_requests_and_confirmed_by_query(held_cancels, http):
    fake, a = held_cancels, Bitget(held_cancels.url)
    seed(fake, "BTCUSDT", [{"conditional": True, "client_order_id": f"bot-plan-{i}"} for i in range(10)])
    seed(fake, "BTCUSDT", [{"client_order_id": f"bot-{i}"} for i in range(5)])
    seed(fake, "ETHUSDT", [{"conditional": True} for _ in range(3)])
    listed, _ = list_all(http, fake, a, ListKind.CONDITIONAL, "BTCUSDT")
    refs = [o.ref(separate_conditional=SEPARATE) for o in listed]
    assert len(refs) == 10 and all(r.conditional and r.order_id for r in refs)

    out = send_chunks(http, fake, a, refs)
    assert set(out) == set(refs)
    assert {(o.verdict, o.reason) for o in out.values()} == {(Verdict.UNKNOWN, REASON_ACCEPTED)}
    paths = Counter(r["path"] for r in fake.requests(VENUE))
    assert paths[PLAN_CANCEL_PATH] == 10 and paths[CANCEL_PATH] == 0

    # Accepted, not landed: the query does not guess, and the plan list still shows them live.
    for ref in refs:
        q = query(http, fake, a, ref)
        assert (q.verdict, q.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS), q
    still, _ = list_all(http, fake, a, ListKind.CONDITIONAL, "BTCUSDT")
    assert {o.order_id for o in still} == {r.order_id for r in refs} and {o.status.message for o in still} == {"live"}

    land(fake)
    for ref in refs:
        assert query(http, fake, a, ref) == Outcome(Verdict.CANCELLED, None, None, "cancelled")
    assert list_all(http, fake, a, ListKind.CONDITIONAL, "BTCUSDT")[0] == []
    rows = fake.orders(VENUE)
    assert Counter((o["symbol"], o["conditional"], o["status"], o["cancel_requests"]) for o in rows) == {
        ("BTCUSDT", True, "cancelled", 1): 10,
        ("BTCUSDT", False, "open", 0): 5,
        ("ETHUSDT", True, "open", 0): 3,
    }
    queried = [r for r in fake.requests(VENUE) if r["endpoint"] == "query"]
    assert {r["path"] for r in queried} == {PLAN_QUERY_PATH}


def test_a_kill_switch_round_with_the_adapter_alone(held_cancels, http):
    """The issue's scene on Bitget, done by hand: 250 open (20 someone else's) and 10 plan orders; list,
    cancel the in-scope ones by id through plan_chunks, and confirm every one by the venue's word."""
    fake, a = held_cancels, Bitget(held_cancels.url)
    seed(fake, "BTCUSDT", [{"client_order_id": f"bot-{i}"} for i in range(230)])
    seed(fake, "BTCUSDT", [{"client_order_id": f"other-{i}"} for i in range(20)])
    seed(fake, "BTCUSDT", [{"client_order_id": f"bot-plan-{i}", "conditional": True} for i in range(10)])
    since = now_ms() - 1_000
    open_, _ = list_all(http, fake, a, ListKind.OPEN, "BTCUSDT")
    plans, _ = list_all(http, fake, a, ListKind.CONDITIONAL, "BTCUSDT")
    in_scope = [o for o in open_ + plans if (o.client_order_id or "").startswith("bot-")]
    refs = [o.ref(separate_conditional=SEPARATE) for o in in_scope]
    assert len(refs) == 240 and sum(r.conditional for r in refs) == 10

    out = send_chunks(http, fake, a, refs)
    assert {o.reason for o in out.values()} == {REASON_ACCEPTED}
    land(fake)
    # The ordinary ones from the history listing (3 pages), the plan ones one query each.
    done, pages = list_all(http, fake, a, ListKind.HISTORY, "BTCUSDT", since_ms=since)
    assert pages == 3 and {o.order_id for o in done} == {r.order_id for r in refs if not r.conditional}
    assert {o.status.verdict for o in done} == {Verdict.CANCELLED}
    for ref in (r for r in refs if r.conditional):
        assert query(http, fake, a, ref).verdict is Verdict.CANCELLED
    left, _ = list_all(http, fake, a, ListKind.OPEN, "BTCUSDT")
    assert {o.client_order_id for o in left} == {f"other-{i}" for i in range(20)}  # the 20 left alone
    assert list_all(http, fake, a, ListKind.CONDITIONAL, "BTCUSDT")[0] == []
    paths = Counter(r["path"] for r in fake.requests(VENUE))
    assert paths[CANCEL_PATH] == 5 and paths[PLAN_CANCEL_PATH] == 10  # 230 = 4 x 50 + 30


def test_finished_unknown_and_ordinary_orders_on_the_plan_endpoints(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "5001", "conditional": True, "status": "filled"}])
    seed(fake, "BTCUSDT", [{"order_id": "5002", "conditional": True, "status": "cancelled"}])
    seed(fake, "BTCUSDT", [{"order_id": "5003"}])  # an ordinary order, wrongly marked conditional below
    refs = [poid("5001"), poid("5002"), poid("5003"), poid("5004")]
    out = send_chunks(http, fake, adapter, refs)
    assert [(out[r].verdict, out[r].reason, out[r].code) for r in refs] == [
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43026"),
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43026"),
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43025"),
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "43025"),
    ]
    answers = [query(http, fake, adapter, r) for r in refs]
    assert answers[0] == Outcome(Verdict.FAILED, REASON_FILLED, None, "executed")
    assert answers[1] == Outcome(Verdict.CANCELLED, None, None, "cancelled")
    # Never a plan order, or never known: unknown, never settled on a guess.
    assert [(q.verdict, q.reason) for q in answers[2:]] == [(Verdict.UNKNOWN, REASON_AMBIGUOUS)] * 2
    assert ledger(fake)["5003"] == {**ledger(fake)["5003"], "status": "open", "cancel_requests": 0}


def test_a_plan_that_fires_before_its_cancel(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "5101", "conditional": True}])
    fake.fault(VENUE, "cancel", "fill_before_cancel")
    out = send_chunks(http, fake, adapter, [poid("5101")])
    assert (out[poid("5101")].verdict, out[poid("5101")].code) == (Verdict.UNKNOWN, "43026")
    assert query(http, fake, adapter, poid("5101")) == Outcome(Verdict.FAILED, REASON_FILLED, None, "executed")


def test_a_second_plan_cancel_while_the_first_is_pending(held_cancels, http):
    fake, a = held_cancels, Bitget(held_cancels.url)
    seed(fake, "BTCUSDT", [{"order_id": "5201", "conditional": True}])
    for _ in range(2):
        assert send_chunks(http, fake, a, [poid("5201")])[poid("5201")].reason == REASON_ACCEPTED
    assert ledger(fake)["5201"]["cancel_requests"] == 2
    assert query(http, fake, a, poid("5201")).verdict is Verdict.UNKNOWN
    land(fake)
    assert query(http, fake, a, poid("5201")).verdict is Verdict.CANCELLED


def test_the_plan_query_finds_its_order_behind_a_hundred_newer_ones(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "6000", "conditional": True, "status": "cancelled"}])
    seed(fake, "BTCUSDT", [{"order_id": str(6001 + i), "conditional": True, "status": "filled"} for i in range(150)])
    seed(fake, "ETHUSDT", [{"order_id": "5999", "conditional": True, "status": "filled"}])
    # The newest page (no idLessThan) would not show 6000: the query's page starts at it.
    assert query(http, fake, adapter, poid("6000")) == Outcome(Verdict.CANCELLED, None, None, "cancelled")
    assert query(http, fake, adapter, poid("6150")).reason == REASON_FILLED
    assert query(http, fake, adapter, poid("5999")).verdict is Verdict.UNKNOWN  # asked on the wrong symbol
    assert query(http, fake, adapter, poid("5999", "ETHUSDT")).reason == REASON_FILLED


def test_a_plan_older_than_the_window_is_left_unknown(fake, http, adapter):
    old = now_ms() - 95 * 86_400_000
    seed(fake, "BTCUSDT", [{"order_id": "6200", "conditional": True, "status": "cancelled", "created_ms": old}])
    q = query(http, fake, adapter, poid("6200"))
    assert (q.verdict, q.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)


def test_the_fake_keeps_the_plan_history_range(fake, http):
    now = now_ms()
    too_long = get(http, fake, PLAN_QUERY_PATH, f"startTime={now - 91 * 86_400_000}")
    assert (too_long["status"], too_long["code"]) == (400, "00001")
    assert get(http, fake, PLAN_QUERY_PATH, "limit=101")["code"] == "40020"
    seed(fake, "BTCUSDT", [{"conditional": True, "status": "cancelled"} for _ in range(105)] + [{"status": "filled"}])
    page = get(http, fake, PLAN_QUERY_PATH, "symbol=BTCUSDT")["data"]  # the default page is 100
    assert len(page["orderList"]) == 100 and page["nextFlag"] is True
    assert {e["status"] for e in page["orderList"]} == {"cancelled"}


def test_the_fake_plan_cancel_by_client_oid_and_without_an_id(fake, http):
    seed(fake, "BTCUSDT", [{"order_id": "6300", "client_order_id": "p-1", "conditional": True}])
    seed(fake, "BTCUSDT", [{"order_id": "6301", "client_order_id": "o-1"}])
    assert post(http, fake, PLAN_CANCEL_PATH, {"clientOid": "o-1"})["code"] == "43025"  # ordinary: not a plan
    assert post(http, fake, PLAN_CANCEL_PATH, {})["code"] == "40913"
    assert post(http, fake, PLAN_CANCEL_PATH, {"clientOid": "p-1"})["data"] == {"result": "success"}
    settle(fake)
    assert {k: v["status"] for k, v in ledger(fake).items()} == {"6300": "cancelled", "6301": "open"}


@pytest.mark.parametrize(
    "fault, expected, applied",
    [
        ({"kind": "status", "status": 503}, FailureKind.UNKNOWN_OUTCOME, 0),
        ({"kind": "status", "status": 429, "retry_after": 1}, FailureKind.RATE_LIMITED, 0),
        ({"kind": "malformed"}, FailureKind.UNKNOWN_OUTCOME, 1),
        ({"kind": "omit"}, REASON_OMITTED, 1),
    ],
)
def test_cancel_faults_hit_plan_cancels_too(fake, http, adapter, fault, expected, applied):
    seed(fake, "BTCUSDT", [{"order_id": "6400", "conditional": True}])
    fake.fault(VENUE, "cancel", **fault)
    ref = poid("6400")
    out = adapter.parse_cancel([ref], send(http, fake.url, adapter.build_cancel([ref], CREDS, now_ms())))
    if isinstance(expected, FailureKind):
        assert isinstance(out, Failure) and out.kind is expected
    else:
        assert out[ref].reason == expected
    assert ledger(fake)["6400"]["cancel_requests"] == applied


def test_query_faults_hit_plan_queries_too(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "6500", "conditional": True, "status": "cancelled"}])
    fake.fault(VENUE, "query", "status", status=500)
    q = query(http, fake, adapter, poid("6500"))
    assert isinstance(q, Failure) and q.kind is FailureKind.UNKNOWN_OUTCOME
    assert query(http, fake, adapter, poid("6500")).verdict is Verdict.CANCELLED


def test_plan_endpoints_check_the_signature(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "6600", "conditional": True}])
    bad = Credentials("test-key", "wrong-secret", "test-pass")
    out = adapter.parse_cancel(
        [poid("6600")], send(http, fake.url, adapter.build_cancel([poid("6600")], bad, now_ms()))
    )
    assert isinstance(out, Failure) and (out.kind, out.code) == (FailureKind.AUTH, "40009")
    q = query(http, fake, adapter, poid("6600"), bad)
    assert isinstance(q, Failure) and (q.kind, q.code) == (FailureKind.AUTH, "40009")
    assert ledger(fake)["6600"]["cancel_requests"] == 0


def test_native_cancel_all_leaves_other_symbols_and_plan_orders_alone(held_cancels, http):
    fake, a = held_cancels, Bitget(held_cancels.url)
    seed(fake, "BTCUSDT", [{"client_order_id": f"bot-{i}"} for i in range(110)] + [{"status": "filled"}])
    seed(fake, "BTCUSDT", [{"conditional": True} for _ in range(10)])
    seed(fake, "ETHUSDT", [{} for _ in range(20)])
    since = now_ms() - 1_000
    req = a.build_cancel_all("BTCUSDT", CREDS, now_ms())
    assert a.parse_cancel_all("BTCUSDT", send(http, fake.url, req)) is False
    # Asynchronous: the orders still read live until the cancel lands; the reply settled nothing.
    assert len(list_all(http, fake, a, ListKind.OPEN, "BTCUSDT")[0]) == 110
    land(fake)
    assert list_all(http, fake, a, ListKind.OPEN, "BTCUSDT")[0] == []
    done, _ = list_all(http, fake, a, ListKind.HISTORY, "BTCUSDT", since_ms=since)
    assert Counter(o.status.message for o in done) == {"cancelled": 110, "filled": 1}
    assert len(list_all(http, fake, a, ListKind.CONDITIONAL, "BTCUSDT")[0]) == 10  # plans: their own endpoints
    assert len(list_all(http, fake, a, ListKind.OPEN, "ETHUSDT")[0]) == 20
    assert [r["endpoint"] for r in fake.requests(VENUE) if r["path"] == CANCEL_ALL_PATH] == ["cancel_all"]


def test_native_cancel_all_errors_end_to_end(fake, http, adapter):
    seed(fake, "BTCUSDT", [{"order_id": "6700"}])
    bad = Credentials("test-key", "wrong-secret", "test-pass")
    out = adapter.parse_cancel_all("BTCUSDT", send(http, fake.url, adapter.build_cancel_all("BTCUSDT", bad, now_ms())))
    assert isinstance(out, Failure) and (out.kind, out.code) == (FailureKind.AUTH, "40009")
    missing = post(http, fake, CANCEL_ALL_PATH, {})
    parsed = adapter.parse_cancel_all("BTCUSDT", resp({k: v for k, v in missing.items() if k != "status"}, 400))
    assert isinstance(parsed, Failure) and (parsed.kind, parsed.code) == (FailureKind.REJECTED, "40019")
    fake.fault(VENUE, "cancel_all", "status", status=503)
    out = adapter.parse_cancel_all(
        "BTCUSDT", send(http, fake.url, adapter.build_cancel_all("BTCUSDT", CREDS, now_ms()))
    )
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    settle(fake)
    assert ledger(fake)["6700"]["status"] == "open"
    # Nothing open on the symbol: the same success.
    out = adapter.parse_cancel_all(
        "XRPUSDT", send(http, fake.url, adapter.build_cancel_all("XRPUSDT", CREDS, now_ms()))
    )
    assert out is False


def test_cancel_all_rate_limit_enforced_like_bitget(strict_fake, http):
    strict_fake.reset()
    a = Bitget(strict_fake.url)
    replies = [
        a.parse_cancel_all("BTCUSDT", send(http, strict_fake.url, a.build_cancel_all("BTCUSDT", CREDS, now_ms())))
        for _ in range(8)
    ]
    assert replies[0] is False
    limited = [r for r in replies if isinstance(r, Failure)]
    assert limited and all((r.kind, r.code) == (FailureKind.RATE_LIMITED, "429") for r in limited)
    assert replies.count(False) <= 5 + 1  # 5/s (one more if the window turned during the burst)
