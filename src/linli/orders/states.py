"""The order state machine, one screen: (from, action) -> to, and who may do it.

Roles are relative to the order: `consumer` placed it, `merchant` works for its
store, `rider` carries it, `operator` runs the platform, `system` is a timer or a
payment notification.

Cancelling (docs/orders.md): before payment an order ends `cancelled` (nothing to give
back). After payment every cancellation (consumer before accept, merchant reject, the
accept timeout, an approved cancel request, an operator) goes to `refunding` while the
refund is with the gateway and to `refunded` when it completes (`refund_complete`, sent
by the payments app). `request_cancel` / `decline_cancel` keep the status and only
record the request on the order and an event.
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
    REFUNDING = "refunding"
    REFUNDED = "refunded"

    ALL = (PENDING_PAYMENT, PAID, ACCEPTED, PREPARING, READY, DELIVERING, DELIVERED,
           COMPLETED, CANCELLED, REFUNDING, REFUNDED)
    # Every way an order ends without being fulfilled: `cancelled` (nothing was paid, so
    # nothing is owed), `refunding` (cancelled after payment, money on its way back),
    # `refunded` (cancelled after payment, money returned). Sales and queues exclude all three.
    CANCELLED_ALL = (CANCELLED, REFUNDING, REFUNDED)
    # Once the food is ready the consumer can neither cancel nor ask to (409 cancel_too_late).
    TOO_LATE_TO_CANCEL = (READY, DELIVERING, DELIVERED, COMPLETED)


ORDER_MACHINE = StateMachine([
    T(S.PENDING_PAYMENT, S.PAID,       "pay",            "system"),
    T(S.PENDING_PAYMENT, S.CANCELLED,  "cancel",         "consumer", "operator", "system"),
    T(S.PAID,            S.ACCEPTED,   "accept",         "merchant", "system"),
    T(S.PAID,            S.REFUNDING,  "reject",         "merchant", "system"),
    T(S.PAID,            S.REFUNDING,  "cancel",         "consumer", "operator"),
    T(S.PAID,            S.COMPLETED,  "issue",          "system"),  # voucher: vouchers issued (marketing)
    T(S.PAID,            S.COMPLETED,  "book",           "system"),  # booking: appointment confirmed (bookings)
    T(S.ACCEPTED,        S.PREPARING,  "prepare",        "merchant"),
    T(S.ACCEPTED,        S.REFUNDING,  "cancel",         "operator"),
    T(S.ACCEPTED,        S.ACCEPTED,   "request_cancel", "consumer"),
    T(S.ACCEPTED,        S.REFUNDING,  "approve_cancel", "merchant", "system"),  # system: not answered in time
    T(S.ACCEPTED,        S.ACCEPTED,   "decline_cancel", "merchant"),
    T(S.PREPARING,       S.READY,      "ready",          "merchant"),
    T(S.PREPARING,       S.REFUNDING,  "cancel",         "operator"),
    T(S.PREPARING,       S.PREPARING,  "request_cancel", "consumer"),
    T(S.PREPARING,       S.REFUNDING,  "approve_cancel", "merchant", "system"),
    T(S.PREPARING,       S.PREPARING,  "decline_cancel", "merchant"),
    T(S.READY,           S.DELIVERING, "rider_pickup",   "rider"),
    T(S.READY,           S.COMPLETED,  "collect",        "merchant"),
    T(S.READY,           S.COMPLETED,  "serve",          "merchant"),  # dine-in: at the table
    T(S.READY,           S.REFUNDING,  "cancel",         "operator"),
    T(S.DELIVERING,      S.DELIVERED,  "deliver",        "rider"),
    T(S.DELIVERED,       S.COMPLETED,  "confirm",        "consumer", "system"),
    T(S.REFUNDING,       S.REFUNDED,   "refund_complete", "system"),
])

# Actions that only make sense for one fulfilment mode.
ACTION_FULFILMENT = {"rider_pickup": "delivery", "deliver": "delivery", "collect": "pickup",
                     "serve": "dine_in", "issue": "voucher",
                     "book": "booking"}
