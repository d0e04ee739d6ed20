"""Merchant console, staff page: the owner adds a cashier by phone, who then logs in at
/m/login and accepts an order; roles change; the rules hold; others get 403."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.merchants.models import MerchantMember
from linli.orders.services import LineInput, order_place, order_transition_as
from tests.fixtures import PASSWORD, make_product, make_staff, make_store, next_phone

from .helpers import web_password_login

pytestmark = pytest.mark.django_db


def owner_console(store) -> tuple[User, Client]:
    owner = store.merchant.members.get(role="owner").user
    owner.set_password(PASSWORD)
    owner.save()
    return owner, web_password_login(owner.username, "m")


def test_owner_adds_a_cashier_who_logs_in_and_accepts_an_order():
    store = make_store()
    product = make_product(store)
    _, owner = owner_console(store)
    page = owner.get("/m/staff")
    assert page.status_code == 200 and 'data-testid="nav-staff"' in page.content.decode()
    phone = next_phone()
    added = owner.post("/m/staff/add", {"phone": phone[3:], "display_name": "小张",
                                        "role": "cashier", "password": "cashier-pass-1"})
    assert added.status_code == 302 and added["Location"] == "/m/staff"
    member = MerchantMember.objects.get(user__phone=phone)
    assert member.role == "cashier" and member.user.display_name == "小张"
    listed = owner.get("/m/staff").content.decode()
    assert "小张" in listed and 'data-role="cashier"' in listed and phone not in listed  # masked

    # The cashier logs in with the phone number and the password the owner set.
    cashier = Client()
    login = cashier.post("/m/login", {"login": phone[3:], "password": "cashier-pass-1"})
    assert login.status_code == 302
    consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
    order = order_place(consumer=consumer, store_id=store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=1)],
                        fulfilment="pickup", address=None, idempotency_key="cashier-1").order
    order_transition_as(order=order, action="pay", actor=None, role="system")
    queue = cashier.get("/m/").content.decode()
    assert order.public_id in queue
    assert 'data-testid="nav-staff"' not in queue and 'data-testid="nav-store"' not in queue
    assert cashier.post(f"/m/orders/{order.public_id}/accept").status_code == 302
    order.refresh_from_db()
    assert order.status == "accepted" and order.events.latest("id").actor_id == member.user_id


def test_owner_changes_a_role_and_removes_a_member():
    store = make_store()
    owner, client = owner_console(store)
    cashier = make_staff(store, role="cashier")
    assert client.post(f"/m/staff/{cashier.public_id}/role", {"role": "manager"}).status_code == 302
    assert MerchantMember.objects.get(user=cashier).role == "manager"
    assert client.post(f"/m/staff/{cashier.public_id}/remove").status_code == 302
    assert not MerchantMember.objects.filter(user=cashier).exists()
    assert User.objects.filter(pk=cashier.pk).exists()  # the account stays


def test_the_owner_cannot_remove_or_demote_themselves():
    store = make_store()
    owner, client = owner_console(store)
    for path, body in ((f"/m/staff/{owner.public_id}/remove", {}),
                       (f"/m/staff/{owner.public_id}/role", {"role": "cashier"})):
        answer = client.post(path, body)
        assert answer.status_code == 409 and 'data-code="member_is_self"' in answer.content.decode()
    assert MerchantMember.objects.get(user=owner).role == "owner"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"phone": "12", "role": "cashier", "password": "long-enough-1"}, "invalid_phone", "phone"),
    ({"phone": "13900000001", "role": "boss", "password": "long-enough-1"}, "invalid_role", "role"),
    ({"phone": "13900000001", "role": "cashier", "password": "short"}, "invalid_password", "password"),
])
def test_bad_member_input_shows_the_error_by_the_field(body, code, field):
    store = make_store()
    _, client = owner_console(store)
    users, members = User.objects.count(), MerchantMember.objects.count()
    answer = client.post("/m/staff/add", body)
    html = answer.content.decode()
    assert answer.status_code == 422 and f'data-code="{code}"' in html and f'data-field="{field}"' in html
    assert (User.objects.count(), MerchantMember.objects.count()) == (users, members)


def test_adding_someone_twice_is_refused():
    store = make_store()
    _, client = owner_console(store)
    cashier = make_staff(store, role="cashier")
    answer = client.post("/m/staff/add", {"phone": cashier.phone, "role": "manager",
                                          "password": "long-enough-1"})
    assert answer.status_code == 409 and 'data-code="member_exists"' in answer.content.decode()


@pytest.mark.parametrize("role", ["manager", "cashier", "staff"])
def test_only_owners_reach_the_staff_page(role):
    store = make_store()
    worker = make_staff(store, role=role)
    victim = make_staff(store, role="cashier")
    client = web_password_login(worker.username, "m")
    assert 'data-testid="nav-staff"' not in client.get("/m/").content.decode()
    members = MerchantMember.objects.count()
    for answer in (
        client.get("/m/staff"),
        client.post("/m/staff/add", {"phone": next_phone(), "role": "owner", "password": "long-enough-1"}),
        client.post(f"/m/staff/{victim.public_id}/role", {"role": "owner"}),
        client.post(f"/m/staff/{victim.public_id}/remove"),
    ):
        assert answer.status_code == 403
        assert 'data-code="permission_denied"' in answer.content.decode()
    assert MerchantMember.objects.count() == members
    assert MerchantMember.objects.get(user=victim).role == "cashier"
