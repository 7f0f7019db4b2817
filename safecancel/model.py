"""Frozen value types shared by every layer: order references, HTTP exchanges, venue verdicts, results.

Nothing here does I/O. Venue adapters turn :class:`OrderRef` lists into :class:`HttpRequest` objects and
:class:`HttpResponse` objects into :class:`Outcome` / :class:`Failure` values; the engine turns those into
state transitions.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
    """One order to cancel: its symbol and exactly one of ``order_id`` / ``client_order_id``."""

    symbol: str
    order_id: str | None = None
    client_order_id: str | None = None

    @property
    def kind(self) -> IdKind:
        return IdKind.ORDER_ID if self.order_id is not None else IdKind.CLIENT_ORDER_ID

    @property
    def value(self) -> str:
        return self.order_id if self.order_id is not None else self.client_order_id  # type: ignore[return-value]

    def __str__(self) -> str:
        return f"{self.symbol}:{self.kind.value}={self.value}"


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


# Reasons beside the state (stored in orders.reason).
REASON_FILLED = "filled"
REASON_NOT_FOUND = "not_found"
REASON_REFUSED = "venue_refused"
REASON_EXPIRED = "expired"
REASON_ACCEPTED = "accepted"  # asynchronous venue accepted the cancel; a query must confirm it
REASON_OMITTED = "omitted"  # the reply left this order out
REASON_AMBIGUOUS = "ambiguous"  # the venue answered, but not in a way that settles it
REASON_NO_REPLY = "no_reply"  # the request may have arrived; no usable reply
REASON_CANCELLING = "cancelling"  # the venue is still working on the cancel
REASON_STILL_OPEN = "still_open"


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


# -- results handed to callers -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderResult:
    """Where one order of a job stands."""

    symbol: str
    order_id: str | None
    client_order_id: str | None
    state: str
    reason: str | None
    provenance: str | None
    attempts: int  # cancel requests that may have reached the venue
    venue_code: str | None = None  # what the venue said in the answer that produced ``state``
    venue_message: str | None = None
    unsent: int = 0  # cancel requests that provably never left this machine (not in ``attempts``)

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "state": self.state,
            "reason": self.reason,
            "provenance": self.provenance,
            "attempts": self.attempts,
            "unsent": self.unsent,
            "venue_code": self.venue_code,
            "venue_message": self.venue_message,
        }


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

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "order": self.order,
            "trigger": self.trigger,
            "from": self.from_state,
            "to": self.to_state,
            "attempt": self.attempt,
            "at": self.at,
            "http_status": self.http_status,
            "venue_code": self.venue_code,
            "venue_message": self.venue_message,
            "provenance": self.provenance,
            "reason": self.reason,
            "evidence_id": self.evidence_id,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class JobResult:
    """A job and every order in it, as the journal has them now."""

    job_id: str
    key: str
    venue: str
    account: str
    status: str
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

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.orders:
            out[o.state] = out.get(o.state, 0) + 1
        return out

    @property
    def all_cancelled(self) -> bool:
        return all(o.state == "cancelled" for o in self.orders)

    @property
    def finished(self) -> bool:
        """True when every order is terminal (``cancelled`` or ``failed``)."""
        return all(o.state in ("cancelled", "failed") for o in self.orders)

    def to_json(self, *, events: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "job_id": self.job_id,
            "key": self.key,
            "venue": self.venue,
            "account": self.account,
            "status": self.status,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "counts": self.counts,
            "attention": self.attention,
            "base_url": self.base_url,
            "key_fp": self.key_fp,
            "held_by": self.held_by,
            "skipped": self.skipped,
            "problem": self.problem,
            "orders": [o.to_json() for o in self.orders],
        }
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
    status: str
    created_at: str
    finished_at: str | None
    counts: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "key": self.key,
            "venue": self.venue,
            "status": self.status,
            "created_at": self.created_at,
            "counts": dict(self.counts),
        }
