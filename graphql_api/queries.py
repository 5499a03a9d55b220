from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
import strawberry_django
from strawberry.types import Info

from graphql_api.alerts import AlertQueries
from graphql_api.limits import MAX_ITEMS, capped
from graphql_api.privacy import Token, refuse_unless_readable, refuse_unless_staff
from graphql_api.types import BalanceStep, TransactionType
from kernel.money import format_euro
from kernel.reads import read
from transfers.selectors import (
    balance_at,
    balance_steps,
    get_transaction,
    list_last_transaction_per_iban,
    list_transactions_for_iban,
)

AT = "an ISO 8601 date and time; without an offset, UTC"


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@strawberry.type(name="QueryRoot", description="Root of all queries.")
class QueryRoot(AlertQueries):
    @strawberry_django.field(description="Select a transaction by its unique id, if it exists.")
    async def transaction_by_id(self, info: Info, id: int, token: Token = None) -> TransactionType | None:
        row = await read(get_transaction, id)
        if row is not None:
            await refuse_unless_readable(info, row.iban, token)
        return row  # type: ignore[return-value]  # a row, resolved as its type

    @strawberry_django.field(description="Get all the transactions of a iban.")
    async def transactions_by_iban(
        self,
        info: Info,
        iban: str,
        max_items: int,
        before_id: Annotated[
            int | None, strawberry.argument(description="only transactions older than this one: the next page")
        ] = None,
        reference: Annotated[
            str | None, strawberry.argument(description="only transactions whose payment reference contains this")
        ] = None,
        until: Annotated[
            datetime | None, strawberry.argument(description=f"only transactions made at or before it ({AT})")
        ] = None,
        since: Annotated[
            datetime | None, strawberry.argument(description=f"only transactions made after it ({AT})")
        ] = None,
        token: Token = None,
    ) -> list[TransactionType | None] | None:
        await refuse_unless_readable(info, iban, token)
        rows = await read(
            lambda: list(
                list_transactions_for_iban(
                    iban, capped(max_items), before_id, reference, until=_utc(until), since=_utc(since)
                )
            )
        )
        return rows  # type: ignore[return-value]  # rows, resolved as their type

    @strawberry_django.field(
        description="The balance of an iban after every change made at or before `at`, formatted like new_balance; "
        "null before its first change."
    )
    async def balance_at(
        self, info: Info, iban: str, at: Annotated[datetime, strawberry.argument(description=AT)], token: Token = None
    ) -> str | None:
        await refuse_unless_readable(info, iban, token)
        cents = await read(balance_at, iban, _utc(at))  # type: ignore[arg-type]  # `at` is never None here
        return None if cents is None else format_euro(cents)

    @strawberry_django.field(
        description="The changes that make up the balance of an iban at `at` (now if left out), oldest first: "
        "their amounts sum to it. At most `max_items`, the newest: before the first of them, the balance was "
        "that step's balance less its amount."
    )
    async def explain_balance(
        self,
        info: Info,
        iban: str,
        at: Annotated[datetime | None, strawberry.argument(description=AT)] = None,
        max_items: Annotated[int, strawberry.argument(description=f"at most {MAX_ITEMS}")] = MAX_ITEMS,
        token: Token = None,
    ) -> list[BalanceStep]:
        await refuse_unless_readable(info, iban, token)
        rows = await read(balance_steps, iban, _utc(at), capped(max_items))
        return [BalanceStep.of(row) for row in rows]

    @strawberry_django.field(description="Get last transaction of all active iban.")
    async def all_last_transactions(
        self,
        info: Info,
        max_items: Annotated[int, strawberry.argument(description=f"at most {MAX_ITEMS}, by IBAN")] = MAX_ITEMS,
        after_iban: Annotated[
            str | None, strawberry.argument(description="only accounts after this IBAN: the next page")
        ] = None,
    ) -> list[TransactionType | None] | None:
        await refuse_unless_staff(info)
        rows = await read(lambda: list(list_last_transaction_per_iban(after_iban or "")[: capped(max_items)]))
        return rows  # type: ignore[return-value]  # rows, resolved as their type
