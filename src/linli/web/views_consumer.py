"""Consumer H5 pages (`/`): nearby, search, store and cart, checkout, pay, orders.

Views parse the form, call one service or selector, and render; a DomainError is shown
in the page with its code and message."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.services import auth_login_sms, sms_code_send
from linli.core.errors import DomainError, InvalidInput
from linli.discovery.search import store_search
from linli.discovery.selectors import store_list_nearby
from linli.merchants.models import Store
from linli.merchants.selectors import store_get, store_is_open, store_menu
from linli.orders.errors import OrderNotFound
from linli.orders.models import Order
from linli.orders.pricing import CartLine, FeeRules, PricingError, price_cart
from linli.orders.selectors import order_get_visible, order_list_for_consumer
from linli.orders.services import AddressInput, LineInput, order_act, order_place
from linli.payments.services import payment_create

from .common import consumer_required, error_context, safe_next, session_login, status_of
from .events import order_channel, sse_response

PEOPLES_SQUARE = (31.2304, 121.4737)
NEARBY_RADIUS_M = 3000
CART_MAX_QUANTITY = 99


# --- the chosen point ----------------------------------------------------------------------

def _parse_point(lat: str | None, lng: str | None) -> tuple[float, float]:
    try:
        point = (float(lat or ""), float(lng or ""))
    except ValueError as exc:
        raise InvalidInput(lat=lat, lng=lng) from exc
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise InvalidInput(lat=lat, lng=lng)
    return point


def _point(request: HttpRequest) -> tuple[float, float]:
    saved = request.session.get("web_point")
    return (saved[0], saved[1]) if saved else PEOPLES_SQUARE


# --- the cart: {store id: {product id: quantity}} in the session ---------------------------

def _cart(request: HttpRequest, store_id: str) -> dict[str, int]:
    return dict(request.session.get("web_carts", {}).get(store_id, {}))


def _cart_save(request: HttpRequest, store_id: str, cart: dict[str, int]) -> None:
    carts = dict(request.session.get("web_carts", {}))
    if cart:
        carts[store_id] = cart
    else:
        carts.pop(store_id, None)
    request.session["web_carts"] = carts


def _cart_view(store: Store, menu: list[Any], cart: dict[str, int], *, delivery: bool) -> dict[str, Any]:
    """The cart's lines and an estimate priced by the same pure function as the order."""
    products = {p.public_id: p for section in menu for p in section.products.all()}
    lines = [CartLine(product_ref=pid, name=products[pid].name,
                      unit_price_fen=products[pid].price_fen, quantity=qty)
             for pid, qty in cart.items() if pid in products]
    view: dict[str, Any] = {"lines": lines, "count": sum(line.quantity for line in lines),
                            "breakdown": None, "error": None}
    if lines:
        rules = FeeRules(packaging_fee_fen=store.packaging_fee_fen,
                         delivery_fee_fen=store.delivery_fee_fen, min_order_fen=store.min_order_fen)
        try:
            view["breakdown"] = price_cart(lines, rules, delivery=delivery)
        except PricingError as exc:
            view["error"] = {"code": exc.code, "message": str(exc)}
    return view


# --- pages ---------------------------------------------------------------------------------

@require_GET
def home(request: HttpRequest) -> HttpResponse:
    error = None
    if "lat" in request.GET or "lng" in request.GET:
        try:
            request.session["web_point"] = list(_parse_point(request.GET.get("lat"),
                                                             request.GET.get("lng")))
        except InvalidInput as exc:
            error = error_context(exc)
    lat, lng = _point(request)
    stores, _next = store_list_nearby(lat=lat, lng=lng, radius_m=NEARBY_RADIUS_M, limit=30)
    return render(request, "web/consumer/home.html",
                  {"stores": stores, "lat": lat, "lng": lng, "error": error})


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    lat, lng = _point(request)
    page, error = None, None
    try:
        page = store_search(q=q, lat=lat, lng=lng, limit=30)
    except DomainError as exc:
        error = error_context(exc)
    return render(request, "web/consumer/search.html", {"q": q, "page": page, "error": error})


def _store_or_404(store_id: str) -> Store:
    try:
        return store_get(public_id=store_id)
    except DomainError as exc:
        raise Http404 from exc


@require_GET
def store_page(request: HttpRequest, store_id: str) -> HttpResponse:
    store = _store_or_404(store_id)
    menu = store_menu(store=store)
    cart = _cart(request, store.public_id)
    return render(request, "web/consumer/store.html", {
        "store": store, "menu": menu, "is_open": store_is_open(store=store), "cart": cart,
        "cart_view": _cart_view(store, menu, cart, delivery=True),
    })


@require_POST
def cart_change(request: HttpRequest, store_id: str) -> HttpResponse:
    store = _store_or_404(store_id)
    product_id = request.POST.get("product_id", "")
    try:
        delta = int(request.POST.get("delta", "1"))
    except ValueError:
        delta = 0
    menu_ids = {p.public_id for section in store_menu(store=store) for p in section.products.all()}
    cart = _cart(request, store.public_id)
    if product_id in menu_ids and delta in (-1, 1):
        quantity = min(cart.get(product_id, 0) + delta, CART_MAX_QUANTITY)
        if quantity > 0:
            cart[product_id] = quantity
        else:
            cart.pop(product_id, None)
        _cart_save(request, store.public_id, cart)
    return redirect(f"/stores/{store.public_id}#cart")


def _checkout_form(request: HttpRequest) -> dict[str, str]:
    fields = ("fulfilment", "address_text", "lat", "lng", "contact_name", "contact_phone", "note",
              "idempotency_key")
    return {f: request.POST.get(f, "").strip() for f in fields}


def _place(request: HttpRequest, store: Store, cart: dict[str, int], form: dict[str, str]) -> Order:
    address = None
    if form["fulfilment"] == Order.Fulfilment.DELIVERY:
        lat, lng = _parse_point(form["lat"], form["lng"])
        address = AddressInput(text=form["address_text"], lat=lat, lng=lng,
                               contact_name=form["contact_name"], contact_phone=form["contact_phone"])
    elif form["fulfilment"] != Order.Fulfilment.PICKUP:
        raise InvalidInput(fulfilment=form["fulfilment"])
    placed = order_place(
        consumer=request.user, store_id=store.public_id,  # type: ignore[arg-type]
        lines=[LineInput(product_id=pid, quantity=qty) for pid, qty in sorted(cart.items())],
        fulfilment=form["fulfilment"], address=address, note=form["note"][:200],
        idempotency_key=form["idempotency_key"],
    )
    return placed.order


def _pay_redirect(request: HttpRequest, order: Order) -> HttpResponse:
    try:
        payment = payment_create(order_id=order.public_id, consumer=request.user)  # type: ignore[arg-type]
    except DomainError:
        return redirect(f"/orders/{order.public_id}")  # the order page says why it cannot be paid
    return redirect(f"{payment.pay_url}?{urlencode({'return_to': f'/orders/{order.public_id}'})}")


@consumer_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, store_id: str) -> HttpResponse:
    store = _store_or_404(store_id)
    cart = _cart(request, store.public_id)
    lat, lng = _point(request)
    error = None
    if request.method == "POST":
        form = _checkout_form(request)
        try:
            order = _place(request, store, cart, form)
        except DomainError as exc:
            error = error_context(exc)
        else:
            _cart_save(request, store.public_id, {})
            return _pay_redirect(request, order)
    else:
        form = {"fulfilment": "delivery", "address_text": "", "lat": f"{lat:.6f}", "lng": f"{lng:.6f}",
                "contact_name": "", "contact_phone": request.user.phone or "",  # type: ignore[union-attr]
                "note": "", "idempotency_key": secrets.token_urlsafe(18)}
    menu = store_menu(store=store)
    return render(request, "web/consumer/checkout.html", {
        "store": store, "form": form, "error": error,
        "cart_view": _cart_view(store, menu, cart, delivery=form["fulfilment"] != "pickup"),
    }, status=status_of(error))


def _own_order(request: HttpRequest, order_id: str) -> Order:
    """The consumer's own order; anyone else's (even one they may see as staff) is a 404."""
    try:
        order = order_get_visible(actor=request.user, order_id=order_id)  # type: ignore[arg-type]
    except OrderNotFound as exc:
        raise Http404 from exc
    if order.consumer_id != request.user.pk:
        raise Http404
    return order


@consumer_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    orders = order_list_for_consumer(consumer=request.user, limit=50)  # type: ignore[arg-type]
    return render(request, "web/consumer/orders.html", {"orders": orders})


@consumer_required
@require_GET
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order(request, order_id)
    template = "web/consumer/_order_status.html" if request.GET.get("part") == "status" \
        else "web/consumer/order.html"
    return render(request, template, {"order": order, "error": None})


@consumer_required
@require_POST
def order_pay(request: HttpRequest, order_id: str) -> HttpResponse:
    return _pay_redirect(request, _own_order(request, order_id))


@consumer_required
@require_POST
def order_action(request: HttpRequest, order_id: str, action: str) -> HttpResponse:
    order = _own_order(request, order_id)
    if action not in ("cancel", "confirm"):
        raise Http404
    try:
        order_act(order_id=order.public_id, actor=request.user, action=action,  # type: ignore[arg-type]
                  note=request.POST.get("note", "")[:200])
    except DomainError as exc:
        return render(request, "web/consumer/order.html",
                      {"order": _own_order(request, order_id), "error": error_context(exc)},
                      status=exc.status)
    return redirect(f"/orders/{order.public_id}")


@consumer_required
@require_GET
def order_events(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order(request, order_id)
    return sse_response(request, order_channel(order.public_id))


# --- login by SMS code ----------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def login_sms(request: HttpRequest) -> HttpResponse:
    phone = request.POST.get("phone", "").strip()
    context: dict[str, Any] = {"phone": phone, "sent": False, "error": None,
                               "next": safe_next(request, "/")}
    if request.method == "POST":
        try:
            if request.POST.get("step") == "send":
                sms_code_send(phone=phone)
                context["sent"] = True
            else:
                result = auth_login_sms(phone=phone, code=request.POST.get("code", "").strip())
                session_login(request, result["user"])
                return redirect(context["next"])
        except DomainError as exc:
            context["error"] = error_context(exc)
            context["sent"] = request.POST.get("step") == "login"
    return render(request, "web/consumer/login.html", context, status=status_of(context["error"]))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(safe_next(request, "/"))
