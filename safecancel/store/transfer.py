"""Copying a whole journal from one database to another, row for row (SQLite -> PostgreSQL and back).

Rows are copied verbatim, ids and sequence numbers included: the events' hashes cover their ``seq``,
``order_pk`` and ``evidence_id`` and the evidence's own hash, so only an exact copy still verifies.
The source is read in one snapshot and the target written in one transaction, so a failure leaves
the target as empty as it was.

Fleets: a fleet of bots on several hosts points ``SAFECANCEL_DB`` at one PostgreSQL database; any
host's ``resume`` then continues any unfinished job (leases decide who runs what). A host that ran on
the embedded SQLite default brings its history along with :func:`migrate_journal` (``safecancel
migrate-store``): every row is copied verbatim, so the hash chain, the head a desk may have published
elsewhere, and every ``job_id`` stay the same, and the copy is verified on the target before success
is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, insert, select, update

from ..errors import InputError, StoreError
from .db import Database, resolve_url
from .journal import Journal
from .schema import GENESIS_HASH, chain_checkpoint, events, evidence, jobs, journal_head, orders

# Parents before children (foreign keys): jobs <- orders, evidence <- events.
TABLES: tuple[Table, ...] = (jobs, orders, evidence, events, chain_checkpoint)
# Columns PostgreSQL fills from a sequence; after explicit ids are inserted the sequence must move
# past them, or the next insert on the target would collide with a copied row.
SERIALS = ((orders, "id"), (evidence, "id"), (events, "seq"), (chain_checkpoint, "id"))


def _counts(conn: Connection) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in TABLES}


def _head(conn: Connection) -> tuple[int, str]:
    seq, h = conn.execute(select(journal_head.c.seq, journal_head.c.hash).where(journal_head.c.id == 1)).one()
    return int(seq), str(h)


def table_counts(db: Database) -> dict[str, int]:
    """Rows per journal table, and the chain head as ``head_seq``."""
    with db.snapshot() as conn:
        return _counts(conn) | {"head_seq": _head(conn)[0]}


def copy_journal(
    source: Database, target: Database, *, batch: int = 2000, on_progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every job, order, evidence row, event, checkpoint and the chain head from source to target.

    Returns rows copied per table. The target must be an empty journal (migrated, nothing written):

    Raises:
        InputError: the target already holds a journal (nothing is changed).
    """
    with source.snapshot() as src, target.write() as dst:
        if target.dialect == "postgresql":
            # Nobody may start writing to the target while we fill it: every writer needs the head.
            dst.execute(select(journal_head.c.seq).where(journal_head.c.id == 1).with_for_update())
        held = {name: n for name, n in _counts(dst).items() if n}
        if held or _head(dst) != (0, GENESIS_HASH):
            what = ", ".join(f"{n} {name}" for name, n in held.items()) or "a moved chain head"
            raise InputError(f"target {target.display_url} is not empty ({what}); migrate into a new, empty database")
        copied: dict[str, int] = {}
        for table in TABLES:
            key = table.primary_key.columns.values()[0]
            copied[table.name] = 0
            last = None
            while True:
                q = select(table).order_by(key).limit(batch)
                if last is not None:
                    q = q.where(key > last)
                rows = [dict(r._mapping) for r in src.execute(q)]
                if not rows:
                    break
                dst.execute(insert(table), rows)
                copied[table.name] += len(rows)
                last = rows[-1][key.name]
                if on_progress is not None:
                    on_progress(table.name, copied[table.name])
        seq, h = _head(src)
        dst.execute(update(journal_head).where(journal_head.c.id == 1).values(seq=seq, hash=h))
        if target.dialect == "postgresql":
            for table, col in SERIALS:
                top = dst.execute(select(func.max(table.c[col]))).scalar()
                if top is not None:
                    dst.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{col}'), {int(top)})")
    return copied


__all__ = ["TABLES", "copy_journal", "table_counts"]


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate_journal` copied and what the verification on the target found."""

    source: str
    target: str
    rows: dict[str, int]
    head_seq: int
    head_hash: str
    events_verified: int


def migrate_journal(source: str, target: str) -> MigrationReport:
    """Copy the journal at ``source`` into the empty journal database ``target``, then verify it there.

    The source's own chain is verified first (a broken journal is not copied: the copy would hide
    where it broke); the target must hold no journal yet (it is created and migrated if needed);
    after the copy, the target's chain must verify and end at the source's head, with the same
    number of rows in every table. Stop the runners writing to the source first: rows they write
    after the copy starts stay behind.

    Raises:
        InputError: source and target are the same, the source does not exist, or the target is not empty.
        StoreError: the source does not verify, or the copy does not (then the target must be dropped).
    """
    if resolve_url(source) == resolve_url(target):
        raise InputError("--from and --to name the same database")
    src = Database(source, create=False)
    try:
        ok, _, problem = Journal(src).verify()
        if not ok:
            raise StoreError(f"the source journal {src.display_url} does not verify ({problem}); refusing to copy it")
        dst = Database(target)
        try:
            rows = copy_journal(src, dst)
            head_seq, head_hash = Journal(src).head()
            ok, n, problem = Journal(dst).verify()
            if not ok:
                raise StoreError(
                    f"the copy in {dst.display_url} does not verify: {problem}; drop that database and retry"
                )
            if Journal(dst).head() != (head_seq, head_hash):
                raise StoreError(
                    f"the copy in {dst.display_url} ends at {Journal(dst).head()}, the source at {head_seq}"
                )
            there = table_counts(dst)
            if any(there[name] != n_rows for name, n_rows in rows.items()):
                raise StoreError(f"the copy in {dst.display_url} holds {there}, the source {rows}")
            return MigrationReport(src.display_url, dst.display_url, rows, head_seq, head_hash, n)
        finally:
            dst.close()
    finally:
        src.close()
