"""Errors of the merchants domain that other apps raise too (discovery filters by category)."""

from django.utils.translation import gettext_lazy as _

from linli.core.errors import InvalidInput


class UnknownCategory(InvalidInput):
    code = "unknown_category"
    message = _("There is no such store category.")
