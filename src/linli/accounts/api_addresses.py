"""/me/addresses (the consumer's address book) and /geocode: thin handlers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from linli.core.auth import jwt_auth

from . import selectors, services
from .gazetteer import gazetteer
from .models import Address

router = Router(tags=["addresses"])


class AddressIn(Schema):
    """Coordinates are optional: without them the text is geocoded. Ranges and lengths are
    checked by the service (`invalid_address` naming each bad field), as on the H5 form."""

    label: str = Field("", max_length=200)
    contact_name: str = Field(max_length=200)
    contact_phone: str = Field(max_length=64)
    text: str = Field(max_length=1000)
    detail: str = Field("", max_length=1000)
    lat: float | None = None
    lng: float | None = None
    is_default: bool = False


class AddressPatch(Schema):
    label: str | None = Field(None, max_length=200)
    contact_name: str | None = Field(None, max_length=200)
    contact_phone: str | None = Field(None, max_length=64)
    text: str | None = Field(None, max_length=1000)
    detail: str | None = Field(None, max_length=1000)
    lat: float | None = None
    lng: float | None = None
    is_default: bool | None = None


class AddressOut(Schema):
    id: str
    label: str
    contact_name: str
    contact_phone: str
    text: str
    detail: str
    lat: float
    lng: float
    located_by: str = Field(description="device (the consumer's point) or text (geocoded)")
    area: str = Field(description="what the gazetteer says is at the point")
    city_code: str
    is_default: bool


class GeocodeOut(Schema):
    lat: float
    lng: float
    level: str = Field(description="address, road, landmark, area, district or city")
    city: str
    city_name: str
    district: str
    road: str
    label: str


class ReverseOut(Schema):
    city: str
    city_name: str
    district: str
    road: str
    distance_m: int
    label: str


class GeocodeQuery(Schema):
    q: str = Field(min_length=1, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90, description="near this point, to break ties")
    lng: float | None = Field(None, ge=-180, le=180)


class ReverseQuery(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


def address_out(address: Address) -> dict[str, Any]:
    return {"id": address.public_id, "label": address.label, "contact_name": address.contact_name,
            "contact_phone": address.contact_phone, "text": address.text, "detail": address.detail,
            "lat": address.lat, "lng": address.lng, "located_by": address.located_by,
            "area": address.area, "city_code": address.city_code, "is_default": address.is_default}


@router.get("/me/addresses", response=list[AddressOut], auth=jwt_auth, summary="My address book")
def address_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [address_out(a) for a in selectors.address_list(user=request.auth)]  # type: ignore[attr-defined]


@router.post("/me/addresses", response={201: AddressOut}, auth=jwt_auth, summary="Save an address")
def address_create(request: HttpRequest, payload: AddressIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    if data["lat"] is None and data["lng"] is None:
        data.pop("lat"), data.pop("lng")
    address = services.address_create(user=request.auth, data=data)  # type: ignore[attr-defined]
    return Status(201, address_out(address))


@router.get("/me/addresses/{address_id}", response=AddressOut, auth=jwt_auth, summary="One address")
def address_detail(request: HttpRequest, address_id: str) -> dict[str, Any]:
    return address_out(selectors.address_get(user=request.auth, address_id=address_id))  # type: ignore[attr-defined]


@router.patch("/me/addresses/{address_id}", response=AddressOut, auth=jwt_auth,
              summary="Change some fields of an address")
def address_update(request: HttpRequest, address_id: str, payload: AddressPatch) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    return address_out(services.address_update(user=request.auth, address_id=address_id, data=data))  # type: ignore[attr-defined]


@router.delete("/me/addresses/{address_id}", response={204: None}, auth=jwt_auth,
               summary="Delete an address")
def address_delete(request: HttpRequest, address_id: str) -> Status[None]:
    services.address_delete(user=request.auth, address_id=address_id)  # type: ignore[attr-defined]
    return Status(204, None)


@router.post("/me/addresses/{address_id}/default", response=AddressOut, auth=jwt_auth,
             summary="Make this the default address")
def address_default(request: HttpRequest, address_id: str) -> dict[str, Any]:
    return address_out(services.address_set_default(user=request.auth, address_id=address_id))  # type: ignore[attr-defined]


@router.get("/geocode", response={200: GeocodeOut}, summary="Where is this address text? (local gazetteer)")
def geocode(request: HttpRequest, q: Query[GeocodeQuery]) -> dict[str, Any]:
    near = (q.lat, q.lng) if q.lat is not None and q.lng is not None else None
    match = gazetteer().geocode(q.q, near=near)
    if match is None:
        raise services.AddressNotLocated(text=q.q)
    return match.__dict__


@router.get("/geocode/reverse", response=ReverseOut, summary="What is near this point?")
def geocode_reverse(request: HttpRequest, q: Query[ReverseQuery]) -> dict[str, Any]:
    match = gazetteer().reverse(q.lat, q.lng)
    if match is None:
        raise services.AddressNotLocated(lat=q.lat, lng=q.lng)
    return match.__dict__
