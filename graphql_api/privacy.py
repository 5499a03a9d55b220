"""Reads of accounts under `PRIVATE_READS` (the rule: accounts.access): an account's reads need its token or a
staff login (the admin's session cookie), every account's a staff login. Off, nothing is asked or looked up."""

from __future__ import annotations

from typing import Annotated

import strawberry
from channels.auth import get_user
from strawberry.types import Info

from accounts.access import PRIVATE_ACCOUNT, STAFF_ONLY, is_staff, may_read_account, reads_are_private
from graphql_api.errors import ClientError
from kernel.reads import read

Token = Annotated[
    str | None,
    strawberry.argument(description="the account's token: needed when the bank keeps reads private (PRIVATE_READS)"),
]


def _scope(info: Info) -> dict:
    """The ASGI scope of the request: over HTTP the consumer is behind strawberry's request, on a websocket it is it."""
    request = (info.context or {}).get("request")
    return getattr(getattr(request, "consumer", request), "scope", {})


async def _is_staff(info: Info) -> bool:
    scope = _scope(info)
    return "session" in scope and is_staff(await get_user(scope))


async def refuse_unless_readable(info: Info, iban: str, token: str | None) -> None:
    """Raise unless whoever asks may read the account `iban`."""
    if reads_are_private() and not (await read(may_read_account, iban, token=token) or await _is_staff(info)):
        raise ClientError(PRIVATE_ACCOUNT)


async def refuse_unless_staff(info: Info) -> None:
    """Raise unless whoever asks may read every account at once."""
    if reads_are_private() and not await _is_staff(info):
        raise ClientError(STAFF_ONLY)
