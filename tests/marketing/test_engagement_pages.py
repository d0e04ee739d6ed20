"""The lottery page and its draw button, the inbox page, the merchant console's campaigns
page and the back office's lottery, draw and campaign pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from linli.accounts.models import PlatformRole
from linli.marketing.campaign_services import CampaignTerms, campaign_create, campaign_launch
from linli.marketing.models import Campaign, Draw, Lottery, LotteryEvent, Prize
from linli.notifications.models import Message
from linli.notifications.services import notify
from linli.orders.models import Order
from tests.fixtures import make_product, make_staff, make_store
from tests.ops.helpers import operator_user, order_at, staff_client

from .engagement_helpers import make_lottery, make_user
from .helpers import make_template

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_lottery_page_draws_once_per_page_and_shows_the_result():
    lottery = make_lottery(prizes=[{"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    client = _client(make_user())
    page = client.get(f"/lotteries/{lottery.public_id}")
    assert page.status_code == 200 and 'data-testid="draw"' in page.content.decode()
    key = page.context["draw_key"]
    fragment = client.post(f"/lotteries/{lottery.public_id}/draw", {"draw_key": key}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and 'data-outcome="nothing"' in fragment.content.decode()
    again = client.post(f"/lotteries/{lottery.public_id}/draw", {"draw_key": key})  # a double tap
    assert again.status_code == 200 and Draw.objects.count() == 1
    refused = client.post(f"/lotteries/{lottery.public_id}/draw", {"draw_key": "other"})
    assert refused.status_code == 409 and 'data-code="draw_not_eligible"' in refused.content.decode()
    assert Client().post(f"/lotteries/{lottery.public_id}/draw").status_code == 302  # to log in
    assert Client().get("/lotteries/lot_nope").status_code == 404


def test_the_inbox_page_lists_messages_and_opening_one_marks_it_read():
    user = make_user()
    message = notify(user, "campaign", "好久不见", "送你一张券", "/me/coupons", marketing=True).message
    client = _client(user)
    page = client.get("/me/messages")
    assert page.status_code == 200 and "好久不见" in page.content.decode()
    opened = client.post(f"/me/messages/{message.public_id}/read")
    assert opened.status_code == 302 and opened["Location"] == "/me/coupons"
    assert Message.objects.get(pk=message.pk).read_at is not None
    assert _client(make_user()).post(f"/me/messages/{message.public_id}/read").status_code == 404
    assert Client().get("/me/messages").status_code == 302


def test_the_merchant_console_shows_the_store_s_campaigns_with_results_and_charts():
    store = make_store()
    product = make_product(store)
    template = make_template(scope="store", store=store, funded_by="merchant")
    long_ago = timezone.now() - timedelta(days=40)
    order_at(store, product, make_user(), created=long_ago, paid=long_ago, status=Order.Status.COMPLETED)
    owner = store.merchant.members.get(role="owner").user
    campaign = campaign_create(actor=owner, terms=CampaignTerms(
        name="老客回流", store_id=store.public_id, segment_rule={"conditions": [{"kind": "dormant", "days": 30}]},
        instrument="coupon", coupon_template_id=template.public_id, message_title="好久不见",
        message_body="送你一张券", control_percent=0))
    campaign_launch(campaign_id=campaign.public_id, actor=owner)
    page = _client(make_staff(store, role="cashier")).get("/m/campaigns")
    html = page.content.decode()
    assert page.status_code == 200 and "老客回流" in html
    assert 'data-testid="campaign-conversion"' in html and 'data-testid="campaign-day-chart"' in html
    assert 'data-testid="stat-claimed">1<' in html
    assert _client(make_user()).get("/m/campaigns").status_code == 403


def test_the_back_office_edits_lotteries_reads_draws_and_shows_a_campaign_s_results():
    ops_user = operator_user()
    ops_user.user_permissions.add(*Permission.objects.filter(content_type__app_label="marketing"))
    ops = staff_client(ops_user)
    ops.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    now = timezone.now()
    form = {"title": "双十二转盘", "starts_at_0": now.strftime("%Y-%m-%d"), "starts_at_1": "00:00:00",
            "ends_at_0": "2099-01-01", "ends_at_1": "00:00:00", "budget_fen": "5000", "eligibility": "per_day",
            "status": "live", "prizes-TOTAL_FORMS": "1", "prizes-INITIAL_FORMS": "0",
            "prizes-0-name": "谢谢参与", "prizes-0-kind": "nothing", "prizes-0-weight": "0", "prizes-0-points": "0",
            "prizes-0-cost_fen": "0", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}
    refused = ops.post("/ops/marketing/lottery/add/", form)
    assert refused.status_code == 200 and "weight above 0" in refused.content.decode()
    assert not Lottery.objects.exists()
    created = ops.post("/ops/marketing/lottery/add/", {**form, "prizes-0-weight": "10"})
    assert created.status_code == 302, created.content.decode()[:3000]
    lottery = Lottery.objects.get()
    assert Prize.objects.filter(lottery=lottery).count() == 1
    assert LotteryEvent.objects.filter(lottery=lottery, action="create", actor=ops_user).exists()
    assert ops.get(f"/ops/marketing/lottery/{lottery.public_id}/change/").status_code == 200
    assert ops.get("/ops/marketing/draw/").status_code == 200
    assert ops.get("/ops/marketing/draw/add/").status_code == 403

    store = make_store()
    long_ago = now - timedelta(days=40)
    order_at(store, make_product(store), make_user(), created=long_ago, paid=long_ago, status=Order.Status.COMPLETED)
    operator = make_user(is_staff=True, platform_role=PlatformRole.OPERATOR)
    campaign = campaign_create(actor=operator, terms=CampaignTerms(
        name="唤醒", segment_rule={"conditions": [{"kind": "dormant", "days": 30}]}, instrument="coupon",
        coupon_template_id=make_template().public_id, message_title="t", message_body="b", control_percent=0))
    launched = ops.post("/ops/marketing/campaign/", {"action": "launch_now", "_selected_action": [campaign.pk]})
    assert launched.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == "running"
    page = ops.get(f"/ops/marketing/campaign/{campaign.public_id}/change/")
    assert page.status_code == 200 and 'data-testid="campaign-report"' in page.content.decode()
    assert 'data-testid="stat-claimed">1<' in page.content.decode()
