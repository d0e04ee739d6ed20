"""The pricing module's invariants, by property-based testing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.orders.pricing import CartLine, FeeRules, PricingError, price_cart

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: no night surcharge

lines = st.lists(
    st.builds(CartLine, product_ref=st.text(min_size=1, max_size=8), name=st.just("菜"),
              unit_price_fen=st.integers(0, 100_000), quantity=st.integers(1, 999)),
    min_size=1, max_size=20,
)
rules = st.builds(FeeRules, packaging_fee_fen=st.integers(0, 1000), delivery_fee_fen=st.integers(0, 2000),
                  min_order_fen=st.just(0))


@given(lines, rules, st.booleans())
def test_total_is_non_negative_and_the_sum_of_its_lines(cart, fees, delivery):
    breakdown = price_cart(cart, fees, delivery=delivery, at=NOON)
    assert breakdown.total_fen >= 0
    assert breakdown.total_fen == sum(line.amount_fen for line in breakdown.lines)
    assert breakdown.total_fen == breakdown.items_fen + breakdown.packaging_fen + breakdown.delivery_fee_fen
    assert all(isinstance(line.amount_fen, int) for line in breakdown.lines)


@given(lines, rules, st.booleans(), st.randoms())
def test_order_of_items_does_not_change_the_total(cart, fees, delivery, rnd):
    shuffled = list(cart)
    rnd.shuffle(shuffled)
    assert price_cart(cart, fees, delivery=delivery, at=NOON).total_fen == price_cart(shuffled, fees, delivery=delivery, at=NOON).total_fen


@given(lines, rules)
def test_pickup_never_pays_delivery(cart, fees):
    assert price_cart(cart, fees, delivery=False, at=NOON).delivery_fee_fen == 0


def test_minimum_order_applies_to_delivery_only():
    cart = [CartLine("p", "米饭", 300, 1)]
    with pytest.raises(PricingError) as err:
        price_cart(cart, FeeRules(min_order_fen=2000), delivery=True, at=NOON)
    assert err.value.code == "below_minimum_order"
    assert price_cart(cart, FeeRules(min_order_fen=2000), delivery=False, at=NOON).total_fen == 300


@pytest.mark.parametrize(("cart", "code"), [([], "empty_cart"), ([CartLine("p", "x", 100, 0)], "invalid_quantity")])
def test_invalid_carts(cart, code):
    with pytest.raises(PricingError) as err:
        price_cart(cart, FeeRules(), delivery=True, at=NOON)
    assert err.value.code == code
