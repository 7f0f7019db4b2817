"""Running one job: claim -> recover -> reconcile unknowns -> write ahead -> send -> record, until done.

The rules that keep every order accounted for:
- ``sent`` is committed before a request leaves; the reply's outcomes are committed after it returns;
  no transaction spans network I/O.
- Only a request that provably never reached the venue is sent again blindly. Anything that may have
  arrived makes its orders ``unknown``, and an ``unknown`` order is settled only by querying the venue.
- Neither a timer nor running out of retries ever makes an order terminal: when the deadline comes,
  the job stays ``open`` and ``resume`` continues it.

This module does the I/O: the loop, the thread pool, the lease, the exchanges and the journal writes.
What an answer means for an order, and what to do next, is decided by the pure functions of
:mod:`safecancel.policy`; the engine records their steps and carries out their actions.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from .clock import Clock
from .errors import AuthError, ConcurrentUpdate, InputError, TransportError, VenueError, VenueRejected
from .link import DEADLINE_GRACE_S, VenueLink, evidence, exchange, sync_clock
from .listing import Lister
from .model import (
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    JobStatus,
    ListedOrder,
    ListKind,
    Outcome,
    Verdict,
)
from .policy import (
    Action,
    Decision,
    RetryPolicy,
    auth_message,
    awaits_query,
    cancel_reply,
    chunk_failure,
    due,
    job_status,
    listed_change,
    match_listed,
    query_change,
    refusals_after,
    refused_too_often,
    send_error,
    unsent,
)
from .states import OrderState, Trigger
from .store.rows import Change, Evidence, OrderRow

if TYPE_CHECKING:  # annotations only: the journal's modules load SQLAlchemy (start-up time)
    from .store import Journal
    from .store.changes import Group
from .transport import TokenBucket, Transport

log = logging.getLogger("safecancel.engine")
S = OrderState
# Bulk confirmation reads the venue's recent history from this long before the job was created (the
# orders were placed before it; the adapter clips this to what the venue keeps) ...
LISTING_LOOKBACK_MS = 24 * 3600 * 1000
# ... per symbol while the orders to settle span at most this many symbols (else one listing of all) ...
LISTING_SYMBOLS = 4
# ... and stops once every order is seen or after this many pages per page of orders it looks for.
LISTING_PAGES_PER_PAGE = 2
LISTING_ATTEMPTS = 3  # a page that fails this often ends the bulk step: single queries take over
MAX_WINDOW_CHUNKS = 8  # chunks marked `sent` in one commit, at most ...
WINDOW_SECONDS = 0.5  # ... and no more than the venue's rate lets out in this long
MAX_QUERY_WINDOW = 50  # query answers recorded in one commit, at most (also bounded by WINDOW_SECONDS)

# How a whole-request failure reads in a log line.
_FAILED = {
    FailureKind.RATE_LIMITED: "rate limited",
    FailureKind.NOT_PROCESSED: "not processed",
    FailureKind.CLOCK: "timestamp rejected",
    FailureKind.REJECTED: "refused as a whole",
    FailureKind.UNKNOWN_OUTCOME: "outcome unclear",
    FailureKind.AUTH: "credentials refused",
}


def _tally(counts: Mapping[str, int]) -> str:
    """Orders per state, for a log line: ``3 cancelled, 1 unknown``."""
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no orders"


def _said(answer: Failure | TransportError) -> str:
    """What the venue (or the wire) said, for a log line: never headers, never the query."""
    if isinstance(answer, TransportError):
        return str(answer)  # the method and path, the failure's type: no query, no header
    head = ", ".join(x for x in (f"HTTP {answer.http_status}" if answer.http_status else None, answer.code) if x)
    text = (answer.message or "")[:200]
    return f"{head}: {text}" if head and text else head or text or answer.kind.value


def _wait_s(d: Decision, now_ms: int) -> float:
    """Seconds until the decision's orders are due again (its first step's due time)."""
    at = min((s.next_at_ms for s in d.steps if s.next_at_ms is not None), default=now_ms)
    return max(0.0, (at - now_ms) / 1000)


class JobRunner:
    """Runs one job to completion or to its deadline. Create one per run."""

    def __init__(
        self,
        journal: Journal,
        link: VenueLink,
        transport: Transport,
        clock: Clock,
        rng: random.Random,
        policy: RetryPolicy,
        owner: str,
        *,
        lease_ttl_ms: int = 30_000,
        workers: int = 4,
        on_progress: Callable[[str, str, dict[str, int]], None] | None = None,
        proc: str | None = None,
        is_dead: Callable[[str | None, str | None], bool] | None = None,
    ) -> None:
        self.journal = journal
        self.link = link
        self.venue = link.adapter
        self.transport = transport
        self.clock = clock
        self.rng = rng
        self._rng_lock = threading.Lock()
        self.policy = policy
        self.owner = owner
        self.lease_ttl_ms = lease_ttl_ms
        self.workers = max(1, workers)
        self.on_progress = on_progress
        self._auth_failure: AuthError | None = None
        # "The venue says it is still open" answers per order in this run. Only these count against
        # max_sends: a send that never reached the venue is no evidence that cancelling fails, and
        # a resume starts with a fresh budget.
        self._reopened: dict[int, int] = {}
        self._reopened_lock = threading.Lock()
        self._renewed_ms = 0  # when this run last extended its lease
        self._lease_lock = threading.Lock()
        self.proc = proc
        self.is_dead = is_dead
        self._lease_lost = False
        # Requests the venue refused as a whole, in a row (reset by any answer about an order).
        self._refusals = 0
        self._refusal: Failure | None = None
        self._last_error: str | None = None  # the last transport failure, to say why a job stayed open
        self._attention_text: str | None = None  # why the job stopped short, as recorded by _finish
        self._job_id = ""
        self._sweeps_decide = False
        self._started = 0.0  # when this run started (monotonic), for the log line that ends it
        self._deadline: float | None = None  # monotonic seconds; None: no deadline
        self._deadline_passed = False  # the run stopped (or skipped work) because the deadline came
        # A window's replies, recorded with the next window's write-ahead (one commit per window): see
        # _send_window. Flushed at the end of every pass of sends and before the run ends.
        self._unrecorded: list[Group] = []
        self._unrecorded_at = 0.0

    # -- helpers ----------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def _keep_lease(self, job_id: str) -> None:
        """Extend the lease once a third of it has passed, so a live runner is never taken for dead.

        Only the write-ahead renewed it before: a run busy querying ``unknown`` orders (or waiting
        out backoffs) lost its lease after ``lease_ttl`` and a second runner took the job over while
        the first was still working it. Raises ConcurrentUpdate if another runner took it anyway.
        """
        now_ms = self._now_ms()
        with self._lease_lock:
            if self._lease_lost:
                raise ConcurrentUpdate(f"lease on job {job_id} was lost by {self.owner}: another runner took it over")
            if now_ms - self._renewed_ms < self.lease_ttl_ms // 3:
                return
            try:
                self.journal.heartbeat(job_id, self.owner, now_ms, self.lease_ttl_ms)
            except ConcurrentUpdate:
                self._lease_lost = True
                raise
            self._renewed_ms = now_ms

    def _left(self) -> float | None:
        """Seconds until the deadline (negative once it passed); None without one."""
        return None if self._deadline is None else self._deadline - self.clock.monotonic()

    def _out_of_time(self) -> bool:
        """The deadline has passed: nothing more is sent or asked (checked before every request)."""
        left = self._left()
        if left is not None and left <= 0:
            self._deadline_passed = True
            return True
        return False

    def _bounded(self, req: HttpRequest) -> HttpRequest:
        """The request with its timeout capped by the time left (plus a grace), so one slow reply
        cannot hold the call long past its deadline."""
        left = self._left()
        return req if left is None else replace(req, timeout=max(0.0, left) + DEADLINE_GRACE_S)

    def _paced(self, job_id: str, bucket: TokenBucket) -> bool:
        """Wait for the venue's rate (or its Retry-After pause), renewing the lease while waiting;
        False if the deadline came first (nothing may be sent then).

        A pause can outlast the lease (``Retry-After: 40`` against a 30 s lease): waiting in slices
        keeps a live runner from being taken for dead, and the check after the wait stops a runner
        whose lease was taken anyway (say, the process was suspended) before it sends anything more.
        The slices are also cut at the deadline, so a long pause or a slow rate never keeps a bot
        waiting past the time it gave.
        """
        while True:
            if self._out_of_time():
                return False
            left = self._left()
            wait = self.lease_ttl_ms / 3000 if left is None else min(self.lease_ttl_ms / 3000, left)
            if bucket.acquire(max_wait=wait):
                break
            self._keep_lease(job_id)
        self._keep_lease(job_id)
        return True

    def _delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The policy's :data:`~safecancel.policy.Delay`: backoff with this run's rng (shared by threads)."""
        with self._rng_lock:
            return self.policy.delay(attempt, self.rng, retry_after)

    def _evidence(self, req: HttpRequest, resp: HttpResponse | None, error: str | None, at: float) -> Evidence:
        return evidence(self.venue, req, resp, error, at)

    def _exchange(self, job_id: str, req: HttpRequest) -> tuple[HttpResponse | None, TransportError | None, float]:
        return exchange(self.venue, self.transport, self.clock, req)

    def _sync_clock(self, job_id: str, failed: HttpResponse | None = None) -> None:
        """Measure the venue's clock offset (first use, or after a timestamp rejection) and record it."""
        left = self._left()
        timeout = None if left is None else max(0.0, left) + DEADLINE_GRACE_S
        ev, note = sync_clock(self.link, self.transport, self.clock, failed, timeout=timeout)
        if ev is not None:
            self.journal.record_exchange(job_id, ev, self.clock.now(), note, Trigger.CLOCK)

    def _resync_clock(self, job_id: str, failed: HttpResponse | None) -> None:
        """After a timestamp rejection is recorded (so the clock event follows it): measure again."""
        self.link.server_clock.invalidate()
        self._sync_clock(job_id, failed)

    # -- the loop ----------------------------------------------------------------------------

    def run(self, job_id: str, deadline: float | None) -> None:
        """Drive the job until every order is terminal or the monotonic ``deadline`` passes."""
        self._job_id = job_id
        self._deadline = deadline
        now = self.clock.now()
        job = self.journal.get_job(job_id)
        self._job_created = datetime.fromisoformat(job.created_at.replace("Z", "+00:00")).timestamp() if job else now
        # A kill switch is done only when its sweeps have listed the scope empty, which is theirs to say:
        # a run that settles every order found so far leaves it open (a crash then, and resume sweeps).
        self._sweeps_decide = job is not None and job.kind is not None
        recovered = self.journal.acquire(
            job_id, self.owner, int(now * 1000), self.lease_ttl_ms, now, proc=self.proc, is_dead=self.is_dead
        )
        self._renewed_ms = int(now * 1000)
        self._started = self.clock.monotonic()
        if recovered:
            log.warning("job %s: %d orders were in flight when the last run stopped; querying them", job_id, recovered)
        if log.isEnabledFor(logging.INFO):
            counts = self.journal.counts(job_id)
            log.info(
                "job %s: run started on %s: %d orders (%s)",
                job_id,
                self.venue.name,
                sum(counts.values()),
                _tally(counts),
            )
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="safecancel") if self.workers > 1 else None
        try:
            if not self.link.server_clock.measured:
                self._sync_clock(job_id)
            while True:
                if self._auth_failure is not None:
                    raise self._auth_failure
                if refused_too_often(self._refusals, self.policy):
                    break  # the venue keeps refusing the request itself: sending more will not help
                self._keep_lease(job_id)
                active = self.journal.orders(job_id, (S.PENDING, S.UNKNOWN))
                self._progress(job_id)
                if not active:
                    break
                if self._out_of_time():
                    break
                todo = due(active, self._now_ms(), self._reopened, self.policy)
                if todo.query:
                    due_pks = {r.pk for r in todo.query}
                    waiting = [r for r in active if awaits_query(r) and r.pk not in due_pks]
                    rest = self._from_listings(job_id, todo.query, waiting, deadline)
                    window = self._query_window()
                    for i in range(0, len(rest), window):
                        if self._out_of_time():
                            break  # the orders not asked stay `unknown`, for the next run
                        self._reconcile_window(job_id, rest[i : i + window], pool)
                    continue  # re-read: a reconciled order may have gone back to pending
                if todo.send:
                    refs = [o.ref for o in todo.send]
                    by_ref = dict(zip(refs, todo.send, strict=True))
                    chunks = [[by_ref[r] for r in c] for c in self.venue.plan_chunks(refs)]
                    window = self._window()
                    for i in range(0, len(chunks), window):
                        if self._out_of_time():
                            break  # not marked `sent`: these orders stay `pending`, as they truly are
                        self._send_window(job_id, chunks[i : i + window], pool)
                    self._record_unrecorded(job_id)
                    continue
                if todo.wake_at_ms is None:
                    break  # every remaining order was sent max_sends times and is still open: needs attention
                wake = (todo.wake_at_ms - self._now_ms()) / 1000
                if deadline is not None:
                    wake = min(wake, deadline - self.clock.monotonic())
                # Never sleep past a lease renewal.
                nap = max(0.0, min(wake, self.policy.max_delay, self.lease_ttl_ms / 3000))
                log.debug("job %s: nothing due; waiting %.2f s (backoff)", job_id, nap)
                self.clock.sleep(nap)
        except ConcurrentUpdate as exc:
            self._lease_lost = True
            log.warning("job %s: %s; stopping this runner", job_id, exc)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            if not self._lease_lost:  # the job is another runner's now: its status is not ours to write
                self._record_unrecorded(job_id)
                self._finish(job_id)
        if refused_too_often(self._refusals, self.policy) and self._refusal is not None:
            f = self._refusal
            raise VenueRejected(
                self._attention_text or "the venue refused the requests",
                venue=self.venue.name,
                http_status=f.http_status,
                venue_code=f.code,
                venue_message=f.message,
            )

    def _map(self, pool: ThreadPoolExecutor | None, fn: Callable, items: Sequence) -> list:
        if pool is None or len(items) == 1:
            return [fn(item) for item in items]
        return [fut.result() for fut in [pool.submit(fn, item) for item in items]]

    def _progress(self, job_id: str) -> None:
        if self.on_progress is not None:
            self.on_progress(job_id, self.venue.name, self.journal.counts(job_id))

    def _finish(self, job_id: str) -> None:
        rows = self.journal.orders(job_id, (S.PENDING, S.SENT, S.UNKNOWN))
        status, why = job_status(
            rows,
            venue=self.venue.name,
            base_url=self.venue.base_url,
            job_id=self._job_id,
            policy=self.policy,
            reopened=self._reopened,
            auth_error=str(self._auth_failure) if self._auth_failure is not None else None,
            refusals=self._refusals,
            refusal=self._refusal,
            last_error=self._last_error,
            deadline_passed=self._deadline_passed,
        )
        self._attention_text = why
        if why and status != JobStatus.NEEDS_ATTENTION:  # needs_attention: set_status says it (safecancel.store)
            log.warning("job %s %s: %s", job_id, status, why)
        if status == JobStatus.DONE and self._sweeps_decide:
            status, why = JobStatus.OPEN, "every order found so far is settled; the scope is not listed empty yet"
        self.journal.set_status(job_id, status, self.clock.now(), why)
        self.journal.release(job_id, self.owner)
        if log.isEnabledFor(logging.INFO):
            elapsed = self.clock.monotonic() - self._started
            log.info(
                "job %s: run ended %s after %.1f s: %s", job_id, status, elapsed, _tally(self.journal.counts(job_id))
            )
        self._progress(job_id)

    # -- applying a decision -----------------------------------------------------------------

    @staticmethod
    def _changes(rows: Sequence[OrderRow], d: Decision) -> list[Change]:
        """The policy's steps as the journal's changes of these rows (keywords: Change's fields may move)."""
        return [
            Change(
                row,
                s.trigger,
                reason=s.reason,
                provenance=s.provenance,
                code=s.code,
                message=s.message,
                next_at_ms=s.next_at_ms,
                http_status=s.http_status,
                query=s.query,
                note=s.note,
                not_found=s.not_found,
                unsent=s.unsent,
            )
            for row, s in zip(rows, d.steps, strict=True)
        ]

    def _act(self, d: Decision, answer: object, bucket: TokenBucket, row: OrderRow | None = None) -> None:
        """Carry out a decision's actions at once, in the worker that met the answer, before recording.

        At once, because they steer the other workers: a pause holds the bucket they share, and an
        auth failure or a refusal stops them from sending more. Only RESYNC_CLOCK waits for the record.
        """
        if not d.actions:
            return
        failure = answer if isinstance(answer, Failure) else None
        with self._reopened_lock:
            self._refusals = refusals_after(self._refusals, d.actions)
            if Action.REFUSED in d.actions:
                self._refusal = failure
        for action in d.actions:
            if action is Action.PAUSE and d.pause is not None:
                bucket.pause(d.pause)
            elif action is Action.REOPENED and row is not None:
                with self._reopened_lock:
                    self._reopened[row.pk] = self._reopened.get(row.pk, 0) + 1
            elif action is Action.STOP_AUTH and failure is not None:
                self._auth_failure = AuthError(
                    auth_message(self.venue.name, failure, on_query=row is not None),
                    venue=self.venue.name,
                    http_status=failure.http_status,
                    venue_code=failure.code,
                    venue_message=failure.message,
                )

    # -- one chunk ---------------------------------------------------------------------------

    def _window(self) -> int:
        """How many chunks share one write-ahead commit.

        One commit (an fsync) per chunk costs more than the request on a fast venue, so a window of
        chunks is marked ``sent`` together. The window is what the venue's rate lets out within
        about half a second, so no order sits in ``sent`` long before its request leaves (after a
        crash every ``sent`` order must be queried).
        """
        per_second = self.link.cancel_bucket.rate
        return max(1, self.workers if self.workers > 1 else 1, min(MAX_WINDOW_CHUNKS, int(per_second * WINDOW_SECONDS)))

    def _query_window(self) -> int:
        """How many queries' answers share one commit: what the query rate lets out in about half a
        second (at least one per worker), as for the write-ahead window. Not recording each answer in a
        commit of its own is what makes a resume of many ``sent`` orders fast; an answer lost to a crash
        before its commit only means the order is asked again."""
        per_second = self.link.query_bucket.rate
        return max(1, self.workers, min(MAX_QUERY_WINDOW, int(per_second * WINDOW_SECONDS)))

    def _send_window(self, job_id: str, chunks: list[list[OrderRow]], pool: ThreadPoolExecutor | None) -> None:
        """Write a window of chunks ahead as ``sent`` (one commit, carrying the previous window's
        replies), send them, and keep their replies for the next commit."""
        now = self.clock.now()
        rows = [r for chunk in chunks for r in chunk]
        outcomes, self._unrecorded = self._unrecorded, []
        # A lost lease raises ConcurrentUpdate here (nothing is written); run() says so, once.
        marked = self.journal.mark_sent(
            job_id,
            self.owner,
            rows,
            now,
            int(now * 1000),
            self.lease_ttl_ms,
            outcomes=outcomes,
            outcomes_at=self._unrecorded_at,
        )
        by_pk = {r.pk: r for r in marked}
        groups = [[by_pk[r.pk] for r in chunk if r.pk in by_pk] for chunk in chunks]
        replies = self._map(pool, lambda g: self._send_marked(job_id, g), [g for g in groups if g])
        if self._lease_lost:
            raise ConcurrentUpdate(f"lease on job {job_id} was lost by {self.owner}: another runner took it over")
        self._unrecorded = [(changes, ev) for changes, ev, _ in replies if changes or ev is not None]
        self._unrecorded_at = self.clock.now()
        # A timestamp rejection is recorded at once, then the clock re-measured, so that the clock event
        # follows the rejection it answers (and the next window is signed with the new offset).
        rejected = [resp for _, _, resp in replies if resp is not None]
        if rejected:
            self._record_unrecorded(job_id)
            for resp in rejected:
                self._resync_clock(job_id, resp)

    def _record_unrecorded(self, job_id: str) -> None:
        """Commit the replies still held for the next window's write-ahead (the pass of sends ended)."""
        if self._unrecorded:
            groups, self._unrecorded = self._unrecorded, []
            self.journal.apply_batch(job_id, groups, self._unrecorded_at)

    def _reconcile_window(self, job_id: str, rows: Sequence[OrderRow], pool: ThreadPoolExecutor | None) -> None:
        """Query a window of ``unknown`` orders and record every answer in one commit."""
        answers = self._map(pool, lambda row: self._reconcile(job_id, row), rows)
        groups = [(changes, ev) for changes, ev, _ in answers if changes or ev is not None]
        if groups:
            self.journal.apply_batch(job_id, groups, self.clock.now())
        for _, _, resp in answers:
            if resp is not None:
                self._resync_clock(job_id, resp)

    def _send_marked(
        self, job_id: str, marked: list[OrderRow]
    ) -> tuple[list[Change], Evidence | None, HttpResponse | None]:
        """Send one chunk already written ahead as ``sent``; return what to record and, if the venue
        rejected the timestamp, the rejecting reply (to re-measure the clock from once it is recorded)."""
        refs = [r.ref for r in marked]
        # Paced after the write-ahead commit, right before the send: the commit's variable duration
        # must not bunch requests up at the venue (fixed-window venues block on a burst).
        try:
            in_time = self._paced(job_id, self.link.cancel_bucket)
        except ConcurrentUpdate:
            # Another runner took the job over while this one waited: it has turned these orders
            # `unknown` and will query them. Sending now could cancel twice; record nothing, stop.
            return [], None, None
        if not in_time:
            # The deadline came while this chunk waited for the rate: it never left this machine, so
            # its orders go back to `pending` (an unsent requeue), due at once when the job resumes.
            d = unsent(marked, self._now_ms())
            return self._changes(marked, d), None, None
        req = self._bounded(self.venue.build_cancel(refs, self.link.creds, self.link.server_clock.now_ms()))
        resp, err, at = self._exchange(job_id, req)
        ev = self._evidence(req, resp, str(err) if err else None, at)
        if err is not None:
            self._last_error = str(err)
            now_ms = self._now_ms()
            d = send_error(marked, err, now_ms, self._delay)
            self._say_cancel(job_id, marked, d, err, now_ms)
            return self._changes(marked, d), ev, None
        assert resp is not None
        reply = self.venue.parse_cancel(refs, resp)
        now_ms = self._now_ms()
        if isinstance(reply, Failure):
            d = chunk_failure(marked, reply, now_ms, self._delay, self.policy)
        else:
            d = cancel_reply(marked, reply, resp.status, now_ms, self._delay, self.policy)
        self._act(d, reply, self.link.cancel_bucket)
        self._say_cancel(job_id, marked, d, reply if isinstance(reply, Failure) else None, now_ms)
        return self._changes(marked, d), ev, resp if Action.RESYNC_CLOCK in d.actions else None

    def _say_cancel(
        self, job_id: str, marked: Sequence[OrderRow], d: Decision, failed: Failure | TransportError | None, now_ms: int
    ) -> None:
        """One WARNING line per cancel request that is sent again or whose orders must be queried:
        one line for the whole chunk, never one per order (a 100-order chunk retried is one line)."""
        if not log.isEnabledFor(logging.WARNING):
            return
        what = f"{self.venue.name} cancel ({len(marked)} orders)"
        wait = _wait_s(d, now_ms)
        if isinstance(failed, TransportError):
            if failed.never_reached_venue:
                log.warning("job %s: %s failed (%s): sending again in %.2f s", job_id, what, failed, wait)
            else:
                log.warning("job %s: %s failed (%s): querying the orders", job_id, what, failed)
            return
        if failed is not None:
            kind = failed.kind
            if kind is FailureKind.AUTH:
                return  # the run stops; the job's status says why (once)
            said = f"{what} {_FAILED.get(kind, kind.value)} ({_said(failed)})"
            if kind is FailureKind.UNKNOWN_OUTCOME:
                log.warning("job %s: %s: querying the orders", job_id, said)
            elif kind is FailureKind.RATE_LIMITED:
                log.warning(
                    "job %s: %s: pausing %s cancels %.2f s; sending again in %.2f s",
                    job_id,
                    said,
                    self.venue.name,
                    d.pause or 0.0,
                    wait,
                )
            elif kind is FailureKind.CLOCK:
                log.warning("job %s: %s: re-measuring the clock; sending again in %.2f s", job_id, said, wait)
            elif kind is FailureKind.REJECTED:
                log.warning(
                    "job %s: %s: refusal %d of %d in a row; sending again in %.2f s",
                    job_id,
                    said,
                    self._refusals,
                    self.policy.max_refusals,
                    wait,
                )
            else:
                log.warning("job %s: %s: sending again in %.2f s", job_id, said, wait)
            return
        again = [s for s in d.steps if s.trigger is Trigger.REQUEUE]
        if again:
            log.warning(
                "job %s: %s: %d still open after the cancel: sending them again in %.2f s",
                job_id,
                what,
                len(again),
                _wait_s(Decision(tuple(again)), now_ms),
            )

    # -- reconciliation -----------------------------------------------------------------------

    def _from_listings(
        self, job_id: str, rows: Sequence[OrderRow], waiting: Sequence[OrderRow], deadline: float | None
    ) -> Sequence[OrderRow]:
        """Settle many ``unknown`` orders per request from the venue's listings; return the rest.

        ``waiting`` are ``unknown`` orders not due yet (an accepted cancel a moment old): the pages
        read anyway settle those they show in a final state, and leave the others' schedule alone.

        The recent-history listing is read first (it shows final states), then the open orders, each
        stopping early once every order sought was seen (or a bounded number of pages). Every order a
        page shows is decided exactly as a query with the same answer would be, and recorded with that
        page as its evidence; pages that showed none are recorded as job notes. Absence from a listing
        proves nothing: the orders no page showed are queried one by one, as before. A listing that
        fails (refused, rate limited past the deadline, paging that does not advance) ends the bulk
        step with what was read.
        """
        if self.policy.bulk_confirm <= 0 or len(rows) < self.policy.bulk_confirm:
            return rows
        if self._auth_failure is not None or refused_too_often(self._refusals, self.policy):
            return rows
        venue = self.venue
        with self._rng_lock:
            rng = random.Random(self.rng.getrandbits(64))
        lister = Lister(
            self.link,
            self.transport,
            self.clock,
            self.policy,
            rng,
            deadline=deadline,
            keep_alive=lambda: self._keep_lease(job_id),
            max_attempts=LISTING_ATTEMPTS,
        )
        symbols = sorted({r.ref.symbol for r in rows})
        since_ms = int(self._job_created * 1000) - LISTING_LOOKBACK_MS
        separate = ListKind.CONDITIONAL in venue.list_kinds
        found: dict[int, tuple[int, ListedOrder]] = {}

        def sightings() -> list[tuple[int, ListedOrder]]:
            return [(i, o) for i, x in enumerate(lister.exchanges) if x.page is not None for o in x.page.orders]

        def read(kind: ListKind, todo: Sequence[OrderRow]) -> None:
            if kind in venue.list_needs_symbol or len(symbols) <= LISTING_SYMBOLS:
                scopes: list[str | None] = list(symbols)
                if len(scopes) > LISTING_SYMBOLS:
                    return
            else:
                scopes = [None]
            for scope in scopes:
                want = [r for r in todo if scope is None or r.ref.symbol == scope]
                if not want:
                    continue
                first = lister.pages

                def enough(
                    orders: Sequence[ListedOrder], pages: int, want: Sequence[OrderRow] = want, first: int = first
                ) -> bool:
                    per_page = max(1, len(orders) // max(1, pages - first))
                    budget = LISTING_PAGES_PER_PAGE * (-(-len(want) // per_page)) + 1
                    return pages - first >= budget or len(
                        match_listed(want, [(0, o) for o in orders], separate_conditional=separate)
                    ) == len(want)

                lister.read(kind, scope, since_ms=since_ms if kind is ListKind.HISTORY else None, enough=enough)

        try:
            read(ListKind.HISTORY, rows)
            found = match_listed(rows, sightings(), separate_conditional=separate)
            final = {pk for pk, (_, o) in found.items() if o.status.verdict in (Verdict.CANCELLED, Verdict.FAILED)}
            read(ListKind.OPEN, [r for r in rows if r.pk not in final and not r.ref.conditional])
            conditional = [r for r in rows if r.pk not in final and r.ref.conditional]
            if conditional and separate:
                read(ListKind.CONDITIONAL, conditional)
        except (VenueError, InputError) as exc:
            log.warning("job %s: listing %s stopped (%s); querying the rest one by one", job_id, venue.name, exc)
        found = match_listed(rows, sightings(), separate_conditional=separate)
        by_tag: dict[int, list[tuple[OrderRow, ListedOrder]]] = {}
        for row in rows:
            if row.pk in found:
                tag, order = found[row.pk]
                by_tag.setdefault(tag, []).append((row, order))
        early = 0
        waiting_by_pk = {r.pk: r for r in waiting}
        for pk, (tag, order) in (
            match_listed(waiting, sightings(), separate_conditional=separate).items() if waiting else ()
        ):
            if order.status.verdict in (Verdict.CANCELLED, Verdict.FAILED):
                by_tag.setdefault(tag, []).append((waiting_by_pk[pk], order))
                early += 1
        for tag, x in enumerate(lister.exchanges):
            now = self.clock.now()
            matched = by_tag.get(tag, [])
            if not matched:
                if x.page is not None:
                    note = f"{x.kind} listing page: {len(x.page.orders)} orders, none of this job's to settle"
                else:
                    note = x.note or "listing request"
                trigger = Trigger.CLOCK if x.note and x.page is None and x.evidence.endpoint == "time" else Trigger.NOTE
                self.journal.record_exchange(job_id, x.evidence, now, note, trigger)
                continue
            changes: list[Change] = []
            for row, order in matched:
                d = listed_change(row, order, self._now_ms(), self._delay, note=f"seen on the {x.kind} listing")
                self._act(d, order.status, self.link.query_bucket, row)
                changes.extend(self._changes([row], d))
            self.journal.apply(job_id, changes, now, x.evidence)
        if early:
            log.info("job %s: %d orders not yet due were settled from the same pages", job_id, early)
        if found:
            log.info(
                "job %s: %d of %d orders settled or seen from %d listing page(s)",
                job_id,
                len(found),
                len(rows),
                lister.pages,
            )
        return [r for r in rows if r.pk not in found]

    def _reconcile(self, job_id: str, row: OrderRow) -> tuple[list[Change], Evidence | None, HttpResponse | None]:
        """Query one ``unknown`` order; return what to record and, if the venue rejected the timestamp,
        the rejecting reply (to re-measure the clock from once it is recorded)."""
        if self._auth_failure is not None or refused_too_often(self._refusals, self.policy):
            return [], None, None
        # A long list of paced queries can outlast the lease (renewed while waiting) and the deadline
        # (the order stays `unknown`, for the next run to ask).
        if not self._paced(job_id, self.link.query_bucket):
            return [], None, None
        req = self._bounded(self.venue.build_query(row.ref, self.link.creds, self.link.server_clock.now_ms()))
        resp, err, at = self._exchange(job_id, req)
        ev = self._evidence(req, resp, str(err) if err else None, at)
        answer: Outcome | Failure | TransportError
        if err is not None:
            self._last_error = str(err)
            answer = err
        else:
            assert resp is not None
            answer = self.venue.parse_query(row.ref, resp)
        now_ms = self._now_ms()
        d = query_change(
            row,
            answer,
            resp.status if resp is not None else None,
            now_ms,
            self._delay,
            job_age_s=self.clock.now() - self._job_created,
            # Per-venue facts; read with defaults until the venue base class carries them.
            confirmations=self.venue.not_found_confirmations,
            forget_after_s=self.venue.forget_after_s,
        )
        self._act(d, answer, self.link.query_bucket, row)
        if isinstance(answer, (Failure, TransportError)):
            self._say_query(job_id, row, d, answer, now_ms)
        return self._changes([row], d), ev, resp if Action.RESYNC_CLOCK in d.actions else None

    def _say_query(
        self, job_id: str, row: OrderRow, d: Decision, failed: Failure | TransportError, now_ms: int
    ) -> None:
        """One WARNING line per query that failed and will be asked again (one query is one order)."""
        what = f"{self.venue.name} query (order {row.ref})"
        wait = _wait_s(d, now_ms)
        if isinstance(failed, TransportError):
            log.warning("job %s: %s failed (%s): asking again in %.2f s", job_id, what, failed, wait)
            return
        if failed.kind is FailureKind.AUTH:
            return  # the run stops; the job's status says why (once)
        said = f"{what} {_FAILED.get(failed.kind, failed.kind.value)} ({_said(failed)})"
        if failed.kind is FailureKind.RATE_LIMITED:
            log.warning(
                "job %s: %s: pausing %s queries %.2f s; asking again in %.2f s",
                job_id,
                said,
                self.venue.name,
                d.pause or 0.0,
                wait,
            )
        elif failed.kind is FailureKind.CLOCK:
            log.warning("job %s: %s: re-measuring the clock; asking again in %.2f s", job_id, said, wait)
        else:
            log.warning("job %s: %s: asking again in %.2f s", job_id, said, wait)


# RetryPolicy lives in policy.py and VenueLink in link.py; both re-exported for old imports.
__all__ = ["JobRunner", "RetryPolicy", "VenueLink"]
