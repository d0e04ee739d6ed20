"""A chain's shared product identity (`ChainSku`) and the routing service: which store of
the chain should take a delivery cart (the choice itself: `inventory.routing`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict, InvalidInput, NotFound
from linli.merchants import roles
from linli.merchants.models import Merchant, Store
from linli.merchants.selectors import StoreNotFound, store_is_open

from .access import product_for_member
from .models import ChainSku
from .routing import UNLIMITED, Route, StoreOption, route

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MAX_ITEMS = 100


class MerchantNotFound(NotFound):
    code = "merchant_not_found"
    message = _("The merchant does not exist.")


class InvalidSku(InvalidInput):
    code = "invalid_sku"
    message = _("A SKU is 1 to 40 letters, digits, dots, dashes or underscores.")


class SkuTaken(Conflict):
    code = "sku_taken"
    message = _("Another product of this store already has this SKU.")


class ProductHasNoSku(InvalidInput):
    code = "product_has_no_sku"
    message = _("This product has no chain SKU, so no other store can stand in for it.")


class UnknownSku(InvalidInput):
    code = "unknown_sku"
    message = _("No store of this chain sells this item.")


class InvalidCart(InvalidInput):
    code = "invalid_cart"
    message = _("A cart has 1 to 100 items, each a SKU or a product id and a quantity from 1 to 999.")


@dataclass(frozen=True)
class CartItem:
    quantity: int
    sku: str | None = None
    product_id: str | None = None


def chain_sku_set(*, actor: User, product_id: str, sku: str | None) -> ChainSku | None:
    """Give a product its chain SKU (owner or manager), or take it away (None)."""
    product = product_for_member(actor=actor, product_id=product_id, permission=roles.MENU_EDIT)
    if sku is None or sku == "":
        ChainSku.objects.filter(product=product).delete()
        return None
    if not isinstance(sku, str) or not SKU_RE.match(sku):
        raise InvalidSku(field="sku", value=sku)
    try:
        with transaction.atomic():
            row, _created = ChainSku.objects.update_or_create(
                product=product, defaults={"merchant_id": product.store.merchant_id, "store_id": product.store_id,
                                           "sku": sku})
    except IntegrityError:
        raise SkuTaken(sku=sku) from None
    return row


def _cart(merchant: Merchant, items: list[CartItem]) -> dict[str, int]:
    if not 1 <= len(items) <= MAX_ITEMS or any(
            isinstance(i.quantity, bool) or not 1 <= i.quantity <= 999 or (i.sku is None) == (i.product_id is None)
            for i in items):
        raise InvalidCart(field="items")
    by_product = {product_id: sku for product_id, sku in ChainSku.objects.filter(
        merchant=merchant, product__public_id__in=[i.product_id for i in items if i.product_id])
        .values_list("product__public_id", "sku")}
    cart: dict[str, int] = {}
    for item in items:
        sku = item.sku if item.sku is not None else by_product.get(item.product_id or "")
        if sku is None:
            raise ProductHasNoSku(product_id=item.product_id)
        cart[sku] = cart.get(sku, 0) + item.quantity
    known = set(ChainSku.objects.filter(merchant=merchant, sku__in=list(cart)).values_list("sku", flat=True))
    for sku in cart:
        if sku not in known:
            raise UnknownSku(sku=sku)
    return cart


def _options(merchant: Merchant, cart: dict[str, int], at: datetime | None
             ) -> tuple[list[StoreOption], dict[str, Store], dict[tuple[str, str], str]]:
    """The chain's stores as routing sees them (three queries): stock of the cart's SKUs
    (listed, not sold out), open now, delivery area."""
    stores = {s.public_id: s for s in Store.objects.filter(merchant=merchant).exclude(status=Store.Status.CLOSED)}
    stock: dict[str, dict[str, int]] = {sid: {} for sid in stores}
    products: dict[tuple[str, str], str] = {}
    rows = (ChainSku.objects.filter(merchant=merchant, sku__in=list(cart), store__public_id__in=list(stores),
                                    product__is_available=True, product__is_sold_out=False)
            .values_list("store__public_id", "sku", "product__public_id", "product__stock__quantity",
                         "product__stock__unlimited"))
    for store_id, sku, product_id, quantity, unlimited in rows:
        stock[store_id][sku] = UNLIMITED if unlimited else max(quantity or 0, 0)
        products[(store_id, sku)] = product_id
    options = []
    for sid, store in stores.items():
        tiers = store.delivery_fee_tiers or []
        options.append(StoreOption(
            store_id=sid, lat=store.lat, lng=store.lng, is_open=store_is_open(store=store, at=at),
            stock=stock[sid], delivery_radius_m=store.delivery_radius_m, delivery_zone=store.delivery_zone,
            max_distance_m=int(tiers[-1]["max_m"]) if tiers else None))
    return options, stores, products


def chain_route(*, merchant_id: str, items: list[CartItem], lat: float, lng: float, allow_split: bool = False,
                exclude: list[str] | None = None, rejected_store_id: str | None = None,
                at: datetime | None = None) -> dict[str, Any]:
    """Which store(s) of the chain should take this delivery cart, and why. With
    `rejected_store_id` (reroute): that store, and those in `exclude`, are passed over."""
    merchant = (Merchant.objects.filter(public_id=merchant_id, status=Merchant.Status.ACTIVE).first()
                if "\x00" not in merchant_id else None)
    if merchant is None:
        raise MerchantNotFound(merchant_id=merchant_id)
    cart = _cart(merchant, items)
    options, stores, products = _options(merchant, cart, at)
    skip = set(exclude or [])
    if rejected_store_id is not None:
        if rejected_store_id not in stores:
            raise StoreNotFound(store_id=rejected_store_id)
        skip.add(rejected_store_id)
    decision = route(cart, lat=lat, lng=lng, stores=options, allow_split=allow_split, exclude=skip)
    return route_out(decision, stores, products)


def route_out(decision: Route, stores: dict[str, Store], products: dict[tuple[str, str], str]) -> dict[str, Any]:
    return {
        "kind": decision.kind,
        "why": str(decision.why) if decision.why else None,
        "stores": [{"store_id": leg.store_id, "name": stores[leg.store_id].name, "distance_m": leg.distance_m,
                    "items": [{"sku": sku, "product_id": products[(leg.store_id, sku)], "quantity": q}
                              for sku, q in sorted(leg.items.items())]}
                   for leg in decision.legs],
        "others": [{"store_id": sid, "name": stores[sid].name, "reason": str(reason),
                    "missing": decision.missing.get(sid, [])}
                   for sid, reason in sorted(decision.reasons.items())],
    }
