"""VCR cassettes for the five venues: where they live, what is scrubbed, how a signed request replays.

Every test here drives the public :class:`~safecancel.Client` end to end (adapter + engine + journal)
inside a pytest-recording cassette, so a replay exercises the same code a live run does.

Modes (pytest-recording's ``--record-mode``):

* ``none`` (the default, and what CI runs with ``--block-network``): replay. No server runs; the client
  talks to :data:`REPLAY_URL`, a loopback address nothing listens on. VCR answers every request from
  the cassette, and a request the cassette does not hold fails the test before any socket is opened.
* ``rewrite`` / ``all`` / ``new_episodes`` (or ``once`` with the cassette missing): record. The test
  starts the loopback :class:`~safecancel.testing.FakeVenue`, seeds it and injects its faults. For
  Binance COIN-M, setting ``SAFECANCEL_BINANCE_COINM_BASE_URL`` (e.g. the testnet) together with your
  own ``SAFECANCEL_BINANCE_COINM_API_KEY`` / ``_API_SECRET`` records against that venue instead; the
  tests that need the fake's fault injection still record against the fake.

Scrubbing (vcrpy issue 961 is what happens without it): header values that carry keys, signatures,
passphrases, BitoPro's payload (it holds the account e-mail) or a signed timestamp are replaced by
:data:`FILTERED`; so are the query parameters that carry them (Binance/BingX ``signature`` and
``timestamp``, HTX ``AccessKeyId``, ``Signature`` and ``Timestamp``). Any literal occurrence of a known
secret left anywhere in a request or a reply is replaced too, as a second net.

Matching (:func:`signed_request`): method, path, the query without those parameters, and the exact
body bytes. Scheme, host and port are ignored, so a cassette recorded against the fake on a random
port (or against the testnet over https) replays against :data:`REPLAY_URL`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit, urlunsplit

import pytest

from safecancel import Client, Credentials, FakeClock, VenueConfig, credentials_from_env
from safecancel.client import env_name
from safecancel.testing import FakeVenue
from safecancel.venues import VENUE_NAMES, venue_class
from tests.conftest import CREDS, FAST, ROOT

CASSETTE_ROOT = ROOT / "cassettes"
FILTERED = "FILTERED"
# Port 9 (discard) on loopback: nothing listens there, and VCR answers before a connection is tried.
REPLAY_URL = "http://127.0.0.1:9"
# Requests carrying this header are test set-up (placing orders on a real testnet): never recorded.
SETUP_HEADER = "X-Safecancel-Setup"

# Written from the venues' docs (shared/venues.md), not read from the adapters, so an adapter that
# forgets one of its own secret headers still cannot leak it into a cassette. The adapters' own
# lists are added below as well.
_DOC_SECRET_HEADERS = frozenset(
    {
        "x-mbx-apikey",  # Binance COIN-M
        "x-bx-apikey",  # BingX
        "access-key",  # Bitget
        "access-sign",
        "access-passphrase",
        "access-timestamp",  # signed and different on every request: volatile, not secret
        "x-bitopro-apikey",  # BitoPro
        "x-bitopro-payload",  # base64 of {"identity": <account e-mail>, "nonce": ...} on GET/DELETE
        "x-bitopro-signature",
    }
)
_DOC_SECRET_PARAMS = frozenset(
    {
        "signature",  # Binance, BingX (HMAC of the query); HTX "Signature" (case-folded)
        "timestamp",  # Binance, BingX; HTX "Timestamp": signed, so volatile
        "accesskeyid",  # HTX
    }
)
SECRET_HEADERS = _DOC_SECRET_HEADERS | frozenset(h.lower() for v in VENUE_NAMES for h in venue_class(v).secret_headers)
# Compared case-insensitively: HTX capitalises its parameter names.
SECRET_PARAMS = _DOC_SECRET_PARAMS | frozenset(p.lower() for v in VENUE_NAMES for p in venue_class(v).secret_params)


# -- scrubbing -------------------------------------------------------------------------------------


def scrub_query(query: str) -> str:
    """The query string with secret/volatile values replaced, byte for byte otherwise.

    vcrpy's own ``filter_query_parameters`` re-sorts and re-encodes the whole query, so the cassette
    would no longer show what was signed (Binance's ``signature`` must be the last parameter, its
    ``orderIdList`` is percent-encoded JSON); this keeps the order and the encoding.
    """
    if not query:
        return query
    out = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        out.append(f"{name}={FILTERED}" if sep and unquote_plus(name).lower() in SECRET_PARAMS else part)
    return "&".join(out)


def _replace_all(value: Any, secrets: Iterable[str]) -> Any:
    for secret in secrets:
        if isinstance(value, str):
            value = value.replace(secret, FILTERED)
        elif isinstance(value, (bytes, bytearray)):
            value = bytes(value).replace(secret.encode(), FILTERED.encode())
    return value


def _usable(secrets: Iterable[str]) -> tuple[str, ...]:
    # Very short values would scrub innocent text (and are not credentials anyone uses).
    return tuple(sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True))


def request_scrubber(secrets: Iterable[str]) -> Callable[[Any], Any]:
    """``before_record_request``: drop set-up traffic, mask secret parameters, replace stray secrets.

    vcrpy runs it on every request it records *and* on every live request before matching, so the
    two sides are compared in the same scrubbed form.
    """
    known = _usable(secrets)

    def scrub(request: Any) -> Any:
        if request.headers.get(SETUP_HEADER):
            return None
        parts = urlsplit(request.uri)
        uri = urlunsplit(parts._replace(query=scrub_query(parts.query)))
        request.uri = _replace_all(uri, known)
        request.body = _replace_all(request.body, known)
        for name in list(request.headers):
            request.headers[name] = _replace_all(request.headers[name], known)
        return request

    return scrub


def response_scrubber(secrets: Iterable[str]) -> Callable[[dict], dict]:
    """``before_record_response``: no venue should echo a credential, but if one does it is replaced."""
    known = _usable(secrets)

    def scrub(response: dict) -> dict:
        body = response.get("body") or {}
        if "string" in body:
            body["string"] = _replace_all(body["string"], known)
        headers = response.get("headers") or {}
        for name, values in list(headers.items()):
            headers[name] = [_replace_all(v, known) for v in values]
        return response

    return scrub


# -- matching --------------------------------------------------------------------------------------


def stable_query(uri: str) -> list[tuple[str, str]]:
    """The query parameters that identify a request: everything but signatures, keys and timestamps."""
    pairs = parse_qsl(urlsplit(uri).query, keep_blank_values=True)
    return [(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS]


def _body(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)


def signed_request(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same method, path, identifying query and body; host, port and scheme ignored."""
    assert r1.method == r2.method, f"method {r1.method} != {r2.method}"
    assert r1.path == r2.path, f"path {r1.path} != {r2.path}"
    assert stable_query(r1.uri) == stable_query(r2.uri), f"query {stable_query(r1.uri)} != {stable_query(r2.uri)}"
    assert _body(r1) == _body(r2), f"body {_body(r1)!r} != {_body(r2)!r}"


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("signed_request", signed_request)


def known_secrets(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The test credentials plus any real ones in the environment (a user recording live)."""
    values = set(CREDS.secrets())
    for venue in VENUE_NAMES:
        creds = credentials_from_env(venue, os.environ if environ is None else environ)
        if creds is not None:
            values.update(creds.secrets())
    return _usable(values)


def cassette_config(secrets: Iterable[str]) -> dict[str, Any]:
    """The vcrpy options every cassette here is recorded and replayed with."""
    secrets = tuple(secrets)
    return {
        "filter_headers": [(h, FILTERED) for h in sorted(SECRET_HEADERS)],
        "before_record_request": request_scrubber(secrets),
        "before_record_response": response_scrubber(secrets),
        # A real venue may gzip its replies: store them readable, so the secret scan can read them.
        "decode_compressed_response": True,
        "match_on": ("signed_request",),
        # Recording code that raises inside the cassette must not leave half a cassette behind. (A
        # pytest assertion failure happens outside it: re-record after fixing a failing test.)
        "record_on_exception": False,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTE_ROOT / request.node.path.stem)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return cassette_config(known_secrets())


# -- secret scanning -------------------------------------------------------------------------------

_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def _decoded_views(text: str) -> Iterator[str]:
    """The text itself, percent-decoded, and every base64-looking token decoded (BitoPro's payload)."""
    yield text
    yield unquote(text)
    for token in _B64_TOKEN.findall(text):
        padded = token + "=" * (-len(token) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield decode(padded).decode("utf-8", "ignore")
            except (binascii.Error, ValueError):
                pass


def find_secrets(text: str, secrets: Iterable[str]) -> list[str]:
    """Which of ``secrets`` appear in ``text``, literally, percent-encoded or inside base64."""
    views = list(_decoded_views(text))
    return sorted({s for s in secrets if any(s in v for v in views)})


# -- small helpers for the venue modules ---------------------------------------------------------------


def by_ref(result: Any) -> dict[str, Any]:
    """A job's orders keyed by their client order id (or order id)."""
    return {o.client_order_id or o.order_id: o for o in result.orders}


def reply_json(response: dict) -> Any:
    """The JSON body of a recorded reply."""
    body = response["body"]["string"]
    return json.loads(body.decode() if isinstance(body, bytes) else body)


def statuses(exchanges: list[tuple[Any, dict]]) -> list[int]:
    return [rs["status"]["code"] for _, rs in exchanges]


# -- the rig: one venue, one test, one cassette ------------------------------------------------------


@dataclass
class Rig:
    """What a cassette test needs, the same in every mode.

    ``mode`` is ``replay`` (no server; :data:`REPLAY_URL`), ``fake`` (recording against the loopback
    fake venue) or ``live`` (recording against ``SAFECANCEL_<VENUE>_BASE_URL`` with real keys).
    """

    venue: str
    mode: str
    base_url: str
    creds: Credentials
    db_path: str
    cassette: Any
    fake: FakeVenue | None = None
    placer: Callable[[Rig, str, list[dict[str, Any]]], None] | None = None
    _clients: list[Client] = field(default_factory=list)

    def client(
        self, *, creds: Credentials | None = None, options: Mapping[str, Any] | None = None, **kw: Any
    ) -> Client:
        """A client wired to this rig: seeded rng, a clock that moves only when the engine sleeps, one worker.

        Which requests the engine sends depends only on the replies, the rng and the clock; with all
        three fixed, a replay asks for exactly the recorded requests. With the real clock it would
        not: two orders requeued with jittered delays go out in one batch or in two depending on how
        fast the machine is, and the cassette would hold the other shape. One worker keeps the order
        of requests fixed, and vcrpy's cassette is not shared across threads. The clock starts at the
        real time so the venue accepts the signed timestamps while recording.
        """
        kw.setdefault("clock", FakeClock(start=time.time()))
        kw.setdefault("retry", FAST)
        kw.setdefault("deadline", 30.0 if self.mode == "live" else 10.0)
        c = Client(
            self.db_path,
            venues=[
                VenueConfig(self.venue, credentials=creds or self.creds, base_url=self.base_url, options=options or {})
            ],
            rng=random.Random(0),
            workers=1,
            environ={},
            **kw,
        )
        self._clients.append(c)
        return c

    def wrong_secret(self) -> Credentials:
        """The rig's key with a secret the venue cannot verify: its own auth error, before any lookup."""
        c = self.creds
        return Credentials(c.api_key, "0" * 64, passphrase=c.passphrase, identity=c.identity)

    def seed(self, symbol: str, orders: list[dict[str, Any]]) -> None:
        """Make these orders exist at the venue (recording only; a replay needs nothing)."""
        if self.mode == "fake":
            assert self.fake is not None
            self.fake.seed(self.venue, symbol, orders)
        elif self.mode == "live":
            assert self.placer is not None
            self.placer(self, symbol, [o for o in orders if o.get("status", "open") == "open"])

    def fault(self, endpoint: str, kind: str, **spec: Any) -> None:
        if self.mode == "fake":
            assert self.fake is not None
            self.fake.fault(self.venue, endpoint, kind, **spec)
        elif self.mode == "live":
            raise AssertionError("a live venue takes no injected faults; use the fake_rig fixture")

    def ledger(self) -> dict[str, dict[str, Any]] | None:
        """The fake's ledger by order id (and client id) while recording against it; None otherwise."""
        if self.fake is None:
            return None
        out: dict[str, dict[str, Any]] = {}
        for o in self.fake.orders(self.venue):
            out[o["order_id"]] = o
            if o["client_order_id"]:
                out[o["client_order_id"]] = o
        return out

    def exchanges(self, path_end: str = "") -> list[tuple[Any, dict]]:
        """(request, response) pairs in the cassette whose path ends with ``path_end``.

        In a replay these are what was recorded; while recording, what was just appended.
        """
        return [(rq, rs) for rq, rs in self.cassette.data if rq.path.endswith(path_end)]

    def close(self) -> None:
        for c in self._clients:
            c.close()


@pytest.fixture(scope="module")
def fake_for_recording() -> Iterator[Callable[[], FakeVenue]]:
    """Starts one fake venue per module, and only when a test there records."""
    box: list[FakeVenue] = []

    def get() -> FakeVenue:
        if not box:
            # HTX/Bitget accept a cancel and apply it "a moment later": here at the next request, so
            # the engine's first query finds the order cancelled whatever the machine's speed.
            box.append(FakeVenue(async_delay_ms=0).start())
        box[0].reset()
        return box[0]

    yield get
    for fv in box:
        fv.stop()


def _make_rig(request: pytest.FixtureRequest, vcr: Any, tmp_path: Path, get_fake: Callable[[], FakeVenue], *, allow_live: bool) -> Rig:
    venue = request.module.VENUE
    cassette = vcr
    assert cassette is not None, "cassette tests must be marked with pytest.mark.vcr"
    db_path = str(tmp_path / "journal.db")
    if cassette.write_protected:
        if not len(cassette):
            pytest.fail(
                f"no cassette {cassette.path}: record it with "
                f"`pytest {request.node.nodeid} --record-mode=once` (see tests/cassettes/conftest.py)"
            )
        return Rig(venue, "replay", REPLAY_URL, CREDS, db_path, cassette)
    live_url = os.environ.get(env_name(venue, "base_url"))
    placer = getattr(request.module, "place_live_orders", None)
    if allow_live and live_url and placer is not None:
        creds = credentials_from_env(venue)
        if creds is None:
            pytest.fail(f"recording live needs {env_name(venue, 'api_key')} and {env_name(venue, 'api_secret')}")
        return Rig(venue, "live", live_url.rstrip("/"), creds, db_path, cassette, placer=placer)
    fake = get_fake()
    return Rig(venue, "fake", fake.url, CREDS, db_path, cassette, fake=fake)


@pytest.fixture
def rig(request: pytest.FixtureRequest, vcr: Any, tmp_path: Path, fake_for_recording) -> Iterator[Rig]:
    """A rig that records against a live venue when one is configured, else against the fake."""
    r = _make_rig(request, vcr, tmp_path, fake_for_recording, allow_live=True)
    yield r
    r.close()
    _check_replayed_everything(r)


@pytest.fixture
def fake_rig(request: pytest.FixtureRequest, vcr: Any, tmp_path: Path, fake_for_recording) -> Iterator[Rig]:
    """A rig that always records against the fake: for scenarios made with its fault injection."""
    r = _make_rig(request, vcr, tmp_path, fake_for_recording, allow_live=False)
    yield r
    r.close()
    _check_replayed_everything(r)


def _check_replayed_everything(r: Rig) -> None:
    # vcrpy fails a request the cassette lacks; this catches the opposite: a replay that sent fewer
    # requests than were recorded (each recorded exchange plays at most once).
    if r.mode == "replay":
        unplayed = [f"{rq.method} {rq.path}" for i, (rq, _) in enumerate(r.cassette.data) if not r.cassette.play_counts[i]]
        assert not unplayed, f"recorded but never asked for in the replay: {unplayed}"
