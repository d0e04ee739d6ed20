"""Errors of the finance domain: each a stable code, a 4xx status and a translated message."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class CommissionRuleInvalid(InvalidInput):
    code = "commission_rule_invalid"
    message = _("The commission rule is invalid: the rate is 0 to 10000 basis points, the minimum is not "
                "negative, the end is after the start and the channel is known.")


class CommissionRuleOverlap(Conflict):
    code = "commission_rule_overlap"
    message = _("Another version of this commission rule is in force over the same dates.")


class MerchantNotFound(NotFound):
    code = "merchant_not_found"
    message = _("There is no such merchant.")


class BatchNotFound(NotFound):
    code = "batch_not_found"  # the message is NotFound's (already translated)


class NotYourMerchant(PermissionDenied):
    code = "not_your_merchant"
    message = _("You do not work for this merchant.")


class BatchAlreadySettled(Conflict):
    code = "batch_already_settled"
    message = _("This merchant has already been settled for this date.")


class NothingToSettle(Conflict):
    code = "nothing_to_settle"
    message = _("Nothing is due to this merchant for this date.")


class MerchantOnHold(Conflict):
    code = "merchant_on_hold"
    message = _("The merchant's payouts are on hold.")


class HoldNotFound(NotFound):
    code = "hold_not_found"
    message = _("There is no such active hold.")


class PayoutNotFound(NotFound):
    code = "payout_not_found"
    message = _("There is no such payout.")


class PayoutAlreadyPaid(Conflict):
    code = "payout_already_paid"
    message = _("This payout has already been paid.")


class AdjustmentReasonRequired(InvalidInput):
    code = "adjustment_reason_required"
    message = _("An adjustment needs a reason.")


class AdjustmentAmountInvalid(InvalidInput):
    code = "adjustment_amount_invalid"
    message = _("An adjustment is a non-zero amount in fen.")


class AdjustmentNotFound(NotFound):
    code = "adjustment_not_found"
    message = _("There is no such adjustment awaiting approval.")


class SecondApproverRequired(PermissionDenied):
    code = "second_approver_required"
    message = _("Another operator must approve an adjustment above the threshold.")


class HoldReasonRequired(InvalidInput):
    code = "hold_reason_required"
    message = _("A hold needs a reason and a note.")
