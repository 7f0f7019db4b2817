"""The kill switch: cancel every open order in a scope, then prove the scope empty from the venue's listing.

One journaled job (kind ``cancel_all``). Each sweep lists the venue (open orders, and the conditional
list where the venue keeps one), records the listing as evidence (a ``sweep`` event), adds every order
in scope that the job does not have yet as ``pending`` (a ``discover`` event naming them) *before* it is
cancelled, and runs the job through the ordinary engine (chunking, write-ahead, reconciliation: every
order ends on the venue's word about it). Then it lists again, until a listing shows nothing in scope
-- the scope is verified empty at that listing's time -- or the deadline passes. Orders placed meanwhile
are caught by the next sweep. ``resume`` sweeps an unfinished kill switch again.

A venue's own cancel-all may strike first (``native``): its reply settles nothing (on Binance it names
no order at all); the sweeps that follow decide.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .clock import Clock
from .errors import InputError, VenueError
from .link import VenueLink, evidence, exchange
from .listing import Lister, ListExchange
from .model import Failure, JobStatus, ListedOrder, ListKind, OrderRef
from .scope import Fit, Scope
from .states import Trigger
from .store.rows import Evidence

if TYPE_CHECKING:  # annotations only: the journal (SQLAlchemy) and the transport (requests) load when used
    from .store import Journal
    from .transport import TokenBucket, Transport

log = logging.getLogger("safecancel.killswitch")

KIND = "cancel_all"
NATIVE_MAX_CALLS = 50  # HTX cancels 100 per call: 5,000 orders; past that the sweeps do the rest
SETTLE_PAUSE_S = 0.5
UNSETTLED_STATES = (
    "pending",
    "sent",
    "unknown",
)  # a listing that still shows orders the job has settled: the venue catching up


@dataclass
class Sweeps:
    """What the sweeps of one run found: enough to say where the scope stands."""

    count: int = 0
    verified: bool = False
    still_open: list[str] = field(default_factory=list)
    attention: str | None = None


def _key(ref: OrderRef) -> tuple[str, bool, str, str]:
    return (ref.symbol.casefold(), ref.conditional, ref.kind.value, ref.value)


class KillSwitch:
    """Runs the sweeps of one kill-switch job. ``run_engine(until)`` runs the job's orders once through
    the engine and returns False when the run could not go on (held by another runner, refused)."""

    def __init__(
        self,
        journal: Journal,
        link: VenueLink,
        make_lister: Callable[[float], Lister],
        clock: Clock,
        scope: Scope,
        job_id: str,
        transport: Transport,
        native_bucket: TokenBucket | None = None,
    ) -> None:
        self.journal = journal
        self.link = link
        self.transport = transport
        self.venue = link.adapter
        self.make_lister = make_lister
        self.clock = clock
        self.scope = scope
        self.job_id = job_id
        self.native_bucket = native_bucket
        self.separate = ListKind.CONDITIONAL in self.venue.list_kinds

    # -- recording ---------------------------------------------------------------------------

    def _note(self, ev: Evidence, note: str, trigger: str = Trigger.NOTE) -> None:
        self.journal.record_exchange(self.job_id, ev, self.clock.now(), note, trigger)

    # -- the venue's own cancel-all -------------------------------------------------------------

    def native(self, account: str | None, until: float) -> None:
        """The first strike: the venue's cancel-all for the scope, repeated while the venue says more
        remain. Recorded; never fatal (the sweeps decide), never settles an order."""
        venue, creds = self.venue, self.link.creds
        for call in range(1, NATIVE_MAX_CALLS + 1):
            if self.clock.monotonic() >= until:
                return
            if self.native_bucket is not None:
                self.native_bucket.acquire()
            req = venue.build_cancel_all(self.scope.symbol, creds, self.link.server_clock.now_ms(), account=account)
            resp, err, at = exchange(venue, self.transport, self.clock, req)
            ev = evidence(venue, req, resp, str(err) if err else None, at)
            if err is not None or resp is None:
                self._note(ev, f"native cancel-all call {call}: no reply ({err}); the sweeps decide", Trigger.NATIVE)
                return
            more = venue.parse_cancel_all(self.scope.symbol, resp)
            if isinstance(more, Failure):
                said = f"{more.code or more.http_status}: {more.message}"
                self._note(ev, f"native cancel-all call {call} refused ({said}); the sweeps decide", Trigger.NATIVE)
                return
            self._note(
                ev, f"native cancel-all call {call}: accepted" + ("; more remain" if more else ""), Trigger.NATIVE
            )
            if not more:
                return

    # -- sweeps --------------------------------------------------------------------------------

    def sweep(self, until: float, found: Sweeps) -> tuple[list[OrderRef], list[ListedOrder]]:
        """List the scope once and record it; add what is new to the job. Returns (added, in scope)."""
        found.count += 1
        lister = self.make_lister(until)
        kinds = [ListKind.OPEN]
        if self.scope.include_conditional and self.separate:
            kinds.append(ListKind.CONDITIONAL)
        listed: list[ListedOrder] = []

        def record(xs: Sequence[ListExchange]) -> None:
            for x in xs:
                what = f"sweep {found.count}: {x.kind} listing page" if x.page is not None else (x.note or "request")
                self._note(x.evidence, what, Trigger.CLOCK if x.evidence.endpoint == "time" else Trigger.NOTE)

        try:
            for kind in kinds:
                listed.extend(lister.read(kind, self.scope.symbol))
        except BaseException:
            record(lister.exchanges)  # every request is evidence, also of a listing that failed
            raise
        # Every page is evidence; the last one is the sweep's own (recorded with its verdict below).
        record(lister.exchanges[:-1])
        last = lister.exchanges[-1].evidence if lister.exchanges else None
        fits = [(o, self.scope.fit(o)) for o in listed]
        in_scope = [o for o, f in fits if f is Fit.IN]
        unsure = [o for o, f in fits if f is Fit.UNSURE]
        known = {_key(r.ref) for r in self.journal.orders(self.job_id)}
        new: list[OrderRef] = []
        refused: list[str] = []
        for o in in_scope:
            ref = o.ref(separate_conditional=self.separate)
            if _key(ref) in known:
                continue
            try:
                self.venue.validate([ref])
            except InputError as exc:
                refused.append(str(exc))
                continue
            new.append(ref)
            known.add(_key(ref))
        empty = not in_scope and not unsure and not lister.capped
        note = {
            "sweep": found.count,
            "listed": len(listed),
            "in_scope": len(in_scope),
            "unsure": len(unsure),
            "new": len(new),
            "pages": lister.pages,
            "capped": lister.capped,
            "verified_empty": empty,
        }
        self.journal.record_sweep(self.job_id, last, self.clock.now(), json.dumps(note), empty=empty)
        log.info(
            "job %s: sweep %d: %d listed, %d in scope (%d new), %d unsure%s%s",
            self.job_id,
            found.count,
            len(listed),
            len(in_scope),
            len(new),
            len(unsure),
            "; the venue capped its listing" if lister.capped else "",
            "; the scope is listed empty" if empty else "",
        )
        if new:
            self.journal.add_orders(self.job_id, new, self.clock.now(), None, f"sweep {found.count}")
        found.verified = empty
        found.still_open = [str(o.ref(separate_conditional=self.separate)) for o in in_scope]
        problems = []
        if refused:
            problems.append(f"{len(refused)} order(s) in scope cannot be cancelled by id ({refused[0]})")
        if unsure:
            problems.append(
                f"{len(unsure)} open order(s) are listed without a client id, so it cannot be told whether they "
                "are yours; they were left alone"
            )
        if lister.capped:
            problems.append("the venue capped its listing: more orders may be open than it shows")
        found.attention = "; ".join(problems) or None
        return new, in_scope

    def run(
        self, until: float, run_engine: Callable[[], bool], account: Callable[[], str | None], found: Sweeps
    ) -> Sweeps:
        """Sweep and cancel until a listing shows the scope empty or the deadline passes (``found`` is
        filled in as it goes, so a caller meeting an exception still knows how far it got)."""
        log.info("job %s: kill switch on %s: sweeping", self.job_id, self.scope.describe())
        try:
            self._sweeps(until, run_engine, account, found)
        except BaseException as exc:
            said = f"{type(exc).__name__}: {exc}"
            log.info("job %s: kill switch stopped after %d sweep(s): %s", self.job_id, found.count, said)
            raise
        said = (
            "the scope is listed empty"
            if found.verified
            else f"the last listing still showed {len(found.still_open)} order(s) in scope"
        )
        log.info("job %s: kill switch stopped after %d sweep(s): %s", self.job_id, found.count, said)
        return found

    def _sweeps(
        self, until: float, run_engine: Callable[[], bool], account: Callable[[], str | None], found: Sweeps
    ) -> None:
        """The loop of :meth:`run`: the optional native strike, then sweep and cancel until done."""
        if self.scope.native:
            try:
                self.native(account(), until)
            except (VenueError, InputError) as exc:  # the first strike is optional: the sweeps decide
                log.warning("job %s: native cancel-all: %s", self.job_id, exc)
        while True:
            new, in_scope = self.sweep(until, found)
            if found.verified and not self.journal.orders(self.job_id, UNSETTLED_STATES):
                return
            if self.clock.monotonic() >= until:
                return
            known = {_key(r.ref) for r in self.journal.orders(self.job_id)}
            listed_known = [o for o in in_scope if _key(o.ref(separate_conditional=self.separate)) in known]
            if not new and not listed_known and found.attention:
                return  # only orders this switch may not or cannot touch are left
            if not run_engine():
                return
            if not new and not self.journal.orders(self.job_id, UNSETTLED_STATES):
                # Every order of the job is settled on the venue's word, yet its listing still shows some:
                # let the venue's listing catch up before sweeping again.
                self.clock.sleep(min(SETTLE_PAUSE_S, max(0.0, until - self.clock.monotonic())))


def finish_status(journal: Journal, job_id: str, found: Sweeps, now: float, timed_out: bool) -> tuple[str, str | None]:
    """The kill switch's status once its sweeps stop: done only when every order is settled and the
    scope was verified empty; otherwise open (resume sweeps again) or needs_attention, saying why."""
    result = journal.job_result(job_id, with_events=False)
    if found.verified and result.finished and not found.attention:
        return JobStatus.DONE, None
    if found.verified and result.finished:
        return JobStatus.NEEDS_ATTENTION, f"the scope was listed empty of your orders, but {found.attention}"
    if found.verified:
        unsettled = sum(1 for o in result.orders if o.state not in ("cancelled", "failed"))
        why = f"the scope was listed empty, but {unsettled} order(s) are not settled on the venue's word yet"
        if result.attention:
            why += f" ({result.attention})"
        return JobStatus.OPEN, why + ("; the deadline passed: `safecancel resume` continues" if timed_out else "")
    left = len(found.still_open)
    why = (
        f"the scope was not verified empty: the last listing (sweep {found.count}) still showed {left} order(s) "
        f"in scope" + (f" ({', '.join(found.still_open[:5])}{', ...' if left > 5 else ''})" if left else "")
    )
    if result.attention and not result.finished:
        why += f"; {result.attention}"
    if found.attention:
        why += f"; {found.attention}"
    if timed_out:
        why += "; the deadline passed: `safecancel resume` sweeps again"
        return JobStatus.OPEN, why
    return (JobStatus.NEEDS_ATTENTION if found.attention else JobStatus.OPEN), why


__all__ = ["KIND", "KillSwitch", "Sweeps", "finish_status"]
