"""Marketing listening to orders (orders never imports marketing for this)."""

from __future__ import annotations

from typing import Any

from linli.orders.models import Order
from linli.orders.states import S


def coupon_back_on_order_changed(sender: Any, order: Order, **kwargs: Any) -> None:
    """A cancelled or refunded order gives its coupon back (services.coupon_return_for_order)."""
    if order.status in S.CANCELLED_ALL:
        from .services import coupon_return_for_order

        coupon_return_for_order(order=order)


def promotions_changed_on_write(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A promotion saved or deleted, wherever from (merchant console, back office, a
    script): its store's cached promotions are rebuilt on the next cart
    (services.promotions_live). A queryset .update() sends no signal: the cache's lifetime
    (LINLI_PROMOTIONS_CACHE_SECONDS) bounds it."""
    from .services import promotions_changed

    promotions_changed(instance.store_id)


# --- group-buy vouchers ------------------------------------------------------------------------

def vouchers_on_order_changed(sender: Any, order: Order, **kwargs: Any) -> None:
    """A voucher order paid: issue its vouchers; ended before that: give its quota back
    (voucher_services.on_order_changed; idempotent, the periodic sweep catches a missed one)."""
    if order.fulfilment == "voucher":
        from .voucher_services import on_order_changed

        on_order_changed(order)


def _connect_vouchers() -> None:
    # Connected when apps.ready imports this module (apps.py connects the coupon receiver).
    from linli.orders.events import order_changed

    order_changed.connect(vouchers_on_order_changed, dispatch_uid="marketing-vouchers")


_connect_vouchers()
