"""The after-sales pages, fetched as a phone would (Django test client, phone user agent):
ask from the order page, the request's timeline and the consumer's answers, /me/aftersales,
and the merchant console's queue with the SLA countdown and the store's answers."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.aftersales.models import AfterSalesRequest
from linli.payments.models import Refund

from .helpers import buyer, paid_order, png_upload, shop

pytestmark = pytest.mark.django_db

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def phone(user) -> Client:
    client = Client(HTTP_USER_AGENT=PHONE_UA)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def page(client: Client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, answer.content[:800]
    html = answer.content.decode()
    assert 'name="viewport"' in html and "width=device-width" in html
    return html


def test_ask_from_the_order_page_and_follow_the_timeline():
    store, dish, _rice, _manager = shop()
    api, user = buyer()
    order = paid_order(api, store, dish, quantity=2)
    client = phone(user)
    assert 'data-testid="ask-aftersales"' in page(client, f"/orders/{order.public_id}")
    form = page(client, f"/orders/{order.public_id}/aftersales/new")
    assert 'data-testid="aftersales-form"' in form and 'data-testid="qty-1"' in form
    answer = client.post(f"/orders/{order.public_id}/aftersales/new", {
        "kind": "refund_only", "reason": "damaged", "qty_1": "1", "amount": "5.5", "description": "洒了",
        "photos": [png_upload(), png_upload()]})
    assert answer.status_code == 302, answer.content[:800]
    req = AfterSalesRequest.objects.get()
    assert answer["Location"] == f"/aftersales/{req.public_id}"
    assert (req.amount_fen, req.items, req.photo_count) == (550, [{"line": 1, "quantity": 1}], 2)
    html = page(client, f"/aftersales/{req.public_id}")
    assert 'data-status="submitted"' in html and 'data-testid="sla"' in html and 'data-action="submit"' in html
    assert 'data-testid="cancel-request"' in html and "<img" in html
    assert req.public_id in page(client, "/me/aftersales")
    assert client.post(f"/aftersales/{req.public_id}/cancel").status_code == 302
    assert 'data-status="cancelled"' in page(client, f"/aftersales/{req.public_id}")


def test_form_errors_are_shown_and_nothing_is_written():
    store, dish, _rice, _manager = shop()
    api, user = buyer()
    order = paid_order(api, store, dish)
    client = phone(user)
    over = client.post(f"/orders/{order.public_id}/aftersales/new",
                       {"kind": "refund_only", "reason": "quality", "amount": "9999"})
    assert over.status_code == 422 and 'data-code="aftersales_amount_exceeds_paid"' in over.content.decode()
    bad = client.post(f"/orders/{order.public_id}/aftersales/new",
                      {"kind": "refund_only", "reason": "quality", "amount": "abc"})
    assert bad.status_code == 422 and 'data-code="aftersales_invalid_amount"' in bad.content.decode()
    assert not AfterSalesRequest.objects.exists()
    _other_api, other = buyer()
    assert "aftersales_order_not_found" in page(phone(other), f"/orders/{order.public_id}/aftersales/new", 404)
    assert "aftersales_not_found" in page(phone(other), "/aftersales/afs_nope", 404)
    # Multipart bodies pass the NUL middleware unscreened: the service drops the character.
    nul = client.post(f"/orders/{order.public_id}/aftersales/new",
                      {"kind": "refund_only", "reason": "quality", "description": "洒\x00了", "photos": [png_upload()]})
    assert nul.status_code == 302 and AfterSalesRequest.objects.get().description == "洒了"


def test_merchant_queue_with_sla_and_answers():
    store, dish, _rice, manager_api = shop()
    manager = store.merchant.members.get(role="manager").user
    api, user = buyer()
    order = paid_order(api, store, dish)
    req = api.post(f"/orders/{order.public_id}/aftersales",
                   {"kind": "refund_only", "reason": "quality", "amount_fen": 1000}).json()
    console = phone(manager)
    queue = page(console, "/m/aftersales")
    assert req["id"] in queue and 'data-testid="sla"' in queue and 'data-testid="nav-aftersales"' in queue
    detail = page(console, f"/m/aftersales/{req['id']}")
    assert 'data-testid="agree"' in detail and 'data-testid="reject"' in detail
    no_reason = console.post(f"/m/aftersales/{req['id']}/reject", {"reason": ""})
    assert no_reason.status_code == 422 and 'data-code="aftersales_reason_required"' in no_reason.content.decode()
    partial = console.post(f"/m/aftersales/{req['id']}/propose-partial", {"amount": "6"})
    assert partial.status_code == 302
    assert 'data-testid="accept-partial"' in page(phone(user), f"/aftersales/{req['id']}")
    assert phone(user).post(f"/aftersales/{req['id']}/accept-partial").status_code == 302
    assert Refund.objects.get().amount_fen == 600
    assert 'data-status="refunded"' in page(console, f"/m/aftersales/{req['id']}")
    assert 'data-testid="queue-empty"' in page(console, "/m/aftersales")
    assert req["id"] in page(console, "/m/aftersales?all=1")
    assert "permission_denied" in page(phone(user), f"/m/aftersales/{req['id']}", 403)
