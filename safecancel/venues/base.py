"""What every venue adapter provides, and small pure helpers they share.

An adapter is pure: it builds signed :class:`~safecancel.model.HttpRequest` objects and parses
:class:`~safecancel.model.HttpResponse` objects. Time, credentials and the base URL are given to it;
it never opens a socket, reads a clock or touches the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import InputError
from ..model import (
    CancelReply,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    IdKind,
    OrderRef,
    QueryReply,
)


@dataclass(frozen=True, slots=True)
class Rate:
    """A documented request rate: ``requests`` per ``per_seconds``."""

    requests: int
    per_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.per_seconds


class Venue(Protocol):
    """The adapter protocol. See :mod:`safecancel.venues.binance` for the reference implementation."""

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    id_kinds: ClassVar[frozenset[IdKind]]
    secret_headers: ClassVar[frozenset[str]]  # lower-case names, redacted from evidence
    secret_params: ClassVar[frozenset[str]]  # query parameter names, redacted from evidence
    cancel_rate: ClassVar[Rate]
    query_rate: ClassVar[Rate]
    requires: ClassVar[tuple[str, ...]]  # credential fields that must be present
    # Optional (read with getattr; defaults 1 and None): consecutive "no such order" answers needed
    # before an order is settled failed/not_found, and the age past which the venue forgets orders.
    not_found_confirmations: ClassVar[int]
    forget_after_s: ClassVar[float | None]

    base_url: str
    max_batch: int

    def validate(self, refs: Sequence[OrderRef]) -> None:
        """Raise :class:`InputError` naming the first bad symbol or id."""

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        """Split orders into requests the venue accepts (limit, one id kind, symbol rules)."""

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest: ...

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        """One outcome per requested order, or a classified whole-request failure. Never raises."""

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest: ...

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        """The order's status, or a classified failure of the query. Never raises."""

    def build_time(self) -> HttpRequest | None:
        """The server-time request, or None when the venue has none."""

    def parse_time(self, resp: HttpResponse) -> int | None:
        """Server time in ms from a time reply (or any reply, for venues without a time endpoint)."""


# -- shared pure helpers ------------------------------------------------------------------------

SYMBOL_RE = re.compile(r"^[A-Za-z0-9]{1,20}([_\-/][A-Za-z0-9]{1,20})?$")


def hmac_hex(secret: str, message: str, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), message.encode(), getattr(hashlib, digest)).hexdigest()


def hmac_b64(secret: str, message: str, digest: str = "sha256") -> str:
    raw = hmac.new(secret.encode(), message.encode(), getattr(hashlib, digest)).digest()
    return base64.b64encode(raw).decode()


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load_json(resp: HttpResponse) -> Any:
    """The body as JSON, or ``None`` when it is empty, truncated or not JSON."""
    try:
        return resp.json()
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: hostile nesting like [[[[...
        return None


def retry_after_seconds(resp: HttpResponse) -> float | None:
    """``Retry-After`` in seconds (delta form only, which is what venues send), or None."""
    raw = resp.header("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def generic_http_failure(resp: HttpResponse, code: str | None = None, message: str | None = None) -> Failure:
    """Classify by HTTP status alone, for replies whose body says nothing more specific.

    5xx may have been applied (a gateway can fail after the backend acted), so it is an unknown
    outcome; 429 is a not-applied rate limit; 401/403 are auth; other 4xx are refusals.
    """
    status = resp.status
    msg = message if message is not None else resp.text(200)
    if status == 429 or status == 418:
        return Failure(FailureKind.RATE_LIMITED, code, msg, status, retry_after_seconds(resp))
    if status in (401, 403):
        return Failure(FailureKind.AUTH, code, msg, status)
    if status >= 500 or status == 408:
        return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg, status)
    if 400 <= status < 500:
        return Failure(FailureKind.REJECTED, code, msg, status)
    return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "unexpected reply", status)


def chunk_by(refs: Sequence[OrderRef], size: int, *, key=lambda r: (r.symbol, r.kind)) -> list[list[OrderRef]]:
    """Group orders by ``key`` (first-seen order kept) and split each group into lists of ``size``."""
    groups: dict[Any, list[OrderRef]] = {}
    for ref in refs:
        groups.setdefault(key(ref), []).append(ref)
    out: list[list[OrderRef]] = []
    for group in groups.values():
        out.extend(group[i : i + size] for i in range(0, len(group), size))
    return out


def check_symbols(venue: str, refs: Iterable[OrderRef], pattern: re.Pattern[str]) -> None:
    for ref in refs:
        if not isinstance(ref.symbol, str) or not pattern.fullmatch(ref.symbol):
            raise InputError(f"{venue}: malformed symbol {ref.symbol!r}")


def check_id_text(venue: str, ref: OrderRef, *, max_len: int = 64) -> None:
    """Ids are printable ASCII without separators or quotes, so they cannot break a list encoding."""
    value = ref.value
    if not isinstance(value, str) or not value:
        raise InputError(f"{venue}: empty {ref.kind.value} for {ref.symbol}")
    if len(value) > max_len or not re.fullmatch(r"[A-Za-z0-9_\-.:]+", value):
        raise InputError(f"{venue}: malformed {ref.kind.value} {value!r}")


@dataclass(frozen=True, slots=True)
class IdFormat:
    """How a venue spells symbols and ids: the patterns, and the words of the error naming a bad one."""

    symbol: re.Pattern[str]
    symbol_hint: str  # e.g. "expected e.g. BTC-USDT"
    order_id: re.Pattern[str]
    order_id_name: str  # the venue's own parameter name, e.g. "orderId"
    order_id_hint: str  # e.g. "numeric"
    client_id: re.Pattern[str]
    client_id_name: str  # e.g. "clientOid"
    client_id_hint: str  # e.g. "1-50 of A-Z a-z 0-9 _ . -"


def check_refs(venue: str, refs: Iterable[OrderRef], fmt: IdFormat) -> None:
    """Raise :class:`InputError` naming the first symbol or id the venue would not accept."""
    for ref in refs:
        if not isinstance(ref.symbol, str) or not fmt.symbol.fullmatch(ref.symbol):
            raise InputError(f"{venue}: malformed symbol {ref.symbol!r} ({fmt.symbol_hint})")
        if ref.kind is IdKind.ORDER_ID:
            if not isinstance(ref.order_id, str) or not fmt.order_id.fullmatch(ref.order_id):
                raise InputError(f"{venue}: {fmt.order_id_name} must be {fmt.order_id_hint}, got {ref.order_id!r}")
        elif not isinstance(ref.client_order_id, str) or not fmt.client_id.fullmatch(ref.client_order_id):
            raise InputError(f"{venue}: malformed {fmt.client_id_name} {ref.client_order_id!r} ({fmt.client_id_hint})")


def redact_query(query: str, secret_params: frozenset[str]) -> str:
    """The query string with secret parameter values replaced (order kept)."""
    if not query:
        return ""
    lowered = {p.lower() for p in secret_params}
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in lowered else v) for k, v in pairs], safe="[],\":")


def host_of(base_url: str) -> str:
    """The host (with a non-default port) the request is sent to, lower-cased."""
    parts = urlsplit(base_url)
    return (parts.netloc or "").lower()


def path_prefix(base_url: str) -> str:
    """The path part of a base URL without a trailing slash (e.g. BitoPro's ``/v3``)."""
    return urlsplit(base_url).path.rstrip("/")


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def lower_keys(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k.lower(): v for k, v in d.items()}


def batch_size(venue: str, requested: int | None, *, default: int, hard_max: int) -> int:
    """The ids-per-request limit: the venue's default, or the caller's override within ``hard_max``.

    Where a venue does not document its limit, ``default`` is a conservative guess and ``hard_max``
    is what a user may raise it to at their own risk.
    """
    if requested is None:
        return default
    if isinstance(requested, bool) or not isinstance(requested, int) or not 1 <= requested <= hard_max:
        raise InputError(f"{venue}: batch size must be between 1 and {hard_max}, got {requested!r}")
    return requested
