"""Frozen value types shared by every layer: order references, HTTP exchanges, venue verdicts, results.

Nothing here does I/O. Venue adapters turn :class:`OrderRef` lists into :class:`HttpRequest` objects and
:class:`HttpResponse` objects into :class:`Outcome` / :class:`Failure` values; the engine turns those into
state transitions.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .states import TERMINAL, OrderState, Provenance


class IdKind(enum.StrEnum):
    """Which identifier a reference carries."""

    ORDER_ID = "order_id"
    CLIENT_ORDER_ID = "client_order_id"


@dataclass(frozen=True, slots=True)
class Credentials:
    """API credentials for one venue account. ``repr`` never shows the values."""

    api_key: str
    api_secret: str
    passphrase: str | None = None  # Bitget
    identity: str | None = None  # BitoPro: the account e-mail, sent in GET/DELETE payloads

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"

    __str__ = __repr__

    def secrets(self) -> tuple[str, ...]:
        """Every secret string these credentials hold (to scrub from artifacts)."""
        return tuple(s for s in (self.api_key, self.api_secret, self.passphrase, self.identity) if s)


@dataclass(frozen=True, slots=True)
class OrderRef:
    """One order to cancel: its symbol and exactly one of ``order_id`` / ``client_order_id``.

    ``conditional``: the order is on the venue's list of conditional orders (HTX algo, Bitget plan,
    BingX OCO), which the venue cancels and answers for through endpoints of their own; the adapter
    routes such a ref there. Only on venues that keep a CONDITIONAL list (elsewhere a trigger order is
    an ordinary order and its ref is ordinary).
    """

    symbol: str
    order_id: str | None = None
    client_order_id: str | None = None
    conditional: bool = False

    @property
    def kind(self) -> IdKind:
        return IdKind.ORDER_ID if self.order_id is not None else IdKind.CLIENT_ORDER_ID

    @property
    def value(self) -> str:
        return self.order_id if self.order_id is not None else self.client_order_id  # type: ignore[return-value]

    def __str__(self) -> str:
        # Spelled out rather than through .kind/.value: a 100,000-order job names every order in its
        # create event (orders_hash), and the enum lookups were most of that cost.
        if self.order_id is not None:
            text = f"{self.symbol}:order_id={self.order_id}"
        else:
            text = f"{self.symbol}:client_order_id={self.client_order_id}"
        return text + ":conditional" if self.conditional else text


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A fully built, signed request, relative to the venue's base URL.

    ``query`` is the exact (already encoded) query string sent, without ``?``, and ``body`` the
    exact bytes sent; the transport sends both unchanged. (What is signed is the venue's business:
    BingX signs the unencoded form of this query.)
    """

    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: str = "cancel"  # cancel | query | time: for evidence, pacing and the fake's faults
    # Seconds this request may take at most (the caller's deadline); None: the transport's own timeouts.
    # Not part of what is sent or signed: a transport that ignores it only keeps a deadline less tightly.
    timeout: float | None = field(default=None, compare=False)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What came back. ``headers`` keys are lower-cased."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def text(self, limit: int = 500) -> str:
        return self.body[:limit].decode("utf-8", "replace")


class Verdict(enum.StrEnum):
    """What a venue reply tells us about one order."""

    CANCELLED = "cancelled"  # the venue says the order is cancelled
    FAILED = "failed"  # the venue definitively will not cancel it (reason says why)
    UNKNOWN = "unknown"  # we cannot tell: query the venue
    OPEN = "open"  # the order is still resting: send the cancel again


class Reason(enum.StrEnum):
    """Why an order stands where it does: stored beside the state in ``orders.reason`` and shown in JSON.

    Detail lives here, not in more states (the five states are the product's vocabulary).
    """

    FILLED = "filled"  # the order filled before the cancel took
    NOT_FOUND = "not_found"  # the venue has no such order (confirmed by query before it is believed)
    REFUSED = "venue_refused"  # the venue refused to cancel this order
    EXPIRED = "expired"  # the order expired at the venue
    ACCEPTED = "accepted"  # asynchronous venue accepted the cancel; a query must confirm it
    OMITTED = "omitted"  # the reply left this order out
    AMBIGUOUS = "ambiguous"  # the venue answered, but not in a way that settles it
    NO_REPLY = "no_reply"  # the request may have arrived; no usable reply
    CANCELLING = "cancelling"  # the venue is still working on the cancel
    STILL_OPEN = "still_open"  # a query found the order still resting: it is sent again
    FORGOTTEN = "venue_forgot"  # the venue no longer answers for orders this old: an operator decides
    OPERATOR = "operator"  # settled by an operator's recorded decision (`safecancel resolve`)


# The names the venue adapters import (venues/*.py); the same values as the members.
REASON_FILLED = Reason.FILLED
REASON_NOT_FOUND = Reason.NOT_FOUND
REASON_REFUSED = Reason.REFUSED
REASON_EXPIRED = Reason.EXPIRED
REASON_ACCEPTED = Reason.ACCEPTED
REASON_OMITTED = Reason.OMITTED
REASON_AMBIGUOUS = Reason.AMBIGUOUS
REASON_NO_REPLY = Reason.NO_REPLY
REASON_CANCELLING = Reason.CANCELLING
REASON_STILL_OPEN = Reason.STILL_OPEN


class JobStatus(enum.StrEnum):
    """Where a job stands (``jobs.status``, ``history`` and ``show --json``)."""

    OPEN = "open"  # unfinished: orders are pending or unknown; ``resume`` continues it
    DONE = "done"  # every order is terminal
    NEEDS_ATTENTION = "needs_attention"  # unfinished, and more runs alone will not settle it (``attention`` says why)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A per-order verdict with the venue's own words."""

    verdict: Verdict
    reason: str | None = None
    code: str | None = None
    message: str | None = None


class FailureKind(enum.StrEnum):
    """How a whole request failed, which decides what the engine may do next."""

    NOT_PROCESSED = "not_processed"  # provably never applied: safe to send again (after backoff)
    RATE_LIMITED = "rate_limited"  # not applied; wait retry_after (or back off) and send again
    CLOCK = "clock"  # timestamp rejected, not applied: re-measure the clock offset, re-sign, resend
    AUTH = "auth"  # credentials refused, not applied: stop, the caller must fix the keys
    REJECTED = "rejected"  # a definite refusal of the whole request: nothing was cancelled
    UNKNOWN_OUTCOME = "unknown_outcome"  # may or may not have been applied: query each order


@dataclass(frozen=True, slots=True)
class Failure:
    """A whole-request failure, classified."""

    kind: FailureKind
    code: str | None = None
    message: str | None = None
    http_status: int | None = None
    retry_after: float | None = None


CancelReply = Failure | Mapping[OrderRef, Outcome]
"""``parse_cancel`` returns either a whole-request failure or one outcome for every requested order."""

QueryReply = Failure | Outcome
"""``parse_query`` returns the order's status as an :class:`Outcome`, or a failure of the query itself."""


class ListKind(enum.StrEnum):
    """Which of a venue's order listings a request reads."""

    OPEN = "open"  # resting orders (on Binance COIN-M and BitoPro, trigger orders too: they rest on this list)
    CONDITIONAL = "conditional"  # trigger / algo / plan orders, where the venue keeps them on a list of their own
    HISTORY = "history"  # recent orders with their states (final ones included), to settle many orders at once


@dataclass(frozen=True, slots=True)
class ListedOrder:
    """One order as a venue's listing shows it.

    ``status`` is the venue's word about the order, read the way :meth:`parse_query` reads it
    (``message`` carries the venue's own state word): ``OPEN`` resting, ``CANCELLED``, ``FAILED``
    with reason ``filled``/``expired``, ``UNKNOWN`` with reason ``cancelling`` while an accepted
    cancel is pending. ``symbol`` is spelled the way the adapter's ``validate`` accepts it (the
    venue's API spelling, as in ``example_symbol``). At least one of the ids is set; a conditional
    order on HTX has only its client id until it triggers.
    """

    symbol: str
    order_id: str | None
    client_order_id: str | None
    status: Outcome
    conditional: bool = False
    side: str | None = None  # the venue's word: BUY / sell / ...
    order_type: str | None = None  # the venue's word: LIMIT / buy-limit / STOP / ...
    price: str | None = None  # as the venue spells it (no float rounding)
    quantity: str | None = None
    filled: str | None = None
    created_ms: int | None = None
    updated_ms: int | None = None

    def ref(self, *, separate_conditional: bool) -> OrderRef:
        """The order as a cancel/query reference: by exchange id where it has one, else by client id.

        ``separate_conditional``: the venue keeps conditional orders on a list of their own (the
        adapter's ``ListKind.CONDITIONAL in list_kinds``); only then is a conditional order's ref
        marked ``conditional`` (elsewhere it is cancelled like any other order).
        """
        conditional = self.conditional and separate_conditional
        if self.order_id is not None:
            return OrderRef(self.symbol, order_id=self.order_id, conditional=conditional)
        return OrderRef(self.symbol, client_order_id=self.client_order_id, conditional=conditional)

    def to_json(self) -> dict[str, Any]:
        out = json_fields(self, skip=("status",))
        out["state"] = self.status.verdict.value
        out["reason"] = self.status.reason
        out["venue_state"] = self.status.message
        return out


@dataclass(frozen=True, slots=True)
class Countdown:
    """The venue's word on its dead-man countdown after an arm, renewal or disarm request.

    ``armed``: the countdown runs (False: the venue says it is off); ``trigger_ms``: when the venue says it
    fires (its own clock, epoch ms), None where the reply does not say.
    """

    armed: bool
    trigger_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a listing: its orders, and the cursor of the next page (None: this was the last).

    ``capped``: the venue returns at most so many orders and has no next page (BingX's open orders: 2000),
    and this page is at the cap, so open orders may exist that no page shows. Cancel what it lists and
    list again; never read an order's absence from it as "not open".
    """

    orders: tuple[ListedOrder, ...]
    cursor: str | None = None
    capped: bool = False


ListReply = Failure | ListPage
"""``parse_list`` returns one page, or a failure of the listing request as a whole."""


def json_fields(obj: Any, *, rename: Mapping[str, str] | None = None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A result dataclass as JSON-ready values, every field included unless named in ``skip``.

    Written from the fields, not by hand: a field added to a result appears in ``--json`` at once
    (hand-kept dicts drifted: ``OrderResult`` once dropped ``venue_code``, ``JobSummary`` ``account``).
    """
    out: dict[str, Any] = {}
    for f in fields(obj):
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, Mapping):
            value = dict(value)
        out[(rename or {}).get(f.name, f.name)] = value
    return out


# -- results handed to callers -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderResult:
    """Where one order of a job stands."""

    symbol: str
    order_id: str | None
    client_order_id: str | None
    state: OrderState
    reason: Reason | None  # why it stands there (filled, not_found, venue_refused, ...): see Reason
    provenance: Provenance | None  # who settled a terminal state: venue_response, venue_query or operator
    attempts: int  # cancel requests that may have reached the venue
    venue_code: str | None = None  # what the venue said in the answer that produced ``state``
    venue_message: str | None = None
    unsent: int = 0  # cancel requests that provably never left this machine (not in ``attempts``)
    conditional: bool = False  # on the venue's conditional-order list (HTX algo, Bitget plan, BingX OCO)

    @property
    def ref(self) -> OrderRef:
        """The order as a reference; ``str(ref)`` is how the job's events name it (``EventRecord.order``)."""
        return OrderRef(self.symbol, self.order_id, self.client_order_id, self.conditional)

    def to_json(self) -> dict[str, Any]:
        return json_fields(self)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row of the journal."""

    seq: int
    job_id: str
    order: str | None  # "SYMBOL:kind=value" of the order, None for job-level events
    trigger: str
    from_state: str | None
    to_state: str | None
    attempt: int | None
    at: str
    http_status: int | None
    venue_code: str | None
    venue_message: str | None
    provenance: str | None
    reason: str | None
    evidence_id: int | None
    note: str | None
    # With ``client.job(id, evidence=True)`` (``show --evidence``): the HTTP exchange this event recorded,
    # as stored (secrets redacted, bodies bounded): at, endpoint, method, path, query, body, status,
    # response (the venue's reply), elapsed_ms, error. None otherwise.
    evidence: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        # The job id is the enclosing job's; "from"/"to" are the JSON contract's names (design.md).
        skip = ("job_id",) if self.evidence is not None else ("job_id", "evidence")
        return json_fields(self, rename={"from_state": "from", "to_state": "to"}, skip=skip)


@dataclass(frozen=True, slots=True)
class JobResult:
    """A job and every order in it, as the journal has them now."""

    job_id: str
    key: str
    venue: str
    account: str
    status: JobStatus  # open | done | needs_attention (see JobStatus)
    created_at: str
    finished_at: str | None
    orders: tuple[OrderResult, ...]
    events: tuple[EventRecord, ...] = ()
    attention: str | None = None  # why the job stopped short of finishing, in plain words
    base_url: str | None = None  # the venue endpoint the job is bound to
    key_fp: str | None = None  # one-way fingerprint of the API key it runs under
    held_by: str | None = None  # this call did not run it: another live runner holds it (who, until when)
    skipped: str | None = None  # this call could not run it here (missing credentials, another key)
    problem: str | None = None  # this call stopped on a venue error: "venue" (request refused) or "auth"
    # A kill switch (``client.cancel_all``): kind "cancel_all", its scope, and when a listing of the
    # venue last showed the scope empty (with that listing's evidence row); None until one did.
    kind: str | None = None
    scope: Mapping[str, Any] | None = None
    verified_empty_at: str | None = None
    verified_evidence: int | None = None
    # Orders in scope that the last listing still showed open (their str(ref)): this call's view.
    still_open: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.orders:
            out[o.state] = out.get(o.state, 0) + 1
        return out

    @property
    def all_cancelled(self) -> bool:
        return all(o.state == OrderState.CANCELLED for o in self.orders)

    @property
    def finished(self) -> bool:
        """True when every order is terminal (``cancelled`` or ``failed``)."""
        return all(o.state in TERMINAL for o in self.orders)

    def to_json(self, *, events: bool = True) -> dict[str, Any]:
        out = json_fields(self, skip=("orders", "events"))
        out["still_open"] = list(self.still_open)
        out["counts"] = self.counts
        out["orders"] = [o.to_json() for o in self.orders]
        if events:
            out["events"] = [e.to_json() for e in self.events]
        return out


@dataclass(frozen=True, slots=True)
class JobSummary:
    """One line of the history."""

    job_id: str
    key: str
    venue: str
    account: str
    status: JobStatus
    created_at: str
    finished_at: str | None
    counts: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return json_fields(self)


@dataclass(frozen=True, slots=True)
class Listing:
    """What a venue listed for one scope, every page read: ``client.open_orders()``.

    ``orders`` are in the venue's order, each once (an order seen on two pages while the book moved
    is kept once). ``listed_at`` is when the last page's reply arrived: the listing is the venue's
    word as of then. Iterating a Listing iterates its orders.
    """

    venue: str
    symbol: str | None
    kinds: tuple[str, ...]  # the listings read: "open", and "conditional" where the venue keeps those apart
    orders: tuple[ListedOrder, ...]
    pages: int
    requests: int  # pages plus retries and lookups
    started_at: str
    listed_at: str
    complete: bool = True  # False: a page was at the venue's cap (see ListPage.capped); more may be open

    def __iter__(self) -> Iterator[ListedOrder]:
        return iter(self.orders)

    def __len__(self) -> int:
        return len(self.orders)

    def to_json(self) -> dict[str, Any]:
        out = json_fields(self, skip=("orders",))
        out["kinds"] = list(self.kinds)
        out["count"] = len(self.orders)
        out["orders"] = [o.to_json() for o in self.orders]
        return out


@dataclass(frozen=True, slots=True)
class CancelAllPlan:
    """What a kill switch would cancel now (``client.plan_cancel_all``, ``cancel-all --dry-run``): the
    orders in scope, of how many listed, and how many it would leave alone for want of a client id."""

    scope: str
    in_scope: Listing
    listed: int
    unsure: int

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": True,
            "scope": self.scope,
            "listed": self.listed,
            "in_scope": len(self.in_scope),
            "unsure": self.unsure,
            "listing": self.in_scope.to_json(),
        }
