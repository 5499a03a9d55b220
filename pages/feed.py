"""The transaction feed shown on every page: how many, which fields, and how an entry looks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import QueryDict
from django.template.loader import render_to_string

from transfers.notices import TransactionNotice

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
    as_of: datetime | None = None  # the feed and the balance as they were then (UTC); live when None

    @classmethod
    def from_query(cls, query: QueryDict) -> FeedOptions:
        try:
            size = int(query.get("n", 10))
        except ValueError:
            size = 10
        fields = tuple(f for f in query.getlist("show") if f in FIELDS) or DEFAULT_FIELDS
        return cls(size if size in SIZES else 10, fields, moment(query.get("as_of", "")))

    def query_string(self) -> str:
        """The live feed's options (the moment left out)."""
        return urlencode([("n", self.size), *(("show", f) for f in self.fields)])

    @property
    def as_of_input(self) -> str:
        """The moment as a datetime-local input shows it."""
        return self.as_of.strftime("%Y-%m-%dT%H:%M:%S") if self.as_of else ""


def moment(text: str) -> datetime | None:
    """A moment in UTC from a datetime-local input (UTC) or ISO 8601 (UTC unless it says otherwise); None for
    anything else, and for a moment UTC cannot hold (year 1 at +05:00 is year 0 there)."""
    try:
        parsed = datetime.fromisoformat(text.strip()[:40])
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def render_entry(notice: TransactionNotice, options: FeedOptions) -> str:
    return render_to_string("pages/_transaction.html", {"t": notice, "options": options})


def render_entries(notices: list[TransactionNotice], options: FeedOptions) -> str:
    return render_to_string("pages/_feed_entries.html", {"feed": notices, "options": options})
