"""In a real browser: a manager taps "sold out" on a product (no reload: the row is swapped
in by the page's script) and the consumer's store page shows it sold out; pauses the store
and the consumer sees it closed. Screenshots of the menu, store and staff pages at phone
and desktop width go to var/screenshots/merchant-*.png.

Same set-up as tests/web/test_browser.py: Debian's /usr/bin/chromium through Playwright
against pytest-django's live server."""

from __future__ import annotations

import pytest

from tests.fixtures import PASSWORD, make_product, make_staff, make_store

from .browser import DESKTOP, PHONE, TIMEOUT_MS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url: str, username: str) -> None:
    page.goto(f"{url}/m/login")
    page.get_by_test_id("login-name").fill(username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")


def test_sold_out_and_pause_reach_the_consumer_and_pages_fit_a_phone(live_server, chromium):
    store = make_store(name="老王家常菜")
    product = make_product(store, name="宫保鸡丁", price_fen=3200, stock=20)
    make_product(store, name="鱼香肉丝", price_fen=2600, stock=15)
    manager = make_staff(store, role="manager")
    make_staff(store, role="cashier")
    owner = store.merchant.members.get(role="owner").user
    owner.set_password(PASSWORD)
    owner.save()
    url = live_server.url

    def context(viewport):
        ctx = chromium.new_context(viewport=viewport, locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT_MS)
        return ctx

    merchant = context(PHONE).new_page()
    _login(merchant, url, manager.username)
    merchant.goto(f"{url}/m/menu")
    row = f"[data-testid=product][data-product={product.public_id}]"
    merchant.wait_for_selector(f"{row}[data-sold-out='0']")
    merchant.evaluate("window.__noReload = true")
    # Nothing on the phone-width page is wider than the screen.
    assert merchant.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(merchant, "merchant-menu")

    merchant.locator(row).get_by_test_id("sold-out-toggle").click()
    merchant.wait_for_selector(f"{row}[data-sold-out='1'] [data-testid=sold-out-badge]")
    assert merchant.evaluate("window.__noReload") is True  # swapped in, not reloaded
    product.refresh_from_db()
    assert product.is_sold_out
    shot(merchant, "merchant-menu-sold-out")

    consumer = context(PHONE).new_page()
    consumer.goto(f"{url}/stores/{store.public_id}")
    dish = consumer.get_by_test_id("dish").filter(has_text="宫保鸡丁")
    assert "已售罄" in dish.inner_text()
    assert dish.get_by_test_id("add").count() == 0
    assert consumer.get_by_test_id("dish").filter(has_text="鱼香肉丝").get_by_test_id("add").count() == 1

    # The edit form opens in place; a stocktake goes through the ledger.
    merchant.locator(row).get_by_test_id("edit-toggle").click()
    merchant.locator(row).locator("input[name=stock]").fill("8")
    merchant.locator(row).get_by_test_id("save-product").click()
    merchant.wait_for_selector("[data-testid=notice]")
    assert product.stock.__class__.objects.get(product=product).quantity == 8

    # Pause: the consumer sees the store closed.
    merchant.get_by_test_id("nav-store").click()
    merchant.wait_for_selector("[data-testid=pause]")
    assert merchant.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(merchant, "merchant-store")
    merchant.get_by_test_id("pause").click()
    merchant.wait_for_selector("[data-testid=store-status][data-status=paused]")
    store.refresh_from_db()
    assert store.status == "paused"
    shot(merchant, "merchant-store-paused")
    consumer.reload()
    # The consumer page says so ("closed", or its newer "busy, not taking orders" badge).
    shown = consumer.inner_text("body")
    assert any(text in shown for text in ("休息中", "Busy, not taking orders", "暂停接单", "忙碌")), shown
    merchant.get_by_test_id("resume").click()
    merchant.wait_for_selector("[data-testid=store-status][data-status=open]")

    # The owner's staff page; the manager has no link to it.
    assert merchant.get_by_test_id("nav-staff").count() == 0
    boss = context(DESKTOP).new_page()
    _login(boss, url, owner.username)
    boss.get_by_test_id("nav-staff").click()
    boss.wait_for_selector("[data-testid=members] [data-testid=member]")
    shot(boss, "merchant-staff")
    boss.set_viewport_size(PHONE)
    assert boss.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
