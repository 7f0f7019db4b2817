"""Job leases for fleets: ``Journal.claim_next`` on SQLite and on PostgreSQL (SKIP LOCKED), and the
hash chain under concurrent writers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from safecancel.errors import LeaseHeld
from safecancel.model import OrderRef
from safecancel.store import Change, Database, Evidence, Journal

BN = "binance_coinm"
NOW = 1_800_000_000.0
NOW_MS = int(NOW * 1000)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "journal.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def journal(url):
    db = Database(url)
    yield Journal(db)
    db.close()


def make_jobs(journal: Journal, n: int, orders: int = 3, prefix: str = "job") -> list[str]:
    ids = []
    for i in range(n):
        refs = [OrderRef("BTCUSD_PERP", f"{prefix}{i}-{k}") for k in range(orders)]
        # Distinct creation times: claim_next takes the oldest first.
        job, _ = journal.create_job(
            job_id=f"{prefix}-{i:03d}", key=f"{prefix}-{i}", venue=BN, account="a", refs=refs, now=NOW + i
        )
        ids.append(job.id)
    return ids


def test_claims_oldest_first_skips_live_leases_and_finished_jobs_takes_over_expired_ones(journal):
    a, b, c, d = make_jobs(journal, 4)
    journal.acquire(a, "alive", NOW_MS, 60_000, NOW)  # a live runner holds a
    journal.acquire(b, "dead", NOW_MS - 120_000, 60_000, NOW)  # b's runner stopped renewing a minute ago
    journal.set_status(c, "done", NOW)
    assert journal.claim_next("me", NOW_MS, 30_000) == b
    job = journal.get_job(b)
    assert (job.lease_owner, job.lease_expires_ms) == ("me", NOW_MS + 30_000)
    assert journal.claim_next("me", NOW_MS, 30_000) == d
    assert journal.claim_next("me", NOW_MS, 30_000) is None  # a is held, c is done, b and d are ours now
    # Once a's lease expires, anyone may take it over.
    assert journal.claim_next("other", NOW_MS + 60_001, 30_000) == a


def test_exclude_and_release(journal):
    a, b = make_jobs(journal, 2)
    assert journal.claim_next("me", NOW_MS, 30_000) == a
    journal.release(a, "me")  # e.g. its deadline left it open
    assert journal.claim_next("me", NOW_MS, 30_000, exclude=[a]) == b
    assert journal.claim_next("me", NOW_MS, 30_000, exclude=[a, b]) is None
    assert journal.claim_next("me", NOW_MS, 30_000) == a


def test_a_claimed_job_is_acquired_by_its_claimer_and_its_sent_orders_recovered(journal):
    (a,) = make_jobs(journal, 1)
    journal.acquire(a, "dead", NOW_MS - 120_000, 60_000, NOW)
    journal.mark_sent(a, "dead", journal.orders(a)[:2], NOW, NOW_MS - 120_000, 60_000)
    assert journal.claim_next("me", NOW_MS, 30_000) == a
    with pytest.raises(LeaseHeld, match="held by a live runner on me"):
        journal.acquire(a, "third", NOW_MS, 30_000, NOW)
    # The claimer's acquire passes and turns what the dead runner left in flight into unknown.
    assert journal.acquire(a, "me", NOW_MS, 30_000, NOW) == 2
    assert sorted(o.state for o in journal.orders(a)) == ["pending", "unknown", "unknown"]
    assert journal.verify()[0]


def test_concurrent_claimers_each_get_a_different_job(url):
    # Eight runners with their own connections race for 24 jobs: every job is claimed exactly once.
    setup = Database(url)
    jobs = make_jobs(Journal(setup), 24, orders=1)
    setup.close()
    got: dict[str, list[str]] = {}
    start = threading.Barrier(8)

    def runner(k: int) -> None:
        db = Database(url)
        j = Journal(db)
        mine = got.setdefault(f"r{k}", [])
        start.wait()
        while (job := j.claim_next(f"r{k}", NOW_MS, 60_000)) is not None:
            mine.append(job)
        db.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(runner, range(8)))
    claimed = [j for mine in got.values() for j in mine]
    assert sorted(claimed) == sorted(jobs)  # all of them, none twice


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_skip_locked_passes_a_row_another_transaction_holds(pg_url):
    # PostgreSQL only: a row locked by another transaction (a runner in the middle of claiming or
    # finishing it) is skipped at once instead of waited for.
    db = Database(pg_url)
    j = Journal(db)
    a, b = make_jobs(j, 2)
    with psycopg.connect(_pg(pg_url)) as other:
        other.execute("select id from jobs where id = %s for update", (a,))  # held until this block ends
        t0 = time.perf_counter()
        assert j.claim_next("me", NOW_MS, 30_000) == b
        assert time.perf_counter() - t0 < 1.0
        assert j.claim_next("me", NOW_MS, 30_000) is None  # a is still locked; b is ours
    assert j.claim_next("me", NOW_MS, 30_000) == a
    db.close()


def _busy_writer(url: str, k: int, jobs: int) -> int:
    """A runner's write pattern on its own jobs: create, lease, write ahead, record with evidence."""
    db = Database(url)
    j = Journal(db)
    n = 0
    for i in range(jobs):
        job_id = make_jobs(j, 1, orders=4, prefix=f"w{k}-{i}")[0]
        j.acquire(job_id, f"w{k}", NOW_MS, 60_000, NOW)
        sent = j.mark_sent(job_id, f"w{k}", j.orders(job_id), NOW, NOW_MS, 60_000)
        ev = Evidence(
            "cancel", "DELETE", "/dapi/v1/batchOrders", "signature=***", None, 200, f"[{k},{i}]", 2, None, NOW
        )
        j.apply(job_id, [Change(r, "confirm", provenance="venue_response") for r in sent], NOW, ev)
        j.set_status(job_id, "done", NOW)
        n += 1 + 4 + 4 + 1
    db.close()
    return n


def test_the_chain_stays_verifiable_with_concurrent_writers_and_verifies_while_they_write(url):
    # Six writers append at once while a seventh connection verifies over and over: every verify
    # sees one consistent snapshot (head, evidence and events of one moment) and finds it intact.
    Database(url).close()
    stop = threading.Event()
    checks: list[tuple[bool, int, str | None]] = []

    def verifier() -> None:
        db = Database(url)
        j = Journal(db)
        while not stop.is_set():
            checks.append(j.verify())
        db.close()

    watcher = threading.Thread(target=verifier)
    watcher.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            written = sum(pool.map(lambda k: _busy_writer(url, k, 8), range(6)))
    finally:
        stop.set()
        watcher.join()
    db = Database(url)
    ok, n, problem = Journal(db).verify()
    assert (ok, problem) == (True, None) and n == written == 6 * 8 * 10
    assert Journal(db).head()[0] == n  # no gaps, no duplicates: seq 1..n
    db.close()
    bad = [c for c in checks if not c[0]]
    assert not bad, bad[:3]
    assert len(checks) >= 2


def test_a_live_runner_busy_reconciling_keeps_its_lease(url, fake, make_client):
    from tests.conftest import SYMBOLS, seed_open

    ids = seed_open(fake, BN, 5)
    fake.fault(BN, "cancel", "drop_after_apply")  # every order becomes unknown and must be queried...
    fake.fault(BN, "query", "delay", delay_ms=400, times=100)  # ...and each query takes 0.4 s: ~2 s in all
    busy = make_client(db=url, lease_ttl=1.0, workers=1)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(busy.cancel, BN, SYMBOLS[BN], order_ids=ids, deadline=10)
        time.sleep(1.5)  # past the 1 s lease, while the first runner is still querying
        db = Database(url)
        assert Journal(db).unfinished_job_ids(), "the first runner should still be working"
        taken = Journal(db).claim_next("second-runner", int(time.time() * 1000), 30_000)
        db.close()
        result = running.result()
    assert taken is None, "a second runner took over a job whose runner is alive"
    assert result.counts == {"cancelled": 5}
