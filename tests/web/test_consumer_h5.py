"""Consumer H5, the full version: home feed (city, category grid, banners, hot stores,
rich nearby cards), store page (photos, hours today, tabs, sticky category bar, the
variant/option picker), the cart with choices, checkout from the address book with the
fee by distance tier, the address book pages, and the English switch."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from linli.accounts.models import Address, User
from linli.discovery.models import Banner, HotStore
from linli.merchants.models import Option, OptionGroup, ProductVariant, Store, StorePhoto
from linli.orders.models import Order, OrderItem
from tests.fixtures import make_product, make_store, next_phone, token_api

from .helpers import web_sms_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _png() -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (255, 195, 0)).save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name="p.png")


@pytest.fixture
def tea(store):
    product = make_product(store, name="招牌奶茶", price_fen=1500)
    product.large = ProductVariant.objects.create(product=product, name="大杯", price_delta_fen=300, sort=1)
    product.medium = ProductVariant.objects.create(product=product, name="中杯", price_delta_fen=0, sort=0)
    sweet = OptionGroup.objects.create(product=product, name="甜度", min_choices=1, max_choices=1)
    product.half = Option.objects.create(group=sweet, name="半糖")
    product.full = Option.objects.create(group=sweet, name="全糖")
    toppings = OptionGroup.objects.create(product=product, name="加料", min_choices=0, max_choices=2, sort=1)
    product.pearl = Option.objects.create(group=toppings, name="珍珠", price_delta_fen=100)
    return product


def _key(page) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode()).group(1)


# --- home --------------------------------------------------------------------------------

def test_home_shows_city_categories_banner_hot_stores_and_rich_nearby_cards(store, media):
    now = timezone.now()
    banner = Banner(city_code="shanghai", title="新人立减 10 元", link="/search?q=奶茶",
                    starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1))
    banner.image.save("b.png", _png(), save=True)
    photo = StorePhoto(store=store, sort=0)
    photo.image.save("s.png", _png(), save=True)
    HotStore.objects.create(city_code="shanghai", store=store, starts_at=now - timedelta(hours=1),
                            ends_at=now + timedelta(days=1))
    busy = make_store(name="忙碌小馆", lat=31.2310, lng=121.4740)
    busy.status = Store.Status.PAUSED
    busy.save()
    make_store(name="歇业小店", lat=31.2312, lng=121.4742, hours=[[] for _ in range(7)])  # never open

    body = Client().get("/").content.decode()
    assert 'data-testid="city"' in body and "上海" in body
    assert "🍜" in body and "美食" in body  # the category grid from the home feed
    assert "新人立减 10 元" in body and banner.image.url in body
    assert 'data-testid="hot"' in body
    assert photo.image.url in body  # the store card's thumbnail
    card = body[body.index('data-testid="nearby"'):]
    assert "老王家常菜" in card and "¥5.00" in card  # delivery fee
    assert re.search(r"about 15 min|约 ?15 ?分钟", card)  # 15 min to prepare, next door
    assert 'data-testid="badge-paused"' in card and 'data-testid="badge-closed"' in card


def test_eta_is_prep_time_plus_the_ride():
    from linli.web.views_consumer import eta_minutes

    assert eta_minutes(15, 0) == 15
    assert eta_minutes(15, 2500) == 25  # 10 minutes of riding
    assert eta_minutes(12, 260) == 15  # rounded up to five minutes


def test_the_category_grid_filters_the_nearby_list(store):
    from linli.merchants.models import StoreCategory

    shop = StoreCategory.objects.create(slug="fruit", name_zh="水果", name_en="Fruit", sort=3)
    make_store(name="鲜果铺", category=shop, lat=31.2306, lng=121.4739)
    body = Client().get("/", {"category": "fruit"}).content.decode()
    nearby = body[body.index('data-testid="nearby"'):]
    assert "鲜果铺" in nearby and "老王家常菜" not in nearby
    assert "🍉" in body
    unknown = Client().get("/", {"category": "nope"}).content.decode()
    assert "老王家常菜" in unknown[unknown.index('data-testid="nearby"'):]


# --- store page and picker ---------------------------------------------------------------

def test_store_page_photos_hours_tabs_and_the_picker(store, tea, media, product):
    photo = StorePhoto(store=store)
    photo.image.save("s.png", _png(), save=True)
    body = Client().get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="carousel"' in body and photo.image.url in body
    assert 'data-testid="hours-today"' in body and "00:00–24:00" in body
    assert store.address in body and 'data-testid="category-bar"' in body
    picker = body[body.index(f'id="pick-{tea.public_id}"'):]
    picker = picker[:picker.index("</dialog>")]
    assert "大杯" in picker and "+¥3.00" in picker and "+¥1.00" in picker
    assert 'data-min="1" data-max="1"' in picker and 'data-min="0" data-max="2"' in picker
    assert f'value="{tea.large.public_id}"' in picker and f'value="{tea.pearl.public_id}"' in picker
    assert f'id="pick-{product.public_id}"' not in body  # a plain dish is added straight away

    reviews = Client().get(f"/stores/{store.public_id}", {"tab": "reviews"}).content.decode()
    assert 'data-testid="reviews"' in reviews and 'data-testid="dish"' not in reviews
    assert 'data-testid="review-filters"' in reviews  # the reviews app's list (tests/reviews)


def test_cart_keeps_choices_and_prices_them(store, tea):
    client = Client()
    added = client.post(f"/stores/{store.public_id}/cart", {
        "product_id": tea.public_id, "delta": 1, "variant": tea.large.public_id,
        "options": [tea.half.public_id, tea.pearl.public_id]})
    assert added.status_code == 302
    client.post(f"/stores/{store.public_id}/cart", {
        "product_id": tea.public_id, "delta": 1, "variant": tea.medium.public_id,
        "options": [tea.full.public_id]})
    body = client.get(f"/stores/{store.public_id}").content.decode()
    cart = body[body.index('data-testid="cart"'):]
    assert cart.count('data-testid="cart-line"') == 2
    assert "大杯 · 半糖 · 珍珠" in cart and "¥19.00" in cart  # 15 + 3 + 1
    assert "¥40.00" in cart  # 19 + 15 + 1 packaging + 5 delivery
    line = re.search(r'name="line" value="([^"]+)"', cart).group(1)
    client.post(f"/stores/{store.public_id}/cart", {"line": line, "delta": -1})
    assert client.get(f"/stores/{store.public_id}").content.decode().count('data-testid="cart-line"') == 1


@pytest.mark.parametrize(("fields", "code"), [
    ({"options": ["HALF"]}, "variant_required"),
    ({"variant": "var_nope", "options": ["HALF"]}, "variant_unknown"),
    ({"variant": "LARGE"}, "option_choice_count"),
    ({"variant": "LARGE", "options": ["HALF", "opt_nope"]}, "option_unknown"),
])
def test_the_server_checks_the_picker_again(store, tea, fields, code):
    ids = {"HALF": tea.half.public_id, "LARGE": tea.large.public_id}
    data = {k: ([ids.get(x, x) for x in v] if isinstance(v, list) else ids.get(v, v)) for k, v in fields.items()}
    client = Client()
    answer = client.post(f"/stores/{store.public_id}/cart", {"product_id": tea.public_id, "delta": 1, **data})
    assert answer.status_code == 422
    body = answer.content.decode()
    assert f'data-code="{code}"' in body and f'id="pick-{tea.public_id}"' in body
    assert "data-open-now" in body
    assert client.session.get("web_carts", {}) == {}


# --- checkout with the address book -------------------------------------------------------

def test_checkout_preselects_the_default_address_and_prices_by_distance_tier(store, tea):
    store.delivery_fee_tiers = [{"max_m": 500, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 800}]
    store.save()
    phone = next_phone()
    client = web_sms_login(phone)
    user = User.objects.get(phone=phone)
    api = token_api(user)
    near = api.post("/me/addresses", {"label": "公司", "contact_name": "李四", "contact_phone": "13912345678",
                                      "text": "黄浦区南京东路 1 号", "lat": 31.2310, "lng": 121.4740}).json()
    home = api.post("/me/addresses", {"label": "家", "contact_name": "李四", "contact_phone": "13912345678",
                                      "text": "黄浦区人民大道 200 号", "detail": "5 楼",
                                      "lat": 31.2400, "lng": 121.4800, "is_default": True}).json()
    far = api.post("/me/addresses", {"label": "老家", "contact_name": "李四", "contact_phone": "13912345678",
                                     "text": "北京朝阳区", "lat": 39.93, "lng": 116.46}).json()
    client.post(f"/stores/{store.public_id}/cart", {"product_id": tea.public_id, "delta": 1,
                                                    "variant": tea.large.public_id,
                                                    "options": [tea.half.public_id]})
    page = client.get(f"/stores/{store.public_id}/checkout")
    body = page.content.decode()
    assert re.search(rf'value="{home["id"]}"\s+checked', body)  # the default is preselected
    assert re.search(rf'value="{far["id"]}"\s+disabled', body)  # outside the area: not selectable
    assert 'data-fee="800"' in body and 'data-fee="300"' in body
    assert "¥8.00" in body and 'data-testid="fee-tiers"' in body
    assert "31.24000, 121.48000" in body  # the saved point is shown with its distance

    placed = client.post(f"/stores/{store.public_id}/checkout", {
        "idempotency_key": _key(page), "fulfilment": "delivery", "address_id": near["id"]})
    assert placed.status_code == 302, placed.content.decode()[:2000]
    order = Order.objects.get(consumer=user)
    assert order.delivery_fee_fen == 300  # within 500 m
    assert order.address["text"] == "黄浦区南京东路 1 号" and order.address["contact_phone"] == "+8613912345678"
    assert (order.address["lat"], order.address["lng"]) == (31.2310, 121.4740)
    item = OrderItem.objects.get(order=order)
    assert item.variant["name"] == "大杯" and item.unit_price_fen == 1800
    receipt = client.get(f"/orders/{order.public_id}").content.decode()
    assert "大杯 / 半糖" in receipt


def test_checkout_refuses_someone_elses_address_and_pickup_needs_none(store, product):
    other = token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))
    theirs = other.post("/me/addresses", {"contact_name": "王五", "contact_phone": "13912345678",
                                          "text": "黄浦区", "lat": 31.231, "lng": 121.474}).json()["id"]
    client = web_sms_login(next_phone())
    client.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})
    page = client.get(f"/stores/{store.public_id}/checkout")
    answer = client.post(f"/stores/{store.public_id}/checkout", {
        "idempotency_key": _key(page), "fulfilment": "delivery", "address_id": theirs})
    assert answer.status_code == 404 and 'data-code="address_not_found"' in answer.content.decode()
    assert not Order.objects.exists()
    pickup = client.post(f"/stores/{store.public_id}/checkout", {
        "idempotency_key": _key(page), "fulfilment": "pickup", "address_id": theirs})
    assert pickup.status_code == 302
    assert Order.objects.get().address is None


# --- the address book pages -----------------------------------------------------------------

def _address_form(**changes):
    form = {"label": "家", "contact_name": "张三", "contact_phone": "13912345678",
            "text": "黄浦区人民大道 200 号", "detail": "3 号楼", "lat": "31.2330", "lng": "121.4760",
            "step": "save"}
    form.update(changes)
    return form


def test_address_pages_add_edit_default_delete(store):
    phone = next_phone()
    client = web_sms_login(phone)
    user = User.objects.get(phone=phone)
    assert client.get("/me/addresses").status_code == 200
    assert client.get("/me/addresses/new").status_code == 200
    saved = client.post("/me/addresses/new", _address_form())
    assert saved.status_code == 302 and saved["Location"] == "/me/addresses"
    by_text = client.post("/me/addresses/new", _address_form(label="公司", text="黄浦区南京东路 1 号",
                                                            lat="", lng="", next="/stores/x"))
    assert by_text.status_code == 302 and by_text["Location"] == "/stores/x"
    first, second = Address.objects.filter(user=user).order_by("id")
    assert second.located_by == "text" and (second.lat, second.lng) == (store.lat, store.lng)
    listing = client.get("/me/addresses").content.decode()
    assert listing.count('data-testid="address-card"') == 2
    assert "located from the address text" in listing or "根据地址文字定位" in listing

    edit = client.get(f"/me/addresses/{first.public_id}")
    assert 'value="黄浦区人民大道 200 号"' in edit.content.decode()
    client.post(f"/me/addresses/{first.public_id}", _address_form(detail="9 楼"))
    first.refresh_from_db()
    assert first.detail == "9 楼"
    client.post(f"/me/addresses/{second.public_id}/default")
    second.refresh_from_db()
    assert second.is_default
    client.post(f"/me/addresses/{second.public_id}/delete")
    assert list(Address.objects.filter(user=user)) == [first]
    first.refresh_from_db()
    assert first.is_default


def test_address_form_shows_field_errors_from_the_service(store):
    client = web_sms_login(next_phone())
    answer = client.post("/me/addresses/new", _address_form(text="", lat="95", contact_phone="12"))
    assert answer.status_code == 422
    body = answer.content.decode()
    assert 'data-code="invalid_address"' in body
    assert body.count('aria-invalid="true"') == 3
    assert 'id="e-text"' in body and 'id="e-lat"' in body and 'id="e-phone"' in body
    not_found = client.post("/me/addresses/new", _address_form(text="火星基地", lat="", lng=""))
    assert not_found.status_code == 422 and 'data-code="address_not_located"' in not_found.content.decode()
    assert not Address.objects.exists()


def test_locate_shows_the_resolved_point_without_saving(store):
    client = web_sms_login(next_phone())
    answer = client.post("/me/addresses/new", _address_form(text="黄浦区南京东路 1 号", lat="", lng="",
                                                           step="locate"))
    body = answer.content.decode()
    assert answer.status_code == 200 and 'data-testid="located"' in body
    assert f'value="{store.lat:.6f}"' in body and "黄浦区南京东路附近" in body
    assert not Address.objects.exists()


def test_someone_elses_address_pages_are_404(store):
    owner = token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))
    theirs = owner.post("/me/addresses", {"contact_name": "王五", "contact_phone": "13912345678",
                                          "text": "黄浦区", "lat": 31.231, "lng": 121.474}).json()["id"]
    client = web_sms_login(next_phone())
    assert client.get(f"/me/addresses/{theirs}").status_code == 404
    assert client.post(f"/me/addresses/{theirs}", _address_form()).status_code == 404
    assert client.post(f"/me/addresses/{theirs}/delete").status_code == 404
    assert client.post(f"/me/addresses/{theirs}/default").status_code == 404
    assert Address.objects.get(public_id=theirs).text == "黄浦区"


def test_address_book_needs_login():
    answer = Client().get("/me/addresses")
    assert answer.status_code == 302 and answer["Location"].startswith("/login?next=")


# --- language ---------------------------------------------------------------------------------

def test_the_header_has_the_english_switch_and_english_renders(store):
    client = Client()
    chinese = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in chinese and 'value="en"' in chinese and "English" in chinese
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    assert '<html lang="en">' in english and "Hot stores" in english and "Food" in english
    assert 'value="zh-hans"' in english  # and back to Chinese
