"""Consumer coupon pages (issue 9): the store page's live promotions and claimable coupons
(claimed by `marketing.services.coupon_claim`), "my coupons" (`marketing.selectors.coupons_of`)
and the checkout's coupon picker (`marketing.selectors.coupon_best`). Marketing decides and
prices; these views only read, call and render."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError
from linli.marketing import rules
from linli.marketing.models import CouponTemplate
from linli.marketing.selectors import coupon_best, coupons_of
from linli.marketing.services import coupon_claim, promotions_live
from linli.merchants.models import MenuCategory, Store
from linli.orders.pricing import CartLine

from .common import consumer_required, error_context

CLAIMABLE_LIMIT = 20


def coupon_terms(template: CouponTemplate) -> str:
    """A coupon template's terms in one line: "Spend ¥30, ¥5 off · valid 7 days after claiming"."""
    y = rules.yuan
    if template.kind == CouponTemplate.Kind.PERCENT_OFF:
        terms = [_("%(percent)s%% off") % {"percent": template.percent_off}]
        if template.cap_fen:
            terms.append(_("at most ¥%(cap)s") % {"cap": y(template.cap_fen)})
    elif template.kind == CouponTemplate.Kind.FREE_DELIVERY:
        terms = [_("Free delivery")]
        if template.cap_fen:
            terms.append(_("at most ¥%(cap)s") % {"cap": y(template.cap_fen)})
    else:
        terms = [_("¥%(amount)s off") % {"amount": y(template.amount_fen)}]
    terms.append(_("on ¥%(threshold)s or more") % {"threshold": y(template.threshold_fen)}
                 if template.threshold_fen else _("no minimum"))
    if template.new_customers_only:
        terms.append(_("new customers only"))
    if template.valid_days:
        terms.append(_("valid %(days)s days after claiming") % {"days": template.valid_days})
    elif template.valid_until:
        terms.append(_("valid until %(date)s") % {
            "date": timezone.localtime(template.valid_until).strftime("%Y-%m-%d")})
    return " · ".join(terms)


# --- store page: promotions and claimable coupons --------------------------------------------

@dataclass(frozen=True)
class Claimable:
    template: CouponTemplate
    sold_out: bool
    claimed: int  # by this consumer (0 for a visitor)

    @property
    def at_limit(self) -> bool:
        return self.claimed >= self.template.per_user_limit


def claimable_templates(*, store: Store, user: Any, now: datetime) -> list[Claimable]:
    """The coupon templates offered at this store (its own and its category's) whose claim
    window is open, with whether they are sold out and how many this consumer holds (two
    queries). Read here until marketing has a store coupon selector."""
    window = ((Q(claim_starts_at__isnull=True) | Q(claim_starts_at__lte=now))
              & (Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=now))
              & (Q(valid_until__isnull=True) | Q(valid_until__gt=now)))
    scope = Q(scope=CouponTemplate.Scope.STORE, store=store)
    if store.category_id:
        scope |= Q(scope=CouponTemplate.Scope.CATEGORY, category_id=store.category_id)
    templates = list(CouponTemplate.objects.filter(window, scope, is_active=True)
                     .order_by("threshold_fen", "created_at")[:CLAIMABLE_LIMIT])
    claimed: dict[int, int] = {}
    if getattr(user, "is_authenticated", False) and templates:
        from linli.marketing.models import ClaimCounter

        claimed = dict(ClaimCounter.objects.filter(user=user, template__in=templates)
                       .values_list("template_id", "count"))
    for t in templates:
        t.terms = coupon_terms(t)  # type: ignore[attr-defined]
    return [Claimable(t, t.total_quota is not None and t.issued_count >= t.total_quota,
                      claimed.get(t.pk, 0)) for t in templates]


def store_marketing(request: HttpRequest, store: Store, menu: list[MenuCategory]) -> dict[str, Any]:
    """The store page's promotion badges and claimable coupons; each dish on special gets
    `special` (its special price and the promotion's label) for its card."""
    now = timezone.now()
    promotions = promotions_live(store, now)
    specials = {p.product_ref: p for p in promotions if p.kind == rules.SPECIAL_PRICE and p.product_ref}
    if specials:
        for section in menu:
            for product in section.products.all():
                product.special = specials.get(product.public_id)  # type: ignore[attr-defined]
    tiers = {(t.threshold_fen, t.amount_fen): t for p in promotions if p.kind == rules.TIERED for t in p.tiers}
    return {  # tier badges labelled as the breakdown labels the discount line ("满50减10")
        "promo_tiers": [rules.tier_label(tiers[k]) for k in sorted(tiers)],
        "promo_first_order": [p for p in promotions if p.kind == rules.FIRST_ORDER],
        "promo_specials": list(specials.values()),
        "promo_gifts": [p for p in promotions if p.kind == rules.BUY_X_GET_Y],
        "claimable": claimable_templates(store=store, user=request.user, now=now),
        "claim_key": secrets.token_urlsafe(12),  # one page, one claim: a double tap claims once
        "claimed_id": request.GET.get("claimed", ""),
    }


@require_POST
def claim(request: HttpRequest, store_id: str, template_id: str) -> HttpResponse:
    """Claim a coupon from the store page: back to the page with the coupon marked, or the
    page again with the refusal (sold out, limit reached...) at that coupon. A visitor is
    sent to log in and back to the store."""
    from . import views_consumer as consumer

    store = consumer._store_or_404(store_id)
    back = f"/stores/{store.public_id}"
    if not request.user.is_authenticated:
        return redirect(f"/login?{urlencode({'next': back})}")
    try:
        coupon_claim(user=request.user, template_id=template_id,  # type: ignore[arg-type]
                     key=request.POST.get("claim_key", "")[:100])
    except DomainError as exc:
        menu = consumer.store_menu(store=store)
        context = consumer._store_context(request, store, menu, consumer._cart(request, store.public_id))
        context["claim_error"] = error_context(exc)
        context["claim_error_for"] = template_id
        return render(request, "web/consumer/store.html", context, status=exc.status)
    return redirect(f"{back}?{urlencode({'claimed': template_id})}#coupons")


# --- my coupons ---------------------------------------------------------------------------------

@consumer_required
@require_GET
def my_coupons(request: HttpRequest) -> HttpResponse:
    """Usable first (soonest to expire first), then the others with why they cannot be used."""
    views = coupons_of(user=request.user, now=timezone.now())  # type: ignore[arg-type]
    for view in views:
        view.coupon.template.terms = coupon_terms(view.coupon.template)  # type: ignore[attr-defined]
    return render(request, "web/consumer/coupons.html", {
        "usable": [v for v in views if v.usable],
        "others": [{"coupon": v.coupon, "reason": error_context(v.refusal)}
                   for v in views if v.refusal is not None],
    })


# --- checkout: the coupon picker ---------------------------------------------------------------

NO_COUPON = "none"


def coupon_picker(request: HttpRequest, store: Store, lines: list[CartLine], *,
                  delivery: bool) -> dict[str, Any]:
    """The consumer's coupons for this cart, priced by marketing's best-coupon service:
    `options` (usable ones by total, then the refused ones with their reason) and `best`
    (the public id of the cheapest usable coupon when one saves anything, else "")."""
    if not lines:
        return {"options": [], "best": "", "error": None}
    try:
        found = coupon_best(consumer=request.user, store=store, cart=lines,  # type: ignore[arg-type]
                            delivery=delivery, now=timezone.now())
    except DomainError as exc:  # the cart itself cannot be priced (shown by the cart's own error)
        return {"options": [], "best": "", "error": error_context(exc)}
    for o in found.options:
        o.coupon.template.terms = coupon_terms(o.coupon.template)  # type: ignore[attr-defined]
    options = [{"coupon": o.coupon, "saves_fen": o.saves_fen,
                "total_fen": o.breakdown.total_fen if o.breakdown else None,
                "reason": error_context(o.refusal) if o.refusal else None} for o in found.options]
    return {"options": options, "best": found.best.coupon.public_id if found.best else "", "error": None}


def chosen_coupon(posted: str) -> str | None:
    """The coupon id the form chose ("" or "none" = no coupon)."""
    posted = posted.strip()[:40]
    return None if posted in ("", NO_COUPON) else posted
