"""Lottery page and draw (`/lotteries/<id>`), the inbox (`/me/messages`) and the merchant
console's campaigns (`/m/campaigns`, results and charts). Marketing and notifications
decide; these views read, call and render. The draw form answers its result fragment to
an htmx request (`HX-Request`) and the whole page otherwise."""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError
from linli.marketing import lottery_draw
from linli.marketing.campaign_report import campaign_report
from linli.marketing.engagement_models import Draw, Prize
from linli.marketing.engagement_selectors import campaigns_of_store
from linli.marketing.lottery_services import (
    lottery_draw_once,
    lottery_get,
    lottery_running,
    prize_options,
)
from linli.merchants.selectors import StoreNotFound
from linli.notifications.selectors import inbox, unread_count
from linli.notifications.services import message_read

from .common import consumer_required, error_context, merchant_required, refused
from .views_merchant import console_frame

LOTTERY = "web/consumer/lottery.html"


def _lottery_context(request: HttpRequest, lottery_id: str, **extra: Any) -> dict[str, Any]:
    lottery = lottery_get(lottery_id=lottery_id)
    prizes = list(Prize.objects.filter(lottery=lottery))
    chances = lottery_draw.probabilities(prize_options(prizes), budget_left_fen=lottery.budget_fen - lottery.spent_fen)
    for prize in prizes:
        prize.chance = f"{chances.get(prize.public_id, 0.0) * 100:.1f}%"  # type: ignore[attr-defined]
    mine = (list(Draw.objects.filter(lottery=lottery, user=request.user).select_related("prize", "coupon")
                 .order_by("-drawn_at")[:10]) if request.user.is_authenticated else [])
    return {"lottery": lottery, "prizes": prizes, "running": lottery_running(lottery, timezone.now()),
            "mine": mine, "draw_key": secrets.token_urlsafe(12), "result": None, "error": None, **extra}


@require_GET
def lottery_page(request: HttpRequest, lottery_id: str) -> HttpResponse:
    try:
        context = _lottery_context(request, lottery_id)
    except DomainError as exc:
        return refused(request, exc, base="web/consumer/base.html")
    return render(request, LOTTERY, context)


@require_POST
def lottery_draw_view(request: HttpRequest, lottery_id: str) -> HttpResponse:
    """One draw (the page's key makes a double tap draw once)."""
    if not request.user.is_authenticated:
        return redirect(f"/login?next=/lotteries/{lottery_id}")
    result, error, status = None, None, 200
    try:
        result = lottery_draw_once(user=request.user, lottery_id=lottery_id,  # type: ignore[arg-type]
                                   key=request.POST.get("draw_key", "")[:100],
                                   order_id=request.POST.get("order_id") or None).draw
    except DomainError as exc:
        error, status = error_context(exc), exc.status
    if request.headers.get("HX-Request"):
        return render(request, "web/consumer/_draw_result.html", {"result": result, "error": error}, status=status)
    try:
        context = _lottery_context(request, lottery_id, result=result, error=error)
    except DomainError as exc:
        return refused(request, exc, base="web/consumer/base.html")
    return render(request, LOTTERY, context, status=status)


@consumer_required
@require_GET
def my_messages(request: HttpRequest) -> HttpResponse:
    return render(request, "web/consumer/messages.html", {
        "messages_list": inbox(user=request.user), "unread": unread_count(user=request.user)})  # type: ignore[arg-type]


@consumer_required
@require_POST
def my_message_read(request: HttpRequest, message_id: str) -> HttpResponse:
    """Mark read, then follow the message's link (or back to the inbox)."""
    try:
        message = message_read(user=request.user, message_id=message_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base="web/consumer/base.html")
    link = message.link if message.link.startswith("/") and not message.link.startswith("//") else ""
    return redirect(link or "/me/messages")


@merchant_required
@require_GET
def merchant_campaigns(request: HttpRequest) -> HttpResponse:
    """The current store's campaigns with their results and charts (read-only here)."""
    try:
        frame = console_frame(request, "campaigns")
    except StoreNotFound as exc:
        return refused(request, exc, base="web/merchant/base.html")
    now = timezone.now()
    reports = [campaign_report(c, now) for c in campaigns_of_store(store=frame["store"])]
    return render(request, "web/merchant/campaigns.html", {**frame, "reports": reports})


# Spliced into web/urls.py's patterns (`*engagement.urlpatterns`).
urlpatterns = [
    path("lotteries/<str:lottery_id>", lottery_page, name="web-lottery"),
    path("lotteries/<str:lottery_id>/draw", lottery_draw_view, name="web-lottery-draw"),
    path("me/messages", my_messages, name="web-my-messages"),
    path("me/messages/<str:message_id>/read", my_message_read, name="web-my-message-read"),
    path("m/campaigns", merchant_campaigns, name="web-merchant-campaigns"),
]
