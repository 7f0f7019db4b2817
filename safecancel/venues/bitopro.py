"""BitoPro: ``PUT /v3/orders`` (cancel batch orders), and the order listings.

Docs: https://github.com/bitoex/bitopro-offical-api-docs/blob/master/api/v3/private/cancel_batch_orders.md
(``shared/venues.md`` §1; seed 000).

Endpoint and base URL
    ``PUT /v3/orders`` with a JSON body ``{"BTC_USDT": ["12234566", ...], "ETH_USDT": [...]}``: several
    pairs may share one request, and :meth:`BitoPro.plan_chunks` packs them up to the batch limit. The
    docs give the REST root as ``https://api.bitopro.com/v3``; this adapter keeps the ``/v3`` in every
    request path and strips a trailing ``/v3`` from the base URL it is given, so both
    ``https://api.bitopro.com/v3`` (the documented root) and a bare ``http://127.0.0.1:PORT`` (the fake
    venue) work. :attr:`BitoPro.default_base_url` is therefore ``https://api.bitopro.com``.

Signing (README "API Security Protocol")
    ``X-BITOPRO-PAYLOAD`` is standard base64 of a JSON text, ``X-BITOPRO-SIGNATURE`` is
    ``hex(HMAC-SHA384(secret, payload))``, ``X-BITOPRO-APIKEY`` the key. For the PUT the JSON text is
    the body itself: it is serialised once and the very same bytes are encoded and sent, with no nonce
    (neither the official SDK nor ccxt adds one). For GET/DELETE the payload is
    ``{"identity": <e-mail or "">, "nonce": <ms>}``. The identity (the account e-mail) is a secret: it
    only ever travels inside the payload header, which is in :attr:`BitoPro.secret_headers`.

Reply mapping (§1.5, §6)
    A 200 reply ``{"data": {PAIR: [ids]}}`` lists the ids that *were cancelled*; an order is
    ``CANCELLED`` only when its id appears under its own pair. Every other requested order is
    ``UNKNOWN`` (reason ``omitted``) and is settled by ``GET /v3/orders/{pair}/{orderId}``. Non-2xx
    replies carry ``{"error": "..."}`` and are classified by HTTP status: 409 (local time mismatch) is
    CLOCK, 429 RATE_LIMITED, 401/403 and "Invalid Signature" AUTH, 408 and 5xx UNKNOWN_OUTCOME, other
    4xx REJECTED. A reply whose body is not that shape (a proxy's HTML page, an empty body, another
    API's JSON) is the endpoint's word, not BitoPro's: it never settles an order, and its status alone
    decides (other 4xx REJECTED with a plain-words message naming what came back; 2xx UNKNOWN_OUTCOME).
    Pairs are compared case-insensitively (the body carries ``BTC_USDT``, the query path
    ``btc_usdt``, as ccxt does).

Server time
    BitoPro documents no time endpoint (ccxt: ``fetchTime: False``), so :meth:`BitoPro.build_time`
    returns ``None`` and :meth:`BitoPro.parse_time` reads the HTTP ``Date`` header of *any* reply. That
    header has one-second resolution; the estimate is the middle of that second
    (:data:`DATE_HEADER_MIDPOINT_MS`), which halves the worst-case error. Not sourced by BitoPro.

Listings (issue #14)
    Docs: https://github.com/bitoex/bitopro-offical-api-docs/blob/master/api/v3/private/get_open_orders_data.md
    and .../api/v3/private/get_orders_data.md; order model and types: .../model.md.

    - OPEN: ``GET /v3/orders/open[?pair=btc_usdt]`` ("Fetches all open orders"; ``pair`` optional, every
      pair when absent). No paging, no page size and no cap documented, so one request is the whole
      list and the cursor is always None. Rate: "5 requests per second per IP & UID". Chosen over
      ``GET /v3/orders/all/{pair}?statusKind=OPEN`` (paged by ``orderId`` + ``limit`` <= 1000) because
      it needs no pair (a kill switch without ``--symbol`` is one request, not one per pair the account
      ever traded), has no 90-day window (the paged one needs ``ignoreTimeLimitEnable=true`` for older
      resting orders) and cannot tear between pages while orders come and go.
    - CONDITIONAL: not a list of its own. Stop-limit orders (ids ``SL-...``, status -1 "not
      triggered") rest on the ordinary list (both docs' samples show them there), so they are
      listed as OPEN with ``conditional=True``, read from the order ``type`` (:data:`CONDITIONAL_TYPES`:
      ``STOP_LIMIT``, ``SP_OCO_STOPLIMIT``, ``SL_OCO_STOPLIMIT``) or from the ``SL-`` id prefix (the
      open-orders sample shows an ``SL-`` id with type ``LIMIT``).
      :attr:`BitoPro.list_kinds` is OPEN and HISTORY.
    - HISTORY: ``GET /v3/orders/all/{pair}?startTimestamp=<ms>&statusKind=ALL&limit=1000[&orderId=<id>]``
      (pair required: :attr:`BitoPro.list_needs_symbol`). The only order listing with final states;
      ``statusKind=ALL`` because ``DONE`` is only statuses 2 and 3: cancelled orders (4, 6) appear
      under ``ALL`` alone, and they appear at once (the cancel replies are synchronous) and for the
      90 days the venue keeps orders. Orders come newest first by creation time; ``orderId`` makes a
      page start at ids ``<=`` it (docs, 2024-04-15 "history id shift"), so the cursor is the last
      numeric id of a full page (``limit`` = :data:`HISTORY_PAGE_MAX`, the documented maximum), and
      that order, seen again first on the next page, is dropped there. ``startTimestamp`` is
      ``since_ms`` clipped to :attr:`BitoPro.history_window_s` (90 days, less
      :data:`HISTORY_CLOCK_MARGIN_MS`, because the venue calls a range above 90 days "undefined"
      and measures it on its own clock); ``endTimestamp`` is left to the venue (its "current
      timestamp"). No own rate: the README's 600 per minute per IP and per account.
    - :attr:`BitoPro.list_rate` is the slower of the two, the open list's 5/s.
    - Entries are read like the single-order query (:data:`QUERY_STATUS`): ``pair`` upper-cased to
      the spelling :meth:`BitoPro.validate` and the batch body use, ``id`` kept as the venue sends it
      (``SL-`` ids included; :meth:`BitoPro.validate` refuses those for the batch cancel), the
      integer ``clientId`` as a decimal string.

    UNCONFIRMED (listings)
    - That ``/orders/open`` has no hidden cap. The venue's per-pair open-order limit
      (``orderOpenLimit`` "200" in ``/provisioning/trading-pairs``) bounds it per pair; a truncated
      reply could not be told from a complete one.
    - The reply for an empty listing: ``{"data": []}`` is read as empty; ``{"data": null}`` or no
      ``data`` is a failure (never an empty book), which is safe but would stall on a venue that
      answers so.
    - How ``orderId`` compares ``SL-`` ids, and whether creation order and id order agree: the
      cursor is only ever a numeric id; a full page without one is a failure, not an end.
    - Timestamps: documented in ms, but ccxt's captured open-orders reply carries seconds
      (``"createdTimestamp": 1733122154``); values below :data:`SECONDS_TIMESTAMP_BELOW` are read as
      seconds.
    - Whether the time window filters on creation time (assumed: "the start time of orders").

Cancel-all (issue #14, the kill switch's optional first strike)
    Docs: https://github.com/bitoex/bitopro-offical-api-docs/blob/master/api/v3/private/cancel_all_orders.md
    ("Cancel all open orders"). ``DELETE /v3/orders/{pair}`` cancels one pair (lower-case in the path, as in
    the docs' ``bito_eth`` and ccxt's market id; the official Go SDK's ``CancelAll(pair)`` puts the pair, or
    ``all``, in the same place); ``DELETE /v3/orders/all`` "will cancel all your active orders of all pairs",
    so :attr:`BitoPro.cancel_all_needs_symbol` is False. No query or body; signed with the GET/DELETE nonce
    payload. Rate: the page states "Allow 2 requests per second per IP & UID" at the top and "Allow 1
    requests per second per IP" under ``/orders/all`` (the 2023-09-08 changelog raised the CancelAllOrders
    limit without saying which form; ccxt weights both at 2/s). One rate paces both forms, so
    :attr:`BitoPro.cancel_all_rate` is the conservative 1 per second. Synchronous, like the batch cancel: the
    reply ``{"data": {"BTC_USDT": ["12234566", ...]}}`` lists per upper-case pair the ids it cancelled
    (``{"data": {}}`` when nothing was open). No paging and no "more" flag, so
    :meth:`BitoPro.parse_cancel_all` returns False or a classified failure; the ids it names settle nothing
    (the listings and queries afterwards do).
    UNCONFIRMED: that "all open orders" includes stop-limit orders still at status -1 "not triggered"
    (they are on the open-order list, so it is the plain reading; the fake cancels them); whether one call
    has a cap (none documented; a pair holds at most ``orderOpenLimit`` 200 open orders).

Conditional orders
    BitoPro keeps no separate list of conditional orders: its stop-limit orders (ids ``SL-...``, status -1
    "not triggered") rest on the ordinary open-order list and in the ordinary history (get_an_order_data.md's
    reply sample is one, so the single query presumably takes ``SL-`` ids; UNCONFIRMED, and :meth:`validate`
    keeps such refs out of jobs altogether). So :attr:`BitoPro.list_kinds` has no CONDITIONAL, a listed
    stop-limit order's ``ref`` is an ordinary ref, and :meth:`BitoPro.validate` refuses an ``OrderRef``
    with ``conditional=True``, naming it.
    The batch cancel and ``SL-`` ids: cancel_batch_orders.md ("Cancel multiple orders by given group of
    order ids", added in v3.3.0 after stop-limit orders came in v3.0.0) shows and describes numeric ids
    only, and nothing in the docs, the official SDKs or ccxt says it takes ``SL-`` ids (the Go SDK's
    single ``CancelOrder`` even takes the id as an int). It is therefore treated as not accepting them:
    :data:`ALLOW_STOP_LIMIT_IDS` is False and :meth:`BitoPro.validate` refuses an ``SL-`` id with a message
    saying so. **A kill switch can clear such orders only with the native cancel-all** (``--native``:
    ``DELETE /v3/orders/{pair}`` / ``/v3/orders/all``), and then see them gone (or not) on the listings:
    the open-order list no longer shows them, the history shows them cancelled (status 4). The single
    cancel ``DELETE /v3/orders/{pair}/{orderId}`` (orderId "the id of the order", a string; 900 per
    minute per IP & UID; reply ``{"orderId", "action", "amount", "price", "timestamp"}``) might take them
    too (UNCONFIRMED); this adapter does not build it.

UNCONFIRMED choices (each a named constant below)
    - Max ids per request is not documented: :data:`DEFAULT_MAX_BATCH` (10) by default, a caller may
      raise it up to :data:`HARD_MAX_BATCH`.
    - Per-order failures are not documented; assumed silently absent from the reply. Absent ->
      ``unknown`` -> query, which is safe whatever the venue does with them.
    - Stop-limit ids (``SL-9014867155``) are not documented for the batch endpoint (see "Conditional
      orders"): :data:`ALLOW_STOP_LIMIT_IDS` is False, so :meth:`BitoPro.validate` rejects them with a
      clear message rather than sending a request whose effect is unknown.
    - How the query reports an unknown order is not documented: only a 404 in BitoPro's own error shape
      (``{"error": "..."}``) whose message names an order as not found
      (:data:`QUERY_NOT_FOUND_FRAGMENTS`) is read as ``not_found``; any other 404 is a refusal of the
      request (it could be a wrong path) and the order stays as it was.
    - Order ids: the docs type ``orderId`` only as a string of digits ("2959906694"); the official Go SDK
      takes it as a Go ``int`` (64-bit) formatted with ``%d`` (``CancelOrder(pair string, orderID int)``,
      bitopro-api-go ``pkg/bitopro/order_cancel.go``), so :data:`ORDER_ID_MAX` is 2**63-1. Ids are
      canonical: ASCII digits, no leading zero, not ``0``.
    - Status 3 "Completed (partial deal)" does not say "cancelled": it is reported as ``failed`` /
      ``filled`` (:data:`QUERY_STATUS`), never as ``cancelled``.
    - ``Retry-After`` on 429 is not documented; honoured when present.
    - 409 is CLOCK everywhere (current README: "Local Machine Time Mismatch"). The older v3-1 doc read
      it as "same request more than once"; the PUT carries no nonce, so under that reading a re-sent
      identical batch could keep getting 409. No verdict is ever inferred from it, so it stays safe.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from ..errors import InputError
from ..model import (
    REASON_AMBIGUOUS,
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
    Budget,
    IdFormat,
    Rate,
    VenueAdapter,
    clip,
    compact_json,
    decimal_id_ok,
    decimal_id_re,
    describe_decimal_id_flaw,
    flaw,
    foreign_reply_failure,
    hmac_hex,
    load_json,
    names_another_order,
    retry_after_seconds,
)

# -- endpoint constants ---------------------------------------------------------------------------

API_PREFIX = "/v3"  # README "API Endpoint": the REST service is hosted at https://api.bitopro.com/v3
CANCEL_PATH = API_PREFIX + "/orders"  # cancel_batch_orders.md (the official Python SDK adds a trailing "/")
QUERY_PATH = API_PREFIX + "/orders/{pair}/{order_id}"  # get_an_order_data.md

# Pairs are {BASE}_{QUOTE} ("bito_eth", "BTC_USDT"); the body uses upper case (docs' sample, ccxt's
# uppercaseId), the query path lower case (ccxt's market id).
SYMBOL_RE = re.compile(r"[A-Za-z0-9]{1,20}_[A-Za-z0-9]{1,20}", re.ASCII)
# Exchange order ids are digit strings ("2959906694"); the official Go SDK holds them in a 64-bit int
# (bitopro-api-go pkg/bitopro/order_cancel.go: CancelOrder(pair string, orderID int), "%d").
ORDER_ID_MAX = INT64_MAX
ORDER_ID_RE = decimal_id_re(ORDER_ID_MAX)  # ASCII digits, no leading zero, at most 19 digits
STOP_LIMIT_PREFIX = "SL-"  # get_an_order_data.md example: "SL-9014867155"
# validate() below is BitoPro's own (stop-limit ids, duplicates across pair spellings); this states the same
# spellings for whoever reads the venue's facts. No client ids: the batch endpoint takes exchange ids only.
ID_FORMAT = IdFormat(
    SYMBOL_RE,
    "expected BASE_QUOTE, e.g. BTC_USDT",
    ORDER_ID_RE,
    "order id",
    f"digits 1..{ORDER_ID_MAX} without a leading zero",
    None,
    "",
    "",
    ORDER_ID_MAX,
)

# UNCONFIRMED (venues.md §1.4): whether "SL-" ids can be cancelled through PUT /orders. The docs show and
# describe numeric ids only (module docstring "Conditional orders"). Rejecting them up front is the
# conservative reading: the caller gets a clear error instead of a request whose effect on a stop order
# nobody has documented. A kill switch clears such orders only with the native cancel-all.
ALLOW_STOP_LIMIT_IDS = False

# UNCONFIRMED (venues.md §1.4): the batch limit is not documented. 10 is a conservative default; a
# caller may raise it up to 200, the per-pair open-order limit the venue reports ("orderOpenLimit":
# "200" in /provisioning/trading-pairs), beyond which a batch cannot usefully grow.
DEFAULT_MAX_BATCH = 10
HARD_MAX_BATCH = 200

# HTTP statuses, README "HTTP Status Code & Error Response".
STATUS_CLOCK = 409  # "Conflict: Local Machine Time Mismatch" (the older v3-1 doc: "same request more than once")
STATUS_RATE_LIMITED = 429
AUTH_STATUSES = frozenset({401, 403})  # API key deleted / no permission
UNKNOWN_OUTCOME_STATUSES = frozenset({408})  # "Send Request Takes Too Long": may have been applied
# ccxt maps {"error":"Invalid Signature"} to AuthenticationError whatever the status; so do we.
AUTH_MESSAGE_FRAGMENTS = ("invalid signature", "api key", "apikey")
CLOCK_MESSAGE_FRAGMENTS = ("time mismatch",)

# UNCONFIRMED: the query's reply for an unknown order is not documented. Only a 404 that says an order
# was not found means "not found"; a bare 404 may be a wrong path and must not fail the order.
STATUS_NOT_FOUND = 404
WRONG_PATH_STATUSES = frozenset({404, 405})  # README: 404 "wrong path"; 405 a method the path does not take
QUERY_NOT_FOUND_FRAGMENTS = ("order not found", "order does not exist", "order is not found")

# Order status ints, model.md "Order Status Enum" (the official Python SDK's OrderStatus is identical).
QUERY_STATUS: Mapping[int, Outcome] = {
    -1: Outcome(Verdict.OPEN, None, "-1", "not triggered"),  # stop-limit: still resting
    0: Outcome(Verdict.OPEN, None, "0", "in progress"),
    1: Outcome(Verdict.OPEN, None, "1", "in progress (partial deal)"),
    2: Outcome(Verdict.FAILED, REASON_FILLED, "2", "completed"),
    # "Completed (partial deal)" is terminal and traded, but does not say "cancelled" (UNCONFIRMED whether
    # a cancel after a partial fill ends here): never claim a cancel the venue did not state.
    3: Outcome(Verdict.FAILED, REASON_FILLED, "3", "completed (partial deal)"),
    4: Outcome(Verdict.CANCELLED, None, "4", "cancelled"),
    6: Outcome(Verdict.CANCELLED, None, "6", "post-only cancelled"),
}

# -- listings (module docstring "Listings") ---------------------------------------------------------

OPEN_ORDERS_PATH = API_PREFIX + "/orders/open"  # get_open_orders_data.md: pair optional, no paging
HISTORY_PATH = API_PREFIX + "/orders/all/{pair}"  # get_orders_data.md: pair required, paged by orderId
# get_orders_data.md "limit": 1 ~ 1000, default 100. The maximum, so a history needs the fewest requests.
HISTORY_PAGE_MAX = 1000
# "DONE includes order status of 2 and 3": cancelled orders (4, 6) are listed under ALL only.
HISTORY_STATUS_KIND = "ALL"
# "History is available only for the past 90 days"; "startTimestamp and endTimestamp can only be 90
# days apart ... the behavior is undefined" beyond that.
HISTORY_DAYS_MS = 90 * 86_400_000
# The range ends at the venue's "current timestamp", measured on its clock: ask for an hour less than 90
# days, so a clock difference can never push the range past the venue's limit.
HISTORY_CLOCK_MARGIN_MS = 3_600_000
# get_open_orders_data.md: "Allow 5 requests per second per IP & UID". The history endpoint states no
# limit of its own, so the README's 600 per minute per IP and per account (10/s) applies: 5/s is the slower.
LIST_OPEN_RATE = Rate(5, 1.0)

# -- cancel-all (module docstring "Cancel-all") -----------------------------------------------------

CANCEL_ALL_PAIR_PATH = API_PREFIX + "/orders/{pair}"  # cancel_all_orders.md: one pair
CANCEL_ALL_EVERY_PATH = API_PREFIX + "/orders/all"  # cancel_all_orders.md: "all your active orders of all pairs"
# cancel_all_orders.md states "2 requests per second per IP & UID" for the endpoint and "1 requests per second
# per IP" for /orders/all: one rate paces both forms, so the stricter one.
CANCEL_ALL_RATE = Rate(1, 1.0)
# README.md "API Rate Limit": 600 requests per minute per IP and per account, across endpoints (api/v3/summary.md
# says 1200/min per IP & UID: the lower one, as venues.md §1.4 advises). Each endpoint's own rate above sits
# inside it alone, but not together: cancels at 2/s with queries at 10/s (the query's only limit is this one)
# would be 720/min. Every paced request spends 1 from it; one budget per IP, which also covers the account.
GLOBAL_BUDGET = Budget(
    "600/min per IP and account",
    Rate(600, 60.0),
    {"cancel": 1, "query": 1, "list": 1, "cancel_all": 1},
    per="ip",
)
# model.md "Order Type Enum": the trigger (stop-limit and OCO stop-limit) types.
CONDITIONAL_TYPES = frozenset({"STOP_LIMIT", "SP_OCO_STOPLIMIT", "SL_OCO_STOPLIMIT"})
# UNCONFIRMED: the docs state ms, ccxt's captured open-orders reply has seconds (1733122154). A value
# below this cannot be a ms time after 1973, so it is read as seconds.
SECONDS_TIMESTAMP_BELOW = 10**11
# A listed id is kept as the venue sends it (digits, "SL-" + digits, or a form not yet documented);
# printable ASCII without spaces, bounded, so a junk value cannot pass for an id.
LISTED_ID_RE = re.compile(r"[!-~]{1,64}", re.ASCII)
_DIGITS_RE = re.compile(r"[0-9]{1,20}", re.ASCII)

# No server-time endpoint: parse_time reads the Date header (RFC 7231 IMF-fixdate, second resolution).
DATE_HEADER_MIDPOINT_MS = 500
# One IMF-fixdate; a proxy (or a test server) may send the header twice, which clients join with ", ".
_IMF_FIXDATE_RE = re.compile(r"[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT", re.ASCII)


# -- signing (pure functions, unit-tested against the official vectors) -------------------------------


def payload_of(text: bytes) -> str:
    """``X-BITOPRO-PAYLOAD``: standard base64 of the exact JSON bytes (the Go SDK's ``StdEncoding``).

    The Python SDK uses the url-safe alphabet (UNCONFIRMED which the server accepts). The two differ
    only where ``+``/``/`` appear, which needs a ``>``, ``?``, ``~`` or non-ASCII byte in the JSON: never
    in a batch body (pairs and digit ids), only in an unusual identity e-mail.
    """
    return base64.b64encode(text).decode("ascii")


def signature_of(secret: str, payload: str) -> str:
    """``X-BITOPRO-SIGNATURE``: lower-case hex of HMAC-SHA384 over the payload text."""
    return hmac_hex(secret, payload, "sha384")


def canonical_pair(symbol: str) -> str:
    """The pair as the batch body spells it (upper case); replies are matched on this form."""
    return symbol.upper()


class BitoPro(VenueAdapter):
    """Adapter for BitoPro spot (REST v3)."""

    name: ClassVar[str] = "bitopro"
    default_base_url: ClassVar[str] = "https://api.bitopro.com"  # paths carry /v3 (see module docstring)
    id_kinds: ClassVar[frozenset[IdKind]] = frozenset({IdKind.ORDER_ID})
    # The payload carries the account e-mail on GET/DELETE; the signature is redacted too, so that
    # evidence and cassettes hold nothing derived from the secret.
    secret_headers: ClassVar[frozenset[str]] = frozenset(
        {"x-bitopro-apikey", "x-bitopro-payload", "x-bitopro-signature"}
    )
    secret_params: ClassVar[frozenset[str]] = frozenset()
    # "Allow 2 requests per second per IP" (cancel_batch_orders.md; ccxt weights it 2/s as well).
    cancel_rate: ClassVar[Rate] = Rate(2, 1.0)
    # The single-order query has no own limit: the README's 600 per minute per IP and per account.
    query_rate: ClassVar[Rate] = Rate(600, 60.0)
    # ...which every paced request spends from together (GLOBAL_BUDGET).
    shared_budget: ClassVar[Budget | None] = GLOBAL_BUDGET
    requires: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")  # identity is optional ("" in the SDK)
    example_symbol: ClassVar[str] = "BTC_USDT"
    id_format: ClassVar[IdFormat] = ID_FORMAT
    default_max_batch: ClassVar[int] = DEFAULT_MAX_BATCH
    hard_max_batch: ClassVar[int] = HARD_MAX_BATCH
    # The body maps pairs to ids ({"BTC_USDT": [...], "ETH_USDT": [...]}): one request spans pairs.
    one_symbol_per_request: ClassVar[bool] = False
    # clientId is an integer 1 ~ 2147483647 (create_an_order.md; get_orders_data.md filters by it): a kill
    # switch scopes the caller's own orders by a numeric range here, not by a prefix.
    numeric_client_ids: ClassVar[bool] = True
    allow_stop_limit_ids: ClassVar[bool] = ALLOW_STOP_LIMIT_IDS
    # Listings (module docstring "Listings"): stop-limit orders rest on the ordinary open list, so there is
    # no CONDITIONAL list; the history endpoint is per pair; the open list's 5/s is the slower rate.
    list_rate: ClassVar[Rate] = LIST_OPEN_RATE
    list_kinds: ClassVar[frozenset[ListKind]] = frozenset({ListKind.OPEN, ListKind.HISTORY})
    list_needs_symbol: ClassVar[frozenset[ListKind]] = frozenset({ListKind.HISTORY})
    history_window_s: ClassVar[float] = (HISTORY_DAYS_MS - HISTORY_CLOCK_MARGIN_MS) / 1000
    # Orders asked per history page: the documented maximum. A fact, not a knob; tests may lower it to
    # page through a few hundred orders.
    history_page_size: ClassVar[int] = HISTORY_PAGE_MAX
    # Cancel-all (module docstring "Cancel-all"): the stricter of the two rates its page states; the pair
    # is optional (DELETE /v3/orders/all cancels every pair).
    cancel_all_rate: ClassVar[Rate] = CANCEL_ALL_RATE
    cancel_all_needs_symbol: ClassVar[bool] = False

    def __init__(self, base_url: str | None = None, *, max_batch: int | None = None) -> None:
        super().__init__(base_url, max_batch=max_batch)
        # The docs' root ends in /v3 and every path here starts with it: drop it once from the base.
        if self.base_url.endswith(API_PREFIX):
            self.base_url = self.base_url[: -len(API_PREFIX)]

    # -- input -------------------------------------------------------------------------------

    def validate(self, refs: Sequence[OrderRef]) -> None:
        seen: set[tuple[str, str]] = set()
        for ref in refs:
            symbol = ref.symbol
            if ref.conditional:
                # Module docstring "Conditional orders": BitoPro keeps no separate list to route this to.
                raise InputError(
                    f"bitopro: order {clip(ref.value)} on {clip(symbol)} is marked conditional, but BitoPro keeps "
                    "no separate list of conditional orders: its stop-limit orders rest on the ordinary order "
                    "list, so pass the ref unmarked"
                )
            _check_pair(symbol)
            if ref.client_order_id is not None:
                raise InputError(
                    f"bitopro: client order ids are not supported ({clip(ref.client_order_id)} on {symbol}); "
                    "BitoPro cancels by exchange order id only"
                )
            oid = ref.order_id
            if not isinstance(oid, str):
                raise InputError(f"bitopro: missing order id for {symbol}")
            if not decimal_id_ok(oid, ORDER_ID_RE, ORDER_ID_MAX):
                stop_digits = oid[len(STOP_LIMIT_PREFIX) :] if oid.startswith(STOP_LIMIT_PREFIX) else None
                if stop_digits is not None and decimal_id_ok(stop_digits, ORDER_ID_RE, ORDER_ID_MAX):
                    if not self.allow_stop_limit_ids:
                        raise InputError(
                            f"bitopro: stop-limit order id {clip(oid)} on {symbol} is not accepted: BitoPro "
                            "documents its batch cancel for numeric order ids only; the venue's cancel-all "
                            "(DELETE /v3/orders/{pair}) is the documented way to clear stop-limit orders"
                        )
                else:
                    raise InputError(
                        f"bitopro: malformed order id {clip(oid)} on {symbol} (expected digits 1..{ORDER_ID_MAX} "
                        f"without a leading zero; {describe_decimal_id_flaw(oid, ORDER_ID_MAX)})"
                    )
            key = (canonical_pair(symbol), oid)
            if key in seen:
                raise InputError(f"bitopro: order id {clip(oid)} on {symbol} appears twice")
            seen.add(key)

    def plan_chunks(self, refs: Sequence[OrderRef]) -> list[list[OrderRef]]:
        # Several pairs may share one request, so orders are grouped by pair (first-seen order kept,
        # which keeps each pair's ids together) and the run is cut every max_batch ids.
        groups: dict[str, list[OrderRef]] = {}
        for ref in refs:
            groups.setdefault(canonical_pair(ref.symbol), []).append(ref)
        ordered = [ref for group in groups.values() for ref in group]
        return [ordered[i : i + self.max_batch] for i in range(0, len(ordered), self.max_batch)]

    # -- requests ----------------------------------------------------------------------------

    def _headers(self, creds: Credentials, payload: str) -> dict[str, str]:
        return {
            "X-BITOPRO-APIKEY": creds.api_key,
            "X-BITOPRO-PAYLOAD": payload,
            "X-BITOPRO-SIGNATURE": signature_of(creds.api_secret, payload),
        }

    def _nonce_payload(self, creds: Credentials, now_ms: int) -> str:
        # README: GET/DELETE sign {identity: USER_EMAIL, nonce: TIMESTAMP}; the official SDK sends
        # identity "" (so the server evidently does not require it).
        return payload_of(compact_json({"identity": creds.identity or "", "nonce": int(now_ms)}).encode("utf-8"))

    def build_cancel(self, refs: Sequence[OrderRef], creds: Credentials, now_ms: int) -> HttpRequest:
        # now_ms is unused: the PUT payload is the body alone, with no nonce (official SDK and ccxt).
        listing: dict[str, list[str]] = {}
        for ref in refs:
            listing.setdefault(canonical_pair(ref.symbol), []).append(str(ref.order_id))
        body = compact_json(listing).encode("utf-8")  # serialised once: these bytes are signed and sent
        headers = {**self._headers(creds, payload_of(body)), "Content-Type": "application/json"}
        return HttpRequest("PUT", CANCEL_PATH, "", body, headers, "cancel")

    def build_query(self, ref: OrderRef, creds: Credentials, now_ms: int) -> HttpRequest:
        path = QUERY_PATH.format(pair=ref.symbol.lower(), order_id=ref.order_id)
        return HttpRequest("GET", path, "", None, self._headers(creds, self._nonce_payload(creds, now_ms)), "query")

    def build_time(self) -> None:
        return None  # no server-time endpoint (ccxt: fetchTime False); see parse_time

    def build_cancel_all(
        self, symbol: str | None, creds: Credentials, now_ms: int, *, account: str | None = None
    ) -> HttpRequest:
        """``DELETE /v3/orders/{pair}`` (pair lower-case, as in the docs' ``bito_eth`` and ccxt's market id), or
        ``DELETE /v3/orders/all`` when ``symbol`` is None; signed with the GET/DELETE nonce payload. A pair
        :meth:`validate` would refuse is an :class:`InputError`. ``account`` is unused."""
        if symbol is None:
            path = CANCEL_ALL_EVERY_PATH
        else:
            _check_pair(symbol)
            path = CANCEL_ALL_PAIR_PATH.format(pair=symbol.lower())
        headers = self._headers(creds, self._nonce_payload(creds, now_ms))
        return HttpRequest("DELETE", path, "", None, headers, "cancel_all")

    # -- replies -----------------------------------------------------------------------------

    def parse_time(self, resp: HttpResponse) -> int | None:
        """Server time from the ``Date`` header of any reply, in ms (middle of the stated second)."""
        try:
            raw = resp.header("date")
            if not isinstance(raw, str):
                return None
            m = _IMF_FIXDATE_RE.search(raw)
            if m is None:
                return None
            stamp = parsedate_to_datetime(m.group(0))
            return int(stamp.timestamp()) * 1000 + DATE_HEADER_MIDPOINT_MS
        except (TypeError, ValueError, OverflowError, AttributeError):
            return None

    def parse_cancel(self, refs: Sequence[OrderRef], resp: HttpResponse) -> CancelReply:
        data = load_json(resp)
        listing = data.get("data") if isinstance(data, dict) else None
        if resp.status != 200 or not isinstance(listing, dict):
            return self._failure(resp, data)
        cancelled: dict[str, set[str]] = {}
        malformed: set[str] = set()
        for pair, ids in listing.items():
            if not isinstance(pair, str):
                continue
            key = canonical_pair(pair)
            if not isinstance(ids, list):
                malformed.add(key)
                continue
            # Only strings and plain ints can be order ids; anything else can never match a ref.
            bucket = cancelled.setdefault(key, set())
            bucket.update(str(i) for i in ids if isinstance(i, str) or (isinstance(i, int) and not isinstance(i, bool)))
        out: dict[OrderRef, Outcome] = {}
        for ref in refs:
            key = canonical_pair(ref.symbol) if isinstance(ref.symbol, str) else ""
            if ref.order_id is not None and ref.order_id in cancelled.get(key, ()):
                out[ref] = Outcome(Verdict.CANCELLED)
            elif key in malformed:
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"unreadable id list for {key}")
            else:
                # BitoPro lists only what it cancelled: an absent id may be filled, already cancelled,
                # unknown, or cancelled and left out. Only a query can tell.
                out[ref] = Outcome(Verdict.UNKNOWN, REASON_OMITTED, None, "not listed as cancelled in the reply")
        return out

    def parse_query(self, ref: OrderRef, resp: HttpResponse) -> QueryReply:
        data = load_json(resp)
        if resp.status == 200 and isinstance(data, dict):
            # The docs show the order at top level; accept a {"data": {...}} envelope as well.
            inner = data.get("data")
            order: dict[str, Any] = inner if isinstance(inner, dict) else data
            if "status" in order:
                return self._order_outcome(ref, order)
        if resp.status == STATUS_NOT_FOUND and _own_error(data):
            # Only BitoPro's own error body saying an order was not found: a bare or HTML 404 is a wrong
            # path or a proxy, which says nothing about the order.
            message = data["error"]
            if any(f in message.lower() for f in QUERY_NOT_FOUND_FRAGMENTS):
                if names_another_order(message, ref):
                    return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, str(STATUS_NOT_FOUND), message[:200])
                return Outcome(Verdict.FAILED, REASON_NOT_FOUND, str(STATUS_NOT_FOUND), message[:200])
        return self._failure(resp, data)

    def parse_cancel_all(self, symbol: str | None, resp: HttpResponse) -> Failure | bool:
        """False once the venue answers in its documented shape, ``{"data": {PAIR: [ids cancelled]}}``
        (``{"data": {}}`` when nothing was open): the endpoint has no paging and no "more" flag, so there is
        never another call to make. The ids it names settle nothing (the listings and queries afterwards
        do). Any other reply is a failure classified like the batch cancel's: a 200 whose body is not that
        shape may have been applied (UNKNOWN_OUTCOME), an error body by its HTTP status."""
        data = load_json(resp)
        listing = data.get("data") if isinstance(data, dict) else None
        if resp.status == 200 and isinstance(listing, dict) and not _own_error(data):
            return False
        return self._failure(resp, data)

    def _order_outcome(self, ref: OrderRef, order: dict[str, Any]) -> Outcome:
        returned_id = order.get("id", order.get("orderId"))
        if returned_id is not None and str(returned_id) != str(ref.order_id):
            # A reply about another order settles nothing about this one.
            return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"reply is about order {str(returned_id)[:40]!r}")
        return _status_outcome(order)

    # -- listings ----------------------------------------------------------------------------

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
        # account is unused: BitoPro's listings need no account id.
        if kind not in self.list_kinds:
            raise InputError(
                f"bitopro: no {clip(str(kind))} listing (BitoPro lists open orders and order history; "
                "stop-limit orders rest on the open-order list, marked conditional)"
            )
        if symbol is not None:
            _check_pair(symbol)
        headers = self._headers(creds, self._nonce_payload(creds, now_ms))
        if kind == ListKind.OPEN:
            if cursor is not None:
                raise InputError(f"bitopro: the open-order listing has no pages (cursor {clip(cursor)} given)")
            # The pair in the query is lower-case, as in the docs' example ("bito_eth") and ccxt's market id.
            query = urlencode({"pair": symbol.lower()}) if symbol is not None else ""
            return HttpRequest("GET", OPEN_ORDERS_PATH, query, None, headers, "list_open")
        if symbol is None:
            raise InputError("bitopro: the order history lists one pair at a time: a symbol is required, e.g. BTC_USDT")
        if cursor is not None and not decimal_id_ok(cursor, ORDER_ID_RE, ORDER_ID_MAX):
            raise InputError(
                f"bitopro: malformed history cursor {clip(cursor)} (expected the cursor of a previous page)"
            )
        params = {
            "startTimestamp": str(self._history_start(now_ms, since_ms)),
            "statusKind": HISTORY_STATUS_KIND,
            "limit": str(self.history_page_size),
        }
        if cursor is not None:
            params["orderId"] = cursor  # ids <= the cursor: this page starts where the last one ended
        path = HISTORY_PATH.format(pair=symbol.lower())
        return HttpRequest("GET", path, urlencode(params), None, headers, "list_history")

    def _history_start(self, now_ms: int, since_ms: int | None) -> int:
        """``startTimestamp``: ``since_ms`` clipped to the window the venue serves, never after ``now_ms``."""
        if since_ms is not None and (isinstance(since_ms, bool) or not isinstance(since_ms, int)):
            raise InputError(f"bitopro: since_ms must be an integer (epoch ms), got {clip(since_ms)}")
        floor = int(now_ms) - int(self.history_window_s * 1000)
        start = floor if since_ms is None else max(since_ms, floor)
        # A start after the venue's "now" would ask for an empty or refused range; nothing was created later.
        return min(start, int(now_ms))

    def parse_list(
        self, kind: ListKind, symbol: str | None, resp: HttpResponse, *, cursor: str | None = None
    ) -> ListReply:
        if kind not in self.list_kinds:
            return Failure(FailureKind.REJECTED, None, f"bitopro has no {clip(str(kind))} listing", resp.status)
        data = load_json(resp)
        if resp.status != 200 or not isinstance(data, dict) or _own_error(data) or "data" not in data:
            return self._failure(resp, data)
        what = "open-order listing" if kind == ListKind.OPEN else "order history"
        entries = data["data"]
        if not isinstance(entries, list):
            # {"data": null} included: an empty book is {"data": []}; anything else is not read as empty.
            return _incomplete(resp, f"the {what} holds {type(entries).__name__} where a list of orders belongs")
        orders: list[ListedOrder] = []
        for i, entry in enumerate(entries):
            listed = _listed_order(entry)
            if isinstance(listed, str):
                return _incomplete(resp, f"entry {i + 1} of the {what}: {listed}")
            orders.append(listed)
        if kind == ListKind.OPEN:
            return ListPage(tuple(orders), None)  # one request is the whole list
        next_cursor: str | None = None
        if len(entries) >= self.history_page_size:
            # A full page: there may be more. Continue from the last numeric id (the docs' orderId is a
            # number; how an "SL-" id would compare is not documented).
            last = next((o.order_id for o in reversed(orders) if _numeric_id(o.order_id)), None)
            if last is None:
                return _incomplete(resp, f"a full page of the {what} has no numeric order id to continue from")
            if last == cursor:
                return _incomplete(resp, f"the {what} does not advance past order {clip(cursor)}")
            next_cursor = last
        if cursor is not None:
            # orderId is inclusive: the previous page's last order opens this page again.
            orders = [o for o in orders if o.order_id != cursor]
        return ListPage(tuple(orders), next_cursor)

    def _failure(self, resp: HttpResponse, data: Any) -> Failure:
        status = resp.status
        if not _own_error(data):
            if status == STATUS_CLOCK:  # documented by status alone ("Local Machine Time Mismatch")
                return Failure(FailureKind.CLOCK, None, "HTTP 409: local machine time mismatch", status)
            # Not BitoPro's word: an HTML page, an empty or truncated body, another API's JSON. The
            # status decides (4xx refused as a whole, 2xx/5xx may have been applied), in plain words.
            return foreign_reply_failure(self.name, resp, is_json=data is not None)
        msg = data["error"][:200]
        lowered = msg.lower()
        if 200 <= status < 300:
            # A success status with an error body: whether anything was applied is unclear, so query.
            return Failure(FailureKind.UNKNOWN_OUTCOME, None, msg or "error body on a success status", status)
        if status == STATUS_RATE_LIMITED:
            return Failure(FailureKind.RATE_LIMITED, None, msg, status, retry_after_seconds(resp))
        if status == STATUS_CLOCK or any(f in lowered for f in CLOCK_MESSAGE_FRAGMENTS):
            return Failure(FailureKind.CLOCK, None, msg, status)
        if status in AUTH_STATUSES or any(f in lowered for f in AUTH_MESSAGE_FRAGMENTS):
            return Failure(FailureKind.AUTH, None, msg, status)
        if status >= 500 or status in UNKNOWN_OUTCOME_STATUSES or not 400 <= status < 500:
            # 5xx (a gateway may fail after the backend acted), a timeout, or an odd status: query.
            return Failure(FailureKind.UNKNOWN_OUTCOME, None, msg or "unreadable reply", status)
        if status in WRONG_PATH_STATUSES:
            # README: 404 is "wrong path" -- about the request, never about an order: say what to check.
            return Failure(FailureKind.REJECTED, None, f"HTTP {status} {msg!r}: check the base URL", status)
        return Failure(FailureKind.REJECTED, None, msg, status)


def _own_error(data: Any) -> bool:
    """Whether a body is BitoPro's own error shape, ``{"error": "<message>"}`` (README; ccxt handle_errors)."""
    return isinstance(data, dict) and isinstance(data.get("error"), str)


def _check_pair(symbol: object) -> None:
    """Raise :class:`InputError` unless ``symbol`` is a pair as BitoPro spells it (either case)."""
    if not isinstance(symbol, str) or not SYMBOL_RE.fullmatch(symbol):
        detail = flaw(symbol)
        raise InputError(
            f"bitopro: malformed pair {clip(symbol)} "
            f"({detail + '; ' if detail else ''}expected BASE_QUOTE, e.g. BTC_USDT)"
        )


def _status_outcome(order: dict[str, Any]) -> Outcome:
    """An order object's ``status`` read as a verdict (:data:`QUERY_STATUS`); unknown values are ambiguous."""
    status = _status_int(order.get("status"))
    outcome = QUERY_STATUS.get(status) if status is not None else None
    if outcome is None:  # a status we do not know: keep asking, never guess
        return Outcome(Verdict.UNKNOWN, REASON_AMBIGUOUS, None, f"status {str(order.get('status'))[:40]!r}")
    return outcome


def _incomplete(resp: HttpResponse, what: str) -> Failure:
    """A listing page that may have lost an order: never passed off as complete."""
    return Failure(FailureKind.UNKNOWN_OUTCOME, None, f"bitopro: {what}; the listing may be incomplete", resp.status)


def _numeric_id(value: str | None) -> bool:
    """Whether a listed id can be a history cursor (a canonical decimal order id)."""
    return value is not None and decimal_id_ok(value, ORDER_ID_RE, ORDER_ID_MAX)


def _listed_id(value: Any) -> str | None:
    """An id as a string: a JSON string kept as sent, a JSON integer in full (never through a float)."""
    if isinstance(value, str):
        return value if LISTED_ID_RE.fullmatch(value) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return None


def _text(value: Any) -> str | None:
    """A field as the venue spells it: strings unchanged, integers as digits, anything else absent."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _first(order: dict[str, Any], *keys: str) -> Any:
    return next((order[k] for k in keys if order.get(k) is not None), None)


def _timestamp_ms(value: Any) -> int | None:
    """Epoch ms from an integer or a digit string; a value in seconds (:data:`SECONDS_TIMESTAMP_BELOW`) is scaled."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        return None
    return value * 1000 if value < SECONDS_TIMESTAMP_BELOW else value


def _listed_order(entry: Any) -> ListedOrder | str:
    """One listing entry as a :class:`ListedOrder`, or what makes it unreadable (plain words)."""
    if not isinstance(entry, dict):
        return f"{type(entry).__name__} where an order object belongs"
    oid = _listed_id(_first(entry, "id", "orderId"))
    if oid is None:
        return "no readable order id"
    pair = entry.get("pair")
    if not isinstance(pair, str) or not SYMBOL_RE.fullmatch(pair):
        return f"no readable pair for order {clip(oid)}"
    raw_client = entry.get("clientId")
    client_id: str | None
    if raw_client is None:
        client_id = None
    elif isinstance(raw_client, int) and not isinstance(raw_client, bool) and raw_client >= 0:
        client_id = str(raw_client)  # an integer on BitoPro (1 ~ 2147483647), kept as digits
    elif isinstance(raw_client, str) and _DIGITS_RE.fullmatch(raw_client):
        client_id = raw_client
    else:
        # Scoping by client id (a caller's own orders) must not guess: an unreadable one fails the page.
        return f"unreadable clientId on order {clip(oid)}"
    order_type = _text(entry.get("type"))
    conditional = (order_type is not None and order_type.upper() in CONDITIONAL_TYPES) or oid.startswith(
        STOP_LIMIT_PREFIX
    )
    return ListedOrder(
        symbol=canonical_pair(pair),
        order_id=oid,
        client_order_id=client_id,
        status=_status_outcome(entry),
        conditional=conditional,
        side=_text(entry.get("action")),
        order_type=order_type,
        price=_text(entry.get("price")),
        quantity=_text(entry.get("originalAmount")),
        filled=_text(entry.get("executedAmount")),
        created_ms=_timestamp_ms(_first(entry, "createdTimestamp", "timestamp")),
        updated_ms=_timestamp_ms(_first(entry, "updatedTimestamp", "timestamp")),
    )


def _status_int(value: Any) -> int | None:
    """The order status as an int: the docs send an int; a numeric string is tolerated."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,3}", value.strip()):
        return int(value.strip())
    return None


__all__ = ["BitoPro", "canonical_pair", "payload_of", "signature_of"]
