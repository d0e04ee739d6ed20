"""After-sales requests, complaints and arbitration over /api/v1 (docs/aftersales.md). Parse,
call one service or selector, shape the answer.

Photos go up first, one per request (`POST /aftersales/photos`, multipart field `file`), and
the request names them by id, as reviews do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Header, Router, Schema, Status, UploadedFile
from pydantic import Field

from linli.accounts.models import User
from linli.core.auth import jwt_auth
from linli.core.errors import PermissionDenied

from . import complaints, selectors, services
from .models import AfterSalesRequest, Ticket
from .states import REQUEST_MACHINE, sla_remaining_seconds

router = Router(tags=["after-sales and complaints"])


# --- schemas ---------------------------------------------------------------------------------------

class TicketPhotoOut(Schema):
    id: str
    url: str
    width: int
    height: int


class ItemIn(Schema):
    line: int = Field(description="1-based position of the item on the order")
    quantity: int


class RequestIn(Schema):
    kind: str = Field(description="refund_only, return_refund or redelivery")
    reason: str = Field(description="quality, missing, wrong, damaged, late or other")
    description: str = Field("", description="at most 500 characters")
    items: list[ItemIn] = Field(default_factory=list, description="the items concerned; empty = the whole order")
    amount_fen: int | None = Field(None, description="refund asked; at most what was paid for the items and "
                                                     "not yet refunded; omitted = that maximum")
    photo_ids: list[str] = Field(default_factory=list, description="ids from POST /aftersales/photos, at most 9")


class TicketEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    actor_role: str
    note: str
    amount_fen: int | None
    at: str


class RequestOut(Schema):
    id: str
    order_id: str
    store_id: str
    kind: str
    reason: str
    description: str
    items: list[dict[str, int]]
    amount_fen: int
    cap_fen: int
    proposed_fen: int | None
    agreed_fen: int | None
    refunded_fen: int
    refund_ids: list[str]
    status: str
    status_label: str
    merchant_due_at: str
    sla_seconds_left: int | None = Field(description="while the store has to answer; negative when overdue")
    reject_reason: str
    arbitration_note: str
    photos: list[TicketPhotoOut]
    actions: list[str] = Field(description="what the caller may do now")
    timeline: list[TicketEventOut] | None = None
    created_at: str


class TicketReasonIn(Schema):
    reason: str = ""


class TicketNoteIn(Schema):
    note: str = ""


class PartialIn(Schema):
    amount_fen: int
    note: str = ""


class ArbitrateIn(Schema):
    amount_fen: int = Field(description="refund to make; 0 = none")
    note: str = Field(description="the decision's reason (shown to both sides)")


class TicketIn(Schema):
    subject_kind: str = Field(description="merchant, rider or platform")
    category: str = Field(description="food_safety, service, delivery, billing, fraud or other")
    description: str
    store_id: str = ""
    rider_id: str = ""
    order_id: str = ""
    priority: str = "normal"


class TicketOut(Schema):
    id: str
    subject_kind: str
    category: str
    priority: str
    status: str
    description: str
    store_id: str | None
    order_id: str | None
    due_at: str
    resolution: str
    created_at: str


class AssignIn(Schema):
    assignee_id: str = Field("", description="a support person's user id; empty = me")


class TextIn(Schema):
    text: str


# --- shaping ---------------------------------------------------------------------------------------

def request_out(req: AfterSalesRequest, *, role: str, timeline: bool = False) -> dict[str, Any]:
    now = timezone.now()
    return {
        "id": req.public_id, "order_id": req.order.public_id, "store_id": req.store.public_id, "kind": req.kind,
        "reason": req.reason, "description": req.description, "items": req.items, "amount_fen": req.amount_fen,
        "cap_fen": req.cap_fen, "proposed_fen": req.proposed_fen, "agreed_fen": req.agreed_fen,
        "refunded_fen": req.refunded_fen, "refund_ids": req.refund_ids, "status": req.status,
        "status_label": str(req.get_status_display()), "merchant_due_at": req.merchant_due_at.isoformat(),
        "sla_seconds_left": (sla_remaining_seconds(req.merchant_due_at, now)
                             if req.status == AfterSalesRequest.Status.SUBMITTED else None),
        "reject_reason": req.reject_reason, "arbitration_note": req.arbitration_note,
        "photos": [{"id": p.public_id, "url": p.image.url, "width": p.width, "height": p.height}
                   for p in req.photos.all()],
        "actions": [a for a in REQUEST_MACHINE.actions_from(req.status, role)
                    if services.action_allowed_for_kind(a, req.kind)],
        "timeline": [{"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
                      "actor_role": e.actor_role, "note": e.note, "amount_fen": e.amount_fen,
                      "at": e.created_at.isoformat()} for e in req.events.all()] if timeline else None,
        "created_at": req.created_at.isoformat(),
    }


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.public_id, "subject_kind": ticket.subject_kind, "category": ticket.category,
            "priority": ticket.priority, "status": ticket.status, "description": ticket.description,
            "store_id": ticket.store.public_id if ticket.store else None,
            "order_id": ticket.order.public_id if ticket.order else None, "due_at": ticket.due_at.isoformat(),
            "resolution": ticket.resolution, "created_at": ticket.created_at.isoformat()}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, no-any-return]


def _detail(req: AfterSalesRequest, role: str) -> dict[str, Any]:
    req = AfterSalesRequest.objects.select_related("order", "store").prefetch_related("photos", "events").get(
        pk=req.pk)
    return request_out(req, role=role, timeline=True)


# --- consumer --------------------------------------------------------------------------------------

@router.post("/aftersales/photos", response={201: TicketPhotoOut}, auth=jwt_auth,
             summary="Upload one after-sales photo (multipart field `file`; JPEG, PNG or WebP, ≤ 5 MB)")
def photo_upload(request: HttpRequest, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    photo = services.photo_upload(user=_user(request), upload=file)
    return Status(201, {"id": photo.public_id, "url": photo.image.url, "width": photo.width, "height": photo.height})


@router.post("/orders/{order_id}/aftersales", response={201: RequestOut}, auth=jwt_auth,
             summary="Ask for a refund, a return and refund, or a re-delivery (retry-safe with Idempotency-Key)")
def request_create(request: HttpRequest, order_id: str, payload: RequestIn,
                   idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:
    req = services.request_create(
        consumer=_user(request), order_id=order_id, kind=payload.kind, reason=payload.reason,
        description=payload.description, items=[services.ItemPick(i.line, i.quantity) for i in payload.items],
        amount_fen=payload.amount_fen, photo_ids=payload.photo_ids, idempotency_key=idempotency_key[:100])
    return Status(201, _detail(req, "consumer"))


@router.get("/me/aftersales", response=list[RequestOut], auth=jwt_auth, summary="My after-sales requests")
def my_requests(request: HttpRequest) -> list[dict[str, Any]]:
    return [request_out(r, role="consumer") for r in selectors.requests_of_consumer(user=_user(request))]


@router.get("/aftersales/{request_id}", response=RequestOut, auth=jwt_auth,
            summary="One of my requests with its timeline")
def request_detail(request: HttpRequest, request_id: str) -> dict[str, Any]:
    req = selectors.request_for_consumer(user=_user(request), request_id=request_id)
    return request_out(req, role="consumer", timeline=True)


@router.post("/aftersales/{request_id}/accept-partial", response=RequestOut, auth=jwt_auth,
             summary="Accept the store's partial refund (refunded at once for refund-only)")
def accept_partial(request: HttpRequest, request_id: str) -> dict[str, Any]:
    return _detail(services.request_accept_partial(consumer=_user(request), request_id=request_id), "consumer")


@router.post("/aftersales/{request_id}/escalate", response=RequestOut, auth=jwt_auth,
             summary="Ask the platform to arbitrate a rejected request or a partial offer")
def escalate(request: HttpRequest, request_id: str, payload: TicketReasonIn) -> dict[str, Any]:
    return _detail(services.request_escalate(consumer=_user(request), request_id=request_id,
                                             reason=payload.reason), "consumer")


@router.post("/aftersales/{request_id}/cancel", response=RequestOut, auth=jwt_auth,
             summary="Withdraw my request (before it is agreed)")
def cancel(request: HttpRequest, request_id: str) -> dict[str, Any]:
    return _detail(services.request_cancel(consumer=_user(request), request_id=request_id), "consumer")


@router.post("/aftersales/{request_id}/ship-back", response=RequestOut, auth=jwt_auth,
             summary="Return and refund: I sent the goods back (note: how, tracking number)")
def ship_back(request: HttpRequest, request_id: str, payload: TicketNoteIn) -> dict[str, Any]:
    return _detail(services.request_ship_back(consumer=_user(request), request_id=request_id,
                                              note=payload.note), "consumer")


# --- merchant --------------------------------------------------------------------------------------

@router.get("/merchant/aftersales", response=list[RequestOut], auth=jwt_auth, tags=["merchant"],
            summary="The after-sales queue of my stores, soonest SLA first (all=true: finished ones too)")
def merchant_queue(request: HttpRequest, store_id: str = "", all: bool = False) -> list[dict[str, Any]]:  # noqa: A002
    return [request_out(r, role="merchant")
            for r in selectors.merchant_queue(user=_user(request), store_id=store_id or None, open_only=not all)]


@router.get("/merchant/aftersales/{request_id}", response=RequestOut, auth=jwt_auth, tags=["merchant"],
            summary="One request on my store, with its timeline")
def merchant_detail(request: HttpRequest, request_id: str) -> dict[str, Any]:
    req = selectors.request_for_merchant(user=_user(request), request_id=request_id)
    return request_out(req, role="merchant", timeline=True)


@router.post("/merchant/aftersales/{request_id}/agree", response=RequestOut, auth=jwt_auth, tags=["merchant"],
             summary="Agree (refund-only: refunded at once)")
def merchant_agree(request: HttpRequest, request_id: str, payload: TicketNoteIn) -> dict[str, Any]:
    return _detail(services.merchant_agree(actor=_user(request), request_id=request_id, note=payload.note),
                   "merchant")


@router.post("/merchant/aftersales/{request_id}/reject", response=RequestOut, auth=jwt_auth, tags=["merchant"],
             summary="Reject, with a reason (the consumer may escalate)")
def merchant_reject(request: HttpRequest, request_id: str, payload: TicketReasonIn) -> dict[str, Any]:
    return _detail(services.merchant_reject(actor=_user(request), request_id=request_id, reason=payload.reason),
                   "merchant")


@router.post("/merchant/aftersales/{request_id}/propose-partial", response=RequestOut, auth=jwt_auth,
             tags=["merchant"], summary="Offer a partial refund (less than asked)")
def merchant_propose(request: HttpRequest, request_id: str, payload: PartialIn) -> dict[str, Any]:
    return _detail(services.merchant_propose_partial(actor=_user(request), request_id=request_id,
                                                     amount_fen=payload.amount_fen, note=payload.note), "merchant")


@router.post("/merchant/aftersales/{request_id}/confirm-return", response=RequestOut, auth=jwt_auth,
             tags=["merchant"], summary="Return and refund: the goods are back; refund now")
def merchant_confirm_return(request: HttpRequest, request_id: str, payload: TicketNoteIn) -> dict[str, Any]:
    return _detail(services.merchant_confirm_return(actor=_user(request), request_id=request_id,
                                                    note=payload.note), "merchant")


@router.post("/merchant/aftersales/{request_id}/resend", response=RequestOut, auth=jwt_auth, tags=["merchant"],
             summary="Re-delivery: the order was sent again")
def merchant_resend(request: HttpRequest, request_id: str, payload: TicketNoteIn) -> dict[str, Any]:
    return _detail(services.merchant_resend(actor=_user(request), request_id=request_id, note=payload.note),
                   "merchant")


# --- operator --------------------------------------------------------------------------------------

@router.get("/ops/aftersales/arbitration", response=list[RequestOut], auth=jwt_auth, tags=["operator"],
            summary="Escalated requests waiting for the platform, oldest first")
def arbitration_queue(request: HttpRequest) -> list[dict[str, Any]]:
    if not services.is_operator(_user(request)):
        raise PermissionDenied(surface="ops")
    qs = selectors.arbitration_queue().select_related("order", "store").prefetch_related("photos")[:200]
    return [request_out(r, role="operator") for r in qs]


@router.post("/ops/aftersales/{request_id}/arbitrate", response=RequestOut, auth=jwt_auth, tags=["operator"],
             summary="Decide an escalated request: refund amount_fen (0 = none); binding")
def arbitrate(request: HttpRequest, request_id: str, payload: ArbitrateIn) -> dict[str, Any]:
    return _detail(services.request_arbitrate(actor=_user(request), request_id=request_id,
                                              amount_fen=payload.amount_fen, note=payload.note), "operator")


# --- complaints ------------------------------------------------------------------------------------

@router.post("/complaints", response={201: TicketOut}, auth=jwt_auth,
             summary="Complain about a store, a rider or the platform")
def ticket_create(request: HttpRequest, payload: TicketIn) -> Status[dict[str, Any]]:
    ticket = complaints.ticket_create(reporter=_user(request), subject_kind=payload.subject_kind,
                                      category=payload.category, description=payload.description,
                                      store_id=payload.store_id, rider_id=payload.rider_id,
                                      order_id=payload.order_id, priority=payload.priority)
    return Status(201, ticket_out(ticket))


@router.get("/me/complaints", response=list[TicketOut], auth=jwt_auth, summary="My complaints")
def my_tickets(request: HttpRequest) -> list[dict[str, Any]]:
    return [ticket_out(t) for t in selectors.tickets_of_reporter(user=_user(request))]


@router.get("/complaints/{ticket_id}", response=TicketOut, auth=jwt_auth,
            summary="One of my complaints (support's internal notes are never shown)")
def ticket_detail(request: HttpRequest, ticket_id: str) -> dict[str, Any]:
    return ticket_out(selectors.ticket_for_reporter(user=_user(request), ticket_id=ticket_id))


@router.post("/complaints/{ticket_id}/close", response=TicketOut, auth=jwt_auth,
             summary="Close a resolved complaint (operators: any open one)")
def ticket_close(request: HttpRequest, ticket_id: str, payload: TicketNoteIn) -> dict[str, Any]:
    return ticket_out(complaints.ticket_close(actor=_user(request), ticket_id=ticket_id, note=payload.note))


@router.post("/complaints/{ticket_id}/reopen", response=TicketOut, auth=jwt_auth,
             summary="Not satisfied with the resolution: back to support")
def ticket_reopen(request: HttpRequest, ticket_id: str, payload: TicketNoteIn) -> dict[str, Any]:
    return ticket_out(complaints.ticket_reopen(reporter=_user(request), ticket_id=ticket_id, note=payload.note))


@router.post("/ops/complaints/{ticket_id}/assign", response=TicketOut, auth=jwt_auth, tags=["operator"],
             summary="Assign to a support person (default: me)")
def ticket_assign(request: HttpRequest, ticket_id: str, payload: AssignIn) -> dict[str, Any]:
    actor = _user(request)
    assignee = (User.objects.filter(public_id=payload.assignee_id).first() if payload.assignee_id else actor)
    if assignee is None:
        raise complaints.errors.InvalidAssignee(assignee=payload.assignee_id)
    return ticket_out(complaints.ticket_assign(actor=actor, ticket_id=ticket_id, assignee=assignee))


@router.post("/ops/complaints/{ticket_id}/notes", response={201: dict}, auth=jwt_auth, tags=["operator"],
             summary="Add an internal note (never shown to the reporter)")
def ticket_note(request: HttpRequest, ticket_id: str, payload: TextIn) -> Status[dict[str, Any]]:
    note = complaints.ticket_note_add(actor=_user(request), ticket_id=ticket_id, text=payload.text)
    return Status(201, {"ticket_id": ticket_id, "text": note.text, "created_at": note.created_at.isoformat()})


@router.post("/ops/complaints/{ticket_id}/resolve", response=TicketOut, auth=jwt_auth, tags=["operator"],
             summary="Resolve with the resolution the reporter sees")
def ticket_resolve(request: HttpRequest, ticket_id: str, payload: TextIn) -> dict[str, Any]:
    return ticket_out(complaints.ticket_resolve(actor=_user(request), ticket_id=ticket_id, resolution=payload.text))
