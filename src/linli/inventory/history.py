"""The stock history of one product (the API's and the console page's read): its ledger
rows, newest first, a page at a time, with the current available, held and in-transit
counts."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator

from linli.accounts.models import User
from linli.merchants import roles
from linli.merchants.models import Product

from .access import product_for_member
from .models import StockItem, StockMovement
from .transfers import InTransit, stock_in_transit

PAGE_SIZE = 50


@dataclass
class StockHistory:
    product: Product
    available: int
    held: int
    unlimited: bool
    in_transit: InTransit
    page: Page  # of StockMovement, actor selected


def stock_history(*, actor: User, product_id: str, page: object = 1, per_page: int = PAGE_SIZE) -> StockHistory:
    """Any member of the product's merchant (`menu.view`); another merchant's product is
    404 `product_not_found`. A page number past the end gives the last page."""
    product = product_for_member(actor=actor, product_id=product_id, permission=roles.MENU_VIEW)
    item = StockItem.objects.filter(product=product).values_list("quantity", "reserved", "unlimited").first()
    available, held, unlimited = item or (0, 0, False)
    movements = (StockMovement.objects.filter(product=product).select_related("actor")
                 .order_by("-created_at", "-id"))
    return StockHistory(product=product, available=available, held=held, unlimited=unlimited,
                        in_transit=stock_in_transit(product_pk=product.pk),
                        page=Paginator(movements, per_page).get_page(page))
