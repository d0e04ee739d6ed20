"""Payments and refunds on our side, plus the sandbox gateway's own books.

`SandboxTrade` stands for the payment company's system: our code only reaches it
through `gateways.sandbox`, exactly as it would reach Alipay or WeChat Pay.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linli.core.fields import PublicIdField
from linli.orders.models import Order, OrderItem


class Payment(models.Model):
    """One payment attempt through one path: a gateway trade, or the wallet.

    A combined payment (wallet first, the rest through a gateway) is two rows: the
    gateway payment and its `wallet_part`. The wallet part is held (its money moved to
    the hold account) while the gateway trade is open, captured when the gateway
    payment succeeds, released when it closes or fails. States (docs/payments.md):
    created -> pending -> succeeded -> partially_refunded -> refunded, or pending ->
    closed / failed. `refunded_fen` only grows, under the row lock, never above
    `amount_fen`."""

    class Status(models.TextChoices):
        CREATED = "created"
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CLOSED = "closed"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"

    PAID_STATES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)
    OPEN_STATES = (Status.CREATED, Status.PENDING)

    class Purpose(models.TextChoices):
        ORDER = "order"
        TOPUP = "topup"
        COUNTER = "counter"  # a sale at a store's counter (POS), paid by member code

    WALLET = "wallet"  # provider name of a wallet payment

    public_id = PublicIdField(prefix="pay")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="payments")
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.ORDER)
    # Counter payments: the sale they pay (the POS's own id, opaque here).
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    provider = models.CharField(max_length=16)
    channel = models.CharField(max_length=8, default="web")
    amount_fen = models.PositiveIntegerField()
    refunded_fen = models.PositiveIntegerField(default=0)
    # Wallet payments: how much of the amount came from the bonus (the rest is principal),
    # so a refund gives each back to where it came from.
    wallet_bonus_fen = models.PositiveIntegerField(default=0)
    wallet_part = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="gateway_part")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    provider_trade_no = models.CharField(max_length=64, blank=True)
    pay_url = models.TextField(blank=True)  # Alipay page-pay URLs run past 1,000 characters
    qr_code = models.TextField(blank=True)
    app_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_queried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_payment"
        indexes = [models.Index(fields=["order", "status"]),
                   models.Index(fields=["status", "created_at"], name="payment_status_age")]
        constraints = [models.CheckConstraint(condition=models.Q(refunded_fen__lte=models.F("amount_fen")),
                                              name="payment_refund_within_amount")]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_wallet(self) -> bool:
        return self.provider == self.WALLET

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.status in self.PAID_STATES else 0


class PaymentEvent(models.Model):
    """One row per state change of a payment or a refund: who, when, from, to."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    refund = models.ForeignKey("Refund", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
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
    """Money going back along one payment's path. A refund of an order paid by wallet and
    gateway is two rows with the same `batch`. The wallet part succeeds at once; a
    gateway part follows the gateway (notification or query)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Source(models.TextChoices):
        CANCEL = "cancel"  # consumer cancellation, merchant rejection, timeouts
        LATE = "late"  # paid after the order could no longer take it
        AFTERSALES = "aftersales"
        OPERATOR = "operator"
        WITHDRAWAL = "withdrawal"  # wallet principal going back to its top-up's path

    public_id = PublicIdField(prefix="rfd")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    batch = models.CharField(max_length=40, blank=True, db_index=True)
    amount_fen = models.PositiveIntegerField()
    bonus_fen = models.PositiveIntegerField(default=0)  # wallet refunds: part back to the bonus
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CANCEL)
    reason = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=16, default="system")
    provider_refund_no = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_queried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_refund"
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status_age")]
        constraints = [models.CheckConstraint(condition=models.Q(amount_fen__gt=0),
                                              name="refund_amount_positive")]

    def __str__(self) -> str:
        return self.public_id


class RefundItem(models.Model):
    """Which order lines (and how many units) a per-item refund gave back: a unit is
    refunded at most once."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    amount_fen = models.PositiveIntegerField()

    class Meta:
        db_table = "payments_refund_item"


class RefundRequestKey(models.Model):
    """Idempotency for refund requests: the key a client sent and the batch it made."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    batch = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_refund_request_key"
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="refund_key_once")]


class GatewayMessage(models.Model):
    """Every request we sent a gateway and its raw answer (open, query, close, refund,
    refund query, statement): the audit trail of our side of the conversation."""

    provider = models.CharField(max_length=16)
    kind = models.CharField(max_length=24)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="messages")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="messages")
    ok = models.BooleanField(default=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_gateway_message"
        ordering = ["id"]


class GatewayNotification(models.Model):
    """Every notification a gateway sent us, verified or not: the audit trail of callbacks."""

    provider = models.CharField(max_length=16)
    notify_id = models.CharField(max_length=64, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="notifications")
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


class SandboxRefund(models.Model):
    """The sandbox gateway's own refund books (what it would report in a refund query or
    its statement)."""

    class Status(models.TextChoices):
        PROCESSING = "PROCESSING"
        SUCCESS = "SUCCESS"
        FAILED = "FAILED"

    refund_no = models.CharField(max_length=40, unique=True)
    out_refund_no = models.CharField(max_length=64, unique=True)  # our refund's public id
    trade = models.ForeignKey(SandboxTrade, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_sandbox_refund"


# --- the ledger (issue 6): double-entry, immutable postings --------------------------------
# docs/payments.md "Ledger". Signed amounts: a debit is positive, a credit negative; the
# postings of one transaction sum to zero. An account's natural balance is the sum of its
# postings, negated for credit-normal accounts (wallets, clearing, the hold).


class LedgerAccount(models.Model):
    class Normal(models.TextChoices):
        DEBIT = "debit"  # assets and expenses: money at a gateway, subsidies paid
        CREDIT = "credit"  # liabilities and income: wallets, money owed for orders

    code = models.CharField(max_length=80, unique=True)  # "wallet:usr_x:cash", "gateway:alipay"
    normal = models.CharField(max_length=6, choices=Normal.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.PROTECT, related_name="ledger_accounts")
    # Accounts that may never go below zero (wallets, the hold) keep their balance here,
    # changed in the same transaction as their postings by a conditional UPDATE; it is a
    # cache of the postings' sum, checked by `ledger_verify` and the tests.
    non_negative = models.BooleanField(default=False)
    balance_fen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_ledger_account"
        constraints = [models.CheckConstraint(
            condition=models.Q(non_negative=False) | models.Q(balance_fen__gte=0),
            name="ledger_account_not_negative")]

    def __str__(self) -> str:
        return self.code


class LedgerTransaction(models.Model):
    """One business event's postings. `key` makes posting idempotent: the same event
    (e.g. `capture:pay_x`) is posted once however often it is reported."""

    public_id = PublicIdField(prefix="ltx")
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=24)
    memo = models.CharField(max_length=200, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="ledger_transactions")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="ledger_transactions")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(max_length=16, default="system")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "payments_ledger_transaction"

    def __str__(self) -> str:
        return self.public_id


class ImmutableError(Exception):
    pass


class Posting(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT,
                                    related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount_fen = models.BigIntegerField()  # debit > 0, credit < 0
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_posting"
        indexes = [models.Index(fields=["account", "id"], name="posting_account")]
        constraints = [models.CheckConstraint(condition=~models.Q(amount_fen=0),
                                              name="posting_not_zero")]

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ImmutableError("a posting is never changed: post a correction")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ImmutableError("a posting is never deleted: post a correction")


# --- the wallet (储值) -------------------------------------------------------------------


class TopupBonusRule(models.Model):
    """充100送10: top up at least `threshold_fen`, get `bonus_fen` (the highest rule the
    amount reaches; never stacked). Set by operators in the back office."""

    threshold_fen = models.PositiveIntegerField()
    bonus_fen = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_topup_bonus_rule"
        ordering = ["threshold_fen"]

    def __str__(self) -> str:
        return f"{self.threshold_fen / 100:.2f} +{self.bonus_fen / 100:.2f}"


class WalletTopup(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        CLOSED = "closed"

    public_id = PublicIdField(prefix="top")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="wallet_topups")
    amount_fen = models.PositiveIntegerField()
    bonus_fen = models.PositiveIntegerField(default=0)  # promised now, credited on success
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="topup")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payments_wallet_topup"


class WalletWithdrawal(models.Model):
    """Principal going back to the consumer along the paths of their top-ups (newest
    first); the bonus given with it is forfeited in proportion."""

    public_id = PublicIdField(prefix="wdr")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="wallet_withdrawals")
    amount_fen = models.PositiveIntegerField()
    bonus_forfeited_fen = models.PositiveIntegerField(default=0)
    batch = models.CharField(max_length=40)  # the refunds that carry it
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_wallet_withdrawal"
        constraints = [models.UniqueConstraint(fields=["user", "idempotency_key"],
                                               name="withdrawal_key_once")]


class ReconciliationRun(models.Model):
    """`linli reconcile`: a gateway's statement for one day against our records."""

    provider = models.CharField(max_length=16)
    day = models.DateField()
    matched = models.PositiveIntegerField(default=0)
    mismatches = models.JSONField(default=list)  # [{"kind", "ref", "ours_fen", "theirs_fen"}]
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payments_reconciliation_run"
        ordering = ["-id"]
