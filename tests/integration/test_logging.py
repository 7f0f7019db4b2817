"""What a bot operator sees in the logs, against the loopback fake venue (real HTTP).

The named loggers (``safecancel.engine``, ``.transport``, ``.store``, ``.listing``, ``.pacing``,
``.killswitch``, ...): INFO for each run's start and end with counts, WARNING once per retry, backoff,
lease takeover, clock re-measurement and ``needs_attention`` -- one line per request, never one per
order of a chunk -- DEBUG for every request (secrets redacted) and every order's change. No record
ever carries a credential (``test_hostile_input`` scans every venue at DEBUG as well), and ``safecancel
-v`` prints nothing of alembic's (a new journal's migration is one line of ours).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from safecancel import Client, RetryPolicy
from safecancel.testing import FakeVenue
from tests.conftest import SYMBOLS, seed_open
from tests.integration._harness import SECRETS, run_cli, venue_env

BN = "binance_coinm"
SYM = SYMBOLS[BN]
# Short waits, whatever the venue asks: the logic is the same.
QUICK = RetryPolicy(base_delay=0.01, max_delay=0.1, max_retry_after=0.1, async_first_query=0.05)


def records(caplog: pytest.LogCaptureFixture, logger: str, level: int | None = None) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and (level is None or r.levelno == level)]


def messages(caplog: pytest.LogCaptureFixture, logger: str, level: int | None = None) -> list[str]:
    return [r.getMessage() for r in records(caplog, logger, level)]


def no_secret(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{secret!r} in {r.name}: {r.getMessage()}"
        for r in caplog.records
        for secret in SECRETS
        if secret in r.getMessage() + repr(r.args) + (r.exc_text or "")
    ]


def cancels(fake: FakeVenue, venue: str = BN) -> list[dict]:
    return [q for q in fake.requests(venue) if q["endpoint"] == "cancel"]


def test_a_rate_limited_run_says_each_retry_once_and_its_start_end_requests_and_changes(
    fake: FakeVenue, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="safecancel")
    ids = seed_open(fake, BN, 25)  # three chunks (10, 10, 5)
    fake.fault(BN, "cancel", "status", status=429, retry_after=1, times=3)
    r = make_client(retry=QUICK).cancel(BN, SYM, order_ids=ids)
    assert r.status == "done" and r.counts == {"cancelled": 25}

    sent = cancels(fake)
    retries = len(sent) - 3  # every cancel request beyond each chunk's first is a retry
    assert retries == 3
    warnings = messages(caplog, "safecancel.engine", logging.WARNING)
    limited = [m for m in warnings if "cancel (" in m and "rate limited" in m]
    assert len(limited) == retries, warnings  # one line per retried request, not one per order
    assert all(re.search(r"pausing binance_coinm cancels [\d.]+ s; sending again in [\d.]+ s", m) for m in limited)
    assert all("HTTP 429" in m for m in limited), limited
    assert len(warnings) == retries, warnings  # and nothing else warns on a run that went well otherwise

    infos = messages(caplog, "safecancel.engine", logging.INFO)
    assert any(f"job {r.job_id}: run started on {BN}: 25 orders (25 pending)" in m for m in infos), infos
    assert any(re.search(rf"job {r.job_id}: run ended done after [\d.]+ s: 25 cancelled", m) for m in infos), infos

    # DEBUG: one line per request the venue saw, path and status; and each order's changes.
    wire = [m for m in messages(caplog, "safecancel.transport", logging.DEBUG) if " -> " in m]
    assert len(wire) == len(fake.requests(BN)), wire
    assert sum(" cancel DELETE /dapi/v1/batchOrders?" in m and "-> HTTP 429" in m for m in wire) == retries
    assert all("signature=%2A%2A%2A" in m or "signature=" not in m for m in wire), wire
    changes = messages(caplog, "safecancel.store", logging.DEBUG)
    for i in ids:
        mine = [m for m in changes if f":order_id={i}:" in m + ":"]
        assert any("pending -> sent" in m for m in mine), mine
        assert any("sent -> cancelled" in m for m in mine), mine
    assert no_secret(caplog) == []


def test_failed_queries_are_one_warning_each_and_an_unclear_send_one_for_its_chunk(
    fake: FakeVenue, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="safecancel")
    ids = seed_open(fake, BN, 4)
    fake.fault(BN, "cancel", "drop_after_apply")  # applied, no reply: all four must be queried
    fake.fault(BN, "query", "status", status=503, times=3)
    r = make_client(retry=QUICK).cancel(BN, SYM, order_ids=ids)
    assert r.counts == {"cancelled": 4}

    warnings = messages(caplog, "safecancel.engine", logging.WARNING)
    unclear = [m for m in warnings if "cancel (4 orders) failed" in m]
    assert len(unclear) == 1 and "querying the orders" in unclear[0], warnings
    queries = [m for m in warnings if " query (order " in m]
    assert len(queries) == 3, warnings  # the three 503s, each a query asked again
    assert all("HTTP 503" in m and "asking again in" in m for m in queries), queries
    assert len([q for q in fake.requests(BN) if q["endpoint"] == "query"]) == 4 + 3
    assert no_secret(caplog) == []


def test_a_lease_takeover_is_one_warning_from_the_store(
    fake: FakeVenue, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    ids = seed_open(fake, BN, 3)
    fake.fault(BN, "cancel", "status", status=503, times=1000)  # never applied: the job stays open, pending
    client = make_client(retry=QUICK)
    r = client.cancel(BN, SYM, order_ids=ids, deadline=0.3)
    assert r.status == "open"
    fake.clear_faults()
    # A runner elsewhere took the job and died: its lease expired a minute ago.
    then = time.time() - 60
    client._journal.acquire(r.job_id, "elsewhere:4242:dead", int(then * 1000), 1000, then)
    caplog.clear()
    caplog.set_level(logging.INFO, logger="safecancel")
    (done,) = client.resume(r.job_id)
    assert done.status == "done"
    store = records(caplog, "safecancel.store", logging.WARNING)
    assert [x.getMessage() for x in store] == [
        f"job {r.job_id}: lease taken over from elsewhere:4242:dead by {client._owner} (its lease expired)"
    ]
    assert not records(caplog, "safecancel.store", logging.DEBUG)  # at INFO, no order change is said


def test_needs_attention_is_one_warning_saying_why(
    fake: FakeVenue, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="safecancel")
    ids = seed_open(fake, BN, 2)
    fake.fault(BN, "cancel", "status", status=404, times=1000)  # a wrong base URL, as the venue says it
    client = make_client(retry=QUICK)
    with pytest.raises(Exception, match="refused"):
        client.cancel(BN, SYM, order_ids=ids)
    attention = messages(caplog, "safecancel.store", logging.WARNING)
    assert len(attention) == 1 and "needs attention" in attention[0] and "base URL" in attention[0], attention
    refusals = [m for m in messages(caplog, "safecancel.engine", logging.WARNING) if "refused as a whole" in m]
    assert len(refusals) == len(cancels(fake)) == 3  # max_refusals: one line per refused request


def test_a_kill_switch_says_when_it_starts_each_sweep_and_when_it_stops(
    fake: FakeVenue, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="safecancel")
    seed_open(fake, BN, 3)
    r = make_client(retry=QUICK).cancel_all(BN, SYM)
    assert r.status == "done"
    said = messages(caplog, "safecancel.killswitch", logging.INFO)
    assert said[0] == f"job {r.job_id}: kill switch on {BN}, {SYM}: sweeping"
    assert any("sweep 1: 3 listed, 3 in scope (3 new)" in m for m in said), said
    assert re.fullmatch(
        rf"job {r.job_id}: kill switch stopped after \d+ sweep\(s\): the scope is listed empty", said[-1]
    )


@pytest.mark.parametrize("journal", ["existing", "new"])
def test_safecancel_v_prints_one_line_per_retry_and_nothing_of_alembic(
    fake: FakeVenue, tmp_path: Path, journal: str
) -> None:
    db = tmp_path / "cli.db"
    if journal == "existing":
        with Client(str(db), environ={}) as c:  # the journal exists and is current before the command runs
            c.history()
    fake.seed(BN, SYM, [{"order_id": "7300"}, {"order_id": "7301"}])
    fake.fault(BN, "cancel", "status", status=429, times=2)
    res = run_cli(
        ["-v", "cancel", "--venue", BN, "--symbol", SYM, "--ids", "7300,7301", "--json"], venue_env(fake.url, db)
    )
    assert res.returncode == 0, res.stderr[-800:]
    lines = res.stderr.splitlines()
    retried = [line for line in lines if "WARNING safecancel.engine" in line and "rate limited" in line]
    assert len(retried) == 2 == len(cancels(fake)) - 1, res.stderr
    assert not [line for line in lines if "alembic" in line or "Context impl" in line], res.stderr
    # A new journal is created and migrated: our one line says so, alembic's own stay quiet at -v.
    migrating = [line for line in lines if "INFO safecancel.store" in line and "migrating the journal" in line]
    assert len(migrating) == (1 if journal == "new" else 0), res.stderr
    assert any("INFO safecancel.engine" in line and "run ended done" in line for line in lines), res.stderr
    assert not [line for line in lines if " DEBUG " in line], res.stderr  # -v is INFO; -vv adds DEBUG
    assert [f"{s!r}" for s in SECRETS if s in res.stdout + res.stderr] == []
