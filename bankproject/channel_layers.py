"""The channel layer: channels_redis's pub/sub layer, its messages sealed (settings: encrypted and signed with a
key from the secret key, so that Redis never holds a login's token in clear and nobody without the key can forge an
answer), plus a group send of many messages in one round trip."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer
from cryptography.fernet import InvalidToken

logger = logging.getLogger(__name__)


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """The projector tells a batch's answers and transactions as dozens of messages; one PUBLISH and one wait
    for Redis per message cost it a quarter of its CPU. This sends them as one pipeline per Redis shard.

    It uses the library's own channel names and connection (names private to channels_redis 4.3; a test
    hears the messages through the library's receiving side, so a change there fails it).
    """

    async def receive(self, channel: str) -> dict[str, Any]:
        """The next message on `channel` that this bank sealed; one that it did not (forged, or garbage) is dropped
        with a warning instead of ending whoever listens (the web's answers, a page's feed)."""
        while True:
            try:
                return await self._get_layer().receive(channel)
            except (InvalidToken, ValueError) as error:  # msgpack's errors are ValueErrors
                logger.warning("dropped a message on %s that the bank did not seal (%s)", channel, type(error).__name__)

    async def group_send_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Send each (group, message) in order, as `group_send` would, in one round trip per shard."""
        layer = self._get_layer()
        by_shard = defaultdict(list)
        for group, message in messages:
            channel = layer._get_group_channel_name(group)
            by_shard[layer._get_shard(channel)].append((channel, self.serialize(message)))
        for shard, published in by_shard.items():
            async with shard._lock:
                shard._ensure_redis()
                async with shard._redis.pipeline(transaction=False) as pipeline:
                    for channel, data in published:
                        pipeline.publish(channel, data)
                    await pipeline.execute()
