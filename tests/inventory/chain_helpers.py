"""A small chain for the transfer, alert and routing tests: one owner, two or three
stores of one merchant, the same goods at each under one chain SKU."""

from __future__ import annotations

from dataclasses import dataclass

from linli.accounts.models import User
from linli.inventory.chains import chain_sku_set
from linli.merchants.models import Merchant, Product, Store
from tests.fixtures import (
    PASSWORD,
    Api,
    make_product,
    make_staff,
    make_store,
    next_phone,
    token_api,
)


@dataclass
class Chain:
    owner: User
    merchant: Merchant
    stores: list[Store]
    api: Api

    def product(self, store: Store, sku: str, *, stock: int, name: str | None = None) -> Product:
        product = make_product(store, name=name or f"货品{sku}", stock=stock)
        chain_sku_set(actor=self.owner, product_id=product.public_id, sku=sku)
        return product


def make_chain(*places: tuple[float, float]) -> Chain:
    owner = User.objects.create_user(username=f"owner-{next_phone()}", password=PASSWORD)
    first = make_store(name="连锁一店", lat=places[0][0], lng=places[0][1], owner=owner)
    stores = [first] + [make_store(name=f"连锁{i + 2}店", lat=lat, lng=lng, merchant=first.merchant)
                        for i, (lat, lng) in enumerate(places[1:])]
    return Chain(owner=owner, merchant=first.merchant, stores=stores, api=token_api(owner))


def member_api(store: Store, role: str) -> Api:
    return token_api(make_staff(store, role=role))
