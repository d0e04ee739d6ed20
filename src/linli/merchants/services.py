"""Merchant and store writes, and the owner's staff management (members and their roles).
Onboarding lives in `onboarding`, the store profile in `store_profile`, the menu in `catalog`."""

from __future__ import annotations

from typing import Any

import h3
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User, phone_hash, username_new
from linli.accounts.phone import phone_normalise
from linli.core.audit import audit
from linli.core.errors import Conflict, InvalidInput, NotFound

from . import roles
from .hours import hours_validate
from .models import Merchant, MerchantMember, Store
from .selectors import store_for_member

H3_RESOLUTION = 9  # ~0.1 km² hexagons: a few shop fronts each


def h3_cell_for(lat: float, lng: float) -> str:
    return h3.latlng_to_cell(lat, lng, H3_RESOLUTION)


@transaction.atomic
def merchant_create(*, name: str, owner: User, legal_name: str = "") -> Merchant:
    merchant = Merchant.objects.create(name=name, legal_name=legal_name)
    MerchantMember.objects.create(merchant=merchant, user=owner, role=MerchantMember.Role.OWNER)
    return merchant


def merchant_member_add(*, merchant: Merchant, user: User, role: str) -> MerchantMember:
    member, _ = MerchantMember.objects.update_or_create(
        merchant=merchant, user=user, defaults={"role": role}
    )
    return member


def store_build(*, merchant: Merchant, lat: float, lng: float, opening_hours: Any, **fields: Any) -> Store:
    """An unsaved store with derived fields filled, for `store_create` and bulk seeding."""
    return Store(
        merchant=merchant,
        lat=lat,
        lng=lng,
        h3_cell=h3_cell_for(lat, lng),
        opening_hours=hours_validate(opening_hours),
        **fields,
    )


def store_create(**kwargs: Any) -> Store:
    store = store_build(**kwargs)
    store.save()
    return store


# --- staff and roles (owner only: `roles.STAFF_MANAGE`) ------------------------------------

class InvalidRole(InvalidInput):
    code = "invalid_role"
    message = _("The role must be owner, manager or cashier.")


class InvalidPassword(InvalidInput):
    code = "invalid_password"
    message = _("The password is too short or too common: use at least 8 characters.")


class MemberNotFound(NotFound):
    code = "member_not_found"
    message = _("This person does not work for the merchant.")


class MemberExists(Conflict):
    code = "member_exists"
    message = _("This person already works for the merchant.")


class MemberIsSelf(Conflict):
    code = "member_is_self"
    message = _("You cannot change your own role or remove yourself; ask another owner.")


class LastOwner(Conflict):
    code = "last_owner"
    message = _("A merchant always keeps at least one owner.")


MEMBER_NAME_MAX = 64


def _role_clean(role: object) -> str:
    """An assignable role; the legacy `staff` is accepted and stored as `cashier`."""
    known = roles.canonical(role) if isinstance(role, str) else None
    if known is None:
        raise InvalidRole(field="role", role=str(role), allowed=list(roles.ROLES))
    return known


def _merchant_for_staff_admin(*, actor: User, store_id: str) -> Merchant:
    """The store's merchant, locked, if the actor may manage its staff (404 for strangers)."""
    store, _role = store_for_member(user=actor, store_id=store_id, permission=roles.STAFF_MANAGE)
    # Every staff change locks the merchant row: two owners removing each other run one
    # after the other, so the last-owner check cannot race.
    return Merchant.objects.select_for_update().get(pk=store.merchant_id)


def members_list(*, actor: User, store_id: str) -> list[MerchantMember]:
    """The merchant's members, owners first, then by when they joined (owner only)."""
    with transaction.atomic():
        merchant = _merchant_for_staff_admin(actor=actor, store_id=store_id)
        members = list(MerchantMember.objects.filter(merchant=merchant).select_related("user")
                       .order_by("created_at", "id"))
    rank = {role: i for i, role in enumerate(roles.ROLES)}
    return sorted(members, key=lambda m: rank.get(roles.canonical(m.role) or "", len(rank)))


def _user_for_new_member(*, phone: str, password: str, display_name: str) -> tuple[User, bool]:
    """The account of this phone, created like an SMS sign-up (opaque username) when there
    is none. A new account gets the initial password; an existing one keeps its own: the
    owner must not be able to take over somebody's account by naming its phone."""
    user = User.objects.filter(phone_hash=phone_hash(phone)).first()
    if user is not None:
        return user, False
    try:
        validate_password(password, User(username=phone, phone=phone))
    except ValidationError as exc:
        raise InvalidPassword(field="password", problems=[e.code or "" for e in exc.error_list]) from exc
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username_new(), phone=phone, password=password,
                                            display_name=display_name), True
    except IntegrityError:  # signed up concurrently (an SMS login): take that account
        return User.objects.get(phone_hash=phone_hash(phone)), False


@transaction.atomic
def member_add(*, actor: User, store_id: str, phone: str, role: str, password: str,
               display_name: str = "") -> tuple[MerchantMember, bool]:
    """Add a person by phone with a role (owner only). Answers the member and whether a new
    account was made (with `password`); an existing account keeps its password."""
    merchant = _merchant_for_staff_admin(actor=actor, store_id=store_id)
    role = _role_clean(role)
    phone = phone_normalise((phone or "").strip(), region=settings.LINLI_DEFAULT_REGION)
    display_name = (display_name or "").strip()
    if len(display_name) > MEMBER_NAME_MAX or any(ord(ch) < 32 for ch in display_name):
        raise InvalidInput(field="display_name", max_length=MEMBER_NAME_MAX)
    existing = User.objects.filter(phone_hash=phone_hash(phone)).first()
    if existing is not None and MerchantMember.objects.filter(merchant=merchant, user=existing).exists():
        raise MemberExists(field="phone", phone=phone)
    user, created = _user_for_new_member(phone=phone, password=password, display_name=display_name)
    try:
        with transaction.atomic():
            member = MerchantMember.objects.create(merchant=merchant, user=user, role=role)
    except IntegrityError:
        raise MemberExists(field="phone", phone=phone) from None
    audit(actor, "member.add", "user", user.public_id, role="merchant", merchant_id=merchant.public_id, member_role=role)  # noqa: E501
    return member, created


def _member_of(merchant: Merchant, user_id: str) -> MerchantMember:
    member = (MerchantMember.objects.select_related("user")
              .filter(merchant=merchant, user__public_id=user_id).first())
    if member is None:
        raise MemberNotFound(member_id=user_id)
    return member


def _other_owners(member: MerchantMember) -> int:
    return (MerchantMember.objects.filter(merchant_id=member.merchant_id, role=roles.OWNER)
            .exclude(pk=member.pk).count())


@transaction.atomic
def member_role_set(*, actor: User, store_id: str, user_id: str, role: str) -> MerchantMember:
    """Give a member another role (owner only; not yourself, never the last owner)."""
    merchant = _merchant_for_staff_admin(actor=actor, store_id=store_id)
    role = _role_clean(role)
    member = _member_of(merchant, user_id)
    if member.user_id == actor.pk:
        raise MemberIsSelf(member_id=user_id)
    if member.role == roles.OWNER and role != roles.OWNER and not _other_owners(member):
        raise LastOwner(member_id=user_id)
    if member.role != role:
        audit(actor, "member.role_set", "user", user_id, role="merchant", merchant_id=merchant.public_id, from_role=member.role, to_role=role)  # noqa: E501
        member.role = role
        member.save(update_fields=["role"])
    return member


@transaction.atomic
def member_remove(*, actor: User, store_id: str, user_id: str) -> None:
    """Take a member off the merchant (owner only; not yourself, never the last owner).
    Their account stays: it is also their consumer account."""
    merchant = _merchant_for_staff_admin(actor=actor, store_id=store_id)
    member = _member_of(merchant, user_id)
    if member.user_id == actor.pk:
        raise MemberIsSelf(member_id=user_id)
    if member.role == roles.OWNER and not _other_owners(member):
        raise LastOwner(member_id=user_id)
    audit(actor, "member.remove", "user", user_id, role="merchant", merchant_id=merchant.public_id, member_role=member.role)  # noqa: E501
    member.delete()


def store_rating_set(store_id: int, rating: Any, count: int) -> None:
    """The headline rating and its count (reviews computes them); bumps `updated_at` so the
    nearby and search indexes pick the change up."""
    from decimal import Decimal

    from django.utils import timezone

    Store.objects.filter(pk=store_id).update(rating=Decimal(str(rating)), rating_count=count,
                                             updated_at=timezone.now())
