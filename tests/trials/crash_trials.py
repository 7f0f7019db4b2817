"""Crash trials, the long run: SIGKILL cancel jobs at seeded random moments, resume, judge every order.

    python tests/trials/crash_trials.py --trials 300 --seed 1
    python tests/trials/crash_trials.py --trials 0 --concurrency 20   # concurrent-runner trials only

Each trial seeds a fake venue (its own process, ``safecancel fake-venue --port 0 --latency-ms N``, one per
worker) with open, filled and already-cancelled orders, maybe injects one fault, starts a cancel job in
a child process (public ``Client``, credentials and URLs from ``SAFECANCEL_*``), kills it with SIGKILL at
a moment drawn from the seed, runs ``safecancel resume`` and compares every order in the journal with
the fake's ledger. Trial ``i`` of seed ``S`` is the same trial on every run (venue, orders, fault, kill
moment as a fraction of the observed run time), so a failure can be replayed with ``--only i``.

Prints markdown tables: per venue (trials, orders checked, lost, wrongly cancelled, jobs left open ...)
and where the kills landed. Exits 1 if any trial found a problem.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration._harness import (  # noqa: E402 (after the sys.path line above)
    Spans,
    TrialResult,
    concurrent_resume_trial,
    crash_table,
    fake_process,
    inprocess_fake,
    make_trial,
    run_trial,
    run_trials,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--trials", type=int, default=100, help="crash trials to run (default 100)")
    p.add_argument("--seed", type=int, default=1, help="seed of the whole run (default 1)")
    p.add_argument(
        "--parallel", type=int, default=2, help="trials run at once, each with its own fake venue (default 2)"
    )
    p.add_argument(
        "--latency-ms", type=int, default=40, help="latency the fake venue adds to every request (default 40)"
    )
    p.add_argument("--fake", choices=("process", "inprocess"), default="process", help="where the fake venue runs")
    p.add_argument("--only", type=int, help="replay one trial by its index")
    p.add_argument("--concurrency", type=int, default=0, help="also run this many concurrent-runner trials")
    p.add_argument("--runners", type=int, default=3, help="processes resuming at once in a concurrent-runner trial")
    p.add_argument("--workdir", type=Path, help="keep the journals here (default: a temporary directory)")
    p.add_argument("--quiet", action="store_true", help="no line per trial")
    args = p.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="safecancel-trials-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    failed = False

    def show(r: TrialResult) -> None:
        if not args.quiet or r.problems:
            mark = "ok " if not r.problems else "BAD"
            fault = f"{r.spec.fault[0]}:{r.spec.fault[1]}" if r.spec.fault else "-"
            print(
                f"{mark} trial {r.spec.index:4d} {r.spec.venue:14s} orders={r.check.orders:3d} fault={fault:24s} "
                f"recovery={r.spec.recovery:7s} killed={'yes' if r.killed else 'no ':3s} {r.phase:32s} {r.seconds:5.1f}s",
                flush=True,
            )
            for problem in r.problems:
                print(f"      {problem}", flush=True)

    if args.only is not None:
        factory = (
            fake_process(latency_ms=args.latency_ms) if args.fake == "process" else inprocess_fake(args.latency_ms)
        )
        with factory as handle:
            fake = getattr(handle, "control", handle)
            results = [run_trial(fake, make_trial(args.only, args.seed), workdir, Spans())]
        show(results[0])
    elif args.trials:
        factory = None if args.fake == "process" else (lambda: inprocess_fake(args.latency_ms))
        results = run_trials(
            args.trials,
            args.seed,
            workdir,
            parallel=args.parallel,
            fake_factory=factory,
            latency_ms=args.latency_ms,
            on_result=show,
        )
    else:
        results = []
    if results:
        print()
        print(f"## Crash trials (seed {args.seed}, latency {args.latency_ms} ms, {len(results)} trials)")
        print()
        print(crash_table(results))
        failed |= any(r.problems for r in results)

    if args.concurrency:
        rows = []
        with inprocess_fake(latency_ms=20) as fake:
            for i in range(args.concurrency):
                fake.reset()
                r = concurrent_resume_trial(
                    fake, workdir, runners=args.runners, per_job=20, tag=f"conc-{args.seed}-{i}"
                )
                rows.append(r)
                if not args.quiet or r.problems:
                    print(
                        f"{'ok ' if not r.problems else 'BAD'} concurrency trial {i:3d}: {args.runners} runners, "
                        f"{r.check.orders} orders, exit codes {r.exit_codes}, {r.seconds:.1f}s",
                        flush=True,
                    )
                    for problem in r.problems:
                        print(f"      {problem}", flush=True)
        print()
        print(
            f"## Concurrent runners ({args.concurrency} trials, {args.runners} `safecancel resume` processes on one database each)"
        )
        print()
        print(
            "| trials | orders checked | duplicate sends | unjournaled sends | lost | wrongly cancelled | jobs left open | runner crashes |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print(
            f"| {len(rows)} | {sum(r.check.orders for r in rows)} | {sum(len(r.check.duplicate_sends) for r in rows)} | "
            f"{sum(len(r.check.unjournaled_sends) for r in rows)} | {sum(len(r.check.lost) for r in rows)} | "
            f"{sum(len(r.check.wrongly_cancelled) for r in rows)} | {sum(len(r.check.open_jobs) for r in rows)} | "
            f"{sum(len(r.crashes) for r in rows)} |"
        )
        failed |= any(r.problems for r in rows)

    print()
    print(f"wall time {time.monotonic() - started:.0f} s; journals in {workdir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
