"""Processed money transfers (the command side, in the `ledger` database) and transactions (the read side)."""

from django.db import models

from kernel.databases import LEDGER
from kernel.models import ProcessedCommand
from kernel.rules import MAX_IBAN
from transfers.rules import MAX_REFERENCE


class ProcessedTransfer(ProcessedCommand):
    """The outcome of one ConfirmMoneyTransfer command.

    `balance_changes` holds the events the transfer caused, so that they can be published again when
    the Kafka transaction that carried them was lost after the database had committed.
    """

    database = LEDGER

    balance_changes = models.JSONField(default=list, blank=True)
    payload_digest = models.CharField(
        max_length=64, blank=True, help_text="what the command asked (sha256): its id with another payload is refused"
    )

    def __str__(self) -> str:
        return f"{self.command_id}: {self.reason or 'confirmed'}"


class Transaction(models.Model):
    """A balance change as the read side shows it: one row per BalanceChanged event, never two.

    An event's identity is its command and its place among that command's events (Kafka headers the
    handler sets), so an event published again at another offset finds its row already there. Events
    without those headers (from other producers) are told apart by their topic partition and offset.
    """

    class Direction(models.TextChoices):
        DEBIT = "DEBIT"
        CREDIT = "CREDIT"

    iban = models.CharField(max_length=MAX_IBAN)
    new_balance_cents = models.BigIntegerField()
    changed_by_cents = models.BigIntegerField(help_text="negative for a debit")
    counterparty = models.CharField(max_length=255, help_text="the other IBAN, or a name such as cash")
    description = models.TextField(blank=True)
    source_partition = models.IntegerField()
    source_offset = models.BigIntegerField()
    command_id = models.UUIDField(null=True, blank=True, help_text="the command that caused it")
    event_index = models.SmallIntegerField(null=True, blank=True, help_text="its place among the command's events")
    changed_at = models.DateTimeField(
        null=True, blank=True, help_text="when the ledger made the change (older events: when Kafka stamped them)"
    )
    reference = models.CharField(max_length=MAX_REFERENCE, blank=True, help_text="the payment reference, if any")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_partition", "source_offset"], name="one_transaction_per_event"),
            models.UniqueConstraint(
                fields=["command_id", "event_index"],
                condition=models.Q(command_id__isnull=False),
                name="one_transaction_per_command_event",
            ),
        ]
        indexes = [
            models.Index(fields=["iban", "-id"], name="transaction_iban_newest"),
            # an account's changes, the last first: what `balance_at` reads one row of
            models.Index(
                "iban",
                models.F("changed_at").desc(nulls_last=True),
                models.F("source_offset").desc(),
                name="transaction_iban_as_of",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.iban} {self.changed_by_cents:+d}"

    @property
    def source_topic(self) -> str:
        """Where its event sits in the log: the projector takes transactions from this topic alone."""
        return "balance_changed"

    @property
    def direction(self) -> str:
        """DEBIT when money left the account, CREDIT otherwise (0 counts as CREDIT, as in the original)."""
        return self.Direction.DEBIT if self.changed_by_cents < 0 else self.Direction.CREDIT


class LatestTransaction(models.Model):
    """Each account's newest transaction, kept with the transactions: listing every account's stays cheap.

    No database constraint and no cascade: emptying the transactions (a rebuild) stays one fast DELETE.
    """

    iban = models.CharField(max_length=MAX_IBAN, primary_key=True)
    transaction = models.OneToOneField(
        Transaction, on_delete=models.DO_NOTHING, db_constraint=False, related_name="latest_of"
    )

    def __str__(self) -> str:
        return f"{self.iban}: {self.transaction_id}"


class DailyTotal(models.Model):
    """An account's day (UTC): money in and out, how many changes, and the balance at its end. A projection added
    after the bank had run: `rebuild_projections` made it from the whole history, live (docs/design.md)."""

    iban = models.CharField(max_length=MAX_IBAN)
    day = models.DateField()
    credits_cents = models.BigIntegerField(default=0)
    debits_cents = models.BigIntegerField(default=0, help_text="money out, as a positive number")
    changes = models.IntegerField(default=0)
    closing_balance_cents = models.BigIntegerField(help_text="after the day's last change")
    last_changed_at = models.DateTimeField(help_text="when the day's last change was made")
    last_offset = models.BigIntegerField(help_text="its offset: changes of one moment are ordered by it")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["iban", "day"], name="one_total_per_account_and_day")]

    def __str__(self) -> str:
        return f"{self.iban} {self.day}"
