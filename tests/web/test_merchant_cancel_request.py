"""The merchant console answers a consumer's cancellation request (asked after accept):
approve refunds the order, decline needs a reason and keeps it going."""

from __future__ import annotations

import pytest

from linli.orders.models import Order
from tests.fixtures import make_staff
from tests.orders.lifecycle_helpers import buyer, paid_order

from .helpers import web_password_login

pytestmark = pytest.mark.django_db


def _asked_to_cancel(store, product, key: str):
    consumer = buyer()
    order = paid_order(consumer, store, product, key=key)
    staff = make_staff(store, role="cashier")
    console = web_password_login(staff.username, "m")
    assert console.post(f"/m/orders/{order['id']}/accept").status_code == 302
    asked = consumer.post(f"/orders/{order['id']}/cancel-request", {"reason": "地址填错了"})
    assert asked.status_code == 200, asked.content
    page = console.get("/m/").content.decode()
    assert 'data-testid="queue-cancel-request"' in page and 'data-testid="approve-cancel"' in page
    return order, console


def test_approving_refunds_the_order(store, product):
    order, console = _asked_to_cancel(store, product, "cr-1")
    assert console.post(f"/m/orders/{order['id']}/approve_cancel").status_code == 302
    assert Order.objects.get(public_id=order["id"]).status in ("refunding", "refunded")


def test_declining_needs_a_reason_and_keeps_the_order(store, product):
    order, console = _asked_to_cancel(store, product, "cr-2")
    refused = console.post(f"/m/orders/{order['id']}/decline_cancel", {"reason": ""})
    assert refused.status_code == 422 and 'data-code="reason_required"' in refused.content.decode()
    assert Order.objects.get(public_id=order["id"]).cancel_request == "pending"
    assert console.post(f"/m/orders/{order['id']}/decline_cancel",
                        {"reason": "已在制作"}).status_code == 302
    declined = Order.objects.get(public_id=order["id"])
    assert declined.status == "accepted" and declined.cancel_request == "declined"
