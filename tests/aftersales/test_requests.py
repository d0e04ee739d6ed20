"""After-sales requests over the API: refund only (agree refunds at once along the payment's
path), partial offers, rejection and arbitration, return and refund, re-delivery, the
timeline, and the notifications each side gets."""

from __future__ import annotations

import pytest

from linli.aftersales.models import AfterSalesEvent, AfterSalesPhoto, AfterSalesRequest
from linli.notifications.models import Message
from linli.payments.models import Payment, Refund, RefundItem

from .helpers import books_hold, buyer, operator, paid_order, png_upload, shop

pytestmark = pytest.mark.django_db


def ask(api, order, **body):
    body.setdefault("kind", "refund_only")
    body.setdefault("reason", "quality")
    answer = api.post(f"/orders/{order.public_id}/aftersales", body)
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_refund_only_agreed_by_the_store_is_refunded_once_along_the_path():
    store, dish, _rice, manager = shop(price_fen=2000)
    api, user = buyer()
    order = paid_order(api, store, dish, quantity=2)
    req = ask(api, order, items=[{"line": 1, "quantity": 1}], amount_fen=1500, description="太咸了")
    # One of two units: its share of what was paid for the goods (packaging in, delivery out).
    share = 4000 * (order.total_fen - order.delivery_fee_fen) // (2 * order.items_fen)
    assert req["status"] == "submitted" and req["cap_fen"] == share and req["sla_seconds_left"] > 23 * 3600
    assert req["actions"] == ["cancel"]
    queue = manager.get("/merchant/aftersales").json()
    assert [r["id"] for r in queue] == [req["id"]] and queue[0]["actions"] == ["agree", "propose_partial", "reject"]
    done = manager.post(f"/merchant/aftersales/{req['id']}/agree", {})
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["status"], body["agreed_fen"], body["refunded_fen"]) == ("refunded", 1500, 1500)
    assert [e["action"] for e in body["timeline"]] == ["submit", "agree", "refund"]
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.source, refund.status) == (1500, "aftersales", "succeeded")
    assert body["refund_ids"] == [refund.public_id]
    assert Payment.objects.get(order=order).refunded_fen == 1500
    assert not RefundItem.objects.exists()  # a partial amount does not mark the unit refunded
    again = manager.post(f"/merchant/aftersales/{req['id']}/agree", {})
    assert again.status_code == 409 and again.json()["code"] == "aftersales_not_allowed_now"
    assert Refund.objects.count() == 1
    assert Message.objects.filter(user=user, kind="aftersales").count() == 1
    assert Message.objects.filter(user=store.merchant.members.get(role="owner").user, kind="aftersales").exists()
    mine = api.get(f"/aftersales/{req['id']}").json()
    assert mine["status"] == "refunded" and len(mine["timeline"]) == 3
    books_hold()


def test_whole_items_refund_marks_the_units_and_a_second_request_cannot_take_them_again():
    store, dish, rice, manager = shop(price_fen=2000, second_price_fen=1000)
    api, _ = buyer()
    order = paid_order(api, store, dish, quantity=1, extra=rice)
    first = ask(api, order, items=[{"line": 2, "quantity": 1}])  # no amount: the items' whole value
    assert first["amount_fen"] == first["cap_fen"] > 0
    manager.post(f"/merchant/aftersales/{first['id']}/agree", {})
    assert RefundItem.objects.get().quantity == 1
    again = api.post(f"/orders/{order.public_id}/aftersales",
                     {"kind": "refund_only", "reason": "missing", "items": [{"line": 2, "quantity": 1}]})
    assert again.status_code == 422 and again.json()["code"] == "aftersales_invalid_items"
    books_hold()


def test_partial_offer_accepted_refunds_the_offer():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = ask(api, order, amount_fen=3000, reason="damaged")
    too_much = manager.post(f"/merchant/aftersales/{req['id']}/propose-partial", {"amount_fen": 3000})
    assert too_much.status_code == 422 and too_much.json()["code"] == "aftersales_invalid_amount"
    offer = manager.post(f"/merchant/aftersales/{req['id']}/propose-partial", {"amount_fen": 1200, "note": "洒了一半"})
    assert offer.json()["status"] == "partial_proposed" and offer.json()["proposed_fen"] == 1200
    assert api.get(f"/aftersales/{req['id']}").json()["actions"] == ["accept_partial", "cancel", "escalate"]
    taken = api.post(f"/aftersales/{req['id']}/accept-partial")
    assert taken.status_code == 200, taken.content
    assert (taken.json()["status"], taken.json()["refunded_fen"]) == ("refunded", 1200)
    assert Refund.objects.get().amount_fen == 1200
    books_hold()


def test_rejected_request_escalated_and_arbitrated_with_a_binding_refund():
    store, dish, _rice, manager = shop()
    api, user = buyer()
    ops, _ = operator()
    order = paid_order(api, store, dish)
    req = ask(api, order, amount_fen=2500)
    no_reason = manager.post(f"/merchant/aftersales/{req['id']}/reject", {"reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "aftersales_reason_required"
    rejected = manager.post(f"/merchant/aftersales/{req['id']}/reject", {"reason": "照片看不出问题"}).json()
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "照片看不出问题"
    escalated = api.post(f"/aftersales/{req['id']}/escalate", {"reason": "确实变质了"}).json()
    assert escalated["status"] == "escalated"
    twice = api.post(f"/aftersales/{req['id']}/escalate", {"reason": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == "aftersales_not_allowed_now"
    assert [r["id"] for r in ops.get("/ops/aftersales/arbitration").json()] == [req["id"]]
    assert api.get("/ops/aftersales/arbitration").status_code == 403
    assert api.post(f"/ops/aftersales/{req['id']}/arbitrate", {"amount_fen": 1, "note": "x"}).status_code == 403
    over = ops.post(f"/ops/aftersales/{req['id']}/arbitrate", {"amount_fen": 10**6, "note": "全退"})
    assert over.status_code == 422 and over.json()["code"] == "aftersales_amount_exceeds_paid"
    decided = ops.post(f"/ops/aftersales/{req['id']}/arbitrate", {"amount_fen": 2000, "note": "商家举证不足"})
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["refunded_fen"], body["arbitration_note"]) == ("refunded", 2000, "商家举证不足")
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.actor_role, refund.source) == (2000, "operator", "aftersales")
    assert [e["action"] for e in body["timeline"]] == ["submit", "reject", "escalate", "arbitrate"]
    assert ops.post(f"/ops/aftersales/{req['id']}/arbitrate", {"amount_fen": 0, "note": "x"}).status_code == 409
    assert Message.objects.filter(user=user, kind="aftersales").count() == 2  # rejected, decided
    books_hold()


def test_arbitration_can_decide_no_refund():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    ops, _ = operator()
    order = paid_order(api, store, dish)
    req = ask(api, order)
    manager.post(f"/merchant/aftersales/{req['id']}/reject", {"reason": "已核实无问题"})
    api.post(f"/aftersales/{req['id']}/escalate", {})
    no_note = ops.post(f"/ops/aftersales/{req['id']}/arbitrate", {"amount_fen": 0, "note": ""})
    assert no_note.status_code == 422
    body = ops.post(f"/ops/aftersales/{req['id']}/arbitrate", {"amount_fen": 0, "note": "证据不足"}).json()
    assert body["status"] == "arbitrated" and body["refunded_fen"] == 0
    assert not Refund.objects.exists()
    # Finished: the order may have a new request.
    assert api.post(f"/orders/{order.public_id}/aftersales", {"kind": "redelivery", "reason": "missing"}
                    ).status_code == 201


def test_return_and_refund_waits_for_the_goods():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = ask(api, order, kind="return_refund", reason="wrong")
    early = manager.post(f"/merchant/aftersales/{req['id']}/confirm-return", {})
    assert early.status_code == 409 and early.json()["code"] == "aftersales_not_allowed_now"
    agreed = manager.post(f"/merchant/aftersales/{req['id']}/agree", {}).json()
    assert agreed["status"] == "agreed" and not Refund.objects.exists()
    assert api.post(f"/aftersales/{req['id']}/ship-back", {"note": "顺丰 SF123"}).json()["status"] == "returning"
    done = manager.post(f"/merchant/aftersales/{req['id']}/confirm-return", {}).json()
    assert (done["status"], done["refunded_fen"]) == ("refunded", order.total_fen)
    assert [e["action"] for e in done["timeline"]] == ["submit", "agree", "ship_back", "confirm_return"]
    assert Refund.objects.get().amount_fen == order.total_fen
    books_hold()


def test_redelivery_moves_no_money():
    store, dish, _rice, manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    req = ask(api, order, kind="redelivery", reason="missing", items=[{"line": 1, "quantity": 1}])
    assert req["amount_fen"] == 0
    assert manager.post(f"/merchant/aftersales/{req['id']}/resend", {}).status_code == 409
    no_money = manager.post(f"/merchant/aftersales/{req['id']}/propose-partial", {"amount_fen": 100})
    assert no_money.status_code == 409 and no_money.json()["code"] == "aftersales_not_allowed_now"
    manager.post(f"/merchant/aftersales/{req['id']}/agree", {})
    done = manager.post(f"/merchant/aftersales/{req['id']}/resend", {"note": "已补送"}).json()
    assert done["status"] == "resent" and not Refund.objects.exists()
    with_amount = api.post(f"/orders/{order.public_id}/aftersales",
                           {"kind": "redelivery", "reason": "missing", "amount_fen": 100})
    assert with_amount.status_code == 422 and with_amount.json()["code"] == "aftersales_invalid_amount"


def test_photos_upload_then_attach_and_consumer_cancels():
    store, dish, _rice, manager = shop()
    api, user = buyer()
    order = paid_order(api, store, dish)
    ids = []
    for _ in range(2):
        answer = api.client.post("/api/v1/aftersales/photos", {"file": png_upload()},
                                 headers={"Authorization": f"Bearer {api.token}"})
        assert answer.status_code == 201, answer.content
        ids.append(answer.json()["id"])
    fake = api.client.post("/api/v1/aftersales/photos",
                           {"file": png_upload().__class__("x.jpg", b"not an image", content_type="image/jpeg")},
                           headers={"Authorization": f"Bearer {api.token}"})
    assert fake.status_code == 422 and fake.json()["code"] == "invalid_image"
    ten = api.post(f"/orders/{order.public_id}/aftersales",
                   {"kind": "refund_only", "reason": "quality", "photo_ids": ids * 5})
    assert ten.status_code == 422 and ten.json()["code"] == "aftersales_too_many_photos"
    other_api, _ = buyer()
    theirs = other_api.post(f"/orders/{order.public_id}/aftersales",
                            {"kind": "refund_only", "reason": "quality"})
    assert theirs.status_code == 404 and theirs.json()["code"] == "aftersales_order_not_found"
    req = ask(api, order, photo_ids=ids)
    assert [p["id"] for p in req["photos"]] == ids
    assert AfterSalesPhoto.objects.filter(request__public_id=req["id"]).count() == 2
    assert other_api.get(f"/aftersales/{req['id']}").status_code == 404
    assert manager.get(f"/merchant/aftersales/{req['id']}").json()["photos"][0]["id"] == ids[0]
    cancelled = api.post(f"/aftersales/{req['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert api.post(f"/aftersales/{req['id']}/escalate", {}).status_code == 409
    assert AfterSalesEvent.objects.filter(request__public_id=req["id"]).count() == 2


def test_idempotent_create_and_one_request_in_progress_per_order():
    store, dish, _rice, _manager = shop()
    api, _ = buyer()
    order = paid_order(api, store, dish)
    body = {"kind": "refund_only", "reason": "quality", "amount_fen": 500}
    first = api.post(f"/orders/{order.public_id}/aftersales", body, headers={"Idempotency-Key": "k1"})
    replay = api.post(f"/orders/{order.public_id}/aftersales", body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == replay.status_code == 201 and first.json()["id"] == replay.json()["id"]
    changed = api.post(f"/orders/{order.public_id}/aftersales", {**body, "amount_fen": 600},
                       headers={"Idempotency-Key": "k1"})
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    second = api.post(f"/orders/{order.public_id}/aftersales", body, headers={"Idempotency-Key": "k2"})
    assert second.status_code == 409 and second.json()["code"] == "aftersales_in_progress"
    assert AfterSalesRequest.objects.count() == 1
