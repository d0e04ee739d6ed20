"""Reads for lotteries and campaigns: a user's draws, who is in a segment, and a campaign's
statistics (reached, claimed, used, GMV, cost, conversion and uplift against the control)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from linli.accounts.models import PlatformRole, User
from linli.merchants.models import Store
from linli.orders.models import Order
from linli.orders.states import S

from . import segments
from .engagement_models import Campaign, CampaignMember, Draw, Lottery
from .models import CouponRedemption


def draws_of(*, user: User, limit: int = 50) -> list[Draw]:
    return list(Draw.objects.filter(user=user).select_related("lottery", "prize", "coupon")
                .order_by("-drawn_at", "-pk")[:limit])


def lotteries_live(*, now: datetime, store: Store | None = None, limit: int = 20) -> list[Lottery]:
    found = Lottery.objects.filter(status=Lottery.Status.LIVE, starts_at__lte=now, ends_at__gt=now)
    if store is not None:
        found = found.filter(Q(store=store) | Q(store__isnull=True))
    return list(found.order_by("ends_at")[:limit])


# --- segments ---------------------------------------------------------------------------------

def counted_orders(store: Store | None = None) -> QuerySet[Order]:
    """The orders a segment and a conversion count: paid and not cancelled or refunded
    (at the store, for a store's campaign)."""
    orders = Order.objects.filter(paid_at__isnull=False).exclude(status__in=S.CANCELLED_ALL)
    return orders.filter(store=store) if store is not None else orders


def user_stats(*, store: Store | None, now: datetime) -> dict[int, segments.UserStats]:
    """Every user a campaign can reach with their order history: for a platform campaign
    every active consumer account, for a store's campaign the store's customers (its orders
    only). One grouped query over orders, one over users."""
    year_ago = now - segments.YEAR
    rows = (counted_orders(store).values("consumer_id", "store__city_code", "store__category__slug")
            .annotate(n=Count("id"), n_year=Count("id", filter=Q(created_at__gt=year_ago)),
                      spent=Sum("total_fen", filter=Q(created_at__gt=year_ago)),
                      first=Min("created_at"), last=Max("created_at")).order_by())
    folded: dict[int, dict[str, Any]] = defaultdict(lambda: {"orders": 0, "orders_year": 0, "spent_year_fen": 0,
                                                            "first": None, "last": None, "cities": set(),
                                                            "categories": defaultdict(int)})
    for row in rows:
        f = folded[row["consumer_id"]]
        f["orders"] += row["n"]
        f["orders_year"] += row["n_year"]
        f["spent_year_fen"] += row["spent"] or 0
        f["first"] = min(filter(None, (f["first"], row["first"])))
        f["last"] = max(filter(None, (f["last"], row["last"])))
        f["cities"].add(row["store__city_code"])
        if row["store__category__slug"]:
            f["categories"][row["store__category__slug"]] += row["n"]
    users = User.objects.filter(is_active=True)
    if store is not None:
        users = users.filter(pk__in=list(folded))
    else:
        users = users.filter(is_staff=False, platform_role=PlatformRole.NONE)
    stats = {}
    for pk, public_id, joined in users.values_list("pk", "public_id", "date_joined").order_by("pk"):
        if pk not in folded:
            stats[pk] = segments.UserStats(user_ref=public_id, joined_at=joined)
            continue
        f = folded[pk]
        stats[pk] = segments.UserStats(
            user_ref=public_id, joined_at=joined, orders=f["orders"], orders_year=f["orders_year"],
            spent_year_fen=f["spent_year_fen"], first_order_at=f["first"], last_order_at=f["last"],
            cities=frozenset(f["cities"]), category_orders=dict(f["categories"]))
    return stats


def segment_members(*, rule: dict[str, Any], store: Store | None, now: datetime) -> list[tuple[int, str]]:
    """(user pk, user public id) of everyone in the segment, by user pk."""
    clean = segments.rule_clean(rule)
    return [(pk, s.user_ref) for pk, s in user_stats(store=store, now=now).items()
            if segments.matches(clean, s, now)]


# --- campaign statistics ---------------------------------------------------------------------

@dataclass(frozen=True)
class DayPoint:
    day: date
    used: int
    gmv_fen: int


@dataclass(frozen=True)
class CampaignStats:
    treated: int
    control: int
    reached: int  # treated members the message reached (within caps, not opted out)
    claimed: int  # treated members holding the coupon (or who drew the lottery)
    used: int  # redemptions of those coupons by members, not returned
    gmv_fen: int  # totals of the orders that used them
    discount_fen: int
    platform_cost_fen: int
    merchant_cost_fen: int
    treated_converted: int  # members with a counted order in the window
    control_converted: int
    uplift: segments.Uplift
    window_start: datetime | None
    window_end: datetime | None
    days: list[DayPoint]


def _campaign_coupon_ids(campaign: Campaign) -> tuple[list[int], int]:
    """(the coupons the campaign put in members' hands, the treated members who claimed):
    issued coupons for a coupon campaign; coupons won by members' draws since the launch
    for a lottery campaign."""
    treated = CampaignMember.objects.filter(campaign=campaign, group=CampaignMember.Group.TREATED)
    if campaign.instrument == Campaign.Instrument.COUPON:
        coupons = list(treated.filter(coupon__isnull=False).values_list("coupon_id", flat=True))
        return coupons, treated.filter(claimed_at__isnull=False).count()
    draws = Draw.objects.filter(lottery_id=campaign.lottery_id, drawn_at__gte=campaign.launched_at,
                                user_id__in=treated.values("user_id"))
    return (list(draws.filter(coupon__isnull=False).values_list("coupon_id", flat=True)),
            draws.values("user_id").distinct().count())


def campaign_stats(*, campaign: Campaign, now: datetime) -> CampaignStats:
    members = CampaignMember.objects.filter(campaign=campaign)
    counts = members.aggregate(
        treated=Count("id", filter=Q(group=CampaignMember.Group.TREATED)),
        control=Count("id", filter=Q(group=CampaignMember.Group.CONTROL)),
        reached=Count("id", filter=Q(group=CampaignMember.Group.TREATED, reached_at__isnull=False)))
    empty = segments.uplift(treated=0, treated_converted=0, control=0, control_converted=0)
    if campaign.launched_at is None:
        return CampaignStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, empty, None, None, [])
    coupon_ids, claimed = _campaign_coupon_ids(campaign)
    redemptions = CouponRedemption.objects.filter(coupon_id__in=coupon_ids, returned_at__isnull=True)
    money = redemptions.aggregate(used=Count("id"), gmv=Sum("order__total_fen"), discount=Sum("discount_fen"),
                                  platform=Sum("platform_fen"), merchant=Sum("merchant_fen"))
    start = campaign.launched_at
    end = min(now, start + timedelta(days=campaign.window_days))
    converted_users = set(counted_orders(campaign.store).filter(created_at__gte=start, created_at__lt=end)
                          .filter(consumer_id__in=members.values("user_id"))
                          .values_list("consumer_id", flat=True).distinct())
    groups = dict(members.values_list("user_id", "group"))
    treated_converted = sum(1 for u in converted_users if groups.get(u) == CampaignMember.Group.TREATED)
    control_converted = sum(1 for u in converted_users if groups.get(u) == CampaignMember.Group.CONTROL)
    return CampaignStats(
        treated=counts["treated"], control=counts["control"], reached=counts["reached"], claimed=claimed,
        used=money["used"], gmv_fen=money["gmv"] or 0, discount_fen=money["discount"] or 0,
        platform_cost_fen=money["platform"] or 0, merchant_cost_fen=money["merchant"] or 0,
        treated_converted=treated_converted, control_converted=control_converted,
        uplift=segments.uplift(treated=counts["treated"], treated_converted=treated_converted,
                               control=counts["control"], control_converted=control_converted),
        window_start=start, window_end=end, days=_days(redemptions, start, end))


def _days(redemptions: QuerySet[CouponRedemption], start: datetime, end: datetime) -> list[DayPoint]:
    """Redemptions and their orders' GMV per local day of the window (at most 31 days shown)."""
    zone = ZoneInfo(settings.LINLI_DEFAULT_CITY_TZ)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    first = max(first, last - timedelta(days=30))
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for at, total in redemptions.values_list("redeemed_at", "order__total_fen"):
        day = at.astimezone(zone).date()
        per_day[day][0] += 1
        per_day[day][1] += total
    return [DayPoint(first + timedelta(days=i), *per_day[first + timedelta(days=i)])
            for i in range((last - first).days + 1)]


def campaigns_of_store(*, store: Store) -> list[Campaign]:
    return list(Campaign.objects.filter(store=store).select_related("coupon_template", "lottery")
                .order_by("-created_at", "-pk")[:50])
