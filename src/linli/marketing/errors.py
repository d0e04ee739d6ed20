"""Marketing's domain errors: the API answers each with its code and a zh-Hans/en message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


class CouponTemplateNotFound(NotFound):
    code = "coupon_template_not_found"
    message = _("This coupon does not exist or is no longer offered.")


class CouponNotFound(NotFound):
    code = "coupon_not_found"
    message = _("You have no such coupon.")


class CouponClaimClosed(Conflict):
    code = "coupon_claim_closed"
    message = _("This coupon cannot be claimed now.")


class CouponSoldOut(Conflict):
    code = "coupon_sold_out"
    message = _("All of these coupons have been claimed.")


class CouponClaimLimit(Conflict):
    code = "coupon_claim_limit"
    message = _("You have already claimed as many of these coupons as allowed.")


class CouponUsed(Conflict):
    code = "coupon_used"
    message = _("This coupon has already been used.")


class FirstOrderUsed(Conflict):
    code = "first_order_used"
    message = _("You already have an order at this store, so the new-customer discount no longer applies. "
                "The order was not placed: place it again to see the new price.")


class CouponExpired(Conflict):
    code = "coupon_expired"
    message = _("This coupon has expired.")


class CouponNotYetValid(Conflict):
    code = "coupon_not_yet_valid"
    message = _("This coupon cannot be used yet.")


class CouponWrongStore(InvalidInput):
    code = "coupon_wrong_store"
    message = _("This coupon cannot be used at this store.")


class CouponBelowThreshold(InvalidInput):
    code = "coupon_below_threshold"
    message = _("The order does not reach this coupon's threshold.")


class CouponDeliveryOnly(InvalidInput):
    code = "coupon_delivery_only"
    message = _("A free-delivery coupon applies to delivery orders only.")


class CouponNewCustomersOnly(PermissionDenied):
    code = "coupon_new_customers_only"
    message = _("This coupon is for new customers only.")


class InvalidCart(InvalidInput):
    code = "invalid_cart"
    message = _('The cart is not valid: give "product_id:quantity" pairs separated by commas.')


# The reasons GET /me/coupons gives for a coupon that cannot be used (same codes as above).
UNUSABLE: dict[str, type[DomainError]] = {
    cls.code: cls for cls in (CouponUsed, CouponExpired, CouponNotYetValid, CouponWrongStore,
                              CouponBelowThreshold, CouponDeliveryOnly, CouponNewCustomersOnly)
}
