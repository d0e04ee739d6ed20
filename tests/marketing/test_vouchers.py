"""Group-buy vouchers (团购券): buy through an order, pay (sandbox or wallet), vouchers issued
once, redeem at the counter (partial use, idempotent per counter), refund the unused share
(随时退 and at expiry), the sweep, and every refusal writing nothing."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.utils import timezone

from linli.accounts.member_code import luhn_digit
from linli.marketing import voucher_services as services
from linli.marketing.models import (
    Voucher,
    VoucherDeal,
    VoucherEvent,
    VoucherLimitCounter,
    VoucherPurchase,
    VoucherRedemption,
)
from linli.merchants.models import Store
from linli.orders.events import order_changed
from linli.orders.models import Order
from linli.orders.services import orders_cancel_unpaid
from linli.payments.models import Payment, Refund
from tests.fixtures import Api, make_staff, make_store, token_api
from tests.payments.helpers import (
    balance,
    books_hold,
    buyer_pays_at_sandbox,
    consumer,
    top_up,
    wallet,
)

pytestmark = pytest.mark.django_db

_keys = count(1)


def make_deal(store: Store, **fields: Any) -> VoucherDeal:
    values: dict[str, Any] = {"title": "双人套餐", "description": "两荤一素 + 两份米饭", "price_fen": 8800,
                              "worth_fen": 12800, "uses_per_voucher": 1, "valid_days": 30}
    values.update(fields)
    if values.get("valid_until") is not None:
        values["valid_days"] = None
    deal = VoucherDeal(store=store, **values)
    deal.full_clean()
    deal.save()
    return deal


def buy(api: Api, deal: VoucherDeal, quantity: int = 1, key: str | None = None):
    return api.post(f"/voucher-deals/{deal.public_id}/buy", {"quantity": quantity},
                    headers={"Idempotency-Key": key or f"vb-{next(_keys)}"})


def pay(api: Api, order_id: str, provider: str = "sandbox") -> None:
    answer = api.post(f"/orders/{order_id}/payments", {"provider": provider})
    assert answer.status_code in (200, 201), answer.content
    if provider != "wallet":
        buyer_pays_at_sandbox(answer.json()["pay_url"])


def bought(api: Api, deal: VoucherDeal, quantity: int = 1, provider: str = "sandbox") -> list[dict[str, Any]]:
    """Buy and pay; the vouchers of that order as /me/vouchers shows them."""
    answer = buy(api, deal, quantity)
    assert answer.status_code == 201, answer.content
    order_id = answer.json()["order_id"]
    pay(api, order_id, provider)
    return [v for v in api.get("/me/vouchers").json()["items"] if v["order_id"] == order_id]


def redeem(api: Api, store: Store, code: str, uses: int = 1, counter: str = "till-1", key: str | None = None):
    return api.post(f"/merchant/stores/{store.public_id}/vouchers/redeem",
                    {"code": code, "uses": uses, "counter": counter},
                    headers={"Idempotency-Key": key or f"rd-{next(_keys)}"})


def owner_api(store: Store) -> Api:
    return token_api(store.merchant.members.get(role="owner").user)


# --- buying and issuing ---------------------------------------------------------------------------

def test_bought_and_paid_vouchers_are_issued_once_with_unguessable_codes():
    store = make_store()
    deal = make_deal(store, uses_per_voucher=2)
    api, user = consumer()
    first = buy(api, deal, quantity=2, key="k1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["total_fen"] == 17600 and body["status"] == "pending_payment"
    assert body["pay_url"] == f"/orders/{body['order_id']}/pay"
    again = buy(api, deal, quantity=2, key="k1")
    assert again.status_code == 200 and again.json()["order_id"] == body["order_id"]
    assert VoucherDeal.objects.get(pk=deal.pk).sold_count == 2
    assert api.get("/me/vouchers").json()["items"] == []  # nothing before payment

    pay(api, body["order_id"])
    order = Order.objects.get(public_id=body["order_id"])
    assert order.status == "completed" and order.fulfilment == "voucher" and order.accept_deadline is None
    assert list(order.events.values_list("action", flat=True)) == ["place", "pay", "issue"]
    vouchers = api.get("/me/vouchers").json()["items"]
    assert len(vouchers) == 2
    codes = {v["code"] for v in vouchers}
    assert len(codes) == 2
    for v in vouchers:
        assert len(v["code"]) == 12 and v["code"].isdigit() and luhn_digit(v["code"][:11]) == v["code"][11]
        assert v["uses_left"] == v["uses_total"] == 2 and v["status"] == "active" and v["price_fen"] == 8800

    # the paid event delivered again (and the sweep) issue nothing more
    services.on_order_changed(order)
    services.voucher_issue_for_order(order_id=order.public_id)
    assert services.vouchers_sweep(now=timezone.now() + timedelta(minutes=5))["issued"] == 0
    assert Voucher.objects.filter(order=order).count() == 2
    assert VoucherEvent.objects.filter(voucher__order=order, action="issue").count() == 2
    books_hold()


def test_the_sweep_issues_vouchers_whose_receiver_never_ran():
    deal = make_deal(make_store())
    api, user = consumer()
    order_id = buy(api, deal).json()["order_id"]
    order_changed.disconnect(dispatch_uid="marketing-vouchers")
    try:
        pay(api, order_id)
    finally:
        from linli.marketing.receivers import vouchers_on_order_changed

        order_changed.connect(vouchers_on_order_changed, dispatch_uid="marketing-vouchers")
    assert Order.objects.get(public_id=order_id).status == "paid"
    assert services.vouchers_sweep(now=timezone.now() + timedelta(minutes=2))["issued"] == 1
    assert Order.objects.get(public_id=order_id).status == "completed"
    assert Voucher.objects.filter(order__public_id=order_id).count() == 1


def test_an_order_left_unpaid_gives_back_the_quota_and_the_buyers_count(django_capture_on_commit_callbacks):
    deal = make_deal(make_store(), total_quota=3, per_user_limit=2)
    api, user = consumer()
    assert buy(api, deal, quantity=2).status_code == 201
    assert buy(api, deal).json()["code"] == "voucher_buy_limit"
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_cancel_unpaid(now=timezone.now() + timedelta(hours=1)) == 1
    assert VoucherDeal.objects.get(pk=deal.pk).sold_count == 0
    assert VoucherLimitCounter.objects.get(deal=deal, user=user).count == 0
    assert VoucherPurchase.objects.get(deal=deal).status == "cancelled"
    assert buy(api, deal, quantity=2).status_code == 201  # room again


@pytest.mark.parametrize(("quantity", "code", "status"), [(0, "voucher_quantity_invalid", 422),
                                                          (11, "voucher_quantity_invalid", 422)])
def test_bad_quantities_are_refused_with_nothing_written(quantity, code, status):
    deal = make_deal(make_store())
    api, _ = consumer()
    answer = buy(api, deal, quantity=quantity)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not Order.objects.exists() and VoucherDeal.objects.get(pk=deal.pk).sold_count == 0


def test_buying_refusals_write_nothing():
    store = make_store()
    api, user = consumer()
    assert buy(api, VoucherDeal(public_id="vdl_nope")).json()["code"] == "voucher_deal_not_found"
    paused = make_deal(store, status="paused")
    assert (buy(api, paused).status_code, buy(api, paused).json()["code"]) == (409, "voucher_deal_not_on_sale")
    sold = make_deal(store, total_quota=1)
    VoucherDeal.objects.filter(pk=sold.pk).update(sold_count=1)
    assert buy(api, sold).json()["code"] == "voucher_sold_out"
    few = make_deal(store, total_quota=3)
    assert buy(api, few, quantity=4).json()["code"] == "voucher_sold_out"
    ended = make_deal(store, valid_until=timezone.now() + timedelta(days=1))
    VoucherDeal.objects.filter(pk=ended.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    assert buy(api, ended).json()["code"] == "voucher_deal_not_on_sale"
    missing_key = api.post(f"/voucher-deals/{few.public_id}/buy", {"quantity": 1})
    assert missing_key.json()["code"] == "idempotency_key_missing"
    assert Api().post(f"/voucher-deals/{few.public_id}/buy", {"quantity": 1},
                      headers={"Idempotency-Key": "x"}).status_code == 401
    assert not Order.objects.exists() and not VoucherPurchase.objects.exists()
    assert VoucherDeal.objects.get(pk=few.pk).sold_count == 0


def test_same_key_with_another_quantity_is_refused():
    deal = make_deal(make_store())
    api, _ = consumer()
    assert buy(api, deal, key="same").status_code == 201
    answer = buy(api, deal, quantity=2, key="same")
    assert (answer.status_code, answer.json()["code"]) == (409, "idempotency_key_reused")
    assert VoucherDeal.objects.get(pk=deal.pk).sold_count == 1


# --- redemption (核销) ------------------------------------------------------------------------------

def test_partial_redemption_records_each_uses_share_for_settlement():
    store = make_store()
    deal = make_deal(store, uses_per_voucher=3, funded_by="shared", platform_share_percent=25)
    api, _ = consumer()
    voucher = bought(api, deal)[0]
    cashier = token_api(make_staff(store, role="cashier"))
    spaced = " ".join(voucher["code"][i:i + 4] for i in (0, 4, 8))

    looked = cashier.get(f"/merchant/stores/{store.public_id}/vouchers/lookup", {"code": spaced}).json()
    assert looked["uses_left"] == 3 and looked["redeemable"] and "code" not in looked

    two = redeem(cashier, store, spaced, uses=2)
    assert two.status_code == 201, two.content
    assert two.json() | {} == two.json()
    assert (two.json()["uses"], two.json()["uses_left"], two.json()["amount_fen"]) == (2, 1, 5866)
    assert two.json()["worth_fen"] == 12800 * 2 // 3
    discount = two.json()["worth_fen"] - 5866
    assert (two.json()["platform_fen"], two.json()["merchant_fen"]) == (discount * 25 // 100,
                                                                          discount - discount * 25 // 100)
    last = redeem(cashier, store, voucher["code"])
    assert (last.json()["uses_left"], last.json()["amount_fen"]) == (0, 8800 - 5866)
    assert sum(VoucherRedemption.objects.values_list("amount_fen", flat=True)) == 8800
    assert sum(VoucherRedemption.objects.values_list("worth_fen", flat=True)) == 12800
    assert Voucher.objects.get(public_id=voucher["id"]).status == "used"
    again = redeem(cashier, store, voucher["code"])
    assert (again.status_code, again.json()["code"]) == (409, "voucher_used_up")
    assert [v["status"] for v in api.get("/me/vouchers").json()["items"]] == ["used"]
    today = cashier.get(f"/merchant/stores/{store.public_id}/voucher-redemptions").json()["items"]
    assert [r["uses"] for r in today] == [1, 2]
    assert list(VoucherEvent.objects.filter(voucher__public_id=voucher["id"]).values_list("action", flat=True)) \
        == ["issue", "redeem", "redeem"]


def test_a_retry_from_the_same_counter_redeems_once():
    store = make_store()
    deal = make_deal(store, uses_per_voucher=5)
    api, _ = consumer()
    code = bought(api, deal)[0]["code"]
    owner = owner_api(store)
    first = redeem(owner, store, code, key="scan-1")
    retry = redeem(owner, store, code, key="scan-1")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json()["id"] == retry.json()["id"]
    other_till = redeem(owner, store, code, key="scan-1", counter="till-2")
    assert other_till.status_code == 201
    reused = redeem(owner, store, code, uses=2, key="scan-1")
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")
    assert Voucher.objects.get(code=code).uses_left == 3


def test_every_bad_redemption_is_refused_precisely_and_writes_nothing():
    store = make_store()
    other = make_store(name="隔壁小馆")
    deal = make_deal(store, uses_per_voucher=2, refund_unused_on_expiry=False)
    api, _ = consumer()
    voucher = bought(api, deal)[0]
    code = voucher["code"]
    owner = owner_api(store)
    unknown = "12345678901"
    unknown += luhn_digit(unknown)
    typo = code[:11] + str((int(code[11]) + 1) % 10)
    cases = [
        (owner, store, unknown, 1, 404, "voucher_not_found"),
        (owner, store, typo, 1, 404, "voucher_not_found"),
        (owner, store, "abc", 1, 404, "voucher_not_found"),
        (owner_api(other), other, code, 1, 422, "voucher_wrong_store"),
        (owner, store, code, 0, 422, "voucher_uses_invalid"),
        (owner, store, code, 3, 409, "voucher_uses_exceeded"),
        (token_api(consumer()[1]), store, code, 1, 404, "store_not_found"),
    ]
    for api_, store_, code_, uses, status, error in cases:
        answer = redeem(api_, store_, code_, uses=uses)
        assert (answer.status_code, answer.json()["code"]) == (status, error), (code_, answer.content)
    assert Voucher.objects.get(code=code).uses_left == 2
    # expired: refused before and after the sweep marks it
    Voucher.objects.filter(code=code).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert redeem(owner, store, code).json()["code"] == "voucher_expired"
    assert services.vouchers_expire()["expired"] == 1
    assert redeem(owner, store, code).json()["code"] == "voucher_expired"
    assert not VoucherRedemption.objects.exists()
    assert Voucher.objects.get(code=code).uses_left == 2


# --- refunds -------------------------------------------------------------------------------------

def test_refund_any_time_gives_the_unused_share_back_to_the_wallet():
    store = make_store()
    deal = make_deal(store, uses_per_voucher=3)
    api, user = consumer()
    top_up(api, 20000)
    voucher = bought(api, deal, provider="wallet")[0]
    assert sum(wallet(api)) == 20000 - 8800
    assert redeem(owner_api(store), store, voucher["code"]).status_code == 201
    answer = api.post(f"/me/vouchers/{voucher['id']}/refund")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["refunded_fen"]) == ("refunded", 8800 - 8800 // 3)
    assert sum(wallet(api)) == 20000 - 8800 // 3
    again = api.post(f"/me/vouchers/{voucher['id']}/refund")
    assert (again.status_code, again.json()["code"]) == (409, "voucher_refunded")
    assert redeem(owner_api(store), store, voucher["code"]).json()["code"] == "voucher_refunded"
    assert Refund.objects.count() == 1
    someone = consumer()[0]
    assert someone.post(f"/me/vouchers/{voucher['id']}/refund").json()["code"] == "voucher_not_found"
    books_hold()


def test_refund_refused_when_the_deal_does_not_allow_it_or_the_voucher_is_used():
    store = make_store()
    api, _ = consumer()
    strict = bought(api, make_deal(store, refund_anytime=False))[0]
    answer = api.post(f"/me/vouchers/{strict['id']}/refund")
    assert (answer.status_code, answer.json()["code"]) == (409, "voucher_not_refundable")
    used = bought(api, make_deal(store))[0]
    redeem(owner_api(store), store, used["code"])
    assert api.post(f"/me/vouchers/{used['id']}/refund").json()["code"] == "voucher_used_up"
    assert not Refund.objects.exists()


def test_expiry_refunds_the_unused_share_to_the_gateway_once(django_capture_on_commit_callbacks):
    store = make_store()
    deal = make_deal(store, uses_per_voucher=2, valid_days=7)
    api, _ = consumer()
    voucher = bought(api, deal)[0]
    redeem(owner_api(store), store, voucher["code"])
    later = timezone.now() + timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.vouchers_sweep(now=later) == {"issued": 0, "cancelled": 0, "expired": 0, "refunded": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.vouchers_sweep(now=later)["refunded"] == 0  # running twice refunds once
    row = Voucher.objects.get(public_id=voucher["id"])
    assert (row.status, row.refunded_fen) == ("refunded", 4400)
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.status) == (4400, "succeeded")
    assert Payment.objects.get(provider="sandbox").refunded_fen == 4400
    assert balance("clearing:orders") == 4400  # the redeemed use's money stays for the store
    books_hold()


def test_expiry_without_refund_only_marks_the_voucher_expired():
    deal = make_deal(make_store(), refund_unused_on_expiry=False, valid_days=1)
    api, _ = consumer()
    voucher = bought(api, deal)[0]
    assert services.vouchers_expire(now=timezone.now() + timedelta(days=2)) == {"expired": 1, "refunded": 0}
    assert Voucher.objects.get(public_id=voucher["id"]).status == "expired"
    assert api.post(f"/me/vouchers/{voucher['id']}/refund").json()["code"] == "voucher_expired"
    assert not Refund.objects.exists()


# --- deals: public reads and the console ---------------------------------------------------------

def test_owner_creates_pauses_and_resumes_a_deal_cashier_cannot():
    store = make_store()
    owner = owner_api(store)
    body = {"title": "单人午市套餐", "price_fen": 3900, "worth_fen": 5800, "uses_per_voucher": 1,
            "valid_days": 30, "total_quota": 100, "per_user_limit": 2}
    created = owner.post(f"/merchant/stores/{store.public_id}/voucher-deals", body)
    assert created.status_code == 201, created.content
    deal_id = created.json()["id"]
    assert [d["id"] for d in Api().get(f"/stores/{store.public_id}/voucher-deals").json()["items"]] == [deal_id]
    assert Api().get(f"/voucher-deals/{deal_id}").json()["worth_fen"] == 5800
    cashier = token_api(make_staff(store, role="cashier"))
    refused = cashier.post(f"/merchant/stores/{store.public_id}/voucher-deals", body)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    bad = owner.post(f"/merchant/stores/{store.public_id}/voucher-deals", body | {"worth_fen": 3900})
    assert (bad.status_code, bad.json()["code"], bad.json()["details"]["field"]) == \
        (422, "voucher_deal_invalid", "worth_fen")
    both = owner.post(f"/merchant/stores/{store.public_id}/voucher-deals",
                      body | {"valid_until": (timezone.now() + timedelta(days=3)).isoformat()})
    assert both.json()["details"]["field"] == "valid_days"
    fixed = body | {"valid_until": (timezone.now() + timedelta(days=3)).isoformat()}
    del fixed["valid_days"]
    assert owner.post(f"/merchant/stores/{store.public_id}/voucher-deals", fixed).status_code == 201
    assert VoucherDeal.objects.filter(store=store).count() == 2

    paused = owner.post(f"/merchant/voucher-deals/{deal_id}/status", {"action": "pause"})
    assert paused.json()["status"] == "paused"
    api, _ = consumer()
    assert buy(api, VoucherDeal.objects.get(public_id=deal_id)).json()["code"] == "voucher_deal_not_on_sale"
    assert owner.post(f"/merchant/voucher-deals/{deal_id}/status", {"action": "pause"}).json()["code"] \
        == "illegal_transition"
    assert cashier.post(f"/merchant/voucher-deals/{deal_id}/status", {"action": "resume"}).status_code == 403
    assert owner.post(f"/merchant/voucher-deals/{deal_id}/status", {"action": "resume"}).json()["status"] \
        == "on_sale"
    stranger = owner_api(make_store(name="别家"))
    assert stranger.post(f"/merchant/voucher-deals/{deal_id}/status", {"action": "end"}).status_code == 404
    assert list(VoucherEvent.objects.filter(deal__public_id=deal_id).values_list("action", flat=True)) \
        == ["create", "pause", "resume"]


def test_expiry_after_an_operator_refunded_the_order_only_marks_it_expired():
    from linli.payments.services import refund_create

    deal = make_deal(make_store(), valid_days=1)
    api, user = consumer()
    voucher = bought(api, deal)[0]
    refund_create(order_id=voucher["order_id"], actor=user, role="operator", reason="goodwill", amount_fen=8800)
    assert services.vouchers_expire(now=timezone.now() + timedelta(days=2)) == {"expired": 1, "refunded": 0}
    row = Voucher.objects.get(public_id=voucher["id"])
    assert (row.status, row.refunded_fen) == ("expired", 0)
    assert VoucherEvent.objects.get(voucher=row, action="expire").note == "not refunded: nothing_to_refund"
    assert Refund.objects.count() == 1
