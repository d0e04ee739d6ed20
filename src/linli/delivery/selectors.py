"""Reads for riders."""

from __future__ import annotations

from linli.accounts.models import User

from .models import DeliveryTask
from .services import rider_for_user


def tasks_for_rider(*, user: User) -> list[DeliveryTask]:
    rider = rider_for_user(user)
    return list(
        DeliveryTask.objects.filter(
            rider=rider, status__in=[DeliveryTask.Status.ASSIGNED, DeliveryTask.Status.PICKED_UP]
        ).select_related("order__store").order_by("assigned_at")
    )
