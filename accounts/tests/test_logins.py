"""Logins on the command side: Argon2id, failures (not logins) lock a username, a bounded hashing queue, and
alert e-mail addresses that are verified before anything is mailed there."""

import asyncio
import time
import uuid
from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password

from accounts import commands
from accounts.commands import BUSY, INCORRECT_PASSWORD, AccountAnswer, OpenAccount, open_or_log_in
from accounts.logins import (
    alert_email_of_account,
    alert_emails_of,
    ask_for_alert_email,
    register,
    verify_alert_email,
)
from accounts.models import Login
from accounts.rules import IBAN_ALREADY_EXISTS
from accounts.tests.factories import LedgerAccountFactory
from accounts.throttle import TOO_MANY_ATTEMPTS
from kernel.limits import asking_from

# Transactional: the login does its database work on threads of its own, outside a test transaction.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "ledger"])
OPENED = AccountAnswer(iban="NL66OPEN0000000000", token="1" * 20)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def log_in(username, password, client_address="10.0.0.1"):
    serving = asking_from.set(client_address)
    try:
        return asyncio.run(open_or_log_in(username=username, password=password))
    finally:
        asking_from.reset(serving)


def test_a_new_password_is_kept_as_argon2id_at_owasps_cost(in_memory):
    in_memory.answer_with(OpenAccount, OPENED)

    assert log_in("new-customer", "secret-password") == OPENED

    stored = Login.objects.get(username="new-customer").password
    assert stored.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$") and "secret-password" not in stored


def test_an_older_hash_is_made_again_at_a_good_login(in_memory):
    in_memory.answer_with(OpenAccount, OPENED)
    register("old-customer", make_password("secret-password", hasher="pbkdf2_sha256"))

    assert log_in("old-customer", "secret-password") == OPENED
    assert Login.objects.get(username="old-customer").password.startswith("argon2$argon2id$")
    assert log_in("old-customer", "secret-password") == OPENED


def test_logging_in_often_never_locks_the_owner_out_but_wrong_passwords_do(in_memory, settings):
    """Every attempt once counted against the username: anyone could lock a customer out with their name."""
    settings.LOGIN_FAILURES_PER_MINUTE = 3
    in_memory.answer_with(OpenAccount, OPENED)

    assert [log_in("often-here", "secret-password") for _ in range(6)] == [OPENED] * 6
    assert [log_in("often-here", "wrong-password").reason for _ in range(3)] == [INCORRECT_PASSWORD] * 3
    assert log_in("often-here", "secret-password").reason == TOO_MANY_ATTEMPTS


def test_a_strangers_wrong_passwords_lock_only_the_strangers_address(in_memory, settings):
    settings.LOGIN_FAILURES_PER_MINUTE, settings.LOGIN_FAILURES_PER_MINUTE_PER_USERNAME = 3, 5
    in_memory.answer_with(OpenAccount, OPENED)
    assert log_in("targeted-one", "secret-password") == OPENED

    guesses = [log_in("targeted-one", "a-guess-123", client_address="10.6.6.6").reason for _ in range(4)]

    assert guesses == [INCORRECT_PASSWORD] * 3 + [TOO_MANY_ATTEMPTS]
    assert log_in("targeted-one", "secret-password") == OPENED
    # the wider cap: guesses from many addresses lock the name for a minute
    assert log_in("targeted-one", "a-guess-123", client_address="10.6.6.7").reason == INCORRECT_PASSWORD
    assert log_in("targeted-one", "a-guess-123", client_address="10.6.6.8").reason == INCORRECT_PASSWORD
    assert log_in("targeted-one", "secret-password").reason == TOO_MANY_ATTEMPTS


def test_a_refused_account_creation_is_tried_again_as_a_new_command(in_memory):
    in_memory.answer_with(OpenAccount, AccountAnswer(reason=IBAN_ALREADY_EXISTS), OPENED)

    assert log_in("unlucky-one", "secret-password").reason == IBAN_ALREADY_EXISTS
    assert log_in("unlucky-one", "secret-password") == OPENED
    first, second = in_memory.sent
    assert first.command_id != second.command_id
    assert Login.objects.get(username="unlucky-one").command_id == second.command_id


def test_beyond_the_hashing_queue_a_login_is_told_the_bank_is_busy(in_memory, settings, monkeypatch):
    in_memory.answer_with(OpenAccount, OPENED)
    monkeypatch.setattr(commands, "_hashes_waiting", settings.PASSWORD_HASHING_QUEUE)

    assert log_in("queued-out", "secret-password").reason == BUSY
    assert not Login.objects.filter(username="queued-out").exists()


def test_an_alert_address_gets_nothing_until_its_link_is_opened():
    account = LedgerAccountFactory(username="mailed-one")
    register("mailed-one", make_password("secret-password"))

    link = ask_for_alert_email("mailed-one", "owner@example.com")

    assert alert_emails_of("mailed-one") == ("", "owner@example.com")
    assert alert_email_of_account(account.iban) == ""
    assert verify_alert_email(link) == "owner@example.com"
    assert alert_email_of_account(account.iban) == "owner@example.com"
    assert alert_emails_of("mailed-one") == ("owner@example.com", "")


def test_a_forged_expired_or_replaced_link_verifies_nothing():
    register("careful-one", make_password("secret-password"))
    old = ask_for_alert_email("careful-one", "old@example.com")
    new = ask_for_alert_email("careful-one", "new@example.com")

    assert verify_alert_email(old) is None  # replaced by the newer address
    assert verify_alert_email(new[:-2] + "xx") is None
    with mock.patch("time.time", return_value=time.time() + 3 * 86400):
        assert verify_alert_email(new) is None
    assert alert_emails_of("careful-one") == ("", "new@example.com")


def test_an_empty_address_stops_the_mails_and_a_wrong_one_is_refused():
    register("quiet-one", make_password("secret-password"))
    Login.objects.filter(username="quiet-one").update(alert_email="owner@example.com")

    assert ask_for_alert_email("quiet-one", "not an address") is None
    assert ask_for_alert_email("quiet-one", "") == ""
    assert alert_emails_of("quiet-one") == ("", "")
    assert ask_for_alert_email(f"nobody-{uuid.uuid4().hex}", "a@example.com") is None
