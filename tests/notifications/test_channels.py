"""SMS and push: preferences per category and channel, quiet hours (SMS and push wait, the
inbox does not), per-user rate limits, retries of failed sends, and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from linli.notifications.dispatch import deliveries_due
from linli.notifications.models import ChannelDelivery, DeliveryAttempt, Message
from linli.notifications.providers import ConsolePushProvider, ProviderError
from linli.notifications.services import preference_update
from tests.marketing.engagement_helpers import make_user

from .helpers import sent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def statuses(message: Message) -> dict[str, str]:
    return dict(ChannelDelivery.objects.filter(message=message).values_list("channel", "status"))


def test_defaults_push_order_updates_and_keep_sms_for_those_who_ask(sms_outbox, push_outbox):
    user = make_user()
    message = sent(user=user, kind="order", title="已接单", body="老王家常菜已接单").message
    assert statuses(message) == {"push": "sent"}
    assert push_outbox == [{"alias": user.public_id, "title": "已接单", "body": "老王家常菜已接单", "link": ""}]
    assert sms_outbox == []
    preference_update(user=user, changes={"order_sms": True, "order_push": False})
    second = sent(user=user, kind="order", title="已送达").message
    assert statuses(second) == {"sms": "sent"}
    assert sms_outbox == [(user.phone, "已送达")]
    assert len(push_outbox) == 1


def test_each_category_follows_its_own_choices(sms_outbox, push_outbox):
    user = make_user()
    preference_update(user=user, changes={"promotion_push": False, "system_sms": True})
    promo = sent(user=user, kind="campaign", title="周末满减", marketing=True).message
    notice = sent(user=user, kind="system", title="密码已修改").message
    assert (promo.category, notice.category) == ("promotion", "system")
    assert statuses(promo) == {} and statuses(notice) == {"push": "sent", "sms": "sent"}
    preference_update(user=user, changes={"marketing_opt_out": True})
    assert sent(user=user, kind="campaign", title="再来一单", marketing=True).reason == "opted_out"
    booking = sent(user=user, kind="booking", title="预约已确认", category="order").message
    assert booking.category == "order" and statuses(booking) == {"push": "sent"}


def test_quiet_hours_hold_sms_and_push_until_they_end_the_inbox_gets_it_at_once(sms_outbox, push_outbox):
    user = make_user()
    preference_update(user=user, changes={"system_sms": True, "quiet_start": time(22), "quiet_end": time(8)})
    night = shanghai(25, 23, 30)
    message = sent(user=user, kind="system", title="账户安全提醒", now=night).message
    assert Message.objects.filter(pk=message.pk).exists()  # in the inbox already
    deliveries = ChannelDelivery.objects.filter(message=message)
    assert {d.status for d in deliveries} == {"deferred"}
    assert {d.deliver_after for d in deliveries} == {shanghai(26, 8)}
    assert sms_outbox == [] and push_outbox == []
    assert deliveries_due(now=shanghai(26, 7, 59)) == {}  # still quiet
    assert deliveries_due(now=shanghai(26, 8, 0)) == {"sent": 2}
    assert sms_outbox == [(user.phone, "账户安全提醒")] and len(push_outbox) == 1
    assert deliveries_due(now=shanghai(26, 8, 5)) == {}  # sent once


def test_urgent_news_ignores_quiet_hours_and_what_was_read_meanwhile_is_not_sent(push_outbox):
    user = make_user()
    preference_update(user=user, changes={"quiet_start": time(22), "quiet_end": time(8)})
    night = shanghai(25, 23, 30)
    urgent = sent(user=user, kind="order", title="骑手已取餐", urgent=True, now=night).message
    assert statuses(urgent) == {"push": "sent"}
    calm = sent(user=user, kind="system", title="新功能上线", now=night).message
    assert statuses(calm) == {"push": "deferred"}
    Message.objects.filter(pk=calm.pk).update(read_at=night + timedelta(minutes=5))
    assert deliveries_due(now=shanghai(26, 8)) == {"skipped": 1}
    assert DeliveryAttempt.objects.get(delivery__message=calm).error == "read in the app"
    assert [p["title"] for p in push_outbox] == ["骑手已取餐"]


def test_rate_limit_per_user_and_channel(settings, push_outbox):
    settings.LINLI_NOTIFICATION_RATE_LIMITS = {"push": (3, 3600)}
    user, other = make_user(), make_user()
    now = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    outcomes = [statuses(sent(user=user, kind="order", title=f"第{i}条", now=now).message)["push"] for i in range(5)]
    assert outcomes == ["sent", "sent", "sent", "rate_limited", "rate_limited"]
    assert Message.objects.filter(user=user).count() == 5  # the inbox has every one
    assert statuses(sent(user=other, kind="order", title="别人的", now=now).message) == {"push": "sent"}
    assert DeliveryAttempt.objects.filter(status="rate_limited").count() == 2


class FlakyPush:
    """Fails the first `failures` sends, then delivers to the console outbox."""

    failures = 0

    def send(self, **push: str) -> None:
        if FlakyPush.failures > 0:
            FlakyPush.failures -= 1
            raise ProviderError("gateway timeout")
        ConsolePushProvider.outbox.append(push)


@pytest.fixture
def flaky_push(settings):
    from linli.notifications.providers import get_push_provider

    settings.LINLI_PUSH_PROVIDER = "tests.notifications.test_channels.FlakyPush"
    settings.LINLI_NOTIFICATION_MAX_ATTEMPTS = 3
    settings.LINLI_NOTIFICATION_RETRY_SECONDS = 60
    get_push_provider.cache_clear()
    yield FlakyPush
    get_push_provider.cache_clear()


def test_a_failed_push_is_retried_with_back_off_and_every_attempt_is_logged(flaky_push, push_outbox):
    flaky_push.failures = 1
    user = make_user()
    message = sent(user=user, kind="order", title="已接单").message
    delivery = ChannelDelivery.objects.get(message=message)
    first = DeliveryAttempt.objects.get(delivery=delivery)
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert delivery.deliver_after == first.at + timedelta(seconds=60)
    assert deliveries_due(now=first.at + timedelta(seconds=59)) == {}
    assert deliveries_due(now=first.at + timedelta(seconds=60)) == {"sent": 1}
    log = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("provider", "status", "error"))
    assert log == [("FlakyPush", "failed", "gateway timeout"), ("FlakyPush", "sent", "")]
    assert [p["title"] for p in push_outbox] == ["已接单"]


def test_a_push_that_keeps_failing_gives_up_after_the_last_attempt(flaky_push, push_outbox):
    flaky_push.failures = 99
    message = sent(user=make_user(), kind="order", title="已接单").message
    later = DeliveryAttempt.objects.get(delivery__message=message).at + timedelta(hours=1)
    deliveries_due(now=later)
    deliveries_due(now=later + timedelta(hours=1))
    delivery = ChannelDelivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "gateway timeout")
    assert deliveries_due(now=later + timedelta(hours=2)) == {}
    assert push_outbox == []


def test_sms_to_a_user_without_a_phone_is_skipped_not_retried(sms_outbox):
    user = make_user()
    user.phone = None
    user.save(update_fields=["phone"])
    preference_update(user=user, changes={"order_sms": True})
    message = sent(user=user, kind="order", title="已接单").message
    assert statuses(message) == {"push": "sent", "sms": "skipped"}
    assert ChannelDelivery.objects.get(message=message, channel="sms").last_error == "no phone number"
