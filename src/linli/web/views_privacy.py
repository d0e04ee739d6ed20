"""/me/privacy: download a copy of my data, delete my account (accounts.data_rights)."""

from __future__ import annotations

import json

from django.contrib.auth import logout
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from linli.accounts import data_rights
from linli.core.errors import DomainError

from .common import consumer_required, error_context, status_of


def _page(request: HttpRequest, error: dict | None = None) -> HttpResponse:
    blockers = [error_context(b) for b in data_rights.account_delete_blockers(user=request.user)]  # type: ignore[arg-type]
    return render(request, "web/consumer/privacy.html",
                  {"error": error, "blockers": blockers, "confirm_word": data_rights.CONFIRM_WORD},
                  status=status_of(error))


@consumer_required
@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return _page(request)


@consumer_required
@require_POST
def privacy_export(request: HttpRequest) -> HttpResponse:
    document = data_rights.data_export(user=request.user)  # type: ignore[arg-type]
    response = HttpResponse(json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="linli-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@consumer_required
@require_POST
def privacy_delete(request: HttpRequest) -> HttpResponse:
    try:
        data_rights.account_delete(user=request.user, confirm=request.POST.get("confirm", ""))  # type: ignore[arg-type]
    except DomainError as exc:
        return _page(request, error_context(exc))
    logout(request)
    return redirect("/?account=deleted")


urlpatterns = [
    path("me/privacy", privacy, name="web-privacy"),
    path("me/privacy/export", privacy_export, name="web-privacy-export"),
    path("me/privacy/delete", privacy_delete, name="web-privacy-delete"),
]
