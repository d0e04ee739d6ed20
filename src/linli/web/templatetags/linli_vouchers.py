"""The store page's group-buy deals (`{% store_deals store as deals %}`), read in its own
template so the shared store view stays as it is."""

from __future__ import annotations

from django import template

from linli.marketing.voucher_models import VoucherDeal
from linli.marketing.voucher_selectors import deals_of_store
from linli.merchants.models import Store

register = template.Library()


@register.simple_tag
def store_deals(store: Store) -> list[VoucherDeal]:
    return deals_of_store(store=store)
