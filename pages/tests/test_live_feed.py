"""The live feed's websocket on its own: what a page that was rendered a moment ago gets when it connects."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connections

from kernel.balances import BalanceChange
from pages.consumers import TransactionFeedConsumer
from transfers.notices import TRANSACTION_CREATED, TransactionNotice, transactions_group
from transfers.projections import BalanceChangedEvent, record_balance_changes

pytestmark = pytest.mark.django_db(transaction=True)

IBAN = "NL12OPEN0000000001"


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def deposit(offset: int, cents: int):
    (row,) = record_balance_changes(
        [BalanceChangedEvent(BalanceChange("", IBAN, cents, cents, "cash", "deposit"), 0, offset)]
    )
    return row


def test_a_transaction_stored_before_the_socket_opened_is_in_the_first_message_and_not_sent_twice():
    stored_after_the_page_rendered = deposit(1, 2000)

    async def scenario():
        feed = WebsocketCommunicator(TransactionFeedConsumer.as_asgi(), f"/ws/transactions/?iban={IBAN}")
        assert (await feed.connect())[0]
        snapshot = await feed.receive_from(5)
        layer = channel_layers["default"]
        event = {
            "type": TRANSACTION_CREATED,
            "transaction": TransactionNotice.of(stored_after_the_page_rendered).as_message(),
        }
        await layer.group_send(transactions_group(IBAN), event)  # the projector's late notification
        repeated = await feed.receive_nothing(0.5)
        await feed.disconnect()
        await database_sync_to_async(connections.close_all)()  # the consumer's thread's own connection
        return snapshot, repeated

    snapshot, nothing_more = asyncio.run(scenario())

    assert 'hx-swap-oob="innerHTML"' in snapshot
    assert f'data-id="{stored_after_the_page_rendered.pk}"' in snapshot and "€20,00" in snapshot
    assert nothing_more


def test_a_transaction_stored_later_is_pushed_on_top():
    async def scenario():
        feed = WebsocketCommunicator(TransactionFeedConsumer.as_asgi(), f"/ws/transactions/?iban={IBAN}")
        await feed.connect()
        assert "No transactions yet" in await feed.receive_from(5)
        row = await database_sync_to_async(deposit)(2, 500)
        event = {"type": TRANSACTION_CREATED, "transaction": TransactionNotice.of(row).as_message()}
        await channel_layers["default"].group_send(transactions_group(IBAN), event)
        pushed = await feed.receive_from(5)
        await feed.disconnect()
        await database_sync_to_async(connections.close_all)()
        return row, pushed

    row, pushed = asyncio.run(scenario())

    assert 'hx-swap-oob="afterbegin"' in pushed and f'data-id="{row.pk}"' in pushed
