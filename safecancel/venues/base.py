"""What every venue adapter is (:class:`VenueAdapter`, the one source of per-venue facts), and small pure
helpers the adapters share.

An adapter is pure: it builds signed :class:`~safecancel.model.HttpRequest` objects and parses
:class:`~safecancel.model.HttpResponse` objects. Time, credentials and the base URL are given to it;
it never opens a socket, reads a clock or touches the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import InputError
from ..model import (
    CancelReply,
    Countdown,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    IdKind,
    ListKind,
    ListReply,
    OrderRef,
    QueryReply,
)


@dataclass(frozen=True, slots=True)
class Rate:
    """A documented request rate: ``requests`` per ``per_seconds``."""

    requests: int
    per_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.per_seconds


# The kinds of request the client paces, each on its own bucket: the names used by ``<kind>_rate``,
# :attr:`Budget.weights`, :attr:`VenueAdapter.pacing_options` and :mod:`safecancel.pacing`.
PACED_KINDS = ("cancel", "query", "list", "cancel_all", "countdown")


@dataclass(frozen=True, slots=True)
class Budget:
    """A documented limit several endpoints spend from at once, each request by its weight.

    ``limit.requests`` units per ``limit.per_seconds``; a request of kind ``k`` (one of
    :data:`PACED_KINDS`) spends ``weights[k]`` units (a kind not named spends none). ``per`` says whom the
    venue counts it against: ``"ip"`` (one budget per venue base URL, whatever the API key -- every key
    of a process leaves from the same address) or ``"account"`` (one per API key). ``name`` is the venue's
    own word for it (``REQUEST_WEIGHT``), for logs.
    """

    name: str
    limit: Rate
    weights: Mapping[str, int] = field(hash=False)
    per: str = "ip"

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(PACED_KINDS)
        if unknown or any(w < 0 for w in self.weights.values()) or self.per not in ("ip", "account"):
            raise ValueError(f"budget {self.name}: weights for {PACED_KINDS} >= 0 and per 'ip' or 'account'")
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))


class VenueAdapter(ABC):
    """What every venue adapter is: the venue's facts as class attributes, and pure methods that build
    requests and parse replies.

    Like huey's ``BaseStorage``: a subclass per venue (``safecancel/venues/<venue>.py``) implements every
    method below and sets every attribute that has no default here; an attribute with a default is set
    only where the venue differs. Everything else -- the engine, the fake venue's fixtures, the demo, the
    README's venue table and the contract suite (``tests/venues/test_contract.py``) -- reads a venue's
    facts from its adapter and the registry (:data:`safecancel.venues.VENUE_NAMES`), never from a list of
    its own.

    An adapter is pure: it builds signed :class:`~safecancel.model.HttpRequest` objects and parses
    :class:`~safecancel.model.HttpResponse` objects; time, credentials and the base URL are given to it.
    """

    # -- facts every adapter states (no default: a missing one fails at class creation) ------------

    name: ClassVar[str]  # the registry key, e.g. "binance_coinm"
    default_base_url: ClassVar[str]  # production
    id_kinds: ClassVar[frozenset[IdKind]]  # which ids the batch endpoint cancels by
    secret_headers: ClassVar[frozenset[str]]  # lower-case header names, redacted from evidence
    secret_params: ClassVar[frozenset[str]]  # query parameter names, redacted from evidence
    # Each paced kind of request (:data:`PACED_KINDS`) has its own documented rate, ``<kind>_rate``: the
    # batch cancel's and the single-order query's here, the listings', cancel-all's and countdown's below.
    # Where the venue also keeps a limit the endpoints share (``shared_budget``), a request spends from
    # both; where its docs leave the accounting open, ``pacing_options`` holds the readings.
    cancel_rate: ClassVar[Rate]  # the batch-cancel endpoint's own rate (under ``default_pacing``)
    query_rate: ClassVar[Rate]  # the single-order query's own rate
    requires: ClassVar[tuple[str, ...]]  # Credentials fields that must be non-empty
    example_symbol: ClassVar[str]  # a valid symbol in the venue's own spelling ("BTCUSD_PERP", "btcusdt")
    id_format: ClassVar[IdFormat]  # how symbols and ids are spelled (and the words of the error naming a bad one)
    # Ids per request: ``default_max_batch`` unless the caller asks for another size (``batch_sizes``), which
    # may be 1..``hard_max_batch``. Where the venue documents its limit the two are equal.
    default_max_batch: ClassVar[int]
    hard_max_batch: ClassVar[int]
    # Listings (open orders, conditional orders, recent history): the documented rate of the listing
    # endpoints (the slowest of those the adapter uses, so one bucket paces them all), the kinds whose
    # endpoint needs a symbol, and how far back the history listing reaches (seconds; it is asked for
    # orders since a job began, clipped to this).
    list_rate: ClassVar[Rate]
    list_kinds: ClassVar[frozenset[ListKind]]  # OPEN and HISTORY always; CONDITIONAL where kept apart
    list_needs_symbol: ClassVar[frozenset[ListKind]]
    history_window_s: ClassVar[float]
    # The venue's own cancel-all (a kill switch's optional first strike, ``--native``): its documented
    # rate, and whether it needs a symbol. Its reply never settles an order.
    cancel_all_rate: ClassVar[Rate]
    cancel_all_needs_symbol: ClassVar[bool]

    # -- facts with a default (set only where the venue differs) ---------------------------------

    # Consecutive "no such order" answers needed before an order is settled failed/not_found: more than one
    # where the venue's "not found" is ambiguous or a fresh order may not be visible yet.
    not_found_confirmations: ClassVar[int] = 1
    # The memory horizon: the age (seconds) past which the venue forgets orders, so that a "not found" about
    # an older job proves nothing. None: the venue is not known to forget.
    forget_after_s: ClassVar[float | None] = None
    # The venue applies an accepted cancel later (HTX, Bitget): a cancel reply never settles an order, a
    # query confirms it.
    asynchronous_cancel: ClassVar[bool] = False
    # While an accepted cancel is pending, the venue's query still shows the order open (Bitget's ``live``,
    # unlike HTX's ``canceling``), so a second cancel may legitimately be sent. Only meaningful when
    # ``asynchronous_cancel``.
    pending_cancel_reads_open: ClassVar[bool] = False
    # One request carries orders of one symbol (the endpoint takes a ``symbol``). False where one request
    # may mix symbols: BitoPro's body maps pairs to ids, HTX's body carries ids only.
    one_symbol_per_request: ClassVar[bool] = True
    # Client order ids are integers (BitoPro): a kill switch names the caller's own orders by a numeric
    # range there, not by a prefix.
    numeric_client_ids: ClassVar[bool] = False
    # The venue's own dead-man countdown (a dead-man switch's native half): None where the venue has none
    # (a local guardian process stands in); "symbol" where one countdown covers one symbol (Binance
    # COIN-M); "account" where it covers every symbol of the account (BingX, HTX). The timeouts it accepts
    # when arming (seconds, inclusive), its documented request rate, and how many orders it cancels at
    # most when it fires (HTX: 500; None: no documented cap).
    countdown_scope: ClassVar[str | None] = None
    countdown_range_s: ClassVar[tuple[int, int]] = (0, 0)
    countdown_rate: ClassVar[Rate] = Rate(1, 1.0)
    countdown_cap: ClassVar[int | None] = None
    # A limit the endpoints share (Binance COIN-M's REQUEST_WEIGHT per IP, BitoPro's 600 per minute): every
    # request spends its kind's weight from it on top of its own ``<kind>_rate``, so that cancels, queries
    # and listings together stay inside it. None: the venue documents only per-endpoint rates (or a shared
    # limit those rates cannot reach together).
    shared_budget: ClassVar[Budget | None] = None
    # Where the docs leave the accounting open (does Binance count a batch cancel against its ORDERS
    # limit?): each documented reading by name, mapped to the ``<kind>_rate`` values it changes. The
    # ``<kind>_rate`` attributes spell out ``default_pacing``, the conservative reading (its entry maps to
    # no change); ``VenueConfig(pacing=...)`` picks another. Empty: one accounting, nothing to choose.
    pacing_options: ClassVar[Mapping[str, Mapping[str, Rate]]] = MappingProxyType({})
    default_pacing: ClassVar[str | None] = None

    base_url: str
    max_batch: int  # this instance's ids per request, within 1..hard_max_batch

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A sixth venue that forgets a fact fails on import, naming it, rather than deep inside a job.
        missing = [attr for attr in _REQUIRED_FACTS if not hasattr(cls, attr)]
        if missing:
            raise TypeError(f"venue adapter {cls.__name__} does not set {', '.join(missing)}")

    def __init__(self, base_url: str | None = None, *, max_batch: int | None = None) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.max_batch = batch_size(self.name, max_batch, default=self.default_max_batch, hard_max=self.hard_max_batch)

    def has_time_endpoint(self) -> bool:
        """Whether the venue has a server-time endpoint. Derived from :meth:`build_time`, so the two cannot
        disagree; without one, :meth:`parse_time` reads the clock from any reply (e.g. its ``Date`` header)."""
        return self.build_time() is not None

    # -- input -------------------------------------------------------------------------------

    @abstractmethod
    def validate(self, refs: Sequence[OrderRef]) -> None:
        """Raise :class:`InputError` naming the first bad symbol or id (clipped, see :func:`clip`)."""

    @abstractmethod
    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        """Split orders into requests the venue accepts: every order exactly once, 1..``max_batch`` per
        request, one id kind per request, one symbol per request where ``one_symbol_per_request``."""

    # -- requests (pure: time and credentials are arguments) --------------------------------------

    @abstractmethod
    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        """The signed batch-cancel request for one chunk from :meth:`plan_chunks`."""

    @abstractmethod
    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        """The signed single-order query."""

    @abstractmethod
    def build_time(self) -> HttpRequest | None:
        """The server-time request, or None when the venue has none."""

    # -- replies (never raise) ----------------------------------------------------------------

    @abstractmethod
    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        """One outcome per requested order, or a classified whole-request failure. Never raises."""

    @abstractmethod
    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        """The order's status, or a classified failure of the query. Never raises."""

    @abstractmethod
    def parse_time(self, resp: HttpResponse) -> int | None:
        """Server time in ms from a time reply (or any reply, for venues without a time endpoint)."""

    # -- conditional orders ---------------------------------------------------------------------
    # Where the venue keeps conditional orders apart (ListKind.CONDITIONAL in list_kinds), an OrderRef
    # with ``conditional=True`` is one of them: validate accepts it, plan_chunks never puts it in a
    # chunk with ordinary orders, and build_cancel/parse_cancel/build_query/parse_query use the venue's
    # conditional-order endpoints for it (endpoint names "cancel" and "query", like the ordinary ones).
    # Elsewhere validate refuses a conditional ref, naming it.

    # -- the venue's own cancel-all ----------------------------------------------------------------

    @abstractmethod
    def build_cancel_all(
        self, symbol: str | None, creds: Credentials, now_ms: int, *, account: str | None = None
    ) -> HttpRequest:
        """The venue's cancel-all of one symbol (None: every symbol; :class:`InputError` where the venue
        needs one, or for a symbol ``validate`` would refuse). Endpoint name ``cancel_all``."""

    @abstractmethod
    def parse_cancel_all(self, symbol: str | None, resp: HttpResponse) -> Failure | bool:
        """Whether the venue says more orders remain for another call (HTX's ``next-id``), or a
        classified failure. Never settles an order: what was cancelled is learnt from listings and
        queries afterwards. Never raises."""

    # -- the venue's own dead-man countdown -------------------------------------------------------

    def build_countdown(self, symbol: str | None, timeout_s: int, creds: Credentials, now_ms: int) -> HttpRequest:
        """Arm or renew the venue's countdown for ``timeout_s`` seconds, or disarm it (``timeout_s`` 0).
        Endpoint name ``countdown``.

        Raises:
            InputError: the venue has no countdown (``countdown_scope`` None), a timeout outside
                ``countdown_range_s`` (other than 0), a missing symbol where the scope is "symbol", or a
                symbol ``validate`` would refuse.
        """
        raise InputError(f"{self.name} has no countdown cancel (a dead-man switch there runs a local guardian)")

    def check_countdown_timeout(self, timeout_s: object) -> int:
        """``timeout_s`` as :meth:`build_countdown` takes it: whole seconds, 0 (disarm) or within
        ``countdown_range_s``; :class:`InputError` naming it otherwise."""
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
            raise InputError(
                f"{self.name}: the countdown timeout must be whole seconds (an int), got {clip(timeout_s)}"
            )
        low, high = self.countdown_range_s
        if timeout_s != 0 and not low <= timeout_s <= high:
            raise InputError(
                f"{self.name}: the countdown timeout must be 0 (disarm) or {low}..{high} seconds, got {timeout_s}"
            )
        return timeout_s

    def parse_countdown(self, resp: HttpResponse) -> Failure | Countdown:
        """The venue's word on its countdown, or a classified failure. Never raises."""
        return Failure(FailureKind.REJECTED, None, f"{self.name} has no countdown cancel", resp.status)

    # -- listings (pure, like the rest) ------------------------------------------------------------

    def build_account_lookup(self, creds: Credentials, now_ms: int) -> HttpRequest | None:
        """The request that finds the account id a listing needs (HTX's ``account-id``), or None."""
        return None

    def parse_account_lookup(self, resp: HttpResponse) -> str | Failure:
        """The account id from :meth:`build_account_lookup`'s reply, or a classified failure. Never raises."""
        return Failure(FailureKind.REJECTED, None, f"{self.name} needs no account lookup", resp.status)

    @abstractmethod
    def build_list(
        self,
        kind: ListKind,
        symbol: str | None,
        creds: Credentials,
        now_ms: int,
        *,
        cursor: str | None = None,
        since_ms: int | None = None,
        account: str | None = None,
    ) -> HttpRequest:
        """The signed request for one page of a listing.

        ``symbol`` None lists every symbol (refused with :class:`InputError` for a kind in
        ``list_needs_symbol``); ``cursor`` is a previous page's :attr:`ListPage.cursor`; ``since_ms``
        (HISTORY only) is the earliest creation time wanted, clipped to ``history_window_s``;
        ``account`` is what :meth:`parse_account_lookup` found, where the venue needs one. The endpoint
        names are ``list_open``, ``list_conditional`` and ``list_history``.
        """

    @abstractmethod
    def parse_list(
        self, kind: ListKind, symbol: str | None, resp: HttpResponse, *, cursor: str | None = None
    ) -> ListReply:
        """One page: every order on it, and the next page's cursor (None when this was the last page).

        An entry that cannot be read (no id, no symbol) makes the whole page a failure: a listing
        that may have dropped an order must never pass for complete. Never raises.
        """


# The facts without a default, read off the annotations above so that the list cannot drift from them.
_REQUIRED_FACTS = tuple(
    attr
    for attr, hint in VenueAdapter.__annotations__.items()
    if str(hint).startswith("ClassVar[") and attr not in vars(VenueAdapter)
)
# The name the rest of the package uses in type hints.
Venue = VenueAdapter


# -- shared pure helpers ------------------------------------------------------------------------

# The largest signed 64-bit integer: the bound of an id a venue documents as LONG / int64 / long.
INT64_MAX = 2**63 - 1
# Error messages echo at most this many characters of a bad value (then "…"), so that a megabyte of
# garbage in one id cannot flood a log line, a terminal or the journal.
ECHO_LIMIT = 40
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")


def clip(value: object, limit: int = ECHO_LIMIT) -> str:
    """A bad value as an error message shows it: ``repr`` of at most ``limit`` characters, then ``…``.

    ``repr`` escapes NUL and other control characters (``'a\\x00b'``), so what is echoed is printable.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[: limit + 2] + "…"


def flaw(value: object) -> str:
    """Why a value is not an ASCII token, in words (for messages; only called once it was refused)."""
    if not isinstance(value, str):
        return f"not a string but {type(value).__name__}"
    if not value:
        return "empty"
    m = _CONTROL_RE.search(value)
    if m is not None:
        return f"contains a control character ({m.group(0)!r} at position {m.start()})"
    m = _NON_ASCII_RE.search(value)
    if m is not None:
        return f"contains a non-ASCII character ({m.group(0)!r} at position {m.start()})"
    return ""


def decimal_id_re(max_value: int = INT64_MAX) -> re.Pattern[str]:
    """The canonical spelling of a positive decimal id up to ``max_value``'s digit count.

    ASCII digits only (``[0-9]``, never ``\\d``, which also matches ``'２'`` and ``'٣'``), no sign, no
    leading zero, so ``'0'``, ``'021'`` and ``'+5'`` are refused: a venue's own ids never look like that,
    and two spellings of one number would defeat duplicate detection. The numeric bound itself is
    checked by :func:`decimal_id_ok`.
    """
    return re.compile(rf"[1-9][0-9]{{0,{len(str(max_value)) - 1}}}", re.ASCII)


def decimal_id_ok(value: object, pattern: re.Pattern[str], max_value: int = INT64_MAX) -> bool:
    """Whether ``value`` is a canonical decimal id (``pattern`` from :func:`decimal_id_re`) <= ``max_value``."""
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        return False
    # Equal-length canonical digit strings compare like the numbers they spell; shorter ones are smaller.
    return len(value) < len(str(max_value)) or int(value) <= max_value


def describe_decimal_id_flaw(value: object, max_value: int = INT64_MAX) -> str:
    """Why a refused order id is not canonical, in words."""
    reason = flaw(value)
    if reason:
        return reason
    assert isinstance(value, str)
    if not value.isascii() or not value.isdigit():
        return "not all ASCII digits 0-9"
    if value.startswith("0"):
        return "zero" if value.strip("0") == "" else "has a leading zero"
    return f"exceeds {max_value}"


def hmac_hex(secret: str, message: str, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), message.encode(), getattr(hashlib, digest)).hexdigest()


def hmac_b64(secret: str, message: str, digest: str = "sha256") -> str:
    raw = hmac.new(secret.encode(), message.encode(), getattr(hashlib, digest)).digest()
    return base64.b64encode(raw).decode()


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load_json(resp: HttpResponse) -> Any:
    """The body as JSON, or ``None`` when it is empty, truncated or not JSON."""
    try:
        return resp.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: hostile nesting like [[[[...
        return None


def retry_after_seconds(resp: HttpResponse) -> float | None:
    """``Retry-After`` in seconds (delta form only, which is what venues send), or None."""
    raw = resp.header("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def generic_http_failure(resp: HttpResponse, code: str | None = None, message: str | None = None) -> Failure:
    """Classify by HTTP status alone, for replies whose body says nothing more specific.

    5xx may have been applied (a gateway can fail after the backend acted), so it is an unknown
    outcome; 429 is a not-applied rate limit; 401/403 are auth; other 4xx are refusals.
    """
    status = resp.status
    msg = message if message is not None else resp.text(200)
    if status == 429 or status == 418:
        return Failure(FailureKind.RATE_LIMITED, code, msg, status, retry_after_seconds(resp))
    if status in (401, 403):
        return Failure(FailureKind.AUTH, code, msg, status)
    if status >= 500 or status == 408:
        return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg, status)
    if 400 <= status < 500:
        return Failure(FailureKind.REJECTED, code, msg, status)
    return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "unexpected reply", status)


def chunk_by(refs: Sequence[OrderRef], size: int, *, key=lambda r: (r.symbol, r.kind)) -> list[list[OrderRef]]:
    """Group orders by ``key`` (first-seen order kept) and split each group into lists of ``size``."""
    groups: dict[Any, list[OrderRef]] = {}
    for ref in refs:
        groups.setdefault(key(ref), []).append(ref)
    out: list[list[OrderRef]] = []
    for group in groups.values():
        out.extend(group[i : i + size] for i in range(0, len(group), size))
    return out


@dataclass(frozen=True, slots=True)
class IdFormat:
    """How a venue spells symbols and ids: the patterns, and the words of the error naming a bad one.

    Every pattern is an explicit ASCII character class matched with ``fullmatch``, so Unicode digits
    and letters (``'２'``, ``'é'``), NUL and other control characters never pass. ``order_id_max`` is
    the venue's documented numeric bound (e.g. :data:`INT64_MAX` for LONG / int64); ``order_id`` must
    then be a :func:`decimal_id_re` pattern. ``client_id`` is None for a venue that cancels by exchange
    order id only; ``client_id_max_len`` is the documented length limit of a client id.
    """

    symbol: re.Pattern[str]
    symbol_hint: str  # e.g. "expected e.g. BTC-USDT"
    order_id: re.Pattern[str]
    order_id_name: str  # the venue's own parameter name, e.g. "orderId"
    order_id_hint: str  # e.g. "numeric"
    client_id: re.Pattern[str] | None
    client_id_name: str  # e.g. "clientOid"
    client_id_hint: str  # e.g. "1-50 of A-Z a-z 0-9 _ . -"
    order_id_max: int | None = None
    client_id_max_len: int | None = None


def check_refs(venue: str, refs: Iterable[OrderRef], fmt: IdFormat) -> None:
    """Raise :class:`InputError` naming the first symbol or id the venue would not accept.

    Runs over up to a million refs: one or two precompiled ``fullmatch`` calls per ref on the happy
    path; the words of an error are only worked out once something is refused.
    """
    symbol_ok = fmt.symbol.fullmatch
    order_ok = fmt.order_id.fullmatch
    client_ok = fmt.client_id.fullmatch if fmt.client_id is not None else None
    bound = fmt.order_id_max
    bound_len = len(str(bound)) if bound is not None else 0
    for ref in refs:
        symbol = ref.symbol
        if not isinstance(symbol, str) or not symbol_ok(symbol):
            detail = flaw(symbol)
            raise InputError(
                f"{venue}: malformed symbol {clip(symbol)} ({detail + '; ' if detail else ''}{fmt.symbol_hint})"
            )
        oid = ref.order_id
        if oid is not None:
            if (
                not isinstance(oid, str)
                or not order_ok(oid)
                or (bound is not None and len(oid) >= bound_len and int(oid) > bound)
            ):
                detail = describe_decimal_id_flaw(oid, bound) if bound is not None else flaw(oid)
                raise InputError(
                    f"{venue}: {fmt.order_id_name} must be {fmt.order_id_hint}, got {clip(oid)} on {clip(symbol)}"
                    + (f" ({detail})" if detail else "")
                )
        else:
            cid = ref.client_order_id
            if client_ok is None:
                raise InputError(f"{venue}: client order ids are not supported ({clip(cid)} on {clip(symbol)})")
            if not isinstance(cid, str) or not client_ok(cid):
                detail = flaw(cid)
                raise InputError(
                    f"{venue}: malformed {fmt.client_id_name} {clip(cid)} on {clip(symbol)} "
                    f"({detail + '; ' if detail else ''}{fmt.client_id_hint})"
                )


_ORDER_NUMBER_RE = re.compile(r"(?<![0-9])[0-9]{6,20}(?![0-9])", re.ASCII)


def names_another_order(text: object, ref: OrderRef) -> bool:
    """Whether a venue's "no such order" text names order ids (digit runs of 6+) and none is ``ref``'s.

    Such an answer is about another order and settles nothing about this one. Only order-id refs are
    checked (a client id has no recognisable shape in free text).
    """
    if ref.kind is not IdKind.ORDER_ID or not isinstance(text, str):
        return False
    named = _ORDER_NUMBER_RE.findall(text)
    return bool(named) and ref.order_id not in named


# -- replies that are not the venue's own ---------------------------------------------------------

_MEDIA_TYPE_RE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,40}/[A-Za-z0-9!#$&^_.+-]{1,60}", re.ASCII)


def media_type(resp: HttpResponse) -> str | None:
    """The reply's media type (``text/html``), or None when absent or not a plain token (never echoed raw)."""
    raw = resp.header("content-type")
    if not isinstance(raw, str):
        return None
    m = _MEDIA_TYPE_RE.match(raw.strip())
    return m.group(0).lower() if m is not None else None


def foreign_reply_message(venue: str, resp: HttpResponse, *, is_json: bool = False) -> str:
    """Plain words for a reply whose body is not the venue's own JSON: what came back, and what to check.

    Bounded; never quotes the body (a proxy page may echo request headers), only its media type and size.
    """
    status = resp.status
    size = len(resp.body or b"")
    if size == 0:
        what = "an empty body"
    elif is_json:
        what = f"a JSON body ({size} bytes) that is not {venue}'s reply shape"
    else:
        what = f"a body that is not {venue}'s JSON ({media_type(resp) or 'no content type'}, {size} bytes)"
    if status in (429, 418):
        hint = "rate limited"
    elif status in (401, 403):
        hint = "refused by a firewall, proxy or gateway: check the API key, its IP whitelist and the base URL"
    elif 400 <= status < 500 and status != 408:
        hint = "check the base URL (a proxy or another server answered); the request was refused"
    elif 200 <= status < 300:
        hint = "the request may have been applied"
    else:
        hint = "the venue or a proxy failed; the request may have been applied"
    return f"the endpoint answered HTTP {status} with {what}: {hint}"


def foreign_reply_failure(venue: str, resp: HttpResponse, *, is_json: bool = False) -> Failure:
    """A whole-request failure for a reply that is not the venue's own word (an HTML page, an empty or
    truncated body, another API's JSON). Such a reply never settles an order; the status decides:
    429/418 rate limited, 401/403 auth, any other 4xx refused as a whole (nothing was applied: the
    venue's API did not answer), 2xx, 408, 5xx and anything else may have been applied.
    """
    return generic_http_failure(resp, None, foreign_reply_message(venue, resp, is_json=is_json))


def redact_query(query: str, secret_params: frozenset[str]) -> str:
    """The query string with secret parameter values replaced (order kept)."""
    if not query:
        return ""
    lowered = {p.lower() for p in secret_params}
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in lowered else v) for k, v in pairs], safe='[],":')


def path_prefix(base_url: str) -> str:
    """The path part of a base URL without a trailing slash (e.g. BitoPro's ``/v3``)."""
    return urlsplit(base_url).path.rstrip("/")


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def batch_size(venue: str, requested: int | None, *, default: int, hard_max: int) -> int:
    """The ids-per-request limit: the venue's default, or the caller's override within ``hard_max``.

    Where a venue does not document its limit, ``default`` is a conservative guess and ``hard_max``
    is what a user may raise it to at their own risk.
    """
    if requested is None:
        return default
    if isinstance(requested, bool) or not isinstance(requested, int) or not 1 <= requested <= hard_max:
        raise InputError(f"{venue}: batch size must be between 1 and {hard_max}, got {requested!r}")
    return requested
