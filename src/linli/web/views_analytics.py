"""Pages of analytics: the merchant console's numbers and charts (`/m/analytics`) and its
CSV / XLSX export. Every number comes from `analytics.selectors` (pre-aggregated days),
the same reads as GET /api/v1/merchant/stores/{id}/analytics (docs/analytics.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from linli.analytics import charts, selectors
from linli.analytics.api import export_response
from linli.core.errors import DomainError
from linli.merchants.selectors import StoreNotFound

from .common import error_context, merchant_required, refused
from .templatetags.linli_web import yuan
from .views_merchant import console_frame

MERCHANT_BASE = "web/merchant/base.html"
PERIODS = (("7", _("7 days")), ("30", _("30 days")), ("90", _("90 days")), ("365", _("1 year")))
GRANULARITY_LABELS = (("day", _("By day")), ("week", _("By week")), ("month", _("By month")))
FUNNEL_LABELS = {"views": _("Store views"), "cart": _("Added to cart"), "checkout": _("Checkout started"),
                 "order": _("Orders placed"), "paid": _("Orders paid")}


def _query(request: HttpRequest) -> selectors.ReportQuery:
    """?from=&to= or ?days= (the period picker), and ?granularity=."""
    start, end = request.GET.get("from") or None, request.GET.get("to") or None
    days = request.GET.get("days", "30")
    if start is None and end is None and days.isdigit() and 0 < int(days) <= selectors.MAX_DAYS:
        end_day = selectors.today()
        start = (end_day - timedelta(days=int(days) - 1)).isoformat()
    return selectors.report_query(metric="summary", start=start, end=end,
                                  granularity=request.GET.get("granularity") or None, allowed=("summary",))


COMPARED = (("sales_fen", _("Sales")), ("orders", _("Orders")), ("aov_fen", _("Average order value")),
            ("new_customers", _("New customers")), ("repeat_rate", _("Repeat rate")))


def pct(value: float | None, *, signed: bool = False) -> str:
    """0.1234 -> "12.3%" ("+12.3%" signed); None -> "-"."""
    if value is None:
        return "-"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _money(fen: int | float | None) -> str:
    return "-" if fen is None else f"¥{yuan(int(fen))}"


def _page(request: HttpRequest, frame: dict[str, Any], q: selectors.ReportQuery) -> dict[str, Any]:
    board = selectors.merchant_dashboard(store=frame["store"], q=q)
    series = board["series"]

    def points(name: str) -> list[tuple[str, Any]]:
        return [(p["period"][5:], p["value"]) for p in series[name]]

    return {**frame, "q": q, "board": board, "error": None,
            "sales_chart": charts.bars(points("sales"), fmt=_money),
            "orders_chart": charts.bars(points("orders")),
            "rating_chart": charts.line(points("rating")),
            "heat": charts.heat(board["heat"], labels=[str(WEEKDAYS_ABBR[d]) for d in range(7)]),
            "repeat_rate": pct(board["totals"]["repeat_rate"]),
            "compare_rows": [{"key": key, "label": label,
                              **{by: pct(board["comparison"][by]["values"][key]["change"], signed=True)
                                 for by in ("week", "month")}} for key, label in COMPARED],
            "funnel": [{**step, "label": FUNNEL_LABELS[step["name"]], "pct": pct(step["of_previous"]),
                        "width": round(100 * (step["of_first"] or 0), 1) if step["of_first"] is not None else 0}
                       for step in board["funnel"]],
            "periods": PERIODS, "granularities": GRANULARITY_LABELS,
            "days": request.GET.get("days", "30") if not request.GET.get("from") else "",
            "query": request.GET.urlencode()}


@merchant_required
@require_GET
def analytics_page(request: HttpRequest) -> HttpResponse:
    try:
        frame = console_frame(request, "analytics")
        selectors.store_for_analytics(user=request.user, store_id=frame["store"].public_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    try:
        q = _query(request)
    except DomainError as exc:  # a bad range: the page with the error, the default period's numbers
        context = _page(request, frame, selectors.report_query(metric="summary", start=None, end=None,
                                                                granularity=None, allowed=("summary",)))
        context["error"] = error_context(exc)
        return render(request, "web/analytics/merchant.html", context, status=exc.status)
    return render(request, "web/analytics/merchant.html", _page(request, frame, q))


@merchant_required
@require_GET
def analytics_export(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        frame = console_frame(request, "analytics")
        store = selectors.store_for_analytics(user=request.user,  # type: ignore[arg-type]
                                              store_id=frame["store"].public_id)
        q = _query(request)
        return export_response(store=store, fmt=fmt, start=q.start.isoformat(), end=q.end.isoformat(),
                               granularity=q.granularity)
    except (DomainError, StoreNotFound) as exc:
        return refused(request, exc, base=MERCHANT_BASE)


urlpatterns = [
    path("m/analytics", analytics_page, name="web-merchant-analytics"),
    path("m/analytics/export.<str:fmt>", analytics_export, name="web-merchant-analytics-export"),
]
