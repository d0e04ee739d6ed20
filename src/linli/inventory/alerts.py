"""Low-stock alerts: a threshold per product, an alert row when the available count falls
below it, and a push to the store's console (docs/inventory.md).

Every stock writer (`inventory.services`, `inventory.transfers`) calls
`stock_alerts_check_on_commit(product ids)` after writing its ledger rows. The check runs
once the change has committed, outside the stock row locks. A store without thresholds
costs no query: whether a store has any is cached (`stock:alert-rules:<store pk>`, set on
the first check, refreshed whenever a threshold is set or removed). At most one open alert
per product (a partial unique constraint): it is resolved when the count is back at or
above the threshold, and only then can the next crossing alert again.

The check compares the count with the threshold (state, not edge): a crossing it missed
(a cache without Redis is per process, so another process may not have seen a new
threshold for up to RULES_CACHE_SECONDS) is alerted by the product's next movement.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core import cachebatch
from linli.core.errors import InvalidInput, NotFound
from linli.core.realtime import publish
from linli.merchants import roles
from linli.merchants.models import Product
from linli.merchants.selectors import StoreNotFound

from .access import product_for_member, store_for_member
from .models import StockAlert, StockAlertRule, StockItem

log = logging.getLogger(__name__)

MAX_THRESHOLD = 1_000_000


class InvalidThreshold(InvalidInput):
    code = "invalid_threshold"
    message = _("The low-stock threshold is a whole number from 1 to 1,000,000, or empty for none.")


RULES_CACHE_SECONDS = 300


def rules_cache_key(store_pk: int) -> str:
    """What the check after a stock change of this store reads from the cache first
    (core/cachebatch.py)."""
    return f"stock:alert-rules:{store_pk}"


def _stores_with_rules(store_pks: set[int]) -> set[int]:
    keys = {rules_cache_key(pk): pk for pk in store_pks}
    found = cachebatch.get_many(list(keys))
    missing = [pk for key, pk in keys.items() if key not in found]
    have = {pk for key, pk in keys.items() if found.get(key)}
    if missing:
        with_rules = set(StockAlertRule.objects.filter(store_id__in=missing)
                         .values_list("store_id", flat=True).distinct())
        cache.set_many({rules_cache_key(pk): pk in with_rules for pk in missing}, RULES_CACHE_SECONDS)
        have |= with_rules
    return have


def stock_alerts_check_on_commit(product_ids: Iterable[int], *, store_pk: int | None = None,
                                 learn_now: bool = False) -> None:
    """Check these products' thresholds once the current transaction commits (at once when
    there is none). `store_pk`: the products' store, when the caller knows it (then a store
    without thresholds costs no query once that is cached). `learn_now`: a merchant-side
    writer (stocktake, restock) fills that cache entry now, so that the order path, which
    defers everything until after its commit, finds it. A failing check is logged, never
    undoes the stock change."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    if learn_now and store_pk is not None:
        _stores_with_rules({store_pk})
    transaction.on_commit(lambda: stock_alerts_check(ids, store_pk=store_pk), robust=True)


def stock_alerts_check(product_ids: list[int], *, store_pk: int | None = None) -> list[StockAlert]:
    """Open an alert for each product now below its threshold that has none open; resolve
    the open alerts of products back at or above it. Returns the alerts opened."""
    if store_pk is not None and not _stores_with_rules({store_pk}):
        return []
    rows = list(StockItem.objects.filter(product_id__in=product_ids, unlimited=False,
                                         product__stock_alert_rule__isnull=False)
                .values_list("product_id", "store_id", "quantity", "product__stock_alert_rule__threshold"))
    if not rows:
        return []
    now = timezone.now()
    open_ = set(StockAlert.objects.filter(product_id__in=[r[0] for r in rows], resolved_at__isnull=True)
                .values_list("product_id", flat=True))
    opened: list[StockAlert] = []
    for product_id, store_id, available, threshold in rows:
        if available < threshold and product_id not in open_:
            try:
                with transaction.atomic():  # a racing check opened it first: one alert only
                    opened.append(StockAlert.objects.create(product_id=product_id, store_id=store_id,
                                                            threshold=threshold, available=available))
            except IntegrityError:
                continue
        elif available >= threshold and product_id in open_:
            StockAlert.objects.filter(product_id=product_id, resolved_at__isnull=True).update(
                resolved_at=now, resolved_available=available)
    if opened:
        _publish(opened)
    return opened


def _publish(alerts: list[StockAlert]) -> None:
    """Tell each store's console (the `stores.<store id>` channel of linli.web.events)."""
    ids = {pk: (public_id, store_id) for pk, public_id, store_id in Product.objects.filter(
        pk__in=[a.product_id for a in alerts]).values_list("pk", "public_id", "store__public_id")}
    for alert in alerts:
        product_public_id, store_public_id = ids[alert.product_id]
        event = {"type": "stock_alert", "alert_id": alert.public_id, "store_id": store_public_id,
                 "product_id": product_public_id, "available": alert.available,
                 "threshold": alert.threshold, "at": alert.opened_at.isoformat()}
        try:
            publish(f"stores.{event['store_id']}", event)
        except Exception:  # noqa: BLE001 - a push is best effort; the alert row is the record
            log.warning("stock alert push failed for %s", alert.public_id, exc_info=True)


def stock_threshold_set(*, actor: User, product_id: str, threshold: Any) -> StockAlertRule | None:
    """Set (or with None remove) a product's low-stock threshold (owner or manager); checks
    the product at once, so a count already below it alerts."""
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)
                                  or not 1 <= threshold <= MAX_THRESHOLD):
        raise InvalidThreshold(field="threshold", value=threshold)
    product = product_for_member(actor=actor, product_id=product_id, permission=roles.STOCK_SET)
    transaction.on_commit(lambda: cache.delete(rules_cache_key(product.store_id)))
    with transaction.atomic():
        if threshold is None:
            StockAlertRule.objects.filter(product=product).delete()
            StockAlert.objects.filter(product=product, resolved_at__isnull=True).update(
                resolved_at=timezone.now())
            return None
        rule, _created = StockAlertRule.objects.update_or_create(
            product=product, defaults={"store_id": product.store_id, "threshold": threshold, "set_by": actor})
        stock_alerts_check_on_commit([product.pk])
    return rule


def stock_alert_list(*, actor: User, store_id: str, open_only: bool = False) -> QuerySet[StockAlert]:
    """A store's alerts, newest first (any member of the merchant)."""
    store = store_for_member(actor=actor, store_id=store_id, permission=roles.MENU_VIEW)
    alerts = (StockAlert.objects.filter(store=store).select_related("product", "acknowledged_by")
              .order_by("-opened_at", "-id"))
    return alerts.filter(resolved_at__isnull=True) if open_only else alerts


class AlertNotFound(NotFound):
    code = "alert_not_found"
    message = _("There is no such low-stock alert.")


def stock_alert_acknowledge(*, actor: User, alert_id: str) -> StockAlert:
    """A manager has seen the alert (owner or manager of its store). It stays open until
    the count is back at or above the threshold; acknowledging twice keeps the first."""
    alert = StockAlert.objects.filter(public_id=alert_id).select_related("store").first()
    if alert is None:
        raise AlertNotFound(alert_id=alert_id)
    try:
        store_for_member(actor=actor, store_id=alert.store.public_id, permission=roles.STOCK_SET)
    except StoreNotFound:
        raise AlertNotFound(alert_id=alert_id) from None
    StockAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=actor)
    alert.refresh_from_db()
    return alert
