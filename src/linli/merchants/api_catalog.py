"""Catalog endpoints: the public menu of a store, and the merchant console's menu
management (categories, products, sold-out, stock, images, CSV/XLSX import and export).
Handlers parse, call one function of `catalog` / `catalog_io`, and shape the answer."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from linli.core.auth import jwt_auth
from linli.core.dbrouter import reads_from_replica

from . import catalog, catalog_io
from .catalog_rules import OptionGroupSpec, OptionSpec, ProductSpec, StockSpec, VariantSpec
from .menu_cache import image_url, option_groups_out, public_menu_json
from .models import MenuCategory, Product

router = Router(tags=["stores"])
console = Router(tags=["merchant catalog"], auth=jwt_auth)


# --- public menu ------------------------------------------------------------------------

class VariantOut(Schema):
    id: str
    name: str
    price_fen: int = Field(description="absolute price of this variant")


class OptionOut(Schema):
    id: str
    name: str
    price_delta_fen: int


class OptionGroupOut(Schema):
    id: str
    name: str
    min_choices: int
    max_choices: int
    options: list[OptionOut]


class ProductOut(Schema):
    id: str
    name: str
    description: str
    price_fen: int
    stock: int = Field(description="units left; 0 when `unlimited`")
    kind: str
    tags: list[str]
    image: str | None
    sold_out: bool
    unlimited: bool
    available_now: bool = Field(description="within the product's daily windows (store-local)")
    availability: list[list[str]]
    duration_minutes: int | None
    variants: list[VariantOut]
    option_groups: list[OptionGroupOut]


class MenuSection(Schema):
    id: str
    name: str
    products: list[ProductOut]


class MenuOut(Schema):
    store_id: str
    sections: list[MenuSection]


@router.get("/stores/{store_id}/menu", response=MenuOut, summary="The store's menu with stock")
@reads_from_replica  # a moment old is fine: placement checks stock on the primary
def menu(request: HttpRequest, store_id: str) -> HttpResponse:
    # The menu's shape is cached per store and its stock read per request; answered as JSON
    # directly (like nearby), a test holds the answer to MenuOut (merchants/menu_cache.py).
    return HttpResponse(public_menu_json(store_id), content_type="application/json")


# --- merchant console: categories -------------------------------------------------------

class CategoryIn(Schema):
    name: str = Field(max_length=200)


class CategoryOrderIn(Schema):
    ids: list[str] = Field(max_length=500, description="every category id of the store, in order")


class CategoryOut(Schema):
    id: str
    name: str
    sort: int
    product_count: int = Field(description="listed products")


def _category_out(category: MenuCategory) -> dict[str, Any]:
    return {"id": catalog.category_public_id(category), "name": category.name,
            "sort": category.sort, "product_count": getattr(category, "product_count", 0)}


@console.get("/merchant/stores/{store_id}/menu-categories", response=list[CategoryOut],
             summary="Menu categories in menu order (any member)")
def category_list(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    return [_category_out(c) for c in catalog.menu_category_list_for_merchant(
        actor=request.auth, store_id=store_id)]  # type: ignore[arg-type]


@console.post("/merchant/stores/{store_id}/menu-categories", response={201: CategoryOut},
              summary="Add a category at the end of the menu (owner or manager)")
def category_create(request: HttpRequest, store_id: str, payload: CategoryIn) -> Status[dict[str, Any]]:
    category = catalog.menu_category_create(actor=request.auth, store_id=store_id,  # type: ignore[arg-type]
                                            name=payload.name)
    return Status(201, _category_out(category))


@console.post("/merchant/stores/{store_id}/menu-categories/reorder", response=list[CategoryOut],
              summary="Set the order of all the store's categories (owner or manager)")
def category_reorder(request: HttpRequest, store_id: str, payload: CategoryOrderIn) -> list[dict[str, Any]]:
    return [_category_out(c) for c in catalog.menu_category_reorder(
        actor=request.auth, store_id=store_id, ids=payload.ids)]  # type: ignore[arg-type]


@console.patch("/merchant/menu-categories/{category_id}", response=CategoryOut,
               summary="Rename a category (owner or manager)")
def category_update(request: HttpRequest, category_id: str, payload: CategoryIn) -> dict[str, Any]:
    return _category_out(catalog.menu_category_update(
        actor=request.auth, category_id=category_id, name=payload.name))  # type: ignore[arg-type]


@console.delete("/merchant/menu-categories/{category_id}", response={204: None},
                summary="Delete an empty category (owner or manager)")
def category_delete(request: HttpRequest, category_id: str) -> Status[None]:
    catalog.menu_category_delete(actor=request.auth, category_id=category_id)  # type: ignore[arg-type]
    return Status(204, None)


# --- merchant console: products ---------------------------------------------------------

class VariantIn(Schema):
    name: str = Field(max_length=200)
    price_delta_fen: int = 0


class OptionIn(Schema):
    name: str = Field(max_length=200)
    price_delta_fen: int = Field(0, description=">= 0: an option never lowers the price")


class OptionGroupIn(Schema):
    name: str = Field(max_length=200)
    min_choices: int = Field(0, description="0 = optional")
    max_choices: int = 1
    options: list[OptionIn] = Field(default_factory=list, max_length=100)


class StockIn(Schema):
    quantity: int | None = Field(None, description="units on hand, >= 0")
    unlimited: bool = Field(False, description="made to order: never runs out")


class ProductFields(Schema):
    description: str = Field("", max_length=2000)
    kind: Literal["goods", "service"] = "goods"
    tags: list[str] = Field(default_factory=list, max_length=50, description="<= 5, each <= 8 chars")
    availability: list[list[str]] = Field(default_factory=list, max_length=50,
                                          description='daily windows, e.g. [["06:00", "10:30"]]')
    duration_minutes: int | None = Field(None, description="services: 5 to 600")
    variants: list[VariantIn] = Field(default_factory=list, max_length=100)
    option_groups: list[OptionGroupIn] = Field(default_factory=list, max_length=100)
    stock: StockIn | None = Field(None, description="goods only; new goods start at 0")
    sold_out: bool = False


class ProductIn(ProductFields):
    menu_category: str = Field(max_length=40)
    name: str = Field(max_length=200)
    price_fen: int


class ProductPatch(ProductFields):
    """Only the fields sent change; variants or option groups sent replace all of them."""

    menu_category: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=200)
    price_fen: int | None = None
    is_available: bool | None = Field(None, description="false unlists, like DELETE")


class SoldOutIn(Schema):
    sold_out: bool


class VariantConsoleOut(VariantOut):
    price_delta_fen: int


class StockOut(Schema):
    quantity: int
    unlimited: bool


class ConsoleProductOut(Schema):
    id: str
    menu_category: str | None
    name: str
    description: str
    kind: str
    price_fen: int
    tags: list[str]
    availability: list[list[str]]
    duration_minutes: int | None
    image: str | None
    is_available: bool
    sold_out: bool
    stock: StockOut | None = Field(description="null for services")
    variants: list[VariantConsoleOut]
    option_groups: list[OptionGroupOut]
    sort: int
    updated_at: str


def _console_product(p: Product) -> dict[str, Any]:
    quantity, unlimited = catalog.stock_now_of(p) or (0, False)
    return {
        "id": p.public_id,
        "menu_category": catalog.category_public_id(p.menu_category) if p.menu_category else None,
        "name": p.name, "description": p.description, "kind": p.kind, "price_fen": p.price_fen,
        "tags": p.tags, "availability": p.availability, "duration_minutes": p.duration_minutes,
        "image": image_url(p), "is_available": p.is_available, "sold_out": p.is_sold_out,
        "stock": None if p.kind == Product.Kind.SERVICE else {"quantity": quantity,
                                                              "unlimited": unlimited},
        "variants": [{"id": v.public_id, "name": v.name, "price_delta_fen": v.price_delta_fen,
                      "price_fen": p.price_fen + v.price_delta_fen} for v in p.variants.all()],
        "option_groups": option_groups_out(p), "sort": p.sort,
        "updated_at": p.updated_at.isoformat(),
    }


def _spec_values(data: dict[str, Any]) -> dict[str, Any]:
    """Request fields as `ProductSpec` values (tuples of specs instead of lists of dicts)."""
    values = {k: v for k, v in data.items() if k not in {"menu_category", "is_available"}}
    if "tags" in values:
        values["tags"] = tuple(values["tags"])
    if "availability" in values:
        values["availability"] = tuple(tuple(w) for w in values["availability"])
    if "variants" in values:
        values["variants"] = tuple(VariantSpec(v["name"], v["price_delta_fen"])
                                   for v in values["variants"])
    if "option_groups" in values:
        values["option_groups"] = tuple(
            OptionGroupSpec(g["name"], g["min_choices"], g["max_choices"],
                            tuple(OptionSpec(o["name"], o["price_delta_fen"]) for o in g["options"]))
            for g in values["option_groups"])
    if values.get("stock") is not None:
        values["stock"] = StockSpec(**values["stock"])
    return values


@console.get("/merchant/stores/{store_id}/products", response=list[ConsoleProductOut],
             summary="Every product of the store, unlisted ones included (any member)")
def product_list(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    return [_console_product(p) for p in catalog.product_list_for_merchant(
        actor=request.auth, store_id=store_id)]  # type: ignore[arg-type]


@console.post("/merchant/stores/{store_id}/products", response={201: ConsoleProductOut},
              summary="Add a product or service with its variants, option groups and stock (owner or manager)")
def product_create(request: HttpRequest, store_id: str, payload: ProductIn) -> Status[dict[str, Any]]:
    data = payload.model_dump()
    product = catalog.product_create(
        actor=request.auth, store_id=store_id, category_id=payload.menu_category,  # type: ignore[arg-type]
        spec=ProductSpec(**_spec_values(data)))
    return Status(201, _console_product(product))


@console.patch("/merchant/products/{product_id}", response=ConsoleProductOut,
               summary="Change some fields of a product (owner or manager)")
def product_update(request: HttpRequest, product_id: str, payload: ProductPatch) -> dict[str, Any]:
    full = payload.model_dump()  # nested defaults filled in; only top-level keys sent count
    data = {key: full[key] for key in payload.model_fields_set}
    nullable = {"duration_minutes"}
    changes = _spec_values({k: v for k, v in data.items() if v is not None or k in nullable})
    product = catalog.product_update(
        actor=request.auth, product_id=product_id, changes=changes,  # type: ignore[arg-type]
        category_id=data.get("menu_category"), is_available=data.get("is_available"))
    return _console_product(product)


@console.delete("/merchant/products/{product_id}", response={204: None},
                summary="Unlist a product (owner or manager); past orders keep pointing at it")
def product_delete(request: HttpRequest, product_id: str) -> Status[None]:
    catalog.product_delete(actor=request.auth, product_id=product_id)  # type: ignore[arg-type]
    return Status(204, None)


@console.post("/merchant/products/{product_id}/sold-out", response=ConsoleProductOut,
              summary="Mark sold out or back on sale (any member)")
def product_sold_out(request: HttpRequest, product_id: str, payload: SoldOutIn) -> dict[str, Any]:
    return _console_product(catalog.product_sold_out_set(
        actor=request.auth, product_id=product_id, sold_out=payload.sold_out))  # type: ignore[arg-type]


@console.put("/merchant/products/{product_id}/stock", response=ConsoleProductOut,
             summary="Set the stock: {quantity} or {unlimited: true} (owner or manager)")
def product_stock(request: HttpRequest, product_id: str, payload: StockIn) -> dict[str, Any]:
    return _console_product(catalog.product_stock_set(
        actor=request.auth, product_id=product_id,  # type: ignore[arg-type]
        stock=StockSpec(quantity=payload.quantity, unlimited=payload.unlimited)))


@console.post("/merchant/products/{product_id}/image", response=ConsoleProductOut,
              summary="Upload the product's picture: JPEG, PNG or WebP up to 5 MB (owner or manager)")
def product_image(request: HttpRequest, product_id: str,
                  file: UploadedFile = File(...)) -> dict[str, Any]:  # noqa: B008
    return _console_product(catalog.product_image_set(
        actor=request.auth, product_id=product_id, upload=file))  # type: ignore[arg-type]


# --- merchant console: import and export ------------------------------------------------

class ExportQuery(Schema):
    format: Literal["csv", "xlsx"] = "csv"


class ImportQuery(Schema):
    mode: Literal["merge", "replace"] = Field(
        "merge", description="merge: add and update by (category, name); "
        "replace: also unlist products and drop categories missing from the file")


class ImportOut(Schema):
    mode: str
    created: int
    updated: int
    unchanged: int
    removed: int = Field(description="products unlisted (replace mode)")
    categories_created: int


@console.get("/merchant/stores/{store_id}/menu/export",
             summary="Download the menu as CSV or XLSX, one row per product (any member)")
def menu_export(request: HttpRequest, store_id: str, q: Query[ExportQuery]) -> HttpResponse:
    exported = catalog_io.menu_export(actor=request.auth, store_id=store_id,  # type: ignore[arg-type]
                                      file_format=q.format)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response


@console.post("/merchant/stores/{store_id}/menu/import", response=ImportOut,
              summary="Upload a CSV or XLSX menu; all rows are checked before anything is saved (owner or manager)")
def menu_import(request: HttpRequest, store_id: str, q: Query[ImportQuery],
                file: UploadedFile = File(...)) -> dict[str, Any]:  # noqa: B008
    result = catalog_io.menu_import(actor=request.auth, store_id=store_id,  # type: ignore[arg-type]
                                    upload=file, mode=q.mode)
    return {"mode": q.mode, **result.counts()}


router.add_router("", console)
