"""The merchant console's catalog: menu categories, products with their variants (规格)
and option groups (加料), sold-out, stock and product images.

Every function first finds the actor's role on the store's merchant and checks it
against the table in `roles`. Someone outside the merchant gets 404, as if the store
or product did not exist; every member may read the menu and toggle sold-out; owners
and managers set stock and change the menu's structure (a cashier gets 403). Structural writes
lock the store row first, so two edits of one menu (or an import) run one after the
other and name checks cannot race. Product rules live in `catalog_rules` (pure).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

from . import catalog_rules as rules
from . import roles
from .catalog_rules import ProductSpec, StockSpec
from .menu_cache import menu_changed
from .models import (
    MenuCategory,
    Option,
    OptionGroup,
    Product,
    ProductVariant,
    Store,
)
from .selectors import StoreNotFound, merchant_role_for_store, role_require


class MenuCategoryNotFound(NotFound):
    code = "category_not_found"
    message = _("The menu category does not exist.")


class CatalogProductNotFound(NotFound):
    code = "product_not_found"
    message = _("The product does not exist.")


class CategoryNotEmpty(Conflict):
    code = "category_not_empty"
    message = _("The menu category still lists products; move or delete them first.")


class CategoryNameTaken(Conflict):
    code = "category_name_taken"
    message = _("The store already has a menu category with this name.")


class ProductNameTaken(Conflict):
    code = "product_name_taken"
    message = _("This menu category already lists a product with this name.")


class CategoryNotInStore(InvalidInput):
    code = "category_not_in_store"
    message = _("The menu category does not belong to this store.")


class InvalidCategoryOrder(InvalidInput):
    code = "invalid_category_order"
    message = _("List every menu category of the store exactly once.")


class InvalidName(InvalidInput):
    code = "invalid_name"
    message = _("The name is empty or too long.")


class InvalidDescription(InvalidInput):
    code = "invalid_description"
    message = _("The description is longer than 500 characters.")


class InvalidKind(InvalidInput):
    code = "invalid_kind"
    message = _("The kind must be goods or service.")


class InvalidPrice(InvalidInput):
    code = "invalid_price"
    message = _("The price must be zero or more, in fen (or yuan with at most two decimals).")


class InvalidDuration(InvalidInput):
    code = "invalid_duration"
    message = _("A service needs a duration of 5 to 600 minutes; goods have none.")


class InvalidTags(InvalidInput):
    code = "invalid_tags"
    message = _("Use at most 5 different tags of 1 to 8 characters each.")


class InvalidAvailability(InvalidInput):
    code = "invalid_availability"
    message = _("Each availability window is HH:MM to HH:MM, starts before it ends, "
                "and does not overlap another.")


class InvalidVariant(InvalidInput):
    code = "invalid_variant"
    message = _("Variant names must be different, and no variant may cost less than zero.")


class InvalidOptionGroup(InvalidInput):
    code = "invalid_option_group"
    message = _("An option group needs 0 <= min <= max <= its number of options and max >= 1; "
                "options cannot lower the price.")


class InvalidStock(InvalidInput):
    code = "invalid_stock"
    message = _("Stock is a quantity of 0 or more, or unlimited; services have no stock.")


RULE_ERRORS: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (InvalidName, InvalidDescription, InvalidKind, InvalidPrice, InvalidDuration,
                InvalidTags, InvalidAvailability, InvalidVariant, InvalidOptionGroup, InvalidStock)
}


def violation_error(violation: rules.RuleViolation) -> DomainError:
    """The API error for a broken catalog rule."""
    return RULE_ERRORS[violation.code](field=violation.field, **violation.details)


# --- ids, roles and locks ---------------------------------------------------------------

def category_public_id(category: MenuCategory) -> str:
    return category.public_id


def _role_or(not_found: DomainError, *, actor: User, store: Store, permission: str) -> str:
    try:
        role = merchant_role_for_store(user=actor, store=store)
    except PermissionDenied:
        raise not_found from None  # another merchant's store: do not reveal it exists
    role_require(role=role, permission=permission)
    return role


def _permission(owner_only: bool | None, permission: str | None) -> str:
    """`owner_only` is the older spelling (catalog_io): True = change the menu, False = read it."""
    if permission is not None:
        return permission
    return roles.MENU_EDIT if owner_only else roles.MENU_VIEW


def store_for_member(*, actor: User, store_id: str, owner_only: bool | None = None,
                     permission: str | None = None, lock: bool = False) -> Store:
    """The store if the actor works for its merchant with a role that has `permission`."""
    store = Store.objects.filter(public_id=store_id).first()
    if store is None:
        raise StoreNotFound(store_id=store_id)
    _role_or(StoreNotFound(store_id=store_id), actor=actor, store=store,
             permission=_permission(owner_only, permission))
    if lock:
        store = Store.objects.select_for_update().get(pk=store.pk)
    return store


def _product_as(*, actor: User, product_id: str, permission: str,
                lock_store: bool = False) -> Product:
    product = Product.objects.select_related("store", "menu_category").filter(
        public_id=product_id).first()
    if product is None:
        raise CatalogProductNotFound(product_id=product_id)
    _role_or(CatalogProductNotFound(product_id=product_id), actor=actor, store=product.store,
             permission=permission)
    if lock_store:
        Store.objects.select_for_update().filter(pk=product.store_id).values_list("pk").get()
    # of=self: PostgreSQL cannot lock the nullable side of the category's outer join
    return Product.objects.select_for_update(of=("self",)).select_related(
        "store", "menu_category").get(pk=product.pk)


def _category_as(*, actor: User, category_id: str, lock_store: bool = True) -> MenuCategory:
    category = MenuCategory.objects.select_related("store").filter(public_id=category_id).first()
    if category is None:
        raise MenuCategoryNotFound(category_id=category_id)
    _role_or(MenuCategoryNotFound(category_id=category_id), actor=actor, store=category.store,
             permission=roles.MENU_EDIT)
    if lock_store:
        Store.objects.select_for_update().filter(pk=category.store_id).values_list("pk").get()
    return category


def category_of_store(*, store: Store, category_id: str) -> MenuCategory:
    """The store's own category by public id; any other id is `category_not_in_store`."""
    category = MenuCategory.objects.filter(public_id=category_id, store=store).first()
    if category is None:
        raise CategoryNotInStore(category_id=category_id)
    return category


# --- reads for the console ------------------------------------------------------------

def products_with_parts(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Products with stock, category, variants and option groups with options: 4 queries."""
    return queryset.select_related("stock", "menu_category").prefetch_related(
        "variants",
        Prefetch("option_groups", queryset=OptionGroup.objects.prefetch_related("options")),
    )


def _counted(categories: QuerySet[MenuCategory]) -> QuerySet[MenuCategory]:
    """Categories in menu order, each with `product_count` (listed products)."""
    return categories.annotate(
        product_count=Count("products", filter=Q(products__is_available=True))
    ).order_by("sort", "id")  # Meta.ordering does not apply to grouped queries


def menu_category_list_for_merchant(*, actor: User, store_id: str) -> list[MenuCategory]:
    store = store_for_member(actor=actor, store_id=store_id, permission=roles.MENU_VIEW)
    return list(_counted(MenuCategory.objects.filter(store=store)))


def product_list_for_merchant(*, actor: User, store_id: str) -> list[Product]:
    """Every product of the store, unlisted ones included, in menu order."""
    store = store_for_member(actor=actor, store_id=store_id, permission=roles.MENU_VIEW)
    return list(products_with_parts(Product.objects.filter(store=store)).order_by(
        "menu_category__sort", "menu_category_id", "sort", "id"))


def _reloaded(product: Product) -> Product:
    return products_with_parts(Product.objects.filter(pk=product.pk)).get()


def product_spec_of(product: Product) -> ProductSpec:
    """What the merchant stated about a stored product (parts prefetched), as a spec."""
    quantity, unlimited = stock_now_of(product) or (0, False)
    if product.kind == Product.Kind.SERVICE:
        stock = None
    elif unlimited:
        stock = StockSpec(unlimited=True)
    else:
        stock = StockSpec(quantity=quantity)
    return ProductSpec(
        name=product.name, price_fen=product.price_fen, description=product.description,
        kind=product.kind, tags=tuple(product.tags),
        availability=tuple((start, end) for start, end in product.availability),
        duration_minutes=product.duration_minutes,
        variants=tuple(rules.VariantSpec(v.name, v.price_delta_fen)
                       for v in product.variants.all()),
        option_groups=tuple(
            rules.OptionGroupSpec(g.name, g.min_choices, g.max_choices,
                                  tuple(rules.OptionSpec(o.name, o.price_delta_fen)
                                        for o in g.options.all()))
            for g in product.option_groups.all()
        ),
        stock=stock, sold_out=product.is_sold_out,
    )


# --- menu categories ------------------------------------------------------------------

def _category_name_free(*, store: Store, name: str, exclude_pk: int | None = None) -> str:
    try:
        name = rules.name_check(name, max_length=50)
    except rules.RuleViolation as violation:
        raise violation_error(violation) from None
    if MenuCategory.objects.filter(store=store, name=name).exclude(pk=exclude_pk).exists():
        raise CategoryNameTaken(name=name)
    return name


@transaction.atomic
def menu_category_create(*, actor: User, store_id: str, name: str) -> MenuCategory:
    """A new category at the end of the menu."""
    store = store_for_member(actor=actor, store_id=store_id, permission=roles.MENU_EDIT, lock=True)
    name = _category_name_free(store=store, name=name)
    last = MenuCategory.objects.filter(store=store).aggregate(last=Max("sort"))["last"]
    menu_changed(store.pk)
    return MenuCategory.objects.create(store=store, name=name,
                                       sort=0 if last is None else last + 1)


@transaction.atomic
def menu_category_update(*, actor: User, category_id: str, name: str) -> MenuCategory:
    category = _category_as(actor=actor, category_id=category_id)
    category.name = _category_name_free(store=category.store, name=name, exclude_pk=category.pk)
    category.save(update_fields=["name"])
    menu_changed(category.store_id)
    return _counted(MenuCategory.objects.filter(pk=category.pk)).get()


@transaction.atomic
def menu_category_delete(*, actor: User, category_id: str) -> None:
    """Only an empty category goes. Unlisted (deleted) products keep their rows for old
    orders and simply lose their category."""
    category = _category_as(actor=actor, category_id=category_id)
    listed = category.products.filter(is_available=True).count()
    if listed:
        raise CategoryNotEmpty(category_id=category_id, products=listed)
    category.delete()
    menu_changed(category.store_id)


@transaction.atomic
def menu_category_reorder(*, actor: User, store_id: str, ids: list[str]) -> list[MenuCategory]:
    """Put the categories in the given order; `ids` must be exactly the store's categories."""
    store = store_for_member(actor=actor, store_id=store_id, permission=roles.MENU_EDIT, lock=True)
    categories = {category_public_id(c): c for c in MenuCategory.objects.filter(store=store)}
    if len(ids) != len(set(ids)) or set(ids) != set(categories):
        raise InvalidCategoryOrder(expected=sorted(categories), received=ids)
    for sort, category_id in enumerate(ids):
        categories[category_id].sort = sort
    MenuCategory.objects.bulk_update(categories.values(), ["sort"])
    menu_changed(store.pk)
    return menu_category_list_for_merchant(actor=actor, store_id=store_id)


# --- products -------------------------------------------------------------------------

def product_spec_check(spec: ProductSpec) -> ProductSpec:
    """The cleaned spec, or the error for the first rule it breaks."""
    cleaned, violations = rules.product_validate(spec)
    if violations:
        raise violation_error(violations[0])
    return cleaned


def _product_name_free(*, category: MenuCategory | None, name: str,
                       exclude_pk: int | None = None) -> None:
    """Listed products are unique by (category, name): the key a menu import matches on."""
    clash = Product.objects.filter(menu_category=category, name=name, is_available=True)
    if category is not None and clash.exclude(pk=exclude_pk).exists():
        raise ProductNameTaken(name=name, category_id=category_public_id(category))


def next_product_sort(category: MenuCategory) -> int:
    last = Product.objects.filter(menu_category=category).aggregate(last=Max("sort"))["last"]
    return 0 if last is None else last + 1


@dataclass(eq=False)
class ProductWrite:
    """One product row to save with a cleaned spec. `stock_now` is the row's current
    (quantity, unlimited); `variants` / `option_groups` say whether to replace them."""

    product: Product
    spec: ProductSpec
    stock_now: tuple[int, bool] | None = None
    variants: bool = True
    option_groups: bool = True


def products_write(writes: list[ProductWrite], *, actor: User | None) -> None:
    """Save products, new or not, inside the caller's transaction: one product from the
    console or two thousand from an import, in a handful of queries plus the stock ledger.

    Variants and option groups are replaced as a whole when asked (deleted and created
    again, so their ids change). Stock goes through the inventory ledger, and only when it
    changes. A service is kept "unlimited" so that orders never wait on stock it lacks."""
    from linli.inventory.services import stock_set  # inventory sits above merchants

    menu_changed(*(w.product.store_id for w in writes))
    for write in writes:
        product, spec = write.product, write.spec
        product.name, product.description, product.kind = spec.name, spec.description, spec.kind
        product.price_fen, product.tags = spec.price_fen, list(spec.tags)
        product.availability = [list(window) for window in spec.availability]
        product.duration_minutes, product.is_sold_out = spec.duration_minutes, spec.sold_out
        if spec.packaging_fee_fen is not None:
            product.packaging_fee_fen = spec.packaging_fee_fen
    new = [w for w in writes if w.product.pk is None]
    old = [w for w in writes if w.product.pk is not None]
    created = {id(w) for w in new}
    for write in old:
        write.product.save()
    Product.objects.bulk_create([w.product for w in new])  # fills in the new primary keys

    renew = [w for w in writes if w.variants]
    ProductVariant.objects.filter(product__in=[w.product for w in old if w.variants]).delete()
    ProductVariant.objects.bulk_create(
        ProductVariant(product=w.product, name=v.name, price_delta_fen=v.price_delta_fen, sort=i)
        for w in renew for i, v in enumerate(w.spec.variants))
    renew = [w for w in writes if w.option_groups]
    OptionGroup.objects.filter(product__in=[w.product for w in old if w.option_groups]).delete()
    specs = [g for w in renew for g in w.spec.option_groups]
    groups = OptionGroup.objects.bulk_create(
        OptionGroup(product=w.product, name=g.name, min_choices=g.min_choices,
                    max_choices=g.max_choices, sort=i)
        for w in renew for i, g in enumerate(w.spec.option_groups))
    Option.objects.bulk_create(
        Option(group=group, name=o.name, price_delta_fen=o.price_delta_fen, sort=i)
        for group, g in zip(groups, specs, strict=True) for i, o in enumerate(g.options))

    for write in writes:
        wanted = _stock_wanted(write.spec, new=id(write) in created)
        if wanted is not None and wanted != write.stock_now:
            stock_set(product=write.product, quantity=wanted[0], unlimited=wanted[1], actor=actor)


def stock_now_of(product: Product) -> tuple[int, bool] | None:
    """(quantity, unlimited) of a product whose stock row was selected, or None."""
    try:
        item = product.stock  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None
    return item.quantity, item.unlimited


def _stock_wanted(spec: ProductSpec, *, new: bool) -> tuple[int, bool] | None:
    if spec.kind == Product.Kind.SERVICE or (spec.stock is not None and spec.stock.unlimited):
        return 0, True
    if spec.stock is not None and spec.stock.quantity is not None:
        return spec.stock.quantity, False
    return (0, False) if new else None


@transaction.atomic
def product_create(*, actor: User, store_id: str, category_id: str, spec: ProductSpec) -> Product:
    """A new listed product at the end of its category, with its parts and stock."""
    store = store_for_member(actor=actor, store_id=store_id, permission=roles.MENU_EDIT, lock=True)
    category = category_of_store(store=store, category_id=category_id)
    spec = product_spec_check(spec)
    _product_name_free(category=category, name=spec.name)
    product = Product(store=store, menu_category=category, sort=next_product_sort(category))
    products_write([ProductWrite(product, spec)], actor=actor)
    return _reloaded(product)


SPEC_FIELDS = frozenset(f.name for f in fields(ProductSpec))


@transaction.atomic
def product_update(*, actor: User, product_id: str, changes: dict[str, Any],
                   category_id: str | None = None, is_available: bool | None = None) -> Product:
    """Change some of a product's fields (`changes` holds ProductSpec fields). The result
    is judged as a whole, so a new price is checked against the variants it keeps."""
    if not changes.keys() <= SPEC_FIELDS:
        raise TypeError(f"not product fields: {sorted(changes.keys() - SPEC_FIELDS)}")
    product = _product_as(actor=actor, product_id=product_id, permission=roles.MENU_EDIT,
                          lock_store=True)
    current = _reloaded(product)
    spec = product_spec_check(replace(replace(product_spec_of(current), stock=None), **changes))
    if category_id is not None:
        category = category_of_store(store=product.store, category_id=category_id)
        if category.pk != product.menu_category_id:  # moved: it goes last in its new category
            product.menu_category, product.sort = category, next_product_sort(category)
    if is_available is not None:
        product.is_available = is_available
    if product.is_available:
        _product_name_free(category=product.menu_category, name=spec.name, exclude_pk=product.pk)
    products_write([ProductWrite(product, spec, stock_now=stock_now_of(current),
                                 variants="variants" in changes,
                                 option_groups="option_groups" in changes)], actor=actor)
    return _reloaded(product)


@transaction.atomic
def product_delete(*, actor: User, product_id: str) -> None:
    """Unlist the product. The row stays: past orders point at it."""
    product = _product_as(actor=actor, product_id=product_id, permission=roles.MENU_EDIT,
                          lock_store=True)
    product.is_available = False
    product.save(update_fields=["is_available", "updated_at"])
    menu_changed(product.store_id)


@transaction.atomic
def product_sold_out_set(*, actor: User, product_id: str, sold_out: bool) -> Product:
    """Every member may do this, cashiers too: it is the daily "卖完了" switch, not a menu change."""
    product = _product_as(actor=actor, product_id=product_id, permission=roles.MENU_SOLD_OUT)
    product.is_sold_out = sold_out
    product.save(update_fields=["is_sold_out", "updated_at"])
    menu_changed(product.store_id)
    return _reloaded(product)


@transaction.atomic
def product_stock_set(*, actor: User, product_id: str, stock: StockSpec) -> Product:
    """A stocktake by an owner or manager; the ledger records the difference."""
    product = _product_as(actor=actor, product_id=product_id, permission=roles.STOCK_SET)
    try:
        rules.stock_check(kind=product.kind, stock=stock)
    except rules.RuleViolation as violation:
        raise violation_error(violation) from None
    current = _reloaded(product)
    wanted = _stock_wanted(replace(product_spec_of(current), stock=stock), new=False)
    if wanted is not None and wanted != stock_now_of(current):
        from linli.inventory.services import stock_set

        stock_set(product=product, quantity=wanted[0], unlimited=wanted[1], actor=actor)
    return _reloaded(product)


@transaction.atomic
def product_image_set(*, actor: User, product_id: str, upload: UploadedFile) -> Product:
    """Store a checked JPEG/PNG/WebP under a name we make up; the old file goes on commit."""
    from .uploads import image_check

    product = _product_as(actor=actor, product_id=product_id, permission=roles.MENU_EDIT)
    checked = image_check(upload=upload)
    old = product.image.name
    product.image.save(checked.storage_name("img"), checked.file(), save=False)
    product.save(update_fields=["image", "updated_at"])
    menu_changed(product.store_id)
    if old:
        storage = product.image.storage
        transaction.on_commit(lambda: storage.delete(old))
    return _reloaded(product)
