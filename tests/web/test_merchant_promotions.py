"""Merchant console, promotions page (`/m/promotions`): the store's promotions and store
coupons listed; a tiered 满减 created from "30-5, 50-10" shows on the store page and prices
the cart; bad tiers are refused inline with nothing saved (by the back office's own
`clean()`); a store coupon is created merchant-funded and store-scoped; pause and resume;
cashiers read only; another store's promotion is not found."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from linli.marketing.models import CouponTemplate, Promotion
from tests.fixtures import make_product, make_staff, make_store
from tests.marketing.helpers import make_promotion, make_template

from .helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(delivery_fee_fen=500, packaging_fee_fen=0)
    return store, make_product(store, name="宫保鸡丁", price_fen=2600, stock=50)


def console(store, role: str = "manager") -> Client:
    return web_password_login(make_staff(store, role=role).username, "m")


def _pickup_total(page: str) -> int:
    shown = re.search(r'name="shown_totals" value="([^"]*)"', page).group(1)
    return int(re.search(r"pickup:(\d+)", shown).group(1))


def test_the_page_lists_the_stores_promotions_and_coupons_only(shop):
    store, _ = shop
    make_promotion(store, name="满减活动")
    make_template(name="满30减5", scope="store", store=store, total_quota=100)
    other = make_store(name="隔壁店")
    make_promotion(other, name="别家满减")
    page = console(store).get("/m/promotions")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="nav-promotions"' in html and 'aria-current="page"' in html
    assert "满减活动" in html and "别家满减" not in html
    assert re.findall(r'data-testid="promotion-terms">([^<]+)<', html) == ["满30减5 / 满50减10 / 满80减18"]
    assert re.findall(r'data-testid="coupon-terms">([^<]+)<', html) == ["满30减5"]
    assert 'data-testid="coupon-issued">0<' in html and 'data-testid="coupon-used">0<' in html
    assert 'data-testid="add-promotion-form"' in html and 'data-testid="add-coupon-form"' in html


def test_a_created_tiered_promotion_shows_on_the_store_page_and_prices_the_cart(shop):
    store, product = shop
    answer = console(store, "owner").post("/m/promotions/new", {"tiers": "30-5, 50-10", "days": "7"})
    assert answer.status_code == 302 and answer["Location"] == "/m/promotions"
    promotion = Promotion.objects.get(store=store)
    assert promotion.kind == "tiered" and promotion.tiers == [[3000, 500], [5000, 1000]]
    assert promotion.funded_by == "merchant" and promotion.is_active and promotion.name == "满30减5 / 满50减10"
    assert LogEntry.objects.filter(object_id=str(promotion.pk)).count() == 1
    page = Client().get(f"/stores/{store.public_id}").content.decode()
    assert re.findall(r'data-testid="promo-tier">([^<]+)<', page) == ["满30减5", "满50减10"]
    buyer = web_sms_login("13800138071")
    for _ in range(2):
        assert buyer.post(f"/stores/{store.public_id}/cart",
                          {"product_id": product.public_id, "delta": 1}).status_code == 302
    checkout = buyer.get(f"/stores/{store.public_id}/checkout").content.decode()
    assert _pickup_total(checkout) == 5200 - 1000 and "满50减10" in checkout


def test_tiers_in_yuan_with_decimals_are_converted_exactly(shop):
    store, _ = shop
    console(store).post("/m/promotions/new", {"tiers": "29.9-4.99，58.8-10.1", "days": "3"})
    assert Promotion.objects.get().tiers == [[2990, 499], [5880, 1010]]


@pytest.mark.parametrize("tiers, message", [
    ("50-10, 30-5", ("rise", "递增", "上升")),            # descending: the model's rule
    ("thirty-5", ("threshold-amount", "门槛-金额", "30-5")),  # not numbers
    ("5-5", ("above", "高于", "大于")),                     # threshold not above the amount
    ("30-5.123", ("threshold-amount", "门槛-金额", "30-5")),  # more than two decimals
    ("", ("tier", "档")),                                  # none
])
def test_bad_tiers_are_refused_inline_with_the_form_kept_and_nothing_saved(shop, tiers, message):
    store, _ = shop
    answer = console(store).post("/m/promotions/new", {"tiers": tiers, "name": "我的满减", "days": "7"})
    html = answer.content.decode()
    assert answer.status_code == 422
    error = re.search(r'data-field="promo_tiers">([^<]+)<', html).group(1)
    assert any(word in error for word in message), error
    assert 'name="name" maxlength="40" value="我的满减"' in html
    assert not Promotion.objects.exists() and not LogEntry.objects.exists()


def test_bad_days_are_refused_inline(shop):
    store, _ = shop
    answer = console(store).post("/m/promotions/new", {"tiers": "30-5", "days": "0"})
    assert answer.status_code == 422 and 'data-field="promo_days"' in answer.content.decode()
    assert not Promotion.objects.exists()


def test_an_overlapping_second_tier_table_is_refused_by_the_back_offices_rule(shop):
    store, _ = shop
    make_promotion(store)
    answer = console(store).post("/m/promotions/new", {"tiers": "20-3", "days": "7"})
    assert answer.status_code == 422 and 'data-testid="form-error"' in answer.content.decode()
    assert Promotion.objects.count() == 1


def test_a_store_coupon_is_created_store_scoped_and_merchant_funded(shop):
    store, _ = shop
    answer = console(store).post("/m/promotions/coupons/new", {
        "amount": "5", "threshold": "30", "days": "7", "quota": "100", "per_user": "2"})
    assert answer.status_code == 302
    template = CouponTemplate.objects.get()
    assert (template.kind, template.amount_fen, template.threshold_fen) == ("amount_off", 500, 3000)
    assert (template.scope, template.store, template.funded_by) == ("store", store, "merchant")
    assert (template.valid_days, template.total_quota, template.per_user_limit) == (7, 100, 2)
    assert template.name == "满30减5"
    page = Client().get(f"/stores/{store.public_id}").content.decode()
    assert template.public_id in page


@pytest.mark.parametrize("fields, field", [
    ({"amount": "5", "threshold": "5"}, "coupon_threshold"),   # threshold not above the amount
    ({"amount": "five"}, "coupon_amount"),
    ({"days": ""}, "coupon_days"),
    ({"quota": "-3"}, "coupon_quota"),
    ({"per_user": "0"}, "coupon_per_user"),
])
def test_bad_coupon_terms_are_refused_inline_and_nothing_saved(shop, fields, field):
    store, _ = shop
    body = {"amount": "5", "threshold": "30", "days": "7", "quota": "", "per_user": "1", **fields}
    answer = console(store).post("/m/promotions/coupons/new", body)
    assert answer.status_code == 422
    assert f'data-field="{field}"' in answer.content.decode()
    assert not CouponTemplate.objects.exists()


def test_pause_and_resume_a_promotion_and_a_coupon(shop):
    store, _ = shop
    promotion = make_promotion(store)
    template = make_template(name="满30减5", scope="store", store=store)
    client = console(store, "owner")
    assert client.post(f"/m/promotions/{promotion.public_id}/pause").status_code == 302
    promotion.refresh_from_db()
    assert not promotion.is_active
    assert 'data-testid="promotions"' not in Client().get(f"/stores/{store.public_id}").content.decode()
    assert client.post(f"/m/promotions/{promotion.public_id}/resume").status_code == 302
    promotion.refresh_from_db()
    assert promotion.is_active
    assert client.post(f"/m/promotions/coupons/{template.public_id}/pause").status_code == 302
    template.refresh_from_db()
    assert not template.is_active
    assert LogEntry.objects.count() == 3


def test_resuming_into_an_overlap_is_refused(shop):
    store, _ = shop
    paused = make_promotion(store, is_active=False)
    make_promotion(store, tiers=[[2000, 300]])
    answer = console(store).post(f"/m/promotions/{paused.public_id}/resume")
    assert answer.status_code == 422 and 'data-testid="form-error"' in answer.content.decode()
    paused.refresh_from_db()
    assert not paused.is_active


@pytest.mark.parametrize("role", ["cashier", "staff"])
def test_a_cashier_sees_the_page_read_only_and_every_post_is_refused(shop, role):
    store, _ = shop
    promotion = make_promotion(store)
    template = make_template(name="满30减5", scope="store", store=store)
    client = console(store, role)
    html = client.get("/m/promotions").content.decode()
    assert 'data-testid="read-only"' in html and "满30减5 / 满50减10 / 满80减18" in html
    assert 'data-testid="add-promotion-form"' not in html and 'data-testid="promotion-switch"' not in html
    for url, body in (("/m/promotions/new", {"tiers": "30-5", "days": "7"}),
                      ("/m/promotions/coupons/new", {"amount": "5", "threshold": "30", "days": "7"}),
                      (f"/m/promotions/{promotion.public_id}/pause", {}),
                      (f"/m/promotions/coupons/{template.public_id}/pause", {})):
        answer = client.post(url, body)
        assert answer.status_code == 403, url
        assert 'data-code="permission_denied"' in answer.content.decode()
    assert Promotion.objects.get().is_active and CouponTemplate.objects.get().is_active


def test_another_stores_promotion_or_coupon_cannot_be_paused(shop):
    store, _ = shop
    other = make_store(name="隔壁店")
    theirs = make_promotion(other)
    their_coupon = make_template(name="满30减5", scope="store", store=other)
    client = console(store, "owner")
    answer = client.post(f"/m/promotions/{theirs.public_id}/pause")
    assert answer.status_code == 404 and 'data-code="promotion_not_found"' in answer.content.decode()
    answer = client.post(f"/m/promotions/coupons/{their_coupon.public_id}/pause")
    assert answer.status_code == 404 and 'data-code="coupon_template_not_found"' in answer.content.decode()
    assert client.post("/m/promotions/prm_madeup/pause").status_code == 404
    theirs.refresh_from_db()
    their_coupon.refresh_from_db()
    assert theirs.is_active and their_coupon.is_active


def test_a_visitor_is_sent_to_log_in_and_a_get_only_page_refuses_posts(shop):
    answer = Client().get("/m/promotions")
    assert answer.status_code == 302 and answer["Location"].startswith("/m/login")
    store, _ = shop
    assert console(store).post("/m/promotions").status_code == 405
    assert console(store).get("/m/promotions/new").status_code == 405
