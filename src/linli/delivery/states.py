"""The delivery task state machine, one screen: (from, action) -> to, and who may do it.

    unassigned --assign(system)--> assigned --arrive(rider)--> arrived --pickup(rider)--> picked_up
                                    assigned --pickup(rider)--> picked_up   (Arrived not tapped)
    picked_up --deliver(rider, with the consumer's delivery code)--> delivered
    assigned --reject(rider, with a reason)--> unassigned      (never offered to that rider again)
    assigned --reassign(system)--> unassigned                  (the rider went silent)
    unassigned | assigned | arrived | picked_up --cancel(system)--> cancelled   (the order was cancelled)

Pickup straight from `assigned` stays legal so a rider who forgot to tap "Arrived" is not
stuck at the counter (and API clients written before arrival existed keep working); the
task's `arrived_at` then stays empty, which is how reports tell the two apart.
Every transition writes a `DeliveryEvent` (action, from, to, actor, role, time).
"""

from __future__ import annotations

from linli.core.statemachine import StateMachine, T


class DS:
    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    ARRIVED = "arrived"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    ACTIVE = (ASSIGNED, ARRIVED, PICKED_UP)  # what a rider is working on
    FINAL = (DELIVERED, CANCELLED)


DELIVERY_MACHINE = StateMachine([
    T(DS.UNASSIGNED, DS.ASSIGNED,  "assign",  "system"),
    T(DS.ASSIGNED,   DS.ARRIVED,   "arrive",  "rider"),
    T(DS.ASSIGNED,   DS.PICKED_UP, "pickup",  "rider"),
    T(DS.ARRIVED,    DS.PICKED_UP, "pickup",  "rider"),
    T(DS.PICKED_UP,  DS.DELIVERED, "deliver", "rider"),
    T(DS.ASSIGNED,   DS.UNASSIGNED, "reject",  "rider"),
    T(DS.ASSIGNED,   DS.UNASSIGNED, "reassign", "system"),
    T(DS.UNASSIGNED, DS.CANCELLED, "cancel",  "system"),
    T(DS.ASSIGNED,   DS.CANCELLED, "cancel",  "system"),
    T(DS.ARRIVED,    DS.CANCELLED, "cancel",  "system"),
    T(DS.PICKED_UP,  DS.CANCELLED, "cancel",  "system"),
])
