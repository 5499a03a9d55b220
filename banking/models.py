"""The bank's own bookkeeping: answers that wait for their events (read side), and how far the ledger has
read its input (command side)."""

from django.db import models

from kernel.databases import LEDGER


class PendingAnswer(models.Model):
    """An answer to a command that waits until all the command's events are in the read model."""

    command_id = models.UUIDField(primary_key=True)
    events = models.SmallIntegerField(help_text="how many events the command caused")
    answer = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.command_id}: waits for {self.events} event(s)"


class InputPosition(models.Model):
    """Where a consumer of the ledger is in one partition of its input, saved with the ledger's own writes.

    `start` and `end` bound the last batch the ledger took from it. That batch's outcomes are committed here;
    whether its output reached Kafka is known here (`published_to`) once a later batch says so; till then, Kafka
    says (the handler's positions, kept in its transactions).
    """

    database = LEDGER

    consumer = models.CharField(max_length=200)
    topic = models.CharField(max_length=249)
    partition = models.IntegerField()
    start = models.BigIntegerField(help_text="the first offset of the last batch")
    end = models.BigIntegerField(help_text="the offset after the last batch")
    published_to = models.BigIntegerField(help_text="the offset up to which the output is known to be in Kafka")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "topic", "partition"], name="one_position_per_partition")
        ]

    def __str__(self) -> str:
        return f"{self.consumer} {self.topic}[{self.partition}] at {self.end}"
