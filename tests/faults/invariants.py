"""What must hold in the database after any fault: read-only checks over orders, stock,
payments and the ledger. Each answers a list of problems (empty: the data holds), so a
fault test can print every inconsistency it found before failing."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from linli.inventory.models import StockItem, StockMovement, StockReservation
from linli.orders.models import Order, OrderEvent, OrderItem
from linli.orders.states import S
from linli.payments import ledger
from linli.payments.models import LedgerTransaction, Payment, Refund, SandboxTrade

RS = StockReservation.Status
# What an order's reservations must be, by the order's status (every product is counted).
RESERVATION_FOR = {S.PENDING_PAYMENT: RS.HELD, S.CANCELLED: RS.RELEASED, S.PAID: RS.COMMITTED,
                   S.ACCEPTED: RS.COMMITTED, S.REFUNDING: RS.RETURNED, S.REFUNDED: RS.RETURNED}


def orders_problems() -> list[str]:
    """Every order has its lines, its `place` event, a status its last event led to, and
    reservations and stock ledger rows that match its lines and its status."""
    problems: list[str] = []
    lines: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, product_id, quantity in OrderItem.objects.values_list("order_id", "product_id", "quantity"):
        lines[order_id][product_id] += quantity
    last_event: dict[int, str] = {}
    placed: set[int] = set()
    for order_id, action, to_status in OrderEvent.objects.order_by("id").values_list(
            "order_id", "action", "to_status"):
        last_event[order_id] = to_status
        if action == "place":
            placed.add(order_id)
    reservations: dict[str, dict[int, tuple[int, str]]] = defaultdict(dict)
    for reference, product_id, quantity, status in StockReservation.objects.values_list(
            "reference", "product_id", "quantity", "status"):
        if product_id in reservations[reference]:
            problems.append(f"{reference}: two reservations of product {product_id}")
        reservations[reference][product_id] = (quantity, status)
    moved: dict[str, dict[int, tuple[int, int]]] = defaultdict(lambda: defaultdict(lambda: (0, 0)))
    for reference, product_id, delta, held in StockMovement.objects.exclude(reference="").values_list(
            "reference", "product_id", "delta", "reserved_delta"):
        d, h = moved[reference][product_id]
        moved[reference][product_id] = (d + delta, h + held)
    for order in Order.objects.only("id", "public_id", "status"):
        ref = order.public_id
        if order.status not in S.ALL:
            problems.append(f"{ref}: unknown status {order.status}")
        if not lines.get(order.pk):
            problems.append(f"{ref}: no lines")
        if order.pk not in placed:
            problems.append(f"{ref}: no place event")
        if last_event.get(order.pk) != order.status:
            problems.append(f"{ref}: status {order.status}, last event says {last_event.get(order.pk)}")
        wanted = RESERVATION_FOR.get(order.status)
        for product_id, quantity in lines.get(order.pk, {}).items():
            held = reservations.get(ref, {}).get(product_id)
            if held is None:
                problems.append(f"{ref}: no reservation for product {product_id}")
                continue
            if held[0] != quantity:
                problems.append(f"{ref}: reservation {held[0]} != lines {quantity} of product {product_id}")
            if wanted and held[1] != wanted:
                problems.append(f"{ref}: order {order.status} but reservation {held[1]}")
            delta, reserved = moved.get(ref, {}).get(product_id, (0, 0))
            # the order's ledger rows: units it still keeps off the shelf, units still held
            off_shelf = quantity if held[1] in (RS.HELD, RS.COMMITTED) else 0
            still_held = quantity if held[1] == RS.HELD else 0
            if -delta != off_shelf or reserved != still_held:
                problems.append(f"{ref}: ledger moves ({delta}, {reserved}) do not match a {held[1]} "
                                f"reservation of {quantity} (product {product_id})")
    orphans = set(reservations) - set(Order.objects.values_list("public_id", flat=True))
    problems += [f"reservation for an order that does not exist: {ref}" for ref in sorted(orphans)]
    return problems


def stock_problems(initial: dict[int, int]) -> list[str]:
    """Per product: the counts are the sums of the ledger, the held count is what held
    reservations hold, and nothing was created or lost: initial = available + held + sold."""
    problems: list[str] = []
    sums = {row["product_id"]: row for row in StockMovement.objects.values("product_id")
            .annotate(delta=Sum("delta"), held=Sum("reserved_delta"))}
    held = dict(StockReservation.objects.filter(status=RS.HELD).values("product_id")
                .annotate(q=Sum("quantity")).values_list("product_id", "q"))
    sold = dict(StockReservation.objects.filter(status=RS.COMMITTED).values("product_id")
                .annotate(q=Sum("quantity")).values_list("product_id", "q"))
    for item in StockItem.objects.filter(product_id__in=list(initial)):
        pid = item.product_id
        if item.quantity != sums[pid]["delta"]:
            problems.append(f"product {pid}: available {item.quantity} != ledger {sums[pid]['delta']}")
        if item.reserved != sums[pid]["held"] or item.reserved != held.get(pid, 0):
            problems.append(f"product {pid}: held {item.reserved}, ledger {sums[pid]['held']}, "
                            f"reservations {held.get(pid, 0)}")
        if initial[pid] != item.quantity + item.reserved + sold.get(pid, 0):
            problems.append(f"product {pid}: initial {initial[pid]} != available {item.quantity} + held "
                            f"{item.reserved} + sold {sold.get(pid, 0)}")
    return problems


def payments_problems() -> list[str]:
    """No payment without its order; a paid order has exactly its total paid, an unpaid one
    nothing kept; every success is in the ledger; clearing holds what paid orders paid;
    the wallet hold what open wallet parts hold; `ledger_verify` finds nothing."""
    problems = [f"ledger: {p.kind} {p.ref} {p.detail}" for p in ledger.ledger_verify()]
    captured = set(LedgerTransaction.objects.filter(key__startswith="capture:").values_list("key", flat=True))
    # a wallet part held for a gateway payment is captured with it (one ledger transaction)
    captured_with = {part: f"capture:{ref}" for ref, part in Payment.objects.filter(
        wallet_part__isnull=False).values_list("public_id", "wallet_part__public_id")}
    kept: dict[int, int] = defaultdict(int)
    clearing = hold = 0
    for payment in Payment.objects.all():
        ref = payment.public_id
        if payment.purpose == Payment.Purpose.ORDER and payment.order_id is None:
            problems.append(f"{ref}: an order payment without an order")
        paid = payment.status in Payment.PAID_STATES
        capture = captured_with.get(ref, f"capture:{ref}")
        if paid and capture not in captured:
            problems.append(f"{ref}: {payment.status} but no {capture} in the ledger")
        if not paid and capture in captured:
            problems.append(f"{ref}: {payment.status} yet {capture} is in the ledger")
        if payment.purpose != Payment.Purpose.ORDER:
            continue
        if paid:
            kept[payment.order_id] += payment.amount_fen - payment.refunded_fen
            clearing += payment.amount_fen - payment.refunded_fen
        elif payment.is_wallet and payment.status in Payment.OPEN_STATES:
            hold += payment.amount_fen
    for order in Order.objects.only("id", "public_id", "status", "total_fen"):
        mine = kept.get(order.pk, 0)
        if order.status in (S.PAID, S.ACCEPTED) and mine != order.total_fen:
            problems.append(f"{order.public_id}: {order.status}, total {order.total_fen}, paid {mine}")
        if order.status in (S.PENDING_PAYMENT, S.CANCELLED, S.REFUNDED) and mine:
            problems.append(f"{order.public_id}: {order.status} but {mine} fen kept")
    if ledger.balance(ledger.CLEARING) != clearing:
        problems.append(f"clearing {ledger.balance(ledger.CLEARING)} != order payments kept {clearing}")
    if ledger.balance(ledger.HOLD) != hold:
        problems.append(f"wallet hold {ledger.balance(ledger.HOLD)} != open wallet parts {hold}")
    for trade_no, out_trade_no in SandboxTrade.objects.filter(
            status=SandboxTrade.Status.SUCCESS).values_list("trade_no", "out_trade_no"):
        status = Payment.objects.filter(public_id=out_trade_no).values_list("status", flat=True).first()
        if status not in Payment.PAID_STATES:
            problems.append(f"sandbox trade {trade_no} paid, our payment {out_trade_no} is {status}")
    pending = Refund.objects.filter(status=Refund.Status.PENDING).count()
    if pending:
        problems.append(f"{pending} refunds still pending")
    return problems
