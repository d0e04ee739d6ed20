"""Merchant and store writes. Onboarding and the full store profile come with issue 3."""

from __future__ import annotations

from typing import Any

import h3
from django.db import transaction

from linli.accounts.models import User

from .hours import hours_validate
from .models import Merchant, MerchantMember, Store

H3_RESOLUTION = 9  # ~0.1 km² hexagons: a few shop fronts each


def h3_cell_for(lat: float, lng: float) -> str:
    return h3.latlng_to_cell(lat, lng, H3_RESOLUTION)


@transaction.atomic
def merchant_create(*, name: str, owner: User, legal_name: str = "") -> Merchant:
    merchant = Merchant.objects.create(name=name, legal_name=legal_name)
    MerchantMember.objects.create(merchant=merchant, user=owner, role=MerchantMember.Role.OWNER)
    return merchant


def merchant_member_add(*, merchant: Merchant, user: User, role: str) -> MerchantMember:
    member, _ = MerchantMember.objects.update_or_create(
        merchant=merchant, user=user, defaults={"role": role}
    )
    return member


def store_build(*, merchant: Merchant, lat: float, lng: float, opening_hours: Any, **fields: Any) -> Store:
    """An unsaved store with derived fields filled, for `store_create` and bulk seeding."""
    return Store(
        merchant=merchant,
        lat=lat,
        lng=lng,
        h3_cell=h3_cell_for(lat, lng),
        opening_hours=hours_validate(opening_hours),
        **fields,
    )


def store_create(**kwargs: Any) -> Store:
    store = store_build(**kwargs)
    store.save()
    return store
