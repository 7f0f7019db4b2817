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

One pass: the events are read once, in ``seq`` order, a page at a time, as the driver's plain tuples
(:class:`~.chain.DriverReads`). Each page is checked as a piece of the chain (:class:`~.chain.ChainWalk`)
and then replayed: a job's row and order rows are read when its first event comes by (a page's new jobs
together), and compared, then forgotten, at its last event (its ``max(seq)``, read with its row). So
memory is bounded by the jobs whose events are still ahead of the walk, not by the journal, and each
event, order and job row is read once. A broken chain outranks a differing row, as when the chain was
checked first: once a row differs the replay stops, but the walk goes on to the end of the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ..model import IdKind, JobStatus, OrderRef
from ..states import OBSERVATIONS, TERMINAL, OrderState, StateTable, Trigger
from .chain import VERIFY_COLS, ChainWalk, DriverReads, EventRow, digest_matches, fast_decoder
from .rows import _digest
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


class Pruned(tuple[int, int]):
    """What a prune did: ``(jobs_removed, events_removed)``, the tuple ``prune`` has always returned, and
    what a command shows around it, so that it audits the journal once.

    ``planned``: ``(jobs, events)`` the plan held when it was asked about (a dry run's answer).
    ``verify``: the journal's audit: as found when nothing was removed; after the cut, that audit less
    what the cut removed, plus the ``prune`` event (see :meth:`~.writer.JournalWriter.prune` for why
    that proves the journal after the cut).
    """

    planned: tuple[int, int]
    verify: AuditReport

    def __new__(cls, removed: tuple[int, int], planned: tuple[int, int], verify: AuditReport) -> Pruned:
        self = super().__new__(cls, removed)
        self.planned = planned
        self.verify = verify
        return self


def orders_hash(refs: list[OrderRef]) -> str:
    """The hash of a job's orders *in their order*, kept in its ``create`` note: the fingerprint is of the
    sorted set, so swapping two orders' ids would not change it, but changes this."""
    return _digest([str(r) for r in refs])


_ORDER_ID, _CLIENT_ORDER_ID = IdKind.ORDER_ID.value, IdKind.CLIENT_ORDER_ID.value


def order_identities(rows: Iterable[Sequence[Any]]) -> tuple[list[list[str]], list[str]]:
    """For order rows ``(id, seq, symbol, order_id, client_order_id, conditional, ...)``: each one's
    identity as :func:`~.rows.fingerprint` hashes it and its name as ``str(OrderRef)`` writes it.

    The audit needs both for every order; built from the columns they cost a tenth of what ``OrderRef``
    objects and their properties do (~3 µs an order). ``tests/unit/test_chain.py`` checks they agree.
    """
    keys: list[list[str]] = []
    names: list[str] = []
    for _, _, symbol, order_id, client_order_id, conditional, *_ in rows:
        kind, value = (_ORDER_ID, order_id) if order_id is not None else (_CLIENT_ORDER_ID, client_order_id)
        if conditional:
            keys.append([symbol, kind, value, "conditional"])
            names.append(f"{symbol}:{kind}={value}:conditional")
        else:
            keys.append([symbol, kind, value])
            names.append(f"{symbol}:{kind}={value}")
    return keys, names


class _Mismatch(Exception):
    """A row differs from its events (internal: becomes the report's problem)."""


def audit_journal(conn: Connection, table: StateTable | None = None) -> AuditReport:
    """The chain and every job and order row, in one walk of the events inside the caller's snapshot."""
    with DriverReads(conn) as reads:
        return _Audit(reads, table or StateTable()).run(ChainWalk.from_start(reads))


# Positions in an event tuple as the walk reads it (chain.VERIFY_COLS: the hashed columns, then the hash).
_SEQ, _JOB, _PK, _TRIGGER, _AT, _EVIDENCE_ID, _NOTE = (
    VERIFY_COLS.index(k) for k in ("seq", "job_id", "order_pk", "trigger", "at", "evidence_id", "note")
)
# What the audit reads of a job row (then the seq of its last event) and of its order rows, in this order.
_JOB_READ = (
    "id",
    "key",
    "venue",
    "account",
    "fingerprint",
    "kind",
    "scope",
    "created_at",
    "status",
    "attention",
    "finished_at",
    "base_url",
    "key_fp",
    "order_count",
    "verified_empty_at",
    "verified_evidence",
)
_JOBS_SQL = (
    f"SELECT {', '.join(_JOB_READ)}, (SELECT max(seq) FROM {events.name} WHERE {events.name}.job_id = {jobs.name}.id) "
    f"FROM {jobs.name} WHERE id IN (*)"
)
_ORDER_READ = (
    "id",
    "seq",
    "symbol",
    "order_id",
    "client_order_id",
    "conditional",
    "state",
    "reason",
    "provenance",
    "attempts",
    "unsent",
    "last_code",
    "last_message",
)
_ORDERS_SQL = f"SELECT job_id, {', '.join(_ORDER_READ)} FROM {orders.name} WHERE job_id IN (*) ORDER BY job_id, id"
# SQLite: one JSON array of a job's order rows per job (built in C, parsed by orjson): 40% less time
# than the driver building each row column by column, and no job id repeated on every row.
_ORDERS_JSON_SQL = (
    f"SELECT job_id, json_group_array(json_array({', '.join(_ORDER_READ)})) FROM {orders.name} "
    "WHERE job_id IN (*) GROUP BY job_id"
)
_O_ID, _O_SEQ, _O_STATE = (_ORDER_READ.index(k) for k in ("id", "seq", "state"))
# An order as its events leave it: a list in the order of the row's last columns (state .. last_message),
# so the two compare at once. A list, not an object: a 100k-order job keeps 100k of them, made and
# updated once per event on the audit's hot path.
_COMPARED = _ORDER_READ[_O_STATE:]
_STATE, _REASON, _PROVENANCE, _ATTEMPTS, _UNSENT, _CODE, _MESSAGE = range(len(_COMPARED))


def _by_id(row: list[Any]) -> Any:
    return row[_O_ID]


def _fresh(state: str) -> list[Any]:
    return [state, None, None, 0, 0, None, None]


# The vocabulary the replay compares with the events' plain strings, as plain strings.
_PENDING, _REQUEUE = S.PENDING.value, T.REQUEUE.value
_OBSERVATIONS = frozenset(t.value for t in OBSERVATIONS)
_TERMINAL = frozenset(s.value for s in TERMINAL)


class _Job:
    """A job whose events the walk has reached but not yet passed: its rows and what its events said so far."""

    __slots__ = (
        "id",
        "row",
        "last",
        "rows",
        "names",
        "replay",
        "made",
        "status",
        "attention",
        "finished_at",
        "base_url",
        "key_fp",
        "verified",
    )

    def __init__(self, job_id: str, row: tuple[Any, ...] | None, rows: list[Any]) -> None:
        self.id = job_id
        self.row = dict(zip(_JOB_READ, row)) if row is not None else None  # None: the job row is gone
        self.last = row[-1] if row is not None else None  # the seq of its last event
        self.rows = rows  # its order rows, in id order
        self.names: list[str] = []  # each order row's name (str(OrderRef)), by position
        self.replay: dict[int, list[Any]] = {}  # order row id -> the order as replayed (_COMPARED)
        self.made = 0  # orders created so far by its events (they take positions 0..made-1)
        self.status: str | None = None  # None until its creation
        self.attention: str | None = None
        self.finished_at: str | None = None
        self.base_url: str | None = None
        self.key_fp: str | None = None
        self.verified: tuple[str | None, int | None] = (None, None)


class _Audit:
    """One walk: each page of events checked as chain, then replayed into the jobs it reached."""

    def __init__(self, reads: DriverReads, table: StateTable) -> None:
        self.reads = reads
        # The state table as plain strings (the events hold plain strings): the replay's lookups
        # then compare str with str, not with the enum.
        self.moves = {(str(t), str(s)): str(after) for (t, s), after in table.moves.items()}
        self.live: dict[str, _Job] = {}
        self._loads = fast_decoder() if reads.dialect == "sqlite" else None
        self.jobs = self.orders = 0
        self.problem: str | None = None

    def run(self, walk: ChainWalk) -> AuditReport:
        for page in walk.pages():
            if self.problem is None:
                try:
                    self._replay(page)
                except _Mismatch as exc:
                    self.problem = str(exc)
                    self.live.clear()  # no more replay; the walk goes on for the chain
        chain = walk.finish()
        if not chain.ok:
            return AuditReport(False, chain.events, 0, 0, chain.problem)
        if self.problem is None:
            try:
                self._rows_without_events()
            except _Mismatch as exc:
                self.problem = str(exc)
        return AuditReport(self.problem is None, chain.events, self.jobs, self.orders, self.problem)

    def _replay(self, page: list[EventRow]) -> None:
        live = self.live
        new = [j for j in dict.fromkeys(row[_JOB] for row in page) if j not in live]
        if new:
            self._reach(new)
        moves = self.moves
        for row in page:
            job = live[row[_JOB]]
            if row[_PK] is not None and job.status is not None:
                _replay_order(moves, job, row)
            else:
                self._job_event(job, row)
            if row[_SEQ] == job.last:
                self._compare(job)
                del live[job.id]

    def _reach(self, job_ids: list[str]) -> None:
        """Read the rows of jobs whose first event the walk has come to (a page's worth at once)."""
        found = {row[0]: row for row in self.reads.all_in(_JOBS_SQL, job_ids)}
        rows = self._order_rows(list(found))
        for job_id in job_ids:
            self.live[job_id] = _Job(job_id, found.get(job_id), rows.get(job_id, []))

    def _order_rows(self, job_ids: list[str]) -> dict[str, list[Any]]:
        """Each job's order rows (``_ORDER_READ``), in id order."""
        if self._loads is not None:
            try:
                grouped = self.reads.all_in(_ORDERS_JSON_SQL, job_ids)
            except self.reads.driver_error:  # a value SQLite cannot put in JSON (a BLOB): read the columns
                pass
            else:
                out = {job_id: self._loads(text) for job_id, text in grouped}
                for rows in out.values():
                    rows.sort(key=_by_id)  # json_group_array keeps no order
                return out
        by_job: dict[str, list[Any]] = {j: [] for j in job_ids}
        for r in self.reads.all_in(_ORDERS_SQL, job_ids):
            by_job[r[0]].append(r[1:])
        return by_job

    def _job_event(self, job: _Job, ev: EventRow) -> None:
        where = f"job {job.id}"
        if job.status is None:  # the job's first event: it must create it
            self._create(job, ev, where)
            return
        trigger = ev[_TRIGGER]
        if trigger == T.STATUS:
            job.status, job.attention, job.finished_at = _replay_status(
                ev, job.status, job.attention, job.finished_at, where
            )
        elif trigger == T.DISCOVER:
            note = _note(ev)
            added = note.get("added") or []
            state = note.get("state", S.PENDING)
            rows, names = job.rows, job.names
            for k, name in enumerate(added):
                pos = job.made + k
                if pos >= len(rows) or names[pos] != name:
                    got = names[pos] if pos < len(rows) else "nothing"
                    raise _Mismatch(
                        f"{where}: event {ev[_SEQ]} added {name} at position {pos}, but the row there is {got}"
                    )
                job.replay[rows[pos][_O_ID]] = _fresh(str(state))
            job.made += len(added)
        elif trigger == T.REBIND:
            to = _note(ev).get("to") or {}
            job.base_url, job.key_fp = to.get("base_url"), to.get("key_fp")
        elif trigger == T.SWEEP:
            empty = bool(_note(ev).get("verified_empty"))
            job.verified = (ev[_AT], ev[_EVIDENCE_ID]) if empty else (None, None)

    def _create(self, job: _Job, ev: EventRow, where: str) -> None:
        if job.row is None:
            raise _Mismatch(
                f"event {ev[_SEQ]} belongs to job {job.id}, which is not in the jobs table: the job was deleted"
            )
        # Orders are inserted in list order, so row ids and positions rise together; the positions are 0..n-1.
        if [r[_O_SEQ] for r in job.rows] != list(range(len(job.rows))):
            i, r = next((i, r) for i, r in enumerate(job.rows) if r[_O_SEQ] != i)
            raise _Mismatch(
                f"order row {r[_O_ID]} of {where} is at position {r[_O_SEQ]}, expected {i}: "
                "orders were moved, added or deleted"
            )
        if ev[_TRIGGER] != T.CREATE:
            raise _Mismatch(f"{where}: its first event ({ev[_SEQ]}) is {ev[_TRIGGER]!r}, not its creation")
        keys, job.names = order_identities(job.rows)
        note = _note(ev)
        job.made = _check_created(job.row, note, ev, keys, job.names, where)
        job.replay = {r[_O_ID]: _fresh(_PENDING) for r in job.rows[: job.made]}
        job.status = JobStatus.OPEN
        job.base_url, job.key_fp = note.get("base_url"), note.get("key_fp")

    def _compare(self, job: _Job) -> None:
        """The job's last event is behind the walk: its job row and order rows against the replay."""
        where = f"job {job.id}"
        row, rows = job.row, job.rows
        assert row is not None  # a job without a row raised at its first event
        if job.made != len(rows):
            raise _Mismatch(
                f"{where} has {len(rows)} order rows but its events created {job.made}: "
                "order rows were inserted or deleted"
            )
        expected = {
            "status": job.status,
            "attention": job.attention,
            "finished_at": job.finished_at,
            "base_url": job.base_url,
            "key_fp": job.key_fp,
            "order_count": job.made,
            "verified_empty_at": job.verified[0],
            "verified_evidence": job.verified[1],
        }
        for column, want in expected.items():
            got = row[column]
            if got != want:
                raise _Mismatch(f"{where}: {column} is {got!r} but its events say {want!r}")
        replay = job.replay
        for r in rows:
            o = replay[r[_O_ID]]
            if list(r[_O_STATE:]) != o:  # one comparison per order; the column is looked for only when they differ
                ref = job.names[r[_O_SEQ]]
                for column, got, want in zip(_COMPARED, r[_O_STATE:], o):
                    if got != want:
                        raise _Mismatch(
                            f"order row {r[_O_ID]} of {where} ({ref}): {column} is {got!r} but its events say {want!r}"
                        )
        self.jobs += 1
        self.orders += len(rows)

    def _rows_without_events(self) -> None:
        """Job and order rows the walk never reached: an inserted row, or one whose events were deleted.
        Every row reached was compared, so counting is enough to know whether there is one; only then is
        it looked for, to name it."""
        reads = self.reads
        (n_orders,) = reads.one(f"SELECT count(*) FROM {orders.name}") or (0,)
        if n_orders != self.orders:
            found = reads.one(
                f"SELECT id, job_id FROM {orders.name} WHERE job_id NOT IN (SELECT id FROM {jobs.name}) "
                "ORDER BY id LIMIT 1"
            )
            if found is not None:
                raise _Mismatch(f"order row {found[0]} belongs to job {found[1]}, which is not in the jobs table")
        (n_jobs,) = reads.one(f"SELECT count(*) FROM {jobs.name}") or (0,)
        if n_jobs != self.jobs:
            found = reads.one(
                f"SELECT id FROM {jobs.name} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {events.name} WHERE {events.name}.job_id = {jobs.name}.id) ORDER BY id LIMIT 1"
            )
            if found is not None:
                raise _Mismatch(f"job {found[0]} has no events: the job row was inserted, or its events deleted")
        if (n_orders, n_jobs) != (self.orders, self.jobs):  # cannot happen inside one snapshot; never passed over
            raise _Mismatch(
                f"{n_jobs} job rows and {n_orders} order rows, but the events account for {self.jobs} and {self.orders}"
            )


def _note(ev: EventRow) -> dict[str, Any]:
    try:
        note = json.loads(ev[_NOTE] or "")
    except ValueError:
        note = None
    if not isinstance(note, dict):
        raise _Mismatch(f"event {ev[_SEQ]} ({ev[_TRIGGER]}) has no readable note")
    return note


def _check_created(
    job: Mapping[str, Any],
    note: dict[str, Any],
    ev: EventRow,
    keys: list[list[str]],
    names: list[str],
    where: str,
) -> int:
    """The job's identity against its ``create`` event; returns how many orders it was created with."""
    seq = ev[_SEQ]
    n = note.get("orders")
    if not isinstance(n, int) or n < 0 or n > len(names):
        raise _Mismatch(f"{where}: its creation (event {seq}) had {n} orders but only {len(names)} rows exist")
    scope = json.loads(job["scope"]) if job["scope"] else None
    for column, got, want in (
        ("key", job["key"], note.get("key")),
        ("venue", job["venue"], note.get("venue")),
        ("account", job["account"], note.get("account")),
        ("fingerprint", job["fingerprint"], note.get("fingerprint")),
        ("kind", job["kind"], note.get("kind")),
        ("scope", scope, note.get("scope")),
        ("created_at", job["created_at"], ev[_AT]),
    ):
        if got != want:
            raise _Mismatch(f"{where}: {column} is {got!r} but its creation (event {seq}) says {want!r}")
    # rows.fingerprint(refs) and orders_hash(refs) of the orders it was created with, from their identities.
    try:
        created = sorted(keys[:n])
    except TypeError:  # a value no writer stores (a BLOB written behind the journal's back)
        created = []
    if (n and not created) or not digest_matches(created, note.get("fingerprint") or ""):
        raise _Mismatch(f"{where}: its first {n} order rows are not the orders it was created with (ids were edited)")
    if "orders_hash" in note and not digest_matches(names[:n], note["orders_hash"]):
        raise _Mismatch(f"{where}: its order rows are not in the order it was created with (ids were swapped)")
    return n


def _replay_status(
    ev: EventRow, status: str, attention: str | None, finished_at: str | None, where: str
) -> tuple[str, str | None, str | None]:
    """A ``status`` event's note is ``"<from> -> <to>"``, then ``": <why>"`` when the job stopped short."""
    text = ev[_NOTE] or ""
    was, sep, rest = text.partition(" -> ")
    to, _, why = rest.partition(": ")
    if not sep or was != status or to not in set(JobStatus):
        raise _Mismatch(f"{where}: event {ev[_SEQ]} changes its status {text!r}, but it was {status!r}")
    if text.endswith(ORDERS_ADDED) and to == JobStatus.OPEN:
        return to, attention, None  # orders added re-open a job; its attention is left as it was
    done = to == JobStatus.DONE
    return to, (why or None) if not done else None, ev[_AT] if done else None


def _replay_order(moves: Mapping[tuple[str, str], str], job: _Job, ev: EventRow) -> None:
    """One order event: checked against the order as replayed so far, and applied to it (the hot path:
    one call per order event, so it unpacks the tuple and reads the state table as a dict)."""
    seq, _, pk, trigger, from_state, to_state, attempt, _, http_status, code, message, provenance, reason = ev[:13]
    note = ev[_NOTE]
    o = job.replay.get(pk)
    if o is None:
        raise _Mismatch(f"event {seq} of job {job.id} changes order row {pk}, which is not one of its orders")
    before = o[_STATE]
    if from_state != before:
        raise _Mismatch(f"event {seq} of job {job.id} moves order row {pk} from {from_state!r}, but it was {before!r}")
    after = before if trigger in _OBSERVATIONS else moves.get((trigger, before))
    if after is None:
        raise _Mismatch(f"event {seq} of job {job.id}: {trigger!r} is not a move from {before!r}")
    if to_state != after:
        raise _Mismatch(f"event {seq} of job {job.id}: {trigger} leads from {before!r} to {after!r}, not {to_state!r}")
    terminal = after in _TERMINAL
    if reason is not None or terminal:
        o[_REASON] = reason
    if terminal:
        o[_PROVENANCE] = provenance
    if attempt is not None:
        o[_ATTEMPTS] = attempt
    if after != before or code is not None or message is not None:
        o[_CODE], o[_MESSAGE] = code, message
    # A requeue without a reply, reason or note is the one the policy makes for a request that provably
    # never left this machine (policy.send_error): it is counted apart from the attempts.
    if trigger == _REQUEUE and http_status is None and note is None and reason is None:
        o[_UNSENT] += 1
    o[_STATE] = after


# The replay unpacks an event by position: the columns it names must be where it expects them.
if VERIFY_COLS[:13] != (
    "seq",
    "job_id",
    "order_pk",
    "trigger",
    "from_state",
    "to_state",
    "attempt",
    "at",
    "http_status",
    "venue_code",
    "venue_message",
    "provenance",
    "reason",
):
    raise ImportError("store.audit replays events by position; chain.VERIFY_COLS changed under it")

__all__ = ["AuditReport", "Pruned", "audit_journal", "order_identities", "orders_hash"]
