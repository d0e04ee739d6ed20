"""Operator back office (/ops/) for finance: commission rule versions, merchants' terms,
settlement runs and batches, payouts (send / retry), holds, and manual adjustments with a
second operator's approval above the threshold. Every change goes through
`finance.services`, so the ledger, the checks and the audit rows stay in one place."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError

from . import postings, services
from .models import (
    Adjustment,
    CommissionRule,
    FinanceEntry,
    MerchantFinance,
    MerchantHold,
    Payout,
    PayoutEvent,
    SettlementBatch,
    SettlementRun,
)


def _each(modeladmin: admin.ModelAdmin, request: HttpRequest, rows: Any, call: Any) -> None:
    done = 0
    for row in rows:
        try:
            call(row)
        except DomainError as exc:
            modeladmin.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, _("%(n)s done.") % {"n": done}, messages.SUCCESS)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class _CreateThroughService(admin.ModelAdmin):
    """Rows created by a service (checks, ledger, audit); never edited or deleted here."""

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return obj is None

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


def _as_validation_error(exc: DomainError) -> forms.ValidationError:
    return forms.ValidationError(str(exc.message), code=exc.code)


class RuleForm(forms.ModelForm):
    class Meta:
        model = CommissionRule
        fields = ("category", "merchant", "channel", "rate_bp", "min_fen", "starts_at", "ends_at")

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        try:
            services.commission_rule_check(
                rate_bp=data.get("rate_bp") or 0, min_fen=data.get("min_fen") or 0,
                starts_at=data.get("starts_at"), ends_at=data.get("ends_at"),
                category=data.get("category"), merchant=data.get("merchant"), channel=data.get("channel") or "")
        except DomainError as exc:
            raise _as_validation_error(exc) from exc
        return data


@admin.register(CommissionRule)
class CommissionRuleAdmin(_CreateThroughService):
    list_display = ("public_id", "category", "merchant", "channel", "rate_bp", "min_fen", "starts_at", "ends_at",
                    "created_by")
    list_filter = ("channel", "category")
    form = RuleForm
    raw_id_fields = ("merchant",)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        created = services.commission_rule_create(
            actor=request.user, rate_bp=obj.rate_bp, min_fen=obj.min_fen, starts_at=obj.starts_at, ends_at=obj.ends_at,
            category_id=obj.category_id, merchant_id=obj.merchant.public_id if obj.merchant_id else "",
            channel=obj.channel)
        obj.pk, obj.public_id = created.pk, created.public_id


class HoldForm(forms.ModelForm):
    class Meta:
        model = MerchantHold
        fields = ("merchant", "reason", "note")


@admin.action(description=_("Settle the selected merchants for today"))
def settle_today(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    day = postings.business_day(timezone.now())
    _each(modeladmin, request, queryset, lambda terms: services.settle_merchant(
        merchant=terms.merchant, day=day, actor=request.user))


@admin.action(description=_("Run the settlement for today (every merchant)"))
def run_now(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    run = services.settlement_run(actor=request.user)
    modeladmin.message_user(request, _("%(n)s batch(es) settled.") % {"n": run.batches}, messages.SUCCESS)


@admin.register(MerchantFinance)
class MerchantFinanceAdmin(admin.ModelAdmin):
    list_display = ("merchant", "settlement_days", "reserve_bp", "reserve_days", "delivery_fee_to", "updated_at")
    raw_id_fields = ("merchant",)
    actions = [settle_today, run_now]


@admin.register(SettlementRun)
class SettlementRunAdmin(_ReadOnly):
    list_display = ("day", "batches", "payout_fen", "skipped", "started_by", "created_at")


class EntryInline(admin.TabularInline):
    model = FinanceEntry
    extra = 0
    can_delete = False
    fields = ("kind", "ref", "paid_fen", "commission_fen", "fee_fen", "net_fen", "due_on")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SettlementBatch)
class SettlementBatchAdmin(_ReadOnly):
    list_display = ("public_id", "merchant", "period_end", "status", "entries_fen", "reserve_fen", "payout_fen")
    list_filter = ("status",)
    search_fields = ("public_id", "merchant__public_id", "merchant__name")
    inlines = [EntryInline]


@admin.register(FinanceEntry)
class FinanceEntryAdmin(_ReadOnly):
    list_display = ("occurred_at", "merchant", "kind", "channel", "ref", "paid_fen", "subsidy_fen", "commission_fen",
                    "fee_fen", "delivery_fen", "net_fen", "due_on", "batch")
    list_filter = ("kind", "channel")
    search_fields = ("ref", "merchant__public_id")
    list_select_related = ("merchant", "batch")


@admin.action(description=_("Send / retry the selected payouts"))
def send_payouts(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda p: services.payout_send(payout_id=p.public_id, actor=request.user))


class PayoutEventInline(admin.TabularInline):
    model = PayoutEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Payout)
class PayoutAdmin(_ReadOnly):
    list_display = ("public_id", "merchant", "amount_fen", "provider", "status", "attempts", "last_error", "paid_at")
    list_filter = ("status", "provider")
    actions = [send_payouts]
    inlines = [PayoutEventInline]


@admin.action(description=_("Release the selected holds"))
def release_holds(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda h: services.hold_release(actor=request.user, hold_id=h.public_id))


@admin.register(MerchantHold)
class MerchantHoldAdmin(_CreateThroughService):
    form = HoldForm
    list_display = ("public_id", "merchant", "reason", "note", "placed_by", "placed_at", "released_by", "released_at")
    list_filter = ("reason",)
    raw_id_fields = ("merchant",)
    actions = [release_holds]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        created = services.hold_place(actor=request.user, merchant_id=obj.merchant.public_id, reason=obj.reason,
                                      note=obj.note)
        obj.pk, obj.public_id = created.pk, created.public_id


class AdjustmentForm(forms.ModelForm):
    class Meta:
        model = Adjustment
        fields = ("merchant", "amount_fen", "reason")

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if not (data.get("reason") or "").strip():
            raise _as_validation_error(services.AdjustmentReasonRequired())
        if not data.get("amount_fen"):
            raise _as_validation_error(services.AdjustmentAmountInvalid())
        return data


@admin.action(description=_("Approve (a second operator)"))
def approve_adjustments(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda a: services.adjustment_decide(
        actor=request.user, adjustment_id=a.public_id, approve=True))


@admin.action(description=_("Reject"))
def reject_adjustments(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda a: services.adjustment_decide(
        actor=request.user, adjustment_id=a.public_id, approve=False))


@admin.register(Adjustment)
class AdjustmentAdmin(_CreateThroughService):
    form = AdjustmentForm
    list_display = ("public_id", "merchant", "amount_fen", "reason", "status", "created_by", "decided_by",
                    "created_at", "decided_at")
    list_filter = ("status",)
    raw_id_fields = ("merchant",)
    actions = [approve_adjustments, reject_adjustments]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        created = services.adjustment_create(actor=request.user, merchant_id=obj.merchant.public_id,
                                             amount_fen=obj.amount_fen, reason=obj.reason)
        obj.pk, obj.public_id = created.pk, created.public_id

