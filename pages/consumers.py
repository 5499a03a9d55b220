"""The live feed: a websocket that pushes each new transaction as an htmx out-of-band fragment."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import QueryDict

from kernel.consumers import NoConnectionSweepPerMessage
from kernel.reads import read
from pages.feed import FeedOptions, render_entries, render_entry
from pages.privacy import may_listen
from transfers.notices import ALL_TRANSACTIONS, TransactionNotice, transactions_group
from transfers.selectors import newest_notices

FORBIDDEN = 4403  # a websocket's 403: reads are private and this visitor may not follow that feed


class TransactionFeedConsumer(NoConnectionSweepPerMessage, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        query = QueryDict(self.scope.get("query_string", b"").decode(), mutable=False)
        iban = query.get("iban")
        if not await may_listen(self.scope, iban):
            await self.close(code=FORBIDDEN)
            return
        self.options = FeedOptions.from_query(query)
        self.group = transactions_group(iban) if iban else ALL_TRANSACTIONS
        self.shown: set[int] = set()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if iban:
            await self._send_current_feed(iban)

    async def _send_current_feed(self, iban: str) -> None:
        """Listening first, then the feed as it stands now, in place of what the page was rendered with.

        A transaction stored after the page was rendered but before we joined the group would
        otherwise never show (a deposit's page is rendered as soon as its answer comes, and the
        projector may store its event a moment later). One stored after we joined comes as a
        notification; those the snapshot already has are skipped.
        """
        notices = await read(newest_notices, iban, self.options.size)  # the read pool, not the shared thread
        self.shown = {notice.id for notice in notices}
        html = render_entries(notices, self.options)
        await self.send(text_data=f'<div id="transactions" hx-swap-oob="innerHTML">{html}</div>')

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):  # refused, it never joined
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def transaction_created(self, event: dict) -> None:
        """Newest first: the entry goes to the top of #transactions."""
        notice = TransactionNotice.from_message(event["transaction"])
        if notice.id in self.shown:
            return
        html = render_entry(notice, self.options)
        await self.send(text_data=f'<div id="transactions" hx-swap-oob="afterbegin">{html}</div>')

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """The page sends nothing we need."""
