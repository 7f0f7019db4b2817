"""Binance COIN-M futures as the fake venue speaks it (``shared/venues.md`` §2).

Verification follows the docs, not our adapter: ``totalParams`` is the query string concatenated with
the body (no ``&`` between), the signature is the last parameter, compared case-insensitively;
parameter names are matched case-insensitively because ccxt sends ``orderidlist`` and Binance
evidently accepts it.
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


def _err(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"code": code, "msg": msg}, status, headers)


class BinanceCoinMDialect:
    venue = "binance_coinm"
    rate = (1200, 60.0)

    def routes(self):
        return [
            ("DELETE", re.compile(r"/dapi/v1/batchOrders"), "cancel", self.batch_cancel),
            ("GET", re.compile(r"/dapi/v1/order"), "query", self.query),
            ("GET", re.compile(r"/dapi/v1/time"), "time", self.time),
            ("DELETE", re.compile(r"/dapi/v1/allOpenOrders"), "cancel_all", self.cancel_all),
        ]

    def error_reply(self, endpoint: str, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        if status == 429:
            return _err(429, -1003, "Too many requests; current limit of IP is 1200 requests per minute.", headers)
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
        return {
            "avgPrice": "0.0",
            "clientOrderId": o.client_order_id or f"fake{o.order_id}",
            "cumQty": "0",
            "cumBase": "0",
            "executedQty": o.qty if status == "FILLED" else "0",
            "orderId": int(o.order_id) if o.order_id.isdigit() else o.order_id,
            "origQty": o.qty,
            "origType": "LIMIT",
            "price": o.price,
            "reduceOnly": False,
            "side": o.side,
            "positionSide": "BOTH",
            "status": status,
            "stopPrice": "0",
            "closePosition": False,
            "symbol": o.symbol,
            "pair": o.symbol.split("_")[0],
            "timeInForce": "GTC",
            "type": "LIMIT",
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
        status = {"open": "NEW", "cancelling": "NEW", "filled": "FILLED", "cancelled": "CANCELED"}[order.status]
        return json_reply(self._order_json(order, status))

    def time(self, req: FakeRequest, ctx: Context) -> Reply:
        return json_reply({"serverTime": ctx.now_ms()})

    def cancel_all(self, req: FakeRequest, ctx: Context) -> Reply:
        params, denied = self._authenticate(req, ctx)
        if denied:
            return denied
        for order in ctx.ledger.open_orders(self.venue, params.get("symbol")):
            ctx.cancel(order)
        return json_reply({"code": 200, "msg": "The operation of cancel all open order is done."})
