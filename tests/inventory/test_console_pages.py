"""The console's transfer and low-stock alert pages (`/m/transfers`, `/m/alerts`):
owner and manager only, each action through the test client, refusals shown with their
code and nothing moved."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.inventory.alerts import stock_threshold_set
from linli.inventory.models import StockAlert, StockTransfer, StockTransferEvent
from tests.fixtures import make_staff
from tests.web.helpers import web_password_login, web_sms_login

from .chain_helpers import make_chain
from .helpers import assert_balanced, counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    return make_chain((31.2304, 121.4737), (31.2400, 121.4800))


def _login(user) -> Client:
    return web_password_login(user.username, "m")


def _as_store(client: Client, store) -> None:
    assert client.get(f"/m/transfers?store={store.public_id}").status_code in (200, 403)


def _request(client: Client, to_store, product, quantity, key="k1"):
    return client.post("/m/transfers/new", {"to_store": to_store.public_id, "product-1": product.public_id,
                                            "qty-1": str(quantity), "request_key": key, "note": "补货"})


def test_request_ship_and_receive_with_a_shortfall_reason(chain):
    src_store, dst_store = chain.stores
    src, dst = chain.product(src_store, "MILK", stock=20), chain.product(dst_store, "MILK", stock=1)
    owner = _login(chain.owner)
    _as_store(owner, src_store)
    page = owner.get("/m/transfers")
    assert page.status_code == 200 and dst_store.public_id.encode() in page.content
    made = _request(owner, dst_store, src, 6)
    assert made.status_code == 302, made.content
    assert _request(owner, dst_store, src, 6).status_code == 302  # the same form twice: one transfer
    transfer = StockTransfer.objects.get()
    assert transfer.state == "requested" and transfer.note == "补货"
    assert owner.post(f"/m/transfers/{transfer.public_id}/ship", {"note": "van"}).status_code == 302
    assert counts(src) == (14, 0)
    _as_store(owner, dst_store)
    page = owner.get("/m/transfers")
    assert b'data-testid="receive-form"' in page.content
    missing_reason = owner.post(f"/m/transfers/{transfer.public_id}/receive", {f"received-{src.public_id}": "4"})
    assert missing_reason.status_code == 422 and b'data-code="loss_reason_required"' in missing_reason.content
    received = owner.post(f"/m/transfers/{transfer.public_id}/receive",
                          {f"received-{src.public_id}": "4", f"reason-{src.public_id}": "两瓶破损"})
    assert received.status_code == 302
    transfer.refresh_from_db()
    line = transfer.lines.get()
    assert transfer.state == "received" and line.received_quantity == 4 and line.loss_reason == "两瓶破损"
    assert counts(dst) == (5, 0)
    assert list(StockTransferEvent.objects.filter(transfer=transfer).values_list("action", "actor")) == [
        ("request", chain.owner.pk), ("ship", chain.owner.pk), ("receive", chain.owner.pk)]
    assert_balanced(src, dst)


def test_cancel_and_refusals_move_nothing(chain):
    src_store, dst_store = chain.stores
    src = chain.product(src_store, "TEA", stock=3)
    chain.product(dst_store, "TEA", stock=0)
    manager = _login(make_staff(src_store, role="manager"))
    _as_store(manager, src_store)
    too_many = _request(manager, dst_store, src, 5)
    assert too_many.status_code == 302
    transfer = StockTransfer.objects.get()
    short = manager.post(f"/m/transfers/{transfer.public_id}/ship")
    assert short.status_code == 409 and b'data-code="stock_insufficient"' in short.content
    bad_qty = manager.post("/m/transfers/new", {"to_store": dst_store.public_id, "product-1": src.public_id,
                                                "qty-1": "-2", "request_key": "k2"})
    assert bad_qty.status_code == 422 and b'data-code="invalid_input"' in bad_qty.content
    same = manager.post("/m/transfers/new", {"to_store": src_store.public_id, "product-1": src.public_id,
                                             "qty-1": "1", "request_key": "k3"})
    assert same.status_code == 422 and b'data-code="transfer_same_store"' in same.content
    assert manager.post(f"/m/transfers/{transfer.public_id}/explode").status_code == 422
    assert manager.post(f"/m/transfers/{transfer.public_id}/cancel").status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "cancelled" and counts(src) == (3, 0) and StockTransfer.objects.count() == 1
    again = manager.post(f"/m/transfers/{transfer.public_id}/ship")
    assert again.status_code == 409 and b'data-code="illegal_transition"' in again.content


def test_transfers_and_alerts_are_for_owner_and_manager_only(chain):
    src_store, dst_store = chain.stores
    src = chain.product(src_store, "RICE", stock=5)
    chain.product(dst_store, "RICE", stock=0)
    cashier = _login(make_staff(src_store, role="cashier"))
    assert cashier.get("/m/transfers").status_code == 403
    assert cashier.get("/m/alerts").status_code == 403
    assert b'data-testid="nav-transfers"' not in cashier.get("/m/pos").content
    assert _request(cashier, dst_store, src, 1).status_code == 403
    assert StockTransfer.objects.count() == 0
    assert web_sms_login("13800000777").get("/m/alerts").status_code == 403
    assert Client().get("/m/transfers")["Location"].startswith("/m/login")
    other = make_chain((31.3, 121.5))
    stranger = _login(other.owner)
    owner = _login(chain.owner)
    _as_store(owner, src_store)
    assert _request(owner, dst_store, src, 1).status_code == 302
    transfer = StockTransfer.objects.get()
    assert stranger.post(f"/m/transfers/{transfer.public_id}/ship").status_code == 404
    assert counts(src) == (5, 0)


def test_alerts_page_lists_open_alerts_links_history_and_acknowledges(chain, django_capture_on_commit_callbacks):
    store = chain.stores[0]
    milk = chain.product(store, "MILK", stock=3)
    with django_capture_on_commit_callbacks(execute=True):
        stock_threshold_set(actor=chain.owner, product_id=milk.public_id, threshold=10)
    alert = StockAlert.objects.get()
    manager_user = make_staff(store, role="manager")
    manager = _login(manager_user)
    manager.get(f"/m/alerts?store={store.public_id}")
    page = manager.get("/m/alerts")
    assert page.status_code == 200 and alert.public_id.encode() in page.content
    assert f"/m/stock/{milk.public_id}".encode() in page.content and b'data-testid="alert-ack"' in page.content
    assert manager.get(f"/m/stock/{milk.public_id}").status_code == 200
    done = manager.post(f"/m/alerts/{alert.public_id}/acknowledge")
    assert done.status_code == 302 and done["Location"] == "/m/alerts"
    alert.refresh_from_db()
    assert alert.acknowledged_by == manager_user and alert.acknowledged_at and alert.resolved_at is None
    first = alert.acknowledged_at
    assert manager.post(f"/m/alerts/{alert.public_id}/acknowledge").status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at == first
    assert b'data-testid="alert-ack"' not in manager.get("/m/alerts").content
    cashier = _login(make_staff(store, role="cashier"))
    assert cashier.post(f"/m/alerts/{alert.public_id}/acknowledge").status_code == 403
    stranger = _login(make_chain((31.3, 121.5)).owner)
    assert stranger.post(f"/m/alerts/{alert.public_id}/acknowledge").status_code == 404
    assert manager.post("/m/alerts/sal_nope/acknowledge").status_code == 404
    api = chain.api.post(f"/merchant/alerts/{alert.public_id}/acknowledge", {})
    assert api.status_code == 200 and api.json()["acknowledged_by"] == manager_user.public_id
