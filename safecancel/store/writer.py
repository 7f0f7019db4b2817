"""The repository's write side: the only writer of jobs, leases, order states, events and evidence.

Every state change is a compare-and-set on ``orders.state`` plus an appended, hash-chained event
(:mod:`.chain`), in one transaction; evidence (the redacted HTTP exchange) is written in the same
transaction and its hash is part of the event's hash. No transaction is ever held across network I/O.
Locks are taken job row, then order rows, then the chain head (see :mod:`.chain` for why).

Several writers (threads, processes, hosts sharing one PostgreSQL database):

- **Leases** (``jobs.lease_owner``/``lease_expires_ms``) say which runner works a job. A runner takes
  one with :meth:`JournalWriter.claim_next` (``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL, so N
  runners never wait on or take the same row) or :meth:`JournalWriter.acquire` (compare-and-set),
  renews it with every write-ahead (and :meth:`JournalWriter.heartbeat` while it works), and a lease
  whose expiry has passed may be taken over: the new holder turns the dead runner's ``sent`` orders
  into ``unknown`` and queries them before anything is re-sent.
- Even without the lease, an order cannot be sent twice for one attempt: ``pending -> sent`` is a
  compare-and-set on the locked row, so only one writer wins it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from ..errors import ConcurrentUpdate, IdempotencyConflict, InputError, LeaseHeld, StoreError
from ..model import JobStatus, OrderRef, Reason
from ..states import OrderState, Provenance, StateTable, Trigger
from .audit import AuditReport, Pruned, audit_journal, orders_hash
from .chain import PrunePlan, append_events, appended_jobs, event_row, lock_head, plan_prune
from .changes import Group, _insert_evidence, apply_groups
from .db import Database
from .reads import job_row, joinable_job
from .rows import _ORDER_COLS, DEADMAN_KIND, UNFINISHED, Change, Evidence, JobRow, OrderRow, _clip, fingerprint, iso
from .schema import chain_checkpoint, events, evidence, jobs, journal_head, orders
from .sql import statements

S = OrderState
# needs_attention and lease takeovers at WARNING, every other status change at DEBUG.
log = logging.getLogger("safecancel.store")


def _same_lease(owner: str | None, proc: str | None, expires: int | None) -> Any:
    """The lease columns still as read: the compare of a lease compare-and-set."""
    return and_(
        jobs.c.lease_owner.is_(None) if owner is None else jobs.c.lease_owner == owner,
        jobs.c.lease_proc.is_(None) if proc is None else jobs.c.lease_proc == proc,
        jobs.c.lease_expires_ms.is_(None) if expires is None else jobs.c.lease_expires_ms == expires,
    )


class JournalWriter:
    """The write side of :class:`~safecancel.store.journal.Journal`."""

    db: Database
    table: StateTable

    # -- jobs ------------------------------------------------------------------------------------

    def create_job(
        self,
        *,
        job_id: str,
        key: str,
        venue: str,
        account: str,
        refs: Sequence[OrderRef],
        now: float,
        base_url: str | None = None,
        key_fp: str | None = None,
        derived: bool = False,
        kind: str | None = None,
        scope: str | None = None,
    ) -> tuple[JobRow, bool]:
        """Persist a job and all its orders as ``pending`` in one transaction.

        ``kind``/``scope``: a kill switch (``"cancel_all"``, its scope as JSON) starts with no orders
        and adds them as its listings find them (:meth:`add_orders`).

        Returns ``(job, created)``. A caller-given key is exact-once: the same key with the same
        order set returns the existing job whatever its status (``created`` False); with a different
        set it raises :class:`IdempotencyConflict`. A ``derived`` key joins only an *unfinished* job:
        the same orders cancelled again after their job finished are a new job that asks the venue
        again. ``base_url`` and ``key_fp`` bind the job to the environment it runs in.
        """
        fp = fingerprint(refs)
        at = iso(now)
        with self.db.write() as conn:
            # Take the head lock before looking for the key: two hosts creating the same key then run
            # one after the other and the second finds the first's job (on PostgreSQL it would
            # otherwise fail on the unique key instead of returning the existing job).
            lock_head(conn, self.db.dialect)
            job = joinable_job(conn, key, derived)
            if job is not None:
                if job.fingerprint != fp or job.venue != venue or job.account != account:
                    raise IdempotencyConflict(key, job.id)
                return job, False
            if derived and conn.execute(select(jobs.c.id).where(jobs.c.key == key)).first() is not None:
                key = f"{key}.{job_id[:12]}"  # unique whatever was pruned in between
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    key=key,
                    venue=venue,
                    account=account,
                    fingerprint=fp,
                    status=JobStatus.OPEN,
                    order_count=len(refs),
                    created_at=at,
                    updated_at=at,
                    base_url=base_url,
                    key_fp=key_fp,
                    kind=kind,
                    scope=scope,
                )
            )
            if refs:
                conn.exec_driver_sql(statements(self.db.dialect).insert_orders, _order_values(job_id, refs, 0, at))
            symbols = sorted({r.symbol for r in refs})
            created: dict[str, Any] = {
                "key": key,
                "venue": venue,
                "account": account,
                "symbols": symbols,
                "orders": len(refs),
                "fingerprint": fp,
                "base_url": base_url,
                "key_fp": key_fp,
            }
            if refs:  # binds each order to its position (the fingerprint is of the set): see store.audit
                created["orders_hash"] = orders_hash(list(refs))
            if kind is not None:  # only then: the create note of every other job stays as it was
                created.update(kind=kind, scope=json.loads(scope) if scope else None)
            note = json.dumps(created, separators=(",", ":"))
            append_events(
                conn, self.db.dialect, [event_row(job_id, at, Trigger.CREATE, to_state=JobStatus.OPEN, note=note)]
            )
        with self.db.read() as conn:
            return job_row(conn, job_id), True  # type: ignore[return-value]

    def add_orders(
        self,
        job_id: str,
        refs: Sequence[OrderRef],
        now: float,
        ev: Evidence | None,
        note: str,
        *,
        state: S = S.PENDING,
    ) -> list[OrderRow]:
        """Add orders a kill switch's listing found to its job, as ``pending``, in one transaction with
        a ``discover`` event (naming every order added, with the listing page as its evidence).
        An order already in the job is not added twice. The job is open again if it had finished.

        ``state`` ``unknown``: orders whose fate is not known (a dead-man switch fired, and the venue's
        countdown may have cancelled them): they are queried before anything is sent."""
        if state not in (S.PENDING, S.UNKNOWN):
            raise ValueError(f"orders are added pending or unknown, not {state}")
        at = iso(now)
        with self.db.write() as conn:
            known = {
                (r.symbol, r.order_id, r.client_order_id, bool(r.conditional))
                for r in conn.execute(
                    select(orders.c.symbol, orders.c.order_id, orders.c.client_order_id, orders.c.conditional).where(
                        orders.c.job_id == job_id
                    )
                )
            }
            fresh = [r for r in refs if (r.symbol, r.order_id, r.client_order_id, r.conditional) not in known]
            if not fresh:
                return []
            start = conn.execute(select(func.coalesce(func.max(orders.c.seq) + 1, 0)).where(orders.c.job_id == job_id))
            first = int(start.scalar_one())
            new_rows = _order_values(job_id, fresh, first, at, state)
            conn.exec_driver_sql(statements(self.db.dialect).insert_orders, new_rows)
            count = conn.execute(select(func.count()).where(orders.c.job_id == job_id)).scalar_one()
            current = conn.execute(select(jobs.c.status).where(jobs.c.id == job_id)).scalar_one()
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(order_count=count, status=JobStatus.OPEN, updated_at=at, finished_at=None)
            )
            told: dict[str, Any] = {"note": note, "added": [str(r) for r in fresh]}
            if state is not S.PENDING:  # only then: a kill switch's discover notes stay as they were
                told["state"] = state.value
            text = json.dumps(told, separators=(",", ":"))
            rows = [event_row(job_id, at, Trigger.DISCOVER, note=text)]
            if current != JobStatus.OPEN:
                rows.append(event_row(job_id, at, Trigger.STATUS, note=f"{current} -> {JobStatus.OPEN}: orders added"))
            self._append_with_evidence(conn, job_id, rows, ev, at)
            added = conn.execute(
                select(*_ORDER_COLS).where(orders.c.job_id == job_id, orders.c.seq >= first).order_by(orders.c.seq)
            ).all()
        return [OrderRow(*tuple(r)) for r in added]

    def record_sweep(self, job_id: str, ev: Evidence | None, now: float, note: str, *, empty: bool) -> None:
        """A kill switch's listing of its scope, as a ``sweep`` event with the listing's last page as its
        evidence; ``empty``: the listing showed no order in scope, so the scope is verified empty then."""
        at = iso(now)
        with self.db.write() as conn:
            evidence_id = self._append_with_evidence(
                conn, job_id, [event_row(job_id, at, Trigger.SWEEP, note=note)], ev, at
            )
            values: dict[str, Any] = {"updated_at": at}
            values.update(verified_empty_at=at if empty else None, verified_evidence=evidence_id if empty else None)
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    def _append_with_evidence(
        self, conn: Connection, job_id: str, rows: list[dict[str, Any]], ev: Evidence | None, at: str
    ) -> int | None:
        """Append job events, the first carrying ``ev`` (written in the same transaction); its evidence id."""
        evidence_id = None
        if ev is not None:
            evidence_id, ev_hash = _insert_evidence(conn, self.db.dialect, job_id, ev)
            rows[0] = {**rows[0], "evidence_id": evidence_id, "evidence_hash": ev_hash, "http_status": ev.status}
        append_events(conn, self.db.dialect, rows)
        return evidence_id

    def set_status(self, job_id: str, status: str, now: float, attention: str | None = None) -> None:
        """Record the job's status and, when it stopped short, why (in plain words); a change is an event."""
        at = iso(now)
        attention = None if status == JobStatus.DONE else _clip(attention, 1000)
        if status == JobStatus.NEEDS_ATTENTION:  # every time a run ends so, also when the status stays the same
            log.warning("job %s needs attention: %s", job_id, attention or "(no reason given)")
        q = select(jobs.c.status, jobs.c.attention).where(jobs.c.id == job_id)
        if self.db.dialect == "postgresql":
            q = q.with_for_update(key_share=True)  # two runners finishing at once record one change, not two
        with self.db.write() as conn:
            current, said = conn.execute(q).one()
            if (current, said) == (status, attention):
                return
            finished = at if status == JobStatus.DONE else None
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(status=status, updated_at=at, finished_at=finished, attention=attention)
            )
            note = f"{current} -> {status}" + (f": {attention}" if attention else "")
            append_events(conn, self.db.dialect, [event_row(job_id, at, Trigger.STATUS, note=note)])
            log.debug("job %s: status %s", job_id, note)

    def rebind(self, job_id: str, base_url: str, key_fp: str, now: float, why: str) -> None:
        """Move a job to another environment on purpose (base URL and/or API key), as an event."""
        at = iso(now)
        with self.db.write() as conn:
            row = conn.execute(select(jobs.c.base_url, jobs.c.key_fp).where(jobs.c.id == job_id)).first()
            if row is None:
                raise InputError(f"no job {job_id!r} in {self.db.display_url}")
            if (row.base_url, row.key_fp) == (base_url, key_fp):
                return
            conn.execute(
                update(jobs).where(jobs.c.id == job_id).values(base_url=base_url, key_fp=key_fp, updated_at=at)
            )
            was, now_is = {"base_url": row.base_url, "key_fp": row.key_fp}, {"base_url": base_url, "key_fp": key_fp}
            note = json.dumps({"from": was, "to": now_is, "why": why}, separators=(",", ":"))
            append_events(conn, self.db.dialect, [event_row(job_id, at, Trigger.REBIND, note=note)])

    # -- leases ----------------------------------------------------------------------------------

    def claim_next(
        self,
        owner: str,
        now_ms: int,
        ttl_ms: int,
        exclude: Iterable[str] = (),
        *,
        proc: str | None = None,
        is_dead: Callable[[str | None, str | None], bool] | None = None,
        same_host: str | None = None,
    ) -> str | None:
        """Take the lease of the oldest unfinished job nobody holds, whose lease has expired, or whose
        holder on ``same_host`` (a lease owner is ``host:pid:nonce``) ``is_dead`` proves gone (a
        crashed runner on this host: taken over at once).

        Returns the job id, or None when there is no such job. ``exclude`` lists jobs the caller has
        already run in this pass (a job its deadline left open is released and would otherwise be
        claimed again at once). On PostgreSQL the candidate rows are locked ``FOR NO KEY UPDATE SKIP
        LOCKED``: N runners on N hosts each get a different job without waiting on each other, and
        the lease columns are re-checked under the lock. On SQLite ``BEGIN IMMEDIATE`` serializes
        the claim. The caller then runs the job (``acquire`` with the same owner renews the lease and
        recovers orders a dead runner left ``sent``).
        """
        skip = set(exclude)
        free = or_(jobs.c.lease_owner.is_(None), jobs.c.lease_expires_ms.is_(None), jobs.c.lease_expires_ms < now_ms)
        if is_dead is not None and same_host:
            # A live lease held on this host may belong to a dead process: looked at one by one below.
            free = or_(free, jobs.c.lease_owner.startswith(same_host + ":", autoescape=True))
        q = select(jobs.c.id, jobs.c.lease_owner, jobs.c.lease_proc, jobs.c.lease_expires_ms, jobs.c.kind)
        q = q.where(jobs.c.status.in_(UNFINISHED), free).order_by(jobs.c.created_at, jobs.c.id).limit(1)
        if self.db.dialect == "postgresql":
            # NO KEY UPDATE, not UPDATE: it does not conflict with the KEY SHARE locks that inserting
            # events and evidence (foreign keys to jobs) take, so a busy job is not skipped for that.
            # One row at a time, so that N runners each lock (and take) a different job.
            q = q.with_for_update(skip_locked=True, key_share=True)
        with self.db.write() as conn:
            while True:
                row = conn.execute(q.where(jobs.c.id.not_in(skip)) if skip else q).first()
                if row is None:
                    return None
                job_id, holder, holder_proc, expires, kind = row
                claimable = holder is None or expires is None or expires < now_ms
                # An armed dead-man switch is due only when its heartbeats stopped for its timeout (its
                # lease expired), even when its bot's process is gone: a bot restarted in time re-arms it.
                patient = kind == DEADMAN_KIND
                if not claimable and (
                    patient or holder == owner or is_dead is None or not is_dead(holder, holder_proc)
                ):
                    skip.add(job_id)  # held by a live runner on this host
                    continue
                still_free = _same_lease(holder, holder_proc, expires)
                taken = {"lease_owner": owner, "lease_proc": proc, "lease_expires_ms": now_ms + ttl_ms}
                hit = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status.in_(UNFINISHED), still_free)
                    .values(**taken, updated_at=iso(now_ms / 1000))
                ).rowcount
                if hit != 1:  # the row was locked (or the database was): cannot miss; checked anyway
                    return None
                if holder is not None and holder != owner:
                    self._takeover_event(conn, job_id, holder, owner, expires, now_ms)
                return str(job_id)

    def _takeover_event(
        self, conn: Connection, job_id: str, old: str, new: str, expires: int | None, now_ms: int
    ) -> None:
        why = "its lease expired" if expires is None or expires < now_ms else "its process is gone"
        note = json.dumps({"from": old, "to": new, "why": why}, separators=(",", ":"))
        append_events(conn, self.db.dialect, [event_row(job_id, iso(now_ms / 1000), Trigger.TAKEOVER, note=note)])
        log.warning("job %s: lease taken over from %s by %s (%s)", job_id, old, new, why)

    def acquire(
        self,
        job_id: str,
        owner: str,
        now_ms: int,
        ttl_ms: int,
        now: float,
        *,
        proc: str | None = None,
        is_dead: Callable[[str | None, str | None], bool] | None = None,
    ) -> int:
        """Take the job's lease (compare-and-set) and recover what a previous run left in flight.

        The lease is free when nobody holds it, this owner does, it has expired, or ``is_dead``
        proves its holder gone. Any order still ``sent`` when a lease is taken was sent by a run that
        is gone (a crash, or a lease that expired): it may have arrived, so it becomes ``unknown`` and
        is queried before any re-send. Returns how many orders were recovered that way. Raises
        :class:`LeaseHeld` naming the holder and until when.
        """
        at = iso(now)
        with self.db.write() as conn:
            row = conn.execute(
                select(jobs.c.lease_owner, jobs.c.lease_proc, jobs.c.lease_expires_ms).where(jobs.c.id == job_id)
            ).first()
            if row is None:
                raise InputError(f"no job {job_id}")
            holder, holder_proc, expires = row
            free = holder is None or holder == owner or expires is None or expires < now_ms
            if not free and not (is_dead is not None and is_dead(holder, holder_proc)):
                raise LeaseHeld(job_id, holder or "?", (expires or 0) / 1000, now=now)
            hit = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, _same_lease(holder, holder_proc, expires))
                .values(lease_owner=owner, lease_proc=proc, lease_expires_ms=now_ms + ttl_ms, updated_at=at)
            ).rowcount
            if hit != 1:  # unreachable under the write lock; checked anyway
                raise ConcurrentUpdate(f"job {job_id}: its lease changed while it was being taken")
            if holder is not None and holder != owner:
                self._takeover_event(conn, job_id, holder, owner, expires, now_ms)
            stale = [
                OrderRow(*tuple(r))
                for r in conn.execute(
                    select(*_ORDER_COLS).where(orders.c.job_id == job_id, orders.c.state == S.SENT.value)
                )
            ]
            why = "found sent when the lease was taken: the request may have arrived"
            self._apply(
                conn, job_id, [Change(r, Trigger.LOSE, reason=Reason.NO_REPLY, note=why) for r in stale], at, None, None
            )
        return len(stale)

    def renew(self, conn: Connection, job_id: str, owner: str, now_ms: int, ttl_ms: int) -> None:
        """Extend ``owner``'s lease inside the caller's transaction (every write-ahead does).

        Succeeds while nobody else has taken the lease, even after it expired: expiry only allows
        *another* runner to take the job over (``claim_next``/``acquire`` change the owner under
        the same row lock), so a slow but live runner that nobody replaced may carry on. Raises
        :class:`ConcurrentUpdate` when another runner holds it: this runner must stop.
        """
        hit = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.lease_owner == owner)
            .values(lease_expires_ms=now_ms + ttl_ms)
        ).rowcount
        if hit != 1:
            raise ConcurrentUpdate(f"lease on job {job_id} was lost by {owner}: another runner took it over")

    def heartbeat(self, job_id: str, owner: str, now_ms: int, ttl_ms: int) -> None:
        """Extend the lease ``owner`` holds between writes, so a runner that is alive but busy (querying
        a long list of ``unknown`` orders, waiting out a backoff) is not taken for dead.

        The same rule as :meth:`renew`, in a transaction of its own. Raises :class:`ConcurrentUpdate`
        when another runner holds the lease now.
        """
        with self.db.write() as conn:
            self.renew(conn, job_id, owner, now_ms, ttl_ms)

    def release(self, job_id: str, owner: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.lease_owner == owner)
                .values(lease_owner=None, lease_proc=None, lease_expires_ms=None)
            )

    # -- order changes ---------------------------------------------------------------------------

    def mark_sent(
        self,
        job_id: str,
        owner: str,
        rows: Sequence[OrderRow],
        now: float,
        now_ms: int,
        ttl_ms: int,
        *,
        outcomes: Sequence[Group] = (),
        outcomes_at: float | None = None,
    ) -> list[OrderRow]:
        """Write ahead: ``pending`` → ``sent`` (attempt + 1) for a chunk, while holding the lease.

        Committed before the request leaves. Orders another writer moved are left out of the result,
        so the caller sends only what it marked.

        ``outcomes``: the previous window's replies (as for :meth:`apply_batch`, recorded at
        ``outcomes_at``), written first in the same transaction, so a run of windows costs one commit
        each instead of two. Should the lease be lost, neither is written (those orders stay ``sent``
        and whoever holds the job queries them).
        """
        at = iso(now)
        with self.db.write() as conn:
            self.renew(conn, job_id, owner, now_ms, ttl_ms)
            if outcomes:
                when = iso(outcomes_at if outcomes_at is not None else now)
                apply_groups(conn, self.db.dialect, self.table, job_id, outcomes, when)
            done = self._apply(conn, job_id, [Change(r, "send") for r in rows], at, None, None)
        # The rows as the compare-and-set left them (what apply_groups wrote for a "send"). Built field by
        # field: dataclasses.replace introspects the fields on every call, a measurable cost per order here.
        sent = S.SENT.value
        return [
            OrderRow(
                r.pk,
                r.job_id,
                r.seq,
                r.symbol,
                r.order_id,
                r.client_order_id,
                sent,
                r.reason,
                r.provenance,
                r.attempts + 1,
                r.queries,
                r.next_at_ms,
                r.not_found_seen,
                r.conditional,
            )
            for r, ok in zip(rows, done, strict=True)
            if ok
        ]

    def apply(self, job_id: str, changes: Sequence[Change], now: float, ev: Evidence | None = None) -> list[bool]:
        """Apply order changes (and their evidence) in one transaction; returns which ones took.

        A change whose compare-and-set misses (another runner moved the order first) is skipped,
        not applied twice: the other writer's record stands.
        """
        at = iso(now)
        with self.db.write() as conn:
            return self._apply(conn, job_id, changes, at, ev, None)

    def apply_batch(self, job_id: str, groups: Sequence[Group], now: float) -> list[list[bool]]:
        """Several exchanges' changes, each with its own evidence, in one transaction (one commit).

        The engine records a write-ahead window's replies together: the commit, not the SQL, is what
        a chunk's outcome costs on a fast venue.
        """
        at = iso(now)
        with self.db.write() as conn:
            return apply_groups(conn, self.db.dialect, self.table, job_id, groups, at)

    def record_event(self, job_id: str, now: float, note: str, trigger: str, ev: Evidence | None = None) -> None:
        """A job event (a dead-man switch's arm, renewals, disarm, firing), with the exchange that made it
        when there was one."""
        with self.db.write() as conn:
            self._apply(conn, job_id, [], iso(now), ev, (trigger, note))

    def record_exchange(self, job_id: str, ev: Evidence, now: float, note: str, trigger: str = Trigger.NOTE) -> None:
        """An exchange that concerns the job, not one order (server time): evidence plus a job event."""
        with self.db.write() as conn:
            self._apply(conn, job_id, [], iso(now), ev, (trigger, note))

    def resolve(self, job_id: str, order_pk: int, as_state: str, note: str, now: float) -> OrderRow:
        """An operator settles an ``unknown`` order; recorded with provenance ``operator`` and the note."""
        trigger = {S.CANCELLED.value: Trigger.SETTLE, S.FAILED.value: Trigger.SETTLE_FAILED}.get(as_state)
        if trigger is None:
            raise InputError(f"an operator can settle an order as cancelled or failed, not {as_state!r}")
        if not note or not note.strip():
            raise InputError("an operator decision needs a --note saying why")
        with self.db.write() as conn:
            r = conn.execute(select(*_ORDER_COLS).where(orders.c.id == order_pk, orders.c.job_id == job_id)).first()
            if r is None:
                raise InputError(f"job {job_id} has no such order")
            row = OrderRow(*tuple(r))
            if row.state != S.UNKNOWN:
                raise InputError(f"order {row.ref} is {row.state}; only unknown orders can be settled by an operator")
            ch = Change(row, trigger, reason="operator", provenance=Provenance.OPERATOR.value, note=note)
            self._apply(conn, job_id, [ch], iso(now), None, None)
        return row

    def _apply(
        self,
        conn: Connection,
        job_id: str,
        changes: Sequence[Change],
        at: str,
        ev: Evidence | None,
        job_note: tuple[str, str] | None,
    ) -> list[bool]:
        """One exchange's changes inside the caller's write transaction (see :func:`.changes.apply_groups`)."""
        return apply_groups(conn, self.db.dialect, self.table, job_id, [(changes, ev)], at, job_note)[0]

    # -- retention -------------------------------------------------------------------------------

    def prune(
        self,
        before: str,
        now: float,
        *,
        dry_run: bool = False,
        confirm: Callable[[int, int], bool] | None = None,
    ) -> Pruned:
        """Remove finished jobs created before ``before`` (the journal's UTC text), keeping the chain verifiable.

        Only a prefix of the chain can go (:func:`~safecancel.store.chain.plan_prune` works out which
        jobs and how far). The cut's hash is kept as a checkpoint and announced by a ``prune`` event.
        A journal that does not verify (chain or rows) is never pruned: that would hide the evidence of
        the tampering. ``dry_run``: what would be removed now, removing nothing. ``confirm(jobs, events)``
        is asked once the journal has been audited, before anything is removed and outside any
        transaction, whether to remove that many; False removes nothing.

        Returns ``(jobs_removed, events_removed)``, as a :class:`~.audit.Pruned` that also carries the
        plan (``planned``) and the audit (``verify``: the journal as found, or as left after the cut), so
        that a command shows all three having audited the journal once.

        Raises:
            StoreError: the journal does not verify (nothing is removed), or kept changing under the
                prune's plan (see below) three times running.
        """
        # One audit per prune. It runs in a snapshot, without a lock: a big journal takes seconds to
        # audit and runners keep appending meanwhile. The removal then takes the head lock, and
        # - if the head is the one the audit ended at, nothing was appended since: the plan (made in
        #   the audit's snapshot) removes exactly rows the audit verified;
        # - if runners appended since, those events are checked under the lock as the audited chain's
        #   continuation (links, hashes, evidence: chain.appended_jobs), and the plan stands unless one
        #   of them belongs to a job it removes or is another prune; then (rare) the journal is audited
        #   and the plan made again, never beyond the jobs the caller confirmed.
        # After the cut the journal verifies without another walk: the first event kept had its
        # prev_hash checked against the hash that becomes the checkpoint, the events after it were
        # checked by the audit or under the lock, the prune event is chained on the locked head in this
        # transaction, and the cut deletes no row that stays (those were replayed by the audit). What a
        # second audit could add is only a row edited by hand (never by safecancel: every change it makes
        # to an audited column appends an event) between the audit and the lock: one the cut removes goes
        # with it, as its audited version would have; one that stays is there for the next audit to find.
        asked: frozenset[str] | None = None  # the jobs the caller confirmed
        planned = (0, 0)
        for _ in range(3):
            with self.db.snapshot() as conn:
                report = audit_journal(conn, self.table)
                if not report.ok:
                    raise StoreError(f"refusing to prune a journal that does not verify: {report.problem}")
                seen = conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one()
                audited = (int(seen[0]), str(seen[1]))
                plan = _plan_prune(conn, before, audited[0], asked)
                if plan is not None and asked is None:
                    n = conn.execute(select(func.count()).select_from(events).where(events.c.seq <= plan.cut))
                    planned = (len(plan.jobs), int(n.scalar_one()))
            if plan is None or dry_run:
                # A dry run answers what it would remove, as prune(dry_run=True) always has.
                return Pruned(planned if dry_run else (0, 0), planned, report)
            if asked is None:
                if confirm is not None and not confirm(*planned):
                    return Pruned((0, 0), planned, report)
                asked = plan.jobs
            with self.db.write() as conn:
                head = lock_head(conn, self.db.dialect)
                if head != audited:
                    appended = appended_jobs(conn, audited, head)
                    if appended is None or appended & plan.jobs:
                        continue  # audit again (this transaction wrote nothing)
                cut = plan.cut
                cut_hash = conn.execute(select(events.c.hash).where(events.c.seq == cut)).scalar_one()
                removed_events = conn.execute(delete(events).where(events.c.seq <= cut)).rowcount
                removed_orders = 0
                ids = sorted(plan.jobs)
                for i in range(0, len(ids), 500):
                    part = ids[i : i + 500]
                    conn.execute(delete(evidence).where(evidence.c.job_id.in_(part)))
                    removed_orders += conn.execute(delete(orders).where(orders.c.job_id.in_(part))).rowcount
                    conn.execute(delete(jobs).where(jobs.c.id.in_(part)))
                at = iso(now)
                conn.execute(
                    insert(chain_checkpoint).values(
                        seq=cut,
                        hash=cut_hash,
                        at=at,
                        before=before,
                        jobs_removed=len(ids),
                        events_removed=removed_events,
                    )
                )
                note = json.dumps(
                    {
                        "checkpoint_seq": cut,
                        "checkpoint_hash": cut_hash,
                        "before": before,
                        "jobs_removed": len(ids),
                        "events_removed": removed_events,
                    },
                    separators=(",", ":"),
                )
                # A job-level event needs a job: the prune is announced on the oldest job that stays.
                anchor = conn.execute(select(jobs.c.id).order_by(jobs.c.created_at).limit(1)).scalar()
                if anchor is None:
                    raise StoreError("prune would remove every job; keep at least one (the chain needs an anchor)")
                append_events(conn, self.db.dialect, [event_row(anchor, at, Trigger.PRUNE, note=note)])
            # The chain now runs from the checkpoint (cut) to the prune event just appended after the head.
            after = AuditReport(True, head[0] - cut + 1, report.jobs - len(ids), report.orders - removed_orders, None)
            return Pruned((len(ids), removed_events), planned, after)
        raise StoreError(
            "the journal kept changing under the prune (jobs it would remove were touched, or another prune "
            "ran) while it was audited three times; nothing was removed: run it again"
        )


def _plan_prune(conn: Connection, before: str, head_seq: int, only: frozenset[str] | None) -> PrunePlan | None:
    """Which finished jobs created before ``before`` can go, of ``only`` when given, with the chain's head at
    ``head_seq`` (read in the same snapshot)."""
    candidates = set(
        conn.execute(select(jobs.c.id).where(jobs.c.status == JobStatus.DONE, jobs.c.created_at < before)).scalars()
    )
    if only is not None:
        candidates &= only
    if not candidates:
        return None
    spans = {
        job_id: (lo, hi)
        for job_id, lo, hi in conn.execute(
            select(events.c.job_id, func.min(events.c.seq), func.max(events.c.seq)).group_by(events.c.job_id)
        )
    }
    return plan_prune(head_seq, candidates, spans)


__all__ = ["JournalWriter"]


def _order_values(
    job_id: str, refs: Sequence[OrderRef], first_seq: int, at: str, state: S = S.PENDING
) -> list[tuple[Any, ...]]:
    """The ``orders`` rows of new orders (``pending`` unless told), numbered from ``first_seq``, as
    tuples in :data:`.sql.ORDER_INSERT_COLS` order (a 100,000-order job is one driver-level executemany)."""
    value = state.value
    return [
        (job_id, first_seq + i, r.symbol, r.order_id, r.client_order_id, value, 0, 0, 0, 0, at, int(r.conditional))
        for i, r in enumerate(refs)
    ]
