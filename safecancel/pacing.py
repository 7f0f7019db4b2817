"""Pacing shared per venue account: the token buckets and the server-clock offset of one API key.

Rate limits and the server-clock offset belong to (venue, API key, endpoint), not to a ``Client``:
two Clients in one process on the same key must share one budget, or together they send twice the
venue's rate (seen: 7 x 429 in 60 requests on BingX).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from .clock import Clock
from .transport import ServerClock, TokenBucket
from .venues.base import Rate

PACING_MARGIN = 0.95  # pace at 95% of the documented rate: clocks and windows never line up exactly


def _bucket(rate: Rate, clock: Clock, label: str = "requests") -> TokenBucket:
    """Pacing for one documented rate. The burst stays within the margin, so that even a venue that
    counts in fixed windows never sees more than its limit in one window (BingX blocks for 5 minutes).
    ``label`` names it in the ``safecancel.pacing`` log lines (each wait, at DEBUG)."""
    burst = max(1.0, rate.requests * (1 - PACING_MARGIN))
    return TokenBucket(rate.per_second * PACING_MARGIN, burst, clock, label=label)


# Keyed by the clock object too, so that tests driving a fake clock never share a bucket with real time.
_PACING: dict[tuple[Any, ...], tuple[TokenBucket, TokenBucket, ServerClock]] = {}
_PACING_LOCK = threading.Lock()


def shared_pacing(
    venue: str, key_id: str, base_url: str, cancel: Rate, query: Rate, clock: Clock
) -> tuple[TokenBucket, TokenBucket, ServerClock]:
    """The cancel bucket, query bucket and server clock of one venue account (created on first use)."""
    ident = (venue, key_id, base_url, cancel, query, clock)
    with _PACING_LOCK:
        found = _PACING.get(ident)
        if found is None:
            found = _PACING[ident] = (
                _bucket(cancel, clock, f"{venue} cancel"),
                _bucket(query, clock, f"{venue} query"),
                ServerClock(clock),
            )
        return found


def key_fingerprint(api_key: str) -> str:
    """A one-way fingerprint of an API key: tells keys apart in the journal without storing them."""
    return hashlib.sha256(b"safecancel/key-fp/v1:" + api_key.encode()).hexdigest()[:16]


_OTHER_PACING: dict[tuple[Any, ...], TokenBucket] = {}


def shared_bucket(kind: str, venue: str, key_id: str, base_url: str, rate: Rate, clock: Clock) -> TokenBucket:
    """Another endpoint's bucket of one venue account: ``kind`` "list" (open orders, history: the
    adapter's ``list_rate``) or "cancel_all" (the venue's own cancel-all: ``cancel_all_rate``)."""
    ident = (kind, venue, key_id, base_url, rate, clock)
    with _PACING_LOCK:
        found = _OTHER_PACING.get(ident)
        if found is None:
            found = _OTHER_PACING[ident] = _bucket(rate, clock, f"{venue} {kind}")
        return found
