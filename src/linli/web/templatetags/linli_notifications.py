"""{% unread_badge %}: the number of unread messages beside the consumer's messages link."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from linli.notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_badge(context: dict[str, Any]) -> SafeString | str:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    unread = unread_count(user=user)
    if not unread:
        return ""
    return format_html('<span class="badge nav-badge" data-testid="nav-unread" aria-label="{}">{}</span>',
                       _("%(count)s unread") % {"count": unread}, unread if unread < 100 else "99+")
