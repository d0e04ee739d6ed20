"""Account domain events. Apps above accounts subscribe; accounts never imports them.

`phone_verified` is sent after a login that proved the phone by an SMS code (sign-up
included), once the surrounding transaction (if any) has committed, with `user=<User>`
and `created=<bool>` (the account was made by this login). The counter attaches the
sales recorded against that phone (`pos.phone_sales`). Receivers must not raise: a
failing receiver is logged and the login still succeeds.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

from .models import User

log = logging.getLogger(__name__)

phone_verified = Signal()


def phone_verified_on_commit(user: User, *, created: bool) -> None:
    transaction.on_commit(lambda: _send(user, created))


def _send(user: User, created: bool) -> None:
    for receiver, result in phone_verified.send_robust(sender=User, user=user, created=created):
        if isinstance(result, Exception):
            log.error("phone_verified receiver %r failed for %s", receiver, user.public_id, exc_info=result)
