from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api import operations
from graphql_api.alerts import AlertMutations
from graphql_api.types import AccountResult, MoneyTransferResult


@strawberry.type(name="MutationRoot", description="Commands that answer once, with a server-side time-out.")
class MutationRoot(AlertMutations):
    @strawberry.mutation(description="Create an account, or log in to an existing one, and return it")
    async def get_account(self, username: str, password: str) -> AccountResult:
        return await operations.get_account(username, password)

    @strawberry.mutation(description="Make a money transfer and return its outcome")
    async def money_transfer(
        self,
        uuid: str,
        username: str,
        token: str,
        amount: int,
        from_: Annotated[str, strawberry.argument(name="from")],
        to: str,
        descr: str,
        reference: Annotated[str | None, strawberry.argument(description=operations.REFERENCE)] = None,
    ) -> MoneyTransferResult:
        return await operations.money_transfer(
            uuid_=uuid,
            username=username,
            token=token,
            amount=amount,
            from_=from_,
            to=to,
            descr=descr,
            reference=reference,
        )
