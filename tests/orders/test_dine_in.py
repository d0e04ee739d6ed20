"""Dine-in by table QR (扫码点餐): tables managed by owners and managers, orders placed at a
table go on its tab (一桌多单) and one payment settles the whole tab; bad tables are refused
with nothing written; a cancelled order is refunded its own share, never the whole tab."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.inventory.models import StockItem
from linli.orders.models import Order, OrderEvent, Table, TableTab
from linli.payments.models import Payment, Refund
from tests.fixtures import make_product, make_staff, make_store
from tests.orders.fulfilment_helpers import diner, gateway_pays, place, staff
from tests.web.helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(name="小杨生煎")
    product = make_product(store, name="生煎包", price_fen=1500, stock=50)
    owner = staff(store, role="owner")
    table = owner.post(f"/merchant/stores/{store.public_id}/tables", {"label": "A12"})
    assert table.status_code == 201, table.content
    return store, product, owner, table.json()


def test_owners_and_managers_manage_tables_cashiers_only_list_them(shop):
    store, _product, owner, table = shop
    assert table["id"].startswith("tbl_") and table["label"] == "A12" and table["is_active"]
    assert table["url"].endswith(f"/t/{table['id']}")
    manager = staff(store, role="manager")
    assert manager.post(f"/merchant/stores/{store.public_id}/tables", {"label": "B 3"}).status_code == 201
    taken = owner.post(f"/merchant/stores/{store.public_id}/tables", {"label": "A12"})
    assert taken.status_code == 409 and taken.json()["code"] == "table_label_taken"
    bad = owner.post(f"/merchant/stores/{store.public_id}/tables", {"label": "<b>"})
    assert bad.status_code == 422 and bad.json()["code"] == "table_label_invalid"
    cashier = staff(store, role="cashier")
    refused = cashier.post(f"/merchant/stores/{store.public_id}/tables", {"label": "C1"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert [t["label"] for t in cashier.get(f"/merchant/stores/{store.public_id}/tables").json()] == ["A12", "B 3"]
    stranger = staff(make_store(name="别家"), role="owner")
    assert stranger.get(f"/merchant/stores/{store.public_id}/tables").json()["code"] == "store_not_found"

    off = owner.client.patch(f"/api/v1/merchant/stores/{store.public_id}/tables/{table['id']}",
                             '{"is_active": false}', content_type="application/json",
                             headers=owner._headers(None))
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert Table.objects.get(public_id=table["id"]).is_active is False
    scanned = Client().get(f"/api/v1/tables/{table['id']}")
    assert scanned.status_code == 409 and scanned.json()["code"] == "table_inactive"


def test_a_scanned_table_names_its_store(shop):
    store, _product, _owner, table = shop
    answer = Client().get(f"/api/v1/tables/{table['id']}").json()
    assert answer == {"id": table["id"], "label": "A12", "store_id": store.public_id,
                      "store_name": "小杨生煎"}


def test_bad_tables_are_refused_with_nothing_written(shop):
    store, product, owner, table = shop
    other = make_store(name="隔壁面馆")
    other_table = staff(other, role="owner").post(f"/merchant/stores/{other.public_id}/tables",
                                                  {"label": "A12"}).json()
    eater = diner()
    cases = [
        ({"table_id": other_table["id"]}, 422, "table_not_in_store"),
        ({}, 422, "table_required"),
        ({"table_id": "tbl_nope"}, 404, "table_not_found"),
    ]
    for n, (extra, status, code) in enumerate(cases):
        answer = place(eater, store, product, key=f"bad-{n}", fulfilment="dine_in", **extra)
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.content
    Table.objects.filter(public_id=table["id"]).update(is_active=False)
    inactive = place(eater, store, product, key="bad-off", fulfilment="dine_in", table_id=table["id"])
    assert (inactive.status_code, inactive.json()["code"]) == (409, "table_inactive")
    pickup_with_table = place(eater, store, product, key="bad-pickup", fulfilment="pickup",
                              table_id=table["id"])
    assert pickup_with_table.status_code == 422
    assert Order.objects.count() == 0 and TableTab.objects.count() == 0
    assert StockItem.objects.get(product=product).quantity == 50


def test_two_diners_share_one_tab_and_one_payment_settles_it(shop):
    store, product, _owner, table = shop
    first, second = diner(), diner()
    a = place(first, store, product, key="a", fulfilment="dine_in", table_id=table["id"], quantity=2)
    b = place(second, store, product, key="b", fulfilment="dine_in", table_id=table["id"])
    assert a.status_code == b.status_code == 201, (a.content, b.content)
    a, b = a.json(), b.json()
    assert a["table"] == {"id": table["id"], "label": "A12"} and a["tab_id"] == b["tab_id"]
    assert a["fulfilment"] == "dine_in" and a["delivery_fee_fen"] == 0
    tab = TableTab.objects.get(public_id=a["tab_id"])
    assert tab.status == "open"
    # Unpaid orders wait on the tab until it closes, not the 15 minutes of a normal order.
    assert Order.objects.get(public_id=a["id"]).pay_deadline == tab.closes_at

    # The merchant sees them grouped by table.
    tabs = staff(store).get(f"/merchant/stores/{store.public_id}/tabs").json()
    assert [(t["table"]["label"], [o["id"] for o in t["orders"]]) for t in tabs] == [
        ("A12", [a["id"], b["id"]])]
    assert tabs[0]["unpaid_fen"] == a["total_fen"] + b["total_fen"]

    # Either diner sees the tab; a stranger does not.
    assert second.get(f"/tabs/{tab.public_id}").json()["unpaid_fen"] == a["total_fen"] + b["total_fen"]
    assert diner().get(f"/tabs/{tab.public_id}").json()["code"] == "tab_not_found"

    bill = first.post(f"/tabs/{tab.public_id}/payments", {})
    assert bill.status_code == 201, bill.content
    assert bill.json()["amount_fen"] == a["total_fen"] + b["total_fen"]
    assert second.post(f"/tabs/{tab.public_id}/payments", {}).json()["id"] == bill.json()["id"]
    # A diner ordering after the bill was asked for starts a new tab.
    c = place(diner(), store, product, key="c", fulfilment="dine_in", table_id=table["id"]).json()
    assert c["tab_id"] != tab.public_id

    assert gateway_pays(bill.json()["id"]) == "paid"
    assert {o.public_id: o.status for o in Order.objects.filter(tab=tab)} == {
        a["id"]: "paid", b["id"]: "paid"}
    tab.refresh_from_db()
    assert tab.status == "paid" and tab.paid_at is not None
    assert Payment.objects.filter(status="succeeded").count() == 1
    assert list(OrderEvent.objects.filter(order__tab=tab, action="pay").values_list(
        "actor_role", "to_status")) == [("system", "paid"), ("system", "paid")]
    assert Order.objects.get(public_id=c["id"]).status == "pending_payment"
    again = first.post(f"/tabs/{tab.public_id}/payments", {})
    assert again.status_code == 409 and again.json()["code"] == "tab_not_payable"

    # The store serves them: accept, prepare, ready, served.
    kitchen = staff(store)
    for action in ("accept", "prepare", "ready", "serve"):
        answer = kitchen.post(f"/merchant/orders/{a['id']}/{action}", {})
        assert answer.status_code == 200, answer.content
    assert Order.objects.get(public_id=a["id"]).status == "completed"
    # `serve` is for dine-in only; `collect` is for pickup only.
    pickup = place(first, store, product, key="p", fulfilment="pickup").json()
    assert kitchen.post(f"/merchant/orders/{pickup['id']}/serve", {}).json()["code"] == "illegal_transition"


def test_a_cancelled_order_is_refunded_its_share_not_the_tab(shop):
    store, product, _owner, table = shop
    first, second = diner(), diner()
    a = place(first, store, product, key="a", fulfilment="dine_in", table_id=table["id"]).json()
    b = place(second, store, product, key="b", fulfilment="dine_in", table_id=table["id"],
              quantity=3).json()
    bill = first.post(f"/tabs/{a['tab_id']}/payments", {}).json()
    # The second diner cancels while the bill is being paid: their share comes back at once.
    assert second.post(f"/orders/{b['id']}/cancel", {}).json()["status"] == "cancelled"
    assert gateway_pays(bill["id"]) == "paid"
    payment = Payment.objects.get(public_id=bill["id"])
    assert list(payment.refunds.values_list("amount_fen", flat=True)) == [b["total_fen"]]
    assert Order.objects.get(public_id=a["id"]).status == "paid"

    # The store rejects the paid order: only its share is refunded.
    answer = staff(store).post(f"/merchant/orders/{a['id']}/reject", {"note": "sold out"})
    assert answer.status_code == 200, answer.content
    assert sorted(Refund.objects.values_list("amount_fen", flat=True)) == sorted(
        [a["total_fen"], b["total_fen"]])
    assert sum(Refund.objects.values_list("amount_fen", flat=True)) == payment.amount_fen


def test_web_scan_order_at_the_table_and_pay_the_tab(shop, settings):
    store, product, _owner, table = shop
    browser = web_sms_login("+8613800138055")
    landing = browser.get(f"/t/{table['id']}")
    assert landing.status_code == 302 and landing["Location"] == f"/stores/{store.public_id}"
    page = browser.get(landing["Location"]).content.decode()
    assert 'data-testid="dine-in-banner"' in page and "A12" in page
    browser.post(f"/stores/{store.public_id}/cart", {"product_id": product.public_id, "delta": 1})
    checkout = browser.get(f"/stores/{store.public_id}/checkout").content.decode()
    assert 'value="dine_in" checked' in checkout
    placed = browser.post(f"/stores/{store.public_id}/checkout",
                          {"fulfilment": "dine_in", "idempotency_key": "web-1", "note": ""})
    assert placed.status_code == 302 and placed["Location"] == f"/t/{table['id']}/tab"
    tab_page = browser.get(placed["Location"]).content.decode()
    assert tab_page.count('data-testid="tab-order"') == 1 and "¥16.00" in tab_page
    paying = browser.post(f"/t/{table['id']}/tab/pay")
    assert paying.status_code == 302 and "/pay/sandbox/" in paying["Location"]
    payment = Payment.objects.get()
    assert gateway_pays(payment.public_id) == "paid"
    assert 'data-testid="tab-paid"' in browser.get(f"/t/{table['id']}/tab").content.decode()

    # Another store's or an inactive table is refused on the page too.
    Table.objects.filter(public_id=table["id"]).update(is_active=False)
    assert browser.get(f"/t/{table['id']}").status_code == 409
    assert browser.get("/t/tbl_missing").status_code == 404


def test_merchant_tables_page_prints_qr_codes_and_adds_tables(shop):
    store, product, _owner, table = shop
    owner_user = make_staff(store, role="owner")
    console = web_password_login(owner_user.username, "m")
    page = console.get("/m/tables").content.decode()
    assert 'data-testid="table"' in page and "A12" in page
    svg = re.search(r'<svg role="img" aria-label="([^"]+)"[^>]*class="qr"', page)
    assert svg and "A12" in svg.group(1)
    assert f"http://testserver/t/{table['id']}" in page
    added = console.post("/m/tables", {"op": "add", "label": "B7"})
    assert added.status_code == 302 and Table.objects.filter(store=store, label="B7").exists()
    dup = console.post("/m/tables", {"op": "add", "label": "B7"})
    assert dup.status_code == 409 and 'data-field="label"' in dup.content.decode()
    toggled = console.post("/m/tables", {"op": "toggle", "table_id": table["id"]})
    assert toggled.status_code == 302 and not Table.objects.get(public_id=table["id"]).is_active

    # Open tabs show on the console, grouped by table.
    Table.objects.filter(public_id=table["id"]).update(is_active=True)
    order = place(diner(), store, product, key="t1", fulfilment="dine_in", table_id=table["id"]).json()
    queue = console.get("/m/?part=queue").content.decode()
    assert 'data-testid="queue-tab"' in queue and order["id"] in queue
    cashier = web_password_login(make_staff(store, role="cashier").username, "m")
    cashier_page = cashier.get("/m/tables").content.decode()
    assert 'data-testid="add-table-form"' not in cashier_page
    assert cashier.post("/m/tables", {"op": "add", "label": "Z9"}).status_code == 403
