"""The order state machine, one screen: (from, action) -> to, and who may do it.

Roles are relative to the order: `consumer` placed it, `merchant` works for its
store, `rider` carries it, `operator` runs the platform, `system` is a timer or a
payment notification.
"""

from __future__ import annotations

from linli.core.statemachine import StateMachine, T


class S:
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    ACCEPTED = "accepted"
    PREPARING = "preparing"
    READY = "ready"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    ALL = (PENDING_PAYMENT, PAID, ACCEPTED, PREPARING, READY, DELIVERING, DELIVERED,
           COMPLETED, CANCELLED)


ORDER_MACHINE = StateMachine([
    T(S.PENDING_PAYMENT, S.PAID,       "pay",          "system"),
    T(S.PENDING_PAYMENT, S.CANCELLED,  "cancel",       "consumer", "operator", "system"),
    T(S.PAID,            S.ACCEPTED,   "accept",       "merchant"),
    T(S.PAID,            S.CANCELLED,  "reject",       "merchant"),
    T(S.PAID,            S.CANCELLED,  "cancel",       "consumer", "operator"),
    T(S.ACCEPTED,        S.PREPARING,  "prepare",      "merchant"),
    T(S.ACCEPTED,        S.CANCELLED,  "cancel",       "operator"),
    T(S.PREPARING,       S.READY,      "ready",        "merchant"),
    T(S.PREPARING,       S.CANCELLED,  "cancel",       "operator"),
    T(S.READY,           S.DELIVERING, "rider_pickup", "rider"),
    T(S.READY,           S.COMPLETED,  "collect",      "merchant"),
    T(S.READY,           S.CANCELLED,  "cancel",       "operator"),
    T(S.DELIVERING,      S.DELIVERED,  "deliver",      "rider"),
    T(S.DELIVERED,       S.COMPLETED,  "confirm",      "consumer", "system"),
])

# Actions that only make sense for one fulfilment mode.
ACTION_FULFILMENT = {"rider_pickup": "delivery", "deliver": "delivery", "collect": "pickup"}
