"""The state table: exactly five states, validated by one shared transitions Machine."""

from __future__ import annotations

import pytest

from safecancel.errors import IllegalTransition
from safecancel.states import OBSERVATIONS, TERMINAL, TRANSITIONS, OrderState, StateTable, Trigger, build_machine

S = OrderState


def test_exactly_the_five_product_states():
    assert [s.value for s in OrderState] == ["pending", "sent", "cancelled", "failed", "unknown"]
    assert TERMINAL == {S.CANCELLED, S.FAILED}


@pytest.mark.parametrize(
    ("state", "trigger", "dest"),
    [
        (S.PENDING, "send", S.SENT),
        (S.SENT, "confirm", S.CANCELLED),
        (S.UNKNOWN, "confirm", S.CANCELLED),
        (S.SENT, "reject", S.FAILED),
        (S.UNKNOWN, "reject", S.FAILED),
        (S.SENT, "lose", S.UNKNOWN),
        (S.SENT, "requeue", S.PENDING),
        (S.UNKNOWN, "requeue", S.PENDING),
        (S.UNKNOWN, "settle", S.CANCELLED),
        (S.UNKNOWN, "settle_failed", S.FAILED),
    ],
)
def test_allowed(state, trigger, dest):
    assert StateTable().next_state(state, trigger) is dest


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (S.PENDING, "confirm"),  # never cancelled without a request and an answer
        (S.PENDING, "lose"),
        (S.CANCELLED, "requeue"),  # terminal is terminal
        (S.FAILED, "confirm"),
        (S.CANCELLED, "send"),
        (S.SENT, "settle"),  # an operator settles only unknown orders
        (S.PENDING, "settle_failed"),
        (S.UNKNOWN, "send"),  # an unknown order is queried before any re-send
    ],
)
def test_refused(state, trigger):
    with pytest.raises(IllegalTransition, match=trigger):
        StateTable().next_state(state, trigger)


def test_the_table_comes_from_one_shared_machine_without_auto_transitions():
    m = build_machine()
    assert not any(t.startswith("to_") for t in m.events)
    table = StateTable(m)
    assert table.machine is m
    assert table.sources("confirm") == {S.SENT, S.UNKNOWN}


def test_triggers_keep_their_stored_names():
    # Events store the trigger as text: the enum must keep exactly these strings.
    assert [t.value for t, _, _ in TRANSITIONS] == [
        "send",
        "confirm",
        "reject",
        "lose",
        "requeue",
        "settle",
        "settle_failed",
    ]
    assert OBSERVATIONS == {"query", "note"}
    assert {t.value for t in Trigger} == {t.value for t, _, _ in TRANSITIONS} | OBSERVATIONS | {
        "create",
        "status",
        "clock",
        "takeover",
        "rebind",
        "prune",
        "discover",
        "sweep",
        "native",
        "arm",
        "renew",
        "disarm",
        "fire",
    }
    # The machine names its events after the plain strings, and lookups work with either.
    assert set(build_machine().events) == {t.value for t, _, _ in TRANSITIONS}
    assert StateTable().next_state("sent", Trigger.LOSE) is S.UNKNOWN
    assert StateTable().next_state(S.SENT, "lose") is S.UNKNOWN
