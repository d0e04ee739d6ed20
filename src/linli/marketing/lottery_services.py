"""Drawing a lottery (抽奖). Stock and budget are taken by conditional UPDATEs inside the
draw's transaction, so concurrent draws can pass neither; the eligibility rule is a unique
constraint on the draw row. See docs/marketing.md, "Lottery"."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from linli.accounts.models import User
from linli.core.ids import new_public_id
from linli.orders.models import Order

from . import errors, lottery_draw
from .engagement_models import Draw, Lottery, LotteryEvent, Prize
from .services import coupon_claim


@dataclass(frozen=True)
class Drawn:
    draw: Draw
    created: bool  # False: a retry with the same Idempotency-Key answered the first draw


class _Out(Exception):
    """The drawn prize could not be paid for after all (stock, budget or its coupon ran out)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def lottery_get(*, lottery_id: str) -> Lottery:
    lottery = Lottery.objects.select_related("store").filter(public_id=lottery_id).first()
    if lottery is None or lottery.status == Lottery.Status.DRAFT:
        raise errors.LotteryNotFound(lottery_id=lottery_id)
    return lottery


def lottery_running(lottery: Lottery, now: datetime) -> bool:
    return lottery.status == Lottery.Status.LIVE and lottery.starts_at <= now < lottery.ends_at


def prize_options(prizes: list[Prize]) -> list[lottery_draw.PrizeOption]:
    return [lottery_draw.PrizeOption(p.public_id, p.weight, p.stock, p.cost_fen) for p in prizes]


def _eligibility_key(lottery: Lottery, user: User, order_id: str | None, now: datetime) -> str:
    if lottery.eligibility == Lottery.Eligibility.ONCE:
        return "once"
    if lottery.eligibility == Lottery.Eligibility.PER_DAY:
        return "day:" + now.astimezone(ZoneInfo(settings.LINLI_DEFAULT_CITY_TZ)).date().isoformat()
    orders = Order.objects.filter(public_id=order_id or "", consumer=user, status=Order.Status.COMPLETED)
    if lottery.store_id:
        orders = orders.filter(store_id=lottery.store_id)
    if not order_id or not orders.exists():
        raise errors.DrawOrderInvalid(order_id=order_id or "")
    return f"order:{order_id}"


def _first_with_key(lottery: Lottery, user: User, key: str) -> Draw | None:
    if not key:
        return None
    return (Draw.objects.select_related("prize", "coupon", "lottery")
            .filter(lottery=lottery, user=user, idempotency_key=key).first())


def _award(prize: Prize, lottery: Lottery, user: User, draw_ref: str, now: datetime) -> str | None:
    """Take the prize's budget and stock (and claim its coupon); _Out when any of them is
    gone. Runs in a savepoint: an _Out leaves nothing taken. Rows are locked in one order
    (lottery, prize, coupon template) by every draw, so concurrent draws cannot deadlock."""
    if prize.cost_fen and not Lottery.objects.filter(
            pk=lottery.pk, spent_fen__lte=F("budget_fen") - prize.cost_fen).update(
            spent_fen=F("spent_fen") + prize.cost_fen):
        raise _Out("budget")
    taken = Prize.objects.filter(pk=prize.pk)
    taken = taken.filter(stock__isnull=True) if prize.stock is None else taken.filter(stock__gt=0)
    if not taken.update(stock=F("stock") - 1 if prize.stock is not None else None,
                        awarded_count=F("awarded_count") + 1):
        raise _Out("stock")
    if prize.kind == Prize.Kind.POINTS:  # credited on the points ledger in the draw's transaction
        from linli.pos.points import points_grant  # points sit above marketing

        points_grant(member=user, points=prize.points, key=f"lottery:{draw_ref}", reference=draw_ref, actor=None)
        return None
    if prize.kind != Prize.Kind.COUPON:
        return None
    try:
        return coupon_claim(user=user, template_id=prize.coupon_template.public_id, key=draw_ref, now=now).coupon.pk
    except (errors.CouponSoldOut, errors.CouponClaimLimit, errors.CouponClaimClosed,
            errors.CouponTemplateNotFound, errors.CouponNewCustomersOnly) as exc:
        raise _Out(exc.code) from exc


def lottery_draw_once(*, user: User, lottery_id: str, key: str = "", order_id: str | None = None,
                      now: datetime | None = None, rng: random.Random | None = None) -> Drawn:
    """One draw for the user, within the lottery's eligibility rule. The prize is drawn by
    `lottery_draw.draw` with a fresh seed (stored with the roll and the pool, so the draw can
    be replayed); taking it can still fail when concurrent draws took the last unit or the
    last of the budget: the outcome is then "no prize" (`fallback` says why). A retry with
    the same `key` answers the first draw."""
    now = now or timezone.now()
    key = (key or "").strip()[:100]
    lottery = lottery_get(lottery_id=lottery_id)
    first = _first_with_key(lottery, user, key)
    if first is not None:
        return Drawn(first, created=False)
    if not lottery_running(lottery, now):
        raise errors.LotteryNotRunning(lottery_id=lottery_id)
    eligibility_key = _eligibility_key(lottery, user, order_id, now)
    if Draw.objects.filter(lottery=lottery, user=user, eligibility_key=eligibility_key).exists():
        raise errors.DrawNotEligible(lottery_id=lottery_id, rule=lottery.eligibility)
    prizes = list(Prize.objects.filter(lottery=lottery).select_related("coupon_template"))
    options = prize_options(prizes)
    problems = lottery_draw.weight_problems(options)
    if problems:
        raise errors.PrizeWeightsInvalid(lottery_id=lottery_id, problems=problems)
    seed = secrets.token_hex(16)
    budget_left = lottery.budget_fen - lottery.spent_fen
    outcome = lottery_draw.draw(options, budget_left_fen=budget_left, rng=rng or random.Random(seed))
    prize = next((p for p in prizes if p.public_id == outcome.ref), None)
    draw_ref = new_public_id("drw")
    try:
        with transaction.atomic():
            fallback, coupon_pk = "", None
            if prize is not None:
                try:
                    with transaction.atomic():
                        coupon_pk = _award(prize, lottery, user, draw_ref, now)
                except _Out as out:
                    fallback, prize = out.reason, None
            draw = Draw.objects.create(
                public_id=draw_ref, lottery=lottery, user=user, prize=prize,
                outcome=prize.kind if prize else Prize.Kind.NOTHING,
                cost_fen=prize.cost_fen if prize else 0, coupon_id=coupon_pk,
                points=prize.points if prize and prize.kind == Prize.Kind.POINTS else 0,
                eligibility_key=eligibility_key, idempotency_key=key, seed=seed if rng is None else "",
                roll=outcome.roll, total_weight=outcome.total,
                pool=[[o.ref, o.weight, o.stock, o.cost_fen] for o in options], budget_left_fen=max(budget_left, 0),
                fallback=fallback, drawn_at=now)
    except IntegrityError:  # the same user drew on another connection at the same moment
        first = _first_with_key(lottery, user, key)
        if first is not None:
            return Drawn(first, created=False)
        raise errors.DrawNotEligible(lottery_id=lottery_id, rule=lottery.eligibility) from None
    return Drawn(draw, created=True)


def draw_replay(draw: Draw) -> str | None:
    """The prize the stored pool and roll give (the audit: equals `draw.prize` unless
    `fallback` says the prize ran out between the roll and the award)."""
    options = [lottery_draw.PrizeOption(ref, weight, stock, cost) for ref, weight, stock, cost in draw.pool]
    return lottery_draw.pick(options, budget_left_fen=draw.budget_left_fen, roll=draw.roll)


def lottery_event(lottery: Lottery, action: str, actor: User | None, note: str = "") -> None:
    LotteryEvent.objects.create(lottery=lottery, action=action, actor=actor, note=note[:200])


