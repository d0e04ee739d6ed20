"""Variants (规格) and option groups (加料) on order lines: checked against the product
through the API with a precise error each, priced base + variant delta + option deltas,
and kept on the order item as a snapshot that receipts and the merchant queue show."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.accounts.models import User
from linli.inventory.models import StockItem
from linli.merchants.models import Option, OptionGroup, ProductVariant
from linli.orders.models import Order, OrderItem
from linli.orders.pricing import CartLine, Choice, FeeRules, price_cart
from linli.orders.services import LineInput, order_place, order_transition_as
from tests.fixtures import delivery_address, make_product, make_staff, next_phone, token_api
from tests.web.helpers import web_password_login

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: no night surcharge


@pytest.fixture
def tea(store):
    """奶茶 ¥15: 小杯 −2 / 中杯 / 大杯 +3; 甜度 exactly one; 加料 up to two (珍珠 +1, 椰果 +1.5, 布丁 +2)."""
    product = make_product(store, name="招牌奶茶", price_fen=1500, stock=50)
    small = ProductVariant.objects.create(product=product, name="小杯", price_delta_fen=-200, sort=0)
    medium = ProductVariant.objects.create(product=product, name="中杯", price_delta_fen=0, sort=1)
    large = ProductVariant.objects.create(product=product, name="大杯", price_delta_fen=300, sort=2)
    sweet = OptionGroup.objects.create(product=product, name="甜度", min_choices=1, max_choices=1, sort=0)
    full = Option.objects.create(group=sweet, name="全糖", sort=0)
    half = Option.objects.create(group=sweet, name="半糖", sort=1)
    toppings = OptionGroup.objects.create(product=product, name="加料", min_choices=0, max_choices=2, sort=1)
    pearl = Option.objects.create(group=toppings, name="珍珠", price_delta_fen=100, sort=0)
    coconut = Option.objects.create(group=toppings, name="椰果", price_delta_fen=150, sort=1)
    pudding = Option.objects.create(group=toppings, name="布丁", price_delta_fen=200, sort=2)
    product.v = {"small": small, "medium": medium, "large": large}
    product.o = {"full": full, "half": half, "pearl": pearl, "coconut": coconut, "pudding": pudding}
    return product


@pytest.fixture
def buyer():
    return User.objects.create_user(username=next_phone(), phone=next_phone())


def _post(buyer, store, items, *, key="k1", fulfilment="delivery"):
    body = {"store_id": store.public_id, "items": items, "fulfilment": fulfilment}
    if fulfilment == "delivery":
        body["address"] = delivery_address()
    return token_api(buyer).post("/orders", body, headers={"Idempotency-Key": key})


def _line(product, *, variant=None, options=(), quantity=1):
    line = {"product_id": product.public_id, "quantity": quantity}
    if variant is not None:
        line["variant"] = variant
    if options:
        line["options"] = list(options)
    return line


def test_price_is_base_plus_variant_plus_options_and_the_item_keeps_a_snapshot(store, tea, buyer):
    answer = _post(buyer, store, [_line(tea, variant=tea.v["large"].public_id, quantity=2,
                                        options=[tea.o["half"].public_id, tea.o["pearl"].public_id,
                                                 tea.o["pudding"].public_id])])
    assert answer.status_code == 201, answer.content
    body = answer.json()
    unit = 1500 + 300 + 0 + 100 + 200
    assert body["items_fen"] == unit * 2
    assert body["total_fen"] == unit * 2 + 100 + 500  # packaging + delivery
    item = body["items"][0]
    assert item["unit_price_fen"] == unit and item["amount_fen"] == unit * 2
    assert item["variant"] == {"id": tea.v["large"].public_id, "name": "大杯", "delta_fen": 300, "group": ""}
    assert [(o["name"], o["group"], o["delta_fen"]) for o in item["options"]] == [
        ("半糖", "甜度", 0), ("珍珠", "加料", 100), ("布丁", "加料", 200)]

    row = OrderItem.objects.get(order__public_id=body["id"])
    assert row.unit_price_fen == unit and row.amount_fen == unit * 2
    assert row.variant["name"] == "大杯" and row.variant["delta_fen"] == 300
    assert [o["name"] for o in row.options] == ["半糖", "珍珠", "布丁"]
    assert row.choices_label == "大杯 / 半糖, 珍珠, 布丁"

    # The snapshot outlives a menu change: rename and reprice, the order still says what was bought.
    ProductVariant.objects.filter(pk=tea.v["large"].pk).update(name="特大杯", price_delta_fen=900)
    again = token_api(buyer).get(f"/orders/{body['id']}").json()
    assert again["items"][0]["variant"]["name"] == "大杯" and again["total_fen"] == body["total_fen"]


def test_a_negative_variant_delta_lowers_the_price(store, tea, buyer):
    answer = _post(buyer, store, [_line(tea, variant=tea.v["small"].public_id,
                                        options=[tea.o["full"].public_id])], fulfilment="pickup")
    assert answer.status_code == 201, answer.content
    assert answer.json()["items_fen"] == 1300


@pytest.mark.parametrize(("case", "code", "group"), [
    ("no_variant", "variant_required", None),
    ("garbage_variant", "variant_unknown", None),
    ("other_products_variant", "variant_unknown", None),
    ("unavailable_variant", "variant_unknown", None),
    ("garbage_option", "option_unknown", None),
    ("other_products_option", "option_unknown", None),
    ("required_group_empty", "option_choice_count", "甜度"),
    ("too_many_in_required_group", "option_choice_count", "甜度"),
    ("too_many_toppings", "option_choice_count", "加料"),
    ("duplicate_option", "option_duplicate", None),
])
def test_each_wrong_choice_is_refused_with_its_own_code(store, tea, buyer, case, code, group):
    other = make_product(store, name="柠檬茶", price_fen=1200)
    other_variant = ProductVariant.objects.create(product=other, name="大杯", price_delta_fen=200)
    other_group = OptionGroup.objects.create(product=other, name="冰量", min_choices=0, max_choices=1)
    other_option = Option.objects.create(group=other_group, name="少冰")
    large, half = tea.v["large"].public_id, tea.o["half"].public_id
    lines = {
        "no_variant": _line(tea, options=[half]),
        "garbage_variant": _line(tea, variant="var_nope", options=[half]),
        "other_products_variant": _line(tea, variant=other_variant.public_id, options=[half]),
        "unavailable_variant": _line(tea, variant=tea.v["medium"].public_id, options=[half]),
        "garbage_option": _line(tea, variant=large, options=[half, "opt_nope"]),
        "other_products_option": _line(tea, variant=large, options=[half, other_option.public_id]),
        "required_group_empty": _line(tea, variant=large, options=[tea.o["pearl"].public_id]),
        "too_many_in_required_group": _line(tea, variant=large,
                                            options=[half, tea.o["full"].public_id]),
        "too_many_toppings": _line(tea, variant=large, options=[
            half, tea.o["pearl"].public_id, tea.o["coconut"].public_id, tea.o["pudding"].public_id]),
        "duplicate_option": _line(tea, variant=large, options=[half, half]),
    }
    if case == "unavailable_variant":
        ProductVariant.objects.filter(pk=tea.v["medium"].pk).update(is_available=False)
    answer = _post(buyer, store, [lines[case]])
    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert body["code"] == code
    assert body["details"]["product_id"] == tea.public_id
    if group:
        assert body["details"]["group"] == group
        assert {"min_choices", "max_choices", "chosen"} <= body["details"].keys()
    assert not Order.objects.filter(consumer=buyer).exists()
    assert StockItem.objects.get(product=tea).quantity == 50  # nothing was taken


def test_a_variant_on_a_product_without_variants_is_unknown(store, product, buyer):
    answer = _post(buyer, store, [_line(product, variant="var_whatever")])
    assert answer.status_code == 422 and answer.json()["code"] == "variant_unknown"


def test_old_requests_without_choices_still_work_for_plain_products(store, product, buyer):
    body = {"store_id": store.public_id, "fulfilment": "pickup",
            "items": [{"product_id": product.public_id, "quantity": 2}]}
    answer = token_api(buyer).post("/orders", body, headers={"Idempotency-Key": "old"})
    assert answer.status_code == 201, answer.content
    assert answer.json()["items"][0]["variant"] is None and answer.json()["items"][0]["options"] == []
    replay = token_api(buyer).post("/orders", body, headers={"Idempotency-Key": "old"})
    assert replay.status_code == 200 and replay.json()["id"] == answer.json()["id"]


def test_two_sizes_of_one_product_are_two_lines_and_one_stock_take(store, tea, buyer):
    half = tea.o["half"].public_id
    answer = _post(buyer, store, [
        _line(tea, variant=tea.v["large"].public_id, options=[half], quantity=2),
        _line(tea, variant=tea.v["small"].public_id, options=[half], quantity=1),
        _line(tea, variant=tea.v["large"].public_id, options=[half], quantity=1),  # merges with the first
    ])
    assert answer.status_code == 201, answer.content
    items = sorted((i["variant"]["name"], i["quantity"]) for i in answer.json()["items"])
    assert items == [("大杯", 3), ("小杯", 1)]
    assert StockItem.objects.get(product=tea).quantity == 50 - 4
    order = Order.objects.get(public_id=answer.json()["id"])
    assert order.items_fen == 3 * 1800 + 1300


def test_a_changed_choice_under_the_same_key_is_a_conflict(store, tea, buyer):
    half, full = tea.o["half"].public_id, tea.o["full"].public_id
    first = _post(buyer, store, [_line(tea, variant=tea.v["large"].public_id, options=[half])], key="same")
    assert first.status_code == 201
    second = _post(buyer, store, [_line(tea, variant=tea.v["large"].public_id, options=[full])], key="same")
    assert second.status_code == 409 and second.json()["code"] == "idempotency_key_reused"


def test_the_merchant_queue_and_the_receipt_show_the_choices(store, tea, buyer):
    order = order_place(
        consumer=buyer, store_id=store.public_id, fulfilment="pickup", address=None,
        lines=[LineInput(product_id=tea.public_id, quantity=1, variant=tea.v["large"].public_id,
                         options=(tea.o["pearl"].public_id, tea.o["half"].public_id))],
        idempotency_key="queue").order
    order_transition_as(order=order, action="pay", actor=None, role="system")
    staff = make_staff(store)
    console = web_password_login(staff.username, "m").get("/m/").content.decode()
    assert "招牌奶茶 (大杯 / 半糖, 珍珠) ×1" in console
    merchant_api = token_api(staff).get("/merchant/orders").json()
    assert merchant_api[0]["items"][0]["variant"]["name"] == "大杯"


# --- the pure price: a property over random carts -------------------------------------

_choice = st.builds(Choice, ref=st.just("opt"), name=st.just("x"),
                    delta_fen=st.integers(min_value=0, max_value=5000))


@st.composite
def _lines(draw):
    base = draw(st.integers(min_value=0, max_value=100_000))
    variant_delta = draw(st.integers(min_value=-base, max_value=50_000))
    variant = draw(st.one_of(st.none(), st.just(Choice("var", "v", variant_delta))))
    options = tuple(draw(st.lists(_choice, max_size=6)))
    quantity = draw(st.integers(min_value=1, max_value=999))
    return CartLine(product_ref="p", name="n", unit_price_fen=base, quantity=quantity,
                    variant=variant, options=options)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_lines(), min_size=1, max_size=8),
       packaging=st.integers(min_value=0, max_value=1000),
       delivery_fee=st.integers(min_value=0, max_value=3000), delivery=st.booleans())
def test_total_is_the_sum_of_lines_and_never_negative(lines, packaging, delivery_fee, delivery):
    breakdown = price_cart(lines, FeeRules(packaging_fee_fen=packaging, delivery_fee_fen=delivery_fee),
                           delivery=delivery, at=NOON)
    assert breakdown.total_fen == sum(line.amount_fen for line in breakdown.lines)
    assert breakdown.total_fen >= 0 and all(line.amount_fen >= 0 for line in breakdown.lines)
    items = [line for line in breakdown.lines if line.kind == "item"]
    for priced, line in zip(items, lines, strict=True):
        unit = (line.unit_price_fen + (line.variant.delta_fen if line.variant else 0)
                + sum(o.delta_fen for o in line.options))
        assert priced.unit_price_fen == unit and priced.amount_fen == unit * line.quantity
