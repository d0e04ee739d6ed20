"""The pure modules: commission rules and the split of a sale, refunds, netting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from linli.finance import commission, netting
from linli.finance.commission import Rule, Sale

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def sales(draw):  # type: ignore[no-untyped-def]
    goods = draw(st.integers(0, 500_00))
    delivery = draw(st.integers(0, 20_00))
    platform = draw(st.integers(0, goods))
    merchant = draw(st.integers(0, goods - platform))
    return Sale(goods_fen=goods, delivery_fee_fen=delivery, platform_discount_fen=platform,
                merchant_discount_fen=merchant, paid_fen=goods + delivery - platform - merchant,
                delivery_fee_to_platform=draw(st.booleans()), rate_bp=draw(st.integers(0, 10_000)),
                min_fen=draw(st.integers(0, 10_00)), gateway_fee_bp=draw(st.integers(0, 300)))


@given(sales())
def test_a_sale_split_balances_and_never_goes_negative(sale: Sale) -> None:
    split = commission.split_sale(sale)
    assert split.balanced()
    assert min(split.net_fen, split.commission_fen, split.fee_fen, split.delivery_fen, split.subsidy_fen) >= 0


@given(sales(), st.lists(st.integers(1, 100), min_size=1, max_size=6))
def test_refunds_in_pieces_reverse_the_sale_exactly(sale: Sale, weights: list[int]) -> None:
    split = commission.split_sale(sale)
    if split.paid_fen == 0:
        return
    pieces, left = [], split.paid_fen
    for w in weights:
        piece = min(left, max(1, split.paid_fen * w // (100 * len(weights))))
        if piece:
            pieces.append(piece)
            left -= piece
    if left:
        pieces.append(left)
    before = 0
    total = commission.Split(0, 0, 0, 0, 0, 0)
    for piece in pieces:
        part = commission.split_refund(split, refunded_before_fen=before, refund_fen=piece)
        assert part.balanced()
        before += piece
        total = commission.Split(*(a + b for a, b in zip(
            (total.paid_fen, total.subsidy_fen, total.commission_fen, total.fee_fen, total.delivery_fen, total.net_fen),
            (part.paid_fen, part.subsidy_fen, part.commission_fen, part.fee_fen, part.delivery_fen, part.net_fen),
            strict=True)))
    assert total == split


def test_commission_is_the_rate_with_a_minimum_and_fees_on_what_was_paid() -> None:
    sale = Sale(goods_fen=100_00, delivery_fee_fen=5_00, platform_discount_fen=10_00, merchant_discount_fen=20_00,
                paid_fen=75_00, delivery_fee_to_platform=True, rate_bp=800, min_fen=2_00, gateway_fee_bp=60)
    split = commission.split_sale(sale)
    assert split.commission_fen == 6_40  # 8 % of 80.00 (goods less the merchant's own discount)
    assert split.fee_fen == 45  # 0.6 % of 75.00
    assert split.delivery_fen == 5_00 and split.subsidy_fen == 10_00
    assert split.net_fen == 75_00 + 10_00 - 5_00 - 6_40 - 45
    small = commission.split_sale(Sale(goods_fen=10_00, delivery_fee_fen=0, platform_discount_fen=0,
                                       merchant_discount_fen=0, paid_fen=10_00, delivery_fee_to_platform=False,
                                       rate_bp=500, min_fen=2_00, gateway_fee_bp=0))
    assert small.commission_fen == 2_00  # 5 % would be 0.50: the minimum applies


def test_the_most_specific_rule_in_force_applies() -> None:
    rules = [Rule("default", 500, 0, T0), Rule("food", 600, 0, T0, category="1"),
             Rule("m7", 300, 0, T0, merchant="7"), Rule("m7-pos", 100, 0, T0, merchant="7", channel="pos"),
             Rule("old", 900, 0, T0 - timedelta(days=9), T0, merchant="7")]
    at = T0 + timedelta(days=1)
    assert commission.rule_for(rules, category="1", merchant="7", channel="pos", at=at).ref == "m7-pos"
    assert commission.rule_for(rules, category="1", merchant="7", channel="delivery", at=at).ref == "m7"
    assert commission.rule_for(rules, category="1", merchant="8", channel="delivery", at=at).ref == "food"
    assert commission.rule_for(rules, category="2", merchant="8", channel="delivery", at=at).ref == "default"
    assert commission.rule_for(rules, category="2", merchant="7", channel="pickup",
                               at=T0 - timedelta(days=1)).ref == "old"


def test_overlapping_versions_and_bad_rules_are_found() -> None:
    open_ended = Rule("a", 500, 0, T0)
    assert commission.overlapping(Rule("b", 600, 0, T0 + timedelta(days=5)), [open_ended]) == open_ended
    closed = Rule("a", 500, 0, T0, T0 + timedelta(days=5))
    assert commission.overlapping(Rule("b", 600, 0, T0 + timedelta(days=5)), [closed]) is None
    assert commission.overlapping(Rule("b", 600, 0, T0, channel="pos"), [closed]) is None  # another scope
    assert commission.rule_problems(Rule("x", -1, 0, T0)) == ["rate_out_of_range"]
    assert commission.rule_problems(Rule("x", 500, -5, T0, T0 - timedelta(days=1), channel="boat")) == [
        "min_negative", "ends_before_start", "channel_unknown"]


@given(st.lists(st.integers(-50_00, 100_00), max_size=20), st.integers(0, 10_000), st.integers(0, 50_00))
def test_netting_balances_and_never_pays_a_negative(amounts: list[int], reserve_bp: int, released: int) -> None:
    batch = netting.net(amounts, reserve_bp=reserve_bp, reserve_released_fen=released)
    if sum(amounts) + released <= 0:
        assert batch is None
    else:
        assert batch is not None and batch.balanced() and batch.payout_fen >= 0
        assert batch.total_fen == sum(amounts) + released


def test_settle_all_groups_by_merchant_and_due_date() -> None:
    day = date(2026, 3, 2)
    batches, waiting = netting.settle_all(
        [(1, day, 100), (1, day - timedelta(days=1), 50), (1, day + timedelta(days=1), 7), (2, day, -30)], day=day)
    assert batches[1].payout_fen == 150 and 2 not in batches
    assert waiting == {1: 7, 2: -30}
    assert netting.due_on(date(2026, 3, 1), 1) == day
