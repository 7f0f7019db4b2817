"""A real HTTP server on loopback that speaks the five venues' batch-cancel dialects.

Each venue's dialect (``safecancel.testing.dialects``) verifies signatures with its own code, written
from the venue's docs -- it never imports the adapters' signing -- and answers in the venue's own
shapes and error codes. The :class:`~safecancel.testing.ledger.Ledger` is the ground truth.

Control API (JSON) under ``/_fake/``: ``POST /_fake/orders``, ``GET /_fake/orders?venue=V``,
``POST /_fake/faults``, ``GET /_fake/requests?venue=V``, ``GET /_fake/deadman?venue=V``, ``POST /_fake/reset``
(see design.md). Dead-man countdowns fire on the fake's own clock: a ticker thread checks them every
``TICK_S``, and every request checks them first.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .dialects import all_dialects
from .ledger import Ledger
from .wire import (  # re-exported: FakeRequest & co. were first defined here
    ENDPOINTS,
    FAULT_KINDS,
    Context,
    Dialect,
    FakeCredentials,
    FakeRequest,
    Fault,
    Reply,
    json_reply,
)

TICK_S = 0.05  # how often armed countdowns are checked (Binance documents ~10 ms; loopback tests need less)


class _Bucket:
    """One of a venue's budgets as the fake keeps it: ``requests`` units per ``per_seconds``, starting full."""

    def __init__(self, requests: int, per_seconds: float) -> None:
        self.capacity = float(requests)
        self.rate = requests / per_seconds
        self.tokens = float(requests)
        self.stamp = time.monotonic()

    def short(self, cost: float, now: float) -> float | None:
        """Refill to ``now``: ``None`` if ``cost`` units are there, else the seconds until they will be."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= cost:
            return None
        return (cost - self.tokens) / self.rate


class FakeVenue:
    """The loopback fake venue. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: int = 0,
        enforce_rate_limits: bool = False,
        credentials: FakeCredentials = FakeCredentials(),
        async_delay_ms: int = 150,
        dialects: list[Dialect] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.enforce_rate_limits = enforce_rate_limits
        self.credentials = credentials
        self.async_delay_ms = async_delay_ms
        self.ledger = Ledger()
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: list[dict[str, Any]] = []
        self._skew_ms: dict[str, int] = {}
        self._buckets: dict[str, _Bucket] = {}
        self.dialects = {d.venue: d for d in (dialects if dialects is not None else all_dialects())}
        self._routes = [(m, rx, ep, h, d.venue) for d in self.dialects.values() for (m, rx, ep, h) in d.routes()]
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    def bind(self) -> FakeVenue:
        """Open the listening socket (so ``url`` is known) without serving yet."""
        if self._httpd is None:
            self._httpd = _Server((self.host, self.port), _make_handler(self))
            self.port = self._httpd.server_address[1]
        return self

    def start(self) -> FakeVenue:
        """Serve on a background thread."""
        self.bind()
        assert self._httpd is not None
        self._start_ticker()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-venue", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted."""
        self.bind()
        assert self._httpd is not None
        self._start_ticker()
        self._httpd.serve_forever()

    def _start_ticker(self) -> None:
        """Fire dead-man countdowns on the fake's clock even when no request arrives."""
        if self._ticker is not None:
            return
        self._stopping.clear()

        def tick() -> None:
            while not self._stopping.wait(TICK_S):
                self.fire_countdowns()

        self._ticker = threading.Thread(target=tick, name="fake-venue-countdowns", daemon=True)
        self._ticker.start()

    def fire_countdowns(self) -> None:
        for venue in self.dialects:
            self.ledger.fire_due(venue, self.venue_now_ms(venue))

    def deadman(self, venue: str | None = None) -> list[dict[str, Any]]:
        """Every countdown armed so far (armed, disarmed or fired), oldest first."""
        if venue is not None:
            self._known(venue)
        self.fire_countdowns()
        return self.ledger.countdowns_json(venue)

    def stop(self) -> None:
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)
            self._ticker = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeVenue:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- the control API (also served over HTTP under /_fake/) --------------------------------

    def seed(self, venue: str, symbol: str, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._known(venue)
        return [o.to_json() for o in self.ledger.seed(venue, symbol, orders, self.venue_now_ms(venue))]

    def orders(self, venue: str | None = None) -> list[dict[str, Any]]:
        if venue is not None:
            self._known(venue)
        self.ledger.settle(self.venue_now_ms(venue or ""))
        self.fire_countdowns()
        return self.ledger.snapshot(venue)

    def order_status(self, venue: str) -> dict[str, str]:
        """``{order_id: status}`` for one venue: what tests compare the journal with."""
        return {o["order_id"]: o["status"] for o in self.orders(venue)}

    def fault(self, venue: str, endpoint: str, kind: str, **spec: Any) -> None:
        self._known(venue)
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        allowed = {"status", "retry_after", "delay_ms", "offset_ms", "times", "count", "symbol", "client_prefix"}
        extra = set(spec) - allowed
        if extra:
            raise ValueError(f"unknown fault fields {sorted(extra)}")
        f = Fault(venue, endpoint, kind, **spec)
        with self._lock:
            if kind == "clock_skew":
                # The venue's clock moves now and stays moved: timestamp checks fail until the client re-measures.
                self._skew_ms[venue] = self._skew_ms.get(venue, 0) + f.offset_ms
                return
            self._faults.append(f)

    def requests(self, venue: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests if venue is None or r["venue"] == venue]

    def clear_faults(self) -> None:
        """Drop pending faults (the venue "comes back"); the ledger and the request log stay."""
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._skew_ms.clear()
            self._buckets.clear()
        self.ledger.reset()

    # -- internals -------------------------------------------------------------------------

    def venue_now_ms(self, venue: str) -> int:
        return int(time.time() * 1000) + self._skew_ms.get(venue, 0)

    def _known(self, venue: str) -> None:
        if venue not in self.dialects:
            raise ValueError(f"unknown venue {venue!r}; known: {', '.join(sorted(self.dialects))}")

    def _take_faults(self, venue: str, endpoint: str) -> list[Fault]:
        taken = []
        with self._lock:
            for f in list(self._faults):
                if f.venue == venue and f.endpoint == endpoint:
                    taken.append(f)
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
        return taken

    def _rate_wait(self, venue: str, endpoint: str, req: FakeRequest) -> float | None:
        """``None`` if the request is within the venue's budgets (and spends from them), else the seconds
        until it would be (and spends nothing).

        A dialect's budgets, each written from the venue's docs (never from the adapter): ``rates``,
        endpoint -> (requests, per seconds), one budget per endpoint (an endpoint not named has none);
        ``budgets``, name -> (units, per seconds), limits the endpoints share, from which
        ``spend(endpoint, req)`` says how many units this request takes (Binance's REQUEST_WEIGHT: 40 for
        an open-orders list without a symbol, 1 with one). A dialect with neither has one budget of
        ``rate`` for all its endpoints.
        """
        if not self.enforce_rate_limits:
            return None
        dialect = self.dialects[venue]
        rates = getattr(dialect, "rates", None)
        budgets = getattr(dialect, "budgets", None)
        spend = getattr(dialect, "spend", None)  # with budgets: (endpoint, request) -> {budget name: units}
        costs: list[tuple[str, tuple[int, float], float]] = []
        if rates is not None:
            if endpoint in rates:
                costs.append((f"{venue}:{endpoint}", rates[endpoint], 1.0))
        elif budgets is None:
            costs.append((venue, dialect.rate, 1.0))  # one budget for every endpoint of the venue
        if budgets is not None and spend is not None:
            for name, units in spend(endpoint, req).items():
                if units > 0:
                    costs.append((f"{venue}:{name}", budgets[name], float(units)))
        # One request is let in only when every budget it draws on has room, as the venue would count it.
        with self._lock:
            now = time.monotonic()
            waits = []
            for key, rate, cost in costs:
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = _Bucket(*rate)
                short = bucket.short(cost, now)
                if short is not None:
                    waits.append(short)
            if waits:
                return max(waits)
            for key, _, cost in costs:
                self._buckets[key].tokens -= cost
        return None

    def handle(self, req: FakeRequest) -> Reply | None:
        """Serve one venue request. ``None`` means: close the connection without a reply."""
        for method, rx, endpoint, handler, venue in self._routes:  # noqa: B007 (the match is used below)
            if method == req.method and rx.fullmatch(req.path):
                break
        else:
            return json_reply({"error": f"no such endpoint {req.method} {req.path}"}, 404)
        # The budget is spent on arrival, as the venue counts it; the added latency then delays the
        # reply either way, so a refused request costs the client its round trip too.
        wait = self._rate_wait(venue, endpoint, req)
        with self._lock:
            self._requests.append(
                {
                    "venue": venue,
                    "method": req.method,
                    "path": req.path,
                    "endpoint": endpoint,
                    "time": time.time(),
                    "rate_limited": wait is not None,
                }
            )
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        dialect = self.dialects[venue]
        if wait is not None:
            limited = getattr(dialect, "rate_limited_reply", None)
            return limited(endpoint, wait) if limited is not None else dialect.error_reply(endpoint, 429, None)
        faults = self._take_faults(venue, endpoint)
        kinds = {f.kind: f for f in faults}
        if "status" in kinds:
            f = kinds["status"]
            return dialect.error_reply(endpoint, f.status, f.retry_after)
        if "delay" in kinds:
            time.sleep(kinds["delay"].delay_ms / 1000)
        if "drop_before_apply" in kinds:
            return None
        self.ledger.settle(self.venue_now_ms(venue))
        self.ledger.fire_due(venue, self.venue_now_ms(venue))
        ctx = Context(self, venue, faults)
        reply = handler(req, ctx)
        if "drop_after_apply" in kinds:
            return None
        if "malformed" in kinds:
            reply = Reply(reply.status, reply.body[: max(1, len(reply.body) // 2)], reply.headers)
        if "place_during_cancel" in kinds:
            f = kinds["place_during_cancel"]
            # Modelled on an order this request cancelled: the bot that placed it is still trading (new
            # orders are ordinary ones, whatever the model was).
            model = ctx.touched[0] if ctx.touched else None
            self.ledger.place_like(
                venue, f.count, self.venue_now_ms(venue), symbol=f.symbol, client_prefix=f.client_prefix, model=model
            )
        return reply

    def handle_control(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        try:
            data = json.loads(body.decode() or "{}") if method == "POST" else {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            if path == "/_fake/orders" and method == "POST":
                return json_reply({"orders": self.seed(data["venue"], data["symbol"], list(data.get("orders", [])))})
            if path == "/_fake/orders" and method == "GET":
                return json_reply({"orders": self.orders(query.get("venue"))})
            if path == "/_fake/faults" and method == "POST":
                spec = dict(data)
                self.fault(spec.pop("venue"), spec.pop("endpoint"), spec.pop("kind"), **spec)
                return json_reply({"ok": True})
            if path == "/_fake/deadman" and method == "GET":
                return json_reply({"switches": self.deadman(query.get("venue"))})
            if path == "/_fake/requests" and method == "GET":
                return json_reply({"requests": self.requests(query.get("venue"))})
            if path == "/_fake/reset" and method == "POST":
                self.reset()
                return json_reply({"ok": True})
        except (KeyError, ValueError, TypeError) as exc:
            return json_reply({"error": f"bad control request: {exc}"}, 400)
        return json_reply({"error": f"no such control endpoint {method} {path}"}, 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the crash trials SIGKILL it) resets its connection: that is the
        # test working, not a fake-venue error worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _make_handler(fake: FakeVenue) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60

        def setup(self) -> None:
            super().setup()
            # Replies are written in one piece, and Nagle is off: without this, keep-alive plus
            # delayed ACK stalls each request by ~40 ms on loopback.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            if parts.path.startswith("/_fake/"):
                reply: Reply | None = fake.handle_control(self.command, parts.path, dict(parse_qsl(parts.query)), body)
            else:
                req = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    host=self.headers.get("Host", ""),
                )
                try:
                    reply = fake.handle(req)
                except Exception as exc:  # a dialect bug must show up as a 500, not a hung client
                    reply = json_reply({"error": f"fake venue bug: {type(exc).__name__}: {exc}"}, 500)
            if reply is None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self._write(reply)

        def _write(self, reply: Reply) -> None:
            headers = {"Content-Type": "application/json", **reply.headers, "Content-Length": str(len(reply.body))}
            if not any(k.lower() == "date" for k in headers):  # a dialect may send its venue's (skewed) clock
                headers["Date"] = self.date_time_string()
            head = f"HTTP/1.1 {reply.status} {_reason(reply.status)}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            head += "\r\n"
            self.wfile.write(head.encode("latin-1") + reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return _Handler


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
