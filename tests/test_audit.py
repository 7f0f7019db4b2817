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
from safecancel.store import Change, Database, Journal
from tests.conftest import SYMBOLS, seed_open

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
            env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--deadline", "0.4", "--json"
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


def test_timeline_svg(fake, env, tmp_path):
    job = cancel(env, seed_open(fake, BN, 3))
    out = tmp_path / "t.svg"
    res = run(env, "show", job["job_id"], "--timeline", str(out))
    assert res.exit_code == 0 and out.read_text().startswith("<svg")
    assert run(env, "show", job["job_id"], "--timeline", str(tmp_path / "t.gif")).exit_code == 2
