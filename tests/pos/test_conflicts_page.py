"""The offline conflicts page (`/m/pos/conflicts`): owner and manager see the open
conflicts with the rule applied and resolve them with the allowed actions; cashiers and
strangers are refused."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.pos.models import Sale, SyncConflict
from tests.pos.helpers import Shop
from tests.web.helpers import web_password_login

pytestmark = pytest.mark.django_db


def _staff(user) -> Client:
    return web_password_login(user.username, "m")


def test_manager_sees_open_conflicts_and_acknowledges_one():
    shop = Shop(stock=1)
    shop.upload([shop.offline_sale(sale_id="o1", quantity=3)])
    conflict = SyncConflict.objects.get()
    manager = _staff(shop.manager_user)
    page = manager.get("/m/pos/conflicts")
    assert page.status_code == 200
    assert conflict.public_id.encode() in page.content and b'data-testid="resolve-acknowledge"' in page.content
    assert f"/m/stock/{shop.product.public_id}".encode() in page.content
    assert b'data-testid="resolve-void"' not in page.content
    done = manager.post(f"/m/pos/conflicts/{conflict.public_id}/resolve", {"action": "acknowledge", "note": "盘点"})
    assert done.status_code == 302 and done["Location"] == "/m/pos/conflicts"
    conflict.refresh_from_db()
    assert conflict.resolution == "acknowledged" and conflict.resolved_by == shop.manager_user
    assert conflict.resolution_note == "盘点"
    after = manager.get("/m/pos/conflicts")
    assert b'data-testid="no-conflicts"' in after.content and b'data-testid="resolved"' in after.content


def test_refusals_show_their_code_and_change_nothing():
    shop = Shop(stock=10)
    shop.upload([shop.offline_sale(sale_id="t1", total_fen=3)])
    conflict = SyncConflict.objects.get()
    manager = _staff(shop.manager_user)
    wrong = manager.post(f"/m/pos/conflicts/{conflict.public_id}/resolve", {"action": "acknowledge"})
    assert wrong.status_code == 422 and b'data-code="conflict_action_not_allowed"' in wrong.content
    assert manager.post("/m/pos/conflicts/scf_nope/resolve", {"action": "void"}).status_code == 404
    accepted = manager.post(f"/m/pos/conflicts/{conflict.public_id}/resolve", {"action": "accept_server_price"})
    assert accepted.status_code == 302
    assert Sale.objects.get().total_fen == shop.product.price_fen and shop.stock() == 9
    twice = manager.post(f"/m/pos/conflicts/{conflict.public_id}/resolve", {"action": "void"})
    assert twice.status_code == 409 and b'data-code="conflict_resolved"' in twice.content
    assert Sale.objects.count() == 1


def test_cashiers_strangers_and_visitors_are_refused():
    shop, other = Shop(stock=0), Shop()
    shop.upload([shop.offline_sale(sale_id="o1")])
    conflict = SyncConflict.objects.get()
    cashier = _staff(shop.cashier_user)
    assert cashier.get("/m/pos/conflicts").status_code == 403
    assert b"/m/pos/conflicts" not in cashier.get("/m/pos").content
    assert cashier.post(f"/m/pos/conflicts/{conflict.public_id}/resolve", {"action": "acknowledge"}).status_code == 403
    stranger = _staff(other.manager_user)
    assert conflict.public_id.encode() not in stranger.get("/m/pos/conflicts").content
    assert stranger.post(f"/m/pos/conflicts/{conflict.public_id}/resolve",
                         {"action": "acknowledge"}).status_code == 404
    assert Client().get("/m/pos/conflicts")["Location"].startswith("/m/login")
    assert SyncConflict.objects.get().resolved_at is None
