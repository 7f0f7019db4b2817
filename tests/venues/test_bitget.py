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
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safecancel.errors import InputError
from safecancel.model import (
    REASON_ACCEPTED,
    REASON_AMBIGUOUS,
    REASON_FILLED,
    REASON_NOT_FOUND,
    REASON_OMITTED,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    IdKind,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.bitget import BitgetDialect
from safecancel.venues.bitget import CANCEL_PATH, QUERY_PATH, Bitget

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
