"""The hash chain: how events and evidence are hashed, appended after the head, verified and pruned.

Every event's hash covers its content and the hash of the event before it (``prev_hash``); an event
that records an HTTP exchange also carries that evidence row's hash. So an edited, deleted or
reordered event, or edited evidence, breaks the chain at a place :func:`verify_chain` names.

Several writers (threads, processes, hosts sharing one PostgreSQL database):

- **One chain per database, its head serialized.** Every transaction that appends events locks the
  single ``journal_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
  serializes writers), numbers its events after the head and moves the head before it commits.
  Concurrent writers therefore append one after another, ``seq`` has no gaps, each event's
  ``prev_hash`` is the event committed just before it, and ``verify`` walks one total order.
  We chose this over one chain per job anchored per database because (a) deleting or reordering a
  *whole job* must stay detectable, which per-job chains only give with a second, database-wide
  anchor chain that needs the same serialization anyway; (b) ``prune`` cuts one prefix and keeps one
  checkpoint; (c) ``audit verify`` stays one pass and the head is one value to publish elsewhere.
  The cost: appends are serialized. They are short (no network I/O is ever inside a transaction; a
  chunk's outcomes are one batched update and one insert), so a fleet spends its time on the venues,
  not on this lock.
- **Lock order** is always job row, then order rows, then the head, so appenders do not deadlock;
  ``create_job`` and ``prune`` take the head first and touch no row another writer holds.

:func:`append_events` is this module's only write; everything else here reads or computes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select, update

from .rows import _clip, _digest
from .schema import GENESIS_HASH, chain_checkpoint, events, evidence, journal_head

# The columns each hash covers, in this order (changing either tuple breaks every stored chain).
_EVENT_HASHED = (
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
    "evidence_id",
    "evidence_hash",
    "note",
    "prev_hash",
)
_EVIDENCE_HASHED = (
    "job_id",
    "at",
    "endpoint",
    "method",
    "path",
    "query",
    "body",
    "status",
    "response",
    "elapsed_ms",
    "error",
)
# Every column of an event row except those append_events fills in (seq, prev_hash, hash).
_EVENT_FIELDS = (
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


def event_hash(row: Mapping[str, Any]) -> str:
    return _digest([row.get(k) for k in _EVENT_HASHED])


def evidence_hash(row: Mapping[str, Any]) -> str:
    return _digest([row.get(k) for k in _EVIDENCE_HASHED])


def event_row(job_id: str, at: str, trigger: str, **kw: Any) -> dict[str, Any]:
    """An event row ready for :func:`append_events`: every column present (``None`` unless given)."""
    row: dict[str, Any] = dict.fromkeys(_EVENT_FIELDS)
    row.update(job_id=job_id, at=at, trigger=trigger)
    row.update(kw)
    row["venue_message"] = _clip(row["venue_message"])
    return row


# -- appending ---------------------------------------------------------------------------------------


def lock_head(conn: Connection, dialect: str) -> tuple[int, str]:
    """The head ``(seq, hash)``, locked until the caller's write transaction ends."""
    q = select(journal_head.c.seq, journal_head.c.hash).where(journal_head.c.id == 1)
    if dialect == "postgresql":
        q = q.with_for_update()  # serializes appends across hosts; SQLite's BEGIN IMMEDIATE already does
    row = conn.execute(q).one()
    return int(row.seq), str(row.hash)


def append_events(conn: Connection, dialect: str, rows: list[dict[str, Any]]) -> None:
    """Hash-chain and insert event rows, then move the head; the caller holds the write transaction.

    Fills in each row's ``seq``, ``prev_hash`` and ``hash`` (the rows are changed in place).
    """
    if not rows:
        return
    seq, prev = lock_head(conn, dialect)
    for row in rows:
        seq += 1
        row["seq"] = seq
        row["prev_hash"] = prev
        row["hash"] = prev = event_hash(row)
    conn.execute(insert(events), rows)
    conn.execute(update(journal_head).where(journal_head.c.id == 1).values(seq=seq, hash=prev))


# -- verifying ---------------------------------------------------------------------------------------


class ChainReport(NamedTuple):
    """What :func:`verify_chain` found. A tuple, so ``ok, n, problem = journal.verify()`` keeps working."""

    ok: bool
    events: int  # events checked (up to and including the first broken one)
    problem: str | None  # names the first broken event; None when ok


# What verify reads of an event: the hashed columns in hash order (a row's first fields are then the
# digest's input as they are), then its own hash.
_VERIFY_COLS = tuple(events.c[name] for name in _EVENT_HASHED) + (events.c.hash,)
_N = len(_EVENT_HASHED)
_SEQ, _JOB, _TRIGGER, _EVIDENCE_ID, _EVIDENCE_HASH, _NOTE, _PREV = (
    _EVENT_HASHED.index(k) for k in ("seq", "job_id", "trigger", "evidence_id", "evidence_hash", "note", "prev_hash")
)


def _events_in(conn: Connection, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Every event in order as a tuple (``_VERIFY_COLS``), paged inside the caller's transaction (its snapshot)."""
    last = 0
    while True:
        q = select(*_VERIFY_COLS).where(events.c.seq > last).order_by(events.c.seq).limit(batch)
        chunk = [tuple(r) for r in conn.execute(q).fetchall()]
        if not chunk:
            return
        yield from chunk
        last = chunk[-1][_SEQ]


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the chain inside the caller's snapshot: the head, the evidence and the events as of one moment."""
    ev_hashes = {r.id: (r.hash, evidence_hash(dict(r._mapping))) for r in conn.execute(select(evidence))}
    head_seq, head_hash = conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one()
    cp = conn.execute(select(chain_checkpoint).order_by(chain_checkpoint.c.id.desc()).limit(1)).first()
    # After a prune the chain starts at its checkpoint; the checkpoint is itself announced by a
    # "prune" event further down the chain, so an edited checkpoint shows.
    prev, expected_seq = (cp.hash, cp.seq) if cp is not None else (GENESIS_HASH, 0)
    announced = cp is None
    n = 0
    referenced: set[int] = set()
    for row in _events_in(conn):
        n += 1
        expected_seq += 1
        seq = row[_SEQ]
        if seq != expected_seq:
            return ChainReport(False, n, f"event {expected_seq} is missing (next is {seq}): a row was deleted")
        if row[_PREV] != prev:
            return ChainReport(
                False, n, f"event {seq}: prev_hash does not match event {seq - 1}: rows were edited or reordered"
            )
        if _digest(row[:_N]) != row[_N]:
            return ChainReport(
                False,
                n,
                f"event {seq} ({row[_TRIGGER]}, job {row[_JOB]}) was edited: its hash does not match its content",
            )
        evidence_id = row[_EVIDENCE_ID]
        if evidence_id is not None:
            stored = ev_hashes.get(evidence_id)
            if stored is None:
                return ChainReport(False, n, f"event {seq}: its evidence {evidence_id} was deleted")
            if stored[0] != row[_EVIDENCE_HASH] or stored[1] != stored[0]:
                return ChainReport(False, n, f"event {seq}: its evidence {evidence_id} was edited")
            referenced.add(evidence_id)
        if cp is not None and row[_TRIGGER] == "prune" and row[_NOTE]:
            note = json.loads(row[_NOTE])
            announced = announced or (note.get("checkpoint_seq"), note.get("checkpoint_hash")) == (cp.seq, cp.hash)
        prev = row[_N]
    if (head_seq, head_hash) != (expected_seq, prev):
        problem = f"the chain ends at event {expected_seq} but its head says {head_seq}: events were deleted at the end"
        return ChainReport(False, n, problem)
    if not announced and cp is not None:  # (announced is only False when there is a checkpoint)
        return ChainReport(False, n, f"checkpoint at event {cp.seq} matches no prune event: it was edited")
    orphans = set(ev_hashes) - referenced
    if orphans:
        return ChainReport(False, n, f"evidence {min(orphans)} is not referenced by any event")
    return ChainReport(True, n, None)


# -- pruning -----------------------------------------------------------------------------------------


class PrunePlan(NamedTuple):
    """A prune that keeps the chain verifiable: events ``1..cut`` and these jobs go; ``cut`` becomes the checkpoint."""

    cut: int
    jobs: frozenset[str]


def plan_prune(head_seq: int, candidates: Iterable[str], spans: Mapping[str, tuple[int, int]]) -> PrunePlan | None:
    """Which jobs and which prefix of the chain can go (pure: no database).

    Args:
        head_seq: the chain head's sequence number (the last event).
        candidates: jobs the caller would like to remove (finished, old enough).
        spans: every job's ``(first, last)`` event seq; a job without events is absent.

    Only a prefix of the chain can go: the cut is placed before the first event of any job that
    stays, and a candidate with events after the cut stays whole (which may move the cut earlier,
    hence the loop). Returns None when nothing can go.
    """
    removable = set(candidates)
    kept_firsts = [lo for job_id, (lo, _) in spans.items() if job_id not in removable]
    while True:
        cut = (min(kept_firsts) - 1) if kept_firsts else head_seq
        late = {j for j in removable if spans.get(j, (0, 0))[1] > cut}
        if not late:
            break
        removable -= late
        kept_firsts += [spans[j][0] for j in late]
    if not removable or cut <= 0:
        return None
    return PrunePlan(cut, frozenset(removable))


__all__ = [
    "ChainReport",
    "PrunePlan",
    "append_events",
    "event_hash",
    "event_row",
    "evidence_hash",
    "lock_head",
    "plan_prune",
    "verify_chain",
]
