"""The back office shows messages with their deliveries and each delivery's attempts."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.models import PlatformRole, User
from linli.notifications.models import ChannelDelivery
from tests.marketing.engagement_helpers import make_user

from .helpers import sent

pytestmark = pytest.mark.django_db


def test_operators_see_messages_deliveries_and_the_log_read_only():
    message = sent(user=make_user(), kind="order", title="已接单").message
    delivery = ChannelDelivery.objects.get(message=message)
    operator = User.objects.create_user(username="ops-notif", platform_role=PlatformRole.OPERATOR, is_staff=True,
                                        is_superuser=True)
    client = Client()
    client.force_login(operator)
    assert message.public_id in client.get("/ops/notifications/message/").content.decode()
    page = client.get(f"/ops/notifications/channeldelivery/{delivery.pk}/change/").content.decode()
    assert "ConsolePushProvider" in page and "sent" in page
    assert client.get("/ops/notifications/message/add/").status_code == 403
