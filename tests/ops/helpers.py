"""Orders, users and applications at chosen moments, for the back office's numbers."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.contrib.auth.models import Permission
from django.test import Client

from linli.accounts.models import User
from linli.merchants.models import MerchantApplication, Product, Store
from linli.orders.models import Order
from linli.orders.services import LineInput, order_place

_keys = itertools.count(1)


def order_at(store: Store, product: Product, consumer: User, *, created: datetime,
             paid: datetime | None = None, status: str | None = None, quantity: int = 1) -> Order:
    """An order placed through the real service, then moved to the given moments (the
    service stamps the real clock)."""
    order = order_place(consumer=consumer, store_id=store.public_id,
                        lines=[LineInput(product_id=product.public_id, quantity=quantity)],
                        fulfilment="pickup", address=None, idempotency_key=f"ops-{next(_keys)}",
                        now=created).order
    status = status or (Order.Status.PAID if paid else Order.Status.PENDING_PAYMENT)
    Order.objects.filter(pk=order.pk).update(created_at=created, paid_at=paid, status=status)
    order.refresh_from_db()
    return order


def operator_user(username: str = "ops-wang") -> User:
    """A back-office operator: staff, operator role, the application and order permissions
    (not a superuser)."""
    user = User.objects.create_user(username, "long-enough-password", is_staff=True,
                                    platform_role="operator", display_name="运营小王")
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=("merchants", "orders", "payments", "delivery", "accounts"),
        codename__regex=r"^(view|change)_"))
    return user


def staff_client(user: User | None = None) -> Client:
    client = Client()
    client.force_login(user or operator_user())
    return client


def submitted_application(applicant: User, **fields) -> MerchantApplication:
    from linli.merchants.models import StoreCategory

    category, _ = StoreCategory.objects.get_or_create(slug="food", defaults={"name_zh": "美食", "name_en": "Food"})
    values = {"legal_name": "上海老王餐饮管理有限公司", "store_name": "老王家常菜", "city_code": "shanghai",
              "category": category, "status": MerchantApplication.Status.SUBMITTED}
    values.update(fields)
    return MerchantApplication.objects.create(applicant=applicant, **values)
