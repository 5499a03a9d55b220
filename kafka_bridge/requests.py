"""Send a command to the bank and wait for its answer: for the GraphQL API and the pages alike.

The answer travels command handler -> feedback topic -> projector -> channel layer, and we listen
before sending, so even an instant answer is never missed.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.services import register_or_log_in
from kafka_bridge.messages import ConfirmAccountCreation, ConfirmMoneyTransfer, Message
from kafka_bridge.publisher import get_publisher
from transfers.live import command_answers


@dataclass(frozen=True)
class AccountAnswer:
    iban: str | None = None
    token: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TransferAnswer:
    success: bool
    reason: str | None = None


class NoAnswer(Exception):
    """The command handler did not answer in time."""


def no_answer_reason() -> str:
    return f"no answer from the bank within {settings.COMMAND_ANSWER_TIMEOUT:g} seconds; try again"


async def _send_and_wait(command_id: uuid.UUID, key: str, command: Message) -> dict:
    try:
        async with asyncio.timeout(settings.COMMAND_ANSWER_TIMEOUT):
            async with command_answers().waiting_for(command_id) as answer:
                await get_publisher().publish(key, command)
                return await answer
    except TimeoutError:
        raise NoAnswer from None


async def open_or_log_in(username: str, password: str) -> AccountAnswer:
    """Create-or-login: a new username gets an account, a known one (with its password) the same one again."""
    login = await sync_to_async(register_or_log_in)(username=username, password=password)
    if login.reason:
        return AccountAnswer(reason=login.reason)
    command = ConfirmAccountCreation(id=login.command_id, username=username)
    try:
        answer = await _send_and_wait(login.command_id, username, command)
    except NoAnswer:
        return AccountAnswer(reason=no_answer_reason())
    return AccountAnswer(iban=answer["iban"], token=answer["token"], reason=answer["reason"])


async def transfer_money(
    *,
    command_id: uuid.UUID,
    username: str,
    token: str,
    amount_cents: int,
    from_account: str,
    to_account: str,
    description: str,
) -> TransferAnswer:
    command = ConfirmMoneyTransfer(
        id=command_id,
        token=token,
        amount_cents=amount_cents,
        from_account=from_account,
        to_account=to_account,
        description=description,
    )
    try:
        answer = await _send_and_wait(command_id, username, command)
    except NoAnswer:
        return TransferAnswer(success=False, reason=no_answer_reason())
    return TransferAnswer(success=answer["success"], reason=answer["reason"])
