"""Shared set-up of the bookings tests: a salon with two stylists and a 60-minute haircut."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from linli.accounts.models import User
from linli.bookings.models import BookableService, Resource
from linli.merchants.hours import every_day
from linli.merchants.models import MenuCategory, Product, Store
from tests.fixtures import PASSWORD, make_store, next_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def salon(**fields) -> Store:
    return make_store(name="阿强美发", hours=every_day(("09:00", "18:00")), **fields)


def service_product(store: Store, *, name: str = "洗剪吹", price_fen: int = 8800, minutes: int = 60) -> Product:
    section, _ = MenuCategory.objects.get_or_create(store=store, name="服务")
    return Product.objects.create(store=store, menu_category=section, name=name, price_fen=price_fen,
                                  kind=Product.Kind.SERVICE, duration_minutes=minutes)


def bookable(store: Store, *, buffer: int = 0, seats: int = 1, skill: str = "", **product) -> BookableService:
    return BookableService.objects.create(product=service_product(store, **product), store=store,
                                          buffer_minutes=buffer, seats=seats, skill=skill)


def stylist(store: Store, name: str = "Tony", **fields) -> Resource:
    return Resource.objects.create(store=store, name=name, **fields)


def consumer() -> User:
    phone = next_phone()
    return User.objects.create_user(username=phone, phone=phone, password=PASSWORD)


def owner_of(store: Store) -> User:
    return store.merchant.members.get(role="owner").user


def local_day(offset: int = 1) -> date:
    return timezone.now().astimezone(SHANGHAI).date() + timedelta(days=offset)


def at(day: date, hhmm: str) -> datetime:
    hh, mm = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hh), int(mm), tzinfo=SHANGHAI)
