"""/lotteries/{id}, /lotteries/{id}/draw, /me/draws, /campaigns…: parse, call, shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth

from . import campaign_services, engagement_selectors, lottery_draw, lottery_services
from .engagement_models import Campaign, Draw, Lottery, Prize

router = Router(tags=["marketing"], auth=jwt_auth)


class PrizeOut(Schema):
    id: str
    name: str
    kind: str = Field(description="coupon, points or nothing")
    chance: float = Field(description="the chance of winning it now (0 when out of stock or budget)")
    left: int | None = Field(description="units left; null = unlimited")


class LotteryOut(Schema):
    id: str
    title: str
    store_id: str | None
    starts_at: str
    ends_at: str
    running: bool
    eligibility: str = Field(description="per_day, once or per_order (give order_id)")
    prizes: list[PrizeOut]


class DrawIn(Schema):
    order_id: str | None = Field(None, max_length=40, description="per_order lotteries: your completed order")


class DrawPrizeOut(Schema):
    id: str
    name: str
    kind: str


class DrawOut(Schema):
    id: str
    lottery_id: str
    lottery_title: str
    outcome: str = Field(description="coupon, points or nothing")
    prize: DrawPrizeOut | None
    coupon_id: str | None
    points: int
    drawn_at: str


class DrawListOut(Schema):
    items: list[DrawOut]


def lottery_out(lottery: Lottery, now: datetime) -> dict[str, Any]:
    prizes = list(Prize.objects.filter(lottery=lottery))
    chances = lottery_draw.probabilities(lottery_services.prize_options(prizes),
                                         budget_left_fen=lottery.budget_fen - lottery.spent_fen)
    return {"id": lottery.public_id, "title": lottery.title,
            "store_id": lottery.store.public_id if lottery.store_id and lottery.store else None,
            "starts_at": lottery.starts_at.isoformat(), "ends_at": lottery.ends_at.isoformat(),
            "running": lottery_services.lottery_running(lottery, now), "eligibility": lottery.eligibility,
            "prizes": [{"id": p.public_id, "name": p.name, "kind": p.kind,
                        "chance": round(chances.get(p.public_id, 0.0), 6), "left": p.stock} for p in prizes]}


def draw_out(draw: Draw) -> dict[str, Any]:
    prize = draw.prize
    return {"id": draw.public_id, "lottery_id": draw.lottery.public_id, "lottery_title": draw.lottery.title,
            "outcome": draw.outcome,
            "prize": {"id": prize.public_id, "name": prize.name, "kind": prize.kind} if prize else None,
            "coupon_id": draw.coupon.public_id if draw.coupon_id and draw.coupon else None,
            "points": draw.points, "drawn_at": draw.drawn_at.isoformat()}


@router.get("/lotteries/{lottery_id}", response=LotteryOut, auth=None,
            summary="A lottery: its prizes and their chances now")
def lottery_detail(request: HttpRequest, lottery_id: str) -> dict[str, Any]:
    return lottery_out(lottery_services.lottery_get(lottery_id=lottery_id), timezone.now())


@router.post("/lotteries/{lottery_id}/draw", response={201: DrawOut, 200: DrawOut},
             summary="Draw once (retry-safe with an Idempotency-Key header)")
def lottery_draw_endpoint(request: HttpRequest, lottery_id: str, body: DrawIn | None = None,
                          idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    drawn = lottery_services.lottery_draw_once(user=request.auth, lottery_id=lottery_id,  # type: ignore[attr-defined]
                                               key=idempotency_key, order_id=body.order_id if body else None)
    return Status(201 if drawn.created else 200, draw_out(drawn.draw))


@router.get("/me/draws", response=DrawListOut, summary="My draws, newest first")
def my_draws(request: HttpRequest) -> dict[str, Any]:
    return {"items": [draw_out(d) for d in engagement_selectors.draws_of(user=request.auth)]}  # type: ignore[attr-defined]


# --- campaigns (operators; a store's owner or manager for the store's) -------------------------

class CampaignIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    store_id: str | None = Field(None, max_length=40, description="empty = a platform campaign (operators)")
    segment_rule: dict[str, Any] = Field(description='{"match": "all", "conditions": [{"kind": "dormant", "days": 30}]}')
    instrument: Literal["coupon", "lottery"]
    coupon_template_id: str | None = Field(None, max_length=40)
    lottery_id: str | None = Field(None, max_length=40)
    message_title: str = Field(min_length=1, max_length=60)
    message_body: str = Field(min_length=1, max_length=300)
    schedule_at: datetime | None = None
    control_percent: int = Field(10, ge=0, le=50)
    window_days: int = Field(14, ge=1, le=90)


class UpliftOut(Schema):
    treated_rate: float | None
    control_rate: float | None
    uplift: float | None
    low: float | None
    high: float | None


class StatsOut(Schema):
    treated: int
    control: int
    reached: int
    claimed: int
    used: int
    gmv_fen: int
    discount_fen: int
    platform_cost_fen: int
    merchant_cost_fen: int
    treated_converted: int
    control_converted: int
    uplift: UpliftOut


class CampaignOut(Schema):
    id: str
    name: str
    store_id: str | None
    status: str
    instrument: str
    segment_rule: dict[str, Any]
    control_percent: int
    schedule_at: str | None
    launched_at: str | None


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    return {"id": campaign.public_id, "name": campaign.name,
            "store_id": campaign.store.public_id if campaign.store_id and campaign.store else None,
            "status": campaign.status, "instrument": campaign.instrument, "segment_rule": campaign.segment_rule,
            "control_percent": campaign.control_percent,
            "schedule_at": campaign.schedule_at.isoformat() if campaign.schedule_at else None,
            "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None}


def stats_out(stats: engagement_selectors.CampaignStats) -> dict[str, Any]:
    u = stats.uplift
    return {"treated": stats.treated, "control": stats.control, "reached": stats.reached, "claimed": stats.claimed,
            "used": stats.used, "gmv_fen": stats.gmv_fen, "discount_fen": stats.discount_fen,
            "platform_cost_fen": stats.platform_cost_fen, "merchant_cost_fen": stats.merchant_cost_fen,
            "treated_converted": stats.treated_converted, "control_converted": stats.control_converted,
            "uplift": {"treated_rate": u.treated_rate, "control_rate": u.control_rate, "uplift": u.uplift,
                       "low": u.low, "high": u.high}}


@router.post("/campaigns", response={201: CampaignOut}, summary="Create a draft (or scheduled) campaign")
def campaign_create(request: HttpRequest, body: CampaignIn) -> Status[dict[str, Any]]:
    terms = campaign_services.CampaignTerms(**body.dict())
    campaign = campaign_services.campaign_create(actor=request.auth, terms=terms)  # type: ignore[attr-defined]
    return Status(201, campaign_out(campaign))


@router.post("/campaigns/{campaign_id}/launch", response=CampaignOut,
             summary="Launch now: segment, control group, coupons and messages, all or nothing")
def campaign_launch(request: HttpRequest, campaign_id: str) -> dict[str, Any]:
    return campaign_out(campaign_services.campaign_launch(campaign_id=campaign_id, actor=request.auth))  # type: ignore[attr-defined]


@router.get("/campaigns/{campaign_id}/stats", response=StatsOut, summary="Reached, claimed, used, GMV, cost, uplift")
def campaign_stats(request: HttpRequest, campaign_id: str) -> dict[str, Any]:
    campaign = campaign_services.campaign_get(campaign_id=campaign_id)
    campaign_services.check_may_manage(request.auth, campaign.store)  # type: ignore[attr-defined]
    return stats_out(engagement_selectors.campaign_stats(campaign=campaign, now=timezone.now()))
