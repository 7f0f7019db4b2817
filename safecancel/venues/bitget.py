"""Bitget spot v2: ``POST /api/v2/spot/trade/batch-cancel-order``.

Docs: https://www.bitget.com/api-doc/spot/trade/Batch-Cancel-Orders (``shared/venues.md`` §5, seed 004).

Request: a compact JSON body ``{"symbol": S, "orderList": [{"orderId": ...}, ...]}`` (or ``clientOid``
items), at most 50 items, one symbol and one id kind per request -- the docs forbid mixing ``orderId``
and ``clientOid`` ("orders that only submit a clientOid will fail to be cancelled"). No ``batchMode`` is
sent: the documented default is ``single``, and ccxt sends none in production (:data:`BATCH_MODE`).

Signing: ``ACCESS-SIGN = base64(HMAC-SHA256(secret, ts + METHOD + path [+ "?" + query] + body))`` over
the exact bytes sent, with ``ACCESS-KEY``, ``ACCESS-TIMESTAMP`` (ms), ``ACCESS-PASSPHRASE`` (required:
:attr:`Bitget.requires` names it), ``Content-Type: application/json`` and ``locale: en-US``.

Reply mapping (§5.5, §6):

- ``code == "00000"``: ``data.successList`` / ``data.failureList`` are matched to our orders by id
  (``orderId`` or ``clientOid``, whichever kind the request carried), never by position.
  - In ``successList`` only: **UNCONFIRMED** whether that means "cancelled" or "cancel accepted"
    (``cancel-symbol-order`` is documented as asynchronous). The default is ``unknown`` with reason
    ``accepted``, so a query confirms it. ``Bitget(trust_success_list=True)`` reports it as
    ``cancelled`` instead: one request fewer per order, at the risk of recording ``cancelled`` for an
    order that a racing fill completes before the accepted cancel takes effect.
  - In ``failureList``: always ``unknown`` (reason ``ambiguous``), code and message kept. The
    "not found / already terminal" codes (``43001 43004 45055 45057 50062 ...``) cannot tell filled from
    cancelled from never-existed, and ``45129`` ("only once per second") does not say whether the
    earlier cancel of that order took effect: the query decides. Which codes appear there is UNCONFIRMED.
  - In both lists (the docs' own sample shows one ``orderId`` in both): ``unknown`` ambiguous, even with
    ``trust_success_list``. In neither: ``unknown`` omitted.
- Any other ``code``: a whole-request :class:`~safecancel.model.Failure` (``40008`` clock,
  ``400xx`` auth, ``429`` rate limit, ``40912``/parameter codes rejected). ``40010`` "Request timed out"
  (ccxt calls it a sign error) and ``40015`` "System is abnormal" may have been applied, as may any code
  we do not know: unknown outcome, so every order is queried rather than resent or written off.
- Only Bitget's own envelope (``{"code": "<code>", "msg": ..., "requestTime": ..., "data": ...}``) is
  Bitget's word. Any other body (a proxy's HTML page, an empty or truncated body, another API's JSON)
  settles no order: its status decides -- 429 rate limited, 401/403 auth, any other 4xx REJECTED
  (refused before Bitget's API answered: check the base URL), 2xx, 408 and 5xx UNKNOWN_OUTCOME -- with
  a message saying in plain words what came back.

Query: ``GET /api/v2/spot/trade/orderInfo?orderId=...`` (or ``clientOid``), signed with the query in
the pre-hash; ``data`` is an array. ``live``/``partially_filled`` -> open, ``filled`` -> failed filled,
``cancelled`` -> cancelled, each outcome carrying Bitget's status word as its message.
UNCONFIRMED whether an unknown order gives ``data: []`` or ``43001`` (in Bitget's envelope): both mean
not found (:data:`EMPTY_QUERY_IS_NOT_FOUND`), believed only after two consecutive answers
(:attr:`Bitget.not_found_confirmations`) and for orders younger than 90 days
(:attr:`Bitget.forget_after_s`). An order whose cancel was just accepted still shows ``live`` (Bitget
has no "cancelling" status), so it reads as open and is re-sent after backoff; a second cancel is
harmless (at worst ``45129``, which is queried again).

Ids (validated before anything is stored): ``orderId`` is documented only as a String of digits
("121211212122"; observed ids are 18-19 digit snowflake numbers such as "1098394041342885888"). No
numeric bound is documented, so :data:`ORDER_ID_MAX` is UNCONFIRMED: 2**63-1, the range of the 64-bit
integers such ids are generated as; the ids are canonical decimals (ASCII digits, no leading zero).
``clientOid``: ASCII ``A-Z a-z 0-9 _ . -``, at most 50 characters (error 40305).

Listings
--------
Three signed ``GET`` endpoints, each 20 requests/s per UID (so :attr:`Bitget.list_rate` is 20/s), each
paged newest first by ``idLessThan`` (the smallest ``orderId`` of the previous page: "requests the content
on the page before this ID (older data)") with ``limit`` at its documented maximum, 100
(:data:`LIST_PAGE_SIZE`). The cursor is that ``orderId`` as a string; it is None when the page was the last.

- OPEN: ``/api/v2/spot/trade/unfilled-orders`` (``symbol`` optional: none lists every symbol;
  ``startTime``/``endTime``/``orderId`` unused). ``data`` is an array; no "more" flag, so a full page
  means there may be more. It lists ordinary orders only: ``tpslType`` defaults to ``normal``, and spot
  TP/SL orders (``tpslType=tpsl``) are listed only when asked for (not done here -- UNCONFIRMED what they
  are on an account and whether batch-cancel-order cancels them). An order whose cancel was accepted
  still reads ``live`` here (:attr:`Bitget.pending_cancel_reads_open`). The doc sample spells the state
  ``new`` and the symbol ``btcusdt``: ``new`` reads open, symbols are upper-cased.
  https://www.bitget.com/api-doc/spot/trade/Get-Unfilled-Orders
- CONDITIONAL: plan (trigger) orders live apart, on ``/api/v2/spot/trade/current-plan-order``
  (``symbol`` optional in the current docs; ``limit`` default 20, max 100). ``data`` is an object
  ``{"nextFlag": bool, "idLessThan": "...", "orderList": [...]}``; a page has more after it when
  ``nextFlag`` is true *or* the page is full (one request more, never an order missed). Plan states:
  ``live`` (not triggered) and, in the doc sample, ``not_trigger`` read open; ``executing`` (the trigger
  fired, the order is being placed) is unknown. Plan orders are cancelled by ``cancel-plan-order`` /
  ``batch-cancel-plan-order``, never by batch-cancel-order, and orderInfo does not show them.
  https://www.bitget.com/api-doc/spot/plan/Get-Current-Plan-Order
- HISTORY: ``/api/v2/spot/trade/history-orders``, with ``startTime`` = the earliest creation time
  wanted, clipped to :attr:`Bitget.history_window_s` (the docs: "only supports to get the data within
  90days"; an hour is kept in hand so that clock skew and transit never push ``startTime`` outside the
  window). No ``endTime`` is sent: the range runs to the venue's now, which is within 90 days of any
  accepted ``startTime``. This is the endpoint Bitget itself names for learning the outcome of its
  asynchronous cancels (cancel-symbol-order: "If you need to know the result, please query the Get
  History Orders endpoint"), and it documents 90 days of orders, cancelled ones included -- the longest
  reach any spot order endpoint documents (orderInfo documents none) -- so it settles orders in bulk.
  https://www.bitget.com/api-doc/spot/trade/Get-History-Orders

Every entry is read like :meth:`Bitget.parse_query` reads an order (:data:`QUERY_STATUS`, plus
:data:`PLAN_STATUS` for plan orders). An entry without a usable ``orderId`` or ``symbol``, or a
non-list where the list belongs, makes the whole page an UNKNOWN_OUTCOME failure: a listing that may
have dropped an order never passes for complete. So does a cursor that does not move backwards.

UNCONFIRMED: how an out-of-range ``limit`` is answered (the fake refuses it with ``40020``); whether
history-orders also returns live orders (the parser reads any state; the fake lists final ones only);
whether ``startTime`` filters on ``cTime`` (assumed) or ``uTime``; the error for a ``startTime`` older
than 90 days (``43111`` "param error time range illegal" is what Bitget answers on fills; the fake does
the same here); whether current-plan-order ever required ``symbol`` (the current docs say no); whether
``nextFlag`` is reliable (a full page is followed either way).

Conditional orders
------------------
Bitget keeps plan (trigger) orders apart: they are listed by current-plan-order (above), never shown by
unfilled-orders or orderInfo, and never cancelled by batch-cancel-order (``43001``). An
:class:`~safecancel.model.OrderRef` with ``conditional=True`` is a plan order, and is routed to the plan
endpoints (endpoint names still ``cancel`` and ``query``):

- Cancel: ``POST /api/v2/spot/trade/cancel-plan-order`` with the body ``{"orderId": "..."}`` (no symbol:
  the endpoint takes none). "Either 'orderId' or 'clientOid' is required"; **one order per request**, so
  :meth:`Bitget.plan_chunks` gives every plan order a chunk of its own and never mixes plan and ordinary
  orders. Rate "20 times/1s (UID)" (the batch-cancel's 10/s, :attr:`Bitget.cancel_rate`, paces both: one
  bucket for every ``cancel`` request). Reply ``{"code": "00000", ..., "data": {"result": "success"}}``
  (``result``: "Result is success or failure"; ccxt's real sample is the same).
  https://www.bitget.com/api-doc/spot/plan/Cancel-Plan-Order
- Reading that reply: the docs do not say that the plan is cancelled when ``success`` comes back (nor that
  it is not): the page documents no state change, Bitget documents its other cancels as asynchronous
  (cancel-symbol-order) or leaves it open (batch-cancel-order), and a plan may be ``executing`` (its
  trigger fired, an order being placed) when the cancel arrives. So ``success`` is **UNKNOWN / accepted**
  and a query confirms it, like a successList entry (``trust_success_list`` does not apply to plans).
  ``result: "failure"`` is UNKNOWN / ambiguous (the query decides), as are ``43025`` "Plan order does
  not exist" and ``43026`` "The planned order has been closed" (already finished, or never existed: only
  the query can tell) and the ordinary not-found / finished codes (``43001`` ...). A 00000 reply without
  a ``result`` leaves the order out (UNKNOWN / omitted). Any other code fails the request as a whole,
  classified as for batch-cancel-order.
- Query: Bitget documents **no single-plan-order query** (orderInfo does not show plans; plan-sub-order
  lists the spot orders a triggered plan placed, not the plan's own state). The plan's final state is
  documented in one place: ``GET /api/v2/spot/trade/history-plan-order`` (status ``executed``,
  ``fail_execute``, ``cancelled``; 20/s UID; ``symbol``, ``startTime``, ``endTime`` optional since
  2025-10-21, the range at most 90 days; ``limit`` default and max 100; paged by ``idLessThan``). The
  query is a narrow page of it: ``symbol`` = the ref's, ``startTime`` = now minus
  :attr:`Bitget.history_window_s` (as the HISTORY listing), ``idLessThan`` = orderId + 1 (so the page
  starts at this order: ids older than orderId + 1, newest first) and ``limit`` = 100 (so that the order
  is still on the page if Bitget sorts it otherwise). The entry with this ``orderId`` is read:
  ``cancelled`` -> cancelled, ``executed`` -> failed (reason ``filled``: the trigger fired and placed its
  order before the cancel took -- that order is an ordinary one, on unfilled-orders), ``fail_execute`` ->
  failed (reason ``expired``: the plan ended at the venue without an order), ``live``/``not_trigger`` ->
  open, ``executing`` or any other word -> unknown. An entry on another symbol, or two entries that
  disagree, are unknown. **No entry is unknown too, never "not found" nor "open"**: a plan that is still
  live (or whose accepted cancel has not landed yet) is not in the history, and neither is one older than
  the window or one Bitget never had -- only the venue's word settles a plan. Whether a plan is still
  live is learnt from the CONDITIONAL listing (current-plan-order: ``live`` reads open, so a kill
  switch's sweep re-sends it). https://www.bitget.com/api-doc/spot/plan/Get-History-Plan-Order
- Ids: plan orders are named by ``orderId`` only. cancel-plan-order would take a ``clientOid``, but
  history-plan-order cannot look one up (no ``clientOid`` filter, and ``idLessThan`` needs the id), so a
  plan named by its client id could be cancelled but never confirmed: :meth:`Bitget.validate` refuses such a
  ref, naming it. Listings always give the ``orderId``.

UNCONFIRMED (conditional orders): whether cancel-plan-order is synchronous (read as accepted either
way); which code it answers for an unknown or finished plan (``43025`` is ccxt's "Plan order does not
exist", ``43026`` the error table's "The planned order has been closed"; both are left to the query);
whether ``result: "failure"`` ever comes with code 00000; that history-plan-order's ``idLessThan`` means
"orderId smaller than" and that it is sorted newest first by ``orderId`` (as the docs' "endId" paging
implies; a page sorted otherwise still shows the order while fewer than 100 older plans were finished
in the window); whether its ``startTime`` filters on creation (assumed) or on the update time (either
way a plan created or finished in the last 90 days is inside); how long it keeps a plan (documented
only as the 90-day range). Spot TP/SL orders (``tpslType=tpsl``, see "Listings") are not plan orders
and are not modelled.

Cancel-all
----------
``POST /api/v2/spot/trade/cancel-symbol-order`` with the body ``{"symbol": "BTCUSDT"}``: ``symbol`` is
required ("Yes"), so :attr:`Bitget.cancel_all_needs_symbol` and None is an :class:`InputError`. "Frequency
limit: 5 times/1s (UID)" (:attr:`Bitget.cancel_all_rate`). Reply
``{"code": "00000", ..., "data": {"symbol": "BGBUSDT"}}`` -- "Cancelled symbol (This request is executed
asynchronously. If you need to know the result, please query the Get History Orders endpoint.)". It names
no order and has no paging, so :meth:`Bitget.parse_cancel_all` returns False (nothing to call again) or a
failure classified like the batch cancel's; a 00000 reply that echoes another symbol, or none, is an
unknown outcome. "No order to cancel" (``43004``, ``22001``, ``31054``) also reads False: nothing remains.
The orders' fate is learnt from the listings (unfilled-orders shows them ``live`` until the cancel lands,
history-orders then shows them ``cancelled``). It cancels every ordinary order of the symbol, whoever
placed it (no client-id scope). https://www.bitget.com/api-doc/spot/trade/Cancel-Symbol-Orders

UNCONFIRMED (cancel-all): whether it also cancels plan orders or spot TP/SL orders of the symbol (not
documented; ccxt cancels plans with batch-cancel-plan-order instead, and the fake leaves them alone, so
a kill switch cancels plans by id); what it answers when nothing is open (assumed the same success).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import islice
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
    chunk_by,
    clip,
    compact_json,
    decimal_id_ok,
    decimal_id_re,
    flaw,
    foreign_reply_failure,
    generic_http_failure,
    hmac_b64,
    load_json,
    names_another_order,
    retry_after_seconds,
    str_or_none,
)

CANCEL_PATH = "/api/v2/spot/trade/batch-cancel-order"
QUERY_PATH = "/api/v2/spot/trade/orderInfo"
TIME_PATH = "/api/v2/public/time"
OPEN_LIST_PATH = "/api/v2/spot/trade/unfilled-orders"
PLAN_LIST_PATH = "/api/v2/spot/trade/current-plan-order"
HISTORY_LIST_PATH = "/api/v2/spot/trade/history-orders"
# Plan (conditional) orders and the venue's cancel-all (module docstring, "Conditional orders", "Cancel-all").
PLAN_CANCEL_PATH = "/api/v2/spot/trade/cancel-plan-order"
PLAN_QUERY_PATH = "/api/v2/spot/trade/history-plan-order"
CANCEL_ALL_PATH = "/api/v2/spot/trade/cancel-symbol-order"

MAX_BATCH = 50  # "orderList ... maximum length: 50"; more gets 40912 (seed 004, §5.4)
# ``batchMode`` is optional and defaults to "single" (top-level symbol). ccxt omits it in production,
# so omitting it is evidently accepted; set to "single" here if Bitget ever changes the default.
BATCH_MODE: str | None = None
LOCALE = "en-US"  # without it, messages may come back in Chinese (ccxt#24559)

SUCCESS_CODE = "00000"

# Spot symbols are the exchange's concatenated upper-case pair: BTCUSDT, ETHBTC.
SYMBOL_RE = re.compile(r"[A-Z0-9]{2,30}", re.ASCII)
# UNCONFIRMED bound: orderId is a String of digits in the docs (seed 004, orderInfo); observed ids are
# 64-bit snowflake numbers ("1098394041342885888"), so 2**63-1 is the conservative bound.
ORDER_ID_MAX = INT64_MAX
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)
# Client ids are limited to URL-unreserved characters. Whether Bitget verifies a GET signature over
# the percent-encoded query as sent (what ccxt signs) or over the decoded one is not documented; with
# these characters the two are the same bytes, so the query is safe under both readings. Bitget caps
# clientOid at 50 characters (error 40305).
CLIENT_ID_MAX_LEN = 50
CLIENT_ID_RE = re.compile(rf"[A-Za-z0-9_.\-]{{1,{CLIENT_ID_MAX_LEN}}}", re.ASCII)
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected e.g. BTCUSDT",
    ORDER_ID_RE,
    "orderId",
    f"numeric (ASCII digits, no leading zero, 1..{ORDER_ID_MAX})",
    CLIENT_ID_RE,
    "clientOid",
    "1-50 of A-Z a-z 0-9 _ . -",
    ORDER_ID_MAX,
    client_id_max_len=CLIENT_ID_MAX_LEN,
)

# Error codes: https://www.bitget.com/api-doc/spot/error-code/restapi (§5.5) and ccxt's map.
RATE_LIMIT_CODES = frozenset({"429"})
CLOCK_CODES = frozenset(
    {
        "40008",  # Request timestamp expired
        "40005",  # Invalid ACCESS_TIMESTAMP (ccxt: InvalidNonce)
        "40004",  # Request timestamp expired (older table)
        "40911",  # Request timestamp expired (futures table)
    }
)
AUTH_CODES = frozenset(
    {
        "40001",  # ACCESS_KEY cannot be empty
        "40002",  # ACCESS_SIGN cannot be empty
        "40003",  # Signature cannot be empty
        "40006",  # Invalid ACCESS_KEY
        "40009",  # sign signature error
        "40011",  # ACCESS_PASSPHRASE cannot be empty
        "40012",  # apikey/password is incorrect
        "40013",  # User status is abnormal
        "40014",  # Incorrect permissions
        "40018",  # Invalid IP
        "40022",  # The business of this account has been restricted
        "40023",  # API service has been restricted
        "40026",  # User is disabled
        "40036",  # passphrase is error
        "40037",  # Apikey does not exist
        "40038",  # The current ip is not in the apikey ip whitelist
        "40041",  # User's ApiKey does not exist
    }
)
# May have been applied: the orders are queried, never blindly resent.
UNKNOWN_OUTCOME_CODES = frozenset(
    {
        "40010",  # "Request timed out" in Bitget's table, "sign signature error" in ccxt's: query either way
        "40015",  # System is abnormal, please try again later
        "40910",  # Operation timed out
        "45001",  # Unknown error
    }
)
# A definite refusal of the whole request before anything was applied.
REJECTED_CODES = frozenset(
    {
        "00171",  # Parameter verification failed
        "00172",  # Parameter verification failed
        "40007",  # Invalid Content_Type
        "40017",  # Parameter verification failed
        "40019",  # Parameter {0} cannot be empty
        "40020",  # Parameter {0} error
        "40034",  # Parameter {0} does not exist
        "40912",  # single cancel cannot exceed 50
        "40913",  # Either orderId or clientId is required (ccxt)
        "00001",  # startTime and endTime interval cannot be greater than {0} days (listings)
        "20001",  # startTime should be less than endTime (listings)
    }
)
# Per-order "not found / already terminal": filled, cancelled or never existed -- only a query can tell.
ORDER_STATE_CODES = frozenset(
    {
        "43001",  # The order does not exist
        "43004",  # There is no order to cancel
        "45031",  # The order is finalized
        "45055",  # The current order status cannot be cancelled
        "45057",  # The order does not exist!
        "45134",  # The order {0}:{1} have filled or cancelled
        "50062",  # order status is cancelled or fullFill
    }
)
# "Cancel order is too frequent, the same orderId is only allowed to be canceled once in a second."
# The order was open a moment ago, but the earlier cancel that triggered this may be taking effect:
# claiming OPEN could re-send for nothing and claiming anything terminal would be a guess, so query.
TRANSIENT_ORDER_CODES = frozenset({"45129"})
# The query's "no such order" codes (futures has 40109/40768; spot documents 43001).
QUERY_NOT_FOUND_CODES = frozenset({"43001", "45057"})
# UNCONFIRMED (§5.6): the docs do not say whether orderInfo answers an unknown id with ``data: []`` or
# with 43001. Both are read as "not found"; set False to keep an empty array ``unknown`` instead.
EMPTY_QUERY_IS_NOT_FOUND = True

# Each outcome carries Bitget's own status word as its message (Bitget has no status code).
QUERY_STATUS: Mapping[str, Outcome] = {
    "live": Outcome(Verdict.OPEN, None, None, "live"),
    "partially_filled": Outcome(Verdict.OPEN, None, None, "partially_filled"),
    "filled": Outcome(Verdict.FAILED, REASON_FILLED, None, "filled"),
    "cancelled": Outcome(Verdict.CANCELLED, None, None, "cancelled"),
    # The unfilled-orders doc sample's word for a resting order (v1's spelling of ``live``); ccxt reads it open.
    "new": Outcome(Verdict.OPEN, None, None, "new"),
}
# Plan (trigger) orders have states of their own. current-plan-order: ``live`` "not triggered", the doc
# sample's ``not_trigger``, and ``executing`` "order placing" -- the trigger fired and an ordinary order is
# being placed, so the plan is neither resting nor settled: ask again. history-plan-order: ``executed``
# "Executed successfully" (the trigger fired and placed its order before any cancel took: failed, read
# like a fill), ``fail_execute`` "Fail in execution" (the plan ended at the venue without an order: failed,
# expired) and ``cancelled``.
PLAN_STATUS: Mapping[str, Outcome] = {
    **QUERY_STATUS,
    "not_trigger": Outcome(Verdict.OPEN, None, None, "not_trigger"),
    "executing": Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "executing"),
    "executed": Outcome(Verdict.FAILED, REASON_FILLED, None, "executed"),
    "fail_execute": Outcome(Verdict.FAILED, REASON_EXPIRED, None, "fail_execute"),
}
# cancel-plan-order's per-order answers that only a query can read: "Plan order does not exist" (ccxt) and
# "The planned order has been closed" (error table) -- finished, or never there.
PLAN_STATE_CODES = frozenset({"43025", "43026"})
PLAN_RESULT_SUCCESS = "success"
# cancel-symbol-order's "nothing to cancel" answers (error table): nothing remains for another call.
NOTHING_TO_CANCEL_CODES = frozenset({"43004", "22001", "31054"})

# Listings (module docstring, "Listings"): all three endpoints document "limit ... max 100".
LIST_PAGE_SIZE = 100
LIST_PATHS: Mapping[ListKind, str] = {
    ListKind.OPEN: OPEN_LIST_PATH,
    ListKind.CONDITIONAL: PLAN_LIST_PATH,
    ListKind.HISTORY: HISTORY_LIST_PATH,
}
LIST_ENDPOINTS: Mapping[ListKind, str] = {
    ListKind.OPEN: "list_open",
    ListKind.CONDITIONAL: "list_conditional",
    ListKind.HISTORY: "list_history",
}
LIST_NAMES: Mapping[ListKind, str] = {
    ListKind.OPEN: "unfilled-orders",
    ListKind.CONDITIONAL: "current-plan-order",
    ListKind.HISTORY: "history-orders",
}
# history-orders "only supports to get the data within 90days"; an hour is kept in hand so that the
# startTime sent never falls outside the venue's window through clock skew or transit time.
HISTORY_DAYS = 90
HISTORY_MARGIN_S = 3600.0


class Bitget(VenueAdapter):
    """Adapter for Bitget spot (API v2).

    Args:
        base_url: Defaults to production, ``https://api.bitget.com``.
        max_batch: Orders per request, 1..50 (default 50).
        trust_success_list: Report orders in ``successList`` as ``cancelled`` without a query. Off by
            default because the docs do not say the cancel has taken effect when the reply is sent. It
            does not apply to plan orders: cancel-plan-order's ``success`` is always confirmed by a query.
    """

    name: ClassVar[str] = "bitget"
    default_base_url: ClassVar[str] = "https://api.bitget.com"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset({"access-key", "access-sign", "access-passphrase"})
    secret_params: ClassVar[frozenset[str]] = frozenset()  # nothing secret travels in the query
    cancel_rate: ClassVar[Rate] = Rate(10, 1.0)  # 10/s per UID (seed 004)
    query_rate: ClassVar[Rate] = Rate(20, 1.0)  # orderInfo: 20/s per UID (§5.6)
    # No shared_budget: the overall 6000 requests/min per IP (venues.md §5.4 [BG-RL], docs/bitget/rate_limits.md)
    # is above what these per-UID rates add up to (10 + 20 + 20 + 5 = 55/s, 3300/min), so it never binds.
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret", "passphrase")
    example_symbol: ClassVar[str] = "BTCUSDT"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = MAX_BATCH
    hard_max_batch: ClassVar[int] = MAX_BATCH
    # "Not found" is read from two shapes, neither documented for unknown ids (UNCONFIRMED, §5.6), and a
    # fresh order may not be visible yet: two consecutive answers before an order is settled not_found.
    not_found_confirmations: ClassVar[int] = 2
    # History queries "only support data within 90 days" (§5.6 [BG-HIST]); that orderInfo keeps orders
    # as long is UNCONFIRMED, so past this a "not found" proves nothing and an operator decides.
    forget_after_s: ClassVar[float | None] = 90 * 24 * 3600.0
    # The docs do not say a batch cancel has taken effect when the reply is sent (cancel-symbol-order is
    # documented as asynchronous), and orderInfo shows an accepted cancel as `live` until it has.
    asynchronous_cancel: ClassVar[bool] = True
    pending_cancel_reads_open: ClassVar[bool] = True
    # unfilled-orders, current-plan-order and history-orders are each "Frequency limit: 20 times/1s (UID)"
    # (https://www.bitget.com/api-doc/spot/trade/Get-Unfilled-Orders, .../spot/plan/Get-Current-Plan-Order,
    # .../spot/trade/Get-History-Orders): one 20/s bucket paces them all.
    list_rate: ClassVar[Rate] = Rate(20, 1.0)
    # Plan orders are kept on a list of their own (current-plan-order).
    list_kinds: ClassVar[frozenset[ListKind]] = frozenset({ListKind.OPEN, ListKind.CONDITIONAL, ListKind.HISTORY})
    list_needs_symbol: ClassVar[frozenset[ListKind]] = frozenset()  # symbol is optional on all three
    history_window_s: ClassVar[float] = HISTORY_DAYS * 24 * 3600.0 - HISTORY_MARGIN_S
    # cancel-symbol-order (module docstring, "Cancel-all"): "Frequency limit: 5 times/1s (UID)", and
    # ``symbol`` is required.
    cancel_all_rate: ClassVar[Rate] = Rate(5, 1.0)
    cancel_all_needs_symbol: ClassVar[bool] = True

    def __init__(
        self, base_url: str | None = None, *, max_batch: int | None = None, trust_success_list: bool = False
    ) -> None:
        super().__init__(base_url, max_batch=max_batch)
        self.trust_success_list = bool(trust_success_list)

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        """Names the first bad symbol or id; a plan (conditional) order must be named by ``orderId``
        (module docstring, "Conditional orders": history-plan-order cannot look up a ``clientOid``)."""
        # The refs before the first plan order named by clientOid are checked as usual, then that one.
        first = next((i for i, r in enumerate(refs) if r.conditional and r.kind is not IdKind.ORDER_ID), None)
        if first is None:
            check_refs(self.name, refs, ID_FORMAT)
            return
        check_refs(self.name, islice(refs, first + 1), ID_FORMAT)
        ref = refs[first]
        raise InputError(
            f"{self.name}: plan (conditional) order clientOid {clip(ref.client_order_id)} on {clip(ref.symbol)} "
            "must be named by its orderId: Bitget cancels plan orders by either id, but history-plan-order, "
            "the only place their final state is documented, cannot look up a clientOid (list the plan "
            "orders to learn their orderIds)"
        )

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # Ordinary orders: one symbol (single batch mode) and one id kind (mixing is refused) per request.
        # Plan orders: cancel-plan-order takes one order per request, so each is a chunk of its own.
        chunks = chunk_by([r for r in refs if not r.conditional], self.max_batch)
        chunks.extend([r] for r in refs if r.conditional)
        return chunks

    # -- signing -----------------------------------------------------------------------------

    def _headers(self, creds: Credentials, now_ms: int, prehash_tail: str) -> dict[str, str]:
        if not creds.passphrase:
            raise InputError("bitget: credentials need a passphrase (SAFECANCEL_BITGET_PASSPHRASE)")
        ts = str(now_ms)
        return {
            "ACCESS-KEY": creds.api_key,
            "ACCESS-SIGN": hmac_b64(creds.api_secret, ts + prehash_tail),
            "ACCESS-TIMESTAMP": ts,
            "ACCESS-PASSPHRASE": creds.passphrase,
            "Content-Type": "application/json",
            "locale": LOCALE,
        }

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        if any(r.conditional for r in refs):
            return self._build_plan_cancel(refs, creds, now_ms)
        if not refs or len(refs) > self.max_batch:
            raise InputError(f"bitget: a batch holds 1..{self.max_batch} orders, got {len(refs)}")
        kind, symbol = refs[0].kind, refs[0].symbol
        if any(r.kind is not kind or r.symbol != symbol for r in refs):
            raise InputError("bitget: one request carries one symbol and one id kind (use plan_chunks)")
        key = "orderId" if kind is IdKind.ORDER_ID else "clientOid"
        payload: dict[str, Any] = {"symbol": symbol}
        if BATCH_MODE is not None:
            payload["batchMode"] = BATCH_MODE
        payload["orderList"] = [{key: r.value} for r in refs]
        body = compact_json(payload)
        headers = self._headers(creds, now_ms, "POST" + CANCEL_PATH + body)
        return HttpRequest("POST", CANCEL_PATH, "", body.encode("utf-8"), headers, "cancel")

    def _build_plan_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        """cancel-plan-order for a chunk of one plan order (module docstring, "Conditional orders")."""
        if len(refs) != 1 or not refs[0].conditional:
            raise InputError(
                f"{self.name}: cancel-plan-order takes one plan order per request and no ordinary order, "
                f"got {len(refs)} orders (use plan_chunks)"
            )
        ref = refs[0]
        self.validate(refs)
        body = compact_json({"orderId": ref.order_id})
        headers = self._headers(creds, now_ms, "POST" + PLAN_CANCEL_PATH + body)
        return HttpRequest("POST", PLAN_CANCEL_PATH, "", body.encode("utf-8"), headers, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        if ref.conditional:
            return self._build_plan_query(ref, creds, now_ms)
        key = "orderId" if ref.kind is IdKind.ORDER_ID else "clientOid"
        query = urlencode([(key, ref.value)])  # unreserved characters only: encoded == raw
        headers = self._headers(creds, now_ms, "GET" + QUERY_PATH + "?" + query)
        return HttpRequest("GET", QUERY_PATH, query, None, headers, "query")

    def _build_plan_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        """A narrow page of history-plan-order that starts at this plan order (module docstring,
        "Conditional orders"): Bitget documents no single-plan-order query."""
        self.validate((ref,))
        assert ref.order_id is not None  # validate: plan orders are named by orderId
        params = [("symbol", ref.symbol), ("startTime", str(self._history_start(now_ms, None)))]
        if int(ref.order_id) < ORDER_ID_MAX:  # "smaller than orderId + 1"; the largest id needs no bound
            params.append(("idLessThan", str(int(ref.order_id) + 1)))
        params.append(("limit", str(LIST_PAGE_SIZE)))
        query = urlencode(params)  # symbols and digits only: encoded == raw
        headers = self._headers(creds, now_ms, "GET" + PLAN_QUERY_PATH + "?" + query)
        return HttpRequest("GET", PLAN_QUERY_PATH, query, None, headers, "query")

    def build_cancel_all(
        self, symbol: str | None, creds: Credentials, now_ms: int, *, account: str | None = None
    ) -> HttpRequest:
        """cancel-symbol-order for one symbol (module docstring, "Cancel-all"). The symbol is required
        (None is an :class:`InputError`, as is a symbol :meth:`validate` would refuse); ``account`` is not
        used: Bitget needs no account id."""
        if symbol is None:
            raise InputError(
                f"{self.name}: the venue's cancel-all (cancel-symbol-order) needs a symbol, e.g. "
                f"{self.example_symbol}; cancel every symbol one at a time"
            )
        self._check_symbol(symbol)
        body = compact_json({"symbol": symbol})
        headers = self._headers(creds, now_ms, "POST" + CANCEL_ALL_PATH + body)
        return HttpRequest("POST", CANCEL_ALL_PATH, "", body.encode("utf-8"), headers, "cancel_all")

    def _check_symbol(self, symbol: object) -> None:
        if not isinstance(symbol, str) or SYMBOL_RE.fullmatch(symbol) is None:
            detail = flaw(symbol)
            raise InputError(
                f"{self.name}: malformed symbol {clip(symbol)} ({detail + '; ' if detail else ''}expected e.g. BTCUSDT)"
            )

    def build_time(self) -> HttpRequest:
        return HttpRequest("GET", TIME_PATH, endpoint="time")

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
        """One page of unfilled-orders (OPEN), current-plan-order (CONDITIONAL) or history-orders (HISTORY).

        ``since_ms`` is read for HISTORY only (``startTime``, clipped to :attr:`history_window_s`; pass the
        same value for every page of one listing). ``account`` is not used: Bitget needs no account id.
        """
        if kind not in self.list_kinds:
            raise InputError(f"bitget: no {kind!s} listing")
        if symbol is None and kind in self.list_needs_symbol:
            raise InputError(f"bitget: the {kind!s} listing needs a symbol")
        if symbol is not None:
            self._check_symbol(symbol)
        if cursor is not None and not decimal_id_ok(cursor, ORDER_ID_RE, ORDER_ID_MAX):
            raise InputError(f"bitget: {clip(cursor)} is not a listing cursor (an orderId from a previous page)")
        params: list[tuple[str, str]] = []
        if symbol is not None:
            params.append(("symbol", symbol))
        if kind is ListKind.HISTORY:
            params.append(("startTime", str(self._history_start(now_ms, since_ms))))
        if cursor is not None:
            params.append(("idLessThan", cursor))
        params.append(("limit", str(LIST_PAGE_SIZE)))
        path = LIST_PATHS[kind]
        query = urlencode(params)  # symbols and digits only: encoded == raw, whichever form Bitget signs
        headers = self._headers(creds, now_ms, "GET" + path + "?" + query)
        return HttpRequest("GET", path, query, None, headers, LIST_ENDPOINTS[kind])

    def _history_start(self, now_ms: int, since_ms: int | None) -> int:
        """``startTime``: ``since_ms``, but no earlier than the window reaches and no later than now."""
        if since_ms is not None and (isinstance(since_ms, bool) or not isinstance(since_ms, int)):
            raise InputError(f"bitget: since_ms must be epoch milliseconds, got {clip(since_ms)}")
        floor = now_ms - int(self.history_window_s * 1000)
        start = floor if since_ms is None else max(since_ms, floor)
        # A since_ms ahead of the venue's clock would be refused ("startTime should be less than endTime").
        return min(start, now_ms)

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        data = load_json(resp)
        if not isinstance(data, dict):
            return None
        inner = data.get("data")
        ok = resp.status == 200 and _code(data) == SUCCESS_CODE
        server = inner.get("serverTime") if ok and isinstance(inner, dict) else None
        # Every Bitget reply, errors included, also carries the server's ``requestTime``: a fallback
        # that lets a 40008 reply re-measure the clock without another request.
        for value in (server, data.get("requestTime")):
            ms = _as_ms(value)
            if ms is not None:
                return ms
        return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        if any(r.conditional for r in refs):
            return self._parse_plan_cancel(refs, resp)
        data = load_json(resp)
        code = _code(data)
        if code in ORDER_STATE_CODES or code in TRANSIENT_ORDER_CODES:
            # A per-order answer given to the whole request: it settles nothing about any one order.
            msg = _msg(data)
            return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg) for ref in refs}
        if resp.status != 200 or code != SUCCESS_CODE:
            return self._failure(resp, data, code)
        inner = data.get("data")
        if not isinstance(inner, dict):
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, "success reply without data", resp.status)
        success = _index(inner.get("successList"))
        failure = _index(inner.get("failureList"))
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            key = ("orderId" if ref.kind is IdKind.ORDER_ID else "clientOid", ref.value)
            failed = failure.get(key)
            if failed is not None:
                fcode = str_or_none(failed.get("errorCode"))
                fmsg = str_or_none(failed.get("errorMsg"))
                if key in success:
                    fmsg = f"in both successList and failureList: {fmsg}"
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, fcode, fmsg)
            elif key in success:
                if self.trust_success_list:
                    out[ref] = Outcome(Verdict.CANCELLED, None, code)
                else:
                    out[ref] = Outcome(Verdict.UNKNOWN, REASON_ACCEPTED, code, "in successList")
            else:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED, code, "in neither successList nor failureList")
        return out

    def _parse_plan_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        """cancel-plan-order's reply (module docstring, "Conditional orders"): ``success`` is accepted, never
        cancelled -- the query confirms it."""
        data = load_json(resp)
        code = _code(data)
        if len(refs) != 1 or not refs[0].conditional:
            # Never built so (build_cancel refuses it): a reply about one plan order settles no other.
            why = "cancel-plan-order carries one plan order; this reply cannot be read for these orders"
            return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, why) for ref in refs}
        ref = refs[0]
        if code in PLAN_STATE_CODES or code in ORDER_STATE_CODES or code in TRANSIENT_ORDER_CODES:
            # Finished, never there, or busy: only the query can tell which.
            msg = _msg(data)
            return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg[:200] if msg is not None else None)}
        if resp.status != 200 or code != SUCCESS_CODE:
            return self._failure(resp, data, code)
        inner = data.get("data")
        result = inner.get("result") if isinstance(inner, dict) else None
        if result == PLAN_RESULT_SUCCESS:
            return {ref: Outcome(Verdict.UNKNOWN, REASON_ACCEPTED, code, "result: success")}
        if result is None:
            return {ref: Outcome(Verdict.UNKNOWN, REASON_OMITTED, code, "cancel-plan-order reply without a result")}
        return {ref: Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, f"result: {str(result)[:40]}")}

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        if ref.conditional:
            return self._parse_plan_query(ref, resp)
        data = load_json(resp)
        code = _code(data)
        if code in QUERY_NOT_FOUND_CODES and 200 <= resp.status < 500:
            # "The order does not exist" in Bitget's own envelope (HTTP 400 in practice).
            msg = _msg(data)
            msg = msg[:200] if msg is not None else None
            if names_another_order(msg, ref):
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg)
            return Outcome(Verdict.FAILED, REASON_NOT_FOUND, code, msg)
        if resp.status != 200 or code != SUCCESS_CODE:
            return self._failure(resp, data, code)
        entries = data.get("data")
        if isinstance(entries, dict):  # documented as an array; a bare object says the same thing
            entries = [entries]
        if not isinstance(entries, list):
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "orderInfo reply without data")
        if not entries:
            if EMPTY_QUERY_IS_NOT_FOUND:
                return Outcome(Verdict.FAILED, REASON_NOT_FOUND, code, "orderInfo returned no order")
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "orderInfo returned no order")
        key = "orderId" if ref.kind is IdKind.ORDER_ID else "clientOid"
        mine = [e for e in entries if isinstance(e, dict) and str_or_none(e.get(key)) == ref.value]
        if not mine:
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "orderInfo returned other orders only")
        here = [e for e in mine if not isinstance(e.get("symbol"), str) or e["symbol"].upper() == ref.symbol.upper()]
        if not here:
            # The id exists, but on another symbol: the order as given does not exist, and cancelling
            # with this symbol can never succeed. Failing loudly beats re-sending forever.
            other = mine[0].get("symbol")
            return Outcome(Verdict.FAILED, REASON_NOT_FOUND, code, f"order is on {other}, not {ref.symbol}")
        outcomes = {self._status_outcome(e) for e in here}
        if len(outcomes) == 1:
            return outcomes.pop()
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "orderInfo returned conflicting orders")

    def _parse_plan_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        """The plan order's entry on a history-plan-order page (module docstring, "Conditional orders").
        No entry is unknown, never "not found" nor "open": a live plan is not in the history."""
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != SUCCESS_CODE:
            return self._failure(resp, data, code)
        inner = data.get("data")
        entries = inner.get("orderList") if isinstance(inner, dict) else None
        if entries is None and isinstance(inner, dict) and inner.get("nextFlag") is False:
            entries = []  # "no plan orders" may come as a null list, as on current-plan-order
        if not isinstance(entries, list):
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "history-plan-order reply without an order list")
        mine = [e for e in entries if isinstance(e, dict) and _text(e.get("orderId")) == ref.order_id]
        if not mine:
            return Outcome(
                Verdict.UNKNOWN,
                REASON_AMBIGUOUS,
                code,
                "not in history-plan-order: still live, its cancel not yet landed, or unknown to Bitget",
            )
        symbols = {_upper_or_none(e.get("symbol")) for e in mine}
        if symbols != {_upper_or_none(ref.symbol)}:
            other = ", ".join(sorted(str(x)[:30] for x in symbols))
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, f"history-plan-order shows it on {other}")
        outcomes = {self._status_outcome(e, PLAN_STATUS) for e in mine}
        if len(outcomes) == 1:
            return outcomes.pop()
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "history-plan-order returned conflicting entries")

    def parse_cancel_all(self, symbol: str | None, resp: HttpResponse) -> Failure | bool:
        """False (cancel-symbol-order has no paging: nothing to call again) or a failure classified like
        the batch cancel's (module docstring, "Cancel-all"). The reply names no order and settles none."""
        data = load_json(resp)
        code = _code(data)
        if code in NOTHING_TO_CANCEL_CODES and 200 <= resp.status < 500:
            return False  # "No order to cancel": nothing remains for another call
        if resp.status != 200 or code != SUCCESS_CODE:
            return self._failure(resp, data, code)
        inner = data.get("data")
        echoed = inner.get("symbol") if isinstance(inner, dict) else None
        if not isinstance(echoed, str):
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, "cancel-symbol-order reply without its symbol", 200)
        if echoed.upper() != _upper_or_none(symbol):
            return Failure(
                FailureKind.UNKNOWN_OUTCOME,
                code,
                f"cancel-symbol-order answered for {clip(echoed)}, not {clip(symbol)}",
                200,
            )
        return False

    def parse_list(
        self, kind: ListKind, symbol: str | None, resp: HttpResponse, *, cursor: str | None = None
    ) -> ListReply:
        """One page of a listing (module docstring, "Listings"); ``cursor`` is the one the page was asked with."""
        data = load_json(resp)
        code = _code(data)
        if resp.status != 200 or code != SUCCESS_CODE:
            return self._failure(resp, data, code)
        name = LIST_NAMES.get(kind, str(kind))
        inner = data.get("data")
        more_flag = False
        venue_cursor: Any = None
        if kind is ListKind.CONDITIONAL:
            if not isinstance(inner, dict):
                return _incomplete(code, resp, f"the {name} reply has no data object")
            entries = inner.get("orderList")
            more_flag = inner.get("nextFlag") is True or inner.get("nextFlag") == "true"
            venue_cursor = inner.get("idLessThan")
            if entries is None and inner.get("nextFlag") is False:
                entries = []  # "no plan orders" may come as a null list; only with an explicit "no more"
        else:
            entries = inner
        if not isinstance(entries, list):
            return _incomplete(code, resp, f"the {name} reply has no order list")
        orders: list[ListedOrder] = []
        for i, entry in enumerate(entries):
            listed = _listed_order(kind, entry)
            if isinstance(listed, str):
                return _incomplete(code, resp, f"{name} entry {i} {listed}")
            orders.append(listed)
        if not (more_flag or len(entries) >= LIST_PAGE_SIZE):
            return ListPage(tuple(orders), None)
        # More may follow: the next page starts below the smallest orderId on this one.
        if orders:
            next_cursor = min((o.order_id for o in orders if o.order_id is not None), key=int)
        elif isinstance(venue_cursor, str) and decimal_id_ok(venue_cursor, ORDER_ID_RE, ORDER_ID_MAX):
            next_cursor = venue_cursor  # an empty page that says "more": follow the venue's own cursor
        else:
            return _incomplete(code, resp, f"the {name} reply says more orders follow but gives no cursor")
        if cursor is not None and decimal_id_ok(cursor, ORDER_ID_RE, ORDER_ID_MAX) and int(next_cursor) >= int(cursor):
            # Paging must move to older orders; anything else would loop or skip.
            return _incomplete(code, resp, f"the {name} page did not move below idLessThan={cursor}")
        return ListPage(tuple(orders), next_cursor)

    @staticmethod
    def _status_outcome(entry: Mapping[str, Any], table: Mapping[str, Outcome] = QUERY_STATUS) -> Outcome:
        status = entry.get("status")
        outcome = table.get(status) if isinstance(status, str) else None
        if outcome is None:  # a status we do not know: keep asking, never guess
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {str(status)[:40]!r}")
        return outcome

    def _failure(self, resp: HttpResponse, data: Any, code: str | None) -> Failure:
        status = resp.status
        if code is None:
            # Not Bitget's envelope (an HTML page, an empty or truncated body, another API's JSON): the
            # status decides, in plain words.
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        msg = _msg(data)
        msg = msg[:200] if msg is not None else None
        if status == 429 or code in RATE_LIMIT_CODES:
            return Failure(FailureKind.RATE_LIMITED, code, msg, status, retry_after_seconds(resp))
        if code in CLOCK_CODES:
            return Failure(FailureKind.CLOCK, code, msg, status)
        if code in AUTH_CODES:
            return Failure(FailureKind.AUTH, code, msg, status)
        if code in REJECTED_CODES:
            return Failure(FailureKind.REJECTED, code, msg, status)
        if code == SUCCESS_CODE:
            # "00000" on a non-200 (or without a usable data object): the HTTP status decides; 5xx and
            # 200 are unknown outcomes.
            return generic_http_failure(resp, code, msg or f"success code on HTTP {status}")
        # UNKNOWN_OUTCOME_CODES and every code we do not know: it may have been applied, so query.
        return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg, status)


# -- small pure helpers ----------------------------------------------------------------------


def _code(data: Any) -> str | None:
    """The envelope's ``code``, or None when the body is not Bitget's envelope.

    Bitget's envelope is ``{"code": "00000", "msg": ..., "requestTime": ..., "data": ...}`` (§5.5); a
    body with a ``code`` but none of the other fields (``{"code": 404, "message": "Not Found"}``) is
    some other server's, not Bitget's word.
    """
    if not isinstance(data, dict) or not ("msg" in data or "data" in data or "requestTime" in data):
        return None
    code = data.get("code")
    if isinstance(code, str):
        return code[:40]
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    return None


def _msg(data: Any) -> str | None:
    return str_or_none(data.get("msg")) if isinstance(data, dict) else None


_DIGITS = re.compile(r"[0-9]{1,16}")  # ASCII only: str.isdigit() also accepts "²", which int() refuses


def _as_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def _incomplete(code: str | None, resp: HttpResponse, why: str) -> Failure:
    """A listing page that cannot be read in full: it may be missing orders, so it settles nothing."""
    return Failure(FailureKind.UNKNOWN_OUTCOME, code, f"bitget {why}: the listing may be missing orders", resp.status)


def _listed_order(kind: ListKind, entry: Any) -> ListedOrder | str:
    """One listing entry as a :class:`ListedOrder`, or what is wrong with it (in words, to finish a sentence)."""
    if not isinstance(entry, dict):
        return "is not an object"
    raw_id = entry.get("orderId")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)  # a JSON integer keeps every digit; a float would not, and is refused below
    if not isinstance(raw_id, str) or not decimal_id_ok(raw_id, ORDER_ID_RE, ORDER_ID_MAX):
        return f"has no usable orderId ({clip(raw_id)})"
    raw_symbol = entry.get("symbol")
    symbol = raw_symbol.upper() if isinstance(raw_symbol, str) else None  # the doc sample says "btcusdt"
    if symbol is None or SYMBOL_RE.fullmatch(symbol) is None:
        return f"(orderId {raw_id}) has no usable symbol ({clip(raw_symbol)})"
    conditional = kind is ListKind.CONDITIONAL
    if kind is ListKind.CONDITIONAL:
        price = _text(entry.get("executePrice")) or _text(entry.get("triggerPrice"))
        filled = None
    elif kind is ListKind.OPEN:
        # unfilled-orders documents ``priceAvg`` as the order price (and sends no ``price``).
        price = _text(entry.get("price")) or _text(entry.get("priceAvg"))
        filled = _text(entry.get("baseVolume"))
    else:
        price = _text(entry.get("price"))  # history's priceAvg is the average fill price
        filled = _text(entry.get("baseVolume"))
    if entry.get("tpslType") == "tpsl":
        conditional = True  # a spot TP/SL order on the ordinary list
    table = PLAN_STATUS if kind is ListKind.CONDITIONAL else QUERY_STATUS
    return ListedOrder(
        symbol=symbol,
        order_id=raw_id,
        client_order_id=_text(entry.get("clientOid")),
        status=Bitget._status_outcome(entry, table),
        conditional=conditional,
        side=_text(entry.get("side")),
        order_type=_text(entry.get("orderType")),
        price=price,
        quantity=_text(entry.get("size")),
        filled=filled,
        created_ms=_as_ms(entry.get("cTime")),
        updated_ms=_as_ms(entry.get("uTime")),
    )


def _upper_or_none(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    """A string field as the venue spelled it (a JSON integer as its digits); empty or anything else: None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def _index(entries: Any) -> dict[tuple[str, str], Mapping[str, Any]]:
    """List entries keyed by ``("orderId", id)`` and ``("clientOid", id)``; anything malformed is skipped."""
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key in ("orderId", "clientOid"):
            value = entry.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                out.setdefault((key, str(value)), entry)
    return out
