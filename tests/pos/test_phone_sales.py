"""Sales by phone number and the profile merge: a counter sale kept against a phone
before its owner registered is attached, with its points, at their first verified SMS
login; returns before and after the merge keep the points right."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from linli.accounts.models import User
from linli.accounts.services import sms_cooldown_key
from linli.pos.models import PhoneSale, Sale
from linli.pos.points import points_balance, points_verify
from tests.fixtures import next_phone
from tests.pos.helpers import Shop
from tests.web.helpers import web_sms_login

pytestmark = pytest.mark.django_db


def _phone_sale(shop: Shop, phone: str, *, quantity: int = 1, sale_id: str | None = None, method: str = "cash"):
    body = {"counter_id": shop.counter, "client_sale_id": sale_id or f"ph-{next_phone()}",
            "lines": [{"barcode": shop.barcode, "quantity": quantity}], "payment_method": method,
            "member_phone": phone}
    return shop.cashier.post(f"/pos/stores/{shop.store.public_id}/sales", body)


def _login(phone: str, capture) -> User:
    cache.delete(sms_cooldown_key(phone))  # a second login within the minute's cooldown
    with capture(execute=True):
        web_sms_login(phone)
    return User.objects.get(phone=phone)


def test_a_sale_by_phone_is_pending_then_attached_with_its_points_at_the_first_sms_login(
        django_capture_on_commit_callbacks):
    shop = Shop(stock=10, price_fen=1000)
    phone = next_phone()
    first = _phone_sale(shop, phone[3:], quantity=2, sale_id="ph-1")  # typed without +86
    assert first.status_code == 201, first.content
    assert first.json()["member_id"] is None and first.json()["points_earned"] == 0
    again = _phone_sale(shop, phone[3:], quantity=2, sale_id="ph-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    claim = PhoneSale.objects.get()
    assert claim.phone == phone and claim.attached_at is None and not User.objects.filter(phone=phone).exists()

    user = _login(phone, django_capture_on_commit_callbacks)
    claim.refresh_from_db()
    sale = Sale.objects.get(public_id=first.json()["id"])
    assert sale.member == user and sale.points_earned == 20 and claim.attached_to == user
    assert claim.points_earned == 20 and claim.attached_at is not None
    assert points_balance(user) == 20
    _login(phone, django_capture_on_commit_callbacks)  # a second login changes nothing
    assert points_balance(user) == 20 and PhoneSale.objects.filter(attached_at__isnull=True).count() == 0
    assert points_verify() == []


def test_returns_before_and_after_the_merge_keep_points_in_proportion(django_capture_on_commit_callbacks):
    shop = Shop(stock=10, price_fen=1000)
    phone = next_phone()
    sale_id = _phone_sale(shop, phone, quantity=3).json()["id"]
    back = shop.manager.post(f"/pos/sales/{sale_id}/returns",
                             {"client_return_id": "r1", "lines": [{"line": 1, "quantity": 1}]})
    assert back.status_code == 201 and back.json()["points_reversed"] == 0
    user = _login(phone, django_capture_on_commit_callbacks)
    assert points_balance(user) == 20  # earned on ¥30, ¥10 of it returned before
    later = shop.manager.post(f"/pos/sales/{sale_id}/returns",
                              {"client_return_id": "r2", "lines": [{"line": 1, "quantity": 1}]})
    assert later.status_code == 201 and later.json()["points_reversed"] == 10
    assert points_balance(user) == 10 and points_verify() == []


def test_a_registered_phone_is_attached_only_when_its_owner_proves_it(django_capture_on_commit_callbacks):
    shop = Shop(stock=10, price_fen=1000)
    phone = next_phone()
    owner = User.objects.create_user(username=phone, phone=phone)
    sale_id = _phone_sale(shop, phone).json()["id"]
    assert Sale.objects.get(public_id=sale_id).member is None and points_balance(owner) == 0
    _login(phone, django_capture_on_commit_callbacks)
    assert Sale.objects.get(public_id=sale_id).member == owner and points_balance(owner) == 10


def test_bad_phone_sales_are_refused_and_record_nothing():
    shop = Shop(stock=10)
    for phone, method, code in (("12345", "cash", "invalid_phone"), ("abc", "cash", "invalid_phone"),
                                (next_phone(), "wallet", "member_required")):
        answer = _phone_sale(shop, phone, method=method)
        assert answer.status_code == 422 and answer.json()["code"] == code, answer.content
    both = shop.cashier.post(f"/pos/stores/{shop.store.public_id}/sales", {
        "counter_id": shop.counter, "client_sale_id": "both", "payment_method": "cash",
        "lines": [{"barcode": shop.barcode, "quantity": 1}], "member_phone": next_phone(), "member_ticket": "x"})
    assert both.status_code == 422 and both.json()["details"]["field"] == "member_phone"
    assert Sale.objects.count() == 0 and PhoneSale.objects.count() == 0 and shop.stock() == 10
