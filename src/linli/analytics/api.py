"""Analytics over /api/v1 (docs/analytics.md). Parse, call one selector, shape the answer.
Every report reads the pre-aggregated daily tables only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from linli.accounts.models import is_platform_staff
from linli.core.auth import jwt_auth
from linli.core.errors import PermissionDenied

from . import selectors
from .exports import CONTENT_TYPES, export_file

router = Router(tags=["analytics"])

FROM = Query(None, alias="from", description="first day, YYYY-MM-DD (default: 29 days before `to`)")
TO = Query(None, alias="to", description="last day, YYYY-MM-DD, inclusive (default: today, China time)")
GRANULARITY = Query("day", description="day, week or month")


class PointOut(Schema):
    period: str = Field(description="first day of the period")
    group: str | None = Field(None, description="the dimension's value when broken down (`by`)")
    value: float | int | None


class StoreReportOut(Schema):
    metric: str
    store_id: str
    from_: str = Field(alias="from")
    to: str
    granularity: str
    series: list[PointOut] | None = Field(description="for metrics over time")
    data: Any = Field(description="summary, comparison, items, heatmap, funnel or peers")


class PlatformReportOut(Schema):
    metric: str
    from_: str = Field(alias="from")
    to: str
    granularity: str
    by: str | None
    city: str | None
    series: list[PointOut] | None
    data: Any


@router.get("/merchant/stores/{store_id}/analytics", response=StoreReportOut, auth=jwt_auth, by_alias=True,
            tags=["merchant"], summary=f"A store's report: metric one of {', '.join(selectors.STORE_METRICS)}")
def store_report(request: HttpRequest, store_id: str, metric: str = "summary", from_: str | None = FROM,
                 to: str | None = TO, granularity: str = GRANULARITY) -> dict[str, Any]:
    store = selectors.store_for_analytics(user=request.auth, store_id=store_id)  # type: ignore[arg-type]
    q = selectors.report_query(metric=metric, start=from_, end=to, granularity=granularity,
                               allowed=selectors.STORE_METRICS)
    return selectors.merchant_report(store=store, q=q)


@router.get("/merchant/stores/{store_id}/analytics/export", auth=jwt_auth, tags=["merchant"],
            summary="A store's numbers per period as CSV or XLSX (at most a year, by day at the finest)")
def store_export(request: HttpRequest, store_id: str, format: str = "csv", from_: str | None = FROM,
                 to: str | None = TO, granularity: str = GRANULARITY) -> HttpResponse:
    store = selectors.store_for_analytics(user=request.auth, store_id=store_id)  # type: ignore[arg-type]
    return export_response(store=store, fmt=format, start=from_, end=to, granularity=granularity)


def export_response(*, store: Any, fmt: str, start: str | None, end: str | None, granularity: str) -> HttpResponse:
    """Shared with the console page's export links."""
    q = selectors.report_query(metric="summary", start=start, end=end, granularity=granularity,
                               allowed=("summary",))
    header, rows = selectors.export_rows(store=store, q=q)
    body = export_file(fmt, header, rows)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    name = f"{store.public_id}-{q.start.isoformat()}-{q.end.isoformat()}-{q.granularity}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/ops/analytics", response=PlatformReportOut, auth=jwt_auth, by_alias=True,
            summary=f"Operator: platform report, metric one of {', '.join(selectors.PLATFORM_METRICS)}")
def platform_report(request: HttpRequest, metric: str = "summary", from_: str | None = FROM, to: str | None = TO,
                    granularity: str = GRANULARITY,
                    by: str = Query("", description="city, category or channel (online / pos)"),
                    city: str = Query("", description="only this city")) -> dict[str, Any]:
    if not is_platform_staff(request.auth):  # type: ignore[arg-type]
        raise PermissionDenied()
    q = selectors.report_query(metric=metric, start=from_, end=to, granularity=granularity,
                               allowed=selectors.PLATFORM_METRICS, by=by, dimensions=selectors.DIMENSIONS)
    return selectors.platform_report(q=q, city=city)
