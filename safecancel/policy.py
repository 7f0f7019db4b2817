"""Every decision from a venue's answer to an order's next step, as pure functions.

The engine does the I/O (HTTP, journal, clock, threads, leases); this module decides. Each function
takes what the engine knows -- the order's journal row, the venue's answer, the time, the
:class:`RetryPolicy` and the venue's facts -- and returns plain values: one :class:`Step` per order
(what the journal records) and the :class:`Action` values the engine carries out afterwards (pause a
bucket, re-measure the clock, stop on refused credentials). Nothing here reads a clock, draws a random
number or touches the network: the time is an argument and backoff comes from an injected
:data:`Delay`, so ``tests/unit/test_policy.py`` checks every rule from a table, without a server or a
database (stripe's ``_should_retry``, "separated to isolate randomness for tests").

The rules, in short:

- A reply that settles an order settles it (``confirm`` / ``reject``, provenance ``venue_response``).
- A request that provably never reached the venue, or that the venue did not apply, goes back to
  ``pending`` (``requeue``) after a backoff that never undercuts Retry-After.
- Anything that may have arrived makes the order ``unknown`` (``lose``); only a query settles it.
- "No such order" settles an order only when the venue can still be believed about it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, Protocol, TypedDict, TypeVar

from .errors import TransportError
from .model import Failure, FailureKind, IdKind, JobStatus, ListedOrder, OrderRef, Outcome, Reason, Verdict
from .states import OrderState, Provenance, Trigger

if TYPE_CHECKING:
    import random

S = OrderState
T = Trigger

Delay = Callable[[int, float | None], float]
"""``delay(attempt, retry_after)``: seconds to wait before trying again.

The engine passes :meth:`RetryPolicy.delay` bound to the run's random generator (under a lock, since
chunks run in threads); tests pass a deterministic function so every due time is exact.
"""


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff and bounds, as data.

    ``max_sends``: how often, in one run, the venue may report an order still open after a cancel
    before the job asks for attention (sends that never reached the venue do not count).
    ``attention_queries``: queries of one ``unknown`` order before the job is flagged
    ``needs_attention`` (it keeps being queried; it is never settled by giving up).
    """

    base_delay: float = 0.2
    max_delay: float = 10.0
    max_retry_after: float = 120.0
    max_sends: int = 5
    attention_queries: int = 20
    async_first_query: float = 0.2  # an asynchronous venue needs a moment before a query can confirm
    # Requests refused as a whole (a 404 from a wrong base URL, a whole-request 4xx code) in a row,
    # with no answer about any order in between, before the run stops and the job asks for attention.
    max_refusals: int = 3
    # Bulk confirmation: when at least this many ``unknown`` orders are due for a query at once, the
    # venue's listings (recent history, open orders) are read first and settle every order they show;
    # only the orders they do not show are queried one by one. 0 turns listings off.
    bulk_confirm: int = 8

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Jittered exponential backoff in seconds; the jitter is the only use of ``rng``."""
        backoff = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1)) * rng.uniform(0.5, 1.0)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after))  # never sooner than the venue asked
        return backoff


class OrderFacts(Protocol):
    """What a decision reads of an order's journal row (``store.OrderRow`` has all of it).

    A protocol rather than the row class itself, so this module never imports the store.
    """

    @property
    def pk(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def queries(self) -> int: ...
    @property
    def not_found_seen(self) -> int: ...
    @property
    def next_at_ms(self) -> int: ...
    @property
    def ref(self) -> OrderRef: ...


@dataclass(frozen=True, slots=True)
class Step:
    """One order's next step: a trigger of the state table (or an observation) and what to record.

    The engine records it as a ``store.Change`` of the order's row; the field names are the same.
    """

    trigger: Trigger
    reason: str | None = None
    provenance: Provenance | None = None
    code: str | None = None
    message: str | None = None
    next_at_ms: int | None = None
    http_status: int | None = None
    query: bool = False  # the step comes from a reconciliation query (the journal counts it)
    note: str | None = None
    not_found: bool = False  # the venue answered "no such order" (consecutive answers are counted)
    unsent: bool = False  # the write-ahead's request provably never left this machine


class Action(enum.StrEnum):
    """What the engine does besides recording the steps, in place of the follow-up closures of old."""

    ANSWERED = "answered"  # the venue answered about orders: the request itself is fine (refusals reset)
    REFUSED = "refused"  # the venue refused the request as a whole: one more refusal in a row
    PAUSE = "pause"  # rate limited: pause this endpoint's bucket for ``Decision.pause`` seconds
    RESYNC_CLOCK = "resync_clock"  # after recording: re-measure the venue's clock (from this reply, if need be)
    STOP_AUTH = "stop_auth"  # credentials refused: stop the run, the job stays open
    REOPENED = "reopened"  # the venue says the order is still open: counts against ``max_sends``


@dataclass(frozen=True, slots=True)
class Decision:
    """The steps for the rows asked about (one per row, in their order) and what to do next."""

    steps: tuple[Step, ...]
    actions: tuple[Action, ...] = ()
    pause: float | None = None  # seconds, with Action.PAUSE


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class _Said(TypedDict):
    """The venue's own words, kept beside the state they produced."""

    code: str | None
    message: str | None
    http_status: int | None


def _said(answer: Outcome | Failure, http_status: int | None) -> _Said:
    return {"code": answer.code, "message": answer.message, "http_status": http_status}


# -- the cancel request --------------------------------------------------------------------------


def cancel_change(
    row: OrderFacts, outcome: Outcome, status: int, now_ms: int, delay: Delay, policy: RetryPolicy
) -> Step:
    """The step for one order after the venue answered a cancel about it."""
    said = _said(outcome, status)
    v = outcome.verdict
    if v is Verdict.CANCELLED:
        return Step(T.CONFIRM, reason=outcome.reason, provenance=Provenance.VENUE_RESPONSE, **said)
    if v is Verdict.FAILED:
        reason = outcome.reason or Reason.REFUSED
        return Step(T.REJECT, reason=reason, provenance=Provenance.VENUE_RESPONSE, **said)
    if v is Verdict.OPEN:
        again = now_ms + _ms(delay(row.attempts, None))
        return Step(T.REQUEUE, reason=outcome.reason, next_at_ms=again, **said)
    # Unknown: query it. An asynchronous venue's accepted cancel needs a moment to take effect.
    wait = policy.async_first_query if outcome.reason in (Reason.ACCEPTED, Reason.CANCELLING) else 0.0
    return Step(T.LOSE, reason=outcome.reason, next_at_ms=now_ms + _ms(wait), **said)


OMITTED = Outcome(Verdict.UNKNOWN, Reason.OMITTED)  # an order the reply left out: query it


def cancel_reply(
    rows: Sequence[OrderFacts],
    reply: Mapping[OrderRef, Outcome],
    status: int,
    now_ms: int,
    delay: Delay,
    policy: RetryPolicy,
) -> Decision:
    """The steps after the venue answered a cancel order by order (an answer: refusals reset)."""
    steps = tuple(cancel_change(r, reply.get(r.ref) or OMITTED, status, now_ms, delay, policy) for r in rows)
    return Decision(steps, (Action.ANSWERED,))


def chunk_failure(
    rows: Sequence[OrderFacts], failure: Failure, now_ms: int, delay: Delay, policy: RetryPolicy
) -> Decision:
    """The steps after the venue failed a whole cancel request, and what the engine does next.

    One due time for the whole chunk, so that it goes out again as one request.
    """
    said = _said(failure, failure.http_status)
    kind = failure.kind
    attempt = max(r.attempts for r in rows)
    if kind is FailureKind.UNKNOWN_OUTCOME:
        step = Step(T.LOSE, reason=Reason.NO_REPLY, **said)
        return Decision((step,) * len(rows))
    if kind is FailureKind.REJECTED:
        # A refusal of the request is no answer about any order: nothing was applied, so the orders go
        # back to pending. Repeated, the job stops and asks for attention.
        again = now_ms + _ms(delay(attempt, None))
        note = "the request was refused as a whole; nothing applied"
        step = Step(T.REQUEUE, next_at_ms=again, note=note, **said)
        return Decision((step,) * len(rows), (Action.REFUSED,))
    # Not applied (NOT_PROCESSED, RATE_LIMITED, CLOCK, AUTH): back to pending, to be sent again.
    retry_after = failure.retry_after
    pause = None
    if kind is FailureKind.RATE_LIMITED:
        # The bucket waits what the venue asked for (capped), or a backoff when it did not say.
        pause = delay(rows[0].attempts, None) if retry_after is None else min(retry_after, policy.max_retry_after)
    # A clock rejection backs off too: with the time endpoint down, re-signing at once would only loop.
    again = now_ms + _ms(delay(attempt, retry_after))
    step = Step(T.REQUEUE, next_at_ms=again, note=f"not applied: {kind.value}", **said)
    actions = {
        FailureKind.RATE_LIMITED: (Action.PAUSE,),
        FailureKind.CLOCK: (Action.RESYNC_CLOCK,),
        FailureKind.AUTH: (Action.STOP_AUTH,),
    }.get(kind, ())
    return Decision((step,) * len(rows), actions, pause)


def send_error(rows: Sequence[OrderFacts], err: TransportError, now_ms: int, delay: Delay) -> Decision:
    """The steps after a cancel request got no reply at all.

    Only a request that provably never reached the venue is sent again blindly (and that send does not
    count as an attempt); one that may have arrived makes its orders ``unknown``, to be queried.
    """
    if err.never_reached_venue:
        again = now_ms + _ms(delay(max(r.attempts for r in rows), None))
        step = Step(T.REQUEUE, next_at_ms=again, message=str(err), unsent=True)
    else:
        step = Step(T.LOSE, reason=Reason.NO_REPLY, message=str(err))
    return Decision((step,) * len(rows))


def unsent(rows: Sequence[OrderFacts], now_ms: int) -> Decision:
    """The steps for orders written ahead as ``sent`` whose request was never sent (the deadline came
    while it waited for the venue's rate): back to ``pending``, due at once, no attempt counted."""
    return Decision((Step(T.REQUEUE, next_at_ms=now_ms, unsent=True),) * len(rows))


def auth_message(venue: str, failure: Failure, *, on_query: bool = False) -> str:
    """The text of the AuthError that stops a run whose credentials the venue refused."""
    if on_query:
        return f"{venue} refused the credentials on a query ({failure.code or failure.http_status})"
    said = f"{failure.code or failure.http_status}: {failure.message}"
    return f"{venue} refused the credentials ({said}); the job stays open"


# -- the query of an unknown order --------------------------------------------------------------


def not_found_change(
    row: OrderFacts,
    answer: Outcome,
    status: int | None,
    again_ms: int,
    *,
    job_age_s: float,
    confirmations: int = 1,
    forget_after_s: float | None = None,
) -> Step:
    """ "No such order" settles an order as failed/not_found only when the venue can be believed.

    Venues forget old orders (Binance: unfilled cancelled orders after 3 days; HTX: API orders 2 h
    after cancel), so past ``forget_after_s`` the answer proves nothing and an operator decides.
    Some venues also say "not found" transiently for fresh orders (HTX ``base-record-invalid``),
    so ``confirmations`` consecutive answers are required.
    """
    said = _said(answer, status)
    if forget_after_s is not None and job_age_s > forget_after_s:
        note = "the venue no longer answers for orders this old; settle with `safecancel resolve`"
        return Step(
            T.QUERY, reason=Reason.FORGOTTEN, query=True, not_found=True, next_at_ms=again_ms, note=note, **said
        )
    seen = row.not_found_seen + 1
    if seen < confirmations:
        return Step(
            T.QUERY,
            reason=Reason.NOT_FOUND,
            query=True,
            not_found=True,
            next_at_ms=again_ms,
            note=f"not found {seen}/{confirmations}",
            **said,
        )
    return Step(
        T.REJECT, reason=Reason.NOT_FOUND, provenance=Provenance.VENUE_QUERY, query=True, not_found=True, **said
    )


def query_change(
    row: OrderFacts,
    answer: Outcome | Failure | TransportError,
    status: int | None,
    now_ms: int,
    delay: Delay,
    *,
    job_age_s: float = 0.0,
    confirmations: int = 1,
    forget_after_s: float | None = None,
) -> Decision:
    """The step after querying one ``unknown`` order, and what the engine does next.

    ``answer`` is the venue's word about the order (an :class:`Outcome`), a failure of the query itself,
    or the transport error of a query that got no reply; ``status`` is the reply's HTTP status.
    A query that settles nothing is recorded as an observation and asked again later.
    """
    # Drawn first, whatever the answer, as the engine always did: a seeded run keeps its sequence.
    again = now_ms + _ms(delay(row.queries + 1, None))
    if isinstance(answer, TransportError):
        return Decision((Step(T.QUERY, query=True, next_at_ms=again, message=str(answer)),))
    if isinstance(answer, Failure):
        kind = answer.kind
        if answer.retry_after is not None and kind is not FailureKind.CLOCK:
            again = now_ms + _ms(delay(row.queries + 1, answer.retry_after))
        step = Step(T.QUERY, query=True, next_at_ms=again, **_said(answer, answer.http_status))
        if kind is FailureKind.RATE_LIMITED:
            return Decision((step,), (Action.PAUSE,), (again - now_ms) / 1000)
        actions = {
            FailureKind.REJECTED: (Action.REFUSED,),
            FailureKind.CLOCK: (Action.RESYNC_CLOCK,),
            FailureKind.AUTH: (Action.STOP_AUTH,),
        }.get(kind, ())
        return Decision((step,), actions)
    said = _said(answer, status)
    v = answer.verdict
    if v is Verdict.CANCELLED:
        step = Step(T.CONFIRM, reason=answer.reason, provenance=Provenance.VENUE_QUERY, query=True, **said)
    elif v is Verdict.FAILED and answer.reason == Reason.NOT_FOUND:
        step = not_found_change(
            row, answer, status, again, job_age_s=job_age_s, confirmations=confirmations, forget_after_s=forget_after_s
        )
    elif v is Verdict.FAILED:
        step = Step(T.REJECT, reason=answer.reason, provenance=Provenance.VENUE_QUERY, query=True, **said)
    elif v is Verdict.OPEN:
        # Still resting: the cancel never took. Send it again (bounded by max_sends, with backoff).
        nxt = now_ms + (_ms(delay(row.attempts, None)) if row.attempts else 0)
        step = Step(T.REQUEUE, reason=Reason.STILL_OPEN, query=True, next_at_ms=nxt, **said)
        return Decision((step,), (Action.ANSWERED, Action.REOPENED))
    else:
        step = Step(T.QUERY, reason=answer.reason, query=True, next_at_ms=again, **said)
    return Decision((step,), (Action.ANSWERED,))


# -- scheduling and the job's status -------------------------------------------------------------


COALESCE_MS = 250  # pending orders due within this window of one another are sent together


R = TypeVar("R", bound=OrderFacts)


@dataclass(frozen=True, slots=True)
class Due(Generic[R]):
    """What one turn of the engine's loop does: query these, else send these, else wait until ``wake_at_ms``.

    ``wake_at_ms`` is None when nothing is due and nothing will be: every order left was sent
    ``max_sends`` times and is still open (or is waiting for an operator), so the run ends.
    """

    query: tuple[R, ...] = ()
    send: tuple[R, ...] = ()
    wake_at_ms: int | None = None


def due(rows: Sequence[R], now_ms: int, reopened: Mapping[int, int], policy: RetryPolicy) -> Due[R]:
    """Which of the job's ``pending``/``unknown`` orders to work on now. Queries come first: a queried
    order may go back to pending, and must not be sent before the loop sees it there."""
    query = tuple(o for o in rows if awaits_query(o) and o.next_at_ms <= now_ms)
    if query:
        return Due(query=query)
    sendable = [o for o in rows if o.state == S.PENDING and may_send(o, reopened, policy)]
    send = [o for o in sendable if o.next_at_ms <= now_ms]
    if send:
        # Orders requeued one by one (each after its own query) have jittered due times a few ms apart:
        # take those due very soon too, so they go out as one request. Rate limits are still enforced
        # by the bucket (and its Retry-After pause).
        soon = now_ms + COALESCE_MS
        return Due(send=tuple(send + [o for o in sendable if now_ms < o.next_at_ms <= soon]))
    waiting = [o.next_at_ms for o in rows if awaits_query(o)] + [o.next_at_ms for o in sendable]
    return Due(wake_at_ms=min(waiting) if waiting else None)


def refusals_after(refusals: int, actions: Sequence[Action]) -> int:
    """Whole-request refusals in a row after a decision: any answer about an order resets the count."""
    if Action.REFUSED in actions:
        return refusals + 1
    return 0 if Action.ANSWERED in actions else refusals


def refused_too_often(refusals: int, policy: RetryPolicy) -> bool:
    """The venue keeps refusing the request itself: sending more will not help; the run stops."""
    return refusals >= policy.max_refusals


def may_send(row: OrderFacts, reopened: Mapping[int, int], policy: RetryPolicy) -> bool:
    """Whether a ``pending`` order may be sent again in this run (``reopened``: still-open answers per order)."""
    return reopened.get(row.pk, 0) < policy.max_sends


def awaits_query(row: OrderFacts) -> bool:
    """An ``unknown`` order the venue can still answer for (a forgotten one waits for an operator)."""
    return row.state == S.UNKNOWN and row.reason != Reason.FORGOTTEN


def job_status(
    rows: Sequence[OrderFacts],
    *,
    venue: str,
    base_url: str,
    job_id: str,
    policy: RetryPolicy,
    reopened: Mapping[int, int],
    auth_error: str | None = None,
    refusals: int = 0,
    refusal: Failure | None = None,
    last_error: str | None = None,
    deadline_passed: bool = False,
) -> tuple[JobStatus, str | None]:
    """The job's status after a run and, unless done, why it stopped short, in plain words.

    Args:
        rows: the job's orders that are not terminal (``pending``, ``sent``, ``unknown``).
        reopened: "still open" answers per order pk in this run.
        auth_error: the text of the AuthError that stopped the run, if one did.
        refusals: whole-request refusals in a row at the end of the run; ``refusal`` the last one.
        last_error: the last transport failure, to say why a job stayed open.
        deadline_passed: the run stopped because the caller's deadline came.
    """
    if not rows:
        return JobStatus.DONE, None
    if auth_error is not None:
        return JobStatus.OPEN, f"{auth_error}; fix the API key or secret, then run `safecancel resume`"
    n = len(rows)
    if refused_too_often(refusals, policy) and refusal is not None:
        f = refusal
        said = " ".join(str(x) for x in (f.code, f.message) if x) or "no details"
        if f.http_status in (404, 405):
            # A 404/405 for the request itself is the classic sign of a wrong base URL.
            hint = (
                f"the base URL is {base_url}; to run the job at the right one: "
                f"`safecancel resume --job {job_id} --base-url URL`"
            )
        else:
            hint = "check the request and the account, then `safecancel resume`"
        return JobStatus.NEEDS_ATTENTION, (
            f"{venue} refused the request as a whole {refusals} times in a row (HTTP {f.http_status}: {said}); "
            f"nothing was applied, {n} orders are unsettled: {hint}"
        )
    stuck = [o for o in rows if o.state == S.PENDING and not may_send(o, reopened, policy)]
    forgotten = [o for o in rows if o.state == S.UNKNOWN and o.reason == Reason.FORGOTTEN]
    unanswered = [o for o in rows if o.state == S.UNKNOWN and o.queries >= policy.attention_queries]
    if stuck or forgotten or unanswered:
        parts = []
        if stuck:
            parts.append(f"{len(stuck)} orders are still open at {venue} after {policy.max_sends} cancels each")
        if forgotten:
            parts.append(
                f"{len(forgotten)} orders are too old for {venue} to answer for: settle them with `safecancel resolve`"
            )
        if unanswered:
            parts.append(f"{len(unanswered)} orders could not be confirmed after {policy.attention_queries} queries")
        return JobStatus.NEEDS_ATTENTION, "; ".join(parts)
    counts: dict[str, int] = {}
    for o in rows:
        counts[o.state] = counts.get(o.state, 0) + 1
    left = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    cause = f" (last error: {last_error})" if last_error else ""
    ended = "the deadline passed" if deadline_passed else "the run ended"
    why = f"{ended} before every order was settled ({left}){cause}; `safecancel resume` continues it"
    return JobStatus.OPEN, why


__all__ = [
    "Action",
    "COALESCE_MS",
    "Decision",
    "Delay",
    "Due",
    "OMITTED",
    "OrderFacts",
    "RetryPolicy",
    "Step",
    "auth_message",
    "awaits_query",
    "cancel_change",
    "cancel_reply",
    "chunk_failure",
    "due",
    "job_status",
    "may_send",
    "not_found_change",
    "query_change",
    "refusals_after",
    "refused_too_often",
    "send_error",
    "unsent",
]


# -- a page of a listing -----------------------------------------------------------------------


class ListingMove(enum.StrEnum):
    """What to do after a listing request failed. A listing is a read: asking again changes nothing."""

    RETRY = "retry"  # after ``delay`` seconds (a rate limit's Retry-After, or backoff)
    RESYNC_CLOCK = "resync_clock"  # the venue refused our timestamp: re-measure, re-sign, ask again
    STOP_AUTH = "stop_auth"  # the venue refused the credentials: stop, the caller must fix them
    STOP_REJECTED = "stop_rejected"  # the venue refused the request itself (a wrong URL, a bad parameter)


@dataclass(frozen=True)
class ListingStep:
    move: ListingMove
    delay: float = 0.0
    pause: float | None = None  # the venue asked everyone on this key to wait (pause the shared bucket)


def listing_failure(failure: Failure | TransportError, attempt: int, delay: Delay, policy: RetryPolicy) -> ListingStep:
    """The next move after listing request number ``attempt`` (1-based) of one page failed.

    Rate limits, timeouts, 5xx, unreadable replies and transport errors are asked again after a
    backoff (never sooner than Retry-After); a timestamp rejection re-measures the clock first (once in
    a row, then backs off); refused credentials stop at once; a refusal of the request itself is asked
    again up to ``max_refusals`` times (a venue can refuse transiently) and then stops.
    """
    if isinstance(failure, TransportError):
        return ListingStep(ListingMove.RETRY, delay(attempt, None))
    if failure.kind is FailureKind.AUTH:
        return ListingStep(ListingMove.STOP_AUTH)
    if failure.kind is FailureKind.REJECTED:
        if attempt >= policy.max_refusals:
            return ListingStep(ListingMove.STOP_REJECTED)
        return ListingStep(ListingMove.RETRY, delay(attempt, None))
    if failure.kind is FailureKind.CLOCK:
        return ListingStep(ListingMove.RESYNC_CLOCK if attempt <= 2 else ListingMove.RETRY, delay(attempt, None))
    if failure.kind is FailureKind.RATE_LIMITED:
        wait = delay(attempt, failure.retry_after)
        return ListingStep(ListingMove.RETRY, wait, pause=wait)
    return ListingStep(ListingMove.RETRY, delay(attempt, failure.retry_after))


# -- many orders from listings --------------------------------------------------------------------

# How much a listing's word about an order weighs: a final state can never be undone, so it beats an
# "open" seen on another page (or listing) at another moment; "cancelling" is in between.
_RANK = {Verdict.CANCELLED: 2, Verdict.FAILED: 2, Verdict.UNKNOWN: 1, Verdict.OPEN: 0}


def match_listed(
    rows: Sequence[R], sightings: Sequence[tuple[int, ListedOrder]], *, separate_conditional: bool = False
) -> dict[int, tuple[int, ListedOrder]]:
    """Which listed order speaks for which journal row: ``{row.pk: (sighting tag, listed order)}``.

    ``sightings`` are ``(tag, order)`` pairs (the tag says which page brought it). A row matches an
    order of the same symbol (case-folded) with the same id of the row's kind. Of several sightings of
    one order, the weightiest word wins (final > cancelling > open), the later one among equals. A
    client id that names two different orders (venues that do not enforce uniqueness) matches
    nothing: only a single-order query can tell which one is meant. A "not found" never comes from a
    listing (absence from a page proves nothing), so such an entry is ignored. Where the venue keeps
    conditional orders apart (``separate_conditional``), a conditional row matches only a conditional
    listed order and an ordinary row only an ordinary one (two id spaces).
    """
    by_id: dict[tuple[tuple[str, bool], str], list[tuple[int, ListedOrder]]] = {}
    by_cid: dict[tuple[tuple[str, bool], str], list[tuple[int, ListedOrder]]] = {}
    for tag, order in sightings:
        if order.status.verdict is Verdict.FAILED and order.status.reason == Reason.NOT_FOUND:
            continue
        sym = (order.symbol.casefold(), order.conditional and separate_conditional)
        if order.order_id is not None:
            by_id.setdefault((sym, order.order_id), []).append((tag, order))
        if order.client_order_id is not None:
            by_cid.setdefault((sym, order.client_order_id), []).append((tag, order))
    out: dict[int, tuple[int, ListedOrder]] = {}
    for row in rows:
        ref = row.ref
        index = by_id if ref.kind is IdKind.ORDER_ID else by_cid
        seen = index.get(((ref.symbol.casefold(), ref.conditional), ref.value))
        if not seen:
            continue
        if ref.kind is IdKind.CLIENT_ORDER_ID and len({o.order_id for _, o in seen}) > 1:
            continue  # one client id, two orders
        best = seen[0]
        for tag, order in seen[1:]:
            if _RANK[order.status.verdict] >= _RANK[best[1].status.verdict]:
                best = (tag, order)
        out[row.pk] = best
    return out


def listed_change(
    row: OrderFacts,
    listed: ListedOrder,
    now_ms: int,
    delay: Delay,
    *,
    note: str,
) -> Decision:
    """The step for an ``unknown`` order a listing showed: exactly what a query with the same answer
    would do (:func:`query_change`), with the listing named in the note. Provenance stays
    ``venue_query``: the venue's word, learnt by asking it (the evidence shows which endpoint)."""
    d = query_change(row, listed.status, 200, now_ms, delay)
    steps = tuple(replace(step, note=note) for step in d.steps)
    return Decision(steps, d.actions, d.pause)
