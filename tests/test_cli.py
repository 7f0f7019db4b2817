"""The command line: exit codes, --json shapes (the contracts in design.md), dry runs, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from safecancel.cli import cli
from tests.conftest import SYMBOLS, VENUES, seed_open

BN = "binance_coinm"


@pytest.fixture
def env(fake, db_path):
    return {
        "SAFECANCEL_DB": db_path,
        "SAFECANCEL_BINANCE_COINM_API_KEY": "test-key",
        "SAFECANCEL_BINANCE_COINM_API_SECRET": "test-secret",
        "SAFECANCEL_BINANCE_COINM_BASE_URL": fake.url,
        "SAFECANCEL_BITGET_API_KEY": "test-key",
        "SAFECANCEL_BITGET_API_SECRET": "test-secret",
        "SAFECANCEL_BITGET_PASSPHRASE": "test-pass",
        "SAFECANCEL_BITGET_BASE_URL": fake.url,
    }


def run(env, *args):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_cancel_json_shape_and_exit_0(fake, env):
    ids = seed_open(fake, BN, 25)
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--json")
    assert res.exit_code == 0, res.output
    job = json.loads(res.stdout)
    assert {"job_id", "key", "venue", "status", "orders", "events"} <= set(job)
    assert len(job["orders"]) == 25
    assert set(job["orders"][0]) == {
        "symbol",
        "order_id",
        "client_order_id",
        "state",
        "reason",
        "provenance",
        "attempts",
        "unsent",
        "venue_code",
        "venue_message",
        "conditional",
    }
    assert {o["state"] for o in job["orders"]} == {"cancelled"} and {o["provenance"] for o in job["orders"]} == {
        "venue_response"
    }
    assert sum(1 for r in fake.requests(BN) if r["endpoint"] == "cancel") == 3
    shown = json.loads(run(env, "show", job["job_id"], "--json").stdout)
    assert shown["orders"] == job["orders"]


def test_exit_1_when_some_failed_and_history_json(fake, env):
    ids = seed_open(fake, BN, 2) + seed_open(fake, BN, 1, start=3000, status="filled")
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids + ["999999"]), "--json")
    assert res.exit_code == 1
    orders = {o["order_id"]: o for o in json.loads(res.stdout)["orders"]}
    assert (orders["3000"]["state"], orders["3000"]["reason"], orders["3000"]["provenance"]) == (
        "failed",
        "filled",
        "venue_query",
    )
    assert (orders["999999"]["state"], orders["999999"]["reason"]) == ("failed", "not_found")
    hist = json.loads(run(env, "history", "--json").stdout)
    assert len(hist) == 1
    assert set(hist[0]) == {"job_id", "key", "venue", "account", "status", "created_at", "finished_at", "counts"}
    assert hist[0]["account"] == "default" and hist[0]["finished_at"]
    assert hist[0]["counts"] == {"cancelled": 2, "failed": 2}


def test_exit_3_when_unfinished_then_resume_finishes(fake, env):
    ids = seed_open(fake, BN, 2)
    fake.fault(BN, "cancel", "drop_after_apply")
    fake.fault(BN, "query", "status", status=503, times=10_000)
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids), "--deadline", "0.5")
    assert res.exit_code == 3
    fake.clear_faults()
    res = run(env, "resume", "--json")
    assert res.exit_code == 0, res.output
    jobs = json.loads(res.stdout)
    assert len(jobs) == 1 and jobs[0]["status"] == "done"
    assert run(env, "resume").exit_code == 0  # nothing left


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--ids", "1,1"], "duplicate"),
        (["--ids", ""], "empty"),
        (["--ids", "1", "--client-ids", "a"], "exactly one"),
        (["--ids", "abc"], "'abc'"),
        (["--symbol", "BTC USD", "--ids", "1"], "malformed symbol"),
        (["--ids", "1", "--base-url", "ftp://x"], "not an http(s) URL"),
        (["--ids", "1", "--db", "/nonexistent-dir/x.db"], "does not exist"),
    ],
)
def test_bad_input_exit_2_nothing_stored(fake, env, db_path, args, needle):
    base = ["cancel", "--venue", BN]
    if "--symbol" not in args:
        base += ["--symbol", SYMBOLS[BN]]
    res = run(env, *(base + args))
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert fake.requests() == []
    assert not os.path.exists(db_path)


def test_missing_credentials_exit_2(fake, env, db_path):
    env = {k: v for k, v in env.items() if "BINANCE" not in k}
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", "1")
    assert res.exit_code == 2 and "SAFECANCEL_BINANCE_COINM_API_KEY" in res.output
    assert not os.path.exists(db_path)


def test_unknown_venue_is_a_usage_error(env):
    res = run(env, "cancel", "--venue", "kraken", "--symbol", "X", "--ids", "1")
    assert res.exit_code == 2 and "kraken" in res.output


def test_key_reused_for_other_orders_exit_2(fake, env):
    ids = seed_open(fake, BN, 2)
    assert run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ids[0], "--key", "K").exit_code == 0
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ids[1], "--key", "K")
    assert res.exit_code == 2 and "'K'" in res.output


def test_dry_run_redacts_and_stores_nothing(fake, env, db_path):
    res = run(
        env,
        "cancel",
        "--venue",
        BN,
        "--symbol",
        SYMBOLS[BN],
        "--ids",
        ",".join(str(i) for i in range(1, 13)),
        "--dry-run",
        "--json",
    )
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)["requests"]
    assert [len(p["orders"]) for p in plan] == [10, 2]
    assert "signature=%2A%2A%2A" in plan[0]["query"] or "signature=***" in plan[0]["query"]
    assert "test-key" not in res.output and "test-secret" not in res.output
    assert fake.requests() == [] and not os.path.exists(db_path)


def test_show_order_and_text_rendering(fake, env):
    ids = seed_open(fake, BN, 3)
    run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids))
    res = run(env, "show", "--order", ids[1])
    assert res.exit_code == 0 and ids[1] in res.output and "confirm" in res.output
    assert run(env, "history").exit_code == 0


def test_audit_verify(fake, env, db_path):
    ids = seed_open(fake, BN, 2)
    run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids))
    res = run(env, "audit", "verify")
    assert res.exit_code == 0 and "intact" in res.output
    import sqlite3

    con = sqlite3.connect(db_path)
    con.execute("update events set venue_message = 'edited' where seq = 4")
    con.commit()
    con.close()
    res = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert res.exit_code == 1 and "event 4" in res.output


def _commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        yield (*prefix, name), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help_and_is_in_the_readme():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    for path, cmd in _commands(cli):
        res = CliRunner().invoke(cli, [*path, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output, path
        assert cmd.help and cmd.help.strip(), f"{' '.join(path)} has no help text"
        assert f"safecancel {' '.join(path)}" in readme, f"`safecancel {' '.join(path)}` is not in the README"


def test_fake_venue_command_serves_and_prints_url(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "safecancel.cli", "fake-venue", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        from safecancel.testing import FakeVenueControl

        ctl = FakeVenueControl(line.split()[-1])
        ctl.seed(BN, "BTCUSD_PERP", [{"order_id": "5"}])
        assert ctl.order_status(BN) == {"5": "open"}
    finally:
        proc.kill()
        proc.wait()


def test_demo_runs_every_venue_and_matches_the_ledger(tmp_path):
    start = time.monotonic()
    res = CliRunner().invoke(
        cli, ["demo", "--db", str(tmp_path / "demo.db"), "--orders", "12", "--latency-ms", "1"], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    for venue in VENUES:
        assert venue in res.output
    assert time.monotonic() - start < 30


def test_lease_ttl_option_is_validated(fake, env, db_path):
    res = run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", "1", "--lease-ttl", "0")
    assert res.exit_code == 2 and "lease_ttl" in res.output
    assert not os.path.exists(db_path)
    ids = seed_open(fake, BN, 1)
    assert (
        run(env, "cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ids[0], "--lease-ttl", "5").exit_code == 0
    )
    assert run(env, "resume", "--lease-ttl", "5").exit_code == 0
