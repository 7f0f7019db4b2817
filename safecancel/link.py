"""One venue account as the engine and the listings talk to it: the link, one exchange, its evidence,
and the server clock.

Shared by :mod:`safecancel.engine` (cancels and queries of a job) and :mod:`safecancel.listing` (open
orders, conditional orders, recent history), so both sign with the same measured clock, pace on the same
buckets and record requests the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .clock import Clock
from .errors import TransportError
from .model import Credentials, HttpRequest, HttpResponse
from .store.rows import Evidence
from .venues.base import Venue, redact_query

if TYPE_CHECKING:  # annotations only: importing the transport would load requests (start-up time)
    from .transport import ServerClock, TokenBucket, Transport

RESPONSE_LIMIT = 8192  # bytes of a reply kept as evidence
# A request started before a caller's deadline may take this much past it: enough for a reply already on
# its way, and the most a call overshoots its deadline by (a request cut shorter would only make its
# orders ``unknown`` -- a timeout proves nothing -- and cost a query later).
DEADLINE_GRACE_S = 0.25

# Under the wire's name: every request at DEBUG (logged here, because only the adapter knows which query
# parameters are secret: redacted as in the evidence; headers, which carry keys and signatures, and
# bodies are never logged), and the server clock: measured (DEBUG), re-measured or unavailable (WARNING).
log = logging.getLogger("safecancel.transport")


@dataclass
class VenueLink:
    """Everything needed to talk to one venue account; shared across jobs of a client."""

    adapter: Venue
    creds: Credentials
    cancel_bucket: TokenBucket
    query_bucket: TokenBucket
    server_clock: ServerClock
    list_bucket: TokenBucket | None = None  # listings (open orders, history); None: paced with queries
    # The account id the venue's listings need (HTX's ``account-id``), once looked up: it names the
    # account the API key belongs to, so it holds for the life of the link.
    account_id: str | None = None

    @property
    def listing_bucket(self) -> TokenBucket:
        return self.list_bucket if self.list_bucket is not None else self.query_bucket


def exchange(
    venue: Venue, transport: Transport, clock: Clock, req: HttpRequest
) -> tuple[HttpResponse | None, TransportError | None, float]:
    """Send one request: (reply, None, sent_at) or (None, the transport error, sent_at)."""
    at = clock.now()
    try:
        resp = transport.send(venue.base_url, req, venue=venue.name)
    except TransportError as exc:
        if log.isEnabledFor(logging.DEBUG):
            took = (clock.now() - at) * 1000
            log.debug("%s %s %s -> %s after %.0f ms", venue.name, req.endpoint, _target(venue, req), exc, took)
        return None, exc, at
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s %s %s -> HTTP %d in %.0f ms",
            venue.name,
            req.endpoint,
            _target(venue, req),
            resp.status,
            resp.elapsed_ms,
        )
    return resp, None, at


def _target(venue: Venue, req: HttpRequest) -> str:
    """The method, path and query of a request as a log line shows it: secret parameters redacted."""
    query = redact_query(req.query, venue.secret_params)
    return f"{req.method} {req.path}" + (f"?{query}" if query else "")


def evidence(venue: Venue, req: HttpRequest, resp: HttpResponse | None, error: str | None, at: float) -> Evidence:
    """What the journal keeps of one exchange: secrets redacted from the query, the reply bounded."""
    body = req.body.decode("utf-8", "replace") if req.body else None
    query = redact_query(req.query, venue.secret_params)
    status, response, elapsed = (
        (None, None, None)
        if resp is None
        else (resp.status, resp.body[:RESPONSE_LIMIT].decode("utf-8", "replace"), int(resp.elapsed_ms))
    )
    return Evidence(
        endpoint=req.endpoint,
        method=req.method,
        path=req.path,
        query=query,
        body=body,
        status=status,
        response=response,
        elapsed_ms=elapsed,
        error=error,
        at=at,
    )


def sync_clock(
    link: VenueLink,
    transport: Transport,
    clock: Clock,
    failed: HttpResponse | None = None,
    *,
    timeout: float | None = None,
) -> tuple[Evidence | None, str]:
    """Measure the venue's clock offset (first use, or after a timestamp rejection).

    Returns the time request's evidence (None for a venue without a time endpoint) and a note saying
    what was learnt, for the caller to record. ``timeout`` caps the time request (a caller's deadline).
    """
    venue, sc = link.adapter, link.server_clock
    time_req = venue.build_time()
    if time_req is not None and timeout is not None:
        time_req = replace(time_req, timeout=timeout)
    if time_req is None:
        # No time endpoint (BitoPro): learn the offset from the rejected reply's own time, if any.
        if failed is not None:
            sc.set_from(venue.parse_time(failed))
            log.warning(
                "%s: timestamp rejected; server clock re-measured from the reply: offset %d ms",
                venue.name,
                sc.now_ms() - int(clock.now() * 1000),
            )
        return None, "server time taken from the reply's Date header"
    box: dict[str, object] = {}

    def fetch() -> int | None:
        resp, err, at = exchange(venue, transport, clock, time_req)
        box.update(resp=resp, err=err, at=at)
        return venue.parse_time(resp) if resp is not None else None

    offset = sc.measure(fetch)
    resp, err, at = box.get("resp"), box.get("err"), box.get("at")
    note = "server time unavailable; using the local clock" if offset is None else f"server time offset {offset} ms"
    if offset is None:
        log.warning("%s: %s", venue.name, note if err is None else f"{note} ({err})")
    elif failed is not None:
        log.warning("%s: timestamp rejected; server clock re-measured: offset %d ms", venue.name, offset)
    else:
        log.debug("%s: server clock measured: offset %d ms", venue.name, offset)
    return evidence(venue, time_req, resp, str(err) if err else None, at), note  # type: ignore[arg-type]
