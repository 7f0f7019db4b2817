"""A dead-man switch's guardian: ``python -m safecancel.guardian`` (started by the switch, not by hand).

The switch starts it in a session of its own (it outlives the bot's process group) and writes its
settings to its stdin as JSON -- the journal URL, the job, the venue, base URL and credentials (on a
pipe: never in argv or the environment, where other processes could read them). It prints one line,
``watching``, once it watches, and nothing after (the bot may be gone).

Then it watches the switch's heartbeat (the job's lease, renewed by the bot) and lists the scope now
and then, so that it knows which orders were open. It stops when the switch is disarmed (the job is
done). When the heartbeat stops for the timeout (on venues with a countdown, a moment longer: the venue
strikes first), it fires the switch -- :meth:`Client._fire_dead_man`, a journaled kill switch that
also records what the venue cancelled -- and stops.

On another host, against a shared PostgreSQL journal, :func:`run_guardian` watches a switch the same
way (a guardian on the bot's host does not survive the loss of that host).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable

from .client import Client
from .config import VenueConfig
from .deadman import NATIVE_GRACE_S, Arming
from .errors import SafeCancelError
from .model import Credentials, JobStatus, ListedOrder
from .scope import Fit, Scope
from .venues import Rate

log = logging.getLogger("safecancel.guardian")

POLL_S = 0.25  # how often the heartbeat is read (a cheap read of one row)
FRESH_MARGIN_MS = 1000  # a listing that ends this close to the heartbeat's expiry may already see the firing


def run_guardian(
    client: Client,
    job_id: str,
    *,
    ready: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> str:
    """Watch one dead-man switch until it is disarmed ("disarmed"), fires ("fired"; this guardian fired it
    and verified what it left), passes to another holder ("handed over": a restarted bot carried it on with
    a guardian of its own, or another runner fires it) -- or ``stop`` is set ("stopped"). ``ready`` is
    called once the first listing of the scope was tried."""
    journal = client._journal
    job = journal.get_job(job_id)
    if job is None:
        raise SafeCancelError(f"no job {job_id!r} in {client.db_url}")
    arming = Arming.from_scope_json(job.scope)
    scope = Scope.from_json(job.scope or "{}")
    grace_ms = int(NATIVE_GRACE_S * 1000) if arming.mode == "native" else 0
    every = min(30.0, max(2.0, arming.timeout / 2))  # how often the scope is listed while the bot lives
    clock = client._clock
    watched: list[ListedOrder] = []
    next_listing = 0.0
    said = False
    bot, _, _ = journal.lease(job_id)  # the bot that started this guardian holds the lease
    log.info(
        "job %s: guardian watching the dead-man switch (%s mode, %s s timeout)", job_id, arming.mode, arming.timeout
    )
    while stop is None or not stop.is_set():
        job = journal.get_job(job_id)
        if job is None or job.status == JobStatus.DONE:
            return "disarmed"
        owner, _, expires_ms = journal.lease(job_id)
        if owner is not None and owner != bot:
            # Another bot carried the switch on (it starts its own guardian), or another runner is firing it.
            return "handed over"
        now_ms = int(clock.now() * 1000)
        if expires_ms is None or expires_ms + grace_ms < now_ms:
            result = client._fire_dead_man(job_id, watched)
            log.warning("job %s: fired; the job is %s", job_id, result.status)
            return "fired"
        if clock.monotonic() >= next_listing:
            watched = _listing(client, scope, expires_ms, watched)
            next_listing = clock.monotonic() + every
            if not said and ready is not None:
                ready()
            said = True
        clock.sleep(POLL_S)
    return "stopped"


def _listing(client: Client, scope: Scope, expires_ms: int, before: list[ListedOrder]) -> list[ListedOrder]:
    """The orders open in scope now; the previous listing when this one fails or may be too late."""
    try:
        listing = client.open_orders(scope.venue, scope.symbol, include_conditional=scope.include_conditional)
    except SafeCancelError as exc:
        log.warning("listing the scope failed (%s); keeping the previous listing", exc)
        return before
    if int(client._clock.now() * 1000) > expires_ms - FRESH_MARGIN_MS:
        return before  # the switch may have fired under this listing: what it shows is not what was open
    return [o for o in listing.orders if scope.fit(o) is Fit.IN]


def _say_watching() -> None:
    """Tell the switch once, then let go of stdout: the bot that reads it may be gone by the next write."""
    try:
        os.write(1, b"watching\n")
    except OSError:
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def main() -> int:
    config = json.loads(sys.stdin.buffer.read().decode())
    sys.stdin.close()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    creds = Credentials(**config["credentials"])
    rate = config.get("rate")
    venue = VenueConfig(
        config["venue"],
        credentials=creds,
        base_url=config["base_url"],
        batch_size=config.get("batch_size"),
        rate=Rate(*rate) if rate else None,
        options=config.get("options") or {},
        pacing=config.get("pacing"),
    )
    with Client(config["db"], venues=[venue], environ={}, lease_ttl=float(config.get("lease_ttl") or 30)) as client:
        outcome = run_guardian(client, config["job_id"], ready=_say_watching)
    log.info("job %s: guardian done (%s)", config["job_id"], outcome)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
