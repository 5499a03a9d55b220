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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listened_to: set[str] = set()  # group channels that had listeners when last asked

    async def group_send_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Send each (group, message) in order, as `group_send` would, to the groups someone listens to. Per Redis
        shard, one round trip publishes the messages up to the first one to a group not known to be listened to,
        and asks which of the groups have listeners now (PUBSUB NUMSUB); a second publishes the rest that someone
        hears, if any. A message to a group nobody listens to is neither sealed nor sent (most of a transfer's
        notices: the feed of all, its accounts' feeds), which is what publishing it would have done for it.
        Listeners subscribe before they look (an answer's before its command is sent, a feed's before it reads the
        read model), so none misses what it would have heard."""
        layer = self._get_layer()
        by_shard = defaultdict(list)
        for group, message in messages:
            channel = layer._get_group_channel_name(group)
            by_shard[layer._get_shard(channel)].append((channel, message))
        for shard, published in by_shard.items():
            channels = list(dict.fromkeys(channel for channel, _ in published))
            first_unknown = next(
                (n for n, (channel, _) in enumerate(published) if channel not in self._listened_to), len(published)
            )
            known, rest = published[:first_unknown], published[first_unknown:]
            async with shard._lock:
                shard._ensure_redis()
                async with shard._redis.pipeline(transaction=False) as pipeline:
                    for channel, message in known:
                        pipeline.publish(channel, self.serialize(message))
                    pipeline.pubsub_numsub(*channels)
                    *_, listened = await pipeline.execute()
                heard = {_text(channel) for channel, listeners in listened if listeners}
                self._listened_to.difference_update(channels)
                self._listened_to.update(heard)
                rest = [(channel, message) for channel, message in rest if channel in heard]
                if rest:
                    async with shard._redis.pipeline(transaction=False) as pipeline:
                        for channel, message in rest:
                            pipeline.publish(channel, self.serialize(message))
                        await pipeline.execute()


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name
