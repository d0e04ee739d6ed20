"""Merchant console, staff (`/m/staff`, owners only): the merchant's members with their
roles; add a person by phone with a role and an initial password, change a role, remove.
Each write is one `merchants.services` function (the API's), which checks the role table
and the rules (not yourself, never the last owner)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.phone import phone_mask
from linli.core.errors import DomainError
from linli.merchants import roles, services

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame, field_errors

BASE = "web/merchant/base.html"
ROLE_LABELS = {
    roles.OWNER: gettext_lazy("Owner"),
    roles.MANAGER: gettext_lazy("Manager"),
    roles.CASHIER: gettext_lazy("Cashier"),
}
ROLE_HINTS = {
    roles.OWNER: gettext_lazy("everything, staff and bank account included"),
    roles.MANAGER: gettext_lazy("orders, menu, stock, store profile, hours and pause"),
    roles.CASHIER: gettext_lazy("order queue and sold-out switch"),
}
ADD_FIELDS = {"phone": "phone", "role": "role", "password": "password", "display_name": "display_name"}
ADD_CODES = {"invalid_phone": "phone", "member_exists": "phone", "invalid_role": "role",
             "invalid_password": "password"}


def _role_choices() -> list[dict[str, str]]:
    return [{"value": r, "label": str(ROLE_LABELS[r]), "hint": str(ROLE_HINTS[r])} for r in roles.ROLES]


def _staff_context(request: HttpRequest, *, error: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None,
                   form: dict[str, str] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "staff")
    members = services.members_list(actor=request.user,  # type: ignore[arg-type]
                                    store_id=frame["store"].public_id)
    rows = []
    for m in members:
        role = roles.canonical(m.role) or m.role
        rows.append({"id": m.user.public_id, "name": m.user.display_name or m.user.username,
                     "phone": phone_mask(m.user.phone) if m.user.phone else "",
                     "role": role, "role_label": str(ROLE_LABELS.get(role, role)),
                     "legacy": m.role != role, "me": m.user_id == request.user.pk,
                     "joined": m.created_at})
    return {**frame, "members": rows, "role_choices": _role_choices(), "error": error,
            "errors": errors or {}, "form": form or {"role": roles.CASHIER}}


def _staff_error(request: HttpRequest, exc: DomainError, **context: Any) -> HttpResponse:
    error = error_context(exc)
    try:
        page = _staff_context(request, error=error, **context)
    except DomainError as refusal:  # not an owner: the refusal, not the form
        return refused(request, refusal, base=BASE)
    return render(request, "web/merchant/staff.html", page, status=status_of(error))


@merchant_required
@require_GET
def staff_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _staff_context(request)
    except DomainError as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/staff.html", context)


@merchant_required
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    form = {key: request.POST.get(key, "").strip() for key in ("phone", "role", "display_name")}
    try:
        frame = console_frame(request, "staff")
        member, created = services.member_add(
            actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
            phone=form["phone"], role=form["role"], password=request.POST.get("password", ""),
            display_name=form["display_name"])
    except DomainError as exc:
        return _staff_error(request, exc, form=form, errors=field_errors(exc, ADD_FIELDS, ADD_CODES))
    name = member.user.display_name or member.user.username
    if created:
        messages.success(request, _("%(name)s was added. They log in at /m/login with their phone "
                                    "number and the password you set.") % {"name": name})
    else:
        messages.success(request, _("%(name)s was added. The phone already had a Linli account: "
                                    "its password was not changed.") % {"name": name})
    return redirect("/m/staff")


@merchant_required
@require_POST
def member_role(request: HttpRequest, user_id: str) -> HttpResponse:
    try:
        frame = console_frame(request, "staff")
        services.member_role_set(actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
                                 user_id=user_id, role=request.POST.get("role", ""))
    except DomainError as exc:
        return _staff_error(request, exc)
    messages.success(request, _("The role was changed."))
    return redirect("/m/staff")


@merchant_required
@require_POST
def member_remove(request: HttpRequest, user_id: str) -> HttpResponse:
    try:
        frame = console_frame(request, "staff")
        services.member_remove(actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
                               user_id=user_id)
    except DomainError as exc:
        return _staff_error(request, exc)
    messages.success(request, _("The member was removed."))
    return redirect("/m/staff")
