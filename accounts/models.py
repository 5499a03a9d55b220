"""Ledger accounts, processed account creations and logins (the command side, in the `ledger` database), and
customers' accounts as the read side knows them."""

from django.db import models

from kernel.databases import LEDGER
from kernel.models import ProcessedCommand
from kernel.rules import MAX_IBAN, MAX_USERNAME


class LedgerAccount(models.Model):
    """An account as the command handler knows it: the only place where balances change."""

    database = LEDGER  # see bankproject.routers

    username = models.CharField(max_length=MAX_USERNAME, db_index=True)
    iban = models.CharField(max_length=MAX_IBAN, unique=True)
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

    database = LEDGER

    username = models.CharField(max_length=MAX_USERNAME)
    iban = models.CharField(max_length=MAX_IBAN, blank=True)
    token = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return f"{self.command_id}: {self.reason or self.iban}"


class Login(models.Model):
    """What a customer logs in with, and the key to their account: the command side's, so that the read model
    can be dropped and rebuilt and every customer still logs in to their own account."""

    database = LEDGER

    username = models.CharField(max_length=MAX_USERNAME, unique=True)
    password = models.CharField(max_length=128, help_text="a hash, never the password")
    command_id = models.UUIDField(unique=True, help_text="of their ConfirmAccountCreation: sent again at each login")
    alert_email = models.EmailField(blank=True, help_text="verified: alerts are mailed here")
    unverified_email = models.EmailField(blank=True, help_text="asked for, waiting for its verification link")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.username


class Customer(models.Model):
    """An account as the read side knows it, projected from the ledger's answers to account creations: enough
    to tell an account's owner by its token."""

    command_id = models.UUIDField(unique=True)
    iban = models.CharField(max_length=MAX_IBAN, blank=True, db_index=True)
    token = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.iban
