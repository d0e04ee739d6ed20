"""The operator back office in a real browser: an operator logs in at /ops/, reads the
dashboard, opens the application queue from it, tries to reject without a reason (refused,
nothing changes), then approves; the merchant and its first store exist afterwards.

Same setup as test_browser.py: Debian's /usr/bin/chromium through Playwright (never a
downloaded browser) against pytest-django's live server. Screenshots at phone and desktop
width go to var/screenshots/ops-*.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.models import User
from linli.merchants.models import (
    Merchant,
    MerchantApplication,
    MerchantMember,
    Store,
    StoreCategory,
)
from linli.ops.charts import yuan
from linli.ops.selectors import city_today, day_bounds
from tests.fixtures import make_product, make_rider, make_store, sms_login
from tests.merchants.test_onboarding import FULL, image_bytes, upload
from tests.ops.helpers import order_at
from tests.web.browser import PHONE, TIMEOUT_MS, shot

ADMIN_PASSWORD = "linli-admin-2026"  # what `linli seed` gives the `admin` operator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _a_busy_morning() -> int:
    """Paid and unpaid orders across today's hours so far (city time); returns today's GMV."""
    store = make_store(name="老王家常菜")
    noodles, pork = make_product(store, name="葱油拌面", price_fen=1500), make_product(store, name="红烧肉", price_fen=4800)
    buyer = User.objects.create_user("+8613800138900", phone="+8613800138900")
    now = timezone.now()
    midnight, _ = day_bounds(city_today(now=now))
    gmv = 0
    for hour in range(int((now - midnight).total_seconds() // 3600) + 1):
        at = min(midnight + timedelta(hours=hour, minutes=5), now)
        for n in range(1 + hour % 4):
            paid = n % 3 != 2
            order = order_at(store, pork if n % 2 else noodles, buyer, created=at, paid=at if paid else None,
                             quantity=1 + n)
            gmv += order.total_fen if paid else 0
    for day in range(1, 7):  # earlier days for the week chart
        at = now - timedelta(days=day)
        for n in range(day % 3 + 1):
            order_at(store, pork, buyer, created=at, paid=at, status="completed", quantity=1 + n)
    make_rider(lat=31.2310, lng=121.4745, online=True)
    return gmv


def _submitted_application() -> str:
    api, _ = sms_login("13800138001")
    application_id = api.post("/merchant-applications", FULL).json()["id"]
    assert upload(api, f"/merchant-applications/{application_id}/documents", image_bytes(size=(320, 200)),
                  kind="licence").status_code == 201
    assert api.post(f"/merchant-applications/{application_id}/submit").status_code == 200
    return application_id


def test_operator_approves_an_application_from_the_dashboard(live_server, chromium, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    User.objects.create_superuser("admin", ADMIN_PASSWORD, display_name="平台运营")
    gmv = _a_busy_morning()
    application_id = _submitted_application()
    url = live_server.url

    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{url}/ops/")
    page.wait_for_url(re.compile(r".*/ops/login/\?next=/ops/$"))
    assert "邻里 Linli 运营后台" in page.content()
    shot(page, "ops-login")
    page.fill("#id_username", "admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/ops/")

    # The dashboard: today's numbers and both charts, the model lists under them.
    assert page.get_by_test_id("ops-gmv").inner_text().endswith(yuan(gmv))
    assert page.get_by_test_id("ops-pending-applications").inner_text().strip().endswith("1")
    assert page.get_by_test_id("ops-online-riders").inner_text().strip().endswith("1")
    assert page.get_by_test_id("ops-hour-chart").locator("rect").count() == 24
    assert page.get_by_test_id("ops-day-chart").locator("rect").count() == 7
    assert page.locator("a[href='/ops/orders/order/']").count() >= 1
    shot(page, "ops-dashboard")

    # The queue, from the dashboard's card.
    page.get_by_test_id("ops-pending-applications").click()
    page.wait_for_url(re.compile(r".*/ops/merchants/merchantapplication/\?status__exact=submitted$"))
    shot(page, "ops-queue")
    page.locator("#result_list").get_by_role("link", name=application_id).click()
    page.wait_for_url(re.compile(rf".*/ops/merchants/merchantapplication/{application_id}/change/"))
    assert "6222 **** **** 1234" in page.content()
    page.locator("a.ops-doc img").first.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('a.ops-doc img').complete")
    # served to the operator through the admin's document view (not /media/)
    assert page.locator("a.ops-doc img").first.evaluate("img => img.naturalWidth") == 320
    shot(page, "ops-application")

    # Reject without a reason: refused with the service's message, nothing changes.
    page.get_by_test_id("reject").click()
    page.wait_for_selector("[data-testid=decision-error][data-code=reason_required]")
    assert MerchantApplication.objects.get(public_id=application_id).status == "submitted"
    shot(page, "ops-application-error")

    # Approve: the merchant and its first store now exist.
    page.get_by_test_id("approve").click()
    page.wait_for_selector("[data-testid=decision][data-status=approved]")
    assert page.locator(".messagelist .success").count() == 1
    application = MerchantApplication.objects.get(public_id=application_id)
    assert application.status == "approved"
    merchant = Merchant.objects.get(applications=application)
    store = Store.objects.get(merchant=merchant)
    assert store.name == FULL["store_name"] and store.status == "open"
    assert MerchantMember.objects.filter(merchant=merchant, user=application.applicant, role="owner").exists()
    assert merchant.public_id in page.content() and store.public_id in page.content()
    shot(page, "ops-application-approved")
    ctx.close()
