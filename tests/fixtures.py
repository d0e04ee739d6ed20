"""Factories and API helpers shared by the tests: real services, real database."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.accounts.phone import phone_normalise
from linli.accounts.sms import OutboxSmsProvider
from linli.delivery.models import Rider
from linli.inventory.services import stock_set
from linli.merchants.hours import every_day
from linli.merchants.models import (
    MenuCategory,
    Merchant,
    MerchantMember,
    Product,
    Store,
    StoreCategory,
)
from linli.merchants.services import merchant_create, store_create

PEOPLES_SQUARE = (31.2304, 121.4737)
PASSWORD = "correct-horse-battery"
_phones = itertools.count(13800000001)


def next_phone() -> str:
    return f"+86{next(_phones)}"


class Api:
    """A JSON client for /api/v1 that carries its own bearer token."""

    def __init__(self, token: str | None = None, language: str | None = None) -> None:
        self.client = Client()
        self.token = token
        self.language = language

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.language:
            headers["Accept-Language"] = self.language
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None):
        return self.client.post(f"/api/v1{path}", json.dumps(body if body is not None else {}),
                                content_type="application/json", headers=self._headers(headers))


def sms_login(phone: str) -> tuple[Api, dict[str, Any]]:
    """Log in the way a phone user does: ask for a code, read the SMS, send it back."""
    api = Api()
    phone = phone_normalise(phone)
    assert api.post("/auth/sms-code", {"phone": phone}).status_code == 202
    text = next(t for p, t in reversed(OutboxSmsProvider.outbox) if p == phone)
    code = re.search(r"\d{6}", text).group()
    answer = api.post("/auth/login", {"phone": phone, "code": code})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    api.token = body["access_token"]
    return api, body


def token_api(user: User) -> Api:
    """An API client already holding the user's access token (no login round trip)."""
    from linli.accounts.tokens import token_pair_issue

    return Api(token=token_pair_issue(user_public_id=user.public_id,
                                      token_version=user.token_version)["access_token"])


def password_login(login: str, password: str = PASSWORD) -> Api:
    api = Api()
    answer = api.post("/auth/password-login", {"login": login, "password": password})
    assert answer.status_code == 200, answer.content
    api.token = answer.json()["access_token"]
    return api


def make_store(*, name: str = "老王家常菜", lat: float = PEOPLES_SQUARE[0], lng: float = PEOPLES_SQUARE[1],
               owner: User | None = None, merchant: Merchant | None = None,
               hours: Any = None, **fields: Any) -> Store:
    if "category" not in fields:
        fields["category"], _ = StoreCategory.objects.get_or_create(
            slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    if merchant is None:
        owner = owner or User.objects.create_user(username=f"owner-{next(_phones)}", password=PASSWORD)
        merchant = merchant_create(name=name, owner=owner)
    defaults = {"city_code": "shanghai", "address": "黄浦区南京东路 1 号", "delivery_radius_m": 3000,
                "min_order_fen": 0, "delivery_fee_fen": 500, "packaging_fee_fen": 100}
    defaults.update(fields)
    return store_create(merchant=merchant, name=name, lat=lat, lng=lng,
                        opening_hours=hours or every_day(("00:00", "24:00")), **defaults)


def make_product(store: Store, *, name: str = "宫保鸡丁", price_fen: int = 3200, stock: int = 100) -> Product:
    section, _ = MenuCategory.objects.get_or_create(store=store, name="热菜")
    product = Product.objects.create(store=store, menu_category=section, name=name, price_fen=price_fen)
    stock_set(product=product, quantity=stock)
    return product


def make_staff(store: Store, *, role: str = "staff") -> User:
    user = User.objects.create_user(username=f"staff-{next(_phones)}", password=PASSWORD, phone=next_phone())
    MerchantMember.objects.create(merchant=store.merchant, user=user, role=role)
    return user


def make_rider(*, lat: float, lng: float, online: bool = True, phone: str | None = None) -> User:
    from django.utils import timezone

    user = User.objects.create_user(username=phone or next_phone(), phone=phone or None)
    if user.phone is None:
        user.phone = user.username
        user.save(update_fields=["phone"])
    Rider.objects.create(user=user, city_code="shanghai", name=f"骑手{user.pk}", is_online=online,
                         lat=lat, lng=lng, location_at=timezone.now())
    return user


def delivery_address(lat: float = 31.2330, lng: float = 121.4760) -> dict[str, Any]:
    return {"text": "黄浦区人民大道 200 号", "lat": lat, "lng": lng,
            "contact_name": "张三", "contact_phone": "13912345678"}


@pytest.fixture
def store(db) -> Store:
    return make_store()


@pytest.fixture
def product(store) -> Product:
    return make_product(store)
