"""BingX spot: ``POST /openApi/spot/v1/trade/cancelOrders``.

Docs: https://bingx-api.github.io/docs/#/en-us/spot/trade-api.html (Cancel multiple orders; seed 002),
https://bingx-api.github.io/docs/#/en-us/spot/authentication.html (``shared/venues.md`` §3, §6).

Request: every parameter in the query string, empty body (what the official demo and ccxt send).
Keys are sorted a-z; the signature is ``hex(HMAC-SHA256(secret, raw))`` over the **unencoded**
``k=v&...`` string (commas stay commas), and what is sent is the percent-encoded string
(``orderIds=1%2C2``) plus ``&signature=<hex>``. This is ccxt's way; BingX evidently verifies over
the decoded parameters, or ccxt's production traffic would fail (§3.2). Header ``X-BX-APIKEY``.
``process=1`` is always sent so one bad id does not fail the whole batch (default ``process=0``
fails everything when one id is invalid). ``orderIds`` and ``clientOrderIDs`` are never sent
together (mixing is UNCONFIRMED), and each request carries one symbol (``BTC-USDT``).

Reply mapping (§3.5, §6). BingX answers business errors with HTTP 200 and ``code != 0``:
- ``data.orders[]`` element with ``status`` ``CANCELED`` (or ``CANCELLED``), matched **by id**
  (``orderId`` is a JSON number there) -> ``cancelled``. Any other status -> ``unknown``/ambiguous.
- ``data.fails[]`` element (``orderId`` is a string there, the error is free text such as
  "can not find order for orderId:..."; filled, cancelled and never-existed are indistinguishable)
  -> ``unknown``/ambiguous: the query decides.
- a requested id in neither list -> ``unknown``/omitted. An id in both -> ``unknown``/ambiguous.
- whole-request codes: ``80014``/``100421`` CLOCK (``80014`` only when the message is about the
  timestamp: ccxt shows it also used for invalid parameters), ``100001``/``100412``/``100413``/
  ``100419``/``100004``/``100414`` AUTH, ``100410`` RATE_LIMITED, ``100503`` NOT_PROCESSED,
  ``100400`` REJECTED unless its message is one of the documented "busy / once per second" texts
  (NOT_PROCESSED), ``100404``/``80016`` ("order not exist" / "FILLED or CANCELLED already")
  -> every order ``unknown``/ambiguous; anything else on HTTP 200 -> UNKNOWN_OUTCOME.
- only BingX's own envelope (``{"code": <int or numeric string>, "msg": ...}``) is BingX's word. Any
  other body (a proxy's HTML page, an empty or truncated body, another API's JSON) settles no order:
  its status decides -- 429/418 rate limited, 401/403 auth, any other 4xx REJECTED (refused before
  BingX's API answered: check the base URL), 2xx, 408 and 5xx UNKNOWN_OUTCOME -- with a message
  saying in plain words what came back.

Ids (validated before anything is stored): ``orderId`` is int64 in the docs (seed 002 response table,
"orderId int64"), so an order id is a canonical decimal 1..2**63-1 (:data:`ORDER_ID_MAX`): ASCII digits,
no leading zero. Query outcomes carry BingX's status word (``FILLED``, ``CANCELED``) as their message.

Rate-limit ``retry_after``: ``100410`` messages carry the absolute unblock time in ms ("...will be
unblocked after 1727193814249", "...can retry after time: 1727193970155"). The adapter reads no
clock, so it measures that instant against the venue's own clock *in the same reply*: the body's
``timestamp`` field (present on BingX error bodies, e.g. ccxt#24131) or else the HTTP ``Date``
header (1 s resolution, which can only lengthen the wait). A ``Retry-After`` header wins when
present. With no reference time, ``retry_after`` is None and the unblock time stays in the message.

UNCONFIRMED choices (each a named constant below):
- ``DEFAULT_MAX_BATCH`` = 10 ids per request (the spot limit is undocumented; 10 is the documented
  limit of BingX's sibling swap batch-cancel), overridable up to ``HARD_MAX_BATCH`` = 100.
- ``100500`` ("We had a problem with our server") is UNKNOWN_OUTCOME, not NOT_PROCESSED as §6's
  "RETRY" row suggests: nothing proves a server fault happened before the batch was applied, and
  querying costs little. ``100503`` ("Server busy") is NOT_PROCESSED as §6 says.
- Query "not found" is ``100404`` (" order not exist", seen live by OctoBot's BingX connector) or
  ``80016`` (ccxt: OrderNotFound). By ``orderId`` it means FAILED/not_found. Risk: users report
  closed orders that ``trade/query`` sometimes does not find (ccxt#19563); such an order would be
  recorded ``failed``/not_found instead of cancelled or filled -- never wrongly ``cancelled``, and
  no report says an *open* order goes missing. By ``clientOrderID`` it is only ``unknown``:
  the docs limit clientOrderID queries to a 2-hour range, so an older order -- possibly still
  open -- is "not found" too, and calling that final could leave a live order resting.
- Server time shape: ``{"code":0,"data":{"serverTime":ms}}`` (swap's documented shape) and a
  top-level ``serverTime`` are both accepted, as a number or a numeric string.
- Client order ids are matched exactly (BingX swap lower-cases them; if spot did too, the reply
  would not match and the order would be queried, which is safe).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlencode

from ..errors import InputError
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
    decimal_id_re,
    foreign_reply_failure,
    hmac_hex,
    load_json,
    names_another_order,
    retry_after_seconds,
    str_or_none,
)

PATH_CANCEL = "/openApi/spot/v1/trade/cancelOrders"
PATH_QUERY = "/openApi/spot/v1/trade/query"
PATH_TIME = "/openApi/spot/v1/server/time"

# "Trading pair, e.g., BTC-USDT": upper-case base and quote joined by a hyphen (seed 002).
SYMBOL_RE = re.compile(r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}", re.ASCII)
ORDER_ID_MAX = INT64_MAX  # "orderId int64" (seed 002 response table; query docs)
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)
# clientOrderID: "1 to 40" characters (query docs). The charset is ours: no comma (the list
# separator), nothing that would be ambiguous in the raw, unencoded string that gets signed.
CLIENT_ID_MAX_LEN = 40
CLIENT_ID_RE = re.compile(rf"[A-Za-z0-9_.:-]{{1,{CLIENT_ID_MAX_LEN}}}", re.ASCII)
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected e.g. BTC-USDT",
    ORDER_ID_RE,
    "orderId",
    f"a positive integer (int64: ASCII digits, no leading zero, 1..{ORDER_ID_MAX})",
    CLIENT_ID_RE,
    "clientOrderID",
    "1-40 characters of A-Z a-z 0-9 _ . : -",
    ORDER_ID_MAX,
    client_id_max_len=CLIENT_ID_MAX_LEN,
)

DEFAULT_MAX_BATCH = 10  # UNCONFIRMED (spot undocumented; swap batch-cancel documents 10)
HARD_MAX_BATCH = 100  # UNCONFIRMED: what a caller may raise max_batch to, at their own risk
RECV_WINDOW_MS = 5000  # the documented default
PROCESS_PARTIAL = "1"  # process=1: valid ids are cancelled, invalid ones listed in data.fails
CLIENT_ID_QUERY_WINDOW_MS = 2 * 60 * 60 * 1000  # "Only supports a query range of 2 hours"

# Whole-request codes (cancel docs' Errors table, common error codes; ccxt's exception map).
CODE_OK = 0
CODE_TIMESTAMP_INVALID = 80014  # "timestamp is invalid" -- also used for invalid parameters (ccxt)
CODE_TIMESTAMP_MISMATCH = 100421  # "Null timestamp or timestamp mismatch"
CODE_RATE_LIMITED = 100410
CODE_INVALID_PARAMETER = 100400
CODE_SERVER_PROBLEM = 100500
CODE_SERVER_BUSY = 100503
AUTH_CODES = frozenset(
    {
        100001,  # signature verification failed
        100004,  # permission denied (key lacks the permission)
        100412,  # null signature
        100413,  # incorrect / null apiKey
        100414,  # account abnormal
        100419,  # IP not in the whitelist
    }
)
NOT_PROCESSED_CODES = frozenset({CODE_SERVER_BUSY})
UNKNOWN_OUTCOME_CODES = frozenset({CODE_SERVER_PROBLEM})  # UNCONFIRMED, see the module docstring
# "order not exist" (100404, OctoBot's BingX connector) / "Order does not exist" (80016, ccxt).
ORDER_NOT_FOUND_CODES = frozenset({100404, 80016})
# 100400 texts that say "try again", not "your request is wrong" (common error codes page).
TRANSIENT_100400_TEXTS = ("busy", "try again", "once per second")
TIMESTAMP_WORD = "timestamp"
# "...will be unblocked after 1727193814249" / "...can retry after time: 1727193970155"
INT_TEXT_RE = re.compile(r"-?[0-9]{1,20}")  # codes and times arrive as numbers or numeric strings
UNBLOCK_RE = re.compile(r"after(?:\s+time)?\s*:?\s*([0-9]{12,14})", re.ASCII)

CANCELLED_STATUSES = frozenset({"CANCELED", "CANCELLED"})  # ccxt accepts both spellings
QUERY_STATUS = MappingProxyType(
    {
        # Each outcome carries BingX's own status word as its message (there is no status code).
        "NEW": Outcome(Verdict.OPEN, None, None, "NEW"),
        "PENDING": Outcome(Verdict.OPEN, None, None, "PENDING"),
        "PARTIALLY_FILLED": Outcome(Verdict.OPEN, None, None, "PARTIALLY_FILLED"),
        "RUNNING": Outcome(Verdict.OPEN, None, None, "RUNNING"),  # ccxt: an open (trigger) order
        "FILLED": Outcome(Verdict.FAILED, REASON_FILLED, None, "FILLED"),
        "CANCELED": Outcome(Verdict.CANCELLED, None, None, "CANCELED"),
        "CANCELLED": Outcome(Verdict.CANCELLED, None, None, "CANCELLED"),
        # The venue ended the order itself (it never rested, or was rejected): nothing to cancel,
        # and it was not our cancel, so it is not "cancelled".
        "FAILED": Outcome(Verdict.FAILED, REASON_EXPIRED, None, "FAILED"),
    }
)
# What a query's "order not exist" means, per id kind (UNCONFIRMED; see the module docstring).
QUERY_NOT_FOUND = MappingProxyType(
    {
        IdKind.ORDER_ID: Outcome(Verdict.FAILED, REASON_NOT_FOUND),
        IdKind.CLIENT_ORDER_ID: Outcome(
            Verdict.UNKNOWN,
            REASON_AMBIGUOUS,
            None,
            f"not found by clientOrderID; BingX searches only {CLIENT_ID_QUERY_WINDOW_MS // 3_600_000} hours back "
            "by clientOrderID, so an older order may still exist",
        ),
    }
)

# Fields that name an order in orders[] / fails[] elements (ccxt sample, JK-25 capture).
ORDER_ID_FIELDS = ("orderId",)
CLIENT_ID_FIELDS = ("clientOrderID", "clientOrderId", "origClientOrderId")


class BingX(VenueAdapter):
    """Adapter for BingX spot."""

    name: ClassVar[str] = "bingx"
    default_base_url: ClassVar[str] = "https://open-api.bingx.com"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset({"x-bx-apikey"})
    secret_params: ClassVar[frozenset[str]] = frozenset({"signature"})
    cancel_rate: ClassVar[Rate] = Rate(2, 1.0)  # "rate limitation by UID: 2/s" (seed 002)
    query_rate: ClassVar[Rate] = Rate(10, 1.0)  # trade/query: 10/s per UID
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    example_symbol: ClassVar[str] = "BTC-USDT"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = DEFAULT_MAX_BATCH
    hard_max_batch: ClassVar[int] = HARD_MAX_BATCH

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        check_refs(self.name, refs, ID_FORMAT)

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # One symbol and one id kind per request: the endpoint takes one symbol, and sending
        # orderIds and clientOrderIDs together is UNCONFIRMED.
        groups: dict[tuple[str, IdKind], list[OrderRef]] = {}
        for ref in refs:
            groups.setdefault((ref.symbol, ref.kind), []).append(ref)
        return [g[i : i + self.max_batch] for g in groups.values() for i in range(0, len(g), self.max_batch)]

    # -- signing -----------------------------------------------------------------------------

    def _signed(self, params: Mapping[str, str], creds: Credentials, now_ms: int) -> tuple[str, dict[str, str]]:
        items = sorted({**params, "recvWindow": str(RECV_WINDOW_MS), "timestamp": str(int(now_ms))}.items())
        raw = "&".join(f"{k}={v}" for k, v in items)  # signed as is: unencoded, commas and all
        query = urlencode(items) + "&signature=" + hmac_hex(creds.api_secret, raw)
        return query, {"X-BX-APIKEY": creds.api_key}

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        if not refs:
            raise InputError("bingx: a cancel request needs at least one order")
        first = refs[0]
        if any(r.symbol != first.symbol or r.kind is not first.kind for r in refs):
            raise InputError("bingx: one request carries one symbol and one id kind; use plan_chunks()")
        if len(refs) > self.max_batch:
            raise InputError(f"bingx: {len(refs)} orders exceed the batch limit of {self.max_batch}")
        field = "orderIds" if first.kind is IdKind.ORDER_ID else "clientOrderIDs"
        params = {"symbol": first.symbol, "process": PROCESS_PARTIAL, field: ",".join(r.value for r in refs)}
        query, headers = self._signed(params, creds, now_ms)
        return HttpRequest("POST", PATH_CANCEL, query, None, headers, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        field = "orderId" if ref.kind is IdKind.ORDER_ID else "clientOrderID"
        query, headers = self._signed({"symbol": ref.symbol, field: ref.value}, creds, now_ms)
        return HttpRequest("GET", PATH_QUERY, query, None, headers, "query")

    def build_time(self) -> HttpRequest:
        return HttpRequest("GET", PATH_TIME, endpoint="time")

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict):
            return None
        inner = data.get("data")
        candidates = (inner.get("serverTime") if isinstance(inner, dict) else None, data.get("serverTime"))
        for value in candidates:
            ms = _as_int(value)
            if ms is not None and ms > 0:
                return ms
        return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != CODE_OK:
            if resp.status == 200 and code in ORDER_NOT_FOUND_CODES:
                # Whole-request "not exist / FILLED or CANCELLED already": under process=0 nothing
                # was applied, under process=1 every id was bad. The query tells which orders remain.
                msg = _msg(data)
                return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(code), msg) for ref in refs}
            return self._failure(resp, data, code)
        payload = data.get("data")
        if not isinstance(payload, dict):
            return Failure(FailureKind.UNKNOWN_OUTCOME, "0", "success reply without a data object", resp.status)
        orders = payload.get("orders")
        fails = payload.get("fails")
        orders = [e for e in orders if isinstance(e, dict)] if isinstance(orders, list) else []
        fails = [e for e in fails if isinstance(e, dict)] if isinstance(fails, list) else []

        def named(elements: list[dict[str, Any]], ref: OrderRef) -> list[int]:
            fields = ORDER_ID_FIELDS if ref.kind is IdKind.ORDER_ID else CLIENT_ID_FIELDS
            return [i for i, e in enumerate(elements) if _names(e, fields, ref.value)]

        done = {ref: named(orders, ref) for ref in refs}
        failed = {ref: named(fails, ref) for ref in refs}
        # An element that names two of our orders (one by clientOrderID, another by
        # origClientOrderId, say) settles neither.
        claims: dict[int, int] = {}
        for indices in done.values():
            for i in indices:
                claims[i] = claims.get(i, 0) + 1
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            if failed[ref]:
                # Free text only; "can not find order" covers filled, cancelled and unknown alike.
                first = fails[failed[ref][0]]
                error = str_or_none(first.get("error") or first.get("msg"))
                note = error if not done[ref] else f"listed in both orders and fails: {error}"
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, note)
            elif not done[ref]:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED)
            elif len(done[ref]) > 1:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "listed more than once in orders")
            elif claims[done[ref][0]] > 1:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "one reply element names several orders")
            else:
                out[ref] = self._cancelled_element(ref, orders[done[ref][0]])
        return out

    def _cancelled_element(self, ref: OrderRef, element: Mapping[str, Any]) -> Outcome:
        symbol = element.get("symbol")
        if symbol is not None and symbol != ref.symbol:
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"reply names symbol {symbol!r}")
        status = element.get("status")
        if isinstance(status, str) and status in CANCELLED_STATUSES:
            return Outcome(Verdict.CANCELLED)
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {status!r}")

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        data = load_json(resp)
        code = _code(data)
        if resp.status == 200 and code in ORDER_NOT_FOUND_CODES and isinstance(data.get("msg"), str):
            # "order not exist" in BingX's own envelope (BingX answers errors with HTTP 200).
            found = QUERY_NOT_FOUND[ref.kind]
            msg = _msg(data)
            if names_another_order(msg, ref):
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(code), (msg or "")[:200])
            return Outcome(found.verdict, found.reason, str(code), (msg or found.message or "")[:200])
        if resp.status != 200 or code != CODE_OK:
            return self._failure(resp, data, code)
        order = data.get("data")
        if not isinstance(order, dict) or "status" not in order:
            # "Success" without an order: we cannot tell what it means, so it settles nothing.
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, "0", "query reply without an order")
        fields = ORDER_ID_FIELDS if ref.kind is IdKind.ORDER_ID else CLIENT_ID_FIELDS
        named = [f for f in fields if order.get(f) not in (None, "")]
        if named and not _names(order, fields, ref.value):
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the reply is about another order")
        symbol = order.get("symbol")
        if symbol is not None and symbol != ref.symbol:
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"reply names symbol {symbol!r}")
        status = order.get("status")
        outcome = QUERY_STATUS.get(status) if isinstance(status, str) else None
        if outcome is None:  # a status we do not know: keep asking, never guess
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {str(status)[:40]!r}")
        return outcome

    def _failure(self, resp: HttpResponse, data: Any, code: int | None) -> Failure:
        status = resp.status
        if code is None:
            # Not BingX's envelope (an HTML page, an empty or truncated body, another API's JSON): the
            # status decides, in plain words. BingX itself answers business errors with HTTP 200 + code.
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        full = _msg(data)
        msg = full[:200] if full is not None else None
        scode = str(code)
        if code == CODE_RATE_LIMITED or status in (429, 418):
            return Failure(FailureKind.RATE_LIMITED, scode, msg, status, _retry_after(resp, data, full))
        if code == CODE_TIMESTAMP_MISMATCH:
            return Failure(FailureKind.CLOCK, scode, msg, status)
        if code == CODE_TIMESTAMP_INVALID:
            # 80014 is "timestamp is invalid" on the cancel page, but ccxt shows it for invalid
            # parameters too: only a timestamp complaint is worth re-measuring the clock for.
            kind = FailureKind.CLOCK if not msg or TIMESTAMP_WORD in msg.lower() else FailureKind.REJECTED
            return Failure(kind, scode, msg, status)
        if code in AUTH_CODES:
            return Failure(FailureKind.AUTH, scode, msg, status)
        if code in NOT_PROCESSED_CODES:
            return Failure(FailureKind.NOT_PROCESSED, scode, msg, status)
        if code == CODE_INVALID_PARAMETER:
            transient = bool(msg) and any(t in msg.lower() for t in TRANSIENT_100400_TEXTS)  # type: ignore[union-attr]
            return Failure(FailureKind.NOT_PROCESSED if transient else FailureKind.REJECTED, scode, msg, status)
        if code in UNKNOWN_OUTCOME_CODES or status >= 500 or status == 408 or status == 200:
            # A server fault, a timeout, or an unknown code on a 200 may have been applied: query
            # every order.
            return Failure(FailureKind.UNKNOWN_OUTCOME, scode, msg or "unreadable reply", status)
        if 400 <= status < 500:
            return Failure(FailureKind.REJECTED, scode, msg, status)
        return Failure(FailureKind.UNKNOWN_OUTCOME, scode, msg or "unexpected reply", status)


# -- small pure helpers --------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    """An integer from a JSON number or a numeric string (BingX sends both); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INT_TEXT_RE.fullmatch(value):
        return int(value)
    return None


def _code(data: Any) -> int | None:
    """The envelope's ``code`` (``0`` or ``"0"`` is success), or None when the body is not BingX's envelope.

    BingX's envelope is ``{"code": <int or numeric string>, "msg": "...", "data": ...}`` (§3.5); a body
    with a ``code`` but neither ``msg`` nor ``data`` (``{"code": 404, "message": "Not Found"}``) is some
    other server's, not BingX's word.
    """
    if not isinstance(data, dict) or ("msg" not in data and "data" not in data):
        return None
    return _as_int(data.get("code"))


def _msg(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    msg = data.get("msg")
    return str(msg) if msg not in (None, "") else None


def _names(element: Mapping[str, Any], fields: Sequence[str], value: str) -> bool:
    """Whether an element names this order in one of ``fields`` (numbers and strings alike)."""
    for f in fields:
        v = element.get(f)
        if isinstance(v, bool | float):  # a float id has lost digits: no match
            continue
        if isinstance(v, int | str) and str(v) == value:
            return True
    return False


def _retry_after(resp: HttpResponse, data: Any, msg: str | None) -> float | None:
    """Seconds to wait: ``Retry-After``, else the message's unblock time minus the reply's own time."""
    header = retry_after_seconds(resp)
    if header is not None:
        return header
    m = UNBLOCK_RE.search(msg or "")
    if m is None:
        return None
    unblock_ms = int(m.group(1))
    reference_ms = _as_int(data.get("timestamp")) if isinstance(data, dict) else None
    if reference_ms is None:
        reference_ms = _date_header_ms(resp)
    if reference_ms is None:
        return None
    return max(0.0, (unblock_ms - reference_ms) / 1000.0)


def _date_header_ms(resp: HttpResponse) -> int | None:
    raw = resp.header("date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return int(when.timestamp() * 1000)
