"""In a real browser (Debian's chromium through Playwright, live server): the owner opens the
settlement page on a phone, sees the balance, paid-out amount and the 30-day chart, and
downloads a batch's statement as CSV. Screenshots: var/screenshots/merchant-finance-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from linli.finance import selectors, services
from linli.ops.charts import yuan
from tests.fixtures import PASSWORD
from tests.web.browser import PHONE, TIMEOUT_MS, shot
from tests.web.conftest import chromium  # noqa: F401  (the fixture)

from .helpers import completed_order, consumer, days_ago, operator, shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_sees_the_money_and_downloads_a_statement(live_server, chromium, tmp_path: Path):  # noqa: F811
    services.commission_rule_create(actor=operator(), rate_bp=600, starts_at=days_ago(100))
    store, product = shop(price_fen=4800)
    order = completed_order(store, product, consumer(), at=days_ago(3))
    completed_order(store, product, consumer())
    services.finance_sweep()
    from django.db.models import F

    from linli.finance.models import FinanceEntry
    FinanceEntry.objects.filter(order=order).update(due_on=F("day"))  # posted on completion: make it due
    services.settlement_run()
    owner = store.merchant.members.get(role="owner").user
    owner.set_password(PASSWORD)
    owner.save()
    balances = selectors.merchant_balances(store.merchant)
    assert balances.paid_out_fen > 0 and balances.pending_fen > 0

    ctx = chromium.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/m/login")
    page.get_by_test_id("login-name").fill(owner.username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_selector("[data-testid=console-nav]")
    page.goto(f"{live_server.url}/m/finance")
    assert page.get_by_test_id("finance-paid-out").inner_text() == yuan(balances.paid_out_fen)
    assert page.get_by_test_id("finance-pending").inner_text() == yuan(balances.pending_fen)
    assert page.locator("[data-testid=finance-chart] rect").count() == 30
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "merchant-finance")
    with page.expect_download() as download:
        page.get_by_test_id("finance-batch").get_by_text("CSV").click()
    saved = tmp_path / "statement.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert order.public_id in text and ("佣金" in text or "Commission" in text)
