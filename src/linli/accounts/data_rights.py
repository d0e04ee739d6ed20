"""A consumer's data rights (personal information protection): a copy of everything we
hold about them, and deleting the account.

Deleting anonymises instead of removing rows: orders, payments, refunds, ledger postings
and invoices stay (finance must keep them, and they reference the user with PROTECT), but
they no longer lead to a person: the phone, the name and the address book are erased,
the orders' delivery address snapshots lose the name, phone and address line (the city and
coordinates rounded to about a kilometre stay, for finance and analytics), login is
disabled and every token revoked, and reviews show "Anonymous".

The export reads other apps' tables read-only; the deletion writes accounts' own tables
(the user row, the address book, SMS codes), the orders' address snapshots and delivery
drop-off points, and the audit log.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit
from linli.core.errors import Conflict, InvalidInput

from .models import Address, SmsCode, User

CONFIRM_WORD = "DELETE"
# Never part of an export: secrets, keys for our own bookkeeping, other people's data.
HIDDEN_FIELDS = {"id", "password", "secret", "code_hash", "idempotency_key", "request_hash", "dedupe_key",
                 "token_version", "key", "raw", "pickup_code_hash", "phone_hash"}
# What an order's address snapshot keeps after the account is deleted: about a kilometre.
REDACTED_COORDINATE_DECIMALS = 2
FINAL_ORDER_STATES = ("completed", "cancelled", "refunded")


class DeleteConfirmRequired(InvalidInput):
    code = "delete_confirm_required"
    message = _("Type DELETE to confirm that the account should be deleted.")


class OrdersInProgress(Conflict):
    code = "orders_in_progress"
    message = _("You still have orders in progress; wait until they are finished.")


class WalletNotEmpty(Conflict):
    code = "wallet_not_empty"
    message = _("Your wallet still holds money; withdraw it before deleting the account.")


class AfterSalesOpen(Conflict):
    code = "aftersales_open"
    message = _("You have an after-sales request that is still open.")


# --- the export ----------------------------------------------------------------------------------

def _row(obj: models.Model) -> dict[str, Any]:
    """The plain fields of a row; relations as the related row's public id when it has one."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in HIDDEN_FIELDS:
            continue
        if field.is_relation:
            related = getattr(obj, field.name, None)
            if related is not None and not isinstance(related, User) and getattr(related, "public_id", None):
                out[field.name] = related.public_id
            continue
        out[field.name] = getattr(obj, field.attname)
    return out


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return [_row(obj) for obj in queryset]


def data_export(*, user: User) -> dict[str, Any]:
    """Everything we hold about `user` as one JSON-ready document (theirs only), audited."""
    from linli.aftersales.models import AfterSalesRequest
    from linli.bookings.models import Booking
    from linli.bookings.tables.models import QueueTicket, Reservation
    from linli.marketing.models import Coupon
    from linli.marketing.voucher_models import Voucher, VoucherPurchase
    from linli.notifications.models import Message
    from linli.orders.models import Order
    from linli.payments.models import Payment, Refund, WalletWithdrawal
    from linli.payments.services import wallet_balance, wallet_entries
    from linli.pos.models import PointsAccount, PointsTransaction
    from linli.reviews.models import Favourite, Review

    orders = []
    for order in (Order.objects.filter(consumer=user).select_related("store").prefetch_related("items")
                  .order_by("-id")):
        row = _row(order)
        row["store_name"] = order.store.name
        row["items"] = [_row(item) for item in order.items.all()]
        orders.append(row)
    payments = Payment.objects.filter(Q(payer=user) | Q(order__consumer=user)).distinct().order_by("-id")
    balance = wallet_balance(user)
    points = PointsAccount.objects.filter(member=user).first()
    document = {
        "exported_at": timezone.now(),
        "profile": {"id": user.public_id, "phone": user.phone, "display_name": user.display_name,
                    "date_joined": user.date_joined, "last_login": user.last_login},
        "addresses": _rows(Address.objects.filter(user=user)),
        "orders": orders,
        "payments": _rows(payments.select_related("order")),
        "refunds": _rows(Refund.objects.filter(payment__in=payments).select_related("payment").order_by("-id")),
        "wallet": {"cash_fen": balance.cash_fen, "bonus_fen": balance.bonus_fen,
                   "entries": wallet_entries(user=user, limit=100_000),
                   "withdrawals": _rows(WalletWithdrawal.objects.filter(user=user).order_by("-id"))},
        "points": {"balance": int(points.balance) if points else 0,
                   "transactions": _rows(PointsTransaction.objects.filter(member=user).order_by("-id"))},
        "coupons": _rows(Coupon.objects.filter(user=user).select_related("template").order_by("-id")),
        "vouchers": _rows(Voucher.objects.filter(owner=user).order_by("-id")),
        "voucher_purchases": _rows(VoucherPurchase.objects.filter(consumer=user).order_by("-id")),
        "reviews": _rows(Review.objects.filter(author=user).select_related("store", "order").order_by("-id")),
        "favourites": _rows(Favourite.objects.filter(user=user).select_related("store", "product")),
        "messages": _rows(Message.objects.filter(user=user).order_by("-id")),
        "bookings": _rows(Booking.objects.filter(consumer=user).order_by("-id")),
        "reservations": _rows(Reservation.objects.filter(consumer=user).order_by("-id")),
        "queue_tickets": _rows(QueueTicket.objects.filter(consumer=user).order_by("-id")),
        "aftersales_requests": _rows(AfterSalesRequest.objects.filter(consumer=user).order_by("-id")),
    }
    audit(user, "data.export", "user", user.public_id, role="consumer",
          sections=sorted(k for k in document if k not in ("exported_at", "profile")))
    return document


# --- deleting the account ------------------------------------------------------------------------

def account_delete_blockers(*, user: User) -> list[DeleteBlocker]:
    """Why the account cannot be deleted now (empty: it can)."""
    from linli.aftersales.models import AfterSalesRequest
    from linli.aftersales.states import AS
    from linli.orders.models import Order
    from linli.payments.services import wallet_balance

    blockers: list[DeleteBlocker] = []
    in_progress = list(Order.objects.filter(consumer=user).exclude(status__in=FINAL_ORDER_STATES)
                       .values_list("public_id", flat=True)[:20])
    if in_progress:
        blockers.append(OrdersInProgress(order_ids=in_progress))
    cash_fen = wallet_balance(user).cash_fen
    if cash_fen > 0:
        blockers.append(WalletNotEmpty(cash_fen=cash_fen))
    open_requests = list(AfterSalesRequest.objects.filter(consumer=user, status__in=AS.ACTIVE)
                         .values_list("public_id", flat=True)[:20])
    if open_requests:
        blockers.append(AfterSalesOpen(request_ids=open_requests))
    return blockers


DeleteBlocker = OrdersInProgress | WalletNotEmpty | AfterSalesOpen


def _address_redacted(address: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"text": "", "contact_name": "", "contact_phone": "", "redacted": True}
    for name in ("lat", "lng"):
        if isinstance(address.get(name), int | float):
            kept[name] = round(float(address[name]), REDACTED_COORDINATE_DECIMALS)
    if address.get("city_code"):
        kept["city_code"] = address["city_code"]
    return kept


def _order_addresses_redact(user: User) -> None:
    """The delivery snapshots of the user's (finished) orders no longer name or locate them."""
    from linli.delivery.models import DeliveryTask
    from linli.orders.models import Order

    orders = list(Order.objects.filter(consumer=user, address__isnull=False).only("pk", "address"))
    for order in orders:
        order.address = _address_redacted(order.address or {})
    Order.objects.bulk_update(orders, ["address"], batch_size=500)
    tasks = list(DeliveryTask.objects.filter(order__consumer=user).only("pk", "dropoff_lat", "dropoff_lng"))
    for task in tasks:
        task.dropoff_lat = round(task.dropoff_lat, REDACTED_COORDINATE_DECIMALS)
        task.dropoff_lng = round(task.dropoff_lng, REDACTED_COORDINATE_DECIMALS)
    DeliveryTask.objects.bulk_update(tasks, ["dropoff_lat", "dropoff_lng"], batch_size=500)


def account_delete(*, user: User, confirm: str) -> User:
    """Anonymise the account (see the module docstring); refused (409) while orders are in
    progress, the wallet holds withdrawable money or an after-sales request is open."""
    if confirm != CONFIRM_WORD:
        raise DeleteConfirmRequired(field="confirm")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        blockers = account_delete_blockers(user=user)
        if blockers:
            raise blockers[0]
        audit(user, "account.delete", "user", user.public_id, role="consumer",
              addresses=Address.objects.filter(user=user).count())
        if user.phone_hash:
            SmsCode.objects.filter(phone_hash=user.phone_hash).delete()
        Address.objects.filter(user=user).delete()
        _order_addresses_redact(user)
        user.phone = None
        user.display_name = ""
        user.username = f"deleted_{user.public_id}"
        user.set_unusable_password()
        user.is_active = False
        user.token_version += 1
        user.save(update_fields=["phone", "display_name", "username", "password", "is_active", "token_version"])
    return user
