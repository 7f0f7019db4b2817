"""BitoPro: ``PUT /v3/orders`` (cancel batch orders).

Docs: https://github.com/bitoex/bitopro-offical-api-docs/blob/master/api/v3/private/cancel_batch_orders.md
(``shared/venues.md`` §1; seed 000).

Endpoint and base URL
    ``PUT /v3/orders`` with a JSON body ``{"BTC_USDT": ["12234566", ...], "ETH_USDT": [...]}``: several
    pairs may share one request, and :meth:`BitoPro.plan_chunks` packs them up to the batch limit. The
    docs give the REST root as ``https://api.bitopro.com/v3``; this adapter keeps the ``/v3`` in every
    request path and strips a trailing ``/v3`` from the base URL it is given, so both
    ``https://api.bitopro.com/v3`` (the documented root) and a bare ``http://127.0.0.1:PORT`` (the fake
    venue) work. :attr:`BitoPro.default_base_url` is therefore ``https://api.bitopro.com``.

Signing (README "API Security Protocol")
    ``X-BITOPRO-PAYLOAD`` is standard base64 of a JSON text, ``X-BITOPRO-SIGNATURE`` is
    ``hex(HMAC-SHA384(secret, payload))``, ``X-BITOPRO-APIKEY`` the key. For the PUT the JSON text is
    the body itself: it is serialised once and the very same bytes are encoded and sent, with no nonce
    (neither the official SDK nor ccxt adds one). For GET/DELETE the payload is
    ``{"identity": <e-mail or "">, "nonce": <ms>}``. The identity (the account e-mail) is a secret: it
    only ever travels inside the payload header, which is in :attr:`BitoPro.secret_headers`.

Reply mapping (§1.5, §6)
    A 200 reply ``{"data": {PAIR: [ids]}}`` lists the ids that *were cancelled*; an order is
    ``CANCELLED`` only when its id appears under its own pair. Every other requested order is
    ``UNKNOWN`` (reason ``omitted``) and is settled by ``GET /v3/orders/{pair}/{orderId}``. Non-2xx
    replies carry ``{"error": "..."}`` and are classified by HTTP status: 409 (local time mismatch) is
    CLOCK, 429 RATE_LIMITED, 401/403 and "Invalid Signature" AUTH, 408 and 5xx UNKNOWN_OUTCOME, other
    4xx REJECTED. A reply whose body is not that shape (a proxy's HTML page, an empty body, another
    API's JSON) is the endpoint's word, not BitoPro's: it never settles an order, and its status alone
    decides (other 4xx REJECTED with a plain-words message naming what came back; 2xx UNKNOWN_OUTCOME).
    Pairs are compared case-insensitively (the body carries ``BTC_USDT``, the query path
    ``btc_usdt``, as ccxt does).

Server time
    BitoPro documents no time endpoint (ccxt: ``fetchTime: False``), so :meth:`BitoPro.build_time`
    returns ``None`` and :meth:`BitoPro.parse_time` reads the HTTP ``Date`` header of *any* reply. That
    header has one-second resolution; the estimate is the middle of that second
    (:data:`DATE_HEADER_MIDPOINT_MS`), which halves the worst-case error. Not sourced by BitoPro.

UNCONFIRMED choices (each a named constant below)
    - Max ids per request is not documented: :data:`DEFAULT_MAX_BATCH` (10) by default, a caller may
      raise it up to :data:`HARD_MAX_BATCH`.
    - Per-order failures are not documented; assumed silently absent from the reply. Absent ->
      ``unknown`` -> query, which is safe whatever the venue does with them.
    - Stop-limit ids (``SL-9014867155``) may not be cancellable through the batch endpoint:
      :data:`ALLOW_STOP_LIMIT_IDS` is False, so :meth:`BitoPro.validate` rejects them with a clear
      message rather than sending a request whose effect is unknown.
    - How the query reports an unknown order is not documented: only a 404 in BitoPro's own error shape
      (``{"error": "..."}``) whose message names an order as not found
      (:data:`QUERY_NOT_FOUND_FRAGMENTS`) is read as ``not_found``; any other 404 is a refusal of the
      request (it could be a wrong path) and the order stays as it was.
    - Order ids: the docs type ``orderId`` only as a string of digits ("2959906694"); the official Go SDK
      takes it as a Go ``int`` (64-bit) formatted with ``%d`` (``CancelOrder(pair string, orderID int)``,
      bitopro-api-go ``pkg/bitopro/order_cancel.go``), so :data:`ORDER_ID_MAX` is 2**63-1. Ids are
      canonical: ASCII digits, no leading zero, not ``0``.
    - Status 3 "Completed (partial deal)" does not say "cancelled": it is reported as ``failed`` /
      ``filled`` (:data:`QUERY_STATUS`), never as ``cancelled``.
    - ``Retry-After`` on 429 is not documented; honoured when present.
    - 409 is CLOCK everywhere (current README: "Local Machine Time Mismatch"). The older v3-1 doc read
      it as "same request more than once"; the PUT carries no nonce, so under that reading a re-sent
      identical batch could keep getting 409. No verdict is ever inferred from it, so it stays safe.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from ..errors import InputError
from ..model import (
    REASON_AMBIGUOUS,
    REASON_FILLED,
    REASON_NOT_FOUND,
    REASON_OMITTED,
    CancelReply,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    IdKind,
    OrderRef,
    Outcome,
    QueryReply,
    Verdict,
)
from .base import (
    INT64_MAX,
    IdFormat,
    Rate,
    VenueAdapter,
    clip,
    compact_json,
    decimal_id_ok,
    decimal_id_re,
    describe_decimal_id_flaw,
    flaw,
    foreign_reply_failure,
    hmac_hex,
    load_json,
    names_another_order,
    retry_after_seconds,
)

# -- endpoint constants ---------------------------------------------------------------------------

API_PREFIX = "/v3"  # README "API Endpoint": the REST service is hosted at https://api.bitopro.com/v3
CANCEL_PATH = API_PREFIX + "/orders"  # cancel_batch_orders.md (the official Python SDK adds a trailing "/")
QUERY_PATH = API_PREFIX + "/orders/{pair}/{order_id}"  # get_an_order_data.md

# Pairs are {BASE}_{QUOTE} ("bito_eth", "BTC_USDT"); the body uses upper case (docs' sample, ccxt's
# uppercaseId), the query path lower case (ccxt's market id).
SYMBOL_RE = re.compile(r"[A-Za-z0-9]{1,20}_[A-Za-z0-9]{1,20}", re.ASCII)
# Exchange order ids are digit strings ("2959906694"); the official Go SDK holds them in a 64-bit int
# (bitopro-api-go pkg/bitopro/order_cancel.go: CancelOrder(pair string, orderID int), "%d").
ORDER_ID_MAX = INT64_MAX
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)  # ASCII digits, no leading zero, at most 19 digits
STOP_LIMIT_PREFIX = "SL-"  # get_an_order_data.md example: "SL-9014867155"
# validate() below is BitoPro's own (stop-limit ids, duplicates across pair spellings); this states the same
# spellings for whoever reads the venue's facts. No client ids: the batch endpoint takes exchange ids only.
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected BASE_QUOTE, e.g. BTC_USDT",
    ORDER_ID_RE,
    "order id",
    f"digits 1..{ORDER_ID_MAX} without a leading zero",
    None,
    "",
    "",
    ORDER_ID_MAX,
)

# UNCONFIRMED (venues.md §1.4): whether "SL-" ids can be cancelled through PUT /orders. Rejecting them
# up front is the conservative reading: the caller gets a clear error instead of a request whose effect
# on a stop order nobody has documented.
ALLOW_STOP_LIMIT_IDS = False

# UNCONFIRMED (venues.md §1.4): the batch limit is not documented. 10 is a conservative default; a
# caller may raise it up to 200, the per-pair open-order limit the venue reports ("orderOpenLimit":
# "200" in /provisioning/trading-pairs), beyond which a batch cannot usefully grow.
DEFAULT_MAX_BATCH = 10
HARD_MAX_BATCH = 200

# HTTP statuses, README "HTTP Status Code & Error Response".
STATUS_CLOCK = 409  # "Conflict: Local Machine Time Mismatch" (the older v3-1 doc: "same request more than once")
STATUS_RATE_LIMITED = 429
AUTH_STATUSES = frozenset({401, 403})  # API key deleted / no permission
UNKNOWN_OUTCOME_STATUSES = frozenset({408})  # "Send Request Takes Too Long": may have been applied
# ccxt maps {"error":"Invalid Signature"} to AuthenticationError whatever the status; so do we.
AUTH_MESSAGE_FRAGMENTS = ("invalid signature", "api key", "apikey")
CLOCK_MESSAGE_FRAGMENTS = ("time mismatch",)

# UNCONFIRMED: the query's reply for an unknown order is not documented. Only a 404 that says an order
# was not found means "not found"; a bare 404 may be a wrong path and must not fail the order.
STATUS_NOT_FOUND = 404
WRONG_PATH_STATUSES = frozenset({404, 405})  # README: 404 "wrong path"; 405 a method the path does not take
QUERY_NOT_FOUND_FRAGMENTS = ("order not found", "order does not exist", "order is not found")

# Order status ints, model.md "Order Status Enum" (the official Python SDK's OrderStatus is identical).
QUERY_STATUS: Mapping[int, Outcome] = {
    -1: Outcome(Verdict.OPEN, None, "-1", "not triggered"),  # stop-limit: still resting
    0: Outcome(Verdict.OPEN, None, "0", "in progress"),
    1: Outcome(Verdict.OPEN, None, "1", "in progress (partial deal)"),
    2: Outcome(Verdict.FAILED, REASON_FILLED, "2", "completed"),
    # "Completed (partial deal)" is terminal and traded, but does not say "cancelled" (UNCONFIRMED whether
    # a cancel after a partial fill ends here): never claim a cancel the venue did not state.
    3: Outcome(Verdict.FAILED, REASON_FILLED, "3", "completed (partial deal)"),
    4: Outcome(Verdict.CANCELLED, None, "4", "cancelled"),
    6: Outcome(Verdict.CANCELLED, None, "6", "post-only cancelled"),
}

# No server-time endpoint: parse_time reads the Date header (RFC 7231 IMF-fixdate, second resolution).
DATE_HEADER_MIDPOINT_MS = 500
# One IMF-fixdate; a proxy (or a test server) may send the header twice, which clients join with ", ".
_IMF_FIXDATE_RE = re.compile(r"[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT", re.ASCII)


# -- signing (pure functions, unit-tested against the official vectors) -------------------------------


def payload_of(text: bytes) -> str:
    """``X-BITOPRO-PAYLOAD``: standard base64 of the exact JSON bytes (the Go SDK's ``StdEncoding``).

    The Python SDK uses the url-safe alphabet (UNCONFIRMED which the server accepts). The two differ
    only where ``+``/``/`` appear, which needs a ``>``, ``?``, ``~`` or non-ASCII byte in the JSON: never
    in a batch body (pairs and digit ids), only in an unusual identity e-mail.
    """
    return base64.b64encode(text).decode("ascii")


def signature_of(secret: str, payload: str) -> str:
    """``X-BITOPRO-SIGNATURE``: lower-case hex of HMAC-SHA384 over the payload text."""
    return hmac_hex(secret, payload, "sha384")


def canonical_pair(symbol: str) -> str:
    """The pair as the batch body spells it (upper case); replies are matched on this form."""
    return symbol.upper()


class BitoPro(VenueAdapter):
    """Adapter for BitoPro spot (REST v3)."""

    name: ClassVar[str] = "bitopro"
    default_base_url: ClassVar[str] = "https://api.bitopro.com"  # paths carry /v3 (see module docstring)
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset({IdKind.ORDER_ID})
    # The payload carries the account e-mail on GET/DELETE; the signature is redacted too, so that
    # evidence and cassettes hold nothing derived from the secret.
    secret_headers: ClassVar[frozenset[str]] = frozenset(
        {"x-bitopro-apikey", "x-bitopro-payload", "x-bitopro-signature"}
    )
    secret_params: ClassVar[frozenset[str]] = frozenset()
    # "Allow 2 requests per second per IP" (cancel_batch_orders.md; ccxt weights it 2/s as well).
    cancel_rate: ClassVar[Rate] = Rate(2, 1.0)
    # The single-order query has no own limit: the README's 600 per minute per IP and per account.
    query_rate: ClassVar[Rate] = Rate(600, 60.0)
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")  # identity is optional ("" in the SDK)
    example_symbol: ClassVar[str] = "BTC_USDT"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = DEFAULT_MAX_BATCH
    hard_max_batch: ClassVar[int] = HARD_MAX_BATCH
    # The body maps pairs to ids ({"BTC_USDT": [...], "ETH_USDT": [...]}): one request spans pairs.
    one_symbol_per_request: ClassVar[bool] = False
    allow_stop_limit_ids: ClassVar[bool] = ALLOW_STOP_LIMIT_IDS

    def __init__(self, base_url: str | None = None, *, max_batch: int | None = None) -> None:
        super().__init__(base_url, max_batch=max_batch)
        # The docs' root ends in /v3 and every path here starts with it: drop it once from the base.
        if self.base_url.endswith(API_PREFIX):
            self.base_url = self.base_url[: -len(API_PREFIX)]

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        seen: set[tuple[str, str]] = set()
        symbol_ok = SYMBOL_RE.fullmatch
        for ref in refs:
            symbol = ref.symbol
            if not isinstance(symbol, str) or not symbol_ok(symbol):
                detail = flaw(symbol)
                raise InputError(
                    f"bitopro: malformed pair {clip(symbol)} "
                    f"({detail + '; ' if detail else ''}expected BASE_QUOTE, e.g. BTC_USDT)"
                )
            if ref.client_order_id is not None:
                raise InputError(
                    f"bitopro: client order ids are not supported ({clip(ref.client_order_id)} on {symbol}); "
                    "BitoPro cancels by exchange order id only"
                )
            oid = ref.order_id
            if not isinstance(oid, str):
                raise InputError(f"bitopro: missing order id for {symbol}")
            if not decimal_id_ok(oid, ORDER_ID_RE, ORDER_ID_MAX):
                stop_digits = oid[len(STOP_LIMIT_PREFIX) :] if oid.startswith(STOP_LIMIT_PREFIX) else None
                if stop_digits is not None and decimal_id_ok(stop_digits, ORDER_ID_RE, ORDER_ID_MAX):
                    if not self.allow_stop_limit_ids:
                        raise InputError(
                            f"bitopro: stop-limit order id {clip(oid)} on {symbol} is not accepted: whether the "
                            "batch endpoint can cancel stop-limit orders is undocumented; cancel it on its own"
                        )
                else:
                    raise InputError(
                        f"bitopro: malformed order id {clip(oid)} on {symbol} (expected digits 1..{ORDER_ID_MAX} "
                        f"without a leading zero; {describe_decimal_id_flaw(oid, ORDER_ID_MAX)})"
                    )
            key = (canonical_pair(symbol), oid)
            if key in seen:
                raise InputError(f"bitopro: order id {clip(oid)} on {symbol} appears twice")
            seen.add(key)

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # Several pairs may share one request, so orders are grouped by pair (first-seen order kept,
        # which keeps each pair's ids together) and the run is cut every max_batch ids.
        groups: dict[str, list[OrderRef]] = {}
        for ref in refs:
            groups.setdefault(canonical_pair(ref.symbol), []).append(ref)
        ordered = [ref for group in groups.values() for ref in group]
        return [ordered[i : i + self.max_batch] for i in range(0, len(ordered), self.max_batch)]

    # -- requests ----------------------------------------------------------------------------

    def _headers(self, creds: Credentials, payload: str) -> dict[str, str]:
        return {
            "X-BITOPRO-APIKEY": creds.api_key,
            "X-BITOPRO-PAYLOAD": payload,
            "X-BITOPRO-SIGNATURE": signature_of(creds.api_secret, payload),
        }

    def _nonce_payload(self, creds: Credentials, now_ms: int) -> str:
        # README: GET/DELETE sign {identity: USER_EMAIL, nonce: TIMESTAMP}; the official SDK sends
        # identity "" (so the server evidently does not require it).
        return payload_of(compact_json({"identity": creds.identity or "", "nonce": int(now_ms)}).encode("utf-8"))

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        # now_ms is unused: the PUT payload is the body alone, with no nonce (official SDK and ccxt).
        listing: dict[str, list[str]] = {}
        for ref in refs:
            listing.setdefault(canonical_pair(ref.symbol), []).append(str(ref.order_id))
        body = compact_json(listing).encode("utf-8")  # serialised once: these bytes are signed and sent
        headers = {**self._headers(creds, payload_of(body)), "Content-Type": "application/json"}
        return HttpRequest("PUT", CANCEL_PATH, "", body, headers, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        path = QUERY_PATH.format(pair=ref.symbol.lower(), order_id=ref.order_id)
        return HttpRequest("GET", path, "", None, self._headers(creds, self._nonce_payload(creds, now_ms)), "query")

    def build_time(self) -> None:
        return None  # no server-time endpoint (ccxt: fetchTime False); see parse_time

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        """Server time from the ``Date`` header of any reply, in ms (middle of the stated second)."""
        try:
            raw = resp.header("date")
            if not isinstance(raw, str):
                return None
            m = _IMF_FIXDATE_RE.search(raw)
            if m is None:
                return None
            stamp = parsedate_to_datetime(m.group(0))
            return int(stamp.timestamp()) * 1000 + DATE_HEADER_MIDPOINT_MS
        except (TypeError, ValueError, OverflowError, AttributeError):
            return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        data = load_json(resp)
        listing = data.get("data") if isinstance(data, dict) else None
        if resp.status != 200 or not isinstance(listing, dict):
            return self._failure(resp, data)
        cancelled: dict[str, set[str]] = {}
        malformed: set[str] = set()
        for pair, ids in listing.items():
            if not isinstance(pair, str):
                continue
            key = canonical_pair(pair)
            if not isinstance(ids, list):
                malformed.add(key)
                continue
            # Only strings and plain ints can be order ids; anything else can never match a ref.
            bucket = cancelled.setdefault(key, set())
            bucket.update(str(i) for i in ids if isinstance(i, str) or (isinstance(i, int) and not isinstance(i, bool)))
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            key = canonical_pair(ref.symbol) if isinstance(ref.symbol, str) else ""
            if ref.order_id is not None and ref.order_id in cancelled.get(key, ()):
                out[ref] = Outcome(Verdict.CANCELLED)
            elif key in malformed:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"unreadable id list for {key}")
            else:
                # BitoPro lists only what it cancelled: an absent id may be filled, already cancelled,
                # unknown, or cancelled and left out. Only a query can tell.
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED, None, "not listed as cancelled in the reply")
        return out

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        data = load_json(resp)
        if resp.status == 200 and isinstance(data, dict):
            # The docs show the order at top level; accept a {"data": {...}} envelope as well.
            inner = data.get("data")
            order: dict[str, Any] = inner if isinstance(inner, dict) else data
            if "status" in order:
                return self._order_outcome(ref, order)
        if resp.status == STATUS_NOT_FOUND and _own_error(data):
            # Only BitoPro's own error body saying an order was not found: a bare or HTML 404 is a wrong
            # path or a proxy, which says nothing about the order.
            message = data["error"]
            if any(f in message.lower() for f in QUERY_NOT_FOUND_FRAGMENTS):
                if names_another_order(message, ref):
                    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(STATUS_NOT_FOUND), message[:200])
                return Outcome(Verdict.FAILED, REASON_NOT_FOUND, str(STATUS_NOT_FOUND), message[:200])
        return self._failure(resp, data)

    def _order_outcome(self, ref: OrderRef, order: dict[str, Any]) -> Outcome:
        returned_id = order.get("id", order.get("orderId"))
        if returned_id is not None and str(returned_id) != str(ref.order_id):
            # A reply about another order settles nothing about this one.
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"reply is about order {str(returned_id)[:40]!r}")
        status = _status_int(order.get("status"))
        outcome = QUERY_STATUS.get(status) if status is not None else None
        if outcome is None:  # a status we do not know: keep asking, never guess
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {str(order.get('status'))[:40]!r}")
        return outcome

    def _failure(self, resp: HttpResponse, data: Any) -> Failure:
        status = resp.status
        if not _own_error(data):
            if status == STATUS_CLOCK:  # documented by status alone ("Local Machine Time Mismatch")
                return Failure(FailureKind.CLOCK, None, "HTTP 409: local machine time mismatch", status)
            # Not BitoPro's word: an HTML page, an empty or truncated body, another API's JSON. The
            # status decides (4xx refused as a whole, 2xx/5xx may have been applied), in plain words.
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        msg = data["error"][:200]
        lowered = msg.lower()
        if 200 <= status < 300:
            # A success status with an error body: whether anything was applied is unclear, so query.
            return Failure(FailureKind.UNKNOWN_OUTCOME, None, msg or "error body on a success status", status)
        if status == STATUS_RATE_LIMITED:
            return Failure(FailureKind.RATE_LIMITED, None, msg, status, retry_after_seconds(resp))
        if status == STATUS_CLOCK or any(f in lowered for f in CLOCK_MESSAGE_FRAGMENTS):
            return Failure(FailureKind.CLOCK, None, msg, status)
        if status in AUTH_STATUSES or any(f in lowered for f in AUTH_MESSAGE_FRAGMENTS):
            return Failure(FailureKind.AUTH, None, msg, status)
        if status >= 500 or status in UNKNOWN_OUTCOME_STATUSES or not 400 <= status < 500:
            # 5xx (a gateway may fail after the backend acted), a timeout, or an odd status: query.
            return Failure(FailureKind.UNKNOWN_OUTCOME, None, msg or "unreadable reply", status)
        if status in WRONG_PATH_STATUSES:
            # README: 404 is "wrong path" -- about the request, never about an order: say what to check.
            return Failure(FailureKind.REJECTED, None, f"HTTP {status} {msg!r}: check the base URL", status)
        return Failure(FailureKind.REJECTED, None, msg, status)


def _own_error(data: Any) -> bool:
    """Whether a body is BitoPro's own error shape, ``{"error": "<message>"}`` (README; ccxt handle_errors)."""
    return isinstance(data, dict) and isinstance(data.get("error"), str)


def _status_int(value: Any) -> int | None:
    """The order status as an int: the docs send an int; a numeric string is tolerated."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,3}", value.strip()):
        return int(value.strip())
    return None


__all__ = ["BitoPro", "canonical_pair", "payload_of", "signature_of"]
