"""Offline upload: idempotent per sale id, totals recomputed, offline sales are facts
(stock short and expired member codes are conflicts, never dropped)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.member_codes import member_code_show
from linli.inventory.selectors import stock_ledger_audit
from linli.pos.models import Sale, SyncConflict
from linli.pos.points import points_balance
from tests.pos.helpers import Shop, member

pytestmark = pytest.mark.django_db


def statuses(answer) -> list[tuple[str, str, list[str]]]:
    assert answer.status_code == 200, answer.content
    return [(r["client_sale_id"], r["status"], r["reasons"]) for r in answer.json()["results"]]


def test_a_retried_batch_never_duplicates_and_a_changed_body_is_a_conflict():
    shop = Shop(stock=10)
    batch = [shop.offline_sale(sale_id=f"o{i}", quantity=1) for i in range(3)]
    assert statuses(shop.upload(batch)) == [(f"o{i}", "accepted", []) for i in range(3)]
    assert statuses(shop.upload(batch)) == [(f"o{i}", "duplicate", []) for i in range(3)]
    changed = shop.offline_sale(sale_id="o1", quantity=2)
    assert statuses(shop.upload([changed])) == [("o1", "conflict", ["sale_id_reused"])]
    assert Sale.objects.count() == 3 and shop.stock() == 7
    assert SyncConflict.objects.filter(reason="sale_id_reused").count() == 1


def test_duplicated_ids_inside_one_batch_and_tampered_totals():
    shop = Shop(stock=10)
    same = shop.offline_sale(sale_id="d1")
    tampered = shop.offline_sale(sale_id="t1", quantity=2, total_fen=1)
    answer = shop.upload([same, dict(same), tampered, shop.offline_sale(sale_id="d1", quantity=5)])
    assert statuses(answer) == [("d1", "accepted", []), ("d1", "duplicate", []),
                                ("t1", "rejected", ["total_mismatch"]), ("d1", "conflict", ["sale_id_reused"])]
    assert answer.json()["rejected"] == 1 and shop.stock() == 9
    kept = SyncConflict.objects.get(reason="total_mismatch")
    assert kept.details["body"]["client_sale_id"] == "t1" and kept.details["computed_fen"] == 2000
    assert statuses(shop.upload([tampered])) == [("t1", "rejected", ["total_mismatch"])]
    assert SyncConflict.objects.filter(reason="total_mismatch").count() == 1  # reported once
    listed = shop.manager.get(f"/pos/stores/{shop.store.public_id}/conflicts").json()
    assert {c["reason"] for c in listed} == {"total_mismatch", "sale_id_reused"}
    assert shop.cashier.get(f"/pos/stores/{shop.store.public_id}/conflicts").status_code == 403


def test_selling_past_the_stock_offline_is_recorded_as_a_conflict_and_the_count_stays_at_zero():
    shop = Shop(stock=2)
    answer = shop.upload([shop.offline_sale(sale_id="x1", quantity=3)])
    assert statuses(answer) == [("x1", "conflict", ["stock_short"])]
    assert shop.stock() == 0
    conflict = SyncConflict.objects.get(reason="stock_short")
    assert conflict.details == {"product_id": shop.product.public_id, "quantity": 3, "short": 1}
    assert conflict.sale.paid_fen == 3000
    assert all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())


def test_member_codes_offline_are_judged_at_the_sale_time():
    shop = Shop(stock=10)
    api, user = member()
    scanned_at = timezone.now() - timedelta(minutes=20)
    fresh = member_code_show(user=user, now=scanned_at).code
    ok = shop.offline_sale(sale_id="m1", quantity=2, code=fresh, at=scanned_at.isoformat())
    old = member_code_show(user=user, now=scanned_at - timedelta(minutes=5)).code
    late = shop.offline_sale(sale_id="m2", quantity=1, code=old, at=scanned_at.isoformat())
    answer = shop.upload([ok, late])
    assert statuses(answer) == [("m1", "accepted", []), ("m2", "conflict", ["member_code_expired"])]
    assert points_balance(user) == 20  # only the sale with a valid code earns
    assert Sale.objects.get(client_sale_id="m2").member is None
    reused = shop.offline_sale(sale_id="m3", quantity=1, code=fresh, at=scanned_at.isoformat())
    assert statuses(shop.upload([reused])) == [("m3", "conflict", ["member_code_used"])]


def test_price_differences_and_offline_wallet_are_reported():
    shop = Shop(stock=10)
    cheap = shop.offline_sale(sale_id="p1", unit_fen=1, quantity=1)
    wallet = dict(shop.offline_sale(sale_id="w1"), payment_method="wallet")
    bad_code = shop.offline_sale(sale_id="b1")
    bad_code["lines"][0]["barcode"] = bad_code["lines"][0]["barcode"][:12] + "0" \
        if bad_code["lines"][0]["barcode"][12] != "0" else bad_code["lines"][0]["barcode"][:12] + "1"
    answer = shop.upload([cheap, wallet, bad_code, {"lines": []}])
    assert statuses(answer) == [("p1", "conflict", ["price_differs"]),
                                ("w1", "rejected", ["offline_payment_not_allowed"]),
                                ("b1", "rejected", ["invalid_barcode"]),
                                ("", "rejected", ["invalid_sale"])]
    other = Shop()
    assert shop.upload([cheap], api=other.cashier).status_code == 404
    assert shop.upload([], api=shop.cashier).status_code == 422
