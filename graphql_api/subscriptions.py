from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_api import operations
from graphql_api.alerts import AlertSubscriptions
from graphql_api.limits import refuse_hostile_text
from graphql_api.metrics import SUBSCRIPTIONS
from graphql_api.privacy import Token, refuse_unless_readable, refuse_unless_staff
from graphql_api.types import AccountResult, Direction, MoneyTransferResult, TransactionType
from kernel.live import listening
from transfers.notices import ALL_TRANSACTIONS, TRANSACTION_CREATED, TransactionNotice, transactions_group


def matches(notice: TransactionNotice, *, min_amount, max_amount, direction, descr_includes) -> bool:
    """The stream's filters, fixed: amounts compare the absolute value, direction and text really match."""
    amount = abs(notice.changed_by_cents)
    return (
        (min_amount is None or amount >= min_amount)
        and (max_amount is None or amount <= max_amount)
        and (direction is None or notice.direction == direction.value)
        and (descr_includes is None or descr_includes.lower() in notice.description.lower())
    )


@strawberry.type(name="SubscriptionRoot", description="Root of all subscriptions.")
class SubscriptionRoot(AlertSubscriptions):
    @strawberry.subscription(description="Get transactions as they happen, with optional filtering")
    async def stream_transactions(
        self,
        info: Info,
        direction: Annotated[
            Direction | None, strawberry.argument(description="optional filter on DEBIT or CREDIT")
        ] = None,
        iban: Annotated[str | None, strawberry.argument(description="optional filter on matching iban")] = None,
        min_amount: Annotated[
            int | None, strawberry.argument(description="optional filter based on transferred amount")
        ] = None,
        max_amount: Annotated[
            int | None, strawberry.argument(description="optional filter based on transferred amount")
        ] = None,
        descr_includes: Annotated[
            str | None, strawberry.argument(description="optional filter based on description")
        ] = None,
        token: Token = None,
    ) -> AsyncGenerator[TransactionType | None, None]:
        refuse_hostile_text(iban=iban, descr_includes=descr_includes, token=token)
        await (refuse_unless_readable(info, iban, token) if iban else refuse_unless_staff(info))
        group = transactions_group(iban) if iban else ALL_TRANSACTIONS
        with SUBSCRIPTIONS.track_inprogress():
            async with listening(group) as receive:
                while True:
                    message = await receive()
                    if message.get("type") != TRANSACTION_CREATED:
                        continue
                    notice = TransactionNotice.from_message(message["transaction"])
                    if iban and notice.iban != iban:
                        continue
                    if matches(
                        notice,
                        min_amount=min_amount,
                        max_amount=max_amount,
                        direction=direction,
                        descr_includes=descr_includes,
                    ):
                        yield notice  # type: ignore[misc]  # a live notice, resolved as a Transaction (types.py)

    @strawberry.subscription(
        description="Get the result of account creation, account may be just created or already exist"
    )
    async def get_account(
        self,
        password: Annotated[str, strawberry.argument(description="Password needed to log in some other time")],
        username: Annotated[str, strawberry.argument(description="The username used to log in some other time")],
    ) -> AsyncGenerator[AccountResult | None, None]:
        yield await operations.get_account(username, password)

    @strawberry.subscription(description="Try to make a money transfer")
    async def money_transfer(
        self,
        amount: Annotated[int, strawberry.argument(description="The amount in euro cents to transfer")],
        descr: Annotated[str, strawberry.argument(description="The description of the money transfer")],
        from_: Annotated[
            str, strawberry.argument(name="from", description="The iban of the account the money is debited")
        ],
        to: Annotated[str, strawberry.argument(description="The iban of the account the money is credited")],
        token: Annotated[str, strawberry.argument(description="The token needed to authenticate the transaction")],
        username: Annotated[str, strawberry.argument(description="The username linked to the account")],
        uuid: Annotated[
            str,
            strawberry.argument(
                description="This will be used to prevent duplication, and to allow to retrieve the status later on"
            ),
        ],
        reference: Annotated[str | None, strawberry.argument(description=operations.REFERENCE)] = None,
    ) -> AsyncGenerator[MoneyTransferResult | None, None]:
        yield await operations.money_transfer(
            uuid_=uuid,
            username=username,
            token=token,
            amount=amount,
            from_=from_,
            to=to,
            descr=descr,
            reference=reference,
        )
