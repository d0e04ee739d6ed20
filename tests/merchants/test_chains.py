"""Chains: an owner opens a branch that starts from one of the merchant's stores, with a
copy of its menu and its own stock; managers, cashiers and strangers cannot; bad input
saves nothing."""

from __future__ import annotations

import pytest

from linli.accounts.models import User
from linli.inventory.models import StockItem
from linli.merchants.models import MenuCategory, Option, OptionGroup, Product, ProductVariant, Store
from tests.fixtures import PEOPLES_SQUARE, make_product, make_staff, make_store, token_api

pytestmark = pytest.mark.django_db

LAT, LNG = PEOPLES_SQUARE


@pytest.fixture
def owner() -> User:
    return User.objects.create_user("owner-chain")


@pytest.fixture
def shop(owner) -> Store:
    store = make_store(owner=owner, name="老王家常菜(人民广场店)")
    store.delivery_fee_tiers = [{"max_m": 2000, "fee_fen": 300}, {"max_m": 5000, "fee_fen": 600}]
    store.delivery_zone = [[LAT, LNG], [LAT + 0.01, LNG], [LAT, LNG + 0.01]]
    store.save()
    section = MenuCategory.objects.create(store=store, name="招牌菜", sort=1)
    noodles = make_product(store, name="牛肉面", price_fen=2200, stock=40)
    noodles.menu_category = section
    noodles.save()
    ProductVariant.objects.create(product=noodles, name="大碗", price_delta_fen=300)
    group = OptionGroup.objects.create(product=noodles, name="加料", min_choices=0, max_choices=2)
    Option.objects.create(group=group, name="加蛋", price_delta_fen=200)
    tea = make_product(store, name="酸梅汤", price_fen=800, stock=0)
    StockItem.objects.filter(product=tea).update(unlimited=True)
    return store


def branch_body(shop: Store, **changes) -> dict:
    return {"from_store": shop.public_id, "name": "老王家常菜(静安寺店)", "address": "南京西路 1788 号",
            "lat": LAT + 0.02, "lng": LNG - 0.03, **changes}


def test_an_owner_opens_a_branch_with_a_copy_of_the_menu_and_its_own_stock(owner, shop):
    answer = token_api(owner).post("/merchant/stores", branch_body(shop))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"] != shop.public_id and body["status"] == "paused" and body["role"] == "owner"
    branch = Store.objects.get(public_id=body["id"])
    assert branch.merchant_id == shop.merchant_id and branch.category_id == shop.category_id
    assert branch.delivery_fee_tiers == shop.delivery_fee_tiers
    assert branch.delivery_zone is None  # a polygon belongs to a place, not to the chain
    assert branch.opening_hours == shop.opening_hours and branch.h3_cell != shop.h3_cell
    copied = {p.name: p for p in Product.objects.filter(store=branch)}
    assert set(copied) == {"牛肉面", "酸梅汤"}
    noodles = copied["牛肉面"]
    assert noodles.menu_category.name == "招牌菜" and noodles.menu_category.store_id == branch.pk
    assert [v.name for v in noodles.variants.all()] == ["大碗"]
    assert [o.name for g in noodles.option_groups.all() for o in g.options.all()] == ["加蛋"]
    assert noodles.stock.quantity == 0 and not noodles.stock.unlimited  # its own stocktake
    assert copied["酸梅汤"].stock.unlimited
    source = Product.objects.get(store=shop, name="牛肉面")
    assert source.stock.quantity == 40 and source.public_id != noodles.public_id
    listing = token_api(owner).get("/merchant/stores").json()
    assert {s["id"] for s in listing} == {shop.public_id, branch.public_id}


def test_a_branch_without_the_menu(owner, shop):
    answer = token_api(owner).post("/merchant/stores", branch_body(shop, copy_menu=False))
    assert answer.status_code == 201
    assert not Product.objects.filter(store__public_id=answer.json()["id"]).exists()


@pytest.mark.parametrize("role", ["manager", "cashier"])
def test_only_the_owner_opens_branches(shop, role):
    answer = token_api(make_staff(shop, role=role)).post("/merchant/stores", branch_body(shop))
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    assert answer.json()["details"]["permission"] == "stores.open"
    assert Store.objects.count() == 1


def test_a_stranger_cannot_branch_from_another_merchants_store(shop):
    stranger = User.objects.create_user("someone-else")
    make_store(owner=stranger, name="别家店")
    answer = token_api(stranger).post("/merchant/stores", branch_body(shop))
    assert answer.status_code == 404 and answer.json()["code"] == "store_not_found"
    assert Store.objects.count() == 2


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"lat": 39.9, "lng": 116.4}, 422, "branch_too_far"),  # Beijing, from a Shanghai store
    ({"lat": 91}, 422, "invalid_input"),
    ({"name": ""}, 422, "invalid_input"),
    ({"name": "   "}, 422, "invalid_input"),
    ({"phone": "not a phone"}, 422, "invalid_phone"),
    ({"from_store": "sto_missing"}, 404, "store_not_found"),
    ({"surprise": 1}, 422, "invalid_input"),
])
def test_bad_branches_save_nothing(owner, shop, changes, status, code):
    products = Product.objects.count()
    answer = token_api(owner).post("/merchant/stores", branch_body(shop, **changes))
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code
    assert Store.objects.count() == 1 and Product.objects.count() == products
