"""The consumer's complaint pages: file from an order, follow it, see the resolution and
never support's internal notes; bad input shows the form again with the error."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.aftersales import complaints
from linli.aftersales.models import Ticket

from .helpers import buyer, operator, paid_order, shop

pytestmark = pytest.mark.django_db


def test_complain_from_an_order_and_follow_it_to_its_resolution():
    store, product, _other, _manager = shop()
    api, user = buyer()
    order = paid_order(api, store, product)
    client = Client()
    client.force_login(user)
    page = client.get(f"/orders/{order.public_id}").content.decode()
    assert f"/complaints/new?order={order.public_id}" in page
    form = client.get(f"/complaints/new?order={order.public_id}")
    assert form.status_code == 200 and 'data-testid="complaint-form"' in form.content.decode()

    sent = client.post("/complaints/new", {"subject_kind": "merchant", "category": "food_safety",
                                           "description": "吃出了头发", "order_id": order.public_id})
    assert sent.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.reporter_id, ticket.store_id, ticket.order_id) == (user.pk, store.pk, order.pk)
    assert sent["Location"] == f"/complaints/{ticket.public_id}"

    _ops_api, ops_user = operator()
    complaints.ticket_note_add(actor=ops_user, ticket_id=ticket.public_id, text="内部：联系商家核实")
    complaints.ticket_resolve(actor=ops_user, ticket_id=ticket.public_id, resolution="已警告商家并补偿优惠券")
    detail = client.get(f"/complaints/{ticket.public_id}").content.decode()
    assert "已警告商家并补偿优惠券" in detail and "内部：联系商家核实" not in detail
    mine = client.get("/me/complaints").content.decode()
    assert mine.count('data-testid="my-complaint"') == 1


def test_bad_input_and_other_peoples_complaints():
    _api, user = buyer()
    client = Client()
    client.force_login(user)
    empty = client.post("/complaints/new", {"subject_kind": "platform", "category": "other", "description": " "})
    assert empty.status_code == 422 and 'data-testid="complaint-form"' in empty.content.decode()
    wrong = client.post("/complaints/new", {"subject_kind": "merchant", "category": "service",
                                            "description": "x", "order_id": "ord_not_mine"})
    assert wrong.status_code == 404
    assert not Ticket.objects.exists()
    _other_api, other = buyer()
    theirs = complaints.ticket_create(reporter=other, subject_kind="platform", category="billing",
                                      description="扣款两次")
    assert client.get(f"/complaints/{theirs.public_id}").status_code == 404
    assert Client().get("/me/complaints").status_code == 302  # log in first
