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
from typing import TYPE_CHECKING, Protocol

from .clock import SYSTEM_CLOCK, Clock
from .errors import TransportError
from .model import HttpRequest, HttpResponse

if TYPE_CHECKING:
    import requests

# requests (and urllib3) are imported when the first request is sent, not with this module: the token
# buckets below are needed to build a client, and `from safecancel import Client` should not pay
# requests' ~0.1 s import for a bot that may only read its journal.

# Every request is logged at DEBUG under this name by :func:`safecancel.link.exchange` (which knows the
# adapter's secret query parameters, to redact them); nothing here logs a URL, a query or a header.
log = logging.getLogger("safecancel.transport")
pacing_log = logging.getLogger("safecancel.pacing")  # each wait for a rate or a venue's pause, at DEBUG

DEFAULT_CONNECT_TIMEOUT = 3.05
DEFAULT_READ_TIMEOUT = 10.0
USER_AGENT = "safecancel/0.1"


class Transport(Protocol):
    def send(self, base_url: str, req: HttpRequest, *, venue: str) -> HttpResponse:
        """Send one request and return the reply; raise :class:`TransportError` when none came."""


def _never_reached(exc: BaseException) -> bool:
    """True only if the failure provably happened before the request was sent."""
    from requests import exceptions as rex
    from urllib3 import exceptions as u3

    # urllib3 failures raised before a single byte of the request was written.
    before_send = (u3.NewConnectionError, u3.ConnectTimeoutError, u3.NameResolutionError)
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
            if isinstance(cur, before_send):
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
                import requests.adapters

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
        from requests import exceptions as rex

        url = base_url.rstrip("/") + req.target
        timeout = self.timeout
        if req.timeout is not None:  # the caller's deadline is nearer than our own timeouts
            timeout = (min(timeout[0], req.timeout), min(timeout[1], req.timeout))
        started = self._clock.monotonic()
        try:
            r = self._session(base_url).request(
                req.method, url, data=req.body, headers=dict(req.headers), timeout=timeout, allow_redirects=False
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


class _Budget:
    """The tokens of one documented limit, shared by every :class:`TokenBucket` that draws from it.

    Guarded by its own lock; a bucket drawing from several budgets takes their locks in one global
    order (by ``id``), so two buckets sharing budgets can never deadlock.
    """

    __slots__ = ("capacity", "label", "lock", "paused_until", "rate", "stamp", "tokens")

    def __init__(self, rate_per_second: float, capacity: float, now: float, label: str) -> None:
        self.label = label
        self.rate = rate_per_second
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def wait_for(self, cost: float, now: float) -> float:
        """Refill to ``now``; the seconds until ``cost`` may be spent (0: at once)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.paused_until > now:
            return self.paused_until - now
        # A request heavier than the whole burst (Binance's 40-weight listing against a small burst) waits
        # for a full bucket and then runs it into debt, which the next requests wait out.
        need = min(cost, self.capacity)
        # The epsilon absorbs float rounding: after sleeping exactly (need - tokens) / rate the refill can
        # land a hair under ``need``, and re-sleeping ~1e-16 s never gets there.
        if self.tokens >= need - 1e-9:
            return 0.0
        return (need - self.tokens) / self.rate

    def spend(self, cost: float) -> None:
        self.tokens = max(min(cost, self.capacity) - cost, self.tokens - cost)


class TokenBucket:
    """Paces one kind of request to a venue's documented accounting; shared by every thread using one
    (venue, key).

    A bucket built from a rate owns one budget and spends one token per request. :meth:`drawing` builds
    a bucket that spends from other buckets' budgets at once -- ``cost`` tokens from each per request --
    which is how a venue's shared weight budget is kept: Binance's batch cancel spends 1 from its own
    rate and 1 from the per-IP REQUEST_WEIGHT budget that queries (1) and listings (40) spend from too.
    Callers see one API either way: :meth:`acquire`, :meth:`pause`, :attr:`rate`, :attr:`label`.
    """

    def __init__(self, rate_per_second: float, burst: float, clock: Clock, *, label: str = "requests") -> None:
        self.label = label  # what it paces, for the log ("binance_coinm cancel")
        self._clock = clock
        self._draws: tuple[tuple[_Budget, float], ...] = (
            (_Budget(rate_per_second, max(1.0, burst), clock.monotonic(), label), 1.0),
        )
        self._locks = [self._draws[0][0].lock]

    @classmethod
    def drawing(cls, parts: tuple[tuple[TokenBucket, float], ...], *, label: str) -> TokenBucket:
        """A bucket whose every request spends ``cost`` from each of ``parts``' budgets, all or none.

        Its :meth:`pause` pauses all of them: a venue's 429 does not say which of its limits was hit.

        Raises:
            ValueError: no parts, a cost that is not positive, or parts on different clocks.
        """
        if not parts or any(cost <= 0 for _, cost in parts):
            raise ValueError("a drawing bucket needs parts with positive costs")
        clock = parts[0][0]._clock
        if any(part._clock is not clock for part, _ in parts):
            raise ValueError("the parts of a drawing bucket must share one clock")
        spent: dict[int, tuple[_Budget, float]] = {}
        for part, cost in parts:
            for budget, each in part._draws:
                had = spent.get(id(budget), (budget, 0.0))[1]
                spent[id(budget)] = (budget, had + each * cost)
        self = cls.__new__(cls)
        self.label = label
        self._clock = clock
        self._draws = tuple(spent.values())
        self._locks = [spent[key][0].lock for key in sorted(spent)]  # one global order: no deadlock
        return self

    @property
    def rate(self) -> float:
        """Requests per second this bucket lets out when it is the only one drawing (its slowest budget)."""
        return min(budget.rate / cost for budget, cost in self._draws)

    @property
    def capacity(self) -> float:
        """Requests it may send at once from full budgets (at least 1)."""
        return max(1.0, min(budget.capacity / cost for budget, cost in self._draws))

    def acquire(self, max_wait: float | None = None) -> bool:
        """Block until a request may go out (True), or, with ``max_wait``, until that much time has
        passed without one (False: the caller renews its lease, checks its deadline, and asks again)."""
        give_up = None if max_wait is None else self._clock.monotonic() + max_wait
        while True:
            for lock in self._locks:
                lock.acquire()
            try:
                now = self._clock.monotonic()
                wait, binding = 0.0, self._draws[0][0]
                for budget, cost in self._draws:
                    needed = budget.wait_for(cost, now)
                    if needed > wait:
                        wait, binding = needed, budget
                if wait <= 0:
                    for budget, cost in self._draws:
                        budget.spend(cost)
                    return True
                paused = binding.paused_until > now
                if give_up is not None:
                    if now >= give_up:
                        return False
                    wait = min(wait, give_up - now)
            finally:
                for lock in reversed(self._locks):
                    lock.release()
            if wait >= 0.01 and pacing_log.isEnabledFor(logging.DEBUG):
                if paused:
                    why = "the venue asked to wait"
                elif len(self._draws) == 1:
                    why = f"the rate, {self.rate:.2f}/s"
                else:
                    why = f"{binding.label}, {binding.rate:.2f}/s"
                pacing_log.debug("%s: waiting %.2f s (%s)", self.label, wait, why)
            self._clock.sleep(max(wait, 1e-4))

    def pause(self, seconds: float) -> None:
        """The venue asked us to wait (429/418 with Retry-After): nobody drawing from these budgets sends
        until then."""
        until = self._clock.monotonic() + seconds
        for budget, _ in self._draws:
            with budget.lock:
                budget.paused_until = max(budget.paused_until, until)
                budget.tokens = 0.0


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
