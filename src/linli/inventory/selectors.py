"""Inventory reads: the ledger audit (what the cached counts should be)."""

from __future__ import annotations

from dataclasses import dataclass

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
