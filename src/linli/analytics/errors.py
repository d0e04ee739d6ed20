"""Errors of analytics requests: each a stable code, a 4xx status and a translated message."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import InvalidInput


class UnknownMetric(InvalidInput):
    code = "analytics_unknown_metric"
    message = _("There is no such metric.")


class UnknownDimension(InvalidInput):
    code = "analytics_unknown_dimension"
    message = _("Reports cannot be broken down by that dimension.")


class UnknownGranularity(InvalidInput):
    code = "analytics_unknown_granularity"
    message = _("The granularity must be day, week or month.")


class BadDate(InvalidInput):
    code = "analytics_bad_date"
    message = _("Dates are written YYYY-MM-DD.")


class RangeReversed(InvalidInput):
    code = "analytics_range_reversed"
    message = _("The start date is after the end date.")


class RangeTooLong(InvalidInput):
    code = "analytics_range_too_long"
    message = _("The date range is longer than allowed for this granularity.")


class GranularityTooFine(InvalidInput):
    code = "analytics_granularity_too_fine"
    message = _("Reports go down to the day at the finest (hours only in the heat map).")


class UnknownExportFormat(InvalidInput):
    code = "analytics_unknown_format"
    message = _("Exports are csv or xlsx.")
