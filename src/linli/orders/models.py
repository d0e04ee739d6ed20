"""Orders, their lines, and the event history of every status change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from linli.core.fields import EncryptedJSONField, PublicIdField
from linli.merchants.models import Product, Store

from .states import S


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = S.PENDING_PAYMENT
        PAID = S.PAID
        ACCEPTED = S.ACCEPTED
        PREPARING = S.PREPARING
        READY = S.READY
        DELIVERING = S.DELIVERING
        DELIVERED = S.DELIVERED
        COMPLETED = S.COMPLETED
        CANCELLED = S.CANCELLED
        REFUNDING = S.REFUNDING
        REFUNDED = S.REFUNDED

    class Fulfilment(models.TextChoices):
        DELIVERY = "delivery"
        PICKUP = "pickup"
        DINE_IN = "dine_in"  # 扫码点餐: ordered from a table's QR code

    public_id = PublicIdField(prefix="ord")
    # No index of their own: order_consumer_list and order_store_queue lead with them.
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders", db_index=False)
    city_code = models.CharField(max_length=16)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    fulfilment = models.CharField(max_length=16, choices=Fulfilment.choices)
    items_fen = models.PositiveIntegerField()
    packaging_fee_fen = models.PositiveIntegerField(default=0)
    delivery_fee_fen = models.PositiveIntegerField(default=0)
    total_fen = models.PositiveIntegerField()
    price_lines = models.JSONField(default=list)  # the breakdown exactly as priced
    # Snapshot of where to deliver: {"text", "lat", "lng", "contact_name", "contact_phone"},
    # encrypted at rest (it names and locates a person); redacted when the account is deleted.
    address = EncryptedJSONField(null=True, blank=True)
    distance_m = models.PositiveIntegerField(null=True, blank=True)
    pickup_code = models.CharField(max_length=8, blank=True)
    note = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    pay_deadline = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # --- lifecycle (issue 5): see docs/orders.md -------------------------------------
    # Merchant must accept by this time (set when paid), else the timeout job rejects or
    # auto-accepts (StoreOrderSettings).
    accept_deadline = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # After accept the consumer may only ask to cancel; the merchant approves or declines.
    cancel_request = models.CharField(max_length=16, blank=True)  # "", pending, approved, declined
    cancel_request_reason = models.CharField(max_length=200, blank=True)
    cancel_request_at = models.DateTimeField(null=True, blank=True)
    cancel_decline_reason = models.CharField(max_length=200, blank=True)
    # Utensils: number of sets; 0 = no utensils (the eco choice); None = not said.
    utensils = models.PositiveSmallIntegerField(null=True, blank=True)
    # Invoice request (发票): empty title = no invoice wanted.
    invoice_title = models.CharField(max_length=100, blank=True)
    invoice_tax_no = models.CharField(max_length=20, blank=True)
    invoice_email = models.EmailField(max_length=254, blank=True)
    # --- fulfilment modes (issue 5): see docs/orders.md "Fulfilment modes" ----------------
    # Dine-in: the table it was ordered at, and the table's tab it is paid with.
    table = models.ForeignKey("orders.Table", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="orders", db_index=False)  # indexed where set (Meta)
    tab = models.ForeignKey("orders.TableTab", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="orders", db_index=False)
    # Scheduled (预约): the chosen slot (UTC); null = as soon as possible.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # Delivery: the time promised to the consumer at checkout (delivery.selectors.
    # delivery_promise: preparation, ride, slack and, at a peak, the wait for a rider),
    # moved on by the time the payment took; a scheduled order's slot. The rider's deadline.
    promised_at = models.DateTimeField(null=True, blank=True)
    # Chain re-routing (issue 8, orders/reroute.py): the consumer let the chain hand the
    # order to its next-best store if this one rejects it; the order placed there points back.
    reroute_allowed = models.BooleanField(default=False)
    rerouted_from = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="rerouted_to")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_order"
        constraints = [
            models.UniqueConstraint(fields=["consumer", "idempotency_key"], name="order_idem_key"),
        ]
        indexes = [
            models.Index(fields=["store", "status", "created_at"], name="order_store_queue"),
            models.Index(fields=["consumer", "created_at"], name="order_consumer_list"),
            # Every order is written to each index at checkout (issue 5): the timeouts' and
            # the dine-in links' indexes hold only the rows they are read for.
            models.Index(fields=["pay_deadline"], name="order_unpaid_due",
                         condition=Q(status="pending_payment")),
            models.Index(fields=["accept_deadline"], name="order_accept_due", condition=Q(status="paid")),
            models.Index(fields=["table"], name="order_table", condition=Q(table__isnull=False)),
            models.Index(fields=["tab"], name="order_tab", condition=Q(tab__isnull=False)),
            # analytics: a day's paid and placed orders are read by time range (aggregate_day)
            models.Index(fields=["paid_at"], name="order_paid_at"),
            models.Index(fields=["created_at"], name="order_created_at"),
        ]

    def __str__(self) -> str:
        return self.public_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)  # as it was when ordered
    unit_price_fen = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    amount_fen = models.PositiveIntegerField()
    # What was chosen, as it was when ordered (names and prices may change later):
    # variant {"ref", "name", "delta_fen", "group": ""}; options [{"ref", "name", "delta_fen", "group"}].
    # unit_price_fen above already includes their deltas.
    variant = models.JSONField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "orders_order_item"

    @property
    def choices_label(self) -> str:
        """"大份 / 加蛋, 少辣": the variant, then the options, for receipts and the queue."""
        parts = [self.variant["name"]] if self.variant else []
        if self.options:
            parts.append(", ".join(option["name"] for option in self.options))
        return " / ".join(parts)


class OrderEvent(models.Model):
    """One row per status change: who did what, when, from which state to which."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=16)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_order_event"
        ordering = ["id"]


class StoreOrderSettings(models.Model):
    """How a store takes orders, owned by the orders app: whether paid orders are accepted
    automatically, how long the merchant has to accept (None: the platform default,
    settings.LINLI_ACCEPT_TIMEOUT), and how long to answer a cancel request."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="order_settings")
    auto_accept = models.BooleanField(default=False)
    accept_timeout_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # A consumer's cancel request the store leaves unanswered this long is approved by the
    # system (orders_cancel_request_timeout); stores without a row get the same default.
    cancel_request_timeout_minutes = models.PositiveSmallIntegerField(default=10)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_store_settings"

    def __str__(self) -> str:
        return f"order settings of {self.store_id}"


# --- fulfilment modes (issue 5): tables and their tabs -------------------------------------

class Table(models.Model):
    """A table of a store with a QR code that opens the menu in dine-in mode (`/t/<id>`)."""

    public_id = PublicIdField(prefix="tbl")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="tables")
    label = models.CharField(max_length=20)  # "A12"
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders_table"
        ordering = ["label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "label"], name="table_label_per_store"),
        ]

    def __str__(self) -> str:
        return self.label


class TableTab(models.Model):
    """一桌多单: the orders placed at one table during one sitting, paid once at the end.
    At most one open tab per table; paying it moves every unpaid order on it to `paid`."""

    class Status(models.TextChoices):
        OPEN = "open"  # diners are adding orders
        PAYING = "paying"  # the bill was asked for: its payment is open, new orders open a new tab
        PAID = "paid"  # one payment settled every order on it
        CLOSED = "closed"  # ended unpaid (its time ran out; the unpaid-order job cancels its orders)

    public_id = PublicIdField(prefix="tab")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="table_tabs")
    table = models.ForeignKey(Table, on_delete=models.PROTECT, related_name="tabs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # The payment (payments.Payment public id) that pays the whole tab, once opened.
    payment_id = models.CharField(max_length=40, blank=True, db_index=True)
    amount_fen = models.PositiveIntegerField(default=0)  # what that payment is for
    opened_at = models.DateTimeField(auto_now_add=True)
    closes_at = models.DateTimeField()  # the tab's orders must be paid by then
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "orders_table_tab"
        constraints = [
            models.UniqueConstraint(fields=["table"], condition=models.Q(status="open"),
                                    name="one_open_tab_per_table"),
        ]

    def __str__(self) -> str:
        return self.public_id
