"""Crash trials: a cancel job in a child process is SIGKILLed at a random (seeded) moment, ``safecancel
resume`` finishes it, and every order in the journal is compared with the fake venue's ledger.

The short run here rotates over all five venues; ``tests/trials/crash_trials.py`` is the long run
(hundreds of trials) with the same harness. A second test kills a process in the middle of large and
small write transactions and checks that the database still opens, holds whole jobs only, passes
``PRAGMA integrity_check`` and ``safecancel audit verify``, and stays readable by its owner only.
"""

from __future__ import annotations

import os
import random
import stat
import subprocess
import textwrap
import time
from pathlib import Path

from safecancel.store import Database
from tests.integration._harness import (
    PYTHON,
    ROOT,
    VENUES,
    closed_port,
    crash_table,
    raw_state,
    reader,
    run_cli,
    run_trials,
    sigkill,
    venue_env,
)

SEED = int(os.environ.get("SAFECANCEL_CRASH_SEED", "20240611"))
TRIALS = 6


def test_killed_jobs_resume_with_nothing_lost_and_nothing_wrongly_cancelled(tmp_path: Path) -> None:
    results = run_trials(TRIALS, SEED, tmp_path, parallel=2, latency_ms=40)
    print("\n" + crash_table(results))
    assert len(results) == TRIALS
    assert {r.spec.venue for r in results} == set(VENUES)  # the rotation reaches every venue
    problems = [(r.spec.index, r.spec.venue, r.phase, p) for r in results for p in r.problems]
    assert problems == []
    assert sum(r.check.orders for r in results) >= 6 * 8
    # Most trials must actually be killed, or this would only test the happy path.
    assert sum(r.killed for r in results) >= TRIALS // 2


# Creates jobs of many orders in a loop (one large transaction each), against a port nothing listens
# on, so the engine then runs many small write transactions (send, requeue) until each short deadline.
MASS_CHILD = textwrap.dedent(
    """
    import sys
    from safecancel import Client
    n, jobs = int(sys.argv[1]), int(sys.argv[2])
    with Client(workers=2, lease_ttl=1.0) as client:
        for j in range(jobs):
            base = 1_000_000 + j * n
            ids = range(base, base + n)
            client.cancel("binance_coinm", "BTCUSD_PERP", order_ids=ids, key=f"mass-{j}", deadline=0.15)
    """
)


def test_sigkill_mid_transaction_leaves_a_whole_verifiable_database(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    env = venue_env(f"http://127.0.0.1:{closed_port()}", db)
    rng = random.Random(SEED)
    kills = 0
    for round_no in range(4):
        child = subprocess.Popen(
            [PYTHON, "-c", MASS_CHILD, "20000", "50"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Past the interpreter start-up (~0.6 s): the first 20k-order job commits at ~1.1 s, then
        # about every 0.6 s, with small send/requeue transactions in between.
        time.sleep(0.7 + rng.uniform(0.0, 1.8))
        kills += sigkill(child)
        child.communicate()
        state = raw_state(db)
        assert state["integrity"] == "ok", (round_no, state["integrity"])
        for job in state["jobs"]:
            # All of a job's orders or none of them: create_job is one transaction.
            assert state["order_rows"].get(job["id"], 0) == job["order_count"], (round_no, job)
        with reader(db) as c:
            ok, n, problem = c.verify_journal()
            assert ok, (round_no, problem)
            assert n >= len(state["jobs"])  # at least each job's "create" event
    assert kills >= 3
    assert raw_state(db)["jobs"], "no job was ever committed: the kills all came too early to test anything"
    res = run_cli(["audit", "verify", "--db", str(db)], env)
    assert res.returncode == 0, res.stderr
    assert "journal intact" in res.stdout
    # Durability settings: WAL is a property of the file; synchronous=FULL of each connection.
    database = Database(str(db))
    try:
        with database.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            # The journal names accounts and orders: owner-only, and SQLite's side files (which
            # exist while a connection is open) inherit that.
            for path in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
                if path.exists():
                    assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    finally:
        database.close()
