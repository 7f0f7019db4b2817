"""The kill switch (``client.cancel_all`` / ``safecancel cancel-all``) on every registered venue, against the fake.

As a new user meets it: a book of 250 open orders (more than one page where the venue pages), 20 of
them another bot's, 10 conditional; the switch cancels every order in scope, leaves the others alone,
and says the scope was verified empty -- naming the listing that showed it. Orders placed while it runs
are caught by the next sweep and end ``cancelled`` in the same job.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from safecancel import Client, InputError, VenueConfig
from safecancel.cli import cli
from safecancel.killswitch import KillSwitch
from safecancel.testing import FakeVenue
from safecancel.testing.dialects.bingx import BingXDialect
from safecancel.venues import venue_class
from tests.conftest import CREDS, FAST, SYMBOLS, VENUES

OURS, THEIRS, CONDITIONAL = 250, 20, 10
SMALL = 40  # the book of the tests after the first: BitoPro and BingX cancel at 2/s, CI time is shared


def numeric_ids(venue: str) -> bool:
    return venue_class(venue).numeric_client_ids


def scope_args(venue: str) -> list[str]:
    """The caller's own orders: a prefix, or on BitoPro (integer client ids) a numeric range."""
    return ["--client-id-range", "100000-199999"] if numeric_ids(venue) else ["--client-prefix", "bot-"]


def scope_kw(venue: str) -> dict:
    return {"client_id_range": (100_000, 199_999)} if numeric_ids(venue) else {"client_prefix": "bot-"}


def cid(venue: str, mine: bool, i: int) -> str:
    if numeric_ids(venue):
        return str((100_000 if mine else 500_000) + i)
    return f"{'bot' if mine else 'other'}-{i}"


def seed_book(fake: FakeVenue, venue: str, n_ours: int = OURS) -> dict[str, set[str]]:
    sym = SYMBOLS[venue]
    ours = fake.seed(venue, sym, [{"client_order_id": cid(venue, True, i)} for i in range(n_ours)])
    cond = fake.seed(
        venue, sym, [{"client_order_id": cid(venue, True, 1000 + i), "conditional": True} for i in range(CONDITIONAL)]
    )
    theirs = fake.seed(venue, sym, [{"client_order_id": cid(venue, False, i)} for i in range(THEIRS)])
    other_symbol = sym.replace("BTC", "ETH").replace("btc", "eth")
    elsewhere = fake.seed(venue, other_symbol, [{"client_order_id": cid(venue, True, 2000 + i)} for i in range(5)])
    return {
        "ours": {o["order_id"] for o in ours} | {o["order_id"] for o in cond},
        "theirs": {o["order_id"] for o in theirs},
        "elsewhere": {o["order_id"] for o in elsewhere},
    }


def env_for(fake: FakeVenue, venue: str, db: str) -> dict[str, str]:
    prefix = f"SAFECANCEL_{venue.upper()}_"
    return {
        prefix + "API_KEY": CREDS.api_key,
        prefix + "API_SECRET": CREDS.api_secret,
        prefix + "PASSPHRASE": CREDS.passphrase or "",
        prefix + "IDENTITY": CREDS.identity or "",
        prefix + "BASE_URL": fake.url,
        "SAFECANCEL_DB": db,
    }


def statuses(fake: FakeVenue, venue: str, ids: set[str]) -> set[str]:
    got = fake.order_status(venue)
    return {got[i] for i in ids}


@pytest.mark.parametrize("venue", VENUES)
def test_cancel_all_clears_the_callers_orders_and_verifies_the_scope_empty(fake, venue, tmp_path: Path) -> None:
    book = seed_book(fake, venue)
    db = str(tmp_path / "j.db")
    args = [
        "cancel-all",
        "--venue",
        venue,
        "--symbol",
        SYMBOLS[venue],
        *scope_args(venue),
        "--deadline",
        "90",
        "--json",
    ]
    res = CliRunner().invoke(cli, args, env=env_for(fake, venue, db))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert statuses(fake, venue, book["ours"]) == {"cancelled"}
    assert statuses(fake, venue, book["theirs"]) == {"open"}  # another bot's: left alone
    assert statuses(fake, venue, book["elsewhere"]) == {"open"}  # another symbol: out of scope
    assert out["kind"] == "cancel_all" and out["status"] == "done"
    assert out["counts"] == {"cancelled": OURS + CONDITIONAL}
    assert out["verified_empty_at"] and out["verified_evidence"]
    final = out["final_listing"]
    assert final["evidence_id"] == out["verified_evidence"] and final["summary"]["verified_empty"] is True
    assert final["summary"]["in_scope"] == 0 and final["summary"]["listed"] >= THEIRS
    triggers = [e["trigger"] for e in out["events"]]
    # Orders are journaled as pending (discover) before any is sent.
    assert triggers.index("discover") < triggers.index("send")
    for secret in (CREDS.api_secret, CREDS.passphrase, CREDS.identity):
        assert secret not in res.output
    verify = CliRunner().invoke(cli, ["audit", "verify", "--db", db])
    assert verify.exit_code == 0, verify.output


@pytest.mark.parametrize("venue", VENUES)
def test_orders_placed_while_it_runs_are_caught_by_the_next_sweep(make_client, fake, venue) -> None:
    book = seed_book(fake, venue, SMALL)
    fake.fault(venue, "cancel", "place_during_cancel", count=5)
    result = make_client().cancel_all(venue, SYMBOLS[venue], deadline=90, **scope_kw(venue))
    late = {
        o["order_id"]
        for o in fake.orders(venue)
        if o["order_id"] not in book["ours"] | book["theirs"] | book["elsewhere"]
    }
    assert len(late) == 5
    assert statuses(fake, venue, late) == {"cancelled"}
    assert result.status == "done" and result.verified_empty_at
    assert result.counts == {"cancelled": SMALL + CONDITIONAL + 5}
    assert statuses(fake, venue, book["theirs"]) == {"open"}


@pytest.mark.parametrize("venue", VENUES)
def test_without_a_client_scope_every_order_of_the_symbol_goes(make_client, fake, venue) -> None:
    book = seed_book(fake, venue, SMALL)
    result = make_client().cancel_all(venue, SYMBOLS[venue], include_conditional=False, deadline=90)
    cond = {o["order_id"] for o in fake.orders(venue) if o["conditional"]}
    assert statuses(fake, venue, (book["ours"] | book["theirs"]) - cond) == {"cancelled"}
    assert statuses(fake, venue, cond) == {"open"}  # include_conditional=False leaves them
    assert statuses(fake, venue, book["elsewhere"]) == {"open"}
    assert result.status == "done"


@pytest.mark.parametrize("venue", VENUES)
def test_native_first_strike_still_ends_on_the_venues_word(make_client, fake, venue) -> None:
    book = seed_book(fake, venue, SMALL)
    result = make_client().cancel_all(venue, SYMBOLS[venue], native=True, deadline=90)
    assert statuses(fake, venue, book["ours"] | book["theirs"]) == {"cancelled"}
    assert result.status == "done" and result.verified_empty_at
    events = make_client().job(result.job_id).events
    assert any(e.trigger == "native" for e in events)
    assert {o.provenance for o in result.orders} <= {"venue_response", "venue_query"}


@pytest.mark.parametrize("venue", VENUES)
def test_dry_run_lists_the_scope_and_stores_and_cancels_nothing(fake, venue, tmp_path: Path) -> None:
    book = seed_book(fake, venue)
    db = tmp_path / "never.db"
    args = ["cancel-all", "--venue", venue, "--symbol", SYMBOLS[venue], *scope_args(venue), "--dry-run", "--json"]
    res = CliRunner().invoke(cli, args, env=env_for(fake, venue, str(db)))
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert plan["in_scope"] == OURS + CONDITIONAL and plan["listed"] == OURS + CONDITIONAL + THEIRS
    assert not db.exists()
    assert statuses(fake, venue, book["ours"]) == {"open"}
    assert not [r for r in fake.requests(venue) if r["endpoint"] in ("cancel", "cancel_all")]


def test_a_deadline_short_of_empty_leaves_the_job_open_and_resume_finishes_it(make_client, fake) -> None:
    venue = "binance_coinm"
    book = seed_book(fake, venue, SMALL)
    fake.fault(venue, "cancel", "place_during_cancel", count=5, times=100_000)
    client = make_client()
    result = client.cancel_all(venue, SYMBOLS[venue], client_prefix="bot-", deadline=1.5)
    assert result.status == "open" and result.verified_empty_at is None
    assert result.still_open and "not verified empty" in (result.attention or "")
    fake.clear_faults()
    (resumed,) = make_client().resume(job_id=result.job_id)
    assert resumed.status == "done" and resumed.verified_empty_at
    mine = {o["order_id"] for o in fake.orders(venue) if (o["client_order_id"] or "").startswith("bot-")}
    assert statuses(fake, venue, mine - book["elsewhere"]) == {"cancelled"}
    assert statuses(fake, venue, book["theirs"]) == {"open"}


def test_cli_exit_3_when_the_scope_is_not_verified_empty(fake, tmp_path: Path) -> None:
    venue = "htx"
    seed_book(fake, venue)
    fake.fault(venue, "cancel", "place_during_cancel", count=5, times=100_000)
    args = ["cancel-all", "--venue", venue, "--symbol", SYMBOLS[venue], "--client-prefix", "bot-", "--deadline", "1.5"]
    res = CliRunner().invoke(cli, args, env=env_for(fake, venue, str(tmp_path / "j.db")))
    assert res.exit_code == 3, res.output
    assert "NOT verified empty" in res.output


@pytest.mark.parametrize(
    ("venue", "kw", "words"),
    [
        ("bitopro", {"client_prefix": "bot-"}, "integers"),
        ("bingx", {"client_id_range": (1, 9)}, "strings"),
        ("bingx", {"client_prefix": "bot-", "client_id_range": "1-9"}, "not both"),
        ("bingx", {"client_prefix": "bot-", "native": True}, "--native"),
        ("bingx", {"client_prefix": "bot\x00"}, "prefix"),
        ("htx", {"client_prefix": "x" * 41}, "prefix"),
        ("bitopro", {"client_id_range": "9-1"}, "empty"),
    ],
)
def test_bad_scopes_are_named_and_nothing_is_stored_or_sent(make_client, fake, venue, kw, words, tmp_path) -> None:
    db = tmp_path / "never.db"
    with pytest.raises(InputError) as info:
        make_client(db=str(db)).cancel_all(venue, SYMBOLS[venue], **kw)
    assert words in str(info.value)
    assert fake.requests(venue) == []


def test_a_native_strike_that_needs_a_symbol_is_refused_without_one(make_client, fake) -> None:
    needs = [v for v in VENUES if venue_class(v).cancel_all_needs_symbol]
    assert needs
    with pytest.raises(InputError, match="needs a symbol"):
        make_client().cancel_all(needs[0], native=True)


def test_orders_listed_without_a_client_id_are_left_alone_and_block_verification(tmp_path: Path) -> None:
    """A venue whose listing omits client ids: the switch cannot tell whose an order is, so it touches
    none of them and never reports the scope verified empty."""
    with FakeVenue(dialects=[BingXDialect(listing_client_ids=False)]) as bare:
        ids = {
            o["order_id"] for o in bare.seed("bingx", "BTC-USDT", [{"client_order_id": f"bot-{i}"} for i in range(3)])
        }
        config = VenueConfig("bingx", credentials=CREDS, base_url=bare.url)
        with Client(str(tmp_path / "j.db"), venues=[config], retry=FAST, environ={}) as client:
            result = client.cancel_all("bingx", "BTC-USDT", client_prefix="bot-", deadline=5)
        assert result.status == "needs_attention" and result.verified_empty_at is None
        assert "without a client id" in (result.attention or "")
        assert {bare.order_status("bingx")[i] for i in ids} == {"open"}


def test_a_crash_after_the_orders_settled_but_before_the_scope_was_listed_empty_is_swept_on_resume(
    make_client, fake, monkeypatch
) -> None:
    """The process dies after the engine settled every order it knew and before the next sweep: the job
    must not read ``done`` (only a listing showing the scope empty makes it so), and resume sweeps."""
    venue = "binance_coinm"
    ids = {o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{"client_order_id": f"bot-{i}"} for i in range(8)])}
    fake.fault(venue, "cancel", "place_during_cancel", count=3)
    sweep = KillSwitch.sweep
    calls: list[int] = []

    def dies_before_its_second_listing(self, until, found):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("killed")
        return sweep(self, until, found)

    monkeypatch.setattr(KillSwitch, "sweep", dies_before_its_second_listing)
    with pytest.raises(SystemExit):
        make_client().cancel_all(venue, SYMBOLS[venue], client_prefix="bot-")
    monkeypatch.setattr(KillSwitch, "sweep", sweep)
    (job,) = make_client().history()
    assert job.status == "open"  # every order found was settled, but the scope was never listed empty
    (resumed,) = make_client().resume()
    assert resumed.status == "done" and resumed.verified_empty_at
    late = {o["order_id"] for o in fake.orders(venue)} - ids
    assert len(late) == 3 and statuses(fake, venue, ids | late) == {"cancelled"}


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [({"BASE_URL": "/typo"}, 4, "check the base URL"), ({"API_SECRET": "wrong-secret"}, 3, "refused the credentials")],
)
def test_a_wrong_environment_is_named_with_the_cli_exit_code(fake, tmp_path: Path, change, code, words) -> None:
    venue = "bitget"
    seed_book(fake, venue, SMALL)
    env = env_for(fake, venue, str(tmp_path / "j.db"))
    for k, v in change.items():
        env[f"SAFECANCEL_BITGET_{k}"] = env[f"SAFECANCEL_BITGET_{k}"] + v if k == "BASE_URL" else v
    res = CliRunner().invoke(cli, ["cancel-all", "--venue", venue, "--symbol", SYMBOLS[venue]], env=env)
    assert res.exit_code == code, res.output
    assert words in res.output and "wrong-secret" not in res.output
    assert {o["status"] for o in fake.orders(venue)} == {"open"}
