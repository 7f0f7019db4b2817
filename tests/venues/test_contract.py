"""The contract every venue adapter keeps, run on every registered venue.

One suite over :data:`safecancel.venues.VENUE_NAMES` (huey's ``StorageTests``, mixed into one test class
per backend): the facts an adapter states (:class:`~safecancel.venues.base.VenueAdapter`'s attributes),
its batch bounds, the chunking invariants, validation that names the bad item, parsers that never raise
on junk, and the fake venue's dialect accepting what the adapter signs. A new venue gets all of it by
being registered; ``tests/venues/test_<venue>.py`` keeps only the venue's documented vectors and quirks.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safecancel.errors import InputError
from safecancel.model import (
    REASON_NOT_FOUND,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    IdKind,
    ListedOrder,
    ListKind,
    ListPage,
    OrderRef,
    Outcome,
    Verdict,
)
from safecancel.testing import FakeVenue
from safecancel.testing.wire import FakeRequest
from safecancel.venues import VENUE_NAMES, venue_class
from safecancel.venues.base import IdFormat, Rate, VenueAdapter, clip, load_json, redact_query
from tests.conftest import CREDS

CLASSES: dict[str, type[VenueAdapter]] = {v: venue_class(v) for v in VENUE_NAMES}
CLIENT_ID_VENUES = [v for v, cls in CLASSES.items() if IdKind.CLIENT_ORDER_ID in cls.id_kinds]
ORDER_ONLY_VENUES = [v for v in VENUE_NAMES if v not in CLIENT_ID_VENUES]
# (venue, kind) for every id kind a venue cancels by.
VENUE_KINDS = [(v, k) for v, cls in CLASSES.items() for k in sorted(cls.id_kinds)]

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def adapter(venue: str, **kw: Any) -> VenueAdapter:
    return CLASSES[venue](**kw)


def symbols(venue: str) -> list[str]:
    """The venue's example symbol and two more in its own spelling (the example's base swapped)."""
    example_symbol = CLASSES[venue].example_symbol
    out = [example_symbol]
    for base in ("ETH", "XRP"):
        swapped = example_symbol.replace("BTC", base).replace("btc", base.lower())
        if swapped not in out:
            out.append(swapped)
    return out


def ref(venue: str, kind: IdKind, value: str, symbol: str | None = None) -> OrderRef:
    sym = symbol if symbol is not None else CLASSES[venue].example_symbol
    return OrderRef(sym, order_id=value) if kind is IdKind.ORDER_ID else OrderRef(sym, client_order_id=value)


def now_ms() -> int:
    return int(time.time() * 1000)


# -- 1. the facts: present and well-typed ---------------------------------------------------------


def test_the_registry_lists_every_adapter_module_once() -> None:
    assert len(set(VENUE_NAMES)) == len(VENUE_NAMES) >= 1
    for venue, cls in CLASSES.items():
        # The module is named after the venue, which is how the registry, the dialect and the docs find it.
        assert cls.__module__ == f"safecancel.venues.{venue}", cls


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_facts_are_present_and_well_typed(venue: str) -> None:
    cls = CLASSES[venue]
    assert issubclass(cls, VenueAdapter) and cls.name == venue
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.name)
    assert cls.default_base_url.startswith("https://") and not cls.default_base_url.endswith("/")
    assert isinstance(cls.id_kinds, frozenset) and cls.id_kinds and cls.id_kinds <= set(IdKind)
    for names in (cls.secret_headers, cls.secret_params):
        assert isinstance(names, frozenset) and all(isinstance(n, str) and n for n in names)
    assert all(h == h.lower() for h in cls.secret_headers)  # compared with lower-cased header names
    for rate in (cls.cancel_rate, cls.query_rate):
        assert isinstance(rate, Rate) and isinstance(rate.requests, int) and rate.requests > 0 and rate.per_seconds > 0
    credential_fields = {f.name for f in fields(Credentials)}
    assert isinstance(cls.requires, tuple) and {"api_key", "api_secret"} <= set(cls.requires) <= credential_fields
    # Batch bounds: 1 <= default <= hard maximum.
    for bound in (cls.default_max_batch, cls.hard_max_batch):
        assert isinstance(bound, int) and not isinstance(bound, bool)
    assert 1 <= cls.default_max_batch <= cls.hard_max_batch
    # The documented defaults' types.
    assert isinstance(cls.not_found_confirmations, int) and not isinstance(cls.not_found_confirmations, bool)
    assert cls.not_found_confirmations >= 1
    assert cls.forget_after_s is None or (isinstance(cls.forget_after_s, float | int) and cls.forget_after_s > 0)
    for flag in (cls.asynchronous_cancel, cls.pending_cancel_reads_open, cls.one_symbol_per_request):
        assert isinstance(flag, bool)
    assert not cls.pending_cancel_reads_open or cls.asynchronous_cancel  # only an accepted cancel can be pending


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_id_format_states_what_the_venue_takes(venue: str) -> None:
    cls = CLASSES[venue]
    fmt = cls.id_format
    assert isinstance(fmt, IdFormat) and fmt.symbol_hint and fmt.order_id_name and fmt.order_id_hint
    assert fmt.symbol.fullmatch(cls.example_symbol)
    for sym in symbols(venue):
        adapter(venue).validate([OrderRef(sym, order_id="1")])  # the suite's own symbols are the venue's
    # A client-id pattern exactly where the venue cancels by client id, with its documented length limit.
    takes_client_ids = IdKind.CLIENT_ORDER_ID in cls.id_kinds
    assert (fmt.client_id is not None) == takes_client_ids
    if takes_client_ids:
        assert fmt.client_id_name and fmt.client_id_hint
        limit = fmt.client_id_max_len
        assert isinstance(limit, int) and limit >= 1
        adapter(venue).validate([ref(venue, IdKind.CLIENT_ORDER_ID, "a" * limit)])
        with pytest.raises(InputError):
            adapter(venue).validate([ref(venue, IdKind.CLIENT_ORDER_ID, "a" * (limit + 1))])


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_construction_and_the_time_endpoint(venue: str) -> None:
    cls = CLASSES[venue]
    a = cls()
    assert a.base_url == cls.default_base_url
    assert cls("http://127.0.0.1:8765/").base_url == "http://127.0.0.1:8765"
    # has_time_endpoint is derived from build_time: a time request, or None.
    req = a.build_time()
    assert a.has_time_endpoint() is (req is not None)
    if req is not None:
        assert isinstance(req, HttpRequest) and req.endpoint == "time" and req.method == "GET"


def test_an_adapter_missing_a_fact_fails_at_class_creation() -> None:
    base = CLASSES[VENUE_NAMES[0]]
    with pytest.raises(TypeError, match="example_symbol"):
        type("Incomplete", (VenueAdapter,), {k: getattr(base, k) for k in ("name", "default_base_url")})


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_fake_speaks_the_venue_at_the_adapters_rates(venue: str, fake_server: FakeVenue) -> None:
    # The fake's dialect is an independent reading of the same docs (it never imports the adapter).
    assert venue in fake_server.dialects
    dialect = fake_server.dialects[venue]
    rates = getattr(dialect, "rates", None) or {}
    cls = CLASSES[venue]
    # A venue whose endpoints spend from one shared budget (Binance's REQUEST_WEIGHT) has no cancel rate of
    # its own in the fake: the adapter's cancel_rate there is a reading of the docs (ORDERS), checked with
    # the pacing tests (tests/unit/test_pacing.py).
    if "cancel" in rates or cls.shared_budget is None:
        assert tuple(rates.get("cancel", dialect.rate)) == (cls.cancel_rate.requests, cls.cancel_rate.per_seconds)
    if "query" in rates:
        assert tuple(rates["query"]) == (cls.query_rate.requests, cls.query_rate.per_seconds)
    # The shared budget: the same limit, and the same weight for a cancel and a query of one symbol.
    budget = cls.shared_budget
    assert (budget is not None) is bool(getattr(dialect, "budgets", None)), venue
    if budget is not None:
        limit = (budget.limit.requests, budget.limit.per_seconds)
        name = next(n for n, units in dialect.budgets.items() if tuple(units) == limit)
        req = FakeRequest("GET", "/", f"symbol={cls.example_symbol}", {}, b"", "127.0.0.1")
        for kind in ("cancel", "query"):
            assert dialect.spend(kind, req).get(name, 0) == budget.weights.get(kind, 0), (venue, kind)


# -- 2. batch bounds --------------------------------------------------------------------------------


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_batch_bounds(venue: str) -> None:
    cls = CLASSES[venue]
    assert cls().max_batch == cls(max_batch=None).max_batch == cls.default_max_batch
    for n in {1, cls.default_max_batch, cls.hard_max_batch}:
        assert cls(max_batch=n).max_batch == n
    for bad in (0, -1, cls.hard_max_batch + 1, True, 2.5, "10"):
        with pytest.raises(InputError, match=f"batch size must be between 1 and {cls.hard_max_batch}"):
            cls(max_batch=bad)  # type: ignore[arg-type]


# -- 3. chunking --------------------------------------------------------------------------------------


@st.composite
def orders(draw: st.DrawFn, venue: str) -> list[OrderRef]:
    """Distinct orders in any mix of the venue's symbols and id kinds, in any order."""
    kinds = sorted(CLASSES[venue].id_kinds)
    pool = st.builds(
        lambda sym, kind, n: ref(venue, kind, str(n) if kind is IdKind.ORDER_ID else f"c-{n}", sym),
        st.sampled_from(symbols(venue)),
        st.sampled_from(kinds),
        st.integers(1, 400),
    )
    return draw(st.lists(pool, max_size=60, unique_by=lambda r: (r.symbol, r.kind, r.value)))


def _group(venue: str, r: OrderRef) -> tuple[IdKind, str | None]:
    """What must be alike within one request: the id kind, and the symbol where the venue says so."""
    return r.kind, (r.symbol if CLASSES[venue].one_symbol_per_request else None)


@pytest.mark.parametrize("venue", VENUE_NAMES)
@SETTINGS
@given(data=st.data())
def test_plan_chunks_invariants(venue: str, data: st.DataObject) -> None:
    cls = CLASSES[venue]
    size = data.draw(st.integers(1, min(cls.hard_max_batch, 12)) | st.just(cls.default_max_batch), label="max_batch")
    a = cls(max_batch=size)
    refs = data.draw(orders(venue), label="refs")
    chunks = a.plan_chunks(refs)
    assert chunks == a.plan_chunks(refs)  # deterministic
    flat = [r for c in chunks for r in c]
    assert Counter(flat) == Counter(refs)  # every order exactly once
    per_group: dict[tuple[IdKind, str | None], list[int]] = {}
    for chunk in chunks:
        assert 1 <= len(chunk) <= size
        keys = {_group(venue, r) for r in chunk}
        assert len(keys) == 1, chunk  # one id kind (and one symbol where required) per request
        per_group.setdefault(keys.pop(), []).append(len(chunk))
        a.build_cancel(chunk, CREDS, 1_700_000_000_000)  # what is planned can be built
    # As few requests as the rules allow: every request of a group is full but its last.
    for sizes in per_group.values():
        assert all(n == size for n in sizes[:-1]), per_group
    # Orders of one symbol and kind keep their order; groups come in the order they were first seen.
    for key in {(r.symbol, r.kind) for r in refs}:
        assert [r for r in flat if (r.symbol, r.kind) == key] == [r for r in refs if (r.symbol, r.kind) == key]
    first_seen = list(dict.fromkeys(_group(venue, r) for r in refs))
    assert list(dict.fromkeys(_group(venue, r) for r in flat)) == first_seen
    assert a.plan_chunks([]) == []


# -- 4. validation names the bad item -----------------------------------------------------------------

BAD_SYMBOLS = ["", " ", "BTC USDT", "BTC\x00USDT", "BTC\nUSDT", "../../etc", "BTC/USDT\u200b", "é", "Ｓ" * 3,
               "S" * 5000]  # fmt: skip
BAD_ORDER_IDS = ["", " ", "abc", "12a", "１２３", "٣", "0", "021", "+5", "-5", "1 2", "12\x00", '1","2', "9" * 25,
                 "9" * 5000]  # fmt: skip
BAD_CLIENT_IDS = ["", "a b", "a\x00b", "tab\there", "café", "ｍｙ", 'a"b', "a,b", "a&b=c", "x" * 5000]


def refused(venue: str, bad: OrderRef) -> str:
    """The InputError text for a batch whose second item is ``bad`` (the first is fine)."""
    good = ref(venue, bad.kind, "7" if bad.kind is IdKind.ORDER_ID else "good-7")
    with pytest.raises(InputError) as info:
        adapter(venue).validate([good, bad])
    return str(info.value)


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("bad", BAD_SYMBOLS, ids=repr)
def test_a_bad_symbol_is_named(venue: str, bad: str) -> None:
    text = refused(venue, OrderRef(bad, order_id="1"))
    assert clip(bad) in text and len(text) < 400


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("bad", BAD_ORDER_IDS, ids=repr)
def test_a_bad_order_id_is_named(venue: str, bad: str) -> None:
    text = refused(venue, ref(venue, IdKind.ORDER_ID, bad))
    assert clip(bad) in text and len(text) < 400


@pytest.mark.parametrize("venue", CLIENT_ID_VENUES)
@pytest.mark.parametrize("bad", BAD_CLIENT_IDS, ids=repr)
def test_a_bad_client_id_is_named(venue: str, bad: str) -> None:
    text = refused(venue, ref(venue, IdKind.CLIENT_ORDER_ID, bad))
    assert clip(bad) in text and len(text) < 400


@pytest.mark.parametrize("venue", ORDER_ONLY_VENUES)
def test_a_client_id_where_the_venue_takes_none_is_named(venue: str) -> None:
    with pytest.raises(InputError) as info:
        adapter(venue).validate([ref(venue, IdKind.CLIENT_ORDER_ID, "my-id-1")])
    assert clip("my-id-1") in str(info.value)


def _accepts(venue: str, r: OrderRef) -> bool:
    """Validate one order: True if accepted; an InputError must name the value, anything else fails."""
    try:
        adapter(venue).validate([r])
    except InputError as exc:
        bad = r.symbol if not CLASSES[venue].id_format.symbol.fullmatch(r.symbol) else r.value
        assert clip(bad) in str(exc), (exc, r)
        return False
    return True


@pytest.mark.parametrize("venue", VENUE_NAMES)
@SETTINGS
@given(data=st.data())
def test_validate_agrees_with_the_id_format(venue: str, data: st.DataObject) -> None:
    # Whatever the input, validate accepts exactly what id_format describes, and names what it refuses.
    cls = CLASSES[venue]
    fmt = cls.id_format
    sym = data.draw(st.from_regex(fmt.symbol, fullmatch=True) | st.text(max_size=30), label="symbol")
    oid = data.draw(st.from_regex(fmt.order_id, fullmatch=True) | st.text(max_size=30), label="order_id")
    ok = _accepts(venue, OrderRef(sym, order_id=oid))
    spelled_right = bool(fmt.symbol.fullmatch(sym)) and bool(fmt.order_id.fullmatch(oid))
    within = fmt.order_id_max is None or not spelled_right or int(oid) <= fmt.order_id_max
    assert ok == (spelled_right and within), (sym, oid)
    if fmt.client_id is not None:
        cid = data.draw(st.from_regex(fmt.client_id, fullmatch=True) | st.text(max_size=80), label="client_id")
        ok = _accepts(venue, OrderRef(cls.example_symbol, client_order_id=cid))
        assert ok == bool(fmt.client_id.fullmatch(cid)), cid


# -- 5. parsers never raise on junk ---------------------------------------------------------------------

# Field names and words of all five venues' replies, so that junk often looks almost right.
FIELDS = (
    "code", "msg", "data", "status", "state", "id", "orderId", "clientOrderId", "clientOrderID", "origClientOrderId",
    "symbol", "orders", "fails", "error", "success", "failed", "order-id", "client-order-id", "err-code", "err-msg",
    "order-state", "successList", "failureList", "clientOid", "errorCode", "errorMsg", "serverTime", "requestTime",
    "BTC_USDT", "btc_usdt", "timestamp",
)  # fmt: skip
WORDS = (
    "CANCELED", "CANCELLED", "canceled", "cancelled", "FILLED", "filled", "NEW", "live", "submitted", "canceling",
    "ok", "error", "00000", "0", "4", "-2011", "-2013", "424242", "434343", "cid-a", "cid-b", "1e309", "",
)  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.sampled_from(WORDS)
    | st.sampled_from([424242, 434343, -2011, 4]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
bodies = st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
statuses = st.sampled_from([200, 201, 204, 400, 401, 403, 404, 405, 408, 409, 418, 429, 500, 502, 503, 504])
statuses |= st.integers(100, 599)
headers = st.fixed_dictionaries(
    {},
    optional={
        "retry-after": st.sampled_from(["1", "0", "-1", "1e9", "nan", "inf", "soon"]) | st.text(max_size=12),
        "date": st.sampled_from(["Tue, 15 Nov 1994 08:12:31 GMT", "garbage"]) | st.text(max_size=40),
        "content-type": st.sampled_from(["application/json", "text/html; charset=utf-8"]) | st.text(max_size=30),
    },
)
# Bodies every parser has met in the wild or in a fuzzer: empty, truncated, not JSON, hostile nesting,
# numbers past float range, odd top-level types.
JUNK = [
    b"", b"null", b"{}", b"[]", b"{", b"42", b'"x"', b"\xff\xfe\x00", b"[null, 1, \"x\"]", b"[{\"orderId\": null}]",
    b"\xff\xfe", b"[[[[[[" * 5000, b"[" * 5000 + b"]" * 5000, b'{"code": "x"}', b'{"code": 1e400}', b'{"data": 1e400}',
    b'{"code": [], "msg": "x"}', b"<html><body>502 Bad Gateway</body></html>",
]  # fmt: skip
ORDER_VALUES = {IdKind.ORDER_ID: ("424242", "434343"), IdKind.CLIENT_ORDER_ID: ("cid-a", "cid-b")}


def _refs(venue: str, kind: IdKind) -> list[OrderRef]:
    return [ref(venue, kind, v) for v in ORDER_VALUES[kind]]


def _check_failure(f: Failure) -> None:
    assert isinstance(f.kind, FailureKind) and isinstance(f.message, str | None)
    # A wait the engine can act on: None or a non-negative number, never NaN (the policy caps a huge one).
    assert f.retry_after is None or (not math.isnan(f.retry_after) and f.retry_after >= 0), f


def _mentions(resp: HttpResponse, value: str) -> bool:
    data = load_json(resp)
    text = json.dumps(data) if data is not None else ""
    return value.encode() in (resp.body or b"") or value in text


def check_parsers(venue: str, kind: IdKind, resp: HttpResponse) -> None:
    """Every parser on one reply: never an exception, always the documented types."""
    a = adapter(venue)
    refs = _refs(venue, kind)
    out = a.parse_cancel(refs, resp)
    if isinstance(out, Failure):
        _check_failure(out)
    else:
        assert isinstance(out, Mapping) and set(out) == set(refs)
        for r, outcome in out.items():
            assert isinstance(outcome, Outcome) and isinstance(outcome.verdict, Verdict)
            if outcome.verdict is Verdict.CANCELLED:
                # Only a reply naming the order confirms its cancel, and never one that only accepted it.
                assert not CLASSES[venue].asynchronous_cancel, (r, resp)
                assert _mentions(resp, r.value), (r, resp)
    for r in refs:
        q = a.parse_query(r, resp)
        assert isinstance(q, Failure | Outcome)
        if isinstance(q, Failure):
            _check_failure(q)
    t = a.parse_time(resp)
    assert t is None or (isinstance(t, int) and not isinstance(t, bool))


@pytest.mark.parametrize(("venue", "kind"), VENUE_KINDS)
@pytest.mark.parametrize("body", JUNK, ids=lambda b: repr(b[:24]))
def test_junk_replies_never_raise_and_never_cancel(venue: str, kind: IdKind, body: bytes) -> None:
    for status in (200, 400, 404, 429, 500, 503):
        resp = HttpResponse(status, body, {"retry-after": "soon", "date": "garbage"})
        check_parsers(venue, kind, resp)
        for r in _refs(venue, kind):
            q = adapter(venue).parse_query(r, resp)
            assert not (isinstance(q, Outcome) and q.verdict is Verdict.CANCELLED)


@pytest.mark.parametrize(("venue", "kind"), VENUE_KINDS)
@SETTINGS
@given(status=statuses, body=bodies, hdrs=headers)
@example(status=400, body=b'{"code": [], "msg": "x"}', hdrs={})
def test_arbitrary_replies_never_raise(venue: str, kind: IdKind, status: int, body: bytes, hdrs: dict) -> None:
    check_parsers(venue, kind, HttpResponse(status, body, hdrs))


# -- 6. secrets travel only where evidence redacts them ---------------------------------------------------

MARKED = Credentials("KEY-7f3a9", "SECRET-9c1e2", passphrase="PASS-2b8d4", identity="who-5e6f@example.invalid")


def _evidence(venue: str, req: HttpRequest) -> str:
    """What evidence keeps of a request: method, path, redacted query, body, non-secret headers."""
    cls = CLASSES[venue]
    kept = {k: v for k, v in req.headers.items() if k.lower() not in cls.secret_headers}
    body = (req.body or b"").decode("utf-8", "replace")
    return "\n".join([req.method, req.path, redact_query(req.query, cls.secret_params), body, json.dumps(kept)])


@pytest.mark.parametrize(("venue", "kind"), VENUE_KINDS)
def test_secrets_travel_only_in_secret_headers_and_params(venue: str, kind: IdKind) -> None:
    a = adapter(venue)
    refs = _refs(venue, kind)
    for req in (a.build_cancel(refs, MARKED, 1_700_000_000_000), a.build_query(refs[0], MARKED, 1_700_000_000_000)):
        raw = req.method + req.target + (req.body or b"").decode("utf-8", "replace") + json.dumps(dict(req.headers))
        assert MARKED.api_secret not in raw  # the secret itself never travels
        kept = _evidence(venue, req)
        for secret in (MARKED.api_key, MARKED.api_secret, MARKED.passphrase, MARKED.identity):
            assert secret not in kept, (secret, kept)


# -- 7. the fake's dialect accepts what the adapter signs --------------------------------------------------


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def send(http: requests.Session, base_url: str, req: HttpRequest) -> HttpResponse:
    r = http.request(req.method, base_url + req.target, data=req.body, headers=dict(req.headers), timeout=5)
    return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()})


def seed(fake: FakeVenue, venue: str, n: int, start: int) -> list[str]:
    ids = [str(start + i) for i in range(n)]
    fake.seed(venue, CLASSES[venue].example_symbol, [{"order_id": i, "client_order_id": f"c-{i}"} for i in ids])
    return ids


def cancel_requests(fake: FakeVenue, venue: str) -> dict[str, tuple[str, int]]:
    return {o["order_id"]: (o["status"], o["cancel_requests"]) for o in fake.orders(venue)}


def wait_until_applied(fake: FakeVenue, venue: str) -> None:
    if CLASSES[venue].asynchronous_cancel:
        time.sleep(fake.async_delay_ms / 1000 + 0.05)


@pytest.mark.parametrize(("venue", "kind"), VENUE_KINDS)
def test_the_fake_accepts_what_the_adapter_signs(venue: str, kind: IdKind, fake: FakeVenue, http) -> None:
    a = CLASSES[venue](fake.url)
    ids = seed(fake, venue, 3, 5101)
    refs = [ref(venue, kind, i if kind is IdKind.ORDER_ID else f"c-{i}") for i in ids]
    a.validate(refs)
    for chunk in a.plan_chunks(refs):
        out = a.parse_cancel(chunk, send(http, fake.url, a.build_cancel(chunk, CREDS, now_ms())))
        # The venue's answer about the orders, not an auth, signature or parameter error.
        assert not isinstance(out, Failure), out
        for r in chunk:
            expected = Verdict.UNKNOWN if CLASSES[venue].asynchronous_cancel else Verdict.CANCELLED
            assert out[r].verdict is expected, out[r]
    assert {i: n for i, (_, n) in cancel_requests(fake, venue).items()} == dict.fromkeys(ids, 1)
    wait_until_applied(fake, venue)
    for r in refs:
        q = a.parse_query(r, send(http, fake.url, a.build_query(r, CREDS, now_ms())))
        assert isinstance(q, Outcome) and q.verdict is Verdict.CANCELLED, q
    # An order the venue never had is answered about that order: the venue's "not found", which settles it
    # as not_found or, where the venue's word is ambiguous (BingX's client-id window), leaves it unknown.
    never = ref(venue, kind, "999999" if kind is IdKind.ORDER_ID else "c-999999")
    q = a.parse_query(never, send(http, fake.url, a.build_query(never, CREDS, now_ms())))
    assert isinstance(q, Outcome) and q.verdict in (Verdict.FAILED, Verdict.UNKNOWN), q
    assert q.verdict is Verdict.UNKNOWN or q.reason == REASON_NOT_FOUND, q


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_wrong_secret_is_refused_and_changes_nothing(venue: str, fake: FakeVenue, http) -> None:
    # The control for the test above: the fake really checks the signature.
    a = CLASSES[venue](fake.url)
    ids = seed(fake, venue, 2, 5201)
    wrong = Credentials(CREDS.api_key, "not-the-secret", passphrase=CREDS.passphrase, identity=CREDS.identity)
    refs = [ref(venue, IdKind.ORDER_ID, i) for i in ids]
    out = a.parse_cancel(refs, send(http, fake.url, a.build_cancel(refs, wrong, now_ms())))
    assert isinstance(out, Failure) and out.kind is FailureKind.AUTH, out
    q = a.parse_query(refs[0], send(http, fake.url, a.build_query(refs[0], wrong, now_ms())))
    assert isinstance(q, Failure) and q.kind is FailureKind.AUTH, q
    assert cancel_requests(fake, venue) == dict.fromkeys(ids, ("open", 0))


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_server_time(venue: str, fake: FakeVenue, http) -> None:
    a = CLASSES[venue](fake.url)
    before = now_ms()
    time_req = a.build_time()
    if time_req is not None:
        server = a.parse_time(send(http, fake.url, time_req))
    else:
        # No time endpoint: the clock is read from any reply (BitoPro: the Date header).
        r = ref(venue, IdKind.ORDER_ID, "1")
        server = a.parse_time(send(http, fake.url, a.build_query(r, CREDS, now_ms())))
    assert server is not None and before - 2_000 <= server <= now_ms() + 2_000


@pytest.fixture(scope="module")
def slow_async_fake() -> Iterator[FakeVenue]:
    """A fake whose asynchronous venues apply an accepted cancel only after 600 ms."""
    with FakeVenue(async_delay_ms=600) as fv:
        yield fv


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_asynchronous_cancel_is_what_the_venue_does(venue: str, slow_async_fake: FakeVenue, http) -> None:
    # asynchronous_cancel and pending_cancel_reads_open, checked against the fake's reading of the docs.
    fake = slow_async_fake
    fake.reset()
    cls = CLASSES[venue]
    a = cls(fake.url)
    (oid,) = seed(fake, venue, 1, 5301)
    r = ref(venue, IdKind.ORDER_ID, oid)
    out = a.parse_cancel([r], send(http, fake.url, a.build_cancel([r], CREDS, now_ms())))
    assert not isinstance(out, Failure), out
    q = a.parse_query(r, send(http, fake.url, a.build_query(r, CREDS, now_ms())))
    assert isinstance(q, Outcome), q
    if not cls.asynchronous_cancel:
        assert out[r].verdict is Verdict.CANCELLED and q.verdict is Verdict.CANCELLED
    else:
        assert out[r].verdict is Verdict.UNKNOWN
        # Pending: still open (Bitget's `live`) or visibly cancelling (HTX's `canceling`).
        assert q.verdict is (Verdict.OPEN if cls.pending_cancel_reads_open else Verdict.UNKNOWN), q
        wait_until_applied(fake, venue)
        q = a.parse_query(r, send(http, fake.url, a.build_query(r, CREDS, now_ms())))
        assert isinstance(q, Outcome) and q.verdict is Verdict.CANCELLED, q


# -- 8. listings: facts, requests, parsers -------------------------------------------------------------

LIST_KINDS = [(v, k) for v, cls in CLASSES.items() for k in sorted(cls.list_kinds)]
NOW = 1_700_000_000_000


def _list_symbol(venue: str, kind: ListKind) -> str | None:
    return CLASSES[venue].example_symbol if kind in CLASSES[venue].list_needs_symbol else None


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_listing_facts(venue: str) -> None:
    cls = CLASSES[venue]
    assert isinstance(cls.list_rate, Rate) and cls.list_rate.per_second > 0
    assert {ListKind.OPEN, ListKind.HISTORY} <= cls.list_kinds <= set(ListKind)
    assert cls.list_needs_symbol <= cls.list_kinds
    assert isinstance(cls.history_window_s, float | int) and cls.history_window_s >= 3600


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_a_listing_the_venue_lacks_or_a_missing_symbol_is_an_input_error(venue: str) -> None:
    a = adapter(venue)
    for kind in set(ListKind) - CLASSES[venue].list_kinds:
        with pytest.raises(InputError):
            a.build_list(kind, CLASSES[venue].example_symbol, MARKED, NOW)
    for kind in CLASSES[venue].list_needs_symbol:
        with pytest.raises(InputError):
            a.build_list(kind, None, MARKED, NOW, account="1")
    for kind in CLASSES[venue].list_kinds:
        with pytest.raises(InputError):
            a.build_list(kind, "bad symbol\x00", MARKED, NOW, account="1")


@pytest.mark.parametrize(("venue", "kind"), LIST_KINDS)
def test_listing_requests_name_their_endpoint_and_keep_secrets_out_of_evidence(venue: str, kind: ListKind) -> None:
    a = adapter(venue)
    req = a.build_list(kind, _list_symbol(venue, kind), MARKED, NOW, since_ms=NOW - 60_000, account="1")
    assert req.endpoint == f"list_{kind.value}"
    raw = req.method + req.target + (req.body or b"").decode("utf-8", "replace") + json.dumps(dict(req.headers))
    assert MARKED.api_secret not in raw
    kept = _evidence(venue, req)
    for secret in (MARKED.api_key, MARKED.api_secret, MARKED.passphrase, MARKED.identity):
        assert secret not in kept, (secret, kept)


def check_list_parser(venue: str, kind: ListKind, resp: HttpResponse) -> None:
    out = adapter(venue).parse_list(kind, _list_symbol(venue, kind), resp)
    if isinstance(out, Failure):
        _check_failure(out)
        return
    assert isinstance(out, ListPage)
    assert out.cursor is None or isinstance(out.cursor, str)
    for o in out.orders:
        assert isinstance(o, ListedOrder)
        assert o.order_id is not None or o.client_order_id is not None
        assert isinstance(o.status, Outcome) and isinstance(o.status.verdict, Verdict)
        assert isinstance(o.symbol, str) and isinstance(o.conditional, bool)


@pytest.mark.parametrize(("venue", "kind"), LIST_KINDS)
@pytest.mark.parametrize("body", JUNK, ids=lambda b: repr(b[:24]))
def test_junk_listings_never_raise(venue: str, kind: ListKind, body: bytes) -> None:
    for status in (200, 400, 404, 429, 500, 503):
        check_list_parser(venue, kind, HttpResponse(status, body, {"retry-after": "soon", "date": "garbage"}))
    if adapter(venue).build_account_lookup(MARKED, NOW) is not None:
        assert isinstance(adapter(venue).parse_account_lookup(HttpResponse(200, body)), str | Failure)


@pytest.mark.parametrize(("venue", "kind"), LIST_KINDS)
@SETTINGS
@given(status=statuses, body=bodies, hdrs=headers)
def test_arbitrary_listing_replies_never_raise(
    venue: str, kind: ListKind, status: int, body: bytes, hdrs: dict
) -> None:
    check_list_parser(venue, kind, HttpResponse(status, body, hdrs))


@pytest.mark.parametrize(("venue", "kind"), LIST_KINDS)
def test_the_fake_serves_every_listing_the_adapter_builds(venue: str, kind: ListKind, fake: FakeVenue, http) -> None:
    """One order of each kind and state; every page the adapter asks for is accepted and read back."""
    cls = CLASSES[venue]
    sym = cls.example_symbol
    a = cls(fake.url)
    fake.seed(venue, sym, [{}, {"conditional": True}, {"status": "filled"}, {"status": "cancelled"}])
    account = None
    lookup = a.build_account_lookup(CREDS, now_ms())
    if lookup is not None:
        account = a.parse_account_lookup(send(http, fake.url, lookup))
        assert isinstance(account, str), account
    found: list[ListedOrder] = []
    cursor = None
    for _ in range(10):
        req = a.build_list(
            kind, _list_symbol(venue, kind), CREDS, now_ms(), cursor=cursor, since_ms=now_ms() - 60_000, account=account
        )
        page = a.parse_list(kind, _list_symbol(venue, kind), send(http, fake.url, req), cursor=cursor)
        assert isinstance(page, ListPage), page
        found.extend(page.orders)
        if page.cursor is None:
            break
        cursor = page.cursor
    verdicts = Counter(o.status.verdict for o in found)
    if kind is ListKind.HISTORY:
        assert verdicts[Verdict.CANCELLED] >= 1 and verdicts[Verdict.FAILED] >= 1, found
    else:
        assert set(verdicts) == {Verdict.OPEN}, found
        assert len(found) == 1 if (kind is ListKind.CONDITIONAL or ListKind.CONDITIONAL in cls.list_kinds) else 2
    assert all(o.symbol == sym for o in found)


# -- 9. the venue's own cancel-all, conditional refs ----------------------------------------------------


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_cancel_all_facts_and_its_symbol_rule(venue: str) -> None:
    cls = CLASSES[venue]
    assert isinstance(cls.cancel_all_rate, Rate) and cls.cancel_all_rate.per_second > 0
    a = adapter(venue)
    req = a.build_cancel_all(cls.example_symbol, MARKED, NOW, account="1")
    assert req.endpoint == "cancel_all"
    kept = _evidence(venue, req)
    for secret in (MARKED.api_key, MARKED.api_secret, MARKED.passphrase, MARKED.identity):
        assert secret not in kept, (secret, kept)
    if cls.cancel_all_needs_symbol:
        with pytest.raises(InputError):
            a.build_cancel_all(None, MARKED, NOW, account="1")
    else:
        assert a.build_cancel_all(None, MARKED, NOW, account="1").endpoint == "cancel_all"
    with pytest.raises(InputError):
        a.build_cancel_all("bad symbol\x00", MARKED, NOW, account="1")


@pytest.mark.parametrize("venue", VENUE_NAMES)
@pytest.mark.parametrize("body", JUNK, ids=lambda b: repr(b[:24]))
def test_junk_cancel_all_replies_never_raise(venue: str, body: bytes) -> None:
    for status in (200, 400, 404, 429, 500, 503):
        out = adapter(venue).parse_cancel_all(CLASSES[venue].example_symbol, HttpResponse(status, body, {}))
        assert isinstance(out, bool) or isinstance(out, Failure), out
        if isinstance(out, Failure):
            _check_failure(out)


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_the_fake_serves_the_cancel_all_the_adapter_builds(venue: str, fake: FakeVenue, http) -> None:
    cls = CLASSES[venue]
    a = cls(fake.url)
    sym = cls.example_symbol
    ids = [o["order_id"] for o in fake.seed(venue, sym, [{} for _ in range(3)])]
    account = None
    lookup = a.build_account_lookup(CREDS, now_ms())
    if lookup is not None:
        account = a.parse_account_lookup(send(http, fake.url, lookup))
        assert isinstance(account, str), account
    for _ in range(5):
        more = a.parse_cancel_all(sym, send(http, fake.url, a.build_cancel_all(sym, CREDS, now_ms(), account=account)))
        assert isinstance(more, bool), more
        if not more:
            break
    wait_until_applied(fake, venue)
    assert {fake.order_status(venue)[i] for i in ids} == {"cancelled"}


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_conditional_refs_only_where_the_venue_keeps_them_apart(venue: str) -> None:
    cls = CLASSES[venue]
    a = adapter(venue)
    kinds = sorted(cls.id_kinds)
    if ListKind.CONDITIONAL not in cls.list_kinds:
        for kind in kinds:
            value = "424242" if kind is IdKind.ORDER_ID else "1234"
            r = OrderRef(cls.example_symbol, conditional=True, **{kind.value: value})
            with pytest.raises(InputError):
                a.validate([r])
        return
    # Where they are apart, a chunk never mixes conditional and ordinary orders.
    plain = [ref(venue, kinds[0], v) for v in ("424242", "434343")] if kinds[0] is IdKind.ORDER_ID else []
    mixed = plain + [OrderRef(cls.example_symbol, **{k.value: "12345"}, conditional=True) for k in kinds[:1]]
    try:
        a.validate(mixed)
    except InputError:
        mixed = plain + [OrderRef(cls.example_symbol, client_order_id="12345", conditional=True)]
    for chunk in a.plan_chunks(mixed):
        assert len({r.conditional for r in chunk}) == 1, chunk
