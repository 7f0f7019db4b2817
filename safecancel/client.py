"""The synchronous entry point: ``Client.cancel()``, ``resume()``, ``job()``, ``history()``.

A client owns its store, its venue links (adapter, credentials, rate buckets, server clock), its
transport, clock and random source. Nothing is created at import time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import proc
from .clock import SYSTEM_CLOCK, Clock
from .config import (
    DEPRECATED_ARGUMENTS,
    VenueConfig,
    base_url_from_env,
    check_credentials,
    check_url,
    credentials_from_env,
    env_name,
    legacy_configs,
    pacing_from_env,
    venue_configs,
)
from .deadman import KIND as DEAD_MAN
from .deadman import Arming, DeadManSwitch, Parts, plan_arming, was_armed
from .engine import JobRunner, RetryPolicy, VenueLink
from .errors import AuthError, ConcurrentUpdate, InputError, LeaseHeld, ListingIncomplete, VenueRejected
from .inputs import check_account, order_refs, utc_time
from .killswitch import KIND as KILL_SWITCH
from .killswitch import KillSwitch, Sweeps, finish_status
from .listing import Lister
from .model import (
    CancelAllPlan,
    Credentials,
    HttpRequest,
    IdKind,
    JobResult,
    JobStatus,
    JobSummary,
    ListedOrder,
    Listing,
    ListKind,
    OrderRef,
)
from .pacing import key_fingerprint, shared_bucket, shared_pacing
from .scope import Fit, Scope, make_scope
from .states import UNSETTLED, OrderState, StateTable, Trigger
from .store.rows import JobRow, fingerprint, iso
from .transport import RequestsTransport, Transport
from .venues import VENUE_NAMES, Rate, venue_class
from .venues.base import clip, redact_query

if TYPE_CHECKING:  # the journal (SQLAlchemy) is imported where it is opened: a client that only lists never loads it
    from .store import AuditReport, Database, Journal
    from .store.audit import Pruned

log = logging.getLogger("safecancel.client")


MAX_KEY_LENGTH = 200
DEFAULT_DEADLINE = 60.0


class Client:
    """Cancel batches of orders with a journal that never loses track of one.

    Args:
        db: database URL or SQLite path (default ``$SAFECANCEL_DB``, else the per-user journal).
        venues: one :class:`VenueConfig` per venue (a list, or a mapping by venue name): credentials,
            base URL, batch size, pacing rate, adapter options. A venue without one, and every field a
            config leaves unset, falls back to ``SAFECANCEL_<VENUE>_*`` in ``environ``, then to the
            adapter's production defaults.
        retry: transport-level retry policy (only for requests that provably never reached the venue).
        transport, clock, rng: collaborators to inject (tests); default: real HTTP, time and randomness.
        workers: how many requests of a job may be in flight at once (paced per venue and key).
        lease_ttl: seconds after which another runner may take over the job of a runner that vanished.
        deadline: default seconds a ``cancel``/``resume`` call may spend before returning with the
            job still ``open``.
        owner: the lease holder's name (default ``host:pid:nonce``).
        environ: where ``SAFECANCEL_<VENUE>_*`` are read (default ``os.environ``, read at use).
        on_progress: called with ``(job_id, venue, counts)`` as a job advances.
        read_only: open the journal for reading only (``history``, ``job``, ``export``, ``audit``): it is
            never created or migrated (a missing file is an :class:`InputError`), nothing is written,
            and a journal on read-only storage can be read. Calls that write raise :class:`StoreError`.

    Deprecated (one release): ``credentials=``, ``base_urls=``, ``batch_sizes=``, ``venue_options=``
    and ``rates=``, per-venue dicts, still work: they are folded into VenueConfigs and warn once.

    Raises:
        InputError: a bad setting, named (nothing is opened or sent).
    """

    def __init__(
        self,
        db: str | None = None,
        *,
        venues: Mapping[str, VenueConfig] | Iterable[VenueConfig] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        transport: Transport | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        workers: int = 4,
        lease_ttl: float = 30.0,
        deadline: float = DEFAULT_DEADLINE,
        owner: str | None = None,
        environ: Mapping[str, str] | None = None,
        on_progress: Callable[[str, str, dict[str, int]], None] | None = None,
        credentials: Mapping[str, Credentials] | None = None,
        base_urls: Mapping[str, str] | None = None,
        batch_sizes: Mapping[str, int] | None = None,
        venue_options: Mapping[str, Mapping[str, Any]] | None = None,
        rates: Mapping[str, Rate] | None = None,
        read_only: bool = False,
    ) -> None:
        legacy = {
            name: value
            for name, value in zip(DEPRECATED_ARGUMENTS, (credentials, base_urls, batch_sizes, venue_options, rates))
            if value is not None
        }
        if legacy:
            # One warning per Client, naming every old argument used; stacklevel=2 points at the caller.
            warnings.warn(
                f"Client({', '.join(f'{name}=' for name in legacy)}) is deprecated and will be removed in the "
                "next release: pass venues=[VenueConfig(venue, credentials=..., base_url=..., batch_size=..., "
                "rate=..., options=...)] instead",
                DeprecationWarning,
                stacklevel=2,
            )
        configured = venue_configs(venues)
        folded = legacy_configs(legacy)
        for name in folded.keys() & configured.keys():
            given = ", ".join(f"{arg}=" for arg, mapping in legacy.items() if name in mapping)
            raise InputError(f"{name}: configured both in venues= and in {given}; give it in venues= only")
        if not isinstance(workers, int) or workers < 1 or workers > 64:
            raise InputError(f"workers must be between 1 and 64, got {workers!r}")
        self._env = os.environ if environ is None else environ
        # Only what the caller set: the environment is read at use, field by field (see _creds, _base_url).
        self._venues: dict[str, VenueConfig] = {**folded, **configured}
        self._clock = clock or SYSTEM_CLOCK
        self._rng = rng or random.Random()
        self._transport = transport or RequestsTransport(clock=self._clock)
        self._retry = retry
        self._workers = workers
        if isinstance(lease_ttl, bool) or not isinstance(lease_ttl, (int, float)) or not 0 < lease_ttl <= 3600:
            raise InputError(f"lease_ttl must be a positive number of seconds up to 3600, got {lease_ttl!r}")
        self._lease_ttl_ms = int(lease_ttl * 1000)
        self._deadline = deadline
        # The lease holder's name (host:pid:nonce) and what proves it dead on this host (see proc.py).
        nonce = uuid.UUID(int=self._rng.getrandbits(128)).hex[:8]
        default_owner, self._proc = proc.current(nonce)
        self._owner = owner or default_owner
        self._table = StateTable()
        self._db_arg = db
        self._read_only = read_only
        self._db: Database | None = None
        self._journal_: Journal | None = None
        # The journal opens, and venue links are made, on first use from whichever threads call
        # first: one lock, so that there is one Database and one set of rate buckets per key.
        self._lock = threading.RLock()
        self._links: dict[tuple[str, str, str], VenueLink] = {}  # (venue, key fingerprint, base URL)
        self.on_progress = on_progress

    # -- configuration ---------------------------------------------------------------------

    @property
    def _journal(self) -> Journal:
        # Opened on first use: input is validated before the database is created or touched,
        # and a dry run never opens it.
        with self._lock:
            if self._journal_ is None:
                from .store import Database, Journal  # here: SQLAlchemy loads when a journal is opened

                self._db = Database(self._db_arg, read_only=self._read_only)
                self._journal_ = Journal(self._db, self._table)
            return self._journal_

    @property
    def db_url(self) -> str:
        return self._journal.db.display_url

    # The environment fills a venue's unset fields as VenueConfig.with_env does, but one field at a time
    # and only when that field is used: resuming a job that recorded its base URL reads only the
    # credentials, so a stray SAFECANCEL_<VENUE>_BASE_URL cannot stop it, and a venue this client never
    # uses is never read at all.

    def _base_url(self, venue: str) -> str:
        config = self._venues.get(venue)
        if config is not None and config.base_url:
            return config.base_url  # checked when the config was built
        url = base_url_from_env(venue, self._env)
        return check_url(venue, url) if url else venue_class(venue).default_base_url

    def _creds(self, venue: str) -> Credentials:
        config = self._venues.get(venue)
        creds = (config.credentials if config is not None else None) or credentials_from_env(venue, self._env)
        cls = venue_class(venue)
        if creds is None:
            raise InputError(
                f"{venue}: no credentials; pass venues=[VenueConfig({venue!r}, credentials=Credentials(...))] "
                f"or set {env_name(venue, 'api_key')} and {env_name(venue, 'api_secret')}"
            )
        for field in cls.requires:
            if not getattr(creds, field):
                raise InputError(f"{venue}: credential {field} is missing (set {env_name(venue, field)})")
        check_credentials(venue, creds)  # those from the environment have not been checked yet
        return creds

    def _link(self, venue: str, base_url: str | None = None) -> VenueLink:
        """The venue link for this client's credentials, at ``base_url`` (default: the configured one)."""
        creds = self._creds(venue)
        url = base_url or self._base_url(venue)
        key_id = key_fingerprint(creds.api_key)
        with self._lock:  # one link per venue, key and endpoint
            link = self._links.get((venue, key_id, url))
            if link is None:
                cls = venue_class(venue)
                config = self._venues.get(venue) or VenueConfig(venue)
                try:
                    adapter = cls(url, max_batch=config.batch_size, **config.options)
                except TypeError as exc:
                    raise InputError(f"{venue}: bad venue option: {exc}") from None
                # The venue's documented accounting (safecancel.pacing): each kind's own rate, and the budget
                # they share where the venue has one; VenueConfig.rate and .pacing as documented there.
                pacing = config.pacing or pacing_from_env(venue, self._env)
                paced = shared_pacing(cls, key_id, url, self._clock, rate=config.rate, pacing=pacing)
                link = VenueLink(adapter, creds, paced.cancel, paced.query, paced.server_clock, paced.list)
                self._links[(venue, key_id, url)] = link
            return link

    # -- input -----------------------------------------------------------------------------

    def _refs(
        self,
        venue: str,
        symbol: str | None,
        order_ids: Iterable[Any] | None,
        client_order_ids: Iterable[Any] | None,
        orders: Iterable[OrderRef] | None,
    ) -> list[OrderRef]:
        return order_refs(venue, self._base_url(venue), symbol, order_ids, client_order_ids, orders)

    def _key(self, key: str | None, venue: str, account: str, refs: Sequence[OrderRef], link: VenueLink) -> str:
        if key is None:
            # The same orders, account and environment (endpoint and API key): a testnet job and a
            # production job for the same ids are different jobs.
            env = f"{link.adapter.base_url}|{key_fingerprint(link.creds.api_key)}"
            return "sc-" + hashlib.sha256(f"{venue}|{account}|{env}|{fingerprint(refs)}".encode()).hexdigest()[:24]
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise InputError(f"idempotency key must be 1-{MAX_KEY_LENGTH} printable characters, got {clip(key)}")
        return key

    def _deadline_at(self, deadline: float | None) -> float:
        seconds = self._deadline if deadline is None else deadline
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
            raise InputError(f"deadline must be a positive number of seconds, got {deadline!r}")
        return self._clock.monotonic() + float(seconds)

    # -- public API ------------------------------------------------------------------------

    def cancel(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        order_ids: Iterable[Any] | None = None,
        client_order_ids: Iterable[Any] | None = None,
        orders: Iterable[OrderRef] | None = None,
        key: str | None = None,
        account: str = "default",
        deadline: float | None = None,
        wait: bool = False,
    ) -> JobResult:
        """Cancel a batch of orders and return where each one stands.

        Everything is validated first (nothing is stored on bad input); then the job and all its
        orders are committed as ``pending`` before the first request. The call returns when every
        order is ``cancelled`` or ``failed``, or when ``deadline`` seconds have passed -- then the job
        stays ``open`` and :meth:`resume` continues it.

        Without ``key``, the key is derived from the venue, account, environment (base URL and API
        key) and the order set, and it joins only an *unfinished* job: calling again after a crash
        continues the job (or creates it, if the crash came before it was stored); calling again
        after the job finished is a new job that asks the venue again. A ``key`` you give is
        exact-once for as long as the job exists. If another live runner holds the job, the result
        says so in ``held_by`` (``wait=True`` waits for it, up to the deadline).

        Raises:
            InputError: bad venue, symbol, ids, key or credentials (nothing stored or sent).
            IdempotencyConflict: ``key`` already names a job with a different set of orders.
            AuthError: the venue refused the credentials (the job stays open; ``exc.job_id``).
            VenueRejected: the venue refused the requests as a whole, repeatedly (e.g. a wrong base
                URL answering 404): nothing applied, the job is ``needs_attention`` (``exc.job_id``).
        """
        venue_class(venue)
        check_account(account)
        refs = self._refs(venue, symbol, order_ids, client_order_ids, orders)
        link = self._link(venue)  # credentials checked before anything is stored
        until = self._deadline_at(deadline)
        job_key = self._key(key, venue, account, refs, link)
        job_id = uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
        job, created = self._journal.create_job(
            job_id=job_id,
            key=job_key,
            venue=venue,
            account=account,
            refs=refs,
            now=self._clock.now(),
            base_url=link.adapter.base_url,
            key_fp=key_fingerprint(link.creds.api_key),
            derived=key is None,
        )
        if not created:
            log.info("key %s names job %s already; continuing it", job_key, job.id)
        return self._run_job(job, until, wait=wait, raise_venue_errors=True)

    def cancel_many(
        self, batches: Sequence[Mapping[str, Any]], *, deadline: float | None = None, max_jobs: int = 8
    ) -> list[JobResult]:
        """Run several cancels at once (e.g. every symbol on every venue), one job each, concurrently.

        Each batch is the keyword arguments of :meth:`cancel` (``venue``, ``symbol``, ``order_ids`` ...).
        Every batch is validated before any job is stored, so one bad batch stores and sends nothing.
        Requests to one venue and key share its rate limit across all the jobs. Results come back in
        the order of ``batches``.
        """
        allowed = {"venue", "symbol", "order_ids", "client_order_ids", "orders", "key", "account"}
        for i, b in enumerate(batches):
            extra = set(b) - allowed
            if extra or "venue" not in b:
                raise InputError(f"batch {i}: expected keys {sorted(allowed)} with a venue, got {sorted(b)}")
            venue_class(b["venue"])
            self._refs(b["venue"], b.get("symbol"), b.get("order_ids"), b.get("client_order_ids"), b.get("orders"))
            self._link(b["venue"])
        if not batches:
            raise InputError("no batches given")
        with ThreadPoolExecutor(
            max_workers=max(1, min(max_jobs, len(batches))), thread_name_prefix="safecancel-job"
        ) as pool:
            futures = [pool.submit(self.cancel, **b, deadline=deadline) for b in batches]
            return [f.result() for f in futures]

    def resume(
        self, job_id: str | None = None, *, deadline: float | None = None, wait: bool = False, rebind: bool = False
    ) -> list[JobResult]:
        """Continue unfinished jobs (one, or every one in the journal) after a crash or a deadline.

        Orders left ``sent`` by a dead run become ``unknown`` and are queried before any re-send.
        A job whose runner provably died on this host (its process is gone) is taken over at once;
        a job held by a runner that may be alive is left to it until its lease expires, and comes
        back with ``held_by`` saying who holds it and until when (``wait=True`` waits for such jobs,
        up to the deadline, and finishes them). Without ``job_id``, jobs are claimed one at a time,
        oldest first (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL), so runners in several
        threads, processes or hosts sharing one journal split the unfinished jobs between them.

        Each job runs against the base URL it was created with, and only under an API key with the
        fingerprint it was created with; a job this host cannot run (no credentials for its venue,
        another key) is skipped and comes back with ``skipped`` saying why, and the other jobs still
        run. ``rebind=True`` (with ``job_id``) moves the job on purpose to the base URL and key this
        client is configured with, recorded as a ``rebind`` event. Venue errors do not stop the other
        jobs: a job the venue refused comes back with ``problem`` and ``attention`` set.

        Returns every job that was unfinished when the call started, then any job it ran that
        appeared meanwhile, each as it stands at the end.
        """
        until = self._deadline_at(deadline)
        if job_id:
            job = self._journal.get_job(job_id)
            if job is None:
                raise InputError(f"no job {job_id!r} in {self.db_url}")
            return [self._run_job(job, until, wait=wait, rebind=rebind)]
        if rebind:
            raise InputError("rebind moves one job on purpose: give its job id")
        # An armed dead-man switch whose heartbeat is fresh is its bot's, not unfinished work.
        reported = [j for j in self._journal.unfinished_job_ids() if not self._armed(j)]
        results: dict[str, JobResult] = {}
        waiting_for: list[str] = []
        while True:
            while (
                jid := self._journal.claim_next(
                    self._owner,
                    int(self._clock.now() * 1000),
                    self._lease_ttl_ms,
                    exclude=results,
                    proc=self._proc,
                    is_dead=proc.holder_is_dead,
                    same_host=proc.hostname(),
                )
            ) is not None:
                job = self._journal.get_job(jid)
                assert job is not None
                results[jid] = self._run_job(job, until, wait=False, claimed=True)
            held = [j for j in self._journal.unfinished_job_ids() if j not in results and not self._armed(j)]
            if not wait or not held or self._clock.monotonic() >= until:
                break
            if held != waiting_for:
                log.warning("waiting for %d jobs other runners hold: %s", len(held), ", ".join(held))
                waiting_for = held
            self._clock.sleep(min(1.0, max(0.0, until - self._clock.monotonic())))
        out = []
        for jid in reported + [j for j in results if j not in set(reported)]:
            out.append(results.get(jid) or self._held_result(jid))
        return out

    def _armed(self, job_id: str) -> bool:
        """A dead-man switch whose bot's heartbeat is fresh (it fires only once that lease expires)."""
        job = self._journal.get_job(job_id)
        if job is None or job.kind != DEAD_MAN:
            return False
        owner, _, expires_ms = self._journal.lease(job_id)
        return owner is not None and expires_ms is not None and expires_ms >= int(self._clock.now() * 1000)

    def rebind(self, job_id: str) -> JobResult:
        """Move an unfinished job on purpose to the base URL and API key this client is configured
        with for its venue (a typo'd URL fixed, a key rotated), recorded as a ``rebind`` event.

        A job otherwise always runs where it was created. Nothing is sent; :meth:`resume` runs it.
        """
        job = self._journal.get_job(job_id)
        if job is None:
            raise InputError(f"no job {job_id!r} in {self.db_url}")
        if job.status == JobStatus.DONE:
            raise InputError(f"job {job_id} is done; there is nothing left to move")
        link = self._link(job.venue)
        self._journal.rebind(
            job.id,
            link.adapter.base_url,
            key_fingerprint(link.creds.api_key),
            self._clock.now(),
            "moved on purpose (rebind)",
        )
        return self._journal.job_result(job_id, with_events=False)

    def _held_result(self, job_id: str) -> JobResult:
        """A job this call did not run: as it stands, with who holds it if someone does."""
        result = self._journal.job_result(job_id, with_events=False)
        owner, _, expires_ms = self._journal.lease(job_id)
        now = self._clock.now()
        if result.status != JobStatus.DONE and owner and expires_ms and expires_ms / 1000 > now:
            return replace(result, held_by=str(LeaseHeld(job_id, owner, expires_ms / 1000, now=now)))
        return result

    def _job_link(self, job: JobRow, *, rebind: bool) -> VenueLink:
        """The link a job runs on: the base URL it was created with, under a key with its fingerprint.

        Raises :class:`InputError` saying why this host cannot run the job.
        """
        if rebind:
            self.rebind(job.id)
            return self._link(job.venue)
        if job.base_url is None:
            link = self._link(job.venue)
            why = "bound on its first run (created before jobs recorded their environment)"
            self._journal.rebind(
                job.id, link.adapter.base_url, key_fingerprint(link.creds.api_key), self._clock.now(), why
            )
            return link
        creds = self._creds(job.venue)
        fp = key_fingerprint(creds.api_key)
        if job.key_fp is not None and job.key_fp != fp:
            raise InputError(
                f"job {job.id} was created under another {job.venue} API key (fingerprint {job.key_fp}; the key "
                f"configured here is {fp}): run it where that key is configured, or move it on purpose with "
                f"`safecancel resume --job {job.id} --rebind`"
            )
        return self._link(job.venue, job.base_url)

    def _run_job(
        self,
        job: JobRow,
        until: float,
        *,
        wait: bool,
        claimed: bool = False,
        rebind: bool = False,
        raise_venue_errors: bool = False,
    ) -> JobResult:
        """Run one job to its end or the deadline; return it as it stands (with why it stopped short)."""
        if job.status == JobStatus.DONE and not rebind:
            return self._journal.job_result(job.id, with_events=False)
        try:
            link = self._job_link(job, rebind=rebind)
        except InputError as exc:
            if claimed:
                self._journal.release(job.id, self._owner)  # let a host that can run it take it
            if raise_venue_errors:
                raise
            log.warning("skipping job %s: %s", job.id, exc)
            return replace(self._journal.job_result(job.id, with_events=False), skipped=str(exc))
        if job.kind == KILL_SWITCH:
            return self._run_kill_switch(job, link, until, wait=wait, raise_venue_errors=raise_venue_errors)
        if job.kind == DEAD_MAN:
            return self._run_dead_man(job, link, until, wait=wait, raise_venue_errors=raise_venue_errors)
        problem, held = self._engine_run(job.id, link, until, wait=wait, raise_venue_errors=raise_venue_errors)
        # Without events: a 100k-order job has 300k of them. `job(job_id)` returns them.
        return replace(self._journal.job_result(job.id, with_events=False), problem=problem, held_by=held)

    def _engine_run(
        self, job_id: str, link: VenueLink, until: float, *, wait: bool, raise_venue_errors: bool
    ) -> tuple[str | None, str | None]:
        """Run the job's orders through the engine once; ``(problem, held_by)``: why it stopped short."""
        said = False
        while True:
            try:
                self._runner(link).run(job_id, until)
            except LeaseHeld as exc:
                if wait and self._clock.monotonic() < until:
                    if not said:
                        log.warning("%s; waiting for it (up to the deadline)", exc)
                        said = True
                    # Polled: the holder may finish, release, or die (then it is taken over at once).
                    self._clock.sleep(min(1.0, max(0.0, until - self._clock.monotonic())))
                    continue
                return None, str(exc)
            except ConcurrentUpdate as exc:  # another runner took the job over; it finishes it
                log.debug("job %s: %s", job_id, exc)  # the engine said so at WARNING
            except (AuthError, VenueRejected) as exc:
                if raise_venue_errors:
                    exc.job_id = job_id
                    raise
                log.warning("job %s: %s", job_id, exc)
                return ("auth" if isinstance(exc, AuthError) else "venue"), None
            return None, None

    def _run_kill_switch(
        self, job: JobRow, link: VenueLink, until: float, *, wait: bool, raise_venue_errors: bool
    ) -> JobResult:
        """Sweep a kill switch's scope and cancel what is in it until a listing shows it empty."""
        scope = Scope.from_json(job.scope or "{}")
        cls = venue_class(job.venue)
        config = self._venues.get(job.venue) or VenueConfig(job.venue)
        native_bucket = shared_bucket(
            "cancel_all",
            cls,
            key_fingerprint(link.creds.api_key),
            link.adapter.base_url,
            self._clock,
            rate=config.rate,
            pacing=config.pacing,
        )

        def lister(deadline: float) -> Lister:
            return Lister(link, self._transport, self._clock, self._retry, self._rng, deadline=deadline)

        switch = KillSwitch(self._journal, link, lister, self._clock, scope, job.id, self._transport, native_bucket)
        outcome: dict[str, str | None] = {"problem": None, "held": None}

        def run_engine() -> bool:
            problem, held = self._engine_run(job.id, link, until, wait=wait, raise_venue_errors=raise_venue_errors)
            outcome.update(problem=problem, held=held)
            return problem is None and held is None

        found = Sweeps()
        try:
            switch.run(until, run_engine, lambda: lister(until).account(), found)
        except ListingIncomplete as exc:
            found.verified = False
            found.attention = f"the venue could not be listed to the end: {exc}"
            timed_out = self._clock.monotonic() >= until
            status, why = finish_status(self._journal, job.id, found, self._clock.now(), timed_out=timed_out)
            self._journal.set_status(job.id, JobStatus.OPEN if timed_out else status, self._clock.now(), why)
        except (AuthError, VenueRejected) as exc:
            outcome["problem"] = "auth" if isinstance(exc, AuthError) else "venue"
            # As for a cancel: refused credentials leave the job open, refused requests ask for attention.
            status = JobStatus.OPEN if isinstance(exc, AuthError) else JobStatus.NEEDS_ATTENTION
            self._journal.set_status(job.id, status, self._clock.now(), f"the scope could not be swept: {exc}")
            if raise_venue_errors:
                exc.job_id = job.id
                raise
            log.warning("job %s: %s", job.id, exc)
        else:
            timed_out = self._clock.monotonic() >= until
            status, why = finish_status(self._journal, job.id, found, self._clock.now(), timed_out=timed_out)
            if outcome["held"] is None:
                self._journal.set_status(job.id, status, self._clock.now(), why)
        if found.attention and outcome["problem"] is None and not found.verified:
            log.warning("job %s: %s", job.id, found.attention)
        return replace(
            self._journal.job_result(job.id, with_events=False),
            problem=outcome["problem"],
            held_by=outcome["held"],
            still_open=tuple(found.still_open) if not found.verified else (),
        )

    def _run_dead_man(
        self,
        job: JobRow,
        link: VenueLink,
        until: float,
        *,
        wait: bool,
        raise_venue_errors: bool,
        watched: Sequence[ListedOrder] = (),
    ) -> JobResult:
        """Fire a dead-man switch whose heartbeats stopped for its timeout, and verify: the orders open at
        the guardian's last listing (``watched``) join the job -- ``unknown`` where the venue's countdown
        may have cancelled them, so they are asked about first -- and the job runs as a kill switch over
        the scope. A switch whose heartbeat is fresh is left to its bot (``held_by`` says until when)."""
        arming = Arming.from_scope_json(job.scope)
        now = self._clock.now()
        owner, _, expires_ms = self._journal.lease(job.id)
        if not was_armed(self._journal, job.id) and (owner in (None, self._owner) or (expires_ms or 0) < now * 1000):
            # Its bot stopped while arming it (no `arm` event): nothing watched it, so nothing fires.
            self._journal.record_event(
                job.id, now, "never armed (its bot stopped while arming): nothing to fire", Trigger.NOTE
            )
            self._journal.set_status(job.id, JobStatus.DONE, now)
            self._journal.release(job.id, self._owner)
            return self._journal.job_result(job.id, with_events=False)
        if owner is not None and owner != self._owner and expires_ms is not None and expires_ms >= int(now * 1000):
            held = LeaseHeld(job.id, owner, expires_ms / 1000, now=now)
            return replace(self._journal.job_result(job.id, with_events=False), held_by=f"armed: {held}")
        try:  # compare-and-set on the lease: a renewal landing at this instant wins, and nothing fires
            self._journal.acquire(job.id, self._owner, int(now * 1000), self._lease_ttl_ms, now, proc=self._proc)
        except LeaseHeld as exc:
            return replace(self._journal.job_result(job.id, with_events=False), held_by=f"armed: {exc}")
        stopped = None if owner == self._owner or expires_ms is None else expires_ms / 1000 - arming.timeout
        note: dict[str, Any] = {
            "why": f"no heartbeat for {arming.timeout} s",
            "last_heartbeat": iso(stopped) if stopped is not None else None,
            "mode": arming.mode,
            "watched": len(watched),
        }
        if arming.mode == "native":
            note["native"] = "the venue's countdown cancels in its scope by itself; what it left is cancelled here"
        self._journal.record_event(job.id, now, json.dumps(note, separators=(",", ":"), sort_keys=True), Trigger.FIRE)
        log.warning("job %s: dead-man switch fired (%s)", job.id, note["why"])
        scope = Scope.from_json(job.scope or "{}")
        separate = ListKind.CONDITIONAL in link.adapter.list_kinds
        refs = []
        for o in watched:
            if scope.fit(o) is not Fit.IN:
                continue
            ref = o.ref(separate_conditional=separate)
            try:
                link.adapter.validate([ref])
            except InputError:
                continue  # the sweeps list it again and say why it cannot be cancelled by id
            refs.append(ref)
        if refs:
            self._journal.add_orders(
                job.id,
                refs,
                now,
                None,
                "open at the guardian's last listing before the switch fired",
                state=OrderState.UNKNOWN if arming.mode == "native" else OrderState.PENDING,
            )
        return self._run_kill_switch(job, link, until, wait=wait, raise_venue_errors=raise_venue_errors)

    def _fire_dead_man(self, job_id: str, watched: Sequence[ListedOrder] = ()) -> JobResult:
        """Fire and verify one expired dead-man switch (the guardian's, or arming's for a predecessor)."""
        job = self._journal.get_job(job_id)
        if job is None:
            raise InputError(f"no job {job_id!r} in {self.db_url}")
        if job.status == JobStatus.DONE:
            return self._journal.job_result(job_id, with_events=False)
        link = self._job_link(job, rebind=False)
        return self._run_dead_man(
            job, link, self._deadline_at(None), wait=False, raise_venue_errors=False, watched=watched
        )

    def dead_man_switch(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        timeout: int = 60,
        mode: str = "auto",
        guardian: bool = True,
        include_conditional: bool = True,
        on_unhealthy: Callable[[str], None] | None = None,
        on_healthy: Callable[[], None] | None = None,
        account: str = "default",
    ) -> DeadManSwitch:
        """A dead-man switch: if the bot stops renewing it for ``timeout`` seconds, its orders come off.

        Use it as a context manager: ``with client.dead_man_switch("binance_coinm", "BTCUSD_PERP",
        timeout=60) as switch: ...``. Arming stores a journaled job (kind ``deadman``) and renews it from a
        background thread every ``timeout / 3`` seconds. ``mode``: "auto" uses the venue's own countdown
        where it has one (Binance COIN-M per symbol -- a symbol is needed; BingX and HTX per account, so a
        symbol there widens to the whole account, said in the journal) and a guardian process alone where
        it has none (BitoPro, Bitget); "native" insists on the venue's countdown, "guardian" on the guardian.
        The guardian (``guardian=True``; required without a countdown) runs in a session of its own, watches
        the heartbeat, and when it stops for the timeout fires the switch: a journaled kill switch over the
        scope, which also records what the venue's countdown cancelled. ``switch.healthy`` turns False and
        ``on_unhealthy(reason)`` is called while renewals fail. A clean exit of the block disarms; an
        exception leaves the switch to fire. See :class:`~safecancel.deadman.DeadManSwitch`.

        Raises:
            InputError: bad venue, symbol, mode or timeout (the venue's countdown range: Binance COIN-M 1-3600 s,
                BingX 10-120 s, HTX 5-3600 s; a guardian 5-3600 s) or credentials (nothing stored or sent).
        """
        check_account(account)
        cls = venue_class(venue)
        if symbol is not None and not isinstance(symbol, str):
            raise InputError(f"{venue}: symbol must be a string, got {clip(symbol)}")
        arming = plan_arming(cls, symbol, timeout, mode, guardian)
        scope, link = self._kill_scope(venue, symbol, None, None, include_conditional, False)
        key_id = key_fingerprint(link.creds.api_key)
        venue_config = self._venues.get(venue) or VenueConfig(venue)
        bucket = shared_bucket(
            "countdown",
            cls,
            key_id,
            link.adapter.base_url,
            self._clock,
            rate=venue_config.rate,
            pacing=venue_config.pacing,
        )

        def guardian_config() -> dict[str, Any]:
            config = self._venues.get(venue) or VenueConfig(venue)
            creds = link.creds
            return {
                "db": self._journal.db.url.render_as_string(hide_password=False),
                "venue": venue,
                "base_url": link.adapter.base_url,
                "credentials": {
                    "api_key": creds.api_key,
                    "api_secret": creds.api_secret,
                    "passphrase": creds.passphrase,
                    "identity": creds.identity,
                },
                "batch_size": config.batch_size,
                "rate": [config.rate.requests, config.rate.per_seconds] if config.rate is not None else None,
                "pacing": config.pacing,
                "options": dict(config.options),
                "lease_ttl": self._lease_ttl_ms / 1000,
            }

        parts = Parts(
            journal=self._journal,
            link=link,
            transport=self._transport,
            clock=self._clock,
            rng=self._rng,
            policy=self._retry,
            owner=self._owner,
            proc=self._proc,
            bucket=bucket,
            account=account,
            guardian_config=guardian_config,
            fire_expired=self._fire_dead_man,
            is_dead=proc.holder_is_dead,
        )
        return DeadManSwitch(parts, scope, arming, on_unhealthy=on_unhealthy, on_healthy=on_healthy)

    def existing_job(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        order_ids: Iterable[Any] | None = None,
        client_order_ids: Iterable[Any] | None = None,
        orders: Iterable[OrderRef] | None = None,
        key: str | None = None,
        account: str = "default",
    ) -> JobResult | None:
        """The job a :meth:`cancel` with these arguments would join, or None if it would create one.

        Read only: a journal that does not exist yet is not created.
        """
        check_account(account)
        refs = self._refs(venue, symbol, order_ids, client_order_ids, orders)
        link = self._link(venue)
        job_key = self._key(key, venue, account, refs, link)
        with self._lock:
            if self._journal_ is None:
                from .store import Database, Journal  # here: SQLAlchemy loads when a journal is opened

                try:
                    self._db = Database(self._db_arg, create=False, read_only=self._read_only)
                except InputError:
                    return None  # no journal yet: a real run would create the job
                self._journal_ = Journal(self._db, self._table)
        job = self._journal.find_job(job_key, derived=key is None)
        return None if job is None else self._journal.job_result(job.id, with_events=False)

    def open_orders(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        include_conditional: bool = True,
        deadline: float | None = None,
    ) -> Listing:
        """Every open order of the account on ``venue`` (of ``symbol``, or of every symbol), read from the
        venue's own listing to its last page.

        Conditional (trigger / algo / plan) orders are included: on venues that keep them on a list of
        their own (``ListKind.CONDITIONAL`` in the adapter's ``list_kinds``) that list is read too, unless
        ``include_conditional`` is False; elsewhere they rest on the ordinary list and are marked
        ``conditional``. Nothing is journaled and nothing on the venue changes. ``complete`` is False
        when the venue capped a listing (BingX returns at most 2000 open orders, with no next page).

        Raises:
            InputError: bad venue or symbol, a venue that needs a symbol for this listing, missing
                credentials (nothing sent).
            AuthError: the venue refused the credentials.
            VenueRejected: the venue kept refusing the listing request (e.g. a wrong base URL).
            ListingIncomplete: the listing could not be read to its last page within ``deadline``.
        """
        cls = venue_class(venue)
        if symbol is not None and not isinstance(symbol, str):
            raise InputError(f"{venue}: symbol must be a string, got {clip(symbol)}")
        kinds = [ListKind.OPEN]
        if include_conditional and ListKind.CONDITIONAL in cls.list_kinds:
            kinds.append(ListKind.CONDITIONAL)
        for kind in kinds:
            if symbol is None and kind in cls.list_needs_symbol:
                raise InputError(f"{venue}: listing {kind.value} orders needs a symbol (e.g. {cls.example_symbol})")
        link = self._link(venue)
        if symbol is not None:
            link.adapter.validate([OrderRef(symbol, order_id="1")])  # the symbol, named if bad, before any request
        until = self._deadline_at(deadline)
        lister = Lister(link, self._transport, self._clock, self._retry, self._rng, deadline=until)
        started = self._clock.now()
        orders: list[ListedOrder] = []
        for kind in kinds:
            orders.extend(lister.read(kind, symbol))
        return Listing(
            venue=venue,
            symbol=symbol,
            kinds=tuple(k.value for k in kinds),
            orders=tuple(orders),
            pages=lister.pages,
            requests=lister.requests,
            started_at=iso(started),
            listed_at=iso(self._clock.now()),
            complete=not lister.capped,
        )

    def _kill_scope(
        self,
        venue: str,
        symbol: str | None,
        client_prefix: str | None,
        client_id_range: tuple[int, int] | str | None,
        include_conditional: bool,
        native: bool,
    ) -> tuple[Scope, VenueLink]:
        """A checked kill-switch scope and the venue link (credentials checked): nothing is sent."""
        cls = venue_class(venue)
        if symbol is not None and not isinstance(symbol, str):
            raise InputError(f"{venue}: symbol must be a string, got {clip(symbol)}")
        scope = make_scope(
            venue,
            symbol,
            client_prefix=client_prefix,
            client_id_range=client_id_range,
            include_conditional=include_conditional,
            native=native,
            numeric_client_ids=cls.numeric_client_ids,
        )
        if native and symbol is None and cls.cancel_all_needs_symbol:
            raise InputError(
                f"{venue}: the venue's own cancel-all needs a symbol (--symbol, e.g. {cls.example_symbol})"
            )
        link = self._link(venue)
        if symbol is not None:
            link.adapter.validate([OrderRef(symbol, order_id="1")])  # the symbol, named if bad, before any request
        return scope, link

    def cancel_all(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        client_prefix: str | None = None,
        client_id_range: tuple[int, int] | str | None = None,
        include_conditional: bool = True,
        native: bool = False,
        deadline: float | None = None,
        account: str = "default",
    ) -> JobResult:
        """The kill switch: cancel every open order in scope and verify from the venue's listing that none is left.

        The scope is the account's open orders on ``venue`` (of ``symbol``, or of every symbol), only the
        caller's own where ``client_prefix`` is given (venues with string client ids) or
        ``client_id_range=(low, high)`` (BitoPro, whose client ids are integers), conditional orders
        included unless ``include_conditional`` is False. One journaled job: each sweep lists the venue
        (recorded as evidence), adds the orders in scope as ``pending`` before they are cancelled through
        the ordinary engine, and lists again -- orders placed meanwhile are caught -- until a listing shows
        the scope empty (``verified_empty_at``, with that listing's evidence row in ``verified_evidence``)
        or the deadline passes (``still_open`` names what the last listing showed; the job stays open and
        :meth:`resume` sweeps again). ``native``: strike first with the venue's own cancel-all (never
        with a client-id scope: it cancels everyone's orders); its reply settles nothing.

        Raises:
            InputError: bad venue, symbol, prefix, range or credentials (nothing stored or sent).
            AuthError: the venue refused the credentials (the job stays open; ``exc.job_id``).
            VenueRejected: the venue kept refusing the requests (e.g. a wrong base URL; ``exc.job_id``).
        """
        check_account(account)
        scope, link = self._kill_scope(venue, symbol, client_prefix, client_id_range, include_conditional, native)
        until = self._deadline_at(deadline)
        job_id = uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
        job, _ = self._journal.create_job(
            job_id=job_id,
            key=f"cancel-all-{job_id}",  # every kill switch is a new job: it asks the venue afresh
            venue=venue,
            account=account,
            refs=[],
            now=self._clock.now(),
            base_url=link.adapter.base_url,
            key_fp=key_fingerprint(link.creds.api_key),
            kind=KILL_SWITCH,
            scope=scope.to_json(),
        )
        log.debug("job %s: kill switch on %s", job.id, scope.describe())  # the run says it at INFO
        return self._run_job(job, until, wait=False, raise_venue_errors=True)

    def plan_cancel_all(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        client_prefix: str | None = None,
        client_id_range: tuple[int, int] | str | None = None,
        include_conditional: bool = True,
        deadline: float | None = None,
    ) -> CancelAllPlan:
        """What :meth:`cancel_all` would cancel now: the venue's listing, filtered to the scope.
        Read-only (``cancel-all --dry-run``): nothing is stored, nothing is cancelled."""
        scope, _ = self._kill_scope(venue, symbol, client_prefix, client_id_range, include_conditional, False)
        listing = self.open_orders(venue, symbol, include_conditional=include_conditional, deadline=deadline)
        fits = [(o, scope.fit(o)) for o in listing.orders]
        in_scope = replace(listing, orders=tuple(o for o, f in fits if f is Fit.IN))
        unsure = sum(1 for _, f in fits if f is Fit.UNSURE)
        return CancelAllPlan(scope.describe(), in_scope, len(listing.orders), unsure)

    def job(self, job_id: str, *, evidence: bool = False) -> JobResult:
        """A job with its orders and events; ``evidence=True`` adds to each event that recorded an HTTP
        exchange the exchange itself (request without secrets, the venue's reply as stored, bounded)."""
        return self._journal.job_result(job_id, with_evidence=evidence)

    def history(
        self,
        *,
        venue: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        state: str | None = None,
        symbol: str | None = None,
        order_id: str | None = None,
        limit: int | None = None,
    ) -> list[JobSummary]:
        """Jobs, newest first, filtered by venue, creation time, order state, symbol or exact order id.

        ``since``/``until``: an aware ``datetime`` or ISO-8601 text (with an offset or ``Z``; text without
        one is UTC); anything else raises :class:`InputError`.
        """
        if venue is not None:
            venue_class(venue)
        if state is not None and state not in set(OrderState):
            raise InputError(f"state: {state!r} is not one of {', '.join(OrderState)}")
        return self._journal.history(
            venue=venue,
            since=utc_time(since, "since"),
            until=utc_time(until, "until"),
            state=state,
            symbol=symbol,
            order_id=order_id,
            limit=limit,
        )

    def resolve(self, job_id: str, order: str, as_state: str, note: str) -> JobResult:
        """Record an operator's decision for an ``unknown`` order the venue can no longer answer for."""
        row = self._journal.find_order(job_id, order)
        self._journal.resolve(job_id, row.pk, as_state, note, self._clock.now())
        if not self._journal.orders(job_id, UNSETTLED):
            self._journal.set_status(job_id, JobStatus.DONE, self._clock.now())
        return self._journal.job_result(job_id)

    def verify_journal(self) -> tuple[bool, int, str | None]:
        """Check the hash chain and every row against its events: ``(ok, events_checked, first_problem)``."""
        return self._journal.verify()

    def audit(self) -> AuditReport:
        """Prove the journal: the hash chain, then every job and order row equal to the replay of its
        events. ``report.ok``; ``report.problem`` names the first broken event or differing row."""
        return self._journal.audit()

    def journal_head(self) -> tuple[int, str]:
        """The chain head ``(seq, hash)``; kept somewhere else, it anchors the journal against rewrites."""
        return self._journal.head()

    def export(
        self,
        table: str = "events",
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        venue: str | None = None,
        job: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stream ``jobs``, ``orders`` or ``events`` of jobs created in [since, until) (times as for
        :meth:`history`), of one venue or of one ``job``, as flat dicts in bounded memory."""
        if venue is not None:
            venue_class(venue)
        s, u = utc_time(since, "since"), utc_time(until, "until")
        if job is not None and self._journal.get_job(job) is None:
            raise InputError(f"no job {job!r} in {self.db_url}")
        return self._journal.export(table, since=s, until=u, venue=venue, job=job)

    def export_columns(self, table: str) -> list[str]:
        return self._journal.export_columns(table)

    def prune(
        self,
        before: str | datetime,
        *,
        dry_run: bool = False,
        confirm: Callable[[int, int], bool] | None = None,
    ) -> Pruned:
        """Remove finished jobs created before ``before`` (an aware ``datetime`` or ISO-8601 text, as for
        :meth:`history`); the chain keeps verifying.

        Returns ``(jobs_removed, events_removed)``; with ``dry_run`` what it would remove, removing
        nothing. The tuple is a ``safecancel.store.audit.Pruned``, which also carries ``planned``, the
        ``(jobs, events)`` the plan held, and ``verify``, the :class:`AuditReport` of the journal as
        found, or after the cut. The journal is audited once per call.
        ``confirm(jobs, events)``, when given, is asked after the audit and before anything is removed;
        False removes nothing. Unfinished jobs are never removed; a cutoff that is not a time raises
        :class:`InputError` before anything is read, and a journal that does not verify is never pruned
        (:class:`StoreError`).
        """
        cut = utc_time(before, "before")
        return self._journal.prune(cut, self._clock.now(), dry_run=dry_run, confirm=confirm)

    def plan(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        order_ids: Iterable[Any] | None = None,
        client_order_ids: Iterable[Any] | None = None,
        orders: Iterable[OrderRef] | None = None,
    ) -> list[dict[str, Any]]:
        """The requests a cancel would send (signatures and keys redacted); nothing is stored or sent."""
        refs = self._refs(venue, symbol, order_ids, client_order_ids, orders)
        link = self._link(venue)
        out = []
        for chunk in link.adapter.plan_chunks(refs):
            req: HttpRequest = link.adapter.build_cancel(chunk, link.creds, int(self._clock.now() * 1000))
            out.append(
                {
                    "method": req.method,
                    "url": link.adapter.base_url + req.path,
                    "query": redact_query(req.query, link.adapter.secret_params),
                    "body": req.body.decode() if req.body else None,
                    "orders": [r.value for r in chunk],
                }
            )
        return out

    def close(self) -> None:
        close = getattr(self._transport, "close", None)
        if close:
            close()
        if self._db is not None:
            self._db.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _runner(self, link: VenueLink) -> JobRunner:
        return JobRunner(
            self._journal,
            link,
            self._transport,
            self._clock,
            self._rng,
            self._retry,
            self._owner,
            lease_ttl_ms=self._lease_ttl_ms,
            workers=self._workers,
            on_progress=self.on_progress,
            proc=self._proc,
            is_dead=proc.holder_is_dead,
        )


__all__ = ["Client", "credentials_from_env", "VENUE_NAMES", "IdKind", "VenueConfig"]
