"""Stock for counter sales that already happened (offline POS uploads).

A sale rung up while the counter was offline is a fact: the goods left the shop. It takes
what the ledger still shows as available, through the same reserve + commit as an online
order (ledger rows `order`, `sale`, reference = the sale's public id), and reports the
units the ledger did not have (the shortfall) instead of refusing; the counts never go
below zero (the `stock_not_negative` constraint), so the merchant resolves the shortfall
with a stocktake. Live counter sales use `stock_reserve` / `stock_commit` directly and
are refused when the stock is short, like online orders.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from linli.accounts.models import User
from linli.merchants.models import Product

from .models import StockItem
from .services import StockInsufficient, _wanted, stock_commit, stock_reserve


def stock_take_sold(*, store_id: int, lines: Iterable[tuple[Product, int]], reference: str,
                    actor: User | None) -> dict[int, tuple[int, int]]:
    """Take up to the wanted units of each (product, quantity) as sold. Returns
    {product id: (wanted, short)} for each product that was short. Runs in the caller's
    transaction; locks the stock rows in product id order (as every stock writer does)."""
    wanted, products = _wanted(lines)
    if not wanted:
        return {}
    for _attempt in range(3):
        with transaction.atomic():  # a savepoint: a refused reserve takes back what it wrote
            rows = {pid: (quantity, unlimited) for pid, quantity, unlimited in
                    StockItem.objects.select_for_update().filter(product_id__in=sorted(wanted), store_id=store_id)
                    .order_by("product_id").values_list("product_id", "quantity", "unlimited")}
            take: list[tuple[Product, int]] = []
            short: dict[int, tuple[int, int]] = {}
            for pid in sorted(wanted):
                available, unlimited = rows.get(pid, (0, False))
                n = wanted[pid] if unlimited else min(wanted[pid], max(available, 0))
                if n > 0:
                    take.append((products[pid], n))
                if not unlimited and n < wanted[pid]:
                    short[pid] = (wanted[pid], wanted[pid] - n)
            try:
                if take:
                    stock_reserve(store_id=store_id, lines=take, reference=reference, actor=actor,
                                  seen={pid: rows.get(pid, (0, False)) for pid in wanted})
                    stock_commit(reference=reference, actor=actor)
            except StockInsufficient:
                # SQLite does not lock rows on read: another writer got in between. Try again.
                transaction.set_rollback(True)
                continue
            return short
    raise StockInsufficient(reference=reference)


def stock_lock_batch(*, store_id: int, product_ids: Iterable[int]) -> None:
    """Lock, in product id order, every stock row an offline batch may touch, before its
    first sale: the batch is one transaction, and taking its rows sale by sale would lock
    them out of order (a deadlock with a live sale or another batch locking in order)."""
    ids = sorted(set(product_ids))
    if ids:
        list(StockItem.objects.select_for_update().filter(product_id__in=ids, store_id=store_id)
             .order_by("product_id").values_list("pk", flat=True))
