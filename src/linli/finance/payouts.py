"""Payout providers: how a batch's money reaches a merchant's bank account. A provider
must dedupe by our payout id (sending the same payout twice transfers once) and raise
PayoutFailed when it did not transfer. The sandbox keeps its own books
(`SandboxTransfer`); `LINLI_FINANCE_SANDBOX_PAYOUT_FAIL=1` makes it refuse (tests, demos)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import SandboxTransfer


class PayoutFailed(Exception):
    pass


@dataclass(frozen=True)
class Transfer:
    provider_ref: str
    amount_fen: int


class PayoutProvider(Protocol):
    name: str

    def transfer(self, *, out_ref: str, amount_fen: int, merchant_ref: str) -> Transfer: ...


class SandboxPayoutProvider:
    name = "sandbox"

    def transfer(self, *, out_ref: str, amount_fen: int, merchant_ref: str) -> Transfer:
        if getattr(settings, "LINLI_FINANCE_SANDBOX_PAYOUT_FAIL", False):
            raise PayoutFailed("sandbox: bank refused the transfer")
        try:
            with transaction.atomic():
                row, _created = SandboxTransfer.objects.get_or_create(
                    out_ref=out_ref, defaults={"amount_fen": amount_fen})
        except IntegrityError:
            row = SandboxTransfer.objects.get(out_ref=out_ref)
        if row.amount_fen != amount_fen:
            raise PayoutFailed("sandbox: same payout id, another amount")
        return Transfer(provider_ref=f"sbt_{row.pk}", amount_fen=row.amount_fen)


_registry: dict[str, PayoutProvider] = {"sandbox": SandboxPayoutProvider()}


def provider(name: str | None = None) -> PayoutProvider:
    chosen = name or str(getattr(settings, "LINLI_FINANCE_PAYOUT_PROVIDER", "sandbox"))
    return _registry[chosen]
