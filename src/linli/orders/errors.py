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


# --- lifecycle (issue 5): cancellation rules, cancel requests, order extras -----------------

class CancelTooLate(Conflict):
    code = "cancel_too_late"
    message = _("The order is ready or on its way: it can no longer be cancelled. Contact support.")


class CancelRequestRequired(Conflict):
    code = "cancel_request_required"
    message = _("The store has accepted this order: ask the store to cancel it instead.")


class CancelRequestPending(Conflict):
    code = "cancel_request_pending"
    message = _("A cancellation request is waiting for the store's answer.")


class CancelRequestAlreadyMade(Conflict):
    code = "cancel_request_already_made"
    message = _("This order's cancellation was already requested once and declined. Contact support.")


class NoCancelRequest(Conflict):
    code = "no_cancel_request"
    message = _("There is no cancellation request waiting on this order.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("Give a reason (1 to 200 characters).")


class UtensilsInvalid(InvalidInput):
    code = "utensils_invalid"
    message = _("Utensils must be a number of sets from 0 (no utensils) to 20.")


class InvoiceTitleRequired(InvalidInput):
    code = "invoice_title_required"
    message = _("An invoice needs a title (the company or person it is made out to).")


class InvoiceTaxNoInvalid(InvalidInput):
    code = "invoice_tax_no_invalid"
    message = _("The tax number must be a 15, 18 or 20 character taxpayer id (digits and capital letters).")


class InvoiceEmailInvalid(InvalidInput):
    code = "invoice_email_invalid"
    message = _("Enter a valid email address for the invoice.")


# --- pricing (issue 5) -------------------------------------------------------------------------

class PriceChanged(Conflict):
    """The client sent the total it showed (`expected_total_fen`) and the fresh price differs:
    details carry {expected_total_fen, total_fen, lines}; nothing was written."""

    code = "price_changed"
    message = _("The price has changed since your cart was built. Check the new total and order again.")


class InvalidPrice(InvalidInput):
    code = "invalid_price"
    message = _("A product in the order has an invalid price.")


# --- fulfilment modes (issue 5): dine-in tables, table tabs, scheduled orders ---------------

class TableNotFound(NotFound):
    code = "table_not_found"
    message = _("The table does not exist.")


class TableNotInStore(InvalidInput):
    code = "table_not_in_store"
    message = _("The table belongs to another store.")


class TableInactive(Conflict):
    code = "table_inactive"
    message = _("This table is not taking orders right now.")


class TableRequired(InvalidInput):
    code = "table_required"
    message = _("Dine-in orders need the table they are ordered at (scan its QR code).")


class TableLabelInvalid(InvalidInput):
    code = "table_label_invalid"
    message = _("A table label is 1 to 20 letters, digits, spaces or dashes.")


class TableLabelTaken(Conflict):
    code = "table_label_taken"
    message = _("The store already has a table with this label.")


class TabNotFound(NotFound):
    code = "tab_not_found"
    message = _("The table tab does not exist.")


class TabNotPayable(Conflict):
    code = "tab_not_payable"
    message = _("This table tab has nothing left to pay.")


class ScheduledInPast(InvalidInput):
    code = "scheduled_in_past"
    message = _("The chosen time has already passed.")


class ScheduledOutsideHours(InvalidInput):
    code = "scheduled_outside_hours"
    message = _("The store is closed at the chosen time.")


class InvalidSlot(InvalidInput):
    code = "invalid_slot"
    message = _("The chosen time is not one of the offered time slots.")
