"""Every venue adapter: canonical ids and symbols, and "only the venue's word about an order settles it".

Part 1 -- ``validate`` refuses, naming the bad item, every id or symbol that is not the venue's canonical
ASCII spelling: Unicode digits (``'２'``, ``'٣'``), leading zeros, ``'0'``, ids past the documented numeric
range (LONG / int64 -> 2**63-1), NUL and other control characters, non-ASCII client ids, over-long client ids
-- and never echoes an over-long value whole.

Part 2 -- a reply about the *request* (a proxy's HTML page, an empty body, another API's JSON) is a
whole-request :class:`Failure`, never a per-order verdict: a 4xx is REJECTED (nothing was applied), a 2xx
UNKNOWN_OUTCOME (it may have been). The venue's own "no such order" still reads as ``not_found`` on a query,
and query outcomes carry the venue's own words.

Replies come from two sources: hand-written ones, copied from each venue's docs (venues.md), and the fake
venue's real reply to the adapter's own request. The fake covers every registered venue; what only the docs
can say (the words a venue uses for each state) is looked up explicitly, and a venue without an entry is
skipped, visibly, naming the table to extend.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest

from safecancel.errors import InputError
from safecancel.model import (
    REASON_AMBIGUOUS,
    REASON_NOT_FOUND,
    Failure,
    FailureKind,
    HttpResponse,
    IdKind,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.transport import RequestsTransport
from safecancel.venues import VENUE_NAMES, venue_class
from safecancel.venues.base import (
    ECHO_LIMIT,
    INT64_MAX,
    clip,
    decimal_id_ok,
    decimal_id_re,
    load_json,
    names_another_order,
)
from tests.conftest import CREDS

HERE = "tests/venues/test_canonical_ids.py"
SYMBOL = {v: venue_class(v).example_symbol for v in VENUE_NAMES}


def _digit_symbol(venue: str) -> tuple[str, str] | None:
    """The venue's example symbol with one ASCII digit added where its symbol pattern accepts one (after
    the base, ``BTC2_USDT``, where it can), and the same with that digit full-width; None if it takes none."""
    symbol, pattern = SYMBOL[venue], venue_class(venue).id_format.symbol
    spots = dict.fromkeys([3, *range(len(symbol) + 1)])
    inserted = [(symbol[:i], symbol[i:]) for i in spots]
    replaced = [(symbol[:i], symbol[i + 1 :]) for i in range(len(symbol))]
    for head, tail in inserted + replaced:
        if pattern.fullmatch(head + "2" + tail):
            return head + "2" + tail, head + "２" + tail
    return None


# Symbols with digits the docs show, checked besides the derived one (Binance's delivery contracts).
DOCUMENTED_DIGIT_SYMBOLS = {"binance_coinm": [("BTCUSD_251226", "BTCUSD_２５１２２６")]}
# A symbol with ASCII digits, accepted, and the same with them full-width, refused: derived, plus the above.
DIGIT_SYMBOLS = {
    v: [s for s in (_digit_symbol(v),) if s is not None] + DOCUMENTED_DIGIT_SYMBOLS.get(v, []) for v in VENUE_NAMES
}
# A client id each venue that takes client ids accepts, and its documented maximum length.
CLIENT_ID_VENUES = tuple(v for v in VENUE_NAMES if IdKind.CLIENT_ORDER_ID in venue_class(v).id_kinds)
CLIENT_ID = {v: ("my_id-1", venue_class(v).id_format.client_id_max_len) for v in CLIENT_ID_VENUES}
# The venues whose order ids are LONG / int64 (id_format.order_id_max): all five today.
INT64_VENUES = tuple(v for v in VENUE_NAMES if venue_class(v).id_format.order_id_max == INT64_MAX)

HTML = (
    b"<html><head><title>404 Not Found</title></head>"
    b"<body><center><h1>404 Not Found</h1></center><hr>nginx</body></html>"
)
# Each venue's own reply to a query for an order it does not know (venues.md §1.6, §2.6, §3.6, §4.6, §5.6),
# hand-written; every venue is also checked on the fake venue's reply (see ``not_found_replies``).
NOT_FOUND = {
    "bitopro": (404, {"error": "Order not found"}),
    "binance_coinm": (400, {"code": -2013, "msg": "Order does not exist."}),
    "bingx": (200, {"code": 100404, "msg": " order not exist", "debugMsg": ""}),
    "htx": (200, {"status": "error", "err-code": "base-record-invalid", "err-msg": "record invalid", "data": None}),
    "bitget": (400, {"code": "43001", "msg": "The order does not exist", "requestTime": 1, "data": None}),
}


def adapter(venue: str):
    return venue_class(venue)()


def missing(venue: str, what: str, table: str) -> str:
    """The reason a venue is skipped for want of hand-written data only its docs can supply."""
    return f"no hand-written {what} for {venue}: add them in {HERE} ({table}) to cover {what}"


@pytest.fixture(scope="module")
def transport() -> Iterator[RequestsTransport]:
    with closing(RequestsTransport()) as t:
        yield t


def ask(fake: FakeVenue, transport: RequestsTransport, venue: str, ref: OrderRef) -> HttpResponse:
    """The fake venue's real reply to the adapter's own signed query for ``ref``."""
    req = venue_class(venue)(fake.url).build_query(ref, CREDS, int(time.time() * 1000))
    return transport.send(fake.url, req, venue=venue)


def oid(venue: str, value: str, symbol: str | None = None) -> OrderRef:
    return OrderRef(symbol or SYMBOL[venue], order_id=value)


def cid(venue: str, value: str) -> OrderRef:
    return OrderRef(SYMBOL[venue], client_order_id=value)


def refused(venue: str, ref: OrderRef) -> str:
    """The InputError text for a batch whose second item is ``ref`` (the first is fine)."""
    with pytest.raises(InputError) as info:
        adapter(venue).validate([oid(venue, "7"), ref])
    return str(info.value)


def reply(status: int, body: object = b"", content_type: str | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type} if content_type else {}
    return HttpResponse(status, raw, headers)


# -- Part 1: canonical ids and symbols ------------------------------------------------------------


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_canonical_order_ids_are_accepted(venue: str) -> None:
    adapter(venue).validate([oid(venue, v) for v in ("1", "7", "2959906694", "1098394041342885888", str(INT64_MAX))])


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize(
    "bad",
    [
        "１２３",  # full-width digits: str.isdigit() and \d say yes
        "12３",
        "٣",  # Arabic-Indic three
        "²",
        "0",
        "00",
        "021",
        "007",
        "1" * 25,
        "+5",
        "-5",
        " 12",
        "12\n",
        "1_000",
        "12\x00",
        "\x00",
        "1\x7f",
        "",
    ],
)
def test_non_canonical_order_ids_are_refused_by_name(venue: str, bad: str) -> None:
    text = refused(venue, oid(venue, bad))
    assert clip(bad) in text


@pytest.mark.parametrize("venue", INT64_VENUES)
def test_int64_bound(venue: str) -> None:
    adapter(venue).validate([oid(venue, str(2**63 - 1))])
    text = refused(venue, oid(venue, str(2**63)))
    assert str(2**63) in text and "exceeds" in text


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_leading_zero_and_zero_are_explained(venue: str) -> None:
    assert "leading zero" in refused(venue, oid(venue, "021"))
    assert "zero" in refused(venue, oid(venue, "0"))
    assert "non-ASCII" in refused(venue, oid(venue, "１２"))
    assert "control character" in refused(venue, oid(venue, "12\x00"))


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_full_width_digits_in_a_symbol_are_refused(venue: str) -> None:
    if not DIGIT_SYMBOLS[venue]:
        pytest.skip(missing(venue, "symbols with digits", "DOCUMENTED_DIGIT_SYMBOLS"))
    for good, bad in DIGIT_SYMBOLS[venue]:
        adapter(venue).validate([oid(venue, "1", good)])
        text = refused(venue, oid(venue, "1", bad))
        assert repr(bad) in text and "non-ASCII" in text


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("suffix", ["\x00", "\n", "\t", "\x1b", "é"])
def test_control_and_non_ascii_characters_in_a_symbol_are_refused(venue: str, suffix: str) -> None:
    symbol = SYMBOL[venue] + suffix
    assert repr(symbol) in refused(venue, oid(venue, "1", symbol))


@pytest.mark.parametrize("venue", CLIENT_ID_VENUES)
@pytest.mark.parametrize("bad", ["ab\x00c", "\x00", "tab\there", "café", "ｍｙ", "my٣", "ab\u200bc", ""])
def test_client_ids_with_nul_control_or_non_ascii_characters_are_refused(venue: str, bad: str) -> None:
    good, _ = CLIENT_ID[venue]
    adapter(venue).validate([cid(venue, good)])
    assert clip(bad) in refused(venue, cid(venue, bad))


@pytest.mark.parametrize("venue", CLIENT_ID_VENUES)
def test_client_id_length_limit(venue: str) -> None:
    _, limit = CLIENT_ID[venue]
    adapter(venue).validate([cid(venue, "a" * limit)])
    refused(venue, cid(venue, "a" * (limit + 1)))


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("kind", ["order_id", "client_order_id", "symbol"])
def test_an_over_long_value_is_never_echoed_whole(venue: str, kind: str) -> None:
    value = "A" * 37 + "Z" * 5000  # the tail never appears
    if kind == "order_id":
        ref = oid(venue, "9" * 5000)
        value = "9" * 5000
    elif kind == "client_order_id":
        ref = cid(venue, value)
    else:
        ref = oid(venue, "1", value)
    text = refused(venue, ref)
    assert value not in text and value[: ECHO_LIMIT + 1] not in text
    assert value[:ECHO_LIMIT] + "'…" in text  # named: the first 40 characters, then an ellipsis
    assert len(text) < 400


def test_bitopro_refuses_client_ids_whatever_they_look_like() -> None:
    # BitoPro's batch cancel takes exchange order ids only (venues.md §1.4): a client id is refused
    # whatever its spelling, and the message still never echoes it whole.
    text = refused("bitopro", OrderRef("BTC_USDT", client_order_id="9" * 300))
    assert "client order ids are not supported" in text and "9" * 41 not in text


def test_bitopro_stop_limit_ids_are_canonical_too() -> None:
    class WithStops(venue_class("bitopro")):
        allow_stop_limit_ids = True

    WithStops().validate([OrderRef("BTC_USDT", "SL-9014867155")])
    for bad in ("SL-09014867155", "SL-０１", "SL-" + "9" * 25, "SL-0"):
        with pytest.raises(InputError, match="malformed order id"):
            WithStops().validate([OrderRef("BTC_USDT", bad)])


def test_decimal_id_helpers() -> None:
    pattern = decimal_id_re(INT64_MAX)
    assert decimal_id_ok("9223372036854775807", pattern)
    for bad in ("9223372036854775808", "9999999999999999999", "1" * 20, "0", "01", "１", "", None, 5):
        assert not decimal_id_ok(bad, pattern), bad
    small = decimal_id_re(2**31 - 1)
    assert decimal_id_ok("2147483647", small, 2**31 - 1) and not decimal_id_ok("2147483648", small, 2**31 - 1)


def test_clip() -> None:
    assert clip("abc") == "'abc'"
    assert clip("a\x00b") == "'a\\x00b'"
    assert clip("x" * 41) == "'" + "x" * 40 + "'… (41 characters)"


# -- Part 2: only the venue's word about an order settles it ----------------------------------------


def _refs(venue: str) -> list[OrderRef]:
    return [oid(venue, "11"), oid(venue, "12")]


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("status", [404, 405, 400, 410])
def test_a_4xx_html_page_is_a_rejected_request_not_an_order_verdict(venue: str, status: int) -> None:
    a = adapter(venue)
    resp = reply(status, HTML, "text/html; charset=utf-8")
    for out in (a.parse_cancel(_refs(venue), resp), a.parse_query(_refs(venue)[0], resp)):
        assert isinstance(out, Failure), out
        assert (out.kind, out.http_status, out.code) == (FailureKind.REJECTED, status, None)
        assert f"HTTP {status}" in out.message and "text/html" in out.message and venue in out.message
        assert "check the base URL" in out.message
        assert "nginx" not in out.message and len(out.message) < 300  # the body is never quoted


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_405_with_an_empty_body_is_rejected(venue: str) -> None:
    a = adapter(venue)
    for out in (a.parse_cancel(_refs(venue), reply(405)), a.parse_query(_refs(venue)[0], reply(405))):
        assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED and out.http_status == 405
        assert "empty body" in out.message


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_2xx_that_is_not_the_venues_json_may_have_been_applied(venue: str, status: int) -> None:
    a = adapter(venue)
    for body, ctype in ((HTML, "text/html"), (b"", None), (b'{"data": {"BTC_', "application/json")):
        out = a.parse_cancel(_refs(venue), reply(status, body, ctype))
        assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME, (body, out)
        assert f"HTTP {status}" in out.message and "may have been applied" in out.message
        q = a.parse_query(_refs(venue)[0], reply(status, body, ctype))
        assert isinstance(q, Failure) and q.kind is FailureKind.UNKNOWN_OUTCOME


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_5xx_429_and_auth_statuses_keep_their_classification(venue: str) -> None:
    a = adapter(venue)
    expected = {502: FailureKind.UNKNOWN_OUTCOME, 504: FailureKind.UNKNOWN_OUTCOME, 429: FailureKind.RATE_LIMITED,
                401: FailureKind.AUTH, 403: FailureKind.AUTH}  # fmt: skip
    for status, kind in expected.items():
        out = a.parse_cancel(_refs(venue), reply(status, HTML, "text/html"))
        assert isinstance(out, Failure) and out.kind is kind, (status, out)


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_another_apis_json_is_not_the_venues_word(venue: str) -> None:
    a = adapter(venue)
    foreign = (
        {"message": "Not Found", "code": 404},  # an API gateway's JSON
        {"timestamp": "2026-01-01T00:00:00Z", "status": 404, "error": "Not Found", "path": "/x"},
    )
    for body in foreign:
        if venue == "bitopro" and "error" in body:
            continue  # {"error": "..."} *is* BitoPro's error shape; covered below
        out = a.parse_query(_refs(venue)[0], reply(404, body, "application/json"))
        assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED, (body, out)
        out = a.parse_cancel(_refs(venue), reply(404, body, "application/json"))
        assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED, (body, out)
    # BitoPro's own error shape on a 404 that is not about an order: a wrong path, refused.
    if venue == "bitopro":
        out = a.parse_query(_refs(venue)[0], reply(404, {"error": "Resource Not Found"}))
        assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


@pytest.fixture
def not_found_replies(fake: FakeVenue, transport: RequestsTransport, venue: str) -> list[tuple[int, Any]]:
    """The venue's "no such order" replies: the hand-written one (if any), then the fake venue's own."""
    resp = ask(fake, transport, venue, oid(venue, "12345"))
    body = load_json(resp)
    return ([NOT_FOUND[venue]] if venue in NOT_FOUND else []) + [(resp.status, resp.body if body is None else body)]


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_venues_own_not_found_still_reads_as_not_found(venue: str, not_found_replies) -> None:
    for status, body in not_found_replies:
        out = adapter(venue).parse_query(oid(venue, "12345"), reply(status, body))
        assert isinstance(out, Outcome) and (out.verdict, out.reason) == (Verdict.FAILED, REASON_NOT_FOUND), body
        assert out.code and out.message  # the venue's own words, for the journal


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_venues_not_found_on_a_5xx_settles_nothing(venue: str, not_found_replies) -> None:
    for _, body in not_found_replies:
        out = adapter(venue).parse_query(oid(venue, "12345"), reply(502, body))
        assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME, body


def message_key(venue: str, status: int, body: Any) -> str | None:
    """The field of a "no such order" reply that carries the words the adapter reports, if one does."""
    out = adapter(venue).parse_query(oid(venue, "12345"), reply(status, body))
    said = out.message if isinstance(out, Outcome) else None
    keys = [k for k, v in body.items() if said and v == said] if isinstance(body, dict) else []
    return keys[0] if keys else None


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_not_found_answer_naming_another_order_is_not_believed(venue: str, not_found_replies) -> None:
    # Where the venue's words are in a field of the reply (not, e.g., Bitget's empty ``data`` list, which the
    # adapter describes in its own words), they are rewritten to name another order.
    checked = 0
    for status, original in not_found_replies:
        key = message_key(venue, status, original)
        if key is None:
            continue
        body = dict(original)
        body[key] = f"Order not found: 9876543210 ({body[key]})"
        out = adapter(venue).parse_query(oid(venue, "12345678"), reply(status, body))
        assert not (isinstance(out, Outcome) and out.verdict is Verdict.FAILED), out
        # ... while one naming our own order is.
        out = adapter(venue).parse_query(oid(venue, "9876543210"), reply(status, body))
        assert isinstance(out, Outcome) and out.reason == REASON_NOT_FOUND
        checked += 1
    if not checked:
        pytest.skip(missing(venue, "not-found replies with the words in a field", "NOT_FOUND"))


def test_names_another_order() -> None:
    ref = OrderRef("BTCUSDT", order_id="123456")
    assert not names_another_order("Order does not exist.", ref)
    assert not names_another_order("order 123456 not found", ref)
    assert names_another_order("order 654321 not found", ref)
    assert not names_another_order("order 654321 not found", OrderRef("BTCUSDT", client_order_id="x"))
    assert not names_another_order(None, ref)


# The venue's reply (hand-written from its docs) for one order in each state, and the words the outcome must
# carry. Every venue is also checked on the fake venue's reply; the words only the docs can give.
def _bitopro_reply(ref: OrderRef, state: str) -> dict[str, Any]:
    return {"id": ref.order_id, "pair": "btc_usdt", "status": {"open": 0, "filled": 2, "cancelled": 4}[state]}


def _binance_coinm_reply(ref: OrderRef, state: str) -> dict[str, Any]:
    word = {"open": "NEW", "filled": "FILLED", "cancelled": "CANCELED"}[state]
    return {"orderId": int(ref.value), "symbol": ref.symbol, "status": word}


def _bingx_reply(ref: OrderRef, state: str) -> dict[str, Any]:
    word = {"open": "NEW", "filled": "FILLED", "cancelled": "CANCELED"}[state]
    return {"code": 0, "msg": "", "data": {"orderId": int(ref.value), "symbol": ref.symbol, "status": word}}


def _htx_reply(ref: OrderRef, state: str) -> dict[str, Any]:
    word = {"open": "submitted", "filled": "filled", "cancelled": "canceled"}[state]
    return {"status": "ok", "data": {"id": int(ref.value), "symbol": ref.symbol, "state": word}}


def _bitget_reply(ref: OrderRef, state: str) -> dict[str, Any]:
    word = {"open": "live", "filled": "filled", "cancelled": "cancelled"}[state]
    return {"code": "00000", "msg": "success", "data": [{"orderId": ref.value, "symbol": ref.symbol, "status": word}]}


QUERY_REPLIES: dict[str, Callable[[OrderRef, str], dict[str, Any]]] = {
    "bitopro": _bitopro_reply,
    "binance_coinm": _binance_coinm_reply,
    "bingx": _bingx_reply,
    "htx": _htx_reply,
    "bitget": _bitget_reply,
}
WORDS = {
    "bitopro": {"open": ("0", "in progress"), "filled": ("2", "completed"), "cancelled": ("4", "cancelled")},
    "binance_coinm": {"open": (None, "NEW"), "filled": (None, "FILLED"), "cancelled": (None, "CANCELED")},
    "bingx": {"open": (None, "NEW"), "filled": (None, "FILLED"), "cancelled": (None, "CANCELED")},
    "htx": {"open": (None, "submitted"), "filled": (None, "filled"), "cancelled": (None, "canceled")},
    "bitget": {"open": (None, "live"), "filled": (None, "filled"), "cancelled": (None, "cancelled")},
}


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("state", ["open", "filled", "cancelled"])
def test_query_outcomes_carry_the_venues_words(
    venue: str, state: str, fake: FakeVenue, transport: RequestsTransport
) -> None:
    ref = oid(venue, "424242")
    replies = [reply(200, QUERY_REPLIES[venue](ref, state))] if venue in QUERY_REPLIES else []
    fake.seed(venue, ref.symbol, [{"order_id": ref.value, "status": state}])
    replies.append(ask(fake, transport, venue, ref))  # the fake venue's reply about that order
    verdict = {"open": Verdict.OPEN, "filled": Verdict.FAILED, "cancelled": Verdict.CANCELLED}[state]
    for resp in replies:
        out = adapter(venue).parse_query(ref, resp)
        assert isinstance(out, Outcome) and out.verdict is verdict, (resp.body, out)
        if venue in WORDS:
            assert (out.code, out.message) == WORDS[venue][state]
        # A reply about another order is not believed, whatever it says.
        other = adapter(venue).parse_query(oid(venue, "434343"), resp)
        assert isinstance(other, Outcome) and (other.verdict, other.reason) == (Verdict.UNKNOWN, REASON_AMBIGUOUS)
    if venue not in WORDS:
        pytest.skip(missing(venue, "state words", "WORDS"))


def test_query_outcomes_by_client_id_carry_the_venues_words() -> None:
    ref = OrderRef("BTCUSDT", client_order_id="mine")
    body = {"code": "00000", "msg": "success", "data": [{"orderId": "5", "clientOid": "mine", "status": "filled"}]}
    out = adapter("bitget").parse_query(ref, reply(200, body))
    assert isinstance(out, Outcome) and out.message == "filled" and ref.kind is IdKind.CLIENT_ORDER_ID
