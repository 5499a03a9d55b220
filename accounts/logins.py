"""Customers' logins, kept on the command side (`accounts.models.Login`): a password hash, the id of their
account-creation command, and where their alerts are mailed."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError

from accounts.models import LedgerAccount, Login

EMAIL_LINK_DAYS = 2
_EMAIL_SALT = "accounts.alert-email"


@dataclass(frozen=True)
class KnownLogin:
    command_id: UUID  # of their ConfirmAccountCreation: sending it again gives the same IBAN and token
    password_hash: str


def find_login(username: str) -> KnownLogin | None:
    login = Login.objects.filter(username=username).only("command_id", "password").first()
    return None if login is None else KnownLogin(login.command_id, login.password)


def register(username: str, password_hash: str) -> KnownLogin | None:
    """A new login with an already hashed password, and a fresh command id; None if the name was just taken."""
    try:
        login = Login.objects.create(username=username, password=password_hash, command_id=uuid4())
    except IntegrityError:
        return None
    return KnownLogin(login.command_id, password_hash)


def rehash(username: str, password_hash: str) -> None:
    """Keep a login's password under a new hash (made at a good login, when the old one is of an older kind)."""
    Login.objects.filter(username=username).update(password=password_hash)


def renew_command_id(username: str, failed: UUID) -> None:
    """The ledger refused to open this login's account: its next login is a new command, not a repeat."""
    Login.objects.filter(username=username, command_id=failed).update(command_id=uuid4())


def ask_for_alert_email(username: str, email: str) -> str | None:
    """Keep `email` until its owner follows the link this returns (signed, good for two days); None when it is
    no e-mail address. An empty `email` stops the mails at once and returns ""."""
    if not email:
        Login.objects.filter(username=username).update(alert_email="", unverified_email="")
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return None
    if not Login.objects.filter(username=username).update(unverified_email=email):
        return None
    return signing.dumps({"username": username, "email": email}, salt=_EMAIL_SALT)


def verify_alert_email(link: str) -> str | None:
    """The address a verification link proves, now mailed alerts; None for a link that is forged, expired, or
    for an address since replaced."""
    try:
        asked = signing.loads(link, salt=_EMAIL_SALT, max_age=EMAIL_LINK_DAYS * 86400)
    except signing.BadSignature:
        return None
    verified = Login.objects.filter(username=asked["username"], unverified_email=asked["email"]).update(
        alert_email=asked["email"], unverified_email=""
    )
    return asked["email"] if verified else None


def alert_emails_of(username: str) -> tuple[str, str]:
    """Where alerts are mailed, and the address waiting for its verification ("" for none)."""
    found = Login.objects.filter(username=username).values_list("alert_email", "unverified_email").first()
    return found or ("", "")


def alert_email_of_account(iban: str) -> str:
    """The verified address of an account's owner, or ""."""
    owners = LedgerAccount.objects.filter(iban=iban).values("username")
    return Login.objects.filter(username__in=owners).values_list("alert_email", flat=True).first() or ""
