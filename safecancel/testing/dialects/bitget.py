"""Bitget spot v2 as the fake venue speaks it (``shared/venues.md`` §5, seed 004).

Verification follows Bitget's signature page, not our adapter: ``ACCESS-SIGN`` must equal
``base64(HMAC-SHA256(secret, ACCESS-TIMESTAMP + METHOD + path [+ "?" + query] + body))`` where the
query and body are the bytes received. The query is accepted as received (what ccxt signs: it sends the
percent-encoded query it signed) or percent-decoded (what venues.md reports for ccxt and the official SDK
with plain ids), since both clients evidently work. The key, passphrase and a 30 s timestamp window are
checked first; any failure gets Bitget's own error body and changes nothing.

Batch cancel accepts the body with or without ``batchMode`` (ccxt sends none; the docs default to
``single``) and ``multiple`` mode with a per-item ``symbol``. Cancels are asynchronous
(``ctx.cancel(order, asynchronous=True)``): the order reads ``live`` until the cancel is due.

Plan (conditional) orders are kept apart, as Bitget keeps them: batch-cancel-order, orderInfo and
cancel-symbol-order never see them (43001 / not found / left alone). They have endpoints of their own,
and those never see ordinary orders:

- ``POST /api/v2/spot/trade/cancel-plan-order`` (endpoint kind ``cancel``, so the ``cancel`` faults and
  the batch cancel's 10/s budget apply to it too; Bitget documents 20/s): ``{"orderId"}`` or
  ``{"clientOid"}``, one plan order per request (neither id: ``40913``). A live plan's cancel is accepted
  and applied asynchronously, like every cancel here (``ctx.cancel(order, asynchronous=True)``: the plan
  reads ``live`` on current-plan-order until it lands, and only then shows ``cancelled`` on
  history-plan-order); the reply is ``{"result": "success"}`` (also for a plan whose cancel is pending).
  An unknown plan gets ``43025`` "Plan order does not exist", a finished one (executed or cancelled)
  ``43026`` "The planned order has been closed" (which codes Bitget uses is UNCONFIRMED). With an
  ``omit`` fault the cancel is applied and the reply's ``data`` is ``{}``.
- ``GET /api/v2/spot/trade/history-plan-order`` (endpoint kind ``query``: the adapter's plan-order query):
  finished plan orders, ``executed`` (a filled ledger order: the trigger fired) or ``cancelled``, newest
  first by ``orderId``, paged by ``idLessThan``, ``limit`` 1..100 (default 100), optional ``symbol``,
  ``startTime``/``endTime`` on creation time, a range over 90 days ``00001``; ``data = {"nextFlag",
  "idLessThan", "orderList"}`` as on current-plan-order.

Listings (``GET``, signed like the rest, 20/s each), newest first by ``orderId``, paged by ``idLessThan``
(orders with a smaller id), ``limit`` 1..100 (default 100; current-plan-order default 20), anything else
refused with ``40020`` "Parameter limit error" (how Bitget answers that is UNCONFIRMED):

- ``unfilled-orders``: ordinary resting orders, an accepted-but-pending cancel still ``live``; optional
  ``symbol``, ``startTime``/``endTime`` (on creation time), ``orderId``, ``tpslType`` (``normal`` default;
  ``tpsl`` lists nothing: the ledger has no TP/SL orders). ``data`` is the array; ``priceAvg`` carries the
  order price, as the docs and ccxt's sample show.
- ``current-plan-order``: the plan orders, ``data = {"nextFlag", "idLessThan", "orderList"}``;
  ``startTime``/``endTime`` "should be within 90 days" (``00001`` otherwise).
- ``history-orders``: final orders (filled, cancelled) created in ``startTime``..``endTime`` (default:
  the venue's now); a ``startTime`` older than 90 days is ``43111`` "param error time range illegal" and a
  range over 90 days ``00001`` (both UNCONFIRMED for this endpoint: observed on Bitget's fills endpoint and
  in its error table). Whether the real endpoint also lists live orders is UNCONFIRMED; here it does not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..ledger import FakeOrder
from ..wire import Context, FakeRequest, Reply, json_reply

MAX_ORDERS = 50
# Listings: "limit ... max 100" on all three; current-plan-order defaults to 20, the others to 100.
LIST_MAX = 100
LIST_DEFAULT = 100
PLAN_LIST_DEFAULT = 20
HISTORY_DAYS = 90
DAY_MS = 86_400_000
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
# Bitget does not document its window (UNCONFIRMED); 30 s either way is what this fake enforces.
TIMESTAMP_TOLERANCE_MS = 30_000
# The same orderId may be cancelled once per second (45129).
SAME_ORDER_CANCEL_INTERVAL_MS = 1_000

NOT_CANCELLABLE_MSG = "The current order status cannot be cancelled"
TOO_FREQUENT_MSG = "Cancel order is too frequent, the same orderId is only allowed to be canceled once in a second"

STATUS_NAMES = {"open": "live", "cancelling": "live", "filled": "filled", "cancelled": "cancelled"}
# Plan orders: a filled ledger order is a plan whose trigger fired and placed its order ("executed").
PLAN_STATUS_NAMES = {"open": "live", "cancelling": "live", "filled": "executed", "cancelled": "cancelled"}


def _reply(ctx: Context | None, status: int, code: str, msg: str, data: Any, headers: dict[str, str] | None) -> Reply:
    # requestTime is the venue's clock (moved by a clock_skew fault): clients may re-measure from it.
    now = ctx.now_ms() if ctx is not None else int(time.time() * 1000)
    return json_reply({"code": code, "msg": msg, "requestTime": now, "data": data}, status, headers)


def _err(ctx: Context | None, status: int, code: str, msg: str, headers: dict[str, str] | None = None) -> Reply:
    return _reply(ctx, status, code, msg, None, headers)


def _ok(ctx: Context, data: Any) -> Reply:
    return _reply(ctx, 200, "00000", "success", data, None)


def _id_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class BitgetDialect:
    """The fake Bitget.

    Args:
        unknown_order: How orderInfo answers an id it does not know: ``"empty"`` (``data: []``) or
            ``"43001"`` (an error body). The real behaviour is UNCONFIRMED; tests run both.
    """

    venue = "bitget"
    rate = (10, 1.0)  # batch-cancel-order: 10 requests / 1 s per UID
    rates = {
        "cancel": rate,
        "query": (20, 1.0),  # venues.md §5.6
        "time": (20, 1.0),
        "cancel_all": (5, 1.0),  # §5.7
        # "Frequency limit: 20 times/1s (UID)" on each listing (the adapter's module docstring, "Listings")
        "list_open": (20, 1.0),
        "list_conditional": (20, 1.0),
        "list_history": (20, 1.0),
    }

    def __init__(self, unknown_order: str = "empty") -> None:
        if unknown_order not in ("empty", "43001"):
            raise ValueError(f"unknown_order must be 'empty' or '43001', got {unknown_order!r}")
        self.unknown_order = unknown_order

    def routes(self):
        return [
            ("POST", re.compile(r"/api/v2/spot/trade/batch-cancel-order"), "cancel", self.batch_cancel),
            ("GET", re.compile(r"/api/v2/spot/trade/orderInfo"), "query", self.query),
            ("GET", re.compile(r"/api/v2/public/time"), "time", self.time),
            ("POST", re.compile(r"/api/v2/spot/trade/cancel-symbol-order"), "cancel_all", self.cancel_all),
            # Plan orders' own cancel and (the adapter's) query: the "cancel" and "query" kinds, so faults
            # and budgets on those endpoints hit plan orders too.
            ("POST", re.compile(r"/api/v2/spot/trade/cancel-plan-order"), "cancel", self.cancel_plan),
            ("GET", re.compile(r"/api/v2/spot/trade/history-plan-order"), "query", self.plan_history),
            ("GET", re.compile(r"/api/v2/spot/trade/unfilled-orders"), "list_open", self.unfilled_orders),
            ("GET", re.compile(r"/api/v2/spot/trade/current-plan-order"), "list_conditional", self.plan_orders),
            ("GET", re.compile(r"/api/v2/spot/trade/history-orders"), "list_history", self.history_orders),
        ]

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if status == 429:
            return _err(None, 429, "429", "Too Many Requests", headers)
        if status >= 500:
            return _err(None, status, "40015", "System is abnormal, please try again later", headers)
        if status == 401:
            return _err(None, 401, "40012", "apikey/password is incorrect", headers)
        if status == 403:
            return _err(None, 403, "40014", "Incorrect permissions, need trade permissions", headers)
        return _err(None, status, "40017", "Parameter verification failed", headers)

    # -- auth ------------------------------------------------------------------------------

    def _authenticate(self, req: FakeRequest, ctx: Context) -> Reply | None:
        h = req.headers
        names = ("access-key", "access-sign", "access-timestamp", "access-passphrase")
        key, sign, ts, phrase = (h.get(n) for n in names)
        if not key:
            return _err(ctx, 400, "40001", "ACCESS_KEY cannot be empty")
        if not sign:
            return _err(ctx, 400, "40002", "ACCESS_SIGN cannot be empty")
        if not phrase:
            return _err(ctx, 400, "40011", "ACCESS_PASSPHRASE cannot be empty")
        if not ts or not ts.isascii() or not ts.isdigit():
            return _err(ctx, 400, "40005", "Invalid ACCESS_TIMESTAMP")
        if not hmac.compare_digest(key.encode(), ctx.creds.api_key.encode()):
            return _err(ctx, 400, "40006", "Invalid ACCESS_KEY")
        if not hmac.compare_digest(phrase.encode(), ctx.creds.passphrase.encode()):
            return _err(ctx, 400, "40012", "apikey/password is incorrect")
        if abs(ctx.now_ms() - int(ts)) > TIMESTAMP_TOLERANCE_MS:
            return _err(ctx, 400, "40008", "Request timestamp expired")
        body = req.body.decode("utf-8", "replace")
        queries = [req.query, unquote(req.query)] if req.query else [""]
        for query in queries:
            prehash = ts + req.method.upper() + req.path + ("?" + query if query else "") + body
            digest = hmac.new(ctx.creds.api_secret.encode(), prehash.encode(), hashlib.sha256).digest()
            if hmac.compare_digest(base64.b64encode(digest), sign.encode()):
                break
        else:
            return _err(ctx, 400, "40009", "sign signature error")
        if req.method == "POST" and not h.get("content-type", "").lower().startswith("application/json"):
            return _err(ctx, 400, "40007", "Invalid Content_Type")
        return None

    def _json_body(self, req: FakeRequest) -> dict[str, Any] | None:
        try:
            data = req.json()
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    # -- endpoints -------------------------------------------------------------------------

    def batch_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        data = self._json_body(req)
        if data is None:
            return _err(ctx, 400, "40017", "Parameter verification failed")
        mode = data.get("batchMode") or "single"  # absent or empty: the documented default
        if mode not in ("single", "multiple"):
            return _err(ctx, 400, "40020", "Parameter batchMode error")
        items = data.get("orderList")
        if not isinstance(items, list) or not items:
            return _err(ctx, 400, "40019", "Parameter orderList cannot be empty")
        if len(items) > MAX_ORDERS:
            return _err(ctx, 400, "40912", "single cancel cannot exceed 50")
        if not all(isinstance(item, dict) for item in items):
            return _err(ctx, 400, "40017", "Parameter verification failed")
        top_symbol = data.get("symbol")
        if mode == "single" and not (isinstance(top_symbol, str) and top_symbol):
            return _err(ctx, 400, "40019", "Parameter symbol cannot be empty")
        if mode == "multiple" and not all(isinstance(i.get("symbol"), str) and i["symbol"] for i in items):
            return _err(ctx, 400, "40019", "Parameter symbol cannot be empty")
        # Mixing id kinds: "orders that only submit a clientOid will fail to be cancelled" (seed 004).
        by_order_id = any(item.get("orderId") not in (None, "") for item in items)
        success: list[dict[str, Any]] = []
        failure: list[dict[str, Any]] = []
        for item in items:
            symbol = top_symbol if mode == "single" else item["symbol"]
            oid, cid = item.get("orderId"), item.get("clientOid")
            echo = {"orderId": _id_or_none(oid), "clientOid": _id_or_none(cid)}
            if echo["orderId"] is None and echo["clientOid"] is None:
                failure.append({**echo, "errorCode": "40913", "errorMsg": "Either orderId or clientOid is required"})
                continue
            if echo["orderId"] is not None:
                order = _ordinary(ctx.ledger.find(self.venue, symbol, order_id=echo["orderId"]))
            elif by_order_id:
                order = None
            else:
                order = _ordinary(ctx.ledger.find(self.venue, symbol, client_order_id=echo["clientOid"]))
            if order is None:
                failure.append({**echo, "errorCode": "43001", "errorMsg": "The order does not exist"})
                continue
            echo = {"orderId": order.order_id, "clientOid": order.client_order_id}
            if order.status == "cancelling" and ctx.now_ms() - order.updated_ms < SAME_ORDER_CANCEL_INTERVAL_MS:
                ctx.cancel(order, asynchronous=True)  # counted as a cancel attempt; changes nothing
                failure.append({**echo, "errorCode": "45129", "errorMsg": TOO_FREQUENT_MSG})
                continue
            before = ctx.cancel(order, asynchronous=True)
            if before in ("open", "cancelling"):
                success.append(echo)
            elif before == "filled":
                failure.append({**echo, "errorCode": "45055", "errorMsg": NOT_CANCELLABLE_MSG})
            else:
                failure.append({**echo, "errorCode": "50062", "errorMsg": "order status is cancelled or fullFill"})
        if ctx.omit:
            # Leave one order out: an accepted one if any (its cancel was applied), else a failed one.
            (success if success else failure).pop(0)
        return _ok(ctx, {"successList": success, "failureList": failure})

    def query(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        params = dict(parse_qsl(req.query, keep_blank_values=True))
        if params.get("orderId"):
            order = _ordinary(ctx.ledger.find(self.venue, order_id=params["orderId"]))
        elif params.get("clientOid"):
            order = _ordinary(ctx.ledger.find(self.venue, client_order_id=params["clientOid"]))
        else:
            return _err(ctx, 400, "40913", "Either orderId or clientOid is required")
        if order is None:
            if self.unknown_order == "43001":
                return _err(ctx, 400, "43001", "The order does not exist")
            return _ok(ctx, [])
        return _ok(ctx, [self._order_json(order)])

    def time(self, req: FakeRequest, ctx: Context) -> Reply:
        return _ok(ctx, {"serverTime": str(ctx.now_ms())})

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        data = self._json_body(req)
        symbol = data.get("symbol") if data else None
        if not isinstance(symbol, str) or not symbol:
            return _err(ctx, 400, "40019", "Parameter symbol cannot be empty")
        # Documented as asynchronous: the reply only echoes the symbol ("If you need to know the result,
        # please query the Get History Orders endpoint"). Ordinary orders only: plan orders have their own
        # cancel endpoints (batch-cancel-plan-order takes a symbolList), which is what ccxt uses for them.
        for order in ctx.ledger.open_orders(self.venue, symbol, conditional=False):
            ctx.cancel(order, asynchronous=True)
        return _ok(ctx, {"symbol": symbol})

    # -- plan orders -----------------------------------------------------------------------

    def cancel_plan(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        data = self._json_body(req)
        if data is None:
            return _err(ctx, 400, "40017", "Parameter verification failed")
        oid, cid = _id_or_none(data.get("orderId")), _id_or_none(data.get("clientOid"))
        if oid is not None:
            order = _plan(ctx.ledger.find(self.venue, order_id=oid))
        elif cid is not None:
            order = _plan(ctx.ledger.find(self.venue, client_order_id=cid))
        else:
            return _err(ctx, 400, "40913", "Either orderId or clientOid is required")
        if order is None:
            return _err(ctx, 400, "43025", "Plan order does not exist")
        before = ctx.cancel(order, asynchronous=True)
        if before not in ("open", "cancelling"):
            return _err(ctx, 400, "43026", "The planned order has been closed")
        if ctx.omit:
            return _ok(ctx, {})  # applied, but the reply leaves the order's result out
        return _ok(ctx, {"result": "success"})

    def plan_history(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        params, refused = _list_params(req, ctx, LIST_DEFAULT)
        if refused:
            return refused
        now = ctx.now_ms()
        start, end = params.get("startTime"), params.get("endTime")
        if start is not None and (end if end is not None else now) - start > HISTORY_DAYS * DAY_MS:
            return _err(ctx, 400, "00001", f"startTime and endTime interval cannot be greater than {HISTORY_DAYS} days")
        since = start if start is not None else now - HISTORY_DAYS * DAY_MS
        return self._plan_page(ctx, params, ("filled", "cancelled"), since, end)

    def _plan_page(
        self, ctx: Context, params: dict[str, Any], statuses: tuple[str, ...], since: int | None, until: int | None
    ) -> Reply:
        """One page of plan orders in these ledger statuses, in the plan endpoints' reply shape."""
        orders = ctx.ledger.listing(
            self.venue, params.get("symbol"), conditional=True, statuses=statuses, since_ms=since, until_ms=until
        )
        page, more = _page(orders, params)
        return _ok(
            ctx,
            {
                "nextFlag": more,
                "idLessThan": page[-1].order_id if page else None,
                "orderList": [self._plan_json(o) for o in page],
            },
        )

    # -- listings --------------------------------------------------------------------------

    def unfilled_orders(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        params, refused = _list_params(req, ctx, LIST_DEFAULT)
        if refused:
            return refused
        if params.get("tpslType", "normal") not in ("normal", "tpsl"):
            return _err(ctx, 400, "40020", "Parameter tpslType error")
        if params.get("tpslType") == "tpsl":
            return _ok(ctx, [])  # the ledger holds no spot TP/SL orders
        # An accepted cancel that has not taken effect still reads live (pending_cancel_reads_open).
        orders = ctx.ledger.listing(
            self.venue,
            params.get("symbol"),
            conditional=False,
            statuses=("open", "cancelling"),
            since_ms=params.get("startTime"),
            until_ms=params.get("endTime"),
        )
        page, _ = _page(orders, params)
        return _ok(ctx, [self._unfilled_json(o) for o in page])

    def plan_orders(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        params, refused = _list_params(req, ctx, PLAN_LIST_DEFAULT)
        if refused:
            return refused
        start, end = params.get("startTime"), params.get("endTime")
        if start is not None and end is not None and end - start > HISTORY_DAYS * DAY_MS:
            return _err(ctx, 400, "00001", f"startTime and endTime interval cannot be greater than {HISTORY_DAYS} days")
        return self._plan_page(ctx, params, ("open", "cancelling"), start, end)

    def history_orders(self, req: FakeRequest, ctx: Context) -> Reply:
        denied = self._authenticate(req, ctx)
        if denied:
            return denied
        params, refused = _list_params(req, ctx, LIST_DEFAULT)
        if refused:
            return refused
        now = ctx.now_ms()
        start, end = params.get("startTime"), params.get("endTime")
        if start is not None and start < now - HISTORY_DAYS * DAY_MS:
            return _err(ctx, 400, "43111", "param error time range illegal")
        if start is not None and (end if end is not None else now) - start > HISTORY_DAYS * DAY_MS:
            return _err(ctx, 400, "00001", f"startTime and endTime interval cannot be greater than {HISTORY_DAYS} days")
        orders = ctx.ledger.listing(
            self.venue,
            params.get("symbol"),
            conditional=False,
            statuses=("filled", "cancelled"),
            since_ms=start if start is not None else now - HISTORY_DAYS * DAY_MS,
            until_ms=end,
        )
        page, _ = _page(orders, params)
        return _ok(ctx, [{**self._order_json(o), "tpslType": "normal", "triggerPrice": None} for o in page])

    def _unfilled_json(self, o: FakeOrder) -> dict[str, Any]:
        # unfilled-orders has no ``price``: its ``priceAvg`` is "Order price" (docs; ccxt's sample).
        return {
            "userId": "1000000001",
            "symbol": o.symbol,
            "orderId": o.order_id,
            "clientOid": o.client_order_id or "",
            "priceAvg": o.price,
            "size": o.qty,
            "orderType": "limit",
            "side": o.side.lower(),
            "status": STATUS_NAMES[o.status],
            "basePrice": "0",
            "baseVolume": "0",
            "quoteVolume": "0",
            "enterPointSource": "API",
            "orderSource": "normal",
            "cTime": str(o.created_ms),
            "uTime": str(o.updated_ms),
            "tpslType": "normal",
            "triggerPrice": None,
        }

    def _plan_json(self, o: FakeOrder) -> dict[str, Any]:
        return {
            "orderId": o.order_id,
            "clientOid": o.client_order_id or "",
            "symbol": o.symbol,
            "size": o.qty,
            "executePrice": o.price,
            "triggerPrice": o.price,
            "status": PLAN_STATUS_NAMES[o.status],  # "live": not triggered (or its cancel is pending)
            "orderType": "limit",
            "side": o.side.lower(),
            "planType": "amount",
            "triggerType": "fill_price",
            "enterPointSource": "API",
            "cTime": str(o.created_ms),
            "uTime": str(o.updated_ms),
        }

    def _order_json(self, o: FakeOrder) -> dict[str, Any]:
        status = STATUS_NAMES[o.status]
        return {
            "userId": "1000000001",
            "symbol": o.symbol,
            "orderId": o.order_id,
            "clientOid": o.client_order_id or "",
            "price": o.price,
            "size": o.qty,
            "orderType": "limit",
            "side": o.side.lower(),
            "status": status,
            "priceAvg": o.price if status == "filled" else "0",
            "baseVolume": o.qty if status == "filled" else "0",
            "quoteVolume": "0",
            "enterPointSource": "API",
            "feeDetail": "",
            "orderSource": "normal",
            "cancelReason": "normal_cancel" if status == "cancelled" else "",
            "cTime": str(o.created_ms),
            "uTime": str(o.updated_ms),
        }


def _ordinary(order: FakeOrder | None) -> FakeOrder | None:
    """The order, unless it is a plan order: Bitget's ordinary endpoints do not see those."""
    return None if order is None or order.conditional else order


def _plan(order: FakeOrder | None) -> FakeOrder | None:
    """The order, if it is a plan order: the plan endpoints do not see ordinary orders."""
    return order if order is not None and order.conditional else None


def _list_params(req: FakeRequest, ctx: Context, default_limit: int) -> tuple[dict[str, Any], Reply | None]:
    """A listing's parameters, checked as Bitget documents them (blank values count as absent)."""
    raw = {k: v for k, v in parse_qsl(req.query, keep_blank_values=True) if v != ""}
    out: dict[str, Any] = {"symbol": raw.get("symbol"), "orderId": raw.get("orderId"), "tpslType": raw.get("tpslType")}
    for name in ("startTime", "endTime", "idLessThan", "limit"):
        value = raw.get(name)
        if value is None:
            continue
        if not _DIGITS.fullmatch(value):
            return out, _err(ctx, 400, "40020", f"Parameter {name} error")
        out[name] = int(value)
    limit = out.setdefault("limit", default_limit)
    if not 1 <= limit <= LIST_MAX:
        return out, _err(ctx, 400, "40020", "Parameter limit error")
    start, end = out.get("startTime"), out.get("endTime")
    if start is not None and end is not None and start > end:
        return out, _err(ctx, 400, "20001", "startTime should be less than endTime")
    return {k: v for k, v in out.items() if v is not None}, None


def _id_key(order: FakeOrder) -> int:
    # Bitget's ids are numbers that grow with time; a seeded non-numeric id sorts as the oldest.
    return int(order.order_id) if _DIGITS.fullmatch(order.order_id) else 0


def _page(orders: list[FakeOrder], params: dict[str, Any]) -> tuple[list[FakeOrder], bool]:
    """Newest first by orderId, below ``idLessThan``, at most ``limit``; and whether more remain."""
    below = params.get("idLessThan")
    wanted = params.get("orderId")
    rows = sorted(
        (o for o in orders if (below is None or _id_key(o) < below) and (wanted is None or o.order_id == wanted)),
        key=_id_key,
        reverse=True,
    )
    limit = params["limit"]
    return rows[:limit], len(rows) > limit
