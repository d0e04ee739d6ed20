"""POST /chains/{merchant}/route and /reroute: the chain's stores as they are (stock, hours,
pause, delivery area), answered with the store(s) to order at and why."""

from __future__ import annotations

import pytest

from linli.inventory.services import stock_set
from linli.merchants.models import Store
from tests.fixtures import Api, make_product

from .chain_helpers import make_chain

pytestmark = pytest.mark.django_db

DROP = {"lat": 31.2304, "lng": 121.4737}
NEAR, MID, FAR = (31.2310, 121.4740), (31.2350, 121.4760), (31.2450, 121.4800)


@pytest.fixture
def chain():
    chain = make_chain(NEAR, MID, FAR)
    near, mid, far = chain.stores
    chain.product(near, "TEA", stock=1)
    chain.product(near, "CAKE", stock=0)
    for store in (mid, far):
        chain.product(store, "TEA", stock=5)
        chain.product(store, "CAKE", stock=5)
    return chain


def _route(chain, items, path="route", **extra):
    return Api(chain.api.token).post(f"/chains/{chain.merchant.public_id}/{path}",
                                     {"items": items, **DROP, **extra})


def test_the_nearest_store_with_everything_is_chosen_with_product_ids_to_order(chain):
    near, mid, far = chain.stores
    answer = _route(chain, [{"sku": "TEA", "quantity": 2}, {"sku": "CAKE", "quantity": 1}])
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["kind"], body["why"]) == ("single", "nearest_with_all_items")
    chosen = body["stores"][0]
    assert chosen["store_id"] == mid.public_id
    tea = mid.products.get(chain_sku__sku="TEA")
    assert {"sku": "TEA", "product_id": tea.public_id, "quantity": 2} in chosen["items"]
    others = {o["store_id"]: o for o in body["others"]}
    assert others[near.public_id]["reason"] == "missing_items"
    assert others[near.public_id]["missing"] == ["CAKE", "TEA"]
    assert others[far.public_id]["reason"] == "farther"


def test_items_by_any_stores_product_id_and_reroute_after_a_refusal(chain):
    near, mid, far = chain.stores
    tea_at_near = near.products.get(chain_sku__sku="TEA")
    items = [{"product_id": tea_at_near.public_id, "quantity": 1}]
    assert _route(chain, items).json()["stores"][0]["store_id"] == near.public_id
    again = _route(chain, items, path="reroute", rejected_store=near.public_id).json()
    assert again["stores"][0]["store_id"] == mid.public_id
    last = _route(chain, items, path="reroute", rejected_store=mid.public_id, exclude=[near.public_id]).json()
    assert last["stores"][0]["store_id"] == far.public_id
    none = _route(chain, items, path="reroute", rejected_store=far.public_id,
                  exclude=[near.public_id, mid.public_id]).json()
    assert none["kind"] == "none" and none["stores"] == []
    assert {o["reason"] for o in none["others"]} == {"excluded"}


def test_paused_and_sold_out_stores_are_passed_over_and_split_needs_consent(chain):
    near, mid, far = chain.stores
    Store.objects.filter(pk=far.pk).update(status=Store.Status.PAUSED)
    stock_set(product=mid.products.get(chain_sku__sku="TEA"), quantity=1)
    items = [{"sku": "TEA", "quantity": 2}, {"sku": "CAKE", "quantity": 1}]
    body = _route(chain, items).json()
    assert body["kind"] == "none"
    assert {o["store_id"]: o["reason"] for o in body["others"]}[far.public_id] == "closed"
    split = _route(chain, items, allow_split=True).json()
    assert (split["kind"], split["why"]) == ("split", "split_no_single_store")
    legs = {s["store_id"]: {i["sku"]: i["quantity"] for i in s["items"]} for s in split["stores"]}
    assert legs == {near.public_id: {"TEA": 1}, mid.public_id: {"TEA": 1, "CAKE": 1}}


def test_out_of_range_stores_are_not_chosen(chain):
    body = Api(chain.api.token).post(f"/chains/{chain.merchant.public_id}/route",
                                     {"items": [{"sku": "TEA", "quantity": 1}], "lat": 31.40, "lng": 121.60}).json()
    assert body["kind"] == "none" and {o["reason"] for o in body["others"]} == {"out_of_range"}


@pytest.mark.parametrize("case,status,code", [
    ("unknown_merchant", 404, "merchant_not_found"), ("unknown_sku", 422, "unknown_sku"),
    ("no_sku", 422, "product_has_no_sku"), ("both", 422, "invalid_cart"), ("neither", 422, "invalid_cart"),
    ("zero", 422, "invalid_input"), ("empty", 422, "invalid_input"), ("bad_lat", 422, "invalid_input"),
    ("rejected_elsewhere", 404, "store_not_found"), ("anonymous", 401, "not_authenticated"),
])
def test_bad_route_requests(chain, case, status, code):
    near = chain.stores[0]
    body = {"items": [{"sku": "TEA", "quantity": 1}], **DROP}
    path, api = f"/chains/{chain.merchant.public_id}/route", Api(chain.api.token)
    if case == "unknown_merchant":
        path = "/chains/mch_nope/route"
    elif case == "unknown_sku":
        body["items"] = [{"sku": "NOPE", "quantity": 1}]
    elif case == "no_sku":
        body["items"] = [{"product_id": make_product(near, name="无码", stock=3).public_id, "quantity": 1}]
    elif case == "both":
        body["items"] = [{"sku": "TEA", "product_id": "prd_x", "quantity": 1}]
    elif case == "neither":
        body["items"] = [{"quantity": 1}]
    elif case == "zero":
        body["items"] = [{"sku": "TEA", "quantity": 0}]
    elif case == "empty":
        body["items"] = []
    elif case == "bad_lat":
        body["lat"] = 91
    elif case == "rejected_elsewhere":
        path = f"/chains/{chain.merchant.public_id}/reroute"
        body["rejected_store"] = make_chain(NEAR).stores[0].public_id
    elif case == "anonymous":
        api = Api()
    answer = api.post(path, body)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.content


def test_chain_sku_rules(chain):
    near = chain.stores[0]
    loose = make_product(near, name="散货", stock=1)
    put = chain.api.client.put
    headers = {"Authorization": f"Bearer {chain.api.token}"}
    taken = put(f"/api/v1/merchant/stock/{loose.public_id}/sku", {"sku": "TEA"},
                content_type="application/json", headers=headers)
    assert taken.status_code == 409 and taken.json()["code"] == "sku_taken"
    bad = put(f"/api/v1/merchant/stock/{loose.public_id}/sku", {"sku": "有 空格"},
              content_type="application/json", headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_sku"
    ok = put(f"/api/v1/merchant/stock/{loose.public_id}/sku", {"sku": "BULK-1"},
             content_type="application/json", headers=headers)
    assert ok.json() == {"product_id": loose.public_id, "sku": "BULK-1"}
    cleared = put(f"/api/v1/merchant/stock/{loose.public_id}/sku", {"sku": None},
                  content_type="application/json", headers=headers)
    assert cleared.json()["sku"] is None
    stranger = make_chain(NEAR).api
    refused = stranger.client.put(f"/api/v1/merchant/stock/{loose.public_id}/sku", {"sku": "X"},
                                  content_type="application/json",
                                  headers={"Authorization": f"Bearer {stranger.token}"})
    assert refused.status_code == 404
