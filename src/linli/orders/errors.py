"""Order domain errors, each with a stable code."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, InvalidInput, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = _("The order does not exist.")


class EmptyCart(InvalidInput):
    code = "empty_cart"
    message = _("The order has no items.")


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"
    message = _("Each quantity must be a whole number between 1 and 999.")


class ProductNotFound(InvalidInput):
    code = "product_not_found"
    message = _("A product in the order does not exist.")


class ProductNotInStore(InvalidInput):
    code = "product_not_in_store"
    message = _("A product in the order belongs to another store.")


class ProductUnavailable(Conflict):
    code = "product_unavailable"
    message = _("A product in the order is no longer on sale.")


class ProductSoldOut(Conflict):
    code = "product_sold_out"
    message = _("A product in the order is sold out.")


class ProductNotAvailableNow(Conflict):
    code = "product_not_available_now"
    message = _("A product in the order cannot be ordered at this time of day.")


class StoreClosed(Conflict):
    code = "store_closed"
    message = _("The store is not taking orders right now.")


class AddressRequired(InvalidInput):
    code = "address_required"
    message = _("Delivery orders need a delivery address.")


class AddressOutOfRange(InvalidInput):
    code = "address_out_of_range"
    message = _("The address is outside the store's delivery area.")


class BelowMinimumOrder(InvalidInput):
    code = "below_minimum_order"
    message = _("The order is below the store's minimum for delivery.")


class PickupCodeInvalid(InvalidInput):
    code = "pickup_code_invalid"
    status = 400
    message = _("The pickup code does not match this order.")


class IdempotencyKeyMissing(InvalidInput):
    code = "idempotency_key_missing"
    status = 400
    message = _("Send an Idempotency-Key header (1 to 100 characters) with every new order.")
