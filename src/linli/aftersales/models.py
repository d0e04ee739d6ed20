"""After-sales requests on an order (refund only, return and refund, re-delivery), their
photos and event history; complaint tickets with internal notes; warnings recorded against
merchants and riders (docs/aftersales.md).

`store` is on every request row (the distribution key). Money moves only through
`payments.services.refund_create`; this app records which refunds it asked for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField
from linli.delivery.models import Rider
from linli.merchants.models import Merchant, Store
from linli.orders.models import Order

from .states import AS, TK


class AfterSalesRequest(models.Model):
    class Kind(models.TextChoices):
        REFUND_ONLY = "refund_only", _("Refund only")
        RETURN_REFUND = "return_refund", _("Return and refund")
        REDELIVERY = "redelivery", _("Re-delivery")

    class Reason(models.TextChoices):
        QUALITY = "quality", _("Quality problem")
        MISSING = "missing", _("Item missing")
        WRONG = "wrong", _("Wrong item")
        DAMAGED = "damaged", _("Damaged or spilled")
        LATE = "late", _("Arrived very late")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        SUBMITTED = AS.SUBMITTED, _("Waiting for the store")
        PARTIAL_PROPOSED = AS.PARTIAL_PROPOSED, _("Store proposes a partial refund")
        AGREED = AS.AGREED, _("Agreed")
        RETURNING = AS.RETURNING, _("Item on its way back")
        REJECTED = AS.REJECTED, _("Rejected by the store")
        ESCALATED = AS.ESCALATED, _("Platform arbitration")
        ARBITRATED = AS.ARBITRATED, _("Decided by the platform")
        REFUNDED = AS.REFUNDED, _("Refunded")
        RESENT = AS.RESENT, _("Sent again")
        CANCELLED = AS.CANCELLED, _("Cancelled")

    public_id = PublicIdField(prefix="afs")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="aftersales")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="aftersales")
    consumer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="aftersales")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    description = models.CharField(max_length=500, blank=True)
    # [{"line": 1-based position on the order, "quantity": n}]; empty = the whole order.
    items = models.JSONField(default=list, blank=True)
    amount_fen = models.PositiveIntegerField(default=0)  # asked for (0 for re-delivery)
    cap_fen = models.PositiveIntegerField(default=0)  # the most it could be when asked
    proposed_fen = models.PositiveIntegerField(null=True, blank=True)  # the store's partial offer
    agreed_fen = models.PositiveIntegerField(null=True, blank=True)  # what will be / was refunded
    refunded_fen = models.PositiveIntegerField(default=0)
    refund_ids = models.JSONField(default=list, blank=True)  # payments' rfd_ ids
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    merchant_due_at = models.DateTimeField()  # no answer by then: the system agrees
    reject_reason = models.CharField(max_length=200, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=200, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    arbitration_note = models.CharField(max_length=500, blank=True)
    arbitrated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    return_note = models.CharField(max_length=200, blank=True)  # how it went back (tracking no.)
    shipped_back_at = models.DateTimeField(null=True, blank=True)  # the store confirms receipt within the window
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    photo_count = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "aftersales_request"
        verbose_name = _("after-sales request")
        verbose_name_plural = _("after-sales requests")
        constraints = [
            # One request in progress per order; a finished one does not block the next.
            models.UniqueConstraint(fields=["order"], condition=Q(status__in=AS.ACTIVE),
                                    name="aftersales_one_active_per_order"),
            models.UniqueConstraint(fields=["consumer", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="aftersales_idem_key"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=models.F("cap_fen")),
                                   name="aftersales_refund_within_cap"),
        ]
        indexes = [
            models.Index(fields=["store", "status", "merchant_due_at"], name="aftersales_store_queue"),
            models.Index(fields=["status", "merchant_due_at"], name="aftersales_sla_due"),
            models.Index(fields=["consumer", "-created_at"], name="aftersales_consumer_list"),
            models.Index(fields=["status", "escalated_at"], name="aftersales_arbitration"),
            models.Index(fields=["status", "shipped_back_at"], name="aftersales_returns_due"),
        ]

    def __str__(self) -> str:
        return self.public_id


class ArbitrationCase(AfterSalesRequest):
    """The operator's arbitration queue (admin): escalated requests waiting for a decision."""

    class Meta:
        proxy = True
        verbose_name = _("arbitration case")
        verbose_name_plural = _("arbitration queue")


class AfterSalesPhoto(models.Model):
    """A photo, uploaded first (`request` empty, owned by `uploader`) and attached when the
    request is submitted. The bytes were decoded as an image before they were stored."""

    public_id = PublicIdField(prefix="aph")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(AfterSalesRequest, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="photos")
    image = models.ImageField(upload_to="aftersales/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    sort = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "aftersales_photo"
        ordering = ["sort", "id"]


class AfterSalesEvent(models.Model):
    """Every transition of a request: who (user and role), when, from what to what, why,
    and the amount it concerned. The consumer's timeline is these rows."""

    request = models.ForeignKey(AfterSalesRequest, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_role = models.CharField(max_length=16)  # consumer, merchant, operator, system
    note = models.CharField(max_length=500, blank=True)
    amount_fen = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "aftersales_event"
        ordering = ["id"]


# --- complaints -------------------------------------------------------------------------------

class Ticket(models.Model):
    class Subject(models.TextChoices):
        MERCHANT = "merchant", _("A store")
        RIDER = "rider", _("A rider")
        PLATFORM = "platform", _("The platform")

    class Category(models.TextChoices):
        FOOD_SAFETY = "food_safety", _("Food safety")
        SERVICE = "service", _("Service attitude")
        DELIVERY = "delivery", _("Delivery problem")
        BILLING = "billing", _("Charge or refund")
        FRAUD = "fraud", _("Fraud or false advertising")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = TK.OPEN, _("Open")
        ASSIGNED = TK.ASSIGNED, _("Being handled")
        RESOLVED = TK.RESOLVED, _("Resolved")
        CLOSED = TK.CLOSED, _("Closed")

    public_id = PublicIdField(prefix="tkt")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets")
    subject_kind = models.CharField(max_length=16, choices=Subject.choices)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rider = models.ForeignKey(Rider, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=16, choices=Category.choices)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    description = models.CharField(max_length=1000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField()  # resolve by then (SLA by category and priority)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_tickets")
    resolution = models.CharField(max_length=1000, blank=True)  # shown to the reporter
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "aftersales_ticket"
        verbose_name = _("complaint ticket")
        verbose_name_plural = _("complaint tickets")
        indexes = [
            models.Index(fields=["status", "due_at"], name="ticket_queue"),
            models.Index(fields=["reporter", "-created_at"], name="ticket_reporter"),
            models.Index(fields=["merchant", "created_at"], name="ticket_merchant"),
            models.Index(fields=["rider", "created_at"], name="ticket_rider"),
        ]

    def __str__(self) -> str:
        return self.public_id


class TicketNote(models.Model):
    """Support staff's internal note: never shown to the reporter."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "aftersales_ticket_note"
        ordering = ["id"]


class TicketEvent(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_role = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "aftersales_ticket_event"
        ordering = ["id"]


class ActorWarning(models.Model):
    """An operator's warning or suspension of a merchant or a rider, from the bad-actors view."""

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        SUSPENSION = "suspension", _("Suspension")

    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rider = models.ForeignKey(Rider, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=12, choices=Level.choices)
    reason = models.CharField(max_length=200)
    # False when the suspension could only be recorded (no suspension service for merchants yet).
    enforced = models.BooleanField(default=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "aftersales_actor_warning"
        verbose_name = _("warning")
        verbose_name_plural = _("warnings and suspensions")
        constraints = [
            models.CheckConstraint(condition=Q(merchant__isnull=False) ^ Q(rider__isnull=False),
                                   name="warning_one_subject"),
        ]


class BadActor(Merchant):
    """The operator's bad-actors view (admin): merchants with their after-sales and complaint counts."""

    class Meta:
        proxy = True
        verbose_name = _("merchant record")
        verbose_name_plural = _("bad actors: merchants")


class BadRider(Rider):
    """The same view for riders."""

    class Meta:
        proxy = True
        verbose_name = _("rider record")
        verbose_name_plural = _("bad actors: riders")
