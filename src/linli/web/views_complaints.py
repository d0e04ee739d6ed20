"""Consumer complaint pages (issue 10): file a complaint about a store, a rider or the
platform (from an order or on its own), follow it (status, due time, resolution, timeline;
support's internal notes are never shown), `/me/complaints`. Every write is one
`aftersales.complaints` call, so the page refuses exactly what the API refuses."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from linli.aftersales import complaints, selectors
from linli.aftersales.models import Ticket
from linli.core.errors import DomainError

from .common import consumer_required, error_context, refused, status_of

CONSUMER_BASE = "web/consumer/base.html"
_FIELDS = ("subject_kind", "category", "description", "order_id", "store_id")


def _form_context(form: dict[str, str], error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"form": form, "error": error, "subjects": Ticket.Subject.choices,
            "categories": Ticket.Category.choices}


@consumer_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = {"subject_kind": request.GET.get("about", "merchant"), "category": "service", "description": "",
                "order_id": request.GET.get("order", "")[:40], "store_id": request.GET.get("store", "")[:40]}
        return render(request, "web/complaints/new.html", _form_context(form))
    form = {f: request.POST.get(f, "").strip() for f in _FIELDS}
    try:
        ticket = complaints.ticket_create(reporter=request.user, subject_kind=form["subject_kind"],  # type: ignore[arg-type]
                                          category=form["category"], description=form["description"],
                                          order_id=form["order_id"], store_id=form["store_id"])
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/complaints/new.html", _form_context(form, error), status=status_of(error))
    return redirect(f"/complaints/{ticket.public_id}")


@consumer_required
@require_GET
def complaint_detail(request: HttpRequest, ticket_id: str) -> HttpResponse:
    try:
        ticket = selectors.ticket_for_reporter(user=request.user, ticket_id=ticket_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    labels = dict(Ticket.Status.choices)
    events = [{"at": e.created_at, "label": labels.get(e.to_status, e.to_status)} for e in ticket.events.order_by("id")]
    return render(request, "web/complaints/detail.html",
                  {"ticket": ticket, "events": events, "city_tz": settings.LINLI_DEFAULT_CITY_TZ})


@consumer_required
@require_GET
def my_complaints(request: HttpRequest) -> HttpResponse:
    return render(request, "web/complaints/mine.html",
                  {"tickets": selectors.tickets_of_reporter(user=request.user)})  # type: ignore[arg-type]


urlpatterns = [
    path("complaints/new", complaint_new, name="web-complaint-new"),
    path("complaints/<str:ticket_id>", complaint_detail, name="web-complaint-detail"),
    path("me/complaints", my_complaints, name="web-my-complaints"),
]
