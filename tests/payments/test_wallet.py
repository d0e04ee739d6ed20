"""The stored-value wallet: top-up with bonus, paying with it (alone or with a gateway),
the hold of a combined payment, withdrawal; the ledger holds after every step."""

from __future__ import annotations

import pytest

from linli.orders.models import Order
from linli.payments.ledger import CLEARING, HOLD
from linli.payments.models import (
    ImmutableError,
    LedgerTransaction,
    Payment,
    Posting,
    TopupBonusRule,
)
from tests.payments.helpers import (
    balance,
    books_hold,
    buyer_pays_at_sandbox,
    consumer,
    place,
    shop,
    top_up,
    wallet,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bonus_rules():
    TopupBonusRule.objects.create(threshold_fen=100_00, bonus_fen=10_00)
    TopupBonusRule.objects.create(threshold_fen=200_00, bonus_fen=25_00)


def test_top_up_credits_principal_and_bonus_separately(bonus_rules):
    api, user = consumer()
    topup = top_up(api, 150_00)
    assert (topup["status"], topup["bonus_fen"]) == ("succeeded", 10_00)
    assert wallet(api) == (150_00, 10_00)
    assert balance("gateway:sandbox") == 150_00  # the gateway holds the principal for us
    assert balance("expense:topup_bonus") == 10_00  # the bonus is the platform's cost
    history = api.get("/me/wallet/entries").json()
    assert [(row["kind"], row["cash_fen"], row["bonus_fen"]) for row in history] == [("topup", 150_00, 10_00)]
    books_hold()


def test_top_up_bad_amounts_are_refused_and_nothing_is_written():
    api, _ = consumer()
    for amount in (0, -100, 500_001, "abc", 1.5):
        answer = api.post("/me/wallet/topups", {"amount_fen": amount})
        assert answer.status_code == 422, (amount, answer.content)
    answer = api.post("/me/wallet/topups", {"amount_fen": 100, "provider": "paypal"})
    assert answer.status_code == 422
    assert not Payment.objects.exists() and not LedgerTransaction.objects.exists()


def test_paying_an_order_from_the_wallet_alone(bonus_rules):
    api, _ = consumer()
    store, product = shop(price_fen=2000)
    top_up(api, 100_00)  # 100 + 10 bonus
    order = place(api, store, product, key="w1", quantity=2)
    answer = api.post(f"/orders/{order['id']}/payments", {"provider": "wallet"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["wallet_fen"], body["pay_url"]) == ("succeeded", order["total_fen"], "")
    assert api.get(f"/orders/{order['id']}").json()["status"] == "paid"
    cash, bonus = wallet(api)
    assert cash + bonus == 110_00 - order["total_fen"]
    # principal and bonus spent in proportion (10:1)
    assert bonus == 10_00 - order["total_fen"] * 10_00 // 110_00
    assert balance(CLEARING) == order["total_fen"]
    books_hold()


def test_wallet_short_of_the_total_is_refused_for_wallet_only():
    api, _ = consumer()
    store, product = shop(price_fen=2000)
    top_up(api, 10_00)
    order = place(api, store, product, key="w2")
    answer = api.post(f"/orders/{order['id']}/payments", {"provider": "wallet"})
    assert answer.status_code == 409 and answer.json()["code"] == "insufficient_balance"
    assert wallet(api) == (10_00, 0) and Order.objects.get(public_id=order["id"]).status == "pending_payment"
    books_hold()


def test_combined_payment_holds_the_wallet_part_then_captures_it():
    api, _ = consumer()
    store, product = shop(price_fen=2000)
    top_up(api, 5_00)
    order = place(api, store, product, key="c1")
    body = api.post(f"/orders/{order['id']}/payments", {"use_wallet": True}).json()
    assert body["wallet_fen"] == 5_00 and body["amount_fen"] == order["total_fen"] - 5_00
    assert wallet(api) == (0, 0) and balance(HOLD) == 5_00  # held, not yet spent
    assert Order.objects.get(public_id=order["id"]).status == "pending_payment"
    buyer_pays_at_sandbox(body["pay_url"])
    assert api.get(f"/orders/{order['id']}").json()["status"] == "paid"
    assert balance(HOLD) == 0 and balance(CLEARING) == order["total_fen"]
    assert {p.provider: p.status for p in Payment.objects.filter(order__public_id=order["id"])} == {
        "sandbox": "succeeded", "wallet": "succeeded"}
    books_hold()


def test_closing_a_combined_payment_or_cancelling_the_order_releases_the_hold():
    api, _ = consumer()
    store, product = shop(price_fen=2000)
    top_up(api, 5_00)
    order = place(api, store, product, key="c2")
    first = api.post(f"/orders/{order['id']}/payments", {"use_wallet": True}).json()
    closed = api.post(f"/payments/{first['id']}/close", {})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert wallet(api) == (5_00, 0) and balance(HOLD) == 0
    assert api.post(f"/payments/{first['id']}/close", {}).json()["code"] == "payment_not_closable"
    again = api.post(f"/orders/{order['id']}/payments", {"use_wallet": True}).json()
    assert again["id"] != first["id"] and wallet(api) == (0, 0)
    assert api.post(f"/orders/{order['id']}/cancel", {}).status_code == 200
    assert wallet(api) == (5_00, 0) and balance(HOLD) == 0  # released when the order was cancelled
    assert Payment.objects.get(public_id=again["id"]).status == "closed"
    books_hold()


def test_switching_method_closes_the_open_payment_and_reuses_the_same_choice():
    api, _ = consumer()
    store, product = shop()
    top_up(api, 3_00)
    order = place(api, store, product, key="c3")
    plain = api.post(f"/orders/{order['id']}/payments", {}).json()
    assert api.post(f"/orders/{order['id']}/payments", {}).json()["id"] == plain["id"]
    combined = api.post(f"/orders/{order['id']}/payments", {"use_wallet": True}).json()
    assert combined["id"] != plain["id"] and Payment.objects.get(public_id=plain["id"]).status == "closed"
    assert wallet(api) == (0, 0)
    books_hold()


def test_withdrawal_goes_back_along_the_top_up_and_forfeits_bonus_in_proportion(bonus_rules):
    api, _ = consumer()
    top_up(api, 100_00)
    top_up(api, 50_00)
    assert wallet(api) == (150_00, 10_00)
    answer = api.post("/me/wallet/withdrawals", {"amount_fen": 75_00})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["bonus_forfeited_fen"] == 5_00
    assert [(r["amount_fen"], r["status"], r["source"]) for r in body["refunds"]] == [
        (50_00, "pending", "withdrawal"), (25_00, "pending", "withdrawal")]  # newest top-up first
    assert wallet(api) == (75_00, 5_00)
    # the refunds were sent after commit: the sandbox refunded them at once
    assert balance("gateway:sandbox") == 75_00
    too_much = api.post("/me/wallet/withdrawals", {"amount_fen": 75_01})
    assert too_much.status_code == 409 and too_much.json()["code"] == "insufficient_balance"
    assert api.post("/me/wallet/withdrawals", {"amount_fen": 0}).status_code == 422
    books_hold()


def test_postings_are_immutable():
    api, _ = consumer()
    top_up(api, 10_00)
    posting = Posting.objects.first()
    posting.amount_fen = 1
    with pytest.raises(ImmutableError):
        posting.save()
    with pytest.raises(ImmutableError):
        posting.delete()


def test_a_retried_withdrawal_with_the_same_key_withdraws_once():
    api, _ = consumer()
    top_up(api, 50_00)
    headers = {"Idempotency-Key": "wd-1"}
    first = api.post("/me/wallet/withdrawals", {"amount_fen": 20_00}, headers=headers)
    again = api.post("/me/wallet/withdrawals", {"amount_fen": 20_00}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert wallet(api) == (30_00, 0)
    other = api.post("/me/wallet/withdrawals", {"amount_fen": 10_00}, headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    books_hold()
