"""Template helpers of the fulfilment modes: QR codes drawn server-side as inline SVG
(segno; no external service) and the labels of scheduled-order slots."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from linli.core.qrcode import qr_svg_inline

register = template.Library()


def qr_svg(data: str, *, label: str, scale: int = 4) -> SafeString:
    """An accessible inline SVG QR code of `data` (error correction M, quiet zone 4)."""
    svg = qr_svg_inline(str(data), scale=scale, svgclass="qr", lineclass="qr-line", title=str(label),
                        omitsize=True)  # a viewBox: CSS sizes it
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308 (segno output + escaped label)


@register.simple_tag
def qr(data: str, label: str = "", scale: int = 4) -> SafeString:
    """{% qr url "Table A12" %}: the QR code of `data` as inline SVG."""
    return qr_svg(data, label=label or str(data), scale=int(scale))


@register.filter
def slot_label(slot: datetime, tz: str = "Asia/Shanghai") -> str:
    """"Today 12:15" / "Tomorrow 09:00" in the store's time zone."""
    zone = ZoneInfo(tz)
    local = slot.astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    day = _("Today") if local.date() == today else _("Tomorrow") if (
        local.date() - today).days == 1 else local.strftime("%m-%d")
    return f"{day} {local:%H:%M}"
