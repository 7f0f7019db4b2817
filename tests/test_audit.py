"""Auditing: export (streamed, stable columns), prune with a checkpoint, operator resolution, tamper evidence."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tracemalloc

import pytest
from click.testing import CliRunner

from safecancel.cli import cli
from safecancel.model import OrderRef
from safecancel.store import Change, Database, Evidence, Journal
from safecancel.store.chain import ChainWalk, DriverReads
from tests.conftest import SYMBOLS, seed_open
from tests.unit.test_chain import AWKWARD

BN = "binance_coinm"


@pytest.fixture
def env(fake, db_path):
    return {
        "SAFECANCEL_DB": db_path,
        "SAFECANCEL_BINANCE_COINM_API_KEY": "test-key",
        "SAFECANCEL_BINANCE_COINM_API_SECRET": "test-secret",
        "SAFECANCEL_BINANCE_COINM_BASE_URL": fake.url,
    }


def run(env, *args, **kw):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False, **kw)


def cancel(env, ids, key=None):
    args = ["cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--json"]
    return json.loads(run(env, *(args + (["--key", key] if key else []))).output)


def test_export_jsonl_and_csv(fake, env):
    job = cancel(env, seed_open(fake, BN, 3))
    lines = [json.loads(x) for x in run(env, "export").stdout.splitlines()]
    types = [x["type"] for x in lines]
    assert types.count("job") == 1 and types.count("order") == 3 and types.count("event") == len(job["events"])
    ev = [x for x in lines if x["type"] == "event" and x["trigger"] == "confirm"][0]
    assert ev["at"].endswith("Z") and ev["evidence_method"] == "DELETE" and ev["venue"] == BN
    assert "signature=%2A%2A%2A" in ev["evidence_query"] or "signature=***" in ev["evidence_query"]
    out = run(env, "export", "--format", "csv", "--table", "orders").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["state"] for r in rows] == ["cancelled"] * 3
    assert list(rows[0]) == [
        "row",
        "job_id",
        "venue",
        "symbol",
        "order_id",
        "client_order_id",
        "state",
        "reason",
        "provenance",
        "attempts",
        "queries",
        "last_code",
        "last_message",
        "updated_at",
    ]
    assert run(env, "export", "--format", "csv", "--table", "all").exit_code == 2
    assert run(env, "export", "--since", "2999-01-01").stdout == ""


def test_resolve_shows_in_show_and_export_with_operator_provenance(fake, env):
    ids = seed_open(fake, BN, 2)
    fake.fault(BN, "cancel", "drop_after_apply")
    fake.fault(BN, "query", "status", status=503, times=10_000)
    job = json.loads(
        run(
            env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--deadline", "2", "--json"
        ).stdout
    )
    assert {o["state"] for o in job["orders"]} == {"unknown"}
    res = run(
        env, "resolve", job["job_id"], ids[0], "--as", "cancelled", "--note", "seen cancelled in the venue UI", "--json"
    )
    assert res.exit_code == 0
    shown = json.loads(run(env, "show", job["job_id"], "--json").stdout)
    o = {x["order_id"]: x for x in shown["orders"]}[ids[0]]
    assert (o["state"], o["provenance"]) == ("cancelled", "operator")
    assert any(e["trigger"] == "settle" and e["note"] == "seen cancelled in the venue UI" for e in shown["events"])
    again = run(env, "resolve", job["job_id"], ids[0], "--as", "failed", "--note", "x")
    assert again.exit_code == 2 and "only unknown" in again.output
    exported = [json.loads(x) for x in run(env, "export", "--table", "events").stdout.splitlines()]
    assert any(x["trigger"] == "settle" and x["provenance"] == "operator" for x in exported)


def test_editing_an_event_with_the_sqlite_shell_is_named(fake, env, db_path):
    cancel(env, seed_open(fake, BN, 2))
    con = sqlite3.connect(db_path)
    con.execute("update events set to_state='failed' where seq = 5")
    con.commit()
    con.close()
    res = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert res.exit_code == 1 and "event 5" in res.output


def test_prune_keeps_the_chain_verifiable(fake, env, db_path):
    old = cancel(env, seed_open(fake, BN, 2), key="old")
    new = cancel(env, seed_open(fake, BN, 2, start=3000), key="new")
    # Prune removes jobs created strictly before the cutoff: the newer job's creation time keeps it.
    res = run(env, "prune", "--before", new["created_at"], "--yes")
    assert res.exit_code == 0 and "will remove 1 finished jobs" in res.output, res.output
    assert "removed 1 jobs" in res.output, res.output
    assert run(env, "audit", "verify").exit_code == 0
    hist = json.loads(run(env, "history", "--json").stdout)
    assert [h["key"] for h in hist] == ["new"]
    assert run(env, "show", old["job_id"]).exit_code == 2
    # The checkpoint cannot be edited unseen.
    con = sqlite3.connect(db_path)
    # Always a real edit: the first character becomes a different one (a fixed 'f' was a no-op 1 run in 16).
    con.execute(
        "update chain_checkpoint set hash = "
        "(case when substr(hash, 1, 1) = 'f' then 'e' else 'f' end) || substr(hash, 2)"
    )
    con.commit()
    con.close()
    assert CliRunner().invoke(cli, ["audit", "verify"], env=env).exit_code == 1


def test_prune_never_removes_unfinished_jobs(fake, env, db_path):
    fake.fault(BN, "cancel", "drop_after_apply")
    fake.fault(BN, "query", "status", status=503, times=10_000)
    run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", "1", "--deadline", "0.3")
    res = run(env, "prune", "--before", "2999-01-01", "--yes")
    assert res.exit_code == 0 and "nothing to prune: 0 finished jobs" in res.output, res.output
    assert len(json.loads(run(env, "history", "--json").stdout)) == 1


def test_export_of_100k_events_streams_in_bounded_memory(tmp_path):
    db = Database(str(tmp_path / "big.db"))
    j = Journal(db)
    refs = [OrderRef("BTCUSD_PERP", str(i)) for i in range(50_000)]
    job, _ = j.create_job(job_id="big", key="big", venue=BN, account="a", refs=refs, now=1.8e9)
    j.acquire("big", "me", 0, 10**9, 1.8e9)
    rows = j.mark_sent("big", "me", j.orders("big"), 1.8e9, 0, 10**9)
    j.apply("big", [Change(r, "confirm", provenance="venue_response") for r in rows], 1.8e9)
    tracemalloc.start()
    n = sum(1 for _ in j.export("events"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 100_001
    assert peak < 30 * 1024 * 1024, peak  # pages of 2,000 rows, never the whole table
    db.close()


def _interleaved_exchanges(path):
    """Two jobs whose exchanges interleave in the chain (a's, b's, a's, b's), of 3, 1, 2 and 2 orders, each
    exchange with a reply and a query of its own."""
    db = Database(path)
    j = Journal(db)
    for name, n in (("a", 5), ("b", 3)):
        refs = [OrderRef("BTCUSD_PERP", f"{name}{i}") for i in range(n)]
        j.create_job(job_id=name, key=name, venue=BN, account="x", refs=refs, now=1.8e9)
        j.acquire(name, "me", 0, 10**9, 1.8e9)
    a, b = j.orders("a"), j.orders("b")
    for job_id, rows in (("a", a[:3]), ("b", b[:1]), ("a", a[3:]), ("b", b[1:])):
        sent = j.mark_sent(job_id, "me", rows, 1.8e9, 0, 10**9)
        ids = [r.order_id for r in sent]
        reply = json.dumps([{"orderId": i, "status": "CANCELED"} for i in ids])
        query = f"orderIdList={ids}&signature=***"
        ev = Evidence("cancel", "DELETE", "/dapi/v1/batchOrders", query, None, 200, reply, 3, None, 1.8e9)
        j.apply(job_id, [Change(r, "confirm", provenance="venue_response") for r in sent], 1.8e9, ev)
    return db, j


def test_export_writes_each_exchange_once_on_its_first_event_whatever_the_paging_and_job(tmp_path):
    db, j = _interleaved_exchanges(str(tmp_path / "j.db"))
    with db.read() as conn:
        stored = {
            e: (job, q, r) for e, job, q, r in conn.exec_driver_sql("select id, job_id, query, response from evidence")
        }
    assert len(stored) == 4
    whole = list(j.export("events"))
    for job in (None, "a", "b"):
        # Pages of one row put every exchange's first event at the end of a page.
        for batch in (1, 2, 3, 2000):
            rows = list(j.export("events", job=job, batch=batch))
            assert rows == [r for r in whole if job in (None, r["job_id"])], (job, batch)
            exchanges = {r["evidence_id"] for r in rows} - {None}
            assert exchanges == {e for e, (of, _, _) in stored.items() if job in (None, of)}
            for e in exchanges:
                first, *others = [r for r in rows if r["evidence_id"] == e]
                assert (first["evidence_query"], first["evidence_response"]) == stored[e][1:]
                assert [(r["evidence_query"], r["evidence_response"]) for r in others] == [(None, None)] * len(others)
                # The exchange's method, path and status stay on every one of its events.
                assert {(r["evidence_method"], r["evidence_status"]) for r in [first, *others]} == {("DELETE", 200)}
    assert j.audit().ok
    db.close()


def test_awkward_venue_text_verifies_and_an_edit_of_it_is_named(tmp_path):
    """The audit's quick hashing (SQLite's JSON, orjson) must hash what the journal's own encoder hashed,
    for every text a venue may send back; an edit of such text is still named."""
    path = str(tmp_path / "j.db")
    db = Database(path)
    j = Journal(db)
    refs = [OrderRef("BTCUSD_PERP", str(i)) for i in range(len(AWKWARD))]
    j.create_job(job_id="w", key="w", venue=BN, account="x", refs=refs, now=1.8e9)
    j.acquire("w", "me", 0, 10**9, 1.8e9)
    sent = j.mark_sent("w", "me", j.orders("w"), 1.8e9, 0, 10**9)
    ev = Evidence(
        "cancel", "DELETE", "/dapi/v1/batchOrders", "q=ü&signature=***", None, 400, AWKWARD[3], 3, None, 1.8e9
    )
    changes = [
        Change(r, "reject", reason="venue_refused", provenance="venue_response", code="-2011", message=text)
        for r, text in zip(sent, AWKWARD)
    ]
    j.apply("w", changes, 1.8e9, ev)
    report = j.audit()
    assert report.ok and report.events == 1 + 2 * len(AWKWARD), report
    con = sqlite3.connect(path)
    seq = con.execute("select max(seq) from events where venue_message like '%ü%'").fetchone()[0]
    con.execute("update events set venue_message = replace(venue_message, 'ü', 'u') where seq = ?", (seq,))
    con.commit()
    con.close()
    report = j.audit()
    assert not report.ok and f"event {seq} (reject" in report.problem and "edited" in report.problem
    db.close()


def test_evidence_no_event_points_to_is_named_whichever_way_it_is_counted(tmp_path):
    path = str(tmp_path / "j.db")
    db, j = _interleaved_exchanges(path)
    con = sqlite3.connect(path)
    con.execute(
        "insert into evidence (job_id, at, endpoint, method, path, query, status, hash) "
        "select job_id, at, endpoint, method, path, query, status, hash from evidence where id = 2"
    )
    con.commit()
    con.close()
    assert j.audit().problem == "evidence 5 is not referenced by any event"
    # Evidence ids rise with seq on SQLite, so the walk counts the exchanges without a set of ids; where
    # they do not (PostgreSQL's writers number evidence before taking the head lock) the database counts.
    with db.snapshot() as conn, DriverReads(conn) as reads:
        walk = ChainWalk.from_start(reads)
        assert sum(len(page) for page in walk.pages()) == walk.events == 18
        assert walk.rising and walk.referenced == 4
        walk.rising = False
        assert walk.finish().problem == "evidence 5 is not referenced by any event"
    db.close()


def test_timeline_svg(fake, env, tmp_path):
    job = cancel(env, seed_open(fake, BN, 3))
    out = tmp_path / "t.svg"
    res = run(env, "show", job["job_id"], "--timeline", str(out))
    assert res.exit_code == 0 and out.read_text().startswith("<svg")
    assert run(env, "show", job["job_id"], "--timeline", str(tmp_path / "t.gif")).exit_code == 2
