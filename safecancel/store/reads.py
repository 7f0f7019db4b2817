"""Everything the journal answers without writing: jobs, orders, history, the chain head, exports.

Nothing here inserts, updates or deletes (``tests/unit/test_store_layout.py`` checks that): the
writes live in :mod:`.writer`, :mod:`.changes` and :mod:`.chain`. Each method runs in a read transaction of its own
(:meth:`Database.read`: on PostgreSQL each statement sees what was committed when it started), takes
no lock, and so never waits on a writer. ``verify`` reads in one snapshot instead, because its
answer must hold for one moment while other runners keep appending.

The two module-level queries are shared with the writer, which runs them inside its own write
transaction (where what they read cannot change before the writer commits).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection, func, or_, select

from ..errors import InputError, StoreError
from ..model import EventRecord, JobResult, JobStatus, JobSummary, OrderRef, OrderResult, Reason
from ..states import OrderState, Provenance, StateTable
from .audit import AuditReport, audit_journal
from .chain import ChainReport
from .db import Database
from .rows import _JOB_COLS, _ORDER_COLS, UNFINISHED, JobRow, OrderRow
from .schema import events, evidence, jobs, journal_head, orders

E = TypeVar("E", bound=enum.StrEnum)


def stored(kind: type[E], value: str, what: str) -> E:
    """A stored value as its enum member; a value that is not one was not written by safecancel."""
    try:
        return kind(value)
    except ValueError:
        raise StoreError(
            f"{what} is {value!r}, which is not a {kind.__name__}: the journal was edited or written by another "
            "program (`safecancel audit verify` names what changed)"
        ) from None


def _members(kind: type[E]) -> dict[str, E]:
    """An enum's members by value: a dict lookup per row instead of an enum call (a miss falls back to
    :func:`stored`, which raises)."""
    return {m.value: m for m in kind}


# An event as EventRecord takes it (its order named through order_pk), in EventRecord's field order.
_EVENT_RECORD_COLS = (
    events.c.seq,
    events.c.job_id,
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


def stored_or_none(kind: type[E], value: str | None, what: str) -> E | None:
    return None if value is None else stored(kind, value, what)


def job_row(conn: Connection, job_id: str) -> JobRow | None:
    row = conn.execute(select(*_JOB_COLS).where(jobs.c.id == job_id)).first()
    return JobRow(*row) if row else None


def joinable_job(conn: Connection, key: str, derived: bool) -> JobRow | None:
    """The job a ``create_job`` with this key joins, or None (it creates one)."""
    if not derived:
        row = conn.execute(select(*_JOB_COLS).where(jobs.c.key == key)).first()
        return JobRow(*row) if row else None
    # A derived key names "these orders, here, now": only an unfinished job is joined. Its later
    # jobs are stored as KEY.<job id prefix> (the key column is unique).
    row = conn.execute(
        select(*_JOB_COLS)
        .where(
            or_(jobs.c.key == key, jobs.c.key.startswith(key + ".", autoescape=True)),
            jobs.c.status.in_(UNFINISHED),
        )
        .order_by(jobs.c.created_at.desc())
        .limit(1)
    ).first()
    return JobRow(*row) if row else None


class JournalReads:
    """The read side of :class:`~safecancel.store.journal.Journal`."""

    db: Database
    table: StateTable

    # -- jobs ------------------------------------------------------------------------------------

    def find_job(self, key: str, *, derived: bool = False) -> JobRow | None:
        """The job a ``create_job`` with this key would join (read only; ``None``: it would create one)."""
        with self.db.read() as conn:
            return joinable_job(conn, key, derived)

    def get_job(self, job_id: str) -> JobRow | None:
        with self.db.read() as conn:
            return job_row(conn, job_id)

    def unfinished_job_ids(self) -> list[str]:
        with self.db.read() as conn:
            return list(
                conn.execute(
                    select(jobs.c.id).where(jobs.c.status.in_(UNFINISHED)).order_by(jobs.c.created_at)
                ).scalars()
            )

    def lease(self, job_id: str) -> tuple[str | None, str | None, int | None]:
        """``(owner, proc, expires_ms)`` of the job's lease as it stands."""
        with self.db.read() as conn:
            row = conn.execute(
                select(jobs.c.lease_owner, jobs.c.lease_proc, jobs.c.lease_expires_ms).where(jobs.c.id == job_id)
            ).first()
        if row is None:
            raise InputError(f"no job {job_id!r} in {self.db.display_url}")
        return row[0], row[1], row[2]

    # -- orders ----------------------------------------------------------------------------------

    def orders(self, job_id: str, states: Iterable[str] | None = None) -> list[OrderRow]:
        q = select(*_ORDER_COLS).where(orders.c.job_id == job_id)
        if states is not None:
            q = q.where(orders.c.state.in_([str(s) for s in states]))
        with self.db.read() as conn:
            return [OrderRow(*tuple(r)) for r in conn.execute(q.order_by(orders.c.seq))]

    def counts(self, job_id: str) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(orders.c.state, func.count()).where(orders.c.job_id == job_id).group_by(orders.c.state)
            ).all()
        return {state: int(n) for state, n in rows}

    def find_order(self, job_id: str, ident: str) -> OrderRow:
        """An order of a job by its order id or client order id."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(*_ORDER_COLS).where(
                    orders.c.job_id == job_id, or_(orders.c.order_id == ident, orders.c.client_order_id == ident)
                )
            ).all()
        if not rows:
            raise InputError(f"job {job_id} has no order {ident!r}")
        if len(rows) > 1:
            raise InputError(f"job {job_id} has several orders matching {ident!r}; use the order id")
        return OrderRow(*tuple(rows[0]))

    # -- results and history ---------------------------------------------------------------------

    def job_result(self, job_id: str, *, with_events: bool = True, with_evidence: bool = False) -> JobResult:
        """A job as the journal has it; ``with_evidence``: each event that recorded an HTTP exchange carries
        it (``EventRecord.evidence``: the request without secrets and the venue's reply as stored)."""
        with self.db.read() as conn:
            job = job_row(conn, job_id)
            if job is None:
                raise InputError(f"no job {job_id!r} in {self.db.display_url}")
            rows = conn.execute(
                select(
                    orders.c.id,
                    orders.c.symbol,
                    orders.c.order_id,
                    orders.c.client_order_id,
                    orders.c.state,
                    orders.c.reason,
                    orders.c.provenance,
                    orders.c.attempts,
                    orders.c.last_code,
                    orders.c.last_message,
                    orders.c.unsent,
                    orders.c.conditional,
                )
                .where(orders.c.job_id == job_id)
                .order_by(orders.c.seq)
            ).all()
            evs: tuple[EventRecord, ...] = ()
            if with_events:
                # Positional rows all through: a 100,000-order job has 200,000+ events, and a Row's
                # attribute access or an enum lookup per field is what this loop would spend its time on.
                names = {r[0]: str(OrderRef(r[1], r[2], r[3], bool(r[11]))) for r in rows}
                exchanges: dict[int, dict[str, Any]] = {}
                if with_evidence:
                    exchanges = {
                        int(r.id): {k: v for k, v in r._mapping.items() if k not in ("id", "job_id", "hash")}
                        for r in conn.execute(select(evidence).where(evidence.c.job_id == job_id))
                    }
                q = select(*_EVENT_RECORD_COLS).where(events.c.job_id == job_id).order_by(events.c.seq)
                # Each row is EventRecord's fields but the order's name (by order_pk) and the evidence.
                evs = tuple(
                    EventRecord(seq, ev_job, names.get(pk), *rest) for seq, ev_job, pk, *rest in conn.execute(q)
                )
                if with_evidence:
                    evs = tuple(replace(e, evidence=exchanges.get(e.evidence_id)) for e in evs)  # type: ignore[arg-type]
        states, reasons, provenances = _members(OrderState), _members(Reason), _members(Provenance)

        def result(r: Any) -> OrderResult:
            pk, symbol, order_id, client_order_id, state, reason, provenance = r[:7]
            attempts, last_code, last_message, unsent, conditional = r[7:]
            where = f"order row {pk}"
            return OrderResult(
                symbol,
                order_id,
                client_order_id,
                states.get(state) or stored(OrderState, state, f"{where}: state"),
                None if reason is None else reasons.get(reason) or stored(Reason, reason, f"{where}: reason"),
                None
                if provenance is None
                else provenances.get(provenance) or stored(Provenance, provenance, f"{where}: provenance"),
                attempts - unsent,
                last_code,
                last_message,
                unsent,
                bool(conditional),
            )

        return JobResult(
            job_id=job.id,
            key=job.key,
            venue=job.venue,
            account=job.account,
            status=stored(JobStatus, job.status, f"job {job.id}: status"),
            created_at=job.created_at,
            finished_at=job.finished_at,
            orders=tuple(result(r) for r in rows),
            events=evs,
            attention=job.attention,
            base_url=job.base_url,
            key_fp=job.key_fp,
            kind=job.kind,
            scope=json.loads(job.scope) if job.scope else None,
            verified_empty_at=job.verified_empty_at,
            verified_evidence=job.verified_evidence,
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
            for i in range(0, len(ids), 500):  # stay under every backend's bound-parameter limit
                for job_id, st, n in conn.execute(
                    select(orders.c.job_id, orders.c.state, func.count())
                    .where(orders.c.job_id.in_(ids[i : i + 500]))
                    .group_by(orders.c.job_id, orders.c.state)
                ):
                    counts[job_id][st] = int(n)
        return [
            JobSummary(
                j.id,
                j.key,
                j.venue,
                j.account,
                stored(JobStatus, j.status, f"job {j.id}: status"),
                j.created_at,
                j.finished_at,
                counts[j.id],
            )
            for j in found
        ]

    # -- the chain -------------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """The chain head (last sequence number, its hash): record it elsewhere to anchor the journal."""
        with self.db.read() as conn:
            seq, h = conn.execute(select(journal_head.c.seq, journal_head.c.hash)).one()
        return int(seq), str(h)

    def verify(self) -> ChainReport:
        """Walk the chain and replay the rows (:meth:`audit`). Returns ``(ok, events_checked, problem)``;
        the problem names the first broken event or differing row.

        Runs in one snapshot, so it gives the right answer while other runners keep appending: the
        head, the evidence and the events it reads are all as of one moment.
        """
        report = self.audit()
        return ChainReport(report.ok, report.events, report.problem)

    def audit(self) -> AuditReport:
        """Verify the chain and replay every job's events against its job and order rows, in one walk of
        the events (see :mod:`.audit`): what ``show``/``history``/``export`` display is proven, not only
        the events. One snapshot, so it holds while other runners keep appending."""
        with self.db.snapshot() as conn:
            return audit_journal(conn, self.table)

    # -- export ----------------------------------------------------------------------------------

    def export_columns(self, table: str) -> list[str]:
        """The column names of an export table, in order (stable: documented in the README)."""
        return list(self._export_query(table, None, None, None, None)[0].selected_columns.keys())

    def export(
        self,
        table: str,
        *,
        since: str | None = None,
        until: str | None = None,
        venue: str | None = None,
        job: str | None = None,
        batch: int = 2000,
    ) -> Iterator[dict[str, Any]]:
        """Stream ``jobs``, ``orders`` or ``events`` rows (flat dicts, stable keys) in bounded memory."""
        q, cursor_col, label = self._export_query(table, since, until, venue, job)
        last: Any = None
        while True:
            page_q = q if last is None else q.where(cursor_col > last)
            with self.db.read() as conn:
                page = [dict(r._mapping) for r in conn.execute(page_q.order_by(cursor_col).limit(batch))]
            if not page:
                return
            yield from page
            last = page[-1][label]

    def _export_query(
        self, table: str, since: str | None, until: str | None, venue: str | None, job: str | None
    ) -> tuple[Any, Any, str]:
        job_filter = []
        if job is not None:
            job_filter.append(jobs.c.id == job)
        if since:
            job_filter.append(jobs.c.created_at >= since)
        if until:
            job_filter.append(jobs.c.created_at < until)
        if venue:
            job_filter.append(jobs.c.venue == venue)
        if table == "jobs":
            q = select(
                jobs.c.id.label("job_id"),
                jobs.c.key,
                jobs.c.venue,
                jobs.c.account,
                jobs.c.status,
                jobs.c.order_count,
                jobs.c.created_at,
                jobs.c.finished_at,
                jobs.c.fingerprint,
            ).where(*job_filter)
            cursor_col, label = jobs.c.id, "job_id"
        elif table == "orders":
            q = (
                select(
                    orders.c.id.label("row"),
                    orders.c.job_id,
                    jobs.c.venue,
                    orders.c.symbol,
                    orders.c.order_id,
                    orders.c.client_order_id,
                    orders.c.state,
                    orders.c.reason,
                    orders.c.provenance,
                    orders.c.attempts,
                    orders.c.queries,
                    orders.c.last_code,
                    orders.c.last_message,
                    orders.c.updated_at,
                )
                .join(jobs, jobs.c.id == orders.c.job_id)
                .where(*job_filter)
            )
            cursor_col, label = orders.c.id, "row"
        elif table == "events":
            # An exchange's reply and its request's query string (a batch cancel's names up to 100 order
            # ids) are written once, on the exchange's first event, and left null on the others: every
            # event of a chunk used to repeat them, most of the export's bytes (3.5 GB per 1M events). The
            # events of one exchange are always one run of consecutive seqs of one job (appended
            # together, in the transaction that stored the exchange), so "first" is "the event before it
            # (seq - 1) is not of the same job and exchange". That holds row by row, whatever the page
            # boundaries, and every filter keeps or drops a job's events together, so the first event
            # of every exchange exported is exported too, before the others.
            from sqlalchemy import case

            before = events.alias("before_event")
            first = before.c.seq.is_(None)
            q = (
                select(
                    events.c.seq,
                    events.c.job_id,
                    jobs.c.venue,
                    orders.c.symbol,
                    orders.c.order_id,
                    orders.c.client_order_id,
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
                    events.c.note,
                    events.c.evidence_id,
                    evidence.c.method.label("evidence_method"),
                    evidence.c.path.label("evidence_path"),
                    case((first, evidence.c.query)).label("evidence_query"),
                    evidence.c.status.label("evidence_status"),
                    case((first, evidence.c.response)).label("evidence_response"),
                    events.c.prev_hash,
                    events.c.hash,
                )
                .join(jobs, jobs.c.id == events.c.job_id)
                .outerjoin(orders, orders.c.id == events.c.order_pk)
                .outerjoin(evidence, evidence.c.id == events.c.evidence_id)
                .outerjoin(
                    before,
                    (before.c.seq == events.c.seq - 1)
                    & (before.c.job_id == events.c.job_id)
                    & (before.c.evidence_id == events.c.evidence_id),
                )
                .where(*job_filter)
            )
            cursor_col, label = events.c.seq, "seq"
        else:
            raise InputError(f"unknown export table {table!r}; use jobs, orders or events")
        return q, cursor_col, label


__all__ = ["JournalReads", "job_row", "joinable_job"]
