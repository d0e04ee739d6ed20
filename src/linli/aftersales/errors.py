"""Errors of the after-sales domain: each a stable code, a 4xx status and a translated message."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class AfterSalesOrderNotFound(NotFound):
    """Unknown, or someone else's: the two look the same so ids cannot be probed."""

    code = "aftersales_order_not_found"
    message = _("There is no such order of yours.")


class OrderNotEligible(Conflict):
    code = "aftersales_order_not_eligible"
    message = _("After-sales is possible only for an order that was paid and delivered or collected.")


class WindowClosed(Conflict):
    code = "aftersales_window_closed"
    message = _("The time for after-sales on this order has passed.")


class AlreadyInProgress(Conflict):
    code = "aftersales_in_progress"
    message = _("This order already has an after-sales request in progress.")


class AmountExceedsPaid(InvalidInput):
    code = "aftersales_amount_exceeds_paid"
    message = _("The amount is more than was paid for these items and not yet refunded.")


class InvalidAmount(InvalidInput):
    code = "aftersales_invalid_amount"
    message = _("The amount must be a positive number of fen.")


class InvalidItems(InvalidInput):
    code = "aftersales_invalid_items"
    message = _("The items are not lines of this order, or more than is left of them.")


class InvalidKind(InvalidInput):
    code = "aftersales_invalid_kind"
    message = _("Unknown kind of request or reason.")


class TooManyPhotos(InvalidInput):
    code = "aftersales_too_many_photos"
    message = _("A request has at most 9 photos.")


class UnknownPhoto(InvalidInput):
    code = "aftersales_unknown_photo"
    message = _("A photo is unknown or already used.")


class ReasonRequired(InvalidInput):
    code = "aftersales_reason_required"
    message = _("Give a reason.")


class TextTooLong(InvalidInput):
    code = "aftersales_text_too_long"
    message = _("The text is too long.")


class RequestNotFound(NotFound):
    code = "aftersales_not_found"
    message = _("The after-sales request does not exist.")


class NotAllowedNow(IllegalTransition):
    code = "aftersales_not_allowed_now"
    message = _("This after-sales request cannot do that in its current state.")


class EscalationWindowClosed(Conflict):
    code = "aftersales_escalation_window_closed"
    message = _("The time to ask the platform to arbitrate has passed.")


class NothingLeftToRefund(Conflict):
    code = "aftersales_nothing_to_refund"
    message = _("Nothing is left to refund on this order.")


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    message = _("The complaint does not exist.")


class InvalidTicket(InvalidInput):
    code = "ticket_invalid"
    message = _("Say what the complaint is about, its category, and describe it.")


class TicketSubjectNotFound(NotFound):
    code = "ticket_subject_not_found"
    message = _("The store, rider or order of the complaint was not found.")


class TicketNotAllowedNow(IllegalTransition):
    code = "ticket_not_allowed_now"
    message = _("This complaint cannot do that in its current state.")


class InvalidAssignee(InvalidInput):
    code = "ticket_invalid_assignee"
    message = _("Tickets are assigned to support staff only.")
