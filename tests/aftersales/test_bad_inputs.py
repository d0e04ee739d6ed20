"""Bad after-sales requests are refused with a clear 4xx and a stable code, and write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.aftersales.models import AfterSalesRequest
from linli.orders.models import Order
from linli.payments.models import Refund
from tests.fixtures import Api, make_staff, make_store, token_api

from .helpers import buyer, paid_order, shop

pytestmark = pytest.mark.django_db


def post(api, order, **body):
    body.setdefault("kind", "refund_only")
    body.setdefault("reason", "quality")
    return api.post(f"/orders/{order.public_id}/aftersales", body)


def refused(answer, status, code):
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code, answer.content
    assert answer.json()["message"]


def test_amounts_above_what_was_paid_or_not_positive_are_refused():
    store, dish, _rice, _m = shop(price_fen=2000)
    api, _ = buyer()
    order = paid_order(api, store, dish, quantity=2)
    refused(post(api, order, amount_fen=order.total_fen + 1), 422, "aftersales_amount_exceeds_paid")
    share = 4000 * (order.total_fen - order.delivery_fee_fen) // (2 * order.items_fen)  # one of the two units
    refused(post(api, order, items=[{"line": 1, "quantity": 1}], amount_fen=share + 1),
            422, "aftersales_amount_exceeds_paid")
    refused(post(api, order, amount_fen=0), 422, "aftersales_invalid_amount")
    refused(post(api, order, amount_fen=-100), 422, "aftersales_invalid_amount")
    refused(post(api, order, items=[{"line": 3, "quantity": 1}]), 422, "aftersales_invalid_items")
    refused(post(api, order, items=[{"line": 1, "quantity": 3}]), 422, "aftersales_invalid_items")
    refused(post(api, order, items=[{"line": 1, "quantity": 0}]), 422, "aftersales_invalid_items")
    refused(post(api, order, kind="money_back"), 422, "aftersales_invalid_kind")
    refused(post(api, order, reason="because"), 422, "aftersales_invalid_kind")
    refused(post(api, order, description="长" * 501), 422, "aftersales_text_too_long")
    refused(post(api, order, photo_ids=["aph_nope"]), 422, "aftersales_unknown_photo")
    assert not AfterSalesRequest.objects.exists()


def test_window_closed_and_orders_not_paid_or_not_delivered():
    store, dish, _rice, _m = shop()
    api, _ = buyer()
    old = paid_order(api, store, dish, finished_at=timezone.now() - timedelta(days=8))
    refused(post(api, old), 409, "aftersales_window_closed")
    delivering = paid_order(api, store, dish, status=Order.Status.DELIVERING)
    refused(post(api, delivering), 409, "aftersales_order_not_eligible")
    unpaid = api.post("/orders", {"store_id": store.public_id, "fulfilment": "pickup",
                                  "items": [{"product_id": dish.public_id, "quantity": 1}]},
                      headers={"Idempotency-Key": "unpaid"}).json()
    refused(api.post(f"/orders/{unpaid['id']}/aftersales", {"kind": "refund_only", "reason": "quality"}),
            409, "aftersales_order_not_eligible")
    refused(api.post("/orders/ord_nope/aftersales", {"kind": "refund_only", "reason": "quality"}),
            404, "aftersales_order_not_found")
    assert api.post(f"/orders/{old.public_id}/aftersales", {"kind": "refund_only"}).status_code == 422  # schema
    assert not AfterSalesRequest.objects.exists()


def test_delivered_but_not_yet_confirmed_order_is_eligible():
    store, dish, _rice, _m = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish, status=Order.Status.DELIVERED)
    assert post(api, order).status_code == 201


def test_fully_refunded_order_has_nothing_left():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    first = post(api, order).json()
    manager.post(f"/merchant/aftersales/{first['id']}/agree", {})
    refused(post(api, order), 409, "aftersales_nothing_to_refund")


def test_escalating_an_agreed_request_and_other_steps_out_of_turn():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = post(api, order, kind="return_refund").json()
    refused(api.post(f"/aftersales/{req['id']}/escalate", {}), 409, "aftersales_not_allowed_now")  # not refused yet
    refused(api.post(f"/aftersales/{req['id']}/accept-partial"), 409, "aftersales_not_allowed_now")
    refused(api.post(f"/aftersales/{req['id']}/ship-back", {}), 409, "aftersales_not_allowed_now")
    manager.post(f"/merchant/aftersales/{req['id']}/agree", {})
    refused(api.post(f"/aftersales/{req['id']}/escalate", {"reason": "?"}), 409, "aftersales_not_allowed_now")
    refused(api.post(f"/aftersales/{req['id']}/cancel"), 409, "aftersales_not_allowed_now")
    refused(manager.post(f"/merchant/aftersales/{req['id']}/reject", {"reason": "no"}), 409,
            "aftersales_not_allowed_now")
    refused(manager.post(f"/merchant/aftersales/{req['id']}/resend", {}), 409, "aftersales_not_allowed_now")
    assert AfterSalesRequest.objects.get().status == "agreed" and not Refund.objects.exists()


def test_escalation_after_its_window_is_refused(settings):
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = post(api, order).json()
    manager.post(f"/merchant/aftersales/{req['id']}/reject", {"reason": "不符合"})
    AfterSalesRequest.objects.filter(public_id=req["id"]).update(
        rejected_at=timezone.now() - timedelta(days=settings.LINLI_AFTERSALES_ESCALATE_DAYS + 1))
    refused(api.post(f"/aftersales/{req['id']}/escalate", {}), 409, "aftersales_escalation_window_closed")


def test_other_stores_and_consumers_cannot_touch_a_request():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = post(api, order).json()
    stranger = token_api(make_staff(make_store(name="别家"), role="owner"))
    refused(stranger.post(f"/merchant/aftersales/{req['id']}/agree", {}), 404, "aftersales_not_found")
    refused(stranger.get(f"/merchant/aftersales/{req['id']}"), 404, "aftersales_not_found")
    assert stranger.get("/merchant/aftersales").json() == []
    refused(api.post(f"/merchant/aftersales/{req['id']}/agree", {}), 404, "aftersales_not_found")
    other, _ = buyer()
    refused(other.post(f"/aftersales/{req['id']}/cancel"), 404, "aftersales_not_found")
    refused(other.get("/aftersales/afs_nope"), 404, "aftersales_not_found")
    assert Api().post(f"/aftersales/{req['id']}/cancel").status_code == 401
    assert AfterSalesRequest.objects.get().status == "submitted"

