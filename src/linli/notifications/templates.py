"""The registry of notification templates: one per event kind, with its category, urgency
and its title and body as English msgids (translated to zh-Hans in the catalogue). A
message is rendered once, when sent, in the language of the user who receives it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Category


@dataclass(frozen=True)
class Template:
    kind: str
    category: str
    title: Promise | str
    body: Promise | str
    urgent: bool = False  # SMS/push ignore quiet hours: someone is waiting right now


class UnknownTemplate(KeyError):
    pass


# Order news the consumer is waiting for (linli.notifications.order_notices picks one per
# state change). Placeholders: order (public id), store, amount (yuan), code (pickup code).
TEMPLATES: dict[str, Template] = {t.kind: t for t in [
    Template("order_accepted", Category.ORDER, _("Order accepted"),
             _("%(store)s has accepted your order %(order)s and is preparing it."), urgent=True),
    Template("order_ready_pickup", Category.ORDER, _("Ready for pickup"),
             _("Your order %(order)s at %(store)s is ready. Pickup code: %(code)s."), urgent=True),
    Template("order_delivering", Category.ORDER, _("Rider on the way"),
             _("A rider has picked up your order %(order)s from %(store)s and is on the way."), urgent=True),
    Template("order_delivered", Category.ORDER, _("Order delivered"),
             _("Your order %(order)s from %(store)s has been delivered. Enjoy!"), urgent=True),
    Template("order_rejected", Category.ORDER, _("Order declined"),
             _("%(store)s could not take your order %(order)s. A full refund of ¥%(amount)s is on its way."),
             urgent=True),
    Template("order_accept_timeout", Category.ORDER, _("Order cancelled"),
             _("%(store)s did not accept your order %(order)s in time. A full refund of ¥%(amount)s is on its way."),
             urgent=True),
    Template("order_cancel_approved", Category.ORDER, _("Cancellation accepted"),
             _("Your order %(order)s has been cancelled as you asked. A refund of ¥%(amount)s is on its way."),
             urgent=True),
    Template("order_cancel_declined", Category.ORDER, _("Cancellation declined"),
             _("%(store)s has declined to cancel your order %(order)s; it is being prepared."), urgent=True),
    Template("order_cancelled_by_platform", Category.ORDER, _("Order cancelled"),
             _("Your order %(order)s from %(store)s was cancelled by customer service."), urgent=True),
    Template("order_unpaid_cancelled", Category.ORDER, _("Order cancelled"),
             _("Your order %(order)s from %(store)s was cancelled because it was not paid in time.")),
    Template("order_rerouted", Category.ORDER, _("Passed on to another store"),
             _("%(from_store)s could not take your order, so the same order is ready at %(store)s (%(order)s). "
               "Pay ¥%(amount)s to confirm."), urgent=True),
    Template("order_refunded", Category.ORDER, _("Refund completed"),
             _("¥%(amount)s for your order %(order)s has been returned to where you paid from.")),
]}


def template_get(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise UnknownTemplate(kind) from None


def render(kind: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """(title, body) of a template in `language`, placeholders filled from `context`."""
    template = template_get(kind)
    with translation.override(language):
        return str(template.title) % context, str(template.body) % context
