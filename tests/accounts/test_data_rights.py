"""A consumer's data rights: the export holds their own data and nobody else's; deleting
the account anonymises it (phone, name, address book gone, login and tokens dead, reviews
anonymous) while orders, payments, refunds and the ledger stay and still balance; it is
refused with a code while orders are in progress, the wallet holds money or an after-sales
request is open. Both are audited."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from linli.accounts.audit_models import AuditEntry
from linli.accounts.models import Address, User
from linli.aftersales.services import request_create
from linli.notifications.services import notify
from linli.orders.models import Order
from linli.payments.ledger import ledger_verify
from linli.payments.models import Payment, Posting, Refund
from linli.payments.services import refund_create
from linli.reviews.models import Review
from linli.reviews.selectors import author_label
from linli.reviews.services import Scores, favourite_add, review_submit
from tests.finance.helpers import complete, operator, paid_order, shop
from tests.fixtures import next_phone, sms_login, token_api

pytestmark = pytest.mark.django_db


def person(name: str = "张小明") -> User:
    phone = next_phone()
    user = User.objects.create_user(username=phone, phone=phone, display_name=name)
    Address.objects.create(user=user, label="家", contact_name=name, contact_phone=phone, text="黄浦区人民大道 200 号",
                           lat=31.233, lng=121.476, located_by="text", is_default=True)
    return user


@pytest.fixture
def shopper():
    """A consumer with a finished, partly refunded order, a review, a favourite and a message."""
    store, product = shop(price_fen=3000)
    user = person()
    order = complete(paid_order(store, product, user))
    refund_create(order_id=order.public_id, actor=operator(), role="operator", reason="少送米饭", amount_fen=500)
    review_submit(user=user, order_id=order.public_id, scores=Scores(stars=5), text="很好吃")
    favourite_add(user=user, kind="store", target_id=store.public_id)
    notify(user, "order", "您的订单已完成")
    return user, order, store


def test_the_export_holds_the_users_data_and_nobody_elses(shopper):
    user, order, store = shopper
    other = person("李四")
    other_order = complete(paid_order(store, store.products.first(), other))
    answer = token_api(user).get("/me/data-export")
    assert answer.status_code == 200, answer.content
    assert answer["Content-Disposition"].startswith("attachment")
    body = answer.json()
    assert body["profile"] == {**body["profile"], "id": user.public_id, "phone": user.phone,
                               "display_name": "张小明"}
    assert [a["text"] for a in body["addresses"]] == ["黄浦区人民大道 200 号"]
    assert [o["public_id"] for o in body["orders"]] == [order.public_id]
    assert [i["name"] for i in body["orders"][0]["items"]] == ["宫保鸡丁"]
    assert {p["public_id"] for p in body["payments"]} == set(
        Payment.objects.filter(order=order).values_list("public_id", flat=True))
    assert [r["amount_fen"] for r in body["refunds"]] == [500]
    assert [r["text"] for r in body["reviews"]] == ["很好吃"]
    assert [f["store"] for f in body["favourites"]] == [store.public_id]
    assert "您的订单已完成" in [m["title"] for m in body["messages"]]
    for section in ("wallet", "points", "coupons", "vouchers", "bookings", "reservations", "aftersales_requests"):
        assert section in body
    text = json.dumps(body, ensure_ascii=False)
    assert other.public_id not in text and other.phone not in text and other_order.public_id not in text
    assert "password" not in text and "idempotency_key" not in text
    [entry] = AuditEntry.objects.filter(action="data.export")
    assert (entry.actor, entry.role, entry.target_id) == (user, "consumer", user.public_id)


def test_another_user_gets_only_their_own_export_and_strangers_get_401(shopper):
    user, order, _store = shopper
    other = person("李四")
    body = token_api(other).get("/me/data-export").json()
    assert body["profile"]["id"] == other.public_id and body["orders"] == []
    assert user.public_id not in json.dumps(body) and order.public_id not in json.dumps(body)
    anonymous = token_api(user)
    anonymous.token = None
    assert anonymous.get("/me/data-export").json()["code"] == "not_authenticated"
    assert anonymous.post("/me/delete-account", {"confirm": "DELETE"}).status_code == 401


def test_deleting_anonymises_the_account_and_keeps_what_finance_must_keep(shopper):
    user, order, _store = shopper
    phone = user.phone
    api = token_api(user)
    kept = (Order.objects.filter(consumer=user).count(), Payment.objects.filter(order=order).count(),
            Refund.objects.filter(payment__order=order).count(), Posting.objects.count())
    answer = api.post("/me/delete-account", {"confirm": "DELETE"})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"id": user.public_id, "deleted": True}
    user.refresh_from_db()
    assert (user.phone, user.display_name, user.is_active, user.has_usable_password()) == (None, "", False, False)
    assert user.username == f"deleted_{user.public_id}" and user.token_version == 1
    assert not Address.objects.filter(user=user).exists()
    assert api.get("/me").status_code == 401  # every token revoked
    assert (Order.objects.filter(consumer=user).count(), Payment.objects.filter(order=order).count(),
            Refund.objects.filter(payment__order=order).count(), Posting.objects.count()) == kept
    assert ledger_verify() == []
    review = Review.objects.get(author=user)
    with translation.override("en"):
        assert author_label(review.author) == "Anonymous" and review.text == "很好吃"
    [entry] = AuditEntry.objects.filter(action="account.delete")
    assert (entry.actor, entry.target_id) == (user, user.public_id)
    assert phone not in json.dumps(list(AuditEntry.objects.values_list("details", flat=True)))
    # The same phone may sign up again: a new, empty account.
    again, login = sms_login(phone)
    assert login["user"]["id"] != user.public_id
    assert again.get("/me/data-export").json()["orders"] == []


def test_deleting_needs_the_confirmation_word(shopper):
    user, _order, _store = shopper
    api = token_api(user)
    for body in ({"confirm": "delete"}, {"confirm": ""}, {}):
        answer = api.post("/me/delete-account", body)
        assert answer.status_code == 422, body
        assert answer.json()["code"] in ("delete_confirm_required", "invalid_input")
    assert api.post("/me/delete-account", {"confirm": "yes"}).json()["code"] == "delete_confirm_required"
    user.refresh_from_db()
    assert user.is_active and user.phone


def test_deleting_is_refused_while_an_order_is_in_progress():
    store, product = shop()
    user = person()
    order = paid_order(store, product, user)
    answer = token_api(user).post("/me/delete-account", {"confirm": "DELETE"})
    assert answer.status_code == 409
    assert answer.json()["code"] == "orders_in_progress"
    assert answer.json()["details"]["order_ids"] == [order.public_id]
    user.refresh_from_db()
    assert user.is_active and Address.objects.filter(user=user).exists()
    assert not AuditEntry.objects.filter(action="account.delete").exists()


def test_deleting_is_refused_while_the_wallet_holds_money():
    from tests.payments.helpers import top_up

    user = person()
    api = token_api(user)
    top_up(api, 10_000)
    answer = api.post("/me/delete-account", {"confirm": "DELETE"})
    assert answer.status_code == 409 and answer.json()["code"] == "wallet_not_empty"
    assert answer.json()["details"]["cash_fen"] == 10_000


def test_deleting_is_refused_while_an_after_sales_request_is_open(shopper):
    user, order, _store = shopper
    request = request_create(consumer=user, order_id=order.public_id, kind="refund_only", reason="quality",
                             description="菜是凉的", amount_fen=100)
    answer = token_api(user).post("/me/delete-account", {"confirm": "DELETE"})
    assert answer.status_code == 409 and answer.json()["code"] == "aftersales_open"
    assert answer.json()["details"]["request_ids"] == [request.public_id]


def test_the_privacy_page_downloads_the_data_and_deletes_the_account(shopper):
    from django.test import Client

    user, order, _store = shopper
    client = Client()
    assert client.get("/me/privacy").status_code == 302  # to the login page
    client.force_login(user)
    page = client.get("/me/privacy")
    assert page.status_code == 200
    assert b'data-testid="privacy-export"' in page.content and b'data-testid="privacy-delete"' in page.content
    assert b"privacy-blocker" not in page.content
    download = client.post("/me/privacy/export")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert json.loads(download.content)["orders"][0]["public_id"] == order.public_id
    wrong = client.post("/me/privacy/delete", {"confirm": "nope"})
    assert wrong.status_code == 422 and b'data-code="delete_confirm_required"' in wrong.content
    done = client.post("/me/privacy/delete", {"confirm": "DELETE"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert not user.is_active and user.phone is None
    assert client.get("/me/privacy").status_code == 302  # logged out
    assert [e.action for e in AuditEntry.objects.filter(actor=user).order_by("id")] == [
        "data.export", "account.delete"]


def test_the_privacy_page_says_why_deleting_is_refused():
    from django.test import Client

    store, product = shop()
    user = person()
    paid_order(store, product, user)
    client = Client()
    client.force_login(user)
    page = client.get("/me/privacy")
    assert b'data-code="orders_in_progress"' in page.content
    refused = client.post("/me/privacy/delete", {"confirm": "DELETE"})
    assert refused.status_code == 409 and b'data-testid="error" data-code="orders_in_progress"' in refused.content
    user.refresh_from_db()
    assert user.is_active
