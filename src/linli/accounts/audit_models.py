"""The audit log row (`linli.core.audit`). Append-only: the model refuses updates and
deletes, so do its querysets, and the back office shows entries read-only."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.errors import Conflict
from linli.core.fields import PublicIdField


class AuditEntryImmutable(Conflict):
    code = "audit_entry_immutable"
    message = _("Audit entries cannot be changed or deleted.")


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditEntryImmutable()

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditEntryImmutable()


class AuditEntry(models.Model):
    public_id = PublicIdField(prefix="aud")
    # PROTECT: an audited user is never deleted (account deletion anonymises instead).
    actor = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    actor_public_id = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=16)  # operator, support, merchant, consumer, system
    action = models.CharField(max_length=64, db_index=True)  # refund.create, merchant.suspend
    target_kind = models.CharField(max_length=32)  # order, merchant, user, adjustment
    target_id = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    address = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        db_table = "accounts_audit_entry"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_kind", "target_id"], name="audit_target"),
                   models.Index(fields=["actor", "-created_at"], name="audit_actor")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.action} {self.target_kind}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or self.pk is not None:
            raise AuditEntryImmutable()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AuditEntryImmutable()
