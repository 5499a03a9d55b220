from __future__ import annotations

from typing import Annotated

import strawberry
import strawberry_django

from graphql_api.alerts import AlertQueries
from graphql_api.limits import MAX_ITEMS, capped
from graphql_api.types import TransactionType
from kernel.reads import read
from transfers.selectors import get_transaction, list_last_transaction_per_iban, list_transactions_for_iban


@strawberry.type(name="QueryRoot", description="Root of all queries.")
class QueryRoot(AlertQueries):
    @strawberry_django.field(description="Select a transaction by its unique id, if it exists.")
    async def transaction_by_id(self, id: int) -> TransactionType | None:
        return await read(get_transaction, id)  # type: ignore[arg-type]  # a row, resolved as its type

    @strawberry_django.field(description="Get all the transactions of a iban.")
    async def transactions_by_iban(
        self,
        iban: str,
        max_items: int,
        before_id: Annotated[
            int | None, strawberry.argument(description="only transactions older than this one: the next page")
        ] = None,
        reference: Annotated[
            str | None, strawberry.argument(description="only transactions whose payment reference contains this")
        ] = None,
    ) -> list[TransactionType | None] | None:
        rows = await read(lambda: list(list_transactions_for_iban(iban, capped(max_items), before_id, reference)))
        return rows  # type: ignore[return-value]  # rows, resolved as their type

    @strawberry_django.field(description="Get last transaction of all active iban.")
    async def all_last_transactions(
        self,
        max_items: Annotated[int, strawberry.argument(description=f"at most {MAX_ITEMS}, by IBAN")] = MAX_ITEMS,
        after_iban: Annotated[
            str | None, strawberry.argument(description="only accounts after this IBAN: the next page")
        ] = None,
    ) -> list[TransactionType | None] | None:
        rows = await read(lambda: list(list_last_transaction_per_iban(after_iban or "")[: capped(max_items)]))
        return rows  # type: ignore[return-value]  # rows, resolved as their type
