"""Group-buy vouchers under real concurrent clients (threads, each with its own database
connection) on PostgreSQL: the deal's quota, one voucher at several counters, a refund racing
a redemption."""

from __future__ import annotations

from collections import Counter

import pytest

from linli.marketing.models import Voucher, VoucherDeal, VoucherPurchase, VoucherRedemption
from linli.orders.models import Order
from linli.payments.models import Refund
from tests.fixtures import make_staff, make_store, token_api
from tests.payments.helpers import books_hold, consumer
from tests.threads import run_concurrently

from .test_vouchers import bought, buy, make_deal, owner_api, redeem

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_thirty_buyers_for_the_last_ten_vouchers_exactly_ten_orders():
    deal = make_deal(make_store(), total_quota=40)
    VoucherDeal.objects.filter(pk=deal.pk).update(sold_count=30)
    apis = [consumer()[0] for _ in range(30)]
    answers = run_concurrently([lambda api=api: buy(api, deal) for api in apis])
    assert Counter(a.status_code for a in answers) == {201: 10, 409: 20}, [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"voucher_sold_out"}
    assert VoucherDeal.objects.get(pk=deal.pk).sold_count == 40
    assert Order.objects.filter(fulfilment="voucher").count() == VoucherPurchase.objects.count() == 10


def test_one_buyer_from_many_connections_stays_within_the_limit():
    deal = make_deal(make_store(), per_user_limit=2)
    api, user = consumer()
    apis = [token_api(user) for _ in range(8)]
    answers = run_concurrently([lambda api=api: buy(api, deal) for api in apis])
    assert Counter(a.status_code for a in answers) == {201: 2, 409: 6}
    assert VoucherDeal.objects.get(pk=deal.pk).sold_count == 2


def test_one_voucher_at_two_counters_at_once_is_redeemed_once():
    store = make_store()
    api, _ = consumer()
    deal = make_deal(store)
    tills = [token_api(make_staff(store, role="cashier")), owner_api(store)]
    for _round in range(5):
        code = bought(api, deal)[0]["code"]
        answers = run_concurrently([lambda t=t, i=i, code=code: redeem(t, store, code, counter=f"till-{i}")
                                    for i, t in enumerate(tills)])
        assert Counter(a.status_code for a in answers) == {201: 1, 409: 1}, [a.content for a in answers]
        assert {a.json()["code"] for a in answers if a.status_code == 409} == {"voucher_used_up"}
        voucher = Voucher.objects.get(code=code)
        assert (voucher.uses_left, voucher.status) == (0, "used")
        assert VoucherRedemption.objects.filter(voucher=voucher).count() == 1


def test_eight_counters_on_a_three_use_voucher_redeem_three_uses_never_below_zero():
    store = make_store()
    api, _ = consumer()
    code = bought(api, make_deal(store, uses_per_voucher=3))[0]["code"]
    owner = owner_api(store)
    answers = run_concurrently([lambda i=i: redeem(owner, store, code, counter=f"till-{i}") for i in range(8)])
    assert Counter(a.status_code for a in answers) == {201: 3, 409: 5}
    voucher = Voucher.objects.get(code=code)
    assert voucher.uses_left == 0
    assert sum(VoucherRedemption.objects.filter(voucher=voucher).values_list("amount_fen", flat=True)) == 8800


def test_a_refund_racing_a_redemption_lets_exactly_one_through():
    store = make_store()
    for _round in range(4):
        api, _ = consumer()
        voucher = bought(api, make_deal(store))[0]
        owner = owner_api(store)
        answers = run_concurrently([lambda: redeem(owner, store, voucher["code"]),
                                    lambda: api.post(f"/me/vouchers/{voucher['id']}/refund")])
        assert sorted(a.status_code for a in answers) in ([200, 409], [201, 409]), [a.content for a in answers]
        row = Voucher.objects.get(public_id=voucher["id"])
        redeemed = VoucherRedemption.objects.filter(voucher=row).count()
        refunded = Refund.objects.filter(payment__order__public_id=voucher["order_id"]).count()
        assert (redeemed, refunded) in ((1, 0), (0, 1))
        assert row.status == ("used" if redeemed else "refunded")
    books_hold()
