"""Tell live subscribers (GraphQL subscriptions, pages) what the read side just stored, through the channel layer.

The channel layer is Redis, so every web process hears every message: a result reaches a
subscription on whichever process holds it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from channels.layers import get_channel_layer

from transfers.models import Transaction
from transfers.notices import TransactionNotice

logger = logging.getLogger(__name__)

ALL_TRANSACTIONS = "transactions.all"
TRANSACTION_CREATED = "transaction.created"
COMMAND_ANSWERS_GROUP = "command.answers"  # every web process listens here for answers to commands


def transactions_group(iban: str) -> str:
    return f"transactions.{''.join(c for c in iban if c.isalnum())[:80]}"


Notification = tuple[str, dict[str, Any]]  # (group, message)


def transactions_created(rows: list[Transaction]) -> list[Notification]:
    """Each new transaction goes to the all-transactions feed and to its account's group."""
    return [
        (group, {"type": TRANSACTION_CREATED, "transaction": TransactionNotice.of(row).as_message()})
        for row in rows
        for group in (ALL_TRANSACTIONS, transactions_group(row.iban))
    ]


class Notifier:
    """Sends notifications from synchronous code (the projector) on one long-lived event loop.

    `async_to_sync` per call would start a thread and an event loop every time, and channels_redis
    keeps its Redis connections per event loop: each call paid for new connections (a profile showed
    it as 44% of the projector's time). Here the loop, and so the connections, live as long as we do.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="notifier").start()

    def send(self, notifications: list[Notification], timeout: float = 30.0) -> None:
        """Send them in order and return when the channel layer has every one.

        Live notifications are best effort: the read model is already written, so when the channel
        layer fails we say so and go on (a caller waiting for an answer then times out and is told
        to try again), rather than stop the projector.
        """
        if not notifications:
            return
        try:
            asyncio.run_coroutine_threadsafe(_send_all(notifications), self._loop).result(timeout)
        except Exception:
            logger.exception("could not tell live listeners about %d notification(s)", len(notifications))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


async def _send_all(notifications: list[Notification]) -> None:
    """In order: a command's answer goes before its transactions."""
    layer = get_channel_layer()
    if hasattr(layer, "group_send_many"):  # the project's Redis layer: one round trip for them all
        await layer.group_send_many(notifications)
        return
    for group, message in notifications:
        await layer.group_send(group, message)
