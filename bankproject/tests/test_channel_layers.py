"""The project's channel layer on the test stack's Redis: many group messages in one round trip, heard as sent."""

import asyncio

import pytest
from channels.layers import channel_layers

from kernel.live import Notifier, listening

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_layer():
    channel_layers.backends.clear()  # the configured layer, on the test stack's Redis
    yield channel_layers["default"]
    channel_layers.backends.clear()


def test_the_projectors_notifications_reach_each_groups_listeners_in_order(redis_layer):
    sent = [(f"batch.{n % 3}", {"type": "numbered", "n": n, "text": "€ \u202e 🙂"}) for n in range(30)]

    async def scenario():
        async with listening("batch.0", "batch.1") as receive:
            notifier = Notifier()
            try:
                await asyncio.to_thread(notifier.send, sent)
            finally:
                notifier.close()
            return [await asyncio.wait_for(receive(), 5) for _ in range(20)]

    heard = asyncio.run(scenario())

    assert hasattr(redis_layer, "group_send_many")
    assert heard == [message for group, message in sent if group in ("batch.0", "batch.1")]
