"""Stock transfers between the stores of one merchant (docs/inventory.md).

```
requested ──ship──▶ shipped (in transit) ──receive──▶ received
    └──cancel──▶ cancelled
```

Shipping takes the units out of the source's available count (ledger `transfer_out`,
reference = the transfer's public id) under the same protocol as every stock writer: the
source's stock rows locked in product id order, a conditional decrement that never goes
below zero. Receiving adds them to the destination: `transfer_in` for what was shipped and,
when fewer arrived, `transfer_loss` for the difference (negative), so each store's ledger
still sums to its count and the loss is visible where it was found. Owners and managers
only (`stock.set` in merchants.roles); every step is a `StockTransferEvent`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import IdempotencyKeyReused, IllegalTransition, InvalidInput, NotFound
from linli.core.statemachine import StateMachine, T
from linli.merchants import roles
from linli.merchants.models import Product
from linli.merchants.selectors import role_require

from .access import merchant_role, store_for_member
from .alerts import stock_alerts_check_on_commit
from .models import (
    ChainSku,
    StockItem,
    StockMovement,
    StockTransfer,
    StockTransferEvent,
    StockTransferLine,
)
from .services import StockInsufficient, _hints_clear_on_commit

R = StockMovement.Reason
MAX_LINES = 100
MAX_QUANTITY = 100_000

# States as plain strings (mypy without the Django plugin reads labelled members as tuples).
REQUESTED, SHIPPED, RECEIVED, CANCELLED = "requested", "shipped", "received", "cancelled"
TRANSFERS = StateMachine([
    T(REQUESTED, SHIPPED, "ship", roles.OWNER, roles.MANAGER),
    T(REQUESTED, CANCELLED, "cancel", roles.OWNER, roles.MANAGER),
    T(SHIPPED, RECEIVED, "receive", roles.OWNER, roles.MANAGER),
])


class TransferNotFound(NotFound):
    code = "transfer_not_found"
    message = _("The stock transfer does not exist.")


class TransferSameStore(InvalidInput):
    code = "transfer_same_store"
    message = _("A transfer goes from one store to another store of the same merchant.")


class TransferOtherMerchant(InvalidInput):
    code = "transfer_other_merchant"
    message = _("Stock moves only between stores of the same merchant.")


class InvalidTransferLines(InvalidInput):
    code = "invalid_transfer_lines"
    message = _("A transfer has 1 to 100 lines, each a product of the source store and a quantity from 1 to 100,000.")


class TransferProductUnmatched(InvalidInput):
    code = "transfer_product_unmatched"
    message = _("The destination store has no product for this item: give to_product_id or the same chain SKU.")


class TransferProductNotCounted(InvalidInput):
    code = "transfer_product_not_counted"
    message = _("Made-to-order products have no stock to transfer.")


class InvalidReceivedQuantity(InvalidInput):
    code = "invalid_received_quantity"
    message = _("The received quantity is from 0 to the quantity shipped, for products of this transfer.")


class LossReasonRequired(InvalidInput):
    code = "loss_reason_required"
    message = _("Say why fewer units arrived than were shipped.")


@dataclass(frozen=True)
class LineIn:
    product_id: str  # at the source store
    quantity: int
    to_product_id: str | None = None  # at the destination; default: the same chain SKU


@dataclass(frozen=True)
class ReceivedIn:
    product_id: str  # the source product of the line
    received: int
    loss_reason: str = ""


def _transfer_for(actor: User, transfer_id: str, *, lock: bool = False) -> tuple[StockTransfer, str]:
    rows = StockTransfer.objects.select_for_update() if lock else StockTransfer.objects
    transfer = rows.filter(public_id=transfer_id).first() if "\x00" not in transfer_id else None
    role = merchant_role(actor=actor, merchant_id=transfer.merchant_id) if transfer else None
    if transfer is None or role is None:
        raise TransferNotFound(transfer_id=transfer_id)
    role_require(role=role, permission=roles.STOCK_SET)
    return transfer, roles.canonical(role) or role


def _request_hash(from_store: str, to_store: str, lines: list[LineIn]) -> str:
    body = json.dumps([from_store, to_store, sorted((x.product_id, x.quantity, x.to_product_id or "")
                                                    for x in lines)])
    return hashlib.sha256(body.encode()).hexdigest()


def _event(transfer: StockTransfer, action: str, source: str, actor: User, note: str = "") -> None:
    StockTransferEvent.objects.create(transfer=transfer, action=action, from_state=source,
                                      to_state=transfer.state, actor=actor, note=note[:200])


def transfer_request(*, actor: User, from_store_id: str, to_store_id: str, lines: list[LineIn],
                     note: str = "", idempotency_key: str = "") -> tuple[StockTransfer, bool]:
    """Ask for units to go from one store to another of the same merchant. Returns (the
    transfer, created); a retry with the same Idempotency-Key returns the first one."""
    source = store_for_member(actor=actor, store_id=from_store_id, permission=roles.STOCK_SET)
    target = store_for_member(actor=actor, store_id=to_store_id, permission=roles.STOCK_SET)
    if source.merchant_id != target.merchant_id:  # a member of both merchants: still not one chain
        raise TransferOtherMerchant(from_store=from_store_id, to_store=to_store_id)
    if source.pk == target.pk:
        raise TransferSameStore(from_store=from_store_id, to_store=to_store_id)
    digest = _request_hash(from_store_id, to_store_id, lines)
    if idempotency_key:
        first = StockTransfer.objects.filter(merchant_id=source.merchant_id, idempotency_key=idempotency_key).first()
        if first is not None:
            if first.request_hash != digest:
                raise IdempotencyKeyReused()
            return first, False
    if not 1 <= len(lines) <= MAX_LINES or any(
            isinstance(x.quantity, bool) or not 1 <= x.quantity <= MAX_QUANTITY for x in lines):
        raise InvalidTransferLines(field="lines")
    wanted: dict[str, LineIn] = {}
    for line in lines:
        if line.product_id in wanted:
            raise InvalidTransferLines(field="lines", reason="duplicate", product_id=line.product_id)
        wanted[line.product_id] = line
    products = {p.public_id: p for p in Product.objects.filter(public_id__in=list(wanted), store=source)
                .select_related("stock", "chain_sku")}
    for pid in wanted:
        if pid not in products:
            raise InvalidTransferLines(field="lines", reason="not_in_source_store", product_id=pid)
    targets = _destination_products(target.pk, products, wanted)
    unlimited = dict(StockItem.objects.filter(product__in=[*products.values(), *targets.values()])
                     .values_list("product_id", "unlimited"))
    for pid, product in products.items():
        if unlimited.get(product.pk, True) or product.kind == Product.Kind.SERVICE:
            raise TransferProductNotCounted(product_id=pid)
        if unlimited.get(targets[pid].pk, False):  # no row yet: counted from 0 on receipt
            raise TransferProductNotCounted(product_id=targets[pid].public_id)
    try:
        with transaction.atomic():
            transfer = StockTransfer.objects.create(
                merchant_id=source.merchant_id, from_store=source, to_store=target, note=note[:200],
                idempotency_key=idempotency_key, request_hash=digest, created_by=actor)
            StockTransferLine.objects.bulk_create([
                StockTransferLine(transfer=transfer, from_product=products[pid], to_product=targets[pid],
                                  quantity=line.quantity) for pid, line in wanted.items()])
            _event(transfer, "request", "", actor, note)
    except IntegrityError:  # the same key, a racing retry: it won
        first = StockTransfer.objects.filter(merchant_id=source.merchant_id, idempotency_key=idempotency_key).first()
        if not idempotency_key or first is None:
            raise
        if first.request_hash != digest:
            raise IdempotencyKeyReused() from None
        return first, False
    return transfer, True


def _destination_products(target_pk: int, products: dict[str, Product],
                          wanted: dict[str, LineIn]) -> dict[str, Product]:
    """The destination's product for each source product: the one named, else the one
    with the same chain SKU."""
    named = {x.to_product_id for x in wanted.values() if x.to_product_id}
    by_public = {p.public_id: p for p in Product.objects.filter(public_id__in=named, store_id=target_pk)}
    skus = {pid: p.chain_sku.sku for pid, p in products.items() if hasattr(p, "chain_sku")}
    by_sku = {c.sku: c.product for c in ChainSku.objects.filter(store_id=target_pk, sku__in=set(skus.values()))
              .select_related("product")}
    found: dict[str, Product] = {}
    for pid, line in wanted.items():
        match = by_public.get(line.to_product_id or "") if line.to_product_id else by_sku.get(skus.get(pid, ""))
        if match is None:
            raise TransferProductUnmatched(product_id=pid, to_product_id=line.to_product_id)
        found[pid] = match
    return found


def _step(actor: User, transfer_id: str, action: str) -> tuple[StockTransfer, str]:
    transfer, role = _transfer_for(actor, transfer_id, lock=True)
    step = TRANSFERS.find(action=action, source=transfer.state)
    if step is None or role not in step.roles:
        raise IllegalTransition(action=action, state=transfer.state)
    source = transfer.state
    transfer.state = step.target
    transfer.save(update_fields=["state", "updated_at"])
    return transfer, source


def _lock_items(product_pks: Iterable[int]) -> dict[int, StockItem]:
    """The stock rows of these products, locked in product id order (every stock writer's
    order, so a transfer and an order for the same products cannot deadlock)."""
    return {item.product_id: item for item in StockItem.objects.select_for_update()
            .filter(product_id__in=sorted(set(product_pks))).order_by("product_id")}


@transaction.atomic
def transfer_ship(*, actor: User, transfer_id: str, note: str = "") -> StockTransfer:
    """The goods leave the source: all lines or none (409 stock_insufficient)."""
    transfer, source = _step(actor, transfer_id, "ship")
    lines = list(transfer.lines.select_related("from_product").order_by("from_product_id"))
    items = _lock_items(line.from_product_id for line in lines)
    now = timezone.now()
    for line in lines:
        item = items.get(line.from_product_id)
        if item is None or item.unlimited:
            raise TransferProductNotCounted(product_id=line.from_product.public_id)
        taken = StockItem.objects.filter(pk=item.pk, quantity__gte=line.quantity).update(
            quantity=F("quantity") - line.quantity, updated_at=now)
        if not taken:  # the row is locked: what we read is what is there
            raise StockInsufficient(product_id=line.from_product.public_id, requested=line.quantity,
                                    available=max(item.quantity, 0))
    StockMovement.objects.bulk_create([
        StockMovement(product_id=line.from_product_id, store_id=transfer.from_store_id, delta=-line.quantity,
                      reason=R.TRANSFER_OUT, reference=transfer.public_id, actor=actor) for line in lines])
    stock_alerts_check_on_commit((line.from_product_id for line in lines), store_pk=transfer.from_store_id)
    _event(transfer, "ship", source, actor, note)
    return transfer


@transaction.atomic
def transfer_receive(*, actor: User, transfer_id: str, received: list[ReceivedIn] | None = None,
                     note: str = "") -> StockTransfer:
    """The goods arrive: what was shipped is counted in (`transfer_in`), less what did not
    arrive (`transfer_loss`, with its reason on the line). `received` lists only the lines
    that differ from what was shipped."""
    transfer, source = _step(actor, transfer_id, "receive")
    lines = list(transfer.lines.select_related("from_product", "to_product").order_by("to_product_id"))
    by_source = {line.from_product.public_id: line for line in lines}
    counts = {line.pk: line.quantity for line in lines}
    reasons: dict[int, str] = {}
    for got in received or []:
        line = by_source.get(got.product_id)
        if (line is None or isinstance(got.received, bool) or not isinstance(got.received, int)
                or not 0 <= got.received <= line.quantity):
            raise InvalidReceivedQuantity(product_id=got.product_id, received=got.received)
        counts[line.pk] = got.received
        if got.received < line.quantity:
            if not got.loss_reason.strip():
                raise LossReasonRequired(product_id=got.product_id)
            reasons[line.pk] = got.loss_reason.strip()[:200]
    for line in lines:
        StockItem.objects.get_or_create(product=line.to_product,
                                        defaults={"store_id": transfer.to_store_id, "quantity": 0})
    items = _lock_items(line.to_product_id for line in lines)
    now = timezone.now()
    movements: list[StockMovement] = []
    for line in lines:
        if items[line.to_product_id].unlimited:
            raise TransferProductNotCounted(product_id=line.to_product.public_id)
        got_n = counts[line.pk]
        StockItem.objects.filter(pk=items[line.to_product_id].pk).update(
            quantity=F("quantity") + got_n, updated_at=now)
        movements.append(StockMovement(product_id=line.to_product_id, store_id=transfer.to_store_id,
                                       delta=line.quantity, reason=R.TRANSFER_IN,
                                       reference=transfer.public_id, actor=actor))
        if got_n < line.quantity:
            movements.append(StockMovement(product_id=line.to_product_id, store_id=transfer.to_store_id,
                                           delta=got_n - line.quantity, reason=R.TRANSFER_LOSS,
                                           reference=transfer.public_id, actor=actor))
        line.received_quantity, line.loss_reason = got_n, reasons.get(line.pk, "")
    StockTransferLine.objects.bulk_update(lines, ["received_quantity", "loss_reason"])
    StockMovement.objects.bulk_create(movements)
    _hints_clear_on_commit(line.to_product.public_id for line in lines)
    stock_alerts_check_on_commit((line.to_product_id for line in lines), store_pk=transfer.to_store_id)
    _event(transfer, "receive", source, actor, note)
    return transfer


@transaction.atomic
def transfer_cancel(*, actor: User, transfer_id: str, note: str = "") -> StockTransfer:
    """Called off before it shipped: nothing moved, nothing to give back."""
    transfer, source = _step(actor, transfer_id, "cancel")
    _event(transfer, "cancel", source, actor, note)
    return transfer


# --- reads -----------------------------------------------------------------------------------

def transfer_get(*, actor: User, transfer_id: str) -> StockTransfer:
    transfer, _role = _transfer_for(actor, transfer_id)
    return _with_details(StockTransfer.objects.filter(pk=transfer.pk)).get()


def _with_details(rows: QuerySet[StockTransfer]) -> QuerySet[StockTransfer]:
    return rows.select_related("from_store", "to_store").prefetch_related(
        "lines__from_product", "lines__to_product", "events__actor")


def transfer_list(*, actor: User, store_id: str | None = None, state: str | None = None,
                  limit: int = 50) -> list[StockTransfer]:
    """Transfers of the merchants the actor manages, newest first; `store_id`: from or to it."""
    from django.db.models import Q

    from linli.merchants.models import MerchantMember

    merchants = [m for m, role in MerchantMember.objects.filter(user=actor).values_list("merchant_id", "role")
                 if roles.allows(role, roles.STOCK_SET)]
    rows = StockTransfer.objects.filter(merchant_id__in=merchants)
    if store_id:
        rows = rows.filter(Q(from_store__public_id=store_id) | Q(to_store__public_id=store_id))
    if state:
        rows = rows.filter(state=state)
    return list(_with_details(rows.order_by("-created_at", "-id"))[:limit])


@dataclass(frozen=True)
class InTransit:
    outgoing: int  # shipped from this product's store, not received yet
    incoming: int  # shipped to it, not received yet
    transfers: list[str]


def stock_in_transit(*, product_pk: int) -> InTransit:
    """Units of one product on the road (transfers shipped, not yet received)."""
    lines = StockTransferLine.objects.filter(transfer__state=SHIPPED)
    outgoing = lines.filter(from_product_id=product_pk).aggregate(n=Sum("quantity"))["n"] or 0
    incoming = lines.filter(to_product_id=product_pk).aggregate(n=Sum("quantity"))["n"] or 0
    ids = sorted(set(lines.filter(from_product_id=product_pk).values_list("transfer__public_id", flat=True))
                 | set(lines.filter(to_product_id=product_pk).values_list("transfer__public_id", flat=True)))
    return InTransit(outgoing=outgoing, incoming=incoming, transfers=ids)


def transfer_out(transfer: StockTransfer) -> dict[str, Any]:
    """The API's and the page's shape of a transfer (details prefetched)."""
    return {
        "id": transfer.public_id, "state": transfer.state, "from_store": transfer.from_store.public_id,
        "to_store": transfer.to_store.public_id, "note": transfer.note, "created_at": transfer.created_at,
        "lines": [{"product_id": x.from_product.public_id, "to_product_id": x.to_product.public_id,
                   "name": x.from_product.name, "quantity": x.quantity, "received": x.received_quantity,
                   "loss_reason": x.loss_reason} for x in transfer.lines.all()],
        "events": [{"action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                    "actor": e.actor.public_id if e.actor else None, "note": e.note, "at": e.created_at}
                   for e in transfer.events.all()],
    }
