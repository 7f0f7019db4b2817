"""VenueConfig: validation naming the venue and field, the environment as a fallback, immutability, a
redacted repr, and the Client built from it -- end to end against the fake venue.

The deprecated per-venue dicts (``credentials=``, ``base_urls=``, ``batch_sizes=``, ``venue_options=``,
``rates=``) are exercised here and nowhere else: they warn once and behave exactly as VenueConfigs.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import pytest

from safecancel import Client, Credentials, InputError, Rate, VenueConfig
from safecancel.pacing import PACING_MARGIN
from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from tests.conftest import CREDS, FAST, SYMBOLS, VENUES, seed_open

BN = "binance_coinm"
SYM = SYMBOLS[BN]
SECRET_CREDS = Credentials("key-0xKEY", "secret-0xSECRET", passphrase="pass-0xPASS", identity="who@0xIDENT.invalid")
SECRET_STRINGS = ("key-0xKEY", "secret-0xSECRET", "pass-0xPASS", "who@0xIDENT.invalid")


# -- validation: each bad field is named, with its venue --------------------------------------------------------

BAD_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    # (case, VenueConfig kwargs, the exact start of the message)
    ("unknown venue", {"venue": "kraken"}, "unknown venue 'kraken'; known venues: "),
    ("venue not a string", {"venue": 7}, "unknown venue 7"),
    ("credentials not Credentials", {"credentials": "secret-0xSECRET"}, f"{BN}: credentials must be a Credentials"),
    ("api_key with a newline", {"credentials": Credentials("k\n", "s")}, f"{BN}: credential api_key contains"),
    ("api_secret with spaces", {"credentials": Credentials("k", " s ")}, f"{BN}: credential api_secret contains"),
    (
        "passphrase not ASCII",
        {"credentials": Credentials("k", "s", passphrase="pässe")},
        f"{BN}: credential passphrase",
    ),
    (
        "identity a control char",
        {"credentials": Credentials("k", "s", identity="a\x00b")},
        f"{BN}: credential identity",
    ),
    ("api_secret bytes", {"credentials": Credentials("k", b"s")}, f"{BN}: credential api_secret must be a string"),
    # The base URL messages are the ones Client gave before VenueConfig: kept word for word.
    (
        "base URL two lines",
        {"base_url": "http://127.0.0.1:1\n"},
        f"{BN}: base URL must be one line of printable characters without spaces",
    ),
    ("base URL not a string", {"base_url": 5}, f"{BN}: base URL must be one line of printable characters"),
    ("base URL bad port", {"base_url": "http://127.0.0.1:99999"}, f"{BN}: base URL is not a valid URL ("),
    ("base URL user info", {"base_url": "http://u:p@127.0.0.1:1"}, f"{BN}: base URL must not carry user info"),
    ("base URL ftp", {"base_url": "ftp://127.0.0.1/"}, f"{BN}: base URL 'ftp://127.0.0.1/' is not an http(s) URL"),
    ("base URL empty", {"base_url": ""}, f"{BN}: base URL '' is not an http(s) URL"),
    ("base URL query", {"base_url": "http://127.0.0.1:1/?x=1"}, f"{BN}: base URL must not carry a query or fragment"),
    ("batch size zero", {"batch_size": 0}, f"{BN}: batch size must be a positive integer, got 0"),
    ("batch size negative", {"batch_size": -3}, f"{BN}: batch size must be a positive integer, got -3"),
    ("batch size bool", {"batch_size": True}, f"{BN}: batch size must be a positive integer, got True"),
    ("batch size string", {"batch_size": "10"}, f"{BN}: batch size must be a positive integer, got '10'"),
    ("batch size float", {"batch_size": 2.5}, f"{BN}: batch size must be a positive integer, got 2.5"),
    ("rate no requests", {"rate": Rate(0, 1.0)}, f"{BN}: rate must be a Rate(requests >= 1, per_seconds > 0)"),
    ("rate no window", {"rate": Rate(10, 0)}, f"{BN}: rate must be a Rate("),
    ("rate a tuple", {"rate": (10, 1.0)}, f"{BN}: rate must be a Rate("),
    ("rate of strings", {"rate": Rate("10", 1.0)}, f"{BN}: rate must be a Rate("),  # type: ignore[arg-type]
    ("options a list", {"options": [("trust_success_list", True)]}, f"{BN}: options must be a mapping"),
    ("option name not a string", {"options": {1: True}}, f"{BN}: option names must be strings, got 1"),
]


@pytest.mark.parametrize(("case", "kw", "message"), BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
def test_each_bad_field_is_named_with_its_venue(case: str, kw: dict[str, Any], message: str) -> None:
    kw = {"venue": BN, **kw}
    with pytest.raises(InputError) as err:
        VenueConfig(**kw)
    assert str(err.value).startswith(message), str(err.value)
    # A secret never reaches the message, whichever field was wrong.
    assert not [s for s in SECRET_STRINGS if s in str(err.value)]


def test_a_bad_credential_is_named_by_field_never_by_value() -> None:
    with pytest.raises(InputError, match="credential api_key") as err:
        VenueConfig("bitget", credentials=Credentials("key-0xKEY\n", "secret-0xSECRET", passphrase="pass-0xPASS"))
    assert "0xKEY" not in str(err.value) and "0xSECRET" not in str(err.value)


def test_a_base_url_carrying_credentials_is_never_echoed() -> None:
    with pytest.raises(InputError, match="user info") as err:
        VenueConfig(BN, base_url="http://user:secret-0xSECRET@127.0.0.1:1")
    assert "0xSECRET" not in str(err.value)


def test_adapter_bounds_are_left_to_the_adapter() -> None:
    # 11 is a positive integer, so the config takes it; Binance's own limit (10) is checked when the venue
    # is used, with the adapter's message.
    config = VenueConfig(BN, credentials=CREDS, batch_size=11)
    client = Client(venues=[config], environ={})
    with pytest.raises(InputError, match="batch size must be between 1 and 10"):
        client.plan(BN, SYM, order_ids=["1"])


def test_defaults_and_normalisation() -> None:
    config = VenueConfig("htx", base_url="http://127.0.0.1:8080/")
    assert config.base_url == "http://127.0.0.1:8080"  # as Client stored base_urls: no trailing slash
    assert (config.credentials, config.batch_size, config.rate, dict(config.options)) == (None, None, None, {})


# -- immutability, equality, repr -----------------------------------------------------------------------------


def test_frozen() -> None:
    config = VenueConfig(BN, credentials=CREDS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.base_url = "http://127.0.0.1:1"  # type: ignore[misc]
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        config.extra = 1  # type: ignore[attr-defined]


def test_options_are_a_read_only_copy() -> None:
    given = {"trust_success_list": True}
    config = VenueConfig("bitget", options=given)
    given["trust_success_list"] = False
    assert config.options["trust_success_list"] is True
    with pytest.raises(TypeError):
        config.options["trust_success_list"] = False  # type: ignore[index]


def test_equal_configs_are_equal_and_hash_alike() -> None:
    a = VenueConfig("bitget", credentials=CREDS, base_url="http://127.0.0.1:1/", options={"trust_success_list": True})
    b = VenueConfig("bitget", credentials=CREDS, base_url="http://127.0.0.1:1", options={"trust_success_list": True})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != dataclasses.replace(b, options={})  # options count for equality ...
    assert hash(VenueConfig(BN, options={"x": []})) is not None  # ... but an unhashable value does not break hash()
    assert VenueConfig(BN) != VenueConfig(BN, credentials=CREDS)


def test_repr_never_shows_a_secret() -> None:
    config = VenueConfig("bitget", credentials=SECRET_CREDS, base_url="http://127.0.0.1:1", rate=Rate(5, 1.0))
    for text in (repr(config), str(config), repr([config]), repr(config.with_env({}))):
        assert not [s for s in SECRET_STRINGS if s in text], text
    assert "bitget" in repr(config) and "http://127.0.0.1:1" in repr(config)  # still useful to read


# -- the environment --------------------------------------------------------------------------------------------

ENV = {
    "SAFECANCEL_BITGET_API_KEY": "env-key",
    "SAFECANCEL_BITGET_API_SECRET": "env-secret",
    "SAFECANCEL_BITGET_PASSPHRASE": "env-pass",
    "SAFECANCEL_BITGET_BASE_URL": "http://127.0.0.1:7/",
    "SAFECANCEL_BINANCE_COINM_API_KEY": "bn-key",
}


def test_from_env_reads_the_documented_variables() -> None:
    config = VenueConfig.from_env("bitget", ENV)
    assert config.credentials == Credentials("env-key", "env-secret", passphrase="env-pass")
    assert config.base_url == "http://127.0.0.1:7"
    assert (config.batch_size, config.rate, dict(config.options)) == (None, None, {})


def test_from_env_without_variables_leaves_fields_unset() -> None:
    assert VenueConfig.from_env("htx", ENV) == VenueConfig("htx")
    empty = {"SAFECANCEL_HTX_API_KEY": "", "SAFECANCEL_HTX_BASE_URL": ""}  # empty means unset, as before
    assert VenueConfig.from_env("htx", empty) == VenueConfig("htx")


def test_from_env_keeps_a_partial_key_pair_for_the_client_to_name() -> None:
    # As before: a key without a secret is read, and the client says which variable is missing when used.
    config = VenueConfig.from_env(BN, ENV)
    assert config.credentials == Credentials("bn-key", "")
    client = Client(venues=[dataclasses.replace(config, base_url="http://127.0.0.1:1")], environ={})
    with pytest.raises(InputError, match="credential api_secret is missing .set SAFECANCEL_BINANCE_COINM_API_SECRET"):
        client.plan(BN, SYM, order_ids=["1"])


def test_from_env_validates_what_it_reads() -> None:
    with pytest.raises(InputError, match="^htx: base URL must not carry a query"):
        VenueConfig.from_env("htx", {"SAFECANCEL_HTX_BASE_URL": "http://127.0.0.1:1/?a=1"})
    with pytest.raises(InputError, match="^htx: credential api_key contains") as err:
        VenueConfig.from_env("htx", {"SAFECANCEL_HTX_API_KEY": "key-0xKEY\t", "SAFECANCEL_HTX_API_SECRET": "s"})
    assert "0xKEY" not in str(err.value)
    with pytest.raises(InputError, match="unknown venue"):
        VenueConfig.from_env("kraken", {})


def test_with_env_fills_only_unset_fields_and_explicit_wins() -> None:
    explicit = VenueConfig("bitget", base_url="http://127.0.0.1:9", batch_size=5)
    merged = explicit.with_env(ENV)
    assert merged.base_url == "http://127.0.0.1:9"  # explicit wins
    assert merged.credentials == Credentials("env-key", "env-secret", passphrase="env-pass")  # filled
    assert merged.batch_size == 5
    assert explicit.credentials is None  # a new object; the original is unchanged
    # Credentials are taken as a whole: an explicit pair is never completed with the environment's passphrase.
    mine = Credentials("my-key", "my-secret")
    assert VenueConfig("bitget", credentials=mine).with_env(ENV).credentials == mine
    assert VenueConfig("htx").with_env(ENV) == VenueConfig("htx")


# -- the Client -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("venues", "message"),
    [
        ({"htx": VenueConfig("bitget")}, "venues: the key 'htx' holds the configuration of 'bitget'"),
        ([VenueConfig("htx"), VenueConfig("htx", batch_size=2)], "venues: htx is configured twice"),
        ([{"venue": "htx"}], "venues: expected VenueConfig objects, got a dict"),
        ("htx", "venues must be VenueConfig objects"),
        (5, "venues must be VenueConfig objects"),
    ],
)
def test_client_refuses_a_malformed_venues_argument(tmp_path: Path, venues: Any, message: str) -> None:
    with pytest.raises(InputError) as err:
        Client(str(tmp_path / "j.db"), venues=venues, environ={})
    assert str(err.value).startswith(message)
    assert not (tmp_path / "j.db").exists()


def test_client_takes_a_mapping_or_an_iterable(tmp_path: Path) -> None:
    config = VenueConfig("htx", credentials=CREDS, base_url="http://127.0.0.1:1")
    for venues in ({"htx": config}, [config], (c for c in [config])):
        plan = Client(str(tmp_path / "j.db"), venues=venues, environ={}).plan("htx", "btcusdt", order_ids=["1"])
        assert plan[0]["url"].startswith("http://127.0.0.1:1/")


def test_missing_credentials_are_reported_when_used_naming_venues_and_the_variables(tmp_path: Path) -> None:
    client = Client(str(tmp_path / "j.db"), venues=[VenueConfig(BN, base_url="http://127.0.0.1:1")], environ={})
    with pytest.raises(InputError) as err:
        client.plan(BN, SYM, order_ids=["1"])
    text = str(err.value)
    assert text.startswith(f"{BN}: no credentials; pass venues=[VenueConfig('{BN}', credentials=")
    assert "SAFECANCEL_BINANCE_COINM_API_KEY" in text and "SAFECANCEL_BINANCE_COINM_API_SECRET" in text


def test_bad_credentials_from_the_environment_are_refused_when_used_not_before(tmp_path: Path) -> None:
    env = {"SAFECANCEL_HTX_API_KEY": "key-0xKEY\n", "SAFECANCEL_HTX_API_SECRET": "s"}
    client = Client(str(tmp_path / "j.db"), environ=env)  # htx unused yet: nothing read, nothing refused
    with pytest.raises(InputError, match="^htx: credential api_key contains") as err:
        client.plan("htx", "btcusdt", order_ids=["1"])
    assert "0xKEY" not in str(err.value)


def test_one_rate_paces_both_cancels_and_queries(tmp_path: Path) -> None:
    rate = Rate(3333, 1.0)  # a rate no other test uses: pacing is shared per (venue, key, URL, rate)
    config = VenueConfig("htx", credentials=CREDS, base_url="http://127.0.0.1:1", rate=rate)
    link = Client(str(tmp_path / "j.db"), venues=[config], environ={})._link("htx")
    assert link.cancel_bucket.rate == pytest.approx(rate.per_second * PACING_MARGIN)
    assert link.query_bucket.rate == pytest.approx(rate.per_second * PACING_MARGIN)


def test_end_to_end_through_the_public_api(fake: FakeVenue, tmp_path: Path) -> None:
    ids = seed_open(fake, BN, 5)
    config = VenueConfig(BN, credentials=CREDS, base_url=fake.url, batch_size=2)
    with Client(str(tmp_path / "journal.db"), venues=[config], retry=FAST, environ={}, deadline=20.0) as client:
        result = client.cancel(BN, SYM, order_ids=ids)
    assert result.status == "done" and result.counts == {"cancelled": 5}
    assert set(fake.order_status(BN).values()) == {"cancelled"}
    assert len([r for r in fake.requests(BN) if r["endpoint"] == "cancel"]) == 3  # batch_size=2: 2 + 2 + 1


def test_base_url_from_the_config_and_credentials_from_the_environment(fake: FakeVenue, tmp_path: Path) -> None:
    # What `base_urls=` + credentials in the environment did before: explicit fields win, the rest is read.
    ids = seed_open(fake, "bitget", 2)
    env = {
        "SAFECANCEL_BITGET_API_KEY": "test-key",
        "SAFECANCEL_BITGET_API_SECRET": "test-secret",
        "SAFECANCEL_BITGET_PASSPHRASE": "test-pass",
        "SAFECANCEL_BITGET_BASE_URL": "http://127.0.0.1:9",  # overridden by the config
    }
    venues = {"bitget": VenueConfig("bitget", base_url=fake.url, options={"trust_success_list": True})}
    with Client(str(tmp_path / "journal.db"), venues=venues, retry=FAST, environ=env, deadline=20.0) as client:
        result = client.cancel("bitget", SYMBOLS["bitget"], order_ids=ids)
    assert result.status == "done" and result.counts == {"cancelled": 2}
    # trust_success_list reached the adapter: the reply settled the orders, no query was needed.
    assert {o.provenance for o in result.orders} == {"venue_response"}


# -- the deprecated per-venue dicts (the one module that uses them) -------------------------------------------


def _no_deprecation(**kw: Any) -> Client:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        return Client(**kw)


def test_the_new_form_does_not_warn(tmp_path: Path) -> None:
    _no_deprecation(db=str(tmp_path / "j.db"), venues=[VenueConfig(BN, credentials=CREDS)], environ={}).close()
    _no_deprecation(db=str(tmp_path / "j.db"), environ={}).close()


def test_old_arguments_warn_once_naming_the_replacement_at_the_callers_line(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Client(
            str(tmp_path / "j.db"),
            credentials={BN: CREDS},
            base_urls={BN: "http://127.0.0.1:1"},
            batch_sizes={BN: 2},
            venue_options={"bitget": {"trust_success_list": True}},
            rates={BN: Rate(10, 1.0)},
            environ={},
        ).close()
    (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    text = str(warning.message)
    for old in ("credentials=", "base_urls=", "batch_sizes=", "venue_options=", "rates="):
        assert old in text
    assert "venues=[VenueConfig(" in text
    assert warning.filename == __file__  # stacklevel: the caller's line, not safecancel's


def test_old_arguments_are_folded_into_the_same_configs(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning):
        old = Client(
            str(tmp_path / "j.db"),
            credentials={BN: CREDS},
            base_urls={BN: "http://127.0.0.1:1/", "htx": "http://127.0.0.1:2"},
            batch_sizes={BN: 2},
            venue_options={"bitget": {"trust_success_list": True}},
            rates={BN: Rate(10, 1.0)},
            environ={},
        )
    assert old._venues == {
        BN: VenueConfig(BN, credentials=CREDS, base_url="http://127.0.0.1:1", batch_size=2, rate=Rate(10, 1.0)),
        "htx": VenueConfig("htx", base_url="http://127.0.0.1:2"),
        "bitget": VenueConfig("bitget", options={"trust_success_list": True}),
    }


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ({"base_urls": {"kraken": "http://127.0.0.1:1"}}, "unknown venue 'kraken'"),
        ({"credentials": {"kraken": CREDS}}, "unknown venue 'kraken'"),
        ({"base_urls": {BN: "ftp://127.0.0.1/"}}, f"{BN}: base URL 'ftp://127.0.0.1/' is not an http(s) URL"),
        ({"base_urls": {BN: "ftp://user:secret-0xSECRET@127.0.0.1/"}}, f"{BN}: base URL must not carry user info"),
        ({"rates": {BN: Rate(0, 1.0)}}, f"{BN}: rate must be a Rate(requests >= 1, per_seconds > 0), got "),
        ({"batch_sizes": {BN: 0}}, f"{BN}: batch size"),
        ({"base_urls": [BN]}, "base_urls must be a mapping by venue name"),
    ],
)
def test_old_arguments_are_validated_as_before(tmp_path: Path, old: dict[str, Any], message: str) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(InputError) as err:
        Client(str(tmp_path / "j.db"), environ={}, **old)
    assert str(err.value).startswith(message) and "0xSECRET" not in str(err.value)
    assert not (tmp_path / "j.db").exists()


def test_a_venue_in_both_venues_and_an_old_argument_is_refused(tmp_path: Path) -> None:
    both_ways = f"{BN}: configured both in venues= and in base_urls=, rates=; give it in venues= only"
    with pytest.warns(DeprecationWarning), pytest.raises(InputError) as err:
        Client(venues=[VenueConfig(BN)], base_urls={BN: "http://127.0.0.1:1"}, rates={BN: Rate(1, 1.0)}, environ={})
    assert str(err.value) == both_ways
    # Different venues in each are fine (while the old form lasts).
    with pytest.warns(DeprecationWarning):
        both = Client(
            str(tmp_path / "j.db"), venues=[VenueConfig(BN)], base_urls={"htx": "http://127.0.0.1:1"}, environ={}
        )
    assert set(both._venues) == {BN, "htx"}


def _outcome(result: Any) -> Any:
    return (
        result.status,
        dict(result.counts),
        sorted((o.order_id, o.state, o.reason, o.provenance, o.attempts) for o in result.orders),
    )


def test_old_arguments_behave_exactly_as_venue_configs(fake: FakeVenue, tmp_path: Path) -> None:
    """The same cancels (a venue down, a partial failure, a bad key) through both forms end the same way."""

    def run(tag: str, **client_kw: Any) -> list[Any]:
        fake.reset()
        out = []
        with Client(str(tmp_path / f"{tag}.db"), retry=FAST, environ={}, deadline=20.0, **client_kw) as client:
            for venue in VENUES:
                ids = seed_open(fake, venue, 3)
                fake.seed(venue, SYMBOLS[venue], [{"order_id": "555", "status": "filled"}])
                out.append(_outcome(client.cancel(venue, SYMBOLS[venue], order_ids=[*ids, "555"])))
            out.append(sorted((r["venue"], r["endpoint"]) for r in fake.requests() if r["endpoint"] == "cancel"))
        return out

    # 2 or 3 ids per request, alternating over the registry (within each venue's bounds): the 4 orders of a venue
    # go out in 2 requests where the default would send 1, so a form that dropped it would send other requests.
    batch = {v: min(2 + i % 2, venue_class(v).hard_max_batch) for i, v in enumerate(VENUES)}
    with pytest.warns(DeprecationWarning):
        old = run(
            "old",
            credentials=dict.fromkeys(VENUES, CREDS),
            base_urls=dict.fromkeys(VENUES, fake.url),
            batch_sizes=batch,
            venue_options={"bitget": {"trust_success_list": True}},
        )
    new = run(
        "new",
        venues=[
            VenueConfig(
                v,
                credentials=CREDS,
                base_url=fake.url,
                batch_size=batch[v],
                options={"trust_success_list": True} if v == "bitget" else {},
            )
            for v in VENUES
        ],
    )
    assert old == new
    assert all(outcome[0] == "done" for outcome in new[:-1])


def test_pacing_comes_from_the_environment_and_a_bad_value_names_the_variable() -> None:
    env = {"SAFECANCEL_BINANCE_COINM_PACING": "weight"}
    assert VenueConfig.from_env("binance_coinm", env).pacing == "weight"
    assert VenueConfig("binance_coinm").with_env(env).pacing == "weight"
    assert VenueConfig("binance_coinm", pacing="orders").with_env(env).pacing == "orders"  # the config wins
    with pytest.raises(InputError, match="SAFECANCEL_BINANCE_COINM_PACING: .*'fast'"):
        VenueConfig("binance_coinm").with_env({"SAFECANCEL_BINANCE_COINM_PACING": "fast"})
    with pytest.raises(InputError, match="SAFECANCEL_BINGX_PACING"):
        VenueConfig.from_env("bingx", {"SAFECANCEL_BINGX_PACING": "weight"})


def test_a_client_paces_by_the_pacing_the_environment_names(tmp_path) -> None:
    creds = Credentials("k", "s")
    rates = {}
    for pacing in ("orders", "weight"):
        env = {"SAFECANCEL_BINANCE_COINM_PACING": pacing}
        with Client(
            str(tmp_path / f"{pacing}.db"), venues=[VenueConfig("binance_coinm", credentials=creds)], environ=env
        ) as c:
            rates[pacing] = c._link("binance_coinm").cancel_bucket.rate
    assert rates["weight"] == pytest.approx(2 * rates["orders"])  # 2400/min of weight against 1200/min of orders
