"""Merchant roles: the pure table, and its enforcement in the services the API and the
console share (menu, stock, store profile, busy switch, staff, order actions)."""

from __future__ import annotations

import json

import pytest

from linli.accounts.models import User
from linli.core.errors import PermissionDenied
from linli.inventory.models import StockMovement
from linli.merchants import roles
from linli.merchants.models import MerchantMember, Product, Store
from linli.merchants.services import (
    InvalidPassword,
    InvalidRole,
    MemberExists,
    MemberIsSelf,
    member_add,
    member_remove,
    member_role_set,
    members_list,
)
from linli.orders.models import Order
from linli.orders.services import LineInput, order_act, order_place, order_transition_as
from tests.fixtures import PASSWORD, make_product, make_staff, make_store, next_phone, token_api


def call(api, method: str, path: str, body=None):
    return getattr(api.client, method)(f"/api/v1{path}", json.dumps(body) if body is not None else "",
                                       content_type="application/json", headers=api._headers(None))


def _refused(answer, permission: str) -> None:
    assert answer.status_code == 403, answer.content
    body = answer.json()
    assert body["code"] == "permission_denied"
    assert body["details"]["permission"] == permission


# --- the table ------------------------------------------------------------------------------

def test_the_table_says_who_may_do_what():
    everything = roles.ALL_PERMISSIONS
    assert roles.permissions_of("owner") == everything
    assert roles.permissions_of("manager") == everything - {roles.STAFF_MANAGE, roles.BANK_MANAGE,
                                                           roles.STORES_OPEN}
    assert roles.permissions_of("cashier") == {roles.ORDERS_ACT, roles.MENU_VIEW,
                                               roles.MENU_SOLD_OUT, roles.STORE_VIEW}
    assert roles.permissions_of("staff") == roles.permissions_of("cashier")  # legacy alias
    assert roles.canonical("staff") == "cashier" and roles.canonical("boss") is None
    assert roles.permissions_of("boss") == frozenset()
    assert not roles.allows("cashier", roles.MENU_EDIT) and roles.allows("manager", roles.STORE_PAUSE)
    with pytest.raises(ValueError):
        roles.allows("owner", "menu.eat")


# --- the API -------------------------------------------------------------------------------

@pytest.fixture
def shop(db):
    store = make_store()
    product = make_product(store, stock=30)
    return store, product


@pytest.mark.parametrize("role", ["cashier", "staff"])
def test_a_cashier_gets_403_on_menu_stock_store_and_staff_through_the_api(shop, role):
    store, product = shop
    api = token_api(make_staff(store, role=role))
    before = (Product.objects.get().price_fen, StockMovement.objects.count(),
              Store.objects.get().name, Store.objects.get().status, MerchantMember.objects.count())
    _refused(call(api, "patch", f"/merchant/products/{product.public_id}", {"price_fen": 1}),
             "menu.edit")
    _refused(call(api, "put", f"/merchant/products/{product.public_id}/stock", {"quantity": 3}),
             "stock.set")
    _refused(call(api, "patch", f"/merchant/stores/{store.public_id}", {"name": "收银员改名"}),
             "store.edit")
    _refused(api.post(f"/merchant/stores/{store.public_id}/pause"), "store.pause")
    _refused(api.get(f"/merchant/stores/{store.public_id}/members"), "staff.manage")
    _refused(api.post(f"/merchant/stores/{store.public_id}/members",
                      {"phone": next_phone(), "role": "owner", "password": "long-enough-1"}),
             "staff.manage")
    assert (Product.objects.get().price_fen, StockMovement.objects.count(),
            Store.objects.get().name, Store.objects.get().status,
            MerchantMember.objects.count()) == before
    # What a cashier may do: read, and the sold-out switch.
    assert api.get(f"/merchant/stores/{store.public_id}/products").status_code == 200
    mine = api.get(f"/merchant/stores/{store.public_id}").json()
    assert mine["role"] == role and "menu.sold_out" in mine["permissions"]
    assert "menu.edit" not in mine["permissions"]
    off = api.post(f"/merchant/products/{product.public_id}/sold-out", {"sold_out": True})
    assert off.status_code == 200 and Product.objects.get().is_sold_out


def test_a_manager_runs_the_menu_stock_and_store_but_not_the_staff(shop):
    store, product = shop
    user = make_staff(store, role="manager")
    api = token_api(user)
    assert call(api, "patch", f"/merchant/products/{product.public_id}",
                {"price_fen": 2900}).json()["price_fen"] == 2900
    counted = call(api, "put", f"/merchant/products/{product.public_id}/stock", {"quantity": 12})
    assert counted.status_code == 200
    movement = StockMovement.objects.latest("id")
    assert (movement.delta, movement.actor_id) == (-18, user.pk)
    assert call(api, "patch", f"/merchant/stores/{store.public_id}",
                {"prep_minutes": 20}).json()["prep_minutes"] == 20
    assert api.post(f"/merchant/stores/{store.public_id}/pause").json()["status"] == "paused"
    assert api.post(f"/merchant/stores/{store.public_id}/resume").json()["status"] == "open"
    _refused(api.get(f"/merchant/stores/{store.public_id}/members"), "staff.manage")


def test_the_owner_manages_staff_through_the_api(shop):
    store, _ = shop
    owner = store.merchant.members.get(role="owner").user
    api = token_api(owner)
    phone = next_phone()
    added = api.post(f"/merchant/stores/{store.public_id}/members",
                     {"phone": phone, "role": "cashier", "password": "cashier-pass-1",
                      "display_name": "小张"})
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["role"] == "cashier" and body["account_created"] is True
    assert body["phone"].endswith(phone[-4:]) and "****" in body["phone"]
    listed = api.get(f"/merchant/stores/{store.public_id}/members").json()
    assert [m["role"] for m in listed] == ["owner", "cashier"]
    again = api.post(f"/merchant/stores/{store.public_id}/members",
                     {"phone": phone, "role": "manager", "password": "cashier-pass-1"})
    assert again.status_code == 409 and again.json()["code"] == "member_exists"
    patched = call(api, "patch", f"/merchant/stores/{store.public_id}/members/{body['id']}",
                   {"role": "manager"})
    assert patched.status_code == 200 and patched.json()["role"] == "manager"
    self_change = call(api, "patch", f"/merchant/stores/{store.public_id}/members/{owner.public_id}",
                       {"role": "cashier"})
    assert self_change.status_code == 409 and self_change.json()["code"] == "member_is_self"
    bad_role = call(api, "patch", f"/merchant/stores/{store.public_id}/members/{body['id']}",
                    {"role": "boss"})
    assert bad_role.status_code == 422
    assert call(api, "delete", f"/merchant/stores/{store.public_id}/members/{body['id']}").status_code == 204
    assert MerchantMember.objects.filter(merchant=store.merchant).count() == 1
    gone = call(api, "delete", f"/merchant/stores/{store.public_id}/members/{body['id']}")
    assert gone.status_code == 404 and gone.json()["code"] == "member_not_found"
    stranger = token_api(User.objects.create_user(username="stranger"))
    hidden = stranger.get(f"/merchant/stores/{store.public_id}/members")
    assert hidden.status_code == 404 and hidden.json()["code"] == "store_not_found"


# --- the services ----------------------------------------------------------------------------

def test_adding_by_phone_creates_the_account_or_keeps_the_existing_password(shop):
    store, _ = shop
    owner = store.merchant.members.get(role="owner").user
    phone = next_phone()
    member, created = member_add(actor=owner, store_id=store.public_id, phone=phone[3:],
                                 role="manager", password="manager-pass-1")
    assert created and member.user.phone == phone
    assert member.user.username.startswith("u_") and phone[3:] not in member.user.username  # opaque
    assert member.user.check_password("manager-pass-1") and member.role == "manager"

    existing = User.objects.create_user(username="known", phone=next_phone(), password=PASSWORD)
    member, created = member_add(actor=owner, store_id=store.public_id, phone=existing.phone,
                                 role="staff", password="owner-knows-this-1")
    existing.refresh_from_db()
    assert not created and member.role == "cashier"  # legacy input stored as cashier
    assert existing.check_password(PASSWORD) and not existing.check_password("owner-knows-this-1")

    count = User.objects.count()
    with pytest.raises(InvalidPassword):
        member_add(actor=owner, store_id=store.public_id, phone=next_phone(), role="cashier",
                   password="short")
    with pytest.raises(InvalidRole):
        member_add(actor=owner, store_id=store.public_id, phone=next_phone(), role="boss",
                   password="long-enough-1")
    with pytest.raises(MemberExists):
        member_add(actor=owner, store_id=store.public_id, phone=existing.phone, role="cashier",
                   password="long-enough-1")
    assert User.objects.count() == count


def test_an_owner_cannot_remove_or_demote_themselves_so_an_owner_always_remains(shop):
    store, _ = shop
    first = store.merchant.members.get(role="owner").user
    second, _ = member_add(actor=first, store_id=store.public_id, phone=next_phone(), role="owner",
                           password="second-owner-1")
    with pytest.raises(MemberIsSelf):
        member_remove(actor=first, store_id=store.public_id, user_id=first.public_id)
    with pytest.raises(MemberIsSelf):
        member_role_set(actor=first, store_id=store.public_id, user_id=first.public_id, role="manager")
    # The second owner demotes the first, who then no longer manages staff.
    member_role_set(actor=second.user, store_id=store.public_id, user_id=first.public_id,
                    role="manager")
    with pytest.raises(PermissionDenied):
        member_remove(actor=first, store_id=store.public_id, user_id=second.user.public_id)
    # The one owner left cannot leave: the merchant keeps an owner.
    with pytest.raises(MemberIsSelf):
        member_remove(actor=second.user, store_id=store.public_id, user_id=second.user.public_id)
    assert [m.role for m in members_list(actor=second.user, store_id=store.public_id)] == [
        "owner", "manager"]


def test_every_role_may_move_orders_on(shop):
    store, product = shop
    for role in ("owner", "manager", "cashier", "staff"):
        user = make_staff(store, role=role) if role != "owner" else \
            store.merchant.members.get(role="owner").user
        consumer = User.objects.create_user(username=next_phone(), phone=next_phone())
        order = order_place(consumer=consumer, store_id=store.public_id,
                            lines=[LineInput(product_id=product.public_id, quantity=1)],
                            fulfilment="pickup", address=None, idempotency_key=f"k-{role}").order
        order_transition_as(order=order, action="pay", actor=None, role="system")
        assert order_act(order_id=order.public_id, actor=user, action="accept").status == "accepted"
        assert Order.objects.get(pk=order.pk).events.latest("id").actor_id == user.pk
