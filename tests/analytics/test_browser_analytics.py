"""In a real browser at phone width: an owner opens /m/analytics from the console, picks
another period, and the page fits the screen. Screenshots: var/screenshots/analytics-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli.analytics.models import StoreDay, StoreItemDay
from linli.analytics.selectors import today
from tests.fixtures import PASSWORD, make_store
from tests.web.browser import PHONE, TIMEOUT_MS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_reads_the_analytics_page_on_a_phone(live_server, chromium):
    store = make_store(name="老王家常菜")
    owner = store.merchant.members.get(role="owner").user
    owner.set_password(PASSWORD)
    owner.save()
    day = today()
    for back in range(90):
        StoreDay.objects.create(day=day - timedelta(days=back), store_id=store.pk, merchant_id=store.merchant_id,
                                city_code="shanghai", district="x", category_id=store.category_id,
                                online_orders=2 + back % 5, online_sales_fen=6000 + 100 * (back % 7),
                                new_buyers=1, returning_buyers=1 + back % 2, views=30, carts=9, checkouts=5,
                                placed_orders=4, hours=[back % 3] * 24, reviews=1, stars_sum=3 + back % 3)
        StoreItemDay.objects.create(day=day - timedelta(days=back), store_id=store.pk, product_id=1,
                                    name="宫保鸡丁", quantity=2, sales_fen=6400)
    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/m/login")
    page.get_by_test_id("login-name").fill(owner.username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")
    page.get_by_test_id("nav-analytics").click()
    page.wait_for_selector("[data-testid=sales-chart]")
    assert page.get_by_test_id("total-orders").inner_text() != "0"
    page.get_by_test_id("period").select_option("90")
    page.get_by_test_id("granularity").select_option("week")
    page.get_by_test_id("period-apply").click()
    page.wait_for_url("**/m/analytics?days=90&granularity=week")
    assert page.get_by_test_id("best-item").first.inner_text().startswith("宫保鸡丁")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "analytics-merchant")
    ctx.close()
