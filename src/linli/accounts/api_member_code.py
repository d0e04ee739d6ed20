"""GET /me/member-code: the member's dynamic code, as digits and as a QR code (SVG)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno
from django.http import HttpRequest
from ninja import Router, Schema

from linli.core.auth import jwt_auth

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
    out = io.BytesIO()
    segno.make(shown.code, error="m", micro=False).save(out, kind="svg", scale=4, xmldecl=False,
                                                        svgns=True, nl=False)
    return {"code": shown.code, "expires_at": shown.expires_at, "refresh_in": shown.refresh_in,
            "qr_svg": out.getvalue().decode()}
