"""Crash recovery that just works: a restarted bot finishes its cancels at once and never waits in silence.

The crash trials themselves (SIGKILL at random moments, then one immediate recovery by `resume`, by
re-running the same `cancel`, or by `client.resume()`) are in test_crash.py; these are the rules around them.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from safecancel import Client, RetryPolicy, VenueConfig, proc
from tests.integration._harness import (
    CREDS,
    PYTHON,
    ROOT,
    SYMBOLS,
    client_for,
    closed_port,
    fault_reads,
    jobs_in,
    judge,
    run_cli,
    sigkill,
    spawn_cancel_child,
    venue_env,
)

BN = "binance_coinm"


def _first_cancel_then_kill(fake, env, spec) -> None:
    child = spawn_cancel_child(env, spec)
    t0 = time.monotonic()
    while not any(r["endpoint"] == "cancel" for r in fake.requests(spec["venue"])):
        assert child.poll() is None and time.monotonic() - t0 < 20, child.communicate()[1][-500:]
        time.sleep(0.003)
    time.sleep(0.05)
    assert sigkill(child)
    child.communicate()


def test_the_holder_of_a_lease_is_proven_dead_only_on_this_host_by_pid_and_start_time() -> None:
    owner, me = proc.current("abcd1234")
    assert not proc.holder_is_dead(owner, me)  # this very process
    child = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(30)"])
    try:
        host = proc.hostname()
        boot, ns, _ = me.split("/")
        start = proc._start_ticks(child.pid)
        alive = (f"{host}:{child.pid}:x", f"{boot}/{ns}/{start}")
        assert not proc.holder_is_dead(*alive)
        # The same pid with another start time is another process: the holder is gone.
        assert proc.holder_is_dead(f"{host}:{child.pid}:x", f"{boot}/{ns}/{int(start or 0) + 1}")
        # Another host, another pid namespace, or no process facts: never proof.
        assert not proc.holder_is_dead(f"elsewhere:{child.pid}:x", "/".join((boot, ns, "1")))
        assert not proc.holder_is_dead(f"{host}:{child.pid}:x", f"{boot}/999/{int(start or 0) + 1}")
        assert not proc.holder_is_dead(f"{host}:{child.pid}:x", None)
        child.kill()
        child.wait()
        assert proc.holder_is_dead(*alive)  # killed and reaped
    finally:
        child.kill()
        child.wait()
    zombie = subprocess.Popen([PYTHON, "-c", "pass"])
    z_start = proc._start_ticks(zombie.pid)
    deadline = time.monotonic() + 10
    while (proc._stat_fields(zombie.pid) or ["Z"])[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        # Exited but not yet reaped by its parent (a supervisor that has not called wait): dead.
        assert proc.holder_is_dead(f"{proc.hostname()}:{zombie.pid}:x", f"{boot}/{ns}/{z_start}")
    finally:
        zombie.wait()


def test_resume_right_after_a_kill_takes_the_dead_runners_job_over_at_once(slow, tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    ids = [str(50_000 + i) for i in range(40)]
    slow.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    env = venue_env(slow.url, db)
    _first_cancel_then_kill(
        slow,
        env,
        {
            "venue": BN,
            "symbol": SYMBOLS[BN],
            "ids": ids,
            "key": None,
            "batch": 2,
            "workers": 1,
            "lease_ttl": 30.0,
            "deadline": 30.0,
        },
    )
    t0 = time.monotonic()
    res = run_cli(["resume", "--json", "--deadline", "30"], env)
    took = time.monotonic() - t0
    assert res.returncode == 0, res.stderr[-800:]
    assert took < 15, took  # not 30 s of waiting for the dead runner's lease
    (job,) = json.loads(res.stdout)
    assert job["status"] == "done" and job["counts"] == {"cancelled": 40}
    assert any(e["trigger"] == "takeover" and "process is gone" in (e["note"] or "") for e in job["events"])
    assert f"journal: {db}" in res.stderr
    assert judge(BN, ids, jobs_in(db), slow.orders(BN)).problems == []


def test_two_resumes_started_together_after_a_kill_reach_each_order_at_most_once_more(slow, tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    ids = [str(60_000 + i) for i in range(30)]
    slow.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    env = venue_env(slow.url, db)
    _first_cancel_then_kill(
        slow,
        env,
        {
            "venue": BN,
            "symbol": SYMBOLS[BN],
            "ids": ids,
            "key": "two",
            "batch": 3,
            "workers": 1,
            "lease_ttl": 30.0,
            "deadline": 30.0,
        },
    )
    time.sleep(0.1)  # the killed runner's last request lands
    before = {o["order_id"]: o["cancel_requests"] for o in slow.orders(BN)}
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "safecancel.cli", "resume", "--json", "--deadline", "30"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    # One runner takes the job over and finishes it; the other finds it held by a live runner (6) or done (0).
    assert sorted(p.returncode for p in procs)[0] == 0 and {p.returncode for p in procs} <= {0, 6}, [
        e[-400:] for _, e in outs
    ]
    (job,) = jobs_in(db)
    assert job.status == "done" and job.counts == {"cancelled": 30}
    after = {o["order_id"]: o["cancel_requests"] for o in slow.orders(BN)}
    assert all(after[i] - before.get(i, 0) <= 1 for i in ids), {i: (before.get(i), after[i]) for i in ids}
    assert all(after[i] == 1 for i in ids)  # a cancel reached each order once, in all
    assert judge(BN, ids, [job], slow.orders(BN)).problems == []


def test_a_live_runner_waiting_out_a_long_retry_after_keeps_its_job(fake, tmp_path: Path) -> None:
    # Scaled down from "Retry-After: 40 against a 30 s lease, a second resume at +32 s".
    db = tmp_path / "live.db"
    ids = [str(70_000 + i) for i in range(24)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "status", status=429, retry_after=3, times=1)
    first = client_for(fake.url, db, lease_ttl=1.5, workers=4)
    second = client_for(fake.url, db, lease_ttl=1.5)
    out: dict[str, object] = {}
    runner = threading.Thread(
        target=lambda: out.setdefault("first", first.cancel(BN, SYMBOLS[BN], order_ids=ids, key="live"))
    )
    runner.start()
    time.sleep(2.0)  # past the lease: only renewals keep the job the first runner's
    (other,) = second.resume(deadline=1)
    runner.join(30)
    first.close()
    second.close()
    assert other.held_by and "held by a live runner" in other.held_by
    result = out["first"]
    assert result.counts == {"cancelled": 24}  # type: ignore[attr-defined]
    assert all(
        o["cancel_requests"] == 1 for o in fake.orders(BN) if o["order_id"] in ids and o["status"] == "cancelled"
    )
    events = jobs_in(db)[0].events
    assert not [e for e in events if e.trigger == "takeover"]


def test_resume_skips_a_job_it_cannot_run_here_names_it_and_finishes_the_others(fake, tmp_path: Path) -> None:
    db = tmp_path / "skip.db"
    old = [str(80_000 + i) for i in range(3)]
    new = [str(81_000 + i) for i in range(3)]
    fake.seed("bitget", SYMBOLS["bitget"], [{"order_id": i} for i in old])
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in new])
    dead = f"http://127.0.0.1:{closed_port()}"
    with client_for(fake.url, db, venues=[VenueConfig("bitget", credentials=CREDS, base_url=dead)]) as c:
        stuck = c.cancel("bitget", SYMBOLS["bitget"], order_ids=old, deadline=0.2)
    with client_for(fake.url, db, venues=[VenueConfig(BN, credentials=CREDS, base_url=dead)]) as c:
        pending = c.cancel(BN, SYMBOLS[BN], order_ids=new, deadline=0.2)
    with client_for(fake.url, db) as c:
        c.rebind(pending.job_id)  # the venue is reachable now, at the fake's address
    env = venue_env(fake.url, db, venues=(BN,))  # this host has no bitget credentials
    res = run_cli(["resume", "--deadline", "10"], env)
    assert res.returncode == 7, (res.stdout[-500:], res.stderr[-500:])
    assert f"skipped job {stuck.job_id} (bitget)" in res.stderr and "no credentials" in res.stderr
    assert {j.job_id: j.status for j in jobs_in(db)} == {pending.job_id: "done", stuck.job_id: "open"}
    assert {fake.order_status(BN)[i] for i in new} == {"cancelled"}
    assert {fake.order_status("bitget")[i] for i in old} == {"open"}


def test_a_job_created_in_one_directory_is_resumed_from_another_without_safecancel_db(fake, tmp_path: Path) -> None:
    ids = [str(82_000 + i) for i in range(4)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "drop_after_apply")
    fault_reads(fake, BN, status=503, times=1000)
    env = venue_env(fake.url)  # no SAFECANCEL_DB: the per-user journal
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["HOME"] = str(tmp_path / "home")
    a, b = tmp_path / "bot-a", tmp_path / "cron-home"
    a.mkdir()
    b.mkdir()
    first = subprocess.run(
        [
            PYTHON,
            "-m",
            "safecancel.cli",
            "cancel",
            "--venue",
            BN,
            "--symbol",
            SYMBOLS[BN],
            "--ids",
            ",".join(ids),
            "--deadline",
            "0.5",
            "--json",
        ],
        env=env,
        cwd=a,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.returncode == 3, first.stderr[-500:]
    fake.clear_faults()
    res = subprocess.run(
        [PYTHON, "-m", "safecancel.cli", "resume", "--json"], env=env, cwd=b, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr[-500:]
    (job,) = json.loads(res.stdout)
    assert job["job_id"] == json.loads(first.stdout)["job_id"] and job["counts"] == {"cancelled": 4}
    journal = tmp_path / "data" / "safecancel" / "journal.db"
    assert journal.exists() and f"journal: {journal}" in res.stderr
    assert not list(a.glob("*.db")) and not list(b.glob("*.db"))


def test_rerunning_cancel_while_a_live_runner_holds_the_job_says_who_and_until_when(fake, tmp_path: Path) -> None:
    db = tmp_path / "held.db"
    ids = [str(83_000 + i) for i in range(3)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    env = venue_env(fake.url, db)
    args = ["cancel", "--venue", BN, "--symbol", SYMBOLS[BN], "--ids", ",".join(ids)]
    res = run_cli([*args, "--dry-run"], env)
    assert "would create a new job" in res.stdout
    # A live runner: its cancels are dropped and every query fails, so it keeps working the job.
    fake.fault(BN, "cancel", "drop_before_apply", times=10_000)
    fault_reads(fake, BN, status=503, times=10_000)
    holder = subprocess.Popen(
        [PYTHON, "-m", "safecancel.cli", "cancel", *args[1:], "--deadline", "60"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        t0 = time.monotonic()
        while not any(r["endpoint"] == "query" for r in fake.requests(BN)):
            assert holder.poll() is None and time.monotonic() - t0 < 20
            time.sleep(0.01)
        res = run_cli([*args, "--dry-run"], env)
        assert "would join job" in res.stdout
        res = run_cli([*args, "--deadline", "2"], env)
        assert res.returncode == 6, (res.stdout[-300:], res.stderr[-500:])
        assert f"held by a live runner on {proc.hostname()} (pid {holder.pid}) until" in res.stderr
        assert "s from now" in res.stderr
    finally:
        sigkill(holder)
    # The holder is gone: the same command takes the job over at once and finishes it.
    fake.clear_faults()
    res = run_cli([*args, "--deadline", "20"], env)
    assert res.returncode == 0, res.stderr[-500:]
    assert {fake.order_status(BN)[i] for i in ids} == {"cancelled"}
    assert len(jobs_in(db)) == 1


def test_two_clients_in_one_process_share_the_rate_budget_of_a_venue_and_key(fake, tmp_path: Path) -> None:
    bingx = VenueConfig("bingx", credentials=CREDS, base_url=fake.url)
    a = Client(str(tmp_path / "a.db"), venues=[bingx], environ={})
    b = Client(str(tmp_path / "b.db"), venues=[bingx], environ={})
    try:
        assert a._link("bingx").cancel_bucket is b._link("bingx").cancel_bucket
        assert a._link("bingx").server_clock is b._link("bingx").server_clock
    finally:
        a.close()
        b.close()


def test_a_clock_rejection_with_the_time_endpoint_down_backs_off(fake, make_client) -> None:
    ids = [str(84_000 + i) for i in range(2)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    client = make_client(retry=RetryPolicy(base_delay=0.2, max_delay=2.0))
    client.cancel(BN, SYMBOLS[BN], order_ids=[str(84_100)], deadline=5)  # the offset is measured once
    fake.fault(BN, "time", "clock_skew", offset_ms=600_000)
    fake.fault(BN, "time", "status", status=503, times=10_000)
    r = client.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=3)
    cancels = [q for q in fake.requests(BN) if q["endpoint"] == "cancel"]
    assert r.status == "open" and {o.state for o in r.orders} == {"pending"}
    assert len(cancels) <= 8, len(cancels)  # was: a tight loop of hundreds
