"""Reads about users."""

from __future__ import annotations

from .models import Address, User


def user_roles(*, user: User) -> list[str]:
    """Every role the user holds; anyone can shop, so `consumer` is always there."""
    roles = ["consumer"]
    for role in user.merchant_memberships.values_list("role", flat=True).distinct():  # type: ignore[attr-defined]
        roles.append(f"merchant_{role}")
    if hasattr(user, "rider_profile"):
        roles.append("rider")
    if user.platform_role:
        roles.append(user.platform_role)
    return sorted(set(roles))


def address_list(*, user: User) -> list[Address]:
    """The user's address book, default first, then most recently changed."""
    return list(Address.objects.filter(user=user))


def address_get(*, user: User, address_id: str) -> Address:
    """The user's own address; anyone else's is `address_not_found`."""
    from .services import AddressNotFound

    address = Address.objects.filter(user=user, public_id=address_id).first()
    if address is None:
        raise AddressNotFound(address_id=address_id)
    return address


def address_default(*, user: User) -> Address | None:
    return Address.objects.filter(user=user, is_default=True).first()
