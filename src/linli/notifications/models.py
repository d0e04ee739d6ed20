"""In-app messages (the inbox), each user's notification preferences, and the delivery of a
message to the outside channels (SMS, push) with the log of every attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField


class Category:
    """What a message is about; preferences are chosen per category and channel."""

    ORDER = "order"
    PROMOTION = "promotion"
    SYSTEM = "system"
    CHOICES = [(ORDER, _("Order updates")), (PROMOTION, _("Promotions")), (SYSTEM, _("System notices"))]
    VALUES = (ORDER, PROMOTION, SYSTEM)


class Message(models.Model):
    """One message to one user. `marketing` messages count against the frequency caps and
    are not sent to users who opted out; service messages (an order's news) always go.
    `dedupe_key` (e.g. `order:ord_…:accepted`) makes one event notify a user at most once:
    the database refuses a second row with the same key."""

    public_id = PublicIdField(prefix="msg")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=32)  # campaign, lottery, order, order_accepted...
    category = models.CharField(max_length=12, choices=Category.CHOICES, default=Category.ORDER)
    title = models.CharField(max_length=60)
    body = models.CharField(max_length=300, blank=True)
    link = models.CharField(max_length=200, blank=True)  # a path on our site: /lotteries/lot_…
    marketing = models.BooleanField(default=False)
    urgent = models.BooleanField(default=False)  # SMS/push go out even in quiet hours
    campaign_ref = models.CharField(max_length=40, blank=True)  # the campaign's public id, if any
    dedupe_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"]),
                   models.Index(fields=["user", "marketing", "created_at"], name="notif_marketing_cap")]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""),
                                               name="notif_dedupe_once")]

    def __str__(self) -> str:
        return f"{self.title} ({self.public_id})"


class NotificationPreference(models.Model):
    """A user's choices; no row = the defaults below. The inbox always receives order and
    system messages; promotions reach it unless `marketing_opt_out`. SMS and push are chosen
    per category. Quiet hours (local time in the platform city, LINLI_DEFAULT_CITY_TZ) hold
    non-urgent SMS and push until they end; `language` is the language messages are written
    in ("" = settings.LANGUAGE_CODE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    marketing_opt_out = models.BooleanField(_("no marketing messages"), default=False)
    order_sms = models.BooleanField(_("order updates by SMS"), default=False)
    order_push = models.BooleanField(_("order updates by push"), default=True)
    promotion_sms = models.BooleanField(_("promotions by SMS"), default=False)
    promotion_push = models.BooleanField(_("promotions by push"), default=True)
    system_sms = models.BooleanField(_("system notices by SMS"), default=False)
    system_push = models.BooleanField(_("system notices by push"), default=True)
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def wants(self, category: str, channel: str) -> bool:
        """Whether this category goes out on this outside channel (`sms`, `push`)."""
        return bool(getattr(self, f"{category}_{channel}", False))


class ChannelDelivery(models.Model):
    """The delivery of one message on one outside channel (SMS or push): its state, when it
    may go (quiet hours, retry back-off) and how many attempts it took. Each attempt is a
    `DeliveryAttempt` row."""

    class Status:
        PENDING = "pending"
        DEFERRED = "deferred"  # quiet hours: waits for deliver_after
        SENDING = "sending"
        RETRYING = "retrying"  # failed, tried again at deliver_after
        SENT = "sent"
        FAILED = "failed"  # gave up after LINLI_NOTIFICATION_MAX_ATTEMPTS
        RATE_LIMITED = "rate_limited"
        SKIPPED = "skipped"  # no phone, read in the app meanwhile, channel gone
        CHOICES = [(s, s) for s in (PENDING, DEFERRED, SENDING, RETRYING, SENT, FAILED, RATE_LIMITED, SKIPPED)]

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16)  # sms, push
    status = models.CharField(max_length=16, choices=Status.CHOICES, default=Status.PENDING)
    deliver_after = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "channel"], name="notif_one_delivery_per_channel")]
        indexes = [models.Index(fields=["status", "deliver_after"], name="notif_delivery_due")]


class DeliveryAttempt(models.Model):
    """The delivery log: one row per attempt to hand a message to a provider."""

    delivery = models.ForeignKey(ChannelDelivery, on_delete=models.CASCADE, related_name="log")
    provider = models.CharField(max_length=80)
    status = models.CharField(max_length=16)  # sent, failed, rate_limited, skipped
    error = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
