"""Keeps the benchmark script (``tests/benchmarks/mass_cancel.py``) from rotting: each section runs end
to end with tiny N (the deadline section with a short deadline), the documented bound adds up as its
docstring says, and the fake's per-endpoint rate budgets the mass-cancel bound relies on hold.

Timings are not asserted (they mean nothing at this size); what is asserted is that every contender
ran, cancelled everything, and that the table can be printed.
"""

from __future__ import annotations

import time

import pytest
import requests

from safecancel.model import HttpResponse, OrderRef
from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from safecancel.venues.bingx import BingX
from tests.benchmarks import mass_cancel as bench


def test_row_verdicts_follow_the_direction_of_the_target() -> None:
    assert bench.Row("t", 1.0, "s", target=2.0).verdict == "ok"
    assert bench.Row("t", 3.0, "s", target=2.0).verdict == "MISSED"
    assert bench.Row("t", 3.0, "x", target=5.0, higher_is_better=True).verdict == "MISSED"
    assert bench.Row("t", 6.0, "x", target=5.0, higher_is_better=True).ratio == 1.2
    assert bench.Row("t", None, "s", target=1.0).verdict == "n/a"
    assert bench.Row("t", 1.0, "s").verdict == ""


def test_overhead_section_measures_every_contender_and_profiles() -> None:
    rows, report = bench.overhead(40, repeats=1, concurrent=(4,), profile=True)
    assert [r.case for r in rows] == [
        "overhead: the fake's own handler, per request",
        "overhead: bare requests loop (40 orders)",
        "overhead: safecancel workers=1 (fsync on)",
        "overhead: safecancel workers=4 (concurrent)",
    ]
    assert all(r.measured and r.measured > 0 for r in rows)
    assert rows[2].target == bench.OVERHEAD_MAX_RATIO * rows[1].measured
    assert "cumulative" in report and "client.py" in report
    assert "overhead: bare requests loop" in bench.render(rows)


def test_mass_section_cancels_everything_on_every_venue() -> None:
    n = 10
    rows = bench.mass_cancel(n, latency_ms=5, with_ccxt=True)
    by_case = {r.case: r for r in rows}
    for venue in bench.VENUES:
        row = by_case[f"mass: {venue}"]
        assert f"{n}/{n} cancelled (ledger {n})" in row.note, row
    overall = by_case[f"mass: safecancel, {len(bench.VENUES)} venues x {n} at once"]
    assert overall.measured and overall.target
    # With ccxt installed the comparison ran; without it the rows say why instead of failing.
    speedup = [r for r in rows if r.case.startswith("mass: speedup")]
    assert speedup and all(r.measured is not None or r.note for r in speedup)


def test_confirm_section_confirms_every_order_on_each_asynchronous_venue() -> None:
    n = 60
    rows = bench.confirm(n, latency_ms=5, with_ccxt=True)
    by_case = {r.case: r for r in rows}
    assert bench.ASYNC_VENUES
    for venue in bench.ASYNC_VENUES:
        assert f"{n}/{n} confirmed (ledger {n})" in by_case[f"confirm: {venue}, {n} orders"].note
        reads = by_case[f"confirm: {venue}, query + listing requests"]
        assert reads.measured is not None and reads.target == bench.CONFIRM_MAX_READS
        ccxt_row = by_case[f"confirm: ccxt {venue} cancel_orders"]
        assert ccxt_row.measured is not None or ccxt_row.note


def test_scale_section_runs_its_cases_in_child_processes() -> None:
    rows = bench.scale(persist_n=500, finished_n=3000)
    by_case = {r.case.split(" (")[0]: r for r in rows}
    assert by_case["scale: persist a 500-order job"].measured > 0
    assert 10 < by_case["scale: peak RSS of that run"].measured < 10_000
    # Three unfinished jobs, each with six orders still pending, sent or unknown.
    assert "18 orders pending/sent/unknown" in by_case["scale: resume scan"].note
    assert by_case["scale: unfinished_job_ids()"].measured > 0


def test_documented_bound_adds_each_endpoint_at_its_own_rate_and_one_round_trip() -> None:
    bingx = venue_class("bingx")
    cancels, queries, lists = 4, 10, 3
    bound, how = bench.documented_bound("bingx", {"cancel": cancels}, 0.05)
    assert bound == pytest.approx(cancels / bingx.cancel_rate.per_second + 0.05)
    assert "4 cancel at" in how and "50 ms RTT" in how
    # Confirming requests add their own time at their own rates; the server clock and refusals do not.
    sent = {"cancel": cancels, "query": queries, "list_open": lists, "time": 2, "rate_limited": 7}
    full, _ = bench.documented_bound("bingx", sent, 0.05)
    assert full - bound == pytest.approx(queries / bingx.query_rate.per_second + lists / bingx.list_rate.per_second)
    log = [{"endpoint": "cancel", "rate_limited": False}] * 2 + [{"endpoint": "cancel", "rate_limited": True}]
    assert bench.sent_requests(log) == {"cancel": 2, "rate_limited": 1}


def test_bound_section_confirms_every_order_by_the_venues_word() -> None:
    n = 20
    venues = (bench.BN, bench.ASYNC_VENUES[0])  # one synchronous venue, one that only accepts cancels
    rows = bench.rate_bound(n, latency_ms=5, with_ccxt=False, venues=venues)
    by_case = {r.case: r for r in rows}
    for venue in venues:
        timed = by_case[f"bound: {venue}, {n} orders"]
        assert timed.measured and timed.target and "cancel at" in timed.note
        word = by_case[f"bound: {venue}, confirmed by the venue's word"]
        assert word.measured == n and word.verdict == "ok" and "job done" in word.note, word
        assert by_case[f"bound: ccxt {venue} cancel_orders (unconfirmed)"].note == "skipped (--no-ccxt)"


def test_resume_section_finishes_a_job_left_sent_by_a_dead_runner() -> None:
    n = 30
    rows = bench.resume(n, latency_ms=5)
    by_case = {r.case.split(",")[0]: r for r in rows}
    assert by_case["resume: confirmed by the venue's word"].measured == n
    assert by_case["resume: 30 sent orders"].target is not None
    unpaced = by_case["resume: unpaced"]
    assert unpaced.measured and unpaced.measured > 0 and f"{n}/{n} confirmed" in unpaced.note
    assert f"{n} query" in unpaced.note  # listings off: one query per order


def test_sent_job_leaves_every_order_sent_under_an_expired_lease(tmp_path) -> None:
    ids = bench.order_ids(12)
    with FakeVenue() as fake:
        bench.seed(fake, bench.BN, ids)
        db = str(tmp_path / "sent.db")
        job_id = bench.sent_job(fake, db, bench.BN, ids)
        assert not [r for r in fake.requests(bench.BN) if r["endpoint"] == "cancel"]  # nothing was sent
        with bench.make_client(fake, db, [bench.BN]) as client:
            assert client.job(job_id).counts == {"sent": 12}
            (result,) = client.resume(job_id)
    assert result.status == "done" and result.counts == {"cancelled": 12}


def test_deadline_section_returns_each_job_open_or_done() -> None:
    rows = bench.deadline(60, 60, latency_ms=50, deadline_s=0.3)
    assert [r.case for r in rows] == [
        "deadline: cancel(deadline=0.3), 60 orders",
        "deadline: resume(deadline=0.3), 60 sent",
        "deadline: jobs left open (resumable) or done",
    ]
    assert all(r.measured and r.measured > 0 for r in rows[:2])
    assert rows[0].target == pytest.approx(0.3 + bench.DEADLINE_GRACE_S)
    assert rows[2].measured == 2, rows[2].note


def test_startup_section_runs_each_command_in_a_fresh_process() -> None:
    rows = bench.startup(runs=1, warm_up=False)  # the one-order cancel must exit 0, or this raises
    assert [r.target for r in rows] == [bench.IMPORT_MAX_S, bench.HELP_MAX_S, None, None]
    assert all(r.measured and r.measured > 0 for r in rows)


def test_audit_section_builds_exports_and_verifies_a_journal() -> None:
    audit_rows = bench.audit(800)
    assert [r.unit for r in audit_rows] == ["GB", "s"]
    assert all(r.measured and r.measured > 0 and "scaled to 1M" in r.note for r in audit_rows)


def test_fake_budgets_each_endpoint_on_its_own_and_answers_like_bingx() -> None:
    """The bound assumes what the docs say: BingX cancels at 2/s but queries at 10/s, separately."""
    creds = bench.CREDS
    with FakeVenue(enforce_rate_limits=True) as fake, requests.Session() as http:
        fake.seed("bingx", "BTC-USDT", [{"order_id": str(i)} for i in range(1, 4)])
        adapter = BingX(fake.url)

        def send(req):
            r = http.request(req.method, fake.url + req.target, data=req.body, headers=dict(req.headers))
            return HttpResponse(r.status_code, r.content, {k.lower(): v for k, v in r.headers.items()}, 1.0)

        now = int(time.time() * 1000)
        cancels = [send(adapter.build_cancel([OrderRef("BTC-USDT", order_id=str(i))], creds, now)) for i in (1, 2, 3)]
        queries = [send(adapter.build_query(OrderRef("BTC-USDT", order_id="1"), creds, now)) for _ in range(5)]
        third = adapter.parse_cancel([OrderRef("BTC-USDT", order_id="3")], cancels[2])
        assert third.code == "100410" and third.http_status == 200 and 0 < third.retry_after <= 1.0
        assert all(q.status == 200 and b"100410" not in q.body for q in queries)
        assert [r["rate_limited"] for r in fake.requests("bingx")] == [False, False, True] + [False] * 5
