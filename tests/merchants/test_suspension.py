"""Suspending a merchant delists its stores (no orders, not nearby) and reinstating it puts
back exactly what was open or paused; after-sales' bad-actor suspension goes through it."""

from __future__ import annotations

import pytest

from linli.accounts.models import User
from linli.merchants.models import Merchant, MerchantStatusEvent, Store
from tests.fixtures import Api, delivery_address, make_product, make_store, next_phone, token_api

pytestmark = pytest.mark.django_db


def _operator() -> Api:
    return token_api(User.objects.create_user(f"ops-{next_phone()}", platform_role="operator"))


def test_suspension_closes_the_stores_and_reinstatement_restores_them():
    first = make_store(name="一店")
    second = make_store(name="二店", merchant=first.merchant)
    third = make_store(name="三店", merchant=first.merchant)
    Store.objects.filter(pk=second.pk).update(status=Store.Status.PAUSED)
    Store.objects.filter(pk=third.pk).update(status=Store.Status.CLOSED)  # closed for its own reasons
    product = make_product(first)
    ops = _operator()
    merchant_id = first.merchant.public_id

    done = ops.post(f"/ops/merchants/{merchant_id}/suspend", {"reason": "多次食品安全投诉"})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "suspended" and sorted(done.json()["stores"]) == sorted(
        [first.public_id, second.public_id])
    assert set(Store.objects.filter(merchant=first.merchant).values_list("status", flat=True)) == {"closed"}
    buyer = token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))
    refused = buyer.post("/orders", {"store_id": first.public_id, "fulfilment": "delivery",
                                     "address": delivery_address(),
                                     "items": [{"product_id": product.public_id, "quantity": 1}]},
                         headers={"Idempotency-Key": "susp-1"})
    assert refused.status_code in (404, 409), refused.content
    again = ops.post(f"/ops/merchants/{merchant_id}/suspend", {"reason": "again"})
    assert again.status_code == 409 and again.json()["code"] == "merchant_status_unchanged"

    back = ops.post(f"/ops/merchants/{merchant_id}/reinstate", {"reason": "整改完成"})
    assert back.status_code == 200 and back.json()["status"] == "active"
    statuses = dict(Store.objects.filter(merchant=first.merchant).values_list("name", "status"))
    assert statuses == {"一店": "open", "二店": "paused", "三店": "closed"}
    events = list(MerchantStatusEvent.objects.order_by("created_at", "id").values_list("action", "reason"))
    assert events == [("suspend", "多次食品安全投诉"), ("reinstate", "整改完成")]


def test_only_operators_with_a_reason():
    store = make_store()
    merchant_id = store.merchant.public_id
    owner = token_api(store.merchant.members.get(role="owner").user)
    assert owner.post(f"/ops/merchants/{merchant_id}/suspend", {"reason": "x"}).status_code == 403
    no_reason = _operator().post(f"/ops/merchants/{merchant_id}/suspend", {"reason": "  "})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    unknown = _operator().post("/ops/merchants/mch_nope/suspend", {"reason": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "merchant_not_found"
    not_suspended = _operator().post(f"/ops/merchants/{merchant_id}/reinstate", {"reason": "x"})
    assert not_suspended.status_code == 409
    assert Merchant.objects.get(pk=store.merchant.pk).status == "active"


def test_the_bad_actor_suspension_of_after_sales_is_enforced():
    from linli.aftersales.complaints import actor_warn
    from linli.aftersales.models import ActorWarning

    store = make_store()
    operator = User.objects.create_user(f"ops-{next_phone()}", platform_role="operator")
    warning = actor_warn(actor=operator, level=ActorWarning.Level.SUSPENSION, reason="投诉过多",
                         merchant=store.merchant)
    assert warning.enforced is True
    store.refresh_from_db()
    assert store.status == "closed" and store.merchant.status == "suspended"
