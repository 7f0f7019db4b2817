"""Human-readable output for the CLI (rich tables). Machine-readable output is ``--json``, not this."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich (~60 ms to import) loads only when a table or a progress bar is drawn: never for --json
    from rich.console import Console
    from rich.table import Table

    from .model import EventRecord, JobResult, JobSummary, Listing

MAX_ROWS = 200
STATE_STYLE = {"cancelled": "green", "failed": "red", "unknown": "yellow", "pending": "cyan", "sent": "magenta"}


def console(stderr: bool = False) -> Console:
    """A console; when output is not a terminal (a pipe, a log), wide enough that tables don't fold."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(highlight=False, soft_wrap=False, stderr=stderr, width=None if stream.isatty() else 160)


def _table(**options: Any) -> Table:
    """A table in the CLI's style (no outer edge, no padding at the edges)."""
    from rich.table import Table

    return Table(show_edge=False, pad_edge=False, **options)


def _counts(counts: dict[str, int]) -> str:
    order = ("cancelled", "failed", "unknown", "pending", "sent")
    return "  ".join(f"[{STATE_STYLE[k]}]{k} {counts[k]}[/]" for k in order if counts.get(k))


def only_order(result: JobResult, ident: str) -> JobResult:
    """The job with only the orders whose order id or client order id is exactly ``ident``, and only their
    events and the job's own (``show --order 5`` must not show orders 15 and 55)."""
    keep = [o for o in result.orders if ident in (o.order_id, o.client_order_id)]
    names = {str(o.ref) for o in keep}
    return replace(
        result, orders=tuple(keep), events=tuple(e for e in result.events if e.order is None or e.order in names)
    )


def print_job(result: JobResult, *, events: bool, evidence: bool = False) -> None:
    con = console()
    con.print(
        f"[bold]job {result.job_id}[/]  venue [bold]{result.venue}[/]  account {result.account}  "
        f"status [bold]{result.status}[/]  created {result.created_at}"
        + (f"  finished {result.finished_at}" if result.finished_at else "")
    )
    con.print(f"key {result.key}   {_counts(result.counts)}")
    orders = result.orders
    table = _table()
    for col in ("symbol", "order id", "client id", "state", "reason", "provenance", "sends", "venue said"):
        table.add_column(col)
    for o in orders[:MAX_ROWS]:
        said = " ".join(x for x in (o.venue_code, o.venue_message) if x)
        table.add_row(
            o.symbol,
            o.order_id or "",
            o.client_order_id or "",
            f"[{STATE_STYLE.get(o.state, '')}]{o.state}[/]",
            o.reason or "",
            o.provenance or "",
            str(o.attempts),
            said[:60],
        )
    con.print(table)
    if len(orders) > MAX_ROWS:
        con.print(f"... {len(orders) - MAX_ROWS} more orders (use --json for all)")
    if events:
        evs = result.events
        et = _table(title="events")
        for col in ("#", "at", "order", "trigger", "from → to", "http", "venue said", "note"):
            et.add_column(col)
        for e in evs[:MAX_ROWS]:
            move = f"{e.from_state or ''} → {e.to_state or ''}" if (e.from_state or e.to_state) else ""
            said = " ".join(x for x in (e.venue_code, e.venue_message) if x)
            et.add_row(
                str(e.seq),
                e.at[11:23],
                e.order or "(job)",
                e.trigger,
                move,
                str(e.http_status or ""),
                said[:50],
                (e.note or e.reason or "")[:60],
            )
        con.print(et)
        if len(evs) > MAX_ROWS:
            con.print(f"... {len(evs) - MAX_ROWS} more events (use --json for all)")
    if events and evidence:
        print_evidence(con, result.events[:MAX_ROWS])


EVIDENCE_SHOWN = 2000  # characters of a reply shown on a terminal (--json has all that is stored)


def print_evidence(con: Console, evs: Sequence[EventRecord]) -> None:
    """Each exchange once (several events share one), with the venue's reply as stored."""
    seen: set[int] = set()
    for e in evs:
        x = e.evidence
        if x is None or e.evidence_id is None or e.evidence_id in seen:
            continue
        seen.add(e.evidence_id)
        query = f"?{x.get('query')}" if x.get("query") else ""
        took = f" in {x.get('elapsed_ms')} ms" if x.get("elapsed_ms") is not None else ""
        con.print(
            f"[bold]evidence {e.evidence_id}[/] (event {e.seq}) {x.get('at')} {x.get('endpoint')}: "
            f"{x.get('method')} {x.get('path')}{query}",
            markup=True,
        )
        if x.get("body"):
            con.print(f"  request body: {str(x['body'])[:EVIDENCE_SHOWN]}", markup=False)
        status = x.get("status")
        said = x.get("response") or ""
        con.print(f"  reply {status if status is not None else '(none)'}{took}: {said[:EVIDENCE_SHOWN]}", markup=False)
        if len(said) > EVIDENCE_SHOWN:
            con.print(f"  ... {len(said) - EVIDENCE_SHOWN} more characters (use --json)", markup=False)
        if x.get("error"):
            con.print(f"  error: {x['error']}", markup=False)


def print_history(rows: Sequence[JobSummary]) -> None:
    con = console()
    if not rows:
        con.print("no jobs")
        return
    table = _table()
    for col in ("created", "job", "venue", "status", "orders", "key"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.created_at[:19].replace("T", " "), r.job_id, r.venue, r.status, _counts(dict(r.counts)), r.key[:40]
        )
    con.print(table)


ProgressCallback = Callable[[str, str, dict[str, int]], None]


def progress_printer(enabled: bool) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """A rich progress bar on stderr, one task per job; returns (callback for ``on_progress``, stop)."""
    if not enabled:
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, Any] = {}
    progress.start()

    def update(job_id: str, venue: str, counts: dict[str, int]) -> None:
        total = sum(counts.values())
        done = counts.get("cancelled", 0) + counts.get("failed", 0)
        detail = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        if job_id not in tasks:
            tasks[job_id] = progress.add_task(f"{venue:<14}", total=total, detail=detail)
        progress.update(tasks[job_id], completed=done, total=total, detail=detail)

    return update, progress.stop


LISTED_STYLE = {"open": "cyan", "cancelled": "green", "failed": "red", "unknown": "yellow"}


def print_listing(listing: Listing) -> None:
    """A venue's open orders as a table (the first ``MAX_ROWS``), then one line of totals."""
    con = console()
    table = _table()
    for col in ("symbol", "order id", "client id", "side", "type", "price", "quantity", "filled", "state", "created"):
        table.add_column(col)
    for o in listing.orders[:MAX_ROWS]:
        state = o.status.verdict.value
        word = o.status.message or state
        created = (
            datetime.fromtimestamp(o.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
            if o.created_ms is not None
            else ""
        )
        table.add_row(
            o.symbol,
            o.order_id or "",
            o.client_order_id or "",
            o.side or "",
            (o.order_type or "") + (" (conditional)" if o.conditional else ""),
            o.price or "",
            o.quantity or "",
            o.filled or "",
            f"[{LISTED_STYLE.get(state, 'white')}]{word}[/]",
            created,
        )
    if listing.orders:
        con.print(table)
    if len(listing.orders) > MAX_ROWS:
        con.print(f"... and {len(listing.orders) - MAX_ROWS} more (use --json for all)")
    conditional = sum(1 for o in listing.orders if o.conditional)
    scope = listing.symbol or "every symbol"
    con.print(
        f"{len(listing.orders)} open order(s) on {listing.venue} ({scope})"
        + (f", {conditional} conditional" if conditional else "")
        + f"; {listing.pages} page(s) listed at {listing.listed_at}"
    )
    if not listing.complete:
        con.print("[yellow]the venue capped the listing: more orders may be open than it shows[/]")
