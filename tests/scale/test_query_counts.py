"""No N+1 in the hot endpoints (issue 15): each is called with one object and with ten, and
the number of SQL statements must not grow with the number of objects shown.

Each endpoint is called once before counting (warm-up): the first call after a change may
refresh a process-wide index (nearby, search), a cost per change and not per object shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import User
from linli.delivery.models import DeliveryTask, Rider
from linli.merchants.menu_cache import menu_changed
from linli.merchants.models import Option, OptionGroup, ProductVariant
from linli.orders.models import Order
from linli.orders.services import (
    AddressInput,
    LineInput,
    order_act,
    order_place,
    order_transition_as,
)
from tests.fixtures import (
    PEOPLES_SQUARE,
    Api,
    delivery_address,
    make_product,
    make_rider,
    make_staff,
    make_store,
    next_phone,
    token_api,
)

pytestmark = pytest.mark.django_db

MANY = 10


def _statements(call: Callable[[], Any]) -> tuple[int, list[str]]:
    answer = call()  # warm-up
    assert answer.status_code == 200, answer.content
    with CaptureQueriesContext(connection) as queries:
        answer = call()
    assert answer.status_code == 200, answer.content
    return len(queries), [q["sql"][:160] for q in queries.captured_queries]


def _assert_flat(one: tuple[int, list[str]], many: tuple[int, list[str]], shown_one: int, shown_many: int,
                 what: str) -> None:
    print(f"{what}: {one[0]} statements for 1, {many[0]} for {MANY}")
    assert (shown_one, shown_many) == (1, MANY), f"{what}: the scenario shows {shown_one} and {shown_many}"
    assert many[0] <= one[0], f"{what}: {one[0]} statements for 1, {many[0]} for {MANY}\n" + "\n".join(many[1])


def _product_with_choices(store, name: str):
    product = make_product(store, name=name, price_fen=1500)
    ProductVariant.objects.create(product=product, name="大份", price_delta_fen=300)
    group = OptionGroup.objects.create(product=product, name="加料", min_choices=0, max_choices=2)
    Option.objects.create(group=group, name="加蛋", price_delta_fen=200)
    return product


def _place(store, product, consumer: User, key: str, fulfilment: str = "pickup") -> Order:
    address = AddressInput(**delivery_address()) if fulfilment == "delivery" else None
    variant = next((v.public_id for v in product.variants.all()), None)
    options = [o.public_id for o in Option.objects.filter(group__product=product)]
    order = order_place(consumer=consumer, store_id=store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1, variant=variant,
                                         options=options)],
                        fulfilment=fulfilment, address=address, idempotency_key=key).order
    with transaction.atomic():
        order_transition_as(order=order, action="pay", actor=None, role="system")
    return order


def test_nearby_does_not_query_per_store():
    lat, lng = PEOPLES_SQUARE

    def call():
        return Api().get("/stores/nearby", {"lat": lat, "lng": lng, "radius_m": 3000})

    make_store(name="店0")
    one = _statements(call)
    shown_one = len(call().json()["items"])
    for i in range(1, MANY):
        make_store(name=f"店{i}", lat=lat + i * 0.0005, lng=lng)
    many = _statements(call)
    _assert_flat(one, many, shown_one, len(call().json()["items"]), "nearby")


def test_the_store_page_does_not_query_per_photo():
    from django.utils import timezone

    from linli.merchants.models import Store, StorePhoto

    store = make_store()

    def add_photo(i: int) -> None:
        StorePhoto.objects.create(store=store, image=f"stores/scale-{i}.jpg", sort=i)  # no file needed

    def call():  # the page is cached per store version (discovery.selectors.store_page_json): count a build
        Store.objects.filter(pk=store.pk).update(updated_at=timezone.now())  # what a store write does
        return Api().get(f"/stores/{store.public_id}")

    add_photo(0)
    one = _statements(call)
    shown_one = len(call().json()["photos"])
    for i in range(1, MANY):
        add_photo(i)
    many = _statements(call)
    _assert_flat(one, many, shown_one, len(call().json()["photos"]), "store page")


def test_the_menu_does_not_query_per_product():
    store = make_store()

    def call():  # the menu's shape is cached (merchants.menu_cache): count a build
        menu_changed(store.pk)
        return Api().get(f"/stores/{store.public_id}/menu")

    def shown() -> int:
        return sum(len(s["products"]) for s in call().json()["sections"])

    _product_with_choices(store, "菜0")
    one = _statements(call)
    shown_one = shown()
    for i in range(1, MANY):
        _product_with_choices(store, f"菜{i}")
    many = _statements(call)
    _assert_flat(one, many, shown_one, shown(), "menu")


def test_search_does_not_query_per_result():
    lat, lng = PEOPLES_SQUARE

    def call():
        return Api().get("/search", {"q": "牛肉面", "lat": lat, "lng": lng})

    def add(i: int) -> None:
        store = make_store(name=f"兰州牛肉面{i}号店", lat=lat + i * 0.0005, lng=lng)
        make_product(store, name="牛肉面")

    add(0)
    one = _statements(call)
    shown_one = len(call().json()["items"])
    for i in range(1, MANY):
        add(i)
    many = _statements(call)
    _assert_flat(one, many, shown_one, len(call().json()["items"]), "search")


def test_my_orders_do_not_query_per_order():
    store = make_store()
    product = _product_with_choices(store, "宫保鸡丁")
    consumer = User.objects.create_user(username=next_phone())
    api = token_api(consumer)

    def call():
        return api.get("/orders")

    _place(store, product, consumer, "n1-0")
    one = _statements(call)
    shown_one = len(call().json()["items"])
    for i in range(1, MANY):
        _place(store, product, consumer, f"n1-{i}")
    many = _statements(call)
    _assert_flat(one, many, shown_one, len(call().json()["items"]), "order list")


def test_the_merchant_queue_does_not_query_per_order():
    store = make_store()
    product = _product_with_choices(store, "宫保鸡丁")
    api = token_api(make_staff(store, role="manager"))

    def call():
        return api.get("/merchant/orders")

    def add(i: int) -> None:
        _place(store, product, User.objects.create_user(username=next_phone()), f"q-{i}")

    add(0)
    one = _statements(call)
    shown_one = len(call().json())
    for i in range(1, MANY):
        add(i)
    many = _statements(call)
    _assert_flat(one, many, shown_one, len(call().json()), "merchant queue")


def test_the_rider_task_list_does_not_query_per_task():
    store = make_store()
    product = make_product(store, stock=100)
    staff = make_staff(store, role="manager")
    rider_user = make_rider(lat=PEOPLES_SQUARE[0], lng=PEOPLES_SQUARE[1])
    rider = Rider.objects.get(user=rider_user)
    api = token_api(rider_user)

    def add(i: int) -> None:
        order = _place(store, product, User.objects.create_user(username=next_phone()), f"r-{i}",
                       fulfilment="delivery")
        order_act(order_id=order.public_id, actor=staff, action="accept")
        # however many the dispatcher would give one rider at once: all of them are this rider's
        DeliveryTask.objects.filter(order=order).update(rider=rider, status="assigned")

    def call():
        return api.get("/rider/tasks")

    add(0)
    one = _statements(call)
    shown_one = len(call().json())
    for i in range(1, MANY):
        add(i)
    many = _statements(call)
    _assert_flat(one, many, shown_one, len(call().json()), "rider task list")
