"""Finance use cases: commission rules, the settlement run, payouts and their retries,
holds and manual adjustments (docs/finance.md). Every write is one transaction; money
moves only through `linli.payments.ledger.post`, once per key."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from linli.accounts.models import User, is_platform_operator
from linli.core.audit import audit
from linli.core.errors import PermissionDenied
from linli.merchants.models import Merchant, StoreCategory
from linli.orders.models import Order
from linli.orders.states import S
from linli.payments import ledger
from linli.payments.ledger import credit, debit
from linli.payments.models import Payment

from . import commission, netting, postings
from .errors import (
    AdjustmentAmountInvalid,
    AdjustmentNotFound,
    AdjustmentReasonRequired,
    BatchAlreadySettled,
    CommissionRuleInvalid,
    CommissionRuleOverlap,
    HoldNotFound,
    HoldReasonRequired,
    MerchantNotFound,
    MerchantOnHold,
    NothingToSettle,
    PayoutAlreadyPaid,
    PayoutNotFound,
    SecondApproverRequired,
)
from .models import (
    Adjustment,
    CommissionRule,
    FinanceEntry,
    MerchantHold,
    Payout,
    PayoutEvent,
    SettlementBatch,
    SettlementRun,
)
from .payouts import PayoutFailed, provider

log = logging.getLogger(__name__)
MAX_PAYOUT_ATTEMPTS = 5


def require_operator(user: User) -> None:
    """Every finance write: operators only; support may read balances and statements but
    not change commission rules, runs, payouts, holds or adjustments (issue 14)."""
    if not is_platform_operator(user):
        raise PermissionDenied()


def merchant_get(merchant_id: str) -> Merchant:
    found = Merchant.objects.filter(public_id=merchant_id).first()
    if found is None:
        raise MerchantNotFound(merchant_id=merchant_id)
    return found


def on_hold(merchant: Merchant) -> bool:
    return MerchantHold.objects.filter(merchant=merchant, released_at__isnull=True).exists()


# --- commission rules ------------------------------------------------------------------------

def commission_rule_create(*, actor: User, rate_bp: int, min_fen: int = 0, starts_at: datetime,
                           ends_at: datetime | None = None, category_id: int | None = None,
                           category: str = "", merchant_id: str = "", channel: str = "") -> CommissionRule:
    """A new version of a rule. Refused (422) when invalid, (409) when it overlaps another
    version of the same category / merchant / channel. The merchant's (else the category's)
    row is locked first, so two overlapping versions of its rules cannot both pass; default
    rules (neither) lock only the existing versions of their scope. The category comes as its
    slug from clients (`category`), as its key from the back office (`category_id`)."""
    require_operator(actor)
    merchant = merchant_get(merchant_id) if merchant_id else None
    if category:
        found = StoreCategory.objects.filter(slug=category).first()
        if found is None:
            raise CommissionRuleInvalid(field="category")
    else:
        found = StoreCategory.objects.filter(pk=category_id).first() if category_id else None
        if category_id and found is None:
            raise CommissionRuleInvalid(field="category_id")
    with transaction.atomic():
        if merchant is not None:
            Merchant.objects.select_for_update().filter(pk=merchant.pk).first()
        elif found is not None:
            StoreCategory.objects.select_for_update().filter(pk=found.pk).first()
        commission_rule_check(rate_bp=rate_bp, min_fen=min_fen, starts_at=starts_at, ends_at=ends_at,
                              category=found, merchant=merchant, channel=channel, lock=True)
        return CommissionRule.objects.create(category=found, merchant=merchant, channel=channel,
                                             rate_bp=rate_bp, min_fen=min_fen, starts_at=starts_at,
                                             ends_at=ends_at, created_by=actor)


def commission_rule_check(*, rate_bp: int, min_fen: int, starts_at: datetime | None, ends_at: datetime | None,
                          category: StoreCategory | None, merchant: Merchant | None, channel: str,
                          lock: bool = False) -> None:
    """Refuse an invalid rule (422) or one overlapping another version of its scope (409)."""
    if starts_at is None:
        raise CommissionRuleInvalid(field="starts_at")
    draft = commission.Rule(ref="", rate_bp=rate_bp, min_fen=min_fen, starts_at=starts_at, ends_at=ends_at,
                            category=str(category.pk if category else ""),
                            merchant=str(merchant.pk if merchant else ""), channel=channel)
    problems = commission.rule_problems(draft)
    if problems:
        raise CommissionRuleInvalid(problems=problems)
    same_scope = CommissionRule.objects.filter(category=category, merchant=merchant, channel=channel)
    if lock:
        same_scope = same_scope.select_for_update()
    others = [commission.Rule(ref=r.public_id, rate_bp=r.rate_bp, min_fen=r.min_fen, starts_at=r.starts_at,
                              ends_at=r.ends_at, category=draft.category, merchant=draft.merchant, channel=channel)
              for r in same_scope]
    clash = commission.overlapping(draft, others)
    if clash is not None:
        raise CommissionRuleOverlap(other=clash.ref)


# --- capturing what happened -----------------------------------------------------------------

def order_post(order: Order) -> int:
    """Post a completed order and its refunds (idempotent). Called on `order_changed` and by
    the sweep; returns how many entries it wrote."""
    written = 0
    if order.status == S.COMPLETED and postings.order_completed_post(order) is not None:
        written += 1
    return written + postings.order_refunds_post(order)


def finance_sweep(*, since: datetime | None = None) -> int:
    """Catch up on everything finance must post and was not told about (or a receiver
    failed on): completed orders and their refunds, voucher redemptions, POS sales paid
    through the platform. Each in its own transaction; safe to run at any time."""
    from linli.marketing.voucher_models import VoucherRedemption

    since = since or timezone.now() - timedelta(days=getattr(settings, "LINLI_FINANCE_SWEEP_DAYS", 35))
    written = 0
    posted_sales = FinanceEntry.objects.filter(kind="sale").values("order_id")
    orders = (Order.objects.filter(status=S.COMPLETED, completed_at__gte=since)
              .exclude(fulfilment="voucher").exclude(pk__in=posted_sales))
    refunded = Order.objects.filter(pk__in=posted_sales, payments__refunds__status="succeeded",
                                    payments__refunds__succeeded_at__gte=since)
    for order in (orders | refunded).distinct().select_related("store__merchant"):
        written += _safely(order_post, order)
    done = FinanceEntry.objects.filter(kind="voucher").values("ref")
    for red in (VoucherRedemption.objects.filter(redeemed_at__gte=since).exclude(public_id__in=done)
                .select_related("store__merchant", "voucher__order")):
        written += _safely(postings.voucher_redemption_post, red)
    for payment in Payment.objects.filter(purpose=Payment.Purpose.COUNTER, status__in=Payment.PAID_STATES,
                                          succeeded_at__gte=since):
        written += _safely(postings.pos_payment_post, payment)
    return written


def _safely(fn: Any, arg: Any) -> int:
    try:
        with transaction.atomic():
            result = fn(arg)
    except IntegrityError:  # posted meanwhile by another worker
        return 0
    return result if isinstance(result, int) else int(result is not None)


# --- settlement ------------------------------------------------------------------------------

def settle_merchant(*, merchant: Merchant, day: date, actor: User | None = None) -> SettlementBatch:
    """Settle one merchant for `day`: every entry due by then and not yet settled, netted
    (refunds and adjustments included), less the reserve, plus reserves now released, into
    one batch; its payout is created (sent after commit). A merchant on hold is settled
    into `held` and not paid. Twice for one (merchant, day): 409, the first stands."""
    with transaction.atomic():
        merchant_terms = postings.terms(merchant)
        type(merchant_terms).objects.select_for_update().get(pk=merchant_terms.pk)
        if SettlementBatch.objects.filter(merchant=merchant, period_end=day).exists():
            raise BatchAlreadySettled(merchant_id=merchant.public_id, day=str(day))
        entries = list(FinanceEntry.objects.select_for_update()
                       .filter(merchant=merchant, batch__isnull=True, due_on__lte=day).values_list("pk", "net_fen"))
        releasing = list(SettlementBatch.objects.select_for_update().filter(
            merchant=merchant, reserve_fen__gt=0, reserve_released=False, reserve_release_on__lte=day))
        released = sum(b.reserve_fen for b in releasing)
        batch_math = netting.net((net for _pk, net in entries), reserve_bp=merchant_terms.reserve_bp,
                                 reserve_released_fen=released)
        if batch_math is None:
            raise NothingToSettle(merchant_id=merchant.public_id, day=str(day))
        held = on_hold(merchant)
        batch = SettlementBatch.objects.create(
            merchant=merchant, period_end=day, entries_fen=sum(net for _pk, net in entries),
            reserve_released_fen=released, reserve_fen=batch_math.reserve_fen, payout_fen=batch_math.payout_fen,
            reserve_release_on=day + timedelta(days=merchant_terms.reserve_days) if batch_math.reserve_fen else None,
            status=SettlementBatch.Status.HELD if held else SettlementBatch.Status.PAYING, created_by=actor)
        moved = FinanceEntry.objects.filter(pk__in=[pk for pk, _n in entries], batch__isnull=True).update(batch=batch)
        if moved != len(entries):  # locked above: nobody else can have taken them
            # An invariant of the money, so checked always (`assert` vanishes under -O).
            raise RuntimeError(f"settlement of {merchant.public_id} {day}: {moved} of {len(entries)} entries moved")
        SettlementBatch.objects.filter(pk__in=[b.pk for b in releasing]).update(reserve_released=True)
        to = postings.held(merchant) if held else postings.settling(merchant)
        ledger.post(key=f"fin:settle:{batch.public_id}", kind="finance_settle", actor=actor,
                    role="operator" if actor else "system", memo=f"{merchant.public_id} {day}", entries=[
                        debit(postings.payable(merchant), batch.entries_fen),
                        debit(postings.reserve(merchant), released),
                        credit(postings.reserve(merchant), batch.reserve_fen),
                        credit(to, batch.payout_fen)])
        if not held:
            _payout_create(batch)
    return batch


def _payout_create(batch: SettlementBatch) -> Payout:
    payout = Payout.objects.create(batch=batch, merchant=batch.merchant, amount_fen=batch.payout_fen,
                                   provider=provider().name, next_attempt_at=timezone.now())
    PayoutEvent.objects.create(payout=payout, to_status=payout.status, note="created")
    transaction.on_commit(lambda: _send_quietly(payout.public_id))
    return payout


def _send_quietly(payout_id: str) -> None:
    try:
        payout_send(payout_id=payout_id)
    except (MerchantOnHold, PayoutAlreadyPaid):
        pass


def settlement_run(*, day: date | None = None, actor: User | None = None) -> SettlementRun:
    """The daily job (Celery beat) or an operator's run: sweep, then settle every merchant
    with something due, each merchant in its own transaction."""
    if actor is not None:
        require_operator(actor)
    day = day or postings.business_day(timezone.now())
    finance_sweep()
    merchant_ids = set(FinanceEntry.objects.filter(batch__isnull=True, due_on__lte=day)
                       .values_list("merchant_id", flat=True))
    merchant_ids |= set(SettlementBatch.objects.filter(reserve_fen__gt=0, reserve_released=False,
                                                       reserve_release_on__lte=day).values_list("merchant_id", flat=True))
    run = SettlementRun(day=day, started_by=actor)
    for merchant in Merchant.objects.filter(pk__in=merchant_ids).order_by("pk"):
        try:
            batch = settle_merchant(merchant=merchant, day=day, actor=actor)
        except (BatchAlreadySettled, NothingToSettle):
            run.skipped += 1
            continue
        run.batches += 1
        run.payout_fen += batch.payout_fen
    run.save()
    return run


# --- payouts ---------------------------------------------------------------------------------

def _payout_event(payout: Payout, from_status: str, *, actor: User | None = None, note: str = "") -> None:
    PayoutEvent.objects.create(payout=payout, from_status=from_status, to_status=payout.status, actor=actor,
                               note=note[:200])


def payout_send(*, payout_id: str, actor: User | None = None) -> Payout:
    """Send (or re-send) a payout. Its row is locked for the whole attempt, so two senders
    never both call the provider; the provider dedupes by our id besides. Success posts
    settling → payouts:<provider>; a failure leaves the money in settling and schedules a
    retry (backoff, at most MAX_PAYOUT_ATTEMPTS by the job; an operator may retry after).
    A merchant on hold: 409, nothing sent."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().filter(public_id=payout_id).select_related("merchant").first()
        if payout is None:
            raise PayoutNotFound(payout_id=payout_id)
        if payout.status == Payout.Status.PAID:
            raise PayoutAlreadyPaid(payout_id=payout_id)
        if on_hold(payout.merchant):
            raise MerchantOnHold(merchant_id=payout.merchant.public_id)
        before = payout.status
        payout.attempts += 1
        try:
            transfer = provider(payout.provider).transfer(out_ref=payout.public_id, amount_fen=payout.amount_fen,
                                                          merchant_ref=payout.merchant.public_id)
        except PayoutFailed as exc:
            payout.status = Payout.Status.FAILED
            payout.last_error = str(exc)[:200]
            payout.next_attempt_at = timezone.now() + timedelta(minutes=5 * 2 ** min(payout.attempts, 6))
            payout.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
            _payout_event(payout, before, actor=actor, note=payout.last_error)
            return payout
        ledger.post(key=f"fin:payout:{payout.public_id}", kind="finance_payout", actor=actor,
                    role="operator" if actor else "system", memo=transfer.provider_ref, entries=[
                        debit(postings.settling(payout.merchant), payout.amount_fen),
                        credit(f"payouts:{payout.provider}", payout.amount_fen)])
        payout.status = Payout.Status.PAID
        payout.provider_ref = transfer.provider_ref
        payout.paid_at = timezone.now()
        payout.last_error = ""
        payout.save(update_fields=["status", "attempts", "provider_ref", "paid_at", "last_error"])
        SettlementBatch.objects.filter(pk=payout.batch_id).update(status=SettlementBatch.Status.PAID)
        _payout_event(payout, before, actor=actor, note=transfer.provider_ref)
    return payout


def payouts_retry(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic retry of pending and failed payouts that are due (not on hold)."""
    now = now or timezone.now()
    held_merchants = MerchantHold.objects.filter(released_at__isnull=True).values("merchant_id")
    due = (Payout.objects.filter(status__in=[Payout.Status.PENDING, Payout.Status.FAILED],
                                 attempts__lt=MAX_PAYOUT_ATTEMPTS)
           .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
           .exclude(merchant_id__in=held_merchants).values_list("public_id", flat=True))
    counts = {"paid": 0, "failed": 0}
    for payout_id in list(due):
        try:
            payout = payout_send(payout_id=payout_id)
        except (PayoutAlreadyPaid, MerchantOnHold):
            continue
        counts["paid" if payout.status == Payout.Status.PAID else "failed"] += 1
    return counts


# --- holds -----------------------------------------------------------------------------------

def hold_place(*, actor: User, merchant_id: str, reason: str, note: str) -> MerchantHold:
    require_operator(actor)
    if reason not in MerchantHold.Reason.values or not note.strip():
        raise HoldReasonRequired()
    merchant = merchant_get(merchant_id)
    return MerchantHold.objects.create(merchant=merchant, reason=reason, note=note.strip()[:200], placed_by=actor)


def hold_release(*, actor: User, hold_id: str) -> MerchantHold:
    """Lift a hold; when no other hold remains, held batches go to settling and get payouts."""
    require_operator(actor)
    with transaction.atomic():
        hold = MerchantHold.objects.select_for_update().filter(public_id=hold_id, released_at__isnull=True).first()
        if hold is None:
            raise HoldNotFound(hold_id=hold_id)
        hold.released_by, hold.released_at = actor, timezone.now()
        hold.save(update_fields=["released_by", "released_at"])
        merchant = hold.merchant
        if not on_hold(merchant):
            for batch in SettlementBatch.objects.select_for_update().filter(
                    merchant=merchant, status=SettlementBatch.Status.HELD):
                ledger.post(key=f"fin:unhold:{batch.public_id}", kind="finance_unhold", actor=actor, role="operator",
                            entries=[debit(postings.held(merchant), batch.payout_fen),
                                     credit(postings.settling(merchant), batch.payout_fen)])
                batch.status = SettlementBatch.Status.PAYING
                batch.save(update_fields=["status"])
                _payout_create(batch)
            for payout_id in Payout.objects.filter(merchant=merchant, status=Payout.Status.PENDING).exclude(
                    batch__status=SettlementBatch.Status.HELD).values_list("public_id", flat=True):
                transaction.on_commit(lambda pid=payout_id: _send_quietly(pid))
    return hold


# --- adjustments -----------------------------------------------------------------------------

def approval_threshold_fen() -> int:
    return int(getattr(settings, "LINLI_FINANCE_ADJUSTMENT_APPROVAL_FEN", 1_000_00))


def adjustment_create(*, actor: User, merchant_id: str, amount_fen: int, reason: str) -> Adjustment:
    """A manual credit (+) or debit (-) with a reason. Up to the threshold it is posted at
    once; above it, it waits for a second operator (`adjustment_decide`)."""
    require_operator(actor)
    if not reason or not reason.strip():
        raise AdjustmentReasonRequired()
    if not isinstance(amount_fen, int) or amount_fen == 0:
        raise AdjustmentAmountInvalid()
    merchant = merchant_get(merchant_id)
    with transaction.atomic():
        adjustment = Adjustment.objects.create(merchant=merchant, amount_fen=amount_fen, reason=reason.strip()[:200],
                                               status=Adjustment.Status.PENDING, created_by=actor)
        audit(actor, "adjustment.create", "adjustment", adjustment.public_id, role="operator", merchant_id=merchant_id, amount_fen=amount_fen, reason=adjustment.reason)  # noqa: E501
        if abs(amount_fen) <= approval_threshold_fen():
            _adjustment_post(adjustment, decided_by=actor)
    return adjustment


def adjustment_decide(*, actor: User, adjustment_id: str, approve: bool) -> Adjustment:
    """The second operator approves (posted) or rejects a pending adjustment; its creator
    cannot (403 second_approver_required)."""
    require_operator(actor)
    with transaction.atomic():
        adjustment = (Adjustment.objects.select_for_update().select_related("merchant")
                      .filter(public_id=adjustment_id, status=Adjustment.Status.PENDING).first())
        if adjustment is None:
            raise AdjustmentNotFound(adjustment_id=adjustment_id)
        if adjustment.created_by_id == actor.pk:
            raise SecondApproverRequired()
        audit(actor, "adjustment.approve" if approve else "adjustment.reject", "adjustment", adjustment_id, role="operator", amount_fen=adjustment.amount_fen)  # noqa: E501
        if approve:
            _adjustment_post(adjustment, decided_by=actor)
        else:
            adjustment.status, adjustment.decided_by, adjustment.decided_at = (
                Adjustment.Status.REJECTED, actor, timezone.now())
            adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    return adjustment


def _adjustment_post(adjustment: Adjustment, *, decided_by: User) -> None:
    merchant = adjustment.merchant
    now = timezone.now()
    key = f"fin:adjust:{adjustment.public_id}"
    ledger.post(key=key, kind="finance_adjustment", actor=decided_by, role="operator", memo=adjustment.reason,
                entries=[debit(postings.ADJUSTMENTS, adjustment.amount_fen),
                         credit(postings.payable(merchant), adjustment.amount_fen)])
    day = postings.business_day(now)
    FinanceEntry.objects.create(key=key, merchant=merchant, kind=FinanceEntry.Kind.ADJUSTMENT, ref=adjustment.public_id,
                                net_fen=adjustment.amount_fen, occurred_at=now, day=day, due_on=day)
    adjustment.status, adjustment.decided_by, adjustment.decided_at = Adjustment.Status.POSTED, decided_by, now
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
