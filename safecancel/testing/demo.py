"""``safecancel demo``: the whole product on embedded defaults.

A fake venue starts in-process on loopback; every venue gets open orders (plus a few filled ones and
ids it never had); one cancel job per venue runs through real HTTP with a fault injected on each;
then every order's journaled state is compared with the fake venue's ledger, the ground truth.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rich.console import Console
from rich.table import Table

from ..client import Client
from ..config import VenueConfig
from ..model import Credentials, JobResult
from ..render import console, print_history, progress_printer
from ..store.db import demo_path
from ..venues import VENUE_NAMES, venue_class
from .server import FakeVenue

# Every registered venue, on its adapter's example symbol (the registry is the one list of venues).
SYMBOLS = {v: venue_class(v).example_symbol for v in VENUE_NAMES}
# One fault per venue, each a different way the world breaks (chosen by hand: that is the demo's point).
FAULTS: dict[str, list[dict[str, Any]]] = {
    "binance_coinm": [
        {"endpoint": "cancel", "kind": "drop_after_apply"},
        {"endpoint": "time", "kind": "clock_skew", "offset_ms": 30_000},
    ],
    "bitopro": [{"endpoint": "cancel", "kind": "omit"}],
    "bingx": [{"endpoint": "cancel", "kind": "status", "status": 503}],
    "htx": [{"endpoint": "cancel", "kind": "fill_before_cancel"}],
    "bitget": [{"endpoint": "cancel", "kind": "status", "status": 429, "retry_after": 1}],
}
# A venue without a fault of its own above loses a cancel reply after the venue applied it: the fake
# injects that one itself, whatever the venue's dialect.
DEFAULT_FAULTS: list[dict[str, Any]] = [{"endpoint": "cancel", "kind": "drop_after_apply"}]
DEMO_CREDENTIALS = Credentials("test-key", "test-secret", passphrase="test-pass", identity="demo@example.invalid")


def _agrees(order: Any, ledger: dict[str, str]) -> bool:
    """Does the journal's state for this order match the fake's ledger?"""
    truth = ledger.get(order.order_id)
    if order.state == "cancelled":
        return truth == "cancelled"
    if order.state == "failed":
        return {"filled": truth == "filled", "not_found": truth is None}.get(order.reason or "", False)
    return truth == "open"  # unknown/pending orders must still be open at the venue... or be resumed later


def run_demo(db: str | None, *, per_venue: int = 40, latency_ms: int = 5) -> int:
    con = console()
    fake = FakeVenue(latency_ms=latency_ms).start()
    run = time.strftime("%Y%m%dT%H%M%S")
    try:
        venues = [v for v in SYMBOLS if v in fake.dialects]
        con.print(
            f"[bold]safecancel demo[/]: fake venue on {fake.url}, {len(venues)} venues, {per_venue} open orders each"
        )
        plans: dict[str, list[str]] = {}
        for n, venue in enumerate(venues):
            base = 7_000_000_000 + n * 100_000
            open_ids = [str(base + i) for i in range(per_venue)]
            filled = [str(base + 90_000 + i) for i in range(2)]
            fake.seed(
                venue,
                SYMBOLS[venue],
                [{"order_id": i} for i in open_ids] + [{"order_id": i, "status": "filled"} for i in filled],
            )
            plans[venue] = open_ids + filled + [str(base + 99_000)]  # + an id the venue never had
            for f in FAULTS.get(venue, DEFAULT_FAULTS):
                fake.fault(venue, **f)
        con.print(
            "faults: "
            + "; ".join(f"{v}: " + ", ".join(f["kind"] for f in FAULTS.get(v, DEFAULT_FAULTS)) for v in venues)
        )
        update, stop = progress_printer(True)
        if db is None:  # a journal of its own: demo jobs never enter the real audit trail
            demo_db = demo_path()
            demo_db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            db = str(demo_db)
        client = Client(
            db,
            venues=[VenueConfig(v, credentials=DEMO_CREDENTIALS, base_url=fake.url) for v in venues],
            on_progress=update,
        )
        con.print(f"journal: {client.db_url}")
        started = time.monotonic()
        with client, ThreadPoolExecutor(max_workers=len(venues)) as pool:
            futures = {
                v: pool.submit(
                    client.cancel, v, SYMBOLS[v], order_ids=plans[v], key=f"demo-{run}-{v}", account="demo", deadline=30
                )
                for v in venues
            }
            try:
                results: dict[str, JobResult] = {v: f.result() for v, f in futures.items()}
            finally:
                stop()
            elapsed = time.monotonic() - started
            ok = _summary(con, fake, venues, results, elapsed)
            con.print()
            con.print("[bold]history[/] (newest first; `safecancel show JOB_ID` for any of them)")
            print_history(client.history(limit=10))
        return 0 if ok else 1
    finally:
        fake.stop()


def _summary(con: Console, fake: Any, venues: list[str], results: dict[str, JobResult], elapsed: float) -> bool:
    table = Table(title=f"per-venue summary ({elapsed:.2f} s)", show_edge=False)
    for col in (
        "venue",
        "job",
        "status",
        "orders",
        "cancelled",
        "failed",
        "unknown",
        "requests",
        "queries",
        "matches ledger",
    ):
        table.add_column(col)
    all_ok = True
    for v in venues:
        r = results[v]
        ledger = fake.order_status(v)
        agree = sum(_agrees(o, ledger) for o in r.orders)
        reqs = fake.requests(v)
        c = r.counts
        ok = agree == len(r.orders) and r.finished
        all_ok &= ok
        table.add_row(
            v,
            r.job_id[:12],
            r.status,
            str(len(r.orders)),
            str(c.get("cancelled", 0)),
            str(c.get("failed", 0)),
            str(c.get("unknown", 0) + c.get("pending", 0)),
            str(sum(1 for q in reqs if q["endpoint"] == "cancel")),
            str(sum(1 for q in reqs if q["endpoint"] == "query")),
            f"[green]{agree}/{len(r.orders)}[/]" if ok else f"[red]{agree}/{len(r.orders)}[/]",
        )
    con.print(table)
    return all_ok
