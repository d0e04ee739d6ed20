"""/merchant/stores/{store_id}/members: the owner's staff management (add by phone with a
role, change a role, remove). Parse, call one `services` function, shape. Mounted under
`api_store.router`."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from linli.accounts.phone import phone_mask
from linli.core.auth import jwt_auth

from . import roles, services
from .models import MerchantMember

router = Router(tags=["merchant console"], auth=jwt_auth)

RoleName = Literal["owner", "manager", "cashier"]


class MemberIn(Schema):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=32)
    role: RoleName
    password: str = Field("", max_length=128,
                          description="initial password for a new account (>= 8 characters); "
                          "an existing account keeps its own")
    display_name: str = Field("", max_length=64)


class MemberPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    role: RoleName


class MemberOut(Schema):
    id: str = Field(description="the member's user id")
    display_name: str
    phone: str = Field(description="masked")
    role: str = Field(description="owner, manager or cashier")
    permissions: list[str]
    joined_at: str


class MemberAdded(MemberOut):
    account_created: bool = Field(description="false: the phone already had an account, "
                                  "whose password was left as it was")


def member_out(member: MerchantMember) -> dict[str, Any]:
    role = roles.canonical(member.role) or member.role
    return {"id": member.user.public_id, "display_name": member.user.display_name,
            "phone": phone_mask(member.user.phone or ""), "role": role,
            "permissions": sorted(roles.permissions_of(role)),
            "joined_at": member.created_at.isoformat()}


@router.get("/merchant/stores/{store_id}/members", response=list[MemberOut],
            summary="The merchant's staff and their roles (owner)")
def member_list(request: HttpRequest, store_id: str) -> list[dict[str, Any]]:
    return [member_out(m) for m in services.members_list(actor=request.auth,  # type: ignore[arg-type]
                                                         store_id=store_id)]


@router.post("/merchant/stores/{store_id}/members", response={201: MemberAdded},
             summary="Add a person by phone with a role (owner); unknown phones get an account")
def member_add(request: HttpRequest, store_id: str, payload: MemberIn) -> Status[dict[str, Any]]:
    member, created = services.member_add(
        actor=request.auth, store_id=store_id, phone=payload.phone,  # type: ignore[arg-type]
        role=payload.role, password=payload.password, display_name=payload.display_name)
    return Status(201, {**member_out(member), "account_created": created})


@router.patch("/merchant/stores/{store_id}/members/{user_id}", response=MemberOut,
              summary="Change a member's role (owner; not your own, never the last owner)")
def member_role(request: HttpRequest, store_id: str, user_id: str, payload: MemberPatch) -> dict[str, Any]:
    return member_out(services.member_role_set(actor=request.auth, store_id=store_id,  # type: ignore[arg-type]
                                               user_id=user_id, role=payload.role))


@router.delete("/merchant/stores/{store_id}/members/{user_id}", response={204: None},
               summary="Remove a member (owner; not yourself, never the last owner)")
def member_remove(request: HttpRequest, store_id: str, user_id: str) -> Status[None]:
    services.member_remove(actor=request.auth, store_id=store_id, user_id=user_id)  # type: ignore[arg-type]
    return Status(204, None)
