"""Ringing up sales at the counter: barcodes, member price, points, wallet, idempotency,
stock on the same ledger as online orders, receipts, returns."""

from __future__ import annotations

import pytest

from linli.inventory.models import StockMovement
from linli.inventory.selectors import stock_ledger_audit
from linli.payments.ledger import ledger_verify
from linli.pos.models import Sale
from linli.pos.points import points_balance, points_verify
from tests.payments.helpers import wallet
from tests.pos.helpers import Shop, member, member_code

pytestmark = pytest.mark.django_db


def test_cash_sale_by_barcode_takes_stock_through_the_ledger_and_retries_are_idempotent():
    shop = Shop(stock=10)
    first = shop.sell(quantity=3, sale_id="till1-0001")
    assert first.status_code == 201, first.content
    sale = first.json()
    assert sale["paid_fen"] == 3000 and sale["lines"][0]["barcode"] == shop.barcode and shop.stock() == 7
    again = shop.sell(quantity=3, sale_id="till1-0001")
    assert again.status_code == 200 and again.json()["id"] == sale["id"] and shop.stock() == 7
    other = shop.sell(quantity=2, sale_id="till1-0001")
    assert other.status_code == 409 and other.json()["code"] == "sale_id_reused"
    reasons = list(StockMovement.objects.filter(reference=sale["id"]).values_list("reason", flat=True))
    assert sorted(reasons) == ["order", "sale"]
    assert all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())


def test_bad_barcodes_unknown_products_and_short_stock_are_4xx_and_change_nothing():
    shop = Shop(stock=2)
    wrong_check = shop.barcode[:12] + str((int(shop.barcode[12]) + 1) % 10)
    for lines, code in (([{"barcode": wrong_check, "quantity": 1}], "invalid_barcode"),
                        ([{"barcode": "4006381333931", "quantity": 1}], "unknown_product"),
                        ([{"product_id": "prd_nope", "quantity": 1}], "unknown_product"),
                        ([{"barcode": shop.barcode, "quantity": 0}], "invalid_input"),
                        ([{"barcode": shop.barcode, "quantity": 3}], "stock_insufficient")):
        answer = shop.sell(lines=lines)
        assert answer.status_code in (404, 409, 422) and answer.json()["code"] == code, (lines, answer.content)
    bad = shop.manager.post(f"/pos/stores/{shop.store.public_id}/barcodes",
                            {"product_id": shop.product.public_id, "code": wrong_check})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_barcode"
    assert shop.stock() == 2 and Sale.objects.count() == 0
    assert shop.sell(method="cheque").json()["code"] == "invalid_input"
    assert shop.sell(method="wallet").json()["code"] == "member_required"


def test_only_the_stores_staff_sell_and_only_managers_set_up():
    shop, other = Shop(), Shop()
    assert shop.sell(api=other.cashier).status_code == 404
    denied = shop.cashier.post(f"/pos/stores/{shop.store.public_id}/counters", {"name": "x"})
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    assert shop.sell(counter=other.counter).json()["code"] == "counter_not_found"


def test_member_price_points_and_wallet_at_the_counter():
    shop = Shop(price_fen=1000, member_price_fen=800, stock=50)
    api, user = member(wallet_fen=200_00)
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    paid = shop.sell(quantity=10, method="wallet", ticket=ticket)
    assert paid.status_code == 201, paid.content
    sale = paid.json()
    assert sale["items_fen"] == 100_00 and sale["member_discount_fen"] == 20_00 and sale["paid_fen"] == 80_00
    assert sale["points_earned"] == 80 and points_balance(user) == 80
    assert sum(wallet(api)) == 120_00
    # the ticket paid for one sale; a second sale needs a new scan
    assert shop.sell(ticket=ticket).json()["code"] == "member_ticket_invalid"
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    over = shop.sell(quantity=1, ticket=ticket, points=401)  # 800 fen sale: at most 400 points
    assert over.status_code == 422 and over.json()["code"] == "points_over_cap"
    with_points = shop.sell(quantity=1, ticket=ticket, points=80, method="wallet")
    assert with_points.status_code == 201, with_points.content
    body = with_points.json()
    assert body["points_value_fen"] == 80 and body["paid_fen"] == 720 and body["points_earned"] == 7
    assert points_balance(user) == 7 and sum(wallet(api)) == 120_00 - 720
    assert not points_verify() and not ledger_verify()


def test_wallet_short_rolls_the_whole_sale_back():
    shop = Shop(stock=5)
    api, user = member(wallet_fen=5_00)
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    answer = shop.sell(quantity=1, method="wallet", ticket=ticket)
    assert answer.status_code == 409 and answer.json()["code"] == "insufficient_balance"
    assert shop.stock() == 5 and Sale.objects.count() == 0


def test_receipts_html_and_escpos_fit_their_columns():
    shop = Shop()
    sale = shop.sell(quantity=2).json()
    html = shop.cashier.client.get(f"/api/v1/pos/sales/{sale['id']}/receipt",
                                   headers=shop.cashier._headers(None))
    assert html.status_code == 200 and "矿泉水" in html.content.decode() and "20.00" in html.content.decode()
    from linli.pos.receipt import text_width

    for width in (32, 42):
        text = shop.cashier.client.get(f"/api/v1/pos/sales/{sale['id']}/receipt",
                                       {"format": "escpos", "width": width},
                                       headers=shop.cashier._headers(None)).content.decode()
        assert "矿泉水" in text and all(text_width(line) <= width for line in text.splitlines())
    bad = shop.cashier.client.get(f"/api/v1/pos/sales/{sale['id']}/receipt", {"width": 40},
                                  headers=shop.cashier._headers(None))
    assert bad.status_code == 422


def test_returns_never_exceed_what_was_bought_and_follow_the_payment():
    shop = Shop(stock=20)
    api, user = member(wallet_fen=100_00)
    ticket = shop.identify(member_code(api)).json()["member_ticket"]
    sale = shop.sell(quantity=3, method="wallet", ticket=ticket).json()
    assert points_balance(user) == 30 and shop.stock() == 17
    path = f"/pos/sales/{sale['id']}/returns"
    first = shop.cashier.post(path, {"client_return_id": "r1", "lines": [{"line": 1, "quantity": 1}]})
    assert first.status_code == 201, first.content
    assert first.json()["refund_fen"] == 1000 and first.json()["points_reversed"] == 10
    assert shop.cashier.post(path, {"client_return_id": "r1",
                                    "lines": [{"line": 1, "quantity": 1}]}).status_code == 200
    assert shop.stock() == 18 and sum(wallet(api)) == 100_00 - 2000 and points_balance(user) == 20
    too_many = shop.manager.post(path, {"client_return_id": "r2", "lines": [{"line": 1, "quantity": 3}]})
    assert too_many.status_code == 409 and too_many.json()["code"] == "return_exceeds_sale"
    bad_line = shop.manager.post(path, {"client_return_id": "r3", "lines": [{"line": 9, "quantity": 1}]})
    assert bad_line.status_code == 422 and bad_line.json()["code"] == "invalid_return"
    from tests.fixtures import make_staff, token_api

    stranger = token_api(make_staff(shop.store, role="cashier"))
    denied = stranger.post(path, {"client_return_id": "r4", "lines": [{"line": 1, "quantity": 1}]})
    assert denied.status_code == 403 and denied.json()["code"] == "return_not_allowed"
    rest = shop.manager.post(path, {"client_return_id": "r5", "lines": [{"line": 1, "quantity": 2}]})
    assert rest.status_code == 201 and rest.json()["refund_fen"] == 2000
    assert shop.stock() == 20 and sum(wallet(api)) == 100_00 and points_balance(user) == 0
    assert Sale.objects.get(public_id=sale["id"]).status == "returned"
    assert not points_verify() and not ledger_verify() and all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())
