from __future__ import annotations

import strawberry
from asgiref.sync import sync_to_async

from accounts.rules import is_plain_text
from graphql_api.types import TransactionType
from transfers.notifications import transaction_payload
from transfers.selectors import get_transaction, list_last_transaction_per_iban, list_transactions_for_iban

MAX_ITEMS = 1000  # the original had no cap: max_items 10^9 would have read the whole table
MAX_IBAN = 34


def _types(rows) -> list[TransactionType]:
    return [TransactionType.from_payload(transaction_payload(row)) for row in rows]


@strawberry.type(name="QueryRoot", description="Root of all queries.")
class QueryRoot:
    @strawberry.field(description="Select a transaction by its unique id, if it exists.")
    async def transaction_by_id(self, id: int) -> TransactionType | None:
        row = await sync_to_async(get_transaction)(id)
        return None if row is None else TransactionType.from_payload(transaction_payload(row))

    @strawberry.field(description="Get all the transactions of a iban.")
    async def transactions_by_iban(self, iban: str, max_items: int) -> list[TransactionType | None] | None:
        if not is_plain_text(iban, MAX_IBAN):
            return []  # no account has such a number (and PostgreSQL refuses some of it, NUL for one)
        rows = await sync_to_async(lambda: list(list_transactions_for_iban(iban, min(max_items, MAX_ITEMS))))()
        return _types(rows)

    @strawberry.field(description="Get last transaction of all active iban.")
    async def all_last_transactions(self) -> list[TransactionType | None] | None:
        return _types(await sync_to_async(lambda: list(list_last_transaction_per_iban()))())
