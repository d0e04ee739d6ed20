"""GET /me/member-code: the member's dynamic code, as digits and as a QR code (SVG)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from linli.core.auth import jwt_auth
from linli.core.qrcode import qr_svg

from .member_codes import member_code_show

router = Router(tags=["member code"])


class MemberCodeOut(Schema):
    code: str
    expires_at: datetime
    refresh_in: int
    qr_svg: str


@router.get("/me/member-code", response=MemberCodeOut, auth=jwt_auth,
            summary="My dynamic member code (refresh every 30 s; usable once)")
def my_member_code(request: HttpRequest) -> dict[str, Any]:
    shown = member_code_show(user=request.auth)  # type: ignore[attr-defined]
    return {"code": shown.code, "expires_at": shown.expires_at, "refresh_in": shown.refresh_in,
            "qr_svg": qr_svg(shown.code, scale=4, nl=False)}
