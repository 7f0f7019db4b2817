"""HTX (Huobi) spot: ``POST /v1/order/orders/batchcancel``.

Docs: https://www.htx.com/en-us/opend/newApiPages/?id=7ec4ea21-7773-11ed-9966-0242ac110003
(``shared/venues.md`` §4, seed 003).

Request: a JSON body ``{"order-ids": [...]}`` **or** ``{"client-order-ids": [...]}`` (never both), at most 50
ids. The ids carry no symbol, so one request may hold orders of several symbols; chunks are split by id kind
only.

Signing (signature v2, §4.2): the four auth parameters ``AccessKeyId``, ``SignatureMethod=HmacSHA256``,
``SignatureVersion=2`` and ``Timestamp=YYYY-MM-DDThh:mm:ss`` (UTC, from ``now_ms``) always travel in the URL
query, also for POST. Values are percent-encoded with upper-case hex, sorted by key (ASCII), joined with
``&``; the text signed is ``METHOD\\nhost\\npath\\nsortedQuery`` where host is the lower-cased host (with a
non-default port) the request is sent to; ``Signature = base64(HMAC-SHA256(secret, text))`` is appended
percent-encoded. For POST only the auth parameters are signed, the JSON body is not; for GET every
parameter is in the query and signed.

Reply mapping (§4.5, §6):
- ``data.success[]``: HTX only *accepted* the cancel (it is asynchronous), so those orders are ``unknown``
  (reason ``accepted``) and a query confirms them. This adapter never returns ``cancelled`` from a cancel reply.
- ``data.failed[]`` with ``order-orderstate-error``: ``order-state`` (string or number) -1/5/6/7 (terminal:
  filled or cancelled, the reply does not say which in a way we trust) and 1/3/4 (still live: the refusal
  itself is unexplained) become ``unknown`` (reason ``ambiguous``), ``10`` becomes ``unknown`` (reason
  ``cancelling``); the code and message are kept. ``base-record-invalid`` is never final (it is returned
  transiently for fresh orders and for API orders forgotten 2 h after cancellation) -> ``unknown``.
  ``order-fl-cancellation-is-disallowed`` (a liquidation order) -> ``failed`` (``venue_refused``); any other
  per-order code -> ``unknown`` (``ambiguous``), e.g. IOC/FOK refusals, whose final state the query gives.
- Orders missing from both lists -> ``unknown`` (reason ``omitted``).
- Envelope ``{"status":"error","err-code":...}`` -> a classified :class:`Failure` (see the code sets below).
- Only HTX's own envelope (``{"status": "ok"|"error", ...}``) is HTX's word. Any other body (a proxy's HTML
  page, an empty or truncated body, another API's JSON) settles no order: its status decides -- 429 rate
  limited, 401/403 auth, any other 4xx REJECTED (refused before HTX's API answered: check the base URL),
  2xx, 408 and 5xx UNKNOWN_OUTCOME -- with a message saying in plain words what came back.

Ids (validated before anything is stored): ``order-id`` is ``long`` in HTX's spot docs (order detail and
order-update tables: "order-id | long"), so an order id is a canonical decimal 1..2**63-1
(:data:`ORDER_ID_MAX`): ASCII digits, no leading zero. ``client-order-id``: letters, digits, ``_`` and
``-``, at most 64 characters (trading glossary), ASCII only.

Query: ``GET /v1/order/orders/{order-id}`` or ``GET /v1/order/orders/getClientOrder?clientOrderId=...``;
states created/submitted/partial-filled -> ``open``; canceling -> ``unknown`` (cancelling);
canceled/partial-canceled -> ``cancelled``; filled -> ``failed`` (filled).

UNCONFIRMED choices (safe under every reading):
- A query answered ``base-record-invalid`` is reported as ``not_found``, but HTX answers that for an id that
  never existed, for an order created a moment ago, and for an API order cancelled more than 2 h ago
  (§4.5, §4.6). So the engine believes it only when :attr:`HTX.not_found_confirmations` consecutive queries
  agree (the transient case clears within a moment) and only while the job is younger than
  :attr:`HTX.forget_after_s` (2 h); past that the order stays ``unknown`` for an operator to settle.
- :data:`STALE_TIMESTAMP_MARKERS`: HTX reports a stale ``Timestamp`` as ``api-signature-not-valid`` with the
  message "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"
  (ccxt/ccxt#25931, huobiapi/REST-API-demos#4); no dedicated code exists (§6), so the message decides CLOCK.
- :data:`UNLISTED_ERROR_KIND`: an error code we do not recognise may have been applied -> ``unknown_outcome``.
- Rate limiting: ``base-request-exceed-frequency-limit`` (ccxt) or HTTP 429; ``Retry-After`` honoured if sent.
- Symbols are lower-case (``btcusdt``) as HTX spells them; they are validated but not sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from ..errors import InputError
from ..model import (
    REASON_ACCEPTED,
    REASON_AMBIGUOUS,
    REASON_CANCELLING,
    REASON_FILLED,
    REASON_NOT_FOUND,
    REASON_OMITTED,
    REASON_REFUSED,
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
    check_refs,
    chunk_by,
    compact_json,
    decimal_id_re,
    foreign_reply_failure,
    hmac_b64,
    load_json,
    names_another_order,
    path_prefix,
    retry_after_seconds,
)

# -- request shape -----------------------------------------------------------------------------

CANCEL_PATH = "/v1/order/orders/batchcancel"
QUERY_PATH = "/v1/order/orders/{order_id}"
QUERY_CLIENT_PATH = "/v1/order/orders/getClientOrder"
TIME_PATH = "/v1/common/timestamp"

MAX_BATCH = 50  # "No more than 50 orders per request" (seed 003)
BODY_KEY = MappingProxyType({IdKind.ORDER_ID: "order-ids", IdKind.CLIENT_ORDER_ID: "client-order-ids"})
FAILED_ID_KEY = MappingProxyType({IdKind.ORDER_ID: "order-id", IdKind.CLIENT_ORDER_ID: "client-order-id"})

SYMBOL_RE = re.compile(r"[a-z0-9]{2,32}", re.ASCII)  # HTX spot symbols: btcusdt, ethbtc, 1inchusdt
ORDER_ID_MAX = INT64_MAX  # "order-id | long" (spot private REST docs: order detail, order update tables)
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)
# "letters (case sensitive), digit, underscore (_) and hyphen (-), no more than 64 chars" (trading glossary).
CLIENT_ID_MAX_LEN = 64
CLIENT_ID_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{CLIENT_ID_MAX_LEN}}}", re.ASCII)
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected lower-case, e.g. btcusdt",
    ORDER_ID_RE,
    "order-id",
    f"numeric (long: ASCII digits, no leading zero, 1..{ORDER_ID_MAX})",
    CLIENT_ID_RE,
    "client-order-id",
    "letters, digits, '_' and '-', at most 64 characters",
    ORDER_ID_MAX,
    client_id_max_len=CLIENT_ID_MAX_LEN,
)

# -- signing (signature v2) --------------------------------------------------------------------

SIGNATURE_METHOD = "HmacSHA256"
SIGNATURE_VERSION = "2"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"  # UTC, no milliseconds, no zone; valid for 5 minutes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_PORTS = MappingProxyType({"http": 80, "https": 443})  # an HTTP client leaves these out of the Host header

# -- error codes (§4.5, §6; trading error table; ccxt's htx exception map) ---------------------

ERR_ORDER_STATE = "order-orderstate-error"
NOT_FOUND_CODES = frozenset({"base-record-invalid", "order-queryorder-invalid", "not-found", "base-not-found"})
REFUSED_ORDER_CODES = frozenset({"order-fl-cancellation-is-disallowed"})  # a liquidation order: never cancellable
ORDER_STATE_TERMINAL = frozenset({-1, 5, 6, 7})  # closed long ago, partial-canceled, filled, canceled
ORDER_STATE_LIVE = frozenset({1, 3, 4})  # created, submitted, partial-filled
ORDER_STATE_CANCELLING = 10

AUTH_CODES = frozenset({"api-signature-not-valid", "api-signature-check-failed", "login-required"})
STALE_TIMESTAMP_CODE = "api-signature-not-valid"
STALE_TIMESTAMP_MARKERS = ("submission time", "提交时间", "timestamp")
RATE_CODES = frozenset({"base-request-exceed-frequency-limit", "510"})  # 510: "You request too often"
# "System internal error. For placing or canceling order, it is mostly due to cache issue, please try again
# later" / undocumented order-update-error / maintenance: the request was not carried out (§6 RETRY class).
NOT_PROCESSED_CODES = frozenset({"base-system-error", "order-update-error", "system-maintenance"})
UNKNOWN_OUTCOME_CODES = frozenset({"gateway-internal-error", "base-request-timeout", "timeout"})
REJECTED_CODES = frozenset(
    {
        "batchcancel-order-id-list-empty",
        "validation-format-error",
        "validation-constraints-required",
        "invalid-parameter",
        "base-argument-unsupported",
        "cancel-disabled",
        "invalid-client-order-id",
        "base-operation-forbidden",
    }
)
UNLISTED_ERROR_KIND = FailureKind.UNKNOWN_OUTCOME  # an error we cannot read may still have been applied
ENVELOPE_STATUSES = ("ok", "error")  # {"status": "ok"|"error", ...}: HTX's own reply shape (§4.5)

# base-record-invalid proves "not found" only when it repeats, and only within HTX's 2 h memory.
NOT_FOUND_CONFIRMATIONS = 3
FORGET_AFTER_S = 2 * 3600.0

QUERY_STATE = MappingProxyType(
    {
        # Each outcome carries HTX's own state word as its message (HTX has no numeric code here).
        "created": Outcome(Verdict.OPEN, None, None, "created"),
        "submitted": Outcome(Verdict.OPEN, None, None, "submitted"),
        "partial-filled": Outcome(Verdict.OPEN, None, None, "partial-filled"),
        "canceling": Outcome(Verdict.UNKNOWN, REASON_CANCELLING, None, "canceling"),
        "canceled": Outcome(Verdict.CANCELLED, None, None, "canceled"),
        "partial-canceled": Outcome(Verdict.CANCELLED, None, None, "partial-canceled"),
        "filled": Outcome(Verdict.FAILED, REASON_FILLED, None, "filled"),
    }
)


# -- pure signing helpers (also the unit of the official SDK vector) ----------------------------


def encode(value: str) -> str:
    """Percent-encode one key or value as HTX asks: UTF-8, upper-case hex, only RFC 3986 unreserved kept."""
    return quote(value, safe="")


def canonical_query(params: Sequence[tuple[str, str]]) -> str:
    """The encoded parameters sorted by key in ASCII order, joined with ``&``."""
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params, key=lambda kv: kv[0]))


def presign_text(method: str, host: str, path: str, query: str) -> str:
    """``METHOD\\nhost\\npath\\nquery``: the exact text that is signed."""
    return f"{method.upper()}\n{host.lower()}\n{path}\n{query}"


def signature(secret: str, method: str, host: str, path: str, params: Sequence[tuple[str, str]]) -> str:
    """``base64(HMAC-SHA256(secret, presign))`` over the canonical form of ``params``."""
    return hmac_b64(secret, presign_text(method, host, path, canonical_query(params)))


def utc_timestamp(now_ms: int) -> str:
    """HTX's ``Timestamp`` for an epoch time in ms, computed from the argument alone."""
    return (EPOCH + timedelta(seconds=now_ms // 1000)).strftime(TIMESTAMP_FORMAT)


def sign_host(base_url: str) -> str:
    """The host as the server sees it in ``Host``: lower-case, with the port only when it is not the default."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def _int_state(value: Any) -> int | None:
    """``order-state`` arrives as ``"7"`` in batchcancel and as ``7`` in single-cancel errors: read both."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,4}\s*", value):
        return int(value)
    return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


class HTX(VenueAdapter):
    """Adapter for HTX (Huobi) spot."""

    name: ClassVar[str] = "htx"
    default_base_url: ClassVar[str] = "https://api.huobi.pro"
    aws_base_url: ClassVar[str] = "https://api-aws.huobi.pro"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset()  # nothing secret travels in headers
    secret_params: ClassVar[frozenset[str]] = frozenset({"AccessKeyId", "Signature"})
    # "Rate Limit: 50times/2s" for batchcancel, order detail and getClientOrder, per UID across keys (§4.4).
    cancel_rate: ClassVar[Rate] = Rate(50, 2.0)
    query_rate: ClassVar[Rate] = Rate(50, 2.0)
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    example_symbol: ClassVar[str] = "btcusdt"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = MAX_BATCH
    hard_max_batch: ClassVar[int] = MAX_BATCH
    not_found_confirmations: ClassVar[int] = NOT_FOUND_CONFIRMATIONS
    forget_after_s: ClassVar[float | None] = FORGET_AFTER_S
    # batchcancel only accepts a cancel ("data.success"); the order shows `canceling` until it is applied.
    asynchronous_cancel: ClassVar[bool] = True
    # The body carries ids only, no symbol: one request may cancel orders of several symbols.
    one_symbol_per_request: ClassVar[bool] = False

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        check_refs(self.name, refs, ID_FORMAT)

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # The body carries ids only (no symbol), so orders of several symbols share a request; the two id
        # kinds never do ("Either order-ids or client-order-ids can be filled in one batch request").
        return chunk_by(refs, self.max_batch, key=lambda r: r.kind)

    # -- signing -----------------------------------------------------------------------------

    def _signed_query(
        self, method: str, path: str, extra: Sequence[tuple[str, str]], creds: Credentials, now_ms: int
    ) -> str:
        params = [
            ("AccessKeyId", creds.api_key),
            ("SignatureMethod", SIGNATURE_METHOD),
            ("SignatureVersion", SIGNATURE_VERSION),
            ("Timestamp", utc_timestamp(now_ms)),
            *extra,
        ]
        # The signed path is the full path on the host, so a base URL with a path prefix still verifies.
        full_path = path_prefix(self.base_url) + path
        sig = signature(creds.api_secret, method, sign_host(self.base_url), full_path, params)
        return canonical_query(params) + "&Signature=" + encode(sig)

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        if not refs:
            raise InputError("htx: a cancel request needs at least one order")
        kind = refs[0].kind
        if any(r.kind is not kind for r in refs):
            raise InputError("htx: order-ids and client-order-ids cannot share one batchcancel request")
        if len(refs) > self.max_batch:
            raise InputError(f"htx: at most {self.max_batch} orders per batchcancel request, got {len(refs)}")
        body = compact_json({BODY_KEY[kind]: [r.value for r in refs]}).encode()
        query = self._signed_query("POST", CANCEL_PATH, (), creds, now_ms)
        return HttpRequest("POST", CANCEL_PATH, query, body, {"Content-Type": "application/json"}, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        extra: tuple[tuple[str, str], ...]
        if ref.kind is IdKind.ORDER_ID:
            path, extra = QUERY_PATH.format(order_id=ref.order_id), ()
        else:
            path, extra = QUERY_CLIENT_PATH, (("clientOrderId", ref.client_order_id or ""),)
        # GET: every parameter is in the query and signed; a GET with a body is refused with 403.
        query = self._signed_query("GET", path, extra, creds, now_ms)
        return HttpRequest("GET", path, query, None, {}, "query")

    def build_time(self) -> HttpRequest:
        return HttpRequest("GET", TIME_PATH, endpoint="time")

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return None
        value = data.get("data")
        if isinstance(value, bool):
            return None
        if isinstance(value, int) and value > 0:
            return value
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,16}", value):  # ASCII: "²".isdigit() is True
            return int(value)
        return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return self._failure(resp, data)
        body = data.get("data")
        if not isinstance(body, dict):
            return Failure(FailureKind.UNKNOWN_OUTCOME, None, "status ok without a data object", resp.status)
        success = body.get("success")
        failed = body.get("failed")
        accepted = {_text(i) for i in success} if isinstance(success, list) else set()
        kinds = {r.kind for r in refs}
        refusals: dict[tuple[IdKind, str], list[Mapping[str, Any]]] = {}
        if isinstance(failed, list):
            for entry in failed:
                if not isinstance(entry, dict):
                    continue
                for kind in kinds:
                    ident = _text(entry.get(FAILED_ID_KEY[kind]))
                    if ident:
                        refusals.setdefault((kind, ident), []).append(entry)
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            entries = refusals.get((ref.kind, ref.value), [])
            in_success = ref.value in accepted
            if in_success and entries:
                # Both accepted and refused: the reply contradicts itself, so only a query can tell.
                code = _text(entries[0].get("err-code"))
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "in success and failed")
            elif in_success:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_ACCEPTED)
            elif entries:
                out[ref] = self._refusal(entries[0])
            else:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED)
        return out

    def _refusal(self, entry: Mapping[str, Any]) -> Outcome:
        """One ``data.failed[]`` element as an outcome. Never ``cancelled``: the query says what happened."""
        code = _text(entry.get("err-code"))
        msg = _text(entry.get("err-msg"))
        if code == ERR_ORDER_STATE:
            state = _int_state(entry.get("order-state"))
            detail = f"{msg or 'Incorrect order state'} (order-state {entry.get('order-state')!s})"
            if state == ORDER_STATE_CANCELLING:
                return Outcome(Verdict.UNKNOWN, REASON_CANCELLING, code, detail)
            # Terminal states (-1/5/6/7) still need the query to tell filled from cancelled; live states
            # (1/3/4) mean the cancel was refused for a reason the reply does not give, so ask again.
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, detail)
        if code in REFUSED_ORDER_CODES:
            return Outcome(Verdict.FAILED, REASON_REFUSED, code, msg)
        # base-record-invalid and the rest: not final (fresh orders, forgotten orders, transient errors).
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg)

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        data = load_json(resp)
        if resp.status == 200 and isinstance(data, dict) and data.get("status") == "ok":
            order = data.get("data")
            if not isinstance(order, dict) or not isinstance(order.get("state"), str):
                # An order detail we cannot read says nothing about the order: the query failed.
                return Failure(FailureKind.UNKNOWN_OUTCOME, None, "order detail without a state", resp.status)
            if not self._same_order(ref, order):
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the reply describes another order")
            outcome = QUERY_STATE.get(order["state"])
            if outcome is None:  # a state we do not know: keep asking, never guess
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"state {order['state'][:40]!r}")
            return outcome
        if resp.status == 200 and isinstance(data, dict) and data.get("status") == "error":
            # HTX's own error envelope (HTX answers business errors with HTTP 200).
            code = _text(data.get("err-code"))
            if code in NOT_FOUND_CODES:
                msg = _text(data.get("err-msg"))
                msg = msg[:200] if msg is not None else None
                if names_another_order(msg, ref):
                    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg)
                # Settled only after NOT_FOUND_CONFIRMATIONS agreeing answers, within FORGET_AFTER_S (engine).
                return Outcome(Verdict.FAILED, REASON_NOT_FOUND, code, msg)
        return self._failure(resp, data)

    @staticmethod
    def _same_order(ref: OrderRef, order: Mapping[str, Any]) -> bool:
        """False only when the reply names a different order than the one asked about."""
        if ref.kind is IdKind.ORDER_ID:
            got = _text(order.get("id"))
            return got is None or got == ref.order_id
        got = _text(order.get("client-order-id"))
        return got is None or got == ref.client_order_id

    def _failure(self, resp: HttpResponse, data: Any) -> Failure:
        status = resp.status
        if not isinstance(data, dict) or data.get("status") not in ENVELOPE_STATUSES:
            # Not HTX's envelope (an HTML page, an empty or truncated body, another API's JSON): the
            # status decides, in plain words.
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        envelope = data
        code = _text(envelope.get("err-code"))
        msg = _text(envelope.get("err-msg"))
        msg = msg[:200] if msg is not None else None
        code = code[:100] if code is not None else None
        if status == 429 or code in RATE_CODES:
            return Failure(FailureKind.RATE_LIMITED, code, msg, status, retry_after_seconds(resp))
        if code == STALE_TIMESTAMP_CODE and msg and any(m in msg.lower() for m in STALE_TIMESTAMP_MARKERS):
            return Failure(FailureKind.CLOCK, code, msg, status)
        if code in AUTH_CODES or status in (401, 403):
            return Failure(FailureKind.AUTH, code, msg, status)
        if status >= 500 or status == 408:
            # A gateway can fail after the matching engine acted, whatever the body says.
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "server error", status)
        if code in NOT_PROCESSED_CODES:
            return Failure(FailureKind.NOT_PROCESSED, code, msg, status)
        if code in UNKNOWN_OUTCOME_CODES:
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg, status)
        if code in REJECTED_CODES:
            return Failure(FailureKind.REJECTED, code, msg, status)
        if 400 <= status < 500:
            return Failure(FailureKind.REJECTED, code, msg, status)
        if status == 200 and envelope.get("status") == "error" and code is not None:
            return Failure(UNLISTED_ERROR_KIND, code, msg, status)
        # Unreadable, truncated or unexpected: the cancel may have been applied.
        return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "unreadable reply", status)
