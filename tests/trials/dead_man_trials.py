"""Dead-man switch trials: long renewals, and SIGKILLs at random moments, on every venue at once.

    python tests/trials/dead_man_trials.py --seconds 60 --kills 10 --seed 1

``--seconds``: a bot on each venue (each on a fake of its own, rate limits enforced) holds
``client.dead_man_switch(..., timeout=10)`` for that long (the issue's 60 s) while a clock skew and a
transient 503 are thrown at the renewals; afterwards every one of its 20 orders must still be open and the
switch disarmed. ``--kills``: rounds of ``safecancel deadman --timeout 10`` on every venue, SIGKILLed (the
process alone) at a seeded moment between 0.2 s and 8 s after it said ``armed``; within timeout + 5 s
every order must be cancelled, the job ``done`` with a ``fire`` event, the guardian gone and the journal
verifying. Prints one line per venue and round; exits 1 if any found a problem.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration._dead_man import (  # noqa: E402 (after the sys.path line above)
    NATIVE,
    TIMEOUT,
    armed_line,
    fakes,
    guardian_gone,
    reader,
    seed,
    start_deadman,
    statuses,
)
from tests.integration._harness import SYMBOLS, VENUES  # noqa: E402


def renewing(seconds: float, workdir: Path) -> list[str]:
    problems: list[str] = []
    with fakes(enforce_rate_limits=True) as fake:
        ids = {v: seed(fake[v], v) for v in VENUES}
        clients = {v: reader(workdir / f"renew-{v}.db", v, fake[v]) for v in VENUES}
        told: dict[str, list[str]] = {v: [] for v in VENUES}
        switches = {
            v: clients[v].dead_man_switch(v, SYMBOLS[v], timeout=TIMEOUT, on_unhealthy=told[v].append).arm()
            for v in VENUES
        }
        start = time.monotonic()
        faulted = False
        while time.monotonic() - start < seconds:
            time.sleep(1)
            if not faulted and time.monotonic() - start > seconds / 3:
                for v in NATIVE:
                    fake[v].fault(v, "countdown", "clock_skew", offset_ms=-30_000)
                    fake[v].fault(v, "countdown", "status", status=503)
                faulted = True
        for v in VENUES:
            sw = switches[v]
            state, renewals = sw.state, sw.renewals
            sw.disarm()
            left = statuses(fake[v], v, ids[v])
            limited = sum(1 for r in fake[v].requests(v) if r["endpoint"] == "countdown" and r["rate_limited"])
            ok = state == "armed" and set(left.values()) == {"open"} and not limited
            line = f"renew {v:14} {'ok' if ok else 'PROBLEM'}: {renewals} renewals, {len(told[v])} unhealthy, "
            line += f"{sum(1 for s in left.values() if s == 'open')}/{len(left)} open, {limited} rate-limited"
            print(line, flush=True)
            if not ok:
                problems.append(line)
            clients[v].close()
    return problems


def killed(round_no: int, rng: random.Random, workdir: Path) -> list[str]:
    problems: list[str] = []
    with fakes() as fake:
        ids = {v: seed(fake[v], v) for v in VENUES}
        dbs = {v: workdir / f"kill-{round_no}-{v}.db" for v in VENUES}
        procs = {v: start_deadman(fake[v], v, dbs[v]) for v in VENUES}
        armed = {v: armed_line(procs[v]) for v in VENUES}
        after = {v: rng.uniform(0.2, 8.0) for v in VENUES}
        kill_at: dict[str, float] = {}

        def kill(v: str) -> None:
            time.sleep(after[v])
            os.kill(procs[v].pid, signal.SIGKILL)
            kill_at[v] = time.monotonic()
            procs[v].wait()

        threads = [threading.Thread(target=kill, args=(v,)) for v in VENUES]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Watch every venue at once: when each one's orders were all seen cancelled, against its own kill.
        seen_at: dict[str, float] = {}
        while len(seen_at) < len(VENUES) and time.monotonic() < max(kill_at.values()) + TIMEOUT + 5:
            for v in VENUES:
                if v not in seen_at and set(statuses(fake[v], v, ids[v]).values()) == {"cancelled"}:
                    seen_at[v] = time.monotonic()
            time.sleep(0.1)
        for v in VENUES:
            cancelled_after = seen_at[v] - kill_at[v] if v in seen_at else None
            took = cancelled_after if cancelled_after is not None and cancelled_after <= TIMEOUT + 5 else -1.0
            gone = guardian_gone(armed[v]["guardian_pid"])
            with reader(dbs[v], v, fake[v]) as c:
                job = c.job(armed[v]["job_id"])
                fired = any(e.trigger == "fire" for e in job.events)
                verified = c.verify_journal()[0]
            ok = took >= 0 and gone and fired and job.status == "done" and verified
            line = (
                f"kill {round_no:3} {v:14} {'ok' if ok else 'PROBLEM'}: killed {after[v]:.1f} s after armed, "
                f"all cancelled {f'{took:.1f} s later' if took >= 0 else 'NOT within timeout + 5 s'}, "
                f"job {job.status}, fired {fired}, guardian gone {gone}, journal {'verifies' if verified else 'BROKEN'}"
            )
            print(line, flush=True)
            if not ok:
                problems.append(line)
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the renewing bots hold their switches")
    ap.add_argument("--kills", type=int, default=3, help="rounds of SIGKILLed deadman commands")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.seconds > 0:
            problems += renewing(args.seconds, workdir)
        for n in range(args.kills):
            problems += killed(n, rng, workdir)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
