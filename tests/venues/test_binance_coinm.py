"""Binance COIN-M: signing vectors, request building, reply parsing (docs samples, codes).

What every venue shares (facts, batch bounds, chunking, naming bad input, junk replies, signing accepted by
the fake) is tests/venues/test_contract.py; this file keeps the venue's documented vectors and quirks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from safecancel.errors import InputError
from safecancel.model import (
    Credentials,
    Failure,
    FailureKind,
    HttpResponse,
    ListedOrder,
    ListKind,
    ListPage,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.binance_coinm import BinanceCoinMDialect
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


# -- listings: open orders, order history -----------------------------------------------------------

OTHER = "ETHUSD_PERP"
T0 = 1591702613943  # the docs' timestamp, reused for self-computed listing vectors
DAY_MS = 24 * 3600 * 1000


def test_listing_facts():
    assert B.list_kinds == {ListKind.OPEN, ListKind.HISTORY}
    assert B.list_needs_symbol == {ListKind.HISTORY}
    # 2400 weight/min per IP, the all-symbol open-orders list weighs 40: 60 requests a minute.
    assert (B.list_rate.requests, B.list_rate.per_seconds) == (60, 60.0)
    # Cancelled orders without fills vanish 3 days after creation; allOrders spans under 7 days.
    assert B.history_window_s == 3 * 24 * 3600


@pytest.mark.parametrize(
    ("kind", "symbol", "kw", "path", "prefix", "sig"),
    [
        (
            ListKind.OPEN,
            SYM,
            {},
            "/dapi/v1/openOrders",
            "symbol=BTCUSD_PERP&recvWindow=5000&timestamp=1591702613943",
            "c436208eb7da8ca4be4a61482e0e794f4697df2da941b360dc705ff19be58c92",
        ),
        (
            ListKind.OPEN,
            None,
            {},
            "/dapi/v1/openOrders",
            "recvWindow=5000&timestamp=1591702613943",
            "5581570ecf76b9b74c6f1a66ef6520c2959a75c32641affb2634d655d6e64db8",
        ),
        (
            ListKind.HISTORY,
            SYM,
            {"since_ms": T0 - 60_000},
            "/dapi/v1/allOrders",
            "symbol=BTCUSD_PERP&startTime=1591702553943&endTime=1591702613943&limit=100"
            "&recvWindow=5000&timestamp=1591702613943",
            "37beb39074acdc03a9f094180b64053a365e6e1afcb2eb27155dad5b25f009fa",
        ),
        (
            ListKind.HISTORY,
            SYM,
            {"since_ms": T0 - 60_000, "cursor": "oid:283194213"},
            "/dapi/v1/allOrders",
            "symbol=BTCUSD_PERP&orderId=283194213&limit=100&recvWindow=5000&timestamp=1591702613943",
            "3d840e8a6bd9366eca7954cdb47a7d7c2a4ad2a3ab523aee38fcc84e8adcd093",
        ),
    ],
)
def test_listing_request_vectors(kind, symbol, kw, path, prefix, sig):
    req = B.build_list(kind, symbol, Credentials("k", DOC_SECRET), T0, **kw)
    assert (req.method, req.path, req.body) == ("GET", path, None)
    assert req.query == f"{prefix}&signature={sig}"
    assert hmac_hex(DOC_SECRET, prefix) == sig  # the signature is HMAC of exactly the query before it
    assert req.headers == {"X-MBX-APIKEY": "k"}
    assert req.endpoint == f"list_{kind.value}"


@pytest.mark.parametrize(
    ("since_ms", "start"),
    [
        (None, T0 - 3 * DAY_MS),  # no "since": the whole window
        (T0 - 10 * DAY_MS, T0 - 3 * DAY_MS),  # older than the window: clipped (older cancels are gone anyway)
        (T0 - 5_000, T0 - 5_000),
        (T0 + 9_000, T0 - 1),  # ahead of the venue's clock: endTime must still follow startTime
    ],
)
def test_history_since_is_clipped_to_the_window(since_ms, start):
    q = parse_qs(B.build_list(ListKind.HISTORY, SYM, Credentials("k", "s"), T0, since_ms=since_ms).query)
    assert (q["startTime"], q["endTime"], q["limit"]) == ([str(start)], [str(T0)], ["100"])
    assert "orderId" not in q


@pytest.mark.parametrize(
    ("kind", "symbol", "kw", "needle"),
    [
        (ListKind.CONDITIONAL, SYM, {}, "no separate conditional listing"),
        (ListKind.HISTORY, None, {}, "needs a symbol"),
        (ListKind.OPEN, "btcusd_perp", {}, "malformed symbol"),
        (ListKind.HISTORY, "BTCUSD", {}, "malformed symbol"),
        (ListKind.OPEN, SYM, {"cursor": "oid:5"}, "no pages"),
        (ListKind.HISTORY, SYM, {"cursor": "5"}, "not an order-history cursor"),
        (ListKind.HISTORY, SYM, {"cursor": "oid:0"}, "not an order-history cursor"),
        (ListKind.HISTORY, SYM, {"cursor": "oid:9223372036854775808"}, "not an order-history cursor"),
        (ListKind.HISTORY, SYM, {"since_ms": "yesterday"}, "since_ms"),
    ],
)
def test_build_list_refuses_what_the_venue_cannot_answer(kind, symbol, kw, needle):
    with pytest.raises(InputError, match=needle):
        B.build_list(kind, symbol, Credentials("k", "s"), T0, **kw)


def doc_order(**over) -> dict:
    """The order object of the Current-All-Open-Orders / All-Orders pages (their // notes dropped)."""
    base = {
        "avgPrice": "0.0",
        "clientOrderId": "abc",
        "cumBase": "0",
        "executedQty": "0",
        "orderId": 1917641,
        "origQty": "0.40",
        "origType": "TRAILING_STOP_MARKET",
        "price": "0",
        "reduceOnly": False,
        "side": "BUY",
        "positionSide": "SHORT",
        "status": "NEW",
        "stopPrice": "9300",
        "closePosition": False,
        "symbol": "BTCUSD_200925",
        "pair": "BTCUSD",
        "time": 1579276756075,
        "timeInForce": "GTC",
        "type": "TRAILING_STOP_MARKET",
        "activatePrice": "9020",
        "priceRate": "0.3",
        "updateTime": 1579276756075,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
    }
    base.update(over)
    return base


@pytest.mark.parametrize("kind", [ListKind.OPEN, ListKind.HISTORY])
def test_docs_sample_listing_is_read(kind):
    page = B.parse_list(kind, None, resp(200, [doc_order()]))
    assert isinstance(page, ListPage) and page.cursor is None
    assert page.orders == (
        ListedOrder(
            symbol="BTCUSD_200925",
            order_id="1917641",
            client_order_id="abc",
            status=Outcome(Verdict.OPEN, None, None, "NEW"),
            conditional=True,  # a TRAILING_STOP_MARKET rests on the same list
            side="BUY",
            order_type="TRAILING_STOP_MARKET",
            price="0",
            quantity="0.40",
            filled="0",
            created_ms=1579276756075,
            updated_ms=1579276756075,
        ),
    )


@pytest.mark.parametrize(
    ("order_type", "conditional"),
    [
        ("LIMIT", False),
        ("MARKET", False),
        ("STOP", True),
        ("STOP_MARKET", True),
        ("TAKE_PROFIT", True),
        ("TAKE_PROFIT_MARKET", True),
        ("TRAILING_STOP_MARKET", True),
    ],
)
def test_conditional_is_read_from_the_type(order_type, conditional):
    page = B.parse_list(ListKind.OPEN, SYM, resp(200, [doc_order(type=order_type, origType="LIMIT")]))
    assert isinstance(page, ListPage) and page.orders[0].conditional is conditional


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("NEW", Outcome(Verdict.OPEN, None, None, "NEW")),
        ("PARTIALLY_FILLED", Outcome(Verdict.OPEN, None, None, "PARTIALLY_FILLED")),
        ("FILLED", Outcome(Verdict.FAILED, "filled", None, "FILLED")),
        ("CANCELED", Outcome(Verdict.CANCELLED, None, None, "CANCELED")),
        ("EXPIRED", Outcome(Verdict.FAILED, "expired", None, "EXPIRED")),
        ("NEW_ADL", Outcome(Verdict.UNKNOWN, "ambiguous", None, "NEW_ADL")),
        (None, Outcome(Verdict.UNKNOWN, "ambiguous", None, None)),
    ],
)
def test_history_states_are_read_like_the_query(word, outcome):
    page = B.parse_list(ListKind.HISTORY, SYM, resp(200, [doc_order(status=word, symbol=SYM)]))
    assert isinstance(page, ListPage) and page.orders[0].status == outcome


def test_ids_keep_every_digit_and_symbols_come_back_in_the_adapters_spelling():
    body = b'[{"orderId": 9223372036854775807, "symbol": "btcusd_perp", "status": "NEW", "clientOrderId": "x"}]'
    page = B.parse_list(ListKind.OPEN, None, HttpResponse(200, body))
    assert isinstance(page, ListPage)
    (order,) = page.orders
    assert (order.order_id, order.symbol) == ("9223372036854775807", SYM)
    B.validate([order.ref(separate_conditional=ListKind.CONDITIONAL in B.list_kinds)])  # a cancel accepts it


@pytest.mark.parametrize(
    "entry",
    [
        {"symbol": SYM, "status": "NEW"},  # no id
        {"orderId": None, "symbol": SYM, "status": "NEW"},
        {"orderId": 1.5e9, "symbol": SYM, "status": "NEW"},  # a float may have lost digits
        {"orderId": True, "symbol": SYM, "status": "NEW"},
        {"orderId": 0, "symbol": SYM, "status": "NEW"},
        {"orderId": 9223372036854775808, "symbol": SYM, "status": "NEW"},
        {"orderId": "0042", "symbol": SYM, "status": "NEW"},
        {"orderId": 5, "status": "NEW"},  # no symbol
        {"orderId": 5, "symbol": "BTCUSD", "status": "NEW"},
        {"orderId": 5, "symbol": 7, "status": "NEW"},
        "5",
        None,
    ],
)
def test_one_unreadable_entry_fails_the_whole_page(entry):
    for kind in (ListKind.OPEN, ListKind.HISTORY):
        out = B.parse_list(kind, SYM, resp(200, [doc_order(symbol=SYM), entry, doc_order(orderId=7, symbol=SYM)]))
        assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME, out
        assert "complete" in out.message


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, {"orders": []}, FailureKind.UNKNOWN_OUTCOME),  # an object where the array belongs
        (200, b"<html>ok</html>", FailureKind.UNKNOWN_OUTCOME),
        (200, b'[{"orderId": 1, "sym', FailureKind.UNKNOWN_OUTCOME),
        (400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}, FailureKind.CLOCK),
        (401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, FailureKind.AUTH),
        (400, {"code": -1022, "msg": "Signature for this request is not valid."}, FailureKind.AUTH),
        (429, {"code": -1003, "msg": "Too many requests"}, FailureKind.RATE_LIMITED),
        (418, b"", FailureKind.RATE_LIMITED),
        (400, {"code": -1121, "msg": "Invalid symbol."}, FailureKind.REJECTED),
        (400, {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}, FailureKind.REJECTED),
        (503, {"code": -1001, "msg": "Service Unavailable."}, FailureKind.NOT_PROCESSED),
        (500, {"code": -1007, "msg": "Timeout waiting for response from backend server."}, FailureKind.UNKNOWN_OUTCOME),
        (502, b"<html>Bad Gateway</html>", FailureKind.UNKNOWN_OUTCOME),
        (403, b"<html>WAF</html>", FailureKind.AUTH),
        (404, b"Not Found", FailureKind.REJECTED),
    ],
)
def test_listing_failures_are_classified_like_queries(status, body, kind):
    for list_kind in (ListKind.OPEN, ListKind.HISTORY):
        out = B.parse_list(list_kind, SYM, resp(status, body))
        assert isinstance(out, Failure) and out.kind is kind, out


def _history_page(first_id: int, n: int) -> list[dict]:
    return [doc_order(orderId=first_id + i, symbol=SYM, status="CANCELED") for i in range(n)]


def test_a_full_history_page_points_past_its_highest_id():
    page = B.parse_list(ListKind.HISTORY, SYM, resp(200, list(reversed(_history_page(9_000_000_001, 100)))))
    assert isinstance(page, ListPage) and page.cursor == "oid:9000000101"
    last = B.parse_list(ListKind.HISTORY, SYM, resp(200, _history_page(9_000_000_101, 99)), cursor=page.cursor)
    assert isinstance(last, ListPage) and last.cursor is None and len(last.orders) == 99
    empty = B.parse_list(ListKind.HISTORY, SYM, resp(200, []), cursor="oid:5")
    assert empty == ListPage((), None)


def test_the_open_orders_list_is_one_page_however_long():
    page = B.parse_list(ListKind.OPEN, None, resp(200, _history_page(1, 250)))
    assert isinstance(page, ListPage) and page.cursor is None and len(page.orders) == 250


def test_conditional_listing_is_refused_by_the_parser_too():
    out = B.parse_list(ListKind.CONDITIONAL, SYM, resp(200, [doc_order()]))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


# -- listings against the fake venue --------------------------------------------------------------

VENUE = "binance_coinm"
CREDS = Credentials("test-key", "test-secret")


@pytest.fixture(scope="module")
def fake_coinm():
    # The loopback fake speaking only this venue: these tests then do not hang on other dialects.
    with FakeVenue(dialects=[BinanceCoinMDialect()]) as fv:
        yield fv


@pytest.fixture
def fake(fake_coinm):
    fake_coinm.reset()
    yield fake_coinm
    fake_coinm.reset()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def _send(http, base_url: str, req) -> HttpResponse:
    r = http.request(req.method, base_url + req.target, data=req.body, headers=dict(req.headers), timeout=5)
    return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


def _signed_get(http, fake, path: str, params: list[tuple[str, str]]) -> tuple[int, object]:
    """A request signed the documented way (HMAC of the query), with parameters the adapter never sends."""
    query = urlencode([*params, ("timestamp", str(int(time.time() * 1000)))])
    query += "&signature=" + hmac_hex(CREDS.api_secret, query)
    r = http.get(f"{fake.url}{path}?{query}", headers={"X-MBX-APIKEY": CREDS.api_key}, timeout=5)
    return r.status_code, r.json()


def _read_all(http, fake, kind, symbol, since_ms=None) -> tuple[list[ListedOrder], int]:
    """Every page of one listing, as a caller pages it; returns the orders and the requests made."""
    a = BinanceCoinM(fake.url)
    orders: list[ListedOrder] = []
    cursor = None
    for requests_made in range(1, 50):
        req = a.build_list(kind, symbol, CREDS, int(time.time() * 1000), cursor=cursor, since_ms=since_ms)
        page = a.parse_list(kind, symbol, _send(http, fake.url, req), cursor=cursor)
        assert isinstance(page, ListPage), page
        orders.extend(page.orders)
        if page.cursor is None:
            return orders, requests_made
        cursor = page.cursor
    raise AssertionError("the listing never ended")


@pytest.fixture
def book(fake):
    """250 open orders on BTCUSD_PERP (10 of them conditional), 20 on ETHUSD_PERP, and on BTCUSD_PERP
    30 cancelled and 20 filled ones: 300 in its history."""
    ids = {}
    ids["open"] = [o["order_id"] for o in fake.seed(VENUE, SYM, [{"client_order_id": f"bot-{i}"} for i in range(240)])]
    ids["conditional"] = [o["order_id"] for o in fake.seed(VENUE, SYM, [{"conditional": True}] * 10)]
    ids["other"] = [o["order_id"] for o in fake.seed(VENUE, OTHER, [{}] * 20)]
    ids["cancelled"] = [o["order_id"] for o in fake.seed(VENUE, SYM, [{"status": "cancelled"}] * 30)]
    ids["filled"] = [o["order_id"] for o in fake.seed(VENUE, SYM, [{"status": "filled"}] * 20)]
    return ids


def test_open_orders_of_one_symbol_with_the_conditional_split(fake, http, book):
    orders, made = _read_all(http, fake, ListKind.OPEN, SYM)
    assert made == 1  # the whole list at once
    assert sorted(o.order_id for o in orders) == sorted(book["open"] + book["conditional"])
    assert {o.order_id for o in orders if o.conditional} == set(book["conditional"])
    assert all(o.symbol == SYM and o.status.verdict is Verdict.OPEN for o in orders)
    assert {o.client_order_id for o in orders if not o.conditional} == {f"bot-{i}" for i in range(240)}


def test_open_orders_of_every_symbol(fake, http, book):
    orders, made = _read_all(http, fake, ListKind.OPEN, None)
    assert made == 1 and len(orders) == 270
    assert sorted(o.order_id for o in orders if o.symbol == OTHER) == sorted(book["other"])


def test_history_pages_through_every_state_exactly_once(fake, http, book):
    orders, made = _read_all(http, fake, ListKind.HISTORY, SYM, since_ms=int(time.time() * 1000) - 60_000)
    # 300 orders at 100 a page: three full pages and an empty one (no "more" flag to stop earlier).
    assert made == 4
    ids = [o.order_id for o in orders]
    assert len(ids) == len(set(ids)) == 300
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)  # oldest first, no gap, no overlap
    by_id = {o.order_id: o.status for o in orders}
    assert {by_id[i].verdict for i in book["open"] + book["conditional"]} == {Verdict.OPEN}
    assert {by_id[i] for i in book["cancelled"]} == {Outcome(Verdict.CANCELLED, None, None, "CANCELED")}
    assert {by_id[i] for i in book["filled"]} == {Outcome(Verdict.FAILED, "filled", None, "FILLED")}
    assert not set(ids) & set(book["other"])
    assert [r["endpoint"] for r in fake.requests(VENUE)] == ["list_history"] * 4


def test_history_shows_a_cancel_at_once(fake, http, book):
    a = BinanceCoinM(fake.url)
    victims = [OrderRef(SYM, i) for i in book["open"][:10]]
    out = a.parse_cancel(victims, _send(http, fake.url, a.build_cancel(victims, CREDS, int(time.time() * 1000))))
    assert set(out.values()) == {Outcome(Verdict.CANCELLED)}
    orders, _ = _read_all(http, fake, ListKind.HISTORY, SYM, since_ms=int(time.time() * 1000) - 60_000)
    states = {o.order_id: o.status.verdict for o in orders}
    assert {states[r.order_id] for r in victims} == {Verdict.CANCELLED}
    still, _ = _read_all(http, fake, ListKind.OPEN, SYM)
    assert not {r.order_id for r in victims} & {o.order_id for o in still}


def test_history_starts_at_since_and_honours_the_not_found_rule(fake, http):
    now = int(time.time() * 1000)
    old = fake.seed(
        VENUE,
        SYM,
        [
            {"status": "cancelled", "created_ms": now - 4 * DAY_MS},  # unfilled, > 3 days: gone by design
            {"status": "filled", "created_ms": now - 4 * DAY_MS},  # filled: kept
            {"status": "cancelled", "created_ms": now - 2 * DAY_MS},
        ],
    )
    recent = fake.seed(VENUE, SYM, [{"status": "cancelled", "created_ms": now - 1000}])
    # The fake itself, asked for five days (the adapter never asks for more than three).
    status, body = _signed_get(
        http, fake, "/dapi/v1/allOrders", [("symbol", SYM), ("startTime", str(now - 5 * DAY_MS)), ("limit", "100")]
    )
    assert status == 200 and [str(o["orderId"]) for o in body] == [
        old[1]["order_id"],
        old[2]["order_id"],
        recent[0]["order_id"],
    ]
    # The adapter: the 3-day window without a since; only the order created since "since" with one.
    orders, _ = _read_all(http, fake, ListKind.HISTORY, SYM)
    assert [o.order_id for o in orders] == [old[2]["order_id"], recent[0]["order_id"]]
    orders, _ = _read_all(http, fake, ListKind.HISTORY, SYM, since_ms=now - 60_000)
    assert [o.order_id for o in orders] == [recent[0]["order_id"]]


def test_history_without_a_start_holds_the_most_recent_orders(fake, http):
    ids = [o["order_id"] for o in fake.seed(VENUE, SYM, [{"status": "filled"}] * 60)]
    status, body = _signed_get(http, fake, "/dapi/v1/allOrders", [("symbol", SYM)])  # limit: default 50
    assert status == 200 and [str(o["orderId"]) for o in body] == ids[-50:]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ([("symbol", SYM), ("limit", "101")], -1130),  # "Default 50; max 100."
        ([("symbol", SYM), ("limit", "0")], -1130),
        ([("symbol", SYM), ("limit", "ten")], -1100),
        ([("limit", "100")], -1102),  # "Either symbol or pair must be sent."
        ([("pair", "BTCUSD"), ("orderId", "5")], -1128),  # "pair can't be sent with orderId"
        ([("symbol", SYM), ("startTime", "1000"), ("endTime", str(1000 + 7 * DAY_MS))], -1127),  # under 7 days
        ([("symbol", "btcusd_perp")], -1121),
    ],
)
def test_the_fake_refuses_what_all_orders_refuses(fake, http, params, code):
    fake.seed(VENUE, SYM, [{}])
    status, body = _signed_get(http, fake, "/dapi/v1/allOrders", params)
    assert status == 400 and body["code"] == code, body


def test_the_fake_lists_a_pair_and_refuses_a_bad_open_orders_symbol(fake, http, book):
    status, body = _signed_get(http, fake, "/dapi/v1/openOrders", [("pair", "ETHUSD")])
    assert status == 200 and sorted(str(o["orderId"]) for o in body) == sorted(book["other"])
    status, body = _signed_get(http, fake, "/dapi/v1/openOrders", [("symbol", "ETH/USD")])
    assert status == 400 and body["code"] == -1121


def test_a_listing_signed_with_the_wrong_secret_is_refused(fake, http):
    fake.seed(VENUE, SYM, [{}])
    req = BinanceCoinM(fake.url).build_list(
        ListKind.OPEN, SYM, Credentials("test-key", "wrong"), int(time.time() * 1000)
    )
    out = B.parse_list(ListKind.OPEN, SYM, _send(http, fake.url, req))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.code == "-1022"


def test_cancel_all_needs_a_symbol_and_cancels_trigger_orders_too(fake, http, book):
    status, body = _signed_get(http, fake, "/dapi/v1/openOrders", [])  # warm: every order is there
    assert status == 200 and len(body) == 270
    query = urlencode([("timestamp", str(int(time.time() * 1000)))])
    query += "&signature=" + hmac_hex(CREDS.api_secret, query)
    r = http.delete(f"{fake.url}/dapi/v1/allOpenOrders?{query}", headers={"X-MBX-APIKEY": CREDS.api_key}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == -1102  # symbol is mandatory
    assert len(fake.ledger.open_orders(VENUE)) == 270  # nothing was cancelled
    query = urlencode([("symbol", SYM), ("timestamp", str(int(time.time() * 1000)))])
    query += "&signature=" + hmac_hex(CREDS.api_secret, query)
    r = http.delete(f"{fake.url}/dapi/v1/allOpenOrders?{query}", headers={"X-MBX-APIKEY": CREDS.api_key}, timeout=5)
    assert (r.status_code, r.json()) == (200, {"code": 200, "msg": "The operation of cancel all open order is done."})
    status = fake.order_status(VENUE)
    assert {status[i] for i in book["open"] + book["conditional"]} == {"cancelled"}  # synchronous
    assert {status[i] for i in book["other"]} == {"open"}
    orders, _ = _read_all(http, fake, ListKind.OPEN, None)
    assert sorted(o.order_id for o in orders) == sorted(book["other"])


# -- conditional refs and the venue's own cancel-all (kill switch) ---------------------------------------

DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}  # Cancel-All-Open-Orders sample


def test_cancel_all_facts():
    assert B.cancel_all_needs_symbol is True  # allOpenOrders: symbol is mandatory, no account-wide form
    # Weight 1 of the per-IP budget, paced like the batch cancel.
    assert (B.cancel_all_rate.requests, B.cancel_all_rate.per_seconds) == (1200, 60.0)
    assert ListKind.CONDITIONAL not in B.list_kinds  # trigger orders are ordinary orders here


def test_cancel_all_request_vector():
    req = B.build_cancel_all(SYM, Credentials("k", DOC_SECRET), T0)
    prefix = "symbol=BTCUSD_PERP&recvWindow=5000&timestamp=1591702613943"
    # Self-computed (the same parameters as the one-symbol open-orders vector above, so the same signature).
    sig = "c436208eb7da8ca4be4a61482e0e794f4697df2da941b360dc705ff19be58c92"
    assert (req.method, req.path, req.body, req.endpoint) == ("DELETE", "/dapi/v1/allOpenOrders", None, "cancel_all")
    assert req.query == f"{prefix}&signature={sig}"
    assert hmac_hex(DOC_SECRET, prefix) == sig
    assert req.headers == {"X-MBX-APIKEY": "k"}
    assert B.build_cancel_all(SYM, Credentials("k", DOC_SECRET), T0, account="ignored") == req


@pytest.mark.parametrize(
    ("symbol", "needle"),
    [
        (None, "needs a symbol"),
        ("btcusd_perp", "malformed symbol 'btcusd_perp'"),
        ("BTCUSD", "malformed symbol 'BTCUSD'"),
        ("BTCUSD_PERP&symbol=ETHUSD_PERP", "malformed symbol"),
        ("", "malformed symbol"),
    ],
)
def test_cancel_all_refuses_what_validate_refuses(symbol, needle):
    with pytest.raises(InputError, match=needle):
        B.build_cancel_all(symbol, Credentials("k", "s"), T0)


def test_cancel_all_reply_says_nothing_remains():
    assert B.parse_cancel_all(SYM, resp(200, DONE)) is False
    # The same code with other words is still the venue's "done"; -2011 (spot's "nothing open") as well.
    assert B.parse_cancel_all(SYM, resp(200, {"code": 200, "msg": "success"})) is False
    assert B.parse_cancel_all(SYM, resp(400, {"code": -2011, "msg": "Unknown order sent."})) is False


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "retry_after"),
    [
        (400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}, {}, "clock", None),
        (400, {"code": -1022, "msg": "Signature for this request is not valid."}, {}, "auth", None),
        (401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, {}, "auth", None),
        (429, {"code": -1003, "msg": "Too many requests"}, {"Retry-After": "7"}, "rate_limited", 7.0),
        (418, b"", {}, "rate_limited", None),
        (503, {"code": -1001, "msg": "Service Unavailable."}, {}, "not_processed", None),
        (500, {"code": -1007, "msg": "Timeout waiting for response from backend server."}, {}, "unknown_outcome", None),
        (400, {"code": -1121, "msg": "Invalid symbol."}, {}, "rejected", None),
        (400, {"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent"}, {}, "rejected", None),
        (404, b"<html>Not Found</html>", {}, "rejected", None),
        (502, b"<html>Bad Gateway</html>", {}, "unknown_outcome", None),
        (200, b"<html>ok</html>", {}, "unknown_outcome", None),  # not Binance's word: may have been applied
        (200, b"", {}, "unknown_outcome", None),
        (200, [], {}, "unknown_outcome", None),
        (200, {"code": 200}, {}, "unknown_outcome", None),  # no msg: not Binance's shape
        (200, {"code": -1000, "msg": "An unknown error occured"}, {}, "unknown_outcome", None),
    ],
)
def test_cancel_all_failures_are_classified(status, body, headers, kind, retry_after):
    out = B.parse_cancel_all(SYM, resp(status, body, headers))
    assert isinstance(out, Failure) and out.kind.value == kind and out.retry_after == retry_after, out


@given(status=st.sampled_from([200, 400, 401, 418, 429, 500, 503]), body=st.binary(max_size=200))
@settings(max_examples=100, deadline=None)
def test_cancel_all_parser_never_raises(status, body):
    out = B.parse_cancel_all(SYM, HttpResponse(status, body))
    assert out is False or isinstance(out, Failure)


@pytest.mark.parametrize(
    ("refs", "needle"),
    [
        ([OrderRef(SYM, "1"), OrderRef(SYM, "2", conditional=True)], "order_id '2' on 'BTCUSD_PERP' is marked"),
        ([OrderRef(SYM, client_order_id="t-1", conditional=True)], "client_order_id 't-1' on 'BTCUSD_PERP' is marked"),
        # The first bad ref is the one named, whichever way it is bad.
        ([OrderRef("BTCUSD", "1"), OrderRef(SYM, "2", conditional=True)], "malformed symbol 'BTCUSD'"),
        ([OrderRef(SYM, "2", conditional=True), OrderRef("BTCUSD", "1")], "order_id '2'.*conditional"),
        ([OrderRef(SYM, "1"), OrderRef("BTCUSD", "9", conditional=True)], "order_id '9' on 'BTCUSD' is marked"),
    ],
)
def test_validate_refuses_a_conditional_ref_naming_it(refs, needle):
    with pytest.raises(InputError, match=needle) as info:
        B.validate(refs)
    assert "no separate list of conditional orders" in str(info.value) or "malformed" in str(info.value)


def test_a_listed_trigger_order_is_an_ordinary_ref():
    page = B.parse_list(ListKind.OPEN, None, resp(200, [doc_order(type="STOP_MARKET")]))
    assert isinstance(page, ListPage)
    (order,) = page.orders
    ref = order.ref(separate_conditional=ListKind.CONDITIONAL in B.list_kinds)
    assert order.conditional and ref == OrderRef("BTCUSD_200925", "1917641") and not ref.conditional
    B.validate([ref])
    req = B.build_cancel([ref], Credentials("k", "s"), T0)  # the ordinary batch cancel takes it
    assert req.path == "/dapi/v1/batchOrders" and parse_qs(req.query)["orderIdList"] == ["[1917641]"]


def _cancel_all(http, fake, symbol, creds=CREDS):
    a = BinanceCoinM(fake.url)
    req = a.build_cancel_all(symbol, creds, int(time.time() * 1000))
    return a.parse_cancel_all(symbol, _send(http, fake.url, req))


def test_native_cancel_all_through_the_adapter_cancels_the_symbol_and_its_trigger_orders(fake, http, book):
    assert _cancel_all(http, fake, SYM) is False
    assert [r["endpoint"] for r in fake.requests(VENUE)] == ["cancel_all"]
    status = fake.order_status(VENUE)
    assert {status[i] for i in book["open"] + book["conditional"]} == {"cancelled"}  # synchronous, triggers too
    assert {status[i] for i in book["other"]} == {"open"}  # another symbol is left alone
    assert {status[i] for i in book["filled"]} == {"filled"}
    # The reply named nothing; the listings tell what happened, at once.
    orders, _ = _read_all(http, fake, ListKind.OPEN, None)
    assert sorted(o.order_id for o in orders) == sorted(book["other"])
    history, _ = _read_all(http, fake, ListKind.HISTORY, SYM, since_ms=int(time.time() * 1000) - 60_000)
    states = {o.order_id: o.status.verdict for o in history}
    assert {states[i] for i in book["open"] + book["conditional"]} == {Verdict.CANCELLED}
    # Called again on an empty book: the same "done", still nothing remaining.
    assert _cancel_all(http, fake, SYM) is False


def test_trigger_orders_are_cancelled_and_confirmed_by_id_like_any_other(fake, http, book):
    a = BinanceCoinM(fake.url)
    orders, _ = _read_all(http, fake, ListKind.OPEN, SYM)
    refs = [o.ref(separate_conditional=ListKind.CONDITIONAL in a.list_kinds) for o in orders if o.conditional]
    assert sorted(r.order_id for r in refs) == sorted(book["conditional"]) and not any(r.conditional for r in refs)
    a.validate(refs)
    for chunk in a.plan_chunks(refs):
        out = a.parse_cancel(chunk, _send(http, fake.url, a.build_cancel(chunk, CREDS, int(time.time() * 1000))))
        assert out == {r: Outcome(Verdict.CANCELLED) for r in chunk}
    for r in refs:
        q = a.parse_query(r, _send(http, fake.url, a.build_query(r, CREDS, int(time.time() * 1000))))
        assert q == Outcome(Verdict.CANCELLED, None, None, "CANCELED")
    status = fake.order_status(VENUE)
    assert {status[i] for i in book["open"] + book["other"]} == {"open"}


def test_native_cancel_all_failures_against_the_fake_change_nothing(fake, http, book):
    out = _cancel_all(http, fake, SYM, creds=Credentials(CREDS.api_key, "wrong"))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH and out.code == "-1022"
    fake.fault(VENUE, "cancel_all", "status", status=503)
    out = _cancel_all(http, fake, SYM)
    assert isinstance(out, Failure) and out.kind is FailureKind.NOT_PROCESSED
    fake.fault(VENUE, "cancel_all", "status", status=429, retry_after=2)
    out = _cancel_all(http, fake, SYM)
    assert isinstance(out, Failure) and out.kind is FailureKind.RATE_LIMITED and out.retry_after == 2.0
    assert set(fake.order_status(VENUE).values()) == {"open", "cancelled", "filled"}
    assert len(fake.ledger.open_orders(VENUE)) == 270  # nothing was cancelled
