"""Resolving offline conflicts: owner/manager only, the actions each documented rule
allows, who and when recorded, a rejected total_mismatch accepted at the server's price
or voided."""

from __future__ import annotations

import pytest

from linli.inventory.selectors import stock_ledger_audit
from linli.pos.models import Sale, SaleEvent, SyncConflict
from tests.pos.helpers import Shop

pytestmark = pytest.mark.django_db


def _open(shop: Shop, api=None) -> list[dict]:
    answer = (api or shop.manager).get(f"/pos/stores/{shop.store.public_id}/conflicts")
    assert answer.status_code == 200, answer.content
    return answer.json()


def _resolve(api, conflict_id: str, action: str, note: str = ""):
    return api.post(f"/pos/conflicts/{conflict_id}/resolve", {"action": action, "note": note})


def test_stock_short_is_acknowledged_once_with_who_and_when():
    shop = Shop(stock=1)
    shop.upload([shop.offline_sale(sale_id="o1", quantity=3)])
    [conflict] = _open(shop)
    assert conflict["reason"] == "stock_short" and conflict["actions"] == ["acknowledge"]
    wrong = _resolve(shop.manager, conflict["id"], "void")
    assert wrong.status_code == 422 and wrong.json()["code"] == "conflict_action_not_allowed"
    done = _resolve(shop.owner, conflict["id"], "acknowledge", "stocktake done")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["resolution"] == "acknowledged" and body["resolution_note"] == "stocktake done"
    assert body["resolved_at"] and body["actions"] == []
    row = SyncConflict.objects.get(public_id=conflict["id"])
    assert row.resolved_by.pk == shop.store.merchant.members.get(role="owner").user.pk
    again = _resolve(shop.manager, conflict["id"], "acknowledge")
    assert again.status_code == 409 and again.json()["code"] == "conflict_resolved"
    assert _open(shop) == []


def test_only_owner_and_manager_resolve_and_strangers_learn_nothing():
    shop, other = Shop(stock=0), Shop()
    shop.upload([shop.offline_sale(sale_id="o1")])
    [conflict] = _open(shop)
    denied = _resolve(shop.cashier, conflict["id"], "acknowledge")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    assert shop.cashier.get(f"/pos/stores/{shop.store.public_id}/conflicts").status_code == 403
    hidden = _resolve(other.manager, conflict["id"], "acknowledge")
    assert hidden.status_code == 404 and hidden.json()["code"] == "conflict_not_found"
    assert _resolve(shop.manager, "scf_nope", "acknowledge").json()["code"] == "conflict_not_found"
    bad = _resolve(shop.manager, conflict["id"], "delete")
    assert bad.status_code == 422
    long_note = _resolve(shop.manager, conflict["id"], "acknowledge", "x" * 201)
    assert long_note.status_code == 422
    assert SyncConflict.objects.get(public_id=conflict["id"]).resolved_at is None


def test_a_rejected_total_mismatch_is_accepted_at_the_servers_price():
    shop = Shop(stock=10, price_fen=1000)
    tampered = shop.offline_sale(sale_id="t1", quantity=2, total_fen=1)
    assert shop.upload([tampered]).json()["results"][0]["status"] == "rejected"
    [conflict] = _open(shop)
    assert conflict["reason"] == "total_mismatch" and conflict["actions"] == ["accept_server_price", "void"]
    assert shop.stock() == 10
    done = _resolve(shop.manager, conflict["id"], "accept_server_price", "till clock wrong")
    assert done.status_code == 200, done.content
    sale = Sale.objects.get(public_id=done.json()["sale_id"])
    assert sale.total_fen == 2000 and sale.paid_fen == 2000 and sale.offline and sale.client_sale_id == "t1"
    assert shop.stock() == 8
    assert SaleEvent.objects.get(sale=sale).actor == shop.manager_user
    # the till uploading the same body again learns it is settled; no second sale
    assert shop.upload([tampered]).json()["results"][0]["status"] == "duplicate"
    assert Sale.objects.count() == 1
    assert all(a.balanced for a in stock_ledger_audit([shop.product.pk]).values())


def test_a_rejected_sale_is_voided_and_nothing_is_recorded():
    shop = Shop(stock=10)
    shop.upload([shop.offline_sale(sale_id="t2", total_fen=5), dict(shop.offline_sale(sale_id="w1"),
                                                                   payment_method="wallet")])
    by_reason = {c["reason"]: c for c in _open(shop)}
    assert by_reason["offline_payment_not_allowed"]["actions"] == ["void"]
    assert _resolve(shop.manager, by_reason["offline_payment_not_allowed"]["id"],
                    "accept_server_price").status_code == 422
    for conflict in by_reason.values():
        assert _resolve(shop.manager, conflict["id"], "void").json()["resolution"] == "voided"
    assert Sale.objects.count() == 0 and shop.stock() == 10 and _open(shop) == []
