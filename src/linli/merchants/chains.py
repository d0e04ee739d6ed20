"""Chains: an owner opens another store (a branch) of the merchant.

Like a chain's 新增门店 on Meituan: the branch starts from one of the merchant's stores
(category, hours, delivery terms, fees, tags) and, unless told otherwise, a copy of its
menu: categories, products, variants and option groups. Location-bound settings are
not copied: the delivery zone polygon (the radius and fee tiers apply until the owner
draws one), photos, rating and sales. Stock is per store: copied products start at 0
(or unlimited where the source is made to order) so the branch does its own stocktake.
The branch starts paused, listed but taking no orders, until the owner resumes it.
"""

from __future__ import annotations

from typing import Any

import h3
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import InvalidInput

from . import roles
from .menu_cache import menu_changed
from .models import MenuCategory, Option, OptionGroup, Product, ProductVariant, Store
from .selectors import role_require
from .store_profile import _apply_profile, _console_store

MAX_BRANCH_DISTANCE_M = 100_000  # a branch stays in the source store's city


class BranchTooFar(InvalidInput):
    code = "branch_too_far"
    message = _("A branch must be in the same city as the store it starts from.")


COPIED_FIELDS = ("city_code", "category_id", "timezone", "opening_hours", "special_hours",
                 "delivery_radius_m", "min_order_fen", "delivery_fee_fen", "delivery_fee_tiers",
                 "packaging_fee_fen", "prep_minutes", "avg_price_fen", "tags")


@transaction.atomic
def store_branch_open(*, actor: User, from_store_id: str, name: Any, address: Any, lat: Any,
                      lng: Any, phone: Any = "", copy_menu: bool = True) -> Store:
    """Open a branch of the merchant that owns `from_store_id` (owner only). Every field
    is checked before anything is written; the branch and its menu land together."""
    source, role = _console_store(user=actor, store_id=from_store_id)
    role_require(role=role, permission=roles.STORES_OPEN)
    branch = Store(merchant_id=source.merchant_id, status=Store.Status.PAUSED,
                   **{f: getattr(source, f) for f in COPIED_FIELDS})
    _apply_profile(branch, {"name": name, "address": address, "lat": lat, "lng": lng,
                            "phone": phone or ""})
    if h3.great_circle_distance((source.lat, source.lng), (branch.lat, branch.lng),
                                unit="m") > MAX_BRANCH_DISTANCE_M:
        raise BranchTooFar(city_code=source.city_code)
    branch.save()
    if copy_menu:
        _copy_menu(source, branch, actor)
    return branch


def _copy_menu(source: Store, branch: Store, actor: User) -> None:
    from linli.inventory.services import stock_set  # inventory sits above merchants

    menu_changed(branch.pk)
    categories = {}
    for category in MenuCategory.objects.filter(store=source).order_by("sort", "id"):
        categories[category.pk] = MenuCategory.objects.create(store=branch, name=category.name,
                                                              sort=category.sort)
    products = (Product.objects.filter(store=source).select_related("stock")
                .prefetch_related("variants", "option_groups__options").order_by("sort", "id"))
    for product in products:
        old_category = product.menu_category_id
        copy = Product.objects.create(
            kind=product.kind, store=branch, name=product.name, description=product.description,
            price_fen=product.price_fen, is_available=product.is_available, image=product.image.name,
            tags=product.tags, availability=product.availability, sort=product.sort,
            duration_minutes=product.duration_minutes,
            menu_category=categories.get(old_category) if old_category else None,
        )
        ProductVariant.objects.bulk_create([
            ProductVariant(product=copy, name=v.name, price_delta_fen=v.price_delta_fen,
                           is_available=v.is_available, sort=v.sort) for v in product.variants.all()])
        for group in product.option_groups.all():
            new_group = OptionGroup.objects.create(product=copy, name=group.name, sort=group.sort,
                                                   min_choices=group.min_choices,
                                                   max_choices=group.max_choices)
            Option.objects.bulk_create([
                Option(group=new_group, name=o.name, price_delta_fen=o.price_delta_fen,
                       is_available=o.is_available, sort=o.sort) for o in group.options.all()])
        stock = getattr(product, "stock", None)
        stock_set(product=copy, quantity=0, actor=actor, unlimited=bool(stock and stock.unlimited))
