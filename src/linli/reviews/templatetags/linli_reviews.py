"""What the shared consumer pages show of reviews, read in reviews' own templates so the
store and order views stay as they are: `{% store_reviews_page store request as page %}`,
`{% order_review order user as state %}`, `{% is_favourite store user as fav %}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from linli.merchants.models import Store
from linli.orders.models import Order

from .. import selectors

register = template.Library()

PAGE = 20


def filters_from(query: Any) -> selectors.ReviewFilters:
    """The list's filters from a query string (unknown values fall back to the defaults)."""
    sort = query.get("sort", "recent")
    dimension = query.get("dimension") or None
    try:
        offset = max(0, int(query.get("offset", "0")))
    except ValueError:
        offset = 0
    return selectors.ReviewFilters(
        sort=sort if sort in selectors.SORTS else "recent", with_photos=query.get("with_photos") == "1",
        low=query.get("low") == "1", dimension=dimension if dimension in selectors.SCORED else None,
        limit=PAGE, offset=offset)


@register.simple_tag
def store_reviews_page(store: Store, request: HttpRequest) -> dict[str, Any]:
    filters = filters_from(request.GET)
    _store, reviews = selectors.store_reviews(store_id=store.public_id, filters=filters, viewer=request.user)  # type: ignore[arg-type]
    for review in reviews:
        review.author_label = selectors.author_label(review.author)  # type: ignore[attr-defined]
    dimensions = {d.dimension: d for d in selectors.store_rating(store=store)}
    return {"reviews": reviews, "filters": filters, "dimensions": dimensions,
            "next_offset": filters.offset + PAGE if len(reviews) == PAGE else None}


@register.simple_tag
def order_review(order: Order, user: Any) -> selectors.OrderReviewState | None:
    if not user.is_authenticated or order.status != Order.Status.COMPLETED:
        return None
    return selectors.order_review_state(user=user, order=order)


@register.simple_tag
def is_favourite(store: Store, user: Any) -> bool:
    return selectors.is_favourite_store(user=user, store=store)


@register.filter
def star_text(stars: int | None) -> str:
    """★★★☆☆ for 3 (an image of the score; the number is given beside it for readers)."""
    if not stars:
        return ""
    return "★" * int(stars) + "☆" * (5 - int(stars))
