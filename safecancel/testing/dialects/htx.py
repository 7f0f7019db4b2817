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

Listings (adapter docstring "Listings"): ``GET /v1/account/accounts`` (one spot account, :data:`ACCOUNT_ID`,
plus an otc and a point account as in the docs' sample); ``GET /v1/order/openOrders`` (``account-id`` and
``symbol`` optional as in the current docs, ``size`` 1..500 default 100, newest first, ``from`` + ``direct``
with ``direct`` mandatory once ``from`` is given, ``from`` exclusive); ``GET /v2/algo-orders/opening``
(the ledger's ``conditional`` orders, v2 envelope, ``limit`` 1..500 default 100, ``sort`` desc by default,
``fromId`` inclusive, ``nextId`` only when more remain); ``GET /v1/order/history`` (every state, newest first,
``start-time``/``end-time`` inclusive within the last 48 h, ``size`` 10..1000 default 100, ``next-time`` only
when more remain, API orders cancelled more than 2 h ago left out). A parameter these endpoints do not
document is refused, so a misspelt name fails here rather than being ignored.

Conditional (algo) orders are HTX's own list: before they trigger the trading endpoints do not see them, so
batchcancel and order detail answer ``base-record-invalid`` for them and batchCancelOpenOrders and openOrders
leave them alone. Their client id is the ledger's ``client_order_id`` (or, if a seed gave none, the order id).

Algo orders are cancelled and queried through endpoints of their own (the adapter's "Conditional orders"),
routed as the endpoint kinds ``cancel`` and ``query`` so that faults on those hit them too:
``POST /v2/algo-orders/cancellation`` (v2 signature check and envelope; body ``{"clientOrderIds": [...]}``, an
array of 1..50 strings, nothing else; each id is ``accepted`` when its algo order was open -- ``created`` --
and ``rejected`` otherwise: unknown, cancelled, triggered, or a cancel already pending) and
``GET /v2/algo-orders/specific?clientOrderId=`` (``orderStatus`` ``created`` / ``canceled`` / ``triggered``
-- the ledger's ``filled``, with ``orderId`` and ``orderCreateTime`` -- and v2 ``1007`` "Record is not found"
for an id no algo order has). HTX does not document the algo cancellation as asynchronous (unlike
batchcancel's and batchCancelOpenOrders' "submit"), so by default an accepted algo cancel is applied at once;
``HTXDialect(algo_cancel_async=True)`` applies it after the fake's ``async_delay_ms`` instead, and meanwhile
the order still reads ``created`` (HTX has no "canceling" word for algo orders) on ``specific`` and on the
algo listing. The ordinary order a triggered algo order becomes is not modelled (the ledger order counts as
filled). Limits of the fake here: status faults and rate limiting answer these v2 paths in the v1 envelope
(``error_reply`` knows the endpoint kind, not the path; the adapter reads a v1 body on a v2 path as v1), and
the algo endpoints share the ``cancel`` / ``query`` budgets (50/2 s) rather than HTX's 20/2 s.

batchCancelOpenOrders (50/2 s): ``account-id`` (optional, must be ours), ``symbol`` (at most 10,
comma-separated), ``types``, ``side``, ``size`` 1..100 (default 100), nothing else; it submits cancels
(asynchronous, as batchcancel) for at most ``size`` open orders and answers ``success-count``, ``failed-count``
and ``next-id`` (the next order it would cancel, -1 when none is left): a caller must repeat it until
``next-id`` is -1. It never touches algo orders.

UNCONFIRMED here (no source gives HTX's exact reply): the codes for malformed batch bodies
(``validation-format-error``), the HTTP status of rate limiting (429 with HTX's
``base-request-exceed-frequency-limit`` body), and the bodies of 5xx replies; for the listings, the codes for an
out-of-range page size (``invalid-parameter``; v2: ``2002``), a bad window (``invalid-interval``,
``invalid-start-time``, from the trading error table), another account's id
(``account-get-accounts-inexistent-error``; v2: ``1002``), the v2 shape of auth errors (``1002``/``1003`` with
v1's messages) and of 429/5xx, and that HTX refuses undocumented parameters at all; for the algo endpoints,
``1007`` for an unknown clientOrderId on ``specific``, ``2002`` for a malformed or oversized cancellation body,
whether a second cancel of an algo order whose cancel is pending is rejected (here) or accepted, whether the
algo cancellation is applied at once (default here) or later, and whether HTX ever forgets algo orders (never
here); for batchCancelOpenOrders, ``invalid-parameter`` for an undocumented body field.

Dead man's switch, ``POST /v2/algo-orders/cancel-all-after`` (endpoint kind ``countdown``): v2 signature check
and envelope (status faults and rate limiting on this kind answer in the v2 envelope too), JSON body
``{"timeout": <seconds>}`` and nothing else. ``timeout`` is a JSON integer or a string of digits (the 2021
announcement's example sends ``"10"``); missing: ``2003`` "missing mandatory field" (the announcement's failure
sample); not a whole number, or 1-4 (HTX takes "0 or >=5 seconds"): ``2002``. No maximum is documented, so none
is enforced. 0 stops the account's one countdown; any other value arms it (or renews it) on the ledger, where it
fires ``timeout`` seconds later and cancels at most 500 open ordinary orders of every symbol, oldest first
("a maximum cancellation of 500 orders"; which 500 is UNCONFIRMED); algo (conditional) orders are left alone
(whether HTX's countdown reaches them is UNCONFIRMED). The reply is the current docs' shape, ``{"code": 200,
"message": "success", "data": {"currentTime": ms, "triggerTime": ms}}``, ``triggerTime`` 0 when turned off. No
rate is documented for it, so the fake does not limit it.
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
ACCOUNT_ID = 13496526  # the docs' sample account id; the fake has a single spot account
# GET /v1/account/accounts, as the docs' sample: the spot account and two others a listing must not pick.
ACCOUNTS = (
    {"id": ACCOUNT_ID, "type": "spot", "subtype": "", "state": "working"},
    {"id": 13496527, "type": "otc", "subtype": "", "state": "working"},
    {"id": 13496528, "type": "point", "subtype": "", "state": "working"},
)

# Listing limits (documented ranges and defaults).
OPEN_SIZE = (1, 500, 100)  # openOrders size [1, 500], default 100
ALGO_LIMIT = (1, 500, 100)  # algo-orders/opening limit [1,500], default 100
HISTORY_SIZE = (10, 1000, 100)  # order/history size [10-1000], default 100
HISTORY_SPAN_MS = 48 * 60 * 60 * 1000  # "within 48 Hours"
CANCEL_ALL_SIZE = (1, 100, 100)  # batchCancelOpenOrders size [1, 100], default 100
CANCEL_ALL_MAX_SYMBOLS = 10  # "maximum 10 symbols, separated by comma"
ORDER_TYPES = frozenset(
    f"{side}-{kind}"
    for side in ("buy", "sell")
    for kind in ("market", "limit", "ioc", "stop-limit", "limit-fok", "stop-limit-fok", "limit-maker")
)
# The parameters each listing documents (besides the signature's four and Signature itself).
AUTH_PARAMS = frozenset({"AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature"})
OPEN_PARAMS = frozenset({"account-id", "symbol", "side", "types", "from", "direct", "size"})
ALGO_PARAMS = frozenset({"accountId", "symbol", "orderSide", "orderType", "sort", "limit", "fromId"})
HISTORY_PARAMS = frozenset({"symbol", "start-time", "end-time", "direct", "size"})

# HTX's own messages, as observed in the wild (ccxt, HTX SDK issue trackers).
MSG_BAD_KEY = "Signature not valid: Incorrect Access key [Access key错误]"
MSG_BAD_SIGNATURE = "Signature not valid: Verification failure [校验失败]"
MSG_BAD_TIME = "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"
MSG_RATE = "Frequency of requests has exceeded the limit, please try again later"
MSG_MISSING = "Signature is missing, or user not found."
# v2 (algo) endpoints answer in their own envelope; codes from the conditional-order error table.
V2_UNAUTHORIZED = 1002  # "Signature is missing or account id doesn't exist"
V2_BAD_SIGNATURE = 1003  # "Signature is wrong"
V2_RATE = 1006  # "Exceed rate limit"
V2_BAD_PARAMETER = 2002  # "Specified parameter is missing or invalid"
V2_NOT_FOUND = 1007  # "Record is not found"
V2_MISSING_FIELD = 2003  # the dead man's switch announcement's failure sample: "missing mandatory field"
V2_ENDPOINTS = frozenset({"list_conditional", "countdown"})  # endpoint kinds whose every path is a v2 one
COUNTDOWN_MIN_S = 5  # timeout: "0 or >=5 seconds"
COUNTDOWN_CAP = 500  # "a maximum cancellation of 500 orders"
COUNTDOWN_FIELDS = frozenset({"timeout"})
ALGO_MAX_IDS = 50  # clientOrderIds: "maximum 50 orders are allowed"
ALGO_CANCEL_FIELDS = frozenset({"clientOrderIds"})
ALGO_QUERY_PARAMS = frozenset({"clientOrderId"})
CANCEL_ALL_FIELDS = frozenset({"account-id", "symbol", "types", "side", "size"})
# The ledger's status as an algo order's orderStatus; a pending cancel (async mode only) still reads created.
LEDGER_TO_ALGO_STATE = MappingProxyType(
    {"open": "created", "cancelling": "created", "cancelled": "canceled", "filled": "triggered"}
)

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


def _v2_error(code: int, message: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"code": code, "message": message, "data": None}, status, headers)


def _decimal(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts ``'²'``, which ``int`` refuses)."""
    return re.fullmatch(r"[0-9]{1,19}", text) is not None


def _id_key(order: FakeOrder) -> int:
    """HTX pages by order id; the ledger's ids are decimal (a non-decimal seed id sorts first, never matches)."""
    return int(order.order_id) if _decimal(order.order_id) else -1


def _int_param(params: dict[str, str], name: str, bounds: tuple[int, int, int]) -> int | None:
    """A decimal parameter within [low, high] (``default`` when absent); None when it is out of range or junk."""
    low, high, default = bounds
    raw = params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,12}", raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def _undocumented(params: dict[str, str], allowed: frozenset[str]) -> str | None:
    extra = sorted(set(params) - allowed - AUTH_PARAMS)
    return extra[0] if extra else None


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
    """HTX spot. ``algo_cancel_async``: apply accepted algo cancels after the async delay (default: at once)."""

    venue = "htx"
    rate = (50, 2.0)  # "Rate Limit: 50times/2s" (seed 003)
    # Per endpoint, per UID: order detail and batchCancelOpenOrders 50/2 s, accounts 100/2 s, openOrders
    # 50/2 s, algo-orders/opening and order/history 20/2 s.
    rates = {
        "cancel": rate,
        "query": (50, 2.0),
        "cancel_all": (50, 2.0),
        "account": (100, 2.0),
        "list_open": (50, 2.0),
        "list_conditional": (20, 2.0),
        "list_history": (20, 2.0),
    }

    def __init__(self, *, algo_cancel_async: bool = False) -> None:
        self.algo_cancel_async = algo_cancel_async

    def routes(self):
        return [
            ("POST", re.compile(r"/v1/order/orders/batchcancel"), "cancel", self.batch_cancel),
            ("POST", re.compile(r"/v2/algo-orders/cancellation"), "cancel", self.algo_cancel),
            ("GET", re.compile(r"/v2/algo-orders/specific"), "query", self.algo_specific),
            ("GET", re.compile(r"/v1/order/orders/getClientOrder"), "query", self.query_client),
            ("GET", re.compile(r"/v1/order/orders/[0-9]+"), "query", self.query_order),
            ("GET", re.compile(r"/v1/common/timestamp"), "time", self.time),
            ("POST", re.compile(r"/v1/order/orders/batchCancelOpenOrders"), "cancel_all", self.cancel_all),
            ("GET", re.compile(r"/v1/account/accounts"), "account", self.accounts),
            ("GET", re.compile(r"/v1/order/openOrders"), "list_open", self.open_orders),
            ("GET", re.compile(r"/v2/algo-orders/opening"), "list_conditional", self.algo_opening),
            ("GET", re.compile(r"/v1/order/history"), "list_history", self.order_history),
            ("POST", re.compile(r"/v2/algo-orders/cancel-all-after"), "countdown", self.cancel_all_after),
        ]

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if endpoint in V2_ENDPOINTS:  # a v2 endpoint: its own envelope
            if status == 429:
                return _v2_error(V2_RATE, "Exceed rate limit", 429, headers)
            if status in (401, 403):
                return _v2_error(V2_UNAUTHORIZED, MSG_MISSING, status, headers)
            if status >= 500:
                return _v2_error(status, "System error, please try again later.", status, headers)
            return _v2_error(V2_BAD_PARAMETER, "Specified parameter is missing or invalid", status, headers)
        if status == 429:
            return _error("base-request-exceed-frequency-limit", MSG_RATE, 429, headers)
        if status >= 500:
            return _error("base-system-error", "System error, please try again later.", status, headers)
        if status in (401, 403):
            return _error("login-required", "Signature is missing, or user not found.", status, headers)
        return _error("invalid-parameter", "invalid parameter", status, headers)

    # -- auth ------------------------------------------------------------------------------

    def _check_signature(self, req: FakeRequest, ctx: Context) -> tuple[dict[str, str], tuple[str, str] | None]:
        """The query's parameters, and (v1 code, message) when the signature is refused."""
        pairs = _query_pairs(req.query)
        params = dict(pairs)
        given = params.get("Signature")
        key = params.get("AccessKeyId")
        if not given or not key:
            return params, ("login-required", MSG_MISSING)
        if key != ctx.creds.api_key:
            return params, ("api-signature-not-valid", MSG_BAD_KEY)
        if params.get("SignatureMethod") != "HmacSHA256" or params.get("SignatureVersion") != "2":
            return params, ("api-signature-not-valid", MSG_BAD_SIGNATURE)
        stamp = _parse_timestamp(params.get("Timestamp", ""))
        if stamp is None or abs(ctx.now_ms() - stamp) > TIMESTAMP_TOLERANCE_MS:
            return params, ("api-signature-not-valid", MSG_BAD_TIME)
        signed = sorted((k, v) for k, v in pairs if k != "Signature")
        text = "\n".join(
            [req.method.upper(), req.host.lower(), req.path, "&".join(f"{_pct(k)}={_pct(v)}" for k, v in signed)]
        )
        expected = base64.b64encode(hmac.new(ctx.creds.api_secret.encode(), text.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, given.encode("utf-8", "replace")):
            return params, ("api-signature-not-valid", MSG_BAD_SIGNATURE)
        return params, None

    def _authenticate(self, req: FakeRequest, ctx: Context) -> tuple[dict[str, str], Reply | None]:
        params, refused = self._check_signature(req, ctx)
        return params, (_error(*refused) if refused else None)

    def _authenticate_v2(self, req: FakeRequest, ctx: Context) -> tuple[dict[str, str], Reply | None]:
        """As :meth:`_authenticate`, answered in the v2 envelope (same messages, the v2 table's codes)."""
        params, refused = self._check_signature(req, ctx)
        if refused is None:
            return params, None
        code, msg = refused
        return params, _v2_error(V2_UNAUTHORIZED if code == "login-required" else V2_BAD_SIGNATURE, msg)

    def _find_ordinary(
        self, ctx: Context, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> FakeOrder | None:
        """What the trading endpoints find by id: never an algo (conditional) order, which they do not see."""
        order = ctx.ledger.find(self.venue, order_id=order_id, client_order_id=client_order_id)
        if order is None or not order.conditional:
            return order
        # Rare: an algo order shares the id; the newest ordinary order with it answers instead.
        found = None
        for o in ctx.ledger.listing(self.venue, conditional=False):
            if (order_id is not None and o.order_id == order_id) or (
                client_order_id is not None and o.client_order_id == client_order_id
            ):
                found = o
        return found

    def _find_algo(self, ctx: Context, client_order_id: str) -> FakeOrder | None:
        """The newest algo (conditional) order with this clientOrderId (a seed's client id, else its order id)."""
        order = ctx.ledger.find(self.venue, client_order_id=client_order_id)
        if order is not None and order.conditional:
            return order
        for o in reversed(ctx.ledger.listing(self.venue, conditional=True)):
            if (o.client_order_id or o.order_id) == client_order_id:
                return o
        return None

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
                order = self._find_ordinary(ctx, order_id=ident) if _decimal(ident) else None
            else:
                order = self._find_ordinary(ctx, client_order_id=ident)
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

    def cancel_all_after(self, req: FakeRequest, ctx: Context) -> Reply:
        _, denied = self._authenticate_v2(req, ctx)
        if denied:
            return denied
        body, bad = self._json_body(req)
        if bad or body is None:
            return _v2_error(V2_BAD_PARAMETER, "invalid field value in body")
        extra = sorted(set(body) - COUNTDOWN_FIELDS)
        if extra:
            return _v2_error(V2_BAD_PARAMETER, f"invalid parameter: {extra[0]}")
        if "timeout" not in body:
            return _v2_error(V2_MISSING_FIELD, "missing mandatory field")
        value = body["timeout"]
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or (value != 0 and value < COUNTDOWN_MIN_S):
            return _v2_error(V2_BAD_PARAMETER, "invalid field value in timeout")
        now = ctx.now_ms()
        if value == 0:
            ctx.ledger.disarm(self.venue, None, now)
            trigger = 0
        else:
            # Algo orders live apart before they trigger: the countdown leaves them (UNCONFIRMED).
            timer = ctx.ledger.arm(self.venue, None, value * 1000, now, conditional=False, cap=COUNTDOWN_CAP)
            trigger = timer.trigger_ms
        return json_reply({"code": 200, "message": "success", "data": {"currentTime": now, "triggerTime": trigger}})

    def _order_json(self, o: FakeOrder) -> dict[str, Any]:
        state = LEDGER_TO_STATE[o.status]
        finished = o.updated_ms if o.status in ("filled", "cancelled") else 0
        return {
            "id": int(o.order_id) if _decimal(o.order_id) else o.order_id,
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
        return self._detail(self._find_ordinary(ctx, order_id=order_id), ctx)

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
        return self._detail(self._find_ordinary(ctx, client_order_id=cid), ctx)

    def algo_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        _, denied = self._authenticate_v2(req, ctx)
        if denied:
            return denied
        body, bad = self._json_body(req)
        if bad or not body:
            return _v2_error(V2_BAD_PARAMETER, "invalid parameter: clientOrderIds")
        extra = sorted(set(body) - ALGO_CANCEL_FIELDS)
        if extra:
            return _v2_error(V2_BAD_PARAMETER, f"invalid parameter: {extra[0]}")
        ids = body.get("clientOrderIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            return _v2_error(V2_BAD_PARAMETER, "invalid parameter: clientOrderIds")
        if len(ids) > ALGO_MAX_IDS:
            return _v2_error(V2_BAD_PARAMETER, f"invalid parameter: clientOrderIds exceeds {ALGO_MAX_IDS}")
        accepted: list[str] = []
        rejected: list[str] = []
        for cid in ids:
            order = self._find_algo(ctx, cid)
            if order is not None and ctx.cancel(order, asynchronous=self.algo_cancel_async) == "open":
                accepted.append(cid)
            else:
                rejected.append(cid)  # unknown, cancelled, triggered (filled) or already being cancelled
        if ctx.omit:
            (accepted or rejected).pop(0)
        return json_reply({"code": 200, "data": {"accepted": accepted, "rejected": rejected}})

    def algo_specific(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")
        params, denied = self._authenticate_v2(req, ctx)
        if denied:
            return denied
        extra = _undocumented(params, ALGO_QUERY_PARAMS)
        if extra is not None:
            return _v2_error(V2_BAD_PARAMETER, f"invalid parameter: {extra}")
        cid = params.get("clientOrderId")
        if not cid:
            return _v2_error(V2_BAD_PARAMETER, "invalid parameter: clientOrderId")
        order = self._find_algo(ctx, cid)
        if order is None:
            return _v2_error(V2_NOT_FOUND, "Record is not found")
        return json_reply({"code": 200, "data": self._algo_json(order)})

    def time(self, req: FakeRequest, ctx: Context) -> Reply:
        return _ok(ctx.now_ms())

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        _, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        body, bad = self._json_body(req)
        if bad or body is None:
            return bad or _error("validation-format-error", "Format Error: body.")
        extra = sorted(set(body) - CANCEL_ALL_FIELDS)
        if extra:
            return _error("invalid-parameter", f"Parameter `{extra[0]}` is invalid.")
        account = body.get("account-id")
        if account is not None and str(account) != str(ACCOUNT_ID):
            return _error("account-get-accounts-inexistent-error", "The account doesn't exist in current user.")
        symbols = body.get("symbol")
        wanted = {symbol_key(p) for p in str(symbols).split(",") if p.strip()} if symbols else None
        if wanted is not None and len(wanted) > CANCEL_ALL_MAX_SYMBOLS:
            return _error("validation-format-error", f"Format Error: at most {CANCEL_ALL_MAX_SYMBOLS} symbols.")
        side = body.get("side")
        if side is not None and side not in ("buy", "sell"):
            return _error("validation-format-error", "Format Error: side.")
        types = body.get("types")
        kinds = {t.strip() for t in str(types).split(",") if t.strip()} if types else None
        if kinds is not None and not kinds <= ORDER_TYPES:
            return _error("validation-format-error", "Format Error: types.")
        raw_size = body.get("size", CANCEL_ALL_SIZE[2])
        size = _int_param({"size": str(raw_size)}, "size", CANCEL_ALL_SIZE) if not isinstance(raw_size, bool) else None
        if size is None:
            return _error("validation-format-error", "Format Error: size must be within [1, 100].")
        # Only the trading side's open orders: algo orders before triggering are not among them.
        candidates = [
            o
            for o in ctx.ledger.open_orders(self.venue, conditional=False)
            if (wanted is None or symbol_key(o.symbol) in wanted)
            and (side is None or o.side.lower() == side)
            and (kinds is None or self._type(o) in kinds)
        ]
        done = 0
        for order in candidates[:size]:
            # Submitted only, as on HTX: the order reads `canceling` until the fake's async delay has passed.
            if ctx.cancel(order, asynchronous=True) == "open":
                done += 1
        left = candidates[size:]
        next_id = _id_key(left[0]) if left else -1
        return _ok({"success-count": done, "failed-count": 0, "next-id": next_id})

    # -- listings ----------------------------------------------------------------------------

    @staticmethod
    def _type(o: FakeOrder) -> str:
        return f"{o.side.lower()}-limit"

    def _open_json(self, o: FakeOrder) -> dict[str, Any]:
        """An openOrders entry (the docs' sample: filled-* fields, no finished-at)."""
        return {
            "symbol": o.symbol,
            "source": "api",
            "price": o.price,
            "created-at": o.created_ms,
            "amount": o.qty,
            "account-id": ACCOUNT_ID,
            "filled-cash-amount": "0.0",
            "client-order-id": o.client_order_id or "",
            "filled-amount": "0.0",
            "filled-fees": "0.0",
            "id": int(o.order_id) if _decimal(o.order_id) else o.order_id,
            "state": LEDGER_TO_STATE[o.status],
            "type": self._type(o),
        }

    @staticmethod
    def _algo_json(o: FakeOrder) -> dict[str, Any]:
        """An algo order as opening and specific show it: keyed by clientOrderId, no orderId before it triggers."""
        state = LEDGER_TO_ALGO_STATE[o.status]
        out: dict[str, Any] = {
            "lastActTime": o.updated_ms,
            "orderOrigTime": o.created_ms,
            "symbol": o.symbol,
            "source": "api",
            "clientOrderId": o.client_order_id or o.order_id,
            "orderSide": o.side.lower(),
            "orderType": "limit",
            "orderPrice": o.price,
            "orderSize": o.qty,
            "accountId": ACCOUNT_ID,
            "timeInForce": "gtc",
            "stopPrice": o.price,
            "orderStatus": state,
        }
        if state == "triggered":
            # It became an ordinary order (not modelled further: the ledger order counts as filled).
            out["orderId"] = o.order_id
            out["orderCreateTime"] = o.updated_ms
        return out

    def accounts(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        extra = _undocumented(params, frozenset())
        if extra is not None:
            return _error("invalid-parameter", f"Parameter `{extra}` is invalid.")
        return _ok([dict(a) for a in ACCOUNTS])

    def open_orders(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        extra = _undocumented(params, OPEN_PARAMS)
        if extra is not None:
            return _error("invalid-parameter", f"Parameter `{extra}` is invalid.")
        account = params.get("account-id")
        if account is not None and account != str(ACCOUNT_ID):
            return _error("account-get-accounts-inexistent-error", "The account doesn't exist in current user.")
        size = _int_param(params, "size", OPEN_SIZE)
        if size is None:
            return _error("invalid-parameter", "Parameter `size` is invalid.")
        side = params.get("side")
        if side is not None and side not in ("buy", "sell"):
            return _error("invalid-parameter", "Parameter `side` is invalid.")
        types = params.get("types")
        kinds = {t for t in types.split(",") if t} if types else None
        start, direct = params.get("from"), params.get("direct")
        if start is not None:
            if not _decimal(start):
                return _error("invalid-parameter", "Parameter `from` is invalid.")
            if direct not in ("prev", "next"):
                # Legacy docs: "if field from is defined, this field direct becomes mandatory".
                return _error("validation-constraints-required", "Field is missing: direct.")
        orders = [
            o
            for o in ctx.ledger.open_orders(self.venue, params.get("symbol") or None, conditional=False)
            if (side is None or o.side.lower() == side) and (kinds is None or self._type(o) in kinds)
        ]
        ascending = start is not None and direct == "prev"
        orders.sort(key=_id_key, reverse=not ascending)  # newest (largest id) first, unless prev
        if start is not None:
            bound = int(start)
            orders = [o for o in orders if (_id_key(o) > bound if ascending else _id_key(o) < bound)]
        return _ok([self._open_json(o) for o in orders[:size]])

    def algo_opening(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")
        params, denied = self._authenticate_v2(req, ctx)
        if denied:
            return denied
        extra = _undocumented(params, ALGO_PARAMS)
        if extra is not None:
            return _v2_error(V2_BAD_PARAMETER, f"invalid parameter: {extra}")
        account = params.get("accountId")
        if account is not None and account != str(ACCOUNT_ID):
            return _v2_error(V2_UNAUTHORIZED, "account id doesn't exist")
        limit = _int_param(params, "limit", ALGO_LIMIT)
        if limit is None:
            return _v2_error(V2_BAD_PARAMETER, "invalid parameter: limit")
        sort = params.get("sort", "desc")
        side, kind, start = params.get("orderSide"), params.get("orderType"), params.get("fromId")
        if sort not in ("asc", "desc") or side not in (None, "buy", "sell") or kind not in (None, "limit", "market"):
            return _v2_error(V2_BAD_PARAMETER, "invalid parameter")
        if start is not None and not _decimal(start):
            return _v2_error(V2_BAD_PARAMETER, "invalid parameter: fromId")
        # Untriggered algo orders; in async mode one whose cancel is pending still reads created.
        statuses = ("open", "cancelling") if self.algo_cancel_async else ("open",)
        orders = [
            o
            for o in ctx.ledger.listing(self.venue, params.get("symbol") or None, conditional=True, statuses=statuses)
            if (side is None or o.side.lower() == side) and kind in (None, "limit")
        ]
        orders.sort(key=_id_key, reverse=sort == "desc")
        if start is not None:
            # fromId is "the first record ID in this query": inclusive.
            bound = int(start)
            orders = [o for o in orders if (_id_key(o) <= bound if sort == "desc" else _id_key(o) >= bound)]
        body: dict[str, Any] = {"code": 200, "data": [self._algo_json(o) for o in orders[:limit]]}
        if len(orders) > limit:
            body["nextId"] = _id_key(orders[limit])
        return json_reply(body)

    def order_history(self, req: FakeRequest, ctx: Context) -> Reply:
        if req.body:
            return Reply(403, b"")
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        extra = _undocumented(params, HISTORY_PARAMS)
        if extra is not None:
            return _error("invalid-parameter", f"Parameter `{extra}` is invalid.")
        size = _int_param(params, "size", HISTORY_SIZE)
        if size is None:
            return _error("invalid-parameter", "Parameter `size` is invalid.")
        direct = params.get("direct", "next")
        if direct not in ("prev", "next"):
            return _error("invalid-parameter", "Parameter `direct` is invalid.")
        now = ctx.now_ms()
        times = {}
        for name in ("start-time", "end-time"):
            raw = params.get(name)
            if raw is not None and not re.fullmatch(r"[0-9]{1,16}", raw):
                return _error(f"invalid-{name}", f"The {name.replace('-', ' ')} is invalid")
            times[name] = int(raw) if raw is not None else None
        end = times["end-time"] if times["end-time"] is not None else now
        start = times["start-time"] if times["start-time"] is not None else end - HISTORY_SPAN_MS
        if start > end or end - start > HISTORY_SPAN_MS:
            return _error("invalid-interval", "Query window is zero, negative or greater than limitation")
        if start < now - HISTORY_SPAN_MS:
            return _error("invalid-start-time", "The start time is invalid")
        orders = [
            o
            for o in ctx.ledger.listing(
                self.venue, params.get("symbol") or None, conditional=False, since_ms=start, until_ms=end
            )
            # "The orders created via API will no longer be queryable after being cancelled for more than 2 hours."
            if not (o.status == "cancelled" and now - o.updated_ms > FORGET_CANCELLED_AFTER_MS)
        ]
        orders.sort(key=lambda o: (o.created_ms, _id_key(o)), reverse=direct == "next")  # next: near to far
        page = orders[:size]
        body: dict[str, Any] = {"status": "ok", "data": [self._order_json(o) for o in page]}
        if len(orders) > size:
            # The next query's end-time (next) or start-time (prev): the boundary order's creation time.
            body["next-time"] = page[-1].created_ms
        return json_reply(body)
