"""Hostile input from both sides: venue replies that are random, malformed or lying, and user input that
is wrong in every way we could think of.

Replies: property tests (hypothesis) feed every adapter's ``parse_cancel``, ``parse_query`` and
``parse_time`` (1) arbitrary bytes, statuses and headers -- they must never raise and must return the
promised types -- and (2) replies in the venue's own shape, filled with random ids and statuses, where
an order may be reported ``cancelled`` only if the reply says that order is cancelled (and never from an
HTX or default Bitget cancel reply, which only accept the cancel). Then a hostile transport drives the
whole engine. ``SAFECANCEL_FUZZ_EXAMPLES`` scales the example counts (default 100 per property).

User input: a catalogue of bad ids, symbols, keys, URLs, database paths and a list over the
1,000,000-order limit, through ``Client.cancel`` and ``safecancel cancel``: each is refused with an error
naming the bad item, and nothing is stored (no database file, or no job rows) and nothing is sent.

Last, the secrets: after a workload of faults, auth failures, bad input and a killed child, no test
secret appears in a database file, a captured log record, an error text or a cassette.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import re
import sqlite3
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safecancel import (
    Client,
    Credentials,
    FakeClock,
    InputError,
    OrderRef,
    SafeCancelError,
    StoreError,
    VenueConfig,
)
from safecancel.cli import cli
from safecancel.model import Failure, HttpRequest, HttpResponse, IdKind, Outcome, Verdict
from safecancel.testing import FakeVenue
from safecancel.transport import RequestsTransport
from safecancel.venues import venue_class
from tests.integration._harness import (
    CREDS,
    FAST,
    IDENTITY,
    ROOT,
    SECRETS,
    SYMBOLS,
    VENUES,
    client_for,
    closed_port,
    opened,
    run_cli,
    sigkill,
    spawn_cancel_child,
    venue_env,
)
from tests.venues import test_canonical_ids as canonical_ids

HERE = "tests/integration/test_hostile_input.py"
FUZZ = int(os.environ.get("SAFECANCEL_FUZZ_EXAMPLES", "100"))
FUZZ_SETTINGS = settings(
    max_examples=FUZZ,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
BN = "binance_coinm"
OUR_IDS = ("1001", "1002", "1003")
OTHER_IDS = ("9001", "1001 ", "01001", "10011")  # near misses: whitespace, leading zero, a longer id
CIDS = ("my-a", "my-b")
CLIENT_ID_VENUES = frozenset(v for v in VENUES if IdKind.CLIENT_ORDER_ID in venue_class(v).id_kinds)


def adapter(venue: str, **options: Any) -> Any:
    return venue_class(venue)("http://127.0.0.1:1", **options)


def missing(venue: str, what: str, tables: str) -> str:
    """The reason a venue is skipped for want of hand-written data only its docs can supply."""
    return f"no hand-written {what} for {venue}: add them in {HERE} ({tables}) to cover {what}"


def covered(params: list[tuple[str, str]], what: str, *tables: Mapping[str, Any], names: str) -> list[Any]:
    """``params`` (venue first), each marked to be skipped -- visibly, with the reason -- where its venue is
    missing from one of ``tables``."""
    return [
        pytest.param(
            *p, marks=() if all(p[0] in t for t in tables) else pytest.mark.skip(reason=missing(p[0], what, names))
        )
        for p in params
    ]


def ask_the_fake(fake: FakeVenue, venue: str, ref: OrderRef) -> HttpResponse:
    """The fake venue's real reply to the adapter's own signed query for ``ref``."""
    req = venue_class(venue)(fake.url).build_query(ref, CREDS, int(time.time() * 1000))
    with closing(RequestsTransport()) as transport:
        return transport.send(fake.url, req, venue=venue)


def refs_for(venue: str, kind: str) -> list[OrderRef]:
    sym = SYMBOLS[venue]
    if kind == "client_order_id":
        return [OrderRef(sym, client_order_id=c) for c in CIDS]
    return [OrderRef(sym, order_id=i) for i in OUR_IDS]


REF_KINDS = [
    (v, k) for v in VENUES for k in ("order_id", "client_order_id") if k == "order_id" or v in CLIENT_ID_VENUES
]

# -- strategies ---------------------------------------------------------------------------------------

FIELDS = (
    "code",
    "msg",
    "data",
    "status",
    "state",
    "id",
    "orderId",
    "clientOrderId",
    "clientOrderID",
    "origClientOrderId",
    "symbol",
    "orders",
    "fails",
    "error",
    "success",
    "failed",
    "order-id",
    "client-order-id",
    "err-code",
    "err-msg",
    "order-state",
    "successList",
    "failureList",
    "clientOid",
    "errorCode",
    "errorMsg",
    "serverTime",
    "requestTime",
    "BTC_USDT",
    "btc_usdt",
    "timestamp",
)
WORDS = (
    "CANCELED",
    "CANCELLED",
    "canceled",
    "cancelled",
    "partial-canceled",
    "FILLED",
    "filled",
    "NEW",
    "live",
    "submitted",
    "canceling",
    "ok",
    "error",
    "00000",
    "0",
    "-2011",
    "-2013",
    "-1021",
    "order-orderstate-error",
    "base-record-invalid",
    "43001",
    "45129",
    "²",
    "１２３",
    "٣",
    "1e309",
    "NaN",
    "",
    " ",
    "null",
    *OUR_IDS,
    *OTHER_IDS,
    *CIDS,
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([10**30, -1, 0, 4, 6, 7, 10, 200, 1001, 1002, 1003]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(WORDS),
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=30,
)


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


bodies = st.one_of(
    json_values.map(dumps),
    json_values.map(dumps).flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n])),  # truncated
    st.binary(max_size=120),
    st.sampled_from(
        [
            b"",
            b"null",
            b"[" * 100_000,
            b"{" * 5000,
            b'{"a":' * 3000,
            ("9" * 5000).encode(),
            b"\xff\xfe\x00",
            b"<html><body>502 Bad Gateway</body></html>",
            '{"msg":"订单不存在"}'.encode(),
        ]
    ),
)
statuses = st.sampled_from(
    [200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 408, 409, 418, 429, 500, 502, 503, 504]
) | st.integers(100, 599)
header_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "1",
            "0",
            "-1",
            "nan",
            "inf",
            "1e309",
            "2.5",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Mon, 32 Foo 99999 99:99:99 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT, Wed, 21 Oct 2015 07:28:01 GMT",
        ]
    ),
)
headers = st.dictionaries(
    st.sampled_from(["retry-after", "date", "content-type", "x-mbx-used-weight"]), header_values, max_size=3
)
responses = st.builds(HttpResponse, status=statuses, body=bodies, headers=headers)

id_values = st.one_of(
    st.sampled_from(OUR_IDS),
    st.sampled_from(OUR_IDS).map(int),
    st.sampled_from(OTHER_IDS),
    st.sampled_from(CIDS),
    leaves,
)


def status_values(*words: str) -> st.SearchStrategy[Any]:
    return st.sampled_from(words) | leaves


def maybe(d: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of these fields (a reply may leave anything out)."""
    return st.fixed_dictionaries({}, optional=d)


# -- the reply shapes, and what each says -----------------------------------------------------------------


def named(element: Any, fields: tuple[str, ...], value: str) -> bool:
    """Whether a reply element names this id in one of ``fields`` (as a string or a plain integer)."""
    if not isinstance(element, dict):
        return False
    for f in fields:
        v = element.get(f)
        if isinstance(v, str) and v == value:
            return True
        if isinstance(v, int) and not isinstance(v, bool) and str(v) == value:
            return True
    return False


def walk(value: Any):
    """Every dict anywhere inside a JSON value."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def small_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,3}\s*", value):
        return int(value)
    return None


CANCEL_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "binance_coinm": st.lists(
        st.one_of(
            maybe(
                {
                    "orderId": id_values,
                    "clientOrderId": id_values,
                    "status": status_values("CANCELED", "NEW", "FILLED", "EXPIRED"),
                    "symbol": st.sampled_from(["BTCUSD_PERP", "ETHUSD_PERP"]),
                }
            ),
            maybe({"code": st.sampled_from([-2011, -1021, -2013, 200]), "msg": st.text(max_size=10)}),
            json_values,
        ),
        max_size=8,
    ),
    "bitopro": maybe(
        {
            "data": st.dictionaries(
                st.sampled_from(["BTC_USDT", "btc_usdt", "Btc_Usdt", "ETH_USDT"]) | st.text(max_size=8),
                st.lists(id_values, max_size=6) | leaves,
                max_size=4,
            )
            | leaves,
            "error": st.text(max_size=10),
        }
    ),
    "bingx": maybe(
        {
            "code": st.sampled_from([0, "0", 100400, 80016]) | leaves,
            "msg": st.text(max_size=10),
            "data": maybe(
                {
                    "orders": st.lists(
                        maybe(
                            {
                                "orderId": id_values,
                                "clientOrderID": id_values,
                                "origClientOrderId": id_values,
                                "status": status_values("CANCELED", "CANCELLED", "NEW", "FILLED"),
                                "symbol": st.sampled_from(["BTC-USDT", "ETH-USDT"]),
                            }
                        )
                        | json_values,
                        max_size=6,
                    ),
                    "fails": st.lists(
                        maybe({"orderId": id_values, "clientOrderID": id_values, "error": st.text(max_size=10)}),
                        max_size=4,
                    ),
                }
            )
            | leaves,
        }
    ),
    "htx": maybe(
        {
            "status": st.sampled_from(["ok", "error"]) | leaves,
            "data": maybe(
                {
                    "success": st.lists(id_values, max_size=6) | leaves,
                    "failed": st.lists(
                        maybe(
                            {
                                "order-id": id_values,
                                "client-order-id": id_values,
                                "err-code": st.sampled_from(
                                    [
                                        "order-orderstate-error",
                                        "base-record-invalid",
                                        "order-fl-cancellation-is-disallowed",
                                    ]
                                )
                                | leaves,
                                "order-state": st.sampled_from([-1, 1, 5, 6, 7, 10, "7", "10"]) | leaves,
                            }
                        ),
                        max_size=4,
                    ),
                }
            )
            | leaves,
            "err-code": leaves,
        }
    ),
    "bitget": maybe(
        {
            "code": st.sampled_from(["00000", "43001", "45129", "40008"]) | leaves,
            "msg": st.text(max_size=10),
            "requestTime": leaves,
            "data": maybe(
                {
                    "successList": st.lists(maybe({"orderId": id_values, "clientOid": id_values}), max_size=6) | leaves,
                    "failureList": st.lists(
                        maybe(
                            {
                                "orderId": id_values,
                                "clientOid": id_values,
                                "errorCode": leaves,
                                "errorMsg": st.text(max_size=8),
                            }
                        ),
                        max_size=4,
                    )
                    | leaves,
                }
            )
            | leaves,
        }
    ),
}


# How each venue's cancel reply says an order is cancelled (generously read), by venue: with CANCEL_SHAPES,
# what only the venue's docs can say. ``trust`` is Bitget's trust_success_list option.
def _binance_coinm_cancelled(ref: OrderRef, reply: Any, trust: bool) -> bool:
    fields = ("orderId", "id") if ref.kind is IdKind.ORDER_ID else ("clientOrderId", "origClientOrderId")
    return isinstance(reply, list) and any(named(e, fields, ref.value) and e.get("status") == "CANCELED" for e in reply)


def _bitopro_cancelled(ref: OrderRef, reply: Any, trust: bool) -> bool:
    data = reply.get("data") if isinstance(reply, dict) else None
    if not isinstance(data, dict):
        return False
    return any(
        isinstance(k, str)
        and k.upper() == ref.symbol.upper()
        and isinstance(ids, list)
        and any(named({"id": i}, ("id",), ref.value) for i in ids)
        for k, ids in data.items()
    )


def _bingx_cancelled(ref: OrderRef, reply: Any, trust: bool) -> bool:
    fields = (
        ("orderId", "id") if ref.kind is IdKind.ORDER_ID else ("clientOrderID", "clientOrderId", "origClientOrderId")
    )
    data = reply.get("data") if isinstance(reply, dict) else None
    orders = data.get("orders") if isinstance(data, dict) else None
    return isinstance(orders, list) and any(
        named(e, fields, ref.value) and e.get("status") in ("CANCELED", "CANCELLED") for e in orders
    )


def _htx_cancelled(ref: OrderRef, reply: Any, trust: bool) -> bool:
    return False  # HTX only accepts a cancel: its cancel reply never settles one


def _bitget_cancelled(ref: OrderRef, reply: Any, trust: bool) -> bool:
    if not trust:
        return False  # by default Bitget's cancel reply only accepts a cancel, like HTX's
    fields = ("orderId", "id") if ref.kind is IdKind.ORDER_ID else ("clientOid",)
    data = reply.get("data") if isinstance(reply, dict) else None
    success = data.get("successList") if isinstance(data, dict) else None
    return isinstance(success, list) and any(named(e, fields, ref.value) for e in success)


CANCEL_READERS: dict[str, Callable[[OrderRef, Any, bool], bool]] = {
    "binance_coinm": _binance_coinm_cancelled,
    "bitopro": _bitopro_cancelled,
    "bingx": _bingx_cancelled,
    "htx": _htx_cancelled,
    "bitget": _bitget_cancelled,
}


def cancel_says_cancelled(venue: str, ref: OrderRef, reply: Any, *, trust_success_list: bool = False) -> bool:
    """Whether a cancel reply in the venue's shape says this order is cancelled (generously read)."""
    return CANCEL_READERS[venue](ref, reply, trust_success_list)


QUERY_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "binance_coinm": maybe(
        {
            "orderId": id_values,
            "clientOrderId": id_values,
            "symbol": st.sampled_from(["BTCUSD_PERP", "X"]),
            "status": status_values("CANCELED", "NEW", "FILLED", "EXPIRED", "PARTIALLY_FILLED"),
            "code": st.sampled_from([-2013, -1021]) | leaves,
            "msg": st.text(max_size=8),
        }
    ),
    "bitopro": st.one_of(
        maybe(
            {
                "id": id_values,
                "status": st.sampled_from([-1, 0, 1, 2, 3, 4, 6, "4", " 6 ", 5, 99]) | leaves,
                "pair": leaves,
            }
        ),
        maybe(
            {
                "data": maybe({"id": id_values, "status": st.sampled_from([2, 4, 6, "4"]) | leaves}),
                "error": st.text(max_size=8),
            }
        ),
    ),
    "bingx": maybe(
        {
            "code": st.sampled_from([0, "0", 80016, 100404]) | leaves,
            "msg": st.text(max_size=8),
            "data": maybe(
                {
                    "orderId": id_values,
                    "clientOrderID": id_values,
                    "symbol": st.sampled_from(["BTC-USDT", "ETH-USDT"]),
                    "status": status_values("CANCELED", "CANCELLED", "NEW", "FILLED", "FAILED"),
                }
            )
            | leaves,
        }
    ),
    "htx": maybe(
        {
            "status": st.sampled_from(["ok", "error"]) | leaves,
            "err-code": st.sampled_from(["base-record-invalid"]) | leaves,
            "data": maybe(
                {
                    "id": id_values,
                    "client-order-id": id_values,
                    "state": status_values("canceled", "partial-canceled", "filled", "submitted", "canceling"),
                }
            )
            | leaves,
        }
    ),
    "bitget": maybe(
        {
            "code": st.sampled_from(["00000", "43001"]) | leaves,
            "data": st.lists(
                maybe(
                    {
                        "orderId": id_values,
                        "clientOid": id_values,
                        "symbol": st.sampled_from(["BTCUSDT", "ETHUSDT"]),
                        "status": status_values("cancelled", "live", "filled"),
                    }
                ),
                max_size=3,
            )
            | leaves,
        }
    ),
}


# How each venue's query reply says an order is cancelled (any order: the id check is a separate property).
QUERY_READERS: dict[str, Callable[[Any], bool]] = {
    "binance_coinm": lambda reply: any(d.get("status") == "CANCELED" for d in walk(reply)),
    "bitopro": lambda reply: any(small_int(d.get("status")) in (4, 6) for d in walk(reply)),
    "bingx": lambda reply: any(d.get("status") in ("CANCELED", "CANCELLED") for d in walk(reply)),
    "htx": lambda reply: any(d.get("state") in ("canceled", "partial-canceled") for d in walk(reply)),
    "bitget": lambda reply: any(d.get("status") == "cancelled" for d in walk(reply)),
}


def query_says_cancelled(venue: str, ref: OrderRef, reply: Any) -> bool:
    """Whether a query reply says an order is cancelled (any order: the id check is a separate property)."""
    return QUERY_READERS[venue](reply)


def check_cancel_types(reply: Any, refs: list[OrderRef]) -> None:
    assert isinstance(reply, Failure | Mapping), reply
    if isinstance(reply, Failure):
        check_failure(reply)
    else:
        assert set(reply) == set(refs)  # one outcome for every requested order, no more
        assert all(isinstance(o, Outcome) and isinstance(o.verdict, Verdict) for o in reply.values())


def check_failure(f: Failure) -> None:
    # A wait the engine can act on: None or a non-negative number, never NaN.
    assert f.retry_after is None or (
        isinstance(f.retry_after, float | int) and not math.isnan(f.retry_after) and f.retry_after >= 0
    )


# -- 1. arbitrary replies: never raise, right types -----------------------------------------------------


@pytest.mark.parametrize(
    "venue",
    list(VENUES),
)
@FUZZ_SETTINGS
@given(resp=responses)
@example(resp=HttpResponse(400, b'{"code": [], "msg": "x"}'))  # the known crash, tried on every run
def test_parse_cancel_never_raises(venue: str, resp: HttpResponse) -> None:
    for kind in ("order_id", "client_order_id"):
        if kind == "client_order_id" and venue not in CLIENT_ID_VENUES:
            continue
        refs = refs_for(venue, kind)
        check_cancel_types(adapter(venue).parse_cancel(refs, resp), refs)


@pytest.mark.parametrize(
    "venue",
    list(VENUES),
)
@FUZZ_SETTINGS
@given(resp=responses)
@example(resp=HttpResponse(500, b'{"code": {"x": 1}}'))
def test_parse_query_never_raises(venue: str, resp: HttpResponse) -> None:
    for kind in ("order_id", "client_order_id"):
        if kind == "client_order_id" and venue not in CLIENT_ID_VENUES:
            continue
        (ref,) = refs_for(venue, kind)[:1]
        reply = adapter(venue).parse_query(ref, resp)
        assert isinstance(reply, Failure | Outcome), reply
        if isinstance(reply, Failure):
            check_failure(reply)


@pytest.mark.parametrize("venue", VENUES)
@FUZZ_SETTINGS
@given(resp=responses)
@example(resp=HttpResponse(200, '{"status": "ok", "data": "²"}'.encode()))
@example(resp=HttpResponse(200, b'{"serverTime": true}'))
def test_parse_time_never_raises_and_gives_a_positive_integer_or_none(venue: str, resp: HttpResponse) -> None:
    t = adapter(venue).parse_time(resp)
    assert t is None or (type(t) is int and t > 0), t


# -- 2. replies in the venue's shape: cancelled only when the reply says so -----------------------------------


@pytest.mark.parametrize(
    ("venue", "kind"),
    covered(REF_KINDS, "cancel reply shapes", CANCEL_SHAPES, CANCEL_READERS, names="CANCEL_SHAPES, CANCEL_READERS"),
)
@FUZZ_SETTINGS
@given(data=st.data(), status=st.sampled_from([200, 200, 200, 200, 400, 500]))
def test_a_cancel_reply_cancels_only_what_it_says_is_cancelled(
    venue: str, kind: str, data: st.DataObject, status: int
) -> None:
    reply = data.draw(CANCEL_SHAPES[venue], label="reply")
    refs = refs_for(venue, kind)
    parsed = adapter(venue).parse_cancel(refs, HttpResponse(status, dumps(reply)))
    check_cancel_types(parsed, refs)
    if isinstance(parsed, Failure):
        return
    for ref, outcome in parsed.items():
        if outcome.verdict is Verdict.CANCELLED:
            assert status == 200 and cancel_says_cancelled(venue, ref, reply), (ref, outcome, reply)


@pytest.mark.parametrize("kind", ["order_id", "client_order_id"])
@FUZZ_SETTINGS
@given(reply=CANCEL_SHAPES["bitget"])
def test_bitget_trusting_its_success_list_cancels_only_the_orders_listed(kind: str, reply: Any) -> None:
    refs = refs_for("bitget", kind)
    parsed = adapter("bitget", trust_success_list=True).parse_cancel(refs, HttpResponse(200, dumps(reply)))
    check_cancel_types(parsed, refs)
    if not isinstance(parsed, Failure):
        for ref, outcome in parsed.items():
            if outcome.verdict is Verdict.CANCELLED:
                assert cancel_says_cancelled("bitget", ref, reply, trust_success_list=True), (ref, reply)


@pytest.mark.parametrize(
    ("venue", "kind"),
    covered(REF_KINDS, "query reply shapes", QUERY_SHAPES, QUERY_READERS, names="QUERY_SHAPES, QUERY_READERS"),
)
@FUZZ_SETTINGS
@given(data=st.data(), status=st.sampled_from([200, 200, 200, 404, 500]))
def test_a_query_reply_cancels_only_when_it_says_cancelled(
    venue: str, kind: str, data: st.DataObject, status: int
) -> None:
    reply = data.draw(QUERY_SHAPES[venue], label="reply")
    (ref,) = refs_for(venue, kind)[:1]
    parsed = adapter(venue).parse_query(ref, HttpResponse(status, dumps(reply)))
    assert isinstance(parsed, Failure | Outcome)
    if isinstance(parsed, Outcome) and parsed.verdict is Verdict.CANCELLED:
        assert status == 200 and query_says_cancelled(venue, ref, reply), (parsed, reply)


# A query reply saying "cancelled" about order 9001 (we ask about 1001), hand-written from the venue's docs;
# every venue is also checked on the fake venue's own reply about such an order.
ANOTHER_ORDER = {
    "binance_coinm": {"orderId": 9001, "symbol": "BTCUSD_PERP", "status": "CANCELED"},
    "bitopro": {"id": "9001", "pair": "btc_usdt", "status": 4},
    "bingx": {"code": 0, "msg": "", "data": {"orderId": 9001, "symbol": "BTC-USDT", "status": "CANCELED"}},
    "htx": {"status": "ok", "data": {"id": 9001, "state": "canceled"}},
    "bitget": {"code": "00000", "data": [{"orderId": "9001", "symbol": "BTCUSDT", "status": "cancelled"}]},
}


@pytest.mark.parametrize(
    "venue",
    list(VENUES),
)
def test_a_query_reply_about_another_order_settles_nothing(venue: str, fake: FakeVenue) -> None:
    ref = OrderRef(SYMBOLS[venue], order_id="1001")
    other = OrderRef(SYMBOLS[venue], order_id="9001")
    replies = [HttpResponse(200, dumps(ANOTHER_ORDER[venue]))] if venue in ANOTHER_ORDER else []
    fake.seed(venue, other.symbol, [{"order_id": other.value, "status": "cancelled"}])
    replies.append(ask_the_fake(fake, venue, other))
    for resp in replies:
        # The reply does say that order 9001 is cancelled ...
        said = adapter(venue).parse_query(other, resp)
        assert isinstance(said, Outcome) and said.verdict is Verdict.CANCELLED, (resp.body, said)
        # ... and settles nothing about ours.
        parsed = adapter(venue).parse_query(ref, resp)
        assert not (isinstance(parsed, Outcome) and parsed.verdict in (Verdict.CANCELLED, Verdict.FAILED)), parsed


# The hand-written reply data by table, for the report below: a venue missing from a table in REQUIRED is
# skipped (visibly) by the checks that need it; one missing from a table in DOCS_REPLIES is checked on the
# fake venue's replies only.
CANONICAL_IDS = "tests/venues/test_canonical_ids.py"
REQUIRED: dict[str, Mapping[str, Any]] = {
    f"{HERE} CANCEL_SHAPES": CANCEL_SHAPES,
    f"{HERE} CANCEL_READERS": CANCEL_READERS,
    f"{HERE} QUERY_SHAPES": QUERY_SHAPES,
    f"{HERE} QUERY_READERS": QUERY_READERS,
    f"{CANONICAL_IDS} WORDS": canonical_ids.WORDS,
}
DOCS_REPLIES: dict[str, Mapping[str, Any]] = {
    f"{HERE} ANOTHER_ORDER": ANOTHER_ORDER,
    f"{CANONICAL_IDS} NOT_FOUND": canonical_ids.NOT_FOUND,
    f"{CANONICAL_IDS} QUERY_REPLIES": canonical_ids.QUERY_REPLIES,
}


@pytest.mark.parametrize("venue", VENUES)
def test_which_venues_lack_hand_written_reply_data(venue: str) -> None:
    """The report of what a registered venue still lacks: skipped, naming the tables, for a venue missing from
    one; passes for a venue in all of them. Fails only for a table naming a venue that is not registered."""
    for name, table in {**REQUIRED, **DOCS_REPLIES}.items():
        assert set(table) <= set(VENUES), f"{name} names unregistered venues: {sorted(set(table) - set(VENUES))}"
    gaps = [f"{name} (its checks skip {venue})" for name, table in REQUIRED.items() if venue not in table]
    gaps += [
        f"{name} (only the fake's replies are checked)" for name, table in DOCS_REPLIES.items() if venue not in table
    ]
    if gaps:
        pytest.skip(f"no hand-written reply data for {venue}: add them in {'; '.join(gaps)} to cover its replies")


# -- 3. the whole engine against a venue whose every reply is hostile -------------------------------------

# None of these says that any of our orders is cancelled, filled, unknown to the venue or refused. The two
# replies that once crashed adapters (a list-valued Binance code, HTX time "²") are pinned as examples above.
HOSTILE_REPLIES: tuple[tuple[int, bytes, dict[str, str]], ...] = (
    (200, b"", {}),
    (200, b"null", {}),
    (200, b"[]", {}),
    (200, b"{}", {}),
    (200, b'{"data": null, "code": "00000", "status": "ok"}', {}),
    (200, b"[" * 100_000, {}),
    (200, b'{"code":0,"data":{"orders":[{"orderId":9001,"status":"CANCELED"', {}),
    (200, b"\xff\xfe\x00\x01garbage", {}),
    (200, ("9" * 5000).encode(), {}),
    (200, b" " * 2_000_000 + b"{}", {}),
    (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"content-type": "text/html"}),
    (503, b"", {"retry-after": "nan"}),
    (429, b"", {"retry-after": "-5"}),
    (429, b"{}", {"retry-after": "1e400"}),
    (500, b'{"code": null}', {}),
    (200, dumps([{"orderId": 9001, "status": "CANCELED"}]), {}),
    (200, dumps({"data": {"ETH_USDT": ["1001"]}}), {}),
    (200, dumps({"status": "ok", "data": {"success": ["9001"], "failed": []}}), {}),
    (200, dumps({"code": "00000", "data": {"successList": [{"orderId": "9001"}], "failureList": []}}), {}),
    (301, b"", {"location": "http://127.0.0.1:9/elsewhere"}),
    (204, b"", {}),
)


class HostileTransport:
    """A real Transport whose every reply comes from HOSTILE_REPLIES, chosen by a seeded generator."""

    def __init__(self, seed: int, replies: tuple[tuple[int, bytes, dict[str, str]], ...] = HOSTILE_REPLIES) -> None:
        self._rng = random.Random(seed)
        self._replies = replies
        self.sent: list[HttpRequest] = []

    def send(self, base_url: str, req: HttpRequest, *, venue: str) -> HttpResponse:
        self.sent.append(req)
        status, body, hdrs = self._rng.choice(self._replies)
        return HttpResponse(status, body, hdrs)


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_engine_survives_a_venue_whose_every_reply_is_hostile(tmp_path: Path, venue: str, seed: int) -> None:
    transport = HostileTransport(seed)
    client = client_for(
        "http://127.0.0.1:1", tmp_path / "hostile.db", transport=transport, clock=FakeClock(), workers=1
    )
    ids = list(OUR_IDS)
    with client:
        r = client.cancel(venue, SYMBOLS[venue], order_ids=ids, deadline=3.0)  # fake-clock seconds
        ok, _, problem = client.verify_journal()
    assert len(transport.sent) >= 3  # it kept trying (cancels, queries, clock)
    assert r.status in ("open", "needs_attention")
    # Nothing said cancelled, filled, not found or refused: every order is still to be settled.
    assert {o.state for o in r.orders} <= {"pending", "unknown"}, r.counts
    assert ok, problem


def test_the_engine_survives_a_binance_reply_with_a_list_for_its_code(tmp_path: Path) -> None:
    transport = HostileTransport(0, replies=((500, b'{"code": [], "msg": "?"}', {}),))
    with client_for("http://127.0.0.1:1", tmp_path / "code.db", transport=transport, clock=FakeClock()) as client:
        r = client.cancel(BN, SYMBOLS[BN], order_ids=["1001"], deadline=2.0)
    # A 500 may have been applied: unknown, queried (500 again), and the job stays open.
    assert r.status == "open" and r.counts == {"unknown": 1}


# -- 4. bad user input: named, nothing stored, nothing sent -------------------------------------------------


def no_jobs(db: Path) -> bool:
    """True if the database was never created, or holds no job."""
    if not db.exists():
        return True
    con = sqlite3.connect(str(db))
    try:
        return con.execute("select count(*) from jobs").fetchone()[0] == 0
    except sqlite3.Error:
        return True
    finally:
        con.close()


SYM = SYMBOLS[BN]
CLIENT_CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    # (name, VenueConfig fields for the venue cancelled on -- or for "venue" if given --, cancel(...) kwargs,
    #  a regex the message must contain)
    ("unknown venue", {}, {"venue": "kraken", "symbol": SYM, "order_ids": ["1"]}, "unknown venue 'kraken'"),
    ("venue not a string", {}, {"venue": 7, "symbol": SYM, "order_ids": ["1"]}, "unknown venue 7"),
    ("no symbol", {}, {"symbol": None, "order_ids": ["1"]}, "symbol is required"),
    ("symbol not a string", {}, {"symbol": 123, "order_ids": ["1"]}, "symbol is required"),
    ("symbol with a slash", {}, {"symbol": "BTC/USD", "order_ids": ["1"]}, "malformed symbol 'BTC/USD'"),
    ("symbol with a newline", {}, {"symbol": SYM + "\n", "order_ids": ["1"]}, r"malformed symbol 'BTCUSD_PERP\\n'"),
    ("symbol, zero-width space", {}, {"symbol": "BTCUSD\u200b_PERP", "order_ids": ["1"]}, "malformed symbol"),
    ("id None", {}, {"symbol": SYM, "order_ids": [None]}, "None is not an id"),
    ("id True", {}, {"symbol": SYM, "order_ids": [True]}, "True is not an id"),
    ("id float", {}, {"symbol": SYM, "order_ids": [1.5]}, "1.5 is not an id"),
    ("id dict", {}, {"symbol": SYM, "order_ids": [{"id": 1}]}, r"\{'id': 1\} is not an id"),
    ("ids a string", {}, {"symbol": SYM, "order_ids": "123"}, "single string"),
    ("ids bytes", {}, {"symbol": SYM, "order_ids": b"123"}, "single string"),
    ("empty id", {}, {"symbol": SYM, "order_ids": ["1", ""]}, "empty id"),
    ("blank id", {}, {"symbol": SYM, "order_ids": ["   "]}, "empty id"),
    ("duplicate id", {}, {"symbol": SYM, "order_ids": ["7", 7]}, "duplicate order_id '7'"),
    ("non-numeric id", {}, {"symbol": SYM, "order_ids": ["12x"]}, "'12x'"),
    ("negative id", {}, {"symbol": SYM, "order_ids": [-5]}, "'-5'"),
    ("id past a LONG", {}, {"symbol": SYM, "order_ids": [2**70]}, str(2**70)),
    ("unicode digits", {}, {"venue": "htx", "symbol": "btcusdt", "order_ids": ["١٢٣"]}, "'١٢٣'"),
    ("quote in an id", {}, {"venue": "bitget", "symbol": "BTCUSDT", "order_ids": ['1"2']}, "'1\"2'"),
    ("client id with a comma", {}, {"venue": "bingx", "symbol": "BTC-USDT", "client_order_ids": ["a,b"]}, "'a,b'"),
    ("both id kinds", {}, {"symbol": SYM, "order_ids": ["1"], "client_order_ids": ["a"]}, "exactly one"),
    ("no ids at all", {}, {"symbol": SYM}, "exactly one"),
    ("empty list", {}, {"symbol": SYM, "order_ids": []}, "empty"),
    ("ref with both ids", {}, {"orders": [OrderRef(SYM, "1", "a")]}, "exactly one of order_id and client_order_id"),
    ("ref with no id", {}, {"orders": [OrderRef(SYM)]}, "exactly one of order_id and client_order_id"),
    ("not a ref", {}, {"orders": ["1"]}, "'1'"),
    (
        "client ids on BitoPro",
        {},
        {"venue": "bitopro", "symbol": "BTC_USDT", "client_order_ids": ["a"]},
        "bitopro cannot cancel by client_order_id",
    ),
    ("empty key", {}, {"symbol": SYM, "order_ids": ["1"], "key": ""}, "idempotency key"),
    ("key with a NUL", {}, {"symbol": SYM, "order_ids": ["1"], "key": "a\x00b"}, "idempotency key"),
    ("key too long", {}, {"symbol": SYM, "order_ids": ["1"], "key": "k" * 201}, "idempotency key must be 1-200"),
    ("key not a string", {}, {"symbol": SYM, "order_ids": ["1"], "key": 5}, "idempotency key"),
    ("empty account", {}, {"symbol": SYM, "order_ids": ["1"], "account": ""}, "account label"),
    ("deadline zero", {}, {"symbol": SYM, "order_ids": ["1"], "deadline": 0}, "deadline"),
    ("deadline NaN", {}, {"symbol": SYM, "order_ids": ["1"], "deadline": float("nan")}, "deadline"),
    ("deadline a string", {}, {"symbol": SYM, "order_ids": ["1"], "deadline": "10"}, "deadline"),
    ("ftp base URL", {"base_url": "ftp://127.0.0.1/"}, {"symbol": SYM, "order_ids": ["1"]}, "not an http"),
    (
        "base URL with user info",
        {"base_url": "http://u:p@127.0.0.1:1"},
        {"symbol": SYM, "order_ids": ["1"]},
        "user info",
    ),
    ("base URL with a query", {"base_url": "http://127.0.0.1:1/?x=1"}, {"symbol": SYM, "order_ids": ["1"]}, "query"),
    ("base URL not a URL", {"base_url": "not-a-url"}, {"symbol": SYM, "order_ids": ["1"]}, "'not-a-url'"),
    (
        "base URL for an unknown venue",
        {"venue": "kraken", "base_url": "http://127.0.0.1:1"},
        {"symbol": SYM, "order_ids": ["1"]},
        "'kraken'",
    ),
    (
        "batch size too big",
        {"batch_size": 11},
        {"symbol": SYM, "order_ids": ["1"]},
        "batch size must be between 1 and 10",
    ),
    ("batch size zero", {"batch_size": 0}, {"symbol": SYM, "order_ids": ["1"]}, "batch size"),
    ("bad venue option", {"options": {"nope": 1}}, {"symbol": SYM, "order_ids": ["1"]}, "bad venue option"),
    ("no credentials", {"credentials": None}, {"symbol": SYM, "order_ids": ["1"]}, "SAFECANCEL_BINANCE_COINM_API_KEY"),
    (
        "Bitget without passphrase",
        {"venue": "bitget", "credentials": Credentials("test-key", "test-secret")},
        {"venue": "bitget", "symbol": "BTCUSDT", "order_ids": ["1"]},
        "passphrase",
    ),
]


@pytest.mark.parametrize(("name", "client_kw", "cancel_kw", "needle"), CLIENT_CASES, ids=[c[0] for c in CLIENT_CASES])
def test_bad_input_through_the_client_is_named_and_nothing_is_stored_or_sent(
    fake: FakeVenue, tmp_path: Path, name: str, client_kw: dict[str, Any], cancel_kw: dict[str, Any], needle: str
) -> None:
    db = tmp_path / "journal.db"
    kw = dict(cancel_kw)
    venue = kw.pop("venue", BN)
    symbol = kw.pop("symbol", None)
    configs: dict[Any, dict[str, Any]] = {v: {"credentials": CREDS, "base_url": fake.url} for v in VENUES}
    fields = dict(client_kw)
    target = fields.pop("venue", venue)
    with pytest.raises(InputError, match=needle):
        if client_kw:
            configs[target] = {**configs.get(target, {}), **fields}
        venues = [VenueConfig(v, **f) for v, f in configs.items()]
        Client(str(db), venues=venues, retry=FAST, environ={}).cancel(venue, symbol, **kw)
    assert not db.exists()  # validated before the journal is even opened
    assert fake.requests() == []


@pytest.mark.parametrize("workers", [0, 65, 1.5, "4"])
def test_bad_worker_counts_are_refused(tmp_path: Path, workers: Any) -> None:
    with pytest.raises(InputError, match="workers"):
        Client(str(tmp_path / "w.db"), workers=workers, environ={})
    assert not (tmp_path / "w.db").exists()


def test_a_list_over_the_million_order_limit_is_refused_before_anything_is_stored(
    fake: FakeVenue, tmp_path: Path
) -> None:
    db = tmp_path / "huge.db"
    client = client_for(fake.url, db)  # an existing journal: no job rows may appear in it
    ids = range(1, 1_000_002)  # 1,000,001 distinct ids, built lazily
    with pytest.raises(InputError, match="1000001 orders in one job; the limit is 1000000"):
        client.cancel(BN, SYM, order_ids=ids)
    client.close()
    assert no_jobs(db) and fake.requests() == []


def test_a_list_over_the_limit_through_the_command_line(fake: FakeVenue, tmp_path: Path) -> None:
    db = tmp_path / "huge-cli.db"
    env = {k: v for k, v in venue_env(fake.url).items() if k.startswith("SAFECANCEL_")}
    ids = ",".join(map(str, range(1, 1_000_002)))
    r = CliRunner().invoke(cli, ["cancel", "--venue", BN, "--symbol", SYM, "--ids", ids, "--db", str(db)], env=env)
    assert r.exit_code == 2, r.output
    assert "1000001 orders in one job; the limit is 1000000" in r.output
    assert not db.exists() and fake.requests() == []


CLI_CASES: list[tuple[str, list[str], str]] = [
    ("empty id in the list", ["--venue", BN, "--symbol", SYM, "--ids", "1,,2"], "empty id"),
    ("non-numeric id", ["--venue", BN, "--symbol", SYM, "--ids", "12x"], "'12x'"),
    ("duplicate id", ["--venue", BN, "--symbol", SYM, "--ids", "1,1"], "duplicate order_id '1'"),
    ("empty --ids", ["--venue", BN, "--symbol", SYM, "--ids", ""], "empty"),
    ("both --ids and --client-ids", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--client-ids", "a"], "exactly one"),
    ("neither --ids nor --client-ids", ["--venue", BN, "--symbol", SYM], "exactly one"),
    ("id with a newline", ["--venue", "bingx", "--symbol", "BTC-USDT", "--ids", "12\n3"], r"'12\\n3'"),
    ("id too long", ["--venue", BN, "--symbol", SYM, "--ids", "1" * 25], "1" * 25),
    ("unknown venue", ["--venue", "kraken", "--symbol", SYM, "--ids", "1"], "'kraken'"),
    ("symbol with a slash", ["--venue", BN, "--symbol", "BTC/USD", "--ids", "1"], "'BTC/USD'"),
    ("empty symbol", ["--venue", BN, "--symbol", "", "--ids", "1"], "symbol is required"),
    ("path in a symbol", ["--venue", "bitopro", "--symbol", "../../etc", "--ids", "1"], "'../../etc'"),
    ("lower-case Binance symbol", ["--venue", BN, "--symbol", "btcusd_perp", "--ids", "1"], "'btcusd_perp'"),
    ("empty key", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--key", ""], "idempotency key"),
    ("key with a bell", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--key", "a\x07b"], "idempotency key"),
    ("key too long", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--key", "k" * 201], "1-200"),
    ("ftp base URL", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--base-url", "ftp://127.0.0.1/"], "not an http"),
    (
        "base URL with credentials",
        ["--venue", BN, "--symbol", SYM, "--ids", "1", "--base-url", "http://u:test-secret@127.0.0.1:1"],
        "user info",
    ),
    (
        "base URL with a query",
        ["--venue", BN, "--symbol", SYM, "--ids", "1", "--base-url", "http://127.0.0.1:1/?a=1"],
        "query",
    ),
    (
        "javascript: URL",
        ["--venue", BN, "--symbol", SYM, "--ids", "1", "--base-url", "javascript:alert(1)"],
        "not an http",
    ),
    ("batch size too big", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--batch-size", "11"], "batch size"),
    ("no workers", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--workers", "0"], "workers"),
    ("negative deadline", ["--venue", BN, "--symbol", SYM, "--ids", "1", "--deadline", "-1"], "deadline"),
    ("stop-limit id on BitoPro", ["--venue", "bitopro", "--symbol", "BTC_USDT", "--ids", "SL-1"], "'SL-1'"),
]


@pytest.mark.parametrize(("name", "args", "needle"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_input_through_the_command_line_exits_2_naming_it(
    fake: FakeVenue, tmp_path: Path, name: str, args: list[str], needle: str
) -> None:
    db = tmp_path / "cli.db"
    env = {k: v for k, v in venue_env(fake.url).items() if k.startswith("SAFECANCEL_")}
    r = CliRunner().invoke(cli, ["cancel", *args, "--db", str(db)], env=env)
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert re.search(needle, r.output), r.output
    assert not db.exists()
    assert fake.requests() == []


def db_cases(tmp: Path) -> dict[str, tuple[Path, int, str]]:
    """Journal paths that are not usable: (path, exit code, message fragment). 2: bad input; 5: the
    file is there but is not our journal (the command line's "database could not be used")."""
    text = tmp / "notes.txt"
    text.write_text("not a database\n" * 20)
    foreign = tmp / "foreign.db"
    con = sqlite3.connect(str(foreign))
    con.execute("create table customers (id integer primary key, name text)")
    con.execute("insert into customers (name) values ('someone')")
    con.commit()
    con.close()
    corrupt = tmp / "corrupt.db"
    corrupt.write_bytes(b"SQLite format 3\x00" + bytes(random.Random(7).getrandbits(8) for _ in range(4096)))
    return {
        "a directory": (tmp, 2, "not a regular file"),
        "a missing directory": (tmp / "nope" / "j.db", 2, "does not exist"),
        "a text file": (text, 5, "not a SQLite database"),
        "another program's SQLite database": (foreign, 5, "not safecancel's \\(customers\\)"),
        "a corrupt SQLite file": (corrupt, 5, "file is not a database"),
    }


@pytest.mark.parametrize(
    "case",
    ["a directory", "a missing directory", "a text file", "another program's SQLite database", "a corrupt SQLite file"],
)
def test_unusable_database_paths_are_refused_and_never_overwritten(fake: FakeVenue, tmp_path: Path, case: str) -> None:
    path, code, needle = db_cases(tmp_path)[case]
    before = path.read_bytes() if path.is_file() else None
    env = {k: v for k, v in venue_env(fake.url).items() if k.startswith("SAFECANCEL_")}
    r = CliRunner().invoke(cli, ["cancel", "--venue", BN, "--symbol", SYM, "--ids", "1", "--db", str(path)], env=env)
    assert r.exit_code == code, (r.exit_code, r.output)
    assert re.search(needle, r.output), r.output
    with pytest.raises(InputError if code == 2 else StoreError, match=needle):
        client_for(fake.url, path)
    if case == "another program's SQLite database":
        # Its data is untouched and nothing of ours was added. (Its header is changed, though:
        # see test_another_programs_sqlite_database_is_left_byte_for_byte_unchanged.)
        con = sqlite3.connect(str(path))
        try:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            assert tables == {"customers"}
            assert con.execute("select name from customers").fetchall() == [("someone",)]
        finally:
            con.close()
    elif before is not None:
        assert path.read_bytes() == before  # not migrated, not truncated, not "repaired"
    assert not path.parent.joinpath("nope").exists()
    assert fake.requests() == []


def test_another_programs_sqlite_database_is_left_byte_for_byte_unchanged(tmp_path: Path) -> None:
    path = db_cases(tmp_path)["another program's SQLite database"][0]
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not safecancel's"):
        Client(str(path), environ={}).history()
    assert path.read_bytes() == before


def test_debug_logging_on_the_command_line_never_prints_an_api_key(fake: FakeVenue, tmp_path: Path) -> None:
    fake.seed("htx", "btcusdt", [{"order_id": "7500"}])
    res = run_cli(
        ["-vv", "cancel", "--venue", "htx", "--symbol", "btcusdt", "--ids", "7500", "--json"],
        venue_env(fake.url, tmp_path / "vv.db"),
    )
    assert res.returncode == 0, res.stderr[-500:]
    assert "DEBUG" in res.stderr  # debug logging was on
    assert scan(res.stdout + res.stderr, "safecancel -vv output") == []


@pytest.mark.parametrize("key", ["test\nkey", "ключ"])
def test_an_api_key_that_cannot_travel_in_a_header_is_bad_input(fake: FakeVenue, tmp_path: Path, key: str) -> None:
    db = tmp_path / "key.db"
    fake.seed(BN, SYM, [{"order_id": "1"}])
    with pytest.raises(InputError, match="api_key"):
        venues = [VenueConfig(BN, credentials=Credentials(key, "test-secret"), base_url=fake.url)]
        Client(str(db), venues=venues, retry=FAST, environ={}, deadline=1.0).cancel(BN, SYM, order_ids=["1"])
    assert no_jobs(db)
    assert [r for r in fake.requests() if r["endpoint"] == "cancel"] == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://127.0.0.1:1\n", "http://[::1"]
)
def test_a_base_url_that_cannot_be_requested_is_bad_input(tmp_path: Path, url: str) -> None:
    db = tmp_path / "url.db"
    with pytest.raises(InputError, match="base URL"):
        Client(str(db), venues=[VenueConfig(BN, credentials=CREDS, base_url=url)], retry=FAST, environ={}).cancel(
            BN, SYM, order_ids=["1"], deadline=0.3
        )
    assert no_jobs(db)


def test_a_rejected_base_url_is_not_echoed_with_its_credentials(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        venues = [VenueConfig(BN, base_url="ftp://user:test-secret@127.0.0.1/")]
        Client(str(tmp_path / "u.db"), venues=venues, environ={})
    assert "test-secret" not in str(err.value)


def test_an_in_memory_database_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # wherever it goes wrong, it goes wrong here
    try:
        with pytest.raises(InputError, match="in-memory"), Client(":memory:", environ={}) as c:
            c.history()
    finally:
        assert not (tmp_path / ":memory:").exists()


def test_a_database_url_with_a_bad_port_is_bad_input() -> None:
    with pytest.raises(InputError, match="database URL"):
        Client("postgresql+psycopg://user:pw@db.invalid:port/journal", environ={}).history()


# -- 5. secrets ----------------------------------------------------------------------------------------------


def scan(blob: bytes | str, where: str) -> list[str]:
    data = blob.encode("utf-8", "replace") if isinstance(blob, str) else blob
    return [f"{secret!r} in {where}" for secret in SECRETS if secret.encode() in data]


def test_no_secret_reaches_a_database_a_log_or_an_error_text(
    fake: FakeVenue, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[tuple[str, str]] = []  # (where, text) of every error and output seen

    def remember(where: str, exc: BaseException) -> None:
        texts.append((where, "".join(traceback.format_exception(exc)) + repr(exc)))

    # Faults on every venue, through the library (the journal keeps every reply as evidence); one
    # thread per venue, since BitoPro's and BingX's rate limits make each of their jobs take 0.5 s.
    def workload(venue: str) -> None:
        sym = SYMBOLS[venue]
        with client_for(fake.url, tmp_path / f"secrets-{venue}.db") as client:
            for n, fault in enumerate(("drop_after_apply", "malformed", "omit", "fill_before_cancel")):
                ids = [str(7000 + 10 * n + i) for i in range(3)]
                fake.seed(venue, sym, [{"order_id": i} for i in ids])
                fake.fault(venue, "cancel", fault)
                client.cancel(venue, sym, order_ids=ids)
            ids = ["7100", "7101"]
            fake.seed(venue, sym, [{"order_id": i} for i in ids])
            fake.fault(venue, "cancel", "status", status=429, retry_after=0)
            fake.fault(venue, "query", "status", status=500)
            client.cancel(venue, sym, order_ids=ids)
            texts.append((f"{venue} job", json.dumps(client.job(client.history()[0].job_id).to_json())))
        # A wrong secret: the venue refuses it, and the error must not repeat any credential.
        wrong = Credentials("test-key", "test-secret-but-wrong", passphrase="test-pass", identity=IDENTITY)
        configs = [VenueConfig(venue, credentials=wrong, base_url=fake.url)]
        with client_for(fake.url, tmp_path / f"secrets-auth-{venue}.db", venues=configs) as client:
            fake.seed(venue, sym, [{"order_id": "7200"}])
            try:
                client.cancel(venue, sym, order_ids=["7200"])
            except SafeCancelError as exc:
                remember(f"{venue} auth failure", exc)

    failures: list[BaseException] = []

    def guarded(venue: str) -> None:
        try:
            workload(venue)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(v,)) for v in VENUES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    # Bad input that carries credentials in it.
    for bad in ("http://user:test-secret@127.0.0.1:1", "http://test-key@127.0.0.1:1"):
        try:
            client_for(fake.url, tmp_path / "bad.db", venues=[VenueConfig(BN, credentials=CREDS, base_url=bad)])
        except SafeCancelError as exc:
            remember("bad base URL", exc)
    texts.append(("Credentials repr", repr(CREDS) + str(CREDS)))
    # The command line, in a child process with full debug logging, and a killed child.
    env = venue_env(fake.url, tmp_path / "secrets-cli.db")
    fake.seed(BN, SYM, [{"order_id": "7300"}, {"order_id": "7301"}])
    fake.fault(BN, "cancel", "drop_after_apply")
    res = run_cli(["-vv", "cancel", "--venue", BN, "--symbol", SYM, "--ids", "7300,7301", "--json"], env)
    assert res.returncode == 0, res.stderr[-500:]
    texts.append(("cli stdout", res.stdout))
    texts.append(("cli stderr (-vv)", res.stderr))
    fake.seed("bitopro", "BTC_USDT", [{"order_id": str(7400 + i)} for i in range(10)])
    child = spawn_cancel_child(
        venue_env(fake.url, tmp_path / "secrets-killed.db"),
        {
            "venue": "bitopro",
            "symbol": "BTC_USDT",
            "ids": [str(7400 + i) for i in range(10)],
            "key": "killed",
            "batch": 2,
            "workers": 1,
            "lease_ttl": 1.0,
            "deadline": 10,
        },
    )
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=1.0)  # it may finish first; either way its output is scanned
    sigkill(child)
    out, err = child.communicate()
    texts.append(("killed child", out + err))

    hits: list[str] = []
    for where, text in texts:
        hits += scan(text, where)
    for record in caplog.records:
        if record.name.startswith("urllib3"):
            continue  # urllib3 logs URLs at DEBUG (HTX's carry AccessKeyId): the CLI keeps it at INFO, tested above
        hits += scan(record.getMessage() + repr(record.args) + (record.exc_text or ""), f"log {record.name}")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)
    for p in files:
        hits += scan(p.read_bytes(), str(p.relative_to(tmp_path)))
    assert hits == [], "\n".join(sorted(set(hits)))
    assert len(caplog.records) > 0  # the engine did log (warnings about unknown orders at least)


def test_no_secret_in_any_cassette() -> None:
    cassettes = [
        p
        for d in (ROOT / "cassettes", ROOT / "tests" / "cassettes")
        if d.is_dir()
        for p in d.rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json")
    ]
    hits = [hit for p in cassettes for hit in scan(p.read_bytes(), str(p.relative_to(ROOT)))]
    assert hits == []


def test_database_files_are_created_readable_by_their_owner_only(fake: FakeVenue, tmp_path: Path) -> None:
    db = tmp_path / "private.db"
    fake.seed(BN, SYM, [{"order_id": "1"}])
    old = os.umask(0o022)  # a permissive umask must not matter
    try:
        with opened(client_for(fake.url, db)) as c:
            c.cancel(BN, SYM, order_ids=["1"])
            modes = {
                p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir() if p.name.startswith("private.db")
            }
    finally:
        os.umask(old)
    assert modes and set(modes.values()) == {"0o600"}, modes


def test_a_port_nothing_listens_on_is_transport_trouble_not_bad_input(tmp_path: Path) -> None:
    # The counterpart of the catalogue: a well-formed but dead URL is accepted as input (the job is
    # journaled and stays pending, resumable), because whether a venue answers is not the caller's error.
    with client_for(f"http://127.0.0.1:{closed_port()}", tmp_path / "dead.db") as c:
        r = c.cancel(BN, SYM, order_ids=["1"], deadline=0.2)
    assert r.status == "open" and r.counts == {"pending": 1}
