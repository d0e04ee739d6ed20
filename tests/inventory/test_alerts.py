"""Low-stock alerts: any movement that takes available below the threshold opens one
alert (order, stocktake, transfer), no second one until a restock resolves it."""

from __future__ import annotations

import pytest

from linli.core.realtime import subscribe
from linli.inventory.alerts import stock_alerts_check
from linli.inventory.models import StockAlert
from linli.inventory.services import stock_restock, stock_set
from tests.fixtures import sms_login

from .chain_helpers import make_chain, member_api
from .helpers import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    return make_chain((31.2304, 121.4737), (31.2400, 121.4800))


def _threshold(chain, product, threshold):
    return chain.api.client.put(f"/api/v1/merchant/stock/{product.public_id}/threshold", {"threshold": threshold},
                                content_type="application/json",
                                headers={"Authorization": f"Bearer {chain.api.token}"})


def _alerts(chain, store, **params):
    return chain.api.get(f"/merchant/stores/{store.public_id}/alerts", params)


def test_orders_crossing_below_alert_once_until_restocked(chain, django_capture_on_commit_callbacks):
    store = chain.stores[0]
    milk = chain.product(store, "MILK", stock=12)
    assert _threshold(chain, milk, 10).json() == {"product_id": milk.public_id, "threshold": 10}
    assert _alerts(chain, store).json() == []
    buyer, _ = sms_login("+8613911110000")
    assert place(buyer, store, [(milk, 2)], "o1").status_code == 201  # 10: not below
    assert _alerts(chain, store).json() == []
    with subscribe(f"stores.{store.public_id}") as feed:
        assert place(buyer, store, [(milk, 1)], "o2").status_code == 201  # 9: below
        event = feed.get(timeout=1)
    assert place(buyer, store, [(milk, 1)], "o3").status_code == 201  # 8: still below, no second
    alerts = _alerts(chain, store).json()
    assert len(alerts) == 1 and (alerts[0]["available"], alerts[0]["threshold"]) == (9, 10)
    assert event["type"] == "stock_alert" and event["product_id"] == milk.public_id
    with django_capture_on_commit_callbacks(execute=True):
        stock_restock(product=milk, quantity=1)  # 9: still below: nothing
    assert StockAlert.objects.get().resolved_at is None
    with django_capture_on_commit_callbacks(execute=True):
        stock_restock(product=milk, quantity=5)  # 14: resolved
    assert StockAlert.objects.get().resolved_at is not None and _alerts(chain, store, open=True).json() == []
    with django_capture_on_commit_callbacks(execute=True):
        stock_set(product=milk, quantity=3, actor=chain.owner)  # stocktake below again: a new alert
    assert [a["available"] for a in _alerts(chain, store).json()] == [3, 9]


def test_a_transfer_out_alerts_the_source_and_setting_a_threshold_above_the_count_alerts_at_once(chain):
    a, b = chain.stores
    src, dst = chain.product(a, "RICE", stock=10), chain.product(b, "RICE", stock=1)
    _threshold(chain, src, 5)
    _threshold(chain, dst, 3)  # already below: alerted when set
    assert [x["product_id"] for x in _alerts(chain, b).json()] == [dst.public_id]
    tid = chain.api.post("/merchant/transfers", {"from_store": a.public_id, "to_store": b.public_id,
                                                 "lines": [{"product_id": src.public_id, "quantity": 6}]}).json()["id"]
    chain.api.post(f"/merchant/transfers/{tid}/ship", {})
    assert [x["available"] for x in _alerts(chain, a, open=True).json()] == [4]
    chain.api.post(f"/merchant/transfers/{tid}/receive", {})
    assert _alerts(chain, b, open=True).json() == []  # 7 >= 3: resolved by the receipt


def test_the_check_is_idempotent_and_ignores_products_without_a_threshold(chain):
    store = chain.stores[0]
    milk = chain.product(store, "MILK", stock=1)
    assert stock_alerts_check([milk.pk]) == []
    _threshold(chain, milk, 2)
    assert StockAlert.objects.count() == 1
    assert stock_alerts_check([milk.pk]) == [] and StockAlert.objects.count() == 1


def test_threshold_rules_and_roles(chain):
    store = chain.stores[0]
    milk = chain.product(store, "MILK", stock=1)
    for bad in (0, -1, 1_000_001, True, "3"):
        answer = _threshold(chain, milk, bad)
        assert answer.status_code == 422, bad
    assert _threshold(chain, milk, None).json()["threshold"] is None
    cashier = member_api(store, "cashier")
    refused = cashier.client.put(f"/api/v1/merchant/stock/{milk.public_id}/threshold", {"threshold": 3},
                                 content_type="application/json", headers={"Authorization": f"Bearer {cashier.token}"})
    assert refused.status_code == 403
    assert cashier.get(f"/merchant/stores/{store.public_id}/alerts").status_code == 200  # may read them
    stranger = make_chain((31.2304, 121.4737)).api
    assert stranger.get(f"/merchant/stores/{store.public_id}/alerts").status_code == 404
