"""Reading a venue's order listings to the last page: open orders, conditional orders, recent history.

A listing is a read: asking again changes nothing on the venue, so a page that failed in a way that
may pass (rate limit, timeout, 5xx, an unreadable reply, a timestamp rejection) is asked again after a
backoff, within the deadline. Refused credentials stop at once (:class:`AuthError`); a request the
venue keeps refusing stops with its words (:class:`VenueRejected`). A listing that cannot be read to
its end -- the deadline passes, or the venue's paging does not advance -- raises
:class:`ListingIncomplete`: a partial listing never passes for the whole book.

Pages are paced on the link's listing bucket (the adapter's documented ``list_rate``), signed with
the same measured server clock as the cancels, and every exchange can be handed to ``on_exchange``
(the kill switch records each sweep's pages as evidence in its job).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from .clock import Clock
from .errors import AuthError, ListingIncomplete, TransportError, VenueRejected
from .link import DEADLINE_GRACE_S, VenueLink, evidence, exchange, sync_clock
from .model import Failure, HttpRequest, HttpResponse, ListedOrder, ListKind, ListPage
from .policy import ListingMove, RetryPolicy, auth_message, listing_failure
from .store.rows import Evidence

if TYPE_CHECKING:  # annotations only: importing the transport would load requests (start-up time)
    from .transport import Transport

log = logging.getLogger("safecancel.listing")

MAX_PAGES = 10_000  # a venue whose paging never ends is a bug or an attack, not a book this deep
T = TypeVar("T")

OnExchange = Callable[[Evidence, str | None], None]
"""``on_exchange(evidence, note)``: called after every request a listing makes (pages, lookups, clock)."""

Enough = Callable[[Sequence[ListedOrder], int], bool]
"""``enough(orders_so_far, pages)``: True stops a listing early (a bounded search of recent history)."""


@dataclass
class ListExchange:
    """One request a :class:`Lister` made: its evidence, a note (clock), and the page it brought, if any."""

    evidence: Evidence
    note: str | None = None
    kind: ListKind | None = None
    page: ListPage | None = None


class Lister:
    """Reads one venue account's listings. One per call; not shared across threads."""

    def __init__(
        self,
        link: VenueLink,
        transport: Transport,
        clock: Clock,
        policy: RetryPolicy,
        rng: random.Random,
        *,
        deadline: float | None = None,
        on_exchange: OnExchange | None = None,
        keep_alive: Callable[[], None] | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self.link = link
        self.venue = link.adapter
        self.transport = transport
        self.clock = clock
        self.policy = policy
        self.rng = rng
        self.deadline = deadline  # monotonic seconds
        self.on_exchange = on_exchange
        self.keep_alive = keep_alive  # a job's lease renewal, while pages are paced or retried
        # Attempts at one page before giving up (besides the deadline): a caller with a fallback (bulk
        # confirmation falls back to single queries) gives up sooner than one without.
        self.max_attempts = max_attempts if max_attempts is not None else policy.attention_queries
        self.exchanges: list[ListExchange] = []  # every request made, in order, with the page it brought
        self.requests = 0
        self.pages = 0
        self.capped = False  # a page was at the venue's cap: orders may be open that no page showed
        self._account: str | None = None
        self._looked_up = False

    # -- one request -------------------------------------------------------------------------

    def _left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock.monotonic()

    def _incomplete(self, why: str, seen: int, failure: Failure | TransportError | None = None) -> ListingIncomplete:
        said = ""
        if isinstance(failure, Failure):
            said = f"; last answer: {failure.code or failure.http_status}: {failure.message}"
        elif failure is not None:
            said = f"; last error: {failure}"
        return ListingIncomplete(
            f"{self.venue.name}: the listing was not read to its end ({why}) after {self.pages} pages, "
            f"{seen} orders seen{said}",
            venue=self.venue.name,
            pages=self.pages,
            orders_seen=seen,
            http_status=failure.http_status if isinstance(failure, Failure) else None,
            venue_code=failure.code if isinstance(failure, Failure) else None,
            venue_message=failure.message if isinstance(failure, Failure) else None,
        )

    def _record(self, ev: Evidence | None, note: str | None = None) -> None:
        if ev is None:
            return
        self.exchanges.append(ListExchange(ev, note))
        if self.on_exchange is not None:
            self.on_exchange(ev, note)

    def _timeout(self) -> float | None:
        """A request's timeout within the deadline (with the engine's grace), or None without one."""
        left = self._left()
        return None if left is None else max(0.0, left) + DEADLINE_GRACE_S

    def _sync(self, failed: HttpResponse | None = None) -> None:
        ev, note = sync_clock(self.link, self.transport, self.clock, failed, timeout=self._timeout())
        self._record(ev, note)

    def _send(
        self, build: Callable[[int], HttpRequest], seen: int
    ) -> tuple[HttpResponse | None, TransportError | None]:
        bucket = self.link.listing_bucket
        while not bucket.acquire(max_wait=0.25):
            if self.keep_alive is not None:
                self.keep_alive()
            left = self._left()
            if left is not None and left <= 0:
                raise self._incomplete("the deadline passed while pacing", seen)
        if not self.link.server_clock.measured:
            self._sync()
        req = build(self.link.server_clock.now_ms())  # InputError (bad symbol, kind) before anything is sent
        timeout = self._timeout()
        if timeout is not None:  # a slow page cannot hold the caller long past its deadline
            req = replace(req, timeout=timeout)
        resp, err, at = exchange(self.venue, self.transport, self.clock, req)
        self.requests += 1
        self._record(evidence(self.venue, req, resp, str(err) if err else None, at))
        return resp, err

    def _fetch(self, build: Callable[[int], HttpRequest], parse: Callable[[HttpResponse], T | Failure], seen: int) -> T:
        """One answer, asked again while the failure may pass (see :func:`~safecancel.policy.listing_failure`)."""
        attempt = 0
        while True:
            attempt += 1
            resp, err = self._send(build, seen)
            answer: T | Failure | TransportError = err if err is not None else parse(resp)  # type: ignore[arg-type]
            if not isinstance(answer, (Failure, TransportError)):
                return answer
            step = listing_failure(answer, attempt, lambda n, ra: self.policy.delay(n, self.rng, ra), self.policy)
            if step.move is ListingMove.STOP_AUTH:
                assert isinstance(answer, Failure)
                raise AuthError(
                    auth_message(self.venue.name, answer, on_query=True),
                    venue=self.venue.name,
                    http_status=answer.http_status,
                    venue_code=answer.code,
                    venue_message=answer.message,
                )
            if step.move is ListingMove.STOP_REJECTED:
                assert isinstance(answer, Failure)
                raise VenueRejected(
                    f"{self.venue.name} refused the listing request {attempt} times "
                    f"({answer.code or answer.http_status}: {answer.message}); check the base URL "
                    f"({self.venue.base_url}) and the symbol",
                    venue=self.venue.name,
                    http_status=answer.http_status,
                    venue_code=answer.code,
                    venue_message=answer.message,
                )
            if step.pause is not None:
                self.link.listing_bucket.pause(step.pause)
            wait = step.delay
            left = self._left()
            if left is not None and left <= wait:
                raise self._incomplete("the deadline passed while the venue kept failing", seen, answer)
            if attempt >= self.max_attempts:
                raise self._incomplete(f"{attempt} failed attempts at one page", seen, answer)
            # One line per request asked again (giving up raises instead: its caller says so).
            log.warning(
                "%s %s request failed (%s): %sasking again in %.2f s (attempt %d of %d)",
                self.venue.name,
                self.exchanges[-1].evidence.endpoint if self.exchanges else "listing",
                _said(answer),
                f"pausing {self.venue.name} listings {step.pause:.2f} s; " if step.pause is not None else "",
                wait,
                attempt + 1,
                self.max_attempts,
            )
            if self.keep_alive is not None:
                self.keep_alive()
            self.clock.sleep(wait)
            if step.move is ListingMove.RESYNC_CLOCK:
                self.link.server_clock.invalidate()
                self._sync(resp)

    # -- listings ----------------------------------------------------------------------------

    def account(self) -> str | None:
        """The account id the venue's listings need (HTX), looked up once per link; None where none is."""
        if self.link.account_id is not None:
            return self.link.account_id
        if not self._looked_up:
            creds = self.link.creds
            # Built once with a dummy time only to learn whether the venue needs a lookup at all (pure).
            if self.venue.build_account_lookup(creds, 0) is not None:
                self._account = self._fetch(
                    lambda now: self.venue.build_account_lookup(creds, now),  # type: ignore[arg-type,return-value]
                    self.venue.parse_account_lookup,
                    0,
                )
                self.link.account_id = self._account
            self._looked_up = True
        return self._account

    def read(
        self,
        kind: ListKind,
        symbol: str | None = None,
        *,
        since_ms: int | None = None,
        enough: Enough | None = None,
    ) -> list[ListedOrder]:
        """Every order of one listing, all pages, each order once (first sighting kept).

        With ``enough``, reading stops after the first page for which it returns True: what was read
        is returned, and the caller must not take it for the whole listing.
        """
        account = self.account()
        creds = self.link.creds
        orders: list[ListedOrder] = []
        seen: set[tuple[str | None, str | None]] = set()
        cursors: set[str | None] = {None}
        cursor: str | None = None
        while True:
            left = self._left()
            if left is not None and left <= 0 and self.pages:
                raise self._incomplete("the deadline passed between pages", len(orders))
            page: ListPage = self._fetch(
                lambda now, c=cursor: self.venue.build_list(  # type: ignore[misc]
                    kind, symbol, creds, now, cursor=c, since_ms=since_ms, account=account
                ),
                lambda resp, c=cursor: self.venue.parse_list(kind, symbol, resp, cursor=c),  # type: ignore[misc]
                len(orders),
            )
            self.pages += 1
            self.capped = self.capped or page.capped
            if self.exchanges:  # the page came with the last exchange (a retry's evidence comes before it)
                self.exchanges[-1].kind, self.exchanges[-1].page = kind, page
            for order in page.orders:
                # An order can move from one page to the next while the book changes under the cursor.
                ident = (order.order_id, None) if order.order_id is not None else (None, order.client_order_id)
                if ident not in seen:
                    seen.add(ident)
                    orders.append(order)
            if page.cursor is None or (enough is not None and enough(orders, self.pages)):
                return orders
            if page.cursor in cursors:
                raise self._incomplete(f"the venue's paging repeated the cursor {page.cursor[:40]!r}", len(orders))
            if self.pages >= MAX_PAGES:
                raise self._incomplete(f"more than {MAX_PAGES} pages", len(orders))
            cursors.add(page.cursor)
            cursor = page.cursor


def _said(answer: Failure | TransportError) -> str:
    if isinstance(answer, TransportError):
        return str(answer)
    return f"{answer.kind.value}: {answer.code or answer.http_status} {answer.message or ''}".strip()
