"""Reads for the counter: receipts, open conflicts."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linli.accounts.models import User
from linli.accounts.phone import phone_mask
from linli.core.errors import PermissionDenied
from linli.merchants import roles
from linli.merchants.models import Product, Store

from .models import Counter, MemberPrice, ProductBarcode, Sale, SyncConflict
from .receipt import Receipt, ReceiptLine, yuan
from .services import sale_get, staff_store


def receipt_for(*, actor: User, sale_id: str) -> tuple[Sale, Receipt]:
    sale = sale_get(actor=actor, sale_id=sale_id)
    local = sale.created_at.astimezone(ZoneInfo(sale.store.timezone))
    labels = {"cashier": pgettext("receipt", "Cashier"), "items": pgettext("receipt", "Items"),
              "member_discount": pgettext("receipt", "Member price"),
              "points_paid": pgettext("receipt", "Points"), "paid": pgettext("receipt", "Paid"),
              "method": pgettext("receipt", "Method"), "member": pgettext("receipt", "Member"),
              "points_earned": _("Points earned"), "thanks": _("Thank you, see you again")}
    receipt = Receipt(
        store=sale.store.name, sale_id=sale.public_id, when=local.strftime("%Y-%m-%d %H:%M"),
        cashier=sale.cashier.display_name or sale.cashier.username,
        lines=[ReceiptLine(line.name, line.quantity, line.charged_unit_fen, line.amount_fen)
               for line in sale.lines.all()],
        items_fen=sale.items_fen, member_discount_fen=sale.member_discount_fen,
        points_value_fen=sale.points_value_fen, paid_fen=sale.paid_fen,
        method=str(Sale.Method(sale.payment_method).label),
        member=phone_mask(sale.member.phone) if sale.member is not None and sale.member.phone else "",
        points_earned=sale.points_earned, labels=labels)
    return sale, receipt


def receipt_html_context(receipt: Receipt) -> dict[str, Any]:
    """What `pos/receipt.html` shows (the API's receipt and the console's are the same page)."""
    rows = [{"name": line.name, "quantity": line.quantity, "unit": yuan(line.unit_fen),
             "amount": yuan(line.amount_fen)} for line in receipt.lines]
    totals = {"items": yuan(receipt.items_fen), "discount": yuan(receipt.member_discount_fen),
              "points": yuan(receipt.points_value_fen), "paid": yuan(receipt.paid_fen)}
    return {"receipt": receipt, "rows": rows, "totals": totals}


def sales_today(*, actor: User, store_id: str, limit: int = 200) -> tuple[Store, str, list[Sale]]:
    """The store's sales since local midnight, newest first, with lines and any pending
    phone claim; and the actor's role (to show return forms where the services allow)."""
    store, role = staff_store(actor=actor, store_id=store_id)
    tz = ZoneInfo(store.timezone)
    midnight = timezone.now().astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    sales = list(Sale.objects.filter(store=store, created_at__gte=midnight)
                 .select_related("member", "cashier", "phone_claim")
                 .prefetch_related("lines").order_by("-created_at", "-pk")[:limit])
    return store, role, sales


def counter_catalog(*, actor: User, store_id: str) -> dict[str, Any]:
    """What the counter page sells from: the store's listed products in menu order with
    their category, list and member price and barcodes; the store's active counters."""
    store, role = staff_store(actor=actor, store_id=store_id)
    barcodes: dict[int, list[str]] = {}
    for product_id, code in ProductBarcode.objects.filter(store=store).values_list("product_id", "code"):
        barcodes.setdefault(product_id, []).append(code)
    prices = dict(MemberPrice.objects.filter(store=store).values_list("product_id", "price_fen"))
    products = [{"id": p.public_id, "name": p.name, "category": p.menu_category.name if p.menu_category else "",
                 "price_fen": p.price_fen, "member_price_fen": prices.get(p.pk), "sold_out": p.is_sold_out,
                 "barcodes": sorted(barcodes.get(p.pk, []))}
                for p in Product.objects.filter(store=store, is_available=True).select_related("menu_category")
                .order_by("menu_category__sort", "menu_category_id", "sort", "id")]
    counters = list(Counter.objects.filter(store=store, is_active=True).order_by("pk"))
    return {"store": store, "role": role, "products": products, "counters": counters}


def conflicts_open(*, actor: User, store_id: str) -> QuerySet[SyncConflict]:
    store, role = staff_store(actor=actor, store_id=store_id)
    if not roles.allows(role, roles.STOCK_SET):
        raise PermissionDenied(permission=roles.STOCK_SET)
    return (SyncConflict.objects.filter(store=store, resolved_at__isnull=True)
            .select_related("sale", "resolved_by", "batch__uploaded_by").order_by("created_at", "pk"))


def conflicts_recently_resolved(*, actor: User, store_id: str, limit: int = 20) -> list[SyncConflict]:
    """The store's last resolved conflicts (who resolved them, how), newest first."""
    store, role = staff_store(actor=actor, store_id=store_id)
    if not roles.allows(role, roles.STOCK_SET):
        raise PermissionDenied(permission=roles.STOCK_SET)
    return list(SyncConflict.objects.filter(store=store, resolved_at__isnull=False)
                .select_related("sale", "resolved_by").order_by("-resolved_at", "-pk")[:limit])
