"""What a caller gives, checked before anything is stored or sent: each error names the bad item."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, overload

from .errors import InputError
from .model import OrderRef
from .venues import venue_class
from .venues.base import clip

MAX_ORDERS_PER_JOB = 1_000_000
TIME_EXAMPLES = "e.g. 2026-11-23, 2026-11-23T14:00:00Z or 2026-11-23T15:00+01:00"


@overload
def utc_time(value: None, name: str) -> None: ...
@overload
def utc_time(value: str | datetime, name: str) -> str: ...
def utc_time(value: str | datetime | None, name: str) -> str | None:
    """A time argument (``since``, ``until``, ``before``) as the journal's UTC text, or InputError naming it.

    Accepted: an aware ``datetime``, or ISO-8601 text. Text with an offset or ``Z`` means that instant;
    text without one (``2026-11-23``, ``2026-11-23T14:00``) is UTC, as every time the journal stores
    and shows is. A naive ``datetime`` is refused: in Python it usually means local time, and guessing
    would shift every filter by the machine's offset. Anything else (``"yesterday"``, ``"Jan 1 2020"``,
    a number) is refused, never compared as text.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError(f"{name}: {value.isoformat()} has no time zone; give an aware datetime (tzinfo=UTC)")
        dt = value
    elif isinstance(value, date):
        raise InputError(f"{name}: give a datetime with a time zone or ISO-8601 text, not a date ({value})")
    elif isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
        except ValueError:
            raise InputError(f"{name}: {clip(value)} is not an ISO-8601 date or time ({TIME_EXAMPLES})") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)  # documented: text without an offset is UTC
    else:
        raise InputError(f"{name}: expected a datetime or ISO-8601 text, got {type(value).__name__} {clip(value)}")
    try:
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (OverflowError, ValueError):
        raise InputError(f"{name}: {clip(value)} is out of range") from None


def check_account(account: Any) -> None:
    if not isinstance(account, str) or not account or len(account) > 100 or not account.isprintable():
        raise InputError(f"account label must be 1-100 printable characters, got {clip(account)}")


def ids(values: Iterable[Any] | None, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise InputError(f"{what} must be a list of ids, not a single string")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise InputError(f"{what}: {v!r} is not an id (expected a string or an integer)")
        s = str(v).strip()
        if not s:
            raise InputError(f"{what}: empty id")
        out.append(s)
    return out


def order_refs(
    venue: str,
    base_url: str,
    symbol: str | None,
    order_ids: Iterable[Any] | None,
    client_order_ids: Iterable[Any] | None,
    orders: Iterable[OrderRef] | None,
) -> list[OrderRef]:
    """The orders of one cancel, checked: one id kind given, no duplicates, ids the venue accepts."""
    cls = venue_class(venue)
    given = [x is not None for x in (order_ids, client_order_ids, orders)]
    if sum(given) != 1:
        raise InputError("give exactly one of order_ids, client_order_ids or orders (never both id kinds)")
    if orders is not None:
        refs = list(orders)
        for r in refs:
            if not isinstance(r, OrderRef) or (r.order_id is None) == (r.client_order_id is None):
                raise InputError(f"{r!r}: each order needs exactly one of order_id and client_order_id")
    else:
        if not symbol or not isinstance(symbol, str):
            raise InputError("a symbol is required")
        if order_ids is not None:
            refs = [OrderRef(symbol, order_id=i) for i in ids(order_ids, "order_ids")]
        else:
            refs = [OrderRef(symbol, client_order_id=i) for i in ids(client_order_ids, "client_order_ids")]
    if not refs:
        raise InputError("no orders given: the id list is empty")
    if len(refs) > MAX_ORDERS_PER_JOB:
        raise InputError(f"{len(refs)} orders in one job; the limit is {MAX_ORDERS_PER_JOB}")
    seen: set[tuple[str, str, str, bool]] = set()
    for r in refs:
        if not isinstance(r.conditional, bool):
            raise InputError(f"conditional must be True or False, got {r.conditional!r} on {r}")
        # A conditional order and an ordinary one may share a client id (HTX algo orders: two id spaces).
        ident = (r.symbol, r.kind.value, r.value, r.conditional)
        if ident in seen:
            raise InputError(f"duplicate {r.kind.value} {r.value!r} for {r.symbol}")
        seen.add(ident)
        if r.kind not in cls.id_kinds:
            accepted = ", ".join(sorted(k.value for k in cls.id_kinds))
            raise InputError(f"{venue} cannot cancel by {r.kind.value} (it accepts: {accepted})")
    cls(base_url).validate(refs)
    return refs
