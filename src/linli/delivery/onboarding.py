"""Rider onboarding: a person applies (ID number, vehicle, plate), an operator approves,
rejects or suspends. Only approved riders go online. Every step writes a `RiderEvent`."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import PlatformRole, User
from linli.core.errors import (
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

from .models import Rider, RiderEvent

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PLATE = re.compile(r"[0-9A-Za-z\u4e00-\u9fff·-]{2,16}")

# (action, from) -> to; operators only.
REVIEW = {
    ("approve", Rider.Approval.APPLIED): Rider.Approval.APPROVED,
    ("reject", Rider.Approval.APPLIED): Rider.Approval.REJECTED,
    ("suspend", Rider.Approval.APPROVED): Rider.Approval.SUSPENDED,
    ("approve", Rider.Approval.SUSPENDED): Rider.Approval.APPROVED,
}


class RiderNotApproved(DomainError):
    code = "rider_not_approved"
    status = 403
    message = _("Your rider account is not approved yet, so you cannot go online.")


class RiderIdNumberInvalid(InvalidInput):
    code = "rider_id_number_invalid"
    message = _("Enter a valid 18-character resident ID number.")


class RiderPlateInvalid(InvalidInput):
    code = "rider_plate_invalid"
    message = _("Enter the vehicle's plate (2 to 16 letters, digits or Chinese characters).")


class RiderVehicleInvalid(InvalidInput):
    code = "rider_vehicle_invalid"
    message = _("Choose bike, ebike, scooter or car.")


class RiderAlreadyApplied(DomainError):
    code = "rider_already_applied"
    status = 409
    message = _("You have already applied or are already a rider.")


class RiderNotFound(NotFound):
    code = "rider_not_found"
    message = _("The rider does not exist.")


def id_number_valid(number: str) -> bool:
    """Resident ID (GB 11643): 17 digits then the ISO 7064 MOD 11-2 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def mask_id_number(number: str) -> str:
    """'11010519491231002X' -> '1101**********002X': region and the last four only."""
    if not number:
        return ""
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}" if len(number) > 8 else "*" * len(number)


def _event(rider: Rider, source: str, *, action: str, actor: User | None, role: str, note: str = "") -> None:
    RiderEvent.objects.create(rider=rider, action=action, from_status=source, to_status=rider.approval,
                              note=note[:200], actor=actor, actor_role=role)


@transaction.atomic
def rider_apply(*, user: User, city_code: str, name: str, id_number: str, vehicle: str,
                plate: str = "", max_concurrent: int = 3) -> Rider:
    id_number = id_number.strip().upper()
    if not id_number_valid(id_number):
        raise RiderIdNumberInvalid()
    if vehicle not in Rider.Vehicle.values:
        raise RiderVehicleInvalid(vehicle=vehicle)
    plate = plate.strip()
    if vehicle != Rider.Vehicle.BIKE and not _PLATE.fullmatch(plate):
        raise RiderPlateInvalid()
    if Rider.objects.filter(user=user).exists():
        raise RiderAlreadyApplied()
    rider = Rider.objects.create(
        user=user, city_code=city_code, name=name, approval=Rider.Approval.APPLIED,
        id_number=id_number, vehicle=vehicle, plate=plate, max_concurrent=max(1, min(max_concurrent, 5)),
    )
    _event(rider, "", action="apply", actor=user, role="rider")
    return rider


@transaction.atomic
def rider_review(*, actor: User, rider_id: str, action: str, note: str = "") -> Rider:
    """An operator approves, rejects or suspends (a suspended rider goes offline at once)."""
    if actor.platform_role != PlatformRole.OPERATOR:
        raise PermissionDenied(action=action)
    rider = Rider.objects.select_for_update().filter(public_id=rider_id).first()
    if rider is None:
        raise RiderNotFound(rider_id=rider_id)
    target = REVIEW.get((action, rider.approval))
    if target is None:
        raise IllegalTransition(status=rider.approval, action=action)
    source = rider.approval
    rider.approval, rider.reviewed_at = target, timezone.now()
    if target != Rider.Approval.APPROVED:
        rider.is_online = False
    rider.save(update_fields=["approval", "reviewed_at", "is_online"])
    _event(rider, source, action=action, actor=actor, role=actor.platform_role, note=note)
    return rider
