"""Pacing shared per venue account: the token buckets and the server-clock offset of one API key.

Rate limits and the server-clock offset belong to the venue's accounting, not to a ``Client``: two
Clients in one process on the same key must share one budget, or together they send twice the venue's
rate (seen: 7 x 429 in 60 requests on BingX).

The accounting is the adapter's (:mod:`safecancel.venues.base`): each paced kind of request
(:data:`~safecancel.venues.base.PACED_KINDS`) has its own documented rate, kept per (venue, API key, base
URL); where the venue also keeps a limit the endpoints share (``shared_budget``: Binance COIN-M's
REQUEST_WEIGHT, counted per IP), one bucket per (venue, base URL) holds it, and every request spends its
kind's weight from it as well as one request of its own rate. Where the docs leave the accounting open
the adapter names the readings (``pacing_options``); ``VenueConfig(pacing=...)`` picks one.

:func:`rate_bound` states what that accounting allows, in seconds, for a number of requests: the bound a
benchmark holds a run against.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .venues.base import PACED_KINDS, Rate, VenueAdapter, clip

if TYPE_CHECKING:  # annotations only: the transport (requests) loads when the first bucket is built
    from .clock import Clock
    from .transport import ServerClock, TokenBucket

PACING_MARGIN = 0.95  # pace at 95% of the documented rate: clocks and windows never line up exactly


def _bucket(rate: Rate, clock: Clock, label: str = "requests") -> TokenBucket:
    """Pacing for one documented rate. The burst stays within the margin, so that even a venue that
    counts in fixed windows never sees more than its limit in one window (BingX blocks for 5 minutes).
    ``label`` names it in the ``safecancel.pacing`` log lines (each wait, at DEBUG)."""
    from .transport import TokenBucket

    burst = max(1.0, rate.requests * (1 - PACING_MARGIN))
    return TokenBucket(rate.per_second * PACING_MARGIN, burst, clock, label=label)


def check_pacing(venue: str, pacing: object) -> str | None:
    """``pacing`` as ``VenueConfig(pacing=...)`` takes it: None (the venue's default reading) or one of
    the adapter's ``pacing_options``; :class:`InputError` naming the venue and the choices otherwise."""
    from .venues import venue_class

    if pacing is None:
        return None
    options = venue_class(venue).pacing_options
    if not options:
        raise InputError(f"{venue}: pacing does not apply (the venue documents one accounting), got {clip(pacing)}")
    if not isinstance(pacing, str) or pacing not in options:
        choices = ", ".join(repr(name) for name in options)
        raise InputError(f"{venue}: pacing must be one of {choices} (or None for the default), got {clip(pacing)}")
    return pacing


def endpoint_rates(cls: type[VenueAdapter], *, rate: Rate | None = None, pacing: str | None = None) -> dict[str, Rate]:
    """Each paced kind's own rate under the chosen reading (``pacing``; None: ``default_pacing``).

    ``rate`` is ``VenueConfig.rate``: it replaces the cancel and query rates, and paces listings too
    where it is slower than theirs (an account with other limits than the documented defaults).
    """
    rates = {kind: getattr(cls, f"{kind}_rate") for kind in PACED_KINDS}
    option = pacing if pacing is not None else cls.default_pacing
    rates.update(cls.pacing_options.get(option, {}) if option is not None else {})
    if rate is not None:
        rates["cancel"] = rates["query"] = rate
        if rate.per_second < rates["list"].per_second:
            rates["list"] = rate
    return rates


def budget_weights(cls: type[VenueAdapter], *, rate: Rate | None = None) -> Mapping[str, int]:
    """What each paced kind spends from the venue's shared budget (empty: the venue has none).

    With ``rate`` (``VenueConfig.rate``, an account whose limits are not the documented defaults) cancels
    and queries keep to that rate alone: the documented budget is not theirs to count against.
    """
    budget = cls.shared_budget
    if budget is None:
        return {}
    weights = {kind: w for kind, w in budget.weights.items() if w > 0}
    if rate is not None:
        weights.pop("cancel", None)
        weights.pop("query", None)
    return weights


@dataclass(frozen=True)
class VenuePacing:
    """The buckets of one venue account, one per paced kind, and its server clock."""

    cancel: TokenBucket
    query: TokenBucket
    list: TokenBucket
    cancel_all: TokenBucket
    countdown: TokenBucket
    server_clock: ServerClock


# Keyed by the clock object too, so that tests driving a fake clock never share a bucket with real time.
_BUCKETS: dict[tuple[Any, ...], TokenBucket] = {}
_CLOCKS: dict[tuple[Any, ...], ServerClock] = {}
_PACING: dict[tuple[Any, ...], VenuePacing] = {}
_PACING_LOCK = threading.Lock()


def _shared(ident: tuple[Any, ...], rate: Rate, clock: Clock, label: str) -> TokenBucket:
    found = _BUCKETS.get(ident)
    if found is None:
        found = _BUCKETS[ident] = _bucket(rate, clock, label)
    return found


def shared_pacing(
    cls: type[VenueAdapter],
    key_id: str,
    base_url: str,
    clock: Clock,
    *,
    rate: Rate | None = None,
    pacing: str | None = None,
) -> VenuePacing:
    """The buckets and server clock of one venue account (created on first use, then shared).

    Each kind's own rate is one bucket per (venue, key, base URL, kind, rate). The shared budget, if the
    venue has one, is one bucket per (venue, base URL) when counted per IP -- every key of the process
    leaves from the same address -- or per (venue, key, base URL) when counted per account; a kind that
    spends from it gets a bucket drawing from both at once.
    """
    from .transport import ServerClock, TokenBucket

    venue = cls.name
    pacing = check_pacing(venue, pacing)
    ident = (venue, key_id, base_url, rate, pacing, clock)
    with _PACING_LOCK:
        found = _PACING.get(ident)
        if found is not None:
            return found
        rates = endpoint_rates(cls, rate=rate, pacing=pacing)
        weights = budget_weights(cls, rate=rate)
        budget = cls.shared_budget
        shared = None
        if budget is not None and weights:
            holder = key_id if budget.per == "account" else None
            shared = _shared(
                ("budget", venue, holder, base_url, budget.name, budget.limit, clock),
                budget.limit,
                clock,
                f"{venue} {budget.name}",
            )
        buckets: dict[str, TokenBucket] = {}
        for kind in PACED_KINDS:
            label = f"{venue} {kind}"
            own = _shared(("rate", venue, key_id, base_url, kind, rates[kind], clock), rates[kind], clock, label)
            weight = weights.get(kind, 0)
            if shared is None or weight == 0:
                buckets[kind] = own
            else:
                buckets[kind] = TokenBucket.drawing(((own, 1.0), (shared, float(weight))), label=label)
        server_clock = _CLOCKS.get((venue, key_id, base_url, clock))
        if server_clock is None:
            server_clock = _CLOCKS[(venue, key_id, base_url, clock)] = ServerClock(clock)
        found = _PACING[ident] = VenuePacing(server_clock=server_clock, **buckets)
        return found


def shared_bucket(
    kind: str,
    cls: type[VenueAdapter],
    key_id: str,
    base_url: str,
    clock: Clock,
    *,
    rate: Rate | None = None,
    pacing: str | None = None,
) -> TokenBucket:
    """One kind's bucket of one venue account (``kind`` one of :data:`PACED_KINDS`: "list" for open
    orders and history, "cancel_all" for the venue's own cancel-all, "countdown" for its dead-man
    countdown), as :func:`shared_pacing` builds it."""
    if kind not in PACED_KINDS:
        raise ValueError(f"unknown paced kind {kind!r}; known: {', '.join(PACED_KINDS)}")
    bucket: TokenBucket = getattr(shared_pacing(cls, key_id, base_url, clock, rate=rate, pacing=pacing), kind)
    return bucket


def rate_bound(
    cls: type[VenueAdapter],
    cancels: int,
    queries: int,
    lists: int = 0,
    *,
    pacing: str | None = None,
    rate: Rate | None = None,
) -> float:
    """Seconds the venue's documented accounting needs for ``cancels`` batch-cancel requests, then
    ``queries`` single-order queries (those confirming the cancels) and ``lists`` listing pages.

    At exactly the documented rates (no pacing margin, no round trips, no initial burst): each kind at
    its own rate, one kind after another as the engine sends them, and all of them together within the
    shared budget, if the venue has one -- whichever takes longer. ``pacing`` and ``rate`` are those of
    ``VenueConfig``. E.g. 2000 Binance COIN-M batch cancels: 100 s under the default "orders" reading
    (1200/min), 50 s under "weight" (REQUEST_WEIGHT 2400/min at weight 1).

    Raises:
        InputError: a ``pacing`` the venue does not offer.
        ValueError: a negative count.
    """
    counts = {"cancel": cancels, "query": queries, "list": lists}
    if any(n < 0 for n in counts.values()):
        raise ValueError(f"request counts must be >= 0, got {counts}")
    pacing = check_pacing(cls.name, pacing)
    rates = endpoint_rates(cls, rate=rate, pacing=pacing)
    own = sum(n / rates[kind].per_second for kind, n in counts.items())
    weights = budget_weights(cls, rate=rate)
    budget = cls.shared_budget
    if budget is None or not weights:
        return own
    spent = sum(n * weights.get(kind, 0) for kind, n in counts.items())
    return max(own, spent / budget.limit.per_second)


def key_fingerprint(api_key: str) -> str:
    """A one-way fingerprint of an API key: tells keys apart in the journal without storing them."""
    return hashlib.sha256(b"safecancel/key-fp/v1:" + api_key.encode()).hexdigest()[:16]
