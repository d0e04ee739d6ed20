"""Reads of after-sales: what an order can still get back, a consumer's requests and their
timeline, a store's queue with SLA, the arbitration queue, complaints, and the per-merchant
and per-rider counts behind the operator's bad-actors view (docs/aftersales.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from linli.accounts.models import User
from linli.core.errors import PermissionDenied
from linli.delivery.models import Rider
from linli.merchants import roles
from linli.merchants.models import Merchant
from linli.merchants.selectors import merchant_role_for_store, role_require, stores_for_member
from linli.orders.models import Order, OrderItem
from linli.payments import money
from linli.payments.models import Payment, Refund, RefundItem

from . import errors
from .models import ActorWarning, AfterSalesRequest, Ticket
from .states import AS


@dataclass(frozen=True)
class Refundable:
    paid_fen: int
    refunded_fen: int
    cap_fen: int  # the most these items (or the whole order) can still get back

    @property
    def left_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


def order_refundable(*, order: Order, items: Sequence[tuple[int, int]] = ()) -> Refundable:
    """Paid minus refunded over the order's successful payments; for `items` ((line,
    quantity), line 1-based) the lines' share of what was paid for the goods (net of
    discounts, the same arithmetic the refund will use) minus units already refunded.
    InvalidItems for an unknown line or more units than are left."""
    payments = list(Payment.objects.filter(order=order, status__in=Payment.PAID_STATES)
                    .values_list("amount_fen", "refunded_fen"))
    paid = sum(p for p, _ in payments)
    refunded = sum(r for _, r in payments)
    left = max(paid - refunded, 0)
    if not items:
        return Refundable(paid, refunded, left)
    order_items = list(OrderItem.objects.filter(order=order).order_by("id").values_list("pk", "quantity",
                                                                                        "amount_fen"))
    refunded_qty = dict(RefundItem.objects.filter(order_item__order=order).exclude(
        refund__status=Refund.Status.FAILED).values("order_item_id").annotate(q=Sum("quantity"))
        .values_list("order_item_id", "q"))
    lines = [money.ItemLine(line=i + 1, quantity=qty, amount_fen=amount, refunded_quantity=refunded_qty.get(pk, 0))
             for i, (pk, qty, amount) in enumerate(order_items)]
    try:
        cap = money.item_refund_amount(lines=lines, picks=list(items), goods_fen=order.items_fen,
                                       paid_goods_fen=paid - order.delivery_fee_fen, total_fen=paid,
                                       refunded_fen=refunded)
    except ValueError as exc:
        raise errors.InvalidItems(detail=str(exc)) from exc
    return Refundable(paid, refunded, cap)


# --- requests --------------------------------------------------------------------------------------

def _with_related(qs: QuerySet[AfterSalesRequest]) -> QuerySet[AfterSalesRequest]:
    return qs.select_related("order", "store", "consumer").prefetch_related("photos")


def requests_of_consumer(*, user: User, limit: int = 50) -> list[AfterSalesRequest]:
    return list(_with_related(AfterSalesRequest.objects.filter(consumer=user)).order_by("-id")[:limit])


def request_for_consumer(*, user: User, request_id: str) -> AfterSalesRequest:
    """The consumer's own request with its events (404 for anyone else's)."""
    req = (_with_related(AfterSalesRequest.objects.filter(public_id=request_id, consumer=user))
           .prefetch_related("events").first() if "\x00" not in request_id else None)
    if req is None:
        raise errors.RequestNotFound(request_id=request_id)
    return req


def request_for_merchant(*, user: User, request_id: str) -> AfterSalesRequest:
    req = (_with_related(AfterSalesRequest.objects.filter(public_id=request_id)).prefetch_related("events")
           .first() if "\x00" not in request_id else None)
    if req is None:
        raise errors.RequestNotFound(request_id=request_id)
    try:
        role = merchant_role_for_store(user=user, store=req.store)
    except PermissionDenied:
        raise errors.RequestNotFound(request_id=request_id) from None
    role_require(role=role, permission=roles.ORDERS_ACT)
    return req


def merchant_queue(*, user: User, store_id: str | None = None, open_only: bool = True,
                   limit: int = 100) -> list[AfterSalesRequest]:
    """Requests on the stores the user works for, the ones waiting for the store first,
    soonest SLA first."""
    qs = AfterSalesRequest.objects.filter(store__in=stores_for_member(user=user))
    if store_id:
        qs = qs.filter(store__public_id=store_id)
    if open_only:
        qs = qs.filter(status__in=(AS.SUBMITTED, AS.AGREED, AS.RETURNING))
    return list(_with_related(qs).order_by("merchant_due_at", "id")[:limit])


def arbitration_queue() -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.filter(status=AS.ESCALATED).order_by("escalated_at")


def tickets_of_reporter(*, user: User, limit: int = 50) -> list[Ticket]:
    return list(Ticket.objects.filter(reporter=user).select_related("store", "rider", "order")
                .order_by("-id")[:limit])


def ticket_for_reporter(*, user: User, ticket_id: str) -> Ticket:
    ticket = (Ticket.objects.filter(public_id=ticket_id, reporter=user).first()
              if "\x00" not in ticket_id else None)
    if ticket is None:
        raise errors.TicketNotFound(ticket_id=ticket_id)
    return ticket


# --- bad actors ------------------------------------------------------------------------------------

def _count(qs: QuerySet[Any], group: str) -> Coalesce:
    """A correlated COUNT of `qs` rows grouped by `group` (which the caller tied to OuterRef)."""
    return Coalesce(Subquery(qs.values(group).annotate(n=Count("id", distinct=True)).values("n")[:1]), 0)


def merchants_with_stats() -> QuerySet[Merchant]:
    """Every merchant with its after-sales requests, rejections by its stores, rejections the
    platform overturned (arbitrated with a refund), complaints, and warnings so far; the
    worst first. Correlated subqueries: sortable in the back office, no N+1."""
    requests = AfterSalesRequest.objects.filter(store__merchant_id=OuterRef("pk"))
    return Merchant.objects.annotate(
        aftersales_count=_count(requests, "store__merchant_id"),
        rejected_count=_count(requests.filter(events__action="reject"), "store__merchant_id"),
        overturned_count=_count(requests.filter(events__action="arbitrate"), "store__merchant_id"),
        complaint_count=_count(Ticket.objects.filter(merchant_id=OuterRef("pk"), subject_kind="merchant"),
                               "merchant_id"),
        warning_count=_count(ActorWarning.objects.filter(merchant_id=OuterRef("pk")), "merchant_id"),
    ).order_by("-overturned_count", "-complaint_count", "-rejected_count", "id")


def riders_with_stats() -> QuerySet[Rider]:
    """Every rider with complaints about them, after-sales requests on orders they delivered,
    and warnings so far; the worst first."""
    requests = AfterSalesRequest.objects.filter(order__delivery__rider_id=OuterRef("pk"))
    return Rider.objects.annotate(
        aftersales_count=_count(requests, "order__delivery__rider_id"),
        complaint_count=_count(Ticket.objects.filter(rider_id=OuterRef("pk"), subject_kind="rider"), "rider_id"),
        warning_count=_count(ActorWarning.objects.filter(rider_id=OuterRef("pk")), "rider_id"),
    ).order_by("-complaint_count", "-aftersales_count", "id")
