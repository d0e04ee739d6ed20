"""Stock changes. Each is an atomic conditional UPDATE, so concurrent buyers can never
take the same unit twice, whatever the database or the number of app processes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict
from linli.merchants.models import Product

from .models import StockItem, StockMovement


class StockInsufficient(Conflict):
    code = "stock_insufficient"
    message = _("Not enough stock for this product.")


def stock_set(*, product: Product, quantity: int, actor: User | None = None,
              unlimited: bool = False) -> StockItem:
    """Set the count (merchant stocktake) or mark the product made-to-order (unlimited)."""
    if quantity < 0:
        raise ValueError("quantity must be >= 0")
    with transaction.atomic():
        item, created = StockItem.objects.select_for_update().get_or_create(
            product=product, defaults={"store_id": product.store_id, "quantity": 0}
        )
        delta = quantity - item.quantity
        item.quantity = quantity
        item.unlimited = unlimited
        item.save(update_fields=["quantity", "unlimited", "updated_at"])
        if delta:
            StockMovement.objects.create(
                product=product, store_id=product.store_id, delta=delta,
                reason=StockMovement.Reason.ADJUST, actor=actor,
            )
    return item


def stock_take(
    *, store_id: int, lines: Iterable[tuple[Product, int]], reference: str, actor: User | None
) -> None:
    """Take (product, quantity) lines from stock, all or nothing.

    Must run inside the caller's transaction: a failure on any line raises and the
    caller's rollback returns what earlier lines took. Lines are applied in product id
    order so two orders touching the same products cannot deadlock.
    """
    movements = []
    for product, quantity in sorted(lines, key=lambda line: line[0].pk):
        taken = StockItem.objects.filter(
            product_id=product.pk, store_id=store_id, unlimited=False, quantity__gte=quantity
        ).update(quantity=F("quantity") - quantity) or StockItem.objects.filter(
            product_id=product.pk, store_id=store_id, unlimited=True
        ).exists()
        if not taken:
            available = (
                StockItem.objects.filter(product_id=product.pk)
                .values_list("quantity", flat=True)
                .first()
            )
            raise StockInsufficient(
                product_id=product.public_id, requested=quantity, available=available or 0
            )
        movements.append(
            StockMovement(product_id=product.pk, store_id=store_id, delta=-quantity,
                          reason=StockMovement.Reason.ORDER, reference=reference, actor=actor)
        )
    StockMovement.objects.bulk_create(movements)


def stock_release(
    *, store_id: int, lines: Iterable[tuple[int, int]], reference: str, actor: User | None
) -> None:
    """Give back what `stock_take` took: (product_id, quantity) lines of a cancelled order."""
    movements = []
    for product_id, quantity in sorted(lines):
        StockItem.objects.filter(product_id=product_id, store_id=store_id, unlimited=False).update(
            quantity=F("quantity") + quantity
        )
        movements.append(
            StockMovement(product_id=product_id, store_id=store_id, delta=quantity,
                          reason=StockMovement.Reason.RELEASE, reference=reference, actor=actor)
        )
    StockMovement.objects.bulk_create(movements)
