"""Consumer H5 pages (`/`): home feed and nearby, search, store (menu, variant/option
picker, reviews tab) and cart, checkout with the address book, pay, orders.
The address book pages are in views_consumer_address.py.

Views parse the form, call one service or selector, and render; a DomainError is shown
in the page with its code and message."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.gazetteer import gazetteer
from linli.accounts.geocode import haversine_m
from linli.accounts.models import Address
from linli.accounts.selectors import address_get, address_list
from linli.accounts.services import auth_login_sms, sms_code_send
from linli.analytics import track_request
from linli.core.errors import DomainError, InvalidInput
from linli.delivery.selectors import DeliveryPromise, delivery_code_for_consumer, delivery_promise
from linli.delivery.tracking import EtaUnavailable, order_eta
from linli.discovery.home import home_feed
from linli.discovery.recommendations import also_bought, guess_you_like
from linli.discovery.search import store_search
from linli.discovery.selectors import store_list_nearby
from linli.merchants.models import MenuCategory, Product, Store, StorePhoto
from linli.merchants.selectors import store_get, store_is_open, store_menu
from linli.orders.errors import OrderNotFound, UtensilsInvalid
from linli.orders.models import Order
from linli.orders.pricing import (
    CartLine,
    Choice,
    GroupOffer,
    PricingError,
    ProductOffer,
    price_cart,
)
from linli.orders.selectors import order_get_visible, order_list_for_consumer
from linli.orders.services import (
    MAX_UTENSILS,
    AddressInput,
    LineInput,
    OrderExtras,
    cancel_request_deadline,
    delivery_quote,
    fee_rules_for,
    line_choices,
    order_act,
    order_place,
    order_reorder,
    price_error,
)

from . import views_coupons as coupons_web
from . import views_fulfilment as fulfilment_web
from .common import consumer_required, error_context, safe_next, session_login, status_of
from .events import order_channel, sse_response

PEOPLES_SQUARE = (31.2304, 121.4737)
NEARBY_RADIUS_M = 3000
CART_MAX_QUANTITY = 99
# The ETA on a store card: its preparation time plus the ride at an e-bike's effective
# city speed over the straight-line distance (the delivery app's deadlines assume the same).
RIDER_M_PER_MIN = 250
CATEGORY_ICONS = {"food": "🍜", "drinks": "🧋", "supermarket": "🛒", "fruit": "🍉",
                  "pharmacy": "💊", "beauty": "💇", "flowers": "💐", "fitness": "🏋️"}
DEFAULT_ICON = "🏪"


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


# --- the cart in the session: {store id: {line key: {"p", "v", "o", "q"}}} -----------------
# A line is a product with its chosen variant ("v", a public id or "") and options ("o",
# sorted public ids); "q" is the quantity. Choices are checked when a line is added, by
# the same rule the order applies (`orders.services.line_choices`), and again at checkout.

@dataclass(frozen=True)
class CartItem:
    key: str
    product_id: str
    variant: str
    options: tuple[str, ...]
    quantity: int


def _line_key(product_id: str, variant: str, options: tuple[str, ...]) -> str:
    return "|".join((product_id, variant, ",".join(sorted(options))))


def _cart(request: HttpRequest, store_id: str) -> list[CartItem]:
    items = []
    for key, raw in request.session.get("web_carts", {}).get(store_id, {}).items():
        if isinstance(raw, int):  # a cart saved before lines had choices: {product id: quantity}
            raw = {"p": key, "v": "", "o": [], "q": raw}
            key = _line_key(key, "", ())
        items.append(CartItem(key, raw["p"], raw.get("v", ""), tuple(raw.get("o", ())), int(raw["q"])))
    return items


def _cart_save(request: HttpRequest, store_id: str, cart: list[CartItem]) -> None:
    carts = dict(request.session.get("web_carts", {}))
    if cart:
        carts[store_id] = {i.key: {"p": i.product_id, "v": i.variant, "o": list(i.options),
                                   "q": i.quantity} for i in cart}
    else:
        carts.pop(store_id, None)
    request.session["web_carts"] = carts


def _offer(product: Product) -> ProductOffer:
    """What a menu product lets the buyer choose, from the menu's prefetched parts (the
    menu lists only available variants and options, as `product_offers` does)."""
    return ProductOffer(
        ref=product.public_id,
        variants=tuple(Choice(v.public_id, v.name, v.price_delta_fen) for v in product.variants.all()),
        groups=tuple(GroupOffer(ref=g.public_id, name=g.name, min_choices=g.min_choices,
                                max_choices=g.max_choices,
                                options=tuple(Choice(o.public_id, o.name, o.price_delta_fen, g.name)
                                              for o in g.options.all()))
                     for g in product.option_groups.all()),
    )


def _menu_products(menu: list[MenuCategory]) -> dict[str, Product]:
    return {p.public_id: p for section in menu for p in section.products.all()}


def _cart_lines(menu: list[MenuCategory], cart: list[CartItem]) -> tuple[list[tuple[CartItem, CartLine]], int]:
    """The priced lines of the cart and how many saved lines no longer fit the menu
    (product gone, or its variants/options changed since)."""
    products = _menu_products(menu)
    out, stale = [], 0
    for item in cart:
        product = products.get(item.product_id)
        if product is None:
            stale += 1
            continue
        try:
            variant, options = line_choices(_offer(product), item.variant or None, item.options)
        except DomainError:
            stale += 1
            continue
        out.append((item, CartLine(product_ref=product.public_id, name=product.name,
                                   unit_price_fen=product.price_fen, quantity=item.quantity,
                                   variant=variant, options=options,
                                   packaging_fee_fen=product.packaging_fee_fen)))
    return out, stale


def _cart_view(store: Store, menu: list[MenuCategory], cart: list[CartItem], *, delivery: bool,
               distance_m: int | None = None, consumer: Any = None,
               coupon_id: str | None = None) -> dict[str, Any]:
    """The cart's lines and an estimate priced by the same pure function and rules as the
    order, at this moment (the night surcharge and the store's live promotions show when
    they apply, so the total sent with the order is the one the order computes). Without
    a distance (no address chosen yet) the delivery fee is the nearest tier's. A chosen
    coupon that marketing refuses for this cart is left out and its reason is
    `coupon_error` (the order refuses it the same way)."""
    from linli.marketing.services import discount_rules_for

    pairs, stale = _cart_lines(menu, cart)
    lines = [line for _, line in pairs]
    view: dict[str, Any] = {"items": pairs, "lines": lines, "stale": stale,
                            "count": sum(line.quantity for line in lines),
                            "breakdown": None, "error": None, "coupon_error": None}
    if lines:
        now = timezone.now()
        user = consumer if getattr(consumer, "is_authenticated", False) else None
        try:
            try:
                discounts = discount_rules_for(consumer=user, store=store, cart=lines,
                                               coupon_id=coupon_id, now=now, delivery=delivery)
            except DomainError as exc:
                if not coupon_id:
                    raise
                view["coupon_error"] = error_context(exc)
                discounts = discount_rules_for(consumer=user, store=store, cart=lines, coupon_id=None,
                                               now=now, delivery=delivery)
            view["breakdown"] = price_cart(lines, fee_rules_for(store), delivery=delivery,
                                           at=now, distance_m=distance_m, discounts=discounts)
        except PricingError as exc:
            view["error"] = {"code": exc.code, "message": str(price_error(exc).message),
                             "details": exc.details}
    return view


# --- pages ---------------------------------------------------------------------------------

def eta_minutes(prep_minutes: int, distance_m: int) -> int:
    """Preparation plus the ride, rounded up to 5 minutes: "about 35 min"."""
    total = prep_minutes + math.ceil(distance_m / RIDER_M_PER_MIN)
    return max(5, math.ceil(total / 5) * 5)


def _store_cards(store_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Status and first photo of the listed stores: two queries for the whole page."""
    cards: dict[str, dict[str, Any]] = {
        row["public_id"]: {"status": row["status"], "photo": None}
        for row in Store.objects.filter(public_id__in=store_ids).values("public_id", "status")}
    for photo in StorePhoto.objects.filter(store__public_id__in=store_ids).select_related(
            "store").order_by("store_id", "sort", "id"):
        card = cards.get(photo.store.public_id)
        if card is not None and card["photo"] is None:
            card["photo"] = photo.image.url
    return cards


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The city's feed (banners, category grid, hot stores: `discovery.home.home_feed`) and
    the stores around the chosen point, optionally of one category."""
    error = None
    if "lat" in request.GET or "lng" in request.GET:
        try:
            request.session["web_point"] = list(_parse_point(request.GET.get("lat"),
                                                             request.GET.get("lng")))
        except InvalidInput as exc:
            error = error_context(exc)
    lat, lng = _point(request)
    city = gazetteer().nearest_city(lat, lng) or ("", "")
    feed = home_feed(city_code=city[0], lat=lat, lng=lng)
    category = request.GET.get("category", "")
    if category not in {c.slug for c in feed.categories}:
        category = ""
    stores, _next = store_list_nearby(lat=lat, lng=lng, radius_m=NEARBY_RADIUS_M, limit=30,
                                      category=category or None)
    cards = _store_cards([s.id for s in stores] + [h.id for h in feed.hot_stores])
    track_request("impression", request, props={"surface": "home", "stores": [s.id for s in stores]})
    nearby = [{"store": s, "eta": eta_minutes(s.prep_minutes, s.distance_m),
               **cards.get(s.id, {"status": "open", "photo": None})} for s in stores]
    hot = [{"store": h, **cards.get(h.id, {"status": "open", "photo": None})} for h in feed.hot_stores]
    guess = guess_you_like(user=request.user if request.user.is_authenticated else None,  # 猜你喜欢
                           lat=lat, lng=lng, limit=8)
    categories = [{"slug": c.slug, "name_zh": c.name_zh, "name_en": c.name_en,
                   "icon": CATEGORY_ICONS.get(c.slug, DEFAULT_ICON)} for c in feed.categories]
    return render(request, "web/consumer/home.html", {
        "nearby": nearby, "lat": lat, "lng": lng, "error": error, "city_name": city[1],
        "banners": feed.banners, "categories": categories, "hot": hot, "category": category,
        "guess": guess,
    })


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    lat, lng = _point(request)
    page, error = None, None
    try:
        page = store_search(q=q, lat=lat, lng=lng, limit=30)
        track_request("search", request, props={"q": q[:50]})
    except DomainError as exc:
        error = error_context(exc)
    return render(request, "web/consumer/search.html", {"q": q, "page": page, "error": error})


def _store_or_404(store_id: str) -> Store:
    try:
        return store_get(public_id=store_id)
    except DomainError as exc:
        raise Http404 from exc


def hours_today(store: Store, now: datetime | None = None) -> list[tuple[str, str]] | None:
    """Today's opening periods in the store's time zone (a special date's own, if any);
    [] when closed all day."""
    local = (now or timezone.now()).astimezone(ZoneInfo(store.timezone))
    periods = (store.special_hours or {}).get(local.date().isoformat())
    if periods is None:
        periods = store.opening_hours[local.weekday()] if store.opening_hours else []
    return [(start, end) for start, end in periods]


def _store_context(request: HttpRequest, store: Store, menu: list[MenuCategory],
                   cart: list[CartItem]) -> dict[str, Any]:
    tab = "reviews" if request.GET.get("tab") == "reviews" else "menu"
    for section in menu:
        for product in section.products.all():
            product.has_choices = bool(product.variants.all() or product.option_groups.all())  # type: ignore[attr-defined]
    return {
        "store": store, "menu": menu, "is_open": store_is_open(store=store), "tab": tab,
        "photos": [photo.image.url for photo in store.photos.all()],
        "hours_today": hours_today(store),
        "cart_view": _cart_view(store, menu, cart, delivery=True, consumer=request.user),
        "error": None, "dine_in": fulfilment_web.dine_in_for(request, store),  # table QR
        "reorder": _reorder_notice(request, store) if tab == "menu" else None,  # 再来一单
        **coupons_web.store_marketing(request, store, menu),  # promotions, claimable coupons
    }


@require_GET
def store_page(request: HttpRequest, store_id: str) -> HttpResponse:
    store = _store_or_404(store_id)
    menu = store_menu(store=store)
    cart = _cart(request, store.public_id)
    track_request("store_view", request, store=store)
    context = _store_context(request, store, menu, cart)
    lat, lng = _point(request)
    context["also_bought"] = also_bought(store_id=store.public_id, lat=lat, lng=lng)  # 买了这家的还买了
    return render(request, "web/consumer/store.html", context)


@require_POST
def cart_change(request: HttpRequest, store_id: str) -> HttpResponse:
    """Add a product (with its variant and options, checked here as the order will check
    them), or step an existing cart line (`line`) up or down."""
    store = _store_or_404(store_id)
    try:
        delta = int(request.POST.get("delta", "1"))
    except ValueError:
        delta = 0
    menu = store_menu(store=store)
    cart = _cart(request, store.public_id)
    line_key = request.POST.get("line", "")
    product_id = request.POST.get("product_id", "")
    products = _menu_products(menu)
    if line_key:
        target = next((item for item in cart if item.key == line_key), None)
    elif product_id in products and delta in (-1, 1):
        variant = request.POST.get("variant", "").strip()
        options = tuple(sorted(o for o in request.POST.getlist("options") if o))
        if delta == 1:
            try:
                line_choices(_offer(products[product_id]), variant or None, options)
            except DomainError as exc:
                context = _store_context(request, store, menu, cart)
                context["error"] = error_context(exc)
                context["picker_error_for"] = product_id
                return render(request, "web/consumer/store.html", context, status=exc.status)
        key = _line_key(product_id, variant, options)
        target = next((item for item in cart if item.key == key), None) or CartItem(
            key, product_id, variant, options, 0)
        if target not in cart:
            cart.append(target)
    else:
        target = None
    if target is not None and delta in (-1, 1):
        quantity = min(target.quantity + delta, CART_MAX_QUANTITY)
        index = cart.index(target)
        if quantity > 0:
            cart[index] = CartItem(target.key, target.product_id, target.variant, target.options,
                                   quantity)
        else:
            cart.pop(index)
        _cart_save(request, store.public_id, cart)
        if delta == 1:
            track_request("add_to_cart", request, store=store, props={"product": target.product_id})
    return redirect(f"/stores/{store.public_id}#cart")


def _checkout_form(request: HttpRequest) -> dict[str, str]:
    fields = ("fulfilment", "address_id", "address_text", "lat", "lng", "contact_name",
              "contact_phone", "note", "idempotency_key", "shown_totals",
              "utensils", "invoice_title", "invoice_tax_no", "invoice_email",  # lifecycle extras
              "coupon_id", "shown_coupon",  # the coupon picker: chosen, and the one priced on the page
              "allow_reroute")  # chain stores: pass it on if this store rejects (orders/reroute.py)
    return {f: request.POST.get(f, "").strip() for f in fields}


def _extras(form: dict[str, str]) -> OrderExtras:
    """Utensils ("" = not said, "0" = none, the eco choice, else the number of sets) and the
    invoice request, checked by `order_place` exactly as the API's are."""
    utensils = form["utensils"]
    if utensils and not (utensils.isascii() and utensils.isdigit() and len(utensils) <= 3):
        raise UtensilsInvalid(field="utensils", max=MAX_UTENSILS)
    return OrderExtras(utensils=int(utensils) if utensils else None,
                       invoice_title=form["invoice_title"], invoice_tax_no=form["invoice_tax_no"],
                       invoice_email=form["invoice_email"])


def _shown_totals(choices: list[AddressChoice], pickup_total_fen: int | None) -> str:
    """The totals this checkout page shows, "pickup:3350,adr_…:3850": posted back so the
    order is refused with `price_changed` (not charged silently) if the price moved since."""
    pairs = [("pickup", pickup_total_fen)] + [(c.address.public_id, c.total_fen) for c in choices]
    return ",".join(f"{key}:{total}" for key, total in pairs if total is not None)


def _expected_total(form: dict[str, str]) -> int | None:
    """The total the page showed for the chosen way (a saved address, or pickup); None when
    it showed none (a new address) or the field is missing or malformed: no check."""
    key = form["address_id"] if form["fulfilment"] == Order.Fulfilment.DELIVERY else form["fulfilment"]
    for pair in form.get("shown_totals", "").split(","):
        name, _, total = pair.partition(":")
        if name == key and total.isdigit() and len(total) <= 10:
            return int(total)
    return None


@dataclass(frozen=True)
class AddressChoice:
    """A saved address as the checkout offers it: distance and fee from this store, or why not."""

    address: Address
    distance_m: int
    fee_fen: int | None  # None: outside the store's delivery area
    total_fen: int | None
    promise: DeliveryPromise | None = None  # when an order placed now would arrive


def _address_choices(request: HttpRequest, store: Store, menu: list[MenuCategory],
                     cart: list[CartItem], coupon_id: str | None = None) -> list[AddressChoice]:
    choices = []
    for address in address_list(user=request.user):  # type: ignore[arg-type]
        try:
            distance_m, fee = delivery_quote(store, address.lat, address.lng)
        except DomainError:
            distance_m, fee = round(_distance(store, address)), None
        total, promise = None, None
        if fee is not None:
            breakdown = _cart_view(store, menu, cart, delivery=True, distance_m=distance_m,
                                   consumer=request.user, coupon_id=coupon_id)["breakdown"]
            total = breakdown.total_fen if breakdown else None
            promise = delivery_promise(city_code=store.city_code, prep_minutes=store.prep_minutes,
                                       distance_m=distance_m)
        choices.append(AddressChoice(address, distance_m, fee, total, promise))
    return choices


def _distance(store: Store, address: Address) -> float:
    return haversine_m(store.lat, store.lng, address.lat, address.lng)


def _place(request: HttpRequest, store: Store, cart: list[CartItem], form: dict[str, str]) -> Order:
    address = None
    if form["fulfilment"] == Order.Fulfilment.DELIVERY:
        if form["address_id"] and form["address_id"] != "new":
            saved = address_get(user=request.user, address_id=form["address_id"])  # type: ignore[arg-type]
            text = f"{saved.text} {saved.detail}".strip()
            address = AddressInput(text=text, lat=saved.lat, lng=saved.lng,
                                   contact_name=saved.contact_name, contact_phone=saved.contact_phone)
        else:
            lat, lng = _parse_point(form["lat"], form["lng"])
            address = AddressInput(text=form["address_text"], lat=lat, lng=lng,
                                   contact_name=form["contact_name"],
                                   contact_phone=form["contact_phone"])
    elif form["fulfilment"] not in (Order.Fulfilment.PICKUP, Order.Fulfilment.DINE_IN):
        raise InvalidInput(fulfilment=form["fulfilment"])
    placed = order_place(
        consumer=request.user, store_id=store.public_id,  # type: ignore[arg-type]
        lines=[LineInput(product_id=i.product_id, quantity=i.quantity, variant=i.variant or None,
                         options=i.options) for i in sorted(cart, key=lambda i: i.key)],
        fulfilment=form["fulfilment"], address=address, note=form["note"][:200],
        extras=_extras(form),  # utensils and invoice (lifecycle)
        idempotency_key=form["idempotency_key"],
        expected_total_fen=_expected_total(form),  # pricing: the total the page showed
        # fulfilment modes: the scanned table (dine-in) and the chosen slot (scheduled)
        table_id=fulfilment_web.checkout_table_id(request, store)
        if form["fulfilment"] == Order.Fulfilment.DINE_IN else None,
        scheduled_for=fulfilment_web.checkout_scheduled_for(request, form["fulfilment"]),
        coupon_id=coupons_web.chosen_coupon(form["coupon_id"]),  # the picker's coupon, as the API takes it
        reroute_allowed=form["allow_reroute"] == "1" and form["fulfilment"] == Order.Fulfilment.DELIVERY,
    )
    return placed.order


def _pay_redirect(request: HttpRequest, order: Order) -> HttpResponse:
    """To the cashier (views_wallet.cashier): wallet, Alipay, WeChat Pay or the sandbox."""
    return redirect(f"/orders/{order.public_id}/pay")


@consumer_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, store_id: str) -> HttpResponse:
    """Delivery to a saved address (the default preselected), to a new one typed here, or
    pickup in store (到店自取). Each saved address shows its distance and delivery fee.
    Coupons: the best one (marketing's `coupon_best`) is preselected; choosing another
    re-prices the page before anything is placed, and the order takes the coupon the page
    priced (`order_place(coupon_id=...)`, refusals shown with the form kept)."""
    store = _store_or_404(store_id)
    cart = _cart(request, store.public_id)
    menu = store_menu(store=store)
    lat, lng = _point(request)
    cart_lines = [line for _, line in _cart_lines(menu, cart)[0]]
    error, coupon_notice = None, False
    if request.method == "GET":
        track_request("checkout_start", request, store=store)
    if request.method == "POST":
        form = _checkout_form(request)
        picker = coupons_web.coupon_picker(request, store, cart_lines,
                                           delivery=form["fulfilment"] == Order.Fulfilment.DELIVERY)
        coupon_id = coupons_web.chosen_coupon(form["coupon_id"])
        coupon_notice = bool(request.POST.get("apply_coupon")) or (
            bool(form["coupon_id"]) and coupon_id != coupons_web.chosen_coupon(form["shown_coupon"]))
        if not coupon_notice:  # another coupon than the page priced: show its price first
            try:
                order = _place(request, store, cart, form)
            except DomainError as exc:
                error = error_context(exc)
            else:
                _cart_save(request, store.public_id, [])
                request.session.pop("web_reorder", None)
                if order.fulfilment == Order.Fulfilment.DINE_IN:  # on the table's tab, paid at the end
                    return fulfilment_web.after_dine_in_order(order)
                return _pay_redirect(request, order)
        choices = _address_choices(request, store, menu, cart, coupon_id)
    else:
        asked = request.GET.get("fulfilment")  # scan-to-buy's "buy now" preselects pickup or delivery
        fulfilment = ("dine_in" if fulfilment_web.dine_in_for(request, store) else
                      asked if asked in ("pickup", "delivery") else "delivery")
        picker = coupons_web.coupon_picker(request, store, cart_lines, delivery=fulfilment == "delivery")
        coupon_id = picker["best"] or None
        choices = _address_choices(request, store, menu, cart, coupon_id)
        preselected = next((c for c in choices if c.address.is_default and c.fee_fen is not None),
                           next((c for c in choices if c.fee_fen is not None), None))
        form = {"fulfilment": fulfilment,
                "address_id": preselected.address.public_id if preselected else "new",
                "address_text": "", "lat": f"{lat:.6f}", "lng": f"{lng:.6f}",
                "contact_name": "", "contact_phone": request.user.phone or "",  # type: ignore[union-attr]
                "note": "", "idempotency_key": secrets.token_urlsafe(18),
                "utensils": "", "invoice_title": "", "invoice_tax_no": "", "invoice_email": "",
                "allow_reroute": "1",  # a chain's other stores may take it: on unless unticked
                **_reorder_prefill(request, store)}
    form["coupon_id"] = coupon_id or coupons_web.NO_COUPON
    if request.method == "POST" and not form["address_id"]:
        form["address_id"] = "new"  # a form without the address book (older page, API-like post)
    selected = next((c for c in choices if c.address.public_id == form["address_id"]), None)
    delivery = form["fulfilment"] != "pickup"
    fee = selected.fee_fen if selected and selected.fee_fen is not None else None
    tiers = store.delivery_fee_tiers or []
    pickup_view = _cart_view(store, menu, cart, delivery=False, consumer=request.user, coupon_id=coupon_id)
    cart_view = _cart_view(store, menu, cart, delivery=delivery, consumer=request.user, coupon_id=coupon_id,
                           distance_m=selected.distance_m if selected and fee is not None else None)
    coupon_error = error if error and str(error["code"]).startswith("coupon_") else None
    return render(request, "web/consumer/checkout.html", {
        "store": store, "form": form, "error": None if coupon_error else error, "choices": choices,
        "selected": selected, "cart_view": cart_view,
        "coupons": {**picker, "notice": coupon_notice,  # the picker (views_coupons)
                    "error": coupon_error or (cart_view if form["fulfilment"] == Order.Fulfilment.DELIVERY
                                              else pickup_view)["coupon_error"]},
        "pickup_view": pickup_view,
        "shown_totals": _shown_totals(choices, pickup_view["breakdown"].total_fen
                                      if pickup_view["breakdown"] else None),
        "tiers": tiers,
        "chain_store": Store.objects.filter(merchant_id=store.merchant_id, status=Store.Status.OPEN)
        .exclude(pk=store.pk).exists(),  # offer re-routing only where there is somewhere to go
        **fulfilment_web.checkout_fulfilment(  # dine-in table, scheduled slots
            request, store, delivery_distance_m=selected.distance_m if selected else
            round(haversine_m(store.lat, store.lng, lat, lng))),
        "scheduled": {"delivery": request.POST.get("scheduled_delivery", ""),
                      "pickup": request.POST.get("scheduled_pickup", "")},
        "utensil_counts": range(1, MAX_UTENSILS + 1),
        "error_field": str((error or {}).get("details", {}).get("field", "")),
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
    return render(request, template, _order_context(request, order, None))


def _order_context(request: HttpRequest, order: Any, error: dict[str, Any] | None) -> dict[str, Any]:
    """The order page's context: the order, the consumer's delivery code while a rider is
    on the way (to give at the door), the delivery's ETA and rider, and an error if an
    action failed."""
    return {"order": order, "error": error,
            "delivery_code": delivery_code_for_consumer(order=order, user=request.user),
            "live": _delivery_live(request, order),
            "cancel_deadline": cancel_request_deadline(order)}  # approved by itself then


def _delivery_live(request: HttpRequest, order: Any) -> dict[str, Any] | None:
    """The ETA of a delivery under way, the rider's name, and (only once the food is
    picked up, as `order_eta` rules) the rider's last position and distance to the door."""
    if order.fulfilment != "delivery":
        return None
    try:
        eta = order_eta(user=request.user, order_id=order.public_id)  # type: ignore[arg-type]
    except EtaUnavailable:
        return None
    position = eta.rider_position
    address = order.address or {}
    if position is not None:
        position = {**position, "at": datetime.fromisoformat(position["at"])}
        if address.get("lat") is not None and address.get("lng") is not None:
            position["distance_km"] = haversine_m(position["lat"], position["lng"],
                                                  address["lat"], address["lng"]) / 1000
    minutes = None if eta.seconds_left is None else max(0, math.ceil(eta.seconds_left / 60))
    return {"eta": eta.eta, "minutes_left": minutes, "rider_name": eta.rider_name,
            "status": eta.status, "position": position}


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
                      _order_context(request, _own_order(request, order_id), error_context(exc)),
                      status=exc.status)
    return redirect(f"/orders/{order.public_id}")


# --- re-order (再来一单) ------------------------------------------------------------------
# The old order's orderable lines become this store's cart (replacing it); what could not
# be carried over or costs something else today is shown once on the store page, as the
# API's `POST /orders/{id}/reorder` reports it. The note and utensils prefill the checkout.

@consumer_required
@require_POST
def order_reorder_view(request: HttpRequest, order_id: str) -> HttpResponse:
    order = _own_order(request, order_id)
    cart = order_reorder(consumer=request.user, order_id=order.public_id)  # type: ignore[arg-type]
    items: list[CartItem] = []
    for line in cart.lines:
        if not line.orderable:
            continue
        key = _line_key(line.product_id, line.variant or "", line.options)
        quantity = min(line.quantity, CART_MAX_QUANTITY)
        items.append(CartItem(key, line.product_id, line.variant or "", tuple(sorted(line.options)),
                              quantity))
    store_id = cart.store.public_id
    _cart_save(request, store_id, items)
    request.session["web_reorder"] = {
        "store": store_id, "order": order.public_id, "store_open": cart.store_open,
        "note": cart.note, "utensils": cart.utensils,
        "lines": [{"name": line.name, "choices": line.choices_label, "quantity": line.quantity,
                   "status": line.status, "was_fen": line.was_unit_price_fen,
                   "now_fen": line.unit_price_fen} for line in cart.lines if line.status != "ok"],
        "added": len(items)}
    return redirect(f"/stores/{store_id}#cart")


def _reorder_notice(request: HttpRequest, store: Store) -> dict[str, Any] | None:
    """The re-order report for this store's page, shown once."""
    notice = request.session.get("web_reorder")
    if not notice or notice.get("store") != store.public_id or notice.get("shown"):
        return None
    request.session["web_reorder"] = {**notice, "shown": True}
    return notice


def _reorder_prefill(request: HttpRequest, store: Store) -> dict[str, str]:
    """The re-ordered order's note and utensils, for the checkout of the same store."""
    notice = request.session.get("web_reorder")
    if not notice or notice.get("store") != store.public_id:
        return {}
    utensils = notice.get("utensils")
    return {"note": notice.get("note") or "", "utensils": "" if utensils is None else str(utensils)}


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
