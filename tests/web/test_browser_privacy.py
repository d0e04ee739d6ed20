"""In a real browser on a phone-sized screen: a consumer opens 我的隐私 (/me/privacy),
downloads their data as a JSON file, then deletes the account by typing DELETE; they are
logged out and the account is anonymised. Screenshots: var/screenshots/privacy-*.png."""

from __future__ import annotations

import json

import pytest

from linli.accounts.models import User
from tests.web.browser import PHONE, TIMEOUT_MS, shot, sms_code

CONSUMER_PHONE = "+8613800138789"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_download_my_data_then_delete_my_account(live_server, chromium, tmp_path):
    url = live_server.url
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{url}/login?next=/me/privacy")
    page.get_by_test_id("phone").fill(CONSUMER_PHONE)
    page.get_by_test_id("send-code").click()
    page.wait_for_selector("[data-testid=sent]")
    page.get_by_test_id("code").fill(sms_code(CONSUMER_PHONE))
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{url}/me/privacy")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "privacy")

    with page.expect_download() as info:
        page.get_by_test_id("privacy-export").click()
    target = tmp_path / "my-data.json"
    info.value.save_as(target)
    document = json.loads(target.read_text(encoding="utf-8"))
    user = User.objects.get(phone=CONSUMER_PHONE)
    assert document["profile"]["id"] == user.public_id

    page.get_by_test_id("privacy-confirm").fill("DELETE")
    page.get_by_test_id("privacy-delete").click()
    page.wait_for_url(f"{url}/?account=deleted")
    user.refresh_from_db()
    assert (user.is_active, user.phone) == (False, None)
    page.goto(f"{url}/me/privacy")
    assert "/login" in page.url
