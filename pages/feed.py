"""The transaction feed shown on every page: how many, which fields, and how an entry looks."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import QueryDict
from django.template.loader import render_to_string

from banking.money import format_euro
from transfers.notifications import transaction_payload
from transfers.selectors import list_transactions_for_iban

SIZES = (5, 10, 25, 50, 100, 250)
FIELDS = {
    "direction": "debit/credit",
    "amount": "amount",
    "counterparty": "other account",
    "description": "description",
    "new_balance": "new balance",
    "iban": "own account",
}
DEFAULT_FIELDS = ("direction", "amount", "counterparty", "description", "new_balance")


@dataclass(frozen=True)
class FeedOptions:
    size: int = 10
    fields: tuple[str, ...] = DEFAULT_FIELDS

    @classmethod
    def from_query(cls, query: QueryDict) -> FeedOptions:
        try:
            size = int(query.get("n", 10))
        except ValueError:
            size = 10
        fields = tuple(f for f in query.getlist("show") if f in FIELDS) or DEFAULT_FIELDS
        return cls(size if size in SIZES else 10, fields)

    def query_string(self) -> str:
        return urlencode([("n", self.size), *(("show", f) for f in self.fields)])


def newest_transactions(iban: str, size: int) -> list[dict]:
    """The account's newest transactions as the feed shows them, newest first: for the page and its websocket."""
    return [transaction_payload(row) for row in list_transactions_for_iban(iban, size)]


def entry(payload: dict) -> dict:
    """An entry of the feed, from transfers.notifications.transaction_payload."""
    return {**payload, "debit": payload["direction"] == "DEBIT"}


def render_entry(payload: dict, options: FeedOptions) -> str:
    return render_to_string("pages/_transaction.html", {"t": entry(payload), "options": options})


def render_entries(payloads: list[dict], options: FeedOptions) -> str:
    return render_to_string("pages/_feed_entries.html", {"feed": [entry(p) for p in payloads], "options": options})


def balance_text(cents: int | None) -> str:
    return format_euro(cents or 0)
