"""The operator's platform analytics in the back office: /ops/analytics/platformday/ is a
dashboard (GMV, orders, DAU/MAU, new merchants, funnel, cohorts, take rate, subsidies,
on-time and complaints rates, broken down by city, category or channel), not a row list.
Same reads as GET /api/v1/ops/analytics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from linli.core.errors import DomainError

from . import charts, selectors
from .models import PlatformDay


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _money(fen: int | None) -> str:
    return "-" if fen is None else f"¥{fen / 100:,.2f}"


def platform_context(request: HttpRequest) -> dict[str, Any]:
    days = request.GET.get("days", "30")
    by = request.GET.get("by", "city")
    city = request.GET.get("city", "")
    granularity = request.GET.get("granularity") or "day"
    end = selectors.today()
    start = end - timedelta(days=int(days) - 1) if days.isdigit() and 0 < int(days) <= 366 else None

    def report(metric: str) -> dict[str, Any]:
        q = selectors.report_query(metric=metric, start=start.isoformat() if start else None, end=end.isoformat(),
                                   granularity=granularity, allowed=selectors.PLATFORM_METRICS)
        return selectors.platform_report(q=q, city=city)

    summary = report("summary")["data"]
    gmv = report("gmv")["series"]
    dau = report("dau")["series"]
    q = selectors.report_query(metric="summary", start=start.isoformat() if start else None, end=end.isoformat(),
                               granularity="day", allowed=("summary",), by=by, dimensions=("city", "category", "channel"))
    breakdown = [{**row, "gmv": _money(row["gmv"]), "aov": _money(row["aov"]), "subsidy": _money(row["subsidy"]),
                  "take_rate": _pct(row["take_rate"]), "on_time_rate": _pct(row["on_time_rate"]),
                  "complaint_rate": _pct(row["complaint_rate"])}
                 for row in selectors.platform_breakdown(q=q, city=city)]
    return {"summary": {**summary, "gmv": _money(summary["gmv_fen"]), "aov": _money(summary["aov_fen"]),
                        "subsidy": _money(summary["subsidy_fen"]), "take_rate_pct": _pct(summary["take_rate"]),
                        "on_time_pct": _pct(summary["on_time_rate"]),
                        "complaint_pct": _pct(summary["complaint_rate"])},
            "gmv_chart": charts.bars([(p["period"][5:], p["value"]) for p in gmv], fmt=_money),
            "dau_chart": charts.bars([(p["period"][5:], p["value"]) for p in dau]),
            "funnel": [{**s, "pct": _pct(s["of_previous"])} for s in report("funnel")["data"]],
            "cohorts": [{**c, "shares": [_pct(v) for v in c["retention"]]}
                        for c in report("retention")["data"]],
            "breakdown": breakdown, "days": days, "by": by, "city": city, "granularity": granularity,
            "cities": selectors.platform_cities()}


@admin.register(PlatformDay)
class PlatformAnalyticsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context: dict[str, Any] = {**self.admin_site.each_context(request), "title": _("Platform analytics"),
                                   "opts": self.model._meta}
        try:
            context.update(platform_context(request))
        except DomainError as exc:
            context["error"] = str(exc.message)
            return TemplateResponse(request, "admin/analytics/dashboard.html", context, status=exc.status)
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)
