"""Complaint tickets over the API: about a store, a rider or the platform; SLA by category and
priority; assignment to support staff, internal notes the reporter never sees, resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linli.aftersales.models import Ticket, TicketNote
from linli.aftersales.states import ticket_priority
from linli.delivery.models import DeliveryTask
from linli.notifications.models import Message
from tests.fixtures import make_rider

from .helpers import buyer, operator, paid_order, shop

pytestmark = pytest.mark.django_db


def test_priority_floors_by_category():
    assert ticket_priority("food_safety", "normal") == "urgent"
    assert ticket_priority("billing", "normal") == "high"
    assert ticket_priority("billing", "urgent") == "urgent"
    assert ticket_priority("service", "weird") == "normal"


def test_complaint_about_a_store_assigned_noted_resolved_and_closed():
    store, dish, _rice, _m = shop()
    api, user = buyer()
    ops, ops_user = operator()
    order = paid_order(api, store, dish)
    answer = api.post("/complaints", {"subject_kind": "merchant", "category": "food_safety",
                                      "description": "吃完拉肚子", "order_id": order.public_id})
    assert answer.status_code == 201, answer.content
    ticket = answer.json()
    assert (ticket["store_id"], ticket["priority"], ticket["status"]) == (store.public_id, "urgent", "open")
    row = Ticket.objects.get()
    assert row.merchant_id == store.merchant_id and row.due_at - row.created_at <= timedelta(hours=4, seconds=1)
    assert api.post(f"/ops/complaints/{ticket['id']}/assign", {}).status_code == 403
    assigned = ops.post(f"/ops/complaints/{ticket['id']}/assign", {})
    assert assigned.status_code == 200 and assigned.json()["status"] == "assigned"
    assert Ticket.objects.get().assignee == ops_user
    assert ops.post(f"/ops/complaints/{ticket['id']}/notes", {"text": "已联系商家，核查中"}).status_code == 201
    assert TicketNote.objects.get().text == "已联系商家，核查中"
    mine = api.get(f"/complaints/{ticket['id']}").json()
    assert "核查中" not in str(mine)  # internal notes never reach the reporter
    assert ops.post(f"/ops/complaints/{ticket['id']}/resolve", {"text": ""}).status_code == 422
    resolved = ops.post(f"/ops/complaints/{ticket['id']}/resolve", {"text": "商家已整改并赔付"}).json()
    assert resolved["status"] == "resolved" and resolved["resolution"] == "商家已整改并赔付"
    assert Message.objects.filter(user=user, kind="complaint").exists()
    assert api.post(f"/complaints/{ticket['id']}/reopen", {"note": "没有赔付"}).json()["status"] == "assigned"
    ops.post(f"/ops/complaints/{ticket['id']}/resolve", {"text": "已赔付 20 元"})
    assert api.post(f"/complaints/{ticket['id']}/close", {}).json()["status"] == "closed"
    again = api.post(f"/complaints/{ticket['id']}/close", {})
    assert again.status_code == 409 and again.json()["code"] == "ticket_not_allowed_now"
    assert [t["id"] for t in api.get("/me/complaints").json()] == [ticket["id"]]
    assert [e.action for e in Ticket.objects.get().events.all()] == ["open", "assign", "resolve", "reopen",
                                                                   "resolve", "close"]


def test_complaint_about_the_rider_of_an_order_and_about_the_platform():
    store, dish, _rice, _m = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    rider_user = make_rider(lat=store.lat, lng=store.lng)
    DeliveryTask.objects.create(order=order, city_code=store.city_code, rider=rider_user.rider_profile,
                                status="delivered", pickup_lat=store.lat, pickup_lng=store.lng,
                                dropoff_lat=31.2330, dropoff_lng=121.4760)
    answer = api.post("/complaints", {"subject_kind": "rider", "category": "service",
                                      "description": "态度恶劣", "order_id": order.public_id})
    assert answer.status_code == 201, answer.content
    assert Ticket.objects.get(public_id=answer.json()["id"]).rider == rider_user.rider_profile
    platform = api.post("/complaints", {"subject_kind": "platform", "category": "billing", "description": "扣错钱"})
    assert platform.status_code == 201 and platform.json()["priority"] == "high"


def test_bad_complaints_are_refused():
    store, dish, _rice, _m = shop()
    api, _ = buyer()
    other, _ = buyer()
    order = paid_order(api, store, dish)
    cases = [
        ({"subject_kind": "merchant", "category": "service", "description": ""}, 422, "ticket_invalid"),
        ({"subject_kind": "alien", "category": "service", "description": "x"}, 422, "ticket_invalid"),
        ({"subject_kind": "merchant", "category": "nope", "description": "x"}, 422, "ticket_invalid"),
        ({"subject_kind": "merchant", "category": "service", "description": "x"}, 404, "ticket_subject_not_found"),
        ({"subject_kind": "rider", "category": "service", "description": "x", "order_id": order.public_id},
         404, "ticket_subject_not_found"),  # nobody delivered it
    ]
    for body, status, code in cases:
        answer = api.post("/complaints", body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    theirs = other.post("/complaints", {"subject_kind": "merchant", "category": "service", "description": "x",
                                        "order_id": order.public_id})
    assert theirs.status_code == 404 and theirs.json()["code"] == "ticket_subject_not_found"
    assert not Ticket.objects.exists()
    ticket = api.post("/complaints", {"subject_kind": "merchant", "category": "service", "description": "慢",
                                      "store_id": store.public_id}).json()
    assert other.get(f"/complaints/{ticket['id']}").status_code == 404
    assert other.post(f"/complaints/{ticket['id']}/close", {}).status_code == 404
    ops, _ = operator()
    consumer_as_assignee = ops.post(f"/ops/complaints/{ticket['id']}/assign",
                                    {"assignee_id": Ticket.objects.get().reporter.public_id})
    assert consumer_as_assignee.status_code == 422 and consumer_as_assignee.json()["code"] == "ticket_invalid_assignee"
