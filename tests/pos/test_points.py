"""Points: one rule set online and at the counter, a balanced ledger, expiry, tiers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.orders.models import Order
from linli.orders.services import order_act
from linli.pos import points_rules as rules
from linli.pos.models import PointsLot, PointsTransaction
from linli.pos.points import (
    member_tier,
    points_balance,
    points_earn,
    points_expire,
    points_verify,
    spend_record,
)
from linli.pos.tasks import expire_points
from tests.orders.lifecycle_helpers import notify, paid_notification
from tests.pos.helpers import Shop, member, online_order_completed

pytestmark = pytest.mark.django_db


def test_rules():
    assert rules.points_earned(12_345, "regular") == 123
    assert rules.points_earned(12_345, "platinum") == 246
    assert rules.points_earned(99, "gold") == 0
    assert rules.tier_for(999_99) == "regular" and rules.tier_for(1_000_00) == "silver"
    assert rules.redeem_cap_points(1001) == 500
    assert rules.points_kept_after_refund(100, 10_000, 2_500) == 75
    assert rules.points_kept_after_refund(100, 10_000, 10_000) == 0


def test_a_completed_online_order_earns_once_and_a_refunded_one_earns_nothing():
    shop = Shop(price_fen=2550, stock=10)
    api, user = member()
    order = online_order_completed(api, shop, quantity=2)
    assert points_balance(user) == order.total_fen // 100
    from linli.orders.events import _send

    _send(order)  # the same event again
    assert PointsTransaction.objects.filter(member=user, kind="earn").count() == 1
    body = {"store_id": shop.store.public_id, "fulfilment": "pickup",
            "items": [{"product_id": shop.product.public_id, "quantity": 1}]}
    placed = api.post("/orders", body, headers={"Idempotency-Key": "refunded-one"}).json()
    assert notify(*paid_notification(api, placed["id"])) == "paid"
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        order_act(order_id=placed["id"], actor=shop.manager_user, action="reject", note="卖完了")
    assert Order.objects.get(public_id=placed["id"]).status in ("refunding", "refunded")
    assert points_balance(user) == order.total_fen // 100
    assert not points_verify()


def test_points_expire_after_twelve_months_oldest_first():
    _api, user = member()
    long_ago = timezone.now() - timedelta(days=400)
    points_earn(member=user, key="earn:old", paid_fen=50_00, reference="old", actor=None, at=long_ago)
    points_earn(member=user, key="earn:new", paid_fen=30_00, reference="new", actor=None)
    assert points_balance(user) == 80
    assert expire_points() == 50  # the Celery task runs the same job
    assert points_expire() == 0
    assert points_balance(user) == 30 and PointsLot.objects.get(earned_by__key="earn:old").remaining == 0
    assert not points_verify()


def test_tiers_follow_the_rolling_twelve_months_up_and_down():
    _api, user = member()
    now = timezone.now()
    spend_record(member=user, key="a", amount_fen=6_000_00, at=now - timedelta(days=300))
    assert member_tier(user, at=now) == "gold"
    assert member_tier(user, at=now + timedelta(days=70)) == "regular"  # the spend left the window
    txn = points_earn(member=user, key="earn:gold", paid_fen=100_00, reference="x", actor=None, at=now)
    assert txn.tier == "gold" and txn.points == 150
