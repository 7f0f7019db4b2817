"""The audit benchmark (issues 12 and 16): `audit verify`'s time and memory, and `export`'s size, on a big journal.

Run from the repository root::

    python -m tests.benchmarks.audit_verify                 # 1,000,000 events (builds the journal: ~2 min)
    python -m tests.benchmarks.audit_verify --events 200000 # a quicker run (figures scaled to 1M events)
    python -m tests.benchmarks.audit_verify --db big.db     # reuse a journal built before (kept with --keep)

The journal is written through the real ``Journal`` (create, write-ahead, the venue's reply with its
evidence, status), so its chain and rows are what a runner writes: jobs of 500 orders, each cancelled in
chunks of 100 (one ``send`` and one ``confirm`` event per order, one evidence row per chunk).
``safecancel audit verify --json`` and ``safecancel export`` (JSON lines of every table, then the events
table as CSV) then run in child processes, so that their peak RSS is their own. The table prints each
figure per 1,000,000 events beside its target (issue 16: verify <= 8 s, export <= 0.5 GB).
``build(path, events)`` is also used by ``tests/benchmarks/mass_cancel.py``'s ``audit`` section.
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
# Targets per 1,000,000 events (issue 16): verify <= 8 s with memory bounded (not growing with the
# journal), export <= 0.5 GB.
VERIFY_S_PER_M = 8.0
VERIFY_RSS_MB = 300.0
EXPORT_GB_PER_M = 0.5


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


def export_bytes(path: str, *args: str) -> tuple[float, dict[str, int]]:
    """``safecancel export`` of the journal in a child process: its wall time and the bytes it wrote, per
    JSON-lines ``type`` (``jobs``/``orders``/``events``) or, for one CSV table, under that table's name."""
    table = args[args.index("--table") + 1] if "--table" in args else None
    sizes: dict[str, int] = {}
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "safecancel.cli", "export", "--db", path, *args]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            # JSON lines start {"type":"job"|"order"|"event", ...; a CSV is one table.
            kind = table or line[9:14].decode().strip('",') + "s"
            sizes[kind] = sizes.get(kind, 0) + len(line)
    return time.perf_counter() - started, sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", help="use (or build) this journal file")
    ap.add_argument("--keep", action="store_true", help="keep the journal built in a temporary directory")
    ap.add_argument("--no-export", action="store_true", help="measure verify only")
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
    per_m = 1_000_000 / n  # every figure is also given per 1,000,000 events, the targets' unit
    scaled = "" if n == 1_000_000 else " (scaled)"
    rows = [
        (
            "audit verify (chain + rows)",
            f"{report['seconds']:.1f} s",
            f"{report['seconds'] * per_m:.1f} s per 1M events{scaled}",
            f"<= {VERIFY_S_PER_M:.0f} s per 1M",
        ),  # fmt: skip
        ("audit verify, whole command", f"{took:.1f} s", f"{report['jobs']:,} jobs, {report['orders']:,} orders", ""),
        ("audit verify peak RSS", f"{rss:.0f} MB", "", f"<= {VERIFY_RSS_MB:.0f} MB"),
    ]
    if not opts.no_export:
        export_s, jsonl = export_bytes(path)
        export_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        csv_s, csv = export_bytes(path, "--format", "csv", "--table", "events")
        total = sum(jsonl.values())
        rows += [
            (
                "export (jsonl, all tables)",
                f"{export_s:.1f} s",
                f"{total * per_m / 1e9:.2f} GB per 1M events{scaled}",
                f"<= {EXPORT_GB_PER_M} GB per 1M",
            ),  # fmt: skip
            (
                "  of which events",
                "",
                f"{jsonl.get('events', 0) * per_m / 1e9:.2f} GB per 1M events",
                f"<= {EXPORT_GB_PER_M} GB per 1M",
            ),  # fmt: skip
            ("  of which orders", "", f"{jsonl.get('orders', 0) * per_m / 1e9:.2f} GB per 1M events", ""),
            (
                "export (csv, events table)",
                f"{csv_s:.1f} s",
                f"{csv.get('events', 0) * per_m / 1e9:.2f} GB per 1M events",
                f"<= {EXPORT_GB_PER_M} GB per 1M",
            ),  # fmt: skip
            ("export peak RSS (max of the children)", f"{export_rss:.0f} MB", "", ""),
        ]
    width = max(len(r[0]) for r in rows)
    for name, value, detail, target in rows:
        print(f"{name:<{width}}  {value:>9}  {detail:<36} {target}")
    if not opts.keep and not opts.db:
        for p in Path(tmp).iterdir():
            p.unlink()
        os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
