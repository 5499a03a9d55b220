"""Processed money transfers: the command side, in the `ledger` database."""

from django.db import models


class ProcessedTransfer(models.Model):
    """The outcome of one ConfirmMoneyTransfer command, kept so that a repeat gets the same answer.

    `balance_changes` holds the events the transfer caused, so that they can be published again when
    the Kafka transaction that carried them was lost after the database had committed.
    """

    database = "ledger"

    command_id = models.UUIDField(primary_key=True)
    reason = models.TextField(blank=True, help_text="why it failed; empty when it succeeded")
    balance_changes = models.JSONField(default=list, blank=True)
    delivery = models.CharField(max_length=64, help_text="where the command was read from (topic partition:offset)")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.command_id}: {self.reason or 'confirmed'}"
