"""Reads about merchants and stores."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import NotFound, PermissionDenied

from .hours import is_open_at
from .models import MenuCategory, MerchantMember, Product, Store


class StoreNotFound(NotFound):
    code = "store_not_found"
    message = _("The store does not exist.")


def store_get(*, public_id: str) -> Store:
    store = (
        Store.objects.select_related("category", "merchant")
        .filter(public_id=public_id)
        .exclude(status=Store.Status.CLOSED)
        .first()
    )
    if store is None:
        raise StoreNotFound(store_id=public_id)
    return store


def store_is_open(*, store: Store, at: datetime | None = None) -> bool:
    if store.status != Store.Status.OPEN:
        return False
    local = (at or timezone.now()).astimezone(ZoneInfo(store.timezone))
    return is_open_at(store.opening_hours, local)


def store_menu(*, store: Store) -> list[MenuCategory]:
    """Menu categories with their available products and stock, in display order."""
    products = Product.objects.filter(is_available=True).select_related("stock")
    return list(
        MenuCategory.objects.filter(store=store).prefetch_related(
            Prefetch("products", queryset=products)
        )
    )


def merchant_role_for_store(*, user: User, store: Store) -> str:
    """'owner' or 'staff' if the user works for the store's merchant; else PermissionDenied."""
    role = (
        MerchantMember.objects.filter(user=user, merchant_id=store.merchant_id)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise PermissionDenied()
    return role


def stores_for_member(*, user: User) -> QuerySet[Store]:
    return Store.objects.filter(merchant__members__user=user)
