"""Kill-switch trials: SIGKILL ``safecancel cancel-all`` at a seeded random moment, resume at once, judge.

    python tests/trials/kill_switch_trials.py --trials 40 --seed 1

Each trial seeds an in-process fake venue (a random venue) with 60 of the caller's orders, 4 of them
conditional, and 6 of another bot's; a ``place_during_cancel`` fault places 2 more of the caller's orders
on each of the first three cancel requests (a bot still trading). ``safecancel cancel-all`` runs in a child
process with a client scope (``--client-prefix bot-``, on BitoPro ``--client-id-range``) and is SIGKILLed
at a seeded moment (0.3-3 s: before the job is stored, mid-sweep, mid-cancel, after the last listing);
then ``safecancel resume`` runs, and the ledger is judged: every one of the caller's orders (the late ones
included) cancelled, every other order still open, the job ``done`` and the journal verifying. A kill
before the job was stored sent nothing (the job is stored before any request): resume has nothing to
do, the bot re-issues ``cancel-all``, and the trial checks that nothing was sent.

Prints one line per trial; exits 1 if any trial found a problem.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from safecancel.testing import FakeVenue  # noqa: E402 (after the sys.path line above)
from safecancel.venues import VENUE_NAMES, venue_class  # noqa: E402

PY = sys.executable


def trial(rng: random.Random, index: int, workdir: str) -> bool:
    venue = rng.choice(VENUE_NAMES)
    cls = venue_class(venue)
    sym = cls.example_symbol
    numeric = cls.numeric_client_ids
    delay = rng.uniform(0.3, 3.0)
    with FakeVenue(latency_ms=20, async_delay_ms=50) as fake:
        mine = [{"client_order_id": str(100_000 + i) if numeric else f"bot-{i}"} for i in range(60)]
        mine += [
            {"client_order_id": str(101_000 + i) if numeric else f"bot-c{i}", "conditional": True} for i in range(4)
        ]
        theirs = [{"client_order_id": str(500_000 + i) if numeric else f"x-{i}"} for i in range(6)]
        ours = {o["order_id"] for o in fake.seed(venue, sym, mine)}
        others = {o["order_id"] for o in fake.seed(venue, sym, theirs)}
        fake.fault(venue, "cancel", "place_during_cancel", count=2, times=3)
        db = os.path.join(workdir, f"trial-{index}.db")
        p = f"SAFECANCEL_{venue.upper()}_"
        creds = {
            "API_KEY": "test-key",
            "API_SECRET": "test-secret",
            "PASSPHRASE": "test-pass",
            "IDENTITY": "t@x.invalid",
        }
        env = dict(os.environ, SAFECANCEL_DB=db, **{p + k: v for k, v in creds.items()}, **{p + "BASE_URL": fake.url})
        scope = ["--client-id-range", "100000-199999"] if numeric else ["--client-prefix", "bot-"]
        args = [PY, "-m", "safecancel.cli", "cancel-all", "--venue", venue, "--symbol", sym, *scope]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        cli = [PY, "-m", "safecancel.cli"]
        subprocess.run([*cli, "resume", "--deadline", "120"], env=env, capture_output=True, text=True)
        verify = subprocess.run([*cli, "audit", "verify", "--db", db], env=env, capture_output=True, text=True)
        hist = subprocess.run([*cli, "history", "--json"], env=env, capture_output=True, text=True)
        jobs = [j["status"] for j in json.loads(hist.stdout or "[]")]
        status = fake.order_status(venue)
        late = set(status) - ours - others
        wrong = [i for i in ours | late if status[i] != "cancelled"] + [i for i in others if status[i] != "open"]
        nothing_sent = all(o["cancel_requests"] == 0 for o in fake.orders(venue))
        before_job = killed and jobs == [] and nothing_sent
        ok = verify.returncode == 0 and ((not wrong and jobs == ["done"]) or before_job)
        what = "killed before the job was stored; nothing sent" if before_job else f"jobs={jobs} late={len(late)}"
        print(
            f"trial {index:3d} {venue:14s} kill@{delay:.2f}s killed={killed!s:5s} {what} "
            f"wrong={wrong[:3]} verify={verify.returncode} {'ok' if ok else 'PROBLEM'}",
            flush=True,
        )
        return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", type=int, help="run trial i of the seed only (a replay)")
    args = parser.parse_args(argv)
    problems = 0
    with tempfile.TemporaryDirectory(prefix="sc-ks-trials-") as workdir:
        for i in range(args.trials):
            rng = random.Random(f"{args.seed}:{i}")
            if args.only is not None and i != args.only:
                continue
            problems += not trial(rng, i, workdir)
    print(f"{problems} problem(s) in {args.trials if args.only is None else 1} trial(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
