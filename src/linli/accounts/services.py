"""Account use cases: SMS codes, logins and token refresh."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.errors import InvalidInput, NotAuthenticated, RateLimited

from .models import SmsCode, User
from .phone import phone_normalise
from .sms import get_sms_provider
from .tokens import InvalidToken, token_decode, token_pair_issue


class SmsTooFrequent(RateLimited):
    code = "sms_too_frequent"
    message = _("A code was sent less than a minute ago; please wait before asking again.")


class SmsDailyLimit(RateLimited):
    code = "sms_daily_limit"
    message = _("Too many codes were sent to this phone today.")


class SmsCodeInvalid(InvalidInput):
    code = "sms_code_invalid"
    status = 400
    message = _("The verification code is wrong.")


class SmsCodeExpired(InvalidInput):
    code = "sms_code_expired"
    status = 400
    message = _("The verification code has expired or was not requested; ask for a new one.")


class SmsCodeAttemptsExceeded(RateLimited):
    code = "sms_code_attempts_exceeded"
    message = _("Too many wrong codes; ask for a new one.")


class BadCredentials(NotAuthenticated):
    code = "bad_credentials"
    message = _("Wrong account or password.")


def _code_hash(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _local_midnight(now: datetime) -> datetime:
    tz = ZoneInfo(settings.LINLI_DEFAULT_CITY_TZ)
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def sms_cooldown_key(phone: str) -> str:
    return f"sms:cooldown:{phone}"


def sms_code_send(*, phone: str) -> dict[str, int]:
    """Send a login code. One send per phone per minute, ten per local day."""
    phone = phone_normalise(phone, region=settings.LINLI_DEFAULT_REGION)
    cooldown = settings.LINLI_SMS_RESEND_SECONDS
    # cache.add is atomic (SET NX on Redis): two concurrent requests cannot both pass.
    if not cache.add(sms_cooldown_key(phone), 1, timeout=cooldown):
        raise SmsTooFrequent(retry_after_s=cooldown)
    now = timezone.now()
    sent_today = SmsCode.objects.filter(phone=phone, created_at__gte=_local_midnight(now)).count()
    if sent_today >= settings.LINLI_SMS_DAILY_LIMIT:
        raise SmsDailyLimit(limit=settings.LINLI_SMS_DAILY_LIMIT)
    code = f"{secrets.randbelow(10**6):06d}"
    ttl: timedelta = settings.LINLI_SMS_CODE_TTL
    with transaction.atomic():
        # A new code replaces older unused ones.
        SmsCode.objects.filter(phone=phone, consumed_at__isnull=True).update(consumed_at=now)
        SmsCode.objects.create(
            phone=phone, code_hash=_code_hash(phone, code), created_at=now, expires_at=now + ttl
        )
    minutes = int(ttl.total_seconds() // 60)
    get_sms_provider().send(
        phone=phone, text=f"【邻里】验证码 {code}，{minutes} 分钟内有效。Linli code {code}."
    )
    return {"expires_in": int(ttl.total_seconds()), "resend_in": cooldown}


def _sms_code_check(*, phone: str, code: str) -> None:
    now = timezone.now()
    sms = (
        SmsCode.objects.filter(phone=phone, consumed_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if sms is None:
        raise SmsCodeExpired()
    if sms.attempts >= settings.LINLI_SMS_MAX_ATTEMPTS:
        raise SmsCodeAttemptsExceeded()
    if not hmac.compare_digest(sms.code_hash, _code_hash(phone, code)):
        # Counted outside any caller's transaction so the failed attempt sticks.
        SmsCode.objects.filter(pk=sms.pk).update(attempts=F("attempts") + 1)
        remaining = settings.LINLI_SMS_MAX_ATTEMPTS - sms.attempts - 1
        if remaining <= 0:
            raise SmsCodeAttemptsExceeded()
        raise SmsCodeInvalid(attempts_left=remaining)
    # Consume with a conditional update: of two concurrent logins with one code, one wins.
    used = SmsCode.objects.filter(pk=sms.pk, consumed_at__isnull=True).update(consumed_at=now)
    if not used:
        raise SmsCodeExpired()


def _user_for_phone(phone: str) -> User:
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            return User.objects.create_user(username=phone, phone=phone)
    except IntegrityError:  # created concurrently by another login
        return User.objects.get(phone=phone)


def auth_login_sms(*, phone: str, code: str) -> dict[str, Any]:
    """Log in (signing up on first use) with a phone number and the code sent to it."""
    phone = phone_normalise(phone, region=settings.LINLI_DEFAULT_REGION)
    if not (code.isdigit() and len(code) == 6):
        raise SmsCodeInvalid()
    _sms_code_check(phone=phone, code=code)
    user = _user_for_phone(phone)
    if not user.is_active:
        raise BadCredentials()
    return {"user": user, **token_pair_issue(user_public_id=user.public_id, token_version=user.token_version)}


def auth_login_password(*, login: str, password: str) -> dict[str, Any]:
    """Password login for merchant staff and operators; `login` is a username or phone."""
    username = login.strip()
    try:
        phone: str | None = phone_normalise(username, region=settings.LINLI_DEFAULT_REGION)
    except InvalidInput:
        phone = None
    if phone:
        by_phone = User.objects.filter(phone=phone).values_list("username", flat=True).first()
        username = by_phone or username
    user = authenticate(username=username, password=password)
    if user is None:
        raise BadCredentials()
    return {"user": user, **token_pair_issue(user_public_id=user.public_id, token_version=user.token_version)}


def user_from_token(*, token: str, expected_type: str = "access") -> User:
    claims = token_decode(token, expected_type=expected_type)
    user = User.objects.filter(public_id=claims["sub"], is_active=True).first()
    if user is None or user.token_version != claims.get("tv"):
        raise InvalidToken()
    return user


def auth_refresh(*, refresh_token: str) -> dict[str, Any]:
    user = user_from_token(token=refresh_token, expected_type="refresh")
    return {"user": user, **token_pair_issue(user_public_id=user.public_id, token_version=user.token_version)}
