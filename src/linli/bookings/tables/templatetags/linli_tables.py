"""`{% tables_entry store %}`: the store page's way in to reservations and the queue, shown
only when the store takes either."""

from __future__ import annotations

from typing import Any

from django import template

from linli.bookings.tables.models import TableSetup

register = template.Library()


@register.inclusion_tag("web/tables/_store_entry.html")
def tables_entry(store: Any) -> dict[str, Any]:
    setup = TableSetup.objects.filter(store=store).first()
    return {"store": store, "setup": setup,
            "shown": bool(setup and (setup.takes_reservations or setup.takes_queue))}
