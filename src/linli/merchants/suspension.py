"""Suspending a merchant (operator; e.g. from after-sales' bad-actor view) and reinstating
it. Suspension closes (delists) every listed store of the merchant at once — off the map
and search, refusing orders — and remembers each store's status, so reinstatement puts
back exactly what was open or paused and leaves stores closed for other reasons closed.
Orders already paid keep going: they are the consumers' money and food in progress."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.audit import audit
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

from .models import Merchant, MerchantStatusEvent, Store


class MerchantNotFound(NotFound):
    code = "merchant_not_found"
    message = _("There is no such merchant.")


class MerchantStatusUnchanged(Conflict):
    code = "merchant_status_unchanged"
    message = _("The merchant is already in that state.")


class SuspensionReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("Give a reason.")


def _operator(actor: User) -> None:
    from linli.accounts.models import is_platform_operator

    if not is_platform_operator(actor):  # not support, even with back-office access (is_staff)
        raise PermissionDenied(surface="ops")


def _locked(merchant_id: str) -> Merchant:
    merchant = Merchant.objects.select_for_update().filter(public_id=merchant_id).first()
    if merchant is None:
        raise MerchantNotFound(merchant_id=merchant_id)
    return merchant


def merchant_suspend(*, actor: User, merchant_id: str, reason: str) -> MerchantStatusEvent:
    _operator(actor)
    reason = (reason or "").strip()[:200]
    if not reason:
        raise SuspensionReasonRequired(field="reason")
    with transaction.atomic():
        merchant = _locked(merchant_id)
        if merchant.status == Merchant.Status.SUSPENDED:
            raise MerchantStatusUnchanged(status=merchant.status)
        closed = []
        for store in Store.objects.select_for_update().filter(
                merchant=merchant, status__in=[Store.Status.OPEN, Store.Status.PAUSED]).order_by("pk"):
            store.status_before_suspension, store.status = store.status, Store.Status.CLOSED
            store.save(update_fields=["status", "status_before_suspension", "updated_at"])
            closed.append(store.public_id)
        audit(actor, "merchant.suspend", "merchant", merchant.public_id, role="operator", reason=reason, stores=closed)
        merchant.status = Merchant.Status.SUSPENDED
        merchant.save(update_fields=["status"])
        return MerchantStatusEvent.objects.create(merchant=merchant, action="suspend", from_status="active",
                                                  to_status="suspended", reason=reason, stores=closed, actor=actor)


def merchant_reinstate(*, actor: User, merchant_id: str, reason: str) -> MerchantStatusEvent:
    _operator(actor)
    reason = (reason or "").strip()[:200]
    if not reason:
        raise SuspensionReasonRequired(field="reason")
    with transaction.atomic():
        merchant = _locked(merchant_id)
        if merchant.status != Merchant.Status.SUSPENDED:
            raise MerchantStatusUnchanged(status=merchant.status)
        reopened = []
        for store in Store.objects.select_for_update().filter(merchant=merchant).exclude(
                status_before_suspension="").order_by("pk"):
            store.status, store.status_before_suspension = store.status_before_suspension, ""
            store.save(update_fields=["status", "status_before_suspension", "updated_at"])
            reopened.append(store.public_id)
        audit(actor, "merchant.reinstate", "merchant", merchant.public_id, role="operator", reason=reason, stores=reopened)
        merchant.status = Merchant.Status.ACTIVE
        merchant.save(update_fields=["status"])
        return MerchantStatusEvent.objects.create(merchant=merchant, action="reinstate", from_status="suspended",
                                                  to_status="active", reason=reason, stores=reopened, actor=actor)
