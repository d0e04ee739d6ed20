"""The back office (/ops/): the arbitration queue decided with an action, complaint tickets
worked from the list, and the bad-actors views with warn / suspend."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from linli.accounts.models import PlatformRole, User
from linli.aftersales import complaints, selectors
from linli.aftersales.models import ActorWarning, AfterSalesRequest, Ticket
from linli.delivery.models import Rider
from linli.payments.models import Refund
from tests.fixtures import make_rider

from .helpers import books_hold, buyer, paid_order, shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_user():
    user = User.objects.create_user("ops-li", "long-enough-password", is_staff=True,
                                    platform_role=PlatformRole.OPERATOR)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="aftersales",
                                                        codename__regex=r"^(view|change|add)_"))
    return user


@pytest.fixture
def ops(ops_user):
    client = Client()
    client.force_login(ops_user)
    return client


def escalated(amount_fen=1500):
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = api.post(f"/orders/{order.public_id}/aftersales",
                   {"kind": "refund_only", "reason": "quality", "amount_fen": amount_fen}).json()
    manager.post(f"/merchant/aftersales/{req['id']}/reject", {"reason": "不认可"})
    api.post(f"/aftersales/{req['id']}/escalate", {"reason": "请平台判断"})
    return AfterSalesRequest.objects.get(public_id=req["id"])


def test_arbitration_queue_lists_and_decides_with_a_refund(ops):
    case = escalated()
    url = "/ops/aftersales/arbitrationcase/"
    html = ops.get(url).content.decode()
    assert case.public_id in html and "不认可" in html
    no_note = ops.post(url, {"action": "decide_refund", "_selected_action": [case.pk], "amount_yuan": "10",
                             "note": ""}, follow=True)
    assert "aftersales_reason_required" in no_note.content.decode()
    answer = ops.post(url, {"action": "decide_refund", "_selected_action": [case.pk], "amount_yuan": "10.00",
                            "note": "商家未举证"})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.refunded_fen, case.arbitrated_by.username) == ("refunded", 1000, "ops-li")
    assert Refund.objects.get().amount_fen == 1000
    assert case.public_id not in ops.get(url).content.decode()
    page = ops.get(f"/ops/aftersales/aftersalesrequest/{case.public_id}/change/")
    assert page.status_code == 200 and "arbitrate" in page.content.decode()
    books_hold()


def test_arbitration_no_refund_from_the_queue(ops):
    case = escalated()
    ops.post("/ops/aftersales/arbitrationcase/", {"action": "decide_none", "_selected_action": [case.pk],
                                                  "note": "证据不足"})
    case.refresh_from_db()
    assert case.status == "arbitrated" and not Refund.objects.exists()


def test_tickets_worked_from_the_list(ops, ops_user):
    store, dish, _rice, _m = shop()
    _api, user = buyer()
    ticket = complaints.ticket_create(reporter=user, subject_kind="merchant",
                                      category="service", description="态度差", store_id=store.public_id)
    url = "/ops/aftersales/ticket/"
    assert ticket.public_id in ops.get(url).content.decode()
    ops.post(url, {"action": "assign_to_me", "_selected_action": [ticket.pk]})
    ops.post(url, {"action": "add_note", "_selected_action": [ticket.pk], "text": "电话回访"})
    ops.post(url, {"action": "resolve", "_selected_action": [ticket.pk], "text": "已致歉"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.resolution) == ("resolved", ops_user, "已致歉")
    page = ops.get(f"/ops/aftersales/ticket/{ticket.public_id}/change/").content.decode()
    assert "电话回访" in page
    assert ticket.public_id in ops.get(url + "?status=resolved").content.decode()
    assert ops.get(url + "?sla=overdue").status_code == 200


def test_bad_actors_counts_and_warn_or_suspend(ops, ops_user):
    case = escalated()
    ops.post("/ops/aftersales/arbitrationcase/", {"action": "decide_refund", "_selected_action": [case.pk],
                                                  "amount_yuan": "5", "note": "退一半"})
    merchant = case.store.merchant
    complaints.ticket_create(reporter=case.consumer, subject_kind="merchant", category="service",
                             description="又是这家", store_id=case.store.public_id)
    row = selectors.merchants_with_stats().get(pk=merchant.pk)
    assert (row.aftersales_count, row.rejected_count, row.overturned_count, row.complaint_count) == (1, 1, 1, 1)
    html = ops.get("/ops/aftersales/badactor/").content.decode()
    assert merchant.name in html
    ops.post("/ops/aftersales/badactor/", {"action": "warn", "_selected_action": [merchant.pk],
                                           "reason": "仲裁多次败诉"})
    warning = ActorWarning.objects.get()
    assert (warning.merchant, warning.level, warning.enforced) == (merchant, "warning", False)
    assert selectors.merchants_with_stats().get(pk=merchant.pk).warning_count == 1

    rider = make_rider(lat=31.23, lng=121.47).rider_profile
    Rider.objects.filter(pk=rider.pk).update(approval="approved")
    complaints.ticket_create(reporter=case.consumer, subject_kind="rider", category="delivery",
                             description="餐撒了", rider_id=rider.public_id)
    assert rider.name in ops.get("/ops/aftersales/badrider/").content.decode()
    ops.post("/ops/aftersales/badrider/", {"action": "suspend", "_selected_action": [rider.pk],
                                           "reason": "多次投诉"})
    rider.refresh_from_db()
    assert rider.approval == "suspended" and not rider.is_online
    assert ActorWarning.objects.get(rider=rider).enforced is True
    no_reason = ops.post("/ops/aftersales/badactor/", {"action": "warn", "_selected_action": [merchant.pk],
                                                       "reason": ""}, follow=True)
    assert "aftersales_reason_required" in no_reason.content.decode()
    assert Ticket.objects.count() == 2
