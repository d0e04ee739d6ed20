"""The fixed demo accounts every seeded database has, so a demo never starts with signup.

Idempotent: running it again finds the same accounts and only repairs what a demo
needs (password, roles, the rider's position). Uses the apps' services where they
exist, because these are a handful of rows and should look exactly like real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import PlatformRole, User, phone_hash
from linli.delivery.models import Rider
from linli.delivery.services import rider_register
from linli.discovery.geo import haversine_m
from linli.inventory.services import stock_set
from linli.merchants import roles
from linli.merchants.hours import every_day
from linli.merchants.models import (
    MenuCategory,
    Merchant,
    MerchantMember,
    Product,
    Store,
    StoreCategory,
)
from linli.merchants.services import merchant_create, merchant_member_add, store_create

from .cities import City, District
from .menus import MENUS
from .plan import offset_km

DEMO_PASSWORD = "linli-demo-2026"
ADMIN_PASSWORD = "linli-admin-2026"
CONSUMER_PHONE = "+8613800138000"
OWNER_PHONE = "+8613900139000"
RIDER_PHONE = "+8613700137000"
DEMO_PHONES = frozenset({CONSUMER_PHONE, OWNER_PHONE, RIDER_PHONE})
DEMO_MERCHANT_NAME = "邻里示范餐厅"
# Sections of the 家常菜 menu the demo store sells, and how many products of each.
DEMO_MENU = (("招牌热菜", 8), ("主食", 4), ("饮料", 3))
DEMO_STOCK = 500
RIDER_OFFSET_KM = 0.5


@dataclass(frozen=True)
class DemoAccount:
    role: str
    login: str
    password: str  # empty: logs in by SMS code
    note: str = ""


def _account(username: str, *, password: str | None = None, **fields: Any) -> User:
    """Get or create the user; make sure a known password still works."""
    user = User.objects.filter(username=username).first()
    if user is None and fields.get("phone"):  # e.g. signed up by SMS before the seed ran
        user = User.objects.filter(phone_hash=phone_hash(fields["phone"])).first()
    if user is None:
        return User.objects.create_user(username, password, **fields)
    if password and not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _operator() -> User:
    user = User.objects.filter(username="admin").first()
    if user is None:
        return User.objects.create_superuser("admin", ADMIN_PASSWORD, display_name="平台运营")
    user.is_staff = user.is_superuser = True
    user.platform_role = PlatformRole.OPERATOR
    if not user.check_password(ADMIN_PASSWORD):
        user.set_password(ADMIN_PASSWORD)
    user.save()
    return user


def _demo_merchant(owner: User, city: City) -> Merchant:
    member = (MerchantMember.objects.filter(user=owner, role=MerchantMember.Role.OWNER)
              .select_related("merchant").order_by("id").first())
    if member is not None:
        return member.merchant
    return merchant_create(name=DEMO_MERCHANT_NAME, owner=owner,
                           legal_name=f"{city.name}邻里示范餐饮管理有限公司")


def _nearest_district(city: City) -> District:
    return min(city.districts,
               key=lambda d: haversine_m(d.lat, d.lng, city.centre_lat, city.centre_lng))


def _demo_menu_add(store: Store) -> None:
    sections = dict(MENUS["jiachang"])
    sort = 0
    for section_sort, (title, count) in enumerate(DEMO_MENU):
        section = MenuCategory.objects.create(store=store, name=title, sort=section_sort)
        for name, price_fen in sections[title][:count]:
            product = Product.objects.create(store=store, menu_category=section, name=name,
                                             price_fen=price_fen, sort=sort)
            stock_set(product=product, quantity=DEMO_STOCK)
            sort += 1


@transaction.atomic
def _demo_store(merchant: Merchant, city: City, food: StoreCategory) -> Store:
    """The merchant's store in this city: at the centre landmark, open around the clock."""
    store = Store.objects.filter(merchant=merchant, city_code=city.slug).order_by("id").first()
    if store is not None:
        return store
    district = _nearest_district(city)
    menu = dict(MENUS["jiachang"])
    prices = [price for title, count in DEMO_MENU for _, price in menu[title][:count]]
    store = store_create(
        merchant=merchant, lat=city.centre_lat, lng=city.centre_lng,
        opening_hours=every_day(("00:00", "24:00")),
        city_code=city.slug, timezone=city.timezone,
        name=f"{DEMO_MERCHANT_NAME}({city.centre_name}店)", category=food,
        address=f"{district.name}{district.roads[0]} 100 号", phone=f"{city.area_code}-60886088",
        status=Store.Status.OPEN, delivery_radius_m=5000, min_order_fen=0, delivery_fee_fen=300,
        packaging_fee_fen=100, prep_minutes=10, rating=Decimal("4.8"),
        avg_price_fen=round(sum(prices) / len(prices) / 100) * 100,
    )
    _demo_menu_add(store)
    return store


def _demo_rider(user: User, city: City, store: Store) -> Rider:
    """Online, with a fresh location half a kilometre north of the demo store."""
    rider = rider_register(user=user, city_code=city.slug, name=user.display_name)
    rider.city_code = city.slug
    rider.is_online = True
    rider.lat, rider.lng = offset_km(store.lat, store.lng, RIDER_OFFSET_KM, 0.0)
    rider.location_at = timezone.now()
    rider.save(update_fields=["city_code", "is_online", "lat", "lng", "location_at"])
    return rider


def demo_accounts_ensure(*, city: City, categories: dict[str, StoreCategory]) -> list[DemoAccount]:
    """Create (or find) the demo consumer, merchant owner and staff, rider and operator."""
    _account("demo-consumer", phone=CONSUMER_PHONE, display_name="邻里体验官")
    owner = _account("demo-merchant", password=DEMO_PASSWORD, phone=OWNER_PHONE,
                     display_name="示范店主")
    staff = _account("demo-staff", password=DEMO_PASSWORD, display_name="示范店员")
    manager = _account("demo-manager", password=DEMO_PASSWORD, display_name="示范店长")
    cashier = _account("demo-cashier", password=DEMO_PASSWORD, display_name="示范收银员")
    merchant = _demo_merchant(owner, city)
    # `staff` is the legacy name of a cashier (merchants.roles); kept for old demo notes.
    merchant_member_add(merchant=merchant, user=staff, role=roles.STAFF)
    merchant_member_add(merchant=merchant, user=manager, role=MerchantMember.Role.MANAGER)
    merchant_member_add(merchant=merchant, user=cashier, role=MerchantMember.Role.CASHIER)
    store = _demo_store(merchant, city, categories["food"])
    rider_user = _account("demo-rider", password=DEMO_PASSWORD, phone=RIDER_PHONE,
                          display_name="示范骑手")
    _demo_rider(rider_user, city, store)
    _operator()
    return [
        DemoAccount("consumer", CONSUMER_PHONE, "", "SMS code login; code in the server log"),
        DemoAccount("merchant owner", "demo-merchant", DEMO_PASSWORD,
                    f"or {OWNER_PHONE}; store {store.name} {store.public_id}"),
        DemoAccount("merchant manager", "demo-manager", DEMO_PASSWORD,
                    "orders, menu, stock, store profile, hours, pause"),
        DemoAccount("merchant cashier", "demo-cashier", DEMO_PASSWORD,
                    "order queue and sold-out switch"),
        DemoAccount("merchant staff", "demo-staff", DEMO_PASSWORD,
                    f"legacy role `staff` = cashier, {merchant.name}"),
        DemoAccount("rider", RIDER_PHONE, DEMO_PASSWORD, "online 500 m from the demo store"),
        DemoAccount("operator", "admin", ADMIN_PASSWORD, "/ops/ and the Django admin"),
    ]
