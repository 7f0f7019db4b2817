"""Binance COIN-M futures: ``DELETE /dapi/v1/batchOrders``.

Docs: https://developers.binance.com/docs/derivatives/coin-margined-futures/trade/rest-api/Cancel-Multiple-Orders
(``shared/venues.md`` §2). Every parameter travels in the query string; the signature is
``hex(HMAC-SHA256(secret, query))`` over the exact encoded query that is sent, appended last.

Reply mapping (§2.5, §6): the 200 reply is an array whose order objects are matched to our orders
**by id**, never by position (the ordering is UNCONFIRMED); error elements (``{"code":-2011,...}``)
carry no id, so every order left unmatched becomes ``unknown`` and is settled by a query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

from ..model import (
    REASON_AMBIGUOUS,
    REASON_EXPIRED,
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
    IdFormat,
    Rate,
    batch_size,
    check_refs,
    chunk_by,
    compact_json,
    hmac_hex,
    load_json,
    retry_after_seconds,
    str_or_none,
)

# COIN-M symbols are a pair plus a delivery suffix: BTCUSD_PERP, ETHUSD_251226.
SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,20}_(PERP|\d{6})$")
ORDER_ID_RE = re.compile(r"^[0-9]{1,19}$")  # LIST<LONG>: numbers, never strings (change log 2023-06-16)
CLIENT_ID_RE = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")  # newClientOrderId's documented pattern
ID_FORMAT = IdFormat(SYMBOL_RE, "expected e.g. BTCUSD_PERP or BTCUSD_251226", ORDER_ID_RE, "orderId", "numeric",
                  CLIENT_ID_RE, "origClientOrderId", "1-36 of A-Z a-z 0-9 . : / _ -")

MAX_BATCH = 10  # "max length 10" for each list (seed 001)
RECV_WINDOW_MS = 5000

# Error codes, https://developers.binance.com/docs/derivatives/coin-margined-futures/error-code
CODE_UNKNOWN_ORDER = -2011  # CANCEL_REJECTED: unknown id, or already filled/cancelled/expired
CODE_NO_SUCH_ORDER = -2013  # query: "Order does not exist."
CODE_TIMESTAMP = -1021
AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
NOT_PROCESSED_CODES = frozenset({-1001, -1008})  # "unable to process" / throttled: nothing applied
UNKNOWN_OUTCOME_CODES = frozenset({-1006, -1007})  # "execution status unknown"
RATE_CODES = frozenset({-1003})
# 503 bodies: "Service Unavailable." and "Internal error; unable to process..." were not applied;
# "Unknown error, please check your request or try again later." may have been (§2.5).
NOT_PROCESSED_503 = ("service unavailable", "unable to process")

QUERY_STATUS = {
    "NEW": Outcome(Verdict.OPEN),
    "PARTIALLY_FILLED": Outcome(Verdict.OPEN),
    "FILLED": Outcome(Verdict.FAILED, REASON_FILLED),
    "CANCELED": Outcome(Verdict.CANCELLED),
    "EXPIRED": Outcome(Verdict.FAILED, REASON_EXPIRED),
    "EXPIRED_IN_MATCH": Outcome(Verdict.FAILED, REASON_EXPIRED),
}


class BinanceCoinM:
    """Adapter for Binance COIN-M futures (``dapi``)."""

    name: ClassVar[str] = "binance_coinm"
    default_base_url: ClassVar[str] = "https://dapi.binance.com"
    testnet_base_url: ClassVar[str] = "https://testnet.binancefuture.com"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset({"x-mbx-apikey"})
    secret_params: ClassVar[frozenset[str]] = frozenset({"signature"})
    # ORDERS limit 1200/min (authoritative values come from /dapi/v1/exchangeInfo), §2.4.
    cancel_rate: ClassVar[Rate] = Rate(1200, 60.0)
    query_rate: ClassVar[Rate] = Rate(1200, 60.0)
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    # -2013 is definitive for a live job, but dapi drops cancelled/expired orders without fills
    # 3 days after creation (§2.6): past that, "not found" proves nothing.
    not_found_confirmations: ClassVar[int] = 1
    forget_after_s: ClassVar[float | None] = 3 * 24 * 3600.0

    def __init__(self, base_url: str | None = None, *, max_batch: int | None = None) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.max_batch = batch_size(self.name, max_batch, default=MAX_BATCH, hard_max=MAX_BATCH)

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        check_refs(self.name, refs, ID_FORMAT)

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # One symbol and one list kind per request: sending both lists at once is UNCONFIRMED.
        return chunk_by(refs, self.max_batch)

    # -- signing -----------------------------------------------------------------------------

    def _signed(self, params: list[tuple[str, str]], creds: Credentials, now_ms: int) -> tuple[str, dict[str, str]]:
        params = [*params, ("recvWindow", str(RECV_WINDOW_MS)), ("timestamp", str(now_ms))]
        # urlencode percent-encodes [ ] " , exactly as the docs ask (%5B %5D %22 %2C); the
        # encoded string is what gets signed and sent, byte for byte.
        query = urlencode(params)
        query += "&signature=" + hmac_hex(creds.api_secret, query)
        return query, {"X-MBX-APIKEY": creds.api_key}

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        symbol = refs[0].symbol
        if refs[0].kind is IdKind.ORDER_ID:
            listing = ("orderIdList", compact_json([int(r.order_id) for r in refs]))  # type: ignore[arg-type]
        else:
            listing = ("origClientOrderIdList", compact_json([r.client_order_id for r in refs]))
        query, headers = self._signed([("symbol", symbol), listing], creds, now_ms)
        return HttpRequest("DELETE", "/dapi/v1/batchOrders", query, None, headers, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        ident = ("orderId", ref.order_id) if ref.kind is IdKind.ORDER_ID else ("origClientOrderId", ref.client_order_id)
        query, headers = self._signed([("symbol", ref.symbol), ident], creds, now_ms)  # type: ignore[list-item]
        return HttpRequest("GET", "/dapi/v1/order", query, None, headers, "query")

    def build_time(self) -> HttpRequest:
        return HttpRequest("GET", "/dapi/v1/time", endpoint="time")

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        data = load_json(resp)
        value = data.get("serverTime") if resp.status == 200 and isinstance(data, dict) else None
        # bool is an int in Python: a JSON `true` is not a clock, nor is zero or a negative number.
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, list):
            return self._failure(resp, data)
        by_id: dict[str, dict[str, Any]] = {}
        by_cid: dict[str, dict[str, Any]] = {}
        errors: list[dict[str, Any]] = []
        for element in data:
            if not isinstance(element, dict):
                continue
            if "orderId" in element or "clientOrderId" in element:
                if element.get("orderId") is not None:
                    by_id[str(element["orderId"])] = element
                if element.get("clientOrderId") is not None:
                    by_cid[str(element["clientOrderId"])] = element
            elif "code" in element:
                errors.append(element)
        # The error elements' codes are kept on the unmatched orders as evidence, not as a verdict:
        # -2011 also means "already cancelled", and which order an element belongs to is not known.
        err_code = str_or_none(errors[0].get("code")) if errors else None
        err_msg = str_or_none(errors[0].get("msg")) if errors else None
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            element = by_id.get(ref.order_id or "") if ref.kind is IdKind.ORDER_ID else by_cid.get(ref.client_order_id or "")
            if element is None:
                reason = REASON_AMBIGUOUS if errors else REASON_OMITTED
                out[ref] = Outcome(Verdict.UNKNOWN, reason, err_code, err_msg)
            elif element.get("status") == "CANCELED":
                out[ref] = Outcome(Verdict.CANCELLED)
            else:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {element.get('status')!r}")
        return out

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        data = load_json(resp)
        if resp.status == 200 and isinstance(data, dict) and "status" in data:
            if not _about(ref, data):
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the reply describes another order")
            outcome = QUERY_STATUS.get(str(data["status"]))
            if outcome is None:  # a status we do not know: keep asking, never guess
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {data['status']!r}")
            return outcome
        if isinstance(data, dict) and data.get("code") == CODE_NO_SUCH_ORDER:
            return Outcome(Verdict.FAILED, REASON_NOT_FOUND, str(CODE_NO_SUCH_ORDER), str_or_none(data.get("msg")))
        return self._failure(resp, data)

    def _failure(self, resp: HttpResponse, data: Any) -> Failure:
        code = data.get("code") if isinstance(data, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            code = None if code is None else str(code)  # never a list or an object: the code sets hash it
        msg = str_or_none(data.get("msg")) if isinstance(data, dict) else resp.text(200)
        scode = str_or_none(code)
        status = resp.status
        if status == 418 or status == 429 or code in RATE_CODES:
            # 418 is an IP ban after ignored 429s; Retry-After is honoured when present (UNCONFIRMED on dapi).
            return Failure(FailureKind.RATE_LIMITED, scode, msg, status, retry_after_seconds(resp))
        if code == CODE_TIMESTAMP:
            return Failure(FailureKind.CLOCK, scode, msg, status)
        if code in AUTH_CODES or status in (401, 403):
            return Failure(FailureKind.AUTH, scode, msg, status)
        if code in NOT_PROCESSED_CODES:
            return Failure(FailureKind.NOT_PROCESSED, scode, msg, status)
        if code in UNKNOWN_OUTCOME_CODES:
            return Failure(FailureKind.UNKNOWN_OUTCOME, scode, msg, status)
        if status == 503 and msg and any(s in msg.lower() for s in NOT_PROCESSED_503):
            return Failure(FailureKind.NOT_PROCESSED, scode, msg, status)
        if status >= 500 or status == 408 or data is None or status == 200:
            # A 5xx, a timeout, or a reply we cannot read may have been applied: query.
            return Failure(FailureKind.UNKNOWN_OUTCOME, scode, msg or "unreadable reply", status)
        return Failure(FailureKind.REJECTED, scode, msg, status)



def _about(ref: OrderRef, order: dict[str, Any]) -> bool:
    """False only when the reply names a different order than the one asked about."""
    field, value = ("orderId", ref.order_id) if ref.kind is IdKind.ORDER_ID else ("clientOrderId", ref.client_order_id)
    got = order.get(field)
    return got is None or str(got) == value
