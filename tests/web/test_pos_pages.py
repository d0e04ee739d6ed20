"""The counter in the merchant console (`/m/pos`), the member code page and scan-to-buy,
through Django's test client: every page, its refusals and its bad inputs."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from linli.accounts.member_codes import member_code_accept, member_code_show
from linli.accounts.models import User
from linli.merchants.models import OptionGroup, Product, ProductVariant
from linli.pos.models import Counter, Sale, SaleReturn, SyncBatch
from tests.fixtures import make_store, next_phone
from tests.payments.helpers import wallet
from tests.pos.helpers import Shop, member
from tests.web.helpers import web_password_login, web_sms_login

pytestmark = pytest.mark.django_db


def _staff(user: User) -> Client:
    return web_password_login(user.username, "m")


def _json(client: Client, url: str, body: object, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def _code(answer) -> str:
    found = re.search(rb'data-code="([a-z_]+)"', answer.content)
    return found.group(1).decode() if found else ""


def _sale(shop: Shop, client: Client, **overrides):
    body = {"store_id": shop.store.public_id, "counter_id": shop.counter, "client_sale_id": f"web-{next_phone()}",
            "lines": [{"product_id": shop.product.public_id, "quantity": 1}], "payment_method": "cash"}
    body.update(overrides)
    return _json(client, "/m/pos/sales", body)


# --- access ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/m/pos", "/m/pos/sales", "/m/pos/shelf-codes"])
def test_counter_pages_ask_staff_to_log_in_and_refuse_consumers(url):
    assert Client().get(url)["Location"].startswith("/m/login")
    consumer = web_sms_login(next_phone())
    assert consumer.get(url).status_code == 403


def test_a_manager_registers_the_counter_a_cashier_cannot():
    store = make_store(name="便利店A")
    from tests.fixtures import make_product, make_staff

    make_product(store, name="矿泉水", price_fen=200)
    manager, cashier = _staff(make_staff(store, role="manager")), _staff(make_staff(store, role="cashier"))
    page = cashier.get("/m/pos")
    assert page.status_code == 200 and b'data-testid="no-counter"' in page.content
    assert b"counter-add" not in page.content and b'data-testid="nav-pos"' in page.content
    refused = cashier.post("/m/pos/counters", {"name": "1号"})
    assert refused.status_code == 403 and _code(refused) == "permission_denied"
    empty = manager.post("/m/pos/counters", {"name": "  "})
    assert empty.status_code == 422 and _code(empty) == "invalid_input"
    assert Counter.objects.count() == 0
    assert manager.post("/m/pos/counters", {"name": "1号"})["Location"] == "/m/pos"
    page = cashier.get("/m/pos")
    assert b'data-testid="pos-product"' in page.content and "矿泉水".encode() in page.content
    assert Counter.objects.get().name == "1号"


def test_the_counter_page_carries_products_barcodes_and_member_prices():
    shop = Shop(member_price_fen=800)
    page = _staff(shop.cashier_user).get("/m/pos")
    config = json.loads(re.search(rb'<script id="pos-config" type="application/json">(.*?)</script>',
                                  page.content, re.S).group(1))
    assert config["store_id"] == shop.store.public_id and config["counters"][0]["id"] == shop.counter
    [product] = config["products"]
    assert product["barcodes"] == [shop.barcode] and product["member_price_fen"] == 800


# --- identify, ring up, upload (JSON) ------------------------------------------------------------------

def test_identify_a_member_and_ring_up_by_wallet():
    shop = Shop(stock=5, price_fen=1000)
    api, user = member(wallet_fen=5000)
    client = _staff(shop.cashier_user)
    code = member_code_show(user=user).code
    found = _json(client, "/m/pos/identify", {"store_id": shop.store.public_id, "code": code,
                                               "counter_id": shop.counter})
    assert found.status_code == 200, found.content
    assert found.json()["wallet_fen"] == 5000 and "****" in found.json()["phone"]
    used = _json(client, "/m/pos/identify", {"store_id": shop.store.public_id, "code": code})
    assert used.status_code == 409 and used.json()["code"] == "member_code_used"
    sold = _sale(shop, client, payment_method="wallet", member_ticket=found.json()["member_ticket"],
                 lines=[{"barcode": shop.barcode, "quantity": 2}])
    assert sold.status_code == 201, sold.content
    assert sold.json()["paid_fen"] == 2000 and wallet(api) == (3000, 0) and shop.stock() == 3
    receipt = client.get(sold.json()["receipt_url"])
    assert receipt.status_code == 200 and b"20.00" in receipt.content and b"@media print" in receipt.content


@pytest.mark.parametrize("code,status,expected", [
    ("123", 422, "member_code_invalid"), ("66" + "0" * 16, 422, "member_code_invalid"), (7, 422, "invalid_input")])
def test_identify_refuses_bad_codes(code, status, expected):
    shop = Shop()
    answer = _json(_staff(shop.cashier_user), "/m/pos/identify", {"store_id": shop.store.public_id, "code": code})
    assert answer.status_code == status and answer.json()["code"] == expected


def test_identify_at_another_merchants_store_is_404():
    shop, other = Shop(), Shop()
    answer = _json(_staff(other.cashier_user), "/m/pos/identify", {"store_id": shop.store.public_id, "code": "1"})
    assert answer.status_code == 404 and answer.json()["code"] == "store_not_found"


def test_ring_up_is_idempotent_per_client_sale_id():
    shop = Shop(stock=5)
    client = _staff(shop.cashier_user)
    first = _sale(shop, client, client_sale_id="uuid-1")
    again = _sale(shop, client, client_sale_id="uuid-1")
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert Sale.objects.count() == 1 and shop.stock() == 4


@pytest.mark.parametrize("overrides,status,expected", [
    ({"lines": "x"}, 422, "invalid_input"),
    ({"lines": [1]}, 422, "invalid_input"),
    ({"lines": [{"barcode": "1234567890123", "quantity": 1}]}, 422, "invalid_barcode"),
    ({"lines": [{"product_id": "prd_nope", "quantity": 1}]}, 404, "unknown_product"),
    ({"lines": [{"product_id": None, "quantity": 99}]}, 422, "invalid_input"),
    ({"points_to_redeem": "10"}, 422, "invalid_input"),
    ({"points_to_redeem": True}, 422, "invalid_input"),
    ({"payment_method": "gateway_qr", "member_phone": "13800138000"}, 422, "payment_method_unavailable"),
    ({"payment_method": "wallet"}, 422, "member_required"),
    ({"payment_method": "bitcoin"}, 422, "invalid_input"),
    ({"member_ticket": "forged"}, 422, "member_ticket_invalid"),
    ({"member_phone": "12"}, 422, "invalid_phone"),
    ({"client_sale_id": ""}, 422, "invalid_input"),
    ({"counter_id": "ctr_nope"}, 404, "counter_not_found"),
    ({"store_id": 5}, 422, "invalid_input"),
    ({"lines": [{"product_id": "PRODUCT", "quantity": 50}]}, 409, "stock_insufficient"),
])
def test_ring_up_refusals_show_their_code_and_record_nothing(overrides, status, expected):
    shop = Shop(stock=5)
    if overrides.get("lines") and isinstance(overrides["lines"], list) and isinstance(overrides["lines"][0], dict) \
            and overrides["lines"][0].get("product_id") == "PRODUCT":
        overrides = {"lines": [{"product_id": shop.product.public_id, "quantity": 50}]}
    answer = _sale(shop, _staff(shop.cashier_user), **overrides)
    assert answer.status_code == status and answer.json()["code"] == expected, answer.content
    assert Sale.objects.count() == 0 and shop.stock() == 5


def test_ring_up_with_a_body_that_is_not_json_is_422():
    shop = Shop()
    client = _staff(shop.cashier_user)
    for body in ("{not json", "[1, 2]", b"\xff\xfe"):
        answer = _json(client, "/m/pos/sales", body)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"
    assert client.get("/m/pos/identify").status_code == 405


def test_ring_up_by_phone_is_kept_pending():
    shop = Shop(stock=5)
    client = _staff(shop.cashier_user)
    phone = next_phone()
    sold = _sale(shop, client, member_phone=phone)
    assert sold.status_code == 201 and sold.json()["points_earned"] == 0
    listed = client.get("/m/pos/sales")
    assert b'data-testid="pending-phone"' in listed.content and phone[-4:].encode() in listed.content


def test_upload_the_offline_queue_retry_and_tampering():
    shop = Shop(stock=5, price_fen=1000)
    client = _staff(shop.cashier_user)
    good, bad = shop.offline_sale(sale_id="q-1", quantity=2), shop.offline_sale(sale_id="q-2", total_fen=1)
    first = _json(client, "/m/pos/sync", {"counter_id": shop.counter, "sales": [good, bad]})
    assert first.status_code == 200, first.content
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "rejected"]
    again = _json(client, "/m/pos/sync", {"counter_id": shop.counter, "sales": [good]})
    assert again.json()["results"][0]["status"] == "duplicate" and shop.stock() == 3
    for body, status, code in (({"counter_id": shop.counter, "sales": "x"}, 422, "invalid_input"),
                               ({"counter_id": shop.counter, "sales": []}, 422, "invalid_input"),
                               ({"counter_id": "ctr_nope", "sales": [good]}, 404, "counter_not_found")):
        answer = _json(client, "/m/pos/sync", body)
        assert answer.status_code == status and answer.json()["code"] == code
    other = Shop()
    assert _json(_staff(other.cashier_user), "/m/pos/sync",
                 {"counter_id": shop.counter, "sales": [good]}).status_code == 404
    assert SyncBatch.objects.count() == 2


# --- today's sales and returns -------------------------------------------------------------------

def test_returns_from_todays_sales_follow_the_role_rules():
    shop = Shop(stock=10, price_fen=1000)
    cashier, manager = _staff(shop.cashier_user), _staff(shop.manager_user)
    own = _sale(shop, cashier, lines=[{"product_id": shop.product.public_id, "quantity": 3}]).json()["id"]
    managers = _sale(shop, manager).json()["id"]
    page = cashier.get("/m/pos/sales")
    assert page.status_code == 200 and page.content.count(b'data-testid="return-form"') == 1
    form_id = re.search(rb'name="client_return_id" value="([^"]+)"', page.content).group(1).decode()
    done = cashier.post(f"/m/pos/sales/{own}/return", {"client_return_id": form_id, "qty-1": "1", "reason": "坏了"})
    assert done.status_code == 302 and shop.stock() == 7
    twice = cashier.post(f"/m/pos/sales/{own}/return", {"client_return_id": form_id, "qty-1": "1"})
    assert twice.status_code == 302 and SaleReturn.objects.count() == 1 and shop.stock() == 7  # double submit
    for data, status, code in (({"qty-1": "5"}, 409, "return_exceeds_sale"),
                               ({"qty-1": "abc"}, 422, "invalid_return"),
                               ({"qty-1": "-1"}, 422, "invalid_return"),
                               ({"qty-9": "1"}, 422, "invalid_return"),
                               ({}, 422, "invalid_return"),
                               ({"qty-1": "1", "client_return_id": ""}, 422, "invalid_input")):
        answer = cashier.post(f"/m/pos/sales/{own}/return", {"client_return_id": f"r-{code}-{status}", **data})
        assert answer.status_code == status and _code(answer) == code, (data, answer.status_code)
    refused = cashier.post(f"/m/pos/sales/{managers}/return", {"client_return_id": "x", "qty-1": "1"})
    assert refused.status_code == 403 and _code(refused) == "return_not_allowed"
    assert manager.get("/m/pos/sales").content.count(b'data-testid="return-form"') == 2
    stranger = _staff(Shop().cashier_user)
    assert stranger.post(f"/m/pos/sales/{own}/return", {"client_return_id": "y", "qty-1": "1"}).status_code == 404
    assert stranger.get(f"/m/pos/sales/{own}/receipt").status_code == 404
    assert SaleReturn.objects.count() == 1 and shop.stock() == 7


# --- shelf QR codes and scan-to-buy ----------------------------------------------------------------

def test_shelf_codes_print_one_qr_per_product():
    shop = Shop()
    client = _staff(shop.cashier_user)
    page = client.get("/m/pos/shelf-codes")
    url = f"/s/{shop.store.public_id}/p/{shop.product.public_id}"
    assert page.status_code == 200 and b"<svg" in page.content and url.encode() in page.content
    one = client.get(f"/m/pos/shelf-codes?product={shop.product.public_id}")
    assert one.content.count(b'data-testid="shelf-code"') == 1
    missing = client.get("/m/pos/shelf-codes?product=prd_nope")
    assert missing.status_code == 404 and _code(missing) == "unknown_product"


def test_scan_to_buy_opens_the_product_and_buys_it_now_for_pickup():
    shop = Shop(price_fen=1200)
    url = f"/s/{shop.store.public_id}/p/{shop.product.public_id}"
    page = Client().get(url)
    assert page.status_code == 200 and "矿泉水".encode() in page.content and b'data-testid="buy-pickup"' in page.content
    consumer = web_sms_login(next_phone())
    bought = consumer.post(url, {"fulfilment": "pickup"})
    assert bought["Location"] == f"/stores/{shop.store.public_id}/checkout?fulfilment=pickup"
    cart = consumer.session["web_carts"][shop.store.public_id]
    assert [line["q"] for line in cart.values()] == [1]
    checkout = consumer.get(bought["Location"])
    assert re.search(rb'value="pickup" checked', checkout.content)
    assert b"12.00" in checkout.content


def test_scan_to_buy_refusals():
    shop, other = Shop(), Shop()
    assert Client().get(f"/s/{shop.store.public_id}/p/{other.product.public_id}").status_code == 404
    assert Client().get(f"/s/{shop.store.public_id}/p/prd_nope").status_code == 404
    assert Client().get(f"/s/sto_nope/p/{shop.product.public_id}").status_code == 404
    Product.objects.filter(pk=shop.product.pk).update(is_available=False)
    assert Client().get(f"/s/{shop.store.public_id}/p/{shop.product.public_id}").status_code == 404
    Product.objects.filter(pk=shop.product.pk).update(is_available=True)
    url = f"/s/{shop.store.public_id}/p/{shop.product.public_id}"
    bad = Client().post(url, {"fulfilment": "teleport"})
    assert bad.status_code == 422 and _code(bad) == "invalid_input"
    Product.objects.filter(pk=shop.product.pk).update(is_sold_out=True)
    sold_out = Client().post(url, {"fulfilment": "pickup"})
    assert sold_out.status_code == 422 and _code(sold_out) == "invalid_input"


def test_scan_to_buy_uses_the_picker_for_sizes():
    shop = Shop()
    small = ProductVariant.objects.create(product=shop.product, name="小瓶", price_delta_fen=0)
    ProductVariant.objects.create(product=shop.product, name="大瓶", price_delta_fen=300)
    OptionGroup.objects.create(product=shop.product, name="温度", min_choices=0, max_choices=1)
    url = f"/s/{shop.store.public_id}/p/{shop.product.public_id}"
    page = Client().get(url)
    assert b'data-testid="picker"' in page.content and f'action="{url}"'.encode() in page.content
    missing = Client().post(url, {"fulfilment": "delivery"})
    assert missing.status_code == 422 and _code(missing) == "variant_required"
    assert b"data-open-now" in missing.content
    client = Client()
    assert client.post(url, {"fulfilment": "delivery", "variant": small.public_id}).status_code == 302
    [line] = client.session["web_carts"][shop.store.public_id].values()
    assert line["v"] == small.public_id


# --- the member code ---------------------------------------------------------------------------------

def test_member_code_page_shows_the_qr_and_digits_and_refreshes_after_use():
    assert Client().get("/me/member-code")["Location"].startswith("/login")
    phone = next_phone()
    client = web_sms_login(phone)
    page = client.get("/me/member-code")
    assert page.status_code == 200 and b"<svg" in page.content and b'data-testid="tab-member-code"' in page.content
    code = re.search(rb'data-member-code="(\d{18})"', page.content).group(1).decode()
    digits = re.search(rb'data-testid="member-digits"[^>]*>([\d ]+)<', page.content).group(1).decode()
    assert digits.replace(" ", "") == code
    same = client.get(f"/me/member-code?part=code&shown={code}")
    assert same.status_code in (200, 204)  # 200 only if a 30-second step ended in between
    member_code_accept(code=code, context="test-counter")
    after = client.get(f"/me/member-code?part=code&shown={code}")
    assert after.status_code == 200
    fresh = re.search(rb'data-member-code="(\d{18})"', after.content).group(1).decode()
    assert fresh != code and b"<html" not in after.content
    assert client.get("/me/member-code?part=code&shown=junk").status_code == 200
