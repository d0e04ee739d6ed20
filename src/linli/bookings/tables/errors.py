"""Errors of table reservations and the walk-in queue: a stable code, a 4xx status and a
translated message each."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, InvalidInput, NotFound


class ReservationsNotOffered(Conflict):
    code = "reservations_not_offered"
    message = _("This store does not take table reservations.")


class QueueNotOffered(Conflict):
    code = "queue_not_offered"
    message = _("This store does not give out queue numbers.")


class InvalidPartySize(InvalidInput):
    code = "invalid_party_size"
    message = _("The party must be between 1 and 50 people.")


class PartyTooLarge(InvalidInput):
    code = "party_too_large"
    message = _("No table of this store seats that many people.")


class SlotInPast(InvalidInput):
    code = "slot_in_past"
    message = _("This time has already passed.")


class SlotTooFarAhead(InvalidInput):
    code = "slot_too_far_ahead"
    message = _("Reservations cannot be made that far ahead.")


class SlotNotOnGrid(InvalidInput):
    code = "slot_not_on_grid"
    message = _("Choose one of the offered times.")


class SlotOutsideHours(InvalidInput):
    code = "slot_outside_hours"
    message = _("The store is not open for the whole seating at this time.")


class NoTableAvailable(Conflict):
    code = "no_table_available"
    message = _("No table is free for your party at this time; try another time.")


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    message = _("The reservation does not exist.")


class CancelDeadlinePassed(Conflict):
    code = "cancel_deadline_passed"
    message = _("It is too late to cancel this reservation; please call the store.")


class NoShowTooEarly(Conflict):
    code = "no_show_too_early"
    message = _("A guest can be marked as not shown only after the reserved time.")


class QueueTicketActive(Conflict):
    code = "queue_ticket_active"
    message = _("You already have a queue number at this store.")


class QueueTicketNotFound(NotFound):
    code = "queue_ticket_not_found"
    message = _("The queue number does not exist.")


class QueueClosed(Conflict):
    code = "queue_closed"
    message = _("The store is not open now, so it gives out no queue numbers.")


class QueueEmpty(Conflict):
    code = "queue_empty"
    message = _("Nobody is waiting in this group.")


class SkipTooEarly(Conflict):
    code = "skip_too_early"
    message = _("Give the guest a few minutes after calling before skipping the number.")


class InvalidQueueGroup(InvalidInput):
    code = "invalid_queue_group"
    message = _("The queue group is A, B or C.")


class TableTypeNotFound(NotFound):
    code = "table_type_not_found"
    message = _("The table type does not exist.")


class InvalidTableType(InvalidInput):
    code = "invalid_table_type"
    message = _("A table type needs a name, 1 to 30 seats and at most 200 tables.")


class InvalidTableSetup(InvalidInput):
    code = "invalid_table_setup"
    message = _("These reservation settings are not valid.")


class InvalidSlot(InvalidInput):
    code = "invalid_slot"
    message = _("The date or time is not valid.")
