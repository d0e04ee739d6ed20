"""`linli seed`: a believable, deterministic city, demo accounts that log in, --if-empty."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import time

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from linli.accounts.models import PlatformRole, User, phone_hash
from linli.core.progress import Progress
from linli.core.seed.cities import CITIES, City
from linli.core.seed.demo import CONSUMER_PHONE, DEMO_MERCHANT_NAME, DEMO_PASSWORD
from linli.core.seed.kinds import CATEGORIES, KINDS
from linli.core.seed.menus import MENUS
from linli.core.seed.plan import CityPlanner
from linli.delivery.models import Rider
from linli.discovery.geo import haversine_m
from linli.inventory.models import StockItem, StockMovement
from linli.merchants.hours import hours_validate, is_open_at
from linli.merchants.models import Merchant, MerchantMember, Product, Store, StoreCategory
from linli.merchants.services import h3_cell_for

MERCHANTS, USERS, RIDERS = 30, 10, 5
SHANGHAI = CITIES["shanghai"]


def _seed(**options: object) -> str:
    out = io.StringIO()
    call_command("seed", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def seeded(db: None) -> Iterator[str]:
    yield _seed(merchants=MERCHANTS, users=USERS, riders=RIDERS, seed=1)


def _generated_stores() -> list[Store]:
    return list(Store.objects.exclude(merchant__name=DEMO_MERCHANT_NAME))


def _inside_a_district(city: City, lat: float, lng: float) -> bool:
    return any(
        haversine_m(lat, lng, d.lat, d.lng) <= d.spread_km * 1000 * 1.01 + 10
        for d in city.districts
    )


def test_seed_creates_the_requested_numbers_of_everything(seeded: str) -> None:
    assert Merchant.objects.count() == MERCHANTS + 1  # + the demo merchant
    owners = MerchantMember.objects.filter(role=MerchantMember.Role.OWNER)
    assert owners.count() == MERCHANTS + 1
    stores = _generated_stores()
    assert MERCHANTS <= len(stores) <= 3 * MERCHANTS
    for store in stores:
        assert 6 <= store.products.count() <= 15
        assert 2 <= store.menu_categories.count() <= 4
    assert StockItem.objects.count() == Product.objects.count()
    assert not Product.objects.filter(stock__isnull=True).exists()
    assert StockMovement.objects.count() == Product.objects.count()  # one ADJUST each
    assert Rider.objects.count() == RIDERS + 1
    # Consumers get opaque usernames (a phone number is never a username, issue 14).
    assert User.objects.filter(username__startswith="u_").count() == USERS
    assert not User.objects.filter(username__startswith="+").exists()
    assert set(StoreCategory.objects.values_list("slug", flat=True)) == {c.slug for c in CATEGORIES}
    assert f"{MERCHANTS} merchants" in seeded


def test_stores_lie_in_the_real_districts_of_the_city(seeded: str) -> None:
    min_lat, max_lat, min_lng, max_lng = SHANGHAI.bounding_box()
    for store in Store.objects.all():
        assert min_lat <= store.lat <= max_lat and min_lng <= store.lng <= max_lng, store.name
        assert _inside_a_district(SHANGHAI, store.lat, store.lng), store.name
        assert store.address.startswith(tuple(d.name for d in SHANGHAI.districts))


def test_store_rows_are_complete_and_plausible(seeded: str) -> None:
    for store in Store.objects.all():
        assert store.public_id.startswith("sto_")
        assert store.h3_cell and store.h3_cell == h3_cell_for(store.lat, store.lng)
        assert store.city_code == "shanghai" and store.timezone == "Asia/Shanghai"
        assert store.status == Store.Status.OPEN
        assert re.fullmatch(r"021-\d{8}", store.phone)
        assert re.search(r"\(.+店\)$", store.name)
        hours_validate(store.opening_hours)
        assert 2000 <= store.delivery_radius_m <= 5000
        assert 0 <= store.min_order_fen <= 3000
        assert 0 <= store.delivery_fee_fen <= 600
        assert 0 <= store.packaging_fee_fen <= 200
        assert 5 <= store.prep_minutes <= 30
        assert 3.5 <= float(store.rating) <= 5.0
        assert store.avg_price_fen > 0


def test_products_have_positive_integer_prices_and_stock(seeded: str) -> None:
    for product in Product.objects.select_related("stock"):
        assert isinstance(product.price_fen, int) and product.price_fen > 0
        assert product.public_id.startswith("prd_")
        assert 20 <= product.stock.quantity <= 500
        assert product.stock.store_id == product.store_id


def test_every_phone_is_a_valid_chinese_mobile(seeded: str) -> None:
    phones = list(User.objects.exclude(phone=None).values_list("phone", flat=True))
    assert len(phones) == len(set(phones)) == MERCHANTS + USERS + RIDERS + 3
    for phone in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone


def test_some_riders_are_online_in_the_city(seeded: str) -> None:
    online = Rider.objects.filter(is_online=True)
    assert online.exists()
    for rider in online:
        assert rider.location_at is not None and rider.city_code == "shanghai"
        assert _inside_a_district(SHANGHAI, rider.lat, rider.lng)


def test_demo_accounts_exist_and_log_in(seeded: str) -> None:
    owner = authenticate(username="demo-merchant", password=DEMO_PASSWORD)
    staff = authenticate(username="demo-staff", password=DEMO_PASSWORD)
    rider = authenticate(username="demo-rider", password=DEMO_PASSWORD)
    admin = authenticate(username="admin", password="linli-admin-2026")
    assert owner is not None and staff is not None and rider is not None and admin is not None
    assert authenticate(username="demo-merchant", password="wrong") is None
    assert admin.is_staff and admin.is_superuser and admin.platform_role == PlatformRole.OPERATOR
    consumer = User.objects.get(phone_hash=phone_hash(CONSUMER_PHONE))
    assert not consumer.has_usable_password()
    merchant = Merchant.objects.get(name=DEMO_MERCHANT_NAME)
    roles = dict(merchant.members.values_list("user__username", "role"))
    assert roles == {"demo-merchant": "owner", "demo-staff": "staff", "demo-manager": "manager",
                     "demo-cashier": "cashier"}
    assert "demo-merchant" in seeded and "linli-admin-2026" in seeded


def test_demo_store_is_always_open_at_the_centre_with_stock(seeded: str) -> None:
    store = Store.objects.get(merchant__name=DEMO_MERCHANT_NAME)
    assert haversine_m(store.lat, store.lng, SHANGHAI.centre_lat, SHANGHAI.centre_lng) < 100
    for hour in (0, 4, 12, 23):
        for weekday in range(7):
            assert is_open_at(store.opening_hours, time(hour), weekday)
    assert store.products.count() >= 6
    assert not store.products.filter(stock__quantity__lte=0).exists()
    rider = Rider.objects.get(user__username="demo-rider")
    assert rider.is_online
    assert 400 <= haversine_m(store.lat, store.lng, rider.lat, rider.lng) <= 600


def test_if_empty_skips_a_database_that_has_stores(seeded: str) -> None:
    stores, users = Store.objects.count(), User.objects.count()
    out = _seed(merchants=MERCHANTS, users=USERS, riders=RIDERS, seed=1, if_empty=True)
    assert "nothing seeded" in out
    assert Store.objects.count() == stores and User.objects.count() == users


def test_seeding_again_adds_more_and_keeps_one_set_of_demo_accounts(seeded: str) -> None:
    merchants = Merchant.objects.count()
    _seed(merchants=5, users=2, riders=1, seed=1)
    assert Merchant.objects.count() == merchants + 5
    assert Merchant.objects.filter(name=DEMO_MERCHANT_NAME).count() == 1
    assert Store.objects.filter(merchant__name=DEMO_MERCHANT_NAME).count() == 1
    assert User.objects.filter(username="admin").count() == 1
    assert authenticate(username="demo-merchant", password=DEMO_PASSWORD) is not None


@pytest.mark.django_db
def test_another_city_is_seeded_in_its_own_districts() -> None:
    _seed(merchants=10, users=0, riders=0, seed=3, city="chengdu")
    chengdu = CITIES["chengdu"]
    for store in Store.objects.all():
        assert store.city_code == "chengdu"
        assert _inside_a_district(chengdu, store.lat, store.lng)
        assert re.fullmatch(r"028-\d{8}", store.phone)


# --- pure parts: no database ---------------------------------------------------------

def _plans(city: City, seed: int, count: int = 40) -> list[tuple[str, float, float]]:
    planner = CityPlanner(city, seed=seed)
    return [(s.name, s.lat, s.lng) for i in range(count) for s in planner.merchant(i).stores]


def test_same_seed_plans_the_same_city() -> None:
    assert _plans(SHANGHAI, seed=7) == _plans(SHANGHAI, seed=7)
    assert _plans(SHANGHAI, seed=7) != _plans(SHANGHAI, seed=8)


@pytest.mark.parametrize("slug", sorted(CITIES))
def test_every_city_plans_stores_inside_its_districts(slug: str) -> None:
    city = CITIES[slug]
    for _name, lat, lng in _plans(city, seed=1, count=200):
        assert _inside_a_district(city, lat, lng)


def test_every_kind_has_a_menu_that_can_fill_a_store() -> None:
    for kind in KINDS:
        sections = MENUS[kind.key]
        assert len(sections) >= 2, kind.key
        assert all(len(items) >= 3 for _title, items in sections), kind.key
        assert all(price > 0 for _title, items in sections for _n, price in items), kind.key
        assert kind.category in {c.slug for c in CATEGORIES}


def test_progress_prints_a_line_every_tenth_when_not_a_terminal() -> None:
    out = io.StringIO()
    ticks = iter(range(1000))
    with Progress(200, "merchants", stream=out, clock=lambda: float(next(ticks))) as bar:
        for _ in range(200):
            bar.advance()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("merchants [") and "200/200 100.0%" in lines[-1]
    assert "ETA" in lines[0] and "/s" in lines[0]


def test_large_menus_serve_the_whole_menu_and_set_meals_of_two_items() -> None:
    from linli.core.seed.plan import MENU_SIZES, CityPlanner

    planner = CityPlanner(SHANGHAI, seed=3, menus="large")
    low, high = MENU_SIZES["large"]
    for number in range(60):
        for store in planner.merchant(number).stores:
            products = [p for section in store.menu for p in section.products]
            names = [p.name for p in products]
            assert len(names) == len(set(names)), store.name
            assert low <= len(products) <= high, store.name
            prices = {p.name: p.price_fen for p in products}
            for section in store.menu:
                if section.name != "超值套餐":
                    continue
                for meal in section.products:
                    first, second = meal.name.removesuffix("套餐").split("+")
                    assert meal.price_fen == max(10, round((prices[first] + prices[second]) * 0.9 / 10) * 10)


def test_an_unknown_menu_size_is_refused() -> None:
    from linli.core.seed.plan import CityPlanner

    with pytest.raises(ValueError, match="menus"):
        CityPlanner(SHANGHAI, seed=3, menus="huge")
