"""Consumer H5 address book (`/me/addresses`): list, add, edit, delete, make default.

The form posts the same fields the API takes and the same service checks them, so a bad
field shows the API's `invalid_address` error with that field marked. "Locate" shows
where the typed text (or the chosen point) is, from the local gazetteer, before saving."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts import services
from linli.accounts.models import Address
from linli.accounts.selectors import address_get, address_list
from linli.core.errors import DomainError

from .common import consumer_required, error_context, safe_next, status_of

FORM_FIELDS = ("label", "contact_name", "contact_phone", "text", "detail", "lat", "lng")
FIELD_REASONS = {
    "required": _("Required."),
    "too_long": _("Too long."),
    "not_text": _("Required."),
    "not_a_number": _("Enter a number."),
    "out_of_range": _("Out of range: latitude −90 to 90, longitude −180 to 180."),
    "invalid_phone": _("Not a valid phone number."),
    "required_with_the_other": _("Give both latitude and longitude, or neither."),
}


def _form_data(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {f: request.POST.get(f, "") for f in FORM_FIELDS}
    data["is_default"] = request.POST.get("is_default") == "on"
    return data


def _field_errors(error: dict[str, Any] | None) -> dict[str, str]:
    fields = (error or {}).get("details", {}).get("fields", {}) if error else {}
    return {name: str(FIELD_REASONS.get(reason, reason)) for name, reason in fields.items()}


def _own(request: HttpRequest, address_id: str) -> Address:
    try:
        return address_get(user=request.user, address_id=address_id)  # type: ignore[arg-type]
    except DomainError as exc:
        raise Http404 from exc


@consumer_required
@require_GET
def addresses(request: HttpRequest) -> HttpResponse:
    return render(request, "web/consumer/addresses.html",
                  {"addresses": address_list(user=request.user)})  # type: ignore[arg-type]


def _form_page(request: HttpRequest, *, address: Address | None) -> HttpResponse:
    next_url = safe_next(request, "/me/addresses")
    error, located = None, None
    if request.method == "POST":
        data = _form_data(request)
        try:
            if request.POST.get("step") == "locate":
                located = services.address_locate(data=data)
            elif address is None:
                services.address_create(user=request.user, data=data)  # type: ignore[arg-type]
                return redirect(next_url)
            else:
                services.address_update(user=request.user, address_id=address.public_id,  # type: ignore[arg-type]
                                        data=data)
                return redirect(next_url)
        except DomainError as exc:
            error = error_context(exc)
        form = dict(data)
        if located is not None:  # fill in the point the text resolved to
            form["lat"], form["lng"] = f"{located.lat:.6f}", f"{located.lng:.6f}"
    elif address is not None:
        form = {"label": address.label, "contact_name": address.contact_name,
                "contact_phone": address.contact_phone, "text": address.text,
                "detail": address.detail, "lat": f"{address.lat:.6f}", "lng": f"{address.lng:.6f}",
                "is_default": address.is_default}
    else:
        form = {"label": "", "contact_name": "", "contact_phone": request.user.phone or "",  # type: ignore[union-attr]
                "text": "", "detail": "", "lat": "", "lng": "", "is_default": False}
    return render(request, "web/consumer/address_form.html", {
        "address": address, "form": form, "error": error, "field_errors": _field_errors(error),
        "located": located, "next": next_url,
    }, status=status_of(error))


@consumer_required
@require_http_methods(["GET", "POST"])
def address_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, address=None)


@consumer_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, address_id: str) -> HttpResponse:
    return _form_page(request, address=_own(request, address_id))


@consumer_required
@require_POST
def address_delete(request: HttpRequest, address_id: str) -> HttpResponse:
    address = _own(request, address_id)
    services.address_delete(user=request.user, address_id=address.public_id)  # type: ignore[arg-type]
    return redirect("/me/addresses")


@consumer_required
@require_POST
def address_default(request: HttpRequest, address_id: str) -> HttpResponse:
    address = _own(request, address_id)
    services.address_set_default(user=request.user, address_id=address.public_id)  # type: ignore[arg-type]
    return redirect(safe_next(request, "/me/addresses"))
