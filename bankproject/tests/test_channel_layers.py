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


def test_a_notice_to_a_group_nobody_listens_to_is_neither_sealed_nor_sent(redis_layer, monkeypatch):
    """Most of a transfer's notices (every transaction's to the feed of all, and to its account's) have nobody
    listening: each was sealed (about 25 us) and published for nothing."""
    import redis.asyncio
    from django.conf import settings

    sealed = []
    serialize = redis_layer.serialize
    monkeypatch.setattr(redis_layer, "serialize", lambda message: sealed.append(message) or serialize(message))
    sent = [("heard", {"type": "answer", "n": 1}), ("unheard", {"type": "notice", "n": 2}), ("heard", {"n": 3})]

    async def scenario():
        raw = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        spy = raw.pubsub()
        await spy.psubscribe("*heard*")  # a pattern: no listener of any group, yet it sees every publication
        try:
            async with listening("heard") as receive:
                await redis_layer.group_send_many(sent)
                heard = [await asyncio.wait_for(receive(), 5) for _ in range(2)]
            published, until = [], asyncio.get_running_loop().time() + 1  # None also stands for a skipped confirmation
            while asyncio.get_running_loop().time() < until:
                if seen := await spy.get_message(ignore_subscribe_messages=True, timeout=0.1):
                    published.append(seen["channel"])
        finally:
            await spy.aclose()
            await raw.aclose()
        return heard, published

    heard, published = asyncio.run(scenario())

    assert heard == [sent[0][1], sent[2][1]]
    assert sealed == heard and len(published) == 2 and not any(b"unheard" in channel for channel in published)
