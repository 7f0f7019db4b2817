"""The fake venue's order ledger: the ground truth that tests compare the journal against."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("open", "filled", "cancelled")


@dataclass
class FakeOrder:
    venue: str
    symbol: str
    order_id: str
    client_order_id: str | None
    status: str = "open"  # open | filled | cancelled (| cancelling, shown as open, for async venues)
    cancel_requests: int = 0
    created_ms: int = 0
    updated_ms: int = 0
    cancel_due_ms: int | None = None  # async venues: when an accepted cancel takes effect
    qty: str = "1"
    price: str = "100"
    side: str = "BUY"
    # A trigger / algo / plan order. Where the venue keeps those on a list of their own (HTX algo,
    # Bitget plan, BingX OCO) its dialect lists and cancels them apart; elsewhere they are ordinary orders.
    conditional: bool = False

    @property
    def public_status(self) -> str:
        return "open" if self.status == "cancelling" else self.status

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "status": self.public_status,
            "cancel_requests": self.cancel_requests,
            "conditional": self.conditional,
        }


@dataclass
class FakeCountdown:
    """A venue's dead-man countdown as the fake keeps it: armed until disarmed, or until it fires.

    ``symbol`` None: the countdown covers every symbol of the account (BingX, HTX). When it fires, every
    open order in scope is cancelled -- conditional ones too only where ``conditional`` (the venue keeps
    them on the ordinary book), at most ``cap`` of them (HTX: 500), oldest first.
    """

    venue: str
    symbol: str | None
    timeout_ms: int
    armed_ms: int
    trigger_ms: int
    conditional: bool = True
    cap: int | None = None
    state: str = "armed"  # armed | disarmed | fired
    renewals: int = 0
    ended_ms: int | None = None
    cancelled: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "timeout_ms": self.timeout_ms,
            "armed_ms": self.armed_ms,
            "trigger_ms": self.trigger_ms,
            "state": self.state,
            "renewals": self.renewals,
            "ended_ms": self.ended_ms,
            "cancelled": list(self.cancelled),
        }


def symbol_key(symbol: str) -> str:
    """Venues differ in case (BitoPro's path is lower-case, its body upper-case): compare case-folded."""
    return symbol.casefold()


@dataclass
class Ledger:
    """Orders per venue, guarded by one lock (the fake's handlers run on many threads)."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    orders: dict[str, list[FakeOrder]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(9_000_000_001))
    # Indexes, so a lookup costs the same with 10 or 100,000 orders (the fake must not be the
    # bottleneck the benchmark measures): (venue, id) -> orders with that id, oldest first.
    _by_id: dict[tuple[str, str], list[FakeOrder]] = field(default_factory=dict)
    _by_cid: dict[tuple[str, str], list[FakeOrder]] = field(default_factory=dict)
    _cancelling: list[FakeOrder] = field(default_factory=list)
    # Dead-man countdowns, armed ones under (venue, symbol key or None); every one ever armed in ``timers``.
    countdowns: dict[tuple[str, str | None], FakeCountdown] = field(default_factory=dict)
    timers: list[FakeCountdown] = field(default_factory=list)

    def reset(self) -> None:
        with self.lock:
            self.countdowns.clear()
            self.timers.clear()
            self.orders.clear()
            self._by_id.clear()
            self._by_cid.clear()
            self._cancelling.clear()

    def seed(self, venue: str, symbol: str, specs: list[dict[str, Any]], now_ms: int) -> list[FakeOrder]:
        """Add orders; an order without ``order_id`` gets a fresh numeric one.

        A spec may give ``order_id``, ``client_order_id``, ``status``, ``conditional`` (bool), ``side``,
        ``price``, ``quantity`` and ``created_ms`` (default: now). Ids grow with creation, as venues' do,
        so listings paged by id see the oldest orders last (newest first) or first.
        """
        added = []
        with self.lock:
            bucket = self.orders.setdefault(venue, [])
            for spec in specs:
                status = spec.get("status", "open")
                if status not in STATUSES:
                    raise ValueError(f"bad status {status!r}; expected one of {STATUSES}")
                oid = spec.get("order_id")
                conditional = spec.get("conditional", False)
                if not isinstance(conditional, bool):
                    raise ValueError(f"conditional must be true or false, got {conditional!r}")
                created = spec.get("created_ms", now_ms)
                if isinstance(created, bool) or not isinstance(created, int):
                    raise ValueError(f"created_ms must be an integer (epoch ms), got {created!r}")
                order = FakeOrder(
                    venue=venue,
                    symbol=symbol,
                    order_id=str(oid) if oid is not None else str(next(self._ids)),
                    client_order_id=spec.get("client_order_id"),
                    status=status,
                    created_ms=created,
                    updated_ms=created,
                    qty=str(spec.get("quantity", "1")),
                    price=str(spec.get("price", "100")),
                    side=str(spec.get("side", "BUY")).upper(),
                    conditional=conditional,
                )
                bucket.append(order)
                self._by_id.setdefault((venue, order.order_id), []).append(order)
                if order.client_order_id is not None:
                    self._by_cid.setdefault((venue, order.client_order_id), []).append(order)
                added.append(order)
        return added

    def place_like(
        self,
        venue: str,
        count: int,
        now_ms: int,
        *,
        symbol: str | None = None,
        client_prefix: str | None = None,
        model: FakeOrder | None = None,
    ) -> list[FakeOrder]:
        """Place ``count`` new open orders the way a bot still trading would, modelled on ``model`` (default:
        the newest open order): on ``symbol`` (default the model's), with client ids starting
        ``client_prefix`` (default: the model's client id without its trailing digits; integer client
        ids, as BitoPro's, take the next unused integers above the model's). Nothing is placed when
        there is no order to model them on and no symbol."""
        with self.lock:
            open_now = [o for o in self.orders.get(venue, []) if o.status == "open" and not o.conditional]
            template = model or next(
                (o for o in reversed(open_now) if symbol is None or symbol_key(o.symbol) == symbol_key(symbol)), None
            )
            sym = symbol or (template.symbol if template is not None else None)
            if sym is None:
                return []
            cid = template.client_order_id if template is not None else None
            specs: list[dict[str, Any]] = []
            used = {o.client_order_id for o in self.orders.get(venue, []) if o.client_order_id}
            next_numeric = int(cid) + 1 if cid is not None and cid.isdigit() else 0
            for _ in range(count):
                n = next(self._ids)
                if client_prefix is not None:
                    new_cid: str | None = f"{client_prefix}late-{n}"
                elif cid is not None and cid.isdigit():
                    while str(next_numeric) in used:
                        next_numeric += 1
                    new_cid = str(next_numeric)
                    used.add(new_cid)
                elif cid is not None:
                    new_cid = f"{cid.rstrip('0123456789')}late-{n}"
                else:
                    new_cid = None
                specs.append({"order_id": str(n), "client_order_id": new_cid})
            return self.seed(venue, sym, specs, now_ms)

    def start_cancel(self, order: FakeOrder, due_ms: int) -> None:
        """An asynchronous venue accepted a cancel: it takes effect at ``due_ms``."""
        with self.lock:
            order.status = "cancelling"
            order.cancel_due_ms = due_ms
            self._cancelling.append(order)

    def settle(self, now_ms: int) -> None:
        """Let accepted asynchronous cancels take effect once they are due."""
        with self.lock:
            if not self._cancelling:
                return
            waiting = []
            for o in self._cancelling:
                if o.status != "cancelling":
                    continue
                if o.cancel_due_ms is not None and o.cancel_due_ms <= now_ms:
                    o.status = "cancelled"
                    o.updated_ms = o.cancel_due_ms
                else:
                    waiting.append(o)
            self._cancelling = waiting

    def find(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> FakeOrder | None:
        """The newest order matching the id (and the symbol, when given)."""
        with self.lock:
            if order_id is not None:
                candidates = self._by_id.get((venue, str(order_id)), [])
            elif client_order_id is not None:
                candidates = self._by_cid.get((venue, client_order_id), [])
            else:
                return None
            want = None if symbol is None else symbol_key(symbol)
            for o in reversed(candidates):
                if want is None or symbol_key(o.symbol) == want:
                    return o
        return None

    def open_orders(self, venue: str, symbol: str | None = None, *, conditional: bool | None = None) -> list[FakeOrder]:
        """Open orders (not those with an accepted asynchronous cancel pending), oldest first.

        ``conditional``: None any, True only trigger orders, False only ordinary ones.
        """
        return self.listing(venue, symbol, conditional=conditional, statuses=("open",))

    def listing(
        self,
        venue: str,
        symbol: str | None = None,
        *,
        conditional: bool | None = None,
        statuses: tuple[str, ...] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[FakeOrder]:
        """Orders of a venue in creation order (oldest first), filtered: what a dialect pages through."""
        want = None if symbol is None else symbol_key(symbol)
        with self.lock:
            return [
                o
                for o in self.orders.get(venue, [])
                if (statuses is None or o.status in statuses)
                and (conditional is None or o.conditional == conditional)
                and (want is None or symbol_key(o.symbol) == want)
                and (since_ms is None or o.created_ms >= since_ms)
                and (until_ms is None or o.created_ms <= until_ms)
            ]

    # -- dead-man countdowns ---------------------------------------------------------------------

    def arm(
        self,
        venue: str,
        symbol: str | None,
        timeout_ms: int,
        now_ms: int,
        *,
        conditional: bool = True,
        cap: int | None = None,
    ) -> FakeCountdown:
        """Arm the countdown of ``symbol`` (None: the account), or renew it: it fires ``timeout_ms`` from now."""
        self.fire_due(venue, now_ms)
        key = (venue, None if symbol is None else symbol_key(symbol))
        with self.lock:
            timer = self.countdowns.get(key)
            if timer is None:
                timer = FakeCountdown(venue, symbol, timeout_ms, now_ms, now_ms + timeout_ms, conditional, cap)
                self.countdowns[key] = timer
                self.timers.append(timer)
            else:
                timer.renewals += 1
                timer.timeout_ms = timeout_ms
                timer.trigger_ms = now_ms + timeout_ms
            return timer

    def disarm(self, venue: str, symbol: str | None, now_ms: int) -> FakeCountdown | None:
        """Stop the countdown of ``symbol`` (None: the account); the one stopped, if one was armed."""
        self.fire_due(venue, now_ms)
        key = (venue, None if symbol is None else symbol_key(symbol))
        with self.lock:
            timer = self.countdowns.pop(key, None)
            if timer is not None:
                timer.state, timer.ended_ms = "disarmed", now_ms
            return timer

    def fire_due(self, venue: str, now_ms: int) -> list[FakeCountdown]:
        """Fire every countdown of ``venue`` whose time has come: cancel the open orders in its scope."""
        fired = []
        with self.lock:
            for key, timer in list(self.countdowns.items()):
                if key[0] != venue or timer.trigger_ms > now_ms:
                    continue
                del self.countdowns[key]
                timer.state, timer.ended_ms = "fired", timer.trigger_ms
                victims = [
                    o
                    for o in self.listing(venue, timer.symbol, statuses=("open",))
                    if timer.conditional or not o.conditional
                ]
                for o in victims[: timer.cap] if timer.cap is not None else victims:
                    o.status, o.updated_ms = "cancelled", timer.trigger_ms
                    timer.cancelled.append(o.order_id)
                fired.append(timer)
        return fired

    def countdowns_json(self, venue: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [t.to_json() for t in self.timers if venue is None or t.venue == venue]

    def snapshot(self, venue: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            venues = [venue] if venue else sorted(self.orders)
            return [o.to_json() for v in venues for o in self.orders.get(v, [])]
