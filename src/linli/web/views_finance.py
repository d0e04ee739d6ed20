"""Pages of Finance: the merchant's balances, a 30-day chart, settlement batches and
statements to download (CSV, XLSX) at /m/finance."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from linli.core.errors import DomainError
from linli.finance import selectors
from linli.ops.charts import day_chart, yuan

from .common import merchant_required, refused
from .views_merchant import console_frame

BASE = "web/merchant/base.html"


@merchant_required
@require_GET
def finance_page(request: HttpRequest) -> HttpResponse:
    try:
        merchant = selectors.merchant_for_user(user=request.user, merchant_id=request.GET.get("merchant", ""))  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=BASE)
    try:
        frame = console_frame(request, "finance")
    except DomainError:  # no store yet: the page without the console's header links
        frame = {"section": "finance"}
    balances = selectors.merchant_balances(merchant)
    series = selectors.daily_series(merchant)
    return render(request, "web/finance/merchant.html", {
        **frame, "merchant": merchant, "balances": balances,
        "amounts": {"balance": yuan(balances.balance_fen), "pending": yuan(balances.pending_fen),
                    "settling": yuan(balances.settling_fen), "held": yuan(balances.held_fen),
                    "paid_out": yuan(balances.paid_out_fen)},
        "chart": day_chart([(day, n, max(net, 0)) for day, n, net in series]),
        "days": [{"day": day, "count": n, "net": yuan(net)} for day, n, net in reversed(series) if n],
        "batches": [{"batch": b, "payout": yuan(b.payout_fen), "reserve": yuan(b.reserve_fen),
                     "payout_status": b.payout.status if hasattr(b, "payout") else ""}
                    for b in selectors.batches(merchant)],
    })


@merchant_required
@require_GET
def statement_download(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        merchant = selectors.merchant_for_user(user=request.user, merchant_id=request.GET.get("merchant", ""))  # type: ignore[arg-type]
        day = date.fromisoformat(request.GET["day"]) if request.GET.get("day") else None
        batch_id = request.GET.get("batch", "")
        entries = list(selectors.statement_entries(merchant, day=day, batch_id=batch_id))
    except DomainError as exc:
        return refused(request, exc, base=BASE)
    except ValueError:
        return HttpResponse(status=400)
    name = f"statement-{batch_id or day or merchant.public_id}"
    if fmt == "xlsx":
        answer = HttpResponse(selectors.statement_xlsx(entries),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        answer = HttpResponse(selectors.statement_csv(entries), content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return answer


urlpatterns = [
    path("m/finance", finance_page, name="web-merchant-finance"),
    path("m/finance/statement.<str:fmt>", statement_download, name="web-merchant-finance-statement"),
]
