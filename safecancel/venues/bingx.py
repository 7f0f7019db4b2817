"""BingX spot: ``POST /openApi/spot/v1/trade/cancelOrders``; OCO orders through ``oco/cancel`` and
``oco/historyOrderList`` (see "Conditional orders"); the venue's own cancel-all ``trade/cancelOpenOrders``
(see "Cancel-all"); listings from ``trade/openOrders``, ``oco/openOrderList`` and ``trade/historyOrders``
(see "Listings" below).

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

Listings (docs: https://bingx-api.github.io/docs/#/en-us/spot/trade-api.html -- "Current Open Orders",
"Query Order history", "Query All Open OCO Orders"; also bingx-api.github.io/docs-v3 under
Spot/Trades Endpoints). Every listing is a signed GET, signed like the rest (query string, ``X-BX-APIKEY``).
- OPEN: ``GET /openApi/spot/v1/trade/openOrders`` (``symbol`` optional: every symbol without it), 10/s
  per UID. No paging: ``data.orders`` holds "max length 2000" (:data:`OPEN_LIST_CAP`). A page of 2000
  may leave orders out and there is no second page, so it has no cursor and
  :attr:`ListPage.capped` says so: cancel what it lists and list again, never read absence from it
  as "not open". Trigger orders (``TAKE_STOP_*`` / ``TRIGGER_*`` types) rest on this list and come back
  ``conditional=True``.
- CONDITIONAL: OCO orders are kept apart: ``GET /openApi/spot/v1/oco/openOrderList`` (``pageIndex``,
  ``pageSize``, both required; no ``symbol`` parameter, so a symbol-scoped listing is filtered here),
  5/s per UID. Each leg (limit ``ocoLimit``, stop-limit ``ocoTps``) is one entry with its own string
  ``orderId``; the captured reply (JKorf BingX.Net ``GetOpenOcoOrders``) has ``data`` as the list and a
  ``status`` per leg, the docs show neither a wrapper nor a status (a leg without one is open: that is
  what the list is). Paged by ``pageIndex`` with :data:`OCO_PAGE_SIZE` per page; a full page has a sequel.
- HISTORY: ``GET /openApi/spot/v1/trade/historyOrders`` (``symbol`` optional, ``startTime`` /
  ``endTime`` ms, ``pageIndex`` >= 1, ``pageSize`` <= 100, ``pageIndex * pageSize <= 10000``; a
  ``status`` filter takes one of FILLED/CANCELED/FAILED, so none is sent: every state comes back), 10/s
  per UID. It is the only listing that carries final states of ordinary orders (``trade/query`` is one
  order; ``myTrades`` shows fills only and 7 days), and BingX's cancel is synchronous, so a cancelled order
  is there at once; ccxt#19563 also points to it for closed orders that ``trade/query`` stops finding.
  Asked for orders created since ``since_ms``: page 1 covers ``[max(since_ms, now - 1 h), now]``
  (:data:`HISTORY_WINDOW_MS`); each later page recomputes its window at its own ``now`` but may reach
  back 2 h (:data:`HISTORY_MAX_RANGE_MS`), so for a listing paged within the hour every later window
  contains the first one. Orders never leave history, so a window that only grows can shift orders to
  later pages (a duplicate), never past the page being read (a gap). A full page has a sequel; a full
  100th page is a failure (the rest cannot be listed).
- Cursors (``oco:N``, ``history:N``) name the next page; the open list has none.
- Entries: ``orderId`` (a JSON number on openOrders / historyOrders, a string on the OCO list) is read
  without loss and must be a canonical int64; a float, missing or malformed id, or an unreadable symbol
  makes the whole page a failure, as does a missing list. Statuses are read with :data:`QUERY_STATUS`
  (the word as the message); a word we do not know is unknown/ambiguous. Symbols are upper-cased with
  ``_`` read as ``-``.
UNCONFIRMED (listings):
- The maximum ``startTime..endTime`` range of historyOrders (none documented; ranges are kept within
  2 h, the range BingX documents for clientOrderID lookups) and whether it filters by creation time;
  whether it lists open orders too (it is modelled on Binance's allOrders); how long it keeps orders
  (``history_window_s`` is 1 h).
- Which 2000 orders openOrders returns past the cap, and in what order.
- The OCO list's maximum ``pageSize``, whether it pages by leg or by OCO pair (a page is "full" at
  :data:`OCO_PAGE_SIZE` legs either way, which only costs an extra request), and whether OCO legs also
  appear on openOrders / historyOrders or are found by ``trade/query`` and ``cancelOrders``.
- Whether openOrders / historyOrders carry ``clientOrderID`` (not in their docs' field tables; the
  AI-skills reference says they share ``trade/query``'s fields; a 2023 report in ccxt#19563 says open
  orders came back without it). A listed order without a client id is ``client_order_id=None``.
- An empty listing answered with ``100204`` "No data" instead of an empty list would read as a failure.

Conditional orders (OCO). BingX keeps OCO orders apart (``ListKind.CONDITIONAL``: the listing above), with
endpoints of their own (docs: trade-api.html "Cancel an OCO Order List", "Query an OCO Order List", "Query
OCO Historical Order List"; docs-v3 under Spot/Trades Endpoints; changelog 2024-08-27). An
``OrderRef(conditional=True)`` names one leg of an OCO pair (the limit leg ``ocoLimit`` or the stop-limit
leg ``ocoTps``), by its ``orderId`` or its ``clientOrderId``.
- Cancel: ``POST /openApi/spot/v1/oco/cancel`` with ``orderId`` (either leg's) **or** ``clientOrderId``
  (either leg's), ``recvWindow``, ``timestamp``; no ``symbol``; signed like the rest (query string). It
  "cancel[s] the entire OCO order": both legs. One pair per request, no batch form, so
  :meth:`BingX.plan_chunks` puts a conditional ref in a chunk of its own (:data:`OCO_CANCEL_BATCH`), never
  beside ordinary orders. 2/s per UID (IP group 2), the same as ``cancelOrders`` (``cancel_rate``).
- The cancel reply is ``data: {"orderId", "clientOrderId"}`` (docs' table; JKorf ``CancelOcoOrder``
  capture): an echo of ids with no state. BingX's ordinary cancels answer with each order's ``status``;
  this one does not, so the reply is **not** the venue's word that the legs are cancelled: a leg it
  echoes is ``unknown``/accepted and a query confirms. An echo naming another order is
  ``unknown``/ambiguous, a reply without ids ``unknown``/omitted. ``100404`` / ``80016`` (the codes
  BingX uses for "order not exist" / "FILLED or CANCELLED already") make the leg ``unknown``/ambiguous:
  the pair may have been cancelled already through its other leg, or have filled; the query decides.
  Other codes are classified as everywhere else (:meth:`BingX._failure`).
- Query: BingX has **no single-order query that takes what a ref holds**. ``GET
  /openApi/spot/v1/oco/orderList`` queries one OCO pair by ``orderListId`` or the *pair's*
  ``clientOrderId`` ("User-defined OCO order group ID"), never by a leg's ``orderId``, and neither its
  docs nor its one capture (JKorf ``GetOcoOrder``) carry a state. ``trade/query`` is not documented to
  reach OCO legs (its ``type`` enum has no OCO type), and an "order not exist" from it about a live leg
  would read as final. So a conditional ref is queried through the narrow listing that holds finished
  legs: ``GET /openApi/spot/v1/oco/historyOrderList?pageIndex=1&pageSize=100`` (:data:`OCO_QUERY_PAGE_SIZE`;
  no ``startTime`` / ``endTime``, no symbol: BingX's default window), 5/s per UID. The leg is looked up
  on that page by ``orderId`` (or ``clientOrderId``) and its ``status`` read exactly as
  :meth:`BingX.parse_query` reads ``trade/query`` (``CANCELED`` -> cancelled, ``FILLED`` -> failed/filled,
  ``NEW`` / ``PENDING`` -> open, so the cancel is sent again). A leg on the page without a status
  (finished: cancelled or filled, BingX does not say) or with a word we do not know is
  ``unknown``/ambiguous; a leg **not** on the page is ``unknown``/ambiguous too -- never
  failed/not_found: it may still be open, or be past the first page. Nothing is ever guessed final.
  Whole-request errors (``100404`` included: on a listing it names no order) are failures as usual.
- Sibling legs: cancelling one leg cancels the other. If both legs are in a job, each is its own
  order with its own chunk: the second cancel finds the pair done (``100404``: ``unknown``/ambiguous),
  and each leg then reads ``CANCELED`` on its own query. Nothing is counted twice and nothing errors.
- Ids: ``orderId`` is checked like an ordinary order id (the legs' ids are int64-sized decimals, sent
  as strings); an OCO ``clientOrderId`` must be ASCII digits (1-40): "Create an OCO Order" takes
  ``aboveClientOrderId`` / ``belowClientOrderId`` as "only supports numeric strings", so any other
  client id cannot name a leg and :meth:`BingX.validate` refuses it, naming the ref.
- ``query_rate`` is 5/s: the slower of the two query endpoints used (``trade/query`` 10/s,
  ``oco/historyOrderList`` 5/s), so one bucket paces both (as ``list_rate`` does for the listings).
UNCONFIRMED (conditional orders):
- Whether ``oco/historyOrderList`` entries carry ``status`` (its docs' table has none; the open OCO
  list's table has none either, yet its captured reply does, JKorf's model reads ``status`` on every OCO
  endpoint, and "Create an OCO Order" documents NEW/PENDING/PARTIALLY_FILLED/FILLED/CANCELED/FAILED per
  leg). Without it no query can confirm an OCO leg: the leg stays ``unknown`` and the job asks for
  attention (safe, not final).
- The history's default time window, its order (newest first is assumed), whether it also lists open
  legs, and its maximum ``pageSize`` (the AI-skills reference says 1000; 100 is asked).
- The codes ``oco/cancel`` answers for a pair already cancelled or filled, or for an unknown id
  (``100404`` / ``80016`` read as "the query decides"; any other code is classified as usual).
- Whether ``oco/cancel`` echoes the leg named or always the same leg (an echo naming another order
  only makes the leg ``unknown``/ambiguous).
- Whether ``cancelOpenOrders`` (below) also cancels OCO legs: not documented either way.

Cancel-all: ``POST /openApi/spot/v1/trade/cancelOpenOrders`` (docs: trade-api.html "Cancel all Open Orders on
a Symbol"), ``symbol`` optional ("If not filled out, cancel all orders"), ``recvWindow``, ``timestamp``;
signed like the rest, empty body; 2/s per UID, IP group 3 (``cancel_all_rate``). Synchronous: the reply
lists every order it cancelled in ``data.orders[]`` with ``status`` ``CANCELED`` (docs' table; JKorf
``CancelAllOrders`` capture). There is no "more remain" in it and no documented cap, so
:meth:`BingX.parse_cancel_all` answers ``False`` on success; failures are classified as for every other
BingX reply. What was cancelled is learnt from the listings afterwards, never from this reply.

Countdown (dead-man switch): ``POST /openApi/spot/v1/trade/cancelAllAfter`` (docs: trade-api.html "Cancel All
After", https://bingx-api.github.io/docs/#/en-us/spot/trade-api.html). ``type`` ``ACTIVATE`` (arm, or renew: a
second ACTIVATE moves the trigger time) or ``CLOSE`` (disarm), ``timeOut`` "Activate countdown time (seconds),
range: 10s-120s" (:attr:`BingX.countdown_range_s`). Disarming sends ``type=CLOSE&timeOut=0``, as ccxt's
``cancel_all_orders_after(0)`` does. One countdown covers the whole spot account ("All your spot pending orders
will be closed": :attr:`BingX.countdown_scope` ``"account"``): it takes no symbol; a symbol passed to
:meth:`BingX.build_countdown` is checked as :meth:`BingX.validate` would and then not sent, since the countdown
covers it and every other symbol. Signed like every other request here (query string, empty body; the docs'
page says "Content-Type: request body(application/json)", the same remark it makes for the endpoints this
adapter already sends in the query string). "rate limitation by UID: 2/s" (IP group 2):
:attr:`BingX.countdown_rate` paces it at 1/s, half the budget, which a heartbeat never needs more of.
Reply ``{"code": 0, "data": {"triggerTime", "status", "note"}}``: ``ACTIVATED`` -> ``Countdown(armed=True,
trigger_ms)``, ``CLOSED`` -> ``Countdown(armed=False)``, ``FAILED`` -> a REJECTED :class:`Failure` carrying the
``note`` (nothing changed: a failed CLOSE leaves a running countdown running). Any other status word, or no
``data``, is UNKNOWN_OUTCOME (it may have been applied: send it again). ``triggerTime`` is an epoch time whose
unit the docs do not give; the one captured reply (JKorf BingX.Net ``CancelAllOrdersAfter``: ``1710389137``,
matching its note "... at 2024-03-14 04:05:37 UTC") is in **seconds**, so a value below 10**11 is read as
seconds (multiplied by 1000, which can only put the trigger up to a second early) and a larger one as
milliseconds. Envelope failures are classified by :meth:`BingX._failure`, as for every other endpoint.
UNCONFIRMED (countdown):
- ``timeOut`` on CLOSE: the docs mark it required and give only the ACTIVATE range; ccxt sends 0.
- The answer to an ACTIVATE outside 10-120 s (read as BingX's ``100400`` if it is an error envelope, or as
  ``FAILED`` if it is a status: either is a refusal), and to a CLOSE with no countdown running.
- Whether the countdown also cancels OCO orders, which BingX keeps apart (the fake assumes it does not).
- The unit of ``triggerTime`` (see above; both are read).
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
    REASON_ACCEPTED,
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
    IdFormat,
    Rate,
    VenueAdapter,
    check_refs,
    clip,
    decimal_id_ok,
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

# -- listings (see "Listings" in the module docstring) -------------------------------------------

PATH_LIST_OPEN = "/openApi/spot/v1/trade/openOrders"
PATH_LIST_HISTORY = "/openApi/spot/v1/trade/historyOrders"
PATH_LIST_OCO = "/openApi/spot/v1/oco/openOrderList"
OPEN_LIST_CAP = 2000  # openOrders: "Order list, max length is 2000"; no paging
HISTORY_PAGE_SIZE = 100  # historyOrders: "pageSize ... Max 100"
HISTORY_MAX_RESULTS = 10_000  # historyOrders: "Restriction: pageIndex * pageSize <= 10,000"
HISTORY_MAX_PAGE = HISTORY_MAX_RESULTS // HISTORY_PAGE_SIZE
# UNCONFIRMED: the docs state no maximum startTime..endTime range; 2 hours is the only range BingX
# documents for order lookups (clientOrderID), so no request asks for more.
HISTORY_MAX_RANGE_MS = 2 * 60 * 60 * 1000
# The first page reaches back at most half the range cap, so a later page may widen its window to the
# cap and still cover everything the first page's window did (see the module docstring).
HISTORY_WINDOW_MS = HISTORY_MAX_RANGE_MS // 2
OCO_PAGE_SIZE = 100  # UNCONFIRMED: oco/openOrderList requires pageSize but documents no maximum
# Trigger orders rest on the ordinary list (openOrders "type"); OCO legs have a list of their own.
CONDITIONAL_ORDER_TYPES = frozenset({"TAKE_STOP_LIMIT", "TAKE_STOP_MARKET", "TRIGGER_LIMIT", "TRIGGER_MARKET"})
LIST_CURSOR_RE = re.compile(r"(history|oco):([1-9][0-9]{0,5})", re.ASCII)
LIST_ENDPOINTS = MappingProxyType(
    {
        ListKind.OPEN: (PATH_LIST_OPEN, "list_open"),
        ListKind.CONDITIONAL: (PATH_LIST_OCO, "list_conditional"),
        ListKind.HISTORY: (PATH_LIST_HISTORY, "list_history"),
    }
)
CURSOR_PREFIX = MappingProxyType({ListKind.CONDITIONAL: "oco", ListKind.HISTORY: "history"})
PAGE_SIZE = MappingProxyType({ListKind.CONDITIONAL: OCO_PAGE_SIZE, ListKind.HISTORY: HISTORY_PAGE_SIZE})
# Where a listed order's creation time lives: "time" on openOrders / historyOrders, "transactionTime"
# on the OCO list (0 in some replies: read as unknown).
CREATED_FIELDS = ("time", "transactionTime")

# -- conditional (OCO) orders and the venue's cancel-all (see the module docstring) ---------------

PATH_OCO_CANCEL = "/openApi/spot/v1/oco/cancel"
PATH_OCO_HISTORY = "/openApi/spot/v1/oco/historyOrderList"
PATH_CANCEL_ALL = "/openApi/spot/v1/trade/cancelOpenOrders"
OCO_CANCEL_BATCH = 1  # oco/cancel takes one orderId or clientOrderId: one pair per request
OCO_QUERY_PAGE_SIZE = 100  # UNCONFIRMED maximum (the AI-skills reference says 1000)
# "Create an OCO Order": above/belowClientOrderId "only supports numeric strings"; the length is the
# ordinary clientOrderID's (1-40).
OCO_CLIENT_ID_RE = re.compile(rf"[0-9]{{1,{CLIENT_ID_MAX_LEN}}}", re.ASCII)
OCO_CLIENT_ID_FIELDS = ("clientOrderId", "clientOrderID")
# -- the countdown (dead-man switch; see the module docstring) -----------------------------------

PATH_COUNTDOWN = "/openApi/spot/v1/trade/cancelAllAfter"
COUNTDOWN_RANGE_S = (10, 120)  # timeOut: "range: 10s-120s"
COUNTDOWN_ARM, COUNTDOWN_DISARM = "ACTIVATE", "CLOSE"
COUNTDOWN_ARMED, COUNTDOWN_CLOSED, COUNTDOWN_FAILED = "ACTIVATED", "CLOSED", "FAILED"
# triggerTime below this is epoch seconds (the captured reply), above it epoch ms (the year 5138 in seconds).
SECONDS_BELOW = 10**11

OCO_ACCEPTED = Outcome(
    Verdict.UNKNOWN,
    REASON_ACCEPTED,
    None,
    "BingX took the OCO cancel; its reply echoes the ids and names no state, so a query confirms",
)


class BingX(VenueAdapter):
    """Adapter for BingX spot."""

    name: ClassVar[str] = "bingx"
    default_base_url: ClassVar[str] = "https://open-api.bingx.com"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset({"x-bx-apikey"})
    secret_params: ClassVar[frozenset[str]] = frozenset({"signature"})
    cancel_rate: ClassVar[Rate] = Rate(2, 1.0)  # "rate limitation by UID: 2/s" (seed 002)
    # No shared_budget: the per-IP groups (group 3: 2000 requests per 10 s for the group, 300 per 10 s per
    # endpoint; venues.md §3.4 [BX-RL], docs/bingx/rate_limits.md) are far above what these per-UID rates
    # add up to (at most 2 + 5 + 5 + 2 + 1 = 15/s), so they never bind.
    # trade/query 10/s, oco/historyOrderList (the OCO legs' query) 5/s, per UID: the slower paces both.
    query_rate: ClassVar[Rate] = Rate(5, 1.0)
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    example_symbol: ClassVar[str] = "BTC-USDT"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = DEFAULT_MAX_BATCH
    hard_max_batch: ClassVar[int] = HARD_MAX_BATCH
    # oco/openOrderList: "rate limitation by UID: 5/s", the slowest listing used (trade/openOrders and
    # trade/historyOrders: 10/s), so one bucket paces all three (trade-api.html).
    list_rate: ClassVar[Rate] = Rate(5, 1.0)
    list_kinds: ClassVar[frozenset[ListKind]] = frozenset(ListKind)  # OCO lists are kept apart
    list_needs_symbol: ClassVar[frozenset[ListKind]] = frozenset()  # symbol optional or not taken at all
    history_window_s: ClassVar[float] = HISTORY_WINDOW_MS / 1000
    # trade/cancelOpenOrders: "rate limitation by UID: 2/s"; ``symbol`` optional (every symbol without it).
    cancel_all_rate: ClassVar[Rate] = Rate(2, 1.0)
    cancel_all_needs_symbol: ClassVar[bool] = False
    # trade/cancelAllAfter: one countdown for the whole spot account, timeOut 10-120 s; "rate limitation by
    # UID: 2/s", paced at half that (module docstring "Countdown").
    countdown_scope: ClassVar[str | None] = "account"
    countdown_range_s: ClassVar[tuple[int, int]] = COUNTDOWN_RANGE_S
    countdown_rate: ClassVar[Rate] = Rate(1, 1.0)

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        check_refs(self.name, refs, ID_FORMAT)
        for ref in refs:
            # An OCO leg's client id is numeric where BingX creates it; no other client id can name a leg.
            cid = ref.client_order_id
            if ref.conditional and ref.order_id is None and OCO_CLIENT_ID_RE.fullmatch(cid or "") is None:
                raise InputError(
                    f"bingx: an OCO order's clientOrderId is numeric (1-{CLIENT_ID_MAX_LEN} ASCII digits: BingX "
                    f"takes only numeric strings there), got {clip(cid)} on {clip(ref.symbol)} (conditional)"
                )

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # One symbol and one id kind per request: the endpoint takes one symbol, and sending
        # orderIds and clientOrderIDs together is UNCONFIRMED. An OCO leg goes alone to oco/cancel.
        groups: dict[tuple[str, IdKind, bool], list[OrderRef]] = {}
        for ref in refs:
            groups.setdefault((ref.symbol, ref.kind, ref.conditional), []).append(ref)
        out: list[list[OrderRef]] = []
        for (_, _, conditional), group in groups.items():
            size = OCO_CANCEL_BATCH if conditional else self.max_batch
            out.extend(group[i : i + size] for i in range(0, len(group), size))
        return out

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
        if any(r.conditional for r in refs):
            if len(refs) != OCO_CANCEL_BATCH:
                raise InputError("bingx: an OCO order is cancelled alone (oco/cancel takes one id); use plan_chunks()")
            # Either leg's id cancels the whole pair; oco/cancel takes no symbol.
            field = "orderId" if first.kind is IdKind.ORDER_ID else "clientOrderId"
            query, headers = self._signed({field: first.value}, creds, now_ms)
            return HttpRequest("POST", PATH_OCO_CANCEL, query, None, headers, "cancel")
        if any(r.symbol != first.symbol or r.kind is not first.kind for r in refs):
            raise InputError("bingx: one request carries one symbol and one id kind; use plan_chunks()")
        if len(refs) > self.max_batch:
            raise InputError(f"bingx: {len(refs)} orders exceed the batch limit of {self.max_batch}")
        field = "orderIds" if first.kind is IdKind.ORDER_ID else "clientOrderIDs"
        params = {"symbol": first.symbol, "process": PROCESS_PARTIAL, field: ",".join(r.value for r in refs)}
        query, headers = self._signed(params, creds, now_ms)
        return HttpRequest("POST", PATH_CANCEL, query, None, headers, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        if ref.conditional:
            # No query takes a leg's id: the first page of the OCO history, where parse_query looks the leg up.
            params = {"pageIndex": "1", "pageSize": str(OCO_QUERY_PAGE_SIZE)}
            query, headers = self._signed(params, creds, now_ms)
            return HttpRequest("GET", PATH_OCO_HISTORY, query, None, headers, "query")
        field = "orderId" if ref.kind is IdKind.ORDER_ID else "clientOrderID"
        query, headers = self._signed({"symbol": ref.symbol, field: ref.value}, creds, now_ms)
        return HttpRequest("GET", PATH_QUERY, query, None, headers, "query")

    def build_time(self) -> HttpRequest:
        return HttpRequest("GET", PATH_TIME, endpoint="time")

    def build_cancel_all(
        self, symbol: str | None, creds: Credentials, now_ms: int, *, account: str | None = None
    ) -> HttpRequest:
        if symbol is not None:
            self.validate([OrderRef(symbol, order_id="1")])  # the symbol as validate() words a bad one
        query, headers = self._signed({} if symbol is None else {"symbol": symbol}, creds, now_ms)
        return HttpRequest("POST", PATH_CANCEL_ALL, query, None, headers, "cancel_all")

    def build_countdown(self, symbol: str | None, timeout_s: int, creds: Credentials, now_ms: int) -> HttpRequest:
        """``POST trade/cancelAllAfter`` with ``type=ACTIVATE&timeOut=<timeout_s>``, or ``type=CLOSE&timeOut=0``
        for ``timeout_s`` 0 (module docstring "Countdown"). The countdown covers the whole account: a symbol is
        checked as :meth:`validate` would, then not sent."""
        self.check_countdown_timeout(timeout_s)
        if symbol is not None:
            self.validate([OrderRef(symbol, order_id="1")])  # the symbol as validate() words a bad one
        params = (
            {"type": COUNTDOWN_ARM, "timeOut": str(timeout_s)}
            if timeout_s
            else {"type": COUNTDOWN_DISARM, "timeOut": "0"}
        )
        query, headers = self._signed(params, creds, now_ms)
        return HttpRequest("POST", PATH_COUNTDOWN, query, None, headers, "countdown")

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
            raise InputError(f"bingx: no {kind!s} listing")
        if symbol is not None:
            self.validate([OrderRef(symbol, order_id="1")])  # the symbol as validate() words a bad one
        page = _cursor_page(kind, cursor)
        if page is None:
            raise InputError(f"bingx: {clip(cursor)} is not a cursor of the {kind!s} listing")
        params: dict[str, str] = {}
        if kind is ListKind.CONDITIONAL:
            # The OCO list takes no symbol (one is filtered out of the reply by parse_list).
            params = {"pageIndex": str(page), "pageSize": str(OCO_PAGE_SIZE)}
        elif kind is ListKind.HISTORY:
            # Page 1 reaches back at most HISTORY_WINDOW_MS; later pages may widen to the range cap, so a
            # window that moved with the clock still covers the first page's (see the module docstring).
            reach = HISTORY_WINDOW_MS if page == 1 else HISTORY_MAX_RANGE_MS
            start = now_ms - reach if since_ms is None else max(int(since_ms), now_ms - reach)
            params = {
                "startTime": str(min(start, now_ms)),  # a future since_ms: an empty window, not an inverted one
                "endTime": str(int(now_ms)),
                "pageIndex": str(page),
                "pageSize": str(HISTORY_PAGE_SIZE),
            }
        if symbol is not None and kind is not ListKind.CONDITIONAL:
            params["symbol"] = symbol
        path, endpoint = LIST_ENDPOINTS[kind]
        query, headers = self._signed(params, creds, now_ms)
        return HttpRequest("GET", path, query, None, headers, endpoint)

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
        if any(r.conditional for r in refs):
            return self._parse_oco_cancel(refs, resp)
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

    def _parse_oco_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        """oco/cancel: an echo of ids is no state (``unknown``/accepted, a query confirms); see the module
        docstring, "Conditional orders"."""
        data = load_json(resp)
        code = _code(data)
        if resp.status == 200 and code in ORDER_NOT_FOUND_CODES:
            # The pair is done (cancelled through its other leg, or filled) or the id names no leg: the query decides.
            msg = _msg(data)
            return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(code), msg) for ref in refs}
        if resp.status != 200 or code != CODE_OK:
            return self._failure(resp, data, code)
        payload = data.get("data")
        if not isinstance(payload, dict):
            return Failure(FailureKind.UNKNOWN_OUTCOME, "0", "success reply without a data object", resp.status)
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            fields = ORDER_ID_FIELDS if ref.kind is IdKind.ORDER_ID else OCO_CLIENT_ID_FIELDS
            if not any(payload.get(f) not in (None, "") for f in fields):
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED)
            elif not _names(payload, fields, ref.value):
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the reply is about another order")
            else:
                out[ref] = OCO_ACCEPTED
        return out

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        if ref.conditional:
            return self._parse_oco_query(ref, resp)
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

    def _parse_oco_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        """The leg's state from the first page of ``oco/historyOrderList``, read as ``trade/query``'s; a leg
        not on the page settles nothing (see the module docstring, "Conditional orders")."""
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != CODE_OK:
            return self._failure(resp, data, code)
        entries = _list_entries(ListKind.CONDITIONAL, data.get("data"))
        if entries is None:
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, "0", "OCO history reply without a list of orders")
        fields = ORDER_ID_FIELDS if ref.kind is IdKind.ORDER_ID else OCO_CLIENT_ID_FIELDS
        mine = [e for e in entries if isinstance(e, dict) and _names(e, fields, ref.value)]
        if not mine:
            return Outcome(
                Verdict.UNKNOWN,
                REASON_AMBIGUOUS,
                None,
                f"not among the {len(entries)} orders of BingX's OCO history page: still open, or past that page",
            )
        outcomes = set()
        for entry in mine:
            raw_symbol = entry.get("symbol")
            symbol = raw_symbol.upper().replace("_", "-") if isinstance(raw_symbol, str) else raw_symbol
            if symbol is not None and symbol != ref.symbol:
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"reply names symbol {clip(raw_symbol)}")
            outcomes.add((str(entry.get("orderId")), _oco_leg_state(entry)))
        if len(outcomes) > 1:
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the OCO history names this order more than once")
        return outcomes.pop()[1]

    def parse_cancel_all(self, symbol: str | None, resp: HttpResponse) -> Failure | bool:
        # Synchronous, with no "more remain" and no documented cap: nothing to call again for. The reply's
        # per-order statuses settle nothing here; the listings afterwards do.
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != CODE_OK:
            return self._failure(resp, data, code)
        return False

    def parse_countdown(self, resp: HttpResponse) -> Failure | Countdown:
        """``data.status`` ACTIVATED / CLOSED as a :class:`Countdown`, FAILED as a REJECTED failure with BingX's
        ``note``; envelope failures as everywhere else (module docstring "Countdown"). Never raises."""
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != CODE_OK:
            return self._failure(resp, data, code)
        body = data.get("data")
        status = body.get("status") if isinstance(body, dict) else None
        if status == COUNTDOWN_ARMED:
            assert isinstance(body, dict)
            trigger = _epoch_ms(body.get("triggerTime"))
            return Countdown(armed=True, trigger_ms=trigger or None)
        if status == COUNTDOWN_CLOSED:
            return Countdown(armed=False, trigger_ms=None)
        if status == COUNTDOWN_FAILED:
            assert isinstance(body, dict)
            note = body.get("note")
            why = str(note)[:200] if note not in (None, "") else "no note given"
            return Failure(
                FailureKind.REJECTED, None, f"BingX did not apply the countdown (status FAILED): {why}", resp.status
            )
        return Failure(
            FailureKind.UNKNOWN_OUTCOME,
            None,
            f"the countdown reply has no status BingX documents ({clip(status)}): it may have been applied",
            resp.status,
        )

    def parse_list(
        self, kind: ListKind, symbol: str | None, resp: HttpResponse, *, cursor: str | None = None
    ) -> ListReply:
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != CODE_OK:
            return self._failure(resp, data, code)
        page = _cursor_page(kind, cursor) if kind in self.list_kinds else None
        if page is None:
            return Failure(FailureKind.REJECTED, None, f"{clip(cursor)} is not a cursor of the {kind!s} listing")
        entries = _list_entries(kind, data.get("data"))
        if entries is None:
            return _incomplete(resp, "the reply has no list of orders where one belongs")
        listed: list[ListedOrder] = []
        for n, entry in enumerate(entries):
            order = _listed_order(kind, entry)
            if isinstance(order, str):
                return _incomplete(resp, f"order {n + 1} of {len(entries)} {order}")
            # The OCO list takes no symbol, so a symbol-scoped listing is filtered here; the other two are
            # filtered by BingX, and what it returns is kept as it came.
            if kind is not ListKind.CONDITIONAL or symbol is None or order.symbol == symbol:
                listed.append(order)
        next_cursor = None
        size = PAGE_SIZE.get(kind)
        if size is not None and len(entries) >= size:  # no "more" flag: a full page may have a sequel
            if kind is ListKind.HISTORY and page >= HISTORY_MAX_PAGE:
                return _incomplete(
                    resp,
                    f"more than {HISTORY_MAX_RESULTS} orders in the window, and BingX pages no further "
                    "(pageIndex * pageSize <= 10000)",
                )
            next_cursor = f"{CURSOR_PREFIX[kind]}:{page + 1}"
        # At the cap BingX has no second page: an order missing from this one may well be open.
        return ListPage(tuple(listed), next_cursor, capped=kind is ListKind.OPEN and len(listed) >= OPEN_LIST_CAP)

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


def _cursor_page(kind: ListKind, cursor: str | None) -> int | None:
    """The page a cursor names (1 without one), or None when it is not this listing's cursor."""
    if cursor is None:
        return 1
    prefix = CURSOR_PREFIX.get(kind)
    m = LIST_CURSOR_RE.fullmatch(cursor) if isinstance(cursor, str) else None
    if prefix is None or m is None or m.group(1) != prefix:
        return None
    return int(m.group(2))


def _incomplete(resp: HttpResponse, why: str) -> Failure:
    """A listing page that may have dropped an order: the whole page fails, in plain words."""
    return Failure(FailureKind.UNKNOWN_OUTCOME, None, f"bingx listing unusable: {why}", resp.status)


def _list_entries(kind: ListKind, payload: Any) -> list[Any] | None:
    """The order entries of a listing's ``data``, or None when there is no list where one belongs.

    openOrders / historyOrders: ``data.orders`` (docs, ccxt and JKorf captures). The OCO list: ``data`` is
    the list itself in the one captured reply (JKorf ``GetOpenOcoOrders``); BingX's AI-skills reference
    wraps it as ``data.ocoOrders``, so that is read too.
    """
    if kind is ListKind.CONDITIONAL:
        if isinstance(payload, list):
            return payload
        inner = payload.get("ocoOrders", payload.get("orders")) if isinstance(payload, dict) else None
        return inner if isinstance(inner, list) else None
    orders = payload.get("orders") if isinstance(payload, dict) else None
    return orders if isinstance(orders, list) else None


def _listed_order(kind: ListKind, entry: Any) -> ListedOrder | str:
    """One listing entry as a :class:`ListedOrder`, or the words of why it cannot be read."""
    if not isinstance(entry, dict):
        return f"is not an object but {type(entry).__name__}"
    raw_id = entry.get("orderId")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        order_id = str(raw_id)
    elif isinstance(raw_id, str):
        order_id = raw_id
    else:  # missing, null, or a float that has lost digits
        return f"has no usable orderId ({clip(raw_id)})"
    if not decimal_id_ok(order_id, ORDER_ID_RE, ORDER_ID_MAX):
        return f"has a malformed orderId {clip(order_id)}"
    raw_symbol = entry.get("symbol")
    symbol = raw_symbol.upper().replace("_", "-") if isinstance(raw_symbol, str) else None
    if symbol is None or SYMBOL_RE.fullmatch(symbol) is None:
        return f"has no usable symbol ({clip(raw_symbol)})"
    client_id = next((v for f in CLIENT_ID_FIELDS if isinstance(v := entry.get(f), str) and v), None)
    order_type = _word(entry.get("type") if "type" in entry else entry.get("orderType"))
    status = entry.get("status")
    if kind is ListKind.CONDITIONAL and status in (None, ""):
        # The documented OCO list has no status field: being on the list of open OCO orders is the word.
        outcome = Outcome(Verdict.OPEN)
    elif isinstance(status, str) and status in QUERY_STATUS:
        outcome = QUERY_STATUS[status]
    else:  # a state word we do not know (or none at all): keep asking, never guess
        word = str(status)[:40] if status is not None else None
        outcome = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, word)
    created = next((ms for f in CREATED_FIELDS if (ms := _as_int(entry.get(f))) is not None and ms > 0), None)
    updated = _as_int(entry.get("updateTime"))
    return ListedOrder(
        symbol=symbol,
        order_id=order_id,
        client_order_id=client_id,
        status=outcome,
        conditional=kind is ListKind.CONDITIONAL or order_type in CONDITIONAL_ORDER_TYPES,
        side=_word(entry.get("side")),
        order_type=order_type,
        price=_number_text(entry.get("price")),
        quantity=_number_text(entry.get("origQty") if "origQty" in entry else entry.get("quantity")),
        filled=_number_text(entry.get("executedQty")),
        created_ms=created,
        updated_ms=updated if updated is not None and updated > 0 else None,
    )


def _oco_leg_state(entry: Mapping[str, Any]) -> Outcome:
    """An OCO leg's ``status`` read as :meth:`BingX.parse_query` reads ``trade/query``'s; none, or a word we
    do not know, settles nothing (a leg in the history without one has finished: cancelled or filled)."""
    status = entry.get("status")
    if isinstance(status, str) and status in QUERY_STATUS:
        return QUERY_STATUS[status]
    if status in (None, ""):
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "OCO history entry without a status")
    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {str(status)[:40]!r}")


def _word(value: Any) -> str | None:
    """A venue word (side, order type) when it is a non-empty string."""
    return value if isinstance(value, str) and value else None


def _number_text(value: Any) -> str | None:
    """A price or quantity as BingX spelled it: strings as they are, JSON numbers in their shortest form."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float):
        return repr(value)
    return None


def _as_int(value: Any) -> int | None:
    """An integer from a JSON number or a numeric string (BingX sends both); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INT_TEXT_RE.fullmatch(value):
        return int(value)
    return None


def _epoch_ms(value: Any) -> int | None:
    """An epoch time in ms from a number or numeric string; below :data:`SECONDS_BELOW` it is read as epoch
    seconds (BingX's captured ``triggerTime``). None when unreadable or not positive."""
    n = _as_int(value)
    if n is None or n <= 0:
        return None
    return n * 1000 if n < SECONDS_BELOW else n


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
