"""The audit: the hash chain, and every row people read proven equal to the replay of its events.

The chain (:mod:`.chain`) proves the *events* were not edited. But what ``show``, ``history`` and
``export`` display are the ``jobs`` and ``orders`` rows, which a plain ``UPDATE`` can change without
touching an event. So :func:`audit_journal` also replays each job's events and compares:

- every **order** row: which order it is (its symbol and id must be the ones its job's ``create``
  event fingerprinted, or its ``discover`` event named, at its position), and its ``state``,
  ``reason``, ``provenance``, ``attempts`` (and how many provably never left), and what the venue last
  said (``last_code``/``last_message``), as the order's events leave them;
- every **job** row: ``key``, ``venue``, ``account``, order-set ``fingerprint``, ``kind`` and
  ``scope`` (the ``create`` event), ``base_url``/``key_fp`` (``create``, then each ``rebind``),
  ``status``, ``attention`` and ``finished_at`` (the ``status`` events), ``order_count``, and the kill
  switch's ``verified_empty_at``/``verified_evidence`` (its ``sweep`` events);
- rows without events (an inserted job or order) and events without rows (a deleted one).

Not covered, because no event records them: operational columns (leases, ``updated_at``,
``next_at_ms``) and the counters ``queries``/``not_found_seen``, which are shown nowhere but the
``orders`` export.

Streaming: jobs are read a page at a time and each job's events in one ordered pass, so memory is
bounded by the largest job (its orders' replayed state), not by the journal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ..model import JobStatus, OrderRef
from ..states import OBSERVATIONS, TERMINAL, OrderState, StateTable, Trigger
from .chain import verify_chain
from .rows import _digest, fingerprint
from .schema import events, jobs, orders

S = OrderState
T = Trigger
# add_orders re-opens a finished job with this status note; it leaves the job's attention as it was.
ORDERS_ADDED = ": orders added"


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What :func:`audit_journal` found: the chain, then the rows. ``problem`` names the first mismatch."""

    ok: bool
    events: int  # events whose hashes were checked
    jobs: int  # job rows replayed (0 when the chain is broken: rows are not trusted then)
    orders: int  # order rows replayed
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "jobs": self.jobs, "orders": self.orders, "problem": self.problem}


def orders_hash(refs: list[OrderRef]) -> str:
    """The hash of a job's orders *in their order*, kept in its ``create`` note: the fingerprint is of the
    sorted set, so swapping two orders' ids would not change it, but changes this."""
    return _digest([str(r) for r in refs])


class _Mismatch(Exception):
    """A row differs from its events (internal: becomes the report's problem)."""


def audit_journal(conn: Connection, table: StateTable | None = None) -> AuditReport:
    """The chain, then every job and order row, inside the caller's snapshot."""
    chain = verify_chain(conn)
    if not chain.ok:
        return AuditReport(False, chain.events, 0, 0, chain.problem)
    table = table or StateTable()
    n_jobs = n_orders = 0
    try:
        _orphans(conn)
        for job in _jobs_in(conn):
            n_orders += _replay_job(conn, table, job)
            n_jobs += 1
    except _Mismatch as exc:
        return AuditReport(False, chain.events, n_jobs, n_orders, str(exc))
    return AuditReport(True, chain.events, n_jobs, n_orders, None)


def _orphans(conn: Connection) -> None:
    """Events or orders whose job row is gone (a deleted job)."""
    known = select(jobs.c.id)
    ev = conn.execute(select(events.c.seq, events.c.job_id).where(events.c.job_id.not_in(known)).limit(1)).first()
    if ev is not None:
        raise _Mismatch(
            f"event {ev.seq} belongs to job {ev.job_id}, which is not in the jobs table: the job was deleted"
        )
    row = conn.execute(select(orders.c.id, orders.c.job_id).where(orders.c.job_id.not_in(known)).limit(1)).first()
    if row is not None:
        raise _Mismatch(f"order row {row.id} belongs to job {row.job_id}, which is not in the jobs table")


def _jobs_in(conn: Connection, batch: int = 500) -> Iterator[Any]:
    last = ""
    while True:
        page = conn.execute(select(jobs).where(jobs.c.id > last).order_by(jobs.c.id).limit(batch)).all()
        if not page:
            return
        yield from page
        last = page[-1].id


_ORDER_READ = (
    orders.c.id,
    orders.c.seq,
    orders.c.symbol,
    orders.c.order_id,
    orders.c.client_order_id,
    orders.c.conditional,
    orders.c.state,
    orders.c.reason,
    orders.c.provenance,
    orders.c.attempts,
    orders.c.unsent,
    orders.c.last_code,
    orders.c.last_message,
)
_EVENT_READ = (
    events.c.seq,
    events.c.order_pk,
    events.c.trigger,
    events.c.from_state,
    events.c.to_state,
    events.c.attempt,
    events.c.at,
    events.c.http_status,
    events.c.venue_code,
    events.c.venue_message,
    events.c.provenance,
    events.c.reason,
    events.c.evidence_id,
    events.c.note,
)


class _Order:
    """An order as its events leave it (``__slots__``: a 100k-order job keeps 100k of these)."""

    __slots__ = ("state", "reason", "provenance", "attempts", "unsent", "code", "message")

    def __init__(self, state: str) -> None:
        self.state = state
        self.reason: str | None = None
        self.provenance: str | None = None
        self.attempts = 0
        self.unsent = 0
        self.code: str | None = None
        self.message: str | None = None


def _note(ev: Any) -> dict[str, Any]:
    try:
        note = json.loads(ev.note or "")
    except ValueError:
        note = None
    if not isinstance(note, dict):
        raise _Mismatch(f"event {ev.seq} ({ev.trigger}) has no readable note")
    return note


def _replay_job(conn: Connection, table: StateTable, job: Any) -> int:
    """Replay one job's events and compare its job and order rows; returns how many orders it has."""
    rows = conn.execute(select(*_ORDER_READ).where(orders.c.job_id == job.id).order_by(orders.c.id)).all()
    where = f"job {job.id}"
    # Orders are inserted in list order, so row ids and positions rise together; the positions are 0..n-1.
    for i, r in enumerate(rows):
        if r.seq != i:
            raise _Mismatch(
                f"order row {r.id} of {where} is at position {r.seq}, expected {i}: orders were moved, added or deleted"
            )
    refs = [OrderRef(r.symbol, r.order_id, r.client_order_id, bool(r.conditional)) for r in rows]
    replay: dict[int, _Order] = {}
    made = 0  # orders created so far by the job's events (they take positions 0..made-1)
    status: str | None = None
    attention: str | None = None
    finished_at: str | None = None
    base_url = key_fp = None
    verified: tuple[str | None, int | None] = (None, None)
    moves = table.moves
    q = select(*_EVENT_READ).where(events.c.job_id == job.id).order_by(events.c.seq)
    # yield_per: fetched 5,000 rows at a time (fetchmany), from a server-side cursor on PostgreSQL.
    result = conn.execution_options(yield_per=5000).execute(q)
    for ev in (ev for part in result.partitions() for ev in part):
        if status is None:  # the job's first event must create it
            if ev.trigger != T.CREATE:
                raise _Mismatch(f"{where}: its first event ({ev.seq}) is {ev.trigger!r}, not its creation")
            note = _note(ev)
            made = _check_created(job, note, ev, refs, where)
            for r in rows[:made]:
                replay[r.id] = _Order(S.PENDING)
            status = JobStatus.OPEN
            base_url, key_fp = note.get("base_url"), note.get("key_fp")
            continue
        if ev[1] is not None:  # order_pk: an order's event
            _replay_order(moves, replay, ev, where)
            continue
        trigger = ev.trigger
        if trigger == T.STATUS:
            status, attention, finished_at = _replay_status(ev, status, attention, finished_at, where)
        elif trigger == T.DISCOVER:
            note = _note(ev)
            added = note.get("added") or []
            state = note.get("state", S.PENDING)
            for k, name in enumerate(added):
                pos = made + k
                if pos >= len(rows) or str(refs[pos]) != name:
                    got = str(refs[pos]) if pos < len(rows) else "nothing"
                    raise _Mismatch(
                        f"{where}: event {ev.seq} added {name} at position {pos}, but the row there is {got}"
                    )
                replay[rows[pos].id] = _Order(state)
            made += len(added)
        elif trigger == T.REBIND:
            to = _note(ev).get("to") or {}
            base_url, key_fp = to.get("base_url"), to.get("key_fp")
        elif trigger == T.SWEEP:
            empty = bool(_note(ev).get("verified_empty"))
            verified = (ev.at, ev.evidence_id) if empty else (None, None)
    if status is None:
        raise _Mismatch(f"{where} has no events: the job row was inserted, or its events deleted")
    if made != len(rows):
        raise _Mismatch(
            f"{where} has {len(rows)} order rows but its events created {made}: order rows were inserted or deleted"
        )
    expected = {
        "status": status,
        "attention": attention,
        "finished_at": finished_at,
        "base_url": base_url,
        "key_fp": key_fp,
        "order_count": made,
        "verified_empty_at": verified[0],
        "verified_evidence": verified[1],
    }
    for column, want in expected.items():
        got = getattr(job, column)
        if got != want:
            raise _Mismatch(f"{where}: {column} is {got!r} but its events say {want!r}")
    for r, ref in zip(rows, refs, strict=True):
        o = replay[r.id]
        for column, got, want in (
            ("state", r.state, o.state),
            ("reason", r.reason, o.reason),
            ("provenance", r.provenance, o.provenance),
            ("attempts", r.attempts, o.attempts),
            ("unsent", r.unsent, o.unsent),
            ("last_code", r.last_code, o.code),
            ("last_message", r.last_message, o.message),
        ):
            if got != want:
                raise _Mismatch(f"order row {r.id} of {where} ({ref}): {column} is {got!r} but its events say {want!r}")
    return len(rows)


def _check_created(job: Any, note: dict[str, Any], ev: Any, refs: list[OrderRef], where: str) -> int:
    """The job's identity against its ``create`` event; returns how many orders it was created with."""
    n = note.get("orders")
    if not isinstance(n, int) or n < 0 or n > len(refs):
        raise _Mismatch(f"{where}: its creation (event {ev.seq}) had {n} orders but only {len(refs)} rows exist")
    scope = json.loads(job.scope) if job.scope else None
    for column, got, want in (
        ("key", job.key, note.get("key")),
        ("venue", job.venue, note.get("venue")),
        ("account", job.account, note.get("account")),
        ("fingerprint", job.fingerprint, note.get("fingerprint")),
        ("kind", job.kind, note.get("kind")),
        ("scope", scope, note.get("scope")),
        ("created_at", job.created_at, ev.at),
    ):
        if got != want:
            raise _Mismatch(f"{where}: {column} is {got!r} but its creation (event {ev.seq}) says {want!r}")
    created = refs[:n]
    if fingerprint(created) != note.get("fingerprint"):
        raise _Mismatch(f"{where}: its first {n} order rows are not the orders it was created with (ids were edited)")
    if "orders_hash" in note and orders_hash(created) != note["orders_hash"]:
        raise _Mismatch(f"{where}: its order rows are not in the order it was created with (ids were swapped)")
    return n


def _replay_status(
    ev: Any, status: str, attention: str | None, finished_at: str | None, where: str
) -> tuple[str, str | None, str | None]:
    """A ``status`` event's note is ``"<from> -> <to>"``, then ``": <why>"`` when the job stopped short."""
    text = ev.note or ""
    was, sep, rest = text.partition(" -> ")
    to, _, why = rest.partition(": ")
    if not sep or was != status or to not in set(JobStatus):
        raise _Mismatch(f"{where}: event {ev.seq} changes its status {text!r}, but it was {status!r}")
    if text.endswith(ORDERS_ADDED) and to == JobStatus.OPEN:
        return to, attention, None  # orders added re-open a job; its attention is left as it was
    return to, (why or None) if to != JobStatus.DONE else None, ev.at if to == JobStatus.DONE else None


def _replay_order(moves: Mapping[tuple[str, str], str], replay: dict[int, _Order], ev: Any, where: str) -> None:
    """One order event: checked against the order as replayed so far, and applied to it (the hot path:
    one call per order event, so it reads the row by position and the state table as a dict)."""
    seq, pk, trigger, from_state, to_state, attempt, _, http_status, code, message, provenance, reason, _, note = ev
    o = replay.get(pk)
    if o is None:
        raise _Mismatch(f"event {seq} of {where} changes order row {pk}, which is not one of its orders")
    before = o.state
    if from_state != before:
        raise _Mismatch(f"event {seq} of {where} moves order row {pk} from {from_state!r}, but it was {before!r}")
    after = before if trigger in OBSERVATIONS else moves.get((trigger, before))
    if after is None:
        raise _Mismatch(f"event {seq} of {where}: {trigger!r} is not a move from {before!r}")
    if to_state != after:
        raise _Mismatch(f"event {seq} of {where}: {trigger} leads from {before!r} to {after!r}, not {to_state!r}")
    terminal = after in TERMINAL
    if reason is not None or terminal:
        o.reason = reason
    if terminal:
        o.provenance = provenance
    if attempt is not None:
        o.attempts = attempt
    if after != before or code is not None or message is not None:
        o.code, o.message = code, message
    # A requeue without a reply, reason or note is the one the policy makes for a request that provably
    # never left this machine (policy.send_error): it is counted apart from the attempts.
    if trigger == T.REQUEUE and http_status is None and note is None and reason is None:
        o.unsent += 1
    o.state = after


__all__ = ["AuditReport", "audit_journal", "orders_hash"]
