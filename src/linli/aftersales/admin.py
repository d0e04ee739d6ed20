"""Operator back office (/ops/): the arbitration queue (decide with the amount and the note
typed beside the action), every after-sales request, complaint tickets (assign, internal
notes, resolve, close), and the bad-actors views of merchants and riders (warn, suspend).
Every action goes through a service, so the rules and the event rows are the API's."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError
from linli.delivery.models import Rider
from linli.ops.admin_tools import (
    PublicIdAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_link,
    money,
)

from . import complaints, selectors, services
from .models import (
    ActorWarning,
    AfterSalesEvent,
    AfterSalesPhoto,
    AfterSalesRequest,
    ArbitrationCase,
    BadActor,
    BadRider,
    Ticket,
    TicketEvent,
    TicketNote,
)


class DecisionForm(ActionForm):
    amount_yuan = forms.DecimalField(required=False, min_value=0, decimal_places=2, label=_("Refund (yuan)"))
    note = forms.CharField(required=False, max_length=500, label=_("Note / reason"))


def _each(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any],
          call: Callable[[Any], Any]) -> None:
    """Run one service call per selected row; report each refusal, then the count done."""
    done = 0
    for obj in queryset:
        try:
            call(obj)
        except DomainError as exc:
            label = getattr(obj, "public_id", None) or str(obj)
            modeladmin.message_user(request, f"{label}: {exc.message} ({exc.code})", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, _("%(n)s row(s) updated.") % {"n": done}, messages.SUCCESS)


def _amount_fen(request: HttpRequest) -> int | None:
    raw = (request.POST.get("amount_yuan") or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
        return int(value * 100) if value.is_finite() and value == value.quantize(Decimal("0.01")) else -1
    except InvalidOperation:
        return -1  # refused by the service


# --- after-sales requests --------------------------------------------------------------------------

class EventInline(ReadOnlyInline):
    model = AfterSalesEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role", "amount_fen", "note")
    readonly_fields = fields


class PhotoInline(ReadOnlyInline):
    model = AfterSalesPhoto
    fields = ("image", "width", "height")
    readonly_fields = fields


@admin.action(description=_("Decide: refund the amount typed beside (binding)"))
def decide_refund(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    amount = _amount_fen(request)
    if not amount:
        modeladmin.message_user(request, _("Type the refund in yuan beside the action."), messages.ERROR)
        return
    _each(modeladmin, request, queryset, lambda req: services.request_arbitrate(
        actor=request.user, request_id=req.public_id, amount_fen=amount, note=request.POST.get("note", "")))


@admin.action(description=_("Decide: no refund (binding)"))
def decide_none(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda req: services.request_arbitrate(
        actor=request.user, request_id=req.public_id, amount_fen=0, note=request.POST.get("note", "")))


class _RequestAdminBase(ReadOnlyAdminMixin, PublicIdAdmin):
    list_display: tuple[str, ...] = ("public_id", "order_link", "store_link", "kind", "reason", "asked", "status",
                    "merchant_due_at", "created_at")
    list_select_related = ("order", "store")
    search_fields = ("public_id", "order__public_id", "store__public_id")
    fields = ("public_id", "order_link", "store_link", "consumer", "kind", "reason", "description", "items",
              "amount_fen", "cap_fen", "proposed_fen", "agreed_fen", "refunded_fen", "refund_ids", "status",
              "merchant_due_at", "reject_reason", "escalation_reason", "escalated_at", "arbitration_note",
              "arbitrated_by", "return_note", "created_at", "closed_at")
    readonly_fields = fields
    inlines = [PhotoInline, EventInline]

    @admin.display(description=_("Order"))
    def order_link(self, obj: AfterSalesRequest) -> str:
        return admin_link(obj.order)

    @admin.display(description=_("Store"))
    def store_link(self, obj: AfterSalesRequest) -> str:
        return admin_link(obj.store)

    @admin.display(description=_("Asked"), ordering="amount_fen")
    def asked(self, obj: AfterSalesRequest) -> str:
        return money(obj.amount_fen)


@admin.register(ArbitrationCase)
class ArbitrationCaseAdmin(_RequestAdminBase):
    action_form = DecisionForm
    actions = [decide_refund, decide_none]
    ordering = ("escalated_at",)  # oldest first: the queue
    list_display = ("public_id", "order_link", "store_link", "kind", "asked", "reject_reason",
                    "escalation_reason", "escalated_at")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(status=AfterSalesRequest.Status.ESCALATED)


@admin.register(AfterSalesRequest)
class AfterSalesRequestAdmin(_RequestAdminBase):
    list_filter = ("status", "kind", "reason")
    date_hierarchy = "created_at"


# --- complaint tickets ---------------------------------------------------------------------------

class TicketActionForm(ActionForm):
    text = forms.CharField(required=False, max_length=1000, label=_("Note / resolution"))


class NoteInline(ReadOnlyInline):
    model = TicketNote
    fields = ("created_at", "author", "text")
    readonly_fields = fields
    verbose_name_plural = _("internal notes (never shown to the reporter)")


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_role", "note")
    readonly_fields = fields


@admin.action(description=_("Assign to me"))
def assign_to_me(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda t: complaints.ticket_assign(
        actor=request.user, ticket_id=t.public_id, assignee=request.user))


@admin.action(description=_("Add the internal note typed beside"))
def add_note(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda t: complaints.ticket_note_add(
        actor=request.user, ticket_id=t.public_id, text=request.POST.get("text", "")))


@admin.action(description=_("Resolve with the resolution typed beside"))
def resolve(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda t: complaints.ticket_resolve(
        actor=request.user, ticket_id=t.public_id, resolution=request.POST.get("text", "")))


@admin.action(description=_("Close"))
def close(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
    _each(modeladmin, request, queryset, lambda t: complaints.ticket_close(
        actor=request.user, ticket_id=t.public_id, note=request.POST.get("text", "")))


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("overdue", _("Overdue"))]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "overdue":
            return queryset.filter(due_at__lt=timezone.now(), status__in=("open", "assigned"))
        return queryset


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdminMixin, PublicIdAdmin):
    action_form = TicketActionForm
    actions = [assign_to_me, add_note, resolve, close]
    list_display = ("public_id", "subject_kind", "subject", "category", "priority", "status", "assignee",
                    "due_at", "overdue", "created_at")
    list_filter = ("status", "priority", "category", "subject_kind", OverdueFilter)
    list_select_related = ("store", "rider", "assignee")
    search_fields = ("public_id", "order__public_id", "store__public_id", "rider__public_id", "description")
    ordering = ("due_at",)
    fields = ("public_id", "reporter", "subject_kind", "subject", "order", "category", "priority",
              "description", "status", "assignee", "due_at", "resolution", "resolved_at", "created_at")
    readonly_fields = fields
    inlines = [NoteInline, TicketEventInline]

    @admin.display(description=_("About"))
    def subject(self, obj: Ticket) -> str:
        if obj.store is not None:
            return admin_link(obj.store)
        if obj.rider is not None:
            return admin_link(obj.rider)
        return str(obj.get_subject_kind_display())

    @admin.display(description=_("Overdue"), boolean=True)
    def overdue(self, obj: Ticket) -> bool:
        return obj.status in ("open", "assigned") and obj.due_at < timezone.now()


# --- bad actors ----------------------------------------------------------------------------------

class WarnForm(ActionForm):
    reason = forms.CharField(required=False, max_length=200, label=_("Reason"))


def _warn(level: str) -> Callable[..., None]:
    def action(modeladmin, request, queryset):  # type: ignore[no-untyped-def]
        field = "rider" if issubclass(queryset.model, Rider) else "merchant"
        _each(modeladmin, request, queryset, lambda obj: complaints.actor_warn(
            actor=request.user, level=level, reason=request.POST.get("reason", ""), **{field: obj}))
    return action


warn = admin.action(description=_("Warn, with the reason typed beside"))(_warn("warning"))
suspend = admin.action(description=_("Suspend, with the reason typed beside"))(_warn("suspension"))
warn.__name__, suspend.__name__ = "warn", "suspend"


class _BadActorBase(ReadOnlyAdminMixin, admin.ModelAdmin):
    action_form = WarnForm
    actions = [warn, suspend]
    worst_first: tuple[str, ...] = ()

    def get_ordering(self, request):  # type: ignore[no-untyped-def]
        return self.worst_first  # annotations: set here, not in `ordering` (checked against fields)


@admin.register(BadActor)
class BadActorAdmin(_BadActorBase):
    worst_first = ("-overturned_count", "-complaint_count", "-rejected_count")
    list_display = ("name", "public_id", "status", "requests", "rejected", "overturned", "complaints_n",
                    "warnings")
    search_fields = ("name", "public_id")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return selectors.merchants_with_stats()

    @admin.display(description=_("After-sales"), ordering="aftersales_count")
    def requests(self, obj: Any) -> int:
        return int(obj.aftersales_count)

    @admin.display(description=_("Rejected"), ordering="rejected_count")
    def rejected(self, obj: Any) -> int:
        return int(obj.rejected_count)

    @admin.display(description=_("Overturned by arbitration"), ordering="overturned_count")
    def overturned(self, obj: Any) -> int:
        return int(obj.overturned_count)

    @admin.display(description=_("Complaints"), ordering="complaint_count")
    def complaints_n(self, obj: Any) -> int:
        return int(obj.complaint_count)

    @admin.display(description=_("Warnings"), ordering="warning_count")
    def warnings(self, obj: Any) -> int:
        return int(obj.warning_count)


@admin.register(BadRider)
class BadRiderAdmin(_BadActorBase):
    worst_first = ("-complaint_count", "-aftersales_count")
    list_display = ("name", "public_id", "approval", "requests", "complaints_n", "warnings")
    search_fields = ("name", "public_id")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return selectors.riders_with_stats()

    @admin.display(description=_("After-sales on their deliveries"), ordering="aftersales_count")
    def requests(self, obj: Any) -> int:
        return int(obj.aftersales_count)

    @admin.display(description=_("Complaints"), ordering="complaint_count")
    def complaints_n(self, obj: Any) -> int:
        return int(obj.complaint_count)

    @admin.display(description=_("Warnings"), ordering="warning_count")
    def warnings(self, obj: Any) -> int:
        return int(obj.warning_count)


@admin.register(ActorWarning)
class ActorWarningAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "merchant", "rider", "level", "enforced", "reason", "actor")
    list_filter = ("level", "enforced")
