"""Small display filters shared by the web surfaces."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def yuan(amount_fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals: 3250 -> "32.50"."""
    fen = int(amount_fen or 0)
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@register.filter
def phone_masked(phone: str | None) -> str:
    """A phone shown to somebody other than its owner: +86138****8000 (issue 14)."""
    from linli.accounts.phone import phone_mask

    return phone_mask(phone) if phone else ""


@register.filter
def km(distance_m: int | None) -> str:
    if distance_m is None:
        return ""
    return f"{distance_m} m" if distance_m < 1000 else f"{distance_m / 1000:.1f} km"


_STATUS_LABELS = {
    "pending_payment": _("Awaiting payment"),
    "paid": _("Paid"),
    "accepted": _("Accepted"),
    "preparing": _("Preparing"),
    "ready": _("Ready"),
    "delivering": _("On the way"),
    "delivered": _("Delivered"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "refunding": _("Refunding"),
    "refunded": _("Refunded"),
    "assigned": _("Assigned"),
    "failed": _("Delivery failed"),
    "returned": _("Returned to the store"),
    "arrived": _("At the store"),
    "picked_up": _("Picked up"),
    "unassigned": _("Waiting for a rider"),
}


@register.filter
def status_label(status: str) -> str:
    """The translated name of an order or delivery status."""
    return str(_STATUS_LABELS.get(status, status))
