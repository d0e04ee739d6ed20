"""Pages of table reservations and the walk-in queue (src/linli/bookings/tables/README.md).

Consumer: `/stores/<id>/tables` (pick party size, day and slot; take a queue number),
`/me/reservations` (with cancel), `/queue/<ticket>` (the number with its live position:
the page re-reads its status part whenever the store's queue of its group changes, over
Server-Sent Events). Merchant console: `/m/reservations` (the day's reservations: confirm,
seat, complete, no-show, cancel) and `/m/queue` (the board: call next per group, seat,
skip), live the same way. Every write is one `bookings.tables.services` call, so the pages
refuse exactly what the API refuses."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from linli.bookings.tables import selectors, services
from linli.bookings.tables.errors import InvalidSlot
from linli.core.errors import DomainError
from linli.merchants import roles
from linli.merchants.selectors import store_for_member

from .common import consumer_required, error_context, merchant_required, refused, status_of
from .events import sse_response
from .views_merchant import console_frame

CONSUMER_BASE = "web/consumer/base.html"
MERCHANT_BASE = "web/merchant/base.html"
PARTY_CHOICES = range(1, 13)


def _int(raw: str | None, default: int) -> int:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else default


# --- consumer -------------------------------------------------------------------------------------

def _tables_context(request: HttpRequest, store_id: str, *, party: int, day_raw: str,
                    error: dict[str, Any] | None = None) -> dict[str, Any]:
    found = selectors.store_tables(store_id=store_id)
    zone = services.store_zone(found.store)
    today = timezone.now().astimezone(zone).date()
    days = [today + timedelta(days=n) for n in range(min(found.setup.days_ahead, 6) + 1)]
    slots: list[selectors.Slot] = []
    slot_error = None
    day: date = today
    if found.setup.takes_reservations:
        try:
            day = selectors.parse_day(day_raw) if day_raw else today
            slots = selectors.availability(store_id=store_id, day=day, party_size=party)
        except DomainError as exc:
            slot_error = error_context(exc)
    return {"store": found.store, "setup": found.setup, "table_types": found.table_types, "waiting": found.waiting,
            "party": party, "parties": PARTY_CHOICES, "days": days, "day": day, "slots": slots,
            "slot_error": slot_error, "error": error, "form_key": secrets.token_hex(12)}


@require_GET
def tables_page(request: HttpRequest, store_id: str) -> HttpResponse:
    try:
        context = _tables_context(request, store_id, party=_int(request.GET.get("party"), 2),
                                  day_raw=request.GET.get("date", ""))
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    return render(request, "web/tables/store.html", context)


@require_POST
@consumer_required
def reserve(request: HttpRequest, store_id: str) -> HttpResponse:
    party = _int(request.POST.get("party"), 0)
    try:
        starts_at = parse_datetime(request.POST.get("starts_at", ""))
        if starts_at is None:
            raise InvalidSlot(starts_at=request.POST.get("starts_at", ""))
        placed = services.reservation_create(
            consumer=request.user, store_id=store_id, party_size=party, starts_at=starts_at,  # type: ignore[arg-type]
            note=request.POST.get("note", ""), idempotency_key=request.POST.get("idempotency_key", ""))
    except DomainError as exc:
        try:
            context = _tables_context(request, store_id, party=party or 2, day_raw=request.POST.get("date", ""),
                                      error=error_context(exc))
        except DomainError as outer:
            return refused(request, outer, base=CONSUMER_BASE)
        return render(request, "web/tables/store.html", context, status=exc.status)
    messages.success(request, _("Table reserved: %(type)s for %(n)s people.")
                     % {"type": placed.reservation.table_type.name, "n": placed.reservation.party_size})
    return redirect("/me/reservations")


@require_POST
@consumer_required
def queue_take(request: HttpRequest, store_id: str) -> HttpResponse:
    party = _int(request.POST.get("party"), 0)
    try:
        ticket = services.queue_take(consumer=request.user, store_id=store_id, party_size=party)  # type: ignore[arg-type]
    except DomainError as exc:
        try:
            context = _tables_context(request, store_id, party=party or 2, day_raw="", error=error_context(exc))
        except DomainError as outer:
            return refused(request, outer, base=CONSUMER_BASE)
        return render(request, "web/tables/store.html", context, status=exc.status)
    return redirect(f"/queue/{ticket.public_id}")


def _my_reservations(request: HttpRequest, error: dict[str, Any] | None = None) -> dict[str, Any]:
    now = timezone.now()
    rows = []
    for r in selectors.reservations_of_consumer(user=request.user):  # type: ignore[arg-type]
        deadline = selectors.cancel_deadline(r)
        may_cancel = r.status == "requested" or (r.status == "confirmed" and now <= deadline)
        rows.append({"r": r, "deadline": deadline, "may_cancel": may_cancel})
    tickets = [t for t in selectors.queue_tickets_of_consumer(user=request.user)  # type: ignore[arg-type]
               if t.status in ("waiting", "called")]
    return {"rows": rows, "tickets": tickets, "error": error}


@require_GET
@consumer_required
def my_reservations(request: HttpRequest) -> HttpResponse:
    return render(request, "web/tables/my_reservations.html", _my_reservations(request))


@require_POST
@consumer_required
def reservation_cancel(request: HttpRequest, reservation_id: str) -> HttpResponse:
    try:
        services.reservation_cancel(consumer=request.user, reservation_id=reservation_id,  # type: ignore[arg-type]
                                    reason=request.POST.get("reason", ""))
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/tables/my_reservations.html", _my_reservations(request, error),
                      status=status_of(error))
    messages.success(request, _("Reservation cancelled."))
    return redirect("/me/reservations")


def _ticket_context(request: HttpRequest, ticket_id: str) -> dict[str, Any]:
    ticket = selectors.queue_ticket_of_consumer(user=request.user, ticket_id=ticket_id)  # type: ignore[arg-type]
    return {"ticket": ticket, "position": selectors.queue_position(ticket),
            "active": ticket.status in ("waiting", "called")}


@require_GET
@consumer_required
def ticket_page(request: HttpRequest, ticket_id: str) -> HttpResponse:
    try:
        context = _ticket_context(request, ticket_id)
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    template = "web/tables/_ticket_status.html" if request.GET.get("part") == "status" else "web/tables/ticket.html"
    return render(request, template, context)


@require_POST
@consumer_required
def ticket_cancel(request: HttpRequest, ticket_id: str) -> HttpResponse:
    try:
        services.queue_cancel(consumer=request.user, ticket_id=ticket_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    return redirect(f"/queue/{ticket_id}")


@require_GET
@consumer_required
def ticket_events(request: HttpRequest, ticket_id: str) -> HttpResponse:
    try:
        ticket = selectors.queue_ticket_of_consumer(user=request.user, ticket_id=ticket_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    return sse_response(request, services.queue_channel(ticket.store.public_id, ticket.group))


# --- merchant console -----------------------------------------------------------------------------

RESERVATION_ACTION_LABELS = {
    "confirm": gettext_lazy("Confirm"), "decline": gettext_lazy("Decline"), "seat": gettext_lazy("Seat"),
    "complete": gettext_lazy("Done"), "no_show": gettext_lazy("No-show"), "cancel": gettext_lazy("Cancel"),
}


def _reservations_context(request: HttpRequest, error: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "reservations")
    day_raw = request.GET.get("date") or request.POST.get("date") or ""
    day = selectors.parse_day(day_raw) if day_raw else None
    store, day, rows = selectors.reservations_of_day(actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
                                                     day=day)
    items = [{"r": r,
              "actions": [(a, RESERVATION_ACTION_LABELS[a]) for a in services.RESERVATION.actions_from(r.status, "merchant")]}
             for r in rows]
    return {**frame, "day": day, "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
            "items": items, "error": error}


@merchant_required
def reservations_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _reservations_context(request)
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    return render(request, "web/tables/merchant_reservations.html", context)


@require_POST
@merchant_required
def reservation_act(request: HttpRequest, reservation_id: str, action: str) -> HttpResponse:
    try:
        services.reservation_act(actor=request.user, reservation_id=reservation_id, action=action,  # type: ignore[arg-type]
                                 reason=request.POST.get("reason", ""))
    except DomainError as exc:
        error = error_context(exc)
        try:
            context = _reservations_context(request, error)
        except DomainError as outer:
            return refused(request, outer, base=MERCHANT_BASE)
        return render(request, "web/tables/merchant_reservations.html", context, status=status_of(error))
    day = request.POST.get("date", "")
    return redirect(f"/m/reservations?date={day}" if day else "/m/reservations")


def _setup_context(request: HttpRequest, error: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "reservations")
    store = frame["store"]
    return {**frame, "setup": services.setup_of(store), "slot_choices": services.assign.SLOT_MINUTES_ALLOWED,
            "table_types": list(store.table_types.all()), "error": error}


@merchant_required
def setup_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _setup_context(request)
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    return render(request, "web/tables/merchant_setup.html", context)


def _setup_write(request: HttpRequest, write: Any) -> HttpResponse:
    try:
        write(console_frame(request, "reservations")["store"])
    except DomainError as exc:
        error = error_context(exc)
        try:
            context = _setup_context(request, error)
        except DomainError as outer:
            return refused(request, outer, base=MERCHANT_BASE)
        return render(request, "web/tables/merchant_setup.html", context, status=status_of(error))
    messages.success(request, _("Saved."))
    return redirect("/m/reservations/setup")


@require_POST
@merchant_required
def setup_save(request: HttpRequest) -> HttpResponse:
    form = request.POST
    data = services.SetupInput(
        takes_reservations=form.get("takes_reservations") == "1", takes_queue=form.get("takes_queue") == "1",
        auto_confirm=form.get("auto_confirm") == "1", seating_minutes=_int(form.get("seating_minutes"), -1),
        slot_minutes=_int(form.get("slot_minutes"), -1),
        cancel_deadline_minutes=_int(form.get("cancel_deadline_minutes"), -1),
        days_ahead=_int(form.get("days_ahead"), -1), skip_after_minutes=_int(form.get("skip_after_minutes"), -1))
    return _setup_write(request, lambda store: services.table_setup_save(
        actor=request.user, store_id=store.public_id, data=data))  # type: ignore[arg-type]


@require_POST
@merchant_required
def table_type_add(request: HttpRequest) -> HttpResponse:
    return _setup_write(request, lambda store: services.table_type_create(
        actor=request.user, store_id=store.public_id, name=request.POST.get("name", ""),  # type: ignore[arg-type]
        seats=_int(request.POST.get("seats"), 0), count=_int(request.POST.get("count"), -1)))


@require_POST
@merchant_required
def table_type_change(request: HttpRequest, type_id: str) -> HttpResponse:
    return _setup_write(request, lambda store: services.table_type_update(
        actor=request.user, type_id=type_id, count=_int(request.POST.get("count"), -1),  # type: ignore[arg-type]
        is_active=request.POST.get("is_active") == "1"))


def _board_context(request: HttpRequest, error: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "queue")
    store, groups = selectors.queue_board(actor=request.user, store_id=frame["store"].public_id)  # type: ignore[arg-type]
    labels = {"A": _("Small table (1-2)"), "B": _("Medium table (3-4)"), "C": _("Large table (5+)")}
    return {**frame, "groups": [{"g": g, "label": labels[g.group]} for g in groups],
            "setup": services.setup_of(store), "error": error}


@merchant_required
def queue_board(request: HttpRequest) -> HttpResponse:
    try:
        context = _board_context(request)
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    template = "web/tables/_board.html" if request.GET.get("part") == "board" else "web/tables/merchant_queue.html"
    return render(request, template, context)


def _board_write(request: HttpRequest, write: Any) -> HttpResponse:
    try:
        write()
    except DomainError as exc:
        error = error_context(exc)
        try:
            context = _board_context(request, error)
        except DomainError as outer:
            return refused(request, outer, base=MERCHANT_BASE)
        return render(request, "web/tables/merchant_queue.html", context, status=status_of(error))
    store = request.POST.get("store", "")
    return redirect(f"/m/queue?store={store}" if store else "/m/queue")


@require_POST
@merchant_required
def queue_call(request: HttpRequest) -> HttpResponse:
    def write() -> None:
        store = console_frame(request, "queue")["store"]
        ticket = services.queue_call_next(actor=request.user, store_id=store.public_id,  # type: ignore[arg-type]
                                          group=request.POST.get("group", ""))
        messages.success(request, _("Called %(code)s.") % {"code": ticket.code})
    return _board_write(request, write)


@require_POST
@merchant_required
def queue_ticket_act(request: HttpRequest, ticket_id: str, action: str) -> HttpResponse:
    return _board_write(request, lambda: services.queue_ticket_act(
        actor=request.user, ticket_id=ticket_id, action=action))  # type: ignore[arg-type]


@require_GET
@merchant_required
def queue_events(request: HttpRequest) -> HttpResponse:
    try:
        store, _role = store_for_member(user=request.user, store_id=request.GET.get("store", ""),  # type: ignore[arg-type]
                                        permission=roles.ORDERS_ACT)
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    return sse_response(request, services.queue_channel(store.public_id))


urlpatterns = [
    path("stores/<str:store_id>/tables", tables_page, name="web-tables"),
    path("stores/<str:store_id>/tables/reserve", reserve, name="web-tables-reserve"),
    path("stores/<str:store_id>/tables/queue", queue_take, name="web-tables-queue-take"),
    path("me/reservations", my_reservations, name="web-my-reservations"),
    path("me/reservations/<str:reservation_id>/cancel", reservation_cancel, name="web-reservation-cancel"),
    path("queue/<str:ticket_id>", ticket_page, name="web-queue-ticket"),
    path("queue/<str:ticket_id>/cancel", ticket_cancel, name="web-queue-ticket-cancel"),
    path("events/queue/<str:ticket_id>", ticket_events, name="web-queue-ticket-events"),
    path("m/reservations", reservations_page, name="web-merchant-reservations"),
    path("m/reservations/setup", setup_page, name="web-merchant-tables-setup"),
    path("m/reservations/setup/save", setup_save, name="web-merchant-tables-setup-save"),
    path("m/reservations/table-types", table_type_add, name="web-merchant-table-type-add"),
    path("m/reservations/table-types/<str:type_id>", table_type_change, name="web-merchant-table-type-change"),
    path("m/reservations/<str:reservation_id>/<str:action>", reservation_act, name="web-merchant-reservation-act"),
    path("m/queue", queue_board, name="web-merchant-queue"),
    path("m/queue/call", queue_call, name="web-merchant-queue-call"),
    path("m/queue/<str:ticket_id>/<str:action>", queue_ticket_act, name="web-merchant-queue-act"),
    path("events/m/queue", queue_events, name="web-merchant-queue-events"),
]
