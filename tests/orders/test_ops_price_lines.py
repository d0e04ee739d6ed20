"""The back office's order page renders the stored price breakdown (`Order.price_lines`:
items, discounts, packaging, delivery, night surcharge) with the template the consumer's
order page and the merchant queue use, so an operator sees what both of them saw."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest
from django.test import Client
from django.utils import timezone

from linli.accounts.models import User
from linli.orders.models import Order
from linli.orders.pricing import CartLine, DiscountRule, price_cart
from linli.orders.services import fee_rules_for, order_transition_as
from tests.fixtures import make_staff, token_api
from tests.ops.helpers import staff_client
from tests.orders.test_pricing_orders import EXPECTED_TOTAL, _body, night_shop  # noqa: F401
from tests.web.helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db

BREAKDOWN = re.compile(r'<dl class="breakdown" data-testid="breakdown">.*?</dl>', re.S)


def _breakdown(html: str) -> str:
    found = BREAKDOWN.findall(html)
    assert len(found) == 1, html[:2000]
    return found[0]


def _ops_page(order: Order) -> str:
    answer = staff_client().get(f"/ops/orders/order/{order.public_id}/change/")
    assert answer.status_code == 200, answer.content[:500]
    return answer.content.decode()


def _paid_night_order(store, product) -> tuple[Order, Client]:
    """A paid night delivery order, and the buyer's logged-in web client."""
    client = web_sms_login("13800138031")
    consumer = token_api(User.objects.get(phone="+8613800138031"))
    placed = consumer.post("/orders", _body(store, product), headers={"Idempotency-Key": "ops-1"})
    assert placed.status_code == 201, placed.content
    return order_transition_as(order=Order.objects.get(public_id=placed.json()["id"]), action="pay",
                               actor=None, role="system"), client


def test_the_ops_order_page_shows_the_same_breakdown_as_the_merchant_queue(night_shop):  # noqa: F811
    store, product = night_shop
    order, _ = _paid_night_order(store, product)
    staff = make_staff(store, role="owner")
    queue = web_password_login(staff.username, "m").get("/m/").content.decode()
    ops = _breakdown(_ops_page(order))
    assert ops == _breakdown(queue)  # the very same markup, line by line
    for kind in ("item", "packaging", "delivery", "surcharge"):
        assert f'data-line="{kind}"' in ops
    assert 'data-testid="delivery-fee">¥3.00' in ops and "¥4.00" in ops and "¥2.00" in ops
    assert f"¥{EXPECTED_TOTAL // 100}.{EXPECTED_TOTAL % 100:02d}" in ops


def test_discount_and_surcharge_lines_show_on_the_ops_page_as_the_consumer_sees_them(night_shop):  # noqa: F811
    store, product = night_shop
    order, client = _paid_night_order(store, product)
    # the lines marketing's discounts produce (the pricing seam), stored as order_place stores them
    breakdown = price_cart(
        [CartLine(product_ref=product.public_id, name=product.name, unit_price_fen=3200, quantity=2,
                  packaging_fee_fen=50)],
        fee_rules_for(store), delivery=True, at=timezone.now(), distance_m=order.distance_m,
        discounts=[DiscountRule(ref="prm_ops", label="满60减8", kind="amount_off_items",
                                amount_fen=800, threshold_fen=6000)])
    Order.objects.filter(pk=order.pk).update(price_lines=[asdict(line) for line in breakdown.lines],
                                             total_fen=breakdown.total_fen)
    order.refresh_from_db()
    ops = _breakdown(_ops_page(order))
    assert "满60减8" in ops and "-¥8.00" in ops and 'class="discount"' in ops
    assert 'data-line="surcharge"' in ops
    total = breakdown.total_fen
    assert f"¥{total // 100}.{total % 100:02d}" in ops
    # the consumer's page lists the same non-item lines (its items are listed above them)
    consumer = client.get(f"/orders/{order.public_id}").content.decode()
    mine = _breakdown(consumer)
    for line in re.findall(r'<div data-line="(?!item)[^"]+".*?</div>', ops, re.S):
        assert line in mine


def test_an_order_without_lines_still_renders(night_shop):  # noqa: F811
    store, product = night_shop
    order, _ = _paid_night_order(store, product)
    Order.objects.filter(pk=order.pk).update(price_lines=[])  # an order from before the breakdown
    order.refresh_from_db()
    ops = _breakdown(_ops_page(order))
    assert "data-line" not in ops and 'data-testid="total"' in ops
