"""Back office for orders: a searchable, filterable list and a read-only detail page with
the lines, the event history (who, role, when, from → to), payments and refunds.
Operators change orders only through the services' state machine, never here."""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from linli.ops.admin_tools import (
    EventHistoryInline,
    PublicIdAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    StoreFilter,
    admin_link,
    money,
)
from linli.payments.models import Payment, Refund

from .models import Order, OrderEvent, OrderItem


class ItemInline(ReadOnlyInline):
    model = OrderItem
    verbose_name_plural = _("items")
    fields = readonly_fields = ("name", "product_link", "unit_price", "quantity", "amount")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("product")

    @admin.display(description=_("product"))
    def product_link(self, obj: OrderItem) -> str:
        return admin_link(obj.product, obj.product.public_id)

    @admin.display(description=_("unit price"))
    def unit_price(self, obj: OrderItem) -> str:
        return money(obj.unit_price_fen)

    @admin.display(description=_("amount"))
    def amount(self, obj: OrderItem) -> str:
        return money(obj.amount_fen)


class EventInline(EventHistoryInline):
    """The audit trail: who, in which role, when, from which status to which."""

    model = OrderEvent
    fields = readonly_fields = ("created_at", "action", "transition", "actor_display", "actor_role", "note")


class PaymentInline(ReadOnlyInline):
    model = Payment
    verbose_name_plural = _("payments")
    fields = readonly_fields = ("payment_link", "provider", "amount", "status", "provider_trade_no",
                                "created_at", "succeeded_at")

    @admin.display(description=_("payment"))
    def payment_link(self, obj: Payment) -> str:
        return admin_link(obj)

    @admin.display(description=_("amount"))
    def amount(self, obj: Payment) -> str:
        return money(obj.amount_fen)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    """Operators look; they change orders only through the API's state machine."""

    list_display = ("public_id", "store_link", "consumer_phone", "status", "fulfilment", "total",
                    "created_at", "paid_at")
    list_filter = ("status", "fulfilment", StoreFilter, ("created_at", admin.DateFieldListFilter),
                   "city_code")
    search_fields = ("=public_id", "=consumer__phone", "=store__public_id")
    search_help_text = _("An order id (ord_…), a store id (sto_…) or the buyer's phone number.")
    date_hierarchy = "created_at"
    list_select_related = ("store", "consumer")
    ordering = ("-created_at", "-id")
    inlines = [ItemInline, EventInline, PaymentInline]
    fieldsets = (
        (None, {"fields": ("public_id", "status", "fulfilment", "store_link", "consumer_link", "city_code",
                           "created_at", "paid_at", "completed_at", "cancelled_at", "cancel_reason")}),
        (_("Money"), {"fields": ("price_breakdown", "items_amount", "packaging_fee", "delivery_fee",
                                 "total_display", "refunds")}),
        (_("Fulfilment"), {"fields": ("address", "distance_m", "note", "pay_deadline")}),
    )

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in Order._meta.fields if f.name != "id"] + [
            "store_link", "consumer_link", "price_breakdown", "items_amount", "packaging_fee",
            "delivery_fee", "total_display", "refunds"]

    @admin.display(description=_("store"), ordering="store__name")
    def store_link(self, obj: Order) -> str:
        return admin_link(obj.store)

    @admin.display(description=_("buyer"))
    def consumer_link(self, obj: Order) -> str:
        return admin_link(obj.consumer)

    @admin.display(description=_("buyer's phone"))
    def consumer_phone(self, obj: Order) -> str:
        return obj.consumer.phone or "-"

    @admin.display(description=_("total"), ordering="total_fen")
    def total(self, obj: Order) -> str:
        return money(obj.total_fen)

    @admin.display(description=_("total"))
    def total_display(self, obj: Order) -> str:
        return money(obj.total_fen)

    @admin.display(description=_("items"))
    def items_amount(self, obj: Order) -> str:
        return money(obj.items_fen)

    @admin.display(description=_("packaging fee"))
    def packaging_fee(self, obj: Order) -> str:
        return money(obj.packaging_fee_fen)

    @admin.display(description=_("delivery fee"))
    def delivery_fee(self, obj: Order) -> str:
        return money(obj.delivery_fee_fen)

    @admin.display(description=_("price breakdown"))
    def price_breakdown(self, obj: Order) -> str:
        """The stored lines (items, discounts, packaging, delivery, surcharge) rendered by the
        template the consumer's order page and the merchant queue use, so all three agree."""
        return render_to_string("web/_price_lines.html", {
            "lines": obj.price_lines, "total_fen": obj.total_fen, "distance_m": obj.distance_m,
            "with_items": True})

    @admin.display(description=_("refunds"))
    def refunds(self, obj: Order) -> str:
        """Refunds hang off payments (an inline cannot nest), so they are listed here."""
        rows = Refund.objects.filter(payment__order=obj).order_by("created_at", "id")
        if not rows:
            return "-"
        return format_html('<table class="ops-refunds"><tbody>{}</tbody></table>', format_html_join(
            "", "<tr><td><code class=\"ops-id\">{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((r.public_id, money(r.amount_fen), r.status, r.reason or "-",
              timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M")) for r in rows)))
