"""The safecancel error tree. Every error the library raises derives from :class:`SafeCancelError`.

::

    SafeCancelError
    ├── InputError            bad arguments or configuration; nothing was stored or sent; never retried
    │   └── IdempotencyConflict   a key reused for a different set of orders
    ├── IllegalTransition     the state table refused a trigger (a bug, or a second writer)
    ├── StoreError            the journal database could not be used
    │   ├── ConcurrentUpdate  a compare-and-set lost: another writer moved the row first
    │   ├── LeaseHeld         another live runner holds the job's lease
    │   └── SchemaOutOfDate   the database was written by a newer safecancel
    └── VenueError            fields: venue, http_status, venue_code, venue_message
        ├── AuthError         the venue refused our credentials; never retried
        ├── RateLimitError    retry_after: seconds or None
        ├── TransportError    never_reached_venue: bool
        └── VenueRejected     a definite business "no"; never retried

Errors carry data in fields so that callers branch on types and attributes, never on message text.
Messages never contain credentials: they are built from ids, codes and venue messages only.
"""

from __future__ import annotations


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


class LeaseHeld(StoreError):
    """Another runner holds a live lease on the job."""

    def __init__(self, job_id: str, owner: str, expires_at: float) -> None:
        super().__init__(f"job {job_id} is leased by {owner} until {expires_at:.3f}")
        self.job_id = job_id
        self.owner = owner
        self.expires_at = expires_at


class SchemaOutOfDate(StoreError):
    """The database schema is newer than this version of safecancel understands."""


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


class AuthError(VenueError):
    """The venue refused the credentials or the signature. Never retried."""


class RateLimitError(VenueError):
    """The venue asked us to slow down."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class TransportError(VenueError):
    """The HTTP exchange failed. ``never_reached_venue`` says whether a resend is provably safe."""

    def __init__(self, message: str, *, never_reached_venue: bool, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.never_reached_venue = never_reached_venue


class VenueRejected(VenueError):
    """The venue gave a definite business refusal. Never retried."""
