"""Template helpers of service appointments: the store page's "Book an appointment" link."""

from __future__ import annotations

from django import template

from linli.bookings.selectors import services_of_store
from linli.merchants.models import Store

register = template.Library()


@register.simple_tag
def store_bookable(store: Store) -> list:  # type: ignore[type-arg]
    """The store's bookable services (empty: no link)."""
    return services_of_store(store=store)
