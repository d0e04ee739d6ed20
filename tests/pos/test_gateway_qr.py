"""Gateway QR at the counter: the sale waits with its units held, completes only on the
gateway's verified word (notification or query), and a closed or expired QR voids it and
gives the units back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.inventory.models import StockItem, StockMovement
from linli.inventory.selectors import stock_ledger_audit
from linli.payments.gateways.sandbox import SandboxTrade, sandbox_notification_send
from linli.payments.models import Payment, Refund
from linli.pos.models import Sale, SaleEvent
from linli.pos.points import points_balance, points_verify
from tests.payments.helpers import books_hold, buyer_pays_at_sandbox
from tests.pos.helpers import Shop, member, member_code

pytestmark = pytest.mark.django_db


def _held(shop: Shop) -> tuple[int, int]:
    item = StockItem.objects.get(product=shop.product)
    return item.quantity, item.reserved


def _reasons(sale_id: str) -> list[str]:
    return sorted(StockMovement.objects.filter(reference=sale_id).values_list("reason", flat=True))


def _qr_sale(shop: Shop, **kwargs):
    answer = shop.sell(method="gateway_qr", **kwargs)
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_qr_sale_waits_with_units_held_and_completes_on_the_notification_delivered_twice():
    shop = Shop(stock=10, price_fen=1500)
    sale = _qr_sale(shop, quantity=2, sale_id="qr-1")
    assert sale["status"] == "awaiting_payment" and sale["paid_fen"] == 3000
    assert sale["qr"]["qr_code"] and sale["payment_id"].startswith("pay_")
    assert _held(shop) == (8, 2) and _reasons(sale["id"]) == ["order"]
    # polling before the customer pays: still waiting (there is no way for the till to say "paid")
    assert shop.cashier.get(f"/pos/sales/{sale['id']}").json()["status"] == "awaiting_payment"
    # a retry of the same ring-up returns the same waiting sale and opens no second trade
    again = shop.sell(method="gateway_qr", quantity=2, sale_id="qr-1")
    assert again.status_code == 200 and again.json()["id"] == sale["id"]
    assert Payment.objects.filter(reference=sale["id"]).count() == 1
    buyer_pays_at_sandbox(sale["qr"]["qr_code"])  # the customer scans and pays; the notice follows
    done = shop.cashier.get(f"/pos/sales/{sale['id']}").json()
    assert done["status"] == "completed" and done["qr"] is None
    assert _held(shop) == (8, 0) and _reasons(sale["id"]) == ["order", "sale"]
    trade = SandboxTrade.objects.get(out_trade_no=sale["payment_id"])
    assert sandbox_notification_send(trade_no=trade.trade_no) == "duplicate"
    assert _held(shop) == (8, 0) and _reasons(sale["id"]) == ["order", "sale"]
    assert list(SaleEvent.objects.filter(sale__public_id=sale["id"]).values_list("to_status", flat=True)) == [
        "awaiting_payment", "completed"]
    assert all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())
    books_hold()


def test_a_dropped_notification_is_found_by_the_counters_poll(settings):
    settings.LINLI_SANDBOX_DROP_NOTIFICATIONS = True
    shop = Shop(stock=5)
    api, user = member()
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    sale = _qr_sale(shop, ticket=ticket, quantity=3)
    assert sale["points_earned"] == 0 and points_balance(user) == 0
    buyer_pays_at_sandbox(sale["qr"]["qr_code"])
    assert Sale.objects.get(public_id=sale["id"]).status == "awaiting_payment"  # no notice came
    done = shop.cashier.get(f"/pos/sales/{sale['id']}").json()  # verified query
    assert done["status"] == "completed" and done["points_earned"] == 30 and points_balance(user) == 30
    assert _held(shop) == (2, 0)
    assert not points_verify()
    books_hold()


def test_cancelled_qr_releases_the_units_and_gives_redeemed_points_back():
    shop = Shop(stock=5, price_fen=1000)
    api, user = member()
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    paid = shop.sell(method="cash", ticket=ticket, quantity=5)  # earn 50 points first
    assert paid.status_code == 201 and points_balance(user) == 50
    shop.manager.post(f"/pos/stores/{shop.store.public_id}/counters", {"name": "2"})
    from linli.inventory.services import stock_restock

    stock_restock(product=shop.product, quantity=4)
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    sale = _qr_sale(shop, ticket=ticket, quantity=2, points=50)
    assert sale["paid_fen"] == 2000 - 50 and points_balance(user) == 0
    assert _held(shop) == (2, 2)
    stranger = Shop()
    assert stranger.cashier.post(f"/pos/sales/{sale['id']}/cancel-qr").status_code == 404
    cancelled = shop.cashier.post(f"/pos/sales/{sale['id']}/cancel-qr")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "voided"
    assert _held(shop) == (4, 0) and _reasons(sale["id"]) == ["order", "release"]
    assert points_balance(user) == 50
    assert SandboxTrade.objects.get(out_trade_no=sale["payment_id"]).status == "CLOSED"
    event = SaleEvent.objects.filter(sale__public_id=sale["id"]).last()
    assert event.to_status == "voided" and event.actor == shop.cashier_user
    again = shop.cashier.post(f"/pos/sales/{sale['id']}/cancel-qr")
    assert again.status_code == 409 and again.json()["code"] == "sale_not_awaiting_payment"
    returned = shop.manager.post(f"/pos/sales/{sale['id']}/returns",
                                 {"client_return_id": "r1", "lines": [{"line": 1, "quantity": 1}]})
    assert returned.status_code == 409 and returned.json()["code"] == "sale_not_returnable"
    assert not points_verify()
    books_hold()


def test_an_expired_qr_is_closed_by_the_poll_and_a_payment_racing_the_close_is_refunded():
    shop = Shop(stock=3)
    sale = _qr_sale(shop, quantity=1)
    Payment.objects.filter(public_id=sale["payment_id"]).update(
        created_at=timezone.now() - timedelta(minutes=6), last_queried_at=None)
    assert shop.cashier.get(f"/pos/sales/{sale['id']}").json()["status"] == "voided"
    assert _held(shop) == (3, 0)
    # The buyer's app got through at the last instant: the gateway took the money anyway.
    trade = SandboxTrade.objects.get(out_trade_no=sale["payment_id"])
    SandboxTrade.objects.filter(pk=trade.pk).update(status="SUCCESS", paid_at=timezone.now())
    assert sandbox_notification_send(trade_no=trade.trade_no) == "refunded_late"
    assert Sale.objects.get(public_id=sale["id"]).status == "voided" and _held(shop) == (3, 0)
    assert Refund.objects.get(payment__public_id=sale["payment_id"]).amount_fen == 1000
    books_hold()


def test_return_of_a_qr_sale_refunds_along_the_gateway():
    shop = Shop(stock=5, price_fen=1000)
    sale = _qr_sale(shop, quantity=2)
    buyer_pays_at_sandbox(sale["qr"]["qr_code"])
    ret = shop.manager.post(f"/pos/sales/{sale['id']}/returns",
                            {"client_return_id": "r1", "lines": [{"line": 1, "quantity": 1}]})
    assert ret.status_code == 201, ret.content
    assert ret.json()["refund_fen"] == 1000 and ret.json()["refund_id"].startswith("rfd_")
    assert Refund.objects.get(public_id=ret.json()["refund_id"]).payment.public_id == sale["payment_id"]
    assert shop.stock() == 4
    books_hold()


def test_qr_with_a_phone_number_is_refused_and_offline_uploads_stay_cash_only():
    shop = Shop(stock=5)
    body = {"counter_id": shop.counter, "client_sale_id": "p-1", "payment_method": "gateway_qr",
            "lines": [{"barcode": shop.barcode, "quantity": 1}], "member_phone": "13800138000"}
    refused = shop.cashier.post(f"/pos/stores/{shop.store.public_id}/sales", body)
    assert refused.status_code == 422 and refused.json()["code"] == "payment_method_unavailable"
    offline = shop.offline_sale()
    offline["payment_method"] = "gateway_qr"
    result = shop.upload([offline]).json()["results"][0]
    assert result["status"] == "rejected" and result["reasons"] == ["offline_payment_not_allowed"]
    assert shop.stock() == 5 and Sale.objects.count() == 0 and Payment.objects.count() == 0
