"""The consumer H5 in a real browser: home feed, a store with photos, the variant/option
picker (checked in the browser, then again by the server), a new address located by the
browser's geolocation and resolved by the gazetteer, checkout from the address book with
the fee by distance, and payment on the sandbox cashier.

Setup as in test_browser.py: Debian's /usr/bin/chromium through Playwright against
pytest-django's live server. Screenshots at 375 and 1280 px go to
var/screenshots/consumer-{home,store,picker,address,checkout}-{375,1280}.png.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from linli.accounts.models import Address
from linli.discovery.models import Banner, HotStore
from linli.merchants.models import Option, OptionGroup, ProductVariant, StorePhoto
from linli.orders.models import Order, OrderItem
from tests.fixtures import make_product, make_store
from tests.web.browser import PHONE, TIMEOUT_MS, shot, sms_code

CONSUMER_PHONE = "+8613800138456"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _image(colour: tuple[int, int, int], size: tuple[int, int] = (640, 360)) -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name="photo.png")


@pytest.fixture
def shop(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    store = make_store(name="一点点奶茶(人民广场店)", address="黄浦区南京东路 1 号",
                       delivery_fee_tiers=[{"max_m": 1000, "fee_fen": 300}, {"max_m": 3000, "fee_fen": 600}])
    for sort, colour in enumerate(((255, 195, 0), (255, 138, 0))):
        photo = StorePhoto(store=store, sort=sort)
        photo.image.save("p.png", _image(colour), save=True)
    now = timezone.now()
    banner = Banner(city_code="shanghai", title="夏日饮品 8 折", link=f"/stores/{store.public_id}",
                    starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=7))
    banner.image.save("b.png", _image((120, 200, 255), (750, 240)), save=True)
    HotStore.objects.create(city_code="shanghai", store=store, starts_at=now - timedelta(hours=1),
                            ends_at=now + timedelta(days=7))
    tea = make_product(store, name="招牌奶茶", price_fen=1500)
    ProductVariant.objects.create(product=tea, name="中杯", sort=0)
    ProductVariant.objects.create(product=tea, name="大杯", price_delta_fen=300, sort=1)
    sweet = OptionGroup.objects.create(product=tea, name="甜度", min_choices=1, max_choices=1, sort=0)
    for name in ("全糖", "半糖", "无糖"):
        Option.objects.create(group=sweet, name=name)
    toppings = OptionGroup.objects.create(product=tea, name="加料", min_choices=0, max_choices=2, sort=1)
    for name, delta in (("珍珠", 100), ("椰果", 150), ("布丁", 200)):
        Option.objects.create(group=toppings, name=name, price_delta_fen=delta)
    make_product(store, name="鸡蛋仔", price_fen=1200)
    return store


def test_pick_a_variant_and_options_save_an_address_check_out_and_pay(live_server, chromium, shop):
    url = live_server.url
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN", permissions=["geolocation"],
                               geolocation={"latitude": 31.2334, "longitude": 121.4790})
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()

    page.goto(f"{url}/login?next=/")
    page.get_by_test_id("phone").fill(CONSUMER_PHONE)
    page.get_by_test_id("send-code").click()
    page.wait_for_selector("[data-testid=sent]")
    page.get_by_test_id("code").fill(sms_code(CONSUMER_PHONE))
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{url}/")
    page.wait_for_selector("[data-testid=categories]")
    assert "上海" in page.get_by_test_id("city").inner_text()
    shot(page, "consumer-home")

    page.get_by_test_id("nearby").get_by_text("一点点奶茶").click()
    page.wait_for_selector("[data-testid=store-name]")
    page.wait_for_selector("[data-testid=carousel] img")
    shot(page, "consumer-store")

    # The picker: adding without the required sweetness is stopped in the browser.
    page.get_by_test_id("choose").click()
    picker = page.locator("dialog[open]")
    picker.wait_for()
    picker.get_by_text("大杯").click()
    picker.get_by_test_id("picker-add").click()
    error = picker.locator("[data-picker-error]")
    error.wait_for(state="visible")
    assert "甜度" in error.inner_text()
    picker.get_by_text("半糖").click()
    picker.get_by_text("珍珠").click()
    assert picker.locator("[data-price]").inner_text() == "19.00"  # 15 + 3 + 1
    shot(page, "consumer-picker")
    picker.get_by_test_id("picker-add").click()
    page.wait_for_selector("[data-testid=cart-line]")
    assert "大杯 · 半糖 · 珍珠" in page.get_by_test_id("cart").inner_text()

    # A new address for the book: the browser's location fills the point; "Locate" shows it.
    page.goto(f"{url}/me/addresses/new?next=/stores/{shop.public_id}/checkout")
    page.get_by_test_id("address-text").fill("黄浦区南京东路 200 号")
    page.get_by_test_id("address-detail").fill("3 号楼 1202")
    page.get_by_role("button", name=re.compile("^(Use my location|使用我的位置)$")).click()
    page.wait_for_function("document.querySelector('[data-testid=address-lat]').value !== ''")
    assert page.get_by_test_id("address-lat").input_value().startswith("31.2334")
    page.get_by_test_id("address-contact-name").fill("张三")
    page.get_by_test_id("address-label").fill("公司")
    page.get_by_test_id("address-locate").click()
    page.wait_for_selector("[data-testid=located]")
    assert "黄浦区南京东路附近" in page.get_by_test_id("located").inner_text()
    shot(page, "consumer-address")
    page.get_by_test_id("address-save").click()
    page.wait_for_url(re.compile(r".*/checkout$"))
    address = Address.objects.get()
    assert address.is_default and address.located_by == "device"

    # Checkout: the saved address is preselected, with its distance and fee tier.
    choice = page.get_by_test_id("address-choice")
    assert choice.is_checked()
    assert page.get_by_test_id("delivery-fee").inner_text() == "¥3.00"  # within 1 km
    assert page.get_by_test_id("total").first.inner_text() == "¥23.00"  # 18+1 item, 1 packaging, 3 delivery
    promise = page.get_by_test_id("address-promise").inner_text()  # the promised time, quiet city
    assert re.search(r"预计 \d\d:\d\d 送达（约 \d+ 分钟）", promise), promise
    assert page.get_by_test_id("peak-notice").count() == 0
    shot(page, "consumer-checkout")
    page.get_by_test_id("place").click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+/pay$"))  # the cashier (收银台)
    page.get_by_test_id("method-sandbox").click()
    page.get_by_test_id("pay-submit").click()
    page.wait_for_url(re.compile(r".*/pay/sandbox/.*"))
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r".*/orders/ord_\w+$"))
    assert page.get_by_test_id("order-status").get_attribute("data-status") == "paid"
    assert page.get_by_test_id("promised-at").inner_text().startswith("预计送达")
    assert "大杯 / 半糖, 珍珠" in page.get_by_test_id("order-item-choices").inner_text()

    order = Order.objects.get()
    assert order.total_fen == 2300 and order.delivery_fee_fen == 300
    shown = timezone.localtime(order.promised_at, ZoneInfo(order.store.timezone)).strftime("%H:%M")
    assert page.get_by_test_id("promised-at").inner_text() == f"预计送达 {shown}"
    assert order.address["text"] == "黄浦区南京东路 200 号 3 号楼 1202"
    item = OrderItem.objects.get(order=order)
    assert item.variant["name"] == "大杯" and [o["name"] for o in item.options] == ["半糖", "珍珠"]
    ctx.close()
