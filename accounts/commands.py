"""The user actions of `accounts`: open an account or log in to it. Kafka-free: commands go through the bus."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password

from accounts.logins import KnownLogin, find_login, register, rehash, renew_command_id
from accounts.rules import IBAN_ALREADY_EXISTS, login_refusal
from accounts.throttle import TOO_MANY_ATTEMPTS, count_failure, login_refused
from kernel.bus import Command, ask
from kernel.limits import asking_from
from kernel.rules import UUID_ALREADY_USED

T = TypeVar("T")
INCORRECT_PASSWORD = "incorrect password"  # the original's
BUSY = "the bank is busy with other logins; try again in a moment"

# Password hashing runs here, never on the thread that every database read of the web process shares: a burst
# of logins would stall every customer behind it. Beyond PASSWORD_HASHING_QUEUE waiting, a login is told "busy".
_hashing = ThreadPoolExecutor(max_workers=settings.PASSWORD_HASHING_THREADS, thread_name_prefix="password-hashing")
_hashes_waiting = 0  # changed on the event loop only


class Busy(Exception):
    """Too many passwords are waiting to be hashed."""


@dataclass(frozen=True)
class AccountAnswer:
    iban: str | None = None
    token: str | None = None
    reason: str | None = None

    @classmethod
    def failed(cls, reason: str, *, pending: bool = False) -> AccountAnswer:
        return cls(reason=reason)

    @property
    def refused(self) -> bool:
        """The ledger did not open the account: trying again takes another command, not this one repeated."""
        return self.reason in (IBAN_ALREADY_EXISTS, UUID_ALREADY_USED)


@dataclass(frozen=True)
class OpenAccount(Command[AccountAnswer]):
    """The ConfirmAccountCreation command: open an account for `username`, or repeat the answer for this id."""

    username: str


async def _hashed(function: Callable[..., T], *args: str) -> T:
    global _hashes_waiting
    if _hashes_waiting >= settings.PASSWORD_HASHING_QUEUE:
        raise Busy
    _hashes_waiting += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_hashing, function, *args)
    finally:
        _hashes_waiting -= 1


def _checked(password: str, encoded: str) -> tuple[bool, str | None]:
    """Whether `password` matches, and its new hash when the stored one is of an older kind or cost."""
    new: list[str] = []
    matches = check_password(password, encoded, setter=lambda raw: new.append(make_password(raw)))
    return matches, (new[0] if new else None)


async def _password_matches(username: str, password: str, known: KnownLogin | None, client_address: str | None) -> bool:
    if known is None:
        return False
    matches, new = await _hashed(_checked, password, known.password_hash)
    if new:
        await database_sync_to_async(rehash)(username, new)
    if not matches:
        await sync_to_async(count_failure)(username, client_address)
    return matches


async def open_or_log_in(*, username: str, password: str) -> AccountAnswer:
    """Create-or-login, as the original's get_account: a new username gets an account, a known one with its
    password the same IBAN and token again. Attempts count against the client's address (`asking_from`)."""
    client_address = asking_from.get()
    if reason := login_refusal(username, password):
        return AccountAnswer(reason=reason)
    if await sync_to_async(login_refused)(username, client_address):
        return AccountAnswer(reason=TOO_MANY_ATTEMPTS)
    try:
        known = await database_sync_to_async(find_login)(username)
        if known is None:
            known = await database_sync_to_async(register)(username, await _hashed(make_password, password))
            if known is None:  # registered a moment ago by another request: log in instead
                known = await database_sync_to_async(find_login)(username)
                if not await _password_matches(username, password, known, client_address):
                    return AccountAnswer(reason=INCORRECT_PASSWORD)
        elif not await _password_matches(username, password, known, client_address):
            return AccountAnswer(reason=INCORRECT_PASSWORD)
    except Busy:
        return AccountAnswer(reason=BUSY)
    assert known is not None
    answer = await ask(OpenAccount(known.command_id, username), key=username)
    if answer.refused:
        await database_sync_to_async(renew_command_id)(username, known.command_id)
    return answer
