"""Counter use cases: set-up (counters, barcodes, member prices), identify a member by
code, ring up a sale, return at the counter (docs/pos.md).

Who may do what (checked here with the table of `merchants.roles`):
- sell, identify a member, upload offline sales: any member of the store's merchant
  (`orders.act`: owner, manager, cashier);
- register counters, barcodes, member prices; resolve conflicts: `menu.edit` / `stock.set`
  (owner, manager);
- a return: `stock.set` (owner, manager), or the cashier who rang the sale up, on the
  same store-local day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.member_codes import member_code_accept
from linli.accounts.models import MemberCodeUse, User
from linli.accounts.phone import phone_normalise
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linli.inventory.services import stock_commit, stock_reserve, stock_restock
from linli.merchants import roles
from linli.merchants.models import Product, Store
from linli.merchants.selectors import (
    StoreNotFound,
    store_for_member,
)

from . import points
from .ean import ean13_valid
from .models import (
    Counter,
    MemberPrice,
    PhoneSale,
    ProductBarcode,
    Sale,
    SaleLine,
    SaleReturn,
    SaleReturnLine,
)

M = Sale.Method
MAX_LINES = 200
MAX_QUANTITY = 9_999
TICKET_MAX_AGE_S = 15 * 60
TICKET_SALT = "linli.pos.member-ticket"


class InvalidBarcode(InvalidInput):
    code = "invalid_barcode"
    message = _("The barcode is not a valid EAN-13 code (check digit).")


class UnknownProduct(NotFound):
    code = "unknown_product"
    message = _("No product of this store has this id or barcode.")


class BarcodeTaken(Conflict):
    code = "barcode_taken"
    message = _("Another product of this store already has this barcode.")


class CounterNotFound(NotFound):
    code = "counter_not_found"
    message = _("There is no such counter at this store.")


class SaleNotFound(NotFound):
    code = "sale_not_found"
    message = _("There is no such sale.")


class SaleIdReused(Conflict):
    code = "sale_id_reused"
    message = _("This sale id was already used for a different sale.")


class TotalMismatch(Conflict):
    code = "total_mismatch"
    message = _("The totals do not match the lines; the sale was not recorded.")


class MemberRequired(InvalidInput):
    code = "member_required"
    message = _("Identify the member first (member code) for wallet payment or points.")


class MemberTicketInvalid(InvalidInput):
    code = "member_ticket_invalid"
    message = _("The member identification has expired or is not for this store; scan the member code again.")


class PaymentMethodUnavailable(InvalidInput):
    code = "payment_method_unavailable"
    message = _("This payment method is not available at the counter yet.")


class ReturnExceedsSale(Conflict):
    code = "return_exceeds_sale"
    message = _("More units would be returned than were bought.")


class InvalidReturn(InvalidInput):
    code = "invalid_return"
    message = _("The return lines are not valid.")


class SaleNotReturnable(Conflict):
    code = "sale_not_returnable"
    message = _("Only a completed sale can be returned (this one is unpaid or voided).")


class ReturnNotAllowed(PermissionDenied):
    code = "return_not_allowed"
    message = _("Returns need a manager, or the cashier's own sale on the same day.")


# --- who is acting where -----------------------------------------------------------------

def staff_store(*, actor: User, store_id: str, permission: str = roles.ORDERS_ACT) -> tuple[Store, str]:
    """The store and the actor's role there; strangers get 404 (the store's existence is
    not revealed), members without the permission 403."""
    return store_for_member(user=actor, store_id=store_id, permission=permission)


def counter_for(*, store: Store, counter_id: str) -> Counter:
    counter = Counter.objects.filter(public_id=counter_id, store=store, is_active=True).first()
    if counter is None:
        raise CounterNotFound(counter_id=counter_id)
    return counter


def counter_register(*, actor: User, store_id: str, name: str) -> Counter:
    store, _role = staff_store(actor=actor, store_id=store_id, permission=roles.MENU_EDIT)
    if not name.strip() or len(name) > 50:
        raise InvalidInput(field="name")
    return Counter.objects.create(store=store, name=name.strip(), created_by=actor)


def _product_of(store: Store, product_id: str) -> Product:
    product = Product.objects.filter(public_id=product_id, store=store).first()
    if product is None:
        raise UnknownProduct(product_id=product_id)
    return product


def barcode_set(*, actor: User, store_id: str, product_id: str, code: str) -> ProductBarcode:
    store, _role = staff_store(actor=actor, store_id=store_id, permission=roles.MENU_EDIT)
    if not ean13_valid(code):
        raise InvalidBarcode(barcode=str(code)[:20])
    product = _product_of(store, product_id)
    try:
        with transaction.atomic():
            return ProductBarcode.objects.create(store=store, product=product, code=code)
    except IntegrityError:
        existing = ProductBarcode.objects.get(store=store, code=code)
        if existing.product_id == product.pk:
            return existing
        raise BarcodeTaken(barcode=code) from None


def member_price_set(*, actor: User, store_id: str, product_id: str, price_fen: int | None) -> None:
    store, _role = staff_store(actor=actor, store_id=store_id, permission=roles.MENU_EDIT)
    product = _product_of(store, product_id)
    if price_fen is None:
        MemberPrice.objects.filter(product=product).delete()
        return
    if not 0 < price_fen <= product.price_fen:
        raise InvalidInput(field="price_fen", maximum=product.price_fen)
    MemberPrice.objects.update_or_create(product=product, defaults={"store": store, "price_fen": price_fen})


# --- members at the counter ------------------------------------------------------------------

@dataclass(frozen=True)
class MemberAtCounter:
    user: User
    ticket: str
    tier: str
    points: int
    wallet_fen: int


def member_summary(user: User) -> tuple[str, int, int]:
    from linli.payments.services import wallet_balance

    return points.member_tier(user), points.points_balance(user), wallet_balance(user).total_fen


def member_identify(*, actor: User, store_id: str, code: str, counter_id: str = "") -> MemberAtCounter:
    """Scan a member code: accepted once, answered with a ticket the sale carries (valid
    15 minutes, at this store, for one sale)."""
    store, _role = staff_store(actor=actor, store_id=store_id)
    context = f"pos:{store.public_id}:{counter_id}"[:80]
    accepted = member_code_accept(code=code, context=context)
    ticket = signing.dumps({"use": accepted.use.public_id, "store": store.public_id}, salt=TICKET_SALT)
    tier, balance, wallet = member_summary(accepted.user)
    return MemberAtCounter(user=accepted.user, ticket=ticket, tier=tier, points=balance, wallet_fen=wallet)


def _member_from_ticket(ticket: str, store: Store) -> tuple[User, str]:
    try:
        data = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE_S)
    except signing.BadSignature:
        raise MemberTicketInvalid() from None
    if data.get("store") != store.public_id:
        raise MemberTicketInvalid()
    use = MemberCodeUse.objects.filter(public_id=data.get("use")).select_related("key__user").first()
    if use is None:
        raise MemberTicketInvalid()
    return use.key.user, use.public_id


# --- pricing a sale ---------------------------------------------------------------------------

@dataclass
class PricedLine:
    product: Product
    barcode: str
    quantity: int
    unit_price_fen: int
    member_price_fen: int | None
    charged_unit_fen: int

    @property
    def amount_fen(self) -> int:
        return self.charged_unit_fen * self.quantity


@dataclass
class PricedSale:
    lines: list[PricedLine] = field(default_factory=list)

    @property
    def items_fen(self) -> int:
        return sum(line.unit_price_fen * line.quantity for line in self.lines)

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


@dataclass
class LineCatalog:
    """The store's products that some lines name, by barcode and by public id: read once
    for a whole offline batch (`line_catalog`), or per sale."""

    by_code: dict[str, int]  # barcode -> product pk
    products: dict[int, Product]  # pk -> product
    by_public: dict[str, Product]


def line_catalog(*, store: Store, line_lists: list[Any]) -> LineCatalog:
    """Two queries for every product named by any of these lists of lines (malformed
    entries are skipped here; `sale_lines_resolve` refuses them)."""
    codes: set[str] = set()
    ids: set[str] = set()
    for lines in line_lists:
        for line in lines if isinstance(lines, list) else []:
            if not isinstance(line, dict):
                continue
            barcode, product_id = line.get("barcode"), line.get("product_id")
            if isinstance(barcode, str):
                codes.add(barcode)
            elif barcode is None and isinstance(product_id, str):
                ids.add(product_id)
    by_code = {b.code: b.product_id for b in ProductBarcode.objects.filter(store=store, code__in=codes)} \
        if codes else {}
    products = {p.pk: p for p in Product.objects.filter(store=store).filter(
        public_id__in=ids) | Product.objects.filter(store=store, pk__in=set(by_code.values()))}
    return LineCatalog(by_code, products, {p.public_id: p for p in products.values()})


def sale_lines_resolve(*, store: Store, lines: list[dict[str, Any]],
                       catalog: LineCatalog | None = None) -> list[tuple[Product, str, int]]:
    """(product, barcode, quantity) for lines given by `product_id` or EAN-13 `barcode`
    (two queries whatever the number of lines; none with a `catalog` read beforehand)."""
    if not lines or len(lines) > MAX_LINES:
        raise InvalidInput(field="lines", maximum=MAX_LINES)
    for line in lines:
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
            raise InvalidInput(field="quantity", maximum=MAX_QUANTITY)
        barcode = line.get("barcode")
        if barcode is not None and not ean13_valid(barcode):
            raise InvalidBarcode(barcode=str(barcode)[:20])
        if barcode is None and not isinstance(line.get("product_id"), str):
            raise InvalidInput(field="product_id")
    known = catalog if catalog is not None else line_catalog(store=store, line_lists=[lines])
    by_code, products, by_public = known.by_code, known.products, known.by_public
    out = []
    for line in lines:
        if line.get("barcode") is not None:
            pk = by_code.get(line["barcode"])
            if pk is None:
                raise UnknownProduct(barcode=line["barcode"])
            out.append((products[pk], line["barcode"], line["quantity"]))
        else:
            product = by_public.get(line["product_id"])
            if product is None:
                raise UnknownProduct(product_id=line["product_id"])
            out.append((product, "", line["quantity"]))
    return out


def sale_price(*, resolved: list[tuple[Product, str, int]], member: bool) -> PricedSale:
    prices = dict(MemberPrice.objects.filter(product_id__in=[p.pk for p, _b, _q in resolved])
                  .values_list("product_id", "price_fen"))
    priced = PricedSale()
    for product, barcode, quantity in resolved:
        member_price = prices.get(product.pk)
        charged = member_price if member and member_price is not None else product.price_fen
        priced.lines.append(PricedLine(product, barcode, quantity, product.price_fen, member_price, charged))
    return priced


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


# --- ringing up a sale -----------------------------------------------------------------------

@dataclass(frozen=True)
class SaleResult:
    sale: Sale
    created: bool


def _sale_rows(sale: Sale, priced: PricedSale) -> None:
    SaleLine.objects.bulk_create([
        SaleLine(sale=sale, position=i, product=line.product, barcode=line.barcode, name=line.product.name,
                 quantity=line.quantity, unit_price_fen=line.unit_price_fen,
                 member_price_fen=line.member_price_fen, charged_unit_fen=line.charged_unit_fen,
                 amount_fen=line.amount_fen)
        for i, line in enumerate(priced.lines, start=1)])


def _counted(priced: PricedSale) -> list[tuple[Product, int]]:
    return [(line.product, line.quantity) for line in priced.lines if line.product.kind == Product.Kind.GOODS]


def sale_ring_up(*, actor: User, store_id: str, counter_id: str, client_sale_id: str,
                 lines: list[dict[str, Any]], payment_method: str, member_ticket: str = "",
                 points_to_redeem: int = 0, expected_total_fen: int | None = None,
                 member_phone: str = "") -> SaleResult:
    """A live sale at the counter, in one transaction: the sale and its lines, the stock
    (reserve + commit on the same ledger as online orders: refused with
    `stock_insufficient` when short), points redeemed, the payment (cash; wallet by the
    identified member), points earned. `gateway_qr`: the units are only held and the
    sale waits for the gateway (`gateway_sales`): it completes on a verified notification
    or query, and is voided if the QR closes unpaid. Retrying the same `client_sale_id` with the same
    body returns the first sale; with another body: `sale_id_reused`.

    `member_phone` instead of a member code: the sale is kept against that phone (list
    prices, cash, no points) until its owner proves the phone by SMS login
    (`phone_sales.phone_sales_attach`)."""
    store, role = staff_store(actor=actor, store_id=store_id)
    counter = counter_for(store=store, counter_id=counter_id)
    if not client_sale_id or len(client_sale_id) > 64:
        raise InvalidInput(field="client_sale_id")
    body = {"counter": counter_id, "lines": lines, "payment_method": payment_method,
            "member": bool(member_ticket), "points": points_to_redeem}
    phone = ""
    if member_phone:
        if member_ticket:
            raise InvalidInput(field="member_phone", reason="member_code_and_phone")
        phone = phone_normalise(member_phone, region=settings.LINLI_DEFAULT_REGION)
        body["phone"] = phone  # only then: hashes of sales without a phone stay as they were
    digest = request_hash(body)
    existing = Sale.objects.filter(store=store, client_sale_id=client_sale_id).first()
    if existing is not None:
        return _replayed(existing, digest)
    if payment_method not in M.values:
        raise InvalidInput(field="payment_method", allowed=list(M.values))
    if payment_method == M.GATEWAY_QR and phone:
        raise PaymentMethodUnavailable(payment_method=payment_method, reason="not_with_member_phone")
    if not isinstance(points_to_redeem, int) or points_to_redeem < 0:
        raise InvalidInput(field="points_to_redeem")
    member, use_id = (None, "")
    if member_ticket:
        member, use_id = _member_from_ticket(member_ticket, store)
    if (payment_method == M.WALLET or points_to_redeem) and member is None:
        raise MemberRequired()
    priced = sale_price(resolved=sale_lines_resolve(store=store, lines=lines), member=member is not None)
    if expected_total_fen is not None and expected_total_fen != priced.total_fen:
        raise TotalMismatch(expected_total_fen=expected_total_fen, total_fen=priced.total_fen)
    try:
        with transaction.atomic():
            sale = _sale_create(store=store, counter=counter, actor=actor, client_sale_id=client_sale_id,
                                digest=digest, priced=priced, member=member, use_id=use_id,
                                payment_method=payment_method, points_to_redeem=points_to_redeem, role=role)
            if phone:
                PhoneSale.objects.create(sale=sale, store=store, phone=phone, recorded_by=actor)
    except IntegrityError:
        # The same sale id committed by a concurrent upload, or the member ticket already
        # paid for another sale; the first one stands.
        existing = Sale.objects.filter(store=store, client_sale_id=client_sale_id).first()
        if existing is None:
            raise MemberTicketInvalid() from None
        return _replayed(existing, digest)
    return SaleResult(sale, True)


def _replayed(existing: Sale, digest: str) -> SaleResult:
    if existing.request_hash != digest:
        raise SaleIdReused(sale_id=existing.client_sale_id)
    return SaleResult(existing, False)


def _sale_create(*, store: Store, counter: Counter, actor: User, client_sale_id: str, digest: str,
                 priced: PricedSale, member: User | None, use_id: str, payment_method: str,
                 points_to_redeem: int, role: str = "") -> Sale:
    # The row first: its unique (store, client_sale_id) makes a concurrent duplicate wait
    # here and fail, before either touches stock or money.
    sale = Sale.objects.create(
        store=store, counter=counter, client_sale_id=client_sale_id, request_hash=digest, member=member,
        member_code_use=use_id, items_fen=priced.items_fen,
        member_discount_fen=priced.items_fen - priced.total_fen, total_fen=priced.total_fen,
        paid_fen=priced.total_fen, payment_method=payment_method, cashier=actor)
    _sale_rows(sale, priced)
    counted = _counted(priced)
    if counted:
        stock_reserve(store_id=store.pk, lines=counted, reference=sale.public_id, actor=actor)
    if member is not None:
        value = points.points_redeem(member=member, points=points_to_redeem, total_fen=sale.total_fen,
                                     key=f"redeem:{sale.public_id}", reference=sale.public_id, actor=actor)
        sale.points_redeemed, sale.points_value_fen = points_to_redeem, value
        sale.paid_fen = sale.total_fen - value
        if payment_method == M.WALLET and sale.paid_fen > 0:
            from linli.payments.services import counter_wallet_charge

            payment = counter_wallet_charge(payer=member, amount_fen=sale.paid_fen, reference=sale.public_id,
                                            actor=actor)
            sale.payment_id = payment.public_id
    if payment_method == M.GATEWAY_QR and sale.paid_fen > 0:
        # Held, not sold: the sale completes on the gateway's verified word (gateway_sales).
        from .gateway_sales import sale_qr_open

        sale_qr_open(sale=sale, actor=actor, role=role or "merchant")
    else:
        if counted:
            stock_commit(reference=sale.public_id, actor=actor)
        if member is not None:
            _sale_earn(sale, member, actor)
    sale.save(update_fields=["points_redeemed", "points_value_fen", "paid_fen", "payment_id",
                             "points_earned", "status", "updated_at"])
    return sale


def _sale_earn(sale: Sale, member: User, actor: User | None) -> None:
    txn = points.points_earn(member=member, key=f"earn:{sale.public_id}", paid_fen=sale.paid_fen,
                             reference=sale.public_id, actor=actor)
    sale.points_earned = txn.points if txn is not None else 0
    points.spend_record(member=member, key=f"sale:{sale.public_id}", amount_fen=sale.paid_fen)


# --- returns at the counter ------------------------------------------------------------------

def _may_return(*, actor: User, role: str, sale: Sale, store: Store) -> None:
    if roles.allows(role, roles.STOCK_SET):
        return
    tz = ZoneInfo(store.timezone)
    if sale.cashier_id == actor.pk and sale.created_at.astimezone(tz).date() == timezone.now().astimezone(tz).date():
        return
    raise ReturnNotAllowed(sale_id=sale.public_id)


def sale_get(*, actor: User, sale_id: str) -> Sale:
    sale = Sale.objects.filter(public_id=sale_id).select_related("store", "member", "cashier", "counter").first()
    if sale is None:
        raise SaleNotFound(sale_id=sale_id)
    try:
        staff_store(actor=actor, store_id=sale.store.public_id)
    except (StoreNotFound, PermissionDenied):
        raise SaleNotFound(sale_id=sale_id) from None
    return sale


def sale_return(*, actor: User, sale_id: str, client_return_id: str, lines: list[dict[str, int]],
                reason: str = "") -> SaleReturn:
    """Take goods back: stock back on the ledger (`restock`, reference = the return), the
    money back the way it was paid (wallet: `counter_wallet_refund`; cash: the drawer),
    redeemed points back and earned points taken back, all in proportion of the units'
    share. Never more units than bought minus already returned; the last units return
    everything still left, so returns sum exactly to the sale. Idempotent per
    `client_return_id`."""
    sale = sale_get(actor=actor, sale_id=sale_id)
    store = sale.store
    _store, role = staff_store(actor=actor, store_id=store.public_id)
    _may_return(actor=actor, role=role, sale=sale, store=store)
    if not client_return_id or len(client_return_id) > 64:
        raise InvalidInput(field="client_return_id")
    digest = request_hash({"lines": lines})
    done = SaleReturn.objects.filter(sale=sale, client_return_id=client_return_id).first()
    if done is not None:
        if done.request_hash != digest:
            raise SaleIdReused(return_id=client_return_id)
        return done
    if not lines or len(lines) > MAX_LINES:
        raise InvalidReturn()
    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=sale.pk)
        if sale.status not in (Sale.Status.COMPLETED, Sale.Status.PARTIALLY_RETURNED):
            raise SaleNotReturnable(sale_id=sale.public_id, status=sale.status)
        by_position = {line.position: line for line in sale.lines.all()}
        wanted: dict[int, int] = {}
        for item in lines:
            position, quantity = item.get("line"), item.get("quantity")
            if (not isinstance(position, int) or position not in by_position or not isinstance(quantity, int)
                    or isinstance(quantity, bool) or quantity <= 0):
                raise InvalidReturn(line=position)
            wanted[position] = wanted.get(position, 0) + quantity
        for position, quantity in wanted.items():
            line = by_position[position]
            if line.returned_quantity + quantity > line.quantity:
                raise ReturnExceedsSale(line=position, bought=line.quantity, returned=line.returned_quantity,
                                        requested=quantity)
        goods = sum(by_position[p].charged_unit_fen * q for p, q in wanted.items())
        last = all(by_position[p].returned_quantity + wanted.get(p, 0) == by_position[p].quantity
                   for p in by_position)
        refunded_before = sale.refunded_fen
        returned_goods_before = sum(line.charged_unit_fen * line.returned_quantity for line in by_position.values())
        if last:
            refund = sale.paid_fen - refunded_before
            points_back = sale.points_redeemed - _points_back_before(sale)
        else:
            share_after = returned_goods_before + goods
            refund = sale.paid_fen * share_after // max(sale.total_fen, 1) - refunded_before
            points_back = (sale.points_redeemed * share_after // max(sale.total_fen, 1)
                           - _points_back_before(sale))
        ret = SaleReturn.objects.create(sale=sale, store=store, client_return_id=client_return_id,
                                        request_hash=digest, goods_fen=goods, refund_fen=refund,
                                        points_back=points_back, reason=reason[:200], actor=actor)
        SaleReturnLine.objects.bulk_create([SaleReturnLine(sale_return=ret, line=by_position[p], quantity=q)
                                            for p, q in wanted.items()])
        for position, quantity in wanted.items():
            SaleLine.objects.filter(pk=by_position[position].pk).update(
                returned_quantity=F("returned_quantity") + quantity)
            product = by_position[position].product
            if product.kind == Product.Kind.GOODS:
                stock_restock(product=product, quantity=quantity, actor=actor, reference=ret.public_id)
        sale.refunded_fen = refunded_before + refund
        sale.status = Sale.Status.RETURNED if last else Sale.Status.PARTIALLY_RETURNED
        sale.save(update_fields=["refunded_fen", "status", "updated_at"])
        if sale.member_id is not None:
            member = sale.member
            assert member is not None
            points.points_redeem_back(member=member, points=points_back, key=f"redeem_back:{ret.public_id}",
                                      reference=ret.public_id, actor=actor)
            ret.points_reversed = points.points_reverse_to(earn_key=f"earn:{sale.public_id}",
                                                           refunded_fen=sale.refunded_fen, actor=actor)
            points.spend_record(member=member, key=f"return:{ret.public_id}", amount_fen=-refund)
        if sale.payment_method in (M.WALLET, M.GATEWAY_QR) and sale.payment_id and refund > 0:
            from linli.payments.services import counter_wallet_refund

            ret.refund_id = counter_wallet_refund(payment_id=sale.payment_id, amount_fen=refund, actor=actor,
                                                  reason=reason or "counter return", batch=ret.public_id).public_id
        ret.save(update_fields=["points_reversed", "refund_id"])
    return ret


def _points_back_before(sale: Sale) -> int:
    return sum(SaleReturn.objects.filter(sale=sale).values_list("points_back", flat=True))
