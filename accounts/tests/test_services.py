import io
import uuid

import pytest
from django.core.management import call_command
from django.db import transaction

from accounts.commands import OpenAccount
from accounts.iban import is_open_iban
from accounts.ledger import Ledger
from accounts.models import LedgerAccount, ProcessedAccountCreation
from accounts.rules import USERNAME_IS_INVALID
from accounts.services import IBAN_ALREADY_EXISTS
from accounts.services import open_account as open_account_on
from kernel.rules import UUID_ALREADY_USED

pytestmark = pytest.mark.django_db(databases=["ledger"])


def open_account(username="alice", command_id=None, delivery="commands:0:1"):
    command = OpenAccount(command_id=command_id or uuid.uuid4(), username=username)
    with transaction.atomic(using="ledger"):
        ledger = Ledger([], {ProcessedAccountCreation: [command.command_id]})
        outcome = open_account_on(command, delivery=delivery, ledger=ledger)
        ledger.save()
    return outcome


def test_the_company_account_is_seeded_with_a_secret_token():
    company = LedgerAccount.objects.get(iban="NL66OPEN0000000000")
    assert (company.username, company.balance_cents, company.limit_cents) == ("open_web", 10**17, -50_000)
    assert len(company.token) == 20 and company.token.isdigit()
    assert company.token != "0" * 20  # the original's, which its published scripts print


def test_an_operator_reads_the_company_token_with_a_command():
    out = io.StringIO()
    call_command("company_account", stdout=out)

    assert LedgerAccount.objects.get(iban="NL66OPEN0000000000").token in out.getvalue()


def test_opening_an_account_gives_a_new_iban_and_token_and_an_empty_account():
    outcome = open_account("alice")

    assert outcome.reason is None
    assert is_open_iban(outcome.iban) and len(outcome.token) == 20
    account = LedgerAccount.objects.get(iban=outcome.iban)
    assert (account.username, account.token, account.balance_cents, account.limit_cents) == (
        "alice",
        outcome.token,
        0,
        -50_000,
    )


def test_the_same_command_id_gets_the_same_account_back():
    command_id = uuid.uuid4()
    first = open_account("bob", command_id)

    again = open_account("bob", command_id, delivery="commands:0:99")

    assert again == first
    assert LedgerAccount.objects.filter(username="bob").count() == 1


def test_a_generated_iban_that_exists_fails_with_the_original_reason(monkeypatch):
    monkeypatch.setattr("accounts.services.new_iban", lambda: "NL66OPEN0000000000")

    outcome = open_account("carol")

    assert outcome.reason == IBAN_ALREADY_EXISTS
    assert ProcessedAccountCreation.objects.get(command_id=outcome.command_id).reason == IBAN_ALREADY_EXISTS
    assert not LedgerAccount.objects.filter(username="carol").exists()


@pytest.mark.parametrize("username", ["  ", "nul\u0000inside", "x" * 151])
def test_a_blank_or_unstorable_username_is_refused_and_nothing_is_kept(username):
    outcome = open_account(username)

    assert outcome.reason == USERNAME_IS_INVALID
    assert not ProcessedAccountCreation.objects.filter(command_id=outcome.command_id).exists()


def test_a_command_id_sent_again_for_another_username_is_refused():
    command_id = uuid.uuid4()
    first = open_account("bob", command_id)

    assert open_account("mallory", command_id, delivery="commands:0:2").reason == UUID_ALREADY_USED
    assert open_account("bob", command_id, delivery="commands:0:3") == first
