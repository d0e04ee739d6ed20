"""The pure money rules: every split sums exactly to what was split, nothing negative."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.payments import money

fen = st.integers(min_value=0, max_value=10_000_000)


@given(cash=fen, bonus=fen, data=st.data())
def test_wallet_debit_split_takes_exactly_the_amount_in_proportion(cash, bonus, data):
    amount = data.draw(st.integers(min_value=0, max_value=cash + bonus))
    split = money.wallet_debit_split(amount, cash_fen=cash, bonus_fen=bonus)
    assert split.total_fen == amount
    assert 0 <= split.cash_fen <= cash and 0 <= split.bonus_fen <= bonus
    if cash + bonus:  # the bonus share never exceeds its proportion by more than rounding
        assert split.bonus_fen * (cash + bonus) <= amount * bonus + (cash + bonus)


def test_wallet_debit_split_examples_and_refusals():
    assert money.wallet_debit_split(55_00, cash_fen=100_00, bonus_fen=10_00) == money.WalletSplit(50_00, 5_00)
    assert money.wallet_debit_split(1, cash_fen=1, bonus_fen=1) == money.WalletSplit(1, 0)
    with pytest.raises(ValueError):
        money.wallet_debit_split(3, cash_fen=1, bonus_fen=1)
    with pytest.raises(ValueError):
        money.wallet_debit_split(-1, cash_fen=1, bonus_fen=1)


@given(cash=st.integers(min_value=1, max_value=10_000_000), bonus=fen, data=st.data())
def test_withdrawing_all_principal_forfeits_all_bonus_and_part_forfeits_part(cash, bonus, data):
    assert money.withdrawal_forfeit(cash, cash_fen=cash, bonus_fen=bonus) == bonus
    amount = data.draw(st.integers(min_value=0, max_value=cash))
    forfeit = money.withdrawal_forfeit(amount, cash_fen=cash, bonus_fen=bonus)
    assert 0 <= forfeit <= bonus
    # what stays keeps at most the original bonus-to-principal ratio
    assert (bonus - forfeit) * cash <= bonus * (cash - amount)


def test_topup_bonus_takes_the_highest_rule_reached_never_stacked():
    rules = [(100_00, 10_00), (200_00, 25_00), (500_00, 80_00)]
    assert money.topup_bonus(99_99, rules) == 0
    assert money.topup_bonus(100_00, rules) == 10_00
    assert money.topup_bonus(499_99, rules) == 25_00
    assert money.topup_bonus(1000_00, rules) == 80_00
    assert money.topup_bonus(100_00, []) == 0


paid_lists = st.lists(st.builds(money.Paid, ref=st.uuids().map(str), is_wallet=st.booleans(),
                                refundable_fen=st.integers(min_value=0, max_value=100_000)),
                      min_size=1, max_size=4)


@given(paid=paid_lists, data=st.data())
def test_refund_split_sums_exactly_gateways_first_never_above_a_payment(paid, data):
    total = sum(p.refundable_fen for p in paid)
    if total == 0:
        with pytest.raises(ValueError):
            money.refund_split(1, paid)
        return
    amount = data.draw(st.integers(min_value=1, max_value=total))
    parts = money.refund_split(amount, paid)
    assert sum(part for _, part in parts) == amount
    by_ref = {p.ref: p for p in paid}
    assert all(0 < part <= by_ref[ref].refundable_fen for ref, part in parts)
    wallet_taken = sum(part for ref, part in parts if by_ref[ref].is_wallet)
    gateway_left = sum(p.refundable_fen for p in paid if not p.is_wallet) - (amount - wallet_taken)
    assert wallet_taken == 0 or gateway_left == 0  # the wallet only once the gateways are spent
    with pytest.raises(ValueError):
        money.refund_split(total + 1, paid)


lines = st.lists(st.tuples(st.integers(min_value=1, max_value=5),
                           st.integers(min_value=1, max_value=20_000)), min_size=1, max_size=5)


@given(raw=lines, discount=st.integers(min_value=0, max_value=50), delivery=st.integers(0, 1_000),
       data=st.data())
def test_refunding_items_one_by_one_returns_exactly_the_total(raw, discount, delivery, data):
    """Whatever order items are refunded in, the refunds never pass the total and the
    last one brings the sum to exactly what was paid (delivery and rounding included)."""
    item_lines = [money.ItemLine(line=i + 1, quantity=q, amount_fen=q * unit) for i, (q, unit) in enumerate(raw)]
    goods = sum(line.amount_fen for line in item_lines)
    paid_goods = goods * (100 - discount) // 100
    total = paid_goods + delivery
    units = [(line.line, 1) for line in item_lines for _ in range(line.quantity)]
    order = data.draw(st.permutations(units))
    refunded, done = 0, {line.line: 0 for line in item_lines}
    for line_no, quantity in order:
        current = [money.ItemLine(line=line.line, quantity=line.quantity, amount_fen=line.amount_fen,
                                  refunded_quantity=done[line.line]) for line in item_lines]
        amount = money.item_refund_amount(lines=current, picks=[(line_no, quantity)], goods_fen=goods,
                                          paid_goods_fen=paid_goods, total_fen=total,
                                          refunded_fen=refunded)
        assert 0 <= amount <= total - refunded
        refunded += amount
        done[line_no] += quantity
    assert refunded == total


def test_item_refund_refuses_unknown_lines_and_units_already_refunded():
    lines = [money.ItemLine(line=1, quantity=2, amount_fen=2000, refunded_quantity=1)]
    kwargs = {"goods_fen": 2000, "paid_goods_fen": 2000, "total_fen": 2500, "refunded_fen": 1000}
    with pytest.raises(ValueError):
        money.item_refund_amount(lines=lines, picks=[(2, 1)], **kwargs)
    with pytest.raises(ValueError):
        money.item_refund_amount(lines=lines, picks=[(1, 2)], **kwargs)
    with pytest.raises(ValueError):
        money.item_refund_amount(lines=lines, picks=[(1, 0)], **kwargs)
    # the last unit left: everything still unrefunded, delivery included
    assert money.item_refund_amount(lines=lines, picks=[(1, 1)], **kwargs) == 1500
