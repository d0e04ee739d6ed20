"""/me/data-export and /me/delete-account: thin handlers over accounts.data_rights."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema
from pydantic import Field

from linli.core.auth import jwt_auth

from . import data_rights

router = Router(tags=["auth"])


class DeleteAccountIn(Schema):
    confirm: str = Field(max_length=16, examples=["DELETE"])


class DeleteAccountOut(Schema):
    id: str
    deleted: bool


@router.get("/me/data-export", auth=jwt_auth, summary="Download a copy of all my data (JSON)",
            response={200: dict})
def data_export(request: HttpRequest) -> JsonResponse:
    document = data_rights.data_export(user=request.auth)  # type: ignore[attr-defined]
    response = JsonResponse(document, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="linli-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@router.post("/me/delete-account", auth=jwt_auth, response=DeleteAccountOut,
             summary="Delete my account (anonymised; finance records are kept)")
def delete_account(request: HttpRequest, payload: DeleteAccountIn) -> dict[str, object]:
    user = data_rights.account_delete(user=request.auth, confirm=payload.confirm)  # type: ignore[attr-defined]
    return {"id": user.public_id, "deleted": True}
