"""HTX (Huobi) spot: ``POST /v1/order/orders/batchcancel``.

Docs: https://www.htx.com/en-us/opend/newApiPages/?id=7ec4ea21-7773-11ed-9966-0242ac110003
(``shared/venues.md`` §4, seed 003).

Request: a JSON body ``{"order-ids": [...]}`` **or** ``{"client-order-ids": [...]}`` (never both), at most 50
ids. The ids carry no symbol, so one request may hold orders of several symbols; chunks are split by id kind
only.

Signing (signature v2, §4.2): the four auth parameters ``AccessKeyId``, ``SignatureMethod=HmacSHA256``,
``SignatureVersion=2`` and ``Timestamp=YYYY-MM-DDThh:mm:ss`` (UTC, from ``now_ms``) always travel in the URL
query, also for POST. Values are percent-encoded with upper-case hex, sorted by key (ASCII), joined with
``&``; the text signed is ``METHOD\\nhost\\npath\\nsortedQuery`` where host is the lower-cased host (with a
non-default port) the request is sent to; ``Signature = base64(HMAC-SHA256(secret, text))`` is appended
percent-encoded. For POST only the auth parameters are signed, the JSON body is not; for GET every
parameter is in the query and signed.

Reply mapping (§4.5, §6):
- ``data.success[]``: HTX only *accepted* the cancel (it is asynchronous), so those orders are ``unknown``
  (reason ``accepted``) and a query confirms them. This adapter never returns ``cancelled`` from a cancel reply.
- ``data.failed[]`` with ``order-orderstate-error``: ``order-state`` (string or number) -1/5/6/7 (terminal:
  filled or cancelled, the reply does not say which in a way we trust) and 1/3/4 (still live: the refusal
  itself is unexplained) become ``unknown`` (reason ``ambiguous``), ``10`` becomes ``unknown`` (reason
  ``cancelling``); the code and message are kept. ``base-record-invalid`` is never final (it is returned
  transiently for fresh orders and for API orders forgotten 2 h after cancellation) -> ``unknown``.
  ``order-fl-cancellation-is-disallowed`` (a liquidation order) -> ``failed`` (``venue_refused``); any other
  per-order code -> ``unknown`` (``ambiguous``), e.g. IOC/FOK refusals, whose final state the query gives.
- Orders missing from both lists -> ``unknown`` (reason ``omitted``).
- Envelope ``{"status":"error","err-code":...}`` -> a classified :class:`Failure` (see the code sets below).
- Only HTX's own envelope (``{"status": "ok"|"error", ...}``) is HTX's word. Any other body (a proxy's HTML
  page, an empty or truncated body, another API's JSON) settles no order: its status decides -- 429 rate
  limited, 401/403 auth, any other 4xx REJECTED (refused before HTX's API answered: check the base URL),
  2xx, 408 and 5xx UNKNOWN_OUTCOME -- with a message saying in plain words what came back.

Ids (validated before anything is stored): ``order-id`` is ``long`` in HTX's spot docs (order detail and
order-update tables: "order-id | long"), so an order id is a canonical decimal 1..2**63-1
(:data:`ORDER_ID_MAX`): ASCII digits, no leading zero. ``client-order-id``: letters, digits, ``_`` and
``-``, at most 64 characters (trading glossary), ASCII only.

Query: ``GET /v1/order/orders/{order-id}`` or ``GET /v1/order/orders/getClientOrder?clientOrderId=...``;
states created/submitted/partial-filled -> ``open``; canceling -> ``unknown`` (cancelling);
canceled/partial-canceled -> ``cancelled``; filled -> ``failed`` (filled).

UNCONFIRMED choices (safe under every reading):
- A query answered ``base-record-invalid`` is reported as ``not_found``, but HTX answers that for an id that
  never existed, for an order created a moment ago, and for an API order cancelled more than 2 h ago
  (§4.5, §4.6). So the engine believes it only when :attr:`HTX.not_found_confirmations` consecutive queries
  agree (the transient case clears within a moment) and only while the job is younger than
  :attr:`HTX.forget_after_s` (2 h); past that the order stays ``unknown`` for an operator to settle.
- :data:`STALE_TIMESTAMP_MARKERS`: HTX reports a stale ``Timestamp`` as ``api-signature-not-valid`` with the
  message "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"
  (ccxt/ccxt#25931, huobiapi/REST-API-demos#4); no dedicated code exists (§6), so the message decides CLOCK.
- :data:`UNLISTED_ERROR_KIND`: an error code we do not recognise may have been applied -> ``unknown_outcome``.
- Rate limiting: ``base-request-exceed-frequency-limit`` (ccxt) or HTTP 429; ``Retry-After`` honoured if sent.
- Symbols are lower-case (``btcusdt``) as HTX spells them; they are validated but not sent.

Listings (spot private REST docs, https://www.htx.com/en-us/opend/newApiPages/?id=<page>, pages: accounts
``7ec4b291-7773-11ed-9966-0242ac110003``, openOrders ``7ec4e04b-...``, algo-orders/opening ``7ec51082-...``,
order/history ``7ec4db3d-...``, order/orders ``7ec4e1c4-...`` (each ``-7773-11ed-9966-0242ac110003``); mirrored in
rosssaunders/coincise ``docs/htx/spot/private_rest_api.md``; legacy https://huobiapi.github.io/docs/spot/v1/en/):
- Account lookup ``GET /v1/account/accounts`` (100/2 s, no parameters): ``data[]`` of ``{id, type, subtype,
  state}``; the listing uses the first ``type=spot`` account whose ``state`` is ``working``
  (:meth:`HTX.build_account_lookup`). The open-orders listing sends its ``account-id``.
- OPEN ``GET /v1/order/openOrders`` (50/2 s): ``account-id``, ``symbol`` (optional), ``size`` 1..500 (we ask
  500; the default is 100, which is all ccxt reads), paged with ``from`` (an order id) + ``direct=next``
  (descending from it). No "more" flag: a full page means there may be more; the next page starts ``from`` the
  smallest id seen (if HTX counts ``from`` inclusively that order is listed twice, which is harmless). Only
  ``created``/``submitted``/``partial-filled`` orders are listed, so an order whose cancel is pending
  (``canceling``) is not on it. Legacy stop-limit orders (``buy-stop-limit`` ...) rest on this list; they are
  ordinary orders to HTX's API (batchcancel, order detail and batchCancelOpenOrders reach them), so they are
  *not* marked ``conditional`` (a ``conditional`` ref is an algo order, see "Conditional orders"); their
  ``order_type`` says what they are.
- CONDITIONAL ``GET /v2/algo-orders/opening`` (20/2 s): untriggered algo (conditional) orders, which the
  ordinary batchcancel/order detail/openOrders never see. v2 envelope ``{code: 200, message, data[], nextId}``;
  ``limit`` 1..500 (we ask 500), ``fromId`` = the previous reply's ``nextId`` (the first record of the next
  page; present only when there is one), optional ``accountId``/``symbol``. Entries carry ``clientOrderId``
  (no ``orderId`` until triggered), ``orderStatus`` ``created``. They are listed with ``order_id`` None
  and ``conditional`` True, so ``ListedOrder.ref(separate_conditional=True)`` is a client-id conditional
  ref, the only kind HTX's algo endpoints take (an ``orderId``, documented only for triggered orders,
  which this list does not show, is not carried). Cancelled and queried as in "Conditional orders".
- HISTORY ``GET /v1/order/history`` (20/2 s): every symbol at once or one ``symbol``, ``start-time`` /
  ``end-time`` (ms, inclusive, within the last 48 h), ``direct=next`` (newest first), ``size`` 10..1000
  (we ask 1000); a top-level ``next-time`` appears when more matched than ``size``. Chosen over
  ``GET /v1/order/orders`` (one symbol required, ``states`` required, ``size`` <= 100, 50/2 s): both drop
  API orders cancelled more than 2 h ago and both reach 48 h, so neither settles cancelled orders sooner or
  longer, but history settles up to 1000 orders of every symbol per request (10 000 orders/s at its rate,
  against 2 500/s for one symbol at a time), and its documented sample lists open (``submitted``) orders too.
  The next page's ``end-time`` is the oldest ``created-at`` on a full page (inclusive, so an order created in
  that millisecond may be listed twice rather than skipped). ``start-time`` is ``since_ms`` clipped to
  :data:`HISTORY_REACH_MS` before ``now_ms``.
- ``list_rate`` is the slowest of these (20 per 2 s) so one bucket paces them all.
- Every listed order's status is read with the query's state map (:data:`QUERY_STATE`; algo orders:
  :data:`ALGO_STATE`), ``message`` = HTX's state word; ids come back as canonical strings (JSON numbers are
  exact in Python). An entry without a readable id or symbol, a non-list ``data``, or a page out of the order
  the paging relies on makes the whole page a failure.

UNCONFIRMED (listings; safe under each reading as said):
- Whether ``openOrders`` needs ``account-id`` and ``symbol``: the current docs say optional, the legacy docs and
  the official SDK (``get_open_orders``) say mandatory, ccxt sends ``account-id`` always and ``symbol`` only when
  given. We always send ``account-id`` and send ``symbol`` when given; if HTX refused a listing without a
  symbol, that is a visible failure, never a short list.
- The order of the first ``openOrders`` page (without ``from``): read as newest first. A full page that is not in
  descending id order, or a later page listing an id above its ``from``, is a failure rather than a guess.
- Whether ``from`` is inclusive (either is safe, see above); whether ``/v1/order/history`` filters and sorts by
  ``created-at`` (its sample and ccxt's ``since`` say so) and whether it lists open orders (its sample does);
  whether HTX's ``next-time`` is exact (we page from our own oldest ``created-at`` instead).
- The v2 error envelope of the algo listing (``{"code": 1003, "message": ...}``, codes 1002/1003 auth, 1006
  rate limit, 2002 bad parameter from the conditional-order error table); a stale ``Timestamp`` there is read
  as CLOCK only when the message says so (as for v1). A v1 ``{"status": "error"}`` body on that path is read
  as v1. A ``data`` that is null instead of ``[]`` for an empty algo listing would be a failure.
- Whether an algo listing that fills exactly one page omits ``nextId`` (then we stop, as documented).

Conditional orders (algo orders; spot private REST docs, "Conditional Order" section, pages
``7ec50be1-...`` cancellation and ``7ec5121b-...`` specific, each ``-7773-11ed-9966-0242ac110003``; legacy
https://huobiapi.github.io/docs/spot/v1/en/#cancel-conditional-orders-before-triggering). Before it triggers an
algo order lives apart from the trading endpoints: "Before a conditional order triggering, it can be only
cancelled via this endpoint instead of any endpoint in Trading section" -- batchcancel and order detail answer
``base-record-invalid`` for it, which the engine would in the end read as ``not_found``. So a ref with
``conditional=True`` is routed to the algo endpoints by :meth:`HTX.build_cancel` / :meth:`HTX.parse_cancel` /
:meth:`HTX.build_query` / :meth:`HTX.parse_query` (endpoint names still ``cancel`` and ``query``):
- Ids: algo orders are addressed by ``clientOrderId`` only (neither endpoint takes an order id; HTX's own
  ``orderId`` exists only once the order triggered, and then it is an ordinary order). :meth:`HTX.validate`
  refuses a conditional ref by order id, naming it; the client id pattern is the trading one (at most 64
  characters: "Client order ID (max length 64-char)").
- Chunks: :meth:`HTX.plan_chunks` never puts conditional and ordinary refs in one request; algo chunks hold at
  most :data:`ALGO_MAX_BATCH` (50: "maximum 50 orders are allowed") ids, of any symbols (the body has no symbol).
- Cancel: ``POST /v2/algo-orders/cancellation``, signature v2 with the auth parameters in the query (the body
  is not signed), JSON body ``{"clientOrderIds": [...]}`` (an array). Rate "20times/2sec". Reply (v2
  envelope) ``{"code": 200, "data": {"accepted": [...], "rejected": [...]}}``. ``accepted`` is HTX taking the
  cancel, not HTX saying the order is cancelled, so it is ``unknown`` (reason ``accepted``) and a query
  confirms it (as batchcancel's ``success``). ``rejected`` gives no reason: the order may be unknown, already
  cancelled, or triggered (the endpoint "only supports order cancellation for those conditional orders which
  have not triggered yet"), so it is ``unknown`` (``ambiguous``) and the query tells which. An id in both
  lists is ``ambiguous``; an id in neither is ``omitted``. A failed reply is classified as the algo listing's
  v2 errors are (``_v2_failure``); a v1 ``{"status": "error"}`` body on this path is read as v1.
- Query: ``GET /v2/algo-orders/specific?clientOrderId=...`` (rate "20times/2sec"), ``data.orderStatus``
  (:data:`ALGO_STATE`): ``created`` -> ``open`` (the cancel has not taken: send it again); ``canceled`` ->
  ``cancelled``; ``rejected`` ("failed to trigger") -> ``failed`` (``expired``: it is gone and never rests);
  ``triggered`` -> ``failed`` (``venue_refused``), message ``triggered`` plus the ordinary order id HTX
  gives (``orderId``). A triggered algo order was **not cancelled**: it became an ordinary order, which the
  algo endpoint can no longer cancel (so this ref is settled as refused, never ``cancelled``) and which may
  still be resting: it is cancelled as an ordinary order, by that ``orderId`` (it shows on openOrders, and a
  kill switch's next open-orders listing finds it). A reply about another client id is ``ambiguous``; code
  ``1007`` ("Record is not found") is ``not_found``, believed only as the ordinary ``base-record-invalid``
  is (:data:`NOT_FOUND_CONFIRMATIONS` agreeing queries, within :data:`FORGET_AFTER_S`). A success without an
  order object (``data`` null) is a failed query (``unknown_outcome``), never a not-found.

Cancel-all (``POST /v1/order/orders/batchCancelOpenOrders``, page ``7ec4eb66-...``; legacy
https://huobiapi.github.io/docs/spot/v1/en/#submit-cancel-for-multiple-orders-by-criteria): "submit cancellation
for multiple orders (not exceeding 100 orders per request) at once with given criteria. This endpoint only
submit the cancellation request, the actual cancellation result will need to be confirmed by other endpoints".
Rate "50times/2s" (:data:`CANCEL_ALL_RATE`). JSON body (signed like every POST: auth parameters only):
``account-id`` (the spot account from :meth:`HTX.build_account_lookup`; required here, so the cancel-all
reaches exactly the account the open-orders listing reads), ``symbol`` when given (HTX takes up to 10,
comma-separated; one is sent; none means every symbol), ``size`` 100 (the documented maximum, [1, 100]).
Reply ``{"status": "ok", "data": {"success-count", "failed-count", "next-id"}}``; ``next-id`` is "the next
order id that can be cancelled, -1 indicates no open orders": :meth:`HTX.parse_cancel_all` returns True
(call again) while it is not -1. It never cancels algo orders (they are not open orders to the trading side),
so a kill switch still cancels those by id. Legacy stop-limit orders are among its ``types`` and are cancelled.

UNCONFIRMED (conditional orders and cancel-all; each choice is safe under every reading):
- Whether the algo cancellation is applied before it answers: nothing here assumes it; a query confirms each
  ``accepted`` id. If it were applied later, ``specific`` could read ``created`` meanwhile (HTX has no
  "canceling" word for algo orders): that reads open and the cancel is sent again, which is harmless.
- The not-found answer of ``specific`` (taken to be v2 ``1007`` "Record is not found" from the
  conditional-order error table) and whether HTX forgets algo orders (the 2 h rule of API orders is applied,
  which only makes the engine more careful).
- Whether a whole algo-cancel request fails with a v2 code for unknown ids (it is read as a failure of the
  request: ``unknown_outcome`` for codes not in the table, so every order is queried).
- The algo endpoints' rate (:data:`ALGO_RATE`, 20 per 2 s) is below ``cancel_rate`` / ``query_rate`` (50 per
  2 s), which the client paces at (the adapter interface has no fact for a second rate); HTX's ``1006`` is
  read as RATE_LIMITED (not applied, retried after backoff).
- ``parse_cancel_all``: a reply without a readable ``next-id`` is a failure (``unknown_outcome``: it may have
  been applied) rather than a guess either way; ``success-count`` / ``failed-count`` are not relied on.

Countdown (dead-man switch): ``POST /v2/algo-orders/cancel-all-after`` ("Dead man's switch", spot private REST
docs page ``7ec50a66-7773-11ed-9966-0242ac110003``; legacy https://huobiapi.github.io/docs/spot/v1/en/#dead-man-s-switch;
the 2021-01-11 announcement "Adding Automatic Order Cancellation API", HTX support article 900004111906). "If the
Dead man's switch is turned on and the API call isn't sent twice within the set time, the platform will cancel
all of your orders on the spot market (a maximum cancellation of 500 orders)": one countdown for the whole spot
account (:attr:`HTX.countdown_scope` ``"account"``; a symbol passed to :meth:`HTX.build_countdown` is checked as
:meth:`HTX.validate` would, then not sent) that cancels at most 500 orders when it fires
(:attr:`HTX.countdown_cap`). JSON body ``{"timeout": <seconds>}``, "0 or >=5 seconds"; 0 turns it off ("Set
timeout as 0 if you want to cancel the API operation and keep your orders open"); calling it again renews it
(HTX's advice: timeout 60 s, called every 15 s). Signed like every other POST here (signature v2, the four auth
parameters in the query, the body unsigned). Range (:attr:`HTX.countdown_range_s`): 5..3600 s -- 5 is HTX's
minimum; the upper bound is ours (none is documented): a dead-man countdown is a heartbeat, and more than an
hour is far more likely a unit slip than a wish. No rate is documented for this endpoint:
:attr:`HTX.countdown_rate` is a conservative 1 per second (HTX's own advice is one call every 15 s).

Reply (v2 envelope): ``{"code": 200, "message": "success", "data": {"currentTime": ..., "triggerTime": ...}}``
(current docs: numbers, ms); the announcement shows ``data`` as a one-element list of strings
(``"triggerTime": "1587971460"``, seconds) and ``"triggerTime": "0"`` for a switch turned off. Both shapes are
read; a ``triggerTime`` below 10**11 is read as seconds (times 1000), a larger one as ms; 0 means disarmed
(``Countdown(armed=False)``), anything else armed with that trigger time. A success without a readable
``triggerTime`` is UNKNOWN_OUTCOME (it may have been applied: send it again). Failures (``{"code": 2003,
"message": "missing mandatory field"}`` in the announcement) are classified by :meth:`HTX._v2_failure`, as the
other v2 endpoints' are: ``1006`` / 429 RATE_LIMITED, ``1002`` / ``1003`` AUTH (CLOCK when the message is about
the submission time), 5xx UNKNOWN_OUTCOME (as every HTX 5xx here: a gateway may fail after HTX acted -- for a
countdown that only means "send it again"), ``1001`` / ``2002`` / ``2003`` and other 4xx REJECTED.

UNCONFIRMED (countdown):
- Any maximum timeout HTX enforces, and the code it answers for a timeout of 1-4 s (read as a v2 refusal).
- Which 500 orders it cancels when more are open (the fake: the oldest), and whether algo (conditional) orders,
  which live apart before they trigger, are among "all of your orders" (the fake assumes not).
- The unit and type of ``currentTime`` / ``triggerTime`` (see above), and the rate limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from ..errors import InputError
from ..model import (
    REASON_ACCEPTED,
    REASON_AMBIGUOUS,
    REASON_CANCELLING,
    REASON_EXPIRED,
    REASON_FILLED,
    REASON_NOT_FOUND,
    REASON_OMITTED,
    REASON_REFUSED,
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
    chunk_by,
    clip,
    compact_json,
    decimal_id_ok,
    decimal_id_re,
    foreign_reply_failure,
    hmac_b64,
    load_json,
    names_another_order,
    path_prefix,
    retry_after_seconds,
)

# -- request shape -----------------------------------------------------------------------------

CANCEL_PATH = "/v1/order/orders/batchcancel"
QUERY_PATH = "/v1/order/orders/{order_id}"
QUERY_CLIENT_PATH = "/v1/order/orders/getClientOrder"
TIME_PATH = "/v1/common/timestamp"

MAX_BATCH = 50  # "No more than 50 orders per request" (seed 003)

# Conditional (algo) orders, see "Conditional orders" in the module docstring.
ALGO_CANCEL_PATH = "/v2/algo-orders/cancellation"
ALGO_QUERY_PATH = "/v2/algo-orders/specific"
ALGO_MAX_BATCH = 50  # clientOrderIds: "maximum 50 orders are allowed, Transfer in the form of as array"
ALGO_BODY_KEY = "clientOrderIds"
ALGO_RATE = Rate(20, 2.0)  # cancellation and specific: "Rate Limit: 20times/2sec" (not what the client paces at)

# The venue's own cancel-all, see "Cancel-all" in the module docstring.
CANCEL_ALL_PATH = "/v1/order/orders/batchCancelOpenOrders"
CANCEL_ALL_RATE = Rate(50, 2.0)  # "Rate Limit: 50times/2s"
CANCEL_ALL_SIZE = 100  # "size | int | The number of orders to cancel | [1, 100] | 100"
CANCEL_ALL_DONE = -1  # next-id: "-1 indicates no open orders"
BODY_KEY = MappingProxyType({IdKind.ORDER_ID: "order-ids", IdKind.CLIENT_ORDER_ID: "client-order-ids"})
FAILED_ID_KEY = MappingProxyType({IdKind.ORDER_ID: "order-id", IdKind.CLIENT_ORDER_ID: "client-order-id"})

SYMBOL_RE = re.compile(r"[a-z0-9]{2,32}", re.ASCII)  # HTX spot symbols: btcusdt, ethbtc, 1inchusdt
ORDER_ID_MAX = INT64_MAX  # "order-id | long" (spot private REST docs: order detail, order update tables)
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)
# "letters (case sensitive), digit, underscore (_) and hyphen (-), no more than 64 chars" (trading glossary).
CLIENT_ID_MAX_LEN = 64
CLIENT_ID_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{CLIENT_ID_MAX_LEN}}}", re.ASCII)
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected lower-case, e.g. btcusdt",
    ORDER_ID_RE,
    "order-id",
    f"numeric (long: ASCII digits, no leading zero, 1..{ORDER_ID_MAX})",
    CLIENT_ID_RE,
    "client-order-id",
    "letters, digits, '_' and '-', at most 64 characters",
    ORDER_ID_MAX,
    client_id_max_len=CLIENT_ID_MAX_LEN,
)

# -- signing (signature v2) --------------------------------------------------------------------

SIGNATURE_METHOD = "HmacSHA256"
SIGNATURE_VERSION = "2"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"  # UTC, no milliseconds, no zone; valid for 5 minutes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_PORTS = MappingProxyType({"http": 80, "https": 443})  # an HTTP client leaves these out of the Host header

# -- error codes (§4.5, §6; trading error table; ccxt's htx exception map) ---------------------

ERR_ORDER_STATE = "order-orderstate-error"
NOT_FOUND_CODES = frozenset({"base-record-invalid", "order-queryorder-invalid", "not-found", "base-not-found"})
REFUSED_ORDER_CODES = frozenset({"order-fl-cancellation-is-disallowed"})  # a liquidation order: never cancellable
ORDER_STATE_TERMINAL = frozenset({-1, 5, 6, 7})  # closed long ago, partial-canceled, filled, canceled
ORDER_STATE_LIVE = frozenset({1, 3, 4})  # created, submitted, partial-filled
ORDER_STATE_CANCELLING = 10

AUTH_CODES = frozenset({"api-signature-not-valid", "api-signature-check-failed", "login-required"})
STALE_TIMESTAMP_CODE = "api-signature-not-valid"
STALE_TIMESTAMP_MARKERS = ("submission time", "提交时间", "timestamp")
RATE_CODES = frozenset({"base-request-exceed-frequency-limit", "510"})  # 510: "You request too often"
# "System internal error. For placing or canceling order, it is mostly due to cache issue, please try again
# later" / undocumented order-update-error / maintenance: the request was not carried out (§6 RETRY class).
NOT_PROCESSED_CODES = frozenset({"base-system-error", "order-update-error", "system-maintenance"})
UNKNOWN_OUTCOME_CODES = frozenset({"gateway-internal-error", "base-request-timeout", "timeout"})
REJECTED_CODES = frozenset(
    {
        "batchcancel-order-id-list-empty",
        "validation-format-error",
        "validation-constraints-required",
        "invalid-parameter",
        "base-argument-unsupported",
        "cancel-disabled",
        "invalid-client-order-id",
        "base-operation-forbidden",
        # Listing refusals (trading error table): a bad window, symbol or account; nothing to retry as is.
        "invalid-interval",
        "invalid-start-time",
        "invalid-end-time",
        "order-date-limit-error",
        "base-symbol-error",
        "account-get-accounts-inexistent-error",
        "account-account-id-inexistent",
    }
)
UNLISTED_ERROR_KIND = FailureKind.UNKNOWN_OUTCOME  # an error we cannot read may still have been applied
ENVELOPE_STATUSES = ("ok", "error")  # {"status": "ok"|"error", ...}: HTX's own reply shape (§4.5)

# base-record-invalid proves "not found" only when it repeats, and only within HTX's 2 h memory.
NOT_FOUND_CONFIRMATIONS = 3
FORGET_AFTER_S = 2 * 3600.0

QUERY_STATE = MappingProxyType(
    {
        # Each outcome carries HTX's own state word as its message (HTX has no numeric code here).
        "created": Outcome(Verdict.OPEN, None, None, "created"),
        "submitted": Outcome(Verdict.OPEN, None, None, "submitted"),
        "partial-filled": Outcome(Verdict.OPEN, None, None, "partial-filled"),
        "canceling": Outcome(Verdict.UNKNOWN, REASON_CANCELLING, None, "canceling"),
        "canceled": Outcome(Verdict.CANCELLED, None, None, "canceled"),
        "partial-canceled": Outcome(Verdict.CANCELLED, None, None, "partial-canceled"),
        "filled": Outcome(Verdict.FAILED, REASON_FILLED, None, "filled"),
    }
)

# -- listings (see "Listings" in the module docstring) -------------------------------------------

ACCOUNTS_PATH = "/v1/account/accounts"
OPEN_ORDERS_PATH = "/v1/order/openOrders"
ALGO_OPEN_PATH = "/v2/algo-orders/opening"
HISTORY_PATH = "/v1/order/history"
LIST_PATH = MappingProxyType(
    {ListKind.OPEN: OPEN_ORDERS_PATH, ListKind.CONDITIONAL: ALGO_OPEN_PATH, ListKind.HISTORY: HISTORY_PATH}
)
LIST_ENDPOINT = MappingProxyType(
    {ListKind.OPEN: "list_open", ListKind.CONDITIONAL: "list_conditional", ListKind.HISTORY: "list_history"}
)
LIST_NAME = MappingProxyType(
    {ListKind.OPEN: "open-orders", ListKind.CONDITIONAL: "algo-orders", ListKind.HISTORY: "order-history"}
)
# The cursor is "<parameter>=<value>", the parameter the next page sends it in.
CURSOR_KEY = MappingProxyType({ListKind.OPEN: "from", ListKind.CONDITIONAL: "fromId", ListKind.HISTORY: "end-time"})

# Documented rates (per UID): "Rate Limit: 100times/2s" (accounts), "50times/2s" (openOrders),
# "20times/2sec" (algo-orders/opening), "20times/2s" (order/history).
ACCOUNTS_RATE = Rate(100, 2.0)
OPEN_LIST_RATE = Rate(50, 2.0)
ALGO_LIST_RATE = Rate(20, 2.0)
HISTORY_LIST_RATE = Rate(20, 2.0)

OPEN_PAGE_MAX = 500  # openOrders "size | int | [1, 500] | default 100"
ALGO_PAGE_MAX = 500  # algo-orders/opening "limit | [1,500] | default 100"
HISTORY_PAGE_MAX = 1000  # order/history "size | [10-1000] | default 100"
HISTORY_SPAN_MS = 48 * 3600 * 1000  # "Search Historical Orders within 48 Hours"
# Our measured server clock may trail HTX's by a little: stay a minute inside the 48 h so that HTX never
# finds our start-time too old. Between pages the start may then also move by up to that minute.
HISTORY_CLOCK_MARGIN_MS = 60_000
HISTORY_REACH_MS = HISTORY_SPAN_MS - HISTORY_CLOCK_MARGIN_MS

SPOT_ACCOUNT_TYPE = "spot"
WORKING_ACCOUNT_STATE = "working"

# Algo (conditional) orders' orderStatus (algo-orders/specific: created, triggered, canceled, rejected).
ALGO_TRIGGERED = "triggered"
ALGO_STATE = MappingProxyType(
    {
        "created": Outcome(Verdict.OPEN, None, None, "created"),
        "canceled": Outcome(Verdict.CANCELLED, None, None, "canceled"),
        # Failed to trigger: the algo order is gone and will never rest (closest reason: expired).
        "rejected": Outcome(Verdict.FAILED, REASON_EXPIRED, None, "rejected"),
        # Triggered: NOT cancelled. It became an ordinary order (with an orderId), which the algo cancellation
        # can no longer reach ("only supports ... conditional orders which have not triggered yet"), so the
        # algo order is settled as refused; the ordinary order it became is cancelled by its own id.
        ALGO_TRIGGERED: Outcome(Verdict.FAILED, REASON_REFUSED, None, ALGO_TRIGGERED),
    }
)

# v2 envelope {"code": 200, "message": ..., "data": ...}; conditional-order error table.
V2_OK_CODE = "200"
V2_AUTH_CODES = frozenset({"1002", "1003"})  # signature missing / account id does not exist; signature wrong
V2_RATE_CODES = frozenset({"1006"})  # "Exceed rate limit"
V2_REJECTED_CODES = frozenset({"1001", "2002", "2003"})  # invalid URL; parameter missing or invalid; disabled
V2_NOT_FOUND_CODES = frozenset({"1007"})  # "Record is not found" (algo-orders/specific: no such clientOrderId)
MS_RE = re.compile(r"[0-9]{1,16}", re.ASCII)

# -- the countdown (dead-man switch; see the module docstring) -----------------------------------
COUNTDOWN_PATH = "/v2/algo-orders/cancel-all-after"
COUNTDOWN_RANGE_S = (5, 3600)  # "0 or >=5 seconds"; the upper bound is ours (none documented)
COUNTDOWN_CAP = 500  # "a maximum cancellation of 500 orders"
SECONDS_BELOW = 10**11  # a triggerTime below this is epoch seconds (the announcement's sample), else epoch ms


# -- pure signing helpers (also the unit of the official SDK vector) ----------------------------


def encode(value: str) -> str:
    """Percent-encode one key or value as HTX asks: UTF-8, upper-case hex, only RFC 3986 unreserved kept."""
    return quote(value, safe="")


def canonical_query(params: Sequence[tuple[str, str]]) -> str:
    """The encoded parameters sorted by key in ASCII order, joined with ``&``."""
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params, key=lambda kv: kv[0]))


def presign_text(method: str, host: str, path: str, query: str) -> str:
    """``METHOD\\nhost\\npath\\nquery``: the exact text that is signed."""
    return f"{method.upper()}\n{host.lower()}\n{path}\n{query}"


def signature(secret: str, method: str, host: str, path: str, params: Sequence[tuple[str, str]]) -> str:
    """``base64(HMAC-SHA256(secret, presign))`` over the canonical form of ``params``."""
    return hmac_b64(secret, presign_text(method, host, path, canonical_query(params)))


def utc_timestamp(now_ms: int) -> str:
    """HTX's ``Timestamp`` for an epoch time in ms, computed from the argument alone."""
    return (EPOCH + timedelta(seconds=now_ms // 1000)).strftime(TIMESTAMP_FORMAT)


def sign_host(base_url: str) -> str:
    """The host as the server sees it in ``Host``: lower-case, with the port only when it is not the default."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host


def _int_state(value: Any) -> int | None:
    """``order-state`` arrives as ``"7"`` in batchcancel and as ``7`` in single-cancel errors: read both."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,4}\s*", value):
        return int(value)
    return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


class _Unreadable(Exception):
    """A listing entry (or cursor) we cannot read; caught inside the parser, never raised to callers."""


def _ms(value: Any) -> int | None:
    """An epoch-ms field (number or digit string), or None when absent or unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and MS_RE.fullmatch(value):
        return int(value)
    return None


def _canonical_id(value: Any, what: str) -> str:
    """An order or account id (``long``) as a canonical decimal string; JSON numbers are exact in Python."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= ORDER_ID_MAX:
            return str(value)
    elif decimal_id_ok(value, ORDER_ID_RE, ORDER_ID_MAX):
        return str(value)
    if value is None or value == "":
        raise _Unreadable(f"has no {what}")
    raise _Unreadable(f"has an unreadable {what} {clip(value)}")


def _client_id(value: Any, what: str) -> str | None:
    """A client order id as :data:`CLIENT_ID_RE` accepts it; None when HTX sends none (``""``)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and CLIENT_ID_RE.fullmatch(value):
        return value
    raise _Unreadable(f"has an unreadable {what} {clip(value)}")


def _symbol(value: Any) -> str:
    """The entry's symbol as :meth:`HTX.validate` accepts it (HTX spells symbols lower-case)."""
    if isinstance(value, str) and SYMBOL_RE.fullmatch(value.lower()):
        return value.lower()
    if value is None or value == "":
        raise _Unreadable("has no symbol")
    raise _Unreadable(f"has an unreadable symbol {clip(value)}")


def _v2_code(data: Any) -> str | None:
    """The ``code`` of a v2 envelope as a string (``200``), or None when ``data`` is not one."""
    if not isinstance(data, dict):
        return None
    code = data.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return str(code)
    if isinstance(code, str) and re.fullmatch(r"[0-9]{1,9}", code):
        return code
    return None


def _cursor_value(kind: ListKind, cursor: str) -> int:
    """The number a cursor of :func:`_make_cursor` carries; :class:`_Unreadable` for any other text."""
    key, sep, value = cursor.partition("=") if isinstance(cursor, str) else ("", "", "")
    if not sep or key != CURSOR_KEY[kind] or not decimal_id_ok(value, ORDER_ID_RE, ORDER_ID_MAX):
        raise _Unreadable(f"{clip(cursor)} is not a cursor of the {LIST_NAME[kind]} listing")
    return int(value)


def _make_cursor(kind: ListKind, value: int) -> str:
    return f"{CURSOR_KEY[kind]}={value}"


class HTX(VenueAdapter):
    """Adapter for HTX (Huobi) spot."""

    # The slowest listing endpoint used: algo-orders/opening and order/history, "20times/2s" each.
    list_rate: ClassVar[Rate] = min((OPEN_LIST_RATE, ALGO_LIST_RATE, HISTORY_LIST_RATE), key=lambda r: r.per_second)
    # Algo (conditional) orders live on a list of their own before they trigger.
    list_kinds: ClassVar[frozenset[ListKind]] = frozenset(ListKind)
    # openOrders, algo-orders/opening and order/history all take an optional symbol (current docs).
    list_needs_symbol: ClassVar[frozenset[ListKind]] = frozenset()
    history_window_s: ClassVar[float] = HISTORY_REACH_MS / 1000

    # batchCancelOpenOrders: "Rate Limit: 50times/2s"; its symbol is optional (none: every symbol).
    cancel_all_rate: ClassVar[Rate] = CANCEL_ALL_RATE
    cancel_all_needs_symbol: ClassVar[bool] = False
    # Dead man's switch: one countdown for the whole spot account, 5..3600 s, at most 500 orders cancelled when it
    # fires; no documented rate, so a conservative 1/s (module docstring "Countdown").
    countdown_scope: ClassVar[str | None] = "account"
    countdown_range_s: ClassVar[tuple[int, int]] = COUNTDOWN_RANGE_S
    countdown_rate: ClassVar[Rate] = Rate(1, 1.0)
    countdown_cap: ClassVar[int | None] = COUNTDOWN_CAP

    name: ClassVar[str] = "htx"
    default_base_url: ClassVar[str] = "https://api.huobi.pro"
    aws_base_url: ClassVar[str] = "https://api-aws.huobi.pro"
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset(IdKind)
    secret_headers: ClassVar[frozenset[str]] = frozenset()  # nothing secret travels in headers
    secret_params: ClassVar[frozenset[str]] = frozenset({"AccessKeyId", "Signature"})
    # "Rate Limit: 50times/2s" for batchcancel, order detail and getClientOrder, per UID across keys (§4.4).
    cancel_rate: ClassVar[Rate] = Rate(50, 2.0)
    query_rate: ClassVar[Rate] = Rate(50, 2.0)
    # No shared_budget: the "New Version Rate limit Rule" (venues.md §4.4 [HTX-SPOT]) gives each signed endpoint
    # its own limit per UID, counted apart, so per-endpoint buckets are the whole accounting.
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    example_symbol: ClassVar[str] = "btcusdt"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = MAX_BATCH
    hard_max_batch: ClassVar[int] = MAX_BATCH
    not_found_confirmations: ClassVar[int] = NOT_FOUND_CONFIRMATIONS
    forget_after_s: ClassVar[float | None] = FORGET_AFTER_S
    # batchcancel only accepts a cancel ("data.success"); the order shows `canceling` until it is applied.
    asynchronous_cancel: ClassVar[bool] = True
    # The body carries ids only, no symbol: one request may cancel orders of several symbols.
    one_symbol_per_request: ClassVar[bool] = False

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        check_refs(self.name, refs, ID_FORMAT)
        for ref in refs:
            if ref.conditional and ref.order_id is not None:
                # The algo endpoints take clientOrderId(s) only; an orderId exists only once an algo order
                # triggered, and then it is an ordinary order.
                raise InputError(
                    f"htx: a conditional (algo) order is cancelled by clientOrderId only, got order-id "
                    f"{clip(ref.order_id)} on {clip(ref.symbol)} marked conditional (a triggered algo order is "
                    "an ordinary order: cancel it by its order id without the conditional mark)"
                )

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # The body carries ids only (no symbol), so orders of several symbols share a request; the two id
        # kinds never do ("Either order-ids or client-order-ids can be filled in one batch request"), and
        # algo (conditional) orders go to an endpoint of their own, never with ordinary ones.
        out: list[list[OrderRef]] = []
        for chunk in chunk_by(refs, self.max_batch, key=lambda r: (bool(r.conditional), r.kind)):
            size = min(self.max_batch, ALGO_MAX_BATCH) if chunk[0].conditional else self.max_batch
            out.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
        return out

    # -- signing -----------------------------------------------------------------------------

    def _signed_query(
        self, method: str, path: str, extra: Sequence[tuple[str, str]], creds: Credentials, now_ms: int
    ) -> str:
        params = [
            ("AccessKeyId", creds.api_key),
            ("SignatureMethod", SIGNATURE_METHOD),
            ("SignatureVersion", SIGNATURE_VERSION),
            ("Timestamp", utc_timestamp(now_ms)),
            *extra,
        ]
        # The signed path is the full path on the host, so a base URL with a path prefix still verifies.
        full_path = path_prefix(self.base_url) + path
        sig = signature(creds.api_secret, method, sign_host(self.base_url), full_path, params)
        return canonical_query(params) + "&Signature=" + encode(sig)

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        if not refs:
            raise InputError("htx: a cancel request needs at least one order")
        conditional = [bool(r.conditional) for r in refs]
        if any(conditional):
            if not all(conditional):
                raise InputError("htx: conditional (algo) and ordinary orders cannot share one cancel request")
            return self._build_algo_cancel(refs, creds, now_ms)
        kind = refs[0].kind
        if any(r.kind is not kind for r in refs):
            raise InputError("htx: order-ids and client-order-ids cannot share one batchcancel request")
        if len(refs) > self.max_batch:
            raise InputError(f"htx: at most {self.max_batch} orders per batchcancel request, got {len(refs)}")
        body = compact_json({BODY_KEY[kind]: [r.value for r in refs]}).encode()
        query = self._signed_query("POST", CANCEL_PATH, (), creds, now_ms)
        return HttpRequest("POST", CANCEL_PATH, query, body, {"Content-Type": "application/json"}, "cancel")

    def _build_algo_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        """``POST /v2/algo-orders/cancellation`` with ``{"clientOrderIds": [...]}``, at most 50."""
        bad = next((r for r in refs if r.kind is not IdKind.CLIENT_ORDER_ID), None)
        if bad is not None:
            raise InputError(
                f"htx: conditional (algo) orders are cancelled by clientOrderId only, got order-id "
                f"{clip(bad.order_id)} on {clip(bad.symbol)}"
            )
        limit = min(self.max_batch, ALGO_MAX_BATCH)
        if len(refs) > limit:
            raise InputError(f"htx: at most {limit} orders per algo-orders cancellation request, got {len(refs)}")
        body = compact_json({ALGO_BODY_KEY: [r.client_order_id for r in refs]}).encode()
        # POST: only the auth parameters are in the query and signed, as for batchcancel.
        query = self._signed_query("POST", ALGO_CANCEL_PATH, (), creds, now_ms)
        return HttpRequest("POST", ALGO_CANCEL_PATH, query, body, {"Content-Type": "application/json"}, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        extra: tuple[tuple[str, str], ...]
        if ref.conditional:
            if ref.kind is not IdKind.CLIENT_ORDER_ID:
                raise InputError(
                    f"htx: a conditional (algo) order is queried by clientOrderId only, got order-id "
                    f"{clip(ref.order_id)} on {clip(ref.symbol)}"
                )
            query = self._signed_query("GET", ALGO_QUERY_PATH, (("clientOrderId", ref.value),), creds, now_ms)
            return HttpRequest("GET", ALGO_QUERY_PATH, query, None, {}, "query")
        if ref.kind is IdKind.ORDER_ID:
            path, extra = QUERY_PATH.format(order_id=ref.order_id), ()
        else:
            path, extra = QUERY_CLIENT_PATH, (("clientOrderId", ref.client_order_id or ""),)
        # GET: every parameter is in the query and signed; a GET with a body is refused with 403.
        query = self._signed_query("GET", path, extra, creds, now_ms)
        return HttpRequest("GET", path, query, None, {}, "query")

    def build_time(self) -> HttpRequest:
        return HttpRequest("GET", TIME_PATH, endpoint="time")

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return None
        value = data.get("data")
        if isinstance(value, bool):
            return None
        if isinstance(value, int) and value > 0:
            return value
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,16}", value):  # ASCII: "²".isdigit() is True
            return int(value)
        return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        if any(r.conditional for r in refs):
            return self._parse_algo_cancel(refs, resp)
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return self._failure(resp, data)
        body = data.get("data")
        if not isinstance(body, dict):
            return Failure(FailureKind.UNKNOWN_OUTCOME, None, "status ok without a data object", resp.status)
        success = body.get("success")
        failed = body.get("failed")
        accepted = {_text(i) for i in success} if isinstance(success, list) else set()
        kinds = {r.kind for r in refs}
        refusals: dict[tuple[IdKind, str], list[Mapping[str, Any]]] = {}
        if isinstance(failed, list):
            for entry in failed:
                if not isinstance(entry, dict):
                    continue
                for kind in kinds:
                    ident = _text(entry.get(FAILED_ID_KEY[kind]))
                    if ident:
                        refusals.setdefault((kind, ident), []).append(entry)
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            entries = refusals.get((ref.kind, ref.value), [])
            in_success = ref.value in accepted
            if in_success and entries:
                # Both accepted and refused: the reply contradicts itself, so only a query can tell.
                code = _text(entries[0].get("err-code"))
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, "in success and failed")
            elif in_success:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_ACCEPTED)
            elif entries:
                out[ref] = self._refusal(entries[0])
            else:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED)
        return out

    def _parse_algo_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        """The algo cancellation's ``data.accepted`` / ``data.rejected``. Never ``cancelled``: a query confirms.

        ``accepted`` is HTX taking the cancel (``unknown``, reason ``accepted``); ``rejected`` carries no
        reason (unknown order, already cancelled, or triggered), so the query tells which.
        """
        if not all(r.conditional for r in refs):
            # build_cancel never sends such a chunk; whatever came back cannot be matched to it safely.
            return Failure(
                FailureKind.UNKNOWN_OUTCOME, None, "htx: a chunk mixing algo and ordinary orders", resp.status
            )
        data = load_json(resp)
        if resp.status != 200 or _v2_code(data) != V2_OK_CODE:
            return self._v2_failure(resp, data)
        assert isinstance(data, dict)
        body = data.get("data")
        if not isinstance(body, dict):
            return Failure(
                FailureKind.UNKNOWN_OUTCOME, None, "htx: algo cancellation: code 200 without a data object", resp.status
            )
        accepted = _id_set(body.get("accepted"))
        rejected = _id_set(body.get("rejected"))
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            cid = ref.client_order_id
            if cid in accepted and cid in rejected:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "in accepted and rejected")
            elif cid in accepted:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_ACCEPTED, None, "accepted")
            elif cid in rejected:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "rejected")
            else:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED)
        return out

    def _refusal(self, entry: Mapping[str, Any]) -> Outcome:
        """One ``data.failed[]`` element as an outcome. Never ``cancelled``: the query says what happened."""
        code = _text(entry.get("err-code"))
        msg = _text(entry.get("err-msg"))
        if code == ERR_ORDER_STATE:
            state = _int_state(entry.get("order-state"))
            detail = f"{msg or 'Incorrect order state'} (order-state {entry.get('order-state')!s})"
            if state == ORDER_STATE_CANCELLING:
                return Outcome(Verdict.UNKNOWN, REASON_CANCELLING, code, detail)
            # Terminal states (-1/5/6/7) still need the query to tell filled from cancelled; live states
            # (1/3/4) mean the cancel was refused for a reason the reply does not give, so ask again.
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, detail)
        if code in REFUSED_ORDER_CODES:
            return Outcome(Verdict.FAILED, REASON_REFUSED, code, msg)
        # base-record-invalid and the rest: not final (fresh orders, forgotten orders, transient errors).
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg)

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        if ref.conditional:
            return self._parse_algo_query(ref, resp)
        data = load_json(resp)
        if resp.status == 200 and isinstance(data, dict) and data.get("status") == "ok":
            order = data.get("data")
            if not isinstance(order, dict) or not isinstance(order.get("state"), str):
                # An order detail we cannot read says nothing about the order: the query failed.
                return Failure(FailureKind.UNKNOWN_OUTCOME, None, "order detail without a state", resp.status)
            if not self._same_order(ref, order):
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the reply describes another order")
            outcome = QUERY_STATE.get(order["state"])
            if outcome is None:  # a state we do not know: keep asking, never guess
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"state {order['state'][:40]!r}")
            return outcome
        if resp.status == 200 and isinstance(data, dict) and data.get("status") == "error":
            # HTX's own error envelope (HTX answers business errors with HTTP 200).
            code = _text(data.get("err-code"))
            if code in NOT_FOUND_CODES:
                msg = _text(data.get("err-msg"))
                msg = msg[:200] if msg is not None else None
                if names_another_order(msg, ref):
                    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, code, msg)
                # Settled only after NOT_FOUND_CONFIRMATIONS agreeing answers, within FORGET_AFTER_S (engine).
                return Outcome(Verdict.FAILED, REASON_NOT_FOUND, code, msg)
        return self._failure(resp, data)

    def _parse_algo_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        """``algo-orders/specific``: ``data.orderStatus`` read with :data:`ALGO_STATE`.

        ``triggered`` is never ``cancelled``: the algo order became an ordinary order (``orderId``), which
        the algo cancellation no longer reaches; it is settled as refused, naming that order id.
        """
        data = load_json(resp)
        code = _v2_code(data)
        if resp.status == 200 and code == V2_OK_CODE:
            assert isinstance(data, dict)
            order = data.get("data")
            if not isinstance(order, dict) or not isinstance(order.get("orderStatus"), str):
                # No order in a success says nothing about the order (never a not-found): the query failed.
                return Failure(
                    FailureKind.UNKNOWN_OUTCOME, None, "htx: algo order query without an orderStatus", resp.status
                )
            got = _text(order.get("clientOrderId"))
            if got is not None and got != ref.client_order_id:
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "the reply describes another order")
            state = order["orderStatus"]
            outcome = ALGO_STATE.get(state)
            if outcome is None:  # a state we do not know: keep asking, never guess
                return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"state {state[:40]!r}")
            if state == ALGO_TRIGGERED:
                try:
                    successor: str | None = _canonical_id(order.get("orderId"), "orderId")
                except _Unreadable:
                    successor = None  # named in the ordinary lists by the algo order's clientOrderId
                detail = f"became ordinary order {successor}" if successor else "became an ordinary order"
                return Outcome(
                    outcome.verdict,
                    outcome.reason,
                    None,
                    f"{ALGO_TRIGGERED}: not cancelled, {detail} (cancel that one by its order id)",
                )
            return outcome
        if resp.status == 200 and code in V2_NOT_FOUND_CODES:
            assert isinstance(data, dict)
            msg = _text(data.get("message"))
            # Settled only after NOT_FOUND_CONFIRMATIONS agreeing answers, within FORGET_AFTER_S (engine).
            return Outcome(Verdict.FAILED, REASON_NOT_FOUND, code, msg[:200] if msg is not None else None)
        return self._v2_failure(resp, data)

    @staticmethod
    def _same_order(ref: OrderRef, order: Mapping[str, Any]) -> bool:
        """False only when the reply names a different order than the one asked about."""
        if ref.kind is IdKind.ORDER_ID:
            got = _text(order.get("id"))
            return got is None or got == ref.order_id
        got = _text(order.get("client-order-id"))
        return got is None or got == ref.client_order_id

    def _failure(self, resp: HttpResponse, data: Any) -> Failure:
        status = resp.status
        if not isinstance(data, dict) or data.get("status") not in ENVELOPE_STATUSES:
            # Not HTX's envelope (an HTML page, an empty or truncated body, another API's JSON): the
            # status decides, in plain words.
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        envelope = data
        code = _text(envelope.get("err-code"))
        msg = _text(envelope.get("err-msg"))
        msg = msg[:200] if msg is not None else None
        code = code[:100] if code is not None else None
        if status == 429 or code in RATE_CODES:
            return Failure(FailureKind.RATE_LIMITED, code, msg, status, retry_after_seconds(resp))
        if code == STALE_TIMESTAMP_CODE and msg and any(m in msg.lower() for m in STALE_TIMESTAMP_MARKERS):
            return Failure(FailureKind.CLOCK, code, msg, status)
        if code in AUTH_CODES or status in (401, 403):
            return Failure(FailureKind.AUTH, code, msg, status)
        if status >= 500 or status == 408:
            # A gateway can fail after the matching engine acted, whatever the body says.
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "server error", status)
        if code in NOT_PROCESSED_CODES:
            return Failure(FailureKind.NOT_PROCESSED, code, msg, status)
        if code in UNKNOWN_OUTCOME_CODES:
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg, status)
        if code in REJECTED_CODES:
            return Failure(FailureKind.REJECTED, code, msg, status)
        if 400 <= status < 500:
            return Failure(FailureKind.REJECTED, code, msg, status)
        if status == 200 and envelope.get("status") == "error" and code is not None:
            return Failure(UNLISTED_ERROR_KIND, code, msg, status)
        # Unreadable, truncated or unexpected: the cancel may have been applied.
        return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "unreadable reply", status)

    # -- the venue's own cancel-all -------------------------------------------------------------

    def build_cancel_all(
        self, symbol: str | None, creds: Credentials, now_ms: int, *, account: str | None = None
    ) -> HttpRequest:
        """``POST /v1/order/orders/batchCancelOpenOrders`` for the spot account (one symbol, or every one).

        Raises:
            InputError: a symbol ``validate`` would refuse, or no (or a malformed) ``account``: the cancel
                is sent for the spot account the open-orders listing reads, never for HTX's default.
        """
        if symbol is not None:
            check_refs(self.name, [OrderRef(symbol, order_id="1")], ID_FORMAT)
        if account is None:
            raise InputError("htx: the cancel-all needs the spot account-id (build_account_lookup)")
        if not decimal_id_ok(account, ORDER_ID_RE, ORDER_ID_MAX):
            raise InputError(f"htx: account-id must be a decimal id from the accounts lookup, got {clip(account)}")
        fields: dict[str, Any] = {"account-id": account}
        if symbol is not None:
            fields["symbol"] = symbol
        fields["size"] = CANCEL_ALL_SIZE
        body = compact_json(fields).encode()
        query = self._signed_query("POST", CANCEL_ALL_PATH, (), creds, now_ms)
        return HttpRequest("POST", CANCEL_ALL_PATH, query, body, {"Content-Type": "application/json"}, "cancel_all")

    def parse_cancel_all(self, symbol: str | None, resp: HttpResponse) -> Failure | bool:
        """True while HTX's ``next-id`` is not -1 (more open orders remain: call again)."""
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return self._failure(resp, data)
        body = data.get("data")
        raw = body.get("next-id") if isinstance(body, dict) else None
        next_id = _next_id(raw)
        if next_id is None:
            return Failure(
                FailureKind.UNKNOWN_OUTCOME,
                None,
                f"htx: the cancel-all reply has no readable next-id ({clip(raw)}): it may have been applied, "
                "and whether open orders remain is not known",
                resp.status,
            )
        return next_id != CANCEL_ALL_DONE

    # -- the venue's own dead-man countdown -----------------------------------------------------

    def build_countdown(self, symbol: str | None, timeout_s: int, creds: Credentials, now_ms: int) -> HttpRequest:
        """``POST /v2/algo-orders/cancel-all-after`` with ``{"timeout": timeout_s}`` (0 turns it off; module
        docstring "Countdown"). The countdown covers the whole spot account: a symbol is checked as
        :meth:`validate` would, then not sent."""
        self.check_countdown_timeout(timeout_s)
        if symbol is not None:
            check_refs(self.name, [OrderRef(symbol, order_id="1")], ID_FORMAT)
        body = compact_json({"timeout": timeout_s}).encode()
        # POST: only the auth parameters are in the query and signed, as for every other POST.
        query = self._signed_query("POST", COUNTDOWN_PATH, (), creds, now_ms)
        return HttpRequest("POST", COUNTDOWN_PATH, query, body, {"Content-Type": "application/json"}, "countdown")

    def parse_countdown(self, resp: HttpResponse) -> Failure | Countdown:
        """``data.triggerTime`` (``data`` an object, or a one-element list): 0 disarmed, else armed with that
        trigger time; failures as the other v2 replies' (module docstring "Countdown"). Never raises."""
        data = load_json(resp)
        if resp.status != 200 or _v2_code(data) != V2_OK_CODE:
            return self._v2_failure(resp, data)
        assert isinstance(data, dict)
        body = data.get("data")
        if isinstance(body, list) and len(body) == 1:
            body = body[0]
        raw = body.get("triggerTime") if isinstance(body, dict) else None
        trigger = _ms(raw)
        if trigger is None:
            return Failure(
                FailureKind.UNKNOWN_OUTCOME,
                None,
                f"htx: the dead man's switch reply has no readable triggerTime ({clip(raw)}): it may have been applied",
                resp.status,
            )
        if trigger == 0:
            return Countdown(armed=False, trigger_ms=None)
        return Countdown(armed=True, trigger_ms=trigger * 1000 if trigger < SECONDS_BELOW else trigger)

    # -- listings ----------------------------------------------------------------------------

    def build_account_lookup(self, creds: Credentials, now_ms: int) -> HttpRequest:
        # "No parameters are needed for this endpoint"; GET, so the auth parameters are all that is signed.
        query = self._signed_query("GET", ACCOUNTS_PATH, (), creds, now_ms)
        return HttpRequest("GET", ACCOUNTS_PATH, query, None, {}, "account")

    def parse_account_lookup(self, resp: HttpResponse) -> str | Failure:
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return self._failure(resp, data)
        accounts = data.get("data")
        if not isinstance(accounts, list):
            return Failure(
                FailureKind.UNKNOWN_OUTCOME, None, "htx: the accounts reply's data is not a list", resp.status
            )
        spot = [a for a in accounts if isinstance(a, dict) and a.get("type") == SPOT_ACCOUNT_TYPE]
        for account in spot:
            if account.get("state") == WORKING_ACCOUNT_STATE:
                try:
                    return _canonical_id(account.get("id"), "account id")
                except _Unreadable as exc:
                    return Failure(FailureKind.UNKNOWN_OUTCOME, None, f"htx: the spot account {exc}", resp.status)
        if spot:
            state = _text(spot[0].get("state"))
            return Failure(
                FailureKind.REJECTED,
                None,
                f"htx: the key's spot account is not working (state {clip(state)}); its orders cannot be listed",
                resp.status,
            )
        return Failure(FailureKind.REJECTED, None, "htx: the key has no spot account to list orders of", resp.status)

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
        if not isinstance(kind, ListKind) or kind not in self.list_kinds:
            raise InputError(f"htx: no such listing {clip(kind)} (HTX has {', '.join(k.value for k in ListKind)})")
        if symbol is not None:
            # The symbol travels in the query: refuse what validate would refuse, naming it, before sending.
            check_refs(self.name, [OrderRef(symbol, order_id="1")], ID_FORMAT)
        after = None
        if cursor is not None:
            try:
                after = _cursor_value(kind, cursor)
            except _Unreadable as exc:
                raise InputError(f"htx: {exc}") from None
        if account is not None and not decimal_id_ok(account, ORDER_ID_RE, ORDER_ID_MAX):
            raise InputError(f"htx: account-id must be a decimal id from the accounts lookup, got {clip(account)}")
        extra: list[tuple[str, str]] = []
        if kind is ListKind.OPEN:
            if account is None:
                # The official SDK and the legacy docs make account-id mandatory; ccxt always sends it.
                raise InputError("htx: the open-orders listing needs the spot account-id (build_account_lookup)")
            extra += [("account-id", account), ("size", str(OPEN_PAGE_MAX))]
            if after is not None:
                extra += [("from", str(after)), ("direct", "next")]  # descending from the smallest id seen
        elif kind is ListKind.CONDITIONAL:
            extra.append(("limit", str(ALGO_PAGE_MAX)))
            if account is not None:
                extra.append(("accountId", account))
            if after is not None:
                extra.append(("fromId", str(after)))
        else:
            start = now_ms - HISTORY_REACH_MS
            if since_ms is not None:
                start = max(start, min(since_ms, now_ms))
            extra += [("direct", "next"), ("size", str(HISTORY_PAGE_MAX))]
            if after is not None:
                # The start may have moved on with the clock since the first page; never past the end.
                start = min(start, after)
                extra.append(("end-time", str(after)))
            # Without end-time HTX ends the window at its own "query time": the first page misses nothing new.
            extra.append(("start-time", str(start)))
        if symbol is not None:
            extra.append(("symbol", symbol))
        path = LIST_PATH[kind]
        query = self._signed_query("GET", path, extra, creds, now_ms)
        return HttpRequest("GET", path, query, None, {}, LIST_ENDPOINT[kind])

    def parse_list(
        self, kind: ListKind, symbol: str | None, resp: HttpResponse, *, cursor: str | None = None
    ) -> ListReply:
        if not isinstance(kind, ListKind) or kind not in self.list_kinds:
            return Failure(FailureKind.REJECTED, None, f"htx: no such listing {clip(kind)}", resp.status)
        data = load_json(resp)
        name = LIST_NAME[kind]
        if kind is ListKind.CONDITIONAL:
            if resp.status != 200 or _v2_code(data) != V2_OK_CODE:
                return self._v2_failure(resp, data)
        elif resp.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
            return self._failure(resp, data)
        assert isinstance(data, dict)
        entries = data.get("data")
        if not isinstance(entries, list):
            return Failure(
                FailureKind.UNKNOWN_OUTCOME,
                None,
                f"htx: the {name} reply's data is not a list: the listing cannot be trusted",
                resp.status,
            )
        orders: list[ListedOrder] = []
        try:
            after = _cursor_value(kind, cursor) if cursor is not None else None
            for n, entry in enumerate(entries, 1):
                try:
                    orders.append(self._listed_order(kind, entry))
                except _Unreadable as exc:
                    raise _Unreadable(f"entry {n} of the page {exc}") from None
            if kind is ListKind.OPEN:
                next_cursor = self._open_cursor(orders, after, full=len(entries) >= OPEN_PAGE_MAX)
            elif kind is ListKind.CONDITIONAL:
                next_cursor = self._algo_cursor(data.get("nextId"))
            else:
                more = len(entries) >= HISTORY_PAGE_MAX or data.get("next-time") is not None
                next_cursor = self._history_cursor(orders, after, more, data.get("next-time"))
        except _Unreadable as exc:
            return Failure(
                FailureKind.UNKNOWN_OUTCOME,
                None,
                f"htx: {name} listing: {exc}; a page that may have dropped an order is not taken as complete",
                resp.status,
            )
        return ListPage(tuple(orders), next_cursor)

    def _listed_order(self, kind: ListKind, entry: Any) -> ListedOrder:
        """One listing entry; :class:`_Unreadable` when it lacks a readable id or symbol."""
        if not isinstance(entry, dict):
            raise _Unreadable(f"is not an object but {type(entry).__name__}")
        symbol = _symbol(entry.get("symbol"))
        if kind is ListKind.CONDITIONAL:
            # Untriggered algo orders are known by their client id alone; orderId appears once triggered.
            client_id = _client_id(entry.get("clientOrderId"), "clientOrderId")
            if client_id is None:
                raise _Unreadable("has no clientOrderId")
            state = entry.get("orderStatus")
            return ListedOrder(
                symbol=symbol,
                # By client id only: the ref the algo endpoints take (an orderId means it triggered).
                order_id=None,
                client_order_id=client_id,
                status=_state_outcome(ALGO_STATE, state),
                conditional=True,
                side=_text(entry.get("orderSide")),
                order_type=_text(entry.get("orderType")),
                price=_text(entry.get("orderPrice")),
                quantity=_text(entry.get("orderSize")),  # market buys carry orderValue (quote) instead
                filled=None,
                created_ms=_ms(entry.get("orderOrigTime")),
                updated_ms=_ms(entry.get("lastActTime")),
            )
        order_id = _canonical_id(entry.get("id"), "order id")
        client_id = _client_id(entry.get("client-order-id"), "client-order-id")
        order_type = _text(entry.get("type"))
        words = order_type.split("-") if order_type is not None else []
        side = words[0] if words and words[0] in ("buy", "sell") else None
        # openOrders says filled-amount; order/history and order detail say field-amount.
        filled = entry.get("filled-amount", entry.get("field-amount"))
        finished = [_ms(entry.get(k)) for k in ("updated-at", "finished-at", "canceled-at")]
        updated = max((t for t in finished if t), default=None)
        return ListedOrder(
            symbol=symbol,
            order_id=order_id,
            client_order_id=client_id,
            status=_state_outcome(QUERY_STATE, entry.get("state")),
            # Legacy stop-limit orders rest here and are ordinary to HTX's API (batchcancel reaches them).
            conditional=False,
            side=side,
            order_type=order_type,
            price=_text(entry.get("price")),
            quantity=_text(entry.get("amount")),
            filled=_text(filled),
            created_ms=_ms(entry.get("created-at")),
            updated_ms=updated,
        )

    @staticmethod
    def _open_cursor(orders: Sequence[ListedOrder], after: int | None, *, full: bool) -> str | None:
        """The next openOrders page starts ``from`` the smallest id of a full page (descending order)."""
        ids = [int(o.order_id) for o in orders if o.order_id is not None]
        if after is not None and any(i > after for i in ids):
            raise _Unreadable(f"lists an order id above from={after}: the paging is not the one this adapter follows")
        if not full:
            return None
        if any(a < b for a, b in zip(ids, ids[1:], strict=False)):
            raise _Unreadable("is full but not in descending id order: the next page cannot be asked for safely")
        return _make_cursor(ListKind.OPEN, min(ids))

    @staticmethod
    def _algo_cursor(next_id: Any) -> str | None:
        """``nextId`` is "the first record ID in next page (only valid if exceeded page size)"."""
        if next_id is None or next_id == "":
            return None
        try:
            return _make_cursor(ListKind.CONDITIONAL, int(_canonical_id(next_id, "nextId")))
        except _Unreadable as exc:
            raise _Unreadable(f"reply {exc}") from None

    @staticmethod
    def _history_cursor(orders: Sequence[ListedOrder], end: int | None, more: bool, next_time: Any) -> str | None:
        """The next history page ends (inclusively) at the oldest ``created-at`` of this one."""
        created = [o.created_ms for o in orders]
        known = [c for c in created if c is not None]
        if end is not None and any(c > end for c in known):
            raise _Unreadable(f"lists an order created after end-time={end}: the paging is not the one followed")
        if not more:
            return None
        if not orders:
            stamp = _ms(next_time)
            if not stamp:
                raise _Unreadable(f"reply has an unreadable next-time {clip(next_time)}")
            return _make_cursor(ListKind.HISTORY, stamp)
        if len(known) != len(created) or not all(known):
            raise _Unreadable("has an order without created-at on a full page: the next page cannot be asked for")
        if any(a < b for a, b in zip(known, known[1:], strict=False)):
            raise _Unreadable("is full but not newest first: the next page cannot be asked for safely")
        oldest = min(known)
        if end is not None and oldest >= end:
            raise _Unreadable(
                f"is full of orders created in one millisecond ({end}): HTX's time paging cannot get past them"
            )
        return _make_cursor(ListKind.HISTORY, oldest)

    def _v2_failure(self, resp: HttpResponse, data: Any) -> Failure:
        """A v2 reply (``{"code": ..., "message": ...}``) that is not a success, classified like v1's."""
        if _v2_code(data) is None:
            if isinstance(data, dict) and data.get("status") in ENVELOPE_STATUSES:
                return self._failure(resp, data)  # a gateway's v1 envelope on a v2 path is still HTX's word
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        assert isinstance(data, dict)
        status = resp.status
        code = _v2_code(data)
        msg = _text(data.get("message"))
        msg = msg[:200] if msg is not None else None
        if status == 429 or code in V2_RATE_CODES:
            return Failure(FailureKind.RATE_LIMITED, code, msg, status, retry_after_seconds(resp))
        if code in V2_AUTH_CODES or status in (401, 403):
            if msg and any(m in msg.lower() for m in STALE_TIMESTAMP_MARKERS):
                return Failure(FailureKind.CLOCK, code, msg, status)
            return Failure(FailureKind.AUTH, code, msg, status)
        if status >= 500 or status == 408:
            return Failure(FailureKind.UNKNOWN_OUTCOME, code, msg or "server error", status)
        if code in V2_REJECTED_CODES or 400 <= status < 500:
            return Failure(FailureKind.REJECTED, code, msg, status)
        return Failure(UNLISTED_ERROR_KIND, code, msg, status)


def _next_id(value: Any) -> int | None:
    """batchCancelOpenOrders' ``next-id``: -1 (none left) or an order id (number or digit string); else None."""
    if isinstance(value, str) and (value == "-1" or decimal_id_ok(value, ORDER_ID_RE, ORDER_ID_MAX)):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and (value == -1 or 1 <= value <= ORDER_ID_MAX):
        return value
    return None


def _id_set(value: Any) -> set[str]:
    """The ids of an ``accepted`` / ``rejected`` list (strings or numbers); nothing from a non-list."""
    if not isinstance(value, list):
        return set()
    return {t for t in (_text(v) for v in value if not isinstance(v, bool)) if t is not None}


def _state_outcome(states: Mapping[str, Outcome], state: Any) -> Outcome:
    """A listed order's state word read as :meth:`HTX.parse_query` reads it; a word we do not know is ambiguous."""
    if isinstance(state, str) and state in states:
        return states[state]
    if isinstance(state, str):
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"state {state[:40]!r}")
    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, "no state")
