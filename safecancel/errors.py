"""The safecancel error tree. Every error the library raises derives from :class:`SafeCancelError`.

::

    SafeCancelError
    ├── InputError            bad arguments or configuration; nothing was stored or sent; never retried
    │   └── IdempotencyConflict   a key reused for a different set of orders
    ├── IllegalTransition     the state table refused a trigger (a bug, or a second writer)
    ├── LeaseHeld             another live runner holds the job's lease (host, pid, until)
    ├── StoreError            the journal database could not be used
    │   ├── ConcurrentUpdate  a compare-and-set lost: another writer moved the row first
    │   └── SchemaOutOfDate   the database was written by a newer safecancel
    └── VenueError            fields: venue, http_status, venue_code, venue_message
        ├── AuthError         the venue refused our credentials; never retried
        ├── TransportError    never_reached_venue: bool
        ├── VenueRejected     the venue refused the requests as a whole, repeatedly (job_id)
        └── ListingIncomplete a listing could not be read to its last page (pages, orders_seen)

Rate limits are not an error a caller sees: a job paces itself and waits out 429s and Retry-After;
one that runs out of time stays ``open`` for ``resume``.

Errors carry data in fields so that callers branch on types and attributes, never on message text.
Messages never contain credentials: they are built from ids, codes and venue messages only.
"""

from __future__ import annotations

from datetime import UTC, datetime


class SafeCancelError(Exception):
    """Base class of every error raised by safecancel."""


class InputError(SafeCancelError):
    """The caller's input is invalid. Raised before anything is stored or sent."""


class IdempotencyConflict(InputError):
    """An idempotency key was reused for a different set of orders."""

    def __init__(self, key: str, job_id: str) -> None:
        super().__init__(
            f"idempotency key {key!r} already belongs to job {job_id} with a different set of orders; "
            "use a new key for a new batch"
        )
        self.key = key
        self.job_id = job_id


class IllegalTransition(SafeCancelError):
    """The state table has no transition for this trigger from this state."""

    def __init__(self, trigger: str, source: str) -> None:
        super().__init__(f"can't trigger {trigger!r} from state {source!r}")
        self.trigger = trigger
        self.source = source


class StoreError(SafeCancelError):
    """The journal database could not be opened, read or written."""


class ConcurrentUpdate(StoreError):
    """A compare-and-set update matched no row: another writer changed it first."""


class LeaseHeld(SafeCancelError):
    """Another runner that is (or may be) alive holds the job's lease; it is working the job.

    Not a :class:`StoreError`: the journal is fine, the job is simply someone else's until
    ``expires_at`` (epoch seconds). A holder proven dead on this host never raises this: its job is
    taken over at once.
    """

    def __init__(self, job_id: str, owner: str, expires_at: float, *, now: float | None = None) -> None:
        host, _, _nonce = owner.rpartition(":")
        host, _, pid = host.rpartition(":") if host else (owner, "", "")
        self.job_id = job_id
        self.owner = owner
        self.host = host or owner
        self.pid = int(pid) if pid.isdigit() else None
        self.expires_at = expires_at
        until = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        left = "" if now is None else f", {max(0.0, expires_at - now):.0f} s from now"
        who = f"{self.host} (pid {self.pid})" if self.pid is not None else self.host
        super().__init__(f"job {job_id} is held by a live runner on {who} until {until}{left}")


class SchemaOutOfDate(StoreError):
    """The database schema is newer than this version of safecancel understands."""


class DeadManError(SafeCancelError):
    """A dead-man switch could not be armed or disarmed as asked; the message says where it stands."""


class VenueError(SafeCancelError):
    """A venue answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        venue: str,
        http_status: int | None = None,
        venue_code: str | None = None,
        venue_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.venue = venue
        self.http_status = http_status
        self.venue_code = venue_code
        self.venue_message = venue_message
        self.job_id: str | None = None  # the job that met the error, when one did (it stays unfinished)


class AuthError(VenueError):
    """The venue refused the credentials or the signature. Never retried."""


class TransportError(VenueError):
    """The HTTP exchange failed. ``never_reached_venue`` says whether a resend is provably safe."""

    def __init__(self, message: str, *, never_reached_venue: bool, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.never_reached_venue = never_reached_venue


class VenueRejected(VenueError):
    """The venue refused our requests as a whole, repeatedly (a wrong base URL answering 404, a
    whole-request error code): nothing was applied, the job is ``needs_attention`` and its orders are
    as they were. Raised by ``cancel()`` with ``job_id`` set; ``resume`` continues the job once fixed."""


class ListingIncomplete(VenueError):
    """A listing of open orders (or history) could not be read to its last page: the deadline passed
    with the venue still failing, or its paging did not advance. What was read is not a complete
    picture and is not returned as one; ``pages`` and ``orders_seen`` say how far it got."""

    def __init__(self, message: str, *, pages: int, orders_seen: int, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.pages = pages
        self.orders_seen = orders_seen
