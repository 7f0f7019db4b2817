"""HTX (Huobi) spot as the fake venue speaks it (``shared/venues.md`` §4, seed 003).

Verification follows HTX's signature-v2 docs with code written here, not our adapter's: the parameters in
the URL query (all of them, minus ``Signature``) are decoded, re-encoded with upper-case hex keeping only
RFC 3986 unreserved characters, sorted by key and signed as ``METHOD\\nhost\\npath\\nquery``, where host is
the ``Host`` header as received (``127.0.0.1:8765`` on a non-default port). The JSON body of a POST is not
signed. ``Timestamp`` must be ``YYYY-MM-DDThh:mm:ss`` UTC within 5 minutes of the venue's clock.

Lenient where HTX evidently is: ``order-ids`` may be a JSON array (docs, official SDK, our adapter) or a
comma-joined string (ccxt), ids may be strings or numbers. Strict elsewhere: a wrong key, a wrong signature
or a stale timestamp gets ``api-signature-not-valid`` with HTX's own messages and changes nothing; both id
lists, an empty list, more than 50 ids, or a GET with a body are refused.

Cancels are asynchronous as on HTX: ``data.success`` means "accepted", the order shows ``canceling`` until
the fake's ``async_delay_ms`` has passed, then ``canceled``. API orders cancelled more than 2 hours ago are
forgotten by the order-detail endpoints (``base-record-invalid``), as HTX documents.

UNCONFIRMED here (no source gives HTX's exact reply): the codes for malformed batch bodies
(``validation-format-error``), the HTTP status of rate limiting (429 with HTX's
``base-request-exceed-frequency-limit`` body), and the bodies of 5xx replies.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import re
import time
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_plus

from ..ledger import FakeOrder, symbol_key
from ..wire import Context, FakeRequest, Reply, json_reply

MAX_IDS = 50
TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000  # "valid 5 min" (§4.2)
FORGET_CANCELLED_AFTER_MS = 2 * 60 * 60 * 1000  # API orders vanish from queries 2 h after cancellation (§4.6)
ACCOUNT_ID = 13496526  # the docs' sample account id; the fake has a single account

# HTX's own messages, as observed in the wild (ccxt, HTX SDK issue trackers).
MSG_BAD_KEY = "Signature not valid: Incorrect Access key [Access key错误]"
MSG_BAD_SIGNATURE = "Signature not valid: Verification failure [校验失败]"
MSG_BAD_TIME = "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"
MSG_RATE = "Frequency of requests has exceeded the limit, please try again later"

LEDGER_TO_STATE = MappingProxyType(
    {"open": "submitted", "cancelling": "canceling", "filled": "filled", "cancelled": "canceled"}
)
# order-state codes in data.failed[] for a cancel that finds the order no longer cancellable (legacy docs).
LEDGER_TO_ORDER_STATE = MappingProxyType({"cancelling": "10", "filled": "6", "cancelled": "7"})

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_TIMESTAMP_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$")


def _error(code: str, msg: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    # HTX answers business and auth errors with HTTP 200 and this envelope.
    return json_reply({"status": "error", "err-code": code, "err-msg": msg, "data": None}, status, headers)


def _ok(data: Any) -> Reply:
    return json_reply({"status": "ok", "data": data})


def _pct(text: str) -> str:
    """Percent-encode UTF-8 bytes, upper-case hex, RFC 3986 unreserved characters kept (HTX docs, step 3)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def _unpct(text: str) -> str:
    """Decode a query component the way a form decoder on the server does ('+' is a space)."""
    return unquote_plus(text, errors="replace")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_unpct(key), _unpct(value)))
    return pairs


def _parse_timestamp(text: str) -> int | None:
    m = _TIMESTAMP_RE.fullmatch(text)
    if not m:
        return None
    try:
        parts = tuple(int(g) for g in m.groups())
        time.strptime(text, "%Y-%m-%dT%H:%M:%S")  # rejects month 13, hour 25, ...
    except ValueError:
        return None
    return calendar.timegm(parts + (0, 0, 0)) * 1000


def _id_list(value: Any) -> list[str] | None:
    """``order-ids`` as a JSON array (docs, SDK) or a comma-joined string (ccxt); None if it is neither."""
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                return None
            out.append(str(item))
        return out
    return None


class HTXDialect:
    venue = "htx"
    rate = (50, 2.0)  # "Rate Limit: 50times/2s" (seed 003)
    rates = {"cancel": rate, "query": (50, 2.0), "cancel_all": (50, 2.0)}  # order detail, batchCancelOpenOrders: 50/2 s

    def routes(self):
        return [
            ("POST", re.compile(r"/v1/order/orders/batchcancel"), "cancel", self.batch_cancel),
            ("GET", re.compile(r"/v1/order/orders/getClientOrder"), "query", self.query_client),
            ("GET", re.compile(r"/v1/order/orders/[0-9]+"), "query", self.query_order),
            ("GET", re.compile(r"/v1/common/timestamp"), "time", self.time),
            ("POST", re.compile(r"/v1/order/orders/batchCancelOpenOrders"), "cancel_all", self.cancel_all),
        ]

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if status == 429:
            return _error("base-request-exceed-frequency-limit", MSG_RATE, 429, headers)
        if status >= 500:
            return _error("base-system-error", "System error, please try again later.", status, headers)
        if status in (401, 403):
            return _error("login-required", "Signature is missing, or user not found.", status, headers)
        return _error("invalid-parameter", "invalid parameter", status, headers)

    # -- auth ------------------------------------------------------------------------------

    def _authenticate(self, req: FakeRequest, ctx: Context) -> tuple[dict[str, str], Reply | None]:
        pairs = _query_pairs(req.query)
        params = dict(pairs)
        given = params.get("Signature")
        key = params.get("AccessKeyId")
        if not given or not key:
            return params, _error("login-required", "Signature is missing, or user not found.")
        if key != ctx.creds.api_key:
            return params, _error("api-signature-not-valid", MSG_BAD_KEY)
        if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2":
            return params, _error("api-signature-not-valid", MSG_BAD_SIGNATURE)
        stamp = _parse_timestamp(params.get("Timestamp", ""))
        if stamp is None or abs(ctx.now_ms() - stamp) > TIMESTAMP_TOLERANCE_MS:
            return params, _error("api-signature-not-valid", MSG_BAD_TIME)
        signed = sorted((k, v) for k, v in pairs if k != "Signature")
        text = "\n".join(
            [req.method.upper(), req.host.lower(), req.path, "&".join(f"{_pct(k)}={_pct(v)}" for k, v in signed)]
        )
        expected = base64.b64encode(hmac.new(ctx.creds.api_secret.encode(), text.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, given.encode("utf-8", "replace")):
            return params, _error("api-signature-not-valid", MSG_BAD_SIGNATURE)
        return params, None

    def _json_body(self, req: FakeRequest) -> tuple[dict[str, Any] | None, Reply | None]:
        if not req.body.strip():
            return {}, None
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, _error("validation-format-error", "Format Error: the request body is not JSON.")
        if not isinstance(body, dict):
            return None, _error("validation-format-error", "Format Error: the request body must be an object.")
        return body, None

    # -- endpoints -------------------------------------------------------------------------

    def batch_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        _, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        body, bad = self._json_body(req)
        if bad or body is None:
            return bad or _error("validation-format-error", "Format Error: body.")
        has_ids, has_cids = body.get("order-ids") is not None, body.get("client-order-ids") is not None
        if has_ids and has_cids:
            return _error(
                "validation-format-error", "Format Error: order-ids and client-order-ids cannot be filled together."
            )
        field = "order-ids" if has_ids else "client-order-ids"
        ids = _id_list(body.get(field)) if (has_ids or has_cids) else []
        if ids is None:
            return _error("validation-format-error", f"Format Error: {field}.")
        if not ids:
            return _error("batchcancel-order-id-list-empty", "The list of order ids to cancel is empty.")
        if len(ids) > MAX_IDS:
            return _error("validation-format-error", f"Format Error: {field} exceeds {MAX_IDS}.")
        success: list[str] = []
        failed: list[dict[str, Any]] = []
        for ident in ids:
            if has_ids:
                order = ctx.ledger.find(self.venue, order_id=ident) if ident.isdigit() else None
            else:
                order = ctx.ledger.find(self.venue, client_order_id=ident)
            if order is None:
                entry: dict[str, Any] = {"err-code": "base-record-invalid", "err-msg": "record invalid"}
                entry["order-id" if has_ids else "client-order-id"] = ident
                failed.append(entry)
                continue
            before = ctx.cancel(order, asynchronous=True)
            if before == "open":
                success.append(ident)  # echoed as submitted
                continue
            failed.append(
                {
                    "err-msg": "Incorrect order state",
                    "order-state": LEDGER_TO_ORDER_STATE[before],
                    "order-id": order.order_id,
                    "err-code": "order-orderstate-error",
                    "client-order-id": order.client_order_id or "",
                }
            )
        if ctx.omit:
            # The reply leaves one order out: preferably one whose cancel was accepted (and applied).
            if success:
                success.pop(0)
            elif failed:
                failed.pop(0)
        return _ok({"success": success, "failed": failed})

    def _order_json(self, o: FakeOrder) -> dict[str, Any]:
        state = LEDGER_TO_STATE[o.status]
        finished = o.updated_ms if o.status in ("filled", "cancelled") else 0
        return {
            "id": int(o.order_id) if o.order_id.isdigit() else o.order_id,
            "symbol": o.symbol,
            "account-id": ACCOUNT_ID,
            "client-order-id": o.client_order_id or "",
            "amount": o.qty,
            "price": o.price,
            "created-at": o.created_ms,
            "type": f"{o.side.lower()}-limit",
            "field-amount": o.qty if o.status == "filled" else "0.0",
            "field-cash-amount": "0.0",
            "field-fees": "0.0",
            "finished-at": finished,
            "source": "spot-api",
            "state": state,
            "canceled-at": o.updated_ms if o.status == "cancelled" else 0,
        }

    def _detail(self, order: FakeOrder | None, ctx: Context) -> Reply:
        if order is None:
            return _error("base-record-invalid", "record invalid")
        if order.status == "cancelled" and ctx.now_ms() - order.updated_ms > FORGET_CANCELLED_AFTER_MS:
            return _error("base-record-invalid", "record invalid")
        return _ok(self._order_json(order))

    def query_order(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")  # "GET request ... do not carry body, in otherwise will return 403"
        _, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        order_id = req.path.rsplit("/", 1)[1]
        return self._detail(ctx.ledger.find(self.venue, order_id=order_id), ctx)

    def query_client(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        cid = params.get("clientOrderId")
        if not cid:
            return _error("validation-constraints-required", "Field is missing: clientOrderId.")
        # Uniqueness is not enforced on HTX: the latest order with this client id answers (ledger.find: newest).
        return self._detail(ctx.ledger.find(self.venue, client_order_id=cid), ctx)

    def time(self, req: FakeRequest, ctx: Context) -> Reply:
        return _ok(ctx.now_ms())

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        _, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        body, bad = self._json_body(req)
        if bad or body is None:
            return bad or _error("validation-format-error", "Format Error: body.")
        symbols = body.get("symbol")
        wanted = {symbol_key(s) for s in str(symbols).split(",") if s.strip()} if symbols else None
        try:
            size = int(body.get("size", 100))
        except (TypeError, ValueError):
            return _error("validation-format-error", "Format Error: size.")
        if not 1 <= size <= 100:
            return _error("validation-format-error", "Format Error: size must be within [1, 100].")
        candidates = [o for o in ctx.ledger.open_orders(self.venue) if wanted is None or symbol_key(o.symbol) in wanted]
        done = 0
        for order in candidates[:size]:
            if ctx.cancel(order, asynchronous=True) == "open":
                done += 1
        left = candidates[size:]
        next_id = int(left[0].order_id) if left and left[0].order_id.isdigit() else -1
        return _ok({"success-count": done, "failed-count": 0, "next-id": next_id})
