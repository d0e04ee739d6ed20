"""Inventory reads: the ledger audit (what the cached counts should be); what the
console's transfer and alert pages show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Sum

from .models import StockItem, StockMovement, StockReservation


@dataclass(frozen=True)
class LedgerAudit:
    product_id: int
    quantity: int  # cached in StockItem
    reserved: int
    ledger_quantity: int  # sum(StockMovement.delta)
    ledger_reserved: int  # sum(StockMovement.reserved_delta)
    held: int  # sum of the product's reservations still held

    @property
    def balanced(self) -> bool:
        return self.quantity == self.ledger_quantity and self.reserved == self.ledger_reserved == self.held


def stock_ledger_audit(product_ids: list[int]) -> dict[int, LedgerAudit]:
    """For each product: the cached counts beside the ledger's sums and the held
    reservations (three grouped queries). Every product is `balanced` unless something
    wrote the stock tables outside `inventory.services`."""
    items = {pid: (q, r) for pid, q, r in StockItem.objects.filter(product_id__in=product_ids)
             .values_list("product_id", "quantity", "reserved")}
    sums = {row["product_id"]: (row["q"] or 0, row["r"] or 0) for row in StockMovement.objects
            .filter(product_id__in=product_ids).values("product_id")
            .annotate(q=Sum("delta"), r=Sum("reserved_delta"))}
    held = dict(StockReservation.objects.filter(product_id__in=product_ids,
                                                status=StockReservation.Status.HELD)
                .values("product_id").annotate(n=Sum("quantity")).values_list("product_id", "n"))
    return {pid: LedgerAudit(pid, *items.get(pid, (0, 0)), *sums.get(pid, (0, 0)), held.get(pid, 0) or 0)
            for pid in product_ids}


# --- the console's transfer and alert pages ----------------------------------------------

@dataclass(frozen=True)
class TransferChoices:
    """What the transfer form of one store offers: its counted goods, the chain's other
    stores the actor may move stock to."""

    products: list[Any]
    stores: list[Any]


def transfer_choices(*, actor: Any, store_id: str) -> TransferChoices:
    from linli.merchants import roles
    from linli.merchants.models import Product, Store
    from linli.merchants.selectors import store_for_member

    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.STOCK_SET)
    products = list(Product.objects.filter(store=store, kind=Product.Kind.GOODS, stock__unlimited=False)
                    .select_related("stock").order_by("name", "id"))
    others = list(Store.objects.filter(merchant_id=store.merchant_id).exclude(pk=store.pk).order_by("name"))
    return TransferChoices(products=products, stores=others)


def alerts_open(*, actor: Any, store_id: str) -> list[Any]:
    """The store's open low-stock alerts for owner/manager, not yet acknowledged first,
    with each product's count now."""
    from linli.merchants import roles
    from linli.merchants.selectors import store_for_member

    from .models import StockAlert

    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.STOCK_SET)
    return list(StockAlert.objects.filter(store=store, resolved_at__isnull=True)
                .select_related("product__stock", "acknowledged_by")
                .order_by(models.F("acknowledged_at").asc(nulls_first=True), "-opened_at", "-id")[:200])
