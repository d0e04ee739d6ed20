"""Reads about orders, with exactly the joins their callers show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from linli.accounts.models import PlatformRole, User
from linli.merchants.selectors import stores_for_member

from .errors import OrderNotFound
from .models import Order, OrderEvent
from .states import S

if TYPE_CHECKING:
    from .services import OrderPlaced


def _with_details(qs: QuerySet[Order]) -> QuerySet[Order]:
    return qs.select_related("store", "delivery__rider", "table", "tab").prefetch_related("events")


def order_get_visible(*, actor: User, order_id: str) -> Order:
    """The order if the actor is its consumer, works for its store, carries it, or operates."""
    qs = _with_details(Order.objects.filter(public_id=order_id))
    if actor.platform_role not in (PlatformRole.OPERATOR, PlatformRole.SUPPORT):
        qs = qs.filter(
            Q(consumer=actor)
            | Q(store__in=stores_for_member(user=actor))
            | Q(delivery__rider__user=actor)
        )
    order = qs.distinct().first()
    if order is None:
        raise OrderNotFound(order_id=order_id)
    return order


def order_list_for_consumer(*, consumer: User, limit: int = 20, before: str | None = None) -> list[Order]:
    qs = _with_details(Order.objects.filter(consumer=consumer))
    if before:
        qs = qs.filter(public_id__lt=before)  # public ids sort by creation time
    return list(qs.order_by("-public_id")[:limit])


def order_queue_for_merchant(*, user: User, status: str | None = None, limit: int = 50) -> list[Order]:
    """The merchant's live queue: oldest first, so the next order to act on is on top."""
    qs = _with_details(Order.objects.filter(store__in=stores_for_member(user=user)))
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status__in=[Order.Status.COMPLETED, Order.Status.CANCELLED,
                                    Order.Status.PENDING_PAYMENT, *S.CANCELLED_ALL])
    return list(qs.order_by("created_at")[:limit])


def order_placed_view(*, actor: User, placed: OrderPlaced) -> Order:
    """The order to answer `POST /orders` with. A new order is answered as written: what
    `_with_details` would read is already known (its store, table and tab are on it, it has
    no delivery task yet, its only event is `placed.events`), so no query. A retry's first
    order is read as `order_get_visible` reads it."""
    if not placed.created:
        return order_get_visible(actor=actor, order_id=placed.order.public_id)
    order = placed.order
    Order._meta.get_field("delivery").set_cached_value(order, None)  # type: ignore[union-attr]
    events = order.events.get_queryset()
    events._result_cache = list(placed.events)
    events._prefetch_done = True
    order._prefetched_objects_cache = {  # type: ignore[attr-defined]
        OrderEvent._meta.get_field("order").remote_field.cache_name: events}
    return order
