"""The cashier (收银台, `/orders/<id>/pay`) and the wallet page (`/me/wallet`) through Django's
test client: every way to pay, every refusal shown in the page with its code and status,
and nothing half done."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.orders.models import Order
from linli.orders.services import LineInput, order_place
from linli.payments import services
from linli.payments.models import Payment, Refund, TopupBonusRule, WalletTopup, WalletWithdrawal
from tests.fixtures import make_product, make_store, next_phone

from .helpers import web_sms_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(name="老王家常菜")
    return store, make_product(store, name="宫保鸡丁", price_fen=3200)


def _user(client: Client) -> User:
    return User.objects.get(pk=client.session["_auth_user_id"])


def _order(client: Client, shop, key: str = "k-1") -> Order:
    store, product = shop
    return order_place(consumer=_user(client), store_id=store.public_id,
                       lines=[LineInput(product_id=product.public_id, quantity=1)],
                       fulfilment="pickup", address=None, idempotency_key=key).order


def _top_up(client: Client, yuan: str, capture) -> None:
    answer = client.post("/me/wallet/topup", {"amount": yuan, "provider": "sandbox"})
    assert answer.status_code == 302 and answer["Location"].startswith("/pay/sandbox/"), answer.content
    with capture(execute=True):
        back = client.post(answer["Location"])
    assert back.status_code == 302 and back["Location"] == "/me/wallet?from=topup"


def _code(answer) -> str:
    found = re.search(r'data-testid="error" data-code="([^"]+)"', answer.content.decode())
    return found.group(1) if found else ""


# --- access --------------------------------------------------------------------------------

@pytest.mark.parametrize("method,url", [("get", "/orders/ord_x/pay"), ("post", "/orders/ord_x/pay"),
                                        ("get", "/orders/ord_x/pay/return"), ("get", "/me/wallet"),
                                        ("post", "/me/wallet/topup"), ("post", "/me/wallet/withdraw")])
def test_pages_ask_for_login_first(method, url):
    answer = getattr(Client(), method)(url)
    assert answer.status_code == 302 and answer["Location"].startswith("/login?next=")


def test_someone_elses_order_is_404_on_the_cashier(shop):
    owner = web_sms_login(next_phone())
    order = _order(owner, shop)
    stranger = web_sms_login(next_phone())
    assert stranger.get(f"/orders/{order.public_id}/pay").status_code == 404
    assert stranger.post(f"/orders/{order.public_id}/pay", {"method": "sandbox"}).status_code == 404
    assert stranger.get(f"/orders/{order.public_id}/pay/return").status_code == 404
    assert stranger.get("/orders/ord_missing/pay").status_code == 404
    assert not Payment.objects.exists()


# --- the cashier -----------------------------------------------------------------------------

def test_checkout_goes_to_the_cashier_which_shows_amount_deadline_and_methods(shop):
    store, product = shop
    client = web_sms_login(next_phone())
    client.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})
    page = client.get(f"/stores/{store.public_id}/checkout").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    placed = client.post(f"/stores/{store.public_id}/checkout",
                         {"fulfilment": "pickup", "idempotency_key": key, "note": ""})
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == f"/orders/{order.public_id}/pay"
    assert not Payment.objects.exists()  # nothing is opened before the buyer chooses
    cashier = client.get(placed["Location"])
    body = cashier.content.decode()
    assert cashier.status_code == 200
    assert f"¥{order.total_fen // 100}.{order.total_fen % 100:02d}" in body
    seconds = int(re.search(r'data-countdown="(\d+)"', body).group(1))
    assert 0 < seconds <= 15 * 60 + 1
    assert 'data-testid="method-sandbox"' in body
    assert 'data-testid="method-alipay"' not in body  # not configured: not offered
    assert 'name="method" value="wallet" disabled' in body and 'data-testid="wallet-hint"' in body
    # The order page's button leads here too.
    assert f'href="/orders/{order.public_id}/pay" data-testid="pay"' in \
        client.get(f"/orders/{order.public_id}").content.decode()


def test_pay_with_the_sandbox_and_come_back_to_a_paid_order(shop, django_capture_on_commit_callbacks):
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    answer = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox", "channel": "h5"})
    payment = Payment.objects.get()
    assert payment.channel == "h5" and payment.provider == "sandbox"
    assert answer.status_code == 302
    assert answer["Location"] == f"{payment.pay_url}?return_to=%2Forders%2F{order.public_id}%2Fpay%2Freturn"
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(answer["Location"])
    assert paid["Location"] == f"/orders/{order.public_id}/pay/return"
    landed = client.get(paid["Location"])
    assert landed.status_code == 302 and landed["Location"] == f"/orders/{order.public_id}"
    assert 'data-status="paid"' in client.get(landed["Location"]).content.decode()
    # A paid order's cashier sends the buyer to the order.
    assert client.get(f"/orders/{order.public_id}/pay")["Location"] == f"/orders/{order.public_id}"


def test_a_missed_notification_is_made_up_by_a_verified_query_on_return(shop, settings):
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    pay_url = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox"})["Location"]
    client.post(pay_url)  # paid at the gateway; its notification never arrives
    order.refresh_from_db()
    assert order.status == "pending_payment"
    client.get(f"/orders/{order.public_id}/pay/return")
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get().messages.filter(kind="trade_query").exists()


def test_the_cashier_itself_asks_the_gateway_about_an_open_payment(shop, settings):
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    pay_url = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox"})["Location"]
    assert client.get(f"/orders/{order.public_id}/pay").status_code == 200  # not paid yet
    client.post(pay_url)  # paid at the gateway; the buyer comes back by the browser's history
    Payment.objects.update(last_queried_at=None)
    answer = client.get(f"/orders/{order.public_id}/pay")
    assert answer.status_code == 302 and answer["Location"] == f"/orders/{order.public_id}"
    order.refresh_from_db()
    assert order.status == "paid"


def test_pay_with_the_wallet_alone(shop, django_capture_on_commit_callbacks):
    TopupBonusRule.objects.create(threshold_fen=10000, bonus_fen=1000)
    client = web_sms_login(next_phone())
    _top_up(client, "100", django_capture_on_commit_callbacks)
    order = _order(client, shop)
    page = client.get(f"/orders/{order.public_id}/pay").content.decode()
    assert 'name="method" value="wallet" checked' in page and "¥110.00" in page
    answer = client.post(f"/orders/{order.public_id}/pay", {"method": "wallet"})
    assert answer.status_code == 302 and answer["Location"] == f"/orders/{order.public_id}"
    order.refresh_from_db()
    assert order.status == "paid"
    balance = services.wallet_balance(_user(client))
    assert balance.total_fen == 11000 - order.total_fen


def test_balance_first_and_the_rest_through_the_sandbox(shop, django_capture_on_commit_callbacks):
    client = web_sms_login(next_phone())
    _top_up(client, "10", django_capture_on_commit_callbacks)
    order = _order(client, shop)
    page = client.get(f"/orders/{order.public_id}/pay").content.decode()
    assert 'data-testid="use-wallet"' in page and "¥10.00" in page
    rest = f"{(order.total_fen - 1000) // 100}.{(order.total_fen - 1000) % 100:02d}"
    assert f"¥{rest}" in page
    answer = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox", "use_wallet": "1"})
    gateway = Payment.objects.get(order=order, wallet_part__isnull=False)
    assert gateway.amount_fen == order.total_fen - 1000 and gateway.wallet_part.amount_fen == 1000
    with django_capture_on_commit_callbacks(execute=True):
        client.post(answer["Location"])
    order.refresh_from_db()
    assert order.status == "paid" and services.wallet_balance(_user(client)).total_fen == 0


def test_wallet_payment_without_enough_balance_is_refused_in_the_page(shop):
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    answer = client.post(f"/orders/{order.public_id}/pay", {"method": "wallet"})
    assert answer.status_code == 409 and _code(answer) == "insufficient_balance"
    assert 'data-testid="cashier-form"' in answer.content.decode()
    assert not Payment.objects.exists()


def test_an_order_no_longer_payable_is_refused_in_the_page(shop):
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    assert client.post(f"/orders/{order.public_id}/cancel").status_code == 302
    answer = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox"})
    assert answer.status_code == 409 and _code(answer) == "order_not_payable"


def test_an_unreachable_gateway_or_an_unknown_method_is_a_page_not_a_500(shop, settings):
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    unknown = client.post(f"/orders/{order.public_id}/pay", {"method": "paypal"})
    assert unknown.status_code == 404 and _code(unknown) == "unknown_provider"
    settings.LINLI_SANDBOX_FAIL_CALLS = ("trade_open",)
    down = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox"})
    assert down.status_code == 503 and _code(down) == "gateway_unavailable"
    assert not Payment.objects.filter(status__in=Payment.OPEN_STATES).exists()


def test_old_pay_form_without_a_method_shows_the_cashier(shop):
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    answer = client.post(f"/orders/{order.public_id}/pay")
    assert answer.status_code == 302 and answer["Location"] == f"/orders/{order.public_id}/pay"


def test_the_qr_channel_shows_a_code_to_scan(shop):
    client = web_sms_login(next_phone())
    order = _order(client, shop)
    answer = client.post(f"/orders/{order.public_id}/pay", {"method": "sandbox", "channel": "qr"})
    body = answer.content.decode()
    assert answer.status_code == 200 and 'data-testid="pay-qr"' in body and '<svg role="img"' in body
    assert Payment.objects.get().channel == "qr"


# --- the wallet ---------------------------------------------------------------------------------

def test_wallet_shows_principal_bonus_rules_and_history_after_a_top_up(django_capture_on_commit_callbacks):
    TopupBonusRule.objects.create(threshold_fen=10000, bonus_fen=1000)
    TopupBonusRule.objects.create(threshold_fen=20000, bonus_fen=3000, is_active=False)
    client = web_sms_login(next_phone())
    page = client.get("/me/wallet").content.decode()
    assert re.findall(r'data-testid="topup-rule" data-rule="([\d.]+):([\d.]+)"', page) == [("100.00", "10.00")]
    assert 'data-testid="wallet-total">¥0.00' in page
    _top_up(client, "100.00", django_capture_on_commit_callbacks)
    page = client.get("/me/wallet").content.decode()
    assert 'data-testid="wallet-total">¥110.00' in page
    assert 'data-testid="wallet-cash">¥100.00' in page and 'data-testid="wallet-bonus">¥10.00' in page
    assert re.search(r'data-kind="topup".*?data-testid="entry-amount">\+110\.00', page, re.S)
    assert 'href="/me/wallet"' in page  # the tab bar links the wallet


def test_history_pages_with_a_cursor(monkeypatch, django_capture_on_commit_callbacks):
    from linli.web import views_wallet

    monkeypatch.setattr(views_wallet, "HISTORY_PAGE", 2)
    client = web_sms_login(next_phone())
    for yuan in ("1", "2", "3"):
        _top_up(client, yuan, django_capture_on_commit_callbacks)
    first = client.get("/me/wallet").content.decode()
    amounts = re.findall(r'data-testid="entry-amount">\+([\d.]+)', first)
    assert amounts == ["3.00", "2.00"]
    more = re.search(r'href="(/me/wallet\?before=\d+)" data-testid="more"', first).group(1)
    second = client.get(more).content.decode()
    assert re.findall(r'data-testid="entry-amount">\+([\d.]+)', second) == ["1.00"]
    assert 'data-testid="more"' not in second
    assert client.get("/me/wallet?before=abc").status_code == 200  # a bad cursor is the first page


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e3", "12.345", "", "5000.01", "１００"])
def test_bad_top_up_amounts_are_shown_inline_and_nothing_is_created(amount):
    client = web_sms_login(next_phone())
    answer = client.post("/me/wallet/topup", {"custom_amount": amount, "provider": "sandbox"})
    assert answer.status_code == 422 and _code(answer) == "invalid_amount"
    assert 'data-testid="topup-error"' in answer.content.decode()
    assert not WalletTopup.objects.exists() and not Payment.objects.exists()


def test_top_up_with_an_unknown_provider_is_refused():
    client = web_sms_login(next_phone())
    answer = client.post("/me/wallet/topup", {"amount": "100", "provider": "wallet"})
    assert answer.status_code == 404 and _code(answer) == "unknown_provider"
    assert not WalletTopup.objects.exists()


def test_withdrawal_states_the_forfeited_bonus_then_withdraws_once(django_capture_on_commit_callbacks):
    TopupBonusRule.objects.create(threshold_fen=10000, bonus_fen=1000)
    client = web_sms_login(next_phone())
    _top_up(client, "100", django_capture_on_commit_callbacks)
    step = client.post("/me/wallet/withdraw", {"amount": "50"})
    body = step.content.decode()
    assert step.status_code == 200 and 'data-forfeit="500"' in body and "¥5.00" in body
    assert not WalletWithdrawal.objects.exists()  # only a question so far
    confirm = {"amount": "50.00", "step": "confirm",
               "token": re.search(r'name="token" value="([^"]+)"', body).group(1)}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/me/wallet/withdraw", confirm)
        second = client.post("/me/wallet/withdraw", confirm)  # the double submit
    assert first.status_code == 302 and first["Location"].startswith("/me/wallet?withdrawn=wdr_")
    assert second.status_code == 302 and second["Location"] == "/me/wallet"
    withdrawal = WalletWithdrawal.objects.get()
    assert (withdrawal.amount_fen, withdrawal.bonus_forfeited_fen) == (5000, 500)
    assert Refund.objects.filter(source="withdrawal").count() == 1
    balance = services.wallet_balance(_user(client))
    assert (balance.cash_fen, balance.bonus_fen) == (5000, 500)
    assert 'data-testid="notice"' in client.get(first["Location"]).content.decode()


@pytest.mark.parametrize("amount,code,status", [("0", "invalid_amount", 422), ("-1", "invalid_amount", 422),
                                                ("abc", "invalid_amount", 422),
                                                ("100.01", "insufficient_balance", 409),
                                                ("99999999", "invalid_amount", 422)])
def test_bad_withdrawals_are_shown_inline(amount, code, status, django_capture_on_commit_callbacks):
    client = web_sms_login(next_phone())
    _top_up(client, "100", django_capture_on_commit_callbacks)
    answer = client.post("/me/wallet/withdraw", {"amount": amount})
    assert answer.status_code == status and _code(answer) == code
    assert 'aria-invalid="true"' in answer.content.decode()
    forged = client.post("/me/wallet/withdraw", {"amount": amount, "step": "confirm", "token": "x" * 24})
    assert forged.status_code == status and _code(forged) == code
    assert not WalletWithdrawal.objects.exists()


def test_a_withdrawal_without_a_token_from_the_page_does_nothing(django_capture_on_commit_callbacks):
    client = web_sms_login(next_phone())
    _top_up(client, "100", django_capture_on_commit_callbacks)
    answer = client.post("/me/wallet/withdraw", {"amount": "10", "step": "confirm"})
    assert answer.status_code == 302 and not WalletWithdrawal.objects.exists()
