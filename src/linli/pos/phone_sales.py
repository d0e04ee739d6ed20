"""Sales by phone number (profile merge, docs/pos.md "Sales by phone number").

A counter sale may be recorded against a phone number instead of a member code
(`sale_ring_up(member_phone=...)`): list prices, cash, no points. When the phone's owner
proves the phone by an SMS login (sign-up included: `accounts.events.phone_verified`),
every such sale still pending is attached to them: the sale gets its member, the points
it earns at the tier of its own time (minus what returns made meanwhile take back) and
the spend for the tier. Each sale once (the claim row is locked and marked attached).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User, phone_hash

from . import points
from .models import PhoneSale, Sale


def phone_sales_attach(*, user: User) -> list[PhoneSale]:
    """Attach the sales recorded against `user.phone` that nobody has claimed yet."""
    hashed = phone_hash(user.phone) if user.phone else ""
    if not hashed or not PhoneSale.objects.filter(phone_hash=hashed, attached_at__isnull=True).exists():
        return []
    attached = []
    with transaction.atomic():
        claims = list(PhoneSale.objects.select_for_update()
                      .filter(phone_hash=hashed, attached_at__isnull=True).order_by("pk"))
        for claim in claims:
            sale = Sale.objects.select_for_update().get(pk=claim.sale_id)
            sale.member = user
            earn_key = f"earn:{sale.public_id}"
            txn = points.points_earn(member=user, key=earn_key, paid_fen=sale.paid_fen,
                                     reference=sale.public_id, actor=user, at=sale.created_at)
            earned = txn.points if txn is not None else 0
            reversed_ = points.points_reverse_to(earn_key=earn_key, refunded_fen=sale.refunded_fen,
                                                 actor=user) if sale.refunded_fen and txn else 0
            sale.points_earned = earned
            sale.save(update_fields=["member", "points_earned", "updated_at"])
            points.spend_record(member=user, key=f"sale:{sale.public_id}",
                                amount_fen=sale.paid_fen - sale.refunded_fen, at=sale.created_at)
            claim.attached_to, claim.attached_at = user, timezone.now()
            claim.points_earned = earned - reversed_
            claim.save(update_fields=["attached_to", "attached_at", "points_earned"])
            attached.append(claim)
    return attached


def on_phone_verified(sender: Any, user: User, **kwargs: Any) -> None:
    """`accounts.events.phone_verified` receiver."""
    phone_sales_attach(user=user)
