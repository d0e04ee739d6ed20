"""Reviews and favourites on the web. Consumer: write a review of a completed order (stars per
dimension, text, photos, the rider apart), the helpful button on the store's reviews tab,
the store's favourite toggle and `/me/favourites`. Merchant console `/m/reviews`: the
store's reviews with filters and the one reply. Every write is one `reviews.services`
call, so the pages refuse exactly what the API refuses (docs/reviews.md)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.analytics import track_request
from linli.core.errors import DomainError
from linli.merchants import roles
from linli.merchants.selectors import StoreNotFound
from linli.reviews import selectors, services
from linli.reviews.models import Favourite, Review
from linli.reviews.templatetags.linli_reviews import filters_from

from .common import (
    consumer_required,
    error_context,
    merchant_required,
    refused,
    safe_next,
    status_of,
)
from .views_merchant import console_frame

CONSUMER_BASE = "web/consumer/base.html"
MERCHANT_BASE = "web/merchant/base.html"

RIDER_TAG_LABELS = {
    "on_time": gettext_lazy("On time"), "friendly": gettext_lazy("Friendly"),
    "careful": gettext_lazy("Careful with the food"), "fast": gettext_lazy("Fast"), "late": gettext_lazy("Late"),
    "rude": gettext_lazy("Rude"), "spilled": gettext_lazy("Food spilled"), "no_call": gettext_lazy("Did not call"),
}


# --- consumer: write a review -------------------------------------------------------------------

def _dimension_fields(subject: services.Subject, form: dict[str, str]) -> list[dict[str, Any]]:
    fields = [("stars", _("Overall"), True), ("taste", _("Taste / quality"), False),
              ("packaging", _("Package quality"), False)]
    if subject.delivered:
        fields.append(("delivery", _("Delivery service"), False))
    out = []
    for name, label, required in fields:
        value = form.get(name, "")
        out.append({"name": name, "label": label, "required": required,
                    "value": int(value) if value.isdigit() else None})
    return out


def _star(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() else -1  # -1: refused by the service


def _write_context(request: HttpRequest, subject: services.Subject, form: dict[str, str],
                   error: dict[str, Any] | None = None) -> dict[str, Any]:
    rider = None
    if subject.rider_id is not None and subject.order is not None:
        rider = subject.order.delivery.rider.name  # type: ignore[attr-defined]
    return {"order": subject.order, "dimensions": _dimension_fields(subject, form), "five": range(5, 0, -1),  # DOM 5..1, shown 1..5 (CSS row-reverse)
            "form": form, "error": error, "rider": rider,
            "rider_tags": [(code, str(RIDER_TAG_LABELS.get(code, code))) for code in services.RIDER_TAGS]}


def _rider_input(request: HttpRequest, subject: services.Subject) -> services.RiderInput | None:
    thumb = request.POST.get("rider_thumb", "")
    tags = tuple(request.POST.getlist("rider_tags"))
    if subject.rider_id is None or (not thumb and not tags):
        return None
    return services.RiderInput(thumbs_up={"up": True, "down": False}.get(thumb), tags=tags)


@consumer_required
@require_http_methods(["GET", "POST"])
def review_write(request: HttpRequest, order_id: str) -> HttpResponse:
    try:
        subject = services.subject_get(user=request.user, kind=Review.Subject.ORDER, key=order_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    form = {k: request.POST.get(k, "") for k in ("stars", "taste", "packaging", "delivery", "text")}
    if request.method == "GET":
        return render(request, "web/reviews/write.html", _write_context(request, subject, form))
    uploads = request.FILES.getlist("photos")
    try:
        if len(uploads) > services.MAX_PHOTOS:
            raise services.errors.TooManyPhotos(count=len(uploads), max=services.MAX_PHOTOS)
        photos = [services.review_photo_upload(user=request.user, upload=u) for u in uploads]  # type: ignore[arg-type]
        scores = services.Scores(stars=_star(form["stars"]) or 0, taste=_star(form["taste"]),
                                 packaging=_star(form["packaging"]), delivery=_star(form["delivery"]))
        done = services.review_submit(user=request.user, order_id=order_id, scores=scores, text=form["text"],  # type: ignore[arg-type]
                                      photo_ids=[p.public_id for p in photos], rider=_rider_input(request, subject))
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/reviews/write.html", _write_context(request, subject, form, error),
                      status=status_of(error))
    track_request("review", request, store=done.review.store_id, props={"stars": done.review.stars})
    # The order page's review box shows it (and "waiting for review by Linli" if held).
    return redirect(f"/orders/{done.review.subject_key}")


# --- consumer: helpful, favourites ------------------------------------------------------------

@consumer_required
@require_POST
def helpful(request: HttpRequest, review_id: str) -> HttpResponse:
    try:
        if request.POST.get("voted") == "0":
            services.review_unvote(user=request.user, review_id=review_id)  # type: ignore[arg-type]
        else:
            services.review_vote(user=request.user, review_id=review_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    return redirect(safe_next(request, "/"))


@consumer_required
@require_POST
def favourite_toggle(request: HttpRequest, store_id: str) -> HttpResponse:
    try:
        if request.POST.get("on") == "0":
            services.favourite_remove(user=request.user, kind=Favourite.Kind.STORE, target_id=store_id)  # type: ignore[arg-type]
        else:
            services.favourite_add(user=request.user, kind=Favourite.Kind.STORE, target_id=store_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=CONSUMER_BASE)
    return redirect(safe_next(request, f"/stores/{store_id}"))


@consumer_required
@require_GET
def my_favourites(request: HttpRequest) -> HttpResponse:
    return render(request, "web/reviews/favourites.html",
                  {"mine": selectors.favourites_of(user=request.user)})  # type: ignore[arg-type]


# --- merchant console ---------------------------------------------------------------------------

DIMENSION_LABELS = {"overall": gettext_lazy("Overall"), "taste": gettext_lazy("Taste"),
                    "packaging": gettext_lazy("Package quality"), "delivery": gettext_lazy("Delivery service")}


def _console(request: HttpRequest, error: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "reviews")
    store = frame["store"]
    filters = filters_from(request.GET)
    unreplied = request.GET.get("unreplied") == "1"
    _store, reviews = selectors.reviews_of_store_for_merchant(
        user=request.user, store_id=store.public_id, filters=filters,  # type: ignore[arg-type]
        replied=False if unreplied else None)
    for review in reviews:
        review.author_label = selectors.author_label(review.author)  # type: ignore[attr-defined]
    dimensions = [{"label": DIMENSION_LABELS[d.dimension], "average": d.average, "count": d.count}
                  for d in selectors.store_rating(store=store)]
    return {**frame, "reviews": reviews, "filters": filters, "unreplied": unreplied, "dimensions": dimensions,
            "may_reply": roles.allows(frame["role"], roles.STORE_EDIT), "error": error}


@merchant_required
@require_GET
def console_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _console(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    return render(request, "web/reviews/merchant.html", context)


@merchant_required
@require_POST
def console_reply(request: HttpRequest, review_id: str) -> HttpResponse:
    try:
        services.review_reply(actor=request.user, review_id=review_id, text=request.POST.get("text", ""))  # type: ignore[arg-type]
    except DomainError as exc:
        try:
            error = error_context(exc)
            return render(request, "web/reviews/merchant.html", _console(request, error), status=status_of(error))
        except StoreNotFound:
            return refused(request, exc, base=MERCHANT_BASE)
    messages.success(request, _("Reply published."))
    return redirect("/m/reviews")


# Appended to web/urls.py's patterns. (`orders/<id>/<action>` is taken by order actions, so
# the review form lives one level deeper.)
urlpatterns = [
    path("orders/<str:order_id>/review/new", review_write, name="web-review-write"),
    path("reviews/<str:review_id>/helpful", helpful, name="web-review-helpful"),
    path("stores/<str:store_id>/favourite", favourite_toggle, name="web-store-favourite"),
    path("me/favourites", my_favourites, name="web-my-favourites"),
    path("m/reviews", console_page, name="web-merchant-reviews"),
    path("m/reviews/<str:review_id>/reply", console_reply, name="web-merchant-review-reply"),
]
