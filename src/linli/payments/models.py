"""Payments and refunds on our side, plus the sandbox gateway's own books.

`SandboxTrade` stands for the payment company's system: our code only reaches it
through `gateways.sandbox`, exactly as it would reach Alipay or WeChat Pay.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.core.fields import PublicIdField
from linli.orders.models import Order


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CLOSED = "closed"

    public_id = PublicIdField(prefix="pay")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16)
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_trade_no = models.CharField(max_length=64, blank=True)
    pay_url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_payment"
        indexes = [models.Index(fields=["order", "status"])]


class PaymentEvent(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_payment_event"
        ordering = ["id"]


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    public_id = PublicIdField(prefix="rfd")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_refund"


class GatewayNotification(models.Model):
    """Every notification a gateway sent us, verified or not: the audit trail of callbacks."""

    provider = models.CharField(max_length=16)
    notify_id = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=32)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_gateway_notification"
        indexes = [models.Index(fields=["provider", "notify_id"])]


class SandboxTrade(models.Model):
    class Status(models.TextChoices):
        WAIT_PAY = "WAIT_PAY"
        SUCCESS = "SUCCESS"
        CLOSED = "CLOSED"

    trade_no = models.CharField(max_length=40, unique=True)
    out_trade_no = models.CharField(max_length=64, unique=True)  # our payment's public id
    subject = models.CharField(max_length=128)
    amount_fen = models.PositiveIntegerField()
    refunded_fen = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAIT_PAY)
    notify_url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_sandbox_trade"
