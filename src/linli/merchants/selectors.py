"""Reads about merchants and stores."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import NotFound, PermissionDenied

from . import roles
from .hours import every_day, is_open_at, open_in_zone
from .models import (
    MenuCategory,
    MerchantMember,
    Option,
    OptionGroup,
    Product,
    ProductVariant,
    Store,
)


class StoreNotFound(NotFound):
    code = "store_not_found"
    message = _("The store does not exist.")


def store_listed(*, public_id: str) -> QuerySet[Store]:
    """The store with this public id unless it is closed (delisted): what every public read
    of one store starts from."""
    return Store.objects.filter(public_id=public_id).exclude(status=Store.Status.CLOSED)


def store_get(*, public_id: str) -> Store:
    store = store_listed(public_id=public_id).select_related("category", "merchant").first()
    if store is None:
        raise StoreNotFound(store_id=public_id)
    return store


def store_public_get(*, public_id: str) -> Store:
    """`store_get` for the public store page, the busiest read after nearby: with its
    category but not its merchant, and without `first()`'s ORDER BY (a public id is unique):
    the query costs half as much to build."""
    found = list(store_listed(public_id=public_id).select_related("category")[:1])
    if not found:
        raise StoreNotFound(store_id=public_id)
    return found[0]


def store_is_open(*, store: Store, at: datetime | None = None) -> bool:
    """Open for orders now: status open and inside its hours in the store's time zone. A date
    in `special_hours` replaces that date's weekly periods; the previous evening's overnight
    period still runs into it (see merchants.hours.is_open_on)."""
    return store.status == Store.Status.OPEN and open_in_zone(
        store.opening_hours, store.special_hours, store.timezone, at or timezone.now())


def store_menu(*, store: Store, at: datetime | None = None) -> list[MenuCategory]:
    """The public menu: categories in display order that list at least one product, each
    product with stock, variants and option groups: five queries whatever the menu's size
    (categories, products with stock, variants, option groups, options).

    Each product gets `available_now`: whether `at` (default now) falls in one of its
    daily availability windows, read in the store's time zone; no windows means always."""
    groups = OptionGroup.objects.prefetch_related(
        Prefetch("options", queryset=Option.objects.filter(is_available=True)))
    products = (
        Product.objects.filter(is_available=True)
        .select_related("stock")
        .prefetch_related(
            Prefetch("variants", queryset=ProductVariant.objects.filter(is_available=True)),
            Prefetch("option_groups", queryset=groups),
        )
    )
    sections = list(
        MenuCategory.objects.filter(store=store).prefetch_related(
            Prefetch("products", queryset=products)
        )
    )
    local = (at or timezone.now()).astimezone(ZoneInfo(store.timezone))
    for section in sections:
        for product in section.products.all():
            product.available_now = not product.availability or is_open_at(  # type: ignore[attr-defined]
                every_day(*product.availability), local)
    return [section for section in sections if section.products.all()]


def merchant_role_for_store(*, user: User, store: Store) -> str:
    """The user's stored role at the store's merchant ('owner', 'manager', 'cashier' or the
    legacy 'staff'); PermissionDenied if they do not work there."""
    role = (
        MerchantMember.objects.filter(user=user, merchant_id=store.merchant_id)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise PermissionDenied()
    return role


def store_for_member(*, user: User, store_id: str, permission: str | None = None) -> tuple[Store, str]:
    """The store and the user's role at its merchant, for those who work there (console
    pages and merchant APIs). A stranger gets 404 `store_not_found`, never 403, so ids of
    other merchants cannot be probed; a member without `permission` gets 403."""
    store = Store.objects.filter(public_id=store_id).first() if "\x00" not in store_id else None
    if store is None:
        raise StoreNotFound(store_id=store_id)
    try:
        role = merchant_role_for_store(user=user, store=store)
    except PermissionDenied:
        raise StoreNotFound(store_id=store_id) from None
    if permission is not None:
        role_require(role=role, permission=permission)
    return store, role


def role_require(*, role: str, permission: str) -> None:
    """PermissionDenied (403 `permission_denied`, details: the permission and the role)
    unless the role's row of the table in `merchants.roles` has the permission."""
    if not roles.allows(role, permission):
        raise PermissionDenied(permission=permission, role=roles.canonical(role) or role)


def stores_for_member(*, user: User) -> QuerySet[Store]:
    return Store.objects.filter(merchant__members__user=user)
