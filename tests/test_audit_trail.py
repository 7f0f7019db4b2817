"""The audit trail users can trust (issue #12): verify proves what is displayed, read-only commands never
write, time arguments are strict, and `show` carries the venue's replies."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from safecancel import Client, InputError, StoreError
from safecancel.cli import cli
from safecancel.model import JobStatus, Reason
from safecancel.states import OrderState, Provenance
from safecancel.store import Database, Journal
from tests import test_audit
from tests.conftest import SYMBOLS, seed_open
from tests.test_audit import BN, run

# The audit suite's fixture (the journal and the fake venue's environment), shared rather than copied.
env = test_audit.env


def cancel(env, ids, *extra):
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--json", *extra)
    return json.loads(res.stdout)


def edit(db_path, sql, *params):
    """Run one tampering statement; it must really change a row (an edit that is a no-op proves nothing)."""
    con = sqlite3.connect(db_path)
    try:
        before = con.total_changes
        con.execute(sql, params)
        con.commit()
        assert con.total_changes > before, f"the tamper {sql!r} changed nothing"
    finally:
        con.close()


def one(db_path, sql, *params):
    con = sqlite3.connect(db_path)
    try:
        return con.execute(sql, params).fetchone()
    finally:
        con.close()


@pytest.fixture
def done_job(fake, env):
    """A finished job of three orders: two cancelled, one that had filled."""
    ids = seed_open(fake, BN, 2)
    fake.seed(BN, SYMBOLS[BN], [{"order_id": "2999", "status": "filled"}])
    return cancel(env, [*ids, "2999"])


# -- verify proves the rows people read ----------------------------------------------------------


TAMPERS = [
    # (what, SQL, the words the problem must contain)
    ("order state", "update orders set state = 'cancelled' where state != 'cancelled'", ["order row", "state"]),
    (
        "order provenance",
        "update orders set provenance = case when provenance = 'operator' then 'venue_query' else 'operator' end "
        "where id = (select min(id) from orders)",
        ["order row", "provenance"],
    ),
    (
        "order reason",
        "update orders set reason = case when reason = 'expired' then 'filled' else 'expired' end "
        "where id = (select min(id) from orders)",
        ["order row", "reason"],
    ),
    (
        "order attempts",
        "update orders set attempts = attempts + 1 where id = (select min(id) from orders)",
        ["attempts"],
    ),
    (
        "what the venue said",
        "update orders set last_message = coalesce(last_message, '') || ' (edited)' "
        "where id = (select min(id) from orders)",
        ["last_message"],
    ),
    ("job venue", "update jobs set venue = 'bitget'", ["venue"]),
    ("job account", "update jobs set account = account || '-x'", ["account"]),
    ("job status", "update jobs set status = 'needs_attention'", ["status"]),
    ("job key", "update jobs set key = key || '-x'", ["key"]),
    ("job environment", "update jobs set base_url = 'https://elsewhere.example'", ["base_url"]),
    ("job finish time", "update jobs set finished_at = '2020-01-01T00:00:00.000000Z'", ["finished_at"]),
    ("job creation time", "update jobs set created_at = '2020-01-01T00:00:00.000000Z'", ["created_at"]),
    (
        "an order id",
        "update orders set order_id = order_id || '9' where id = (select min(id) from orders)",
        ["ids were edited"],
    ),
    ("a deleted order", "delete from orders where id = (select max(id) from orders)", ["order"]),
]


@pytest.mark.parametrize("what,sql,words", TAMPERS, ids=[t[0] for t in TAMPERS])
def test_an_edited_row_fails_verify_naming_it(done_job, env, db_path, what, sql, words):
    assert run(env, "audit", "verify").exit_code == 0
    edit(db_path, sql)
    res = run(env, "audit", "verify")
    assert res.exit_code == 1, res.output
    assert all(w in res.output for w in words), res.output
    report = json.loads(run(env, "audit", "verify", "--json").stdout)
    assert report["ok"] is False and report["problem"]


def test_two_orders_swapped_fail_verify(done_job, env, db_path):
    # Both rows keep their histories; only which id is shown beside which history changes (the set of ids,
    # and so the job's fingerprint, stays the same).
    (a,), (b,) = [one(db_path, "select order_id from orders where seq = ?", i) for i in (0, 1)]
    edit(db_path, "update orders set order_id = ? where seq = 0", b)
    edit(db_path, "update orders set order_id = ? where seq = 1", a)
    res = run(env, "audit", "verify")
    assert res.exit_code == 1 and "swapped" in res.output, res.output


def test_an_inserted_order_or_job_fails_verify(done_job, env, db_path):
    edit(
        db_path,
        "insert into orders (job_id, seq, symbol, order_id, state, attempts, queries, not_found_seen, next_at_ms, "
        "updated_at) select job_id, 3, symbol, '999999', 'cancelled', 1, 0, 0, 0, updated_at from orders limit 1",
    )
    res = run(env, "audit", "verify")
    assert res.exit_code == 1 and "order rows" in res.output, res.output
    edit(db_path, "delete from orders where order_id = '999999'")
    assert run(env, "audit", "verify").exit_code == 0
    edit(
        db_path,
        "insert into jobs (id, key, venue, account, fingerprint, status, order_count, created_at, updated_at) "
        "values ('forged', 'forged', 'binance_coinm', 'default', 'x', 'done', 0, '2026-01-01', '2026-01-01')",
    )
    res = run(env, "audit", "verify")
    assert res.exit_code == 1 and "job forged has no events" in res.output, res.output


def test_verify_json_reports_counts_and_the_head(done_job, env):
    report = json.loads(run(env, "audit", "verify", "--json").stdout)
    assert report["ok"] is True and report["problem"] is None
    assert (report["jobs"], report["orders"]) == (1, 3)
    assert report["events"] == report["head_seq"] == len(done_job["events"])
    assert len(report["head_hash"]) == 64 and report["seconds"] >= 0


def test_a_resolved_and_resumed_job_replays(fake, env, db_path):
    """Operator settlements, lost replies, re-sends and status changes all replay to the rows."""
    ids = seed_open(fake, BN, 3)
    fake.fault(BN, "cancel", "drop_after_apply")
    fake.fault(BN, "query", "status", status=503, times=10_000)
    job = cancel(env, ids, "--deadline", "2")
    assert {o["state"] for o in job["orders"]} == {"unknown"}
    assert run(env, "audit", "verify").exit_code == 0
    run(env, "resolve", job["job_id"], ids[0], "--as", "failed", "--note", "checked in the venue UI")
    fake.reset()  # the faults go, and so do the orders: the venue no longer knows them
    assert run(env, "resume", "--deadline", "5").exit_code in (0, 1, 3)
    assert run(env, "audit", "verify").exit_code == 0
    shown = json.loads(run(env, "show", job["job_id"], "--json").stdout)
    assert any(o["provenance"] == "operator" for o in shown["orders"])


# -- read-only means read-only -------------------------------------------------------------------


def test_read_only_commands_never_create_a_journal(tmp_path):
    missing = tmp_path / "typo.db"
    for args in (["audit", "verify"], ["history"], ["show", "abc"], ["export"]):
        res = CliRunner().invoke(cli, [*args, "--db", str(missing)])
        assert res.exit_code == 2, (args, res.output)
        assert "no journal at" in res.output and str(missing) in res.output
        assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_read_only_commands_do_not_migrate(tmp_path):
    db = tmp_path / "old.db"
    Database(str(db)).close()
    edit(str(db), "update alembic_version set version_num = '0004'")
    res = CliRunner().invoke(cli, ["audit", "verify", "--db", str(db)])
    assert res.exit_code == 5 and "older" in res.output and "does not migrate" in res.output
    assert one(str(db), "select version_num from alembic_version") == ("0004",)


def test_a_read_only_client_refuses_writes(done_job, db_path):
    with Client(db_path, read_only=True) as client:
        assert client.history()[0].job_id == done_job["job_id"]
        with pytest.raises(Exception, match="read-only"):
            client.prune("2999-01-01T00:00:00Z")


def _without_root_powers() -> list[str]:
    """A prefix that runs a command as this user without root's power to ignore file permissions (as root),
    so that chmod means for the test what it means for an auditor."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions cannot be made to bind")
    caps = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("wal_left", [False, True], ids=["checkpointed", "with-shm"])
def test_a_journal_on_read_only_storage_can_be_audited(done_job, db_path, tmp_path, wal_left):
    copy = tmp_path / "handed-over"
    copy.mkdir()
    journal = copy / "journal.db"
    con = sqlite3.connect(db_path)
    con.execute("pragma wal_checkpoint(truncate)")
    con.close()
    shutil.copy(db_path, journal)
    if wal_left:  # an earlier mode=ro reader left the index behind: it can be reused read-only
        sqlite3.connect(f"{journal.as_uri()}?mode=ro", uri=True).execute("select 1 from jobs").fetchall()
    before = sorted(p.name for p in copy.iterdir())
    journal.chmod(0o444)
    copy.chmod(0o555)
    try:
        base = [*_without_root_powers(), sys.executable, "-m", "safecancel.cli"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECANCEL_")}
        for args in (
            ["audit", "verify", "--json"],
            ["history", "--json"],
            ["show", done_job["job_id"], "--json"],
            ["export", "--table", "orders"],
        ):
            res = subprocess.run([*base, *args, "--db", str(journal)], capture_output=True, text=True, env=env)
            assert res.returncode == 0, (args, res.stderr)
            if args[0] == "audit":
                assert json.loads(res.stdout)["ok"] is True
            if args[0] == "history":
                assert json.loads(res.stdout)[0]["job_id"] == done_job["job_id"]
        res = subprocess.run([*base, "resume", "--db", str(journal)], capture_output=True, text=True, env=env)
        assert res.returncode == 2 and "not readable and writable" in res.stderr, res.stderr  # writers say so
    finally:
        copy.chmod(0o755)
        journal.chmod(0o644)
    assert sorted(p.name for p in copy.iterdir()) == before  # nothing was created beside it


# -- strict times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Jan 1 2020", "yesterday", "", "2026-13-01", "1700000000"])
def test_prune_refuses_a_cutoff_that_is_not_a_time_and_deletes_nothing(done_job, db_path, bad):
    with Client(db_path) as client:
        with pytest.raises(InputError, match="before"):
            client.prune(bad)
        assert len(client.history()) == 1


@pytest.mark.parametrize("bad", ["yesterday", "Jan 1 2020", 1700000000, datetime(2026, 1, 1)])
def test_history_refuses_what_is_not_an_aware_time(done_job, db_path, bad):
    with Client(db_path) as client, pytest.raises(InputError, match="since"):
        client.history(since=bad)


def test_history_compares_instants_not_text(done_job, db_path):
    created = datetime.fromisoformat(done_job["created_at"].replace("Z", "+00:00"))
    plus_one = timezone(timedelta(hours=1))
    with Client(db_path) as client:
        # One minute before creation, written in +01:00: as text it sorts after the UTC creation time.
        earlier = (created - timedelta(minutes=1)).astimezone(plus_one)
        assert [h.job_id for h in client.history(since=earlier.isoformat())] == [done_job["job_id"]]
        assert [h.job_id for h in client.history(since=earlier)] == [done_job["job_id"]]
        later = (created + timedelta(minutes=1)).astimezone(plus_one)
        assert client.history(since=later.isoformat()) == []
        assert [h.job_id for h in client.history(until=later.isoformat())] == [done_job["job_id"]]
        assert client.history(since=(created + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == []


def test_prune_says_how_many_before_removing(fake, env, db_path):
    cancel(env, seed_open(fake, BN, 2), "--key", "old")
    new = cancel(env, seed_open(fake, BN, 2, start=3000), "--key", "new")
    dry = json.loads(run(env, "prune", "--before", new["created_at"], "--dry-run", "--json").stdout)
    assert dry["would_remove"]["jobs"] == 1 and dry["removed"] == {"jobs": 0, "events": 0}
    assert len(json.loads(run(env, "history", "--json").stdout)) == 2
    refused = CliRunner().invoke(cli, ["prune", "--before", new["created_at"]], env=env, input="n\n")
    assert refused.exit_code == 1 and "will remove 1 finished jobs" in refused.output
    assert len(json.loads(run(env, "history", "--json").stdout)) == 2
    done = json.loads(run(env, "prune", "--before", new["created_at"], "--yes", "--json").stdout)
    assert done["removed"]["jobs"] == 1 and done["verify"]["ok"] is True
    assert done["removed"]["events"] == dry["would_remove"]["events"]
    bad = run(env, "prune", "--before", "Jan 1 2020", "--yes")
    assert bad.exit_code == 2 and "is not an ISO-8601" in bad.output


def _audits(monkeypatch):
    """Count the journal's audits, wherever they start (prune in the writer, ``audit()`` in the reads).
    monkeypatch, not a mock: every audit still runs in full; the wrapper only counts it."""
    from safecancel.store import reads, writer

    calls: list[int] = []
    real = writer.audit_journal

    def counting(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(writer, "audit_journal", counting)
    monkeypatch.setattr(reads, "audit_journal", counting)
    return calls


def _old_and_new(fake, env):
    cancel(env, seed_open(fake, BN, 2), "--key", "old")
    return cancel(env, seed_open(fake, BN, 3, start=3000), "--key", "new")


def test_a_prune_command_audits_the_journal_once(fake, env, monkeypatch):
    new = _old_and_new(fake, env)
    audits = _audits(monkeypatch)
    dry = json.loads(run(env, "prune", "--before", new["created_at"], "--dry-run", "--json").stdout)
    assert len(audits) == 1 and dry["would_remove"]["jobs"] == 1 and dry["verify"]["ok"] is True
    refused = CliRunner().invoke(cli, ["prune", "--before", new["created_at"]], env=env, input="n\n")
    assert refused.exit_code == 1 and len(audits) == 2
    done = json.loads(run(env, "prune", "--before", new["created_at"], "--yes", "--json").stdout)
    assert len(audits) == 3 and done["removed"] == dry["would_remove"]
    # The result after the cut, known without a second audit, is what auditing the journal now finds.
    fresh = json.loads(run(env, "audit", "verify", "--json").stdout)
    assert done["verify"] == {k: fresh[k] for k in ("ok", "events", "jobs", "orders", "problem")}
    assert (fresh["jobs"], fresh["orders"]) == (1, 3)
    nothing = json.loads(run(env, "prune", "--before", new["created_at"], "--yes", "--json").stdout)
    assert len(audits) == 5 and nothing["removed"] == {"jobs": 0, "events": 0}  # (4: the verify above)


def test_a_prune_refuses_a_tampered_journal_and_removes_nothing(fake, env, db_path, monkeypatch):
    new = _old_and_new(fake, env)
    edit(db_path, "update orders set state = 'failed' where order_id = '1000'")
    audits = _audits(monkeypatch)
    res = run(env, "prune", "--before", new["created_at"], "--yes")
    assert res.exit_code == 5 and "refusing to prune" in res.output and "state" in res.output, res.output
    assert len(audits) == 1
    with Client(db_path) as client:
        assert len(client.history()) == 2
        with pytest.raises(StoreError, match="refusing to prune"):
            client.prune(new["created_at"], dry_run=True)


def test_a_library_dry_run_answers_what_it_would_remove_and_removes_nothing(fake, env, db_path):
    new = _old_and_new(fake, env)
    with Client(db_path) as client:
        dry = client.prune(new["created_at"], dry_run=True)
        assert dry == dry.planned and dry[0] == 1 and dry[1] > 0  # as prune(dry_run=True) always answered
        assert len(client.history()) == 2 and dry.verify.ok


def test_client_prune_audits_once_and_checks_what_was_appended_while_it_asked(fake, env, db_path, monkeypatch):
    new = _old_and_new(fake, env)
    audits = _audits(monkeypatch)
    other = Journal(Database(db_path))  # another runner on the same journal
    with Client(db_path) as client:

        def meanwhile(jobs: int, events: int) -> bool:
            # It appends to the job that stays, between the prune's audit and its removal.
            other.record_event(new["job_id"], 1.8e9, "meanwhile", "note")
            return True

        pruned = client.prune(new["created_at"], confirm=meanwhile)
        assert len(audits) == 1 and pruned[0] == 1 and pruned.planned[0] == 1
        assert pruned.verify == client.audit()  # what the prune reported after the cut is what an audit finds
    other.db.close()
    assert run(env, "audit", "verify").exit_code == 0


def test_a_prune_audits_again_when_a_job_it_would_remove_changed_meanwhile(fake, env, db_path, monkeypatch):
    old = cancel(env, seed_open(fake, BN, 2), "--key", "old")
    new = cancel(env, seed_open(fake, BN, 3, start=3000), "--key", "new")
    audits = _audits(monkeypatch)
    other = Journal(Database(db_path))
    with Client(db_path) as client:

        def meanwhile(jobs: int, events: int) -> bool:
            other.record_event(old["job_id"], 1.8e9, "meanwhile", "note")
            return True

        pruned = client.prune(new["created_at"], confirm=meanwhile)
        # The old job now has an event after the new job's first: the chain's prefix can no longer hold it.
        assert len(audits) == 2 and pruned == (0, 0) and pruned.planned[0] == 1
        assert len(client.history()) == 2 and client.audit().ok
    other.db.close()


# -- evidence, exact orders, per-job export ----------------------------------------------------------


def test_show_evidence_carries_the_venues_replies(done_job, env, db_path):
    shown = json.loads(run(env, "show", done_job["job_id"], "--evidence", "--json").stdout)
    with_evidence = [e for e in shown["events"] if e["evidence_id"] is not None]
    assert with_evidence and all(e["evidence"] for e in with_evidence)
    stored = {r[0]: r[1] for r in sqlite3.connect(db_path).execute("select id, response from evidence").fetchall()}
    for e in with_evidence:
        assert e["evidence"]["response"] == stored[e["evidence_id"]]  # as stored, not re-worded
        assert e["evidence"]["method"] and e["evidence"]["path"].startswith("/")
    cancel_reply = next(e for e in with_evidence if e["trigger"] == "confirm")["evidence"]["response"]
    assert json.loads(cancel_reply)  # the venue's own JSON body
    assert "test-secret" not in json.dumps(shown) and "test-key" not in json.dumps(shown)
    plain = json.loads(run(env, "show", done_job["job_id"], "--json").stdout)
    assert all("evidence" not in e for e in plain["events"])
    text = run(env, "show", done_job["job_id"], "--evidence").stdout
    assert "evidence" in text and "reply 200" in text


def test_show_order_matches_exactly(fake, env):
    ids = [str(i) for i in (5, 15, 55)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    cancel(env, ids)
    res = run(env, "show", "--order", "5", "--json")
    jobs = json.loads(res.stdout)
    assert len(jobs) == 1 and [o["order_id"] for o in jobs[0]["orders"]] == ["5"]
    names = {e["order"] for e in jobs[0]["events"] if e["order"]}
    assert names == {f"{SYMBOLS[BN]}:order_id=5"}
    text = run(env, "show", "--order", "5").stdout
    assert "order_id=15" not in text and "order_id=55" not in text


def test_export_one_job_with_a_summary_on_stderr(fake, env):
    a = cancel(env, seed_open(fake, BN, 2))
    cancel(env, seed_open(fake, BN, 3, start=3000))
    res = run(env, "export", "--job", a["job_id"], "--json")
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert {r["job_id"] for r in rows} == {a["job_id"]}
    assert [r["type"] for r in rows].count("order") == 2
    summary = json.loads(res.stderr)
    assert summary["rows"] == {"jobs": 1, "orders": 2, "events": len(a["events"])}
    assert run(env, "export", "--job", "nope").exit_code == 2


# -- results are enums ---------------------------------------------------------------------------


def test_results_carry_enums_that_serialize_as_the_same_strings(done_job, db_path):
    with Client(db_path) as client:
        job = client.job(done_job["job_id"])
        assert job.status is JobStatus.DONE
        states = {o.state for o in job.orders}
        assert all(isinstance(s, OrderState) for s in states)
        reasons = {o.reason for o in job.orders}
        assert Reason.FILLED in reasons
        assert all(isinstance(o.provenance, Provenance) for o in job.orders)
        assert job.to_json()["status"] == "done" and type(job.to_json()["status"]) is str
        assert {o["state"] for o in job.to_json()["orders"]} == {"cancelled", "failed"}
        assert client.history()[0].status is JobStatus.DONE


def test_journal_audit_counts(done_job, db_path):
    db = Database(db_path)
    try:
        report = Journal(db).audit()
        assert report.ok and (report.jobs, report.orders) == (1, 3)
    finally:
        db.close()
