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
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.htx import HTXDialect
from safecancel.venues.base import redact_query
from safecancel.venues.htx import (
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
