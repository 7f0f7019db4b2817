"""The audit benchmark (issue 12): how long `audit verify` takes, and how much memory, on a big journal.

Run from the repository root::

    python -m tests.benchmarks.audit_verify                 # 1,000,000 events (builds the journal: ~2 min)
    python -m tests.benchmarks.audit_verify --events 100000 # a quicker run
    python -m tests.benchmarks.audit_verify --db big.db     # reuse a journal built before (kept with --keep)

The journal is written through the real ``Journal`` (create, write-ahead, the venue's reply with its
evidence, status), so its chain and rows are what a runner writes: jobs of 500 orders, each cancelled in
chunks of 100 (one ``send`` and one ``confirm`` event per order, one evidence row per chunk).
``safecancel audit verify --json`` and ``safecancel export`` then run in child processes, so that their
peak RSS is their own. The table prints each figure beside its target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from safecancel.model import OrderRef  # noqa: E402
from safecancel.states import Provenance, Trigger  # noqa: E402
from safecancel.store import Change, Database, Evidence, Journal  # noqa: E402

PER_JOB = 500
CHUNK = 100
# Targets per 1,000,000 events (issue 16 states them for the whole product): verify <= 8 s, memory
# bounded (not growing with the journal), export <= 0.5 GB.
VERIFY_S_PER_M = 8.0
VERIFY_RSS_MB = 300.0


def build(path: str, events: int) -> int:
    """Append jobs until the journal holds at least ``events`` events; returns how many it holds."""
    db = Database(path)
    journal = Journal(db)
    made, j, now = journal.head()[0], 0, time.time()
    while made < events:
        refs = [OrderRef("BTCUSD_PERP", str(j * PER_JOB + i)) for i in range(PER_JOB)]
        job, _ = journal.create_job(job_id=f"bench-{j:07d}", key=f"bench-{j}", venue="binance_coinm", account="default", refs=refs, now=now)  # fmt: skip
        journal.acquire(job.id, "bench", int(now * 1000), 60_000, now)
        rows = journal.orders(job.id)
        for k in range(0, len(rows), CHUNK):
            sent = journal.mark_sent(job.id, "bench", rows[k : k + CHUNK], now, int(now * 1000), 60_000)
            body = json.dumps([{"orderId": r.order_id, "status": "CANCELED"} for r in sent])
            ev = Evidence("cancel", "DELETE", "/dapi/v1/batchOrders", "orderIdList=...&signature=***", None, 200, body, 12, None, now)  # fmt: skip
            changes = [Change(r, Trigger.CONFIRM, provenance=Provenance.VENUE_RESPONSE.value) for r in sent]
            journal.apply(job.id, changes, now, ev)
        journal.set_status(job.id, "done", now)
        made = journal.head()[0]
        j += 1
        if j % 100 == 0:
            print(f"  built {made:,} events", file=sys.stderr)
    db.close()
    return made


def child(*args: str) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run the CLI in a child; its wall time and its peak RSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "safecancel.cli", *args], capture_output=True, text=True)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: run the smaller case first (see main).
    return took, max(peak, before) / 1024, res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", help="use (or build) this journal file")
    ap.add_argument("--keep", action="store_true", help="keep the journal built in a temporary directory")
    opts = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="sc-audit-bench-")
    path = opts.db or os.path.join(tmp, "journal.db")
    started = time.perf_counter()
    n = build(path, opts.events)
    print(f"journal: {path} ({n:,} events, {os.path.getsize(path) / 1e6:.0f} MB; built in {time.perf_counter() - started:.0f} s)")  # fmt: skip
    took, rss, res = child("audit", "verify", "--json", "--db", path)
    if res.returncode != 0:
        print(res.stdout, res.stderr)
        return 1
    report = json.loads(res.stdout)
    per_m = report["seconds"] / n * 1_000_000
    size = 0
    ex_started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "safecancel.cli", "export", "--db", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
            size += len(chunk)
    export_s = time.perf_counter() - ex_started
    export_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = [
        (
            "audit verify (chain + rows)",
            f"{report['seconds']:.1f} s",
            f"{per_m:.1f} s per 1M events",
            f"<= {VERIFY_S_PER_M:.0f} s per 1M",
        ),  # fmt: skip
        ("audit verify, whole command", f"{took:.1f} s", f"{report['jobs']:,} jobs, {report['orders']:,} orders", ""),
        ("audit verify peak RSS", f"{rss:.0f} MB", "", f"<= {VERIFY_RSS_MB:.0f} MB"),
        ("export (jsonl, all tables)", f"{export_s:.1f} s", f"{size / 1e9:.2f} GB", f"<= {0.5 * n / 1e6:.2f} GB"),
        ("export peak RSS (max of the two)", f"{export_rss:.0f} MB", "", ""),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, detail, target in rows:
        print(f"{name:<{width}}  {value:>9}  {detail:<32} {target}")
    if not opts.keep and not opts.db:
        for p in Path(tmp).iterdir():
            p.unlink()
        os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
