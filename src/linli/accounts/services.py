"""Account use cases: SMS codes, logins and token refresh."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping
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

from linli.core.compiled import CompiledQuery
from linli.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from linli.core.ratelimit import login_check, login_failed, login_succeeded

from .events import phone_verified_on_commit
from .models import Address, SmsCode, User, phone_hash, username_new
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
    return f"sms:cooldown:{phone_hash(phone)}"  # no plaintext phone in Redis either


def sms_code_send(*, phone: str) -> dict[str, int]:
    """Send a login code. One send per phone per minute, ten per local day."""
    phone = phone_normalise(phone, region=settings.LINLI_DEFAULT_REGION)
    cooldown = settings.LINLI_SMS_RESEND_SECONDS
    # cache.add is atomic (SET NX on Redis): two concurrent requests cannot both pass. It
    # answers None when Redis is unreachable: the cooldown then fails open (the daily limit
    # below is counted in the database and still holds).
    if cache.add(sms_cooldown_key(phone), 1, timeout=cooldown) is False:
        raise SmsTooFrequent(retry_after_s=cooldown)
    now = timezone.now()
    hashed = phone_hash(phone)
    sent_today = SmsCode.objects.filter(phone_hash=hashed, created_at__gte=_local_midnight(now)).count()
    if sent_today >= settings.LINLI_SMS_DAILY_LIMIT:
        raise SmsDailyLimit(limit=settings.LINLI_SMS_DAILY_LIMIT)
    code = f"{secrets.randbelow(10**6):06d}"
    ttl: timedelta = settings.LINLI_SMS_CODE_TTL
    with transaction.atomic():
        # A new code replaces older unused ones.
        SmsCode.objects.filter(phone_hash=hashed, consumed_at__isnull=True).update(consumed_at=now)
        SmsCode.objects.create(
            phone_hash=hashed, code_hash=_code_hash(phone, code), created_at=now, expires_at=now + ttl
        )
    minutes = int(ttl.total_seconds() // 60)
    get_sms_provider().send(
        phone=phone, text=f"【邻里】验证码 {code}，{minutes} 分钟内有效。Linli code {code}."
    )
    return {"expires_in": int(ttl.total_seconds()), "resend_in": cooldown}


def _sms_code_check(*, phone: str, code: str) -> None:
    now = timezone.now()
    sms = (
        SmsCode.objects.filter(phone_hash=phone_hash(phone), consumed_at__isnull=True, expires_at__gt=now)
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


def _user_for_phone(phone: str) -> tuple[User, bool]:
    user = User.objects.filter(phone_hash=phone_hash(phone)).first()
    if user is not None:
        return user, False
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username_new(), phone=phone), True
    except IntegrityError:  # created concurrently by another login
        return User.objects.get(phone_hash=phone_hash(phone)), False


def auth_login_sms(*, phone: str, code: str) -> dict[str, Any]:
    """Log in (signing up on first use) with a phone number and the code sent to it."""
    phone = phone_normalise(phone, region=settings.LINLI_DEFAULT_REGION)
    if not (code.isdigit() and len(code) == 6):
        raise SmsCodeInvalid()
    _sms_code_check(phone=phone, code=code)
    user, created = _user_for_phone(phone)
    if not user.is_active:
        raise BadCredentials()
    phone_verified_on_commit(user, created=created)  # e.g. the counter attaches sales made by phone
    return {"user": user, **token_pair_issue(user_public_id=user.public_id, token_version=user.token_version)}


def auth_login_password(*, login: str, password: str, address: str = "") -> dict[str, Any]:
    """Password login for merchant staff and operators; `login` is a username or phone.
    Repeated failures for one login from one address lock it for a while
    (`core.ratelimit`, 429 `login_locked`), checked before the password is."""
    login_check(login, address)
    try:
        done = _login_password(login=login, password=password)
    except BadCredentials:
        login_failed(login, address)
        raise
    login_succeeded(login, address)
    return done


def _login_password(*, login: str, password: str) -> dict[str, Any]:
    username = login.strip()
    try:
        phone: str | None = phone_normalise(username, region=settings.LINLI_DEFAULT_REGION)
    except InvalidInput:
        phone = None
    if phone:
        by_phone = User.objects.filter(phone_hash=phone_hash(phone)).values_list("username", flat=True).first()
        username = by_phone or username
    user = authenticate(username=username, password=password)
    if user is None:
        raise BadCredentials()
    return {"user": user, **token_pair_issue(user_public_id=user.public_id, token_version=user.token_version)}


# Every authenticated request reads its user: the SQL is built once (core.compiled).
_ACTIVE_USER = CompiledQuery(User, lambda public_id: User.objects.filter(public_id=public_id, is_active=True)[:1])


def user_from_token(*, token: str, expected_type: str = "access") -> User:
    claims = token_decode(token, expected_type=expected_type)
    found = _ACTIVE_USER.fetch(str(claims["sub"]))
    user = found[0] if found else None
    if user is None or user.token_version != claims.get("tv"):
        raise InvalidToken()
    return user


def auth_refresh(*, refresh_token: str) -> dict[str, Any]:
    user = user_from_token(token=refresh_token, expected_type="refresh")
    return {"user": user, **token_pair_issue(user_public_id=user.public_id, token_version=user.token_version)}


# --- the address book (地址簿) ----------------------------------------------------------
# Every write goes through `_address_clean`, so the API and the H5 form refuse the same
# input with the same error: `invalid_address` with details.fields = {field: reason}.

MAX_ADDRESSES = 20
ADDRESS_FIELDS = ("label", "contact_name", "contact_phone", "text", "detail", "lat", "lng",
                  "is_default")
_ADDRESS_LIMITS = {"label": 20, "contact_name": 50, "text": 200, "detail": 100}


class InvalidAddress(InvalidInput):
    code = "invalid_address"
    message = _("Some fields of the address are missing or wrong.")


class AddressNotLocated(InvalidInput):
    code = "address_not_located"
    message = _("We could not find this address; use your location or enter its coordinates.")


class AddressNotFound(NotFound):
    code = "address_not_found"
    message = _("The address does not exist.")


class AddressBookFull(Conflict):
    code = "address_book_full"
    message = _("The address book is full; delete an address first.")


def _coordinate(raw: object, low: float, high: float) -> tuple[float | None, str | None]:
    """(value, None), (None, None) when blank, or (None, reason)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if isinstance(raw, bool):
        return None, "not_a_number"
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, "not_a_number"
    if not math.isfinite(value):
        return None, "not_a_number"
    if not low <= value <= high:
        return None, "out_of_range"
    return value, None


def _address_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Checked, normalised fields (only those given), or InvalidAddress naming every bad field."""
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in _ADDRESS_LIMITS.items():
        if name in data:
            value = data[name]
            if not isinstance(value, str):
                problems[name] = "not_text"
                continue
            value = " ".join(value.split())
            if len(value) > limit:
                problems[name] = "too_long"
            elif not value and name in ("contact_name", "text"):
                problems[name] = "required"
            else:
                out[name] = value
    if "contact_phone" in data:
        try:
            out["contact_phone"] = phone_normalise(str(data["contact_phone"] or "").strip(),
                                                   region=settings.LINLI_DEFAULT_REGION)
        except DomainError:
            problems["contact_phone"] = "invalid_phone"
    for name, low, high in (("lat", -90.0, 90.0), ("lng", -180.0, 180.0)):
        if name in data:
            value, reason = _coordinate(data[name], low, high)
            if reason:
                problems[name] = reason
            else:
                out[name] = value
    if ("lat" in out) != ("lng" in out) or (out.get("lat") is None) != (out.get("lng") is None):
        for name in ("lat", "lng"):
            if name not in problems and out.get(name) is None:
                problems[name] = "required_with_the_other"
    if "is_default" in data:
        out["is_default"] = bool(data["is_default"])
    if problems:
        raise InvalidAddress(fields=problems)
    return out


def _address_place(address: Address, *, point_given: bool) -> None:
    """Fill the point from the text when none was given, then what is there (area, city)."""
    from .gazetteer import gazetteer

    places = gazetteer()
    if not point_given:
        match = places.geocode(address.text)
        if match is None:
            raise AddressNotLocated(text=address.text)
        address.lat, address.lng = match.lat, match.lng
        address.located_by = Address.LocatedBy.TEXT
    else:
        address.located_by = Address.LocatedBy.DEVICE
    reverse = places.reverse(address.lat, address.lng)
    address.area = reverse.label if reverse else ""
    address.city_code = reverse.city if reverse else ""


def _lock_book(user: User) -> None:
    """Serialise writes to one user's address book (default flag, size limit)."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()


def _make_default(user: User, address: Address) -> None:
    Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
    if not address.is_default:
        address.is_default = True
        address.save(update_fields=["is_default", "updated_at"])


def _own_address(user: User, address_id: str) -> Address:
    address = Address.objects.filter(user=user, public_id=address_id).first()
    if address is None:
        raise AddressNotFound(address_id=address_id)  # someone else's: as if it did not exist
    return address


@transaction.atomic
def address_create(*, user: User, data: Mapping[str, Any]) -> Address:
    """Save a new address. Without lat/lng the text is geocoded; the first address, or one
    asked to be, becomes the default."""
    missing = {f: "required" for f in ("contact_name", "contact_phone", "text") if f not in data}
    if missing:
        try:
            _address_clean(data)
        except InvalidAddress as exc:
            missing |= exc.details["fields"]
        raise InvalidAddress(fields=missing)
    clean = _address_clean(data)
    _lock_book(user)
    if Address.objects.filter(user=user).count() >= MAX_ADDRESSES:
        raise AddressBookFull(max=MAX_ADDRESSES)
    want_default = clean.pop("is_default", False) or not Address.objects.filter(user=user).exists()
    address = Address(user=user, **{k: v for k, v in clean.items() if k not in ("lat", "lng")})
    point_given = clean.get("lat") is not None
    if point_given:
        address.lat, address.lng = clean["lat"], clean["lng"]
    _address_place(address, point_given=point_given)
    address.save()
    if want_default:
        _make_default(user, address)
    return address


@transaction.atomic
def address_update(*, user: User, address_id: str, data: Mapping[str, Any]) -> Address:
    """Change some fields. A new text without a new point is geocoded again; a new point
    is kept as given. `is_default: true` makes it the default (false is ignored: choose
    another default instead)."""
    clean = _address_clean(data)
    _lock_book(user)
    address = _own_address(user, address_id)
    make_default = clean.pop("is_default", False)
    point_given = "lat" in clean and clean["lat"] is not None
    text_changed = "text" in clean and clean["text"] != address.text
    for name, value in clean.items():
        if name not in ("lat", "lng"):
            setattr(address, name, value)
    if point_given:
        address.lat, address.lng = clean["lat"], clean["lng"]
    if point_given or text_changed:
        _address_place(address, point_given=point_given)
    address.save()
    if make_default:
        _make_default(user, address)
    return address


@transaction.atomic
def address_delete(*, user: User, address_id: str) -> None:
    """Delete it; when it was the default, the most recently used other address takes over."""
    _lock_book(user)
    address = _own_address(user, address_id)
    was_default = address.is_default
    address.delete()
    if was_default:
        successor = Address.objects.filter(user=user).order_by("-updated_at", "-id").first()
        if successor is not None:
            _make_default(user, successor)


@transaction.atomic
def address_set_default(*, user: User, address_id: str) -> Address:
    _lock_book(user)
    address = _own_address(user, address_id)
    _make_default(user, address)
    return address


def address_locate(*, data: Mapping[str, Any]) -> Address:
    """Where the address form's text and point are, without saving: the point (geocoded
    from the text when none is given) and what the gazetteer says is there."""
    clean = _address_clean({k: data[k] for k in ("text", "lat", "lng") if k in data})
    if not clean.get("text"):
        raise InvalidAddress(fields={"text": "required"})
    address = Address(text=clean["text"])
    point_given = clean.get("lat") is not None
    if point_given:
        address.lat, address.lng = clean["lat"], clean["lng"]
    _address_place(address, point_given=point_given)
    return address
