"""The pure choice of promotions and coupon (marketing.rules), against the pricing engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.marketing import rules
from linli.marketing.rules import CouponSpec, PromotionSpec, Tier
from linli.orders.pricing import CartLine, FeeRules, price_cart

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TIERS = (Tier(3000, 500), Tier(5000, 1000), Tier(8000, 1800))


def _cart(*prices_qty: tuple[int, int]) -> list[CartLine]:
    return [CartLine(product_ref=f"prd_{i}", name=f"菜{i}", unit_price_fen=p, quantity=q)
            for i, (p, q) in enumerate(prices_qty)]


def _total(lines, plan) -> int:
    return price_cart(lines, FeeRules(delivery_fee_fen=500), delivery=True, at=AT, discounts=plan.rules).total_fen


@pytest.mark.parametrize(("goods", "expected"), [(2999, None), (3000, 500), (4999, 500), (5000, 1000),
                                                 (7999, 1000), (8000, 1800), (100000, 1800)])
def test_the_best_reachable_tier_applies(goods, expected):
    tier = rules.best_tier(TIERS, goods)
    assert (tier.amount_fen if tier else None) == expected


def test_the_tier_line_carries_its_label_and_the_promotion_ref():
    promo = PromotionSpec(ref="prm_1", label="满减", kind=rules.TIERED, tiers=TIERS)
    plan = rules.discount_plan([promo], lines=_cart((2600, 2)), first_order=False)
    assert [(r.ref, r.label, r.amount_fen) for r in plan.rules] == [("prm_1", "满50减10", 1000)]


def test_the_tier_is_chosen_on_the_goods_after_special_prices():
    cart = _cart((3000, 1), (2500, 1))  # 55 gross; the special price takes 10 off -> 45: the 满30 tier
    promos = [PromotionSpec(ref="prm_t", label="满减", kind=rules.TIERED, tiers=TIERS),
              PromotionSpec(ref="prm_s", label="特价", kind=rules.SPECIAL_PRICE, product_ref="prd_0",
                            special_price_fen=2000)]
    plan = rules.discount_plan(promos, lines=cart, first_order=False)
    assert [(r.ref, r.amount_fen) for r in plan.rules] == [("prm_s", 1000), ("prm_t", 500)]


def test_a_special_price_stops_at_its_per_order_limit():
    promo = PromotionSpec(ref="prm_s", label="特价", kind=rules.SPECIAL_PRICE, product_ref="prd_0",
                          special_price_fen=990, per_order_limit=2)
    plan = rules.discount_plan([promo], lines=_cart((1990, 5)), first_order=False)
    assert plan.rules[0].amount_fen == 2 * 1000


@pytest.mark.parametrize(("units", "free"), [(1, 0), (2, 0), (3, 1), (5, 1), (6, 2), (9, 2)])
def test_buy_two_get_one_gives_one_free_unit_per_full_group_up_to_the_limit(units, free):
    gift = PromotionSpec(ref="prm_g", label="买2送1", kind=rules.BUY_X_GET_Y, product_ref="prd_0",
                         buy_qty=2, free_qty=1, per_order_limit=2)
    plan = rules.discount_plan([gift], lines=_cart((1500, units), (800, 3)), first_order=False)
    assert [(r.ref, r.amount_fen) for r in plan.rules] == ([("prm_g", free * 1500)] if free else [])


def test_the_free_units_of_a_gift_are_the_cheapest_and_tiers_read_the_goods_after_it():
    cart = [CartLine(product_ref="prd_0", name="奶茶大杯", unit_price_fen=1800, quantity=1),
            CartLine(product_ref="prd_0", name="奶茶中杯", unit_price_fen=1200, quantity=1),
            CartLine(product_ref="prd_0", name="奶茶小杯", unit_price_fen=1000, quantity=1)]
    promos = [PromotionSpec(ref="prm_g", label="买2送1", kind=rules.BUY_X_GET_Y, product_ref="prd_0",
                            buy_qty=2, free_qty=1),
              PromotionSpec(ref="prm_t", label="满减", kind=rules.TIERED, tiers=TIERS)]
    plan = rules.discount_plan(promos, lines=cart, first_order=False)  # 40 gross, 10 free -> 30: 满30减5
    assert [(r.ref, r.amount_fen) for r in plan.rules] == [("prm_g", 1000), ("prm_t", 500)]
    assert _total(cart, plan) == 4000 - 1000 - 500 + 500


def test_bad_gift_terms_are_named():
    assert rules.gift_problems(buy_qty=0, free_qty=1) == ["gift_quantities"]
    assert rules.gift_problems(buy_qty=2, free_qty=100) == ["gift_quantities"]
    assert rules.gift_problems(buy_qty=1, free_qty=1) == []


def test_an_exclusive_promotion_of_higher_priority_excludes_the_others():
    promos = [PromotionSpec(ref="prm_a", label="满减", kind=rules.TIERED, tiers=TIERS, priority=1),
              PromotionSpec(ref="prm_b", label="新客立减", kind=rules.FIRST_ORDER, amount_fen=300, priority=5,
                            exclusive=True)]
    chosen = rules.promotions_chosen(promos, lines=_cart((6000, 1)), first_order=True)
    assert [p.ref for p in chosen] == ["prm_b"]
    # not a first order: the exclusive one does not apply, so the tiers do
    chosen = rules.promotions_chosen(promos, lines=_cart((6000, 1)), first_order=False)
    assert [p.ref for p in chosen] == ["prm_a"]


def test_an_exclusive_promotion_of_lower_priority_is_left_out():
    promos = [PromotionSpec(ref="prm_a", label="满减", kind=rules.TIERED, tiers=TIERS, priority=9),
              PromotionSpec(ref="prm_b", label="新客立减", kind=rules.FIRST_ORDER, amount_fen=300, exclusive=True)]
    assert [p.ref for p in rules.promotions_chosen(promos, lines=_cart((6000, 1)), first_order=True)] == ["prm_a"]


def test_a_coupon_that_does_not_stack_replaces_the_promotions():
    promo = PromotionSpec(ref="prm_a", label="满减", kind=rules.TIERED, tiers=TIERS)
    coupon = CouponSpec(ref="cpn_1", label="8折", kind=rules.PERCENT_OFF, percent_off=20, cap_fen=800,
                        stacks_with_promotions=False)
    plan = rules.discount_plan([promo], lines=_cart((6000, 1)), first_order=False, coupon=coupon)
    assert [r.ref for r in plan.rules] == ["cpn_1"] and plan.promotions_dropped
    stacking = CouponSpec(**{**coupon.__dict__, "stacks_with_promotions": True})
    plan = rules.discount_plan([promo], lines=_cart((6000, 1)), first_order=False, coupon=stacking)
    assert [r.ref for r in plan.rules] == ["cpn_1", "prm_a"] and not plan.promotions_dropped


def test_the_coupon_threshold_is_read_where_the_engine_reads_it():
    promo = PromotionSpec(ref="prm_a", label="满减", kind=rules.TIERED, tiers=TIERS)
    coupon = CouponSpec(ref="cpn_1", label="满30减5", kind=rules.AMOUNT_OFF, amount_fen=500, threshold_fen=3000)
    lines = _cart((3200, 1))  # 32 - 5 (store 满30减5) = 27 < 30: the coupon's threshold is missed
    plan = rules.discount_plan([promo], lines=lines, first_order=False, coupon=coupon)
    assert rules.goods_before(lines, plan.rules, plan.coupon_rule) == 2700
    breakdown = price_cart(lines, FeeRules(), delivery=False, at=AT, discounts=plan.rules)
    assert "cpn_1" not in {line.ref for line in breakdown.lines}


@pytest.mark.parametrize(("terms", "problem"), [
    ({"kind": "amount_off", "amount_fen": 500, "threshold_fen": 300}, "threshold_below_discount"),
    ({"kind": "amount_off", "amount_fen": 500, "threshold_fen": 500}, "threshold_below_discount"),
    ({"kind": "percent_off", "percent_off": 120}, "percent_out_of_range"),
    ({"kind": "percent_off", "percent_off": 0}, "percent_out_of_range"),
    ({"kind": "amount_off", "amount_fen": 0}, "amount_required"),
    ({"kind": "free_delivery", "percent_off": 50}, "percent_not_allowed"),
    ({"kind": "lottery"}, "coupon_kind_unknown"),
])
def test_bad_coupon_terms_are_named(terms, problem):
    values = {"amount_fen": 0, "percent_off": 0, "cap_fen": None, "threshold_fen": 0, **terms}
    assert problem in rules.coupon_problems(**values)


def test_no_threshold_and_good_terms_pass():
    assert rules.coupon_problems(kind="amount_off", amount_fen=300, percent_off=0, cap_fen=None, threshold_fen=0) == []
    assert rules.tiers_problems(TIERS) == []
    assert rules.tiers_problems((Tier(5000, 1000), Tier(3000, 500))) == ["tiers_not_ascending"]
    assert rules.tiers_problems((Tier(500, 500),)) == ["threshold_below_discount"]


def test_labels_write_yuan_as_people_do():
    assert [rules.yuan(f) for f in (3000, 3050, 5, 1799)] == ["30", "30.5", "0.05", "17.99"]


# --- properties -------------------------------------------------------------------------------

tiers_st = st.lists(st.tuples(st.integers(1, 20000), st.integers(1, 5000)), min_size=1, max_size=5).map(
    lambda pairs: tuple(Tier(t + a, a) for t, a in pairs))
cart_st = st.lists(st.tuples(st.integers(0, 9000), st.integers(1, 5)), min_size=1, max_size=5)
coupon_st = st.one_of(
    st.none(),
    st.builds(CouponSpec, ref=st.just("cpn_x"), label=st.just("券"), kind=st.just(rules.AMOUNT_OFF),
              amount_fen=st.integers(1, 5000), threshold_fen=st.integers(0, 20000),
              stacks_with_promotions=st.booleans()),
    st.builds(CouponSpec, ref=st.just("cpn_x"), label=st.just("券"), kind=st.just(rules.PERCENT_OFF),
              percent_off=st.integers(1, 99), cap_fen=st.one_of(st.none(), st.integers(0, 5000)),
              threshold_fen=st.integers(0, 20000), stacks_with_promotions=st.booleans()),
    st.builds(CouponSpec, ref=st.just("cpn_x"), label=st.just("券"), kind=st.just(rules.FREE_DELIVERY),
              threshold_fen=st.integers(0, 20000), stacks_with_promotions=st.booleans()),
)


@settings(max_examples=150, deadline=None)
@given(tiers=st.lists(st.tuples(st.integers(1, 20000), st.integers(1, 5000)), max_size=6), goods=st.integers(0, 60000))
def test_best_tier_is_the_largest_reachable_discount(tiers, goods):
    tiers = [Tier(t + a, a) for t, a in tiers]
    tier = rules.best_tier(tiers, goods)
    reachable = [t.amount_fen for t in tiers if t.threshold_fen <= goods]
    assert (tier.amount_fen if tier else 0) == max(reachable, default=0)
    assert tier is None or tier.threshold_fen <= goods


@settings(max_examples=200, deadline=None)
@given(cart=cart_st, tiers=tiers_st, first_order=st.booleans(), first_amount=st.integers(1, 5000),
       special=st.integers(0, 9000), limit=st.one_of(st.none(), st.integers(1, 3)), coupon=coupon_st,
       priorities=st.lists(st.integers(-3, 3), min_size=3, max_size=3),
       exclusive=st.lists(st.booleans(), min_size=3, max_size=3))
def test_any_stacking_never_makes_a_negative_total_and_keeps_the_engine_properties(
        cart, tiers, first_order, first_amount, special, limit, coupon, priorities, exclusive):
    lines = _cart(*cart)
    promos = [PromotionSpec(ref="prm_t", label="满减", kind=rules.TIERED, tiers=tiers,
                            priority=priorities[0], exclusive=exclusive[0]),
              PromotionSpec(ref="prm_f", label="新客", kind=rules.FIRST_ORDER, amount_fen=first_amount,
                            priority=priorities[1], exclusive=exclusive[1]),
              PromotionSpec(ref="prm_s", label="特价", kind=rules.SPECIAL_PRICE, product_ref="prd_0",
                            special_price_fen=special, per_order_limit=limit,
                            priority=priorities[2], exclusive=exclusive[2])]
    plan = rules.discount_plan(promos, lines=lines, first_order=first_order, coupon=coupon)
    breakdown = price_cart(lines, FeeRules(delivery_fee_fen=500), delivery=True, at=AT, discounts=plan.rules)
    assert breakdown.total_fen >= 0
    assert breakdown.total_fen == sum(line.amount_fen for line in breakdown.lines)
    gross = breakdown.items_fen + breakdown.delivery_fee_fen
    assert breakdown.total_fen <= gross
    refs = {line.ref for line in breakdown.lines if line.kind == "discount"}
    if coupon and not coupon.stacks_with_promotions:
        assert not refs & {"prm_t", "prm_f", "prm_s"}
    if any(p.exclusive and p.ref in refs for p in promos):
        assert len(refs - {"cpn_x"}) == 1
    # the tier chosen is the best one at the goods the engine compared it with
    tier_rule = next((r for r in plan.rules if r.ref == "prm_t"), None)
    if tier_rule is not None:
        at_tier = rules.goods_before(lines, plan.rules, tier_rule)
        assert tier_rule.amount_fen == rules.best_tier(tiers, at_tier).amount_fen
