"""The repository: the only writer of jobs, order states, events and evidence.

Every state change is a compare-and-set on ``orders.state`` plus an appended, hash-chained event,
in one transaction; evidence (the redacted HTTP exchange) is written in the same transaction and its
hash is part of the event's hash. No transaction is ever held across network I/O.

Several writers (threads, processes, hosts sharing one PostgreSQL database):

- **One chain per database, its head serialized.** Every transaction that appends events locks the
  single ``journal_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
  serializes writers), numbers its events after the head and moves the head before it commits. Concurrent writers therefore append one after another, ``seq`` has no gaps, each event's
  ``prev_hash`` is the event committed just before it, and ``verify`` walks one total order.
  We chose this over one chain per job anchored per database because (a) deleting or reordering a
  *whole job* must stay detectable, which per-job chains only give with a second, database-wide
  anchor chain that needs the same serialization anyway; (b) ``prune`` cuts one prefix and keeps one
  checkpoint; (c) ``audit verify`` stays one pass and the head is one value to publish elsewhere.
  The cost: appends are serialized. They are short (no network I/O is ever inside a transaction; a
  chunk's outcomes are one batched update and one insert), so a fleet spends its time on the venues,
  not on this lock. Lock order is always job row, then order rows, then the head, so appenders do
  not deadlock; ``create_job`` and ``prune`` take the head first and touch no row another writer holds.
- **Leases** (``jobs.lease_owner``/``lease_expires_ms``) say which runner works a job. A runner takes
  one with :meth:`Journal.claim_next` (``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL, so N runners
  never wait on or take the same row) or :meth:`Journal.acquire` (compare-and-set), renews it with
  every write-ahead (and :meth:`Journal.heartbeat` while it works), and a lease whose expiry has
  passed may be taken over: the new holder turns the dead runner's ``sent`` orders into ``unknown``
  and queries them before anything is re-sent.
- Even without the lease, an order cannot be sent twice for one attempt: ``pending -> sent`` is a
  compare-and-set on the locked row, so only one writer wins it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from ..errors import ConcurrentUpdate, IdempotencyConflict, InputError, LeaseHeld, StoreError
from ..model import EventRecord, JobResult, JobSummary, OrderRef, OrderResult
from ..states import TERMINAL, OrderState, Provenance, StateTable
from .db import Database
from .schema import GENESIS_HASH, chain_checkpoint, events, evidence, jobs, journal_head, orders

S = OrderState
MESSAGE_LIMIT = 500
BODY_LIMIT = 16_384
UNFINISHED = ("open", "needs_attention")
OBSERVATIONS = frozenset({"query", "defer", "note"})  # triggers recorded without a state change


def _same_lease(owner: str | None, proc: str | None, expires: int | None) -> Any:
    """The lease columns still as read: the compare of a lease compare-and-set."""
    return and_(
        jobs.c.lease_owner.is_(None) if owner is None else jobs.c.lease_owner == owner,
        jobs.c.lease_proc.is_(None) if proc is None else jobs.c.lease_proc == proc,
        jobs.c.lease_expires_ms.is_(None) if expires is None else jobs.c.lease_expires_ms == expires,
    )


def iso(ts: float) -> str:
    """Epoch seconds as ISO-8601 UTC with microseconds."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _clip(text: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    return None if text is None else text[:limit]


def _digest(values: Sequence[Any]) -> str:
    return hashlib.sha256(json.dumps(list(values), separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def fingerprint(refs: Iterable[OrderRef]) -> str:
    """sha256 of the sorted order set: the identity of "the same orders" for idempotency keys."""
    return _digest(sorted([r.symbol, r.kind.value, r.value] for r in refs))


@dataclass(frozen=True, slots=True)
class OrderRow:
    pk: int
    job_id: str
    seq: int
    symbol: str
    order_id: str | None
    client_order_id: str | None
    state: str
    reason: str | None
    provenance: str | None
    attempts: int
    queries: int
    next_at_ms: int
    not_found_seen: int = 0

    @property
    def ref(self) -> OrderRef:
        return OrderRef(self.symbol, self.order_id, self.client_order_id)


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    key: str
    venue: str
    account: str
    fingerprint: str
    status: str
    order_count: int
    created_at: str
    finished_at: str | None
    lease_owner: str | None
    lease_expires_ms: int | None
    base_url: str | None = None
    key_fp: str | None = None
    lease_proc: str | None = None
    attention: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One HTTP exchange, already redacted by the caller."""

    endpoint: str
    method: str
    path: str
    query: str
    body: str | None
    status: int | None
    response: str | None
    elapsed_ms: int | None
    error: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Change:
    """One order's step: a trigger from the state table (or an observation), and what the venue said."""

    row: OrderRow
    trigger: str
    reason: str | None = None
    provenance: str | None = None
    code: str | None = None
    message: str | None = None
    next_at_ms: int | None = None
    http_status: int | None = None
    query: bool = False  # this change comes from a reconciliation query (counts it)
    note: str | None = None
    not_found: bool = False  # the venue answered "no such order" (consecutive answers are counted)
    unsent: bool = False  # the write-ahead's request provably never left this machine


_ORDER_COLS = (
    orders.c.id,
    orders.c.job_id,
    orders.c.seq,
    orders.c.symbol,
    orders.c.order_id,
    orders.c.client_order_id,
    orders.c.state,
    orders.c.reason,
    orders.c.provenance,
    orders.c.attempts,
    orders.c.queries,
    orders.c.next_at_ms,
    orders.c.not_found_seen,
)
_JOB_COLS = (
    jobs.c.id,
    jobs.c.key,
    jobs.c.venue,
    jobs.c.account,
    jobs.c.fingerprint,
    jobs.c.status,
    jobs.c.order_count,
    jobs.c.created_at,
    jobs.c.finished_at,
    jobs.c.lease_owner,
    jobs.c.lease_expires_ms,
    jobs.c.base_url,
    jobs.c.key_fp,
    jobs.c.lease_proc,
    jobs.c.attention,
)


_CAS_READ = (
    orders.c.id, orders.c.state, orders.c.reason, orders.c.provenance, orders.c.attempts, orders.c.queries,
    orders.c.not_found_seen, orders.c.last_code, orders.c.last_message, orders.c.next_at_ms, orders.c.unsent,
)
class _Current(NamedTuple):
    id: int
    state: str
    reason: str | None
    provenance: str | None
    attempts: int
    queries: int
    not_found_seen: int
    last_code: str | None
    last_message: str | None
    next_at_ms: int
    unsent: int


# One compiled statement for every compare-and-set: executed as a batch (executemany).
_CAS_UPDATE = (
    update(orders)
    .where(orders.c.id == bindparam("b_pk"), orders.c.state == bindparam("b_state"))
    .values(
        state=bindparam("n_state"),
        updated_at=bindparam("n_updated_at"),
        attempts=bindparam("n_attempts"),
        queries=bindparam("n_queries"),
        not_found_seen=bindparam("n_not_found_seen"),
        reason=bindparam("n_reason"),
        provenance=bindparam("n_provenance"),
        last_code=bindparam("n_last_code"),
        last_message=bindparam("n_last_message"),
        next_at_ms=bindparam("n_next_at_ms"),
        unsent=bindparam("n_unsent"),
    )
)


class Journal:
    """Jobs, orders and their audited history in one database."""

    def __init__(self, db: Database, table: StateTable | None = None) -> None:
        self.db = db
        self.table = table or StateTable()

    # -- the chain -------------------------------------------------------------------------

    def _head(self, conn: Connection) -> tuple[int, str]:
        q = select(journal_head.c.seq, journal_head.c.hash).where(journal_head.c.id == 1)
        if self.db.dialect == "postgresql":
            q = q.with_for_update()  # serializes appends across hosts; SQLite's BEGIN IMMEDIATE already does
        row = conn.execute(q).one()
        return int(row.seq), str(row.hash)

    def _append(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Hash-chain and insert event rows, then move the head; the caller holds the write transaction."""
        if not rows:
            return
        seq, prev = self._head(conn)
        for row in rows:
            seq += 1
            row["seq"] = seq
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(row)
        conn.execute(insert(events), rows)
        conn.execute(update(journal_head).where(journal_head.c.id == 1).values(seq=seq, hash=prev))

    def _insert_evidence(self, conn: Connection, job_id: str, ev: Evidence) -> tuple[int, str]:
        row = {
            "job_id": job_id,
            "at": iso(ev.at),
            "endpoint": ev.endpoint,
            "method": ev.method,
            "path": ev.path[:300],
            "query": ev.query,
            "body": _clip(ev.body, BODY_LIMIT),
            "status": ev.status,
            "response": _clip(ev.response, BODY_LIMIT),
            "elapsed_ms": ev.elapsed_ms,
            "error": _clip(ev.error, 2000),
        }
        row["hash"] = evidence_hash(row)
        pk = conn.execute(insert(evidence).values(**row)).inserted_primary_key[0]
        return int(pk), row["hash"]

    @staticmethod
    def _event(job_id: str, at: str, trigger: str, **kw: Any) -> dict[str, Any]:
        row = dict.fromkeys(
            (
                "order_pk",
                "from_state",
                "to_state",
                "attempt",
                "http_status",
                "venue_code",
                "venue_message",
                "provenance",
                "reason",
                "evidence_id",
                "evidence_hash",
                "note",
            )
        )
        row.update(job_id=job_id, at=at, trigger=trigger)
        row.update(kw)
        row["venue_message"] = _clip(row["venue_message"])
        return row

    # -- jobs ------------------------------------------------------------------------------

    def find_job(self, key: str, *, derived: bool = False) -> JobRow | None:
        """The job a ``create_job`` with this key would join (read only; ``None``: it would create one)."""
        with self.db.read() as conn:
            return self._joinable(conn, key, derived)

    def _joinable(self, conn: Connection, key: str, derived: bool) -> JobRow | None:
        if not derived:
            row = conn.execute(select(*_JOB_COLS).where(jobs.c.key == key)).first()
            return JobRow(*row) if row else None
        # A derived key names "these orders, here, now": only an unfinished job is joined. Its later
        # jobs are stored as KEY.<job id prefix> (the key column is unique).
        row = conn.execute(
            select(*_JOB_COLS)
            .where(or_(jobs.c.key == key, jobs.c.key.startswith(key + ".", autoescape=True)), jobs.c.status.in_(UNFINISHED))
            .order_by(jobs.c.created_at.desc())
            .limit(1)
        ).first()
        return JobRow(*row) if row else None

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
    ) -> tuple[JobRow, bool]:
        """Persist a job and all its orders as ``pending`` in one transaction.

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
            self._head(conn)
            job = self._joinable(conn, key, derived)
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
                    status="open",
                    order_count=len(refs),
                    created_at=at,
                    updated_at=at,
                    base_url=base_url,
                    key_fp=key_fp,
                )
            )
            conn.execute(
                insert(orders),
                [
                    {
                        "job_id": job_id,
                        "seq": i,
                        "symbol": r.symbol,
                        "order_id": r.order_id,
                        "client_order_id": r.client_order_id,
                        "state": S.PENDING.value,
                        "attempts": 0,
                        "queries": 0,
                        "not_found_seen": 0,
                        "next_at_ms": 0,
                        "updated_at": at,
                    }
                    for i, r in enumerate(refs)
                ],
            )
            symbols = sorted({r.symbol for r in refs})
            note = json.dumps(
                {"key": key, "venue": venue, "account": account, "symbols": symbols, "orders": len(refs), "fingerprint": fp,
                 "base_url": base_url, "key_fp": key_fp},
                separators=(",", ":"),
            )
            self._append(conn, [self._event(job_id, at, "create", to_state="open", note=note)])
        return self.get_job(job_id), True  # type: ignore[return-value]

    def get_job(self, job_id: str) -> JobRow | None:
        with self.db.read() as conn:
            row = conn.execute(select(*_JOB_COLS).where(jobs.c.id == job_id)).first()
        return JobRow(*row) if row else None

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
        q = select(jobs.c.id, jobs.c.lease_owner, jobs.c.lease_proc, jobs.c.lease_expires_ms).where(jobs.c.status.in_(UNFINISHED), free)
        q = q.order_by(jobs.c.created_at, jobs.c.id).limit(1)
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
                job_id, holder, holder_proc, expires = row
                claimable = holder is None or expires is None or expires < now_ms
                if not claimable and (holder == owner or is_dead is None or not is_dead(holder, holder_proc)):
                    skip.add(job_id)  # held by a live runner on this host
                    continue
                hit = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status.in_(UNFINISHED), _same_lease(holder, holder_proc, expires))
                    .values(lease_owner=owner, lease_proc=proc, lease_expires_ms=now_ms + ttl_ms, updated_at=iso(now_ms / 1000))
                ).rowcount
                if hit != 1:  # the row was locked (or the database was): cannot miss; checked anyway
                    return None
                if holder is not None and holder != owner:
                    self._takeover_event(conn, job_id, holder, owner, expires, now_ms)
                return str(job_id)

    def _takeover_event(self, conn: Connection, job_id: str, old: str, new: str, expires: int | None, now_ms: int) -> None:
        why = "its lease expired" if expires is None or expires < now_ms else "its process is gone"
        note = json.dumps({"from": old, "to": new, "why": why}, separators=(",", ":"))
        self._append(conn, [self._event(job_id, iso(now_ms / 1000), "takeover", note=note)])

    def unfinished_job_ids(self) -> list[str]:
        with self.db.read() as conn:
            return list(
                conn.execute(select(jobs.c.id).where(jobs.c.status.in_(UNFINISHED)).order_by(jobs.c.created_at)).scalars()
            )

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
                OrderRow(*r)
                for r in conn.execute(select(*_ORDER_COLS).where(orders.c.job_id == job_id, orders.c.state == S.SENT.value))
            ]
            self._apply(
                conn,
                job_id,
                [Change(r, "lose", reason="no_reply", note="found sent when the lease was taken: the request may have arrived") for r in stale],
                at,
                None,
                None,
            )
        return len(stale)

    def lease(self, job_id: str) -> tuple[str | None, str | None, int | None]:
        """``(owner, proc, expires_ms)`` of the job's lease as it stands."""
        with self.db.read() as conn:
            row = conn.execute(select(jobs.c.lease_owner, jobs.c.lease_proc, jobs.c.lease_expires_ms).where(jobs.c.id == job_id)).first()
        if row is None:
            raise InputError(f"no job {job_id!r} in {self.db.display_url}")
        return row[0], row[1], row[2]

    def renew(self, conn: Connection, job_id: str, owner: str, now_ms: int, ttl_ms: int) -> None:
        """Extend ``owner``'s lease inside the caller's transaction (every write-ahead does).

        Succeeds while nobody else has taken the lease, even after it expired: expiry only allows
        *another* runner to take the job over (``claim_next``/``acquire`` change the owner under
        the same row lock), so a slow but live runner that nobody replaced may carry on. Raises
        :class:`ConcurrentUpdate` when another runner holds it: this runner must stop.
        """
        hit = conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.lease_owner == owner).values(lease_expires_ms=now_ms + ttl_ms)
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

    def set_status(self, job_id: str, status: str, now: float, attention: str | None = None) -> None:
        """Record the job's status and, when it stopped short, why (in plain words); a change is an event."""
        at = iso(now)
        attention = None if status == "done" else _clip(attention, 1000)
        q = select(jobs.c.status, jobs.c.attention).where(jobs.c.id == job_id)
        if self.db.dialect == "postgresql":
            q = q.with_for_update(key_share=True)  # two runners finishing at once record one change, not two
        with self.db.write() as conn:
            current, said = conn.execute(q).one()
            if (current, said) == (status, attention):
                return
            finished = at if status == "done" else None
            conn.execute(
                update(jobs).where(jobs.c.id == job_id).values(status=status, updated_at=at, finished_at=finished, attention=attention)
            )
            note = f"{current} -> {status}" + (f": {attention}" if attention else "")
            self._append(conn, [self._event(job_id, at, "status", note=note)])

    def rebind(self, job_id: str, base_url: str, key_fp: str, now: float, why: str) -> None:
        """Move a job to another environment on purpose (base URL and/or API key), as an event."""
        at = iso(now)
        with self.db.write() as conn:
            row = conn.execute(select(jobs.c.base_url, jobs.c.key_fp).where(jobs.c.id == job_id)).first()
            if row is None:
                raise InputError(f"no job {job_id!r} in {self.db.display_url}")
            if (row.base_url, row.key_fp) == (base_url, key_fp):
                return
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(base_url=base_url, key_fp=key_fp, updated_at=at))
            note = json.dumps(
                {"from": {"base_url": row.base_url, "key_fp": row.key_fp}, "to": {"base_url": base_url, "key_fp": key_fp}, "why": why},
                separators=(",", ":"),
            )
            self._append(conn, [self._event(job_id, at, "rebind", note=note)])

    # -- orders ----------------------------------------------------------------------------

    def orders(self, job_id: str, states: Iterable[str] | None = None) -> list[OrderRow]:
        q = select(*_ORDER_COLS).where(orders.c.job_id == job_id)
        if states is not None:
            q = q.where(orders.c.state.in_([str(s) for s in states]))
        with self.db.read() as conn:
            return [OrderRow(*r) for r in conn.execute(q.order_by(orders.c.seq))]

    def counts(self, job_id: str) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(orders.c.state, func.count()).where(orders.c.job_id == job_id).group_by(orders.c.state)
            ).all()
        return {state: int(n) for state, n in rows}

    def mark_sent(
        self, job_id: str, owner: str, rows: Sequence[OrderRow], now: float, now_ms: int, ttl_ms: int
    ) -> list[OrderRow]:
        """Write ahead: ``pending`` → ``sent`` (attempt + 1) for a chunk, while holding the lease.

        Committed before the request leaves. Orders another writer moved are left out of the result,
        so the caller sends only what it marked.
        """
        at = iso(now)
        with self.db.write() as conn:
            self.renew(conn, job_id, owner, now_ms, ttl_ms)
            done = self._apply(conn, job_id, [Change(r, "send") for r in rows], at, None, None)
        return [
            OrderRow(r.pk, r.job_id, r.seq, r.symbol, r.order_id, r.client_order_id, S.SENT.value, r.reason,
                     r.provenance, r.attempts + 1, r.queries, r.next_at_ms, r.not_found_seen)
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

    def apply_batch(
        self, job_id: str, groups: Sequence[tuple[Sequence[Change], Evidence | None]], now: float
    ) -> list[list[bool]]:
        """Several exchanges' changes, each with its own evidence, in one transaction (one commit).

        The engine records a write-ahead window's replies together: the commit, not the SQL, is what
        a chunk's outcome costs on a fast venue.
        """
        at = iso(now)
        with self.db.write() as conn:
            return self._apply_groups(conn, job_id, groups, at)

    def record_exchange(self, job_id: str, ev: Evidence, now: float, note: str, trigger: str = "note") -> None:
        """An exchange that concerns the job, not one order (server time): evidence plus a job event."""
        with self.db.write() as conn:
            self._apply(conn, job_id, [], iso(now), ev, (trigger, note))

    def _current(self, conn: Connection, pks: list[int]) -> dict[int, Any]:
        """The rows as they are now, inside the caller's write transaction (locked on PostgreSQL)."""
        out: dict[int, Any] = {}
        pks = sorted(pks)
        for i in range(0, len(pks), 900):  # stay under every backend's bound-parameter limit
            q = select(*_CAS_READ).where(orders.c.id.in_(pks[i : i + 900]))
            if self.db.dialect == "postgresql":
                # In id order, so two writers locking overlapping sets take them in the same order.
                q = q.with_for_update().order_by(orders.c.id)
            out.update((r.id, r) for r in conn.execute(q))
        return out

    def _apply(
        self,
        conn: Connection,
        job_id: str,
        changes: Sequence[Change],
        at: str,
        ev: Evidence | None,
        job_note: tuple[str, str] | None,
    ) -> list[bool]:
        return self._apply_groups(conn, job_id, [(changes, ev)], at, job_note)[0]

    def _apply_groups(
        self,
        conn: Connection,
        job_id: str,
        groups: Sequence[tuple[Sequence[Change], Evidence | None]],
        at: str,
        job_note: tuple[str, str] | None = None,
    ) -> list[list[bool]]:
        """Compare-and-set every change, append their events: one read, one batched update, one insert.

        Each group is one exchange's changes with its evidence (hash-linked from its events). A change
        whose order is no longer in the state the caller saw is skipped (``False``): the write lock is
        held, so what is read here is what the update will find.
        """
        pks = [ch.row.pk for changes, _ in groups for ch in changes]
        current = self._current(conn, pks) if pks else {}
        out: list[list[bool]] = []
        params: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for changes, ev in groups:
            ev_id = ev_hash = None
            if ev is not None:
                ev_id, ev_hash = self._insert_evidence(conn, job_id, ev)
            http_status = ev.status if ev is not None else None
            results: list[bool] = []
            first_row = len(rows)
            for ch in changes:
                before = ch.row.state
                cur = current.get(ch.row.pk)
                if cur is None or cur.state != before:
                    results.append(False)
                    continue
                after = before if ch.trigger in OBSERVATIONS else self.table.next_state(before, ch.trigger).value
                terminal = after in TERMINAL
                attempts = cur.attempts + (1 if ch.trigger == "send" else 0)
                # What the venue said is kept beside the state it produced: a change of state replaces
                # it (even with nothing), an observation without words leaves the last answer standing.
                said = after != before or ch.code is not None or ch.message is not None
                new = {
                    "b_pk": cur.id,
                    "b_state": before,
                    "n_state": after,
                    "n_updated_at": at,
                    "n_attempts": attempts,
                    "n_queries": cur.queries + (1 if ch.query else 0),
                    "n_not_found_seen": (cur.not_found_seen + 1 if ch.not_found else 0) if ch.query else cur.not_found_seen,
                    "n_reason": ch.reason if (ch.reason is not None or terminal) else cur.reason,
                    "n_provenance": ch.provenance if terminal else cur.provenance,
                    "n_last_code": _clip(ch.code, 64) if said else cur.last_code,
                    "n_last_message": _clip(ch.message) if said else cur.last_message,
                    "n_next_at_ms": ch.next_at_ms if ch.next_at_ms is not None else cur.next_at_ms,
                    "n_unsent": cur.unsent + (1 if ch.unsent else 0),
                }
                params.append(new)
                # The next change of the same order in this batch must see this one.
                current[cur.id] = _Current(cur.id, after, new["n_reason"], new["n_provenance"], attempts, new["n_queries"],
                                           new["n_not_found_seen"], new["n_last_code"], new["n_last_message"], new["n_next_at_ms"],
                                           new["n_unsent"])
                results.append(True)
                rows.append(
                    self._event(
                        job_id,
                        at,
                        ch.trigger,
                        order_pk=cur.id,
                        from_state=before,
                        to_state=after,
                        attempt=attempts,
                        http_status=ch.http_status if ch.http_status is not None else http_status,
                        venue_code=_clip(ch.code, 64),
                        venue_message=ch.message,
                        provenance=ch.provenance if terminal else None,
                        reason=ch.reason,
                        evidence_id=ev_id,
                        evidence_hash=ev_hash,
                        note=ch.note,
                    )
                )
            if job_note is not None or (ev is not None and len(rows) == first_row):
                trigger, note = job_note or ("note", "exchange without an order change")
                rows.append(self._event(job_id, at, trigger, evidence_id=ev_id, evidence_hash=ev_hash, http_status=http_status, note=note))
            out.append(results)
        if params:
            hit = conn.execute(_CAS_UPDATE, params).rowcount
            if conn.dialect.supports_sane_multi_rowcount and hit != len(params):
                raise ConcurrentUpdate(f"job {job_id}: {len(params) - hit} orders changed under the write lock")
        self._append(conn, rows)
        return out

    def resolve(self, job_id: str, order_pk: int, as_state: str, note: str, now: float) -> OrderRow:
        """An operator settles an ``unknown`` order; recorded with provenance ``operator`` and the note."""
        trigger = {"cancelled": "settle", "failed": "settle_failed"}.get(as_state)
        if trigger is None:
            raise InputError(f"an operator can settle an order as cancelled or failed, not {as_state!r}")
        if not note or not note.strip():
            raise InputError("an operator decision needs a --note saying why")
        with self.db.write() as conn:
            r = conn.execute(select(*_ORDER_COLS).where(orders.c.id == order_pk, orders.c.job_id == job_id)).first()
            if r is None:
                raise InputError(f"job {job_id} has no such order")
            row = OrderRow(*r)
            if row.state != S.UNKNOWN:
                raise InputError(f"order {row.ref} is {row.state}; only unknown orders can be settled by an operator")
            self._apply(
                conn,
                job_id,
                [Change(row, trigger, reason="operator", provenance=Provenance.OPERATOR.value, note=note)],
                iso(now),
                None,
                None,
            )
        return row

    # -- reads -----------------------------------------------------------------------------

    def job_result(self, job_id: str, *, with_events: bool = True) -> JobResult:
        with self.db.read() as conn:
            j = conn.execute(select(*_JOB_COLS).where(jobs.c.id == job_id)).first()
            if j is None:
                raise InputError(f"no job {job_id!r} in {self.db.display_url}")
            job = JobRow(*j)
            rows = conn.execute(
                select(
                    orders.c.id, orders.c.symbol, orders.c.order_id, orders.c.client_order_id, orders.c.state, orders.c.reason,
                    orders.c.provenance, orders.c.attempts, orders.c.last_code, orders.c.last_message, orders.c.unsent,
                ).where(orders.c.job_id == job_id).order_by(orders.c.seq)
            ).all()
            names = {r.id: str(OrderRef(r.symbol, r.order_id, r.client_order_id)) for r in rows}
            evs: tuple[EventRecord, ...] = ()
            if with_events:
                evs = tuple(
                    EventRecord(
                        e.seq, e.job_id, names.get(e.order_pk), e.trigger, e.from_state, e.to_state, e.attempt, e.at,
                        e.http_status, e.venue_code, e.venue_message, e.provenance, e.reason, e.evidence_id, e.note,
                    )
                    for e in conn.execute(select(events).where(events.c.job_id == job_id).order_by(events.c.seq))
                )
        return JobResult(
            job_id=job.id,
            key=job.key,
            venue=job.venue,
            account=job.account,
            status=job.status,
            created_at=job.created_at,
            finished_at=job.finished_at,
            orders=tuple(
                OrderResult(r.symbol, r.order_id, r.client_order_id, r.state, r.reason, r.provenance, r.attempts - r.unsent,
                            r.last_code, r.last_message, r.unsent)
                for r in rows
            ),
            events=evs,
            attention=job.attention,
            base_url=job.base_url,
            key_fp=job.key_fp,
        )

    def history(
        self,
        *,
        venue: str | None = None,
        since: str | None = None,
        until: str | None = None,
        state: str | None = None,
        symbol: str | None = None,
        order_id: str | None = None,
        limit: int | None = None,
    ) -> list[JobSummary]:
        q = select(*_JOB_COLS)
        if venue:
            q = q.where(jobs.c.venue == venue)
        if since:
            q = q.where(jobs.c.created_at >= since)
        if until:
            q = q.where(jobs.c.created_at < until)
        filters = []
        if state:
            filters.append(orders.c.state == state)
        if symbol:
            filters.append(orders.c.symbol == symbol)
        if order_id:
            filters.append(or_(orders.c.order_id == order_id, orders.c.client_order_id == order_id))
        if filters:
            q = q.where(jobs.c.id.in_(select(orders.c.job_id).where(*filters)))
        q = q.order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
        if limit:
            q = q.limit(limit)
        with self.db.read() as conn:
            found = [JobRow(*r) for r in conn.execute(q)]
            counts: dict[str, dict[str, int]] = {j.id: {} for j in found}
            ids = list(counts)
            for i in range(0, len(ids), 500):
                for job_id, st, n in conn.execute(
                    select(orders.c.job_id, orders.c.state, func.count())
                    .where(orders.c.job_id.in_(ids[i : i + 500]))
                    .group_by(orders.c.job_id, orders.c.state)
                ):
                    counts[job_id][st] = int(n)
        return [JobSummary(j.id, j.key, j.venue, j.account, j.status, j.created_at, j.finished_at, counts[j.id]) for j in found]

    def find_order(self, job_id: str, ident: str) -> OrderRow:
        """An order of a job by its order id or client order id."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_ORDER_COLS).where(orders.c.job_id == job_id, or_(orders.c.order_id == ident, orders.c.client_order_id == ident))
            ).all()
        if not rows:
            raise InputError(f"job {job_id} has no order {ident!r}")
        if len(rows) > 1:
            raise InputError(f"job {job_id} has several orders matching {ident!r}; use the order id")
        return OrderRow(*rows[0])

    # -- audit -----------------------------------------------------------------------------

    def iter_events(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            with self.db.read() as conn:
                chunk = [dict(r._mapping) for r in conn.execute(select(events).where(events.c.seq > last).order_by(events.c.seq).limit(batch))]
            if not chunk:
                return
            yield from chunk
            last = chunk[-1]["seq"]

    def head(self) -> tuple[int, str]:
        """The chain head (last sequence number, its hash): record it elsewhere to anchor the journal."""
        with self.db.read() as conn:
            seq, h = conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one()
        return int(seq), str(h)

    def _events_in(self, conn: Connection, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every event in order, paged inside the caller's transaction (so inside its snapshot)."""
        last = 0
        while True:
            chunk = [dict(r._mapping) for r in conn.execute(select(events).where(events.c.seq > last).order_by(events.c.seq).limit(batch))]
            if not chunk:
                return
            yield from chunk
            last = chunk[-1]["seq"]

    def verify(self) -> tuple[bool, int, str | None]:
        """Walk the chain. Returns ``(ok, events_checked, problem)``; the problem names the first broken event.

        Runs in one snapshot, so it gives the right answer while other runners keep appending: the
        head, the evidence and the events it reads are all as of one moment.
        """
        with self.db.snapshot() as conn:
            return self._verify(conn)

    def _verify(self, conn: Connection) -> tuple[bool, int, str | None]:
        ev_hashes = {r.id: (r.hash, evidence_hash(dict(r._mapping))) for r in conn.execute(select(evidence))}
        head_seq, head_hash = conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one()
        cp = conn.execute(select(chain_checkpoint).order_by(chain_checkpoint.c.id.desc()).limit(1)).first()
        # After a prune the chain starts at its checkpoint; the checkpoint is itself announced by a
        # "prune" event further down the chain, so an edited checkpoint shows.
        prev, expected_seq = (cp.hash, cp.seq) if cp is not None else (GENESIS_HASH, 0)
        announced = cp is None
        n = 0
        referenced: set[int] = set()
        for row in self._events_in(conn):
            n += 1
            expected_seq += 1
            seq = row["seq"]
            if seq != expected_seq:
                return False, n, f"event {expected_seq} is missing (next is {seq}): a row was deleted"
            if row["prev_hash"] != prev:
                return False, n, f"event {seq}: prev_hash does not match event {seq - 1}: rows were edited or reordered"
            if event_hash(row) != row["hash"]:
                return False, n, f"event {seq} ({row['trigger']}, job {row['job_id']}) was edited: its hash does not match its content"
            if row["evidence_id"] is not None:
                stored = ev_hashes.get(row["evidence_id"])
                if stored is None:
                    return False, n, f"event {seq}: its evidence {row['evidence_id']} was deleted"
                if stored[0] != row["evidence_hash"] or stored[1] != stored[0]:
                    return False, n, f"event {seq}: its evidence {row['evidence_id']} was edited"
                referenced.add(row["evidence_id"])
            if cp is not None and row["trigger"] == "prune" and row["note"]:
                note = json.loads(row["note"])
                announced = announced or (note.get("checkpoint_seq"), note.get("checkpoint_hash")) == (cp.seq, cp.hash)
            prev = row["hash"]
        if (head_seq, head_hash) != (expected_seq, prev):
            return False, n, f"the chain ends at event {expected_seq} but its head says {head_seq}: events were deleted at the end"
        if not announced:
            return False, n, f"checkpoint at event {cp.seq} matches no prune event: it was edited"
        orphans = set(ev_hashes) - referenced
        if orphans:
            return False, n, f"evidence {min(orphans)} is not referenced by any event"
        return True, n, None

    # -- retention -------------------------------------------------------------------------

    def prune(self, before: str, now: float) -> tuple[int, int]:
        """Remove finished jobs created before ``before`` (ISO UTC), keeping the chain verifiable.

        Only a prefix of the chain can go: the cut is placed before the first event of any job that
        stays, and a finished job with events after the cut stays whole. The cut's hash is kept as a
        checkpoint and announced by a ``prune`` event. A broken chain is never pruned (that would
        hide the evidence of the tampering). Returns ``(jobs_removed, events_removed)``.
        """
        ok, _, problem = self.verify()
        if not ok:
            raise StoreError(f"refusing to prune a journal that does not verify: {problem}")
        at = iso(now)
        with self.db.write() as conn:
            head_seq, _ = self._head(conn)
            candidates = set(conn.execute(select(jobs.c.id).where(jobs.c.status == "done", jobs.c.created_at < before)).scalars())
            if not candidates:
                return 0, 0
            spans = {
                job_id: (lo, hi)
                for job_id, lo, hi in conn.execute(select(events.c.job_id, func.min(events.c.seq), func.max(events.c.seq)).group_by(events.c.job_id))
            }
            kept_firsts = [lo for job_id, (lo, _) in spans.items() if job_id not in candidates]
            removable = set(candidates)
            while True:  # a candidate reaching past the cut stays, which may move the cut earlier
                cut = (min(kept_firsts) - 1) if kept_firsts else head_seq
                late = {j for j in removable if spans.get(j, (0, 0))[1] > cut}
                if not late:
                    break
                removable -= late
                kept_firsts += [spans[j][0] for j in late]
            if not removable or cut <= 0:
                return 0, 0
            cut_hash = conn.execute(select(events.c.hash).where(events.c.seq == cut)).scalar_one()
            removed_events = conn.execute(delete(events).where(events.c.seq <= cut)).rowcount
            ids = sorted(removable)
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                conn.execute(delete(evidence).where(evidence.c.job_id.in_(part)))
                conn.execute(delete(orders).where(orders.c.job_id.in_(part)))
                conn.execute(delete(jobs).where(jobs.c.id.in_(part)))
            conn.execute(
                insert(chain_checkpoint).values(
                    seq=cut, hash=cut_hash, at=at, before=before, jobs_removed=len(ids), events_removed=removed_events
                )
            )
            note = json.dumps(
                {"checkpoint_seq": cut, "checkpoint_hash": cut_hash, "before": before, "jobs_removed": len(ids), "events_removed": removed_events},
                separators=(",", ":"),
            )
            # A job-level event needs a job: the prune is announced on the oldest job that stays.
            anchor = conn.execute(select(jobs.c.id).order_by(jobs.c.created_at).limit(1)).scalar()
            if anchor is None:
                raise StoreError("prune would remove every job; keep at least one (the chain needs an anchor)")
            self._append(conn, [self._event(anchor, at, "prune", note=note)])
        return len(ids), removed_events

    # -- export ----------------------------------------------------------------------------

    def export_columns(self, table: str) -> list[str]:
        """The column names of an export table, in order (stable: documented in the README)."""
        return list(self._export_query(table, None, None, None)[0].selected_columns.keys())

    def export(
        self, table: str, *, since: str | None = None, until: str | None = None, venue: str | None = None, batch: int = 2000
    ) -> Iterator[dict[str, Any]]:
        """Stream ``jobs``, ``orders`` or ``events`` rows (flat dicts, stable keys) in bounded memory."""
        q, cursor_col, label = self._export_query(table, since, until, venue)
        last: Any = None
        while True:
            page_q = q if last is None else q.where(cursor_col > last)
            with self.db.read() as conn:
                page = [dict(r._mapping) for r in conn.execute(page_q.order_by(cursor_col).limit(batch))]
            if not page:
                return
            yield from page
            last = page[-1][label]

    def _export_query(self, table: str, since: str | None, until: str | None, venue: str | None) -> tuple[Any, Any, str]:
        job_filter = []
        if since:
            job_filter.append(jobs.c.created_at >= since)
        if until:
            job_filter.append(jobs.c.created_at < until)
        if venue:
            job_filter.append(jobs.c.venue == venue)
        if table == "jobs":
            q = select(
                jobs.c.id.label("job_id"), jobs.c.key, jobs.c.venue, jobs.c.account, jobs.c.status, jobs.c.order_count,
                jobs.c.created_at, jobs.c.finished_at, jobs.c.fingerprint,
            ).where(*job_filter)
            cursor_col, label = jobs.c.id, "job_id"
        elif table == "orders":
            q = (
                select(
                    orders.c.id.label("row"), orders.c.job_id, jobs.c.venue, orders.c.symbol, orders.c.order_id, orders.c.client_order_id,
                    orders.c.state, orders.c.reason, orders.c.provenance, orders.c.attempts, orders.c.queries, orders.c.last_code,
                    orders.c.last_message, orders.c.updated_at,
                )
                .join(jobs, jobs.c.id == orders.c.job_id)
                .where(*job_filter)
            )
            cursor_col, label = orders.c.id, "row"
        elif table == "events":
            q = (
                select(
                    events.c.seq, events.c.job_id, jobs.c.venue, orders.c.symbol, orders.c.order_id, orders.c.client_order_id,
                    events.c.trigger, events.c.from_state, events.c.to_state, events.c.attempt, events.c.at, events.c.http_status,
                    events.c.venue_code, events.c.venue_message, events.c.provenance, events.c.reason, events.c.note,
                    events.c.evidence_id, evidence.c.method.label("evidence_method"), evidence.c.path.label("evidence_path"),
                    evidence.c.query.label("evidence_query"), evidence.c.status.label("evidence_status"),
                    evidence.c.response.label("evidence_response"), events.c.prev_hash, events.c.hash,
                )
                .join(jobs, jobs.c.id == events.c.job_id)
                .outerjoin(orders, orders.c.id == events.c.order_pk)
                .outerjoin(evidence, evidence.c.id == events.c.evidence_id)
                .where(*job_filter)
            )
            cursor_col, label = events.c.seq, "seq"
        else:
            raise InputError(f"unknown export table {table!r}; use jobs, orders or events")
        return q, cursor_col, label


_EVENT_HASHED = (
    "seq", "job_id", "order_pk", "trigger", "from_state", "to_state", "attempt", "at", "http_status", "venue_code",
    "venue_message", "provenance", "reason", "evidence_id", "evidence_hash", "note", "prev_hash",
)
_EVIDENCE_HASHED = ("job_id", "at", "endpoint", "method", "path", "query", "body", "status", "response", "elapsed_ms", "error")


def event_hash(row: dict[str, Any]) -> str:
    return _digest([row.get(k) for k in _EVENT_HASHED])


def evidence_hash(row: dict[str, Any]) -> str:
    return _digest([row.get(k) for k in _EVIDENCE_HASHED])


__all__ = ["Change", "Evidence", "JobRow", "Journal", "OrderRow", "StoreError", "fingerprint", "iso"]
