"""Consumer pages of the unified member (issue 8): the member code (`/me/member-code`: the
QR code and digits the counter scans, refreshed before it expires and right after use)
and scan-to-buy (`/s/<store>/p/<product>`: a shelf QR code opens the product in that
store, buy now for pickup at the counter or delivery, through the store's own cart and
checkout)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.member_codes import member_code_show
from linli.core.errors import DomainError, InvalidInput
from linli.core.qrcode import qr_svg
from linli.merchants.models import Product, Store
from linli.merchants.selectors import store_is_open, store_menu
from linli.orders.services import line_choices
from linli.pos.points import member_tier, points_balance

from . import views_consumer as consumer
from .common import consumer_required, error_context

FULFILMENTS = ("pickup", "delivery")


# --- the member code -------------------------------------------------------------------------

def _code_context(request: HttpRequest) -> dict[str, Any]:
    shown = member_code_show(user=request.user)  # type: ignore[arg-type]
    svg = qr_svg(shown.code, scale=6, nl=False, svgclass="qr member-qr", title=_("Member code"))
    digits = " ".join(shown.code[i:i + 4] for i in range(0, len(shown.code), 4))
    return {"code": shown.code, "digits": digits, "refresh_in": shown.refresh_in,
            "expires_at": shown.expires_at, "qr_svg": mark_safe(svg)}  # noqa: S308 (segno output)


@consumer_required
@require_GET
def member_code(request: HttpRequest) -> HttpResponse:
    """The page; `?part=code&shown=<code>` is what its script polls every few seconds:
    204 while the shown code is still the current one, else the new code's fragment (a
    new 30-second step, or the code was just used at a counter)."""
    context = _code_context(request)
    if request.GET.get("part") == "code":
        if request.GET.get("shown", "") == context["code"]:
            return HttpResponse(status=204)
        return render(request, "web/consumer/_member_code.html", context)
    user = request.user
    context.update({"points": points_balance(user), "tier": member_tier(user)})  # type: ignore[arg-type]
    return render(request, "web/consumer/member_code.html", context)


# --- scan-to-buy ----------------------------------------------------------------------------------

def _shelf_product(store_id: str, product_id: str) -> tuple[Store, list[Any], Product]:
    store = consumer._store_or_404(store_id)
    menu = store_menu(store=store)
    product = consumer._menu_products(menu).get(product_id)
    if product is None:  # unknown, another store's, or not listed
        raise Http404
    product.has_choices = bool(product.variants.all() or product.option_groups.all())  # type: ignore[attr-defined]
    return store, menu, product


@require_http_methods(["GET", "POST"])
def shelf_product(request: HttpRequest, store_id: str, product_id: str) -> HttpResponse:
    """GET: the product in this store (the store page's picker for sizes and options).
    POST (buy now): the line is checked as the order will check it (`line_choices`), the
    store's cart becomes just this line, and the checkout opens with pickup at the counter
    or delivery preselected."""
    store, _menu, product = _shelf_product(store_id, product_id)
    context: dict[str, Any] = {"store": store, "p": product, "is_open": store_is_open(store=store),
                               "error": None, "picker_action": request.path, "buy_now": True,
                               "picker_error_for": None}
    if request.method == "POST":
        fulfilment = request.POST.get("fulfilment", "")
        variant = request.POST.get("variant", "").strip()
        options = tuple(sorted(o for o in request.POST.getlist("options") if o))
        try:
            if fulfilment not in FULFILMENTS:
                raise InvalidInput(field="fulfilment", allowed=list(FULFILMENTS))
            if product.is_sold_out or not product.available_now:  # type: ignore[attr-defined]
                raise InvalidInput(field="product_id", reason="not_available_now")
            line_choices(consumer._offer(product), variant or None, options)
        except DomainError as exc:
            context["error"] = error_context(exc)
            context["picker_error_for"] = product.public_id
            return render(request, "web/consumer/shelf_product.html", context, status=exc.status)
        key = consumer._line_key(product.public_id, variant, options)
        consumer._cart_save(request, store.public_id,
                            [consumer.CartItem(key, product.public_id, variant, options, 1)])
        return redirect(f"/stores/{store.public_id}/checkout?fulfilment={fulfilment}")
    return render(request, "web/consumer/shelf_product.html", context)
