"""Reads about group-buy deals and vouchers, with the joins their callers show."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from linli.accounts.models import User
from linli.merchants import roles as merchant_roles
from linli.merchants.models import Store
from linli.merchants.selectors import store_for_member

from . import errors
from .voucher_models import Voucher, VoucherDeal, VoucherRedemption


def deals_of_store(*, store: Store, include_paused: bool = False) -> list[VoucherDeal]:
    """The store's deals on sale (and paused ones for its console), newest first."""
    statuses = [VoucherDeal.Status.ON_SALE] + ([VoucherDeal.Status.PAUSED] if include_paused else [])
    return list(VoucherDeal.objects.filter(store=store, status__in=statuses).select_related("store")
                .order_by("-id")[:50])


def deal_get(*, deal_id: str) -> VoucherDeal:
    deal = (VoucherDeal.objects.select_related("store").filter(public_id=deal_id).first()
            if "\x00" not in deal_id else None)
    if deal is None or deal.store.status == Store.Status.CLOSED:
        raise errors.VoucherDealNotFound(deal_id=deal_id)
    return deal


def vouchers_of(*, user: User, limit: int = 100) -> list[Voucher]:
    """The user's vouchers: to use first (soonest to expire first), then the ended ones, newest first."""
    active = list(Voucher.objects.filter(owner=user, status=Voucher.Status.ACTIVE)
                  .select_related("deal", "deal__store", "order").order_by("expires_at", "id")[:limit])
    ended = list(Voucher.objects.filter(owner=user).exclude(status=Voucher.Status.ACTIVE)
                 .select_related("deal", "deal__store", "order")
                 .order_by("-id")[:limit])
    return active + ended


def voucher_of(*, user: User, voucher_id: str) -> Voucher:
    voucher = (Voucher.objects.select_related("deal", "deal__store", "order")
               .filter(public_id=voucher_id, owner=user).first() if "\x00" not in voucher_id else None)
    if voucher is None:
        raise errors.VoucherNotFound(voucher_id=voucher_id)
    return voucher


def voucher_for_counter(*, actor: User, store_id: str, code: str) -> tuple[Store, Voucher]:
    """The voucher a counter is about to redeem (deal, uses left, expiry), for staff of the
    store; a code of another store's deal is `voucher_wrong_store` (nothing about it shown)."""
    from .voucher_services import voucher_by_code

    store, _role = store_for_member(user=actor, store_id=store_id, permission=merchant_roles.ORDERS_ACT)
    voucher = voucher_by_code(code=code)
    if voucher.deal.store_id != store.pk:
        raise errors.VoucherWrongStore()
    return store, voucher


def redemptions_of_store(*, actor: User, store_id: str, day: datetime | None = None,
                         limit: int = 200) -> tuple[Store, QuerySet[VoucherRedemption]]:
    """A store's redemptions of one local day (today by default), newest first."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=merchant_roles.ORDERS_ACT)
    tz = ZoneInfo(store.timezone)
    local = (day or timezone.now()).astimezone(tz).date()
    start = datetime.combine(local, time.min, tzinfo=tz)
    found = (VoucherRedemption.objects.filter(store=store, redeemed_at__gte=start,
                                              redeemed_at__lt=start + timedelta(days=1))
             .select_related("voucher", "voucher__deal", "actor").order_by("-redeemed_at", "-id")[:limit])
    return store, found
