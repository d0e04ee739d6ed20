"""Claiming coupons and listing mine: limits, quota, validity, refusals with codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.marketing.models import ClaimCounter, Coupon, CouponEvent, CouponTemplate
from tests.fixtures import make_product, make_store, next_phone, token_api

from .helpers import make_template, place

pytestmark = pytest.mark.django_db


def _consumer():
    user = User.objects.create_user(username=next_phone())
    return user, token_api(user)


def test_a_claim_gives_a_coupon_valid_for_n_days_and_records_it():
    user, api = _consumer()
    template = make_template(valid_days=3)
    answer = api.post(f"/coupons/{template.public_id}/claim")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"].startswith("cpn_") and body["status"] == "available" and body["name"] == "满30减5"
    coupon = Coupon.objects.get(public_id=body["id"])
    assert coupon.valid_until - coupon.valid_from == timedelta(days=3)
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 1
    assert CouponEvent.objects.get(coupon=coupon).action == "claim"


def test_fixed_dates_are_the_coupons_dates():
    _user, api = _consumer()
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=10)
    template = make_template(valid_from=start, valid_until=end)
    body = api.post(f"/coupons/{template.public_id}/claim").json()
    assert body["valid_until"] == end.isoformat() and body["valid_from"] == start.isoformat()


def test_claiming_beyond_the_per_user_limit_is_refused_and_issues_nothing():
    _user, api = _consumer()
    template = make_template(per_user_limit=2)
    assert api.post(f"/coupons/{template.public_id}/claim").status_code == 201
    assert api.post(f"/coupons/{template.public_id}/claim").status_code == 201
    refused = api.post(f"/coupons/{template.public_id}/claim")
    assert refused.status_code == 409 and refused.json()["code"] == "coupon_claim_limit"
    assert refused.json()["details"]["per_user_limit"] == 2
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 2
    assert Coupon.objects.filter(template=template).count() == 2


def test_a_retry_with_the_same_key_answers_the_first_coupon():
    _user, api = _consumer()
    template = make_template(per_user_limit=3)
    first = api.post(f"/coupons/{template.public_id}/claim", headers={"Idempotency-Key": "c1"})
    again = api.post(f"/coupons/{template.public_id}/claim", headers={"Idempotency-Key": "c1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 1


def test_a_retry_at_the_limit_still_answers_the_first_coupon():
    _user, api = _consumer()
    template = make_template(per_user_limit=1)
    first = api.post(f"/coupons/{template.public_id}/claim", headers={"Idempotency-Key": "k"}).json()
    again = api.post(f"/coupons/{template.public_id}/claim", headers={"Idempotency-Key": "k"})
    assert again.status_code == 200 and again.json()["id"] == first["id"]


def test_the_last_coupon_of_the_quota_goes_once():
    template = make_template(total_quota=1)
    _u1, first = _consumer()
    _u2, second = _consumer()
    assert first.post(f"/coupons/{template.public_id}/claim").status_code == 201
    refused = second.post(f"/coupons/{template.public_id}/claim")
    assert refused.status_code == 409 and refused.json()["code"] == "coupon_sold_out"
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 1
    # nothing half-written: the refused claim left no count behind for the second user
    assert ClaimCounter.objects.filter(template=template, count__gt=0).count() == 1


def test_unknown_inactive_and_closed_templates_are_refused():
    _user, api = _consumer()
    assert api.post("/coupons/cpt_nope/claim").json()["code"] == "coupon_template_not_found"
    off = make_template(is_active=False)
    assert api.post(f"/coupons/{off.public_id}/claim").status_code == 404
    later = make_template(claim_starts_at=timezone.now() + timedelta(days=1))
    closed = api.post(f"/coupons/{later.public_id}/claim")
    assert closed.status_code == 409 and closed.json()["code"] == "coupon_claim_closed"
    ended = make_template(valid_from=timezone.now() - timedelta(days=9), valid_until=timezone.now() - timedelta(days=1))
    assert api.post(f"/coupons/{ended.public_id}/claim").json()["code"] == "coupon_claim_closed"


def test_a_new_customer_coupon_is_refused_to_a_returning_customer_in_both_languages():
    user, api = _consumer()
    store = make_store()
    product = make_product(store, price_fen=3000)
    assert place(api, store, product).status_code == 201
    template = make_template(new_customers_only=True)
    api.language = "en"
    refused = api.post(f"/coupons/{template.public_id}/claim")
    assert refused.status_code == 403 and refused.json()["code"] == "coupon_new_customers_only"
    assert refused.json()["message"] == "This coupon is for new customers only."
    api.language = "zh-hans"  # the message is translated; the code never changes
    chinese = api.post(f"/coupons/{template.public_id}/claim").json()
    assert chinese["code"] == "coupon_new_customers_only" and chinese["message"] == "该优惠券仅限新客使用。"
    newcomer, newcomer_api = _consumer()
    assert newcomer_api.post(f"/coupons/{template.public_id}/claim").status_code == 201


def test_my_coupons_list_usable_first_and_say_why_not():
    user, api = _consumer()
    store, other = make_store(), make_store(name="别家")
    soon = make_template(name="无门槛3元", threshold_fen=0, amount_fen=300, valid_days=1)
    here = make_template(name="本店满30减5", scope="store", store=store, valid_days=5)
    there = make_template(name="别店满30减5", scope="store", store=other, valid_days=2)
    for t in (here, soon, there):
        assert api.post(f"/coupons/{t.public_id}/claim").status_code == 201
    stale = Coupon.objects.get(template=soon)
    stale.valid_until = timezone.now() - timedelta(minutes=1)
    stale.save()

    everywhere = api.get("/me/coupons").json()["items"]
    assert [(c["name"], c["usable"]) for c in everywhere] == [
        ("别店满30减5", True), ("本店满30减5", True), ("无门槛3元", False)]
    assert everywhere[2]["reason"]["code"] == "coupon_expired"

    at_store = api.get("/me/coupons", {"store_id": store.public_id}).json()["items"]
    assert [(c["name"], c["usable"], c["reason"] and c["reason"]["code"]) for c in at_store] == [
        ("本店满30减5", True, None), ("别店满30减5", False, "coupon_wrong_store"),
        ("无门槛3元", False, "coupon_expired")]


def test_category_scope_follows_the_stores_category():
    from linli.merchants.models import StoreCategory

    _user, api = _consumer()
    tea = StoreCategory.objects.create(slug="tea", name_zh="饮品", name_en="Drinks")
    food_store, tea_store = make_store(), make_store(name="一点点", category=tea)
    template = make_template(scope="category", category=tea)
    api.post(f"/coupons/{template.public_id}/claim")
    assert api.get("/me/coupons", {"store_id": tea_store.public_id}).json()["items"][0]["usable"] is True
    assert api.get("/me/coupons", {"store_id": food_store.public_id}).json()["items"][0]["reason"]["code"] == \
        "coupon_wrong_store"


def test_claiming_needs_a_login():
    from tests.fixtures import Api

    template = make_template()
    assert Api().post(f"/coupons/{template.public_id}/claim").status_code == 401


def test_a_coupon_claimed_with_points_takes_them_in_the_claim_or_nothing_happens():
    from linli.pos.points import points_balance, points_grant, points_verify

    template = make_template(name="积分兑5元", points_cost=300, per_user_limit=2)
    user = User.objects.create_user(username="+8613911110001", phone="+8613911110001")
    api = token_api(user)
    poor = api.post(f"/coupons/{template.public_id}/claim")
    assert poor.status_code == 409 and poor.json()["code"] == "points_insufficient"
    assert not Coupon.objects.filter(template=template).exists()
    template.refresh_from_db()
    assert template.issued_count == 0  # the refused claim took no quota either
    points_grant(member=user, points=500, key="test-grant", reference="test", actor=None)
    claimed = api.post(f"/coupons/{template.public_id}/claim")
    assert claimed.status_code == 201, claimed.content
    assert points_balance(user) == 200
    again = api.post(f"/coupons/{template.public_id}/claim")
    assert again.status_code == 409 and again.json()["code"] == "points_insufficient"
    assert Coupon.objects.filter(template=template, user=user).count() == 1 and points_balance(user) == 200
    assert points_verify() == []
