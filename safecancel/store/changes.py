"""Order changes: the compare-and-set on ``orders.state``, its events and its evidence, as one batch.

Every state change of an order goes through :func:`apply_groups` (the write-side methods of
:class:`~safecancel.store.journal.Journal` call it inside their write transaction). For a batch it
costs one locking read of the orders, one batched ``UPDATE ... WHERE state = <as read>``, one
evidence insert per exchange and one event insert, because on a fast venue the commit, not the work
per order, is what a chunk's outcome costs. The new column values are computed by pure functions
(:func:`_advance`), so the rules for counters and for what the venue said are readable on their own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection

from ..errors import ConcurrentUpdate
from ..states import OBSERVATIONS, TERMINAL, StateTable, Trigger
from .chain import append_events, event_row, evidence_hash
from .rows import BODY_LIMIT, Change, Evidence, _clip, iso
from .sql import EVIDENCE_COLS, lock_orders, statements

log = logging.getLogger("safecancel.store")  # each order's change, at DEBUG (checked once per batch)

# An exchange's changes with its evidence (None: no HTTP exchange, e.g. a lease takeover's recovery).
Group = tuple[Sequence[Change], Evidence | None]


class _Current(NamedTuple):
    """An order's columns as a compare-and-set reads them (:data:`.sql.CAS_READ`) and writes them back."""

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


def _advance(table: StateTable, ch: Change, cur: _Current) -> _Current:
    """The order's columns after ``ch`` (pure): the state the table gives, the counters, what the venue said."""
    before = ch.row.state
    after = before if ch.trigger in OBSERVATIONS else table.next_state(before, ch.trigger).value
    terminal = after in TERMINAL
    # What the venue said is kept beside the state it produced: a change of state replaces it (even
    # with nothing), an observation without words leaves the last answer standing.
    said = after != before or ch.code is not None or ch.message is not None
    return _Current(
        id=cur.id,
        state=after,
        reason=ch.reason if (ch.reason is not None or terminal) else cur.reason,
        provenance=ch.provenance if terminal else cur.provenance,
        attempts=cur.attempts + (1 if ch.trigger == "send" else 0),
        queries=cur.queries + (1 if ch.query else 0),
        not_found_seen=(cur.not_found_seen + 1 if ch.not_found else 0) if ch.query else cur.not_found_seen,
        last_code=_clip(ch.code, 64) if said else cur.last_code,
        last_message=_clip(ch.message) if said else cur.last_message,
        next_at_ms=ch.next_at_ms if ch.next_at_ms is not None else cur.next_at_ms,
        unsent=cur.unsent + (1 if ch.unsent else 0),
    )


def _cas_params(before: str, new: _Current, at: str) -> tuple[Any, ...]:
    """One row of the compare-and-set batch (:data:`.sql.CAS_WRITE`, then the id and the state to find)."""
    return (
        new.state,
        at,
        new.attempts,
        new.queries,
        new.not_found_seen,
        new.reason,
        new.provenance,
        new.last_code,
        new.last_message,
        new.next_at_ms,
        new.unsent,
        new.id,
        before,
    )


def _order_event(
    job_id: str,
    at: str,
    ch: Change,
    new: _Current,
    http_status: int | None,
    ev_id: int | None,
    ev_hash: str | None,
) -> list[Any]:
    """The event that records ``ch`` having moved the order to ``new`` (linked to the exchange's evidence),
    as the list of its :data:`.chain.EVENT_CONTENT` values, in that order (what :func:`.chain.event_row`
    would hold: tests/unit/test_chain.py checks the two agree)."""
    return [
        job_id,
        new.id,  # order_pk
        ch.trigger,
        ch.row.state,  # from_state
        new.state,  # to_state
        new.attempts,  # attempt
        at,
        ch.http_status if ch.http_status is not None else http_status,
        _clip(ch.code, 64),  # venue_code
        _clip(ch.message),  # venue_message
        ch.provenance if new.state in TERMINAL else None,
        ch.reason,
        ev_id,
        ev_hash,
        ch.note,
    ]


def _insert_evidence(conn: Connection, dialect: str, job_id: str, ev: Evidence) -> tuple[int, str]:
    """Store one exchange (bounded in size); returns its id and the hash its events will carry."""
    row: dict[str, Any] = {
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
    pk = conn.exec_driver_sql(statements(dialect).insert_evidence, tuple(row[c] for c in EVIDENCE_COLS)).scalar_one()
    return int(pk), row["hash"]


def _lock_current(conn: Connection, dialect: str, pks: list[int]) -> dict[int, _Current]:
    """The rows as they are now, inside the caller's write transaction (locked on PostgreSQL)."""
    out: dict[int, _Current] = {}
    pks = sorted(set(pks))
    for i in range(0, len(pks), 900):  # stay under every backend's bound-parameter limit
        part = tuple(pks[i : i + 900])
        out.update((r[0], _Current(*r)) for r in conn.exec_driver_sql(lock_orders(dialect, len(part)), part).all())
    return out


def _write_cas(conn: Connection, dialect: str, job_id: str, params: list[tuple[Any, ...]]) -> None:
    """Run the batch of compare-and-sets; each must hit, since the rows were read under the write lock."""
    if not params:
        return
    hit = conn.exec_driver_sql(statements(dialect).cas_update, params).rowcount
    # Some drivers cannot count an executemany's rows; those are trusted to the lock.
    if conn.dialect.supports_sane_multi_rowcount and hit != len(params):
        raise ConcurrentUpdate(f"job {job_id}: {len(params) - hit} orders changed under the write lock")


def apply_groups(
    conn: Connection,
    dialect: str,
    table: StateTable,
    job_id: str,
    groups: Sequence[Group],
    at: str,
    job_note: tuple[str, str] | None = None,
) -> list[list[bool]]:
    """Compare-and-set every change, append their events: one read, one batched update, one insert.

    Each group is one exchange's changes with its evidence (hash-linked from its events). A change
    whose order is no longer in the state the caller saw is skipped (``False``): the write lock is
    held, so what is read here is what the update will find. ``job_note`` (trigger, note) adds a
    job-level event to each group (callers pass it with one): an exchange that concerns the job, not one order.
    """
    pks = [ch.row.pk for changes, _ in groups for ch in changes]
    current = _lock_current(conn, dialect, pks) if pks else {}
    out: list[list[bool]] = []
    params: list[tuple[Any, ...]] = []
    rows: list[dict[str, Any] | list[Any]] = []
    # One line per order change at DEBUG: a 100k-order job writes 300k of them, so with DEBUG off
    # nothing is built at all; with it on, they are said once the batch is written.
    said: list[tuple[Change, str | None]] | None = [] if log.isEnabledFor(logging.DEBUG) else None
    for changes, ev in groups:
        ev_id, ev_hash = _insert_evidence(conn, dialect, job_id, ev) if ev is not None else (None, None)
        http_status = ev.status if ev is not None else None
        results: list[bool] = []
        first_row = len(rows)
        for ch in changes:
            cur = current.get(ch.row.pk)
            if cur is None or cur.state != ch.row.state:
                results.append(False)
                if said is not None:
                    said.append((ch, None))
                continue
            new = _advance(table, ch, cur)
            params.append(_cas_params(ch.row.state, new, at))
            current[new.id] = new  # the next change of the same order in this batch must see this one
            results.append(True)
            rows.append(_order_event(job_id, at, ch, new, http_status, ev_id, ev_hash))
            if said is not None:
                said.append((ch, new.state))
        if job_note is not None or (ev is not None and len(rows) == first_row):
            # Evidence is always referenced by an event, so an exchange that changed no order still
            # gets one (verify reports evidence that no event points to).
            trigger, note = job_note or (Trigger.NOTE, "exchange without an order change")
            rows.append(
                event_row(
                    job_id, at, trigger, evidence_id=ev_id, evidence_hash=ev_hash, http_status=http_status, note=note
                )
            )
        out.append(results)
    _write_cas(conn, dialect, job_id, params)
    append_events(conn, dialect, rows)
    for ch, after in said or ():
        if after is None:
            log.debug("job %s: order %s: %s skipped: another writer moved it first", job_id, ch.row.ref, ch.trigger)
        else:
            why = ", ".join(str(x) for x in (ch.reason, ch.code, ch.note) if x)
            log.debug(
                "job %s: order %s: %s -> %s (%s%s)",
                job_id,
                ch.row.ref,
                ch.row.state,
                after,
                ch.trigger,
                f": {why}" if why else "",
            )
    return out


__all__ = ["Group", "apply_groups"]
