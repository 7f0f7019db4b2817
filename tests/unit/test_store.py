"""The journal store: migrations match the schema, SQLite durability settings, refusals, the hash chain.

The suite runs on every backend (``every_backend``: each test using ``db_path`` runs on SQLite and on
PostgreSQL). Tests about SQLite files and PRAGMAs are ``sqlite_only``; their PostgreSQL twins are in
tests/postgres/test_store_pg.py.
"""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from safecancel.errors import IdempotencyConflict, InputError, SchemaOutOfDate, StoreError
from safecancel.model import OrderRef
from safecancel.store import Change, Database, Evidence, Journal
from safecancel.store.schema import metadata

pytestmark = pytest.mark.every_backend

REFS = [OrderRef("BTCUSD_PERP", str(i)) for i in range(5)]


@pytest.fixture
def journal(db_path):
    db = Database(db_path)
    yield Journal(db)
    db.close()


def make_job(journal, key="k", refs=REFS, now=1_800_000_000.0):
    job, created = journal.create_job(
        job_id=f"job-{key}", key=key, venue="binance_coinm", account="a", refs=refs, now=now
    )
    return job


def test_migrations_create_exactly_the_schema(journal):
    with journal.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


@pytest.mark.sqlite_only  # PRAGMAs and the file's mode: see test_postgres_transaction_settings
def test_sqlite_settings(journal, db_path):
    with journal.db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


@pytest.mark.sqlite_only  # edits the file with sqlite3: see test_newer_postgres_schema_is_refused
def test_newer_schema_is_refused(db_path):
    Database(db_path).close()
    con = sqlite3.connect(db_path)
    con.execute("update alembic_version set version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    with pytest.raises(SchemaOutOfDate, match="newer"):
        Database(db_path)


@pytest.mark.sqlite_only
def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my precious notes")
    with pytest.raises(StoreError, match="not a SQLite database"):
        Database(str(path))
    assert path.read_text() == "my precious notes"


@pytest.mark.sqlite_only  # see test_someone_elses_postgres_database_is_refused
def test_someone_elses_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("create table trades (id integer)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not safecancel's"):
        Database(str(path))


@pytest.mark.sqlite_only
@pytest.mark.parametrize("bad", ["/nonexistent-dir/j.db", "sqlite:///:memory:", "mysql://u@h/db"])
def test_unusable_locations(bad, tmp_path):
    with pytest.raises((InputError, StoreError)):
        Database(bad)


@pytest.mark.sqlite_only
def test_a_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a regular file"):
        Database(str(tmp_path))


def test_reopening_is_idempotent_and_keeps_data(db_path):
    db = Database(db_path)
    make_job(Journal(db))
    db.close()
    db = Database(db_path)
    assert Journal(db).history()[0].job_id == "job-k"
    db.close()


def test_idempotency_same_set_same_job_other_set_conflict(journal):
    a = make_job(journal)
    b, created = journal.create_job(
        job_id="other", key="k", venue="binance_coinm", account="a", refs=list(reversed(REFS)), now=1.0
    )
    assert not created and b.id == a.id
    with pytest.raises(IdempotencyConflict, match="'k'"):
        journal.create_job(job_id="x", key="k", venue="binance_coinm", account="a", refs=REFS[:2], now=1.0)


def test_compare_and_set_skips_a_change_another_writer_made(journal):
    job = make_job(journal)
    journal.acquire(job.id, "me", 0, 60_000, 1.0)
    rows = journal.orders(job.id)
    sent = journal.mark_sent(job.id, "me", rows[:2], 1.0, 0, 60_000)
    assert [r.state for r in sent] == ["sent", "sent"]
    # Replaying the same send (a second writer holding a stale row) changes nothing.
    again = journal.mark_sent(job.id, "me", rows[:2], 1.0, 0, 60_000)
    assert again == []
    # A stale row (still "pending" in the caller's hands) loses the compare-and-set and is skipped.
    ok = journal.apply(job.id, [Change(sent[0], "confirm", provenance="venue_response"), Change(rows[1], "send")], 2.0)
    assert ok == [True, False]


def _tamper(db_path, sql):
    con = sqlite3.connect(db_path)
    con.execute(sql)
    con.commit()
    con.close()


def _busy_journal(journal):
    job = make_job(journal)
    journal.acquire(job.id, "me", 0, 60_000, 1.0)
    rows = journal.mark_sent(job.id, "me", journal.orders(job.id), 1.0, 0, 60_000)
    ev = Evidence(
        "cancel", "DELETE", "/dapi/v1/batchOrders", "symbol=X&signature=***", None, 200, "[...]", 3, None, 2.0
    )
    journal.apply(job.id, [Change(r, "confirm", provenance="venue_response") for r in rows], 2.0, ev)
    ok, n, problem = journal.verify()
    assert ok and problem is None and n == 1 + 5 + 5
    return n


# (SQL run behind the journal's back, what `verify` must say) -- shared with tests/postgres.
TAMPER_CASES = [
    ("update events set note = 'forged' where seq = 1", "event 1 (create"),
    ("update events set to_state = 'failed' where seq = 8", "event 8"),
    ("delete from events where seq = 4", "event 4 is missing"),
    ("delete from events where seq = 11", "head"),
    ("update events set seq = 100 where seq = 3", "event 3 is missing"),
    ("update evidence set response = 'forged'", "evidence"),
]


@pytest.mark.sqlite_only  # tampers with sqlite3: see test_the_chain_detects_tampering_on_postgres
@pytest.mark.parametrize(("sql", "needle"), TAMPER_CASES)
def test_the_chain_detects_edits_deletions_and_reordering(journal, db_path, sql, needle):
    _busy_journal(journal)
    _tamper(db_path, sql)
    ok, _, problem = journal.verify()
    assert not ok and needle in problem


def test_operator_resolution_only_for_unknown(journal):
    job = make_job(journal)
    journal.acquire(job.id, "me", 0, 60_000, 1.0)
    rows = journal.mark_sent(job.id, "me", journal.orders(job.id)[:2], 1.0, 0, 60_000)
    journal.apply(job.id, [Change(rows[0], "lose"), Change(rows[1], "confirm", provenance="venue_response")], 2.0)
    with pytest.raises(InputError, match="note"):
        journal.resolve(job.id, rows[0].pk, "cancelled", "  ", 3.0)
    journal.resolve(job.id, rows[0].pk, "cancelled", "checked in the venue UI", 3.0)
    with pytest.raises(InputError, match="only unknown"):
        journal.resolve(job.id, rows[1].pk, "failed", "x", 3.0)
    got = {o.order_id: o for o in journal.job_result(job.id).orders}
    assert (got["0"].state, got["0"].provenance) == ("cancelled", "operator")
    assert journal.verify()[0]


def test_the_schema_head_opening_checks_is_alembics_head():
    # Opening a current journal compares its revision with SCHEMA_HEAD without loading alembic; a new
    # migration must move it, or every journal would be "migrated" (and alembic loaded) on each open.
    from alembic.script import ScriptDirectory

    from safecancel.store.db import SCHEMA_HEAD, _alembic_config

    assert ScriptDirectory.from_config(_alembic_config()).get_current_head() == SCHEMA_HEAD
