"""The ``safecancel`` command: parse, make one client call, render. Exit codes are mapped in one place.

Exit codes (extended, never renumbered): 0 every order cancelled; 1 finished, some failed; 2 bad
input (nothing stored); 3 some orders still unknown or pending (resumable; also when the venue refused
the credentials); 4 the venue refused the requests as a whole (wrong base URL, whole-request error),
or another venue or transport error; 5 the journal database could not be used; 6 a job is held by
another live runner (who and until when is printed); 7 some jobs could not be run here (no
credentials for their venue, or another API key).
"""

from __future__ import annotations

import csv
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

import click

from .errors import AuthError, InputError, LeaseHeld, SafeCancelError, StoreError, VenueError
from .venues import VENUE_NAMES

# Start-up time: `safecancel --help` (and every `<command> --help`) loads only click, the errors and the
# venue registry. The client, the journal (SQLAlchemy), the transport (requests) and the rendering (rich)
# are imported inside the commands that use them.
if TYPE_CHECKING:
    from .deadman import DeadManSwitch
    from .model import JobResult

# The dead-man switch's modes (safecancel.deadman.MODES; tests/unit/test_startup.py checks they agree),
# written out so that the command's --help need not import the switch and everything under it.
DEAD_MAN_MODES = ("auto", "native", "guardian")

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_UNFINISHED, EXIT_VENUE, EXIT_STORE, EXIT_HELD, EXIT_NOT_HERE = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
)
ERROR_EXITS = (
    (InputError, EXIT_INPUT),
    (AuthError, EXIT_UNFINISHED),
    (VenueError, EXIT_VENUE),
    (StoreError, EXIT_STORE),
    (LeaseHeld, EXIT_HELD),
)
# Worst last: what most needs a person decides the exit code of a command that ran several jobs.
_SEVERITY = (EXIT_OK, EXIT_FAILED, EXIT_UNFINISHED, EXIT_HELD, EXIT_NOT_HERE, EXIT_VENUE)
EXIT_CODES_HELP = (
    "Exit codes: 0 every order cancelled; 1 finished, some failed; 2 bad input, nothing stored; "
    "3 orders still unknown or pending (run `safecancel resume`); 4 the venue refused the requests "
    "(e.g. a wrong base URL) or another venue error; 5 the journal could not be used; 6 held by another "
    "live runner; 7 some jobs could not be run here (credentials)."
)


def job_exit(r: JobResult) -> int:
    from .killswitch import KIND as KILL_SWITCH
    from .model import JobStatus

    if r.problem == "venue":
        return EXIT_VENUE
    if r.skipped:
        return EXIT_NOT_HERE
    if r.held_by:
        return EXIT_HELD
    if not r.finished:
        return EXIT_UNFINISHED
    if r.kind == KILL_SWITCH and r.status != JobStatus.DONE:
        return EXIT_UNFINISHED  # not verified empty (still listed, unsure whose, or capped): not done
    return EXIT_OK if r.all_cancelled else EXIT_FAILED


def exit_code(results: list[JobResult]) -> int:
    """The worst over the jobs (see ``_SEVERITY``)."""
    return max((job_exit(r) for r in results), key=_SEVERITY.index, default=EXIT_OK)


def _show_waiting() -> None:
    """With --wait, say on stderr that (and for whom) the command waits, even without -v."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: "waiting" in record.getMessage())
    logger = logging.getLogger("safecancel.client")
    logger.addHandler(handler)
    logger.setLevel(min(logger.getEffectiveLevel(), logging.WARNING))


def _say_why(results: list[JobResult]) -> None:
    """One plain line on stderr for each job that did not finish, saying why."""
    from .model import JobStatus

    for r in results:
        why = r.skipped or r.held_by or (r.attention if not r.finished or r.status != JobStatus.DONE else None)
        if r.skipped:
            click.echo(f"skipped job {r.job_id} ({r.venue}): {why}", err=True)
        elif r.held_by:
            click.echo(f"not run: {why}; `safecancel resume --wait` waits for it", err=True)
        elif why:
            click.echo(f"job {r.job_id} ({r.venue}) {r.status}: {why}", err=True)


@contextmanager
def cli_errors() -> Iterator[None]:
    try:
        yield
    except SafeCancelError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(next((code for kind, code in ERROR_EXITS if isinstance(exc, kind)), EXIT_VENUE)) from None


def _split(values: str | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for v in values.split(",")] if values.strip() else []


def _dump(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


db_option = click.option(
    "--db",
    "db",
    metavar="URL",
    help="Journal database: a SQLite path or URL (default $SAFECANCEL_DB, else the per-user journal, "
    "e.g. ~/.local/share/safecancel/journal.db).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="safecancel")
@click.option("-v", "--verbose", count=True, help="Log to stderr (-v info, -vv debug). Secrets are never logged.")
@click.option("--profile", is_flag=True, help="Profile the command (cProfile) and print where the time went to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, profile: bool) -> None:
    """Cancel many orders at once on crypto venues without losing track of one.

    Every batch is a job journaled in a database before anything is sent; `resume` finishes
    jobs that a crash or a deadline left open; `history`, `show` and `audit verify` answer what happened.
    """
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # urllib3's DEBUG lines print every request URL, and HTX's carry AccessKeyId and Signature.
        logging.getLogger("urllib3").setLevel(logging.INFO)
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        ctx.call_on_close(lambda: _print_profile(prof))


def _print_profile(prof: Any) -> None:
    import io
    import pstats

    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    click.echo(out.getvalue(), err=True)


@cli.command()
@click.option("--venue", required=True, type=click.Choice(VENUE_NAMES), help="Venue name.")
@click.option("--symbol", required=True, help="Symbol in the venue's own format (e.g. BTCUSD_PERP, BTC-USDT, btcusdt).")
@click.option("--ids", help="Exchange order ids, comma-separated.")
@click.option("--client-ids", help="Client order ids, comma-separated.")
@click.option("--key", help="Idempotency key (default: derived from venue, account and the order set).")
@click.option("--account", default="default", show_default=True, help="Account label recorded with the job.")
@db_option
@click.option("--base-url", help="Venue base URL (default $SAFECANCEL_<VENUE>_BASE_URL or production).")
@click.option(
    "--deadline",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to spend before returning with the job open.",
)
@click.option("--batch-size", type=int, help="Ids per request (within the venue's limit).")
@click.option("--workers", type=int, default=4, show_default=True, help="Requests in flight at once (paced per venue).")
@click.option(
    "--lease-ttl",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds after which another runner may take the job over if this one dies.",
)
@click.option(
    "--wait", is_flag=True, help="If another live runner holds this job, wait for it (up to --deadline) and finish it."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the planned requests (redacted) and the job a real run would join; store and send nothing.",
)
@json_option
def cancel(
    venue,
    symbol,
    ids,
    client_ids,
    key,
    account,
    db,
    base_url,
    deadline,
    batch_size,
    workers,
    lease_ttl,
    wait,
    dry_run,
    as_json,
) -> None:
    """Cancel a batch of orders on one venue and symbol.

    Re-running the same command (same orders, no --key) joins its job while it is unfinished --
    after a crash, run it again or `safecancel resume`; once the job has finished, the same orders
    are a new job that asks the venue again. With --key K the job is exact-once for as long as it exists.

    \b
    Exit 0: every order cancelled. 1: finished, some failed. 2: bad input, nothing stored.
    3: some still unknown or pending (run `safecancel resume`). 4: the venue refused the requests as
    a whole (e.g. a wrong base URL). 6: another live runner holds the job.

    Example:

        safecancel cancel --venue binance_coinm --symbol BTCUSD_PERP --ids 101,102,103
    """
    from .client import Client
    from .config import VenueConfig
    from .model import JobStatus
    from .render import print_job, progress_printer

    with cli_errors():
        if (ids is None) == (client_ids is None):
            raise InputError("give exactly one of --ids or --client-ids")
        # Unset fields (None) fall back to SAFECANCEL_<VENUE>_* and then the venue's defaults.
        kw: dict[str, Any] = {
            "venues": [VenueConfig(venue, base_url=base_url or None, batch_size=batch_size or None)],
            "workers": workers,
            "lease_ttl": lease_ttl,
        }
        given: dict[str, Any] = {"order_ids": _split(ids), "client_order_ids": _split(client_ids)}
        if dry_run:
            # Nothing is created: the journal is only read, and only if it exists already.
            with Client(db, **kw) as client:
                plan = client.plan(venue, symbol, **given)
                joined = client.existing_job(venue, symbol, key=key, account=account, **given)
            if joined is None:
                join = "a real run would create a new job and send these requests"
            elif joined.status == JobStatus.DONE:
                join = f"a real run would join job {joined.job_id}, which is done: it would send nothing"
            else:
                join = (
                    f"a real run would join job {joined.job_id} ({joined.status}) and send only what it still has to: "
                    + ", ".join(f"{k} {v}" for k, v in sorted(joined.counts.items()))
                )
            if as_json:
                _dump(
                    {
                        "dry_run": True,
                        "requests": plan,
                        "joins_job": joined.job_id if joined else None,
                        "joins_status": joined.status if joined else None,
                    }
                )
            else:
                for i, req in enumerate(plan, 1):
                    click.echo(f"{i}. {req['method']} {req['url']}" + (f"?{req['query']}" if req["query"] else ""))
                    if req["body"]:
                        click.echo(f"   body: {req['body']}")
                click.echo(f"{len(plan)} request(s); {join}. Nothing stored, nothing sent.")
            return
        show_progress = not as_json and sys.stderr.isatty()
        update, stop = progress_printer(show_progress)
        if wait:
            _show_waiting()
        with Client(db, on_progress=update, **kw) as client:
            try:
                result = client.cancel(venue, symbol, key=key, account=account, deadline=deadline, wait=wait, **given)
            except (AuthError, VenueError) as exc:
                if exc.job_id is None:
                    raise
                # The job stays unfinished: show where it stands; _say_why prints the cause below.
                result = replace(client.job(exc.job_id), problem="auth" if isinstance(exc, AuthError) else "venue")
            finally:
                stop()
            if as_json:
                _dump(replace(client.job(result.job_id), held_by=result.held_by, problem=result.problem).to_json())
        if not as_json:
            print_job(result, events=False)
        _say_why([result])
        raise SystemExit(exit_code([result]))


@cli.command("cancel-all")
@click.option("--venue", required=True, type=click.Choice(VENUE_NAMES), help="Venue name.")
@click.option("--symbol", help="Only this symbol, in the venue's own format (default: every symbol).")
@click.option("--client-prefix", help="Only your own orders: client order ids starting with this (string client ids).")
@click.option(
    "--client-id-range", metavar="LOW-HIGH", help="Only your own orders on venues with integer client ids (BitoPro)."
)
@click.option("--no-conditional", is_flag=True, help="Leave conditional (trigger, algo, plan, OCO) orders alone.")
@click.option(
    "--native",
    is_flag=True,
    help="Strike first with the venue's own cancel-all (everyone's orders of the symbol; not with a client scope).",
)
@click.option("--account", default="default", show_default=True, help="Account label recorded with the job.")
@db_option
@click.option("--base-url", help="Venue base URL (default $SAFECANCEL_<VENUE>_BASE_URL or production).")
@click.option("--deadline", type=float, default=60.0, show_default=True, help="Seconds to sweep before returning.")
@click.option("--workers", type=int, default=4, show_default=True, help="Requests in flight at once (paced per venue).")
@click.option(
    "--dry-run", is_flag=True, help="List what is in scope now; store nothing, cancel nothing (reads the venue)."
)
@json_option
def cancel_all(
    venue,
    symbol,
    client_prefix,
    client_id_range,
    no_conditional,
    native,
    account,
    db,
    base_url,
    deadline,
    workers,
    dry_run,
    as_json,
) -> None:
    """The kill switch: cancel every open order in scope, then verify from the venue's listing that none is left.

    Each sweep lists the venue (recorded as evidence), adds the orders in scope to one journaled job
    before cancelling them, and lists again -- orders placed meanwhile are caught -- until a listing
    shows the scope empty or --deadline passes (`safecancel resume` sweeps again).

    \b
    Exit 0: every order cancelled and the scope verified empty. 1: verified empty, some orders failed
    (e.g. filled first). 2: bad input, nothing stored. 3: not verified empty yet (still listed, orders
    without a client id, unknown orders; run `safecancel resume`), or credentials refused. 4: the venue
    refused the requests. 6: held by another runner.

    Example:

        safecancel cancel-all --venue bingx --symbol BTC-USDT --client-prefix bot-
    """
    from .client import Client
    from .config import VenueConfig
    from .render import print_job, print_listing, progress_printer

    with cli_errors():
        config = VenueConfig(venue, base_url=base_url or None)
        scope = {
            "client_prefix": client_prefix,
            "client_id_range": client_id_range,
            "include_conditional": not no_conditional,
        }
        if dry_run:
            if native:
                raise InputError("--dry-run lists what is in scope; --native would send the venue's cancel-all")
            with Client(None, venues=[config]) as client:
                plan = client.plan_cancel_all(venue, symbol, deadline=deadline, **scope)
            if as_json:
                _dump(plan.to_json())
            else:
                print_listing(plan.in_scope)
                click.echo(
                    f"{len(plan.in_scope)} of {plan.listed} listed order(s) in scope ({plan.scope})"
                    + (f"; {plan.unsure} without a client id would be left alone" if plan.unsure else "")
                    + ". Nothing stored, nothing cancelled."
                )
            return
        show_progress = not as_json and sys.stderr.isatty()
        update, stop = progress_printer(show_progress)
        with Client(db, venues=[config], workers=workers, on_progress=update) as client:
            try:
                result = client.cancel_all(venue, symbol, native=native, deadline=deadline, account=account, **scope)
            except (AuthError, VenueError) as exc:
                if exc.job_id is None:
                    raise
                result = replace(client.job(exc.job_id), problem="auth" if isinstance(exc, AuthError) else "venue")
            finally:
                stop()
            full = client.job(result.job_id)
        sweeps = [e for e in full.events if e.trigger == "sweep"]
        final = sweeps[-1] if sweeps else None
        if as_json:
            out = replace(full, problem=result.problem, held_by=result.held_by, still_open=result.still_open).to_json()
            out["final_listing"] = (
                None
                if final is None
                else {"at": final.at, "evidence_id": final.evidence_id, "summary": json.loads(final.note or "{}")}
            )
            _dump(out)
        else:
            print_job(result, events=False)
            if result.verified_empty_at:
                click.echo(
                    f"verified empty: the listing at {result.verified_empty_at} showed no order in scope "
                    f"(evidence #{result.verified_evidence}); {len(sweeps)} sweep(s)"
                )
            else:
                shown = ", ".join(result.still_open[:10]) + (" ..." if len(result.still_open) > 10 else "")
                click.echo(
                    f"NOT verified empty after {len(sweeps)} sweep(s)" + (f"; still listed: {shown}" if shown else "")
                )
        _say_why([result])
        raise SystemExit(exit_code([result]))


@cli.command()
@click.option("--venue", required=True, type=click.Choice(VENUE_NAMES), help="Venue name.")
@click.option(
    "--symbol",
    help="Only this symbol (Binance COIN-M: required for its countdown; BingX, HTX: their countdown is account-wide).",
)
@click.option(
    "--timeout",
    required=True,
    type=int,
    help="Seconds without a renewal before the orders come off (Binance COIN-M 1-3600, BingX 10-120, HTX 5-3600; "
    "a guardian 5-3600).",
)
@click.option(
    "--mode",
    type=click.Choice(DEAD_MAN_MODES),
    default="auto",
    show_default=True,
    help="auto: the venue's countdown where it has one, else a guardian process; native / guardian: insist.",
)
@click.option(
    "--no-guardian",
    is_flag=True,
    help="With a venue countdown: no local guardian process (nothing journals the firing or cancels what it left).",
)
@click.option("--no-conditional", is_flag=True, help="A guardian leaves conditional orders alone.")
@click.option("--account", default="default", show_default=True, help="Account label recorded with the switch.")
@db_option
@click.option("--base-url", help="Venue base URL (default $SAFECANCEL_<VENUE>_BASE_URL or production).")
@json_option
def deadman(venue, symbol, timeout, mode, no_guardian, no_conditional, account, db, base_url, as_json) -> None:
    """Arm a dead-man switch and keep it alive until SIGTERM or SIGINT; then disarm it and exit 0.

    While this runs it renews the switch every timeout/3 seconds. If it dies (SIGKILL, a lost host, a
    wedge), the renewals stop and after --timeout the orders in scope come off: by the venue's own
    countdown (Binance COIN-M per symbol; BingX and HTX for the whole account) and by a guardian
    process in a session of its own, which journals the firing, records what was cancelled and cancels
    what the countdown left. BitoPro and Bitget have no countdown: the guardian alone cancels (a
    journaled kill switch), and it does not survive the loss of this host. Every arm, renewal summary,
    disarm and firing is in the journal (`safecancel show JOB`).

    \b
    Exit 0: disarmed on SIGTERM/SIGINT. 2: bad input, nothing stored or sent. 3: the venue refused the
    credentials. 4: the venue refused to arm or disarm its countdown, the guardian did not start, or the
    switch fired while this ran (its renewals failed for the whole timeout). 5: the journal could not be
    used. 6: the same switch is armed by another live process.

    Example:

        safecancel deadman --venue binance_coinm --symbol BTCUSD_PERP --timeout 60
    """
    from .client import Client
    from .config import VenueConfig

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    def say(event: str, text: str, **fields: Any) -> None:
        if as_json:
            click.echo(json.dumps({"event": event, **fields}, separators=(",", ":")))
        else:
            click.echo(text, err=event in ("unhealthy", "fired"))

    with cli_errors():
        with Client(db, venues=[VenueConfig(venue, base_url=base_url or None)]) as client:
            switch = client.dead_man_switch(
                venue,
                symbol,
                timeout=timeout,
                mode=mode,
                guardian=not no_guardian,
                include_conditional=not no_conditional,
                account=account,
                on_unhealthy=lambda why: say("unhealthy", f"warning: {why}", why=why),
                on_healthy=lambda: say("healthy", "renewals landing again"),
            )
            # From here SIGTERM / SIGINT mean "disarm and exit 0" (a signal while arming disarms right after).
            previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                _run_switch(switch, stop, say)
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)


def _run_switch(switch: DeadManSwitch, stop: threading.Event, say: Callable[..., None]) -> None:
    """Arm, renew until told to stop, disarm: the ``deadman`` command's life."""
    switch.arm()
    say(
        "armed",
        f"armed (job {switch.job_id}): {switch.describe()}; SIGTERM or Ctrl-C disarms",
        job_id=switch.job_id,
        venue=switch.venue,
        symbol=switch.symbol,
        timeout=switch.timeout,
        mode=switch.mode,
        scope=switch.describe(),
        renew_every_s=round(switch.arming.interval, 3),
        guardian_pid=switch.guardian_pid,
    )
    while not stop.wait(0.5):
        if switch.state != "armed":
            break
    if switch.state == "fired":
        why = f"job {switch.job_id}: {switch.last_error}; see `safecancel show {switch.job_id}`"
        say("fired", f"error: {why}", job_id=switch.job_id, why=why)
        raise SystemExit(EXIT_VENUE)
    switch.disarm()
    say(
        "disarmed",
        f"disarmed (job {switch.job_id}) after {switch.renewals} renewal(s); the orders stay as they are",
        job_id=switch.job_id,
        renewals=switch.renewals,
        failures=switch.failures,
    )


@cli.command("open-orders")
@click.option("--venue", required=True, type=click.Choice(VENUE_NAMES), help="Venue name.")
@click.option("--symbol", help="Only this symbol, in the venue's own format (default: every symbol).")
@click.option(
    "--no-conditional",
    is_flag=True,
    help="Leave out the conditional-order list on venues that keep one apart (HTX algo, Bitget plan, BingX OCO).",
)
@click.option("--base-url", help="Venue base URL (default $SAFECANCEL_<VENUE>_BASE_URL or production).")
@click.option("--deadline", type=float, default=60.0, show_default=True, help="Seconds to spend on the listing.")
@json_option
def open_orders(venue, symbol, no_conditional, base_url, deadline, as_json) -> None:
    """List the account's open orders on one venue, every page, as the venue reports them now.

    Read-only: nothing is journaled and nothing on the venue changes. Conditional (trigger, algo,
    plan) orders are included and marked.

    \b
    Exit 0: listed (also when there are none). 2: bad input. 3: the venue refused the credentials.
    4: the venue refused the listing, or it could not be read to its last page within --deadline.

    Example:

        safecancel open-orders --venue htx --symbol btcusdt --json
    """
    from .client import Client
    from .config import VenueConfig
    from .render import print_listing

    with cli_errors():
        # No journal is opened: Client opens its database on first use, and a listing never uses it.
        with Client(None, venues=[VenueConfig(venue, base_url=base_url or None)]) as client:
            listing = client.open_orders(venue, symbol, include_conditional=not no_conditional, deadline=deadline)
        if as_json:
            _dump(listing.to_json())
        else:
            print_listing(listing)


@cli.command()
@db_option
@click.option("--job", "job_id", help="Resume one job only.")
@click.option("--deadline", type=float, default=60.0, show_default=True, help="Seconds to spend before returning.")
@click.option(
    "--lease-ttl",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds after which another runner may take a job over if this one dies.",
)
@click.option(
    "--wait", is_flag=True, help="Wait (up to --deadline) for jobs another live runner holds, then finish them."
)
@click.option(
    "--rebind",
    is_flag=True,
    help="With --job: move the job on purpose to the base URL and API key configured now (recorded as an event).",
)
@click.option("--base-url", help="With --job: move the job on purpose to this venue base URL (implies --rebind).")
@json_option
def resume(db, job_id, deadline, lease_ttl, wait, rebind, base_url, as_json) -> None:
    """Continue every unfinished job (after a crash, a deadline or an outage).

    Orders a dead run left in flight are queried at the venue before anything is sent again. A job
    whose runner died on this host is taken over at once; one held by a live runner is named (host,
    pid, until when) and left to it, or waited for with --wait. Each job runs against the base URL
    and API key it was created with; a job this host cannot run is skipped and named, the others run.

    \b
    Exit codes as for `cancel`, the worst over the jobs; also 6: a job is held by another live
    runner; 7: some jobs could not be run here (no credentials for their venue, or another API key).
    """
    from .client import Client
    from .config import VenueConfig
    from .render import print_job, progress_printer

    with cli_errors():
        if (rebind or base_url) and not job_id:
            raise InputError(
                "--rebind and --base-url move one job on purpose (a job runs where it was created): give --job JOB_ID"
            )
        rebind = rebind or bool(base_url)
        update, stop = progress_printer(not as_json and sys.stderr.isatty())
        # Only the job's own venue is used: the URL is offered for each so the job's venue need not be known here.
        kw: dict[str, Any] = {"venues": [VenueConfig(v, base_url=base_url) for v in VENUE_NAMES]} if base_url else {}
        if wait:
            _show_waiting()
        with Client(db, on_progress=update, lease_ttl=lease_ttl, **kw) as client:
            click.echo(f"journal: {client.db_url}", err=True)
            try:
                results = client.resume(job_id, deadline=deadline, wait=wait, rebind=rebind)
            finally:
                stop()
            if as_json:
                _dump(
                    [
                        replace(client.job(r.job_id), held_by=r.held_by, skipped=r.skipped, problem=r.problem).to_json()
                        for r in results
                    ]
                )
        if not as_json:
            if not results:
                click.echo("nothing to resume: every job is finished")
            for r in results:
                print_job(r, events=False)
        _say_why(results)
        raise SystemExit(exit_code(results))


@cli.command()
@db_option
@click.option("--venue", type=click.Choice(VENUE_NAMES), help="Only this venue.")
@click.option(
    "--since",
    metavar="ISO",
    help="Only jobs created at or after this time (ISO-8601: 2026-11-23, 2026-11-23T14:00Z, 2026-11-23T15:00+01:00; "
    "no offset: UTC).",
)
@click.option("--until", metavar="ISO", help="Only jobs created before this time (ISO-8601; no offset: UTC).")
@click.option(
    "--state",
    type=click.Choice(["pending", "sent", "cancelled", "failed", "unknown"]),
    help="Only jobs with an order in this state.",
)
@click.option("--symbol", help="Only jobs with an order on this symbol.")
@click.option("--order", "order_id", help="Only jobs that touched this order id or client order id.")
@click.option("--limit", type=int, help="At most this many jobs.")
@json_option
def history(db, venue, since, until, state, symbol, order_id, limit, as_json) -> None:
    """List jobs, newest first."""
    from .client import Client
    from .render import print_history

    with cli_errors(), Client(db, read_only=True) as client:
        rows = client.history(
            venue=venue,
            since=since,
            until=until,
            state=state,
            symbol=symbol,
            order_id=order_id,
            limit=limit,
        )
        if not as_json:
            click.echo(f"journal: {client.db_url}", err=True)
    if as_json:
        _dump([r.to_json() for r in rows])
    else:
        print_history(rows)


@cli.command()
@click.argument("job_id", required=False)
@db_option
@click.option("--order", "order_id", help="Show every job that touched this exact order id or client order id.")
@click.option(
    "--evidence", is_flag=True, help="Also show each exchange: the request (no secrets) and the venue's reply."
)
@click.option(
    "--timeline",
    type=click.Path(dir_okay=False, writable=True),
    help="Also draw the job's timeline to a .svg or .html file.",
)
@json_option
def show(job_id, db, order_id, evidence, timeline, as_json) -> None:
    """Show a job: its orders, and every event with what the venue answered.

    With --order, every job that touched that order (matched exactly), showing that order only.
    """
    from .client import Client
    from .render import only_order, print_job
    from .timeline import write_timeline

    with cli_errors(), Client(db, read_only=True) as client:
        if (job_id is None) == (order_id is None):
            raise InputError("give a JOB_ID or --order ORDER_ID")
        if order_id is not None:
            results = [client.job(s.job_id, evidence=evidence) for s in client.history(order_id=order_id)]
            if not results:
                raise InputError(f"no job touched order {order_id!r}")
        else:
            results = [client.job(job_id, evidence=evidence)]
        if timeline:
            write_timeline(client, results[0].job_id, timeline)
    if as_json:
        _dump(results[0].to_json() if job_id else [only_order(r, order_id).to_json() for r in results])
    else:
        for r in results:
            print_job(r if order_id is None else only_order(r, order_id), events=True, evidence=evidence)
        if timeline:
            click.echo(f"timeline written to {timeline}")


@cli.command()
@click.argument("job_id")
@click.argument("order")
@click.option(
    "--as", "as_state", required=True, type=click.Choice(["cancelled", "failed"]), help="The operator's decision."
)
@click.option("--note", required=True, help="Why (recorded in the journal with provenance `operator`).")
@db_option
@json_option
def resolve(job_id, order, as_state, note, db, as_json) -> None:
    """Settle an `unknown` order by an operator's decision (never done automatically).

    For orders the venue can no longer answer for (Binance forgets unfilled cancelled orders after
    3 days, HTX API orders 2 hours after cancel). Refused for any order that is not `unknown`.
    """
    from .client import Client
    from .render import print_job

    with cli_errors(), Client(db) as client:
        result = client.resolve(job_id, order, as_state, note)
    if as_json:
        _dump(result.to_json())
    else:
        print_job(result, events=False)


@cli.group()
def audit() -> None:
    """Check the journal's integrity."""


@audit.command()
@db_option
@json_option
def verify(db, as_json) -> None:
    """Prove the journal: the hash chain of every event, then every job and order row against the
    replay of its events (what `show` and `history` display). Exit 0 if intact; 1 naming the first
    broken event or differing row. Read-only: works on a journal on read-only storage.
    """
    from .client import Client

    with cli_errors(), Client(db, read_only=True) as client:
        started = time.monotonic()
        report = client.audit()
        seconds = time.monotonic() - started
        seq, head = client.journal_head()
        where = client.db_url
    if as_json:
        _dump({**report.to_json(), "journal": where, "head_seq": seq, "head_hash": head, "seconds": round(seconds, 3)})
    elif report.ok:
        click.echo(
            f"journal intact: {report.events} events verified, {report.jobs} jobs and {report.orders} orders match "
            f"their events ({seconds:.1f} s); head {seq} {head}"
        )
    else:
        click.echo(f"journal BROKEN after checking {report.events} events: {report.problem}", err=True)
    raise SystemExit(0 if report.ok else 1)


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--table",
    type=click.Choice(["jobs", "orders", "events", "all"]),
    default="all",
    show_default=True,
    help="What to export; `all` (JSON lines only) writes jobs, then orders, then events, each with a `type`.",
)
@click.option("--since", metavar="ISO", help="Only jobs created at or after this time (ISO-8601; no offset: UTC).")
@click.option("--until", metavar="ISO", help="Only jobs created before this time (ISO-8601; no offset: UTC).")
@click.option("--venue", type=click.Choice(VENUE_NAMES), help="Only this venue.")
@click.option("--job", "job_id", metavar="JOB_ID", help="Only this job.")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Write here instead of stdout."
)
@click.option("--json", "as_json", is_flag=True, help="The summary (rows per table) as JSON on stderr.")
def export(db, fmt, table, since, until, venue, job_id, output, as_json) -> None:
    """Stream jobs, orders and events for a compliance archive (bounded memory).

    Stable column names, times in ISO-8601 UTC (see the README for the columns). The data goes to
    stdout (or -o) in its format; a summary of what was written goes to stderr. An exchange with the
    venue is written once: its evidence_query and evidence_response are on its first event (lowest
    seq with that evidence_id) and null on the others.

    Example:

        safecancel export --format csv --table events --since 2026-11-01 -o events.csv
    """
    from .client import Client

    counts: dict[str, int] = {}
    with cli_errors(), Client(db, read_only=True) as client:
        if fmt == "csv" and table == "all":
            raise InputError("CSV holds one table at a time: choose --table jobs, orders or events")
        tables = ["jobs", "orders", "events"] if table == "all" else [table]
        rows = {t: client.export(t, since=since, until=until, venue=venue, job=job_id) for t in tables}
        if fmt == "csv":
            writer = csv.DictWriter(output, fieldnames=client.export_columns(table), lineterminator="\n")
            writer.writeheader()
            for row in rows[table]:
                writer.writerow(row)
                counts[table] = counts.get(table, 0) + 1
        else:
            for t in tables:
                for row in rows[t]:
                    output.write(json.dumps({"type": t[:-1], **row}, ensure_ascii=False, separators=(",", ":")) + "\n")
                    counts[t] = counts.get(t, 0) + 1
        where = client.db_url
    summary = {t: counts.get(t, 0) for t in tables}
    if as_json:
        click.echo(json.dumps({"journal": where, "format": fmt, "rows": summary}), err=True)
    else:
        click.echo(f"exported {', '.join(f'{n} {t}' for t, n in summary.items())} from {where}", err=True)


@cli.command()
@db_option
@click.option(
    "--before",
    required=True,
    metavar="TIME",
    help="Remove finished jobs created before this time (ISO-8601, e.g. 2026-11-01 or 2026-11-01T00:00+01:00; "
    "no offset: UTC).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@json_option
def prune(db, before, yes, dry_run, as_json) -> None:
    """Remove finished jobs older than a date; the hash chain keeps verifying (a checkpoint records the cut).

    Says how many jobs and events it will remove before removing them, then that the journal verifies
    after the cut; it audits the journal once for all of that. Unfinished jobs are never removed, and a
    journal that does not verify is never pruned.
    """

    from .client import Client
    from .inputs import utc_time

    refused = False

    # One audit for the whole command: the plan it shows, the question, the removal and the result all
    # come from one client.prune call (which asks through `confirm` between its audit and the removal).
    with cli_errors(), Client(db) as client:
        cut = utc_time(before, "--before")
        where = client.db_url

        def plan(jobs: int, events: int) -> str:
            return f"{jobs} finished jobs ({events} events) created before {cut} in {where}"

        def confirm(jobs: int, events: int) -> bool:
            nonlocal refused
            click.echo(f"will remove {plan(jobs, events)}", err=True)
            refused = not (yes or click.confirm("remove them?", err=True))
            return not refused

        result = client.prune(cut, dry_run=dry_run, confirm=confirm)
    if refused:
        raise SystemExit(1)
    (jobs_planned, events_planned), report = result.planned, result.verify
    removed = (0, 0) if dry_run else tuple(result)
    if dry_run or not jobs_planned:
        what = plan(jobs_planned, events_planned)
        click.echo(f"would remove {what}" if dry_run else f"nothing to prune: {what}", err=as_json)
    out: dict[str, Any] = {
        "journal": where,
        "before": cut,
        "dry_run": dry_run,
        "would_remove": {"jobs": jobs_planned, "events": events_planned},
        "removed": {"jobs": removed[0], "events": removed[1]},
        "verify": report.to_json(),
    }
    if as_json:
        _dump(out)
    elif not dry_run and jobs_planned:
        state = "intact" if report.ok else f"BROKEN: {report.problem}"
        click.echo(f"removed {removed[0]} jobs and {removed[1]} events; journal {state} ({report.events} events)")
    raise SystemExit(0 if report.ok else 1)


@cli.command("fake-venue")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--latency-ms", type=int, default=0, show_default=True, help="Added to every venue request.")
@click.option("--enforce-rate-limits", is_flag=True, help="Answer over-limit requests as each venue does.")
@click.option(
    "--async-delay-ms",
    type=int,
    default=150,
    show_default=True,
    help="How long HTX/Bitget take to apply an accepted cancel.",
)
def fake_venue(host, port, latency_ms, enforce_rate_limits, async_delay_ms) -> None:
    """Serve the fake venue (all five venues' endpoints plus /_fake/ control) until killed.

    Accepts key `test-key`, secret `test-secret`, passphrase `test-pass`.
    """
    from .testing import FakeVenue  # here: the fake venue loads only when served (start-up time)

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.BadParameter("the fake venue serves loopback only", param_hint="--host")
    fake = FakeVenue(
        host, port, latency_ms=latency_ms, enforce_rate_limits=enforce_rate_limits, async_delay_ms=async_delay_ms
    )
    fake.bind()
    click.echo(f"listening on {fake.url}")
    sys.stdout.flush()
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass


@cli.command()
@db_option
@click.option("--orders", "per_venue", type=int, default=40, show_default=True, help="Open orders seeded per venue.")
@click.option("--latency-ms", type=int, default=5, show_default=True, help="Latency the fake venue adds.")
def demo(db, per_venue, latency_ms) -> None:
    """The main job on embedded defaults: a fake venue in-process, open orders on every venue,
    cancelled through real HTTP with injected faults; progress, a per-venue summary, then the history."""
    from .testing.demo import run_demo  # here: the fake venue loads only for the demo (start-up time)

    with cli_errors():
        raise SystemExit(run_demo(db, per_venue=per_venue, latency_ms=latency_ms))


@cli.command("migrate-store")
@click.option(
    "--from", "source", required=True, metavar="URL", help="The journal to copy: a SQLite path or URL (must exist)."
)
@click.option(
    "--to", "target", required=True, metavar="URL", help="An empty database, e.g. postgresql+psycopg://user@host/db."
)
@json_option
def migrate_store(source: str, target: str, as_json: bool) -> None:
    """Copy an existing journal into a new database (e.g. SQLite into a fleet's PostgreSQL).

    Every job, order, evidence row and event is copied verbatim, so the hash chain and its head
    stay the same; the copy is verified on the target before this reports success. The target
    must be empty. Exit 0 on success, 2 on bad input (e.g. a non-empty target), 5 if a database
    could not be used or a chain did not verify.

    \b
    Example:
        safecancel migrate-store --from sqlite:///a.db --to postgresql+psycopg://bot@db.internal/journal
    """
    from .store import migrate_journal

    with cli_errors():
        report = migrate_journal(source, target)
    if as_json:
        _dump(asdict(report))
        return
    rows = ", ".join(f"{n} {name}" for name, n in report.rows.items())
    click.echo(f"copied {rows}\nfrom {report.source}\nto   {report.target}")
    click.echo(
        f"chain verified on the target: {report.events_verified} events; head {report.head_seq} {report.head_hash}"
    )


def main() -> None:
    cli(prog_name="safecancel")


if __name__ == "__main__":
    main()
