"""Preferences through the API and the consumer pages: read, change only what is given, bad
inputs answered with a code; the message centre's categories, mark-all-read and badge."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.notifications.models import NotificationPreference
from linli.notifications.services import notify
from tests.fixtures import Api, token_api
from tests.marketing.engagement_helpers import make_user

pytestmark = pytest.mark.django_db

DEFAULTS = {"marketing_opt_out": False, "order_sms": False, "order_push": True, "promotion_sms": False,
            "promotion_push": True, "system_sms": False, "system_push": True, "quiet_start": None,
            "quiet_end": None, "language": ""}


def test_read_and_change_only_what_is_given():
    user = make_user()
    api = token_api(user)
    assert api.get("/me/notification-preferences").json() == DEFAULTS
    changed = api.post("/me/notification-preferences", {"order_sms": True, "quiet_start": "22:00",
                                                        "quiet_end": "07:30", "language": "en"})
    assert changed.status_code == 200
    assert changed.json() == {**DEFAULTS, "order_sms": True, "quiet_start": "22:00", "quiet_end": "07:30",
                              "language": "en"}
    again = api.post("/me/notification-preferences", {"promotion_push": False}).json()
    assert again["order_sms"] is True and again["quiet_start"] == "22:00" and again["promotion_push"] is False
    off = api.post("/me/notification-preferences", {"quiet_start": None, "quiet_end": None}).json()
    assert (off["quiet_start"], off["quiet_end"]) == (None, None)
    assert NotificationPreference.objects.filter(user=user).count() == 1


def test_bad_preferences_are_refused_with_a_code():
    user = make_user()
    api = token_api(user)
    half = api.post("/me/notification-preferences", {"quiet_start": "22:00"})
    assert (half.status_code, half.json()["code"]) == (422, "quiet_hours_invalid")
    same = api.post("/me/notification-preferences", {"quiet_start": "22:00", "quiet_end": "22:00"})
    assert (same.status_code, same.json()["code"]) == (422, "quiet_hours_invalid")
    klingon = api.post("/me/notification-preferences", {"language": "tlh"})
    assert (klingon.status_code, klingon.json()["code"]) == (422, "language_unsupported")
    assert api.post("/me/notification-preferences", {"quiet_start": "25:00", "quiet_end": "07:00"}).status_code == 422
    assert api.post("/me/notification-preferences", {"order_sms": "perhaps"}).status_code == 422
    assert api.get("/me/notification-preferences").json() == DEFAULTS  # nothing half-saved
    assert Api().get("/me/notification-preferences").status_code == 401


def test_inbox_by_category_and_read_all():
    user = make_user()
    notify(user, "order", "已接单")
    notify(user, "campaign", "满减", marketing=True)
    notify(user, "system", "密码已修改")
    api = token_api(user)
    assert [m["category"] for m in api.get("/me/messages", {"category": "promotion"}).json()["items"]] == ["promotion"]
    assert api.get("/me/messages", {"category": "spam"}).status_code == 422
    assert api.post("/me/messages/read-all").json() == {"marked": 3}
    assert api.post("/me/messages/read-all").json() == {"marked": 0}
    assert api.get("/me/messages").json()["unread"] == 0


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_message_centre_page_tabs_badge_and_mark_all_read():
    user = make_user()
    notify(user, "order", "已接单", "老王家常菜已接单")
    notify(user, "campaign", "周末满减", marketing=True)
    client = _web(user)
    page = client.get("/me/messages").content.decode()
    assert 'data-testid="nav-unread"' in page and "周末满减" in page and 'data-testid="read-all"' in page
    promotions = client.get("/me/messages?category=promotion").content.decode()
    assert "周末满减" in promotions and "老王家常菜已接单" not in promotions
    assert client.get("/me/messages?category=nonsense").status_code == 200  # falls back to all
    assert client.post("/me/messages/read-all").status_code == 302
    page = client.get("/me/messages").content.decode()
    assert 'data-testid="nav-unread"' not in page and 'data-testid="read-all"' not in page
    assert Client().get("/me/messages/settings").status_code == 302  # log in first


def test_the_settings_page_saves_and_refuses_half_quiet_hours():
    user = make_user()
    client = _web(user)
    form = client.get("/me/messages/settings").content.decode()
    assert re.search(r'<input[^>]*name="order_push"[^>]*checked', form)  # the defaults shown
    assert not re.search(r'<input[^>]*name="order_sms"[^>]*checked', form)
    saved = client.post("/me/messages/settings", {"order_push": "on", "order_sms": "on", "marketing_in_app": "on",
                                                  "quiet_start": "22:00", "quiet_end": "08:00", "language": "en"})
    assert saved.status_code == 200 and 'data-testid="saved"' in saved.content.decode()
    preference = NotificationPreference.objects.get(user=user)
    assert (preference.order_sms, preference.order_push, preference.promotion_push, preference.marketing_opt_out,
            str(preference.quiet_start), preference.language) == (True, True, False, False, "22:00:00", "en")
    half = client.post("/me/messages/settings", {"quiet_start": "22:00"})
    assert half.status_code == 422 and 'data-code="quiet_hours_invalid"' in half.content.decode()
    bad = client.post("/me/messages/settings", {"quiet_start": "soon", "quiet_end": "08:00"})
    assert bad.status_code == 422
    assert str(NotificationPreference.objects.get(user=user).quiet_start) == "22:00:00"  # unchanged
