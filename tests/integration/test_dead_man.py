"""The dead-man switch (``safecancel deadman`` / ``client.dead_man_switch``) on every venue, against the fake.

As the issue's "done when" reads, all five venues at once (each on a fake of its own, so that the
account-wide countdowns of BingX and HTX cannot touch another scenario's orders): 20 open orders, the
switch armed with a 10 s timeout, then the process SIGKILLed (alone, not its group) after 3 s -- within
timeout + 5 s every order is cancelled, and the journal records the firing and what was cancelled; or
SIGTERMed -- the switch is disarmed and the orders are still open 15 s later. A bot that keeps renewing
loses nothing to the switch; renewals survive a clock skew and a transient 503 within the fake's rate
limits.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from safecancel import Client, InputError, VenueConfig
from safecancel.deadman import GUARDIAN_RANGE_S, plan_arming
from safecancel.errors import LeaseHeld
from safecancel.testing import FakeVenue
from safecancel.venues import venue_class
from tests.integration._dead_man import (
    GUARDED,
    NATIVE,
    TIMEOUT,
    armed_line,
    fakes,
    guardian_gone,
    reader,
    seed,
    start_deadman,
    statuses,
    wait_until,
)
from tests.integration._harness import CREDS, SECRETS, SYMBOLS, VENUES


def test_sigkilled_deadman_takes_every_order_off_on_every_venue(tmp_path: Path) -> None:
    with fakes() as fake:
        ids = {v: seed(fake[v], v) for v in VENUES}
        started = {}
        procs = {}
        for v in VENUES:
            started[v] = time.monotonic()
            procs[v] = start_deadman(fake[v], v, tmp_path / f"{v}.db")
        armed = {v: armed_line(procs[v]) for v in VENUES}
        for v in VENUES:
            time.sleep(max(0.0, started[v] + 3.0 - time.monotonic()))
            os.kill(procs[v].pid, signal.SIGKILL)  # the process alone: its guardian lives in a session of its own
        killed = time.monotonic()
        for v in VENUES:
            procs[v].wait()
        late = {}
        for v in VENUES:
            left = TIMEOUT + 5 - (time.monotonic() - killed)
            took = wait_until(lambda v=v: set(statuses(fake[v], v, ids[v]).values()) == {"cancelled"}, max(0.1, left))
            late[v] = took
        assert all(t >= 0 for t in late.values()), {v: statuses(fake[v], v, ids[v]) for v in VENUES if late[v] < 0}
        for v in VENUES:
            assert guardian_gone(armed[v]["guardian_pid"]), f"{v}: the guardian is still running"
            with reader(tmp_path / f"{v}.db", v, fake[v]) as c:
                job = c.job(armed[v]["job_id"])
                triggers = [e.trigger for e in job.events]
                assert "arm" in triggers and "fire" in triggers, (v, triggers)
                assert job.status == "done", (v, job.status, job.attention)
                assert job.kind == "deadman"
                cancelled = {o.order_id for o in job.orders if o.state == "cancelled"}
                assert ids[v] <= cancelled, (v, ids[v] - cancelled)
                assert job.verified_empty_at is not None
                assert c.verify_journal()[0]
            if v in NATIVE:
                switches = fake[v].deadman(v)
                assert [s["state"] for s in switches] == ["fired"], switches
                # The venue's countdown cancelled them; the guardian asked and recorded the venue's word.
                assert ids[v] <= set(switches[0]["cancelled"])
                assert {o.provenance for o in job.orders} == {"venue_query"}


def test_sigtermed_deadman_disarms_and_the_orders_stay(tmp_path: Path) -> None:
    with fakes() as fake:
        ids = {v: seed(fake[v], v) for v in VENUES}
        procs = {v: start_deadman(fake[v], v, tmp_path / f"{v}.db") for v in VENUES}
        armed = {v: armed_line(procs[v]) for v in VENUES}
        time.sleep(3)
        for v in VENUES:
            procs[v].send_signal(signal.SIGTERM)
        outs = {v: procs[v].communicate(timeout=30) for v in VENUES}
        for v in VENUES:
            assert procs[v].returncode == 0, (v, outs[v])
            last = json.loads(outs[v][0].strip().splitlines()[-1])
            assert last["event"] == "disarmed", last
            assert guardian_gone(armed[v]["guardian_pid"], 10), f"{v}: the guardian outlived the disarm"
        time.sleep(TIMEOUT + 5)
        for v in VENUES:
            assert set(statuses(fake[v], v, ids[v]).values()) == {"open"}, v
            if v in NATIVE:
                assert [s["state"] for s in fake[v].deadman(v)] == ["disarmed"]
            with reader(tmp_path / f"{v}.db", v, fake[v]) as c:
                job = c.job(armed[v]["job_id"])
                triggers = [e.trigger for e in job.events]
                assert "disarm" in triggers and "fire" not in triggers, (v, triggers)
                assert job.status == "done" and not job.orders


def test_a_renewing_bot_loses_nothing_and_renewals_stay_within_the_rate_limit(tmp_path: Path) -> None:
    """Twice the timeout (the issue's 60 s run is ``tests/trials/dead_man_trials.py``), every venue at once,
    with the fake enforcing its rate limits, a clock skew and a transient 503 thrown at the renewals."""
    with fakes(enforce_rate_limits=True) as fake:
        ids = {v: seed(fake[v], v) for v in VENUES}
        switches = {}
        unhealthy: dict[str, list[str]] = {v: [] for v in VENUES}
        clients = {}
        for v in VENUES:
            clients[v] = reader(tmp_path / f"{v}.db", v, fake[v])
            switches[v] = (
                clients[v].dead_man_switch(v, SYMBOLS[v], timeout=TIMEOUT, on_unhealthy=unhealthy[v].append).arm()
            )
        time.sleep(2)
        for v in NATIVE:
            fake[v].fault(v, "countdown", "clock_skew", offset_ms=-30_000)
            fake[v].fault(v, "countdown", "status", status=503)
        time.sleep(2 * TIMEOUT)
        for v in VENUES:
            assert switches[v].state == "armed" and switches[v].healthy, (v, switches[v].last_error, unhealthy[v])
            switches[v].disarm()
            assert set(statuses(fake[v], v, ids[v]).values()) == {"open"}, v
            assert switches[v].renewals >= 2 * TIMEOUT / switches[v].arming.interval - 2
            clients[v].close()
        for v in NATIVE:
            calls = [r for r in fake[v].requests(v) if r["endpoint"] == "countdown"]
            assert calls and not any(r["rate_limited"] for r in calls), v
            assert [s["state"] for s in fake[v].deadman(v)] == ["disarmed"]


def test_a_bot_restarted_within_the_timeout_carries_its_switch_on(tmp_path: Path) -> None:
    """A bot SIGKILLed and started again before the timeout re-arms the same switch (as it would re-arm a
    venue's countdown): nothing fires. While its first life was alive, a second arming was refused."""
    venue = GUARDED[0]
    with FakeVenue() as fake:
        ids = seed(fake, venue)
        db = tmp_path / "j.db"
        first = start_deadman(fake, venue, db, timeout=6)
        armed = armed_line(first)
        with reader(db, venue, fake) as other:
            with pytest.raises(LeaseHeld):
                other.dead_man_switch(venue, SYMBOLS[venue], timeout=6).arm()
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        with reader(db, venue, fake) as second:
            with second.dead_man_switch(venue, SYMBOLS[venue], timeout=6) as sw:
                assert sw.job_id == armed["job_id"]
                assert guardian_gone(armed["guardian_pid"], 5), "the first life's guardian did not stand down"
                assert sw.guardian_pid != armed["guardian_pid"]
                time.sleep(8)
                assert set(statuses(fake, venue, ids).values()) == {"open"}
            triggers = [e.trigger for e in second.job(sw.job_id).events]
        assert "takeover" in triggers and "fire" not in triggers, triggers


def test_resume_fires_a_switch_whose_guardian_is_gone(tmp_path: Path) -> None:
    venue = GUARDED[0]
    with FakeVenue() as fake:
        ids = seed(fake, venue)
        db = tmp_path / "j.db"
        with reader(db, venue, fake) as bot:
            sw = bot.dead_man_switch(venue, SYMBOLS[venue], timeout=5).arm()
            os.kill(sw.guardian_pid, signal.SIGKILL)  # type: ignore[arg-type]
            sw.stop()
            # Not yet due: resume leaves an armed switch alone and does not even report it.
            assert bot.resume(deadline=5) == []
            time.sleep(6)
            results = bot.resume(deadline=30)
        assert [r.job_id for r in results] == [sw.job_id]
        assert results[0].status == "done"
        assert set(statuses(fake, venue, ids).values()) == {"cancelled"}


def test_switch_settings_are_checked_before_anything_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    with Client(
        str(db), venues=[VenueConfig(v, credentials=CREDS, base_url="http://127.0.0.1:9") for v in VENUES]
    ) as c:
        for v in NATIVE:
            lo, hi = venue_class(v).countdown_range_s
            with pytest.raises(InputError, match=str(hi + 1)):
                c.dead_man_switch(v, SYMBOLS[v], timeout=hi + 1)
        for v in GUARDED:
            with pytest.raises(InputError, match="guardian"):
                c.dead_man_switch(v, SYMBOLS[v], timeout=GUARDIAN_RANGE_S[1] + 1)
            with pytest.raises(InputError, match="no countdown"):
                c.dead_man_switch(v, SYMBOLS[v], timeout=10, mode="native")
        with pytest.raises(InputError, match="mode"):
            c.dead_man_switch(VENUES[0], SYMBOLS[VENUES[0]], timeout=10, mode="later")
        with pytest.raises(InputError, match="whole number"):
            c.dead_man_switch(VENUES[0], SYMBOLS[VENUES[0]], timeout="10")  # type: ignore[arg-type]
        with pytest.raises(InputError):
            c.dead_man_switch(VENUES[0], "not a symbol!", timeout=10)
    assert not db.exists()


def test_plan_arming_names_the_scope_the_venue_really_covers() -> None:
    for v in VENUES:
        cls = venue_class(v)
        arming = plan_arming(cls, SYMBOLS[v], TIMEOUT, "auto", True)
        if cls.countdown_scope == "symbol":
            assert arming.mode == "native" and arming.countdown_symbol == SYMBOLS[v] and not arming.widened
        elif cls.countdown_scope == "account":
            assert arming.mode == "native" and arming.countdown_symbol is None and arming.widened
            assert "account-wide" in arming.describe(v, SYMBOLS[v])
        else:
            assert arming.mode == "guardian"
        assert plan_arming(cls, SYMBOLS[v], TIMEOUT, "guardian", True).mode == "guardian"


def test_secrets_reach_the_guardian_on_a_pipe_only(tmp_path: Path) -> None:
    venue = GUARDED[0]
    with FakeVenue() as fake:
        seed(fake, venue)
        db = tmp_path / "j.db"
        with reader(db, venue, fake) as bot:
            with bot.dead_man_switch(venue, SYMBOLS[venue], timeout=5) as sw:
                pid = sw.guardian_pid
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().decode()
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read().decode()
            assert guardian_gone(pid, 10)
        for secret in SECRETS:
            assert secret not in argv and secret not in environ
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("j.db*"))
        for secret in SECRETS:
            assert secret.encode() not in raw


def test_htx_past_its_500_order_cap_the_guardian_cancels_the_rest(tmp_path: Path) -> None:
    venue = "htx"
    cap = venue_class(venue).countdown_cap
    assert cap == 500
    with FakeVenue() as fake:
        ids = {o["order_id"] for o in fake.seed(venue, SYMBOLS[venue], [{} for _ in range(cap + 20)])}
        with reader(tmp_path / "j.db", venue, fake) as bot:
            sw = bot.dead_man_switch(venue, SYMBOLS[venue], timeout=5).arm()
            sw.stop()  # the bot dies
            took = wait_until(lambda: set(statuses(fake, venue, ids).values()) == {"cancelled"}, 30)
            assert took >= 0, "the orders past the cap are still open"
            assert guardian_gone(sw.guardian_pid)  # type: ignore[arg-type]
            job = bot.job(sw.job_id)  # type: ignore[arg-type]
        assert len(fake.deadman(venue)[0]["cancelled"]) == cap  # the venue's countdown took 500 ...
        assert {o.order_id for o in job.orders if o.state == "cancelled"} == ids  # ... the guardian the rest
        assert job.status == "done" and job.verified_empty_at


def test_renewals_failing_for_the_whole_timeout_tell_the_bot_and_the_switch_fires(tmp_path: Path) -> None:
    venue = "htx"
    with FakeVenue() as fake:
        ids = seed(fake, venue)
        told: list[str] = []
        with reader(tmp_path / "j.db", venue, fake) as bot:
            sw = bot.dead_man_switch(venue, SYMBOLS[venue], timeout=5, on_unhealthy=told.append).arm()
            fake.fault(venue, "countdown", "status", status=503, times=10_000)  # the venue stops answering it
            assert wait_until(lambda: sw.state == "fired", 20) >= 0, (sw.state, told)
            assert not sw.healthy and told and "fires in" in told[0]
            assert wait_until(lambda: set(statuses(fake, venue, ids).values()) == {"cancelled"}, 10) >= 0
            assert guardian_gone(sw.guardian_pid)  # type: ignore[arg-type]
            job = bot.job(sw.job_id)  # type: ignore[arg-type]
            sw.disarm()  # nothing left to disarm: it fired
        triggers = [e.trigger for e in job.events]
        assert triggers.count("renew") >= 1 and "fire" in triggers and "disarm" not in triggers
        assert job.status == "done"


def test_a_bot_that_stopped_while_arming_leaves_nothing_that_fires(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Stored, never armed (the bot died between storing the switch and taking its lease): `resume` closes it
    without cancelling anything, and arming again starts a new switch."""
    from safecancel.store import Journal

    venue = GUARDED[0]
    with FakeVenue() as fake:
        ids = seed(fake, venue)
        db = tmp_path / "j.db"
        with reader(db, venue, fake) as bot:

            def die(*a: object, **k: object) -> None:
                raise KeyboardInterrupt  # the process dies here

            with monkeypatch.context() as m:
                m.setattr(Journal, "acquire", die)
                with pytest.raises(KeyboardInterrupt):
                    bot.dead_man_switch(venue, SYMBOLS[venue], timeout=5).arm()
            (stored,) = bot.history()
            assert stored.status == "open"
            (result,) = bot.resume(deadline=10)
            assert result.job_id == stored.job_id and result.status == "done"
            assert "fire" not in [e.trigger for e in bot.job(stored.job_id).events]
            with bot.dead_man_switch(venue, SYMBOLS[venue], timeout=5) as sw:
                assert sw.job_id != stored.job_id
        assert set(statuses(fake, venue, ids).values()) == {"open"}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--venue", "bingx", "--symbol", "BTC-USDT", "--timeout", "5"], "10-120 s, got 5"),
        (["--venue", "binance_coinm", "--timeout", "60"], "give a symbol"),
        (["--venue", "bitopro", "--symbol", "BTC_USDT", "--timeout", "30", "--no-guardian"], "guardian"),
        (["--venue", "bitget", "--symbol", "BTCUSDT", "--timeout", "30", "--mode", "native"], "no countdown"),
        (["--venue", "htx", "--symbol", "btc usdt", "--timeout", "30"], "btc usdt"),
    ],
)
def test_the_deadman_command_refuses_bad_settings_and_stores_nothing(
    tmp_path: Path, args: list[str], said: str
) -> None:
    from click.testing import CliRunner

    from safecancel.cli import cli

    db = tmp_path / "never.db"
    env = {f"SAFECANCEL_{v.upper()}_{k}": "x" for v in VENUES for k in ("API_KEY", "API_SECRET", "PASSPHRASE")}
    result = CliRunner().invoke(cli, ["deadman", *args, "--db", str(db)], env=env)
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not db.exists()
