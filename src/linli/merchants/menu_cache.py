"""The public menu as JSON, its shape cached per store (issue 15, docs/catalog.md "Menu cache").

The menu was the browse mix's slowest read: five ORM queries and the validation of a deep
answer, ~7.5 ms of CPU a request. What changes at lunch is the stock (every order moves
it) and whether a product is orderable right now (the clock); the rest, the sections,
names, prices, sold-out flags, windows, variants and options, changes when a merchant
edits the menu. So:

- the **shape** is cached per store as pre-encoded JSON fragments, one per product, under
  the store's *version token*; a request reads the token and the document in one cache
  round trip;
- the **stock** is read per request, one indexed query on the stock table (what the menu
  shows as left is never older than the database it reads);
- `available_now` is computed per request from the cached windows in the store's zone;
- the store's key and time zone are cached for a few seconds (`public_menu_json`).

Invalidation: every catalog write calls `menu_changed(store_pk)`, which gives the store a
new version token (`core.versioned`: at once and again after the commit; a document is
used only under the token it was built with). `LINLI_MENU_CACHE_SECONDS` (default 60)
bounds what a write that bypasses the services (a shell, raw SQL; the Django admin's
catalog pages do call it) can leave stale, as does the replica's lag when menu reads go
to a replica.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.utils import timezone

from linli.core.versioned import Versioned

from .hours import Periods, every_day, is_open_at
from .models import MenuCategory, Product, Store
from .selectors import StoreNotFound, store_listed, store_menu

# (product pk, its daily windows as weekly periods or None for always, its JSON object
# without the closing brace)
_Fragment = tuple[int, Periods | None, str]
_Document = list[tuple[str, list[_Fragment]]]  # (section's JSON head, its products)

_FORMAT = 2  # of the cached document: a deploy that changes its shape moves the key
_MENUS = Versioned("menu", fmt=_FORMAT)  # keys menu:token:<store pk>, menu:doc:2:<store pk>


def menu_changed(*store_pks: int) -> None:
    """These stores' menus changed (or are changing in the current transaction): new tokens
    now and after commit. Call from every write to categories, products, variants, options
    (the primary keys of their stores)."""
    _MENUS.changed(*store_pks)


def image_url(product: Product) -> str | None:
    return product.image.url if product.image else None


def option_groups_out(product: Product) -> list[dict[str, Any]]:
    return [
        {"id": g.public_id, "name": g.name, "min_choices": g.min_choices, "max_choices": g.max_choices,
         "options": [{"id": o.public_id, "name": o.name, "price_delta_fen": o.price_delta_fen}
                     for o in g.options.all()]}
        for g in product.option_groups.all()
    ]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _product_fragment(p: Product) -> str:
    """The product's public JSON object minus its per-request fields and closing brace."""
    fields = {
        "id": p.public_id, "name": p.name, "description": p.description, "price_fen": p.price_fen,
        "kind": p.kind, "tags": p.tags, "image": image_url(p), "sold_out": p.is_sold_out,
        "availability": p.availability, "duration_minutes": p.duration_minutes,
        "variants": [{"id": v.public_id, "name": v.name, "price_fen": p.price_fen + v.price_delta_fen}
                     for v in p.variants.all()],
        "option_groups": option_groups_out(p),
    }
    return _dumps(fields)[:-1]


def _build(store: Store) -> _Document:
    def head(section: MenuCategory) -> str:
        return _dumps({"id": section.public_id, "name": section.name})[:-1]

    def windows(p: Product) -> Periods | None:
        return every_day(*((start, end) for start, end in p.availability)) if p.availability else None

    return [(head(section), [(p.pk, windows(p), _product_fragment(p)) for p in section.products.all()])
            for section in store_menu(store=store)]


def _document(store: Store) -> _Document:
    return _MENUS.get(store.pk, lambda: _build(store), settings.LINLI_MENU_CACHE_SECONDS)


STORE_REF_SECONDS = 5


def public_menu_json(store_public_id: str) -> str:
    """The public menu of an open or paused store; 404 `store_not_found` for a closed or
    unknown one. What the menu needs of the store (its key and time zone) is cached for
    `STORE_REF_SECONDS`: a store closed by an operator shows its menu a few seconds more,
    which ordering refuses anyway (placement checks the store on the primary)."""
    key = f"menu:store:{store_public_id}"
    ref = cache.get(key)
    if ref is None:
        found = list(store_listed(public_id=store_public_id).values_list("id", "timezone")[:1])
        if not found:
            raise StoreNotFound(store_id=store_public_id)
        ref = found[0]
        cache.set(key, ref, STORE_REF_SECONDS)
    return menu_json(Store(pk=ref[0], public_id=store_public_id, timezone=ref[1]))


def _stock_of_store(store_pk: int) -> dict[int, tuple[int, bool]]:
    """product pk -> (quantity, unlimited): one indexed statement, written out (the ORM
    spent more building it than the database answering it), on the database the router
    picks for reads (the replica inside `reads_from_replica`)."""
    from linli.inventory.models import StockItem  # inventory sits above merchants

    alias = router.db_for_read(StockItem)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT product_id, quantity, unlimited FROM {StockItem._meta.db_table} "  # noqa: S608
                       "WHERE store_id = %s", [store_pk])
        return {pk: (quantity, bool(unlimited)) for pk, quantity, unlimited in cursor.fetchall()}


def menu_json(store: Store, *, at: datetime | None = None) -> str:
    """`{"store_id": ..., "sections": [...]}` as the public menu endpoint answers it (the
    shape of `api_catalog.MenuOut`): the cached shape, today's stock, `available_now` at
    `at` (default now) in the store's time zone."""
    document = _document(store)
    stock = _stock_of_store(store.pk)
    local = (at or timezone.now()).astimezone(ZoneInfo(store.timezone))
    sections = []
    for head, products in document:
        items = []
        for pk, periods, fragment in products:
            quantity, unlimited = stock.get(pk, (0, False))
            available = periods is None or is_open_at(periods, local)
            items.append(f'{fragment}, "stock": {0 if unlimited else quantity}, '
                         f'"unlimited": {_bool(unlimited)}, "available_now": {_bool(available)}}}')
        sections.append(f'{head}, "products": [{", ".join(items)}]}}')
    return f'{{"store_id": {_dumps(store.public_id)}, "sections": [{", ".join(sections)}]}}'


def _bool(value: bool) -> str:
    return "true" if value else "false"
