"""Binance COIN-M futures as the fake venue speaks it (``shared/venues.md`` §2).

Verification follows the docs, not our adapter: ``totalParams`` is the query string concatenated with
the body (no ``&`` between), the signature is the last parameter, compared case-insensitively;
parameter names are matched case-insensitively because ccxt sends ``orderidlist`` and Binance
evidently accepts it.

Listings, from the COIN-M trade pages:
- ``GET /dapi/v1/openOrders`` (Current-All-Open-Orders): ``symbol``/``pair`` optional, the whole list at
  once, trigger orders (STOP, TAKE_PROFIT, ... -- the ledger's ``conditional`` orders) included: COIN-M
  documents them as ordinary order types on the ordinary list, so batch cancel, query and cancel-all
  find them too.
- ``GET /dapi/v1/allOrders`` (All-Orders): ``symbol`` or ``pair`` required, ``pair`` not with ``orderId``;
  ``orderId`` gives orders >= it; ``startTime``/``endTime`` under 7 days (default the recent 7 days);
  ``limit`` 1..100, default 50; oldest first; orders CANCELED/EXPIRED without fills and created more than
  3 days ago, or created more than 90 days ago, are not returned. With a ``startTime`` the page starts
  there (the reading the adapter relies on, UNCONFIRMED); with neither ``orderId`` nor ``startTime`` it
  holds the most recent orders, as the page says.
- ``DELETE /dapi/v1/allOpenOrders`` (Cancel-All-Open-Orders): ``symbol`` required; cancels synchronously
  and answers only ``{"code": 200, "msg": ...}``.

Countdown, ``POST /dapi/v1/countdownCancelAll`` (Auto-Cancel-All-Open-Orders, endpoint kind ``countdown``; it
spends weight 10 from the REQUEST_WEIGHT budget every endpoint here spends from): ``symbol`` (required, ``-1102`` when
missing, ``-1121`` when malformed) and ``countdownTime`` (required LONG, ms: ``-1102`` when missing, ``-1100``
unless ASCII digits within LONG range). The docs give no bounds, so any non-negative LONG is taken: 0 stops the
symbol's countdown, anything else arms it (or renews it: the new countdown replaces the old) on the ledger,
where it fires ``countdownTime`` ms later and cancels every open order of the symbol -- trigger orders too,
since they rest on the ordinary list. The reply echoes ``{"symbol", "countdownTime"}`` (a string, as the docs'
sample), for a disarm with nothing running as well (UNCONFIRMED).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from urllib.parse import parse_qsl

from ..ledger import FakeOrder
from ..wire import Context, FakeRequest, Reply, json_reply

MAX_IDS = 10
HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 100
DAY_MS = 24 * 3600 * 1000
HISTORY_RANGE_MS = 7 * DAY_MS  # "The query time period must be less then 7 days"
UNFILLED_KEPT_MS = 3 * DAY_MS  # CANCELED/EXPIRED without fills: not found 3 days after creation
KEPT_MS = 90 * DAY_MS  # any order: not found 90 days after creation
SYMBOL_RE = re.compile(r"[A-Z0-9]{2,20}_(PERP|[0-9]{6})", re.ASCII)
DIGITS_RE = re.compile(r"[0-9]{1,20}", re.ASCII)
LONG_MAX = 2**63 - 1
STATUS_WORD = {"open": "NEW", "cancelling": "NEW", "filled": "FILLED", "cancelled": "CANCELED"}


def _err(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"code": code, "msg": msg}, status, headers)


# Rate limits (--enforce-rate-limits), from the COIN-M general info "LIMITS" and each route's reference page,
# https://developers.binance.com/docs/derivatives/coin-margined-futures/general-info#limits: "Each route has a
# weight", spent from one REQUEST_WEIGHT budget per IP; the default is 2,400/min ("Rate Limits on Binance
# Futures" FAQ). ORDERS (1,200/min per account, same FAQ) counts order responses; this fake takes no new
# orders, and whether a cancel counts there is UNCONFIRMED, so only ``cancels_count_as_orders=True`` spends
# it (for checking a client against that reading too).
REQUEST_WEIGHT = (2400, 60.0)
ORDERS = (1200, 60.0)
WEIGHTS = {
    "cancel": 1,  # Cancel-Multiple-Orders: "Request Weight 1"
    "query": 1,  # Query-Order: 1
    "time": 1,  # Check-Server-Time: 1
    "cancel_all": 1,  # Cancel-All-Open-Orders: 1
    "countdown": 10,  # Auto-Cancel-All-Open-Orders: 10
}
OPEN_ORDERS_WEIGHT = (1, 40)  # Current-All-Open-Orders: "1 for a single symbol, 40 for mutltiple symbols"
ALL_ORDERS_WEIGHT = (20, 40)  # All-Orders: "20 with symbol, 40 with pair"


class BinanceCoinMDialect:
    venue = "binance_coinm"
    rate = (REQUEST_WEIGHT[0] // WEIGHTS["cancel"], REQUEST_WEIGHT[1])  # batch cancels alone, at weight 1

    def __init__(self, *, cancels_count_as_orders: bool = False) -> None:
        self.cancels_count_as_orders = cancels_count_as_orders
        self.budgets = {"REQUEST_WEIGHT": REQUEST_WEIGHT}
        if cancels_count_as_orders:
            self.budgets["ORDERS"] = ORDERS

    def spend(self, endpoint: str, req: FakeRequest) -> dict[str, int]:
        """What one request takes from each budget: its route's weight, and an order if cancels count."""
        names = {k.lower() for k, _ in parse_qsl(req.query, keep_blank_values=True)}
        if endpoint == "list_open":
            weight = OPEN_ORDERS_WEIGHT[0 if "symbol" in names else 1]
        elif endpoint == "list_history":
            weight = ALL_ORDERS_WEIGHT[0 if "symbol" in names else 1]
        else:
            weight = WEIGHTS.get(endpoint, 1)
        out = {"REQUEST_WEIGHT": weight}
        if self.cancels_count_as_orders and endpoint in ("cancel", "cancel_all"):
            out["ORDERS"] = 1
        return out

    def routes(self):
        return [
            ("DELETE", re.compile(r"/dapi/v1/batchOrders"), "cancel", self.batch_cancel),
            ("GET", re.compile(r"/dapi/v1/order"), "query", self.query),
            ("GET", re.compile(r"/dapi/v1/time"), "time", self.time),
            ("DELETE", re.compile(r"/dapi/v1/allOpenOrders"), "cancel_all", self.cancel_all),
            ("GET", re.compile(r"/dapi/v1/openOrders"), "list_open", self.list_open),
            ("GET", re.compile(r"/dapi/v1/allOrders"), "list_history", self.list_history),
            ("POST", re.compile(r"/dapi/v1/countdownCancelAll"), "countdown", self.countdown),
        ]

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if status == 429:
            return _err(429, -1003, "Too many requests; current limit of IP is 2400 requests per minute.", headers)
        if status == 418:
            return _err(418, -1003, "Way too many requests; IP banned until 1700000000000.", headers)
        if status == 503:
            return _err(503, -1001, "Service Unavailable.", headers)
        if status >= 500:
            return _err(status, -1000, "An unknown error occured while processing the request.", headers)
        return _err(status, -1100, "Illegal characters found in a parameter.", headers)

    # -- auth ------------------------------------------------------------------------------

    def _authenticate(self, req: FakeRequest, ctx: Context) -> tuple[dict[str, str], Reply | None]:
        body = req.body.decode("utf-8", "replace")
        params: dict[str, str] = {}
        for k, v in parse_qsl(body, keep_blank_values=True):
            params[k.lower()] = v
        for k, v in parse_qsl(req.query, keep_blank_values=True):  # the query wins on duplicates
            params[k.lower()] = v
        key = req.headers.get("x-mbx-apikey")
        if not key:
            return params, _err(401, -2014, "API-key format invalid.")
        if key != ctx.creds.api_key:
            return params, _err(401, -2015, "Invalid API-key, IP, or permissions for action.")
        # The signature is the last parameter, in the query string or in the body.
        m = re.search(r"(^|&)signature=([^&]*)$", req.query)
        if m:
            total = req.query[: m.start()] + body
            given = m.group(2)
        else:
            m = re.search(r"(^|&)signature=([^&]*)$", body)
            if not m:
                return params, _err(
                    400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
                )
            total = req.query + body[: m.start()]
            given = m.group(2)
        expected = hmac.new(ctx.creds.api_secret.encode(), total.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            return params, _err(400, -1022, "Signature for this request is not valid.")
        ts = params.get("timestamp", "")
        if not ts.isdigit():
            return params, _err(
                400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        window = int(params.get("recvwindow", "5000") or 5000)
        now = ctx.now_ms()
        if int(ts) >= now + 1000 or now - int(ts) > window:
            return params, _err(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return params, None

    # -- endpoints -------------------------------------------------------------------------

    def _order_json(self, o: FakeOrder, status: str) -> dict:
        # A conditional order is a resting STOP_MARKET: its seeded price is the trigger (stopPrice).
        order_type = "STOP_MARKET" if o.conditional else "LIMIT"
        return {
            "avgPrice": "0.0",
            "clientOrderId": o.client_order_id or f"fake{o.order_id}",
            "cumQty": "0",
            "cumBase": "0",
            "executedQty": o.qty if status == "FILLED" else "0",
            "orderId": int(o.order_id) if o.order_id.isdigit() else o.order_id,
            "origQty": o.qty,
            "origType": order_type,
            "price": "0" if o.conditional else o.price,
            "reduceOnly": False,
            "side": o.side,
            "positionSide": "BOTH",
            "status": status,
            "stopPrice": o.price if o.conditional else "0",
            "closePosition": False,
            "symbol": o.symbol,
            "pair": o.symbol.split("_")[0],
            "time": o.created_ms,
            "timeInForce": "GTC",
            "type": order_type,
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "updateTime": o.updated_ms,
        }

    def batch_cancel(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        symbol = params.get("symbol")
        if not symbol:
            return _err(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        ids_raw, cids_raw = params.get("orderidlist"), params.get("origclientorderidlist")
        if (ids_raw is None) == (cids_raw is None):
            return _err(
                400, -1102, "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!"
            )
        try:
            listing = json.loads(ids_raw if ids_raw is not None else cids_raw or "")
        except ValueError:
            return _err(400, -1130, "Data sent for parameter 'orderIdList' is not valid.")
        if not isinstance(listing, list) or not listing:
            return _err(400, -1130, "Data sent for parameter 'orderIdList' is not valid.")
        if ids_raw is not None and not all(isinstance(i, int) and not isinstance(i, bool) for i in listing):
            return _err(400, -1130, "Data sent for parameter 'orderIdList' is not valid.")  # LIST<LONG>: numbers only
        if len(listing) > MAX_IDS:
            return _err(400, -1130, "Data sent for parameter 'orderIdList' is not valid.")
        out = []
        for ident in listing:
            if ids_raw is not None:
                order = ctx.ledger.find(self.venue, symbol, order_id=str(ident))
            else:
                order = ctx.ledger.find(self.venue, symbol, client_order_id=str(ident))
            if order is None:
                out.append({"code": -2011, "msg": "Unknown order sent."})
                continue
            before = ctx.cancel(order)
            if before == "open":
                out.append(self._order_json(order, "CANCELED"))
            else:
                out.append({"code": -2011, "msg": "Unknown order sent."})
        if ctx.omit:
            for i, element in enumerate(out):  # leave the first cancelled order's element out (it was applied)
                if "orderId" in element:
                    del out[i]
                    break
        return json_reply(out)

    def query(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        symbol = params.get("symbol")
        if params.get("orderid"):
            order = ctx.ledger.find(self.venue, symbol, order_id=params["orderid"])
        elif params.get("origclientorderid"):
            order = ctx.ledger.find(self.venue, symbol, client_order_id=params["origclientorderid"])
        else:
            return _err(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if order is None:
            return _err(400, -2013, "Order does not exist.")
        return json_reply(self._order_json(order, STATUS_WORD[order.status]))

    def time(self, req: FakeRequest, ctx: Context) -> Reply:
        return json_reply({"serverTime": ctx.now_ms()})

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        symbol = params.get("symbol")
        if not symbol:  # Cancel-All-Open-Orders: symbol is mandatory (no account-wide form)
            return _err(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if not SYMBOL_RE.fullmatch(symbol):
            return _err(400, -1121, "Invalid symbol.")
        # Synchronous, trigger orders included (they rest on the same list); the reply names no order.
        for order in ctx.ledger.open_orders(self.venue, symbol):
            ctx.cancel(order)
        return json_reply({"code": 200, "msg": "The operation of cancel all open order is done."})

    def countdown(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        symbol = params.get("symbol")
        if not symbol:  # one countdown per symbol: there is no account-wide form
            return _err(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        if not SYMBOL_RE.fullmatch(symbol):
            return _err(400, -1121, "Invalid symbol.")
        raw = params.get("countdowntime")
        if raw is None or raw == "":
            return _err(400, -1102, "Mandatory parameter 'countdownTime' was not sent, was empty/null, or malformed.")
        if not DIGITS_RE.fullmatch(raw) or int(raw) > LONG_MAX:
            return _err(
                400, -1100, "Illegal characters found in parameter 'countdownTime'; legal range is '^[0-9]{1,20}$'."
            )
        timeout_ms = int(raw)
        now = ctx.now_ms()
        if timeout_ms == 0:
            ctx.ledger.disarm(self.venue, symbol, now)
        else:
            # Trigger orders rest on the ordinary open-orders list: the countdown cancels them too.
            ctx.ledger.arm(self.venue, symbol, timeout_ms, now, conditional=True)
        return json_reply({"symbol": symbol, "countdownTime": str(timeout_ms)})

    # -- listings --------------------------------------------------------------------------

    def _scope(self, params: dict[str, str]) -> tuple[str | None, str | None, Reply | None]:
        """``symbol`` and ``pair`` as given, or the venue's refusal of a malformed one."""
        symbol, pair = params.get("symbol") or None, params.get("pair") or None
        if symbol is not None and not SYMBOL_RE.fullmatch(symbol):
            return symbol, pair, _err(400, -1121, "Invalid symbol.")
        if pair is not None and not re.fullmatch(r"[A-Z0-9]{2,20}", pair):
            return symbol, pair, _err(400, -1121, "Invalid symbol.")
        return symbol, pair, None

    @staticmethod
    def _in_pair(o: FakeOrder, pair: str | None) -> bool:
        return pair is None or o.symbol.split("_")[0].upper() == pair

    def list_open(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        symbol, pair, bad = self._scope(params)
        if bad:
            return bad
        orders = [o for o in ctx.ledger.open_orders(self.venue, symbol) if self._in_pair(o, pair)]
        return json_reply([self._order_json(o, "NEW") for o in orders])

    def list_history(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        symbol, pair, bad = self._scope(params)
        if bad:
            return bad
        if symbol is None and pair is None:
            return _err(400, -1102, "Param 'symbol' or 'pair' must be sent, but both were empty/null!")
        numbers: dict[str, int] = {}
        for name in ("orderid", "starttime", "endtime", "limit"):
            raw = params.get(name)
            if raw is None or raw == "":
                continue
            if not DIGITS_RE.fullmatch(raw):
                return _err(
                    400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
                )
            numbers[name] = int(raw)
        if pair is not None and "orderid" in numbers:
            return _err(400, -1128, "Combination of optional parameters invalid.")
        limit = numbers.get("limit", HISTORY_LIMIT_DEFAULT)
        if not 1 <= limit <= HISTORY_LIMIT_MAX:
            return _err(400, -1130, "Data sent for parameter 'limit' is not valid.")
        now = ctx.now_ms()
        start, end = numbers.get("starttime"), numbers.get("endtime")
        span = HISTORY_RANGE_MS - 1  # a missing bound makes the longest period allowed ("less than 7 days")
        if end is not None:
            hi = end
            lo = start if start is not None else end - span
        elif start is not None:
            lo, hi = start, start + span
        else:
            lo, hi = now - span, now  # "default as the recent 7 days"
        if hi < lo:
            return _err(400, -1128, "Combination of optional parameters invalid.")
        if hi - lo >= HISTORY_RANGE_MS:
            return _err(400, -1127, "More than 168 hours between startTime and endTime.")
        found = [
            o
            for o in ctx.ledger.listing(self.venue, symbol, since_ms=lo, until_ms=hi)
            if self._in_pair(o, pair) and self._kept(o, now)
        ]
        found.sort(key=lambda o: int(o.order_id) if o.order_id.isdigit() else -1)
        if "orderid" in numbers:
            found = [o for o in found if o.order_id.isdigit() and int(o.order_id) >= numbers["orderid"]][:limit]
        elif start is not None:
            found = found[:limit]  # from startTime onward, oldest first
        else:
            found = found[-limit:]  # "Otherwise most recent orders are returned" (still oldest first)
        return json_reply([self._order_json(o, STATUS_WORD[o.status]) for o in found])

    @staticmethod
    def _kept(o: FakeOrder, now: int) -> bool:
        """The All-Orders "will not be found" rule (the ledger's cancelled orders never had fills)."""
        if o.created_ms + KEPT_MS < now:
            return False
        return not (o.status == "cancelled" and o.created_ms + UNFILLED_KEPT_MS < now)
