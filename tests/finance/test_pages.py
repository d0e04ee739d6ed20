"""The merchant console's settlement page: balances, the 30-day chart, batches, and the
statement downloads; only the merchant's own owner or manager sees them."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from linli.accounts.models import User
from linli.finance import postings, services
from tests.fixtures import next_phone

from .helpers import completed_order, consumer, days_ago, operator, shop

pytestmark = pytest.mark.django_db


def test_the_merchant_sees_balances_chart_batches_and_downloads_statements() -> None:
    services.commission_rule_create(actor=operator(), rate_bp=500, starts_at=days_ago(100))
    store, product = shop()
    order = completed_order(store, product, consumer(), at=days_ago(2))
    completed_order(store, product, consumer())
    services.finance_sweep()
    services.settlement_run()
    owner = store.merchant.members.get(role="owner").user
    client = Client()
    client.force_login(owner)
    page = client.get("/m/finance")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="finance-chart"' in html and html.count('data-testid="finance-batch"') == 1
    assert html.count('data-testid="finance-day"') == 2
    day = postings.business_day(order.completed_at).isoformat()
    csv_body = client.get(f"/m/finance/statement.csv?day={day}").content.decode("utf-8-sig")
    assert order.public_id in csv_body and csv_body.count("\n") == 3  # header, the order, the total
    sheet = load_workbook(io.BytesIO(client.get("/m/finance/statement.xlsx").content)).active
    assert sheet.max_row == 3  # header and two orders


def test_a_stranger_is_refused() -> None:
    stranger = Client()
    stranger.force_login(User.objects.create_user(username=next_phone()))
    assert stranger.get("/m/finance").status_code == 403
    store, _product = shop()
    staff = Client()
    cashier = User.objects.create_user(username=next_phone())
    store.merchant.members.create(user=cashier, role="staff")
    staff.force_login(cashier)
    assert staff.get("/m/finance").status_code == 403  # cashiers do not see the money
