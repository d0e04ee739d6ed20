"""Errors of service appointments: each a stable code, a 4xx status and a translated message."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, InvalidInput, NotFound


class ServiceNotOffered(NotFound):
    code = "service_not_offered"
    message = _("This store does not offer that service for booking.")


class ResourceNotFound(NotFound):
    code = "resource_not_found"
    message = _("There is no such staff member, room or machine at this store.")


class BookingNotFound(NotFound):
    """Unknown, or someone else's: the two look the same so ids cannot be probed."""

    code = "booking_not_found"
    message = _("There is no such booking.")


class InvalidDate(InvalidInput):
    code = "invalid_date"
    message = _("Give a date as YYYY-MM-DD, and at most 31 days.")


class InvalidSlotTime(InvalidInput):
    code = "invalid_slot_time"
    message = _("Give the start as an ISO date and time with its time zone.")


class SlotInPast(InvalidInput):
    code = "slot_in_past"
    message = _("This time has already passed or is too soon to book.")


class SlotTooFar(InvalidInput):
    code = "slot_too_far"
    message = _("This time is too far ahead to book yet.")


class SlotOutsideHours(Conflict):
    code = "slot_outside_hours"
    message = _("The store or the staff member does not work at this time.")


class SlotTaken(Conflict):
    code = "slot_taken"
    message = _("This time is no longer free; choose another.")


class CancelTooLate(Conflict):
    code = "cancel_too_late"
    message = _("The appointment has already started; it can no longer be cancelled.")


class RescheduleTooLate(Conflict):
    code = "reschedule_too_late"
    message = _("It is too late to change the time of this appointment.")


class TooEarlyForNoShow(Conflict):
    code = "no_show_too_early"
    message = _("A no-show can only be marked after the appointment's start.")


class InvalidBookingTerms(InvalidInput):
    code = "invalid_booking_terms"
    message = _("The booking terms are not valid.")


class InvalidResource(InvalidInput):
    code = "invalid_resource"
    message = _("The staff member, room or machine is not valid.")


class InvalidTimeOff(InvalidInput):
    code = "invalid_time_off"
    message = _("Time off needs a start before its end, at most 90 days long.")


class IdempotencyKeyMissing(InvalidInput):
    code = "idempotency_key_missing"
    status = 400
    message = _("Send an Idempotency-Key header (1 to 100 characters) with every new booking.")
