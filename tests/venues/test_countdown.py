"""The venue's own dead-man countdown (issue #15): Binance COIN-M, BingX spot and HTX spot.

One table (:data:`CASES`) says what each venue documents; every test runs over it against the real fake venue
on loopback, with the adapter's requests sent through :class:`~safecancel.transport.RequestsTransport`: arm,
renew and disarm as the fake's ledger records them, what a fired countdown cancels (and what it leaves),
timeouts and symbols refused before anything is sent, the venues' documented replies, and failures classified
as the adapters classify every other endpoint. Firing is driven with ``fake.ledger.fire_due`` at the trigger
time rather than waited for, except once, on the venue whose range allows a 1 s countdown, to show the fake
fires on its own clock.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from safecancel.errors import InputError
from safecancel.model import Countdown, Credentials, Failure, FailureKind, HttpRequest, HttpResponse
from safecancel.testing import FakeVenue
from safecancel.transport import RequestsTransport
from safecancel.venues import VENUE_NAMES, venue_class
from safecancel.venues.base import Rate, VenueAdapter
from tests.conftest import CREDS


@dataclass(frozen=True)
class Case:
    """What a venue documents about its countdown, and what a test needs to exercise it."""

    scope: str  # "symbol": one countdown per symbol; "account": one for every symbol
    range_s: tuple[int, int]  # the timeouts accepted when arming (seconds, inclusive)
    rate: Rate  # what the adapter paces at
    cap: int | None  # at most this many orders cancelled when it fires
    cancels_conditional: bool  # trigger orders are among what it cancels (they rest on the ordinary book)
    reports_trigger: bool  # the reply names the trigger time
    other_symbol: str  # a second valid symbol, which a symbol-scoped countdown must leave alone
    # The reply classification of status faults on this endpoint, per HTTP status.
    status_kinds: dict[int, FailureKind]


CASES: dict[str, Case] = {
    "binance_coinm": Case(
        scope="symbol",
        range_s=(1, 3600),
        rate=Rate(1, 1.0),
        cap=None,
        cancels_conditional=True,
        reports_trigger=False,
        other_symbol="ETHUSD_PERP",
        # 503 "Service Unavailable." (-1001) was not processed; any other 5xx may have been.
        status_kinds={
            429: FailureKind.RATE_LIMITED,
            503: FailureKind.NOT_PROCESSED,
            500: FailureKind.UNKNOWN_OUTCOME,
        },
    ),
    "bingx": Case(
        scope="account",
        range_s=(10, 120),
        rate=Rate(1, 1.0),
        cap=None,
        cancels_conditional=False,
        reports_trigger=True,
        other_symbol="ETH-USDT",
        # 503 is BingX's "Server busy" (100503): not processed; a gateway's 500 page may have been applied.
        status_kinds={
            429: FailureKind.RATE_LIMITED,
            503: FailureKind.NOT_PROCESSED,
            500: FailureKind.UNKNOWN_OUTCOME,
        },
    ),
    "htx": Case(
        scope="account",
        range_s=(5, 3600),
        rate=Rate(1, 1.0),
        cap=500,
        cancels_conditional=False,
        reports_trigger=True,
        other_symbol="ethusdt",
        # Every HTX 5xx may have been applied (a gateway can fail after HTX acted): arm again.
        status_kinds={
            429: FailureKind.RATE_LIMITED,
            503: FailureKind.UNKNOWN_OUTCOME,
            500: FailureKind.UNKNOWN_OUTCOME,
        },
    ),
}
NATIVE = list(CASES)
WITHOUT = ("bitopro", "bitget")  # a dead-man switch there runs a local guardian
CLASSES: dict[str, type[VenueAdapter]] = {v: venue_class(v) for v in VENUE_NAMES}
TIMEOUT_S = 30  # within every venue's range, and long enough that the fake's own clock never fires it mid-test


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def transport() -> Iterator[RequestsTransport]:
    t = RequestsTransport()
    yield t
    t.close()


def scoped(venue: str) -> str | None:
    """The symbol a countdown request names: the example symbol where one countdown covers one symbol."""
    cls = CLASSES[venue]
    return cls.example_symbol if cls.countdown_scope == "symbol" else None


def send(transport: RequestsTransport, fake: FakeVenue, venue: str, req: HttpRequest) -> HttpResponse:
    return transport.send(fake.url, req, venue=venue)


def countdown(
    transport: RequestsTransport,
    fake: FakeVenue,
    venue: str,
    timeout_s: int,
    creds: Credentials = CREDS,
) -> Failure | Countdown:
    a = CLASSES[venue](fake.url)
    req = a.build_countdown(scoped(venue), timeout_s, creds, now_ms())
    assert req.endpoint == "countdown" and req.method == "POST"
    return a.parse_countdown(send(transport, fake, venue, req))


def switch(fake: FakeVenue, venue: str) -> dict[str, Any]:
    """The venue's one countdown on the fake (every test arms at most one)."""
    switches = fake.deadman(venue)
    assert len(switches) == 1, switches
    return switches[0]


def seed(fake: FakeVenue, venue: str, symbol: str, n: int, *, conditional: bool = False) -> list[str]:
    return [o["order_id"] for o in fake.seed(venue, symbol, [{"conditional": conditional} for _ in range(n)])]


# -- facts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("venue", NATIVE)
def test_the_adapter_states_the_venues_countdown_facts(venue: str) -> None:
    cls, case = CLASSES[venue], CASES[venue]
    assert cls.countdown_scope == case.scope
    assert cls.countdown_range_s == case.range_s
    assert cls.countdown_rate == case.rate
    assert cls.countdown_cap == case.cap


def test_only_the_venues_without_a_countdown_say_so() -> None:
    assert {v for v, cls in CLASSES.items() if cls.countdown_scope is None} == set(WITHOUT)
    assert {v for v, cls in CLASSES.items() if cls.countdown_scope is not None} == set(NATIVE)


@pytest.mark.parametrize("venue", WITHOUT)
def test_a_venue_without_a_countdown_refuses_to_build_one(venue: str) -> None:
    cls = CLASSES[venue]
    a = cls()
    for symbol, timeout_s in ((cls.example_symbol, TIMEOUT_S), (None, TIMEOUT_S), (cls.example_symbol, 0)):
        with pytest.raises(InputError, match="has no countdown"):
            a.build_countdown(symbol, timeout_s, CREDS, now_ms())
    out = a.parse_countdown(HttpResponse(200, b'{"ok": true}'))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED


@pytest.mark.parametrize("venue", NATIVE)
def test_the_adapter_never_paces_faster_than_the_fake_allows(venue: str, fake_server: FakeVenue) -> None:
    # BingX budgets the endpoint (2/s), Binance spends its one shared budget, HTX documents no rate.
    dialect = fake_server.dialects[venue]
    rates = getattr(dialect, "rates", None)
    allowed = dialect.rate if rates is None else rates.get("countdown")
    if venue == "bingx":
        assert tuple(allowed) == (2, 1.0)
    if allowed is not None:
        assert CLASSES[venue].countdown_rate.per_second <= allowed[0] / allowed[1]


# -- arm, renew, disarm -----------------------------------------------------------------------------


@pytest.mark.parametrize("venue", NATIVE)
def test_arm_renew_and_disarm(venue: str, fake: FakeVenue, transport: RequestsTransport) -> None:
    case = CASES[venue]
    ids = seed(fake, venue, CLASSES[venue].example_symbol, 2)
    before = now_ms()
    armed = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(armed, Countdown) and armed.armed, armed
    sw = switch(fake, venue)
    assert sw["state"] == "armed" and sw["renewals"] == 0
    assert sw["symbol"] == scoped(venue)  # one symbol (Binance) or the whole account (None)
    assert sw["timeout_ms"] == TIMEOUT_S * 1000
    assert sw["trigger_ms"] - sw["armed_ms"] == TIMEOUT_S * 1000
    if case.reports_trigger:
        # BingX names the trigger in whole seconds (read down to the second: never later than the venue's).
        assert armed.trigger_ms is not None
        assert sw["trigger_ms"] - 1000 < armed.trigger_ms <= sw["trigger_ms"]
        assert armed.trigger_ms >= before + TIMEOUT_S * 1000 - 1000
    else:
        assert armed.trigger_ms is None  # Binance's echo names no trigger time
    first_trigger = sw["trigger_ms"]

    renewed = countdown(transport, fake, venue, 2 * TIMEOUT_S)
    assert isinstance(renewed, Countdown) and renewed.armed, renewed
    sw = switch(fake, venue)  # the same countdown, renewed: not a second one
    assert sw["state"] == "armed" and sw["renewals"] == 1
    assert sw["timeout_ms"] == 2 * TIMEOUT_S * 1000
    assert sw["trigger_ms"] >= first_trigger + TIMEOUT_S * 1000
    if case.reports_trigger:
        assert renewed.trigger_ms is not None and armed.trigger_ms is not None
        assert renewed.trigger_ms >= armed.trigger_ms + TIMEOUT_S * 1000 - 1000

    off = countdown(transport, fake, venue, 0)
    assert off == Countdown(armed=False, trigger_ms=None)
    sw = switch(fake, venue)
    assert sw["state"] == "disarmed" and sw["ended_ms"] is not None and sw["cancelled"] == []
    # A disarmed countdown never fires: the orders stay open however much time passes.
    assert fake.ledger.fire_due(venue, sw["trigger_ms"] + 3_600_000) == []
    assert {fake.order_status(venue)[i] for i in ids} == {"open"}
    assert [r["endpoint"] for r in fake.requests(venue)] == ["countdown"] * 3


# -- what a fired countdown cancels -----------------------------------------------------------------


@pytest.mark.parametrize("venue", NATIVE)
def test_a_fired_countdown_cancels_the_orders_in_its_scope(
    venue: str, fake: FakeVenue, transport: RequestsTransport
) -> None:
    case, symbol = CASES[venue], CLASSES[venue].example_symbol
    here = seed(fake, venue, symbol, 3)
    triggers = seed(fake, venue, symbol, 2, conditional=True)
    elsewhere = seed(fake, venue, case.other_symbol, 3)
    armed = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(armed, Countdown) and armed.armed, armed
    trigger_ms = switch(fake, venue)["trigger_ms"]
    # Not a millisecond early; then exactly at the trigger time, on the venue's clock.
    assert fake.ledger.fire_due(venue, trigger_ms - 1) == []
    assert len(fake.ledger.fire_due(venue, trigger_ms)) == 1

    expected = set(here)
    if case.cancels_conditional:  # Binance: trigger orders rest on the ordinary book
        expected |= set(triggers)
    if case.scope == "account":  # BingX, HTX: every symbol of the account
        expected |= set(elsewhere)
    status = fake.order_status(venue)
    assert {i for i in here + triggers + elsewhere if status[i] == "cancelled"} == expected
    assert {status[i] for i in set(here + triggers + elsewhere) - expected} <= {"open"}
    sw = switch(fake, venue)
    assert sw["state"] == "fired" and sw["ended_ms"] == trigger_ms
    assert set(sw["cancelled"]) == expected
    # Fired means over: a later tick fires nothing more, and arming again starts a new countdown.
    assert fake.ledger.fire_due(venue, trigger_ms + 3_600_000) == []


@pytest.mark.parametrize("venue", [v for v, c in CASES.items() if c.cap is not None])
def test_a_fired_countdown_cancels_at_most_the_documented_number(
    venue: str, fake: FakeVenue, transport: RequestsTransport
) -> None:
    cap = CASES[venue].cap
    assert cap is not None
    ids = seed(fake, venue, CLASSES[venue].example_symbol, cap + 5)
    assert isinstance(countdown(transport, fake, venue, TIMEOUT_S), Countdown)
    fake.ledger.fire_due(venue, switch(fake, venue)["trigger_ms"])
    status = fake.order_status(venue)
    assert [status[i] for i in ids] == ["cancelled"] * cap + ["open"] * 5  # the oldest `cap` of them
    assert len(switch(fake, venue)["cancelled"]) == cap


@pytest.mark.parametrize("venue", [v for v, c in CASES.items() if c.range_s[0] <= 1])
def test_a_short_countdown_fires_on_the_fakes_own_clock(
    venue: str, fake: FakeVenue, transport: RequestsTransport
) -> None:
    ids = seed(fake, venue, CLASSES[venue].example_symbol, 2)
    out = countdown(transport, fake, venue, 1)
    assert isinstance(out, Countdown) and out.armed, out
    deadline = time.monotonic() + 3.0
    while switch(fake, venue)["state"] == "armed" and time.monotonic() < deadline:
        time.sleep(0.05)
    sw = switch(fake, venue)
    assert sw["state"] == "fired" and set(sw["cancelled"]) == set(ids)
    assert {fake.order_status(venue)[i] for i in ids} == {"cancelled"}


# -- refused before anything is sent ------------------------------------------------------------------


@pytest.mark.parametrize("venue", NATIVE)
def test_a_timeout_outside_the_range_is_refused_naming_it(venue: str) -> None:
    a = CLASSES[venue]()
    low, high = CASES[venue].range_s
    symbol = scoped(venue)
    for ok in (0, low, high):
        assert a.build_countdown(symbol, ok, CREDS, now_ms()).endpoint == "countdown"
    for bad in sorted({low - 1, high + 1, -1, -TIMEOUT_S, 10**9} - {0}):
        with pytest.raises(InputError, match=rf"{venue}: .*0 \(disarm\) or {low}\.\.{high} seconds, got {bad}$"):
            a.build_countdown(symbol, bad, CREDS, now_ms())
    for junk in (1.5, float(TIMEOUT_S), str(TIMEOUT_S), True, None):
        with pytest.raises(InputError, match=rf"{venue}: .*whole seconds.*got {re.escape(repr(junk))}"):
            a.build_countdown(symbol, junk, CREDS, now_ms())  # type: ignore[arg-type]


@pytest.mark.parametrize("venue", NATIVE)
def test_the_symbol_is_checked_as_validate_checks_it(venue: str) -> None:
    cls = CLASSES[venue]
    a = cls()
    for bad in ("bad symbol\x00", "", "BTC/USD"):
        with pytest.raises(InputError, match=rf"{venue}: malformed symbol"):
            a.build_countdown(bad, TIMEOUT_S, CREDS, now_ms())
    if cls.countdown_scope == "symbol":
        with pytest.raises(InputError, match=rf"{venue}: .*needs it, e\.g\. {cls.example_symbol}"):
            a.build_countdown(None, TIMEOUT_S, CREDS, now_ms())
        assert cls.example_symbol in a.build_countdown(cls.example_symbol, TIMEOUT_S, CREDS, now_ms()).query
    else:
        # One countdown for the whole account: a (valid) symbol changes nothing in what is sent.
        t = now_ms()
        with_symbol = a.build_countdown(cls.example_symbol, TIMEOUT_S, CREDS, t)
        without = a.build_countdown(None, TIMEOUT_S, CREDS, t)
        assert (with_symbol.target, with_symbol.body) == (without.target, without.body)


# The fake refuses what the venue documents it refuses, in the venue's own words (requests signed with the
# adapter's own signing but parameters the adapter would never send).


def _binance(params: list[tuple[str, str]]) -> Callable[[Any], HttpRequest]:
    def build(a: Any) -> HttpRequest:
        query, headers = a._signed(params, CREDS, now_ms())
        return HttpRequest("POST", "/dapi/v1/countdownCancelAll", query, None, headers, "countdown")

    return build


def _bingx(params: dict[str, str]) -> Callable[[Any], HttpRequest]:
    def build(a: Any) -> HttpRequest:
        query, headers = a._signed(params, CREDS, now_ms())
        return HttpRequest("POST", "/openApi/spot/v1/trade/cancelAllAfter", query, None, headers, "countdown")

    return build


def _htx(body: dict[str, Any]) -> Callable[[Any], HttpRequest]:
    def build(a: Any) -> HttpRequest:
        path = "/v2/algo-orders/cancel-all-after"
        query = a._signed_query("POST", path, (), CREDS, now_ms())
        return HttpRequest(
            "POST", path, query, json.dumps(body).encode(), {"Content-Type": "application/json"}, "countdown"
        )

    return build


REFUSED: list[tuple[str, str, Callable[[Any], HttpRequest], str]] = [
    ("binance_coinm", "no symbol", _binance([("countdownTime", "30000")]), "-1102"),
    ("binance_coinm", "bad symbol", _binance([("symbol", "BTCUSD"), ("countdownTime", "30000")]), "-1121"),
    ("binance_coinm", "no countdownTime", _binance([("symbol", "BTCUSD_PERP")]), "-1102"),
    ("binance_coinm", "negative", _binance([("symbol", "BTCUSD_PERP"), ("countdownTime", "-5")]), "-1100"),
    ("bingx", "below 10 s", _bingx({"type": "ACTIVATE", "timeOut": "9"}), "100400"),
    ("bingx", "above 120 s", _bingx({"type": "ACTIVATE", "timeOut": "121"}), "100400"),
    ("bingx", "no timeOut", _bingx({"type": "ACTIVATE"}), "100400"),
    ("bingx", "bad type", _bingx({"type": "START", "timeOut": "30"}), "100400"),
    ("htx", "below 5 s", _htx({"timeout": 4}), "2002"),
    ("htx", "not a number", _htx({"timeout": "soon"}), "2002"),
    ("htx", "no timeout", _htx({}), "2003"),
    ("htx", "unknown field", _htx({"timeout": 30, "symbol": "btcusdt"}), "2002"),
]


@pytest.mark.parametrize(("venue", "what", "build", "code"), REFUSED, ids=[f"{v}-{w}" for v, w, _, _ in REFUSED])
def test_the_fake_refuses_what_the_venue_refuses(
    venue: str, what: str, build: Callable[[Any], HttpRequest], code: str, fake: FakeVenue, transport: RequestsTransport
) -> None:
    a = CLASSES[venue](fake.url)
    out = a.parse_countdown(send(transport, fake, venue, build(a)))
    assert isinstance(out, Failure) and out.kind is FailureKind.REJECTED and out.code == code, out
    assert fake.deadman(venue) == []


def test_htx_takes_the_timeout_as_a_string_too(fake: FakeVenue, transport: RequestsTransport) -> None:
    # The 2021 announcement's example sends {"timeout": "10"}.
    a = CLASSES["htx"](fake.url)
    out = a.parse_countdown(send(transport, fake, "htx", _htx({"timeout": "10"})(a)))
    assert isinstance(out, Countdown) and out.armed, out
    assert switch(fake, "htx")["timeout_ms"] == 10_000


# -- the venues' documented replies -----------------------------------------------------------------

SAMPLES: list[tuple[str, str, int, Any, Countdown | FailureKind]] = [
    # Binance's docs' sample (an echo; no trigger time), and the same as a JSON number and as a disarm.
    ("binance_coinm", "doc", 200, {"symbol": "BTCUSD_200925", "countdownTime": "100000"}, Countdown(True, None)),
    ("binance_coinm", "number", 200, {"symbol": "BTCUSD_200925", "countdownTime": 100000}, Countdown(True, None)),
    ("binance_coinm", "stopped", 200, {"symbol": "BTCUSD_200925", "countdownTime": "0"}, Countdown(False, None)),
    (
        "binance_coinm",
        "unreadable",
        200,
        {"symbol": "BTCUSD_200925", "countdownTime": "soon"},
        FailureKind.UNKNOWN_OUTCOME,
    ),
    (
        "binance_coinm",
        "clock",
        400,
        {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
        FailureKind.CLOCK,
    ),
    (
        "binance_coinm",
        "auth",
        401,
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
        FailureKind.AUTH,
    ),
    # BingX: the captured reply (JKorf BingX.Net), triggerTime in seconds; the same in ms; CLOSED; FAILED.
    (
        "bingx",
        "captured",
        200,
        {
            "code": 0,
            "msg": "",
            "debugMsg": "",
            "data": {
                "triggerTime": 1710389137,
                "status": "ACTIVATED",
                "note": "All your spot pending orders will be closed automatically at 2024-03-14 04:05:37 UTC(+0)",
            },
        },
        Countdown(True, 1710389137000),
    ),
    (
        "bingx",
        "ms",
        200,
        {"code": 0, "msg": "", "data": {"triggerTime": 1710389137000, "status": "ACTIVATED"}},
        Countdown(True, 1710389137000),
    ),
    (
        "bingx",
        "closed",
        200,
        {"code": 0, "msg": "", "data": {"triggerTime": 0, "status": "CLOSED", "note": ""}},
        Countdown(False, None),
    ),
    (
        "bingx",
        "failed",
        200,
        {"code": 0, "msg": "", "data": {"triggerTime": 0, "status": "FAILED", "note": "too late"}},
        FailureKind.REJECTED,
    ),
    ("bingx", "odd status", 200, {"code": 0, "msg": "", "data": {"status": "PENDING"}}, FailureKind.UNKNOWN_OUTCOME),
    (
        "bingx",
        "clock",
        200,
        {"code": 100421, "msg": "Null timestamp or timestamp mismatch", "data": {}},
        FailureKind.CLOCK,
    ),
    ("bingx", "auth", 200, {"code": 100001, "msg": "Signature verification failed", "data": {}}, FailureKind.AUTH),
    ("bingx", "rate", 200, {"code": 100410, "msg": "rate limited", "data": {}}, FailureKind.RATE_LIMITED),
    # HTX: the current docs' sample (ms, an object); the 2021 announcement's (a one-element list of strings in
    # seconds), and its "turned off" and failure samples.
    (
        "htx",
        "doc",
        200,
        {"code": 200, "message": "success", "data": {"currentTime": 1630491627230, "triggerTime": 1630491637230}},
        Countdown(True, 1630491637230),
    ),
    (
        "htx",
        "announced",
        200,
        {"code": 200, "data": [{"currentTime": "1587971400", "triggerTime": "1587971460"}]},
        Countdown(True, 1587971460000),
    ),
    (
        "htx",
        "turned off",
        200,
        {"code": 200, "data": [{"currentTime": "1587971400", "triggerTime": "0"}]},
        Countdown(False, None),
    ),
    ("htx", "missing field", 200, {"code": 2003, "message": "missing mandatory field"}, FailureKind.REJECTED),
    ("htx", "no data", 200, {"code": 200, "message": "success", "data": None}, FailureKind.UNKNOWN_OUTCOME),
    ("htx", "rate", 200, {"code": 1006, "message": "Exceed rate limit"}, FailureKind.RATE_LIMITED),
    ("htx", "auth", 200, {"code": 1003, "message": "Signature not valid: Verification failure"}, FailureKind.AUTH),
    (
        "htx",
        "clock",
        200,
        {"code": 1003, "message": "Signature not valid: Invalid submission time or incorrect time format"},
        FailureKind.CLOCK,
    ),
]


@pytest.mark.parametrize(
    ("venue", "what", "status", "body", "expected"), SAMPLES, ids=[f"{s[0]}-{s[1]}" for s in SAMPLES]
)
def test_the_venues_replies_parse(venue: str, what: str, status: int, body: Any, expected: Any) -> None:
    out = CLASSES[venue]().parse_countdown(HttpResponse(status, json.dumps(body).encode(), {}))
    if isinstance(expected, Countdown):
        assert out == expected
    else:
        assert isinstance(out, Failure) and out.kind is expected, out
    if what == "failed":
        assert isinstance(out, Failure) and "too late" in (out.message or "")


JUNK = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"[{}]",
    b'"x"',
    b"<html>busy</html>",
    b'{"code": "x"}',
    b'{"data": [1, 2]}',
    b"[[[[[[[[",
]


@pytest.mark.parametrize("venue", NATIVE + list(WITHOUT))
def test_junk_replies_never_raise(venue: str) -> None:
    a = CLASSES[venue]()
    for body in JUNK:
        for status in (200, 400, 401, 418, 429, 500, 503):
            out = a.parse_countdown(HttpResponse(status, body, {}))
            assert isinstance(out, Failure), (body, status, out)
            if status == 200 and venue in NATIVE:
                assert out.kind is FailureKind.UNKNOWN_OUTCOME, (body, out)  # it may have been applied


# -- failures, as the adapters classify every other endpoint's -----------------------------------------


@pytest.mark.parametrize("venue", NATIVE)
@pytest.mark.parametrize("status", [429, 503, 500])
def test_a_status_fault_classifies_and_arms_nothing(
    venue: str, status: int, fake: FakeVenue, transport: RequestsTransport
) -> None:
    fake.fault(venue, "countdown", "status", status=status)
    out = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(out, Failure) and out.kind is CASES[venue].status_kinds[status], out
    assert out.http_status == status
    assert fake.deadman(venue) == []
    # The venue is back: the same request arms it.
    again = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(again, Countdown) and again.armed, again


@pytest.mark.parametrize("venue", NATIVE)
def test_a_wrong_secret_is_auth_and_arms_nothing(venue: str, fake: FakeVenue, transport: RequestsTransport) -> None:
    wrong = Credentials(CREDS.api_key, "not-the-secret", passphrase=CREDS.passphrase, identity=CREDS.identity)
    out = countdown(transport, fake, venue, TIMEOUT_S, wrong)
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH, out
    assert fake.deadman(venue) == []


@pytest.mark.parametrize("venue", NATIVE)
def test_a_clock_the_venue_refuses_is_clock_and_arms_nothing(
    venue: str, fake: FakeVenue, transport: RequestsTransport
) -> None:
    fake.fault(venue, "countdown", "clock_skew", offset_ms=10 * 60 * 1000)  # the venue's clock runs 10 min ahead
    out = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(out, Failure) and out.kind is FailureKind.CLOCK, out
    assert fake.deadman(venue) == []


@pytest.mark.parametrize("venue", NATIVE)
def test_an_unreadable_reply_is_unknown_outcome(venue: str, fake: FakeVenue, transport: RequestsTransport) -> None:
    # The reply is cut in half after the venue applied the request: the countdown runs, and the client, which
    # cannot tell, must arm again (which only renews it).
    fake.fault(venue, "countdown", "malformed")
    out = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(out, Failure) and out.kind is FailureKind.UNKNOWN_OUTCOME, out
    assert switch(fake, venue)["state"] == "armed"
    again = countdown(transport, fake, venue, TIMEOUT_S)
    assert isinstance(again, Countdown) and again.armed
    assert switch(fake, venue)["renewals"] == 1
