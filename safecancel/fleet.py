"""Fleets: moving an existing journal into the shared database several hosts use (``migrate-store``).

A fleet of bots on several hosts points ``SAFECANCEL_DB`` at one PostgreSQL database; any host's
``resume`` then continues any unfinished job (leases decide who runs what; see
:mod:`safecancel.store.journal`). A host that ran on the embedded SQLite default brings its history
along with :func:`migrate_journal` (``safecancel migrate-store``): every row is copied verbatim, so
the hash chain, the head a desk may have published elsewhere, and every ``job_id`` stay the same,
and the copy is verified on the target before success is reported.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import click

from .errors import InputError, StoreError
from .store import Database, Journal, copy_journal, resolve_url, table_counts


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
                raise StoreError(f"the copy in {dst.display_url} does not verify: {problem}; drop that database and retry")
            if Journal(dst).head() != (head_seq, head_hash):
                raise StoreError(f"the copy in {dst.display_url} ends at {Journal(dst).head()}, the source at {head_seq}")
            there = table_counts(dst)
            if any(there[name] != n_rows for name, n_rows in rows.items()):
                raise StoreError(f"the copy in {dst.display_url} holds {there}, the source {rows}")
            return MigrationReport(src.display_url, dst.display_url, rows, head_seq, head_hash, n)
        finally:
            dst.close()
    finally:
        src.close()


@click.command("migrate-store")
@click.option("--from", "source", required=True, metavar="URL", help="The journal to copy: a SQLite path or URL (must exist).")
@click.option("--to", "target", required=True, metavar="URL", help="An empty database, e.g. postgresql+psycopg://user@host/db.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
def migrate_store(source: str, target: str, as_json: bool) -> None:
    """Copy an existing journal into a new database (e.g. SQLite into a fleet's PostgreSQL).

    Every job, order, evidence row and event is copied verbatim, so the hash chain and its head
    stay the same; the copy is verified on the target before this reports success. The target
    must be empty. Exit 0 on success, 2 on bad input (e.g. a non-empty target), 5 if a database
    could not be used or a chain did not verify.

    \b
    Example:
        safecancel migrate-store --from sqlite:///a.db --to postgresql+psycopg://bot@db.internal/journal
    """
    from .cli import cli_errors  # here, not at import time: cli imports this module to register the command

    with cli_errors():
        report = migrate_journal(source, target)
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2))
        return
    rows = ", ".join(f"{n} {name}" for name, n in report.rows.items())
    click.echo(f"copied {rows}\nfrom {report.source}\nto   {report.target}")
    click.echo(f"chain verified on the target: {report.events_verified} events; head {report.head_seq} {report.head_hash}")


__all__ = ["MigrationReport", "migrate_journal", "migrate_store"]
