"""No secret in any cassette, none can get into a new one, and the matcher matches only what it should."""

from __future__ import annotations

import random
import secrets
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from vcr import VCR
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from safecancel import Client, Credentials, VenueConfig
from safecancel.testing import FakeCredentials, FakeVenue
from tests.conftest import CREDS, FAST, SECRETS, SYMBOLS, VENUES

from .conftest import (
    CASSETTE_ROOT,
    FILTERED,
    REPLAY_URL,
    SECRET_HEADERS,
    SECRET_PARAMS,
    SETUP_HEADER,
    cassette_config,
    find_secrets,
    known_secrets,
    request_scrubber,
    scrub_query,
    signed_request,
)

# Everything the test credentials hold, the API key included: a key is not a signing secret, but it
# names the account, and vcrpy issue 961 is about exactly this kind of leak. Plus any real credentials
# in the environment: run right after recording live, this scan covers the keys just used.
TEST_SECRETS = (*SECRETS, CREDS.api_key)
CASSETTE_MODULES = [f"test_{v}_cassettes" for v in VENUES]


def cassette_files() -> list[Path]:
    return sorted(p for p in CASSETTE_ROOT.rglob("*") if p.is_file())


def test_every_venue_module_has_its_cassettes() -> None:
    # Guards the scan below against passing on an empty directory.
    for module in CASSETTE_MODULES:
        names = {p.stem for p in (CASSETTE_ROOT / module).glob("*.yaml")}
        assert {"test_success", "test_partial_failure", "test_whole_request_error"} <= names, module


def test_no_test_secret_in_any_cassette() -> None:
    files = cassette_files()
    assert len(files) >= 3 * len(VENUES)
    wanted = {*TEST_SECRETS, *known_secrets()}
    assert {"test-key", "test-secret", "test-pass", "trader@example.invalid"} <= wanted
    hits = {str(p.relative_to(CASSETTE_ROOT)): found for p in files if (found := find_secrets(p.read_text("utf-8", "replace"), wanted))}
    assert hits == {}


def test_every_secret_header_and_parameter_in_the_cassettes_is_masked() -> None:
    # The literal scan above finds the test key; this finds a signature or timestamp left in clear.
    seen_headers: set[str] = set()
    seen_params: set[str] = set()
    for path in CASSETTE_ROOT.rglob("*.yaml"):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            req = interaction["request"]
            for name, values in req["headers"].items():
                if name.lower() in SECRET_HEADERS:
                    seen_headers.add(name.lower())
                    assert values == [FILTERED], (path.name, name)
            for part in filter(None, urlsplit(req["uri"]).query.split("&")):
                name, _, value = part.partition("=")
                if name.lower() in SECRET_PARAMS:
                    seen_params.add(name.lower())
                    assert value == FILTERED, (path.name, name)
    # Every venue's credentials travel somewhere; if none of these were seen, nothing was checked.
    assert {"x-mbx-apikey", "x-bx-apikey", "access-key", "access-passphrase", "x-bitopro-payload"} <= seen_headers
    assert {"signature", "timestamp", "accesskeyid"} <= seen_params


# -- recording with fresh secrets ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_venue():
    """Random credentials for this run, and one fake venue that accepts only them."""
    creds = Credentials(
        api_key=secrets.token_hex(16),
        api_secret=secrets.token_hex(24),
        passphrase=secrets.token_hex(8),
        identity=f"{secrets.token_hex(6)}@example.invalid",
    )
    fake_creds = FakeCredentials(api_key=creds.api_key, api_secret=creds.api_secret, passphrase=creds.passphrase or "")
    with FakeVenue(credentials=fake_creds, async_delay_ms=0) as fake:
        yield fake, creds


def record_one(tmp_path: Path, venue: str, config: dict, fresh_venue) -> tuple[str, Credentials]:
    """Record a cancel of one open and one unknown order (a cancel and a query) with the random credentials."""
    fake, creds = fresh_venue
    fake.reset()
    fake.seed(venue, SYMBOLS[venue], [{"order_id": "4101"}])
    path = tmp_path / f"{venue}.yaml"
    vcr = VCR(record_mode="all")
    vcr.register_matcher("signed_request", signed_request)
    with vcr.use_cassette(str(path), **config), Client(
        str(tmp_path / "journal.db"),
        venues=[VenueConfig(venue, credentials=creds, base_url=fake.url)],
        rng=random.Random(0),
        retry=FAST,
        workers=1,
        environ={},
        deadline=10.0,
    ) as client:
        result = client.cancel(venue, SYMBOLS[venue], order_ids=["4101", "4102"])
    assert result.counts == {"cancelled": 1, "failed": 1}  # the credentials were accepted: real traffic
    return path.read_text(), creds


@pytest.mark.block_network(allowed_hosts=[r"127\.0\.0\.1"])
@pytest.mark.parametrize("venue", VENUES)
def test_recording_with_a_fresh_random_secret_cannot_leak_it(tmp_path: Path, venue: str, fresh_venue) -> None:
    # The configuration the cassette tests use; these random values are not among its known secrets,
    # so only the structural filters (headers, parameters) stand between them and the file.
    text, creds = record_one(tmp_path, venue, cassette_config(known_secrets()), fresh_venue)
    assert text.count("request:") >= 2  # the cancel and the query were both recorded
    assert find_secrets(text, creds.secrets()) == []


@pytest.mark.block_network(allowed_hosts=[r"127\.0\.0\.1"])
@pytest.mark.parametrize("venue", VENUES)
def test_the_scan_does_find_a_leak_when_nothing_is_filtered(tmp_path: Path, venue: str, fresh_venue) -> None:
    # The control for the test above: the same recording without filters, and the scan must see the key
    # (and BitoPro's e-mail inside its base64 payload, and Bitget's passphrase).
    text, creds = record_one(tmp_path, venue, {"match_on": ("signed_request",)}, fresh_venue)
    expected = {creds.api_key}
    expected |= {creds.identity} if venue == "bitopro" else set()
    expected |= {creds.passphrase} if venue == "bitget" else set()
    assert set(find_secrets(text, creds.secrets())) >= expected


# -- scrubbing and matching ---------------------------------------------------------------------------------


def binance_request(host: str = "127.0.0.1:40001", ids: str = "%5B101%2C102%5D", ts: str = "1700000000000", sig: str = "ab" * 32, key: str = "k1") -> Request:
    uri = f"http://{host}/dapi/v1/batchOrders?symbol=BTCUSD_PERP&orderIdList={ids}&recvWindow=5000&timestamp={ts}&signature={sig}"
    return Request("DELETE", uri, None, {"X-MBX-APIKEY": key})


def matches(r1: Request, r2: Request) -> bool:
    try:
        signed_request(r1, r2)
    except AssertionError:
        return False
    return True


def test_matcher_ignores_host_port_scheme_key_timestamp_and_signature() -> None:
    recorded = binance_request()
    replayed = binance_request(host="127.0.0.1:9", ts="1800000000000", sig="cd" * 32, key="other")
    assert matches(recorded, replayed)
    https = Request("DELETE", binance_request().uri.replace("http://127.0.0.1:40001", "https://testnet.binancefuture.com"), None, {})
    assert matches(recorded, https)


def test_matcher_still_tells_orders_methods_paths_and_bodies_apart() -> None:
    recorded = binance_request()
    assert not matches(recorded, binance_request(ids="%5B101%2C103%5D"))
    assert not matches(recorded, Request("GET", recorded.uri, None, {}))
    assert not matches(recorded, Request("DELETE", recorded.uri.replace("batchOrders", "allOpenOrders"), None, {}))
    put = "http://h/v3/orders"
    assert not matches(Request("PUT", put, b'{"BTC_USDT":["1"]}', {}), Request("PUT", put, b'{"BTC_USDT":["2"]}', {}))


def test_scrub_query_keeps_order_and_encoding_and_ignores_case() -> None:
    q = "AccessKeyId=k&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2024-01-01T00%3A00%3A00&Signature=a%2Bb%3D"
    assert scrub_query(q) == (
        f"AccessKeyId={FILTERED}&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp={FILTERED}&Signature={FILTERED}"
    )
    q = "symbol=X&orderIdList=%5B1%2C2%5D&recvWindow=5000&timestamp=1&signature=ff"
    assert scrub_query(q) == f"symbol=X&orderIdList=%5B1%2C2%5D&recvWindow=5000&timestamp={FILTERED}&signature={FILTERED}"


def test_scrubber_drops_setup_traffic_and_replaces_stray_secrets() -> None:
    scrub = request_scrubber(["s3cret-value"])
    assert scrub(Request("POST", "http://h/dapi/v1/order?x=1", None, {SETUP_HEADER: "1"})) is None
    out = scrub(Request("POST", "http://h/p?note=s3cret-value", b'{"k":"s3cret-value"}', {"X-Other": "s3cret-value"}))
    assert "s3cret-value" not in out.uri and out.body == b'{"k":"FILTERED"}' and out.headers["X-Other"] == FILTERED


def test_a_cassette_whose_ids_differ_does_not_replay(tmp_path: Path) -> None:
    """Matching is not vacuous: change one id in a recorded cancel and the replay refuses it."""
    source = CASSETTE_ROOT / "test_binance_coinm_cassettes" / "test_success.yaml"
    tampered = tmp_path / "tampered.yaml"
    shutil.copy(source, tampered)
    tampered.write_text(tampered.read_text().replace("sc-rec-ok-3", "sc-rec-ok-9"))
    vcr = VCR(record_mode="none")
    vcr.register_matcher("signed_request", signed_request)
    with vcr.use_cassette(str(tampered), **cassette_config(known_secrets())), Client(
        str(tmp_path / "journal.db"),
        venues=[VenueConfig("binance_coinm", credentials=CREDS, base_url=REPLAY_URL)],
        rng=random.Random(0),
        retry=FAST,
        workers=1,
        environ={},
    ) as client:
        with pytest.raises(CannotOverwriteExistingCassetteException):
            client.cancel("binance_coinm", "BTCUSD_PERP", client_order_ids=["sc-rec-ok-1", "sc-rec-ok-2", "sc-rec-ok-3"])
