"""The points ledger: double entry like money (payments/ledger.py), in its own tables.

Every change is one `PointsTransaction` with a unique `key` (posting the same key again
changes nothing) whose postings sum to zero. Accounts:

| account | side | meaning |
| --- | --- | --- |
| `points:<usr>` | credit, never < 0 | what the member holds |
| `points:issuance` | debit | points the platform handed out (its liability's mirror) |
| `points:redeemed` | credit | points spent as payment |
| `points:expired` | credit | points that ran out |

earn: issuance → member; reverse (refund): member → issuance; redeem: member → redeemed;
redeem_back (a return): redeemed → member; expire: member → expired; grant (a prize or
reward): issuance → member; spend (a coupon claimed with points): member → redeemed. Debits of a member
take the oldest lots first under the member account's row lock, so the balance equals the
sum of open lots and can never go below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict, InvalidInput

from . import points_rules as rules
from .models import PointsAccount, PointsLot, PointsPosting, PointsTransaction, SpendRecord

ISSUANCE = "points:issuance"
REDEEMED = "points:redeemed"
EXPIRED = "points:expired"
K = PointsTransaction.Kind


class PointsInsufficient(Conflict):
    code = "points_insufficient"
    message = _("The member does not have that many points.")


class PointsOverCap(InvalidInput):
    code = "points_over_cap"
    message = _("Points can pay at most half of a sale.")


def member_code(user: User) -> str:
    return f"points:{user.public_id}"


def _account(code: str, *, member: User | None = None) -> PointsAccount:
    found = PointsAccount.objects.filter(code=code).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(code=code, member=member, debit_normal=(code == ISSUANCE),
                                                non_negative=member is not None)
    except IntegrityError:
        return PointsAccount.objects.get(code=code)


def points_balance(member: User) -> int:
    return int(PointsAccount.objects.filter(member=member).values_list("balance", flat=True).first() or 0)


def spend_12m_fen(member: User, *, at: datetime | None = None) -> int:
    at = at or timezone.now()
    total = SpendRecord.objects.filter(member=member, at__gt=at - rules.TIER_WINDOW, at__lte=at).aggregate(
        s=Sum("amount_fen"))["s"]
    return int(total or 0)


def member_tier(member: User, *, at: datetime | None = None) -> str:
    return rules.tier_for(spend_12m_fen(member, at=at))


def spend_record(*, member: User, key: str, amount_fen: int, at: datetime | None = None) -> None:
    if amount_fen:
        SpendRecord.objects.get_or_create(key=key, defaults={"member": member, "amount_fen": amount_fen,
                                                             "at": at or timezone.now()})


def _post(*, key: str, kind: Any, member: User, member_delta: int, other: str, actor: User | None,
          reference: str, basis_fen: int = 0, tier: str = "") -> PointsTransaction | None:
    """One transaction moving `member_delta` points into (+) or out of (-) the member's
    account, against `other`. Must run inside the caller's transaction."""
    existing = PointsTransaction.objects.filter(key=key).first()
    if existing is not None or member_delta == 0:
        return existing
    mine = _account(member_code(member), member=member)
    theirs = _account(other)
    PointsAccount.objects.select_for_update().filter(pk=mine.pk).values_list("pk", flat=True).first()
    if member_delta < 0:
        if not PointsAccount.objects.filter(pk=mine.pk, balance__gte=-member_delta).update(
                balance=F("balance") + member_delta):
            raise PointsInsufficient(balance=points_balance(member), needed=-member_delta)
        _take_from_lots(member, -member_delta)
    else:
        PointsAccount.objects.filter(pk=mine.pk).update(balance=F("balance") + member_delta)
    txn = PointsTransaction.objects.create(key=key, kind=kind, member=member, points=member_delta,
                                           reference=reference, basis_fen=basis_fen, tier=tier, actor=actor)
    # Member account is credit-normal: points in are a credit (negative posting).
    PointsPosting.objects.bulk_create([PointsPosting(transaction=txn, account=mine, points=-member_delta),
                                       PointsPosting(transaction=txn, account=theirs, points=member_delta)])
    return txn


def _take_from_lots(member: User, points: int) -> None:
    """Spend `points` from the member's lots, oldest expiry first (account row is locked)."""
    left = points
    for lot in PointsLot.objects.filter(member=member, remaining__gt=0).order_by("expires_at", "pk"):
        take = min(left, lot.remaining)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        left -= take
        if not left:
            return
    if left:
        raise AssertionError(f"points lots of {member.public_id} short by {left}")


def points_earn(*, member: User, key: str, paid_fen: int, reference: str, actor: User | None,
                at: datetime | None = None) -> PointsTransaction | None:
    """Credit the points `paid_fen` earns at the member's tier (the tier before this
    purchase). Idempotent per key; nothing for 0 points."""
    at = at or timezone.now()
    tier = member_tier(member, at=at)
    earned = rules.points_earned(paid_fen, tier)
    if earned <= 0:
        return None
    with transaction.atomic():
        txn = _post(key=key, kind=K.EARN, member=member, member_delta=earned, other=ISSUANCE, actor=actor,
                    reference=reference, basis_fen=paid_fen, tier=tier)
        if txn is not None and not PointsLot.objects.filter(earned_by=txn).exists():
            PointsLot.objects.create(member=member, earned_by=txn, points=earned, remaining=earned,
                                     expires_at=at + rules.POINTS_LIFETIME)
    return txn


def points_reverse_to(*, earn_key: str, refunded_fen: int, actor: User | None) -> int:
    """Bring an earning down to what `refunded_fen` of its basis leaves it (in proportion).
    Takes back at most what the member still holds (points spent meanwhile are not
    clawed into a negative balance). Returns the points taken back by this call."""
    earn = PointsTransaction.objects.filter(key=earn_key).first()
    if earn is None:
        return 0
    keep = rules.points_kept_after_refund(earn.points, earn.basis_fen, refunded_fen)
    already = -int(PointsTransaction.objects.filter(key__startswith=f"reverse:{earn_key}:")
                   .aggregate(s=Sum("points"))["s"] or 0)
    due = earn.points - keep - already
    if due <= 0:
        return 0
    member = earn.member
    with transaction.atomic():
        PointsAccount.objects.select_for_update().filter(member=member).values_list("pk", flat=True).first()
        due = min(due, points_balance(member))
        _post(key=f"reverse:{earn_key}:{refunded_fen}", kind=K.REVERSE, member=member, member_delta=-due,
              other=ISSUANCE, actor=actor, reference=earn.reference)
    return max(due, 0)


def points_redeem(*, member: User, points: int, total_fen: int, key: str, reference: str,
                  actor: User | None) -> int:
    """Pay part of a sale with points (capped at half of `total_fen`); the value in fen."""
    if points <= 0:
        return 0
    if points > rules.redeem_cap_points(total_fen):
        raise PointsOverCap(points=points, cap=rules.redeem_cap_points(total_fen))
    _post(key=key, kind=K.REDEEM, member=member, member_delta=-points, other=REDEEMED, actor=actor,
          reference=reference)
    return rules.points_value_fen(points)


def points_grant(*, member: User, points: int, key: str, reference: str, actor: User | None) -> PointsTransaction | None:
    """Give points no purchase earned (a lottery prize, a campaign reward): issuance → member,
    a fresh lot with the usual 12-month life. Idempotent per key; nothing for 0 points."""
    if points <= 0:
        return None
    with transaction.atomic():
        txn = _post(key=key, kind=K.GRANT, member=member, member_delta=points, other=ISSUANCE, actor=actor,
                    reference=reference)
        if txn is not None and not PointsLot.objects.filter(earned_by=txn).exists():
            PointsLot.objects.create(member=member, earned_by=txn, points=points, remaining=points,
                                     expires_at=timezone.now() + rules.POINTS_LIFETIME)
    return txn


def points_spend(*, member: User, points: int, key: str, reference: str, actor: User | None) -> PointsTransaction | None:
    """Spend points on something other than a sale (a coupon claimed with points): member →
    redeemed, oldest lots first; `PointsInsufficient` (409) when the member holds too few.
    Must run inside the caller's transaction so a refused claim spends nothing."""
    if points <= 0:
        return None
    return _post(key=key, kind=K.SPEND, member=member, member_delta=-points, other=REDEEMED, actor=actor,
                 reference=reference)


def points_redeem_back(*, member: User, points: int, key: str, reference: str, actor: User | None) -> None:
    """Give redeemed points back (a return). They come back as a new lot with a fresh
    12-month life (simple and in the member's favour)."""
    if points <= 0:
        return
    txn = _post(key=key, kind=K.REDEEM_BACK, member=member, member_delta=points, other=REDEEMED,
                actor=actor, reference=reference)
    if txn is not None and not PointsLot.objects.filter(earned_by=txn).exists():
        PointsLot.objects.create(member=member, earned_by=txn, points=points, remaining=points,
                                 expires_at=timezone.now() + rules.POINTS_LIFETIME)


def points_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Post the expiry of every lot past its date (the periodic job). Each lot once: the
    key is the lot, and the lot's remaining is re-read under the member's lock."""
    now = now or timezone.now()
    expired = 0
    lots = list(PointsLot.objects.filter(expires_at__lte=now, remaining__gt=0)
                .select_related("member").order_by("expires_at", "pk")[:batch])
    for lot in lots:
        with transaction.atomic():
            PointsAccount.objects.select_for_update().filter(member=lot.member).values_list("pk", flat=True).first()
            remaining = PointsLot.objects.filter(pk=lot.pk).values_list("remaining", flat=True).get()
            if remaining <= 0:
                continue
            key = f"expire:lot:{lot.pk}"
            if PointsTransaction.objects.filter(key=key).exists():
                continue
            mine = _account(member_code(lot.member), member=lot.member)
            PointsAccount.objects.filter(pk=mine.pk).update(balance=F("balance") - remaining)
            PointsLot.objects.filter(pk=lot.pk).update(remaining=0)
            txn = PointsTransaction.objects.create(key=key, kind=K.EXPIRE, member=lot.member,
                                                   points=-remaining, reference=lot.earned_by.public_id)
            PointsPosting.objects.bulk_create([
                PointsPosting(transaction=txn, account=mine, points=remaining),
                PointsPosting(transaction=txn, account=_account(EXPIRED), points=-remaining)])
            expired += remaining
    return expired


@dataclass(frozen=True)
class PointsProblem:
    kind: str
    ref: str
    detail: str


def points_verify() -> list[PointsProblem]:
    """Transactions sum to zero; each member balance equals its postings and its open lots."""
    problems = [PointsProblem("unbalanced", row["transaction__public_id"], str(row["total"]))
                for row in PointsPosting.objects.values("transaction__public_id")
                .annotate(total=Sum("points")).exclude(total=0)]
    for acct in PointsAccount.objects.filter(non_negative=True):
        posted = -int(acct.postings.aggregate(s=Sum("points"))["s"] or 0)
        lots = int(PointsLot.objects.filter(member_id=acct.member_id).aggregate(s=Sum("remaining"))["s"] or 0)
        if not posted == acct.balance == lots or posted < 0:
            problems.append(PointsProblem("balance_drift", acct.code,
                                          f"cached {acct.balance}, postings {posted}, lots {lots}"))
    return problems
