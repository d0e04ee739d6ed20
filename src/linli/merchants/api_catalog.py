"""Catalog endpoints: the public menu of a store (and, with issue 3, menu management)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from .selectors import store_get, store_menu

router = Router(tags=["stores"])


class ProductOut(Schema):
    id: str
    name: str
    description: str
    price_fen: int
    stock: int


class MenuSection(Schema):
    name: str
    products: list[ProductOut]


class MenuOut(Schema):
    store_id: str
    sections: list[MenuSection]


@router.get("/stores/{store_id}/menu", response=MenuOut, summary="The store's menu with stock")
def menu(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store = store_get(public_id=store_id)
    sections = [
        {
            "name": section.name,
            "products": [
                {"id": p.public_id, "name": p.name, "description": p.description,
                 "price_fen": p.price_fen, "stock": getattr(getattr(p, "stock", None), "quantity", 0)}
                for p in section.products.all()
            ],
        }
        for section in store_menu(store=store)
    ]
    return {"store_id": store.public_id, "sections": sections}
