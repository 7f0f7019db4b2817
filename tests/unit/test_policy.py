"""Every decision of ``safecancel.policy``, from tables: no server, no database, no clock, no randomness.

Each table row is one case: the venue's answer about an order (or a whole request), and the step the
order takes (trigger, reason, provenance, due time) plus what the engine must do next. The tables are
checked against the enums, so a new ``Verdict``, ``FailureKind`` or ``Reason`` without a row fails here.

Delays come from :class:`Delays`, which answers ``attempt`` seconds (``1000 + retry_after`` when the
venue asked for a wait) and records every draw, so each due time names the attempt it was drawn for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from safecancel.errors import TransportError
from safecancel.model import (
    REASON_NOT_FOUND,
    Failure,
    FailureKind,
    IdKind,
    JobStatus,
    ListedOrder,
    OrderRef,
    Outcome,
    Reason,
    Verdict,
)
from safecancel.policy import (
    COALESCE_MS,
    Action,
    ListingMove,
    RetryPolicy,
    auth_message,
    awaits_query,
    cancel_change,
    cancel_reply,
    chunk_failure,
    due,
    job_status,
    listed_change,
    listing_failure,
    match_listed,
    may_send,
    not_found_change,
    query_change,
    refusals_after,
    refused_too_often,
    send_error,
)
from safecancel.states import OrderState, Provenance, StateTable, Trigger

S, T, K, V, R = OrderState, Trigger, FailureKind, Verdict, Reason
NOW = 1_000_000  # ms
POLICY = RetryPolicy(async_first_query=0.2, max_retry_after=120.0, max_sends=5, attention_queries=20, max_refusals=3)


@dataclass(frozen=True)
class Row:
    """An order row as the journal hands it out (the fields ``policy.OrderFacts`` reads)."""

    pk: int = 1
    state: str = S.SENT
    reason: str | None = None
    attempts: int = 2
    queries: int = 4
    not_found_seen: int = 0
    next_at_ms: int = NOW
    order_id: str = "1"

    @property
    def ref(self) -> OrderRef:
        return OrderRef("BTCUSD_PERP", self.order_id)


class Delays:
    """A deterministic ``Delay``: ``attempt`` seconds, or ``1000 + retry_after`` when the venue asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, float | None]] = []

    def __call__(self, attempt: int, retry_after: float | None) -> float:
        self.calls.append((attempt, retry_after))
        return float(attempt) if retry_after is None else 1000.0 + retry_after


def at(seconds: float) -> int:
    """The due time ``seconds`` after NOW."""
    return NOW + int(seconds * 1000)


def moves(trigger: Trigger, state: str) -> str:
    """Where the step takes the order (observations leave it where it is)."""
    return state if trigger in (T.QUERY, T.NOTE) else StateTable().next_state(state, trigger)


# -- the cancel reply, order by order: every Verdict x the reasons it comes with --------------------

# (verdict, reason) -> (trigger, recorded reason, provenance, due time)
CANCEL_TABLE = [
    (V.CANCELLED, None, T.CONFIRM, None, Provenance.VENUE_RESPONSE, None),
    (V.CANCELLED, R.CANCELLING, T.CONFIRM, R.CANCELLING, Provenance.VENUE_RESPONSE, None),
    (V.FAILED, R.FILLED, T.REJECT, R.FILLED, Provenance.VENUE_RESPONSE, None),
    (V.FAILED, R.EXPIRED, T.REJECT, R.EXPIRED, Provenance.VENUE_RESPONSE, None),
    (V.FAILED, R.REFUSED, T.REJECT, R.REFUSED, Provenance.VENUE_RESPONSE, None),
    # The cancel path believes a "failed / not_found" verdict: the adapters report a cancel reply's
    # "no such order" as unknown (so it is queried); only a query's "not found" needs confirmations.
    (V.FAILED, R.NOT_FOUND, T.REJECT, R.NOT_FOUND, Provenance.VENUE_RESPONSE, None),
    (V.FAILED, None, T.REJECT, R.REFUSED, Provenance.VENUE_RESPONSE, None),  # a refusal without words
    (V.OPEN, None, T.REQUEUE, None, None, at(2)),  # backoff drawn for the order's 2 attempts
    (V.OPEN, R.STILL_OPEN, T.REQUEUE, R.STILL_OPEN, None, at(2)),
    (V.UNKNOWN, R.ACCEPTED, T.LOSE, R.ACCEPTED, None, at(0.2)),  # async venue: give the cancel a moment
    (V.UNKNOWN, R.CANCELLING, T.LOSE, R.CANCELLING, None, at(0.2)),
    (V.UNKNOWN, R.OMITTED, T.LOSE, R.OMITTED, None, NOW),  # query at once
    (V.UNKNOWN, R.AMBIGUOUS, T.LOSE, R.AMBIGUOUS, None, NOW),
    (V.UNKNOWN, R.NO_REPLY, T.LOSE, R.NO_REPLY, None, NOW),
    (V.UNKNOWN, None, T.LOSE, None, None, NOW),
]


def test_the_cancel_table_covers_every_verdict():
    assert {row[0] for row in CANCEL_TABLE} == set(Verdict)


@pytest.mark.parametrize(("verdict", "reason", "trigger", "recorded", "provenance", "next_at"), CANCEL_TABLE)
def test_cancel_reply_per_order(verdict, reason, trigger, recorded, provenance, next_at):
    delays = Delays()
    step = cancel_change(Row(), Outcome(verdict, reason, "c1", "venue words"), 200, NOW, delays, POLICY)
    assert (step.trigger, step.reason, step.provenance, step.next_at_ms) == (trigger, recorded, provenance, next_at)
    assert (step.code, step.message, step.http_status) == ("c1", "venue words", 200)  # the venue's own words
    assert not (step.query or step.not_found or step.unsent)
    assert delays.calls == ([(2, None)] if verdict is V.OPEN else [])  # randomness only where a backoff is due
    assert moves(step.trigger, S.SENT) in S  # a legal move from `sent`


def test_cancel_reply_for_the_chunk_answers_and_queries_what_the_reply_left_out():
    rows = [Row(pk=1, order_id="1"), Row(pk=2, order_id="2"), Row(pk=3, order_id="3")]
    reply = {rows[0].ref: Outcome(V.CANCELLED), rows[2].ref: Outcome(V.FAILED, R.FILLED)}
    d = cancel_reply(rows, reply, 200, NOW, Delays(), POLICY)
    assert [(s.trigger, s.reason) for s in d.steps] == [(T.CONFIRM, None), (T.LOSE, R.OMITTED), (T.REJECT, R.FILLED)]
    assert d.actions == (Action.ANSWERED,)  # an answer about orders: the request itself is fine
    assert d.pause is None


# -- a whole cancel request failed: every FailureKind x Retry-After -----------------------------------

# The chunk's rows have attempts 1 and 3: the due time is drawn once for the chunk (for its most
# attempted order, 3), a rate limit without Retry-After pauses for the first row's backoff (1).
# (kind, retry_after) -> (trigger, reason, note, due time, actions, pause)
CHUNK_TABLE = [
    (K.NOT_PROCESSED, None, T.REQUEUE, None, "not applied: not_processed", at(3), (), None),
    (K.NOT_PROCESSED, 7.0, T.REQUEUE, None, "not applied: not_processed", at(1007), (), None),
    (K.RATE_LIMITED, None, T.REQUEUE, None, "not applied: rate_limited", at(3), (Action.PAUSE,), 1.0),
    (K.RATE_LIMITED, 7.0, T.REQUEUE, None, "not applied: rate_limited", at(1007), (Action.PAUSE,), 7.0),
    (K.RATE_LIMITED, 500.0, T.REQUEUE, None, "not applied: rate_limited", at(1500), (Action.PAUSE,), 120.0),
    (K.CLOCK, None, T.REQUEUE, None, "not applied: clock", at(3), (Action.RESYNC_CLOCK,), None),
    (K.CLOCK, 7.0, T.REQUEUE, None, "not applied: clock", at(1007), (Action.RESYNC_CLOCK,), None),
    (K.AUTH, None, T.REQUEUE, None, "not applied: auth", at(3), (Action.STOP_AUTH,), None),
    (K.AUTH, 7.0, T.REQUEUE, None, "not applied: auth", at(1007), (Action.STOP_AUTH,), None),
    # A refusal of the request is no answer about any order: back to pending, counted as a refusal.
    (
        K.REJECTED,
        None,
        T.REQUEUE,
        None,
        "the request was refused as a whole; nothing applied",
        at(3),
        (Action.REFUSED,),
        None,
    ),
    (
        K.REJECTED,
        7.0,
        T.REQUEUE,
        None,
        "the request was refused as a whole; nothing applied",
        at(3),
        (Action.REFUSED,),
        None,
    ),
    # May have been applied: every order is queried, never re-sent blindly.
    (K.UNKNOWN_OUTCOME, None, T.LOSE, R.NO_REPLY, None, None, (), None),
    (K.UNKNOWN_OUTCOME, 7.0, T.LOSE, R.NO_REPLY, None, None, (), None),
]


def test_the_chunk_table_covers_every_failure_kind():
    assert {row[0] for row in CHUNK_TABLE} == set(FailureKind)


@pytest.mark.parametrize(
    ("kind", "retry_after", "trigger", "reason", "note", "next_at", "actions", "pause"), CHUNK_TABLE
)
def test_chunk_failure(kind, retry_after, trigger, reason, note, next_at, actions, pause):
    rows = [Row(pk=1, attempts=1, order_id="1"), Row(pk=2, attempts=3, order_id="2")]
    failure = Failure(kind, "-1", "venue words", 418, retry_after)
    d = chunk_failure(rows, failure, NOW, Delays(), POLICY)
    assert len(d.steps) == len(rows) and len(set(d.steps)) == 1  # one step, so the chunk goes out again as one
    step = d.steps[0]
    assert (step.trigger, step.reason, step.note, step.next_at_ms) == (trigger, reason, note, next_at)
    assert (d.actions, d.pause) == (actions, pause)
    assert (step.code, step.message, step.http_status) == ("-1", "venue words", 418)
    assert step.provenance is None  # nothing settled
    assert not (step.query or step.unsent)


def test_a_rate_limit_draws_the_pause_before_the_due_time():
    delays = Delays()
    chunk_failure([Row(attempts=1), Row(pk=2, attempts=3, order_id="2")], Failure(K.RATE_LIMITED), NOW, delays, POLICY)
    assert delays.calls == [(1, None), (3, None)]


# -- a cancel request got no reply at all ------------------------------------------------------------

# never_reached_venue -> (trigger, reason, due time, unsent)
SEND_ERROR_TABLE = [
    (True, T.REQUEUE, None, at(3), True),  # provably never left: send again after a backoff; not an attempt
    (False, T.LOSE, R.NO_REPLY, None, False),  # may have arrived: query, never re-send blindly
]


@pytest.mark.parametrize(("never_reached", "trigger", "reason", "next_at", "unsent"), SEND_ERROR_TABLE)
def test_send_error(never_reached, trigger, reason, next_at, unsent):
    rows = [Row(attempts=3), Row(pk=2, attempts=1, order_id="2")]
    err = TransportError("connection refused", venue="htx", never_reached_venue=never_reached)
    d = send_error(rows, err, NOW, Delays())
    assert len(d.steps) == 2 and len(set(d.steps)) == 1
    step = d.steps[0]
    assert (step.trigger, step.reason, step.next_at_ms, step.unsent) == (trigger, reason, next_at, unsent)
    assert step.message == "connection refused"
    assert d.actions == ()


# -- the query of an unknown order: every Verdict x its reasons ---------------------------------------

# The row has 2 attempts and 4 queries: a query that settles nothing is asked again after the backoff
# of its 5th query (5 s). (verdict, reason) -> (trigger, recorded reason, provenance, due time, actions)
ANSWERED = (Action.ANSWERED,)
QUERY_OUTCOME_TABLE = [
    (V.CANCELLED, None, T.CONFIRM, None, Provenance.VENUE_QUERY, None, ANSWERED),
    (V.FAILED, R.FILLED, T.REJECT, R.FILLED, Provenance.VENUE_QUERY, None, ANSWERED),
    (V.FAILED, R.EXPIRED, T.REJECT, R.EXPIRED, Provenance.VENUE_QUERY, None, ANSWERED),
    (V.FAILED, R.REFUSED, T.REJECT, R.REFUSED, Provenance.VENUE_QUERY, None, ANSWERED),
    (V.FAILED, R.NOT_FOUND, T.REJECT, R.NOT_FOUND, Provenance.VENUE_QUERY, None, ANSWERED),  # 1 confirmation
    # Still resting: the cancel never took; send it again after the backoff of its 2 attempts.
    (V.OPEN, None, T.REQUEUE, R.STILL_OPEN, None, at(2), (Action.ANSWERED, Action.REOPENED)),
    (V.UNKNOWN, R.AMBIGUOUS, T.QUERY, R.AMBIGUOUS, None, at(5), ANSWERED),
    (V.UNKNOWN, R.CANCELLING, T.QUERY, R.CANCELLING, None, at(5), ANSWERED),
    (V.UNKNOWN, R.ACCEPTED, T.QUERY, R.ACCEPTED, None, at(5), ANSWERED),
    (V.UNKNOWN, None, T.QUERY, None, None, at(5), ANSWERED),
]


def test_the_query_table_covers_every_verdict():
    assert {row[0] for row in QUERY_OUTCOME_TABLE} == set(Verdict)


@pytest.mark.parametrize(
    ("verdict", "reason", "trigger", "recorded", "provenance", "next_at", "actions"), QUERY_OUTCOME_TABLE
)
def test_query_outcome(verdict, reason, trigger, recorded, provenance, next_at, actions):
    row = Row(state=S.UNKNOWN)
    d = query_change(row, Outcome(verdict, reason, "c2", "status words"), 200, NOW, Delays())
    (step,) = d.steps
    assert (step.trigger, step.reason, step.provenance, step.next_at_ms) == (trigger, recorded, provenance, next_at)
    assert d.actions == actions
    assert step.query  # every answer to a query counts as one
    assert step.not_found == (reason == R.NOT_FOUND)
    assert (step.code, step.message, step.http_status) == ("c2", "status words", 200)
    assert moves(step.trigger, S.UNKNOWN) in S  # a legal move from `unknown`


def test_still_open_after_no_counted_attempt_goes_out_at_once():
    # Only sends that may have reached the venue count: with none, there is nothing to back off from.
    d = query_change(Row(state=S.UNKNOWN, attempts=0), Outcome(V.OPEN), 200, NOW, lambda attempt, retry_after: 9.0)
    assert d.steps[0].next_at_ms == NOW


def test_a_query_draws_its_backoff_first_whatever_the_answer():
    delays = Delays()
    query_change(Row(state=S.UNKNOWN), Outcome(V.OPEN), 200, NOW, delays)
    assert delays.calls == [(5, None), (2, None)]  # the query's own backoff, then the resend's


# (kind, retry_after) -> (due time, actions, pause)
QUERY_FAILURE_TABLE = [
    (K.NOT_PROCESSED, None, at(5), (), None),
    (K.NOT_PROCESSED, 7.0, at(1007), (), None),
    (K.RATE_LIMITED, None, at(5), (Action.PAUSE,), 5.0),  # the query bucket waits until the next query
    (K.RATE_LIMITED, 7.0, at(1007), (Action.PAUSE,), 1007.0),
    (K.CLOCK, None, at(5), (Action.RESYNC_CLOCK,), None),
    (K.CLOCK, 7.0, at(5), (Action.RESYNC_CLOCK,), None),  # re-signed after the re-measure, not later
    (K.AUTH, None, at(5), (Action.STOP_AUTH,), None),
    (K.AUTH, 7.0, at(1007), (Action.STOP_AUTH,), None),
    (K.REJECTED, None, at(5), (Action.REFUSED,), None),
    (K.REJECTED, 7.0, at(1007), (Action.REFUSED,), None),
    (K.UNKNOWN_OUTCOME, None, at(5), (), None),
    (K.UNKNOWN_OUTCOME, 7.0, at(1007), (), None),
]


def test_the_query_failure_table_covers_every_failure_kind():
    assert {row[0] for row in QUERY_FAILURE_TABLE} == set(FailureKind)


@pytest.mark.parametrize(("kind", "retry_after", "next_at", "actions", "pause"), QUERY_FAILURE_TABLE)
def test_query_failure(kind, retry_after, next_at, actions, pause):
    # A failed query settles nothing: the order stays unknown and is asked again; no answer, no reset.
    d = query_change(Row(state=S.UNKNOWN), Failure(kind, "-2", "query words", 429, retry_after), 200, NOW, Delays())
    (step,) = d.steps
    assert (step.trigger, step.reason, step.provenance, step.next_at_ms) == (T.QUERY, None, None, next_at)
    assert (d.actions, d.pause) == (actions, pause)
    assert (step.code, step.message, step.http_status) == ("-2", "query words", 429)  # the failure's status
    assert step.query and not step.not_found


@pytest.mark.parametrize("never_reached", [True, False])
def test_query_without_a_reply(never_reached):
    # A query changes nothing at the venue: with or without a reply it is simply asked again.
    err = TransportError("read timeout", venue="bitget", never_reached_venue=never_reached)
    d = query_change(Row(state=S.UNKNOWN), err, None, NOW, Delays())
    (step,) = d.steps
    assert (step.trigger, step.reason, step.next_at_ms, step.message) == (T.QUERY, None, at(5), "read timeout")
    assert step.query and d.actions == ()


# -- "no such order": confirmations and the forget horizon --------------------------------------------

FORGET_NOTE = "the venue no longer answers for orders this old; settle with `safecancel resolve`"
# (confirmations needed, answers seen before, job age, forget_after_s) -> (trigger, reason, note)
NOT_FOUND_TABLE = [
    (1, 0, 60.0, None, T.REJECT, R.NOT_FOUND, None),
    (3, 0, 60.0, None, T.QUERY, R.NOT_FOUND, "not found 1/3"),
    (3, 1, 60.0, None, T.QUERY, R.NOT_FOUND, "not found 2/3"),
    (3, 2, 60.0, None, T.REJECT, R.NOT_FOUND, None),  # the third answer in a row settles it
    (1, 0, 7200.0, 7200.0, T.REJECT, R.NOT_FOUND, None),  # at the horizon the venue is still believed
    (1, 0, 7200.5, 7200.0, T.QUERY, R.FORGOTTEN, FORGET_NOTE),  # past it, an operator decides
    (3, 2, 7200.5, 7200.0, T.QUERY, R.FORGOTTEN, FORGET_NOTE),
    (1, 0, 10 * 86400.0, None, T.REJECT, R.NOT_FOUND, None),  # a venue that never forgets
]


@pytest.mark.parametrize(("needed", "seen", "age", "forget", "trigger", "reason", "note"), NOT_FOUND_TABLE)
def test_not_found(needed, seen, age, forget, trigger, reason, note):
    row = Row(state=S.UNKNOWN, not_found_seen=seen)
    answer = Outcome(V.FAILED, REASON_NOT_FOUND, "-2013", "Order does not exist.")
    step = not_found_change(row, answer, 400, at(5), job_age_s=age, confirmations=needed, forget_after_s=forget)
    assert (step.trigger, step.reason, step.note) == (trigger, reason, note)
    assert step.query and step.not_found  # counted, so consecutive answers add up
    settled = trigger is T.REJECT
    assert step.provenance == (Provenance.VENUE_QUERY if settled else None)
    assert step.next_at_ms == (None if settled else at(5))
    assert (step.code, step.http_status) == ("-2013", 400)
    # The same rule through the query path, with the venue's facts passed in.
    d = query_change(row, answer, 400, NOW, Delays(), job_age_s=age, confirmations=needed, forget_after_s=forget)
    assert d.steps == (step,)


# -- refusals in a row ------------------------------------------------------------------------------

# (refusals before, actions) -> refusals after
REFUSAL_TABLE = [
    (0, (Action.REFUSED,), 1),
    (2, (Action.REFUSED,), 3),
    (2, (Action.ANSWERED,), 0),  # any answer about an order: the request itself is fine
    (2, (Action.ANSWERED, Action.REOPENED), 0),
    (2, (), 2),  # no reply, or a failure that is no refusal: neither
    (2, (Action.PAUSE,), 2),
    (2, (Action.RESYNC_CLOCK,), 2),
    (2, (Action.STOP_AUTH,), 2),
]


@pytest.mark.parametrize(("before", "actions", "after"), REFUSAL_TABLE)
def test_refusals_after(before, actions, after):
    assert refusals_after(before, actions) == after


def test_refusals_count_to_the_limit():
    n = 0
    seen = []
    for actions in [chunk_failure([Row()], Failure(K.REJECTED), NOW, Delays(), POLICY).actions] * 3:
        n = refusals_after(n, actions)
        seen.append(refused_too_often(n, POLICY))
    assert seen == [False, False, True]


# -- the job's status at the end of a run, with its plain-words text ---------------------------------

VENUE, URL, JOB = "binance_coinm", "https://dapi.example", "job-1"
PENDING, UNKNOWN, SENT = Row(pk=1, state=S.PENDING), Row(pk=2, state=S.UNKNOWN), Row(pk=3, state=S.SENT)
STUCK = Row(pk=9, state=S.PENDING)  # reopened max_sends times below
FORGOT = Row(pk=10, state=S.UNKNOWN, reason=R.FORGOTTEN)
UNANSWERED = Row(pk=11, state=S.UNKNOWN, queries=20)
WRONG_URL = Failure(K.REJECTED, None, "Not Found", 404)
BAD_REQUEST = Failure(K.REJECTED, "-1104", "Not all sent parameters were read", 400)
BARE = Failure(K.REJECTED, None, None, 400)

STATUS_TABLE = [
    ("nothing left", [], {}, JobStatus.DONE, None),
    (
        "auth",
        [PENDING],
        {"auth_error": "binance_coinm refused the credentials (-2014: API-key format invalid.)"},
        JobStatus.OPEN,
        "binance_coinm refused the credentials (-2014: API-key format invalid.); fix the API key or secret, "
        "then run `safecancel resume`",
    ),
    (
        "wrong base url",
        [PENDING, UNKNOWN],
        {"refusals": 3, "refusal": WRONG_URL},
        JobStatus.NEEDS_ATTENTION,
        "binance_coinm refused the request as a whole 3 times in a row (HTTP 404: Not Found); nothing was applied, "
        "2 orders are unsettled: the base URL is https://dapi.example; to run the job at the right one: "
        "`safecancel resume --job job-1 --base-url URL`",
    ),
    (
        "refused request",
        [PENDING],
        {"refusals": 4, "refusal": BAD_REQUEST},
        JobStatus.NEEDS_ATTENTION,
        "binance_coinm refused the request as a whole 4 times in a row (HTTP 400: -1104 Not all sent parameters "
        "were read); nothing was applied, 1 orders are unsettled: check the request and the account, "
        "then `safecancel resume`",
    ),
    (
        "refused without words",
        [PENDING],
        {"refusals": 3, "refusal": BARE},
        JobStatus.NEEDS_ATTENTION,
        "binance_coinm refused the request as a whole 3 times in a row (HTTP 400: no details); nothing was applied, "
        "1 orders are unsettled: check the request and the account, then `safecancel resume`",
    ),
    (
        "refused, under the limit",
        [PENDING],
        {"refusals": 2, "refusal": BAD_REQUEST},
        JobStatus.OPEN,
        "the run ended before every order was settled (1 pending); `safecancel resume` continues it",
    ),
    (
        "still open",
        [STUCK, PENDING],
        {},
        JobStatus.NEEDS_ATTENTION,
        "1 orders are still open at binance_coinm after 5 cancels each",
    ),
    (
        "forgotten",
        [FORGOT],
        {},
        JobStatus.NEEDS_ATTENTION,
        "1 orders are too old for binance_coinm to answer for: settle them with `safecancel resolve`",
    ),
    (
        "unanswered",
        [UNANSWERED, UNKNOWN],
        {},
        JobStatus.NEEDS_ATTENTION,
        "1 orders could not be confirmed after 20 queries",
    ),
    (
        "all three",
        [STUCK, FORGOT, UNANSWERED],
        {},
        JobStatus.NEEDS_ATTENTION,
        "1 orders are still open at binance_coinm after 5 cancels each; 1 orders are too old for binance_coinm to "
        "answer for: settle them with `safecancel resolve`; 1 orders could not be confirmed after 20 queries",
    ),
    (
        "deadline",
        [PENDING, UNKNOWN, SENT, Row(pk=4, state=S.UNKNOWN)],
        {},
        JobStatus.OPEN,
        "the run ended before every order was settled (1 pending, 1 sent, 2 unknown); `safecancel resume` continues it",
    ),
    (
        "deadline after a transport error",
        [UNKNOWN],
        {"last_error": "read timeout"},
        JobStatus.OPEN,
        "the run ended before every order was settled (1 unknown) (last error: read timeout); "
        "`safecancel resume` continues it",
    ),
]


def test_the_status_table_reaches_every_status():
    assert {row[3] for row in STATUS_TABLE} == set(JobStatus)


@pytest.mark.parametrize(("case", "rows", "extra", "status", "text"), STATUS_TABLE, ids=[r[0] for r in STATUS_TABLE])
def test_job_status(case, rows, extra, status, text):
    reopened = {STUCK.pk: POLICY.max_sends, PENDING.pk: POLICY.max_sends - 1}
    got = job_status(rows, venue=VENUE, base_url=URL, job_id=JOB, policy=POLICY, reopened=reopened, **extra)
    assert got == (status, text)


@pytest.mark.parametrize(
    ("on_query", "text"),
    [
        (False, "htx refused the credentials (403: Signature not valid); the job stays open"),
        (True, "htx refused the credentials on a query (403)"),
    ],
)
def test_auth_message(on_query, text):
    assert auth_message("htx", Failure(K.AUTH, None, "Signature not valid", 403), on_query=on_query) == text


# -- what the loop works on next --------------------------------------------------------------------


def test_due_queries_first_and_leaves_forgotten_orders_to_an_operator():
    rows = [Row(pk=1, state=S.UNKNOWN), Row(pk=2, state=S.PENDING), FORGOT]
    todo = due(rows, NOW, {}, POLICY)
    assert ([r.pk for r in todo.query], todo.send, todo.wake_at_ms) == ([1], (), None)
    assert [awaits_query(r) for r in rows] == [True, False, False]


def test_due_sends_and_coalesces_what_is_due_very_soon():
    rows = [
        Row(pk=1, state=S.PENDING, next_at_ms=NOW + 1, order_id="1"),  # due within the coalescing window
        Row(pk=2, state=S.PENDING, next_at_ms=NOW, order_id="2"),
        Row(pk=3, state=S.PENDING, next_at_ms=NOW + COALESCE_MS + 1, order_id="3"),  # later
        Row(pk=6, state=S.PENDING, next_at_ms=NOW + COALESCE_MS, order_id="6"),  # the window's last ms
        Row(pk=4, state=S.PENDING, next_at_ms=NOW, order_id="4"),  # sent max_sends times: not again
        Row(pk=5, state=S.UNKNOWN, next_at_ms=NOW + 10, order_id="5"),  # not yet due
    ]
    todo = due(rows, NOW, {4: POLICY.max_sends}, POLICY)
    assert ([r.pk for r in todo.send], todo.query, todo.wake_at_ms) == ([2, 1, 6], (), None)


def test_due_waits_for_the_earliest_order_or_ends_the_run():
    rows = [Row(pk=1, state=S.PENDING, next_at_ms=NOW + 5000), Row(pk=2, state=S.UNKNOWN, next_at_ms=NOW + 900)]
    assert due(rows, NOW, {}, POLICY).wake_at_ms == NOW + 900
    stuck = [Row(pk=1, state=S.PENDING, next_at_ms=NOW - 1)]
    assert due(stuck, NOW, {1: POLICY.max_sends}, POLICY).wake_at_ms is None  # nothing will ever be due
    assert may_send(stuck[0], {1: POLICY.max_sends - 1}, POLICY)


# -- backoff --------------------------------------------------------------------------------------


class TopRng(random.Random):
    """The most jitter can give: the full backoff."""

    def uniform(self, a: float, b: float) -> float:
        return b


# (attempt, retry_after) -> seconds, with base 0.2, cap 10, Retry-After cap 120
DELAY_TABLE = [
    (1, None, 0.2),
    (3, None, 0.8),
    (0, None, 0.2),  # no attempt yet: the base delay
    (20, None, 10.0),  # capped
    (1, 2.0, 2.0),  # never sooner than the venue asked
    (20, 2.0, 10.0),  # ... and never sooner than the backoff either
    (1, 300.0, 120.0),  # an absurd Retry-After is capped
]


@pytest.mark.parametrize(("attempt", "retry_after", "seconds"), DELAY_TABLE)
def test_retry_policy_delay(attempt, retry_after, seconds):
    assert RetryPolicy().delay(attempt, TopRng(), retry_after) == pytest.approx(seconds)


def test_jitter_only_shortens_the_backoff():
    rng = random.Random(7)
    assert all(0.4 <= RetryPolicy().delay(3, rng) <= 0.8 for _ in range(200))


# -- the vocabulary keeps its stored strings --------------------------------------------------------


def test_the_enums_keep_the_stored_strings():
    assert {r.value for r in Reason} == {
        "filled",
        "not_found",
        "venue_refused",
        "expired",
        "accepted",
        "omitted",
        "ambiguous",
        "no_reply",
        "cancelling",
        "still_open",
        "venue_forgot",
        "operator",
    }
    assert [s.value for s in JobStatus] == ["open", "done", "needs_attention"]
    assert R.FORGOTTEN == "venue_forgot" and f"{JobStatus.NEEDS_ATTENTION}" == "needs_attention"


# -- listings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CidRow(Row):
    client_id: str = "c-1"

    @property
    def ref(self) -> OrderRef:
        return OrderRef("BTCUSD_PERP", client_order_id=self.client_id)


def listed(
    order_id: str | None = "1",
    verdict: Verdict = V.OPEN,
    reason: str | None = None,
    *,
    cid: str | None = None,
    symbol: str = "BTCUSD_PERP",
    word: str = "NEW",
) -> ListedOrder:
    return ListedOrder(symbol, order_id, cid, Outcome(verdict, reason, None, word))


LISTING_FAILURES = [
    # (failure, attempt, move, delay, pause)
    (TransportError("timed out", never_reached_venue=False, venue="x"), 1, ListingMove.RETRY, 1.0, None),
    (Failure(K.AUTH, "-2015", "bad key", 401), 1, ListingMove.STOP_AUTH, 0.0, None),
    (Failure(K.REJECTED, None, "404", 404), 1, ListingMove.RETRY, 1.0, None),
    (Failure(K.REJECTED, None, "404", 404), 3, ListingMove.STOP_REJECTED, 0.0, None),
    (Failure(K.CLOCK, "-1021", "ts", 400), 1, ListingMove.RESYNC_CLOCK, 1.0, None),
    (Failure(K.CLOCK, "-1021", "ts", 400), 3, ListingMove.RETRY, 3.0, None),
    (Failure(K.RATE_LIMITED, "-1003", "slow", 429, 7.0), 2, ListingMove.RETRY, 1007.0, 1007.0),
    (Failure(K.UNKNOWN_OUTCOME, None, "502", 502), 2, ListingMove.RETRY, 2.0, None),
    (Failure(K.NOT_PROCESSED, None, "busy", 200), 4, ListingMove.RETRY, 4.0, None),
]


@pytest.mark.parametrize(("failure", "attempt", "move", "delay", "pause"), LISTING_FAILURES)
def test_listing_failure(failure, attempt, move, delay, pause) -> None:
    step = listing_failure(failure, attempt, Delays(), POLICY)
    assert (step.move, step.delay, step.pause) == (move, delay, pause)


def test_every_failure_kind_has_a_listing_row() -> None:
    assert {f.kind for f, *_ in LISTING_FAILURES if isinstance(f, Failure)} == set(FailureKind)


def test_match_listed_prefers_a_final_word_and_refuses_an_ambiguous_client_id() -> None:
    rows = [
        Row(pk=1, order_id="11", state=S.UNKNOWN),
        Row(pk=2, order_id="12", state=S.UNKNOWN),
        Row(pk=3, order_id="13", state=S.UNKNOWN),
        CidRow(pk=4, client_id="dup", state=S.UNKNOWN),
        CidRow(pk=5, client_id="solo", state=S.UNKNOWN),
        Row(pk=6, order_id="16", state=S.UNKNOWN),
    ]
    sightings = [
        (0, listed("11", V.CANCELLED, word="CANCELED")),
        (1, listed("11", V.OPEN)),  # a later page shows it open: the final word stands
        (0, listed("12", V.OPEN)),
        (1, listed("12", V.UNKNOWN, R.CANCELLING, word="canceling")),  # later and weightier
        (0, listed("13", V.FAILED, R.NOT_FOUND)),  # a listing never proves "not found"
        (0, listed("100", V.OPEN, cid="dup")),
        (0, listed("101", V.CANCELLED, cid="dup")),  # one client id, two orders
        (0, listed("102", V.FAILED, R.FILLED, cid="solo", word="FILLED")),
        (0, listed("16", V.CANCELLED, symbol="ETHUSD_PERP")),  # the same id on another symbol
    ]
    got = match_listed(rows, sightings)
    assert {pk: (tag, o.status.verdict) for pk, (tag, o) in got.items()} == {
        1: (0, V.CANCELLED),
        2: (1, V.UNKNOWN),
        5: (0, V.FAILED),
    }


def test_match_listed_ignores_symbol_case() -> None:
    row = Row(pk=1, order_id="7", state=S.UNKNOWN)
    assert 1 in match_listed([row], [(0, listed("7", symbol="btcusd_perp"))])


@pytest.mark.parametrize(
    ("verdict", "reason", "trigger", "moved_to"),
    [
        (V.CANCELLED, None, T.CONFIRM, S.CANCELLED),
        (V.FAILED, R.FILLED, T.REJECT, S.FAILED),
        (V.OPEN, None, T.REQUEUE, S.PENDING),
        (V.UNKNOWN, R.CANCELLING, T.QUERY, S.UNKNOWN),
    ],
)
def test_a_listed_order_moves_as_a_query_with_the_same_answer_would(verdict, reason, trigger, moved_to) -> None:
    row = Row(state=S.UNKNOWN)
    order = listed("1", verdict, reason, word="w")
    d = listed_change(row, order, NOW, Delays(), note="seen on the history listing")
    q = query_change(row, order.status, 200, NOW, Delays())
    (step,) = d.steps
    assert step.trigger is trigger and moves(step.trigger, row.state) == moved_to
    assert step.note == "seen on the history listing" and step.query
    assert (step.reason, step.provenance, step.next_at_ms, d.actions) == (
        q.steps[0].reason,
        q.steps[0].provenance,
        q.steps[0].next_at_ms,
        q.actions,
    )
    if trigger in (T.CONFIRM, T.REJECT):
        assert step.provenance is Provenance.VENUE_QUERY
    assert IdKind.ORDER_ID is row.ref.kind
