"""In-app messages (the inbox) and each user's notification preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.fields import PublicIdField


class Message(models.Model):
    """One message to one user. `marketing` messages count against the frequency caps and
    are not sent to users who opted out; service messages (an order's news) always go."""

    public_id = PublicIdField(prefix="msg")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=32)  # campaign, lottery, order...
    title = models.CharField(max_length=60)
    body = models.CharField(max_length=300, blank=True)
    link = models.CharField(max_length=200, blank=True)  # a path on our site: /lotteries/lot_…
    marketing = models.BooleanField(default=False)
    campaign_ref = models.CharField(max_length=40, blank=True)  # the campaign's public id, if any
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"]),
                   models.Index(fields=["user", "marketing", "created_at"], name="notif_marketing_cap")]

    def __str__(self) -> str:
        return f"{self.title} ({self.public_id})"


class NotificationPreference(models.Model):
    """A user's choices; no row = the defaults (marketing messages welcome)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    marketing_opt_out = models.BooleanField(_("no marketing messages"), default=False)
    updated_at = models.DateTimeField(auto_now=True)
