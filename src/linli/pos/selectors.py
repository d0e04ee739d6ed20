"""Reads for the counter: receipts, open conflicts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from linli.accounts.models import User
from linli.accounts.phone import phone_mask
from linli.core.errors import PermissionDenied
from linli.merchants import roles

from .models import Sale, SyncConflict
from .receipt import Receipt, ReceiptLine
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


def conflicts_open(*, actor: User, store_id: str) -> QuerySet[SyncConflict]:
    store, role = staff_store(actor=actor, store_id=store_id)
    if not roles.allows(role, roles.STOCK_SET):
        raise PermissionDenied(permission=roles.STOCK_SET)
    return (SyncConflict.objects.filter(store=store, resolved_at__isnull=True)
            .select_related("sale").order_by("created_at", "pk"))
