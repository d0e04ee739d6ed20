"""The order lifecycle (issue 5): cancellation rules by state, cancel requests the store
answers, merchant rejection with a reason, cancelled-after-payment orders going through
refunding to refunded via the payments app, and the order's extras (utensils, invoice)."""

from __future__ import annotations

import pytest

from linli.delivery.models import DeliveryTask
from linli.inventory.models import StockItem
from linli.orders.models import Order, OrderEvent, StoreOrderSettings
from linli.orders.states import ORDER_MACHINE, S
from linli.payments.models import Refund
from tests.fixtures import make_product, make_store
from tests.orders.lifecycle_helpers import buyer, merchant, operator, paid_order, place, put

pytestmark = pytest.mark.django_db

USCC = "91350100M000100Y43"  # a unified social credit code with a correct check character


@pytest.fixture
def shop():
    store = make_store()
    return store, make_product(store, price_fen=2000, stock=10)


def _stock(product) -> int:
    return StockItem.objects.get(product=product).quantity


def _error(answer, status: int, code: str) -> None:
    assert answer.status_code == status, answer.content
    assert answer.json()["code"] == code, answer.json()


def _events(order_id: str) -> list[tuple[str, str, str, str]]:
    return list(OrderEvent.objects.filter(order__public_id=order_id).values_list(
        "action", "from_status", "to_status", "actor_role"))


# --- the table -------------------------------------------------------------------------

def test_every_paid_cancellation_goes_to_refunding_and_only_the_system_completes_a_refund():
    for t in ORDER_MACHINE.transitions:
        if t.source != S.PENDING_PAYMENT and t.action in ("cancel", "reject", "approve_cancel"):
            assert t.target == S.REFUNDING, t
    assert ORDER_MACHINE.find(action="cancel", source=S.PENDING_PAYMENT).target == S.CANCELLED
    done = ORDER_MACHINE.find(action="refund_complete", source=S.REFUNDING)
    assert done.target == S.REFUNDED and done.roles == {"system"}
    assert not [t for t in ORDER_MACHINE.transitions if t.source == S.REFUNDED]
    assert not [t for t in ORDER_MACHINE.transitions if t.source in S.TOO_LATE_TO_CANCEL
                and "consumer" in t.roles and t.action in ("cancel", "request_cancel")]


# --- consumer cancels freely before accept ------------------------------------------------

def test_cancelling_an_unpaid_order_ends_cancelled_with_nothing_to_refund(shop):
    store, product = shop
    api = buyer()
    order = place(api, store, product, key="u").json()
    answer = api.post(f"/orders/{order['id']}/cancel", {"note": "点错了"})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert answer.json()["refunded_at"] is None and not Refund.objects.exists()
    assert _stock(product) == 10


def test_cancelling_a_paid_order_before_accept_refunds_it_in_full(shop):
    store, product = shop
    api = buyer()
    order = paid_order(api, store, product, key="p", quantity=2)
    assert _stock(product) == 8
    answer = api.post(f"/orders/{order['id']}/cancel", {"note": "不想要了"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    # The answer is written before the refund goes to the gateway (after commit); the
    # sandbox refunds at once, so the order is refunded right after.
    assert body["status"] == "refunding" and body["cancel_reason"] == "不想要了"
    saved = Order.objects.get(public_id=order["id"])
    assert saved.status == "refunded" and saved.refunded_at
    refund = Refund.objects.get()
    assert (refund.amount_fen, refund.status) == (order["total_fen"], "succeeded")
    assert _stock(product) == 10
    assert _events(order["id"])[-2:] == [("cancel", "paid", "refunding", "consumer"),
                                         ("refund_complete", "refunding", "refunded", "system")]
    saved = Order.objects.get(public_id=order["id"])
    assert saved.cancelled_at and saved.refunded_at >= saved.cancelled_at


def test_after_accept_the_consumer_must_ask_and_nothing_changes(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="a")
    assert staff.post(f"/merchant/orders/{order['id']}/accept", {}).status_code == 200
    before = _events(order["id"])
    _error(api.post(f"/orders/{order['id']}/cancel", {"note": "太慢"}), 409, "cancel_request_required")
    assert staff.post(f"/merchant/orders/{order['id']}/prepare", {}).status_code == 200
    _error(api.post(f"/orders/{order['id']}/cancel", {}), 409, "cancel_request_required")
    assert Order.objects.get(public_id=order["id"]).status == "preparing"
    assert _events(order["id"]) == [*before, ("prepare", "accepted", "preparing", "merchant")]
    assert not Refund.objects.exists() and _stock(product) == 9


@pytest.mark.parametrize("path", ["cancel", "cancel-request"])
def test_cancel_after_ready_is_too_late(shop, path):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="r", fulfilment="pickup")
    for action in ("accept", "prepare", "ready"):
        assert staff.post(f"/merchant/orders/{order['id']}/{action}", {}).status_code == 200
    _error(api.post(f"/orders/{order['id']}/{path}", {"note": "x", "reason": "x"}), 409, "cancel_too_late")
    assert Order.objects.get(public_id=order["id"]).status == "ready"
    assert not Refund.objects.exists() and not OrderEvent.objects.filter(
        action__in=["cancel", "request_cancel"]).exists()


def test_cancel_of_a_completed_order_is_too_late_and_of_a_refunded_one_illegal(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="c", fulfilment="pickup")
    for action in ("accept", "prepare", "ready"):
        staff.post(f"/merchant/orders/{order['id']}/{action}", {})
    code = Order.objects.get(public_id=order["id"]).pickup_code
    assert staff.post(f"/merchant/orders/{order['id']}/collect", {"pickup_code": code}).status_code == 200
    _error(api.post(f"/orders/{order['id']}/cancel", {}), 409, "cancel_too_late")
    other = paid_order(api, store, product, key="c2")
    assert api.post(f"/orders/{other['id']}/cancel", {}).json()["status"] == "refunding"
    assert Order.objects.get(public_id=other["id"]).status == "refunded"
    _error(api.post(f"/orders/{other['id']}/cancel", {}), 409, "illegal_transition")
    assert Refund.objects.count() == 1


# --- cancel requests ------------------------------------------------------------------------

def test_cancel_request_declined_with_a_reason_then_the_order_goes_on(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="d")
    staff.post(f"/merchant/orders/{order['id']}/accept", {})
    _error(api.post(f"/orders/{order['id']}/cancel-request", {"reason": "  "}), 422, "reason_required")
    assert Order.objects.get(public_id=order["id"]).cancel_request == ""
    asked = api.post(f"/orders/{order['id']}/cancel-request", {"reason": "地址填错了"})
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == "accepted"
    assert asked.json()["cancel_request"]["status"] == "pending"
    assert asked.json()["cancel_request"]["reason"] == "地址填错了"
    _error(api.post(f"/orders/{order['id']}/cancel-request", {"reason": "again"}), 409,
           "cancel_request_pending")
    # the store cannot hand the food on before answering
    staff.post(f"/merchant/orders/{order['id']}/prepare", {})
    _error(staff.post(f"/merchant/orders/{order['id']}/ready", {}), 409, "cancel_request_pending")
    # the consumer cannot answer their own request
    _error(api.post(f"/merchant/orders/{order['id']}/cancel-request/approve", {}), 403,
           "permission_denied")
    _error(staff.post(f"/merchant/orders/{order['id']}/cancel-request/decline", {"reason": ""}), 422,
           "reason_required")
    declined = staff.post(f"/merchant/orders/{order['id']}/cancel-request/decline",
                          {"reason": "已经在做了"})
    assert declined.status_code == 200 and declined.json()["status"] == "preparing"
    assert declined.json()["cancel_request"] == {
        "status": "declined", "reason": "地址填错了", "decline_reason": "已经在做了",
        "at": declined.json()["cancel_request"]["at"]}
    _error(api.post(f"/orders/{order['id']}/cancel-request", {"reason": "求你了"}), 409,
           "cancel_request_already_made")
    _error(staff.post(f"/merchant/orders/{order['id']}/cancel-request/approve", {}), 409,
           "no_cancel_request")
    assert staff.post(f"/merchant/orders/{order['id']}/ready", {}).status_code == 200
    assert [e for e in _events(order["id"]) if "cancel" in e[0]] == [
        ("request_cancel", "accepted", "accepted", "consumer"),
        ("decline_cancel", "preparing", "preparing", "merchant")]
    assert not Refund.objects.exists()


def test_approved_cancel_request_refunds_and_cancels_the_delivery(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="ap")
    staff.post(f"/merchant/orders/{order['id']}/accept", {})
    assert DeliveryTask.objects.get(order__public_id=order["id"]).status != "cancelled"
    _error(staff.post(f"/merchant/orders/{order['id']}/cancel-request/approve", {}), 409,
           "no_cancel_request")
    api.post(f"/orders/{order['id']}/cancel-request", {"reason": "临时有事"})
    approved = staff.post(f"/merchant/orders/{order['id']}/cancel-request/approve", {})
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] == "refunding" and body["cancel_reason"] == "临时有事"
    assert Order.objects.get(public_id=order["id"]).status == "refunded"
    assert body["cancel_request"]["status"] == "approved"
    assert Refund.objects.get().amount_fen == order["total_fen"]
    assert DeliveryTask.objects.get(order__public_id=order["id"]).status == "cancelled"
    assert _stock(product) == 10
    assert _events(order["id"])[-2:] == [("approve_cancel", "accepted", "refunding", "merchant"),
                                         ("refund_complete", "refunding", "refunded", "system")]


def test_a_stranger_cannot_see_or_touch_the_request(shop):
    store, product = shop
    api = buyer()
    order = paid_order(api, store, product, key="s")
    _error(buyer().post(f"/orders/{order['id']}/cancel-request", {"reason": "x"}), 404, "order_not_found")
    _error(merchant(make_store(name="别家")).post(
        f"/merchant/orders/{order['id']}/cancel-request/approve", {}), 404, "order_not_found")
    _error(api.post(f"/orders/{order['id']}/cancel-request", {"reason": "x"}), 409, "illegal_transition")
    assert api.post(f"/merchant/orders/{order['id']}/cancel-request/maybe", {}).status_code == 422


# --- merchant rejection, operator cancellation ------------------------------------------------

def test_merchant_rejection_needs_a_reason_and_refunds_automatically(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="rj")
    _error(staff.post(f"/merchant/orders/{order['id']}/reject", {"note": " "}), 422, "reason_required")
    assert Order.objects.get(public_id=order["id"]).status == "paid" and not Refund.objects.exists()
    answer = staff.post(f"/merchant/orders/{order['id']}/reject", {"note": "售罄"})
    assert answer.status_code == 200 and answer.json()["status"] == "refunding"
    assert Order.objects.get(public_id=order["id"]).status == "refunded"
    assert Refund.objects.get().reason == "售罄" and _stock(product) == 10
    assert _events(order["id"])[-2][:3] == ("reject", "paid", "refunding")


def test_an_operator_may_still_cancel_a_ready_order_for_arbitration(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    order = paid_order(api, store, product, key="op", fulfilment="pickup")
    for action in ("accept", "prepare", "ready"):
        staff.post(f"/merchant/orders/{order['id']}/{action}", {})
    answer = operator().post(f"/orders/{order['id']}/cancel", {"note": "投诉仲裁"})
    assert answer.status_code == 200 and answer.json()["status"] == "refunding"
    assert Order.objects.get(public_id=order["id"]).status == "refunded"
    assert Refund.objects.get().amount_fen == order["total_fen"]


def test_refunded_orders_leave_the_merchant_queue(shop):
    store, product = shop
    api, staff = buyer(), merchant(store)
    kept = paid_order(api, store, product, key="q1")
    gone = paid_order(api, store, product, key="q2")
    api.post(f"/orders/{gone['id']}/cancel", {})
    assert [o["id"] for o in staff.get("/merchant/orders").json()] == [kept["id"]]
    assert [o["id"] for o in staff.get("/merchant/orders", {"status": "refunded"}).json()] == [gone["id"]]


# --- extras: utensils and invoice ---------------------------------------------------------------

def test_utensils_and_invoice_are_kept_and_shown(shop):
    store, product = shop
    api = buyer()
    answer = place(api, store, product, key="x", note="不要香菜", utensils=0,
                   invoice={"title": "上海邻里网络科技有限公司", "tax_no": USCC.lower(),
                            "email": "cw@linli.example"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["utensils"] == 0 and body["note"] == "不要香菜"
    assert body["invoice"] == {"title": "上海邻里网络科技有限公司", "tax_no": USCC,
                               "email": "cw@linli.example"}
    two = place(api, store, product, key="y", utensils=2, fulfilment="pickup").json()
    assert two["utensils"] == 2 and two["invoice"] is None
    assert place(api, store, product, key="z").json()["utensils"] is None
    personal = place(api, store, product, key="w", invoice={"title": "张三", "email": "z@x.cn"})
    assert personal.status_code == 201 and personal.json()["invoice"]["tax_no"] == ""


def test_retrying_with_other_extras_is_a_different_request(shop):
    store, product = shop
    api = buyer()
    first = place(api, store, product, key="k", utensils=1)
    assert place(api, store, product, key="k", utensils=1).status_code == 200
    _error(place(api, store, product, key="k", utensils=3), 409, "idempotency_key_reused")
    assert Order.objects.get().public_id == first.json()["id"]


@pytest.mark.parametrize(("extra", "status", "code"), [
    ({"utensils": -1}, 422, "utensils_invalid"),
    ({"utensils": 21}, 422, "utensils_invalid"),
    ({"utensils": "many"}, 422, "invalid_input"),
    ({"invoice": {"title": "公司", "tax_no": "91350100M000100Y44", "email": "a@b.cn"}}, 422,
     "invoice_tax_no_invalid"),
    ({"invoice": {"title": "公司", "tax_no": "12345", "email": "a@b.cn"}}, 422, "invoice_tax_no_invalid"),
    ({"invoice": {"title": "公司", "tax_no": "91350100M00010OY43", "email": "a@b.cn"}}, 422,
     "invoice_tax_no_invalid"),
    ({"invoice": {"title": "公司", "tax_no": USCC, "email": "not-an-email"}}, 422, "invoice_email_invalid"),
    ({"invoice": {"title": "   ", "tax_no": USCC, "email": "a@b.cn"}}, 422, "invoice_title_required"),
    ({"invoice": {"title": "", "email": "a@b.cn"}}, 422, "invalid_input"),
    ({"invoice": {"title": "公司"}}, 422, "invalid_input"),
])
def test_bad_extras_are_refused_and_nothing_is_written(shop, extra, status, code):
    store, product = shop
    _error(place(buyer(), store, product, key="bad", **extra), status, code)
    assert not Order.objects.exists() and not OrderEvent.objects.exists()
    assert _stock(product) == 10


# --- store order settings -----------------------------------------------------------------------

def test_store_order_settings_by_role(shop):
    store, _ = shop
    path = f"/merchant/stores/{store.public_id}/order-settings"
    cashier, manager = merchant(store, "cashier"), merchant(store, "manager")
    assert cashier.get(path).json() == {"store_id": store.public_id, "auto_accept": False,
                                        "accept_timeout_minutes": None,
                                        "effective_accept_timeout_minutes": 5,
                                        "cancel_request_timeout_minutes": 10}
    _error(put(cashier, path, {"auto_accept": True}), 403, "permission_denied")
    _error(buyer().get(path), 404, "store_not_found")
    _error(put(manager, path, {"auto_accept": True, "accept_timeout_minutes": 0}), 422, "invalid_input")
    _error(put(manager, path, {"auto_accept": True, "accept_timeout_minutes": 61}), 422, "invalid_input")
    assert not StoreOrderSettings.objects.exists()
    answer = put(manager, path, {"auto_accept": True, "accept_timeout_minutes": 3})
    assert answer.status_code == 200 and answer.json()["effective_accept_timeout_minutes"] == 3
    saved = StoreOrderSettings.objects.get(store=store)
    assert (saved.auto_accept, saved.accept_timeout_minutes) == (True, 3)


# --- pages: the merchant queue card and the consumer order page -------------------------------

def test_queue_card_and_order_page_show_extras_and_the_cancel_request(shop):
    from linli.accounts.models import User
    from tests.fixtures import make_staff, next_phone, token_api
    from tests.web.helpers import web_password_login, web_sms_login

    store, product = shop
    phone = next_phone()
    page_client = web_sms_login(phone)
    api = token_api(User.objects.get(phone=phone))
    staff_user = make_staff(store)
    staff = token_api(staff_user)
    order = paid_order(api, store, product, key="web", note="放门口", utensils=0,
                       invoice={"title": "邻里科技", "tax_no": USCC, "email": "a@b.cn"})
    staff.post(f"/merchant/orders/{order['id']}/accept", {})
    api.post(f"/orders/{order['id']}/cancel-request", {"reason": "买错了"})

    console = web_password_login(staff_user.username, "m")
    card = console.get("/m/", {"part": "queue"}).content.decode()
    assert 'data-testid="queue-extras"' in card and "邻里科技" in card and USCC in card
    assert 'data-testid="queue-cancel-request"' in card and "买错了" in card

    page = page_client.get(f"/orders/{order['id']}").content.decode()
    assert 'data-testid="order-utensils"' in page and 'data-testid="order-invoice"' in page
    assert "放门口" in page and "a@b.cn" in page and 'data-testid="cancel-request"' in page
    staff.post(f"/merchant/orders/{order['id']}/cancel-request/decline", {"reason": "已出餐"})
    page = page_client.get(f"/orders/{order['id']}").content.decode()
    assert "已出餐" in page

    two_sets = paid_order(api, store, product, key="web2", utensils=2)
    card = console.get("/m/", {"part": "queue"}).content.decode()
    assert two_sets["id"] in card
