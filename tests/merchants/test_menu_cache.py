"""The public menu's cache (merchants.menu_cache): every way a merchant changes the menu shows
in the next read, stock and "orderable now" are never cached, and a lost version token
never brings back an old menu."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.inventory.services import stock_set
from linli.merchants.admin import ProductAdmin
from linli.merchants.api_catalog import MenuOut
from linli.merchants.menu_cache import menu_json
from linli.merchants.models import Product
from tests.fixtures import Api
from tests.merchants.test_catalog import add_category, call, noodles, shop  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def menu(store) -> dict:
    answer = Api().get(f"/stores/{store.public_id}/menu")
    assert answer.status_code == 200, answer.content
    return answer.json()


def products(store) -> dict[str, dict]:
    return {p["name"]: p for s in menu(store)["sections"] for p in s["products"]}


@pytest.fixture
def listed(shop):  # noqa: F811
    """A store with one product whose menu has been read (so it is cached)."""
    store, owner, category_id = shop
    product = owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id)).json()
    assert products(store)["牛肉面"]["price_fen"] == 2800
    return store, owner, category_id, product


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


def _edits():
    """(label, change through the console, what the next menu must show)."""
    def price(store, owner, category_id, product):
        call(owner, "patch", f"/merchant/products/{product['id']}", {"price_fen": 3100})
        return products(store)["牛肉面"]["price_fen"] == 3100

    def variants(store, owner, category_id, product):
        call(owner, "patch", f"/merchant/products/{product['id']}",
             {"variants": [{"name": "特大份", "price_delta_fen": 900}]})
        return [v["name"] for v in products(store)["牛肉面"]["variants"]] == ["特大份"]

    def options(store, owner, category_id, product):
        call(owner, "patch", f"/merchant/products/{product['id']}", {"option_groups": []})
        return products(store)["牛肉面"]["option_groups"] == []

    def sold_out(store, owner, category_id, product):
        owner.post(f"/merchant/products/{product['id']}/sold-out", {"sold_out": True})
        return products(store)["牛肉面"]["sold_out"] is True

    def unlisted(store, owner, category_id, product):
        call(owner, "delete", f"/merchant/products/{product['id']}")
        return "牛肉面" not in products(store)

    def added(store, owner, category_id, product):
        owner.post(f"/merchant/stores/{store.public_id}/products", noodles(category_id, name="炸酱面"))
        return set(products(store)) == {"牛肉面", "炸酱面"}

    def renamed(store, owner, category_id, product):
        call(owner, "patch", f"/merchant/menu-categories/{category_id}", {"name": "面食"})
        return [s["name"] for s in menu(store)["sections"]] == ["面食"]

    def reordered(store, owner, category_id, product):
        other = add_category(owner, store, "凉菜")
        owner.post(f"/merchant/stores/{store.public_id}/products", noodles(other, name="拍黄瓜"))
        menu(store)  # cached with 热菜 first
        owner.post(f"/merchant/stores/{store.public_id}/menu-categories/reorder", {"ids": [other, category_id]})
        return [s["name"] for s in menu(store)["sections"]] == ["凉菜", "热菜"]

    def imported(store, owner, category_id, product):
        upload = SimpleUploadedFile("menu.csv", "分类,名称,价格\n热菜,牛肉面,35.00\n".encode(), "text/csv")
        answer = owner.client.post(f"/api/v1/merchant/stores/{store.public_id}/menu/import?mode=merge",
                                   {"file": upload}, headers=owner._headers(None))
        assert answer.status_code == 200, answer.content
        return products(store)["牛肉面"]["price_fen"] == 3500

    def image(store, owner, category_id, product):
        owner.client.post(f"/api/v1/merchant/products/{product['id']}/image",
                          {"file": SimpleUploadedFile("a.png", _png())}, headers=owner._headers(None))
        return (products(store)["牛肉面"]["image"] or "").endswith(".png")

    def django_admin(store, owner, category_id, product):
        row = Product.objects.get(public_id=product["id"])
        row.name = "红烧牛肉面"
        ProductAdmin(Product, admin.site).save_model(None, row, None, True)
        return "红烧牛肉面" in products(store)

    return [price, variants, options, sold_out, unlisted, added, renamed, reordered, imported, image,
            django_admin]


@pytest.mark.parametrize("edit", _edits(), ids=lambda f: f.__name__)
def test_every_menu_edit_shows_in_the_next_read(listed, edit, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert edit(*listed), f"{edit.__name__}: the menu still shows the cached version"


def test_a_write_that_bypasses_the_services_stays_hidden_until_the_next_version(listed):
    """The honest limit of the cache (the TTL bounds it): the proof that the reads above
    were served from the cache, not rebuilt every time."""
    store, _owner, _category_id, product = listed
    Product.objects.filter(public_id=product["id"]).update(price_fen=1)
    assert products(store)["牛肉面"]["price_fen"] == 2800
    cache.clear()  # the token is gone: a new one, never the old document
    assert products(store)["牛肉面"]["price_fen"] == 1


def test_stock_is_read_per_request_not_cached(listed):
    store, _owner, _category_id, product = listed
    stock_set(product=Product.objects.get(public_id=product["id"]), quantity=7)
    assert products(store)["牛肉面"]["stock"] == 7
    stock_set(product=Product.objects.get(public_id=product["id"]), quantity=0, unlimited=True)
    shown = products(store)["牛肉面"]
    assert (shown["stock"], shown["unlimited"]) == (0, True)


def test_available_now_follows_the_clock_on_one_cached_shape(listed):
    store, *_ = listed  # 牛肉面 sells 06:00-10:30 and 17:00-21:00, Shanghai time
    shanghai = ZoneInfo("Asia/Shanghai")

    def available(at: datetime) -> bool:
        import json
        return json.loads(menu_json(store, at=at))["sections"][0]["products"][0]["available_now"]

    assert available(datetime(2026, 3, 2, 7, 30, tzinfo=shanghai)) is True
    assert available(datetime(2026, 3, 2, 12, 0, tzinfo=shanghai)) is False
    assert available(datetime(2026, 3, 2, 18, 0, tzinfo=shanghai)) is True


def test_the_answer_is_what_the_schema_says(listed):
    store, *_ = listed
    answer = menu(store)
    assert MenuOut.model_validate(answer).model_dump(mode="json") == answer
