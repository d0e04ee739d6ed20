"""Pages of After-sales requests, complaints and arbitration. Consumer: ask for after-sales on
an order (kind, reason, items, amount, photos), follow the request's timeline and answer
(accept a partial offer, escalate, withdraw, say the goods went back), `/me/aftersales`.
Merchant console `/m/aftersales`: the queue with the SLA countdown, one request with its
photos and the store's answers. Every write is one `aftersales.services` call, so the pages
refuse exactly what the API refuses (docs/aftersales.md). The operator's side is /ops/."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.aftersales import errors, selectors, services
from linli.aftersales.models import AfterSalesRequest
from linli.aftersales.states import (
    AS,
    REQUEST_MACHINE,
    action_allowed_for_kind,
    sla_remaining_seconds,
)
from linli.core.errors import DomainError
from linli.merchants.selectors import StoreNotFound

from .common import consumer_required, error_context, merchant_required, refused, status_of
from .views_merchant import console_frame

CONSUMER_BASE = "web/consumer/base.html"
MERCHANT_BASE = "web/merchant/base.html"


def _fen(raw: str) -> int | None:
    """"12.5" yuan -> 1250 fen; "" -> None; anything else -> -1 (the service refuses it)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
        return int(value * 100) if value.is_finite() and value == value.quantize(Decimal("0.01")) else -1
    except InvalidOperation:
        return -1


EVENT_LABELS = {
    "submit": gettext_lazy("Request submitted"), "agree": gettext_lazy("The store agreed"),
    "auto_agree": gettext_lazy("Agreed automatically (the store did not answer in time)"),
    "reject": gettext_lazy("The store rejected"), "propose_partial": gettext_lazy("The store proposed a partial refund"),
    "accept_partial": gettext_lazy("Partial refund accepted"), "escalate": gettext_lazy("Platform arbitration asked"),
    "cancel": gettext_lazy("Request withdrawn"), "refund": gettext_lazy("Refunded"),
    "ship_back": gettext_lazy("Goods sent back"), "confirm_return": gettext_lazy("Return received and refunded"),
    "resend": gettext_lazy("Sent again"),
    "auto_confirm_return": gettext_lazy("Refunded automatically (the store did not confirm the return in time)"), "arbitrate": gettext_lazy("The platform decided a refund"),
    "arbitrate_none": gettext_lazy("The platform decided no refund"),
}


def _actions(req: AfterSalesRequest, role: str) -> list[str]:
    return [a for a in REQUEST_MACHINE.actions_from(req.status, role) if action_allowed_for_kind(a, req.kind)]


def _events(req: AfterSalesRequest) -> list[dict[str, Any]]:
    return [{"event": e, "label": EVENT_LABELS.get(e.action, e.action)} for e in req.events.all()]


def _sla(req: AfterSalesRequest) -> dict[str, Any] | None:
    if req.status != AS.SUBMITTED:
        return None
    seconds = sla_remaining_seconds(req.merchant_due_at, timezone.now())
    left = max(seconds, 0)
    return {"seconds": seconds, "overdue": seconds <= 0, "hours": left // 3600, "minutes": left % 3600 // 60}


# --- consumer --------------------------------------------------------------------------------------

def _form_context(order: Any, form: dict[str, Any], error: dict[str, Any] | None = None) -> dict[str, Any]:
    lines = [{"line": n, "item": item, "picked": form.get(f"qty_{n}", "")}
             for n, item in enumerate(order.items.all(), start=1)]
    return {"order": order, "form": form, "lines": lines, "error": error,
            "kinds": AfterSalesRequest.Kind.choices, "reasons": AfterSalesRequest.Reason.choices,
            "max_photos": services.MAX_PHOTOS}


def _picks(request: HttpRequest, count: int) -> list[services.ItemPick]:
    picks = []
    for n in range(1, count + 1):
        raw = (request.POST.get(f"qty_{n}") or "").strip()
        if raw and raw != "0":
            picks.append(services.ItemPick(line=n, quantity=int(raw) if raw.isdigit() else -1))
    return picks


@consumer_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, order_id: str) -> HttpResponse:
    try:
        order = services.order_eligible(user=request.user, order_id=order_id, now=timezone.now())  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    fields = ("kind", "reason", "amount", "description")
    form: dict[str, Any] = {k: request.POST.get(k, "") for k in fields}
    form.update({k: v for k, v in request.POST.items() if k.startswith("qty_")})
    if request.method == "GET":
        form["kind"] = form["kind"] or "refund_only"
        return render(request, "web/aftersales/new.html", _form_context(order, form))
    uploads = request.FILES.getlist("photos")
    try:
        if len(uploads) > services.MAX_PHOTOS:
            raise errors.TooManyPhotos(count=len(uploads), max=services.MAX_PHOTOS)
        photos = [services.photo_upload(user=request.user, upload=u) for u in uploads]  # type: ignore[arg-type]
        req = services.request_create(
            consumer=request.user, order_id=order_id, kind=form["kind"], reason=form["reason"],  # type: ignore[arg-type]
            description=form["description"], items=_picks(request, order.items.count()),
            amount_fen=None if form["kind"] == "redelivery" else _fen(form["amount"]),
            photo_ids=[p.public_id for p in photos])
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/aftersales/new.html", _form_context(order, form, error), status=status_of(error))
    return redirect(f"/aftersales/{req.public_id}")


def _detail_context(req: AfterSalesRequest, role: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"req": req, "events": _events(req), "actions": _actions(req, role), "sla": _sla(req),
            "error": error}


@consumer_required
@require_GET
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    try:
        req = selectors.request_for_consumer(user=request.user, request_id=request_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    return render(request, "web/aftersales/detail.html", _detail_context(req, "consumer"))


CONSUMER_ACTIONS = {
    "accept-partial": lambda user, rid, post: services.request_accept_partial(consumer=user, request_id=rid),
    "escalate": lambda user, rid, post: services.request_escalate(consumer=user, request_id=rid,
                                                                  reason=post.get("reason", "")),
    "cancel": lambda user, rid, post: services.request_cancel(consumer=user, request_id=rid),
    "ship-back": lambda user, rid, post: services.request_ship_back(consumer=user, request_id=rid,
                                                                    note=post.get("note", "")),
}


@consumer_required
@require_POST
def request_act(request: HttpRequest, request_id: str, action: str) -> HttpResponse:
    try:
        req = selectors.request_for_consumer(user=request.user, request_id=request_id)  # type: ignore[arg-type]
        call = CONSUMER_ACTIONS.get(action)
        if call is None:
            raise errors.NotAllowedNow(action=action)
        call(request.user, request_id, request.POST)
    except errors.RequestNotFound as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    except DomainError as exc:
        error = error_context(exc)
        req = selectors.request_for_consumer(user=request.user, request_id=request_id)  # type: ignore[arg-type]
        return render(request, "web/aftersales/detail.html", _detail_context(req, "consumer", error),
                      status=status_of(error))
    return redirect(f"/aftersales/{request_id}")


@consumer_required
@require_GET
def my_requests(request: HttpRequest) -> HttpResponse:
    return render(request, "web/aftersales/mine.html",
                  {"requests": selectors.requests_of_consumer(user=request.user)})  # type: ignore[arg-type]


# --- merchant console ------------------------------------------------------------------------------

def _queue_context(request: HttpRequest) -> dict[str, Any]:
    frame = console_frame(request, "aftersales")
    show_all = request.GET.get("all") == "1"
    rows = selectors.merchant_queue(user=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
                                    open_only=not show_all)
    return {**frame, "rows": [{"req": r, "sla": _sla(r)} for r in rows], "show_all": show_all}


@merchant_required
@require_GET
def merchant_queue(request: HttpRequest) -> HttpResponse:
    try:
        context = _queue_context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    return render(request, "web/aftersales/merchant_queue.html", context)


def _merchant_detail(request: HttpRequest, request_id: str, error: dict[str, Any] | None = None) -> HttpResponse:
    try:
        req = selectors.request_for_merchant(user=request.user, request_id=request_id)  # type: ignore[arg-type]
        frame = console_frame(request, "aftersales")
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    return render(request, "web/aftersales/merchant_detail.html",
                  {**frame, **_detail_context(req, "merchant", error)}, status=status_of(error))


@merchant_required
@require_GET
def merchant_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    return _merchant_detail(request, request_id)


MERCHANT_ACTIONS = {
    "agree": lambda user, rid, post: services.merchant_agree(actor=user, request_id=rid, note=post.get("note", "")),
    "reject": lambda user, rid, post: services.merchant_reject(actor=user, request_id=rid,
                                                               reason=post.get("reason", "")),
    "propose-partial": lambda user, rid, post: services.merchant_propose_partial(
        actor=user, request_id=rid, amount_fen=_fen(post.get("amount", "")) or -1, note=post.get("note", "")),
    "confirm-return": lambda user, rid, post: services.merchant_confirm_return(actor=user, request_id=rid),
    "resend": lambda user, rid, post: services.merchant_resend(actor=user, request_id=rid,
                                                               note=post.get("note", "")),
}


@merchant_required
@require_POST
def merchant_act(request: HttpRequest, request_id: str, action: str) -> HttpResponse:
    try:
        call = MERCHANT_ACTIONS.get(action)
        if call is None:
            raise errors.NotAllowedNow(action=action)
        call(request.user, request_id, request.POST)
    except errors.RequestNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    except DomainError as exc:
        return _merchant_detail(request, request_id, error_context(exc))
    messages.success(request, _("Answer recorded."))
    return redirect(f"/m/aftersales/{request_id}")


urlpatterns = [
    path("orders/<str:order_id>/aftersales/new", request_new, name="web-aftersales-new"),
    path("aftersales/<str:request_id>", request_detail, name="web-aftersales-detail"),
    path("aftersales/<str:request_id>/<str:action>", request_act, name="web-aftersales-act"),
    path("me/aftersales", my_requests, name="web-my-aftersales"),
    path("m/aftersales", merchant_queue, name="web-merchant-aftersales"),
    path("m/aftersales/<str:request_id>", merchant_detail, name="web-merchant-aftersales-detail"),
    path("m/aftersales/<str:request_id>/<str:action>", merchant_act, name="web-merchant-aftersales-act"),
]
