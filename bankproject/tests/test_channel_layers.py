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


def test_what_crosses_redis_is_sealed_and_a_message_the_bank_did_not_seal_is_dropped(redis_layer):
    """A login's answer carries its token: Redis sees only ciphertext, and a message published by someone without
    the key (forged, or garbage) is dropped with a warning, while the next real one is heard."""
    import redis.asyncio
    from django.conf import settings

    answer = ("sealed", {"type": "answer", "iban": "NL07OPEN0689540112", "token": "a-token-nobody-may-see"})

    async def scenario():
        raw = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        spy = raw.pubsub()
        await spy.psubscribe("*sealed*")
        try:
            async with listening("sealed") as receive:
                notifier = Notifier()
                try:
                    await asyncio.to_thread(notifier.send, [answer])
                    heard = [await asyncio.wait_for(receive(), 5)]
                    seen = None
                    while seen is None:
                        seen = await spy.get_message(ignore_subscribe_messages=True, timeout=5)
                    await raw.publish(seen["channel"], b"not sealed by the bank")
                    await asyncio.to_thread(notifier.send, [answer])
                    heard.append(await asyncio.wait_for(receive(), 5))
                finally:
                    notifier.close()
        finally:
            await spy.aclose()
            await raw.aclose()
        return seen["data"], heard

    on_redis, heard = asyncio.run(scenario())

    assert b"a-token-nobody-may-see" not in on_redis and b"NL07OPEN" not in on_redis
    assert heard == [answer[1], answer[1]]
