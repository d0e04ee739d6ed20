"""Merchant console, store (`/m/store`): profile basics, weekly opening hours with several
periods a day, and the busy switch (pause / resume taking orders). Writes go through
`merchants.store_profile` (the API's services), so a bad field is refused with the API's
error, shown next to the field, and nothing is saved."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError, InvalidInput
from linli.merchants import roles, store_profile
from linli.merchants.catalog_rules import fen_to_yuan
from linli.merchants.hours import MAX_PERIODS_PER_DAY, WEEKDAYS
from linli.merchants.selectors import StoreNotFound, role_require

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame, field_errors

BASE = "web/merchant/base.html"
TEXT_FIELDS = ("name", "phone", "address")
MONEY_FIELDS = {"avg_price": "avg_price_fen", "min_order": "min_order_fen",
                "packaging_fee": "packaging_fee_fen",
                "night_surcharge": "night_surcharge_fen"}  # pricing (issue 5)
NIGHT_FIELDS = ("night_start", "night_end")  # pricing: the night surcharge window, "HH:MM"
OPTIONAL_FIELDS = {"night_surcharge", *NIGHT_FIELDS}  # an older form without them changes nothing
FORM_OF = {"name": "name", "address": "address", "phone": "phone", "prep_minutes": "prep_minutes",
           **{fen: form for form, fen in MONEY_FIELDS.items()}, **{f: f for f in NIGHT_FIELDS}}
DAY_NAMES = {
    "monday": gettext_lazy("Monday"), "tuesday": gettext_lazy("Tuesday"),
    "wednesday": gettext_lazy("Wednesday"), "thursday": gettext_lazy("Thursday"),
    "friday": gettext_lazy("Friday"), "saturday": gettext_lazy("Saturday"),
    "sunday": gettext_lazy("Sunday"),
}
HOURS_REASONS = {  # merchants.hours reasons, said next to the day
    "overlap": gettext_lazy("Two periods of this day overlap (or overlap last night's late hours)."),
    "bad_time": gettext_lazy("Write times as HH:MM, for example 09:30; fill both ends."),
    "ends_before_start": gettext_lazy("A period ends before it starts; a period past midnight "
                                      "must end by 06:00."),
    "empty_period": gettext_lazy("A period starts and ends at the same time."),
    "starts_at_midnight_end": gettext_lazy("A period cannot start at 24:00."),
    "too_many_periods": gettext_lazy("At most 6 periods a day."),
}


def _yuan_fen(field: str, text: str) -> int:
    """Yuan as typed, in fen; the sign is kept so that the service refuses a negative
    amount with its own range error. Not a number: the same error, reason `not_a_number`."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(field=field, reason="not_a_number", value=text) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or abs(amount) > 10**9:
        raise InvalidInput(field=field, reason="not_a_number", value=text)
    return int(amount * 100)


def _changes(post: Any) -> dict[str, Any]:
    """The form as `store_profile_update` changes. Hours: every filled row of a day is a
    period; a row with only one end filled is passed on, for the service to refuse."""
    changes: dict[str, Any] = {field: post.get(field, "") for field in TEXT_FIELDS}
    for form_field, fen_field in MONEY_FIELDS.items():
        if form_field in OPTIONAL_FIELDS and form_field not in post:
            continue
        changes[fen_field] = _yuan_fen(fen_field, post.get(form_field, ""))
    changes.update({f: post.get(f, "").strip() for f in NIGHT_FIELDS if f in post})
    prep = post.get("prep_minutes", "").strip()
    if not (prep.isascii() and prep.isdigit()):
        raise InvalidInput(field="prep_minutes", reason="not_a_number", value=prep)
    changes["prep_minutes"] = int(prep)
    changes["opening_hours"] = [
        [[start, end] for start, end in _day_rows(post, day) if start or end]
        for day in range(7)
    ]
    return changes


def _day_rows(post: Any, day: int) -> list[tuple[str, str]]:
    return [(post.get(f"h{day}-{i}-start", "").strip(), post.get(f"h{day}-{i}-end", "").strip())
            for i in range(MAX_PERIODS_PER_DAY)]


def _hours_form(weekly: list[list[list[str]]], errors: dict[str, str]) -> list[dict[str, Any]]:
    """Seven days with their periods and one empty row to add another (up to the maximum)."""
    days = []
    for i, name in enumerate(WEEKDAYS):
        periods = [list(p) for p in weekly[i]] if i < len(weekly) else []
        rows = periods + [["", ""]] * max(0, min(MAX_PERIODS_PER_DAY, max(len(periods) + 1, 2))
                                          - len(periods))
        days.append({"index": i, "key": name, "label": str(DAY_NAMES[name]), "rows": rows,
                     "error": errors.get(f"hours-{i}", "")})
    return days


def _form_of_store(store: Any) -> dict[str, str]:
    return {"name": store.name, "phone": store.phone, "address": store.address,
            "avg_price": fen_to_yuan(store.avg_price_fen), "min_order": fen_to_yuan(store.min_order_fen),
            "packaging_fee": fen_to_yuan(store.packaging_fee_fen), "prep_minutes": str(store.prep_minutes),
            "night_surcharge": fen_to_yuan(store.night_surcharge_fen),
            "night_start": store.night_start, "night_end": store.night_end}


def _store_context(request: HttpRequest, *, error: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                   weekly: list[list[list[str]]] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "store")
    store, role = store_profile.store_for_console(user=request.user,  # type: ignore[arg-type]
                                                  store_id=frame["store"].public_id)
    if not frame["can"]["store"]:
        role_require(role=role, permission=roles.STORE_EDIT)  # a cashier: 403 permission_denied
    errors = errors or {}
    return {**frame, "store": store, "error": error, "errors": errors,
            "form": form or _form_of_store(store),
            "days": _hours_form(weekly if weekly is not None else store.opening_hours, errors)}


def _precise(exc: DomainError, name: str, message: str) -> str:
    """The generic `invalid_input` message made precise from its details (range, length)."""
    if exc.code != "invalid_input":
        return message
    details = exc.details
    if details.get("reason") == "not_a_number":
        return _("Enter an amount in yuan, for example 12.50.") if name in MONEY_FIELDS \
            else _("Enter a whole number.")
    if "min" in details and "max" in details:
        if name in MONEY_FIELDS:
            return _("Enter an amount from ¥%(min)s to ¥%(max)s.") % {
                "min": fen_to_yuan(details["min"]), "max": fen_to_yuan(details["max"])}
        return _("Enter a whole number from %(min)s to %(max)s.") % {
            "min": details["min"], "max": details["max"]}
    if "max_length" in details:
        return _("Required, at most %(n)s characters.") % {"n": details["max_length"]}
    return message


def _hours_error_day(exc: DomainError, weekly: list[list[list[str]]]) -> int | None:
    """Which day an hours error is about: named in the details, or found by its bad time."""
    day = exc.details.get("day")
    if day in WEEKDAYS:
        return WEEKDAYS.index(day)
    bad = exc.details.get("time")
    for i, periods in enumerate(weekly):
        if any(bad in period for period in periods):
            return i
    return None


@merchant_required
@require_GET
def store_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _store_context(request)
    except DomainError as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/store.html", context)


@merchant_required
@require_POST
def store_save(request: HttpRequest) -> HttpResponse:
    form = {key: request.POST.get(key, "").strip()
            for key in (*TEXT_FIELDS, *MONEY_FIELDS, *NIGHT_FIELDS, "prep_minutes")}
    weekly = [[list(row) for row in _day_rows(request.POST, day) if row[0] or row[1]] for day in range(7)]
    try:
        frame = console_frame(request, "store")
        store_profile.store_profile_update(actor=request.user,  # type: ignore[arg-type]
                                           store_id=frame["store"].public_id,
                                           changes=_changes(request.POST))
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    except DomainError as exc:
        errors = {name: _precise(exc, name, message)
                  for name, message in field_errors(exc, FORM_OF, {"invalid_phone": "phone"}).items()}
        if exc.code == "invalid_hours":
            day = _hours_error_day(exc, weekly)
            reason = HOURS_REASONS.get(str(exc.details.get("reason")))
            errors[f"hours-{day}" if day is not None else "hours"] = str(reason or exc.message)
        error = error_context(exc)
        try:
            context = _store_context(request, error=error, errors=errors, form=form, weekly=weekly)
        except DomainError as refusal:
            return refused(request, refusal, base=BASE)
        return render(request, "web/merchant/store.html", context, status=status_of(error))
    messages.success(request, _("The store profile and opening hours are saved."))
    return redirect("/m/store")


def _busy(request: HttpRequest, pause: bool) -> HttpResponse:
    try:
        frame = console_frame(request, "store")
        act = store_profile.store_pause if pause else store_profile.store_resume
        act(actor=request.user, store_id=frame["store"].public_id)  # type: ignore[arg-type]
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    except DomainError as exc:
        error = error_context(exc)
        try:
            context = _store_context(request, error=error)
        except DomainError as refusal:
            return refused(request, refusal, base=BASE)
        return render(request, "web/merchant/store.html", context, status=status_of(error))
    messages.success(request, _("Paused: the store takes no orders until you resume.") if pause
                     else _("Resumed: the store takes orders again."))
    return redirect("/m/store")


@merchant_required
@require_POST
def store_pause(request: HttpRequest) -> HttpResponse:
    return _busy(request, pause=True)


@merchant_required
@require_POST
def store_resume(request: HttpRequest) -> HttpResponse:
    return _busy(request, pause=False)
