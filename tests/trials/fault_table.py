"""The fault × venue table: every fault the fake venue injects, on every venue, judged against the ledger.

    python tests/trials/fault_table.py            # prints a markdown table for the closing note
    python tests/trials/fault_table.py --faults drop_after_apply,omit --venues htx,bitget

The runs are the ones tests/integration/test_fault_matrix.py asserts on (same harness). Exits 1 if any
cell shows a violation (an order lost, wrongly cancelled or failed, left unresolved, or sent twice for
one attempt or without a journal entry) or a job that did not finish.
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

from tests.integration._harness import FAULT_NAMES, VENUES, fault_table, run_matrix  # noqa: E402 (after sys.path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--faults", default=",".join(FAULT_NAMES), help="comma-separated fault cases (default: all)")
    p.add_argument("--venues", default=",".join(VENUES), help="comma-separated venues (default: all five)")
    p.add_argument(
        "--repeat", type=int, default=1, help="run the whole matrix this many times (each cell must pass every time)"
    )
    args = p.parse_args(argv)
    faults = [f for f in args.faults.split(",") if f]
    venues = [v for v in args.venues.split(",") if v]
    unknown = sorted(set(faults) - set(FAULT_NAMES)) + sorted(set(venues) - set(VENUES))
    if unknown:
        p.error(f"unknown fault or venue: {', '.join(unknown)}")
    started = time.monotonic()
    bad = 0
    outcomes = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="safecancel-faults-") as tmp:
            outcomes = run_matrix(Path(tmp), faults, venues)
        bad += sum(1 for o in outcomes if o.check.problems or o.final.status != "done")
    print(
        f"## Faults × venues ({len(outcomes)} runs"
        + (f", last of {args.repeat} repetitions" if args.repeat > 1 else "")
        + ")"
    )
    print()
    print(fault_table(outcomes))
    if args.repeat > 1:
        print()
        print(f"{len(outcomes) * args.repeat} runs in all, {bad} with a violation or an unfinished job.")
    print()
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
