"""In a real browser at phone width: the message centre (unread badge in the header, the
categories, opening a message marks it read, mark all read) and its settings page (SMS and
push per category, quiet hours), with no sideways scrolling.

Debian's /usr/bin/chromium through Playwright against pytest-django's live server.
Screenshots: var/screenshots/messages-*.png, message-settings-*.png.
"""

from __future__ import annotations

import pytest

from linli.accounts.models import User
from linli.notifications.models import Message, NotificationPreference
from linli.notifications.services import notify
from tests.web.browser import PHONE, TIMEOUT_MS, shot, sms_code

CONSUMER_PHONE = "+8613800138777"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_message_centre_and_its_settings_on_a_phone(live_server, chromium):
    url = live_server.url
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{url}/login?next=/me/messages")
    page.get_by_test_id("phone").fill(CONSUMER_PHONE)
    page.get_by_test_id("send-code").click()
    page.wait_for_selector("[data-testid=sent]")
    page.get_by_test_id("code").fill(sms_code(CONSUMER_PHONE))
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{url}/me/messages")

    user = User.objects.get(phone=CONSUMER_PHONE)
    notify(user, "order_accepted", "商家已接单", "老王家常菜已接单，正在为您准备。")
    notify(user, "campaign", "周末满减", "满50减10，仅限本周末。", marketing=True)
    notify(user, "system", "密码已修改", "如非本人操作请联系客服。")
    page.reload()
    assert page.get_by_test_id("nav-unread").inner_text() == "3"
    assert page.get_by_test_id("message").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "messages")

    page.locator("[data-testid=message-categories] [data-category=promotion]").click()
    page.wait_for_url(f"{url}/me/messages?category=promotion")
    assert page.get_by_test_id("message").count() == 1
    page.locator("[data-testid=message] button").first.click()  # open: read, back to the inbox
    page.wait_for_url(f"{url}/me/messages")
    assert page.get_by_test_id("nav-unread").inner_text() == "2"
    page.get_by_test_id("read-all").click()
    page.wait_for_url(f"{url}/me/messages")
    assert page.get_by_test_id("nav-unread").count() == 0
    assert Message.objects.filter(user=user, read_at__isnull=True).count() == 0

    page.get_by_test_id("message-settings").click()
    page.wait_for_url(f"{url}/me/messages/settings")
    page.locator("input[name=order_sms]").check()
    page.locator("input[name=promotion_push]").uncheck()
    page.locator("input[name=quiet_start]").fill("22:00")
    page.locator("input[name=quiet_end]").fill("08:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_test_id("save-settings").click()
    page.wait_for_selector("[data-testid=saved]")
    shot(page, "message-settings")
    preference = NotificationPreference.objects.get(user=user)
    assert (preference.order_sms, preference.promotion_push, str(preference.quiet_start),
            str(preference.quiet_end)) == (True, False, "22:00:00", "08:00:00")
    assert page.locator("input[name=order_sms]").is_checked()
    context.close()
