"""The order state machine table is complete and coherent."""

from __future__ import annotations

from linli.orders.models import Order
from linli.orders.states import ACTION_FULFILMENT, ORDER_MACHINE, S


def test_every_state_in_the_table_is_a_model_status():
    statuses = set(Order.Status.values)
    assert statuses == set(S.ALL)
    for t in ORDER_MACHINE.transitions:
        assert t.source in statuses and t.target in statuses and t.roles


def test_happy_paths_exist_for_both_fulfilment_modes():
    def walk(actions):
        state = S.PENDING_PAYMENT
        for action in actions:
            state = ORDER_MACHINE.find(action=action, source=state).target
        return state

    assert walk(["pay", "accept", "prepare", "ready", "rider_pickup", "deliver", "confirm"]) == S.COMPLETED
    assert walk(["pay", "accept", "prepare", "ready", "collect"]) == S.COMPLETED


def test_terminal_states_have_no_way_out():
    for terminal in (S.COMPLETED, S.CANCELLED):
        assert not [t for t in ORDER_MACHINE.transitions if t.source == terminal]


def test_only_the_system_marks_orders_paid_and_consumers_cannot_cancel_after_acceptance():
    assert ORDER_MACHINE.find(action="pay", source=S.PENDING_PAYMENT).roles == {"system"}
    assert "consumer" not in ORDER_MACHINE.find(action="cancel", source=S.ACCEPTED).roles
    assert ORDER_MACHINE.actions_from(S.PAID, "merchant") == ["accept", "reject"]
    assert set(ACTION_FULFILMENT) == {"rider_pickup", "deliver", "collect", "serve", "issue",  # dine-in; vouchers
                                      "book"}  # appointments
