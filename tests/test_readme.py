"""The README's venue facts equal the adapters' (sqlite-utils' tests/test_docs.py, for venues).

The venue table under "## Venues", the symbol examples below it, the venues without a server-time
endpoint and the ``SAFECANCEL_<VENUE>_*`` names are all checked against the registry
(:data:`safecancel.venues.VENUE_NAMES`) and each adapter's class attributes, so the README cannot drift
from the code, and a new venue's row is asked for by name.
"""

from __future__ import annotations

import re

import pytest

from safecancel.model import Credentials, IdKind, ListKind, OrderRef
from safecancel.venues import VENUE_NAMES, venue_class
from safecancel.venues.base import Rate
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COLUMNS = ["venue", "batch endpoint", "ids / request", "id kinds", "paced at", "cancel reply means"]


def section(title: str) -> str:
    """The README text under ``## title`` up to the next ``## `` heading."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The first markdown table in ``text``: header row first, separator dropped, cells stripped."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in lines]
    return [r for r in rows if not all(set(c) <= set("-: ") for c in r)]


VENUES_TEXT = section("Venues")
HEADER, *ROWS = table_rows(VENUES_TEXT)
BY_VENUE = {row[0].strip("`"): dict(zip(HEADER, row)) for row in ROWS}


def rate_words(rate: Rate) -> str:
    """A rate as the README writes it: ``2/s``, ``1200/min``, ``50/2 s``."""
    if rate.per_seconds == 1:
        return f"{rate.requests}/s"
    if rate.per_seconds == 60:
        return f"{rate.requests}/min"
    return f"{rate.requests}/{rate.per_seconds:g} s"


def test_the_table_has_its_columns_and_one_row_per_registered_venue() -> None:
    assert HEADER == COLUMNS
    assert [row[0] for row in ROWS] == [f"`{v}`" for v in VENUE_NAMES]  # the registry's order


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_venues_row_states_the_adapters_facts(venue: str) -> None:
    cls = venue_class(venue)
    row = BY_VENUE[venue]
    # The endpoint is what the adapter actually builds.
    req = cls().build_cancel([OrderRef(cls.example_symbol, order_id="1")], Credentials("k", "s", "p", "i"), 0)
    assert row["batch endpoint"].startswith(f"`{req.method} {req.path}`"), row["batch endpoint"]
    # Ids per request: the default, and how far a caller may raise it where that is more.
    ids = row["ids / request"]
    assert re.match(rf"{cls.default_max_batch}\b", ids), ids
    if cls.hard_max_batch > cls.default_max_batch:
        assert f"up to {cls.hard_max_batch}" in ids, ids
    else:
        assert ids == str(cls.default_max_batch), ids
    kinds = "order or client ids" if IdKind.CLIENT_ORDER_ID in cls.id_kinds else "order ids"
    assert row["id kinds"] == kinds
    assert row["paced at"] == rate_words(cls.cancel_rate)
    # An asynchronous venue's reply only accepts the cancel; the README must say so, and only there.
    assert ("*accepted*" in row["cancel reply means"]) is cls.asynchronous_cancel, row["cancel reply means"]


def test_the_symbol_examples_are_the_adapters() -> None:
    para = next(p for p in VENUES_TEXT.split("\n\n") if p.startswith("Symbols are in each venue's own format"))
    shown = re.findall(r"`([^`]+)`", para.split(". ")[0])
    assert shown == [venue_class(v).example_symbol for v in VENUE_NAMES]


def test_the_venues_without_a_time_endpoint_are_named() -> None:
    sentence = next(s for s in VENUES_TEXT.split(". ") if "no server-time endpoint" in s).lower()
    for venue in VENUE_NAMES:
        named = venue.replace("_", " ") in sentence
        assert named is (not venue_class(venue)().has_time_endpoint()), (venue, sentence)


def test_the_configuration_names_every_venue_and_its_extra_secrets() -> None:
    config = section("Configuration")
    line = next(ln for ln in config.splitlines() if "`<VENUE>` =" in ln)
    assert re.findall(r"`([A-Z_]+)`", line.split("`<VENUE>` =", 1)[1]) == [v.upper() for v in VENUE_NAMES]
    for venue in VENUE_NAMES:
        if "passphrase" in venue_class(venue).requires:
            assert f"`SAFECANCEL_{venue.upper()}_PASSPHRASE`" in config, venue


LIST_COLUMNS = ["venue", "open orders", "conditional orders", "recent history (bulk confirmation)", "listed at"]
LISTINGS_HEADER, *LISTINGS_ROWS = table_rows(section("Open orders"))
LISTINGS = {row[0].strip("`"): dict(zip(LISTINGS_HEADER, row)) for row in LISTINGS_ROWS}


def test_the_listings_table_has_one_row_per_registered_venue() -> None:
    assert LISTINGS_HEADER == LIST_COLUMNS
    assert [row[0] for row in LISTINGS_ROWS] == [f"`{v}`" for v in VENUE_NAMES]


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_venues_listings_row_states_the_adapters_facts(venue: str) -> None:
    cls = venue_class(venue)
    row = LISTINGS[venue]
    creds = Credentials("k", "s", "p", "i")
    columns = {
        ListKind.OPEN: "open orders",
        ListKind.CONDITIONAL: "conditional orders",
        ListKind.HISTORY: "recent history (bulk confirmation)",
    }
    for kind, column in columns.items():
        if kind not in cls.list_kinds:
            assert row[column].startswith("on the open list"), row[column]
            continue
        req = cls().build_list(kind, cls.example_symbol, creds, 1_700_000_000_000, account="1")
        # BitoPro's pair is in the path: the README writes it as {pair}.
        path = req.path.replace(cls.example_symbol.lower(), "{pair}")
        assert row[column].startswith(f"`{req.method} {path}`"), (row[column], req.path)
        assert ("needs a symbol" in row[column]) is (kind in cls.list_needs_symbol), row[column]
    assert row["listed at"] == rate_words(cls.list_rate)


DEADMAN_COLUMNS = ["venue", "countdown", "covers", "timeout", "paced at", "when it fires"]
DEADMAN_HEADER, *DEADMAN_ROWS = table_rows(section("Dead-man switch"))
DEADMAN = {row[0].strip("`"): dict(zip(DEADMAN_HEADER, row)) for row in DEADMAN_ROWS}


def test_the_dead_man_table_has_one_row_per_registered_venue() -> None:
    assert DEADMAN_HEADER == DEADMAN_COLUMNS
    assert [row[0] for row in DEADMAN_ROWS] == [f"`{v}`" for v in VENUE_NAMES]


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_venues_dead_man_row_states_the_adapters_facts(venue: str) -> None:
    from safecancel.deadman import GUARDIAN_RANGE_S

    cls = venue_class(venue)
    row = DEADMAN[venue]
    if cls.countdown_scope is None:
        assert row["countdown"].startswith("none: a guardian process"), row
        assert row["timeout"] == f"{GUARDIAN_RANGE_S[0]}-{GUARDIAN_RANGE_S[1]} s"
        assert row["paced at"] == "—"
        return
    req = cls().build_countdown(cls.example_symbol, cls.countdown_range_s[0], Credentials("k", "s", "p", "i"), 1)
    assert row["countdown"] == f"`{req.method} {req.path}`"
    assert row["covers"].startswith("one symbol" if cls.countdown_scope == "symbol" else "the whole account")
    assert row["timeout"] == f"{cls.countdown_range_s[0]}-{cls.countdown_range_s[1]} s"
    assert row["paced at"] == rate_words(cls.countdown_rate)
    if cls.countdown_cap is not None:
        assert f"at most {cls.countdown_cap}" in row["when it fires"]
