"""Rows the core owns: the transactional outbox of task sends (core/outbox.py)."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """A Celery task to send, written in the transaction that wants it sent, so the send
    happens if and only if that transaction commits, even when the broker is down at that
    moment. Deleted once the broker has taken it."""

    task = models.CharField(max_length=200)  # the task's registered name
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    not_before = models.DateTimeField(null=True, blank=True)  # a countdown, kept as an absolute eta
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)  # failed sends so far
    next_attempt_at = models.DateTimeField(db_index=True)  # the sweep sends nothing before this
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "core_outbox_message"

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
