"""Errors of the reviews domain: each a stable code, a 4xx status and a translated message."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, InvalidInput, NotFound


class ReviewSubjectNotFound(NotFound):
    """Unknown, or someone else's: the two look the same so ids cannot be probed."""

    code = "review_subject_not_found"
    message = _("There is no such order of yours to review.")


class SubjectNotFinished(Conflict):
    code = "review_subject_not_finished"
    message = _("Only a completed order can be reviewed.")


class VoucherNotUsed(SubjectNotFinished):
    message = _("A voucher can be reviewed once it has been used at the store.")


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    message = _("This order has already been reviewed.")


class ReviewWindowClosed(Conflict):
    code = "review_window_closed"
    message = _("The time to review this order has passed.")


class InvalidStars(InvalidInput):
    code = "invalid_stars"
    message = _("Scores are whole stars from 1 to 5.")


class DimensionNotApplicable(InvalidInput):
    code = "dimension_not_applicable"
    message = _("This order cannot be rated on that point.")


class TooManyPhotos(InvalidInput):
    code = "too_many_photos"
    message = _("A review has at most 9 photos.")


class UnknownPhoto(InvalidInput):
    code = "unknown_photo"
    message = _("A photo is unknown or already used.")


class NoRiderToRate(InvalidInput):
    code = "no_rider_to_rate"
    message = _("This order had no rider to rate.")


class InvalidRiderRating(InvalidInput):
    code = "invalid_rider_rating"
    message = _("Rate the rider with a thumb or with 1 to 5 stars, and known tags.")


class ReviewNotFound(NotFound):
    code = "review_not_found"
    message = _("The review does not exist.")


class AlreadyReplied(Conflict):
    code = "already_replied"
    message = _("This review already has the store's reply.")


class OwnReviewVote(Conflict):
    code = "own_review_vote"
    message = _("You cannot mark your own review as helpful.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("Give a reason.")


class InvalidReviewText(InvalidInput):
    code = "invalid_review_text"
    message = _("The text is empty or longer than 500 characters.")
