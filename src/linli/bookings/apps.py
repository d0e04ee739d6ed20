from typing import Any

from django.apps import AppConfig


def _on_order_changed(sender: Any, order: Any, **kwargs: Any) -> None:
    """A booking's order paid or ended unpaid (services.on_order_changed; idempotent)."""
    if order.fulfilment == "booking":
        from .services import on_order_changed

        on_order_changed(order)


class BookingsConfig(AppConfig):
    name = "linli.bookings"
    label = "bookings"
    verbose_name = "Bookings: service appointments"

    def ready(self) -> None:
        from linli.orders.events import order_changed

        order_changed.connect(_on_order_changed, dispatch_uid="bookings-order-changed")
        from linli.reviews.services import SUBJECT_KINDS

        from .reviewable import booking_subject

        SUBJECT_KINDS["booking"] = booking_subject  # a completed appointment can be reviewed
