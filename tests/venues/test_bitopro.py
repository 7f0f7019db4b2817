"""BitoPro adapter: official vectors, request building, reply parsing, and adapter <-> fake venue.

The fake venue verifies signatures with its own code (safecancel.testing.dialects.bitopro), so the
end-to-end tests below fail if our signing drifts from the documented scheme.

What every venue shares (facts, batch bounds, chunking, naming bad input, junk replies, signing accepted by
the fake) is tests/venues/test_contract.py; this file keeps the venue's documented vectors and quirks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from safecancel.errors import InputError
from safecancel.model import (
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
    ListedOrder,
    ListKind,
    ListPage,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.bitopro import NONCE_TOLERANCE_MS, BitoProDialect
from safecancel.venues.base import Rate
from safecancel.venues.bitopro import (
    BitoPro,
    payload_of,
    signature_of,
)

VENUE = "bitopro"
CREDS = Credentials("test-key", "test-secret")
IDENTITY = "alice.trader@example.com"

# -- official vectors (shared/vectors/signature_examples.json, match: true) -------------------------

# README "Signature Generation SOP" (also the Go SDK's sig_test.go) and the v2 doc's example.
OFFICIAL_SIGNATURES = [
    (
        "bitopro",
        "eyJpZGVudGl0eSI6ImhjbWxpbmpAZ21haWwuY29tIiwibm9uY2UiOjE1NTQzODA5MDkxMzF9",
        "01a85a9083db47c20da7196380598f3feacd3c76a9077aaf7ffaf08ce0091abf65b61778792607b010921adfe1c2941a",
    ),
    (
        "bitopro",
        "eyJpZGVudGl0eSI6InN1cHBvcnRAYml0b2V4LmNvbSIsIm5vbmNlIjoxNTU0MzgwOTA5MTMxfQ==",
        "98ddf62831afaa56fcd64220a2b60712a3990b404a5f28a8cf37069dc3cb77d634f576895906e238e36ba50c626dfadb",
    ),
]
# README "Payload Generation SOP" rows, and the older doc's key-sorted POST example.
OFFICIAL_PAYLOADS = [
    (
        '{"identity":"support@bitoex.com","nonce":1554380909131}',
        "eyJpZGVudGl0eSI6InN1cHBvcnRAYml0b2V4LmNvbSIsIm5vbmNlIjoxNTU0MzgwOTA5MTMxfQ==",
    ),
    (
        '{"action":"BUY","type":"limit","price":"1.123456789","amount":"666","timestamp":1554380909131}',
        "eyJhY3Rpb24iOiJCVVkiLCJ0eXBlIjoibGltaXQiLCJwcmljZSI6IjEuMTIzNDU2Nzg5IiwiYW1vdW50IjoiNjY2IiwidGltZXN0YW1wIjoxNTU0MzgwOTA5MTMxfQ==",
    ),
    (
        '{"action":"BUY","amount":"666","price":"1.123456789","timestamp":1554380909131,"type":"limit"}',
        "eyJhY3Rpb24iOiJCVVkiLCJhbW91bnQiOiI2NjYiLCJwcmljZSI6IjEuMTIzNDU2Nzg5IiwidGltZXN0YW1wIjoxNTU0MzgwOTA5MTMxLCJ0eXBlIjoibGltaXQifQ==",
    ),
]
VECTORS_FILE = Path("/work/shared/vectors/signature_examples.json")


@pytest.mark.parametrize("secret, payload, expected", OFFICIAL_SIGNATURES)
def test_official_signature_vectors(secret: str, payload: str, expected: str) -> None:
    assert signature_of(secret, payload) == expected


@pytest.mark.parametrize("text, expected", OFFICIAL_PAYLOADS)
def test_official_payload_vectors(text: str, expected: str) -> None:
    assert payload_of(text.encode()) == expected


def test_official_vector_through_build_query() -> None:
    # The README's worked example is exactly our GET payload for this identity and nonce.
    creds = Credentials("k", "bitopro", identity="hcmlinj@gmail.com")
    req = BitoPro().build_query(OrderRef("BTC_USDT", "1"), creds, 1554380909131)
    assert req.headers["X-BITOPRO-PAYLOAD"] == OFFICIAL_SIGNATURES[0][1]
    assert req.headers["X-BITOPRO-SIGNATURE"] == OFFICIAL_SIGNATURES[0][2]


@pytest.mark.skipif(not VECTORS_FILE.exists(), reason="shared vectors file not available")
def test_shared_vectors_file_entries() -> None:
    entries = [e for e in json.loads(VECTORS_FILE.read_text()) if e["venue"] == VENUE and e["match"] is True]
    assert entries
    for e in entries:
        if e["algorithm"].startswith("hex(HMAC-SHA384"):
            assert signature_of(e["secret"], e["prehash"]) == e["expected"], e["id"]
        else:
            assert payload_of(e["prehash"].encode()) == e["expected"], e["id"]


def test_self_computed_put_vector() -> None:
    # venues.md §1.3 (self-computed, secret "bitopro").
    refs = [OrderRef("BTC_USDT", "12234566"), OrderRef("BTC_USDT", "12234567")]
    req = BitoPro().build_cancel(refs, Credentials("k", "bitopro"), 0)
    assert req.body == b'{"BTC_USDT":["12234566","12234567"]}'
    assert req.headers["X-BITOPRO-PAYLOAD"] == "eyJCVENfVVNEVCI6WyIxMjIzNDU2NiIsIjEyMjM0NTY3Il19"
    assert req.headers["X-BITOPRO-SIGNATURE"] == (
        "e6de593b63606d6379b7607ad09874d7955fa0ddde6e0b596a1274a0f0f97b03951f16d79fedfaadbd1bafea620e5ded"
    )


# -- class attributes, construction, limits ----------------------------------------------------------


def test_bitopros_own_facts() -> None:
    # Registry, dialect, batch bounds, junk replies: tests/venues/test_contract.py; id kinds, batch size, rate
    # and the missing time endpoint: the README's venue table (tests/test_readme.py).
    assert BitoPro.id_kinds == frozenset({IdKind.ORDER_ID})
    assert BitoPro.requires == ("api_key", "api_secret")  # the identity e-mail is optional ("" in the SDK)
    assert not BitoPro().has_time_endpoint()
    assert not BitoPro.asynchronous_cancel and not BitoPro.one_symbol_per_request  # one PUT spans pairs


@pytest.mark.parametrize(
    "given_url, expected",
    [
        (None, "https://api.bitopro.com"),
        ("https://api.bitopro.com/v3", "https://api.bitopro.com"),
        ("https://api.bitopro.com/v3/", "https://api.bitopro.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
    ],
)
def test_base_url_keeps_v3_in_paths(given_url: str | None, expected: str) -> None:
    venue = BitoPro(given_url)
    assert venue.base_url == expected
    assert venue.build_cancel([OrderRef("BTC_USDT", "1")], CREDS, 0).path == "/v3/orders"


# -- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref, fragment",
    [
        (OrderRef("BTC/USDT", "1"), "'BTC/USDT'"),
        (OrderRef("BTCUSDT", "1"), "'BTCUSDT'"),
        (OrderRef("", "1"), "malformed pair"),
        (OrderRef("BTC_USDT", "12a"), "'12a'"),
        (OrderRef("BTC_USDT", ""), "malformed order id"),
        (OrderRef("BTC_USDT", "1" * 21), "malformed order id"),
        (OrderRef("BTC_USDT", '1","2'), "malformed order id"),
        (OrderRef("BTC_USDT", client_order_id="my-1"), "client order ids are not supported"),
        (OrderRef("BTC_USDT", "1", client_order_id="my-1"), "client order ids are not supported"),
        (OrderRef("BTC_USDT", "SL-9014867155"), "stop-limit order id 'SL-9014867155'"),
    ],
)
def test_validate_rejects_naming_the_item(ref: OrderRef, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        BitoPro().validate([OrderRef("ETH_USDT", "7"), ref])
    assert fragment in str(info.value)


def test_validate_rejects_duplicates_case_insensitively() -> None:
    with pytest.raises(InputError, match="appears twice"):
        BitoPro().validate([OrderRef("BTC_USDT", "1"), OrderRef("btc_usdt", "1")])


def test_validate_accepts_good_input_and_stop_ids_only_when_enabled() -> None:
    BitoPro().validate([OrderRef("BTC_USDT", "1"), OrderRef("bito_eth", "2959906694"), OrderRef("BTC_USDT", "2")])

    class WithStops(BitoPro):
        allow_stop_limit_ids = True

    WithStops().validate([OrderRef("BTC_USDT", "SL-9014867155")])


# -- request building --------------------------------------------------------------------------------


def _refs(spec: list[tuple[str, str]]) -> list[OrderRef]:
    return [OrderRef(sym, oid) for sym, oid in spec]


def test_plan_chunks_packs_pairs_together_up_to_the_limit() -> None:
    refs = [OrderRef(("BTC_USDT", "ETH_USDT", "bito_eth")[i % 3], str(1000 + i)) for i in range(25)]
    chunks = BitoPro().plan_chunks(refs)
    assert [len(c) for c in chunks] == [10, 10, 5]
    flat = [r for c in chunks for r in c]
    assert sorted(flat, key=str) == sorted(refs, key=str)
    # Grouped by pair in first-seen order, so a chunk holds at most a couple of pair runs.
    assert [r.symbol for r in flat] == ["BTC_USDT"] * 9 + ["ETH_USDT"] * 8 + ["bito_eth"] * 8
    assert [{r.symbol for r in c} for c in chunks] == [{"BTC_USDT", "ETH_USDT"}, {"ETH_USDT", "bito_eth"}, {"bito_eth"}]
    assert BitoPro(max_batch=200).plan_chunks(refs) == [flat]
    assert BitoPro().plan_chunks([]) == []


def test_plan_chunks_merges_pair_spellings() -> None:
    chunks = BitoPro().plan_chunks(_refs([("BTC_USDT", "1"), ("ETH_USDT", "2"), ("btc_usdt", "3")]))
    assert [[r.order_id for r in c] for c in chunks] == [["1", "3", "2"]]


def test_build_cancel_exact_request() -> None:
    refs = _refs([("BTC_USDT", "12234566"), ("eth_usdt", "44566712"), ("btc_usdt", "12234567")])
    req = BitoPro().build_cancel(refs, CREDS, 1_700_000_000_000)
    assert (req.method, req.path, req.query, req.endpoint) == ("PUT", "/v3/orders", "", "cancel")
    assert req.body == b'{"BTC_USDT":["12234566","12234567"],"ETH_USDT":["44566712"]}'
    payload = req.headers["X-BITOPRO-PAYLOAD"]
    assert base64.b64decode(payload, validate=True) == req.body  # the exact bytes sent
    assert req.headers["X-BITOPRO-SIGNATURE"] == hmac.new(b"test-secret", payload.encode(), hashlib.sha384).hexdigest()
    assert req.headers["X-BITOPRO-APIKEY"] == "test-key"
    assert req.headers["Content-Type"] == "application/json"
    # No nonce in the PUT: the same orders give the same bytes whatever the time.
    assert BitoPro().build_cancel(refs, CREDS, 5).body == req.body


def test_build_query_exact_request() -> None:
    req = BitoPro().build_query(OrderRef("BTC_USDT", "2959906694"), CREDS, 1_700_000_000_123)
    assert (req.method, req.path, req.query, req.body, req.endpoint) == (
        "GET",
        "/v3/orders/btc_usdt/2959906694",
        "",
        None,
        "query",
    )
    decoded = base64.b64decode(req.headers["X-BITOPRO-PAYLOAD"])
    assert decoded == b'{"identity":"","nonce":1700000000123}'
    assert req.headers["X-BITOPRO-SIGNATURE"] == signature_of("test-secret", req.headers["X-BITOPRO-PAYLOAD"])


def test_identity_only_travels_inside_the_secret_payload_header() -> None:
    creds = Credentials("test-key", "test-secret", identity=IDENTITY)
    venue = BitoPro()
    query = venue.build_query(OrderRef("BTC_USDT", "1"), creds, 1_700_000_000_000)
    cancel = venue.build_cancel([OrderRef("BTC_USDT", "1")], creds, 1_700_000_000_000)
    for req in (query, cancel):
        assert IDENTITY not in repr(req)
        assert IDENTITY.encode() not in (req.body or b"")
        # Every header holding something derived from the credentials is redacted from evidence.
        derived = {k.lower() for k in req.headers if k.lower().startswith("x-bitopro-")}
        assert derived <= BitoPro.secret_headers
    assert json.loads(base64.b64decode(query.headers["X-BITOPRO-PAYLOAD"]))["identity"] == IDENTITY
    assert "x-bitopro-payload" in BitoPro.secret_headers


# -- reply parsing: the docs' own samples -------------------------------------------------------------

SEED_REFS = _refs(
    [("BTC_USDT", "12234566"), ("BTC_USDT", "12234567"), ("ETH_USDT", "44566712"), ("ETH_USDT", "24552212")]
)
# Seed 000 "Response sample" (its "// cancelled orders" comment removed).
SEED_RESPONSE = {"data": {"BTC_USDT": ["12234566", "12234567"], "ETH_USDT": ["44566712", "24552212"]}}
# get_an_order_data.md "Response Example" (its "// deprecated" comment removed).
DOC_ORDER = {
    "id": "SL-9014867155",
    "pair": "bito_eth",
    "price": "0.001",
    "avgExecutionPrice": "0",
    "action": "BUY",
    "type": "STOP_LIMIT",
    "timestamp": 1571032129185,
    "status": -1,
    "originalAmount": "1000",
    "remainingAmount": "1000",
    "executedAmount": "0",
    "fee": "0",
    "feeSymbol": "bito",
    "bitoFee": "0",
    "total": "0",
    "seq": "BITOETH3946175424",
    "stopPrice": "0.002",
    "condition": ">=",
    "timeInForce": "GTC",
    "createdTimestamp": 1571032128185,
    "updatedTimestamp": 1571032129185,
}
# ccxt's fetchOrder sample for BitoPro (status 4).
CCXT_ORDER = {
    "id": "8777138788",
    "pair": "bnb_twd",
    "price": "16000",
    "avgExecutionPrice": "0",
    "action": "SELL",
    "type": "LIMIT",
    "timestamp": 1644899002598,
    "status": 4,
    "originalAmount": "0.01",
    "remainingAmount": "0.01",
    "executedAmount": "0",
    "fee": "0",
    "feeSymbol": "twd",
    "bitoFee": "0",
    "total": "0",
    "seq": "BNBTWD548774666",
    "timeInForce": "GTC",
    "createdTimestamp": 1644898944074,
    "updatedTimestamp": 1644899002598,
}


def _resp(status: int, body: object, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status, raw, {k.lower(): v for k, v in (headers or {}).items()})


def test_seed_response_sample_all_cancelled() -> None:
    out = BitoPro().parse_cancel(SEED_REFS, _resp(200, SEED_RESPONSE))
    assert out == {ref: Outcome(Verdict.CANCELLED) for ref in SEED_REFS}


def test_ccxt_cancel_sample_matches_pairs_case_insensitively() -> None:
    refs = _refs([("bnb_twd", "5236347105"), ("bnb_twd", "359488711")])
    out = BitoPro().parse_cancel(refs, _resp(200, {"data": {"BNB_TWD": ["5236347105", "359488711"]}}))
    assert all(o.verdict is Verdict.CANCELLED for o in out.values())


def test_missing_ids_are_unknown_omitted() -> None:
    body = {"data": {"BTC_USDT": ["12234566"], "ETH_USDT": ["12234567"]}}  # 12234567 under the wrong pair
    out = BitoPro().parse_cancel(SEED_REFS, _resp(200, body))
    assert out[SEED_REFS[0]].verdict is Verdict.CANCELLED
    for ref in SEED_REFS[1:]:
        assert out[ref].verdict is Verdict.UNKNOWN and out[ref].reason == REASON_OMITTED
    assert set(out) == set(SEED_REFS)


def test_empty_and_odd_data_never_cancel() -> None:
    venue = BitoPro()
    out = venue.parse_cancel(SEED_REFS, _resp(200, {"data": {}}))
    assert {o.reason for o in out.values()} == {REASON_OMITTED}
    out = venue.parse_cancel(SEED_REFS, _resp(200, {"data": {"BTC_USDT": "12234566", "ETH_USDT": [44566712]}}))
    assert out[SEED_REFS[0]].reason == REASON_AMBIGUOUS
    assert out[SEED_REFS[2]].verdict is Verdict.CANCELLED  # an int id equal to ours is still our id
    odd_ids = [True, None, 1.5, ["12234566"], {"id": "12234567"}]
    out = venue.parse_cancel(SEED_REFS, _resp(200, {"data": {"BTC_USDT": odd_ids}}))
    assert all(o.verdict is Verdict.UNKNOWN for o in out.values())


def test_doc_order_sample_stop_limit_not_triggered_is_open() -> None:
    out = BitoPro().parse_query(OrderRef("bito_eth", "SL-9014867155"), _resp(200, DOC_ORDER))
    assert out == Outcome(Verdict.OPEN, None, "-1", "not triggered")


def test_ccxt_order_sample_cancelled() -> None:
    out = BitoPro().parse_query(OrderRef("BNB_TWD", "8777138788"), _resp(200, CCXT_ORDER))
    assert isinstance(out, Outcome) and out.verdict is Verdict.CANCELLED


@pytest.mark.parametrize(
    "status, verdict, reason",
    [
        (-1, Verdict.OPEN, None),
        (0, Verdict.OPEN, None),
        (1, Verdict.OPEN, None),
        (2, Verdict.FAILED, REASON_FILLED),
        (3, Verdict.FAILED, REASON_FILLED),  # "Completed (partial deal)": never claimed as a cancel
        (4, Verdict.CANCELLED, None),
        (6, Verdict.CANCELLED, None),
        ("4", Verdict.CANCELLED, None),
        (5, Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (None, Verdict.UNKNOWN, REASON_AMBIGUOUS),
        (True, Verdict.UNKNOWN, REASON_AMBIGUOUS),
        ("cancelled", Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_query_status_table(status: object, verdict: Verdict, reason: str | None) -> None:
    out = BitoPro().parse_query(OrderRef("BNB_TWD", "8777138788"), _resp(200, {**CCXT_ORDER, "status": status}))
    assert isinstance(out, Outcome)
    assert (out.verdict, out.reason) == (verdict, reason)


def test_query_reply_about_another_order_is_ambiguous() -> None:
    out = BitoPro().parse_query(OrderRef("BNB_TWD", "1"), _resp(200, CCXT_ORDER))
    assert out == Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "reply is about order '8777138788'")


def test_query_data_envelope_accepted() -> None:
    out = BitoPro().parse_query(OrderRef("BNB_TWD", "8777138788"), _resp(200, {"data": CCXT_ORDER}))
    assert isinstance(out, Outcome) and out.verdict is Verdict.CANCELLED


def test_query_not_found_only_on_an_order_not_found_404() -> None:
    venue = BitoPro()
    ref = OrderRef("BTC_USDT", "1")
    out = venue.parse_query(ref, _resp(404, {"error": "Order not found"}))
    assert isinstance(out, Outcome) and (out.verdict, out.reason) == (Verdict.FAILED, REASON_NOT_FOUND)
    # A 404 that may be a wrong path decides nothing about the order.
    for body in ({"error": "Resource Not Found"}, {"error": "no such endpoint GET /v3/x"}, b"Not Found"):
        assert isinstance(venue.parse_query(ref, _resp(404, body)), Failure)
    assert isinstance(venue.parse_query(ref, _resp(400, {"error": "Order not found"})), Failure)


# -- error table ------------------------------------------------------------------------------------

ERROR_TABLE = [
    (400, {"error": "Invalid body"}, FailureKind.REJECTED),
    (400, {"error": "Wrong parameter: from"}, FailureKind.REJECTED),
    (400, {"error": "Invalid Signature"}, FailureKind.AUTH),
    (401, {"error": "Unauthorized api key"}, FailureKind.AUTH),
    (401, {"error": "Invalid Signature"}, FailureKind.AUTH),
    (403, {"error": "Forbidden"}, FailureKind.AUTH),
    (404, {"error": "Resource Not Found"}, FailureKind.REJECTED),
    (408, {"error": "Request Timeout"}, FailureKind.UNKNOWN_OUTCOME),
    (409, {"error": "Local Machine Time Mismatch"}, FailureKind.CLOCK),
    (400, {"error": "local machine time mismatch"}, FailureKind.CLOCK),
    (422, {"error": "Unprocessable Entity"}, FailureKind.REJECTED),
    (429, {"error": "Too Many Requests"}, FailureKind.RATE_LIMITED),
    (500, {"error": "Internal Server Error"}, FailureKind.UNKNOWN_OUTCOME),
    (502, {"error": "Bad Gateway"}, FailureKind.UNKNOWN_OUTCOME),
    (503, b"<html>Service Unavailable</html>", FailureKind.UNKNOWN_OUTCOME),
    (200, b'{"data": {"BTC_', FailureKind.UNKNOWN_OUTCOME),
    (200, {"error": "Invalid body"}, FailureKind.UNKNOWN_OUTCOME),
    (200, {"data": ["12234566"]}, FailureKind.UNKNOWN_OUTCOME),
    (204, b"", FailureKind.UNKNOWN_OUTCOME),
    (302, b"", FailureKind.UNKNOWN_OUTCOME),
]


@pytest.mark.parametrize("status, body, kind", ERROR_TABLE)
def test_error_table_cancel(status: int, body: object, kind: FailureKind) -> None:
    out = BitoPro().parse_cancel(SEED_REFS, _resp(status, body))
    assert isinstance(out, Failure) and out.kind is kind and out.http_status == status


@pytest.mark.parametrize("status, body, kind", ERROR_TABLE)
def test_error_table_query(status: int, body: object, kind: FailureKind) -> None:
    out = BitoPro().parse_query(OrderRef("BTC_USDT", "1"), _resp(status, body))
    assert isinstance(out, Failure) and out.kind is kind


def test_failure_keeps_the_venue_message() -> None:
    out = BitoPro().parse_cancel(SEED_REFS, _resp(400, {"error": "Wrong parameter: from"}))
    assert isinstance(out, Failure) and out.message == "Wrong parameter: from"


def test_retry_after_honoured_when_present() -> None:
    venue = BitoPro()
    out = venue.parse_cancel(SEED_REFS, _resp(429, {"error": "Too Many Requests"}, {"Retry-After": "3"}))
    assert isinstance(out, Failure) and out.retry_after == 3.0
    out = venue.parse_cancel(SEED_REFS, _resp(429, {"error": "Too Many Requests"}))
    assert isinstance(out, Failure) and out.retry_after is None


# -- the Date-header clock ---------------------------------------------------------------------------


def test_parse_time_reads_the_date_header_of_any_reply() -> None:
    venue = BitoPro()
    assert venue.parse_time(_resp(409, {"error": "x"}, {"Date": "Sun, 06 Nov 1994 08:49:37 GMT"})) == 784111777_500
    # A duplicated header (joined by the client) yields the first value.
    joined = "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:50:37 GMT"
    assert venue.parse_time(_resp(200, {}, {"Date": joined})) == 784111777_500
    for bad in ("", "yesterday", "Sun, 99 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"):
        assert venue.parse_time(_resp(200, {}, {"Date": bad})) is None
    assert venue.parse_time(_resp(200, {})) is None


# -- garbage never raises and never cancels ---------------------------------------------------------

GARBAGE = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"0",
    b'"data"',
    b"\xff\xfe\x00",
    b'{"data": null}',
    b'{"data": "12234566"}',
    b'{"data": {"": ["12234566"]}}',
    b'{"data": {"BTC_USDT": {"12234566": true}}}',
    b'{"data": {"12234566": ["BTC_USDT"]}}',
    b'{"status": 4}',
    b'{"id": "12234566", "status": "4", "pair": {"x": 1}}',
    b'[{"data": {"BTC_USDT": ["12234566"]}}]',
    b"[" * 5000 + b"]" * 5000,
    b'{"data": {"BTC_USDT": ["12234566"' + b" " * 10_000,
]


@pytest.mark.parametrize("status", [200, 400, 404, 409, 429, 500])
@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_never_raises_never_cancels(status: int, body: bytes) -> None:
    venue = BitoPro()
    out = venue.parse_cancel(SEED_REFS, HttpResponse(status, body))
    if not isinstance(out, Failure):
        assert set(out) == set(SEED_REFS)
        assert all(o.verdict is not Verdict.CANCELLED for o in out.values())
    q = venue.parse_query(OrderRef("BTC_USDT", "12234566"), HttpResponse(status, body))
    assert isinstance(q, Failure | Outcome)
    if isinstance(q, Outcome) and q.verdict is Verdict.CANCELLED:
        assert status == 200 and b"status" in body
    venue.parse_time(HttpResponse(status, body, {"date": body.decode("latin-1")[:200]}))  # must not raise


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(data=st.dictionaries(st.sampled_from(["BTC_USDT", "btc_usdt", "ETH_USDT", "x"]), _json_values, max_size=4))
def test_random_data_maps_cancel_only_listed_ids(data: dict) -> None:
    out = BitoPro().parse_cancel(SEED_REFS, _resp(200, {"data": data}))
    assert not isinstance(out, Failure) and set(out) == set(SEED_REFS)
    for ref, outcome in out.items():
        if outcome.verdict is Verdict.CANCELLED:
            listed = [v for k, v in data.items() if k.upper() == ref.symbol.upper()]
            assert any(isinstance(v, list) and ref.order_id in [str(i) for i in v] for v in listed)


@settings(max_examples=100, deadline=None)
@given(order=st.dictionaries(st.sampled_from(["id", "status", "data", "orderId", "pair"]), _json_values, max_size=5))
def test_random_order_objects_never_raise(order: dict) -> None:
    out = BitoPro().parse_query(OrderRef("BTC_USDT", "1"), _resp(200, order))
    assert isinstance(out, Failure | Outcome)


# -- adapter <-> fake venue ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_server():
    # Only this venue's dialect: the test does not depend on the other venues' modules.
    with FakeVenue(dialects=[BitoProDialect()], async_delay_ms=50) as fv:
        yield fv


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture
def fake(fake_server: FakeVenue) -> FakeVenue:
    fake_server.reset()
    return fake_server


@pytest.fixture
def venue(fake_server: FakeVenue) -> BitoPro:
    return BitoPro(fake_server.url)


def now_ms() -> int:
    return int(time.time() * 1000)


def send(session: requests.Session, base_url: str, req: HttpRequest) -> HttpResponse:
    r = session.request(req.method, base_url + req.target, data=req.body, headers=dict(req.headers), timeout=5)
    return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


def seed(fake: FakeVenue, symbol: str, spec: dict[str, str]) -> list[OrderRef]:
    fake.seed(VENUE, symbol, [{"order_id": oid, "status": status} for oid, status in spec.items()])
    return [OrderRef(symbol, oid) for oid in spec]


def run_cancel(venue: BitoPro, session, refs, creds=CREDS):
    venue.validate(refs)
    results: dict[OrderRef, Outcome] = {}
    for chunk in venue.plan_chunks(refs):
        out = venue.parse_cancel(chunk, send(session, venue.base_url, venue.build_cancel(chunk, creds, now_ms())))
        assert not isinstance(out, Failure), out
        assert set(out) == set(chunk)
        results.update(out)
    return results


def query(venue: BitoPro, session, ref: OrderRef, creds=CREDS, at: int | None = None):
    return venue.parse_query(ref, send(session, venue.base_url, venue.build_query(ref, creds, at or now_ms())))


def test_e2e_all_cancelled_across_pairs_and_chunks(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {str(100 + i): "open" for i in range(14)})
    refs += seed(fake, "ETH_USDT", {str(200 + i): "open" for i in range(9)})
    results = run_cancel(venue, session, refs)
    assert all(o.verdict is Verdict.CANCELLED for o in results.values())
    assert set(fake.order_status(VENUE).values()) == {"cancelled"}
    assert len([r for r in fake.requests(VENUE) if r["endpoint"] == "cancel"]) == 3  # 23 ids / 10
    assert all(o["cancel_requests"] == 1 for o in fake.orders(VENUE))


def test_e2e_mixed_batch_then_queries(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"11": "open", "12": "filled", "14": "cancelled"})
    ghost = OrderRef("BTC_USDT", "13")  # never existed
    open_, filled, cancelled = refs
    results = run_cancel(venue, session, [open_, filled, ghost, cancelled])
    assert results[open_].verdict is Verdict.CANCELLED
    for ref in (filled, ghost, cancelled):
        assert (results[ref].verdict, results[ref].reason) == (Verdict.UNKNOWN, REASON_OMITTED)
    q = {ref: query(venue, session, ref) for ref in (open_, filled, ghost, cancelled)}
    assert q[open_].verdict is Verdict.CANCELLED
    assert (q[filled].verdict, q[filled].reason) == (Verdict.FAILED, REASON_FILLED)
    assert (q[ghost].verdict, q[ghost].reason) == (Verdict.FAILED, REASON_NOT_FOUND)
    assert q[cancelled].verdict is Verdict.CANCELLED
    assert fake.order_status(VENUE) == {"11": "cancelled", "12": "filled", "14": "cancelled"}


def test_e2e_query_open_order_and_pair_case(fake, venue, session) -> None:
    (ref,) = seed(fake, "BTC_USDT", {"21": "open"})
    assert query(venue, session, ref) == Outcome(Verdict.OPEN, None, "0", "in progress")
    assert query(venue, session, OrderRef("btc_usdt", "21")) == Outcome(Verdict.OPEN, None, "0", "in progress")
    assert fake.order_status(VENUE) == {"21": "open"}


def _assert_untouched(fake: FakeVenue, status: str = "open") -> None:
    for o in fake.orders(VENUE):
        assert (o["status"], o["cancel_requests"]) == (status, 0)


def test_e2e_wrong_secret_is_auth_and_changes_nothing(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"31": "open", "32": "open"})
    resp = send(session, venue.base_url, venue.build_cancel(refs, Credentials("test-key", "wrong-secret"), now_ms()))
    assert resp.status == 401 and resp.json() == {"error": "Invalid Signature"}
    out = venue.parse_cancel(refs, resp)
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH
    _assert_untouched(fake)
    out = query(venue, session, refs[0], Credentials("test-key", "wrong-secret"))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH


def test_e2e_wrong_key_is_auth_and_changes_nothing(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"33": "open"})
    req = venue.build_cancel(refs, Credentials("other", "test-secret"), 0)
    out = venue.parse_cancel(refs, send(session, venue.base_url, req))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.http_status == 401
    _assert_untouched(fake)


def test_e2e_payload_must_be_the_body(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"34": "open", "35": "open"})
    req = venue.build_cancel(refs[:1], CREDS, 0)
    tampered = HttpRequest(req.method, req.path, req.query, b'{"BTC_USDT":["34","35"]}', req.headers, req.endpoint)
    out = venue.parse_cancel(refs, send(session, venue.base_url, tampered))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED and out.http_status == 400
    _assert_untouched(fake)


def test_e2e_stale_nonce_is_clock(fake, venue, session) -> None:
    (ref,) = seed(fake, "BTC_USDT", {"41": "open"})
    stale = now_ms() - NONCE_TOLERANCE_MS - 5_000
    resp = send(session, venue.base_url, venue.build_query(ref, CREDS, stale))
    assert resp.status == 409
    out = venue.parse_query(ref, resp)
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK
    # The stale cancel-all is refused as well, and changes nothing.
    resp = send(session, venue.base_url, signed_delete("/v3/orders/all", stale))
    assert resp.status == 409 and resp.json() == {"error": "Local Machine Time Mismatch"}
    _assert_untouched(fake)


def test_e2e_clock_skew_is_measured_from_the_date_header(fake, venue, session) -> None:
    (ref,) = seed(fake, "BTC_USDT", {"42": "open"})
    fake.fault(VENUE, "query", "clock_skew", offset_ms=120_000)
    before = now_ms()
    resp = send(session, venue.base_url, venue.build_query(ref, CREDS, before))
    out = venue.parse_query(ref, resp)
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK
    server_ms = venue.parse_time(resp)
    assert server_ms is not None and abs(server_ms - (before + 120_000)) < 2_000
    offset = server_ms - before
    assert query(venue, session, ref, at=now_ms() + offset) == Outcome(Verdict.OPEN, None, "0", "in progress")


def test_e2e_omit_fault_then_query_confirms(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"51": "open", "52": "open", "53": "open"})
    fake.fault(VENUE, "cancel", "omit")
    results = run_cancel(venue, session, refs)
    unknown = [r for r, o in results.items() if o.verdict is Verdict.UNKNOWN]
    assert len(unknown) == 1 and results[unknown[0]].reason == REASON_OMITTED
    assert set(fake.order_status(VENUE).values()) == {"cancelled"}  # applied, only left out of the reply
    assert query(venue, session, unknown[0]).verdict is Verdict.CANCELLED


def test_e2e_fill_before_cancel(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"55": "open", "56": "open"})
    fake.fault(VENUE, "cancel", "fill_before_cancel")
    results = run_cancel(venue, session, refs)
    assert (results[refs[0]].verdict, results[refs[1]].verdict) == (Verdict.UNKNOWN, Verdict.CANCELLED)
    out = query(venue, session, refs[0])
    assert (out.verdict, out.reason) == (Verdict.FAILED, REASON_FILLED)


@pytest.mark.parametrize(
    "status, retry_after, kind",
    [
        (429, 2, FailureKind.RATE_LIMITED),
        (500, None, FailureKind.UNKNOWN_OUTCOME),
        (502, None, FailureKind.UNKNOWN_OUTCOME),
        (409, None, FailureKind.CLOCK),
        (401, None, FailureKind.AUTH),
    ],
)
def test_e2e_status_faults(fake, venue, session, status, retry_after, kind) -> None:
    refs = seed(fake, "BTC_USDT", {"61": "open"})
    spec = {"status": status} | ({"retry_after": retry_after} if retry_after is not None else {})
    fake.fault(VENUE, "cancel", "status", **spec)
    out = venue.parse_cancel(refs, send(session, venue.base_url, venue.build_cancel(refs, CREDS, now_ms())))
    assert isinstance(out, Failure) and out.kind is kind and out.http_status == status
    if retry_after is not None:
        assert out.retry_after == float(retry_after)
    _assert_untouched(fake)


def test_e2e_malformed_reply_after_apply(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"71": "open", "72": "open"})
    fake.fault(VENUE, "cancel", "malformed")
    out = venue.parse_cancel(refs, send(session, venue.base_url, venue.build_cancel(refs, CREDS, now_ms())))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    assert all(query(venue, session, r).verdict is Verdict.CANCELLED for r in refs)


def test_e2e_reply_lost_after_apply_is_settled_by_query(fake, venue, session) -> None:
    refs = seed(fake, "BTC_USDT", {"73": "open"})
    fake.fault(VENUE, "cancel", "drop_after_apply")
    with pytest.raises(requests.ConnectionError):
        send(session, venue.base_url, venue.build_cancel(refs, CREDS, now_ms()))
    assert query(venue, session, refs[0]).verdict is Verdict.CANCELLED


# -- the fake accepts the official SDK's and ccxt's ways (written from their code) -----------------


def _auth_headers(payload: str, secret: str = "test-secret") -> dict[str, str]:
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha384).hexdigest()
    return {"X-BITOPRO-APIKEY": "test-key", "X-BITOPRO-PAYLOAD": payload, "X-BITOPRO-SIGNATURE": signature}


def signed_delete(path: str, nonce: int) -> HttpRequest:
    payload = base64.b64encode(json.dumps({"nonce": nonce}, separators=(",", ":")).encode()).decode()
    return HttpRequest("DELETE", path, headers=_auth_headers(payload), endpoint="cancel_all")


def test_fake_accepts_official_python_sdk_style(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"81": "open"})
    # bitopro_restful_client.cancel_multiple_orders: json.dumps defaults, url-safe base64, "/orders/".
    body = json.dumps({"BTC_USDT": ["81", "~~~"]}).encode()
    assert base64.b64encode(body) != base64.urlsafe_b64encode(body)  # the alphabets really differ here
    payload = base64.urlsafe_b64encode(body).decode()
    headers = {**_auth_headers(payload), "Content-Type": "application/json"}
    r = session.put(fake.url + "/v3/orders/", data=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"data": {"BTC_USDT": ["81"]}}
    # get_an_order: {"identity": "", "nonce": ms} with json.dumps defaults, url-safe base64.
    ident = json.dumps({"identity": "a>>>b@x.io", "nonce": now_ms()}).encode()
    assert base64.b64encode(ident) != base64.urlsafe_b64encode(ident)
    headers = _auth_headers(base64.urlsafe_b64encode(ident).decode())
    r = session.get(fake.url + "/v3/orders/BTC_USDT/81", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == 4


def test_fake_accepts_ccxt_style(fake, venue, session) -> None:
    seed(fake, "BNB_TWD", {"91": "open", "92": "open"})
    # ccxt bitopro.sign: compact JSON body == payload text, standard base64, upper-case pair in the body.
    body = json.dumps({"BNB_TWD": ["91"]}, separators=(",", ":"))
    payload = base64.b64encode(body.encode()).decode()
    headers = {**_auth_headers(payload), "X-BITOPRO-API": "ccxt", "Content-Type": "application/json"}
    r = session.put(fake.url + "/v3/orders", data=body, headers=headers)
    assert r.status_code == 200 and r.json() == {"data": {"BNB_TWD": ["91"]}}
    # fetch_order: lower-case pair in the path, {"nonce": ms} only.
    nonce_payload = base64.b64encode(json.dumps({"nonce": now_ms()}, separators=(",", ":")).encode()).decode()
    r = session.get(fake.url + "/v3/orders/bnb_twd/92", headers=_auth_headers(nonce_payload))
    assert r.status_code == 200 and r.json()["status"] == 0 and r.json()["id"] == "92"
    # Our adapter reads ccxt-shaped replies the same way.
    assert query(venue, session, OrderRef("bnb_twd", "91")).verdict is Verdict.CANCELLED


def test_fake_cancel_all_per_pair_and_all(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"101": "open", "102": "filled"})
    seed(fake, "ETH_USDT", {"103": "open"})
    r = send(session, fake.url, signed_delete("/v3/orders/btc_usdt", now_ms()))
    assert r.status == 200 and r.json() == {"data": {"BTC_USDT": ["101"]}}
    assert fake.order_status(VENUE) == {"101": "cancelled", "102": "filled", "103": "open"}
    r = send(session, fake.url, signed_delete("/v3/orders/all", now_ms()))
    assert r.status == 200 and r.json() == {"data": {"ETH_USDT": ["103"]}}
    assert fake.order_status(VENUE)["103"] == "cancelled"


def test_fake_refuses_malformed_bodies_and_changes_nothing(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"111": "open"})
    bad_bodies = [
        b"{}",
        b"[]",
        b'{"BTC_USDT": []}',
        b'{"BTC_USDT": [111]}',
        b'{"BTC/USDT": ["111"]}',
        b'{"BTC_USDT": "111"}',
        b"not json",
        json.dumps({"BTC_USDT": [str(i) for i in range(201)]}).encode(),
    ]
    for body in bad_bodies:
        headers = {**_auth_headers(base64.b64encode(body).decode()), "Content-Type": "application/json"}
        r = session.put(fake.url + "/v3/orders", data=body, headers=headers)
        assert (r.status_code, r.json()) == (400, {"error": "Invalid body"}), body
        out = venue.parse_cancel([OrderRef("BTC_USDT", "111")], HttpResponse(r.status_code, r.content))
        assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED
    _assert_untouched(fake)


def test_fake_refuses_bad_auth_headers(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"121": "open"})
    good = venue.build_cancel([OrderRef("BTC_USDT", "121")], CREDS, 0)
    variants = [
        {k: v for k, v in good.headers.items() if k != "X-BITOPRO-SIGNATURE"},
        {k: v for k, v in good.headers.items() if k != "X-BITOPRO-APIKEY"},
        {**good.headers, "X-BITOPRO-SIGNATURE": good.headers["X-BITOPRO-SIGNATURE"].upper()},
        {**good.headers, "X-BITOPRO-PAYLOAD": good.headers["X-BITOPRO-PAYLOAD"].rstrip("=")},
    ]
    for headers in variants:
        r = session.put(fake.url + "/v3/orders", data=good.body, headers=headers)
        assert r.status_code in (400, 401)
        out = venue.parse_cancel([OrderRef("BTC_USDT", "121")], HttpResponse(r.status_code, r.content))
        assert isinstance(out, Failure) and out.kind in (FailureKind.AUTH, FailureKind.REJECTED)
    _assert_untouched(fake)


def test_fake_error_reply_shapes() -> None:
    dialect = BitoProDialect()
    reply = dialect.error_reply("cancel", 429, 1.5)
    assert reply.status == 429 and json.loads(reply.body) == {"error": "Too Many Requests"}
    assert reply.headers["Retry-After"] == "2"  # rounded up: never sooner than asked
    assert json.loads(dialect.error_reply("query", 409, None).body) == {"error": "Local Machine Time Mismatch"}
    assert json.loads(dialect.error_reply("query", 503, None).body) == {"error": "Internal Server Error"}
    assert dialect.rate == (2, 1.0)


def test_fake_date_header_follows_the_venue_clock(fake, venue, session) -> None:
    fake.fault(VENUE, "query", "clock_skew", offset_ms=3_600_000)
    resp = send(session, venue.base_url, venue.build_query(OrderRef("BTC_USDT", "1"), CREDS, now_ms()))
    assert abs(venue.parse_time(resp) - (now_ms() + 3_600_000)) < 2_000


# -- listings: facts and requests ---------------------------------------------------------------------

NOW = 1_700_000_000_000
DAY_MS = 86_400_000
WINDOW_MS = 90 * DAY_MS - 3_600_000  # 90 days of history, less an hour for the venue's clock


def test_listing_facts() -> None:
    assert BitoPro.list_kinds == frozenset({ListKind.OPEN, ListKind.HISTORY})  # stop-limits rest on the open list
    assert BitoPro.list_needs_symbol == frozenset({ListKind.HISTORY})  # /orders/all/{pair}; /orders/open: optional
    assert BitoPro.list_rate == Rate(5, 1.0)  # the open list's 5/s; the history has the README's 600/min
    assert BitoPro.history_window_s * 1000 == WINDOW_MS
    assert BitoPro.history_page_size == 1000  # get_orders_data.md "limit": 1 ~ 1000


def test_build_list_open_exact_request() -> None:
    venue = BitoPro()
    req = venue.build_list(ListKind.OPEN, "BTC_USDT", CREDS, NOW)
    assert (req.method, req.path, req.query, req.body, req.endpoint) == (
        "GET",
        "/v3/orders/open",
        "pair=btc_usdt",
        None,
        "list_open",
    )
    assert base64.b64decode(req.headers["X-BITOPRO-PAYLOAD"]) == b'{"identity":"","nonce":1700000000000}'
    assert req.headers["X-BITOPRO-SIGNATURE"] == signature_of("test-secret", req.headers["X-BITOPRO-PAYLOAD"])
    assert req.headers["X-BITOPRO-APIKEY"] == "test-key"
    every = venue.build_list(ListKind.OPEN, None, CREDS, NOW)
    assert (every.path, every.query, every.endpoint) == ("/v3/orders/open", "", "list_open")


def test_build_list_history_exact_request() -> None:
    venue = BitoPro()
    req = venue.build_list(ListKind.HISTORY, "BTC_USDT", CREDS, NOW, since_ms=NOW - DAY_MS)
    assert (req.method, req.path, req.body, req.endpoint) == ("GET", "/v3/orders/all/btc_usdt", None, "list_history")
    assert req.query == f"startTimestamp={NOW - DAY_MS}&statusKind=ALL&limit=1000"
    assert base64.b64decode(req.headers["X-BITOPRO-PAYLOAD"]) == b'{"identity":"","nonce":1700000000000}'
    nxt = venue.build_list(ListKind.HISTORY, "eth_usdt", CREDS, NOW, since_ms=NOW - DAY_MS, cursor="6432441674")
    assert nxt.path == "/v3/orders/all/eth_usdt"
    assert dict(parse_qsl(nxt.query)) == {
        "startTimestamp": str(NOW - DAY_MS),
        "statusKind": "ALL",
        "limit": "1000",
        "orderId": "6432441674",
    }


def test_listing_identity_only_travels_in_the_secret_payload() -> None:
    creds = Credentials("test-key", "test-secret", identity=IDENTITY)
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        req = BitoPro().build_list(kind, "BTC_USDT", creds, NOW)
        assert IDENTITY not in req.target
        assert json.loads(base64.b64decode(req.headers["X-BITOPRO-PAYLOAD"]))["identity"] == IDENTITY


@pytest.mark.parametrize(
    "since, expected",
    [
        (None, NOW - WINDOW_MS),  # the whole window the venue serves
        (0, NOW - WINDOW_MS),  # clipped: more than 90 days is "undefined" at the venue
        (NOW - 100 * DAY_MS, NOW - WINDOW_MS),
        (NOW - WINDOW_MS + 1, NOW - WINDOW_MS + 1),
        (NOW - 5, NOW - 5),
        (NOW + 60_000, NOW),  # nothing was created after now
    ],
)
def test_history_start_is_clipped_to_the_window(since: int | None, expected: int) -> None:
    req = BitoPro().build_list(ListKind.HISTORY, "BTC_USDT", CREDS, NOW, since_ms=since)
    assert dict(parse_qsl(req.query))["startTimestamp"] == str(expected)


@pytest.mark.parametrize(
    "kind, symbol, extra, fragment",
    [
        (ListKind.CONDITIONAL, "BTC_USDT", {}, "no 'conditional' listing"),
        (ListKind.CONDITIONAL, None, {}, "stop-limit orders rest on the open-order list"),
        (ListKind.HISTORY, None, {}, "a symbol is required"),
        (ListKind.OPEN, "BTC/USDT", {}, "malformed pair 'BTC/USDT'"),
        (ListKind.HISTORY, "BTCUSDT", {}, "malformed pair 'BTCUSDT'"),
        (ListKind.OPEN, "", {}, "malformed pair ''"),
        (ListKind.OPEN, "BTC_USDT", {"cursor": "5"}, "the open-order listing has no pages"),
        (ListKind.HISTORY, "BTC_USDT", {"cursor": "SL-5"}, "malformed history cursor 'SL-5'"),
        (ListKind.HISTORY, "BTC_USDT", {"cursor": "0123"}, "malformed history cursor"),
        (ListKind.HISTORY, "BTC_USDT", {"since_ms": "yesterday"}, "since_ms must be an integer"),
        (ListKind.HISTORY, "BTC_USDT", {"since_ms": True}, "since_ms must be an integer"),
    ],
)
def test_build_list_refuses_naming_the_problem(kind: ListKind, symbol: str | None, extra: dict, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        BitoPro().build_list(kind, symbol, CREDS, NOW, **extra)
    assert fragment in str(info.value)


# -- listings: reply parsing --------------------------------------------------------------------------

# get_open_orders_data.md "Response Example" (its trailing comma removed).
DOC_OPEN_ORDERS = {
    "data": [
        {
            "action": "BUY",
            "avgExecutionPrice": "0",
            "bitoFee": "0",
            "executedAmount": "0",
            "fee": "0",
            "feeSymbol": "bito",
            "id": "SL-1133804403",
            "originalAmount": "1000",
            "pair": "bito_eth",
            "price": "0.05",
            "remainingAmount": "1000",
            "seq": "BITOETH4618822599",
            "status": -1,
            "timestamp": 1570591225827,
            "total": "0",
            "type": "LIMIT",
            "timeInForce": "GTC",
        },
        {
            "action": "BUY",
            "avgExecutionPrice": "0",
            "bitoFee": "0",
            "condition": ">=",
            "executedAmount": "0",
            "fee": "0",
            "feeSymbol": "bito",
            "id": "SL-6256946008",
            "originalAmount": "1000",
            "pair": "bito_eth",
            "price": "0.05",
            "remainingAmount": "1000",
            "seq": "BITOETH2471338952",
            "status": -1,
            "stopPrice": "10",
            "createdTimestamp": 1570591525690,
            "updatedTimestamp": 1570601523550,
            "total": "0",
            "type": "STOP_LIMIT",
            "timeInForce": "GTC",
            "clientId": 123,
        },
    ]
}


def _history_entry(oid: str, pair: str, otype: str, status: int, created: int, updated: int, **extra: object) -> dict:
    return {
        "id": oid,
        "pair": pair,
        "price": "100",
        "avgExecutionPrice": "0",
        "action": "BUY",
        "type": otype,
        "createdTimestamp": created,
        "updatedTimestamp": updated,
        "status": status,
        "originalAmount": "1",
        "remainingAmount": "1",
        "executedAmount": "0",
        "fee": "0",
        "feeSymbol": "twd",
        "bitoFee": "0",
        "total": "0",
        "seq": "X1",
        "timeInForce": "GTC",
        **extra,
    }


# get_orders_data.md "Response Example": the seven entries' id, pair, type, status and times (the
# strategy-setting sub-objects, which the listing does not read, left out).
DOC_HISTORY = {
    "data": [
        _history_entry("887521192", "bito_eth", "LIMIT", 0, 1570591525592, 1570601523551, clientId=123),
        # This one has "timestamp" and neither createdTimestamp nor updatedTimestamp.
        {
            **{k: v for k, v in _history_entry("SL-1133804403", "bito_eth", "STOP_LIMIT", -1, 0, 0).items()
               if k not in ("createdTimestamp", "updatedTimestamp")},
            "timestamp": 1570591225827,
            "clientId": 123,
        },
        _history_entry("SL-6256946008", "bito_eth", "STOP_LIMIT", -1, 1570591525690, 1570601523550, clientId=123),
        _history_entry("6202635890", "eth_twd", "LIMIT", 2, 1707039441341, 1707039510358),
        _history_entry("SL-648784180", "eth_twd", "SP_OCO_STOPLIMIT", 2, 1707039510455, 1707039580165),
        _history_entry("4391867898", "btc_twd", "LIMIT", 2, 1707039634662, 1707039779521),
        _history_entry("SL-9277712889", "btc_twd", "SL_OCO_STOPLIMIT", 2, 1707039779597, 1707039856455),
    ]
}  # fmt: skip

# ccxt's static test data (ts/src/test/static/response/bitopro.json, fetchOpenOrders): a captured reply
# whose timestamps are in seconds.
CCXT_OPEN_ORDERS = {
    "data": [
        {
            "action": "SELL",
            "avgExecutionPrice": "0",
            "fee": "0",
            "feeSymbol": "usdt",
            "bitoFee": "0",
            "executedAmount": "0",
            "id": "6135165736",
            "originalAmount": "0.0039",
            "pair": "btc_usdt",
            "price": "97753",
            "remainingAmount": "0.0039",
            "seq": "BTCUSDT7797876599",
            "status": 0,
            "createdTimestamp": 1733122154,
            "updatedTimestamp": 1733122154,
            "total": "0",
            "type": "LIMIT",
            "timeInForce": "GTC",
        }
    ]
}


def test_doc_open_orders_sample() -> None:
    page = BitoPro().parse_list(ListKind.OPEN, None, _resp(200, DOC_OPEN_ORDERS))
    assert isinstance(page, ListPage) and page.cursor is None
    not_triggered = Outcome(Verdict.OPEN, None, "-1", "not triggered")
    assert page.orders == (
        # An "SL-" id is a stop-limit order even where the sample's type says LIMIT.
        ListedOrder(
            "BITO_ETH", "SL-1133804403", None, not_triggered, True, "BUY", "LIMIT", "0.05", "1000", "0",
            1570591225827, 1570591225827,
        ),
        ListedOrder(
            "BITO_ETH", "SL-6256946008", "123", not_triggered, True, "BUY", "STOP_LIMIT", "0.05", "1000", "0",
            1570591525690, 1570601523550,
        ),
    )  # fmt: skip


def test_doc_history_sample_states_and_conditional_types() -> None:
    page = BitoPro().parse_list(ListKind.HISTORY, "BTC_TWD", _resp(200, DOC_HISTORY))
    assert isinstance(page, ListPage) and page.cursor is None  # 7 < 1000: the last page
    got = [(o.symbol, o.order_id, o.conditional, o.status.verdict, o.status.reason) for o in page.orders]
    open_, filled = (Verdict.OPEN, None), (Verdict.FAILED, REASON_FILLED)
    assert got == [
        ("BITO_ETH", "887521192", False, *open_),
        ("BITO_ETH", "SL-1133804403", True, *open_),
        ("BITO_ETH", "SL-6256946008", True, *open_),
        ("ETH_TWD", "6202635890", False, *filled),
        ("ETH_TWD", "SL-648784180", True, *filled),  # SP_OCO_STOPLIMIT
        ("BTC_TWD", "4391867898", False, *filled),
        ("BTC_TWD", "SL-9277712889", True, *filled),  # SL_OCO_STOPLIMIT
    ]
    assert [o.client_order_id for o in page.orders[:3]] == ["123", "123", "123"]
    assert page.orders[1].created_ms == page.orders[1].updated_ms == 1570591225827  # from "timestamp"


def test_ccxt_history_sample_cancelled_and_captured_seconds() -> None:
    venue = BitoPro()
    cancelled = {"data": [{**CCXT_ORDER, "id": "2220595581", "createdTimestamp": 1644896744886}]}
    page = venue.parse_list(ListKind.HISTORY, "BNB_TWD", _resp(200, cancelled))
    assert isinstance(page, ListPage)
    (order,) = page.orders
    assert (order.symbol, order.order_id, order.status) == (
        "BNB_TWD",
        "2220595581",
        Outcome(Verdict.CANCELLED, None, "4", "cancelled"),
    )
    # ccxt's captured open-orders reply carries seconds; read as ms they would be January 1970.
    page = venue.parse_list(ListKind.OPEN, "BTC_USDT", _resp(200, CCXT_OPEN_ORDERS))
    assert isinstance(page, ListPage)
    (order,) = page.orders
    assert (order.created_ms, order.updated_ms, order.quantity, order.side) == (
        1733122154000,
        1733122154000,
        "0.0039",
        "SELL",
    )
    assert order.status == Outcome(Verdict.OPEN, None, "0", "in progress") and not order.conditional


def test_listed_ids_keep_every_digit() -> None:
    body = b'{"data":[{"id":123456789012345678901234567,"pair":"btc_usdt","status":4,"clientId":2147483647}]}'
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        page = BitoPro().parse_list(kind, "BTC_USDT", HttpResponse(200, body))
        assert isinstance(page, ListPage)
        assert (page.orders[0].order_id, page.orders[0].client_order_id) == (
            "123456789012345678901234567",
            "2147483647",
        )


def test_unknown_status_in_a_listing_is_ambiguous() -> None:
    page = BitoPro().parse_list(ListKind.OPEN, None, _resp(200, {"data": [{**CCXT_ORDER, "status": 5}]}))
    assert isinstance(page, ListPage)
    assert page.orders[0].status == Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "status '5'")


def _numbered(ids: list[str]) -> dict:
    return {"data": [{**CCXT_ORDER, "id": oid, "pair": "btc_usdt"} for oid in ids]}


def test_full_history_page_continues_from_its_last_numeric_id() -> None:
    venue = BitoPro()
    first = [str(20_999 - i) for i in range(1000)]  # newest first: 20999 .. 20000
    page = venue.parse_list(ListKind.HISTORY, "BTC_USDT", _resp(200, _numbered(first)))
    assert isinstance(page, ListPage) and page.cursor == "20000" and len(page.orders) == 1000
    # orderId is inclusive: the next page opens with 20000 again, and it is not listed twice.
    second = [str(20_000 - i) for i in range(5)]
    page = venue.parse_list(ListKind.HISTORY, "BTC_USDT", _resp(200, _numbered(second)), cursor="20000")
    assert isinstance(page, ListPage) and page.cursor is None
    assert [o.order_id for o in page.orders] == ["19999", "19998", "19997", "19996"]
    # A full page that ends in stop-limit ids continues from its last numeric id.
    tail = first[:-2] + ["SL-77", "SL-78"]
    page = venue.parse_list(ListKind.HISTORY, "BTC_USDT", _resp(200, _numbered(tail)))
    assert isinstance(page, ListPage) and page.cursor == "20002"
    # One short of full: the last page.
    page = venue.parse_list(ListKind.HISTORY, "BTC_USDT", _resp(200, _numbered(first[:999])))
    assert isinstance(page, ListPage) and page.cursor is None


def test_full_history_page_that_cannot_continue_is_a_failure() -> None:
    venue = BitoPro()
    only_stops = [f"SL-{i}" for i in range(1000)]
    out = venue.parse_list(ListKind.HISTORY, "BTC_USDT", _resp(200, _numbered(only_stops)))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    assert "no numeric order id to continue from" in (out.message or "")
    stuck = ["SL-1"] * 999 + ["500"]
    out = venue.parse_list(ListKind.HISTORY, "BTC_USDT", _resp(200, _numbered(stuck)), cursor="500")
    assert (
        isinstance(out, Failure)
        and out.kind is FailureKind.UNKNOWN_OUTCOME
        and "does not advance" in (out.message or "")
    )


BAD_ENTRIES = [
    ({"pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": "", "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": None, "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": 1.5, "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": True, "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": -1, "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": "12 34", "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": ["1"], "pair": "btc_usdt", "status": 0}, "no readable order id"),
    ({"id": "1", "status": 0}, "no readable pair for order '1'"),
    ({"id": "1", "pair": "btc/usdt", "status": 0}, "no readable pair"),
    ({"id": "1", "pair": "", "status": 0}, "no readable pair"),
    ({"id": "1", "pair": {"x": 1}, "status": 0}, "no readable pair"),
    ({"id": "1", "pair": "btc_usdt", "status": 0, "clientId": "bot-1"}, "unreadable clientId on order '1'"),
    ({"id": "1", "pair": "btc_usdt", "status": 0, "clientId": 1.5}, "unreadable clientId"),
    ("12234566", "str where an order object belongs"),
    (None, "NoneType where an order object belongs"),
    ([{"id": "1", "pair": "btc_usdt"}], "list where an order object belongs"),
]


@pytest.mark.parametrize("kind", [ListKind.OPEN, ListKind.HISTORY])
@pytest.mark.parametrize("bad, fragment", BAD_ENTRIES)
def test_one_unreadable_entry_fails_the_whole_page(kind: ListKind, bad: object, fragment: str) -> None:
    good = {**CCXT_ORDER, "pair": "btc_usdt"}
    out = BitoPro().parse_list(kind, "BTC_USDT", _resp(200, {"data": [good, bad, good]}))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME and out.http_status == 200
    assert "entry 2 of the" in (out.message or "") and fragment in (out.message or "")
    assert "may be incomplete" in (out.message or "")


@pytest.mark.parametrize("kind", [ListKind.OPEN, ListKind.HISTORY])
@pytest.mark.parametrize(
    "body",
    [{"data": None}, {}, {"data": {}}, {"data": "[]"}, {"orders": []}, {"data": {"BTC_USDT": ["1"]}}],
)
def test_a_listing_without_a_list_is_never_an_empty_book(kind: ListKind, body: dict) -> None:
    out = BitoPro().parse_list(kind, "BTC_USDT", _resp(200, body))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME


def test_an_empty_list_is_an_empty_last_page() -> None:
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        assert BitoPro().parse_list(kind, "BTC_USDT", _resp(200, {"data": []})) == ListPage((), None)


@pytest.mark.parametrize("kind", [ListKind.OPEN, ListKind.HISTORY])
@pytest.mark.parametrize("status, body, kind_expected", ERROR_TABLE)
def test_error_table_list(kind: ListKind, status: int, body: object, kind_expected: FailureKind) -> None:
    # Classified as the query classifies the same reply (auth, clock, rate limit, refused, unknown outcome).
    out = BitoPro().parse_list(kind, "BTC_USDT", _resp(status, body))
    assert isinstance(out, Failure) and out.kind is kind_expected and out.http_status == status
    query = BitoPro().parse_query(OrderRef("BTC_USDT", "1"), _resp(status, body))
    assert isinstance(query, Failure) and query.kind is out.kind


def test_listing_rate_limit_keeps_retry_after() -> None:
    out = BitoPro().parse_list(ListKind.OPEN, None, _resp(429, {"error": "Too Many Requests"}, {"Retry-After": "2"}))
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.retry_after == 2.0


def test_parse_list_of_a_kind_bitopro_lacks_is_a_failure() -> None:
    out = BitoPro().parse_list(ListKind.CONDITIONAL, "BTC_USDT", _resp(200, {"data": []}))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


@pytest.mark.parametrize("status", [200, 400, 404, 409, 429, 500])
@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_never_raises_list(status: int, body: bytes) -> None:
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        out = BitoPro().parse_list(kind, "BTC_USDT", HttpResponse(status, body), cursor="12234566")
        assert isinstance(out, Failure | ListPage)
        if isinstance(out, ListPage):
            assert status == 200 and out.orders == () and out.cursor is None


@settings(max_examples=100, deadline=None)
@given(
    entries=st.lists(
        st.dictionaries(
            st.sampled_from(["id", "pair", "status", "clientId", "type", "createdTimestamp", "price", "action"]),
            _json_values,
            max_size=8,
        ),
        max_size=4,
    )
)
def test_random_listing_entries_never_raise(entries: list) -> None:
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        out = BitoPro().parse_list(kind, "BTC_USDT", _resp(200, {"data": entries}))
        assert isinstance(out, Failure | ListPage)
        if isinstance(out, ListPage):
            assert len(out.orders) == len(entries)  # every entry read, or the page failed
            assert all(o.order_id and BitoPro().id_format.symbol.fullmatch(o.symbol) for o in out.orders)


# -- listings: adapter <-> fake venue -------------------------------------------------------------------


class SmallPages(BitoPro):
    """The adapter with 100-order history pages, so a few hundred orders take several pages."""

    history_page_size = 100


def list_all(
    venue: BitoPro, session, kind: ListKind, symbol: str | None, *, since_ms: int | None = None, creds=CREDS
) -> tuple[list[ListedOrder], int]:
    """Every page of a listing, as a caller pages through it; returns the orders and the request count."""
    orders: list[ListedOrder] = []
    cursor: str | None = None
    for requests_made in range(1, 100):
        req = venue.build_list(kind, symbol, creds, now_ms(), cursor=cursor, since_ms=since_ms)
        page = venue.parse_list(kind, symbol, send(session, venue.base_url, req), cursor=cursor)
        assert isinstance(page, ListPage), page
        orders.extend(page.orders)
        cursor = page.cursor
        if cursor is None:
            return orders, requests_made
    raise AssertionError("the listing never ended")


def seed_specs(fake: FakeVenue, symbol: str, specs: list[dict]) -> list[dict]:
    return fake.seed(VENUE, symbol, specs)


def kill_switch_book(fake: FakeVenue) -> tuple[set[str], set[str], set[str]]:
    """250 open BTC_USDT orders (10 of them stop-limit), 20 open ETH_USDT, and 10 closed BTC_USDT."""
    stops = seed_specs(fake, "BTC_USDT", [{"order_id": f"SL-{700 + i}", "conditional": True} for i in range(10)])
    plain = seed_specs(fake, "BTC_USDT", [{"status": "open", "client_order_id": str(1 + i)} for i in range(240)])
    other = seed_specs(fake, "ETH_USDT", [{"status": "open"} for _ in range(20)])
    seed_specs(fake, "BTC_USDT", [{"status": s} for s in ("filled", "cancelled") * 5])
    return {o["order_id"] for o in stops}, {o["order_id"] for o in plain}, {o["order_id"] for o in other}


def test_e2e_open_listing_is_one_request_with_stop_limits_marked(fake, venue, session) -> None:
    stops, plain, other = kill_switch_book(fake)
    orders, pages = list_all(venue, session, ListKind.OPEN, "BTC_USDT")
    assert pages == 1  # no paging on /orders/open: one request is the whole list
    assert sorted(o.order_id for o in orders) == sorted(stops | plain)  # each once, the closed ones absent
    assert {o.order_id for o in orders if o.conditional} == stops
    assert {o.symbol for o in orders} == {"BTC_USDT"}
    assert all(o.status.verdict is Verdict.OPEN for o in orders)
    assert {o.status.code for o in orders if o.conditional} == {"-1"}  # not triggered
    assert {o.order_type for o in orders if o.conditional} == {"STOP_LIMIT"}
    assert {o.client_order_id for o in orders if o.order_id in plain} == {str(1 + i) for i in range(240)}
    every, pages = list_all(venue, session, ListKind.OPEN, None)  # no pair: every pair at once
    assert pages == 1 and sorted(o.order_id for o in every) == sorted(stops | plain | other)
    assert {o.symbol for o in every if o.order_id in other} == {"ETH_USDT"}
    assert [r["endpoint"] for r in fake.requests(VENUE)] == ["list_open", "list_open"]
    assert all(o["cancel_requests"] == 0 for o in fake.orders(VENUE))  # listing changes nothing


def _history_book(fake: FakeVenue, n: int) -> dict[str, dict]:
    """n BTC_USDT orders cycling open / cancelled / filled (every 25th a stop-limit), and 20 ETH_USDT ones."""
    states = ("open", "cancelled", "filled")
    specs = [{"status": states[i % 3], "conditional": i % 25 == 0} for i in range(n)]
    seeded = {o["order_id"]: o for o in seed_specs(fake, "BTC_USDT", specs)}
    seed_specs(fake, "ETH_USDT", [{"status": "cancelled"} for _ in range(20)])
    return seeded


EXPECTED_VERDICT = {
    "open": (Verdict.OPEN, None),
    "cancelled": (Verdict.CANCELLED, None),
    "filled": (Verdict.FAILED, REASON_FILLED),
}


def test_e2e_history_pages_through_every_order_once_with_its_state(fake, venue, session) -> None:
    book = _history_book(fake, 250)
    small = SmallPages(venue.base_url)
    orders, pages = list_all(small, session, ListKind.HISTORY, "BTC_USDT", since_ms=now_ms() - 60_000)
    assert pages == 3  # 100, 99 new + the repeated cursor order, 51 + the repeated one
    assert len(orders) == 250 and {o.order_id for o in orders} == set(book)  # each once, no ETH_USDT
    for o in orders:
        seeded = book[o.order_id]
        assert (o.status.verdict, o.status.reason) == EXPECTED_VERDICT[seeded["status"]], o
        assert o.conditional is seeded["conditional"] and o.symbol == "BTC_USDT"
    assert {o.status.code for o in orders if o.conditional and o.status.verdict is Verdict.OPEN} == {"-1"}
    # Newest created first across the pages, as the venue lists them.
    assert [o.created_ms for o in orders] == sorted((o.created_ms for o in orders), reverse=True)
    assert [r["path"] for r in fake.requests(VENUE)] == ["/v3/orders/all/btc_usdt"] * 3


def test_e2e_history_at_the_documented_page_size(fake, venue, session) -> None:
    book = _history_book(fake, 2100)
    orders, pages = list_all(venue, session, ListKind.HISTORY, "BTC_USDT")
    assert pages == 3  # 1000, 999 new, 101 new
    assert len(orders) == 2100 and {o.order_id for o in orders} == set(book)
    for o in orders:
        assert (o.status.verdict, o.status.reason) == EXPECTED_VERDICT[book[o.order_id]["status"]]


def test_e2e_history_lists_orders_created_since_and_forgets_after_90_days(fake, venue, session) -> None:
    now = now_ms()
    old = seed_specs(fake, "BTC_USDT", [{"status": "cancelled", "created_ms": now - 10 * DAY_MS}])[0]["order_id"]
    gone = seed_specs(fake, "BTC_USDT", [{"status": "cancelled", "created_ms": now - 91 * DAY_MS}])[0]["order_id"]
    new = seed_specs(fake, "BTC_USDT", [{"status": "cancelled", "created_ms": now - 1_000}])[0]["order_id"]
    recent, _ = list_all(venue, session, ListKind.HISTORY, "BTC_USDT", since_ms=now - 3_600_000)
    assert [o.order_id for o in recent] == [new]
    everything, _ = list_all(venue, session, ListKind.HISTORY, "BTC_USDT", since_ms=0)  # clipped: accepted
    assert [o.order_id for o in everything] == [new, old]  # newest first; the 91-day-old order is gone
    assert gone not in {o.order_id for o in everything}


def _signed_get(path: str, params: dict[str, object], nonce: int | None = None) -> HttpRequest:
    payload = base64.b64encode(json.dumps({"nonce": nonce or now_ms()}, separators=(",", ":")).encode()).decode()
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return HttpRequest("GET", path, query, None, _auth_headers(payload), "list_history")


@pytest.mark.parametrize(
    "params, name",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"statusKind": "CANCELLED"}, "statusKind"),
        ({"orderId": "abc"}, "orderId"),
        ({"startTimestamp": "x"}, "startTimestamp"),
        ({"clientId": 0}, "clientId"),
    ],
)
def test_fake_refuses_out_of_range_history_parameters(fake, venue, session, params, name) -> None:
    seed(fake, "BTC_USDT", {"131": "open"})
    resp = send(session, fake.url, _signed_get("/v3/orders/all/btc_usdt", params))
    assert (resp.status, resp.json()) == (400, {"error": f"Wrong parameter: {name}"})
    out = venue.parse_list(ListKind.HISTORY, "BTC_USDT", resp)
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED
    _assert_untouched(fake)


def test_fake_refuses_a_page_size_above_the_documented_maximum_from_the_adapter(fake, venue, session) -> None:
    class TooBig(BitoPro):
        history_page_size = 1001

    seed(fake, "BTC_USDT", {"132": "open"})
    big = TooBig(venue.base_url)
    resp = send(session, fake.url, big.build_list(ListKind.HISTORY, "BTC_USDT", CREDS, now_ms()))
    out = big.parse_list(ListKind.HISTORY, "BTC_USDT", resp)
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED and out.message == "Wrong parameter: limit"
    resp = send(session, fake.url, _signed_get("/v3/orders/all/btc_usdt", {"limit": 1000}))
    assert resp.status == 200 and [o["id"] for o in resp.json()["data"]] == ["132"]


def test_fake_history_window_rules(fake, venue, session) -> None:
    now = now_ms()
    seed_specs(fake, "BTC_USDT", [{"order_id": "141", "status": "cancelled", "created_ms": now - 2 * DAY_MS}])
    path = "/v3/orders/all/btc_usdt"
    over = send(session, fake.url, _signed_get(path, {"startTimestamp": now - 91 * DAY_MS}))
    assert (over.status, over.json()) == (400, {"error": "Wrong parameter: startTimestamp"})  # > 90 days apart
    backwards = _signed_get(path, {"startTimestamp": now, "endTimestamp": now - DAY_MS})
    assert send(session, fake.url, backwards).status == 400
    both = _signed_get(path, {"startTimestamp": now - 3 * DAY_MS, "endTimestamp": now - DAY_MS})
    assert [o["id"] for o in send(session, fake.url, both).json()["data"]] == ["141"]
    before = _signed_get(path, {"endTimestamp": now - 3 * DAY_MS})  # start defaults to 90 days before the end
    assert send(session, fake.url, before).json() == {"data": []}
    # The default: the last 90 days, every state.
    assert [o["status"] for o in send(session, fake.url, _signed_get(path, {})).json()["data"]] == [4]


def test_fake_history_status_filters(fake, venue, session) -> None:
    now = now_ms()
    seed_specs(
        fake,
        "BTC_USDT",
        [
            {"order_id": "151", "status": "open", "created_ms": now - 100 * DAY_MS},  # older than the window
            {"order_id": "152", "status": "open", "conditional": True, "created_ms": now - 3_000},
            {"order_id": "153", "status": "filled", "created_ms": now - 2_000},
            {"order_id": "154", "status": "cancelled", "created_ms": now - 1_000, "client_order_id": "77"},
        ],
    )
    path = "/v3/orders/all/btc_usdt"

    def ids(params: dict[str, object]) -> list[str]:
        resp = send(session, fake.url, _signed_get(path, params))
        assert resp.status == 200, resp.body
        return [o["id"] for o in resp.json()["data"]]

    assert ids({}) == ids({"statusKind": "ALL"}) == ["154", "153", "152"]
    assert ids({"statusKind": "DONE"}) == ["153"]  # 2 and 3 only: a cancelled order is not "done"
    assert ids({"statusKind": "OPEN"}) == ["152"]  # -1 (not triggered) is open
    assert ids({"statusKind": "OPEN", "ignoreTimeLimitEnable": "true"}) == ["152", "151"]
    assert ids({"status": 4, "statusKind": "OPEN"}) == ["154"]  # status takes precedence
    assert ids({"clientId": 77}) == ["154"]
    assert ids({"orderId": 153}) == ["153", "152"]  # ids <= orderId
    assert ids({"limit": 1}) == ["154"]


def test_e2e_stop_limit_orders_rest_on_the_ordinary_list(fake, venue, session) -> None:
    seed_specs(fake, "BTC_USDT", [{"order_id": "161", "conditional": True}, {"order_id": "162"}])
    stop = OrderRef("BTC_USDT", "161")
    assert query(venue, session, stop) == Outcome(Verdict.OPEN, None, "-1", "not triggered")
    # The batch cancel finds it like any other order (ids of this shape are not "SL-" prefixed here).
    assert run_cancel(venue, session, [stop]) == {stop: Outcome(Verdict.CANCELLED)}
    orders, _ = list_all(venue, session, ListKind.OPEN, "BTC_USDT")
    assert [o.order_id for o in orders] == ["162"]
    (hist,) = [o for o in list_all(venue, session, ListKind.HISTORY, "BTC_USDT")[0] if o.order_id == "161"]
    assert hist.conditional and hist.status.verdict is Verdict.CANCELLED


def test_e2e_cancel_all_is_synchronous_and_takes_stop_limits_too(fake, venue, session) -> None:
    stops, plain, other = kill_switch_book(fake)
    r = send(session, fake.url, signed_delete("/v3/orders/btc_usdt", now_ms()))
    assert r.status == 200 and set(r.json()["data"]) == {"BTC_USDT"}
    assert set(r.json()["data"]["BTC_USDT"]) == stops | plain  # the ids it cancelled, stop-limits included
    # Synchronous: the very next listing shows the pair empty, the other pair untouched.
    assert list_all(venue, session, ListKind.OPEN, "BTC_USDT")[0] == []
    assert {o.order_id for o in list_all(venue, session, ListKind.OPEN, None)[0]} == other
    status = fake.order_status(VENUE)
    assert all(status[i] == "cancelled" for i in stops | plain) and all(status[i] == "open" for i in other)


def test_e2e_listing_signing_and_faults(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"171": "open"})
    wrong = Credentials("test-key", "wrong-secret")
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        resp = send(session, venue.base_url, venue.build_list(kind, "BTC_USDT", wrong, now_ms()))
        out = venue.parse_list(kind, "BTC_USDT", resp)
        assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.http_status == 401
        stale = now_ms() - NONCE_TOLERANCE_MS - 5_000
        out = venue.parse_list(
            kind, "BTC_USDT", send(session, venue.base_url, venue.build_list(kind, "BTC_USDT", CREDS, stale))
        )
        assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK
    fake.fault(VENUE, "list_open", "status", status=429, retry_after=1)
    out = venue.parse_list(
        ListKind.OPEN, None, send(session, venue.base_url, venue.build_list(ListKind.OPEN, None, CREDS, now_ms()))
    )
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.retry_after == 1.0
    fake.fault(VENUE, "list_history", "malformed")
    req = venue.build_list(ListKind.HISTORY, "BTC_USDT", CREDS, now_ms())
    out = venue.parse_list(ListKind.HISTORY, "BTC_USDT", send(session, venue.base_url, req))
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME
    # The fault is spent: the same request now lists the order.
    page = venue.parse_list(ListKind.HISTORY, "BTC_USDT", send(session, venue.base_url, req))
    assert isinstance(page, ListPage) and [o.order_id for o in page.orders] == ["171"]
    _assert_untouched(fake)


def test_fake_accepts_ccxt_style_listing_requests(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"181": "open", "182": "cancelled"})
    seed(fake, "ETH_USDT", {"183": "open"})
    # ccxt fetch_open_orders(symbol): GET /v3/orders/open?pair=btc_usdt, payload {"nonce": ms} only.
    resp = send(session, fake.url, _signed_get("/v3/orders/open", {"pair": "btc_usdt"}))
    assert resp.status == 200 and [o["id"] for o in resp.json()["data"]] == ["181"]
    page = venue.parse_list(ListKind.OPEN, "BTC_USDT", resp)
    assert isinstance(page, ListPage) and [o.order_id for o in page.orders] == ["181"]
    resp = send(session, fake.url, _signed_get("/v3/orders/open", {}))
    assert sorted(o["id"] for o in resp.json()["data"]) == ["181", "183"]
    # ccxt fetch_orders(symbol): GET /v3/orders/all/btc_usdt with no parameters.
    resp = send(session, fake.url, _signed_get("/v3/orders/all/btc_usdt", {}))
    assert resp.status == 200 and sorted(o["id"] for o in resp.json()["data"]) == ["181", "182"]
    assert send(session, fake.url, _signed_get("/v3/orders/open", {"pair": "btc-usdt"})).status == 400


def test_fake_listing_rates_match_the_adapter() -> None:
    rates = BitoProDialect().rates
    assert rates["list_open"] == (BitoPro.list_rate.requests, BitoPro.list_rate.per_seconds) == (5, 1.0)
    assert rates["list_history"] == (600, 60.0)  # no own limit: the README's 600/min


# -- conditional refs and the venue's own cancel-all (kill switch) ---------------------------------------

# cancel_all_orders.md's response sample (its // comment dropped).
CANCEL_ALL_SAMPLE = {"data": {"BTC_USDT": ["12234566", "12234567"], "ETH_USDT": ["44566712", "24552212"]}}


def test_cancel_all_facts() -> None:
    assert BitoPro.cancel_all_needs_symbol is False  # DELETE /v3/orders/all: "all your active orders of all pairs"
    # The page states 2/s per IP & UID and, for /orders/all, 1/s per IP: one rate paces both, the stricter.
    assert BitoPro.cancel_all_rate == Rate(1, 1.0)
    assert BitoProDialect().rates["cancel_all"] == (1, 1.0)  # the fake enforces the same (--enforce-rate-limits)
    assert ListKind.CONDITIONAL not in BitoPro.list_kinds  # stop-limit orders rest on the ordinary list


def test_build_cancel_all_exact_requests() -> None:
    req = BitoPro("https://api.bitopro.com/v3").build_cancel_all("BTC_USDT", CREDS, 1_700_000_000_123)
    assert (req.method, req.path, req.query, req.body, req.endpoint) == (
        "DELETE",
        "/v3/orders/btc_usdt",  # lower-case in the path, as the docs' bito_eth and ccxt's market id
        "",
        None,
        "cancel_all",
    )
    payload = req.headers["X-BITOPRO-PAYLOAD"]
    assert base64.b64decode(payload) == b'{"identity":"","nonce":1700000000123}'
    # Self-computed: HMAC-SHA384 over the payload text, as for every other request.
    assert req.headers["X-BITOPRO-SIGNATURE"] == hmac.new(b"test-secret", payload.encode(), hashlib.sha384).hexdigest()
    assert req.headers["X-BITOPRO-APIKEY"] == "test-key"
    every = BitoPro().build_cancel_all(None, CREDS, 1_700_000_000_123)
    assert (every.method, every.path, every.query, every.body, every.endpoint) == (
        "DELETE",
        "/v3/orders/all",
        "",
        None,
        "cancel_all",
    )
    assert every.headers == req.headers  # same nonce, same payload
    assert BitoPro().build_cancel_all("bito_eth", CREDS, 1, account="ignored").path == "/v3/orders/bito_eth"


def test_cancel_all_identity_only_travels_in_the_secret_payload() -> None:
    creds = Credentials("test-key", "test-secret", identity=IDENTITY)
    for symbol in ("BTC_USDT", None):
        req = BitoPro().build_cancel_all(symbol, creds, NOW)
        assert IDENTITY not in req.target and IDENTITY not in repr({k: v for k, v in req.headers.items()})
        assert json.loads(base64.b64decode(req.headers["X-BITOPRO-PAYLOAD"]))["identity"] == IDENTITY
        assert {k.lower() for k in req.headers} <= BitoPro.secret_headers


@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTC/USDT", "all", "", "btc_usdt/../all", "BTC_USDT?x=1", 5])
def test_build_cancel_all_refuses_what_validate_refuses(symbol: object) -> None:
    with pytest.raises(InputError, match="malformed pair"):
        BitoPro().build_cancel_all(symbol, CREDS, NOW)  # type: ignore[arg-type]


def test_cancel_all_reply_never_asks_for_another_call() -> None:
    assert BitoPro().parse_cancel_all(None, _resp(200, CANCEL_ALL_SAMPLE)) is False
    assert BitoPro().parse_cancel_all("BTC_USDT", _resp(200, {"data": {}})) is False  # nothing was open


@pytest.mark.parametrize("status, body, kind_expected", ERROR_TABLE)
def test_error_table_cancel_all(status: int, body: object, kind_expected: FailureKind) -> None:
    # Classified as the batch cancel classifies the same reply.
    out = BitoPro().parse_cancel_all("BTC_USDT", _resp(status, body))
    assert isinstance(out, Failure) and out.kind is kind_expected and out.http_status == status
    batch = BitoPro().parse_cancel([OrderRef("BTC_USDT", "1")], _resp(status, body))
    assert isinstance(batch, Failure) and batch.kind is out.kind


@pytest.mark.parametrize(
    "body", [{"data": None}, {"data": []}, {"data": "12234566"}, {"orders": {}}, [], {"error": 5}, {"data": {}, "x": 1}]
)
def test_cancel_all_reply_of_another_shape_may_have_been_applied(body: object) -> None:
    out = BitoPro().parse_cancel_all("BTC_USDT", _resp(200, body))
    if body == {"data": {}, "x": 1}:
        assert out is False  # extra fields are tolerated
    else:
        assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME


def test_cancel_all_rate_limit_keeps_retry_after() -> None:
    out = BitoPro().parse_cancel_all(None, _resp(429, {"error": "Too Many Requests"}, {"Retry-After": "3"}))
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.retry_after == 3.0


@pytest.mark.parametrize("status", [200, 400, 404, 409, 429, 500])
@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_never_raises_cancel_all(status: int, body: bytes) -> None:
    out = BitoPro().parse_cancel_all("BTC_USDT", HttpResponse(status, body))
    assert out is False or isinstance(out, Failure)
    if out is False:
        assert status == 200


@pytest.mark.parametrize(
    "refs, fragment",
    [
        ([OrderRef("BTC_USDT", "1"), OrderRef("BTC_USDT", "2", conditional=True)], "order '2' on 'BTC_USDT' is marked"),
        ([OrderRef("ETH_USDT", "SL-77", conditional=True)], "order 'SL-77' on 'ETH_USDT' is marked conditional"),
        # The first bad ref is the one named.
        ([OrderRef("BTCUSDT", "1"), OrderRef("BTC_USDT", "2", conditional=True)], "malformed pair 'BTCUSDT'"),
        ([OrderRef("BTC_USDT", "2", conditional=True), OrderRef("BTCUSDT", "1")], "order '2'.*conditional"),
    ],
)
def test_validate_refuses_a_conditional_ref_naming_it(refs: list[OrderRef], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        BitoPro().validate(refs)


def test_stop_limit_ids_are_refused_for_the_batch_and_point_to_the_cancel_all() -> None:
    with pytest.raises(InputError) as info:
        BitoPro().validate([OrderRef("BTC_USDT", "SL-9014867155")])
    text = str(info.value)
    assert "stop-limit order id 'SL-9014867155'" in text and "DELETE /v3/orders/{pair}" in text


def test_a_listed_stop_limit_order_is_an_ordinary_ref() -> None:
    body = {"data": [_history_entry("161", "btc_usdt", "STOP_LIMIT", -1, NOW, NOW)]}
    page = BitoPro().parse_list(ListKind.OPEN, None, _resp(200, body))
    assert isinstance(page, ListPage)
    (order,) = page.orders
    ref = order.ref(separate_conditional=ListKind.CONDITIONAL in BitoPro.list_kinds)
    assert order.conditional and ref == OrderRef("BTC_USDT", "161") and not ref.conditional
    BitoPro().validate([ref])


def cancel_all(venue: BitoPro, session, symbol: str | None, creds=CREDS, at: int | None = None):
    req = venue.build_cancel_all(symbol, creds, at or now_ms())
    return venue.parse_cancel_all(symbol, send(session, venue.base_url, req))


def test_e2e_native_cancel_all_clears_the_pair_stop_limits_included(fake, venue, session) -> None:
    stops, plain, other = kill_switch_book(fake)
    assert cancel_all(venue, session, "BTC_USDT") is False
    assert [r["endpoint"] for r in fake.requests(VENUE)] == ["cancel_all"]
    status = fake.order_status(VENUE)
    assert {status[i] for i in stops | plain} == {"cancelled"}  # synchronous, SL- orders included
    assert {status[i] for i in other} == {"open"}  # the other pair is left alone
    # The reply settled nothing; the listings show what happened, at once.
    assert list_all(venue, session, ListKind.OPEN, "BTC_USDT")[0] == []
    assert {o.order_id for o in list_all(venue, session, ListKind.OPEN, None)[0]} == other
    history = {o.order_id: o for o in list_all(venue, session, ListKind.HISTORY, "BTC_USDT")[0]}
    assert {history[i].status.verdict for i in stops | plain} == {Verdict.CANCELLED}
    assert {history[i].conditional for i in stops} == {True}
    # Again on the now empty pair: {"data": {}}, still nothing to call again for.
    assert cancel_all(venue, session, "btc_usdt") is False


def test_e2e_native_cancel_all_of_every_pair(fake, venue, session) -> None:
    stops, plain, other = kill_switch_book(fake)
    assert cancel_all(venue, session, None) is False
    assert fake.requests(VENUE)[-1]["endpoint"] == "cancel_all"
    assert list_all(venue, session, ListKind.OPEN, None)[0] == []
    status = fake.order_status(VENUE)
    assert {status[i] for i in stops | plain | other} == {"cancelled"}


def test_e2e_kill_switch_path_for_stop_limit_orders(fake, venue, session) -> None:
    # What a kill switch sees: the open listing names the SL- orders, the batch cancel cannot take them
    # (validate refuses them), so only the native cancel-all clears them; the listing confirms.
    stops, plain, _ = kill_switch_book(fake)
    listed = list_all(venue, session, ListKind.OPEN, "BTC_USDT")[0]
    refs = [o.ref(separate_conditional=ListKind.CONDITIONAL in venue.list_kinds) for o in listed]
    batchable = [r for r in refs if not (r.order_id or "").startswith("SL-")]
    for r in refs:
        if r not in batchable:
            with pytest.raises(InputError, match="stop-limit order id"):
                venue.validate([r])
    results = run_cancel(venue, session, batchable)
    assert {r.order_id for r in results} == plain and {o.verdict for o in results.values()} == {Verdict.CANCELLED}
    left = list_all(venue, session, ListKind.OPEN, "BTC_USDT")[0]
    assert {o.order_id for o in left} == stops and all(o.conditional for o in left)
    assert cancel_all(venue, session, "BTC_USDT") is False
    assert list_all(venue, session, ListKind.OPEN, "BTC_USDT")[0] == []


def test_e2e_native_cancel_all_failures(fake, venue, session) -> None:
    seed(fake, "BTC_USDT", {"191": "open"})
    out = cancel_all(venue, session, "BTC_USDT", creds=Credentials("test-key", "wrong-secret"))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.http_status == 401
    out = cancel_all(venue, session, "BTC_USDT", at=now_ms() - NONCE_TOLERANCE_MS - 5_000)
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK
    fake.fault(VENUE, "cancel_all", "status", status=429, retry_after=1)
    out = cancel_all(venue, session, "BTC_USDT")
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.retry_after == 1.0
    _assert_untouched(fake)
    fake.fault(VENUE, "cancel_all", "malformed")
    out = cancel_all(venue, session, "BTC_USDT")
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME  # may have been applied
    assert query(venue, session, OrderRef("BTC_USDT", "191")).verdict is Verdict.CANCELLED  # ...and it was
