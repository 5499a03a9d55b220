from __future__ import annotations

import strawberry
import strawberry_django

from accounts.rules import is_plain_text
from graphql_api.alerts import AlertQueries
from graphql_api.types import TransactionType
from transfers.selectors import get_transaction, list_last_transaction_per_iban, list_transactions_for_iban

MAX_ITEMS = 1000  # the original had no cap: max_items 10^9 would have read the whole table
MAX_IBAN = 34


@strawberry.type(name="QueryRoot", description="Root of all queries.")
class QueryRoot(AlertQueries):
    @strawberry_django.field(description="Select a transaction by its unique id, if it exists.")
    def transaction_by_id(self, id: int) -> TransactionType | None:
        return get_transaction(id)

    @strawberry_django.field(description="Get all the transactions of a iban.")
    def transactions_by_iban(self, iban: str, max_items: int) -> list[TransactionType | None] | None:
        if not is_plain_text(iban, MAX_IBAN):
            return []  # no account has such a number (and PostgreSQL refuses NUL)
        return list_transactions_for_iban(iban, min(max_items, MAX_ITEMS))

    @strawberry_django.field(description="Get last transaction of all active iban.")
    def all_last_transactions(self) -> list[TransactionType | None] | None:
        return list_last_transaction_per_iban()
