"""Merchant console, offline conflicts (`/m/pos/conflicts`, owner and manager): the open
conflicts of the store's offline uploads with the rule that was applied and the actions
the rules allow (`linli.pos.conflicts`), and the last ones resolved (who, when, how)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError
from linli.merchants.selectors import StoreNotFound
from linli.pos import conflicts as pos_conflicts
from linli.pos import selectors as pos_selectors
from linli.pos.models import SyncConflict

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame

BASE = "web/merchant/base.html"


def _facts(conflict: SyncConflict) -> list[tuple[str, Any]]:
    """The conflict's details worth a glance (the rejected body is shown as its lines)."""
    return [(key, value) for key, value in conflict.details.items()
            if key != "body" and isinstance(value, str | int | float | list) and len(str(value)) < 120]


def _row(conflict: SyncConflict) -> dict[str, Any]:
    body = conflict.details.get("body") if isinstance(conflict.details.get("body"), dict) else {}
    lines = body.get("lines") if isinstance(body.get("lines"), list) else []
    return {"c": conflict, "rule": pos_conflicts.RULE_APPLIED.get(conflict.kind, ""),
            "actions": [(a, pos_conflicts.ACTION_LABELS[a]) for a in pos_conflicts.conflict_actions(conflict)],
            "facts": _facts(conflict),
            "lines": [{"item": str(line.get("barcode") or line.get("product_id") or "?")[:40],
                       "quantity": line.get("quantity"), "unit": line.get("unit_price_fen")}
                      for line in lines if isinstance(line, dict)][:20],
            "product_id": conflict.details.get("product_id", ""),
            "uploaded_by": conflict.batch.uploaded_by if conflict.batch_id else None}


def _context(request: HttpRequest, *, error: dict[str, Any] | None = None, failed: str = "") -> dict[str, Any]:
    frame = console_frame(request, "pos")
    store_id = frame["store"].public_id
    open_ = pos_selectors.conflicts_open(actor=request.user, store_id=store_id)[:200]  # type: ignore[arg-type]
    done = pos_selectors.conflicts_recently_resolved(actor=request.user, store_id=store_id)  # type: ignore[arg-type]
    rows = [_row(c) for c in open_]
    if not any(row["c"].public_id == failed for row in rows):
        failed = ""  # not listed (resolved meanwhile, unknown): the error shows at the top
    return {**frame, "rows": rows, "resolved": done, "error": error, "failed": failed}


@merchant_required
@require_GET
def conflicts_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _context(request)
    except (StoreNotFound, DomainError) as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/pos_conflicts.html", context)


@merchant_required
@require_POST
def conflict_resolve(request: HttpRequest, conflict_id: str) -> HttpResponse:
    try:
        pos_conflicts.conflict_resolve(actor=request.user, conflict_id=conflict_id,  # type: ignore[arg-type]
                                       action=request.POST.get("action", "")[:40],
                                       note=request.POST.get("note", "").strip())
    except DomainError as exc:
        error = error_context(exc)
        try:
            context = _context(request, error=error, failed=conflict_id)
        except (StoreNotFound, DomainError) as missing:
            return refused(request, missing, base=BASE)
        return render(request, "web/merchant/pos_conflicts.html", context, status=status_of(error))
    messages.success(request, _("Conflict resolved."))
    return redirect("/m/pos/conflicts")
