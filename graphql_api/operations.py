"""get_account and money_transfer, shared by the original's subscriptions and our mutations."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.services import register_or_log_in
from graphql_api.live import listening
from graphql_api.types import AccountResult, MoneyTransferResult
from kafka_bridge.messages import ConfirmAccountCreation, ConfirmMoneyTransfer
from kafka_bridge.publisher import get_publisher
from transfers.notifications import command_group


class NoAnswer(Exception):
    """The command handler did not answer in time."""


def no_answer_reason() -> str:
    return f"no answer from the bank within {settings.COMMAND_ANSWER_TIMEOUT:g} seconds; try again"


async def _send_and_wait(command_id: uuid.UUID, key: str, command) -> dict:
    async with listening(command_group(command_id)) as receive:
        await get_publisher().publish(key, command)
        try:
            return await asyncio.wait_for(receive(), settings.COMMAND_ANSWER_TIMEOUT)
        except TimeoutError:
            raise NoAnswer from None


async def get_account(username: str, password: str) -> AccountResult:
    login = await sync_to_async(register_or_log_in)(username=username, password=password)
    if login.reason:
        return AccountResult(reason=login.reason)
    try:
        answer = await _send_and_wait(
            login.command_id, username, ConfirmAccountCreation(id=login.command_id, username=username)
        )
    except NoAnswer:
        return AccountResult(reason=no_answer_reason())
    return AccountResult(iban=answer["iban"], token=answer["token"], reason=answer["reason"])


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"uuid {value!r} is not a valid UUID") from None


async def money_transfer(
    *, uuid_: str, username: str, token: str, amount: int, from_: str, to: str, descr: str
) -> MoneyTransferResult:
    command_id = parse_uuid(uuid_)  # any case: UUID() reads upper case too, unlike the original
    command = ConfirmMoneyTransfer(
        id=command_id, token=token, amount_cents=amount, from_account=from_, to_account=to, description=descr
    )
    try:
        answer = await _send_and_wait(command_id, username, command)
    except NoAnswer:
        return MoneyTransferResult(uuid=uuid_, success=False, reason=no_answer_reason())
    return MoneyTransferResult(uuid=uuid_, success=answer["success"], reason=answer["reason"])
