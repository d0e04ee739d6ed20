"""Stock transfers between two stores of one merchant, through the API: the state table,
the ledger at both ends, losses, events, roles and bad input."""

from __future__ import annotations

import pytest

from linli.inventory.models import StockMovement, StockTransfer, StockTransferEvent
from tests.fixtures import make_product, make_store

from .chain_helpers import make_chain, member_api
from .helpers import assert_balanced, counts, movements

pytestmark = pytest.mark.django_db

A, B = (31.2304, 121.4737), (31.2400, 121.4800)


@pytest.fixture
def chain():
    return make_chain(A, B)


@pytest.fixture
def goods(chain):
    return chain.product(chain.stores[0], "MILK-1L", stock=20), chain.product(chain.stores[1], "MILK-1L", stock=3)


def _request(chain, lines, headers=None):
    body = {"from_store": chain.stores[0].public_id, "to_store": chain.stores[1].public_id, "lines": lines}
    return chain.api.post("/merchant/transfers", body, headers=headers)


def test_ship_then_receive_moves_the_units_and_both_ledgers_balance(chain, goods):
    src, dst = goods
    created = _request(chain, [{"product_id": src.public_id, "quantity": 5}])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "requested" and body["lines"][0]["to_product_id"] == dst.public_id
    assert counts(src) == (20, 0)  # nothing moves on request

    shipped = chain.api.post(f"/merchant/transfers/{body['id']}/ship", {"note": "van 1"})
    assert shipped.status_code == 200 and shipped.json()["state"] == "shipped"
    assert counts(src) == (15, 0) and counts(dst) == (3, 0)
    transit = chain.api.get(f"/merchant/stock/{src.public_id}/in-transit").json()
    assert (transit["outgoing"], transit["incoming"], transit["transfers"]) == (5, 0, [body["id"]])
    assert chain.api.get(f"/merchant/stock/{dst.public_id}/in-transit").json()["incoming"] == 5

    received = chain.api.post(f"/merchant/transfers/{body['id']}/receive", {})
    assert received.status_code == 200 and received.json()["state"] == "received"
    assert counts(src) == (15, 0) and counts(dst) == (8, 0)
    assert movements(src, reason="transfer_out") == [("transfer_out", -5, 0)]
    assert movements(dst, reason__startswith="transfer") == [("transfer_in", 5, 0)]
    assert chain.api.get(f"/merchant/stock/{src.public_id}/in-transit").json()["outgoing"] == 0
    events = received.json()["events"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("request", "", "requested"), ("ship", "requested", "shipped"), ("receive", "shipped", "received")]
    assert all(e["actor"] == chain.owner.public_id and e["at"] for e in events)
    assert events[1]["note"] == "van 1"
    assert_balanced(src, dst)


def test_a_short_receipt_records_the_loss_with_its_reason(chain, goods):
    src, dst = goods
    tid = _request(chain, [{"product_id": src.public_id, "quantity": 6}]).json()["id"]
    chain.api.post(f"/merchant/transfers/{tid}/ship", {})
    no_reason = chain.api.post(f"/merchant/transfers/{tid}/receive",
                               {"lines": [{"product_id": src.public_id, "received": 4}]})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "loss_reason_required"
    assert StockTransfer.objects.get(public_id=tid).state == "shipped"  # nothing happened
    answer = chain.api.post(f"/merchant/transfers/{tid}/receive", {
        "lines": [{"product_id": src.public_id, "received": 4, "loss_reason": "两盒压坏"}]})
    assert answer.status_code == 200, answer.content
    line = answer.json()["lines"][0]
    assert (line["quantity"], line["received"], line["loss_reason"]) == (6, 4, "两盒压坏")
    assert counts(dst) == (7, 0)
    assert movements(dst, reason__startswith="transfer") == [("transfer_in", 6, 0), ("transfer_loss", -2, 0)]
    assert_balanced(src, dst)


def test_shipping_more_than_the_source_has_is_refused_and_nothing_moves(chain, goods):
    src, dst = goods
    tid = _request(chain, [{"product_id": src.public_id, "quantity": 21}]).json()["id"]
    answer = chain.api.post(f"/merchant/transfers/{tid}/ship", {})
    assert answer.status_code == 409 and answer.json()["code"] == "stock_insufficient"
    assert answer.json()["details"] == {"product_id": src.public_id, "requested": 21, "available": 20}
    assert counts(src) == (20, 0)
    assert StockTransfer.objects.get(public_id=tid).state == "requested"
    assert not StockMovement.objects.filter(reference=tid).exists()


def test_cancel_only_before_shipping_and_every_step_only_once(chain, goods):
    src, _dst = goods
    first = _request(chain, [{"product_id": src.public_id, "quantity": 1}]).json()["id"]
    assert chain.api.post(f"/merchant/transfers/{first}/cancel", {"note": "不要了"}).json()["state"] == "cancelled"
    for step in ("ship", "receive", "cancel"):
        answer = chain.api.post(f"/merchant/transfers/{first}/{step}", {})
        assert answer.status_code == 409 and answer.json()["code"] == "illegal_transition"
    second = _request(chain, [{"product_id": src.public_id, "quantity": 1}]).json()["id"]
    assert chain.api.post(f"/merchant/transfers/{second}/receive", {}).status_code == 409  # not shipped
    chain.api.post(f"/merchant/transfers/{second}/ship", {})
    assert chain.api.post(f"/merchant/transfers/{second}/ship", {}).json()["code"] == "illegal_transition"
    assert chain.api.post(f"/merchant/transfers/{second}/cancel", {}).json()["code"] == "illegal_transition"
    assert counts(src) == (19, 0)
    assert StockTransferEvent.objects.filter(transfer__public_id=second).count() == 2


def test_a_retry_with_the_same_idempotency_key_returns_the_first_transfer(chain, goods):
    src, _dst = goods
    lines = [{"product_id": src.public_id, "quantity": 2}]
    one = _request(chain, lines, headers={"Idempotency-Key": "t-1"})
    two = _request(chain, lines, headers={"Idempotency-Key": "t-1"})
    assert (one.status_code, two.status_code) == (201, 200) and one.json()["id"] == two.json()["id"]
    other = _request(chain, [{"product_id": src.public_id, "quantity": 3}], headers={"Idempotency-Key": "t-1"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert StockTransfer.objects.count() == 1


def test_cashiers_may_not_move_stock_and_strangers_see_nothing(chain, goods):
    src, _dst = goods
    tid = _request(chain, [{"product_id": src.public_id, "quantity": 1}]).json()["id"]
    cashier = member_api(chain.stores[0], "cashier")
    refused = cashier.post(f"/merchant/transfers/{tid}/ship", {})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert _request_as(cashier, chain, src).status_code == 403
    manager = member_api(chain.stores[0], "manager")
    assert manager.post(f"/merchant/transfers/{tid}/ship", {}).status_code == 200
    stranger = make_chain(A)
    answer = stranger.api.get(f"/merchant/transfers/{tid}")
    assert answer.status_code == 404 and answer.json()["code"] == "transfer_not_found"
    assert stranger.api.post(f"/merchant/transfers/{tid}/receive", {}).status_code == 404
    assert [t["id"] for t in chain.api.get("/merchant/transfers").json()] == [tid]
    assert stranger.api.get("/merchant/transfers").json() == []


def _request_as(api, chain, src):
    return api.post("/merchant/transfers", {"from_store": chain.stores[0].public_id,
                                           "to_store": chain.stores[1].public_id,
                                           "lines": [{"product_id": src.public_id, "quantity": 1}]})


@pytest.mark.parametrize("case", ["same_store", "other_merchant", "not_in_source", "unmatched", "duplicate",
                                  "zero", "too_many", "unlimited", "no_lines", "unknown_store"])
def test_bad_transfer_requests_are_refused_with_a_code(chain, goods, case):
    src, dst = goods
    a, b = chain.stores
    lines = [{"product_id": src.public_id, "quantity": 1}]
    body = {"from_store": a.public_id, "to_store": b.public_id, "lines": lines}
    expected = {"same_store": (422, "transfer_same_store"), "other_merchant": (404, "store_not_found"),
                "not_in_source": (422, "invalid_transfer_lines"), "unmatched": (422, "transfer_product_unmatched"),
                "duplicate": (422, "invalid_transfer_lines"), "zero": (422, "invalid_input"),
                "too_many": (422, "invalid_input"), "unlimited": (422, "transfer_product_not_counted"),
                "no_lines": (422, "invalid_input"), "unknown_store": (404, "store_not_found")}[case]
    if case == "same_store":
        body["to_store"] = a.public_id
    elif case == "other_merchant":
        body["to_store"] = make_store(name="别家").public_id
    elif case == "not_in_source":
        body["lines"] = [{"product_id": dst.public_id, "quantity": 1}]
    elif case == "unmatched":
        body["lines"] = [{"product_id": make_product(a, name="无码货", stock=5).public_id, "quantity": 1}]
    elif case == "duplicate":
        body["lines"] = lines * 2
    elif case == "zero":
        body["lines"] = [{"product_id": src.public_id, "quantity": 0}]
    elif case == "too_many":
        body["lines"] = [{"product_id": src.public_id, "quantity": 100_001}]
    elif case == "unlimited":
        from linli.inventory.services import stock_set
        stock_set(product=src, quantity=0, unlimited=True)
    elif case == "no_lines":
        body["lines"] = []
    elif case == "unknown_store":
        body["from_store"] = "sto_nope"
    answer = chain.api.post("/merchant/transfers", body)
    assert (answer.status_code, answer.json()["code"]) == expected, answer.content
    assert StockTransfer.objects.count() == 0


def test_explicit_destination_product_and_bad_received_quantities(chain, goods):
    src, _dst = goods
    other = make_product(chain.stores[1], name="另一种奶", stock=0)
    tid = _request(chain, [{"product_id": src.public_id, "quantity": 3, "to_product_id": other.public_id}]).json()["id"]
    chain.api.post(f"/merchant/transfers/{tid}/ship", {})
    for bad in ({"product_id": src.public_id, "received": 4}, {"product_id": other.public_id, "received": 1}):
        answer = chain.api.post(f"/merchant/transfers/{tid}/receive", {"lines": [bad]})
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_received_quantity"
    negative = chain.api.post(f"/merchant/transfers/{tid}/receive", {"lines": [{"product_id": src.public_id,
                                                                                "received": -1}]})
    assert negative.status_code == 422
    assert chain.api.post(f"/merchant/transfers/{tid}/receive", {}).status_code == 200
    assert counts(other) == (3, 0)
    assert_balanced(src, other)


def test_the_stock_history_answer_pages_the_ledger(chain, goods):
    src, _dst = goods
    from linli.inventory.services import stock_restock
    for _ in range(55):
        stock_restock(product=src, quantity=1, actor=chain.owner)
    first = chain.api.get(f"/merchant/stock/{src.public_id}/history").json()
    assert (first["available"], first["held"], first["page"], first["pages"]) == (75, 0, 1, 2)
    assert len(first["movements"]) == 50 and first["movements"][0]["reason"] == "restock"
    last = chain.api.get(f"/merchant/stock/{src.public_id}/history", {"page": 2}).json()
    assert [m["reason"] for m in last["movements"]][-1] == "adjust" and len(last["movements"]) == 6
    assert chain.api.get(f"/merchant/stock/{src.public_id}/history", {"page": 0}).status_code == 422
    assert make_chain(A).api.get(f"/merchant/stock/{src.public_id}/history").status_code == 404
