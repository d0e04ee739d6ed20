"""Consumer H5: login, nearby, search, store and cart, checkout, pay, order pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.orders.models import Order
from linli.payments.models import SandboxTrade
from tests.fixtures import PEOPLES_SQUARE, make_product, make_store, next_phone

from .helpers import web_sms_login

pytestmark = pytest.mark.django_db


def _add(client: Client, store, product, times: int = 1) -> None:
    for _ in range(times):
        assert client.post(f"/stores/{store.public_id}/cart",
                           {"product_id": product.public_id, "delta": 1}).status_code == 302


def _checkout_form(client: Client, store) -> dict[str, str]:
    page = client.get(f"/stores/{store.public_id}/checkout")
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.content.decode()).group(1)
    return {"idempotency_key": key, "fulfilment": "delivery", "address_text": "黄浦区人民大道 200 号",
            "lat": "31.2330", "lng": "121.4760", "contact_name": "张三", "contact_phone": "13912345678"}


def test_home_lists_nearby_stores_around_the_default_point(store):
    page = Client().get("/")
    assert page.status_code == 200
    assert store.name in page.content.decode()
    assert 'value="31.2304"' in page.content.decode()


def test_home_manual_point_is_remembered_and_bad_point_shows_the_error(store):
    client = Client()
    far = client.get("/", {"lat": "39.9042", "lng": "116.4074"})  # Beijing: nothing near
    assert store.name not in far.content.decode()
    assert store.name not in client.get("/").content.decode()  # the point stays in the session
    bad = client.get("/", {"lat": "north", "lng": "121"})
    assert 'data-code="invalid_input"' in bad.content.decode()


def test_static_css_is_served():
    answer = Client().get("/static/web/linli.css")
    assert answer.status_code == 200
    assert b"PingFang SC" in b"".join(answer.streaming_content)


def test_search_finds_the_store_by_pinyin(store):
    page = Client().get("/search", {"q": "laowang"})
    assert page.status_code == 200
    assert store.name in page.content.decode()


def test_empty_search_shows_the_error_code():
    page = Client().get("/search", {"q": "  "})
    assert 'data-code="query_empty"' in page.content.decode()


def test_store_page_shows_the_menu_by_category_and_the_cart(store, product):
    client = Client()
    page = client.get(f"/stores/{store.public_id}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "热菜" in body and product.name in body and "¥32.00" in body
    _add(client, store, product, times=2)
    body = client.get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="breakdown"' in body and "¥70.00" in body  # 2×32 + 1 packaging + 5 delivery


def test_unknown_store_is_404():
    assert Client().get("/stores/sto_nope").status_code == 404


def test_cart_ignores_products_of_other_stores(store, product):
    other = make_product(make_store(name="别家"), name="别家菜")
    client = Client()
    _add(client, store, other)
    assert client.session.get("web_carts", {}) == {}


def test_sms_login_wrong_code_shows_the_error_and_logs_nobody_in(store):
    client = Client()
    phone = next_phone()
    client.post("/login", {"phone": phone, "step": "send"})
    answer = client.post("/login", {"phone": phone, "code": "000000", "step": "login"})
    assert answer.status_code in (400, 401, 422)
    assert 'data-code="sms_code_' in answer.content.decode()
    assert "_auth_user_id" not in client.session


def test_sms_login_bad_phone_shows_invalid_phone():
    answer = Client().post("/login", {"phone": "12", "step": "send"})
    assert 'data-code="invalid_phone"' in answer.content.decode()


def test_checkout_requires_login(store):
    answer = Client().get(f"/stores/{store.public_id}/checkout")
    assert answer.status_code == 302 and answer["Location"].startswith("/login?next=")


def test_place_order_and_pay_on_the_sandbox_page(store, product, django_capture_on_commit_callbacks):
    client = web_sms_login(next_phone())
    _add(client, store, product)
    form = _checkout_form(client, store)
    answer = client.post(f"/stores/{store.public_id}/checkout", form)
    assert answer.status_code == 302
    order = Order.objects.get()
    assert order.status == "pending_payment" and order.total_fen == 3200 + 100 + 500
    assert answer["Location"] == f"/orders/{order.public_id}/pay"  # the cashier (收银台)
    pay_url = client.post(answer["Location"], {"method": "sandbox"})["Location"]
    assert pay_url.startswith("/pay/sandbox/") and f"return_to=%2Forders%2F{order.public_id}%2Fpay%2Freturn" in pay_url
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(pay_url)
    assert paid.status_code == 302 and paid["Location"] == f"/orders/{order.public_id}/pay/return"
    assert SandboxTrade.objects.get().status == "SUCCESS"
    page = client.get(client.get(paid["Location"])["Location"])
    assert 'data-status="paid"' in page.content.decode()
    assert client.session["web_carts"] == {}  # the cart of that store is emptied


def test_double_submit_of_checkout_creates_one_order(store, product):
    client = web_sms_login(next_phone())
    _add(client, store, product)
    form = _checkout_form(client, store)
    first = client.post(f"/stores/{store.public_id}/checkout", form)
    _add(client, store, product)  # the cart was emptied; a second tab still shows it
    second = client.post(f"/stores/{store.public_id}/checkout", form)
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]  # the same order, the same open payment


def test_checkout_errors_are_shown_and_nothing_is_saved(store, product):
    client = web_sms_login(next_phone())
    _add(client, store, product)
    form = _checkout_form(client, store) | {"lat": "31.40", "lng": "121.60"}  # ~20 km away
    answer = client.post(f"/stores/{store.public_id}/checkout", form)
    assert answer.status_code == 422
    assert 'data-code="address_out_of_range"' in answer.content.decode()
    bad = client.post(f"/stores/{store.public_id}/checkout", form | {"lat": "abc"})
    assert 'data-code="invalid_input"' in bad.content.decode()
    empty = web_sms_login(next_phone()).post(f"/stores/{store.public_id}/checkout", form)
    assert 'data-code="empty_cart"' in empty.content.decode()
    assert Order.objects.count() == 0


def test_pickup_order_shows_its_pickup_code_after_payment(store, product, django_capture_on_commit_callbacks):
    client = web_sms_login(next_phone())
    _add(client, store, product)
    form = _checkout_form(client, store) | {"fulfilment": "pickup"}
    cashier = client.post(f"/stores/{store.public_id}/checkout", form)["Location"]
    pay_url = client.post(cashier, {"method": "sandbox"})["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(pay_url)
    order = Order.objects.get()
    assert order.fulfilment == "pickup" and order.status == "paid"
    body = client.get(f"/orders/{order.public_id}").content.decode()
    assert order.pickup_code in body


def test_another_consumers_order_is_404(store, product):
    owner = web_sms_login(next_phone())
    _add(owner, store, product)
    owner.post(f"/stores/{store.public_id}/checkout", _checkout_form(owner, store))
    order = Order.objects.get()
    stranger = web_sms_login(next_phone())
    assert stranger.get(f"/orders/{order.public_id}").status_code == 404
    assert stranger.get(f"/events/orders/{order.public_id}").status_code == 404
    assert stranger.post(f"/orders/{order.public_id}/cancel").status_code == 404
    assert stranger.post(f"/orders/{order.public_id}/pay").status_code == 404
    assert Order.objects.get().status == "pending_payment"


def test_order_list_and_cancel(store, product):
    client = web_sms_login(next_phone())
    _add(client, store, product)
    client.post(f"/stores/{store.public_id}/checkout", _checkout_form(client, store))
    order = Order.objects.get()
    assert order.public_id in client.get("/orders").content.decode()
    assert client.post(f"/orders/{order.public_id}/cancel").status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled"
    again = client.post(f"/orders/{order.public_id}/cancel")
    assert again.status_code == 409 and 'data-code="illegal_transition"' in again.content.decode()


def test_language_switch_to_english(store):
    client = Client()
    answer = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert answer.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()
    assert '<html lang="zh-hans">' in Client().get("/").content.decode()


def test_user_created_by_web_login_is_a_plain_consumer():
    phone = next_phone()
    web_sms_login(phone)
    assert User.objects.get(phone=phone).platform_role == ""


def test_default_point_is_peoples_square():
    from linli.web.views_consumer import PEOPLES_SQUARE as DEFAULT

    assert DEFAULT == PEOPLES_SQUARE
