"""Service appointments on the web (docs/bookings.md). Consumer: `/bookings/store/<store>` (pick a
service, a day, optionally a staff member, then a free time), `/bookings/mine` with cancel and
reschedule. Merchant console `/m/bookings`: the calendar per staff/resource by day or week, with
confirm, check-in, complete, no-show and cancel. Every write is one `bookings.services` call,
so the pages refuse exactly what the API refuses."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.bookings import selectors, services
from linli.bookings.models import Booking
from linli.core.errors import DomainError
from linli.merchants.selectors import StoreNotFound, store_get

from .common import consumer_required, error_context, merchant_required, refused, status_of
from .views_merchant import console_frame

CONSUMER_BASE = "web/consumer/base.html"
MERCHANT_BASE = "web/merchant/base.html"


def _day(raw: str | None, default: date) -> date:
    try:
        return services.day_parse(raw) if raw else default
    except DomainError:
        return default


def _start(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return datetime(1970, 1, 1)  # naive: the service refuses it (invalid_slot_time)


# --- consumer: book -----------------------------------------------------------------------------

def _book_context(request: HttpRequest, store_id: str, *, error: dict[str, Any] | None = None) -> dict[str, Any]:
    store = store_get(public_id=store_id)
    offered = selectors.services_of_store(store=store)
    today = selectors.local_today(store)
    day = _day(request.GET.get("date") or request.POST.get("date"), today)
    chosen_id = request.GET.get("service") or request.POST.get("service") or (
        offered[0].product.public_id if offered else "")
    resource_id = request.GET.get("resource") or request.POST.get("resource") or None
    context: dict[str, Any] = {"store": store, "services": offered, "day": day, "chosen": None, "slots": [],
                               "resources": [], "resource_id": resource_id or "", "error": error,
                               "days": [today + timedelta(days=i) for i in range(7)],
                               "key": secrets.token_hex(12), "zone": ZoneInfo(store.timezone)}
    if chosen_id:
        try:
            found = selectors.availability_get(store_id=store_id, service_id=chosen_id, day=day,
                                               resource_id=resource_id)
        except DomainError as exc:
            context["error"] = context["error"] or error_context(exc)
        else:
            names: dict[str, str] = {str(r.public_id): r.name for r in found.resources}
            context.update(chosen=found.service, resources=found.resources, slots=[
                {"start": s.starts_at.astimezone(context["zone"]), "resource": s.resources[0][0],
                 "who": names.get(s.resources[0][0], ""), "seats_left": s.resources[0][1]} for s in found.slots])
    return context


@require_GET
def book_page(request: HttpRequest, store_id: str) -> HttpResponse:
    try:
        context = _book_context(request, store_id)
    except StoreNotFound as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    with timezone.override(context["zone"]):  # times shown in the store's time zone
        return render(request, "web/bookings/book.html", context, status=status_of(context["error"]))


@consumer_required
@require_POST
def book_submit(request: HttpRequest, store_id: str) -> HttpResponse:
    """Book the chosen time; the page's key makes a double tap one booking."""
    try:
        done = services.booking_create(
            consumer=request.user, store_id=store_id, service_id=request.POST.get("service", ""),  # type: ignore[arg-type]
            start=_start(request.POST.get("start", "")), resource_id=request.POST.get("slot_resource") or None,
            note=request.POST.get("note", "")[:200], idempotency_key=request.POST.get("key", ""))
    except DomainError as exc:
        try:
            context = _book_context(request, store_id, error=error_context(exc))
        except StoreNotFound:
            return refused(request, exc, base=CONSUMER_BASE)
        with timezone.override(context["zone"]):
            return render(request, "web/bookings/book.html", context, status=exc.status)
    if done.booking.order_id and done.booking.status == Booking.Status.REQUESTED:
        return redirect(f"/orders/{done.booking.order.public_id}/pay")  # type: ignore[union-attr]
    messages.success(request, _("Booked: see you then."))
    return redirect(f"/bookings/mine#{done.booking.public_id}")


# --- consumer: my bookings ---------------------------------------------------------------------------

def _local(booking: Booking) -> Booking:
    """Its start in its store's time zone, as text (the store may be in another zone than the page)."""
    local = booking.starts_at.astimezone(ZoneInfo(booking.store.timezone))
    booking.local_start = local  # type: ignore[attr-defined]
    booking.when = local.strftime("%Y-%m-%d %H:%M")  # type: ignore[attr-defined]
    booking.actions = services.MACHINE.actions_from(booking.status, "consumer")  # type: ignore[attr-defined]
    return booking


@consumer_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    upcoming = [_local(b) for b in selectors.bookings_of(user=request.user, upcoming=True)]  # type: ignore[arg-type]
    past = [_local(b) for b in selectors.bookings_of(user=request.user, upcoming=False, limit=30)]  # type: ignore[arg-type]
    return render(request, "web/bookings/mine.html", {"upcoming": upcoming, "past": past})


@consumer_required
@require_POST
def my_booking_cancel(request: HttpRequest, booking_id: str) -> HttpResponse:
    try:
        booking = services.booking_act(actor=request.user, booking_id=booking_id, action="cancel")  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    if booking.fee_fen:
        messages.warning(request, _("Cancelled after the deadline: a fee of ¥%(fee)s is due at the store.")
                         % {"fee": f"{booking.fee_fen / 100:.2f}"})
    else:
        messages.success(request, _("Cancelled."))
    return redirect("/bookings/mine")


def _reschedule_context(request: HttpRequest, booking: Booking, error: dict[str, Any] | None = None) -> dict[str, Any]:
    store = booking.store
    zone = ZoneInfo(store.timezone)
    day = _day(request.GET.get("date") or request.POST.get("date"), booking.starts_at.astimezone(zone).date())
    found = selectors.availability_get(store_id=store.public_id, service_id=booking.service.product.public_id,
                                       day=day)
    today = selectors.local_today(store)
    return {"booking": _local(booking), "day": day, "error": error, "zone": zone,
            "days": [today + timedelta(days=i) for i in range(14)],
            "slots": [s.starts_at.astimezone(zone) for s in found.slots]}


@consumer_required
def my_booking_reschedule(request: HttpRequest, booking_id: str) -> HttpResponse:
    try:
        booking = selectors.booking_of(user=request.user, booking_id=booking_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    if request.method == "POST":
        try:
            services.booking_reschedule(actor=request.user, booking_id=booking_id,  # type: ignore[arg-type]
                                        start=_start(request.POST.get("start", "")))
        except DomainError as exc:
            error = error_context(exc)
            with timezone.override(ZoneInfo(booking.store.timezone)):
                return render(request, "web/bookings/reschedule.html",
                              _reschedule_context(request, booking, error), status=status_of(error))
        messages.success(request, _("The new time is booked."))
        return redirect(f"/bookings/mine#{booking_id}")
    with timezone.override(ZoneInfo(booking.store.timezone)):
        return render(request, "web/bookings/reschedule.html", _reschedule_context(request, booking))


# --- merchant console: the calendar ------------------------------------------------------------------

@merchant_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    try:
        frame = console_frame(request, "bookings")
    except StoreNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    store = frame["store"]
    zone = ZoneInfo(store.timezone)
    first = _day(request.GET.get("date"), selectors.local_today(store))
    view = "week" if request.GET.get("view") == "week" else "day"
    try:
        found = selectors.calendar_get(actor=request.user, store_id=store.public_id, first=first,  # type: ignore[arg-type]
                                       days=7 if view == "week" else 1,
                                       resource_id=request.GET.get("resource") or None)
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    by_cell: dict[tuple[int, date], list[Booking]] = {}
    for b in found.bookings:
        local = b.starts_at.astimezone(zone)
        b.local_start, b.local_end = local, b.ends_at.astimezone(zone)  # type: ignore[attr-defined]
        b.actions = [a for a in services.MACHINE.actions_from(b.status, "merchant")  # type: ignore[attr-defined]
                     if a in services.MERCHANT_ACTIONS]
        by_cell.setdefault((b.resource_id, local.date()), []).append(b)
    rows = [{"day": d, "cells": [by_cell.get((r.pk, d), []) for r in found.resources]} for d in found.days]
    step = 7 if view == "week" else 1
    with timezone.override(zone):
        return render(request, "web/bookings/calendar.html", {
            **frame, "view": view, "first": first, "rows": rows, "resources": found.resources,
            "resource_id": request.GET.get("resource", ""), "count": len(found.bookings),
            "prev": first - timedelta(days=step), "next": first + timedelta(days=step)})


@merchant_required
@require_POST
def calendar_act(request: HttpRequest, booking_id: str, action: str) -> HttpResponse:
    back = request.POST.get("back", "/m/bookings")
    back = back if back.startswith("/m/bookings") else "/m/bookings"
    if action not in services.MERCHANT_ACTIONS:
        return refused(request, services.errors.BookingNotFound(), base=MERCHANT_BASE)
    try:
        booking = services.booking_act(actor=request.user, booking_id=booking_id, action=action)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    messages.success(request, _("%(name)s: %(status)s") % {"name": booking.consumer.display_name
                                                           or booking.consumer.username,
                                                           "status": booking.get_status_display()})
    return redirect(back)


urlpatterns = [
    path("bookings/store/<str:store_id>", book_page, name="bookings-book"),
    path("bookings/store/<str:store_id>/book", book_submit, name="bookings-book-submit"),
    path("bookings/mine", my_bookings, name="bookings-mine"),
    path("bookings/<str:booking_id>/cancel", my_booking_cancel, name="bookings-cancel"),
    path("bookings/<str:booking_id>/reschedule", my_booking_reschedule, name="bookings-reschedule"),
    path("m/bookings", calendar_page, name="bookings-calendar"),
    path("m/bookings/<str:booking_id>/<str:action>", calendar_act, name="bookings-act"),
]
