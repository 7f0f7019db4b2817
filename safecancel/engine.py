"""Running one job: claim -> recover -> reconcile unknowns -> write ahead -> send -> record, until done.

The rules that keep every order accounted for:
- ``sent`` is committed before a request leaves; the reply's outcomes are committed after it returns;
  no transaction spans network I/O.
- Only a request that provably never reached the venue is sent again blindly. Anything that may have
  arrived makes its orders ``unknown``, and an ``unknown`` order is settled only by querying the venue.
- Neither a timer nor running out of retries ever makes an order terminal: when the deadline comes,
  the job stays ``open`` and ``resume`` continues it.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .clock import Clock
from .errors import AuthError, ConcurrentUpdate, TransportError, VenueRejected
from .model import (
    REASON_ACCEPTED,
    REASON_CANCELLING,
    REASON_NO_REPLY,
    REASON_NOT_FOUND,
    REASON_REFUSED,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    Outcome,
    Verdict,
)
from .states import OrderState, Provenance
from .store import Change, Evidence, Journal, OrderRow
from .transport import ServerClock, TokenBucket, Transport
from .venues.base import Venue, redact_query

log = logging.getLogger("safecancel.engine")
S = OrderState
RESPONSE_LIMIT = 8192
COALESCE_MS = 250  # pending orders due within this window of one another are sent together
MAX_WINDOW_CHUNKS = 8  # chunks marked `sent` in one commit, at most ...
WINDOW_SECONDS = 0.5  # ... and no more than the venue's rate lets out in this long
REASON_FORGOTTEN = "venue_forgot"  # the venue no longer answers for orders this old: an operator decides


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff and bounds, as data.

    ``max_sends``: how often, in one run, the venue may report an order still open after a cancel
    before the job asks for attention (sends that never reached the venue do not count). ``attention_queries``: queries of one ``unknown`` order before the job is
    flagged ``needs_attention`` (it keeps being queried; it is never settled by giving up).
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

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        backoff = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1)) * rng.uniform(0.5, 1.0)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after))  # never sooner than the venue asked
        return backoff


@dataclass
class VenueLink:
    """Everything needed to talk to one venue account; shared across jobs of a client."""

    adapter: Venue
    creds: Credentials
    cancel_bucket: TokenBucket
    query_bucket: TokenBucket
    server_clock: ServerClock


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

    def _paced(self, job_id: str, bucket: TokenBucket) -> None:
        """Wait for the venue's rate (or its Retry-After pause), renewing the lease while waiting.

        A pause can outlast the lease (``Retry-After: 40`` against a 30 s lease): waiting in slices
        keeps a live runner from being taken for dead, and the check after the wait stops a runner
        whose lease was taken anyway (say, the process was suspended) before it sends anything more.
        """
        while not bucket.acquire(max_wait=self.lease_ttl_ms / 3000):
            self._keep_lease(job_id)
        self._keep_lease(job_id)

    def _delay_ms(self, attempt: int, retry_after: float | None = None) -> int:
        with self._rng_lock:
            return int(self.policy.delay(attempt, self.rng, retry_after) * 1000)

    def _evidence(self, req: HttpRequest, resp: HttpResponse | None, error: str | None, at: float) -> Evidence:
        body = req.body.decode("utf-8", "replace") if req.body else None
        return Evidence(
            endpoint=req.endpoint,
            method=req.method,
            path=req.path,
            query=redact_query(req.query, self.venue.secret_params),
            body=body,
            status=resp.status if resp is not None else None,
            response=resp.body[:RESPONSE_LIMIT].decode("utf-8", "replace") if resp is not None else None,
            elapsed_ms=int(resp.elapsed_ms) if resp is not None else None,
            error=error,
            at=at,
        )

    def _exchange(self, job_id: str, req: HttpRequest) -> tuple[HttpResponse | None, TransportError | None, float]:
        at = self.clock.now()
        try:
            return self.transport.send(self.venue.base_url, req, venue=self.venue.name), None, at
        except TransportError as exc:
            return None, exc, at

    def _sync_clock(self, job_id: str, failed: HttpResponse | None = None) -> None:
        """Measure the venue's clock offset (first use, or after a timestamp rejection)."""
        sc = self.link.server_clock
        time_req = self.venue.build_time()
        if time_req is None:
            # No time endpoint (BitoPro): learn the offset from the rejected reply's own time, if any.
            if failed is not None:
                sc.set_from(self.venue.parse_time(failed))
            return
        box: dict[str, object] = {}

        def fetch() -> int | None:
            resp, err, at = self._exchange(job_id, time_req)
            box.update(resp=resp, err=err, at=at)
            return self.venue.parse_time(resp) if resp is not None else None

        offset = sc.measure(fetch)
        resp, err, at = box.get("resp"), box.get("err"), box.get("at")
        note = f"server time offset {offset} ms" if offset is not None else "server time unavailable; using the local clock"
        self.journal.record_exchange(
            job_id, self._evidence(time_req, resp, str(err) if err else None, at), self.clock.now(), note, "clock"  # type: ignore[arg-type]
        )

    # -- the loop ----------------------------------------------------------------------------

    def run(self, job_id: str, deadline: float | None) -> None:
        """Drive the job until every order is terminal or the monotonic ``deadline`` passes."""
        self._job_id = job_id
        now = self.clock.now()
        job = self.journal.get_job(job_id)
        self._job_created = datetime.fromisoformat(job.created_at.replace("Z", "+00:00")).timestamp() if job else now
        recovered = self.journal.acquire(
            job_id, self.owner, int(now * 1000), self.lease_ttl_ms, now, proc=self.proc, is_dead=self.is_dead
        )
        self._renewed_ms = int(now * 1000)
        if recovered:
            log.warning("job %s: %d orders were in flight when the last run stopped; querying them", job_id, recovered)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="safecancel") if self.workers > 1 else None
        try:
            if not self.link.server_clock.measured:
                self._sync_clock(job_id)
            while True:
                if self._auth_failure is not None:
                    raise self._auth_failure
                if self._refusals >= self.policy.max_refusals:
                    break  # the venue keeps refusing the request itself: sending more will not help
                self._keep_lease(job_id)
                active = self.journal.orders(job_id, (S.PENDING, S.UNKNOWN))
                self._progress(job_id)
                if not active:
                    break
                if deadline is not None and self.clock.monotonic() >= deadline:
                    break
                now_ms = self._now_ms()
                unknown = [o for o in active if o.state == S.UNKNOWN and o.next_at_ms <= now_ms and o.reason != REASON_FORGOTTEN]
                pending = [o for o in active if o.state == S.PENDING and o.next_at_ms <= now_ms and self._may_send(o)]
                if pending:
                    # Orders requeued one by one (each after its own query) have jittered due times a
                    # few ms apart: take those due very soon too, so they go out as one request.
                    # Rate limits are still enforced by the bucket (and its Retry-After pause).
                    soon = now_ms + COALESCE_MS
                    pending += [
                        o for o in active
                        if o.state == S.PENDING and now_ms < o.next_at_ms <= soon and self._may_send(o)
                    ]
                if unknown:
                    self._map(pool, lambda row: self._reconcile(job_id, row), unknown)
                    continue  # re-read: a reconciled order may have gone back to pending
                if pending:
                    by_ref = {o.ref: o for o in pending}
                    chunks = [[by_ref[r] for r in chunk] for chunk in self.venue.plan_chunks([o.ref for o in pending])]
                    window = self._window()
                    for i in range(0, len(chunks), window):
                        self._send_window(job_id, chunks[i : i + window], pool)
                    continue
                waiting = [
                    o.next_at_ms
                    for o in active
                    if (o.state == S.UNKNOWN and o.reason != REASON_FORGOTTEN)
                    or (o.state == S.PENDING and self._may_send(o))
                ]
                if not waiting:
                    break  # every remaining order was sent max_sends times and is still open: needs attention
                wake = (min(waiting) - self._now_ms()) / 1000
                if deadline is not None:
                    wake = min(wake, deadline - self.clock.monotonic())
                # Never sleep past a lease renewal.
                self.clock.sleep(max(0.0, min(wake, self.policy.max_delay, self.lease_ttl_ms / 3000)))
        except ConcurrentUpdate:
            self._lease_lost = True
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            if not self._lease_lost:  # the job is another runner's now: its status is not ours to write
                self._finish(job_id)
        if self._refusals >= self.policy.max_refusals and self._refusal is not None:
            f = self._refusal
            raise VenueRejected(
                self._attention_text or "the venue refused the requests", venue=self.venue.name,
                http_status=f.http_status, venue_code=f.code, venue_message=f.message,
            )

    def _status(self, rows: Sequence[OrderRow]) -> tuple[str, str | None]:
        """The job's status after this run and, unless done, why it stopped short, in plain words."""
        if not rows:
            return "done", None
        name = self.venue.name
        n = len(rows)
        if self._auth_failure is not None:
            return "open", f"{self._auth_failure}; fix the API key or secret, then run `safecancel resume`"
        if self._refusals >= self.policy.max_refusals and self._refusal is not None:
            f = self._refusal
            said = " ".join(str(x) for x in (f.code, f.message) if x) or "no details"
            if f.http_status in (404, 405):
                hint = (f"the base URL is {self.venue.base_url}; to run the job at the right one: "
                        f"`safecancel resume --job {self._job_id} --base-url URL`")
            else:
                hint = "check the request and the account, then `safecancel resume`"
            return "needs_attention", (
                f"{name} refused the request as a whole {self._refusals} times in a row (HTTP {f.http_status}: {said}); "
                f"nothing was applied, {n} orders are unsettled: {hint}"
            )
        stuck = [o for o in rows if o.state == S.PENDING and not self._may_send(o)]
        forgotten = [o for o in rows if o.state == S.UNKNOWN and o.reason == REASON_FORGOTTEN]
        unanswered = [o for o in rows if o.state == S.UNKNOWN and o.queries >= self.policy.attention_queries]
        if stuck or forgotten or unanswered:
            parts = []
            if stuck:
                parts.append(f"{len(stuck)} orders are still open at {name} after {self.policy.max_sends} cancels each")
            if forgotten:
                parts.append(f"{len(forgotten)} orders are too old for {name} to answer for: settle them with `safecancel resolve`")
            if unanswered:
                parts.append(f"{len(unanswered)} orders could not be confirmed after {self.policy.attention_queries} queries")
            return "needs_attention", "; ".join(parts)
        counts: dict[str, int] = {}
        for o in rows:
            counts[o.state] = counts.get(o.state, 0) + 1
        left = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        cause = f" (last error: {self._last_error})" if self._last_error else ""
        return "open", f"the run ended before every order was settled ({left}){cause}; `safecancel resume` continues it"

    def _refused(self, f: Failure) -> None:
        with self._reopened_lock:
            self._refusals += 1
            self._refusal = f

    def _may_send(self, row: OrderRow) -> bool:
        return self._reopened.get(row.pk, 0) < self.policy.max_sends

    def _map(self, pool: ThreadPoolExecutor | None, fn: Callable, items: Sequence) -> list:
        if pool is None or len(items) == 1:
            return [fn(item) for item in items]
        return [fut.result() for fut in [pool.submit(fn, item) for item in items]]

    def _progress(self, job_id: str) -> None:
        if self.on_progress is not None:
            self.on_progress(job_id, self.venue.name, self.journal.counts(job_id))

    def _finish(self, job_id: str) -> None:
        rows = self.journal.orders(job_id, (S.PENDING, S.SENT, S.UNKNOWN))
        status, why = self._status(rows)
        self._attention_text = why
        if why:
            log.warning("job %s %s: %s", job_id, status, why)
        self.journal.set_status(job_id, status, self.clock.now(), why)
        self.journal.release(job_id, self.owner)
        self._progress(job_id)

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

    def _send_window(self, job_id: str, chunks: list[list[OrderRow]], pool: ThreadPoolExecutor | None) -> None:
        now = self.clock.now()
        rows = [r for chunk in chunks for r in chunk]
        try:
            marked = self.journal.mark_sent(job_id, self.owner, rows, now, int(now * 1000), self.lease_ttl_ms)
        except ConcurrentUpdate:
            log.warning("job %s: lease lost; stopping this runner", job_id)
            raise
        by_pk = {r.pk: r for r in marked}
        groups = [[by_pk[r.pk] for r in chunk if r.pk in by_pk] for chunk in chunks]
        replies = self._map(pool, lambda g: self._send_marked(job_id, g), [g for g in groups if g])
        if self._lease_lost:
            raise ConcurrentUpdate(f"lease on job {job_id} was lost by {self.owner}: another runner took it over")
        # Every reply of the window is recorded in one transaction (one commit), then the follow-ups
        # a reply asked for (re-measure the clock, stop on refused credentials) run.
        self.journal.apply_batch(job_id, [(changes, ev) for changes, ev, _ in replies], self.clock.now())
        for _, _, followup in replies:
            if followup is not None:
                followup()

    def _send_marked(
        self, job_id: str, marked: list[OrderRow]
    ) -> tuple[list[Change], Evidence, Callable[[], None] | None]:
        """Send one chunk already written ahead as ``sent``; return what to record and what to do next."""
        refs = [r.ref for r in marked]
        # Paced after the write-ahead commit, right before the send: the commit's variable duration
        # must not bunch requests up at the venue (fixed-window venues block on a burst).
        try:
            self._paced(job_id, self.link.cancel_bucket)
        except ConcurrentUpdate:
            # Another runner took the job over while this one waited: it has turned these orders
            # `unknown` and will query them. Sending now could cancel twice; record nothing, stop.
            return [], None, None
        req = self.venue.build_cancel(refs, self.link.creds, self.link.server_clock.now_ms())
        resp, err, at = self._exchange(job_id, req)
        ev = self._evidence(req, resp, str(err) if err else None, at)
        if err is not None:
            self._last_error = str(err)
            if err.never_reached_venue:
                # One delay for the whole chunk, so it goes out again as one request.
                again = self._now_ms() + self._delay_ms(max(r.attempts for r in marked))
                changes = [Change(r, "requeue", next_at_ms=again, message=str(err), unsent=True) for r in marked]
            else:
                changes = [Change(r, "lose", reason=REASON_NO_REPLY, message=str(err)) for r in marked]
            return changes, ev, None
        assert resp is not None
        reply = self.venue.parse_cancel(refs, resp)
        if isinstance(reply, Failure):
            changes, followup = self._chunk_failure(job_id, marked, reply, resp)
            return changes, ev, followup
        self._refusals = 0  # an answer about the orders: the request itself is fine
        changes = []
        for row in marked:
            outcome = reply.get(row.ref) or Outcome(Verdict.UNKNOWN, "omitted")
            changes.append(self._cancel_change(row, outcome, resp.status))
        return changes, ev, None

    def _cancel_change(self, row: OrderRow, o: Outcome, status: int) -> Change:
        common = {"code": o.code, "message": o.message, "http_status": status}
        if o.verdict is Verdict.CANCELLED:
            return Change(row, "confirm", reason=o.reason, provenance=Provenance.VENUE_RESPONSE.value, **common)
        if o.verdict is Verdict.FAILED:
            return Change(row, "reject", reason=o.reason or REASON_REFUSED, provenance=Provenance.VENUE_RESPONSE.value, **common)
        if o.verdict is Verdict.OPEN:
            return Change(row, "requeue", reason=o.reason, next_at_ms=self._now_ms() + self._delay_ms(row.attempts), **common)
        # unknown: query it; an asynchronous venue's accepted cancel needs a moment to take effect
        wait = self.policy.async_first_query if o.reason in (REASON_ACCEPTED, REASON_CANCELLING) else 0.0
        return Change(row, "lose", reason=o.reason, next_at_ms=self._now_ms() + int(wait * 1000), **common)

    def _chunk_failure(
        self, job_id: str, rows: list[OrderRow], f: Failure, resp: HttpResponse
    ) -> tuple[list[Change], Callable[[], None] | None]:
        now_ms = self._now_ms()
        common = {"code": f.code, "message": f.message, "http_status": f.http_status}
        kind = f.kind
        if kind is FailureKind.UNKNOWN_OUTCOME:
            changes = [Change(r, "lose", reason=REASON_NO_REPLY, **common) for r in rows]
        elif kind is FailureKind.REJECTED:
            # A refusal of the request is no answer about any order: nothing was applied, so the
            # orders go back to pending. Repeated, the job stops and asks for attention.
            self._refused(f)
            again = now_ms + self._delay_ms(max(r.attempts for r in rows))
            changes = [Change(r, "requeue", next_at_ms=again, note="the request was refused as a whole; nothing applied", **common)
                       for r in rows]
        else:
            # Not applied (NOT_PROCESSED, RATE_LIMITED, CLOCK, AUTH): back to pending, to be sent again.
            retry_after = f.retry_after
            if kind is FailureKind.RATE_LIMITED:
                pause = self.policy.delay(rows[0].attempts, self.rng, retry_after) if retry_after is None else min(
                    retry_after, self.policy.max_retry_after
                )
                self.link.cancel_bucket.pause(pause)
            # One delay for the whole chunk, so it goes out again as one request. A clock rejection
            # backs off too: with the time endpoint down, re-signing at once would only loop.
            wait = self._delay_ms(max(r.attempts for r in rows), retry_after)
            changes = [Change(r, "requeue", next_at_ms=now_ms + wait, note=f"not applied: {kind.value}", **common) for r in rows]
        if kind is FailureKind.CLOCK:

            def resync() -> None:  # after the rejection is recorded, so the clock event follows it
                self.link.server_clock.invalidate()
                self._sync_clock(job_id, resp)

            return changes, resync
        if kind is FailureKind.AUTH:
            self._auth_failure = AuthError(
                f"{self.venue.name} refused the credentials ({f.code or f.http_status}: {f.message}); the job stays open",
                venue=self.venue.name,
                http_status=f.http_status,
                venue_code=f.code,
                venue_message=f.message,
            )
        return changes, None

    # -- reconciliation -----------------------------------------------------------------------

    def _not_found(self, job_id: str, row: OrderRow, again: int, common: dict) -> Change:
        """"No such order" settles an order as failed/not_found only when the venue can be believed.

        Venues forget old orders (Binance: unfilled cancelled orders after 3 days; HTX: API orders 2 h
        after cancel), so past ``forget_after_s`` the answer proves nothing and an operator decides.
        Some venues also say "not found" transiently for fresh orders (HTX ``base-record-invalid``),
        so ``not_found_confirmations`` consecutive answers are required.
        """
        forget = getattr(self.venue, "forget_after_s", None)
        if forget is not None and self.clock.now() - self._job_created > forget:
            return Change(row, "query", reason=REASON_FORGOTTEN, query=True, not_found=True, next_at_ms=again,
                          note="the venue no longer answers for orders this old; settle with `safecancel resolve`", **common)
        needed = getattr(self.venue, "not_found_confirmations", 1)
        if row.not_found_seen + 1 < needed:
            return Change(row, "query", reason=REASON_NOT_FOUND, query=True, not_found=True, next_at_ms=again,
                          note=f"not found {row.not_found_seen + 1}/{needed}", **common)
        return Change(row, "reject", reason=REASON_NOT_FOUND, provenance=Provenance.VENUE_QUERY.value, query=True, not_found=True, **common)

    def _reconcile(self, job_id: str, row: OrderRow) -> None:
        if self._auth_failure is not None:
            return
        if self._refusals >= self.policy.max_refusals:
            return
        self._paced(job_id, self.link.query_bucket)  # a long list of paced queries can outlast the lease
        req = self.venue.build_query(row.ref, self.link.creds, self.link.server_clock.now_ms())
        resp, err, at = self._exchange(job_id, req)
        ev = self._evidence(req, resp, str(err) if err else None, at)
        again = self._now_ms() + self._delay_ms(row.queries + 1)
        if err is not None:
            self._last_error = str(err)
            self.journal.apply(job_id, [Change(row, "query", query=True, next_at_ms=again, message=str(err))], self.clock.now(), ev)
            return
        assert resp is not None
        answer = self.venue.parse_query(row.ref, resp)
        if isinstance(answer, Failure):
            common = {"code": answer.code, "message": answer.message, "http_status": answer.http_status}
            if answer.kind is FailureKind.REJECTED:
                self._refused(answer)
            if answer.retry_after is not None and answer.kind is not FailureKind.CLOCK:
                again = self._now_ms() + self._delay_ms(row.queries + 1, answer.retry_after)
            self.journal.apply(job_id, [Change(row, "query", query=True, next_at_ms=again, **common)], self.clock.now(), ev)
            if answer.kind is FailureKind.CLOCK:
                self.link.server_clock.invalidate()
                self._sync_clock(job_id, resp)
            elif answer.kind is FailureKind.AUTH:
                self._auth_failure = AuthError(
                    f"{self.venue.name} refused the credentials on a query ({answer.code or answer.http_status})",
                    venue=self.venue.name,
                    http_status=answer.http_status,
                    venue_code=answer.code,
                    venue_message=answer.message,
                )
            elif answer.kind is FailureKind.RATE_LIMITED:
                self.link.query_bucket.pause((again - self._now_ms()) / 1000)
            return
        self._refusals = 0
        common = {"code": answer.code, "message": answer.message, "http_status": resp.status}
        v = answer.verdict
        if v is Verdict.CANCELLED:
            ch = Change(row, "confirm", reason=answer.reason, provenance=Provenance.VENUE_QUERY.value, query=True, **common)
        elif v is Verdict.FAILED and answer.reason == REASON_NOT_FOUND:
            ch = self._not_found(job_id, row, again, common)
        elif v is Verdict.FAILED:
            ch = Change(row, "reject", reason=answer.reason, provenance=Provenance.VENUE_QUERY.value, query=True, **common)
        elif v is Verdict.OPEN:
            # Still resting: the cancel never took. Send it again (bounded by max_sends, with backoff).
            with self._reopened_lock:
                self._reopened[row.pk] = self._reopened.get(row.pk, 0) + 1
            nxt = self._now_ms() + (self._delay_ms(row.attempts) if row.attempts else 0)
            ch = Change(row, "requeue", reason="still_open", query=True, next_at_ms=nxt, **common)
        else:
            ch = Change(row, "query", reason=answer.reason, query=True, next_at_ms=again, **common)
        self.journal.apply(job_id, [ch], self.clock.now(), ev)
