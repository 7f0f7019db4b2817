"""The order state machine, as a table that the ``transitions`` library validates.

One shared ``Machine(model=None)`` serves every order: a machine per order costs ~270 µs and ~5 KB
each, which a 100k-order job cannot afford. There are no callbacks, so a transition has no side
effects; the store applies the resulting state with a compare-and-set and an event in one transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from transitions import Machine

from .errors import IllegalTransition


class OrderState(enum.StrEnum):
    PENDING = "pending"  # persisted, not yet sent (or proven safe to send again)
    SENT = "sent"  # written ahead: a request may be in flight
    CANCELLED = "cancelled"  # the venue said so (cancel reply or query)
    FAILED = "failed"  # the venue definitively will not cancel it (filled, never existed, refused)
    UNKNOWN = "unknown"  # outcome not known: reconcile by query before anything else


S = OrderState
TERMINAL = frozenset({S.CANCELLED, S.FAILED})
UNSETTLED = frozenset({S.PENDING, S.SENT, S.UNKNOWN})  # every state but the terminal ones


class Provenance(enum.StrEnum):
    """Who settled a terminal state."""

    VENUE_RESPONSE = "venue_response"
    VENUE_QUERY = "venue_query"
    OPERATOR = "operator"


class Trigger(enum.StrEnum):
    """What a journal event records (``events.trigger``); the values are stored and shown as they are.

    Triggers are verbs. The first group moves an order along :data:`TRANSITIONS`; the observations are
    recorded on an order without changing its state; the rest are events of the job itself.
    """

    # state-table triggers
    SEND = "send"
    CONFIRM = "confirm"
    REJECT = "reject"
    LOSE = "lose"
    REQUEUE = "requeue"
    SETTLE = "settle"
    SETTLE_FAILED = "settle_failed"
    # observations of an order: no state change
    QUERY = "query"  # a reconciliation query that settled nothing (yet)
    NOTE = "note"  # an exchange without an order change
    # job-level events
    CREATE = "create"
    STATUS = "status"  # the job's status was set at the end of a run
    CLOCK = "clock"  # the venue's clock offset was (re-)measured
    TAKEOVER = "takeover"  # another runner took the job's lease over
    REBIND = "rebind"  # the job was moved on purpose to another base URL / API key
    PRUNE = "prune"  # finished jobs were removed; the chain checkpoint is announced
    DISCOVER = "discover"  # a kill switch's listing showed orders in scope: added to the job as pending
    SWEEP = "sweep"  # a kill switch listed its scope: what was left (empty: the scope is verified empty)
    NATIVE = "native"  # a kill switch's first strike: the venue's own cancel-all (settles no order)
    ARM = "arm"  # a dead-man switch was armed (the venue's countdown reply as evidence, where it has one)
    RENEW = "renew"  # a dead-man switch's renewals: a bounded summary, and every change of health
    DISARM = "disarm"  # a dead-man switch was disarmed on purpose (the bot's clean exit)
    FIRE = "fire"  # a dead-man switch's heartbeats stopped for its timeout: it fired; verification follows


T = Trigger
OBSERVATIONS = frozenset({T.QUERY, T.NOTE})  # triggers recorded without a state change

TRANSITIONS: tuple[tuple[Trigger, tuple[OrderState, ...], OrderState], ...] = (
    # trigger      sources                 dest
    (T.SEND, (S.PENDING,), S.SENT),  # committed before the request leaves
    (T.CONFIRM, (S.SENT, S.UNKNOWN), S.CANCELLED),  # a reply or a query says cancelled
    (T.REJECT, (S.SENT, S.UNKNOWN), S.FAILED),  # a reply or a query says it will never be cancelled
    (T.LOSE, (S.SENT,), S.UNKNOWN),  # no usable reply, or a crash while sent: ask the venue
    (T.REQUEUE, (S.SENT, S.UNKNOWN), S.PENDING),  # proof the request never applied, or the order is still open
    (T.SETTLE, (S.UNKNOWN,), S.CANCELLED),  # an operator's recorded decision (provenance operator)
    (T.SETTLE_FAILED, (S.UNKNOWN,), S.FAILED),  # an operator's recorded decision (provenance operator)
)


def build_machine() -> Machine:
    """The one machine; ``auto_transitions=False`` so nothing can bypass the table."""
    # Plain strings (the machine names its events after them), in lists: transitions reads only lists as rows.
    rows: list[list[Sequence[str]]] = [[t.value, [s.value for s in src], dst.value] for t, src, dst in TRANSITIONS]
    return Machine(model=None, states=OrderState, initial=None, auto_transitions=False, transitions=rows)


class StateTable:
    """Answers "where does this trigger take this state?" from the shared machine.

    The answers are read from the machine's own events once (``transitions`` owns the table and
    its validation); later lookups are dictionary hits, because the engine asks this for every order.
    """

    def __init__(self, machine: Machine | None = None) -> None:
        self.machine = machine or build_machine()
        table: dict[tuple[str, str], OrderState] = {}
        for trigger, event in self.machine.events.items():
            for source, transitions in event.transitions.items():
                for tr in transitions:
                    assert tr.dest is not None  # every row of TRANSITIONS names its destination
                    table[(trigger, source)] = OrderState(tr.dest)
        self._table = MappingProxyType(table)

    @property
    def moves(self) -> Mapping[tuple[str, str], OrderState]:
        """The whole table, ``(trigger, state) -> next state``, read-only (for a replay of many events)."""
        return self._table

    def next_state(self, state: str, trigger: str) -> OrderState:
        """The state ``trigger`` leads to from ``state``; :class:`IllegalTransition` if none."""
        try:
            return self._table[(trigger, str(state))]
        except KeyError:
            raise IllegalTransition(trigger, str(state)) from None

    def sources(self, trigger: str) -> frozenset[OrderState]:
        return frozenset(OrderState(s) for (t, s) in self._table if t == trigger)
