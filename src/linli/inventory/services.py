"""Stock changes: stocktakes, restocks, reservations of placed orders and their commit or
release, and the daily reset of made-to-order counts (docs/inventory.md).

Every change is an atomic conditional UPDATE (or runs under the item's row lock) and
writes its ledger row in the same transaction, so concurrent buyers can never take the
same unit twice and `sum(StockMovement.delta) == StockItem.quantity` holds whatever the
database or the number of app processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict, InvalidInput
from linli.merchants.models import Product, Store

from .alerts import stock_alerts_check_on_commit
from .models import StockItem, StockMovement, StockReservation

log = logging.getLogger(__name__)

R = StockMovement.Reason
MAX_DAILY_QUANTITY = 1_000_000
RESET_CHUNK = 500


class StockInsufficient(Conflict):
    code = "stock_insufficient"
    message = _("Not enough stock for this product.")


class InvalidDailyQuantity(InvalidInput):
    code = "invalid_daily_quantity"
    message = _("The daily quantity is a whole number from 0 to 1,000,000, or empty for none.")


# --- merchant-side counts ----------------------------------------------------------------

def stock_set(*, product: Product, quantity: int, actor: User | None = None,
              unlimited: bool = False) -> StockItem:
    """Set the count buyers can take (merchant stocktake), or mark the product made to order
    (unlimited, which also drops a daily quantity). Units held by unpaid orders are not
    part of the count: they come back on top of it if those orders are not paid."""
    if quantity < 0:
        raise ValueError("quantity must be >= 0")
    with transaction.atomic():
        item, created = StockItem.objects.select_for_update().get_or_create(
            product=product, defaults={"store_id": product.store_id, "quantity": 0}
        )
        delta = quantity - item.quantity
        item.quantity = quantity
        item.unlimited = unlimited
        fields = ["quantity", "unlimited", "updated_at"]
        if unlimited and item.daily_quantity is not None:
            item.daily_quantity, item.daily_reset_on = None, None
            fields += ["daily_quantity", "daily_reset_on"]
        item.save(update_fields=fields)
        if delta:
            StockMovement.objects.create(
                product=product, store_id=product.store_id, delta=delta,
                reason=R.ADJUST, actor=actor,
            )
            stock_alerts_check_on_commit([product.pk], store_pk=product.store_id, learn_now=True)
        _hints_clear_on_commit([product.public_id])
    return item


def stock_restock(*, product: Product, quantity: int, actor: User | None = None,
                  reference: str = "") -> StockItem:
    """Add a delivery of goods to the count (one atomic increment and its ledger row)."""
    if quantity <= 0:
        raise ValueError("quantity must be > 0")
    with transaction.atomic():
        item, _created = StockItem.objects.get_or_create(
            product=product, defaults={"store_id": product.store_id, "quantity": 0})
        StockItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity,
                                                    updated_at=timezone.now())
        StockMovement.objects.create(product=product, store_id=product.store_id, delta=quantity,
                                     reason=R.RESTOCK, reference=reference, actor=actor)
        stock_alerts_check_on_commit([product.pk], store_pk=product.store_id, learn_now=True)
        _hints_clear_on_commit([product.public_id])
    item.refresh_from_db()
    return item


# --- the sold-out hint: refused flash-sale attempts skip the database ---------------------
# When a reservation or the pre-check finds a product at 0, the cache remembers it for a
# moment (value: the store's public id); `stock_sold_out_hinted` then refuses further
# attempts without a query. Any change that can bring units back (stocktake, restock,
# release, cancel, daily reset) deletes the hint once it commits. With REDIS_URL the hint is
# shared by every app process; with the local-memory cache each process has its own, and
# the short lifetime bounds how long another process may still refuse after a restock.
# The hint only ever refuses: taking units is always the conditional UPDATE below.

SOLD_OUT_HINT_SECONDS = 2.0


def _hint_key(product_public_id: str) -> str:
    return f"stock:sold-out:{product_public_id}"


def stock_sold_out_hinted(*, store_public_id: str, wanted: dict[str, int]) -> None:
    """Raise StockInsufficient (available 0) if a product of `wanted` {product public id:
    quantity} was found sold out in this store in the last SOLD_OUT_HINT_SECONDS."""
    keys = {_hint_key(pid): pid for pid in wanted}
    found = cache.get_many(list(keys))
    for key, pid in keys.items():
        if found.get(key) == store_public_id:
            raise StockInsufficient(product_id=pid, requested=wanted[pid], available=0)


def _hint_sold_out(product: Product) -> None:
    if Product.store.is_cached(product):  # type: ignore[attr-defined]
        cache.set(_hint_key(product.public_id), product.store.public_id, SOLD_OUT_HINT_SECONDS)


def _hints_clear_on_commit(product_public_ids: Iterable[str]) -> None:
    """Units may be back: forget the hints once the change is visible to other buyers."""
    keys = [_hint_key(pid) for pid in product_public_ids if pid]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))


def _public_ids(product_pks: Iterable[int]) -> list[str]:
    return list(Product.objects.filter(pk__in=list(product_pks)).values_list("public_id", flat=True))


# --- reservations: placed -> paid (commit) or cancelled / timed out (release) -------------

def _insufficient(product: Product | None, product_id: int, requested: int, available: int) -> StockInsufficient:
    public_id = product.public_id if product is not None else (
        Product.objects.filter(pk=product_id).values_list("public_id", flat=True).first())
    if product is not None and available <= 0:
        _hint_sold_out(product)
    return StockInsufficient(product_id=public_id, requested=requested, available=max(available, 0))


def _wanted(lines: Iterable[tuple[Product, int]]) -> tuple[dict[int, int], dict[int, Product]]:
    wanted: dict[int, int] = {}
    products: dict[int, Product] = {}
    for product, quantity in lines:
        if quantity <= 0:
            raise ValueError("quantity must be > 0")
        wanted[product.pk] = wanted.get(product.pk, 0) + quantity
        products[product.pk] = product
    return wanted, products


StockSeen = dict[int, tuple[int, bool]]  # product id -> (available, unlimited) as read


def stock_check(*, store_id: int, lines: Iterable[tuple[Product, int]],
                seen: StockSeen | None = None) -> StockSeen:
    """Refuse lines that the stock clearly cannot cover, with one read and no lock or
    write (call it before opening the order's transaction: once a flash sale is sold out,
    every further attempt ends here). What it read can be handed to `stock_reserve`,
    which re-checks every count atomically anyway. A caller that has just read the
    store's counts (e.g. joined to its product rows) passes them as `seen`: no query."""
    wanted, products = _wanted(lines)
    if seen is None:
        seen = {row[0]: row[1:] for row in StockItem.objects.filter(
            product_id__in=list(wanted), store_id=store_id).values_list("product_id", "quantity", "unlimited")}
    for pid in sorted(wanted):
        quantity, unlimited = seen.get(pid, (0, False))
        if not unlimited and quantity < wanted[pid]:
            raise _insufficient(products[pid], pid, wanted[pid], quantity)
    return seen


def stock_reserve(
    *, store_id: int, lines: Iterable[tuple[Product, int]], reference: str, actor: User | None,
    seen: StockSeen | None = None,
) -> None:
    """Hold (product, quantity) lines for an order, all or nothing: each unit leaves the
    available count at once and is held until `stock_commit` (paid) or `stock_release`
    (cancelled, timed out). The holds are `StockReservation` rows under `reference`; no
    caller needed them back, and building them as objects was 2-3 % of placing an order.

    Must run inside the caller's transaction: a failure on any line raises and the
    caller's rollback gives back what earlier lines took. A fixed number of queries
    whatever the cart: one read (`stock_check`, skipped when its answer is passed in as
    `seen`), then on PostgreSQL one statement (lock in product id order, conditional UPDATE,
    reservations and ledger rows: `_RESERVE_SQL`); elsewhere one conditional UPDATE (or, for
    several counted products, a lock in product id order so two orders cannot deadlock,
    and one UPDATE) and two bulk inserts.
    """
    lines = list(lines)
    wanted, products = _wanted(lines)
    if not wanted:
        return
    if seen is None or not set(wanted) <= set(seen):
        seen = stock_check(store_id=store_id, lines=lines)
    counted = {pid: q for pid, q in sorted(wanted.items()) if not seen[pid][1]}
    if not counted:
        return  # made to order: nothing is counted, nothing is held
    if connection.vendor == "postgresql":
        if connection.in_atomic_block:
            _reserve_postgresql(store_id, counted, products, reference, actor)
        else:
            with transaction.atomic():
                _reserve_postgresql(store_id, counted, products, reference, actor)
        return
    now = timezone.now()
    if len(counted) == 1:
        (pid, q), = counted.items()
        if not StockItem.objects.filter(product_id=pid, store_id=store_id, unlimited=False,
                                        quantity__gte=q).update(
                quantity=F("quantity") - q, reserved=F("reserved") + q, updated_at=now):
            # Another buyer took the units between the read and the update (or the
            # product just became made to order).
            now_quantity, now_unlimited = StockItem.objects.filter(product_id=pid).values_list(
                "quantity", "unlimited").first() or (0, False)
            if not now_unlimited:
                raise _insufficient(products[pid], pid, q, now_quantity)
            counted = {}
    else:
        locked = list(StockItem.objects.select_for_update().filter(
            product_id__in=list(counted), store_id=store_id).order_by("product_id")
            .values_list("pk", "product_id", "quantity", "unlimited"))
        for _pk, pid, quantity, unlimited in locked:
            if not unlimited and quantity < counted[pid]:
                raise _insufficient(products[pid], pid, counted[pid], quantity)
        counted = {pid: counted[pid] for _pk, pid, _q, unlimited in locked if not unlimited}
        _apply_deltas({pid: (-q, q) for pid, q in counted.items()}, now=now, locked=True)
    StockReservation.objects.bulk_create([
        StockReservation(product_id=pid, store_id=store_id, reference=reference, quantity=q)
        for pid, q in counted.items()])
    StockMovement.objects.bulk_create([
        StockMovement(product_id=pid, store_id=store_id, delta=-q, reserved_delta=q,
                      reason=R.ORDER, reference=reference, actor=actor)
        for pid, q in counted.items()])
    stock_alerts_check_on_commit(counted, store_pk=store_id)


# One statement takes the units, holds them and writes the ledger (PostgreSQL): the rows
# are locked in product id order (the CTE's ORDER BY ... FOR UPDATE), so two orders for the
# same products in opposite order cannot deadlock; the UPDATE re-checks `quantity >= q` on
# the newest committed row (READ COMMITTED), so two buyers never take the same unit; only
# rows actually taken get a reservation and an `order` ledger row.
_RESERVE_SQL = """
WITH locked AS (
    SELECT id FROM inventory_stock_item
    WHERE product_id = ANY(%(pids)s::bigint[]) AND store_id = %(store)s AND NOT unlimited
    ORDER BY product_id FOR UPDATE
), taken AS (
    UPDATE inventory_stock_item AS s
    SET quantity = s.quantity - w.q, reserved = s.reserved + w.q, updated_at = %(now)s
    FROM locked, unnest(%(pids)s::bigint[], %(qtys)s::integer[]) AS w(pid, q)
    WHERE s.id = locked.id AND s.product_id = w.pid AND s.quantity >= w.q
    RETURNING s.product_id, w.q
), held AS (
    INSERT INTO inventory_stock_reservation
        (product_id, store_id, reference, quantity, status, created_at)
    SELECT product_id, %(store)s, %(ref)s, q, %(held)s, %(now)s FROM taken
    RETURNING product_id
), ledger AS (
    INSERT INTO inventory_stock_movement
        (product_id, store_id, delta, reserved_delta, reason, reference, actor_id, created_at)
    SELECT product_id, %(store)s, -q, q, %(reason)s, %(ref)s, %(actor)s, %(now)s FROM taken
)
SELECT product_id FROM held
"""


def _reserve_postgresql(store_id: int, counted: dict[int, int], products: dict[int, Product],
                        reference: str, actor: User | None) -> None:
    """`stock_reserve` in one statement; runs inside a transaction, so a refusal (raised
    after it) takes back whatever the statement wrote."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_SQL, {
            "pids": list(counted), "qtys": list(counted.values()), "store": store_id, "now": now,
            "ref": reference, "held": str(StockReservation.Status.HELD), "reason": str(R.ORDER),
            "actor": actor.pk if actor is not None else None})
        held = [pid for (pid,) in cursor.fetchall()]
    missing = set(counted) - set(held)
    if missing:
        # Not enough left, or the product just became made to order (then nothing is held
        # for it, as when the read had seen it so). The rows are ours until the commit.
        for pid, quantity, unlimited in (StockItem.objects.filter(product_id__in=sorted(missing))
                                         .order_by("product_id")
                                         .values_list("product_id", "quantity", "unlimited")):
            missing.discard(pid)
            if not unlimited:
                raise _insufficient(products[pid], pid, counted[pid], quantity)
        if missing:  # no stock row at all
            pid = min(missing)
            raise _insufficient(products[pid], pid, counted[pid], 0)
    stock_alerts_check_on_commit(held, store_pk=store_id)


# Kept for callers written before reservations: placing an order reserves its stock.
stock_take = stock_reserve


def _apply_deltas(changes: dict[int, tuple[int, int]], *, now: datetime, locked: bool = False) -> None:
    """Move (available, held) counts of several products in one UPDATE. Rows are locked in
    product id order first (unless the caller did), so concurrent multi-product changes
    cannot deadlock; a single product needs no separate lock."""
    if not changes:
        return
    if len(changes) == 1:
        (pid, (dq, dr)), = changes.items()
        StockItem.objects.filter(product_id=pid).update(
            quantity=F("quantity") + dq, reserved=F("reserved") + dr, updated_at=now)
        return
    if not locked:
        list(StockItem.objects.select_for_update().filter(product_id__in=list(changes))
             .order_by("product_id").values_list("pk", flat=True))

    def case(index: int, column: str) -> Case:
        return Case(*[When(product_id=pid, then=F(column) + Value(d[index])) for pid, d in changes.items()],
                    default=F(column), output_field=IntegerField())

    StockItem.objects.filter(product_id__in=list(changes)).update(
        quantity=case(0, "quantity"), reserved=case(1, "reserved"), updated_at=now)


# Statuses and reasons are TextChoices members (str at run time; typed loosely here because
# mypy without the Django plugin reads labelled members as tuples).
Outcome = tuple[Any, Any, int, int]  # (status, ledger reason, available sign, held sign)


def _settle(reference: str, *, source: Iterable[Any], actor: User | None,
            outcome: dict[Any, Outcome]) -> int:
    """Move the reference's reservations in `source` states on, each to its outcome
    (status, ledger reason, available sign, held sign). The reservation rows are locked
    and re-read under the lock, so two settlers racing each other (a payment and a
    cancellation) see each row in exactly one state: the second finds nothing to do."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(StockReservation.objects.select_for_update()
                    .filter(reference=reference, status__in=list(source)).order_by("product_id", "pk"))
        if not rows:
            return 0
        per_status: dict[str, list[int]] = {}
        changes: dict[int, tuple[int, int]] = {}
        movements: dict[tuple[int, str], StockMovement] = {}
        for row in rows:
            status, reason, available_sign, held_sign = outcome[row.status]
            per_status.setdefault(status, []).append(row.pk)
            dq, dr = changes.get(row.product_id, (0, 0))
            changes[row.product_id] = (dq + available_sign * row.quantity, dr + held_sign * row.quantity)
            movement = movements.setdefault((row.product_id, reason), StockMovement(
                product_id=row.product_id, store_id=row.store_id, delta=0, reserved_delta=0,
                reason=reason, reference=reference, actor=actor))
            movement.delta += available_sign * row.quantity
            movement.reserved_delta += held_sign * row.quantity
        for status, pks in per_status.items():
            StockReservation.objects.filter(pk__in=pks).update(status=status, settled_at=now)
        _apply_deltas(changes, now=now)
        StockMovement.objects.bulk_create(movements.values())
        back = [pid for pid, (dq, _dr) in changes.items() if dq > 0]
        if back:  # units are available again: no sold-out hint may refuse them
            _hints_clear_on_commit(_public_ids(back))
            stock_alerts_check_on_commit(back)
    return len(rows)


def stock_commit(*, reference: str, actor: User | None = None) -> int:
    """The order is paid: its held units are sold (ledger `sale`: held -n, available
    unchanged). Returns how many reservations were committed (0 if there were none, e.g.
    made-to-order items, or if a cancellation got there first)."""
    S = StockReservation.Status
    return _settle(reference, source=[S.HELD], actor=actor,
                   outcome={S.HELD: (S.COMMITTED, R.SALE, 0, -1)})


def stock_release(*, reference: str, actor: User | None = None, store_id: int | None = None,
                  lines: object = None) -> int:
    """The order is cancelled (by a person or the unpaid timeout): held units go back to
    the available count (ledger `release`), and units already sold to it (a paid order
    cancelled) are returned (ledger `cancel`). Safe to call twice: the second call finds
    nothing held or sold. `store_id` and `lines` are ignored: the reservations say what
    was taken (they are accepted so that callers written before reservations still work).

    Orders placed before reservations existed have only their ledger rows (`order`, no
    held units): those rows are given back once."""
    S = StockReservation.Status
    settled = _settle(reference, source=[S.HELD, S.COMMITTED], actor=actor, outcome={
        S.HELD: (S.RELEASED, R.RELEASE, 1, -1),
        S.COMMITTED: (S.RETURNED, R.CANCEL, 1, 0),
    })
    if settled or StockReservation.objects.filter(reference=reference).exists():
        return settled
    return _release_legacy(reference, actor=actor)


def _release_legacy(reference: str, *, actor: User | None) -> int:
    rows = list(StockMovement.objects.filter(reference=reference, reason__in=[R.ORDER, R.RELEASE, R.CANCEL])
                .values_list("product_id", "store_id", "delta", "reserved_delta", "reason"))
    if not rows or any(reason != R.ORDER or held for *_rest, held, reason in rows):
        return 0  # nothing taken, already given back, or taken by a reservation
    taken: dict[tuple[int, int], int] = {}
    for product_id, store_id, delta, _held, _reason in rows:
        taken[(product_id, store_id)] = taken.get((product_id, store_id), 0) - delta
    now = timezone.now()
    with transaction.atomic():
        _apply_deltas({pid: (q, 0) for (pid, _sid), q in taken.items()}, now=now)
        StockMovement.objects.bulk_create([
            StockMovement(product_id=pid, store_id=sid, delta=q, reason=R.RELEASE,
                          reference=reference, actor=actor) for (pid, sid), q in taken.items()])
        _hints_clear_on_commit(_public_ids(pid for pid, _sid in taken))
        stock_alerts_check_on_commit(pid for pid, _sid in taken)
    return len(taken)


# --- daily counts for made-to-order items (e.g. 50 bowls a day) ---------------------------

def _local_today(tz_name: str, now: datetime) -> date | None:
    try:
        return now.astimezone(ZoneInfo(tz_name)).date()
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("stock daily reset: store time zone %r is unknown", tz_name)
        return None


def stock_daily_set(*, product: Product, daily_quantity: int | None, actor: User | None = None,
                    now: datetime | None = None) -> StockItem:
    """Give a product a daily count (counted, reset every local midnight) or take it away
    (None: the count stays as it is and is no longer reset). Setting it also resets today's
    count at once, so the merchant sees the number they typed."""
    if daily_quantity is not None and (isinstance(daily_quantity, bool) or not isinstance(daily_quantity, int)
                                       or not 0 <= daily_quantity <= MAX_DAILY_QUANTITY):
        raise InvalidDailyQuantity(field="daily_quantity", value=daily_quantity)
    now = now or timezone.now()
    with transaction.atomic():
        item, _created = StockItem.objects.select_for_update().get_or_create(
            product=product, defaults={"store_id": product.store_id, "quantity": 0})
        tz_name = Store.objects.filter(pk=item.store_id).values_list("timezone", flat=True).get()
        item.daily_quantity = daily_quantity
        if daily_quantity is None:
            item.daily_reset_on = None
            item.save(update_fields=["daily_quantity", "daily_reset_on", "updated_at"])
            return item
        item.unlimited = False
        item.save(update_fields=["daily_quantity", "unlimited", "updated_at"])
        _reset_locked([item], today=_local_today(tz_name, now) or now.date(), actor=actor)
    item.refresh_from_db()
    return item


def _reset_locked(items: list[StockItem], *, today: date, actor: User | None = None) -> int:
    """Bring locked daily items to their daily count for `today`: units held by unpaid
    orders count against the new day (they are on their way out), so the available count
    becomes daily - held, never below 0."""
    movements, changed = [], []
    for item in items:
        target = max(0, (item.daily_quantity or 0) - item.reserved)
        delta = target - item.quantity
        item.quantity, item.daily_reset_on = target, today
        changed.append(item)
        if delta:
            movements.append(StockMovement(product_id=item.product_id, store_id=item.store_id,
                                           delta=delta, reason=R.DAILY_RESET,
                                           reference=f"daily:{today.isoformat()}", actor=actor))
    StockItem.objects.bulk_update(changed, ["quantity", "daily_reset_on"])
    StockMovement.objects.bulk_create(movements)
    if movements:
        _hints_clear_on_commit(_public_ids(m.product_id for m in movements))
        stock_alerts_check_on_commit(m.product_id for m in movements)
    return len(changed)


def stock_daily_reset(*, now: datetime | None = None) -> int:
    """Reset every daily item whose store has reached a new local day since its last reset
    (run every minute by Celery beat; idempotent per store-local day: a second run the same
    day, on any worker, finds nothing due). Returns how many items were reset."""
    now = now or timezone.now()
    due_filter = Q(daily_quantity__isnull=False)
    zones = (Store.objects.filter(stock_items__daily_quantity__isnull=False)
             .values_list("timezone", flat=True).distinct())
    reset = 0
    for tz_name in list(zones):
        today = _local_today(tz_name, now)
        if today is None:
            continue
        due = (due_filter & Q(store__timezone=tz_name)
               & (Q(daily_reset_on__isnull=True) | Q(daily_reset_on__lt=today)))
        pks = list(StockItem.objects.filter(due).order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), RESET_CHUNK):
            with transaction.atomic():
                # Re-checked under the lock: a concurrent run of the job has already done these.
                items = list(StockItem.objects.select_for_update(of=("self",)).filter(due, pk__in=pks[start:start + RESET_CHUNK])
                             .order_by("pk"))
                reset += _reset_locked(items, today=today)
    return reset
