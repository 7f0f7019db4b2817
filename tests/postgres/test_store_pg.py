"""PostgreSQL twins of the store suite's SQLite-only tests, and the store's PostgreSQL-only checks.

The store suite itself (tests/unit/test_store.py) runs on PostgreSQL from its own module: it is marked
``every_backend``, so each of its tests using ``db_path`` runs once per backend. Its tests about SQLite
files and PRAGMAs are marked ``sqlite_only``; the tests here check the same properties on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from safecancel.errors import SchemaOutOfDate, StoreError
from safecancel.store import Database, Journal
from safecancel.store.schema import metadata
from tests.unit.test_store import TAMPER_CASES, _busy_journal


def _sql(url: str, sql: str) -> None:
    """Tamper with the database behind the journal's back, as an attacker with a SQL login would."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as con:
        con.execute(sql)


def test_postgres_transaction_settings(journal):
    with journal.db.read() as conn:
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
    with journal.db.snapshot() as conn:
        assert conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "repeatable read"
        assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"


def test_migrations_run_on_an_empty_postgres_database_with_64_bit_ids(pg_cluster):
    url = pg_cluster.create_database("fresh")
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            types = dict(
                conn.exec_driver_sql(
                    "select table_name || '.' || column_name, data_type from information_schema.columns "
                    "where table_schema = 'public' and column_name in ('id', 'seq', 'order_pk', 'evidence_id')"
                ).all()
            )
            seqs = dict(conn.exec_driver_sql("select sequencename, data_type::text from pg_sequences").all())
        for col in (
            "orders.id",
            "evidence.id",
            "events.seq",
            "events.order_pk",
            "events.evidence_id",
            "journal_head.seq",
        ):
            assert types[col] == "bigint", col
        assert seqs["orders_id_seq"] == seqs["evidence_id_seq"] == seqs["events_seq_seq"] == "bigint"
    finally:
        db.close()
    Database(url).close()  # reopening finds the schema current


def test_newer_postgres_schema_is_refused(db_path):
    _sql(db_path, "update alembic_version set version_num = '9999_from_the_future'")
    with pytest.raises(SchemaOutOfDate, match="newer"):
        Database(db_path)


def test_someone_elses_postgres_database_is_refused(pg_cluster):
    url = pg_cluster.create_database("other")
    _sql(url, "create table trades (id integer)")
    with pytest.raises(StoreError, match="not safecancel's"):
        Database(url)


def test_unreachable_server_is_a_store_error_without_the_password(pg_cluster):
    with pytest.raises(StoreError) as err:
        Database(f"postgresql+psycopg://safecancel:hunter2@127.0.0.1:{pg_cluster.port}/no_such_database")
    assert "hunter2" not in str(err.value) and "no_such_database" in str(err.value)


@pytest.mark.parametrize(("sql", "needle"), TAMPER_CASES)
def test_the_chain_detects_tampering_on_postgres(journal, db_path, sql, needle):
    _busy_journal(journal)
    _sql(db_path, sql)
    ok, _, problem = journal.verify()
    assert not ok and needle in problem


def test_hosts_starting_at_once_on_a_new_database_all_succeed(pg_cluster):
    # Four processes (alembic's context is process-global, so hosts are processes here, not threads)
    # open one new database at once: the advisory lock makes them migrate one after the other.
    url = pg_cluster.create_database("race")
    code = "import sys; from safecancel.store import Database; Database(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    db = Database(url)
    assert Journal(db).verify() == (True, 0, None)
    db.close()


def test_a_read_only_postgres_journal_reads_and_audits_but_never_writes(journal, db_path):
    _busy_journal(journal)
    ro = Database(db_path, read_only=True)
    try:
        reader = Journal(ro)
        assert reader.history() and reader.audit().ok
        with ro.read() as conn:
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
        with pytest.raises(StoreError, match="read-only"):
            reader.set_status(reader.history()[0].job_id, "done", 0.0)
    finally:
        ro.close()


def test_an_edited_order_row_fails_the_audit_on_postgres(journal, db_path):
    _busy_journal(journal)
    assert journal.audit().ok
    _sql(db_path, "update orders set state = 'failed', reason = 'filled' where state = 'cancelled'")
    report = journal.audit()
    assert not report.ok and "order row" in (report.problem or "")
