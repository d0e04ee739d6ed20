"""The audit log: one entry per sensitive action (refunds by staff, finance adjustments and
their approval, merchant approvals, role changes, suspensions), with who, what, which
target and from where; entries can be neither changed nor deleted, by the model, its
querysets or the back office (superusers included); details never keep secrets or full
phone numbers."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.audit_models import AuditEntry, AuditEntryImmutable
from linli.accounts.models import User
from linli.core.audit import address_as, audit
from linli.finance.services import adjustment_create, adjustment_decide
from linli.merchants.services import member_role_set
from linli.merchants.suspension import merchant_reinstate, merchant_suspend
from linli.payments.ledger import ledger_verify
from tests.finance.helpers import consumer, operator, paid_order, shop
from tests.fixtures import make_staff, token_api

pytestmark = pytest.mark.django_db


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_an_operator_refund_is_audited_with_who_what_and_the_request_address():
    store, product = shop(price_fen=3000)
    order = paid_order(store, product, consumer())
    ops = operator()
    answer = token_api(ops).post(f"/orders/{order.public_id}/refunds",
                                 {"amount_fen": 1000, "reason": "少送一份米饭"})
    assert answer.status_code == 201, answer.content
    [entry] = entries("refund.create")
    assert (entry.actor, entry.actor_public_id, entry.role) == (ops, ops.public_id, "operator")
    assert (entry.target_kind, entry.target_id) == ("order", order.public_id)
    assert entry.details["amount_fen"] == 1000 and entry.details["reason"] == "少送一份米饭"
    assert entry.address == "127.0.0.1"  # the test client's REMOTE_ADDR
    assert ledger_verify() == []


def test_a_refused_refund_leaves_no_audit_entry():
    store, product = shop(price_fen=3000)
    order = paid_order(store, product, consumer())
    answer = token_api(operator()).post(f"/orders/{order.public_id}/refunds",
                                        {"amount_fen": 10**6, "reason": "too much"})
    assert answer.status_code == 409
    assert entries("refund.create") == []


def test_a_merchant_cancelling_a_paid_order_audits_the_refund():
    from linli.orders.services import order_transition_as

    store, product = shop()
    order = paid_order(store, product, consumer())
    owner = store.merchant.members.get(role="owner").user
    order_transition_as(order=order, action="reject", actor=owner, role="merchant", note="sold out")
    [entry] = entries("refund.order_cancel")
    assert (entry.actor, entry.role, entry.target_id) == (owner, "merchant", order.public_id)
    assert entry.details["amount_fen"] == order.total_fen


def test_adjustments_and_their_second_approval_are_audited():
    store, _ = shop()
    merchant_id = store.merchant.public_id
    first, second = operator("a"), operator("b")
    small = adjustment_create(actor=first, merchant_id=merchant_id, amount_fen=500, reason="补偿配送费")
    big = adjustment_create(actor=first, merchant_id=merchant_id, amount_fen=-500_000, reason="扣回重复结算")
    adjustment_decide(actor=second, adjustment_id=big.public_id, approve=True)
    created = entries("adjustment.create")
    assert [(e.target_id, e.details["amount_fen"], e.actor) for e in created] == [
        (small.public_id, 500, first), (big.public_id, -500_000, first)]
    [approved] = entries("adjustment.approve")
    assert (approved.actor, approved.target_id, approved.role) == (second, big.public_id, "operator")
    rejected = adjustment_create(actor=first, merchant_id=merchant_id, amount_fen=300_000, reason="x")
    adjustment_decide(actor=second, adjustment_id=rejected.public_id, approve=False)
    assert [e.target_id for e in entries("adjustment.reject")] == [rejected.public_id]
    assert ledger_verify() == []


def test_member_role_change_is_audited_but_not_a_no_op():
    store, _ = shop()
    owner = store.merchant.members.get(role="owner").user
    staff = make_staff(store, role="cashier")
    member_role_set(actor=owner, store_id=store.public_id, user_id=staff.public_id, role="manager")
    member_role_set(actor=owner, store_id=store.public_id, user_id=staff.public_id, role="manager")
    [entry] = entries("member.role_set")
    assert (entry.actor, entry.role, entry.target_kind, entry.target_id) == (owner, "merchant", "user",
                                                                             staff.public_id)
    assert (entry.details["from_role"], entry.details["to_role"]) == ("cashier", "manager")
    assert entry.details["merchant_id"] == store.merchant.public_id


def test_member_add_and_remove_are_audited():
    from linli.merchants.services import member_add, member_remove

    store, _ = shop()
    owner = store.merchant.members.get(role="owner").user
    member, _created = member_add(actor=owner, store_id=store.public_id, phone="13912340001", role="cashier",
                                  password="correct-horse-battery")
    member_remove(actor=owner, store_id=store.public_id, user_id=member.user.public_id)
    assert [e.action for e in AuditEntry.objects.filter(target_id=member.user.public_id).order_by("id")] == [
        "member.add", "member.remove"]
    assert "+8613912340001" not in str(AuditEntry.objects.values_list("details", flat=True))


def test_suspension_and_reinstatement_are_audited():
    store, _ = shop()
    ops = operator()
    merchant_suspend(actor=ops, merchant_id=store.merchant.public_id, reason="食品安全投诉")
    merchant_reinstate(actor=ops, merchant_id=store.merchant.public_id, reason="整改完成")
    suspended, reinstated = entries("merchant.suspend"), entries("merchant.reinstate")
    assert [(e.actor, e.target_id, e.details["reason"]) for e in suspended] == [
        (ops, store.merchant.public_id, "食品安全投诉")]
    assert suspended[0].details["stores"] == [store.public_id]
    assert [e.details["reason"] for e in reinstated] == ["整改完成"]


def test_merchant_application_rejection_is_audited():
    from linli.merchants.onboarding import application_reject
    from tests.ops.helpers import submitted_application

    application = submitted_application(consumer())
    ops = operator()
    application_reject(operator=ops, application_id=application.public_id, reason="营业执照模糊")
    [entry] = entries("merchant_application.reject")
    assert (entry.actor, entry.role, entry.target_id) == (ops, "operator", application.public_id)
    assert entry.details["note"] == "营业执照模糊"


def test_details_drop_secrets_and_mask_phone_numbers():
    with address_as("10.1.2.3"):
        entry = audit(None, "test.thing", "user", "usr_x", password="hunter2", api_token="t",
                      phone="+8613812345678", note="call 13812345678", nested={"secret": 1, "n": 2})
    assert entry.role == "system" and entry.actor is None and entry.address == "10.1.2.3"
    assert entry.details == {"phone": "+86138****5678", "note": "call 138****5678", "nested": {"n": 2}}


def test_entries_cannot_be_changed_or_deleted_by_the_model_or_querysets():
    entry = audit(operator(), "test.thing", "order", "ord_x", amount_fen=1)
    entry.action = "something.else"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing"


def test_the_back_office_shows_entries_but_nobody_can_add_change_or_delete_them():
    entry = audit(operator(), "test.thing", "order", "ord_x", amount_fen=1)
    root = User.objects.create_superuser("root-audit", "long-enough-password")
    client = Client()
    client.force_login(root)
    base = "/ops/accounts/auditentry/"
    listing = client.get(base)
    assert listing.status_code == 200 and b"test.thing" in listing.content
    page = client.get(f"{base}{entry.public_id}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"{base}{entry.public_id}/change/", {"action": "edited"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert client.post(f"{base}add/", {"action": "forged"}).status_code == 403
    assert client.post(f"{base}{entry.public_id}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk]}).status_code in (
        200, 302)
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing"
    assert AuditEntry.objects.count() == 1


def test_a_consumer_cannot_open_the_audit_log():
    client = Client()
    client.force_login(consumer())
    assert client.get("/ops/accounts/auditentry/").status_code == 302  # to the back-office login
