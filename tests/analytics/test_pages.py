"""The console page /m/analytics, its exports, and the operator's dashboard in /ops/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli.accounts.models import User
from linli.analytics.models import PlatformDay, StoreDay
from linli.analytics.selectors import today
from tests.fixtures import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, store):
    client.force_login(store.merchant.members.get(role="owner").user)
    day = today()
    for back in range(10):
        StoreDay.objects.create(day=day - timedelta(days=back), store_id=store.pk, merchant_id=store.merchant_id,
                                city_code="shanghai", district="x", category_id=store.category_id,
                                online_orders=2, online_sales_fen=5000, views=20, carts=6, checkouts=3,
                                placed_orders=3, hours=[0] * 12 + [2] + [0] * 11, reviews=1, stars_sum=4)
    return client


def test_console_page_shows_totals_charts_and_funnel(owner_client):
    page = owner_client.get("/m/analytics", {"days": "7", "granularity": "day"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="total-orders">14<' in html  # 7 days x 2
    assert 'data-testid="sales-chart"' in html and 'data-testid="heatmap"' in html
    assert html.count('data-testid="funnel-step"') == 5
    assert 'name="viewport"' in html  # the phone layout
    assert 'data-testid="export-xlsx"' in html


def test_console_page_refuses_a_reversed_range_with_its_code(owner_client):
    page = owner_client.get("/m/analytics", {"from": "2026-03-10", "to": "2026-03-01"})
    assert page.status_code == 422
    assert "analytics_range_reversed" in page.content.decode() or "start date is after" in page.content.decode()


def test_console_exports(owner_client):
    answer = owner_client.get("/m/analytics/export.csv", {"days": "7"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert len(answer.content.decode("utf-8-sig").splitlines()) == 8
    assert owner_client.get("/m/analytics/export.xlsx", {"days": "365", "granularity": "month"}).status_code == 200
    assert owner_client.get("/m/analytics/export.csv", {"days": "365", "granularity": "minute"}).status_code == 422


def test_a_cashier_does_not_see_the_numbers(client, store):
    client.force_login(make_staff(store, role="cashier"))
    assert client.get("/m/analytics").status_code == 403
    assert client.get("/m/analytics/export.csv").status_code == 403


def test_operator_dashboard_in_ops(client, store):
    PlatformDay.objects.create(day=today(), city_code="shanghai", category_id=store.category_id, channel="online",
                               orders=3, gmv_fen=12_345, commission_fen=1_234)
    client.force_login(User.objects.create_superuser("boss", password="x" * 12))
    page = client.get("/ops/analytics/platformday/", {"days": "7", "by": "channel"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="ops-analytics"' in html and "¥123.45" in html
    client.logout()
    assert client.get("/ops/analytics/platformday/").status_code == 302  # to the admin login
