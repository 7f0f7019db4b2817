"""BingX spot as the fake venue speaks it (``shared/venues.md`` §3).

Verification follows BingX's docs and the clients that evidently work against it, not our adapter:
- Query-string mode (official demo, ccxt): the signed text is the query as received, in received
  order, minus ``signature``, each key and value percent-decoded, joined ``k=v&...``. ccxt signs
  the raw string and sends it percent-encoded (``%2C``); the official demo signs and sends the
  same unencoded string in its own (unsorted) order. Both verify; a client that signs the
  *encoded* text does not, as on the real venue.
- JSON-body mode (§3.2 mode 2): parameters in a JSON object with ``signature`` inside; the signed
  text is the other keys sorted a-z, ``k=v&...``.
Signature: ``hex(HMAC-SHA256(secret, text))``, header ``X-BX-APIKEY``. Business errors come back as
HTTP 200 with ``{"code": <non-zero>, "msg": ..., "debugMsg": "", "data": {}, "timestamp": ms}``
(the ``timestamp`` field is what BingX error bodies carry, e.g. ccxt#24131); only status faults
get a real HTTP 429/5xx.

Listings (``safecancel/venues/bingx.py`` "Listings"), signed and verified like the rest:
- ``GET /openApi/spot/v1/trade/openOrders`` (``symbol`` optional): ``data.orders``, oldest first, at most
  :data:`OPEN_LIST_CAP` (the docs' "max length is 2000"; which orders a longer book leaves out is
  UNCONFIRMED: here the newest). No paging parameters.
- ``GET /openApi/spot/v1/oco/openOrderList`` (``pageIndex``, ``pageSize`` required): conditional orders
  (``FakeOrder.conditional``) stand for OCO legs, which BingX keeps on a list of their own; ``data`` is the
  list of legs, as captured (JKorf ``GetOpenOcoOrders``), string ids, JSON-number prices. A leg is its own
  OCO list (its own ``orderListId``) unless :meth:`BingXDialect.pair_oco` paired it. ``pageSize`` above
  :data:`OCO_MAX_PAGE_SIZE` is refused (the real maximum is undocumented: the fake is strict).
- ``GET /openApi/spot/v1/trade/historyOrders``: ordinary orders of every state, newest first, filtered by
  creation time (``startTime`` / ``endTime``), ``orderId`` (>=), ``status`` (FILLED / CANCELED / FAILED),
  ``type``; ``pageSize`` 1..100, ``pageIndex`` >= 1 and ``pageIndex * pageSize <= 10000`` as documented,
  each refused with ``100400`` otherwise. A range longer than :data:`HISTORY_MAX_RANGE_MS` is refused too:
  the real limit is undocumented and the adapter stays within 2 hours, so the fake holds it to that.
- Open orders come back ``PENDING`` on the listings (ccxt's and JKorf's captures of openOrders); ``trade/query``
  keeps saying ``NEW``. ``clientOrderID`` is on listed orders unless the dialect is built with
  ``listing_client_ids=False`` (whether BingX sends it there is UNCONFIRMED).

OCO orders (``safecancel/venues/bingx.py`` "Conditional orders"), signed and verified like the rest:
- ``POST /openApi/spot/v1/oco/cancel`` (endpoint kind ``cancel``, so faults on ``cancel`` hit it too):
  ``orderId`` or ``clientOrderId`` of either leg (both together, neither, or a non-numeric ``orderId``:
  ``100400``). Synchronous: the leg and its sibling are cancelled before the reply, which echoes the leg's
  ids and nothing else (``data: {"orderId", "clientOrderId"}``, docs and JKorf ``CancelOcoOrder``). A leg
  that was no longer open (the pair cancelled already, or filled) or an id that names no OCO leg:
  ``100404`` (which code BingX uses there is UNCONFIRMED). ``omit`` drops the echo (``data: {}``);
  ``fill_before_cancel`` fills the leg first, and its sibling is cancelled as an OCO pair's would be.
- ``GET /openApi/spot/v1/oco/historyOrderList`` (endpoint kind ``query``: it is how the adapter queries a
  leg): finished legs (cancelled, filled), most recently finished first, shaped like the open OCO list's
  entries with their ``status`` word (``CANCELED`` / ``FILLED``); ``pageIndex`` / ``pageSize`` required
  (``pageSize`` up to :data:`OCO_MAX_PAGE_SIZE`), ``startTime`` / ``endTime`` optional (creation time).
- Legs are OCO lists of their own unless paired: :meth:`BingXDialect.pair_oco` makes two conditional orders
  one list (one ``orderListId``; cancelling either cancels both). Seeded orders stay lone legs, so a test
  that seeds N conditional orders has N lists and each leg's fate is its own.
- OCO legs are not found by ``cancelOrders`` or ``trade/query`` (they answer as for an unknown id) and
  ``cancelOpenOrders`` leaves them alone: nothing in the docs says those endpoints reach OCO orders.
  ``GET /openApi/spot/v1/oco/orderList`` (by ``orderListId``) is not served: the adapter does not use it.

``cancelOpenOrders`` is synchronous: every open ordinary order of the symbol (or of every symbol) is
cancelled before the reply, which lists each as ``CANCELED`` (``data.orders``; JKorf ``CancelAllOrders``
capture).

Countdown, ``POST /openApi/spot/v1/trade/cancelAllAfter`` ("Cancel All After", endpoint kind ``countdown``, 2/s
per UID), signed and verified like the rest (query string or JSON body): ``type`` ``ACTIVATE`` | ``CLOSE`` and
``timeOut`` (whole seconds, required). ACTIVATE takes 10..120 ("range: 10s-120s") and arms the account's one
countdown on the ledger, or renews it (a new trigger time); CLOSE stops it, whatever its ``timeOut`` (ccxt
sends 0). A missing or malformed ``type`` / ``timeOut`` or an ACTIVATE outside 10-120 s is ``100400`` (which
answer BingX gives there -- an error envelope or a ``FAILED`` status -- is UNCONFIRMED). The reply is ``data:
{"triggerTime", "status": "ACTIVATED" | "CLOSED", "note"}`` with ``triggerTime`` in epoch **seconds** and a note
naming it in UTC, as in the captured reply (JKorf BingX.Net ``CancelAllOrdersAfter``); CLOSE answers
``triggerTime`` 0. When the countdown fires, every open ordinary order of every symbol is cancelled; OCO legs
(the ledger's conditional orders) are not: BingX keeps them apart and nothing says the countdown reaches them
(UNCONFIRMED).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from ..ledger import FakeOrder
from ..wire import Context, FakeRequest, Reply, json_reply

VENUE = "bingx"
SYMBOL_RE = re.compile(r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$")
MAX_IDS = 100  # the real limit is undocumented; the fake refuses more than any client should send
DEFAULT_RECV_WINDOW_MS = 5000
CLIENT_ID_QUERY_WINDOW_MS = 2 * 60 * 60 * 1000  # trade/query: "Only supports a query range of 2 hours"

STATUS = {"open": "NEW", "cancelling": "NEW", "filled": "FILLED", "cancelled": "CANCELED"}
LIST_STATUS = {"open": "PENDING", "cancelling": "PENDING", "filled": "FILLED", "cancelled": "CANCELED"}
OPEN_LIST_CAP = 2000  # openOrders: "Order list, max length is 2000"
HISTORY_MAX_PAGE_SIZE = 100  # historyOrders: "pageSize ... Max 100"
HISTORY_MAX_RESULTS = 10_000  # historyOrders: "pageIndex * pageSize <= 10,000"
HISTORY_MAX_RANGE_MS = 2 * 60 * 60 * 1000  # UNCONFIRMED (see the module docstring)
OCO_MAX_PAGE_SIZE = 100  # UNCONFIRMED: undocumented; the adapter asks for 100
HISTORY_STATUSES = {"FILLED": ("filled",), "CANCELED": ("cancelled",), "FAILED": ()}  # no fake order fails
COUNTDOWN_RANGE_S = (10, 120)  # cancelAllAfter timeOut: "range: 10s-120s"

MSG_NULL_KEY = "Null apiKey"
MSG_BAD_KEY = "Incorrect apiKey"
MSG_NULL_SIGNATURE = "Null signature"
MSG_BAD_SIGNATURE = "Signature verification failed"
MSG_TIMESTAMP = (
    "Null timestamp or timestamp mismatch, try to run our sample code from the link "
    "https://bingx-api.github.io/docs/#/en-us/spot/account-api.html#Query%20Assets"
)
MSG_TIMESTAMP_INVALID = "timestamp is invalid"
MSG_ORDER_NOT_EXIST = " order not exist"
MSG_NOT_CANCELLABLE = (
    "the order you want to cancel is FILLED or CANCELLED already, or is not a valid order id ,please verify"
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _envelope(code: int, msg: str, data: Any, now_ms: int) -> dict[str, Any]:
    return {"code": code, "msg": msg, "debugMsg": "", "data": data, "timestamp": now_ms}


def _err(code: int, msg: str, now_ms: int, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(_envelope(code, msg, {}, now_ms), status, headers)


def _ok(data: Any, now_ms: int) -> Reply:
    return json_reply(_envelope(0, "", data, now_ms))


class BingXDialect:
    venue = VENUE
    rate = (2, 1.0)  # cancelOrders: "rate limitation by UID: 2/s"
    rates = {
        "cancel": rate,  # oco/cancel: 2/s too
        "query": (5, 1.0),
        "cancel_all": (2, 1.0),
        "list_open": (10, 1.0),
        "list_history": (10, 1.0),
        "list_conditional": (5, 1.0),
        "countdown": (2, 1.0),
    }  # query: trade/query 10/s and oco/historyOrderList 5/s share the kind, so the fake holds both to 5/s;
    # cancelOpenOrders 2/s (§3.6, §3.7); openOrders, historyOrders 10/s, OCO list 5/s; cancelAllAfter 2/s

    def __init__(self, *, listing_client_ids: bool = True) -> None:
        self.listing_client_ids = listing_client_ids
        # OCO lists of two legs (pair_oco): id(leg) -> (the leg, its orderListId), and the list's legs. Keyed by
        # the order object itself (held here, so its id is never reused), so a ledger reset ends every pair.
        self._oco_lock = threading.Lock()
        self._oco_of: dict[int, tuple[FakeOrder, str]] = {}
        self._oco_legs: dict[str, tuple[FakeOrder, ...]] = {}
        self._oco_list_ids = itertools.count(1_800_000_000_000_000_001)

    def pair_oco(self, first: FakeOrder, second: FakeOrder) -> str:
        """Make two conditional orders of one symbol one OCO list (``first`` the limit leg, ``second`` the
        stop-limit leg): cancelling either cancels both. Returns the list's ``orderListId``."""
        legs = (first, second)
        if first is second or not all(leg.conditional for leg in legs):
            raise ValueError("an OCO list is two distinct conditional orders")
        if first.symbol != second.symbol:
            raise ValueError("the legs of an OCO list share one symbol")
        with self._oco_lock:
            if any(id(leg) in self._oco_of for leg in legs):
                raise ValueError("a leg is already in an OCO list")
            list_id = str(next(self._oco_list_ids))
            for leg in legs:
                self._oco_of[id(leg)] = (leg, list_id)
            self._oco_legs[list_id] = legs
        return list_id

    def _oco_list(self, leg: FakeOrder) -> tuple[str, tuple[FakeOrder, ...]]:
        """The leg's orderListId and legs (a lone leg is a list of its own, with its own id)."""
        with self._oco_lock:
            entry = self._oco_of.get(id(leg))
            if entry is None or entry[0] is not leg:
                return leg.order_id, (leg,)
            return entry[1], self._oco_legs[entry[1]]

    def routes(self):
        return [
            ("POST", re.compile(r"/openApi/spot/v1/trade/cancelOrders"), "cancel", self.batch_cancel),
            ("GET", re.compile(r"/openApi/spot/v1/trade/openOrders"), "list_open", self.list_open),
            ("GET", re.compile(r"/openApi/spot/v1/oco/openOrderList"), "list_conditional", self.list_oco),
            ("GET", re.compile(r"/openApi/spot/v1/trade/historyOrders"), "list_history", self.list_history),
            ("GET", re.compile(r"/openApi/spot/v1/trade/query"), "query", self.query),
            ("GET", re.compile(r"/openApi/spot/v1/server/time"), "time", self.time),
            # The same clock as BingX's swap API serves it: ccxt's fetch_time reads this one (venues.md
            # §3.7, ``{"code":0,"msg":"","data":{"serverTime":ms}}``), so a client that measures the
            # clock the ccxt way gets an answer instead of a 404.
            ("GET", re.compile(r"/openApi/swap/v2/server/time"), "time", self.time),
            ("POST", re.compile(r"/openApi/spot/v1/trade/cancelOpenOrders"), "cancel_all", self.cancel_all),
            ("POST", re.compile(r"/openApi/spot/v1/oco/cancel"), "cancel", self.oco_cancel),
            ("GET", re.compile(r"/openApi/spot/v1/oco/historyOrderList"), "query", self.oco_history),
            ("POST", re.compile(r"/openApi/spot/v1/trade/cancelAllAfter"), "countdown", self.cancel_all_after),
        ]

    def rate_limited_reply(self, endpoint: str, retry_after: float) -> Reply:
        """Over the budget (``--enforce-rate-limits``): code 100410 naming the unblock time, as BingX's
        messages do (§3.5), in an HTTP 200 envelope like its other business errors; no Retry-After."""
        now = _now_ms()
        unblock = now + max(1, round(retry_after * 1000))
        msg = (
            "The endpoint trigger frequency limit rule is currently in the disabled period "
            f"and will be unblocked after {unblock}"
        )
        return _err(100410, msg, now)

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        now = _now_ms()
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if status in (429, 418):
            if retry_after is None:
                return _err(100410, "rate limited", now, status, headers)
            unblock = now + int(retry_after * 1000)
            msg = (
                "The endpoint trigger frequency limit rule is currently in the disabled period "
                f"and will be unblocked after {unblock}"
            )
            return _err(100410, msg, now, status, headers)
        if status == 503:
            return _err(100503, "Server busy", now, status, headers)
        if status >= 500:
            # A gateway fault, not BingX's application: no JSON envelope.
            page = f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>"
            return Reply(status, page.encode(), {"Content-Type": "text/html", **headers})
        if status in (401, 403):
            return _err(100413, MSG_BAD_KEY, now, status, headers)
        return _err(100400, "Invalid parameter", now, status, headers)

    # -- auth ------------------------------------------------------------------------------

    def _signed_text(self, req: FakeRequest) -> tuple[dict[str, str], str | None, str | None]:
        """(parameters, the text that should have been signed, the signature sent)."""
        ctype = req.headers.get("content-type", "")
        if req.body.strip() and "signature=" not in req.query and "json" in ctype.lower():
            try:
                obj = json.loads(req.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return {}, None, None
            if not isinstance(obj, dict):
                return {}, None, None
            signed = obj.pop("signature", None)
            params = {str(k): _text(v) for k, v in obj.items()}
            text = "&".join(f"{k}={params[k]}" for k in sorted(params))
            return params, text, signed if isinstance(signed, str) else None
        pairs: list[tuple[str, str]] = []
        given: str | None = None
        signatures = 0
        for part in req.query.split("&") if req.query else []:
            key, _, value = part.partition("=")
            key, value = unquote_plus(key), unquote_plus(value)
            if key == "signature":
                signatures += 1
                given = value
            else:
                pairs.append((key, value))
        if signatures > 1:
            given = None
        text = "&".join(f"{k}={v}" for k, v in pairs)
        return dict(pairs), text, given

    def _authenticate(self, req: FakeRequest, ctx: Context) -> tuple[dict[str, str], Reply | None]:
        now = ctx.now_ms()
        params, text, given = self._signed_text(req)
        key = req.headers.get("x-bx-apikey")
        if not key:
            return params, _err(100413, MSG_NULL_KEY, now)
        if key != ctx.creds.api_key:
            return params, _err(100413, MSG_BAD_KEY, now)
        if not given:
            return params, _err(100412, MSG_NULL_SIGNATURE, now)
        expected = hmac.new(ctx.creds.api_secret.encode(), (text or "").encode(), hashlib.sha256).hexdigest()
        if text is None or not hmac.compare_digest(expected, given.lower()):
            return params, _err(100001, MSG_BAD_SIGNATURE, now)
        ts = params.get("timestamp", "")
        if not ts:
            return params, _err(100421, MSG_TIMESTAMP, now)
        if not ts.isdigit():
            return params, _err(80014, MSG_TIMESTAMP_INVALID, now)
        try:
            window = float(params.get("recvWindow") or DEFAULT_RECV_WINDOW_MS)
        except ValueError:
            return params, _err(100400, "Invalid parameter recvWindow", now)
        if window <= 0:
            window = DEFAULT_RECV_WINDOW_MS
        if abs(now - int(ts)) > window:
            return params, _err(100421, MSG_TIMESTAMP, now)
        return params, None

    # -- endpoints -------------------------------------------------------------------------

    def _order_json(self, o: FakeOrder, status: str, now_ms: int) -> dict[str, Any]:
        filled = status == "FILLED"
        return {
            "symbol": o.symbol,
            "orderId": int(o.order_id) if o.order_id.isdigit() else o.order_id,  # a JSON number
            "transactTime": now_ms,
            "price": o.price,
            "stopPrice": "0",
            "origQty": o.qty,
            "executedQty": o.qty if filled else "0",
            "cummulativeQuoteQty": str(float(o.qty) * float(o.price)) if filled else "0",
            "status": status,
            "type": "LIMIT",
            "side": o.side,
            "clientOrderID": o.client_order_id or "",
            "origClientOrderId": o.client_order_id or "",
        }

    def batch_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        symbol = params.get("symbol", "")
        if not SYMBOL_RE.fullmatch(symbol):
            return _err(100400, "invalid symbol, send symbol like BTC-USDT", now)
        process = params.get("process", "0")
        if process not in ("0", "1"):
            return _err(100400, "Invalid parameter process", now)
        ids_raw, cids_raw = params.get("orderIds"), params.get("clientOrderIDs")
        if ids_raw and cids_raw:
            return _err(100400, "orderIds and clientOrderIDs cannot be sent together", now)
        if not ids_raw and not cids_raw:
            return _err(100400, "miss arguments", now)
        by_client = not ids_raw
        idents = (cids_raw if by_client else ids_raw).split(",")  # type: ignore[union-attr]
        if any(not i for i in idents) or (not by_client and not all(i.isdigit() for i in idents)):
            return _err(100400, "Invalid parameter orderIds", now)
        if len(idents) > MAX_IDS:
            return _err(100400, f"the number of orders exceeds the limit of {MAX_IDS}", now)
        found = [
            _ordinary(
                ctx.ledger.find(VENUE, symbol, client_order_id=i)
                if by_client
                else ctx.ledger.find(VENUE, symbol, order_id=i)
            )
            for i in idents
        ]
        if process == "0" and any(o is None or o.status != "open" for o in found):
            # process=0: "if one of orderIds invalid, will all fail" -- nothing is applied.
            return _err(100404, MSG_NOT_CANCELLABLE, now)
        orders: list[dict[str, Any]] = []
        fails: list[dict[str, Any]] = []
        label = "clientOrderID" if by_client else "orderId"
        for ident, order in zip(idents, found, strict=False):
            if order is not None and ctx.cancel(order) == "open":
                orders.append(self._order_json(order, "CANCELED", now))
                continue
            # As captured live (JK-25): the id as a string and free text, no code; the same text
            # for unknown, filled and already-cancelled orders.
            fails.append(
                {
                    "orderId": ident,
                    "error": f"can not find order for {label}:{ident} for symbol: {symbol}, "
                    "please verify and retry later",
                }
            )
        if ctx.omit and orders:
            del orders[0]  # applied, but left out of the reply
        return _ok({"orders": orders, "fails": fails}, now)

    def query(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        symbol = params.get("symbol", "")
        if not SYMBOL_RE.fullmatch(symbol):
            return _err(100400, "invalid symbol, send symbol like BTC-USDT", now)
        if params.get("orderId"):
            order = _ordinary(ctx.ledger.find(VENUE, symbol, order_id=params["orderId"]))
        elif params.get("clientOrderID"):
            order = _ordinary(ctx.ledger.find(VENUE, symbol, client_order_id=params["clientOrderID"]))
            if order is not None and now - order.created_ms > CLIENT_ID_QUERY_WINDOW_MS:
                order = None  # clientOrderID lookups only reach 2 hours back
        else:
            return _err(100400, "miss arguments", now)
        if order is None:
            return _err(100404, MSG_ORDER_NOT_EXIST, now)
        body = self._order_json(order, STATUS[order.status], now)
        del body["transactTime"], body["origClientOrderId"]
        body.update(
            {
                "time": order.created_ms,
                "updateTime": order.updated_ms,
                "origQuoteOrderQty": "0",
                "fee": "0",
                "feeAsset": symbol.split("-")[1],
                "avgPrice": order.price if order.status == "filled" else "0",
            }
        )
        return _ok(body, now)

    def time(self, req: FakeRequest, ctx: Context) -> Reply:
        now = ctx.now_ms()
        return _ok({"serverTime": now}, now)

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        symbol = params.get("symbol") or None  # optional: omitted means every symbol
        if symbol is not None and not SYMBOL_RE.fullmatch(symbol):
            return _err(100400, "invalid symbol, send symbol like BTC-USDT", now)
        orders = []
        for order in ctx.ledger.open_orders(VENUE, symbol, conditional=False):  # OCO legs: oco/cancel only
            if ctx.cancel(order) == "open":
                orders.append(self._order_json(order, "CANCELED", now))
        return _ok({"orders": orders}, now)

    def cancel_all_after(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        kind = params.get("type")
        if kind not in ("ACTIVATE", "CLOSE"):
            return _err(100400, "Invalid parameter type: ACTIVATE or CLOSE", now)
        raw = params.get("timeOut")
        if raw is None or raw == "":
            return _err(100400, "miss arguments timeOut", now)
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            return _err(100400, "Invalid parameter timeOut", now)
        if kind == "CLOSE":
            ctx.ledger.disarm(VENUE, None, now)
            return _ok({"triggerTime": 0, "status": "CLOSED", "note": "The timer is closed"}, now)
        seconds = int(raw)
        low, high = COUNTDOWN_RANGE_S
        if not low <= seconds <= high:
            return _err(100400, f"Invalid parameter timeOut, range: {low}s-{high}s", now)
        # OCO legs (the ledger's conditional orders) live apart: the countdown leaves them (UNCONFIRMED).
        timer = ctx.ledger.arm(VENUE, None, seconds * 1000, now, conditional=False)
        trigger_s = timer.trigger_ms // 1000
        when = datetime.fromtimestamp(trigger_s, UTC).strftime("%Y-%m-%d %H:%M:%S")
        note = (
            f"All your spot pending orders will be closed automatically at {when} UTC(+0),before that you can "
            "cancel the timer, or extend triggerTime time by this request"
        )
        return _ok({"triggerTime": trigger_s, "status": "ACTIVATED", "note": note}, now)

    # -- listings --------------------------------------------------------------------------

    def _listed_json(self, o: FakeOrder) -> dict[str, Any]:
        """An order as openOrders / historyOrders list it (docs' field table, JKorf captures)."""
        filled = o.status == "filled"
        body: dict[str, Any] = {
            "symbol": o.symbol,
            "orderId": int(o.order_id) if o.order_id.isdigit() else o.order_id,  # a JSON number
            "price": o.price,
            "stopPrice": "0",
            "origQty": o.qty,
            "executedQty": o.qty if filled else "0",
            "cummulativeQuoteQty": str(float(o.qty) * float(o.price)) if filled else "0",
            "status": LIST_STATUS[o.status],
            "type": "LIMIT",
            "side": o.side,
            "time": o.created_ms,
            "updateTime": o.updated_ms,
            "origQuoteOrderQty": "0",
        }
        if self.listing_client_ids:
            body["clientOrderID"] = o.client_order_id or ""
        return body

    def list_open(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        symbol = params.get("symbol") or None  # optional: "Query all pending orders when left blank"
        if symbol is not None and not SYMBOL_RE.fullmatch(symbol):
            return _err(100400, "invalid symbol, send symbol like BTC-USDT", now)
        book = ctx.ledger.open_orders(VENUE, symbol, conditional=False)
        return _ok({"orders": [self._listed_json(o) for o in book[:OPEN_LIST_CAP]]}, now)

    def list_history(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        symbol = params.get("symbol") or None
        if symbol is not None and not SYMBOL_RE.fullmatch(symbol):
            return _err(100400, "invalid symbol, send symbol like BTC-USDT", now)
        numbers: dict[str, int | None] = {}
        for name in ("orderId", "startTime", "endTime", "pageIndex", "pageSize"):
            raw = params.get(name) or None
            if raw is not None and not raw.isdigit():
                return _err(100400, f"Invalid parameter {name}", now)
            numbers[name] = int(raw) if raw is not None else None
        index = 1 if numbers["pageIndex"] is None else numbers["pageIndex"]  # documented defaults
        size = HISTORY_MAX_PAGE_SIZE if numbers["pageSize"] is None else numbers["pageSize"]
        if index < 1:
            return _err(100400, "Invalid parameter pageIndex: must be > 0", now)
        if not 1 <= size <= HISTORY_MAX_PAGE_SIZE:
            return _err(100400, f"Invalid parameter pageSize: must be 1..{HISTORY_MAX_PAGE_SIZE}", now)
        if index * size > HISTORY_MAX_RESULTS:
            return _err(100400, f"Invalid parameter: pageIndex * pageSize must be <= {HISTORY_MAX_RESULTS}", now)
        start, end = numbers["startTime"], numbers["endTime"]
        if start is not None or end is not None:
            end = now if end is None else end
            start = end - HISTORY_MAX_RANGE_MS if start is None else start
            if start > end:
                return _err(100400, "Invalid parameter: startTime must not be after endTime", now)
            if end - start > HISTORY_MAX_RANGE_MS:
                return _err(100400, "Invalid parameter: the query time range exceeds 2 hours", now)
        status = params.get("status") or None
        if status is not None and status not in HISTORY_STATUSES:
            return _err(100400, "Invalid parameter status", now)
        statuses = HISTORY_STATUSES[status] if status is not None else None
        orders = ctx.ledger.listing(VENUE, symbol, conditional=False, statuses=statuses, since_ms=start, until_ms=end)
        from_id = numbers["orderId"]
        kind = params.get("type") or None
        chosen = [
            o
            for o in reversed(orders)  # "the most recent orders": newest first
            if (from_id is None or (o.order_id.isdigit() and int(o.order_id) >= from_id))
            and (kind is None or kind == "LIMIT")  # every fake order is a LIMIT order
        ]
        page = chosen[(index - 1) * size : index * size]
        return _ok({"orders": [self._listed_json(o) for o in page]}, now)

    def list_oco(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        raw_index, raw_size = params.get("pageIndex"), params.get("pageSize")
        if not raw_index or not raw_size:
            return _err(100400, "miss arguments", now)  # both are required
        if not raw_index.isdigit() or int(raw_index) < 1:
            return _err(100400, "Invalid parameter pageIndex", now)
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= OCO_MAX_PAGE_SIZE:
            return _err(100400, f"Invalid parameter pageSize: must be 1..{OCO_MAX_PAGE_SIZE}", now)
        index, size = int(raw_index), int(raw_size)
        legs = ctx.ledger.open_orders(VENUE, None, conditional=True)[(index - 1) * size : index * size]
        return _ok([self._oco_leg_json(o) for o in legs], now)

    # -- OCO orders ------------------------------------------------------------------------

    def oco_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        order_id, client_id = params.get("orderId") or None, params.get("clientOrderId") or None
        if order_id is not None and client_id is not None:
            return _err(100400, "orderId and clientOrderId cannot be sent together", now)
        if order_id is None and client_id is None:
            return _err(100400, "miss arguments", now)  # "Either orderId or clientOrderId must be provided"
        if order_id is not None and not order_id.isdigit():
            return _err(100400, "Invalid parameter orderId", now)
        leg = (
            ctx.ledger.find(VENUE, order_id=order_id)
            if order_id is not None
            else ctx.ledger.find(VENUE, client_order_id=client_id)
        )
        if leg is None or not leg.conditional:
            return _err(100404, MSG_ORDER_NOT_EXIST, now)  # ordinary orders are not OCO orders
        _, legs = self._oco_list(leg)
        with ctx.ledger.lock:
            before = ctx.cancel(leg)
            # The whole OCO list goes: the sibling too (also when the leg just filled: OCO's other half).
            for sibling in legs:
                if sibling is not leg and sibling.status == "open":
                    ctx.cancel(sibling)
        if before != "open":
            return _err(100404, MSG_NOT_CANCELLABLE, now)
        echo = {"orderId": leg.order_id, "clientOrderId": leg.client_order_id or ""}
        return _ok({} if ctx.omit else echo, now)

    def oco_history(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        now = ctx.now_ms()
        raw_index, raw_size = params.get("pageIndex"), params.get("pageSize")
        if not raw_index or not raw_size:
            return _err(100400, "miss arguments", now)  # both are required
        if not raw_index.isdigit() or int(raw_index) < 1:
            return _err(100400, "Invalid parameter pageIndex", now)
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= OCO_MAX_PAGE_SIZE:
            return _err(100400, f"Invalid parameter pageSize: must be 1..{OCO_MAX_PAGE_SIZE}", now)
        times: dict[str, int | None] = {}
        for name in ("startTime", "endTime"):
            raw = params.get(name) or None
            if raw is not None and not raw.isdigit():
                return _err(100400, f"Invalid parameter {name}", now)
            times[name] = int(raw) if raw is not None else None
        start, end = times["startTime"], times["endTime"]
        if start is not None and end is not None and start > end:
            return _err(100400, "Invalid parameter: startTime must not be after endTime", now)
        index, size = int(raw_index), int(raw_size)
        done = ctx.ledger.listing(
            VENUE, None, conditional=True, statuses=("filled", "cancelled"), since_ms=start, until_ms=end
        )
        done.sort(key=lambda o: (o.updated_ms, o.created_ms), reverse=True)  # the most recently finished first
        return _ok([self._oco_leg_json(o) for o in done[(index - 1) * size : index * size]], now)

    def _oco_leg_json(self, o: FakeOrder) -> dict[str, Any]:
        """One OCO leg as captured (JKorf ``GetOpenOcoOrders``): string ids, JSON-number prices."""
        list_id, legs = self._oco_list(o)
        if len(legs) > 1:
            stop = o is legs[1]  # a pair: the first leg is the limit order, the second the stop-limit order
        else:
            stop = o.order_id.isdigit() and int(o.order_id) % 2 == 1  # lone legs alternate limit / stop
        return {
            "transactionTime": o.created_ms,
            "orderId": o.order_id,
            "clientOrderId": o.client_order_id or "",
            "symbol": o.symbol,
            "orderType": "ocoTps" if stop else "ocoLimit",
            "side": o.side,
            "triggerPrice": _number(o.price) if stop else 0,
            "price": _number(o.price),
            "quantity": _number(o.qty),
            "orderListId": list_id,
            "status": LIST_STATUS[o.status],
        }


def _ordinary(order: FakeOrder | None) -> FakeOrder | None:
    """An order the ordinary endpoints reach: OCO legs (``conditional``) live on their own list."""
    return None if order is None or order.conditional else order


def _number(text: str) -> int | float | str:
    """A decimal as the OCO list sends it: a JSON number."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _text(value: Any) -> str:
    """How a JSON value reads in the signed ``k=v`` text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
