"""Reads for riders."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import PermissionDenied

from .models import DeliveryTask, Rider


class NotARider(PermissionDenied):
    code = "not_a_rider"
    message = _("Only registered riders can do this.")


def rider_for_user(user: User) -> Rider:
    rider = Rider.objects.filter(user=user).first()
    if rider is None:
        raise NotARider()
    return rider


def tasks_for_rider(*, user: User) -> list[DeliveryTask]:
    rider = rider_for_user(user)
    return list(
        DeliveryTask.objects.filter(
            rider=rider, status__in=[DeliveryTask.Status.ASSIGNED, DeliveryTask.Status.PICKED_UP]
        ).select_related("order__store").order_by("assigned_at")
    )
