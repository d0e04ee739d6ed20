"""Offline upload: sales a counter queued while the network was down (docs/pos.md).

Rules (offline sales are facts: the goods left the shop and the money was taken):
- each sale is idempotent by its client id: the same body again is `duplicate`; the same
  id with another body is `conflict(sale_id_reused)` and the first sale stands;
- totals are recomputed from the lines: a total that does not add up is
  `rejected(total_mismatch)` and kept as a conflict row with the body as sent;
- stock is taken from the same ledger as online orders; units the ledger no longer had
  are `conflict(stock_short)` (the sale is recorded, the count stays at 0, the merchant
  resolves it with a stocktake);
- the member code is checked against the sale's own time (when it was scanned); an
  expired, used or invalid code keeps the sale without member benefits (no points) and
  is `conflict(member_code_expired|used|invalid)`;
- a unit price that is neither the list nor the member price is `conflict(price_differs)`:
  the sale is recorded at the counter's price;
- offline sales are paid in cash (wallet and points need the server): other methods are
  `rejected(offline_payment_not_allowed)`.
A batch is one transaction with a savepoint per sale: one bad sale never holds up the
others (its savepoint is rolled back, the rest commit). The batch's products, barcodes,
member prices and already-recorded sales are read once for the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from linli.accounts.member_codes import (
    MemberCodeExpired,
    MemberCodeInvalid,
    MemberCodeUsed,
    member_code_accept,
)
from linli.accounts.models import User
from linli.core.errors import DomainError
from linli.inventory.counter import stock_lock_batch, stock_take_sold
from linli.merchants.models import Product, Store

from . import points
from .models import Counter, MemberPrice, Sale, SaleLine, SyncBatch, SyncConflict
from .services import (
    LineCatalog,
    counter_for,
    line_catalog,
    request_hash,
    sale_lines_resolve,
    staff_store,
)

MAX_BATCH = 500
CLOCK_SKEW = timedelta(minutes=5)
OFFLINE_MAX_AGE = timedelta(days=7)
C = SyncConflict.Kind


@dataclass
class SaleOutcome:
    client_sale_id: str
    status: str  # accepted | duplicate | conflict | rejected
    sale_id: str | None = None
    reasons: list[str] = field(default_factory=list)
    sale: Sale | None = None  # the sale recorded by this upload (not part of the answer)

    def as_dict(self) -> dict[str, Any]:
        return {"client_sale_id": self.client_sale_id, "status": self.status, "sale_id": self.sale_id,
                "reasons": self.reasons}


class Rejected(Exception):
    def __init__(self, reason: str, **details: Any) -> None:
        self.reason, self.details = reason, details
        super().__init__(reason)


def sync_upload(*, actor: User, counter_id: str, sales: list[dict[str, Any]]) -> SyncBatch:
    """Record a batch of offline sales; the batch row lists what became of each."""
    counter = Counter.objects.filter(public_id=counter_id, is_active=True).select_related("store").first()
    if counter is None:
        from .services import CounterNotFound

        raise CounterNotFound(counter_id=counter_id)
    store, _role = staff_store(actor=actor, store_id=counter.store.public_id)
    counter_for(store=store, counter_id=counter_id)
    if not isinstance(sales, list) or not 0 < len(sales) <= MAX_BATCH:
        from linli.core.errors import InvalidInput

        raise InvalidInput(field="sales", maximum=MAX_BATCH)
    with transaction.atomic():
        batch = SyncBatch.objects.create(store=store, counter=counter, uploaded_by=actor)
        known = _batch_known(store, sales)
        stock_lock_batch(store_id=store.pk, product_ids=[pk for pk, product in known.catalog.products.items()
                                                         if product.kind == Product.Kind.GOODS])
        outcomes = [_one(batch, store, counter, actor, body, known) for body in sales]
        for outcome in outcomes:
            setattr(batch, outcome.status, getattr(batch, outcome.status) + 1)
        batch.results = [o.as_dict() for o in outcomes]
        batch.save(update_fields=["accepted", "duplicate", "conflict", "rejected", "results"])
    return batch


@dataclass
class BatchKnown:
    """What a batch's sales need from the database, read once (four queries)."""

    catalog: LineCatalog
    member_prices: dict[int, int]  # product pk -> member price
    sales: dict[str, Sale]  # client sale id -> sale already recorded (kept current)


def _batch_known(store: Store, sales: list[Any]) -> BatchKnown:
    bodies = [body for body in sales if isinstance(body, dict)]
    catalog = line_catalog(store=store, line_lists=[body.get("lines") for body in bodies])
    prices = dict(MemberPrice.objects.filter(product_id__in=list(catalog.products))
                  .values_list("product_id", "price_fen")) if catalog.products else {}
    ids = {cid for cid in (_client_id(body) for body in bodies) if cid}
    existing = {sale.client_sale_id: sale for sale in Sale.objects.filter(store=store, client_sale_id__in=ids)
                .only("pk", "public_id", "client_sale_id", "request_hash")} if ids else {}
    return BatchKnown(catalog, prices, existing)


def _client_id(body: Any) -> str:
    value = body.get("client_sale_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else ""


def _one(batch: SyncBatch, store: Store, counter: Counter, actor: User, body: Any,
         known: BatchKnown | None = None) -> SaleOutcome:
    client_id = _client_id(body)
    if not client_id:
        _conflict(batch, store, None, str(body.get("client_sale_id", ""))[:64] if isinstance(body, dict) else "",
                  C.REJECTED, "invalid_sale", {"body": body if isinstance(body, dict) else str(body)[:500]})
        return SaleOutcome(client_id, "rejected", reasons=["invalid_sale"])
    digest = request_hash(body)
    existing = (known.sales.get(client_id) if known is not None
                else Sale.objects.filter(store=store, client_sale_id=client_id).first())
    if existing is not None:
        return _seen(batch, store, existing, client_id, digest)
    try:
        with transaction.atomic():
            outcome = _record(batch, store, counter, actor, body, client_id, digest, known)
        if known is not None and outcome.sale is not None:
            known.sales[client_id] = outcome.sale
        return outcome
    except Rejected as exc:
        details = {"body": body, **exc.details}
        if not SyncConflict.objects.filter(store=store, client_sale_id=client_id, reason=exc.reason,
                                           sale=None).exists():
            _conflict(batch, store, None, client_id, C.REJECTED, exc.reason, details)
        return SaleOutcome(client_id, "rejected", reasons=[exc.reason])
    except IntegrityError:  # the same sale committed by a concurrent upload a moment ago
        existing = Sale.objects.filter(store=store, client_sale_id=client_id).first()
        if existing is None:
            raise
        return _seen(batch, store, existing, client_id, digest)


def _seen(batch: SyncBatch, store: Store, existing: Sale, client_id: str, digest: str) -> SaleOutcome:
    if existing.request_hash == digest:
        return SaleOutcome(client_id, "duplicate", sale_id=existing.public_id)
    _conflict(batch, store, existing, client_id, C.SALE_ID_REUSED, "sale_id_reused", {})
    return SaleOutcome(client_id, "conflict", sale_id=existing.public_id, reasons=["sale_id_reused"])


def _conflict(batch: SyncBatch, store: Store, sale: Sale | None, client_id: str, kind: Any, reason: str,
              details: dict[str, Any]) -> None:
    SyncConflict.objects.create(store=store, batch=batch, sale=sale, client_sale_id=client_id, kind=kind,
                                reason=reason, details=details)


def _sale_time(body: dict[str, Any], now: datetime) -> datetime:
    raw = body.get("client_created_at")
    at = parse_datetime(raw) if isinstance(raw, str) else None
    if at is None or at.tzinfo is None or not now - OFFLINE_MAX_AGE <= at <= now + CLOCK_SKEW:
        return now  # no usable clock: judge by the upload time
    return at


def _record(batch: SyncBatch, store: Store, counter: Counter, actor: User, body: dict[str, Any],
            client_id: str, digest: str, known: BatchKnown | None = None) -> SaleOutcome:
    now = timezone.now()
    lines = body.get("lines")
    if body.get("payment_method", "cash") != Sale.Method.CASH or body.get("points_to_redeem"):
        raise Rejected("offline_payment_not_allowed")
    if not isinstance(lines, list):
        raise Rejected("invalid_sale")
    try:
        resolved = sale_lines_resolve(store=store, lines=lines, catalog=known.catalog if known else None)
    except DomainError as exc:
        raise Rejected(exc.code, **exc.details) from None
    units = [line.get("unit_price_fen") for line in lines]
    if not all(isinstance(u, int) and not isinstance(u, bool) and 0 <= u <= 10_000_000 for u in units):
        raise Rejected("invalid_sale", field="unit_price_fen")
    total = body.get("total_fen")
    computed = sum(u * q for u, (_p, _b, q) in zip(units, resolved, strict=True))
    if not isinstance(total, int) or total != computed:
        raise Rejected("total_mismatch", total_fen=total, computed_fen=computed)
    at = _sale_time(body, now)
    items_fen = sum(p.price_fen * q for p, _b, q in resolved)
    conflicts: list[tuple[Any, str, dict[str, Any]]] = []  # (kind: TextChoices member, reason, details)
    member, use_id = None, ""
    code = body.get("member_code")
    if code:
        try:
            with transaction.atomic():
                accepted = member_code_accept(code=str(code), context=f"pos-offline:{counter.public_id}", at=at)
            member, use_id = accepted.user, accepted.use.public_id
        except (MemberCodeExpired, MemberCodeUsed, MemberCodeInvalid) as exc:
            conflicts.append((exc.code, exc.code, {}))
    # Every field known before the insert: the row is written once (points, if any, after).
    sale = Sale.objects.create(
        store=store, counter=counter, client_sale_id=client_id, request_hash=digest, member=member,
        member_code_use=use_id, items_fen=items_fen, member_discount_fen=max(items_fen - total, 0),
        total_fen=total, paid_fen=total, payment_method=Sale.Method.CASH, cashier=actor, offline=True,
        client_created_at=at)
    prices = known.member_prices if known is not None else dict(
        MemberPrice.objects.filter(product_id__in=[p.pk for p, _b, _q in resolved])
        .values_list("product_id", "price_fen"))
    rows = []
    for i, ((product, barcode, quantity), unit) in enumerate(zip(resolved, units, strict=True), start=1):
        allowed = {product.price_fen, prices.get(product.pk, product.price_fen)}
        if unit not in allowed:
            conflicts.append((C.PRICE_DIFFERS, "price_differs", {
                "product_id": product.public_id, "unit_price_fen": unit, "catalogue_fen": sorted(allowed)}))
        rows.append(SaleLine(sale=sale, position=i, product=product, barcode=barcode, name=product.name,
                             quantity=quantity, unit_price_fen=product.price_fen,
                             member_price_fen=prices.get(product.pk), charged_unit_fen=unit,
                             amount_fen=unit * quantity))
    SaleLine.objects.bulk_create(rows)
    counted = [(p, q) for p, _b, q in resolved if p.kind == Product.Kind.GOODS]
    short = stock_take_sold(store_id=store.pk, lines=counted, reference=sale.public_id, actor=actor)
    by_pk = {p.pk: p for p, _b, _q in resolved}
    for pid, (wanted, missing) in sorted(short.items()):
        conflicts.append((C.STOCK_SHORT, "stock_short", {"product_id": by_pk[pid].public_id,
                                                          "quantity": wanted, "short": missing}))
    if member is not None:
        txn = points.points_earn(member=member, key=f"earn:{sale.public_id}", paid_fen=sale.paid_fen,
                                 reference=sale.public_id, actor=actor, at=at)
        sale.points_earned = txn.points if txn is not None else 0
        points.spend_record(member=member, key=f"sale:{sale.public_id}", amount_fen=sale.paid_fen, at=at)
        sale.save(update_fields=["points_earned", "updated_at"])
    if conflicts:
        SyncConflict.objects.bulk_create([
            SyncConflict(store=store, batch=batch, sale=sale, client_sale_id=client_id, kind=kind, reason=reason,
                         details=details) for kind, reason, details in conflicts])
    reasons = sorted({reason for _k, reason, _d in conflicts})
    return SaleOutcome(client_id, "conflict" if reasons else "accepted", sale_id=sale.public_id, reasons=reasons,
                       sale=sale)
