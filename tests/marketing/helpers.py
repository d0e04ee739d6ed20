"""Coupon templates and promotions for the marketing tests, saved after `full_clean` the
way the back office saves them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from linli.marketing.models import CouponTemplate, Promotion
from linli.merchants.models import Product, Store
from tests.fixtures import Api, delivery_address

_keys = iter(range(1, 10**9))


def make_template(**fields: Any) -> CouponTemplate:
    values: dict[str, Any] = {"name": "满30减5", "kind": "amount_off", "amount_fen": 500, "threshold_fen": 3000,
                              "valid_days": 7, "total_quota": 100, "per_user_limit": 1}
    values.update(fields)
    if values.get("valid_until") is not None:
        values["valid_days"] = None
    template = CouponTemplate(**values)
    template.full_clean()
    template.save()
    return template


def make_promotion(store: Store, **fields: Any) -> Promotion:
    now = timezone.now()
    values: dict[str, Any] = {"kind": "tiered", "name": "满减", "tiers": [[3000, 500], [5000, 1000], [8000, 1800]],
                              "starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=7)}
    values.update(fields)
    promotion = Promotion(store=store, **values)
    promotion.full_clean()
    promotion.save()
    return promotion


def place(api: Api, store: Store, product: Product, *, quantity: int = 1, coupon_id: str | None = None,
          fulfilment: str = "delivery", key: str | None = None, **extra: Any):
    """POST /orders for one product line, with a coupon when given."""
    body: dict[str, Any] = {"store_id": store.public_id, "fulfilment": fulfilment,
                            "items": [{"product_id": product.public_id, "quantity": quantity}], **extra}
    if fulfilment == "delivery":
        body["address"] = delivery_address()
    if coupon_id:
        body["coupon_id"] = coupon_id
    return api.post("/orders", body, headers={"Idempotency-Key": key or f"mk-{next(_keys)}"})
