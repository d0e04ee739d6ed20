"""Simultaneous decisions on PostgreSQL, real clients on their own connections: whatever
races, a request changes once and refunds at most once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from linli.aftersales import services
from linli.aftersales.models import AfterSalesEvent, AfterSalesRequest
from linli.payments.models import Payment, Refund
from tests.threads import run_concurrently

from .helpers import books_hold, buyer, paid_order, shop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def asked(api, order, **body):
    body.setdefault("kind", "refund_only")
    body.setdefault("reason", "quality")
    answer = api.post(f"/orders/{order.public_id}/aftersales", body)
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def test_two_agrees_at_once_refund_once():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    request_id = asked(api, order, amount_fen=1000)
    answers = run_concurrently([lambda: manager.post(f"/merchant/aftersales/{request_id}/agree", {})] * 2)
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 1}, [a.content for a in answers]
    assert Refund.objects.filter(payment__order=order).count() == 1
    assert Payment.objects.get(order=order).refunded_fen == 1000
    assert AfterSalesEvent.objects.filter(request__public_id=request_id, action="agree").count() == 1
    books_hold()


def test_store_agree_and_sla_sweep_at_the_same_moment_refund_once():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    request_id = asked(api, order, amount_fen=1200)
    AfterSalesRequest.objects.filter(public_id=request_id).update(merchant_due_at=timezone.now() - timedelta(seconds=1))
    answers = run_concurrently([
        lambda: manager.post(f"/merchant/aftersales/{request_id}/agree", {}),
        services.requests_auto_agree,
        services.requests_auto_agree,
    ])
    store_answer, *sweeps = answers
    assert store_answer is not None and all(s is not None for s in sweeps), answers
    agreed_by_store = store_answer.status_code == 200
    assert store_answer.status_code in (200, 409)
    assert sum(sweeps) == (0 if agreed_by_store else 1)
    req = AfterSalesRequest.objects.get(public_id=request_id)
    assert (req.status, req.refunded_fen) == ("refunded", 1200)
    assert AfterSalesEvent.objects.filter(request=req, action__in=("agree", "auto_agree")).count() == 1
    assert Refund.objects.filter(payment__order=order).count() == 1
    assert Payment.objects.get(order=order).refunded_fen == 1200
    books_hold()


def test_two_escalations_at_once_escalate_once():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    request_id = asked(api, order)
    manager.post(f"/merchant/aftersales/{request_id}/reject", {"reason": "不同意"})
    answers = run_concurrently([lambda: api.post(f"/aftersales/{request_id}/escalate", {"reason": "申诉"})] * 2)
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 1}, [a.content for a in answers]
    assert AfterSalesEvent.objects.filter(request__public_id=request_id, action="escalate").count() == 1


def test_two_requests_on_one_order_at_once_make_one():
    store, dish, _rice, _manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    body = {"kind": "refund_only", "reason": "quality"}
    answers = run_concurrently([lambda: api.post(f"/orders/{order.public_id}/aftersales", body)] * 2)
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 1}, [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"aftersales_in_progress"}
    assert AfterSalesRequest.objects.filter(order=order).count() == 1
