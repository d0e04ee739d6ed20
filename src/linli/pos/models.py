"""The counter (POS): devices, barcodes and member prices, sales and returns, offline
uploads and their conflicts; and the points ledger (docs/pos.md).

`store` is on every row (the distribution key, like the rest of the store's data).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.phone import phone_for_lookup
from linli.core.fields import EncryptedTextField, LookupHashField, PublicIdField
from linli.merchants.models import Product, Store


class Counter(models.Model):
    """A till: the merchant console's counter page or a third-party POS device."""

    public_id = PublicIdField(prefix="ctr")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="counters")
    name = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_counter"


class ProductBarcode(models.Model):
    """An EAN-13 barcode of a product, unique within its store."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcodes")
    code = models.CharField(max_length=13)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_product_barcode"
        constraints = [models.UniqueConstraint(fields=["store", "code"], name="pos_barcode_per_store")]


class MemberPrice(models.Model):
    """会员价: what an identified member pays for the product at the counter."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="member_price")
    price_fen = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "pos_member_price"


class Sale(models.Model):
    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        WALLET = "wallet", _("wallet")
        GATEWAY_QR = "gateway_qr", _("gateway QR")

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("awaiting payment")  # gateway QR shown, stock held
        COMPLETED = "completed", _("completed")
        PARTIALLY_RETURNED = "partially_returned", _("partially returned")
        RETURNED = "returned", _("returned")
        VOIDED = "voided", _("voided")  # the QR was closed or expired unpaid: stock released

    public_id = PublicIdField(prefix="sal")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    counter = models.ForeignKey(Counter, null=True, blank=True, on_delete=models.PROTECT, related_name="sales")
    client_sale_id = models.CharField(max_length=64)  # made by the counter: the idempotency key
    request_hash = models.CharField(max_length=64)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="counter_sales")
    member_code_use = models.CharField(max_length=40, blank=True)  # accounts.MemberCodeUse public id
    items_fen = models.PositiveIntegerField()  # at list prices
    member_discount_fen = models.PositiveIntegerField(default=0)
    total_fen = models.PositiveIntegerField()  # what the goods cost: items - member discount
    points_redeemed = models.PositiveIntegerField(default=0)
    points_value_fen = models.PositiveIntegerField(default=0)
    paid_fen = models.PositiveIntegerField()  # money: total - points value
    points_earned = models.PositiveIntegerField(default=0)
    payment_method = models.CharField(max_length=12, choices=Method.choices)
    payment_id = models.CharField(max_length=40, blank=True)  # payments.Payment public id (wallet, QR)
    refunded_fen = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMPLETED)
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    offline = models.BooleanField(default=False)
    client_created_at = models.DateTimeField(null=True, blank=True)  # the counter's clock
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)  # server time
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "pos_sale"
        constraints = [
            models.UniqueConstraint(fields=["store", "client_sale_id"], name="pos_sale_client_id"),
            # one scan of a member code pays for one sale
            models.UniqueConstraint(fields=["member_code_use"], condition=~models.Q(member_code_use=""),
                                    name="pos_sale_one_per_member_code"),
            models.CheckConstraint(condition=models.Q(refunded_fen__lte=models.F("paid_fen")),
                                   name="pos_sale_refund_le_paid"),
        ]
        indexes = [models.Index(fields=["store", "created_at"], name="pos_sale_store_time")]


class SaleEvent(models.Model):
    """A sale's state change (gateway QR paid or voided; a conflict resolved on it): who,
    when, from, to."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_role = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_sale_event"
        ordering = ["id"]


class SaleLine(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()  # 1-based, as on the receipt
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    barcode = models.CharField(max_length=13, blank=True)
    name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField()
    unit_price_fen = models.PositiveIntegerField()  # list price
    member_price_fen = models.PositiveIntegerField(null=True, blank=True)
    charged_unit_fen = models.PositiveIntegerField()  # what each unit was sold for
    amount_fen = models.PositiveIntegerField()
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "pos_sale_line"
        ordering = ["position"]
        constraints = [models.CheckConstraint(condition=models.Q(returned_quantity__lte=models.F("quantity")),
                                              name="pos_line_return_le_bought")]


class SaleReturn(models.Model):
    public_id = PublicIdField(prefix="ret")
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    client_return_id = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    goods_fen = models.PositiveIntegerField()  # the returned units' share of the sale total
    refund_fen = models.PositiveIntegerField()  # money back (cash or wallet)
    points_back = models.PositiveIntegerField(default=0)  # redeemed points given back
    points_reversed = models.PositiveIntegerField(default=0)  # earned points taken back
    refund_id = models.CharField(max_length=40, blank=True)  # payments.Refund public id (wallet)
    reason = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_sale_return"
        constraints = [models.UniqueConstraint(fields=["sale", "client_return_id"], name="pos_return_client_id")]


class SaleReturnLine(models.Model):
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        db_table = "pos_sale_return_line"


class SyncBatch(models.Model):
    """One offline upload and what became of each sale in it."""

    public_id = PublicIdField(prefix="syb")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="batches")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted = models.PositiveIntegerField(default=0)
    duplicate = models.PositiveIntegerField(default=0)
    conflict = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_sync_batch"


class SyncConflict(models.Model):
    """Something an offline sale ran into, for the merchant to resolve. Never deleted;
    resolving records who and when."""

    class Kind(models.TextChoices):
        STOCK_SHORT = "stock_short", _("sold more than the stock showed")
        MEMBER_CODE_EXPIRED = "member_code_expired", _("member code expired")
        MEMBER_CODE_USED = "member_code_used", _("member code already used")
        MEMBER_CODE_INVALID = "member_code_invalid", _("member code not valid")
        PRICE_DIFFERS = "price_differs", _("price differs from the catalogue")
        SALE_ID_REUSED = "sale_id_reused", _("sale id reused with another body")
        REJECTED = "rejected", _("sale refused")

    class Resolution(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ACCEPTED_SERVER_PRICE = "accepted_server_price", _("accepted at the server's price")
        VOIDED = "voided", _("voided")

    public_id = PublicIdField(prefix="scf")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(SyncBatch, on_delete=models.PROTECT, related_name="conflicts")
    sale = models.ForeignKey(Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="conflicts")
    client_sale_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    reason = models.CharField(max_length=40)  # machine code: total_mismatch, stock_short, ...
    details = models.JSONField(default=dict)  # rejected: includes the sale body as sent
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    resolution = models.CharField(max_length=24, choices=Resolution.choices, blank=True)
    resolution_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_sync_conflict"
        indexes = [models.Index(fields=["store", "resolved_at", "created_at"], name="pos_conflict_open")]


# --- points: a double-entry ledger of its own (points are not money) ----------------------

class PointsAccount(models.Model):
    """`points:<usr>` (a member's balance, credit-normal, never negative) or a platform
    account: `points:issuance` (debit-normal: points handed out), `points:redeemed`,
    `points:expired` (credit-normal: where points went)."""

    code = models.CharField(max_length=60, unique=True)
    member = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="points_account")
    debit_normal = models.BooleanField(default=False)
    non_negative = models.BooleanField(default=False)
    balance = models.BigIntegerField(default=0)  # natural balance, kept for non-negative accounts
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_points_account"
        constraints = [models.CheckConstraint(
            condition=models.Q(non_negative=False) | models.Q(balance__gte=0),
            name="points_account_not_negative")]


class PointsTransaction(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("earned")
        REVERSE = "reverse", _("taken back after a refund")
        REDEEM = "redeem", _("redeemed")
        REDEEM_BACK = "redeem_back", _("given back after a return")
        EXPIRE = "expire", _("expired")
        GRANT = "grant", _("granted as a prize or reward")
        SPEND = "spend", _("spent on a coupon")

    public_id = PublicIdField(prefix="ptx")
    key = models.CharField(max_length=120, unique=True)  # `earn:ord_x`, `redeem:sal_y`...
    kind = models.CharField(max_length=12, choices=Kind.choices)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    points = models.IntegerField()  # the member's change (+ earned, - spent)
    reference = models.CharField(max_length=40, blank=True)  # ord_/sal_/ret_ public id
    basis_fen = models.IntegerField(default=0)  # earn: money paid it was earned on
    tier = models.CharField(max_length=12, blank=True)  # earn: the tier at the time
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "pos_points_transaction"
        indexes = [models.Index(fields=["member", "created_at"], name="points_txn_member")]


class ImmutablePosting(Exception):
    pass


class PointsPosting(models.Model):
    transaction = models.ForeignKey(PointsTransaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="postings")
    points = models.BigIntegerField()  # debit > 0, credit < 0

    class Meta:
        db_table = "pos_points_posting"
        constraints = [models.CheckConstraint(condition=~models.Q(points=0), name="points_posting_not_zero")]

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ImmutablePosting("a posting is never changed: post a correction")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ImmutablePosting("a posting is never deleted: post a correction")


class PointsLot(models.Model):
    """Points earned together, expiring together. Spending and expiry take the oldest
    lots first; the member's balance is always the sum of `remaining`."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    earned_by = models.OneToOneField(PointsTransaction, on_delete=models.PROTECT, related_name="lot")
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "pos_points_lot"
        indexes = [models.Index(fields=["member", "expires_at"], name="points_lot_member"),
                   models.Index(fields=["expires_at"], name="points_lot_expiry",
                                condition=models.Q(remaining__gt=0))]


class SpendRecord(models.Model):
    """Money a member spent (or got back), online or at the counter: the tier's basis."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=80, unique=True)
    amount_fen = models.IntegerField()
    at = models.DateTimeField()

    class Meta:
        db_table = "pos_spend_record"
        indexes = [models.Index(fields=["member", "at"], name="spend_member_at")]


class PhoneSale(models.Model):
    """A counter sale recorded against a phone number instead of a member code (the person
    had not registered, or could not show the code). No points until the phone's owner
    proves it by an SMS login: then `phone_sales.phone_sales_attach` gives the sale a
    member and its points (docs/pos.md "Sales by phone number")."""

    sale = models.OneToOneField(Sale, on_delete=models.PROTECT, related_name="phone_claim")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    phone = EncryptedTextField(hash_field="phone_hash", hash_normalise=phone_for_lookup)  # E.164, encrypted
    phone_hash = LookupHashField(source="phone", default="")  # what `phone_sales_attach` looks up
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    attached_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    attached_at = models.DateTimeField(null=True, blank=True)
    points_earned = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "pos_phone_sale"
        indexes = [models.Index(fields=["phone_hash"], condition=models.Q(attached_at__isnull=True),
                                name="pos_phone_sale_pending")]
