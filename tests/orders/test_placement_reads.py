"""Order placement reads the catalog fresh in one joined query (orders.services
`_catalog_read`): a price, a variant or option delta, a store fee, a stock switch changed
a moment ago is what the very next order is charged, and the answer of `POST /orders` is
the order as written (no re-read) yet identical to what `GET /orders/{id}` shows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import User
from linli.inventory.services import stock_set
from linli.merchants.models import Option, OptionGroup, ProductVariant, Store
from tests.fixtures import delivery_address, make_product, make_store, next_phone, token_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = make_store(delivery_fee_fen=500, packaging_fee_fen=100)
    noodles = make_product(store, name="牛肉面", price_fen=2200, stock=50)
    return store, noodles


@pytest.fixture
def api():
    return token_api(User.objects.create_user(username=next_phone(), phone=next_phone()))


def _order(api, store, items, key):
    return api.post("/orders", {"store_id": store.public_id, "fulfilment": "delivery",
                                "address": delivery_address(), "items": items},
                    headers={"Idempotency-Key": key})


def _item_fen(answer) -> int:
    return answer.json()["items_fen"]


def test_a_price_change_is_charged_by_the_very_next_order(shop, api):
    store, noodles = shop
    first = _order(api, store, [{"product_id": noodles.public_id, "quantity": 1}], "p1")
    assert first.status_code == 201 and _item_fen(first) == 2200
    noodles.price_fen = 2600
    noodles.save()
    second = _order(api, store, [{"product_id": noodles.public_id, "quantity": 1}], "p2")
    assert second.status_code == 201 and _item_fen(second) == 2600
    # ...and back again (no per-process copy of the old row anywhere)
    noodles.price_fen = 2200
    noodles.save(update_fields=["price_fen"])
    assert _item_fen(_order(api, store, [{"product_id": noodles.public_id, "quantity": 1}], "p3")) == 2200


def test_variant_and_option_deltas_and_store_fees_are_read_fresh(shop, api):
    store, noodles = shop
    large = ProductVariant.objects.create(product=noodles, name="大碗", price_delta_fen=300)
    group = OptionGroup.objects.create(product=noodles, name="加料", min_choices=0, max_choices=1)
    egg = Option.objects.create(group=group, name="加蛋", price_delta_fen=200)
    line = {"product_id": noodles.public_id, "quantity": 1, "variant": large.public_id,
            "options": [egg.public_id]}
    assert _item_fen(_order(api, store, [line], "v1")) == 2200 + 300 + 200
    ProductVariant.objects.filter(pk=large.pk).update(price_delta_fen=500)  # no updated_at bump
    Option.objects.filter(pk=egg.pk).update(price_delta_fen=250)
    Store.objects.filter(pk=store.pk).update(delivery_fee_fen=800)
    answer = _order(api, store, [line], "v2")
    assert _item_fen(answer) == 2200 + 500 + 250 and answer.json()["delivery_fee_fen"] == 800
    Option.objects.filter(pk=egg.pk).update(is_available=False)
    refused = _order(api, store, [line], "v3")
    assert refused.status_code == 422 and refused.json()["code"] == "option_unknown"


def test_a_product_made_to_order_since_takes_no_stock_and_back_again_does(shop, api):
    store, noodles = shop
    stock_set(product=noodles, quantity=0, unlimited=True)
    assert _order(api, store, [{"product_id": noodles.public_id, "quantity": 3}], "u1").status_code == 201
    stock_set(product=noodles, quantity=1)
    refused = _order(api, store, [{"product_id": noodles.public_id, "quantity": 2}], "u2")
    assert refused.status_code == 409 and refused.json()["code"] == "stock_insufficient"


def test_the_answer_is_the_order_as_written_and_matches_its_page(shop, api):
    store, noodles = shop
    with CaptureQueriesContext(connection) as queries:
        placed = _order(api, store, [{"product_id": noodles.public_id, "quantity": 2}], "a1")
    assert placed.status_code == 201
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "orders_order' in sql], reads  # no re-read of the order
    shown = api.get(f"/orders/{placed.json()['id']}")
    assert shown.status_code == 200
    assert placed.json() == shown.json()


@pytest.mark.parametrize("kind", ["pickup_with_choices_and_invoice", "delivery_retry"])
def test_the_answer_has_exactly_the_documented_shape(shop, api, kind):
    """POST /orders encodes its answer without validating it again: it must be what the
    schema gives for it and what GET shows (which does go through the schema)."""
    from linli.orders.api import OrderOut

    store, noodles = shop
    large = ProductVariant.objects.create(product=noodles, name="大碗", price_delta_fen=300)
    group = OptionGroup.objects.create(product=noodles, name="加料", min_choices=0, max_choices=2)
    egg = Option.objects.create(group=group, name="加蛋", price_delta_fen=200)
    if kind == "pickup_with_choices_and_invoice":
        body = {"store_id": store.public_id, "fulfilment": "pickup", "utensils": 2, "note": "少辣",
                "invoice": {"title": "上海邻里科技有限公司", "tax_no": "310101123456789",
                            "email": "a@example.com"},
                "items": [{"product_id": noodles.public_id, "quantity": 2, "variant": large.public_id,
                           "options": [egg.public_id]}]}
        placed = api.post("/orders", body, headers={"Idempotency-Key": "shape-1"})
        assert placed.status_code == 201, placed.content
    else:
        line = {"product_id": noodles.public_id, "quantity": 1, "variant": large.public_id}
        assert _order(api, store, [line], "shape-2").status_code == 201
        placed = _order(api, store, [line], "shape-2")
        assert placed.status_code == 200  # the retry answers the first order
    answer = placed.json()
    assert OrderOut.model_validate(answer).model_dump(mode="json") == answer
    assert api.get(f"/orders/{answer['id']}").json() == answer


def test_placing_through_the_api_stays_within_its_statement_budget(shop, api):
    """Who is asking, the store, its products, the writes and the stock: no statement per
    line (the store's promotions are read by the first order, then cached)."""
    store, noodles = shop
    others = [make_product(store, name=f"菜{i}", price_fen=1000 + i, stock=10) for i in range(5)]
    assert _order(api, store, [{"product_id": noodles.public_id, "quantity": 1}], "b1").status_code == 201
    with CaptureQueriesContext(connection) as two:
        items = [{"product_id": p.public_id, "quantity": 1} for p in [noodles, others[0]]]
        assert _order(api, store, items, "b2").status_code == 201
    with CaptureQueriesContext(connection) as six:
        items = [{"product_id": p.public_id, "quantity": 1} for p in [noodles, *others]]
        assert _order(api, store, items, "b6").status_code == 201
    assert len(two) == len(six), ([q["sql"][:60] for q in two.captured_queries],
                                  [q["sql"][:60] for q in six.captured_queries])
    assert len(six) <= (10 if connection.vendor == "postgresql" else 12), len(six)
