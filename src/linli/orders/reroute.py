"""Chain re-routing (issue 8): a chain store rejects a delivery order, or lets it time out,
and the chain's next-best store gets the same cart instead of the consumer getting only a
refund.

Why a new order rather than the same order moved: prices, product rows, the delivery fee
and the merchant who settles all belong to a store, so "the order moved" would rewrite its
lines, its payment and its settlement after the fact. Here the rejected order follows its
normal path (refunded along the original payment, stock released) and a new order is
placed at the next store, linked both ways (`rerouted_from` / `rerouted_to`), priced fresh,
its stock reserved, awaiting payment: one tap for the consumer, and no money moves
between orders behind anyone's back.

The next store is `inventory.chains.chain_route` with the rejected store and every store
the order has already been rejected by passed over; only a single store that can deliver
the whole cart is taken (a split would turn one order into several the consumer did not
ask for). Variants and options are matched by name at the new store's product. Whatever
fails (no store, sold out meanwhile, a variant missing) leaves just the refund and a log
line: the rejected order's refund never depends on re-routing.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from linli.core.errors import DomainError
from linli.inventory.chains import CartItem, chain_route
from linli.inventory.models import ChainSku
from linli.merchants.models import Option, ProductVariant

from .models import Order, OrderEvent, OrderItem
from .services import AddressInput, LineInput, order_place

log = logging.getLogger(__name__)


def order_reroute_on_commit(order: Order) -> None:
    """Try the next store once the rejection has committed (its stock released first)."""
    order_id = order.public_id
    transaction.on_commit(lambda: _reroute_safely(order_id))


def _reroute_safely(order_id: str) -> None:
    try:  # the rejection stands whatever happens here
        order_reroute(order_id=order_id)
    except Exception:  # noqa: BLE001
        log.exception("re-routing %s failed", order_id)


def _stores_tried(order: Order) -> list[str]:
    tried, current = [], order
    while current is not None:
        tried.append(current.store.public_id)
        current = current.rerouted_from
    return tried


def order_reroute(*, order_id: str) -> Order | None:
    """Place the rejected order's cart at the chain's next-best store; the new order, or
    None when re-routing is not allowed, not possible, or was done already."""
    order = (Order.objects.select_related("store__merchant", "consumer", "rerouted_from__store")
             .get(public_id=order_id))
    if (not order.reroute_allowed or order.fulfilment != Order.Fulfilment.DELIVERY
            or not order.address):
        return None
    existing = Order.objects.filter(rerouted_from=order).first()
    if existing is not None:
        return existing  # done already (a retried hook)
    tried = _stores_tried(order)
    if len(tried) > settings.LINLI_REROUTE_MAX_STORES:
        log.info("re-routing %s: %d stores tried, giving up", order_id, len(tried))
        return None
    items = list(order.items.select_related("product"))
    skus = dict(ChainSku.objects.filter(product_id__in=[i.product_id for i in items])
                .values_list("product_id", "sku"))
    if any(item.product_id not in skus for item in items):
        log.info("re-routing %s: a product has no chain SKU", order_id)
        return None
    wanted: dict[str, int] = {}
    for item in items:
        wanted[skus[item.product_id]] = wanted.get(skus[item.product_id], 0) + item.quantity
    address = order.address
    try:
        decision = chain_route(merchant_id=order.store.merchant.public_id,
                               items=[CartItem(quantity=q, sku=sku) for sku, q in sorted(wanted.items())],
                               lat=address["lat"], lng=address["lng"],
                               rejected_store_id=order.store.public_id, exclude=tried)
    except DomainError as exc:
        log.info("re-routing %s: no route (%s)", order_id, exc.code)
        return None
    if decision["kind"] != "single":
        log.info("re-routing %s: %s", order_id, decision["why"] or decision["kind"])
        return None
    leg = decision["stores"][0]
    product_of = {line["sku"]: line["product_id"] for line in leg["items"]}
    try:
        lines = [_line_at(item, product_of[skus[item.product_id]]) for item in items]
        with transaction.atomic():  # the new order is announced with its place event as below
            placed = order_place(
                consumer=order.consumer, store_id=leg["store_id"], lines=lines,
                fulfilment=Order.Fulfilment.DELIVERY, address=AddressInput(**address), note=order.note,
                idempotency_key=f"reroute:{order.public_id}", reroute_allowed=True, rerouted_from=order)
            # The place event says who really placed it: the platform, for the consumer.
            OrderEvent.objects.filter(order=placed.order, action="place").update(
                actor=None, actor_role="system", note=f"rerouted from {order.public_id}")
    except ChoiceMissing as exc:
        log.info("re-routing %s to %s: %s", order_id, leg["store_id"], exc)
        return None
    except DomainError as exc:
        log.info("re-routing %s to %s refused: %s", order_id, leg["store_id"], exc.code)
        return None
    return placed.order


class ChoiceMissing(LookupError):
    """The next store's product lacks a variant or option of the ordered name."""


def _line_at(item: OrderItem, product_id: str) -> LineInput:
    """The same line at the new store: its product, the variant and options of the same names."""
    variant_id = None
    if item.variant:
        variant = ProductVariant.objects.filter(product__public_id=product_id, name=item.variant["name"]).first()
        if variant is None:
            raise ChoiceMissing(f"variant {item.variant['name']!r}")
        variant_id = variant.public_id
    options = []
    for chosen in item.options:
        option = Option.objects.filter(group__product__public_id=product_id, name=chosen["name"]).first()
        if option is None:
            raise ChoiceMissing(f"option {chosen['name']!r}")
        options.append(option.public_id)
    return LineInput(product_id=product_id, quantity=item.quantity, variant=variant_id, options=tuple(options))
