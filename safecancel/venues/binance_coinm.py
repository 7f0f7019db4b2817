"""Binance COIN-M futures: ``DELETE /dapi/v1/batchOrders``.

Docs: https://developers.binance.com/docs/derivatives/coin-margined-futures/trade/rest-api/Cancel-Multiple-Orders
(``shared/venues.md`` §2). Every parameter travels in the query string; the signature is
``hex(HMAC-SHA256(secret, query))`` over the exact encoded query that is sent, appended last.

Reply mapping (§2.5, §6): the 200 reply is an array whose order objects are matched to our orders
**by id**, never by position (the ordering is UNCONFIRMED); error elements (``{"code":-2011,...}``)
carry no id, so every order left unmatched becomes ``unknown`` and is settled by a query. A
whole-request ``{"code": -2011 | -2013, ...}`` object (rather than the array) is a per-order answer
given to the whole batch: every order becomes ``unknown`` and is queried.

Only Binance's own word settles anything: its error shape is ``{"code": <int>, "msg": "<text>"}``
(general-info "Error Codes"). A reply whose body is not that shape nor the documented success shape
(a proxy's HTML page, an empty or truncated body, another API's JSON) is classified by its status
alone: 429/418 rate limited, 401/403 auth, 503 with "Service Unavailable." / "unable to process"
not processed (§2.5), any other 4xx REJECTED (the request was refused before Binance's API saw it),
2xx, 408, 5xx UNKNOWN_OUTCOME. ``-2013`` "Order does not exist." on a query is ``not_found`` only in
that shape.

Ids (validated before anything is stored): ``orderIdList`` is LIST<LONG> (seed 001) and the query's
``orderId`` LONG, so an order id is a canonical decimal 1..2**63-1 (:data:`ORDER_ID_MAX`): ASCII
digits, no leading zero. Client ids follow the documented ``newClientOrderId`` pattern
(``[.A-Z:/a-z0-9_-]{1,36}``, ASCII); symbols ``PAIR_PERP`` or ``PAIR_YYMMDD`` in ASCII.
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
    INT64_MAX,
    IdFormat,
    Rate,
    VenueAdapter,
    check_refs,
    chunk_by,
    compact_json,
    decimal_id_re,
    foreign_reply_failure,
    hmac_hex,
    load_json,
    names_another_order,
    retry_after_seconds,
    str_or_none,
)

# COIN-M symbols are a pair plus a delivery suffix: BTCUSD_PERP, ETHUSD_251226.
# ASCII only: "\d" would also accept "２５１２２６".
SYMBOL_RE = re.compile(r"[A-Z0-9]{2,20}_(PERP|[0-9]{6})", re.ASCII)
# orderIdList is LIST<LONG> (seed 001, sent as JSON numbers: change log 2023-06-16); query orderId LONG.
ORDER_ID_MAX = INT64_MAX
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)
CLIENT_ID_MAX_LEN = 36
CLIENT_ID_RE = re.compile(rf"[.A-Z:/a-z0-9_-]{{1,{CLIENT_ID_MAX_LEN}}}", re.ASCII)  # newClientOrderId's pattern
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected e.g. BTCUSD_PERP or BTCUSD_251226",
    ORDER_ID_RE,
    "orderId",
    f"numeric (LONG: ASCII digits, no leading zero, 1..{ORDER_ID_MAX})",
    CLIENT_ID_RE,
    "origClientOrderId",
    "1-36 of A-Z a-z 0-9 . : / _ -",
    ORDER_ID_MAX,
    client_id_max_len=CLIENT_ID_MAX_LEN,
)

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

# Each outcome carries the venue's own status word as its message (Binance has no status code).
QUERY_STATUS = {
    "NEW": Outcome(Verdict.OPEN, None, None, "NEW"),
    "PARTIALLY_FILLED": Outcome(Verdict.OPEN, None, None, "PARTIALLY_FILLED"),
    "FILLED": Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED"),
    "CANCELED": Outcome(Verdict.CANCELLED, None, None, "CANCELED"),
    "EXPIRED": Outcome(Verdict.FAILED, REASON_EXPIRED, None, "EXPIRED"),
    "EXPIRED_IN_MATCH": Outcome(Verdict.FAILED, REASON_EXPIRED, None, "EXPIRED_IN_MATCH"),
}
# Per-order answers that may come back as the whole reply instead of an array element.
PER_ORDER_CODES = frozenset({CODE_UNKNOWN_ORDER, CODE_NO_SUCH_ORDER})


class BinanceCoinM(VenueAdapter):
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
    example_symbol: ClassVar[str] = "BTCUSD_PERP"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = MAX_BATCH
    hard_max_batch: ClassVar[int] = MAX_BATCH
    # -2013 is definitive for a live job (one answer settles it: the default), but dapi drops
    # cancelled/expired orders without fills 3 days after creation (§2.6): past that, "not found" proves nothing.
    forget_after_s: ClassVar[float | None] = 3 * 24 * 3600.0

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
            code = _own_error_code(data)
            if code in PER_ORDER_CODES and 200 <= resp.status < 500:
                # "Unknown order sent." for the batch as a whole: unknown id, or already filled,
                # cancelled or expired -- for which order is not said. The query settles each one.
                msg = str_or_none(data.get("msg"))
                return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(code), msg) for ref in refs}
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
            element = (
                by_id.get(ref.order_id or "") if ref.kind is IdKind.ORDER_ID else by_cid.get(ref.client_order_id or "")
            )
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
            status = data["status"]
            outcome = QUERY_STATUS.get(status) if isinstance(status, str) else None
            if outcome is None:  # a status we do not know: keep asking, never guess
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {str(status)[:40]!r}")
            return outcome
        if _own_error_code(data) == CODE_NO_SUCH_ORDER and 200 <= resp.status < 500:
            # "Order does not exist." in Binance's own error shape (HTTP 400 in practice).
            msg = data["msg"]
            if names_another_order(msg, ref):
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(CODE_NO_SUCH_ORDER), msg[:200])
            return Outcome(Verdict.FAILED, REASON_NOT_FOUND, str(CODE_NO_SUCH_ORDER), msg[:200])
        return self._failure(resp, data)

    def _failure(self, resp: HttpResponse, data: Any) -> Failure:
        status = resp.status
        code = _own_error_code(data)
        if code is None:
            # Not Binance's word (an HTML page, an empty or truncated body, another API's JSON, an
            # order object where the array was due): the status decides, in plain words.
            if status == 503 and not isinstance(data, (dict, list)):
                text = resp.text(200).lower()
                if any(s in text for s in NOT_PROCESSED_503):
                    return Failure(FailureKind.NOT_PROCESSED, None, "HTTP 503: service unavailable", status)
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        msg = data["msg"][:200]
        scode = str(code)
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
        if status == 503 and any(s in msg.lower() for s in NOT_PROCESSED_503):
            return Failure(FailureKind.NOT_PROCESSED, scode, msg, status)
        if 400 <= status < 500 and status != 408:
            # Binance's own error code on a 4xx: the request was refused as a whole.
            return Failure(FailureKind.REJECTED, scode, msg, status)
        # An error code on a 2xx, a 5xx, a timeout or an odd status may have been applied: query.
        return Failure(FailureKind.UNKNOWN_OUTCOME, scode, msg or "error reply", status)


def _own_error_code(data: Any) -> int | None:
    """The code of Binance's own error shape ``{"code": <int>, "msg": "<text>"}``, else None."""
    if not isinstance(data, dict):
        return None
    code = data.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(data.get("msg"), str):
        return None
    return code


def _about(ref: OrderRef, order: dict[str, Any]) -> bool:
    """False only when the reply names a different order than the one asked about."""
    field, value = ("orderId", ref.order_id) if ref.kind is IdKind.ORDER_ID else ("clientOrderId", ref.client_order_id)
    got = order.get(field)
    return got is None or str(got) == value
