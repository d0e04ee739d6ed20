"""Group-buy voucher use cases (团购券): deals (create, pause/resume), buying through an
order, issuing when the order is paid, redeeming at the counter (核销), refunding the unused
share (随时退 and 过期自动退), and the periodic sweep. See docs/marketing.md.

Money: a voucher of price P with N uses. The consumer's money for the first k uses is
floor(P × k / N) (cumulative), so each redemption records floor(P×after/N) − floor(P×before/N)
and the refund of the unused uses is P − floor(P × used / N): redemptions + refund = P exactly,
a fraction of a fen going to the consumer."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.member_code import luhn_digit
from linli.accounts.models import User
from linli.core.errors import DomainError, IdempotencyKeyReused, IllegalTransition
from linli.merchants import roles as merchant_roles
from linli.merchants.models import Store
from linli.merchants.selectors import store_for_member
from linli.orders.fulfilment import VOUCHER
from linli.orders.models import Order
from linli.orders.services import OrderPlaced, order_place_voucher, order_transition_as
from linli.orders.states import S

from . import errors
from .models import funding_split
from .voucher_models import (
    MAX_USES,
    MAX_VALID_DAYS,
    Voucher,
    VoucherDeal,
    VoucherEvent,
    VoucherLimitCounter,
    VoucherPurchase,
    VoucherRedemption,
)

logger = logging.getLogger("linli.marketing")

MAX_BUY = 10  # vouchers per order
CODE_LENGTH = 12
ISSUE_GRACE_S = 60  # the sweep issues for paid orders whose receiver has not run by then


# --- codes -----------------------------------------------------------------------------------

def code_new() -> str:
    """12 digits: 11 random (secrets) + a Luhn check digit; ~10^11 codes, so a guess hits a
    live voucher with negligible probability, and a mistyped digit is caught before a lookup."""
    body = f"{secrets.randbelow(9 * 10**10) + 10**10}"  # 11 digits, no leading zero
    return body + luhn_digit(body)


def code_normalise(raw: str) -> str | None:
    """The code as stored, from what was typed or scanned ("1234 5678 9012"), or None when it
    cannot be one of ours (wrong length, not digits, bad check digit)."""
    code = "".join(ch for ch in str(raw or "")[:40] if ch not in " -")
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        return None
    return code if luhn_digit(code[:-1]) == code[-1] else None


def code_display(code: str) -> str:
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


# --- money shares ----------------------------------------------------------------------------

def share_fen(total_fen: int, done: int, uses_total: int) -> int:
    """The part of `total_fen` that `done` of `uses_total` uses account for (rounded down)."""
    return total_fen * done // uses_total


def unused_refund_fen(voucher: Voucher) -> int:
    return voucher.price_fen - share_fen(voucher.price_fen, voucher.uses_done, voucher.uses_total)


# --- deals -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DealSpec:
    title: str
    price_fen: int
    worth_fen: int
    description: str = ""
    uses_per_voucher: int = 1
    valid_days: int | None = 30
    valid_until: datetime | None = None
    refund_anytime: bool = True
    refund_unused_on_expiry: bool = True
    total_quota: int | None = None
    per_user_limit: int | None = None


def deal_problems(deal: VoucherDeal) -> dict[str, Any]:
    """{field: message} of a deal's bad terms (empty when fine); the console, the API and the
    back office refuse the same things."""
    problems: dict[str, Any] = {}
    if not (deal.title or "").strip():
        problems["title"] = _("Give the deal a title.")
    if not deal.price_fen or deal.price_fen <= 0:
        problems["price_fen"] = _("The price must be above zero.")
    elif not deal.worth_fen or deal.worth_fen <= deal.price_fen:
        problems["worth_fen"] = _("What it is worth must be above its price.")
    if not 1 <= (deal.uses_per_voucher or 0) <= MAX_USES:
        problems["uses_per_voucher"] = _("A voucher has 1 to 20 uses.")
    if (deal.valid_days is None) == (deal.valid_until is None):
        problems["valid_days"] = _("Give either a number of days after purchase or a fixed end.")
    elif deal.valid_days is not None and not 1 <= deal.valid_days <= MAX_VALID_DAYS:
        problems["valid_days"] = _("Valid for 1 to 366 days.")
    if deal.total_quota is not None and deal.total_quota < (deal.sold_count or 0):
        problems["total_quota"] = _("The quota cannot go below what was already sold.")
    if deal.per_user_limit is not None and deal.per_user_limit < 1:
        problems["per_user_limit"] = _("At least one per user.")
    if deal.funded_by == "shared" and not 1 <= deal.platform_share_percent <= 99:
        problems["platform_share_percent"] = _("A shared cost gives the platform 1 to 99 percent.")
    return problems


def _deal_manager(actor: User, store_id: str) -> Store:
    store, _role = store_for_member(user=actor, store_id=store_id, permission=merchant_roles.STORE_EDIT)
    return store


@transaction.atomic
def deal_create(*, actor: User, store_id: str, spec: DealSpec, now: datetime | None = None) -> VoucherDeal:
    """Owner or manager puts a deal on sale (the difference is the merchant's: funded_by
    merchant; platform-funded deals are made in the back office)."""
    store = _deal_manager(actor, store_id)
    now = now or timezone.now()
    deal = VoucherDeal(store=store, title=(spec.title or "").strip()[:60],
                       description=(spec.description or "").strip()[:1000], price_fen=spec.price_fen,
                       worth_fen=spec.worth_fen, uses_per_voucher=spec.uses_per_voucher,
                       valid_days=spec.valid_days, valid_until=spec.valid_until,
                       refund_anytime=spec.refund_anytime, refund_unused_on_expiry=spec.refund_unused_on_expiry,
                       total_quota=spec.total_quota, per_user_limit=spec.per_user_limit, created_by=actor)
    problems = deal_problems(deal)
    if deal.valid_until is not None and deal.valid_until <= now:
        problems.setdefault("valid_until", _("The end must be in the future."))
    if problems:
        field = next(iter(problems))
        raise errors.VoucherDealInvalid(problems[field], field=field)
    deal.save()
    VoucherEvent.objects.create(deal=deal, action="create", actor=actor)
    return deal


DEAL_ACTIONS = {"pause": (VoucherDeal.Status.ON_SALE, VoucherDeal.Status.PAUSED),
                "resume": (VoucherDeal.Status.PAUSED, VoucherDeal.Status.ON_SALE),
                "end": (None, VoucherDeal.Status.ENDED)}


@transaction.atomic
def deal_act(*, actor: User, deal_id: str, action: str) -> VoucherDeal:
    """pause / resume / end a deal (owner or manager). Vouchers already sold stay valid."""
    deal = VoucherDeal.objects.select_for_update().filter(public_id=deal_id).first()
    if deal is None or action not in DEAL_ACTIONS:
        raise errors.VoucherDealNotFound(deal_id=deal_id)
    try:
        _deal_manager(actor, deal.store.public_id)
    except errors.NotFound:
        raise errors.VoucherDealNotFound(deal_id=deal_id) from None
    source, target = DEAL_ACTIONS[action]
    if deal.status == VoucherDeal.Status.ENDED or (source is not None and deal.status != source):
        raise IllegalTransition(status=deal.status, action=action)
    deal.status = target
    deal.save(update_fields=["status", "updated_at"])
    VoucherEvent.objects.create(deal=deal, action=action, actor=actor)
    return deal


# --- buying ----------------------------------------------------------------------------------

def deal_on_sale_problem(deal: VoucherDeal, now: datetime) -> DomainError | None:
    """Why the deal cannot be bought now, or None."""
    if (deal.status != VoucherDeal.Status.ON_SALE or deal.store.status == Store.Status.CLOSED
            or (deal.sale_ends_at and now >= deal.sale_ends_at)
            or (deal.valid_until and now >= deal.valid_until)):
        return errors.VoucherDealNotOnSale(deal_id=deal.public_id, status=deal.status)
    if deal.total_quota is not None and deal.sold_count >= deal.total_quota:
        return errors.VoucherSoldOut(deal_id=deal.public_id)
    return None


def voucher_buy(*, consumer: User, deal_id: str, quantity: int, idempotency_key: str,
                now: datetime | None = None) -> OrderPlaced:
    """An order for `quantity` vouchers, to be paid at the cashier like any order. The
    buyer's per-user count (their own row) and the deal's quota (the shared row, last) are
    taken by conditional UPDATEs inside the order's transaction: no overselling, nothing
    left half when refused. A retry with the same key answers the first order."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_BUY:
        raise errors.VoucherQuantityInvalid(quantity=str(quantity)[:10], max=MAX_BUY)
    now = now or timezone.now()
    deal = (VoucherDeal.objects.select_related("store").filter(public_id=deal_id).first()
            if "\x00" not in deal_id else None)
    if deal is None:
        raise errors.VoucherDealNotFound(deal_id=deal_id)

    def within(order: Order) -> None:
        problem = deal_on_sale_problem(deal, now)
        if problem is not None:
            raise problem
        if deal.per_user_limit is not None:
            counter, _ = VoucherLimitCounter.objects.get_or_create(deal=deal, user=consumer)
            if not (VoucherLimitCounter.objects.filter(pk=counter.pk, count__lte=deal.per_user_limit - quantity)
                    .update(count=F("count") + quantity)):
                raise errors.VoucherBuyLimit(deal_id=deal_id, per_user_limit=deal.per_user_limit)
        room = Q(total_quota__isnull=True) | Q(sold_count__lte=F("total_quota") - quantity)
        if not VoucherDeal.objects.filter(room, pk=deal.pk).update(sold_count=F("sold_count") + quantity):
            raise errors.VoucherSoldOut(deal_id=deal_id)
        VoucherPurchase.objects.create(order=order, deal=deal, consumer=consumer, quantity=quantity,
                                       unit_price_fen=deal.price_fen)

    return order_place_voucher(consumer=consumer, store=deal.store, label=deal.title, ref=deal.public_id,
                               unit_price_fen=deal.price_fen, quantity=quantity,
                               idempotency_key=idempotency_key, request={"quantity": quantity},
                               within=within, now=now)


def voucher_issue_for_order(*, order_id: str, now: datetime | None = None) -> list[Voucher]:
    """The order is paid: issue its vouchers and move it to `completed` (action `issue`), in
    one transaction on the locked purchase row. Idempotent: a second delivery of the paid
    event (or the sweep) finds the purchase issued and answers the vouchers already made."""
    now = now or timezone.now()
    with transaction.atomic():
        purchase = (VoucherPurchase.objects.select_for_update(of=("self",)).select_related("deal", "order")
                    .filter(order__public_id=order_id).first())
        if purchase is None:
            return []
        if purchase.status != VoucherPurchase.Status.PENDING or purchase.order.status != S.PAID:
            return list(Voucher.objects.filter(purchase=purchase).order_by("seq"))
        try:
            order = order_transition_as(order=purchase.order, action="issue", actor=None, role="system",
                                        note="vouchers issued")
        except IllegalTransition:
            return []  # cancelled meanwhile: the receiver of that change gives the quota back
        deal = purchase.deal
        expires_at = deal.expiry_for(order.paid_at or now)
        vouchers = [_voucher_create(purchase, seq, expires_at, now) for seq in range(1, purchase.quantity + 1)]
        purchase.status = VoucherPurchase.Status.ISSUED
        purchase.save(update_fields=["status", "updated_at"])
    return vouchers


def _voucher_create(purchase: VoucherPurchase, seq: int, expires_at: datetime, now: datetime) -> Voucher:
    deal = purchase.deal
    for _attempt in range(5):
        try:
            with transaction.atomic():  # a code collision (1 in ~10^11 per live voucher) retries
                voucher = Voucher.objects.create(
                    deal=deal, purchase=purchase, order_id=purchase.order_id, owner_id=purchase.consumer_id,
                    seq=seq, code=code_new(), price_fen=purchase.unit_price_fen,
                    uses_total=deal.uses_per_voucher, uses_left=deal.uses_per_voucher,
                    expires_at=expires_at, issued_at=now)
        except IntegrityError:
            if Voucher.objects.filter(order_id=purchase.order_id, seq=seq).exists():
                raise
            continue
        VoucherEvent.objects.create(deal=deal, voucher=voucher, action="issue", uses=voucher.uses_total,
                                    amount_fen=voucher.price_fen)
        return voucher
    raise RuntimeError("no free voucher code after 5 attempts")


def voucher_purchase_cancel(*, order_id: str) -> bool:
    """The order ended before its vouchers were issued (unpaid timeout, cancelled, or a
    paid order cancelled at once): give the quota and the buyer's count back. Idempotent."""
    with transaction.atomic():
        purchase = (VoucherPurchase.objects.select_for_update(of=("self",)).select_related("order")
                    .filter(order__public_id=order_id, status=VoucherPurchase.Status.PENDING).first())
        if purchase is None or purchase.order.status not in S.CANCELLED_ALL:
            return False
        purchase.status = VoucherPurchase.Status.CANCELLED
        purchase.save(update_fields=["status", "updated_at"])
        VoucherDeal.objects.filter(pk=purchase.deal_id).update(sold_count=F("sold_count") - purchase.quantity)
        VoucherLimitCounter.objects.filter(deal_id=purchase.deal_id, user_id=purchase.consumer_id,
                                           count__gte=purchase.quantity).update(count=F("count") - purchase.quantity)
    return True


# --- redemption (核销) -----------------------------------------------------------------------

@dataclass(frozen=True)
class Redeemed:
    redemption: VoucherRedemption
    created: bool  # False: a retry with the same counter and key answered the first redemption


def voucher_refusal(voucher: Voucher, *, store: Store | None, uses: int, now: datetime) -> DomainError | None:
    """Why `uses` of this voucher cannot be redeemed at this store now, or None."""
    if store is not None and voucher.deal.store_id != store.pk:
        return errors.VoucherWrongStore()  # nothing about another store's voucher (issue 14)
    if voucher.status == Voucher.Status.REFUNDED:
        return errors.VoucherRefunded(voucher_id=voucher.public_id)
    if voucher.status == Voucher.Status.USED or voucher.uses_left == 0:
        return errors.VoucherUsedUp(voucher_id=voucher.public_id)
    if voucher.status == Voucher.Status.EXPIRED or voucher.expires_at <= now:
        return errors.VoucherExpired(voucher_id=voucher.public_id, expires_at=voucher.expires_at.isoformat())
    if uses > voucher.uses_left:
        return errors.VoucherUsesExceeded(voucher_id=voucher.public_id, uses_left=voucher.uses_left, uses=uses)
    return None


def voucher_by_code(*, code: str) -> Voucher:
    found = code_normalise(code)
    voucher = (Voucher.objects.select_related("deal", "deal__store").filter(code=found).first()
               if found else None)
    if voucher is None:
        raise errors.VoucherNotFound()
    return voucher


def _redeem_hash(code: str, uses: int) -> str:
    return hashlib.sha256(json.dumps([code, uses]).encode()).hexdigest()


def _redeemed_with_key(store: Store, counter: str, key: str, request_hash: str) -> VoucherRedemption | None:
    if not key:
        return None
    first = (VoucherRedemption.objects.select_related("voucher", "voucher__deal")
             .filter(store=store, counter=counter, idempotency_key=key).first())
    if first is not None and first.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return first


def voucher_redeem(*, actor: User, store_id: str, code: str, uses: int = 1, counter: str = "",
                   key: str = "", source: str = "api", now: datetime | None = None) -> Redeemed:
    """核销: `uses` of the voucher with this code, at this store, by its owner, manager or
    cashier. The guard is one conditional UPDATE (`uses_left >= uses`, active, not expired):
    of two counters redeeming the last use at once exactly one succeeds and the other gets
    `voucher_used_up`; `uses_left` never goes below 0 (CHECK). A retry with the same
    (counter, key) answers the first redemption."""
    if isinstance(uses, bool) or not isinstance(uses, int) or not 1 <= uses <= MAX_USES:
        raise errors.VoucherUsesInvalid(uses=str(uses)[:10])
    store, _role = store_for_member(user=actor, store_id=store_id, permission=merchant_roles.ORDERS_ACT)
    now = now or timezone.now()
    counter = (counter or "").strip()[:40]
    key = (key or "").strip()[:100]
    normalised = code_normalise(code) or str(code)[:40]
    request_hash = _redeem_hash(normalised, uses)
    first = _redeemed_with_key(store, counter, key, request_hash)
    if first is not None:
        return Redeemed(first, created=False)
    voucher = voucher_by_code(code=code)
    refusal = voucher_refusal(voucher, store=store, uses=uses, now=now)
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            taken = Voucher.objects.filter(
                pk=voucher.pk, status=Voucher.Status.ACTIVE, uses_left__gte=uses, expires_at__gt=now,
            ).update(uses_left=F("uses_left") - uses,
                     status=Case(When(uses_left=uses, then=Value(Voucher.Status.USED)),
                                 default=Value(Voucher.Status.ACTIVE)),
                     ended_at=Case(When(uses_left=uses, then=Value(now)), default=F("ended_at")))
            voucher.refresh_from_db(fields=["uses_left", "status", "ended_at"])
            if not taken:
                raise voucher_refusal(voucher, store=store, uses=uses, now=now) or errors.VoucherUsedUp(
                    voucher_id=voucher.public_id)
            redemption = _redemption_record(voucher, store=store, uses=uses, actor=actor, counter=counter,
                                            key=key, request_hash=request_hash, source=source, now=now)
    except IntegrityError:
        first = _redeemed_with_key(store, counter, key, request_hash)  # the same key raced in
        if first is None:
            raise
        return Redeemed(first, created=False)
    return Redeemed(redemption, created=True)


def _redemption_record(voucher: Voucher, *, store: Store, uses: int, actor: User, counter: str, key: str,
                       request_hash: str, source: str, now: datetime) -> VoucherRedemption:
    deal = voucher.deal
    after = voucher.uses_done
    before = after - uses
    amount = share_fen(voucher.price_fen, after, voucher.uses_total) - share_fen(voucher.price_fen, before,
                                                                                 voucher.uses_total)
    worth = share_fen(deal.worth_fen, after, voucher.uses_total) - share_fen(deal.worth_fen, before,
                                                                             voucher.uses_total)
    platform_fen, merchant_fen = funding_split(deal.funded_by, deal.platform_share_percent, worth - amount)
    redemption = VoucherRedemption.objects.create(
        voucher=voucher, store=store, uses=uses, amount_fen=amount, worth_fen=worth, funded_by=deal.funded_by,
        platform_fen=platform_fen, merchant_fen=merchant_fen, actor=actor, counter=counter,
        source=source if source in ("api", "console") else "api", idempotency_key=key,
        request_hash=request_hash, redeemed_at=now)
    VoucherEvent.objects.create(deal=deal, voucher=voucher, action="redeem", uses=uses, amount_fen=amount,
                                actor=actor, note=f"{store.public_id} {counter}".strip())
    return redemption


# --- refunds of the unused share ---------------------------------------------------------------

def _refund_unused(voucher_pk: int, *, actor: User | None, action: str, now: datetime,
                   expiring: bool) -> Voucher:
    """Lock the voucher, mark it refunded and refund its unused share to the order's payments
    along their paths (payments.refund_create, gateways first then the wallet). Call inside a
    transaction. The lock makes a redemption at the same moment wait and then find it refunded."""
    from linli.payments.models import Refund
    from linli.payments.services import refund_create

    voucher = Voucher.objects.select_for_update(of=("self",)).select_related("deal", "order").get(pk=voucher_pk)
    if voucher.status == Voucher.Status.REFUNDED:
        raise errors.VoucherRefunded(voucher_id=voucher.public_id)
    if voucher.status == Voucher.Status.USED or voucher.uses_left == 0:
        raise errors.VoucherUsedUp(voucher_id=voucher.public_id)
    if voucher.status == Voucher.Status.EXPIRED or (not expiring and voucher.expires_at <= now):
        raise errors.VoucherExpired(voucher_id=voucher.public_id, expires_at=voucher.expires_at.isoformat())
    amount = unused_refund_fen(voucher)
    voucher.status = Voucher.Status.REFUNDED
    voucher.refunded_fen = amount
    voucher.ended_at = now
    voucher.save(update_fields=["status", "refunded_fen", "ended_at"])
    VoucherEvent.objects.create(deal=voucher.deal, voucher=voucher, action=action, uses=voucher.uses_left,
                                amount_fen=amount, actor=actor)
    refund_create(order_id=voucher.order.public_id, actor=actor or voucher.owner, role="system",
                  reason=f"voucher {voucher.public_id}: {voucher.uses_left} unused of {voucher.uses_total}",
                  amount_fen=amount, idempotency_key=f"voucher:{voucher.public_id}",
                  source=Refund.Source.CANCEL)
    return voucher


def voucher_refund(*, consumer: User, voucher_id: str, now: datetime | None = None) -> Voucher:
    """随时退: the owner refunds an unused (or partly used) voucher before it expires, when the
    deal allows it; the unused share goes back along the payment's path."""
    voucher = (Voucher.objects.select_related("deal").filter(public_id=voucher_id, owner=consumer).first()
               if "\x00" not in voucher_id else None)
    if voucher is None:
        raise errors.VoucherNotFound(voucher_id=voucher_id)
    if not voucher.deal.refund_anytime:
        raise errors.VoucherNotRefundable(voucher_id=voucher_id)
    with transaction.atomic():
        return _refund_unused(voucher.pk, actor=consumer, action="refund", now=now or timezone.now(),
                              expiring=False)


# --- the periodic sweep --------------------------------------------------------------------------

def vouchers_expire(*, now: datetime | None = None, batch: int = 1000) -> dict[str, int]:
    """Active vouchers past their end: `refunded` (unused share back) when the deal says
    过期自动退, else `expired` (also when the order's money was already refunded otherwise). Each in its own transaction on the locked row; running twice
    changes (and refunds) each voucher once."""
    from linli.payments.services import NothingToRefund, RefundExceedsPaid

    now = now or timezone.now()
    due = list(Voucher.objects.filter(status=Voucher.Status.ACTIVE, expires_at__lte=now)
               .order_by("expires_at").values_list("pk", flat=True)[:batch])
    done = {"expired": 0, "refunded": 0}
    for pk in due:
        try:
            with transaction.atomic():
                voucher = Voucher.objects.select_for_update(of=("self",)).select_related("deal").get(pk=pk)
                if voucher.status != Voucher.Status.ACTIVE or voucher.expires_at > now:
                    continue
                note = ""
                if voucher.deal.refund_unused_on_expiry:
                    try:
                        with transaction.atomic():
                            _refund_unused(pk, actor=None, action="expire_refund", now=now, expiring=True)
                        done["refunded"] += 1
                        continue
                    except (NothingToRefund, RefundExceedsPaid) as exc:
                        # the order's money was already given back another way (an operator)
                        note = f"not refunded: {exc.code}"
                Voucher.objects.filter(pk=pk).update(status=Voucher.Status.EXPIRED, ended_at=now)
                VoucherEvent.objects.create(deal=voucher.deal, voucher=voucher, action="expire",
                                            uses=voucher.uses_left, note=note)
                done["expired"] += 1
        except DomainError as exc:
            logger.error("voucher expiry: %s refused: %s %s", pk, exc.code, exc.details)
    return done


def vouchers_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic (Celery beat): issue the vouchers of paid orders whose `order_changed`
    receiver never ran (a crash after the commit), give back the quota of orders that died
    unpaid, and expire vouchers past their end."""
    now = now or timezone.now()
    issued = cancelled = 0
    stale = (VoucherPurchase.objects.filter(status=VoucherPurchase.Status.PENDING,
                                            created_at__lte=now - timedelta(seconds=ISSUE_GRACE_S))
             .filter(order__status__in=(S.PAID, *S.CANCELLED_ALL)).order_by("id")
             .values_list("order__public_id", "order__status")[:1000])
    for order_id, status in stale:
        if status == S.PAID:
            issued += bool(voucher_issue_for_order(order_id=order_id, now=now))
        else:
            cancelled += voucher_purchase_cancel(order_id=order_id)
    return {"issued": issued, "cancelled": cancelled, **vouchers_expire(now=now)}


def on_order_changed(order: Order) -> None:
    """Receiver body (receivers.py): paid → issue; ended before issue → give the quota back."""
    if order.fulfilment != VOUCHER:
        return
    if order.status == S.PAID:
        voucher_issue_for_order(order_id=order.public_id)
    elif order.status in S.CANCELLED_ALL:
        voucher_purchase_cancel(order_id=order.public_id)
