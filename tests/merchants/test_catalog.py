"""The merchant console's catalog and the public menu: what owners and staff may do,
every bad input with its code (and nothing saved), and a menu read in fixed queries."""

from __future__ import annotations

import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from linli.accounts.models import User
from linli.inventory.models import StockItem, StockMovement
from linli.merchants.models import (
    MenuCategory,
    MerchantMember,
    Option,
    OptionGroup,
    Product,
    ProductVariant,
    Store,
)
from linli.merchants.selectors import store_menu
from tests.fixtures import Api, make_store, next_phone, sms_login, token_api

pytestmark = pytest.mark.django_db


def call(api: Api, method: str, path: str, body=None):
    """PATCH, PUT and DELETE alongside the fixtures' GET and POST."""
    return getattr(api.client, method)(f"/api/v1{path}", json.dumps(body) if body is not None else "",
                                       content_type="application/json", headers=api._headers(None))


def shop_store(**fields) -> Store:
    """A store whose owner has no password: hashing one (argon2) is the slow part of setup."""
    owner = User.objects.create_user(username=f"owner-{next_phone()}")
    return make_store(owner=owner, **fields)


def staff_of(store, role: str = "staff") -> User:
    user = User.objects.create_user(username=f"staff-{next_phone()}")
    MerchantMember.objects.create(merchant=store.merchant, user=user, role=role)
    return user


def owner_of(store) -> Api:
    return token_api(store.merchant.members.get(role="owner").user)


def add_category(api: Api, store, name: str = "热菜") -> str:
    answer = api.post(f"/merchant/stores/{store.public_id}/menu-categories", {"name": name})
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def noodles(category_id: str, **overrides):
    body = {
        "menu_category": category_id, "name": "牛肉面", "description": "手工拉面", "price_fen": 2800,
        "tags": ["招牌", "辣"], "availability": [["06:00", "10:30"], ["17:00", "21:00"]],
        "variants": [{"name": "大份", "price_delta_fen": 500}, {"name": "小份", "price_delta_fen": -300}],
        "option_groups": [
            {"name": "加料", "min_choices": 0, "max_choices": 2,
             "options": [{"name": "加蛋", "price_delta_fen": 200}, {"name": "加肠", "price_delta_fen": 300}]},
            {"name": "辣度", "min_choices": 1, "max_choices": 1,
             "options": [{"name": "微辣", "price_delta_fen": 0}, {"name": "中辣", "price_delta_fen": 0}]},
        ],
        "stock": {"quantity": 30},
    }
    body.update(overrides)
    return body


def catalog_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (MenuCategory, Product, ProductVariant, OptionGroup, Option, StockItem,
                          StockMovement)}


@pytest.fixture
def shop():
    store = shop_store()
    owner = owner_of(store)
    return store, owner, add_category(owner, store)


# --- happy paths ------------------------------------------------------------------------

def test_owner_builds_a_product_and_the_public_menu_shows_all_of_it(shop):
    store, owner, category_id = shop
    created = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id))
    assert created.status_code == 201, created.content
    product = created.json()
    assert product["stock"] == {"quantity": 30, "unlimited": False}
    assert [v["price_fen"] for v in product["variants"]] == [3300, 2500]
    assert StockMovement.objects.get().delta == 30  # written through the stock ledger

    menu = Api().get(f"/stores/{store.public_id}/menu").json()
    assert [s["id"] for s in menu["sections"]] == [category_id]
    shown = menu["sections"][0]["products"][0]
    assert {k: shown[k] for k in ("id", "name", "description", "price_fen", "stock", "kind", "tags",
                                  "image", "sold_out", "unlimited", "duration_minutes")} == {
        "id": product["id"], "name": "牛肉面", "description": "手工拉面", "price_fen": 2800,
        "stock": 30, "kind": "goods", "tags": ["招牌", "辣"], "image": None, "sold_out": False,
        "unlimited": False, "duration_minutes": None}
    assert isinstance(shown["available_now"], bool)
    assert [(v["name"], v["price_fen"]) for v in shown["variants"]] == [("大份", 3300), ("小份", 2500)]
    spicy = shown["option_groups"][1]
    assert (spicy["name"], spicy["min_choices"], spicy["max_choices"]) == ("辣度", 1, 1)
    assert [o["name"] for o in spicy["options"]] == ["微辣", "中辣"]
    assert all(o["id"].startswith("opt_") for o in spicy["options"])


def test_a_service_has_a_duration_no_stock_and_can_be_booked_at_once(shop):
    store, owner, category_id = shop
    body = {"menu_category": category_id, "name": "精剪造型", "kind": "service", "price_fen": 8800,
            "duration_minutes": 45}
    created = owner.post(f"/merchant/stores/{store.public_id}/products", body)
    assert created.status_code == 201, created.content
    assert created.json()["stock"] is None
    shown = Api().get(f"/stores/{store.public_id}/menu").json()["sections"][0]["products"][0]
    assert (shown["kind"], shown["duration_minutes"], shown["unlimited"], shown["stock"]) == (
        "service", 45, True, 0)
    consumer, _ = sms_login("13800138000")
    order = consumer.post("/orders", {"store_id": store.public_id, "fulfilment": "pickup",
                                      "items": [{"product_id": created.json()["id"], "quantity": 3}]},
                          headers={"Idempotency-Key": "svc"})
    assert order.status_code == 201, order.content


def test_new_goods_without_stock_start_at_zero_and_unlimited_is_kept_as_zero(shop):
    store, owner, category_id = shop
    plain = owner.post(f"/merchant/stores/{store.public_id}/products",
                       {"menu_category": category_id, "name": "米饭", "price_fen": 200}).json()
    assert plain["stock"] == {"quantity": 0, "unlimited": False}
    made = owner.post(f"/merchant/stores/{store.public_id}/products",
                      {"menu_category": category_id, "name": "现煮面", "price_fen": 1500,
                       "stock": {"unlimited": True}}).json()
    assert made["stock"] == {"quantity": 0, "unlimited": True}


def test_categories_are_created_renamed_listed_reordered_and_deleted_when_empty(shop):
    store, owner, hot = shop
    cold = add_category(owner, store, "凉菜")
    drinks = add_category(owner, store, "饮品")
    owner.post(f"/merchant/stores/{store.public_id}/products", noodles(hot))
    renamed = call(owner, "patch", f"/merchant/menu-categories/{cold}", {"name": "凉菜小食"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "凉菜小食"
    hot_renamed = call(owner, "patch", f"/merchant/menu-categories/{hot}", {"name": "热菜"})
    assert hot_renamed.json()["product_count"] == 1  # renaming to its own name is fine

    order = owner.post(f"/merchant/stores/{store.public_id}/menu-categories/reorder",
                       {"ids": [drinks, hot, cold]})
    assert order.status_code == 200, order.content
    assert [(c["id"], c["product_count"]) for c in order.json()] == [(drinks, 0), (hot, 1), (cold, 0)]
    listed = owner.get(f"/merchant/stores/{store.public_id}/menu-categories").json()
    assert [c["name"] for c in listed] == ["饮品", "热菜", "凉菜小食"]

    full = call(owner, "delete", f"/merchant/menu-categories/{hot}")
    assert full.status_code == 409 and full.json()["code"] == "category_not_empty"
    assert call(owner, "delete", f"/merchant/menu-categories/{drinks}").status_code == 204
    assert MenuCategory.objects.filter(store=store).count() == 2


def test_a_category_of_only_unlisted_products_can_be_deleted(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    assert call(owner, "delete", f"/merchant/products/{product['id']}").status_code == 204
    assert call(owner, "delete", f"/merchant/menu-categories/{category_id}").status_code == 204
    assert Product.objects.get(public_id=product["id"]).menu_category is None


@pytest.mark.parametrize("case", ["none", "unknown", "missing", "duplicate", "foreign"])
def test_reorder_must_name_exactly_the_stores_categories(shop, case):
    store, owner, hot = shop
    cold = add_category(owner, store, "凉菜")
    other = shop_store(name="别家")
    foreign = add_category(owner_of(other), other, "别家菜")
    ids = {"none": [], "unknown": [hot, cold, "mct_0"], "missing": [hot],
           "duplicate": [hot, cold, hot], "foreign": [hot, cold, foreign]}[case]
    answer = owner.post(f"/merchant/stores/{store.public_id}/menu-categories/reorder", {"ids": ids})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_category_order"
    assert list(MenuCategory.objects.filter(store=store).values_list("sort", flat=True)) == [0, 1]


def test_category_names_are_unique_within_a_store(shop):
    store, owner, _ = shop
    again = owner.post(f"/merchant/stores/{store.public_id}/menu-categories", {"name": " 热菜 "})
    assert again.status_code == 409 and again.json()["code"] == "category_name_taken"
    blank = owner.post(f"/merchant/stores/{store.public_id}/menu-categories", {"name": "  "})
    assert blank.status_code == 422 and blank.json()["code"] == "invalid_name"
    assert MenuCategory.objects.count() == 1


def test_update_replaces_variants_and_option_groups_as_a_whole(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    old_variant_ids = {v["id"] for v in product["variants"]}
    changed = call(owner, "patch", f"/merchant/products/{product['id']}",
                   {"price_fen": 3000, "variants": [{"name": "加大", "price_delta_fen": 800}]})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert [(v["name"], v["price_fen"]) for v in body["variants"]] == [("加大", 3800)]
    assert old_variant_ids.isdisjoint(v["id"] for v in body["variants"])
    assert [g["id"] for g in body["option_groups"]] == [g["id"] for g in product["option_groups"]]
    assert (body["name"], body["tags"], body["stock"]["quantity"]) == ("牛肉面", ["招牌", "辣"], 30)
    assert ProductVariant.objects.count() == 1 and OptionGroup.objects.count() == 2

    cleared = call(owner, "patch", f"/merchant/products/{product['id']}", {"option_groups": []})
    assert cleared.json()["option_groups"] == [] and Option.objects.count() == 0


def test_a_new_price_is_checked_against_the_variants_it_keeps(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    before = catalog_counts()
    answer = call(owner, "patch", f"/merchant/products/{product['id']}", {"price_fen": 200})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_variant"
    assert answer.json()["details"]["reason"] == "price_out_of_range"
    assert Product.objects.get().price_fen == 2800 and catalog_counts() == before


def test_a_failed_update_leaves_the_old_parts_in_place(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    before = (catalog_counts(), list(Option.objects.values_list("public_id", flat=True)))
    bad = {"variants": [{"name": "中份", "price_delta_fen": 0}],
           "option_groups": [{"name": "加料", "min_choices": 3, "max_choices": 1,
                              "options": [{"name": "加蛋", "price_delta_fen": 200}]}]}
    answer = call(owner, "patch", f"/merchant/products/{product['id']}", bad)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_option_group"
    assert (catalog_counts(), list(Option.objects.values_list("public_id", flat=True))) == before


def test_deleting_unlists_and_the_merchant_can_list_it_again(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    assert call(owner, "delete", f"/merchant/products/{product['id']}").status_code == 204
    assert Api().get(f"/stores/{store.public_id}/menu").json()["sections"] == []
    console = owner.get(f"/merchant/stores/{store.public_id}/products").json()
    assert [(p["id"], p["is_available"]) for p in console] == [(product["id"], False)]
    again = call(owner, "patch", f"/merchant/products/{product['id']}", {"is_available": True})
    assert again.status_code == 200 and again.json()["is_available"] is True


def test_product_names_are_unique_among_listed_products_of_a_category(shop):
    store, owner, category_id = shop
    first = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    before = catalog_counts()
    twin = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id))
    assert twin.status_code == 409 and twin.json()["code"] == "product_name_taken"
    assert catalog_counts() == before
    call(owner, "delete", f"/merchant/products/{first['id']}")
    assert owner.post(f"/merchant/stores/{store.public_id}/products",
                      noodles(category_id)).status_code == 201
    relist = call(owner, "patch", f"/merchant/products/{first['id']}", {"is_available": True})
    assert relist.status_code == 409 and relist.json()["code"] == "product_name_taken"


def test_moving_a_product_to_another_category_puts_it_last_there(shop):
    store, owner, hot = shop
    cold = add_category(owner, store, "凉菜")
    salad = owner.post(f"/merchant/stores/{store.public_id}/products",
                       {"menu_category": cold, "name": "拍黄瓜", "price_fen": 1200}).json()
    noodle = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(hot)).json()
    moved = call(owner, "patch", f"/merchant/products/{noodle['id']}", {"menu_category": cold})
    assert moved.json()["menu_category"] == cold and moved.json()["sort"] > salad["sort"]
    other = shop_store(name="别家")
    foreign = add_category(owner_of(other), other, "别家菜")
    wrong = call(owner, "patch", f"/merchant/products/{noodle['id']}", {"menu_category": foreign})
    assert wrong.status_code == 422 and wrong.json()["code"] == "category_not_in_store"


# --- bad input: each a code, nothing saved -----------------------------------------------

def _group(min_choices=0, max_choices=1, options=(("加蛋", 200),), name="加料"):
    return [{"name": name, "min_choices": min_choices, "max_choices": max_choices,
             "options": [{"name": n, "price_delta_fen": d} for n, d in options]}]


BAD_PRODUCTS = [
    ("negative price", {"price_fen": -1}, "invalid_price"),
    ("price above the ceiling", {"price_fen": 10**12}, "invalid_price"),
    ("blank name", {"name": "   "}, "invalid_name"),
    ("name of 101 characters", {"name": "面" * 101}, "invalid_name"),
    ("description of 501 characters", {"description": "好" * 501}, "invalid_description"),
    ("unknown category", {"menu_category": "mct_999999"}, "category_not_in_store"),
    ("malformed category id", {"menu_category": "热菜"}, "category_not_in_store"),
    ("unknown kind", {"kind": "rental"}, "invalid_input"),
    ("service without duration", {"kind": "service", "stock": None}, "invalid_duration"),
    ("service of 4 minutes", {"kind": "service", "duration_minutes": 4, "stock": None}, "invalid_duration"),
    ("service of 601 minutes", {"kind": "service", "duration_minutes": 601, "stock": None}, "invalid_duration"),
    ("goods with a duration", {"duration_minutes": 30}, "invalid_duration"),
    ("service with a stock count", {"kind": "service", "duration_minutes": 30}, "invalid_stock"),
    ("negative stock", {"stock": {"quantity": -1}}, "invalid_stock"),
    ("stock both counted and unlimited", {"stock": {"quantity": 5, "unlimited": True}}, "invalid_stock"),
    ("stock neither counted nor unlimited", {"stock": {}}, "invalid_stock"),
    ("six tags", {"tags": ["招牌", "辣", "新品", "热卖", "推荐", "特价"]}, "invalid_tags"),
    ("tag of nine characters", {"tags": ["超级无敌好吃的拉面"]}, "invalid_tags"),
    ("empty tag", {"tags": [""]}, "invalid_tags"),
    ("same tag twice", {"tags": ["辣", "辣"]}, "invalid_tags"),
    ("window not HH:MM", {"availability": [["6点", "10:30"]]}, "invalid_availability"),
    ("window with one end", {"availability": [["06:00"]]}, "invalid_availability"),
    ("window ending before it starts", {"availability": [["10:30", "06:00"]]}, "invalid_availability"),
    ("empty window", {"availability": [["10:30", "10:30"]]}, "invalid_availability"),
    ("hour 25", {"availability": [["06:00", "25:00"]]}, "invalid_availability"),
    ("overlapping windows", {"availability": [["06:00", "10:30"], ["10:00", "12:00"]]}, "invalid_availability"),
    ("same variant name twice", {"variants": [{"name": "大份"}, {"name": "大份", "price_delta_fen": 100}]}, "invalid_variant"),
    ("variant below zero", {"variants": [{"name": "小份", "price_delta_fen": -2801}]}, "invalid_variant"),
    ("variant name with a separator", {"variants": [{"name": "大|份"}]}, "invalid_variant"),
    ("blank variant name", {"variants": [{"name": " "}]}, "invalid_variant"),
    ("option group min above max", {"option_groups": _group(2, 1, (("a", 0), ("b", 0)))}, "invalid_option_group"),
    ("option group max above its options", {"option_groups": _group(0, 3, (("a", 0), ("b", 0)))}, "invalid_option_group"),
    ("option group max of zero", {"option_groups": _group(0, 0)}, "invalid_option_group"),
    ("option group without options", {"option_groups": _group(0, 1, ())}, "invalid_option_group"),
    ("negative min", {"option_groups": _group(-1, 1)}, "invalid_option_group"),
    ("option lowering the price", {"option_groups": _group(0, 1, (("去蛋", -100),))}, "invalid_option_group"),
    ("same option twice", {"option_groups": _group(0, 1, (("加蛋", 0), ("加蛋", 100)))}, "invalid_option_group"),
    ("same group twice", {"option_groups": _group() + _group()}, "invalid_option_group"),
    ("price not a number", {"price_fen": "二十"}, "invalid_input"),
]


@pytest.mark.parametrize(("label", "change", "code"), BAD_PRODUCTS, ids=[c[0] for c in BAD_PRODUCTS])
def test_bad_product_is_refused_and_nothing_is_saved(shop, label, change, code):
    store, owner, category_id = shop
    before = catalog_counts()
    body = {k: v for k, v in noodles(category_id, **change).items() if v is not None}
    answer = owner.post(f"/merchant/stores/{store.public_id}/products", body)
    assert answer.status_code == 422, answer.content
    error = answer.json()
    assert error["code"] == code and error["message"]
    assert catalog_counts() == before


def test_invalid_option_group_says_which_group_and_why(shop):
    store, owner, category_id = shop
    answer = owner.post(f"/merchant/stores/{store.public_id}/products",
                        noodles(category_id, option_groups=_group(2, 3, (("a", 0), ("b", 0)), name="小料")))
    assert answer.json()["details"] == {"field": "option_groups", "reason": "choices", "group": "小料",
                                        "min_choices": 2, "max_choices": 3, "options": 2}


def test_a_product_in_another_stores_category_is_refused(shop):
    store, owner, _ = shop
    other = make_store(name="分店", merchant=store.merchant)  # same owner, another store
    foreign = add_category(owner, other, "别家菜")
    before = catalog_counts()
    answer = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(foreign))
    assert answer.status_code == 422 and answer.json()["code"] == "category_not_in_store"
    assert catalog_counts() == before


# --- sold out and stock -----------------------------------------------------------------

def test_staff_toggle_sold_out_and_the_menu_and_orders_follow(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    staff = token_api(staff_of(store))
    off = staff.post(f"/merchant/products/{product['id']}/sold-out", {"sold_out": True})
    assert off.status_code == 200 and off.json()["sold_out"] is True
    shown = Api().get(f"/stores/{store.public_id}/menu").json()["sections"][0]["products"][0]
    assert shown["sold_out"] is True
    consumer, _ = sms_login("13800138000")
    order = consumer.post("/orders", {"store_id": store.public_id, "fulfilment": "pickup",
                                      "items": [{"product_id": product["id"], "quantity": 1}]},
                          headers={"Idempotency-Key": "so"})
    assert order.json()["code"] == "product_sold_out"
    on = staff.post(f"/merchant/products/{product['id']}/sold-out", {"sold_out": False})
    assert on.json()["sold_out"] is False


def test_a_manager_sets_stock_through_the_ledger(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    staff_user = staff_of(store, role="manager")
    staff = token_api(staff_user)
    counted = call(staff, "put", f"/merchant/products/{product['id']}/stock", {"quantity": 12})
    assert counted.status_code == 200 and counted.json()["stock"] == {"quantity": 12, "unlimited": False}
    movement = StockMovement.objects.latest("id")
    assert (movement.delta, movement.reason, movement.actor_id) == (-18, "adjust", staff_user.pk)
    same = call(staff, "put", f"/merchant/products/{product['id']}/stock", {"quantity": 12})
    assert same.status_code == 200 and StockMovement.objects.count() == 2  # no change, no row
    unlimited = call(staff, "put", f"/merchant/products/{product['id']}/stock", {"unlimited": True})
    assert unlimited.json()["stock"] == {"quantity": 0, "unlimited": True}
    shown = Api().get(f"/stores/{store.public_id}/menu").json()["sections"][0]["products"][0]
    assert (shown["stock"], shown["unlimited"]) == (0, True)


@pytest.mark.parametrize(("body", "kind"), [
    ({"quantity": -1}, "goods"), ({}, "goods"), ({"quantity": 3, "unlimited": True}, "goods"),
    ({"quantity": 2_000_000}, "goods"), ({"quantity": 5}, "service"),
])
def test_bad_stock_is_refused_and_the_ledger_untouched(shop, body, kind):
    store, owner, category_id = shop
    extra = {"kind": "service", "duration_minutes": 30, "stock": None} if kind == "service" else {}
    product = owner.post(f"/merchant/stores/{store.public_id}/products",
                         {k: v for k, v in noodles(category_id, **extra).items() if v is not None}).json()
    before = catalog_counts()
    answer = call(owner, "put", f"/merchant/products/{product['id']}/stock", body)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_stock"
    assert catalog_counts() == before


# --- who may do what ---------------------------------------------------------------------

def _structural_calls(store, category_id, product_id):
    return [
        ("post", f"/merchant/stores/{store.public_id}/menu-categories", {"name": "新分类"}),
        ("patch", f"/merchant/menu-categories/{category_id}", {"name": "改名"}),
        ("delete", f"/merchant/menu-categories/{category_id}", None),
        ("post", f"/merchant/stores/{store.public_id}/menu-categories/reorder", {"ids": [category_id]}),
        ("post", f"/merchant/stores/{store.public_id}/products", noodles(category_id, name="新菜")),
        ("patch", f"/merchant/products/{product_id}", {"price_fen": 1}),
        ("delete", f"/merchant/products/{product_id}", None),
    ]


def test_staff_may_read_toggle_and_count_but_not_change_the_menu(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    staff = token_api(staff_of(store))
    assert staff.get(f"/merchant/stores/{store.public_id}/products").status_code == 200
    assert staff.get(f"/merchant/stores/{store.public_id}/menu-categories").status_code == 200
    before = catalog_counts()
    for method, path, body in _structural_calls(store, category_id, product["id"]):
        answer = call(staff, method, path, body)
        assert answer.status_code == 403, (method, path, answer.content)
        assert answer.json()["code"] == "permission_denied"
    assert catalog_counts() == before
    assert Product.objects.get().price_fen == 2800 and MenuCategory.objects.get().name == "热菜"


@pytest.mark.parametrize("who", ["other merchant", "consumer"])
def test_outsiders_cannot_see_or_touch_the_menu(shop, who):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    outsider = owner_of(shop_store(name="隔壁店")) if who == "other merchant" else sms_login("13800138001")[0]
    before = catalog_counts()
    calls = _structural_calls(store, category_id, product["id"]) + [
        ("get", f"/merchant/stores/{store.public_id}/products", None),
        ("get", f"/merchant/stores/{store.public_id}/menu-categories", None),
        ("post", f"/merchant/products/{product['id']}/sold-out", {"sold_out": True}),
        ("put", f"/merchant/products/{product['id']}/stock", {"quantity": 1}),
    ]
    expected = {"stores": "store_not_found", "menu-categories": "category_not_found",
                "products": "product_not_found"}
    for method, path, body in calls:
        answer = call(outsider, method, path, body) if method != "get" else outsider.get(path)
        assert answer.status_code == 404, (method, path, answer.content)
        assert answer.json()["code"] == expected[path.split("/")[2]], path
    assert catalog_counts() == before and not Product.objects.get().is_sold_out


def test_the_console_needs_a_login(shop):
    store, _, _ = shop
    assert Api().get(f"/merchant/stores/{store.public_id}/products").status_code == 401
    assert Api().post(f"/merchant/stores/{store.public_id}/menu-categories", {"name": "x"}).status_code == 401


def test_unknown_ids_are_404(shop):
    _, owner, _ = shop
    assert owner.get("/merchant/stores/sto_nope/products").json()["code"] == "store_not_found"
    assert call(owner, "patch", "/merchant/products/prd_nope", {"name": "x"}).json()["code"] == "product_not_found"
    assert call(owner, "delete", "/merchant/menu-categories/mct_x").json()["code"] == "category_not_found"


# --- the public menu ---------------------------------------------------------------------

def test_available_now_reads_the_windows_in_the_stores_time_zone(shop):
    store, owner, category_id = shop
    owner.post(f"/merchant/stores/{store.public_id}/products",
               noodles(category_id, name="早餐面", availability=[["06:00", "10:30"]]))
    owner.post(f"/merchant/stores/{store.public_id}/products",
               noodles(category_id, name="全天面", availability=[]))

    def available(at):
        products = store_menu(store=store, at=at)[0].products.all()
        return {p.name: p.available_now for p in products}

    shanghai = ZoneInfo("Asia/Shanghai")
    assert available(datetime(2026, 3, 2, 7, 30, tzinfo=shanghai)) == {"早餐面": True, "全天面": True}
    assert available(datetime(2026, 3, 2, 12, 0, tzinfo=shanghai)) == {"早餐面": False, "全天面": True}
    # 23:30 UTC is 07:30 the next morning in Shanghai
    assert available(datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC")))["早餐面"] is True


def test_the_public_menu_hides_empty_categories_and_unlisted_products(shop):
    store, owner, category_id = shop
    add_category(owner, store, "空分类")
    kept = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    gone = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id, name="旧菜")).json()
    call(owner, "delete", f"/merchant/products/{gone['id']}")
    menu = Api().get(f"/stores/{store.public_id}/menu").json()
    assert [[p["id"] for p in s["products"]] for s in menu["sections"]] == [[kept["id"]]]


def _menu_of(store, owner, categories: int, per_category: int) -> None:
    for c in range(categories):
        category_id = add_category(owner, store, f"分类{c}")
        for p in range(per_category):
            owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id, name=f"菜{c}-{p}"))


def test_the_public_menu_takes_a_fixed_number_of_queries(django_assert_max_num_queries, django_assert_num_queries):
    small, large = shop_store(name="小店"), shop_store(name="大店")
    _menu_of(small, owner_of(small), 1, 1)
    _menu_of(large, owner_of(large), 4, 6)
    for store, products in ((small, 1), (large, 24)):
        # Built: store, categories, products, variants, groups, options; then the stock.
        with django_assert_max_num_queries(7):
            built = Api().get(f"/stores/{store.public_id}/menu").json()
        # Cached (the store's key and time zone too): its stock only, whatever the menu's size.
        with django_assert_num_queries(1):
            menu = Api().get(f"/stores/{store.public_id}/menu").json()
        assert menu == built
        assert sum(len(s["products"]) for s in menu["sections"]) == products
        assert all(len(p["option_groups"][0]["options"]) == 2 for s in menu["sections"] for p in s["products"])


# --- images ------------------------------------------------------------------------------

def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(api: Api, product_id: str, content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.client.post(f"/api/v1/merchant/products/{product_id}/image",
                           {"file": SimpleUploadedFile(name, content)}, headers=api._headers(None))


def test_owner_uploads_a_checked_image_and_the_menu_links_it(shop, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    answer = _upload(owner, product["id"], _png(), "../../etc/passwd.png")
    assert answer.status_code == 200, answer.content
    url = answer.json()["image"]
    assert url.endswith(".png") and "passwd" not in url
    shown = Api().get(f"/stores/{store.public_id}/menu").json()["sections"][0]["products"][0]
    assert shown["image"] == url
    replaced = _upload(owner, product["id"], _png(), "again.png").json()["image"]
    assert replaced != url


@pytest.mark.parametrize(("who", "content", "status", "code"), [
    ("owner", b"not an image at all", 422, "invalid_image"),
    ("owner", b"GIF89a" + b"\x00" * 32, 422, "invalid_image"),
    ("owner", b"x" * (5 * 1024 * 1024 + 1), 413, "file_too_large"),
    ("staff", None, 403, "permission_denied"),
])
def test_bad_images_and_staff_uploads_are_refused(shop, settings, tmp_path, who, content, status, code):
    settings.MEDIA_ROOT = tmp_path
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    api = owner if who == "owner" else token_api(staff_of(store))
    answer = _upload(api, product["id"], content or _png(), "photo.png")
    assert answer.status_code == status and answer.json()["code"] == code
    assert Product.objects.get().image == "" and not any(tmp_path.rglob("*.*"))


def test_patch_fills_in_nested_defaults(shop):
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    answer = call(owner, "patch", f"/merchant/products/{product['id']}",
                  {"variants": [{"name": "标准"}], "option_groups": [{"name": "加料", "options": [{"name": "加蛋"}]}]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["variants"][0]["price_delta_fen"] == 0
    assert answer.json()["option_groups"][0]["max_choices"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_name_leave_one_product():
    """The store row lock serialises menu edits, so the name check cannot race."""
    from tests.orders.test_concurrency import run_concurrently

    store = shop_store()
    owner = owner_of(store)
    category_id = add_category(owner, store)
    url = f"/merchant/stores/{store.public_id}/products"
    clients = [Api(token=owner.token) for _ in range(8)]
    answers = run_concurrently([lambda api=api: api.post(url, noodles(category_id)) for api in clients])
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"product_name_taken"}
    assert Product.objects.count() == 1 and StockMovement.objects.count() == 1
