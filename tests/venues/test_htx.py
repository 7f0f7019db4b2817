"""HTX (Huobi) spot: signing vectors, request building, reply parsing, and the adapter against the fake venue.

What every venue shares (facts, batch bounds, chunking, naming bad input, junk replies, signing accepted by
the fake) is tests/venues/test_contract.py; this file keeps the venue's documented vectors and quirks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safecancel.errors import InputError
from safecancel.model import (
    REASON_ACCEPTED,
    REASON_AMBIGUOUS,
    REASON_CANCELLING,
    REASON_FILLED,
    REASON_NOT_FOUND,
    REASON_OMITTED,
    REASON_REFUSED,
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
from safecancel.testing.dialects.htx import ACCOUNT_ID, HTXDialect
from safecancel.venues.base import Rate, redact_query
from safecancel.venues.htx import (
    HISTORY_REACH_MS,
    HTX,
    canonical_query,
    encode,
    presign_text,
    sign_host,
    signature,
    utc_timestamp,
)

CREDS = Credentials("test-key", "test-secret")
NOW = 1494515970000  # 2017-05-11T15:19:30Z, the docs' example time


def oid(*ids: str, symbol: str = "btcusdt") -> list[OrderRef]:
    return [OrderRef(symbol, order_id=i) for i in ids]


def cid(*ids: str, symbol: str = "btcusdt") -> list[OrderRef]:
    return [OrderRef(symbol, client_order_id=i) for i in ids]


def reply(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return HttpResponse(status, body, headers or {})


def err(code: str, msg: str, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return reply({"status": "error", "err-code": code, "err-msg": msg, "data": None}, status, headers)


# -- signing ---------------------------------------------------------------------------------------


def test_official_sdk_vector() -> None:
    # HuobiRDCenter/huobi_Python tests/test_api_signature.py: key 123, secret 456, GET http://host/url, Timestamp 123.
    params = [
        ("AccessKeyId", "123"),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", "123"),
    ]
    assert presign_text("GET", "host", "/url", canonical_query(params)) == (
        "GET\nhost\n/url\nAccessKeyId=123&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=123"
    )
    sig = signature("456", "GET", "host", "/url", params)
    assert sig == "Hhiaq8xYQPiBZOyWV37MdQutLo4f0ZOHiJtG3p+nILc="
    assert encode(sig) == "Hhiaq8xYQPiBZOyWV37MdQutLo4f0ZOHiJtG3p%2BnILc%3D"


def test_docs_presign_text_is_reproduced() -> None:
    # The docs' example secret is elided, so only its pre-sign text is an oracle (venues.md §4.3).
    params = [
        ("order-id", "1234567890"),
        ("Timestamp", utc_timestamp(NOW)),
        ("SignatureVersion", "2"),
        ("SignatureMethod", "HmacSHA256"),
        ("AccessKeyId", "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"),
    ]
    assert presign_text("GET", "api.huobi.pro", "/v1/order/orders", canonical_query(params)) == (
        "GET\napi.huobi.pro\n/v1/order/orders\nAccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256"
        "&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30&order-id=1234567890"
    )


def test_self_computed_batchcancel_vector() -> None:
    # venues.md §4.3, self-computed with secret 456.
    params = [
        ("AccessKeyId", "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", "2017-05-11T15:19:30"),
    ]
    sig = signature("456", "POST", "api.huobi.pro", "/v1/order/orders/batchcancel", params)
    assert sig == "GK/g5vZtQcntnRSFISiA2FZZWd3q3i7py120IF65DCs="


def test_build_cancel_signs_exactly_what_it_sends() -> None:
    req = HTX().build_cancel(oid("1", "2"), Credentials("e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx", "456"), NOW)
    assert req.method == "POST" and req.path == "/v1/order/orders/batchcancel" and req.endpoint == "cancel"
    assert req.query == (
        "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256&SignatureVersion=2"
        "&Timestamp=2017-05-11T15%3A19%3A30&Signature=GK%2Fg5vZtQcntnRSFISiA2FZZWd3q3i7py120IF65DCs%3D"
    )
    assert req.body == b'{"order-ids":["1","2"]}'  # the body is not signed on POST
    assert req.headers == {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("now_ms", "text"),
    [(NOW, "2017-05-11T15:19:30"), (NOW + 999, "2017-05-11T15:19:30"), (0, "1970-01-01T00:00:00")],
)
def test_timestamp_comes_from_now_ms_only(now_ms: int, text: str) -> None:
    assert utc_timestamp(now_ms) == text


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.huobi.pro", "api.huobi.pro"),
        ("https://API-AWS.Huobi.pro:443", "api-aws.huobi.pro"),  # a default port is not in the Host header
        ("http://127.0.0.1:8765", "127.0.0.1:8765"),
        ("http://localhost:80/", "localhost"),
    ],
)
def test_sign_host(base_url: str, host: str) -> None:
    assert sign_host(base_url) == host


def test_encoding_is_upper_case_hex_and_strict() -> None:
    assert encode("2017-05-11T15:19:30") == "2017-05-11T15%3A19%3A30"
    assert encode("a b/+=~_.-") == "a%20b%2F%2B%3D~_.-"
    assert encode("ａ") == "%EF%BD%81"


def test_non_default_port_goes_into_the_signed_host() -> None:
    venue = HTX("http://127.0.0.1:8765")
    req = venue.build_cancel(oid("1"), CREDS, NOW)
    params = [(k, v) for k, v in parse_qsl(req.query) if k != "Signature"]
    text = presign_text("POST", "127.0.0.1:8765", "/v1/order/orders/batchcancel", canonical_query(params))
    expected = base64.b64encode(hmac.new(b"test-secret", text.encode(), hashlib.sha256).digest()).decode()
    assert dict(parse_qsl(req.query))["Signature"] == expected


# -- request building --------------------------------------------------------------------------------


def test_client_ids_use_their_own_list() -> None:
    req = HTX().build_cancel(cid("a-1", "b_2"), CREDS, NOW)
    assert json.loads(req.body) == {"client-order-ids": ["a-1", "b_2"]}


def test_never_both_id_kinds_in_one_request() -> None:
    with pytest.raises(InputError, match="cannot share"):
        HTX().build_cancel([*oid("1"), *cid("x")], CREDS, NOW)


def test_batch_limit_is_enforced_when_building() -> None:
    with pytest.raises(InputError, match="at most 50"):
        HTX().build_cancel(oid(*map(str, range(1, 52))), CREDS, NOW)
    with pytest.raises(InputError):
        HTX().build_cancel([], CREDS, NOW)


def test_plan_chunks_splits_by_kind_and_limit_not_by_symbol() -> None:
    refs = oid(*map(str, range(1, 61))) + oid(*map(str, range(100, 160)), symbol="ethusdt") + cid("c1", "c2", "c3")
    chunks = HTX().plan_chunks(refs)
    assert [len(c) for c in chunks] == [50, 50, 20, 3]
    for chunk in chunks:
        assert len({r.kind for r in chunk}) == 1
    assert {r.symbol for r in chunks[1]} == {"btcusdt", "ethusdt"}  # the body carries no symbol
    assert [len(c) for c in HTX(max_batch=7).plan_chunks(cid(*[f"c{i}" for i in range(10)]))] == [7, 3]


@pytest.mark.parametrize(
    ("ref", "named"),
    [
        (OrderRef("BTC-USDT", order_id="1"), "BTC-USDT"),
        (OrderRef("BTCUSDT", order_id="1"), "BTCUSDT"),
        (OrderRef("btcusdt", order_id="12a"), "12a"),
        (OrderRef("btcusdt", order_id=""), "''"),
        (OrderRef("btcusdt", client_order_id="has space"), "has space"),
        (OrderRef("btcusdt", client_order_id="x" * 65), "xxxx"),
        (OrderRef("btcusdt", client_order_id='a","b'), "a"),
    ],
)
def test_validate_names_the_bad_item(ref: OrderRef, named: str) -> None:
    with pytest.raises(InputError, match=re.escape(named)):
        HTX().validate([OrderRef("btcusdt", order_id="1"), ref])


def test_validate_accepts_good_refs() -> None:
    HTX().validate([*oid("357631450723117"), *cid("AA03022abc-x_1"), OrderRef("1inchusdt", order_id="1")])


def test_build_query_by_order_id_and_client_id() -> None:
    venue = HTX()
    q1 = venue.build_query(OrderRef("btcusdt", order_id="357632718898331"), CREDS, NOW)
    assert (q1.method, q1.path, q1.body, q1.endpoint) == ("GET", "/v1/order/orders/357632718898331", None, "query")
    q2 = venue.build_query(OrderRef("btcusdt", client_order_id="my-1"), CREDS, NOW)
    assert q2.path == "/v1/order/orders/getClientOrder"
    keys = [k for k, _ in parse_qsl(q2.query)]
    # ASCII order puts the lower-case business parameter after the auth parameters; Signature is appended.
    assert keys == ["AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "clientOrderId", "Signature"]
    params = [(k, v) for k, v in parse_qsl(q2.query) if k != "Signature"]
    text = presign_text("GET", "api.huobi.pro", "/v1/order/orders/getClientOrder", canonical_query(params))
    expected = base64.b64encode(hmac.new(b"test-secret", text.encode(), hashlib.sha256).digest()).decode()
    assert dict(parse_qsl(q2.query))["Signature"] == expected


def test_requests_are_deterministic_and_secrets_redactable() -> None:
    venue = HTX()
    assert venue.build_cancel(oid("1"), CREDS, NOW) == venue.build_cancel(oid("1"), CREDS, NOW)
    req = venue.build_cancel(oid("1"), Credentials("my-secret-key-id", "s3cret"), NOW)
    redacted = redact_query(req.query, HTX.secret_params)
    assert "my-secret-key-id" not in redacted and "Signature=%2A%2A%2A" in redacted
    assert "s3cret" not in req.query and b"s3cret" not in (req.body or b"")
    assert HTX.secret_headers == frozenset()


def test_htxs_own_facts() -> None:
    # Registry, dialect rates and batch bounds: tests/venues/test_contract.py; size and rate: the README table.
    assert HTX.default_base_url == "https://api.huobi.pro"
    assert HTX.not_found_confirmations == 3 and HTX.forget_after_s == 2 * 3600.0
    # Accepted, then `canceling`; and the body carries ids only, so one request may span symbols.
    assert HTX.asynchronous_cancel and not HTX.pending_cancel_reads_open and not HTX.one_symbol_per_request


def test_time_request_and_reply() -> None:
    assert HTX().build_time() == HttpRequest("GET", "/v1/common/timestamp", endpoint="time")
    assert HTX().parse_time(reply({"status": "ok", "data": 1629715504949})) == 1629715504949  # docs sample


@pytest.mark.parametrize(
    "resp",
    [
        reply({"status": "ok", "data": True}),
        reply({"status": "ok", "data": "soon"}),
        reply({"status": "error", "data": 1629715504949}),
        reply({"status": "ok", "data": 1629715504949}, 503),
        reply(b'{"status":"ok","da'),
        reply([1, 2]),
    ],
)
def test_parse_time_garbage(resp: HttpResponse) -> None:
    assert HTX().parse_time(resp) is None


# -- the docs' own reply samples -----------------------------------------------------------------------

SEED_SUCCESS = {
    "status": "ok",
    "data": {
        "success": ["12345"],
        "failed": [
            {
                "err-msg": "Incorrect order state",
                "order-state": "7",
                "order-id": "357631450723117",
                "err-code": "order-orderstate-error",
                "client-order-id": "123456",
            }
        ],
    },
}

ORDER_DETAIL = {  # GET /v1/order/orders/{order-id} and getClientOrder success example
    "status": "ok",
    "data": {
        "id": 357632718898331,
        "symbol": "adausdt",
        "account-id": 13496526,
        "client-order-id": "23456",
        "amount": "5.000000000000000000",
        "price": "1.000000000000000000",
        "created-at": 1630649406687,
        "type": "buy-limit-maker",
        "field-amount": "0.0",
        "field-cash-amount": "0.0",
        "field-fees": "0.0",
        "finished-at": 0,
        "source": "spot-api",
        "state": "submitted",
        "canceled-at": 0,
    },
}


def test_seed_sample_by_client_ids() -> None:
    refs = cid("12345", "123456")  # the seed's request example
    out = HTX().parse_cancel(refs, reply(SEED_SUCCESS))
    assert out[refs[0]] == Outcome(Verdict.UNKNOWN, REASON_ACCEPTED)  # accepted, not cancelled: HTX is async
    assert out[refs[1]].verdict is Verdict.UNKNOWN and out[refs[1]].reason == REASON_AMBIGUOUS
    assert out[refs[1]].code == "order-orderstate-error" and "order-state 7" in (out[refs[1]].message or "")


def test_seed_sample_by_order_ids() -> None:
    refs = oid("12345", "357631450723117")
    out = HTX().parse_cancel(refs, reply(SEED_SUCCESS))
    assert out[refs[0]].reason == REASON_ACCEPTED
    assert out[refs[1]].code == "order-orderstate-error"
    assert all(o.verdict is Verdict.UNKNOWN for o in out.values())


def test_docs_order_detail_samples() -> None:
    venue = HTX()
    by_id = OrderRef("adausdt", order_id="357632718898331")
    assert venue.parse_query(by_id, reply(ORDER_DETAIL)) == Outcome(Verdict.OPEN, None, None, "submitted")
    by_client_id = OrderRef("adausdt", client_order_id="23456")
    assert venue.parse_query(by_client_id, reply(ORDER_DETAIL)) == Outcome(Verdict.OPEN, None, None, "submitted")


def test_observed_single_cancel_shape_with_numeric_state() -> None:
    # hummingbot#1993: order-state arrives as a number; a filled order's cancel is refused with state 6.
    resp = reply(
        {
            "status": "ok",
            "data": {
                "success": [],
                "failed": [
                    {
                        "order-id": "1",
                        "err-code": "order-orderstate-error",
                        "err-msg": "Incorrect order state",
                        "order-state": 6,
                    }
                ],
            },
        }
    )
    out = HTX().parse_cancel(oid("1"), resp)
    assert out[oid("1")[0]].verdict is Verdict.UNKNOWN and out[oid("1")[0]].reason == REASON_AMBIGUOUS


# -- per-order mapping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("-1", REASON_AMBIGUOUS),
        (-1, REASON_AMBIGUOUS),
        ("5", REASON_AMBIGUOUS),
        (5, REASON_AMBIGUOUS),
        ("6", REASON_AMBIGUOUS),
        (6, REASON_AMBIGUOUS),
        ("7", REASON_AMBIGUOUS),
        (7, REASON_AMBIGUOUS),
        ("10", REASON_CANCELLING),
        (10, REASON_CANCELLING),
        ("1", REASON_AMBIGUOUS),
        (3, REASON_AMBIGUOUS),
        ("4", REASON_AMBIGUOUS),
        (None, REASON_AMBIGUOUS),
        ("x", REASON_AMBIGUOUS),
        (True, REASON_AMBIGUOUS),
        (99, REASON_AMBIGUOUS),
    ],
)
def test_order_state_in_failed_entries(state: object, reason: str) -> None:
    entry = {"order-id": "9", "err-code": "order-orderstate-error", "err-msg": "Incorrect order state"}
    entry["order-state"] = state
    out = HTX().parse_cancel(oid("9"), reply({"status": "ok", "data": {"success": [], "failed": [entry]}}))
    outcome = out[oid("9")[0]]
    assert outcome.verdict is Verdict.UNKNOWN and outcome.reason == reason
    assert outcome.code == "order-orderstate-error"


@pytest.mark.parametrize(
    ("code", "verdict", "reason"),
    [
        ("base-record-invalid", Verdict.UNKNOWN, REASON_AMBIGUOUS),  # never final (fresh or forgotten orders)
        ("not-found", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        ("order-user-cancel-forbidden", Verdict.UNKNOWN, REASON_AMBIGUOUS),  # IOC/FOK: the query says how it ended
        ("cancel-disabled", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        ("order-fl-cancellation-is-disallowed", Verdict.FAILED, REASON_REFUSED),
        ("something-new", Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_other_failed_entries(code: str, verdict: Verdict, reason: str) -> None:
    entry = {"order-id": "9", "err-code": code, "err-msg": "m"}
    outcome = HTX().parse_cancel(oid("9"), reply({"status": "ok", "data": {"failed": [entry]}}))[oid("9")[0]]
    assert (outcome.verdict, outcome.reason, outcome.code, outcome.message) == (verdict, reason, code, "m")


def test_omitted_contradictory_and_numeric_ids() -> None:
    refs = oid("1", "2", "3", "4")
    resp = reply({"status": "ok", "data": {"success": [1, "2"], "failed": [{"order-id": 2, "err-code": "x"}]}})
    out = HTX().parse_cancel(refs, resp)
    assert out[refs[0]].reason == REASON_ACCEPTED  # numbers echoed back still match
    assert out[refs[1]].reason == REASON_AMBIGUOUS  # both accepted and refused: ask the venue
    assert out[refs[2]] == Outcome(Verdict.UNKNOWN, REASON_OMITTED)
    assert set(out) == set(refs)


def test_failed_entry_of_the_other_id_kind_does_not_match() -> None:
    refs = cid("7")
    entry = {"order-id": "7", "err-code": "order-orderstate-error", "order-state": 7}
    resp = reply({"status": "ok", "data": {"success": [], "failed": [entry]}})
    assert HTX().parse_cancel(refs, resp)[refs[0]].reason == REASON_OMITTED


# -- whole-request errors -----------------------------------------------------------------------------------

MSG_TIME = "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"


@pytest.mark.parametrize(
    ("resp", "kind"),
    [
        (
            err("api-signature-not-valid", "Signature not valid: Incorrect Access key [Access key错误]"),
            FailureKind.AUTH,
        ),
        (err("api-signature-not-valid", "Signature not valid: Verification failure [校验失败]"), FailureKind.AUTH),
        (
            err("api-signature-not-valid", "Signature not valid: Incorrect IP address [IP地址错误]:1.2.3.4"),
            FailureKind.AUTH,
        ),
        (err("api-signature-not-valid", MSG_TIME), FailureKind.CLOCK),
        (err("api-signature-not-valid", "Signature not valid: 无效的提交时间"), FailureKind.CLOCK),
        (err("login-required", "Signature is missing"), FailureKind.AUTH),
        (err("api-signature-check-failed", "x"), FailureKind.AUTH),
        (err("base-request-exceed-frequency-limit", "Frequency ... exceeded the limit"), FailureKind.RATE_LIMITED),
        (err("510", "You request too often, please try again later"), FailureKind.RATE_LIMITED),
        (err("base-system-error", "System internel error"), FailureKind.NOT_PROCESSED),
        (err("order-update-error", "order update error"), FailureKind.NOT_PROCESSED),
        (err("system-maintenance", "System is in maintenance!"), FailureKind.NOT_PROCESSED),
        (err("gateway-internal-error", "Failed to load data. Try again later."), FailureKind.UNKNOWN_OUTCOME),
        (err("base-request-timeout", "timeout"), FailureKind.UNKNOWN_OUTCOME),
        (err("batchcancel-order-id-list-empty", "empty"), FailureKind.REJECTED),
        (err("validation-format-error", "Format Error: order-id."), FailureKind.REJECTED),
        (err("invalid-parameter", "invalid symbol"), FailureKind.REJECTED),
        (err("cancel-disabled", "The symbol is pending"), FailureKind.REJECTED),
        (err("never-heard-of-it", "?"), FailureKind.UNKNOWN_OUTCOME),  # UNLISTED_ERROR_KIND
        (err("base-system-error", "x", 503), FailureKind.UNKNOWN_OUTCOME),  # a 5xx may have been applied
        (err("invalid-parameter", "x", 400), FailureKind.REJECTED),
        (reply(b"<html>Bad Gateway</html>", 502), FailureKind.UNKNOWN_OUTCOME),
        (reply(b"", 504), FailureKind.UNKNOWN_OUTCOME),
        (reply(b"", 403), FailureKind.AUTH),
        (reply(b"", 404), FailureKind.REJECTED),
        (reply(b"", 200), FailureKind.UNKNOWN_OUTCOME),
        (reply(b'{"status":"ok","data":{"succ', 200), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": None}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "weird"}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "error"}), FailureKind.UNKNOWN_OUTCOME),
    ],
)
def test_error_table(resp: HttpResponse, kind: FailureKind) -> None:
    result = HTX().parse_cancel(oid("1"), resp)
    assert isinstance(result, Failure) and result.kind is kind
    assert result.http_status == resp.status
    answer = HTX().parse_query(oid("1")[0], resp)  # the query classifies the same envelope the same way
    assert isinstance(answer, Failure) and answer.kind is kind


def test_rate_limit_carries_retry_after() -> None:
    resp = err("base-request-exceed-frequency-limit", "slow down", 429, {"retry-after": "3"})
    result = HTX().parse_cancel(oid("1"), resp)
    assert isinstance(result, Failure) and result.retry_after == 3.0
    assert result.code == "base-request-exceed-frequency-limit"


# -- queries ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "verdict", "reason"),
    [
        ("created", Verdict.OPEN, None),
        ("submitted", Verdict.OPEN, None),
        ("partial-filled", Verdict.OPEN, None),
        ("canceling", Verdict.UNKNOWN, REASON_CANCELLING),
        ("canceled", Verdict.CANCELLED, None),
        ("partial-canceled", Verdict.CANCELLED, None),
        ("filled", Verdict.FAILED, REASON_FILLED),
        ("pre-submitted", Verdict.UNKNOWN, REASON_AMBIGUOUS),
        ("CANCELED", Verdict.UNKNOWN, REASON_AMBIGUOUS),
    ],
)
def test_query_states(state: str, verdict: Verdict, reason: str | None) -> None:
    body = {"status": "ok", "data": {**ORDER_DETAIL["data"], "state": state}}
    outcome = HTX().parse_query(OrderRef("adausdt", order_id="357632718898331"), reply(body))
    assert isinstance(outcome, Outcome) and (outcome.verdict, outcome.reason) == (verdict, reason)


def test_query_about_another_order_is_not_believed() -> None:
    body = {"status": "ok", "data": {**ORDER_DETAIL["data"], "state": "canceled"}}
    assert HTX().parse_query(OrderRef("adausdt", order_id="1"), reply(body)).verdict is Verdict.UNKNOWN
    assert HTX().parse_query(OrderRef("adausdt", client_order_id="other"), reply(body)).verdict is Verdict.UNKNOWN


def test_query_not_found_is_reported_and_the_engine_decides() -> None:
    # freqtrade#7119 / ccxt#5750: the very reply HTX gives for a forgotten (cancelled > 2 h ago) order.
    # The adapter reports what HTX said; the engine believes it only after NOT_FOUND_CONFIRMATIONS
    # agreeing answers and only within FORGET_AFTER_S (tests/integration/test_engine.py).
    resp = err("base-record-invalid", "record invalid")
    expected = Outcome(Verdict.FAILED, REASON_NOT_FOUND, "base-record-invalid", "record invalid")
    assert HTX().parse_query(oid("1")[0], resp) == expected
    assert HTX.not_found_confirmations >= 2 and HTX.forget_after_s == 2 * 3600


# -- garbage never raises, never cancels -------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
envelopes = st.fixed_dictionaries(
    {"status": st.sampled_from(["ok", "error", None, 1]), "data": json_values},
    optional={"err-code": json_values, "err-msg": json_values},
) | st.fixed_dictionaries(
    {
        "status": st.just("ok"),
        "data": st.fixed_dictionaries(
            {},
            optional={
                "success": st.lists(st.sampled_from(["1", 1, "2", None, True, 1.0]) | json_values, max_size=4)
                | json_values,
                "failed": st.lists(
                    st.dictionaries(
                        st.sampled_from(["order-id", "client-order-id", "err-code", "err-msg", "order-state"]),
                        st.sampled_from(["1", "c1", 1, "10", "7", -1, "order-orderstate-error", None]) | json_values,
                        max_size=5,
                    )
                    | json_values,
                    max_size=4,
                )
                | json_values,
            },
        ),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=envelopes | json_values, status=st.sampled_from([200, 200, 200, 400, 429, 500, 503]))
def test_parsers_never_raise_and_cancel_never_says_cancelled(body: object, status: int) -> None:
    resp = reply(body, status)
    refs = oid("1", "2")
    for batch in (refs, cid("c1")):
        result = HTX().parse_cancel(batch, resp)
        if not isinstance(result, Failure):
            assert set(result) == set(batch)
            assert all(o.verdict is not Verdict.CANCELLED for o in result.values())
    for ref in (*refs, *cid("c1")):
        outcome = HTX().parse_query(ref, resp)
        assert isinstance(outcome, (Outcome, Failure))
        if isinstance(outcome, Outcome) and outcome.verdict is Verdict.CANCELLED:
            assert status == 200 and body["data"]["state"] in ("canceled", "partial-canceled")  # type: ignore[index]
    HTX().parse_time(resp)


@settings(max_examples=60, deadline=None)
@given(blob=st.binary(max_size=64))
def test_random_bytes(blob: bytes) -> None:
    resp = HttpResponse(200, blob)
    result = HTX().parse_cancel(oid("1"), resp)
    assert isinstance(result, Failure) or all(o.verdict is Verdict.UNKNOWN for o in result.values())
    assert isinstance(HTX().parse_query(oid("1")[0], resp), (Outcome, Failure))


def test_every_truncation_of_a_reply_is_an_unknown_outcome() -> None:
    body = json.dumps(SEED_SUCCESS).encode()
    for cut in range(len(body)):
        result = HTX().parse_cancel(cid("12345", "123456"), HttpResponse(200, body[:cut]))
        assert isinstance(result, Failure) and result.kind is FailureKind.UNKNOWN_OUTCOME


# -- end to end against the fake venue --------------------------------------------------------------------

ASYNC_DELAY_MS = 120  # long enough that an immediate query still sees "canceling"


@pytest.fixture(scope="module")
def fake():
    # Only the HTX dialect: these tests must not depend on the other venues' modules being importable.
    with FakeVenue(dialects=[HTXDialect()], async_delay_ms=ASYNC_DELAY_MS) as venue:
        yield venue


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(autouse=True)
def _clean(request):
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").reset()
    yield


def now_ms() -> int:
    return int(time.time() * 1000)


def send(http: requests.Session, fake: FakeVenue, req: HttpRequest) -> HttpResponse:
    r = http.request(req.method, fake.url + req.target, data=req.body, headers=dict(req.headers), timeout=5)
    return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


def query(http: requests.Session, fake: FakeVenue, ref: OrderRef) -> Outcome:
    venue = HTX(fake.url)
    outcome = venue.parse_query(ref, send(http, fake, venue.build_query(ref, CREDS, now_ms())))
    assert isinstance(outcome, Outcome), outcome
    return outcome


def ledger(fake: FakeVenue, order_id: str):
    order = fake.ledger.find("htx", order_id=order_id)
    assert order is not None
    return order


def settle() -> None:
    time.sleep(ASYNC_DELAY_MS / 1000 + 0.03)


def test_e2e_all_accepted_then_cancelled(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": str(i)} for i in (11, 12, 13)])
    venue, refs = HTX(fake.url), oid("11", "12", "13")
    result = venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, CREDS, now_ms())))
    assert result == {r: Outcome(Verdict.UNKNOWN, REASON_ACCEPTED) for r in refs}
    # Asynchronous: the query shows the cancel in progress, then done.
    assert query(http, fake, refs[0]).reason == REASON_CANCELLING
    settle()
    for ref in refs:
        assert query(http, fake, ref).verdict is Verdict.CANCELLED
    assert fake.order_status("htx") == {"11": "cancelled", "12": "cancelled", "13": "cancelled"}


def test_e2e_client_ids(fake, http) -> None:
    fake.seed(
        "htx",
        "ethusdt",
        [
            {"order_id": "21", "client_order_id": "cl-a"},
            {"order_id": "22", "client_order_id": "cl_b"},
        ],
    )
    venue, refs = HTX(fake.url), cid("cl-a", "cl_b", "cl-none", symbol="ethusdt")
    result = venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, CREDS, now_ms())))
    assert [result[r].reason for r in refs] == [REASON_ACCEPTED, REASON_ACCEPTED, REASON_AMBIGUOUS]
    settle()
    outcomes = [query(http, fake, r) for r in refs]
    assert [o.verdict for o in outcomes] == [Verdict.CANCELLED, Verdict.CANCELLED, Verdict.FAILED]


def test_e2e_mixed_batch_then_queries(fake, http) -> None:
    fake.seed(
        "htx",
        "btcusdt",
        [
            {"order_id": "31"},
            {"order_id": "32", "status": "filled"},
            {"order_id": "34", "status": "cancelled"},
        ],
    )
    venue, refs = HTX(fake.url), oid("31", "32", "33", "34")
    result = venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, CREDS, now_ms())))
    assert all(o.verdict is Verdict.UNKNOWN for o in result.values())
    codes = [result[r].code for r in refs]
    assert codes == [None, "order-orderstate-error", "base-record-invalid", "order-orderstate-error"]
    settle()
    verdicts = {r.order_id: query(http, fake, r) for r in refs}
    assert verdicts["31"].verdict is Verdict.CANCELLED
    assert (verdicts["32"].verdict, verdicts["32"].reason) == (Verdict.FAILED, REASON_FILLED)
    assert (verdicts["33"].verdict, verdicts["33"].reason) == (Verdict.FAILED, REASON_NOT_FOUND)  # never existed
    assert verdicts["34"].verdict is Verdict.CANCELLED
    assert [ledger(fake, i).cancel_requests for i in ("31", "32", "34")] == [1, 1, 1]


def test_e2e_second_cancel_while_cancelling(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "41"}])
    venue, refs = HTX(fake.url), oid("41")
    send(http, fake, venue.build_cancel(refs, CREDS, now_ms()))
    again = venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, CREDS, now_ms())))
    assert (again[refs[0]].verdict, again[refs[0]].reason) == (Verdict.UNKNOWN, REASON_CANCELLING)  # order-state 10


@pytest.mark.parametrize(
    "creds", [Credentials("test-key", "wrong-secret"), Credentials("who-is-this", "test-secret")], ids=["secret", "key"]
)
def test_e2e_wrong_credentials_change_nothing(fake, http, creds: Credentials) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "51"}])
    venue = HTX(fake.url)
    result = venue.parse_cancel(oid("51"), send(http, fake, venue.build_cancel(oid("51"), creds, now_ms())))
    assert isinstance(result, Failure) and result.kind is FailureKind.AUTH and result.code == "api-signature-not-valid"
    assert (ledger(fake, "51").status, ledger(fake, "51").cancel_requests) == ("open", 0)
    answer = venue.parse_query(oid("51")[0], send(http, fake, venue.build_query(oid("51")[0], creds, now_ms())))
    assert isinstance(answer, Failure) and answer.kind is FailureKind.AUTH


def test_e2e_signing_without_the_port_is_refused(fake, http) -> None:
    # The official SDK signs urlparse(url).hostname; on a non-default port the Host header carries the port.
    fake.seed("htx", "btcusdt", [{"order_id": "52"}])
    params = [
        ("AccessKeyId", "test-key"),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", utc_timestamp(now_ms())),
    ]
    sig = signature("test-secret", "POST", "127.0.0.1", "/v1/order/orders/batchcancel", params)
    req = HttpRequest(
        "POST",
        "/v1/order/orders/batchcancel",
        canonical_query(params) + "&Signature=" + encode(sig),
        b'{"order-ids":["52"]}',
        {"Content-Type": "application/json"},
    )
    result = HTX(fake.url).parse_cancel(oid("52"), send(http, fake, req))
    assert isinstance(result, Failure) and result.kind is FailureKind.AUTH
    assert ledger(fake, "52").cancel_requests == 0


def test_e2e_stale_timestamp_then_remeasure(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "61"}])
    venue = HTX(fake.url)
    stale = venue.parse_cancel(oid("61"), send(http, fake, venue.build_cancel(oid("61"), CREDS, now_ms() - 6 * 60_000)))
    assert isinstance(stale, Failure) and stale.kind is FailureKind.CLOCK
    assert ledger(fake, "61").cancel_requests == 0
    # The venue's clock jumps: our clock is now stale; re-measuring through the time endpoint fixes it.
    fake.fault("htx", "cancel", "clock_skew", offset_ms=10 * 60_000)
    skewed = venue.parse_cancel(oid("61"), send(http, fake, venue.build_cancel(oid("61"), CREDS, now_ms())))
    assert isinstance(skewed, Failure) and skewed.kind is FailureKind.CLOCK
    server_now = venue.parse_time(send(http, fake, venue.build_time()))
    assert server_now is not None and abs(server_now - now_ms() - 10 * 60_000) < 2000
    ok = venue.parse_cancel(oid("61"), send(http, fake, venue.build_cancel(oid("61"), CREDS, server_now)))
    assert ok == {oid("61")[0]: Outcome(Verdict.UNKNOWN, REASON_ACCEPTED)}


def test_e2e_forgotten_after_two_hours_answers_not_found(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "62", "status": "cancelled"}])
    venue, ref = HTX(fake.url), oid("62")[0]
    fake.fault("htx", "query", "clock_skew", offset_ms=3 * 3600_000)
    server_now = venue.parse_time(send(http, fake, venue.build_time()))
    outcome = venue.parse_query(ref, send(http, fake, venue.build_query(ref, CREDS, server_now)))
    assert outcome == Outcome(Verdict.FAILED, REASON_NOT_FOUND, "base-record-invalid", "record invalid")


def test_e2e_omit_fault(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": str(i)} for i in (71, 72, 73)])
    fake.fault("htx", "cancel", "omit")
    venue, refs = HTX(fake.url), oid("71", "72", "73")
    result = venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, CREDS, now_ms())))
    assert sorted(o.reason for o in result.values()) == [REASON_ACCEPTED, REASON_ACCEPTED, REASON_OMITTED]
    missing = next(r for r, o in result.items() if o.reason == REASON_OMITTED)
    settle()
    assert query(http, fake, missing).verdict is Verdict.CANCELLED


def test_e2e_rate_limit_and_server_errors(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "81"}])
    venue = HTX(fake.url)
    fake.fault("htx", "cancel", "status", status=429, retry_after=2)
    limited = venue.parse_cancel(oid("81"), send(http, fake, venue.build_cancel(oid("81"), CREDS, now_ms())))
    assert isinstance(limited, Failure) and limited.kind is FailureKind.RATE_LIMITED and limited.retry_after == 2.0
    fake.fault("htx", "cancel", "status", status=503)
    broken = venue.parse_cancel(oid("81"), send(http, fake, venue.build_cancel(oid("81"), CREDS, now_ms())))
    assert isinstance(broken, Failure) and broken.kind is FailureKind.UNKNOWN_OUTCOME and broken.http_status == 503
    assert (ledger(fake, "81").status, ledger(fake, "81").cancel_requests) == ("open", 0)


def test_e2e_malformed_reply_after_apply(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "82"}])
    fake.fault("htx", "cancel", "malformed")
    venue = HTX(fake.url)
    result = venue.parse_cancel(oid("82"), send(http, fake, venue.build_cancel(oid("82"), CREDS, now_ms())))
    assert isinstance(result, Failure) and result.kind is FailureKind.UNKNOWN_OUTCOME
    assert ledger(fake, "82").cancel_requests == 1  # it was applied: only a query can tell


def test_e2e_fill_before_cancel(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "83"}])
    fake.fault("htx", "cancel", "fill_before_cancel")
    venue, ref = HTX(fake.url), oid("83")[0]
    result = venue.parse_cancel([ref], send(http, fake, venue.build_cancel([ref], CREDS, now_ms())))
    assert result[ref].verdict is Verdict.UNKNOWN and "order-state 6" in (result[ref].message or "")
    assert query(http, fake, ref).reason == REASON_FILLED


def _raw_signed(method: str, path: str, *, host: str, extra: tuple[tuple[str, str], ...] = ()) -> str:
    """Sign the way ccxt does: keysort, urllib's urlencode (quote_plus), Signature appended urlencoded."""
    params = sorted(
        [
            ("AccessKeyId", "test-key"),
            ("SignatureMethod", "HmacSHA256"),
            ("SignatureVersion", "2"),
            ("Timestamp", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())),
            *extra,
        ]
    )
    auth = urlencode(params)
    text = "\n".join([method, host, path, auth])
    sig = base64.b64encode(hmac.new(b"test-secret", text.encode(), hashlib.sha256).digest()).decode()
    return auth + "&" + urlencode({"Signature": sig})


def test_e2e_ccxt_style_comma_joined_ids_are_accepted(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "91"}, {"order_id": "92"}])
    host = f"127.0.0.1:{fake.port}"
    signed = _raw_signed("POST", "/v1/order/orders/batchcancel", host=host)
    req = HttpRequest(
        "POST", "/v1/order/orders/batchcancel", signed, b'{"order-ids": "91,92"}', {"Content-Type": "application/json"}
    )
    result = HTX(fake.url).parse_cancel(oid("91", "92"), send(http, fake, req))
    assert all(o.reason == REASON_ACCEPTED for o in result.values())
    q = _raw_signed("GET", "/v1/order/orders/91", host=host)
    outcome = HTX(fake.url).parse_query(oid("91")[0], send(http, fake, HttpRequest("GET", "/v1/order/orders/91", q)))
    assert outcome.reason == REASON_CANCELLING


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"order-ids":["1"],"client-order-ids":["a"]}', "validation-format-error"),
        (b'{"order-ids":[]}', "batchcancel-order-id-list-empty"),
        (b"{}", "batchcancel-order-id-list-empty"),
        (json.dumps({"order-ids": [str(i) for i in range(1, 52)]}).encode(), "validation-format-error"),
        (b"not json", "validation-format-error"),
    ],
)
def test_e2e_malformed_requests_are_refused_and_change_nothing(fake, http, body: bytes, code: str) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "1"}])
    signed = HTX(fake.url).build_cancel(oid("1"), CREDS, now_ms()).query
    raw = HttpRequest("POST", "/v1/order/orders/batchcancel", signed, body, {"Content-Type": "application/json"})
    resp = send(http, fake, raw)
    result = HTX(fake.url).parse_cancel(oid("1"), resp)
    assert isinstance(result, Failure) and result.kind is FailureKind.REJECTED and result.code == code
    assert ledger(fake, "1").cancel_requests == 0


def test_e2e_get_with_body_is_forbidden(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "93"}])
    req = HTX(fake.url).build_query(oid("93")[0], CREDS, now_ms())
    resp = send(http, fake, HttpRequest(req.method, req.path, req.query, b"{}", {}, "query"))
    assert resp.status == 403


def test_e2e_cancel_all_open_orders(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "94"}, {"order_id": "95", "status": "filled"}])
    fake.seed("htx", "ethusdt", [{"order_id": "96"}])
    signed = _raw_signed("POST", "/v1/order/orders/batchCancelOpenOrders", host=f"127.0.0.1:{fake.port}")
    resp = send(
        http,
        fake,
        HttpRequest(
            "POST",
            "/v1/order/orders/batchCancelOpenOrders",
            signed,
            b'{"symbol":"btcusdt"}',
            {"Content-Type": "application/json"},
        ),
    )
    assert json.loads(resp.body) == {"status": "ok", "data": {"success-count": 1, "failed-count": 0, "next-id": -1}}
    assert [ledger(fake, i).status for i in ("94", "95", "96")] == ["cancelling", "filled", "open"]


def test_e2e_rate_limit_enforcement_answers_like_htx() -> None:
    with FakeVenue(dialects=[HTXDialect()], enforce_rate_limits=True) as venue, requests.Session() as http:
        adapter = HTX(venue.url)
        results = [
            adapter.parse_cancel(oid("1"), send(http, venue, adapter.build_cancel(oid("1"), CREDS, now_ms())))
            for _ in range(70)
        ]
        limited = [r for r in results if isinstance(r, Failure)]
        # 50 per 2 s (refill 25/s): a burst of 70 on loopback exceeds it.
        assert limited and all(r.kind is FailureKind.RATE_LIMITED for r in limited)
        assert all(isinstance(r, dict) for r in results[:50])


# -- listings: facts, requests, the docs' samples ------------------------------------------------------

OPEN_ORDERS_SAMPLE = {  # GET /v1/order/openOrders success example
    "status": "ok",
    "data": [
        {
            "symbol": "apnusdt",
            "source": "web",
            "price": "1.555550000000000000",
            "created-at": 1630633835224,
            "amount": "572.330000000000000000",
            "account-id": 13496526,
            "filled-cash-amount": "0.0",
            "client-order-id": "",
            "filled-amount": "0.0",
            "filled-fees": "0.0",
            "id": 357630527817871,
            "state": "submitted",
            "type": "sell-limit",
        }
    ],
}

ALGO_OPENING_SAMPLE = {  # GET /v2/algo-orders/opening success example
    "code": 200,
    "data": [
        {
            "lastActTime": 1630657250326,
            "orderOrigTime": 1630657250238,
            "symbol": "adausdt",
            "source": "api",
            "clientOrderId": "123",
            "orderSide": "buy",
            "orderType": "limit",
            "orderPrice": "0.1",
            "orderSize": "100",
            "accountId": 13496526,
            "timeInForce": "gtc",
            "stopPrice": "0.1",
            "orderStatus": "created",
        },
        {
            "lastActTime": 1630657243576,
            "orderOrigTime": 1630657243534,
            "symbol": "adausdt",
            "source": "api",
            "clientOrderId": "12",
            "orderSide": "buy",
            "orderType": "limit",
            "orderPrice": "0.1",
            "orderSize": "100",
            "accountId": 13496526,
            "timeInForce": "gtc",
            "stopPrice": "0.1",
            "orderStatus": "created",
        },
    ],
}

ACCOUNTS_SAMPLE = {  # GET /v1/account/accounts success example
    "status": "ok",
    "data": [
        {"id": 10000001, "type": "spot", "subtype": "", "state": "working"},
        {"id": 10000002, "type": "otc", "subtype": "", "state": "working"},
        {"id": 10000003, "type": "point", "subtype": "", "state": "working"},
    ],
}


def history_sample(*entries: dict) -> dict:
    """A GET /v1/order/history reply made of the docs' sample entry, varied per order."""
    base = ORDER_DETAIL["data"]  # the same order object as the order-detail sample
    return {"status": "ok", "data": [{**base, **e} for e in entries]}


def test_listing_facts() -> None:
    # The slowest listing endpoint (algo-orders/opening and order/history: 20 per 2 s) paces them all.
    assert HTX.list_rate == Rate(20, 2.0)
    assert HTX.list_kinds == frozenset(ListKind)  # algo orders have a list of their own
    assert HTX.list_needs_symbol == frozenset()
    assert 47 * 3600 < HTX.history_window_s < 48 * 3600  # "within 48 hours", a minute inside for clock drift


def test_account_lookup_request_and_docs_sample() -> None:
    creds = Credentials("e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx", "456")
    req = HTX().build_account_lookup(creds, NOW)
    assert (req.method, req.path, req.endpoint, req.body) == ("GET", "/v1/account/accounts", "account", None)
    query, sig = req.query.rsplit("&Signature=", 1)
    assert query == (
        "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256&SignatureVersion=2"
        "&Timestamp=2017-05-11T15%3A19%3A30"
    )
    text = "GET\napi.huobi.pro\n/v1/account/accounts\n" + query
    assert (
        dict(parse_qsl("s=" + sig))["s"]
        == base64.b64encode(hmac.new(b"456", text.encode(), hashlib.sha256).digest()).decode()
    )
    assert HTX().parse_account_lookup(reply(ACCOUNTS_SAMPLE)) == "10000001"  # the spot one, not the first listed


@pytest.mark.parametrize(
    ("accounts", "kind", "words"),
    [
        ([{"id": 1, "type": "otc", "state": "working"}], FailureKind.REJECTED, "no spot account"),
        ([{"id": 1, "type": "spot", "state": "lock"}], FailureKind.REJECTED, "not working"),
        ([{"id": "01", "type": "spot", "state": "working"}], FailureKind.UNKNOWN_OUTCOME, "account id"),
        ({"id": 1}, FailureKind.UNKNOWN_OUTCOME, "not a list"),
    ],
)
def test_account_lookup_without_a_working_spot_account(accounts: object, kind: FailureKind, words: str) -> None:
    got = HTX().parse_account_lookup(reply({"status": "ok", "data": accounts}))
    assert isinstance(got, Failure) and got.kind is kind and words in (got.message or ""), got


def test_account_lookup_errors_are_classified() -> None:
    venue = HTX()
    auth = venue.parse_account_lookup(err("api-signature-not-valid", "Signature not valid: Verification failure"))
    assert isinstance(auth, Failure) and auth.kind is FailureKind.AUTH
    html = venue.parse_account_lookup(reply(b"<html>bad gateway</html>", 502, {"content-type": "text/html"}))
    assert (
        isinstance(html, Failure)
        and html.kind is FailureKind.UNKNOWN_OUTCOME
        and "not htx's JSON" in (html.message or "")
    )


def test_open_listing_request_vector() -> None:
    creds = Credentials("e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx", "456")
    req = HTX().build_list(ListKind.OPEN, "btcusdt", creds, NOW, account="100009")
    assert (req.method, req.path, req.endpoint, req.body) == ("GET", "/v1/order/openOrders", "list_open", None)
    query, sig = req.query.rsplit("&Signature=", 1)
    # Every parameter of a GET is signed; the page size is the documented maximum.
    assert query == (
        "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256&SignatureVersion=2"
        "&Timestamp=2017-05-11T15%3A19%3A30&account-id=100009&size=500&symbol=btcusdt"
    )
    text = "GET\napi.huobi.pro\n/v1/order/openOrders\n" + query
    assert (
        dict(parse_qsl("s=" + sig))["s"]
        == base64.b64encode(hmac.new(b"456", text.encode(), hashlib.sha256).digest()).decode()
    )


def _params(req: HttpRequest) -> dict[str, str]:
    return {
        k: v
        for k, v in parse_qsl(req.query)
        if k not in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature")
    }


def test_listing_requests_and_their_cursors() -> None:
    venue = HTX()
    first = venue.build_list(ListKind.OPEN, None, CREDS, NOW, account="7")
    assert _params(first) == {"account-id": "7", "size": "500"}  # every symbol: no symbol parameter
    nxt = venue.build_list(ListKind.OPEN, None, CREDS, NOW, account="7", cursor="from=357630527817871")
    assert _params(nxt) == {"account-id": "7", "size": "500", "from": "357630527817871", "direct": "next"}
    algo = venue.build_list(ListKind.CONDITIONAL, "adausdt", CREDS, NOW, account="7", cursor="fromId=9585084")
    assert (algo.path, algo.endpoint) == ("/v2/algo-orders/opening", "list_conditional")
    assert _params(algo) == {"limit": "500", "accountId": "7", "fromId": "9585084", "symbol": "adausdt"}
    assert _params(venue.build_list(ListKind.CONDITIONAL, None, CREDS, NOW)) == {"limit": "500"}


@pytest.mark.parametrize(
    ("since_ms", "cursor", "start", "end"),
    [
        (NOW - 3_600_000, None, NOW - 3_600_000, None),
        (None, None, NOW - HISTORY_REACH_MS, None),  # the whole reach
        (NOW - 72 * 3_600_000, None, NOW - HISTORY_REACH_MS, None),  # clipped to 48 h (less a minute)
        (NOW + 5_000, None, NOW, None),  # a since in the future (clock skew) never makes start > now
        (NOW - 3_600_000, "end-time=1494515000000", NOW - 3_600_000, 1494515000000),
        (NOW - 60_000, "end-time=1494515000000", 1494515000000, 1494515000000),  # never start after end
    ],
)
def test_history_request_window(since_ms: int | None, cursor: str | None, start: int, end: int | None) -> None:
    req = HTX().build_list(ListKind.HISTORY, None, CREDS, NOW, since_ms=since_ms, cursor=cursor)
    assert (req.path, req.endpoint) == ("/v1/order/history", "list_history")
    params = _params(req)
    assert params.pop("start-time") == str(start)
    assert params.pop("end-time", None) == (None if end is None else str(end))
    assert params == {"direct": "next", "size": "1000"}


@pytest.mark.parametrize(
    ("kind", "symbol", "kw", "words"),
    [
        (ListKind.OPEN, "btcusdt", {}, "needs the spot account-id"),
        (ListKind.OPEN, "BTC-USDT", {"account": "1"}, "malformed symbol 'BTC-USDT'"),
        (ListKind.HISTORY, "btc usdt", {}, "malformed symbol"),
        (ListKind.OPEN, None, {"account": "abc"}, "account-id"),
        (ListKind.OPEN, None, {"account": "1", "cursor": "from=abc"}, "not a cursor of the open-orders listing"),
        (ListKind.OPEN, None, {"account": "1", "cursor": "fromId=5"}, "not a cursor"),  # another listing's cursor
        (ListKind.HISTORY, None, {"cursor": "end-time=-5"}, "not a cursor"),
        ("open", None, {"account": "1"}, "no such listing"),
    ],
)
def test_listing_input_errors(kind: object, symbol: str | None, kw: dict, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        HTX().build_list(kind, symbol, CREDS, NOW, **kw)  # type: ignore[arg-type]


def test_docs_open_orders_sample() -> None:
    page = HTX().parse_list(ListKind.OPEN, None, reply(OPEN_ORDERS_SAMPLE))
    assert page == ListPage(
        (
            ListedOrder(
                symbol="apnusdt",
                order_id="357630527817871",
                client_order_id=None,  # "" means none
                status=Outcome(Verdict.OPEN, None, None, "submitted"),
                conditional=False,
                side="sell",
                order_type="sell-limit",
                price="1.555550000000000000",
                quantity="572.330000000000000000",
                filled="0.0",
                created_ms=1630633835224,
                updated_ms=None,
            ),
        ),
        None,  # one entry of 500 asked: the last page
    )


def test_stop_limit_orders_on_the_ordinary_list_are_ordinary_orders() -> None:
    # Legacy stop-limit orders rest on openOrders and batchcancel reaches them: their ref must not be routed to
    # the algo endpoints (which would never find them), nor refused by validate as an order-id conditional ref.
    entry = {**OPEN_ORDERS_SAMPLE["data"][0], "type": "buy-stop-limit", "stop-price": "1.5", "operator": "lte"}  # type: ignore[index]
    page = HTX().parse_list(ListKind.OPEN, None, reply({"status": "ok", "data": [entry]}))
    assert isinstance(page, ListPage)
    order = page.orders[0]
    assert (order.conditional, order.side, order.order_type) == (False, "buy", "buy-stop-limit")
    ref = order.ref(separate_conditional=True)
    assert ref == OrderRef("apnusdt", order_id="357630527817871")
    HTX().validate([ref])
    assert HTX().build_cancel([ref], CREDS, NOW).path == "/v1/order/orders/batchcancel"


def test_docs_algo_opening_sample() -> None:
    page = HTX().parse_list(ListKind.CONDITIONAL, None, reply(ALGO_OPENING_SAMPLE))
    assert isinstance(page, ListPage) and page.cursor is None  # no nextId: no further page
    assert [(o.client_order_id, o.order_id, o.conditional) for o in page.orders] == [
        ("123", None, True),
        ("12", None, True),
    ]
    first = page.orders[0]
    assert first.status == Outcome(Verdict.OPEN, None, None, "created")
    assert (first.symbol, first.side, first.order_type, first.price, first.quantity) == (
        "adausdt",
        "buy",
        "limit",
        "0.1",
        "100",
    )
    assert (first.created_ms, first.updated_ms) == (1630657250238, 1630657250326)
    # Cancelled and queried by client id through the algo endpoints.
    assert first.ref(separate_conditional=True) == OrderRef("adausdt", client_order_id="123", conditional=True)
    HTX().validate([first.ref(separate_conditional=True)])
    more = HTX().parse_list(ListKind.CONDITIONAL, None, reply({**ALGO_OPENING_SAMPLE, "nextId": 9585084}))
    assert isinstance(more, ListPage) and more.cursor == "fromId=9585084"
    assert (
        HTX().build_list(ListKind.CONDITIONAL, None, CREDS, NOW, cursor=more.cursor).query.count("fromId=9585084") == 1
    )


@pytest.mark.parametrize(
    ("state", "verdict", "reason"),
    [
        ("submitted", Verdict.OPEN, None),
        ("created", Verdict.OPEN, None),
        ("partial-filled", Verdict.OPEN, None),
        ("canceling", Verdict.UNKNOWN, REASON_CANCELLING),
        ("canceled", Verdict.CANCELLED, None),
        ("partial-canceled", Verdict.CANCELLED, None),
        ("filled", Verdict.FAILED, REASON_FILLED),
        ("pre-submitted", Verdict.UNKNOWN, REASON_AMBIGUOUS),  # a word ccxt knows and the docs do not
    ],
)
def test_history_states_read_as_the_query_reads_them(state: str, verdict: Verdict, reason: str | None) -> None:
    page = HTX().parse_list(ListKind.HISTORY, None, reply(history_sample({"state": state})))
    assert isinstance(page, ListPage) and page.cursor is None
    status = page.orders[0].status
    assert (status.verdict, status.reason) == (verdict, reason)
    assert state in (status.message or "")  # the venue's own word
    # The same word in an order-detail reply reads the same.
    detail = {"status": "ok", "data": history_sample({"state": state})["data"][0]}
    as_query = HTX().parse_query(OrderRef("adausdt", order_id="357632718898331"), reply(detail))
    assert isinstance(as_query, Outcome) and (as_query.verdict, as_query.reason) == (verdict, reason)


def test_history_entry_fields_and_exact_ids() -> None:
    page = HTX().parse_list(
        ListKind.HISTORY,
        None,
        reply(
            history_sample(
                {
                    "id": 2**63 - 1,
                    "symbol": "ADAUSDT",
                    "state": "canceled",
                    "canceled-at": 1630649500000,
                    "finished-at": 1630649500001,
                    "field-amount": "1.5",
                }
            )
        ),
    )
    assert isinstance(page, ListPage)
    o = page.orders[0]
    assert o.order_id == "9223372036854775807"  # a JSON number keeps every digit
    assert o.symbol == "adausdt"  # spelled as validate accepts it
    assert (o.client_order_id, o.filled, o.updated_ms, o.order_type, o.side) == (
        "23456",
        "1.5",
        1630649500001,
        "buy-limit-maker",
        "buy",
    )


@pytest.mark.parametrize(
    ("kind", "entry", "words"),
    [
        (ListKind.OPEN, {"id": None}, "has no order id"),
        (ListKind.OPEN, {"id": 0}, "unreadable order id 0"),
        (ListKind.OPEN, {"id": "0123"}, "unreadable order id"),
        (ListKind.OPEN, {"id": 2**63}, "unreadable order id"),
        (ListKind.OPEN, {"id": True}, "unreadable order id"),
        (ListKind.OPEN, {"id": 1.5}, "unreadable order id"),
        (ListKind.OPEN, {"symbol": None}, "has no symbol"),
        (ListKind.OPEN, {"symbol": "btc/usdt"}, "unreadable symbol"),
        (ListKind.OPEN, {"client-order-id": "a b"}, "unreadable client-order-id"),
        (ListKind.HISTORY, {"symbol": ""}, "has no symbol"),
        (ListKind.CONDITIONAL, {"clientOrderId": ""}, "has no clientOrderId"),
        (ListKind.CONDITIONAL, {"clientOrderId": "x" * 65}, "unreadable clientOrderId"),
    ],
)
def test_an_unreadable_entry_makes_the_whole_page_a_failure(kind: ListKind, entry: dict, words: str) -> None:
    good = (
        ALGO_OPENING_SAMPLE
        if kind is ListKind.CONDITIONAL
        else (OPEN_ORDERS_SAMPLE if kind is ListKind.OPEN else history_sample({}))
    )
    first = {**good["data"][0], **entry}  # type: ignore[index]
    body = {**good, "data": [good["data"][0], first]}  # type: ignore[index]
    got = HTX().parse_list(kind, None, reply(body))
    assert isinstance(got, Failure) and got.kind is FailureKind.UNKNOWN_OUTCOME, got
    assert words in (got.message or "") and "entry 2" in (got.message or "") and "complete" in (got.message or "")


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (ListKind.OPEN, {"status": "ok", "data": {"id": 1}}),
        (ListKind.OPEN, {"status": "ok"}),
        (ListKind.HISTORY, {"status": "ok", "data": None}),
        (ListKind.HISTORY, {"status": "ok", "data": ["x"]}),
        (ListKind.CONDITIONAL, {"code": 200, "data": None}),
        (ListKind.CONDITIONAL, {"code": 200, "data": [], "nextId": "soon"}),
    ],
)
def test_a_non_list_where_a_list_belongs_is_a_failure(kind: ListKind, body: dict) -> None:
    got = HTX().parse_list(kind, None, reply(body))
    assert isinstance(got, Failure) and got.kind is FailureKind.UNKNOWN_OUTCOME


def _open_entries(ids: list[int]) -> dict:
    return {"status": "ok", "data": [{**OPEN_ORDERS_SAMPLE["data"][0], "id": i} for i in ids]}  # type: ignore[index]


def test_open_paging_a_full_page_continues_from_its_smallest_id() -> None:
    venue = HTX()
    full = venue.parse_list(ListKind.OPEN, None, reply(_open_entries(list(range(2000, 1500, -1)))))
    assert isinstance(full, ListPage) and len(full.orders) == 500 and full.cursor == "from=1501"
    short = venue.parse_list(ListKind.OPEN, None, reply(_open_entries(list(range(2000, 1501, -1)))))
    assert isinstance(short, ListPage) and short.cursor is None  # 499 < 500: the last page
    # The next page may repeat its `from` order (if HTX counts it inclusively), never list one above it.
    again = venue.parse_list(ListKind.OPEN, None, reply(_open_entries([1501, 1500])), cursor="from=1501")
    assert isinstance(again, ListPage) and again.cursor is None
    above = venue.parse_list(ListKind.OPEN, None, reply(_open_entries([1502, 1500])), cursor="from=1501")
    assert isinstance(above, Failure) and "above from=1501" in (above.message or "")
    # A full page in ascending order would send the next request the wrong way: refuse to guess.
    ascending = venue.parse_list(ListKind.OPEN, None, reply(_open_entries(list(range(1501, 2001)))))
    assert isinstance(ascending, Failure) and "descending" in (ascending.message or "")


def _history_entries(created: list[int], **extra: object) -> dict:
    body = history_sample(*({"id": 10_000 + n, "created-at": c} for n, c in enumerate(created)))
    return {**body, **extra}


def test_history_paging_ends_the_next_window_at_the_oldest_creation_time() -> None:
    venue = HTX()
    created = [NOW - n // 3 for n in range(1000)]  # three orders per millisecond, newest first
    full = venue.parse_list(ListKind.HISTORY, None, reply(_history_entries(created, **{"next-time": created[-1] - 1})))
    assert isinstance(full, ListPage) and full.cursor == f"end-time={min(created)}"  # inclusive: its siblings too
    # HTX's next-time alone also says there is more (when fewer than `size` came back, as the docs allow).
    partial = venue.parse_list(
        ListKind.HISTORY, None, reply(_history_entries([NOW, NOW - 5], **{"next-time": NOW - 6}))
    )
    assert isinstance(partial, ListPage) and partial.cursor == f"end-time={NOW - 5}"
    last = venue.parse_list(ListKind.HISTORY, None, reply(_history_entries([NOW, NOW - 5])), cursor=f"end-time={NOW}")
    assert isinstance(last, ListPage) and last.cursor is None
    stuck = venue.parse_list(ListKind.HISTORY, None, reply(_history_entries([NOW] * 1000)), cursor=f"end-time={NOW}")
    assert isinstance(stuck, Failure) and "one millisecond" in (stuck.message or "")
    later = venue.parse_list(ListKind.HISTORY, None, reply(_history_entries([NOW + 1])), cursor=f"end-time={NOW}")
    assert isinstance(later, Failure) and "after end-time" in (later.message or "")
    undated = _history_entries(created)
    del undated["data"][7]["created-at"]
    got = venue.parse_list(ListKind.HISTORY, None, reply(undated))
    assert isinstance(got, Failure) and "created-at" in (got.message or "")


@pytest.mark.parametrize(
    ("kind", "resp", "fkind", "code"),
    [
        (
            ListKind.OPEN,
            err("api-signature-not-valid", "Signature not valid: Incorrect Access key [Access key错误]"),
            FailureKind.AUTH,
            "api-signature-not-valid",
        ),
        (
            ListKind.HISTORY,
            err("invalid-interval", "Query window is zero, negative or greater than limitation"),
            FailureKind.REJECTED,
            "invalid-interval",
        ),
        (
            ListKind.HISTORY,
            err(
                "base-request-exceed-frequency-limit",
                "Frequency of requests has exceeded the limit",
                429,
                {"retry-after": "2"},
            ),
            FailureKind.RATE_LIMITED,
            "base-request-exceed-frequency-limit",
        ),
        (ListKind.CONDITIONAL, reply({"code": 1003, "message": "invalid signature"}), FailureKind.AUTH, "1003"),
        (ListKind.CONDITIONAL, reply({"code": 1002, "message": "unauthorized"}), FailureKind.AUTH, "1002"),
        (
            ListKind.CONDITIONAL,
            reply({"code": 1003, "message": "Signature not valid: Invalid submission time or incorrect time format"}),
            FailureKind.CLOCK,
            "1003",
        ),
        (
            ListKind.CONDITIONAL,
            reply({"code": 1006, "message": "Exceed rate limit"}, 429, {"retry-after": "3"}),
            FailureKind.RATE_LIMITED,
            "1006",
        ),
        (
            ListKind.CONDITIONAL,
            reply({"code": 2002, "message": "invalid parameter: limit"}),
            FailureKind.REJECTED,
            "2002",
        ),
        (
            ListKind.CONDITIONAL,
            reply({"code": 500, "message": "System error"}, 500),
            FailureKind.UNKNOWN_OUTCOME,
            "500",
        ),
        (ListKind.CONDITIONAL, reply({"code": 4321, "message": "new"}), FailureKind.UNKNOWN_OUTCOME, "4321"),
        # A gateway's v1 envelope on the v2 path is still HTX's word.
        (
            ListKind.CONDITIONAL,
            err("api-signature-not-valid", "Signature not valid: Verification failure [校验失败]"),
            FailureKind.AUTH,
            "api-signature-not-valid",
        ),
        (ListKind.CONDITIONAL, reply({"status": "ok", "data": []}), FailureKind.UNKNOWN_OUTCOME, None),
        (ListKind.OPEN, reply({"code": 200, "data": []}), FailureKind.UNKNOWN_OUTCOME, None),  # v2 shape on a v1 path
        (
            ListKind.OPEN,
            reply(b"<html>502</html>", 502, {"content-type": "text/html"}),
            FailureKind.UNKNOWN_OUTCOME,
            None,
        ),
        (
            ListKind.CONDITIONAL,
            reply(b"<html>404</html>", 404, {"content-type": "text/html"}),
            FailureKind.REJECTED,
            None,
        ),
    ],
)
def test_listing_errors_are_classified(
    kind: ListKind, resp: HttpResponse, fkind: FailureKind, code: str | None
) -> None:
    got = HTX().parse_list(kind, None, resp)
    assert isinstance(got, Failure) and (got.kind, got.code) == (fkind, code), got
    if fkind is FailureKind.RATE_LIMITED:
        assert got.retry_after is not None


listing_entries = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "symbol",
            "client-order-id",
            "clientOrderId",
            "orderId",
            "state",
            "orderStatus",
            "type",
            "created-at",
            "orderOrigTime",
            "amount",
            "price",
            "finished-at",
            "canceled-at",
            "updated-at",
            "filled-amount",
            "field-amount",
        ]
    ),
    st.sampled_from(
        ["btcusdt", "", "1", 1, 0, -1, 2**63, "submitted", "canceled", "buy-stop-limit", None, True, 1.5, "x y"]
    )
    | json_values,
    max_size=8,
)
listing_bodies = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["ok", "error", None]),
        "code": st.sampled_from([200, "200", 1003, None, True]),
        "data": st.lists(listing_entries | json_values, max_size=4) | json_values,
        "nextId": st.sampled_from([None, 1, "2", 0, -1, "x", True]),
        "next-time": st.sampled_from([None, 1, "2", 0, "x"]),
    },
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=listing_bodies,
    status=st.sampled_from([200, 200, 200, 400, 429, 503]),
    kind=st.sampled_from(list(ListKind)),
    cursor=st.sampled_from([None, "from=5", "fromId=5", "end-time=5", "junk"]),
)
def test_listing_parsers_never_raise(body: dict, status: int, kind: ListKind, cursor: str | None) -> None:
    got = HTX().parse_list(kind, None, reply(body, status), cursor=cursor)
    assert isinstance(got, (ListPage, Failure))
    if isinstance(got, ListPage):
        assert status == 200
        for o in got.orders:
            assert o.order_id is not None or o.client_order_id is not None
            # Everything listed can be cancelled and queried as it came (an algo order by client id, marked).
            ref = o.ref(separate_conditional=True)
            assert ref.conditional == (kind is ListKind.CONDITIONAL)
            HTX().validate([ref])
            HTX().build_cancel([ref], CREDS, NOW)
            HTX().build_query(ref, CREDS, NOW)
        if got.cursor is not None:
            HTX().build_list(kind, None, CREDS, NOW, cursor=got.cursor, account="1")  # and its cursor is usable
    assert isinstance(HTX().parse_account_lookup(reply(body, status)), (str, Failure))


# -- listings against the fake venue ------------------------------------------------------------------


def read_listing(
    http: requests.Session, fake: FakeVenue, kind: ListKind, symbol: str | None = None, *, since_ms: int | None = None
) -> list[ListPage]:
    """Every page of one listing, as a caller pages it: account lookup first, then cursor after cursor."""
    venue = HTX(fake.url)
    account = venue.parse_account_lookup(send(http, fake, venue.build_account_lookup(CREDS, now_ms())))
    assert account == str(ACCOUNT_ID)  # the spot account, not the otc or point one
    pages: list[ListPage] = []
    cursor = None
    for _ in range(20):
        req = venue.build_list(kind, symbol, CREDS, now_ms(), cursor=cursor, since_ms=since_ms, account=account)
        page = venue.parse_list(kind, symbol, send(http, fake, req), cursor=cursor)
        assert isinstance(page, ListPage), page
        pages.append(page)
        if page.cursor is None:
            return pages
        cursor = page.cursor
    raise AssertionError("the listing never reached its last page")


def listed(pages: list[ListPage]) -> dict[str, ListedOrder]:
    """The orders of all pages by id (order id, else client id); a repeat must agree with its first sighting."""
    out: dict[str, ListedOrder] = {}
    for page in pages:
        for o in page.orders:
            key = o.order_id or f"cid:{o.client_order_id}"
            assert out.setdefault(key, o).status == o.status
    return out


def test_e2e_open_listing_pages_through_more_than_500_orders(fake, http) -> None:
    mine = [
        o["order_id"] for o in fake.seed("htx", "btcusdt", [{"side": "sell" if i % 2 else "buy"} for i in range(1100)])
    ]
    algo = fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": f"algo-{i}"} for i in range(10)])
    other = [o["order_id"] for o in fake.seed("htx", "ethusdt", [{} for _ in range(20)])]
    fake.seed("htx", "btcusdt", [{"status": "filled"}, {"status": "cancelled"}])  # not open: never listed

    pages = read_listing(http, fake, ListKind.OPEN, "btcusdt")
    assert [len(p.orders) for p in pages] == [500, 500, 100]  # 500 per page, the documented maximum
    orders = listed(pages)
    assert set(orders) == set(mine)  # every open btcusdt order once; no algo order, no other symbol
    assert all(
        o.status == Outcome(Verdict.OPEN, None, None, "submitted") and not o.conditional for o in orders.values()
    )
    assert {o.side for o in orders.values()} == {"buy", "sell"} and {o.symbol for o in orders.values()} == {"btcusdt"}
    assert [r["endpoint"] for r in fake.requests("htx")] == ["account"] + ["list_open"] * 3

    everything = listed(read_listing(http, fake, ListKind.OPEN))  # no symbol: every symbol
    assert set(everything) == set(mine) | set(other)

    conditional = listed(read_listing(http, fake, ListKind.CONDITIONAL, "btcusdt"))
    assert {o.client_order_id for o in conditional.values()} == {o["client_order_id"] for o in algo}
    assert all(o.conditional and o.order_id is None and o.status.verdict is Verdict.OPEN for o in conditional.values())


def test_e2e_algo_listing_pages_by_next_id(fake, http) -> None:
    algo = fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": f"tp-{i}"} for i in range(620)])
    fake.seed("htx", "btcusdt", [{}])
    pages = read_listing(http, fake, ListKind.CONDITIONAL)
    assert [len(p.orders) for p in pages] == [500, 120]
    assert pages[0].cursor is not None and pages[0].cursor.startswith("fromId=")
    assert {o.client_order_id for o in listed(pages).values()} == {o["client_order_id"] for o in algo}


def test_e2e_algo_orders_are_out_of_the_trading_endpoints_reach(fake, http) -> None:
    fake.seed(
        "htx", "btcusdt", [{"order_id": "777", "client_order_id": "algo-x", "conditional": True}, {"order_id": "778"}]
    )
    venue = HTX(fake.url)
    # batchcancel by order id and by client id: HTX's trading side does not know an untriggered algo order.
    for refs in (oid("777"), cid("algo-x")):
        out = venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, CREDS, now_ms())))
        assert out[refs[0]].code == "base-record-invalid", out
        outcome = venue.parse_query(refs[0], send(http, fake, venue.build_query(refs[0], CREDS, now_ms())))
        assert outcome.reason == REASON_NOT_FOUND
    # batchCancelOpenOrders leaves it alone too; the ordinary order is cancelled.
    signed = _raw_signed("POST", "/v1/order/orders/batchCancelOpenOrders", host=f"127.0.0.1:{fake.port}")
    resp = send(
        http,
        fake,
        HttpRequest(
            "POST", "/v1/order/orders/batchCancelOpenOrders", signed, b"{}", {"Content-Type": "application/json"}
        ),
    )
    assert json.loads(resp.body)["data"] == {"success-count": 1, "failed-count": 0, "next-id": -1}
    assert (ledger(fake, "777").status, ledger(fake, "777").cancel_requests) == ("open", 0)
    assert ledger(fake, "778").status == "cancelling"
    assert set(listed(read_listing(http, fake, ListKind.OPEN))) == set()  # 778 is canceling: off the open list
    assert [o.client_order_id for o in listed(read_listing(http, fake, ListKind.CONDITIONAL)).values()] == ["algo-x"]


def test_e2e_history_states_and_htxs_memory(http) -> None:
    # A cancel accepted here takes a minute to apply, so the first listing sees it pending whatever the pace.
    with FakeVenue(dialects=[HTXDialect()], async_delay_ms=60_000) as fake:
        now = now_ms()
        fake.seed("htx", "btcusdt", [{"order_id": "501"}, {"order_id": "502", "status": "filled"}])
        fake.seed("htx", "btcusdt", [{"order_id": "503", "status": "cancelled"}, {"order_id": "504"}])
        fake.seed("htx", "btcusdt", [{"order_id": "505", "conditional": True, "client_order_id": "c-505"}])
        fake.seed("htx", "ethusdt", [{"order_id": "506", "status": "filled", "created_ms": now - 3 * 3600_000}])
        # An API order cancelled more than 2 h ago, and one created before the 48 h window: HTX lists neither.
        fake.seed("htx", "btcusdt", [{"order_id": "507", "status": "cancelled", "created_ms": now - 3 * 3600_000}])
        fake.seed("htx", "btcusdt", [{"order_id": "508", "status": "filled", "created_ms": now - 49 * 3600_000}])
        venue = HTX(fake.url)
        accepted = venue.parse_cancel(oid("504"), send(http, fake, venue.build_cancel(oid("504"), CREDS, now_ms())))
        assert accepted[oid("504")[0]].reason == REASON_ACCEPTED

        orders = listed(read_listing(http, fake, ListKind.HISTORY, since_ms=now - 72 * 3600_000))
        states = {i: (o.status.verdict, o.status.reason, o.status.message) for i, o in orders.items()}
        assert states == {
            "501": (Verdict.OPEN, None, "submitted"),
            "502": (Verdict.FAILED, REASON_FILLED, "filled"),
            "503": (Verdict.CANCELLED, None, "canceled"),
            "504": (Verdict.UNKNOWN, REASON_CANCELLING, "canceling"),  # accepted, not applied yet
            "506": (Verdict.FAILED, REASON_FILLED, "filled"),  # every symbol in one listing
        }
        # Two minutes later on the venue's clock (still inside the 5-minute Timestamp tolerance) it is applied.
        fake.fault("htx", "list_history", "clock_skew", offset_ms=120_000)
        again = listed(read_listing(http, fake, ListKind.HISTORY, "btcusdt", since_ms=now - 60_000))
        assert again["504"].status == Outcome(Verdict.CANCELLED, None, None, "canceled") and "506" not in again


def test_e2e_history_pages_by_creation_time(fake, http) -> None:
    start = now_ms() - 3600_000
    seeded = fake.seed("htx", "btcusdt", [{"created_ms": start + i // 3} for i in range(2100)])  # 3 per millisecond
    pages = read_listing(http, fake, ListKind.HISTORY, since_ms=start - 1000)
    assert len(pages) == 3 and [len(p.orders) for p in pages[:2]] == [1000, 1000]
    orders = listed(pages)  # a boundary millisecond is read twice, never skipped
    assert set(orders) == {o["order_id"] for o in seeded}
    assert sum(len(p.orders) for p in pages) > 2100


def test_e2e_a_malformed_entry_fails_the_whole_listing_page(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{} for _ in range(3)])
    fake.seed("htx", "BTC/USDT", [{}])  # a symbol HTX never spells so: the entry cannot be read
    venue = HTX(fake.url)
    req = venue.build_list(ListKind.OPEN, None, CREDS, now_ms(), account=str(ACCOUNT_ID))
    got = venue.parse_list(ListKind.OPEN, None, send(http, fake, req))
    assert isinstance(got, Failure) and got.kind is FailureKind.UNKNOWN_OUTCOME and "'BTC/USDT'" in (got.message or "")
    fake.fault("htx", "list_history", "malformed")
    req = venue.build_list(ListKind.HISTORY, "btcusdt", CREDS, now_ms())
    cut = venue.parse_list(ListKind.HISTORY, "btcusdt", send(http, fake, req))
    assert isinstance(cut, Failure) and cut.kind is FailureKind.UNKNOWN_OUTCOME


@pytest.mark.parametrize(
    ("kind", "path", "bad", "good", "code"),
    [
        (ListKind.OPEN, "/v1/order/openOrders", {"size": "501"}, {"size": "500"}, "invalid-parameter"),
        (ListKind.OPEN, "/v1/order/openOrders", {"size": "0"}, {"size": "1"}, "invalid-parameter"),
        (ListKind.HISTORY, "/v1/order/history", {"size": "1001"}, {"size": "1000"}, "invalid-parameter"),
        (ListKind.HISTORY, "/v1/order/history", {"size": "9"}, {"size": "10"}, "invalid-parameter"),  # [10-1000]
        (ListKind.CONDITIONAL, "/v2/algo-orders/opening", {"limit": "501"}, {"limit": "500"}, "2002"),
        (ListKind.CONDITIONAL, "/v2/algo-orders/opening", {"limit": "0"}, {"limit": "1"}, "2002"),
        # `direct` becomes mandatory once `from` is given (legacy docs).
        (
            ListKind.OPEN,
            "/v1/order/openOrders",
            {"from": "5"},
            {"from": "5", "direct": "next"},
            "validation-constraints-required",
        ),
        (ListKind.OPEN, "/v1/order/openOrders", {"limit": "5"}, {"size": "5"}, "invalid-parameter"),  # not its word
        (
            ListKind.OPEN,
            "/v1/order/openOrders",
            {"account-id": "1"},
            {"account-id": str(ACCOUNT_ID)},
            "account-get-accounts-inexistent-error",
        ),
        (ListKind.HISTORY, "/v1/order/history", {"start-time": "1"}, {"size": "10"}, "invalid-interval"),  # > 48 h
    ],
)
def test_e2e_the_fake_refuses_what_htx_documents_as_out_of_range(
    fake, http, kind: ListKind, path: str, bad: dict[str, str], good: dict[str, str], code: str
) -> None:
    fake.seed("htx", "btcusdt", [{}])
    host = f"127.0.0.1:{fake.port}"
    signed = _raw_signed("GET", path, host=host, extra=tuple(bad.items()))
    got = HTX(fake.url).parse_list(kind, None, send(http, fake, HttpRequest("GET", path, signed)))
    assert isinstance(got, Failure) and got.kind is FailureKind.REJECTED and got.code == code, got
    # The request within range is served: the refusal is about the range, not the signing.
    signed = _raw_signed("GET", path, host=host, extra=tuple(good.items()))
    assert isinstance(
        HTX(fake.url).parse_list(kind, None, send(http, fake, HttpRequest("GET", path, signed))), ListPage
    )


def test_e2e_history_reaches_48_hours_back_and_no_further(fake, http) -> None:
    host, now = f"127.0.0.1:{fake.port}", now_ms()
    fake.seed("htx", "btcusdt", [{"created_ms": now - 47 * 3600_000}])
    window = (("start-time", str(now - 49 * 3600_000)), ("end-time", str(now - 2 * 3600_000)))  # a 47 h window
    signed = _raw_signed("GET", "/v1/order/history", host=host, extra=window)
    got = HTX(fake.url).parse_list(
        ListKind.HISTORY, None, send(http, fake, HttpRequest("GET", "/v1/order/history", signed))
    )
    assert isinstance(got, Failure) and (got.kind, got.code) == (FailureKind.REJECTED, "invalid-start-time")
    # What the adapter asks for the same `since` is clipped inside the reach, and finds the order.
    assert len(listed(read_listing(http, fake, ListKind.HISTORY, since_ms=now - 49 * 3600_000))) == 1


@pytest.mark.parametrize("kind", list(ListKind))
def test_e2e_listing_auth_and_clock_refusals(fake, http, kind: ListKind) -> None:
    venue = HTX(fake.url)
    wrong = venue.build_list(kind, None, Credentials("test-key", "wrong"), now_ms(), account=str(ACCOUNT_ID))
    got = venue.parse_list(kind, None, send(http, fake, wrong))
    assert isinstance(got, Failure) and got.kind is FailureKind.AUTH, got
    stale = venue.build_list(kind, None, CREDS, now_ms() - 6 * 60_000, account=str(ACCOUNT_ID))
    got = venue.parse_list(kind, None, send(http, fake, stale))
    assert isinstance(got, Failure) and got.kind is FailureKind.CLOCK, got
    lookup = venue.parse_account_lookup(send(http, fake, venue.build_account_lookup(Credentials("who", "x"), now_ms())))
    assert isinstance(lookup, Failure) and lookup.kind is FailureKind.AUTH


def test_e2e_listing_faults_are_classified(fake, http) -> None:
    venue = HTX(fake.url)
    fake.fault("htx", "list_conditional", "status", status=429, retry_after=3)
    limited = venue.parse_list(
        ListKind.CONDITIONAL, None, send(http, fake, venue.build_list(ListKind.CONDITIONAL, None, CREDS, now_ms()))
    )
    assert isinstance(limited, Failure) and (limited.kind, limited.code, limited.retry_after) == (
        FailureKind.RATE_LIMITED,
        "1006",
        3.0,
    )
    fake.fault("htx", "list_history", "status", status=503)
    broken = venue.parse_list(
        ListKind.HISTORY, None, send(http, fake, venue.build_list(ListKind.HISTORY, None, CREDS, now_ms()))
    )
    assert isinstance(broken, Failure) and broken.kind is FailureKind.UNKNOWN_OUTCOME and broken.http_status == 503
    fake.fault("htx", "account", "status", status=429)
    lookup = venue.parse_account_lookup(send(http, fake, venue.build_account_lookup(CREDS, now_ms())))
    assert isinstance(lookup, Failure) and lookup.kind is FailureKind.RATE_LIMITED


def test_e2e_cancel_all_submits_at_most_100_and_names_the_next(fake, http) -> None:
    ids = [
        o["order_id"] for o in fake.seed("htx", "btcusdt", [{"side": "sell" if i < 5 else "buy"} for i in range(150)])
    ]
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": "keep-me"}])
    host = f"127.0.0.1:{fake.port}"

    def cancel_all(body: dict) -> dict:
        signed = _raw_signed("POST", "/v1/order/orders/batchCancelOpenOrders", host=host)
        req = HttpRequest(
            "POST",
            "/v1/order/orders/batchCancelOpenOrders",
            signed,
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        return json.loads(send(http, fake, req).body)

    # Refused as HTX documents: size outside [1, 100], more than 10 symbols; nothing changes.
    assert cancel_all({"size": 101})["err-code"] == "validation-format-error"
    eleven = ",".join(f"s{i}usdt" for i in range(11))
    assert cancel_all({"symbol": eleven})["err-code"] == "validation-format-error"
    assert cancel_all({"account-id": "1"})["status"] == "error"
    assert all(ledger(fake, i).cancel_requests == 0 for i in ids)

    assert (
        cancel_all({"symbol": "btcusdt", "side": "sell", "account-id": str(ACCOUNT_ID)})["data"]["success-count"] == 5
    )
    first = cancel_all({"symbol": "btcusdt"})["data"]
    assert (first["success-count"], first["failed-count"]) == (100, 0) and first["next-id"] == int(ids[105])
    # Only submitted: the cancels take effect later (asynchronous), and anything past 100 is still open.
    assert ledger(fake, ids[5]).status == "cancelling" and ledger(fake, ids[105]).status == "open"
    second = cancel_all({"symbol": "btcusdt"})["data"]
    assert (second["success-count"], second["next-id"]) == (45, -1)
    settle()
    status = fake.order_status("htx")  # settles the accepted cancels that are due
    assert {status[i] for i in ids} == {"cancelled"}
    algo = fake.ledger.find("htx", client_order_id="keep-me")
    assert algo is not None and (algo.status, algo.cancel_requests) == ("open", 0)


def test_e2e_listing_rate_limits_answer_like_htx() -> None:
    with FakeVenue(dialects=[HTXDialect()], enforce_rate_limits=True) as venue, requests.Session() as http:
        adapter = HTX(venue.url)
        results = [
            adapter.parse_list(
                ListKind.HISTORY, None, send(http, venue, adapter.build_list(ListKind.HISTORY, None, CREDS, now_ms()))
            )
            for _ in range(60)
        ]
        # order/history: 20 per 2 s (refill 10/s); a burst of 60 on loopback exceeds it unless it took 4 s.
        limited = [r for r in results if isinstance(r, Failure)]
        assert limited and all(r.kind is FailureKind.RATE_LIMITED for r in limited)
        assert all(isinstance(r, ListPage) for r in results[:20])


# -- conditional (algo) orders and the native cancel-all: facts, requests, replies -----------------------

ALGO_CANCEL_SAMPLE = {"code": 200, "data": {"accepted": ["zy0002", "zy0003"], "rejected": []}}  # docs sample
ALGO_SPECIFIC_SAMPLE = {  # GET /v2/algo-orders/specific success example
    "code": 200,
    "data": {
        "lastActTime": 1630656880512,
        "orderOrigTime": 1630656758442,
        "symbol": "adausdt",
        "source": "api",
        "orderStatus": "canceled",
        "clientOrderId": "1234567",
        "orderSide": "buy",
        "orderType": "limit",
        "orderPrice": "0.1",
        "orderSize": "100",
        "accountId": 13496526,
        "timeInForce": "gtc",
        "stopPrice": "0.1",
    },
}
CANCEL_ALL_SAMPLE = {"status": "ok", "data": {"success-count": 2, "failed-count": 0, "next-id": 5454600}}


def algo(*ids: str, symbol: str = "btcusdt") -> list[OrderRef]:
    return [OrderRef(symbol, client_order_id=i, conditional=True) for i in ids]


def v2(code: int, message: str, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return reply({"code": code, "message": message, "data": None}, status, headers)


def specific(**fields: object) -> HttpResponse:
    return reply({**ALGO_SPECIFIC_SAMPLE, "data": {**ALGO_SPECIFIC_SAMPLE["data"], **fields}})  # type: ignore[dict-item]


def _signed_text(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def test_kill_switch_facts() -> None:
    # batchCancelOpenOrders: "Rate Limit: 50times/2s", symbol optional (none: every symbol).
    assert HTX.cancel_all_rate == Rate(50, 2.0) and HTX.cancel_all_needs_symbol is False
    assert ListKind.CONDITIONAL in HTX.list_kinds  # algo orders are kept apart: conditional refs are routed


def test_validate_accepts_conditional_refs_by_client_id_only() -> None:
    HTX().validate([*algo("zy0002", "x" * 64), *oid("1"), *cid("zy0002")])
    bad = OrderRef("btcusdt", order_id="357630527817871", conditional=True)
    with pytest.raises(InputError) as exc:
        HTX().validate([*algo("ok-1"), bad, *algo("ok-2")])
    text = str(exc.value)
    assert "'357630527817871'" in text and "'btcusdt'" in text and "clientOrderId only" in text
    # The common checks still name a bad client id or symbol of a conditional ref.
    with pytest.raises(InputError, match="'a b'"):
        HTX().validate(algo("a b"))
    with pytest.raises(InputError, match="65 characters"):
        HTX().validate(algo("x" * 65))
    with pytest.raises(InputError, match="BTC/USDT"):
        HTX().validate(algo("ok", symbol="BTC/USDT"))


refs_mixes = st.lists(
    st.tuples(st.booleans(), st.booleans(), st.sampled_from(["btcusdt", "ethusdt", "adausdt"]), st.integers(1, 40)),
    max_size=160,
    unique=True,
)


@settings(max_examples=150, deadline=None)
@given(mix=refs_mixes, max_batch=st.sampled_from([None, 1, 7, 50]))
def test_plan_chunks_never_mixes_conditional_and_ordinary(mix: list, max_batch: int | None) -> None:
    refs = [
        OrderRef(sym, client_order_id=f"c{n}", conditional=True)
        if conditional
        else (OrderRef(sym, order_id=str(n)) if by_id else OrderRef(sym, client_order_id=f"c{n}"))
        for conditional, by_id, sym, n in mix
    ]
    venue = HTX(max_batch=max_batch)
    chunks = venue.plan_chunks(refs)
    assert sorted(map(str, (r for c in chunks for r in c))) == sorted(map(str, refs))  # each exactly once
    for chunk in chunks:
        assert 1 <= len(chunk) <= venue.max_batch <= 50
        assert len({r.conditional for r in chunk}) == 1 and len({r.kind for r in chunk}) == 1
        req = venue.build_cancel(chunk, CREDS, NOW)  # every chunk is a request HTX takes
        assert req.path == ("/v2/algo-orders/cancellation" if chunk[0].conditional else "/v1/order/orders/batchcancel")


def test_plan_chunks_splits_conditional_refs_at_the_algo_limit() -> None:
    refs = [*algo(*(f"a{i}" for i in range(60))), *cid(*(f"a{i}" for i in range(60)))]
    chunks = HTX().plan_chunks(refs)
    assert [(len(c), c[0].conditional) for c in chunks] == [(50, True), (10, True), (50, False), (10, False)]


def test_algo_cancel_request_vector() -> None:
    req = HTX().build_cancel(algo("zy0002", "zy0003", symbol="adausdt"), CREDS, NOW)
    assert (req.method, req.path, req.endpoint) == ("POST", "/v2/algo-orders/cancellation", "cancel")
    assert req.body == b'{"clientOrderIds":["zy0002","zy0003"]}'  # the docs' request example
    assert req.headers == {"Content-Type": "application/json"}
    auth = "AccessKeyId=test-key&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30"
    sig = _signed_text("test-secret", f"POST\napi.huobi.pro\n/v2/algo-orders/cancellation\n{auth}")
    assert req.query == auth + "&Signature=" + quote_all(sig)


def test_algo_query_request_vector() -> None:
    req = HTX().build_query(algo("zy0002")[0], CREDS, NOW)
    assert (req.method, req.path, req.endpoint, req.body) == ("GET", "/v2/algo-orders/specific", "query", None)
    params = (
        "AccessKeyId=test-key&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30"
        "&clientOrderId=zy0002"
    )
    sig = _signed_text("test-secret", f"GET\napi.huobi.pro\n/v2/algo-orders/specific\n{params}")
    assert req.query == params + "&Signature=" + quote_all(sig)


def quote_all(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.~" else f"%{ord(c):02X}" for c in text)


def test_ordinary_refs_keep_their_endpoints() -> None:
    assert HTX().build_cancel(cid("zy0002"), CREDS, NOW).path == "/v1/order/orders/batchcancel"
    assert HTX().build_query(cid("zy0002")[0], CREDS, NOW).path == "/v1/order/orders/getClientOrder"


@pytest.mark.parametrize(
    ("refs", "words"),
    [
        ([*algo("a"), *cid("b")], "cannot share one cancel request"),
        ([*cid("b"), *algo("a")], "cannot share one cancel request"),
        ([OrderRef("btcusdt", order_id="5", conditional=True)], "clientOrderId only"),
        (algo(*(f"a{i}" for i in range(51))), "at most 50"),
    ],
)
def test_build_cancel_refuses_what_the_algo_endpoint_cannot_take(refs: list[OrderRef], words: str) -> None:
    with pytest.raises(InputError, match=words):
        HTX().build_cancel(refs, CREDS, NOW)


def test_build_query_refuses_a_conditional_order_id() -> None:
    with pytest.raises(InputError, match="clientOrderId only, got order-id '5' on 'btcusdt'"):
        HTX().build_query(OrderRef("btcusdt", order_id="5", conditional=True), CREDS, NOW)


def test_docs_algo_cancel_sample_is_accepted_not_cancelled() -> None:
    refs = algo("zy0002", "zy0003")
    assert HTX().parse_cancel(refs, reply(ALGO_CANCEL_SAMPLE)) == {
        r: Outcome(Verdict.UNKNOWN, REASON_ACCEPTED, None, "accepted") for r in refs
    }


def test_algo_cancel_rejected_omitted_and_contradictory() -> None:
    refs = algo("acc", "rej", "both", "gone", "7")
    body = {"code": 200, "data": {"accepted": ["acc", "both", 7, True], "rejected": ["rej", "both"]}}
    got = HTX().parse_cancel(refs, reply(body))
    assert isinstance(got, dict)
    assert [(got[r].verdict, got[r].reason, got[r].message) for r in refs] == [
        (Verdict.UNKNOWN, REASON_ACCEPTED, "accepted"),
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "rejected"),  # no reason given: the query tells which
        (Verdict.UNKNOWN, REASON_AMBIGUOUS, "in accepted and rejected"),
        (Verdict.UNKNOWN, REASON_OMITTED, None),
        (Verdict.UNKNOWN, REASON_ACCEPTED, "accepted"),  # a number echoed for a numeric client id
    ]
    # Neither kind of ref reads the other endpoint's words: each is a reply that is not its endpoint's shape.
    ordinary = HTX().parse_cancel(cid("acc"), reply(body))
    assert isinstance(ordinary, Failure) and ordinary.kind is FailureKind.UNKNOWN_OUTCOME
    v1_body = {"status": "ok", "data": {"success": ["acc"], "failed": []}}
    conditional = HTX().parse_cancel(algo("acc"), reply(v1_body))
    assert isinstance(conditional, Failure) and conditional.kind is FailureKind.UNKNOWN_OUTCOME


@pytest.mark.parametrize(
    ("resp", "kind", "code"),
    [
        (v2(1003, "Signature is wrong"), FailureKind.AUTH, "1003"),
        (v2(1002, "Signature is missing or account id doesn't exist"), FailureKind.AUTH, "1002"),
        (v2(1003, MSG_TIME), FailureKind.CLOCK, "1003"),
        (v2(1006, "Exceed rate limit", 429, {"Retry-After": "2"}), FailureKind.RATE_LIMITED, "1006"),
        (v2(2002, "Specified parameter is missing or invalid"), FailureKind.REJECTED, "2002"),
        (v2(2003, "Trading is disabled"), FailureKind.REJECTED, "2003"),
        (v2(1007, "Record is not found"), FailureKind.UNKNOWN_OUTCOME, "1007"),  # a whole request: query each
        (v2(500, "System error", 503), FailureKind.UNKNOWN_OUTCOME, "500"),
        (err("base-request-exceed-frequency-limit", "too often", 429), FailureKind.RATE_LIMITED, None),
        (err("base-system-error", "System error", 503), FailureKind.UNKNOWN_OUTCOME, "base-system-error"),
        (reply({"code": 200, "data": None}), FailureKind.UNKNOWN_OUTCOME, None),
        (reply({"code": 200, "data": []}), FailureKind.UNKNOWN_OUTCOME, None),
        (reply({"status": "ok", "data": {"accepted": ["a"]}}), FailureKind.UNKNOWN_OUTCOME, None),
        (
            HttpResponse(502, b"<html>bad gateway</html>", {"content-type": "text/html"}),
            FailureKind.UNKNOWN_OUTCOME,
            None,
        ),
        (HttpResponse(404, b"<html>no</html>", {"content-type": "text/html"}), FailureKind.REJECTED, None),
        (HttpResponse(200, b'{"code":200,"data":{"accep'), FailureKind.UNKNOWN_OUTCOME, None),
    ],
)
def test_algo_cancel_failures_are_classified(resp: HttpResponse, kind: FailureKind, code: str | None) -> None:
    got = HTX().parse_cancel(algo("a"), resp)
    assert isinstance(got, Failure) and got.kind is kind, got
    if code is not None:
        assert got.code == code
    if kind is FailureKind.RATE_LIMITED and resp.status == 429 and resp.header("retry-after"):
        assert got.retry_after == 2.0


@pytest.mark.parametrize(
    ("fields", "verdict", "reason", "message"),
    [
        ({}, Verdict.CANCELLED, None, "canceled"),  # the docs' sample
        ({"orderStatus": "created"}, Verdict.OPEN, None, "created"),
        ({"orderStatus": "rejected", "errCode": 3008}, Verdict.FAILED, "expired", "rejected"),
        ({"orderStatus": "pending"}, Verdict.UNKNOWN, REASON_AMBIGUOUS, "state 'pending'"),
        ({"clientOrderId": "someone-else"}, Verdict.UNKNOWN, REASON_AMBIGUOUS, "the reply describes another order"),
    ],
)
def test_algo_query_states(fields: dict, verdict: Verdict, reason: str | None, message: str) -> None:
    got = HTX().parse_query(algo("1234567", symbol="adausdt")[0], specific(**fields))
    assert got == Outcome(verdict, reason, None, message)


def test_a_triggered_algo_order_was_not_cancelled() -> None:
    ref = algo("1234567", symbol="adausdt")[0]
    got = HTX().parse_query(ref, specific(orderStatus="triggered", orderId="356494413450321", orderCreateTime=1))
    assert isinstance(got, Outcome) and (got.verdict, got.reason) == (Verdict.FAILED, REASON_REFUSED)
    assert "not cancelled" in (got.message or "") and "356494413450321" in (got.message or "")
    for junk in (None, "x\x00y", "0123", True):
        bare = HTX().parse_query(ref, specific(orderStatus="triggered", orderId=junk))
        assert isinstance(bare, Outcome) and (bare.verdict, bare.reason) == (Verdict.FAILED, REASON_REFUSED)
        assert bare.message == "triggered: not cancelled, became an ordinary order (cancel that one by its order id)"
    # A listing reads the word the same way (never open, never cancelled).
    entry = {**ALGO_OPENING_SAMPLE["data"][0], "orderStatus": "triggered"}  # type: ignore[index]
    page = HTX().parse_list(ListKind.CONDITIONAL, None, reply({"code": 200, "data": [entry]}))
    assert isinstance(page, ListPage) and page.orders[0].status.verdict is Verdict.FAILED


@pytest.mark.parametrize(
    ("resp", "expected"),
    [
        (v2(1007, "Record is not found"), Outcome(Verdict.FAILED, REASON_NOT_FOUND, "1007", "Record is not found")),
        (reply({"code": 200, "data": None}), FailureKind.UNKNOWN_OUTCOME),  # no order: never a not-found
        (reply({"code": 200, "data": {"clientOrderId": "a"}}), FailureKind.UNKNOWN_OUTCOME),
        (v2(1003, "Signature is wrong"), FailureKind.AUTH),
        (v2(1003, MSG_TIME), FailureKind.CLOCK),
        (v2(1006, "Exceed rate limit", 429), FailureKind.RATE_LIMITED),
        (err("base-record-invalid", "record invalid"), FailureKind.UNKNOWN_OUTCOME),  # a v1 word: not algo's
        (HttpResponse(503, b""), FailureKind.UNKNOWN_OUTCOME),
    ],
)
def test_algo_query_not_found_and_failures(resp: HttpResponse, expected: Outcome | FailureKind) -> None:
    got = HTX().parse_query(algo("a")[0], resp)
    if isinstance(expected, Outcome):
        assert got == expected
    else:
        assert isinstance(got, Failure) and got.kind is expected, got


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "code": st.sampled_from([200, "200", 1007, 1003, None, True]),
            "status": st.sampled_from(["ok", "error", None]),
            "message": json_values,
            "data": st.fixed_dictionaries(
                {},
                optional={
                    "accepted": st.lists(st.sampled_from(["a", "b", 1, None, True, ["a"]]), max_size=3) | json_values,
                    "rejected": st.lists(st.sampled_from(["a", "b", 1, None]), max_size=3) | json_values,
                    "orderStatus": st.sampled_from(["created", "canceled", "triggered", "rejected", "x"]) | json_values,
                    "clientOrderId": st.sampled_from(["a", "b", None, 1]),
                    "orderId": json_values,
                },
            )
            | json_values,
        },
    ),
    status=st.sampled_from([200, 200, 400, 429, 503]),
)
def test_conditional_parsers_never_raise_and_a_cancel_never_says_cancelled(body: dict, status: int) -> None:
    refs = algo("a", "b")
    got = HTX().parse_cancel(refs, reply(body, status))
    if not isinstance(got, Failure):
        assert set(got) == set(refs) and all(o.verdict is Verdict.UNKNOWN for o in got.values())
    answer = HTX().parse_query(refs[0], reply(body, status))
    assert isinstance(answer, (Outcome, Failure))
    if isinstance(answer, Outcome) and answer.verdict is Verdict.CANCELLED:
        assert status == 200 and body["data"]["orderStatus"] == "canceled"


def test_cancel_all_request_vector() -> None:
    req = HTX().build_cancel_all("btcusdt", CREDS, NOW, account="13496526")
    assert (req.method, req.path, req.endpoint) == ("POST", "/v1/order/orders/batchCancelOpenOrders", "cancel_all")
    assert json.loads(req.body or b"") == {"account-id": "13496526", "symbol": "btcusdt", "size": 100}
    auth = "AccessKeyId=test-key&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30"
    sig = _signed_text("test-secret", f"POST\napi.huobi.pro\n/v1/order/orders/batchCancelOpenOrders\n{auth}")
    assert req.query == auth + "&Signature=" + quote_all(sig)
    every = HTX().build_cancel_all(None, CREDS, NOW, account="13496526")
    assert json.loads(every.body or b"") == {"account-id": "13496526", "size": 100}  # no symbol: every symbol


@pytest.mark.parametrize(
    ("symbol", "account", "words"),
    [
        ("btcusdt", None, "needs the spot account-id"),
        ("btcusdt", "12a", "account-id must be a decimal id"),
        ("btcusdt", "0", "account-id must be a decimal id"),
        ("BTC/USDT", "1", "malformed symbol 'BTC/USDT'"),
        ("btcusdt,ethusdt", "1", "malformed symbol"),  # one symbol per call (validate's spelling)
        ("", "1", "malformed symbol"),
    ],
)
def test_cancel_all_input_errors(symbol: str, account: str | None, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        HTX().build_cancel_all(symbol, CREDS, NOW, account=account)


@pytest.mark.parametrize(
    ("next_id", "more"),
    [(5454600, True), ("5454600", True), (-1, False), ("-1", False), (2**63 - 1, True)],
)
def test_parse_cancel_all_follows_next_id(next_id: object, more: bool) -> None:
    body = {**CANCEL_ALL_SAMPLE, "data": {**CANCEL_ALL_SAMPLE["data"], "next-id": next_id}}  # type: ignore[dict-item]
    assert HTX().parse_cancel_all("btcusdt", reply(body)) is more
    assert HTX().parse_cancel_all("btcusdt", reply(CANCEL_ALL_SAMPLE)) is True  # the docs' sample: more remain


@pytest.mark.parametrize(
    ("resp", "kind"),
    [
        (reply({"status": "ok", "data": {"success-count": 2, "failed-count": 0}}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": {"next-id": 0}}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": {"next-id": -2}}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": {"next-id": True}}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": {"next-id": "x"}}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": {"next-id": 2**63}}), FailureKind.UNKNOWN_OUTCOME),
        (reply({"status": "ok", "data": None}), FailureKind.UNKNOWN_OUTCOME),
        (err("api-signature-not-valid", "Signature not valid: Verification failure [校验失败]"), FailureKind.AUTH),
        (err("api-signature-not-valid", MSG_TIME), FailureKind.CLOCK),
        (err("base-request-exceed-frequency-limit", "too often", 429), FailureKind.RATE_LIMITED),
        (err("account-get-accounts-inexistent-error", "no such account"), FailureKind.REJECTED),
        (err("base-system-error", "System error"), FailureKind.NOT_PROCESSED),
        (HttpResponse(503, b""), FailureKind.UNKNOWN_OUTCOME),
        (HttpResponse(404, b"<html/>", {"content-type": "text/html"}), FailureKind.REJECTED),
    ],
)
def test_parse_cancel_all_failures(resp: HttpResponse, kind: FailureKind) -> None:
    got = HTX().parse_cancel_all(None, resp)
    assert isinstance(got, Failure) and got.kind is kind, got


@settings(max_examples=200, deadline=None)
@given(body=envelopes | json_values, status=st.sampled_from([200, 400, 429, 503]))
def test_parse_cancel_all_never_raises(body: object, status: int) -> None:
    got = HTX().parse_cancel_all(None, reply(body, status))
    assert isinstance(got, (bool, Failure))
    if isinstance(got, bool):
        assert status == 200


# -- conditional orders and the native cancel-all against the fake venue ----------------------------------


def cancel_algo(http: requests.Session, fake: FakeVenue, refs: list[OrderRef], creds: Credentials = CREDS, **kw):
    venue = HTX(fake.url)
    return venue.parse_cancel(refs, send(http, fake, venue.build_cancel(refs, creds, kw.get("now", now_ms()))))


def algo_order(fake: FakeVenue, client_order_id: str):
    order = next(
        (o for o in fake.ledger.listing("htx", conditional=True) if o.client_order_id == client_order_id), None
    )
    assert order is not None
    return order


def test_e2e_conditional_orders_are_cancelled_by_the_adapters_requests_and_confirmed_by_query(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": f"bot-tp-{i}"} for i in range(60)])
    fake.seed("htx", "ethusdt", [{"conditional": True, "client_order_id": "bot-eth"}])
    # Ordinary orders, one of them with an algo order's client id: the algo endpoints never touch them.
    plain = fake.seed("htx", "btcusdt", [{"client_order_id": "bot-tp-0"}, {}])
    venue = HTX(fake.url)
    listed_orders = [o for page in read_listing(http, fake, ListKind.CONDITIONAL) for o in page.orders]
    refs = [o.ref(separate_conditional=True) for o in listed_orders]
    assert len(refs) == 61 and all(r.conditional and r.client_order_id for r in refs)
    venue.validate(refs)
    chunks = venue.plan_chunks(refs)
    assert sorted(len(c) for c in chunks) == [11, 50]  # one request may span symbols (the body has no symbol)
    for chunk in chunks:
        result = venue.parse_cancel(chunk, send(http, fake, venue.build_cancel(chunk, CREDS, now_ms())))
        assert result == {r: Outcome(Verdict.UNKNOWN, REASON_ACCEPTED, None, "accepted") for r in chunk}
    # Every order is confirmed by the venue's word about it: the query.
    assert {query(http, fake, r) for r in refs} == {ALGO_CANCELLED}
    assert {o.status for o in fake.ledger.listing("htx", conditional=True)} == {"cancelled"}
    assert all(o.cancel_requests == 1 for o in fake.ledger.listing("htx", conditional=True))
    assert [(ledger(fake, o["order_id"]).status, ledger(fake, o["order_id"]).cancel_requests) for o in plain] == [
        ("open", 0),
        ("open", 0),
    ]
    sent = [
        (r["method"], r["path"], r["endpoint"]) for r in fake.requests("htx") if r["endpoint"] in ("cancel", "query")
    ]
    assert {s for s in sent} == {
        ("POST", "/v2/algo-orders/cancellation", "cancel"),
        ("GET", "/v2/algo-orders/specific", "query"),
    }
    assert read_listing(http, fake, ListKind.CONDITIONAL)[0].orders == ()  # the algo list is empty now


ALGO_CANCELLED = Outcome(Verdict.CANCELLED, None, None, "canceled")


def test_e2e_rejections_are_settled_by_the_query(fake, http) -> None:
    fake.seed(
        "htx",
        "btcusdt",
        [
            {"conditional": True, "client_order_id": "a-open"},
            {"conditional": True, "client_order_id": "a-done", "status": "cancelled"},
            {"conditional": True, "client_order_id": "a-trig", "status": "filled"},  # triggered (and filled)
        ],
    )
    fake.seed("htx", "btcusdt", [{"client_order_id": "plain"}])  # an ordinary order: not an algo order
    refs = algo("a-open", "a-done", "a-trig", "a-none", "plain")
    result = cancel_algo(http, fake, refs)
    assert isinstance(result, dict)
    assert [result[r].reason for r in refs] == [REASON_ACCEPTED] + [REASON_AMBIGUOUS] * 4
    answers = {r.client_order_id: query(http, fake, r) for r in refs}
    assert answers["a-open"] == ALGO_CANCELLED and answers["a-done"] == ALGO_CANCELLED
    trig = answers["a-trig"]
    assert (trig.verdict, trig.reason) == (Verdict.FAILED, REASON_REFUSED)
    assert "not cancelled" in (trig.message or "") and algo_order(fake, "a-trig").order_id in (trig.message or "")
    for missing in ("a-none", "plain"):
        assert (answers[missing].verdict, answers[missing].reason, answers[missing].code) == (
            Verdict.FAILED,
            REASON_NOT_FOUND,
            "1007",
        )
    assert fake.ledger.find("htx", client_order_id="plain").cancel_requests == 0
    assert algo_order(fake, "a-trig").status == "filled"


def test_e2e_an_algo_order_that_triggers_before_the_cancel_is_never_reported_cancelled(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": "race"}])
    fake.fault("htx", "cancel", "fill_before_cancel")
    ref = algo("race")[0]
    assert cancel_algo(http, fake, [ref]) == {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "rejected")}
    answer = query(http, fake, ref)
    assert (answer.verdict, answer.reason) == (Verdict.FAILED, REASON_REFUSED) and "triggered" in (answer.message or "")


def test_e2e_faults_on_cancel_and_query_hit_the_algo_endpoints(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": f"f{i}"} for i in range(4)])
    fake.fault("htx", "cancel", "status", status=429, retry_after=2)
    limited = cancel_algo(http, fake, algo("f0"))
    assert isinstance(limited, Failure) and limited.kind is FailureKind.RATE_LIMITED and limited.retry_after == 2.0
    fake.fault("htx", "cancel", "status", status=503)
    broken = cancel_algo(http, fake, algo("f0"))
    assert isinstance(broken, Failure) and broken.kind is FailureKind.UNKNOWN_OUTCOME
    assert (algo_order(fake, "f0").status, algo_order(fake, "f0").cancel_requests) == ("open", 0)
    fake.fault("htx", "cancel", "malformed")
    applied = cancel_algo(http, fake, algo("f1"))
    assert isinstance(applied, Failure) and applied.kind is FailureKind.UNKNOWN_OUTCOME
    assert algo_order(fake, "f1").status == "cancelled"  # it was applied: only the query can tell
    fake.fault("htx", "cancel", "omit")
    refs = algo("f2", "f3")
    omitted = cancel_algo(http, fake, refs)
    assert isinstance(omitted, dict) and sorted(o.reason for o in omitted.values()) == [REASON_ACCEPTED, REASON_OMITTED]
    fake.fault("htx", "query", "status", status=503)
    venue = HTX(fake.url)
    failed = venue.parse_query(refs[0], send(http, fake, venue.build_query(refs[0], CREDS, now_ms())))
    assert isinstance(failed, Failure) and failed.kind is FailureKind.UNKNOWN_OUTCOME
    assert {query(http, fake, r) for r in algo("f1", "f2", "f3")} == {ALGO_CANCELLED}


@pytest.mark.parametrize(
    ("creds", "offset_ms", "kind"),
    [
        (Credentials("test-key", "wrong-secret"), 0, FailureKind.AUTH),
        (Credentials("who-is-this", "test-secret"), 0, FailureKind.AUTH),
        (CREDS, -10 * 60_000, FailureKind.CLOCK),
    ],
    ids=["secret", "key", "stale"],
)
def test_e2e_algo_endpoints_check_the_signature(fake, http, creds: Credentials, offset_ms: int, kind) -> None:
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": "sig"}])
    ref = algo("sig")[0]
    venue = HTX(fake.url)
    refused = venue.parse_cancel([ref], send(http, fake, venue.build_cancel([ref], creds, now_ms() + offset_ms)))
    assert isinstance(refused, Failure) and refused.kind is kind and refused.code in ("1002", "1003"), refused
    answer = venue.parse_query(ref, send(http, fake, venue.build_query(ref, creds, now_ms() + offset_ms)))
    assert isinstance(answer, Failure) and answer.kind is kind
    assert (algo_order(fake, "sig").status, algo_order(fake, "sig").cancel_requests) == ("open", 0)


@pytest.mark.parametrize(
    "body",
    [
        b'{"clientOrderIds":[' + b",".join(b'"x%d"' % i for i in range(51)) + b"]}",
        b'{"clientOrderIds":[]}',
        b'{"clientOrderIds":"sig"}',
        b'{"clientOrderIds":[7]}',
        b'{"client-order-ids":["sig"]}',
        b'{"clientOrderIds":["sig"],"orderIds":["1"]}',
        b"[]",
        b"",
    ],
)
def test_e2e_the_fake_refuses_algo_cancels_htx_would_refuse(fake, http, body: bytes) -> None:
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": "sig"}])
    signed = _raw_signed("POST", "/v2/algo-orders/cancellation", host=f"127.0.0.1:{fake.port}")
    req = HttpRequest("POST", "/v2/algo-orders/cancellation", signed, body, {"Content-Type": "application/json"})
    got = HTX(fake.url).parse_cancel(algo("sig"), send(http, fake, req))
    assert isinstance(got, Failure) and (got.kind, got.code) == (FailureKind.REJECTED, "2002")
    assert algo_order(fake, "sig").cancel_requests == 0


def test_e2e_the_algo_query_wants_exactly_a_client_id(fake, http) -> None:
    host = f"127.0.0.1:{fake.port}"
    for extra in ((), (("clientOrderId", "a"), ("orderId", "1"))):
        signed = _raw_signed("GET", "/v2/algo-orders/specific", host=host, extra=extra)
        got = HTX(fake.url).parse_query(
            algo("a")[0], send(http, fake, HttpRequest("GET", "/v2/algo-orders/specific", signed))
        )
        assert isinstance(got, Failure) and (got.kind, got.code) == (FailureKind.REJECTED, "2002")


def test_e2e_an_algo_cancel_applied_later_reads_created_until_then(http) -> None:
    # HTX's algo cancellation may be applied after it answers (UNCONFIRMED): then the order still reads created,
    # which is "send it again", and only the query after it took effect says cancelled. A 60 s delay and a clock
    # step instead of sleeping: nothing here depends on timing.
    with FakeVenue(dialects=[HTXDialect(algo_cancel_async=True)], async_delay_ms=60_000) as fake:
        fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": "slow"}])
        ref = algo("slow")[0]
        assert cancel_algo(http, fake, [ref])[ref].reason == REASON_ACCEPTED
        assert query(http, fake, ref) == Outcome(Verdict.OPEN, None, None, "created")
        assert [o.client_order_id for p in read_listing(http, fake, ListKind.CONDITIONAL) for o in p.orders] == ["slow"]
        again = cancel_algo(http, fake, [ref])
        assert again == {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "rejected")}  # already under way
        fake.fault("htx", "time", "clock_skew", offset_ms=61_000)
        venue = HTX(fake.url)
        late = venue.parse_query(ref, send(http, fake, venue.build_query(ref, CREDS, now_ms() + 61_000)))
        assert late == ALGO_CANCELLED
        assert (algo_order(fake, "slow").status, algo_order(fake, "slow").cancel_requests) == ("cancelled", 2)


def _cancel_all_loop(http: requests.Session, fake: FakeVenue, symbol: str | None) -> list[bool | Failure]:
    """batchCancelOpenOrders the way a caller must use it: account lookup, then again while next-id != -1."""
    venue = HTX(fake.url)
    account = venue.parse_account_lookup(send(http, fake, venue.build_account_lookup(CREDS, now_ms())))
    assert isinstance(account, str)
    out: list[bool | Failure] = []
    for _ in range(10):
        more = venue.parse_cancel_all(
            symbol, send(http, fake, venue.build_cancel_all(symbol, CREDS, now_ms(), account=account))
        )
        out.append(more)
        if more is not True:
            return out
    raise AssertionError("next-id never reached -1")


def test_e2e_native_cancel_all_loops_on_next_id_and_leaves_other_symbols_and_algo_orders(fake, http) -> None:
    btc = [o["order_id"] for o in fake.seed("htx", "btcusdt", [{} for _ in range(150)])]
    eth = [o["order_id"] for o in fake.seed("htx", "ethusdt", [{} for _ in range(20)])]
    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": f"keep-{i}"} for i in range(10)])
    assert _cancel_all_loop(http, fake, "btcusdt") == [True, False]  # 100, then the last 50 and next-id -1
    sent = [r for r in fake.requests("htx") if r["endpoint"] == "cancel_all"]
    assert [r["path"] for r in sent] == ["/v1/order/orders/batchCancelOpenOrders"] * 2
    # Each submitted once (HTX applies them later: cancelling, or cancelled once the fake's delay passed).
    assert {ledger(fake, i).cancel_requests for i in btc} == {1}
    assert {ledger(fake, i).status for i in btc} <= {"cancelling", "cancelled"}
    assert {(ledger(fake, i).status, ledger(fake, i).cancel_requests) for i in eth} == {("open", 0)}
    assert {(o.status, o.cancel_requests) for o in fake.ledger.listing("htx", conditional=True)} == {("open", 0)}
    # Every symbol: the ethusdt orders go; the algo orders stay (a kill switch cancels them by client id).
    assert _cancel_all_loop(http, fake, None) == [False]
    assert {(ledger(fake, i).status, ledger(fake, i).cancel_requests) for i in eth} == {("cancelling", 1)}
    assert {(o.status, o.cancel_requests) for o in fake.ledger.listing("htx", conditional=True)} == {("open", 0)}
    settle()
    status = fake.order_status("htx")
    assert {status[i] for i in btc + eth} == {"cancelled"}


def test_e2e_native_cancel_all_failures(fake, http) -> None:
    ids = [o["order_id"] for o in fake.seed("htx", "btcusdt", [{}, {}])]
    venue = HTX(fake.url)

    def strike(creds: Credentials = CREDS, account: str = str(ACCOUNT_ID), offset_ms: int = 0) -> bool | Failure:
        req = venue.build_cancel_all("btcusdt", creds, now_ms() + offset_ms, account=account)
        return venue.parse_cancel_all("btcusdt", send(http, fake, req))

    other = strike(account="1")  # not the key's account: refused, nothing cancelled
    assert isinstance(other, Failure) and (other.kind, other.code) == (
        FailureKind.REJECTED,
        "account-get-accounts-inexistent-error",
    )
    wrong = strike(Credentials("test-key", "wrong-secret"))
    assert isinstance(wrong, Failure) and wrong.kind is FailureKind.AUTH
    stale = strike(offset_ms=-10 * 60_000)
    assert isinstance(stale, Failure) and stale.kind is FailureKind.CLOCK
    fake.fault("htx", "cancel_all", "status", status=429, retry_after=1)
    limited = strike()
    assert isinstance(limited, Failure) and limited.kind is FailureKind.RATE_LIMITED and limited.retry_after == 1.0
    assert {(ledger(fake, i).status, ledger(fake, i).cancel_requests) for i in ids} == {("open", 0)}
    fake.fault("htx", "cancel_all", "malformed")
    unknown = strike()  # applied, but the reply is cut: it may have been, and nothing is settled by it
    assert isinstance(unknown, Failure) and unknown.kind is FailureKind.UNKNOWN_OUTCOME
    assert {ledger(fake, i).status for i in ids} == {"cancelling"}


def test_e2e_the_fake_refuses_cancel_all_fields_htx_does_not_document(fake, http) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "901"}])
    signed = _raw_signed("POST", "/v1/order/orders/batchCancelOpenOrders", host=f"127.0.0.1:{fake.port}")
    req = HttpRequest(
        "POST",
        "/v1/order/orders/batchCancelOpenOrders",
        signed,
        b'{"symbols":"btcusdt"}',
        {"Content-Type": "application/json"},
    )
    got = HTX(fake.url).parse_cancel_all(None, send(http, fake, req))
    assert isinstance(got, Failure) and (got.kind, got.code) == (FailureKind.REJECTED, "invalid-parameter")
    assert ledger(fake, "901").cancel_requests == 0


def test_e2e_client_cancels_conditional_orders_through_the_engine(fake, tmp_path) -> None:
    from safecancel import Client, VenueConfig
    from safecancel.engine import RetryPolicy

    fake.seed("htx", "btcusdt", [{"conditional": True, "client_order_id": f"eng-{i}"} for i in range(12)])
    plain = fake.seed("htx", "btcusdt", [{"client_order_id": "eng-plain"}])[0]["order_id"]
    refs = [*algo(*(f"eng-{i}" for i in range(12))), OrderRef("btcusdt", order_id=plain)]
    client = Client(
        str(tmp_path / "journal.db"),
        venues=[VenueConfig("htx", credentials=CREDS, base_url=fake.url)],
        retry=RetryPolicy(base_delay=0.01, max_delay=0.2),
        environ={},
    )
    try:
        result = client.cancel("htx", orders=refs, deadline=30)
    finally:
        client.close()
    assert result.finished and result.all_cancelled, result.attention
    assert sorted(o.conditional for o in result.orders) == [False] + [True] * 12
    assert {o.status for o in fake.ledger.listing("htx", conditional=True)} == {"cancelled"}
    assert ledger(fake, plain).status == "cancelled"
    paths = {(r["path"], r["endpoint"]) for r in fake.requests("htx") if r["endpoint"] in ("cancel", "query")}
    assert ("/v2/algo-orders/cancellation", "cancel") in paths and ("/v1/order/orders/batchcancel", "cancel") in paths
    assert ("/v2/algo-orders/specific", "query") in paths
