"""The SLA timer: requests the store leaves unanswered past their due time are agreed by the
system (refund-only ones refunded), once, however often the sweep runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.aftersales import services, tasks
from linli.aftersales.models import AfterSalesRequest
from linli.notifications.models import Message
from linli.payments.models import Refund

from .helpers import books_hold, buyer, paid_order, shop

pytestmark = pytest.mark.django_db


def overdue(api, order, **body):
    body.setdefault("kind", "refund_only")
    body.setdefault("reason", "quality")
    answer = api.post(f"/orders/{order.public_id}/aftersales", body)
    assert answer.status_code == 201, answer.content
    AfterSalesRequest.objects.filter(public_id=answer.json()["id"]).update(
        merchant_due_at=timezone.now() - timedelta(minutes=1))
    return answer.json()["id"]


def test_beat_schedules_the_sweep():
    entry = settings.CELERY_BEAT_SCHEDULE["aftersales-sla-sweep"]
    assert entry["task"] == "linli.aftersales.tasks.sla_sweep"


def test_unanswered_requests_are_agreed_once_and_refunded():
    store, dish, _rice, manager = shop()
    api, user = buyer()
    refund_id = overdue(api, paid_order(api, store, dish), amount_fen=800)
    redeliver_id = overdue(api, paid_order(api, store, dish), kind="redelivery")
    on_time = api.post(f"/orders/{paid_order(api, store, dish).public_id}/aftersales",
                       {"kind": "refund_only", "reason": "late"}).json()["id"]
    assert tasks.sla_sweep.delay().get() == {"auto_agreed": 2, "returns_refunded": 0}
    assert services.requests_auto_agree() == 0  # a second sweep changes nothing
    refunded = AfterSalesRequest.objects.get(public_id=refund_id)
    assert (refunded.status, refunded.refunded_fen) == ("refunded", 800)
    assert [(e.action, e.actor_role) for e in refunded.events.all()] == [
        ("submit", "consumer"), ("auto_agree", "system"), ("refund", "system")]
    assert AfterSalesRequest.objects.get(public_id=redeliver_id).status == "agreed"  # the store still re-sends
    assert AfterSalesRequest.objects.get(public_id=on_time).status == "submitted"
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.actor_id, refund.source) == (800, None, "aftersales")
    with translation.override(settings.LANGUAGE_CODE):  # messages are written in the user's language
        agreed = str(_("Your after-sales request was agreed automatically"))
    assert Message.objects.filter(user=user, title=agreed).count() == 2
    late = manager.post(f"/merchant/aftersales/{refund_id}/reject", {"reason": "太晚了"})
    assert late.status_code == 409 and late.json()["code"] == "aftersales_not_allowed_now"
    books_hold()


def test_a_request_that_cannot_be_refunded_is_left_for_an_operator():
    store, dish, _rice, _manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    request_id = overdue(api, order)
    from linli.payments.services import refund_create
    from tests.aftersales.helpers import operator

    _ops_api, ops_user = operator()
    refund_create(order_id=order.public_id, actor=ops_user, role="operator", reason="客服已全额退款",
                  amount_fen=order.total_fen)
    assert services.requests_auto_agree() == 0
    assert AfterSalesRequest.objects.get(public_id=request_id).status == "submitted"
    assert Refund.objects.count() == 1


def test_a_return_the_store_never_confirms_is_refunded_after_the_window():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    request_id = api.post(f"/orders/{order.public_id}/aftersales",
                          {"kind": "return_refund", "reason": "wrong", "amount_fen": 1500}).json()["id"]
    manager.post(f"/merchant/aftersales/{request_id}/agree", {})
    api.post(f"/aftersales/{request_id}/ship-back", {"note": "SF123"})
    assert services.requests_auto_confirm_returns() == 0  # just sent
    AfterSalesRequest.objects.filter(public_id=request_id).update(
        shipped_back_at=timezone.now() - timedelta(days=settings.LINLI_AFTERSALES_RETURN_CONFIRM_DAYS, minutes=1))
    assert tasks.sla_sweep.delay().get() == {"auto_agreed": 0, "returns_refunded": 1}
    assert services.requests_auto_confirm_returns() == 0
    req = AfterSalesRequest.objects.get(public_id=request_id)
    assert (req.status, req.refunded_fen) == ("refunded", 1500)
    assert req.events.last().action == "auto_confirm_return"
    assert Refund.objects.get().amount_fen == 1500
    books_hold()
