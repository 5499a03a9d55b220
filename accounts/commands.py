"""The user actions of `accounts`: open an account or log in to it. Kafka-free: commands go through the bus."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password

from accounts.logins import find_login, register
from accounts.rules import login_refusal
from accounts.throttle import TOO_MANY_ATTEMPTS, login_throttled
from kernel.bus import Command, ask

T = TypeVar("T")
INCORRECT_PASSWORD = "incorrect password"  # the original's

# Password hashing (PBKDF2, about half a second of CPU) runs here, never on the thread that every database
# read of the web process shares: a burst of logins would stall every customer behind it.
_hashing = ThreadPoolExecutor(max_workers=settings.PASSWORD_HASHING_THREADS, thread_name_prefix="password-hashing")


@dataclass(frozen=True)
class AccountAnswer:
    iban: str | None = None
    token: str | None = None
    reason: str | None = None

    @classmethod
    def failed(cls, reason: str, *, pending: bool = False) -> AccountAnswer:
        return cls(reason=reason)


@dataclass(frozen=True)
class OpenAccount(Command[AccountAnswer]):
    """The ConfirmAccountCreation command: open an account for `username`, or repeat the answer for this id."""

    username: str


async def _hashed(function: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hashing, function, *args)


async def open_or_log_in(*, username: str, password: str, client_address: str | None = None) -> AccountAnswer:
    """Create-or-login, as the original's get_account: a new username gets an account, a known one with its
    password the same IBAN and token again."""
    if reason := login_refusal(username, password):
        return AccountAnswer(reason=reason)
    if await login_throttled(username, client_address):
        return AccountAnswer(reason=TOO_MANY_ATTEMPTS)
    known = await database_sync_to_async(find_login)(username)
    if known is None:
        known = await database_sync_to_async(register)(username, await _hashed(make_password, password))
        if known is None:  # registered a moment ago by another request: log in instead
            known = await database_sync_to_async(find_login)(username)
            if known is None or not await _hashed(check_password, password, known.password_hash):
                return AccountAnswer(reason=INCORRECT_PASSWORD)
    elif not await _hashed(check_password, password, known.password_hash):
        return AccountAnswer(reason=INCORRECT_PASSWORD)
    return await ask(OpenAccount(known.command_id, username), key=username)
