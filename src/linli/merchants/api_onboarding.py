"""/merchant-applications for applicants and /ops/merchant-applications for operators:
parse, call one onboarding service, shape. The bank account only ever leaves masked."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict, Field

from linli.core.auth import jwt_auth

from . import onboarding, suspension
from .models import ApplicationDocument, MerchantApplication

router = Router(tags=["merchant onboarding"], auth=jwt_auth)


class ApplicationIn(Schema):
    """Any subset of the fields; null or "" clears one. Checked in full only on submit."""

    model_config = ConfigDict(extra="forbid")

    legal_name: str | None = Field(None, max_length=200)
    licence_number: str | None = Field(None, max_length=32, description="统一社会信用代码, 18 characters")
    contact_name: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=32)
    category: str | None = Field(None, max_length=32, description="store category slug")
    city_code: str | None = Field(None, max_length=16)
    store_name: str | None = Field(None, max_length=100, description="defaults to legal_name")
    store_address: str | None = Field(None, max_length=255)
    store_lat: float | None = Field(None, ge=-90, le=90)
    store_lng: float | None = Field(None, ge=-180, le=180)
    store_phone: str | None = Field(None, max_length=32, description="defaults to contact_phone")
    bank_account_name: str | None = Field(None, max_length=100)
    bank_name: str | None = Field(None, max_length=100)
    bank_account_number: str | None = Field(None, max_length=40, description="8 to 30 digits")


class ApplicationReasonIn(Schema):
    reason: str = Field("", max_length=500)


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class DocumentOut(Schema):
    id: str
    kind: str
    content_type: str
    size_bytes: int
    created_at: str


class ApplicationEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_id: str | None
    actor_role: str
    note: str
    at: str


class ApplicationOut(Schema):
    id: str
    status: str
    applicant_id: str
    legal_name: str
    licence_number: str
    contact_name: str
    contact_phone: str
    category: str | None
    city_code: str
    store_name: str
    store_address: str
    store_lat: float | None
    store_lng: float | None
    store_phone: str
    bank_account_name: str
    bank_name: str
    bank_account_masked: str = Field(description='e.g. "6222 **** **** 1234"')
    decision_note: str
    missing: list[str] = Field(description="what still stops a submit")
    merchant_id: str | None
    store_id: str | None
    created_at: str
    submitted_at: str | None
    decided_at: str | None
    documents: list[DocumentOut]
    events: list[ApplicationEventOut]


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt else None


def document_out(document: ApplicationDocument) -> dict[str, Any]:
    return {"id": document.public_id, "kind": document.kind, "content_type": document.content_type,
            "size_bytes": document.size_bytes, "created_at": _iso(document.created_at)}


def application_out(application: MerchantApplication) -> dict[str, Any]:
    return {
        "id": application.public_id, "status": application.status,
        "applicant_id": application.applicant.public_id,
        "legal_name": application.legal_name, "licence_number": application.licence_number,
        "contact_name": application.contact_name, "contact_phone": application.contact_phone,
        "category": application.category.slug if application.category else None,
        "city_code": application.city_code, "store_name": application.store_name,
        "store_address": application.store_address, "store_lat": application.store_lat,
        "store_lng": application.store_lng, "store_phone": application.store_phone,
        "bank_account_name": application.bank_account_name, "bank_name": application.bank_name,
        "bank_account_masked": onboarding.mask_bank_account(application.bank_account_number),
        "decision_note": application.decision_note,
        "missing": onboarding.application_missing(application),
        "merchant_id": application.merchant.public_id if application.merchant else None,
        "store_id": application.store.public_id if application.store else None,
        "created_at": _iso(application.created_at), "submitted_at": _iso(application.submitted_at),
        "decided_at": _iso(application.decided_at),
        "documents": [document_out(d) for d in application.documents.all()],
        "events": [
            {"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
             "actor_id": e.actor.public_id if e.actor else None, "actor_role": e.actor_role,
             "note": e.note, "at": _iso(e.created_at)}
            for e in application.events.all()
        ],
    }


def _mine(request: HttpRequest, application_id: str) -> dict[str, Any]:
    """Re-read with documents and events so every answer has the same full shape."""
    return application_out(onboarding.application_get(applicant=request.auth,  # type: ignore[attr-defined]
                                                      application_id=application_id))


def _reviewed(request: HttpRequest, application_id: str) -> dict[str, Any]:
    return application_out(onboarding.application_get_for_review(
        operator=request.auth, application_id=application_id))  # type: ignore[attr-defined]


# --- applicant -------------------------------------------------------------------------------

@router.post("/merchant-applications", response={201: ApplicationOut},
             summary="Start a merchant application (a draft; fields may come later)")
def create(request: HttpRequest, payload: ApplicationIn) -> Status[dict[str, Any]]:
    application = onboarding.application_create(applicant=request.auth,  # type: ignore[attr-defined]
                                                changes=payload.model_dump(exclude_unset=True))
    return Status(201, _mine(request, application.public_id))


@router.get("/merchant-applications", response=list[ApplicationOut], summary="My applications")
def mine(request: HttpRequest) -> list[dict[str, Any]]:
    return [application_out(a) for a in onboarding.applications_of(
        applicant=request.auth)]  # type: ignore[attr-defined]


@router.get("/merchant-applications/{application_id}", response=ApplicationOut,
            summary="One of my applications, with documents and history")
def detail(request: HttpRequest, application_id: str) -> dict[str, Any]:
    return _mine(request, application_id)


@router.patch("/merchant-applications/{application_id}", response=ApplicationOut,
              summary="Edit my application (draft or needs_changes only)")
def update(request: HttpRequest, application_id: str, payload: ApplicationIn) -> dict[str, Any]:
    onboarding.application_update(applicant=request.auth,  # type: ignore[attr-defined]
                                  application_id=application_id,
                                  changes=payload.model_dump(exclude_unset=True))
    return _mine(request, application_id)


@router.post("/merchant-applications/{application_id}/documents", response={201: DocumentOut},
             summary="Upload a licence, permit, ID card or storefront image (multipart, ≤ 5 MB)")
def upload_document(
    request: HttpRequest, application_id: str,
    kind: Form[Literal["licence", "permit", "id_card", "storefront"]],
    file: File[UploadedFile],
) -> Status[dict[str, Any]]:
    document = onboarding.application_document_add(
        applicant=request.auth, application_id=application_id,  # type: ignore[attr-defined]
        kind=kind, upload=file)
    return Status(201, document_out(document))


@router.post("/merchant-applications/{application_id}/submit", response=ApplicationOut,
             summary="Send my application for review")
def submit(request: HttpRequest, application_id: str) -> dict[str, Any]:
    onboarding.application_submit(applicant=request.auth,  # type: ignore[attr-defined]
                                  application_id=application_id)
    return _mine(request, application_id)


# --- operator --------------------------------------------------------------------------------

class ReviewQuery(Schema):
    status: Literal["draft", "submitted", "needs_changes", "approved", "rejected"] = "submitted"
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=100_000)


@router.get("/ops/merchant-applications", response=list[ApplicationOut],
            summary="Operator queue: applications by status, the longest waiting first")
def review_queue(request: HttpRequest, query: Query[ReviewQuery]) -> list[dict[str, Any]]:
    return [application_out(a) for a in onboarding.applications_for_review(
        operator=request.auth, status=query.status,  # type: ignore[attr-defined]
        limit=query.limit, offset=query.offset)]


@router.get("/ops/merchant-applications/{application_id}", response=ApplicationOut,
            summary="Operator view of one application")
def review_detail(request: HttpRequest, application_id: str) -> dict[str, Any]:
    return _reviewed(request, application_id)


@router.post("/ops/merchant-applications/{application_id}/approve", response=ApplicationOut,
             summary="Approve: creates the merchant, its owner and the first store")
def approve(request: HttpRequest, application_id: str) -> dict[str, Any]:
    onboarding.application_approve(operator=request.auth,  # type: ignore[attr-defined]
                                   application_id=application_id)
    return _reviewed(request, application_id)


@router.post("/ops/merchant-applications/{application_id}/reject", response=ApplicationOut,
             summary="Reject, with a reason the applicant sees")
def reject(request: HttpRequest, application_id: str, payload: ApplicationReasonIn) -> dict[str, Any]:
    onboarding.application_reject(operator=request.auth,  # type: ignore[attr-defined]
                                  application_id=application_id, reason=payload.reason)
    return _reviewed(request, application_id)


@router.post("/ops/merchant-applications/{application_id}/request-changes",
             response=ApplicationOut, summary="Send back to the applicant with what to change")
def request_changes(request: HttpRequest, application_id: str, payload: NoteIn) -> dict[str, Any]:
    onboarding.application_request_changes(operator=request.auth,  # type: ignore[attr-defined]
                                           application_id=application_id, note=payload.note)
    return _reviewed(request, application_id)


# --- suspension (merchants.suspension): operators, e.g. from after-sales' bad-actor view ----

class MerchantStatusOut(Schema):
    merchant_id: str
    action: str
    status: str
    reason: str
    stores: list[str] = Field(description="stores closed (suspend) or put back (reinstate)")
    at: str


def _status_out(event: Any) -> dict[str, Any]:
    return {"merchant_id": event.merchant.public_id, "action": event.action, "status": event.to_status,
            "reason": event.reason, "stores": event.stores, "at": event.created_at.isoformat()}


@router.post("/ops/merchants/{merchant_id}/suspend", response=MerchantStatusOut,
             summary="Suspend a merchant: every listed store closes (delisted) until reinstated")
def ops_merchant_suspend(request: HttpRequest, merchant_id: str, payload: ApplicationReasonIn) -> dict[str, Any]:
    return _status_out(suspension.merchant_suspend(actor=request.auth, merchant_id=merchant_id, reason=payload.reason))  # type: ignore[arg-type]


@router.post("/ops/merchants/{merchant_id}/reinstate", response=MerchantStatusOut,
             summary="Reinstate a suspended merchant: its stores return to what they were")
def ops_merchant_reinstate(request: HttpRequest, merchant_id: str, payload: ApplicationReasonIn) -> dict[str, Any]:
    return _status_out(suspension.merchant_reinstate(actor=request.auth, merchant_id=merchant_id, reason=payload.reason))  # type: ignore[arg-type]
