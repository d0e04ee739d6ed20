"""The reservation and queue-ticket state machines, one screen each. Pure Python: no Django.

Roles: `consumer` made the reservation / holds the number, `merchant` works for the store
(orders.act), `system` is the platform itself (auto-confirm, closing yesterday's numbers).
"""

from __future__ import annotations

from linli.core.statemachine import StateMachine, T


class RS:
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"  # seated
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    HOLDING = (REQUESTED, CONFIRMED, CHECKED_IN)  # these hold their table


class QS:
    WAITING = "waiting"
    CALLED = "called"  # "your table is ready"
    SEATED = "seated"
    SKIPPED = "skipped"  # called and did not come (or left over from an earlier day)
    CANCELLED = "cancelled"
    ACTIVE = (WAITING, CALLED)


RESERVATION = StateMachine([
    T(RS.REQUESTED,  RS.CONFIRMED,  "confirm",  "merchant", "system"),
    T(RS.REQUESTED,  RS.CANCELLED,  "decline",  "merchant"),
    T(RS.REQUESTED,  RS.CANCELLED,  "cancel",   "consumer", "merchant"),
    T(RS.CONFIRMED,  RS.CANCELLED,  "cancel",   "consumer", "merchant"),  # consumer: before the deadline
    T(RS.REQUESTED,  RS.CHECKED_IN, "seat",     "merchant"),
    T(RS.CONFIRMED,  RS.CHECKED_IN, "seat",     "merchant"),
    T(RS.CHECKED_IN, RS.COMPLETED,  "complete", "merchant"),
    T(RS.REQUESTED,  RS.NO_SHOW,    "no_show",  "merchant"),  # only once the slot began
    T(RS.CONFIRMED,  RS.NO_SHOW,    "no_show",  "merchant"),
])
MERCHANT_RESERVATION_ACTIONS = ("confirm", "decline", "seat", "complete", "no_show", "cancel")

QUEUE = StateMachine([
    T(QS.WAITING, QS.CALLED,    "call",   "merchant"),
    T(QS.WAITING, QS.SEATED,    "seat",   "merchant"),
    T(QS.CALLED,  QS.SEATED,    "seat",   "merchant"),
    T(QS.CALLED,  QS.SKIPPED,   "skip",   "merchant"),  # only skip_after_minutes after the call
    T(QS.WAITING, QS.CANCELLED, "cancel", "consumer"),
    T(QS.CALLED,  QS.CANCELLED, "cancel", "consumer"),
    T(QS.WAITING, QS.SKIPPED,   "expire", "system"),  # left over from an earlier day
    T(QS.CALLED,  QS.SKIPPED,   "expire", "system"),
])
MERCHANT_QUEUE_ACTIONS = ("seat", "skip")
