"""Resolving offline conflicts (docs/pos.md "Resolving conflicts"): owner and manager
(`stock.set`) close each open conflict with one of the actions its rule allows; who,
when, which action and a note are kept on the conflict row (never deleted).

| conflict (kind / reason) | rule applied at upload | actions |
| --- | --- | --- |
| `stock_short` | sale recorded, count stays >= 0 | `acknowledge` (do a stocktake) |
| `member_code_expired` / `_used` / `_invalid` | sale kept without member benefits | `acknowledge` |
| `price_differs` | sale recorded at the till's price | `acknowledge` |
| `sale_id_reused` | the first sale stands | `acknowledge` |
| `rejected` / `total_mismatch` | nothing recorded, body kept | `accept_server_price` (record it now at catalogue list prices, cash), `void` |
| `rejected` / other reasons | nothing recorded, body kept | `void` |
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.core.errors import Conflict, DomainError, InvalidInput, NotFound
from linli.merchants import roles

from .models import Sale, SyncConflict
from .services import request_hash, sale_lines_resolve, staff_store

K = SyncConflict.Kind
R = SyncConflict.Resolution
ACKNOWLEDGE, ACCEPT, VOID = "acknowledge", "accept_server_price", "void"
RESOLUTION_OF = {ACKNOWLEDGE: R.ACKNOWLEDGED, ACCEPT: R.ACCEPTED_SERVER_PRICE, VOID: R.VOIDED}
ACTION_LABELS = {ACKNOWLEDGE: _("Acknowledge"), ACCEPT: _("Accept at the server's price"), VOID: _("Void")}
# The rule the upload applied, as the manager reads it (the table above).
RULE_APPLIED = {
    K.STOCK_SHORT: _("The sale was recorded; the stock count stopped at 0. Do a stocktake."),
    K.MEMBER_CODE_EXPIRED: _("The sale was kept without member price or points."),
    K.MEMBER_CODE_USED: _("The sale was kept without member price or points."),
    K.MEMBER_CODE_INVALID: _("The sale was kept without member price or points."),
    K.PRICE_DIFFERS: _("The sale was recorded at the till's price."),
    K.SALE_ID_REUSED: _("The first sale with this id stands; the other body was not recorded."),
    K.REJECTED: _("Nothing was recorded; the body as sent is kept here."),
}


class ConflictNotFound(NotFound):
    code = "conflict_not_found"
    message = _("There is no such conflict.")


class ConflictResolved(Conflict):
    code = "conflict_resolved"
    message = _("This conflict was already resolved.")


class ActionNotAllowed(InvalidInput):
    code = "conflict_action_not_allowed"
    message = _("The rules do not allow this action for this conflict.")


def conflict_actions(conflict: SyncConflict) -> list[str]:
    """What the documented rules allow for an open conflict (none once resolved)."""
    if conflict.resolved_at is not None:
        return []
    if conflict.kind == K.REJECTED:
        return [ACCEPT, VOID] if conflict.reason == "total_mismatch" else [VOID]
    return [ACKNOWLEDGE]


def conflict_get(*, actor: User, conflict_id: str) -> SyncConflict:
    """The conflict, for owner/manager of its store; strangers 404, cashiers 403."""
    conflict = SyncConflict.objects.filter(public_id=conflict_id).select_related("store", "sale").first()
    if conflict is None:
        raise ConflictNotFound(conflict_id=conflict_id)
    from linli.merchants.selectors import StoreNotFound

    try:
        staff_store(actor=actor, store_id=conflict.store.public_id, permission=roles.STOCK_SET)
    except StoreNotFound:
        raise ConflictNotFound(conflict_id=conflict_id) from None
    return conflict


def conflict_resolve(*, actor: User, conflict_id: str, action: str, note: str = "") -> SyncConflict:
    """Close a conflict with an allowed action. `accept_server_price` records the refused
    sale now, as an offline cash sale at catalogue list prices, under the till's own
    sale id (a later upload of the same body is then `duplicate`)."""
    conflict = conflict_get(actor=actor, conflict_id=conflict_id)
    if not isinstance(note, str) or len(note) > 200:
        raise InvalidInput(field="note", maximum=200)
    with transaction.atomic():
        conflict = SyncConflict.objects.select_for_update().select_related("batch__counter").get(pk=conflict.pk)
        if conflict.resolved_at is not None:
            raise ConflictResolved(conflict_id=conflict_id, resolution=conflict.resolution)
        if action not in conflict_actions(conflict):
            raise ActionNotAllowed(action=str(action)[:40], allowed=conflict_actions(conflict))
        if action == ACCEPT:
            conflict.sale = _accept_at_server_price(conflict, actor, note)
        conflict.resolved_at = timezone.now()
        conflict.resolved_by = actor
        conflict.resolution = RESOLUTION_OF[action]
        conflict.resolution_note = note.strip()
        conflict.save(update_fields=["resolved_at", "resolved_by", "resolution", "resolution_note", "sale"])
    return conflict


def _accept_at_server_price(conflict: SyncConflict, actor: User, note: str) -> Sale:
    from .gateway_sales import sale_event
    from .sync import Rejected, _record

    body: dict[str, Any] = dict(conflict.details.get("body") or {})
    client_id = conflict.client_sale_id
    if Sale.objects.filter(store=conflict.store, client_sale_id=client_id).exists():
        raise ConflictResolved(conflict_id=conflict.public_id, reason="sale_id_taken")
    lines = body.get("lines")
    try:
        resolved = sale_lines_resolve(store=conflict.store, lines=lines if isinstance(lines, list) else [])
    except DomainError as exc:  # lines no longer valid (product gone...): only `void` is left
        raise ActionNotAllowed(action=ACCEPT, reason=exc.code) from None
    priced = [{**line, "unit_price_fen": product.price_fen}
              for line, (product, _b, _q) in zip(lines, resolved, strict=True)]  # type: ignore[arg-type]
    repriced = {**body, "lines": priced, "payment_method": "cash",
                "total_fen": sum(product.price_fen * q for product, _b, q in resolved)}
    try:
        outcome = _record(conflict.batch, conflict.store, conflict.batch.counter, actor, repriced, client_id,
                          request_hash(body))
    except Rejected as exc:
        raise ActionNotAllowed(action=ACCEPT, reason=exc.reason) from None
    sale = Sale.objects.get(public_id=outcome.sale_id)
    sale_event(sale, "", actor=actor, role="merchant",
               note=f"accepted at the server's price ({conflict.public_id}) {note}".strip())
    return sale
