"""BitoPro as the fake venue speaks it (``shared/venues.md`` §1).

Verification follows BitoPro's README ("API Security Protocol"), not our adapter:
``X-BITOPRO-SIGNATURE`` must be ``hex(HMAC-SHA384(secret, X-BITOPRO-PAYLOAD))`` over the payload text
exactly as received. For ``PUT /v3/orders`` the payload must be base64 of the exact body bytes; for
GET/DELETE it must decode to a JSON object with a millisecond ``nonce`` close to the venue's clock.

Lenient only where independent clients show the real venue is:
- both ``/v3/orders`` (ccxt) and ``/v3/orders/`` (official Python SDK) for the batch cancel;
- standard (Go SDK, ccxt) and url-safe (Python SDK) base64 alphabets;
- compact JSON (ccxt) and ``json.dumps`` default separators (Python SDK), for body and payload alike;
- GET/DELETE payloads ``{"nonce": ms}`` (ccxt) and ``{"identity": "...", "nonce": ms}`` (SDKs): the
  identity is not checked, as the official SDK sends ``""``;
- pairs in any case: ccxt puts ``BTC_USDT`` in the body and ``btc_usdt`` in the path.

Listings (get_open_orders_data.md, get_orders_data.md):
- ``GET /v3/orders/open[?pair=]``: every open order (every pair without ``pair``), newest update first,
  no paging and no cap (none documented). Stop-limit orders rest here (BitoPro keeps no separate
  trigger list): a ledger order with ``conditional`` is a ``STOP_LIMIT`` with status -1 "not triggered",
  and the batch cancel, query and cancel-all find it like any other order.
- ``GET /v3/orders/all/{pair}``: newest created first; ``startTimestamp`` / ``endTimestamp`` (ms; default
  the last 90 days up to now; a range over 90 days, which the venue calls "undefined", or a start after
  the end is refused with 400), ``statusKind`` ``OPEN`` (-1, 0, 1) / ``DONE`` (2, 3 only: cancelled
  orders are not "done") / ``ALL`` (default), ``status`` (one status int, before ``statusKind``),
  ``orderId`` (ids ``<=`` it), ``limit`` 1..1000 (default 100; outside: 400), ``clientId``,
  ``ignoreTimeLimitEnable`` (with ``OPEN``: no time window). Orders older than 90 days are gone.
  Refusals read ``{"error": "Wrong parameter: <name>"}`` (ccxt's table has ``Wrong parameter: from``;
  the exact wording for these parameters is UNCONFIRMED).
- Cancel-all (``DELETE /v3/orders/{pair}``, pair in any case, and ``/v3/orders/all``; signed with the
  GET/DELETE nonce payload, no query, no body) is synchronous, as the batch cancel: the reply lists, per
  upper-case pair, the ids it cancelled (cancel_all_orders.md; ``{"data": {}}`` when nothing was open),
  stop-limit orders included ("all your active orders"; UNCONFIRMED for not-triggered ones), other pairs
  untouched. Its rate (``--enforce-rate-limits``) is the stricter documented one, 1 per second.

Errors are ``{"error": "..."}`` with the README's HTTP statuses. Every reply a handler builds carries a
``Date`` header from the venue's (possibly skewed) clock, since BitoPro has no time endpoint and that
header is all a client can measure the clock with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from email.utils import formatdate

from ..ledger import FakeOrder
from ..wire import Context, FakeRequest, Reply, json_reply

# Nonce window for GET/DELETE payloads. BitoPro's own is UNCONFIRMED; outside it: 409.
NONCE_TOLERANCE_MS = 30_000
# The batch limit is UNCONFIRMED; the fake refuses bodies above this many ids so chunking is exercised.
MAX_IDS = 200

_PAIR = r"([A-Za-z0-9]+_[A-Za-z0-9]+)"
CANCEL_RX = re.compile(r"/v3/orders/?")
QUERY_RX = re.compile(rf"/v3/orders/{_PAIR}/([^/]+)")
OPEN_LIST_RX = re.compile(r"/v3/orders/open")
HISTORY_RX = re.compile(rf"/v3/orders/all/{_PAIR}")
CANCEL_ALL_RX = re.compile(r"/v3/orders/all/?")
CANCEL_PAIR_RX = re.compile(rf"/v3/orders/{_PAIR}/?")
PAIR_RX = re.compile(_PAIR)

# README "HTTP Status Code & Error Response" (the error code column, used as the message).
STATUS_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized api key",
    403: "Forbidden",
    404: "Resource Not Found",
    408: "Request Timeout",
    409: "Local Machine Time Mismatch",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
MSG_BAD_KEY = "Unauthorized api key"
MSG_BAD_SIGNATURE = "Invalid Signature"  # ccxt's exact-match table: {"error":"Invalid Signature"}
MSG_BAD_BODY = "Invalid body"  # ccxt's exact-match table: {"error":"Invalid body"}
MSG_TIME = "Local Machine Time Mismatch"
MSG_NO_ORDER = "Order not found"  # UNCONFIRMED wording; the adapter reads only "order not found" on a 404

# ledger status -> BitoPro status int (model.md): 0 in progress, 2 completed, 4 cancelled.
LEDGER_TO_STATUS = {"open": 0, "cancelling": 0, "filled": 2, "cancelled": 4}
NOT_TRIGGERED = -1  # a resting stop-limit order (model.md "Order Status Enum")

# get_orders_data.md: limit 1 ~ 1000 (default 100); 90 days of history, and at most 90 days per request.
HISTORY_LIMIT_DEFAULT = 100
HISTORY_LIMIT_MAX = 1000
HISTORY_MS = 90 * 86_400_000
STATUS_KINDS = {"OPEN": (-1, 0, 1), "DONE": (2, 3), "ALL": None}  # statusKind -> the status ints it lists
CLIENT_ID_MAX = 2_147_483_647  # create_an_order.md / get_orders_data.md: clientId 1 ~ 2147483647
ORDER_ID_PARAM_RX = re.compile(r"(?:SL-)?([0-9]{1,19})")

_STD_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _decode_payload(payload: str) -> bytes | None:
    """Payload bytes from standard or url-safe base64 (padding required), or None."""
    if len(payload) % 4:
        return None
    try:
        if _STD_B64.fullmatch(payload):
            return base64.b64decode(payload, validate=True)
        if _URLSAFE_B64.fullmatch(payload):
            return base64.urlsafe_b64decode(payload)
    except (binascii.Error, ValueError):
        return None
    return None


class BitoProDialect:
    venue = "bitopro"
    rate = (2, 1.0)  # cancel_batch_orders.md: "Allow 2 requests per second per IP"
    rates = {
        "cancel": rate,
        "query": (600, 60.0),  # the README's 600/min per IP (venues.md §1.4)
        "list_open": (5, 1.0),  # get_open_orders_data.md: "5 requests per second per IP & UID"
        "list_history": (600, 60.0),  # get_orders_data.md states none: the README's 600/min
        # cancel_all_orders.md: "2 requests per second per IP & UID", and "1 requests per second per IP" for
        # /orders/all; both forms share this endpoint kind, so the stricter one (the adapter's cancel_all_rate).
        "cancel_all": (1, 1.0),
    }
    # README.md "API Rate Limit": 600 requests per minute per IP and per account, across the endpoints (the
    # lower of the README's 600 and summary.md's 1200, as venues.md §1.4 reads them); every request spends one.
    budgets = {"GLOBAL": (600, 60.0)}

    def spend(self, endpoint: str, req: FakeRequest) -> dict[str, int]:
        return {"GLOBAL": 1}

    def routes(self):
        return [
            ("PUT", CANCEL_RX, "cancel", self.batch_cancel),
            ("GET", OPEN_LIST_RX, "list_open", self.list_open),
            ("GET", HISTORY_RX, "list_history", self.list_history),
            ("GET", QUERY_RX, "query", self.query),
            ("DELETE", CANCEL_ALL_RX, "cancel_all", self.cancel_all),
            ("DELETE", CANCEL_PAIR_RX, "cancel_all", self.cancel_all),
        ]

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(max(0, math.ceil(retry_after)))} if retry_after is not None else {}
        message = STATUS_MESSAGES.get(status, "Internal Server Error" if status >= 500 else "Bad Request")
        return json_reply({"error": message}, status, headers)

    # -- helpers ---------------------------------------------------------------------------

    def _reply(self, ctx: Context, obj: object, status: int = 200) -> Reply:
        return json_reply(obj, status, {"Date": formatdate(ctx.now_ms() / 1000, usegmt=True)})

    def _error(self, ctx: Context, status: int, message: str) -> Reply:
        return self._reply(ctx, {"error": message}, status)

    def _verify(self, req: FakeRequest, ctx: Context) -> tuple[bytes, Reply | None]:
        """Key and signature over the payload as received; returns the decoded payload."""
        key = req.headers.get("x-bitopro-apikey")
        payload = req.headers.get("x-bitopro-payload")
        signature = req.headers.get("x-bitopro-signature")
        if not key or key != ctx.creds.api_key:
            return b"", self._error(ctx, 401, MSG_BAD_KEY)
        if not payload or not signature or not signature.isascii():
            return b"", self._error(ctx, 401, MSG_BAD_SIGNATURE)
        expected = hmac.new(ctx.creds.api_secret.encode(), payload.encode("utf-8"), hashlib.sha384).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return b"", self._error(ctx, 401, MSG_BAD_SIGNATURE)
        decoded = _decode_payload(payload)
        if decoded is None:
            return b"", self._error(ctx, 400, MSG_BAD_BODY)
        return decoded, None

    def _authenticate_nonce(self, req: FakeRequest, ctx: Context) -> Reply | None:
        """GET/DELETE: a signed payload whose JSON carries a nonce within the window."""
        decoded, denied = self._verify(req, ctx)
        if denied:
            return denied
        try:
            obj = json.loads(decoded.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self._error(ctx, 400, MSG_BAD_BODY)
        nonce = obj.get("nonce") if isinstance(obj, dict) else None
        if not isinstance(nonce, int) or isinstance(nonce, bool):
            return self._error(ctx, 400, "Wrong parameter: nonce")
        if abs(ctx.now_ms() - nonce) > NONCE_TOLERANCE_MS:
            return self._error(ctx, 409, MSG_TIME)
        return None

    def _omit_one(self, listing: dict[str, list[str]]) -> None:
        """Leave the first cancelled id out of the reply (it was applied all the same)."""
        for pair, ids in listing.items():
            if ids:
                ids.pop(0)
                if not ids:
                    del listing[pair]
                return

    # -- endpoints -------------------------------------------------------------------------

    def batch_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        decoded, denied = self._verify(req, ctx)
        if denied:
            return denied
        if decoded != req.body:
            # The payload must be the body itself, byte for byte.
            return self._error(ctx, 400, MSG_BAD_BODY)
        try:
            listing = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self._error(ctx, 400, MSG_BAD_BODY)
        if not isinstance(listing, dict) or not listing:
            return self._error(ctx, 400, MSG_BAD_BODY)
        total = 0
        for pair, ids in listing.items():
            if not PAIR_RX.fullmatch(pair) or not isinstance(ids, list) or not ids:
                return self._error(ctx, 400, MSG_BAD_BODY)
            if not all(isinstance(i, str) and i for i in ids):  # ids are strings in the docs
                return self._error(ctx, 400, MSG_BAD_BODY)
            total += len(ids)
        if total > MAX_IDS:
            return self._error(ctx, 400, MSG_BAD_BODY)
        # Validated in full before anything is applied: a refused request changes nothing.
        out: dict[str, list[str]] = {}
        for pair, ids in listing.items():
            for oid in ids:
                order = ctx.ledger.find(self.venue, pair, order_id=oid)
                if order is None:
                    continue  # unknown ids are simply absent from the reply
                if ctx.cancel(order) == "open":
                    out.setdefault(pair.upper(), []).append(oid)
        if ctx.omit:
            self._omit_one(out)
        return self._reply(ctx, {"data": out})

    def query(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate_nonce(req, ctx)
        if denied:
            return denied
        m = QUERY_RX.fullmatch(req.path)
        assert m is not None  # the route matched this path
        order = ctx.ledger.find(self.venue, m.group(1), order_id=m.group(2))
        if order is None:
            return self._error(ctx, 404, MSG_NO_ORDER)
        return self._reply(ctx, self._order_json(order))

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate_nonce(req, ctx)
        if denied:
            return denied
        m = CANCEL_PAIR_RX.fullmatch(req.path)
        pair = m.group(1) if m else None  # /v3/orders/all: every pair
        out: dict[str, list[str]] = {}
        for order in ctx.ledger.open_orders(self.venue, pair):
            if ctx.cancel(order) == "open":
                out.setdefault(order.symbol.upper(), []).append(order.order_id)
        if ctx.omit:
            self._omit_one(out)
        return self._reply(ctx, {"data": out})

    def list_open(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate_nonce(req, ctx)
        if denied:
            return denied
        pair = req.params().get("pair") or None  # "Response all pair orders if pair is empty"
        if pair is not None and not PAIR_RX.fullmatch(pair):
            return self._error(ctx, 400, "Wrong parameter: pair")
        orders = ctx.ledger.listing(self.venue, pair, statuses=("open", "cancelling"))
        # "descending ordered by updated time"
        orders.sort(key=lambda o: (o.updated_ms, _id_number(o.order_id)), reverse=True)
        return self._reply(ctx, {"data": [self._order_json(o) for o in orders]})

    def list_history(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate_nonce(req, ctx)
        if denied:
            return denied
        m = HISTORY_RX.fullmatch(req.path)
        assert m is not None  # the route matched this path
        params = req.params()
        # Everything is checked before anything is listed; a refusal is the venue's 400.
        try:
            limit = _int_param(params, "limit", 1, HISTORY_LIMIT_MAX)
            start = _int_param(params, "startTimestamp", 0, None)
            end = _int_param(params, "endTimestamp", 0, None)
            status = _int_param(params, "status", -1, 6)
            client_id = _int_param(params, "clientId", 1, CLIENT_ID_MAX)
        except _WrongParameter as exc:
            return self._error(ctx, 400, f"Wrong parameter: {exc}")
        kind = params.get("statusKind", "ALL")
        if kind not in STATUS_KINDS:
            return self._error(ctx, 400, "Wrong parameter: statusKind")
        cursor = params.get("orderId")
        cursor_match = ORDER_ID_PARAM_RX.fullmatch(cursor) if cursor is not None else None
        if cursor is not None and cursor_match is None:
            return self._error(ctx, 400, "Wrong parameter: orderId")
        ignore_time = params.get("ignoreTimeLimitEnable", "false").lower()
        if ignore_time not in ("true", "false"):
            return self._error(ctx, 400, "Wrong parameter: ignoreTimeLimitEnable")
        now = ctx.now_ms()
        end_ms = now if end is None else end
        start_ms = end_ms - HISTORY_MS if start is None else start
        if start_ms > end_ms:
            return self._error(ctx, 400, "Wrong parameter: startTimestamp")
        if end_ms - start_ms > HISTORY_MS:
            # The docs: beyond 90 days "the behavior is undefined". Refused here, so that a client
            # relying on it is caught rather than served whatever a real venue might do.
            return self._error(ctx, 400, "Wrong parameter: startTimestamp")
        if kind == "OPEN" and ignore_time == "true":
            since, until = None, None  # "all open orders without a time range limitation"
        else:
            since, until = max(start_ms, now - HISTORY_MS), end_ms  # 90 days of history, no more
        orders = ctx.ledger.listing(self.venue, m.group(1), since_ms=since, until_ms=until)
        wanted = (status,) if status is not None else STATUS_KINDS[kind]  # status takes precedence
        top = int(cursor_match.group(1)) if cursor_match is not None else None
        picked = [
            o
            for o in orders
            if (wanted is None or _status_of(o) in wanted)
            and (top is None or _id_number(o.order_id) <= top)
            and (client_id is None or _client_id(o) == client_id)
        ]
        picked.sort(key=lambda o: (o.created_ms, _id_number(o.order_id)), reverse=True)  # newest created first
        page = picked[: HISTORY_LIMIT_DEFAULT if limit is None else limit]
        return self._reply(ctx, {"data": [self._order_json(o) for o in page]})

    def _order_json(self, o: FakeOrder) -> dict:
        status = _status_of(o)
        filled = status == 2
        out = {
            "id": o.order_id,
            "pair": o.symbol.lower(),
            "price": o.price,
            "avgExecutionPrice": o.price if filled else "0",
            "action": o.side,
            "type": "STOP_LIMIT" if o.conditional else "LIMIT",
            "timestamp": o.updated_ms,
            "status": status,
            "originalAmount": o.qty,
            "remainingAmount": "0" if filled else o.qty,
            "executedAmount": o.qty if filled else "0",
            "fee": "0",
            "feeSymbol": o.symbol.split("_")[-1].lower(),
            "bitoFee": "0",
            "total": "0",
            "seq": o.symbol.replace("_", "").upper() + o.order_id,
            "timeInForce": "GTC",
            "createdTimestamp": o.created_ms,
            "updatedTimestamp": o.updated_ms,
        }
        if o.conditional:
            out["stopPrice"] = o.price
            out["condition"] = ">="
        client_id = _client_id(o)
        if client_id is not None:
            out["clientId"] = client_id  # an integer on BitoPro
        return out


def _status_of(o: FakeOrder) -> int:
    """The order's BitoPro status int; a resting stop-limit order is -1 "not triggered"."""
    if o.conditional and o.status in ("open", "cancelling"):
        return NOT_TRIGGERED
    return LEDGER_TO_STATUS[o.status]


def _id_number(order_id: str) -> int:
    """An id's number for ordering and ``orderId`` comparison ("SL-123" -> 123); -1 for other spellings."""
    m = ORDER_ID_PARAM_RX.fullmatch(order_id)
    return int(m.group(1)) if m else -1


def _client_id(o: FakeOrder) -> int | None:
    """The ledger's client id as BitoPro's integer ``clientId``, or None when it is not one."""
    cid = o.client_order_id
    if cid is not None and cid.isascii() and cid.isdigit() and 1 <= int(cid) <= CLIENT_ID_MAX:
        return int(cid)
    return None


class _WrongParameter(ValueError):
    """A query parameter the venue refuses; the message is the parameter's name."""


def _int_param(params: dict[str, str], name: str, low: int, high: int | None) -> int | None:
    """A query parameter as an int within [low, high], or None when absent; raises :class:`_WrongParameter`."""
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", raw):
        raise _WrongParameter(name)
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise _WrongParameter(name)
    return value
