"""Merchant console, menu and stock (`/m/menu`): products by category with price, stock
and the one-tap sold-out switch; price, stock and listing edits; new products and
categories. Every write is one `merchants.catalog` service (the API's), so the page
shows the API's errors, and the role table in `merchants.roles` is checked there."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError
from linli.merchants import catalog
from linli.merchants.catalog_rules import (
    MAX_PACKAGING_FEE_FEN,
    ProductSpec,
    StockSpec,
    fen_to_yuan,
    yuan_to_fen,
)
from linli.merchants.models import Product
from linli.merchants.selectors import StoreNotFound

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame, field_errors

BASE = "web/merchant/base.html"
PRODUCT_FIELDS = {"name": "name", "price_fen": "price", "stock": "stock",
                  "menu_category": "category", "packaging_fee_fen": "packaging_fee"}
PRODUCT_CODES = {"product_name_taken": "name", "category_not_in_store": "category",
                 "invalid_name": "name", "invalid_price": "price", "invalid_stock": "stock"}
CATEGORY_CODES = {"invalid_name": "category_name", "category_name_taken": "category_name"}


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


# --- form values -----------------------------------------------------------------------------

def _price_fen(text: str) -> int:
    """Yuan as typed ("12.5") in fen; anything else is the service's own price error."""
    try:
        return yuan_to_fen(text)
    except ValueError:
        raise catalog.InvalidPrice(field="price_fen", value=text) from None


def _packaging_fen(text: str | None) -> int | None:
    """The per-unit packaging fee typed in yuan, exactly in fen; blank = none (0). A form
    without the field (an older page) leaves the product's fee as it is (None)."""
    if text is None:
        return None
    if not text.strip():
        return 0
    try:
        return yuan_to_fen(text)
    except ValueError:
        raise catalog.InvalidPrice(field="packaging_fee_fen", value=text) from None


def _product_errors(exc: DomainError) -> dict[str, str]:
    """The error next to its field; the packaging fee's worded with its range."""
    errors = field_errors(exc, PRODUCT_FIELDS, PRODUCT_CODES)
    if "packaging_fee" in errors:
        errors["packaging_fee"] = _("Enter a packaging fee per unit from ¥0.00 to ¥%(max)s, "
                                    "at most two decimals.") % {"max": fen_to_yuan(MAX_PACKAGING_FEE_FEN)}
    return errors


def _stock_spec(quantity: str, unlimited: bool) -> StockSpec:
    if unlimited:
        return StockSpec(unlimited=True)
    text = quantity.strip()
    if not (text.isascii() and text.isdigit()):
        raise catalog.InvalidStock(field="stock", reason="not_a_number", value=text)
    return StockSpec(quantity=int(text))


# --- the page ----------------------------------------------------------------------------------

def _row(product: Product) -> Product:
    """The product with what its row shows: price in yuan, stock or "unlimited"."""
    quantity, unlimited = catalog.stock_now_of(product) or (0, False)
    product.stock_quantity = quantity  # type: ignore[attr-defined]
    product.stock_unlimited = unlimited  # type: ignore[attr-defined]
    product.is_service = product.kind == Product.Kind.SERVICE  # type: ignore[attr-defined]
    product.price_yuan = fen_to_yuan(product.price_fen)  # type: ignore[attr-defined]
    product.packaging_yuan = fen_to_yuan(product.packaging_fee_fen)  # type: ignore[attr-defined]
    return product


def _menu_context(request: HttpRequest, *, error: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                  edit: dict[str, Any] | None = None) -> dict[str, Any]:
    frame = console_frame(request, "menu")
    store_id = frame["store"].public_id
    products = [_row(p) for p in catalog.product_list_for_merchant(actor=request.user,  # type: ignore[arg-type]
                                                                   store_id=store_id)]
    categories = catalog.menu_category_list_for_merchant(actor=request.user,  # type: ignore[arg-type]
                                                         store_id=store_id)
    sections = [{"id": catalog.category_public_id(c), "name": c.name,
                 "products": [p for p in products if p.menu_category_id == c.pk]}
                for c in categories]
    loose = [p for p in products if p.menu_category_id is None]
    if loose:
        sections.append({"id": "", "name": _("Without a category"), "products": loose})
    return {**frame, "sections": sections, "categories": [
        {"id": s["id"], "name": s["name"]} for s in sections if s["id"]],
        "error": error, "errors": errors or {}, "form": form or {}, "edit": edit or {}}


def _menu_error(request: HttpRequest, exc: DomainError, **context: Any) -> HttpResponse:
    error = error_context(exc)
    return render(request, "web/merchant/menu.html", _menu_context(request, error=error, **context),
                  status=status_of(error))


@merchant_required
@require_GET
def menu_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _menu_context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    return render(request, "web/merchant/menu.html", context)


# --- writes --------------------------------------------------------------------------------

@merchant_required
@require_POST
def product_sold_out(request: HttpRequest, product_id: str) -> HttpResponse:
    """The one-tap switch. From the page's script (X-Requested-With: fetch) it answers the
    product's row to swap in; without script, a redirect back to the menu."""
    sold_out = request.POST.get("sold_out") == "1"
    try:
        product = catalog.product_sold_out_set(actor=request.user, product_id=product_id,  # type: ignore[arg-type]
                                               sold_out=sold_out)
    except DomainError as exc:
        if _is_fetch(request):
            return render(request, "web/_errors.html", {"error": error_context(exc)},
                          status=exc.status)
        return _menu_error(request, exc)
    if _is_fetch(request):
        frame = console_frame(request, "menu")
        return render(request, "web/merchant/_product.html", {**frame, "p": _row(product)})
    return redirect(f"/m/menu#{product.public_id}")


@merchant_required
@require_POST
def product_edit(request: HttpRequest, product_id: str) -> HttpResponse:
    """Price, listing and stock of one product in one go: nothing is saved unless all of it
    is valid. The price goes through `product_update`, the stock through `product_stock_set`
    (the inventory ledger); both check the role, so a cashier gets 403 whatever changed."""
    form = {key: request.POST.get(key, "").strip() for key in ("price", "stock", "packaging_fee")}
    unlimited = request.POST.get("unlimited") == "1"
    listed = request.POST.get("listed") == "1"
    try:
        with transaction.atomic():
            changes = {"price_fen": _price_fen(form["price"]),
                       "packaging_fee_fen": _packaging_fen(request.POST.get("packaging_fee"))}
            product = catalog.product_update(
                actor=request.user, product_id=product_id,  # type: ignore[arg-type]
                changes=changes, is_available=listed)
            if product.kind != Product.Kind.SERVICE:
                catalog.product_stock_set(actor=request.user, product_id=product_id,  # type: ignore[arg-type]
                                          stock=_stock_spec(form["stock"], unlimited))
    except DomainError as exc:
        edit = {"id": product_id, "errors": _product_errors(exc), "price": form["price"],
                "stock": form["stock"], "unlimited": unlimited, "packaging_fee": form["packaging_fee"]}
        return _menu_error(request, exc, edit=edit)
    messages.success(request, _("Saved: %(name)s") % {"name": product.name})
    return redirect(f"/m/menu#{product_id}")


@merchant_required
@require_POST
def product_add(request: HttpRequest) -> HttpResponse:
    form = {key: request.POST.get(key, "").strip()
            for key in ("name", "category", "price", "stock", "packaging_fee")}
    try:
        frame = console_frame(request, "menu")
        stock = _stock_spec(form["stock"], False) if form["stock"] else None
        product = catalog.product_create(
            actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
            category_id=form["category"],
            spec=ProductSpec(name=form["name"], price_fen=_price_fen(form["price"]), stock=stock,
                             packaging_fee_fen=_packaging_fen(form["packaging_fee"])))
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    except DomainError as exc:
        return _menu_error(request, exc, form=form, errors=_product_errors(exc))
    messages.success(request, _("Added: %(name)s") % {"name": product.name})
    return redirect(f"/m/menu#{product.public_id}")


@merchant_required
@require_POST
def category_add(request: HttpRequest) -> HttpResponse:
    form = {"category_name": request.POST.get("category_name", "").strip()}
    try:
        frame = console_frame(request, "menu")
        catalog.menu_category_create(actor=request.user,  # type: ignore[arg-type]
                                     store_id=frame["store"].public_id, name=form["category_name"])
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    except DomainError as exc:
        return _menu_error(request, exc, form=form,
                           errors=field_errors(exc, {"name": "category_name"}, CATEGORY_CODES))
    messages.success(request, _("Added: %(name)s") % {"name": form["category_name"]})
    return redirect("/m/menu")
