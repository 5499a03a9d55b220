"""The base of every command the ledger keeps the outcome of."""

from django.db import models


class ProcessedCommand(models.Model):
    """A command the ledger has handled: its outcome is kept, so that a repeat gets the same answer."""

    command_id = models.UUIDField(primary_key=True)
    reason = models.TextField(blank=True, help_text="why it failed; empty when it succeeded")
    delivery = models.CharField(max_length=64, help_text="where the command was read from (topic partition:offset)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
