"""Drawing a lottery through the API: eligibility, stock and budget, coupons as prizes,
idempotent retries, audit replay, and bad inputs (precise 4xx, nothing written)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from linli.marketing.lottery_services import draw_replay, lottery_draw_once
from linli.marketing.models import Coupon, Draw, Lottery, Prize
from linli.orders.models import Order
from tests.fixtures import Api, make_product, make_store, token_api
from tests.ops.helpers import order_at

from .engagement_helpers import make_lottery, make_user
from .helpers import make_template

pytestmark = pytest.mark.django_db


def _coupon_lottery(**fields):
    template = make_template(name="满20减5", amount_fen=500, threshold_fen=2000, total_quota=100, per_user_limit=5)
    lottery = make_lottery(prizes=[
        {"name": "5元券", "kind": "coupon", "coupon_template": template, "weight": 1, "stock": 10, "cost_fen": 500},
        {"name": "谢谢参与", "kind": "nothing", "weight": 0},
    ], **fields)
    return lottery, template


def test_a_winner_gets_the_coupon_and_the_draw_is_recorded_with_what_replays_it():
    lottery, template = _coupon_lottery()
    user = make_user()
    api = token_api(user)
    answer = api.post(f"/lotteries/{lottery.public_id}/draw", headers={"Idempotency-Key": "d-1"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["outcome"] == "coupon" and body["prize"]["name"] == "5元券"
    coupon = Coupon.objects.get(public_id=body["coupon_id"])
    assert coupon.user == user and coupon.template == template
    lottery.refresh_from_db()
    prize = Prize.objects.get(lottery=lottery, kind="coupon")
    assert (lottery.spent_fen, prize.stock, prize.awarded_count) == (500, 9, 1)
    draw = Draw.objects.get(public_id=body["id"])
    assert draw.seed and draw_replay(draw) == prize.public_id and draw.pool[0][0] == prize.public_id
    # a retry with the same key answers the same draw; a second draw the same day is refused
    again = api.post(f"/lotteries/{lottery.public_id}/draw", headers={"Idempotency-Key": "d-1"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    refused = api.post(f"/lotteries/{lottery.public_id}/draw", headers={"Idempotency-Key": "d-2"})
    assert refused.status_code == 409 and refused.json()["code"] == "draw_not_eligible"
    assert Draw.objects.filter(user=user).count() == 1
    mine = api.get("/me/draws").json()["items"]
    assert [d["id"] for d in mine] == [body["id"]]


def test_per_day_lets_the_user_draw_again_tomorrow():
    lottery, _ = _coupon_lottery()
    user = make_user()
    now = timezone.now()
    lottery_draw_once(user=user, lottery_id=lottery.public_id, now=now)
    second = lottery_draw_once(user=user, lottery_id=lottery.public_id, now=now + timedelta(days=1))
    assert second.created and Draw.objects.filter(user=user).count() == 2


def test_the_budget_is_never_exceeded_and_the_out_prize_becomes_no_prize():
    lottery, _ = _coupon_lottery(budget_fen=1200, eligibility=Lottery.Eligibility.ONCE)
    outcomes = [lottery_draw_once(user=make_user(), lottery_id=lottery.public_id).draw.outcome for _ in range(4)]
    assert outcomes == ["coupon", "coupon", "nothing", "nothing"]
    lottery.refresh_from_db()
    assert lottery.spent_fen == 1000 <= lottery.budget_fen


def test_a_prize_that_ran_out_between_roll_and_award_falls_back_to_nothing():
    lottery, _ = _coupon_lottery()
    prize = Prize.objects.get(lottery=lottery, kind="coupon")

    class StaleRandom(random.Random):
        """Rolls the prize after its last unit is taken by someone else."""

        def randrange(self, *args):  # type: ignore[override]
            Prize.objects.filter(pk=prize.pk).update(stock=0)
            return 0

    drawn = lottery_draw_once(user=make_user(), lottery_id=lottery.public_id, rng=StaleRandom())
    assert drawn.draw.outcome == "nothing" and drawn.draw.fallback == "stock"
    lottery.refresh_from_db()
    assert lottery.spent_fen == 0 and not Coupon.objects.exists()  # the budget taken was given back


def test_per_order_lotteries_need_a_completed_order_of_the_drawer():
    store = make_store()
    product = make_product(store)
    user = make_user()
    lottery = make_lottery(prizes=[{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
                           eligibility=Lottery.Eligibility.PER_ORDER, store=store)
    order = order_at(store, product, user, created=timezone.now(), status=Order.Status.COMPLETED)
    api = token_api(user)
    url = f"/lotteries/{lottery.public_id}/draw"
    assert api.post(url, {}).json()["code"] == "draw_order_invalid"
    assert api.post(url, {"order_id": "ord_made_up"}).status_code == 422
    assert token_api(make_user()).post(url, {"order_id": order.public_id}).json()["code"] == "draw_order_invalid"
    assert api.post(url, {"order_id": order.public_id}).status_code == 201
    assert api.post(url, {"order_id": order.public_id}).json()["code"] == "draw_not_eligible"
    assert Draw.objects.count() == 1


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"status": Lottery.Status.CLOSED}, 409, "lottery_not_running"),
    ({"ends_at": timezone.now() - timedelta(minutes=1)}, 409, "lottery_not_running"),
    ({"status": Lottery.Status.DRAFT}, 404, "lottery_not_found"),
])
def test_a_lottery_not_running_refuses_draws(change, status, code):
    lottery, _ = _coupon_lottery()
    if "ends_at" in change:
        change["starts_at"] = change["ends_at"] - timedelta(days=1)
    Lottery.objects.filter(pk=lottery.pk).update(**change)
    answer = token_api(make_user()).post(f"/lotteries/{lottery.public_id}/draw")
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not Draw.objects.exists()


def test_bad_inputs_are_refused_and_write_nothing():
    user_api = token_api(make_user())
    assert user_api.post("/lotteries/lot_nope/draw").json()["code"] == "lottery_not_found"
    assert Api().post("/lotteries/lot_nope/draw").status_code == 401
    empty = make_lottery(prizes=[{"name": "谢谢参与", "kind": "nothing", "weight": 0}])
    answer = user_api.post(f"/lotteries/{empty.public_id}/draw")
    assert (answer.status_code, answer.json()["code"]) == (422, "prize_weights_invalid")
    lottery, _ = _coupon_lottery()
    assert user_api.post(f"/lotteries/{lottery.public_id}/draw", {"order_id": 5}).status_code == 422
    assert not Draw.objects.exists()


def test_the_lottery_page_data_shows_chances_now():
    lottery, _ = _coupon_lottery(budget_fen=400)  # the coupon prize costs 500: out of the draw
    body = Api().get(f"/lotteries/{lottery.public_id}").json()
    assert body["running"] is True
    assert {p["name"]: p["chance"] for p in body["prizes"]} == {"5元券": 0.0, "谢谢参与": 0.0}


def test_a_points_prize_is_credited_on_the_points_ledger_once():
    from linli.pos.points import points_balance, points_verify

    lottery = make_lottery(prizes=[{"name": "50积分", "kind": "points", "points": 50, "weight": 1, "stock": 5}])
    user = make_user()
    api = token_api(user)
    body = api.post(f"/lotteries/{lottery.public_id}/draw", headers={"Idempotency-Key": "p-1"}).json()
    assert body["outcome"] == "points"
    assert points_balance(user) == 50
    assert api.post(f"/lotteries/{lottery.public_id}/draw", headers={"Idempotency-Key": "p-1"}).status_code == 200
    assert points_balance(user) == 50  # the retry answers the first draw, credits nothing
    assert points_verify() == []
