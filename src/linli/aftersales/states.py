"""The after-sales request and complaint ticket state machines, one screen each, and the
SLA arithmetic. Pure Python: no Django (docs/aftersales.md).

Roles are relative to the request: `consumer` asked, `merchant` works for the order's
store, `operator` runs the platform (support staff too), `system` is the SLA timer.
Steps marked by kind are checked in the service (`KIND_ACTIONS`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from linli.core.statemachine import StateMachine, T


class AS:
    SUBMITTED = "submitted"
    PARTIAL_PROPOSED = "partial_proposed"
    AGREED = "agreed"  # refund only: refunded in the same transaction; return: waiting for it
    RETURNING = "returning"  # the consumer says the goods are on their way back
    REJECTED = "rejected"
    ESCALATED = "escalated"
    ARBITRATED = "arbitrated"  # the platform decided: no refund (final)
    REFUNDED = "refunded"  # final
    RESENT = "resent"  # re-delivery done (final)
    CANCELLED = "cancelled"  # withdrawn by the consumer (final)

    # In progress: at most one per order (a database constraint).
    ACTIVE = (SUBMITTED, PARTIAL_PROPOSED, AGREED, RETURNING, REJECTED, ESCALATED)
    FINAL = (ARBITRATED, REFUNDED, RESENT, CANCELLED)


REQUEST_MACHINE = StateMachine([
    T(AS.SUBMITTED,        AS.AGREED,           "agree",           "merchant"),
    T(AS.SUBMITTED,        AS.AGREED,           "auto_agree",      "system"),
    T(AS.SUBMITTED,        AS.REJECTED,         "reject",          "merchant"),
    T(AS.SUBMITTED,        AS.PARTIAL_PROPOSED, "propose_partial", "merchant"),
    T(AS.SUBMITTED,        AS.CANCELLED,        "cancel",          "consumer"),
    T(AS.PARTIAL_PROPOSED, AS.AGREED,           "accept_partial",  "consumer"),
    T(AS.PARTIAL_PROPOSED, AS.ESCALATED,        "escalate",        "consumer"),
    T(AS.PARTIAL_PROPOSED, AS.CANCELLED,        "cancel",          "consumer"),
    T(AS.REJECTED,         AS.ESCALATED,        "escalate",        "consumer"),
    T(AS.REJECTED,         AS.CANCELLED,        "cancel",          "consumer"),
    T(AS.AGREED,           AS.REFUNDED,         "refund",          "system"),  # refund only
    T(AS.AGREED,           AS.RETURNING,        "ship_back",       "consumer"),  # return and refund
    T(AS.AGREED,           AS.REFUNDED,         "confirm_return",  "merchant"),  # return and refund
    T(AS.RETURNING,        AS.REFUNDED,         "confirm_return",  "merchant"),
    T(AS.RETURNING,        AS.REFUNDED,         "auto_confirm_return", "system"),  # store silent too long
    T(AS.AGREED,           AS.RESENT,           "resend",          "merchant"),  # re-delivery
    T(AS.ESCALATED,        AS.REFUNDED,         "arbitrate",       "operator"),  # refund X > 0
    T(AS.ESCALATED,        AS.ARBITRATED,       "arbitrate_none",  "operator"),  # no refund
])

# Actions that only exist for some kinds of request.
KIND_ACTIONS: dict[str, frozenset[str]] = {
    "refund": frozenset({"refund_only"}),
    "ship_back": frozenset({"return_refund"}),
    "confirm_return": frozenset({"return_refund"}),
    "auto_confirm_return": frozenset({"return_refund"}),
    "resend": frozenset({"redelivery"}),
    "propose_partial": frozenset({"refund_only", "return_refund"}),
}


def action_allowed_for_kind(action: str, kind: str) -> bool:
    allowed = KIND_ACTIONS.get(action)
    return allowed is None or kind in allowed


def sla_remaining_seconds(due_at: datetime, now: datetime) -> int:
    """Seconds left until `due_at` (negative when overdue)."""
    return int((due_at - now).total_seconds())


# --- complaint tickets -----------------------------------------------------------------------

class TK:
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"


TICKET_MACHINE = StateMachine([
    T(TK.OPEN,     TK.ASSIGNED, "assign",  "operator"),
    T(TK.ASSIGNED, TK.ASSIGNED, "assign",  "operator"),  # hand over to someone else
    T(TK.OPEN,     TK.RESOLVED, "resolve", "operator"),
    T(TK.ASSIGNED, TK.RESOLVED, "resolve", "operator"),
    T(TK.OPEN,     TK.CLOSED,   "close",   "operator"),  # no action needed (duplicate, spam)
    T(TK.RESOLVED, TK.CLOSED,   "close",   "operator", "consumer"),
    T(TK.RESOLVED, TK.ASSIGNED, "reopen",  "consumer"),
])

# Hours to resolve, by priority; some categories are never below a priority.
TICKET_SLA_HOURS = {"urgent": 4, "high": 24, "normal": 72}
CATEGORY_MIN_PRIORITY = {"food_safety": "urgent", "fraud": "high", "billing": "high"}
_RANK = {"normal": 0, "high": 1, "urgent": 2}


def ticket_priority(category: str, asked: str = "normal") -> str:
    floor = CATEGORY_MIN_PRIORITY.get(category, "normal")
    return floor if _RANK[floor] > _RANK.get(asked, 0) else (asked if asked in _RANK else "normal")


def ticket_due_at(*, created_at: datetime, priority: str) -> datetime:
    return created_at + timedelta(hours=TICKET_SLA_HOURS[priority])
