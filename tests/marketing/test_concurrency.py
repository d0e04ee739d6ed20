"""Coupon quotas, per-user limits and redemption under real concurrent clients (threads,
each with its own database connection) on PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest

from linli.accounts.models import User
from linli.inventory.models import StockItem
from linli.marketing.models import ClaimCounter, Coupon, CouponRedemption, CouponTemplate
from linli.orders.models import Order
from tests.fixtures import make_product, make_store, token_api
from tests.orders.test_concurrency import run_concurrently

from .helpers import make_promotion, make_template, place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _user(n: int) -> User:
    return User.objects.create_user(username=f"+86137000{n:05d}", phone=f"+86137000{n:05d}")


def test_fifty_claimers_for_the_last_ten_coupons_exactly_ten_win():
    template = make_template(total_quota=100)
    CouponTemplate.objects.filter(pk=template.pk).update(issued_count=90)
    apis = [token_api(_user(i)) for i in range(50)]
    answers = run_concurrently([lambda api=api: api.post(f"/coupons/{template.public_id}/claim") for api in apis])
    assert Counter(a.status_code for a in answers) == {201: 10, 409: 40}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"coupon_sold_out"}
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 100
    assert Coupon.objects.filter(template=template).count() == 10
    # the losers' per-user counts rolled back with their claims
    assert sum(ClaimCounter.objects.filter(template=template).values_list("count", flat=True)) == 10


def test_one_user_claiming_at_once_from_many_connections_stays_within_the_limit():
    template = make_template(per_user_limit=2, total_quota=None)
    user = _user(900)
    apis = [token_api(user) for _ in range(12)]
    answers = run_concurrently([lambda api=api: api.post(f"/coupons/{template.public_id}/claim") for api in apis])
    assert Counter(a.status_code for a in answers) == {201: 2, 409: 10}
    assert Coupon.objects.filter(template=template, user=user).count() == 2
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 2


def test_one_coupon_paying_two_orders_at_the_same_moment_pays_one():
    store = make_store()
    product = make_product(store, price_fen=3200, stock=20)
    user = _user(901)
    api = token_api(user)
    coupon_id = api.post(f"/coupons/{make_template().public_id}/claim").json()["id"]
    apis = [token_api(user) for _ in range(8)]
    answers = run_concurrently([lambda api=api, i=i: place(api, store, product, coupon_id=coupon_id, key=f"race-{i}")
                                for i, api in enumerate(apis)])
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 7}, [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"coupon_used"}
    assert Order.objects.filter(consumer=user).count() == 1
    assert CouponRedemption.objects.filter(coupon__public_id=coupon_id).count() == 1
    assert StockItem.objects.get(product=product).quantity == 19  # the refused orders took no stock
    winner = next(a.json() for a in answers if a.status_code == 201)
    assert Coupon.objects.get(public_id=coupon_id).order.public_id == winner["id"]


def test_first_orders_placed_at_the_same_instant_get_the_new_customer_discount_once():
    store = make_store()
    product = make_product(store, price_fen=3200, stock=50)
    first = make_promotion(store, kind="first_order", name="新客立减5元", tiers=[], amount_fen=500)
    user = _user(902)
    apis = [token_api(user) for _ in range(6)]
    answers = run_concurrently([lambda api=api, i=i: place(api, store, product, key=f"first-{i}")
                                for i, api in enumerate(apis)])
    placed = [a.json() for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert {(a.status_code, a.json()["code"]) for a in refused} <= {(409, "first_order_used")}
    with_discount = [o for o in placed if any(line["ref"] == first.public_id for line in o["price_lines"])]
    assert len(with_discount) == 1, [o["price_lines"] for o in placed]
    assert Order.objects.filter(consumer=user).count() == len(placed)
    # the refused orders wrote nothing: only the placed ones took stock
    assert StockItem.objects.get(product=product).quantity == 50 - len(placed)


def test_five_thousand_claims_from_a_thousand_users_issue_exactly_the_quota():
    """The issue's figure: 5,000 claims of a coupon with quota 500 and per-user limit 1 from
    1,000 users, by 32 clients at once (each its own connection), in random order."""
    import queue
    import random
    import threading

    from django.db import connection

    from linli.marketing import errors
    from linli.marketing.services import coupon_claim

    template = make_template(total_quota=500, per_user_limit=1)
    User.objects.bulk_create([User(username=f"+86135{n:08d}", phone=f"+86135{n:08d}") for n in range(1000)])
    users = list(User.objects.filter(username__startswith="+86135"))
    claims = [user for user in users for _ in range(5)]
    random.Random(5).shuffle(claims)
    work: queue.Queue = queue.Queue()
    for user in claims:
        work.put(user)
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(32)

    def client() -> None:
        barrier.wait()
        try:
            while True:
                try:
                    user = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    coupon_claim(user=user, template_id=template.public_id)
                    outcome = "issued"
                except (errors.CouponSoldOut, errors.CouponClaimLimit) as exc:
                    outcome = exc.code
                with lock:
                    outcomes[outcome] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sum(outcomes.values()) == 5000, outcomes  # every claim answered, none crashed
    assert outcomes["issued"] == 500, outcomes
    assert set(outcomes) <= {"issued", "coupon_sold_out", "coupon_claim_limit"}
    assert Coupon.objects.filter(template=template).count() == 500
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 500
    per_user = Counter(Coupon.objects.filter(template=template).values_list("user_id", flat=True))
    assert max(per_user.values()) == 1
