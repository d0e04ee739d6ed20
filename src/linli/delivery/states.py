"""The delivery task state machine, one screen: (from, action) -> to, and who may do it.

    unassigned --assign(system)--> assigned --accept(rider)--> accepted --arrive(rider)--> arrived
    arrived --pickup(rider)--> picked_up --deliver(rider, with the consumer's delivery code)--> delivered
    assigned | accepted --pickup(rider)--> picked_up          (Accept/Arrived not tapped)
    assigned | accepted --arrive(rider)--> arrived
    assigned | accepted --reject(rider, with a reason)--> unassigned   (never offered to that rider again)
    assigned | accepted --reassign(system)--> unassigned      (offer unanswered, or the rider went silent)
    picked_up --fail(rider, with a reason)--> failed          (customer unreachable, wrong address, refused)
    failed --return(rider)--> returned                        (the goods are back at the store)
    unassigned | assigned | accepted | arrived | picked_up --cancel(system)--> cancelled

An assignment is an offer: a rider who does not accept it within `ACCEPT_WITHIN` (90 s)
loses it at the next tick (a rider may still skip Accept by tapping Arrived or Picked up).
A failed delivery keeps the rider busy (the goods are on board) until they are returned;
the order itself stays where it was for support to decide (refund or re-deliver), and a
cancellation of the order does not end a failed task: the goods still go back.

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
    ACCEPTED = "accepted"
    ARRIVED = "arrived"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"
    RETURNED = "returned"

    ACTIVE = (ASSIGNED, ACCEPTED, ARRIVED, PICKED_UP, FAILED)  # what a rider is working on
    BEFORE_PICKUP = (ASSIGNED, ACCEPTED, ARRIVED)
    FINAL = (DELIVERED, CANCELLED, RETURNED)


DELIVERY_MACHINE = StateMachine([
    T(DS.UNASSIGNED, DS.ASSIGNED,  "assign",  "system"),
    T(DS.ASSIGNED,   DS.ACCEPTED,  "accept",  "rider"),
    T(DS.ASSIGNED,   DS.ARRIVED,   "arrive",  "rider"),
    T(DS.ACCEPTED,   DS.ARRIVED,   "arrive",  "rider"),
    T(DS.ASSIGNED,   DS.PICKED_UP, "pickup",  "rider"),
    T(DS.ACCEPTED,   DS.PICKED_UP, "pickup",  "rider"),
    T(DS.ARRIVED,    DS.PICKED_UP, "pickup",  "rider"),
    T(DS.PICKED_UP,  DS.DELIVERED, "deliver", "rider"),
    T(DS.PICKED_UP,  DS.FAILED,    "fail",    "rider"),
    T(DS.FAILED,     DS.RETURNED,  "return",  "rider"),
    T(DS.ASSIGNED,   DS.UNASSIGNED, "reject",  "rider"),
    T(DS.ACCEPTED,   DS.UNASSIGNED, "reject",  "rider"),
    T(DS.ASSIGNED,   DS.UNASSIGNED, "reassign", "system"),
    T(DS.ACCEPTED,   DS.UNASSIGNED, "reassign", "system"),
    T(DS.UNASSIGNED, DS.CANCELLED, "cancel",  "system"),
    T(DS.ASSIGNED,   DS.CANCELLED, "cancel",  "system"),
    T(DS.ACCEPTED,   DS.CANCELLED, "cancel",  "system"),
    T(DS.ARRIVED,    DS.CANCELLED, "cancel",  "system"),
    T(DS.PICKED_UP,  DS.CANCELLED, "cancel",  "system"),
])
