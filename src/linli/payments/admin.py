"""Payments in the back office (`/ops/`): payments and refunds found by any id or the
payer's phone, every gateway message and notification raw, the ledger transactions a
payment made, and the operator's manual refund (`services.refund_create`, audited with
its reason). Money records are read-only; only the top-up bonus rules are edited here."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as AdminPermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError
from linli.ops.admin_tools import (
    EventHistoryInline,
    PublicIdAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_link,
    change_url,
    money,
)
from linli.orders.models import Order

from . import ledger, services
from .gateways.support import yuan_to_fen
from .models import (
    GatewayMessage,
    GatewayNotification,
    LedgerAccount,
    LedgerTransaction,
    Payment,
    PaymentEvent,
    ReconciliationRun,
    Refund,
    RefundItem,
    TopupBonusRule,
)

MANUAL_REFUND_ROLES = ("operator", "support")
RAW_STYLE = "white-space: pre-wrap; word-break: break-all; max-height: 20em; overflow: auto; margin: 0"


def raw_body(text: str) -> str:
    return format_html('<pre class="ops-raw" style="{}">{}</pre>', RAW_STYLE, text) if text else "-"


class PaymentEventInline(EventHistoryInline):
    model = PaymentEvent
    fk_name = "payment"
    fields = readonly_fields = ("created_at", "transition", "actor_display", "actor_role", "note")


class RefundEventInline(PaymentEventInline):
    fk_name = "refund"


class RefundInline(ReadOnlyInline):
    model = Refund
    verbose_name_plural = _("refunds")
    fields = readonly_fields = ("refund_link", "amount", "status", "source", "reason", "actor_role",
                                "created_at", "succeeded_at")

    @admin.display(description=_("refund"))
    def refund_link(self, obj: Refund) -> str:
        return admin_link(obj)

    @admin.display(description=_("amount"))
    def amount(self, obj: Refund) -> str:
        return money(obj.amount_fen)


class LedgerTransactionInline(ReadOnlyInline):
    """The ledger transactions a payment (or refund) made, each with its postings."""

    model = LedgerTransaction
    verbose_name_plural = _("ledger transactions")
    fields = readonly_fields = ("public_id", "kind", "postings_display", "actor_role", "memo", "created_at")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("postings__account")

    @admin.display(description=_("postings (debit +, credit −)"))
    def postings_display(self, obj: LedgerTransaction) -> str:
        return format_html('<ul class="ops-postings">{}</ul>', format_html_join(
            "", "<li><code>{}</code> {}</li>",
            ((p.account.code, f"{'+' if p.amount_fen > 0 else '−'}{money(abs(p.amount_fen))}")
             for p in obj.postings.all())))


class RefundLedgerInline(LedgerTransactionInline):
    fk_name = "refund"


class GatewayMessageInline(ReadOnlyInline):
    model = GatewayMessage
    verbose_name_plural = _("gateway messages (our requests and their raw answers)")
    fields = readonly_fields = ("created_at", "provider", "kind", "ok", "raw")

    @admin.display(description=_("raw body"))
    def raw(self, obj: GatewayMessage) -> str:
        return raw_body(obj.body)


class RefundMessageInline(GatewayMessageInline):
    fk_name = "refund"


class NotificationInline(ReadOnlyInline):
    model = GatewayNotification
    verbose_name_plural = _("gateway notifications (raw)")
    fields = readonly_fields = ("received_at", "provider", "notify_id", "verified", "outcome", "raw")

    @admin.display(description=_("raw body"))
    def raw(self, obj: GatewayNotification) -> str:
        return raw_body(obj.body)


class RefundItemInline(ReadOnlyInline):
    model = RefundItem
    verbose_name_plural = _("refunded items")
    fields = readonly_fields = ("item", "quantity", "amount")

    @admin.display(description=_("item"))
    def item(self, obj: RefundItem) -> str:
        return obj.order_item.name

    @admin.display(description=_("amount"))
    def amount(self, obj: RefundItem) -> str:
        return money(obj.amount_fen)


class ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money records are never edited by hand."""

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in self.model._meta.fields if f.name != "id"]  # ids: public ones only


def parse_refund_form(post: Any, order: Order) -> tuple[int | None, list[services.RefundPick] | None]:
    """The manual refund form: `amount` in yuan (exactly to fen) or `line_<n>` quantities."""
    amount_text = post.get("amount", "").strip()
    amount_fen = None
    if amount_text:
        try:
            amount_fen = yuan_to_fen(amount_text)
        except ValueError as exc:
            raise services.InvalidAmount(field="amount", value=amount_text[:20]) from exc
    picks = []
    for line in range(1, order.items.count() + 1):
        text = post.get(f"line_{line}", "").strip()
        if not text or text == "0":
            continue
        if not text.isdigit() or len(text) > 4:
            raise services.InvalidRefundItems(line=line, value=text[:10])
        picks.append(services.RefundPick(line=line, quantity=int(text)))
    return amount_fen, picks or None


@admin.register(Payment)
class PaymentAdmin(PublicIdAdmin, ReadOnly):
    change_form_template = "admin/payments/payment/change_form.html"
    list_display = ("public_id", "order_link", "purpose", "provider", "amount", "refunded", "status",
                    "payer_phone", "created_at", "succeeded_at")
    list_filter = ("status", "provider", "purpose", "channel")
    search_fields = ("=public_id", "=provider_trade_no", "=order__public_id", "=payer__phone")
    search_help_text = _("Payment id, order id, the provider's trade no., or the payer's phone")
    list_select_related = ("order", "payer")
    date_hierarchy = "created_at"
    exclude = ("order", "payer", "wallet_part")
    inlines = [PaymentEventInline, RefundInline, LedgerTransactionInline, GatewayMessageInline,
               NotificationInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["order_link", "payer_link", "wallet_part_link",
                *(f.name for f in Payment._meta.fields if f.name not in ("order", "payer", "wallet_part", "id"))]

    @admin.display(description=_("order"))
    def order_link(self, obj: Payment) -> str:
        return admin_link(obj.order)

    @admin.display(description=_("payer"))
    def payer_link(self, obj: Payment) -> str:
        return admin_link(obj.payer)

    @admin.display(description=_("payer phone"), ordering="payer__phone")
    def payer_phone(self, obj: Payment) -> str:
        return obj.payer.phone or "-" if obj.payer else "-"

    @admin.display(description=_("wallet part"))
    def wallet_part_link(self, obj: Payment) -> str:
        return admin_link(obj.wallet_part)

    @admin.display(description=_("amount"), ordering="amount_fen")
    def amount(self, obj: Payment) -> str:
        return money(obj.amount_fen)

    @admin.display(description=_("refunded"), ordering="refunded_fen")
    def refunded(self, obj: Payment) -> str:
        return money(obj.refunded_fen) if obj.refunded_fen else "-"

    # --- the manual refund -------------------------------------------------------------------

    @staticmethod
    def may_refund(request: HttpRequest) -> bool:
        return getattr(request.user, "platform_role", "") in MANUAL_REFUND_ROLES

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [path("<str:object_id>/refund/", self.admin_site.admin_view(self.refund_view),
                     name="payments_payment_refund"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        payment = self.get_object(request, object_id)
        context: dict[str, Any] = {**(extra_context or {})}
        order = payment.order if payment is not None and payment.order_id else None
        if order is not None:
            paid = order.payments.filter(status__in=Payment.PAID_STATES).aggregate(
                paid=Sum("amount_fen"), refunded=Sum("refunded_fen"))
            context["refund"] = {
                "order": order, "may": self.may_refund(request),
                "paid": money(paid["paid"] or 0), "refunded": money(paid["refunded"] or 0),
                "left_fen": (paid["paid"] or 0) - (paid["refunded"] or 0),
                "left": money((paid["paid"] or 0) - (paid["refunded"] or 0)),
                "items": list(enumerate(order.items.all(), start=1)),
                "url": reverse("admin:payments_payment_refund", args=(payment.public_id,),
                               current_app=self.admin_site.name),
                "idempotency_key": secrets.token_urlsafe(18),
            }
        return super().change_view(request, object_id, form_url, context)

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST amount (yuan) or line_<n> quantities, reason, idempotency_key: one
        `services.refund_create` call for the payment's order. A refusal is a message."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        payment = self.get_object(request, object_id)
        if payment is None or payment.order_id is None:
            raise Http404
        if not self.has_view_permission(request, payment):
            raise AdminPermissionDenied
        back = change_url(payment, self.admin_site.name) or "/ops/"
        role = request.user.platform_role if self.may_refund(request) else ""  # type: ignore[union-attr]
        try:
            amount_fen, picks = parse_refund_form(request.POST, payment.order)  # type: ignore[arg-type]
            refunds = services.refund_create(
                order_id=payment.order.public_id, actor=request.user, role=role,  # type: ignore[union-attr, arg-type]
                reason=request.POST.get("reason", "")[:200], amount_fen=amount_fen, items=picks,
                idempotency_key=request.POST.get("idempotency_key", "")[:100])
        except DomainError as exc:
            messages.error(request, format_html('{} <code data-code="{}">{}</code>', exc.message,
                                                exc.code, exc.code))
            return redirect(back)
        total = sum(r.amount_fen for r in refunds)
        messages.success(request, format_html(
            "{} {} ({})", _("Refund recorded:"), money(total),
            ", ".join(f"{r.public_id} {r.payment.provider} {r.status}" for r in refunds)))
        return redirect(back)


@admin.register(Refund)
class RefundAdmin(PublicIdAdmin, ReadOnly):
    list_display = ("public_id", "payment_link", "order_link", "provider", "amount", "status", "source",
                    "reason", "actor_role", "created_at")
    list_filter = ("status", "source", "payment__provider")
    search_fields = ("=public_id", "=batch", "=provider_refund_no", "=payment__public_id",
                     "=payment__order__public_id", "=payment__payer__phone")
    search_help_text = _("Refund id, batch, the provider's refund no., payment id, order id or the payer's phone")
    list_select_related = ("payment", "payment__order")
    date_hierarchy = "created_at"
    exclude = ("payment", "actor")
    inlines = [RefundEventInline, RefundItemInline, RefundLedgerInline, RefundMessageInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["payment_link", "order_link", "actor_link",
                *(f.name for f in Refund._meta.fields if f.name not in ("payment", "actor", "id"))]

    @admin.display(description=_("payment"))
    def payment_link(self, obj: Refund) -> str:
        return admin_link(obj.payment)

    @admin.display(description=_("order"))
    def order_link(self, obj: Refund) -> str:
        return admin_link(obj.payment.order)

    @admin.display(description=_("who"))
    def actor_link(self, obj: Refund) -> str:
        return admin_link(obj.actor)

    @admin.display(description=_("provider"), ordering="payment__provider")
    def provider(self, obj: Refund) -> str:
        return obj.payment.provider

    @admin.display(description=_("amount"), ordering="amount_fen")
    def amount(self, obj: Refund) -> str:
        return money(obj.amount_fen)


@admin.register(GatewayNotification)
class NotificationAdmin(ReadOnly):
    list_display = ("provider", "notify_id", "payment_link", "verified", "outcome", "received_at")
    list_filter = ("provider", "verified", "outcome")
    search_fields = ("=notify_id", "=payment__public_id")
    list_select_related = ("payment",)
    exclude = ("payment", "body")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["payment_link", "raw", *(f.name for f in GatewayNotification._meta.fields
                                         if f.name not in ("payment", "body", "id"))]

    @admin.display(description=_("payment"))
    def payment_link(self, obj: GatewayNotification) -> str:
        return admin_link(obj.payment)

    @admin.display(description=_("raw body"))
    def raw(self, obj: GatewayNotification) -> str:
        return raw_body(obj.body)


@admin.register(TopupBonusRule)
class TopupBonusRuleAdmin(admin.ModelAdmin):
    """充100送10: operators edit these (top up at least `threshold_fen`, get `bonus_fen`)."""

    list_display = ("threshold", "bonus", "is_active", "starts_at", "ends_at", "created_at")
    list_filter = ("is_active",)
    list_editable = ("is_active",)
    fields = ("threshold_fen", "bonus_fen", "is_active", "starts_at", "ends_at")

    @admin.display(description=_("top up at least"), ordering="threshold_fen")
    def threshold(self, obj: TopupBonusRule) -> str:
        return money(obj.threshold_fen)

    @admin.display(description=_("bonus"), ordering="bonus_fen")
    def bonus(self, obj: TopupBonusRule) -> str:
        return money(obj.bonus_fen)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnly):
    list_display = ("code", "normal", "balance", "cached", "user_link", "created_at")
    list_filter = ("normal", "non_negative")
    search_fields = ("code", "=user__public_id", "=user__phone")
    list_select_related = ("user",)
    exclude = ("user",)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["balance", "user_link", *(f.name for f in LedgerAccount._meta.fields
                                          if f.name not in ("user", "id"))]

    @admin.display(description=_("balance (from postings)"))
    def balance(self, obj: LedgerAccount) -> str:
        return money(ledger.balance(obj.code))

    @admin.display(description=_("cached balance"))
    def cached(self, obj: LedgerAccount) -> str:
        return money(obj.balance_fen) if obj.non_negative else "-"

    @admin.display(description=_("user"))
    def user_link(self, obj: LedgerAccount) -> str:
        return admin_link(obj.user)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnly):
    list_display = ("provider", "day", "matched", "mismatch_count", "created_at")
    list_filter = ("provider",)
    date_hierarchy = "day"
    exclude = ("mismatches",)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return ["mismatch_table", *(f.name for f in ReconciliationRun._meta.fields
                                    if f.name not in ("mismatches", "id"))]

    @admin.display(description=_("mismatches"))
    def mismatch_count(self, obj: ReconciliationRun) -> int:
        return len(obj.mismatches or [])

    @admin.display(description=_("mismatches"))
    def mismatch_table(self, obj: ReconciliationRun) -> str:
        rows = obj.mismatches or []
        if not rows:
            return "-"
        return format_html(
            '<table class="ops-mismatches"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>", _("kind"), _("reference"), _("ours"), _("theirs"),
            format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", (
                (row.get("kind", ""), row.get("ref", ""),
                 money(row["ours_fen"]) if row.get("ours_fen") is not None else "-",
                 money(row["theirs_fen"]) if row.get("theirs_fen") is not None else "-")
                for row in rows)))
