"""The pricing engine (orders.pricing), pure: invariants by property-based testing, then one
example per rule at its edges (night window in the store's time zone, distance tiers, 满减
threshold, per-item packaging, discount order, caps and rounding)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from operator import attrgetter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.orders.pricing import (
    AMOUNT_OFF_ITEMS,
    DELIVERY_OFF,
    PERCENT_OFF_ITEMS,
    CartLine,
    Choice,
    DiscountRule,
    FeeRules,
    PricingError,
    in_window,
    price_cart,
)

NOON_SHANGHAI = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


def shanghai(hh: int, mm: int = 0, *, day: int = 2) -> datetime:
    """An aware UTC instant that is hh:mm on 2026-03-<day> in Asia/Shanghai (UTC+8)."""
    return datetime(2026, 3, day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


# --- strategies ---------------------------------------------------------------------------------

@st.composite
def cart_lines(draw):
    base = draw(st.integers(0, 50_000))
    delta = draw(st.integers(-base, 20_000))
    variant = draw(st.one_of(st.none(), st.just(Choice("var", "大份", delta))))
    options = tuple(draw(st.lists(st.builds(Choice, ref=st.sampled_from(["o1", "o2", "o3"]),
                                            name=st.just("加蛋"),
                                            delta_fen=st.integers(0, 3000)), max_size=3)))
    return CartLine(product_ref=draw(st.sampled_from(["prd_a", "prd_b", "prd_c", "prd_d"])),
                    name="菜", unit_price_fen=base, quantity=draw(st.integers(1, 99)),
                    variant=variant, options=options,
                    packaging_fee_fen=draw(st.integers(0, 300)))


@st.composite
def discount_rules(draw):
    kind = draw(st.sampled_from([PERCENT_OFF_ITEMS, AMOUNT_OFF_ITEMS, DELIVERY_OFF]))
    cap = draw(st.one_of(st.none(), st.integers(0, 5000)))
    threshold = draw(st.integers(0, 20_000))
    ref = draw(st.text("abc123", min_size=1, max_size=4))
    if kind == PERCENT_OFF_ITEMS:
        return DiscountRule(ref, "折扣", kind, percent_off=draw(st.integers(1, 100)),
                            threshold_fen=threshold, cap_fen=cap)
    if kind == AMOUNT_OFF_ITEMS:
        return DiscountRule(ref, "满减", kind, amount_fen=draw(st.integers(0, 100_000)),
                            threshold_fen=threshold, cap_fen=cap)
    if draw(st.booleans()):
        return DiscountRule(ref, "减配送费", kind, percent_off=draw(st.integers(1, 100)),
                            threshold_fen=threshold, cap_fen=cap)
    return DiscountRule(ref, "减配送费", kind, amount_fen=draw(st.integers(0, 5000)),
                        threshold_fen=threshold, cap_fen=cap)


tiers = st.lists(st.integers(1, 10_000), min_size=0, max_size=4, unique=True).flatmap(
    lambda ms: st.tuples(*[st.tuples(st.just(m), st.integers(0, 2000)) for m in sorted(ms)]))
fee_rules = st.builds(
    FeeRules, packaging_fee_fen=st.integers(0, 500), delivery_fee_fen=st.integers(0, 2000),
    min_order_fen=st.just(0), delivery_fee_tiers=tiers, night_surcharge_fen=st.integers(0, 1000),
    night_start=st.sampled_from(["22:00", "21:30", "00:00", "18:00"]),
    night_end=st.sampled_from(["06:00", "05:00", "23:59", "24:00"]),
    timezone=st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "Europe/London"]),
)
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                        timezones=st.just(UTC))
carts = st.lists(cart_lines(), min_size=1, max_size=8)


def _price(cart, rules, delivery, at, discounts):
    distance = (rules.delivery_fee_tiers[-1][0] if rules.delivery_fee_tiers else 1000)
    return price_cart(cart, rules, delivery=delivery, at=at, distance_m=distance // 2,
                      discounts=discounts)


# --- invariants ---------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(carts, fee_rules, st.booleans(), instants, st.lists(discount_rules(), max_size=5))
def test_total_is_never_negative_and_is_the_sum_of_its_lines(cart, rules, delivery, at, discounts):
    breakdown = _price(cart, rules, delivery, at, discounts)
    assert breakdown.total_fen >= 0
    assert breakdown.total_fen == sum(line.amount_fen for line in breakdown.lines)
    assert breakdown.total_fen == (breakdown.items_fen + breakdown.packaging_fen
                                   + breakdown.delivery_fee_fen + breakdown.surcharge_fen
                                   - breakdown.discount_fen)
    assert all(isinstance(line.amount_fen, int) for line in breakdown.lines)
    assert all((line.amount_fen < 0) == (line.kind == "discount") for line in breakdown.lines
               if line.amount_fen)


@settings(max_examples=300, deadline=None)
@given(carts, fee_rules, st.booleans(), instants, st.lists(discount_rules(), max_size=5),
       st.randoms(use_true_random=False))
def test_reordering_the_items_changes_nothing(cart, rules, delivery, at, discounts, rnd):
    shuffled = list(cart)
    rnd.shuffle(shuffled)
    first = _price(cart, rules, delivery, at, discounts)
    second = _price(shuffled, rules, delivery, at, discounts)
    assert first.total_fen == second.total_fen
    # The same lines (items keep the cart's order, so compare them as a multiset) ...
    assert Counter(first.lines) == Counter(second.lines)
    # ... and everything after the items is identical, line for line, in order.
    assert [x for x in first.lines if x.kind != "item"] == [x for x in second.lines if x.kind != "item"]


@settings(max_examples=400, deadline=None)
@given(carts, fee_rules, instants, st.lists(discount_rules(), max_size=6, unique_by=attrgetter("ref")))
def test_discounts_never_exceed_what_they_discount_nor_their_caps(cart, rules, at, discounts):
    breakdown = _price(cart, rules, True, at, discounts)
    item_off = -sum(x.amount_fen for x in breakdown.lines if x.kind == "discount" and x.target == "items")
    delivery_off = -sum(x.amount_fen for x in breakdown.lines
                        if x.kind == "discount" and x.target == "delivery")
    assert 0 <= item_off <= breakdown.items_fen
    assert 0 <= delivery_off <= breakdown.delivery_fee_fen
    caps = {rule.ref: rule.cap_fen for rule in discounts}
    for line in breakdown.lines:
        if line.kind == "discount":
            assert line.amount_fen < 0  # a rule that takes nothing off leaves no line
            cap = caps[line.ref]
            assert cap is None or -line.amount_fen <= cap


@settings(max_examples=200, deadline=None)
@given(carts, fee_rules, instants)
def test_pickup_pays_no_delivery_surcharge_nor_minimum(cart, rules, at):
    strict = FeeRules(**{**rules.__dict__, "min_order_fen": 10**9})
    breakdown = price_cart(cart, strict, delivery=False, at=at)
    assert breakdown.delivery_fee_fen == 0 and breakdown.surcharge_fen == 0


# --- examples: items, packaging ------------------------------------------------------------------

def test_item_line_is_base_plus_variant_plus_options_times_quantity():
    line = CartLine("prd_a", "牛肉面", 2000, 2, variant=Choice("v", "大份", 500),
                    options=(Choice("o", "加蛋", 200, "加料"),))
    breakdown = price_cart([line], FeeRules(), delivery=False, at=NOON_SHANGHAI)
    (item,) = breakdown.lines
    assert (item.kind, item.unit_price_fen, item.quantity, item.amount_fen) == ("item", 2700, 2, 5400)


def test_packaging_is_per_unit_for_products_plus_per_order_for_the_store():
    cart = [CartLine("prd_a", "米饭", 200, 3, packaging_fee_fen=50),
            CartLine("prd_b", "汤", 800, 2, packaging_fee_fen=100),
            CartLine("prd_c", "可乐", 300, 1)]
    breakdown = price_cart(cart, FeeRules(packaging_fee_fen=100), delivery=False, at=NOON_SHANGHAI)
    assert breakdown.packaging_fen == 3 * 50 + 2 * 100 + 100
    assert [x.kind for x in breakdown.lines].count("packaging") == 1
    assert price_cart(cart[2:], FeeRules(), delivery=False, at=NOON_SHANGHAI).packaging_fen == 0


def test_no_fee_no_line():
    breakdown = price_cart([CartLine("p", "菜", 1000, 1)], FeeRules(), delivery=True, at=NOON_SHANGHAI)
    assert [x.kind for x in breakdown.lines] == ["item"]


@pytest.mark.parametrize(("cart", "code"), [
    ([], "empty_cart"),
    ([CartLine("p", "x", 100, 0)], "invalid_quantity"),
    ([CartLine("p", "x", 100, 1, variant=Choice("v", "小份", -200))], "invalid_price"),
    ([CartLine("p", "x", 100, 1, packaging_fee_fen=-1)], "invalid_price"),
])
def test_invalid_carts(cart, code):
    with pytest.raises(PricingError) as err:
        price_cart(cart, FeeRules(), delivery=True, at=NOON_SHANGHAI)
    assert err.value.code == code


def test_the_order_time_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        price_cart([CartLine("p", "x", 100, 1)], FeeRules(), delivery=True, at=datetime(2026, 3, 2, 12))


# --- examples: delivery tiers ------------------------------------------------------------------------

TIERS = FeeRules(delivery_fee_fen=999, delivery_fee_tiers=((1000, 300), (3000, 500)))


@pytest.mark.parametrize(("distance_m", "fee"), [(0, 300), (1000, 300), (1001, 500), (3000, 500)])
def test_tiers_the_first_tier_reaching_the_distance_sets_the_fee(distance_m, fee):
    breakdown = price_cart([CartLine("p", "菜", 3000, 1)], TIERS, delivery=True, at=NOON_SHANGHAI,
                           distance_m=distance_m)
    assert breakdown.delivery_fee_fen == fee


def test_beyond_the_last_tier_is_out_of_range():
    with pytest.raises(PricingError) as err:
        price_cart([CartLine("p", "菜", 3000, 1)], TIERS, delivery=True, at=NOON_SHANGHAI, distance_m=3001)
    assert (err.value.code, err.value.details) == ("address_out_of_range", {"distance_m": 3001, "max_m": 3000})


def test_without_tiers_the_flat_fee_and_without_a_distance_the_nearest_tier():
    cart = [CartLine("p", "菜", 3000, 1)]
    assert price_cart(cart, FeeRules(delivery_fee_fen=700), delivery=True, at=NOON_SHANGHAI,
                      distance_m=40_000).delivery_fee_fen == 700
    assert price_cart(cart, TIERS, delivery=True, at=NOON_SHANGHAI).delivery_fee_fen == 300


# --- examples: night surcharge, in the store's time zone ------------------------------------------

NIGHT = FeeRules(delivery_fee_fen=500, night_surcharge_fen=300, night_start="22:00", night_end="06:00",
                 timezone="Asia/Shanghai")


@pytest.mark.parametrize(("local", "applies"), [
    ((21, 59), False), ((22, 0), True), ((23, 59), True), ((0, 0), True), ((5, 59), True),
    ((6, 0), False), ((12, 0), False),
])
def test_night_window_edges_in_the_store_time_zone(local, applies):
    breakdown = price_cart([CartLine("p", "菜", 3000, 1)], NIGHT, delivery=True, at=shanghai(*local))
    assert breakdown.surcharge_fen == (300 if applies else 0)
    if applies:
        assert breakdown.lines[-1].kind == "surcharge" and breakdown.total_fen == 3000 + 500 + 300


def test_night_is_read_in_the_store_zone_not_utc():
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 15:00 UTC = 23:00 Shanghai = 15:00 London
    cart = [CartLine("p", "菜", 3000, 1)]
    assert price_cart(cart, NIGHT, delivery=True, at=at).surcharge_fen == 300
    london = FeeRules(**{**NIGHT.__dict__, "timezone": "Europe/London"})
    assert price_cart(cart, london, delivery=True, at=at).surcharge_fen == 0


def test_a_window_within_one_day_and_pickup():
    evening = FeeRules(night_surcharge_fen=200, night_start="18:00", night_end="20:00")
    cart = [CartLine("p", "菜", 3000, 1)]
    assert price_cart(cart, evening, delivery=True, at=shanghai(18)).surcharge_fen == 200
    assert price_cart(cart, evening, delivery=True, at=shanghai(20)).surcharge_fen == 0
    assert price_cart(cart, evening, delivery=False, at=shanghai(19)).surcharge_fen == 0


def test_in_window():
    assert in_window(0, "00:00", "24:00") and in_window(1439, "00:00", "24:00")
    assert not in_window(600, "10:00", "10:00")  # empty (the profile refuses it)
    with pytest.raises(ValueError):
        in_window(0, "7:00", "08:00")


# --- examples: minimum order, discounts, order, caps, rounding --------------------------------------

def test_minimum_order_counts_goods_after_item_discounts_not_fees():
    cart = [CartLine("p", "菜", 2000, 1, packaging_fee_fen=500)]
    rules = FeeRules(min_order_fen=2000, delivery_fee_fen=500, packaging_fee_fen=100)
    assert price_cart(cart, rules, delivery=True, at=NOON_SHANGHAI).total_fen == 2000 + 600 + 500
    off = DiscountRule("prm_1", "减1元", AMOUNT_OFF_ITEMS, amount_fen=100)
    with pytest.raises(PricingError) as err:
        price_cart(cart, rules, delivery=True, at=NOON_SHANGHAI, discounts=[off])
    assert err.value.details == {"min_order_fen": 2000, "items_fen": 1900}
    assert price_cart(cart, rules, delivery=False, at=NOON_SHANGHAI, discounts=[off]).total_fen == 1900 + 600


@pytest.mark.parametrize(("goods", "applies"), [(2999, False), (3000, True), (3001, True)])
def test_full_reduction_threshold_edge(goods, applies):
    rule = DiscountRule("prm_mj", "满30减5", AMOUNT_OFF_ITEMS, amount_fen=500, threshold_fen=3000)
    breakdown = price_cart([CartLine("p", "菜", goods, 1)], FeeRules(), delivery=False,
                           at=NOON_SHANGHAI, discounts=[rule])
    assert breakdown.discount_fen == (500 if applies else 0)
    if applies:
        line = breakdown.lines[-1]
        assert (line.kind, line.label, line.amount_fen, line.ref, line.target) == (
            "discount", "满30减5", -500, "prm_mj", "items")


def test_percentages_round_half_a_fen_in_the_customer_favour():
    cart = [CartLine("p", "菜", 1230, 1)]  # 15% of 1230 = 184.5
    rule = DiscountRule("prm_p", "85折", PERCENT_OFF_ITEMS, percent_off=15)
    assert price_cart(cart, FeeRules(), delivery=False, at=NOON_SHANGHAI,
                      discounts=[rule]).total_fen == 1230 - 185
    cart = [CartLine("p", "菜", 1229, 1)]  # 184.35 -> 184
    assert price_cart(cart, FeeRules(), delivery=False, at=NOON_SHANGHAI,
                      discounts=[rule]).discount_fen == 184


def test_percentages_apply_before_full_reductions_whatever_the_order_given():
    cart = [CartLine("p", "菜", 4000, 1)]
    mj = DiscountRule("prm_mj", "满35减10", AMOUNT_OFF_ITEMS, amount_fen=1000, threshold_fen=3500)
    pct = DiscountRule("prm_p", "8折", PERCENT_OFF_ITEMS, percent_off=20)
    for given_order in ([mj, pct], [pct, mj]):
        breakdown = price_cart(cart, FeeRules(), delivery=False, at=NOON_SHANGHAI, discounts=given_order)
        # 4000 - 20% = 3200, below the 满35 threshold: only the percentage applies
        assert [x.ref for x in breakdown.lines if x.kind == "discount"] == ["prm_p"]
        assert breakdown.total_fen == 3200


def test_caps_and_never_below_zero():
    cart = [CartLine("p", "菜", 10_000, 1)]
    capped = DiscountRule("prm_p", "5折 最多减20元", PERCENT_OFF_ITEMS, percent_off=50, cap_fen=2000)
    assert price_cart(cart, FeeRules(), delivery=False, at=NOON_SHANGHAI,
                      discounts=[capped]).total_fen == 8000
    huge = DiscountRule("cpn_1", "减200元", AMOUNT_OFF_ITEMS, amount_fen=20_000, source="coupon")
    breakdown = price_cart(cart, FeeRules(packaging_fee_fen=100), delivery=False, at=NOON_SHANGHAI,
                           discounts=[huge])
    assert breakdown.discount_fen == 10_000 and breakdown.total_fen == 100  # packaging is not discounted


def test_delivery_discounts_take_off_the_delivery_fee_only():
    cart = [CartLine("p", "菜", 3000, 1)]
    free = DiscountRule("prm_d", "免配送费", DELIVERY_OFF, percent_off=100, threshold_fen=2000)
    breakdown = price_cart(cart, NIGHT, delivery=True, at=shanghai(23), discounts=[free])
    assert [(x.kind, x.amount_fen) for x in breakdown.lines] == [
        ("item", 3000), ("delivery", 500), ("discount", -500), ("surcharge", 300)]
    three = DiscountRule("prm_d3", "减3元", DELIVERY_OFF, amount_fen=300)
    seven = DiscountRule("prm_d7", "减7元", DELIVERY_OFF, amount_fen=700)
    breakdown = price_cart(cart, NIGHT, delivery=True, at=NOON_SHANGHAI, discounts=[three, seven])
    assert [x.amount_fen for x in breakdown.lines if x.kind == "discount"] == [-300, -200]
    assert breakdown.total_fen == 3000
    assert price_cart(cart, NIGHT, delivery=False, at=NOON_SHANGHAI, discounts=[free]).discount_fen == 0


@pytest.mark.parametrize("kwargs", [
    {"kind": "buy_one_get_one"}, {"kind": PERCENT_OFF_ITEMS, "percent_off": 101},
    {"kind": PERCENT_OFF_ITEMS, "amount_fen": 100}, {"kind": AMOUNT_OFF_ITEMS, "percent_off": 10},
    {"kind": DELIVERY_OFF, "percent_off": 10, "amount_fen": 100},
    {"kind": AMOUNT_OFF_ITEMS, "amount_fen": -1}, {"kind": AMOUNT_OFF_ITEMS, "cap_fen": -1},
])
def test_malformed_discount_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        DiscountRule("r", "x", **kwargs)


@given(lines=st.lists(cart_lines(), min_size=1, max_size=5), discounts=st.lists(discount_rules(), max_size=2))
@settings(max_examples=100, deadline=None)
def test_a_lines_stored_form_is_its_dataclass_as_json(lines, discounts):
    """`PriceLine.as_dict` (written out for speed) stores what `dataclasses.asdict` would,
    field for field, variants and options included: a field added to the dataclass and
    forgotten there fails here."""
    import json
    from dataclasses import asdict

    breakdown = price_cart(lines, FeeRules(), delivery=False, at=NOON_SHANGHAI, discounts=discounts)
    for line in breakdown.lines:
        assert json.loads(json.dumps(line.as_dict())) == json.loads(json.dumps(asdict(line)))
