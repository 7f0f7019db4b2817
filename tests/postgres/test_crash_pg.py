"""Crash recovery on a PostgreSQL journal: a `cancel` SIGKILLed mid-job is finished by one immediate
`safecancel resume` (the dead runner is proven gone on this host: no waiting for its lease), and by
re-running the same `cancel` -- every order ends where the fake venue's ledger says it is."""

from __future__ import annotations

import json
import time

import pytest

from safecancel import Client
from tests.integration._harness import SYMBOLS, judge, run_cli, sigkill, spawn_cancel_child, venue_env

BN = "binance_coinm"


@pytest.mark.parametrize("recovery", ["resume", "rerun"])
def test_a_killed_cancel_is_finished_at_once_on_postgresql(slow, pg_url: str, recovery: str) -> None:
    ids = [str(300_000 + i) for i in range(30)] + ["399999"]  # the last one never existed
    slow.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids[:-1]])
    env = venue_env(slow.url, pg_url)
    spec = {
        "venue": BN,
        "symbol": SYMBOLS[BN],
        "ids": ids,
        "key": None,
        "batch": 3,
        "workers": 1,
        "lease_ttl": 30.0,
        "deadline": 30.0,
    }
    child = spawn_cancel_child(env, spec)
    t0 = time.monotonic()
    while not any(r["endpoint"] == "cancel" for r in slow.requests(BN)):
        assert child.poll() is None and time.monotonic() - t0 < 20, child.communicate()[1][-500:]
        time.sleep(0.003)
    time.sleep(0.1)
    assert sigkill(child)
    child.communicate()
    started = time.monotonic()
    if recovery == "resume":
        res = run_cli(["resume", "--json", "--deadline", "30"], env)
        assert res.returncode == 1, res.stderr[-600:]  # finished; one order failed/not_found
        (job,) = json.loads(res.stdout)
    else:
        rerun = spawn_cancel_child(env, spec)
        out, err = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, err[-600:]
        job = json.loads(out.strip().splitlines()[-1])
    assert time.monotonic() - started < 20  # not a 30 s wait for the dead runner's lease
    assert job["status"] == "done"
    with Client(pg_url, environ={}) as c:
        jobs = [c.job(s.job_id) for s in c.history()]
    assert len(jobs) == 1
    assert judge(BN, ids, jobs, slow.orders(BN)).problems == []
