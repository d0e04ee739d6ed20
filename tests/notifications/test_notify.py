"""Messages: the marketing caps and opt-out, the inbox API, marking read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.notifications.models import Message
from linli.notifications.services import notify, preference_set
from tests.fixtures import Api, token_api
from tests.marketing.engagement_helpers import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def caps(settings):
    settings.LINLI_MARKETING_CAP_PER_DAY = 2
    settings.LINLI_MARKETING_CAP_PER_WEEK = 3


def test_marketing_messages_stop_at_the_daily_and_weekly_caps_service_messages_never_do():
    user = make_user()
    now = timezone.now()
    sent = [notify(user, "campaign", f"t{i}", marketing=True, now=now).delivered for i in range(3)]
    assert sent == [True, True, False]
    assert notify(user, "campaign", "x", marketing=True, now=now).reason == "capped_day"
    assert notify(user, "order", "Your order is ready", now=now).delivered  # not marketing: no cap
    tomorrow = now + timedelta(hours=25)
    assert notify(user, "campaign", "t3", marketing=True, now=tomorrow).delivered  # 3 this week
    later = notify(user, "campaign", "t4", marketing=True, now=tomorrow + timedelta(hours=25))
    assert (later.delivered, later.reason) == (False, "capped_week")
    assert notify(user, "campaign", "t5", marketing=True, now=now + timedelta(days=8)).delivered
    assert Message.objects.filter(user=user, marketing=True).count() == 4


def test_an_opted_out_user_gets_no_marketing_message():
    user = make_user()
    api = token_api(user)
    assert api.post("/me/notification-preferences", {"marketing_opt_out": True}).json()["marketing_opt_out"] is True
    delivery = notify(user, "campaign", "新品上市", marketing=True)
    assert (delivery.delivered, delivery.reason) == (False, "opted_out")
    assert notify(user, "order", "已送达").delivered
    preference_set(user=user, marketing_opt_out=False)
    assert notify(user, "campaign", "新品上市", marketing=True).delivered


def test_the_inbox_lists_newest_first_and_marks_read():
    user = make_user()
    now = timezone.now()
    older = notify(user, "campaign", "旧消息", "正文", "/me/coupons", marketing=True, now=now - timedelta(hours=1)).message
    newer = notify(user, "order", "新消息", now=now).message
    notify(make_user(), "order", "别人的")
    api = token_api(user)
    body = api.get("/me/messages").json()
    assert [m["id"] for m in body["items"]] == [newer.public_id, older.public_id] and body["unread"] == 2
    assert body["items"][1]["link"] == "/me/coupons" and body["items"][1]["marketing"] is True
    read = api.post(f"/me/messages/{older.public_id}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    again = api.post(f"/me/messages/{older.public_id}/read")
    assert again.json()["read_at"] == read.json()["read_at"]  # the first time is kept
    assert api.get("/me/messages", {"unread_only": "true"}).json()["unread"] == 1


def test_bad_inputs():
    user = make_user()
    other = notify(make_user(), "order", "别人的").message
    api = token_api(user)
    answer = api.post(f"/me/messages/{other.public_id}/read")
    assert (answer.status_code, answer.json()["code"]) == (404, "message_not_found")
    assert Message.objects.get(pk=other.pk).read_at is None
    assert api.get("/me/messages", {"limit": 0}).status_code == 422
    assert api.post("/me/notification-preferences", {"marketing_opt_out": "perhaps"}).status_code == 422
    assert Api().get("/me/messages").status_code == 401
