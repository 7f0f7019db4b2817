"""A fleet on one PostgreSQL journal: four runner processes resume forty jobs against the fake venue.

The jobs are left the way real bots leave them:
- 26 were persisted and never sent (a bot stopped right after ``create_job``);
- 7 were written ahead as ``sent`` by a runner that then died before the request left; its lease
  has expired, so the fleet must take them over, query, find the orders open, and send once;
- 7 were sent and cancelled at the venue, but the replies were lost and the venue stayed down
  until the deadline, so the orders are ``unknown``: the fleet must settle them by query, not resend.
Every order must end ``cancelled`` with exactly one cancel request at the venue, and every job must
be finished exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from safecancel import Client, VenueConfig
from safecancel.model import OrderRef
from safecancel.store import Database, Journal
from tests.conftest import CREDS, FAST, SYMBOLS

BN = "binance_coinm"
SYM = SYMBOLS[BN]
RUNNER = Path(__file__).with_name("fleet_runner.py")
ROOT = Path(__file__).resolve().parents[2]
PER_JOB = 5


def _ids(job: int) -> list[str]:
    return [str(100_000 + job * 100 + k) for k in range(PER_JOB)]


@pytest.fixture(scope="module")
def fleet(pg_cluster, fake_server):
    """Set up 40 unfinished jobs, run four runner processes at once, and collect what happened."""
    fake = fake_server
    fake.reset()
    url = pg_cluster.create_database("fleet", template=pg_cluster.template)
    for job in range(40):
        fake.seed(BN, SYM, [{"order_id": i, "status": "open"} for i in _ids(job)])

    # Jobs 33-39: sent and applied at the venue, replies lost, venue down past the deadline (3 s: the
    # deadline is kept inside a pass, and seven jobs at once must all get their sends out first).
    fake.fault(BN, "cancel", "drop_after_apply", times=7)
    fake.fault(BN, "query", "status", status=503, times=100_000)
    bn = VenueConfig(BN, credentials=CREDS, base_url=fake.url)
    bot = Client(url, venues=[bn], retry=FAST, environ={}, owner="crashed-bot")
    lost = bot.cancel_many(
        [{"venue": BN, "symbol": SYM, "order_ids": _ids(j), "key": f"job-{j}"} for j in range(33, 40)], deadline=3
    )
    bot.close()
    assert all(r.status == "open" and {o.state for o in r.orders} == {"unknown"} for r in lost)
    fake.clear_faults()

    db = Database(url)
    journal = Journal(db)
    now = time.time()  # leases are compared with the runners' real clocks
    for j in range(33):
        refs = [OrderRef(SYM, i) for i in _ids(j)]
        journal.create_job(
            job_id=f"job{j:02d}", key=f"job-{j}", venue=BN, account="default", refs=refs, now=now - 600 + j
        )
    # Jobs 26-32: a runner wrote them ahead as sent, then died; its lease ran out a minute ago.
    then_ms = int(now * 1000) - 90_000
    for j in range(26, 33):
        journal.acquire(f"job{j:02d}", "dead-host:1", then_ms, 30_000, now - 90)
        journal.mark_sent(f"job{j:02d}", "dead-host:1", journal.orders(f"job{j:02d}"), now - 90, then_ms, 30_000)
    before = {jid: journal.counts(jid) for jid in journal.unfinished_job_ids()}
    assert len(before) == 40
    requests_before = len([r for r in fake.requests(BN) if r["endpoint"] == "cancel"])

    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(RUNNER), url, fake.url, f"host-{k}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for k in range(4)
    ]
    for p in procs:  # all four have opened the journal before any starts resuming
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-2000:] for _, err in outs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        status_events = Counter(
            jid for (jid,) in con.execute("select job_id from events where trigger = 'status' and note like '%-> done'")
        )
        sends = Counter(
            o
            for (o,) in con.execute(
                "select o.order_id from events e join orders o on o.id = e.order_pk where e.trigger = 'send'"
            )
        )
        confirms = Counter(
            o
            for (o,) in con.execute(
                "select o.order_id from events e join orders o on o.id = e.order_pk where e.trigger = 'confirm'"
            )
        )
    result = {
        "before": before,
        "reports": reports,
        "jobs": {j.job_id: j for j in journal.history()},
        "ledger": {o["order_id"]: o for o in fake.orders(BN)},
        "cancel_requests": len([r for r in fake.requests(BN) if r["endpoint"] == "cancel"]) - requests_before,
        "status_events": status_events,
        "sends": sends,
        "confirms": confirms,
        "verify": journal.verify(),
        "lost_ids": {r.job_id for r in lost},
    }
    db.close()
    fake.reset()
    return result


def test_every_job_is_finished_exactly_once_and_every_order_cancelled_once(fleet):
    assert Counter(tuple(sorted(c)) for c in fleet["before"].values()) == {
        ("pending",): 26,
        ("sent",): 7,
        ("unknown",): 7,
    }
    jobs = fleet["jobs"]
    assert len(jobs) == 40
    assert all(j.status == "done" and dict(j.counts) == {"cancelled": PER_JOB} for j in jobs.values()), [
        (j.job_id, j.status, j.counts) for j in jobs.values() if j.status != "done"
    ]
    # Finished once: one "open -> done" per job in the journal, whoever ran it.
    assert set(fleet["status_events"]) == set(jobs) and set(fleet["status_events"].values()) == {1}
    # The venue's own ledger: every order cancelled, by exactly one cancel request.
    ledger = fleet["ledger"]
    assert len(ledger) == 40 * PER_JOB
    assert {o["status"] for o in ledger.values()} == {"cancelled"}
    assert Counter(o["cancel_requests"] for o in ledger.values()) == {1: 40 * PER_JOB}
    # The journal agrees: the 35 never-applied jobs were sent once by the fleet (the 7 dead runner's
    # "sends" never left, so those orders show two send events), the 7 lost-reply jobs were
    # settled by query and not sent again; each order confirmed once.
    assert set(fleet["confirms"].values()) == {1} and len(fleet["confirms"]) == 40 * PER_JOB
    lost_orders = {i for j in range(33, 40) for i in _ids(j)}
    dead_orders = {i for j in range(26, 33) for i in _ids(j)}
    assert all(fleet["sends"][i] == 1 for i in lost_orders)
    assert all(fleet["sends"][i] == 2 for i in dead_orders)
    assert all(fleet["sends"][i] == 1 for i in set(ledger) - lost_orders - dead_orders)
    assert fleet["verify"] == (True, fleet["verify"][1], None)


def test_the_runners_split_the_jobs_between_them(fleet):
    ran = [job_id for r in fleet["reports"] for job_id in r["ran"]]
    assert sorted(ran) == sorted(fleet["jobs"]), "every job was worked on by exactly one runner"
    busy = [r["runner"] for r in fleet["reports"] if r["ran"]]
    assert len(busy) >= 2, fleet["reports"]  # they started together: the work was shared
