"""The scheduled daily report for operators: yesterday's platform numbers against the
same day last week, mailed to settings.LINLI_ANALYTICS_REPORT_TO (a list of addresses;
none set: only logged)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import metrics as m
from .models import PlatformDay
from .selectors import ReportQuery, platform_summary

log = logging.getLogger(__name__)

LINES = (("gmv_fen", gettext_lazy("GMV")), ("orders", gettext_lazy("Orders")),
         ("aov_fen", gettext_lazy("Average order value")), ("dau", "DAU"), ("mau", "MAU"),
         ("new_merchants", gettext_lazy("New merchants")), ("take_rate", gettext_lazy("Take rate")),
         ("subsidy_fen", gettext_lazy("Subsidies")), ("on_time_rate", gettext_lazy("On-time delivery")),
         ("complaint_rate", gettext_lazy("Complaints rate")))


def daily_report(*, day: date) -> dict[str, Any]:
    def summary(d: date) -> dict[str, Any]:
        q = ReportQuery(metric="summary", start=d, end=d, granularity="day")
        return platform_summary(PlatformDay.objects.filter(day=d), q)

    now, before = summary(day), summary(day - timedelta(days=7))
    return {"day": day.isoformat(), "values": now, "week_before": before,
            "change": {k: m.change(now[k], before[k]) for k in now if isinstance(now[k], int)}}


def _format(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_fen"):
        return f"¥{value / 100:,.2f}"
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    return f"{value:,}"


def daily_report_text(data: dict[str, Any]) -> str:
    lines = [_("Linli daily report for %(day)s") % {"day": data["day"]}, ""]
    for key, label in LINES:
        change = data["change"].get(key)
        delta = "" if change is None else f" ({change * 100:+.1f}% {_('vs same day last week')})"
        lines.append(f"{label}: {_format(key, data['values'][key])}{delta}")
    return "\n".join(lines)


def daily_report_send(*, day: date) -> dict[str, Any]:
    data = daily_report(day=day)
    text = daily_report_text(data)
    to = list(getattr(settings, "LINLI_ANALYTICS_REPORT_TO", ()))
    if to:
        send_mail(_("Linli daily report for %(day)s") % {"day": data["day"]}, text, None, to)
    log.info("analytics daily report sent to %d addresses\n%s", len(to), text)
    return {"day": data["day"], "recipients": len(to)}
