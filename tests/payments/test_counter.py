"""Wallet payments at the counter (POS, issue 8): charged once per sale, returned to the
wallet in the proportion paid, never above what was paid."""

from __future__ import annotations

import pytest

from linli.core.errors import DomainError
from linli.payments import services
from linli.payments.models import TopupBonusRule
from tests.payments.helpers import books_hold, consumer, top_up, wallet

pytestmark = pytest.mark.django_db


def test_counter_charge_is_once_per_sale_and_returns_go_back_to_the_wallet():
    TopupBonusRule.objects.create(threshold_fen=100_00, bonus_fen=10_00)
    api, member = consumer()
    top_up(api, 100_00)
    first = services.counter_wallet_charge(payer=member, amount_fen=33_00, reference="sale-1",
                                           actor=member)
    again = services.counter_wallet_charge(payer=member, amount_fen=33_00, reference="sale-1",
                                           actor=member)
    assert first.pk == again.pk and first.status == "succeeded"
    assert sum(wallet(api)) == 110_00 - 33_00
    with pytest.raises(DomainError) as reused:
        services.counter_wallet_charge(payer=member, amount_fen=34_00, reference="sale-1", actor=member)
    assert reused.value.code == "idempotency_key_reused"
    refund = services.counter_wallet_refund(payment_id=first.public_id, amount_fen=11_00,
                                            actor=member, reason="退一件", batch="ret-1")
    same = services.counter_wallet_refund(payment_id=first.public_id, amount_fen=11_00,
                                          actor=member, reason="退一件", batch="ret-1")
    assert refund.pk == same.pk and refund.status == "succeeded"
    assert sum(wallet(api)) == 110_00 - 22_00
    with pytest.raises(DomainError) as over:
        services.counter_wallet_refund(payment_id=first.public_id, amount_fen=22_01, actor=member,
                                       reason="too much")
    assert over.value.code == "refund_exceeds_paid"
    with pytest.raises(DomainError) as short:
        services.counter_wallet_charge(payer=member, amount_fen=1000_00, reference="sale-2", actor=member)
    assert short.value.code == "insufficient_balance"
    for bad in (0, -1):
        with pytest.raises(DomainError):
            services.counter_wallet_charge(payer=member, amount_fen=bad, reference="sale-3", actor=member)
    books_hold()
