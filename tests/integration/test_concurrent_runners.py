"""Several runners on one journal: OS processes resuming the same database at once, a runner that dies
holding a lease, runners that take each other's leases while both are alive, and threads of one
process sharing a client (and so its rate limits).

The invariant under all of it: the same (order, attempt) is never written ahead -- and so never sent --
twice, every cancel that reaches the venue was journaled first, and the jobs end as the venue says.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from safecancel import Client
from safecancel.testing import FakeVenue
from tests.integration._harness import (
    PYTHON,
    ROOT,
    SYMBOLS,
    VENUES,
    client_for,
    concurrent_resume_trial,
    fault_reads,
    jobs_in,
    judge,
    opened,
    send_events,
    sigkill,
    spawn_cancel_child,
    venue_env,
    wait_for_lease_expiry,
)

BN = "binance_coinm"


@pytest.fixture(scope="module")
def slow_fake() -> Iterator[FakeVenue]:
    # Latency makes runs long enough to overlap; its own server, so the session fake stays fast.
    with FakeVenue(latency_ms=20, async_delay_ms=30) as fv:
        yield fv


@pytest.fixture
def venue(slow_fake: FakeVenue) -> Iterator[FakeVenue]:
    slow_fake.reset()
    yield slow_fake
    slow_fake.reset()


def test_two_processes_resuming_one_database_at_once_never_send_an_order_twice(
    venue: FakeVenue, tmp_path: Path
) -> None:
    # (tests/trials/crash_trials.py --concurrency N runs more of these, with more runners.)
    result = concurrent_resume_trial(venue, tmp_path, runners=2, per_job=20, tag="conc")
    assert result.problems == []
    assert len(result.jobs) == len(VENUES) and all(j.status == "done" for j in result.jobs)
    assert all(j.counts == {"cancelled": 20} for j in result.jobs)
    # A runner that finds a job held by the other names it (6) or reports it unfinished (3); it never crashes.
    assert set(result.exit_codes) <= {0, 3, 6}


# Resumes in a loop until nothing is left, taking the lease over whenever the other runner's lease
# has expired (the lease is far shorter than the work), and carrying on when its own lease is taken.
LOOP_RESUME = textwrap.dedent(
    """
    import json, sys, time
    from safecancel import Client, RetryPolicy, SafeCancelError
    spec = json.loads(sys.argv[1])
    policy = RetryPolicy(base_delay=0.01, max_delay=0.2, async_first_query=0.05)
    taken_from_me = 0
    with Client(lease_ttl=spec["lease_ttl"], workers=spec["workers"], retry=policy) as client:
        end = time.monotonic() + spec["budget"]
        while time.monotonic() < end:
            try:
                results = client.resume(deadline=5)
            except SafeCancelError:  # ConcurrentUpdate: the other runner took the lease
                taken_from_me += 1
                continue
            if all(r.status == "done" for r in results):
                break
            time.sleep(0.01)
    print(json.dumps({"taken_from_me": taken_from_me}), flush=True)
    """
)


def test_runners_stealing_expired_leases_from_each_other_never_send_the_same_attempt_twice(
    venue: FakeVenue, tmp_path: Path
) -> None:
    db = tmp_path / "steal.db"
    ids = [str(30_000 + i) for i in range(40)]
    venue.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    # Every cancel dropped before it applies and every query failing: all 40 orders end `unknown`
    # while still open at the venue, so the runners must query, re-send and query again.
    venue.fault(BN, "cancel", "drop_before_apply", times=100_000)
    fault_reads(venue, BN, status=503, times=100_000)
    with client_for(venue.url, db) as c:
        first = c.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=0.4)
        # On a loaded machine the short deadline can pass before every chunk went out (seen once: all
        # 40 still pending). Sent orders stay `unknown` (their queries fail), so resuming until nothing
        # is pending reaches the same starting point however slow the machine is.
        for _ in range(50):
            if first.counts.get("pending", 0) == 0:
                break
            (first,) = c.resume(first.job_id, deadline=0.4)
    assert first.counts == {"unknown": 40}
    venue.clear_faults()
    env = venue_env(venue.url, db)
    spec = json.dumps({"lease_ttl": 0.15, "workers": 1, "budget": 60})
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", LOOP_RESUME, spec],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-500:] for _, e in outs]
    taken = sum(json.loads(o.strip().splitlines()[-1])["taken_from_me"] for o, _ in outs)
    (job,) = jobs_in(db)
    check = judge(BN, ids, [job], venue.orders(BN))
    assert check.problems == []  # includes: no (order, attempt) written ahead twice
    assert job.counts == {"cancelled": 40}
    # How often a runner found its lease taken (a reconcile batch of 40 queries outlasts the 0.15 s
    # lease between renewals); printed, not asserted: it depends on timing.
    print(f"\nleases lost mid-run: {taken}; most cancels on one order: {check.max_cancel_requests}")


def test_a_dead_runner_on_this_host_is_taken_over_at_once_one_elsewhere_after_expiry(
    venue: FakeVenue, tmp_path: Path
) -> None:
    db = tmp_path / "dead.db"
    ids = [str(40_000 + i) for i in range(30)]
    venue.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    env = venue_env(venue.url, db)
    child = spawn_cancel_child(
        env,
        {
            "venue": BN,
            "symbol": SYMBOLS[BN],
            "ids": ids,
            "key": "dead-runner",
            "batch": 2,
            "workers": 1,
            "lease_ttl": 30.0,
            "deadline": 30.0,
        },
    )
    t0 = time.monotonic()
    while not any(r["endpoint"] == "cancel" for r in venue.requests(BN)):
        assert child.poll() is None and time.monotonic() - t0 < 20, "the child never sent a cancel"
        time.sleep(0.005)
    time.sleep(0.05)  # a few of its 15 cancels out, most still to go
    assert sigkill(child)
    child.communicate()
    time.sleep(0.1)  # let its last request land at the venue
    with client_for(venue.url, db, lease_ttl=2.0) as c:
        (resumed,) = c.resume(deadline=20)  # no waiting: its process is provably gone
        done = c.job(resumed.job_id)  # with its events (cancel and resume return results without them)
    assert done.status == "done" and done.counts == {"cancelled": 30}
    assert [e.trigger for e in done.events].count("takeover") == 1
    check = judge(BN, ids, [done], venue.orders(BN))
    assert check.problems == []
    # Orders the dead runner left in flight were queried before anything was sent again.
    recovered = [e for e in done.events if e.trigger == "lose" and e.note and "lease was taken" in e.note]
    for e in recovered:
        later = [x.trigger for x in done.events if x.order == e.order and x.seq > e.seq]
        assert later and later[0] in ("confirm", "requeue", "query"), (e.order, later)

    # A runner on another host cannot be proven dead from here: its lease is waited out.
    more = [str(41_000 + i) for i in range(3)]
    venue.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in more])
    with client_for(venue.url, db, lease_ttl=1.0, owner="other-host:4242:cafe0000") as elsewhere:
        venue.fault(BN, "cancel", "drop_before_apply", times=100)
        job = elsewhere.cancel(BN, SYMBOLS[BN], order_ids=more, deadline=0.3)
        venue.clear_faults()
    # Leave its lease live, as a runner that vanished with its host would.
    from safecancel.store import Database, Journal

    jdb = Database(str(db))
    Journal(jdb).acquire(job.job_id, "other-host:4242:cafe0000", int(time.time() * 1000), 1000, time.time())
    jdb.close()
    seen = len(venue.requests(BN))
    with client_for(venue.url, db, lease_ttl=2.0) as c:
        (held,) = c.resume(deadline=5)
        assert held.held_by and "other-host (pid 4242)" in held.held_by
        assert len(venue.requests(BN)) == seen
        assert wait_for_lease_expiry(db) > 0
        (resumed,) = c.resume(deadline=20)
    assert resumed.status == "done" and resumed.counts == {"cancelled": 3}


def test_threads_of_one_process_share_the_rate_limit_of_a_venue_and_key(make_client, fake) -> None:
    # BitoPro allows 2 cancels a second (burst 2). Two jobs of 25 orders go out as 3 requests each;
    # if the threads shared nothing, all 6 would go out at once.
    venue_name = "bitopro"
    a = [str(1000 + i) for i in range(25)]
    b = [str(2000 + i) for i in range(25)]
    fake.seed(venue_name, SYMBOLS[venue_name], [{"order_id": i} for i in a + b])
    client = opened(make_client())
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str, ids: list[str]) -> None:
        barrier.wait()
        try:
            results[name] = client.cancel(venue_name, SYMBOLS[venue_name], order_ids=ids).counts
        except Exception as exc:
            results[name] = exc

    threads = [threading.Thread(target=run, args=(n, ids)) for n, ids in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": {"cancelled": 25}, "b": {"cancelled": 25}}
    times = sorted(r["time"] for r in fake.requests(venue_name) if r["endpoint"] == "cancel")
    assert len(times) == 6
    # A token bucket of rate 2/s and burst 2 lets n requests span no less than (n - 2) / 2 seconds.
    assert times[-1] - times[0] >= (6 - 2) / 2 - 0.1


# -- bugs found here, all fixed since: kept as regression tests ---------------------------------------


# Found by this file and fixed in engine.py / journal.py: the lease was renewed only when a chunk was
# marked sent, and renew() refused an expired lease nobody else had taken, so a lone runner querying
# many unknown orders for longer than lease_ttl died with ConcurrentUpdate.
def test_a_lone_runner_whose_queries_outlast_its_lease_keeps_going(venue: FakeVenue, tmp_path: Path) -> None:
    db = tmp_path / "lone.db"
    ids = [str(50_000 + i) for i in range(10)]
    venue.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    venue.fault(BN, "cancel", "drop_before_apply")
    fault_reads(venue, BN, status=500, times=100_000)
    with client_for(venue.url, db) as c:
        assert c.cancel(BN, SYMBOLS[BN], order_ids=ids, deadline=2).counts == {"unknown": 10}
    venue.clear_faults()
    # Ten queries one at a time at 20 ms latency take longer than the 0.1 s lease; no other runner exists.
    with client_for(venue.url, db, lease_ttl=0.1, workers=1) as c:
        (done,) = c.resume(deadline=20)  # was: ConcurrentUpdate "lease ... was lost"
    assert done.counts == {"cancelled": 10}


# Found by this file and fixed in store/db.py (alembic's migration context is process-wide, so two
# journals migrated at once on two threads ran each other's steps and could be left half-migrated).
def test_two_journals_opened_at_once_in_one_process_both_work(tmp_path: Path) -> None:
    errors: list[str] = []
    for attempt in range(5):
        paths = [tmp_path / f"a{attempt}-{i}.db" for i in range(4)]
        clients = [Client(str(p), environ={}) for p in paths]
        barrier = threading.Barrier(len(clients))

        def first_use(c: Client, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                c.history()
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=first_use, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in clients:
            c.close()
        for p in paths:  # and every journal must still open afterwards
            try:
                with Client(str(p), environ={}) as again:
                    again.history()
            except Exception as exc:
                errors.append(f"reopen {p.name}: {exc}")
    assert errors == []


def test_threads_making_the_first_call_on_one_client_at_once(tmp_path: Path) -> None:
    errors: list[str] = []
    # Each attempt hits the race 10-70% of the time (measured, depending on load); the loop stops at
    # the first error, so today it fails within a few attempts.
    for attempt in range(60):
        if errors:
            break
        client = Client(str(tmp_path / f"first-{attempt}.db"), environ={})
        barrier = threading.Barrier(16)

        def first_use(client: Client = client, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                client.history()
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=first_use) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.close()
    assert errors == []


def test_send_events_are_unique_per_order_and_attempt_in_a_normal_run(make_client, fake) -> None:
    # The uniqueness check used above, on a run where re-sends certainly happen (drop before apply).
    ids = [str(60_000 + i) for i in range(6)]
    fake.seed(BN, SYMBOLS[BN], [{"order_id": i} for i in ids])
    fake.fault(BN, "cancel", "drop_before_apply")
    client = make_client()
    r = client.job(client.cancel(BN, SYMBOLS[BN], order_ids=ids).job_id)
    sends = send_events(r)
    assert set(sends.values()) == {1}
    assert {attempt for _, attempt in sends} == {1, 2}  # sent, lost, found open, sent again
