"""The client page's live alerts: a websocket (session-authenticated) that pushes each new alert of the account."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from alerts.notices import AlertNotice, alerts_group
from kernel.consumers import NoConnectionSweepPerMessage
from pages.session import SESSION_KEY


class AlertFeedConsumer(NoConnectionSweepPerMessage, AsyncWebsocketConsumer):
    async def connect(self) -> None:
        session = self.scope.get("session")
        me = await session.aget(SESSION_KEY) if session is not None else None
        if not me:
            await self.close()  # only the logged-in owner hears an account's alerts
            return
        self.group = alerts_group(me["iban"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def alert_fired(self, event: dict) -> None:
        """On top of the list, and a toast that fades."""
        alert = AlertNotice.from_message(event["alert"])
        item = render_to_string("pages/_alert.html", {"alert": alert})
        toast = render_to_string("pages/_toast.html", {"alert": alert})
        await self.send(
            text_data=f'<ul id="alerts-list" hx-swap-oob="afterbegin">{item}</ul>'
            f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>'
        )

    async def receive(self, text_data=None, bytes_data=None) -> None:
        """The page sends nothing we need."""
