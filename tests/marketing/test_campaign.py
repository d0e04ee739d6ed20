"""Campaigns end to end: segment, held-out control, coupons issued, messages within caps,
statistics checked exactly on a small fixture; and every bad input refused with its code
and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.models import PlatformRole
from linli.marketing.campaign_services import (
    CampaignTerms,
    campaign_create,
    campaign_launch,
    campaigns_due,
)
from linli.marketing.engagement_selectors import campaign_stats
from linli.marketing.lottery_services import lottery_draw_once
from linli.marketing.models import (
    Campaign,
    CampaignEvent,
    CampaignMember,
    Coupon,
    CouponRedemption,
    CouponTemplate,
    Draw,
)
from linli.marketing.segments import in_control
from linli.notifications.models import Message
from linli.notifications.services import notify, preference_set
from linli.orders.models import Order
from linli.orders.services import LineInput, order_place
from tests.fixtures import make_product, make_staff, make_store, token_api
from tests.ops.helpers import order_at

from .engagement_helpers import make_lottery, make_user
from .helpers import make_template

pytestmark = pytest.mark.django_db
DORMANT = {"match": "all", "conditions": [{"kind": "dormant", "days": 30}]}


@pytest.fixture(autouse=True)
def caps(settings):
    settings.LINLI_MARKETING_CAP_PER_DAY = 2
    settings.LINLI_MARKETING_CAP_PER_WEEK = 5


@pytest.fixture
def operator():
    return make_user(is_staff=True, platform_role=PlatformRole.OPERATOR)


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store, price_fen=3200, stock=100)


def _paid(order: Order, at=None) -> Order:
    at = at or timezone.now()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_at=at)
    return order


def _dormant_users(shop, ids):
    store, product = shop
    long_ago = timezone.now() - timedelta(days=40)
    users = []
    for i in ids:
        user = make_user()
        user.public_id = f"usr_e2e_{i}"
        user.save(update_fields=["public_id"])
        order_at(store, product, user, created=long_ago, paid=long_ago, status=Order.Status.COMPLETED)
        users.append(user)
    return users


def _terms(**fields) -> CampaignTerms:
    values = {"name": "唤醒沉睡用户", "segment_rule": DORMANT, "instrument": "coupon",
              "message_title": "好久不见", "message_body": "送你一张5元券", "control_percent": 50}
    values.update(fields)
    return CampaignTerms(**values)


def test_a_campaign_end_to_end_with_a_control_group_and_exact_numbers(shop, operator):
    store, product = shop
    template = make_template(name="满30减5", amount_fen=500, threshold_fen=3000, total_quota=100,
                             funded_by="shared", platform_share_percent=60)
    u0, u1, u2, u3, u4, u5 = _dormant_users(shop, range(6))
    active = make_user()
    order_at(store, product, active, created=timezone.now() - timedelta(days=3), paid=timezone.now(),
             status=Order.Status.COMPLETED)
    make_user()  # new, never ordered: not dormant
    preference_set(user=u4, marketing_opt_out=True)
    for title in ("a", "b"):
        notify(u5, "campaign", title, marketing=True)  # u5 already at today's cap
    campaign = campaign_create(actor=operator, terms=_terms(coupon_template_id=template.public_id))
    Campaign.objects.filter(pk=campaign.pk).update(public_id="cmp_e2e")  # a known control split
    assert [in_control("cmp_e2e", u.public_id, 50) for u in (u0, u1, u2, u3, u4, u5)] == \
        [False, True, False, True, False, False]

    answer = token_api(operator).post("/campaigns/cmp_e2e/launch")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "running"
    members = {m.user_id: m for m in CampaignMember.objects.filter(campaign=campaign)}
    assert set(members) == {u.pk for u in (u0, u1, u2, u3, u4, u5)}
    assert {u.pk for u in (u1, u3)} == {pk for pk, m in members.items() if m.group == "control"}
    # treated members hold the coupon (claimed with the campaign as the key); control nothing
    assert set(Coupon.objects.filter(template=template).values_list("user_id", "claim_key")) == \
        {(u.pk, "cmp_e2e") for u in (u0, u2, u4, u5)}
    assert Message.objects.filter(campaign_ref="cmp_e2e").count() == 2  # u4 opted out, u5 capped
    assert members[u4.pk].reached_at is None and members[u0.pk].reached_at is not None

    coupon = Coupon.objects.get(user=u0, template=template)
    used = order_place(consumer=u0, store_id=store.public_id, lines=[LineInput(product_id=product.public_id, quantity=1)],
                       fulfilment="pickup", address=None, idempotency_key="e2e-u0", coupon_id=coupon.public_id).order
    _paid(used)
    _paid(order_at(store, product, u2, created=timezone.now()))  # converted without the coupon
    _paid(order_at(store, product, u1, created=timezone.now()))  # control converted
    order_at(store, product, u3, created=timezone.now())  # unpaid: not a conversion

    stats = token_api(operator).get("/campaigns/cmp_e2e/stats").json()
    assert used.total_fen == 3200 + 100 - 500
    assert stats == {
        "treated": 4, "control": 2, "reached": 2, "claimed": 4, "used": 1, "gmv_fen": 2800,
        "discount_fen": 500, "platform_cost_fen": 300, "merchant_cost_fen": 200,
        "treated_converted": 2, "control_converted": 1,
        "uplift": {"treated_rate": 0.5, "control_rate": 0.5, "uplift": 0.0,
                   "low": pytest.approx(-1.96 * (0.25 / 4 + 0.25 / 2) ** 0.5),
                   "high": pytest.approx(1.96 * (0.25 / 4 + 0.25 / 2) ** 0.5)},
    }
    # a returned coupon (cancelled order) no longer counts as used
    CouponRedemption.objects.filter(order=used).update(returned_at=timezone.now())
    assert campaign_stats(campaign=Campaign.objects.get(pk=campaign.pk), now=timezone.now()).used == 0
    # launching again is refused and issues nothing more
    again = token_api(operator).post("/campaigns/cmp_e2e/launch")
    assert (again.status_code, again.json()["code"]) == (409, "campaign_not_draft")
    assert Coupon.objects.filter(template=template).count() == 4
    assert list(CampaignEvent.objects.filter(campaign=campaign).values_list("action", "to_status")) == \
        [("create", "draft"), ("launch", "running")]


def test_a_campaign_with_an_empty_segment_is_refused_and_writes_nothing(shop, operator):
    template = make_template()
    _dormant_users(shop, [0])
    api = token_api(operator)
    created = api.post("/campaigns", {
        "name": "北京用户", "segment_rule": {"conditions": [{"kind": "city", "cities": ["beijing"]}]},
        "instrument": "coupon", "coupon_template_id": template.public_id, "message_title": "你好",
        "message_body": "券", "control_percent": 10})
    assert created.status_code == 201, created.content
    answer = api.post(f"/campaigns/{created.json()['id']}/launch")
    assert (answer.status_code, answer.json()["code"]) == (422, "segment_empty")
    campaign = Campaign.objects.get(public_id=created.json()["id"])
    assert campaign.status == "draft" and campaign.launched_at is None
    assert not CampaignMember.objects.exists() and not Coupon.objects.exists() and not Message.objects.exists()
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 0


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"segment_rule": {"conditions": [{"kind": "whales"}]}}, 422, "segment_rule_invalid"),
    ({"segment_rule": {"conditions": []}}, 422, "segment_rule_invalid"),
    ({"coupon_template_id": "cpt_nope"}, 404, "coupon_template_not_found"),
    ({"instrument": "lottery", "lottery_id": "lot_nope"}, 404, "lottery_not_found"),
    ({"control_percent": 80}, 422, "invalid_input"),
    ({"store_id": "sto_nope"}, 422, "campaign_terms_invalid"),
    ({"schedule_at": "2020-01-01T00:00:00Z"}, 422, "campaign_terms_invalid"),
    ({"message_title": ""}, 422, "invalid_input"),
])
def test_bad_campaign_terms_are_refused(operator, change, status, code):
    template = make_template()
    body = {"name": "x", "segment_rule": DORMANT, "instrument": "coupon", "coupon_template_id": template.public_id,
            "message_title": "t", "message_body": "b"}
    body.update(change)
    answer = token_api(operator).post("/campaigns", body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.content
    assert not Campaign.objects.exists()


def test_only_operators_and_the_store_s_managers_run_campaigns(shop):
    store, _ = shop
    own = make_template(scope="store", store=store, funded_by="merchant")
    platform = make_template()
    body = {"name": "x", "segment_rule": DORMANT, "instrument": "coupon", "message_title": "t", "message_body": "b"}
    consumer = token_api(make_user())
    assert consumer.post("/campaigns", {**body, "coupon_template_id": platform.public_id}).status_code == 403
    owner = token_api(store.merchant.members.get(role="owner").user)
    assert owner.post("/campaigns", {**body, "coupon_template_id": platform.public_id}).status_code == 403
    assert owner.post("/campaigns", {**body, "store_id": store.public_id,
                                     "coupon_template_id": platform.public_id}).json()["code"] == \
        "coupon_template_not_found"
    cashier = token_api(make_staff(store, role="cashier"))
    assert cashier.post("/campaigns", {**body, "store_id": store.public_id,
                                       "coupon_template_id": own.public_id}).status_code == 403
    created = owner.post("/campaigns", {**body, "store_id": store.public_id, "coupon_template_id": own.public_id})
    assert created.status_code == 201 and created.json()["store_id"] == store.public_id
    assert consumer.post(f"/campaigns/{created.json()['id']}/launch").status_code == 403
    assert Campaign.objects.count() == 1


def test_a_quota_that_cannot_cover_the_treated_members_is_refused_whole(shop, operator):
    template = make_template(total_quota=2)
    _dormant_users(shop, [0, 2, 4])  # three treated (control 0 %)
    campaign = campaign_create(actor=operator, terms=_terms(coupon_template_id=template.public_id, control_percent=0))
    answer = token_api(operator).post(f"/campaigns/{campaign.public_id}/launch")
    assert (answer.status_code, answer.json()["code"]) == (409, "campaign_quota_short")
    assert not Coupon.objects.exists() and not CampaignMember.objects.exists() and not Message.objects.exists()


def test_a_lottery_campaign_links_to_the_lottery_and_counts_draws_as_claims(shop, operator):
    lottery = make_lottery(prizes=[{"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    users = _dormant_users(shop, [0, 2])
    campaign = campaign_create(actor=operator, terms=_terms(instrument="lottery", lottery_id=lottery.public_id,
                                                            control_percent=0))
    campaign_launch(campaign_id=campaign.public_id, actor=operator)
    assert set(Message.objects.values_list("link", flat=True)) == {f"/lotteries/{lottery.public_id}"}
    lottery_draw_once(user=users[0], lottery_id=lottery.public_id)
    stats = campaign_stats(campaign=Campaign.objects.get(pk=campaign.pk), now=timezone.now())
    assert (stats.treated, stats.reached, stats.claimed, stats.used) == (2, 2, 1, 0)
    assert Draw.objects.count() == 1


def test_the_scheduler_launches_due_campaigns_cancels_empty_ones_and_closes_finished_ones(shop, operator):
    template = make_template()
    _dormant_users(shop, [0])
    soon = timezone.now() + timedelta(minutes=5)
    due = campaign_create(actor=operator, terms=_terms(coupon_template_id=template.public_id, schedule_at=soon))
    empty = campaign_create(actor=operator, terms=_terms(coupon_template_id=template.public_id, schedule_at=soon,
                                                         segment_rule={"conditions": [{"kind": "city", "cities": ["beijing"]}]}))
    assert due.status == "scheduled"
    assert campaigns_due(now=timezone.now()) == {"launched": 0, "cancelled": 0, "done": 0}
    later = soon + timedelta(minutes=1)
    assert campaigns_due(now=later) == {"launched": 1, "cancelled": 1, "done": 0}
    assert Campaign.objects.get(pk=due.pk).status == "running"
    cancelled = Campaign.objects.get(pk=empty.pk)
    assert cancelled.status == "cancelled"
    assert CampaignEvent.objects.filter(campaign=cancelled, action="cancel").get().note == "segment_empty"
    assert campaigns_due(now=later + timedelta(days=15))["done"] == 1
    assert Campaign.objects.get(pk=due.pk).status == "done"
