"""/auth and /me: thin handlers over accounts.services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth
from linli.core.ratelimit import client_address

from . import services
from .models import User
from .phone import phone_mask
from .selectors import user_roles

router = Router(tags=["auth"])


class SmsCodeIn(Schema):
    phone: str = Field(max_length=32, examples=["13800138000"])


class SmsCodeOut(Schema):
    expires_in: int
    resend_in: int


class SmsLoginIn(Schema):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=12)


class PasswordLoginIn(Schema):
    login: str = Field(min_length=1, max_length=64, description="username or phone")
    password: str = Field(min_length=1, max_length=128)


class RefreshIn(Schema):
    refresh_token: str = Field(min_length=1, max_length=2048)


class UserOut(Schema):
    id: str
    phone: str | None
    display_name: str
    roles: list[str]


class TokenOut(Schema):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: UserOut


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.public_id,
        "phone": phone_mask(user.phone) if user.phone else None,
        "display_name": user.display_name,
        "roles": user_roles(user=user),
    }


def _token_out(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "user": user_out(result["user"])}


@router.post("/auth/sms-code", response={202: SmsCodeOut}, summary="Send a login code by SMS")
def sms_code(request: HttpRequest, payload: SmsCodeIn) -> Status[dict[str, int]]:
    return Status(202, services.sms_code_send(phone=payload.phone))


@router.post("/auth/login", response=TokenOut, summary="Log in (or sign up) with an SMS code")
def login(request: HttpRequest, payload: SmsLoginIn) -> dict[str, Any]:
    return _token_out(services.auth_login_sms(phone=payload.phone, code=payload.code))


@router.post("/auth/password-login", response=TokenOut, summary="Staff and operator password login")
def password_login(request: HttpRequest, payload: PasswordLoginIn) -> dict[str, Any]:
    return _token_out(services.auth_login_password(login=payload.login, password=payload.password,
                                                   address=client_address(request)))


@router.post("/auth/refresh", response=TokenOut, summary="Exchange a refresh token for new tokens")
def refresh(request: HttpRequest, payload: RefreshIn) -> dict[str, Any]:
    return _token_out(services.auth_refresh(refresh_token=payload.refresh_token))


@router.get("/me", response=UserOut, auth=jwt_auth, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    return user_out(request.auth)  # type: ignore[attr-defined]
