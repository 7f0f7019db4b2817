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
    rates = {"cancel": rate, "query": (600, 60.0)}  # query: the README's 600/min per IP (venues.md §1.4)

    def routes(self):
        return [
            ("PUT", CANCEL_RX, "cancel", self.batch_cancel),
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

    def _order_json(self, o: FakeOrder) -> dict:
        status = LEDGER_TO_STATUS[o.status]
        filled = status == 2
        return {
            "id": o.order_id,
            "pair": o.symbol.lower(),
            "price": o.price,
            "avgExecutionPrice": o.price if filled else "0",
            "action": o.side,
            "type": "LIMIT",
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
