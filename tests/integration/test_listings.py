"""``client.open_orders`` and ``safecancel open-orders`` on every registered venue, against the fake.

The adapters' own listing vectors and the dialects' paging rules are in ``tests/venues/test_<venue>.py``;
here the whole path runs as a user meets it: every page read (more than one where the venue pages),
conditional orders included and marked, each order once, faults asked again, refusals and a deadline
reported in plain words.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from safecancel import AuthError, Credentials, InputError, ListingIncomplete, ListKind, VenueConfig, VenueRejected
from safecancel.cli import cli
from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from tests.conftest import CREDS, SYMBOLS, VENUES

OPEN_N = 250  # more than one page on every venue that pages (HTX's page is at most 500: see its own tests)
CONDITIONAL_N = 10


def other_symbol(venue: str) -> str:
    sym = SYMBOLS[venue]
    return sym.replace("BTC", "ETH").replace("btc", "eth")


def seed_book(fake: FakeVenue, venue: str) -> dict[str, set[str]]:
    """250 open orders and 10 conditional ones on the venue's example symbol, 20 open on another symbol,
    and 5 filled and 5 cancelled ones (never listed as open)."""
    sym = SYMBOLS[venue]
    plain = fake.seed(venue, sym, [{} for _ in range(OPEN_N)])
    cond = fake.seed(venue, sym, [{"conditional": True} for _ in range(CONDITIONAL_N)])
    other = fake.seed(venue, other_symbol(venue), [{} for _ in range(20)])
    closed = fake.seed(venue, sym, [{"status": "filled"}] * 5 + [{"status": "cancelled"}] * 5)
    return {
        "plain": {o["order_id"] for o in plain},
        "conditional": {o["order_id"] for o in cond},
        "other": {o["order_id"] for o in other},
        "closed": {o["order_id"] for o in closed},
    }


def listed_ids(listing) -> list[str]:
    return [o.order_id for o in listing.orders if o.order_id is not None]


def conditional_ids(fake: FakeVenue, venue: str, listing) -> set[str]:
    """Ids of the listed conditional orders. HTX's algo orders are listed by client id until they trigger,
    so those are mapped back to the fake's order ids through the ledger."""
    by_cid = {o["client_order_id"]: o["order_id"] for o in fake.orders(venue) if o["client_order_id"]}
    out = set()
    for o in listing.orders:
        if o.conditional:
            out.add(o.order_id if o.order_id is not None else by_cid.get(o.client_order_id, o.client_order_id))
    return out


@pytest.mark.parametrize("venue", VENUES)
def test_open_orders_lists_every_page_each_order_once(make_client, fake, venue) -> None:
    book = seed_book(fake, venue)
    client = make_client()
    listing = client.open_orders(venue, SYMBOLS[venue])
    ids = listed_ids(listing)
    assert len(ids) == len(set(ids)), "an order was listed twice"
    plain = {o.order_id for o in listing.orders if not o.conditional}
    assert plain == book["plain"]
    assert conditional_ids(fake, venue, listing) == book["conditional"]
    assert all(o.symbol == SYMBOLS[venue] for o in listing.orders)
    assert all(o.status.verdict.value == "open" for o in listing.orders)
    assert len(listing) == OPEN_N + CONDITIONAL_N
    cls = venue_class(venue)
    expected_kinds = ("open", "conditional") if ListKind.CONDITIONAL in cls.list_kinds else ("open",)
    assert listing.kinds == expected_kinds
    # Every page the venue served was a request; retries and lookups come on top.
    served = [r for r in fake.requests(venue) if r["endpoint"].startswith("list_")]
    assert listing.pages == len(served) <= listing.requests


@pytest.mark.parametrize("venue", [v for v in VENUES if ListKind.OPEN not in venue_class(v).list_needs_symbol])
def test_open_orders_of_every_symbol(make_client, fake, venue) -> None:
    book = seed_book(fake, venue)
    cls = venue_class(venue)
    if ListKind.CONDITIONAL in cls.list_needs_symbol:
        pytest.skip(f"{venue}'s conditional list needs a symbol")
    listing = make_client().open_orders(venue)
    assert {o.order_id for o in listing.orders if not o.conditional} == book["plain"] | book["other"]
    assert {o.symbol for o in listing.orders} == {SYMBOLS[venue], other_symbol(venue)}


@pytest.mark.parametrize("venue", [v for v in VENUES if ListKind.CONDITIONAL in venue_class(v).list_kinds])
def test_without_conditional_the_conditional_list_is_not_read(make_client, fake, venue) -> None:
    book = seed_book(fake, venue)
    listing = make_client().open_orders(venue, SYMBOLS[venue], include_conditional=False)
    assert {o.order_id for o in listing.orders} == book["plain"]
    assert listing.kinds == ("open",)
    assert not [r for r in fake.requests(venue) if r["endpoint"] == "list_conditional"]


@pytest.mark.parametrize("kind", ["status", "drop_after_apply", "malformed"])
@pytest.mark.parametrize("venue", VENUES)
def test_a_failed_page_is_asked_again(make_client, fake, venue, kind) -> None:
    book = seed_book(fake, venue)
    fake.fault(venue, "list_open", kind, status=503, times=2)
    listing = make_client().open_orders(venue, SYMBOLS[venue])
    assert {o.order_id for o in listing.orders if not o.conditional} == book["plain"]
    assert listing.requests >= listing.pages + 2


@pytest.mark.parametrize("venue", VENUES)
def test_rate_limited_pages_wait_and_complete(make_client, fake, venue) -> None:
    book = seed_book(fake, venue)
    fake.fault(venue, "list_open", "status", status=429, retry_after=0, times=1)
    listing = make_client().open_orders(venue, SYMBOLS[venue])
    assert {o.order_id for o in listing.orders if not o.conditional} == book["plain"]


@pytest.mark.parametrize("venue", VENUES)
def test_a_wrong_secret_is_an_auth_error(make_client, fake, venue) -> None:
    seed_book(fake, venue)
    bad = Credentials("test-key", "wrong-secret", passphrase="test-pass", identity=CREDS.identity)
    client = make_client(venues=[VenueConfig(venue, credentials=bad, base_url=fake.url)])
    with pytest.raises(AuthError) as info:
        client.open_orders(venue, SYMBOLS[venue])
    assert "wrong-secret" not in str(info.value)


@pytest.mark.parametrize("venue", VENUES)
def test_a_wrong_base_url_is_refused_in_plain_words(make_client, fake, venue) -> None:
    client = make_client(venues=[VenueConfig(venue, credentials=CREDS, base_url=fake.url + "/typo")])
    with pytest.raises((VenueRejected, AuthError)) as info:
        client.open_orders(venue, SYMBOLS[venue])
    if isinstance(info.value, VenueRejected):
        assert "base URL" in str(info.value)


@pytest.mark.parametrize("venue", VENUES)
def test_a_listing_that_cannot_finish_by_the_deadline_says_so(make_client, fake, venue) -> None:
    seed_book(fake, venue)
    fake.fault(venue, "list_open", "status", status=503, times=1000)
    with pytest.raises(ListingIncomplete) as info:
        make_client().open_orders(venue, SYMBOLS[venue], deadline=0.5)
    assert info.value.pages == 0
    assert "not read to its end" in str(info.value)


@pytest.mark.parametrize("venue", VENUES)
def test_a_bad_symbol_is_named_and_nothing_is_sent(make_client, fake, venue) -> None:
    with pytest.raises(InputError) as info:
        make_client().open_orders(venue, "no such\x00symbol")
    assert "symbol" in str(info.value)
    assert fake.requests(venue) == []


def test_an_unknown_venue_is_an_input_error(make_client) -> None:
    with pytest.raises(InputError):
        make_client().open_orders("nasdaq")


@pytest.mark.parametrize("venue", VENUES)
def test_cli_open_orders_json(fake, venue, tmp_path) -> None:
    book = seed_book(fake, venue)
    prefix = f"SAFECANCEL_{venue.upper()}_"
    env = {
        prefix + "API_KEY": CREDS.api_key,
        prefix + "API_SECRET": CREDS.api_secret,
        prefix + "PASSPHRASE": CREDS.passphrase,
        prefix + "IDENTITY": CREDS.identity,
        prefix + "BASE_URL": fake.url,
        "SAFECANCEL_DB": str(tmp_path / "never-created.db"),
    }
    result = CliRunner().invoke(cli, ["open-orders", "--venue", venue, "--symbol", SYMBOLS[venue], "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["count"] == OPEN_N + CONDITIONAL_N
    assert {o["order_id"] for o in data["orders"] if not o["conditional"]} == book["plain"]
    assert {o["state"] for o in data["orders"]} == {"open"}
    assert not (tmp_path / "never-created.db").exists(), "a listing must not create a journal"
    text = CliRunner().invoke(cli, ["open-orders", "--venue", venue, "--symbol", SYMBOLS[venue]], env=env)
    assert text.exit_code == 0, text.output
    assert f"{OPEN_N + CONDITIONAL_N} open order(s) on {venue}" in text.stdout
    for secret in (CREDS.api_secret, CREDS.passphrase, CREDS.identity):
        assert secret not in result.output + text.output


def test_cli_open_orders_bad_symbol_exits_2(fake) -> None:
    env = {"SAFECANCEL_HTX_API_KEY": "k", "SAFECANCEL_HTX_API_SECRET": "s", "SAFECANCEL_HTX_BASE_URL": fake.url}
    result = CliRunner().invoke(cli, ["open-orders", "--venue", "htx", "--symbol", "BTC/USDT"], env=env)
    assert result.exit_code == 2
    assert "BTC/USDT" in result.output
