"""The store profile as the merchant console edits it: details, hours, delivery terms,
the busy toggle and photos.

Owners and managers edit and pause ("busy, not taking orders"); cashiers only read
(the table is in `roles`). A store of a merchant the user does not work for is answered
as not found. Each use case is one
transaction on the locked store row, and invalid input changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.accounts.phone import phone_normalise
from linli.core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied

from . import roles
from .hours import HoursError, _checked_minutes, hours_validate, special_hours_validate
from .models import MerchantMember, Store, StorePhoto
from .selectors import StoreNotFound, merchant_role_for_store, role_require
from .services import h3_cell_for
from .uploads import TooManyFiles, image_check
from .zones import FeeTierError, ZoneError, fee_tiers_validate, zone_validate

MAX_PHOTOS = 9
MAX_TAGS, MAX_TAG_LENGTH = 10, 12
INT_RANGES = {  # field -> (min, max)
    "avg_price_fen": (0, 10_000_000),
    "delivery_radius_m": (100, 20_000),
    "min_order_fen": (0, 1_000_000),
    "delivery_fee_fen": (0, 100_000),
    "packaging_fee_fen": (0, 100_000),
    "prep_minutes": (1, 180),
    "night_surcharge_fen": (0, 100_000),  # pricing: the night surcharge, 0 = none
}
TEXT_LIMITS = {"name": 100, "address": 255}
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")  # no line breaks in names; PostgreSQL refuses NUL
EDITABLE_FIELDS = frozenset({
    *INT_RANGES, *TEXT_LIMITS, "phone", "lat", "lng", "tags", "opening_hours", "special_hours",
    "delivery_zone", "delivery_fee_tiers", "night_start", "night_end",
})


class InvalidHours(InvalidInput):
    code = "invalid_hours"
    message = _("The opening hours are invalid: periods must not overlap or end before they start.")


class InvalidDeliveryZone(InvalidInput):
    code = "invalid_delivery_zone"
    message = _("The delivery zone must be a simple polygon of at least 3 distinct points.")


class InvalidFeeTiers(InvalidInput):
    code = "invalid_fee_tiers"
    message = _("Delivery fee tiers must ascend by distance and have fees of 0 or more.")


class InvalidNightWindow(InvalidInput):
    code = "invalid_night_window"
    message = _("The night surcharge window needs a start and an end as HH:MM, and they must differ.")


class InvalidTags(InvalidInput):
    code = "invalid_tags"
    message = _("A store has at most 10 tags of at most 12 characters each.")


class PhotoNotFound(NotFound):
    code = "photo_not_found"
    message = _("The photo does not exist.")


# --- reads ---------------------------------------------------------------------------------

def _console_store(*, user: User, store_id: str, lock: bool = False) -> tuple[Store, str]:
    """The store and the user's role at its merchant; a stranger's store is not found."""
    rows = Store.objects.select_for_update() if lock else Store.objects.select_related("category")
    store = rows.filter(public_id=store_id).first() if "\x00" not in store_id else None
    if store is None:
        raise StoreNotFound(store_id=store_id)
    try:
        role = merchant_role_for_store(user=user, store=store)
    except PermissionDenied:
        raise StoreNotFound(store_id=store_id) from None
    return store, role


def _require(role: str, permission: str = roles.STORE_EDIT) -> None:
    role_require(role=role, permission=permission)


def stores_for_console(*, user: User) -> list[tuple[Store, str]]:
    """Every store of every merchant the user works for, with the user's role there."""
    roles = dict(MerchantMember.objects.filter(user=user).values_list("merchant_id", "role"))
    stores = (Store.objects.filter(merchant_id__in=list(roles)).select_related("category")
              .prefetch_related(Prefetch("photos", queryset=StorePhoto.objects.order_by("sort", "id")))
              .order_by("created_at", "id"))
    return [(store, roles[store.merchant_id]) for store in stores]


def store_for_console(*, user: User, store_id: str) -> tuple[Store, str]:
    return _console_store(user=user, store_id=store_id)


def photo_public_id(photo: StorePhoto) -> str:
    """Photos are named `pho_<id>.<ext>` when stored; the stem is the id clients see."""
    return PurePosixPath(photo.image.name).stem


# --- field rules ---------------------------------------------------------------------------

def _tags_clean(value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise InvalidTags(max_tags=MAX_TAGS)
    tags: list[str] = []
    for raw in value:
        tag = raw.strip() if isinstance(raw, str) else ""
        if not tag or len(tag) > MAX_TAG_LENGTH or CONTROL_CHARS.search(tag):
            raise InvalidTags(tag=str(raw), max_length=MAX_TAG_LENGTH)
        if tag not in tags:
            tags.append(tag)
    return tags


def _int_in_range(field: str, value: object) -> int:
    low, high = INT_RANGES[field]
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        raise InvalidInput(field=field, min=low, max=high)
    return value


def _text(field: str, value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > TEXT_LIMITS[field] or CONTROL_CHARS.search(text):
        raise InvalidInput(field=field, max_length=TEXT_LIMITS[field])
    return text


def _apply_profile(store: Store, changes: Mapping[str, Any]) -> None:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(fields=sorted(unknown))
    for field in TEXT_LIMITS:
        if field in changes:
            setattr(store, field, _text(field, changes[field]))
    for field in INT_RANGES:
        if field in changes:
            setattr(store, field, _int_in_range(field, changes[field]))
    if "phone" in changes:
        raw = (changes["phone"] or "").strip()
        store.phone = phone_normalise(raw, region=settings.LINLI_DEFAULT_REGION) if raw else ""
    if "lat" in changes or "lng" in changes:
        lat, lng = changes.get("lat"), changes.get("lng")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lng)):
            raise InvalidInput(fields=["lat", "lng"], reason="send both")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # type: ignore[operator]
            raise InvalidInput(fields=["lat", "lng"], reason="out of range")
        store.lat, store.lng = float(lat), float(lng)  # type: ignore[arg-type]
        store.h3_cell = h3_cell_for(store.lat, store.lng)
    if "tags" in changes:
        store.tags = _tags_clean(changes["tags"])
    try:
        if "opening_hours" in changes:
            store.opening_hours = hours_validate(changes["opening_hours"])
        if "special_hours" in changes or "opening_hours" in changes:
            # New weekly hours can clash with the special dates' spill, so both are rechecked.
            special = changes.get("special_hours", store.special_hours)
            store.special_hours = special_hours_validate(special or {}, weekly=store.opening_hours)
    except HoursError as exc:
        raise InvalidHours(**exc.details) from exc
    if "delivery_zone" in changes:
        try:
            zone = changes["delivery_zone"]
            store.delivery_zone = zone_validate(zone) if zone is not None else None
        except ZoneError as exc:
            raise InvalidDeliveryZone(**exc.details) from exc
    if "delivery_fee_tiers" in changes:
        try:
            store.delivery_fee_tiers = fee_tiers_validate(changes["delivery_fee_tiers"] or [])
        except FeeTierError as exc:
            raise InvalidFeeTiers(**exc.details) from exc
    if "night_start" in changes or "night_end" in changes:
        _night_window_apply(store, changes)


def _night_window_apply(store: Store, changes: Mapping[str, Any]) -> None:
    """The night surcharge window [start, end), store-local "HH:MM" (00:00 to 24:00); an end
    not after the start runs past midnight (22:00-06:00). Start and end must differ."""
    start, end = changes.get("night_start", store.night_start), changes.get("night_end", store.night_end)
    minutes = []
    for field, value in (("night_start", start), ("night_end", end)):
        try:
            minutes.append(_checked_minutes(value))
        except HoursError:
            raise InvalidNightWindow(field=field, value=str(value)) from None
    if minutes[0] % (24 * 60) == minutes[1] % (24 * 60):
        raise InvalidNightWindow(field="night_end", reason="empty_window", night_start=start, night_end=end)
    store.night_start, store.night_end = start, end


# --- writes --------------------------------------------------------------------------------

@transaction.atomic
def store_profile_update(*, actor: User, store_id: str, changes: Mapping[str, Any]) -> Store:
    """An owner or manager changes any of the profile fields; every field is checked before one save,
    so a bad field leaves the store as it was. `delivery_zone: None` clears the zone and the
    radius applies again; `delivery_fee_tiers: []` goes back to the flat fee."""
    store, role = _console_store(user=actor, store_id=store_id, lock=True)
    _require(role)
    _apply_profile(store, changes)
    store.save()
    return store


def _set_status(*, actor: User, store_id: str, source: str, target: str, action: str) -> Store:
    store, role = _console_store(user=actor, store_id=store_id, lock=True)
    _require(role, roles.STORE_PAUSE)
    if store.status == target:
        return store  # pressing "busy" twice is not an error
    if store.status != source:
        raise IllegalTransition(status=store.status, action=action)
    store.status = target
    store.save(update_fields=["status", "updated_at"])
    return store


@transaction.atomic
def store_pause(*, actor: User, store_id: str) -> Store:
    """Busy: the store stays listed but takes no orders until resumed."""
    return _set_status(actor=actor, store_id=store_id, source=Store.Status.OPEN,
                       target=Store.Status.PAUSED, action="pause")


@transaction.atomic
def store_resume(*, actor: User, store_id: str) -> Store:
    return _set_status(actor=actor, store_id=store_id, source=Store.Status.PAUSED,
                       target=Store.Status.OPEN, action="resume")


@transaction.atomic
def store_photo_add(*, actor: User, store_id: str, upload: UploadedFile) -> StorePhoto:
    """Add a photo at the end (owner or manager; at most 9). The image is checked before it is stored."""
    store, role = _console_store(user=actor, store_id=store_id, lock=True)
    _require(role)
    checked = image_check(upload=upload)
    photos = list(store.photos.values_list("sort", flat=True))
    if len(photos) >= MAX_PHOTOS:
        raise TooManyFiles(max=MAX_PHOTOS)
    photo = StorePhoto(store=store, sort=max(photos, default=-1) + 1)
    photo.image.save(checked.storage_name("pho"), checked.file(), save=False)
    photo.save()
    store.save(update_fields=["updated_at"])
    return photo


@transaction.atomic
def store_photo_delete(*, actor: User, store_id: str, photo_id: str) -> None:
    """Remove a photo (owner or manager); the file goes from storage once the removal is committed."""
    store, role = _console_store(user=actor, store_id=store_id, lock=True)
    _require(role)
    photo = next((p for p in store.photos.all() if photo_public_id(p) == photo_id), None)
    if photo is None:
        raise PhotoNotFound(photo_id=photo_id)
    storage, name = photo.image.storage, photo.image.name
    photo.delete()
    store.save(update_fields=["updated_at"])
    transaction.on_commit(lambda: storage.delete(name))
