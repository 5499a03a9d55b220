"""get_account and money_transfer, shared by the original's subscriptions and our mutations: parse, call the
domain, shape the answer."""

from __future__ import annotations

import uuid

from accounts.commands import open_or_log_in
from graphql_api.errors import ClientError
from graphql_api.types import AccountResult, MoneyTransferResult
from transfers.commands import request_transfer


async def get_account(username: str, password: str) -> AccountResult:
    answer = await open_or_log_in(username=username, password=password)
    return AccountResult(iban=answer.iban, token=answer.token, reason=answer.reason)


REFERENCE = "A payment reference, at most 35 characters, shown with the transaction and searchable (ours)"


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise ClientError(f"uuid {value[:64]!r} is not a valid UUID") from None


async def money_transfer(
    *, uuid_: str, username: str, token: str, amount: int, from_: str, to: str, descr: str, reference: str | None = None
) -> MoneyTransferResult:
    answer = await request_transfer(
        command_id=parse_uuid(uuid_),  # any case: UUID() reads upper case too, unlike the original
        username=username,
        token=token,
        amount_cents=amount,
        from_account=from_,
        to_account=to,
        description=descr,
        reference=reference,
    )
    return MoneyTransferResult(uuid=uuid_, success=answer.success, reason=answer.reason)
