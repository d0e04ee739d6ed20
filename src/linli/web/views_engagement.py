"""Lottery page and draw (`/lotteries/<id>`), the message centre (`/me/messages`, its settings) and the merchant
console's campaigns (`/m/campaigns`, results and charts). Marketing and notifications
decide; these views read, call and render. The draw form answers its result fragment to
an htmx request (`HX-Request`) and the whole page otherwise."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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
from linli.notifications.models import Category
from linli.notifications.selectors import inbox, unread_count
from linli.notifications.services import (
    PREFERENCE_FLAGS,
    message_read,
    messages_read_all,
    preference_of,
    preference_update,
)

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
    """The message centre: newest first, one category at a time (`?category=order`)."""
    category = request.GET.get("category", "")
    category = category if category in Category.VALUES else ""
    return render(request, "web/consumer/messages.html", {
        "messages_list": inbox(user=request.user, category=category),  # type: ignore[arg-type]
        "unread": unread_count(user=request.user), "category": category,  # type: ignore[arg-type]
        "categories": Category.CHOICES})


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


@consumer_required
@require_POST
def my_messages_read_all(request: HttpRequest) -> HttpResponse:
    messages_read_all(user=request.user)  # type: ignore[arg-type]
    return redirect("/me/messages")


class NotificationSettingsForm(forms.Form):
    marketing_in_app = forms.BooleanField(required=False, label=_("Promotions in my messages"))
    order_push = forms.BooleanField(required=False, label=_("Order updates by push"))
    order_sms = forms.BooleanField(required=False, label=_("Order updates by SMS"))
    promotion_push = forms.BooleanField(required=False, label=_("Promotions by push"))
    promotion_sms = forms.BooleanField(required=False, label=_("Promotions by SMS"))
    system_push = forms.BooleanField(required=False, label=_("System notices by push"))
    system_sms = forms.BooleanField(required=False, label=_("System notices by SMS"))
    quiet_start = forms.TimeField(required=False, label=_("Quiet hours from"),
                                  widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    quiet_end = forms.TimeField(required=False, label=_("Quiet hours until"),
                                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    language = forms.ChoiceField(required=False, label=_("Language of messages"),
                                 choices=[("", _("Same as the app"))] + list(settings.LANGUAGES))


@consumer_required
def my_message_settings(request: HttpRequest) -> HttpResponse:
    """Which messages reach me by SMS and push, quiet hours, language (GET form, POST save)."""
    template = "web/consumer/message_settings.html"
    context: dict[str, Any] = {"tz": settings.LINLI_DEFAULT_CITY_TZ}
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if not form.is_valid():
            return render(request, template, {**context, "form": form}, status=422)
        changes = dict(form.cleaned_data)
        changes["marketing_opt_out"] = not changes.pop("marketing_in_app")
        try:
            preference = preference_update(user=request.user, changes=changes)  # type: ignore[arg-type]
        except DomainError as exc:
            return render(request, template, {**context, "form": form, "error": error_context(exc)},
                          status=exc.status)
        context["saved"] = True
    else:
        preference = preference_of(request.user)  # type: ignore[arg-type]
    initial: dict[str, Any] = {flag: getattr(preference, flag) for flag in PREFERENCE_FLAGS}
    initial["marketing_in_app"] = not initial.pop("marketing_opt_out")
    initial.update(quiet_start=preference.quiet_start, quiet_end=preference.quiet_end,
                   language=preference.language)
    return render(request, template, {**context, "form": NotificationSettingsForm(initial=initial)})


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
    path("me/messages/read-all", my_messages_read_all, name="web-my-messages-read-all"),
    path("me/messages/settings", my_message_settings, name="web-my-message-settings"),
    path("me/messages/<str:message_id>/read", my_message_read, name="web-my-message-read"),
    path("m/campaigns", merchant_campaigns, name="web-merchant-campaigns"),
]
