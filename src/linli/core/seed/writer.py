"""Writes planned merchants, consumers and riders with bulk inserts.

Seeding writes other apps' tables directly instead of going through their one-row
services: a city of thousands of stores must load in seconds. The rows it writes are
the same ones those services would (store_build fills the derived store fields, every
stock count has its ADJUST movement), and each chunk is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from linli.accounts.models import User, username_new
from linli.delivery.models import Rider
from linli.inventory.models import StockItem, StockMovement
from linli.merchants.models import (
    MenuCategory,
    Merchant,
    MerchantMember,
    Product,
    Store,
    StoreCategory,
)
from linli.merchants.services import store_build

from .cities import City
from .kinds import CATEGORIES
from .plan import MerchantPlan, PersonPlan, RiderPlan, StorePlan

T = TypeVar("T", bound=Model)

BATCH_SIZE = 500
STOCK_REFERENCE = "seed"


@dataclass
class Counts:
    merchants: int = 0
    stores: int = 0
    products: int = 0
    stock_items: int = 0
    consumers: int = 0
    riders: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def categories_ensure() -> dict[str, StoreCategory]:
    """The platform's store categories by slug; created once, never renamed here."""
    result = {}
    for sort, category in enumerate(CATEGORIES):
        result[category.slug], _ = StoreCategory.objects.get_or_create(
            slug=category.slug,
            defaults={"name_zh": category.name_zh, "name_en": category.name_en, "sort": sort},
        )
    return result


def taken_phones() -> set[str]:
    return set(User.objects.exclude(phone=None).values_list("phone", flat=True))


def next_number(prefix: str) -> int:
    """1 + the highest N among usernames `<prefix>N`, so a second seed adds, not clashes."""
    usernames = User.objects.filter(username__startswith=prefix).values_list("username", flat=True)
    numbers = [int(name[len(prefix):]) for name in usernames if name[len(prefix):].isdigit()]
    return max(numbers, default=0) + 1


def _saved(rows: list[T]) -> list[T]:
    """The rows, after checking the database returned their keys (SQLite 3.35+, PostgreSQL).

    Later rows point at these; without keys they would be written with NULL foreign keys.
    """
    if any(row.pk is None for row in rows):
        raise RuntimeError("bulk_create did not return primary keys; this database is unsupported")
    return rows


def _user(person: PersonPlan) -> User:
    # Consumers are planned with their phone as the name; never store a phone as a username.
    username = username_new() if person.username == person.phone else person.username
    user = User(username=username, phone=person.phone, display_name=person.display_name)
    user.set_unusable_password()  # log in by SMS code; hashing a password costs ~50 ms
    return user


def _store(merchant: Merchant, plan: StorePlan, *, city: City,
           categories: dict[str, StoreCategory]) -> Store:
    return store_build(
        merchant=merchant,
        lat=plan.lat,
        lng=plan.lng,
        opening_hours=plan.opening_hours,
        city_code=city.slug,
        timezone=city.timezone,
        name=plan.name,
        category=categories[plan.category],
        address=plan.address,
        phone=plan.phone,
        status=Store.Status.OPEN,
        delivery_radius_m=plan.delivery_radius_m,
        min_order_fen=plan.min_order_fen,
        delivery_fee_fen=plan.delivery_fee_fen,
        packaging_fee_fen=plan.packaging_fee_fen,
        prep_minutes=plan.prep_minutes,
        avg_price_fen=plan.avg_price_fen,
        rating=plan.rating,
    )


def catalog_write(stores: Sequence[Store], plans: Sequence[StorePlan]) -> int:
    """Menu sections, products, stock counts and their movements; returns products written."""
    sections = [
        MenuCategory(store=store, name=section.name, sort=sort)
        for store, plan in zip(stores, plans, strict=True)
        for sort, section in enumerate(plan.menu)
    ]
    _saved(MenuCategory.objects.bulk_create(sections, batch_size=BATCH_SIZE))
    rows = iter(sections)
    products: list[Product] = []
    quantities: list[int] = []
    for store, plan in zip(stores, plans, strict=True):
        sort = 0
        for section in plan.menu:
            row = next(rows)
            for product in section.products:
                products.append(Product(store=store, menu_category=row, name=product.name,
                                        price_fen=product.price_fen, sort=sort))
                sort += 1
        quantities.extend(plan.stock)
    _saved(Product.objects.bulk_create(products, batch_size=BATCH_SIZE))
    StockItem.objects.bulk_create(
        [StockItem(product=p, store_id=p.store_id, quantity=q)
         for p, q in zip(products, quantities, strict=True)],
        batch_size=BATCH_SIZE,
    )
    StockMovement.objects.bulk_create(
        [StockMovement(product=p, store_id=p.store_id, delta=q, reference=STOCK_REFERENCE,
                       reason=StockMovement.Reason.ADJUST)
         for p, q in zip(products, quantities, strict=True)],
        batch_size=BATCH_SIZE,
    )
    return len(products)


def merchants_write(plans: Sequence[MerchantPlan], *, city: City,
                    categories: dict[str, StoreCategory]) -> Counts:
    """One chunk of merchants with their owners, stores and catalogs, in one transaction."""
    with transaction.atomic():
        owners = _saved(
            User.objects.bulk_create([_user(p.owner) for p in plans], batch_size=BATCH_SIZE)
        )
        merchants = _saved(Merchant.objects.bulk_create(
            [Merchant(name=p.name, legal_name=p.legal_name) for p in plans], batch_size=BATCH_SIZE
        ))
        MerchantMember.objects.bulk_create(
            [MerchantMember(merchant=m, user=u, role=MerchantMember.Role.OWNER)
             for m, u in zip(merchants, owners, strict=True)],
            batch_size=BATCH_SIZE,
        )
        store_plans = [s for p in plans for s in p.stores]
        stores = _saved(Store.objects.bulk_create(
            [_store(m, s, city=city, categories=categories)
             for m, p in zip(merchants, plans, strict=True) for s in p.stores],
            batch_size=BATCH_SIZE,
        ))
        products = catalog_write(stores, store_plans)
    return Counts(merchants=len(plans), stores=len(stores), products=products,
                  stock_items=products)


def consumers_write(plans: Sequence[PersonPlan]) -> Counts:
    with transaction.atomic():
        User.objects.bulk_create([_user(p) for p in plans], batch_size=BATCH_SIZE)
    return Counts(consumers=len(plans))


def riders_write(plans: Sequence[RiderPlan], *, city: City) -> Counts:
    now = timezone.now()
    with transaction.atomic():
        users = _saved(
            User.objects.bulk_create([_user(p.person) for p in plans], batch_size=BATCH_SIZE)
        )
        Rider.objects.bulk_create(
            [Rider(user=u, city_code=city.slug, name=p.person.display_name, is_online=p.is_online,
                   lat=p.lat, lng=p.lng, location_at=now if p.is_online else None)
             for u, p in zip(users, plans, strict=True)],
            batch_size=BATCH_SIZE,
        )
    return Counts(riders=len(plans))
