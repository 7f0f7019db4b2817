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
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.bitopro import NONCE_TOLERANCE_MS, BitoProDialect
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
