"""The fake venue's wire types, shared by the server and the dialects (neither imports the other's internals).

The server (:mod:`.server`) turns HTTP into a :class:`FakeRequest`, finds the dialect's handler and
gives it a :class:`Context`; the handler answers with a :class:`Reply`. Dialects import only this
module and the ledger, so the server can import every dialect at the top without a cycle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from .ledger import FakeOrder, Ledger

# The endpoint kinds a fault (or a rate budget) can target; each dialect route names one.
ENDPOINTS = (
    "cancel",
    "query",
    "time",
    "cancel_all",
    "list_open",
    "list_conditional",
    "list_history",
    "account",
    "countdown",
)
FAULT_KINDS = (
    "status",
    "delay",
    "drop_before_apply",
    "drop_after_apply",
    "malformed",
    "omit",
    "fill_before_cancel",
    "clock_skew",
    "place_during_cancel",
)


class Host(Protocol):
    """What a :class:`Context` needs of the server running it (the :class:`~.server.FakeVenue`)."""

    ledger: Ledger
    credentials: FakeCredentials
    async_delay_ms: int

    def venue_now_ms(self, venue: str) -> int: ...


@dataclass(frozen=True)
class FakeCredentials:
    api_key: str = "test-key"
    api_secret: str = "test-secret"
    passphrase: str = "test-pass"


@dataclass
class FakeRequest:
    """A request as the fake received it: raw query and body bytes, lower-cased header names."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    host: str

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(obj, separators=(",", ":")).encode(), dict(headers or {}))


@dataclass
class Fault:
    venue: str
    endpoint: str
    kind: str
    status: int = 503
    retry_after: float | None = None
    delay_ms: int = 0
    offset_ms: int = 0
    times: int = 1
    # place_during_cancel: orders placed right after the request is served (a bot still trading while a
    # kill switch runs): how many, on which symbol, with client ids starting with what (default: like the
    # newest open order's).
    count: int = 5
    symbol: str | None = None
    client_prefix: str | None = None


class Context:
    """What a dialect handler may use: the ledger, the venue's clock, credentials and this request's faults."""

    def __init__(self, server: Host, venue: str, faults: list[Fault]) -> None:
        self.server = server
        self.venue = venue
        self.ledger = server.ledger
        self.creds = server.credentials
        kinds = {f.kind for f in faults}
        self.touched: list[FakeOrder] = []  # orders this request asked to cancel (a model for new ones)
        self.omit = "omit" in kinds
        self._fill_first = "fill_before_cancel" in kinds

    def now_ms(self) -> int:
        return self.server.venue_now_ms(self.venue)

    def cancel(self, order: FakeOrder, *, asynchronous: bool = False) -> str:
        """Apply one cancel to the ledger; returns the status the order had when the cancel arrived.

        With a ``fill_before_cancel`` fault, the first open order of the request fills just before.
        """
        with self.ledger.lock:
            self.touched.append(order)
            if self._fill_first and order.status == "open":
                order.status = "filled"
                self._fill_first = False
            order.cancel_requests += 1
            before = order.status
            now = self.now_ms()
            if before == "open":
                if asynchronous:
                    self.ledger.start_cancel(order, now + self.server.async_delay_ms)
                else:
                    order.status = "cancelled"
                order.updated_ms = now
            return before


Handler = Callable[[FakeRequest, Context], Reply]


class Dialect(Protocol):
    """A venue as the fake speaks it.

    Rate limits (``--enforce-rate-limits``): ``rate`` is the batch-cancel endpoint's documented budget,
    (requests, per seconds). A dialect may also set ``rates``, a mapping endpoint -> (requests, per
    seconds), when the venue budgets its endpoints separately (BingX: cancel 2/s, query 10/s); an
    endpoint missing from ``rates`` is not limited. A venue whose endpoints spend from shared budgets
    declares ``budgets`` (name -> (units, per seconds)) and ``spend(endpoint, req)`` -> {budget name:
    units} (Binance: the per-IP request weight, each route at its documented weight; BitoPro: one
    per-IP budget over all endpoints); a request is let through only if every budget it spends from has
    room. Without ``rates`` or ``budgets`` one budget of ``rate`` is shared by all its endpoints. A dialect may define
    ``rate_limited_reply(endpoint, retry_after)`` when its venue answers over-limit requests other than
    with ``error_reply(endpoint, 429, None)`` (BingX names the unblock time in the message).
    """

    venue: str
    rate: tuple[int, float]  # requests per seconds, for --enforce-rate-limits

    def routes(self) -> list[tuple[str, re.Pattern[str], str, Handler]]:
        """(method, path regex, endpoint kind, handler) for each endpoint served."""

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        """The venue's own error reply for an HTTP status (status faults, rate limiting)."""
