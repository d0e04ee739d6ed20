"""Who may see or change a store's stock: members of the store's merchant, by the role
table in `merchants.roles`. A store or product of another merchant is not found (404),
never forbidden, so ids of other merchants cannot be probed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import NotFound
from linli.merchants.models import MerchantMember, Product, Store
from linli.merchants.selectors import role_require
from linli.merchants.selectors import store_for_member as merchants_store_for_member


class StockProductNotFound(NotFound):
    code = "product_not_found"
    message = _("The product does not exist.")


def merchant_role(*, actor: User, merchant_id: int) -> str | None:
    return (MerchantMember.objects.filter(user=actor, merchant_id=merchant_id)
            .values_list("role", flat=True).first())


def store_for_member(*, actor: User, store_id: str, permission: str) -> Store:
    return merchants_store_for_member(user=actor, store_id=store_id, permission=permission)[0]


def product_for_member(*, actor: User, product_id: str, permission: str) -> Product:
    product = (Product.objects.select_related("store").filter(public_id=product_id).first()
               if "\x00" not in product_id else None)
    role = merchant_role(actor=actor, merchant_id=product.store.merchant_id) if product else None
    if product is None or role is None:
        raise StockProductNotFound(product_id=product_id)
    role_require(role=role, permission=permission)
    return product
