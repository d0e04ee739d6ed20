"""/merchant/stores: the merchant console's store profile, busy toggle and photos.
Parse, call one store_profile service, shape."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict, Field

from linli.core.auth import jwt_auth

from . import api_staff, chains, roles, store_profile
from .models import Store, StorePhoto

router = Router(tags=["merchant console"], auth=jwt_auth)


class FeeTierIn(Schema):
    """Ranges are checked by the service (`invalid_fee_tiers`, with the tier's index)."""

    model_config = ConfigDict(extra="forbid")

    max_m: int = Field(description="1 to 50 000, ascending")
    fee_fen: int = Field(description="0 to 100 000")


class StorePatchIn(Schema):
    """Send only what changes. Lat and lng go together (the H3 cell follows)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=32, description='"" clears it')
    address: str | None = Field(None, min_length=1, max_length=255)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    tags: list[str] | None = Field(None, description="at most 10, each at most 12 characters")
    avg_price_fen: int | None = Field(None, ge=0, le=10_000_000)
    opening_hours: list[list[list[str]]] | None = Field(
        None, description='7 days, Monday first, of ["HH:MM", "HH:MM"] periods; an overnight '
        'period ("18:00"-"02:00") must end by 06:00; no overlaps')
    special_hours: dict[str, list[list[str]]] | None = Field(
        None, description='{"2026-10-01": [] (closed) | [["10:00", "16:00"]]}; replaces the lot')
    delivery_radius_m: int | None = Field(None, ge=100, le=20_000)
    delivery_zone: list[list[float]] | None = Field(
        None, description="[[lat, lng], ...], at least 3 points, not self-intersecting; "
        "null clears it (the radius applies again)")
    min_order_fen: int | None = Field(None, ge=0, le=1_000_000)
    delivery_fee_fen: int | None = Field(None, ge=0, le=100_000)
    delivery_fee_tiers: list[FeeTierIn] | None = Field(
        None, description="ascending by max_m; beyond the last tier the store does not deliver; "
        "[] = flat delivery_fee_fen")
    packaging_fee_fen: int | None = Field(None, ge=0, le=100_000)
    prep_minutes: int | None = Field(None, ge=1, le=180)
    night_surcharge_fen: int | None = Field(  # pricing (issue 5)
        None, description="0 to 100 000; added to delivery orders placed in the night window, 0 = none")
    night_start: str | None = Field(None, max_length=5, description='"HH:MM" store-local, e.g. "22:00"')
    night_end: str | None = Field(None, max_length=5, description='"HH:MM"; an end not after the start '
                                  'runs past midnight ("06:00"); start and end must differ')


class PhotoOut(Schema):
    id: str
    url: str
    sort: int


class ConsoleStoreOut(Schema):
    id: str
    role: str = Field(description="the caller's role: owner, manager or cashier "
                      "(older members may read `staff`, a cashier)")
    permissions: list[str] = Field(description="what the caller may do here (merchants.roles)")
    name: str
    status: str
    category: str
    city_code: str
    address: str
    phone: str
    lat: float
    lng: float
    tags: list[str]
    avg_price_fen: int
    opening_hours: list[list[list[str]]]
    special_hours: dict[str, list[list[str]]]
    delivery_radius_m: int
    delivery_zone: list[list[float]] | None
    min_order_fen: int
    delivery_fee_fen: int
    delivery_fee_tiers: list[dict[str, int]]
    packaging_fee_fen: int
    prep_minutes: int
    night_surcharge_fen: int
    night_start: str
    night_end: str
    rating: float
    rating_count: int
    sales_30d: int
    photos: list[PhotoOut]


def photo_out(photo: StorePhoto) -> dict[str, Any]:
    return {"id": store_profile.photo_public_id(photo), "url": photo.image.url, "sort": photo.sort}


def store_out(store: Store, role: str) -> dict[str, Any]:
    return {
        "id": store.public_id, "role": role, "permissions": sorted(roles.permissions_of(role)),
        "name": store.name, "status": store.status,
        "category": store.category.slug, "city_code": store.city_code, "address": store.address,
        "phone": store.phone, "lat": store.lat, "lng": store.lng, "tags": store.tags,
        "avg_price_fen": store.avg_price_fen, "opening_hours": store.opening_hours,
        "special_hours": store.special_hours, "delivery_radius_m": store.delivery_radius_m,
        "delivery_zone": store.delivery_zone, "min_order_fen": store.min_order_fen,
        "delivery_fee_fen": store.delivery_fee_fen, "delivery_fee_tiers": store.delivery_fee_tiers,
        "packaging_fee_fen": store.packaging_fee_fen, "prep_minutes": store.prep_minutes,
        "night_surcharge_fen": store.night_surcharge_fen, "night_start": store.night_start,
        "night_end": store.night_end,
        "rating": float(store.rating), "rating_count": store.rating_count,
        "sales_30d": store.sales_30d,
        "photos": [photo_out(p) for p in store.photos.all()],
    }


def _current(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store, role = store_profile.store_for_console(user=request.auth,  # type: ignore[attr-defined]
                                                  store_id=store_id)
    return store_out(store, role)


@router.get("/merchant/stores", response=list[ConsoleStoreOut], summary="Stores I work for")
def my_stores(request: HttpRequest) -> list[dict[str, Any]]:
    return [store_out(store, role) for store, role in store_profile.stores_for_console(
        user=request.auth)]  # type: ignore[attr-defined]


class BranchIn(Schema):
    """A new store of the same merchant, started from one of its stores (see merchants.chains)."""

    model_config = ConfigDict(extra="forbid")

    from_store: str = Field(max_length=40, description="the store whose category, hours, terms "
                            "and (with copy_menu) menu the branch starts from")
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=255)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    phone: str = Field("", max_length=32)
    copy_menu: bool = True


@router.post("/merchant/stores", response={201: ConsoleStoreOut},
             summary="Open a branch (owner only); it starts paused")
def open_branch(request: HttpRequest, payload: BranchIn) -> Status[dict[str, Any]]:
    branch = chains.store_branch_open(actor=request.auth,  # type: ignore[attr-defined]
                                      from_store_id=payload.from_store,
                                      **payload.model_dump(exclude={"from_store"}))
    return Status(201, _current(request, branch.public_id))


@router.get("/merchant/stores/{store_id}", response=ConsoleStoreOut, summary="One of my stores")
def my_store(request: HttpRequest, store_id: str) -> dict[str, Any]:
    return _current(request, store_id)


@router.patch("/merchant/stores/{store_id}", response=ConsoleStoreOut,
              summary="Edit the store profile (owner or manager)")
def update(request: HttpRequest, store_id: str, payload: StorePatchIn) -> dict[str, Any]:
    store_profile.store_profile_update(actor=request.auth,  # type: ignore[attr-defined]
                                       store_id=store_id,
                                       changes=payload.model_dump(exclude_unset=True))
    return _current(request, store_id)


@router.post("/merchant/stores/{store_id}/pause", response=ConsoleStoreOut,
             summary="Busy: stop taking orders (owner or manager)")
def pause(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store_profile.store_pause(actor=request.auth, store_id=store_id)  # type: ignore[attr-defined]
    return _current(request, store_id)


@router.post("/merchant/stores/{store_id}/resume", response=ConsoleStoreOut,
             summary="Take orders again (owner or manager)")
def resume(request: HttpRequest, store_id: str) -> dict[str, Any]:
    store_profile.store_resume(actor=request.auth, store_id=store_id)  # type: ignore[attr-defined]
    return _current(request, store_id)


@router.post("/merchant/stores/{store_id}/photos", response={201: PhotoOut},
             summary="Add a photo (owner or manager; JPEG, PNG or WebP, ≤ 5 MB, at most 9)")
def add_photo(request: HttpRequest, store_id: str, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    photo = store_profile.store_photo_add(actor=request.auth,  # type: ignore[attr-defined]
                                          store_id=store_id, upload=file)
    return Status(201, photo_out(photo))


@router.delete("/merchant/stores/{store_id}/photos/{photo_id}", response={204: None},
               summary="Remove a photo (owner or manager)")
def delete_photo(request: HttpRequest, store_id: str, photo_id: str) -> Status[None]:
    store_profile.store_photo_delete(actor=request.auth,  # type: ignore[attr-defined]
                                     store_id=store_id, photo_id=photo_id)
    return Status(204, None)


router.add_router("", api_staff.router)
