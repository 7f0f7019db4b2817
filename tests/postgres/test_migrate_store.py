"""``safecancel migrate-store``: an existing SQLite journal copied into PostgreSQL verbatim and verified
there, refusals that leave both databases as they were, and a fleet that carries on from the copy."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from safecancel.cli import migrate_store
from safecancel.store import Database, Journal
from safecancel.store.transfer import TABLES
from tests.conftest import SYMBOLS, seed_open

BN = "binance_coinm"
SYM = SYMBOLS[BN]


def migrate(*args: str):
    return CliRunner().invoke(migrate_store, list(args), catch_exceptions=False)


def _dump(url: str) -> dict[str, list[dict]]:
    """Every row of every journal table (and the head), in primary-key order."""
    from sqlalchemy import select

    from safecancel.store.schema import journal_head

    db = Database(url)
    with db.snapshot() as conn:
        out = {
            t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))] for t in TABLES
        }
        out["journal_head"] = [dict(r._mapping) for r in conn.execute(select(journal_head))]
    db.close()
    return out


@pytest.fixture
def sqlite_journal(fake, make_client, tmp_path):
    """A SQLite journal with history: finished jobs, one pruned away (a checkpoint), one still open."""
    path = str(tmp_path / "a.db")
    client = make_client(db=path)
    old = client.cancel(BN, SYM, order_ids=seed_open(fake, BN, 3, start=1000))
    fake.fault(BN, "cancel", "drop_after_apply")
    fake.fault(BN, "query", "status", status=503, times=10_000)
    stuck = client.cancel(BN, SYM, order_ids=seed_open(fake, BN, 2, start=2000), deadline=0.4)
    fake.clear_faults()
    done = client.cancel("bitget", SYMBOLS["bitget"], order_ids=seed_open(fake, "bitget", 4, start=3000))
    assert client.prune("2999-01-01")[0] == 1  # `old` goes; a checkpoint takes its place
    assert old.status == "done"
    assert stuck.status == "open" and done.status == "done"
    client.close()
    return path, stuck.job_id


def test_sqlite_journal_is_copied_verbatim_and_verifies_on_postgres(sqlite_journal, pg_url):
    path, _ = sqlite_journal
    res = migrate("--from", f"sqlite:///{path}", "--to", pg_url, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    source, target = _dump(path), _dump(pg_url)
    assert target == source  # every row, id, hash and the head, byte for byte
    assert len(source["chain_checkpoint"]) == 1 and len(source["evidence"]) > 0
    seq, head = source["journal_head"][0]["seq"], source["journal_head"][0]["hash"]
    assert (report["head_seq"], report["head_hash"]) == (seq, head)
    assert report["rows"] == {t: len(rows) for t, rows in source.items() if t != "journal_head"}
    assert report["events_verified"] == len(source["events"])
    db = Database(pg_url)
    assert Journal(db).verify() == (True, len(source["events"]), None)
    db.close()


def test_the_fleet_carries_on_from_the_copy(sqlite_journal, pg_url, fake, make_client):
    path, stuck = sqlite_journal
    assert migrate("--from", path, "--to", pg_url).exit_code == 0
    # The open job is resumed on PostgreSQL: new orders, evidence and events get ids after the
    # copied ones (the sequences were moved past them), and the chain continues from the old head.
    client = make_client(db=pg_url)
    (again,) = client.resume(deadline=10)
    assert (again.job_id, again.status, again.counts) == (stuck, "done", {"cancelled": 2})
    assert [o["cancel_requests"] for o in fake.orders(BN) if o["order_id"].startswith("20")] == [1, 1]
    fresh = client.cancel(BN, SYM, order_ids=seed_open(fake, BN, 2, start=4000))
    assert fresh.status == "done"
    ok, n, problem = client.verify_journal()
    assert ok and problem is None and n > len(_dump(path)["events"])


def test_a_target_that_is_not_empty_is_refused_and_left_alone(sqlite_journal, pg_url):
    path, _ = sqlite_journal
    assert migrate("--from", path, "--to", pg_url).exit_code == 0
    before = _dump(pg_url)
    res = migrate("--from", path, "--to", pg_url)
    assert res.exit_code == 2 and "not empty" in res.output
    assert _dump(pg_url) == before


def test_a_broken_source_is_not_copied(sqlite_journal, pg_url):
    path, _ = sqlite_journal
    con = sqlite3.connect(path)
    con.execute("update events set note = 'forged' where seq = (select max(seq) from events)")
    con.commit()
    con.close()
    res = migrate("--from", path, "--to", pg_url)
    assert res.exit_code == 5 and "does not verify" in res.output
    assert all(not rows for name, rows in _dump(pg_url).items() if name != "journal_head")


def test_a_missing_source_or_the_same_database_twice_is_bad_input(tmp_path, pg_url):
    missing = tmp_path / "nope.db"
    res = migrate("--from", str(missing), "--to", pg_url)
    assert res.exit_code == 2 and "does not exist" in res.output
    assert not missing.exists()  # nothing left behind
    assert migrate("--from", pg_url, "--to", pg_url).exit_code == 2


def test_sqlite_to_sqlite_works_too(sqlite_journal, tmp_path):
    path, _ = sqlite_journal
    copy = str(tmp_path / "b.db")
    res = migrate("--from", path, "--to", copy)
    assert res.exit_code == 0 and "chain verified on the target" in res.output
    assert _dump(copy) == _dump(path)
