"""The dead-man switch: if the bot dies, its orders come off the book anyway.

A switch is one journaled job (kind ``deadman``). Arming stores the job and takes its lease: the lease is
the bot's heartbeat, renewed from a background thread at a third of the timeout. Where the venue has a
countdown of its own (Binance COIN-M per symbol; BingX and HTX per account), every renewal re-arms the
venue's countdown first and the heartbeat follows only on the venue's word, so the journal's heartbeat
and the venue's countdown run out together.

A guardian process (:mod:`safecancel.guardian`), started in a session of its own so that it outlives the
bot's process group, watches the heartbeat. While the bot lives it lists the scope now and then (so that
what the switch cancels can be named afterwards); when heartbeats stop for the timeout, it fires: the
orders its last listing showed are added to the job and the job runs as a kill switch over the scope --
journaled sweeps, cancels, and a listing that verifies the scope empty. On a venue with a countdown the
venue has cancelled by itself by then (and does so even if the host is lost): the guardian's firing
verifies it -- each order the listing showed is asked about (``unknown`` first) and settles on the
venue's word -- and cancels whatever the countdown left (HTX cancels at most 500 orders; conditional
orders kept apart). On BitoPro and Bitget, which have no countdown, the guardian's kill switch is the
switch: it does not survive the loss of the host (run it on another host against a shared PostgreSQL
journal if that matters: :func:`run_guardian`).

An armed switch whose heartbeat is fresh is never taken over early, even when its bot's process is gone:
a bot restarted within the timeout re-arms the same switch (as it would re-arm the venue's countdown).
``safecancel resume`` fires a switch whose heartbeat stopped and whose guardian is gone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import select
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .clock import Clock
from .errors import (
    AuthError,
    ConcurrentUpdate,
    DeadManError,
    InputError,
    SafeCancelError,
    StoreError,
    TransportError,
    VenueRejected,
)
from .link import VenueLink, evidence, exchange, sync_clock
from .model import Countdown, Failure, FailureKind, JobStatus, ListKind
from .policy import ListingMove, RetryPolicy, auth_message, listing_failure
from .scope import Scope
from .states import Trigger
from .store.rows import DEADMAN_KIND, Evidence, iso
from .venues.base import VenueAdapter

if TYPE_CHECKING:  # annotations only: the journal (SQLAlchemy) and the transport (requests) load when used
    from .store import Journal
    from .transport import TokenBucket, Transport

log = logging.getLogger("safecancel.deadman")

KIND = DEADMAN_KIND
MODES = ("auto", "native", "guardian")
GUARDIAN_RANGE_S = (5, 3600)  # a guardian needs a few seconds to start and list; an hour is a long outage
SUMMARY_EVERY_S = 60.0  # renewals are journaled as one summary a minute (and every change of health)
NATIVE_GRACE_S = 2.0  # a guardian gives the venue's own countdown this long to strike before it verifies
GUARDIAN_START_S = 30.0  # how long arming waits for the guardian to report that it watches


@dataclass(frozen=True)
class Arming:
    """How a switch is armed: kept beside its scope in the job (``scope.deadman``)."""

    timeout: int  # seconds without a heartbeat before the switch fires
    mode: str  # "native": the venue's countdown (and a guardian that verifies); "guardian": the guardian alone
    countdown_symbol: str | None  # native: what the venue's countdown covers (None: the whole account)
    widened: bool  # native: the venue's countdown covers more than the symbol asked for
    guardian: bool  # a guardian process watches the heartbeat

    @property
    def interval(self) -> float:
        """Seconds between renewals: a third of the timeout (Binance suggests renewing 120 s every 30 s)."""
        return max(1.0, self.timeout / 3)

    def scope_json(self, scope: Scope) -> str:
        data = json.loads(scope.to_json())
        data["deadman"] = asdict(self)
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_scope_json(cls, text: str | None) -> Arming:
        data = json.loads(text or "{}").get("deadman")
        if not isinstance(data, dict):
            raise InputError("the job is not a dead-man switch (its scope has no arming)")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})

    def describe(self, venue: str, symbol: str | None) -> str:
        if self.mode == "native":
            covers = f"{self.countdown_symbol}" if self.countdown_symbol else "the whole account"
            how = f"the venue's countdown on {covers}"
            if self.widened:
                how += f" (wider than {symbol}: {venue}'s countdown is account-wide)"
            if self.guardian:
                how += ", verified by a guardian process"
        else:
            how = "a guardian process (no countdown on this venue)"
        return f"{venue} {symbol or 'every symbol'}: timeout {self.timeout} s, {how}"


def plan_arming(cls: type[VenueAdapter], symbol: str | None, timeout: Any, mode: str, guardian: bool) -> Arming:
    """Check a switch's settings before anything is stored or sent; :class:`InputError` names the bad one."""
    venue = cls.name
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        if isinstance(timeout, float) and timeout.is_integer():
            timeout = int(timeout)
        else:
            raise InputError(f"timeout must be a whole number of seconds, got {timeout!r}")
    if not isinstance(guardian, bool):
        raise InputError(f"guardian must be True or False, got {guardian!r}")
    native = cls.countdown_scope is not None and mode != "guardian"
    if mode == "native" and cls.countdown_scope is None:
        raise InputError(f"{venue} has no countdown cancel; use mode 'guardian' (or 'auto')")
    if native:
        if cls.countdown_scope == "symbol" and symbol is None:
            raise InputError(
                f"{venue}'s countdown covers one symbol: give a symbol (e.g. {cls.example_symbol}), "
                "or use mode 'guardian' for every symbol"
            )
        lo, hi = cls.countdown_range_s
        if not lo <= timeout <= hi:
            raise InputError(f"{venue}'s countdown takes a timeout of {lo}-{hi} s, got {timeout}")
        countdown_symbol = symbol if cls.countdown_scope == "symbol" else None
        return Arming(timeout, "native", countdown_symbol, symbol is not None and countdown_symbol is None, guardian)
    lo, hi = GUARDIAN_RANGE_S
    if not lo <= timeout <= hi:
        raise InputError(f"a guardian's timeout is {lo}-{hi} s, got {timeout}")
    if symbol is None and ListKind.OPEN in cls.list_needs_symbol:
        raise InputError(f"{venue}: its open orders are listed per symbol: give a symbol (e.g. {cls.example_symbol})")
    if not guardian:
        raise InputError(f"{venue} has no countdown cancel: its switch is the guardian process (guardian=True)")
    return Arming(timeout, "guardian", None, False, True)


def was_armed(journal: Journal, job_id: str) -> bool:
    """Whether the switch's journal says it was armed: its last ``arm`` event did not say otherwise. A job
    without one was stored by a bot that stopped while arming: nothing watched it, and it never fires."""
    armed = False
    for e in journal.job_result(job_id).events:
        if e.trigger == Trigger.ARM:
            try:
                armed = bool(json.loads(e.note or "{}").get("armed", True))
            except (ValueError, AttributeError):
                armed = True
    return armed


def switch_key(venue: str, account: str, base_url: str, key_fp: str, symbol: str | None) -> str:
    """One switch per venue account, environment and symbol (or the whole account), as the venues keep
    their countdowns: arming it again while it is armed carries the same switch on."""
    text = f"{venue}|{account}|{base_url}|{key_fp}|{(symbol or '*').casefold()}"
    return "deadman-" + hashlib.sha256(text.encode()).hexdigest()[:24]


# -- one countdown request, asked again while the failure may pass -----------------------------------


@dataclass
class Asked:
    """What asking the venue's countdown came to: its word (or None), the last failure, the evidence."""

    countdown: Countdown | None
    failure: str | None
    evidence: list[Evidence]
    refused: SafeCancelError | None = None  # credentials or the request refused: asking again will not help


def ask_countdown(
    link: VenueLink,
    transport: Transport,
    clock: Clock,
    policy: RetryPolicy,
    rng: random.Random,
    bucket: TokenBucket,
    symbol: str | None,
    timeout_s: int,
    until: float,
) -> Asked:
    """Arm/renew (``timeout_s`` > 0) or disarm (0) the venue's countdown, asking again after a failure
    that may pass (rate limit, 5xx, timeout, clock) until ``until`` (monotonic). Re-arming is idempotent:
    a renewal that may have arrived is simply sent again."""
    venue = link.adapter
    seen: list[Evidence] = []
    attempt = 0
    last: str | None = None
    while True:
        attempt += 1
        if not bucket.acquire(max_wait=max(0.0, until - clock.monotonic())):
            return Asked(None, last or "the deadline passed while pacing", seen)
        if not link.server_clock.measured:
            ev, _ = sync_clock(link, transport, clock)
            if ev is not None:
                seen.append(ev)
        req = venue.build_countdown(symbol, timeout_s, link.creds, link.server_clock.now_ms())
        resp, err, at = exchange(venue, transport, clock, req)
        seen.append(evidence(venue, req, resp, str(err) if err else None, at))
        answer: Countdown | Failure | TransportError = err if err is not None else venue.parse_countdown(resp)  # type: ignore[arg-type]
        if isinstance(answer, Countdown) and answer.armed == (timeout_s > 0):
            return Asked(answer, None, seen)
        if isinstance(answer, Countdown):  # the venue's word contradicts the request: say so, ask again
            said = "armed" if answer.armed else "off"
            answer = Failure(FailureKind.UNKNOWN_OUTCOME, None, f"the venue says its countdown is {said}", None)
        last = _said(answer)
        step = listing_failure(answer, attempt, lambda n, ra: policy.delay(n, rng, ra), policy)
        if step.move is ListingMove.STOP_AUTH:
            assert isinstance(answer, Failure)
            refused: SafeCancelError = AuthError(
                auth_message(venue.name, answer), venue=venue.name, http_status=answer.http_status
            )
            return Asked(None, last, seen, refused)
        if step.move is ListingMove.STOP_REJECTED:
            assert isinstance(answer, Failure)
            refused = VenueRejected(
                f"{venue.name} refused the countdown request {attempt} times ({last}); check the base URL "
                f"({venue.base_url}), the symbol and the timeout",
                venue=venue.name,
                http_status=answer.http_status,
                venue_code=answer.code,
                venue_message=answer.message,
            )
            return Asked(None, last, seen, refused)
        if step.pause is not None:
            bucket.pause(step.pause)
        if clock.monotonic() + step.delay >= until:
            return Asked(None, last, seen)
        log.warning(
            "%s countdown request failed (%s): %sasking again in %.2f s (attempt %d)",
            venue.name,
            last,
            f"pausing {venue.name} countdowns {step.pause:.2f} s; " if step.pause is not None else "",
            step.delay,
            attempt + 1,
        )
        clock.sleep(step.delay)
        if step.move is ListingMove.RESYNC_CLOCK:
            link.server_clock.invalidate()
            ev, _ = sync_clock(link, transport, clock, resp)
            if ev is not None:
                seen.append(ev)


def _said(answer: Failure | TransportError) -> str:
    if isinstance(answer, TransportError):
        return str(answer)
    if answer.kind is FailureKind.RATE_LIMITED:
        return f"rate limited ({answer.code or answer.http_status})"
    return f"{answer.code or answer.http_status}: {answer.message or answer.kind.value}"


# -- the bot's side: arm, renew, disarm --------------------------------------------------------------


@dataclass
class Parts:
    """What a switch needs of its client (the client builds it; tests may build one by hand)."""

    journal: Journal
    link: VenueLink
    transport: Transport
    clock: Clock
    rng: random.Random
    policy: RetryPolicy
    owner: str
    proc: str
    bucket: TokenBucket
    account: str
    guardian_config: Callable[[], dict[str, Any]]  # what the guardian process is told on its stdin
    fire_expired: Callable[[str], object]  # fire a predecessor whose heartbeat stopped (its job id)
    is_dead: Callable[[str | None, str | None], bool]


class DeadManSwitch:
    """A dead-man switch over one scope; use it as a context manager (see :meth:`Client.dead_man_switch`).

    ``healthy`` is True while renewals land; a failed renewal makes it False and calls ``on_unhealthy``
    with the reason (in plain words, with when the switch fires unless a renewal lands), so the bot can
    stop trading; ``on_healthy`` is called when renewals land again. ``fired`` is True once the switch
    fired under a live bot (its renewals failed for the whole timeout). A clean exit of the ``with``
    block disarms the switch; leaving it by an exception stops the renewals and leaves the switch armed:
    it fires after the timeout, as it would had the bot died. ``disarm()`` disarms early.
    """

    def __init__(
        self,
        parts: Parts,
        scope: Scope,
        arming: Arming,
        *,
        on_unhealthy: Callable[[str], None] | None = None,
        on_healthy: Callable[[], None] | None = None,
    ) -> None:
        self._p = parts
        self.venue = scope.venue
        self.symbol = scope.symbol
        self.scope = scope
        self.arming = arming
        self.timeout = arming.timeout
        self.mode = arming.mode
        self.on_unhealthy = on_unhealthy
        self.on_healthy = on_healthy
        self.job_id: str | None = None
        self.state = "unarmed"  # unarmed | armed | disarmed | fired | stopped
        self.healthy = False
        self.renewals = 0
        self.failures = 0
        self.last_error: str | None = None
        self.expires_at: float | None = None  # epoch seconds: when the switch fires unless renewed
        self.guardian_pid: int | None = None
        self._guardian: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_ok = 0.0  # monotonic time of the last heartbeat
        self._summary: dict[str, Any] = {"renewals": 0, "failures": 0}
        self._summary_at = 0.0

    # -- public ------------------------------------------------------------------------------

    def describe(self) -> str:
        return self.arming.describe(self.venue, self.symbol)

    def arm(self) -> DeadManSwitch:
        """Store the switch, arm the venue's countdown (native), start the guardian, start renewing.

        Raises:
            LeaseHeld: the same switch is armed and renewed by a live bot.
            AuthError, VenueRejected: the venue refused to arm its countdown (nothing is left armed).
            DeadManError: the guardian did not start, or an expired predecessor could not be settled.
        """
        with self._lock:
            if self.state != "unarmed":
                raise DeadManError(f"the switch is {self.state}; make a new one to arm again")
            p = self._p
            link = p.link
            key = switch_key(self.venue, p.account, link.adapter.base_url, _fp(link), self.symbol)
            job_id = self._job(key)
            self.job_id = job_id
            ttl_ms = self.timeout * 1000
            p.journal.acquire(job_id, p.owner, _ms(p.clock), ttl_ms, p.clock.now(), proc=p.proc, is_dead=p.is_dead)
            asked: Asked | None = None
            if self.mode == "native":
                asked = self._ask(self.timeout, p.clock.monotonic() + min(self.timeout * 0.8, 10.0))
                if asked.countdown is None:
                    self._not_armed(f"the venue did not arm its countdown ({asked.failure})", asked)
                    raise asked.refused or DeadManError(
                        f"job {job_id}: {self.venue} did not arm its countdown ({asked.failure}); nothing is armed"
                    )
            # Journaled as armed before the guardian starts: a job without an `arm` event was never armed (its
            # bot stopped while arming) and is never fired (see Client._run_dead_man).
            note: dict[str, Any] = {
                "armed": True,
                "mode": self.mode,
                "timeout": self.timeout,
                "scope": self.scope.describe(),
                "renew_every_s": round(self.arming.interval, 3),
            }
            if asked is not None and asked.countdown is not None:
                note["countdown"] = self.arming.countdown_symbol or "account"
                note["trigger_ms"] = asked.countdown.trigger_ms
            if self.arming.widened:
                note["widened"] = f"{self.venue}'s countdown is account-wide: it cancels every symbol's orders"
            self._event(Trigger.ARM, note, asked.evidence if asked else [])
            self._last_ok = p.clock.monotonic()
            try:
                p.journal.heartbeat(job_id, p.owner, _ms(p.clock), ttl_ms)
                if self.arming.guardian:
                    self._start_guardian()
                    self._event(Trigger.NOTE, {"guardian": "watching", "pid": self.guardian_pid}, [])
            except BaseException as exc:
                self._abandon(f"the guardian did not start ({exc})")
                raise
            self.state, self.healthy = "armed", True
            self.expires_at = p.clock.now() + self.timeout
            self._summary_at = p.clock.monotonic()
            self._thread = threading.Thread(target=self._run, name=f"safecancel-deadman-{job_id[:8]}", daemon=True)
            self._thread.start()
            log.info("job %s: dead-man switch armed: %s", job_id, self.describe())
            return self

    def disarm(self) -> None:
        """Stop renewing and disarm: the venue's countdown is stopped (native), the job is done, the guardian
        stands down. Orders stay as they are.

        Raises:
            DeadManError: the venue's countdown could not be stopped: it fires at its time unless the
                switch is armed again (the job says so, ``needs_attention``).
        """
        self._halt()
        with self._lock:
            if self.state != "armed":
                return
            p = self._p
            assert self.job_id is not None
            self._fired_yet()
            if self.state != "armed":
                return  # fired already: nothing is left to disarm
            if p.clock.monotonic() > self._last_ok + self.timeout:
                # Ran out before this disarm: the venue's countdown may have struck, and the guardian fires and
                # records it. Saying "disarmed" now would hide that.
                why = (
                    f"the switch ran out before it was disarmed (no renewal landed for {self.timeout} s): the orders "
                    "in scope come off, and the job records what was cancelled"
                )
                self.state, self.healthy, self.last_error = "fired", False, why
                if not self.arming.guardian:
                    p.journal.set_status(self.job_id, JobStatus.NEEDS_ATTENTION, p.clock.now(), why)
                raise DeadManError(f"job {self.job_id}: {why}")
            asked = self._ask(0, p.clock.monotonic() + 10.0) if self.mode == "native" else None
            if asked is not None and asked.countdown is None:
                why = (
                    f"the venue's countdown could not be disarmed ({asked.failure}): it fires when the timeout "
                    "passes and cancels the orders in scope, unless the switch is armed again"
                )
                self._event(Trigger.DISARM, {"disarmed": False, "why": why}, asked.evidence)
                p.journal.set_status(self.job_id, JobStatus.NEEDS_ATTENTION, p.clock.now(), why)
                self.state, self.healthy, self.last_error = "stopped", False, why
                raise DeadManError(f"job {self.job_id}: {why}")
            self._summarize(final=True)
            self._event(Trigger.DISARM, {"disarmed": True, "renewals": self.renewals}, asked.evidence if asked else [])
            p.journal.set_status(self.job_id, JobStatus.DONE, p.clock.now())
            p.journal.release(self.job_id, p.owner)
            self.state, self.healthy, self.expires_at = "disarmed", False, None
            self._stop_guardian()
            log.info("job %s: dead-man switch disarmed after %d renewals", self.job_id, self.renewals)

    def stop(self) -> None:
        """Stop renewing without disarming: the switch fires when the timeout passes (a bot bowing out)."""
        self._halt()
        with self._lock:
            if self.state == "armed":
                self.state, self.healthy = "stopped", False
                self._summarize(final=True)
                log.info("job %s: dead-man switch no longer renewed: it fires unless armed again", self.job_id)

    def __enter__(self) -> DeadManSwitch:
        return self.arm()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.disarm()
        else:
            log.warning(
                "job %s: the block raised; the switch stays armed and fires after %d s", self.job_id, self.timeout
            )
            self.stop()

    # -- renewals ------------------------------------------------------------------------------

    def _run(self) -> None:
        next_at = self._last_ok + self.arming.interval
        while not self._stop.wait(max(0.0, next_at - self._p.clock.monotonic())):
            try:
                ok = self._renew()
            except Exception as exc:  # a bug must not kill the renewals silently
                log.exception("job %s: renewal failed", self.job_id)
                ok = False
                self._unhealthy(f"renewal failed: {type(exc).__name__}: {exc}", [])
            if self.state != "armed":
                return
            self._watch_guardian()
            now = self._p.clock.monotonic()
            next_at = now + (self.arming.interval if ok else min(1.0, self.arming.interval))

    def _renew(self) -> bool:
        p = self._p
        assert self.job_id is not None
        asked = None
        if self.mode == "native":
            # A transient failure is asked again at once, briefly; past that the bot is told at once (it may
            # want to stop trading) and the renewals go on every second until one lands or the switch fires.
            now = p.clock.monotonic()
            fires = self._last_ok + self.timeout - min(1.0, self.timeout * 0.1)
            asked = self._ask(self.timeout, max(now + 0.5, min(fires, now + min(5.0, self.arming.interval))))
            if asked.countdown is None:
                self._unhealthy(f"the venue did not renew its countdown ({asked.failure})", asked.evidence)
                self._fired_yet()
                return False
        try:
            p.journal.heartbeat(self.job_id, p.owner, _ms(p.clock), self.timeout * 1000)
        except ConcurrentUpdate:
            self._fired_yet()
            return False
        except StoreError as exc:
            self._unhealthy(
                f"the heartbeat could not be written to the journal ({exc})", asked.evidence if asked else []
            )
            return False
        with self._lock:
            self._last_ok = p.clock.monotonic()
            self.expires_at = p.clock.now() + self.timeout
            self.renewals += 1
            self._summary["renewals"] += 1
            self._summary["last_ok"] = iso(p.clock.now())
            if asked is not None and asked.countdown is not None:
                self._summary["trigger_ms"] = asked.countdown.trigger_ms
            recovered = not self.healthy
            self.healthy, self.last_error = True, None
        if recovered:
            self._event(
                Trigger.RENEW, {"healthy": True, "after_failures": self.failures}, asked.evidence if asked else []
            )
            if self.on_healthy is not None:
                self.on_healthy()
        elif self.renewals == 1 or p.clock.monotonic() - self._summary_at >= SUMMARY_EVERY_S:
            self._summarize(evidence=asked.evidence[-1:] if asked else [])
        return True

    def _fired_yet(self) -> None:
        """Renewals failing for the whole timeout: a guardian (or a resume) may have fired the switch."""
        p = self._p
        assert self.job_id is not None
        try:
            owner, _, _ = p.journal.lease(self.job_id)
        except StoreError:
            return
        if owner != p.owner:  # taken over by whoever fired it (and released once it was settled)
            with self._lock:
                self.state, self.healthy = "fired", False
                self.last_error = f"the switch fired: no renewal landed for {self.timeout} s"
            self._tell_unhealthy(self.last_error)

    def _unhealthy(self, why: str, seen: list[Evidence]) -> None:
        p = self._p
        with self._lock:
            self.failures += 1
            self._summary["failures"] += 1
            left = max(0.0, self._last_ok + self.timeout - p.clock.monotonic())
            text = f"{why}; the switch fires in {left:.0f} s unless a renewal lands"
            was_healthy = self.healthy
            self.healthy, self.last_error = False, text
        log.warning("job %s: %s", self.job_id, text)
        if was_healthy:  # every change of health is journaled; repeated failures are in the summary
            self._event(Trigger.RENEW, {"healthy": False, "why": why}, seen[-1:])
            self._tell_unhealthy(text)

    def _tell_unhealthy(self, text: str) -> None:
        if self.on_unhealthy is not None:
            try:
                self.on_unhealthy(text)
            except Exception:
                log.exception("job %s: on_unhealthy raised", self.job_id)

    def _summarize(self, *, final: bool = False, evidence: list[Evidence] | None = None) -> None:
        s = self._summary
        if s["renewals"] == 0 and s["failures"] == 0:
            return
        note = dict(s, since=iso(self._p.clock.now() - (self._p.clock.monotonic() - self._summary_at)))
        if final:
            note["final"] = True
        self._event(Trigger.RENEW, note, evidence or [])
        self._summary = {"renewals": 0, "failures": 0}
        self._summary_at = self._p.clock.monotonic()

    def _halt(self) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=max(5.0, self.timeout))

    # -- helpers ---------------------------------------------------------------------------------

    def _ask(self, timeout_s: int, until: float) -> Asked:
        p = self._p
        return ask_countdown(
            p.link, p.transport, p.clock, p.policy, p.rng, p.bucket, self.arming.countdown_symbol, timeout_s, until
        )

    def _event(self, trigger: str, note: dict[str, Any], seen: list[Evidence]) -> None:
        """A job event; every exchange but the last is recorded as a note before it (clock, retries)."""
        p = self._p
        assert self.job_id is not None
        try:
            for ev in seen[:-1]:
                if ev.endpoint == "time":
                    p.journal.record_exchange(self.job_id, ev, p.clock.now(), "server time measured", Trigger.CLOCK)
                else:
                    p.journal.record_exchange(
                        self.job_id, ev, p.clock.now(), f"{trigger}: an attempt before", Trigger.NOTE
                    )
            text = json.dumps(note, separators=(",", ":"), sort_keys=True)
            p.journal.record_event(self.job_id, p.clock.now(), text, trigger, seen[-1] if seen else None)
        except StoreError as exc:  # the journal's trouble is reported; the renewals go on
            log.warning("job %s: could not journal %s: %s", self.job_id, trigger, exc)

    def _job(self, key: str) -> str:
        """The switch's job: a new one, or the same switch carried on (its bot restarted within the
        timeout). A predecessor whose heartbeat stopped is fired first, as it would have been."""
        p = self._p
        link = p.link
        for _ in range(2):
            job, created = p.journal.create_job(
                job_id=_new_id(p.rng),
                key=key,
                venue=self.venue,
                account=p.account,
                refs=[],
                now=p.clock.now(),
                base_url=link.adapter.base_url,
                key_fp=_fp(link),
                derived=True,
                kind=KIND,
                scope=self.arming.scope_json(self.scope),
            )
            if created:
                return job.id
            owner, proc, expires = p.journal.lease(job.id)
            fresh = owner is not None and expires is not None and expires >= _ms(p.clock)
            if not was_armed(p.journal, job.id) and not (fresh and not p.is_dead(owner, proc)):
                # Its bot stopped while arming it: nothing to fire; this arming supersedes it.
                p.journal.record_event(job.id, p.clock.now(), "never armed; superseded by a new arming", Trigger.NOTE)
                p.journal.set_status(job.id, JobStatus.DONE, p.clock.now())
                continue
            if fresh:
                if Arming.from_scope_json(job.scope) != self.arming:
                    raise InputError(
                        f"job {job.id}: this switch is armed already with other settings "
                        f"({Arming.from_scope_json(job.scope).describe(self.venue, self.symbol)}); disarm it first"
                    )
                return job.id  # armed, heartbeat fresh: acquire() carries it on if its holder is gone
            log.warning("job %s: a dead-man switch for this scope expired unsettled; firing it first", job.id)
            p.fire_expired(job.id)
        raise DeadManError(
            "a dead-man switch for this scope fired and its scope is not verified empty yet: "
            "`safecancel resume` continues it (or `safecancel show`) before arming again"
        )

    def _abandon(self, why: str) -> None:
        """Arming failed after the switch was journaled as armed: disarm it again (the venue's countdown too)."""
        p = self._p
        assert self.job_id is not None
        asked = self._ask(0, p.clock.monotonic() + 5.0) if self.mode == "native" else None
        disarmed = asked is None or asked.countdown is not None
        self._event(Trigger.DISARM, {"disarmed": disarmed, "why": why}, asked.evidence if asked else [])
        if disarmed:
            p.journal.set_status(self.job_id, JobStatus.DONE, p.clock.now())
        else:
            said = f"{why}; the venue's countdown could not be disarmed ({asked.failure if asked else ''}): it fires"
            p.journal.set_status(self.job_id, JobStatus.NEEDS_ATTENTION, p.clock.now(), said)
        p.journal.release(self.job_id, p.owner)
        self.state = "stopped"

    def _not_armed(self, why: str, asked: Asked | None) -> None:
        p = self._p
        assert self.job_id is not None
        self._event(Trigger.ARM, {"armed": False, "why": why}, asked.evidence if asked else [])
        p.journal.set_status(self.job_id, JobStatus.DONE, p.clock.now())
        p.journal.release(self.job_id, p.owner)
        self.state = "stopped"

    # -- the guardian process ------------------------------------------------------------------

    def _start_guardian(self) -> None:
        p = self._p
        assert self.job_id is not None
        config = dict(p.guardian_config(), job_id=self.job_id)
        log_path = os.environ.get("SAFECANCEL_GUARDIAN_LOG")
        err = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "safecancel.guardian"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                start_new_session=True,  # outlives the bot's process group (a Ctrl-C, a kill of the group)
                close_fds=True,
                env=_child_env(),
            )
        finally:
            if log_path:
                err.close()  # type: ignore[union-attr]
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(json.dumps(config).encode())  # secrets travel on a pipe, never in argv or env
            child.stdin.close()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([child.stdout], [], [], GUARDIAN_START_S)
        line = child.stdout.readline() if ready else b""
        child.stdout.close()
        if not line.startswith(b"watching"):
            child.kill()
            child.wait()
            raise DeadManError(
                f"the guardian process did not start (exit code {child.returncode}); set SAFECANCEL_GUARDIAN_LOG "
                "to a file to see why"
            )
        self._guardian = child
        self.guardian_pid = child.pid

    def _watch_guardian(self) -> None:
        """Supervise the guardian: one that exits while the switch is armed is started again."""
        g = self._guardian
        if g is None or g.poll() is None or self.state != "armed":
            return
        self._fired_yet()  # a guardian that fired the switch has nothing left to watch
        if self.state != "armed":
            return
        code = g.returncode
        try:
            self._start_guardian()
        except (DeadManError, OSError) as exc:
            self._guardian = None
            self._unhealthy(f"the guardian process exited ({code}) and could not be started again ({exc})", [])
            return
        self._event(Trigger.NOTE, {"guardian": f"exited ({code}); started again", "pid": self.guardian_pid}, [])

    def _stop_guardian(self) -> None:
        g = self._guardian
        if g is None:
            return
        try:
            g.terminate()
            g.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            g.kill()
        self._guardian = None


def _child_env() -> dict[str, str]:
    """The guardian's environment: the bot's, without the SAFECANCEL_* settings (credentials among them:
    the guardian is told what it needs on its stdin)."""
    keep = ("SAFECANCEL_GUARDIAN_LOG",)
    return {k: v for k, v in os.environ.items() if not k.startswith("SAFECANCEL_") or k in keep}


def _fp(link: VenueLink) -> str:
    from .pacing import key_fingerprint  # here: pacing loads the transport (requests), not needed to import

    return key_fingerprint(link.creds.api_key)


def _ms(clock: Clock) -> int:
    return int(clock.now() * 1000)


def _new_id(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


__all__ = [
    "Arming",
    "Asked",
    "DeadManError",
    "DeadManSwitch",
    "KIND",
    "MODES",
    "Parts",
    "ask_countdown",
    "plan_arming",
    "switch_key",
    "was_armed",
]
