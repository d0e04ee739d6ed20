"""The dynamic member code: showing it (the member's app) and accepting it once (the
counter). The arithmetic is in `member_code.py`; this module keeps the secrets and the
used codes (docs/accounts.md "Member code")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict, InvalidInput

from . import member_code as mc
from .models import MemberCodeKey, MemberCodeUse, User

RECOGNISE_GENERATIONS = 3


class MemberCodeInvalid(InvalidInput):
    code = "member_code_invalid"
    message = _("This member code is not valid.")


class MemberCodeExpired(Conflict):
    code = "member_code_expired"
    message = _("This member code has expired; ask the member to refresh it.")


class MemberCodeUsed(Conflict):
    code = "member_code_used"
    message = _("This member code has already been used; ask the member to refresh it.")


def _pad_key() -> bytes:
    return hashlib.sha256(f"{settings.SECRET_KEY}:member-code-pad".encode()).digest()


def _key_for(user: User) -> MemberCodeKey:
    key = MemberCodeKey.objects.filter(user=user).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            key = MemberCodeKey.objects.create(user=user, secret=secrets.token_hex(32))
    except IntegrityError:  # created by a concurrent request a moment ago
        return MemberCodeKey.objects.get(user=user)
    if key.pk >= mc.INDEX_SPACE:
        raise RuntimeError("member index space exhausted: widen the member field")
    return key


@dataclass(frozen=True)
class ShownCode:
    code: str
    expires_at: datetime
    refresh_in: int


def member_code_show(*, user: User, now: datetime | None = None) -> ShownCode:
    """The code the member's app shows now. It stays accepted for the rest of this step
    and the next (30-60 s), or until it is used."""
    now = now or timezone.now()
    key = _key_for(user)
    step = mc.step_of(now.timestamp())
    code = mc.code_render(index=key.pk, secret=bytes.fromhex(key.secret), step=step,
                          pad_key=_pad_key(), generation=key.generation)
    step_end = datetime.fromtimestamp((step + 1) * mc.STEP_SECONDS, tz=now.tzinfo or timezone.utc)
    return ShownCode(code=code, expires_at=step_end + timedelta(seconds=mc.STEP_SECONDS),
                     refresh_in=max(1, int((step_end - now).total_seconds())))


@dataclass(frozen=True)
class AcceptedCode:
    user: User
    use: MemberCodeUse


def _match(code: str, now: datetime) -> tuple[MemberCodeKey, mc.Candidate] | None:
    candidates = mc.code_candidates(code, now_step=mc.step_of(now.timestamp()), pad_key=_pad_key())
    keys = {k.pk: k for k in MemberCodeKey.objects.filter(pk__in={c.index for c in candidates})
            .select_related("user")}
    pad_key = _pad_key()
    for candidate in candidates:
        key = keys.get(candidate.index)
        if key is None:
            continue
        secret = bytes.fromhex(key.secret)
        # The current generation is the one code accepted now; a few older generations
        # (codes shown before the member's last scans) are recognised only to say "expired".
        for back in range(RECOGNISE_GENERATIONS + 1):
            generation = key.generation - back
            if generation >= 0 and mc.code_matches(code, index=key.pk, secret=secret, step=candidate.step,
                                                   generation=generation, pad_key=pad_key):
                fresh = candidate.fresh and back == 0
                return key, mc.Candidate(candidate.step, candidate.index, fresh)
    return None


def member_code_accept(*, code: str, context: str = "", at: datetime | None = None) -> AcceptedCode:
    """Accept a presented code once and say whose it is. `at` is when it was scanned
    (an offline counter's sale time; default now). Refused: `member_code_invalid` (not a
    code, a guess, a changed digit), `member_code_expired` (older than the previous
    step), `member_code_used` (accepted before: a second counter, a screenshot).

    Runs in the caller's transaction when there is one: a sale that fails afterwards
    rolls the use back, so the member can present the same code again."""
    if not isinstance(code, str) or not mc.code_well_formed(code.strip()):
        raise MemberCodeInvalid()
    code = code.strip()
    at = at or timezone.now()
    if MemberCodeUse.objects.filter(code=code).exists():
        raise MemberCodeUsed()
    found = _match(code, at)
    if found is None:
        raise MemberCodeInvalid()
    key, candidate = found
    if not candidate.fresh:
        # Another counter may have taken this very code between our first look and our
        # match (its use bumped the member's generation): that is "used", not "expired".
        if MemberCodeUse.objects.filter(code=code).exists():
            raise MemberCodeUsed()
        raise MemberCodeExpired()
    try:
        with transaction.atomic():
            use = MemberCodeUse.objects.create(key=key, generation=key.generation, step=candidate.step,
                                               code=code, context=context[:80], used_at=timezone.now())
            MemberCodeKey.objects.filter(pk=key.pk, generation=key.generation).update(
                generation=F("generation") + 1)
    except IntegrityError:  # another counter took this very code a moment ago
        raise MemberCodeUsed() from None
    return AcceptedCode(user=key.user, use=use)
