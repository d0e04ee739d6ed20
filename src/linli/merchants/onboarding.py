"""Merchant onboarding: applications, their documents, and the operator's decision.

A would-be merchant fills in an application (partially at first), uploads licence images,
and submits it; an operator approves, rejects, or sends it back for changes. Approval
creates the merchant, its owner membership and the first store in one transaction.
Every status change writes an `ApplicationEvent`. The settlement bank account and the
contact phone are encrypted at rest (docs/security.md "Field encryption"); the bank
account is only ever shown masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import PlatformRole, User
from linli.accounts.phone import phone_normalise
from linli.core.audit import audit
from linli.core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from linli.core.statemachine import StateMachine, T

from .errors import UnknownCategory
from .hours import every_day
from .models import ApplicationDocument, ApplicationEvent, MerchantApplication, Store, StoreCategory
from .services import merchant_create, store_create
from .uploads import TooManyFiles, image_check

S = MerchantApplication.Status
APPLICANT, OPERATOR = "applicant", "operator"

APPLICATION_MACHINE = StateMachine([
    T(S.DRAFT, S.SUBMITTED, "submit", APPLICANT),
    T(S.NEEDS_CHANGES, S.SUBMITTED, "submit", APPLICANT),
    T(S.SUBMITTED, S.APPROVED, "approve", OPERATOR),
    T(S.SUBMITTED, S.REJECTED, "reject", OPERATOR),
    T(S.SUBMITTED, S.NEEDS_CHANGES, "request_changes", OPERATOR),
])
OPEN_STATUSES = (S.DRAFT, S.SUBMITTED, S.NEEDS_CHANGES)  # at most one per applicant
EDITABLE_STATUSES = (S.DRAFT, S.NEEDS_CHANGES)
REQUIRED_FIELDS = (
    "legal_name", "licence_number", "contact_name", "contact_phone", "category", "city_code",
    "store_address", "store_lat", "store_lng", "bank_account_name", "bank_name",
    "bank_account_number",
)
LICENCE_DOCUMENT = "licence_document"  # how a missing licence image is named in `missing`
MAX_DOCUMENTS = 20
FIRST_STORE_HOURS = ("10:00", "22:00")
TEXT_FIELDS = {  # field -> max length
    "legal_name": 200, "contact_name": 50, "store_name": 100, "store_address": 255,
    "bank_account_name": 100, "bank_name": 100,
}
EDITABLE_FIELDS = frozenset({
    *TEXT_FIELDS, "licence_number", "contact_phone", "store_phone", "category", "city_code",
    "store_lat", "store_lng", "bank_account_number",
})

# 统一社会信用代码 (GB 32100-2015): 18 characters from this 31-character alphabet, the last
# one a check character over the first 17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = re.compile(rf"[{USCC_ALPHABET}]{{18}}")
CITY_CODE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,15}")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")  # no line breaks in names; PostgreSQL refuses NUL


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    message = _("The merchant application does not exist.")


class ApplicationExists(Conflict):
    code = "application_exists"
    message = _("You already have a merchant application in progress.")


class ApplicationLocked(Conflict):
    code = "application_locked"
    message = _("The application can only be changed while it is a draft or needs changes.")


class ApplicationIncomplete(InvalidInput):
    code = "application_incomplete"
    message = _("The application is missing required information.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = _("Give a reason for rejecting the application.")


class NoteRequired(InvalidInput):
    code = "note_required"
    message = _("Say what the applicant needs to change.")


class InvalidLicenceNumber(InvalidInput):
    code = "invalid_licence_number"
    message = _("The business licence number must be an 18-character unified social credit code.")


class InvalidBankAccount(InvalidInput):
    code = "invalid_bank_account"
    message = _("The bank account number must be 8 to 30 digits.")


# --- field rules ---------------------------------------------------------------------------

def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def licence_number_normalise(raw: str) -> str:
    """Upper-cased, spaces removed, pattern and check character verified."""
    number = re.sub(r"\s+", "", raw).upper()
    if not USCC_PATTERN.fullmatch(number):
        raise InvalidLicenceNumber(reason="pattern")
    if uscc_check_char(number[:17]) != number[17]:
        raise InvalidLicenceNumber(reason="checksum")
    return number


def bank_account_normalise(raw: str) -> str:
    """Digits only: people type spaces and dashes between groups."""
    number = re.sub(r"[\s-]+", "", raw)
    if not (number.isascii() and number.isdigit() and 8 <= len(number) <= 30):
        raise InvalidBankAccount()
    return number


def mask_bank_account(number: str) -> str:
    """'6222021234567891234' -> '6222 **** **** 1234'. Short numbers keep only their last
    four digits, so at least half of any number stays hidden."""
    if not number:
        return ""
    if len(number) >= 12:
        return f"{number[:4]} **** **** {number[-4:]}"
    return f"**** {number[-4:]}"


def _set_field(application: MerchantApplication, field: str, value: Any) -> None:
    """Validate one submitted field and set it. None or blank clears it (drafts are partial)."""
    if field not in EDITABLE_FIELDS:
        raise InvalidInput(field=field)
    if isinstance(value, str):
        value = value.strip()
        if "\x00" in value:
            raise InvalidInput(field=field)
    blank = value is None or value == ""
    if field in ("store_lat", "store_lng"):
        limit = 90 if field == "store_lat" else 180
        if not blank and not (isinstance(value, int | float) and not isinstance(value, bool)
                              and -limit <= value <= limit):
            raise InvalidInput(field=field, min=-limit, max=limit)
        setattr(application, field, None if blank else float(value))
        return
    if field == "category":
        category = None
        if not blank:
            category = StoreCategory.objects.filter(slug=value).first()
            if category is None:
                raise UnknownCategory(category=value)
        application.category = category
        return
    if blank:
        setattr(application, field, "")
        return
    if not isinstance(value, str):
        raise InvalidInput(field=field)
    if field in TEXT_FIELDS:
        if len(value) > TEXT_FIELDS[field] or CONTROL_CHARS.search(value):
            raise InvalidInput(field=field, max_length=TEXT_FIELDS[field])
    elif field == "licence_number":
        value = licence_number_normalise(value)
    elif field in ("contact_phone", "store_phone"):
        value = phone_normalise(value, region=settings.LINLI_DEFAULT_REGION)
    elif field == "city_code":
        value = value.lower()
        if not CITY_CODE_PATTERN.fullmatch(value):
            raise InvalidInput(field=field)
    elif field == "bank_account_number":
        value = bank_account_normalise(value)
    setattr(application, field, value)


def application_missing(application: MerchantApplication) -> list[str]:
    """What still stops the application from being submitted (field names, and
    `licence_document` when no licence image is uploaded)."""
    missing = [f for f in REQUIRED_FIELDS
               if getattr(application, f if f != "category" else "category_id") in (None, "")]
    if application.pk is None or not any(
            d.kind == ApplicationDocument.Kind.LICENCE for d in application.documents.all()):
        missing.append(LICENCE_DOCUMENT)
    return missing


# --- reads ---------------------------------------------------------------------------------

def _by_public_id(application_id: str) -> QuerySet[MerchantApplication]:
    """None for an id with a NUL character, which PostgreSQL cannot even compare."""
    if "\x00" in application_id:
        return MerchantApplication.objects.none()
    return MerchantApplication.objects.filter(public_id=application_id)


def _with_details(rows: QuerySet[MerchantApplication]) -> QuerySet[MerchantApplication]:
    return rows.select_related("category", "applicant", "merchant", "store").prefetch_related(
        "documents", "events__actor")


def applications_of(*, applicant: User) -> list[MerchantApplication]:
    """The applicant's own applications, newest first."""
    return list(_with_details(MerchantApplication.objects.filter(applicant=applicant))
                .order_by("-created_at", "-id"))


def application_get(*, applicant: User, application_id: str) -> MerchantApplication:
    """One of the applicant's own applications; anyone else's is not found."""
    application = _with_details(_by_public_id(application_id).filter(applicant=applicant)).first()
    if application is None:
        raise ApplicationNotFound(application_id=application_id)
    return application


def _require_operator(user: User) -> None:
    if user.platform_role != PlatformRole.OPERATOR:
        raise PermissionDenied()


def applications_for_review(*, operator: User, status: str = S.SUBMITTED, limit: int = 50,
                            offset: int = 0) -> list[MerchantApplication]:
    """The operator's queue: applications in `status`, the longest waiting first."""
    _require_operator(operator)
    rows = _with_details(MerchantApplication.objects.filter(status=status)).order_by(
        F("submitted_at").asc(nulls_last=True), "created_at", "id")
    return list(rows[offset:offset + limit])


def application_get_for_review(*, operator: User, application_id: str) -> MerchantApplication:
    _require_operator(operator)
    application = _with_details(_by_public_id(application_id)).first()
    if application is None:
        raise ApplicationNotFound(application_id=application_id)
    return application


# --- writes --------------------------------------------------------------------------------

def _lock(application_id: str, *, applicant: User | None = None) -> MerchantApplication:
    rows = _by_public_id(application_id).select_for_update()
    if applicant is not None:
        rows = rows.filter(applicant=applicant)
    application = rows.first()
    if application is None:
        raise ApplicationNotFound(application_id=application_id)
    return application


def _event(application: MerchantApplication, *, action: str, source: str, actor: User,
           role: str, note: str = "") -> None:
    ApplicationEvent.objects.create(application=application, action=action, from_status=source,
                                    to_status=application.status, actor=actor, actor_role=role,
                                    note=note)


def _move(application: MerchantApplication, *, action: str, actor: User, role: str,
          note: str = "") -> None:
    """Check the table, change the status and record the event. Row locked by the caller."""
    transition = APPLICATION_MACHINE.find(action=action, source=application.status)
    if transition is None:
        raise IllegalTransition(status=application.status, action=action)
    if role not in transition.roles:
        raise PermissionDenied(status=application.status, action=action)
    source = application.status
    application.status = transition.target
    application.save()
    _event(application, action=action, source=source, actor=actor, role=role, note=note)


def _require_editable(application: MerchantApplication) -> None:
    if application.status not in EDITABLE_STATUSES:
        raise ApplicationLocked(status=application.status)


@transaction.atomic
def application_create(*, applicant: User, changes: Mapping[str, Any]) -> MerchantApplication:
    """Open a draft, with whatever fields the applicant has so far. One open application per
    applicant: the applicant's user row is locked so two concurrent creates cannot both pass."""
    User.objects.select_for_update().filter(pk=applicant.pk).first()
    existing = (MerchantApplication.objects.filter(applicant=applicant, status__in=OPEN_STATUSES)
                .values_list("public_id", flat=True).first())
    if existing:
        raise ApplicationExists(application_id=existing)
    application = MerchantApplication(applicant=applicant)
    for field, value in changes.items():
        _set_field(application, field, value)
    application.save()
    _event(application, action="create", source="", actor=applicant, role=APPLICANT)
    return application


@transaction.atomic
def application_update(*, applicant: User, application_id: str,
                       changes: Mapping[str, Any]) -> MerchantApplication:
    """Edit a draft or an application sent back for changes; all fields or none."""
    application = _lock(application_id, applicant=applicant)
    _require_editable(application)
    for field, value in changes.items():
        _set_field(application, field, value)
    application.save()
    return application


@transaction.atomic
def application_document_add(*, applicant: User, application_id: str, kind: str,
                             upload: UploadedFile) -> ApplicationDocument:
    """Attach a licence, permit, ID card or storefront image. The bytes are checked before
    anything is stored; an invalid file leaves no row and no stored file."""
    if kind not in ApplicationDocument.Kind.values:
        raise InvalidInput(field="kind", allowed=list(ApplicationDocument.Kind.values))
    application = _lock(application_id, applicant=applicant)
    _require_editable(application)
    checked = image_check(upload=upload)
    if application.documents.count() >= MAX_DOCUMENTS:
        raise TooManyFiles(max=MAX_DOCUMENTS)
    document = ApplicationDocument(application=application, kind=kind,
                                   content_type=checked.content_type, size_bytes=checked.size_bytes)
    document.file.save(checked.storage_name("doc"), checked.file(), save=False)
    document.save()
    application.save(update_fields=["updated_at"])
    return document


@transaction.atomic
def application_submit(*, applicant: User, application_id: str) -> MerchantApplication:
    """Send the application for review (first time or after changes); it must be complete."""
    application = _lock(application_id, applicant=applicant)
    if APPLICATION_MACHINE.find(action="submit", source=application.status) is None:
        raise IllegalTransition(status=application.status, action="submit")
    missing = application_missing(application)
    if missing:
        raise ApplicationIncomplete(missing=missing)
    application.submitted_at = timezone.now()
    application.decision_note = ""  # the previous request for changes is answered (events keep it)
    _move(application, action="submit", actor=applicant, role=APPLICANT)
    return application


@transaction.atomic
def application_approve(*, operator: User, application_id: str) -> MerchantApplication:
    """Approve: create the merchant, the applicant's owner membership and the first store
    (open, 10:00-22:00 every day), all with the approval or not at all."""
    _require_operator(operator)
    application = _lock(application_id)
    if APPLICATION_MACHINE.find(action="approve", source=application.status) is None:
        raise IllegalTransition(status=application.status, action="approve")
    missing = application_missing(application)
    if missing:  # only if something changed behind the API's back (admin, data fixes)
        raise ApplicationIncomplete(missing=missing)
    name = (application.store_name or application.legal_name)[:100]
    merchant = merchant_create(name=name, owner=application.applicant,
                               legal_name=application.legal_name)
    assert application.store_lat is not None and application.store_lng is not None
    store = store_create(
        merchant=merchant, name=name, category=application.category,
        city_code=application.city_code, address=application.store_address,
        phone=application.store_phone or application.contact_phone,
        lat=application.store_lat, lng=application.store_lng,
        opening_hours=every_day(FIRST_STORE_HOURS), status=Store.Status.OPEN,
    )
    application.merchant, application.store = merchant, store
    application.decided_at = timezone.now()
    _move(application, action="approve", actor=operator, role=OPERATOR)
    audit(operator, "merchant_application.approve", "merchant_application", application.public_id, role=OPERATOR, merchant_id=merchant.public_id)  # noqa: E501
    return application


def _decide_with_note(*, operator: User, application_id: str, action: str,
                      note: str) -> MerchantApplication:
    _require_operator(operator)
    application = _lock(application_id)
    if APPLICATION_MACHINE.find(action=action, source=application.status) is None:
        raise IllegalTransition(status=application.status, action=action)
    note = (note or "").strip()
    if not note:
        raise ReasonRequired() if action == "reject" else NoteRequired()
    if len(note) > 500 or "\x00" in note:
        raise InvalidInput(field="note", max_length=500)
    application.decision_note = note
    application.decided_at = timezone.now()
    _move(application, action=action, actor=operator, role=OPERATOR, note=note)
    audit(operator, f"merchant_application.{action}", "merchant_application", application.public_id, role=OPERATOR, note=note)  # noqa: E501
    return application


@transaction.atomic
def application_reject(*, operator: User, application_id: str, reason: str) -> MerchantApplication:
    """Refuse for good, saying why; the applicant may start a new application."""
    return _decide_with_note(operator=operator, application_id=application_id, action="reject",
                             note=reason)


@transaction.atomic
def application_request_changes(*, operator: User, application_id: str,
                                note: str) -> MerchantApplication:
    """Send back to the applicant with what to fix; they edit and submit again."""
    return _decide_with_note(operator=operator, application_id=application_id,
                             action="request_changes", note=note)
