"""The wire: the only importer of ``requests``. Timeouts, error mapping, pacing, server-time offsets.

The one question this module answers for the engine is whether a failed request *may have reached
the venue*. Only a failure that provably happened before the request left (no connection was made)
is safe to resend; anything after the request was written -- a read timeout, a connection dropped
before the reply, a truncated body -- may have been applied and makes the orders ``unknown``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

import requests
from requests import exceptions as rex
from urllib3 import exceptions as u3

from .clock import SYSTEM_CLOCK, Clock
from .errors import TransportError
from .model import HttpRequest, HttpResponse

# Every request is logged at DEBUG under this name by :func:`safecancel.link.exchange` (which knows the
# adapter's secret query parameters, to redact them); nothing here logs a URL, a query or a header.
log = logging.getLogger("safecancel.transport")
pacing_log = logging.getLogger("safecancel.pacing")  # each wait for a rate or a venue's pause, at DEBUG

DEFAULT_CONNECT_TIMEOUT = 3.05
DEFAULT_READ_TIMEOUT = 10.0
USER_AGENT = "safecancel/0.1"

# urllib3 failures raised before a single byte of the request was written.
_BEFORE_SEND = (u3.NewConnectionError, u3.ConnectTimeoutError, u3.NameResolutionError)


class Transport(Protocol):
    def send(self, base_url: str, req: HttpRequest, *, venue: str) -> HttpResponse:
        """Send one request and return the reply; raise :class:`TransportError` when none came."""


def _never_reached(exc: BaseException) -> bool:
    """True only if the failure provably happened before the request was sent."""
    if isinstance(exc, (rex.InvalidURL, rex.InvalidHeader, rex.MissingSchema, rex.InvalidSchema)):
        return True  # refused while the request was being prepared: no connection was even opened
    if isinstance(exc, rex.ConnectTimeout):
        return True
    if isinstance(exc, rex.SSLError):
        return True  # the handshake failed: no request bytes were sent
    if isinstance(exc, rex.ConnectionError):
        seen: set[int] = set()
        cur: BaseException | None = exc
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            if isinstance(cur, _BEFORE_SEND):
                return True
            if isinstance(cur, u3.MaxRetryError) and cur.reason is not None:
                cur = cur.reason
                continue
            nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
            cur = nxt or cur.__cause__ or cur.__context__
    return False


class RequestsTransport:
    """One ``requests.Session`` per base URL (connection reuse), with connect and read timeouts."""

    def __init__(
        self,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        clock: Clock | None = None,
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self._clock = clock or SYSTEM_CLOCK
        self._sessions: dict[str, requests.Session] = {}
        self._lock = threading.Lock()

    def _session(self, base_url: str) -> requests.Session:
        with self._lock:
            s = self._sessions.get(base_url)
            if s is None:
                s = requests.Session()
                # Size the pool for the engine's worker threads; no automatic retries: only the
                # engine decides what may be resent.
                adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
                s.mount("http://", adapter)
                s.mount("https://", adapter)
                s.headers["User-Agent"] = USER_AGENT
                s.trust_env = False  # a proxy from the environment must not silently carry signed cancels
                self._sessions[base_url] = s
            return s

    def send(self, base_url: str, req: HttpRequest, *, venue: str) -> HttpResponse:
        url = base_url.rstrip("/") + req.target
        started = self._clock.monotonic()
        try:
            r = self._session(base_url).request(
                req.method, url, data=req.body, headers=dict(req.headers), timeout=self.timeout, allow_redirects=False
            )
            body = r.content  # reads the whole body here, so a truncated body fails inside this try
        except rex.RequestException as exc:
            reached = not _never_reached(exc)
            # The message names the failure type and the path only: never the query (signatures) or headers (keys).
            raise TransportError(
                f"{venue}: {req.method} {req.path} failed: {type(exc).__name__}"
                + (" (may have reached the venue)" if reached else " (never reached the venue)"),
                venue=venue,
                never_reached_venue=not reached,
            ) from None
        elapsed = (self._clock.monotonic() - started) * 1000
        return HttpResponse(r.status_code, body, {k.lower(): v for k, v in r.headers.items()}, elapsed)

    def close(self) -> None:
        with self._lock:
            for s in self._sessions.values():
                s.close()
            self._sessions.clear()


class TokenBucket:
    """Paces requests to a venue's documented rate; shared by every thread using one (venue, key)."""

    def __init__(self, rate_per_second: float, burst: float, clock: Clock, *, label: str = "requests") -> None:
        self.label = label  # what it paces, for the log ("binance_coinm cancel")
        self.rate = rate_per_second
        self.capacity = max(1.0, burst)
        self._tokens = self.capacity
        self._clock = clock
        self._stamp = clock.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self, max_wait: float | None = None) -> bool:
        """Block until a request may go out (True), or, with ``max_wait``, until that much time has
        passed without one (False: the caller renews its lease, checks its deadline, and asks again)."""
        give_up = None if max_wait is None else self._clock.monotonic() + max_wait
        while True:
            with self._lock:
                now = self._clock.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                wait = self._paused_until - now
                paused = wait > 0
                if wait <= 0:
                    # The epsilon absorbs float rounding: after sleeping exactly (1 - tokens) / rate the
                    # refill can land a hair under 1.0, and re-sleeping ~1e-16 s never gets there.
                    if self._tokens >= 1.0 - 1e-9:
                        self._tokens = max(0.0, self._tokens - 1.0)
                        return True
                    wait = (1.0 - self._tokens) / self.rate
                if give_up is not None:
                    if now >= give_up:
                        return False
                    wait = min(wait, give_up - now)
            if wait >= 0.01 and pacing_log.isEnabledFor(logging.DEBUG):
                why = "the venue asked to wait" if paused else f"the rate, {self.rate:.2f}/s"
                pacing_log.debug("%s: waiting %.2f s (%s)", self.label, wait, why)
            self._clock.sleep(max(wait, 1e-4))

    def pause(self, seconds: float) -> None:
        """The venue asked us to wait (429/418 with Retry-After): nobody sends until then."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)
            self._tokens = 0.0


class ServerClock:
    """A venue's clock offset, measured from its server-time reply and re-measured on timestamp errors."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._offset_ms = 0
        self._measured = False
        self._lock = threading.Lock()

    @property
    def measured(self) -> bool:
        return self._measured

    def now_ms(self) -> int:
        return int(self._clock.now() * 1000) + self._offset_ms

    def invalidate(self) -> None:
        with self._lock:
            self._measured = False

    def measure(self, fetch: Callable[[], int | None]) -> int | None:
        """Set the offset from one round trip: server time minus the local midpoint."""
        with self._lock:
            t0 = self._clock.now()
            server_ms = fetch()
            t1 = self._clock.now()
            if server_ms is None:
                return None
            self._offset_ms = int(server_ms - (t0 + t1) * 500)
            self._measured = True
            return self._offset_ms

    def set_from(self, server_ms: int | None) -> None:
        """Set the offset from a server time seen in a reply (venues without a time endpoint)."""
        if server_ms is None:
            return
        with self._lock:
            self._offset_ms = int(server_ms - self._clock.now() * 1000)
            self._measured = True
