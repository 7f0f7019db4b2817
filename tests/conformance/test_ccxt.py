"""ccxt against the loopback fake venue: the fake must speak each dialect the way *other* clients read it.

Our adapters and the fake were written by the same project, so a misreading of a venue's docs could
agree with itself. ccxt is used in production against the real venues; driving its ``cancel_orders``,
``fetch_order``, ``fetch_time``, ``fetch_open_orders`` and ``cancel_all_orders`` against the fake (URLs
pointed at loopback, markets preset so nothing is fetched) checks paths, signing, parameter encodings
and reply shapes from the outside. The ledger is what we assert on. ccxt is not ground truth: where it
and ``shared/venues.md`` disagree, the fake follows the docs and accepts both only where the real venue
evidently does (see the notes in venues.md).

Run with the ``conformance`` extra installed (``pip install -e '.[test,conformance]'``); without ccxt the
whole module is skipped. Every test is marked ``conformance`` (select or deselect with ``-m``).

ccxt quirks this module accommodates (ccxt 4.5.90), each also noted where it is handled:
- Bitget: unless ``options['uta']`` is set, the first ``cancel_orders`` probes ``GET /api/v3/account/settings``
  (unified-account detection) on the production host and swallows the error if the probe fails; we set
  ``uta=False``.
- HTX: the signed host comes from ``urls['hostnames']`` (and ``hostname``), not from the URL sent, so
  both are pointed at the fake's ``host:port`` -- the fake verifies against the ``Host`` header.
- HTX: ccxt reports ids in ``data.success`` as ``canceled`` although HTX only *accepted* the cancel, and
  passes HTX's ``canceling`` state through unmapped; Bitget's ``successList`` comes back with status
  ``None``. We assert on the fake's ledger and on the raw venue fields, never on those statuses.
- BitoPro: ``cancel_orders`` fills ``symbol`` with the market *id* (``BTC_USDT``) and status ``None``.
- BingX: ``cancel_orders`` does not send ``process=1``, so under the documented default (``process=0``)
  one stale id makes BingX refuse the whole batch; callers must pass ``{"process": 1}``.
- Binance COIN-M: the id lists go out lower-cased (``orderidlist``, ``origclientorderidlist``), which
  the fake accepts because Binance evidently does (venues.md).
- ccxt drops BingX's ``fails``, Bitget's ``failureList`` and Binance's ``{code,msg}`` elements from what
  ``cancel_orders`` returns (HTX's ``failed[]`` come back with status ``failed``): only the ledger tells.
- BingX: ``fetch_time`` reads the *swap* clock (``/openApi/swap/v2/server/time``); the fake serves it.
- Nothing else is needed to keep ccxt from extra calls: Binance does not sync its clock unless
  ``adjustForTimeDifference`` is set (off by default), and HTX's spot batchcancel and order detail need
  no ``account-id``, so no ``/v1/account/accounts`` call is made (the one-request assertions check all this).
- Listings: HTX's ``fetch_open_orders`` looks the account up first (``GET /v1/account/accounts``, served);
  on HTX and Bitget it reads the first page only (100 orders) and never follows the venue's paging, and
  HTX's ``cancel_all_orders`` cancels at most 100 per call and ignores ``next-id`` (the issue's ccxt#22887,
  shown by ``test_ccxt_lists_one_page_where_safecancel_lists_them_all``). Binance's ``fetch_open_orders``
  needs a symbol; ccxt's Binance conditional-order calls (``params={"trigger": True}``, the undocumented
  COIN-M algo endpoints) are not served.
- ``cancel_order`` (single) is not driven: ccxt uses each venue's single-cancel endpoint, which the fake
  does not serve (design.md lists batch cancel, query, time and cancel-all).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from tests.conftest import SYMBOLS, VENUES, seed_open

ccxt = pytest.importorskip(
    "ccxt",
    reason="ccxt is not installed: the independent-client check needs the 'conformance' extra "
    "(pip install -e '.[conformance]')",
)

pytestmark = pytest.mark.conformance

SETTLE_DEADLINE_S = 3.0
ASYNC_DELAY_MS = 500


def _spot(market_id: str, base: str, quote: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": market_id,
        "symbol": f"{base}/{quote}",
        "base": base,
        "quote": quote,
        "baseId": base.lower(),
        "quoteId": quote.lower(),
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "active": True,
        **extra,
    }


@dataclass(frozen=True)
class Profile:
    """How ccxt is set up for one venue, and what it is expected to make of the venue's replies."""

    venue: str  # safecancel's venue name: the fake's ledger key
    exchange_id: str  # ccxt's id
    market: dict[str, Any]  # the one market ccxt needs, preset so ``load_markets`` never runs
    not_found: str  # the ccxt error class fetch_order raises for an id the venue does not know
    auth_error: str  # the ccxt error class for a request signed with the wrong secret
    options: dict[str, Any] = field(default_factory=dict)
    has_time: bool = True  # ccxt implements fetch_time for this venue
    client_id_param: bool = True  # ccxt's cancel_orders can cancel by client order id (``clientOrderIds``)
    # Asynchronous venues: the raw (field, value) of fetch_order's ``info`` while an accepted cancel is pending.
    pending: tuple[str, str] | None = None

    @property
    def symbol(self) -> str:
        return self.market["symbol"]


PROFILES = {
    "bitopro": Profile(
        "bitopro",
        "bitopro",
        # bitopro's cancel_orders keys the body by ``uppercaseId``; fetch_order puts ``id`` in the path.
        _spot("btc_usdt", "BTC", "USDT", uppercaseId="BTC_USDT"),
        # ccxt has no entry for a 404 body; it falls back to ExchangeError (the message is UNCONFIRMED).
        not_found="ExchangeError",
        auth_error="AuthenticationError",  # exact match on {"error":"Invalid Signature"}
        has_time=False,  # BitoPro documents no server time; ccxt has fetchTime: False
        client_id_param=False,  # BitoPro cancels by exchange order id only
    ),
    "binance_coinm": Profile(
        "binance_coinm",
        "binancecoinm",
        {
            "id": "BTCUSD_PERP",
            "symbol": "BTC/USD:BTC",
            "base": "BTC",
            "quote": "USD",
            "settle": "BTC",
            "baseId": "BTC",
            "quoteId": "USD",
            "settleId": "BTC",
            "type": "swap",
            "spot": False,
            "margin": False,
            "swap": True,
            "future": False,
            "option": False,
            "contract": True,
            "linear": False,
            "inverse": True,  # routes cancel_orders / fetch_order to dapi
            "contractSize": 100,
            "active": True,
        },
        not_found="OrderNotFound",  # -2013 "Order does not exist."
        auth_error="AuthenticationError",  # -1022 "Signature for this request is not valid."
    ),
    "bingx": Profile(
        "bingx",
        "bingx",
        _spot("BTC-USDT", "BTC", "USDT"),
        # The fake answers 100404 " order not exist"; ccxt maps only the swap codes 80016/80017 to
        # OrderNotFound, so a spot miss reaches the caller as ExchangeError.
        not_found="ExchangeError",
        auth_error="AuthenticationError",  # 100001 "Signature verification failed"
    ),
    "htx": Profile(
        "htx",
        "htx",
        _spot("btcusdt", "BTC", "USDT"),
        not_found="OrderNotFound",  # base-record-invalid
        auth_error="AuthenticationError",  # api-signature-not-valid
        pending=("state", "canceling"),  # ccxt passes HTX's state through unmapped
    ),
    "bitget": Profile(
        "bitget",
        "bitget",
        _spot("BTCUSDT", "BTC", "USDT"),
        # Quirk: without it ccxt probes GET /api/v3/account/settings before each private call.
        options={"uta": False},
        # orderInfo answers an unknown id with ``data: []`` (the fake's default reading); ccxt's
        # parse_order then finds nothing and raises OrderNotFound.
        not_found="OrderNotFound",
        auth_error="AuthenticationError",  # 40009 "sign signature error"
        client_id_param=False,  # ccxt's spot cancel_orders builds ``orderList`` from order ids only
        pending=("status", "live"),  # still live until the cancel takes effect
    ),
}
# A profile is optional: a venue ccxt has no exchange for has nothing independent to be checked against, so
# the venues checked are the registered ones with a profile (the test ids name them). A profile must be for
# a registered venue, though.
assert set(PROFILES) <= set(VENUES), f"profiles for unregistered venues: {sorted(set(PROFILES) - set(VENUES))}"
assert all(name == p.venue for name, p in PROFILES.items())
CCXT_VENUES = tuple(v for v in VENUES if v in PROFILES)
# Cancels are accepted, then applied a moment later (the adapters' asynchronous_cancel).
ASYNC_VENUES = tuple(v for v in CCXT_VENUES if venue_class(v).asynchronous_cancel)


def _loopback_urls(ex: Any, base_url: str) -> None:
    """Point every API section of ``ex`` at the fake, keeping each section's path prefix.

    All sections, not only the ones under test: a call we did not expect then fails against the
    fake instead of leaving loopback. HTX signs with the host from ``urls['hostnames']`` (and the
    ``hostname`` attribute), so those become the fake's ``host:port`` too.
    """
    netloc = urlsplit(base_url).netloc

    def rewrite(node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                rewrite(value)
            elif isinstance(value, str):
                node[key] = f"http://{netloc}{urlsplit(value).path}"

    def hosts(node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                hosts(value)
            elif isinstance(value, str):
                node[key] = netloc

    rewrite(ex.urls["api"])
    if isinstance(ex.urls.get("hostnames"), dict):
        hosts(ex.urls["hostnames"])
    ex.hostname = netloc


def build_exchange(profile: Profile, fake: FakeVenue, *, secret: str = "test-secret") -> Any:
    """A ccxt exchange wired to the fake; it records every URL it fetches and refuses non-loopback ones."""
    base = getattr(ccxt, profile.exchange_id)
    prefix = fake.url + "/"

    class Loopback(base):  # type: ignore[misc, valid-type]
        def fetch(self, url, method="GET", headers=None, body=None):
            self.fetched.append((method, url))
            if not url.startswith(prefix):
                # Raised, and also recorded: ccxt swallows some errors (Bitget's UTA probe), so the
                # tests assert on ``fetched`` as well.
                raise AssertionError(f"{self.id} tried to leave loopback: {method} {url}")
            return super().fetch(url, method, headers, body)

    ex = Loopback(
        {
            "apiKey": "test-key",
            "secret": secret,
            "password": "test-pass",  # Bitget's passphrase
            "timeout": 5000,
            "enableRateLimit": False,  # the fake does not enforce limits unless asked; keep tests fast
            "options": dict(profile.options),
        }
    )
    ex.fetched = []
    _loopback_urls(ex, fake.url)
    ex.set_markets([dict(profile.market)])
    return ex


@pytest.fixture(params=CCXT_VENUES)
def profile(request: pytest.FixtureRequest) -> Profile:
    return PROFILES[request.param]


@pytest.fixture
def make_exchange(fake: FakeVenue) -> Iterator[Callable[..., Any]]:
    """Build ccxt exchanges on the shared fake (or ``fake=`` another); afterwards, none left loopback."""
    made: list[tuple[Any, str]] = []

    def factory(profile: Profile, **kw: Any) -> Any:
        target = kw.pop("fake", fake)
        ex = build_exchange(profile, target, **kw)
        made.append((ex, target.url + "/"))
        return ex

    yield factory
    for ex, prefix in made:
        ex.session.close()
        stray = [u for _, u in ex.fetched if not u.startswith(prefix)]
        assert not stray, f"{ex.id} fetched outside the fake: {stray}"


def ledger(fake: FakeVenue, venue: str) -> dict[str, dict[str, Any]]:
    return {o["order_id"]: o for o in fake.orders(venue)}


def settled(fake: FakeVenue, venue: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The ledger once no order in ``ids`` still reads ``open`` (async venues apply cancels late)."""
    end = time.monotonic() + SETTLE_DEADLINE_S
    while True:
        rows = ledger(fake, venue)
        if all(rows[i]["status"] != "open" for i in ids) or time.monotonic() > end:
            return rows
        time.sleep(0.01)


def endpoints(fake: FakeVenue, venue: str) -> list[str]:
    return [r["endpoint"] for r in fake.requests(venue)]


# -- cancel_orders ---------------------------------------------------------------------------


def test_cancel_orders_cancels_every_order_exactly_once(fake, make_exchange, profile):
    venue = profile.venue
    ids = seed_open(fake, venue, 5, start=5000)
    bystander = seed_open(fake, venue, 1, start=6000)[0]
    ex = make_exchange(profile)

    reported = ex.cancel_orders(ids, profile.symbol)

    # ccxt read the reply: every id comes back (its status field is ccxt's business, see the docstring).
    assert sorted(str(o["id"]) for o in reported) == sorted(ids)
    # One request, to the batch endpoint; no markets, time, account or UTA calls.
    assert endpoints(fake, venue) == ["cancel"] and len(ex.fetched) == 1
    rows = settled(fake, venue, ids)
    for i in ids:
        assert (rows[i]["status"], rows[i]["cancel_requests"]) == ("cancelled", 1), rows[i]
    assert (rows[bystander]["status"], rows[bystander]["cancel_requests"]) == ("open", 0)
    assert fake.order_status(venue) == {**dict.fromkeys(ids, "cancelled"), bystander: "open"}

    # fetch_order reads the venue's single-order reply back as cancelled.
    for i in ids:
        order = ex.fetch_order(i, profile.symbol)
        assert (str(order["id"]), order["status"], order["symbol"]) == (i, "canceled", profile.symbol)
    assert endpoints(fake, venue) == ["cancel"] + ["query"] * len(ids)
    assert all(r["cancel_requests"] == 1 for i, r in ledger(fake, venue).items() if i in ids)


@pytest.mark.parametrize("venue", CCXT_VENUES)
def test_mixed_batch_cancels_only_the_open_orders(fake, make_exchange, venue):
    profile = PROFILES[venue]
    open_ids = seed_open(fake, venue, 2, start=5000)
    filled = seed_open(fake, venue, 1, start=6000, status="filled")[0]
    cancelled = seed_open(fake, venue, 1, start=7000, status="cancelled")[0]
    never = "8000"
    # BingX: without process=1 one stale id fails the whole batch (documented default process=0),
    # and ccxt does not send it -- a ccxt user has to.
    params = {"process": 1} if venue == "bingx" else {}
    ex = make_exchange(profile)

    reported = ex.cancel_orders(open_ids + [filled, cancelled, never], profile.symbol, params)

    assert set(open_ids) <= {str(o["id"]) for o in reported}
    assert endpoints(fake, venue) == ["cancel"]
    rows = settled(fake, venue, open_ids)
    for i in open_ids:
        assert (rows[i]["status"], rows[i]["cancel_requests"]) == ("cancelled", 1), rows[i]
    # The cancel reached the finished orders and changed nothing; the unknown id created nothing.
    assert (rows[filled]["status"], rows[filled]["cancel_requests"]) == ("filled", 1)
    assert (rows[cancelled]["status"], rows[cancelled]["cancel_requests"]) == ("cancelled", 1)
    assert never not in rows


def test_bingx_default_process_refuses_the_whole_batch_for_one_stale_id(fake, make_exchange):
    """ccxt leaves ``process`` at BingX's default (0): one unknown id, and nothing is cancelled."""
    profile = PROFILES["bingx"]
    ids = seed_open(fake, "bingx", 3, start=5000)
    ex = make_exchange(profile)
    with pytest.raises(ccxt.ExchangeError):  # HTTP 200 with code != 0: ccxt still raises
        ex.cancel_orders(ids + ["8000"], profile.symbol)
    assert {i: (r["status"], r["cancel_requests"]) for i, r in ledger(fake, "bingx").items()} == dict.fromkeys(
        ids, ("open", 0)
    )


@pytest.mark.parametrize("venue", [v for v in CCXT_VENUES if PROFILES[v].client_id_param])
def test_cancel_orders_by_client_order_id(fake, make_exchange, venue):
    profile = PROFILES[venue]
    cids = [f"sc-{venue.replace('_', '')}-{n}" for n in range(3)]
    fake.seed(venue, SYMBOLS[venue], [{"order_id": str(5000 + n), "client_order_id": c} for n, c in enumerate(cids)])
    ex = make_exchange(profile)

    ex.cancel_orders([], profile.symbol, {"clientOrderIds": cids})

    rows = settled(fake, venue, ["5000", "5001", "5002"])
    assert {r["client_order_id"]: (r["status"], r["cancel_requests"]) for r in rows.values()} == dict.fromkeys(
        cids, ("cancelled", 1)
    )
    assert endpoints(fake, venue) == ["cancel"]


# -- fetch_order -----------------------------------------------------------------------------


def test_fetch_order_reads_open_filled_and_cancelled(fake, make_exchange, profile):
    venue = profile.venue
    live = seed_open(fake, venue, 1, start=5000)[0]
    filled = seed_open(fake, venue, 1, start=6000, status="filled")[0]
    cancelled = seed_open(fake, venue, 1, start=7000, status="cancelled")[0]
    ex = make_exchange(profile)

    got = {i: ex.fetch_order(i, profile.symbol) for i in (live, filled, cancelled)}

    assert {i: o["status"] for i, o in got.items()} == {live: "open", filled: "closed", cancelled: "canceled"}
    assert all(str(o["id"]) == i and o["symbol"] == profile.symbol for i, o in got.items())
    assert got[filled]["filled"] == got[filled]["amount"] == 1.0
    assert endpoints(fake, venue) == ["query"] * 3
    # Queries change nothing.
    assert all(r["cancel_requests"] == 0 for r in ledger(fake, venue).values())


def test_fetch_order_for_an_unknown_id_raises(fake, make_exchange, profile):
    ex = make_exchange(profile)
    with pytest.raises(getattr(ccxt, profile.not_found)):
        ex.fetch_order("424242", profile.symbol)
    assert endpoints(fake, profile.venue) == ["query"]


@pytest.mark.parametrize("venue", ASYNC_VENUES)
def test_async_cancel_is_visible_as_pending_until_it_takes_effect(make_exchange, venue):
    """HTX and Bitget accept a cancel and apply it later; ccxt reads the in-between state from the query."""
    profile = PROFILES[venue]
    if profile.pending is None:
        pytest.skip(
            f"no hand-written pending state for {venue}: add `pending=` to its Profile in "
            "tests/conformance/test_ccxt.py to cover how ccxt reads a pending cancel"
        )
    field, pending = profile.pending
    # Long enough that the query right after the cancel lands before the cancel takes effect.
    with FakeVenue(async_delay_ms=ASYNC_DELAY_MS) as slow:
        ids = seed_open(slow, venue, 2, start=5000)
        ex = make_exchange(profile, fake=slow)
        ex.cancel_orders(ids, profile.symbol)
        early = ex.fetch_order(ids[0], profile.symbol)
        # The raw venue field, not ccxt's mapping: HTX says ``canceling`` (ccxt passes it through
        # unmapped), Bitget still says ``live``.
        assert early["info"][field] == pending
        assert early["status"] != "canceled"
        rows = settled(slow, venue, ids)
        assert all((rows[i]["status"], rows[i]["cancel_requests"]) == ("cancelled", 1) for i in ids)
        assert ex.fetch_order(ids[0], profile.symbol)["status"] == "canceled"
        assert endpoints(slow, venue) == ["cancel", "query", "query"]


# -- auth and time ---------------------------------------------------------------------------


def test_a_wrong_secret_is_refused_and_changes_nothing(fake, make_exchange, profile):
    """The fake stays strict: ccxt's map of the venue's own auth error recognises the reply."""
    venue = profile.venue
    ids = seed_open(fake, venue, 2, start=5000)
    ex = make_exchange(profile, secret="not-the-secret")
    with pytest.raises(getattr(ccxt, profile.auth_error)):
        ex.cancel_orders(ids, profile.symbol)
    with pytest.raises(getattr(ccxt, profile.auth_error)):
        ex.fetch_order(ids[0], profile.symbol)
    assert {i: (r["status"], r["cancel_requests"]) for i, r in ledger(fake, venue).items()} == dict.fromkeys(
        ids, ("open", 0)
    )


@pytest.mark.parametrize("venue", [v for v in CCXT_VENUES if PROFILES[v].has_time])
def test_fetch_time_reads_the_venues_clock(fake, make_exchange, venue):
    """ccxt reads the fake's time reply; after a clock_skew fault it reads the moved clock."""
    profile = PROFILES[venue]
    ex = make_exchange(profile)
    before = time.time() * 1000
    assert before - 1000 <= ex.fetch_time() <= time.time() * 1000 + 1000
    fake.fault(venue, "time", "clock_skew", offset_ms=120_000)
    assert abs(ex.fetch_time() - (time.time() * 1000 + 120_000)) < 1000
    assert endpoints(fake, venue) == ["time", "time"]


# -- fetch_open_orders / cancel_all_orders ---------------------------------------------------------

OPEN_N = 30  # within every venue's first page, so ccxt (which reads one page) sees them all


def _book(fake: FakeVenue, venue: str) -> dict[str, list[str]]:
    """30 open orders on the profile's symbol, 3 filled, 3 cancelled (never listed as open)."""
    sym = SYMBOLS[venue]
    opened = [o["order_id"] for o in fake.seed(venue, sym, [{"side": "SELL", "price": "123.5"} for _ in range(OPEN_N)])]
    closed = [o["order_id"] for o in fake.seed(venue, sym, [{"status": "filled"}] * 3 + [{"status": "cancelled"}] * 3)]
    return {"open": opened, "closed": closed}


def test_fetch_open_orders_reads_the_venues_open_list(fake, make_exchange, profile):
    venue = profile.venue
    book = _book(fake, venue)
    got = make_exchange(profile).fetch_open_orders(profile.symbol)
    assert sorted(str(o["id"]) for o in got) == sorted(book["open"])
    assert {(o["symbol"], o["side"]) for o in got} == {(profile.symbol, "sell")}
    assert {float(o["price"]) for o in got} == {123.5}
    assert set(endpoints(fake, venue)) <= {"list_open", "account"}


def test_cancel_all_orders_cancels_the_symbols_open_orders(fake, make_exchange, profile):
    venue = profile.venue
    book = _book(fake, venue)
    ex = make_exchange(profile)
    ex.cancel_all_orders(profile.symbol)
    rows = settled(fake, venue, book["open"])
    assert {rows[i]["status"] for i in book["open"]} == {"cancelled"}
    assert [rows[i]["status"] for i in book["closed"]] == ["filled"] * 3 + ["cancelled"] * 3
    assert set(endpoints(fake, venue)) <= {"cancel_all", "account"}


@pytest.mark.parametrize("venue", [v for v in ("htx", "bitget") if v in PROFILES])
def test_ccxt_lists_one_page_where_safecancel_lists_them_all(fake, make_exchange, make_client, venue):
    """The peers' flaw the listings fix (ccxt#22887): HTX and Bitget page their open orders, ccxt reads
    the first page (100) only. ``client.open_orders`` follows the venue's paging to the end."""
    ids = {o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{} for _ in range(250)])}
    seen_by_ccxt = {str(o["id"]) for o in make_exchange(PROFILES[venue]).fetch_open_orders(PROFILES[venue].symbol)}
    assert len(seen_by_ccxt) == 100 and seen_by_ccxt < ids
    listing = make_client().open_orders(venue, SYMBOLS[venue])
    assert {o.order_id for o in listing} == ids
