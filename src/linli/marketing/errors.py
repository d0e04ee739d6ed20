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


# --- group-buy vouchers (团购券) ---------------------------------------------------------------

class VoucherDealNotFound(NotFound):
    code = "voucher_deal_not_found"
    message = _("This group-buy deal does not exist.")


class VoucherDealNotOnSale(Conflict):
    code = "voucher_deal_not_on_sale"
    message = _("This group-buy deal is not on sale now.")


class VoucherSoldOut(Conflict):
    code = "voucher_sold_out"
    message = _("This group-buy deal is sold out.")


class VoucherBuyLimit(Conflict):
    code = "voucher_buy_limit"
    message = _("You have already bought as many of these vouchers as allowed.")


class VoucherQuantityInvalid(InvalidInput):
    code = "voucher_quantity_invalid"
    message = _("Buy between 1 and 10 vouchers at a time.")


class VoucherDealInvalid(InvalidInput):
    code = "voucher_deal_invalid"
    message = _("The deal's terms are not valid.")


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    message = _("No voucher has this code.")


class VoucherWrongStore(InvalidInput):
    code = "voucher_wrong_store"
    message = _("This voucher cannot be used at this store.")


class VoucherExpired(Conflict):
    code = "voucher_expired"
    message = _("This voucher has expired.")


class VoucherUsedUp(Conflict):
    code = "voucher_used_up"
    message = _("This voucher has been used up.")


class VoucherRefunded(Conflict):
    code = "voucher_refunded"
    message = _("This voucher has been refunded.")


class VoucherUsesExceeded(Conflict):
    code = "voucher_uses_exceeded"
    message = _("This voucher has fewer uses left than asked.")


class VoucherUsesInvalid(InvalidInput):
    code = "voucher_uses_invalid"
    message = _("Redeem at least one use.")


class VoucherNotRefundable(Conflict):
    code = "voucher_not_refundable"
    message = _("This deal cannot be refunded before it expires.")


# --- lottery and campaigns (engagement) -----------------------------------------------------------

class LotteryNotFound(NotFound):
    code = "lottery_not_found"
    message = _("This lottery does not exist.")


class LotteryNotRunning(Conflict):
    code = "lottery_not_running"
    message = _("This lottery is not running now.")


class DrawNotEligible(Conflict):
    code = "draw_not_eligible"
    message = _("You have already drawn as many times as this lottery allows.")


class DrawOrderInvalid(InvalidInput):
    code = "draw_order_invalid"
    message = _("Draws of this lottery need one of your completed orders (at its store).")


class PrizeWeightsInvalid(InvalidInput):
    code = "prize_weights_invalid"
    message = _("The lottery's prizes need positive weights (and no negative stock or cost).")


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    message = _("This campaign does not exist.")


class CampaignNotDraft(Conflict):
    code = "campaign_not_draft"
    message = _("Only a draft or scheduled campaign can be launched, scheduled or changed.")


class SegmentEmpty(InvalidInput):
    code = "segment_empty"
    message = _("Nobody matches this campaign's segment: nothing was sent.")


class SegmentRuleInvalid(InvalidInput):
    code = "segment_rule_invalid"
    message = _("The segment rule is not valid.")


class CampaignTermsInvalid(InvalidInput):
    code = "campaign_terms_invalid"
    message = _("The campaign's terms are not valid.")


class CampaignQuotaShort(Conflict):
    code = "campaign_quota_short"
    message = _("The coupon's remaining quota cannot cover every treated member: nothing was sent.")
