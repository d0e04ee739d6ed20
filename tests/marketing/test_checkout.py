"""Orders with promotions and coupons: the breakdown shows each, the coupon is spent by
the order or the order is not placed, and a cancelled order gives the coupon back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.inventory.models import StockItem
from linli.marketing.models import Coupon, CouponEvent, CouponRedemption
from linli.orders.models import Order
from tests.fixtures import make_product, make_store, next_phone, token_api

from .helpers import make_promotion, make_template, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(delivery_fee_fen=500, packaging_fee_fen=0)
    return store, make_product(store, name="宫保鸡丁", price_fen=2600, stock=50)


def _consumer():
    user = User.objects.create_user(username=next_phone())
    return user, token_api(user)


def _claim(api, template) -> str:
    answer = api.post(f"/coupons/{template.public_id}/claim")
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def _discounts(order_body) -> list[tuple[str, int, str]]:
    return [(line["label"], line["amount_fen"], line["ref"]) for line in order_body["price_lines"]
            if line["kind"] == "discount"]


def _nothing_written(user, product, stock_before: int) -> None:
    assert not Order.objects.filter(consumer=user).exists()
    assert StockItem.objects.get(product=product).quantity == stock_before


def test_the_best_tier_and_the_coupon_each_show_in_the_breakdown(shop):
    store, product = shop
    promo = make_promotion(store)
    user, api = _consumer()
    coupon_id = _claim(api, make_template(name="满30减5", funded_by="shared", platform_share_percent=60))
    answer = place(api, store, product, quantity=2, coupon_id=coupon_id)  # 52 -> 满50减10 -> 42 -> 券 -5
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert _discounts(body) == [("满50减10", -1000, promo.public_id), ("满30减5", -500, coupon_id)]
    assert body["total_fen"] == 5200 - 1000 - 500 + 500
    coupon = Coupon.objects.get(public_id=coupon_id)
    assert coupon.status == "used" and coupon.order.public_id == body["id"]
    redemption = CouponRedemption.objects.get(order__public_id=body["id"])
    assert (redemption.discount_fen, redemption.platform_fen, redemption.merchant_fen) == (500, 300, 200)
    assert CouponEvent.objects.filter(coupon=coupon, action="use", actor=user).exists()


def test_promotions_apply_without_a_coupon_and_the_first_order_discount_once(shop):
    store, product = shop
    make_promotion(store)
    first = make_promotion(store, kind="first_order", name="新客立减3元", tiers=[], amount_fen=300)
    _user, api = _consumer()
    body = place(api, store, product, quantity=3).json()  # 78: 满50减10, 新客 -3
    assert _discounts(body)[1] == ("新客立减3元", -300, first.public_id)
    assert _discounts(body)[0][:2] == ("满50减10", -1000)
    again = place(api, store, product, quantity=4).json()  # 104: 满80减18 only
    assert [d[:2] for d in _discounts(again)] == [("满80减18", -1800)]


def test_buy_two_get_one_free_is_a_line_of_the_order_and_cannot_overlap_a_special_price(shop):
    from django.core.exceptions import ValidationError

    store, product = shop
    gift = make_promotion(store, kind="buy_x_get_y", name="宫保鸡丁买2送1", tiers=[], product=product,
                          buy_qty=2, free_qty=1)
    _user, api = _consumer()
    body = place(api, store, product, quantity=3).json()  # 3 x 26, one free
    assert _discounts(body) == [("宫保鸡丁买2送1", -2600, gift.public_id)]
    assert body["total_fen"] == 3 * 2600 - 2600 + 500
    with pytest.raises(ValidationError) as refused:  # one price rule per product at a time
        make_promotion(store, kind="special_price", name="特价", tiers=[], product=product, special_price_fen=1990)
    assert gift.public_id in str(refused.value)  # the clash names the gift
    for bad in ({"buy_qty": 0, "free_qty": 1}, {"buy_qty": 2, "free_qty": 0}):
        with pytest.raises(ValidationError):
            make_promotion(store, kind="buy_x_get_y", name="坏", tiers=[], product=product, **bad,
                           starts_at=timezone.now() + timedelta(days=30), ends_at=timezone.now() + timedelta(days=31))
    other_store_product = make_product(make_store(), name="别家菜", price_fen=1000)
    with pytest.raises(ValidationError):
        make_promotion(store, kind="buy_x_get_y", name="别家", tiers=[], product=other_store_product,
                       buy_qty=1, free_qty=1, starts_at=timezone.now() + timedelta(days=30),
                       ends_at=timezone.now() + timedelta(days=31))


def test_a_time_limited_special_price_stops_at_its_end(shop):
    store, product = shop
    now = timezone.now()
    make_promotion(store, kind="special_price", name="宫保鸡丁特价", tiers=[], product=product,
                   special_price_fen=1990, per_order_limit=1, ends_at=now + timedelta(hours=1))
    _user, api = _consumer()
    assert _discounts(place(api, store, product, quantity=2).json())[0][:2] == ("宫保鸡丁特价", -610)


def test_a_coupon_that_does_not_stack_replaces_the_store_promotion(shop):
    store, product = shop
    make_promotion(store)
    _user, api = _consumer()
    coupon_id = _claim(api, make_template(name="8折券", kind="percent_off", amount_fen=0, percent_off=20,
                                          cap_fen=800, threshold_fen=0, stacks_with_promotions=False))
    body = place(api, store, product, quantity=2, coupon_id=coupon_id).json()
    assert _discounts(body) == [("8折券", -800, coupon_id)]  # 20 % of 52 = 10.40, capped at 8


def test_a_free_delivery_coupon_takes_the_delivery_fee_and_refuses_pickup(shop):
    store, product = shop
    user, api = _consumer()
    template = make_template(name="免配送费", kind="free_delivery", amount_fen=0, threshold_fen=0, per_user_limit=2)
    first, second = _claim(api, template), _claim(api, template)
    refused = place(api, store, product, fulfilment="pickup", coupon_id=first)
    assert refused.status_code == 422 and refused.json()["code"] == "coupon_delivery_only"
    _nothing_written(user, product, 50)
    body = place(api, store, product, coupon_id=second).json()
    assert _discounts(body) == [("免配送费", -500, second)] and body["total_fen"] == 2600


@pytest.mark.parametrize("case", ["someone_elses", "made_up", "expired", "not_yet", "below_threshold",
                                  "wrong_store", "returning_customer", "used"])
def test_a_refused_coupon_places_no_order(shop, case):
    store, product = shop
    user, api = _consumer()
    template = make_template(per_user_limit=2)
    coupon_id = _claim(api, template)
    coupon = Coupon.objects.get(public_id=coupon_id)
    quantity, expected = 2, None
    if case == "someone_elses":
        _other, other_api = _consumer()
        coupon_id, expected = _claim(other_api, template), (404, "coupon_not_found")
    elif case == "made_up":
        coupon_id, expected = "cpn_0000", (404, "coupon_not_found")
    elif case == "expired":
        coupon.valid_until = timezone.now() - timedelta(seconds=1)
        coupon.save()
        expected = (409, "coupon_expired")
    elif case == "not_yet":
        coupon.valid_from = timezone.now() + timedelta(days=1)
        coupon.save()
        expected = (409, "coupon_not_yet_valid")
    elif case == "below_threshold":
        quantity, expected = 1, (422, "coupon_below_threshold")
    elif case == "wrong_store":
        coupon_id = _claim(api, make_template(scope="store", store=make_store(name="别家")))
        expected = (422, "coupon_wrong_store")
    elif case == "returning_customer":
        coupon_id = _claim(api, make_template(new_customers_only=True))
        assert place(api, store, product).status_code == 201  # an order not cancelled: returning
        expected = (403, "coupon_new_customers_only")
    elif case == "used":
        assert place(api, store, product, quantity=2, coupon_id=coupon_id).status_code == 201
        Order.objects.filter(consumer=user).update(status="completed")
        expected = (409, "coupon_used")
    orders_before = Order.objects.filter(consumer=user).count()
    stock_before = StockItem.objects.get(product=product).quantity
    refused = place(api, store, product, quantity=quantity, coupon_id=coupon_id)
    assert (refused.status_code, refused.json()["code"]) == expected, refused.content
    assert refused.json()["message"]
    assert Order.objects.filter(consumer=user).count() == orders_before
    assert StockItem.objects.get(product=product).quantity == stock_before
    if case == "below_threshold":
        assert refused.json()["details"] == {"coupon_id": coupon_id, "threshold_fen": 3000, "items_fen": 2600}


def test_a_retried_order_with_its_coupon_answers_the_first_order(shop):
    store, product = shop
    _user, api = _consumer()
    coupon_id = _claim(api, make_template())
    first = place(api, store, product, quantity=2, coupon_id=coupon_id, key="same")
    again = place(api, store, product, quantity=2, coupon_id=coupon_id, key="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and CouponRedemption.objects.count() == 1


def test_a_cancelled_order_gives_the_coupon_back_and_it_pays_the_next_order(shop):
    store, product = shop
    _user, api = _consumer()
    coupon_id = _claim(api, make_template())
    order = place(api, store, product, quantity=2, coupon_id=coupon_id).json()
    assert api.post(f"/orders/{order['id']}/cancel", {}).status_code == 200
    coupon = Coupon.objects.get(public_id=coupon_id)
    assert coupon.status == "available" and coupon.order is None
    assert CouponRedemption.objects.get(order__public_id=order["id"]).returned_at is not None
    assert list(CouponEvent.objects.filter(coupon=coupon).order_by("pk").values_list("action", flat=True)) == [
        "claim", "use", "return"]
    assert place(api, store, product, quantity=2, coupon_id=coupon_id).status_code == 201


def test_a_paid_order_refunded_gives_the_coupon_back(shop):
    store, product = shop
    _user, api = _consumer()
    coupon_id = _claim(api, make_template())
    order = place(api, store, product, quantity=2, coupon_id=coupon_id).json()
    Order.objects.filter(public_id=order["id"]).update(status="paid", paid_at=timezone.now())
    assert api.post(f"/orders/{order['id']}/cancel", {}).status_code == 200
    assert Order.objects.get(public_id=order["id"]).status in ("refunding", "refunded")
    assert Coupon.objects.get(public_id=coupon_id).status == "available"


def test_the_sweeper_gives_back_a_coupon_whose_receiver_never_ran(shop):
    from linli.marketing.receivers import coupon_back_on_order_changed
    from linli.marketing.services import coupons_return_sweep
    from linli.orders.events import order_changed

    store, product = shop
    _user, api = _consumer()
    coupon_id = _claim(api, make_template())
    kept = place(api, store, product, quantity=2, coupon_id=_claim(api, make_template(name="留着")))
    order = place(api, store, product, quantity=2, coupon_id=coupon_id).json()
    order_changed.disconnect(dispatch_uid="marketing-coupon-back")  # the process "dies" after the commit
    try:
        assert api.post(f"/orders/{order['id']}/cancel", {}).status_code == 200
    finally:
        order_changed.connect(coupon_back_on_order_changed, dispatch_uid="marketing-coupon-back")
    assert Coupon.objects.get(public_id=coupon_id).status == "used"
    assert coupons_return_sweep() == 1
    assert Coupon.objects.get(public_id=coupon_id).status == "available"
    assert coupons_return_sweep() == 0  # once
    assert Coupon.objects.get(order__public_id=kept.json()["id"]).status == "used"  # a live order keeps its coupon
    assert CouponEvent.objects.filter(coupon__public_id=coupon_id, action="return").count() == 1


def test_a_coupon_given_back_after_its_end_stays_expired(shop):
    store, product = shop
    _user, api = _consumer()
    coupon_id = _claim(api, make_template())
    order = place(api, store, product, quantity=2, coupon_id=coupon_id).json()
    Coupon.objects.filter(public_id=coupon_id).update(valid_until=timezone.now() - timedelta(seconds=1))
    api.post(f"/orders/{order['id']}/cancel", {})
    assert Coupon.objects.get(public_id=coupon_id).status == "expired"
    assert CouponEvent.objects.filter(action="return_expired").count() == 1


def test_the_best_coupon_is_suggested_for_a_cart(shop):
    store, product = shop
    make_promotion(store)
    _user, api = _consumer()
    small = _claim(api, make_template(name="满30减5"))
    big = _claim(api, make_template(name="满40减8", amount_fen=800, threshold_fen=4000))
    elsewhere = _claim(api, make_template(name="别家券", scope="store", store=make_store(name="别家")))
    answer = api.get(f"/stores/{store.public_id}/coupons/best", {"cart": f"{product.public_id}:2"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["total_without_coupon_fen"] == 5200 - 1000 + 500
    assert body["best"]["coupon"]["id"] == big and body["best"]["saves_fen"] == 800
    assert [o["coupon"]["id"] for o in body["options"]] == [big, small, elsewhere]
    assert body["options"][2]["coupon"]["reason"]["code"] == "coupon_wrong_store"
    # the suggestion is what the order then charges
    assert place(api, store, product, quantity=2, coupon_id=big).json()["total_fen"] == body["best"]["total_fen"]


def test_a_bad_cart_for_the_suggestion_is_a_422(shop):
    store, product = shop
    _user, api = _consumer()
    for cart in ("nonsense", f"{product.public_id}:0", "prd_unknown:1"):
        answer = api.get(f"/stores/{store.public_id}/coupons/best", {"cart": cart})
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_cart", cart
