"""The live feed: a websocket that pushes each new transaction as an htmx out-of-band fragment."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import QueryDict

from pages.feed import FeedOptions, render_entry
from transfers.notifications import ALL_TRANSACTIONS, transactions_group


class TransactionFeedConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        query = QueryDict(self.scope.get("query_string", b"").decode(), mutable=False)
        iban = query.get("iban")
        self.options = FeedOptions.from_query(query)
        self.group = transactions_group(iban) if iban else ALL_TRANSACTIONS
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def transaction_created(self, event: dict) -> None:
        """Newest first: the entry goes to the top of #transactions."""
        html = render_entry(event["transaction"], self.options)
        await self.send(text_data=f'<div id="transactions" hx-swap-oob="afterbegin">{html}</div>')

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """The page sends nothing we need."""
