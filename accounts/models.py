"""Ledger accounts and processed account creations (the command side, in the `ledger` database), and customers
(the read side)."""

from django.db import models

from kernel.models import ProcessedCommand


class LedgerAccount(models.Model):
    """An account as the command handler knows it: the only place where balances change."""

    database = "ledger"  # see bankproject.routers

    username = models.CharField(max_length=150, db_index=True)
    iban = models.CharField(max_length=34, unique=True)
    token = models.CharField(max_length=20)
    balance_cents = models.BigIntegerField(default=0)
    limit_cents = models.BigIntegerField(default=-50_000, help_text="lowest balance allowed (an overdraft limit)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["iban"]

    def __str__(self) -> str:
        return f"{self.iban} ({self.username})"


class ProcessedAccountCreation(ProcessedCommand):
    """The outcome of one ConfirmAccountCreation command."""

    database = "ledger"

    username = models.CharField(max_length=150)
    iban = models.CharField(max_length=34, blank=True)
    token = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return f"{self.command_id}: {self.reason or self.iban}"


class Customer(models.Model):
    """A user of the bank as the read side knows them: the login, and the account the ledger opened.

    `command_id` is the id of their ConfirmAccountCreation command: logging in sends it again, and
    the command handler answers with the same IBAN and token.
    """

    user = models.OneToOneField("auth.User", on_delete=models.CASCADE, related_name="customer")
    command_id = models.UUIDField(unique=True)
    iban = models.CharField(max_length=34, blank=True, db_index=True)
    token = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True, help_text="where alerts are mailed, if anywhere")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.username} ({self.iban or 'pending'})"
