"""Finance reads: a merchant's balances (from the ledger), its statements (one line per
entry: price, discounts by funder, commission, fee, net) as rows, CSV and XLSX, and the
30-day chart's series."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.merchants.models import Merchant, MerchantMember
from linli.payments.ledger import balance
from linli.payments.models import LedgerAccount

from . import postings
from .errors import BatchNotFound, MerchantNotFound, NotYourMerchant
from .models import FinanceEntry, MerchantHold, Payout, SettlementBatch


def _balance(code: str) -> int:
    return balance(code) if LedgerAccount.objects.filter(code=code).exists() else 0


def merchant_for_user(*, user: User, merchant_id: str = "") -> Merchant:
    """The merchant whose finances `user` may see: an owner or manager of it (operators
    any merchant)."""
    from linli.accounts.models import is_platform_staff  # support reads too; writes: operators

    merchant = Merchant.objects.filter(public_id=merchant_id).first() if merchant_id else None
    if merchant is not None and is_platform_staff(user):
        return merchant
    members = MerchantMember.objects.filter(user=user, role__in=("owner", "manager")).select_related("merchant")
    if merchant_id:
        members = members.filter(merchant__public_id=merchant_id)
    member = members.first()
    if member is None:
        # Someone else's merchant is "not found", never 403, so ids cannot be probed; a
        # cashier of this merchant is refused (403).
        if merchant_id and (merchant is None or not MerchantMember.objects.filter(
                user=user, merchant=merchant).exists()):
            raise MerchantNotFound(merchant_id=merchant_id)
        raise NotYourMerchant()
    return member.merchant


@dataclass(frozen=True)
class Balances:
    pending_fen: int  # earned, not yet due / settled (payable)
    settling_fen: int  # settled, payout on its way
    held_fen: int  # held batches and reserves
    paid_out_fen: int
    on_hold: bool

    @property
    def balance_fen(self) -> int:
        """Everything still owed to the merchant."""
        return self.pending_fen + self.settling_fen + self.held_fen


def merchant_balances(merchant: Merchant) -> Balances:
    paid = Payout.objects.filter(merchant=merchant, status=Payout.Status.PAID).aggregate(t=Sum("amount_fen"))["t"]
    return Balances(pending_fen=_balance(postings.payable(merchant)),
                    settling_fen=_balance(postings.settling(merchant)),
                    held_fen=_balance(postings.held(merchant)) + _balance(postings.reserve(merchant)),
                    paid_out_fen=int(paid or 0),
                    on_hold=MerchantHold.objects.filter(merchant=merchant, released_at__isnull=True).exists())


def daily_series(merchant: Merchant, *, days: int = 30, today: date | None = None) -> list[tuple[date, int, int]]:
    """(day, entries, net fen) for each of the last `days` days, oldest first."""
    today = today or postings.business_day(timezone.now())
    start = today - timedelta(days=days - 1)
    rows = {r["day"]: r for r in FinanceEntry.objects.filter(merchant=merchant, day__gte=start, day__lte=today)
            .values("day").annotate(n=Count("id"), net=Sum("net_fen"))}
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        row = rows.get(day)
        out.append((day, int(row["n"]) if row else 0, int(row["net"]) if row else 0))
    return out


def statement_entries(merchant: Merchant, *, day: date | None = None, batch_id: str = ""):  # type: ignore[no-untyped-def]
    rows = FinanceEntry.objects.filter(merchant=merchant)
    if batch_id:  # an unknown id is an error, not an empty statement (it also names the download)
        if not SettlementBatch.objects.filter(merchant=merchant, public_id=batch_id).exists():
            raise BatchNotFound(batch_id=batch_id)
        rows = rows.filter(batch__public_id=batch_id)
    elif day is not None:
        rows = rows.filter(day=day)
    return rows.select_related("batch").order_by("occurred_at", "id")


def batches(merchant: Merchant, *, limit: int = 30):  # type: ignore[no-untyped-def]
    return SettlementBatch.objects.filter(merchant=merchant).select_related("payout")[:limit]


COLUMNS = ("time", "kind", "channel", "reference", "price", "platform discount", "merchant discount",
           "paid", "platform subsidy", "commission", "fee", "platform delivery fee", "net", "due", "batch")


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def statement_rows(entries) -> list[list[str]]:  # type: ignore[no-untyped-def]
    out = []
    for e in entries:
        price = e.goods_fen + e.delivery_fee_fen
        out.append([timezone.localtime(e.occurred_at, postings.CHINA).strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.channel,
                    e.ref, _yuan(price), _yuan(e.platform_discount_fen), _yuan(e.merchant_discount_fen),
                    _yuan(e.paid_fen), _yuan(e.subsidy_fen), _yuan(e.commission_fen), _yuan(e.fee_fen),
                    _yuan(e.delivery_fen), _yuan(e.net_fen), e.due_on.isoformat(),
                    e.batch.public_id if e.batch_id else ""])
    return out


def statement_header() -> list[str]:
    labels = {"time": _("Time"), "kind": _("Kind"), "channel": _("Channel"), "reference": _("Reference"),
              "price": _("Price"), "platform discount": _("Platform-funded discount"),
              "merchant discount": _("Merchant-funded discount"), "paid": _("Paid by customer"),
              "platform subsidy": _("Platform subsidy"), "commission": _("Commission"), "fee": _("Payment fee"),
              "platform delivery fee": _("Delivery fee to platform"), "net": _("Net"), "due": _("Due"),
              "batch": _("Batch")}
    return [str(labels[c]) for c in COLUMNS]


def statement_csv(entries) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(statement_header())
    entries = list(entries)
    writer.writerows(statement_rows(entries))
    total = sum(e.net_fen for e in entries)
    writer.writerow([str(_("Total"))] + [""] * 11 + [_yuan(total), "", ""])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def statement_xlsx(entries) -> bytes:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("Statement"))[:31]
    sheet.append(statement_header())
    for e in entries:
        price = e.goods_fen + e.delivery_fee_fen
        sheet.append([timezone.localtime(e.occurred_at, postings.CHINA).replace(tzinfo=None), e.kind, e.channel,
                      e.ref] + [v / 100 for v in (price, e.platform_discount_fen, e.merchant_discount_fen, e.paid_fen,
                                                  e.subsidy_fen, e.commission_fen, e.fee_fen, e.delivery_fen,
                                                  e.net_fen)]
                     + [e.due_on, e.batch.public_id if e.batch_id else ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def platform_revenue_fen() -> int:
    """Commission + fees (payment fees, delivery income) - subsidies, from the ledger."""
    return (_balance(postings.COMMISSION) + _balance(postings.GATEWAY_FEE) + _balance(postings.DELIVERY)
            - _balance(postings.SUBSIDY))

