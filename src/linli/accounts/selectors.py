"""Reads about users."""

from __future__ import annotations

from .models import User


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
