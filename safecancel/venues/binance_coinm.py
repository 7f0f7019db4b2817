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

Listings
--------
OPEN -- ``GET /dapi/v1/openOrders`` ("Current All Open Orders", USER_DATA, signed like the rest):
``symbol`` and ``pair`` both optional (no symbol: every symbol), weight 1 with a symbol, 40 without. No
paging and no page size: the reply is the whole list, a JSON array of order objects (the shape of the
single-order query). Docs:
https://developers.binance.com/docs/derivatives/coin-margined-futures/trade/rest-api/Current-All-Open-Orders

CONDITIONAL -- not a list of its own here. The COIN-M reference documents STOP, STOP_MARKET, TAKE_PROFIT,
TAKE_PROFIT_MARKET and TRAILING_STOP_MARKET as ordinary ``/dapi/v1/order`` types that rest on the
open-orders list (its own sample is a TRAILING_STOP_MARKET order), so they are listed under OPEN and
marked ``conditional`` from their ``type``; :meth:`build_list` refuses CONDITIONAL.

HISTORY -- ``GET /dapi/v1/allOrders`` ("All Orders", USER_DATA): ``symbol`` or ``pair`` required (``pair``
cannot be sent with ``orderId``, so this adapter pages by ``symbol`` and HISTORY needs one), ``orderId``
("orders >= that orderId"), ``startTime``/``endTime`` (the period must be under 7 days; default the
recent 7 days), ``limit`` default 50, max 100 (always sent as 100: fewest requests). Weight 20 with a
symbol, 40 with a pair. Orders come back oldest first, every state included (NEW, PARTIALLY_FILLED,
FILLED, CANCELED, EXPIRED). Docs:
https://developers.binance.com/docs/derivatives/coin-margined-futures/trade/rest-api/All-Orders
Why this endpoint: it is the only COIN-M listing that returns final states, a cancel shows in it at
once (the venue cancels synchronously), and it reaches back as far as the venue keeps any order. Its
"not found by design" rule (venues.md §2.6, also on this page) sets :attr:`history_window_s`: an order
CANCELED or EXPIRED without fills disappears 3 days after it was *created*, so a history older than that
would silently lack exactly the cancelled orders; the window is 3 days (inside the 7-day range cap).
Absence from the history settles nothing: an order not listed is queried singly.

Paging (HISTORY only): page 1 asks ``startTime=since`` .. ``endTime=now``; a full page (100 orders,
there is no "more" flag) gives the cursor ``oid:<last orderId + 1>``, and the following pages ask
``orderId=<that>`` alone (within the default recent 7 days, which covers the 3-day window). Order ids
grow with creation on a symbol, so the pages walk forward in time without gaps or overlap.

Rates
-----
Two limits, as the COIN-M general info states them ("LIMITS", "IP Limits", "Order Rate Limits":
https://developers.binance.com/docs/derivatives/coin-margined-futures/general-info#limits):

- REQUEST_WEIGHT, per IP ("The limits on the API are based on the IPs, not the API keys"): every request
  spends its route's weight from one budget, 2400 per minute by default (Binance's FAQ "Rate Limits on
  Binance Futures", https://www.binance.com/en/support/faq/rate-limits-on-binance-futures-281596e222414cdd9051664ea621cdc3:
  "The default rate limit per IP is 2,400/min"), shared by dapi and fapi since the COIN-M / USDⓈ-M
  integration of 2026-06-30 (the notice on https://developers.binance.com/docs/derivatives/coin-margined-futures,
  §A.3). Weights, each from its own reference page: batch cancel 1 (Cancel-Multiple-Orders), query 1
  (Query-Order), open orders 1 with a symbol and 40 without (Current-All-Open-Orders), order history 20 with a
  symbol (All-Orders), cancel-all 1 (Cancel-All-Open-Orders), countdown 10 (Auto-Cancel-All-Open-Orders).
  :data:`REQUEST_WEIGHT` is that budget: cancels, queries and listings draw from it together, so together
  they stay inside it (separate per-endpoint rates could add up to more). One listing bucket paces every
  listing at the heaviest weight as used, 40, so :attr:`list_rate` is 2400 / 40 = 60 requests per minute.
- ORDERS, per account: 1200 per minute by default (the same FAQ: "the default order limit per
  account/sub-account is 1,200/min"; plus 300 per 10 s, which 1200/min never reaches), read by
  ``X-MBX-ORDER-COUNT-*`` headers on "every order response".

Whether a batch cancel counts against ORDERS is not settled by the docs (UNCONFIRMED). For it: the general info
says only "order response", without defining it. Against it: New-Order states "1 on 1min order rate
limit(X-MBX-ORDER-COUNT-1M); 0 on IP rate limit", while the three cancel pages state "Request Weight 1" and no
order count; the FAQ's fill ratio divides "executed orders" by "the total order count" (placed orders); ccxt
4.5.90 gives ``dapiPrivateDeleteBatchOrders`` a weight (cost 5 of its one 1200/min limiter) and no order count.
But the COIN-M Modify-Order page also states only "Request Weight 1" where the USDⓈ-M one states "1 on 10s order
rate limit ... 1 on 1min order rate limit ... 0 on IP rate limit", so a COIN-M page without an order count does
not prove the endpoint spends none. Hence :data:`PACING_OPTIONS`: ``"orders"`` (the default, the conservative
reading) paces batch cancels and cancel-all at the ORDERS limit, 1200 per minute, as well as from
REQUEST_WEIGHT; ``"weight"`` (``VenueConfig("binance_coinm", pacing="weight")``) paces them by REQUEST_WEIGHT
alone, up to 2400 per minute, about twice as fast. Under either, a 429/418 pauses every request that draws on
the paused budgets, Retry-After honoured (safecancel.policy): the net if the reading chosen is wrong.

Cancel-all
----------
``DELETE /dapi/v1/allOpenOrders`` ("Cancel All Open Orders", TRADE; docs:
https://developers.binance.com/docs/derivatives/coin-margined-futures/trade/rest-api/Cancel-All-Open-Orders):
``symbol`` (mandatory: there is no account-wide form, so :attr:`~BinanceCoinM.cancel_all_needs_symbol`),
``recvWindow``, ``timestamp``, signed like every other request (all parameters in the query string,
``signature`` last). Weight 1 of the per-IP REQUEST_WEIGHT budget; :attr:`~BinanceCoinM.cancel_all_rate` paces
it like the batch cancel (1200 per minute under the ORDERS reading, "Rates" above). The venue cancels synchronously and
answers ``{"code": 200, "msg": "The operation of cancel all open order is done."}``: no order is named, the
same words come back when nothing was open, and there is no paging, so :meth:`~BinanceCoinM.parse_cancel_all`
returns False (never "call again") or a classified failure. It never settles an order: what was cancelled is
learnt from the listings and queries afterwards. Trigger orders rest on the same open-orders list and are
cancelled by it too (the fake does so); orders in the Algo Service, if COIN-M has moved trigger orders there
(UNCONFIRMED, below), would not be. UNCONFIRMED: whether an empty book answers ``-2011`` instead (Binance
spot's answer); it is read as False, which is safe since the reply settles nothing either way.

Conditional orders
------------------
COIN-M keeps no separate list of conditional orders (:attr:`~BinanceCoinM.list_kinds` has no CONDITIONAL): the
reference documents its trigger types as ordinary ``/dapi/v1/order`` types that rest on the open-orders list,
are cancelled by ``batchOrders`` / ``allOpenOrders`` and are queried by ``GET /dapi/v1/order`` by their
``orderId`` / ``origClientOrderId`` like any other order. A listed trigger order is therefore marked
``conditional`` (for display and scoping) but its :meth:`~safecancel.model.ListedOrder.ref` is an ordinary
ref, and :meth:`~BinanceCoinM.validate` refuses an ``OrderRef`` with ``conditional=True``, naming it, rather
than guessing which endpoint such a ref could mean. The Algo Service endpoints that third parties name for
COIN-M (``DELETE /dapi/v1/algoOrder``, ``DELETE /dapi/v1/algoOpenOrders``, ``GET /dapi/v1/openAlgoOrders``)
have no COIN-M reference page and are not used (see the last-but-one UNCONFIRMED point below).

UNCONFIRMED (safe under both readings as noted):
- Whether ``startTime`` without ``orderId`` returns the *oldest* 100 orders from ``startTime`` (assumed:
  "data is returned in ascending order", and ccxt pages forward from ``since`` this way) or the *newest*
  100 of the period ("otherwise most recent orders are returned"). Under the second reading a window
  with more than 100 orders would lack its oldest ones on the history listing; those orders are then
  settled by single queries, never by their absence.
- Whether ``orderId`` without a time range is bounded by the default "recent 7 days" (assumed).
- The COIN-M / USDⓈ-M integration notice (§C.5, read only as quoted by third parties) names
  ``POST /dapi/v1/algoOrder``, ``GET /dapi/v1/openAlgoOrders`` and ``DELETE /dapi/v1/algoOrder`` for
  COIN-M conditional orders, and ccxt 4.5.90 calls ``openAlgoOrders`` / ``algoOpenOrders`` on dapi
  ("verified live ... missing from the documentation"). No COIN-M reference page documents their
  parameters, reply shape or paging (the official JS connector 19.0.0 of 2026-07-22 has none). If, as on
  USDⓈ-M since 2025-12, COIN-M trigger orders now live in that Algo Service, they appear on neither
  list read here and ``batchOrders`` / ``allOpenOrders`` do not cancel them: a listing that shows no
  open orders does not prove that no trigger order rests.
- Sample replies carry ``pair`` since 2026 and lost ``avgPrice``/``cumBase`` on the trade replies: only
  ``orderId``, ``symbol`` and ``status`` are relied on; the rest is read when present.

Countdown (dead-man switch)
---------------------------
``POST /dapi/v1/countdownCancelAll`` ("Auto-Cancel All Open Orders", TRADE; docs:
https://developers.binance.com/docs/derivatives/coin-margined-futures/trade/rest-api/Auto-Cancel-All-Open-Orders):
"Cancel all open orders of the specified symbol at the end of the specified countdown"; called again it
replaces the running countdown (a heartbeat), and ``countdownTime=0`` stops it. Parameters ``symbol``
(mandatory: one countdown per symbol, so :attr:`~BinanceCoinM.countdown_scope` is ``"symbol"`` and
:meth:`~BinanceCoinM.build_countdown` refuses None), ``countdownTime`` (LONG, **milliseconds**: "1000 for 1
second"; the adapter takes whole seconds and sends ``timeout_s * 1000``), ``recvWindow``, ``timestamp``; signed
like every other request (all in the query string, ``signature`` last). Weight 10 of the per-IP REQUEST_WEIGHT
budget (2400/min shared with fapi: 240 such calls a minute at most); :attr:`~BinanceCoinM.countdown_rate` paces
it at 1 per second, far below that, because a heartbeat needs no more and every weight it spends is taken from
the cancels and listings that share the budget. Binance checks the countdowns "approximately every 10
milliseconds" and advises against a countdown "too precise or too small".

Reply: ``{"symbol": "BTCUSD_200925", "countdownTime": "100000"}`` (an echo; a string in the docs' sample, a
JSON number is read too): :meth:`~BinanceCoinM.parse_countdown` gives ``Countdown(armed=countdownTime != 0,
trigger_ms=None)`` -- the reply names no trigger time. A reply without a readable ``countdownTime`` is
UNKNOWN_OUTCOME (it may have been applied: arm again). Failures are classified as everywhere else here
(:meth:`~BinanceCoinM._failure`: ``-1021`` CLOCK, auth codes AUTH, 429/418/``-1003`` RATE_LIMITED, 503
"Service Unavailable." NOT_PROCESSED, other 5xx UNKNOWN_OUTCOME, Binance's own 4xx REJECTED).

Range (:attr:`~BinanceCoinM.countdown_range_s`, whole seconds): 1..3600. The docs give no bounds: 1 s is the
smallest whole-second value their own unit example names ("1000 for 1 second"), and 3600 is our cap, not
Binance's: a dead-man countdown is a heartbeat (Binance's example: 120 s, renewed every 30 s), so anything over
an hour is far more likely a unit slip (milliseconds passed as seconds) than a wish, and is refused before it
arms a timer that would not fire for days.

When it fires, every open order of the symbol is cancelled; trigger orders (STOP, TAKE_PROFIT, ...) rest on the
same open-orders list and are cancelled with them (the fake does so).

UNCONFIRMED (countdown):
- Any minimum or maximum Binance enforces (none documented) and the error code it gives for a value it refuses.
- Whether trigger orders moved to the Algo Service (see above), if that migration happened on COIN-M, are
  cancelled when the countdown fires.
- Whether a disarm (``countdownTime=0``) with no countdown running answers the same echo (assumed) or an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import islice
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
    Countdown,
    Credentials,
    Failure,
    FailureKind,
    HttpRequest,
    HttpResponse,
    IdKind,
    ListedOrder,
    ListKind,
    ListPage,
    ListReply,
    OrderRef,
    Outcome,
    QueryReply,
    Verdict,
)
from .base import (
    INT64_MAX,
    Budget,
    IdFormat,
    Rate,
    VenueAdapter,
    check_refs,
    chunk_by,
    clip,
    compact_json,
    decimal_id_ok,
    decimal_id_re,
    flaw,
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

# -- listings (module docstring, "Listings") --
OPEN_ORDERS_PATH = "/dapi/v1/openOrders"
ALL_ORDERS_PATH = "/dapi/v1/allOrders"
HISTORY_PAGE_MAX = 100  # allOrders ``limit``: "Default 50; max 100."
HISTORY_RANGE_MAX_MS = 7 * 24 * 3600 * 1000  # "The query time period must be less then 7 days"
# CANCELED/EXPIRED orders without fills vanish 3 days after creation ("not found by design", §2.6).
HISTORY_WINDOW_S = 3 * 24 * 3600.0
# One first page spans the whole window, so the window must fit in one allowed period.
assert HISTORY_WINDOW_S * 1000 < HISTORY_RANGE_MAX_MS
# The trigger order types of POST /dapi/v1/order; they rest on the open-orders list until triggered.
CONDITIONAL_TYPES = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})
# The history cursor this adapter hands out: the first orderId of the next page.
CURSOR_RE = re.compile(r"oid:([1-9][0-9]{0,18})", re.ASCII)
LIST_NAMES = {ListKind.OPEN: "open-orders", ListKind.HISTORY: "order-history"}

# -- cancel-all (module docstring "Cancel-all") --
CANCEL_ALL_PATH = "/dapi/v1/allOpenOrders"
# The success reply carries Binance's error shape with code 200: {"code": 200, "msg": "The operation of ..."}.
CANCEL_ALL_DONE_CODE = 200

# -- countdown (module docstring "Countdown (dead-man switch)") --
COUNTDOWN_PATH = "/dapi/v1/countdownCancelAll"
# -- pacing (module docstring "Rates") ------------------------------------------------------------

# REQUEST_WEIGHT, per IP: 2400/min by default (Rate Limits on Binance Futures FAQ), each request spending its
# route's documented weight: Cancel-Multiple-Orders 1, Query-Order 1, Current-All-Open-Orders 40 without a
# symbol (the heaviest listing as used; All-Orders by symbol is 20), Cancel-All-Open-Orders 1,
# Auto-Cancel-All-Open-Orders 10.
REQUEST_WEIGHT = Budget(
    "REQUEST_WEIGHT",
    Rate(2400, 60.0),
    {"cancel": 1, "query": 1, "list": 40, "cancel_all": 1, "countdown": 10},
    per="ip",
)
# ORDERS, per account: "the default order limit per account/sub-account is 1,200/min" (same FAQ).
ORDERS_RATE = Rate(1200, 60.0)
# The readings of whether cancels count against ORDERS (module docstring "Rates"): "orders" (the default,
# conservative: cancels and cancel-all also paced at ORDERS_RATE, which the *_rate attributes spell out) and
# "weight" (REQUEST_WEIGHT alone bounds them: 2400 / weight 1 per minute).
PACING_OPTIONS = MappingProxyType(
    {
        "orders": MappingProxyType({}),
        "weight": MappingProxyType({"cancel": Rate(2400, 60.0), "cancel_all": Rate(2400, 60.0)}),
    }
)

COUNTDOWN_RANGE_S = (1, 3600)  # no documented bounds: 1 s (the docs' unit example) .. our one-hour cap
COUNTDOWN_MS_RE = re.compile(r"0|[1-9][0-9]{0,18}", re.ASCII)  # countdownTime as echoed (a LONG, as text)


class BinanceCoinM(VenueAdapter):
    """Adapter for Binance COIN-M futures (``dapi``)."""

    name: ClassVar[str] = "binance_coinm"
    default_base_url: ClassVar[str] = "https://dapi.binance.com"
    testnet_base_url: ClassVar[str] = "https://testnet.binancefuture.com"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset({"x-mbx-apikey"})
    secret_params: ClassVar[frozenset[str]] = frozenset({"signature"})
    # Pacing (module docstring "Rates"): every request also spends its weight from REQUEST_WEIGHT (per IP).
    # Batch cancels: the ORDERS limit, 1200/min per account, under the default "orders" reading ("weight":
    # 2400/min). The query has no limit of its own: the whole REQUEST_WEIGHT budget at weight 1 (Query-Order).
    # Authoritative values for an account come from /dapi/v1/exchangeInfo (its rateLimits array).
    cancel_rate: ClassVar[Rate] = ORDERS_RATE
    query_rate: ClassVar[Rate] = Rate(2400, 60.0)
    shared_budget: ClassVar[Budget | None] = REQUEST_WEIGHT
    pacing_options: ClassVar[Mapping[str, Mapping[str, Rate]]] = PACING_OPTIONS
    default_pacing: ClassVar[str | None] = "orders"
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    example_symbol: ClassVar[str] = "BTCUSD_PERP"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = MAX_BATCH
    hard_max_batch: ClassVar[int] = MAX_BATCH
    # -2013 is definitive for a live job (one answer settles it: the default), but dapi drops
    # cancelled/expired orders without fills 3 days after creation (§2.6): past that, "not found" proves nothing.
    forget_after_s: ClassVar[float | None] = 3 * 24 * 3600.0
    # REQUEST_WEIGHT 2400/min per IP (shared with fapi since 2026-06-30: the COIN-M / USDⓈ-M integration
    # notice, §A.3); the heaviest listing request as used is openOrders without a symbol, weight 40
    # (Current-All-Open-Orders; allOrders by symbol weighs 20): 2400 / 40 = 60 requests per minute, and each
    # listing spends 40 from the budget cancels and queries share.
    list_rate: ClassVar[Rate] = Rate(60, 60.0)
    # Trigger orders rest on the open-orders list (module docstring): no CONDITIONAL listing of its own.
    list_kinds: ClassVar[frozenset[ListKind]] = frozenset({ListKind.OPEN, ListKind.HISTORY})
    # allOrders needs ``symbol`` or ``pair``, and ``pair`` cannot page by ``orderId``.
    list_needs_symbol: ClassVar[frozenset[ListKind]] = frozenset({ListKind.HISTORY})
    history_window_s: ClassVar[float] = HISTORY_WINDOW_S
    # Cancel-all (module docstring "Cancel-all"): weight 1 from the per-IP REQUEST_WEIGHT budget, paced like
    # the batch cancel (ORDERS_RATE under the default reading, 2400/min under "weight"); one call per symbol,
    # which the venue requires.
    cancel_all_rate: ClassVar[Rate] = ORDERS_RATE
    cancel_all_needs_symbol: ClassVar[bool] = True
    # countdownCancelAll (module docstring "Countdown"): one countdown per symbol; weight 10 from REQUEST_WEIGHT
    # (per IP), paced at 1/s of its own (a heartbeat needs no more; see the docstring for the range).
    countdown_scope: ClassVar[str | None] = "symbol"
    countdown_range_s: ClassVar[tuple[int, int]] = COUNTDOWN_RANGE_S
    countdown_rate: ClassVar[Rate] = Rate(1, 1.0)

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        # The first bad ref is named: the refs before the first conditional one are checked as usual, then
        # that one is refused (module docstring "Conditional orders": COIN-M keeps no separate list).
        first = next((i for i, ref in enumerate(refs) if ref.conditional), None)
        if first is None:
            check_refs(self.name, refs, ID_FORMAT)
            return
        check_refs(self.name, islice(refs, first), ID_FORMAT)
        ref = refs[first]
        raise InputError(
            f"{self.name}: {ref.kind.value} {clip(ref.value)} on {clip(ref.symbol)} is marked conditional, but "
            "COIN-M keeps no separate list of conditional orders: its trigger orders (STOP, TAKE_PROFIT, ...) "
            "are ordinary orders, cancelled and queried by their ids like any other (pass the ref unmarked)"
        )

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

    def build_list(
        self,
        kind: ListKind,
        symbol: str | None,
        creds: Credentials,
        now_ms: int,
        *,
        cursor: str | None = None,
        since_ms: int | None = None,
        account: str | None = None,
    ) -> HttpRequest:
        if kind not in self.list_kinds:
            raise InputError(
                f"{self.name}: there is no separate {kind.value} listing: COIN-M trigger orders rest on the "
                "open-orders list and are listed there, marked conditional"
            )
        if symbol is not None:
            self._check_symbol(symbol)
        if kind is ListKind.OPEN:
            if cursor is not None:
                raise InputError(f"{self.name}: the open-orders list has no pages, so no cursor ({clip(cursor)})")
            query, headers = self._signed([("symbol", symbol)] if symbol is not None else [], creds, now_ms)
            return HttpRequest("GET", OPEN_ORDERS_PATH, query, None, headers, "list_open")
        if symbol is None:
            raise InputError(f"{self.name}: the order history (allOrders) needs a symbol, e.g. {self.example_symbol}")
        params: list[tuple[str, str]] = [("symbol", symbol)]
        if cursor is not None:
            m = CURSOR_RE.fullmatch(cursor) if isinstance(cursor, str) else None
            if m is None or not decimal_id_ok(m.group(1), ORDER_ID_RE, ORDER_ID_MAX):
                raise InputError(f"{self.name}: {clip(cursor)} is not an order-history cursor this adapter made")
            # The next page by id alone: a time range beside orderId is not documented to combine.
            params.append(("orderId", m.group(1)))
        else:
            if since_ms is not None and (isinstance(since_ms, bool) or not isinstance(since_ms, int)):
                raise InputError(f"{self.name}: since_ms must be epoch milliseconds, got {clip(since_ms)}")
            earliest = now_ms - int(self.history_window_s * 1000)
            start = earliest if since_ms is None else max(since_ms, earliest)
            # endTime must come after startTime; a "since" ahead of the venue's clock asks for the last ms.
            start = min(start, now_ms - 1)
            params += [("startTime", str(start)), ("endTime", str(now_ms))]
        params.append(("limit", str(HISTORY_PAGE_MAX)))
        query, headers = self._signed(params, creds, now_ms)
        return HttpRequest("GET", ALL_ORDERS_PATH, query, None, headers, "list_history")

    def build_cancel_all(
        self, symbol: str | None, creds: Credentials, now_ms: int, *, account: str | None = None
    ) -> HttpRequest:
        """``DELETE /dapi/v1/allOpenOrders?symbol=...`` (module docstring "Cancel-all"). ``symbol`` is
        mandatory on COIN-M: there is no account-wide form, so None is an :class:`InputError`, as is a
        symbol :meth:`validate` would refuse. ``account`` is unused (COIN-M needs no account id)."""
        if symbol is None:
            raise InputError(
                f"{self.name}: the venue's cancel-all (allOpenOrders) needs a symbol, e.g. {self.example_symbol}; "
                "cancel every symbol one at a time"
            )
        self._check_symbol(symbol)
        query, headers = self._signed([("symbol", symbol)], creds, now_ms)
        return HttpRequest("DELETE", CANCEL_ALL_PATH, query, None, headers, "cancel_all")

    def build_countdown(self, symbol: str | None, timeout_s: int, creds: Credentials, now_ms: int) -> HttpRequest:
        """``POST /dapi/v1/countdownCancelAll?symbol=...&countdownTime=<timeout_s * 1000>`` (module docstring
        "Countdown"); ``timeout_s`` 0 stops the symbol's countdown. ``symbol`` is mandatory (one countdown per
        symbol)."""
        self.check_countdown_timeout(timeout_s)
        if symbol is None:
            raise InputError(
                f"{self.name}: the countdown (countdownCancelAll) covers one symbol and needs it, "
                f"e.g. {self.example_symbol}"
            )
        self._check_symbol(symbol)
        params = [("symbol", symbol), ("countdownTime", str(timeout_s * 1000))]
        query, headers = self._signed(params, creds, now_ms)
        return HttpRequest("POST", COUNTDOWN_PATH, query, None, headers, "countdown")

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

    def parse_cancel_all(self, symbol: str | None, resp: HttpResponse) -> Failure | bool:
        """False when the venue says it is done (nothing remains for another call: the endpoint has no
        paging), or a failure classified like the batch cancel's. The success reply
        ``{"code": 200, "msg": "The operation of cancel all open order is done."}`` names no order and is
        also what a symbol with nothing open gets, so it settles nothing. ``-2011`` (CANCEL_REJECTED) in
        Binance's own shape is read as "nothing to cancel" (Binance's spot answer for an empty book;
        UNCONFIRMED on dapi), also False: the listings afterwards decide either way."""
        data = load_json(resp)
        code = _own_error_code(data)
        if resp.status == 200 and code == CANCEL_ALL_DONE_CODE:
            return False
        if code == CODE_UNKNOWN_ORDER and 200 <= resp.status < 500:
            return False
        # Anything else as the other parsers read it: a 200 that is not Binance's word may have been
        # applied (UNKNOWN_OUTCOME), Binance's own 4xx refused the call as a whole (REJECTED), and so on.
        return self._failure(resp, data)

    def parse_countdown(self, resp: HttpResponse) -> Failure | Countdown:
        """The echo ``{"symbol": ..., "countdownTime": "<ms>"}``: armed unless ``countdownTime`` is 0; the
        reply names no trigger time. Anything else is classified like the other replies. Never raises."""
        data = load_json(resp)
        if resp.status == 200 and isinstance(data, dict) and _own_error_code(data) is None and "countdownTime" in data:
            raw = data["countdownTime"]
            text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
            if not isinstance(text, str) or COUNTDOWN_MS_RE.fullmatch(text) is None:
                return Failure(
                    FailureKind.UNKNOWN_OUTCOME,
                    None,
                    f"the countdown reply has an unreadable countdownTime ({clip(raw)}): it may have been applied",
                    resp.status,
                )
            return Countdown(armed=text != "0", trigger_ms=None)
        return self._failure(resp, data)

    def parse_list(
        self, kind: ListKind, symbol: str | None, resp: HttpResponse, *, cursor: str | None = None
    ) -> ListReply:
        if kind not in self.list_kinds:
            return Failure(FailureKind.REJECTED, None, f"{self.name} has no separate {kind.value} listing", resp.status)
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, list):
            if resp.status == 200 and isinstance(data, dict) and _own_error_code(data) is None:
                # Some other JSON where the array of orders belongs: nothing on it can be trusted.
                return self._unreadable(kind, resp, "is a JSON object, not the list of orders")
            return self._failure(resp, data)
        orders: list[ListedOrder] = []
        for i, entry in enumerate(data):
            order = _listed(entry)
            if order is None:
                # One unreadable entry may be an order we would never see: the whole page fails.
                return self._unreadable(kind, resp, f"has an entry without a readable orderId and symbol (#{i + 1})")
            orders.append(order)
        next_cursor = None
        if kind is ListKind.HISTORY and len(orders) >= HISTORY_PAGE_MAX:
            # No "more" flag: a full page may have a next one, which starts after its highest id.
            last = max(int(o.order_id) for o in orders if o.order_id is not None)
            if last < ORDER_ID_MAX:
                next_cursor = f"oid:{last + 1}"
        return ListPage(tuple(orders), next_cursor)

    def _unreadable(self, kind: ListKind, resp: HttpResponse, what: str) -> Failure:
        msg = f"the {LIST_NAMES.get(kind, kind.value)} reply {what}, so the listing cannot be trusted to be complete"
        return Failure(FailureKind.UNKNOWN_OUTCOME, None, msg, resp.status)

    def _check_symbol(self, symbol: object) -> None:
        """Refuse a symbol :meth:`validate` would refuse, in the same words."""
        if not isinstance(symbol, str) or not SYMBOL_RE.fullmatch(symbol):
            detail = flaw(symbol)
            hint = f"{detail}; {ID_FORMAT.symbol_hint}" if detail else ID_FORMAT.symbol_hint
            raise InputError(f"{self.name}: malformed symbol {clip(symbol)} ({hint})")

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


def _listed(entry: Any) -> ListedOrder | None:
    """One order object of a listing, or None when it has no readable ``orderId`` and ``symbol``."""
    if not isinstance(entry, dict):
        return None
    order_id = _order_id(entry.get("orderId"))
    symbol = entry.get("symbol")
    # Replies spell symbols upper-case already; upper() only forgives a case slip, never a shape.
    symbol = symbol.upper() if isinstance(symbol, str) else None
    if order_id is None or symbol is None or not SYMBOL_RE.fullmatch(symbol):
        return None
    order_type = _text(entry.get("type")) or _text(entry.get("origType"))
    return ListedOrder(
        symbol=symbol,
        order_id=order_id,
        client_order_id=_text(entry.get("clientOrderId")),
        status=_state(entry.get("status")),
        conditional=order_type in CONDITIONAL_TYPES,
        side=_text(entry.get("side")),
        order_type=order_type,
        price=_text(entry.get("price")),
        quantity=_text(entry.get("origQty")),
        filled=_text(entry.get("executedQty")),
        created_ms=_ms(entry.get("time")),
        updated_ms=_ms(entry.get("updateTime")),
    )


def _state(word: Any) -> Outcome:
    """A listed order's state, read with the query's map; a word we do not know is ambiguous, never guessed."""
    outcome = QUERY_STATUS.get(word) if isinstance(word, str) else None
    if outcome is not None:
        return outcome
    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, None if word is None else str(word)[:40])


def _order_id(value: Any) -> str | None:
    """``orderId`` as its canonical decimal string: a JSON integer (exact in Python, however long) or a
    string of one; a float, a bool or anything out of LONG range is unreadable."""
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, int) else value
    return text if decimal_id_ok(text, ORDER_ID_RE, ORDER_ID_MAX) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ms(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
