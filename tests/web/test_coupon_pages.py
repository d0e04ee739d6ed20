"""Consumer coupon pages (issue 9): the store page shows its live promotions and the coupons
it offers (claimed through marketing's claim service: sold out, limit and visitors handled),
"my coupons" lists usable ones first and the others with their reason, and the checkout's
coupon picker preselects the best coupon and sends the chosen one with the order, the way
the API does (a refusal is shown with the form kept and nothing placed)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linli.inventory.models import StockItem
from linli.marketing.models import Coupon, CouponEvent
from linli.orders.models import Order
from tests.fixtures import make_product, make_store
from tests.marketing.helpers import make_promotion, make_template

from .helpers import web_sms_login

pytestmark = pytest.mark.django_db

PHONE = "13800138091"


@pytest.fixture
def shop():
    store = make_store(delivery_fee_fen=500, packaging_fee_fen=0)
    return store, make_product(store, name="宫保鸡丁", price_fen=2600, stock=50)


def _add(client: Client, store, product, times: int = 1) -> None:
    for _ in range(times):
        assert client.post(f"/stores/{store.public_id}/cart",
                           {"product_id": product.public_id, "delta": 1}).status_code == 302


def _claim(client: Client, store, template):
    return client.post(f"/stores/{store.public_id}/coupons/{template.public_id}/claim")


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def _checked_coupon(page: str) -> str | None:
    found = re.search(r'name="coupon_id" value="([^"]+)" checked', page)
    return found.group(1) if found else None


def _pickup_total(page: str) -> int:
    """The total the page shows for pickup, as it posts it back (shown_totals)."""
    return int(re.search(r"pickup:(\d+)", _hidden(page, "shown_totals")).group(1))


def _pickup_breakdown(page: str) -> str:
    return re.search(r'<div data-when="pickup" hidden>(.*?)</dl>', page, re.S).group(1)


def _post_checkout(client: Client, store, page: str, **fields: str):
    body = {"idempotency_key": _hidden(page, "idempotency_key"), "fulfilment": "pickup",
            "shown_totals": _hidden(page, "shown_totals"), "shown_coupon": _hidden(page, "shown_coupon"),
            "coupon_id": _checked_coupon(page) or "none", **fields}
    return client.post(f"/stores/{store.public_id}/checkout", body)


# --- store page --------------------------------------------------------------------------------

def test_the_store_page_shows_its_promotions_and_special_prices(shop):
    store, product = shop
    other = make_product(store, name="米饭", price_fen=300)
    make_promotion(store)  # 满30减5 / 满50减10 / 满80减18
    make_promotion(store, kind="first_order", name="新客立减3元", tiers=[], amount_fen=300)
    make_promotion(store, kind="special_price", name="限时特价", tiers=[], product=product,
                   special_price_fen=1990, per_order_limit=1)
    make_promotion(make_store(name="别家"), kind="tiered", tiers=[[2000, 300]])  # another store's
    page = Client().get(f"/stores/{store.public_id}").content.decode()
    tiers = re.findall(r'data-testid="promo-tier">([^<]+)<', page)
    assert tiers == ["满30减5", "满50减10", "满80减18"]
    assert 'data-testid="promo-first-order"' in page
    dishes = re.findall(r'data-testid="dish">(.*?)</li>', page, re.S)
    special = next(d for d in dishes if product.name in d)
    assert "¥19.90" in special and "<s" in special and "¥26.00" in special
    assert 'data-testid="special-price"' not in next(d for d in dishes if other.name in d)


def test_a_store_without_promotions_or_coupons_shows_neither(shop):
    store, _ = shop
    make_promotion(store, starts_at=timezone.now() + timedelta(days=1),
                   ends_at=timezone.now() + timedelta(days=2))  # not live yet
    page = Client().get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="promotions"' not in page and 'data-testid="store-coupons"' not in page


def test_the_store_offers_its_own_and_its_categorys_coupons_only(shop):
    store, _ = shop
    own = make_template(name="本店满30减5", scope="store", store=store)
    category = make_template(name="美食满50减8", scope="category", category=store.category,
                             amount_fen=800, threshold_fen=5000)
    make_template(name="别家券", scope="store", store=make_store(name="别家"))
    make_template(name="全平台券")  # platform-wide: not this store's offer
    make_template(name="已截止", scope="store", store=store, claim_ends_at=timezone.now() - timedelta(hours=1))
    make_template(name="已下架", scope="store", store=store, is_active=False)
    page = Client().get(f"/stores/{store.public_id}").content.decode()
    offered = re.findall(r'data-testid="claimable" data-template="([^"]+)"', page)
    assert offered == [own.public_id, category.public_id]
    assert "减¥5 · 满¥30可用 · 领取后7天内有效" in page  # zh-Hans by default


def test_claiming_from_the_store_page_issues_one_coupon(shop):
    store, _ = shop
    template = make_template(name="本店满30减5", scope="store", store=store, per_user_limit=2)
    client = web_sms_login(PHONE)
    page = client.get(f"/stores/{store.public_id}").content.decode()
    key = _hidden(page, "claim_key")
    url = f"/stores/{store.public_id}/coupons/{template.public_id}/claim"
    answer = client.post(url, {"claim_key": key})
    assert answer.status_code == 302
    assert answer["Location"] == f"/stores/{store.public_id}?claimed={template.public_id}#coupons"
    assert client.post(url, {"claim_key": key}).status_code == 302  # a double tap: the same coupon
    coupon = Coupon.objects.get()
    assert coupon.template == template and coupon.user.phone.endswith(PHONE[-8:])
    assert CouponEvent.objects.filter(coupon=coupon, action="claim").count() == 1
    page = client.get(answer["Location"]).content.decode()
    assert 'data-testid="claimed"' in page


def test_claiming_past_the_limit_is_refused_inline(shop):
    store, _ = shop
    template = make_template(scope="store", store=store, per_user_limit=1)
    client = web_sms_login(PHONE)
    assert _claim(client, store, template).status_code == 302
    answer = _claim(client, store, template)
    assert answer.status_code == 409
    page = answer.content.decode()
    assert 'data-code="coupon_claim_limit"' in page and 'data-testid="store-name"' in page
    assert Coupon.objects.count() == 1
    # the page itself no longer offers the claim button for it
    page = client.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="claim"' not in page


def test_a_sold_out_coupon_is_refused_inline_and_marked(shop):
    store, _ = shop
    template = make_template(scope="store", store=store, total_quota=1)
    assert _claim(web_sms_login("13800138092"), store, template).status_code == 302
    client = web_sms_login(PHONE)
    page = client.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="sold-out"' in page and 'data-testid="claim"' not in page
    answer = _claim(client, store, template)
    assert answer.status_code == 409 and 'data-code="coupon_sold_out"' in answer.content.decode()
    assert Coupon.objects.count() == 1
    template.refresh_from_db()
    assert template.issued_count == 1


def test_a_visitor_who_claims_is_sent_to_log_in_and_back(shop):
    store, _ = shop
    template = make_template(scope="store", store=store)
    page = Client().get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="claim"' in page
    answer = _claim(Client(), store, template)
    assert answer.status_code == 302
    assert answer["Location"] == f"/login?next=%2Fstores%2F{store.public_id}"
    assert not Coupon.objects.exists()


def test_claiming_an_unknown_coupon_is_a_404_on_the_page(shop):
    store, _ = shop
    answer = web_sms_login(PHONE).post(f"/stores/{store.public_id}/coupons/cpt_nope/claim")
    assert answer.status_code == 404 and 'data-code="coupon_template_not_found"' in answer.content.decode()
    assert Client().post("/stores/sto_nope/coupons/cpt_nope/claim").status_code == 404
    assert Client().get(f"/stores/{store.public_id}/coupons/cpt_nope/claim").status_code == 405


# --- my coupons --------------------------------------------------------------------------------

def test_my_coupons_lists_usable_ones_first_and_the_others_with_their_reason(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    later = make_template(name="下周可用", valid_from=timezone.now() + timedelta(days=7),
                          valid_until=timezone.now() + timedelta(days=14))
    soon = make_template(name="三天内", valid_days=3)
    week = make_template(name="七天内", valid_days=7)
    used = make_template(name="已用券", threshold_fen=0, amount_fen=100)
    for template in (later, week, soon, used):
        assert _claim(client, store, template).status_code == 302
    used_coupon = Coupon.objects.get(template=used)
    used_coupon.status = Coupon.Status.USED
    used_coupon.save(update_fields=["status"])
    page = client.get("/me/coupons").content.decode()
    usable = re.search(r'data-testid="coupons-usable">(.*?)</ul>', page, re.S).group(1)
    others = re.search(r'data-testid="coupons-others">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"<strong>([^<]+)</strong>", usable) == ["三天内", "七天内"]
    assert re.findall(r'data-code="([^"]+)"', others) == ["coupon_not_yet_valid", "coupon_used"]
    assert "下周可用" in others and 'data-testid="coupon-reason"' in others
    assert 'href="/me/coupons"' in client.get("/orders").content.decode()  # linked from the account tabs


def test_my_coupons_needs_a_login():
    answer = Client().get("/me/coupons")
    assert answer.status_code == 302 and answer["Location"].startswith("/login?next=")


def test_my_coupons_shows_only_my_own(shop):
    store, _ = shop
    template = make_template(name="别人的券")
    _claim(web_sms_login("13800138093"), store, template)
    page = web_sms_login(PHONE).get("/me/coupons").content.decode()
    assert "别人的券" not in page and 'data-testid="coupon"' not in page


# --- checkout ----------------------------------------------------------------------------------

def test_checkout_preselects_the_best_coupon_and_the_order_costs_what_the_page_showed(shop):
    store, product = shop
    make_promotion(store)  # 52 -> 满50减10 -> 42
    client = web_sms_login(PHONE)
    small = make_template(name="满30减5")
    big = make_template(name="满40减8", amount_fen=800, threshold_fen=4000)
    too_high = make_template(name="满100减20", amount_fen=2000, threshold_fen=10000)
    for template in (small, big, too_high):
        _claim(client, store, template)
    _add(client, store, product, times=2)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    best = Coupon.objects.get(template=big).public_id
    assert _checked_coupon(page) == best and 'data-testid="coupon-best"' in page
    assert 'data-code="coupon_below_threshold"' in page  # 满100减20 listed, refused with its reason
    too_high_id = Coupon.objects.get(template=too_high).public_id
    assert re.search(rf'value="{too_high_id}"[^>]*disabled', page)
    shown = _pickup_total(page)
    assert shown == 5200 - 1000 - 800
    breakdown = _pickup_breakdown(page)
    assert "满50减10" in breakdown and "满40减8" in breakdown and "-¥8.00" in breakdown
    answer = _post_checkout(client, store, page)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    order = Order.objects.get()
    assert order.total_fen == shown
    coupon = Coupon.objects.get(public_id=best)
    assert coupon.status == "used" and coupon.order == order
    assert Coupon.objects.get(template=small).status == "available"


def test_choosing_another_coupon_reprices_the_page_before_placing(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    for template in (make_template(name="满30减5"), make_template(name="满40减8", amount_fen=800,
                                                                  threshold_fen=4000)):
        _claim(client, store, template)
    _add(client, store, product, times=2)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    small = Coupon.objects.get(template__name="满30减5").public_id
    answer = _post_checkout(client, store, page, coupon_id=small, note="少辣")
    assert answer.status_code == 200 and not Order.objects.exists()
    page = answer.content.decode()
    assert 'data-testid="coupon-notice"' in page and 'value="少辣"' in page
    assert _checked_coupon(page) == small and _pickup_total(page) == 5200 - 500
    answer = _post_checkout(client, store, page)
    assert answer.status_code == 302
    assert Order.objects.get().total_fen == 5200 - 500
    assert Coupon.objects.get(public_id=small).status == "used"


def test_no_coupon_places_the_order_without_one(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    _claim(client, store, make_template())
    _add(client, store, product, times=2)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    answer = _post_checkout(client, store, page, coupon_id="none", apply_coupon="1")
    page = answer.content.decode()
    assert answer.status_code == 200 and _checked_coupon(page) == "none" and _pickup_total(page) == 5200
    assert _post_checkout(client, store, page).status_code == 302
    assert Order.objects.get().total_fen == 5200
    assert Coupon.objects.get().status == "available"


@pytest.mark.parametrize("case", ["coupon_used", "coupon_below_threshold", "coupon_expired", "coupon_not_found"])
def test_a_refused_coupon_is_shown_inline_with_the_form_kept_and_nothing_placed(shop, case):
    store, product = shop
    client = web_sms_login(PHONE)
    _claim(client, store, make_template(threshold_fen=3000 if case != "coupon_below_threshold" else 9000,
                                        amount_fen=500))
    coupon = Coupon.objects.get()
    if case == "coupon_used":
        coupon.status = Coupon.Status.USED
        coupon.save(update_fields=["status"])
    elif case == "coupon_expired":
        coupon.valid_until = timezone.now() - timedelta(minutes=1)
        coupon.save(update_fields=["valid_until"])
    coupon_id = coupon.public_id if case != "coupon_not_found" else "cpn_madeup"
    _add(client, store, product, times=2)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    stock = StockItem.objects.get(product=product).quantity
    answer = _post_checkout(client, store, page, coupon_id=coupon_id, shown_coupon=coupon_id, note="不要香菜")
    assert answer.status_code in (404, 409, 422)
    body = answer.content.decode()
    picker = re.search(r'data-testid="coupon-picker">(.*?)</fieldset>', body, re.S).group(1)
    assert f'data-code="{case}"' in picker
    assert 'value="不要香菜"' in body and 'data-testid="place"' in body
    assert not Order.objects.exists()
    assert StockItem.objects.get(product=product).quantity == stock
    coupon.refresh_from_db()
    assert coupon.order is None


def test_someone_elses_coupon_cannot_be_used_from_the_checkout(shop):
    store, product = shop
    _claim(web_sms_login("13800138094"), store, make_template())
    theirs = Coupon.objects.get().public_id
    client = web_sms_login(PHONE)
    _add(client, store, product, times=2)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    assert theirs not in page and _checked_coupon(page) == "none"
    answer = _post_checkout(client, store, page, coupon_id=theirs, shown_coupon=theirs)
    assert answer.status_code == 404 and 'data-code="coupon_not_found"' in answer.content.decode()
    assert not Order.objects.exists() and Coupon.objects.get().status == "available"


def test_a_free_delivery_coupon_on_a_pickup_order_is_refused_inline(shop):
    store, product = shop
    client = web_sms_login(PHONE)
    _claim(client, store, make_template(name="免配送费", kind="free_delivery", amount_fen=0, threshold_fen=0))
    _add(client, store, product)
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    coupon_id = Coupon.objects.get().public_id
    assert _checked_coupon(page) == coupon_id  # delivery is preselected: it saves the fee
    answer = _post_checkout(client, store, page, fulfilment="pickup")
    assert answer.status_code == 422 and 'data-code="coupon_delivery_only"' in answer.content.decode()
    assert not Order.objects.exists()
